// How the store stays consistent when the process dies at any instruction:
//
//  1. begin() creates ".incoming-<random>" (mode 0600) in the store's folder; the
//     bytes go there as they arrive.
//  2. commit() flushes and fsyncs that file, hard-links it to "<id>.eml" (link()
//     fails instead of overwriting, so an id can never clobber a message), unlinks
//     the temporary name and fsyncs the folder so the new name is durable too.
//  3. Only then is the entry added to index.json, rewritten whole with QSaveFile
//     (write a temporary file, sync, rename over the old one).
//
// A kill before 2 leaves only an ".incoming-*" file, deleted by the next open().
// A kill between 2 and 3 leaves an .eml the index does not know: open() indexes it
// again from its header block. index.json is either the old or the new version,
// never a mix; if it is unreadable anyway (edited by hand, a disk error) it is
// rebuilt from the .eml files rather than refusing to open.
//
// Ids are "yyyyMMddTHHmmss-NNNNNN" (UTC, then a counter within that second), so
// their string order is their arrival order. The last id handed out is kept in
// the index and recomputed from the file names on open, and every new id is made
// greater than it: ids stay unique after a restart in the same second, after the
// newest message was removed, and when the clock steps back.

#include "messagestore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSaveFile>

#include "mime/gmimesupport.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace {

Q_LOGGING_CATEGORY(lcCaptureStore, "smtpscope.capture.store")

constexpr auto kIndexName = "index.json";
constexpr auto kIncomingPrefix = ".incoming-";
constexpr int kIndexFormat = 1;
// The header block read for the list columns; a header larger than this is
// unusual enough that the fields after it may go unlisted.
constexpr qint64 kHeaderReadLimit = 64 * 1024;
constexpr int kCounterDigits = 6;
constexpr int kCounterMax = 999999;
const QString kIdTimeFormat = QStringLiteral("yyyyMMdd'T'HHmmss");

const QRegularExpression &idPattern()
{
    static const QRegularExpression re(QStringLiteral("^(\\d{8}T\\d{6})-(\\d{6})$"));
    return re;
}

// What QSaveFile leaves behind if killed before its rename ("index.json.AbCdEf")
// when the platform gives it no unnamed temporary file.
const QRegularExpression &indexLeftoverPattern()
{
    static const QRegularExpression re(QStringLiteral("^index\\.json\\.[A-Za-z0-9]{6}$"));
    return re;
}

bool isValidId(const QString &id)
{
    return idPattern().match(id).hasMatch();
}

QString errnoText()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}

void setError(QString *error, const QString &text)
{
    if (error)
        *error = text;
}

// fsync of the folder makes a rename or link inside it durable, not only the data
// of the file renamed.
bool syncFolder(const QString &folder)
{
    const int fd = ::open(QFile::encodeName(folder).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

// The fields of the header block the list shows. Only the header block is read
// (RFC 5322 2.1: header fields, then an empty line, then the body).
struct HeaderSummary
{
    QString from;           // addr-specs of From
    QStringList recipients; // addr-specs of To and Cc
    QString subject;        // decoded
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

HeaderSummary readHeaderSummary(const QString &path)
{
    HeaderSummary summary;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return summary;
    QByteArray block = file.read(kHeaderReadLimit);
    file.close();

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
            // RFC 2047 encoded words; raw 8-bit text (RFC 6532) is taken as UTF-8
            // with GMime's fallback charsets.
            char *decoded = g_mime_utils_header_decode_text(nullptr, value.constData());
            summary.subject = decoded ? QString::fromUtf8(decoded) : QString::fromUtf8(value);
            g_free(decoded);
        } else if (name == "from" && !haveFrom) {
            haveFrom = true;
            summary.from = parseAddresses(value).join(QStringLiteral(", "));
        } else if (name == "to" || name == "cc") {
            summary.recipients += parseAddresses(value);
        }
    }
    return summary;
}

QJsonObject toJson(const Capture::StoredMessage &m)
{
    QJsonObject o;
    o.insert(QStringLiteral("id"), m.id);
    o.insert(QStringLiteral("received"), m.received.toString(Qt::ISODateWithMs));
    o.insert(QStringLiteral("from"), m.from);
    o.insert(QStringLiteral("recipients"), QJsonArray::fromStringList(m.recipients));
    o.insert(QStringLiteral("subject"), m.subject);
    o.insert(QStringLiteral("size"), m.size);
    return o;
}

std::optional<Capture::StoredMessage> fromJson(const QJsonValue &value)
{
    if (!value.isObject())
        return std::nullopt;
    const QJsonObject o = value.toObject();
    Capture::StoredMessage m;
    m.id = o.value(QStringLiteral("id")).toString();
    if (!isValidId(m.id))
        return std::nullopt;
    m.received = QDateTime::fromString(o.value(QStringLiteral("received")).toString(), Qt::ISODateWithMs);
    if (!m.received.isValid())
        return std::nullopt;
    m.received = m.received.toUTC();
    m.from = o.value(QStringLiteral("from")).toString();
    for (const QJsonValue &r : o.value(QStringLiteral("recipients")).toArray())
        m.recipients.append(r.toString());
    m.subject = o.value(QStringLiteral("subject")).toString();
    m.size = o.value(QStringLiteral("size")).toInteger(-1);
    return m;
}

} // namespace

