#include "connectionsettings.h"

#include "smtpurl.h"

#include "protocol/validation.h"

#include <QFileInfo>

#include <algorithm>

// How it works: a plain value. The URL form is derived with the engine's own
// SmtpUrl and parsed back with it, so every user of the type agrees on what a
// scheme means. fields() is the single list of settings; toVariantMap and
// fromVariantMap walk it, so a setting added to the struct and the list is
// stored and read everywhere at once (tst_connectionsettings checks the list
// covers the struct).

namespace {

bool hasControl(QStringView s)
{
    return std::any_of(s.begin(), s.end(), [](QChar c) {
        const char16_t u = c.unicode();
        return u < 0x20 || (u >= 0x7f && u <= 0x9f);
    });
}

// SmtpUrl cuts user info at the LAST '@' after "scheme://" (smtpurl.cpp) and
// refuses a user without a password; a URL shown by toUrl() never carries the
// password, so a bare "user@" gets a placeholder for parsing only. Returns the
// position where it was inserted, or -1.
qsizetype insertPasswordPlaceholder(QString *url)
{
    qsizetype start = 0;
    const qsizetype sep = url->indexOf(QStringLiteral("://"));
    if (sep >= 0) {
        const QStringView prefix = QStringView(*url).left(sep);
        if (!prefix.contains(u'@') && !prefix.contains(u':') && !prefix.contains(u'/'))
            start = sep + 3;
    }
    if (start < url->size() && url->at(start) == u'/')
        return -1; // a UNIX socket path has no user info
    const qsizetype at = url->lastIndexOf(u'@');
    if (at <= start)
        return -1;
    if (QStringView(*url).mid(start, at - start).contains(u':'))
        return -1;
    url->insert(at, QStringLiteral(":x"));
    return at;
}

using S = ConnectionSettings;

// Reads and writes one field by key; the order is fields()'s.
struct Accessor
{
    S::Field field;
    QVariant (*get)(const S &);
    // false when the value has the wrong type or range
    bool (*set)(S &, const QVariant &);
};

template<typename T>
bool convert(const QVariant &v, T *out)
{
    if (!v.canConvert<T>())
        return false;
    if constexpr (std::is_same_v<T, bool>) {
        // QVariant converts any string to bool; only real booleans and the
        // words QSettings writes are booleans here.
        if (v.typeId() == QMetaType::QString) {
            const QString s = v.toString();
            if (s != u"true" && s != u"false")
                return false;
        }
        *out = v.toBool();
        return true;
    } else if constexpr (std::is_same_v<T, int>) {
        bool ok = false;
        const int i = v.toInt(&ok);
        if (!ok)
            return false;
        *out = i;
        return true;
    } else {
        *out = v.value<T>();
        return true;
    }
}

#define SETTING_STRING(key, member)                                                                                   \
    Accessor                                                                                                          \
    {                                                                                                                 \
        {key, false}, [](const S &s) { return QVariant(s.member); },                                                  \
            [](S &s, const QVariant &v) { return v.typeId() == QMetaType::QString ? (s.member = v.toString(), true) : false; } \
    }
#define SETTING_BOOL(key, member)                                                                                     \
    Accessor                                                                                                          \
    {                                                                                                                 \
        {key, false}, [](const S &s) { return QVariant(s.member); },                                                  \
            [](S &s, const QVariant &v) { return convert(v, &s.member); }                                             \
    }
#define SETTING_MS(key, member)                                                                                       \
    Accessor                                                                                                          \
    {                                                                                                                 \
        {key, false}, [](const S &s) { return QVariant(s.member); },                                                  \
            [](S &s, const QVariant &v) {                                                                             \
                int ms = 0;                                                                                           \
                if (!convert(v, &ms) || ms < 0)                                                                       \
                    return false;                                                                                     \
                s.member = ms;                                                                                        \
                return true;                                                                                          \
            }                                                                                                         \
    }

const QList<Accessor> &accessors()
{
    static const QList<Accessor> table = {
        SETTING_STRING("host", host),
        Accessor{{"port", false}, [](const S &s) { return QVariant(int(s.port)); },
                 [](S &s, const QVariant &v) {
                     int port = 0;
                     if (!convert(v, &port) || port < 1 || port > 65535)
                         return false;
                     s.port = quint16(port);
                     return true;
                 }},
        Accessor{{"security", false}, [](const S &s) { return QVariant(s.securityName()); },
                 [](S &s, const QVariant &v) {
                     const auto security = Smtp::securityFromName(v.toString());
                     if (!security)
                         return false;
                     s.security = *security;
                     return true;
                 }},
        SETTING_STRING("user", user),
        Accessor{{"password", true}, [](const S &s) { return QVariant(s.password); },
                 [](S &s, const QVariant &v) { return v.typeId() == QMetaType::QString ? (s.password = v.toString(), true) : false; }},
        Accessor{{"oauth_token", true}, [](const S &s) { return QVariant(s.oauthToken); },
                 [](S &s, const QVariant &v) {
                     s.oauthToken = v.toByteArray();
                     return true;
                 }},
        SETTING_STRING("mechanism", mechanism),
        SETTING_BOOL("allow_plaintext_auth", allowPlaintextAuth),
        SETTING_STRING("ca_file", caFile),
        SETTING_BOOL("verify_peer", verifyPeer),
        SETTING_STRING("peer_name", peerName),
        SETTING_STRING("ehlo_name", ehloName),
        SETTING_MS("connect_timeout_ms", connectTimeoutMs),
        SETTING_MS("read_timeout_ms", readTimeoutMs),
        SETTING_MS("data_timeout_ms", dataTimeoutMs),
        SETTING_BOOL("pipelining", pipelining),
        SETTING_BOOL("chunking", chunking),
        SETTING_BOOL("keep_alive", keepAlive),
        SETTING_BOOL("test_mode", testMode),
        SETTING_BOOL("show_secrets", showSecrets),
        SETTING_MS("warn_slow_ms", warnSlowMs),
        SETTING_MS("warn_min_bytes_per_second", warnMinBytesPerSecond),
    };
    return table;
}

#undef SETTING_STRING
#undef SETTING_BOOL
#undef SETTING_MS

} // namespace

