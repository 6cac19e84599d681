#include "mainwindow.h"

#include "capture/captureserver.h"
#include "capture/capturepanel.h"
#include "capture/faultsdialog.h"
#include "composer/composerwidget.h"
#include "connection/connectionpanel.h"
#include "connection/profilestore.h"
#include "diagnose/diagnoseview.h"
#include "diagnostics/replyexplainer.h"
#include "diagnostics/diagnosticreport.h"
#include "history/historyview.h"
#include "live/liveviews.h"
#include "mime/emlmessage.h"
#include "outbox/outboxpanel.h"
#include "sendcontroller.h"
#include "store/historystore.h"

#include <QAction>
#include <QCloseEvent>
#include <QDir>
#include <QFileInfo>
#include <QDockWidget>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

namespace {

QString humanBytes(double n)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB"};
    int u = 0;
    while (n >= 1024.0 && u < 3) {
        n /= 1024.0;
        ++u;
    }
    return QStringLiteral("%1 %2").arg(n, 0, 'f', u == 0 ? 0 : 1).arg(QLatin1String(units[u]));
}

// Settings keys of this part, written once (the drafts' and the outbox's are
// with DraftKeeper and OutboxController).
const QString HistoryPathKey = QStringLiteral("history/path");
// The bytes of the message as sent, for the history (.eml), when small enough.
QByteArray messageBytes(const OutgoingMessage *message)
{
    if (!message)
        return {};
    const qint64 size = message->size(BodyOptions{});
    if (size < 0 || size > Store::HistoryStore::maxMessageBytes)
        return {};
    std::unique_ptr<QIODevice> body = message->openBody(BodyOptions{});
    if (!body)
        return {};
    QByteArray bytes = body->read(Store::HistoryStore::maxMessageBytes + 1);
    return bytes.size() > Store::HistoryStore::maxMessageBytes ? QByteArray() : bytes;
}

} // namespace

