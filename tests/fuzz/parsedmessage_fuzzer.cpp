// libFuzzer target for ParsedMessage (core/mime), the MIME reader behind the
// capture view: whatever a client sends to the capture server is parsed by it.
//
// Invariants: never crash or hang; depth never beyond MaxDepth; every part
// reachable from allParts() and each attachment among them; every Content-ID,
// given as a cid: URL, finds a part with that Content-ID.

#include "mime/parsedmessage.h"

#include <QUrl>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

[[noreturn]] void failInvariant(const char *what)
{
    fprintf(stderr, "invariant broken: %s\n", what);
    abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    ParsedMessage m;
    QString error;
    if (!m.parse(bytes, &error)) {
        if (error.isEmpty())
            failInvariant("a refusal without a reason");
        return 0;
    }
    const QList<const ParsedPart *> parts = m.allParts();
    if (parts.isEmpty() || parts.constFirst() != &m.root())
        failInvariant("allParts() does not start at the root");
    for (const ParsedPart *p : parts) {
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
    return 0;
}