quint16 ConnectionSettings::defaultPort(Security s)
{
    return s == Security::ImplicitTls ? 465 : 25;
}

quint16 ConnectionSettings::usualPort(Security s)
{
    switch (s) {
    case Security::Plain:
        return 25; // RFC 5321 4.5.4.2 relay port
    case Security::StartTlsOpportunistic:
    case Security::StartTlsRequired:
        return 587; // RFC 6409 3.1 submission
    case Security::ImplicitTls:
        return 465; // RFC 8314 3.3 submissions
    }
    return 25;
}

quint16 ConnectionSettings::suggestedPort() const
{
    // RFC 8314 3.3: 465 is implicit TLS; RFC 6409 3.1: 587 (and 25) start in
    // plain text and upgrade with STARTTLS (RFC 3207 4).
    if (security == Security::ImplicitTls && (port == 587 || port == 25))
        return 465;
    if ((security == Security::StartTlsOpportunistic || security == Security::StartTlsRequired) && port == 465)
        return 587;
    return 0;
}

QString ConnectionSettings::mismatchHint() const
{
    if (security == Security::ImplicitTls && (port == 587 || port == 25)) {
        return QStringLiteral("Port %1 normally starts in plain text and upgrades with STARTTLS (RFC 3207); "
                              "implicit TLS is normally on port 465 (RFC 8314 3.3). The connection will "
                              "probably time out in the TLS handshake.")
            .arg(port);
    }
    if ((security == Security::StartTlsOpportunistic || security == Security::StartTlsRequired) && port == 465) {
        return QStringLiteral("Port 465 expects TLS from the first byte (RFC 8314 3.3); choose implicit TLS, "
                              "or port 587 for STARTTLS (RFC 6409).");
    }
    if (security == Security::Plain && !user.isEmpty()) {
        // RFC 4954 4 and RFC 8314 3: credentials should only cross an encrypted
        // connection; most servers do not even offer AUTH before TLS.
        return QStringLiteral("A user name is set but TLS is off: the password would cross the network in "
                              "clear text, and most servers refuse AUTH without TLS (RFC 4954 4).");
    }
    return {};
}

