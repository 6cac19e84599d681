// How the store works
// -------------------
// The folder holds <id>.eml files (the messages exactly as received), a private
// subfolder .incoming/ for messages being received, and index.sqlite (WAL
// journal: index.sqlite-wal, index.sqlite-shm), whose schema (PRAGMA
// user_version 1) is
//   messages    one row per message: seq (rowid), id, state, received (ISO 8601
//               UTC with milliseconds), sender, recipients (JSON, for the list),
//               subject, size, is_read. state 0 = pending (being committed),
//               1 = stored, 2 = being removed; only state 1 is ever listed, and
//               a partial index finds the other two without a scan.
//   recipients  (message, address): the envelope recipients, indexed by address
//               (case-insensitive) for "mail to this address".
//   messages_fts  FTS5 over the headers and the text of each message (rowid =
//               seq), from a bounded read of the file; deleted with its row by a
//               trigger. Without FTS5 in the SQLite library, search falls back
//               to LIKE over subject and sender.
//   totals      one row: the number and bytes of stored messages, kept by
//               triggers, so counts and quotas never scan the table.
//   meta        last_id, the greatest id ever handed out.
//
// Durability: a kill -9 (or a power cut) at any instruction leaves no partial
// message listed and loses no message a commit reported stored.
//
//  1. begin() creates .incoming/<random> (mode 0600); the bytes go there as they
//     arrive, from the receiving thread.
//  2. commit, on the worker thread: fsync the file (its bytes are durable); read
//     its header block and text for the index; in one transaction with
//     synchronous=FULL (the WAL is fsync'ed at COMMIT), check the quota and insert
//     the row in state 0 with its recipients and text.
//  3. link() it to <id>.eml (link fails instead of overwriting: an id never
//     clobbers a file), unlink the temporary name, fsync the folder: the name is
//     durable.
//  4. set state 1 (synchronous=NORMAL: no fsync needed; if this update is lost
//     in a power cut, open() below finds the row in state 0 with its file and
//     completes it), and only then report the message stored. A kill -9 loses
//     nothing committed even without an fsync: the WAL write has reached the
//     kernel.
//
// open() then costs the same whatever the number of messages: it removes what is
// in .incoming/ (messages never complete, never acknowledged), and settles the
// few rows not in state 1: state 0 with its .eml becomes 1 (a kill between 3 and
// 4), without it the row goes (a kill between 2 and 3); state 2 finishes the
// removal. Nothing scans the .eml files unless the database is missing or
// unreadable: then (and once for a folder of an older version, which kept an
// index.json) the index is rebuilt from the files, in one transaction, the
// envelope taken from index.json where it has one and from the header otherwise;
// index.json is removed once imported. An unreadable database is renamed aside
// (index.sqlite.unreadable-<time>), never deleted.
//
// Removal: state 2 (committed), unlink the file, delete the row; a kill between
// leaves state 2, which open() completes. A row is never listed without its file.
//
// Ids are "yyyyMMddTHHmmss-NNNNNN" (UTC, then a counter within that second), so
// their string order is their arrival order. Every new id is made greater than
// meta.last_id and than the greatest id in the table: ids stay unique after a
// restart in the same second, after the newest message was removed, and when the
// clock steps back.

#include "messagestore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QPointer>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QVariant>

#include "mime/gmimesupport.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <future>
#include <sys/stat.h>
#include <unistd.h>

namespace {

Q_LOGGING_CATEGORY(lcCaptureStore, "smtpscope.capture.store")

constexpr int kSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 10000;
// The WAL is reused, not shrunk, after a checkpoint: cap what stays on disk.
constexpr qint64 kJournalSizeLimit = 8 * 1024 * 1024;
constexpr auto kIncomingDir = ".incoming";
constexpr auto kLegacyIndex = "index.json";
constexpr auto kLegacyIncomingPrefix = ".incoming-";
constexpr int kLegacyIndexFormat = 1;
// What is read of a file for the index: the header block must end within the
// first kHeaderReadLimit bytes for its fields after that to be listed; the text
// is taken from MIME parts within the first kTextReadLimit bytes, at most
// kMaxParts parts and kMaxTextChars characters. Bounded whatever the message.
constexpr qint64 kHeaderReadLimit = 64 * 1024;
constexpr qint64 kTextReadLimit = 128 * 1024;
constexpr int kMaxParts = 64;
constexpr int kMaxPartDepth = 8;
constexpr qsizetype kMaxTextChars = 32 * 1024;
constexpr qsizetype kMaxHeaderChars = 16 * 1024;
constexpr int kCounterDigits = 6;
constexpr int kCounterMax = 999999;
const QString kIdTimeFormat = QStringLiteral("yyyyMMdd'T'HHmmss");

enum State { Pending = 0, Stored = 1, Removing = 2 };

const QRegularExpression &idPattern()
{
    static const QRegularExpression re(QStringLiteral("^(\\d{8}T\\d{6})-(\\d{6})$"));
    return re;
}

// What an older version's QSaveFile left behind if killed before its rename.
const QRegularExpression &legacyIndexLeftoverPattern()
{
    static const QRegularExpression re(QStringLiteral("^index\\.json\\.[A-Za-z0-9]{6}$"));
    return re;
}

bool isValidId(const QString &id)
{
    return idPattern().match(id).hasMatch();
}

// The text of an errno value taken right after the call that failed (any later
// call may change errno).
QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

void setError(QString *error, const QString &text)
{
    if (error)
        *error = text;
}

QString isoUtc(const QDateTime &t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

QDateTime fromIsoUtc(const QString &text)
{
    QDateTime t = QDateTime::fromString(text, Qt::ISODateWithMs);
    return t.isValid() ? t.toUTC() : t;
}

QDateTime timeOfId(const QString &id)
{
    QDateTime t = QDateTime::fromString(idPattern().match(id).captured(1), kIdTimeFormat);
    t.setTimeSpec(Qt::UTC);
    return t;
}

// fsync of the folder makes a link or rename inside it durable, not only the
// data of the file.
bool syncFolder(const QString &folder, QString *error)
{
    const int fd = ::open(QFile::encodeName(folder).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        setError(error, QStringLiteral("Cannot open the folder %1: %2").arg(folder, errnoText(errno)));
        return false;
    }
    const bool ok = ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    if (!ok)
        setError(error, QStringLiteral("Cannot sync the folder %1: %2").arg(folder, errnoText(err)));
    return ok;
}

// Creates `path` (and its parents) and makes it owner-only, tightening the mode
// of a folder that exists already: captured mail can hold anything.
bool makePrivateFolder(const QString &path, QString *error)
{
    if (!QDir().mkpath(path)) {
        setError(error, QStringLiteral("Cannot create the folder %1.").arg(path));
        return false;
    }
    if (::chmod(QFile::encodeName(path).constData(), S_IRWXU) != 0) {
        setError(error, QStringLiteral("Cannot make the folder %1 private: %2").arg(path, errnoText(errno)));
        return false;
    }
    return true;
}

// An existing file is tightened to 0600; a missing one is created empty with that
// mode when `create` (SQLite then gives its -wal and -shm the same mode).
bool makePrivateFile(const QString &path, bool create, QString *error)
{
    const QByteArray name = QFile::encodeName(path);
    if (::chmod(name.constData(), S_IRUSR | S_IWUSR) == 0)
        return true;
    if (errno != ENOENT) {
        setError(error, QStringLiteral("Cannot make %1 private: %2").arg(path, errnoText(errno)));
        return false;
    }
    if (!create)
        return true;
    const int fd = ::open(name.constData(), O_WRONLY | O_CREAT | O_CLOEXEC, S_IRUSR | S_IWUSR);
    if (fd < 0) {
        setError(error, QStringLiteral("Cannot create %1: %2").arg(path, errnoText(errno)));
        return false;
    }
    ::close(fd);
    return true;
}

// ---------------------------------------------------------------- reading a message

// What the index keeps of a message's content. Only a bounded prefix of the file
// is read (RFC 5322 2.1: header fields, then an empty line, then the body).
struct MessageSummary
{
    QString from;           // addr-specs of From
    QStringList recipients; // addr-specs of To and Cc
    QString subject;        // decoded
    QString headers;        // "Name: decoded value" lines, for the full-text index
    QString text;           // text of the text/* parts, for the full-text index
};

void collectAddresses(InternetAddressList *list, QStringList *out)
{
    if (!list)
        return;
    const int n = internet_address_list_length(list);
    for (int i = 0; i < n; ++i) {
        InternetAddress *address = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(address)) {
            const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
            if (addr && *addr)
                out->append(QString::fromUtf8(addr));
        } else if (INTERNET_ADDRESS_IS_GROUP(address)) {
            // RFC 5322 3.4: a group's members are mailboxes like any other.
            collectAddresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address)), out);
        }
    }
}

