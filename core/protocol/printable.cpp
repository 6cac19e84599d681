#include "printable.h"

#include <algorithm>

namespace Smtp {

QString printable(QByteArrayView bytes, qsizetype limit)
{
    const QByteArrayView shown = limit >= 0 && bytes.size() > limit ? bytes.first(limit) : bytes;
    QString out;
    // Fast path for the common case (plain text): no byte below 0x20, no DEL, and
    // none of the UTF-8 lead bytes of C1 controls (0xC2) or of U+2000-U+2FFF (0xE2).
    const bool plain = std::none_of(shown.begin(), shown.end(), [](char ch) {
        const auto b = static_cast<unsigned char>(ch);
        return b < 0x20 || b == 0x7f || b == 0xc2 || b == 0xe2 || b == '\\';
    });
    if (plain) {
        out = QString::fromUtf8(shown);
    } else {
        const QString decoded = QString::fromUtf8(shown);
        out.reserve(decoded.size() + 8);
        for (const QChar c : decoded) {
            const char16_t u = c.unicode();
            switch (u) {
            case u'\r': out += QLatin1String("\\r"); continue;
            case u'\n': out += QLatin1String("\\n"); continue;
            case u'\t': out += QLatin1String("\\t"); continue;
            case u'\\': out += QLatin1String("\\\\"); continue;
            default: break;
            }
            const bool unsafe = u < 0x20 || (u >= 0x7f && u <= 0x9f) || (u >= 0x202a && u <= 0x202e)
                || (u >= 0x2066 && u <= 0x2069);
            if (unsafe)
                out += QStringLiteral("\\x%1").arg(uint(u), u > 0xff ? 4 : 2, 16, QLatin1Char('0'));
            else
                out += c;
        }
    }
    if (shown.size() < bytes.size())
        out += QStringLiteral("... (+%1 bytes)").arg(bytes.size() - shown.size());
    return out;
}

} // namespace Smtp
