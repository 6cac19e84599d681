#pragma once
// The one escaping rule for text that came from outside: server replies and
// greetings, certificate fields, SASL challenges, captured headers and
// envelopes, rows read back from the history or a capture folder. Before such
// text reaches a terminal, a log, a widget (label, tooltip, table cell) or an
// HTML report, the characters that could rewrite or disguise what is around it
// are shown as escapes (docs/security.md):
//
//   - C0 controls U+0000-U+001F (ESC starts terminal sequences, BEL ends OSC
//     titles, CR and LF start lines of their own), DEL U+007F and C1 controls
//     U+0080-U+009F (U+009B is a one-character CSI on some terminals);
//   - Unicode format characters, general category Cf: the bidi embeddings,
//     overrides and isolates (U+202A-U+202E, U+2066-U+2069) that can reorder a
//     line, the marks U+200E, U+200F, U+061C, the invisible ones (U+00AD soft
//     hyphen, U+200B-U+200D, U+2060-U+2064, U+FEFF) and the tag characters
//     (U+E0001, U+E0020-U+E007F) that can carry hidden text;
//   - U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR, which break lines;
//   - in QString input, a lone surrogate (no character at all).
//
// Notation: "\r", "\n", "\t" for those three, otherwise "\x" and the code point
// in lower-case hex, 2 digits up to U+00FF, 4 up to U+FFFF, 6 beyond
// ("\x1b", "\x9b", "\x202e", "\x0e0041"). printable() also writes a backslash
// as "\\", so its output reads back unambiguously. Every other character,
// letters and marks of any script, emoji, private-use characters, stays as it
// is, so ordinary text in any language remains readable.
//
// Where it applies: values are kept exact where they are data (the history
// database, the capture store, JSON values); the rule applies where text is
// shown. Composed text (an error message, a check summary, a transcript line)
// embeds each outside value through printable(), as the engine has always done
// for reply text; at the output itself safeText() or safeLine() is the last
// guard, which leaves such already escaped text unchanged.

#include <QByteArrayView>
#include <QString>
#include <QStringView>

namespace Smtp {

// True for the characters the rule shows as escapes (above), `\` excluded.
[[nodiscard]] bool isUnsafeCharacter(char32_t ucs);

// Untrusted bytes decoded as UTF-8 (invalid sequences become U+FFFD) and made
// one printable line: the rule above, and "\\" for a backslash.
// At most `limit` bytes are shown (-1: all), then "... (+N bytes)".
[[nodiscard]] QString printable(QByteArrayView bytes, qsizetype limit = -1);
// The same for text already decoded. At most `limit` characters (UTF-16 code
// units, never splitting a surrogate pair) are shown, then "... (+N characters)".
[[nodiscard]] QString printable(QStringView text, qsizetype limit = -1);

// The last guard where text is written out: the rule above applied to text
// that may already hold escapes (backslashes are left alone, so applying it
// twice changes nothing), keeping line feeds, which belong to the text's own
// layout (a multi-line report, a tooltip). Returns `text` itself (shared, no
// copy) when nothing needs escaping.
[[nodiscard]] QString safeText(const QString &text);
// The same for text that must stay one line (a log line, a table cell, an
// error line): line feeds are escaped too.
[[nodiscard]] QString safeLine(const QString &text);

} // namespace Smtp
