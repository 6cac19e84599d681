#include "validation.h"

#include <QUrl>

namespace Smtp {

namespace {

// RFC 5321 4.5.3.1.1-3 (octets, on the wire).
constexpr qsizetype kMaxLocalPart = 64;
constexpr qsizetype kMaxDomain = 255;
constexpr qsizetype kMaxPath = 256; // including "<" and ">"
constexpr qsizetype kMaxLabel = 63; // RFC 1035 2.3.4

QString controlName(char16_t c)
{
    switch (c) {
    case 0x00: return QStringLiteral("NUL");
    case 0x09: return QStringLiteral("TAB");
    case 0x0a: return QStringLiteral("LF (line feed)");
    case 0x0d: return QStringLiteral("CR (carriage return)");
    case 0x7f: return QStringLiteral("DEL");
    default: return QStringLiteral("U+%1").arg(int(c), 4, 16, QLatin1Char('0')).toUpper();
    }
}

bool isAsciiDigit(QChar c)
{
    return c >= QLatin1Char('0') && c <= QLatin1Char('9');
}

bool isAsciiAlnum(QChar c)
{
    const char16_t u = c.unicode();
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9');
}

bool isHex(QChar c)
{
    const char16_t u = c.unicode();
    return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'f') || (u >= 'A' && u <= 'F');
}

bool isAscii(QStringView s)
{
    for (const QChar c : s) {
        if (c.unicode() >= 0x80)
            return false;
    }
    return true;
}

// RFC 5321 4.1.2: atext of Atom (RFC 5322 3.2.3), plus UTF8-non-ascii under
// SMTPUTF8 (RFC 6531 3.3).
bool isAtext(QChar c)
{
    if (isAsciiAlnum(c) || c.unicode() >= 0x80)
        return true;
    return QStringView(u"!#$%&'*+-/=?^_`{|}~").contains(c);
}

// RFC 5321 4.1.3: IPv4-address-literal = Snum 3("." Snum), Snum = 1*3DIGIT (0..255).
bool isIpv4(QStringView s)
{
    int parts = 0;
    qsizetype i = 0;
    while (true) {
        const qsizetype start = i;
        int value = 0;
        while (i < s.size() && isAsciiDigit(s[i]) && i - start < 3)
            value = value * 10 + (s[i++].unicode() - '0');
        if (i == start || value > 255 || (i < s.size() && isAsciiDigit(s[i])))
            return false;
        ++parts;
        if (i == s.size())
            return parts == 4;
        if (s[i] != QLatin1Char('.') || parts == 4)
            return false;
        ++i;
    }
}

// RFC 5321 4.1.3: IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp. "::" stands
// for at least two groups, so at most 6 groups may be written with it.
bool isIpv6(QStringView s)
{
    const qsizetype n = s.size();
    qsizetype i = 0;
    int groups = 0;
    bool compressed = false;
    if (s.startsWith(u"::")) {
        compressed = true;
        i = 2;
        if (i == n)
            return true;
    } else if (s.startsWith(u':')) {
        return false;
    }
    while (i < n) {
        const qsizetype start = i;
        while (i < n && isHex(s[i]) && i - start < 5)
            ++i;
        if (i < n && s[i] == QLatin1Char('.')) {
            if (!isIpv4(s.mid(start)))
                return false;
            groups += 2;
            break;
        }
        if (i == start || i - start > 4)
            return false;
        ++groups;
        if (i == n)
            break;
        if (s[i] != QLatin1Char(':'))
            return false;
        ++i;
        if (i < n && s[i] == QLatin1Char(':')) {
            if (compressed)
                return false;
            compressed = true;
            ++i;
        } else if (i == n) {
            return false; // a single trailing ':'
        }
    }
    return compressed ? groups <= 6 : groups == 8;
}

// RFC 5321 4.1.2: address-literal = "[" ( IPv4-address-literal /
// IPv6-address-literal / General-address-literal ) "]".
bool isAddressLiteral(QStringView s)
{
    if (s.size() < 3 || !s.startsWith(u'[') || !s.endsWith(u']'))
        return false;
    const QStringView inner = s.mid(1, s.size() - 2);
    if (inner.startsWith(u"IPv6:", Qt::CaseInsensitive))
        return isIpv6(inner.mid(5));
    const qsizetype colon = inner.indexOf(u':');
    if (colon < 0)
        return isIpv4(inner);
    // General-address-literal = Standardized-tag ":" 1*dcontent,
    // dcontent = %d33-90 / %d94-126 (no '[', '\', ']').
    const QStringView tag = inner.left(colon);
    const QStringView content = inner.mid(colon + 1);
    if (tag.isEmpty() || content.isEmpty() || tag.endsWith(u'-'))
        return false;
    for (const QChar c : tag) {
        if (!isAsciiAlnum(c) && c != QLatin1Char('-'))
            return false;
    }
    for (const QChar c : content) {
        const char16_t u = c.unicode();
        if (u < 33 || u > 126 || (u >= 91 && u <= 93))
            return false;
    }
    return true;
}

// RFC 5321 4.1.2: Domain = sub-domain *("." sub-domain), sub-domain = Let-dig
// [Ldh-str]; labels at most 63 octets (RFC 1035 2.3.4). No trailing dot, no
// underscore. Returns why it is not one, or an empty string.
QString domainProblem(QByteArrayView ace)
{
    if (ace.isEmpty())
        return QStringLiteral("the domain is empty");
    qsizetype labelStart = 0;
    for (qsizetype i = 0; i <= ace.size(); ++i) {
        if (i < ace.size() && ace[i] != '.') {
            const char c = ace[i];
            const bool ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9') || c == '-';
            if (!ldh)
                return QStringLiteral("the domain contains '%1', which is not a letter, digit, '-' or '.'")
                        .arg(QLatin1Char(c));
            continue;
        }
        const qsizetype length = i - labelStart;
        if (length == 0)
            return QStringLiteral("the domain has an empty label (two dots in a row, or a dot at "
                                  "the start or end)");
        if (length > kMaxLabel)
            return QStringLiteral("a domain label is longer than %1 characters").arg(kMaxLabel);
        if (ace[labelStart] == '-' || ace[i - 1] == '-')
            return QStringLiteral("a domain label starts or ends with '-'");
        labelStart = i + 1;
    }
    return {};
}

// Ensures `error` is set on every failure path, even when the caller passed nullptr.
std::optional<Mailbox> refuse(QString *error, QStringView field, const QString &why)
{
    if (error)
        *error = QStringLiteral("%1: %2").arg(field, why);
    return std::nullopt;
}

} // namespace

