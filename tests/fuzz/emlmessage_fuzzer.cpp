// libFuzzer target for EmlMessage (core/mime/emlmessage), the .eml reader behind
// `send --eml` and the capture view's "resend": the file is written to a
// temporary folder and loaded from there, as a user's file would be.
//
// Invariants: never crash or hang; a refusal has a reason; a loaded message
// streams exactly size() bytes, says 8-bit exactly when a byte is over 127,
// ends every line with CRLF (RFC 5322 2.3, no bare CR or LF) and carries no Bcc
// or Resent-Bcc field in its header block (RFC 5322 3.6.3).

#include "mime/emlmessage.h"

#include <QFile>
#include <QIODevice>
#include <QTemporaryDir>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

[[noreturn]] void failInvariant(const char *what)
{
    fprintf(stderr, "invariant broken: %s\n", what);
    abort();
}

QString scratchFile()
{
    static QTemporaryDir dir;
    if (!dir.isValid())
        failInvariant("no temporary folder for the message file");
    return dir.filePath(QStringLiteral("message.eml"));
}

// The header block of the CRLF-only wire form: up to the first empty line.
void checkNoBcc(const QByteArray &wire)
{
    qsizetype pos = 0;
    while (pos < wire.size()) {
        const qsizetype end = wire.indexOf("\r\n", pos);
        const qsizetype lineEnd = end < 0 ? wire.size() : end;
        if (lineEnd == pos)
            return; // the empty line: the body follows
        const QByteArray line = wire.mid(pos, lineEnd - pos);
        if (line[0] != ' ' && line[0] != '\t') {
            // RFC 5322 3.6.8 field name, and the obsolete white space before
            // the colon (4.5): space and tab only.
            const qsizetype colon = line.indexOf(':');
            if (colon > 0) {
                qsizetype end = colon;
                while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t'))
                    --end;
                const QByteArray name = line.left(end).toLower();
                if (name == "bcc" || name == "resent-bcc")
                    failInvariant("a Bcc field in the transmitted header block");
            }
        }
        if (end < 0)
            return;
        pos = end + 2;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString path = scratchFile();
    {
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)
            || file.write(reinterpret_cast<const char *>(data), qint64(size)) != qint64(size))
            failInvariant("the message file cannot be written");
    }
    QString error;
    const std::unique_ptr<EmlMessage> m = EmlMessage::load(path, &error);
    if (!m) {
        if (error.isEmpty())
            failInvariant("a refusal without a reason");
        return 0;
    }
    (void)m->envelopeSender();
    (void)m->envelopeRecipients();
    (void)m->checkSendPossible();
    const BodyOptions options;
    const std::unique_ptr<QIODevice> body = m->openBody(options);
    if (!body)
        failInvariant("a loaded message that cannot be streamed");
    QByteArray wire;
    char buffer[4096];
    for (;;) {
        const qint64 n = body->read(buffer, sizeof buffer);
        if (n < 0)
            failInvariant("a read error from an unchanged file");
        if (n == 0)
            break;
        wire.append(buffer, n);
        if (wire.size() > qsizetype(size) * 2 + 16)
            failInvariant("more bytes streamed than CRLF line ends can add");
    }
    if (wire.size() != m->size(options))
        failInvariant("size() differs from the bytes streamed");
    bool eightBit = false;
    for (qsizetype i = 0; i < wire.size(); ++i) {
        const char c = wire[i];
        if (static_cast<unsigned char>(c) > 127)
            eightBit = true;
        if (c == '\r' && (i + 1 >= wire.size() || wire[i + 1] != '\n'))
            failInvariant("a bare CR in the wire form");
        if (c == '\n' && (i == 0 || wire[i - 1] != '\r'))
            failInvariant("a bare LF in the wire form");
    }
    if (eightBit != m->has8BitContent(options))
        failInvariant("has8BitContent() differs from the bytes streamed");
    checkNoBcc(wire);
    return 0;
}
