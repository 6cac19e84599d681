// Fault specs of the capture server: parsing and printing (grammar in fault.h).
//
// The parser is strict and names the part it rejects, because the same text comes
// from a command line (smtpscope serve --fault SPEC) where a silently ignored
// typo would make a test pass for the wrong reason.

#include "fault.h"

#include <QList>

#include <array>
#include <utility>

namespace Capture {

namespace {

struct StepName
{
    Fault::Step step;
    QLatin1StringView name;
};

constexpr std::array<StepName, 8> StepNames = {{
    {Fault::Step::Greeting, QLatin1StringView("greeting")},
    {Fault::Step::Ehlo, QLatin1StringView("ehlo")},
    {Fault::Step::StartTls, QLatin1StringView("starttls")},
    {Fault::Step::Auth, QLatin1StringView("auth")},
    {Fault::Step::Mail, QLatin1StringView("mail")},
    {Fault::Step::Rcpt, QLatin1StringView("rcpt")},
    {Fault::Step::Data, QLatin1StringView("data")},
    {Fault::Step::EndOfData, QLatin1StringView("eod")},
}};

// A delay longer than this is a typo, not a test: the client's own timeouts
// (RFC 5321 4.5.3.2: 5 minutes for most replies) would fire long before.
constexpr int MaxDelayMs = 3600 * 1000;

std::optional<Fault> fail(QString *error, const QString &why)
{
    if (error)
        *error = why;
    return std::nullopt;
}

// A whole-string decimal number without sign, or -1.
qint64 parseCount(QStringView text)
{
    if (text.isEmpty() || text.size() > 9)
        return -1;
    qint64 value = 0;
    for (const QChar c : text) {
        if (c < u'0' || c > u'9')
            return -1;
        value = value * 10 + (c.unicode() - u'0');
    }
    return value;
}

// "CODE[ TEXT]" of a reply fault. RFC 5321 4.2: a reply code is three digits;
// a scripted fault is a failure, so only 4xx (transient) and 5xx (permanent).
bool parseReply(QStringView field, int *code, QString *text, QString *why)
{
    const QStringView codePart = field.left(3);
    const qint64 value = parseCount(codePart);
    if (codePart.size() != 3 || value < 0) {
        *why = QStringLiteral("reply \"%1\": the code must be three digits").arg(field);
        return false;
    }
    if (value < 400 || value > 599) {
        *why = QStringLiteral("reply code %1: a fault replies 4xx or 5xx").arg(value);
        return false;
    }
    if (field.size() > 3 && field[3] != u' ') {
        *why = QStringLiteral("reply \"%1\": a space must separate the code from the text").arg(field);
        return false;
    }
    const QString rest = field.mid(4).trimmed().toString();
    // The text goes on the wire as is: a CR or LF would inject a reply line.
    for (const QChar c : rest) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f) {
            *why = QStringLiteral("reply text \"%1\": control characters are not allowed").arg(rest);
            return false;
        }
    }
    *code = int(value);
    *text = rest;
    return true;
}

std::optional<Fault> parseRate(QStringView head, const QList<QStringView> &fields, QString *error)
{
    // rate=N/min[:CODE[ TEXT]]
    const QStringView value = head.mid(5);
    const qsizetype slash = value.indexOf(u'/');
    if (slash < 0 || value.mid(slash + 1).compare(u"min", Qt::CaseInsensitive) != 0)
        return fail(error, QStringLiteral("rate \"%1\": write it as rate=N/min").arg(value));
    const qint64 n = parseCount(value.left(slash));
    if (n < 1)
        return fail(error, QStringLiteral("rate \"%1\": N must be a whole number of at least 1").arg(value));
    Fault f;
    f.step = Fault::Step::Mail; // the limit is checked when a transaction starts
    f.action = Fault::Action::RateLimit;
    f.perMinute = int(n);
    f.code = 421;
    if (fields.size() > 2)
        return fail(error, QStringLiteral("rate: only a reply code may follow, got \"%1\"").arg(fields[2]));
    if (fields.size() == 2) {
        QString why;
        if (!parseReply(fields[1].trimmed(), &f.code, &f.text, &why))
            return fail(error, why);
        // 421 closes the connection (RFC 5321 3.8), 451 4.7.0 only refuses the
        // transaction: the two ways real servers throttle.
        if (f.code != 421 && f.code != 451)
            return fail(error, QStringLiteral("rate reply code %1: use 421 or 451").arg(f.code));
    }
    return f;
}

} // namespace

QString Fault::stepName(Step step)
{
    for (const StepName &s : StepNames) {
        if (s.step == step)
            return QString(s.name);
    }
    return QStringLiteral("?");
}

