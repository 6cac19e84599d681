#include "capabilities.h"

#include <QSet>

#include <limits>

namespace Smtp {

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t';
}

// RFC 4422 3.1: sasl-mech = 1*20mech-char, mech-char = UPPER-ALPHA / DIGIT / "-" / "_".
// Anything else (including the thousands of junk names of docs/security.md section E when
// they are malformed) is not a mechanism we could ever run, so it is dropped.
bool isMechanismName(QByteArrayView name)
{
    if (name.isEmpty() || name.size() > 20)
        return false;
    for (const char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

bool sameKeyword(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && qstrnicmp(a.data(), a.size(), b.data(), b.size()) == 0;
}

} // namespace

Capabilities Capabilities::fromEhloReply(const Reply &reply)
{
    Capabilities caps;
    // A refused EHLO (RFC 5321 4.1.4: 5yz, then HELO) advertises nothing.
    if (!reply.isPositiveCompletion() || reply.lines.isEmpty())
        return caps;

    // RFC 5321 4.1.1.1: ehlo-ok-rsp = "250" SP Domain [ SP ehlo-greet ] CRLF, or the
    // multi-line form whose first line is the same; each further line is
    // ehlo-line = ehlo-keyword *( SP ehlo-param ).
    const QByteArray first = reply.lines.first().trimmed();
    qsizetype space = 0;
    while (space < first.size() && !isSpace(first.at(space)))
        ++space;
    caps.m_domain = first.left(space);

    for (qsizetype i = 1; i < reply.lines.size(); ++i) {
        const QByteArray line = reply.lines.at(i).trimmed();
        qsizetype end = 0;
        while (end < line.size() && !isSpace(line.at(end)))
            ++end;
        if (end == 0)
            continue;

        Entry entry;
        entry.keyword = line.left(end).toUpper();
        entry.parameters = line.mid(end).trimmed();
        // The pre-RFC 2554 form "AUTH=LOGIN PLAIN" (still sent by old Exchange
        // servers next to, or instead of, "AUTH LOGIN PLAIN") is the same
        // capability: keep it as keyword AUTH so has("AUTH") and
        // authMechanisms() see it.
        if (entry.keyword.startsWith("AUTH=")) {
            const QByteArray inlineMech = line.mid(5, end - 5);
            entry.keyword = "AUTH";
            entry.parameters = entry.parameters.isEmpty() ? inlineMech
                                                          : inlineMech + ' ' + entry.parameters;
        }
        caps.m_entries.append(std::move(entry));
    }
    caps.computeFlags();
    return caps;
}

bool Capabilities::has(QByteArrayView keyword) const
{
    // RFC 5321 2.4: keywords are case-insensitive; compared whole, so
    // "STARTTLSX" and "XSTARTTLS" are not STARTTLS (docs/security.md section E).
    for (const Entry &e : m_entries) {
        if (sameKeyword(e.keyword, keyword))
            return true;
    }
    return false;
}

QByteArray Capabilities::parameters(QByteArrayView keyword) const
{
    // The first line with this keyword: for SIZE (RFC 1870) a server sends one;
    // AUTH, which some servers split over lines, is merged by authMechanisms().
    for (const Entry &e : m_entries) {
        if (sameKeyword(e.keyword, keyword))
            return e.parameters;
    }
    return {};
}

QStringList Capabilities::authMechanisms() const
{
    QStringList mechanisms;
    QSet<QByteArray> seen;
    for (const Entry &e : m_entries) {
        if (e.keyword != "AUTH")
            continue;
        const QList<QByteArray> names = e.parameters.simplified().split(' ');
        for (const QByteArray &raw : names) {
            const QByteArray name = raw.toUpper();
            if (!isMechanismName(name) || seen.contains(name))
                continue;
            seen.insert(name);
            mechanisms.append(QString::fromLatin1(name));
        }
    }
    return mechanisms;
}

std::optional<quint64> Capabilities::sizeLimit() const
{
    return m_sizeLimit;
}

void Capabilities::computeFlags()
{
    const std::pair<const char *, Flag> known[] = {
        {"STARTTLS", StartTls}, {"PIPELINING", Pipelining}, {"8BITMIME", EightBitMime},
        {"SMTPUTF8", SmtpUtf8}, {"CHUNKING", Chunking}, {"BINARYMIME", BinaryMime},
        {"DSN", Dsn}, {"ENHANCEDSTATUSCODES", EnhancedStatusCodes}, {"REQUIRETLS", RequireTls},
        {"SIZE", Size},
    };
    m_flags = 0;
    for (const auto &[keyword, flag] : known) {
        if (has(keyword))
            m_flags |= flag;
    }
    m_sizeLimit = parseSizeLimit();
}

std::optional<quint64> Capabilities::parseSizeLimit() const
{
    if (!has("SIZE"))
        return std::nullopt;
    // RFC 1870 4: size-param ::= [1*DIGIT]; omitted means "no information", so
    // only a plain run of digits is a limit. A sign, letters, a second word or a
    // value past 2^64-1 is unknown, never a wrapped or negative number (E.46).
    const QByteArray value = parameters("SIZE");
    if (value.isEmpty())
        return std::nullopt;
    quint64 limit = 0;
    for (const char c : value) {
        if (c < '0' || c > '9')
            return std::nullopt;
        const quint64 digit = quint64(c - '0');
        if (limit > (std::numeric_limits<quint64>::max() - digit) / 10)
            return std::nullopt;
        limit = limit * 10 + digit;
    }
    return limit;
}

} // namespace Smtp