ValidationError checkNoControlChars(QStringView value, QStringView field)
{
    for (qsizetype i = 0; i < value.size(); ++i) {
        const char16_t c = value[i].unicode();
        // Catalogue C.21-23: CR or LF would end the command line and start a
        // new one (RFC 5321 2.3.8); NUL and the other C0 controls and DEL are
        // not allowed in commands and some servers treat them as line ends.
        if (c < 0x20 || c == 0x7f)
            return QStringLiteral("%1 contains a control character (%2) at position %3; remove it")
                    .arg(field, controlName(c))
                    .arg(i + 1);
    }
    return std::nullopt;
}

std::optional<Mailbox> parseMailbox(QStringView address, QStringView field, QString *error,
                                    bool allowEmpty)
{
    if (error)
        error->clear();
    if (address.isEmpty()) {
        // RFC 5321 4.5.5: the null reverse-path "MAIL FROM:<>" (bounces); never
        // a valid recipient.
        if (allowEmpty)
            return Mailbox();
        return refuse(error, field, QStringLiteral("the address is empty"));
    }
    if (const ValidationError bad = checkNoControlChars(address, field)) {
        if (error)
            *error = *bad;
        return std::nullopt;
    }
    if (!address.isValidUtf16())
        return refuse(error, field, QStringLiteral("the address is not valid Unicode text"));

    // RFC 5321 4.1.2: Mailbox = Local-part "@" ( Domain / address-literal ),
    // Local-part = Dot-string / Quoted-string.
    QStringView local;
    QStringView domain;
    if (address.startsWith(u'"')) {
        qsizetype i = 1;
        bool closed = false;
        while (i < address.size()) {
            const char16_t c = address[i].unicode();
            if (c == '\\') {
                // quoted-pairSMTP = %d92 %d32-126 (controls were refused above).
                if (i + 1 >= address.size() || address[i + 1].unicode() >= 0x7f)
                    return refuse(error, field,
                                  QStringLiteral("a backslash in the quoted local part must be "
                                                 "followed by a printable ASCII character"));
                i += 2;
                continue;
            }
            if (c == '"') {
                closed = true;
                break;
            }
            ++i;
        }
        if (!closed)
            return refuse(error, field, QStringLiteral("the quoted local part has no closing '\"'"));
        if (i + 1 >= address.size() || address[i + 1] != QLatin1Char('@'))
            return refuse(error, field, QStringLiteral("'@' must follow the quoted local part"));
        local = address.left(i + 1);
        domain = address.mid(i + 2);
    } else {
        const qsizetype at = address.indexOf(u'@');
        if (at < 0)
            return refuse(error, field,
                          QStringLiteral("'%1' has no '@'; write it as user@example.org")
                                  .arg(address));
        local = address.left(at);
        domain = address.mid(at + 1);
        if (local.isEmpty())
            return refuse(error, field, QStringLiteral("the part before '@' is empty"));
        for (const QChar c : local) {
            // Dots are allowed anywhere: "a..b" and a trailing dot break the
            // Dot-string rule but exist in real mailboxes and cannot inject
            // anything, so the receiving server gets to decide on them.
            if (isAtext(c) || c == QLatin1Char('.'))
                continue;
            if (c == QLatin1Char(' ') || c == QLatin1Char('<') || c == QLatin1Char('>'))
                return refuse(error, field,
                              QStringLiteral("'%1' is not allowed outside a quoted local part; "
                                             "write just user@example.org without a display name")
                                      .arg(c));
            return refuse(error, field,
                          QStringLiteral("'%1' is not allowed in the part before '@' unless it "
                                         "is quoted")
                                  .arg(c));
        }
    }
    if (domain.isEmpty())
        return refuse(error, field, QStringLiteral("the part after '@' is empty"));

    Mailbox mailbox;
    // RFC 6531 3.3: a non-ASCII local part can only travel with SMTPUTF8.
    mailbox.needsSmtpUtf8 = !isAscii(local);
    const QByteArray localWire = local.toUtf8();
    if (localWire.size() > kMaxLocalPart)
        return refuse(error, field,
                      QStringLiteral("the part before '@' is %1 bytes long; the limit is %2 "
                                     "(RFC 5321 4.5.3.1.1)")
                              .arg(localWire.size())
                              .arg(kMaxLocalPart));

    QByteArray domainWire;
    if (domain.startsWith(u'[')) {
        if (!isAddressLiteral(domain))
            return refuse(error, field,
                          QStringLiteral("'%1' is not a valid address literal such as [192.0.2.1] "
                                         "or [IPv6:2001:db8::1]")
                                  .arg(domain));
        domainWire = domain.toLatin1();
    } else {
        const bool asciiDomain = isAscii(domain);
        // RFC 5890 2.3.2.1: on the wire a domain is A-labels ("xn--..."): QUrl
        // applies the IDNA mapping (UTS #46) and Punycode.
        const QByteArray ace = asciiDomain ? domain.toLatin1() : QUrl::toAce(domain.toString());
        if (ace.isEmpty())
            return refuse(error, field,
                          QStringLiteral("'%1' is not a valid internationalised domain name")
                                  .arg(domain));
        if (const QString problem = domainProblem(ace); !problem.isEmpty())
            return refuse(error, field, problem);
        // RFC 6531 3.2: with SMTPUTF8 the domain may travel as U-labels; use the
        // canonical form of what was checked rather than the raw input.
        domainWire = (mailbox.needsSmtpUtf8 && !asciiDomain)
                ? QUrl::fromAce(ace, QUrl::IgnoreIDNWhitelist).toUtf8()
                : ace;
    }
    if (domainWire.size() > kMaxDomain)
        return refuse(error, field,
                      QStringLiteral("the domain is %1 bytes long; the limit is %2 "
                                     "(RFC 5321 4.5.3.1.2)")
                              .arg(domainWire.size())
                              .arg(kMaxDomain));

    mailbox.wire = localWire + '@' + domainWire;
    if (mailbox.wire.size() + 2 > kMaxPath)
        return refuse(error, field,
                      QStringLiteral("the address is %1 bytes long; the limit is %2 with the "
                                     "angle brackets (RFC 5321 4.5.3.1.3)")
                              .arg(mailbox.wire.size())
                              .arg(kMaxPath - 2));
    return mailbox;
}

