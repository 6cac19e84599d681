#include "reply.h"

#include "printable.h"

#include <QStringDecoder>

namespace Smtp {

QString EnhancedStatus::toString() const
{
    if (!isValid())
        return {};
    return QStringLiteral("%1.%2.%3").arg(klass).arg(subject).arg(detail);
}

QByteArray Reply::text() const
{
    return lines.join('\n');
}

namespace {

// Server text is untrusted bytes (docs/security.md): decode UTF-8 when it
// is valid, else read it as Latin-1 so no byte is lost, then show it by the one
// escaping rule (printable.h) so a reply cannot rewrite the line it is shown in
// (terminal escapes, U+202E).
QString readableText(const QByteArray &bytes)
{
    QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString decoded = utf8.decode(bytes);
    if (utf8.hasError())
        decoded = QString::fromLatin1(bytes);
    return printable(decoded);
}

} // namespace

QString Reply::summary() const
{
    QString s = QString::number(code);
    if (!lines.isEmpty() && !lines.first().isEmpty())
        s += QLatin1Char(' ') + readableText(lines.first());
    if (lines.size() > 1)
        s += QStringLiteral(" (+%1 lines)").arg(lines.size() - 1);
    return s;
}

} // namespace Smtp
