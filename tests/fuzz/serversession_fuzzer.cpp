// libFuzzer target for Capture::ServerSession, the capture server's sans-I/O
// SMTP session: the client's bytes come from the input, and the harness plays
// the CaptureServer (it finishes TLS handshakes and answers message stores).
//
// Input layout
//   byte 0  configuration: bit 0 a certificate is available (STARTTLS offered),
//           bit 1 implicit TLS, bit 2 a user is configured, bit 3 plaintext AUTH
//           allowed, bit 4 a 1 KiB size limit, bit 5 stores fail, bit 6 a fault
//           at RCPT every 2nd time, bit 7 a 30-second DATA delay fault
//   byte 1  chunking of the client stream into receive() calls: (b % 64) + 1 bytes
//   rest    the client's byte stream
//
// Invariants checked after every call:
//   - every Write is whole reply lines: "ddd" + ' ' or '-' + text + CRLF, with a
//     code from 200 to 599, and a multi-line reply ends with a ' ' line;
//   - message data only between MessageBegin and MessageEnd/MessageAbort, never
//     more than the size limit when one is set;
//   - no action after Close;
//   - no action list grows without bound for a bounded input;
//   - replies are at most 64 bytes per input byte (plus 1 KiB): the capture
//     server bounds its memory by feeding the session small chunks and relies on
//     this (an empty line's 47-byte 500 is the largest ratio);
//   - failed AUTH follows the AuthThrottle policy: the n-th failure in the window
//     comes right after a Delay of the policy's length when it has one, and is a
//     535 before disconnectAt, then a 421 followed by Close.

#include "capture/serversession.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace {

[[noreturn]] void failInvariant(const char *what)
{
    fprintf(stderr, "invariant broken: %s\n", what);
    abort();
}

