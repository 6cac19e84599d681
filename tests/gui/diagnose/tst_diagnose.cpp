// The Diagnose view on real widgets: the checklist model under
// QAbstractItemModelTester, the profile-to-options mapping, whole runs against the
// real Postfix (healthy submission port, and the expired-certificate listener),
// cancel against a server that never greets, the exports, and a GUI thread that
// never stalls while a diagnosis runs.

#include "sanitize/bounds.h"
#include "diagnose/checklistmodel.h"
#include "diagnose/diagnoseview.h"
#include "diagnose/waterfallchart.h"
#include "diagnostics/reportexport.h"
#include "live/livecolours.h"
#include "heartbeat.h"
#include "testservers.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QClipboard>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QTreeView>

using Diagnostics::Check;
using Diagnostics::Verdict;

namespace {

constexpr int kRunTimeoutMs = 180000;

Check makeCheck(const QString &scope, const QString &id, Verdict v, qint64 startUs = 0, qint64 durationUs = 0)
{
    Check c;
    c.scope = scope;
    c.id = id;
    c.title = id;
    c.verdict = v;
    c.summary = QStringLiteral("%1 on %2").arg(id, scope);
    c.startUs = startUs;
    c.durationUs = durationUs;
    return c;
}

// A value from the env file the mail server wrote (keys MailEnv does not hold).
ConnectionProfile postfixProfile(quint16 port)
{
    const MailEnv &env = MailEnv::get();
    ConnectionProfile p;
    p.settings.host = QStringLiteral("127.0.0.1");
    p.settings.port = port;
    p.settings.security = ConnectionSettings::Security::StartTlsRequired;
    p.settings.caFile = env.caFile;
    p.settings.peerName = env.certName;
    p.settings.user = env.user;
    p.settings.password = env.password;
    p.settings.connectTimeoutMs = 10000;
    p.settings.readTimeoutMs = 10000;
    return p;
}

// The view with DNS off unless the test DNS server is given: tests must not ask
// the system resolver (reverse DNS of 127.0.0.1).
void configureDns(DiagnoseView &view)
{
    view.setDnsLookups(!qEnvironmentVariableIsEmpty("SMTPSCOPE_DNS_SERVER"));
}

bool runToEnd(DiagnoseView &view, QSignalSpy &finished)
{
    view.start();
    if (!view.isRunning())
        return false;
    return finished.wait(kRunTimeoutMs);
}

} // namespace

class TestDiagnose : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void modelUnderTester();
    void modelWorstVerdict_data();
    void modelWorstVerdict();
    void optionsFromProfile_data();
    void optionsFromProfile();
    void waterfallLabelsUnique();
    void healthySubmission();
    void misconfiguredServer_data();
    void misconfiguredServer();
    void cancelSilentServer();
};

