#include "addresslistparser.h"

#include <QRegularExpression>

namespace {

// RFC 5322 3.2.4: a quoted-string's content with its quoted-pairs undone.
QString unquote(QStringView quoted)
{
    QString out;
    out.reserve(quoted.size());
    for (qsizetype i = 0; i < quoted.size(); ++i) {
        if (quoted[i] == QLatin1Char('\\') && i + 1 < quoted.size())
            ++i;
        out.append(quoted[i]);
    }
    return out;
}

// One entry, already split from the list: "Name <addr>", "<addr>" or "addr".
bool parseEntry(const QString &entry, AddressListParser::Entry *out, QString *error)
{
    out->source = entry;
    // Find the '<' that opens the angle-addr (RFC 5322 3.4), outside quotes.
    bool inQuote = false;
    qsizetype open = -1;
    for (qsizetype i = 0; i < entry.size(); ++i) {
        const QChar c = entry[i];
        if (inQuote && c == QLatin1Char('\\')) {
            ++i;
            continue;
        }
        if (c == QLatin1Char('"')) {
            inQuote = !inQuote;
        } else if (!inQuote && c == QLatin1Char('<')) {
            open = i;
            break;
        }
    }
    if (open < 0) {
        // A bare addr-spec (RFC 5322 3.4.1); a quoted local part stays quoted, as
        // it goes into MAIL FROM / RCPT TO (RFC 5321 4.1.2).
        out->mailbox = {entry, {}};
        return true;
    }
    const qsizetype close = entry.indexOf(QLatin1Char('>'), open + 1);
    if (close < 0) {
        *error = QStringLiteral("\"%1\" has '<' without a closing '>'").arg(entry);
        return false;
    }
    if (!entry.mid(close + 1).trimmed().isEmpty()) {
        *error = QStringLiteral("\"%1\" has text after '>'").arg(entry);
        return false;
    }
    const QString address = entry.mid(open + 1, close - open - 1).trimmed();
    QString name = entry.left(open).trimmed();
    // RFC 5322 3.2.5: a display name is a phrase; the common "\"Doe, John\"" form
    // is one quoted-string, shown without its quotes.
    if (name.size() >= 2 && name.startsWith(QLatin1Char('"')) && name.endsWith(QLatin1Char('"')))
        name = unquote(QStringView(name).mid(1, name.size() - 2));
    out->mailbox = {address, name};
    return true;
}

} // namespace

namespace AddressListParser {

bool parse(const QString &text, QList<Entry> *entries, QString *error)
{
    entries->clear();
    QString err;
    QString current;
    bool inQuote = false;
    int commentDepth = 0; // RFC 5322 3.2.2: comments nest
    bool inAngle = false;

    auto flush = [&]() -> bool {
        const QString entry = current.trimmed();
        current.clear();
        if (entry.isEmpty())
            return true;
        Entry e;
        if (!parseEntry(entry, &e, &err))
            return false;
        entries->append(e);
        return true;
    };

    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if ((inQuote || commentDepth > 0) && c == QLatin1Char('\\') && i + 1 < text.size()) {
            current.append(c);
            current.append(text[++i]);
            continue;
        }
        if (inQuote) {
            if (c == QLatin1Char('"'))
                inQuote = false;
            current.append(c);
            continue;
        }
        if (commentDepth > 0) {
            if (c == QLatin1Char('('))
                ++commentDepth;
            else if (c == QLatin1Char(')'))
                --commentDepth;
            // Comments are dropped: they are not part of the mailbox (RFC 5322 3.2.2).
            continue;
        }
        if (c == QLatin1Char('"')) {
            inQuote = true;
        } else if (c == QLatin1Char('(') && !inAngle) {
            commentDepth = 1;
            continue;
        } else if (c == QLatin1Char('<')) {
            inAngle = true;
        } else if (c == QLatin1Char('>')) {
            inAngle = false;
        } else if (!inAngle && (c == QLatin1Char(',') || c == QLatin1Char(';'))) {
            if (!flush()) {
                if (error)
                    *error = err;
                return false;
            }
            continue;
        }
        current.append(c);
    }
    if (inQuote) {
        if (error)
            *error = QStringLiteral("\"%1\" has a '\"' without its closing '\"'").arg(current.trimmed());
        return false;
    }
    if (commentDepth > 0) {
        if (error)
            *error = QStringLiteral("a '(' comment is not closed with ')'");
        return false;
    }
    if (!flush()) {
        if (error)
            *error = err;
        return false;
    }
    return true;
}

QString validateAddress(const Message::Address &mailbox, const QString &field)
{
    // A throwaway Message holds the address where the real one will: core's
    // checkSendPossible() is the one place the address rules live (RFC 5321 4.1.2,
    // CR/LF/NUL refused). The other slots get a fixed, valid address.
    const QString other = QStringLiteral("probe@example.org");
    const bool isFrom = field == QLatin1String("From");
    Message probe(isFrom ? mailbox.address : other, QString());
    if (isFrom)
        probe.setFrom(mailbox.address, mailbox.displayName);
    if (field == QLatin1String("Cc"))
        probe.addCc(mailbox.address, mailbox.displayName);
    else if (field == QLatin1String("Bcc"))
        probe.addBcc(mailbox.address, mailbox.displayName);
    else if (isFrom)
        probe.addTo(other);
    else
        probe.addTo(mailbox.address, mailbox.displayName);

    const SmtpError e = probe.checkSendPossible();
    if (!e.isError())
        return {};
    // Core says 'invalid To address "bob@": To address: the part after '@' is
    // empty'; the field and address are shown by the caller, so keep the reason.
    QString reason = e.message;
    const QString marker = QStringLiteral("\"%1\": ").arg(mailbox.address);
    const qsizetype at = reason.indexOf(marker);
    if (reason.startsWith(QLatin1String("invalid ")) && at >= 0) {
        reason = reason.mid(at + marker.size());
        static const QRegularExpression fieldPrefix(QStringLiteral("^[A-Za-z-]+ address: "));
        reason.remove(fieldPrefix);
    }
    return reason;
}

} // namespace AddressListParser