namespace Capture {

// ---------------------------------------------------------------- IncomingMessage

struct IncomingMessage::Private
{
    QFile file;
    QString from;
    QStringList recipients;
    qint64 size = 0;
    bool finished = false; // committed or discarded
    QString writeError;    // the first write error; commit() refuses after one
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
    if (bytes.isEmpty())
        return true;
    const qint64 n = d->file.write(bytes.data(), bytes.size());
    if (n != bytes.size()) {
        d->writeError = QStringLiteral("Cannot write %1: %2").arg(d->file.fileName(), d->file.errorString());
        setError(error, d->writeError);
        return false;
    }
    d->size += n;
    return true;
}

void IncomingMessage::discard()
{
    if (!d || d->finished)
        return;
    d->finished = true;
    d->file.close();
    if (!d->file.remove())
        qCWarning(lcCaptureStore) << "cannot remove" << d->file.fileName() << d->file.errorString();
}

qint64 IncomingMessage::size() const
{
    return d ? d->size : 0;
}

// ---------------------------------------------------------------- MessageStore

struct MessageStore::Private
{
    QString folder;              // absolute, empty until open() succeeds
    QList<StoredMessage> messages; // sorted by id = arrival order
    QString lastId;              // the greatest id ever handed out in this folder

    [[nodiscard]] QString pathFor(const QString &id) const
    {
        return folder + QLatin1Char('/') + id + QStringLiteral(".eml");
    }

    [[nodiscard]] qsizetype indexOf(const QString &id) const
    {
        const auto it = std::lower_bound(messages.cbegin(), messages.cend(), id,
                                         [](const StoredMessage &m, const QString &key) { return m.id < key; });
        return (it != messages.cend() && it->id == id) ? it - messages.cbegin() : -1;
    }

    // The next id after lastId, taking the time of `now` when it is later.
    QString nextId(const QDateTime &now)
    {
        QString prefix = now.toUTC().toString(kIdTimeFormat);
        int counter = 1;
        const QRegularExpressionMatch last = idPattern().match(lastId);
        if (last.hasMatch() && prefix <= last.captured(1)) {
            // Same second, or the clock went back: continue after the last id.
            prefix = last.captured(1);
            counter = last.captured(2).toInt() + 1;
            if (counter > kCounterMax) {
                // More than a million in one second: borrow the next second
                // rather than widen the counter and break the string order.
                QDateTime t = QDateTime::fromString(prefix, kIdTimeFormat);
                t.setTimeSpec(Qt::UTC);
                prefix = t.addSecs(1).toString(kIdTimeFormat);
                counter = 1;
            }
        }
        lastId = prefix + QLatin1Char('-') + QStringLiteral("%1").arg(counter, kCounterDigits, 10, QLatin1Char('0'));
        return lastId;
    }

