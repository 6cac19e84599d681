// How it works: the bytes are first checked against the bounds: the size, then
// a scan of the MIME structure (StructureScan) that follows GMime's parser rule
// for rule (header blocks end at the first empty line; the last Content-Type
// field decides a part's type, read by GMime's own content-type parser;
// delimiter lines are matched against every open boundary, innermost first, as
// RFC 2046 5.1.1 and 5.1.2 say) and counts what GMime would build: parts, header
// fields, depth, content bytes. Nothing is allocated per part, so a message of a
// million parts costs a linear read and is refused before GMime builds a tree
// of a million objects. A message within the bounds is then parsed by GMime
// into its object tree, which is copied into ParsedPart values (decoded headers,
// decoded bodies) while the same bounds are checked again on what was built.
// After that nothing refers to GMime any more: the result is plain data that
// can be copied freely.

#include "parsedmessage.h"

#include <QTimeZone>
#include <QUrl>

#include "gmimesupport.h"

#include <cstring>
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

using Limit = ParsedMessage::Limit;
using Limits = ParsedMessage::Limits;

// The recursion of the scan and of the copy follows the nesting; this keeps the
// stack small whatever maxDepth a caller asks for.
constexpr int DepthCeiling = 256;

// What GMime and the copy need per part and per header field, rounded up from
// bench_parse (1,000,000 one-line parts: 2.5 KiB a part; one block of 5,000,000
// fields: 0.54 KiB a field). Used for Complexity::estimatedMemory.
constexpr qint64 PartCost = 4096;
constexpr qint64 FieldCost = 1024;

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

qsizetype mib(qint64 bytes)
{
    return qsizetype(bytes / (1024 * 1024));
}

// GMime's character classes (gmime-table-private.h): blank separates a field
// name from its colon or starts a folded line, lwsp may follow a delimiter.
bool isBlank(char c)
{
    return c == ' ' || c == '\t';
}
bool isLwsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool isCtrl(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return u < 32 || u == 127;
}

bool equalsIgnoringCase(QByteArrayView a, const char *b)
{
    return a.compare(QByteArrayView(b), Qt::CaseInsensitive) == 0;
}

// One header block as the scan sees it.
struct HeaderBlock
{
    int fields = 0;
    bool hasContentType = false;
    QByteArray contentType; // raw value (folded lines included) of the last Content-Type field
    bool hasEncoding = false;
    QByteArray encoding; // raw value of the first Content-Transfer-Encoding field
};

// A part's type as GMime's parser decides it.
struct PartType
{
    QByteArray type;
    QByteArray subtype;
    bool hasBoundary = false;
    QByteArray boundary;
    [[nodiscard]] bool isMultipart() const { return equalsIgnoringCase(type, "multipart"); }
    [[nodiscard]] bool isDigest() const { return isMultipart() && equalsIgnoringCase(subtype, "digest"); }
    [[nodiscard]] bool isText() const { return equalsIgnoringCase(type, "text"); }
};

// Measures what GMime's parser (gmime-parser.c of GMime 3.2) would build from the
// bytes, by the same rules, without building it. Each function is named after
// the parser's step it follows. The fuzzer checks that the counts are never
// below what GMime builds (tests/fuzz/parsedmessage_fuzzer.cpp).
class StructureScan
{
public:
    StructureScan(const QByteArray &bytes, const Limits &limits)
        : m_data(bytes.constData()), m_size(bytes.size()), m_limits(limits)
    {
        m_limits.maxDepth = std::min(m_limits.maxDepth, DepthCeiling);
    }
    ~StructureScan()
    {
        if (m_options)
            g_mime_parser_options_free(m_options);
    }
    StructureScan(const StructureScan &) = delete;
    StructureScan &operator=(const StructureScan &) = delete;

