#include "emlmessage.h"

#include "regularfile.h"
#include "protocol/dataencoder.h"
#include "protocol/validation.h"

#include <QByteArray>
#include <QFile>
#include <QFileInfo>
#include <QIODevice>
#include <QList>
#include <QPair>
#include <QSet>

#include <algorithm>
#include <cstring>
#include <utility>

#include "gmimesupport.h"

// How it works
// ------------
// A message file is sent as it is, with two changes (RFC 5322 3.6.3: Bcc and
// Resent-Bcc would show the blind recipients to everyone; RFC 5322 2.3 and
// RFC 5321 2.3.8: lines end with CRLF, never a bare CR or LF). EmlTransform makes
// those changes as a stream: the file goes through it in 64 KiB chunks, and the
// little it must remember between chunks (a CR that ended a chunk, whether the
// header block is over, the start of a field name not yet long enough to tell
// whether it is Bcc, whether the current field is being dropped) lives in its
// members. load() runs it once to count the transmitted bytes and look for 8-bit
// octets; openBody() runs it again, chunk by chunk, as the engine reads.
//
// The envelope comes from a second, tiny reader of the header block only
// (HeaderCollector), which unfolds the fields that matter and hands them to GMime's
// address and encoded-word parsers.

namespace {

constexpr qint64 kChunk = 64 * 1024;
// A field that names the envelope, longer than this, is refused: no real header is
// near it, and it bounds the memory a hostile file can make load() take.
constexpr qsizetype kMaxCollectedField = 1024 * 1024;
constexpr qsizetype kMaxCollectedTotal = 4 * 1024 * 1024;
// RFC 5322 2.1.1: no line is longer than 998 octets. A "Bcc" followed by more
// white space than that before its colon is not waited for any longer: the line is
// dropped as the Bcc field it most likely is (leaking blind recipients is the
// worse mistake), and the held bytes stay bounded.
constexpr qsizetype kMaxHeldName = 998;

using MimeSupport::ensureGMime;

bool isWsp(char c)
{
    return c == ' ' || c == '\t';
}

// RFC 5322 3.6.8: ftext is printable US-ASCII except ':'.
bool isFtext(char c)
{
    return c >= 33 && c <= 126 && c != ':';
}

char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

bool any8Bit(const char *p, qsizetype n)
{
    // Eight octets at a time: the 200 MB case scans fast even in a debug build.
    for (; n >= 8; p += 8, n -= 8) {
        quint64 w;
        std::memcpy(&w, p, 8);
        if (w & 0x8080808080808080ull)
            return true;
    }
    for (; n > 0; ++p, --n) {
        if (static_cast<unsigned char>(*p) & 0x80)
            return true;
    }
    return false;
}

const char *findByte(const char *from, const char *end, char byte)
{
    const void *hit = std::memchr(from, byte, size_t(end - from));
    return hit ? static_cast<const char *>(hit) : end;
}

// The file-to-wire transform. feed() may be given any split of the file; the
// output does not depend on where the splits fall.
class EmlTransform
{
public:
    template <typename Sink>
    void feed(const char *p, const char *const end, Sink &&sink)
    {
        static const char crlf[2] = {'\r', '\n'};
        // Next CR and LF, found once and kept until passed (as Smtp::DataEncoder
        // does): a chunk of bare CRs is not rescanned for the next LF each line.
        const char *nextCr = nullptr;
        const char *nextLf = nullptr;
        auto lineBreak = [&]() {
            if (!nextCr || nextCr < p)
                nextCr = findByte(p, end, '\r');
            if (!nextLf || nextLf < p)
                nextLf = findByte(p, end, '\n');
            return nextCr < nextLf ? nextCr : nextLf;
        };

        while (p < end) {
            if (m_pendingCr) {
                // The CR that ended the previous chunk was the whole line break
                // unless this LF completes it.
                m_pendingCr = false;
                if (*p == '\n') {
                    ++p;
                    continue;
                }
            }
            switch (m_line) {
            case Line::Start: {
                const char c = *p;
                if (c == '\r' || c == '\n') {
                    // RFC 5322 2.1: the first empty line ends the header block;
                    // everything after it is body and only gets CRLF line ends.
                    m_inHeaders = false;
                    m_line = Line::Copy;
                } else if (isWsp(c)) {
                    // RFC 5322 2.2.3: a line starting with white space continues
                    // the field above it, and goes (or is dropped) with it.
                    m_line = m_droppingField ? Line::Skip : Line::Copy;
                } else {
                    m_line = Line::Name;
                    m_held.clear();
                    m_nameLength = 0;
                    m_sawWsp = false;
                    m_couldDrop = true;
                }
                break;
            }
            case Line::Name:
                p = name(p, end, sink);
                break;
            case Line::Copy:
            case Line::Skip: {
                const char *brk = lineBreak();
                if (m_line == Line::Copy && brk > p)
                    sink(p, qsizetype(brk - p));
                if (brk == end) {
                    p = end;
                    break;
                }
                if (m_line == Line::Copy)
                    sink(crlf, 2);
                p = Smtp::skipLineBreak(brk, end, &m_pendingCr);
                if (m_inHeaders)
                    m_line = Line::Start;
                break;
            }
            }
        }
    }

