#include "sessionrecord.h"

#include "diagnostics/diagnosticreport.h"

#include <QSslCertificate>

#include <algorithm>

namespace Store {

namespace {

QByteArray chainPem(const QList<QSslCertificate> &chain)
{
    QByteArray pem;
    for (const QSslCertificate &cert : chain)
        pem += cert.toPem();
    return pem;
}

// The session's length: the last transcript entry is stamped relative to the
// start; the step timings cover at least as much when the transcript is short
// (a session that failed before any line was exchanged).
qint64 sessionDurationUs(const SendResult &result)
{
    qint64 fromTranscript = 0;
    for (const TranscriptEntry &e : result.transcript)
        fromTranscript = std::max(fromTranscript, e.timeUs);
    qint64 fromTimings = 0;
    for (const StepTiming &t : result.timings)
        fromTimings += t.us;
    return std::max(fromTranscript, fromTimings);
}

QString sendOutcome(const SendResult &result)
{
    // The server's acceptance at the end of data (RFC 5321 4.1.1.4: the reply
    // to "." is what makes the server responsible for the message) decides,
    // whatever happened afterwards (a failed QUIT does not unsend it).
    if (result.accepted)
        return result.refusedRecipients().isEmpty() ? QStringLiteral("accepted") : QStringLiteral("partial");
    if (result.error.code == QLatin1String("SMTP-CANCELLED"))
        return QStringLiteral("cancelled");
    // A failure reply to MAIL, every RCPT or the data is the server saying no;
    // anything else (lookup, connection, TLS, AUTH, malformed reply, a message
    // that could not be sent as it was) is the session failing.
    if (result.error.category == SmtpError::Category::Reply)
        return QStringLiteral("rejected");
    return QStringLiteral("failed");
}

QString probeOutcome(const SendResult &result)
{
    if (result.error.code == QLatin1String("SMTP-CANCELLED"))
        return QStringLiteral("cancelled");
    if (result.error.isError())
        return QStringLiteral("failed");
    // Warnings are what the session noticed without failing (certificate not
    // verified, a capability missing): the probe passed with a warning.
    return result.warnings.isEmpty() ? QStringLiteral("pass") : QStringLiteral("warn");
}

} // namespace

QString sessionKindName(SessionKind kind)
{
    switch (kind) {
    case SessionKind::Send: return QStringLiteral("send");
    case SessionKind::Probe: return QStringLiteral("probe");
    case SessionKind::Diagnosis: return QStringLiteral("diagnosis");
    }
    return QStringLiteral("send");
}

std::optional<SessionKind> sessionKindFromName(const QString &name)
{
    for (SessionKind kind : {SessionKind::Send, SessionKind::Probe, SessionKind::Diagnosis}) {
        if (sessionKindName(kind) == name)
            return kind;
    }
    return std::nullopt;
}

SessionRecord recordFromSend(const SendResult &result, SessionKind kind, const QVariantMap &usage,
                             const QByteArray &message)
{
    SessionRecord r;
    r.kind = kind;
    r.durationUs = sessionDurationUs(result);
    // The record is made when the session has just ended: it started that long ago.
    r.started = QDateTime::currentDateTimeUtc().addMSecs(-(r.durationUs / 1000));
    r.target = result.target;
    r.securityMode = result.securityMode;
    r.outcome = kind == SessionKind::Send ? sendOutcome(result) : probeOutcome(result);
    if (result.error.isError())
        r.error = result.error.toString();
    for (const RecipientResult &rcpt : result.recipients)
        r.recipients.append(rcpt.address);
    r.result = result.toVariantMap();
    r.usage = usage;
    r.transcript = result.transcript;
    if (!result.tls.chain.isEmpty())
        r.certificateChain = chainPem(result.tls.chain);
    r.message = message;
    r.messageBytes = message.isEmpty() ? result.messageBytes : message.size();
    return r;
}

SessionRecord recordFromReport(const Diagnostics::Report &report)
{
    SessionRecord r;
    r.kind = SessionKind::Diagnosis;
    r.started = report.started.toUTC();
    r.durationUs = report.durationUs;
    r.outcome = report.cancelled ? QStringLiteral("cancelled") : Diagnostics::verdictName(report.overall());
    r.subject = report.subject;
    r.user = report.options.value(QStringLiteral("user")).toString();
    r.result = report.toVariantMap();
    if (!report.endpoints.isEmpty()) {
        const Diagnostics::Endpoint &first = report.endpoints.constFirst();
        r.target = first.target();
        r.transcript = first.transcript;
    }
    for (const Diagnostics::Endpoint &e : report.endpoints) {
        if (!e.tls.chain.isEmpty()) {
            r.certificateChain = chainPem(e.tls.chain);
            break;
        }
    }
    // The error line of a diagnosis is its first failed check, so the history
    // list says why it failed without opening it.
    for (const Diagnostics::Check &c : report.checks) {
        if (c.verdict == Diagnostics::Verdict::Fail) {
            r.error = c.scope.isEmpty() ? c.title + QStringLiteral(": ") + c.summary
                                        : c.scope + u' ' + c.title + QStringLiteral(": ") + c.summary;
            break;
        }
    }
    return r;
}

} // namespace Store
