#include "historycommand.h"

#include "exitcodes.h"
#include "output.h"
#include "terminal.h"

#include "protocol/printable.h"
#include "store/historystore.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace Cli {

namespace {

const QString Command = QStringLiteral("history");
constexpr int DefaultLast = 50;
constexpr int MaxLast = 1000000;

// The outcomes a record can have (sessionrecord.h): send, then probe/diagnosis.
const QStringList KnownOutcomes{QStringLiteral("accepted"), QStringLiteral("partial"), QStringLiteral("rejected"),
                                QStringLiteral("failed"),   QStringLiteral("cancelled"), QStringLiteral("pass"),
                                QStringLiteral("warn"),     QStringLiteral("fail")};

// Stored text comes from servers, .eml files, the window and the database file
// itself: it is shown by the escaping rule of protocol/printable.h (docs/security.md:
// terminal injection). Values stored as they were (target, user,
// subject, addresses) go through Smtp::printable(); text the engine composed,
// already escaped (errors, check summaries, transcript lines), through
// Smtp::safeLine(), which keeps it one line and leaves its escapes as they are.
using Smtp::printable;
using Smtp::safeLine;

QString localTime(const QDateTime &utc)
{
    return utc.isValid() ? utc.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) : QStringLiteral("?");
}

QString isoUtc(const QDateTime &utc)
{
    return utc.isValid() ? utc.toUTC().toString(Qt::ISODateWithMs) : QString();
}

QVariantMap summaryMap(const Store::SessionSummary &s)
{
    return {
        {QStringLiteral("id"), s.id},
        {QStringLiteral("kind"), Store::sessionKindName(s.kind)},
        {QStringLiteral("started"), isoUtc(s.started)},
        {QStringLiteral("duration_us"), s.durationUs},
        {QStringLiteral("target"), s.target},
        {QStringLiteral("outcome"), s.outcome},
        {QStringLiteral("subject"), s.subject},
        {QStringLiteral("error"), s.error},
        {QStringLiteral("profile"), s.profile},
    };
}

// The whole record for --json. Never a password: the record holds none (the
// profile by name, the user name, the engine's redacted transcript). The
// message bytes are left out: only their size.
QVariantMap recordMap(const Store::SessionRecord &r)
{
    QVariantList events;
    for (const QVariantMap &e : r.events)
        events.append(e);
    return {
        {QStringLiteral("id"), r.id},
        {QStringLiteral("kind"), Store::sessionKindName(r.kind)},
        {QStringLiteral("started"), isoUtc(r.started)},
        {QStringLiteral("duration_us"), r.durationUs},
        {QStringLiteral("source"), r.source},
        {QStringLiteral("profile"), r.profile},
        {QStringLiteral("target"), r.target},
        {QStringLiteral("security"), r.securityMode},
        {QStringLiteral("user"), r.user},
        {QStringLiteral("outcome"), r.outcome},
        {QStringLiteral("error"), r.error},
        {QStringLiteral("subject"), r.subject},
        {QStringLiteral("from"), r.from},
        {QStringLiteral("recipients"), r.recipients},
        {QStringLiteral("result"), r.result},
        {QStringLiteral("usage"), r.usage},
        {QStringLiteral("transcript"), TranscriptEntry::toVariantList(r.transcript)},
        {QStringLiteral("events"), events},
        {QStringLiteral("certificate_chain"), QString::fromLatin1(r.certificateChain)},
        {QStringLiteral("message_bytes"), r.messageBytes},
        {QStringLiteral("message_kept"), !r.message.isEmpty()},
    };
}

// "starttls-opportunistic, TLSv1.3, certificate verified" from the stored result.
QString securityText(const Store::SessionRecord &r)
{
    // A diagnosis tries several modes and ports: its checks say which worked.
    if (r.securityMode.isEmpty())
        return r.kind == Store::SessionKind::Diagnosis ? QStringLiteral("(see the checks)") : QStringLiteral("(unknown)");
    QString s = r.securityMode;
    const QVariantMap tls = r.result.value(QStringLiteral("tls")).toMap();
    if (tls.value(QStringLiteral("encrypted")).toBool()) {
        s += QStringLiteral(", ") + tls.value(QStringLiteral("protocol")).toString();
        if (tls.value(QStringLiteral("insecure")).toBool())
            s += QStringLiteral(", certificate NOT verified (--insecure)");
        else if (tls.value(QStringLiteral("verified")).toBool())
            s += QStringLiteral(", certificate verified");
        else
            s += QStringLiteral(", certificate NOT verified");
    } else if (r.kind != Store::SessionKind::Diagnosis) {
        s += QStringLiteral(", not encrypted");
    }
    return s;
}

