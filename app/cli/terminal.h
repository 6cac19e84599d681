#pragma once
// The process's standard streams for the command line: UTF-8 text written and
// flushed at once (so that stdout and stderr interleave in the order they were
// written when both go to one terminal or file), terminal detection, and the
// password prompt without echo.

#include <QString>
#include <optional>

namespace Cli::Terminal {

// Writes `text` as UTF-8 and flushes.
void out(const QString &text);
void err(const QString &text);
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
