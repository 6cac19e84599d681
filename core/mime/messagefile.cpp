#include "messagefile.h"

#include "protocol/dataencoder.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>

#include <algorithm>

namespace {

constexpr qint64 kChunk = 64 * 1024;

QString saveError(const QString &path, const QString &cause)
{
    return QStringLiteral("cannot save the message to %1: %2").arg(path, cause);
}

} // namespace

namespace MessageFile {

QString save(const OutgoingMessage &message, const QString &path, const BodyOptions &options)
{
    // Said before QSaveFile tries, because its own text for these ("No such file
    // or directory") does not say which part of the path is wrong.
    const QFileInfo target(path);
    const QString folder = target.absolutePath();
    if (!QFileInfo(folder).isDir())
        return saveError(path, QStringLiteral("the folder %1 does not exist").arg(QDir::toNativeSeparators(folder)));
    if (target.isDir())
        return saveError(path, QStringLiteral("it is a folder"));

    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly))
        return saveError(path, out.errorString());

    std::unique_ptr<QIODevice> body = message.openBody(options);
    if (!body) {
        out.cancelWriting();
        return saveError(path, QStringLiteral("the message cannot be read (its file may have changed or vanished)"));
    }

    QByteArray buffer(kChunk, Qt::Uninitialized);
    for (;;) {
        const qint64 n = body->read(buffer.data(), buffer.size());
        if (n < 0) {
            out.cancelWriting();
            return saveError(path, QStringLiteral("reading the message failed: %1").arg(body->errorString()));
        }
        if (n == 0) {
            if (body->atEnd())
                break;
            // The message streams are synchronous: nothing now means nothing ever.
            out.cancelWriting();
            return saveError(path, QStringLiteral("the message stream stopped before its end"));
        }
        if (out.write(buffer.constData(), n) != n) {
            const QString why = out.errorString();
            out.cancelWriting();
            return saveError(path, QStringLiteral("writing failed: %1").arg(why));
        }
    }
    // QSaveFile: the old file (if any) is replaced only now, once the new one is
    // complete and flushed.
    if (!out.commit())
        return saveError(path, QStringLiteral("writing failed: %1").arg(out.errorString()));
    return {};
}

WirePreview wirePreview(const OutgoingMessage &message, const BodyOptions &options, bool chunking, qint64 maxBytes)
{
    WirePreview preview;
    std::unique_ptr<QIODevice> body = message.openBody(options);
    if (!body) {
        preview.error = QStringLiteral("the message cannot be read (its file may have changed or vanished)");
        return preview;
    }

    const qint64 keep = std::max<qint64>(maxBytes, 0);
    preview.bytes.reserve(qsizetype(std::min<qint64>(keep, kChunk * 4)));
    qint64 total = 0;
    auto take = [&](const QByteArray &wire) {
        total += wire.size();
        const qint64 room = keep - preview.bytes.size();
        if (room > 0)
            preview.bytes.append(wire.constData(), qsizetype(std::min<qint64>(room, wire.size())));
    };

    // The engine's own encoder, so the preview cannot drift from what is sent:
    // RFC 5321 4.5.2 dot-stuffing and the CRLF "." CRLF end for DATA; for BDAT
    // (RFC 3030 2) only the CRLF line ends.
    Smtp::DataEncoder encoder(chunking ? Smtp::DataEncoder::Mode::Bdat : Smtp::DataEncoder::Mode::Data);
    QByteArray buffer(kChunk, Qt::Uninitialized);
    QByteArray wire;
    for (;;) {
        const qint64 n = body->read(buffer.data(), buffer.size());
        if (n < 0) {
            preview.error = QStringLiteral("reading the message failed: %1").arg(body->errorString());
            preview.truncated = true;
            return preview;
        }
        if (n == 0) {
            if (body->atEnd())
                break;
            preview.error = QStringLiteral("the message stream stopped before its end");
            preview.truncated = true;
            return preview;
        }
        wire.resize(0);
        encoder.encode(QByteArrayView(buffer.constData(), n), wire);
        take(wire);
    }
    wire.resize(0);
    encoder.finish(wire);
    take(wire);

    preview.totalBytes = total;
    preview.truncated = total > preview.bytes.size();
    return preview;
}

} // namespace MessageFile
