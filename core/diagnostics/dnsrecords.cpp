// The readers of the sender-domain records (discovery.h): SPF (RFC 7208), DMARC
// (RFC 7489) and the MTA-STS policy (RFC 8461). Pure string work, no DNS: the
// lookups that would follow an include or a redirect are counted, not made.

#include "discovery.h"

#include <QHostAddress>
#include <QRegularExpression>

namespace Diagnostics {

namespace {

// RFC 7208 4.6.1 / 4.6.4: the mechanisms that make DNS queries, plus the
// redirect modifier; "all", "ip4" and "ip6" cost nothing.
bool costsLookup(const QString &name)
{
    static const QStringList names{QStringLiteral("include"), QStringLiteral("a"), QStringLiteral("mx"),
                                   QStringLiteral("ptr"), QStringLiteral("exists"), QStringLiteral("redirect")};
    return names.contains(name);
}

bool isPrintableAscii(const QString &s)
{
    for (QChar c : s) {
        if (c.unicode() < 0x20 || c.unicode() > 0x7e)
            return false;
    }
    return true;
}

// "/24", "//64" or "/24//64" after a name or address (RFC 7208 5.3 dual-cidr-length).
bool validCidr(const QString &cidr, bool allowV4, bool allowV6)
{
    static const QRegularExpression re(QStringLiteral("^(?:/(\\d{1,2}))?(?://(\\d{1,3}))?$"));
    const QRegularExpressionMatch m = re.match(cidr);
    if (!m.hasMatch())
        return false;
    if (m.capturedLength(1) > 0 && (!allowV4 || m.captured(1).toInt() > 32))
        return false;
    if (m.capturedLength(2) > 0 && (!allowV6 || m.captured(2).toInt() > 128))
        return false;
    return true;
}

// Splits "name:domain/cidr" into the domain-spec and the cidr part.
void splitDomainCidr(const QString &arg, QString *domain, QString *cidr)
{
    const qsizetype slash = arg.indexOf(u'/');
    *domain = slash < 0 ? arg : arg.left(slash);
    *cidr = slash < 0 ? QString() : arg.mid(slash);
}

QString qualifierWords(const QString &q)
{
    if (q == u'-')
        return QStringLiteral("everything else fails (-all)");
    if (q == u'~')
        return QStringLiteral("everything else soft-fails (~all): usually accepted but marked");
    if (q == u'?')
        return QStringLiteral("everything else is neutral (?all): SPF says nothing about it");
    if (q == u'+')
        return QStringLiteral("everything else passes (+all): any server on the internet may send as this domain");
    return QStringLiteral("there is no \"all\" term, so everything else is neutral");
}

} // namespace

SpfReading readSpf(const QString &record)
{
    SpfReading r;
    const QString text = record.trimmed();
    // RFC 7208 4.5: the record starts with exactly "v=spf1" followed by a space
    // or the end; "v=spf10" is not an SPF record.
    if (!text.startsWith(QLatin1String("v=spf1"), Qt::CaseInsensitive)
        || (text.size() > 6 && text.at(6) != u' ')) {
        r.error = QStringLiteral("not an SPF record: it must start with \"v=spf1\"");
        return r;
    }
    if (!isPrintableAscii(text)) {
        r.error = QStringLiteral("the record holds characters outside printable ASCII (RFC 7208 4.5: permerror)");
        return r;
    }

    static const QRegularExpression modifierRe(QStringLiteral("^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$"));
    static const QStringList mechanismNames{QStringLiteral("all"), QStringLiteral("include"), QStringLiteral("a"),
                                            QStringLiteral("mx"), QStringLiteral("ptr"), QStringLiteral("ip4"),
                                            QStringLiteral("ip6"), QStringLiteral("exists")};
    QString redirect;
    bool seenExp = false;
    int ip4 = 0, ip6 = 0;
    QStringList named; // include targets, "a", "mx" for the reading
    const QStringList terms = text.mid(6).split(u' ', Qt::SkipEmptyParts);
    for (const QString &term : terms) {
        // A modifier is name=value where the name is not a mechanism followed by
        // ':' (RFC 7208 12: "include:a=b" is a mechanism).
        const QRegularExpressionMatch mod = modifierRe.match(term);
        if (mod.hasMatch() && !term.left(term.indexOf(u'=')).contains(u':')
            && !term.left(term.indexOf(u'=')).contains(u'/')) {
            const QString name = mod.captured(1).toLower();
            if (name == QLatin1String("redirect") || name == QLatin1String("exp")) {
                // RFC 7208 6: redirect and exp each at most once, else permerror.
                if ((name == QLatin1String("redirect") && !redirect.isEmpty()) || (name == QLatin1String("exp") && seenExp)) {
                    r.error = QStringLiteral("the modifier %1= appears twice (RFC 7208 6: permerror)").arg(name);
                    return r;
                }
                if (mod.captured(2).isEmpty()) {
                    r.error = QStringLiteral("the modifier %1= has no domain (permerror)").arg(name);
                    return r;
                }
                if (name == QLatin1String("redirect"))
                    redirect = mod.captured(2);
                else
                    seenExp = true;
                if (costsLookup(name))
                    ++r.lookupTerms;
            }
            // RFC 7208 6: unknown modifiers are ignored.
            continue;
        }

        QString qualifier;
        QString body = term;
        if (QStringLiteral("+-~?").contains(body.at(0))) {
            qualifier = body.left(1);
            body = body.mid(1);
        }
        const qsizetype sep = [&] {
            const qsizetype colon = body.indexOf(u':');
            const qsizetype slash = body.indexOf(u'/');
            if (colon < 0)
                return slash;
            if (slash < 0)
                return colon;
            return std::min(colon, slash);
        }();
        const QString name = (sep < 0 ? body : body.left(sep)).toLower();
        const QString rest = sep < 0 ? QString() : body.mid(sep);
        if (!mechanismNames.contains(name)) {
            r.error = QStringLiteral("unknown term \"%1\" (RFC 7208 5: permerror)").arg(term);
            return r;
        }
        const bool hasArg = rest.startsWith(u':');
        const QString arg = hasArg ? rest.mid(1) : QString();
        auto bad = [&](const QString &why) {
            r.error = QStringLiteral("\"%1\": %2").arg(term, why);
            return r;
        };
        if (name == QLatin1String("all")) {
            if (!rest.isEmpty())
                return bad(QStringLiteral("\"all\" takes no argument"));
            if (r.allQualifier.isEmpty())
                r.allQualifier = qualifier.isEmpty() ? QStringLiteral("+") : qualifier;
        } else if (name == QLatin1String("include") || name == QLatin1String("exists")) {
            // RFC 7208 5.2 / 5.7: the domain-spec is required.
            if (!hasArg || arg.isEmpty() || arg.contains(u'/'))
                return bad(QStringLiteral("needs a domain, as in %1:example.org").arg(name));
            if (name == QLatin1String("include"))
                named << term.mid(qualifier.size());
        } else if (name == QLatin1String("ip4") || name == QLatin1String("ip6")) {
            if (!hasArg)
                return bad(QStringLiteral("needs an address"));
            const qsizetype slash = arg.indexOf(u'/');
            const QString addr = slash < 0 ? arg : arg.left(slash);
            const QString cidr = slash < 0 ? QString() : arg.mid(slash);
            QHostAddress a;
            const bool v4 = name == QLatin1String("ip4");
            if (!a.setAddress(addr) || (v4 != (a.protocol() == QAbstractSocket::IPv4Protocol)))
                return bad(QStringLiteral("\"%1\" is not an %2 address").arg(addr, v4 ? QStringLiteral("IPv4") : QStringLiteral("IPv6")));
            // RFC 7208 5.6: ip4-cidr-length up to 32, ip6 up to 128, single slash.
            static const QRegularExpression cidrRe(QStringLiteral("^/(\\d{1,3})$"));
            const QRegularExpressionMatch cm = cidrRe.match(cidr);
            if (!cidr.isEmpty() && (!cm.hasMatch() || cm.captured(1).toInt() > (v4 ? 32 : 128)))
                return bad(QStringLiteral("bad prefix length \"%1\"").arg(cidr));
            (v4 ? ip4 : ip6)++;
        } else { // a, mx, ptr
            QString domain, cidr;
            if (hasArg)
                splitDomainCidr(arg, &domain, &cidr);
            else
                cidr = rest;
            if (hasArg && domain.isEmpty())
                return bad(QStringLiteral("empty domain after ':'"));
            const bool isPtr = name == QLatin1String("ptr");
            if (!validCidr(cidr, !isPtr, !isPtr))
                return bad(QStringLiteral("bad prefix length \"%1\"").arg(cidr));
            named << term.mid(qualifier.size());
        }
        if (costsLookup(name))
            ++r.lookupTerms;
        r.mechanisms << term;
    }

    r.valid = true;
    QStringList parts;
    if (ip4)
        parts << QStringLiteral("%1 IPv4 range%2").arg(ip4).arg(ip4 > 1 ? QStringLiteral("s") : QString());
    if (ip6)
        parts << QStringLiteral("%1 IPv6 range%2").arg(ip6).arg(ip6 > 1 ? QStringLiteral("s") : QString());
    parts << named;
    QString reading = parts.isEmpty() ? QStringLiteral("Allows no server by name or address")
                                      : QStringLiteral("Allows %1").arg(parts.join(QStringLiteral(", ")));
    // RFC 7208 6.1: redirect is used only when no "all" is present.
    if (!redirect.isEmpty() && r.allQualifier.isEmpty())
        reading += QStringLiteral("; everything else is decided by the record of %1 (redirect)").arg(redirect);
    else
        reading += QStringLiteral("; ") + qualifierWords(r.allQualifier);
    reading += QStringLiteral(". %1 of 10 DNS lookups used by this record itself").arg(r.lookupTerms);
    if (r.lookupTerms > 10)
        reading += QStringLiteral(" (over the limit: receivers return permerror, RFC 7208 4.6.4)");
    r.reading = reading + u'.';
    return r;
}

DmarcReading readDmarc(const QString &record)
{
    DmarcReading r;
    // RFC 7489 6.4: tag=value pairs separated by ';', whitespace around them allowed.
    QStringList tags = record.split(u';');
    while (!tags.isEmpty() && tags.last().trimmed().isEmpty())
        tags.removeLast();
    if (tags.isEmpty()) {
        r.error = QStringLiteral("empty record");
        return r;
    }
    // RFC 7489 6.3: v=DMARC1 is required and must be the first tag.
    const QString first = tags.first().trimmed();
    static const QRegularExpression vRe(QStringLiteral("^v\\s*=\\s*DMARC1$"));
    if (!vRe.match(first).hasMatch()) {
        r.error = QStringLiteral("not a DMARC record: it must start with \"v=DMARC1\"");
        return r;
    }
    bool havePolicy = false;
    QStringList seen;
    for (qsizetype i = 1; i < tags.size(); ++i) {
        const QString tag = tags.at(i).trimmed();
        if (tag.isEmpty())
            continue;
        const qsizetype eq = tag.indexOf(u'=');
        if (eq <= 0) {
            r.error = QStringLiteral("malformed tag \"%1\" (expected name=value)").arg(tag);
            return r;
        }
        const QString name = tag.left(eq).trimmed().toLower();
        const QString value = tag.mid(eq + 1).trimmed();
        if (seen.contains(name)) {
            r.error = QStringLiteral("the tag %1= appears twice").arg(name);
            return r;
        }
        seen << name;
        auto policyValue = [&](QString *out) {
            const QString v = value.toLower();
            if (v != QLatin1String("none") && v != QLatin1String("quarantine") && v != QLatin1String("reject"))
                return false;
            *out = v;
            return true;
        };
        if (name == QLatin1String("p")) {
            if (!policyValue(&r.policy)) {
                r.error = QStringLiteral("p=%1 is not none, quarantine or reject").arg(value);
                return r;
            }
            havePolicy = true;
        } else if (name == QLatin1String("sp")) {
            if (!policyValue(&r.subdomainPolicy)) {
                r.error = QStringLiteral("sp=%1 is not none, quarantine or reject").arg(value);
                return r;
            }
        } else if (name == QLatin1String("pct")) {
            bool ok = false;
            const int pct = value.toInt(&ok);
            if (!ok || pct < 0 || pct > 100) {
                r.error = QStringLiteral("pct=%1 is not a number from 0 to 100").arg(value);
                return r;
            }
            r.pct = pct;
        } else if (name == QLatin1String("adkim") || name == QLatin1String("aspf")) {
            const QString v = value.toLower();
            if (v != QLatin1String("r") && v != QLatin1String("s")) {
                r.error = QStringLiteral("%1=%2 is not r (relaxed) or s (strict)").arg(name, value);
                return r;
            }
            (name == QLatin1String("adkim") ? r.adkim : r.aspf) = v;
        } else if (name == QLatin1String("rua") || name == QLatin1String("ruf")) {
            QStringList uris;
            for (const QString &u : value.split(u',', Qt::SkipEmptyParts))
                uris << u.trimmed();
            (name == QLatin1String("rua") ? r.rua : r.ruf) = uris;
        } else if (name == QLatin1String("v")) {
            r.error = QStringLiteral("v= appears again after the start");
            return r;
        }
        // RFC 7489 6.3: unknown tags (fo, rf, ri and future ones) are ignored.
    }
    // RFC 7489 6.6.3: without a valid p= the record is not a policy record.
    if (!havePolicy) {
        r.error = QStringLiteral("the p= tag (the policy) is missing");
        return r;
    }
    r.valid = true;

    QString reading;
    if (r.policy == QLatin1String("reject"))
        reading = QStringLiteral("Policy reject: receivers should refuse mail that fails DMARC");
    else if (r.policy == QLatin1String("quarantine"))
        reading = QStringLiteral("Policy quarantine: receivers should put mail that fails DMARC in spam");
    else
        reading = QStringLiteral("Policy none: monitoring only, mail that fails DMARC is still delivered");
    if (r.pct < 100)
        reading += QStringLiteral(" (applied to %1% of failing mail)").arg(r.pct);
    if (!r.subdomainPolicy.isEmpty() && r.subdomainPolicy != r.policy)
        reading += QStringLiteral("; subdomains: %1").arg(r.subdomainPolicy);
    reading += r.rua.isEmpty() ? QStringLiteral("; no aggregate reports are requested (no rua=)")
                               : QStringLiteral("; aggregate reports go to %1").arg(r.rua.join(QStringLiteral(", ")));
    if (r.adkim == QLatin1String("s") || r.aspf == QLatin1String("s"))
        reading += QStringLiteral("; strict alignment for %1")
                       .arg(r.adkim == QLatin1String("s") && r.aspf == QLatin1String("s") ? QStringLiteral("DKIM and SPF")
                            : r.adkim == QLatin1String("s")                                 ? QStringLiteral("DKIM")
                                                                                            : QStringLiteral("SPF"));
    r.reading = reading + u'.';
    return r;
}

MtaStsPolicy readMtaStsPolicy(const QString &body)
{
    MtaStsPolicy p;
    // RFC 8461 3.2: "key: value" lines ended by CRLF or LF.
    static const QRegularExpression lineRe(QStringLiteral("^([A-Za-z0-9_]+):[ \\t]*(.*?)[ \\t]*$"));
    bool haveVersion = false, haveMode = false, haveMaxAge = false;
    const QStringList lines = body.split(u'\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        QString line = lines.at(i);
        if (line.endsWith(u'\r'))
            line.chop(1);
        if (line.trimmed().isEmpty())
            continue;
        const QRegularExpressionMatch m = lineRe.match(line);
        if (!m.hasMatch()) {
            p.error = QStringLiteral("line %1 is not \"key: value\": %2").arg(i + 1).arg(line.left(80));
            return p;
        }
        const QString key = m.captured(1).toLower();
        const QString value = m.captured(2);
        // Only mx may repeat; for the other fields the first one counts.
        if (key == QLatin1String("version") && !haveVersion) {
            haveVersion = true;
            if (value != QLatin1String("STSv1")) {
                p.error = QStringLiteral("version is \"%1\", not STSv1").arg(value);
                return p;
            }
        } else if (key == QLatin1String("mode") && !haveMode) {
            haveMode = true;
            if (value != QLatin1String("enforce") && value != QLatin1String("testing") && value != QLatin1String("none")) {
                p.error = QStringLiteral("mode is \"%1\", not enforce, testing or none").arg(value);
                return p;
            }
            p.mode = value;
        } else if (key == QLatin1String("max_age") && !haveMaxAge) {
            haveMaxAge = true;
            // RFC 8461 3.2: 1 to 10 digits, at most 31557600 (one year).
            static const QRegularExpression digits(QStringLiteral("^\\d{1,10}$"));
            bool ok = digits.match(value).hasMatch();
            const qint64 age = value.toLongLong();
            if (!ok || age > 31557600) {
                p.error = QStringLiteral("max_age \"%1\" is not a number of seconds up to 31557600").arg(value);
                return p;
            }
            p.maxAge = age;
        } else if (key == QLatin1String("mx")) {
            // RFC 8461 3.2 / 4.1: a host name, optionally with a leading "*." wildcard.
            static const QRegularExpression mxRe(
                QStringLiteral("^(\\*\\.)?([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.?$"));
            if (!mxRe.match(value).hasMatch()) {
                p.error = QStringLiteral("mx \"%1\" is not a host name pattern").arg(value);
                return p;
            }
            p.mx << value.toLower();
        }
        // RFC 8461 3.2: unknown fields are ignored.
    }
    if (!haveVersion) {
        p.error = QStringLiteral("the version: STSv1 line is missing");
        return p;
    }
    if (!haveMode) {
        p.error = QStringLiteral("the mode line is missing");
        return p;
    }
    if (!haveMaxAge) {
        p.error = QStringLiteral("the max_age line is missing");
        return p;
    }
    if (p.mx.isEmpty() && p.mode != QLatin1String("none")) {
        p.error = QStringLiteral("no mx line: with mode %1 no MX host could ever match").arg(p.mode);
        return p;
    }
    p.valid = true;
    return p;
}

bool MtaStsPolicy::matches(const QString &mxHost) const
{
    QString host = mxHost.toLower();
    while (host.endsWith(u'.'))
        host.chop(1);
    if (host.isEmpty())
        return false;
    for (QString pattern : mx) {
        while (pattern.endsWith(u'.'))
            pattern.chop(1);
        if (pattern.startsWith(QLatin1String("*."))) {
            // RFC 8461 4.1: the wildcard stands for exactly one leftmost label.
            const QString suffix = pattern.mid(1); // ".example.org"
            if (host.endsWith(suffix)) {
                const QString label = host.left(host.size() - suffix.size());
                if (!label.isEmpty() && !label.contains(u'.'))
                    return true;
            }
        } else if (host == pattern) {
            return true;
        }
    }
    return false;
}

} // namespace Diagnostics
