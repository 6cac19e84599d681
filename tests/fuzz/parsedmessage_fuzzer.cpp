// libFuzzer target for ParsedMessage (core/mime), the MIME reader behind the
// capture view: whatever a client sends to the capture server is parsed by it.
//
// Invariants: never crash or hang; depth never beyond MaxDepth; every part
// reachable from allParts() and each attachment among them; every Content-ID,
// given as a cid: URL, finds a part with that Content-ID.
//
// The bounds (parts, fields, depth, decoded size, memory): ParsedMessage refuses
// a message over a bound before GMime builds it, on the word of a scan
// (ParsedMessage::measure) that must never count fewer parts or header fields
// than GMime then builds. Each input is parsed by GMime directly too and its
// objects counted against the scan; and it is parsed again under tiny limits
// (the inputs are small), where a refusal must be TooComplex, name a limit the
// message really crosses, and an acceptance must stay within every limit.

#include "mime/parsedmessage.h"

#include <QUrl>

#include "mime/gmimesupport.h"

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

[[noreturn]] void failInvariant(const char *what)
{
    fprintf(stderr, "invariant broken: %s\n", what);
    abort();
}

struct Counts
{
    int parts = 0;
    int fields = 0;
};

int fieldsOf(GMimeObject *object)
{
    GMimeHeaderList *list = g_mime_object_get_header_list(object);
    return list ? g_mime_header_list_get_count(list) : 0;
}

// GMime's own tree, counted the way ParsedMessage::allParts() lists it.
void count(GMimeObject *object, Counts *c)
{
    ++c->parts;
    c->fields += fieldsOf(object);
    if (GMIME_IS_MULTIPART(object)) {
        GMimeMultipart *multipart = GMIME_MULTIPART(object);
        for (int i = 0; i < g_mime_multipart_get_count(multipart); ++i)
            count(g_mime_multipart_get_part(multipart, i), c);
    } else if (GMIME_IS_MESSAGE_PART(object)) {
        if (GMimeMessage *embedded = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object))) {
            c->fields += fieldsOf(GMIME_OBJECT(embedded));
            if (GMimeObject *body = g_mime_message_get_mime_part(embedded))
                count(body, c);
            else
                ++c->parts;
        }
    }
}

bool gmimeCounts(const QByteArray &bytes, Counts *c)
{
    MimeSupport::ensureGMime();
    MimeSupport::GRef<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(bytes.constData(), size_t(bytes.size())));
    MimeSupport::GRef<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
    MimeSupport::GRef<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
    if (!message.get())
        return false;
    c->fields += fieldsOf(GMIME_OBJECT(message.get()));
    if (GMimeObject *body = g_mime_message_get_mime_part(message.get()))
        count(body, c);
    else
        ++c->parts;
    return true;
}

