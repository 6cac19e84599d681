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
    QString clientAddress;       // the client's IP address: the key of the AUTH throttle
};

// Failed AUTH attempts per client address, shared by every session of one server
// (like FaultState): the first few failures are answered at once, then each 535
// waits longer (a tarpit), and from disconnectAt on a failure is answered with 421
// and the connection closes (RFC 4954 6 leaves the policy to the server; 421 per
// RFC 5321 3.8, 4.7.0 a security policy reason per RFC 3463).
//
// Why per address and not per connection: a count kept by the connection is reset
// by reconnecting, which costs a client one TCP handshake, so it would throttle
// nothing. Keyed by the address, the count survives reconnects and parallel
// connections share it. It is forgotten after `windowMs` without a failure, so a
// client that mistyped a password is not locked out for long. A success does not
// reset it: on loopback every local process has the same address, and one
// process's good login must not clear another's failures.
class AuthThrottle
{
public:
    struct Policy
    {
        int freeFailures = 3;              // answered without delay
        int firstDelayMs = 250;            // the next failure waits this long, each later one twice as long
        int maxDelayMs = 4000;
        int disconnectAt = 7;              // this failure and every later one: 421 and close
        qint64 windowMs = 10 * 60 * 1000;  // the count restarts after this long without a failure
        int maxAddresses = 4096;           // addresses remembered (the oldest are forgotten first)
    };
    struct Verdict
    {
        int failures = 0;        // of this address in the window, this one included
        int delayMs = 0;         // wait this long before answering
        bool disconnect = false; // answer 421 and close instead of 535
    };

    AuthThrottle();
    explicit AuthThrottle(Policy policy);
    // Counts a failed attempt from `address` at msNow (a monotonic clock in ms,
    // given by the server) and says how to answer it. Thread-safe.
    [[nodiscard]] Verdict failed(const QString &address, qint64 msNow);
    // Failures of `address` still counted at msNow.
    [[nodiscard]] int failures(const QString &address, qint64 msNow) const;
    [[nodiscard]] Policy policy() const;

private:
    struct Private;
    std::shared_ptr<Private> d;
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
    // `authThrottle` is shared by the sessions of one server; without one, the
    // session counts its own failures (as one address).
    ServerSession(ServerConfig config, std::shared_ptr<FaultState> faults,
                  std::shared_ptr<AuthThrottle> authThrottle = nullptr);
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
    // Complete command lines, AUTH responses and message bytes taken so far. The
    // capture server's idle timer restarts only when this changes: a partial line
    // trickled one byte at a time is not activity (RFC 5321 4.5.3.2.7).
    [[nodiscard]] quint64 progress() const;
    [[nodiscard]] bool isClosed() const;
    [[nodiscard]] bool isEncrypted() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Capture
