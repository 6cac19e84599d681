#pragma once
// How to connect: every setting that shapes an SMTP session, as one value with
// one set of defaults. The engine (SmtpClient, the driver, the transport), the
// window's profiles, the command line and the diagnosis all read and write this
// type, so a default or a name is defined here and nowhere else.
//
// The reference's ssl and tls flags (qore-behaviour.md) and the STARTTLS policy
// are one choice of four, `Security`; SmtpClient::ssl()/tls() are views over it.
//
// fields() lists every setting with its key, so that storage (profiles, history
// records) and the tests that check each setting is reachable from the window
// and the command line walk one list.

#include "smtperror.h"

#include "protocol/security.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <QVariant>
#include <QVariantMap>
#include <optional>

struct ConnectionSettings
{
    // Plain, StartTlsOpportunistic (the reference's default), StartTlsRequired
    // (its tls flag), ImplicitTls (its ssl flag): protocol/security.h.
    using Security = Smtp::Security;

    static constexpr int DefaultConnectTimeoutMs = 30000;
    static constexpr int DefaultReadTimeoutMs = 15000;
    static constexpr int DefaultDataTimeoutMs = 600000; // RFC 5321 4.5.3.2.6: 10 minutes

    // Target
    QString host;                  // without brackets; an IPv6 literal as "::1"
    quint16 port = 25;             // defaultPort(security) unless chosen
    Security security = Security::StartTlsOpportunistic;
    // Credentials (RFC 4954). `password` is never stored by a profile or a record:
    // the keychain holds it. With XOAUTH2/OAUTHBEARER, `oauthToken` is the bearer
    // token (RFC 7628 3.1) and `password` is unused.
    QString user;
    QString password;
    QByteArray oauthToken;
    QString mechanism;             // empty: the strongest the server offers
    bool allowPlaintextAuth = false; // AUTH without TLS (docs/security.md, section H)
    // Trust
    QString caFile;                // extra trusted CA certificates (PEM)
    bool verifyPeer = true;        // false: --insecure (said in every report)
    QString peerName;              // certificate name and SNI when not the host (--tls-name)
    // Session
    QString ehloName = QStringLiteral("localhost");
    int connectTimeoutMs = DefaultConnectTimeoutMs; // TCP connect and the TLS handshake
    int readTimeoutMs = DefaultReadTimeoutMs;       // each awaited reply
    int dataTimeoutMs = DefaultDataTimeoutMs;       // the reply to the end of data
    bool pipelining = true;        // RFC 2920, when offered
    bool chunking = true;          // RFC 3030 BDAT, when offered
    bool keepAlive = false;        // keep the session open after a send
    bool testMode = false;         // no connection: a simulated server
    bool showSecrets = false;      // AUTH data in transcripts, events and logs
    // Warning queue thresholds (the reference's setWarningQueue); 0: off.
    int warnSlowMs = 0;
    int warnMinBytesPerSecond = 0;

    friend bool operator==(const ConnectionSettings &, const ConnectionSettings &) = default;

    // ---- the security mode
    // Names: Smtp::securityName / securityFromName (protocol/security.h).
    [[nodiscard]] QString securityName() const { return Smtp::securityName(security); }
    // The reference's flags as views over `security`.
    [[nodiscard]] bool ssl() const { return security == Security::ImplicitTls; }
    [[nodiscard]] bool tls() const { return security == Security::StartTlsRequired; }
    [[nodiscard]] bool tlsRequired() const { return ssl() || tls(); }

    // ---- ports
    // The port when none is given: 465 for implicit TLS, else 25 (the reference's
    // URL table; smtpurl.h).
    [[nodiscard]] static quint16 defaultPort(Security s);
    // The port a mode is normally used on, for a panel that follows the mode:
    // 25 (plain, RFC 5321 4.5.4.2), 587 (STARTTLS, RFC 6409 3.1), 465 (RFC 8314 3.3).
    [[nodiscard]] static quint16 usualPort(Security s);
    // The port mismatchHint() proposes instead of the current one, or 0.
    [[nodiscard]] quint16 suggestedPort() const;
    // A hint when port and mode look mismatched (587 with implicit TLS, 465 with
    // STARTTLS), or a user with TLS off; empty otherwise.
    [[nodiscard]] QString mismatchHint() const;

    // ---- URL (smtpurl.h)
    // "esmtptls://user@host:587", never with the password. Plain has no scheme
    // of its own: smtp:// (which reads back as opportunistic STARTTLS).
    [[nodiscard]] QString toUrl() const;
    // Host, port, security, user and password from a URL; every other field from
    // `base`. nullopt and *error (PARSE-URL-ERROR, SMTPCLIENT-UNKNOWN-PROTOCOL,
    // SMTPCLIENT-INVALID-AUTHENTICATION, or a UNIX socket path) otherwise.
    [[nodiscard]] static std::optional<ConnectionSettings> fromUrl(const QString &url, const ConnectionSettings &base,
                                                                   SmtpError *error);
    // "host:port", brackets around IPv6.
    [[nodiscard]] QString target() const;

    // ---- checks
    // The first problem that must be fixed before connecting, naming the field
    // ("Port: 0 is outside 1-65535"); empty when none. The engine checks again.
    [[nodiscard]] QString validationProblem() const;
    [[nodiscard]] static QStringList mechanisms();     // the SASL mechanisms offered by name
    [[nodiscard]] static bool isTokenMechanism(const QString &mechanism); // XOAUTH2, OAUTHBEARER
    // docs/security.md section A: an open session is reused only with the same
    // target, security, credentials and trust (a requirement can't be bypassed by reuse).
    [[nodiscard]] bool sameConnectionAs(const ConnectionSettings &o) const;

    // ---- every field by key
    struct Field
    {
        const char *key;    // "host", "port", "security", ..., the storage and JSON key
        bool secret;        // never written by toVariantMap (password, oauth_token)
    };
    [[nodiscard]] static const QList<Field> &fields();
    // Every field but the secrets, by key; security by securityName.
    [[nodiscard]] QVariantMap toVariantMap() const;
    // Fields present in `map` replace those of `base`; a value of the wrong type
    // or an unknown security name gives nullopt and *error naming the key.
    [[nodiscard]] static std::optional<ConnectionSettings> fromVariantMap(const QVariantMap &map,
                                                                          const ConnectionSettings &base,
                                                                          QString *error);
};
