// Screenshots of each main view after a send to the built-in capture server (no
// other server needed). Saved as PNG into $SMTPSCOPE_SCREENSHOT_DIR
// (scripts/screenshots runs this under Xvfb for docs/screenshots), else into a
// temporary folder; either way each image is checked to be a real rendering.

#include "capture/captureserver.h"
#include "capture/capturepanel.h"
#include "composer/composerwidget.h"
#include "connection/connectionpanel.h"
#include "diagnose/diagnoseview.h"
#include "diagnose/waterfallchart.h"
#include "history/historyview.h"
#include "main/mainwindow.h"
#include "main/sendcontroller.h"

#include <QDir>
#include <QImage>
#include <QPushButton>
#include <QSet>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

namespace {

// Saves the window as `name`.png in `dir`, and checks it is a real rendering: text
// and widgets give many distinct colours, a blank does not.
void save(QWidget &window, const QString &dir, const QString &name)
{
    const QString file = QDir(dir).filePath(name + QStringLiteral(".png"));
    const QImage image = window.grab().toImage();
    QVERIFY(image.save(file));
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 7)
        for (int x = 0; x < image.width(); x += 7)
            colours.insert(image.pixel(x, y));
    QVERIFY2(colours.size() > 8, qPrintable(file));
}

} // namespace

class TestScreenshots : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void eachView();
};

void TestScreenshots::eachView()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString outDir = qEnvironmentVariableIsSet("SMTPSCOPE_SCREENSHOT_DIR")
                               ? qEnvironmentVariable("SMTPSCOPE_SCREENSHOT_DIR")
                               : tmp.path();
    QVERIFY(QDir().mkpath(outDir));
    QSettings settings(tmp.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
    settings.setValue(QStringLiteral("capture/folder"), tmp.filePath(QStringLiteral("capture")));
    // Never the user's own history and drafts.
    QStandardPaths::setTestModeEnabled(true);
    settings.setValue(QStringLiteral("history/path"), tmp.filePath(QStringLiteral("history.sqlite")));
    MainWindow window(&settings);
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    // The first-run target: the built-in capture server, through STARTTLS
    // verified against its own CA (nothing leaves the machine).
    QVERIFY(window.captureServer()->isListening());
    ComposerWidget *c = window.composer();
    c->setField(QStringLiteral("from"), QStringLiteral("Alice Example <alice@example.org>"));
    c->setField(QStringLiteral("to"), QStringLiteral("Bob <bob@example.net>, carol@example.com"));
    c->setField(QStringLiteral("subject"), QStringLiteral("Quarterly report ✓"));
    c->setField(QStringLiteral("text"), QStringLiteral("Hello Bob,\n\nthe report is attached.\n\nAlice\n"));
    QTRY_VERIFY_WITH_TIMEOUT(window.sendButton()->isEnabled(), 5000);
    save(window, outDir, QStringLiteral("composer"));
    if (QTest::currentTestFailed())
        return;

    QSignalSpy finished(window.controller(), &SendController::finished);
    window.send();
    QVERIFY(finished.wait(20000));
    QTRY_VERIFY_WITH_TIMEOUT(window.capturePanel()->messageCount() == 1, 5000);
    window.capturePanel()->selectMessage(window.capturePanel()->selectedId().isEmpty()
                                             ? window.captureServer()->store()->messages().constLast().id
                                             : window.capturePanel()->selectedId());

    QTabWidget *tabs = window.tabs();
    const QStringList names = {QStringLiteral("transcript"), QStringLiteral("events"), QStringLiteral("throughput"),
                               QStringLiteral("warnings"), QStringLiteral("result"), QStringLiteral("capture"),
                               QStringLiteral("outbox")};
    QCOMPARE(tabs->count(), names.size());
    for (int i = 0; i < tabs->count(); ++i) {
        tabs->setCurrentIndex(i);
        QTest::qWait(50); // one paint of the new tab (the chart animates nothing)
        save(window, outDir, names.at(i));
        if (QTest::currentTestFailed())
            return;
    }

    // The Diagnose page after a run on the same connection.
    DiagnoseView *diagnose = window.diagnoseView();
    diagnose->setDnsLookups(false); // no reverse DNS through the system resolver
    QSignalSpy diagnosed(diagnose, &DiagnoseView::finished);
    window.diagnose();
    QVERIFY(diagnosed.wait(60000));
    QVERIFY(diagnose->selectCheck(QStringLiteral("127.0.0.1:%1").arg(window.captureServer()->port()),
                                  QStringLiteral("certificate-expiry")));
    WaterfallChart *chart = diagnose->waterfallChart();
    QVERIFY(chart->barCount() > 5);
    QTRY_COMPARE_WITH_TIMEOUT(chart->drawnBarCount(), chart->barCount(), 5000);
    QTest::qWait(100); // the chart's paint after its series changed
    save(window, outDir, QStringLiteral("diagnose"));
    if (QTest::currentTestFailed())
        return;

    // The History page: the send and the diagnosis just made, the send opened.
    HistoryView *history = window.historyView();
    QVERIFY(history);
    window.pages()->setCurrentWidget(history);
    history->refresh();
    QTRY_COMPARE_WITH_TIMEOUT(history->shownIds().size(), 2, 5000);
    QVERIFY(history->select({history->shownIds().constLast()}));
    QTest::qWait(50);
    save(window, outDir, QStringLiteral("history"));
}

QTEST_MAIN(TestScreenshots)
#include "tst_screenshots.moc"