void TestDiagnose::modelUnderTester()
{
    ChecklistModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);

    model.addScope(QStringLiteral("127.0.0.1:587"));
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.rowCount(model.index(0, 0)), 0);

    // One batch spanning two scopes, one of them new.
    model.appendChecks({makeCheck(QStringLiteral("127.0.0.1:587"), QStringLiteral("tcp"), Verdict::Pass, 0, 1200),
                        makeCheck(QStringLiteral("example.org"), QStringLiteral("dns-mx"), Verdict::Warn),
                        makeCheck(QStringLiteral("127.0.0.1:587"), QStringLiteral("greeting"), Verdict::Pass, 1200, 800)});
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.scopes(), QStringList({QStringLiteral("127.0.0.1:587"), QStringLiteral("example.org")}));
    QCOMPARE(model.rowCount(model.index(0, 0)), 2);
    QCOMPARE(model.rowCount(model.index(1, 0)), 1);
    QCOMPARE(model.checkCount(), 3);

    const QModelIndex greeting = model.indexOf(QStringLiteral("127.0.0.1:587"), QStringLiteral("greeting"));
    QVERIFY(greeting.isValid());
    QCOMPARE(greeting.row(), 1);
    QCOMPARE(greeting.parent(), model.scopeIndex(QStringLiteral("127.0.0.1:587")));
    QVERIFY(model.checkAt(greeting));
    QCOMPARE(model.checkAt(greeting)->id, QStringLiteral("greeting"));
    QVERIFY(!model.checkAt(greeting.parent()));
    QCOMPARE(greeting.siblingAtColumn(ChecklistModel::VerdictColumn).data().toString(), QStringLiteral("Pass"));
    QCOMPARE(greeting.siblingAtColumn(ChecklistModel::TimeColumn).data().toString(), QStringLiteral("0.8 ms"));
    QVERIFY(!greeting.siblingAtColumn(ChecklistModel::VerdictColumn).data(Qt::DecorationRole).value<QIcon>().isNull());

    // Another batch into an existing scope.
    model.appendChecks({makeCheck(QStringLiteral("127.0.0.1:587"), QStringLiteral("certificate-expiry"), Verdict::Fail)});
    QCOMPARE(model.rowCount(model.index(0, 0)), 3);
    QCOMPARE(model.count(Verdict::Fail), 1);
    QCOMPARE(model.count(Verdict::Warn), 1);
    QCOMPARE(model.index(0, ChecklistModel::VerdictColumn).data().toString(), QStringLiteral("Fail"));
    QCOMPARE(model.index(0, 0).data(ChecklistModel::VerdictRole).toInt(), int(Verdict::Fail));

    // A whole report replaces everything, endpoints first in their order.
    Diagnostics::Report report;
    Diagnostics::Endpoint e;
    e.host = QStringLiteral("::1");
    e.port = 25;
    report.endpoints.append(e);
    report.checks.append(makeCheck(QStringLiteral("other.test"), QStringLiteral("spf"), Verdict::Info));
    report.checks.append(makeCheck(e.target(), QStringLiteral("tcp"), Verdict::Fail, 0, 5));
    model.setReport(report);
    QCOMPARE(model.scopes(), QStringList({QStringLiteral("[::1]:25"), QStringLiteral("other.test")}));
    QCOMPARE(model.checkCount(), 2);
    QVERIFY(!model.indexOf(QStringLiteral("127.0.0.1:587"), QStringLiteral("tcp")).isValid());

    model.setPalette(QPalette(Qt::black)); // a dark palette: colours recomputed, rows notified
    const QColor fail = model.verdictColour(Verdict::Fail);
    QVERIFY2(LiveColours::contrast(fail, QPalette(Qt::black).color(QPalette::Base)) >= 4.5, qPrintable(fail.name()));

    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void TestDiagnose::modelWorstVerdict_data()
{
    QTest::addColumn<QList<int>>("verdicts");
    QTest::addColumn<int>("worst");
    QTest::addRow("fail wins") << QList<int>{int(Verdict::Pass), int(Verdict::Fail), int(Verdict::Warn)} << int(Verdict::Fail);
    QTest::addRow("warn over pass") << QList<int>{int(Verdict::Pass), int(Verdict::Warn), int(Verdict::Info)} << int(Verdict::Warn);
    QTest::addRow("pass over info") << QList<int>{int(Verdict::Info), int(Verdict::Pass), int(Verdict::Skipped)} << int(Verdict::Pass);
    QTest::addRow("only skipped") << QList<int>{int(Verdict::Skipped)} << int(Verdict::Skipped);
}

void TestDiagnose::modelWorstVerdict()
{
    QFETCH(QList<int>, verdicts);
    QFETCH(int, worst);
    QList<Check> checks;
    for (int v : verdicts)
        checks.append(makeCheck(QStringLiteral("s"), QString::number(checks.size()), Verdict(v)));
    QCOMPARE(int(ChecklistModel::worst(checks)), worst);
}

