#pragma once
// A named connection profile: everything the connection panel edits, as a value.
// Saved by ProfileStore (QSettings; the password goes to the keychain only) and
// applied to an SmtpClient by SendController.

#include "client/smtpclient.h"

#include <QString>
#include <QStringList>
#include <memory>
#include <optional>

struct ConnectionProfile
{
    // The reference's ssl and tls flags are exclusive (qore-behaviour.md); this is
    // the four choices they and the STARTTLS policy give.
    enum class Security {
        None,              // plain, never STARTTLS (smtp:// with --no-starttls)
        StartTlsIfOffered, // the reference's default: STARTTLS when offered
        StartTlsRequired,  // tls flag: STARTTLS or fail (esmtptls://)
        ImplicitTls,       // ssl flag: TLS from the first byte (smtps://)
    };

    QString name = QStringLiteral("Default");
    QString host = QStringLiteral("localhost");
    int port = 587;
    Security security = Security::StartTlsRequired;
    QString user;
    QString password;          // never written to QSettings (ProfileStore uses the keychain)
    QString mechanism;         // empty: the strongest offered
    QString caFile;
    bool verifyCertificates = true;
    QString tlsName;           // certificate name to check when it is not the host (empty: the host)
    QString ehloName = QStringLiteral("localhost");
    int connectTimeoutMs = 30000;
    int readTimeoutMs = 60000;
    bool testMode = false;
    bool keepAlive = false;
    bool showSecrets = false;
    int warningMs = 0;         // warning queue thresholds (0: off)
    int warningBytesPerSecond = 0;

    [[nodiscard]] static QString securityName(Security s); // "none", "starttls-if-offered", ...
    // The inverse of securityName (for ProfileStore); nullopt for an unknown name.
    [[nodiscard]] static std::optional<Security> securityFromName(const QString &name);
    // The port a mode is normally used on: 25 (plain), 587 (STARTTLS, RFC 6409),
    // 465 (implicit TLS, RFC 8314 3.3).
    [[nodiscard]] static int usualPort(Security s);
    // The port mismatchHint() proposes instead of the current one, or 0.
    [[nodiscard]] int suggestedPort() const;
    // The SASL mechanisms the panel offers (an empty mechanism means "auto").
    [[nodiscard]] static QStringList mechanisms();
    // The URL for these settings ("esmtptls://user@host:587"), never with the password.
    [[nodiscard]] QString toUrl() const;
    // Host, port, security and user from a URL of one of the six reference
    // schemes; nullopt and *error (naming the problem) otherwise. Other fields keep
    // their values from `base`.
    [[nodiscard]] static std::optional<ConnectionProfile> fromUrl(const QString &url, const ConnectionProfile &base,
                                                                  QString *error);
    // A hint when port and security look mismatched (587 with implicit TLS, 465
    // with STARTTLS, 25/587 without TLS and a user), or empty.
    [[nodiscard]] QString mismatchHint() const;
    // A problem that must be fixed before connecting (empty host, port out of
    // range, CR/LF in a field, unreadable CA file), naming the field; or empty.
    [[nodiscard]] QString validationProblem() const;
    // A configured client (host, port, security, credentials, CA, verification,
    // EHLO name, timeouts, test mode, keep-alive, secrets). Throws SmtpException.
    [[nodiscard]] std::unique_ptr<SmtpClient> createClient() const;

    friend bool operator==(const ConnectionProfile &, const ConnectionProfile &) = default;
};
