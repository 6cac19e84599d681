#pragma once
// The outbox, for MainWindow: a message whose send failed is filed in
// the history database and waits there, shown in the OutboxPanel, until a
// server accepts it at the end of data (RFC 5321 4.1.1.4). Items are retried one
// at a time (by hand, all at once, or every settings "outbox/retryMinutes"),
// loaded into the composer to edit, or discarded.
//
// It sends through the window's send path (a callback, so the window's views
// show the retry like any send) and tells the window what to show with signals.

#include "connection/connectionprofile.h"

#include <QList>
#include <QObject>
#include <QTimer>
#include <QVariantMap>
#include <functional>
#include <memory>
#include <optional>

namespace Store {
class HistoryStore;
struct OutboxItem;
}
class ConnectionPanel;
class DraftKeeper;
class OutboxPanel;
class OutgoingMessage;
class ProfileStore;
class QSettings;
class SendController;
struct SendResult;

class OutboxController : public QObject
{
    Q_OBJECT

public:
    // Where a finished send came from: that decides what its outcome files.
    enum class Origin { Composer, Outbox, Resend };
    // Starts a send of an outbox item (`outboxId`, made from `state`) with
    // `profile`; false and *error when it could not start.
    using StartSend = std::function<bool(const std::shared_ptr<OutgoingMessage> &message,
                                         const ConnectionProfile &profile, qint64 outboxId,
                                         const QVariantMap &state, QString *error)>;

    // All but `parent` outlive the controller.
    OutboxController(QSettings *settings, OutboxPanel *panel, DraftKeeper *drafts, SendController *sender,
                     ProfileStore *profiles, ConnectionPanel *connection, StartSend start,
                     QObject *parent = nullptr);
    ~OutboxController() override;

    // The database (nullptr: no outbox; the panel is disabled).
    void setStore(Store::HistoryStore *store);
    // The items again from the database, into the panel.
    void refresh();

    // The outbox item the composer holds (Edit, or its failed send), 0: none.
    [[nodiscard]] qint64 composerItem() const { return m_composerOutboxId; }
    // The composer now holds another message (a restored draft, an opened .eml).
    void forgetComposerItem() { m_composerOutboxId = 0; }

    // What a finished send leaves: accepted, it leaves the outbox (and a sent
    // composer message its draft); failed, it waits in the outbox.
    void fileOutcome(const SendResult &result, qint64 sessionId, Origin origin, qint64 outboxId,
                     const QVariantMap &state, const QString &profileName);
    // A send ended: the next queued retry, if any, once this one is filed.
    void sendFinished();

public Q_SLOTS:
    void retry(qint64 id);
    void edit(qint64 id);
    void discard(qint64 id);
    void retryAll();
    void setRetryMinutes(int minutes);

Q_SIGNALS:
    void statusMessage(const QString &text);   // replaces the status line
    void statusAppended(const QString &text);  // adds to it (after a send's outcome)
    void countChanged(int count);
    // An item was loaded into the composer: show the Compose page.
    void composerLoaded();

private:
    void pumpRetryQueue();
    [[nodiscard]] std::optional<Store::OutboxItem> item(qint64 id) const;
    [[nodiscard]] static QVariantMap composerState(const Store::OutboxItem &item);

    QSettings *m_settings;
    OutboxPanel *m_panel;
    DraftKeeper *m_drafts;
    SendController *m_sender;
    ProfileStore *m_profiles;
    ConnectionPanel *m_connection;
    StartSend m_start;
    Store::HistoryStore *m_store = nullptr;
    qint64 m_composerOutboxId = 0;
    QList<qint64> m_retryQueue;
    QTimer m_retryTimer;
};
