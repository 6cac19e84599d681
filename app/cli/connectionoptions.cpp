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
    m_ssl = p.isSet(QStringLiteral("ssl"));
    m_tls = p.isSet(QStringLiteral("tls"));
    m_noStartTls = p.isSet(QStringLiteral("no-starttls"));
    if (m_ssl && m_tls) {
        *error = QStringLiteral("--ssl and --tls exclude each other: --ssl is TLS from the start, --tls is STARTTLS");
        return false;
    }

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
        const auto url = SmtpUrl::parse(p.value(QStringLiteral("url")), &urlError);
        if (!url) {
            *error = QStringLiteral("--url: ") + urlError.toString();
            return false;
        }
        if (url->unixSocket) {
            *error = QStringLiteral("--url: UNIX socket paths are not supported; give host:port");
            return false;
        }
        m_host = url->host;
        m_port = url->port;
        m_portGiven = true; // the scheme (or the port) chose it
        m_ssl = url->ssl;
        m_tls = url->tls;
        m_user = url->user;
        urlPassword = url->password;
        if (!urlPassword.isEmpty())
            warnings->append(QStringLiteral("the password in --url is visible to other local users (process "
                                            "list, shell history); prefer --password-file or $SMTPSCOPE_PASSWORD"));
    } else {
        m_host = p.value(QStringLiteral("host"));
        if (p.isSet(QStringLiteral("port"))) {
            bool ok = false;
            const uint port = p.value(QStringLiteral("port")).toUInt(&ok);
            if (!ok || port == 0 || port > 65535) {
                *error = QStringLiteral("--port: '%1' is not a TCP port (1-65535)").arg(p.value(QStringLiteral("port")));
                return false;
            }
            m_port = quint16(port);
            m_portGiven = true;
        } else {
            m_port = m_ssl ? SmtpClient::SmtpsPort : SmtpClient::SmtpPort;
        }
    }
    if (m_host.startsWith(u'[') && m_host.endsWith(u']'))
        m_host = m_host.mid(1, m_host.size() - 2);
    if (m_host.isEmpty() && m_hostOptional) {
        // Nothing else to check about a host; credentials may still follow.
    } else if (m_host.isEmpty()) {
        if (!testMode) {
            *error = QStringLiteral("no server: give --url URL or --host HOST");
            return false;
        }
        m_host = QStringLiteral("localhost"); // test mode connects nowhere
    }
    if (const auto bad = Smtp::checkNoControlChars(m_host, u"host")) {
        *error = *bad;
        return false;
    }
    if (m_noStartTls && (m_tls || m_ssl)) {
        *error = QStringLiteral("--no-starttls contradicts a required TLS mode (--tls, --ssl or a TLS URL scheme)");
        return false;
    }

    if (p.isSet(QStringLiteral("user")))
        m_user = p.value(QStringLiteral("user"));
    if (const auto bad = Smtp::checkNoControlChars(m_user, u"user name")) {
        *error = QStringLiteral("--user: ") + *bad;
        return false;
    }
    m_mechanism = p.value(QStringLiteral("auth")).toUpper();
    static const QRegularExpression mechanismSyntax(QStringLiteral("^[A-Z0-9_-]{1,20}$")); // RFC 4422 3.1
    if (!m_mechanism.isEmpty() && !mechanismSyntax.match(m_mechanism).hasMatch()) {
        *error = QStringLiteral("--auth: '%1' is not a SASL mechanism name (RFC 4422 3.1)").arg(m_mechanism);
        return false;
    }
    m_allowPlaintextAuth = p.isSet(QStringLiteral("allow-plaintext-auth"));

    if (p.isSet(QStringLiteral("oauth-token-file"))) {
        if (!InputFile::readFirstLine(p.value(QStringLiteral("oauth-token-file")), QStringLiteral("--oauth-token-file"),
                                      &m_oauthToken, error))
            return false;
        if (m_user.isEmpty()) {
            *error = QStringLiteral("--oauth-token-file needs --user (the account the token is for)");
            return false;
        }
    }
    if (!m_user.isEmpty() && m_oauthToken.isEmpty()) {
        // Same user as in the URL: its password stands; otherwise look further.
        if (!urlPassword.isEmpty() && (!p.isSet(QStringLiteral("user")) || p.value(QStringLiteral("user")) == m_user))
            m_password = urlPassword;
        if (p.isSet(QStringLiteral("password-file")) || (m_password.isEmpty() && !testMode)) {
            if (!readPassword(p, error))
                return false;
        }
    } else if (p.isSet(QStringLiteral("password-file")) && m_oauthToken.isEmpty()) {
        *error = QStringLiteral("--password-file needs --user");
        return false;
    }

    m_caFile = p.value(QStringLiteral("cafile"));
    if (!m_caFile.isEmpty() && !QFileInfo(m_caFile).isFile()) {
        *error = QStringLiteral("--cafile: '%1' is not a readable file").arg(m_caFile);
        return false;
    }
    m_insecure = p.isSet(QStringLiteral("insecure"));
    if (m_insecure)
        warnings->append(QStringLiteral("--insecure: the server certificate is NOT verified; anyone on the path "
                                        "can impersonate the server"));
    m_tlsName = p.value(QStringLiteral("tls-name"));
    if (const auto bad = Smtp::checkNoControlChars(m_tlsName, u"--tls-name")) {
        *error = *bad;
        return false;
    }
    m_ehlo = p.value(QStringLiteral("ehlo"));
    if (p.isSet(QStringLiteral("ehlo"))) {
        if (const auto bad = Smtp::checkEhloName(m_ehlo)) {
            *error = QStringLiteral("--ehlo: ") + *bad;
            return false;
        }
    }
    if (!readMs(p, QStringLiteral("connect-timeout"), &m_connectTimeoutMs, error)
        || !readMs(p, QStringLiteral("read-timeout"), &m_readTimeoutMs, error)
        || !readMs(p, QStringLiteral("data-timeout"), &m_dataTimeoutMs, error))
        return false;
    m_showSecrets = p.isSet(QStringLiteral("show-secrets"));
    m_pipelining = !p.isSet(QStringLiteral("no-pipelining"));
    m_chunking = !p.isSet(QStringLiteral("no-chunking"));
    return true;
}

