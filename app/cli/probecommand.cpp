#include "probecommand.h"

#include "connectionoptions.h"
#include "exitcodes.h"
#include "historycommand.h"
#include "output.h"
#include "terminal.h"

#include "client/smtpclient.h"
#include "diagnostics/diagnosis.h"
#include "diagnostics/reportexport.h"
#include "events/eventqueue.h"
#include "events/socketevent.h"
#include "protocol/printable.h"
#include "protocol/validation.h"
#include "store/sessionrecord.h"

#include <QCommandLineParser>
#include <QDateTime>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QSaveFile>

#include <optional>

namespace Cli {

namespace {

const QString Command = QStringLiteral("probe");

// RFC 4954 3: "AUTH mech1 mech2 ..." in the EHLO reply (some old servers still
// write "AUTH=mech ...", which is read the same way).
QStringList authMechanisms(const QStringList &capabilities)
{
    QStringList out;
    for (const QString &line : capabilities) {
        if (line.startsWith(QStringLiteral("AUTH "), Qt::CaseInsensitive)
            || line.startsWith(QStringLiteral("AUTH="), Qt::CaseInsensitive)) {
            for (const QString &m : line.mid(5).split(u' ', Qt::SkipEmptyParts)) {
                if (!out.contains(m.toUpper()))
                    out.append(m.toUpper());
            }
        }
    }
    return out;
}

bool validNow(const QSslCertificate &c, const QDateTime &now)
{
    return c.effectiveDate().isValid() && c.expiryDate().isValid() && c.effectiveDate() <= now
        && now <= c.expiryDate();
}

bool nameMismatch(const TlsInfo &tls)
{
    for (const TlsInfo::CertificateError &e : tls.errors) {
        if (e.name == u"HostNameMismatch")
            return true;
    }
    return false;
}

// What the server sent (capabilities, AUTH mechanisms, certificate fields) is
// shown by the escaping rule of protocol/printable.h; text the engine composed
// (errors, check summaries) already holds its escapes and is kept one line.
QString list(const QStringList &items)
{
    QStringList shown;
    for (const QString &item : items)
        shown.append(Smtp::printable(item));
    return items.isEmpty() ? QStringLiteral("(none)") : shown.join(QStringLiteral(", "));
}

// The checklist's options on top of the connection options.
struct ChecklistSettings
{
    Diagnostics::DiagnosisOptions options;
    QString htmlFile;
};

bool readPort(const QCommandLineParser &p, const QString &name, quint16 *port, QString *error)
{
    if (!p.isSet(name))
        return true;
    bool ok = false;
    const uint value = p.value(name).toUInt(&ok);
    if (!ok || value == 0 || value > 65535) {
        *error = QStringLiteral("--%1: '%2' is not a TCP port (1-65535)").arg(name, p.value(name));
        return false;
    }
    *port = quint16(value);
    return true;
}

// RFC 1035 2.3.1 / RFC 5890: letters, digits, hyphens and dots (IDNs as A-labels).
bool validDomain(const QString &domain)
{
    static const QRegularExpression syntax(
        QStringLiteral("^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*"
                       "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.?$"));
    return syntax.match(domain).hasMatch();
}

bool readChecklist(const QCommandLineParser &p, const ConnectionOptions &conn, ChecklistSettings *out,
                   QString *error)
{
    Diagnostics::DiagnosisOptions &o = out->options;
    o.domain = p.value(QStringLiteral("domain"));
    if (o.domain.endsWith(u'.'))
        o.domain.chop(1);
    if (p.isSet(QStringLiteral("domain")) && !validDomain(o.domain)) {
        *error = QStringLiteral("--domain: '%1' is not a domain name (letters, digits, hyphens and dots; "
                                "give internationalised names in their xn-- form)")
                     .arg(p.value(QStringLiteral("domain")));
        return false;
    }
    o.host = conn.host();
    // A port the user chose (or --ssl's 465) is checked as given; without one the
    // checklist looks at all three standard ports.
    o.port = conn.portGiven() || conn.implicitTls() ? conn.port() : 0;
    o.implicitTls = conn.implicitTls();
    o.peerVerifyName = conn.tlsName();
    o.allPorts = p.isSet(QStringLiteral("all-ports"));
    if (!readPort(p, QStringLiteral("relay-port"), &o.relayPort, error)
        || !readPort(p, QStringLiteral("submission-port"), &o.submissionPort, error)
        || !readPort(p, QStringLiteral("submissions-port"), &o.submissionsPort, error))
        return false;
    o.dns = !p.isSet(QStringLiteral("no-dns"));
    if (p.isSet(QStringLiteral("dns-server"))) {
        const QHostAddress server(p.value(QStringLiteral("dns-server")));
        if (server.isNull()) {
            *error = QStringLiteral("--dns-server: '%1' is not an IP address").arg(p.value(QStringLiteral("dns-server")));
            return false;
        }
        if (!o.dns) {
            *error = QStringLiteral("--dns-server and --no-dns exclude each other");
            return false;
        }
        o.dnsOptions.nameserver = server;
    }
    if (!o.domain.isEmpty() && !o.dns) {
        *error = QStringLiteral("--domain needs DNS: drop --no-dns");
        return false;
    }
    o.dnsOptions.caFile = conn.caFile();
    o.checks = conn.checkOptions();
    o.checks.scanTlsVersions = !p.isSet(QStringLiteral("no-tls-scan"));
    o.checks.tryEachMechanism = !p.isSet(QStringLiteral("no-auth-scan"));
    o.checks.exerciseExtensions = !p.isSet(QStringLiteral("no-transaction"));
    o.checks.relayCheck = p.isSet(QStringLiteral("relay-check"));
    if (o.checks.relayCheck && !o.checks.exerciseExtensions) {
        *error = QStringLiteral("--relay-check sends MAIL and RCPT: it cannot be combined with --no-transaction");
        return false;
    }
    out->htmlFile = p.value(QStringLiteral("html"));
    return true;
}

QString verdictWord(Diagnostics::Verdict v)
{
    switch (v) {
    case Diagnostics::Verdict::Pass:
        return QStringLiteral("ok  ");
    case Diagnostics::Verdict::Info:
        return QStringLiteral("info");
    case Diagnostics::Verdict::Warn:
        return QStringLiteral("WARN");
    case Diagnostics::Verdict::Fail:
        return QStringLiteral("FAIL");
    case Diagnostics::Verdict::Skipped:
        return QStringLiteral("skip");
    }
    return QStringLiteral("info");
}

// One check as the terminal shows it: verdict, title, the sentence, then the fix
// and the detail indented under it.
QString checkText(const Diagnostics::Check &c)
{
    QString out = QStringLiteral("  %1  %2 %3\n")
                      .arg(verdictWord(c.verdict), Smtp::safeLine(c.title).leftJustified(24), Smtp::safeLine(c.summary));
    const QString indent(8, u' ');
    if (!c.fix.isEmpty())
        out += indent + QStringLiteral("fix: ") + Smtp::safeLine(c.fix) + u'\n';
    if (!c.detail.isEmpty() && c.verdict != Diagnostics::Verdict::Pass) {
        for (const QString &line : c.detail.split(u'\n', Qt::SkipEmptyParts))
            out += indent + Smtp::safeLine(line) + u'\n';
    }
    return out;
}

QString countsText(const Diagnostics::Report &r)
{
    return QStringLiteral("%1 (%2 fail, %3 warn, %4 ok, %5 info, %6 skipped) in %7")
        .arg(Diagnostics::verdictName(r.overall()).toUpper())
        .arg(r.count(Diagnostics::Verdict::Fail))
        .arg(r.count(Diagnostics::Verdict::Warn))
        .arg(r.count(Diagnostics::Verdict::Pass))
        .arg(r.count(Diagnostics::Verdict::Info))
        .arg(r.count(Diagnostics::Verdict::Skipped))
        .arg(Output::seconds(double(r.durationUs) / 1e6));
}

// The session a send with these settings would open, as probe has always
// reported it: fills *json and *text, and *failureText when the session failed.
// Returns the session's exit code. *record is the session for the history, filled
// when a connection was attempted.
int probeSession(const QCommandLineParser &p, const ConnectionOptions &conn, QVariantMap *json, QString *text,
                 QString *failureText, std::optional<Store::SessionRecord> *record)
{
    const QDateTime started = QDateTime::currentDateTimeUtc();
    QElapsedTimer clock;
    clock.start();
    std::unique_ptr<SmtpClient> client;
    EventQueue events;
    try {
        client = conn.createClient();
        client->setEventQueue(&events);
        if (p.isSet(QStringLiteral("transcript")))
            Output::streamTranscript(*client);
    } catch (const SmtpException &e) {
        *failureText = e.error().toString();
        return exitCodeFor(e.error());
    }

    SmtpError connectError;
    try {
        client->connect();
    } catch (const SmtpException &e) {
        connectError = e.error();
    }
    SendResult info = client->sessionInfo();
    QList<TranscriptEntry> transcript = info.transcript;
    ServerReply quit;
    QString quitError;
    if (!connectError.isError()) {
        // RFC 5321 4.1.1.10: QUIT ends the session politely.
        try {
            client->disconnect();
        } catch (const SmtpException &e) {
            quitError = e.error().toString();
        }
        const SendResult after = client->sessionInfo();
        quit = after.quit;
        transcript += after.transcript;
    }
    client->setEventQueue();

    // Addresses tried, from the CONNECTING events (the reference's event fields).
    QVariantList addresses;
    QStringList addressText;
    for (const QVariantMap &e : events.popAll()) {
        if (e.value(QStringLiteral("event")).toInt() != SocketEvent::Connecting)
            continue;
        const QString address = e.value(QStringLiteral("address")).toString();
        const QString family = e.value(QStringLiteral("typename")).toString();
        addresses.append(QVariantMap{{QStringLiteral("address"), address}, {QStringLiteral("family"), family}});
        addressText.append(QStringLiteral("%1 (%2)").arg(address, family));
    }

    const int exitCode = exitCodeFor(connectError);
    const QStringList mechanisms = authMechanisms(info.capabilities);
    const bool loginTried = conn.hasCredentials();
    const bool loginOk = loginTried && !info.authMechanism.isEmpty() && !connectError.isError();
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const QString verifyName = info.tls.peerVerifyName.isEmpty() ? conn.host() : info.tls.peerVerifyName;

    {
        QVariantMap &doc = *json;
        doc = info.toVariantMap();
        // Keys about a message do not apply: nothing was sent.
        for (const char *key : {"RCPT", "MSGID", "MAIL", "accepted", "pipelined", "chunked", "message_bytes",
                                "wire_bytes"})
            doc.remove(QString::fromLatin1(key));
        if (connectError.isError()) {
            info.error = connectError;
            doc.insert(QStringLiteral("error"), info.toVariantMap().value(QStringLiteral("error")));
        }
        if (quit.isValid())
            doc.insert(QStringLiteral("QUIT"), quit.toVariantMap());
        doc.insert(QStringLiteral("addresses"), addresses);
        doc.insert(QStringLiteral("auth_mechanisms"), mechanisms);
        doc.insert(QStringLiteral("login"),
                   QVariantMap{{QStringLiteral("attempted"), loginTried},
                               {QStringLiteral("succeeded"), loginOk},
                               {QStringLiteral("mechanism"), info.authMechanism}});
        if (info.tls.encrypted || !info.tls.chain.isEmpty()) {
            QVariantList validity;
            for (const QSslCertificate &c : std::as_const(info.tls.chain))
                validity.append(validNow(c, now));
            doc.insert(QStringLiteral("certificate_check"),
                       QVariantMap{{QStringLiteral("name"), verifyName},
                                   {QStringLiteral("name_matches"), !info.tls.chain.isEmpty() && !nameMismatch(info.tls)},
                                   {QStringLiteral("valid_now"), validity},
                                   {QStringLiteral("verified"), info.tls.verified},
                                   {QStringLiteral("verification_enabled"), info.tls.verificationEnabled}});
            // The handshake may have failed before the session counted as encrypted:
            // the chain and errors seen are still worth reporting.
            if (!doc.contains(QStringLiteral("tls")))
                doc.insert(QStringLiteral("tls"), info.tls.toVariantMap());
        }
        doc.insert(QStringLiteral("transcript"), Output::transcript(transcript));
        doc.insert(QStringLiteral("usage"), client->getUsageInfo());
        if (!quitError.isEmpty())
            doc.insert(QStringLiteral("quit_error"), quitError);
    }

    {
        // The history keeps the whole session, QUIT included, with the facts the
        // probe adds to the engine's result (addresses, login, certificate check).
        SendResult stored = info;
        stored.quit = quit;
        stored.transcript = transcript;
        Store::SessionRecord r = Store::recordFromSend(stored, Store::SessionKind::Probe, client->getUsageInfo());
        r.started = started;
        r.durationUs = clock.nsecsElapsed() / 1000;
        r.result.insert(QStringLiteral("settings"), conn.settings().toVariantMap());
        r.user = conn.user();
        if (r.target.isEmpty())
            r.target = conn.target();
        if (r.securityMode.isEmpty())
            r.securityMode = conn.securityMode();
        for (const char *key : {"addresses", "auth_mechanisms", "login", "certificate_check", "quit_error"}) {
            const QString k = QString::fromLatin1(key);
            if (json->contains(k))
                r.result.insert(k, json->value(k));
        }
        *record = std::move(r);
    }

    QString &out = *text;
    auto row = [&out](const QString &label, const QString &value) {
        out += QStringLiteral("%1 %2\n").arg(label, -14).arg(value);
    };
    row(QStringLiteral("target"), QStringLiteral("%1 (%2)").arg(conn.target(), conn.securityMode()));
    row(QStringLiteral("addresses"), list(addressText));
    if (info.greeting.isValid())
        row(QStringLiteral("greeting"), Output::reply(info.greeting));
    if (info.ehlo.isValid())
        row(info.usedHelo ? QStringLiteral("HELO") : QStringLiteral("EHLO"), Output::reply(info.ehlo));
    if (!info.capabilitiesBeforeTls.isEmpty() && info.capabilitiesBeforeTls != info.capabilities)
        row(QStringLiteral("before TLS"), list(info.capabilitiesBeforeTls));
    if (info.ehlo.isValid())
        row(info.capabilitiesBeforeTls.isEmpty() || info.capabilitiesBeforeTls == info.capabilities
                ? QStringLiteral("capabilities")
                : QStringLiteral("after TLS"),
            list(info.capabilities));
    if (info.tls.encrypted) {
        row(QStringLiteral("TLS"), QStringLiteral("%1, %2 (%3 bits)%4")
                                       .arg(info.tls.protocol, info.tls.cipher)
                                       .arg(info.tls.cipherBits)
                                       .arg(info.tls.implicit ? QStringLiteral(", implicit") : QStringLiteral(", STARTTLS")));
    } else if (!connectError.isError()) {
        row(QStringLiteral("TLS"), QStringLiteral("none: the session is not encrypted"));
    }
    if (!info.tls.chain.isEmpty()) {
        QString verdict;
        if (info.tls.verified)
            verdict = QStringLiteral("verified, name %1 matches").arg(verifyName);
        else
            verdict = QStringLiteral("NOT verified%1; name %2 %3")
                          .arg(info.tls.verificationEnabled ? QString() : QStringLiteral(" (--insecure)"), verifyName,
                               nameMismatch(info.tls) ? QStringLiteral("does NOT match") : QStringLiteral("matches"));
        row(QStringLiteral("certificate"), verdict);
        for (const TlsInfo::CertificateError &e : std::as_const(info.tls.errors))
            row(QString(), QStringLiteral("! %1: %2").arg(e.name, Smtp::safeLine(e.reason)));
        for (qsizetype i = 0; i < info.tls.chain.size(); ++i) {
            const QSslCertificate &c = info.tls.chain.at(i);
            const QVariantMap m = info.tls.toVariantMap().value(QStringLiteral("chain")).toList().value(i).toMap();
            row(QStringLiteral("  [%1]").arg(i),
                QStringLiteral("%1; issuer %2; %3 to %4 (%5)")
                    .arg(Smtp::printable(m.value(QStringLiteral("subject")).toString()),
                         Smtp::printable(m.value(QStringLiteral("issuer")).toString()),
                         m.value(QStringLiteral("notBefore")).toString(), m.value(QStringLiteral("notAfter")).toString(),
                         validNow(c, now) ? QStringLiteral("valid now") : QStringLiteral("NOT valid now")));
            const QStringList sans = m.value(QStringLiteral("sans")).toStringList();
            if (!sans.isEmpty())
                row(QString(), QStringLiteral("    names: ") + list(sans));
        }
    }
    if (info.ehlo.isValid())
        row(QStringLiteral("AUTH offered"), list(mechanisms));
    if (!loginTried)
        row(QStringLiteral("login"), QStringLiteral("not tried (no --user)"));
    else if (loginOk)
        row(QStringLiteral("login"), QStringLiteral("succeeded as %1 with %2").arg(conn.user(), info.authMechanism));
    else
        row(QStringLiteral("login"), QStringLiteral("FAILED as %1").arg(conn.user()));
    QStringList timings;
    for (const StepTiming &t : std::as_const(info.timings))
        timings.append(QStringLiteral("%1 %2 ms").arg(t.step).arg(double(t.us) / 1000.0, 0, 'f', 1));
    row(QStringLiteral("timings"), list(timings));
    if (quit.isValid())
        row(QStringLiteral("QUIT"), Output::reply(quit));
    else if (!quitError.isEmpty())
        row(QStringLiteral("QUIT"), QStringLiteral("failed: ") + Smtp::safeLine(quitError));
    for (const QString &w : std::as_const(info.warnings))
        row(QStringLiteral("warning"), Smtp::safeLine(w));
    if (connectError.isError())
        *failureText = QStringLiteral("failed: ") + connectError.toString();
    return exitCode;
}

} // namespace

int ProbeCommand::run(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral(
        "Diagnose an SMTP server without sending mail. First the session a send with these options would open "
        "(addresses, timings, greeting, capabilities before and after STARTTLS, TLS and certificates, AUTH, and "
        "with --user whether the login succeeds); then a checklist run step by step, each step timed and given "
        "a verdict with the reason and the fix: the ports 25, 465 and 587 (or the one given), the TLS mode each "
        "speaks, STARTTLS, each TLS version, the certificate chain, its expiry and name, AUTH offered before "
        "TLS, every AUTH mechanism with the credentials, the extensions exercised in a transaction ended by "
        "RSET (never DATA), reverse DNS, and with --domain the MX and SRV records, SPF, DMARC and MTA-STS."));
    p.addPositionalArgument(QStringLiteral("probe"), QStringLiteral("Probe a server."), QStringLiteral("probe"));
    p.addHelpOption();
    ConnectionOptions::declare(p);
    p.addOptions({
        {QStringLiteral("transcript"), QStringLiteral("Print every session on stderr (C, S, *, !, [tls]).")},
        {QStringLiteral("json"), QStringLiteral("Print the report as JSON on stdout.")},
        {QStringLiteral("html"), QStringLiteral("Also write the report as a self-contained HTML page to FILE."),
         QStringLiteral("FILE")},
        {QStringLiteral("domain"),
         QStringLiteral("Discover the domain's mail hosts (MX, SRV _submission(s)._tcp) and check each, then its "
                        "SPF, DMARC and MTA-STS records. No --host needed."),
         QStringLiteral("DOMAIN")},
        {QStringLiteral("all-ports"), QStringLiteral("Check the standard ports 25, 465 and 587 too, not only the "
                                                     "one given (without a port all three are checked).")},
        {QStringLiteral("relay-check"),
         QStringLiteral("Consent to the open-relay check: MAIL and RCPT to outside domains without AUTH, then "
                        "RSET, never DATA. Only on servers you are responsible for.")},
        {QStringLiteral("no-checklist"), QStringLiteral("Only the session, no checklist (one connection).")},
        {QStringLiteral("no-tls-scan"), QStringLiteral("Do not try each TLS version on its own connection.")},
        {QStringLiteral("no-auth-scan"), QStringLiteral("Try only the chosen (or strongest) AUTH mechanism, not "
                                                        "each one offered.")},
        {QStringLiteral("no-transaction"), QStringLiteral("Send no MAIL or RCPT at all (the extensions are then "
                                                          "read from EHLO, not exercised).")},
        {QStringLiteral("no-dns"), QStringLiteral("No DNS lookups of the checklist's own (reverse DNS, records).")},
        {QStringLiteral("dns-server"), QStringLiteral("Ask this DNS server (port 53) instead of the system's."),
         QStringLiteral("ADDRESS")},
        {QStringLiteral("relay-port"), QStringLiteral("Where the relay (MX) service is, if not 25."),
         QStringLiteral("PORT")},
        {QStringLiteral("submission-port"), QStringLiteral("Where submission with STARTTLS is, if not 587."),
         QStringLiteral("PORT")},
        {QStringLiteral("submissions-port"), QStringLiteral("Where submission with implicit TLS is, if not 465."),
         QStringLiteral("PORT")},
    });
    HistoryCommand::declareRecordingOptions(p);
    if (const auto done = Output::parseArguments(p, Command, arguments))
        return *done;

