#pragma once
// SASL client steps for SMTP AUTH (RFC 4954), without I/O.
//
// PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1 and SCRAM-SHA-256 are computed by libgsasl
// (a maintained SASL library; SCRAM is too easy to get subtly wrong by hand).
// XOAUTH2 and OAUTHBEARER (RFC 7628) are single formatted client responses that
// libgsasl does not offer, so they are built here.
//
// Data crossing this API is raw (already base64-decoded challenges, not yet
// base64-encoded responses); the SMTP session does the base64 framing.

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <memory>

namespace Smtp {

struct SaslCredentials
{
    QString user;          // authentication identity (authcid)
    QString password;
    QString authzid;       // authorization identity, usually empty
    QByteArray oauthToken; // bearer token for XOAUTH2 / OAUTHBEARER
    QString host;          // server host name (OAUTHBEARER "host=")
    quint16 port = 0;      // server port (OAUTHBEARER "port=")
};

class SaslClient
{
public:
    enum class Step { Continue, Done, Failed };

    // Limits against hostile servers (docs/security.md): step() fails
    // once more than MaxRounds challenges arrived in one exchange, or when one
    // decoded challenge is larger than MaxChallengeSize octets.
    static constexpr int MaxRounds = 10;
    static constexpr qsizetype MaxChallengeSize = 64 * 1024;
    // SCRAM iteration counts accepted from the server-first message. Below the
    // RFC 7677 4 floor an active attacker could make the client publish a proof
    // that is cheap to brute-force; above the ceiling (up to i=4294967295) PBKDF2
    // would keep the worker thread busy for hours.
    static constexpr quint32 MinScramIterations = 4096;
    static constexpr quint32 MaxScramIterations = 1000000;

    SaslClient();
    ~SaslClient();
    SaslClient(const SaslClient &) = delete;
    SaslClient &operator=(const SaslClient &) = delete;

    // Every mechanism this client can run, strongest first:
    // SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN, then OAUTHBEARER, XOAUTH2
    // (token mechanisms are only chosen when a token is given).
    [[nodiscard]] static QStringList supportedMechanisms();
    // The strongest mechanism in `offered` (case-insensitive) that can run with
    // the given credentials: a token picks OAUTHBEARER over XOAUTH2 and nothing
    // else; a password picks from the password mechanisms. Empty if none fits.
    [[nodiscard]] static QString choose(const QStringList &offered, const SaslCredentials &credentials);
    // True if the mechanism sends the password in a recoverable form (PLAIN,
    // LOGIN) or a bearer token (XOAUTH2, OAUTHBEARER): such mechanisms must not
    // run without TLS unless the user allows it.
    [[nodiscard]] static bool exposesSecret(const QString &mechanism);

    // Prepares `mechanism` (upper case). Refuses CR/LF-free but otherwise invalid
    // input: a NUL in user, password or authzid for PLAIN (RFC 4616 2), a missing
    // password or token. Returns false and sets *error on refusal.
    // Also refused: a NUL for the other password mechanisms (libgsasl takes C
    // strings and would cut the value), an authzid with LOGIN or CRAM-MD5 (no
    // field for it), and for the token mechanisms a token that is not visible
    // ASCII or a user/host with control characters (they would break the
    // \x01-separated format). The mechanism name is matched case-insensitively.
    // start() may be called again to begin a fresh exchange.
    bool start(const QString &mechanism, const SaslCredentials &credentials, QString *error);

    [[nodiscard]] QString mechanism() const;
    // True when the mechanism sends data with the AUTH command (RFC 4954 4,
    // "initial response"): PLAIN, SCRAM-*, XOAUTH2, OAUTHBEARER. LOGIN and
    // CRAM-MD5 wait for the server's first challenge.
    [[nodiscard]] bool hasInitialResponse() const;
    // The initial response (raw), valid after start() when hasInitialResponse().
    bool initialResponse(QByteArray *response, QString *error);

    // One round: the server's decoded 334 challenge in, the raw response out.
    // Continue: send *response and expect another reply. Done: the client side is
    // complete (the response may still need sending, e.g. SCRAM's final proof is
    // verified here once the server's final message is passed in).
    // Failed: *error says why (bad challenge, server signature mismatch, OAuth
    // error JSON: then *response holds what to send to end the exchange, e.g. an
    // empty response for XOAUTH2, "\x01" for OAUTHBEARER per RFC 7628 3.2.3).
    Step step(const QByteArray &challenge, QByteArray *response, QString *error);

    // After step() returned Failed: true when *response is the mechanism's own
    // closing message, which the caller base64-encodes and sends before reading
    // the final 5xx (OAuth error JSON: "" for XOAUTH2, "\x01" for OAUTHBEARER,
    // RFC 7628 3.2.3). False when the exchange must instead be cancelled with a
    // line holding a single "*" (RFC 4954 4). (Added: an empty XOAUTH2 closing
    // response could not otherwise be told apart from "nothing to send".)
    [[nodiscard]] bool failureHasResponse() const;

    // For SCRAM: checks the server's final message (v=...) when it arrives with
    // the 235 success reply (RFC 4954 4 allows additional data with 235)
    // rather than as a 334 challenge. True if verified or not applicable.
    // For SCRAM it is false when success comes before the exchange finished or
    // without a server signature: the server's identity is then unproven
    // (RFC 5802 3, mutual authentication).
    bool verifyServerFinal(const QByteArray &serverFinal, QString *error);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Smtp