QString ConnectionSettings::toUrl() const
{
    // The scheme whose meaning matches the mode (smtpurl.h table), and among two
    // with the same flags the one whose default port is ours, so the URL reads
    // naturally. Plain has no scheme of its own (the STARTTLS policy is not
    // expressible in a URL): smtp://.
    SmtpUrl url;
    url.host = host;
    url.port = port;
    url.user = user;
    switch (security) {
    case Security::Plain:
        url.scheme = QStringLiteral("smtp");
        break;
    case Security::StartTlsOpportunistic:
        url.scheme = port == 587 ? QStringLiteral("esmtp") : QStringLiteral("smtp");
        break;
    case Security::StartTlsRequired:
        url.scheme = port == 25 ? QStringLiteral("smtptls") : QStringLiteral("esmtptls");
        url.tls = true;
        break;
    case Security::ImplicitTls:
        url.scheme = QStringLiteral("smtps");
        url.ssl = true;
        break;
    }
    return url.toDisplayString(); // never includes the password
}

std::optional<ConnectionSettings> ConnectionSettings::fromUrl(const QString &url, const ConnectionSettings &base,
                                                              SmtpError *error)
{
    QString text = url.trimmed();
    const qsizetype placeholder = insertPasswordPlaceholder(&text);
    SmtpError parseError;
    const auto parsed = SmtpUrl::parse(text, &parseError);
    if (!parsed) {
        if (error)
            *error = parseError;
        return std::nullopt;
    }
    if (parsed->unixSocket) {
        if (error)
            *error = SmtpError::make(SmtpError::Category::Usage, QStringLiteral("PARSE-URL-ERROR"), QStringLiteral("url"),
                                     QStringLiteral("UNIX socket paths are not supported; give host:port"));
        return std::nullopt;
    }
    ConnectionSettings out = base;
    out.host = parsed->host;
    out.port = parsed->port;
    out.user = parsed->user;
    if (placeholder < 0 && !parsed->password.isEmpty())
        out.password = parsed->password;
    if (parsed->ssl)
        out.security = Security::ImplicitTls;
    else if (parsed->tls)
        out.security = Security::StartTlsRequired;
    else if (base.security != Security::Plain)
        out.security = Security::StartTlsOpportunistic; // the reference's default for smtp/esmtp
    // else: Plain is written as smtp:// and stays Plain when that URL is read back.
    if (error)
        *error = {};
    return out;
}

QString ConnectionSettings::target() const
{
    return (host.contains(u':') ? u'[' + host + u']' : host) + u':' + QString::number(port);
}

QStringList ConnectionSettings::mechanisms()
{
    return {QStringLiteral("PLAIN"),       QStringLiteral("LOGIN"),         QStringLiteral("CRAM-MD5"),
            QStringLiteral("SCRAM-SHA-1"), QStringLiteral("SCRAM-SHA-256"), QStringLiteral("XOAUTH2"),
            QStringLiteral("OAUTHBEARER")};
}

bool ConnectionSettings::isTokenMechanism(const QString &mechanism)
{
    return mechanism.compare(u"XOAUTH2", Qt::CaseInsensitive) == 0
        || mechanism.compare(u"OAUTHBEARER", Qt::CaseInsensitive) == 0;
}