// "250 2.1.5 Ok" from a stored {code, desc, enhanced} map.
QString replyText(const QVariantMap &m)
{
    ServerReply r;
    r.code = m.value(QStringLiteral("code")).toInt();
    r.desc = m.value(QStringLiteral("desc")).toString();
    r.enhanced = m.value(QStringLiteral("enhanced")).toString();
    return Output::reply(r); // escaped by ServerReply::display()
}

QString showText(const Store::SessionRecord &r)
{
    QString out;
    auto row = [&out](const QString &label, const QString &value) {
        out += QStringLiteral("%1 %2\n").arg(label, -10).arg(value);
    };
    row(QStringLiteral("session"), QString::number(r.id));
    row(QStringLiteral("kind"), Store::sessionKindName(r.kind));
    row(QStringLiteral("time"), QStringLiteral("%1 (local), %2")
                                    .arg(localTime(r.started), Output::seconds(double(r.durationUs) / 1e6)));
    row(QStringLiteral("target"), printable(r.target));
    row(QStringLiteral("security"), safeLine(securityText(r)));
    row(QStringLiteral("user"), r.user.isEmpty() ? QStringLiteral("(no login)") : printable(r.user));
    row(QStringLiteral("outcome"), printable(r.outcome));
    row(QStringLiteral("error"), r.error.isEmpty() ? QStringLiteral("(none)") : safeLine(r.error));
    QString source = r.source;
    if (!r.profile.isEmpty())
        source += QStringLiteral(", profile \"%1\"").arg(printable(r.profile));
    row(QStringLiteral("source"), safeLine(source));
    if (!r.subject.isEmpty())
        row(QStringLiteral("subject"), printable(r.subject));
    if (!r.from.isEmpty())
        row(QStringLiteral("from"), printable(r.from));
    // Per recipient, the server's reply (the reference's "RCPT" key).
    const QVariantMap rcpt = r.result.value(QStringLiteral("RCPT")).toMap();
    for (const QString &address : r.recipients) {
        row(QStringLiteral("to"), rcpt.contains(address)
                                      ? QStringLiteral("%1: %2").arg(printable(address),
                                                                     replyText(rcpt.value(address).toMap()))
                                      : printable(address));
    }
    if (r.result.contains(QStringLiteral("MSGID")))
        row(QStringLiteral("data"), replyText(r.result.value(QStringLiteral("MSGID")).toMap()));
    if (r.messageBytes > 0)
        row(QStringLiteral("message"), QStringLiteral("%1%2").arg(Output::bytes(r.messageBytes),
                                                                  r.message.isEmpty() ? QStringLiteral(" (not kept)")
                                                                                      : QString()));
    if (r.kind == Store::SessionKind::Diagnosis) {
        const QVariantList checks = r.result.value(QStringLiteral("checks")).toList();
        if (!checks.isEmpty())
            out += QStringLiteral("\nchecks\n");
        for (const QVariant &v : checks) {
            const QVariantMap c = v.toMap();
            out += QStringLiteral("  %1  %2  %3 %4\n")
                       .arg(safeLine(c.value(QStringLiteral("verdict")).toString().toUpper()).leftJustified(7),
                            safeLine(c.value(QStringLiteral("scope")).toString()),
                            safeLine(c.value(QStringLiteral("title")).toString()).leftJustified(24),
                            safeLine(c.value(QStringLiteral("summary")).toString()));
        }
    }
    // The same lines `--transcript` printed while the session ran (Output::transcriptLine).
    out += QStringLiteral("\ntranscript\n");
    for (const TranscriptEntry &e : r.transcript)
        out += Output::transcriptLine(e);
    if (r.transcript.isEmpty())
        out += QStringLiteral("(empty)\n");
    return out;
}

