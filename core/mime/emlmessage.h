#pragma once
// A message file (.eml, RFC 5322) resent as it is. The envelope comes from its
// headers (From; To + Cc + Bcc) unless overridden. What is transmitted is the file
// with the Bcc and Resent-Bcc fields removed (RFC 5322 3.6.3: they would reveal the
// blind recipients) and every line end made CRLF (RFC 5322 2.3); nothing else
// changes. The file is streamed from disk: memory stays flat whatever its size.

#include "client/outgoingmessage.h"

#include <QDateTime>
#include <QString>
#include <QStringList>
#include <memory>

class EmlMessage : public OutgoingMessage
{
public:
    // Reads and parses the header block, and scans the file once for its
    // transmitted size. Returns nullptr and sets *error (naming the file and what
    // is wrong) when it cannot be read or has no header block.
    [[nodiscard]] static std::unique_ptr<EmlMessage> load(const QString &path, QString *error);

    // Overrides (empty: taken from the headers).
    void setEnvelopeSender(const QString &address);
    void setEnvelopeRecipients(const QStringList &addresses);

    [[nodiscard]] QString path() const { return m_path; }
    // Decoded header values (RFC 2047 words decoded), for display.
    [[nodiscard]] QString subject() const { return m_subject; }
    [[nodiscard]] QString fromHeader() const { return m_fromHeader; }
    // addr-specs found in the To, Cc and Bcc fields, in order, each once (compared
    // case-insensitively): the envelope recipients unless overridden.
    [[nodiscard]] QStringList headerRecipients() const { return m_headerRecipients; }

    [[nodiscard]] QString envelopeSender() const override;
    [[nodiscard]] QStringList envelopeRecipients() const override;
    [[nodiscard]] bool needsSmtpUtf8() const override { return m_headerUtf8; }
    // MESSAGE-ERROR when there is no sender or recipient (in the headers or given),
    // an address is invalid, or the file changed or vanished since load().
    [[nodiscard]] SmtpError checkSendPossible() const override;
    // The options do not change a raw message: it goes as it is.
    [[nodiscard]] qint64 size(const BodyOptions &options) const override;
    [[nodiscard]] bool has8BitContent(const BodyOptions &options) const override;
    // Fails (nullptr, or a read error mid-stream) if the file changed since load().
    [[nodiscard]] std::unique_ptr<QIODevice> openBody(const BodyOptions &options) const override;

private:
    EmlMessage() = default;

    QString m_path;
    QString m_subject;
    QString m_fromHeader;
    QString m_headerSender;
    QString m_senderProblem; // why m_headerSender is empty, for checkSendPossible()
    QStringList m_headerRecipients;
    QString m_senderOverride;
    QStringList m_recipientsOverride;
    qint64 m_fileSize = -1;
    QDateTime m_fileModified;
    qint64 m_size = -1; // transmitted size
    bool m_has8Bit = false;
    bool m_headerUtf8 = false; // a header address has a UTF-8 local part
};