    ParsedMessage::Complexity run()
    {
        ensureGMime();
        m_options = g_mime_parser_options_new();
        g_mime_parser_options_set_warning_callback(m_options, &StructureScan::onWarning, this);
        const HeaderBlock top = readHeaders();
        if (!m_stopped)
            construct(typeOf(top, false), top, 0);
        m_c.estimatedMemory = m_c.parts * PartCost + m_c.fields * FieldCost + 2 * m_c.leafBytes + 2 * m_c.textBytes;
        if (m_c.limit == Limit::None && m_c.estimatedMemory > m_limits.maxMemory)
            m_c.limit = Limit::Memory;
        return m_c;
    }

private:
    // What a content scan stopped at (the parser's BoundaryType).
    enum class Found { None, Eos, Immediate, ImmediateEnd, Parent, ParentEnd };

    struct Line
    {
        qsizetype start;
        qsizetype length; // without the '\n'
        qsizetype next;   // start of the next line
        bool newline;
    };

    static void onWarning(gint64, GMimeParserWarning code, const gchar *, gpointer self)
    {
        if (code == GMIME_WARN_INVALID_CONTENT_TYPE)
            static_cast<StructureScan *>(self)->m_invalidType = true;
    }

    [[nodiscard]] Line lineAt(qsizetype pos) const
    {
        const void *nl = memchr(m_data + pos, '\n', size_t(m_size - pos));
        if (!nl)
            return {pos, m_size - pos, m_size, false};
        const qsizetype at = static_cast<const char *>(nl) - m_data;
        return {pos, at - pos, at + 1, true};
    }

    void stop(Limit limit)
    {
        if (m_c.limit == Limit::None)
            m_c.limit = limit;
        m_stopped = true;
    }

    // RFC 2046 5.1.1: a delimiter is "--" boundary, the close delimiter has "--"
    // after it; either may be followed by white space (GMime's is_boundary).
    [[nodiscard]] bool isDelimiter(const char *text, qsizetype length, const QByteArray &dashBoundary, bool close) const
    {
        const qsizetype need = dashBoundary.size() + (close ? 2 : 0);
        if (need > length || memcmp(text, dashBoundary.constData(), size_t(dashBoundary.size())) != 0)
            return false;
        if (close && (text[dashBoundary.size()] != '-' || text[dashBoundary.size() + 1] != '-'))
            return false;
        for (qsizetype i = need; i < length; ++i) {
            if (!isLwsp(text[i]))
                return false;
        }
        return true;
    }

    // A long line that holds a delimiter of an open boundary anywhere: GMime
    // may see it differently (ParsedMessage::Limit::LineLength), so the scan
    // stops there.
    bool ambiguous(const Line &line)
    {
        if (line.length < ParsedMessage::LongLine || m_bounds.isEmpty())
            return false;
        const QByteArrayView text(m_data + line.start, line.length);
        for (const QByteArray &dashBoundary : std::as_const(m_bounds)) {
            if (text.indexOf(dashBoundary) >= 0) {
                stop(Limit::LineLength);
                return true;
            }
        }
        return false;
    }

    // check_boundary: every open boundary, innermost first; at each level the
    // close delimiter before the delimiter.
    [[nodiscard]] Found checkBoundary(const Line &line) const
    {
        const char *text = m_data + line.start;
        qsizetype length = line.length;
        if (length > 0 && text[length - 1] == '\r')
            --length;
        if (length < 2 || text[0] != '-' || text[1] != '-')
            return Found::None;
        for (qsizetype k = m_bounds.size() - 1; k >= 0; --k) {
            const bool innermost = k == m_bounds.size() - 1;
            if (isDelimiter(text, length, m_bounds[k], true))
                return innermost ? Found::ImmediateEnd : Found::ParentEnd;
            if (isDelimiter(text, length, m_bounds[k], false))
                return innermost ? Found::Immediate : Found::Parent;
        }
        return Found::None;
    }

