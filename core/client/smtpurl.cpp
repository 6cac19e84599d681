#include "smtpurl.h"

#include <QHostAddress>
#include <QStringDecoder>
#include <QUrl>

// How it works: the URL is cut, left to right, into scheme "://", user info
// (everything before the LAST '@', so that a password holding a raw '@' or ':'
// still works, as in the reference's own "user@gmail.com:password@host"
// example), and host[:port]. Each part is checked on its own and every failure
// names the part that is wrong. Messages never repeat the user info or the port
// text: with the '@' forgotten, "user:password" reads as host:port.

namespace {

const QString kParseError = QStringLiteral("PARSE-URL-ERROR");
const QString kUnknownProtocol = QStringLiteral("SMTPCLIENT-UNKNOWN-PROTOCOL");
const QString kInvalidAuth = QStringLiteral("SMTPCLIENT-INVALID-AUTHENTICATION");

// sockaddr_un::sun_path is 108 bytes on Linux, one of them the terminating NUL.
constexpr qsizetype kMaxUnixPath = 107;
// RFC 1035 2.3.4 / RFC 1123 2.1: labels of at most 63 octets, names of at most
// 253 octets in text form (255 on the wire).
constexpr qsizetype kMaxLabel = 63;
constexpr qsizetype kMaxHostName = 253;

std::optional<SmtpUrl> fail(SmtpError *error, const QString &code, const QString &message)
{
    if (error) {
        *error = SmtpError::make(SmtpError::Category::Usage, code, QStringLiteral("URL"),
                                 message);
    }
    return std::nullopt;
}

bool isAsciiAlpha(QChar c)
{
    return (c >= QLatin1Char('a') && c <= QLatin1Char('z'))
        || (c >= QLatin1Char('A') && c <= QLatin1Char('Z'));
}

bool isAsciiDigit(QChar c)
{
    return c >= QLatin1Char('0') && c <= QLatin1Char('9');
}

bool isControl(char32_t u)
{
    return u < 0x20 || (u >= 0x7f && u <= 0x9f);
}

// RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
bool isSchemeSyntax(QStringView s)
{
    if (s.isEmpty() || !isAsciiAlpha(s.front()))
        return false;
    for (const QChar c : s) {
        if (!isAsciiAlpha(c) && !isAsciiDigit(c) && c != QLatin1Char('+')
            && c != QLatin1Char('-') && c != QLatin1Char('.'))
            return false;
    }
    return true;
}

int hexValue(QChar c)
{
    if (isAsciiDigit(c))
        return c.unicode() - '0';
    const char16_t l = c.toLower().unicode();
    if (l >= u'a' && l <= u'f')
        return l - u'a' + 10;
    return -1;
}

// Percent-decodes a user name or password (RFC 3986 2.1) as UTF-8. Fails on a
// broken escape, invalid UTF-8, or a decoded control character: CR, LF or NUL
// in credentials is an injection attempt, and RFC 4616 2 forbids NUL in PLAIN.
std::optional<QString> percentDecode(QStringView in, QString *why)
{
    QByteArray bytes;
    bytes.reserve(in.size());
    for (qsizetype i = 0; i < in.size(); ++i) {
        const QChar c = in[i];
        if (c != QLatin1Char('%')) {
            // Non-ASCII characters typed as such are kept (as UTF-8).
            if (c.isHighSurrogate() && i + 1 < in.size()) {
                bytes += in.mid(i, 2).toUtf8();
                ++i;
            } else {
                bytes += in.mid(i, 1).toUtf8();
            }
            continue;
        }
        const int hi = i + 2 < in.size() ? hexValue(in[i + 1]) : -1;
        const int lo = i + 2 < in.size() ? hexValue(in[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            *why = QStringLiteral("a '%' that is not followed by two hex digits");
            return std::nullopt;
        }
        bytes += char(hi * 16 + lo);
        i += 2;
    }
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString out = decoder(bytes);
    if (decoder.hasError()) {
        *why = QStringLiteral("bytes that are not valid UTF-8");
        return std::nullopt;
    }
    for (const QChar c : out) {
        if (isControl(c.unicode())) {
            *why = QStringLiteral("a control character (CR, LF, NUL, ...)");
            return std::nullopt;
        }
    }
    return out;
}

// For toDisplayString(): escape what would change how the URL is cut, and what
// parse() refuses unescaped (any space, NBSP included, and control characters),
// so that the display form parses back.
QString percentEncodeUser(const QString &user)
{
    QString out;
    for (const QChar c : user) {
        static const QString special = QStringLiteral("%@:/?#[] ");
        if (special.contains(c) || c.isSpace() || isControl(c.unicode()) || c.category() == QChar::Other_Control) {
            for (const char b : QString(c).toUtf8())
                out += QStringLiteral("%%1").arg(uint(uchar(b)), 2, 16, QLatin1Char('0')).toUpper();
        } else {
            out += c;
        }
    }
    return out;
}

// A '/', '?' or '#' after the host is a path, query or fragment (RFC 3986 3.3-3.5),
// none of which an SMTP URL has.
std::optional<QString> trailingPartError(QStringView hostPort)
{
    for (const QChar c : hostPort) {
        if (c == QLatin1Char('/'))
            return QStringLiteral("the URL has a path ('/' after the host); only "
                                  "[scheme://][user:password@]host[:port] is allowed");
        if (c == QLatin1Char('?'))
            return QStringLiteral("the URL has a query ('?' after the host); SMTP URLs take none");
        if (c == QLatin1Char('#'))
            return QStringLiteral("the URL has a fragment ('#' after the host); SMTP URLs take none");
    }
    return std::nullopt;
}

std::optional<QString> hostNameError(const QString &host)
{
    bool ascii = true;
    for (const QChar c : host) {
        if (c.unicode() >= 0x80) {
            // Internationalised names are allowed; checked below as A-labels.
            ascii = false;
            if (!c.isLetterOrNumber() && !c.isMark())
                return QStringLiteral("invalid character '%1' in host name").arg(c);
            continue;
        }
        if (!isAsciiAlpha(c) && !isAsciiDigit(c) && c != QLatin1Char('-')
            && c != QLatin1Char('.') && c != QLatin1Char('_'))
            return QStringLiteral("invalid character '%1' in host name").arg(c);
    }
    // RFC 5890: a non-ASCII name must convert to A-labels; length limits apply
    // to that form, which is what goes into DNS.
    QString checked = host;
    if (!ascii) {
        const QByteArray ace = QUrl::toAce(host);
        if (ace.isEmpty())
            return QStringLiteral("the host name is not a valid internationalised domain name");
        checked = QString::fromLatin1(ace);
    }
    if (checked.endsWith(QLatin1Char('.')))
        checked.chop(1); // a trailing dot (the DNS root) is allowed
    if (checked.size() > kMaxHostName)
        return QStringLiteral("the host name is longer than %1 characters").arg(kMaxHostName);
    const QStringList labels = checked.split(QLatin1Char('.'));
    bool allNumeric = true;
    for (const QString &label : labels) {
        if (label.isEmpty())
            return QStringLiteral("the host name has an empty label ('..' or a leading '.')");
        if (label.size() > kMaxLabel)
            return QStringLiteral("a host name label is longer than %1 characters").arg(kMaxLabel);
        // RFC 1123 2.1: labels start and end with a letter or digit.
        if (label.startsWith(QLatin1Char('-')) || label.endsWith(QLatin1Char('-')))
            return QStringLiteral("a host name label starts or ends with '-'");
        for (const QChar c : label)
            allNumeric = allNumeric && isAsciiDigit(c);
    }
    // All-numeric labels can only be an IPv4 address (RFC 1123 2.1: a top-level
    // label is never all-numeric); demand a well-formed dotted quad.
    if (allNumeric) {
        bool valid = labels.size() == 4;
        for (const QString &label : labels)
            valid = valid && label.size() <= 3 && label.toInt() <= 255;
        if (!valid)
            return QStringLiteral("'%1' is not a valid IPv4 address").arg(host);
    }
    return std::nullopt;
}

} // namespace

const QList<SmtpUrl::Scheme> &SmtpUrl::schemes()
{
    // qore-behaviour.md "URL schemes"; smtptls uses 25 (see the header).
    static const QList<Scheme> list{
        {"smtp", 25, false, false},   {"smtps", 465, true, false},
        {"smtptls", 25, false, true}, {"esmtp", 587, false, false},
        {"esmtps", 465, true, false}, {"esmtptls", 587, false, true},
    };
    return list;
}

std::optional<SmtpUrl> SmtpUrl::parse(const QString &url, SmtpError *error)
{
    if (url.isEmpty())
        return fail(error, kParseError, QStringLiteral("the URL is empty"));

    // Spaces and control characters have no place in a URL (RFC 3986 2), and a
    // CR or LF here could end up in a log line or a command.
    for (qsizetype i = 0; i < url.size(); ++i) {
        const QChar c = url[i];
        if (c.isSpace() || isControl(c.unicode()) || c.category() == QChar::Other_Control) {
            return fail(error, kParseError,
                        QStringLiteral("the URL contains a space or control character "
                                       "(at position %1)").arg(i + 1));
        }
    }

    SmtpUrl result;
    const Scheme *scheme = &schemes().front(); // no scheme: smtp
    QStringView rest(url);

    // The text before "://" is a scheme only if nothing URL-structural precedes
    // it; otherwise the "://" belongs to a password.
    const qsizetype sep = url.indexOf(QStringLiteral("://"));
    if (sep >= 0) {
        const QStringView prefix = rest.left(sep);
        if (!prefix.contains(QLatin1Char('@')) && !prefix.contains(QLatin1Char(':'))
            && !prefix.contains(QLatin1Char('/'))) {
            if (prefix.isEmpty())
                return fail(error, kParseError, QStringLiteral("the URL has an empty scheme before '://'"));
            if (!isSchemeSyntax(prefix))
                return fail(error, kParseError,
                            QStringLiteral("'%1' is not a valid URL scheme").arg(prefix));
            const QString name = prefix.toString().toLower(); // RFC 3986 3.1: case-insensitive
            scheme = nullptr;
            QStringList known;
            for (const Scheme &s : schemes()) {
                known.append(QString::fromLatin1(s.name));
                if (name == QLatin1String(s.name))
                    scheme = &s;
            }
            if (!scheme) {
                return fail(error, kUnknownProtocol,
                            QStringLiteral("unknown protocol '%1'; known protocols: %2")
                                .arg(name, known.join(QStringLiteral(", "))));
            }
            rest = rest.mid(sep + 3);
        }
    }
    result.scheme = QString::fromLatin1(scheme->name);
    result.ssl = scheme->ssl;
    result.tls = scheme->tls;
    result.port = scheme->port;

    // A rest starting with '/' is a UNIX socket path as a whole, '@' included.
    bool hasUserInfo = false;
    QStringView userInfo;
    QStringView hostPort = rest;
    if (!rest.startsWith(QLatin1Char('/'))) {
        const qsizetype at = rest.lastIndexOf(QLatin1Char('@'));
        if (at >= 0) {
            hasUserInfo = true;
            userInfo = rest.left(at);
            hostPort = rest.mid(at + 1);
        }
    }

    if (hostPort.startsWith(QLatin1Char('/'))) {
        // UNIX socket path (reference): no port.
        if (hostPort.contains(QLatin1Char('?')) || hostPort.contains(QLatin1Char('#')))
            return fail(error, kParseError,
                        QStringLiteral("the UNIX socket path contains '?' or '#' "
                                       "(a query or fragment)"));
        if (hostPort.size() < 2)
            return fail(error, kParseError, QStringLiteral("the UNIX socket path is empty"));
        if (hostPort.toUtf8().size() > kMaxUnixPath)
            return fail(error, kParseError,
                        QStringLiteral("the UNIX socket path is longer than %1 bytes").arg(kMaxUnixPath));
        result.host = hostPort.toString();
        result.unixSocket = true;
        result.port = 0;
    } else {
        if (hostPort.isEmpty())
            return fail(error, kParseError, QStringLiteral("the URL has no host name"));
        if (const auto why = trailingPartError(hostPort))
            return fail(error, kParseError, *why);

        QStringView hostText;
        QStringView portText;
        bool hasPort = false;
        if (hostPort.startsWith(QLatin1Char('['))) {
            // RFC 3986 3.2.2: an IPv6 literal goes in brackets, the port after them.
            const qsizetype close = hostPort.indexOf(QLatin1Char(']'));
            if (close < 0)
                return fail(error, kParseError, QStringLiteral("'[' without a closing ']' around the IPv6 address"));
            hostText = hostPort.mid(1, close - 1);
            const QStringView after = hostPort.mid(close + 1);
            if (!after.isEmpty()) {
                if (!after.startsWith(QLatin1Char(':')))
                    return fail(error, kParseError, QStringLiteral("unexpected text after ']': expected ':port' or nothing"));
                portText = after.mid(1);
                hasPort = true;
            }
            if (hostText.isEmpty())
                return fail(error, kParseError, QStringLiteral("empty IPv6 address in '[]'"));
            // RFC 6874 2: a zone id is written "%25zone" inside the brackets.
            QString address = hostText.toString();
            address.replace(QStringLiteral("%25"), QStringLiteral("%"));
            QHostAddress parsed;
            if (!parsed.setAddress(address) || parsed.protocol() != QAbstractSocket::IPv6Protocol)
                return fail(error, kParseError,
                            QStringLiteral("'%1' in brackets is not an IPv6 address (brackets are "
                                           "only for IPv6 addresses)").arg(hostText));
            result.host = address;
        } else {
            const qsizetype colon = hostPort.indexOf(QLatin1Char(':'));
            if (colon >= 0 && hostPort.indexOf(QLatin1Char(':'), colon + 1) >= 0)
                return fail(error, kParseError,
                            QStringLiteral("more than one ':' after the host; an IPv6 address "
                                           "must be written in brackets: [::1]:25"));
            hostText = colon >= 0 ? hostPort.left(colon) : hostPort;
            if (colon >= 0) {
                portText = hostPort.mid(colon + 1);
                hasPort = true;
            }
            if (hostText.isEmpty())
                return fail(error, kParseError, QStringLiteral("the URL has no host name"));
            if (const auto why = hostNameError(hostText.toString()))
                return fail(error, kParseError, *why);
            result.host = hostText.toString();
        }

        if (hasPort) {
            if (portText.isEmpty())
                return fail(error, kParseError, QStringLiteral("empty port after ':'"));
            for (const QChar c : portText) {
                if (!isAsciiDigit(c))
                    return fail(error, kParseError,
                                QStringLiteral("the port is not a number (digits only, 1-65535)"));
            }
            bool ok = false;
            const uint value = portText.toUInt(&ok);
            if (!ok || value > 65535)
                return fail(error, kParseError,
                            QStringLiteral("the port is out of range (1-65535)"));
            if (value == 0)
                return fail(error, kParseError, QStringLiteral("port 0 is not a valid port (1-65535)"));
            result.port = quint16(value);
        }
    }

    if (hasUserInfo) {
        // RFC 3986 3.2.1: user ":" password; the user name cannot hold a raw ':',
        // so the first ':' splits, and the password may contain more.
        const qsizetype colon = userInfo.indexOf(QLatin1Char(':'));
        const QStringView userText = colon >= 0 ? userInfo.left(colon) : userInfo;
        const QStringView passText = colon >= 0 ? userInfo.mid(colon + 1) : QStringView();
        QString why;
        const auto user = percentDecode(userText, &why);
        if (!user)
            return fail(error, kParseError, QStringLiteral("the user name contains %1").arg(why));
        const auto password = percentDecode(passText, &why);
        if (!password)
            return fail(error, kParseError, QStringLiteral("the password contains %1").arg(why));
        // Reference: partial credentials are refused rather than half used.
        if (user->isEmpty() && password->isEmpty())
            return fail(error, kInvalidAuth,
                        QStringLiteral("'@' in the URL but no user name or password before it"));
        if (user->isEmpty())
            return fail(error, kInvalidAuth,
                        QStringLiteral("a password was given without a user name"));
        if (password->isEmpty())
            return fail(error, kInvalidAuth,
                        QStringLiteral("a user name was given without a password "
                                       "(write user:password@host)"));
        result.user = *user;
        result.password = *password;
    }

    if (error)
        *error = SmtpError();
    return result;
}

QString SmtpUrl::target() const
{
    if (unixSocket)
        return host;
    if (host.contains(QLatin1Char(':')))
        return QLatin1Char('[') + host + QStringLiteral("]:") + QString::number(port);
    return host + QLatin1Char(':') + QString::number(port);
}

QString SmtpUrl::toDisplayString() const
{
    QString out = scheme + QStringLiteral("://");
    if (!user.isEmpty())
        out += percentEncodeUser(user) + QLatin1Char('@');
    if (unixSocket)
        return out + host;
    QString shown = host;
    shown.replace(QLatin1Char('%'), QStringLiteral("%25")); // RFC 6874 zone id
    if (shown.contains(QLatin1Char(':')))
        shown = QLatin1Char('[') + shown + QLatin1Char(']');
    return out + shown + QLatin1Char(':') + QString::number(port);
}