void TestDiagnose::optionsFromProfile_data()
{
    QTest::addColumn<int>("security");
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<bool>("verify");
    QTest::addColumn<int>("readTimeout");
    QTest::addColumn<bool>("implicitTls");
    QTest::addColumn<int>("expectedReadTimeout");
    QTest::addColumn<bool>("tokenNotPassword");
    QTest::addRow("starttls, long timeout capped") << int(ConnectionSettings::Security::StartTlsRequired) << QString()
                                                   << true << 60000 << false << 15000 << false;
    QTest::addRow("implicit tls, short timeout kept") << int(ConnectionSettings::Security::ImplicitTls)
                                                      << QStringLiteral("PLAIN") << false << 5000 << true << 5000 << false;
    QTest::addRow("xoauth2 token from the password field") << int(ConnectionSettings::Security::StartTlsOpportunistic)
                                                          << QStringLiteral("XOAUTH2") << true << 15000 << false
                                                          << 15000 << true;
}

void TestDiagnose::optionsFromProfile()
{
    QFETCH(int, security);
    QFETCH(QString, mechanism);
    QFETCH(bool, verify);
    QFETCH(int, readTimeout);
    QFETCH(bool, implicitTls);
    QFETCH(int, expectedReadTimeout);
    QFETCH(bool, tokenNotPassword);

    ConnectionProfile p;
    p.settings.host = QStringLiteral("mail.example.test");
    p.settings.port = 2525;
    p.settings.security = ConnectionSettings::Security(security);
    p.setMechanism(mechanism);
    p.settings.verifyPeer = verify;
    p.settings.readTimeoutMs = readTimeout;
    p.settings.connectTimeoutMs = 7000;
    p.settings.user = QStringLiteral("alice");
    p.setSecret(QStringLiteral("pw-or-token")); // the panel's password field
    p.settings.allowPlaintextAuth = !verify;    // distinct per row
    p.settings.peerName = QStringLiteral("smtp.test");
    p.settings.caFile = QStringLiteral("/nonexistent/ca.pem");
    p.settings.ehloName = QStringLiteral("client.test");

    DiagnoseView view;
    view.setProfile(p);
    const Diagnostics::DiagnosisOptions o = view.diagnosisOptions();
    QCOMPARE(o.host, p.settings.host);
    QCOMPARE(o.port, quint16(2525));
    QCOMPARE(o.implicitTls, implicitTls);
    QCOMPARE(o.peerVerifyName, QStringLiteral("smtp.test"));
    QCOMPARE(o.domain, QString()); // empty domain field: no discovery
    QCOMPARE(o.allPorts, false);
    QCOMPARE(o.checks.caFile, p.settings.caFile);
    QCOMPARE(o.checks.insecure, !verify);
    QCOMPARE(o.checks.user, QStringLiteral("alice"));
    QCOMPARE(o.checks.mechanism, mechanism);
    QCOMPARE(o.checks.ehloName, QStringLiteral("client.test"));
    QCOMPARE(o.checks.connectTimeoutMs, 7000);
    QCOMPARE(o.checks.readTimeoutMs, expectedReadTimeout);
    QCOMPARE(o.checks.relayCheck, false); // consent is never assumed
    QCOMPARE(o.checks.scanTlsVersions, true);
    QCOMPARE(o.checks.tryEachMechanism, true);
    QCOMPARE(o.checks.showSecrets, false);
    QCOMPARE(o.checks.allowPlaintextAuth, !verify);
    if (tokenNotPassword) {
        QCOMPARE(o.checks.oauthToken, QByteArray("pw-or-token"));
        QVERIFY(o.checks.password.isEmpty());
    } else {
        QCOMPARE(o.checks.password, QStringLiteral("pw-or-token"));
        QVERIFY(o.checks.oauthToken.isEmpty());
    }
    QCOMPARE(o.dnsOptions.nameserver.isNull(), qEnvironmentVariableIsEmpty("SMTPSCOPE_DNS_SERVER"));

    // A profile that cannot connect (unreadable CA file) does not start.
    view.start();
    QVERIFY(!view.isRunning());
    QVERIFY2(view.statusText().startsWith(QStringLiteral("Cannot run")), qPrintable(view.statusText()));
}

