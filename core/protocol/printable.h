#pragma once
// Untrusted bytes (server replies, injected data, challenges) made safe to show
// in a transcript, an error message, a log or a terminal (security catalogue
// E.47, H.77): decoded as UTF-8 (invalid sequences become U+FFFD), with C0
// controls, DEL, C1 controls and the bidi overrides and isolates that can
// disguise text (U+202A-202E, U+2066-2069) written as escapes ("\r", "\n",
// "\t", "\\", "\xHH", "\x202e"). Nothing else changes, so ordinary text in any
// language stays readable.

#include <QByteArrayView>
#include <QString>

namespace Smtp {

// At most `limit` bytes are shown (-1: all), then "... (+N bytes)".
[[nodiscard]] QString printable(QByteArrayView bytes, qsizetype limit = -1);

} // namespace Smtp
