#include "exitcodes.h"

namespace Cli {

const QList<ExitCodeInfo> &exitCodes()
{
    static const QList<ExitCodeInfo> table = {
        {ExitOk, "ok", "success: every recipient accepted (send); connected and logged in if asked (probe)"},
        {ExitUsage, "usage", "bad command line or input: unknown option, invalid address, CR/LF in a value, "
                             "missing input file, unknown URL scheme; nothing was sent"},
        {ExitMessage, "message", "the message cannot be composed or read (MESSAGE-ERROR), e.g. a missing "
                                 "attachment or .eml file; nothing was sent"},
        {ExitConnection, "connection", "name lookup, connection, timeout or connection lost"},
        {ExitTls, "tls", "TLS failed: handshake, certificate verification, STARTTLS refused or not offered "
                         "when required"},
        {ExitAuth, "auth", "authentication refused, or impossible (no common mechanism, no TLS for plaintext AUTH)"},
        {ExitSomeRefused, "some-refused", "the message was accepted for some recipients, others were refused; "
                                           "with --count, some messages were accepted and others not"},
        {ExitRejected, "rejected", "the server refused: every recipient, the sender, the message, or the session"},
        {ExitProtocol, "protocol", "the server broke the SMTP protocol, or another unexpected failure"},
        {ExitDiagnosis, "diagnosis", "probe: a check of the diagnosis failed (the report names it and the fix)"},
    };
    return table;
}

QString exitCodeName(int code)
{
    for (const ExitCodeInfo &i : exitCodes()) {
        if (i.code == code)
            return QString::fromLatin1(i.name);
    }
    return QStringLiteral("unknown");
}

QString exitCodeHelp()
{
    QString out = QStringLiteral("Exit codes:\n");
    for (const ExitCodeInfo &i : exitCodes())
        out += QStringLiteral("  %1  %2  %3\n")
                   .arg(i.code)
                   .arg(QString::fromLatin1(i.name), -12)
                   .arg(QString::fromLatin1(i.description));
    return out;
}

int exitCodeFor(const SmtpError &error)
{
    switch (error.category) {
    case SmtpError::Category::None: return ExitOk;
    case SmtpError::Category::Usage: return ExitUsage;
    case SmtpError::Category::Message: return ExitMessage;
    case SmtpError::Category::Transport: return ExitConnection;
    case SmtpError::Category::Tls: return ExitTls;
    case SmtpError::Category::Auth: return ExitAuth;
    // A failure reply (5xx/4xx) to MAIL, RCPT, DATA or the end of data, or a
    // greeting/EHLO refusal: the server said no (RFC 5321 4.2.1).
    case SmtpError::Category::Reply: return ExitRejected;
    case SmtpError::Category::Protocol: return ExitProtocol;
    }
    return ExitProtocol;
}

} // namespace Cli
