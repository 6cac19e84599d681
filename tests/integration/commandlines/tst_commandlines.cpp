// The command lines of a diagnosis report, run for real: for each listener of the
// test Postfix (submission with STARTTLS and AUTH required, smtps with implicit
// TLS, plain smtp with STARTTLS offered), a report describing that endpoint is
// made from the env file, its `smtpscope send` and `swaks` lines are run by
// /bin/sh exactly as printed (only PASSWORD_FILE replaced by a real file; swaks
// reads the password from its prompt on stdin) and the message must land in
// the Maildir. The same report's HTML is checked by htmlcheck.py.

#include "diagnostics/diagnosis.h"
#include "diagnostics/reportexport.h"
#include "processrun.h"
#include "testservers.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace Diagnostics;

namespace {

constexpr int ProcessTimeoutMs = 60000;

using Run = ProcessRun;

// Runs one command line with /bin/sh, with the built smtpscope first on PATH.
Run runShell(const QString &line, const QByteArray &input)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("SMTPSCOPE_PASSWORD"));
    env.insert(QStringLiteral("PATH"), QFileInfo(QStringLiteral(SMTPSCOPE_BINARY)).absolutePath() + u':'
                                           + env.value(QStringLiteral("PATH"), QStringLiteral("/usr/bin:/bin")));
    return runProcess(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), line}, env, input, ProcessTimeoutMs);
}

enum class Listener { Submission, Smtps, Smtp };

} // namespace

class TestCommandLines : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void commandsDeliver_data();
    void commandsDeliver();
    void commandsOfARealDiagnosisDeliver();

private:
    void runAndExpectDelivery(const Report &r, const QString &sender, bool withUser);

    QTemporaryDir m_dir;
    QString m_passwordFile;
};

void TestCommandLines::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QVERIFY(QFileInfo(QStringLiteral(SMTPSCOPE_BINARY)).isExecutable());
    QVERIFY2(QFileInfo(QStringLiteral("/usr/bin/swaks")).isExecutable(), "swaks is not installed");
    m_passwordFile = m_dir.filePath(QStringLiteral("password"));
    QFile f(m_passwordFile);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(MailEnv::get().password.toUtf8() + "\n");
}

void TestCommandLines::commandsDeliver_data()
{
    QTest::addColumn<int>("listener");
    QTest::addColumn<bool>("withUser");
    QTest::addColumn<QString>("mechanism");
    QTest::addRow("submission-starttls-auth") << int(Listener::Submission) << true << QString();
    QTest::addRow("submission-starttls-login") << int(Listener::Submission) << true << QStringLiteral("LOGIN");
    QTest::addRow("smtps-implicit-plain") << int(Listener::Smtps) << true << QStringLiteral("PLAIN");
    QTest::addRow("smtp-starttls-no-auth") << int(Listener::Smtp) << false << QString();
}

void TestCommandLines::commandsDeliver()
{
    REQUIRE_MAILENV();
    QFETCH(int, listener);
    QFETCH(bool, withUser);
    QFETCH(QString, mechanism);
    const MailEnv &env = MailEnv::get();
    const auto kind = Listener(listener);

    // The facts a diagnosis learns about the endpoint, from the env file.
    Endpoint e;
    e.host = QStringLiteral("127.0.0.1");
    e.port = kind == Listener::Submission ? env.submissionPort
             : kind == Listener::Smtps    ? env.smtpsPort
                                          : env.smtpPort;
    e.role = kind == Listener::Smtps ? Endpoint::Role::Submissions : Endpoint::Role::Submission;
    e.reachable = true;
    e.address = e.host;
    e.implicitTlsSpoken = kind == Listener::Smtps;
    if (kind != Listener::Smtps)
        e.capabilitiesBeforeTls = {QStringLiteral("PIPELINING"), QStringLiteral("STARTTLS")};
    e.tls.encrypted = true;
    e.tls.implicit = kind == Listener::Smtps;
    e.tls.peerVerifyName = env.certName; // connect to 127.0.0.1, verify smtp.test

    const QByteArray marker = uniqueMarker();
    const QString sender = QStringLiteral("cl-%1@example.test").arg(QString::fromLatin1(marker));
    Report r;
    r.subject = e.target();
    r.started = QDateTime::currentDateTimeUtc();
    r.options = QVariantMap{{QStringLiteral("ehlo_name"), QStringLiteral("client.test")},
                            {QStringLiteral("ca_file"), env.caFile},
                            {QStringLiteral("insecure"), false},
                            {QStringLiteral("user"), withUser ? env.user : QString()},
                            {QStringLiteral("mechanism"), mechanism},
                            {QStringLiteral("has_password"), withUser},
                            {QStringLiteral("has_oauth_token"), false},
                            {QStringLiteral("mail_from"), sender}};
    r.endpoints = {e};
    r.commandLines = commandLines(r);
    runAndExpectDelivery(r, sender, withUser);
}

