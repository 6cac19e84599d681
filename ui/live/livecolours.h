#pragma once
// Colours for the live views that stay readable on light and dark palettes: a hue
// is turned into a foreground whose contrast with the palette's base colour meets
// WCAG 2.x AA for text (4.5:1), by moving its lightness away from the background.

#include <QColor>
#include <QPalette>

namespace LiveColours {

// WCAG 2.x relative luminance and contrast ratio.
[[nodiscard]] double luminance(const QColor &c);
[[nodiscard]] double contrast(const QColor &a, const QColor &b);
// A saturated colour of `hue` (0-359) readable on `background`.
[[nodiscard]] QColor readable(int hue, const QColor &background, int saturation = 200);
// A background tint of `hue` for highlighting a line, still leaving the palette's
// text colour readable.
[[nodiscard]] QColor highlight(int hue, const QPalette &palette);

// Hues used for directions and verdicts, in one place.
inline constexpr int ClientHue = 215; // blue
inline constexpr int ServerHue = 130; // green
inline constexpr int ErrorHue = 0;    // red
inline constexpr int WarningHue = 35; // orange

} // namespace LiveColours