QStringList parseAddresses(const QByteArray &value)
{
    QStringList out;
    InternetAddressList *list = internet_address_list_parse(nullptr, value.constData());
    if (list) {
        collectAddresses(list, &out);
        g_object_unref(list);
    }
    return out;
}

QString decodeHeaderText(const QByteArray &value)
{
    // RFC 2047 encoded words; raw 8-bit text (RFC 6532) is taken as UTF-8 with
    // GMime's fallback charsets.
    char *decoded = g_mime_utils_header_decode_text(nullptr, value.constData());
    const QString text = decoded ? QString::fromUtf8(decoded) : QString::fromUtf8(value);
    g_free(decoded);
    return text;
}

// The text of the text/* parts, walked depth-first within the bounds above.
void collectText(GMimeObject *object, int depth, int *parts, QString *out)
{
    if (!object || depth > kMaxPartDepth || *parts >= kMaxParts || out->size() >= kMaxTextChars)
        return;
    ++*parts;
    if (GMIME_IS_MULTIPART(object)) {
        GMimeMultipart *multipart = GMIME_MULTIPART(object);
        const int n = g_mime_multipart_get_count(multipart);
        for (int i = 0; i < n && *parts < kMaxParts && out->size() < kMaxTextChars; ++i)
            collectText(g_mime_multipart_get_part(multipart, i), depth + 1, parts, out);
        return;
    }
    if (GMIME_IS_MESSAGE_PART(object)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
        if (inner)
            collectText(g_mime_message_get_mime_part(inner), depth + 1, parts, out);
        return;
    }
    if (!GMIME_IS_TEXT_PART(object))
        return;
    GMimeContentType *type = g_mime_object_get_content_type(object);
    const bool html = type && g_mime_content_type_is_type(type, "text", "html");
    char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(object));
    if (!text)
        return;
    QString part = QString::fromUtf8(text);
    g_free(text);
    if (html) {
        // Only the words matter for the index: tags and entities out.
        static const QRegularExpression tags(QStringLiteral("<[^>]*>|&[a-zA-Z#0-9]+;"));
        part.replace(tags, QStringLiteral(" "));
    }
    if (!out->isEmpty())
        out->append(u'\n');
    out->append(part.left(kMaxTextChars - out->size()));
}

MessageSummary readSummary(const QString &path, bool withText)
{
    MessageSummary summary;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return summary;
    const QByteArray prefix = file.read(withText ? kTextReadLimit : kHeaderReadLimit);
    file.close();
    QByteArray block = prefix.left(kHeaderReadLimit);

    // The header block ends at the first empty line; messages from the wire end
    // lines with CRLF (RFC 5321 2.3.8) but a file dropped in may use bare LF.
    qsizetype end = -1;
    if (block.startsWith("\r\n") || block.startsWith('\n')) {
        end = 0;
    } else {
        const qsizetype crlf = block.indexOf("\r\n\r\n");
        const qsizetype lf = block.indexOf("\n\n");
        if (crlf >= 0 && (lf < 0 || crlf < lf))
            end = crlf + 2;
        else if (lf >= 0)
            end = lf + 1;
    }
    if (end >= 0) {
        block.truncate(end);
    } else {
        // No end inside the limit: keep whole lines only.
        const qsizetype lastLf = block.lastIndexOf('\n');
        block.truncate(lastLf < 0 ? 0 : lastLf + 1);
    }

    // RFC 5322 2.2.3: unfold by joining a line that starts with WSP to the one
    // before it.
    QList<QByteArray> fields;
    for (QByteArray line : block.split('\n')) {
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty())
            continue;
        if ((line.at(0) == ' ' || line.at(0) == '\t') && !fields.isEmpty())
            fields.last() += line;
        else
            fields.append(line);
    }

    MimeSupport::ensureGMime();
    bool haveSubject = false;
    bool haveFrom = false;
    for (const QByteArray &field : std::as_const(fields)) {
        const qsizetype colon = field.indexOf(':');
        if (colon <= 0)
            continue;
        const QByteArray name = field.left(colon).trimmed().toLower();
        const QByteArray value = field.mid(colon + 1).trimmed();
        if (name == "subject" && !haveSubject) {
            haveSubject = true;
            summary.subject = decodeHeaderText(value);
        } else if (name == "from" && !haveFrom) {
            haveFrom = true;
            summary.from = parseAddresses(value).join(QStringLiteral(", "));
        } else if (name == "to" || name == "cc") {
            summary.recipients += parseAddresses(value);
        }
        if (withText && summary.headers.size() < kMaxHeaderChars) {
            summary.headers += QString::fromLatin1(field.left(colon).trimmed()) + QStringLiteral(": ")
                + decodeHeaderText(value).left(kMaxHeaderChars) + u'\n';
        }
    }

    if (withText && !prefix.isEmpty()) {
        GMimeStream *stream = g_mime_stream_mem_new_with_buffer(prefix.constData(), size_t(prefix.size()));
        GMimeParser *parser = g_mime_parser_new_with_stream(stream);
        g_object_unref(stream);
        GMimeMessage *message = g_mime_parser_construct_message(parser, nullptr);
        g_object_unref(parser);
        if (message) {
            int parts = 0;
            collectText(g_mime_message_get_mime_part(message), 0, &parts, &summary.text);
            g_object_unref(message);
        }
    }
    return summary;
}

// ---------------------------------------------------------------- database

std::atomic<quint64> s_connectionCounter{0};

// One QtSql connection (used on the thread that opened it only).
class Database
{
public:
    Database() = default;
    ~Database() { close(); }
    Q_DISABLE_COPY_MOVE(Database)

    bool open(const QString &path, bool readOnly, QString *error)
    {
        close();
        m_path = path;
        m_name = QStringLiteral("smtpscope-capture-%1").arg(s_connectionCounter.fetch_add(1));
        m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        if (!m_db.isValid()) {
            setError(error, QStringLiteral("The Qt SQLite driver (QSQLITE) is not available."));
            close();
            return false;
        }
        m_db.setDatabaseName(path);
        QString options = QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(kBusyTimeoutMs);
        if (readOnly)
            options += QStringLiteral(";QSQLITE_OPEN_READONLY");
        m_db.setConnectOptions(options);
        if (!m_db.open()) {
            setError(error, fail(QStringLiteral("cannot open"), m_db.lastError()));
            close();
            return false;
        }
        return true;
    }

    void close()
    {
        if (m_name.isEmpty())
            return;
        m_db.close();
        m_db = QSqlDatabase();
        // After the last QSqlDatabase copy is gone, or Qt warns that the
        // connection is still in use.
        QSqlDatabase::removeDatabase(m_name);
        m_name.clear();
    }

    [[nodiscard]] bool isOpen() const { return !m_name.isEmpty() && m_db.isOpen(); }
    [[nodiscard]] const QSqlDatabase &db() const { return m_db; }

    [[nodiscard]] QString fail(const QString &what, const QSqlError &e) const
    {
        const QString cause = e.text().trimmed();
        return QStringLiteral("Capture index %1: %2%3")
            .arg(m_path, what, cause.isEmpty() ? QString() : QStringLiteral(": ") + cause);
    }

    bool exec(const QString &sql, QString *error)
    {
        QSqlQuery q(m_db);
        if (q.exec(sql))
            return true;
        setError(error, fail(sql.section(u' ', 0, 2), q.lastError()));
        return false;
    }