    QElapsedTimer clock;
    clock.start();
    QString error;
    QStringList warnings;
    ConnectionOptions conn;
    const bool checklist = !p.isSet(QStringLiteral("no-checklist"));
    conn.setHostOptional(p.isSet(QStringLiteral("domain")));
    if (!conn.read(p, false, &error, &warnings))
        return Output::usageError(Command, error);
    ChecklistSettings settings;
    if (checklist && !readChecklist(p, conn, &settings, &error))
        return Output::usageError(Command, error);
    if (!checklist && p.isSet(QStringLiteral("domain")))
        return Output::usageError(Command, QStringLiteral("--domain runs the checklist: drop --no-checklist"));
    HistoryCommand::Recorder recorder(Command);
    if (!recorder.read(p, &error))
        return Output::usageError(Command, error);
    recorder.setRedactSecrets(conn.showSecrets());
    for (const QString &w : std::as_const(warnings))
        Output::warning(Command, w);

    const bool json = p.isSet(QStringLiteral("json"));
    QVariantMap doc;
    QString failureText;
    int exitCode = ExitOk;
    // The session is recorded as kind probe, the checklist's report as kind
    // diagnosis; the diagnosis names the probe's record ("probe_session_id").
    QVariantList historyIds;
    qint64 probeId = 0;
    if (!conn.host().isEmpty()) {
        QString text;
        std::optional<Store::SessionRecord> record;
        exitCode = probeSession(p, conn, &doc, &text, &failureText, &record);
        if (!json)
            Terminal::out(text);
        if (record) {
            probeId = recorder.add(*record);
            if (probeId > 0)
                historyIds.append(probeId);
        }
    }