    // found_immediate_boundary: after an inner multipart ended at an outer
    // delimiter, is that delimiter the (new) innermost one's?
    [[nodiscard]] bool isInnermostDelimiter(bool close) const
    {
        if (m_bounds.isEmpty() || m_pos >= m_size)
            return false;
        const Line line = lineAt(m_pos);
        return isDelimiter(m_data + line.start, line.length, m_bounds.constLast(), close);
    }

    // parser_scan_content: up to (not including) the next delimiter of any open
    // boundary, or the end.
    Found scanContent(qint64 *bytes)
    {
        const qsizetype start = m_pos;
        Found found = Found::Eos;
        while (m_pos < m_size) {
            const Line line = lineAt(m_pos);
            if (ambiguous(line)) {
                found = Found::Eos;
                break;
            }
            found = checkBoundary(line);
            if (found != Found::None)
                break;
            m_pos = line.next;
            found = Found::Eos;
        }
        if (bytes)
            *bytes += m_pos - start;
        return found;
    }

    // parser_skip_line: false when the line has no end (the parser's -1).
    bool skipLine()
    {
        if (m_pos >= m_size)
            return false;
        const Line line = lineAt(m_pos);
        m_pos = line.next;
        return line.newline;
    }

    // parser_step_headers: the fields up to the first empty line (RFC 5322 2.1)
    // or delimiter line, a line starting with white space continuing the field
    // before it (RFC 5322 2.2.3). Every line that starts a field is counted, valid name or not, so
    // the count is never below GMime's.
    HeaderBlock readHeaders()
    {
        HeaderBlock block;
        enum class Current { Other, ContentType, Encoding } current = Current::Other;
        QByteArray value;
        auto finish = [&] {
            if (current == Current::ContentType) {
                block.hasContentType = true;
                block.contentType = value;
            } else if (current == Current::Encoding) {
                block.encoding = value;
            }
            current = Current::Other;
        };
        while (m_pos < m_size) {
            const Line line = lineAt(m_pos);
            if (ambiguous(line))
                return block;
            const char *text = m_data + line.start;
            if (line.length == 0 || (line.length == 1 && text[0] == '\r')) {
                m_pos = line.next;
                break;
            }
            const qsizetype rawLength = line.next - line.start;
            if (isBlank(text[0])) {
                if (current != Current::Other) {
                    value.append(text, rawLength);
                } else if (block.fields == 0) {
                    // Before any field GMime takes "  :" (white space, then the
                    // colon) as a field with an empty name; count such lines too.
                    qsizetype i = 0;
                    while (i < line.length && isBlank(text[i]))
                        ++i;
                    if (i < line.length && text[i] == ':' && !countField(&block))
                        return block;
                }
                m_pos = line.next;
                continue;
            }
            // GMime 3.2 ends a header block at a delimiter line of an open
            // boundary too (the part then has no content; GMime drops a part
            // left with no field and no content, the scan counts it: an upper
            // estimate).
            if (!m_bounds.isEmpty() && checkBoundary(line) != Found::None)
                break;
            finish();
            if (!countField(&block))
                return block;
            // The name runs to the colon; white space only before the colon.
            qsizetype i = 0;
            bool blank = false;
            bool valid = true;
            while (i < line.length && text[i] != ':') {
                if (isBlank(text[i]))
                    blank = true;
                else if (blank || isCtrl(text[i])) {
                    valid = false;
                    break;
                }
                ++i;
            }
            if (valid && i < line.length) {
                qsizetype nameEnd = i;
                while (nameEnd > 0 && isBlank(text[nameEnd - 1]))
                    --nameEnd;
                const QByteArrayView name(text, nameEnd);
                if (equalsIgnoringCase(name, "Content-Type")) {
                    current = Current::ContentType;
                    value = QByteArray(text + i + 1, rawLength - i - 1);
                } else if (!block.hasEncoding && equalsIgnoringCase(name, "Content-Transfer-Encoding")) {
                    // The parser looks at the first one only.
                    block.hasEncoding = true;
                    current = Current::Encoding;
                    value = QByteArray(text + i + 1, rawLength - i - 1);
                }
            }
            m_pos = line.next;
        }
        finish();
        return block;
    }