    // End of file: a partial field name held back is sent (the line is no field).
    template <typename Sink>
    void finish(Sink &&sink)
    {
        if (m_line == Line::Name && !m_held.isEmpty())
            sink(m_held.constData(), m_held.size());
        m_held.clear();
    }

    [[nodiscard]] qint64 fieldCount() const { return m_fields; }

private:
    enum class Line {
        Start, // at the start of a header line: not yet known what it is
        Name,  // reading what may be a field name
        Copy,  // the rest of the line goes out as it is
        Skip,  // the rest of the line is dropped (a Bcc or Resent-Bcc field)
    };

    // Whether m_held (lower-cased as compared) can still grow into "bcc" or
    // "resent-bcc", and whether it is one of them already.
    [[nodiscard]] bool heldIsPrefix() const
    {
        return matches("bcc", false) || matches("resent-bcc", false);
    }
    [[nodiscard]] bool heldIsBccName() const { return matches("bcc", true) || matches("resent-bcc", true); }
    [[nodiscard]] bool matches(const char *name, bool whole) const
    {
        const qsizetype len = qsizetype(std::strlen(name));
        if (m_nameLength > len || (whole && m_nameLength != len))
            return false;
        for (qsizetype i = 0; i < m_nameLength; ++i) {
            if (lower(m_held.at(i)) != name[i])
                return false;
        }
        return true;
    }

    template <typename Sink>
    void release(Sink &&sink)
    {
        if (!m_held.isEmpty())
            sink(m_held.constData(), m_held.size());
        m_held.clear();
        m_couldDrop = false;
    }

    // RFC 5322 3.6.8 (and the obsolete form of 4.5.3 that allows white space
    // before the colon): field-name = 1*ftext, then *WSP ":". Returns where to
    // go on from.
    template <typename Sink>
    const char *name(const char *p, const char *end, Sink &&sink)
    {
        for (; p < end; ++p) {
            const char c = *p;
            if (c == ':' && m_nameLength > 0) {
                ++m_fields;
                if (m_couldDrop && heldIsBccName()) {
                    m_held.clear();
                    m_droppingField = true;
                    m_line = Line::Skip;
                    return p + 1;
                }
                release(sink);
                m_droppingField = false;
                m_line = Line::Copy; // the colon goes out with the rest of the line
                return p;
            }
            if (isFtext(c) && !m_sawWsp) {
                ++m_nameLength;
                if (m_couldDrop) {
                    m_held.append(c);
                    if (!heldIsPrefix())
                        release(sink);
                } else if (m_fields > 0) {
                    break; // no Bcc, and whether it is a field no longer matters
                } else {
                    sink(p, 1);
                }
                continue;
            }
            if (isWsp(c)) {
                m_sawWsp = true;
                if (m_couldDrop && heldIsBccName()) {
                    m_held.append(c);
                    if (m_held.size() > kMaxHeldName) {
                        m_held.clear();
                        m_droppingField = true;
                        m_line = Line::Skip;
                        return p + 1;
                    }
                } else if (m_couldDrop) {
                    release(sink);
                    sink(p, 1);
                } else if (m_fields > 0) {
                    break;
                } else {
                    sink(p, 1);
                }
                continue;
            }
            break; // a line break, or a character no field name has: not a field
        }
        if (p < end) {
            // Not a field (or no longer of interest): the line goes out as it is.
            release(sink);
            m_droppingField = false;
            m_line = Line::Copy;
        }
        return p;
    }