bool ConnectionOptions::readPassword(const QCommandLineParser &p, QString *error)
{
    if (p.isSet(QStringLiteral("password-file"))) {
        QByteArray line;
        if (!InputFile::readFirstLine(p.value(QStringLiteral("password-file")), QStringLiteral("--password-file"),
                                      &line, error))
            return false;
        m_password = QString::fromUtf8(line);
        return true;
    }
    const QByteArray env = qgetenv("SMTPSCOPE_PASSWORD");
    if (!env.isEmpty()) {
        m_password = QString::fromUtf8(env);
        return true;
    }
    if (Terminal::stdinIsTerminal()) {
        const auto typed = Terminal::readSecret(QStringLiteral("Password for %1@%2: ").arg(m_user, m_host));
        if (typed && !typed->isEmpty()) {
            m_password = *typed;
            return true;
        }
        *error = QStringLiteral("no password was entered");
        return false;
    }
    *error = QStringLiteral("--user %1 needs a password: give --password-file FILE or set SMTPSCOPE_PASSWORD "
                            "(passwords are never taken as command-line arguments)")
                 .arg(m_user);
    return false;
}

QString ConnectionOptions::target() const
{
    const QString h = m_host.contains(u':') ? u'[' + m_host + u']' : m_host;
    return h + u':' + QString::number(m_port);
}

QString ConnectionOptions::securityMode() const
{
    if (m_ssl)
        return QStringLiteral("implicit-tls");
    if (m_tls)
        return QStringLiteral("starttls");
    if (m_noStartTls)
        return QStringLiteral("plain");
    return QStringLiteral("starttls-opportunistic");
}

Diagnostics::CheckOptions ConnectionOptions::checkOptions() const
{
    Diagnostics::CheckOptions o;
    if (!m_ehlo.isEmpty())
        o.ehloName = m_ehlo;
    o.caFile = m_caFile;
    o.insecure = m_insecure;
    o.user = m_user;
    o.password = m_password;
    o.oauthToken = m_oauthToken;
    o.mechanism = m_mechanism;
    o.allowPlaintextAuth = m_allowPlaintextAuth;
    o.showSecrets = m_showSecrets;
    if (m_connectTimeoutMs > 0)
        o.connectTimeoutMs = m_connectTimeoutMs;
    if (m_readTimeoutMs > 0)
        o.readTimeoutMs = m_readTimeoutMs;
    return o;
}

std::unique_ptr<SmtpClient> ConnectionOptions::createClient() const
{
    auto c = std::make_unique<SmtpClient>(m_host, int(m_port));
    if (m_ssl)
        c->ssl(true);
    else if (m_tls)
        c->tls(true);
    else if (m_noStartTls)
        c->setStartTlsPolicy(SmtpClient::StartTlsPolicy::Never);
    if (!m_oauthToken.isEmpty())
        c->setOAuthToken(m_user, m_oauthToken);
    else if (!m_user.isEmpty())
        c->setUserPass(m_user, m_password);
    if (!m_mechanism.isEmpty())
        c->setAuthMechanism(m_mechanism);
    c->setAllowPlaintextAuth(m_allowPlaintextAuth);
    if (!m_caFile.isEmpty())
        c->setCaFile(m_caFile);
    c->setInsecure(m_insecure);
    if (!m_tlsName.isEmpty())
        c->setPeerVerifyName(m_tlsName);
    if (!m_ehlo.isEmpty())
        c->setEhloName(m_ehlo);
    if (m_connectTimeoutMs > 0)
        c->setConnectTimeout(m_connectTimeoutMs);
    if (m_readTimeoutMs > 0)
        c->setReadTimeout(m_readTimeoutMs);
    if (m_dataTimeoutMs > 0)
        c->setDataTimeout(m_dataTimeoutMs);
    c->setShowSecrets(m_showSecrets);
    c->setPipelining(m_pipelining);
    c->setChunking(m_chunking);
    return c;
}

} // namespace Cli
