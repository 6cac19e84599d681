#pragma once
// Saving a message as a .eml file, and the wire preview: the exact bytes that go
// to the server for a message.

#include "client/outgoingmessage.h"

#include <QByteArray>
#include <QString>

namespace MessageFile {

// Writes what message.openBody(options) yields to `path`, atomically (QSaveFile: an
// existing file is replaced only once the new one is complete). Streams; memory
// stays flat. Returns an empty string, or an error naming the file and the cause.
[[nodiscard]] QString save(const OutgoingMessage &message, const QString &path, const BodyOptions &options);

struct WirePreview
{
    QByteArray bytes;       // the first maxBytes of the wire form
    qint64 totalBytes = -1; // size of the whole wire form
    bool truncated = false; // bytes holds only the start
    QString error;          // non-empty when the message cannot be read
};

// The bytes sent after DATA (RFC 5321 4.5.2: CRLF line ends, dot-stuffed, ending
// with CRLF "." CRLF), or, with chunking, the bytes of the BDAT chunks (RFC 3030:
// CRLF line ends, no dot-stuffing, no terminator), exactly as the engine's
// Smtp::DataEncoder produces them. Reads the whole message once (for totalBytes)
// but keeps at most maxBytes.
[[nodiscard]] WirePreview wirePreview(const OutgoingMessage &message, const BodyOptions &options, bool chunking,
                                      qint64 maxBytes);

} // namespace MessageFile