    bool m_inHeaders = true;
    bool m_pendingCr = false;     // the last chunk ended with a CR
    bool m_droppingField = false; // the current field is dropped, folded lines too
    Line m_line = Line::Start;
    QByteArray m_held;            // start of a line that may be "Bcc" / "Resent-Bcc"
    qsizetype m_nameLength = 0;
    bool m_sawWsp = false;
    bool m_couldDrop = false;
    qint64 m_fields = 0;
};

// Counts what the transform produces and notes 8-bit octets.
struct Tally
{
    qint64 bytes = 0;
    bool eightBit = false;
    void operator()(const char *p, qsizetype n)
    {
        bytes += n;
        if (!eightBit)
            eightBit = any8Bit(p, n);
    }
};

// The fields of the header block that name the envelope or are shown, unfolded
// (RFC 5322 2.2.3: unfolding removes the line breaks, the white space stays).
class HeaderCollector
{
public:
    struct Field
    {
        QByteArray name; // lower case
        QByteArray value;
    };

    // Takes the next bytes of the file; does nothing once the header block ended.
    void feed(const char *p, const char *const end)
    {
        const char *nextCr = nullptr; // kept until passed: no rescan per line
        const char *nextLf = nullptr;
        while (p < end && !m_done) {
            if (m_pendingCr) {
                m_pendingCr = false;
                if (*p == '\n') {
                    ++p;
                    continue;
                }
            }
            if (!nextCr || nextCr < p)
                nextCr = findByte(p, end, '\r');
            if (!nextLf || nextLf < p)
                nextLf = findByte(p, end, '\n');
            const char *brk = nextCr < nextLf ? nextCr : nextLf;
            append(p, brk);
            if (brk == end)
                return;
            if (*brk == '\r') {
                if (brk + 1 == end)
                    m_pendingCr = true;
                else if (brk[1] == '\n')
                    ++brk;
            }
            p = brk + 1;
            endLine();
        }
    }
    // End of file: the last line may have no line break.
    void finish()
    {
        if (!m_done && (!m_line.isEmpty() || m_lineTooLong))
            endLine();
        m_done = true;
    }

    [[nodiscard]] const QList<Field> &fields() const { return m_fields; }
    [[nodiscard]] QString error() const { return m_error; }

private:
    void append(const char *from, const char *to)
    {
        const qsizetype room = kMaxCollectedField + 1 - m_line.size();
        const qsizetype n = std::min<qsizetype>(room, to - from);
        if (n > 0)
            m_line.append(from, n);
        if (n < to - from)
            m_lineTooLong = true;
    }

    static bool wanted(const QByteArray &name)
    {
        return name == "from" || name == "sender" || name == "to" || name == "cc" || name == "bcc"
            || name == "subject";
    }

    void endLine()
    {
        const QByteArray line = std::exchange(m_line, QByteArray());
        const bool tooLong = std::exchange(m_lineTooLong, false) || line.size() > kMaxCollectedField;
        if (line.isEmpty() && !tooLong) {
            m_done = true; // RFC 5322 2.1: the empty line ends the header block
            return;
        }
        if (isWsp(line.at(0))) {
            if (m_current >= 0)
                addTo(m_current, line, tooLong);
            return;
        }
        m_current = -1;
        qsizetype i = 0;
        while (i < line.size() && isFtext(line.at(i)))
            ++i;
        const qsizetype nameEnd = i;
        while (i < line.size() && isWsp(line.at(i)))
            ++i;
        if (nameEnd == 0 || i >= line.size() || line.at(i) != ':')
            return; // not a field
        const QByteArray name = line.left(nameEnd).toLower();
        if (!wanted(name))
            return;
        m_fields.append({name, QByteArray()});
        m_current = int(m_fields.size() - 1);
        addTo(m_current, line.mid(i + 1), tooLong);
    }

    void addTo(int index, const QByteArray &text, bool tooLong)
    {
        Field &f = m_fields[index];
        if (tooLong || f.value.size() + text.size() > kMaxCollectedField) {
            fail(QStringLiteral("its %1 field is longer than %2 bytes")
                     .arg(QString::fromLatin1(f.name))
                     .arg(kMaxCollectedField));
            return;
        }
        m_total += text.size();
        if (m_total > kMaxCollectedTotal) {
            fail(QStringLiteral("its address and subject fields add up to more than %1 bytes").arg(kMaxCollectedTotal));
            return;
        }
        f.value += text;
    }

