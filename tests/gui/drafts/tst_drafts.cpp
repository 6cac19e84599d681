// Drafts: the composer is autosaved into the history database every
// MainWindow::AutosaveMs after an edit and on close; a draft that a run left
// behind without closing cleanly (crash, kill -9) is offered back by the next
// window, attachments included (by path; missing files named); a clean close
// brings the composer back as it was without asking; a sent message leaves no
// draft behind.
//
// Every window uses a settings file and a history database in a temporary
// folder, and QStandardPaths test mode: the user's data is never touched.

#include "capture/capturepanel.h"
#include "composer/composerwidget.h"
#include "main/mainwindow.h"
#include "main/sendcontroller.h"
#include "store/historystore.h"

#include <QApplication>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <cstdio>

namespace {

const QString KillHelperArg = QStringLiteral("--kill-helper");

void isolate(QSettings &settings, const QString &dir)
{
    settings.setValue(QStringLiteral("capture/folder"), dir + QStringLiteral("/capture"));
    settings.setValue(QStringLiteral("history/path"), dir + QStringLiteral("/history.sqlite"));
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

void fill(ComposerWidget *c, const QString &subject)
{
    c->setField(QStringLiteral("from"), QStringLiteral("drafter@example.test"));
    c->setField(QStringLiteral("to"), QStringLiteral("bob@example.test, carol@example.test"));
    c->setField(QStringLiteral("subject"), subject);
    c->setField(QStringLiteral("text"), QStringLiteral("Half written...\nsecond line\n"));
    c->setField(QStringLiteral("html"), QStringLiteral("<p>Half written</p>"));
}

// The helper run as a child: a window on the given folder's settings, typing, an
// autosave waited for, then "SAVED <id>" on stdout and it waits to be killed.
int runKillHelper(const QString &dir, const QString &attachment)
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings settings(dir + QStringLiteral("/settings.ini"), QSettings::IniFormat);
    isolate(settings, dir);
    MainWindow window(&settings);
    window.show();
    fill(window.composer(), QStringLiteral("killed while composing"));
    window.composer()->addAttachment(attachment);
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &window, [&] {
        if (window.currentDraftId() != 0) {
            poll.stop();
            std::printf("SAVED %lld\n", static_cast<long long>(window.currentDraftId()));
            std::fflush(stdout);
        }
    });
    poll.start(50);
    // The parent kills it; a minute is the upper bound if it never does.
    QTimer::singleShot(60000, qApp, [] { QCoreApplication::exit(3); });
    return QApplication::exec();
}

} // namespace

class TestDrafts : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void autosaveThenCrashOffersTheDraft();
    void restoreNamesMissingAttachments();
    void discardRemovesTheDraft();
    void cleanCloseBringsTheComposerBack();
    void sentThenCleanCloseKeepsNoDraft();
    void killedProcessDraftIsRestored();

private:
    struct Folder
    {
        QTemporaryDir dir;
        QSettings settings{dir.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat};
        Folder() { isolate(settings, dir.path()); }
    };
    QString makeAttachment(const QTemporaryDir &dir, const QString &name);
};

void TestDrafts::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
}

QString TestDrafts::makeAttachment(const QTemporaryDir &dir, const QString &name)
{
    const QString path = dir.filePath(name);
    if (!writeFile(path, "attachment " + name.toUtf8()))
        return {};
    return QFileInfo(path).absoluteFilePath();
}

