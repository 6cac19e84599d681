#include "historystore.h"

// How it works
// ------------
// One SQLite file (QtSql's QSQLITE driver), one connection per HistoryStore.
// The schema is versioned with PRAGMA user_version and migrated forward on open,
// one transaction per version, so a crash mid-migration leaves the previous
// version intact:
//
// Version 1: table `sessions`, one row per send, probe or diagnosis. Summary
//   columns (kind, started as ISO 8601 UTC text with milliseconds so text order
//   is time order, duration_us, source, profile, target, security_mode, user,
//   outcome, error, subject, mail_from, message_bytes) and the heavy ones as
//   JSON text (recipients, result, usage, transcript, events) or BLOBs
//   (certificate_chain as PEM, message as the .eml). Indexes on started, target
//   and outcome: the history list sorts by the first and filters by the others.
// Version 2: the full-text index `sessions_fts` (FTS5) over the transcript's
//   lines, subject, error and target, kept in step with `sessions` by triggers,
//   so every writer (this build, a migration, a prune) keeps it right inside its
//   own transaction; tables `drafts` and `outbox`.
//
// Version 3: the file is marked with PRAGMA application_id = ApplicationId
//   ("SmSc"). Every migration step writes it in its own transaction, so a file
//   this build creates carries it from its first commit.
//
// Whose file it is: a writer would otherwise add its tables to any SQLite file
// it is pointed at. Before SQLite opens a file, its 100-byte header is read
// (https://www.sqlite.org/fileformat2.html, "The Database Header"): not SQLite,
// another application_id, or application_id 0 with a schema but user_version 0
// (or a user_version no SmtpScope build wrote) is refused, and the file is left
// byte for byte as it was, with no journal, -wal or -shm made beside it. Files of
// versions 1 and 2 predate the mark: they are taken when every table in them is
// one of ours (checked through SQLite once open, before any write; the migration
// checks again inside its transaction). The header of a WAL file whose -wal
// holds commits may be stale: it is then left to the SQL checks.
//
// Readers (openReadOnly) open with SQLITE_OPEN_READONLY and PRAGMA query_only,
// and never migrate: an older version is read as it is, a newer one refused.
// SQLite reads a WAL file through its -shm and -wal files and makes them when
// missing (https://www.sqlite.org/wal.html, "Read-Only Databases"), with the
// database file's mode; when the folder is not writable they cannot be made, and
// no writer can be using the file either: it is then read as immutable.
//
// Private files: the database holds envelopes, subjects and transcripts. It is
// created 0600 before SQLite opens it (SQLite makes the -wal and -shm with the
// database file's mode), missing folders 0700 (as the XDG Base Directory spec
// asks), and a writer tightens an existing file, its -wal and -shm, and the data
// folder, when their modes are looser.
//
// Without FTS5 in the SQLite library (it is optional at SQLite's build time),
// version 2 is made without the index and its triggers and text search falls
// back to LIKE over the same columns (slower, ASCII-only case folding). The
// triggers' presence is the mark that the index is complete: a build with FTS5
// that opens a file whose triggers are missing rebuilds the index; a build
// without FTS5 drops the triggers (it could not run them) before writing.
//
// Durability: WAL journal, synchronous=NORMAL (a power cut may lose the last
// commits, never consistency; a killed process loses nothing committed), every
// write one BEGIN IMMEDIATE transaction (takes the write lock up front, so two
// writers wait on the busy timeout instead of failing on a lock upgrade).

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QUrl>
#include <QVariant>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace Store {

