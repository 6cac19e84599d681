#pragma once
// Files the command line reads itself (password, token, body, HTML): read whole,
// with one clear error line naming the option and the file when that fails.
//
// What may be read (docs/cli.md, "Files the command line reads"):
//   - a regular file;
//   - "-": standard input, read to its end;
//   - a pipe or FIFO, so that `--password-file <(pass show x)` works: read
//     with poll() until its writer closes it (readFirstLine: until its first
//     line ends), within fifoTimeoutMs() in all (a FIFO nobody writes to would
//     otherwise block for ever);
//   - anything else (a device such as /dev/zero, a socket, a folder) is refused
//     before a byte is read.
// Every file is opened with O_NONBLOCK and its type taken from the open
// descriptor (fstat), so neither the open nor the check can block or race.

#include <QByteArray>
#include <QString>

namespace Cli::InputFile {

// The total wait for a pipe or FIFO: 10 s, or SMTPSCOPE_FIFO_TIMEOUT seconds
// (1 to 3600) for a writer that needs longer (a passphrase prompt).
[[nodiscard]] int fifoTimeoutMs();

// Reads `path` (for the option `option`, e.g. "--body-file"), at most maxBytes.
// On failure returns false with *error: "--body-file: cannot read 'x': No such file".
bool read(const QString &path, const QString &option, QByteArray *data, QString *error,
          qint64 maxBytes = 64 * 1024 * 1024);

// The first line of `path` without its line end (password and token files: a
// trailing newline from `echo` or an editor is not part of the secret).
bool readFirstLine(const QString &path, const QString &option, QByteArray *line, QString *error);

} // namespace Cli::InputFile