    bool writeIndex(QString *error) const
    {
        QJsonArray list;
        for (const StoredMessage &m : messages)
            list.append(toJson(m));
        QJsonObject root;
        root.insert(QStringLiteral("format"), kIndexFormat);
        root.insert(QStringLiteral("lastId"), lastId);
        root.insert(QStringLiteral("messages"), list);

        QSaveFile file(folder + QLatin1Char('/') + QLatin1String(kIndexName));
        if (!file.open(QIODevice::WriteOnly)) {
            setError(error, QStringLiteral("Cannot write the index %1: %2").arg(file.fileName(), file.errorString()));
            return false;
        }
        const QByteArray json = QJsonDocument(root).toJson(QJsonDocument::Indented);
        if (file.write(json) != json.size() || !file.commit()) {
            setError(error, QStringLiteral("Cannot write the index %1: %2").arg(file.fileName(), file.errorString()));
            return false;
        }
        syncFolder(folder);
        return true;
    }
};

MessageStore::MessageStore(QObject *parent) : QObject(parent), d(std::make_unique<Private>()) {}

MessageStore::~MessageStore() = default;

bool MessageStore::open(const QString &folder, QString *error)
{
    d->folder.clear();
    d->messages.clear();
    d->lastId.clear();

    if (folder.isEmpty()) {
        setError(error, QStringLiteral("No folder given for the message store."));
        return false;
    }
    const QString path = QDir(folder).absolutePath();
    if (!QDir().mkpath(path)) {
        setError(error, QStringLiteral("Cannot create the folder %1.").arg(path));
        return false;
    }
    const QFileInfo info(path);
    if (!info.isDir() || !info.isWritable()) {
        setError(error, QStringLiteral("The folder %1 is not a writable folder.").arg(path));
        return false;
    }
    QDir dir(path);

    // Messages that were being received when the last process died: never
    // complete, never acknowledged, so never kept.
    const QStringList hidden = dir.entryList(QDir::Files | QDir::Hidden | QDir::System);
    for (const QString &name : hidden) {
        if (name.startsWith(QLatin1String(kIncomingPrefix)) || indexLeftoverPattern().match(name).hasMatch()) {
            if (!dir.remove(name))
                qCWarning(lcCaptureStore) << "cannot remove leftover" << dir.filePath(name);
        }
    }

    // The index, if it reads; otherwise everything comes from the files below.
    bool rewrite = false;
    QList<StoredMessage> indexed;
    QString indexLastId;
    QFile indexFile(dir.filePath(QLatin1String(kIndexName)));
    if (indexFile.exists()) {
        bool readable = false;
        if (indexFile.open(QIODevice::ReadOnly)) {
            QJsonParseError parseError;
            const QJsonDocument doc = QJsonDocument::fromJson(indexFile.readAll(), &parseError);
            const QJsonObject root = doc.object();
            if (parseError.error == QJsonParseError::NoError && doc.isObject()
                && root.value(QStringLiteral("format")).toInt() == kIndexFormat
                && root.value(QStringLiteral("messages")).isArray()) {
                readable = true;
                indexLastId = root.value(QStringLiteral("lastId")).toString();
                if (!isValidId(indexLastId))
                    indexLastId.clear();
                for (const QJsonValue &v : root.value(QStringLiteral("messages")).toArray()) {
                    if (const auto m = fromJson(v))
                        indexed.append(*m);
                    else
                        rewrite = true; // a damaged entry: its file is indexed again below
                }
            }
        }
        if (!readable) {
            qCWarning(lcCaptureStore) << "index" << indexFile.fileName() << "is unreadable; rebuilding it from the files";
            rewrite = true;
        }
    } else {
        rewrite = true;
    }

    // Entries whose .eml still exists; sizes from the files themselves.
    QHash<QString, qsizetype> known;
    for (StoredMessage &m : indexed) {
        if (known.contains(m.id)) {
            rewrite = true;
            continue;
        }
        const QFileInfo file(dir.filePath(m.id + QStringLiteral(".eml")));
        if (!file.isFile()) {
            rewrite = true; // the message was deleted behind our back
            continue;
        }
        m.path = file.absoluteFilePath();
        if (m.size != file.size()) {
            m.size = file.size();
            rewrite = true;
        }
        known.insert(m.id, d->messages.size());
        d->messages.append(m);
    }

    // .eml files the index does not know (a kill between the rename and the index
    // rewrite, or a rebuilt index). The envelope is not in the file, so the list
    // shows the header's From, To and Cc instead.
    QString greatest = indexLastId;
    const QStringList emls = dir.entryList({QStringLiteral("*.eml")}, QDir::Files, QDir::Name);
    for (const QString &name : emls) {
        const QString id = name.chopped(4);
        if (!isValidId(id))
            continue; // not ours: a name we never give out
        if (id > greatest)
            greatest = id;
        if (known.contains(id))
            continue;
        StoredMessage m;
        m.id = id;
        m.path = dir.absoluteFilePath(name);
        m.size = QFileInfo(m.path).size();
        m.received = QDateTime::fromString(idPattern().match(id).captured(1), kIdTimeFormat);
        m.received.setTimeSpec(Qt::UTC);
        const HeaderSummary header = readHeaderSummary(m.path);
        m.from = header.from;
        m.recipients = header.recipients;
        m.subject = header.subject;
        d->messages.append(m);
        rewrite = true;
    }
    for (const StoredMessage &m : std::as_const(d->messages)) {
        if (m.id > greatest)
            greatest = m.id;
    }
    std::sort(d->messages.begin(), d->messages.end(),
              [](const StoredMessage &a, const StoredMessage &b) { return a.id < b.id; });
    d->lastId = greatest;
    d->folder = path;

    if (rewrite && !d->writeIndex(error)) {
        d->folder.clear();
        d->messages.clear();
        return false;
    }
    return true;
}

QString MessageStore::folder() const
{
    return d->folder;
}

std::unique_ptr<IncomingMessage> MessageStore::begin(const QString &from, const QStringList &recipients,
                                                     QString *error)
{
    if (d->folder.isEmpty()) {
        setError(error, QStringLiteral("The message store is not open."));
        return nullptr;
    }
    std::unique_ptr<IncomingMessage> message(new IncomingMessage);
    message->d = std::make_unique<IncomingMessage::Private>();
    message->d->from = from;
    message->d->recipients = recipients;
    // A random name, created exclusively (NewOnly): several connections write at
    // once. Owner-only: captured mail can hold anything.
    for (int attempt = 0; attempt < 8; ++attempt) {
        const QString name = QLatin1String(kIncomingPrefix)
            + QString::number(QRandomGenerator::global()->generate64(), 16);
        message->d->file.setFileName(d->folder + QLatin1Char('/') + name);
        if (message->d->file.open(QIODevice::WriteOnly | QIODevice::NewOnly,
                                  QFileDevice::ReadOwner | QFileDevice::WriteOwner))
            return message;
        if (message->d->file.error() != QFileDevice::OpenError || !message->d->file.exists())
            break; // not a name collision
    }
    setError(error, QStringLiteral("Cannot create a file in %1: %2").arg(d->folder, message->d->file.errorString()));
    message->d->finished = true; // nothing to remove
    return nullptr;
}

QString MessageStore::commit(std::unique_ptr<IncomingMessage> message, QString *error)
{
    if (!message || !message->d || message->d->finished) {
        setError(error, QStringLiteral("No message to commit."));
        return {};
    }
    if (d->folder.isEmpty()) {
        setError(error, QStringLiteral("The message store is not open."));
        return {}; // the unique_ptr going out of scope discards it
    }
    IncomingMessage::Private &in = *message->d;
    if (!in.writeError.isEmpty()) {
        setError(error, in.writeError);
        return {};
    }

    // Durable bytes before a durable name: the data must be on disk before the
    // rename can make it visible, or a crash could leave a complete-looking but
    // empty .eml.
    if (!in.file.flush() || ::fsync(in.file.handle()) != 0) {
        setError(error, QStringLiteral("Cannot write %1: %2").arg(in.file.fileName(), in.file.errorString()));
        return {};
    }
    in.file.close();
    const QString tempPath = in.file.fileName();
    const HeaderSummary header = readHeaderSummary(tempPath);

    StoredMessage stored;
    stored.received = QDateTime::currentDateTimeUtc();
    const QByteArray tempName = QFile::encodeName(tempPath);
    bool published = false;
    for (int attempt = 0; attempt < 16 && !published; ++attempt) {
        stored.id = d->nextId(stored.received);
        stored.path = d->pathFor(stored.id);
        const QByteArray finalName = QFile::encodeName(stored.path);
        // link() never replaces an existing name, unlike rename(): a message
        // dropped in under the same id by another process survives.
        if (::link(tempName.constData(), finalName.constData()) == 0) {
            ::unlink(tempName.constData());
            published = true;
        } else if (errno == EEXIST) {
            continue;
        } else if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP || errno == EXDEV) {
            // File systems without hard links (FAT, some FUSE): rename() after
            // checking the name is free; one writer per folder makes that safe.
            if (QFileInfo::exists(stored.path))
                continue;
            if (::rename(tempName.constData(), finalName.constData()) == 0) {
                published = true;
            } else {
                setError(error, QStringLiteral("Cannot store %1: %2").arg(stored.path, errnoText()));
                return {};
            }
        } else {
            setError(error, QStringLiteral("Cannot store %1: %2").arg(stored.path, errnoText()));
            return {};
        }
    }
    if (!published) {
        setError(error, QStringLiteral("No free message id in %1.").arg(d->folder));
        return {};
    }
    in.finished = true;
    syncFolder(d->folder);

