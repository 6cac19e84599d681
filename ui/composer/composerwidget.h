#pragma once
// The composer: From, To, Cc, Bcc (addresses validated as you type, the reason
// shown next to the field), Subject, plain text body and optional HTML body,
// attachments (button and drag and drop; name, type, size; remove), custom
// headers, priority and receipt requests, open/save .eml, and a wire preview of
// the exact bytes. Builds a core Message (or an EmlMessage when a .eml was opened
// and not edited).

#include "client/outgoingmessage.h"

#include <QStringList>
#include <QVariantMap>
#include <QWidget>
#include <memory>

class ComposerWidget : public QWidget
{
    Q_OBJECT

public:
    explicit ComposerWidget(QWidget *parent = nullptr);
    ~ComposerWidget() override;

    // The message to send, or nullptr with *problem naming the field and what to
    // do ("To: \"bob@\" is not a valid address"). Never sends anything.
    [[nodiscard]] std::shared_ptr<OutgoingMessage> buildMessage(QString *problem) const;
    // Why Send must stay disabled now (empty when the message can be built).
    [[nodiscard]] QString problem() const;

    // Opens a .eml file (its headers fill the fields; the file is resent as it is
    // unless edited). Returns false and sets *error naming the file and cause.
    bool openEml(const QString &path, QString *error);
    bool saveEml(const QString &path, QString *error);
    // Shows a dialog with the exact bytes that would go on the wire (DATA form:
    // dot-stuffed, ending CRLF.CRLF), truncated for large messages.
    void showWirePreview();

    // For tests and scripted use: the fields by name ("from", "to", "cc", "bcc",
    // "subject", "text", "html").
    void setField(const QString &name, const QString &value);
    void addAttachment(const QString &path);
    void focusTo();

    // The whole composer as data, for drafts and the outbox (JSON-friendly):
    // "from", "to", "cc", "bcc", "subject", "text", "html" (strings), "headers"
    // (list of {name, value}), "important", "readReceipt", "deliveryReceipt"
    // (bools), "attachments" (absolute paths), and when a .eml was opened
    // "emlPath" and "emlUnedited" (true: the file itself is what would be sent).
    [[nodiscard]] QVariantMap state() const;
    // Puts a state() back (an empty map clears the composer). Attachments are
    // restored by path; returns what could not be restored as it was, in words
    // (a missing attachment, an opened file that is gone), empty when all came
    // back. Does not emit changed(): the state is what was saved.
    QStringList setState(const QVariantMap &state);
    // The message a state() describes, or nullptr and *problem; made the same way
    // Send makes it (needs a QApplication: a hidden composer does the work).
    [[nodiscard]] static std::shared_ptr<OutgoingMessage> messageFromState(const QVariantMap &state,
                                                                           QString *problem);

Q_SIGNALS:
    // Any edit by the user (typing, attachments, headers, options, opening a
    // file); not emitted by setState().
    void changed();
    // Emitted when problem() changes (empty: the message is complete).
    void problemChanged(const QString &problem);

private:
    struct Private;
    std::unique_ptr<Private> d;
};