std::optional<Fault> Fault::parse(const QString &spec, QString *error)
{
    const QString trimmed = spec.trimmed();
    if (trimmed.isEmpty())
        return fail(error, QStringLiteral("empty fault"));

    // The reply text may itself hold ':' ("550 5.1.1 Gone: moved"), so the
    // fields are split lazily: everything from a field that starts with a digit
    // on is the reply.
    QList<QStringView> fields;
    {
        QStringView rest(trimmed);
        while (true) {
            const qsizetype colon = rest.indexOf(u':');
            const QStringView field = colon < 0 ? rest : rest.left(colon);
            const QStringView lead = field.trimmed();
            if (!fields.isEmpty() && !lead.isEmpty() && lead[0].isDigit()) {
                fields.append(rest);
                break;
            }
            fields.append(field);
            if (colon < 0)
                break;
            rest = rest.mid(colon + 1);
        }
    }

    const QStringView head = fields.first().trimmed();
    if (head.startsWith(u"rate=", Qt::CaseInsensitive))
        return parseRate(head, fields, error);

    Fault f;
    const qsizetype eq = head.indexOf(u'=');
    const QStringView stepText = eq < 0 ? head : head.left(eq);
    bool known = false;
    for (const StepName &s : StepNames) {
        if (stepText.compare(s.name, Qt::CaseInsensitive) == 0) {
            f.step = s.step;
            known = true;
        }
    }
    if (!known)
        return fail(error, QStringLiteral("unknown step \"%1\" (greeting, ehlo, starttls, auth, mail, rcpt, data, "
                                          "eod or rate=N/min)")
                               .arg(stepText));
    if (eq >= 0) {
        QStringView rcpt = head.mid(eq + 1).trimmed();
        if (rcpt.startsWith(u'<') && rcpt.endsWith(u'>'))
            rcpt = rcpt.mid(1, rcpt.size() - 2);
        if (f.step != Step::Rcpt)
            return fail(error, QStringLiteral("recipient \"%1\" on step %2: only rcpt takes a recipient")
                                   .arg(rcpt, stepName(f.step)));
        if (rcpt.isEmpty())
            return fail(error, QStringLiteral("rcpt=: the recipient is empty"));
        for (const QChar c : rcpt) {
            if (c.unicode() <= 0x20 || c == u'<' || c == u'>')
                return fail(error, QStringLiteral("recipient \"%1\": spaces, controls and <> are not allowed").arg(rcpt));
        }
        f.recipient = rcpt.toString();
    }

    bool haveAction = false;
    bool haveEvery = false;
    for (qsizetype i = 1; i < fields.size(); ++i) {
        const QStringView field = fields[i].trimmed();
        if (field.isEmpty())
            return fail(error, QStringLiteral("empty field after \"%1\"").arg(fields[i - 1]));
        const bool isAction = !field.startsWith(u"every=", Qt::CaseInsensitive);
        if (isAction && haveAction)
            return fail(error, QStringLiteral("\"%1\": a fault has one action (delay=MS, disconnect or CODE TEXT)")
                                   .arg(field));
        if (field.startsWith(u"every=", Qt::CaseInsensitive)) {
            if (haveEvery)
                return fail(error, QStringLiteral("\"%1\": every= given twice").arg(field));
            const qint64 n = parseCount(field.mid(6));
            if (n < 1)
                return fail(error, QStringLiteral("every \"%1\": N must be a whole number of at least 1")
                                       .arg(field.mid(6)));
            f.everyNth = int(n);
            haveEvery = true;
        } else if (field.startsWith(u"delay=", Qt::CaseInsensitive)) {
            const QStringView ms = field.mid(6);
            if (ms.startsWith(u'-'))
                return fail(error, QStringLiteral("delay \"%1\": it cannot be negative").arg(ms));
            const qint64 n = parseCount(ms);
            if (n < 0)
                return fail(error, QStringLiteral("delay \"%1\": milliseconds as a whole number").arg(ms));
            if (n > MaxDelayMs)
                return fail(error, QStringLiteral("delay \"%1\": more than one hour").arg(ms));
            f.action = Action::Delay;
            f.delayMs = int(n);
            haveAction = true;
        } else if (field.compare(u"disconnect", Qt::CaseInsensitive) == 0) {
            f.action = Action::Disconnect;
            haveAction = true;
        } else if (field[0].isDigit()) {
            QString why;
            if (!parseReply(field, &f.code, &f.text, &why))
                return fail(error, why);
            f.action = Action::Reply;
            haveAction = true;
        } else {
            return fail(error, QStringLiteral("unknown field \"%1\" (every=N, delay=MS, disconnect or CODE TEXT)")
                                   .arg(field));
        }
    }
    if (!haveAction)
        return fail(error, QStringLiteral("\"%1\": no action (delay=MS, disconnect or CODE TEXT)").arg(trimmed));
    return f;
}

QString Fault::toString() const
{
    const auto reply = [this] {
        return text.isEmpty() ? QString::number(code) : QStringLiteral("%1 %2").arg(code).arg(text);
    };
    if (action == Action::RateLimit)
        return QStringLiteral("rate=%1/min:%2").arg(perMinute).arg(reply());
    QString out = stepName(step);
    if (!recipient.isEmpty())
        out += QLatin1Char('=') + recipient;
    if (everyNth != 1)
        out += QStringLiteral(":every=%1").arg(everyNth);
    switch (action) {
    case Action::Reply: out += QLatin1Char(':') + reply(); break;
    case Action::Delay: out += QStringLiteral(":delay=%1").arg(delayMs); break;
    case Action::Disconnect: out += QStringLiteral(":disconnect"); break;
    case Action::RateLimit: break;
    }
    return out;
}

} // namespace Capture
