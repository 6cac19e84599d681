#pragma once
// The first character of a text that a terminal or a viewer would act on, or
// that would disguise the text around it, judged by Unicode's categories alone
// (independent of the escaping code under test, protocol/printable.h): controls
// (Cc), format characters (Cf), line and paragraph separators (Zl, Zp) and a
// surrogate without its pair.

#include <QChar>
#include <QStringView>

namespace UnsafeText {

// The index of the first such character in `text`, or -1. A line feed counts
// unless `allowLineFeed` (multi-line output, where lines are expected).
[[nodiscard]] inline qsizetype first(QStringView text, bool allowLineFeed = false)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (c.isHighSurrogate() && i + 1 < text.size() && text.at(i + 1).isLowSurrogate()) {
            if (QChar::category(QChar::surrogateToUcs4(c, text.at(i + 1))) == QChar::Other_Format)
                return i;
            ++i;
            continue;
        }
        if (c == u'\n' && allowLineFeed)
            continue;
        switch (c.category()) {
        case QChar::Other_Control:
        case QChar::Other_Format:
        case QChar::Other_Surrogate:
        case QChar::Separator_Line:
        case QChar::Separator_Paragraph:
            return i;
        default:
            break;
        }
    }
    return -1;
}

[[nodiscard]] inline bool holds(QStringView text, bool allowLineFeed = false)
{
    return first(text, allowLineFeed) >= 0;
}

} // namespace UnsafeText
