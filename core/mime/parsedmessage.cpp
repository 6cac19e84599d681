// How it works: the bytes are first checked against the bounds (size, then a
// cheap line scan that over-estimates MIME nesting, so that GMime's recursive
// parser never builds a tree thousands deep), then parsed by GMime into
// its object tree, which is copied into ParsedPart values (decoded headers,
// decoded bodies) while the exact nesting depth is checked. After that nothing
// refers to GMime any more: the result is plain data that can be copied freely.

#include "parsedmessage.h"

#include <QTimeZone>
#include <QUrl>

#include "gmimesupport.h"

#include <functional>

using MimeSupport::ensureGMime;
using MimeSupport::GRef;

QString ParsedPart::header(const QString &name) const
{
    for (const auto &field : headers) {
        if (field.first.compare(name, Qt::CaseInsensitive) == 0)
            return field.second;
    }
    return {};
}

namespace {

// The line scan only has to keep GMime's recursion shallow; the exact limit is
// applied on the parsed tree. It over-counts (a "Content-Type: multipart/..."
// line inside a body counts too), so it allows a wide margin above MaxDepth.
constexpr int PrescanLimit = ParsedMessage::MaxDepth * 4;

struct FreeString
{
    char *p;
    explicit FreeString(char *s) : p(s) {}
    ~FreeString() { g_free(p); }
    FreeString(const FreeString &) = delete;
    FreeString &operator=(const FreeString &) = delete;
    [[nodiscard]] QString toQString() const { return p ? QString::fromUtf8(p) : QString(); }
};

QString fromUtf8(const char *s)
{
    return s ? QString::fromUtf8(s) : QString();
}

QByteArray trimmedRight(QByteArrayView line)
{
    qsizetype end = line.size();
    while (end > 0 && (line[end - 1] == '\r' || line[end - 1] == '\n' || line[end - 1] == ' ' || line[end - 1] == '\t'))
        --end;
    return line.first(end).toByteArray();
}

// The boundary parameter of a Content-Type value (RFC 2046 5.1.1), quoted or not.
QByteArray boundaryOf(const QByteArray &lowerValue, const QByteArray &value)
{
    const qsizetype at = lowerValue.indexOf("boundary=");
    if (at < 0)
        return {};
    qsizetype i = at + 9;
    QByteArray out;
    if (i < value.size() && value[i] == '"') {
        ++i;
        while (i < value.size() && value[i] != '"')
            out.append(value[i++]);
    } else {
        while (i < value.size() && value[i] != ';' && value[i] != ' ' && value[i] != '\t' && value[i] != '\r'
               && value[i] != '\n')
            out.append(value[i++]);
    }
    return out;
}

// An upper estimate of the nesting depth: a stack of open multiparts (by
// boundary) and message/* parts; a delimiter line of an open boundary closes
// everything opened inside it (RFC 2046 5.1.1).
int estimatedNesting(const QByteArray &bytes)
{
    struct Open
    {
        QByteArray boundary; // empty: a message/* part
    };
    QList<Open> stack;
    int deepest = 0;
    qsizetype pos = 0;
    const qsizetype n = bytes.size();
    auto nextLine = [&](qsizetype from) {
        const qsizetype nl = bytes.indexOf('\n', from);
        return nl < 0 ? n : nl + 1;
    };
    while (pos < n) {
        const qsizetype end = nextLine(pos);
        const QByteArrayView line(bytes.constData() + pos, end - pos);
        if (line.startsWith("--") && !stack.isEmpty()) {
            const QByteArray text = trimmedRight(line);
            for (qsizetype k = stack.size() - 1; k >= 0; --k) {
                const QByteArray &b = stack[k].boundary;
                if (b.isEmpty())
                    continue;
                const QByteArray delimiter = "--" + b;
                if (text == delimiter || text == delimiter + "--") {
                    stack.resize(text == delimiter ? k + 1 : k);
                    break;
                }
            }
            pos = end;
            continue;
        }
        if (line.size() > 13 && qstrnicmp(line.data(), "content-type:", 13) == 0) {
            // Unfold the field (RFC 5322 2.2.3) to find a boundary on a later line.
            QByteArray value = line.sliced(13).toByteArray();
            qsizetype next = end;
            while (next < n && (bytes[next] == ' ' || bytes[next] == '\t') && value.size() < 4096) {
                const qsizetype e = nextLine(next);
                value += bytes.mid(next, e - next);
                next = e;
            }
            const QByteArray lower = value.trimmed().toLower();
            if (lower.startsWith("multipart/")) {
                const QByteArray b = boundaryOf(lower, value.trimmed());
                stack.append(Open{b.isEmpty() ? QByteArray("\n") : b});
            } else if (lower.startsWith("message/rfc822") || lower.startsWith("message/global")) {
                stack.append(Open{});
            }
            deepest = std::max(deepest, int(stack.size()));
            if (deepest > PrescanLimit)
                return deepest;
            pos = next;
            continue;
        }
        pos = end;
    }
    return deepest;
}

QList<QPair<QString, QString>> decodedHeaders(GMimeObject *object)
{
    QList<QPair<QString, QString>> out;
    GMimeHeaderList *list = g_mime_object_get_header_list(object);
    if (!list)
        return out;
    const int count = g_mime_header_list_get_count(list);
    for (int i = 0; i < count; ++i) {
        GMimeHeader *header = g_mime_header_list_get_header_at(list, i);
        const char *raw = g_mime_header_get_raw_value(header);
        // RFC 2047 6.1: encoded-words are decoded for display; the raw value keeps
        // them, so decode it here (unfolding first, RFC 5322 2.2.3).
        QByteArray unfolded = QByteArray(raw ? raw : "").replace("\r\n", "\n").replace('\n', "").trimmed();
        FreeString decoded(g_mime_utils_header_decode_text(nullptr, unfolded.constData()));
        out.append({fromUtf8(g_mime_header_get_name(header)), decoded.toQString()});
    }
    return out;
}

QByteArray decodedContent(GMimePart *part)
{
    GMimeDataWrapper *content = g_mime_part_get_content(part);
    if (!content)
        return {};
    GRef<GMimeStream> stream(g_mime_stream_mem_new());
    // Undoes the Content-Transfer-Encoding (RFC 2045 6: base64, quoted-printable, uuencode).
    if (g_mime_data_wrapper_write_to_stream(content, stream.get()) < 0)
        return {};
    GByteArray *array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream.get()));
    if (!array)
        return {};
    return QByteArray(reinterpret_cast<const char *>(array->data), qsizetype(array->len));
}

