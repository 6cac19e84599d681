#pragma once
// The main window: the connection panel (a dock), the composer (centre) and the
// live views in tabs below it (event log, transcript, throughput, warnings,
// result). Send runs on SendController's worker thread; the progress bar shows
// bytes, rate and time left; Cancel stops at once. Layout and geometry are
// restored between runs (QSettings).

#include "connection/connectionprofile.h"

#include <QMainWindow>
#include <memory>

namespace Capture {
class CaptureServer;
}
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
    [[nodiscard]] QTabWidget *pages() const { return m_pages; }   // Compose | Diagnose
    [[nodiscard]] DiagnoseView *diagnoseView() const { return m_diagnose; }
    // The line under the composer: why Send is disabled, the progress, or the outcome.
    [[nodiscard]] QString statusText() const;

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

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildMenus();
    void startCapture();
    void updateCaptureInfo(); // where the capture server listens, its CA and faults
    bool startSending(const std::shared_ptr<OutgoingMessage> &message, QString *error);
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
};
