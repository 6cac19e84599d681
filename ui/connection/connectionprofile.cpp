#include "connectionprofile.h"

#include <QFileInfo>
#include <QHostAddress>

#include <algorithm>

// How it works: the profile is a plain value. The URL form is derived from it
// (toUrl) and parsed back with the engine's own SmtpUrl, so the panel and the
// client agree on what every scheme means. Validation here only catches what
// must be fixed before a connection is even tried; the engine checks again.

namespace {

bool isControl(QChar c)
{
    const char16_t u = c.unicode();
    return u < 0x20 || (u >= 0x7f && u <= 0x9f);
}

bool hasControl(const QString &s)
{
    for (const QChar c : s) {
        if (isControl(c))
            return true;
    }
    return false;
}

// What SmtpClient::setUserPass / setOAuthToken expect for token mechanisms: the
// password field holds the bearer token (RFC 7628 3.1).
bool isTokenMechanism(const QString &mechanism)
{
    const QString m = mechanism.toUpper();
    return m == QLatin1String("XOAUTH2") || m == QLatin1String("OAUTHBEARER");
}

bool isAsciiLetterOrDigit(QChar c)
{
    return (c >= QLatin1Char('a') && c <= QLatin1Char('z')) || (c >= QLatin1Char('A') && c <= QLatin1Char('Z'))
        || (c >= QLatin1Char('0') && c <= QLatin1Char('9'));
}

// The EHLO argument (RFC 5321 4.1.1.1): a Domain (RFC 5321 4.1.2: ASCII labels
// of letters, digits and inner hyphens) or an address literal (RFC 5321 4.1.3:
// "[192.0.2.1]" or "[IPv6:2001:db8::1]"). The engine checks it again before
// EHLO; the panel only needs a clear message early.
QString ehloProblem(const QString &name)
{
    if (name.isEmpty())
        return QStringLiteral("EHLO name: empty; use this host's name or an address literal such as [127.0.0.1]");
    if (hasControl(name))
        return QStringLiteral("EHLO name: contains a control character (CR, LF, NUL, ...)");
    if (name.contains(QLatin1Char(' ')))
        return QStringLiteral("EHLO name: contains a space");
    if (name.toUtf8().size() > 255) // RFC 5321 4.5.3.1.2: a domain is at most 255 octets
        return QStringLiteral("EHLO name: longer than 255 bytes (RFC 5321 4.5.3.1.2)");
    if (name.startsWith(QLatin1Char('['))) {
        if (!name.endsWith(QLatin1Char(']')))
            return QStringLiteral("EHLO name: an address literal must end with ']'");
        QString inner = name.mid(1, name.size() - 2);
        const bool v6 = inner.startsWith(QLatin1String("IPv6:"), Qt::CaseInsensitive);
        if (v6)
            inner = inner.mid(5);
        QHostAddress address;
        const bool ok = address.setAddress(inner)
            && address.protocol() == (v6 ? QAbstractSocket::IPv6Protocol : QAbstractSocket::IPv4Protocol);
        if (!ok)
            return QStringLiteral("EHLO name: '%1' is not an address literal such as [192.0.2.1] or "
                                  "[IPv6:2001:db8::1]")
                .arg(name);
        return {};
    }
    QString domain = name;
    if (domain.endsWith(QLatin1Char('.')))
        domain.chop(1);
    const QStringList labels = domain.split(QLatin1Char('.'));
    for (const QString &label : labels) {
        if (label.isEmpty())
            return QStringLiteral("EHLO name: '%1' has an empty label").arg(name);
        if (label.size() > 63)
            return QStringLiteral("EHLO name: a label is longer than 63 characters");
        if (label.startsWith(QLatin1Char('-')) || label.endsWith(QLatin1Char('-')))
            return QStringLiteral("EHLO name: a label starts or ends with '-'");
        for (const QChar c : label) {
            if (!isAsciiLetterOrDigit(c) && c != QLatin1Char('-'))
                return QStringLiteral("EHLO name: '%1' is not allowed; use ASCII letters, digits, '-' and '.' "
                                      "(an internationalised name goes in its xn-- form)")
                    .arg(c);
        }
    }
    return {};
}

// SmtpUrl cuts user info at the LAST '@' after "scheme://" (see smtpurl.cpp) and
// refuses a user without a password; the panel's URL never carries the password,
// so a bare "user@" gets a placeholder password for parsing only. Returns the
// position where it was inserted, or -1.
qsizetype insertPasswordPlaceholder(QString *url)
{
    qsizetype start = 0;
    const qsizetype sep = url->indexOf(QStringLiteral("://"));
    if (sep >= 0) {
        const QStringView prefix = QStringView(*url).left(sep);
        if (!prefix.contains(QLatin1Char('@')) && !prefix.contains(QLatin1Char(':'))
            && !prefix.contains(QLatin1Char('/')))
            start = sep + 3;
    }
    if (start < url->size() && url->at(start) == QLatin1Char('/'))
        return -1; // a UNIX socket path has no user info
    const qsizetype at = url->lastIndexOf(QLatin1Char('@'));
    if (at <= start)
        return -1;
    if (QStringView(*url).mid(start, at - start).contains(QLatin1Char(':')))
        return -1;
    url->insert(at, QStringLiteral(":x"));
    return at;
}

} // namespace

