#include "outboxcontroller.h"

#include "composer/composerwidget.h"
#include "connection/connectionpanel.h"
#include "connection/profilestore.h"
#include "draftkeeper.h"
#include "outbox/outboxpanel.h"
#include "sendcontroller.h"
#include "store/historystore.h"

#include <QSettings>

#include <algorithm>
#include <optional>

namespace {

const QString RetryMinutesKey = QStringLiteral("outbox/retryMinutes");

bool isCancelled(const SendResult &result)
{
    return result.error.code == u"CANCELLED";
}

} // namespace

OutboxController::OutboxController(QSettings *settings, OutboxPanel *panel, DraftKeeper *drafts,
                                   SendController *sender, ProfileStore *profiles, ConnectionPanel *connection,
                                   StartSend start, QObject *parent)
    : QObject(parent),
      m_settings(settings),
      m_panel(panel),
      m_drafts(drafts),
      m_sender(sender),
      m_profiles(profiles),
      m_connection(connection),
      m_start(std::move(start))
{
    connect(m_sender, &SendController::busyChanged, m_panel, &OutboxPanel::setBusy);
    connect(m_panel, &OutboxPanel::retryRequested, this, &OutboxController::retry);
    connect(m_panel, &OutboxPanel::editRequested, this, &OutboxController::edit);
    connect(m_panel, &OutboxPanel::discardRequested, this, &OutboxController::discard);
    connect(m_panel, &OutboxPanel::retryMinutesChanged, this, &OutboxController::setRetryMinutes);
    connect(&m_retryTimer, &QTimer::timeout, this, &OutboxController::retryAll);
    m_panel->setRetryMinutes(m_settings->value(RetryMinutesKey, 0).toInt());
    setRetryMinutes(m_panel->retryMinutes());
}

OutboxController::~OutboxController() = default;

void OutboxController::setStore(Store::HistoryStore *store)
{
    m_store = store;
    // Without the database nothing can wait in an outbox.
    if (!m_store)
        m_panel->setEnabled(false);
}

void OutboxController::refresh()
{
    if (!m_store)
        return;
    const QList<Store::OutboxItem> items = m_store->outbox();
    m_panel->setItems(items);
    Q_EMIT countChanged(int(items.size()));
}

void OutboxController::fileOutcome(const SendResult &result, qint64 sessionId, Origin origin, qint64 outboxId,
                                   const QVariantMap &state, const QString &profileName)
{
    if (!m_store)
        return;
    QString error;
    // RFC 5321 4.1.1.4 / 3.3: the server takes responsibility for the message only
    // with its positive reply to the end of data. Nothing else counts as sent.
    if (result.accepted) {
        if (outboxId != 0 && !m_store->removeFromOutbox(outboxId, &error))
            qWarning("outbox: %s", qPrintable(error));
        if (origin == Origin::Composer) {
            // Sent: the composer's draft is no longer needed, and a clean close
            // with the composer unchanged keeps none.
            m_drafts->composerMessageSafe(state);
            m_composerOutboxId = 0;
        } else if (outboxId != 0 && outboxId == m_composerOutboxId) {
            m_composerOutboxId = 0;
        }
        refresh();
        return;
    }
    const SmtpError &e = result.error;
    const QString why = QStringLiteral("%1: %2").arg(e.step.isEmpty() ? QStringLiteral("send") : e.step,
                                                     e.message.isEmpty() ? e.toString() : e.message);
    if (origin == Origin::Outbox) {
        if (!m_store->recordAttempt(outboxId, why, sessionId, &error))
            qWarning("outbox: %s", qPrintable(error));
        refresh();
        return;
    }
    // A cancelled send from the composer stays in the composer (and its draft):
    // the user stopped it on purpose, it is not waiting for a retry.
    if (isCancelled(result))
        return;
    Store::OutboxItem item;
    item.profile = profileName;
    item.fields = state;
    item.attachments = state.value(QStringLiteral("attachments")).toStringList();
    if (!m_store->addToOutbox(&item, &error) || !m_store->recordAttempt(item.id, why, sessionId, &error)) {
        Q_EMIT statusAppended(QStringLiteral("\nThe message could not be put in the outbox: %1").arg(error));
        return;
    }
    if (origin == Origin::Composer) {
        // The composer's message now waits in the outbox; sending it again from
        // the composer replaces that item instead of leaving a duplicate behind.
        if (outboxId != 0)
            m_store->removeFromOutbox(outboxId, &error);
        m_composerOutboxId = item.id;
        m_drafts->composerMessageSafe(state);
    }
    Q_EMIT statusAppended(QStringLiteral("\nThe message waits in the outbox for a retry."));
    refresh();
}

void OutboxController::sendFinished()
{
    if (!m_retryQueue.isEmpty())
        QTimer::singleShot(0, this, &OutboxController::pumpRetryQueue);
}

