// libFuzzer target for SmtpUrl (core/client/smtpurl), the parser of every
// --url and connection string: [scheme://][user[:password]@]host[:port].
//
// Invariants: never crash or hang; a refusal carries one of the three documented
// codes and a message, and never repeats the password; an accepted URL has a
// known scheme with its table's TLS flags, a host, no control character in the
// credentials; its display form does not depend on the password and parses
// back to the same place (refused as partial credentials when it has a user,
// since the password is left out).

#include "client/smtpurl.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

[[noreturn]] void failInvariant(const char *what)
{
    fprintf(stderr, "invariant broken: %s\n", what);
    abort();
}

bool hasControl(const QString &s)
{
    for (const QChar c : s) {
        if (c.unicode() < 0x20 || (c.unicode() >= 0x7f && c.unicode() <= 0x9f))
            return true;
    }
    return false;
}

// The password as typed: after the first ':' of the user info, which runs from
// the scheme's "://" (if any) to the last '@'.
QString typedPassword(const QString &url, QString *rest)
{
    const qsizetype at = url.lastIndexOf(QLatin1Char('@'));
    if (at < 0)
        return {};
    const qsizetype sep = url.left(at).indexOf(QLatin1String("://"));
    const QString userInfo = url.mid(sep < 0 ? 0 : sep + 3, at - (sep < 0 ? 0 : sep + 3));
    const qsizetype colon = userInfo.indexOf(QLatin1Char(':'));
    *rest = url.left(sep < 0 ? 0 : sep) + url.mid(at + 1);
    return colon < 0 ? QString() : userInfo.mid(colon + 1);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString url = QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size));
    SmtpError error;
    const std::optional<SmtpUrl> u = SmtpUrl::parse(url, &error);
    if (!u) {
        static const QStringList codes{QStringLiteral("PARSE-URL-ERROR"), QStringLiteral("SMTPCLIENT-UNKNOWN-PROTOCOL"),
                                       QStringLiteral("SMTPCLIENT-INVALID-AUTHENTICATION")};
        if (!error.isError() || !codes.contains(error.code))
            failInvariant("a refusal without one of the documented codes");
        if (error.message.isEmpty())
            failInvariant("a refusal without a message");
        QString rest;
        const QString password = typedPassword(url, &rest);
        // Long enough not to be a word of the message itself.
        if (password.size() >= 8 && !rest.contains(password) && error.toString().contains(password))
            failInvariant("a refusal that repeats the password");
        if (SmtpUrl::parse(url, nullptr).has_value())
            failInvariant("refused with an error pointer, accepted without");
        return 0;
    }
    if (error.isError())
        failInvariant("an accepted URL with an error set");
    if (u->host.isEmpty())
        failInvariant("an accepted URL without a host");
    if (hasControl(u->user) || hasControl(u->password) || hasControl(u->host))
        failInvariant("a control character in an accepted URL");
    bool known = false;
    for (const SmtpUrl::Scheme &s : SmtpUrl::schemes()) {
        if (u->scheme == QLatin1String(s.name)) {
            known = true;
            if (u->ssl != s.ssl || u->tls != s.tls)
                failInvariant("TLS flags that differ from the scheme's");
        }
    }
    if (!known)
        failInvariant("an accepted URL with an unknown scheme");
    if (u->ssl && u->tls)
        failInvariant("both implicit TLS and STARTTLS");

    const QString display = u->toDisplayString();
    SmtpUrl other = *u;
    other.password = u->password.isEmpty() ? QStringLiteral("x") : QString();
    if (other.toDisplayString() != display)
        failInvariant("a display form that depends on the password");
    if (u->target().isEmpty())
        failInvariant("an empty target");

    SmtpError again;
    const std::optional<SmtpUrl> back = SmtpUrl::parse(display, &again);
    if (u->user.isEmpty()) {
        if (!back)
            failInvariant("a display form that does not parse back");
        if (back->scheme != u->scheme || back->host != u->host || back->port != u->port
            || back->unixSocket != u->unixSocket || back->ssl != u->ssl || back->tls != u->tls)
            failInvariant("a display form that parses back to another place");
    } else if (back || again.code != QLatin1String("SMTPCLIENT-INVALID-AUTHENTICATION")) {
        failInvariant("a display form with a user that is not refused as partial credentials");
    }
    return 0;
}