void checkTree(const ParsedMessage &m)
{
    const QList<const ParsedPart *> parts = m.allParts();
    if (parts.isEmpty() || parts.constFirst() != &m.root())
        failInvariant("allParts() does not start at the root");
    for (qsizetype i = 0; i < parts.size(); ++i) {
        const ParsedPart *p = parts[i];
        if (p->index != i)
            failInvariant("a part whose index is not its place in allParts()");
        if (p->depth > ParsedMessage::MaxDepth)
            failInvariant("a part deeper than MaxDepth");
        if (!p->contentId.isEmpty()) {
            // As a cid: URL gives it (RFC 2392 2: %hh-escaped).
            const ParsedPart *found = m.partByContentId(QString::fromLatin1(QUrl::toPercentEncoding(p->contentId)));
            if (!found || found->contentId != p->contentId)
                failInvariant("a Content-ID that does not find its part");
        }
    }
    for (const ParsedPart *a : m.attachments()) {
        if (!parts.contains(a))
            failInvariant("an attachment that is not a part");
        if (m.attachmentName(a).isEmpty())
            failInvariant("an attachment without a name");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));

    // The scan against GMime, with no bound in the way (depth aside: GMime's
    // own recursion stops at 1024 levels, the scan's at 256).
    ParsedMessage::Limits open;
    open.maxParts = INT_MAX;
    open.maxFieldsPerPart = INT_MAX;
    open.maxFields = INT_MAX;
    open.maxDecodedSize = LLONG_MAX;
    open.maxMemory = LLONG_MAX;
    open.maxDepth = 256;
    const ParsedMessage::Complexity all = ParsedMessage::measure(bytes, open);
    Counts built;
    if (all.limit == ParsedMessage::Limit::None && gmimeCounts(bytes, &built)) {
        if (all.parts < built.parts)
            failInvariant("the scan counted fewer parts than GMime built");
        if (all.fields < built.fields)
            failInvariant("the scan counted fewer header fields than GMime built");
    }

    ParsedMessage m;
    QString error;
    if (!m.parse(bytes, &error)) {
        if (error.isEmpty() || m.errorString() != error)
            failInvariant("a refusal without a reason");
        if (m.errorKind() == ParsedMessage::ErrorKind::None)
            failInvariant("a refusal without an error kind");
        if ((m.errorKind() == ParsedMessage::ErrorKind::TooComplex) != (m.limitReached() != ParsedMessage::Limit::None))
            failInvariant("too complex without a limit, or a limit with another kind");
    } else {
        checkTree(m);
        if (m.allParts().size() > ParsedMessage::MaxParts)
            failInvariant("more parts than MaxParts");
    }

    // The part-count bound and its neighbours as a scenario: small inputs cross
    // small limits.
    ParsedMessage::Limits tiny;
    tiny.maxParts = 6;
    tiny.maxFieldsPerPart = 5;
    tiny.maxFields = 12;
    tiny.maxDepth = 3;
    tiny.maxDecodedSize = 2048;
    tiny.maxMemory = 64 * 1024;
    ParsedMessage small;
    if (small.parse(bytes, tiny, &error)) {
        checkTree(small);
        int fields = int(small.headers().size());
        for (const ParsedPart *p : small.allParts()) {
            if (p->depth > tiny.maxDepth)
                failInvariant("a part deeper than the limit");
            if (p->headers.size() > tiny.maxFieldsPerPart)
                failInvariant("a part with more fields than the limit");
            fields += int(p->headers.size());
        }
        if (small.allParts().size() > tiny.maxParts)
            failInvariant("more parts than the limit");
        if (fields > tiny.maxFields)
            failInvariant("more fields than the limit");
    } else if (small.errorKind() == ParsedMessage::ErrorKind::TooComplex
               && all.limit == ParsedMessage::Limit::None) {
        // The limit named must be one the message crosses.
        bool crossed = false;
        switch (small.limitReached()) {
        case ParsedMessage::Limit::Parts: crossed = all.parts > tiny.maxParts; break;
        case ParsedMessage::Limit::FieldsPerPart: crossed = all.mostFieldsInPart > tiny.maxFieldsPerPart; break;
        case ParsedMessage::Limit::Fields: crossed = all.fields > tiny.maxFields; break;
        case ParsedMessage::Limit::Depth: crossed = all.depth > tiny.maxDepth; break;
        case ParsedMessage::Limit::Memory: crossed = all.estimatedMemory > tiny.maxMemory; break;
        case ParsedMessage::Limit::DecodedSize: crossed = 2 * all.leafBytes + 2 * all.textBytes > tiny.maxDecodedSize; break;
        case ParsedMessage::Limit::LineLength: crossed = all.limit == ParsedMessage::Limit::LineLength; break;
        case ParsedMessage::Limit::InputSize:
        case ParsedMessage::Limit::None: break;
        }
        if (!crossed)
            failInvariant("refused as too complex for a limit the message does not cross");
    }
    return 0;
}
