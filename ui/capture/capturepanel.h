#pragma once
// The capture view: the messages the built-in capture server received (list:
// time, from, to, subject, size; newest first), and for the selected one its
// headers, plain text, HTML (rendered safely: no remote loading, no scripts),
// attachments (save), MIME tree and raw source; delete, clear, and "resend to a
// real server" (the main window sends the .eml with the current profile).
//
// A selected message is read and parsed on a worker thread: the view shows
// "loading" meanwhile, and a message too complex to parse (ParsedMessage's
// bounds) shows as raw source only, which can still be saved whole.

#include <QWidget>
#include <memory>

namespace Capture {
class MessageStore;
}

class CapturePanel : public QWidget
{
    Q_OBJECT

public:
    // What the details show.
    enum class DetailState {
        Empty,      // nothing selected
        Loading,    // the selected message is being read and parsed
        Shown,      // parsed: every tab filled
        TooComplex, // refused by the parser (its bounds, or not a message at all): raw source only
        Unreadable  // the file could not be read
    };

    explicit CapturePanel(QWidget *parent = nullptr);
    ~CapturePanel() override;

    // Lists the store's messages and follows its signals (added, removed,
    // cleared). The store outlives the panel, or is set to nullptr first.
    void setStore(Capture::MessageStore *store);
    // A line above the list: where the server listens and its CA file.
    void setServerInfo(const QString &text);

    [[nodiscard]] int messageCount() const;
    void selectMessage(const QString &id);
    [[nodiscard]] QString selectedId() const;
    [[nodiscard]] DetailState detailState() const;
    // What is shown for the selected message (for tests and screenshots); each
    // view holds a bounded excerpt of a large message, with a note.
    [[nodiscard]] QString headersText() const;
    [[nodiscard]] QString plainText() const;
    [[nodiscard]] QString htmlSource() const;
    [[nodiscard]] QString rawText() const;
    [[nodiscard]] QString mimeTreeText() const; // one line per part, indented: "multipart/mixed", "  text/plain", ...
    [[nodiscard]] QStringList attachmentNames() const;
    [[nodiscard]] QString stateText() const; // the line above the tabs: loading, too complex, ...
    // Writes the named attachment of the selected message (decoded) to `path`.
    bool saveAttachment(const QString &name, const QString &path, QString *error) const;
    // Copies the selected message's whole .eml, as received, to `path`.
    bool saveRawMessage(const QString &path, QString *error) const;
    // "Clear all" asks for confirmation unless turned off here (tests, scripted use).
    void setConfirmClear(bool confirm);

Q_SIGNALS:
    void resendRequested(const QString &emlPath);
    // The details of `id` are filled in (whatever the outcome): detailState() is
    // no longer Loading.
    void messageShown(const QString &id);

private:
    struct Private;
    std::unique_ptr<Private> d;
};
