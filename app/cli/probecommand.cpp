#include "probecommand.h"

#include "connectionoptions.h"
#include "exitcodes.h"
#include "output.h"
#include "terminal.h"

#include "client/smtpclient.h"
#include "events/eventqueue.h"
#include "events/socketevent.h"

#include <QCommandLineParser>
#include <QDateTime>
#include <QElapsedTimer>

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

QString list(const QStringList &items)
{
    return items.isEmpty() ? QStringLiteral("(none)") : items.join(QStringLiteral(", "));
}

} // namespace

int ProbeCommand::run(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(
        QStringLiteral("Connect to an SMTP server without sending mail and report what it offers: addresses, "
                       "timings, greeting, capabilities before and after STARTTLS, TLS and certificates, AUTH "
                       "mechanisms and, with --user, whether the login succeeds. Nothing is sent past EHLO/AUTH; "
                       "QUIT ends the session."));
    p.addPositionalArgument(QStringLiteral("probe"), QStringLiteral("Probe a server."), QStringLiteral("probe"));
    p.addHelpOption();
    ConnectionOptions::declare(p);
    p.addOptions({
        {QStringLiteral("transcript"), QStringLiteral("Print the session on stderr (C, S, *, !, [tls]).")},
        {QStringLiteral("json"), QStringLiteral("Print the report as JSON on stdout.")},
    });
    if (const auto done = Output::parseArguments(p, Command, arguments))
        return *done;

    QString error;
    QStringList warnings;
    ConnectionOptions conn;
    if (!conn.read(p, false, &error, &warnings))
        return Output::usageError(Command, error);
    for (const QString &w : std::as_const(warnings))
        Output::warning(Command, w);

    std::unique_ptr<SmtpClient> client;
    EventQueue events;
    try {
        client = conn.createClient();
        client->setEventQueue(&events);
        if (p.isSet(QStringLiteral("transcript")))
            Output::streamTranscript(*client);
    } catch (const SmtpException &e) {
        return Output::failure(Command, e.error().toString(), exitCodeFor(e.error()));
    }

    QElapsedTimer clock;
    clock.start();
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
    const double elapsed = double(clock.nsecsElapsed()) / 1e9;
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

    if (p.isSet(QStringLiteral("json"))) {
        QVariantMap doc = info.toVariantMap();
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
        doc.insert(QStringLiteral("cli"), QVariantMap{{QStringLiteral("exit_code"), exitCode},
                                                      {QStringLiteral("exit_name"), exitCodeName(exitCode)},
                                                      {QStringLiteral("elapsed"), elapsed},
                                                      {QStringLiteral("insecure"), conn.insecure()}});
        Terminal::outBytes(Output::json(doc));
        return exitCode;
    }

    QString out;
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
            row(QString(), QStringLiteral("! %1: %2").arg(e.name, e.reason));
        for (qsizetype i = 0; i < info.tls.chain.size(); ++i) {
            const QSslCertificate &c = info.tls.chain.at(i);
            const QVariantMap m = info.tls.toVariantMap().value(QStringLiteral("chain")).toList().value(i).toMap();
            row(QStringLiteral("  [%1]").arg(i),
                QStringLiteral("%1; issuer %2; %3 to %4 (%5)")
                    .arg(m.value(QStringLiteral("subject")).toString(), m.value(QStringLiteral("issuer")).toString(),
                         m.value(QStringLiteral("notBefore")).toString(), m.value(QStringLiteral("notAfter")).toString(),
                         validNow(c, now) ? QStringLiteral("valid now") : QStringLiteral("NOT valid now")));
            const QStringList sans = m.value(QStringLiteral("sans")).toStringList();
            if (!sans.isEmpty())
                row(QString(), QStringLiteral("    names: ") + sans.join(QStringLiteral(", ")));
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
        row(QStringLiteral("QUIT"), QStringLiteral("failed: ") + quitError);
    for (const QString &w : std::as_const(info.warnings))
        row(QStringLiteral("warning"), w);
    Terminal::out(out);
    if (connectError.isError())
        return Output::failure(Command, QStringLiteral("failed: ") + connectError.toString(), exitCode);
    return exitCode;
}

} // namespace Cli