void TestDiagnose::waterfallLabelsUnique()
{
    // Two MX hosts on port 25 give the same short labels; the category axis must
    // still show one row per bar.
    WaterfallChart chart;
    QList<Diagnostics::WaterfallBar> bars;
    for (const QString &scope : {QStringLiteral("mx1.test:25"), QStringLiteral("mx2.test:25")}) {
        Diagnostics::WaterfallBar b;
        b.label = QStringLiteral("25 tcp");
        b.scope = scope;
        b.startUs = bars.size() * 1000;
        b.durationUs = 1500;
        b.verdict = bars.isEmpty() ? Verdict::Pass : Verdict::Fail;
        bars.append(b);
    }
    chart.setBars(bars);
    QCOMPARE(chart.barCount(), 2);
    QVERIFY(chart.barLabel(0) != chart.barLabel(1));
    QTRY_COMPARE_WITH_TIMEOUT(chart.drawnBarCount(), 2, 5000);
    QVERIFY2(chart.barToolTip(1).contains(QStringLiteral("1.5 ms")), qPrintable(chart.barToolTip(1)));
    QVERIFY2(chart.barToolTip(1).contains(QStringLiteral("fail")), qPrintable(chart.barToolTip(1)));
    chart.clear();
    QCOMPARE(chart.drawnBarCount(), 0);
}

void TestDiagnose::healthySubmission()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();

    DiagnoseView view;
    view.resize(1280, 800);
    view.show();
    configureDns(view);
    view.setProfile(postfixProfile(env.submissionPort));
    QSignalSpy finished(&view, &DiagnoseView::finished);
    auto *run = view.findChild<QPushButton *>(QStringLiteral("diagnoseRun"));
    QVERIFY(run);

    Heartbeat heartbeat;
    view.start();
    QVERIFY(view.isRunning());
    QVERIFY(!run->isEnabled());
    QVERIFY(finished.wait(kRunTimeoutMs));
    const qint64 maxGap = heartbeat.maxGapMs();
    QVERIFY2(maxGap < Bounds::timeMs(200), qPrintable(QStringLiteral("GUI thread paused %1 ms").arg(maxGap)));
    QVERIFY(run->isEnabled());

    const Diagnostics::Report report = view.report();
    QVERIFY(!report.cancelled);
    const QString scope = QStringLiteral("127.0.0.1:%1").arg(env.submissionPort);
    QStringList failures;
    for (const Check &c : report.checks) {
        if (c.verdict == Verdict::Fail)
            failures.append(QStringLiteral("%1 %2: %3").arg(c.scope, c.id, c.summary));
    }
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join(QLatin1Char('\n'))));
    QCOMPARE(finished.first().first().value<Verdict>(), report.overall());

    ChecklistModel *model = view.checklistModel();
    QCOMPARE(model->checkCount(), int(report.checks.size()));
    for (const QString &id : {QStringLiteral("tcp"), QStringLiteral("greeting"), QStringLiteral("starttls"),
                              QStringLiteral("certificate-chain"), QStringLiteral("certificate-expiry"),
                              QStringLiteral("certificate-name")})
        QVERIFY2(model->indexOf(scope, id).isValid(), qPrintable(id));
    QCOMPARE(model->count(Verdict::Fail), 0);
    QVERIFY(view.problemsText().contains(QStringLiteral("Problems")));

    // One bar per timed check.
    int timed = 0;
    for (const Check &c : report.checks)
        timed += c.durationUs > 0 ? 1 : 0;
    QVERIFY(timed >= 4);
    QCOMPARE(view.waterfallChart()->barCount(), timed);
    QTRY_COMPARE_WITH_TIMEOUT(view.waterfallChart()->drawnBarCount(), timed, 5000);

    // The details pane shows the selected check.
    QVERIFY(view.selectCheck(scope, QStringLiteral("certificate-name")));
    const QModelIndex nameRow = model->indexOf(scope, QStringLiteral("certificate-name"));
    QVERIFY(view.detailsText().contains(model->checkAt(nameRow)->summary));
    QVERIFY(view.detailsText().contains(QStringLiteral("certificate-name")));

    // Exports.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString error;
    const QString htmlPath = dir.filePath(QStringLiteral("report.html"));
    QVERIFY2(view.saveHtml(htmlPath, &error), qPrintable(error));
    QFile html(htmlPath);
    QVERIFY(html.open(QIODevice::ReadOnly));
    const QString page = QString::fromUtf8(html.readAll());
    static const QRegularExpression remote(
        QStringLiteral(R"((src|href|action)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//|@import)"),
        QRegularExpression::CaseInsensitiveOption);
    QVERIFY2(!remote.match(page).hasMatch(), qPrintable(remote.match(page).captured(0)));
    QVERIFY(!page.contains(QStringLiteral("http://")));
    QVERIFY(!page.contains(QStringLiteral("https://")));
    QVERIFY(!page.contains(env.password));
    for (const Check &c : report.checks)
        QVERIFY2(page.contains(c.title.toHtmlEscaped()), qPrintable(c.title));

    const QString jsonPath = dir.filePath(QStringLiteral("report.json"));
    QVERIFY2(view.saveJson(jsonPath, &error), qPrintable(error));
    QFile json(jsonPath);
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QJsonObject object = QJsonDocument::fromJson(json.readAll()).object();
    QCOMPARE(object.value(QStringLiteral("checks")).toArray().size(), report.checks.size());
    QCOMPARE(object.value(QStringLiteral("subject")).toString(), report.subject);
    QVERIFY(!view.saveJson(dir.filePath(QStringLiteral("missing/dir/report.json")), &error));
    QVERIFY(!error.isEmpty());

    const QString commands = view.commandLinesText();
    QVERIFY2(commands.contains(QString::number(env.submissionPort)), qPrintable(commands));
    QVERIFY(!commands.contains(env.password));
}

