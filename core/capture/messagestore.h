#pragma once
// Captured messages stored durably in a folder: one <id>.eml per message (the
// bytes exactly as received) and an index in SQLite (index.sqlite in the same
// folder: the envelope, the time, the subject, the size, a read flag, the
// envelope recipients in a table of their own, and a full-text index over the
// headers and the text). A message is stored only once complete: its bytes go to
// a temporary file, fsync'ed, then linked into place, and it is listed only
// after that. Committing (the fsyncs, the link and the database write) runs on a
// worker thread of the store, so the thread that receives mail never waits for
// the disk. A kill at any moment leaves no partial message and loses nothing
// that a commit reported stored; messagestore.cpp says how.
//
// Threads: open() and every other call, except IncomingMessage's, are made on
// the thread that called open() (the database connection is that thread's);
// the signals are emitted there too.

#include <QDateTime>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>
#include <functional>
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
    bool read = false;     // marked read (setRead)
};

// Limits on what the store keeps; 0: no limit.
struct StoreQuota
{
    qint64 maxMessages = 0;
    qint64 maxBytes = 0; // the sum of the .eml sizes
};

// The result of a commit.
struct CommitResult
{
    enum class Status {
        Stored,   // durable and listed: `message`
        Full,     // refused: the quota has no room for it now (removing messages makes room)
        TooLarge, // refused: larger than the byte quota, it can never be stored
        Failed    // a storage error: `error`
    };
    Status status = Status::Failed;
    StoredMessage message;
    // For the local log, never for a peer: what failed, the path and the
    // system's reason (errno text taken at the failing call).
    QString error;
};

// One incoming message being written; commit or discard. Not thread-safe: one
// per connection. write() runs on the caller's thread (no fsync: that is the
// commit's work).
class IncomingMessage
{
public:
    ~IncomingMessage(); // discards if neither committed nor discarded
    // false and *error on a write error (disk full ...); *error names the file
    // and the system's reason.
    bool write(QByteArrayView bytes, QString *error);
    // Drops the bytes written so far (the temporary file is removed); later
    // write() and commit() fail. Same as destroying it uncommitted.
    void discard();
    [[nodiscard]] qint64 size() const;

    struct Private; // defined in messagestore.cpp only

private:
    friend class MessageStore;
    IncomingMessage() = default;
    std::unique_ptr<Private> d;
};

class MessageStore : public QObject
{
    Q_OBJECT

public:
    static constexpr auto DatabaseName = "index.sqlite";

    explicit MessageStore(QObject *parent = nullptr);
    ~MessageStore() override; // waits for the commits in flight
    // Opens (creating) the folder and its database; false and *error if the
    // folder cannot be used. The folder is made private (0700), the database
    // and its journal files 0600. A folder without a database (new, or written
    // by an older version with index.json) is indexed from its .eml files once.
    bool open(const QString &folder, QString *error);
    [[nodiscard]] QString folder() const;

    // Applies to commits from now on.
    void setQuota(const StoreQuota &quota);
    [[nodiscard]] StoreQuota quota() const;

    [[nodiscard]] std::unique_ptr<IncomingMessage> begin(const QString &from, const QStringList &recipients,
                                                         QString *error);
    // Commits on the worker thread; `done` runs later on this thread with the
    // result (after messageAdded), unless `context` is destroyed first (the
    // commit still completes: a connection that went away does not undo it).
    void commitAsync(std::unique_ptr<IncomingMessage> message, QObject *context,
                     std::function<void(const CommitResult &)> done);
    // Blocking form: makes the message durable and listed; returns its id, or
    // empty and *error (a quota refusal is an error here too).
    QString commit(std::unique_ptr<IncomingMessage> message, QString *error);
    [[nodiscard]] CommitResult commitAndWait(std::unique_ptr<IncomingMessage> message);

    // Reads. Counts and totals are kept, not counted: O(1).
    [[nodiscard]] qint64 count() const;
    [[nodiscard]] qint64 totalBytes() const;
    // Newest first, `limit` at most from `offset`.
    [[nodiscard]] QList<StoredMessage> page(qint64 offset, int limit) const;
    // Messages with `address` among their envelope recipients (case-insensitive),
    // newest first.
    [[nodiscard]] QList<StoredMessage> byRecipient(const QString &address, qint64 offset, int limit) const;
    // Full-text search over the headers and the text (every word must occur;
    // prefixes match), newest first.
    [[nodiscard]] QList<StoredMessage> search(const QString &text, int limit) const;
    // Every message, oldest first: O(n), for small stores and tests; lists
    // should use page().
    [[nodiscard]] QList<StoredMessage> messages() const;
    [[nodiscard]] std::optional<StoredMessage> message(const QString &id) const;
    [[nodiscard]] QByteArray bytes(const QString &id) const;

    bool setRead(const QString &id, bool read, QString *error);
    bool remove(const QString &id, QString *error);
    bool clear(QString *error);

    // Reads the store in `folder` without changing anything (the database opened
    // read-only; nothing created, migrated or repaired): each message, oldest
    // first, to `each` until it returns false. false and *error when there is no
    // store there or it cannot be read.
    static bool list(const QString &folder, const std::function<bool(const StoredMessage &)> &each, QString *error);

Q_SIGNALS:
    // On the store's thread after commit/remove/clear (the capture views listen).
    void messageAdded(const Capture::StoredMessage &message);
    void messageRemoved(const QString &id);
    void cleared();

private:
    void finishCommit(const CommitResult &result);
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Capture
