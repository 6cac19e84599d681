#include "sendcommand.h"

#include "connectionoptions.h"
#include "exitcodes.h"
#include "historycommand.h"
#include "inputfile.h"
#include "output.h"
#include "progressbar.h"
#include "terminal.h"

#include "client/smtpclient.h"
#include "events/eventqueue.h"
#include "mime/emlmessage.h"
#include "mime/message.h"
#include "mime/regularfile.h"
#include "protocol/validation.h"
#include "store/historystore.h"

#include <QCommandLineParser>
#include <QDateTime>
#include <QElapsedTimer>
#include <QRegularExpression>

#include <algorithm>
#include <memory>
#include <optional>

namespace Cli {

namespace {

const QString Command = QStringLiteral("send");
constexpr int MaxCount = 1000000;
// Below this the send is over before a bar would be worth drawing.
constexpr qint64 ProgressThresholdBytes = 1024 * 1024;

struct Mailbox
{
    QString address;
    QString displayName;
};

// "user@example.org" or "Display Name <user@example.org>". CR, LF and NUL are
// refused before anything else: they could end a header or an SMTP command
// (docs/security.md; RFC 5321 4.1.1.2, RFC 5322 2.2).
std::optional<Mailbox> parseAddressArgument(const QString &arg, const QString &option, QString *error)
{
    if (const auto bad = Smtp::checkNoControlChars(arg, option)) {
        *error = *bad;
        return std::nullopt;
    }
    Mailbox m;
    static const QRegularExpression named(QStringLiteral("^\\s*(.*?)\\s*<([^<>]*)>\\s*$"));
    const auto match = named.match(arg);
    if (match.hasMatch()) {
        m.displayName = match.captured(1);
        if (m.displayName.size() >= 2 && m.displayName.startsWith(u'"') && m.displayName.endsWith(u'"'))
            m.displayName = m.displayName.mid(1, m.displayName.size() - 2);
        m.address = match.captured(2).trimmed();
    } else {
        m.address = arg.trimmed();
    }
    QString why;
    if (!Smtp::parseMailbox(m.address, option, &why)) {
        *error = QStringLiteral("%1: invalid address \"%2\": %3").arg(option, m.address, why);
        return std::nullopt;
    }
    return m;
}

struct Header
{
    QString name;
    QString value;
};

// "Name: value" (RFC 5322 2.2: printable ASCII name without ':' or spaces).
std::optional<Header> parseHeaderArgument(const QString &arg, QString *error)
{
    if (const auto bad = Smtp::checkNoControlChars(arg, u"--header")) {
        *error = *bad + QStringLiteral(" (a line break would start another header or the body)");
        return std::nullopt;
    }
    const qsizetype colon = arg.indexOf(u':');
    Header h;
    h.name = colon < 0 ? QString() : arg.left(colon).trimmed();
    static const QRegularExpression fieldName(QStringLiteral("^[!-9;-~]+$"));
    if (h.name.isEmpty() || !fieldName.match(h.name).hasMatch()) {
        *error = QStringLiteral("--header: \"%1\" is not \"Name: value\" with a printable ASCII name (RFC 5322 2.2)")
                     .arg(arg);
        return std::nullopt;
    }
    h.value = arg.mid(colon + 1).trimmed();
    return h;
}

bool readTextOption(const QCommandLineParser &p, const QString &name, QString *text, QString *error)
{
    QByteArray data;
    if (!InputFile::read(p.value(name), QStringLiteral("--") + name, &data, error))
        return false;
    *text = QString::fromUtf8(data);
    return true;
}

int exitCodeOf(const SendResult &r)
{
    if (r.error.isError())
        return exitCodeFor(r.error);
    if (!r.accepted)
        return ExitRejected;
    return r.refusedRecipients().isEmpty() ? ExitOk : ExitSomeRefused;
}

// The compact per-message entry of --count's JSON "messages" array.
QVariantMap messageEntry(int index, const SendResult &r)
{
    const QVariantMap full = r.toVariantMap();
    QVariantMap m;
    m.insert(QStringLiteral("index"), index);
    for (const char *key : {"accepted", "RCPT", "MSGID", "MAIL", "message_bytes", "wire_bytes", "timings", "error"}) {
        const QString k = QString::fromLatin1(key);
        if (full.contains(k))
            m.insert(k, full.value(k));
    }
    return m;
}

// The message as it went on the wire before dot-stuffing, for the history (kept
// only up to HistoryStore::maxMessageBytes). The options are those the engine
// chose from the server's EHLO keywords (RFC 6152 8BITMIME, RFC 6531 SMTPUTF8);
// the message keeps its generated Date and Message-ID, so the bytes are the same.
QByteArray messageAsSent(const OutgoingMessage &message, const QStringList &capabilities)
{
    BodyOptions options;
    for (const QString &line : capabilities) {
        const QString keyword = line.section(u' ', 0, 0).toUpper();
        options.eightBitMime = options.eightBitMime || keyword == u"8BITMIME";
        options.smtpUtf8 = options.smtpUtf8 || keyword == u"SMTPUTF8";
    }
    const qint64 size = message.size(options);
    if (size <= 0 || size > Store::HistoryStore::maxMessageBytes)
        return {};
    const std::unique_ptr<QIODevice> body = message.openBody(options);
    if (!body)
        return {};
    QByteArray bytes = body->readAll();
    return bytes.size() == size ? bytes : QByteArray();
}

// "refused: bad@example.org (550 5.1.1 No such user), ..."
QString refusedText(const SendResult &r)
{
    QStringList parts;
    for (const RecipientResult &rr : r.recipients) {
        if (!rr.accepted())
            parts.append(QStringLiteral("%1 (%2)").arg(rr.address, Output::reply(rr.reply)));
    }
    return QStringLiteral("refused: ") + parts.join(QStringLiteral(", "));
}

// "receive took 2.301 s (over 1.000 s)", "send ran at 812 B/s (under 10000 B/s)".
QString warningText(const QVariantMap &w)
{
    const QString type = w.value(QStringLiteral("type")).toString();
    const double seconds = w.value(QStringLiteral("us")).toDouble() / 1e6;
    if (type == u"SOCKET-OPERATION-WARNING")
        return QStringLiteral("%1 took %2 (over %3)")
            .arg(w.value(QStringLiteral("operation")).toString(), Output::seconds(seconds),
                 Output::seconds(w.value(QStringLiteral("timeout")).toDouble() / 1e6));
    if (type == u"SOCKET-THROUGHPUT-WARNING")
        return QStringLiteral("%1 of %2 ran at %3 B/s over %4 (under %5 B/s)")
            .arg(w.value(QStringLiteral("dir")).toString(), Output::bytes(w.value(QStringLiteral("bytes")).toLongLong()))
            .arg(w.value(QStringLiteral("bytes_sec")).toLongLong())
            .arg(Output::seconds(seconds))
            .arg(w.value(QStringLiteral("threshold")).toLongLong());
    return type;
}

QString tlsSummary(const SendResult &r)
{
    if (!r.tls.encrypted)
        return QStringLiteral("not encrypted");
    QString s = r.tls.protocol;
    if (!r.tls.verificationEnabled)
        s += QStringLiteral(", certificate NOT verified (--insecure)");
    return s;
}

} // namespace

int SendCommand::run(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(
        QStringLiteral("Compose a message (or load a .eml file) and send it over SMTP.\n"
                       "Output: a one-line summary on stdout (or JSON with --json); the transcript, progress, "
                       "warnings and errors on stderr."));
    p.addPositionalArgument(QStringLiteral("send"), QStringLiteral("Send a message."), QStringLiteral("send"));
    p.addHelpOption();
    ConnectionOptions::declare(p);
    p.addOptions({
        {QStringLiteral("from"), QStringLiteral("Sender (envelope and From), \"Name <addr>\" allowed."),
         QStringLiteral("ADDR")},
        {QStringLiteral("to"), QStringLiteral("Recipient (repeatable)."), QStringLiteral("ADDR")},
        {QStringLiteral("cc"), QStringLiteral("Cc recipient (repeatable)."), QStringLiteral("ADDR")},
        {QStringLiteral("bcc"), QStringLiteral("Bcc recipient (repeatable; never in the headers)."),
         QStringLiteral("ADDR")},
        {QStringLiteral("subject"), QStringLiteral("Subject."), QStringLiteral("TEXT")},
        {QStringLiteral("body"), QStringLiteral("Plain text body."), QStringLiteral("TEXT")},
        {QStringLiteral("body-file"), QStringLiteral("Plain text body from a UTF-8 file (\"-\": stdin)."),
         QStringLiteral("FILE")},
        {QStringLiteral("html-file"), QStringLiteral("HTML body from a file (with a text body: "
                                                     "multipart/alternative)."),
         QStringLiteral("FILE")},
        {QStringLiteral("attach"), QStringLiteral("Attach a file (repeatable; type from its content and name)."),
         QStringLiteral("FILE")},
        {QStringLiteral("header"), QStringLiteral("Add a header \"Name: value\" (repeatable)."),
         QStringLiteral("HEADER")},
        {QStringLiteral("eml"),
         QStringLiteral("Send this RFC 5322 message file unchanged (Bcc removed, line ends made CRLF). Envelope from "
                        "its headers unless --from/--to/--cc/--bcc are given."),
         QStringLiteral("FILE")},
        {QStringLiteral("count"),
         QStringLiteral("Send N copies over one kept-alive session and report messages per second."),
         QStringLiteral("N")},
        {QStringLiteral("test"),
         QStringLiteral("Test mode: connect nowhere; print the exact bytes that would be sent (simulated server).")},
        {QStringLiteral("transcript"),
         QStringLiteral("Print the session on stderr: C client, S server, * info, ! error, [tls] inside TLS; secrets "
                        "redacted unless --show-secrets.")},
        {QStringLiteral("json"), QStringLiteral("Print the full result as JSON on stdout.")},
        {QStringLiteral("events"),
         QStringLiteral("Print the engine's events on stdout as JSON lines as they happen (socket and SMTP events, "
                        "warnings), before the result. --events=data adds each packet's bytes, AUTH data masked "
                        "unless --show-secrets."),
         QStringLiteral("MODE")},
        {QStringLiteral("warn-slow-ms"),
         QStringLiteral("Warn when one network operation takes longer than MS (default 0: off)."),
         QStringLiteral("MS")},
        {QStringLiteral("warn-min-rate"),
         QStringLiteral("Warn when a transfer lasting at least 1 s runs slower than BYTES per second (default 0: off)."),
         QStringLiteral("BYTES")},
        {QStringLiteral("progress"),
         QStringLiteral("Progress bar on stderr: auto (a terminal and at least 1 MiB), always, never."),
         QStringLiteral("MODE"), QStringLiteral("auto")},
    });
    HistoryCommand::declareRecordingOptions(p);

    // "--events" alone means --events=on: QCommandLineParser has no optional values.
    QStringList args = arguments;
    for (QString &a : args) {
        if (a == u"--events")
            a = QStringLiteral("--events=on");
    }
    if (const auto done = Output::parseArguments(p, Command, args))
        return *done;

    const bool testMode = p.isSet(QStringLiteral("test"));
    const bool json = p.isSet(QStringLiteral("json"));
    QString error;
    QStringList warnings;
    ConnectionOptions conn;
    if (!conn.read(p, testMode, &error, &warnings))
        return Output::usageError(Command, error);
    HistoryCommand::Recorder recorder(Command);
    if (!recorder.read(p, &error))
        return Output::usageError(Command, error);
    recorder.setRedactSecrets(conn.showSecrets());

    int count = 1;
    if (p.isSet(QStringLiteral("count"))) {
        bool ok = false;
        count = p.value(QStringLiteral("count")).toInt(&ok);
        if (!ok || count < 1 || count > MaxCount)
            return Output::usageError(Command, QStringLiteral("--count: '%1' is not a number from 1 to %2")
                                                   .arg(p.value(QStringLiteral("count")))
                                                   .arg(MaxCount));
    }
    const QString eventsMode = p.value(QStringLiteral("events"));
    if (p.isSet(QStringLiteral("events")) && eventsMode != u"on" && eventsMode != u"data")
        return Output::usageError(Command, QStringLiteral("--events: '%1' is not a mode; use --events or --events=data")
                                               .arg(eventsMode));
    if (p.isSet(QStringLiteral("events")) && testMode && !json)
        return Output::usageError(Command, QStringLiteral("--events and --test exclude each other: test mode prints "
                                                          "the wire on stdout; add --json to get both"));
    for (const char *name : {"warn-slow-ms", "warn-min-rate"}) {
        const QString option = QString::fromLatin1(name);
        if (!p.isSet(option))
            continue;
        bool ok = false;
        const int v = p.value(option).toInt(&ok);
        if (!ok || v < 0)
            return Output::usageError(Command, QStringLiteral("--%1: '%2' is not a number of %3 (0: off)")
                                                   .arg(option, p.value(option),
                                                        option == u"warn-slow-ms" ? QStringLiteral("milliseconds")
                                                                                  : QStringLiteral("bytes per second")));
        if (option == u"warn-slow-ms")
            conn.setWarnings(v, conn.settings().warnMinBytesPerSecond);
        else
            conn.setWarnings(conn.settings().warnSlowMs, v);
    }
    const QString progressMode = p.value(QStringLiteral("progress"));
    if (progressMode != u"auto" && progressMode != u"always" && progressMode != u"never")
        return Output::usageError(Command,
                                  QStringLiteral("--progress: '%1' is not auto, always or never").arg(progressMode));

    // ---- addresses (checked here so bad input never reaches the engine)
    std::optional<Mailbox> from;
    if (p.isSet(QStringLiteral("from"))) {
        from = parseAddressArgument(p.value(QStringLiteral("from")), QStringLiteral("--from"), &error);
        if (!from)
            return Output::usageError(Command, error);
    }
    QList<Mailbox> to, cc, bcc;
    const std::pair<QString, QList<Mailbox> *> lists[] = {
        {QStringLiteral("to"), &to}, {QStringLiteral("cc"), &cc}, {QStringLiteral("bcc"), &bcc}};
    for (const auto &[name, list] : lists) {
        for (const QString &arg : p.values(name)) {
            const auto m = parseAddressArgument(arg, QStringLiteral("--") + name, &error);
            if (!m)
                return Output::usageError(Command, error);
            list->append(*m);
        }
    }

    // ---- the message
    std::unique_ptr<OutgoingMessage> message;
    QString subjectShown;
    if (p.isSet(QStringLiteral("eml"))) {
        for (const char *composed : {"subject", "body", "body-file", "html-file", "attach", "header"}) {
            if (p.isSet(QString::fromLatin1(composed)))
                return Output::usageError(Command, QStringLiteral("--eml sends the file unchanged: --%1 cannot be "
                                                                  "combined with it")
                                                       .arg(QString::fromLatin1(composed)));
        }
        // A regular file only (its size is the message's): checked without
        // opening it, so a FIFO or a device is refused at once (regularfile.h).
        const QString path = p.value(QStringLiteral("eml"));
        if (const QString why = RegularFile::problem(path); !why.isEmpty())
            return Output::usageError(Command, QStringLiteral("--eml: '%1' %2: give a .eml file").arg(path, why));
        QString loadError;
        std::unique_ptr<EmlMessage> eml = EmlMessage::load(path, &loadError);
        if (!eml)
            return Output::failure(Command, QStringLiteral("MESSAGE-ERROR: ") + loadError, ExitMessage);
        if (from)
            eml->setEnvelopeSender(from->address);
        QStringList recipients;
        for (const QList<Mailbox> *list : {&to, &cc, &bcc}) {
            for (const Mailbox &m : *list)
                recipients.append(m.address);
        }
        if (!recipients.isEmpty())
            eml->setEnvelopeRecipients(recipients);
        subjectShown = eml->subject();
        message = std::move(eml);
    } else {
        if (!from)
            return Output::usageError(Command, QStringLiteral("no sender: give --from ADDRESS (or --eml FILE)"));
        if (to.isEmpty() && cc.isEmpty() && bcc.isEmpty())
            return Output::usageError(Command, QStringLiteral("no recipient: give --to, --cc or --bcc"));
        if (p.isSet(QStringLiteral("body")) && p.isSet(QStringLiteral("body-file")))
            return Output::usageError(Command, QStringLiteral("--body and --body-file exclude each other"));
        const QString subject = p.isSet(QStringLiteral("subject")) ? p.value(QStringLiteral("subject"))
                                                                   : QStringLiteral("Test message from smtpscope");
        if (const auto bad = Smtp::checkNoControlChars(subject, u"--subject"))
            return Output::usageError(Command, *bad);
        subjectShown = subject;

        auto composed = std::make_unique<Message>(from->address, subject);
        composed->setFrom(from->address, from->displayName);
        for (const Mailbox &m : std::as_const(to))
            composed->addTo(m.address, m.displayName);
        for (const Mailbox &m : std::as_const(cc))
            composed->addCc(m.address, m.displayName);
        for (const Mailbox &m : std::as_const(bcc))
            composed->addBcc(m.address, m.displayName);
        for (const QString &arg : p.values(QStringLiteral("header"))) {
            const auto h = parseHeaderArgument(arg, &error);
            if (!h)
                return Output::usageError(Command, error);
            composed->addHeader(h->name, h->value);
        }
        QString text;
        QString html;
        if (p.isSet(QStringLiteral("body")))
            text = p.value(QStringLiteral("body"));
        else if (p.isSet(QStringLiteral("body-file")) && !readTextOption(p, QStringLiteral("body-file"), &text, &error))
            return Output::usageError(Command, error);
        if (p.isSet(QStringLiteral("html-file")) && !readTextOption(p, QStringLiteral("html-file"), &html, &error))
            return Output::usageError(Command, error);
        if (!p.isSet(QStringLiteral("body")) && !p.isSet(QStringLiteral("body-file")) && html.isEmpty())
            text = QStringLiteral("This is a test message sent by smtpscope.\n");
        if (!text.isEmpty() || html.isEmpty())
            composed->setText(text);
        if (!html.isEmpty())
            composed->setHtml(html);
        // Attachment files are read by the message while it is serialized; a missing
        // one is the message's error (MESSAGE-ERROR from checkSendPossible), below.
        for (const QString &path : p.values(QStringLiteral("attach")))
            composed->attachFile(path);
        message = std::move(composed);
    }

    // Reference: an incomplete message raises MESSAGE-ERROR before any I/O.
    if (const SmtpError check = message->checkSendPossible(); check.isError())
        return Output::failure(Command, check.toString(), exitCodeFor(check));

    for (const QString &w : std::as_const(warnings))
        Output::warning(Command, w);

    std::unique_ptr<SmtpClient> client;
    try {
        client = conn.createClient();
    } catch (const SmtpException &e) {
        return Output::failure(Command, e.error().toString(), exitCodeFor(e.error()));
    }
    client->test(testMode);
    // Test mode prints the wire as it is produced, as a real send writes it to
    // the socket: memory stays flat whatever the size. With --json, stdout is
    // the document: the result keeps the start, the size and the SHA-256.
    if (testMode && !json)
        client->setTestWireFunction(
            [](QByteArrayView bytes) { Terminal::outBytes(QByteArray::fromRawData(bytes.data(), bytes.size())); });
    const bool liveTranscript = p.isSet(QStringLiteral("transcript"));
    if (liveTranscript)
        Output::streamTranscript(*client);

    // ---- events and warnings, printed as they come: the records are pushed on the
    // client's worker thread, which prints them at once (nothing accumulates).
    EventQueue events;
    EventQueue warningQueue;
    const bool printEvents = p.isSet(QStringLiteral("events"));
    auto drainEvents = [&events] {
        for (const QVariantMap &record : events.popAll())
            Terminal::outBytes(Output::jsonLine(Output::eventForJson(record)));
    };
    auto drainWarnings = [&warningQueue, printEvents] {
        for (const QVariantMap &record : warningQueue.popAll()) {
            Output::warning(Command, warningText(record));
            if (printEvents)
                Terminal::outBytes(Output::jsonLine(Output::eventForJson(record)));
        }
    };
    if (printEvents) {
        QObject::connect(&events, &EventQueue::available, &events, drainEvents, Qt::DirectConnection);
        client->setEventQueue(&events, QVariant(), eventsMode == u"data");
    }
    const ConnectionSettings &settings = conn.settings();
    if (settings.warnSlowMs > 0 || settings.warnMinBytesPerSecond > 0) {
        QObject::connect(&warningQueue, &EventQueue::available, &warningQueue, drainWarnings, Qt::DirectConnection);
        client->setWarningQueue(settings.warnSlowMs, settings.warnMinBytesPerSecond, &warningQueue);
    }

    // ---- progress
    const qint64 messageSize = message->size(BodyOptions{});
    const qint64 totalBytes = messageSize > 0 ? messageSize * count : -1;
    const bool stderrTty = Terminal::stderrIsTerminal();
    const bool showProgress = !testMode && totalBytes > 0
        && (progressMode == u"always"
            // The live transcript shares stderr: no bar redrawn between its lines.
            || (progressMode == u"auto" && !liveTranscript && stderrTty && totalBytes >= ProgressThresholdBytes));
    std::unique_ptr<ProgressBar> progress;
    if (showProgress) {
        progress = std::make_unique<ProgressBar>(totalBytes, stderrTty, Terminal::stderrColumns());
        SmtpClient *c = client.get();
        progress->start([c] { return c->getUsageInfo().value(QStringLiteral("bytes_sent")).toLongLong(); });
    }

    // ---- send: all copies in one session (RFC 5321 4.1.4: a new transaction after
    // the previous one ended; RFC 2920 3.1: pipelined when offered).
    QList<const OutgoingMessage *> batch(count, message.get());
    QList<SendResult> results;
    SmtpError sessionError;
    const QDateTime started = QDateTime::currentDateTimeUtc();
    QElapsedTimer clock;
    clock.start();
    try {
        results = client->sendMessages(batch);
    } catch (const SmtpException &e) {
        sessionError = e.error();
    }
    const double elapsed = double(clock.nsecsElapsed()) / 1e9;
    // Events after this point (the close) would follow the result: stop here.
    if (printEvents) {
        client->setEventQueue();
        drainEvents();
    }
    if (settings.warnSlowMs > 0 || settings.warnMinBytesPerSecond > 0) {
        client->clearWarningQueue();
        drainWarnings();
    }
    if (progress) {
        const bool allSent = !results.isEmpty()
            && std::all_of(results.cbegin(), results.cend(), [](const SendResult &r) { return r.accepted; });
        progress->stop(allSent);
    }
    SendResult info = client->sessionInfo();

    int exitCode = ExitOk;
    int acceptedMessages = 0;
    if (sessionError.isError() || results.isEmpty()) {
        if (!sessionError.isError())
            sessionError = SmtpError::make(SmtpError::Category::Protocol, QStringLiteral("SMTP-STATE-ERROR"),
                                           QString(), QStringLiteral("nothing was sent"));
        exitCode = exitCodeFor(sessionError);
        info.error = sessionError;
    } else {
        for (const SendResult &r : std::as_const(results)) {
            if (r.accepted)
                ++acceptedMessages;
            if (exitCode == ExitOk)
                exitCode = exitCodeOf(r);
        }
        // With --count, some messages accepted and others not is a partial
        // success like some recipients refused (docs/cli.md, "Exit codes");
        // none accepted keeps the code of the first failure.
        if (exitCode != ExitOk && acceptedMessages > 0)
            exitCode = ExitSomeRefused;
    }

    // One history record per session, --count included (docs/cli.md): the first
    // message that did not fully succeed (else the first) with the session's
    // facts and its whole transcript; "messages" in the result lists every copy.
    // Test mode is not recorded: no server was involved.
    qint64 historyId = 0;
    if (!testMode && recorder.enabled()) {
        SendResult shown = info;
        if (!results.isEmpty()) {
            shown = results.constFirst();
            for (const SendResult &r : std::as_const(results)) {
                if (exitCodeOf(r) != ExitOk) {
                    shown = r;
                    break;
                }
            }
            shown.timings = info.timings + shown.timings;
        }
        shown.transcript = info.transcript;
        Store::SessionRecord record = Store::recordFromSend(shown, Store::SessionKind::Send, client->getUsageInfo(),
                                                            messageAsSent(*message, info.capabilities));
        record.started = started;
        record.durationUs = qint64(elapsed * 1e6);
        // The settings the session was made with (ConnectionSettings: never a secret).
        record.result.insert(QStringLiteral("settings"), conn.settings().toVariantMap());
        record.user = conn.user();
        if (record.target.isEmpty())
            record.target = conn.target();
        if (record.securityMode.isEmpty())
            record.securityMode = conn.securityMode();
        record.subject = subjectShown;
        if (record.from.isEmpty())
            record.from = message->envelopeSender();
        if (record.recipients.isEmpty())
            record.recipients = message->envelopeRecipients();
        // Accepted for some recipients only: no engine error, but the history's
        // error line says who was refused and why, as the summary line does.
        if (record.error.isEmpty() && !shown.refusedRecipients().isEmpty())
            record.error = refusedText(shown);
        if (count > 1) {
            QVariantList entries;
            for (int i = 0; i < results.size(); ++i)
                entries.append(messageEntry(i, results.at(i)));
            record.result.insert(QStringLiteral("messages"), entries);
            record.result.insert(QStringLiteral("accepted_messages"), acceptedMessages);
        }
        historyId = recorder.add(record);
    }

    if (json) {
        // The first message's result with the session's facts: its steps before
        // the first transaction (connect, TLS, greeting, EHLO, AUTH) come first.
        SendResult first = results.isEmpty() ? info : results.constFirst();
        if (!results.isEmpty())
            first.timings = info.timings + first.timings;
        QVariantMap doc = first.toVariantMap();
        doc.insert(QStringLiteral("transcript"), Output::transcript(info.transcript));
        doc.insert(QStringLiteral("usage"), client->getUsageInfo());
        doc.insert(QStringLiteral("subject"), subjectShown);
        doc.insert(QStringLiteral("settings"), conn.settings().toVariantMap());
        if (testMode) {
            // A bounded excerpt of the wire; the size and hash stand for the rest.
            doc.insert(QStringLiteral("simulated_wire"), QString::fromUtf8(info.simulatedWire));
            doc.insert(QStringLiteral("simulated_wire_bytes"), info.simulatedWireBytes);
            doc.insert(QStringLiteral("simulated_wire_sha256"), QString::fromLatin1(info.simulatedWireSha256));
            doc.insert(QStringLiteral("simulated_wire_truncated"), info.simulatedWireBytes > info.simulatedWire.size());
        }
        if (count > 1) {
            QVariantList entries;
            for (int i = 0; i < results.size(); ++i)
                entries.append(messageEntry(i, results.at(i)));
            doc.insert(QStringLiteral("messages"), entries);
        }
        QVariantMap cli{{QStringLiteral("exit_code"), exitCode},
                        {QStringLiteral("exit_name"), exitCodeName(exitCode)},
                        {QStringLiteral("messages"), count},
                        {QStringLiteral("accepted_messages"), acceptedMessages},
                        {QStringLiteral("elapsed"), elapsed},
                        {QStringLiteral("test"), testMode},
                        {QStringLiteral("insecure"), conn.insecure()}};
        if (historyId > 0)
            cli.insert(QStringLiteral("history_id"), historyId);
        if (count > 1)
            cli.insert(QStringLiteral("messages_per_second"), elapsed > 0 ? double(acceptedMessages) / elapsed : 0.0);
        doc.insert(QStringLiteral("cli"), cli);
        Terminal::outBytes(Output::json(doc));
        return exitCode;
    }

    if (sessionError.isError())
        return Output::failure(Command, QStringLiteral("failed: ") + sessionError.toString(), exitCode);

    // With --events stdout is JSON lines only: the summary goes to stderr.
    auto summary = [printEvents](const QString &text) { printEvents ? Terminal::err(text) : Terminal::out(text); };
    const QString via = testMode ? QStringLiteral("no server (test mode)")
                                 : QStringLiteral("%1 (%2, %3)").arg(info.target, info.securityMode, tlsSummary(info));
    if (count > 1) {
        const QString line = QStringLiteral("%1 of %2 messages accepted over one session to %3 in %4: %5 messages/s\n")
                                 .arg(acceptedMessages)
                                 .arg(count)
                                 .arg(via, Output::seconds(elapsed))
                                 .arg(elapsed > 0 ? double(acceptedMessages) / elapsed : 0.0, 0, 'f', 1);
        summary(line);
        if (exitCode != ExitOk) {
            for (const SendResult &r : std::as_const(results)) {
                if (r.error.isError())
                    return Output::failure(Command, QStringLiteral("first failure: ") + r.error.toString(), exitCode);
            }
        }
        return exitCode;
    }

    const SendResult &r = results.constFirst();
    if (r.error.isError())
        return Output::failure(Command, QStringLiteral("failed: ") + r.error.toString(), exitCode);
    QString line = testMode ? QStringLiteral("test mode, nothing sent: ") : QString();
    const QStringList refused = r.refusedRecipients();
    const qsizetype acceptedCount = r.recipients.size() - refused.size();
    line += QStringLiteral("accepted for %1 of %2 recipient(s) via %3: %4 [%5]")
                .arg(acceptedCount)
                .arg(r.recipients.size())
                .arg(via, Output::reply(r.message), Output::seconds(elapsed));
    if (!refused.isEmpty())
        line += QStringLiteral("; ") + refusedText(r);
    summary(line + u'\n');
    return exitCode;
}

} // namespace Cli