struct Converter
{
    QString error;
    QString prologue; // of a multipart with no parts found: what a broken boundary leaves

    bool convert(GMimeObject *object, int depth, ParsedPart *out)
    {
        if (depth > ParsedMessage::MaxDepth) {
            error = QStringLiteral("MIME structure nested deeper than %1 levels: refused").arg(ParsedMessage::MaxDepth);
            return false;
        }
        out->depth = depth;
        GMimeContentType *type = g_mime_object_get_content_type(object);
        if (type) {
            FreeString mimeType(g_mime_content_type_get_mime_type(type));
            out->contentType = mimeType.toQString().toLower();
            out->charset = fromUtf8(g_mime_content_type_get_parameter(type, "charset"));
        }
        if (out->contentType.isEmpty())
            out->contentType = QStringLiteral("text/plain"); // RFC 2045 5.2 default
        out->disposition = fromUtf8(g_mime_object_get_disposition(object)).toLower();
        out->contentId = fromUtf8(g_mime_object_get_content_id(object));
        out->headers = decodedHeaders(object);

        if (GMIME_IS_MULTIPART(object)) {
            GMimeMultipart *multipart = GMIME_MULTIPART(object);
            const int count = g_mime_multipart_get_count(multipart);
            if (count == 0 && prologue.isEmpty())
                prologue = fromUtf8(g_mime_multipart_get_prologue(multipart));
            for (int i = 0; i < count; ++i) {
                ParsedPart child;
                if (!convert(g_mime_multipart_get_part(multipart, i), depth + 1, &child))
                    return false;
                out->children.append(std::move(child));
            }
        } else if (GMIME_IS_MESSAGE_PART(object)) {
            // RFC 2046 5.2.1: the embedded message is a whole message; its root
            // part becomes the one child, carrying the embedded message's header.
            GMimeMessage *embedded = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
            if (embedded) {
                ParsedPart child;
                GMimeObject *body = g_mime_message_get_mime_part(embedded);
                if (body) {
                    if (!convert(body, depth + 1, &child))
                        return false;
                } else {
                    child.depth = depth + 1;
                    child.contentType = QStringLiteral("text/plain");
                }
                child.headers = decodedHeaders(GMIME_OBJECT(embedded));
                out->children.append(std::move(child));
            }
        } else if (GMIME_IS_PART(object)) {
            GMimePart *part = GMIME_PART(object);
            // GMime decodes RFC 2231 parameters (and RFC 2047 words some mailers
            // put inside quotes) and falls back to Content-Type's name.
            out->filename = fromUtf8(g_mime_part_get_filename(part));
            out->body = decodedContent(part);
            if (GMIME_IS_TEXT_PART(object)) {
                FreeString text(g_mime_text_part_get_text(GMIME_TEXT_PART(object)));
                out->text = text.toQString();
            }
        }
        return true;
    }
};

void walk(const ParsedPart &part, const std::function<void(const ParsedPart &)> &visit)
{
    visit(part);
    for (const ParsedPart &child : part.children)
        walk(child, visit);
}

QString addressText(InternetAddressList *list)
{
    if (!list || internet_address_list_length(list) == 0)
        return {};
    FreeString text(internet_address_list_to_string(list, nullptr, FALSE));
    return text.toQString();
}

} // namespace