namespace {

constexpr int BusyTimeoutMs = 5000;
// The WAL is reused, not shrunk, after a checkpoint: cap what stays on disk.
constexpr qint64 JournalSizeLimit = 8 * 1024 * 1024;

QString isoUtc(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

QDateTime fromIsoUtc(const QVariant &v)
{
    if (v.isNull())
        return {};
    QDateTime t = QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
    return t.isValid() ? t.toUTC() : t;
}

QString jsonText(const QJsonDocument &doc)
{
    return QString::fromUtf8(doc.toJson(QJsonDocument::Compact));
}

QString mapJson(const QVariantMap &map)
{
    return jsonText(QJsonDocument(QJsonObject::fromVariantMap(map)));
}

QString listJson(const QVariantList &list)
{
    return jsonText(QJsonDocument(QJsonArray::fromVariantList(list)));
}

QString stringListJson(const QStringList &list)
{
    return jsonText(QJsonDocument(QJsonArray::fromStringList(list)));
}

QVariantMap jsonMap(const QVariant &v)
{
    return QJsonDocument::fromJson(v.toString().toUtf8()).object().toVariantMap();
}

QJsonArray jsonArray(const QVariant &v)
{
    return QJsonDocument::fromJson(v.toString().toUtf8()).array();
}

QStringList jsonStringList(const QVariant &v)
{
    QStringList out;
    for (const QJsonValue &item : jsonArray(v))
        out.append(item.toString());
    return out;
}

QString transcriptJson(const QList<TranscriptEntry> &entries)
{
    return listJson(TranscriptEntry::toVariantList(entries));
}

QList<TranscriptEntry> transcriptFromJson(const QVariant &v)
{
    using D = TranscriptEntry::Direction;
    QList<TranscriptEntry> out;
    const QJsonArray array = jsonArray(v);
    out.reserve(array.size());
    for (const QJsonValue &item : array) {
        const QJsonObject o = item.toObject();
        TranscriptEntry e;
        e.timeUs = o.value(QLatin1String("time_us")).toInteger();
        const QString dir = o.value(QLatin1String("dir")).toString();
        for (D d : {D::Client, D::Server, D::Info, D::Error}) {
            if (TranscriptEntry::directionName(d) == dir)
                e.direction = d;
        }
        e.encrypted = o.value(QLatin1String("tls")).toBool();
        e.text = o.value(QLatin1String("text")).toString();
        out.append(e);
    }
    return out;
}

// Keeps the beginning (connection, TLS, EHLO) and the end (how it finished) of
// an overlong event list: the middle of a large DATA is the least telling.
QList<QVariantMap> cappedEvents(const QList<QVariantMap> &events)
{
    if (events.size() <= HistoryStore::maxEvents)
        return events;
    constexpr qsizetype head = HistoryStore::maxEvents / 2;
    constexpr qsizetype tail = HistoryStore::maxEvents - head;
    QList<QVariantMap> out = events.mid(0, head);
    out.append(events.mid(events.size() - tail));
    return out;
}

QString eventsJson(const QList<QVariantMap> &events)
{
    QJsonArray array;
    for (const QVariantMap &e : events)
        array.append(QJsonObject::fromVariantMap(e));
    return jsonText(QJsonDocument(array));
}

QList<QVariantMap> eventsFromJson(const QVariant &v)
{
    QList<QVariantMap> out;
    for (const QJsonValue &item : jsonArray(v))
        out.append(item.toObject().toVariantMap());
    return out;
}

// Empty text and empty byte arrays are stored as NULL.
QVariant textOrNull(const QString &s)
{
    return s.isEmpty() ? QVariant() : QVariant(s);
}

QVariant blobOrNull(const QByteArray &b)
{
    return b.isEmpty() ? QVariant() : QVariant(b);
}

QString likePattern(const QString &text)
{
    QString escaped = text;
    escaped.replace(u'\\', QStringLiteral("\\\\"));
    escaped.replace(u'%', QStringLiteral("\\%"));
    escaped.replace(u'_', QStringLiteral("\\_"));
    return u'%' + escaped + u'%';
}

// The user's words as an FTS5 query that cannot be anything else: each word a
// quoted string (an inner quote doubled, FTS5 "strings" syntax), so operators
// (AND, OR, NOT, NEAR), column filters (col:), '^', '*', '-' and parentheses
// typed by the user are plain text; a trailing '*' outside the quotes makes
// each word a prefix ("STARTT" finds STARTTLS). Words are ANDed. Words without
// a letter or digit would be empty phrases for the tokenizer: they are left
// out here and searched with LIKE instead.
QStringList searchWords(const QString &text)
{
    return text.split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts);
}

bool hasTokenChar(const QString &word)
{
    return std::any_of(word.cbegin(), word.cend(), [](QChar c) { return c.isLetterOrNumber(); });
}

QString ftsQuery(const QStringList &words)
{
    QStringList parts;
    for (QString w : words) {
        if (!hasTokenChar(w))
            continue;
        w.replace(u'"', QStringLiteral("\"\""));
        parts.append(u'"' + w + QStringLiteral("\"*"));
    }
    return parts.join(u' ');
}

const char *const kTranscriptTextSql =
    "(SELECT group_concat(json_extract(j.value, '$.text'), char(10)) FROM json_each("
    "CASE WHEN json_valid(%1.transcript) THEN %1.transcript ELSE '[]' END) AS j)";

QString transcriptTextSql(const char *row)
{
    return QString::fromLatin1(kTranscriptTextSql).arg(QLatin1String(row));
}

const char *const kSummaryColumns = "id, kind, started, duration_us, target, outcome, subject, error, profile";
const char *const kRecordColumns =
    "id, kind, started, duration_us, source, profile, target, security_mode, user, outcome, error, subject, "
    "mail_from, recipients, result, usage, transcript, events, certificate_chain, message, message_bytes";

std::atomic<quint64> s_connectionCounter{0};

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

// ---- whose file it is

// Every table any version of the schema makes (FTS5 adds the _data, _idx,
// _content, _docsize and _config shadow tables; AUTOINCREMENT adds
// sqlite_sequence).
bool isOurTable(const QString &name)
{
    static const QStringList ours{
        QStringLiteral("sessions"),          QStringLiteral("drafts"),
        QStringLiteral("outbox"),            QStringLiteral("sessions_fts"),
        QStringLiteral("sessions_fts_data"), QStringLiteral("sessions_fts_idx"),
        QStringLiteral("sessions_fts_content"), QStringLiteral("sessions_fts_docsize"),
        QStringLiteral("sessions_fts_config"),
    };
    return name.startsWith(QLatin1String("sqlite_")) || ours.contains(name);
}

// The marks of a file that decide whether it may be a SmtpScope history.
struct Marks
{
    qint32 applicationId = 0;
    int userVersion = 0;
    bool hasSchema = false;                 // any table, index, view or trigger
    std::optional<QStringList> tables;      // known once SQLite has the file open
};

// Empty when a file with these marks may be ours; else why it is not (to follow
// "is not a SmtpScope history: ").
QString notOurs(const Marks &m)
{
    if (m.applicationId == HistoryStore::ApplicationId)
        return {};
    if (m.applicationId != 0)
        return QStringLiteral("it belongs to another application (PRAGMA application_id 0x%1)")
            .arg(quint32(m.applicationId), 8, 16, QLatin1Char('0'));
    // Without the mark: only the versions written before it existed.
    if (m.userVersion > 2 || m.userVersion < 0)
        return QStringLiteral("its schema version (PRAGMA user_version %1) is none that SMTP Scope wrote")
            .arg(m.userVersion);
    if (m.tables) {
        QStringList other;
        for (const QString &t : *m.tables) {
            if (!isOurTable(t))
                other.append(t);
        }
        if (!other.isEmpty())
            return QStringLiteral("it holds tables of another application (%1)").arg(other.join(QStringLiteral(", ")));
        if (m.userVersion > 0 && !m.tables->contains(QStringLiteral("sessions")))
            return QStringLiteral("it has no sessions table");
        if (m.userVersion == 0 && m.hasSchema)
            return QStringLiteral("it holds a schema without a SmtpScope version");
    } else if (m.userVersion == 0 && m.hasSchema) {
        return QStringLiteral("it holds tables of another application (and no SmtpScope version)");
    }
    return {};
}

// What the first bytes of the file say, read without SQLite. Opened
// O_NONBLOCK and typed from the descriptor: a FIFO or a device given as the
// file is refused before a byte is read, never waited on.
struct FileHeader
{
    enum class State { Missing, Empty, Sqlite, NotSqlite, NotRegular, Unreadable };
    State state = State::Missing;
    QString why;   // NotRegular, Unreadable
    bool wal = false;
    Marks marks;
};

quint32 bigEndian32(const unsigned char *p)
{
    return (quint32(p[0]) << 24) | (quint32(p[1]) << 16) | (quint32(p[2]) << 8) | quint32(p[3]);
}

FileHeader readHeader(const QString &path)
{
    FileHeader h;
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        h.state = errno == ENOENT ? FileHeader::State::Missing : FileHeader::State::Unreadable;
        h.why = errnoText(errno);
        return h;
    }
    struct stat st{};
    unsigned char bytes[100];
    ssize_t n = -1;
    if (::fstat(fd, &st) != 0) {
        h.state = FileHeader::State::Unreadable;
        h.why = errnoText(errno);
    } else if (!S_ISREG(st.st_mode)) {
        h.state = FileHeader::State::NotRegular;
    } else {
        do
            n = ::pread(fd, bytes, sizeof bytes, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            h.state = FileHeader::State::Unreadable;
            h.why = errnoText(errno);
        }
    }
    ::close(fd);
    if (n < 0)
        return h;
    if (n == 0) {
        h.state = FileHeader::State::Empty;
        return h;
    }
    // Offsets of the database header: 0 the magic string, 18 the file format
    // write version (2: WAL), 40 the schema cookie (0 until the first CREATE),
    // 60 user_version, 68 application_id; all big-endian.
    static const char magic[] = "SQLite format 3";
    if (n < qsizetype(sizeof bytes) || std::memcmp(bytes, magic, sizeof magic) != 0) {
        h.state = FileHeader::State::NotSqlite;
        return h;
    }
    h.state = FileHeader::State::Sqlite;
    h.wal = bytes[18] == 2;
    h.marks.hasSchema = bigEndian32(bytes + 40) != 0;
    h.marks.userVersion = int(qint32(bigEndian32(bytes + 60)));
    h.marks.applicationId = qint32(bigEndian32(bytes + 68));
    return h;
}

