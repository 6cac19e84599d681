#include "reply.h"

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

// Server text is untrusted bytes (security catalogue E.47): decode UTF-8 when it
// is valid, else read it as Latin-1 so no byte is lost, then make every control
// character and bidirectional override visible so a reply cannot rewrite the
// line it is shown in (terminal escapes, U+202E).
QString readableText(const QByteArray &bytes)
{
    QStringDecoder utf8(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString decoded = utf8.decode(bytes);
    if (utf8.hasError())
        decoded = QString::fromLatin1(bytes);

    QString shown;
    shown.reserve(decoded.size());
    for (const QChar c : std::as_const(decoded)) {
        const char16_t u = c.unicode();
        const bool control = u < 0x20 || u == 0x7f || (u >= 0x80 && u < 0xa0);
        const bool bidi = (u >= 0x202a && u <= 0x202e) || (u >= 0x2066 && u <= 0x2069)
                || u == 0x200e || u == 0x200f;
        if (control || bidi)
            shown += (u <= 0xff ? QStringLiteral("\\x%1").arg(u, 2, 16, QLatin1Char('0'))
                                : QStringLiteral("\\u%1").arg(u, 4, 16, QLatin1Char('0')));
        else
            shown += c;
    }
    return shown;
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