    bool countField(HeaderBlock *block)
    {
        ++block->fields;
        m_c.mostFieldsInPart = std::max(m_c.mostFieldsInPart, block->fields);
        if (block->fields > m_limits.maxFieldsPerPart) {
            stop(Limit::FieldsPerPart);
            return false;
        }
        if (m_c.fields + block->fields > m_limits.maxFields) {
            stop(Limit::Fields);
            return false;
        }
        return true;
    }

    // parser_content_type: the last Content-Type field as GMime's content-type
    // parser reads it; absent or unreadable, text/plain, or message/rfc822 in a
    // digest (RFC 2046 5.1.5).
    PartType typeOf(const HeaderBlock &block, bool inDigest)
    {
        PartType t;
        bool read = false;
        if (block.hasContentType) {
            m_invalidType = false;
            GMimeContentType *type = g_mime_content_type_parse(m_options, block.contentType.constData());
            if (type && !m_invalidType) {
                read = true;
                t.type = g_mime_content_type_get_media_type(type);
                t.subtype = g_mime_content_type_get_media_subtype(type);
            }
            if (type)
                g_object_unref(type);
        }
        if (read && t.isMultipart()) {
            // The part's own content type, which gives the boundary, is read
            // from the unfolded value (a CR inside quotes goes too).
            FreeString unfolded(g_mime_utils_header_unfold(block.contentType.constData()));
            GMimeContentType *type = g_mime_content_type_parse(m_options, unfolded.p ? unfolded.p : "");
            if (const char *boundary = type ? g_mime_content_type_get_parameter(type, "boundary") : nullptr) {
                t.hasBoundary = true;
                t.boundary = boundary;
            }
            if (type)
                g_object_unref(type);
        }
        if (!read) {
            t.type = inDigest ? "message" : "text";
            t.subtype = inDigest ? "rfc822" : "plain";
        }
        return t;
    }

    // parser_construct_leaf_part: a message/rfc822 (rfc2822, global, news) part
    // holds a message unless its transfer encoding hides it (then it is a plain
    // application/octet-stream part); which types make a message part is GMime's
    // own type table.
    bool isMessagePart(const PartType &t, const HeaderBlock &block)
    {
        if (!equalsIgnoringCase(t.type, "message"))
            return false;
        const QByteArrayView sub(t.subtype);
        const bool rfc822 = equalsIgnoringCase(sub, "rfc822") || equalsIgnoringCase(sub, "rfc2822")
            || equalsIgnoringCase(sub, "global") || equalsIgnoringCase(sub, "news");
        if (rfc822 && block.hasEncoding) {
            switch (g_mime_content_encoding_from_string(block.encoding.constData())) {
            case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
            case GMIME_CONTENT_ENCODING_UUENCODE:
            case GMIME_CONTENT_ENCODING_BASE64:
                return false;
            default:
                break;
            }
        }
        GMimeObject *object = g_mime_object_new_type(nullptr, t.type.constData(), t.subtype.constData());
        const bool message = object && GMIME_IS_MESSAGE_PART(object);
        if (object)
            g_object_unref(object);
        return message;
    }

    // One part at `depth` (ParsedPart::depth), its header block already read.
    Found construct(const PartType &t, const HeaderBlock &block, int depth)
    {
        if (depth > m_limits.maxDepth) {
            stop(Limit::Depth);
            return Found::Eos;
        }
        if (++m_c.parts > m_limits.maxParts) {
            stop(Limit::Parts);
            return Found::Eos;
        }
        m_c.fields += block.fields;
        m_c.depth = std::max(m_c.depth, depth);
        if (t.isMultipart())
            return multipart(t, depth);
        if (isMessagePart(t, block))
            return messagePart(depth);
        qint64 bytes = 0;
        const Found found = scanContent(&bytes);
        m_c.leafBytes += bytes;
        if (t.isText())
            m_c.textBytes += bytes;
        return found;
    }