    void fail(const QString &why)
    {
        if (m_error.isEmpty())
            m_error = why;
        m_done = true;
    }

    QList<Field> m_fields;
    QByteArray m_line;
    bool m_lineTooLong = false;
    bool m_pendingCr = false;
    bool m_done = false;
    int m_current = -1;
    qsizetype m_total = 0;
    QString m_error;
};

// Frees GLib-allocated strings and GObjects on every path.
struct GFreeString
{
    char *p;
    ~GFreeString() { g_free(p); }
};

struct AddressList
{
    InternetAddressList *list;
    explicit AddressList(const QByteArray &value) : list(internet_address_list_parse(nullptr, value.constData())) { }
    ~AddressList()
    {
        if (list)
            g_object_unref(list);
    }
    AddressList(const AddressList &) = delete;
    AddressList &operator=(const AddressList &) = delete;
};

// The addr-specs of a parsed list, groups opened (RFC 5322 3.4: a group's members
// are its addresses; "undisclosed-recipients:;" has none).
void collectAddrSpecs(InternetAddressList *list, QStringList &out)
{
    if (!list)
        return;
    const int n = internet_address_list_length(list);
    for (int i = 0; i < n; ++i) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            if (addr && *addr)
                out.append(QString::fromUtf8(addr));
        } else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            collectAddrSpecs(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out);
        }
    }
}

QString decodeText(const QByteArray &raw)
{
    GFreeString s{g_mime_utils_header_decode_text(nullptr, raw.constData())};
    return QString::fromUtf8(s.p ? s.p : "").trimmed();
}

// A From field for display: names decoded (RFC 2047), quoted where RFC 5322 needs it.
QString displayAddresses(const QByteArray &raw)
{
    AddressList parsed(raw);
    if (!parsed.list || internet_address_list_length(parsed.list) == 0)
        return decodeText(raw);
    GFreeString s{internet_address_list_to_string(parsed.list, nullptr, FALSE)};
    return QString::fromUtf8(s.p ? s.p : "").trimmed();
}

SmtpError messageError(const QString &step, const QString &text)
{
    return SmtpError::make(SmtpError::Category::Message, QStringLiteral("MESSAGE-ERROR"), step, text);
}

bool unchangedSince(const QString &path, qint64 size, const QDateTime &modified)
{
    const QFileInfo fi(path);
    return fi.exists() && fi.size() == size && fi.lastModified() == modified;
}

QString changedText(const QString &path)
{
    return QStringLiteral("the message file %1 changed since it was loaded: load it again").arg(path);
}

// The stream openBody() returns: reads the file in chunks, transforms each, and
// hands the result out as asked. Sequential; memory is two chunks whatever the size.
class EmlStream : public QIODevice
{
public:
    EmlStream(const QString &path, qint64 fileSize, const QDateTime &modified, qint64 size)
        : m_file(path)
        , m_path(path)
        , m_fileSize(fileSize)
        , m_modified(modified)
        , m_size(size)
    {
        m_in.resize(kChunk);
    }

    bool start()
    {
        QString why;
        if (!RegularFile::open(&m_file, &why))
            return false;
        return open(QIODevice::ReadOnly | QIODevice::Unbuffered);
    }

    [[nodiscard]] bool isSequential() const override { return true; }
    [[nodiscard]] qint64 bytesAvailable() const override
    {
        return qint64(m_out.size() - m_outPos) + QIODevice::bytesAvailable();
    }
    [[nodiscard]] bool atEnd() const override { return m_eof && !m_failed && bytesAvailable() == 0; }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        if (m_failed)
            return -1;
        qint64 done = 0;
        while (done < maxSize) {
            const qsizetype ready = m_out.size() - m_outPos;
            if (ready > 0) {
                const qsizetype n = qsizetype(std::min<qint64>(ready, maxSize - done));
                std::memcpy(data + done, m_out.constData() + m_outPos, size_t(n));
                m_outPos += n;
                done += n;
                continue;
            }
            if (m_eof)
                break;
            if (!refill()) {
                m_failed = true;
                // What was produced before the failure is handed out; the next
                // read reports the error.
                return done > 0 ? done : -1;
            }
        }
        return done;
    }

    qint64 writeData(const char *, qint64) override { return -1; }

