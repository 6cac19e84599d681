#pragma once
// A composed e-mail (the reference's MailMessage::Message), serialized by GMime 3.
// The envelope comes from the sender and To + Cc + Bcc; Bcc never reaches the
// transmitted headers (RFC 5322 3.6.3, the reference's defect fixed).

#include "client/outgoingmessage.h"

#include <QByteArray>
#include <QList>
#include <QMutex>
#include <QString>
#include <QStringList>
#include <memory>

struct MessageLayout;

class Message : public OutgoingMessage
{
public:
    struct Address
    {
        QString address;     // addr-spec, "user@example.org"
        QString displayName; // may be empty; encoded per RFC 2047 when non-ASCII
    };
    struct Attachment
    {
        QString name;      // filename shown to the recipient (RFC 2183 / RFC 2231)
        QString mimeType;  // "type/subtype"
        QString path;      // read from disk when set ...
        QByteArray data;   // ... else these bytes
    };
    // A part shown inside the HTML via "cid:<contentId>" (RFC 2392), carried in a
    // multipart/related next to the HTML (RFC 2387).
    struct InlinePart
    {
        QString contentId; // without the angle brackets
        QString name;      // optional filename parameter
        QString mimeType;  // "type/subtype"
        QString path;      // read from disk while serializing when set ...
        QByteArray data;   // ... else these bytes
    };

    // `sender` is an address, optionally "Display Name <user@example.org>"; it is the
    // envelope reverse-path and the From header unless setFrom() changes the latter.
    Message(QString sender, QString subject);
    ~Message() override;
    Message(const Message &) = delete;
    Message &operator=(const Message &) = delete;

    void setFrom(const QString &address, const QString &displayName = {});
    void addTo(const QString &address, const QString &displayName = {});
    void addCc(const QString &address, const QString &displayName = {});
    void addBcc(const QString &address, const QString &displayName = {});
    void setReplyTo(const QString &address, const QString &displayName = {});
    void setSubject(const QString &subject);
    // Custom headers: set replaces every header of that name, add appends one more.
    void setHeader(const QString &name, const QString &value);
    void addHeader(const QString &name, const QString &value);
    // Plain and/or HTML body; both together become multipart/alternative (RFC 2046 5.1.4).
    void setText(const QString &plain);
    void setHtml(const QString &html);
    // Attachments make the message multipart/mixed (RFC 2046 5.1.3). The MIME type
    // comes from QMimeDatabase when not given; files are read only while serializing.
    void attachFile(const QString &path, const QString &mimeType = {}, const QString &name = {});
    void attachData(const QString &name, const QByteArray &data, const QString &mimeType = {});
    // Inline parts (images) for the HTML body; each returns the Content-ID without <>,
    // to be referenced as "cid:<id>" (RFC 2392). The message becomes
    // multipart/related(body, inline parts...) (RFC 2387), inside multipart/mixed
    // when there are attachments. Files are read only while serializing.
    QString addInlineFile(const QString &path, const QString &mimeType = {});
    QString addInlineData(const QByteArray &bytes, const QString &mimeType, const QString &name = {});
    // Importance: high, X-Priority: 1 (Highest), Priority: urgent (the reference's three).
    void important(bool on);
    // Disposition-Notification-To: <From address> (RFC 8098, a READ receipt).
    void requestReadReceipt(bool on);
    // Return-Receipt-To: <From address>: a non-standard delivery receipt request that
    // some servers honour; real DSNs are RCPT NOTIFY=SUCCESS (RFC 3461), a later step.
    void requestDeliveryReceipt(bool on);

    [[nodiscard]] QString sender() const { return m_sender.address; }
    [[nodiscard]] Address from() const { return m_from; }
    [[nodiscard]] QList<Address> to() const { return m_to; }
    [[nodiscard]] QList<Address> cc() const { return m_cc; }
    [[nodiscard]] QList<Address> bcc() const { return m_bcc; }
    [[nodiscard]] QString subject() const { return m_subject; }
    [[nodiscard]] QString text() const { return m_text; }
    [[nodiscard]] QString html() const { return m_html; }
    [[nodiscard]] QList<Attachment> attachments() const { return m_attachments; }
    [[nodiscard]] QList<InlinePart> inlineParts() const { return m_inlineParts; }
    [[nodiscard]] bool isImportant() const { return m_important; }
    [[nodiscard]] bool readReceiptRequested() const { return m_readReceipt; }
    [[nodiscard]] bool deliveryReceiptRequested() const { return m_deliveryReceipt; }

    [[nodiscard]] QString envelopeSender() const override;
    [[nodiscard]] QStringList envelopeRecipients() const override;
    [[nodiscard]] bool needsSmtpUtf8() const override;
    [[nodiscard]] SmtpError checkSendPossible() const override;
    [[nodiscard]] qint64 size(const BodyOptions &options) const override;
    [[nodiscard]] bool has8BitContent(const BodyOptions &options) const override;
    [[nodiscard]] std::unique_ptr<QIODevice> openBody(const BodyOptions &options) const override;

    // The whole message in memory (for previews and tests, not for sending).
    [[nodiscard]] QByteArray toBytes(const BodyOptions &options = {}) const;

private:
    struct Header
    {
        QString name;
        QString value;
    };

    void invalidate();
    [[nodiscard]] QString newContentId() const;
    // The serialized form for these options, made when first needed and again when
    // the message or a file it attaches changed; nullptr (and *error) on failure.
    [[nodiscard]] std::shared_ptr<const MessageLayout> layout(const BodyOptions &options, QString *error) const;
    bool buildLayout(const BodyOptions &options, MessageLayout *layout, QString *error) const;

    Address m_sender;
    Address m_from;
    Address m_replyTo;
    QList<Address> m_to;
    QList<Address> m_cc;
    QList<Address> m_bcc;
    QString m_subject;
    QList<Header> m_headers;
    QString m_text;
    QString m_html;
    bool m_hasText = false;
    bool m_hasHtml = false;
    QList<Attachment> m_attachments;
    QList<InlinePart> m_inlineParts;
    bool m_important = false;
    bool m_readReceipt = false;
    bool m_deliveryReceipt = false;

    // Cache: the serialized form, 7-bit [0] and with 8BITMIME [1], valid until the
    // message changes. Guarded by m_mutex: the engine reads it on its worker thread.
    mutable QMutex m_mutex;
    mutable std::shared_ptr<const MessageLayout> m_layouts[2];
    // Generated once and kept, so re-serializing after an edit keeps the identity.
    mutable QByteArray m_generatedMessageId;
    mutable QByteArray m_generatedDate;
};