    // parser_construct_multipart: the preamble, the parts, the epilogue (RFC 2046
    // 5.1.1); a multipart without a boundary is all preamble.
    Found multipart(const PartType &t, int depth)
    {
        if (!t.hasBoundary)
            return scanContent(nullptr);
        m_bounds.append("--" + t.boundary);
        Found found = scanContent(nullptr);
        if (found == Found::Immediate)
            found = parts(t, depth);
        if (m_stopped)
            return Found::Eos;
        if (found == Found::ImmediateEnd) {
            skipLine();
            m_bounds.removeLast();
            return scanContent(nullptr);
        }
        m_bounds.removeLast();
        if (found == Found::ParentEnd && isInnermostDelimiter(true))
            found = Found::ImmediateEnd;
        else if (found == Found::Parent && isInnermostDelimiter(false))
            found = Found::Immediate;
        return found;
    }

    // parser_scan_multipart_subparts
    Found parts(const PartType &parent, int depth)
    {
        Found found = Found::Eos;
        do {
            if (!skipLine())
                return Found::Eos;
            const HeaderBlock block = readHeaders();
            if (m_stopped)
                return Found::Eos;
            found = construct(typeOf(block, parent.isDigest()), block, depth + 1);
            if (m_stopped)
                return Found::Eos;
        } while (found == Found::Immediate);
        return found;
    }

    // parser_scan_message_part: an embedded message (RFC 2046 5.2.1), unless a
    // delimiter follows at once (then the part is empty).
    Found messagePart(int depth)
    {
        if (!m_bounds.isEmpty()) {
            if (m_pos >= m_size)
                return Found::Eos;
            const Found found = checkBoundary(lineAt(m_pos));
            if (found != Found::None)
                return found;
        }
        const HeaderBlock block = readHeaders();
        if (m_stopped)
            return Found::Eos;
        return construct(typeOf(block, false), block, depth + 1);
    }

    const char *m_data;
    qsizetype m_size;
    qsizetype m_pos = 0;
    Limits m_limits;
    QList<QByteArray> m_bounds; // "--" + boundary, innermost last
    ParsedMessage::Complexity m_c;
    bool m_stopped = false;
    bool m_invalidType = false;
    GMimeParserOptions *m_options = nullptr;
};

