#include "livecolours.h"

#include <QtMath>

namespace LiveColours {

double luminance(const QColor &c)
{
    auto channel = [](double v) { return v <= 0.03928 ? v / 12.92 : qPow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF());
}

double contrast(const QColor &a, const QColor &b)
{
    const double la = luminance(a);
    const double lb = luminance(b);
    return (qMax(la, lb) + 0.05) / (qMin(la, lb) + 0.05);
}

QColor readable(int hue, const QColor &background, int saturation)
{
    // Dark background: start light and go lighter; light background: the reverse.
    const bool dark = luminance(background) < 0.18;
    int lightness = dark ? 170 : 90;
    QColor c = QColor::fromHsl(hue, saturation, lightness);
    while (contrast(c, background) < 4.5 && lightness > 0 && lightness < 255) {
        lightness += dark ? 8 : -8;
        lightness = qBound(0, lightness, 255);
        c = QColor::fromHsl(hue, saturation, lightness);
    }
    return c;
}

QColor highlight(int hue, const QPalette &palette)
{
    const QColor base = palette.color(QPalette::Base);
    const bool dark = luminance(base) < 0.18;
    // A tint close to the base so that the palette's text stays readable on it.
    return QColor::fromHsl(hue, 160, dark ? 60 : 215);
}

} // namespace LiveColours
