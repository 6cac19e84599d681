#pragma once
// Realistic stored sessions for the comparison, export and History page tests:
// SendResults filled the way the engine fills them for a Postfix submission
// session (STARTTLS, AUTH, one message), and real certificates made by the
// openssl tool. Pure data: no server is involved, so a test can vary exactly one
// fact (a capability, the certificate, a timing) between two sessions.

#include "client/sendresult.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSslCertificate>
#include <QString>
#include <QStringList>

namespace Fixtures {

// A self-signed certificate for `name`, valid for `days`, made by `openssl req`
// in `dir` (a fresh key each time, so fingerprints differ too).
inline QList<QSslCertificate> makeCertificate(const QString &dir, const QString &name, int days, QString *error)
{
    const QString base = QDir(dir).filePath(QStringLiteral("%1-%2").arg(name).arg(days));
    QProcess openssl;
    openssl.start(QStringLiteral("openssl"),
                  {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("ec"),
                   QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:P-256"), QStringLiteral("-nodes"),
                   QStringLiteral("-keyout"), base + QStringLiteral(".key"), QStringLiteral("-out"),
                   base + QStringLiteral(".pem"), QStringLiteral("-days"), QString::number(days),
                   QStringLiteral("-subj"), QStringLiteral("/CN=%1/O=SMTP Scope tests").arg(name),
                   QStringLiteral("-addext"), QStringLiteral("subjectAltName=DNS:%1").arg(name)});
    if (!openssl.waitForFinished(30000) || openssl.exitStatus() != QProcess::NormalExit || openssl.exitCode() != 0) {
        *error = QStringLiteral("openssl failed: ") + QString::fromLocal8Bit(openssl.readAllStandardError());
        return {};
    }
    QFile pem(base + QStringLiteral(".pem"));
    if (!pem.open(QIODevice::ReadOnly)) {
        *error = pem.errorString();
        return {};
    }
    const QList<QSslCertificate> certs = QSslCertificate::fromData(pem.readAll(), QSsl::Pem);
    if (certs.size() != 1)
        *error = QStringLiteral("openssl wrote %1 certificates").arg(certs.size());
    return certs;
}

inline TranscriptEntry entry(qint64 us, TranscriptEntry::Direction dir, bool tls, const QString &text)
{
    TranscriptEntry e;
    e.timeUs = us;
    e.direction = dir;
    e.encrypted = tls;
    e.text = text;
    return e;
}

inline ServerReply reply(int code, const QString &enhanced, const QString &desc)
{
    ServerReply r;
    r.code = code;
    r.enhanced = enhanced;
    r.desc = desc;
    return r;
}

struct SendSpec
{
    QString target = QStringLiteral("127.0.0.1:587");
    QString host = QStringLiteral("smtp.test");
    QStringList capabilitiesBeforeTls{QStringLiteral("PIPELINING"), QStringLiteral("SIZE 10240000"),
                                      QStringLiteral("STARTTLS"), QStringLiteral("ENHANCEDSTATUSCODES"),
                                      QStringLiteral("8BITMIME")};
    QStringList capabilitiesAfterTls{QStringLiteral("PIPELINING"), QStringLiteral("SIZE 10240000"),
                                     QStringLiteral("AUTH PLAIN LOGIN"), QStringLiteral("ENHANCEDSTATUSCODES"),
                                     QStringLiteral("8BITMIME")};
    QList<QSslCertificate> chain;           // empty: a plain session
    QStringList recipients{QStringLiteral("bob@example.test")};
    QStringList refused;                    // recipients the server answers 550 to
    bool rejectData = false;                // 554 at the end of data
    bool connectFails = false;              // nothing listened
    QList<StepTiming> timings{{QStringLiteral("connect"), 400},   {QStringLiteral("greeting"), 2100},
                              {QStringLiteral("EHLO"), 900},      {QStringLiteral("tls"), 8200},
                              {QStringLiteral("EHLO"), 700},      {QStringLiteral("AUTH PLAIN"), 15300},
                              {QStringLiteral("MAIL FROM"), 600}, {QStringLiteral("RCPT TO"), 1400},
                              {QStringLiteral("data"), 3100}};
    QString extraServerLine;                // a line added to the transcript (for text search)
};

// A STARTTLS submission as the engine reports it (or a plain one without a chain).
inline SendResult send(const SendSpec &spec)
{
    using D = TranscriptEntry::Direction;
    SendResult r;
    r.target = spec.target;
    if (spec.connectFails) {
        r.securityMode = QStringLiteral("starttls");
        r.error = SmtpError::make(SmtpError::Category::Transport, QStringLiteral("SMTP-CONNECT-ERROR"),
                                  QStringLiteral("connect"), QStringLiteral("connection refused by %1").arg(spec.target));
        r.transcript = {entry(120, D::Info, false, QStringLiteral("connecting to %1").arg(spec.target)),
                        entry(450, D::Error, false, QStringLiteral("connection refused"))};
        r.timings = {{QStringLiteral("connect"), 450}};
        return r;
    }
    const bool tls = !spec.chain.isEmpty();
    r.securityMode = tls ? QStringLiteral("starttls") : QStringLiteral("plain");
    r.encrypted = tls;
    r.greeting = reply(220, {}, spec.host + QStringLiteral(" ESMTP Postfix (Debian/GNU)"));
    r.ehlo = reply(250, {}, spec.host + QLatin1Char('\n')
                                + (tls ? spec.capabilitiesAfterTls : spec.capabilitiesBeforeTls).join(QLatin1Char('\n')));
    r.capabilitiesBeforeTls = tls ? spec.capabilitiesBeforeTls : QStringList();
    r.capabilities = tls ? spec.capabilitiesAfterTls : spec.capabilitiesBeforeTls;
    if (tls) {
        r.tls.encrypted = true;
        r.tls.protocol = QStringLiteral("TLSv1.3");
        r.tls.cipher = QStringLiteral("TLS_AES_256_GCM_SHA384");
        r.tls.cipherBits = 256;
        r.tls.peerVerifyName = spec.host;
        r.tls.verified = false;
        r.tls.errors.append({QStringLiteral("SelfSignedCertificate"),
                             QStringLiteral("the certificate is self-signed and not trusted"),
                             QStringLiteral("CN=%1").arg(spec.host)});
        r.tls.chain = spec.chain;
        r.authMechanism = QStringLiteral("PLAIN");
        r.authAttempts.append({QStringLiteral("PLAIN"), reply(235, QStringLiteral("2.7.0"), QStringLiteral("Authentication successful"))});
    }
    r.mail = reply(250, QStringLiteral("2.1.0"), QStringLiteral("Ok"));

    qint64 t = 400;
    auto add = [&r, &t](D dir, bool enc, const QString &text) {
        t += 700;
        r.transcript.append(entry(t, dir, enc, text));
    };
    add(D::Info, false, QStringLiteral("connected to %1").arg(spec.target));
    add(D::Server, false, QStringLiteral("220 ") + r.greeting.desc);
    add(D::Client, false, QStringLiteral("EHLO client.test"));
    for (const QString &c : spec.capabilitiesBeforeTls)
        add(D::Server, false, QStringLiteral("250-") + c);
    if (tls) {
        add(D::Client, false, QStringLiteral("STARTTLS"));
        add(D::Server, false, QStringLiteral("220 2.0.0 Ready to start TLS"));
        add(D::Info, true, QStringLiteral("TLSv1.3 TLS_AES_256_GCM_SHA384"));
        add(D::Client, true, QStringLiteral("EHLO client.test"));
        for (const QString &c : spec.capabilitiesAfterTls)
            add(D::Server, true, QStringLiteral("250-") + c);
        add(D::Client, true, QStringLiteral("AUTH PLAIN <redacted>"));
        add(D::Server, true, QStringLiteral("235 2.7.0 Authentication successful"));
    }
    add(D::Client, tls, QStringLiteral("MAIL FROM:<alice@example.test> SIZE=2048"));
    add(D::Server, tls, QStringLiteral("250 2.1.0 Ok"));
    bool anyAccepted = false;
    for (const QString &rcpt : spec.recipients) {
        add(D::Client, tls, QStringLiteral("RCPT TO:<%1>").arg(rcpt));
        RecipientResult rr;
        rr.address = rcpt;
        if (spec.refused.contains(rcpt)) {
            rr.reply = reply(550, QStringLiteral("5.1.1"), QStringLiteral("<%1>: Recipient address rejected: User unknown").arg(rcpt));
            add(D::Server, tls, QStringLiteral("550 5.1.1 <%1>: Recipient address rejected: User unknown").arg(rcpt));
        } else {
            rr.reply = reply(250, QStringLiteral("2.1.5"), QStringLiteral("Ok"));
            add(D::Server, tls, QStringLiteral("250 2.1.5 Ok"));
            anyAccepted = true;
        }
        r.recipients.append(rr);
    }
    if (!spec.extraServerLine.isEmpty())
        add(D::Server, tls, spec.extraServerLine);
    if (!anyAccepted) {
        r.error = SmtpError::make(SmtpError::Category::Reply, QStringLiteral("SMTP-REPLY-ERROR"), QStringLiteral("RCPT TO"),
                                  QStringLiteral("every recipient was refused"));
        r.error.replyCode = 550;
        r.error.enhancedCode = QStringLiteral("5.1.1");
        r.error.serverText = "Recipient address rejected: User unknown";
    } else {
        add(D::Client, tls, QStringLiteral("DATA"));
        add(D::Server, tls, QStringLiteral("354 End data with <CR><LF>.<CR><LF>"));
        add(D::Info, tls, QStringLiteral("2048 bytes of message data"));
        if (spec.rejectData) {
            r.message = reply(554, QStringLiteral("5.7.1"), QStringLiteral("Message rejected as spam"));
            add(D::Server, tls, QStringLiteral("554 5.7.1 Message rejected as spam"));
            r.error = SmtpError::make(SmtpError::Category::Reply, QStringLiteral("SMTP-REPLY-ERROR"),
                                      QStringLiteral("end of data"), QStringLiteral("the server refused the message"));
            r.error.replyCode = 554;
            r.error.enhancedCode = QStringLiteral("5.7.1");
            r.error.serverText = "Message rejected as spam";
        } else {
            r.message = reply(250, QStringLiteral("2.0.0"), QStringLiteral("Ok: queued as 4XyZ1234"));
            add(D::Server, tls, QStringLiteral("250 2.0.0 Ok: queued as 4XyZ1234"));
            r.accepted = true;
        }
    }
    add(D::Client, tls, QStringLiteral("QUIT"));
    add(D::Server, tls, QStringLiteral("221 2.0.0 Bye"));
    r.quit = reply(221, QStringLiteral("2.0.0"), QStringLiteral("Bye"));
    r.pipelined = true;
    r.messageBytes = 2048;
    r.wireBytes = 2053;
    r.timings = spec.timings;
    return r;
}

} // namespace Fixtures