QString describe(Limit limit, const Limits &limits, const ParsedMessage::Complexity &c)
{
    switch (limit) {
    case Limit::None:
        break;
    case Limit::InputSize:
        return QStringLiteral("larger than the %1 MiB that are parsed").arg(mib(limits.maxInputSize));
    case Limit::Depth:
        return QStringLiteral("MIME structure nested deeper than %1 levels").arg(limits.maxDepth);
    case Limit::Parts:
        return QStringLiteral("more than %1 MIME parts (the limit on parts)").arg(limits.maxParts);
    case Limit::FieldsPerPart:
        return QStringLiteral("a part with more than %1 header fields (the limit on fields in one part)")
            .arg(limits.maxFieldsPerPart);
    case Limit::Fields:
        return QStringLiteral("more than %1 header fields in all (the limit on fields)").arg(limits.maxFields);
    case Limit::DecodedSize:
        return QStringLiteral("more than %1 MiB of decoded content and text (the limit on decoded size)")
            .arg(mib(limits.maxDecodedSize));
    case Limit::LineLength:
        return QStringLiteral("a line of %1 bytes or more holding a MIME delimiter, which cannot be read reliably "
                              "(RFC 5322 2.1.1 allows 998)")
            .arg(ParsedMessage::LongLine);
    case Limit::Memory:
        return QStringLiteral("the parse would need about %1 MiB, more than the %2 MiB allowed (the limit on memory)")
            .arg(mib(c.estimatedMemory))
            .arg(mib(limits.maxMemory));
    }
    return {};
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

// The text of a text/* leaf: its decoded bytes converted from their charset to
// UTF-8 by GMime's charset filter, as g_mime_text_part_get_text() does, but from
// the bytes already decoded (the content is not decoded a second time). Like
// that function's C string, the text ends at a NUL byte.
QString textOf(const QByteArray &body, GMimeContentType *type)
{
    const char *charset = type ? g_mime_content_type_get_parameter(type, "charset") : nullptr;
    GMimeFilter *filter = charset ? g_mime_filter_charset_new(charset, "utf-8") : nullptr;
    if (!filter)
        return QString::fromUtf8(body.constData(), qsizetype(qstrnlen(body.constData(), uint(body.size()))));
    GRef<GMimeStream> out(g_mime_stream_mem_new());
    {
        GRef<GMimeStream> filtered(g_mime_stream_filter_new(out.get()));
        g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered.get()), filter);
        g_object_unref(filter);
        g_mime_stream_write(filtered.get(), body.constData(), size_t(body.size()));
        g_mime_stream_flush(filtered.get());
    }
    GByteArray *array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
    if (!array || array->len == 0)
        return {};
    const char *data = reinterpret_cast<const char *>(array->data);
    return QString::fromUtf8(data, qsizetype(strnlen(data, array->len)));
}

int fieldCount(GMimeObject *object)
{
    GMimeHeaderList *list = g_mime_object_get_header_list(object);
    return list ? g_mime_header_list_get_count(list) : 0;
}

// Copies GMime's tree into ParsedPart values, checking the bounds again on what
// GMime built (the scan should have refused anything over them already).
struct Converter
{
    Limits limits;
    Limit limit = Limit::None;
    int parts = 0;
    qint64 fields = 0;
    qint64 decoded = 0;
    QString prologue; // of a multipart with no parts found: what a broken boundary leaves

    bool refuse(Limit reached)
    {
        limit = reached;
        return false;
    }

    bool countPart(int depth, int partFields)
    {
        if (depth > limits.maxDepth)
            return refuse(Limit::Depth);
        if (++parts > limits.maxParts)
            return refuse(Limit::Parts);
        if (partFields > limits.maxFieldsPerPart)
            return refuse(Limit::FieldsPerPart);
        fields += partFields;
        if (fields > limits.maxFields)
            return refuse(Limit::Fields);
        return true;
    }

    bool convert(GMimeObject *object, int depth, ParsedPart *out, int extraFields = 0)
    {
        if (!countPart(depth, fieldCount(object) + extraFields))
            return false;
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
            out->children.reserve(count);
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
                const int messageFields = fieldCount(GMIME_OBJECT(embedded));
                if (body) {
                    if (!convert(body, depth + 1, &child, messageFields))
                        return false;
                } else {
                    if (!countPart(depth + 1, messageFields))
                        return false;
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
            decoded += out->body.size();
            if (decoded > limits.maxDecodedSize)
                return refuse(Limit::DecodedSize);
            if (GMIME_IS_TEXT_PART(object)) {
                out->text = textOf(out->body, type);
                decoded += out->text.size() * qint64(sizeof(QChar));
                if (decoded > limits.maxDecodedSize)
                    return refuse(Limit::DecodedSize);
            }
        }
        return true;
    }
};

