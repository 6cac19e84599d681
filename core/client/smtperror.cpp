#include "smtperror.h"

#include "protocol/printable.h"

#include <QStringList>


namespace {

// Server text comes from the network: make it one printable line before it goes
// into a message, a log or an exception (docs/security.md: no raw control
// bytes, no terminal escapes). Line breaks between reply lines become " / ".
// Reply lines joined with " / " so an error stays on one line.
QString printableServerText(const QByteArray &text)
{
    QStringList lines;
    for (const QByteArray &line : text.split('\n')) {
        const QByteArray trimmed = line.endsWith('\r') ? line.chopped(1) : line;
        if (!trimmed.isEmpty())
            lines.append(Smtp::printable(trimmed));
    }
    return lines.join(QStringLiteral(" / "));
}

} // namespace

QString SmtpError::categoryName(Category c)
{
    switch (c) {
    case Category::None: return QStringLiteral("none");
    case Category::Usage: return QStringLiteral("usage");
    case Category::Message: return QStringLiteral("message");
    case Category::Transport: return QStringLiteral("transport");
    case Category::Tls: return QStringLiteral("tls");
    case Category::Protocol: return QStringLiteral("protocol");
    case Category::Reply: return QStringLiteral("reply");
    case Category::Auth: return QStringLiteral("auth");
    }
    return QStringLiteral("unknown");
}

QString SmtpError::toString() const
{
    if (!isError() && code.isEmpty() && message.isEmpty())
        return QStringLiteral("no error");

    QStringList head;
    // Without a reference code, the category still tells the reader what kind
    // of failure it was.
    head.append(code.isEmpty() ? categoryName(category).toUpper() + QStringLiteral("-ERROR")
                               : code);
    if (!step.isEmpty())
        head.append(step);
    if (!message.isEmpty())
        head.append(message);
    QString out = head.join(QStringLiteral(": "));

    QStringList server;
    if (replyCode != 0)
        server.append(QString::number(replyCode));
    const QString text = printableServerText(serverText);
    // The reply text usually starts with its enhanced code already (RFC 3463).
    if (!enhancedCode.isEmpty() && !text.startsWith(enhancedCode))
        server.append(enhancedCode);
    if (!text.isEmpty())
        server.append(text);
    if (!server.isEmpty())
        out += QStringLiteral(" (server: ") + server.join(QLatin1Char(' ')) + QLatin1Char(')');
    return out;
}

SmtpException::SmtpException(SmtpError error)
    : m_error(std::move(error))
    , m_what(m_error.toString().toUtf8())
{
}
