// The main window end to end: real widgets on the offscreen platform,
// sending to the real Postfix + Dovecot on loopback and to scripted servers.
// Checks that the live views fill during a send, that the window keeps
// responding while the engine waits on the network, that Cancel stops at once,
// and that an invalid address keeps Send disabled with the reason shown.
// Issue 8: every send and diagnosis lands in the history database; a failed
// send waits in the outbox and leaves it only once a server accepted it.

#include "sanitize/bounds.h"
#include "testservers.h"
#include "capture/captureserver.h"
#include "capture/capturepanel.h"
#include "capture/faultsdialog.h"
#include "composer/composerwidget.h"
#include "connection/connectionpanel.h"
#include "diagnose/diagnoseview.h"
#include "history/historyview.h"
#include "live/eventlogmodel.h"
#include "live/liveviews.h"
#include "main/mainwindow.h"
#include "main/sendcontroller.h"
#include "outbox/outboxpanel.h"
#include "store/historystore.h"

#include <QElapsedTimer>
#include <QFile>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

namespace {

const QString Sender = QStringLiteral("tester@example.test");

// The window's settings, captured messages and history live in a folder of the
// test's own, never the user's.
QSettings &isolated(QSettings &settings, const QTemporaryDir &dir)
{
    settings.setValue(QStringLiteral("capture/folder"), dir.filePath(QStringLiteral("capture")));
    settings.setValue(QStringLiteral("history/path"), dir.filePath(QStringLiteral("history.sqlite")));
    return settings;
}

// A loopback port nobody listens on: bound, then released.
quint16 closedPort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}

QList<Store::SessionSummary> sessions(Store::HistoryStore *store, std::optional<Store::SessionKind> kind = {})
{
    Store::SessionFilter filter;
    filter.kind = kind;
    return store->list(filter); // newest first
}

struct Window
{
    QTemporaryDir dir;
    QSettings settings{dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat};
    MainWindow window{&isolated(settings, dir)};
};

ConnectionProfile submissionProfile(const MailEnv &env)
{
    ConnectionProfile p;
    p.name = QStringLiteral("test submission");
    p.settings.host = QStringLiteral("127.0.0.1");
    p.settings.port = env.submissionPort;
    p.settings.security = ConnectionSettings::Security::StartTlsRequired;
    p.settings.user = env.user;
    p.settings.password = env.password;
    p.settings.caFile = env.caFile;
    p.settings.peerName = env.certName;
    p.settings.connectTimeoutMs = 10000;
    p.settings.readTimeoutMs = 15000;
    return p;
}

HostileServer::Options scripted(const QString &scenario)
{
    HostileServer::Options o;
    o.scenarios = {scenario};
    return o;
}

// A plain-text profile for a scripted server on loopback.
ConnectionProfile plainProfile(quint16 port, int readTimeoutMs)
{
    ConnectionProfile p;
    p.settings.host = QStringLiteral("127.0.0.1");
    p.settings.port = port;
    p.settings.security = ConnectionSettings::Security::Plain;
    p.settings.readTimeoutMs = readTimeoutMs;
    return p;
}

void fillComposer(ComposerWidget *c, const QString &to, const QString &subject)
{
    c->setField(QStringLiteral("from"), Sender);
    c->setField(QStringLiteral("to"), to);
    c->setField(QStringLiteral("subject"), subject);
    c->setField(QStringLiteral("text"), QStringLiteral("Hello from the GUI test.\n"));
}

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void historyPageAndStoreOpen();
    void unusableHistoryPathKeepsTheWindowWorking();
    void sendsAndDiagnosisAreStored();
    void failedSendWaitsInTheOutboxUntilRetryAccepted();
    void editFromTheOutboxLeavesOnlyWhenSent();
    void discardFromTheOutbox();
    void firstRunSendsToTheCaptureServer();
    void retargetedCaptureProfileIsNotNamedForIt();
    void diagnoseChecksTheCurrentConnection();
    void captureFaultsReproduceFailures();
    void layoutRestoredBetweenRuns();
    void invalidAddressBlocksSend();
    void sendFillsTheLiveViews_data();
    void sendFillsTheLiveViews();
    void largeSendShowsProgressLive();
    void failedStepIsNamed();
    void cancelStopsAtOnceAndStaysUsable();
};

void TestMainWindow::initTestCase()
{
    // Anything left on a default path goes to a test location, not the user's.
    QStandardPaths::setTestModeEnabled(true);
}