ValidationError checkEhloName(QStringView name)
{
    const QString field = QStringLiteral("EHLO name");
    if (name.isEmpty())
        return QStringLiteral("%1 is empty; use this host's name or an address literal such as "
                              "[127.0.0.1]")
                .arg(field);
    if (ValidationError bad = checkNoControlChars(name, field))
        return bad;
    // RFC 5321 4.1.1.1: ehlo = "EHLO" SP ( Domain / address-literal ) CRLF.
    if (name.contains(u' '))
        return QStringLiteral("%1 '%2' contains a space").arg(field, name);
    if (name.toUtf8().size() > kMaxDomain)
        return QStringLiteral("%1 is longer than %2 bytes (RFC 5321 4.1.1.1)").arg(field).arg(kMaxDomain);
    if (name.startsWith(u'[')) {
        if (!isAddressLiteral(name))
            return QStringLiteral("%1 '%2' is not a valid address literal such as [192.0.2.1] or "
                                  "[IPv6:2001:db8::1]")
                    .arg(field, name);
        return std::nullopt;
    }
    // RFC 5321 4.1.2 Domain is ASCII; an internationalised name goes as
    // A-labels (RFC 5890), so say which form to use.
    if (!isAscii(name)) {
        const QByteArray ace = QUrl::toAce(name.toString());
        if (ace.isEmpty())
            return QStringLiteral("%1 '%2' is not a valid domain name").arg(field, name);
        return QStringLiteral("%1 '%2' must be ASCII; use its A-label form '%3'")
                .arg(field, name, QString::fromLatin1(ace));
    }
    if (const QString problem = domainProblem(name.toLatin1()); !problem.isEmpty())
        return QStringLiteral("%1 '%2': %3; use a host name such as mail.example.org or an "
                              "address literal such as [127.0.0.1]")
                .arg(field, name, problem);
    return std::nullopt;
}

QByteArray xtextEncode(QByteArrayView value)
{
    // RFC 3461 4: xchar = "!" (33) .. "~" (126) except "+" and "="; every other
    // byte (controls, space, 8-bit) is "+" and two upper-case hex digits.
    static constexpr char kHex[] = "0123456789ABCDEF";
    QByteArray out;
    out.reserve(value.size());
    for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 33 && c <= 126 && c != '+' && c != '=') {
            out.append(ch);
        } else {
            out.append('+');
            out.append(kHex[c >> 4]);
            out.append(kHex[c & 0xf]);
        }
    }
    return out;
}

} // namespace Smtp