QString ConnectionProfile::securityName(Security s)
{
    switch (s) {
    case Security::None:
        return QStringLiteral("none");
    case Security::StartTlsIfOffered:
        return QStringLiteral("starttls-if-offered");
    case Security::StartTlsRequired:
        return QStringLiteral("starttls-required");
    case Security::ImplicitTls:
        return QStringLiteral("implicit-tls");
    }
    return {};
}

std::optional<ConnectionProfile::Security> ConnectionProfile::securityFromName(const QString &name)
{
    for (const Security s : {Security::None, Security::StartTlsIfOffered, Security::StartTlsRequired,
                             Security::ImplicitTls}) {
        if (securityName(s) == name)
            return s;
    }
    return std::nullopt;
}

int ConnectionProfile::usualPort(Security s)
{
    switch (s) {
    case Security::None:
        return SmtpClient::SmtpPort; // RFC 5321 4.5.4.2 relay port
    case Security::StartTlsIfOffered:
    case Security::StartTlsRequired:
        return SmtpClient::EsmtpPort; // RFC 6409 3.1 submission
    case Security::ImplicitTls:
        return SmtpClient::SmtpsPort; // RFC 8314 3.3 submissions
    }
    return SmtpClient::SmtpPort;
}

QStringList ConnectionProfile::mechanisms()
{
    return {QStringLiteral("PLAIN"),       QStringLiteral("LOGIN"),         QStringLiteral("CRAM-MD5"),
            QStringLiteral("SCRAM-SHA-1"), QStringLiteral("SCRAM-SHA-256"), QStringLiteral("XOAUTH2"),
            QStringLiteral("OAUTHBEARER")};
}

QString ConnectionProfile::toUrl() const
{
    // Pick the scheme whose meaning matches the security mode (smtpurl.h table),
    // and among two with the same flags the one whose default port is ours so
    // the URL reads naturally. None has no scheme of its own: smtp:// (the
    // STARTTLS policy is not expressible in a URL).
    SmtpUrl url;
    url.host = host;
    url.port = quint16(std::clamp(port, 0, 65535));
    url.user = user;
    switch (security) {
    case Security::None:
        url.scheme = QStringLiteral("smtp");
        break;
    case Security::StartTlsIfOffered:
        url.scheme = port == SmtpClient::EsmtpPort ? QStringLiteral("esmtp") : QStringLiteral("smtp");
        break;
    case Security::StartTlsRequired:
        url.scheme = port == SmtpClient::SmtpPort ? QStringLiteral("smtptls") : QStringLiteral("esmtptls");
        url.tls = true;
        break;
    case Security::ImplicitTls:
        url.scheme = QStringLiteral("smtps");
        url.ssl = true;
        break;
    }
    return url.toDisplayString(); // never includes the password
}