    // A single value of a one-row query, or an invalid QVariant.
    QVariant scalar(const QString &sql, QString *error)
    {
        QSqlQuery q(m_db);
        if (!q.exec(sql) || !q.next()) {
            setError(error, fail(sql.section(u' ', 0, 3), q.lastError()));
            return {};
        }
        return q.value(0);
    }

    bool hasTable(const QString &name)
    {
        QSqlQuery q(m_db);
        q.prepare(QStringLiteral("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"));
        q.addBindValue(name);
        return q.exec() && q.next();
    }

private:
    QSqlDatabase m_db;
    QString m_name;
    QString m_path;
};

// One write: BEGIN IMMEDIATE (the write lock up front: two writers wait on the
// busy timeout instead of failing on a lock upgrade) ... COMMIT, rolled back
// when left without commit().
class Transaction
{
public:
    Transaction(Database &db, QString *error)
        : m_db(db)
    {
        m_open = m_db.exec(QStringLiteral("BEGIN IMMEDIATE"), error);
    }
    ~Transaction()
    {
        if (m_open)
            m_db.exec(QStringLiteral("ROLLBACK"), nullptr);
    }
    Q_DISABLE_COPY_MOVE(Transaction)

    [[nodiscard]] bool isOpen() const { return m_open; }
    bool commit(QString *error)
    {
        if (!m_db.exec(QStringLiteral("COMMIT"), error))
            return false; // the destructor rolls back
        m_open = false;
        return true;
    }

private:
    Database &m_db;
    bool m_open = false;
};

const QString kSelectColumns = QStringLiteral("m.id, m.received, m.sender, m.recipients, m.subject, m.size, m.is_read");

Capture::StoredMessage fromRow(const QSqlQuery &q, const QString &folder)
{
    Capture::StoredMessage m;
    m.id = q.value(0).toString();
    m.received = fromIsoUtc(q.value(1).toString());
    m.from = q.value(2).toString();
    for (const QJsonValue &v : QJsonDocument::fromJson(q.value(3).toString().toUtf8()).array())
        m.recipients.append(v.toString());
    m.subject = q.value(4).toString();
    m.size = q.value(5).toLongLong();
    m.read = q.value(6).toInt() != 0;
    m.path = folder + QLatin1Char('/') + m.id + QStringLiteral(".eml");
    return m;
}

// QtSql binds a null QString as NULL; the text columns are NOT NULL.
QString nonNull(const QString &value)
{
    return value.isNull() ? QStringLiteral("") : value;
}

QString recipientsJson(const QStringList &recipients)
{
    return QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(recipients)).toJson(QJsonDocument::Compact));
}

bool createSchema(Database &db, bool fts, QString *error)
{
    QStringList statements{
        QStringLiteral("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"),
        QStringLiteral("CREATE TABLE messages ("
                       " seq INTEGER PRIMARY KEY,"
                       " id TEXT NOT NULL UNIQUE,"
                       " state INTEGER NOT NULL,"
                       " received TEXT NOT NULL,"
                       " sender TEXT NOT NULL,"
                       " recipients TEXT NOT NULL,"
                       " subject TEXT NOT NULL,"
                       " size INTEGER NOT NULL,"
                       " is_read INTEGER NOT NULL DEFAULT 0)"),
        // open() reads only the rows not in state 1: a partial index keeps that
        // one lookup, however many messages are stored.
        QStringLiteral("CREATE INDEX messages_unsettled ON messages(state) WHERE state <> 1"),
        QStringLiteral("CREATE TABLE recipients ("
                       " message INTEGER NOT NULL REFERENCES messages(seq) ON DELETE CASCADE,"
                       " address TEXT NOT NULL COLLATE NOCASE)"),
        QStringLiteral("CREATE INDEX recipients_address ON recipients(address, message)"),
        QStringLiteral("CREATE INDEX recipients_message ON recipients(message)"),
        QStringLiteral("CREATE TABLE totals (one INTEGER PRIMARY KEY CHECK (one = 1),"
                       " messages INTEGER NOT NULL, bytes INTEGER NOT NULL)"),
        QStringLiteral("INSERT INTO totals VALUES (1, 0, 0)"),
        QStringLiteral("CREATE TRIGGER totals_insert AFTER INSERT ON messages WHEN new.state = 1 BEGIN"
                       " UPDATE totals SET messages = messages + 1, bytes = bytes + new.size; END"),
        QStringLiteral("CREATE TRIGGER totals_update AFTER UPDATE OF state, size ON messages BEGIN"
                       " UPDATE totals SET messages = messages + (new.state = 1) - (old.state = 1),"
                       " bytes = bytes + (CASE WHEN new.state = 1 THEN new.size ELSE 0 END)"
                       " - (CASE WHEN old.state = 1 THEN old.size ELSE 0 END); END"),
        QStringLiteral("CREATE TRIGGER totals_delete AFTER DELETE ON messages WHEN old.state = 1 BEGIN"
                       " UPDATE totals SET messages = messages - 1, bytes = bytes - old.size; END"),
    };
    if (fts) {
        statements += {
            QStringLiteral("CREATE VIRTUAL TABLE messages_fts USING fts5("
                           "headers, body, tokenize = 'unicode61 remove_diacritics 2')"),
            QStringLiteral("CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
                           " DELETE FROM messages_fts WHERE rowid = old.seq; END"),
        };
    }
    for (const QString &s : std::as_const(statements)) {
        if (!db.exec(s, error))
            return false;
    }
    return true;
}

bool probeFts(Database &db)
{
    // A temporary table: nothing is written to the file.
    QSqlQuery q(db.db());
    if (!q.exec(QStringLiteral("CREATE VIRTUAL TABLE temp.smtpscope_fts_probe USING fts5(x)")))
        return false;
    q.exec(QStringLiteral("DROP TABLE temp.smtpscope_fts_probe"));
    return true;
}

// Adds messages (a row, its recipients and its text) in the caller's
// transaction, with its statements prepared once for many.
class Inserter
{
public:
    Inserter(Database &db, bool fts)
        : m_db(db)
        , m_fts(fts)
        , m_message(db.db())
        , m_recipient(db.db())
        , m_text(db.db())
    {
        m_message.prepare(QStringLiteral("INSERT INTO messages (id, state, received, sender, recipients, subject, size)"
                                         " VALUES (?, ?, ?, ?, ?, ?, ?)"));
        m_recipient.prepare(QStringLiteral("INSERT INTO recipients (message, address) VALUES (?, ?)"));
        if (fts)
            m_text.prepare(QStringLiteral("INSERT INTO messages_fts (rowid, headers, body) VALUES (?, ?, ?)"));
    }

    bool insert(const Capture::StoredMessage &m, State state, const MessageSummary &summary, QString *error)
    {
        m_message.bindValue(0, m.id);
        m_message.bindValue(1, int(state));
        m_message.bindValue(2, isoUtc(m.received));
        m_message.bindValue(3, nonNull(m.from));
        m_message.bindValue(4, recipientsJson(m.recipients));
        m_message.bindValue(5, nonNull(m.subject));
        m_message.bindValue(6, m.size);
        if (!m_message.exec()) {
            setError(error, m_db.fail(QStringLiteral("cannot add %1").arg(m.id), m_message.lastError()));
            return false;
        }
        const qint64 seq = m_message.lastInsertId().toLongLong();
        m_message.finish();
        for (const QString &address : m.recipients) {
            m_recipient.bindValue(0, seq);
            m_recipient.bindValue(1, address);
            if (!m_recipient.exec()) {
                setError(error, m_db.fail(QStringLiteral("cannot add the recipients of %1").arg(m.id),
                                          m_recipient.lastError()));
                return false;
            }
            m_recipient.finish();
        }
        if (m_fts) {
            m_text.bindValue(0, seq);
            m_text.bindValue(1, summary.headers);
            m_text.bindValue(2, summary.text);
            if (!m_text.exec()) {
                setError(error, m_db.fail(QStringLiteral("cannot index the text of %1").arg(m.id), m_text.lastError()));
                return false;
            }
            m_text.finish();
        }
        return true;
    }

private:
    Database &m_db;
    bool m_fts;
    QSqlQuery m_message;
    QSqlQuery m_recipient;
    QSqlQuery m_text;
};