QString listText(const QList<Store::SessionSummary> &sessions)
{
    QList<QStringList> rows{{QStringLiteral("ID"), QStringLiteral("TIME"), QStringLiteral("KIND"),
                             QStringLiteral("TARGET"), QStringLiteral("OUTCOME"), QStringLiteral("SUBJECT / ERROR")}};
    for (const Store::SessionSummary &s : sessions) {
        rows.append({QString::number(s.id), localTime(s.started), Store::sessionKindName(s.kind), printable(s.target),
                     printable(s.outcome), s.error.isEmpty() ? printable(s.subject) : safeLine(s.error)});
    }
    QList<qsizetype> widths(rows.constFirst().size(), 0);
    for (const QStringList &row : std::as_const(rows)) {
        for (qsizetype i = 0; i < row.size(); ++i)
            widths[i] = std::max(widths.at(i), row.at(i).size());
    }
    QString out;
    for (const QStringList &row : std::as_const(rows)) {
        QString line;
        for (qsizetype i = 0; i < row.size(); ++i) {
            // The id right-aligned, the last column not padded.
            if (i == 0)
                line += row.at(i).rightJustified(widths.at(i));
            else if (i + 1 == row.size())
                line += row.at(i);
            else
                line += row.at(i).leftJustified(widths.at(i));
            if (i + 1 < row.size())
                line += QStringLiteral("  ");
        }
        while (line.endsWith(u' ')) // an empty last column
            line.chop(1);
        out += line + u'\n';
    }
    return out;
}

} // namespace

// ---------------------------------------------------------------- recording

QList<TranscriptEntry> HistoryCommand::redactAuth(QList<TranscriptEntry> transcript)
{
    // RFC 4954 4: "AUTH mechanism [initial-response]", then each 334 challenge is
    // answered by one client line, until the final reply (235, or an error).
    bool inExchange = false;
    for (TranscriptEntry &e : transcript) {
        if (e.direction == TranscriptEntry::Direction::Client) {
            const QStringList words = e.text.split(u' ', Qt::SkipEmptyParts);
            if (!words.isEmpty() && words.constFirst().compare(u"AUTH", Qt::CaseInsensitive) == 0) {
                inExchange = true;
                if (words.size() > 2)
                    e.text = words.at(0) + u' ' + words.at(1) + QStringLiteral(" <redacted>");
            } else if (inExchange) {
                e.text = QStringLiteral("<redacted SASL response>");
            }
        } else if (e.direction == TranscriptEntry::Direction::Server && inExchange) {
            if (!e.text.startsWith(QStringLiteral("334")))
                inExchange = false;
        }
    }
    return transcript;
}

void HistoryCommand::declareRecordingOptions(QCommandLineParser &parser)
{
    parser.addOptions({
        {QStringLiteral("history"),
         QStringLiteral("The history database to record the session in (default: %1).")
             .arg(Store::HistoryStore::defaultPath()),
         QStringLiteral("FILE")},
        {QStringLiteral("no-history"), QStringLiteral("Do not record this session in the history.")},
    });
}

HistoryCommand::Recorder::Recorder(QString command)
    : m_command(std::move(command))
{
}

HistoryCommand::Recorder::~Recorder() = default;

bool HistoryCommand::Recorder::read(const QCommandLineParser &parser, QString *error)
{
    const bool off = parser.isSet(QStringLiteral("no-history"));
    if (off && parser.isSet(QStringLiteral("history"))) {
        *error = QStringLiteral("--history and --no-history exclude each other");
        return false;
    }
    if (off) {
        m_path.clear();
        return true;
    }
    if (parser.isSet(QStringLiteral("history"))) {
        const QString given = parser.value(QStringLiteral("history"));
        if (given.isEmpty()) {
            *error = QStringLiteral("--history: give a file name");
            return false;
        }
        if (QFileInfo(given).isDir()) {
            *error = QStringLiteral("--history: '%1' is a folder, not a database file").arg(given);
            return false;
        }
        m_path = QFileInfo(given).absoluteFilePath();
        return true;
    }
    m_path = Store::HistoryStore::defaultPath();
    return true;
}