std::optional<ConnectionProfile> ConnectionProfile::fromUrl(const QString &url, const ConnectionProfile &base,
                                                            QString *error)
{
    QString text = url.trimmed();
    const qsizetype placeholder = insertPasswordPlaceholder(&text);
    SmtpError parseError;
    const auto parsed = SmtpUrl::parse(text, &parseError);
    if (!parsed) {
        if (error)
            *error = parseError.message;
        return std::nullopt;
    }
    if (parsed->unixSocket) {
        if (error)
            *error = QStringLiteral("UNIX socket paths are not supported; use host:port");
        return std::nullopt;
    }
    ConnectionProfile out = base;
    out.host = parsed->host;
    out.port = parsed->port;
    out.user = parsed->user;
    if (placeholder < 0 && !parsed->password.isEmpty())
        out.password = parsed->password; // typed into the URL: keep it, the URL shown drops it
    if (parsed->ssl)
        out.security = Security::ImplicitTls;
    else if (parsed->tls)
        out.security = Security::StartTlsRequired;
    else if (base.security != Security::None)
        out.security = Security::StartTlsIfOffered; // the reference's default for smtp/esmtp
    // else: None is written as smtp:// and stays None when that URL is read back.
    if (error)
        error->clear();
    return out;
}

int ConnectionProfile::suggestedPort() const
{
    // RFC 8314 3.3: 465 is implicit TLS; RFC 6409 3.1: 587 (and 25) start in
    // plain text and upgrade with STARTTLS (RFC 3207 4).
    if (security == Security::ImplicitTls && (port == SmtpClient::EsmtpPort || port == SmtpClient::SmtpPort))
        return SmtpClient::SmtpsPort;
    if ((security == Security::StartTlsIfOffered || security == Security::StartTlsRequired)
        && port == SmtpClient::SmtpsPort)
        return SmtpClient::EsmtpPort;
    return 0;
}

QString ConnectionProfile::mismatchHint() const
{
    if (security == Security::ImplicitTls && (port == SmtpClient::EsmtpPort || port == SmtpClient::SmtpPort)) {
        return QStringLiteral("Port %1 normally starts in plain text and upgrades with STARTTLS (RFC 3207); "
                              "implicit TLS is normally on port 465 (RFC 8314 3.3). The connection will "
                              "probably time out in the TLS handshake.")
            .arg(port);
    }
    if ((security == Security::StartTlsIfOffered || security == Security::StartTlsRequired)
        && port == SmtpClient::SmtpsPort) {
        return QStringLiteral("Port 465 expects TLS from the first byte (RFC 8314 3.3); choose implicit TLS, "
                              "or port 587 for STARTTLS (RFC 6409).");
    }
    if (security == Security::None && !user.isEmpty()) {
        // RFC 4954 4 and RFC 8314 3: credentials should only cross an encrypted
        // connection; most servers do not even offer AUTH before TLS.
        return QStringLiteral("A user name is set but TLS is off: the password would cross the network in "
                              "clear text, and most servers refuse AUTH without TLS (RFC 4954 4).");
    }
    return {};
}