// ---- private files

bool isFolder(const QByteArray &path)
{
    struct stat st{};
    return ::stat(path.constData(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Creates each missing folder of `dir` 0700. Existing ones are left alone: a
// --history file may live in any folder of the user's.
bool makePrivateFolders(const QString &dir, QString *failed)
{
    const QString absolute = QDir::cleanPath(QDir(dir).absolutePath());
    QString at;
    for (const QString &part : absolute.split(u'/', Qt::SkipEmptyParts)) {
        at += u'/' + part;
        const QByteArray name = QFile::encodeName(at);
        if (::mkdir(name.constData(), S_IRWXU) == 0 || (errno == EEXIST && isFolder(name)))
            continue;
        *failed = at;
        return false;
    }
    return true;
}

// Clears the group and other bits of an existing file or folder (0644 becomes
// 0600, 0755 0700). Best effort: a file of another user's stays as it is.
void tighten(const QString &path)
{
    const QByteArray name = QFile::encodeName(path);
    struct stat st{};
    if (::stat(name.constData(), &st) != 0 || (st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
        return;
    ::chmod(name.constData(), st.st_mode & S_IRWXU);
}

// Creates the database file 0600 when it is missing, so that SQLite, which
// creates with 0644 and gives the -wal and -shm the database file's mode,
// never makes a readable one.
bool createPrivateFile(const QString &path, QString *why)
{
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
                          S_IRUSR | S_IWUSR);
    if (fd >= 0) {
        ::close(fd);
        return true;
    }
    if (errno == EEXIST) // made meanwhile by another writer
        return true;
    *why = errnoText(errno);
    return false;
}

} // namespace

struct HistoryStore::Private
{
    QString connectionName;
    QString path;
    QSqlDatabase db;
    int version = 0;
    bool fts = false;
    bool readOnly = false;

    [[nodiscard]] QString fail(const QString &what, const QSqlError &e) const
    {
        const QString cause = e.text().trimmed();
        return QStringLiteral("history database %1: %2%3").arg(QDir::toNativeSeparators(path), what,
                                                               cause.isEmpty() ? QString() : QStringLiteral(": ") + cause);
    }

    bool exec(const QString &sql, QString *error)
    {
        QSqlQuery q(db);
        if (q.exec(sql))
            return true;
        if (error)
            *error = fail(sql.section(u' ', 0, 2), q.lastError());
        return false;
    }

    // A single value of a one-row query (PRAGMA reads), or an invalid QVariant.
    QVariant scalar(const QString &sql, QString *error) const
    {
        QSqlQuery q(db);
        if (!q.exec(sql) || !q.next()) {
            if (error)
                *error = fail(sql, q.lastError());
            return {};
        }
        return q.value(0);
    }

    bool hasObject(const QString &type, const QString &name) const
    {
        QSqlQuery q(db);
        q.prepare(QStringLiteral("SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?"));
        q.addBindValue(type);
        q.addBindValue(name);
        return q.exec() && q.next();
    }

    void close()
    {
        if (connectionName.isEmpty())
            return;
        db.close();
        db = QSqlDatabase();
        // After the last QSqlDatabase copy is gone, or Qt warns that the
        // connection is still in use.
        QSqlDatabase::removeDatabase(connectionName);
        connectionName.clear();
        version = 0;
        fts = false;
        readOnly = false;
    }

    bool probeFts()
    {
        // A temporary table: nothing is written to the file.
        QSqlQuery q(db);
        if (!q.exec(QStringLiteral("CREATE VIRTUAL TABLE temp.smtpscope_fts_probe USING fts5(x)")))
            return false;
        q.exec(QStringLiteral("DROP TABLE temp.smtpscope_fts_probe"));
        return true;
    }

    // The application id, version and tables, as SQLite sees them.
    std::optional<Marks> readMarks(QString *error) const
    {
        Marks m;
        const QVariant id = scalar(QStringLiteral("PRAGMA application_id"), error);
        const QVariant v = scalar(QStringLiteral("PRAGMA user_version"), error);
        if (!id.isValid() || !v.isValid())
            return std::nullopt;
        m.applicationId = id.toInt();
        m.userVersion = v.toInt();
        QSqlQuery q(db);
        if (!q.exec(QStringLiteral("SELECT type, name FROM sqlite_master"))) {
            if (error)
                *error = fail(QStringLiteral("cannot read the schema"), q.lastError());
            return std::nullopt;
        }
        QStringList tables;
        while (q.next()) {
            m.hasSchema = true;
            if (q.value(0).toString() == u"table")
                tables.append(q.value(1).toString());
        }
        m.tables = tables;
        return m;
    }

    bool open(const QString &filePath, bool forReading, QString *error);
    class Transaction;
    bool removeRow(const char *table, const QString &what, qint64 id, QString *error);
    bool giveBackFreePages(QString *error);
    bool migrate(int to, QString *error);
    bool migrateTo1(QString *error);
    bool migrateTo2(QString *error);
    bool buildFtsIndex(QString *error);
    bool syncFtsState(QString *error);
};

// One write: BEGIN IMMEDIATE ... COMMIT, rolled back when left without commit().
class HistoryStore::Private::Transaction
{
public:
    Transaction(HistoryStore::Private *d, QString *error)
        : m_d(d)
    {
        if (m_d->readOnly) {
            if (error)
                *error = QStringLiteral("history database %1: opened for reading only")
                             .arg(QDir::toNativeSeparators(m_d->path));
            return;
        }
        m_open = m_d->exec(QStringLiteral("BEGIN IMMEDIATE"), error);
    }
    ~Transaction()
    {
        if (m_open)
            m_d->exec(QStringLiteral("ROLLBACK"), nullptr);
    }
    Q_DISABLE_COPY_MOVE(Transaction)

    [[nodiscard]] bool isOpen() const { return m_open; }
    bool commit(QString *error)
    {
        if (!m_d->exec(QStringLiteral("COMMIT"), error))
            return false; // the destructor rolls back
        m_open = false;
        return true;
    }

private:
    HistoryStore::Private *m_d;
    bool m_open = false;
};

bool HistoryStore::Private::migrateTo1(QString *error)
{
    const QStringList statements{
        QStringLiteral("CREATE TABLE sessions ("
                       " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                       " kind TEXT NOT NULL,"
                       " started TEXT NOT NULL,"
                       " duration_us INTEGER NOT NULL DEFAULT 0,"
                       " source TEXT, profile TEXT, target TEXT, security_mode TEXT, user TEXT,"
                       " outcome TEXT, error TEXT, subject TEXT, mail_from TEXT,"
                       " recipients TEXT, result TEXT, usage TEXT, transcript TEXT, events TEXT,"
                       " certificate_chain BLOB, message BLOB,"
                       " message_bytes INTEGER NOT NULL DEFAULT 0)"),
        QStringLiteral("CREATE INDEX sessions_started ON sessions(started)"),
        QStringLiteral("CREATE INDEX sessions_target ON sessions(target)"),
        QStringLiteral("CREATE INDEX sessions_outcome ON sessions(outcome)"),
    };
    for (const QString &s : statements) {
        if (!exec(s, error))
            return false;
    }
    return true;
}

bool HistoryStore::Private::buildFtsIndex(QString *error)
{
    // A table with its own copy of the text rather than a contentless one:
    // SQLite 3.40 (Debian 12) can only delete from a contentless index when
    // given the exact text again, and a mistake there corrupts the index.
    if (!hasObject(QStringLiteral("table"), QStringLiteral("sessions_fts"))) {
        if (!exec(QStringLiteral("CREATE VIRTUAL TABLE sessions_fts USING fts5("
                                 "transcript, subject, error, target, tokenize = 'unicode61 remove_diacritics 2')"),
                  error))
            return false;
    } else if (!exec(QStringLiteral("DELETE FROM sessions_fts"), error)) {
        return false;
    }
    const QString insertNew = QStringLiteral("INSERT INTO sessions_fts(rowid, transcript, subject, error, target) "
                                             "VALUES (new.id, %1, new.subject, new.error, new.target);")
                                  .arg(transcriptTextSql("new"));
    const QStringList statements{
        QStringLiteral("INSERT INTO sessions_fts(rowid, transcript, subject, error, target) "
                       "SELECT s.id, %1, s.subject, s.error, s.target FROM sessions AS s")
            .arg(transcriptTextSql("s")),
        QStringLiteral("CREATE TRIGGER sessions_fts_ai AFTER INSERT ON sessions BEGIN %1 END").arg(insertNew),
        QStringLiteral("CREATE TRIGGER sessions_fts_ad AFTER DELETE ON sessions BEGIN "
                       "DELETE FROM sessions_fts WHERE rowid = old.id; END"),
        QStringLiteral("CREATE TRIGGER sessions_fts_au AFTER UPDATE ON sessions BEGIN "
                       "DELETE FROM sessions_fts WHERE rowid = old.id; %1 END")
            .arg(insertNew),
    };
    for (const QString &s : statements) {
        if (!exec(s, error))
            return false;
    }
    return true;
}

bool HistoryStore::Private::migrateTo2(QString *error)
{
    const QStringList statements{
        QStringLiteral("CREATE TABLE drafts ("
                       " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                       " saved TEXT NOT NULL,"
                       " profile TEXT,"
                       " fields TEXT NOT NULL,"
                       " attachments TEXT NOT NULL)"),
        // The outbox keeps the link to the last attempt's record while that
        // record exists; retention may prune it first (ON DELETE SET NULL).
        QStringLiteral("CREATE TABLE outbox ("
                       " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                       " created TEXT NOT NULL,"
                       " last_attempt TEXT,"
                       " attempts INTEGER NOT NULL DEFAULT 0,"
                       " profile TEXT,"
                       " fields TEXT NOT NULL,"
                       " attachments TEXT NOT NULL,"
                       " last_error TEXT,"
                       " last_session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL)"),
        // Without it every session deleted would scan the outbox for the key.
        QStringLiteral("CREATE INDEX outbox_last_session ON outbox(last_session_id)"),
    };
    for (const QString &s : statements) {
        if (!exec(s, error))
            return false;
    }
    return fts ? buildFtsIndex(error) : true;
}

bool HistoryStore::Private::migrate(int to, QString *error)
{
    Private::Transaction txn(this, error);
    if (!txn.isOpen())
        return false;
    // Another store may have migrated the file between our read and our lock.
    const QVariant current = scalar(QStringLiteral("PRAGMA user_version"), error);
    if (!current.isValid())
        return false;
    if (current.toInt() >= to)
        return txn.commit(error);
    // And another application between our check and our lock: with the write
    // lock held, the file is checked again before the first table is made.
    const std::optional<Marks> marks = readMarks(error);
    if (!marks)
        return false;
    if (const QString why = notOurs(*marks); !why.isEmpty()) {
        if (error)
            *error = QStringLiteral("history database %1 is not a SmtpScope history: %2; it was left untouched")
                         .arg(QDir::toNativeSeparators(path), why);
        return false;
    }
    bool ok = true;
    if (to == 1)
        ok = migrateTo1(error);
    else if (to == 2)
        ok = migrateTo2(error);
    // Version 3 is the mark alone, written below by every step.
    if (!ok)
        return false;
    // PRAGMA user_version and application_id are written in the database
    // header, inside the transaction: they change with the tables or not at all.
    if (!exec(QStringLiteral("PRAGMA application_id = %1").arg(ApplicationId), error)
        || !exec(QStringLiteral("PRAGMA user_version = %1").arg(to), error))
        return false;
    return txn.commit(error);
}

bool HistoryStore::Private::syncFtsState(QString *error)
{
    const bool triggers = hasObject(QStringLiteral("trigger"), QStringLiteral("sessions_fts_ai"));
    if (fts == triggers)
        return true;
    Private::Transaction txn(this, error);
    if (!txn.isOpen())
        return false;
    const bool nowTriggers = hasObject(QStringLiteral("trigger"), QStringLiteral("sessions_fts_ai"));
    if (fts && !nowTriggers) {
        if (!buildFtsIndex(error))
            return false;
    } else if (!fts && nowTriggers) {
        for (const char *t : {"sessions_fts_ai", "sessions_fts_ad", "sessions_fts_au"}) {
            if (!exec(QStringLiteral("DROP TRIGGER IF EXISTS %1").arg(QLatin1String(t)), error))
                return false;
        }
    }
    return txn.commit(error);
}

// Shrinks the file by the pages a prune freed, in the prune's transaction. On
// an auto_vacuum=INCREMENTAL file (every file this build created) each step of
// PRAGMA incremental_vacuum frees one page and yields a row without columns,
// and QtSql runs a statement without columns a single step: so it is run once
// per free page (bounded by the count read first). On other files (made before
// auto_vacuum was set) it does nothing and SQLite reuses the pages instead.
bool HistoryStore::Private::giveBackFreePages(QString *error)
{
    if (scalar(QStringLiteral("PRAGMA auto_vacuum"), error).toInt() != 2)
        return true;
    const int freePages = scalar(QStringLiteral("PRAGMA freelist_count"), error).toInt();
    QSqlQuery q(db);
    q.prepare(QStringLiteral("PRAGMA incremental_vacuum"));
    for (int i = 0; i < freePages; ++i) {
        if (!q.exec()) {
            if (error)
                *error = fail(QStringLiteral("cannot shrink the file"), q.lastError());
            return false;
        }
        q.finish();
    }
    return true;
}

QString HistoryStore::defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation)
        + QStringLiteral("/smtpscope/history.sqlite");
}

HistoryStore::HistoryStore()
    : d(std::make_unique<Private>())
{
}

HistoryStore::~HistoryStore()
{
    d->close();
}

bool HistoryStore::open(const QString &path, QString *error)
{
    return d->open(path, false, error);
}

bool HistoryStore::openReadOnly(const QString &path, QString *error)
{
    return d->open(path, true, error);
}

bool HistoryStore::Private::open(const QString &filePath, bool forReading, QString *error)
{
    close();
    path = filePath;
    readOnly = forReading;
    QString err;
    const QString shown = QDir::toNativeSeparators(path);
    const auto failed = [&](const QString &why) {
        close();
        if (error)
            *error = why;
        return false;
    };
    const auto notAHistory = [&](const QString &why) {
        return failed(QStringLiteral("history database %1 is not a SmtpScope history: %2; it was left untouched: %3")
                          .arg(shown, why,
                               readOnly ? QStringLiteral("give a history file that SMTP Scope wrote")
                                        : QStringLiteral("give another file name for the history")));
    };
    const auto newer = [&](int v) {
        return failed(QStringLiteral("history database %1: it has schema version %2, newer than this build knows "
                                     "(%3); it was left untouched: use a newer SMTP Scope or another file")
                          .arg(shown)
                          .arg(v)
                          .arg(SchemaVersion));
    };

    // What the file is, before SQLite opens it (which could already write: a
    // journal, a -wal, a -shm).
    const FileHeader header = readHeader(path);
    switch (header.state) {
    case FileHeader::State::Missing:
        if (readOnly)
            return failed(QStringLiteral("history database %1: there is no history yet (the file does not exist)")
                              .arg(shown));
        break;
    case FileHeader::State::Empty:
        break; // a new file (created 0600 before its first transaction)
    case FileHeader::State::Unreadable:
        return failed(QStringLiteral("history database %1: cannot read it: %2").arg(shown, header.why));
    case FileHeader::State::NotRegular:
        return notAHistory(QStringLiteral("it is not a regular file"));
    case FileHeader::State::NotSqlite:
        return notAHistory(QStringLiteral("it is not an SQLite database"));
    case FileHeader::State::Sqlite: {
        // A WAL file's header lags behind commits still in its -wal, and a hot
        // rollback journal means a commit was cut short: then only the checks
        // through SQLite below count (SQLite reads the -wal, or rolls back).
        const QFileInfo wal(path + QStringLiteral("-wal"));
        const QFileInfo journal(path + QStringLiteral("-journal"));
        const bool settled = !(header.wal && wal.exists() && wal.size() > 0) && !(journal.exists() && journal.size() > 0);
        if (settled) {
            if (const QString why = notOurs(header.marks); !why.isEmpty())
                return notAHistory(why);
            if (header.marks.userVersion > SchemaVersion)
                return newer(header.marks.userVersion);
        }
        break;
    }
    }

    const QFileInfo info(path);
    const QString folder = info.absolutePath();
    const bool dataFolder = folder == QFileInfo(defaultPath()).absolutePath();
    if (!readOnly) {
        QString where;
        if (!makePrivateFolders(folder, &where))
            return failed(QStringLiteral("history database %1: cannot create the folder %2")
                              .arg(shown, QDir::toNativeSeparators(where)));
        if (header.state == FileHeader::State::Missing && !createPrivateFile(path, &err))
            return failed(QStringLiteral("history database %1: cannot create it: %2").arg(shown, err));
    }

    connectionName = QStringLiteral("smtpscope-history-%1").arg(s_connectionCounter.fetch_add(1));
    db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connectionName);
    if (!db.isValid())
        return failed(QStringLiteral("history database %1: the Qt SQLite driver (QSQLITE) is not available").arg(shown));
    // Set before the first statement, so even the schema read waits for a writer.
    QString options = QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(BusyTimeoutMs);
    db.setDatabaseName(path);
    if (readOnly) {
        options += QStringLiteral(";QSQLITE_OPEN_READONLY");
        // A WAL file without its -shm in a folder this user cannot write:
        // SQLite could not make the -shm to read it, and no writer can be using
        // the file (it could not make one either), so it is read as immutable.
        const QByteArray folderName = QFile::encodeName(folder);
        if (header.wal && !QFileInfo::exists(path + QStringLiteral("-shm"))
            && ::access(folderName.constData(), W_OK | X_OK) != 0) {
            options += QStringLiteral(";QSQLITE_OPEN_URI");
            QUrl uri = QUrl::fromLocalFile(info.absoluteFilePath());
            uri.setQuery(QStringLiteral("immutable=1"));
            db.setDatabaseName(uri.toString(QUrl::FullyEncoded));
        }
    }
    db.setConnectOptions(options);
    if (!db.open())
        return failed(fail(QStringLiteral("cannot open"), db.lastError()));

    // Nothing may be written before the file is known to be ours: these
    // pragmas only set the connection up.
    QStringList setup{QStringLiteral("PRAGMA busy_timeout = %1").arg(BusyTimeoutMs)};
    if (readOnly)
        setup.append(QStringLiteral("PRAGMA query_only = ON"));
    else
        setup += {QStringLiteral("PRAGMA foreign_keys = ON"), QStringLiteral("PRAGMA synchronous = NORMAL"),
                  QStringLiteral("PRAGMA journal_size_limit = %1").arg(JournalSizeLimit)};
    for (const QString &pragma : std::as_const(setup)) {
        if (!exec(pragma, &err))
            return failed(err);
    }
    std::optional<Marks> marks = readMarks(&err);
    if (!marks)
        return failed(err);
    if (const QString why = notOurs(*marks); !why.isEmpty())
        return notAHistory(why);
    if (marks->userVersion > SchemaVersion)
        return newer(marks->userVersion);

    if (readOnly) {
        // An older version is read as it is. Full-text search only with a
        // complete index (its triggers present) and FTS5 in this SQLite.
        fts = !qEnvironmentVariableIsSet("SMTPSCOPE_HISTORY_NO_FTS")
            && hasObject(QStringLiteral("trigger"), QStringLiteral("sessions_fts_ai")) && probeFts();
        version = marks->userVersion;
        return true;
    }

    // Ours: tighten what an older build or the user left readable, before the
    // first write.
    for (const char *suffix : {"", "-wal", "-shm", "-journal"})
        tighten(path + QLatin1String(suffix));
    if (dataFolder)
        tighten(folder);

    if (marks->userVersion == 0) {
        // Only takes effect on a file without tables: freed pages can then be
        // given back with PRAGMA incremental_vacuum after a prune.
        if (!exec(QStringLiteral("PRAGMA auto_vacuum = INCREMENTAL"), &err))
            return failed(err);
    }
    fts = !qEnvironmentVariableIsSet("SMTPSCOPE_HISTORY_NO_FTS") && probeFts();
    for (int to = marks->userVersion + 1; to <= SchemaVersion; ++to) {
        if (!migrate(to, &err))
            return failed(err);
    }
    // Persistent in the file; answers the mode in force (a file system without
    // shared memory keeps the rollback journal, which is still consistent).
    // After the migrations: a new file is marked as ours before it becomes WAL.
    if (!scalar(QStringLiteral("PRAGMA journal_mode = WAL"), &err).isValid())
        return failed(err);
    if (!syncFtsState(&err))
        return failed(err);
    version = scalar(QStringLiteral("PRAGMA user_version"), &err).toInt();
    return true;
}