MainWindow::MainWindow(QSettings *settings, QWidget *parent) : QMainWindow(parent), m_settings(settings)
{
    setWindowTitle(QStringLiteral("SMTP Scope"));
    setAccessibleName(QStringLiteral("SMTP Scope main window"));
    m_profiles = new ProfileStore(settings, this);
    m_controller = new SendController(this);

    // Connection settings: a dock on the left, movable, like an inspector.
    m_connection = new ConnectionPanel(m_profiles, this);
    auto *dock = new QDockWidget(QStringLiteral("Connection"), this);
    dock->setObjectName(QStringLiteral("connectionDock"));
    dock->setWidget(m_connection);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, dock);

    // Centre: the composer above the live views.
    m_composer = new ComposerWidget(this);
    m_eventLog = new EventLogView(this);
    m_transcript = new TranscriptView(this);
    m_chart = new ThroughputChart(this);
    m_warnings = new WarningsPanel(this);
    m_results = new ResultPanel(this);
    m_capturePanel = new CapturePanel(this);
    m_capture = new Capture::CaptureServer(this);
    m_tabs = new QTabWidget(this);
    m_tabs->setAccessibleName(QStringLiteral("Session views"));
    m_tabs->addTab(m_transcript, QStringLiteral("&Transcript"));
    m_tabs->addTab(m_eventLog, QStringLiteral("&Events"));
    m_tabs->addTab(m_chart, QStringLiteral("T&hroughput"));
    m_tabs->addTab(m_warnings, QStringLiteral("&Warnings"));
    m_tabs->addTab(m_results, QStringLiteral("&Result"));
    m_tabs->addTab(m_capturePanel, QStringLiteral("&Capture"));
    m_outbox = new OutboxPanel(this);
    m_tabs->addTab(m_outbox, QStringLiteral("&Outbox (0)"));
    m_tabs->setTabToolTip(m_tabs->indexOf(m_outbox),
                          QStringLiteral("Messages whose send failed, waiting for a retry"));
    connect(m_warnings, &WarningsPanel::countChanged, this, [this](int n) {
        m_tabs->setTabText(m_tabs->indexOf(m_warnings),
                           n > 0 ? QStringLiteral("&Warnings (%1)").arg(n) : QStringLiteral("&Warnings"));
    });

    // The send bar: Send / Cancel, the progress and the status line.
    m_send = new QPushButton(QStringLiteral("&Send"), this);
    m_send->setAccessibleName(QStringLiteral("Send"));
    m_send->setToolTip(QStringLiteral("Send the message (Ctrl+Return)"));
    m_send->setDefault(true);
    m_cancel = new QPushButton(QStringLiteral("Cancel"), this);
    m_cancel->setAccessibleName(QStringLiteral("Cancel sending"));
    m_cancel->setToolTip(QStringLiteral("Stop the send at once (Esc)"));
    m_cancel->setEnabled(false);
    m_progress = new QProgressBar(this);
    m_progress->setAccessibleName(QStringLiteral("Send progress"));
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setTextVisible(false);
    m_progress->setMaximumWidth(220);
    m_status = new QLabel(this);
    m_status->setAccessibleName(QStringLiteral("Status"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *bar = new QHBoxLayout;
    bar->addWidget(m_send);
    bar->addWidget(m_cancel);
    bar->addWidget(m_progress);
    bar->addWidget(m_status, 1);

    auto *top = new QWidget(this);
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    // Drafts: the composer autosaved, the one a crashed run left offered in a bar.
    m_drafts = new DraftKeeper(
        m_settings, m_composer, [this] { return m_connection->profile().name; }, AutosaveMs, this);
    connect(m_drafts, &DraftKeeper::statusMessage, m_status, &QLabel::setText);
    topLayout->addWidget(m_drafts->buildBar(top));
    topLayout->addWidget(m_composer, 1);
    topLayout->addLayout(bar);

    m_splitter = new QSplitter(Qt::Vertical, this);
    m_splitter->setObjectName(QStringLiteral("mainSplitter"));
    m_splitter->addWidget(top);
    m_splitter->addWidget(m_tabs);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 2);

    // Two pages share the connection dock: composing and sending, and diagnosing
    // the server those settings point to.
    m_diagnose = new DiagnoseView(this);
    m_diagnose->setProfile(m_connection->profile());
    m_pages = new QTabWidget(this);
    m_pages->setObjectName(QStringLiteral("pages"));
    m_pages->setAccessibleName(QStringLiteral("Pages"));
    m_pages->setDocumentMode(true);
    m_pages->addTab(m_splitter, QStringLiteral("Compose"));
    m_pages->addTab(m_diagnose, QStringLiteral("&Diagnose"));
    m_pages->setTabToolTip(0, QStringLiteral("Compose and send a message; the session views below"));
    m_pages->setTabToolTip(1, QStringLiteral("Check the server of the current connection step by step (Ctrl+D)"));
    setCentralWidget(m_pages);
    connect(m_drafts, &DraftKeeper::restored, this, [this] {
        m_outboxControl->forgetComposerItem();
        m_pages->setCurrentIndex(0);
    });

    // Outbox: its retries go through the same send path as the composer's sends.
    m_outboxControl = new OutboxController(
        m_settings, m_outbox, m_drafts, m_controller, m_profiles, m_connection,
        [this](const std::shared_ptr<OutgoingMessage> &message, const ConnectionProfile &profile, qint64 outboxId,
               const QVariantMap &state, QString *error) {
            PendingSend pending;
            pending.origin = SendOrigin::Outbox;
            pending.outboxId = outboxId;
            pending.state = state;
            pending.profileName = profile.name;
            return startSending(message, profile, std::move(pending), error);
        },
        this);
    connect(m_outboxControl, &OutboxController::statusMessage, m_status, &QLabel::setText);
    connect(m_outboxControl, &OutboxController::statusAppended, this,
            [this](const QString &text) { m_status->setText(m_status->text() + text); });
    connect(m_outboxControl, &OutboxController::countChanged, this, [this](int n) {
        m_tabs->setTabText(m_tabs->indexOf(m_outbox), QStringLiteral("&Outbox (%1)").arg(n));
    });
    connect(m_outboxControl, &OutboxController::composerLoaded, this, [this] { m_pages->setCurrentIndex(0); });
    openHistory(); // the History page, the outbox's items, the draft offer
    connect(m_connection, &ConnectionPanel::profileChanged, this,
            [this] { m_diagnose->setProfile(m_connection->profile()); });

    connect(m_send, &QPushButton::clicked, this, &MainWindow::send);
    connect(m_cancel, &QPushButton::clicked, this, &MainWindow::cancel);
    connect(m_composer, &ComposerWidget::problemChanged, this, &MainWindow::updateSendState);
    connect(m_connection, &ConnectionPanel::profileChanged, this, &MainWindow::updateSendState);
    connect(m_controller, &SendController::busyChanged, this, &MainWindow::updateSendState);
    connect(m_controller, &SendController::eventsArrived, m_eventLog, &EventLogView::append);
    connect(m_controller, &SendController::transcriptArrived, m_transcript, &TranscriptView::append);
    connect(m_controller, &SendController::warningsArrived, m_warnings, &WarningsPanel::append);
    connect(m_controller, &SendController::sample, m_chart, &ThroughputChart::addSample);
    connect(m_controller, &SendController::progress, this, &MainWindow::onProgress);
    connect(m_controller, &SendController::finished, this, &MainWindow::onFinished);
    connect(m_capturePanel, &CapturePanel::resendRequested, this, &MainWindow::resend);
    // Samples carry the client's socket totals (the last one its final ones):
    // the usage kept with the session.
    connect(m_controller, &SendController::sample, this, [this](qint64 ms, qint64 sent, qint64 received) {
        m_lastUsage = {{QStringLiteral("bytes_sent"), sent},
                       {QStringLiteral("bytes_recv"), received},
                       {QStringLiteral("elapsed_ms"), ms}};
    });
    connect(m_diagnose, &DiagnoseView::finished, this, [this] {
        if (!m_store)
            return;
        Store::SessionRecord record = Store::recordFromReport(m_diagnose->report());
        record.source = QStringLiteral("window");
        record.profile = m_connection->profile().name;
        QString error;
        if (m_store->add(record, &error) == 0)
            m_status->setText(QStringLiteral("The diagnosis was not stored in the history: %1").arg(error));
        refreshHistory();
    });


    buildMenus();
    statusBar()->hide(); // the send bar carries the status
    startCapture();

    resize(1280, 800);
    restoreGeometry(m_settings->value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(m_settings->value(QStringLiteral("window/state")).toByteArray());
    m_splitter->restoreState(m_settings->value(QStringLiteral("window/splitter")).toByteArray());
    updateSendState();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(QStringLiteral("&File"));
    file->addAction(QStringLiteral("&Open .eml..."), QKeySequence::Open, this, &MainWindow::openEml);
    file->addAction(QStringLiteral("Save message as .&eml..."), QKeySequence::SaveAs, this, &MainWindow::saveEml);
    file->addSeparator();
    file->addAction(QStringLiteral("Save &transcript..."), this, &MainWindow::saveTranscript);
    file->addAction(QStringLiteral("E&xport events..."), this, &MainWindow::exportEvents);
    file->addSeparator();
    file->addAction(QStringLiteral("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu *message = menuBar()->addMenu(QStringLiteral("&Message"));
    QAction *send = message->addAction(QStringLiteral("&Send"), this, &MainWindow::send);
    send->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
    QAction *cancel = message->addAction(QStringLiteral("&Cancel sending"), this, &MainWindow::cancel);
    cancel->setShortcut(QKeySequence(Qt::Key_Escape));
    message->addAction(QStringLiteral("&Wire preview..."), QKeySequence(Qt::CTRL | Qt::Key_P), m_composer,
                       &ComposerWidget::showWirePreview);

    QMenu *connection = menuBar()->addMenu(QStringLiteral("&Connection"));
    connection->addAction(QStringLiteral("Use the &local capture server"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L),
                          this, &MainWindow::useCaptureServer);
    connection->addAction(QStringLiteral("Capture server &faults..."), this, &MainWindow::editCaptureFaults);
    connection->addSeparator();
    connection->addAction(QStringLiteral("&Diagnose this server"), QKeySequence(Qt::CTRL | Qt::Key_D), this,
                          &MainWindow::diagnose);

    QMenu *go = menuBar()->addMenu(QStringLiteral("&Go"));
    go->addAction(QStringLiteral("Server &host"), QKeySequence(Qt::CTRL | Qt::Key_L), m_connection,
                  &ConnectionPanel::focusHost);
    go->addAction(QStringLiteral("&To field"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T), m_composer,
                  &ComposerWidget::focusTo);
    const QList<QPair<QString, QWidget *>> views = {{QStringLiteral("Transcript"), m_transcript},
                                                    {QStringLiteral("Events"), m_eventLog},
                                                    {QStringLiteral("Throughput"), m_chart},
                                                    {QStringLiteral("Warnings"), m_warnings},
                                                    {QStringLiteral("Result"), m_results},
                                                    {QStringLiteral("Capture"), m_capturePanel},
                                                    {QStringLiteral("Outbox"), m_outbox}};
    for (int i = 0; i < views.size(); ++i) {
        QWidget *view = views.at(i).second;
        go->addAction(views.at(i).first, QKeySequence(Qt::ALT | Qt::Key(Qt::Key_1 + i)), this,
                      [this, view] { m_tabs->setCurrentWidget(view); });
    }
}

void MainWindow::diagnose()
{
    m_pages->setCurrentWidget(m_diagnose);
    m_diagnose->setProfile(m_connection->profile());
    if (!m_diagnose->isRunning())
        m_diagnose->start();
}

QString MainWindow::statusText() const
{
    return m_status->text();
}

void MainWindow::updateSendState()
{
    const bool busy = m_controller->isBusy();
    m_cancel->setEnabled(busy);
    if (busy) {
        m_send->setEnabled(false);
        return;
    }
    // Send stays disabled with the reason in view: nothing half-checked is sent.
    QString problem = m_connection->problem();
    if (!problem.isEmpty())
        problem = QStringLiteral("Connection: ") + problem;
    else
        problem = m_composer->problem();
    m_send->setEnabled(problem.isEmpty());
    m_send->setToolTip(problem.isEmpty() ? QStringLiteral("Send the message (Ctrl+Return)") : problem);
    if (!problem.isEmpty())
        m_status->setText(problem);
    else if (m_status->text() == m_send->property("lastProblem").toString())
        m_status->setText(QStringLiteral("Ready to send."));
    m_send->setProperty("lastProblem", problem);
}

void MainWindow::send()
{
    if (m_controller->isBusy() || !m_send->isEnabled())
        return;
    QString problem;
    std::shared_ptr<OutgoingMessage> message = m_composer->buildMessage(&problem);
    const ConnectionProfile profile = m_connection->profile();
    PendingSend pending;
    pending.origin = SendOrigin::Composer;
    pending.outboxId = m_outboxControl->composerItem();
    pending.state = m_composer->state();
    pending.profileName = profile.name;
    if (!message || !startSending(message, profile, std::move(pending), &problem))
        m_status->setText(problem);
}

void MainWindow::resend(const QString &emlPath)
{
    QString problem;
    std::shared_ptr<OutgoingMessage> message = EmlMessage::load(emlPath, &problem);
    const ConnectionProfile profile = m_connection->profile();
    PendingSend pending;
    pending.origin = SendOrigin::Resend;
    // The file as it is: what the composer's state holds for an opened, unedited .eml.
    pending.state = {{QStringLiteral("emlPath"), QFileInfo(emlPath).absoluteFilePath()},
                     {QStringLiteral("emlUnedited"), true}};
    pending.profileName = profile.name;
    if (!message || m_controller->isBusy() || !startSending(message, profile, std::move(pending), &problem))
        m_status->setText(problem.isEmpty() ? QStringLiteral("A send is already in progress.") : problem);
}

bool MainWindow::startSending(const std::shared_ptr<OutgoingMessage> &message, const ConnectionProfile &profile,
                              PendingSend pending, QString *error)
{
    const QString problem =
        profile == m_connection->profile() ? m_connection->problem() : profile.settings.validationProblem();
    if (!problem.isEmpty()) {
        *error = QStringLiteral("Connection: ") + problem;
        return false;
    }
    m_eventLog->clear();
    m_transcript->clear();
    m_chart->clear();
    m_warnings->clear();
    m_results->clear();
    m_progress->setValue(0);
    m_lastUsage.clear();
    if (!m_controller->start(profile, message, error))
        return false;
    pending.message = message;
    pending.user = profile.settings.user;
    pending.settings = profile.settings.toVariantMap();
    m_pending = std::move(pending);
    m_tabs->setCurrentWidget(m_transcript);
    m_status->setText(QStringLiteral("Connecting to %1...").arg(profile.settings.target()));
    return true;
}

void MainWindow::startCapture()
{
    const QString folder =
        m_settings
            ->value(QStringLiteral("capture/folder"),
                    // ~/.local/share/smtpscope/capture (AppDataLocation would add the
                    // organisation too: smtpscope/smtpscope).
                    QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation)
                        + QStringLiteral("/smtpscope/capture"))
            .toString();
    if (!m_settings->value(QStringLiteral("capture/enabled"), true).toBool()) {
        m_capturePanel->setServerInfo(QStringLiteral("The capture server is off (settings: capture/enabled)."));
        return;
    }
    Capture::CaptureOptions options;
    options.folder = folder;
    QString error;
    m_captureFaults = m_settings->value(QStringLiteral("capture/faults")).toStringList();
    for (const QString &spec : std::as_const(m_captureFaults)) {
        if (const auto fault = Capture::Fault::parse(spec, &error))
            options.faults.append(*fault);
    }
    if (!m_capture->start(options, &error)) {
        m_capturePanel->setServerInfo(QStringLiteral("The capture server could not start: %1").arg(error));
        return;
    }
    m_capturePanel->setStore(m_capture->store());
    updateCaptureInfo();
    // First run: nothing chosen yet, so the target is the capture server and a
    // new user can compose and send at once, without an account anywhere.
    if (m_profiles->lastUsed().isEmpty())
        useCaptureServer();
}

ConnectionProfile MainWindow::captureProfile() const
{
    ConnectionProfile p;
    p.name = QStringLiteral("Local capture server");
    p.nameDescribesTarget = true; // another host or port is not the capture server
    p.settings.host = QStringLiteral("127.0.0.1");
    p.settings.port = m_capture->port();
    p.settings.security = ConnectionSettings::Security::StartTlsRequired;
    p.settings.caFile = m_capture->caFile(); // verified against the capture server's own CA
    return p;
}

void MainWindow::updateCaptureInfo()
{
    QString info = QStringLiteral("Capture server on 127.0.0.1:%1 (STARTTLS) and 127.0.0.1:%2 (implicit TLS); its CA: %3")
                       .arg(m_capture->port())
                       .arg(m_capture->tlsPort())
                       .arg(m_capture->caFile());
    if (!m_captureFaults.isEmpty())
        info += QStringLiteral("\nScripted faults: %1").arg(m_captureFaults.join(QStringLiteral("; ")));
    m_capturePanel->setServerInfo(info);
}

FaultsDialog *MainWindow::editCaptureFaults()
{
    QList<Capture::Fault> current;
    QString error;
    for (const QString &spec : std::as_const(m_captureFaults)) {
        if (const auto fault = Capture::Fault::parse(spec, &error))
            current.append(*fault);
    }
    auto *dialog = new FaultsDialog(current, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &FaultsDialog::faultsAccepted, this, [this](const QList<Capture::Fault> &faults) {
        m_capture->setFaults(faults);
        m_captureFaults.clear();
        for (const Capture::Fault &f : faults)
            m_captureFaults.append(f.toString());
        m_settings->setValue(QStringLiteral("capture/faults"), m_captureFaults);
        updateCaptureInfo();
    });
    dialog->show();
    return dialog;
}

void MainWindow::useCaptureServer()
{
    if (m_capture->isListening())
        m_connection->setProfile(captureProfile());
}

void MainWindow::cancel()
{
    m_controller->cancel();
}

void MainWindow::onProgress(qint64 sent, qint64 total, double bytesPerSecond)
{
    if (total > 0)
        m_progress->setValue(int(std::min<qint64>(1000, sent * 1000 / total)));
    QString text = QStringLiteral("Sending: %1").arg(humanBytes(double(sent)));
    if (total > 0)
        text += QStringLiteral(" of %1").arg(humanBytes(double(total)));
    if (bytesPerSecond > 0) {
        text += QStringLiteral(", %1/s").arg(humanBytes(bytesPerSecond));
        if (total > sent)
            text += QStringLiteral(", %1 s left").arg(double(total - sent) / bytesPerSecond, 0, 'f', 1);
    }
    m_status->setText(text);
}

void MainWindow::onFinished(const SendResult &result)
{
    qint64 sessionId = 0;
    recordSend(result, &sessionId);
    m_results->showResult(result);
    m_transcript->showOutcome(result);
    m_warnings->appendText(result.warnings);
    if (result.accepted && !result.error.isError()) {
        const QStringList refused = result.refusedRecipients();
        m_status->setText(refused.isEmpty()
                              ? QStringLiteral("Sent: %1").arg(result.message.desc.section(u'\n', 0, 0))
                              : QStringLiteral("Sent, but %1 recipient(s) refused: %2")
                                    .arg(refused.size())
                                    .arg(refused.join(QStringLiteral(", "))));
        // Sent to the built-in capture server: show what arrived there.
        const ConnectionSettings target = m_connection->profile().settings;
        const bool toCapture = m_capture->isListening() && target.host == u"127.0.0.1"
                               && (target.port == m_capture->port() || target.port == m_capture->tlsPort());
        const QList<Capture::StoredMessage> newest =
            toCapture ? m_capture->store()->page(0, 1) : QList<Capture::StoredMessage>();
        if (!newest.isEmpty())
            m_capturePanel->selectMessage(newest.constFirst().id);
        m_tabs->setCurrentWidget(toCapture ? static_cast<QWidget *>(m_capturePanel) : m_results);
    } else {
        // Which step failed and why, in words (RFC 5321 4.2 codes, RFC 3463 enhanced codes).
        const SmtpError &e = result.error;
        QString text = QStringLiteral("Failed at %1: %2").arg(e.step.isEmpty() ? QStringLiteral("send") : e.step,
                                                               e.message);
        const QString why = ReplyExplainer::explainError(e);
        if (!why.isEmpty())
            text += QStringLiteral("\n") + why;
        m_status->setText(text);
        m_tabs->setCurrentWidget(m_transcript);
    }
    m_outboxControl->fileOutcome(result, sessionId, m_pending.origin, m_pending.outboxId, m_pending.state,
                                 m_pending.profileName);
    m_pending = {};
    refreshHistory();
    m_outboxControl->sendFinished();
}

void MainWindow::openEml()
{
    const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Open message"), QString(),
                                                      QStringLiteral("Messages (*.eml);;All files (*)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!m_composer->openEml(path, &error))
        QMessageBox::warning(this, QStringLiteral("Open message"), error);
    else
        m_outboxControl->forgetComposerItem(); // another message now
}

void MainWindow::saveEml()
{
    const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Save message"), QString(),
                                                      QStringLiteral("Messages (*.eml)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!m_composer->saveEml(path, &error))
        QMessageBox::warning(this, QStringLiteral("Save message"), error);
}

void MainWindow::saveTranscript()
{
    const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Save transcript"), QString(),
                                                      QStringLiteral("Text (*.txt)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!m_transcript->saveTo(path, &error))
        QMessageBox::warning(this, QStringLiteral("Save transcript"), error);
}

void MainWindow::exportEvents()
{
    const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Export events"), QString(),
                                                      QStringLiteral("Tab-separated (*.tsv)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!m_eventLog->exportTo(path, &error))
        QMessageBox::warning(this, QStringLiteral("Export events"), error);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    m_controller->cancel();
    // The composer kept as a draft unless empty, sent or in the outbox; the
    // clean-exit mark written.
    m_drafts->keepOnClose();
    m_settings->setValue(QStringLiteral("window/geometry"), saveGeometry());
    m_settings->setValue(QStringLiteral("window/state"), saveState());
    m_settings->setValue(QStringLiteral("window/splitter"), m_splitter->saveState());
    m_settings->sync();
    QMainWindow::closeEvent(event);
}

// History, drafts and outbox
// ------------------------------------

void MainWindow::openHistory()
{
    // Tests and portable setups point "history/path" elsewhere; the default is
    // the data folder (XDG_DATA_HOME honoured).
    const QString path = m_settings->value(HistoryPathKey, Store::HistoryStore::defaultPath()).toString();
    auto store = std::make_unique<Store::HistoryStore>();
    QString error;
    if (!store->open(path, &error)) {
        // Everything else works without it: say so where the user looks.
        m_status->setText(QStringLiteral("History is off: %1").arg(error));
        auto *note = new QLabel(QStringLiteral("The history database could not be opened, so sessions, drafts "
                                               "and the outbox are not kept.\n%1")
                                    .arg(error),
                                this);
        note->setAccessibleName(QStringLiteral("History unavailable"));
        note->setWordWrap(true);
        note->setAlignment(Qt::AlignCenter);
        note->setTextInteractionFlags(Qt::TextSelectableByMouse);
        m_pages->addTab(note, QStringLiteral("&History"));
        m_outboxControl->setStore(nullptr);
        return;
    }
    m_store = std::move(store);
    m_drafts->setStore(m_store.get());
    m_outboxControl->setStore(m_store.get());
    m_history = new HistoryView(m_store.get(), m_settings, this);
    m_pages->addTab(m_history, QStringLiteral("&History"));
    m_pages->setTabToolTip(m_pages->indexOf(m_history),
                           QStringLiteral("Every stored send and diagnosis: read, search, compare, export"));
    connect(m_history, &HistoryView::retentionChanged, this, [this](const Store::Retention &retention) {
        QString why;
        if (m_store->prune(retention, &why) < 0 || !why.isEmpty())
            m_status->setText(QStringLiteral("History pruning failed: %1").arg(why));
        refreshHistory();
    });
    // Once at start, so the file stays bounded even when the window runs rarely.
    QString why;
    m_store->prune(m_history->retention(), &why);
    if (!why.isEmpty())
        m_status->setText(QStringLiteral("History pruning failed: %1").arg(why));
    refreshHistory();
    m_outboxControl->refresh();
    m_drafts->offerAtStart();
}

void MainWindow::refreshHistory()
{
    if (m_history)
        m_history->refresh();
}

void MainWindow::recordSend(const SendResult &result, qint64 *sessionId)
{
    *sessionId = 0;
    if (!m_store)
        return;
    Store::SessionRecord record = Store::recordFromSend(result, Store::SessionKind::Send, m_lastUsage,
                                                        messageBytes(m_pending.message.get()));
    record.source = QStringLiteral("window");
    record.profile = m_pending.profileName;
    record.user = m_pending.user;
    // The settings the session was made with (never a secret), as the command line records them.
    record.result.insert(QStringLiteral("settings"), m_pending.settings);
    // What the result cannot say (a send that failed before MAIL has no
    // envelope in it): the message's own subject and envelope.
    record.subject = m_pending.state.value(QStringLiteral("subject")).toString();
    if (const auto *eml = dynamic_cast<const EmlMessage *>(m_pending.message.get()); eml && record.subject.isEmpty())
        record.subject = eml->subject();
    if (m_pending.message) {
        record.from = m_pending.message->envelopeSender();
        if (record.recipients.isEmpty())
            record.recipients = m_pending.message->envelopeRecipients();
    }
    QString error;
    *sessionId = m_store->add(record, &error);
    if (*sessionId == 0)
        qWarning("the send was not stored in the history: %s", qPrintable(error));
}

// The draft and outbox slots, kept on the window for its menus and tests.

bool MainWindow::saveDraft()
{
    return m_drafts->save();
}

void MainWindow::restoreOfferedDraft()
{
    m_drafts->restoreOffered();
}

void MainWindow::discardOfferedDraft()
{
    m_drafts->discardOffered();
}

void MainWindow::retryOutboxItem(qint64 id)
{
    m_outboxControl->retry(id);
}

void MainWindow::editOutboxItem(qint64 id)
{
    m_outboxControl->edit(id);
}

void MainWindow::discardOutboxItem(qint64 id)
{
    m_outboxControl->discard(id);
}

void MainWindow::retryAllOutboxItems()
{
    m_outboxControl->retryAll();
}
