#pragma once
// The main window: the connection panel (a dock), the composer (centre) and the
// live views in tabs below it (event log, transcript, throughput, warnings,
// result, capture, outbox). Send runs on SendController's worker thread; the
// progress bar shows bytes, rate and time left; Cancel stops at once. Layout and
// geometry are restored between runs (QSettings).
//
// History: every send and diagnosis is stored in a Store::HistoryStore
// (settings "history/path", default HistoryStore::defaultPath()) and shown on the
// History page. The composer is autosaved as a draft every AutosaveMs after an
// edit and on close; a draft left by a run that did not close cleanly (a crash,
// kill -9) is offered back in a bar above the composer. A message whose send
// failed waits in the outbox until a server accepts it at the end of data.

#include "connection/connectionprofile.h"
#include "draftkeeper.h"
#include "outboxcontroller.h"

#include <QMainWindow>
#include <QVariantMap>
#include <memory>

namespace Capture {
class CaptureServer;
}
namespace Store {
class HistoryStore;
}
class HistoryView;
class OutboxPanel;
class CapturePanel;
class ComposerWidget;
class FaultsDialog;
class ConnectionPanel;
class DiagnoseView;
class EventLogView;
class ProfileStore;
class QLabel;
class QProgressBar;
class QPushButton;
class OutgoingMessage;
class QSettings;
class QSplitter;
class QTabWidget;
class ResultPanel;
class SendController;
class ThroughputChart;
class TranscriptView;
class WarningsPanel;
struct SendResult;

class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    // `settings` outlives the window (the app's QSettings, or a test's INI file).
    // The built-in capture server starts on free loopback ports, its messages in
    // settings "capture/folder" (default: the app's data folder); on a first run
    // (no profile used yet) it is the connection's target, so a new user can
    // send at once. "capture/enabled" = false keeps it off.
    explicit MainWindow(QSettings *settings, QWidget *parent = nullptr);
    ~MainWindow() override;

    // The parts, for tests and screenshots.
    [[nodiscard]] ConnectionPanel *connectionPanel() const { return m_connection; }
    [[nodiscard]] ComposerWidget *composer() const { return m_composer; }
    [[nodiscard]] EventLogView *eventLog() const { return m_eventLog; }
    [[nodiscard]] TranscriptView *transcript() const { return m_transcript; }
    [[nodiscard]] ThroughputChart *chart() const { return m_chart; }
    [[nodiscard]] WarningsPanel *warnings() const { return m_warnings; }
    [[nodiscard]] ResultPanel *results() const { return m_results; }
    [[nodiscard]] CapturePanel *capturePanel() const { return m_capturePanel; }
    [[nodiscard]] Capture::CaptureServer *captureServer() const { return m_capture; }
    // The profile that targets the running capture server (STARTTLS, its CA).
    [[nodiscard]] ConnectionProfile captureProfile() const;
    [[nodiscard]] SendController *controller() const { return m_controller; }
    [[nodiscard]] QPushButton *sendButton() const { return m_send; }
    [[nodiscard]] QPushButton *cancelButton() const { return m_cancel; }
    [[nodiscard]] QTabWidget *tabs() const { return m_tabs; }
    [[nodiscard]] QTabWidget *pages() const { return m_pages; }   // Compose | Diagnose | History
    [[nodiscard]] DiagnoseView *diagnoseView() const { return m_diagnose; }
    // The line under the composer: why Send is disabled, the progress, or the outcome.
    [[nodiscard]] QString statusText() const;

    static constexpr int AutosaveMs = 5000; // settings "drafts/autosaveMs" may shorten it (tests)

    // The history database; nullptr when it could not be opened (the status line
    // says why; everything else works).
    [[nodiscard]] Store::HistoryStore *historyStore() const { return m_store.get(); }
    [[nodiscard]] HistoryView *historyView() const { return m_history; } // nullptr without a store
    [[nodiscard]] OutboxPanel *outboxPanel() const { return m_outbox; }
    // The draft offered back at start (a bar above the composer), until restored
    // or discarded; the bar's text names it and, after Restore, missing files.
    [[nodiscard]] bool draftOffered() const { return m_drafts->isOffered(); }
    [[nodiscard]] QString draftBarText() const { return m_drafts->barText(); }
    // The draft row this window saves the composer into (0: none yet).
    [[nodiscard]] qint64 currentDraftId() const { return m_drafts->currentId(); }