void TestMainWindow::historyPageAndStoreOpen()
{
    Window w;
    w.window.show();
    QVERIFY(w.window.historyStore());
    QCOMPARE(w.window.historyStore()->path(), w.dir.filePath(QStringLiteral("history.sqlite")));
    QCOMPARE(w.window.pages()->count(), 3);
    QCOMPARE(w.window.pages()->widget(2), w.window.historyView());
    QVERIFY(w.window.pages()->tabText(2).contains(QStringLiteral("History")));
    QCOMPARE(w.window.tabs()->tabText(w.window.tabs()->indexOf(w.window.outboxPanel())), QStringLiteral("&Outbox (0)"));
}

void TestMainWindow::unusableHistoryPathKeepsTheWindowWorking()
{
    // The database's folder cannot be made (a file is in the way): the status
    // line says so, the History page says why, and sending still works.
    QTemporaryDir dir;
    QSettings settings(dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
    isolated(settings, dir);
    QFile blocker(dir.filePath(QStringLiteral("notafolder")));
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    settings.setValue(QStringLiteral("history/path"), dir.filePath(QStringLiteral("notafolder/history.sqlite")));
    MainWindow window(&settings);
    window.show();
    QVERIFY(!window.historyStore());
    QVERIFY(!window.historyView());
    QCOMPARE(window.pages()->count(), 3);
    fillComposer(window.composer(), QStringLiteral("bob@example.test"), QStringLiteral("no history"));
    QTRY_VERIFY_WITH_TIMEOUT(window.sendButton()->isEnabled(), 5000);
    QSignalSpy finished(window.controller(), &SendController::finished);
    window.send();
    QVERIFY(finished.wait(15000));
    QVERIFY2(finished.at(0).at(0).value<SendResult>().accepted, qPrintable(window.statusText()));
    QTRY_COMPARE_WITH_TIMEOUT(window.capturePanel()->messageCount(), 1, 2000);
    QVERIFY(window.close());
}

void TestMainWindow::sendsAndDiagnosisAreStored()
{
    Window w;
    w.window.show();
    Store::HistoryStore *store = w.window.historyStore();
    QVERIFY(store);
    for (int i = 0; i < 2; ++i) {
        fillComposer(w.window.composer(), QStringLiteral("bob@example.test"), QStringLiteral("stored %1").arg(i));
        QTRY_VERIFY_WITH_TIMEOUT(w.window.sendButton()->isEnabled(), 5000);
        QSignalSpy finished(w.window.controller(), &SendController::finished);
        w.window.send();
        QVERIFY(finished.wait(15000));
    }
    const QList<Store::SessionSummary> sends = sessions(store, Store::SessionKind::Send);
    QCOMPARE(sends.size(), 2);
    QCOMPARE(sends.at(0).subject, QStringLiteral("stored 1"));
    QCOMPARE(sends.at(0).outcome, QStringLiteral("accepted"));
    const std::optional<Store::SessionRecord> record = store->session(sends.at(0).id);
    QVERIFY(record);
    QCOMPARE(record->source, QStringLiteral("window"));
    QCOMPARE(record->profile, w.window.captureProfile().name);
    QCOMPARE(record->target, QStringLiteral("127.0.0.1:%1").arg(w.window.captureServer()->port()));
    QCOMPARE(record->recipients, QStringList{QStringLiteral("bob@example.test")});
    QVERIFY(record->transcript.size() > 5);
    QVERIFY(!record->certificateChain.isEmpty()); // STARTTLS to the capture server
    // The settings the session was made with, without a secret, as the command line records them.
    QCOMPARE(record->result.value(QStringLiteral("settings")).toMap(),
             w.window.connectionPanel()->profile().settings.toVariantMap());
    QVERIFY(!record->result.value(QStringLiteral("settings")).toMap().contains(QStringLiteral("password")));
    // The message as sent, when small: its Subject is in it.
    QVERIFY2(record->message.contains("Subject: stored 1"), record->message.left(400).constData());
    QVERIFY(record->usage.value(QStringLiteral("bytes_sent")).toLongLong() > record->messageBytes);
    // The History page lists them.
    QCOMPARE(w.window.historyView()->shownIds().size(), 2);

    DiagnoseView *view = w.window.diagnoseView();
    view->setDnsLookups(false);
    QSignalSpy diagnosed(view, &DiagnoseView::finished);
    w.window.diagnose();
    QVERIFY(diagnosed.wait(60000));
    QTRY_COMPARE_WITH_TIMEOUT(sessions(store, Store::SessionKind::Diagnosis).size(), 1, 2000);
    const Store::SessionSummary diagnosis = sessions(store, Store::SessionKind::Diagnosis).constFirst();
    QCOMPARE(diagnosis.outcome, Diagnostics::verdictName(view->report().overall()));
    QCOMPARE(w.window.historyView()->shownIds().size(), 3);
    QCOMPARE(w.window.historyView()->shownIds().constFirst(), diagnosis.id);
}

void TestMainWindow::failedSendWaitsInTheOutboxUntilRetryAccepted()
{
    // A send to a closed port fails at connect: the message goes to the outbox
    // with that error and is not marked sent. Retry, with the connection now on
    // the capture server (the failed profile is not a saved one, so the current
    // connection is used), is accepted: the item leaves the outbox, and the
    // history has both attempts.
    Window w;
    w.window.show();
    const quint16 port = closedPort();
    QVERIFY(port != 0);
    ConnectionProfile gone = plainProfile(port, 5000);
    gone.name = QStringLiteral("unsaved closed port");
    gone.settings.connectTimeoutMs = 5000;
    w.window.connectionPanel()->setProfile(gone);
    fillComposer(w.window.composer(), QStringLiteral("bob@example.test"), QStringLiteral("waits in the outbox"));
    QTRY_VERIFY_WITH_TIMEOUT(w.window.sendButton()->isEnabled(), 5000);
    QSignalSpy finished(w.window.controller(), &SendController::finished);
    w.window.send();
    QVERIFY(finished.wait(15000));
    QVERIFY(!finished.at(0).at(0).value<SendResult>().accepted);

    OutboxPanel *outbox = w.window.outboxPanel();
    QCOMPARE(outbox->count(), 1);
    const Store::OutboxItem item = outbox->items().constFirst();
    QCOMPARE(item.attempts, 1);
    QCOMPARE(item.profile, gone.name);
    QCOMPARE(item.fields.value(QStringLiteral("subject")).toString(), QStringLiteral("waits in the outbox"));
    QVERIFY2(item.lastError.contains(QStringLiteral("connect"), Qt::CaseInsensitive), qPrintable(item.lastError));
    QVERIFY(item.lastSessionId != 0);
    QVERIFY2(outbox->rowTexts().constFirst().contains(QStringLiteral("waits in the outbox")),
             qPrintable(outbox->rowTexts().join(u'\n')));
    QCOMPARE(w.window.tabs()->tabText(w.window.tabs()->indexOf(outbox)), QStringLiteral("&Outbox (1)"));
    QVERIFY2(w.window.statusText().contains(QStringLiteral("outbox")), qPrintable(w.window.statusText()));
    QCOMPARE(sessions(w.window.historyStore()).constFirst().outcome, QStringLiteral("failed"));

    // A second failed retry counts as an attempt, the item stays.
    QVERIFY(outbox->select(item.id));
    outbox->retryButton()->click();
    QVERIFY(finished.wait(15000));
    QCOMPARE(outbox->count(), 1);
    QCOMPARE(outbox->items().constFirst().attempts, 2);

    // The server "comes back": the capture server, as the current connection.
    w.window.useCaptureServer();
    QTRY_VERIFY_WITH_TIMEOUT(outbox->retryButton()->isEnabled(), 5000);
    QVERIFY(outbox->select(item.id));
    outbox->retryButton()->click();
    QVERIFY(finished.wait(15000));
    const auto result = finished.constLast().at(0).value<SendResult>();
    QVERIFY2(result.accepted, qPrintable(result.error.toString()));
    QCOMPARE(outbox->count(), 0);
    QCOMPARE(w.window.historyStore()->outbox().size(), 0);
    QCOMPARE(w.window.tabs()->tabText(w.window.tabs()->indexOf(outbox)), QStringLiteral("&Outbox (0)"));
    QTRY_COMPARE_WITH_TIMEOUT(w.window.capturePanel()->messageCount(), 1, 2000);
    QTRY_VERIFY_WITH_TIMEOUT(w.window.capturePanel()->headersText().contains(QStringLiteral("waits in the outbox")), 5000);
    // Every attempt is in the history: failed, failed, accepted (in the order
    // they were stored; start times of sessions a few ms apart may tie).
    QList<Store::SessionSummary> all = sessions(w.window.historyStore());
    std::sort(all.begin(), all.end(), [](const auto &a, const auto &b) { return a.id < b.id; });
    QCOMPARE(all.size(), 3);
    QCOMPARE(all.at(0).outcome, QStringLiteral("failed"));
    QCOMPARE(all.at(0).id, item.lastSessionId);
    QCOMPARE(all.at(1).outcome, QStringLiteral("failed"));
    QCOMPARE(all.at(2).outcome, QStringLiteral("accepted"));
    for (const Store::SessionSummary &s : std::as_const(all))
        QCOMPARE(s.subject, QStringLiteral("waits in the outbox"));
    QCOMPARE(w.window.historyView()->shownIds().size(), 3);
}

void TestMainWindow::editFromTheOutboxLeavesOnlyWhenSent()
{
    Window w;
    w.window.show();
    ConnectionProfile gone = plainProfile(closedPort(), 5000);
    gone.name = QStringLiteral("unsaved closed port");
    w.window.connectionPanel()->setProfile(gone);
    fillComposer(w.window.composer(), QStringLiteral("bob@example.test"), QStringLiteral("edit me"));
    QTRY_VERIFY_WITH_TIMEOUT(w.window.sendButton()->isEnabled(), 5000);
    QSignalSpy finished(w.window.controller(), &SendController::finished);
    w.window.send();
    QVERIFY(finished.wait(15000));
    QCOMPARE(w.window.outboxPanel()->count(), 1);
    const qint64 id = w.window.outboxPanel()->items().constFirst().id;

    // Edit: the composer gets it back, the item stays until it is sent.
    w.window.composer()->setState({});
    QVERIFY(w.window.outboxPanel()->select(id));
    w.window.outboxPanel()->editButton()->click();
    QCOMPARE(w.window.composer()->state().value(QStringLiteral("subject")).toString(), QStringLiteral("edit me"));
    QCOMPARE(w.window.pages()->currentIndex(), 0);
    QCOMPARE(w.window.outboxPanel()->count(), 1);
    w.window.composer()->setField(QStringLiteral("subject"), QStringLiteral("edited, then sent"));
    // Failing again replaces the item (one message, one item) with the edit.
    QTRY_VERIFY_WITH_TIMEOUT(w.window.sendButton()->isEnabled(), 5000);
    w.window.send();
    QVERIFY(finished.wait(15000));
    QCOMPARE(w.window.outboxPanel()->count(), 1);
    QCOMPARE(w.window.outboxPanel()->items().constFirst().fields.value(QStringLiteral("subject")).toString(),
             QStringLiteral("edited, then sent"));

    w.window.useCaptureServer();
    QTRY_VERIFY_WITH_TIMEOUT(w.window.sendButton()->isEnabled(), 5000);
    w.window.send();
    QVERIFY(finished.wait(15000));
    QVERIFY(finished.constLast().at(0).value<SendResult>().accepted);
    QCOMPARE(w.window.outboxPanel()->count(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(w.window.capturePanel()->messageCount(), 1, 2000);
}

void TestMainWindow::discardFromTheOutbox()
{
    Window w;
    w.window.show();
    ConnectionProfile gone = plainProfile(closedPort(), 5000);
    w.window.connectionPanel()->setProfile(gone);
    fillComposer(w.window.composer(), QStringLiteral("bob@example.test"), QStringLiteral("discard me"));
    QTRY_VERIFY_WITH_TIMEOUT(w.window.sendButton()->isEnabled(), 5000);
    QSignalSpy finished(w.window.controller(), &SendController::finished);
    w.window.send();
    QVERIFY(finished.wait(15000));
    QCOMPARE(w.window.outboxPanel()->count(), 1);
    w.window.outboxPanel()->discardButton()->click();
    QCOMPARE(w.window.outboxPanel()->count(), 0);
    QCOMPARE(w.window.historyStore()->outbox().size(), 0);
    // The session itself stays in the history.
    QCOMPARE(sessions(w.window.historyStore()).size(), 1);
}

void TestMainWindow::firstRunSendsToTheCaptureServer()
{
    // A fresh start: the target is the built-in capture server (STARTTLS, its own
    // CA verified); compose, send, and the message is in the capture view within
    // a second.
    Window w;
    w.window.show();
    QVERIFY(w.window.captureServer()->isListening());
    const ConnectionProfile p = w.window.connectionPanel()->profile();
    QCOMPARE(p.settings.host, QStringLiteral("127.0.0.1"));
    QCOMPARE(p.settings.port, w.window.captureServer()->port());
    QCOMPARE(p.settings.security, ConnectionSettings::Security::StartTlsRequired);
    QVERIFY(p.settings.verifyPeer);
    fillComposer(w.window.composer(), QStringLiteral("bob@example.test"), QStringLiteral("first message"));
    QTRY_VERIFY_WITH_TIMEOUT(w.window.sendButton()->isEnabled(), 5000);
    QCOMPARE(w.window.capturePanel()->messageCount(), 0);

    QSignalSpy finished(w.window.controller(), &SendController::finished);
    QElapsedTimer t;
    t.start();
    w.window.send();
    QTRY_VERIFY_WITH_TIMEOUT(w.window.capturePanel()->messageCount() == 1, 1000);
    qInfo("sent and shown in the capture view in %lld ms", t.elapsed());
    QVERIFY(finished.wait(5000) || finished.size() == 1);
    const auto result = finished.at(0).at(0).value<SendResult>();
    QVERIFY2(result.accepted, qPrintable(result.error.toString()));
    QVERIFY(result.tls.verified);
    QTRY_COMPARE_WITH_TIMEOUT(w.window.tabs()->currentWidget(), w.window.capturePanel(), 2000);
    QTRY_VERIFY_WITH_TIMEOUT(w.window.capturePanel()->headersText().contains(QStringLiteral("first message")), 5000);
}

void TestMainWindow::retargetedCaptureProfileIsNotNamedForIt()
{
    // The first-run profile names the capture server and trusts its CA. Pointed
    // at another port in the panel, it is neither: the send and the outbox item
    // it leaves do not say "Local capture server", and the capture CA is not
    // offered to the other server.
    Window w;
    w.window.show();
    QVERIFY(w.window.captureServer()->isListening());
    const ConnectionProfile capture = w.window.connectionPanel()->profile();
    QCOMPARE(capture.name, QStringLiteral("Local capture server"));
    QVERIFY(!capture.settings.caFile.isEmpty());
    const quint16 port = closedPort();
    QVERIFY(port != 0);
    auto *portSpin = w.window.connectionPanel()->findChild<QSpinBox *>(QStringLiteral("port"));
    QVERIFY(portSpin);
    portSpin->setValue(port);
    const ConnectionProfile retargeted = w.window.connectionPanel()->profile();
    QVERIFY(retargeted.name != capture.name);
    QVERIFY(retargeted.settings.caFile.isEmpty());
    QVERIFY(w.window.connectionPanel()->isModified());

    fillComposer(w.window.composer(), QStringLiteral("bob@example.test"), QStringLiteral("not the capture server"));
    QTRY_VERIFY_WITH_TIMEOUT(w.window.sendButton()->isEnabled(), 5000);
    QSignalSpy finished(w.window.controller(), &SendController::finished);
    w.window.send();
    QVERIFY(finished.wait(15000));
    QVERIFY(!finished.at(0).at(0).value<SendResult>().accepted);
    QCOMPARE(w.window.outboxPanel()->count(), 1);
    const Store::OutboxItem item = w.window.outboxPanel()->items().constFirst();
    QCOMPARE(item.profile, retargeted.name);
    QVERIFY2(!w.window.outboxPanel()->rowTexts().constFirst().contains(capture.name),
             qPrintable(w.window.outboxPanel()->rowTexts().join(u'\n')));
}

void TestMainWindow::diagnoseChecksTheCurrentConnection()
{
    // Ctrl+D shows the Diagnose page and runs the checklist on the connection the
    // composer would use (the capture server on a fresh start): verified STARTTLS,
    // no failure; the connection panel's changes follow.
    Window w;
    w.window.show();
    DiagnoseView *view = w.window.diagnoseView();
    view->setDnsLookups(false); // no reverse DNS of 127.0.0.1 through the system resolver
    QSignalSpy finished(view, &DiagnoseView::finished);
    w.window.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w.window));
    QTest::keyClick(&w.window, Qt::Key_D, Qt::ControlModifier);
    QCOMPARE(w.window.pages()->currentWidget(), view);
    QVERIFY(view->isRunning());
    QVERIFY(finished.wait(60000));
    QVERIFY2(finished.at(0).at(0).value<Diagnostics::Verdict>() != Diagnostics::Verdict::Fail,
             qPrintable(view->problemsText()));
    const QString scope = QStringLiteral("127.0.0.1:%1").arg(w.window.captureServer()->port());
    QVERIFY(view->selectCheck(scope, QStringLiteral("certificate-chain")));
    QVERIFY2(view->detailsText().contains(QStringLiteral("trusted")), qPrintable(view->detailsText()));
    const QList<Diagnostics::Check> checks = view->report().checksFor(scope);
    QVERIFY(checks.size() > 10);
}

void TestMainWindow::captureFaultsReproduceFailures()
{
    // Faults set in the window reach the capture server at once: an invalid line
    // is named and applies nothing; a valid one makes the next send fail at RCPT.
    Window w;
    w.window.show();
    FaultsDialog *dialog = w.window.editCaptureFaults();
    dialog->setText(QStringLiteral("rcpt:550 5.1.1 No such user\nnonsense:1"));
    dialog->accept();
    QVERIFY(dialog->isVisible());
    QVERIFY2(dialog->problemText().startsWith(QStringLiteral("line 2")), qPrintable(dialog->problemText()));
    dialog->setText(QStringLiteral("rcpt:550 5.1.1 No such user"));
    dialog->accept();
    QTRY_VERIFY_WITH_TIMEOUT(!w.window.findChild<FaultsDialog *>(), 2000);

    fillComposer(w.window.composer(), QStringLiteral("bob@example.test"), QStringLiteral("refused by a fault"));
    QTRY_VERIFY_WITH_TIMEOUT(w.window.sendButton()->isEnabled(), 5000);
    QSignalSpy finished(w.window.controller(), &SendController::finished);
    w.window.send();
    QVERIFY(finished.wait(10000));
    const QString status = w.window.statusText();
    QVERIFY2(status.contains(QStringLiteral("RCPT")) && status.contains(QStringLiteral("550")), qPrintable(status));
    QCOMPARE(w.window.capturePanel()->messageCount(), 0);
    // Kept for the next start.
    QCOMPARE(w.settings.value(QStringLiteral("capture/faults")).toStringList().size(), 1);
}

void TestMainWindow::layoutRestoredBetweenRuns()
{
    QTemporaryDir dir;
    QSettings settings(dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
    isolated(settings, dir);
    QList<int> sizes;
    {
        MainWindow first(&settings);
        first.resize(1100, 700);
        first.show();
        QVERIFY(QTest::qWaitForWindowExposed(&first));
        auto *splitter = first.findChild<QSplitter *>(QStringLiteral("mainSplitter"));
        QVERIFY(splitter);
        splitter->setSizes({200, 450});
        sizes = splitter->sizes();
        first.tabs()->setCurrentIndex(2);
        first.close();
    }
    MainWindow second(&settings);
    second.show();
    QVERIFY(QTest::qWaitForWindowExposed(&second));
    // Not the default 1280x800 but the saved size. The offscreen platform adds the
    // menu bar's and the page tabs' height to a restored window's height (a real
    // window manager does not).
    qInfo("minimum size %dx%d", second.minimumSizeHint().width(), second.minimumSizeHint().height());
    QVERIFY2(second.width() == 1100 && second.height() >= 700 && second.height() <= 790,
             qPrintable(QStringLiteral("%1x%2").arg(second.width()).arg(second.height())));
    QCOMPARE(second.findChild<QSplitter *>(QStringLiteral("mainSplitter"))->sizes(), sizes);
}

void TestMainWindow::invalidAddressBlocksSend()
{
    Window w;
    w.window.show();
    w.window.connectionPanel()->setProfile(ConnectionProfile{});
    fillComposer(w.window.composer(), QStringLiteral("bob@"), QStringLiteral("invalid"));
    // Validation may be delayed while typing: wait for its verdict.
    QTRY_VERIFY_WITH_TIMEOUT(!w.window.sendButton()->isEnabled(), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(w.window.statusText().contains(QStringLiteral("To")), 5000);
    QVERIFY2(w.window.statusText().contains(QStringLiteral("bob@")), qPrintable(w.window.statusText()));
    // Clicking anyway sends nothing.
    QTest::mouseClick(w.window.sendButton(), Qt::LeftButton);
    QVERIFY(!w.window.controller()->isBusy());

    w.window.composer()->setField(QStringLiteral("to"), QStringLiteral("bob@example.test"));
    QTRY_VERIFY_WITH_TIMEOUT(w.window.sendButton()->isEnabled(), 5000);
}

void TestMainWindow::sendFillsTheLiveViews_data()
{
    QTest::addColumn<bool>("implicitTls");
    QTest::addRow("STARTTLS required, submission port") << false;
    QTest::addRow("implicit TLS, smtps port") << true;
}

void TestMainWindow::sendFillsTheLiveViews()
{
    QFETCH(bool, implicitTls);
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    Window w;
    w.window.show();
    ConnectionProfile profile = submissionProfile(env);
    if (implicitTls) {
        profile.settings.port = env.smtpsPort;
        profile.settings.security = ConnectionSettings::Security::ImplicitTls;
    }
    w.window.connectionPanel()->setProfile(profile);
    const QByteArray marker = uniqueMarker();
    fillComposer(w.window.composer(), QStringLiteral("gui@example.test"), QString::fromLatin1(marker));
    QTRY_VERIFY_WITH_TIMEOUT(w.window.sendButton()->isEnabled(), 5000);

    // The GUI thread keeps turning while the engine works: a timer on it never
    // waits long (the window stays responsive).
    QElapsedTimer gap;
    qint64 longestGapMs = 0;
    QTimer heartbeat;
    heartbeat.setInterval(10);
    QObject::connect(&heartbeat, &QTimer::timeout, &heartbeat, [&] {
        longestGapMs = std::max(longestGapMs, gap.restart());
    });
    QSignalSpy transcriptBatches(w.window.controller(), &SendController::transcriptArrived);
    QSignalSpy finished(w.window.controller(), &SendController::finished);
    gap.start();
    heartbeat.start();
    QTest::mouseClick(w.window.sendButton(), Qt::LeftButton);
    QVERIFY(w.window.controller()->isBusy());
    QVERIFY(w.window.cancelButton()->isEnabled());
    QVERIFY(finished.wait(30000));
    heartbeat.stop();

    const auto result = finished.at(0).at(0).value<SendResult>();
    QVERIFY2(result.accepted, qPrintable(result.error.toString()));
    QCOMPARE(result.tls.implicit, implicitTls);
    QVERIFY(result.tls.verified);
    QVERIFY2(w.window.statusText().startsWith(QStringLiteral("Sent")), qPrintable(w.window.statusText()));
    QVERIFY(w.window.sendButton()->isEnabled());
    // Live views: transcript batches came during the send, events, chart points, result rows.
    QVERIFY(!transcriptBatches.isEmpty());
    QVERIFY(w.window.transcript()->lineCount() > 15); // greeting, EHLO x2, STARTTLS, AUTH, MAIL...
    QVERIFY(w.window.transcript()->text().contains(QStringLiteral("[tls]")));
    QVERIFY(w.window.eventLog()->model()->rowCount() > 10);
    QTRY_VERIFY_WITH_TIMEOUT(w.window.chart()->sentPointCount() > 0, 2000); // redrawn on its own timer
    const QList<QStringList> rows = w.window.results()->recipientRows();
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows.at(0).at(0), QStringLiteral("gui@example.test"));
    QCOMPARE(rows.at(0).at(1), QStringLiteral("250"));
    QCOMPARE(w.window.tabs()->currentWidget(), w.window.results());
    qInfo("longest pause of the GUI thread during the send: %lld ms", longestGapMs);
    QVERIFY2(longestGapMs < Bounds::timeMs(500), qPrintable(QString::number(longestGapMs)));
    // No secret reached the transcript view.
    QVERIFY(!w.window.transcript()->text().contains(env.password));
    QCOMPARE(Maildir::waitFor(env.maildir, marker, 1).size(), 1);
}

void TestMainWindow::largeSendShowsProgressLive()
{
    // A 24 MiB attachment: the progress line and the chart move while it is sent,
    // not only at the end.
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    Window w;
    w.window.show();
    w.window.connectionPanel()->setProfile(submissionProfile(env));
    const QString path = w.dir.filePath(QStringLiteral("large.bin"));
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QByteArray block(1 << 20, Qt::Uninitialized);
        for (int i = 0; i < 24; ++i) {
            block.fill(char('a' + i));
            f.write(block);
        }
    }
    const QByteArray marker = uniqueMarker();
    fillComposer(w.window.composer(), QStringLiteral("large@example.test"), QString::fromLatin1(marker));
    w.window.composer()->addAttachment(path);
    QTRY_VERIFY_WITH_TIMEOUT(w.window.sendButton()->isEnabled(), 5000);

    QSignalSpy progress(w.window.controller(), &SendController::progress);
    QSignalSpy finished(w.window.controller(), &SendController::finished);
    QStringList statusDuring;
    QObject::connect(w.window.controller(), &SendController::progress, &w.window,
                     [&] { statusDuring.append(w.window.statusText()); });
    int chartPointsBeforeEnd = 0;
    QObject::connect(w.window.controller(), &SendController::progress, &w.window,
                     [&] { chartPointsBeforeEnd = w.window.chart()->sentPointCount(); });
    w.window.send();
    QVERIFY(finished.wait(60000));
    const auto result = finished.at(0).at(0).value<SendResult>();
    QVERIFY2(result.accepted, qPrintable(result.error.toString()));
    // Several progress reports before the end, with bytes, total and rate.
    QVERIFY2(progress.size() >= 3, qPrintable(QString::number(progress.size())));
    QVERIFY2(std::any_of(statusDuring.begin(), statusDuring.end(),
                         [](const QString &t) { return t.contains(QStringLiteral(" of ")) && t.contains(QStringLiteral("/s")); }),
             qPrintable(statusDuring.join(u'\n')));
    QVERIFY2(chartPointsBeforeEnd > 0, "the chart had no point before the send ended");
    QCOMPARE(Maildir::waitFor(env.maildir, marker, 1, 30000).size(), 1);
}

void TestMainWindow::failedStepIsNamed()
{
    // A refused recipient: the result names the step and explains the reply.
    REQUIRE_MAILENV();
    HostileServer server;
    QString error;
    QVERIFY2(server.start(scripted(QStringLiteral("refuse-rcpt=nobody@example.test")), &error), qPrintable(error));
    Window w;
    w.window.show();
    w.window.connectionPanel()->setProfile(plainProfile(server.port(), 10000));
    fillComposer(w.window.composer(), QStringLiteral("nobody@example.test"), QStringLiteral("refused"));
    QTRY_VERIFY_WITH_TIMEOUT(w.window.sendButton()->isEnabled(), 5000);
    QSignalSpy finished(w.window.controller(), &SendController::finished);
    w.window.send();
    QVERIFY(finished.wait(20000));
    const QString status = w.window.statusText();
    QVERIFY2(status.contains(QStringLiteral("RCPT")), qPrintable(status));
    QVERIFY2(status.contains(QStringLiteral("550")), qPrintable(status));
    QVERIFY2(!w.window.transcript()->failureExplanation().isEmpty(), qPrintable(status));
    QCOMPARE(w.window.tabs()->currentWidget(), w.window.transcript());
}

void TestMainWindow::cancelStopsAtOnceAndStaysUsable()
{
    REQUIRE_MAILENV();
    HostileServer server;
    QString error;
    QVERIFY2(server.start(scripted(QStringLiteral("silent-at=MAIL")), &error), qPrintable(error));
    Window w;
    w.window.show();
    // A read timeout far beyond the test: only Cancel can end it.
    w.window.connectionPanel()->setProfile(plainProfile(server.port(), 60000));
    fillComposer(w.window.composer(), QStringLiteral("bob@example.test"), QStringLiteral("cancel me"));
    QTRY_VERIFY_WITH_TIMEOUT(w.window.sendButton()->isEnabled(), 5000);
    QSignalSpy finished(w.window.controller(), &SendController::finished);
    w.window.send();
    // Wait until the client is stuck waiting for the reply to MAIL.
    QTRY_VERIFY_WITH_TIMEOUT(w.window.transcript()->text().contains(QStringLiteral("MAIL FROM")), 10000);
    QElapsedTimer t;
    t.start();
    QTest::mouseClick(w.window.cancelButton(), Qt::LeftButton);
    QVERIFY(finished.wait(5000));
    qInfo("cancel took %lld ms", t.elapsed());
    QVERIFY2(t.elapsed() < 2000, qPrintable(QString::number(t.elapsed())));
    QVERIFY2(w.window.statusText().contains(QStringLiteral("cancelled")), qPrintable(w.window.statusText()));
    QVERIFY(!w.window.controller()->isBusy());
    QVERIFY(w.window.sendButton()->isEnabled());
    QVERIFY(!w.window.cancelButton()->isEnabled());
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