void checkReplies(const QByteArray &bytes)
{
    qsizetype start = 0;
    while (start < bytes.size()) {
        const qsizetype end = bytes.indexOf("\r\n", start);
        if (end < 0)
            failInvariant("a Write does not end with CRLF");
        const QByteArray line = bytes.mid(start, end - start);
        if (line.size() < 4)
            failInvariant("a reply line shorter than 'ddd '");
        for (int i = 0; i < 3; ++i) {
            if (line.at(i) < '0' || line.at(i) > '9')
                failInvariant("a reply line without a 3-digit code");
        }
        const int code = line.left(3).toInt();
        if (code < 200 || code > 599)
            failInvariant("a reply code outside 200-599");
        if (line.at(3) != ' ' && line.at(3) != '-')
            failInvariant("a reply code not followed by ' ' or '-'");
        if (line.contains('\r') || line.contains('\n'))
            failInvariant("a bare CR or LF inside a reply line");
        start = end + 2;
    }
    // The last line of a Write ends its reply (RFC 5321 4.2.1).
    const qsizetype previous = bytes.lastIndexOf("\r\n", bytes.size() - 3);
    const qsizetype lastStart = previous < 0 ? 0 : previous + 2;
    if (bytes.size() >= 4 && bytes.at(lastStart + 3) != ' ')
        failInvariant("a Write ends inside a multi-line reply");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const uint8_t config = data[0];
    const qsizetype chunk = (data[1] % 64) + 1;
    const QByteArrayView input(reinterpret_cast<const char *>(data + 2), qsizetype(size - 2));

    Capture::ServerConfig sc;
    sc.tlsAvailable = config & 1;
    sc.implicitTls = config & 2;
    if (config & 4) {
        sc.user = QStringLiteral("tester");
        sc.password = QStringLiteral("s3cret-pass");
    }
    sc.allowPlaintextAuth = config & 8;
    if (config & 16)
        sc.maxSize = 1024;
    const bool storesFail = config & 32;
    QList<Capture::Fault> faults;
    QString error;
    if (config & 64)
        faults.append(*Capture::Fault::parse(QStringLiteral("rcpt:every=2:450 4.2.1 busy"), &error));
    if (config & 128)
        faults.append(*Capture::Fault::parse(QStringLiteral("data:delay=30000"), &error));

    const Capture::AuthThrottle::Policy policy;
    Capture::ServerSession session(sc, std::make_shared<Capture::FaultState>(faults),
                                   std::make_shared<Capture::AuthThrottle>(policy));
    session.setRandomSource([] { return quint64(42); });
    bool closed = false;
    bool inMessage = false;
    qint64 messageBytes = 0;
    bool storePending = false;
    qint64 now = 0;
    qint64 received = 0;
    qint64 written = 0;
    // The AUTH throttle as the policy describes it, for this one client.
    int authFailures = 0;
    qint64 lastFailure = 0;
    bool closeExpected = false;

    auto expectedDelay = [&](int failures) {
        if (failures <= policy.freeFailures)
            return 0;
        qint64 ms = policy.firstDelayMs;
        for (int i = policy.freeFailures + 1; i < failures && ms < policy.maxDelayMs; ++i)
            ms *= 2;
        return int(std::min<qint64>(ms, policy.maxDelayMs));
    };
    // Each AUTH failure in a Write: its place, its delay, its code.
    auto checkAuthFailures = [&](const QList<Capture::ServerAction> &actions, qsizetype index) {
        const QByteArray &bytes = actions[index].bytes;
        qsizetype start = 0;
        while (start < bytes.size()) {
            const qsizetype end = bytes.indexOf("\r\n", start);
            const QByteArray line = bytes.mid(start, end - start);
            const bool refused = line.startsWith("535 ");
            const bool throttled = line.startsWith("421 4.7.0 ") && line.contains("failed authentication");
            if (refused || throttled) {
                if (authFailures > 0 && now - lastFailure >= policy.windowMs)
                    authFailures = 0;
                ++authFailures;
                lastFailure = now;
                const int delay = expectedDelay(authFailures);
                if (delay > 0
                    && (start != 0 || index == 0 || actions[index - 1].kind != Capture::ServerAction::Kind::Delay
                        || actions[index - 1].ms != delay))
                    failInvariant("an AUTH failure without the throttle's delay before it");
                if (throttled != (authFailures >= policy.disconnectAt))
                    failInvariant("an AUTH failure answered 535 or 421 against the throttle's policy");
                if (throttled)
                    closeExpected = true;
            }
            start = end + 2;
        }
    };

    auto drain = [&] {
        const QList<Capture::ServerAction> actions = session.takeActions();
        if (actions.size() > 100000)
            failInvariant("an action list without bound");
        for (qsizetype i = 0; i < actions.size(); ++i) {
            const Capture::ServerAction &a = actions[i];
            using K = Capture::ServerAction::Kind;
            if (closed)
                failInvariant("an action after Close");
            if (closeExpected && a.kind != K::Close)
                failInvariant("the throttle's 421 not followed by Close");
            switch (a.kind) {
            case K::Write:
                checkReplies(a.bytes);
                checkAuthFailures(actions, i);
                written += a.bytes.size();
                if (written > 64 * received + 1024)
                    failInvariant("more than 64 bytes of replies per input byte");
                break;
            case K::Close:
                closed = true;
                closeExpected = false;
                break;
            case K::MessageBegin:
                if (inMessage)
                    failInvariant("MessageBegin inside a message");
                inMessage = true;
                messageBytes = 0;
                break;
            case K::MessageData:
                if (!inMessage)
                    failInvariant("MessageData outside a message");
                messageBytes += a.bytes.size();
                if (sc.maxSize > 0 && messageBytes > sc.maxSize)
                    failInvariant("more message data than the size limit");
                break;
            case K::MessageEnd:
                if (!inMessage)
                    failInvariant("MessageEnd outside a message");
                inMessage = false;
                storePending = true;
                break;
            case K::MessageAbort:
                inMessage = false;
                break;
            case K::StartTls:
            case K::Delay:
            case K::Authenticated:
                break;
            }
            if (a.kind == K::StartTls && !closed)
                session.tlsStarted(); // the harness's handshake always succeeds
        }
    };

    session.start();
    drain();
    for (qsizetype at = 0; at < input.size() && !closed; at += chunk) {
        now += 1000;
        session.setNow(now);
        const QByteArrayView part = input.sliced(at, std::min(chunk, input.size() - at));
        received += part.size();
        session.receive(part);
        drain();
        if (storePending) {
            storePending = false;
            session.messageStored(!storesFail, QStringLiteral("id-1"),
                                  storesFail ? QStringLiteral("disk full") : QString());
            drain();
        }
    }
    return 0;
}