bool setMeta(Database &db, const QString &key, const QString &value, QString *error)
{
    QSqlQuery q(db.db());
    q.prepare(QStringLiteral("INSERT INTO meta (key, value) VALUES (?, ?)"
                             " ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
    q.addBindValue(key);
    q.addBindValue(value);
    if (!q.exec()) {
        setError(error, db.fail(QStringLiteral("cannot write %1").arg(key), q.lastError()));
        return false;
    }
    return true;
}

struct Totals
{
    qint64 messages = 0;
    qint64 bytes = 0;
};

std::optional<Totals> readTotals(Database &db, QString *error)
{
    QSqlQuery q(db.db());
    if (!q.exec(QStringLiteral("SELECT messages, bytes FROM totals")) || !q.next()) {
        setError(error, db.fail(QStringLiteral("cannot read the totals"), q.lastError()));
        return std::nullopt;
    }
    return Totals{q.value(0).toLongLong(), q.value(1).toLongLong()};
}

// The entries of an older version's index.json: id -> message (envelope and
// time); empty when there is none or it does not read.
QHash<QString, Capture::StoredMessage> readLegacyIndex(const QString &path, QString *lastId)
{
    QHash<QString, Capture::StoredMessage> entries;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return entries;
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    const QJsonObject root = doc.object();
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()
        || root.value(QStringLiteral("format")).toInt() != kLegacyIndexFormat
        || !root.value(QStringLiteral("messages")).isArray()) {
        qCWarning(lcCaptureStore) << "old index" << path
                                  << "is unreadable; the messages are indexed from their headers";
        return entries;
    }
    const QString last = root.value(QStringLiteral("lastId")).toString();
    if (isValidId(last))
        *lastId = last;
    for (const QJsonValue &v : root.value(QStringLiteral("messages")).toArray()) {
        const QJsonObject o = v.toObject();
        Capture::StoredMessage m;
        m.id = o.value(QStringLiteral("id")).toString();
        m.received = fromIsoUtc(o.value(QStringLiteral("received")).toString());
        if (!isValidId(m.id) || !m.received.isValid())
            continue; // a damaged entry: its file is indexed from its header
        m.from = o.value(QStringLiteral("from")).toString();
        for (const QJsonValue &r : o.value(QStringLiteral("recipients")).toArray())
            m.recipients.append(r.toString());
        entries.insert(m.id, m);
    }
    return entries;
}

} // namespace

namespace Capture {

// ---------------------------------------------------------------- IncomingMessage

struct IncomingMessage::Private
{
    int fd = -1;
    QString path;
    QString from;
    QStringList recipients;
    qint64 size = 0;
    bool finished = false; // committed or discarded
    QString writeError;    // the first write error; commit refuses after one
};

IncomingMessage::~IncomingMessage()
{
    discard();
}

bool IncomingMessage::write(QByteArrayView bytes, QString *error)
{
    if (!d || d->finished) {
        setError(error, QStringLiteral("The message was already committed or discarded."));
        return false;
    }
    if (!d->writeError.isEmpty()) {
        setError(error, d->writeError);
        return false;
    }
    const char *p = bytes.data();
    qsizetype left = bytes.size();
    while (left > 0) {
        const ssize_t n = ::write(d->fd, p, size_t(left));
        if (n < 0) {
            const int err = errno;
            if (err == EINTR)
                continue;
            d->writeError = QStringLiteral("Cannot write %1: %2").arg(d->path, errnoText(err));
            setError(error, d->writeError);
            return false;
        }
        p += n;
        left -= n;
        d->size += n;
    }
    return true;
}

void IncomingMessage::discard()
{
    if (!d || d->finished)
        return;
    d->finished = true;
    if (d->fd >= 0) {
        ::close(d->fd);
        d->fd = -1;
    }
    if (::unlink(QFile::encodeName(d->path).constData()) != 0 && errno != ENOENT) {
        const int err = errno;
        qCWarning(lcCaptureStore) << "cannot remove" << d->path << errnoText(err);
    }
}

qint64 IncomingMessage::size() const
{
    return d ? d->size : 0;
}

// ---------------------------------------------------------------- the commit worker

namespace {

// What the store and its worker thread share. The folder names are set before
// the worker starts and never change while it runs.
struct Shared
{
    QString folder;
    QString incoming;
    QString databasePath;
    bool fts = false;
    std::atomic<qint64> maxMessages{0};
    std::atomic<qint64> maxBytes{0};
    // Copies of the totals row for count() and the quota replies, refreshed
    // after every write by whichever thread made it.
    std::atomic<qint64> messages{0};
    std::atomic<qint64> bytes{0};

    [[nodiscard]] QString pathFor(const QString &id) const
    {
        return folder + QLatin1Char('/') + id + QStringLiteral(".eml");
    }
};

// Lives on the store's worker thread; every member function runs there.
class CommitWorker : public QObject
{
public:
    CommitWorker(std::shared_ptr<Shared> shared, QString lastId)
        : m_shared(std::move(shared))
        , m_lastId(std::move(lastId))
    {
    }
    ~CommitWorker() override = default;
    Q_DISABLE_COPY_MOVE(CommitWorker)

    CommitResult commit(IncomingMessage::Private &in);
    void close()
    {
        m_inserter.reset(); // its statements go before their connection
        m_db.close();
    }

private:
    bool ensureOpen(QString *error);
    QString nextId(const QDateTime &now);
    bool deleteRow(const QString &id, QString *error);
    CommitResult failed(const QString &error)
    {
        CommitResult r;
        r.status = CommitResult::Status::Failed;
        r.error = error;
        return r;
    }