void TestDrafts::autosaveThenCrashOffersTheDraft()
{
    Folder f;
    const QString a1 = makeAttachment(f.dir, QStringLiteral("one.txt"));
    const QString a2 = makeAttachment(f.dir, QStringLiteral("two.txt"));
    QVariantMap typed;
    {
        auto *first = new MainWindow(&f.settings);
        first->show();
        QVERIFY(first->historyStore());
        fill(first->composer(), QStringLiteral("autosaved subject"));
        first->composer()->addAttachment(a1);
        first->composer()->addAttachment(a2);
        typed = first->composer()->state();
        // Nothing is saved at once; within the autosave interval it is.
        QCOMPARE(first->historyStore()->drafts().size(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(first->historyStore()->drafts().size() == 1, MainWindow::AutosaveMs + 3000);
        const Store::Draft saved = first->historyStore()->drafts().constFirst();
        QCOMPARE(saved.fields.value(QStringLiteral("subject")).toString(), QStringLiteral("autosaved subject"));
        QCOMPARE(saved.attachments, QStringList({a1, a2}));
        // A later edit updates the same draft, not a new one.
        first->composer()->setField(QStringLiteral("subject"), QStringLiteral("autosaved subject, edited"));
        typed = first->composer()->state();
        QTRY_COMPARE_WITH_TIMEOUT(first->historyStore()->drafts().constFirst().fields.value(QStringLiteral("subject"))
                                      .toString(),
                                  QStringLiteral("autosaved subject, edited"), MainWindow::AutosaveMs + 3000);
        QCOMPARE(first->historyStore()->drafts().size(), 1);
        // A crash: the window goes without a close (no closeEvent, no clean mark).
        delete first;
    }

    MainWindow second(&f.settings);
    second.show();
    QVERIFY(second.draftOffered());
    QVERIFY2(second.draftBarText().contains(QStringLiteral("autosaved subject, edited")),
             qPrintable(second.draftBarText()));
    // Offered, not imposed: the composer is empty until Restore.
    QCOMPARE(second.composer()->state().value(QStringLiteral("subject")).toString(), QString());
    second.restoreOfferedDraft();
    QVERIFY(!second.draftOffered());
    QCOMPARE(second.composer()->state(), typed);
    QCOMPARE(second.draftBarText(), QString()); // nothing missing: the bar is gone
    QTRY_VERIFY_WITH_TIMEOUT(second.sendButton()->isEnabled(), 5000);
}

void TestDrafts::restoreNamesMissingAttachments()
{
    Folder f;
    const QString kept = makeAttachment(f.dir, QStringLiteral("kept.pdf"));
    const QString lost = makeAttachment(f.dir, QStringLiteral("lost.pdf"));
    {
        f.settings.setValue(QStringLiteral("drafts/autosaveMs"), 200);
        auto *first = new MainWindow(&f.settings);
        fill(first->composer(), QStringLiteral("with attachments"));
        first->composer()->addAttachment(kept);
        first->composer()->addAttachment(lost);
        QTRY_VERIFY_WITH_TIMEOUT(first->currentDraftId() != 0, 5000);
        delete first;
    }
    QVERIFY(QFile::remove(lost));
    MainWindow second(&f.settings);
    second.show();
    QVERIFY(second.draftOffered());
    second.restoreOfferedDraft();
    // Both restored by path; the missing one named in the bar and in Send's reason.
    QCOMPARE(second.composer()->state().value(QStringLiteral("attachments")).toStringList(),
             QStringList({kept, lost}));
    QVERIFY2(second.draftBarText().contains(QStringLiteral("lost.pdf")), qPrintable(second.draftBarText()));
    QVERIFY2(!second.draftBarText().contains(QStringLiteral("kept.pdf")), qPrintable(second.draftBarText()));
    QTRY_VERIFY_WITH_TIMEOUT(!second.sendButton()->isEnabled(), 5000);
    QVERIFY2(second.composer()->problem().contains(QStringLiteral("lost.pdf")), qPrintable(second.composer()->problem()));
}

void TestDrafts::discardRemovesTheDraft()
{
    Folder f;
    f.settings.setValue(QStringLiteral("drafts/autosaveMs"), 200);
    qint64 id = 0;
    {
        auto *first = new MainWindow(&f.settings);
        fill(first->composer(), QStringLiteral("to be discarded"));
        QTRY_VERIFY_WITH_TIMEOUT(first->currentDraftId() != 0, 5000);
        id = first->currentDraftId();
        delete first;
    }
    {
        MainWindow second(&f.settings);
        QVERIFY(second.draftOffered());
        second.discardOfferedDraft();
        QVERIFY(!second.draftOffered());
        const QList<Store::Draft> drafts = second.historyStore()->drafts();
        QVERIFY(std::none_of(drafts.begin(), drafts.end(), [id](const Store::Draft &d) { return d.id == id; }));
        second.close();
    }
    MainWindow third(&f.settings);
    QVERIFY(!third.draftOffered());
    QCOMPARE(third.composer()->state().value(QStringLiteral("subject")).toString(), QString());
}

void TestDrafts::cleanCloseBringsTheComposerBack()
{
    // Closing with a half-written message keeps it (saved on close, well before
    // the autosave would) and the next window shows it again without asking.
    Folder f;
    QVariantMap typed;
    {
        MainWindow first(&f.settings);
        first.show();
        fill(first.composer(), QStringLiteral("left open at close"));
        typed = first.composer()->state();
        QVERIFY(first.close());
    }
    MainWindow second(&f.settings);
    second.show();
    QVERIFY(!second.draftOffered());
    QCOMPARE(second.composer()->state(), typed);
    QCOMPARE(second.historyStore()->drafts().size(), 1);
    // Emptying the composer and closing leaves no draft.
    second.composer()->setState({});
    QVERIFY(second.close());
    MainWindow third(&f.settings);
    QCOMPARE(third.historyStore()->drafts().size(), 0);
    QVERIFY(!third.draftOffered());
}

void TestDrafts::sentThenCleanCloseKeepsNoDraft()
{
    Folder f;
    f.settings.setValue(QStringLiteral("drafts/autosaveMs"), 200);
    {
        MainWindow first(&f.settings);
        first.show();
        QVERIFY(first.captureServer());
        fill(first.composer(), QStringLiteral("sent, so no draft"));
        QTRY_VERIFY_WITH_TIMEOUT(first.currentDraftId() != 0, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(first.sendButton()->isEnabled(), 5000);
        QSignalSpy finished(first.controller(), &SendController::finished);
        first.send();
        QVERIFY(finished.wait(15000));
        QVERIFY2(finished.at(0).at(0).value<SendResult>().accepted, qPrintable(first.statusText()));
        QCOMPARE(first.currentDraftId(), 0);
        QCOMPARE(first.historyStore()->drafts().size(), 0);
        QVERIFY(first.close());
    }
    MainWindow second(&f.settings);
    QVERIFY(!second.draftOffered());
    QCOMPARE(second.historyStore()->drafts().size(), 0);
    QCOMPARE(second.composer()->state().value(QStringLiteral("subject")).toString(), QString());
}

void TestDrafts::killedProcessDraftIsRestored()
{
    // A real kill -9 of a process in the middle of composing (after an autosave),
    // then a new window on the same settings and database.
    Folder f;
    const QString attachment = makeAttachment(f.dir, QStringLiteral("report.csv"));
    // A first clean run, so there is a clean-exit mark to be newer than.
    {
        MainWindow clean(&f.settings);
        QVERIFY(clean.close());
    }
    f.settings.setValue(QStringLiteral("drafts/autosaveMs"), 300);
    f.settings.sync();

    QProcess helper;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    helper.setProcessEnvironment(env);
    helper.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    helper.start(QCoreApplication::applicationFilePath(), {KillHelperArg, f.dir.path(), attachment});
    QVERIFY2(helper.waitForStarted(10000), qPrintable(helper.errorString()));
    QByteArray out;
    QTRY_VERIFY_WITH_TIMEOUT((out += helper.readAllStandardOutput()).contains("SAVED"), 30000);
    const qint64 savedId = out.mid(out.indexOf("SAVED") + 6).trimmed().toLongLong();
    QVERIFY(savedId > 0);
    helper.kill(); // SIGKILL: no close, no destructor, the WAL left as it is
    QVERIFY(helper.waitForFinished(10000));
    QCOMPARE(helper.exitStatus(), QProcess::CrashExit);

    f.settings.sync(); // read what the helper wrote
    MainWindow next(&f.settings);
    next.show();
    QVERIFY(next.historyStore());
    QVERIFY2(next.draftOffered(), "the killed run's draft was not offered");
    QVERIFY2(next.draftBarText().contains(QStringLiteral("killed while composing")), qPrintable(next.draftBarText()));
    next.restoreOfferedDraft();
    QCOMPARE(next.currentDraftId(), savedId);
    const QVariantMap state = next.composer()->state();
    QCOMPARE(state.value(QStringLiteral("subject")).toString(), QStringLiteral("killed while composing"));
    QCOMPARE(state.value(QStringLiteral("to")).toString(), QStringLiteral("bob@example.test, carol@example.test"));
    QCOMPARE(state.value(QStringLiteral("html")).toString(), QStringLiteral("<p>Half written</p>"));
    QCOMPARE(state.value(QStringLiteral("attachments")).toStringList(), QStringList{attachment});
    QTRY_VERIFY_WITH_TIMEOUT(next.sendButton()->isEnabled(), 5000);
}

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    const QStringList args = QCoreApplication::arguments();
    if (args.size() == 4 && args.at(1) == KillHelperArg)
        return runKillHelper(args.at(2), args.at(3));
    app.setAttribute(Qt::AA_Use96Dpi, true);
    TestDrafts tc;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&tc, argc, argv);
}

#include "tst_drafts.moc"
