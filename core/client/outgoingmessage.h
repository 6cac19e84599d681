#pragma once
// What SmtpClient needs from a message: its envelope and a stream of its bytes.
// core/mime's Message implements this; RawMessage below sends bytes as they are.

#include "smtperror.h"

#include <QByteArray>
#include <QIODevice>
#include <QString>
#include <QStringList>
#include <memory>

// What the server offers that changes how a message may be written: with 8BITMIME
// (RFC 6152) text parts may go as 8bit instead of quoted-printable; with SMTPUTF8
// (RFC 6531, RFC 6532 3.2) headers may carry UTF-8 addresses. Known after EHLO.
struct BodyOptions
{
    bool eightBitMime = false;
    bool smtpUtf8 = false;

    friend bool operator==(const BodyOptions &, const BodyOptions &) = default;
};

class OutgoingMessage
{
public:
    virtual ~OutgoingMessage() = default;

    // Envelope (RFC 5321 3.3): the reverse-path and every recipient (To, Cc and Bcc).
    [[nodiscard]] virtual QString envelopeSender() const = 0;
    [[nodiscard]] virtual QStringList envelopeRecipients() const = 0;
    // True when the headers carry an address with a non-ASCII local part, which
    // may only be sent in a session with SMTPUTF8 (RFC 6532 3.2, RFC 6531 3.4),
    // even when the envelope addresses are ASCII.
    [[nodiscard]] virtual bool needsSmtpUtf8() const { return false; }
    // Error with category Message and code MESSAGE-ERROR naming what is missing or
    // wrong, or an empty SmtpError when the message can be sent.
    [[nodiscard]] virtual SmtpError checkSendPossible() const = 0;
    // Exact size in bytes of what openBody(options) yields (before dot-stuffing), -1 if
    // unknown or the message cannot be serialized.
    [[nodiscard]] virtual qint64 size(const BodyOptions &options) const = 0;
    // True if the bytes contain octets over 127 (needs BODY=8BITMIME, RFC 6152).
    [[nodiscard]] virtual bool has8BitContent(const BodyOptions &options) const = 0;
    // A fresh, open, sequential stream of the message (headers and body), or nullptr.
    // Called once per send attempt, on the engine's worker thread; a read error
    // mid-stream makes the engine drop the session rather than end the data.
    [[nodiscard]] virtual std::unique_ptr<QIODevice> openBody(const BodyOptions &options) const = 0;
};

// A message given as ready bytes (in memory or in a file), with an explicit envelope.
class RawMessage : public OutgoingMessage
{
public:
    RawMessage(QString sender, QStringList recipients, QByteArray data);
    static RawMessage fromFile(QString sender, QStringList recipients, QString path);

    [[nodiscard]] QString envelopeSender() const override { return m_sender; }
    [[nodiscard]] QStringList envelopeRecipients() const override { return m_recipients; }
    [[nodiscard]] SmtpError checkSendPossible() const override;
    // Raw bytes go as they are, whatever the server offers.
    [[nodiscard]] qint64 size(const BodyOptions &options) const override;
    [[nodiscard]] bool has8BitContent(const BodyOptions &options) const override;
    [[nodiscard]] std::unique_ptr<QIODevice> openBody(const BodyOptions &options) const override;

private:
    RawMessage() = default;
    QString m_sender;
    QStringList m_recipients;
    QByteArray m_data;
    QString m_path; // when from a file
    mutable int m_8bit = -1; // cached scan
};
