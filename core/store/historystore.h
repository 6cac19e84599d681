#pragma once
// The SQLite database of SMTP Scope (QtSql, QSQLITE driver) in the data folder
// (~/.local/share/smtpscope/history.sqlite): every session's record, the
// composer's drafts and the outbox. One file, WAL mode, foreign keys on, a
// versioned schema migrated forward when opened for writing (PRAGMA
// user_version), marked as ours with PRAGMA application_id. Retention keeps it
// bounded.
//
// Two ways in: open() for the writers (send, probe, the window) creates the file
// and migrates it; openReadOnly() for listings never creates, migrates or writes
// anything. Both refuse a file that is not a SmtpScope history (another
// application's SQLite file) before changing a byte of it.
//
// Private files: the data folder is made 0700 and the database 0600 (created so
// before SQLite opens it: SQLite gives its -wal and -shm files the database
// file's mode); a file or data folder with looser modes is tightened when
// opened for writing.
//
// Threading: a HistoryStore owns one QSqlDatabase connection (unique name) and
// must be used on the thread that opened it. Several stores (the window, a CLI
// run, another window) may open the same file at once: SQLite's locking and a
// busy timeout serialise their writes; every write is one transaction, so a
// kill -9 leaves the file consistent.

#include "sessionrecord.h"

#include <QString>
#include <memory>

namespace Store {

struct Retention
{
    int keepDays = 90;             // 0: no age limit
    int keepSessions = 5000;       // 0: no count limit
};

struct Draft
{
    qint64 id = 0;                 // 0: new
    QDateTime saved;               // UTC, set by saveDraft
    QString profile;               // connection profile name at the time
    QVariantMap fields;            // ComposerWidget::state(): from, to, cc, bcc, subject, text, html, headers, ...
    QStringList attachments;       // absolute file paths (the files stay where they are)
};

struct OutboxItem
{
    qint64 id = 0;
    QDateTime created;             // UTC
    QDateTime lastAttempt;         // invalid: never tried
    int attempts = 0;
    QString profile;               // the connection profile to send with
    QVariantMap fields;            // as Draft::fields
    QStringList attachments;
    QString lastError;             // why the last attempt failed (names the step and the reply)
    qint64 lastSessionId = 0;      // the history record of the last attempt
};

class HistoryStore
{
public:
    static constexpr int SchemaVersion = 3;       // see historystore.cpp for each version
    // PRAGMA application_id of every history file ("SmSc"), from version 3 on.
    static constexpr qint32 ApplicationId = 0x536d5363;
    static constexpr int maxEvents = 2000;        // per session
    static constexpr qint64 maxMessageBytes = 10 * 1024 * 1024;

    // ~/.local/share/smtpscope/history.sqlite (XDG_DATA_HOME is honoured).
    [[nodiscard]] static QString defaultPath();

    HistoryStore();
    ~HistoryStore();
    Q_DISABLE_COPY_MOVE(HistoryStore)

    // Opens for writing (creating the file 0600 and missing folders 0700) and
    // migrates to SchemaVersion. False with *error naming the file and the
    // cause; a file that is not a SmtpScope history, or has a newer schema than
    // this build knows, is refused and left as it was.
    bool open(const QString &path, QString *error);
    // Opens an existing history for reading only: nothing is created, migrated
    // or written (PRAGMA query_only). An older schema is read as it is (text
    // search without the full-text index falls back to LIKE; a version 1 file
    // has no drafts or outbox). Refused as open() refuses, and a missing file.
    bool openReadOnly(const QString &path, QString *error);
    [[nodiscard]] bool isOpen() const;
    [[nodiscard]] bool isReadOnly() const;
    [[nodiscard]] QString path() const;
    [[nodiscard]] int schemaVersion() const; // of the open file

    // Sessions. add() returns the new id (0 and *error on failure) and applies the
    // caps (events, message size).
    qint64 add(const SessionRecord &record, QString *error);
    [[nodiscard]] std::optional<SessionRecord> session(qint64 id) const;
    [[nodiscard]] QList<SessionSummary> list(const SessionFilter &filter) const;
    [[nodiscard]] int count(const SessionFilter &filter) const;
    bool remove(qint64 id, QString *error);
    // Deletes what the retention does not keep; returns how many sessions went.
    int prune(const Retention &retention, QString *error);

    // Drafts: saveDraft() inserts or updates (sets draft->id and saved).
    bool saveDraft(Draft *draft, QString *error);
    [[nodiscard]] QList<Draft> drafts() const;     // newest first
    bool removeDraft(qint64 id, QString *error);

    // Outbox: a message stays until the server accepted it at the end of data.
    bool addToOutbox(OutboxItem *item, QString *error);      // sets id, created
    bool recordAttempt(qint64 id, const QString &error, qint64 sessionId, QString *errorOut);
    [[nodiscard]] QList<OutboxItem> outbox() const;          // oldest first
    bool removeFromOutbox(qint64 id, QString *error);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Store