    if (checklist) {
        Diagnostics::Diagnosis diagnosis(settings.options);
        QString lastScope;
        if (!json) {
            Terminal::out(QStringLiteral("\nchecklist\n"));
            diagnosis.setCheckFunction([&lastScope](const Diagnostics::Check &c) {
                if (c.scope != lastScope) {
                    Terminal::out(QStringLiteral("%1\n").arg(c.scope));
                    lastScope = c.scope;
                }
                Terminal::out(checkText(c));
            });
        }
        if (p.isSet(QStringLiteral("transcript"))) {
            diagnosis.setTranscriptFunction([](const QString &scope, const TranscriptEntry &e) {
                Terminal::err(scope + u' ' + Output::transcriptLine(e));
            });
        }
        const Diagnostics::Report report = diagnosis.run();
        if (recorder.enabled()) {
            Store::SessionRecord record = Store::recordFromReport(report);
            if (record.user.isEmpty())
                record.user = conn.user();
            if (probeId > 0)
                record.result.insert(QStringLiteral("probe_session_id"), probeId);
            if (const qint64 id = recorder.add(record); id > 0)
                historyIds.append(id);
        }
        if (!json) {
            QString tail = QStringLiteral("\nresult   %1\n").arg(countsText(report));
            if (!report.commandLines.isEmpty()) {
                tail += QStringLiteral("\nto reproduce by hand (the password is asked for or read from a file):\n");
                for (const QString &line : report.commandLines)
                    tail += QStringLiteral("  %1\n").arg(line);
            }
            Terminal::out(tail);
        }
        if (!settings.htmlFile.isEmpty()) {
            QSaveFile file(settings.htmlFile);
            if (!file.open(QIODevice::WriteOnly) || file.write(Diagnostics::toHtml(report)) < 0 || !file.commit()) {
                return Output::failure(Command, QStringLiteral("--html: cannot write '%1': %2")
                                                    .arg(settings.htmlFile, file.errorString()),
                                       ExitUsage);
            }
        }
        if (exitCode == ExitOk && report.overall() == Diagnostics::Verdict::Fail)
            exitCode = ExitDiagnosis;
        doc.insert(QStringLiteral("diagnosis"), report.toVariantMap());
    }

    if (json) {
        doc.insert(QStringLiteral("cli"), QVariantMap{{QStringLiteral("exit_code"), exitCode},
                                                      {QStringLiteral("exit_name"), exitCodeName(exitCode)},
                                                      {QStringLiteral("elapsed"), double(clock.nsecsElapsed()) / 1e9},
                                                      {QStringLiteral("insecure"), conn.insecure()},
                                                      {QStringLiteral("history_ids"), historyIds}});
        Terminal::outBytes(Output::json(doc));
    }
    if (!failureText.isEmpty())
        return Output::failure(Command, failureText, exitCode);
    if (exitCode == ExitDiagnosis && !json)
        return Output::failure(Command, QStringLiteral("the checklist found problems (FAIL above)"), exitCode);
    return exitCode;
}

} // namespace Cli
