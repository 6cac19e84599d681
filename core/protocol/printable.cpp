#include "printable.h"

#include <QChar>

#include <algorithm>

namespace Smtp {

namespace {

// "\x1b", "\x202e", "\x0e0041": 2, 4 or 6 hex digits, by the code point's size.
void appendEscape(QString &out, char32_t ucs)
{
    switch (ucs) {
    case U'\r': out += QLatin1String("\\r"); return;
    case U'\n': out += QLatin1String("\\n"); return;
    case U'\t': out += QLatin1String("\\t"); return;
    default: break;
    }
    const int width = ucs <= 0xff ? 2 : ucs <= 0xffff ? 4 : 6;
    out += QLatin1String("\\x");
    out += QString::number(uint(ucs), 16).rightJustified(width, QLatin1Char('0'));
}

struct Mode
{
    bool escapeBackslash = true; // printable(): "\\", so the result reads back unambiguously
    bool keepLineFeed = false;   // safeText(): line feeds are the text's own layout
};

// Printable ASCII is by far the common case: decide it without a table lookup.
bool asciiSafe(char16_t u, Mode mode)
{
    return u >= 0x20 && u < 0x7f && (u != u'\\' || !mode.escapeBackslash);
}

bool needsWork(QStringView text, Mode mode)
{
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char16_t u = text[i].unicode();
        if (asciiSafe(u, mode) || (u == u'\n' && mode.keepLineFeed))
            continue;
        if (u < 0x80 || u == u'\\')
            return true;
        if (QChar::isHighSurrogate(u) && i + 1 < text.size() && QChar::isLowSurrogate(text[i + 1].unicode())) {
            if (isUnsafeCharacter(QChar::surrogateToUcs4(u, text[i + 1].unicode())))
                return true;
            ++i;
            continue;
        }
        if (isUnsafeCharacter(u))
            return true;
    }
    return false;
}

QString escaped(QStringView text, Mode mode)
{
    QString out;
    out.reserve(text.size() + 16);
    const qsizetype n = text.size();
    for (qsizetype i = 0; i < n; ++i) {
        const char16_t u = text[i].unicode();
        if (asciiSafe(u, mode) || (u == u'\n' && mode.keepLineFeed)) {
            out += QChar(u);
            continue;
        }
        if (u == u'\\') { // only reached when escaping backslashes
            out += QLatin1String("\\\\");
            continue;
        }
        // A pair of surrogates is one character; a lone one is none, and the
        // rule escapes it (isUnsafeCharacter).
        char32_t ucs = u;
        qsizetype length = 1;
        if (QChar::isHighSurrogate(u) && i + 1 < n && QChar::isLowSurrogate(text[i + 1].unicode())) {
            ucs = QChar::surrogateToUcs4(u, text[i + 1].unicode());
            length = 2;
        }
        if (isUnsafeCharacter(ucs))
            appendEscape(out, ucs);
        else
            out += text.sliced(i, length);
        i += length - 1;
    }
    return out;
}

} // namespace

bool isUnsafeCharacter(char32_t ucs)
{
    // C0, DEL, C1.
    if (ucs < 0x20 || (ucs >= 0x7f && ucs <= 0x9f))
        return true;
    // Nothing else below U+00AD SOFT HYPHEN (the first format character).
    if (ucs < 0xad)
        return false;
    // Line and paragraph separators (Zl, Zp): line breaks of their own.
    if (ucs == 0x2028 || ucs == 0x2029)
        return true;
    // Surrogate code points: in a QString, a lone surrogate.
    if (ucs >= 0xd800 && ucs <= 0xdfff)
        return true;
    // Category Cf: bidi embeddings, overrides, isolates and marks, invisible
    // joiners and separators, the BOM, interlinear annotation, tag characters.
    return QChar::category(ucs) == QChar::Other_Format;
}

QString printable(QByteArrayView bytes, qsizetype limit)
{
    const QByteArrayView shown = limit >= 0 && bytes.size() > limit ? bytes.first(limit) : bytes;
    // Fast path for the common case, plain ASCII text: nothing to decode or escape.
    const bool plain = std::all_of(shown.begin(), shown.end(), [](char ch) {
        const auto b = static_cast<unsigned char>(ch);
        return b >= 0x20 && b < 0x7f && b != '\\';
    });
    QString out;
    if (plain) {
        out = QString::fromLatin1(shown);
    } else {
        const QString decoded = QString::fromUtf8(shown);
        out = escaped(decoded, Mode{});
    }
    if (shown.size() < bytes.size())
        out += QStringLiteral("... (+%1 bytes)").arg(bytes.size() - shown.size());
    return out;
}

QString printable(QStringView text, qsizetype limit)
{
    QStringView shown = text;
    if (limit >= 0 && text.size() > limit) {
        qsizetype cut = limit;
        // Never split a surrogate pair: it would show as a lone surrogate.
        if (cut > 0 && text[cut - 1].isHighSurrogate() && text[cut].isLowSurrogate())
            --cut;
        shown = text.first(cut);
    }
    QString out = needsWork(shown, Mode{}) ? escaped(shown, Mode{}) : shown.toString();
    if (shown.size() < text.size())
        out += QStringLiteral("... (+%1 characters)").arg(text.size() - shown.size());
    return out;
}

QString safeText(const QString &text)
{
    const Mode mode{.escapeBackslash = false, .keepLineFeed = true};
    return needsWork(text, mode) ? escaped(text, mode) : text;
}

QString safeLine(const QString &text)
{
    const Mode mode{.escapeBackslash = false, .keepLineFeed = false};
    return needsWork(text, mode) ? escaped(text, mode) : text;
}

} // namespace Smtp