public Q_SLOTS:
    void send();
    void cancel();
    void useCaptureServer();
    // Opens the capture server's scripted faults (non-modal); returned for tests.
    FaultsDialog *editCaptureFaults();
    // Sends a stored .eml unchanged with the current connection (capture view's Resend).
    void resend(const QString &emlPath);
    // Shows the Diagnose page and runs the checklist on the current connection.
    void diagnose();

    // Drafts: saves the composer now if it changed since the last save (what the
    // autosave timer does); restores or discards the offered draft.
    bool saveDraft();
    void restoreOfferedDraft();
    void discardOfferedDraft();
    // Outbox: send an item again (with its profile, or the current connection
    // when that profile is gone), load it into the composer, remove it; retry all.
    void retryOutboxItem(qint64 id);
    void editOutboxItem(qint64 id);
    void discardOutboxItem(qint64 id);
    void retryAllOutboxItems();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildMenus();
    void startCapture();
    void updateCaptureInfo(); // where the capture server listens, its CA and faults
    // What a send in progress was, to record it and file it when it ends.
    using SendOrigin = OutboxController::Origin;
    struct PendingSend
    {
        SendOrigin origin = SendOrigin::Composer;
        qint64 outboxId = 0;       // Outbox: the item retried
        QVariantMap state;         // the composer state that made the message
        QString profileName;
        QString user;              // the AUTH user name, for the record (never the password)
        QVariantMap settings;      // ConnectionSettings::toVariantMap(): no secrets
        std::shared_ptr<OutgoingMessage> message;
    };

    bool startSending(const std::shared_ptr<OutgoingMessage> &message, const ConnectionProfile &profile,
                      PendingSend pending, QString *error);
    void openHistory();
    void recordSend(const SendResult &result, qint64 *sessionId);
    void refreshHistory();
    void updateSendState();
    void onProgress(qint64 sent, qint64 total, double bytesPerSecond);
    void onFinished(const SendResult &result);
    void openEml();
    void saveEml();
    void saveTranscript();
    void exportEvents();

    QSettings *m_settings;
    ProfileStore *m_profiles = nullptr;
    ConnectionPanel *m_connection = nullptr;
    ComposerWidget *m_composer = nullptr;
    EventLogView *m_eventLog = nullptr;
    TranscriptView *m_transcript = nullptr;
    ThroughputChart *m_chart = nullptr;
    WarningsPanel *m_warnings = nullptr;
    ResultPanel *m_results = nullptr;
    CapturePanel *m_capturePanel = nullptr;
    Capture::CaptureServer *m_capture = nullptr;
    QStringList m_captureFaults; // as saved in settings "capture/faults"
    SendController *m_controller = nullptr;
    QTabWidget *m_tabs = nullptr;
    QSplitter *m_splitter = nullptr;
    QTabWidget *m_pages = nullptr;
    DiagnoseView *m_diagnose = nullptr;
    QPushButton *m_send = nullptr;
    QPushButton *m_cancel = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_status = nullptr;

    // History, drafts, outbox.
    std::unique_ptr<Store::HistoryStore> m_store; // null when it could not open
    HistoryView *m_history = nullptr;
    OutboxPanel *m_outbox = nullptr;
    DraftKeeper *m_drafts = nullptr;            // the composer's draft and the offer bar
    OutboxController *m_outboxControl = nullptr; // failed sends, their retries
    PendingSend m_pending;
    QVariantMap m_lastUsage;        // the send's socket totals, from the controller's samples
};
