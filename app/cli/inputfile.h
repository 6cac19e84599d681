#pragma once
// Files the command line reads itself (password, token, body): read whole, with
// one clear error line naming the option and the file when that fails. "-"
// means standard input.

#include <QByteArray>
#include <QString>

namespace Cli::InputFile {

// Reads `path` (for the option `option`, e.g. "--body-file"), at most maxBytes.
// On failure returns false with *error: "--body-file: cannot read 'x': No such file".
bool read(const QString &path, const QString &option, QByteArray *data, QString *error,
          qint64 maxBytes = 64 * 1024 * 1024);

// The first line of `path` without its line end (password and token files: a
// trailing newline from `echo` or an editor is not part of the secret).
bool readFirstLine(const QString &path, const QString &option, QByteArray *line, QString *error);

} // namespace Cli::InputFile
