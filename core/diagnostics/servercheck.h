#pragma once
// The per-endpoint checklist of a diagnosis: what an expert does by hand with
// telnet, openssl s_client and swaks, run step by step, each step timed and
// given a verdict with a sentence saying why and what to fix.
//
// Check ids (scope = Endpoint::target()), in the order they run:
//   tcp               TCP connect (open / refused / filtered, with the time it took)
//   tls-mode          the port's TLS mode against its role: 465 must speak TLS from the
//                     first byte (RFC 8314 3.3), 587/25 must greet in clear and offer
//                     STARTTLS (RFC 3207); a mix-up (465 speaking STARTTLS, 587 speaking
//                     implicit TLS) fails with the setting to use
//   greeting          220 greeting (code, time to greet, name)
//   ehlo              EHLO before TLS: capabilities (HELO fallback is a warning)
//   starttls          STARTTLS offered and the handshake (submission: required)
//   ehlo-after-tls    EHLO after TLS; data has before/after lists side by side; warns on
//                     changes that matter (AUTH appearing is expected, SIZE shrinking ...)
//   auth-before-tls   AUTH offered in clear: fail on submission, warn on relay
//                     (RFC 8314 4.1, RFC 4954 4)
//   tls-protocol      negotiated version and cipher (TLS 1.0/1.1 fail: RFC 8996)
//   tls-versions      each of TLS 1.0, 1.1, 1.2, 1.3 tried on its own connection:
//                     accepted / refused / not testable from here
//   certificate-chain chain verification against the system CAs (+ caFile); the exact
//                     verification errors in `detail`
//   certificate-expiry days left (warn under 14, fail when expired or not yet valid)
//   certificate-name  the name checked (host or peerVerifyName) against the SANs, in words
//   auth:MECH         one per advertised mechanism (PLAIN, LOGIN, CRAM-MD5, SCRAM-*,
//                     XOAUTH2, OAUTHBEARER) tried with the given credentials on its own
//                     session; mechanisms SMTP Scope cannot speak are Skipped
//   auth              summary: skipped without credentials; fail when none worked
//   ext:PIPELINING, ext:SIZE, ext:8BITMIME, ext:SMTPUTF8, ext:DSN, ext:CHUNKING
//                     exercised in one harmless transaction (MAIL FROM with the
//                     parameters, one RCPT to the sender itself) ended by RSET; never DATA
//                     or BDAT. SIZE: a MAIL with SIZE above the limit must be refused with
//                     552 (RFC 1870 6)
//   relay             only with consent (CheckOptions::relayCheck): MAIL FROM and RCPT TO
//                     outside domains without AUTH, then RSET; accepted => fail (open relay)
//   quit              QUIT answered (RFC 5321 4.1.1.10); a server that drops instead warns
//
// Threading: every call is blocking and spins local event loops, so it runs on a
// thread with a Qt event dispatcher (the main thread of the CLI, a QThread in the
// window). cancel() may be called from any thread.

#include "diagnosticreport.h"

#include <QElapsedTimer>
#include <QString>
#include <atomic>
#include <functional>

namespace Diagnostics {

struct CheckOptions
{
    QString ehloName = QStringLiteral("localhost");
    QString caFile;            // extra trusted CA certificates (PEM)
    bool insecure = false;     // the user turned verification off: checks still report every
                               // certificate error, and the run goes on past them either way
    // Credentials: tried only inside TLS unless allowPlaintextAuth (never silently in clear).
    QString user;
    QString password;
    QByteArray oauthToken;     // XOAUTH2 / OAUTHBEARER
    QString mechanism;         // the user's choice (empty: strongest offered); the one the
                               // `auth` summary and the command lines use
    bool allowPlaintextAuth = false;
    bool showSecrets = false;  // AUTH data in the transcripts (off: redacted)
    int connectTimeoutMs = 10000; // per connection: TCP connect (+ implicit TLS handshake)
    int readTimeoutMs = 15000;    // per awaited reply

    bool scanTlsVersions = true;
    bool tryEachMechanism = true;  // false: only the engine's choice of mechanism
    bool exerciseExtensions = true;
    // Consent to the open-relay check. The addresses are in domains reserved for
    // documentation (RFC 2606), so an open relay has nowhere to deliver.
    bool relayCheck = false;
    QString relayFrom = QStringLiteral("relay-check@example.com");
    QString relayTo = QStringLiteral("relay-check@example.net");
    // Envelope sender for the extension exercise; empty: `user` when it is an
    // address, else the null reverse-path <> (RFC 5321 4.5.5).
    QString mailFrom;

    // For Report::options, never a password or token: ehlo_name, ca_file, insecure, user,
    // mechanism, has_password, has_oauth_token, allow_plaintext_auth, connect_timeout_ms,
    // read_timeout_ms, scan_tls_versions, try_each_mechanism, exercise_extensions,
    // relay_check, relay_from, relay_to, mail_from.
    [[nodiscard]] QVariantMap toVariantMap() const;
};

class ServerChecker
{
public:
    explicit ServerChecker(CheckOptions options);
    ~ServerChecker();
    Q_DISABLE_COPY_MOVE(ServerChecker)

    using CheckFunction = std::function<void(const Check &)>;
    // Called with each check as it ends, on the calling thread (for live views).
    void setCheckFunction(CheckFunction f);
    using TranscriptFunction = std::function<void(const QString &scope, const TranscriptEntry &)>;
    // Called with each transcript line of every connection as it happens (redacted).
    void setTranscriptFunction(TranscriptFunction f);

    // Runs the whole checklist on one endpoint. `clock` started when the diagnosis
    // began (Check::startUs counts from it). Returns the endpoint with its facts
    // filled in; appends its checks to *checks (also passed to the check function).
    Endpoint run(const Endpoint &endpoint, const QElapsedTimer &clock, QList<Check> *checks);

    // Stops at once from any thread: the connection in progress is aborted, the
    // running step ends as Skipped ("cancelled"), and run() returns.
    void cancel();
    [[nodiscard]] bool isCancelled() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Diagnostics
