#pragma once
// The capture server's SMTP session, sans-I/O (like the client's Smtp::Session):
// bytes in, actions out. No sockets, timers or threads: the CaptureServer does
// the I/O, the delays and the TLS handshake.
//
// Offers (RFC 5321 + extensions): PIPELINING (RFC 2920), SIZE (RFC 1870),
// 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), CHUNKING (RFC 3030), ENHANCEDSTATUSCODES
// (RFC 2034), STARTTLS (RFC 3207) when a certificate is available and TLS is not
// up yet, AUTH PLAIN LOGIN CRAM-MD5 (RFC 4954, 4616, 2195) when a user is
// configured (only over TLS unless allowPlaintextAuth). Message data is
// dot-unstuffed (DATA) or taken as is (BDAT) and handed out in chunks: the session
// never holds a whole message.

#include "fault.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <functional>
#include <memory>

namespace Capture {

struct ServerConfig
{
    QByteArray hostname = "smtpscope.capture";
    qint64 maxSize = 50LL * 1024 * 1024; // SIZE limit (0: none)
    bool tlsAvailable = false;   // a certificate is loaded: STARTTLS can be offered
    bool implicitTls = false;    // the connection is TLS from its first byte
    QString user;                // AUTH offered when not empty
    QString password;
    bool allowPlaintextAuth = false;
    int maxLineLength = 4096;    // a longer command line gets 500 (RFC 5321 4.5.3.1.4: 512 minimum)
};

// What the message store can take, as the session needs it for its replies.
struct StoreSpace
{
    bool full = false;     // a quota is reached: no room for one more message now
    qint64 freeBytes = -1; // bytes left under the byte quota; -1: no byte quota
    qint64 maxBytes = 0;   // the byte quota (0: none): a larger message can never be stored
};

// Shared by every session of one server: fault counters and the rate limit.
class FaultState
{
public:
    explicit FaultState(QList<Fault> faults = {});
    void setFaults(QList<Fault> faults);
    [[nodiscard]] QList<Fault> faults() const;
    // The fault to apply at `step` (for RCPT, to `recipient`), counting this
    // occurrence; nullptr when none. Thread-safe.
    [[nodiscard]] std::optional<Fault> next(Fault::Step step, const QString &recipient = {});
    // Rate limit: nullopt when one more message may be accepted now, else the
    // RateLimit fault whose limit is reached (msNow: a monotonic clock in ms,
    // given by the server). Counts messageAccepted() calls of the last 60 s.
    [[nodiscard]] std::optional<Fault> rateLimited(qint64 msNow);
    // (Added by the session's implementer.) A message was accepted (stored and
    // answered 250) at msNow: it counts against the rate limit for 60 s.
    void messageAccepted(qint64 msNow);

private:
    struct Private;
    std::shared_ptr<Private> d;
};

struct ServerAction
{
    enum class Kind {
        Write,        // bytes: send them
        Delay,        // ms: wait this long before the next action
        StartTls,     // start the TLS handshake now (after the preceding Write went out)
        Close,        // close the connection (after the preceding Writes)
        MessageBegin, // a message starts: from, recipients
        MessageData,  // bytes: the next part of the message (unstuffed)
        MessageEnd,   // the message is complete: store it, then call messageStored()
        MessageAbort, // the transaction ended without a complete message: discard
        Authenticated // user: a login succeeded
    };
    Kind kind = Kind::Write;
    QByteArray bytes;
    int ms = 0;
    QString from;
    QStringList recipients;
    QString user;
};

class ServerSession
{
public:
    ServerSession(ServerConfig config, std::shared_ptr<FaultState> faults);
    ~ServerSession();

    // The greeting (220, or a greeting fault).
    void start();
    // Bytes from the client (plaintext, or decrypted after TLS).
    void receive(QByteArrayView bytes);
    // The TLS handshake finished (after a StartTls action): RFC 3207 4.2, the
    // session starts over (EHLO again, nothing remembered).
    void tlsStarted();
    // The result of storing the message of the last MessageEnd: answers the end of
    // data with 250 and `id`; 452 4.3.1 when the store is full, 552 5.3.4 when the
    // message is larger than the store's byte quota; 451 4.3.0 with a generic
    // text on a storage error (RFC 5321 4.2.3): what failed, with local paths,
    // is for the server's own log, never for the peer.
    enum class StoreResult { Stored, Full, TooLarge, Failed };
    void messageStored(StoreResult result, const QString &id = {});
    // The same with ok = Stored, else Failed; `error` is not sent (see above).
    void messageStored(bool ok, const QString &id, const QString &error = {});
    // What the store can take now, for the replies at EHLO (SIZE), MAIL and RCPT
    // and the data size limit; the driver sets it before each receive() and
    // before messageStored(). The default: no quota.
    void setStoreSpace(const StoreSpace &space);
    // The server's clock for rate limits (ms, monotonic); set before each receive().
    void setNow(qint64 ms);
    // (Added by the session's implementer.) Where the random part of the
    // CRAM-MD5 challenge comes from (RFC 2195 2: "<random.time@hostname>");
    // the default is QRandomGenerator::system(). Tests pass a fixed source.
    void setRandomSource(std::function<quint64()> source);

    [[nodiscard]] QList<ServerAction> takeActions();
    [[nodiscard]] bool isClosed() const;
    [[nodiscard]] bool isEncrypted() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Capture
