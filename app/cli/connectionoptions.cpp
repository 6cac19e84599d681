#include "connectionoptions.h"

#include "inputfile.h"
#include "terminal.h"

#include "client/smtpurl.h"
#include "protocol/validation.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QRegularExpression>

namespace Cli {

namespace {

// A positive number of milliseconds, or 0 when the option is not given.
bool readMs(const QCommandLineParser &parser, const QString &name, int *ms, QString *error)
{
    if (!parser.isSet(name))
        return true;
    bool ok = false;
    const int v = parser.value(name).toInt(&ok);
    if (!ok || v <= 0) {
        *error = QStringLiteral("--%1: '%2' is not a positive number of milliseconds").arg(name, parser.value(name));
        return false;
    }
    *ms = v;
    return true;
}

} // namespace

void ConnectionOptions::declare(QCommandLineParser &p)
{
    p.addOptions({
        {QStringLiteral("url"),
         QStringLiteral("Server as a URL: [smtp|smtps|smtptls|esmtp|esmtps|esmtptls://][user[:password]@]host[:port]. "
                        "A password here is visible to other local users: prefer --password-file."),
         QStringLiteral("URL")},
        {QStringLiteral("host"), QStringLiteral("Server host name or IP address (instead of --url)."),
         QStringLiteral("HOST")},
        {QStringLiteral("port"), QStringLiteral("Server port (default 25, or 465 with --ssl)."), QStringLiteral("PORT")},
        {QStringLiteral("ssl"), QStringLiteral("Implicit TLS from the first byte (smtps, RFC 8314).")},
        {QStringLiteral("tls"), QStringLiteral("Require STARTTLS (RFC 3207): stop if it cannot be had.")},
        {QStringLiteral("no-starttls"), QStringLiteral("Never upgrade with STARTTLS, even when offered.")},
        {QStringLiteral("user"), QStringLiteral("User name for AUTH."), QStringLiteral("USER")},
        {QStringLiteral("password-file"),
         QStringLiteral("Read the password from the first line of FILE (\"-\": stdin). Also: $SMTPSCOPE_PASSWORD, "
                        "or a prompt without echo on a terminal."),
         QStringLiteral("FILE")},
        {QStringLiteral("auth"),
         QStringLiteral("Force a SASL mechanism (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256, XOAUTH2, "
                        "OAUTHBEARER). Default: the strongest offered."),
         QStringLiteral("MECH")},
        {QStringLiteral("oauth-token-file"),
         QStringLiteral("Bearer token for XOAUTH2/OAUTHBEARER from the first line of FILE."), QStringLiteral("FILE")},
        {QStringLiteral("allow-plaintext-auth"),
         QStringLiteral("Allow AUTH over an unencrypted connection (the password can be read on the network).")},
        {QStringLiteral("cafile"), QStringLiteral("Also trust the CA certificates in this PEM file."),
         QStringLiteral("FILE")},
        {QStringLiteral("insecure"),
         QStringLiteral("Do not verify the server certificate (said on stderr and in every report).")},
        {QStringLiteral("tls-name"),
         QStringLiteral("Name to verify the certificate against and send as SNI, when it differs from the host."),
         QStringLiteral("NAME")},
        {QStringLiteral("ehlo"), QStringLiteral("EHLO/HELO name (default: localhost)."), QStringLiteral("NAME")},
        {QStringLiteral("connect-timeout"), QStringLiteral("Connect and TLS handshake timeout (default 30000)."),
         QStringLiteral("MS")},
        {QStringLiteral("read-timeout"), QStringLiteral("Timeout for each server reply (default 15000)."),
         QStringLiteral("MS")},
        {QStringLiteral("data-timeout"),
         QStringLiteral("Timeout for the reply to the end of the message data (default 600000, RFC 5321 4.5.3.2.6)."),
         QStringLiteral("MS")},
        {QStringLiteral("no-pipelining"), QStringLiteral("Do not use PIPELINING (RFC 2920) even when offered.")},
        {QStringLiteral("no-chunking"), QStringLiteral("Do not use CHUNKING/BDAT (RFC 3030) even when offered.")},
        {QStringLiteral("show-secrets"),
         QStringLiteral("Show AUTH data (passwords, tokens) in the transcript instead of redacting it.")},
    });
}

bool ConnectionOptions::read(const QCommandLineParser &p, bool testMode, QString *error, QStringList *warnings)
{
    using Security = ConnectionSettings::Security;
    ConnectionSettings &s = m_settings;
    s = ConnectionSettings();
    s.testMode = testMode;
    const bool ssl = p.isSet(QStringLiteral("ssl"));
    const bool tls = p.isSet(QStringLiteral("tls"));
    const bool noStartTls = p.isSet(QStringLiteral("no-starttls"));
    if (ssl && tls) {
        *error = QStringLiteral("--ssl and --tls exclude each other: --ssl is TLS from the start, --tls is STARTTLS");
        return false;
    }
    s.security = ssl ? Security::ImplicitTls : tls ? Security::StartTlsRequired : Security::StartTlsOpportunistic;

    QString urlPassword;
    if (p.isSet(QStringLiteral("url"))) {
        for (const char *conflicting : {"host", "port", "ssl", "tls"}) {
            if (p.isSet(QString::fromLatin1(conflicting))) {
                *error = QStringLiteral("--url and --%1 exclude each other: the URL gives host, port and TLS mode "
                                        "(smtps:// for implicit TLS, smtptls:// or esmtptls:// for STARTTLS)")
                             .arg(QString::fromLatin1(conflicting));
                return false;
            }
        }
        SmtpError urlError;
        const auto url = ConnectionSettings::fromUrl(p.value(QStringLiteral("url")), s, &urlError);
        if (!url) {
            *error = QStringLiteral("--url: ") + urlError.toString();
            return false;
        }
        s = *url;
        m_portGiven = true; // the scheme (or the port) chose it
        urlPassword = s.password;
        s.password.clear();
        if (!urlPassword.isEmpty())
            warnings->append(QStringLiteral("the password in --url is visible to other local users (process "
                                            "list, shell history); prefer --password-file or $SMTPSCOPE_PASSWORD"));
    } else {
        s.host = p.value(QStringLiteral("host"));
        if (p.isSet(QStringLiteral("port"))) {
            bool ok = false;
            const uint port = p.value(QStringLiteral("port")).toUInt(&ok);
            if (!ok || port == 0 || port > 65535) {
                *error = QStringLiteral("--port: '%1' is not a TCP port (1-65535)").arg(p.value(QStringLiteral("port")));
                return false;
            }
            s.port = quint16(port);
            m_portGiven = true;
        } else {
            s.port = ConnectionSettings::defaultPort(s.security);
        }
    }
    if (s.host.startsWith(u'[') && s.host.endsWith(u']'))
        s.host = s.host.mid(1, s.host.size() - 2);
    if (s.host.isEmpty() && m_hostOptional) {
        // Nothing else to check about a host; credentials may still follow.
    } else if (s.host.isEmpty()) {
        if (!testMode) {
            *error = QStringLiteral("no server: give --url URL or --host HOST");
            return false;
        }
        s.host = QStringLiteral("localhost"); // test mode connects nowhere
    }
    if (const auto bad = Smtp::checkNoControlChars(s.host, u"host")) {
        *error = *bad;
        return false;
    }
    if (noStartTls) {
        if (s.tlsRequired()) {
            *error = QStringLiteral("--no-starttls contradicts a required TLS mode (--tls, --ssl or a TLS URL scheme)");
            return false;
        }
        s.security = Security::Plain;
    }

    if (p.isSet(QStringLiteral("user")))
        s.user = p.value(QStringLiteral("user"));
    if (const auto bad = Smtp::checkNoControlChars(s.user, u"user name")) {
        *error = QStringLiteral("--user: ") + *bad;
        return false;
    }
    s.mechanism = p.value(QStringLiteral("auth")).toUpper();
    static const QRegularExpression mechanismSyntax(QStringLiteral("^[A-Z0-9_-]{1,20}$")); // RFC 4422 3.1
    if (!s.mechanism.isEmpty() && !mechanismSyntax.match(s.mechanism).hasMatch()) {
        *error = QStringLiteral("--auth: '%1' is not a SASL mechanism name (RFC 4422 3.1)").arg(s.mechanism);
        return false;
    }
    s.allowPlaintextAuth = p.isSet(QStringLiteral("allow-plaintext-auth"));

    if (p.isSet(QStringLiteral("oauth-token-file"))) {
        if (!InputFile::readFirstLine(p.value(QStringLiteral("oauth-token-file")), QStringLiteral("--oauth-token-file"),
                                      &s.oauthToken, error))
            return false;
        if (s.user.isEmpty()) {
            *error = QStringLiteral("--oauth-token-file needs --user (the account the token is for)");
            return false;
        }
    }
    if (!s.user.isEmpty() && s.oauthToken.isEmpty()) {
        // Same user as in the URL: its password stands; otherwise look further.
        if (!urlPassword.isEmpty() && (!p.isSet(QStringLiteral("user")) || p.value(QStringLiteral("user")) == s.user))
            s.password = urlPassword;
        if (p.isSet(QStringLiteral("password-file")) || (s.password.isEmpty() && !testMode)) {
            if (!readPassword(p, error))
                return false;
        }
    } else if (p.isSet(QStringLiteral("password-file")) && s.oauthToken.isEmpty()) {
        *error = QStringLiteral("--password-file needs --user");
        return false;
    }

    s.caFile = p.value(QStringLiteral("cafile"));
    if (!s.caFile.isEmpty() && !QFileInfo(s.caFile).isFile()) {
        *error = QStringLiteral("--cafile: '%1' is not a readable file").arg(s.caFile);
        return false;
    }
    s.verifyPeer = !p.isSet(QStringLiteral("insecure"));
    if (!s.verifyPeer)
        warnings->append(QStringLiteral("--insecure: the server certificate is NOT verified; anyone on the path "
                                        "can impersonate the server"));
    s.peerName = p.value(QStringLiteral("tls-name"));
    if (const auto bad = Smtp::checkNoControlChars(s.peerName, u"--tls-name")) {
        *error = *bad;
        return false;
    }
    if (p.isSet(QStringLiteral("ehlo"))) {
        s.ehloName = p.value(QStringLiteral("ehlo"));
        if (const auto bad = Smtp::checkEhloName(s.ehloName)) {
            *error = QStringLiteral("--ehlo: ") + *bad;
            return false;
        }
    }
    if (!readMs(p, QStringLiteral("connect-timeout"), &s.connectTimeoutMs, error)
        || !readMs(p, QStringLiteral("read-timeout"), &s.readTimeoutMs, error)
        || !readMs(p, QStringLiteral("data-timeout"), &s.dataTimeoutMs, error))
        return false;
    m_connectTimeoutGiven = p.isSet(QStringLiteral("connect-timeout"));
    m_readTimeoutGiven = p.isSet(QStringLiteral("read-timeout"));
    s.showSecrets = p.isSet(QStringLiteral("show-secrets"));
    s.pipelining = !p.isSet(QStringLiteral("no-pipelining"));
    s.chunking = !p.isSet(QStringLiteral("no-chunking"));
    return true;
}

bool ConnectionOptions::readPassword(const QCommandLineParser &p, QString *error)
{
    if (p.isSet(QStringLiteral("password-file"))) {
        QByteArray line;
        if (!InputFile::readFirstLine(p.value(QStringLiteral("password-file")), QStringLiteral("--password-file"),
                                      &line, error))
            return false;
        m_settings.password = QString::fromUtf8(line);
        return true;
    }
    const QByteArray env = qgetenv("SMTPSCOPE_PASSWORD");
    if (!env.isEmpty()) {
        m_settings.password = QString::fromUtf8(env);
        return true;
    }
    if (Terminal::stdinIsTerminal()) {
        const auto typed = Terminal::readSecret(QStringLiteral("Password for %1@%2: ").arg(m_settings.user, m_settings.host));
        if (typed && !typed->isEmpty()) {
            m_settings.password = *typed;
            return true;
        }
        *error = QStringLiteral("no password was entered");
        return false;
    }
    *error = QStringLiteral("--user %1 needs a password: give --password-file FILE or set SMTPSCOPE_PASSWORD "
                            "(passwords are never taken as command-line arguments)")
                 .arg(m_settings.user);
    return false;
}

Diagnostics::CheckOptions ConnectionOptions::checkOptions() const
{
    const ConnectionSettings &s = m_settings;
    Diagnostics::CheckOptions o;
    o.ehloName = s.ehloName;
    o.caFile = s.caFile;
    o.insecure = !s.verifyPeer;
    o.user = s.user;
    o.password = s.password;
    o.oauthToken = s.oauthToken;
    o.mechanism = s.mechanism;
    o.allowPlaintextAuth = s.allowPlaintextAuth;
    o.showSecrets = s.showSecrets;
    // The checklist connects many times (each address, port and TLS version):
    // its own shorter timeouts stand unless the user chose them.
    if (m_connectTimeoutGiven)
        o.connectTimeoutMs = s.connectTimeoutMs;
    if (m_readTimeoutGiven)
        o.readTimeoutMs = s.readTimeoutMs;
    return o;
}

std::unique_ptr<SmtpClient> ConnectionOptions::createClient() const
{
    auto c = std::make_unique<SmtpClient>(m_settings.host, int(m_settings.port));
    c->setSettings(m_settings);
    return c;
}

} // namespace Cli