void TestDiagnose::misconfiguredServer_data()
{
    QTest::addColumn<QString>("listener");
    QTest::addColumn<ConnectionSettings::Security>("security");
    QTest::addColumn<QStringList>("failing"); // ids that must fail, each with its fix shown

    // The misconfigurations of the issue: an expired certificate with AUTH offered
    // before TLS; an implicit-TLS setting on a port that speaks STARTTLS; and a
    // STARTTLS setting on a port that speaks implicit TLS.
    QTest::addRow("expired-and-auth-before-tls")
        << "BAD" << ConnectionSettings::Security::StartTlsRequired
        << QStringList{QStringLiteral("auth-before-tls"), QStringLiteral("certificate-expiry")};
    QTest::addRow("implicit-tls-port-speaks-starttls")
        << "BAD" << ConnectionSettings::Security::ImplicitTls
        << QStringList{QStringLiteral("auth-before-tls"), QStringLiteral("certificate-expiry"), QStringLiteral("tls-mode")};
    QTest::addRow("starttls-port-speaks-implicit-tls")
        << "SMTPS" << ConnectionSettings::Security::StartTlsRequired << QStringList{QStringLiteral("tls-mode")};
}

void TestDiagnose::misconfiguredServer()
{
    REQUIRE_MAILENV();
    QFETCH(QString, listener);
    QFETCH(ConnectionSettings::Security, security);
    QFETCH(QStringList, failing);
    const MailEnv &env = MailEnv::get();
    const quint16 port = listener == u"BAD" ? env.badPort : env.smtpsPort;
    QVERIFY2(port != 0, "the mail server env has no BAD_PORT (misconfigured listener): restart "
                        "tests/servers/mailserver");

    DiagnoseView view;
    configureDns(view);
    ConnectionProfile profile = postfixProfile(port);
    profile.settings.security = security;
    profile.settings.readTimeoutMs = 3000; // a port that never greets costs one read timeout
    view.setProfile(profile);
    QSignalSpy finished(&view, &DiagnoseView::finished);
    QVERIFY(runToEnd(view, finished));
    QCOMPARE(finished.first().first().value<Verdict>(), Verdict::Fail);

    const QString scope = QStringLiteral("127.0.0.1:%1").arg(port);
    QStringList failed;
    for (const Check &c : view.report().checksFor(scope)) {
        if (c.verdict == Verdict::Fail)
            failed.append(c.id);
    }
    failed.sort();
    QCOMPARE(failed, failing);
    for (const QString &id : failing) {
        const QModelIndex row = view.checklistModel()->indexOf(scope, id);
        QVERIFY(row.isValid());
        const Check *check = view.checklistModel()->checkAt(row);
        QCOMPARE(check->verdict, Verdict::Fail);
        QVERIFY(!check->fix.isEmpty());
        QCOMPARE(row.siblingAtColumn(ChecklistModel::VerdictColumn).data().toString(), QStringLiteral("Fail"));
        QVERIFY(view.selectCheck(scope, id));
        QVERIFY2(view.detailsText().contains(check->fix), qPrintable(view.detailsText()));
        QVERIFY(view.detailsText().contains(check->summary));
    }
    const QModelIndex first = view.checklistModel()->indexOf(scope, failing.first());
    QCOMPARE(first.parent().siblingAtColumn(ChecklistModel::VerdictColumn).data().toString(), QStringLiteral("Fail"));
    QVERIFY2(view.problemsText().contains(QStringLiteral("failed")), qPrintable(view.problemsText()));
}

