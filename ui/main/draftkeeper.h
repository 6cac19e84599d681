#pragma once
// Keeps the composer's unsent message as a draft in the history database
//, for MainWindow: autosaved AutosaveMs after an edit and on close;
// the clean-exit mark (settings "drafts/cleanExit") tells the next start whether
// a draft was left by a run that did not close cleanly (a crash, kill -9): that
// one is offered back in a bar above the composer, to restore or discard.
//
// It knows the store and the composer only; the window shows its status lines
// (statusMessage) and its page switch (restored), and tells it when the
// composer's message no longer needs a draft (sent, or filed in the outbox).

#include <QObject>
#include <QTimer>
#include <QVariantMap>
#include <functional>

namespace Store {
class HistoryStore;
}
class ComposerWidget;
class QLabel;
class QPushButton;
class QSettings;
class QWidget;

class DraftKeeper : public QObject
{
    Q_OBJECT

public:
    // `settings` and `composer` outlive the keeper; `profileName` names the
    // connection a saved draft was written for. Settings "drafts/autosaveMs"
    // may shorten `autosaveMs` (tests).
    DraftKeeper(QSettings *settings, ComposerWidget *composer, std::function<QString()> profileName,
                int autosaveMs, QObject *parent = nullptr);
    ~DraftKeeper() override;

    // Builds the offer bar (hidden) as a child of `parent`; the caller lays it out.
    QWidget *buildBar(QWidget *parent);
    // The database (nullptr: no drafts are kept); set before offerAtStart().
    void setStore(Store::HistoryStore *store) { m_store = store; }
    // At start: the draft a clean close kept comes back into the composer; one
    // saved after the last clean close is offered in the bar.
    void offerAtStart();

    [[nodiscard]] bool isOffered() const { return m_offeredDraftId != 0; }
    [[nodiscard]] QString barText() const;
    [[nodiscard]] qint64 currentId() const { return m_draftId; }

    // Saves the composer now if it changed since the last save (the autosave).
    bool save();
    void restoreOffered();
    void discardOffered();

    // The composer's message was sent or now waits in the outbox: its draft row
    // goes, and closing with the composer still holding `state` keeps none.
    void composerMessageSafe(const QVariantMap &state);
    // Saves what the composer holds, then puts `fields` in it as a message that
    // is safe already (it waits in the outbox); returns the files now missing.
    QStringList loadSafeMessage(const QVariantMap &fields);
    // On close: keeps the composer as a draft unless it is empty or safe, and
    // writes the clean-exit mark.
    void keepOnClose();

Q_SIGNALS:
    void statusMessage(const QString &text);
    // The offered draft is back in the composer, which now holds another message.
    void restored();

private:
    [[nodiscard]] static bool isEmptyState(const QVariantMap &state);

    QSettings *m_settings;
    ComposerWidget *m_composer;
    std::function<QString()> m_profileName;
    Store::HistoryStore *m_store = nullptr;
    QWidget *m_bar = nullptr;
    QLabel *m_barText = nullptr;
    QPushButton *m_restore = nullptr;
    QPushButton *m_discard = nullptr;
    QPushButton *m_dismiss = nullptr;
    qint64 m_offeredDraftId = 0;
    qint64 m_draftId = 0;
    bool m_dirty = false;
    QTimer m_autosave;
    QVariantMap m_safeState; // sent, or waiting in the outbox: no draft needed for it
};
