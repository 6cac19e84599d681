#pragma once
// Captured messages stored durably in a folder: one <id>.eml per message (the
// bytes exactly as received) plus an index (index.json: id, time, from,
// recipients, subject, size), surviving restarts. A message is stored only once
// complete: its bytes go to a temporary file in the same folder, fsync'ed, then
// renamed into place (atomic on POSIX), and only then added to the index, which
// is itself rewritten atomically (QSaveFile). A kill at any moment leaves no
// partial message and an index that loads; on open, temporary leftovers are
// removed and .eml files missing from the index are re-indexed from their headers.

#include <QDateTime>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>
#include <memory>
#include <optional>

namespace Capture {

struct StoredMessage
{
    QString id;            // "20261126T101500-000001" style, sortable, unique in the folder
    QDateTime received;    // UTC
    QString from;          // envelope sender
    QStringList recipients;// envelope recipients
    QString subject;       // decoded Subject header (RFC 2047), for the list
    qint64 size = 0;       // bytes of the .eml
    QString path;          // absolute path of the .eml
};

// One incoming message being written; commit() or discard(). Not thread-safe:
// one per connection.
class IncomingMessage
{
public:
    ~IncomingMessage(); // discards if neither committed nor discarded
    // false and *error on a write error (disk full ...)
    bool write(QByteArrayView bytes, QString *error);
    // Drops the bytes written so far (the temporary file is removed); later
    // write() and commit() fail. Same as destroying it uncommitted.
    void discard();
    [[nodiscard]] qint64 size() const;

private:
    friend class MessageStore;
    IncomingMessage() = default;
    struct Private;
    std::unique_ptr<Private> d;
};

class MessageStore : public QObject
{
    Q_OBJECT

public:
    // Opens (creating) the folder and loads the index; false and *error if the
    // folder cannot be used.
    explicit MessageStore(QObject *parent = nullptr);
    ~MessageStore() override;
    bool open(const QString &folder, QString *error);
    [[nodiscard]] QString folder() const;

    [[nodiscard]] std::unique_ptr<IncomingMessage> begin(const QString &from, const QStringList &recipients,
                                                         QString *error);
    // Makes the message durable and indexed; returns its id, or empty and *error.
    QString commit(std::unique_ptr<IncomingMessage> message, QString *error);

    [[nodiscard]] QList<StoredMessage> messages() const; // oldest first
    [[nodiscard]] std::optional<StoredMessage> message(const QString &id) const;
    [[nodiscard]] QByteArray bytes(const QString &id) const;
    bool remove(const QString &id, QString *error);
    bool clear(QString *error);

Q_SIGNALS:
    // On the store's thread after commit/remove/clear (the capture views listen).
    void messageAdded(const Capture::StoredMessage &message);
    void messageRemoved(const QString &id);
    void cleared();

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Capture