    std::shared_ptr<Shared> m_shared;
    QString m_lastId;
    Database m_db;
    std::unique_ptr<Inserter> m_inserter;
};

bool CommitWorker::ensureOpen(QString *error)
{
    if (m_db.isOpen())
        return true;
    if (!m_db.open(m_shared->databasePath, false, error))
        return false;
    for (const QString &pragma : {QStringLiteral("PRAGMA busy_timeout = %1").arg(kBusyTimeoutMs),
                                  QStringLiteral("PRAGMA foreign_keys = ON"),
                                  QStringLiteral("PRAGMA journal_size_limit = %1").arg(kJournalSizeLimit)}) {
        if (!m_db.exec(pragma, error)) {
            m_db.close();
            return false;
        }
    }
    return true;
}

// The next id after m_lastId, taking the time of `now` when it is later.
QString CommitWorker::nextId(const QDateTime &now)
{
    QString prefix = now.toUTC().toString(kIdTimeFormat);
    int counter = 1;
    const QRegularExpressionMatch last = idPattern().match(m_lastId);
    if (last.hasMatch() && prefix <= last.captured(1)) {
        // Same second, or the clock went back: continue after the last id.
        prefix = last.captured(1);
        counter = last.captured(2).toInt() + 1;
        if (counter > kCounterMax) {
            // More than a million in one second: borrow the next second rather
            // than widen the counter and break the string order.
            QDateTime t = QDateTime::fromString(prefix, kIdTimeFormat);
            t.setTimeSpec(Qt::UTC);
            prefix = t.addSecs(1).toString(kIdTimeFormat);
            counter = 1;
        }
    }
    m_lastId = prefix + QLatin1Char('-') + QStringLiteral("%1").arg(counter, kCounterDigits, 10, QLatin1Char('0'));
    return m_lastId;
}

bool CommitWorker::deleteRow(const QString &id, QString *error)
{
    QSqlQuery q(m_db.db());
    q.prepare(QStringLiteral("DELETE FROM messages WHERE id = ?"));
    q.addBindValue(id);
    if (!q.exec()) {
        setError(error, m_db.fail(QStringLiteral("cannot drop %1").arg(id), q.lastError()));
        return false;
    }
    return true;
}

CommitResult CommitWorker::commit(IncomingMessage::Private &in)
{
    if (!in.writeError.isEmpty())
        return failed(in.writeError);

    // Durable bytes before a durable name: the data must be on disk before the
    // link can make it visible, or a crash could leave a complete-looking but
    // empty .eml.
    if (::fsync(in.fd) != 0) {
        const int err = errno;
        return failed(QStringLiteral("Cannot write %1: %2").arg(in.path, errnoText(err)));
    }
    ::close(in.fd);
    in.fd = -1;

    const qint64 maxBytes = m_shared->maxBytes.load();
    if (maxBytes > 0 && in.size > maxBytes) {
        CommitResult r;
        r.status = CommitResult::Status::TooLarge;
        r.error = QStringLiteral("the message (%1 bytes) is larger than the store's quota of %2 bytes")
                      .arg(in.size)
                      .arg(maxBytes);
        return r;
    }

    QString error;
    if (!ensureOpen(&error))
        return failed(error);

    const MessageSummary summary = readSummary(in.path, m_shared->fts);
    StoredMessage stored;
    stored.received = QDateTime::currentDateTimeUtc();
    stored.from = in.from.isEmpty() ? summary.from : in.from; // RFC 5321 4.5.5: "<>" for bounces
    stored.recipients = in.recipients.isEmpty() ? summary.recipients : in.recipients;
    stored.subject = summary.subject;
    stored.size = in.size;

    const QByteArray tempName = QFile::encodeName(in.path);
    bool published = false;
    for (int attempt = 0; attempt < 16 && !published; ++attempt) {
        stored.id = nextId(stored.received);
        stored.path = m_shared->pathFor(stored.id);
        const QByteArray finalName = QFile::encodeName(stored.path);
        if (QFileInfo::exists(stored.path))
            continue; // a file dropped in under a name we would give

        // The row first, durably, in state 0: whatever happens after, open()
        // finds it and settles it with a look at one file.
        if (!m_db.exec(QStringLiteral("PRAGMA synchronous = FULL"), &error))
            return failed(error);
        {
            Transaction txn(m_db, &error);
            if (!txn.isOpen())
                return failed(error);
            const std::optional<Totals> totals = readTotals(m_db, &error);
            if (!totals)
                return failed(error);
            const qint64 maxMessages = m_shared->maxMessages.load();
            if ((maxMessages > 0 && totals->messages + 1 > maxMessages)
                || (maxBytes > 0 && totals->bytes + in.size > maxBytes)) {
                CommitResult r;
                r.status = CommitResult::Status::Full;
                r.error = QStringLiteral("the store is full (%1 messages, %2 bytes stored)")
                              .arg(totals->messages)
                              .arg(totals->bytes);
                return r;
            }
            if (!m_inserter)
                m_inserter = std::make_unique<Inserter>(m_db, m_shared->fts);
            if (!m_inserter->insert(stored, Pending, summary, &error)
                || !setMeta(m_db, QStringLiteral("last_id"), stored.id, &error) || !txn.commit(&error))
                return failed(error);
        }

        // link() never replaces an existing name, unlike rename(): a message
        // dropped in under the same id by another process survives.
        if (::link(tempName.constData(), finalName.constData()) == 0) {
            ::unlink(tempName.constData());
            published = true;
            break;
        }
        int err = errno;
        if (err == EPERM || err == ENOTSUP || err == EOPNOTSUPP || err == EXDEV) {
            // File systems without hard links (FAT, some FUSE): rename() after
            // the check above that the name is free; one writer per folder
            // makes that safe.
            if (::rename(tempName.constData(), finalName.constData()) == 0) {
                published = true;
                break;
            }
            err = errno;
        }
        const QString why = QStringLiteral("Cannot store %1: %2").arg(stored.path, errnoText(err));
        QString dropError;
        if (!deleteRow(stored.id, &dropError))
            qCWarning(lcCaptureStore).noquote() << dropError; // open() drops it: its file is not there
        if (err != EEXIST)
            return failed(why);
        // EEXIST: the name was taken between the check and the link; the next id.
    }
    if (!published)
        return failed(QStringLiteral("No free message id in %1.").arg(m_shared->folder));
    in.finished = true;

    // The link is made durable before anything says "stored".
    QString syncError;
    const bool synced = syncFolder(m_shared->folder, &syncError);
    if (synced && m_db.exec(QStringLiteral("PRAGMA synchronous = NORMAL"), &error)) {
        QSqlQuery q(m_db.db());
        q.prepare(QStringLiteral("UPDATE messages SET state = 1 WHERE id = ?"));
        q.addBindValue(stored.id);
        if (q.exec()) {
            if (const std::optional<Totals> totals = readTotals(m_db, nullptr)) {
                m_shared->messages = totals->messages;
                m_shared->bytes = totals->bytes;
            }
            CommitResult r;
            r.status = CommitResult::Status::Stored;
            r.message = stored;
            return r;
        }
        error = m_db.fail(QStringLiteral("cannot store %1").arg(stored.id), q.lastError());
    }
    if (!synced)
        error = syncError;
    // Not settled means not stored: take it back so the caller can refuse the
    // message (a 451 lets the client try again). If this fails too, the row is
    // still in state 0 and open() drops it, its file being gone.
    ::unlink(QFile::encodeName(stored.path).constData());
    QString dropError;
    if (!deleteRow(stored.id, &dropError))
        qCWarning(lcCaptureStore).noquote() << dropError;
    return failed(error);
}

} // namespace

// ---------------------------------------------------------------- MessageStore

struct MessageStore::Private
{
    std::shared_ptr<Shared> shared;
    Database db; // this thread's connection
    QThread *thread = nullptr;
    CommitWorker *worker = nullptr;
    StoreQuota quota;

    [[nodiscard]] bool isOpen() const { return shared && db.isOpen(); }

    void stopWorker()
    {
        if (!thread)
            return;
        // Queued after every commit already posted: they all finish first.
        CommitWorker *w = worker;
        QMetaObject::invokeMethod(
            w,
            [w] {
                w->close();
                QThread::currentThread()->quit();
            },
            Qt::QueuedConnection);
        thread->wait();
        delete worker;
        worker = nullptr;
        delete thread;
        thread = nullptr;
    }

    void close()
    {
        stopWorker();
        db.close();
        shared.reset();
    }

    void refreshTotals()
    {
        if (const std::optional<Totals> totals = readTotals(db, nullptr)) {
            shared->messages = totals->messages;
            shared->bytes = totals->bytes;
        }
    }