    stored.from = in.from.isEmpty() ? header.from : in.from; // RFC 5321 4.5.5: "<>" for bounces
    stored.recipients = in.recipients.isEmpty() ? header.recipients : in.recipients;
    stored.subject = header.subject;
    stored.size = QFileInfo(stored.path).size();

    d->messages.append(stored); // ids only grow: the list stays sorted
    if (!d->writeIndex(error)) {
        // Not indexed means not stored: take it back so the caller can refuse the
        // message (a 451 lets the client try again) instead of accepting a
        // message the next open() would list with only its header addresses.
        d->messages.removeLast();
        QFile::remove(stored.path);
        return {};
    }
    Q_EMIT messageAdded(stored);
    return stored.id;
}

QList<StoredMessage> MessageStore::messages() const
{
    return d->messages;
}

std::optional<StoredMessage> MessageStore::message(const QString &id) const
{
    const qsizetype i = d->indexOf(id);
    if (i < 0)
        return std::nullopt;
    return d->messages.at(i);
}

QByteArray MessageStore::bytes(const QString &id) const
{
    const qsizetype i = d->indexOf(id);
    if (i < 0)
        return {};
    QFile file(d->messages.at(i).path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

bool MessageStore::remove(const QString &id, QString *error)
{
    const qsizetype i = d->indexOf(id);
    if (i < 0) {
        setError(error, QStringLiteral("No message %1.").arg(id));
        return false;
    }
    QFile file(d->messages.at(i).path);
    if (file.exists() && !file.remove()) {
        setError(error, QStringLiteral("Cannot remove %1: %2").arg(file.fileName(), file.errorString()));
        return false;
    }
    d->messages.removeAt(i);
    // The file is gone whatever happens to the index: tell the views. A stale
    // index entry is dropped by the next open().
    const bool indexed = d->writeIndex(error);
    Q_EMIT messageRemoved(id);
    return indexed;
}

bool MessageStore::clear(QString *error)
{
    if (d->folder.isEmpty()) {
        setError(error, QStringLiteral("The message store is not open."));
        return false;
    }
    QString firstError;
    QList<StoredMessage> kept;
    QStringList removed;
    for (const StoredMessage &m : std::as_const(d->messages)) {
        QFile file(m.path);
        if (file.exists() && !file.remove()) {
            if (firstError.isEmpty())
                firstError = QStringLiteral("Cannot remove %1: %2").arg(m.path, file.errorString());
            kept.append(m);
        } else {
            removed.append(m.id);
        }
    }
    d->messages = kept;
    // lastId stays: ids are never given out twice, even after a clear.
    const bool indexed = d->writeIndex(firstError.isEmpty() ? error : nullptr);
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
    return indexed;
}

} // namespace Capture