void TestDiagnose::cancelSilentServer()
{
    // Accepts and never greets: the diagnosis sits waiting for the 220.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    QList<QTcpSocket *> held;
    connect(&silent, &QTcpServer::newConnection, &silent, [&] {
        while (QTcpSocket *s = silent.nextPendingConnection())
            held.append(s);
    });

    ConnectionProfile p;
    p.settings.host = QStringLiteral("127.0.0.1");
    p.settings.port = silent.serverPort();
    p.settings.security = ConnectionSettings::Security::StartTlsRequired;
    p.settings.readTimeoutMs = 60000; // capped at 15 s, still far beyond the 1 s asked of cancel
    DiagnoseView view;
    configureDns(view);
    view.setProfile(p);
    QSignalSpy finished(&view, &DiagnoseView::finished);
    auto *run = view.findChild<QPushButton *>(QStringLiteral("diagnoseRun"));
    auto *cancel = view.findChild<QPushButton *>(QStringLiteral("diagnoseCancel"));
    QVERIFY(run && cancel);

    Heartbeat heartbeat;
    view.start();
    QVERIFY(view.isRunning());
    QVERIFY(cancel->isEnabled());
    const QString scope = QStringLiteral("127.0.0.1:%1").arg(p.settings.port);
    // The TCP check has ended and reached the tree: now it waits for a greeting.
    QTRY_VERIFY_WITH_TIMEOUT(!held.isEmpty(), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(view.checklistModel()->indexOf(scope, QStringLiteral("tcp")).isValid(), 10000);
    QVERIFY(view.isRunning());

    QElapsedTimer clock;
    clock.start();
    QTest::mouseClick(cancel, Qt::LeftButton);
    QVERIFY(finished.count() == 1 || finished.wait(1000));
    const qint64 took = clock.elapsed();
    QVERIFY2(took < 1000, qPrintable(QStringLiteral("cancel took %1 ms").arg(took)));
    QVERIFY(!view.isRunning());
    QVERIFY(run->isEnabled());
    QVERIFY(!cancel->isEnabled());
    QVERIFY(view.report().cancelled);
    // The partial report stays, in the report and in the tree.
    QVERIFY(view.checklistModel()->indexOf(scope, QStringLiteral("tcp")).isValid());
    bool haveTcp = false;
    for (const Check &c : view.report().checks)
        haveTcp = haveTcp || (c.scope == scope && c.id == u"tcp");
    QVERIFY(haveTcp);
    QVERIFY2(view.statusText().startsWith(QStringLiteral("Cancelled")), qPrintable(view.statusText()));
    QVERIFY2(heartbeat.maxGapMs() < Bounds::timeMs(200), qPrintable(QString::number(heartbeat.maxGapMs())));

    // A second run starts cleanly after a cancel.
    view.start();
    QVERIFY(view.isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(held.size() >= 2, 10000);
    view.cancel();
    QVERIFY(finished.count() == 2 || finished.wait(1000));
    QVERIFY(view.report().cancelled);
}

QTEST_MAIN(TestDiagnose)
#include "tst_diagnose.moc"
