// libFuzzer target for Smtp::ReplyParser (and, on the same bytes, DataEncoder).
//
// Input layout: byte 0 is a control byte, the rest is what a server sends.
//   bits 0-6: where the second replay splits the stream (0 = start, 127 = end);
//   bit 7:    use tiny limits, so the line/size/count limits are reached often.
// Invariant (as h11's fuzz/afl-server.py): the stream parsed whole, split in
// two at that position, and fed byte by byte gives the same replies and the
// same error. Each reply is also checked for what the parser promises (codes
// 200..599, raw is the exact input, no NUL in text) and run through
// Capabilities and the text helpers. Any difference aborts.

#include "protocol/capabilities.h"
#include "protocol/dataencoder.h"
#include "protocol/replyparser.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

struct Outcome
{
    QList<Smtp::Reply> replies;
    bool failed = false;
    Smtp::ParseError error;
};

[[noreturn]] void broken(const char *what)
{
    std::fprintf(stderr, "replyparser_fuzzer: invariant broken: %s\n", what);
    std::abort();
}

Outcome parse(QByteArrayView stream, qsizetype split, qsizetype step, Smtp::ReplyParser::Limits limits)
{
    Smtp::ReplyParser parser(limits);
    Outcome out;
    auto drain = [&] {
        for (;;) {
            Smtp::Reply reply;
            Smtp::ParseError error;
            const auto status = parser.next(&reply, &error);
            if (status == Smtp::ReplyParser::Status::Reply) {
                out.replies.append(std::move(reply));
                continue;
            }
            if (status == Smtp::ReplyParser::Status::Error) {
                out.failed = true;
                out.error = error;
            }
            return;
        }
    };
    qsizetype from = 0;
    while (from < stream.size() && !out.failed) {
        qsizetype to = step > 0 ? qMin(stream.size(), from + step) : stream.size();
        if (split > from && split < to)
            to = split;
        parser.feed(stream.sliced(from, to - from));
        from = to;
        drain();
    }
    if (!out.failed)
        drain();
    return out;
}

void same(const Outcome &a, const Outcome &b)
{
    if (a.failed != b.failed)
        broken("error in one replay only");
    if (a.error.message != b.error.message || a.error.line != b.error.line)
        broken("different errors");
    if (a.replies.size() != b.replies.size())
        broken("different number of replies");
    for (qsizetype i = 0; i < a.replies.size(); ++i) {
        const Smtp::Reply &x = a.replies.at(i);
        const Smtp::Reply &y = b.replies.at(i);
        if (x.code != y.code || x.lines != y.lines || x.raw != y.raw || !(x.enhanced == y.enhanced))
            broken("different replies");
    }
}

void checkPromises(QByteArrayView stream, const Outcome &outcome)
{
    qsizetype offset = 0;
    for (const Smtp::Reply &reply : outcome.replies) {
        if (reply.code < 200 || reply.code > 599)
            broken("code outside 200..599");
        if (reply.lines.isEmpty() || !reply.raw.endsWith('\n'))
            broken("reply without lines or unterminated raw");
        if (stream.sliced(offset).first(qMin(stream.size() - offset, reply.raw.size())) != reply.raw)
            broken("raw is not the received bytes");
        offset += reply.raw.size();
        for (const QByteArray &line : reply.lines) {
            if (line.contains('\0') || line.contains('\n'))
                broken("NUL or LF in reply text");
        }
        if (reply.enhanced.isValid() && reply.enhanced.klass != reply.klass())
            broken("enhanced class differs from the reply class");
        (void)reply.summary();
        (void)reply.text();
        const Smtp::Capabilities caps = Smtp::Capabilities::fromEhloReply(reply);
        (void)caps.authMechanisms();
        (void)caps.sizeLimit();
        (void)caps.startTls();
    }
    if (outcome.failed && outcome.error.line.size() > 200)
        broken("error line not cut to 200 bytes");
}

// DataEncoder on the same bytes: one split must not change the output, and the
// only end-of-data sequence is the final one (docs/security.md section D).
void checkDataEncoder(QByteArrayView stream, qsizetype split)
{
    QByteArray whole;
    Smtp::DataEncoder a;
    a.encode(stream, whole);
    a.finish(whole);

    QByteArray pieces;
    Smtp::DataEncoder b;
    b.encode(stream.first(split), pieces);
    b.encode(stream.sliced(split), pieces);
    b.finish(pieces);

    if (whole != pieces)
        broken("DataEncoder output depends on the split");
    if (whole.indexOf("\r\n.\r\n") != (stream.isEmpty() ? -1 : whole.size() - 5))
        broken("end of data before the end");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t control = data[0];
    const QByteArrayView stream(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    const qsizetype split = (control & 0x7f) * stream.size() / 0x7f;

    Smtp::ReplyParser::Limits limits;
    if (control & 0x80)
        limits = Smtp::ReplyParser::Limits{24, 96, 4};

    const Outcome whole = parse(stream, -1, 0, limits);
    checkPromises(stream, whole);
    same(whole, parse(stream, split, 0, limits));
    same(whole, parse(stream, -1, 1, limits));
    checkDataEncoder(stream, split);
    return 0;
}
