#pragma once
// The process's standard streams for the command line: UTF-8 text written and
// flushed at once (so that stdout and stderr interleave in the order they were
// written when both go to one terminal or file), terminal detection, and the
// password prompt without echo.

#include <QString>
#include <optional>

namespace Cli::Terminal {

// Writes `text` as UTF-8 and flushes. The last guard of the escaping rule
// (protocol/printable.h, Smtp::safeText): whatever a server, a certificate, a
// client or a file put into the text, no control character other than the line
// feed, no C1 control and no bidi override or other format character reaches
// the terminal raw; they are written as "\x1b", "\x202e".
void out(const QString &text);
void err(const QString &text);
// The progress bar's line, redrawn in place: "\r", the line, and erase to the
// end of the line (ECMA-48 EL). The only terminal control the command line
// writes; `line` itself is guarded like err().
void errInPlace(const QString &line);
// Bytes written as they are: JSON made by Output::json (whose strings escape
// the rule's characters), and the message of `send --test`, which the user asked
// to see exactly.
void outBytes(const QByteArray &bytes);

[[nodiscard]] bool stdinIsTerminal();
[[nodiscard]] bool stderrIsTerminal();
// Width of the terminal on stderr, 80 when unknown.
[[nodiscard]] int stderrColumns();

// Prompts on stderr and reads one line from the terminal on stdin with echo off
// (termios), restoring the terminal afterwards. nullopt when stdin is not a
// terminal or reading fails (end of input).
[[nodiscard]] std::optional<QString> readSecret(const QString &prompt);

} // namespace Cli::Terminal