qint64 HistoryCommand::Recorder::add(Store::SessionRecord record)
{
    if (!enabled() || m_failed)
        return 0;
    QString error;
    if (!m_store) {
        auto store = std::make_unique<Store::HistoryStore>();
        if (!store->open(m_path, &error)) {
            // The session itself went as it went: a history that cannot be written
            // is worth a warning, never a different exit code.
            m_failed = true;
            Output::warning(m_command, QStringLiteral("the session was not recorded in the history: ") + error);
            return 0;
        }
        m_store = std::move(store);
    }
    record.source = QStringLiteral("cli");
    if (m_redactSecrets)
        record.transcript = redactAuth(std::move(record.transcript));
    const qint64 id = m_store->add(record, &error);
    if (id == 0)
        Output::warning(m_command, QStringLiteral("the session was not recorded in the history (%1): %2")
                                       .arg(m_path, error));
    return id;
}

// ---------------------------------------------------------------- the command

int HistoryCommand::run(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "List the sessions stored in the history (newest first), or print one: its facts and its transcript.\n"
        "  smtpscope history [--json] [--last N] [--server S] [--outcome O] [--kind K] [--search TEXT]\n"
        "  smtpscope history show ID [--json]\n"
        "send and probe record every session unless --no-history."));
    p.addPositionalArgument(QStringLiteral("show"), QStringLiteral("Print the stored session ID."),
                            QStringLiteral("[show ID]"));
    p.addHelpOption();
    p.addOptions({
        {QStringLiteral("json"), QStringLiteral("Print JSON on stdout: an array of summaries, or with show the "
                                                "whole record (never a password; the message only by size).")},
        {QStringLiteral("last"), QStringLiteral("List the N newest sessions (default %1).").arg(DefaultLast),
         QStringLiteral("N")},
        {QStringLiteral("server"), QStringLiteral("Only sessions whose target (host:port) contains TEXT."),
         QStringLiteral("TEXT")},
        {QStringLiteral("outcome"),
         QStringLiteral("Only sessions that ended so (repeatable, or comma-separated): %1.")
             .arg(KnownOutcomes.join(QStringLiteral(", "))),
         QStringLiteral("OUTCOME")},
        {QStringLiteral("kind"), QStringLiteral("Only sessions of this kind: send, probe, diagnosis."),
         QStringLiteral("KIND")},
        {QStringLiteral("search"),
         QStringLiteral("Only sessions with these words in the transcript, subject or error."),
         QStringLiteral("TEXT")},
        {QStringLiteral("history"),
         QStringLiteral("The history database to read (default: %1).").arg(Store::HistoryStore::defaultPath()),
         QStringLiteral("FILE")},
    });
    if (!p.parse(QStringList{QStringLiteral("smtpscope")} + arguments))
        return Output::usageError(Command, p.errorText());
    if (p.isSet(QStringLiteral("help"))) {
        Terminal::out(p.helpText() + u'\n' + exitCodeHelp());
        return ExitOk;
    }

    const QStringList positional = p.positionalArguments();
    const bool show = !positional.isEmpty() && positional.constFirst() == u"show";
    if (!positional.isEmpty() && !show)
        return Output::usageError(Command, QStringLiteral("unexpected argument '%1' (did you mean 'history show %1'?)")
                                               .arg(positional.constFirst()));
    qint64 id = 0;
    if (show) {
        if (positional.size() != 2)
            return Output::usageError(Command, positional.size() < 2
                                                   ? QStringLiteral("show: give the id of a session (the first "
                                                                    "column of 'smtpscope history')")
                                                   : QStringLiteral("unexpected argument '%1'").arg(positional.at(2)));
        bool ok = false;
        id = positional.at(1).toLongLong(&ok);
        if (!ok || id <= 0)
            return Output::usageError(Command,
                                      QStringLiteral("show: '%1' is not a session id (a positive number)")
                                          .arg(positional.at(1)));
        for (const char *listOnly : {"last", "server", "outcome", "kind", "search"}) {
            if (p.isSet(QString::fromLatin1(listOnly)))
                return Output::usageError(Command, QStringLiteral("--%1 filters the list: it does not apply to show")
                                                       .arg(QString::fromLatin1(listOnly)));
        }
    }

    Store::SessionFilter filter;
    filter.limit = DefaultLast;
    if (p.isSet(QStringLiteral("last"))) {
        bool ok = false;
        filter.limit = p.value(QStringLiteral("last")).toInt(&ok);
        if (!ok || filter.limit < 1 || filter.limit > MaxLast)
            return Output::usageError(Command, QStringLiteral("--last: '%1' is not a number from 1 to %2")
                                                   .arg(p.value(QStringLiteral("last")))
                                                   .arg(MaxLast));
    }
    filter.server = p.value(QStringLiteral("server"));
    for (const QString &value : p.values(QStringLiteral("outcome"))) {
        for (const QString &part : value.split(u',', Qt::SkipEmptyParts)) {
            const QString outcome = part.trimmed().toLower();
            if (!KnownOutcomes.contains(outcome))
                return Output::usageError(Command, QStringLiteral("--outcome: '%1' is not one of %2")
                                                       .arg(part, KnownOutcomes.join(QStringLiteral(", "))));
            if (!filter.outcomes.contains(outcome))
                filter.outcomes.append(outcome);
        }
    }
    if (p.isSet(QStringLiteral("kind"))) {
        filter.kind = Store::sessionKindFromName(p.value(QStringLiteral("kind")).toLower());
        if (!filter.kind)
            return Output::usageError(Command, QStringLiteral("--kind: '%1' is not send, probe or diagnosis")
                                                   .arg(p.value(QStringLiteral("kind"))));
    }
    filter.text = p.value(QStringLiteral("search")).simplified();
    if (p.isSet(QStringLiteral("search")) && filter.text.isEmpty())
        return Output::usageError(Command, QStringLiteral("--search: give at least one word"));

    const bool json = p.isSet(QStringLiteral("json"));
    const bool pathGiven = p.isSet(QStringLiteral("history"));
    const QString path = pathGiven ? QFileInfo(p.value(QStringLiteral("history"))).absoluteFilePath()
                                   : Store::HistoryStore::defaultPath();

    // A read never creates, migrates or writes the database (openReadOnly): a
    // file given by name must exist; the default one is simply empty until the
    // first session is recorded.
    Store::HistoryStore store;
    if (!QFileInfo::exists(path)) {
        if (pathGiven)
            return Output::usageError(Command, QStringLiteral("--history: '%1' does not exist")
                                                   .arg(p.value(QStringLiteral("history"))));
        if (show)
            return Output::usageError(Command, QStringLiteral("show: no session %1: nothing has been recorded "
                                                              "yet (%2 does not exist)")
                                                   .arg(id)
                                                   .arg(path));
        if (json)
            Terminal::out(QStringLiteral("[]\n"));
        else
            Terminal::out(QStringLiteral("no sessions recorded yet (%1 does not exist)\n").arg(path));
        return ExitOk;
    }
    QString error;
    if (!store.openReadOnly(path, &error))
        return Output::failure(Command,
                               (pathGiven ? QStringLiteral("--history: ") : QStringLiteral("cannot read the history: "))
                                   + error,
                               ExitUsage);

    if (show) {
        const std::optional<Store::SessionRecord> record = store.session(id);
        if (!record)
            return Output::usageError(Command, QStringLiteral("show: no session %1 in %2 (see 'smtpscope history' "
                                                              "for the ids)")
                                                   .arg(id)
                                                   .arg(path));
        if (json)
            Terminal::outBytes(Output::json(recordMap(*record)));
        else
            Terminal::out(showText(*record));
        return ExitOk;
    }

    const QList<Store::SessionSummary> sessions = store.list(filter);
    if (json) {
        QVariantList array;
        for (const Store::SessionSummary &s : sessions)
            array.append(summaryMap(s));
        Terminal::outBytes(Output::json(array));
        return ExitOk;
    }
    const bool filtered = !filter.server.isEmpty() || !filter.outcomes.isEmpty() || filter.kind || !filter.text.isEmpty();
    if (sessions.isEmpty()) {
        Terminal::out(filtered ? QStringLiteral("no recorded session matches\n")
                               : QStringLiteral("no sessions recorded yet in %1\n").arg(path));
        return ExitOk;
    }
    QString text = listText(sessions);
    if (sessions.size() == filter.limit) {
        const int total = store.count(filter);
        if (total > sessions.size())
            text += QStringLiteral("(the %1 newest of %2; --last N for more)\n").arg(sessions.size()).arg(total);
    }
    Terminal::out(text);
    return ExitOk;
}

} // namespace Cli