private:
    bool fail(const QString &why)
    {
        setErrorString(why);
        m_out.clear();
        m_outPos = 0;
        return false;
    }

    bool refill()
    {
        m_out.resize(0);
        m_outPos = 0;
        auto sink = [this](const char *p, qsizetype n) { m_out.append(p, n); };
        if (!unchangedSince(m_path, m_fileSize, m_modified))
            return fail(changedText(m_path));
        const qint64 n = m_file.read(m_in.data(), m_in.size());
        if (n < 0)
            return fail(QStringLiteral("cannot read the message file %1: %2").arg(m_path, m_file.errorString()));
        if (n == 0) {
            m_transform.finish(sink);
            m_produced += m_out.size();
            m_eof = true;
            if (m_read != m_fileSize || m_produced != m_size)
                return fail(changedText(m_path));
            return true;
        }
        m_read += n;
        if (m_read > m_fileSize)
            return fail(changedText(m_path));
        m_transform.feed(m_in.constData(), m_in.constData() + n, sink);
        m_produced += m_out.size();
        return true;
    }

    QFile m_file;
    QString m_path;
    qint64 m_fileSize;
    QDateTime m_modified;
    qint64 m_size;
    EmlTransform m_transform;
    QByteArray m_in;
    QByteArray m_out;
    qsizetype m_outPos = 0;
    qint64 m_read = 0;
    qint64 m_produced = 0;
    bool m_eof = false;
    bool m_failed = false;
};

} // namespace

std::unique_ptr<EmlMessage> EmlMessage::load(const QString &path, QString *error)
{
    auto fail = [&](const QString &why) {
        if (error)
            *error = why;
        return std::unique_ptr<EmlMessage>();
    };

    const QFileInfo fi(path);
    if (!fi.exists())
        return fail(QStringLiteral("the message file %1 does not exist").arg(path));
    // A regular file only, opened without blocking: its size is the message's
    // (regularfile.h); a FIFO or a device is refused, never waited on.
    QFile file(path);
    QString why;
    if (!RegularFile::open(&file, &why))
        return fail(QStringLiteral("the message file %1 %2").arg(path, why));
    const qint64 fileSize = file.size();
    const QDateTime modified = fi.lastModified();
    if (fileSize == 0)
        return fail(QStringLiteral("the message file %1 is empty").arg(path));

    // One pass: the header fields for the envelope, and the transmitted size.
    HeaderCollector headers;
    EmlTransform transform;
    Tally tally;
    QByteArray buffer(kChunk, Qt::Uninitialized);
    qint64 read = 0;
    for (;;) {
        const qint64 n = file.read(buffer.data(), buffer.size());
        if (n < 0)
            return fail(QStringLiteral("cannot read the message file %1: %2").arg(path, file.errorString()));
        if (n == 0)
            break;
        read += n;
        headers.feed(buffer.constData(), buffer.constData() + n);
        transform.feed(buffer.constData(), buffer.constData() + n, tally);
    }
    headers.finish();
    transform.finish(tally);
    if (read != fileSize || !unchangedSince(path, fileSize, modified))
        return fail(QStringLiteral("the message file %1 changed while it was being read").arg(path));
    if (!headers.error().isEmpty())
        return fail(QStringLiteral("the message file %1 cannot be used: %2").arg(path, headers.error()));
    if (transform.fieldCount() == 0) {
        return fail(QStringLiteral("the message file %1 has no header fields: a message starts with lines such "
                                   "as \"From: ...\" and \"To: ...\" (RFC 5322 2.1)")
                        .arg(path));
    }

    std::unique_ptr<EmlMessage> m(new EmlMessage);
    m->m_path = path;
    m->m_fileSize = fileSize;
    m->m_fileModified = modified;
    m->m_size = tally.bytes;
    m->m_has8Bit = tally.eightBit;

    ensureGMime();
    QStringList from;
    QStringList sender;
    QStringList recipients;
    QStringList fromDisplay;
    bool haveFrom = false;
    bool haveSubject = false;
    for (const HeaderCollector::Field &f : headers.fields()) {
        if (f.name == "subject") {
            // RFC 5322 3.6.5: at most one Subject; the first one is shown.
            if (!haveSubject)
                m->m_subject = decodeText(f.value);
            haveSubject = true;
            continue;
        }
        AddressList parsed(f.value);
        if (f.name == "from") {
            haveFrom = true;
            collectAddrSpecs(parsed.list, from);
            fromDisplay.append(displayAddresses(f.value));
        } else if (f.name == "sender") {
            collectAddrSpecs(parsed.list, sender);
        } else {
            collectAddrSpecs(parsed.list, recipients);
        }
    }
    m->m_fromHeader = fromDisplay.join(QStringLiteral(", "));
    // RFC 6532 3.2: a UTF-8 local part in the header fields may only travel with
    // SMTPUTF8, whatever the envelope says.
    auto utf8Local = [](const QString &a) {
        const QStringView local = QStringView(a).left(std::max<qsizetype>(0, a.lastIndexOf(QLatin1Char('@'))));
        return std::any_of(local.begin(), local.end(), [](QChar c) { return c.unicode() > 127; });
    };
    for (const QStringList *list : {&from, &sender, &recipients})
        m->m_headerUtf8 = m->m_headerUtf8 || std::any_of(list->begin(), list->end(), utf8Local);

    // RFC 5321 3.3 / RFC 5322 3.6.2: the reverse-path is the author's mailbox; when
    // From names several authors, Sender names the one who sent it.
    if (from.size() == 1) {
        m->m_headerSender = from.constFirst();
    } else if (from.size() > 1 && !sender.isEmpty()) {
        m->m_headerSender = sender.constFirst();
    } else if (from.size() > 1) {
        m->m_senderProblem = QStringLiteral("the From field names %1 mailboxes and there is no Sender field to say "
                                            "which one sends (RFC 5322 3.6.2): give the envelope sender")
                                 .arg(from.size());
    } else if (haveFrom) {
        m->m_senderProblem = QStringLiteral("the From field has no address: give the envelope sender");
    } else {
        m->m_senderProblem = QStringLiteral("the message has no From field: give the envelope sender");
    }

    // RFC 5321 3.3: every To, Cc and Bcc address gets one RCPT TO; the same
    // mailbox twice would get the message twice.
    QSet<QString> seen;
    for (const QString &r : std::as_const(recipients)) {
        const QString key = r.toCaseFolded();
        if (seen.contains(key))
            continue;
        seen.insert(key);
        m->m_headerRecipients.append(r);
    }
    return m;
}