QString ConnectionSettings::validationProblem() const
{
    if (!testMode) {
        const QString trimmedHost = host.trimmed();
        if (trimmedHost.isEmpty())
            return QStringLiteral("Host: the host name is empty");
        if (hasControl(host))
            return QStringLiteral("Host: contains a control character (CR, LF, NUL, ...)");
        if (host.contains(u' ') || host.contains(u'@') || host.contains(u'/'))
            return QStringLiteral("Host: a host name cannot contain spaces, '@' or '/'");
        // The engine's URL parser judges the host syntax (labels, IPv4, IPv6), so
        // what passes here is exactly what the client accepts.
        QString bare = trimmedHost;
        if (bare.startsWith(u'[') && bare.endsWith(u']'))
            bare = bare.mid(1, bare.size() - 2);
        SmtpError hostError;
        if (!SmtpUrl::parse(QStringLiteral("smtp://%1:25").arg(bare.contains(u':') ? u'[' + bare + u']' : bare),
                            &hostError))
            return QStringLiteral("Host: %1").arg(hostError.message);
    } else if (hasControl(host)) {
        return QStringLiteral("Host: contains a control character (CR, LF, NUL, ...)");
    }
    if (port < 1)
        return QStringLiteral("Port: %1 is outside 1-65535").arg(port);
    if (hasControl(user))
        return QStringLiteral("User: contains a control character (CR, LF, NUL, ...)");
    // RFC 4616 2: NUL separates the PLAIN fields; CR/LF would end an AUTH line.
    if (password.contains(QChar(0)) || password.contains(u'\r') || password.contains(u'\n'))
        return QStringLiteral("Password: contains CR, LF or NUL");
    if (oauthToken.contains('\0') || oauthToken.contains('\r') || oauthToken.contains('\n'))
        return QStringLiteral("OAuth token: contains CR, LF or NUL");
    if (!mechanism.isEmpty() && !mechanisms().contains(mechanism.toUpper()))
        return QStringLiteral("Mechanism: '%1' is not a supported SASL mechanism (%2)")
            .arg(mechanism, mechanisms().join(QStringLiteral(", ")));
    if (!oauthToken.isEmpty() && user.isEmpty())
        return QStringLiteral("User: an OAuth token is set but the user name (the account it is for) is empty");
    if (!password.isEmpty() && user.isEmpty())
        return QStringLiteral("User: a password is set but the user name is empty");
    if (const auto bad = Smtp::checkEhloName(ehloName))
        return *bad;
    if (hasControl(peerName) || peerName.contains(u' '))
        return QStringLiteral("TLS name: contains a space or control character");
    if (!caFile.isEmpty()) {
        const QFileInfo info(caFile);
        if (!info.exists())
            return QStringLiteral("CA file: '%1' does not exist").arg(caFile);
        if (!info.isFile() || !info.isReadable())
            return QStringLiteral("CA file: '%1' is not a readable file").arg(caFile);
    }
    if (connectTimeoutMs <= 0)
        return QStringLiteral("Connect timeout: must be more than 0 ms");
    if (readTimeoutMs <= 0)
        return QStringLiteral("Read timeout: must be more than 0 ms");
    if (dataTimeoutMs <= 0)
        return QStringLiteral("Data timeout: must be more than 0 ms");
    if (warnSlowMs < 0 || warnMinBytesPerSecond < 0)
        return QStringLiteral("Warning thresholds: must not be negative");
    return {};
}

bool ConnectionSettings::sameConnectionAs(const ConnectionSettings &o) const
{
    return host == o.host && port == o.port && security == o.security && user == o.user && password == o.password
        && oauthToken == o.oauthToken && mechanism == o.mechanism && allowPlaintextAuth == o.allowPlaintextAuth
        && caFile == o.caFile && verifyPeer == o.verifyPeer && peerName == o.peerName && ehloName == o.ehloName
        && testMode == o.testMode && pipelining == o.pipelining && chunking == o.chunking;
}

const QList<ConnectionSettings::Field> &ConnectionSettings::fields()
{
    static const QList<Field> list = [] {
        QList<Field> out;
        for (const Accessor &a : accessors())
            out.append(a.field);
        return out;
    }();
    return list;
}

QVariantMap ConnectionSettings::toVariantMap() const
{
    QVariantMap map;
    const QList<Field> &list = fields();
    for (qsizetype i = 0; i < list.size(); ++i) {
        if (!list.at(i).secret)
            map.insert(QString::fromLatin1(list.at(i).key), accessors().at(i).get(*this));
    }
    return map;
}

std::optional<ConnectionSettings> ConnectionSettings::fromVariantMap(const QVariantMap &map,
                                                                     const ConnectionSettings &base, QString *error)
{
    ConnectionSettings out = base;
    for (const Accessor &a : accessors()) {
        const auto it = map.constFind(QString::fromLatin1(a.field.key));
        if (it == map.cend())
            continue;
        if (!a.set(out, *it)) {
            if (error)
                *error = QStringLiteral("%1: '%2' is not a valid value")
                             .arg(QString::fromLatin1(a.field.key), it->toString());
            return std::nullopt;
        }
    }
    if (error)
        error->clear();
    return out;
}