    bool openDatabase(const QString &path, QString *error);
    bool rebuild(QString *error);
    bool settle(QString *error);
    QList<StoredMessage> select(const QString &sql, const QVariantList &values) const;
};

// Opens the connection and sets it up; false when the file cannot be read as
// a database at all.
bool MessageStore::Private::openDatabase(const QString &path, QString *error)
{
    if (!db.open(path, false, error))
        return false;
    for (const QString &pragma : {QStringLiteral("PRAGMA busy_timeout = %1").arg(kBusyTimeoutMs),
                                  QStringLiteral("PRAGMA foreign_keys = ON"),
                                  QStringLiteral("PRAGMA synchronous = NORMAL"),
                                  QStringLiteral("PRAGMA journal_size_limit = %1").arg(kJournalSizeLimit)}) {
        if (!db.exec(pragma, error))
            return false;
    }
    return true;
}

// Indexes every .eml of the folder into a new database, in one transaction with
// the schema and its version: a kill midway leaves version 0, and the next
// open() starts again.
bool MessageStore::Private::rebuild(QString *error)
{
    const QString folder = shared->folder;
    if (!db.scalar(QStringLiteral("PRAGMA journal_mode = WAL"), error).isValid())
        return false;
    Transaction txn(db, error);
    if (!txn.isOpen())
        return false;
    // A file left at version 0 by an interrupted build may hold tables made
    // without a version (not by this code, which versions in the same
    // transaction): start from nothing.
    for (const char *table : {"messages_fts", "recipients", "messages", "totals", "meta"}) {
        if (!db.exec(QStringLiteral("DROP TABLE IF EXISTS %1").arg(QLatin1String(table)), error))
            return false;
    }
    if (!createSchema(db, shared->fts, error))
        return false;

    QDir dir(folder);
    QString lastId;
    const QHash<QString, StoredMessage> legacy = readLegacyIndex(dir.filePath(QLatin1String(kLegacyIndex)), &lastId);
    const QStringList emls = dir.entryList({QStringLiteral("*.eml")}, QDir::Files, QDir::Name);
    int indexed = 0;
    Inserter inserter(db, shared->fts);
    for (const QString &name : emls) {
        const QString id = name.chopped(4);
        if (!isValidId(id))
            continue; // not ours: a name we never give out
        const QString path = dir.absoluteFilePath(name);
        // Files of older versions were made 0600 too; tighten any that were not.
        ::chmod(QFile::encodeName(path).constData(), S_IRUSR | S_IWUSR);
        const MessageSummary summary = readSummary(path, shared->fts);
        StoredMessage m;
        m.id = id;
        m.size = QFileInfo(path).size();
        m.subject = summary.subject;
        const auto known = legacy.constFind(id);
        if (known != legacy.cend()) {
            m.received = known->received;
            m.from = known->from;
            m.recipients = known->recipients;
        } else {
            // The envelope is not in the file: the header's From, To and Cc stand in.
            m.received = timeOfId(id);
            m.from = summary.from;
            m.recipients = summary.recipients;
        }
        if (!inserter.insert(m, Stored, summary, error))
            return false;
        if (id > lastId)
            lastId = id;
        ++indexed;
    }
    if (!lastId.isEmpty() && !setMeta(db, QStringLiteral("last_id"), lastId, error))
        return false;
    if (!db.exec(QStringLiteral("PRAGMA user_version = %1").arg(kSchemaVersion), error))
        return false;
    if (!txn.commit(error))
        return false;
    if (!emls.isEmpty())
        qCInfo(lcCaptureStore) << "indexed" << indexed << "messages of" << folder;

    // What an older version kept beside the messages: its index (now in the
    // database) and the leftovers of writers it lost.
    const QStringList hidden = dir.entryList(QDir::Files | QDir::Hidden | QDir::System);
    for (const QString &name : hidden) {
        if (name == QLatin1String(kLegacyIndex) || name.startsWith(QLatin1String(kLegacyIncomingPrefix))
            || legacyIndexLeftoverPattern().match(name).hasMatch()) {
            if (!dir.remove(name))
                qCWarning(lcCaptureStore) << "cannot remove" << dir.filePath(name);
        }
    }
    return true;
}

// The rows a killed process left unsettled (a handful at most: the commits and
// removals that were in flight).
bool MessageStore::Private::settle(QString *error)
{
    struct Row
    {
        QString id;
        int state;
    };
    QList<Row> rows;
    {
        QSqlQuery q(db.db());
        if (!q.exec(QStringLiteral("SELECT id, state FROM messages WHERE state <> 1"))) {
            setError(error, db.fail(QStringLiteral("cannot read the unsettled messages"), q.lastError()));
            return false;
        }
        while (q.next())
            rows.append({q.value(0).toString(), q.value(1).toInt()});
    }
    if (rows.isEmpty())
        return true;
    Transaction txn(db, error);
    if (!txn.isOpen())
        return false;
    QSqlQuery keep(db.db());
    keep.prepare(QStringLiteral("UPDATE messages SET state = 1, size = ? WHERE id = ?"));
    QSqlQuery drop(db.db());
    drop.prepare(QStringLiteral("DELETE FROM messages WHERE id = ?"));
    for (const Row &row : std::as_const(rows)) {
        const QString path = shared->pathFor(row.id);
        if (row.state == Removing && ::unlink(QFile::encodeName(path).constData()) != 0 && errno != ENOENT) {
            // It would not go: listed again rather than listed never.
            const int err = errno;
            qCWarning(lcCaptureStore) << "cannot remove" << path << errnoText(err);
        }
        const QFileInfo file(path);
        if (file.isFile()) {
            // State 0 with its file: linked and synced before the kill.
            keep.bindValue(0, file.size());
            keep.bindValue(1, row.id);
            if (!keep.exec()) {
                setError(error, db.fail(QStringLiteral("cannot settle %1").arg(row.id), keep.lastError()));
                return false;
            }
        } else {
            drop.bindValue(0, row.id);
            if (!drop.exec()) {
                setError(error, db.fail(QStringLiteral("cannot settle %1").arg(row.id), drop.lastError()));
                return false;
            }
        }
    }
    return txn.commit(error);
}

QList<StoredMessage> MessageStore::Private::select(const QString &sql, const QVariantList &values) const
{
    QList<StoredMessage> out;
    if (!shared || !db.isOpen())
        return out;
    QSqlQuery q(db.db());
    q.setForwardOnly(true);
    q.prepare(sql);
    for (const QVariant &v : values)
        q.addBindValue(v);
    if (!q.exec()) {
        qCWarning(lcCaptureStore).noquote() << db.fail(QStringLiteral("cannot read"), q.lastError());
        return out;
    }
    while (q.next())
        out.append(fromRow(q, shared->folder));
    return out;
}

MessageStore::MessageStore(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
{
}

MessageStore::~MessageStore()
{
    d->close();
}

bool MessageStore::open(const QString &folder, QString *error)
{
    d->close();
    const auto failed = [&](const QString &why) {
        d->close();
        setError(error, why);
        return false;
    };

    if (folder.isEmpty())
        return failed(QStringLiteral("No folder given for the message store."));
    const QString path = QDir(folder).absolutePath();
    QString why;
    if (!makePrivateFolder(path, &why))
        return failed(why);
    const QFileInfo info(path);
    if (!info.isDir() || !info.isWritable())
        return failed(QStringLiteral("The folder %1 is not a writable folder.").arg(path));

    auto shared = std::make_shared<Shared>();
    shared->folder = path;
    shared->incoming = path + QLatin1Char('/') + QLatin1String(kIncomingDir);
    shared->databasePath = path + QLatin1Char('/') + QLatin1String(DatabaseName);
    shared->maxMessages = d->quota.maxMessages;
    shared->maxBytes = d->quota.maxBytes;
    d->shared = shared;

    // Messages that were being received when the last process died: never
    // complete, never acknowledged, so never kept.
    if (!makePrivateFolder(shared->incoming, &why))
        return failed(why);
    QDir incoming(shared->incoming);
    for (const QString &name : incoming.entryList(QDir::Files | QDir::Hidden | QDir::System)) {
        if (!incoming.remove(name))
            qCWarning(lcCaptureStore) << "cannot remove leftover" << incoming.filePath(name);
    }

    // The database and its journal files owner-only; made 0600 before SQLite
    // opens it, as SQLite gives the -wal and -shm files the main file's mode.
    for (const QString &suffix : {QString(), QStringLiteral("-wal"), QStringLiteral("-shm")}) {
        if (!makePrivateFile(shared->databasePath + suffix, suffix.isEmpty(), &why))
            return failed(why);
    }

    QVariant version;
    if (d->openDatabase(shared->databasePath, &why))
        version = d->db.scalar(QStringLiteral("PRAGMA user_version"), &why);
    if (!version.isValid()) {
        // Not a database, or damaged beyond reading its header: set aside (never
        // deleted: it may be worth a look) and rebuilt from the files.
        d->db.close();
        const QString aside = shared->databasePath + QStringLiteral(".unreadable-")
            + QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd'T'HHmmss"));
        qCWarning(lcCaptureStore).noquote() << why << "- moved to" << aside << "and rebuilt from the files";
        for (const QString &suffix : {QString(), QStringLiteral("-wal"), QStringLiteral("-shm")}) {
            const QByteArray from = QFile::encodeName(shared->databasePath + suffix);
            if (::rename(from.constData(), QFile::encodeName(aside + suffix).constData()) != 0 && errno != ENOENT)
                return failed(QStringLiteral("Cannot move the unreadable index %1 aside: %2")
                                  .arg(shared->databasePath + suffix, errnoText(errno)));
        }
        if (!makePrivateFile(shared->databasePath, true, &why) || !d->openDatabase(shared->databasePath, &why))
            return failed(why);
        version = d->db.scalar(QStringLiteral("PRAGMA user_version"), &why);
        if (!version.isValid())
            return failed(why);
    }
    if (version.toInt() > kSchemaVersion)
        return failed(QStringLiteral("The capture index %1 has schema version %2, newer than this build knows (%3); "
                                     "it was left untouched: use a newer SMTP Scope or another folder.")
                          .arg(shared->databasePath)
                          .arg(version.toInt())
                          .arg(kSchemaVersion));

    shared->fts = probeFts(d->db);
    if (version.toInt() == 0) {
        if (!d->rebuild(&why))
            return failed(why);
    } else {
        // A database made without FTS5 stays without it.
        shared->fts = shared->fts && d->db.hasTable(QStringLiteral("messages_fts"));
    }
    if (!d->settle(&why))
        return failed(why);

    // The greatest id handed out: the one remembered, or a greater one in the
    // table (a row never outlives its id's record, but a copied file might).
    QString lastId = d->db.scalar(QStringLiteral("SELECT coalesce(max(id), '') FROM messages"), &why).toString();
    {
        QSqlQuery q(d->db.db());
        q.prepare(QStringLiteral("SELECT value FROM meta WHERE key = 'last_id'"));
        if (q.exec() && q.next() && isValidId(q.value(0).toString()) && q.value(0).toString() > lastId)
            lastId = q.value(0).toString();
    }
    const std::optional<Totals> totals = readTotals(d->db, &why);
    if (!totals)
        return failed(why);
    shared->messages = totals->messages;
    shared->bytes = totals->bytes;
    // Journal files that existed before with a looser mode (SQLite keeps them).
    for (const QString &suffix : {QStringLiteral("-wal"), QStringLiteral("-shm")})
        makePrivateFile(shared->databasePath + suffix, false, nullptr);

    d->thread = new QThread;
    d->thread->setObjectName(QStringLiteral("capture-store"));
    d->worker = new CommitWorker(shared, lastId);
    d->worker->moveToThread(d->thread);
    d->thread->start();
    return true;
}

QString MessageStore::folder() const
{
    return d->shared ? d->shared->folder : QString();
}

void MessageStore::setQuota(const StoreQuota &quota)
{
    d->quota = quota;
    if (d->shared) {
        d->shared->maxMessages = quota.maxMessages;
        d->shared->maxBytes = quota.maxBytes;
    }
}

StoreQuota MessageStore::quota() const
{
    return d->quota;
}

std::unique_ptr<IncomingMessage> MessageStore::begin(const QString &from, const QStringList &recipients,
                                                     QString *error)
{
    if (!d->isOpen()) {
        setError(error, QStringLiteral("The message store is not open."));
        return nullptr;
    }
    std::unique_ptr<IncomingMessage> message(new IncomingMessage);
    message->d = std::make_unique<IncomingMessage::Private>();
    message->d->from = from;
    message->d->recipients = recipients;
    // A random name, created exclusively: several connections write at once.
    // Owner-only: captured mail can hold anything.
    int err = 0;
    for (int attempt = 0; attempt < 8; ++attempt) {
        message->d->path = d->shared->incoming + QLatin1Char('/')
            + QString::number(QRandomGenerator::global()->generate64(), 16);
        message->d->fd = ::open(QFile::encodeName(message->d->path).constData(),
                                O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, S_IRUSR | S_IWUSR);
        if (message->d->fd >= 0)
            return message;
        err = errno;
        if (err != EEXIST)
            break;
    }
    setError(error, QStringLiteral("Cannot create a file in %1: %2").arg(d->shared->incoming, errnoText(err)));
    message->d->finished = true; // nothing to remove
    return nullptr;
}

void MessageStore::commitAsync(std::unique_ptr<IncomingMessage> message, QObject *context,
                               std::function<void(const CommitResult &)> done)
{
    QPointer<QObject> guard(context);
    const auto deliver = [this, guard, done = std::move(done)](const CommitResult &result) {
        finishCommit(result);
        if (guard && done)
            done(result);
    };
    if (!message || !message->d || message->d->finished || !d->isOpen()) {
        CommitResult r;
        r.error = !d->isOpen() ? QStringLiteral("The message store is not open.")
                               : QStringLiteral("No message to commit.");
        // Still answered later, never from inside this call: the caller's state
        // is the same either way.
        QMetaObject::invokeMethod(this, [deliver, r] { deliver(r); }, Qt::QueuedConnection);
        return;
    }
    // Shared, not moved, into the job: a queued functor must be copyable.
    auto held = std::make_shared<std::unique_ptr<IncomingMessage>>(std::move(message));
    CommitWorker *worker = d->worker;
    // Runs on the worker thread; the result goes back to this object's thread.
    // The store outlives every job (its destructor waits for them), so `this`
    // is valid when the result is posted, and a result not yet delivered when
    // it is destroyed is dropped with it.
    QMetaObject::invokeMethod(
        worker,
        [this, worker, held, deliver] {
            const CommitResult result = worker->commit(*(*held)->d);
            held->reset(); // an uncommitted temporary file is removed here
            QMetaObject::invokeMethod(this, [deliver, result] { deliver(result); }, Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

CommitResult MessageStore::commitAndWait(std::unique_ptr<IncomingMessage> message)
{
    CommitResult result;
    if (!message || !message->d || message->d->finished) {
        result.error = QStringLiteral("No message to commit.");
        return result;
    }
    if (!d->isOpen()) {
        result.error = QStringLiteral("The message store is not open.");
        return result; // the unique_ptr going out of scope discards it
    }
    std::promise<CommitResult> promise;
    std::future<CommitResult> future = promise.get_future();
    CommitWorker *worker = d->worker;
    IncomingMessage *in = message.get();
    QMetaObject::invokeMethod(
        worker, [worker, in, &promise] { promise.set_value(worker->commit(*in->d)); }, Qt::QueuedConnection);
    result = future.get();
    message.reset();
    finishCommit(result);
    return result;
}

QString MessageStore::commit(std::unique_ptr<IncomingMessage> message, QString *error)
{
    const CommitResult result = commitAndWait(std::move(message));
    if (result.status == CommitResult::Status::Stored)
        return result.message.id;
    setError(error, result.error.isEmpty() ? QStringLiteral("The message was not stored.") : result.error);
    return {};
}

void MessageStore::finishCommit(const CommitResult &result)
{
    if (result.status == CommitResult::Status::Stored)
        Q_EMIT messageAdded(result.message);
}

qint64 MessageStore::count() const
{
    return d->shared ? d->shared->messages.load() : 0;
}

qint64 MessageStore::totalBytes() const
{
    return d->shared ? d->shared->bytes.load() : 0;
}

QList<StoredMessage> MessageStore::page(qint64 offset, int limit) const
{
    return d->select(QStringLiteral("SELECT %1 FROM messages AS m WHERE m.state = 1 ORDER BY m.id DESC"
                                    " LIMIT ? OFFSET ?")
                         .arg(kSelectColumns),
                     {std::max(0, limit), std::max<qint64>(0, offset)});
}

QList<StoredMessage> MessageStore::byRecipient(const QString &address, qint64 offset, int limit) const
{
    return d->select(QStringLiteral("SELECT %1 FROM recipients AS r JOIN messages AS m ON m.seq = r.message"
                                    " WHERE r.address = ? AND m.state = 1 ORDER BY r.message DESC LIMIT ? OFFSET ?")
                         .arg(kSelectColumns),
                     {address, std::max(0, limit), std::max<qint64>(0, offset)});
}

QList<StoredMessage> MessageStore::search(const QString &text, int limit) const
{
    // Words with something to find: "*" or "--" alone would match nothing
    // (and is no query FTS5 takes).
    QStringList words = text.split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts);
    words.removeIf([](const QString &w) {
        return std::none_of(w.cbegin(), w.cend(), [](QChar c) { return c.isLetterOrNumber(); });
    });
    if (words.isEmpty() || !d->shared)
        return {};
    if (!d->shared->fts) {
        QString where;
        QVariantList values;
        for (const QString &w : words) {
            where += QStringLiteral(" AND (m.subject LIKE ? ESCAPE '\\' OR m.sender LIKE ? ESCAPE '\\')");
            QString escaped = w;
            escaped.replace(u'\\', QStringLiteral("\\\\"))
                .replace(u'%', QStringLiteral("\\%"))
                .replace(u'_', QStringLiteral("\\_"));
            values << u'%' + escaped + u'%' << u'%' + escaped + u'%';
        }
        values << std::max(0, limit);
        return d->select(QStringLiteral("SELECT %1 FROM messages AS m WHERE m.state = 1%2 ORDER BY m.seq DESC LIMIT ?")
                             .arg(kSelectColumns, where),
                         values);
    }
    // Each word a quoted FTS5 string with a prefix match: what the user typed
    // is never FTS5 query syntax (a stray quote or AND cannot break the query).
    QStringList terms;
    for (QString w : words)
        terms << u'"' + w.replace(u'"', QStringLiteral("\"\"")) + QStringLiteral("\"*");
    return d->select(QStringLiteral("SELECT %1 FROM messages_fts AS f JOIN messages AS m ON m.seq = f.rowid"
                                    " WHERE messages_fts MATCH ? AND m.state = 1 ORDER BY m.seq DESC LIMIT ?")
                         .arg(kSelectColumns),
                     {terms.join(u' '), std::max(0, limit)});
}

QList<StoredMessage> MessageStore::messages() const
{
    return d->select(QStringLiteral("SELECT %1 FROM messages AS m WHERE m.state = 1 ORDER BY m.id").arg(kSelectColumns),
                     {});
}

std::optional<StoredMessage> MessageStore::message(const QString &id) const
{
    const QList<StoredMessage> one =
        d->select(QStringLiteral("SELECT %1 FROM messages AS m WHERE m.id = ? AND m.state = 1").arg(kSelectColumns),
                  {id});
    if (one.isEmpty())
        return std::nullopt;
    return one.first();
}

QByteArray MessageStore::bytes(const QString &id) const
{
    const std::optional<StoredMessage> m = message(id);
    if (!m)
        return {};
    QFile file(m->path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

bool MessageStore::setRead(const QString &id, bool read, QString *error)
{
    if (!d->isOpen()) {
        setError(error, QStringLiteral("The message store is not open."));
        return false;
    }
    QSqlQuery q(d->db.db());
    q.prepare(QStringLiteral("UPDATE messages SET is_read = ? WHERE id = ? AND state = 1"));
    q.addBindValue(read ? 1 : 0);
    q.addBindValue(id);
    if (!q.exec()) {
        setError(error, d->db.fail(QStringLiteral("cannot mark %1").arg(id), q.lastError()));
        return false;
    }
    if (q.numRowsAffected() != 1) {
        setError(error, QStringLiteral("No message %1.").arg(id));
        return false;
    }
    return true;
}

bool MessageStore::remove(const QString &id, QString *error)
{
    if (!d->isOpen()) {
        setError(error, QStringLiteral("The message store is not open."));
        return false;
    }
    {
        QSqlQuery q(d->db.db());
        q.prepare(QStringLiteral("UPDATE messages SET state = 2 WHERE id = ? AND state = 1"));
        q.addBindValue(id);
        if (!q.exec()) {
            setError(error, d->db.fail(QStringLiteral("cannot remove %1").arg(id), q.lastError()));
            return false;
        }
        if (q.numRowsAffected() != 1) {
            setError(error, QStringLiteral("No message %1.").arg(id));
            return false;
        }
    }
    const QString path = d->shared->pathFor(id);
    QSqlQuery q(d->db.db());
    if (::unlink(QFile::encodeName(path).constData()) != 0 && errno != ENOENT) {
        const QString why = QStringLiteral("Cannot remove %1: %2").arg(path, errnoText(errno));
        q.prepare(QStringLiteral("UPDATE messages SET state = 1 WHERE id = ?"));
        q.addBindValue(id);
        q.exec(); // if this fails, the next open() settles the row
        d->refreshTotals();
        setError(error, why);
        return false;
    }
    q.prepare(QStringLiteral("DELETE FROM messages WHERE id = ?"));
    q.addBindValue(id);
    const bool deleted = q.exec(); // if this fails, the next open() deletes the row in state 2
    if (!deleted)
        setError(error, d->db.fail(QStringLiteral("cannot remove %1").arg(id), q.lastError()));
    d->refreshTotals();
    // The file is gone whatever happened to the row: tell the views.
    Q_EMIT messageRemoved(id);
    return deleted;
}

bool MessageStore::clear(QString *error)
{
    if (!d->isOpen()) {
        setError(error, QStringLiteral("The message store is not open."));
        return false;
    }
    // Every stored message marked as being removed in one write: a kill from
    // here on finishes the clear at the next open(). Messages being committed
    // meanwhile (state 0) are not touched.
    if (!d->db.exec(QStringLiteral("UPDATE messages SET state = 2 WHERE state = 1"), error))
        return false;
    QStringList removed;
    QStringList kept;
    QString firstError;
    {
        QSqlQuery q(d->db.db());
        q.setForwardOnly(true);
        if (!q.exec(QStringLiteral("SELECT id FROM messages WHERE state = 2 ORDER BY id"))) {
            setError(error, d->db.fail(QStringLiteral("cannot clear"), q.lastError()));
            return false;
        }
        while (q.next()) {
            const QString id = q.value(0).toString();
            const QString path = d->shared->pathFor(id);
            if (::unlink(QFile::encodeName(path).constData()) != 0 && errno != ENOENT) {
                if (firstError.isEmpty())
                    firstError = QStringLiteral("Cannot remove %1: %2").arg(path, errnoText(errno));
                kept.append(id);
            } else {
                removed.append(id);
            }
        }
    }
    QString dbError;
    {
        Transaction txn(d->db, &dbError);
        bool ok = txn.isOpen();
        QSqlQuery back(d->db.db());
        back.prepare(QStringLiteral("UPDATE messages SET state = 1 WHERE id = ?"));
        for (const QString &id : std::as_const(kept)) {
            back.bindValue(0, id);
            ok = ok && back.exec();
        }
        ok = ok && d->db.exec(QStringLiteral("DELETE FROM messages WHERE state = 2"), &dbError) && txn.commit(&dbError);
        if (!ok && dbError.isEmpty())
            dbError = d->db.fail(QStringLiteral("cannot clear"), back.lastError());
    }
    d->refreshTotals();
    if (kept.isEmpty()) {
        Q_EMIT cleared();
    } else {
        // Some files would not go: the views drop only those that did.
        for (const QString &id : std::as_const(removed))
            Q_EMIT messageRemoved(id);
    }
    if (!firstError.isEmpty()) {
        setError(error, firstError);
        return false;
    }
    if (!dbError.isEmpty()) {
        setError(error, dbError);
        return false;
    }
    return true;
}

bool MessageStore::list(const QString &folder, const std::function<bool(const StoredMessage &)> &each, QString *error)
{
    const QString path = QDir(folder).absolutePath();
    const QString databasePath = path + QLatin1Char('/') + QLatin1String(DatabaseName);
    if (!QFileInfo(databasePath).isFile()) {
        setError(error, QStringLiteral("No capture index in %1 (nothing was captured there yet, or the folder was "
                                       "written by an older version and not opened by a server since).")
                            .arg(path));
        return false;
    }
    Database db;
    if (!db.open(databasePath, true, error))
        return false;
    QString why;
    const QVariant version = db.scalar(QStringLiteral("PRAGMA user_version"), &why);
    if (!version.isValid()) {
        setError(error, why);
        return false;
    }
    if (version.toInt() != kSchemaVersion) {
        setError(error, QStringLiteral("The capture index %1 has schema version %2; this build reads version %3.")
                            .arg(databasePath)
                            .arg(version.toInt())
                            .arg(kSchemaVersion));
        return false;
    }
    QSqlQuery q(db.db());
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT %1 FROM messages AS m WHERE m.state = 1 ORDER BY m.id").arg(kSelectColumns))) {
        setError(error, db.fail(QStringLiteral("cannot read"), q.lastError()));
        return false;
    }
    while (q.next()) {
        if (!each(fromRow(q, path)))
            break;
    }
    return true;
}

} // namespace Capture