// A GMime memory stream over the caller's bytes without copying them: GMime's
// own constructor copies the buffer, which would double a 50 MiB message. The
// stream reads only (the parser never writes), does not own the array, and the
// bytes are taken back out of the array before it is freed.
class BorrowedStream
{
public:
    explicit BorrowedStream(const QByteArray &bytes)
        : m_array(g_byte_array_new_take(reinterpret_cast<guint8 *>(const_cast<char *>(bytes.constData())),
                                        gsize(bytes.size())))
        , m_stream(g_mime_stream_mem_new_with_byte_array(m_array))
    {
        g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(m_stream), FALSE);
    }
    ~BorrowedStream()
    {
        g_object_unref(m_stream);
        // The parts' substreams are gone with the message; give the bytes back
        // untouched and free only the array's header.
        gsize length = 0;
        (void)g_byte_array_steal(m_array, &length);
        g_byte_array_unref(m_array);
    }
    BorrowedStream(const BorrowedStream &) = delete;
    BorrowedStream &operator=(const BorrowedStream &) = delete;
    [[nodiscard]] GMimeStream *get() const { return m_stream; }

private:
    GByteArray *m_array;
    GMimeStream *m_stream;
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

ParsedMessage::Complexity ParsedMessage::measure(const QByteArray &bytes, const Limits &limits)
{
    StructureScan scan(bytes, limits);
    return scan.run();
}

ParsedMessage::Complexity ParsedMessage::measure(const QByteArray &bytes)
{
    return measure(bytes, Limits());
}

bool ParsedMessage::parse(const QByteArray &bytes, QString *error)
{
    return parse(bytes, Limits(), error);
}

bool ParsedMessage::parse(const QByteArray &bytes, const Limits &limits, QString *error)
{
    *this = ParsedMessage();
    auto fail = [this, error](ErrorKind kind, Limit limit, const QString &text) {
        m_errorKind = kind;
        m_limit = limit;
        m_error = text;
        if (error)
            *error = text;
        return false;
    };
    if (bytes.size() > limits.maxInputSize || quint64(bytes.size()) > G_MAXUINT)
        return fail(ErrorKind::TooLarge, Limit::InputSize,
                    QStringLiteral("Message of %1 bytes is larger than the %2 MiB that are parsed: refused")
                        .arg(bytes.size())
                        .arg(mib(limits.maxInputSize)));
    const Complexity complexity = measure(bytes, limits);
    if (complexity.limit != Limit::None) {
        m_limitDescription = describe(complexity.limit, limits, complexity);
        return fail(ErrorKind::TooComplex, complexity.limit,
                    QStringLiteral("Message too complex: %1: refused").arg(m_limitDescription));
    }

    ensureGMime();
    // Declared in this order so that the message goes first, then the parser,
    // then the stream that lends them the bytes.
    BorrowedStream stream(bytes);
    GRef<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
    GRef<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
    if (!message.get())
        return fail(ErrorKind::NotAMessage, Limit::None, QStringLiteral("Not a message: no header block could be read"));

    Converter converter;
    converter.limits = limits;
    converter.limits.maxDepth = std::min(limits.maxDepth, DepthCeiling);
    GMimeObject *body = g_mime_message_get_mime_part(message.get());
    const int messageFields = fieldCount(GMIME_OBJECT(message.get()));
    const bool converted = body ? converter.convert(body, 0, &m_root, messageFields)
                                : converter.countPart(0, messageFields);
    if (!converted) {
        const Limit reached = converter.limit;
        m_root = ParsedPart();
        m_limitDescription = describe(reached, converter.limits, complexity);
        return fail(ErrorKind::TooComplex, reached, QStringLiteral("Message too complex: %1: refused").arg(m_limitDescription));
    }
    if (!body)
        m_root.contentType = QStringLiteral("text/plain");
    int next = 0;
    const std::function<void(ParsedPart &)> number = [&](ParsedPart &part) {
        part.index = next++;
        for (ParsedPart &child : part.children)
            number(child);
    };
    number(m_root);

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
    const QString subtype = part->contentType.section(QLatin1Char('/'), 1);
    return QStringLiteral("part-%1.%2").arg(part->index).arg(subtype.isEmpty() ? QStringLiteral("bin") : subtype);
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