// The lead's Diagnosis on the submission port, its own command lines run as printed.
void TestCommandLines::commandsOfARealDiagnosisDeliver()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    const QString sender = QStringLiteral("diag-%1@example.test").arg(QString::fromLatin1(uniqueMarker()));
    DiagnosisOptions o;
    o.host = QStringLiteral("127.0.0.1");
    o.port = env.submissionPort;
    o.peerVerifyName = env.certName;
    o.dns = false; // loopback only, no resolver
    o.checks.caFile = env.caFile;
    o.checks.user = env.user;
    o.checks.password = env.password;
    o.checks.mailFrom = sender;
    o.checks.scanTlsVersions = false;
    o.checks.connectTimeoutMs = 10000;
    o.checks.readTimeoutMs = 10000;
    Diagnosis diagnosis(o);
    const Report r = diagnosis.run();
    QVERIFY2(r.endpoints.size() == 1 && r.endpoints.first().reachable, toJson(r).left(4000).constData());
    runAndExpectDelivery(r, sender, true);
}

void TestCommandLines::runAndExpectDelivery(const Report &r, const QString &sender, bool withUser)
{
    const MailEnv &env = MailEnv::get();
    QCOMPARE(r.commandLines.size(), 2);

    int delivered = 0;
    for (const QString &line : std::as_const(r.commandLines)) {
        const bool swaks = line.startsWith(QStringLiteral("swaks "));
        QVERIFY2(swaks || line.startsWith(QStringLiteral("smtpscope send ")), qPrintable(line));
        QVERIFY2(!line.contains(env.password), "the password is on the command line");
        QCOMPARE(line.contains(QStringLiteral("PASSWORD_FILE")), withUser && !swaks);
        QString runnable = line;
        runnable.replace(QStringLiteral("PASSWORD_FILE"), u'\'' + m_passwordFile + u'\'');
        // swaks asks for the password (its prompt reads stdin); smtpscope gets none.
        const QByteArray input = swaks && withUser ? env.password.toUtf8() + "\n" : QByteArray();
        const Run run = runShell(runnable, input);
        QVERIFY2(run.finished, qPrintable(line + u'\n' + run.describe()));
        QVERIFY2(run.exitCode == 0, qPrintable(line + u'\n' + run.describe()));
        ++delivered;
        const QList<QByteArray> messages = Maildir::waitFor(env.maildir, sender.toUtf8(), delivered);
        QVERIFY2(messages.size() == delivered, qPrintable(QStringLiteral("%1: not in the Maildir").arg(line)));
        const QByteArray &m = messages.last();
        QVERIFY2(m.contains("\nSubject: SMTP Scope test\n"), m.constData());
        // Postfix's Received line: ESMTPS = over TLS, ESMTPSA = TLS + authenticated.
        const QByteArray received = Maildir::header(m, "Received");
        const QByteArray protocol = withUser ? "with ESMTPSA" : "with ESMTPS ";
        QVERIFY2(m.contains(protocol), qPrintable(line + QStringLiteral("\n") + QString::fromUtf8(m.left(1500))));
        QVERIFY(!received.isEmpty());
    }

    // The same report as a page: structure and safety checked independently.
    QProcess check;
    check.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral(REPORTEXPORT_CHECKER), QStringLiteral("-")});
    QVERIFY(check.waitForStarted(10000));
    check.write(toHtml(r));
    check.closeWriteChannel();
    QVERIFY(check.waitForFinished(ProcessTimeoutMs));
    const QJsonObject result = QJsonDocument::fromJson(check.readAllStandardOutput()).object();
    QVERIFY(result.contains(QStringLiteral("errors")));
    QVERIFY2(result.value(QStringLiteral("errors")).toArray().isEmpty(),
             qPrintable(QString::fromUtf8(QJsonDocument(result.value(QStringLiteral("errors")).toArray()).toJson())));
    QJsonArray pre = result.value(QStringLiteral("pre")).toArray();
    QCOMPARE(pre.size(), 2);
    QCOMPARE(pre.at(0).toString(), r.commandLines.at(0));
    QCOMPARE(pre.at(1).toString(), r.commandLines.at(1));
}

QTEST_GUILESS_MAIN(TestCommandLines)
#include "tst_commandlines.moc"