std::optional<Store::OutboxItem> OutboxController::item(qint64 id) const
{
    for (const Store::OutboxItem &i : m_store->outbox()) {
        if (i.id == id)
            return i;
    }
    return std::nullopt;
}

QVariantMap OutboxController::composerState(const Store::OutboxItem &item)
{
    // The store keeps the attachment paths beside the fields; the composer's state
    // holds them as one of its fields.
    QVariantMap fields = item.fields;
    if (!item.attachments.isEmpty())
        fields.insert(QStringLiteral("attachments"), item.attachments);
    return fields;
}

void OutboxController::retry(qint64 id)
{
    if (!m_store)
        return;
    if (m_sender->isBusy()) {
        Q_EMIT statusMessage(QStringLiteral("A send is already in progress."));
        return;
    }
    const std::optional<Store::OutboxItem> it = item(id);
    if (!it)
        return;
    const QVariantMap fields = composerState(*it);
    QString problem;
    const std::shared_ptr<OutgoingMessage> message = ComposerWidget::messageFromState(fields, &problem);
    QString error;
    if (!message) {
        // It cannot even be built now (an attachment gone): that is this attempt's error.
        m_store->recordAttempt(id, QStringLiteral("message: %1").arg(problem), 0, &error);
        Q_EMIT statusMessage(QStringLiteral("Retry: %1").arg(problem));
        refresh();
        return;
    }
    auto go = [this, message, fields, id](const ConnectionProfile &profile) {
        if (m_sender->isBusy()) {
            // Another send started while the password was read: after it.
            if (!m_retryQueue.contains(id))
                m_retryQueue.prepend(id);
            return;
        }
        QString why;
        if (!m_start(message, profile, id, fields, &why)) {
            QString ignored; // the attempt's own error is what the user sees
            m_store->recordAttempt(id, why, 0, &ignored);
            Q_EMIT statusMessage(QStringLiteral("Retry: %1").arg(why));
            refresh();
        }
    };
    // Its own profile when it still exists (the current one when that is it, with
    // its password); otherwise the current connection.
    const ConnectionProfile current = m_connection->profile();
    if (current.name == it->profile || !m_profiles->names().contains(it->profile)) {
        go(current);
        return;
    }
    const std::optional<ConnectionProfile> stored = m_profiles->load(it->profile);
    if (!stored || stored->settings.user.isEmpty()) {
        go(stored ? *stored : current);
        return;
    }
    ConnectionProfile profile = *stored;
    m_profiles->loadPassword(profile.name, [go, profile](const QString &password, const QString &) mutable {
        profile.setSecret(password);
        go(profile);
    });
}

void OutboxController::edit(qint64 id)
{
    if (!m_store)
        return;
    const std::optional<Store::OutboxItem> it = item(id);
    if (!it)
        return;
    const QVariantMap fields = composerState(*it);
    // The composer's message is kept as a draft first; this one waits in the
    // outbox already, so it needs none until it is edited.
    const QStringList missing = m_drafts->loadSafeMessage(fields);
    m_composerOutboxId = id; // leaves the outbox only once sent from the composer
    Q_EMIT composerLoaded();
    Q_EMIT statusMessage(missing.isEmpty()
                             ? QStringLiteral("Editing a message from the outbox: it leaves the outbox once sent.")
                             : QStringLiteral("Editing a message from the outbox, but: %1")
                                   .arg(missing.join(QStringLiteral("; "))));
}

void OutboxController::discard(qint64 id)
{
    if (!m_store)
        return;
    QString error;
    if (!m_store->removeFromOutbox(id, &error))
        Q_EMIT statusMessage(QStringLiteral("The outbox item could not be removed: %1").arg(error));
    if (m_composerOutboxId == id)
        m_composerOutboxId = 0;
    m_retryQueue.removeAll(id);
    refresh();
}

void OutboxController::retryAll()
{
    if (!m_store)
        return;
    // One send at a time: the queue is worked through as each one finishes.
    for (const Store::OutboxItem &item : m_store->outbox()) {
        if (!m_retryQueue.contains(item.id))
            m_retryQueue.append(item.id);
    }
    pumpRetryQueue();
}

void OutboxController::pumpRetryQueue()
{
    if (m_sender->isBusy() || m_retryQueue.isEmpty())
        return;
    retry(m_retryQueue.takeFirst());
    // An item that could not start (no message, bad profile) did not make the
    // controller busy: go on with the next.
    if (!m_sender->isBusy() && !m_retryQueue.isEmpty())
        QTimer::singleShot(0, this, &OutboxController::pumpRetryQueue);
}

void OutboxController::setRetryMinutes(int minutes)
{
    m_settings->setValue(RetryMinutesKey, minutes);
    if (minutes > 0)
        m_retryTimer.start(minutes * 60 * 1000);
    else
        m_retryTimer.stop();
}