void EmlMessage::setEnvelopeSender(const QString &address)
{
    m_senderOverride = address;
}

void EmlMessage::setEnvelopeRecipients(const QStringList &addresses)
{
    m_recipientsOverride = addresses;
}

QString EmlMessage::envelopeSender() const
{
    return m_senderOverride.isEmpty() ? m_headerSender : m_senderOverride;
}

QStringList EmlMessage::envelopeRecipients() const
{
    return m_recipientsOverride.isEmpty() ? m_headerRecipients : m_recipientsOverride;
}

SmtpError EmlMessage::checkSendPossible() const
{
    if (!QFileInfo::exists(m_path)) {
        return messageError(QStringLiteral("message"),
                            QStringLiteral("the message file %1 no longer exists").arg(m_path));
    }
    if (!unchangedSince(m_path, m_fileSize, m_fileModified))
        return messageError(QStringLiteral("message"), changedText(m_path));

    const QString sender = envelopeSender();
    if (sender.isEmpty())
        return messageError(QStringLiteral("MAIL FROM"), m_senderProblem);
    QString why;
    if (!Smtp::parseMailbox(sender, u"sender address", &why))
        return messageError(QStringLiteral("MAIL FROM"), why);

    const QStringList recipients = envelopeRecipients();
    if (recipients.isEmpty()) {
        return messageError(QStringLiteral("RCPT TO"),
                            QStringLiteral("the message has no recipient: no To, Cc or Bcc field names an "
                                           "address; give the recipients"));
    }
    for (const QString &r : recipients) {
        if (!Smtp::parseMailbox(r, u"recipient address", &why))
            return messageError(QStringLiteral("RCPT TO"), why);
    }
    return {};
}

qint64 EmlMessage::size(const BodyOptions &) const
{
    return m_size;
}

bool EmlMessage::has8BitContent(const BodyOptions &) const
{
    return m_has8Bit;
}

std::unique_ptr<QIODevice> EmlMessage::openBody(const BodyOptions &) const
{
    if (!unchangedSince(m_path, m_fileSize, m_fileModified))
        return nullptr;
    auto stream = std::make_unique<EmlStream>(m_path, m_fileSize, m_fileModified, m_size);
    if (!stream->start())
        return nullptr;
    return stream;
}