bool HistoryStore::isOpen() const
{
    return !d->connectionName.isEmpty() && d->db.isOpen();
}

bool HistoryStore::isReadOnly() const
{
    return isOpen() && d->readOnly;
}

QString HistoryStore::path() const
{
    return d->path;
}

int HistoryStore::schemaVersion() const
{
    return d->version;
}

qint64 HistoryStore::add(const SessionRecord &record, QString *error)
{
    if (!isOpen()) {
        if (error)
            *error = QStringLiteral("history database: not open");
        return 0;
    }
    const bool keepMessage = record.message.size() <= maxMessageBytes;
    const qint64 messageBytes = record.messageBytes > 0 ? record.messageBytes : record.message.size();
    // A record without a time would sort nowhere: it is stamped when stored.
    const QDateTime started = record.started.isValid() ? record.started : QDateTime::currentDateTimeUtc();

    Private::Transaction txn(d.get(), error);
    if (!txn.isOpen())
        return 0;
    QSqlQuery q(d->db);
    q.prepare(QStringLiteral("INSERT INTO sessions (kind, started, duration_us, source, profile, target, security_mode, "
                             "user, outcome, error, subject, mail_from, recipients, result, usage, transcript, events, "
                             "certificate_chain, message, message_bytes) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    q.addBindValue(sessionKindName(record.kind));
    q.addBindValue(isoUtc(started));
    q.addBindValue(record.durationUs);
    q.addBindValue(textOrNull(record.source));
    q.addBindValue(textOrNull(record.profile));
    q.addBindValue(textOrNull(record.target));
    q.addBindValue(textOrNull(record.securityMode));
    q.addBindValue(textOrNull(record.user));
    q.addBindValue(textOrNull(record.outcome));
    q.addBindValue(textOrNull(record.error));
    q.addBindValue(textOrNull(record.subject));
    q.addBindValue(textOrNull(record.from));
    q.addBindValue(stringListJson(record.recipients));
    q.addBindValue(mapJson(record.result));
    q.addBindValue(mapJson(record.usage));
    q.addBindValue(transcriptJson(record.transcript));
    q.addBindValue(eventsJson(cappedEvents(record.events)));
    q.addBindValue(blobOrNull(record.certificateChain));
    q.addBindValue(blobOrNull(keepMessage ? record.message : QByteArray()));
    q.addBindValue(messageBytes);
    if (!q.exec()) {
        if (error)
            *error = d->fail(QStringLiteral("cannot store the session"), q.lastError());
        return 0;
    }
    const qint64 id = q.lastInsertId().toLongLong();
    q.finish();
    if (!txn.commit(error))
        return 0;
    return id;
}

std::optional<SessionRecord> HistoryStore::session(qint64 id) const
{
    if (!isOpen())
        return std::nullopt;
    QSqlQuery q(d->db);
    q.prepare(QStringLiteral("SELECT %1 FROM sessions WHERE id = ?").arg(QLatin1String(kRecordColumns)));
    q.addBindValue(id);
    if (!q.exec() || !q.next())
        return std::nullopt;
    SessionRecord r;
    r.id = q.value(0).toLongLong();
    r.kind = sessionKindFromName(q.value(1).toString()).value_or(SessionKind::Send);
    r.started = fromIsoUtc(q.value(2));
    r.durationUs = q.value(3).toLongLong();
    r.source = q.value(4).toString();
    r.profile = q.value(5).toString();
    r.target = q.value(6).toString();
    r.securityMode = q.value(7).toString();
    r.user = q.value(8).toString();
    r.outcome = q.value(9).toString();
    r.error = q.value(10).toString();
    r.subject = q.value(11).toString();
    r.from = q.value(12).toString();
    r.recipients = jsonStringList(q.value(13));
    r.result = jsonMap(q.value(14));
    r.usage = jsonMap(q.value(15));
    r.transcript = transcriptFromJson(q.value(16));
    r.events = eventsFromJson(q.value(17));
    r.certificateChain = q.value(18).toByteArray();
    r.message = q.value(19).toByteArray();
    r.messageBytes = q.value(20).toLongLong();
    return r;
}

namespace {

struct FilterSql
{
    QString where;      // " WHERE ..." or ""
    QVariantList binds;
};

FilterSql filterSql(const SessionFilter &filter, bool fts)
{
    QStringList terms;
    FilterSql out;
    if (!filter.server.isEmpty()) {
        // As a subquery: it is answered from the target index alone, and the
        // list's walk down the started index then tests row ids without
        // reading the (large) rows that do not match.
        terms.append(QStringLiteral("id IN (SELECT id FROM sessions WHERE target LIKE ? ESCAPE '\\')"));
        out.binds.append(likePattern(filter.server));
    }
    if (!filter.outcomes.isEmpty()) {
        QStringList marks;
        for (const QString &o : filter.outcomes) {
            marks.append(QStringLiteral("?"));
            out.binds.append(o);
        }
        terms.append(QStringLiteral("outcome IN (%1)").arg(marks.join(u',')));
    }
    if (filter.kind) {
        terms.append(QStringLiteral("kind = ?"));
        out.binds.append(sessionKindName(*filter.kind));
    }
    if (filter.from.isValid()) {
        terms.append(QStringLiteral("started >= ?"));
        out.binds.append(isoUtc(filter.from));
    }
    if (filter.to.isValid()) {
        terms.append(QStringLiteral("started <= ?"));
        out.binds.append(isoUtc(filter.to));
    }
    const QStringList words = searchWords(filter.text);
    if (!words.isEmpty()) {
        const QString match = fts ? ftsQuery(words) : QString();
        if (!match.isEmpty()) {
            terms.append(QStringLiteral("id IN (SELECT rowid FROM sessions_fts WHERE sessions_fts MATCH ?)"));
            out.binds.append(match);
        }
        // Without FTS5, or for words the tokenizer would drop (punctuation
        // only: "<>", "@"), every word must appear somewhere as a substring.
        for (const QString &w : words) {
            if (fts && hasTokenChar(w))
                continue;
            terms.append(QStringLiteral("(subject LIKE ? ESCAPE '\\' OR error LIKE ? ESCAPE '\\' OR target LIKE ? "
                                        "ESCAPE '\\' OR EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(transcript) "
                                        "THEN transcript ELSE '[]' END) AS j WHERE json_extract(j.value, '$.text') "
                                        "LIKE ? ESCAPE '\\'))"));
            const QString pattern = likePattern(w);
            for (int i = 0; i < 4; ++i)
                out.binds.append(pattern);
        }
    }
    if (!terms.isEmpty())
        out.where = QStringLiteral(" WHERE ") + terms.join(QStringLiteral(" AND "));
    return out;
}

} // namespace

QList<SessionSummary> HistoryStore::list(const SessionFilter &filter) const
{
    QList<SessionSummary> out;
    if (!isOpen())
        return out;
    const FilterSql f = filterSql(filter, d->fts);
    QSqlQuery q(d->db);
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT %1 FROM sessions%2 ORDER BY started DESC, id DESC LIMIT ? OFFSET ?")
                  .arg(QLatin1String(kSummaryColumns), f.where));
    for (const QVariant &b : f.binds)
        q.addBindValue(b);
    q.addBindValue(filter.limit > 0 ? filter.limit : -1); // SQLite: a negative LIMIT is none
    q.addBindValue(std::max(0, filter.offset));
    if (!q.exec())
        return out;
    while (q.next()) {
        SessionSummary s;
        s.id = q.value(0).toLongLong();
        s.kind = sessionKindFromName(q.value(1).toString()).value_or(SessionKind::Send);
        s.started = fromIsoUtc(q.value(2));
        s.durationUs = q.value(3).toLongLong();
        s.target = q.value(4).toString();
        s.outcome = q.value(5).toString();
        s.subject = q.value(6).toString();
        s.error = q.value(7).toString();
        s.profile = q.value(8).toString();
        out.append(s);
    }
    return out;
}

int HistoryStore::count(const SessionFilter &filter) const
{
    if (!isOpen())
        return 0;
    const FilterSql f = filterSql(filter, d->fts);
    QSqlQuery q(d->db);
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT count(*) FROM sessions%1").arg(f.where));
    for (const QVariant &b : f.binds)
        q.addBindValue(b);
    if (!q.exec() || !q.next())
        return 0;
    return q.value(0).toInt();
}

bool HistoryStore::remove(qint64 id, QString *error)
{
    if (!isOpen()) {
        if (error)
            *error = QStringLiteral("history database: not open");
        return false;
    }
    Private::Transaction txn(d.get(), error);
    if (!txn.isOpen())
        return false;
    QSqlQuery q(d->db);
    q.prepare(QStringLiteral("DELETE FROM sessions WHERE id = ?"));
    q.addBindValue(id);
    if (!q.exec()) {
        if (error)
            *error = d->fail(QStringLiteral("cannot delete session %1").arg(id), q.lastError());
        return false;
    }
    if (q.numRowsAffected() != 1) {
        if (error)
            *error = QStringLiteral("history database %1: there is no session %2").arg(d->path).arg(id);
        return false;
    }
    q.finish();
    return txn.commit(error);
}

int HistoryStore::prune(const Retention &retention, QString *error)
{
    if (!isOpen()) {
        if (error)
            *error = QStringLiteral("history database: not open");
        return 0;
    }
    int removed = 0;
    {
        Private::Transaction txn(d.get(), error);
        if (!txn.isOpen())
            return 0;
        QSqlQuery q(d->db);
        if (retention.keepDays > 0) {
            q.prepare(QStringLiteral("DELETE FROM sessions WHERE started < ?"));
            q.addBindValue(isoUtc(QDateTime::currentDateTimeUtc().addDays(-retention.keepDays)));
            if (!q.exec()) {
                if (error)
                    *error = d->fail(QStringLiteral("cannot prune by age"), q.lastError());
                return 0;
            }
            removed += q.numRowsAffected();
        }
        if (retention.keepSessions > 0) {
            // Everything after the newest keepSessions (a negative LIMIT is none).
            q.prepare(QStringLiteral("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions "
                                     "ORDER BY started DESC, id DESC LIMIT -1 OFFSET ?)"));
            q.addBindValue(retention.keepSessions);
            if (!q.exec()) {
                if (error)
                    *error = d->fail(QStringLiteral("cannot prune by count"), q.lastError());
                return 0;
            }
            removed += q.numRowsAffected();
        }
        q.finish();
        if (removed > 0 && !d->giveBackFreePages(error))
            return 0;
        if (!txn.commit(error))
            return 0;
    }
    return removed;
}

bool HistoryStore::saveDraft(Draft *draft, QString *error)
{
    if (!isOpen() || !draft) {
        if (error)
            *error = QStringLiteral("history database: not open");
        return false;
    }
    const QDateTime saved = QDateTime::currentDateTimeUtc();
    Private::Transaction txn(d.get(), error);
    if (!txn.isOpen())
        return false;
    QSqlQuery q(d->db);
    bool updated = false;
    if (draft->id > 0) {
        q.prepare(QStringLiteral("UPDATE drafts SET saved = ?, profile = ?, fields = ?, attachments = ? WHERE id = ?"));
        q.addBindValue(isoUtc(saved));
        q.addBindValue(textOrNull(draft->profile));
        q.addBindValue(mapJson(draft->fields));
        q.addBindValue(stringListJson(draft->attachments));
        q.addBindValue(draft->id);
        if (!q.exec()) {
            if (error)
                *error = d->fail(QStringLiteral("cannot save the draft"), q.lastError());
            return false;
        }
        updated = q.numRowsAffected() == 1;
    }
    // A draft removed meanwhile (sent from another window) is saved anew rather
    // than lost: the user is still editing it.
    if (!updated) {
        q.prepare(QStringLiteral("INSERT INTO drafts (saved, profile, fields, attachments) VALUES (?, ?, ?, ?)"));
        q.addBindValue(isoUtc(saved));
        q.addBindValue(textOrNull(draft->profile));
        q.addBindValue(mapJson(draft->fields));
        q.addBindValue(stringListJson(draft->attachments));
        if (!q.exec()) {
            if (error)
                *error = d->fail(QStringLiteral("cannot save the draft"), q.lastError());
            return false;
        }
    }
    const qint64 id = updated ? draft->id : q.lastInsertId().toLongLong();
    q.finish();
    if (!txn.commit(error))
        return false;
    draft->id = id;
    draft->saved = saved;
    return true;
}

QList<Draft> HistoryStore::drafts() const
{
    QList<Draft> out;
    if (!isOpen())
        return out;
    QSqlQuery q(d->db);
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT id, saved, profile, fields, attachments FROM drafts ORDER BY saved DESC, id DESC")))
        return out;
    while (q.next()) {
        Draft dr;
        dr.id = q.value(0).toLongLong();
        dr.saved = fromIsoUtc(q.value(1));
        dr.profile = q.value(2).toString();
        dr.fields = jsonMap(q.value(3));
        dr.attachments = jsonStringList(q.value(4));
        out.append(dr);
    }
    return out;
}

bool HistoryStore::Private::removeRow(const char *table, const QString &what, qint64 id, QString *error)
{
    Transaction txn(this, error);
    if (!txn.isOpen())
        return false;
    QSqlQuery q(db);
    q.prepare(QStringLiteral("DELETE FROM %1 WHERE id = ?").arg(QLatin1String(table)));
    q.addBindValue(id);
    if (!q.exec()) {
        if (error)
            *error = fail(QStringLiteral("cannot delete %1 %2").arg(what).arg(id), q.lastError());
        return false;
    }
    if (q.numRowsAffected() != 1) {
        if (error)
            *error = QStringLiteral("history database %1: there is no %2 %3").arg(path, what).arg(id);
        return false;
    }
    q.finish();
    return txn.commit(error);
}

bool HistoryStore::removeDraft(qint64 id, QString *error)
{
    if (!isOpen()) {
        if (error)
            *error = QStringLiteral("history database: not open");
        return false;
    }
    return d->removeRow("drafts", QStringLiteral("draft"), id, error);
}

bool HistoryStore::addToOutbox(OutboxItem *item, QString *error)
{
    if (!isOpen() || !item) {
        if (error)
            *error = QStringLiteral("history database: not open");
        return false;
    }
    const QDateTime created = QDateTime::currentDateTimeUtc();
    Private::Transaction txn(d.get(), error);
    if (!txn.isOpen())
        return false;
    QSqlQuery q(d->db);
    q.prepare(QStringLiteral("INSERT INTO outbox (created, last_attempt, attempts, profile, fields, attachments, "
                             "last_error, last_session_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    q.addBindValue(isoUtc(created));
    q.addBindValue(item->lastAttempt.isValid() ? QVariant(isoUtc(item->lastAttempt))
                                               : QVariant());
    q.addBindValue(item->attempts);
    q.addBindValue(textOrNull(item->profile));
    q.addBindValue(mapJson(item->fields));
    q.addBindValue(stringListJson(item->attachments));
    q.addBindValue(textOrNull(item->lastError));
    q.addBindValue(item->lastSessionId > 0 ? QVariant(item->lastSessionId) : QVariant());
    if (!q.exec()) {
        if (error)
            *error = d->fail(QStringLiteral("cannot add to the outbox"), q.lastError());
        return false;
    }
    const qint64 id = q.lastInsertId().toLongLong();
    q.finish();
    if (!txn.commit(error))
        return false;
    item->id = id;
    item->created = created;
    return true;
}

bool HistoryStore::recordAttempt(qint64 id, const QString &error, qint64 sessionId, QString *errorOut)
{
    if (!isOpen()) {
        if (errorOut)
            *errorOut = QStringLiteral("history database: not open");
        return false;
    }
    Private::Transaction txn(d.get(), errorOut);
    if (!txn.isOpen())
        return false;
    QSqlQuery q(d->db);
    q.prepare(QStringLiteral("UPDATE outbox SET attempts = attempts + 1, last_attempt = ?, last_error = ?, "
                             "last_session_id = ? WHERE id = ?"));
    q.addBindValue(isoUtc(QDateTime::currentDateTimeUtc()));
    q.addBindValue(textOrNull(error));
    q.addBindValue(sessionId > 0 ? QVariant(sessionId) : QVariant());
    q.addBindValue(id);
    if (!q.exec()) {
        if (errorOut)
            *errorOut = d->fail(QStringLiteral("cannot record the attempt of outbox item %1").arg(id), q.lastError());
        return false;
    }
    if (q.numRowsAffected() != 1) {
        if (errorOut)
            *errorOut = QStringLiteral("history database %1: there is no outbox item %2").arg(d->path).arg(id);
        return false;
    }
    q.finish();
    return txn.commit(errorOut);
}

QList<OutboxItem> HistoryStore::outbox() const
{
    QList<OutboxItem> out;
    if (!isOpen())
        return out;
    QSqlQuery q(d->db);
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT id, created, last_attempt, attempts, profile, fields, attachments, last_error, "
                               "last_session_id FROM outbox ORDER BY created ASC, id ASC")))
        return out;
    while (q.next()) {
        OutboxItem it;
        it.id = q.value(0).toLongLong();
        it.created = fromIsoUtc(q.value(1));
        it.lastAttempt = fromIsoUtc(q.value(2));
        it.attempts = q.value(3).toInt();
        it.profile = q.value(4).toString();
        it.fields = jsonMap(q.value(5));
        it.attachments = jsonStringList(q.value(6));
        it.lastError = q.value(7).toString();
        it.lastSessionId = q.value(8).toLongLong();
        out.append(it);
    }
    return out;
}

bool HistoryStore::removeFromOutbox(qint64 id, QString *error)
{
    if (!isOpen()) {
        if (error)
            *error = QStringLiteral("history database: not open");
        return false;
    }
    return d->removeRow("outbox", QStringLiteral("outbox item"), id, error);
}

} // namespace Store