bool ParsedMessage::parse(const QByteArray &bytes, QString *error)
{
    *this = ParsedMessage();
    auto fail = [error](const QString &text) {
        if (error)
            *error = text;
        return false;
    };
    if (bytes.size() > MaxInputSize)
        return fail(QStringLiteral("Message of %1 bytes is larger than the %2 MiB that are parsed: refused")
                        .arg(bytes.size())
                        .arg(MaxInputSize / (1024 * 1024)));
    if (estimatedNesting(bytes) > PrescanLimit)
        return fail(QStringLiteral("MIME structure nested deeper than %1 levels: refused").arg(MaxDepth));

    ensureGMime();
    GRef<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(bytes.constData(), size_t(bytes.size())));
    GRef<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
    GRef<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
    if (!message.get())
        return fail(QStringLiteral("Not a message: no header block could be read"));

    Converter converter;
    GMimeObject *body = g_mime_message_get_mime_part(message.get());
    if (body) {
        if (!converter.convert(body, 0, &m_root))
            return fail(converter.error);
    } else {
        m_root.contentType = QStringLiteral("text/plain");
    }

    m_headers = decodedHeaders(GMIME_OBJECT(message.get()));
    m_subject = fromUtf8(g_mime_message_get_subject(message.get()));
    m_from = addressText(g_mime_message_get_from(message.get()));
    m_to = addressText(g_mime_message_get_to(message.get()));
    m_cc = addressText(g_mime_message_get_cc(message.get()));
    for (const auto &field : std::as_const(m_headers)) {
        if (field.first.compare(QLatin1String("Date"), Qt::CaseInsensitive) == 0) {
            m_dateText = field.second;
            break;
        }
    }
    if (GDateTime *date = g_mime_message_get_date(message.get())) {
        const qint64 seconds = g_date_time_to_unix(date);
        const int offset = int(g_date_time_get_utc_offset(date) / G_TIME_SPAN_SECOND);
        m_date = QDateTime::fromSecsSinceEpoch(seconds, QTimeZone(offset));
    }

    // The bodies a reader sees: the first inline text/plain and text/html leaves.
    const QList<const ParsedPart *> parts = allParts();
    for (int i = 0; i < parts.size(); ++i) {
        const ParsedPart *part = parts[i];
        if (!part->isLeaf() || part->disposition == QLatin1String("attachment"))
            continue;
        if (m_plainIndex < 0 && part->contentType == QLatin1String("text/plain")) {
            m_plainIndex = i;
            m_plainBody = part->text;
        } else if (m_htmlIndex < 0 && part->contentType == QLatin1String("text/html")) {
            m_htmlIndex = i;
            m_htmlBody = part->text;
        }
    }
    // A multipart whose boundary never appears has no parts; its text is all in
    // the prologue (RFC 2046 5.1.1 "preamble"), which is better shown than lost.
    if (m_plainIndex < 0 && m_htmlIndex < 0 && !converter.prologue.isEmpty())
        m_plainBody = converter.prologue;

    m_valid = true;
    return true;
}

QList<const ParsedPart *> ParsedMessage::allParts() const
{
    QList<const ParsedPart *> out;
    walk(m_root, [&out](const ParsedPart &part) { out.append(&part); });
    return out;
}

QList<const ParsedPart *> ParsedMessage::attachments() const
{
    QList<const ParsedPart *> out;
    const QList<const ParsedPart *> parts = allParts();
    for (int i = 0; i < parts.size(); ++i) {
        const ParsedPart *part = parts[i];
        if (i == m_plainIndex || i == m_htmlIndex || !part->isLeaf())
            continue;
        // RFC 2183: "attachment", or anything with a filename; besides those, a
        // non-text leaf (an inline image) is a file the user may want to save.
        if (part->disposition == QLatin1String("attachment") || !part->filename.isEmpty()
            || !part->contentType.startsWith(QLatin1String("text/")))
            out.append(part);
    }
    return out;
}

QString ParsedMessage::attachmentName(const ParsedPart *part) const
{
    if (!part)
        return {};
    if (!part->filename.isEmpty())
        return part->filename;
    const QList<const ParsedPart *> parts = allParts();
    const qsizetype index = parts.indexOf(part);
    const QString subtype = part->contentType.section(QLatin1Char('/'), 1);
    return QStringLiteral("part-%1.%2").arg(index).arg(subtype.isEmpty() ? QStringLiteral("bin") : subtype);
}

const ParsedPart *ParsedMessage::partByContentId(const QString &cid) const
{
    // RFC 2392 2: a cid URL is the Content-ID's addr-spec, %hh-escaped.
    QString wanted = QUrl::fromPercentEncoding(cid.toUtf8());
    if (wanted.startsWith(QLatin1Char('<')) && wanted.endsWith(QLatin1Char('>')))
        wanted = wanted.mid(1, wanted.size() - 2);
    if (wanted.isEmpty())
        return nullptr;
    const ParsedPart *caseInsensitive = nullptr;
    for (const ParsedPart *part : allParts()) {
        if (part->contentId == wanted)
            return part;
        if (!caseInsensitive && part->contentId.compare(wanted, Qt::CaseInsensitive) == 0)
            caseInsensitive = part;
    }
    return caseInsensitive;
}