QString ConnectionProfile::validationProblem() const
{
    const QString trimmedHost = host.trimmed();
    if (trimmedHost.isEmpty())
        return QStringLiteral("Host: the host name is empty");
    if (hasControl(host))
        return QStringLiteral("Host: contains a control character (CR, LF, NUL, ...)");
    if (host.contains(QLatin1Char(' ')) || host.contains(QLatin1Char('@')) || host.contains(QLatin1Char('/')))
        return QStringLiteral("Host: a host name cannot contain spaces, '@' or '/'");
    if (port < 1 || port > 65535)
        return QStringLiteral("Port: %1 is outside 1-65535").arg(port);
    {
        // Let the engine's URL parser judge the host syntax (labels, IPv4, IPv6),
        // so the panel accepts exactly what the client will.
        QString bare = trimmedHost;
        if (bare.startsWith(QLatin1Char('[')) && bare.endsWith(QLatin1Char(']')))
            bare = bare.mid(1, bare.size() - 2);
        const QString shown = bare.contains(QLatin1Char(':')) ? QLatin1Char('[') + bare + QLatin1Char(']') : bare;
        SmtpError hostError;
        if (!SmtpUrl::parse(QStringLiteral("smtp://%1:%2").arg(shown).arg(port), &hostError))
            return QStringLiteral("Host: %1").arg(hostError.message);
    }
    if (hasControl(user))
        return QStringLiteral("User: contains a control character (CR, LF, NUL, ...)");
    // RFC 4616 2: NUL separates the PLAIN fields; CR/LF would end an AUTH line.
    if (password.contains(QChar(0)) || password.contains(QLatin1Char('\r')) || password.contains(QLatin1Char('\n')))
        return QStringLiteral("Password: contains CR, LF or NUL");
    if (!mechanism.isEmpty() && !mechanisms().contains(mechanism.toUpper()))
        return QStringLiteral("Mechanism: '%1' is not a supported SASL mechanism").arg(mechanism);
    if (isTokenMechanism(mechanism) && (user.isEmpty() || password.isEmpty()))
        return QStringLiteral("Mechanism: %1 needs the user and the access token (in the password field)")
            .arg(mechanism.toUpper());
    if (!password.isEmpty() && user.isEmpty())
        return QStringLiteral("User: a password is set but the user name is empty");
    if (const QString e = ehloProblem(ehloName); !e.isEmpty())
        return e;
    if (hasControl(tlsName) || tlsName.contains(QLatin1Char(' ')))
        return QStringLiteral("TLS name: contains a space or control character");
    if (!caFile.isEmpty()) {
        const QFileInfo info(caFile);
        if (!info.exists())
            return QStringLiteral("CA file: '%1' does not exist").arg(caFile);
        if (!info.isFile() || !info.isReadable())
            return QStringLiteral("CA file: '%1' is not a readable file").arg(caFile);
    }
    if (connectTimeoutMs <= 0)
        return QStringLiteral("Connect timeout: must be more than 0");
    if (readTimeoutMs <= 0)
        return QStringLiteral("Read timeout: must be more than 0");
    if (warningMs < 0 || warningBytesPerSecond < 0)
        return QStringLiteral("Warning thresholds: must not be negative");
    return {};
}

std::unique_ptr<SmtpClient> ConnectionProfile::createClient() const
{
    if (const QString problem = validationProblem(); !problem.isEmpty())
        throw SmtpException(SmtpError::make(SmtpError::Category::Usage, QStringLiteral("PROFILE-ERROR"),
                                            QStringLiteral("profile"), problem));

    auto client = std::make_unique<SmtpClient>(host.trimmed(), port);
    switch (security) {
    case Security::None:
        // No STARTTLS even when offered (the --no-starttls choice); ssl and tls off.
        client->setStartTlsPolicy(SmtpClient::StartTlsPolicy::Never);
        break;
    case Security::StartTlsIfOffered:
        // The reference's default: upgrade when EHLO lists STARTTLS (RFC 3207 4).
        client->setStartTlsPolicy(SmtpClient::StartTlsPolicy::Opportunistic);
        break;
    case Security::StartTlsRequired:
        client->tls(true);
        break;
    case Security::ImplicitTls:
        client->ssl(true);
        break;
    }
    if (!user.isEmpty()) {
        if (isTokenMechanism(mechanism))
            client->setOAuthToken(user, password.toUtf8());
        else
            client->setUserPass(user, password);
    }
    client->setAuthMechanism(mechanism);
    if (!caFile.isEmpty())
        client->setCaFile(caFile);
    client->setInsecure(!verifyCertificates);
    if (!tlsName.isEmpty())
        client->setPeerVerifyName(tlsName);
    client->setEhloName(ehloName);
    client->setConnectTimeout(connectTimeoutMs);
    client->setReadTimeout(readTimeoutMs);
    client->test(testMode);
    client->setKeepAlive(keepAlive);
    client->setShowSecrets(showSecrets);
    // Warning thresholds need the controller's queue: SendController applies them.
    return client;
}
