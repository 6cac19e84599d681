#pragma once
// The files a message reads itself (attachments, inline parts, .eml files) must
// be regular files: their size is measured before sending (the SIZE parameter,
// RFC 1870, and the layout of the encoded parts), and a FIFO or a device has no
// size, may never end, and may block the open itself. Neither the check nor the
// open ever blocks: stat() for the check, O_NONBLOCK for the open, and the type
// is taken again from the open descriptor, so a file swapped for a FIFO between
// the check and the read is refused, not waited on.

#include <QString>

class QFile;

namespace RegularFile {

// Empty when `path` is a regular file this process can read; otherwise the
// reason, to follow the file's name: "is a FIFO, not a regular file",
// "cannot be read: No such file or directory".
[[nodiscard]] QString problem(const QString &path);

// Opens file->fileName() read-only as above. False with *why (as problem()).
bool open(QFile *file, QString *why);

} // namespace RegularFile
