// The smtpscope command line end to end: the built binary, run with QProcess,
// against the real test servers (Postfix + Dovecot from tests/servers/mailserver,
// and hostile_smtpd.py). What it prints is checked against what the servers
// really did: the Maildir, the lines the hostile server recorded, and the
// capabilities the server offers when asked directly. Every exit code is
// produced by a real situation.

#include "sanitize/bounds.h"
#include "cli/exitcodes.h"
#include "client/connectionsettings.h"
#include "cli/progressbar.h"
#include "processrun.h"
#include "serveprocess.h"
#include "testservers.h"

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <functional>
#include <optional>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr int ProcessTimeoutMs = 30000;
const QString Sender = QStringLiteral("sender@example.test");
const QString Rcpt = QStringLiteral("rcpt@example.test");

using Run = ProcessRun;

// The data folder of every run (XDG_DATA_HOME): inside the test's temporary
// folder, so that no run records its sessions in the user's real history.
QString g_dataHome;

// The environment of a run: $SMTPSCOPE_PASSWORD removed, XDG_DATA_HOME the test's
// (both unless `env` sets them).
QProcessEnvironment cliEnvironment(const QMap<QString, QString> &env = {})
{
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    e.remove(QStringLiteral("SMTPSCOPE_PASSWORD"));
    e.insert(QStringLiteral("XDG_DATA_HOME"), g_dataHome);
    for (auto it = env.begin(); it != env.end(); ++it)
        e.insert(it.key(), it.value());
    return e;
}

// Runs the binary (environment: cliEnvironment()). stdin is a pipe (never a
// terminal), closed after `input`.
Run runCli(const QStringList &args, const QMap<QString, QString> &env = {}, const QByteArray &input = {})
{
    return runProcess(QStringLiteral(SMTPSCOPE_BINARY), args, cliEnvironment(env), input, ProcessTimeoutMs);
}

std::optional<QJsonArray> jsonArrayOf(const Run &r)
{
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(r.out, &error);
    if (error.error != QJsonParseError::NoError || !doc.isArray())
        return std::nullopt;
    return doc.array();
}

// The ids of a `history --json` array, in its order.
QList<qint64> idsOf(const QJsonArray &sessions)
{
    QList<qint64> ids;
    for (const QJsonValue &v : sessions)
        ids.append(v.toObject().value("id").toInteger());
    return ids;
}

// The lines of Output::transcriptLine in a stream ("  0.003 S       220 ...",
// "  0.011 C [tls] EHLO localhost"), in order.
QStringList transcriptLines(const QByteArray &stream)
{
    static const QRegularExpression line(QStringLiteral("^ *\\d+\\.\\d{3} [CS*!] (\\[tls\\]|     ) "));
    QStringList out;
    for (const QString &l : QString::fromUtf8(stream).split(u'\n')) {
        if (line.match(l).hasMatch())
            out.append(l);
    }
    return out;
}

// Every file under `dir`, recursively.
QStringList filesUnder(const QString &dir)
{
    QStringList out;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext())
        out.append(it.next());
    return out;
}

// A run whose stdout is handed to `onOut` as it arrives (a gigabyte of output
// costs the test no memory) and whose peak RSS is the kernel's own account of
// exactly this process, taken when it is reaped (wait4's ru_maxrss: its whole
// life, nothing sampled that a short peak could slip between).
struct StreamedRun
{
    bool finished = false;
    int exitCode = -1;
    qint64 peakRssBytes = -1;
    QByteArray err; // the last 64 KiB

    [[nodiscard]] QString describe() const
    {
        return QStringLiteral("exit %1, peak RSS %2 bytes\nstderr: %3")
            .arg(exitCode)
            .arg(peakRssBytes)
            .arg(QString::fromUtf8(err.right(3000)));
    }
};

StreamedRun runStreamed(const QStringList &args, const std::function<void(QByteArrayView)> &onOut, int timeoutMs)
{
    StreamedRun r;
    int out[2];
    int err[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
        return r;
    if (::pipe2(err, O_CLOEXEC) != 0) {
        ::close(out[0]);
        ::close(out[1]);
        return r;
    }
    QList<QByteArray> argStore{QByteArrayLiteral(SMTPSCOPE_BINARY)};
    for (const QString &a : args)
        argStore.append(a.toLocal8Bit());
    QList<QByteArray> envStore;
    for (const QString &e : cliEnvironment().toStringList())
        envStore.append(e.toLocal8Bit());
    std::vector<char *> argv;
    for (QByteArray &a : argStore)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char *> envp;
    for (QByteArray &e : envStore)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    pid_t pid = -1;
    const int spawned = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(err[1]);
    if (spawned != 0) {
        ::close(out[0]);
        ::close(err[0]);
        return r;
    }

    QElapsedTimer clock;
    clock.start();
    QByteArray chunk(256 * 1024, Qt::Uninitialized);
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    bool timedOut = false;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        const qint64 left = timeoutMs - clock.elapsed();
        if (left <= 0) {
            timedOut = true;
            break;
        }
        const int ready = ::poll(fds, 2, int(left));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            continue; // the deadline is checked above
        for (pollfd &f : fds) {
            if (f.fd < 0 || f.revents == 0)
                continue;
            const ssize_t n = ::read(f.fd, chunk.data(), size_t(chunk.size()));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                ::close(f.fd);
                f.fd = -1;
                continue;
            }
            if (&f == &fds[0]) {
                onOut(QByteArrayView(chunk.constData(), n));
            } else {
                r.err.append(chunk.constData(), n);
                if (r.err.size() > 64 * 1024)
                    r.err.remove(0, r.err.size() - 64 * 1024);
            }
        }
    }
    for (const pollfd &f : fds) {
        if (f.fd >= 0)
            ::close(f.fd);
    }
    if (timedOut)
        ::kill(pid, SIGKILL);
    // Both pipes closed: it is exiting. A bounded wait all the same.
    int status = 0;
    rusage usage{};
    pid_t reaped = 0;
    for (int i = 0; i < 500 && reaped == 0; ++i) {
        reaped = ::wait4(pid, &status, WNOHANG, &usage);
        if (reaped == 0)
            QThread::msleep(20);
    }
    if (reaped == 0) {
        ::kill(pid, SIGKILL);
        reaped = ::wait4(pid, &status, 0, &usage);
    }
    if (reaped != pid)
        return r;
    r.finished = !timedOut;
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.peakRssBytes = qint64(usage.ru_maxrss) * 1024; // Linux: kilobytes
    return r;
}

// The mode bits of a file or folder, -1 when it is not there.
int modeOf(const QString &path)
{
    struct stat st{};
    return ::stat(QFile::encodeName(path).constData(), &st) == 0 ? int(st.st_mode & 0777) : -1;
}

QByteArray sha256Of(const QString &path)
{
    QFile f(path);
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!f.open(QIODevice::ReadOnly) || !hash.addData(&f))
        return {};
    return hash.result().toHex();
}

std::optional<QJsonObject> jsonOf(const Run &r)
{
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(r.out, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    return doc.object();
}

#define RUN(var, ...)                                                                                              \
    const Run var = runCli(__VA_ARGS__);                                                                           \
    QVERIFY2(var.finished, qPrintable(QStringLiteral("smtpscope did not finish in time\n") + var.describe()))

#define JSON_ARRAY(arr, run)                                                                                        \
    const std::optional<QJsonArray> arr##Opt = jsonArrayOf(run);                                                  \
    QVERIFY2(arr##Opt.has_value(), qPrintable(QStringLiteral("stdout is not a JSON array\n") + run.describe()));  \
    const QJsonArray &arr = *arr##Opt

#define JSON(obj, run)                                                                                              \
    const std::optional<QJsonObject> obj##Opt = jsonOf(run);                                                      \
    QVERIFY2(obj##Opt.has_value(), qPrintable(QStringLiteral("stdout is not a JSON object\n") + run.describe())); \
    const QJsonObject &obj = *obj##Opt

QStringList toStrings(const QJsonValue &v)
{
    QStringList out;
    for (const QJsonValue &x : v.toArray())
        out.append(x.toString());
    return out;
}

// The EHLO keywords a server offers, asked directly (independently of the engine).
QStringList ehloCapabilities(QTcpSocket &s)
{
    auto readReply = [&s]() {
        QStringList lines;
        for (;;) {
            while (!s.canReadLine()) {
                if (!s.waitForReadyRead(5000))
                    return lines;
            }
            const QString line = QString::fromLatin1(s.readLine()).trimmed();
            lines.append(line);
            if (line.size() < 4 || line.at(3) != u'-')
                return lines;
        }
    };
    (void)readReply(); // greeting
    s.write("EHLO probe.test\r\n");
    const QStringList reply = readReply();
    s.write("QUIT\r\n");
    s.waitForBytesWritten(2000);
    QStringList caps;
    for (qsizetype i = 1; i < reply.size(); ++i)
        caps.append(reply.at(i).mid(4));
    return caps;
}

HostileServer::Options hostileOptions(const QStringList &scenarios, const QString &cert = QStringLiteral("smtp.test"))
{
    HostileServer::Options o;
    o.scenarios = scenarios;
    o.certName = cert;
    return o;
}

// A loopback port on which nothing listens (connect is refused at once).
quint16 closedPort()
{
    QTcpServer s;
    if (!s.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = s.serverPort();
    s.close();
    return port;
}

} // namespace

class TestCli : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();

    void helpAndDocsListEveryExitCode();
    void badInputIsRefusedBeforeAnyConnection_data();
    void badInputIsRefusedBeforeAnyConnection();
    void closedPortIsAConnectionError();
    void testModePrintsTheWire();
    void progressBarRendering_data();
    void progressBarRendering();

    void sendsWithEachSecurityModeAndMechanism_data();
    void sendsWithEachSecurityModeAndMechanism();
    void failuresAtTheRealServer_data();
    void failuresAtTheRealServer();
    void someRecipientsRefused();
    void hostileServers_data();
    void hostileServers();
    void insecureIsStatedAndRecorded();
    void transcriptIsLive();
    void secretsOnlyWithShowSecrets();
    void eventsAsJsonLines();
    void everySettingFromTheCommandLine();
    void timingsAgreeEverywhere();
    void emlResendRoundTrip();
    void countSendsOverOneSession();
    void countPartlyAcceptedIsSomeRefused();
    void progressBarOnStderr();

    void probeReportsWhatTheServerOffers();
    void probeLogin();
    void probeSendsNothingPastAuth();
    void probeReportsABadCertificate();
    void probeNamesEachProblem_data();
    void probeNamesEachProblem();
    void probeWritesAStandaloneHtmlReport();
    void probeDiscoversADomain();

    void historyListsASend();
    void historyShowPrintsTheTranscriptWithoutSecrets();
    void historyRecordsRefusedRecipients_data();
    void historyRecordsRefusedRecipients();
    void historyRecordsAProbeAndItsDiagnosis();
    void historyLastSearchAndFilters();
    void noHistoryRecordsNothing();
    void historyFailuresAreClean();
    void historyReadsOnlyAndRefusesAForeignDatabase();
    void historyFilesArePrivate();

    void localInputsNeverBlock();
    void testModeStreamsALargeMessage();

private:
    QString path(const QString &name) const { return m_dir.filePath(name); }
    void writeFile(const QString &name, const QByteArray &content);
    QStringList expand(QStringList args) const;

    QTemporaryDir m_dir;
};

void TestCli::writeFile(const QString &name, const QByteArray &content)
{
    QFile f(path(name));
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(content), content.size());
}

// Placeholders in data rows, filled in when the servers are known.
QStringList TestCli::expand(QStringList args) const
{
    const MailEnv &env = MailEnv::get();
    for (QString &a : args) {
        a.replace(QStringLiteral("%SMTP%"), QString::number(env.smtpPort));
        a.replace(QStringLiteral("%SMTPS%"), QString::number(env.smtpsPort));
        a.replace(QStringLiteral("%SUB%"), QString::number(env.submissionPort));
        a.replace(QStringLiteral("%CA%"), env.caFile);
        a.replace(QStringLiteral("%REFUSED%"), env.refusedRcpt);
        a.replace(QStringLiteral("%DIR%"), m_dir.path());
    }
    return args;
}

void TestCli::initTestCase()
{
    QVERIFY(m_dir.isValid());
    // Nothing of this process or of the runs may touch the user's data folder.
    QStandardPaths::setTestModeEnabled(true);
    g_dataHome = m_dir.filePath(QStringLiteral("xdg-data"));
    QVERIFY(QDir().mkpath(g_dataHome));
    QVERIFY(QFileInfo(QStringLiteral(SMTPSCOPE_BINARY)).isExecutable());
    const MailEnv &env = MailEnv::get();
    writeFile(QStringLiteral("password"), env.password.toUtf8() + "\n");
    writeFile(QStringLiteral("wrong-password"), "not-the-password\n");
    writeFile(QStringLiteral("token"), env.oauthToken + "\n");
    writeFile(QStringLiteral("bad-token"), env.oauthBadToken + "\n");
    writeFile(QStringLiteral("no-headers.eml"), "just some text without a header block\n");
}

// ---------------------------------------------------------------- no server needed

void TestCli::helpAndDocsListEveryExitCode()
{
    QFile docs(QStringLiteral(SMTPSCOPE_SOURCE_DIR "/docs/cli.md"));
    QVERIFY2(docs.open(QIODevice::ReadOnly), "docs/cli.md is missing");
    const QString doc = QString::fromUtf8(docs.readAll());
    for (const QStringList &args : {QStringList{QStringLiteral("help")}, QStringList{QStringLiteral("send"), QStringLiteral("--help")},
                                    QStringList{QStringLiteral("probe"), QStringLiteral("--help")},
                                    QStringList{QStringLiteral("history"), QStringLiteral("--help")}}) {
        RUN(r, args);
        QCOMPARE(r.exitCode, 0);
        for (const Cli::ExitCodeInfo &i : Cli::exitCodes()) {
            const QString row = QStringLiteral("  %1  %2").arg(i.code).arg(QString::fromLatin1(i.name));
            QVERIFY2(QString::fromUtf8(r.out).contains(row), qPrintable(row + QStringLiteral(" not in help of ")
                                                                         + args.join(u' ')));
        }
    }
    QFile readmeFile(QStringLiteral(SMTPSCOPE_SOURCE_DIR "/README.md"));
    QVERIFY2(readmeFile.open(QIODevice::ReadOnly), "README.md is missing");
    const QString readme = QString::fromUtf8(readmeFile.readAll());
    for (const Cli::ExitCodeInfo &i : Cli::exitCodes()) {
        const QString row = QStringLiteral("| %1 | `%2` |").arg(i.code).arg(QString::fromLatin1(i.name));
        QVERIFY2(doc.contains(row), qPrintable(row + QStringLiteral(" not in docs/cli.md")));
        QVERIFY2(readme.contains(row), qPrintable(row + QStringLiteral(" not in README.md")));
    }
    // Every option of the commands is documented.
    for (const QString &command : {QStringLiteral("send"), QStringLiteral("probe"), QStringLiteral("history")}) {
        RUN(r, {command, QStringLiteral("--help")});
        for (const QString &line : QString::fromUtf8(r.out).split(u'\n')) {
            const QString t = line.trimmed();
            if (!t.startsWith(QStringLiteral("--")) || t.startsWith(QStringLiteral("--help")))
                continue;
            const QString option = t.section(u' ', 0, 0);
            QVERIFY2(doc.contains(u'`' + option), qPrintable(option + QStringLiteral(" is not in docs/cli.md")));
        }
    }
}

void TestCli::badInputIsRefusedBeforeAnyConnection_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("mentions");

    const QStringList send{QStringLiteral("send"), QStringLiteral("--host"), QStringLiteral("127.0.0.1"),
                           QStringLiteral("--port"), QStringLiteral("%PORT%")};
    const QStringList envelope{QStringLiteral("--from"), Sender, QStringLiteral("--to"), Rcpt};
    const int usage = Cli::ExitUsage;
    QTest::addRow("unknown-command") << QStringList{QStringLiteral("frobnicate")} << usage << "frobnicate";
    QTest::addRow("unknown-option") << send + envelope + QStringList{"--frobnicate"} << usage << "frobnicate";
    QTest::addRow("positional-argument") << send + envelope + QStringList{"stray"} << usage << "stray";
    QTest::addRow("invalid-to") << send + QStringList{"--from", Sender, "--to", "no-at-sign"} << usage << "--to";
    QTest::addRow("invalid-from") << send + QStringList{"--from", "a@@b", "--to", Rcpt} << usage << "--from";
    QTest::addRow("crlf-in-header") << send + envelope + QStringList{"--header", "X-A: b\r\nBcc: evil@example.test"}
                                    << usage << "--header";
    QTest::addRow("lf-in-address") << send + envelope + QStringList{"--cc", "c@example.test\nRCPT TO:<evil@x.test>"}
                                   << usage << "--cc";
    QTest::addRow("cr-in-subject") << send + envelope + QStringList{"--subject", "a\rb"} << usage << "--subject";
    QTest::addRow("header-without-colon") << send + envelope + QStringList{"--header", "NoColon"} << usage
                                          << "--header";
    QTest::addRow("missing-body-file") << send + envelope + QStringList{"--body-file", "%DIR%/nope.txt"} << usage
                                       << "--body-file";
    QTest::addRow("missing-eml") << send + QStringList{"--eml", "%DIR%/nope.eml"} << usage << "--eml";
    QTest::addRow("eml-with-subject") << send + QStringList{"--eml", "%DIR%/no-headers.eml", "--subject", "x"}
                                      << usage << "--subject";
    QTest::addRow("missing-password") << send + envelope + QStringList{"--user", "tester"} << usage << "password";
    QTest::addRow("missing-password-file") << send + envelope
                                                  + QStringList{"--user", "tester", "--password-file", "%DIR%/nope"}
                                           << usage << "--password-file";
    QTest::addRow("unknown-scheme") << QStringList{"send", "--url", "gopher://127.0.0.1:%PORT%"} + envelope << usage
                                    << "SMTPCLIENT-UNKNOWN-PROTOCOL";
    QTest::addRow("url-and-host") << QStringList{"send", "--url", "smtp://127.0.0.1:%PORT%", "--host", "127.0.0.1"}
                                         + envelope
                                  << usage << "--host";
    QTest::addRow("ssl-and-tls") << send + envelope + QStringList{"--ssl", "--tls"} << usage << "--ssl";
    QTest::addRow("count-zero") << send + envelope + QStringList{"--count", "0"} << usage << "--count";
    QTest::addRow("bad-timeout") << send + envelope + QStringList{"--read-timeout", "soon"} << usage
                                 << "--read-timeout";
    QTest::addRow("bad-port") << QStringList{"send", "--host", "127.0.0.1", "--port", "70000"} + envelope << usage
                              << "--port";
    QTest::addRow("bad-ehlo") << send + envelope + QStringList{"--ehlo", "bad name"} << usage << "--ehlo";
    QTest::addRow("no-recipient") << send + QStringList{"--from", Sender} << usage << "recipient";
    QTest::addRow("probe-unknown-option") << QStringList{"probe", "--host", "127.0.0.1", "--port", "%PORT%", "--to",
                                                         Rcpt}
                                          << usage << "to";
    // The message itself is wrong: MESSAGE-ERROR, still before any connection.
    QTest::addRow("missing-attachment") << send + envelope + QStringList{"--attach", "%DIR%/nope.pdf"}
                                        << int(Cli::ExitMessage) << "attachment";
    QTest::addRow("eml-without-header-block") << send + QStringList{"--eml", "%DIR%/no-headers.eml"}
                                              << int(Cli::ExitMessage) << "MESSAGE-ERROR";
    QTest::addRow("reserved-header") << send + envelope + QStringList{"--header", "Content-Type: text/html"}
                                     << int(Cli::ExitMessage) << "Content-Type";
}

void TestCli::badInputIsRefusedBeforeAnyConnection()
{
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QString, mentions);

    // A real listener: if anything connected, the bad input got too far.
    QTcpServer listener;
    QVERIFY(listener.listen(QHostAddress::LocalHost, 0));
    args = expand(args);
    for (QString &a : args)
        a.replace(QStringLiteral("%PORT%"), QString::number(listener.serverPort()));

    RUN(r, args);
    QVERIFY2(r.exitCode == exitCode, qPrintable(r.describe()));
    QVERIFY2(r.out.isEmpty(), qPrintable(r.describe()));
    const QString err = QString::fromUtf8(r.err);
    QVERIFY2(err.contains(mentions), qPrintable(r.describe()));
    // One clear line (and, for usage errors, one pointing to --help).
    QVERIFY2(err.trimmed().split(u'\n').size() <= 2, qPrintable(r.describe()));
    QVERIFY2(!listener.waitForNewConnection(100), "smtpscope connected although the input was bad");
}

void TestCli::closedPortIsAConnectionError()
{
    const quint16 port = closedPort();
    QVERIFY(port != 0);
    const QStringList args{"send", "--host", "127.0.0.1", "--port", QString::number(port), "--connect-timeout",
                           "5000", "--from", Sender, "--to", Rcpt};
    RUN(text, args);
    QVERIFY2(text.exitCode == Cli::ExitConnection, qPrintable(text.describe()));
    QVERIFY(text.out.isEmpty());
    QVERIFY2(text.err.contains("failed"), qPrintable(text.describe()));

    RUN(r, args + QStringList{"--json"});
    QVERIFY2(r.exitCode == Cli::ExitConnection, qPrintable(r.describe()));
    JSON(doc, r);
    QCOMPARE(doc.value("cli").toObject().value("exit_code").toInt(), int(Cli::ExitConnection));
    QCOMPARE(doc.value("cli").toObject().value("exit_name").toString(), QStringLiteral("connection"));
    QCOMPARE(doc.value("error").toObject().value("category").toString(), QStringLiteral("transport"));
    QCOMPARE(doc.value("accepted").toBool(true), false);
}

void TestCli::testModePrintsTheWire()
{
    const QStringList args{"send", "--test", "--from", "Ann <" + Sender + ">", "--to", Rcpt, "--bcc",
                           "hidden@example.test", "--subject", "Wire preview", "--body", "line one\n.dot line",
                           "--header", "X-Custom: yes"};
    RUN(r, args);
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    const QByteArray wire = r.out;
    QVERIFY2(wire.startsWith("EHLO localhost\r\n"), qPrintable(r.describe()));
    QVERIFY(wire.contains("MAIL FROM:<" + Sender.toUtf8() + ">"));
    QVERIFY(wire.contains("RCPT TO:<" + Rcpt.toUtf8() + ">\r\n"));
    QVERIFY(wire.contains("RCPT TO:<hidden@example.test>\r\n"));
    QVERIFY(wire.contains("\r\nSubject: Wire preview\r\n"));
    QVERIFY(wire.contains("\r\nX-Custom: yes\r\n"));
    // RFC 5321 4.5.2: a line starting with "." is dot-stuffed on the wire.
    QVERIFY(wire.contains("\r\n..dot line\r\n"));
    QVERIFY(wire.contains("\r\n.\r\nQUIT\r\n"));
    // RFC 5322 3.6.3: Bcc is in the envelope only.
    const QByteArray data = wire.mid(wire.indexOf("DATA\r\n"));
    QVERIFY(!data.contains("hidden@example.test"));
    QVERIFY(wire.contains("test mode"));

    RUN(j, args + QStringList{"--json"});
    QVERIFY2(j.exitCode == 0, qPrintable(j.describe()));
    JSON(doc, j);
    QCOMPARE(doc.value("cli").toObject().value("test").toBool(), true);
    QCOMPARE(doc.value("accepted").toBool(), true);
    QVERIFY(doc.value("simulated_wire").toString().contains(QStringLiteral("RCPT TO:<hidden@example.test>")));
    // Small: the whole wire, with its size and SHA-256.
    const QByteArray jsonWire = doc.value("simulated_wire").toString().toUtf8();
    QCOMPARE(doc.value("simulated_wire_truncated").toBool(true), false);
    QCOMPARE(doc.value("simulated_wire_bytes").toInteger(), jsonWire.size());
    QCOMPARE(doc.value("simulated_wire_sha256").toString().toLatin1(),
             QCryptographicHash::hash(jsonWire, QCryptographicHash::Sha256).toHex());
    QCOMPARE(doc.value("RCPT").toObject().keys(), (QStringList{"hidden@example.test", Rcpt}));
}

void TestCli::progressBarRendering_data()
{
    QTest::addColumn<qint64>("done");
    QTest::addColumn<qint64>("total");
    QTest::addColumn<double>("seconds");
    QTest::addColumn<QStringList>("parts");
    QTest::addRow("start") << qint64(0) << qint64(2 * 1024 * 1024) << 0.0
                           << QStringList{"[....", "  0%", "0 B / 2.0 MiB", "--:-- left"};
    QTest::addRow("half-after-2s") << qint64(1024 * 1024) << qint64(2 * 1024 * 1024) << 2.0
                                   << QStringList{" 50%", "1.0 MiB / 2.0 MiB", "512.0 KiB/s", "0:02 left"};
    QTest::addRow("slow-minutes") << qint64(1024) << qint64(1024 * 1024) << 1.0
                                  << QStringList{"  0%", "1.0 KiB/s", "17:03 left"};
    QTest::addRow("done") << qint64(5000) << qint64(5000) << 1.0 << QStringList{"100%", "done", "#]"};
    QTest::addRow("overshoot-clamped") << qint64(9000) << qint64(5000) << 1.0 << QStringList{"100%", "done"};
}

void TestCli::progressBarRendering()
{
    QFETCH(qint64, done);
    QFETCH(qint64, total);
    QFETCH(double, seconds);
    QFETCH(QStringList, parts);
    const QString line = Cli::ProgressBar::render(done, total, seconds, 79);
    for (const QString &part : parts)
        QVERIFY2(line.contains(part), qPrintable(line + QStringLiteral(" lacks ") + part));
    QVERIFY2(line.size() <= 79, qPrintable(line));
    const qsizetype barEnd = line.indexOf(u']');
    QVERIFY(barEnd > 10);
    const int hashes = int(line.left(barEnd).count(u'#'));
    QCOMPARE(hashes, int(double(qMin(done, total)) / double(total) * double(barEnd - 1)));
}

// ---------------------------------------------------------------- real servers

void TestCli::sendsWithEachSecurityModeAndMechanism_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("security");
    QTest::addColumn<bool>("encrypted");
    QTest::addColumn<QString>("mechanism"); // empty: no AUTH
    QTest::addColumn<bool>("passwordInEnv");

    const QStringList smtp{"--host", "127.0.0.1", "--port", "%SMTP%"};
    const QStringList sub{"--host", "127.0.0.1", "--port", "%SUB%", "--tls", "--user", "tester"};
    const QStringList pw{"--password-file", "%DIR%/password"};
    QTest::addRow("plain-no-starttls") << smtp + QStringList{"--no-starttls"} << "plain" << false << "" << false;
    QTest::addRow("opportunistic") << smtp << "starttls-opportunistic" << true << "" << false;
    QTest::addRow("starttls-required") << smtp + QStringList{"--tls"} << "starttls" << true << "" << false;
    QTest::addRow("implicit-tls") << QStringList{"--host", "127.0.0.1", "--port", "%SMTPS%", "--ssl"} << "implicit-tls"
                                  << true << "" << false;
    QTest::addRow("url-smtps") << QStringList{"--url", "smtps://127.0.0.1:%SMTPS%"} << "implicit-tls" << true << ""
                               << false;
    QTest::addRow("url-esmtptls-env-password")
        << QStringList{"--url", "esmtptls://127.0.0.1:%SUB%", "--user", "tester"} << "starttls" << true
        << "SCRAM-SHA-256" << true;
    QTest::addRow("plain") << sub + pw + QStringList{"--auth", "PLAIN"} << "starttls" << true << "PLAIN" << false;
    QTest::addRow("login-env-password") << sub + QStringList{"--auth", "LOGIN"} << "starttls" << true << "LOGIN"
                                        << true;
    QTest::addRow("cram-md5") << sub + pw + QStringList{"--auth", "cram-md5"} << "starttls" << true << "CRAM-MD5"
                              << false;
    QTest::addRow("scram-sha-1") << sub + pw + QStringList{"--auth", "SCRAM-SHA-1"} << "starttls" << true
                                 << "SCRAM-SHA-1" << false;
    QTest::addRow("strongest-by-default") << sub + pw << "starttls" << true << "SCRAM-SHA-256" << false;
    QTest::addRow("xoauth2") << sub + QStringList{"--oauth-token-file", "%DIR%/token", "--auth", "XOAUTH2"}
                             << "starttls" << true << "XOAUTH2" << false;
    QTest::addRow("oauthbearer") << sub + QStringList{"--oauth-token-file", "%DIR%/token", "--auth", "OAUTHBEARER"}
                                 << "starttls" << true << "OAUTHBEARER" << false;
    QTest::addRow("smtps-auth-plain") << QStringList{"--host", "127.0.0.1", "--port", "%SMTPS%", "--ssl", "--user",
                                                     "tester", "--auth", "PLAIN"}
                                             + pw
                                      << "implicit-tls" << true << "PLAIN" << false;
}

void TestCli::sendsWithEachSecurityModeAndMechanism()
{
    REQUIRE_MAILENV();
    QFETCH(QStringList, args);
    QFETCH(QString, security);
    QFETCH(bool, encrypted);
    QFETCH(QString, mechanism);
    QFETCH(bool, passwordInEnv);
    const MailEnv &env = MailEnv::get();

    const QByteArray marker = uniqueMarker();
    const QStringList all = QStringList{"send"} + expand(args)
        + QStringList{"--cafile", env.caFile, "--from", Sender, "--to", Rcpt, "--subject", "mode test", "--body",
                      "hello\n", "--header", "X-Test-Id: " + QString::fromLatin1(marker), "--json"};
    QMap<QString, QString> extraEnv;
    if (passwordInEnv)
        extraEnv.insert(QStringLiteral("SMTPSCOPE_PASSWORD"), env.password);
    RUN(r, all, extraEnv);
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    JSON(doc, r);
    QCOMPARE(doc.value("accepted").toBool(), true);
    QCOMPARE(doc.value("security").toString(), security);
    QCOMPARE(doc.value("encrypted").toBool(), encrypted);
    QCOMPARE(doc.value("RCPT").toObject().value(Rcpt).toObject().value("code").toInt(), 250);
    QCOMPARE(doc.value("MSGID").toObject().value("code").toInt(), 250);
    QCOMPARE(doc.value("QUIT").toObject().value("code").toInt(), 221);
    QCOMPARE(doc.value("greeting").toObject().value("code").toInt(), 220);
    QVERIFY(doc.value("EHLO").isObject());
    QVERIFY(!doc.value("transcript").toArray().isEmpty());
    QVERIFY(doc.value("usage").toObject().value("bytes_sent").toInteger() > 0);
    const QStringList steps = [&] {
        QStringList s;
        for (const QJsonValue &t : doc.value("timings").toArray())
            s.append(t.toObject().value("step").toString());
        return s;
    }();
    QVERIFY2(steps.contains(QStringLiteral("connect")) && steps.contains(QStringLiteral("greeting")),
             qPrintable(steps.join(u',')));
    QCOMPARE(doc.value("cli").toObject().value("exit_code").toInt(), 0);
    if (encrypted) {
        const QJsonObject tls = doc.value("tls").toObject();
        QVERIFY(tls.value("protocol").toString().startsWith(QStringLiteral("TLSv1.")));
        QCOMPARE(tls.value("verified").toBool(), true);
    } else {
        QVERIFY(!doc.contains("tls"));
    }
    if (!mechanism.isEmpty()) {
        const QJsonArray auth = doc.value("auth").toArray();
        QVERIFY(!auth.isEmpty());
        QCOMPARE(auth.last().toObject().value("mechanism").toString(), mechanism);
        QCOMPARE(auth.last().toObject().value("code").toInt(), 235);
    } else {
        QVERIFY(!doc.contains("auth"));
    }
    // No secret on either stream without --show-secrets.
    QVERIFY(!r.both().contains(env.password.toUtf8()));
    QVERIFY(!r.both().contains(env.oauthToken));

    // What the server did: one delivery, received over the expected channel.
    const QList<QByteArray> got = Maildir::waitFor(env.maildir, marker, 1);
    QCOMPARE(got.size(), 1);
    const QByteArray delivered = got.constFirst();
    // Postfix: "by smtp.test (Postfix) with ESMTPSA id ..." (RFC 3848 protocol types).
    const QByteArray by = "(Postfix) with ";
    const QByteArray with = delivered.mid(delivered.indexOf(by) + by.size()).split(' ').value(0);
    const QByteArray expected = mechanism.isEmpty() ? (encrypted ? "ESMTPS" : "ESMTP") : "ESMTPSA";
    QVERIFY2(with == expected, delivered.left(800).constData());
    QVERIFY(delivered.contains("Subject: mode test"));
}

void TestCli::failuresAtTheRealServer_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("category");

    const QStringList sub{"--host", "127.0.0.1", "--port", "%SUB%", "--tls", "--cafile", "%CA%"};
    const QStringList envelope{"--from", Sender, "--to", Rcpt};
    QTest::addRow("wrong-password") << sub + QStringList{"--user", "tester", "--password-file", "%DIR%/wrong-password"}
                                           + envelope
                                    << int(Cli::ExitAuth) << "auth";
    QTest::addRow("bad-token") << sub + QStringList{"--user", "tester", "--oauth-token-file", "%DIR%/bad-token",
                                                    "--auth", "XOAUTH2"}
                                      + envelope
                               << int(Cli::ExitAuth) << "auth";
    QTest::addRow("auth-without-tls") << QStringList{"--host", "127.0.0.1", "--port", "%SMTP%", "--no-starttls",
                                                     "--user", "tester", "--password-file", "%DIR%/password"}
                                             + envelope
                                      << int(Cli::ExitAuth) << "auth";
    QTest::addRow("untrusted-certificate") << QStringList{"--host", "127.0.0.1", "--port", "%SMTPS%", "--ssl"}
                                                  + envelope
                                           << int(Cli::ExitTls) << "tls";
    QTest::addRow("wrong-tls-name") << QStringList{"--host", "127.0.0.1", "--port", "%SMTPS%", "--ssl", "--cafile",
                                                   "%CA%", "--tls-name", "other.test"}
                                           + envelope
                                    << int(Cli::ExitTls) << "tls";
    QTest::addRow("all-refused") << QStringList{"--host", "127.0.0.1", "--port", "%SMTP%", "--cafile", "%CA%", "--from",
                                                Sender, "--to", "%REFUSED%"}
                                 << int(Cli::ExitRejected) << "reply";
    // The submission port takes mail only from authenticated clients (554 5.7.1 at RCPT).
    QTest::addRow("submission-without-login") << sub + envelope << int(Cli::ExitRejected) << "reply";
}

void TestCli::failuresAtTheRealServer()
{
    REQUIRE_MAILENV();
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QString, category);
    const MailEnv &env = MailEnv::get();
    const QByteArray marker = uniqueMarker();
    const QStringList all = QStringList{"send"} + expand(args)
        + QStringList{"--header", "X-Test-Id: " + QString::fromLatin1(marker), "--read-timeout", "5000"};

    RUN(text, all);
    QVERIFY2(text.exitCode == exitCode, qPrintable(text.describe()));
    QVERIFY2(text.out.isEmpty(), qPrintable(text.describe()));
    QVERIFY2(text.err.contains("failed:"), qPrintable(text.describe()));

    RUN(r, all + QStringList{"--json"});
    QVERIFY2(r.exitCode == exitCode, qPrintable(r.describe()));
    JSON(doc, r);
    QCOMPARE(doc.value("cli").toObject().value("exit_code").toInt(), exitCode);
    QCOMPARE(doc.value("error").toObject().value("category").toString(), category);
    QCOMPARE(doc.value("accepted").toBool(true), false);
    QVERIFY(!r.both().contains(env.password.toUtf8()));
    // Nothing was delivered.
    QCOMPARE(Maildir::waitFor(env.maildir, marker, 1, 300).size(), 0);
}

void TestCli::someRecipientsRefused()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    const QByteArray marker = uniqueMarker();
    const QStringList args{"send", "--host", "127.0.0.1", "--port", QString::number(env.smtpPort), "--cafile",
                           env.caFile, "--from", Sender, "--to", Rcpt, "--to", env.refusedRcpt, "--header",
                           "X-Test-Id: " + QString::fromLatin1(marker)};
    RUN(text, args);
    QVERIFY2(text.exitCode == Cli::ExitSomeRefused, qPrintable(text.describe()));
    const QString line = QString::fromUtf8(text.out).trimmed();
    QVERIFY2(!line.contains(u'\n'), qPrintable(text.describe()));
    QVERIFY2(line.contains(QStringLiteral("1 of 2")) && line.contains(QStringLiteral("refused: ") + env.refusedRcpt)
                 && line.contains(QStringLiteral("550 5.1.1")),
             qPrintable(line));

    RUN(r, args + QStringList{"--json"});
    QVERIFY2(r.exitCode == Cli::ExitSomeRefused, qPrintable(r.describe()));
    JSON(doc, r);
    const QJsonObject rcpt = doc.value("RCPT").toObject();
    QCOMPARE(rcpt.value(Rcpt).toObject().value("code").toInt(), 250);
    QCOMPARE(rcpt.value(env.refusedRcpt).toObject().value("code").toInt(), 550);
    QCOMPARE(rcpt.value(env.refusedRcpt).toObject().value("enhanced").toString(), QStringLiteral("5.1.1"));
    QCOMPARE(doc.value("accepted").toBool(), true);
    QCOMPARE(doc.value("cli").toObject().value("exit_name").toString(), QStringLiteral("some-refused"));

    // Two sends, each delivered to the accepted recipient only.
    const QList<QByteArray> got = Maildir::waitFor(env.maildir, marker, 2);
    QCOMPARE(got.size(), 2);
    for (const QByteArray &m : got)
        QCOMPARE(Maildir::header(m, "X-Original-To"), Rcpt.toUtf8());
}

void TestCli::hostileServers_data()
{
    QTest::addColumn<QStringList>("scenarios");
    QTest::addColumn<QString>("cert");
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("category");

    const QStringList tls{"--tls"};
    QTest::addRow("starttls-not-offered") << QStringList{"no-starttls"} << "smtp.test" << tls << int(Cli::ExitTls)
                                          << "tls";
    QTest::addRow("starttls-refused") << QStringList{"starttls-454"} << "smtp.test" << tls << int(Cli::ExitTls)
                                      << "tls";
    QTest::addRow("wrong-certificate") << QStringList{"ok"} << "other.test" << tls << int(Cli::ExitTls) << "tls";
    QTest::addRow("injection-after-starttls") << QStringList{"inject-after-starttls"} << "smtp.test" << tls
                                              << int(Cli::ExitTls) << "tls";
    QTest::addRow("message-rejected") << QStringList{"reply-at=DOT:554 5.6.0 rejected by policy"} << "smtp.test"
                                      << tls << int(Cli::ExitRejected) << "reply";
    QTest::addRow("sender-rejected") << QStringList{"reply-at=MAIL:550 5.7.1 sender blocked"} << "smtp.test" << tls
                                     << int(Cli::ExitRejected) << "reply";
    QTest::addRow("malformed-reply") << QStringList{"mismatched-multiline"} << "smtp.test" << QStringList{}
                                     << int(Cli::ExitProtocol) << "protocol";
    QTest::addRow("silent-server") << QStringList{"silent-at=DATA"} << "smtp.test"
                                   << QStringList{"--tls", "--read-timeout", "1000"} << int(Cli::ExitConnection)
                                   << "transport";
    QTest::addRow("closed-mid-data") << QStringList{"close-mid-data"} << "smtp.test" << tls
                                     << int(Cli::ExitConnection) << "transport";
    QTest::addRow("auth-refused") << QStringList{"ok"} << "smtp.test"
                                  << QStringList{"--tls", "--user", "tester", "--password-file",
                                                 "%DIR%/wrong-password"}
                                  << int(Cli::ExitAuth) << "auth";
}

void TestCli::hostileServers()
{
    REQUIRE_MAILENV();
    QFETCH(QStringList, scenarios);
    QFETCH(QString, cert);
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(QString, category);

    HostileServer server;
    QString startError;
    QVERIFY2(server.start(hostileOptions(scenarios, cert), &startError), qPrintable(startError));
    RUN(r, QStringList{"send", "--host", "127.0.0.1", "--port", QString::number(server.port()), "--cafile",
                       MailEnv::get().caFile, "--tls-name", "smtp.test", "--from", Sender, "--to", Rcpt,
                       "--connect-timeout", "5000", "--json"}
               + expand(args));
    QVERIFY2(r.exitCode == exitCode, qPrintable(r.describe()));
    JSON(doc, r);
    QCOMPARE(doc.value("error").toObject().value("category").toString(), category);
    QCOMPARE(doc.value("cli").toObject().value("exit_code").toInt(), exitCode);
    if (exitCode == Cli::ExitTls) {
        // No silent downgrade: nothing after STARTTLS went in the clear.
        QVERIFY(!server.received(QStringLiteral("MAIL"), QStringLiteral("plain")));
        QVERIFY(!server.received(QStringLiteral("AUTH")));
    }
}

void TestCli::insecureIsStatedAndRecorded()
{
    REQUIRE_MAILENV();
    HostileServer server;
    QString startError;
    QVERIFY2(server.start(hostileOptions({QStringLiteral("ok")}, QStringLiteral("other.test")), &startError),
             qPrintable(startError));
    const QStringList args{"send", "--host", "127.0.0.1", "--port", QString::number(server.port()), "--tls",
                           "--insecure", "--from", Sender, "--to", Rcpt};
    RUN(text, args);
    QVERIFY2(text.exitCode == 0, qPrintable(text.describe()));
    QVERIFY2(text.err.contains("--insecure"), qPrintable(text.describe()));
    QVERIFY2(text.out.contains("NOT verified"), qPrintable(text.describe()));

    RUN(r, args + QStringList{"--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    QVERIFY(r.err.contains("--insecure"));
    JSON(doc, r);
    QCOMPARE(doc.value("tls").toObject().value("insecure").toBool(), true);
    QCOMPARE(doc.value("tls").toObject().value("verified").toBool(true), false);
    QVERIFY(!doc.value("tls").toObject().value("errors").toArray().isEmpty());
    QCOMPARE(doc.value("cli").toObject().value("insecure").toBool(), true);
    QCOMPARE(server.events(QStringLiteral("data-bytes")).size(), 2); // two sends, two messages
}

void TestCli::transcriptIsLive()
{
    // The server never answers MAIL: the transcript up to MAIL FROM is on stderr
    // while the command still waits for the reply (swaks-like), not only after
    // the read timeout ends it.
    REQUIRE_MAILENV();
    HostileServer server;
    QString startError;
    QVERIFY2(server.start(hostileOptions({QStringLiteral("silent-at=MAIL")}), &startError), qPrintable(startError));
    QProcess p;
    p.setProcessEnvironment(cliEnvironment());
    p.start(QStringLiteral(SMTPSCOPE_BINARY),
            {"send", "--host", "127.0.0.1", "--port", QString::number(server.port()), "--no-starttls", "--from",
             Sender, "--to", Rcpt, "--read-timeout", "8000", "--transcript"});
    QVERIFY(p.waitForStarted(10000));
    p.closeWriteChannel();
    QByteArray err;
    QElapsedTimer t;
    t.start();
    while (!err.contains("MAIL FROM:") && t.elapsed() < 6000 && p.state() == QProcess::Running) {
        p.waitForReadyRead(200);
        err += p.readAllStandardError();
    }
    const bool stillRunning = p.state() == QProcess::Running;
    QVERIFY2(err.contains("MAIL FROM:"), err.constData());
    QVERIFY2(stillRunning, "the transcript came only when the command ended");
    QVERIFY(p.waitForFinished(ProcessTimeoutMs));
    err += p.readAllStandardError();
    QCOMPARE(p.exitCode(), int(Cli::ExitConnection)); // the read timeout
    QVERIFY2(err.contains("SOCKET-TIMEOUT") && err.contains("no reply from the server in time"), err.constData());
    // Never before the time given (the transcript's clock: MAIL FROM sent, then the error).
    double mailAt = -1, errorAt = -1;
    for (const QByteArray &line : err.split('\n')) {
        const QList<QByteArray> f = line.simplified().split(' ');
        if (f.size() > 2 && f.at(2).startsWith("MAIL"))
            mailAt = f.at(0).toDouble();
        if (f.size() > 2 && f.at(1) == "!")
            errorAt = f.at(0).toDouble();
    }
    QVERIFY2(mailAt >= 0 && errorAt - mailAt >= 7.999, err.constData());
}

void TestCli::secretsOnlyWithShowSecrets()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    // RFC 4616: AUTH PLAIN carries base64("\0user\0password").
    const QByteArray plainPayload = QByteArray("\0tester\0", 8).append(env.password.toUtf8()).toBase64();
    const QStringList args{"send", "--host", "127.0.0.1", "--port", QString::number(env.submissionPort), "--tls",
                           "--cafile", env.caFile, "--user", "tester", "--password-file", path("password"), "--auth",
                           "PLAIN", "--from", Sender, "--to", Rcpt, "--transcript", "--json"};
    RUN(hidden, args);
    QVERIFY2(hidden.exitCode == 0, qPrintable(hidden.describe()));
    QVERIFY(hidden.err.contains("AUTH PLAIN"));
    QVERIFY(!hidden.both().contains(plainPayload));
    QVERIFY(!hidden.both().contains(env.password.toUtf8()));

    RUN(shown, args + QStringList{"--show-secrets"});
    QVERIFY2(shown.exitCode == 0, qPrintable(shown.describe()));
    QVERIFY2(shown.err.contains(plainPayload), qPrintable(shown.describe()));

    // A password inside --url: accepted with a warning, never printed back.
    RUN(url, QStringList{"send", "--url",
                         QStringLiteral("esmtptls://tester:%1@127.0.0.1:%2").arg(env.password).arg(env.submissionPort),
                         "--cafile", env.caFile, "--from", Sender, "--to", Rcpt, "--transcript"});
    QVERIFY2(url.exitCode == 0, qPrintable(url.describe()));
    QVERIFY(url.err.contains("visible to other local users"));
    QVERIFY(!url.both().contains(env.password.toUtf8()));
}

void TestCli::eventsAsJsonLines()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    const QByteArray plainPayload = QByteArray("\0tester\0", 8).append(env.password.toUtf8()).toBase64();
    const QStringList args{"send", "--host", "127.0.0.1", "--port", QString::number(env.submissionPort), "--tls",
                           "--cafile", env.caFile, "--user", "tester", "--password-file", path("password"), "--auth",
                           "PLAIN", "--from", Sender, "--to", Rcpt, "--subject", "events test", "--no-history"};
    // Every line on stdout is one JSON object; the bytes the
    // PACKET_SENT events carry, joined, are what went to the server.
    struct Events
    {
        QList<QJsonObject> records;
        QByteArray sent;
        QString summary;
    };
    auto eventsOf = [](const Run &r) {
        Events e;
        QList<QByteArray> lines = r.out.split('\n');
        while (!lines.isEmpty() && lines.constLast().isEmpty())
            lines.removeLast();
        // stdout is JSON lines only; the summary is the last line on stderr.
        e.summary = QString::fromUtf8(r.err.trimmed().split('\n').constLast());
        for (const QByteArray &line : std::as_const(lines)) {
            QJsonParseError error;
            const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
            if (error.error != QJsonParseError::NoError || !doc.isObject())
                return Events{};
            e.records.append(doc.object());
            if (doc.object().value("event_name").toString() == u"PACKET_SENT")
                e.sent += QByteArray::fromBase64(doc.object().value("data_base64").toString().toLatin1());
        }
        return e;
    };

    RUN(data, args + QStringList{"--events=data"});
    QVERIFY2(data.exitCode == 0, qPrintable(data.describe()));
    const Events withData = eventsOf(data);
    QVERIFY2(withData.records.size() > 10, qPrintable(data.describe()));
    QVERIFY2(withData.summary.startsWith(u"accepted for 1 of 1"), qPrintable(withData.summary));
    QStringList names;
    for (const QJsonObject &o : withData.records)
        names.append(o.value("event_name").toString());
    for (const char *name : {"CONNECTING", "CONNECTED", "START_SSL", "SSL_ESTABLISHED", "COMMAND_SENT",
                             "REPLY_RECEIVED", "PACKET_SENT", "PACKET_READ"})
        QVERIFY2(names.contains(QLatin1String(name)), name);
    // The bytes of the send, AUTH masked (docs/security.md, section H).
    QVERIFY2(withData.sent.contains("EHLO localhost\r\n"), withData.sent.constData());
    QVERIFY2(withData.sent.contains("Subject: events test\r\n"), withData.sent.constData());
    QVERIFY2(withData.sent.contains("\r\n.\r\n") || withData.sent.contains("BDAT"), withData.sent.constData());
    QVERIFY2(withData.sent.contains("AUTH PLAIN "), withData.sent.constData());
    QVERIFY(!data.both().contains(plainPayload));
    QVERIFY(!data.both().contains(env.password.toUtf8()));

    // With --show-secrets the payload is the real one.
    RUN(shown, args + QStringList{"--events=data", "--show-secrets"});
    QVERIFY2(shown.exitCode == 0, qPrintable(shown.describe()));
    QVERIFY2(eventsOf(shown).sent.contains("AUTH PLAIN " + plainPayload), qPrintable(shown.describe()));

    // Without "=data": the events, no bytes.
    RUN(plain, args + QStringList{"--events"});
    QVERIFY2(plain.exitCode == 0, qPrintable(plain.describe()));
    const Events noData = eventsOf(plain);
    QVERIFY(noData.records.size() > 10);
    for (const QJsonObject &o : noData.records)
        QVERIFY(!o.contains("data_base64"));

    // Warnings: on stderr, and among the events.
    RUN(slow, args + QStringList{"--events", "--warn-slow-ms", "1"});
    QVERIFY2(slow.exitCode == 0, qPrintable(slow.describe()));
    QVERIFY2(slow.err.contains("warning: ") && slow.err.contains(" took "), qPrintable(slow.describe()));
    bool warningEvent = false;
    for (const QJsonObject &o : eventsOf(slow).records)
        warningEvent = warningEvent || o.value("type").toString() == u"SOCKET-OPERATION-WARNING";
    QVERIFY(warningEvent);

    for (const QStringList &bad : {QStringList{"--events=all"}, QStringList{"--warn-slow-ms", "-1"},
                                   QStringList{"--warn-min-rate", "fast"}, QStringList{"--events", "--test"}}) {
        RUN(r, args + bad);
        QVERIFY2(r.exitCode == Cli::ExitUsage, qPrintable(r.describe()));
        QVERIFY2(r.err.contains(bad.constFirst().section(u'=', 0, 0).toUtf8()), qPrintable(r.describe()));
    }
}

void TestCli::everySettingFromTheCommandLine()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    writeFile(QStringLiteral("token"), env.oauthToken + "\n");
    const QStringList base{"send", "--test", "--json", "--from", Sender, "--to", Rcpt};

    // The defaults: ConnectionSettings's own (test mode connects to "localhost").
    RUN(plain, base);
    QVERIFY2(plain.exitCode == 0, qPrintable(plain.describe()));
    JSON(plainDoc, plain);
    ConnectionSettings defaults;
    defaults.host = QStringLiteral("localhost");
    defaults.testMode = true;
    QCOMPARE(plainDoc.value("settings").toObject().toVariantMap(), defaults.toVariantMap());

    // Each field: the option that sets it, and the value the settings then hold.
    struct Row
    {
        QStringList args;
        QVariant expected;
    };
    const QMap<QString, Row> rows{
        {"host", {{"--host", "mx.example.test"}, "mx.example.test"}},
        {"port", {{"--port", "2525"}, 2525}},
        {"security", {{"--ssl"}, "implicit-tls"}},
        {"user", {{"--user", "bob"}, "bob"}},
        {"mechanism", {{"--auth", "LOGIN"}, "LOGIN"}},
        {"allow_plaintext_auth", {{"--allow-plaintext-auth"}, true}},
        {"ca_file", {{"--cafile", env.caFile}, env.caFile}},
        {"verify_peer", {{"--insecure"}, false}},
        {"peer_name", {{"--tls-name", "smtp.test"}, "smtp.test"}},
        {"ehlo_name", {{"--ehlo", "client.example.test"}, "client.example.test"}},
        {"connect_timeout_ms", {{"--connect-timeout", "1234"}, 1234}},
        {"read_timeout_ms", {{"--read-timeout", "2345"}, 2345}},
        {"data_timeout_ms", {{"--data-timeout", "3456"}, 3456}},
        {"pipelining", {{"--no-pipelining"}, false}},
        {"chunking", {{"--no-chunking"}, false}},
        {"show_secrets", {{"--show-secrets"}, true}},
        {"warn_slow_ms", {{"--warn-slow-ms", "50"}, 50}},
        {"warn_min_bytes_per_second", {{"--warn-min-rate", "1000"}, 1000}},
    };
    // Secrets are set by files and checked by a real login below; test_mode is
    // --test itself; keep_alive is the window's (a command ends with its session).
    const QStringList elsewhere{"password", "oauth_token", "test_mode", "keep_alive"};
    for (const ConnectionSettings::Field &f : ConnectionSettings::fields()) {
        const QString key = QString::fromLatin1(f.key);
        QVERIFY2(rows.contains(key) != elsewhere.contains(key), f.key);
        if (!rows.contains(key))
            continue;
        RUN(r, base + rows.value(key).args);
        QVERIFY2(r.exitCode == 0, qPrintable(key + u'\n' + r.describe()));
        JSON(doc, r);
        const QVariantMap got = doc.value("settings").toObject().toVariantMap();
        QVariantMap expected = defaults.toVariantMap();
        expected.insert(key, rows.value(key).expected);
        if (key == u"security")
            expected.insert(QStringLiteral("port"), 465); // --ssl's default port
        QCOMPARE(got, expected);
    }

    // The secrets, through a real login: the password from --password-file, the
    // bearer token from --oauth-token-file (RFC 7628); never in the settings.
    const QStringList sub{"send", "--host", "127.0.0.1", "--port", QString::number(env.submissionPort), "--tls",
                          "--cafile", env.caFile, "--user", "tester", "--from", Sender, "--to", Rcpt, "--json",
                          "--transcript"};
    RUN(password, sub + QStringList{"--password-file", path("password"), "--auth", "PLAIN", "--no-history"});
    QVERIFY2(password.exitCode == 0 && password.err.contains("S [tls] 235"), qPrintable(password.describe()));
    RUN(token, sub + QStringList{"--oauth-token-file", path("token"), "--auth", "XOAUTH2", "--no-history"});
    QVERIFY2(token.exitCode == 0 && token.err.contains("S [tls] 235"), qPrintable(token.describe()));
    for (const Run *r : {&password, &token}) {
        QVERIFY(!r->out.contains(env.password.toUtf8()));
        QVERIFY(!r->out.contains(env.oauthToken));
    }

    // The settings a session was made with survive its history record.
    const QString db = path(QStringLiteral("settings.sqlite"));
    RUN(recorded, sub + QStringList{"--password-file", path("password"), "--ehlo", "client.example.test",
                                    "--read-timeout", "4321", "--no-pipelining", "--warn-slow-ms", "60000",
                                    "--history", db});
    QVERIFY2(recorded.exitCode == 0, qPrintable(recorded.describe()));
    JSON(recordedDoc, recorded);
    const qint64 id = recordedDoc.value("cli").toObject().value("history_id").toInteger();
    QVERIFY(id > 0);
    RUN(shown, {"history", "show", QString::number(id), "--json", "--history", db});
    QVERIFY2(shown.exitCode == 0, qPrintable(shown.describe()));
    JSON(record, shown);
    const QJsonObject stored = record.value("result").toObject().value("settings").toObject();
    QCOMPARE(stored, recordedDoc.value("settings").toObject());
    QCOMPARE(stored.value("read_timeout_ms").toInt(), 4321);
    QCOMPARE(stored.value("ehlo_name").toString(), QStringLiteral("client.example.test"));
    QCOMPARE(stored.value("pipelining").toBool(), false);
    QCOMPARE(stored.value("test_mode").toBool(), false);
    QCOMPARE(stored.value("security").toString(), QStringLiteral("starttls"));
}

void TestCli::timingsAgreeEverywhere()
{
    // One clock: for one send, each step's duration is the same in the result's
    // timings, the transcript, the events and the history record (within 1 ms).
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    const QString db = path(QStringLiteral("clock.sqlite"));
    RUN(r, {"send", "--host", "127.0.0.1", "--port", QString::number(env.submissionPort), "--tls", "--cafile",
            env.caFile, "--user", "tester", "--password-file", path("password"), "--auth", "PLAIN", "--from", Sender,
            "--to", Rcpt, "--json", "--events", "--history", db});
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    // stdout: one event per line, then the indented result document.
    QList<QJsonObject> events;
    QByteArray document;
    for (const QByteArray &line : r.out.split('\n')) {
        if (!document.isEmpty() || line == "{") {
            document += line + '\n';
            continue;
        }
        if (line.isEmpty())
            continue;
        const QJsonDocument e = QJsonDocument::fromJson(line);
        QVERIFY2(e.isObject(), line.constData());
        events.append(e.object());
    }
    const QJsonObject doc = QJsonDocument::fromJson(document).object();
    QVERIFY2(!doc.isEmpty(), r.out.constData());

    QMap<QString, qint64> result;
    for (const QJsonValue &t : doc.value("timings").toArray())
        result.insert(t.toObject().value("step").toString(), t.toObject().value("us").toInteger());

    // The first event of `name` (and `verb`), and the first transcript entry
    // whose text starts with `prefix` (and whose direction is `dir`), after `from`.
    auto eventTime = [&events](const char *name, const QString &verb = {}) -> qint64 {
        for (const QJsonObject &e : events) {
            if (e.value("event_name").toString() == QLatin1String(name)
                && (verb.isEmpty() || e.value("verb").toString() == verb))
                return e.value("time").toInteger();
        }
        return -1;
    };
    const QJsonArray transcript = doc.value("transcript").toArray();
    auto transcriptTime = [&transcript](const QString &dir, const QString &prefix) -> qint64 {
        for (const QJsonValue &v : transcript) {
            const QJsonObject o = v.toObject();
            if (o.value("dir").toString() == dir && o.value("text").toString().startsWith(prefix))
                return o.value("time_us").toInteger();
        }
        return -1;
    };
    struct Step
    {
        QString step;
        qint64 events;
        qint64 transcript;
    };
    const QList<Step> steps{
        {"connect", eventTime("CONNECTED") - eventTime("CONNECTING"),
         transcriptTime("info", "connected to") - transcriptTime("info", "connecting to")},
        {"tls", eventTime("SSL_ESTABLISHED") - eventTime("START_SSL"),
         transcriptTime("info", "TLS established") - transcriptTime("info", "starting TLS")},
        {"AUTH", eventTime("REPLY_RECEIVED", "AUTH") - eventTime("COMMAND_SENT", "AUTH"),
         transcriptTime("server", "235") - transcriptTime("client", "AUTH")},
        {"BDAT LAST", eventTime("REPLY_RECEIVED", "BDAT LAST") - eventTime("COMMAND_SENT", "BDAT LAST"),
         transcriptTime("server", "250 2.0.0") - transcriptTime("client", "BDAT")},
    };
    for (const Step &s : steps) {
        QVERIFY2(result.contains(s.step), qPrintable(s.step));
        const qint64 us = result.value(s.step);
        const QString what = QStringLiteral("%1: result %2 us, events %3 us, transcript %4 us")
                                 .arg(s.step)
                                 .arg(us)
                                 .arg(s.events)
                                 .arg(s.transcript);
        QVERIFY2(s.events >= 0 && s.transcript >= 0, qPrintable(what));
        QVERIFY2(qAbs(s.events - us) <= 1000, qPrintable(what));
        QVERIFY2(qAbs(s.transcript - us) <= 1000, qPrintable(what));
    }

    // The history record keeps the very same figures.
    const qint64 id = doc.value("cli").toObject().value("history_id").toInteger();
    RUN(shown, {"history", "show", QString::number(id), "--json", "--history", db});
    QVERIFY2(shown.exitCode == 0, qPrintable(shown.describe()));
    JSON(record, shown);
    QCOMPARE(record.value("result").toObject().value("timings").toArray(), doc.value("timings").toArray());
}

void TestCli::emlResendRoundTrip()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    const QByteArray marker = uniqueMarker();
    // LF line ends on disk: the engine makes them CRLF (RFC 5322 2.3); Bcc is dropped.
    QByteArray eml = testMessage(marker, Sender, {Rcpt}, "first line\n.leading dot\nlast line\n",
                                 "eml round trip");
    eml.replace("\r\n", "\n");
    eml.insert(eml.indexOf("Subject:"), "Bcc: blind@example.test\n");
    writeFile(QStringLiteral("original.eml"), eml);

    RUN(r, {"send", "--host", "127.0.0.1", "--port", QString::number(env.smtpPort), "--cafile", env.caFile, "--eml",
            path("original.eml"), "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    JSON(doc, r);
    // The envelope came from the headers: To and Bcc.
    QCOMPARE(doc.value("RCPT").toObject().keys(), (QStringList{"blind@example.test", Rcpt}));
    QCOMPARE(doc.value("subject").toString(), QStringLiteral("eml round trip"));

    QList<QByteArray> got = Maildir::waitFor(env.maildir, marker, 2);
    QCOMPARE(got.size(), 2);
    QByteArray expected = eml;
    expected.remove(expected.indexOf("Bcc:"), expected.indexOf('\n', expected.indexOf("Bcc:")) + 1
                                                   - expected.indexOf("Bcc:"));
    for (const QByteArray &m : got)
        QCOMPARE(Maildir::submittedPart(m, "X-Test-Id:"), expected);

    // Resend what was delivered, to another recipient given on the command line:
    // it arrives again unchanged.
    writeFile(QStringLiteral("delivered.eml"), Maildir::submittedPart(got.constFirst(), "X-Test-Id:"));
    const QString second = QStringLiteral("second@example.test");
    RUN(again, {"send", "--host", "127.0.0.1", "--port", QString::number(env.smtpPort), "--cafile", env.caFile,
                "--eml", path("delivered.eml"), "--to", second});
    QVERIFY2(again.exitCode == 0, qPrintable(again.describe()));
    got = Maildir::waitFor(env.maildir, marker, 3);
    QCOMPARE(got.size(), 3);
    bool found = false;
    for (const QByteArray &m : got) {
        if (Maildir::header(m, "X-Original-To") == second.toUtf8()) {
            found = true;
            QCOMPARE(Maildir::submittedPart(m, "X-Test-Id:"), expected);
        }
    }
    QVERIFY(found);
}

void TestCli::countSendsOverOneSession()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    const QByteArray marker = uniqueMarker();
    constexpr int Count = 100;
    RUN(r, {"send", "--host", "127.0.0.1", "--port", QString::number(env.smtpPort), "--cafile", env.caFile, "--from",
            Sender, "--to", Rcpt, "--header", "X-Test-Id: " + QString::fromLatin1(marker), "--count",
            QString::number(Count), "--json", "--transcript"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    JSON(doc, r);
    const QJsonObject cli = doc.value("cli").toObject();
    QCOMPARE(cli.value("messages").toInt(), Count);
    QCOMPARE(cli.value("accepted_messages").toInt(), Count);
    QVERIFY(cli.value("messages_per_second").toDouble() > 0.0);
    QVERIFY(cli.value("elapsed").toDouble() > 0.0);
    const QJsonArray messages = doc.value("messages").toArray();
    QCOMPARE(messages.size(), Count);
    for (const QJsonValue &m : messages)
        QCOMPARE(m.toObject().value("MSGID").toObject().value("code").toInt(), 250);
    // One session: one greeting, one STARTTLS, one QUIT in the transcript.
    QCOMPARE(r.err.count("S       220 smtp.test"), 1);
    QCOMPARE(r.err.count("C       STARTTLS"), 1);
    QCOMPARE(r.err.count("QUIT"), 1);
    QCOMPARE(Maildir::waitFor(env.maildir, marker, Count, 30000).size(), Count);
}

void TestCli::countPartlyAcceptedIsSomeRefused()
{
    // A capture server that keeps 3 messages answers 452 4.3.1 at MAIL once it
    // holds them (docs/cli.md, quotas): 3 of 5 accepted, then none of 2.
    QTemporaryDir folder;
    QVERIFY(folder.isValid());
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), folder.path(), {QStringLiteral("--quota-messages"), QStringLiteral("3")},
                         &error),
             qPrintable(error));
    const QStringList args{"send", "--host", "127.0.0.1", "--port", QString::number(serve.port), "--cafile", serve.caFile,
                           "--from", Sender, "--to", Rcpt, "--json"};
    RUN(partly, args + QStringList{"--count", "5"});
    QVERIFY2(partly.exitCode == Cli::ExitSomeRefused, qPrintable(partly.describe()));
    JSON(doc, partly);
    const QJsonObject cli = doc.value("cli").toObject();
    QCOMPARE(cli.value("exit_name").toString(), QStringLiteral("some-refused"));
    QCOMPARE(cli.value("messages").toInt(), 5);
    QCOMPARE(cli.value("accepted_messages").toInt(), 3);
    const QJsonArray messages = doc.value("messages").toArray();
    QCOMPARE(messages.size(), 5);
    for (int i = 0; i < 5; ++i)
        QCOMPARE(messages.at(i).toObject().value("accepted").toBool(), i < 3);

    RUN(none, args + QStringList{"--count", "2"});
    QVERIFY2(none.exitCode == Cli::ExitRejected, qPrintable(none.describe()));
    JSON(noneDoc, none);
    QCOMPARE(noneDoc.value("cli").toObject().value("accepted_messages").toInt(), 0);
    QCOMPARE(noneDoc.value("cli").toObject().value("exit_name").toString(), QStringLiteral("rejected"));
}

void TestCli::progressBarOnStderr()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    QByteArray body;
    while (body.size() < 3 * 1024 * 1024)
        body += "All work and no play makes a long message for the progress bar.\n";
    writeFile(QStringLiteral("large.txt"), body);
    const QStringList args{"send", "--host", "127.0.0.1", "--port", QString::number(env.smtpPort), "--cafile",
                           env.caFile, "--from", Sender, "--to", Rcpt, "--body-file", path("large.txt")};
    RUN(always, args + QStringList{"--progress", "always"});
    QVERIFY2(always.exitCode == 0, qPrintable(always.describe()));
    QVERIFY2(always.err.contains("100%") && always.err.contains("done") && always.err.contains("MiB"),
             qPrintable(always.describe()));
    QVERIFY(!always.out.contains("%")); // stdout holds only the summary
    // auto: stderr is a pipe here, not a terminal: no bar.
    RUN(automatic, args);
    QVERIFY2(automatic.exitCode == 0, qPrintable(automatic.describe()));
    QVERIFY2(!automatic.err.contains("["), qPrintable(automatic.describe()));
}

// ---------------------------------------------------------------- probe

void TestCli::probeReportsWhatTheServerOffers()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();

    // What the server offers, asked directly: EHLO in the clear, and over implicit TLS.
    QTcpSocket plain;
    plain.connectToHost(QHostAddress::LocalHost, env.smtpPort);
    QVERIFY(plain.waitForConnected(5000));
    const QStringList offeredPlain = ehloCapabilities(plain);
    QSslSocket secure;
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    config.setCaCertificates(QSslCertificate::fromPath(env.caFile));
    secure.setSslConfiguration(config);
    secure.setPeerVerifyName(env.certName);
    secure.connectToHostEncrypted(QStringLiteral("127.0.0.1"), env.smtpsPort);
    QVERIFY2(secure.waitForEncrypted(5000), qPrintable(secure.errorString()));
    const QStringList offeredTls = ehloCapabilities(secure);
    QVERIFY(offeredPlain.contains(QStringLiteral("STARTTLS")));
    QStringList mechanisms;
    for (const QString &c : offeredTls) {
        if (c.startsWith(QStringLiteral("AUTH ")))
            mechanisms = c.mid(5).split(u' ', Qt::SkipEmptyParts);
    }
    QVERIFY(!mechanisms.isEmpty());

    RUN(r, {"probe", "--host", "127.0.0.1", "--port", QString::number(env.smtpPort), "--cafile", env.caFile,
            "--no-dns", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    JSON(doc, r);
    QCOMPARE(toStrings(doc.value("capabilities_before_tls")), offeredPlain);
    QCOMPARE(toStrings(doc.value("capabilities")), offeredTls);
    QCOMPARE(toStrings(doc.value("auth_mechanisms")), mechanisms);
    QCOMPARE(doc.value("greeting").toObject().value("code").toInt(), 220);
    QCOMPARE(doc.value("QUIT").toObject().value("code").toInt(), 221);
    QCOMPARE(doc.value("addresses").toArray().first().toObject().value("address").toString(),
             QStringLiteral("127.0.0.1"));
    const QJsonObject tls = doc.value("tls").toObject();
    QCOMPARE(tls.value("protocol").toString(), secure.sessionProtocol() == QSsl::TlsV1_3
                                                   ? QStringLiteral("TLSv1.3")
                                                   : tls.value("protocol").toString());
    QVERIFY(!tls.value("cipher").toString().isEmpty());
    const QJsonArray chain = tls.value("chain").toArray();
    QCOMPARE(chain.size(), secure.peerCertificateChain().size());
    QCOMPARE(chain.first().toObject().value("sha256").toString(),
             QString::fromLatin1(secure.peerCertificate().digest(QCryptographicHash::Sha256).toHex(':').toUpper()));
    const QJsonObject check = doc.value("certificate_check").toObject();
    QCOMPARE(check.value("name_matches").toBool(), true);
    QCOMPARE(check.value("verified").toBool(), true);
    QCOMPARE(check.value("valid_now").toArray().first().toBool(), true);
    QCOMPARE(doc.value("login").toObject().value("attempted").toBool(true), false);
    QStringList steps;
    for (const QJsonValue &t : doc.value("timings").toArray())
        steps.append(t.toObject().value("step").toString());
    for (const char *step : {"connect", "greeting", "EHLO", "STARTTLS", "tls"})
        QVERIFY2(steps.contains(QString::fromLatin1(step)), qPrintable(steps.join(u',')));

    // The same in text.
    RUN(text, {"probe", "--host", "127.0.0.1", "--port", QString::number(env.smtpPort), "--cafile", env.caFile,
               "--no-dns"});
    QVERIFY2(text.exitCode == 0, qPrintable(text.describe()));
    const QString out = QString::fromUtf8(text.out);
    QVERIFY2(out.contains(QStringLiteral("AUTH offered   ") + mechanisms.join(QStringLiteral(", "))), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("verified, name 127.0.0.1 matches")), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("before TLS")), qPrintable(out));
}

void TestCli::probeLogin()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    const QStringList base{"probe", "--host", "127.0.0.1", "--port", QString::number(env.submissionPort), "--tls",
                           "--cafile", env.caFile, "--user", "tester", "--no-dns", "--json"};
    RUN(ok, base + QStringList{"--password-file", path("password")});
    QVERIFY2(ok.exitCode == 0, qPrintable(ok.describe()));
    JSON(good, ok);
    QCOMPARE(good.value("login").toObject().value("succeeded").toBool(), true);
    QCOMPARE(good.value("login").toObject().value("mechanism").toString(), QStringLiteral("SCRAM-SHA-256"));
    QVERIFY(!ok.both().contains(env.password.toUtf8()));

    RUN(bad, base + QStringList{"--password-file", path("wrong-password")});
    QVERIFY2(bad.exitCode == Cli::ExitAuth, qPrintable(bad.describe()));
    JSON(refused, bad);
    QCOMPARE(refused.value("login").toObject().value("attempted").toBool(), true);
    QCOMPARE(refused.value("login").toObject().value("succeeded").toBool(true), false);
    QCOMPARE(refused.value("error").toObject().value("category").toString(), QStringLiteral("auth"));
}

void TestCli::probeSendsNothingPastAuth()
{
    REQUIRE_MAILENV();
    // The session alone (--no-checklist) and the checklist without a transaction
    // send nothing past AUTH; the full checklist adds MAIL/RCPT ended by RSET, and
    // never DATA or BDAT.
    for (const QString &mode : {QStringLiteral("--no-checklist"), QStringLiteral("--no-transaction"), QString()}) {
        HostileServer server;
        QString startError;
        QVERIFY2(server.start(hostileOptions({QStringLiteral("ok")}), &startError), qPrintable(startError));
        const QStringList base{"probe", "--host", "127.0.0.1", "--port", QString::number(server.port()), "--tls",
                               "--cafile", MailEnv::get().caFile, "--user", "tester", "--password-file",
                               path("password"), "--no-dns", "--read-timeout", "5000", "--transcript"};
        RUN(r, mode.isEmpty() ? base : base + QStringList{mode});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        const QStringList lines = server.lines();
        QVERIFY2(lines.contains(QStringLiteral("QUIT")), qPrintable(lines.join(u'|')));
        bool sawMail = false;
        for (const QString &l : lines) {
            for (const char *verb : {"DATA", "BDAT"})
                QVERIFY2(!l.startsWith(QString::fromLatin1(verb), Qt::CaseInsensitive), qPrintable(l));
            sawMail = sawMail || l.startsWith(QStringLiteral("MAIL"), Qt::CaseInsensitive)
                || l.startsWith(QStringLiteral("RCPT"), Qt::CaseInsensitive);
        }
        QCOMPARE(sawMail, mode.isEmpty());
        if (mode.isEmpty())
            QVERIFY2(lines.contains(QStringLiteral("RSET")), qPrintable(lines.join(u'|')));
        QVERIFY(server.received(QStringLiteral("AUTH"), QStringLiteral("tls")));
        QVERIFY(r.out.contains("succeeded as tester"));
        QVERIFY(r.err.contains("C [tls] QUIT"));
        QVERIFY(!r.both().contains(MailEnv::get().password.toUtf8()));
    }
}

void TestCli::probeReportsABadCertificate()
{
    REQUIRE_MAILENV();
    HostileServer server;
    QString startError;
    QVERIFY2(server.start(hostileOptions({QStringLiteral("ok")}, QStringLiteral("other.test")), &startError),
             qPrintable(startError));
    RUN(r, {"probe", "--host", "127.0.0.1", "--port", QString::number(server.port()), "--tls", "--cafile",
            MailEnv::get().caFile, "--no-checklist", "--json"});
    QVERIFY2(r.exitCode == Cli::ExitTls, qPrintable(r.describe()));
    JSON(doc, r);
    const QJsonObject check = doc.value("certificate_check").toObject();
    QCOMPARE(check.value("name_matches").toBool(true), false);
    QCOMPARE(check.value("verified").toBool(true), false);
    const QJsonArray chain = doc.value("tls").toObject().value("chain").toArray();
    QVERIFY(!chain.isEmpty());
    QVERIFY(toStrings(chain.first().toObject().value("sans")).contains(QStringLiteral("DNS:other.test")));
    QCOMPARE(doc.value("error").toObject().value("category").toString(), QStringLiteral("tls"));
}

// ---------------------------------------------------------------- probe checklist

namespace {

// The checks of a probe --json document with a given verdict, by id.
QMap<QString, QJsonObject> checksWith(const QJsonObject &doc, const QString &verdict)
{
    QMap<QString, QJsonObject> out;
    for (const QJsonValue &v : doc.value("diagnosis").toObject().value("checks").toArray()) {
        const QJsonObject c = v.toObject();
        if (c.value("verdict").toString() == verdict)
            out.insert(c.value("id").toString(), c);
    }
    return out;
}

} // namespace

void TestCli::probeNamesEachProblem_data()
{
    QTest::addColumn<QString>("listener");    // env port
    QTest::addColumn<QStringList>("mode");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QStringList>("failing"); // check ids that must fail (and nothing else)
    QTest::addColumn<QString>("words");       // in the first failing check's summary

    // Healthy: submission with STARTTLS required, login, verified certificate.
    QTest::addRow("healthy-submission") << "SUB" << QStringList{"--tls", "--user", "tester"} << 0 << QStringList{}
                                        << QString();
    QTest::addRow("healthy-smtps") << "SMTPS" << QStringList{"--ssl", "--user", "tester"} << 0 << QStringList{}
                                   << QString();
    // Expired certificate and AUTH offered before TLS: the session stops at the
    // certificate (exit 5) and the checklist names both.
    QTest::addRow("expired-and-auth-before-tls")
        << "BAD" << QStringList{"--tls"} << int(Cli::ExitTls)
        << QStringList{"auth-before-tls", "certificate-expiry"} << QStringLiteral("expired");
    // 465-style implicit TLS expected, the port speaks STARTTLS.
    QTest::addRow("implicit-tls-port-speaks-starttls")
        << "BAD" << QStringList{"--ssl"} << int(Cli::ExitTls)
        << QStringList{"auth-before-tls", "certificate-expiry", "tls-mode"} << QStringLiteral("STARTTLS");
    // STARTTLS expected, the port speaks implicit TLS: no greeting, then a handshake.
    QTest::addRow("starttls-port-speaks-implicit-tls")
        << "SMTPS" << QStringList{"--tls"} << int(Cli::ExitConnection) << QStringList{"tls-mode"}
        << QStringLiteral("implicit TLS");
    QTest::addRow("certificate-for-another-name")
        << "WRONGNAME" << QStringList{"--tls"} << int(Cli::ExitTls) << QStringList{"certificate-name"}
        << QStringLiteral("other.test");
}

void TestCli::probeNamesEachProblem()
{
    REQUIRE_MAILENV();
    QFETCH(QString, listener);
    QFETCH(QStringList, mode);
    QFETCH(int, exitCode);
    QFETCH(QStringList, failing);
    QFETCH(QString, words);
    const MailEnv &env = MailEnv::get();
    const QMap<QString, quint16> ports{{"SUB", env.submissionPort}, {"SMTPS", env.smtpsPort},
                                       {"BAD", env.badPort}, {"WRONGNAME", env.wrongNamePort}};
    QVERIFY2(ports.value(listener) != 0, "the mail server env lacks the misconfigured listeners: restart it");
    QStringList args{"probe", "--host", "127.0.0.1", "--port", QString::number(ports.value(listener)),
                     "--cafile", env.caFile, "--tls-name", env.certName, "--no-dns", "--read-timeout", "3000"};
    args += mode;
    if (mode.contains(QStringLiteral("--user")))
        args += QStringList{"--password-file", path("password")};

    RUN(r, args + QStringList{"--json"});
    QVERIFY2(r.exitCode == exitCode, qPrintable(r.describe()));
    JSON(doc, r);
    const QMap<QString, QJsonObject> fails = checksWith(doc, QStringLiteral("fail"));
    QCOMPARE(QStringList(fails.keys()), failing);
    for (const QJsonObject &c : fails) {
        QVERIFY2(!c.value("fix").toString().isEmpty(), qPrintable(c.value("id").toString() + " has no fix"));
        QVERIFY2(c.value("summary").toString().size() > 20, qPrintable(c.value("id").toString()));
    }
    const QJsonObject diagnosis = doc.value("diagnosis").toObject();
    QCOMPARE(diagnosis.value("overall").toString(), failing.isEmpty() ? diagnosis.value("overall").toString()
                                                                      : QStringLiteral("fail"));
    if (failing.isEmpty()) {
        QVERIFY(diagnosis.value("overall").toString() != QStringLiteral("fail"));
        // A healthy login: every mechanism the engine speaks worked.
        QVERIFY2(checksWith(doc, QStringLiteral("pass")).contains(QStringLiteral("auth")), qPrintable(r.describe()));
    } else {
        const QString summary = fails.value(failing.last()).value("summary").toString()
            + fails.value(failing.first()).value("summary").toString();
        QVERIFY2(summary.contains(words), qPrintable(summary));
    }
    QVERIFY(!r.both().contains(env.password.toUtf8()));

    // The same in text: a FAIL line per problem, each followed by its fix.
    RUN(text, args);
    QVERIFY2(text.exitCode == exitCode, qPrintable(text.describe()));
    const QString out = QString::fromUtf8(text.out);
    QCOMPARE(int(out.count(QStringLiteral("  FAIL  "))), int(failing.size()));
    QVERIFY2(out.count(QStringLiteral("fix: ")) >= failing.size(), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("result   ")), qPrintable(out));
}

void TestCli::probeWritesAStandaloneHtmlReport()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    const QString html = path("report.html");
    RUN(r, {"probe", "--host", "127.0.0.1", "--port", QString::number(env.badPort), "--cafile", env.caFile,
            "--tls-name", env.certName, "--no-dns", "--html", html});
    QVERIFY2(r.exitCode == Cli::ExitTls, qPrintable(r.describe()));
    QFile f(html);
    QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(html));
    const QString page = QString::fromUtf8(f.readAll());
    QVERIFY(page.startsWith(QStringLiteral("<!DOCTYPE html>"), Qt::CaseInsensitive));
    // Self-contained: nothing to fetch, nothing to run.
    static const QRegularExpression external(QStringLiteral("(src|href)\\s*=\\s*[\"']?(https?:)?//|@import|<script"),
                                             QRegularExpression::CaseInsensitiveOption);
    QVERIFY2(!external.match(page).hasMatch(), qPrintable(external.match(page).captured(0)));
    for (const char *title : {"Certificate expiry", "AUTH before TLS", "<svg"})
        QVERIFY2(page.contains(QString::fromLatin1(title)), title);
}

void TestCli::probeDiscoversADomain()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    // shop.test's mail host is the Postfix instance, smtp.test (the name in its
    // certificate): MX for the relay (its port given with --relay-port), SRV
    // records for submission with the real ports, PTR back to the same name.
    const QByteArray records = "mx-host=shop.test,smtp.test,10\n"
                               "host-record=smtp.test,127.0.0.1\n"
                               "srv-host=_submission._tcp.shop.test,smtp.test," + QByteArray::number(env.submissionPort)
        + ",0,1\n"
          "srv-host=_submissions._tcp.shop.test,smtp.test," + QByteArray::number(env.smtpsPort) + ",0,1\n"
          "ptr-record=1.0.0.127.in-addr.arpa,smtp.test\n"
          "txt-record=shop.test,\"v=spf1 mx -all\"\n"
          "txt-record=_dmarc.shop.test,\"v=DMARC1; p=none\"\n";
    DnsServer dns;
    QString error;
    bool notPermitted = false;
    if (!dns.start(records, &error, &notPermitted)) {
        if (notPermitted && !qEnvironmentVariableIntValue("SMTPSCOPE_REQUIRE_SERVERS"))
            QSKIP(qPrintable(error));
        QFAIL(qPrintable(error));
    }
    RUN(r, {"probe", "--domain", "shop.test", "--dns-server", dns.address(), "--relay-port",
            QString::number(env.smtpPort), "--cafile", env.caFile, "--read-timeout", "3000", "--no-tls-scan",
            "--json"});
    JSON(doc, r);
    const QJsonObject diagnosis = doc.value("diagnosis").toObject();
    QStringList targets;
    for (const QJsonValue &e : diagnosis.value("endpoints").toArray())
        targets.append(e.toObject().value("target").toString() + u' ' + e.toObject().value("role").toString());
    targets.sort();
    QStringList expected{QStringLiteral("smtp.test:%1 relay").arg(env.smtpPort),
                         QStringLiteral("smtp.test:%1 submission").arg(env.submissionPort),
                         QStringLiteral("smtp.test:%1 submissions").arg(env.smtpsPort)};
    expected.sort();
    QCOMPARE(targets, expected);
    const QMap<QString, QJsonObject> passes = checksWith(doc, QStringLiteral("pass"));
    for (const char *id : {"dns-mx", "spf", "dns-ptr", "certificate-name"})
        QVERIFY2(passes.contains(QString::fromLatin1(id)), qPrintable(QString::fromLatin1(id) + u'\n' + r.describe()));
    // p=none is monitoring only: a warning with the way to enforce.
    const QMap<QString, QJsonObject> warns = checksWith(doc, QStringLiteral("warn"));
    QVERIFY2(warns.contains(QStringLiteral("dmarc")), qPrintable(r.describe()));
    QVERIFY(!warns.value(QStringLiteral("dmarc")).value("fix").toString().isEmpty());
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
}

// ---------------------------------------------------------------- history

void TestCli::historyListsASend()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    // The default database, in the data folder the runner points XDG_DATA_HOME at.
    const QString subject = QStringLiteral("history list ") + QString::fromLatin1(uniqueMarker());
    RUN(sent, {"send", "--host", "127.0.0.1", "--port", QString::number(env.smtpPort), "--cafile", env.caFile,
               "--from", Sender, "--to", Rcpt, "--subject", subject, "--json"});
    QVERIFY2(sent.exitCode == 0, qPrintable(sent.describe()));
    JSON(doc, sent);
    const qint64 id = doc.value("cli").toObject().value("history_id").toInteger();
    QVERIFY2(id > 0, qPrintable(sent.describe()));
    const QStringList files = filesUnder(g_dataHome);
    QVERIFY2(std::any_of(files.cbegin(), files.cend(),
                         [](const QString &f) { return f.endsWith(QStringLiteral("/smtpscope/history.sqlite")); }),
             qPrintable(files.join(u' ')));

    RUN(listed, {"history", "--json"});
    QVERIFY2(listed.exitCode == 0, qPrintable(listed.describe()));
    JSON_ARRAY(sessions, listed);
    const qsizetype at = idsOf(sessions).indexOf(id);
    QVERIFY2(at >= 0, qPrintable(listed.describe()));
    const QJsonObject s = sessions.at(at).toObject();
    const QString target = QStringLiteral("127.0.0.1:%1").arg(env.smtpPort);
    QCOMPARE(s.value("kind").toString(), QStringLiteral("send"));
    QCOMPARE(s.value("outcome").toString(), QStringLiteral("accepted"));
    QCOMPARE(s.value("target").toString(), target);
    QCOMPARE(s.value("subject").toString(), subject);
    QCOMPARE(s.value("error").toString(), QString());
    const QDateTime started = QDateTime::fromString(s.value("started").toString(), Qt::ISODateWithMs);
    QVERIFY2(started.isValid() && qAbs(started.secsTo(QDateTime::currentDateTimeUtc())) < 120,
             qPrintable(s.value("started").toString()));

    // The text list: one row per session, columns aligned under the header.
    RUN(text, {"history"});
    QVERIFY2(text.exitCode == 0, qPrintable(text.describe()));
    const QStringList lines = QString::fromUtf8(text.out).split(u'\n', Qt::SkipEmptyParts);
    // The id column is right-aligned, its header too (" ID" once ids have 3 digits).
    QVERIFY2(!lines.isEmpty() && lines.constFirst().trimmed().startsWith(QStringLiteral("ID")),
             qPrintable(text.describe()));
    const QString header = lines.constFirst();
    QString row;
    for (const QString &l : lines) {
        if (l.contains(subject))
            row = l;
    }
    QVERIFY2(!row.isEmpty(), qPrintable(text.describe()));
    QCOMPARE(row.indexOf(target), header.indexOf(QStringLiteral("TARGET")));
    QCOMPARE(row.indexOf(QStringLiteral("accepted")), header.indexOf(QStringLiteral("OUTCOME")));
    QCOMPARE(row.indexOf(subject), header.indexOf(QStringLiteral("SUBJECT")));
    QCOMPARE(row.section(u' ', 0, 0, QString::SectionSkipEmpty), QString::number(id));
}

void TestCli::historyShowPrintsTheTranscriptWithoutSecrets()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    // RFC 4616: AUTH PLAIN carries base64("\0user\0password").
    const QByteArray plainPayload = QByteArray("\0tester\0", 8).append(env.password.toUtf8()).toBase64();
    const QString db = path(QStringLiteral("show.sqlite"));
    const QStringList args{"send", "--host", "127.0.0.1", "--port", QString::number(env.submissionPort), "--tls",
                           "--cafile", env.caFile, "--user", "tester", "--password-file", path("password"), "--auth",
                           "PLAIN", "--from", Sender, "--to", Rcpt, "--transcript", "--json", "--history", db};
    RUN(sent, args);
    QVERIFY2(sent.exitCode == 0, qPrintable(sent.describe()));
    JSON(doc, sent);
    const qint64 id = doc.value("cli").toObject().value("history_id").toInteger();
    QVERIFY2(id > 0, qPrintable(sent.describe()));
    const QStringList streamed = transcriptLines(sent.err);
    QVERIFY2(streamed.size() > 10, qPrintable(sent.describe()));

    RUN(shown, {"history", "show", QString::number(id), "--history", db});
    QVERIFY2(shown.exitCode == 0, qPrintable(shown.describe()));
    const QString out = QString::fromUtf8(shown.out);
    for (const QString &line : {QStringLiteral("kind       send"),
                                QStringLiteral("target     127.0.0.1:%1").arg(env.submissionPort),
                                QStringLiteral("security   starttls, TLSv1."), QStringLiteral("user       tester"),
                                QStringLiteral("outcome    accepted"), QStringLiteral("error      (none)"),
                                QStringLiteral("to         %1: 250").arg(Rcpt)})
        QVERIFY2(out.contains(line), qPrintable(line + QStringLiteral(" not in:\n") + out));
    // Line for line what --transcript printed while the session ran.
    QCOMPARE(transcriptLines(shown.out), streamed);
    QVERIFY(out.contains(QStringLiteral("AUTH PLAIN <redacted>")));
    QVERIFY(!shown.both().contains(plainPayload));
    QVERIFY(!shown.both().contains(env.password.toUtf8()));

    RUN(asJson, {"history", "show", QString::number(id), "--json", "--history", db});
    QVERIFY2(asJson.exitCode == 0, qPrintable(asJson.describe()));
    JSON(record, asJson);
    QCOMPARE(record.value("id").toInteger(), id);
    QCOMPARE(record.value("kind").toString(), QStringLiteral("send"));
    QCOMPARE(record.value("user").toString(), QStringLiteral("tester"));
    QCOMPARE(record.value("outcome").toString(), QStringLiteral("accepted"));
    QCOMPARE(record.value("source").toString(), QStringLiteral("cli"));
    QCOMPARE(record.value("transcript").toArray().size(), streamed.size());
    QCOMPARE(record.value("result").toObject().value("MSGID").toObject().value("code").toInt(), 250);
    QVERIFY(record.value("message_bytes").toInteger() > 0);
    QVERIFY(record.value("certificate_chain").toString().startsWith(QStringLiteral("-----BEGIN CERTIFICATE-----")));
    QVERIFY(!record.contains("message"));
    QVERIFY(!asJson.both().contains(plainPayload));
    QVERIFY(!asJson.both().contains(env.password.toUtf8()));

    // --show-secrets shows the AUTH data on stderr, never in the history.
    RUN(secret, args + QStringList{"--show-secrets"});
    QVERIFY2(secret.exitCode == 0, qPrintable(secret.describe()));
    QVERIFY2(secret.err.contains(plainPayload), qPrintable(secret.describe()));
    JSON(secretDoc, secret);
    const qint64 secretId = secretDoc.value("cli").toObject().value("history_id").toInteger();
    QVERIFY(secretId > id);
    RUN(secretShown, {"history", "show", QString::number(secretId), "--history", db});
    QVERIFY2(secretShown.exitCode == 0, qPrintable(secretShown.describe()));
    QVERIFY(!secretShown.both().contains(plainPayload));
    QVERIFY2(secretShown.out.contains("AUTH PLAIN <redacted>"), qPrintable(secretShown.describe()));
    QCOMPARE(transcriptLines(secretShown.out).size(), transcriptLines(secret.err).size());

    // Nor in the database file itself (its write-ahead log included).
    for (const QString &file : {db, db + QStringLiteral("-wal")}) {
        QFile f(file);
        if (!f.exists())
            continue;
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QVERIFY2(!bytes.contains(plainPayload), qPrintable(file));
        QVERIFY2(!bytes.contains(env.password.toUtf8()), qPrintable(file));
    }
}

void TestCli::historyRecordsRefusedRecipients_data()
{
    QTest::addColumn<QStringList>("recipients");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("outcome");
    QTest::addRow("some-refused") << QStringList{Rcpt, "%REFUSED%"} << int(Cli::ExitSomeRefused) << "partial";
    QTest::addRow("all-refused") << QStringList{"%REFUSED%"} << int(Cli::ExitRejected) << "rejected";
}

void TestCli::historyRecordsRefusedRecipients()
{
    REQUIRE_MAILENV();
    QFETCH(QStringList, recipients);
    QFETCH(int, exitCode);
    QFETCH(QString, outcome);
    const MailEnv &env = MailEnv::get();
    const QString db = path(QStringLiteral("refused-%1.sqlite").arg(QString::fromLatin1(QTest::currentDataTag())));
    QStringList args{"send", "--host", "127.0.0.1", "--port", QString::number(env.smtpPort), "--cafile", env.caFile,
                     "--from", Sender, "--json", "--history", db};
    for (const QString &r : expand(recipients))
        args += QStringList{"--to", r};
    RUN(sent, args);
    QVERIFY2(sent.exitCode == exitCode, qPrintable(sent.describe()));
    JSON(doc, sent);
    const qint64 id = doc.value("cli").toObject().value("history_id").toInteger();
    QVERIFY2(id > 0, qPrintable(sent.describe()));

    RUN(listed, {"history", "--json", "--history", db});
    QVERIFY2(listed.exitCode == 0, qPrintable(listed.describe()));
    JSON_ARRAY(sessions, listed);
    QCOMPARE(idsOf(sessions), QList<qint64>{id});
    const QJsonObject s = sessions.first().toObject();
    QCOMPARE(s.value("outcome").toString(), outcome);
    const QString error = s.value("error").toString();
    QVERIFY2(error.contains(QStringLiteral("550")) && error.contains(QStringLiteral("5.1.1")), qPrintable(error));
    if (outcome == u"partial")
        QVERIFY2(error.contains(env.refusedRcpt) && !error.contains(Rcpt + u' '), qPrintable(error));

    RUN(shown, {"history", "show", QString::number(id), "--history", db});
    QVERIFY2(shown.exitCode == 0, qPrintable(shown.describe()));
    const QString out = QString::fromUtf8(shown.out);
    QVERIFY2(out.contains(QStringLiteral("outcome    ") + outcome), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("to         %1: 550 5.1.1").arg(env.refusedRcpt)), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("error      ") + error), qPrintable(out));
}

void TestCli::historyRecordsAProbeAndItsDiagnosis()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    const QString db = path(QStringLiteral("probe.sqlite"));
    RUN(r, {"probe", "--host", "127.0.0.1", "--port", QString::number(env.smtpPort), "--cafile", env.caFile,
            "--no-dns", "--no-tls-scan", "--json", "--history", db});
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    JSON(doc, r);
    const QJsonArray ids = doc.value("cli").toObject().value("history_ids").toArray();
    QCOMPARE(ids.size(), 2);
    const qint64 probeId = ids.at(0).toInteger();
    const qint64 diagnosisId = ids.at(1).toInteger();
    QVERIFY(probeId > 0 && diagnosisId > probeId);

    RUN(listed, {"history", "--json", "--history", db});
    QVERIFY2(listed.exitCode == 0, qPrintable(listed.describe()));
    JSON_ARRAY(sessions, listed);
    QCOMPARE(sessions.size(), 2);
    QMap<qint64, QJsonObject> byId;
    for (const QJsonValue &v : sessions)
        byId.insert(v.toObject().value("id").toInteger(), v.toObject());
    const QJsonObject probe = byId.value(probeId);
    const QJsonObject diagnosis = byId.value(diagnosisId);
    QCOMPARE(probe.value("kind").toString(), QStringLiteral("probe"));
    QCOMPARE(probe.value("target").toString(), QStringLiteral("127.0.0.1:%1").arg(env.smtpPort));
    QVERIFY2(QStringList({"pass", "warn"}).contains(probe.value("outcome").toString()), qPrintable(listed.describe()));
    QCOMPARE(diagnosis.value("kind").toString(), QStringLiteral("diagnosis"));
    QCOMPARE(diagnosis.value("outcome").toString(), doc.value("diagnosis").toObject().value("overall").toString());
    // Linked by time: the checklist ran after the session.
    QVERIFY(QDateTime::fromString(diagnosis.value("started").toString(), Qt::ISODateWithMs)
            >= QDateTime::fromString(probe.value("started").toString(), Qt::ISODateWithMs).addMSecs(-1));

    RUN(probeShown, {"history", "show", QString::number(probeId), "--json", "--history", db});
    QVERIFY2(probeShown.exitCode == 0, qPrintable(probeShown.describe()));
    JSON(probeRecord, probeShown);
    QCOMPARE(probeRecord.value("result").toObject().value("capabilities").toArray(),
             doc.value("capabilities").toArray());
    QCOMPARE(probeRecord.value("transcript").toArray().size(), doc.value("transcript").toArray().size());
    QCOMPARE(probeRecord.value("transcript").toArray().last().toObject().value("text").toString().left(3),
             doc.value("transcript").toArray().last().toObject().value("text").toString().left(3));

    RUN(diagnosisShown, {"history", "show", QString::number(diagnosisId), "--json", "--history", db});
    QVERIFY2(diagnosisShown.exitCode == 0, qPrintable(diagnosisShown.describe()));
    JSON(diagnosisRecord, diagnosisShown);
    const QJsonObject result = diagnosisRecord.value("result").toObject();
    QCOMPARE(result.value("probe_session_id").toInteger(), probeId);
    QCOMPARE(result.value("checks").toArray().size(),
             doc.value("diagnosis").toObject().value("checks").toArray().size());
    RUN(diagnosisText, {"history", "show", QString::number(diagnosisId), "--history", db});
    QVERIFY2(diagnosisText.out.contains("\nchecks\n") && diagnosisText.out.contains("TCP connect"),
             qPrintable(diagnosisText.describe()));

    RUN(onlyProbes, {"history", "--json", "--kind", "probe", "--history", db});
    JSON_ARRAY(probes, onlyProbes);
    QCOMPARE(idsOf(probes), QList<qint64>{probeId});
}

void TestCli::historyLastSearchAndFilters()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    const QString db = path(QStringLiteral("filters.sqlite"));
    const QStringList base{"send", "--host", "127.0.0.1", "--port", QString::number(env.smtpPort), "--cafile",
                           env.caFile, "--from", Sender, "--json", "--history", db};
    QList<qint64> ids;
    for (const QStringList &extra : {QStringList{"--to", Rcpt, "--subject", "alpha report"},
                                     QStringList{"--to", Rcpt, "--subject", "bravo report"},
                                     QStringList{"--to", Rcpt, "--subject", "charlie report"},
                                     QStringList{"--to", env.refusedRcpt, "--subject", "delta report"}}) {
        RUN(r, base + extra);
        JSON(doc, r);
        ids.append(doc.value("cli").toObject().value("history_id").toInteger());
        QVERIFY2(ids.last() > 0, qPrintable(r.describe()));
    }

    // The ids listed, or {-1} when the command failed.
    auto listIds = [&db](const QStringList &args) {
        const Run r = runCli(QStringList{"history", "--json", "--history", db} + args);
        const std::optional<QJsonArray> a = jsonArrayOf(r);
        if (!r.finished || r.exitCode != 0 || !a)
            return QList<qint64>{-1};
        return idsOf(*a);
    };
    // Newest first.
    QCOMPARE(listIds({}), (QList<qint64>{ids[3], ids[2], ids[1], ids[0]}));
    QCOMPARE(listIds({"--last", "2"}), (QList<qint64>{ids[3], ids[2]}));
    // Subject, error and transcript words.
    QCOMPARE(listIds({"--search", "bravo"}), QList<qint64>{ids[1]});
    QCOMPARE(listIds({"--search", "report"}).size(), 4);
    QCOMPARE(listIds({"--search", env.refusedRcpt.section(u'@', 0, 0)}), QList<qint64>{ids[3]});
    QCOMPARE(listIds({"--search", "nowhere-to-be-found"}), QList<qint64>{});
    QCOMPARE(listIds({"--outcome", "rejected"}), QList<qint64>{ids[3]});
    QCOMPARE(listIds({"--outcome", "accepted,rejected", "--last", "3"}), (QList<qint64>{ids[3], ids[2], ids[1]}));
    QCOMPARE(listIds({"--server", QStringLiteral("127.0.0.1:%1").arg(env.smtpPort)}).size(), 4);
    QCOMPARE(listIds({"--server", "192.0.2.1"}), QList<qint64>{});

    RUN(text, {"history", "--last", "1", "--history", db});
    QVERIFY2(text.exitCode == 0, qPrintable(text.describe()));
    // The newest only (its error shown in place of the subject), and how many there are.
    const QStringList rows = QString::fromUtf8(text.out).split(u'\n', Qt::SkipEmptyParts);
    QVERIFY2(rows.size() == 3 && rows.at(1).trimmed().startsWith(QString::number(ids[3]) + u' ')
                 && rows.at(1).contains(QStringLiteral("rejected")) && rows.at(1).contains(env.refusedRcpt)
                 && rows.at(2).contains(QStringLiteral("the 1 newest of 4")),
             qPrintable(text.describe()));

    for (const QStringList &bad : {QStringList{"--last", "0"}, QStringList{"--last", "many"},
                                   QStringList{"--outcome", "sideways"}, QStringList{"--kind", "postcard"},
                                   QStringList{"show", "1", "--last", "2"}}) {
        RUN(r, QStringList{"history", "--history", db} + bad);
        QVERIFY2(r.exitCode == Cli::ExitUsage, qPrintable(bad.join(u' ') + u'\n' + r.describe()));
        QVERIFY2(r.out.isEmpty(), qPrintable(r.describe()));
        QVERIFY2(r.err.contains(bad.at(bad.size() - 2).toUtf8()), qPrintable(r.describe()));
    }
}

void TestCli::noHistoryRecordsNothing()
{
    // A data folder of its own: nothing may appear in it.
    const QString home = path(QStringLiteral("xdg-no-history"));
    QVERIFY(QDir().mkpath(home));
    const QMap<QString, QString> env{{QStringLiteral("XDG_DATA_HOME"), home}};
    const quint16 port = closedPort();
    QVERIFY(port != 0);
    const QStringList send{"send", "--host", "127.0.0.1", "--port", QString::number(port), "--connect-timeout",
                           "5000", "--from", Sender, "--to", Rcpt};
    RUN(sent, send + QStringList{"--no-history", "--json"}, env);
    QVERIFY2(sent.exitCode == Cli::ExitConnection, qPrintable(sent.describe()));
    JSON(doc, sent);
    QVERIFY(!doc.value("cli").toObject().contains("history_id"));
    RUN(probed, QStringList{"probe", "--host", "127.0.0.1", "--port", QString::number(port), "--no-checklist",
                            "--no-history"},
        env);
    QVERIFY2(probed.exitCode == Cli::ExitConnection, qPrintable(probed.describe()));
    // Test mode talks to no server: nothing to record.
    RUN(simulated, QStringList{"send", "--test", "--from", Sender, "--to", Rcpt}, env);
    QVERIFY2(simulated.exitCode == 0, qPrintable(simulated.describe()));
    // Reading the history creates nothing either.
    RUN(listed, QStringList{"history", "--json"}, env);
    QVERIFY2(listed.exitCode == 0, qPrintable(listed.describe()));
    JSON_ARRAY(none, listed);
    QVERIFY(none.isEmpty());
    QCOMPARE(filesUnder(home), QStringList());

    RUN(both, send + QStringList{"--no-history", "--history", path("x.sqlite")}, env);
    QVERIFY2(both.exitCode == Cli::ExitUsage && both.err.contains("--no-history"), qPrintable(both.describe()));

    // Without --no-history the same failed session is recorded.
    RUN(recorded, send, env);
    QVERIFY2(recorded.exitCode == Cli::ExitConnection, qPrintable(recorded.describe()));
    QVERIFY2(!filesUnder(home).isEmpty(), qPrintable(recorded.describe()));
    RUN(listedAgain, QStringList{"history", "--json"}, env);
    JSON_ARRAY(one, listedAgain);
    QCOMPARE(one.size(), 1);
    QCOMPARE(one.first().toObject().value("outcome").toString(), QStringLiteral("failed"));
    QCOMPARE(one.first().toObject().value("target").toString(), QStringLiteral("127.0.0.1:%1").arg(port));
    QVERIFY(!one.first().toObject().value("error").toString().isEmpty());
}

void TestCli::historyFailuresAreClean()
{
    const quint16 port = closedPort();
    QVERIFY(port != 0);
    const QStringList send{"send", "--host", "127.0.0.1", "--port", QString::number(port), "--connect-timeout",
                           "5000", "--from", Sender, "--to", Rcpt, "--json"};
    const QString db = path(QStringLiteral("failures.sqlite"));
    RUN(sent, send + QStringList{"--history", db});
    QVERIFY2(sent.exitCode == Cli::ExitConnection, qPrintable(sent.describe()));
    JSON(doc, sent);
    const qint64 id = doc.value("cli").toObject().value("history_id").toInteger();
    QVERIFY2(id > 0, qPrintable(sent.describe()));
    RUN(shown, {"history", "show", QString::number(id), "--history", db});
    QVERIFY2(shown.exitCode == 0, qPrintable(shown.describe()));
    QVERIFY2(shown.out.contains("outcome    failed") && !shown.out.contains("error      (none)"),
             qPrintable(shown.describe()));

    // An unknown id: the usage code, one line naming it (and one pointing to --help).
    const QString unknown = QString::number(id + 987654);
    RUN(missing, {"history", "show", unknown, "--history", db});
    QVERIFY2(missing.exitCode == Cli::ExitUsage, qPrintable(missing.describe()));
    QVERIFY(missing.out.isEmpty());
    QVERIFY2(missing.err.contains(unknown.toUtf8()), qPrintable(missing.describe()));
    QVERIFY2(QString::fromUtf8(missing.err).trimmed().split(u'\n').size() <= 2, qPrintable(missing.describe()));
    RUN(notANumber, {"history", "show", "abc", "--history", db});
    QVERIFY2(notANumber.exitCode == Cli::ExitUsage && notANumber.err.contains("'abc'"),
             qPrintable(notANumber.describe()));
    RUN(noId, {"history", "show", "--history", db});
    QVERIFY2(noId.exitCode == Cli::ExitUsage && noId.out.isEmpty(), qPrintable(noId.describe()));

    // A database file that is not there is named, and not created by reading.
    const QString absent = path(QStringLiteral("absent.sqlite"));
    RUN(notThere, {"history", "--history", absent});
    QVERIFY2(notThere.exitCode == Cli::ExitUsage && notThere.err.contains("absent.sqlite"),
             qPrintable(notThere.describe()));
    QVERIFY(!QFileInfo::exists(absent));
    // A file that is not a database: the file and the cause.
    QByteArray garbage;
    while (garbage.size() < 8192)
        garbage += "this is not an SQLite database\n";
    writeFile(QStringLiteral("garbage.sqlite"), garbage);
    RUN(damaged, {"history", "--history", path("garbage.sqlite")});
    QVERIFY2(damaged.exitCode == Cli::ExitUsage, qPrintable(damaged.describe()));
    QVERIFY2(damaged.out.isEmpty() && damaged.err.contains("garbage.sqlite"), qPrintable(damaged.describe()));

    // A history that cannot be written is a warning: the session's own exit code
    // and document stay as they are.
    writeFile(QStringLiteral("a-file"), "not a folder\n");
    RUN(unwritable, send + QStringList{"--history", path("a-file") + QStringLiteral("/history.sqlite")});
    QVERIFY2(unwritable.exitCode == Cli::ExitConnection, qPrintable(unwritable.describe()));
    QVERIFY2(unwritable.err.contains("warning") && unwritable.err.contains("not recorded"),
             qPrintable(unwritable.describe()));
    JSON(unwritableDoc, unwritable);
    QCOMPARE(unwritableDoc.value("cli").toObject().value("exit_code").toInt(), int(Cli::ExitConnection));
    QVERIFY(!unwritableDoc.value("cli").toObject().contains("history_id"));
}

void TestCli::historyReadsOnlyAndRefusesAForeignDatabase()
{
    // Another application's SQLite file (user_version 0, rollback journal), in
    // a folder of its own so that any file made beside it shows.
    const QString folder = path(QStringLiteral("foreign"));
    QVERIFY(QDir().mkpath(folder));
    const QString db = folder + QStringLiteral("/notes.db");
    {
        QSqlDatabase raw = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("foreign"));
        raw.setDatabaseName(db);
        QVERIFY(raw.open());
        QSqlQuery q(raw);
        QVERIFY(q.exec(QStringLiteral("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")));
        QVERIFY(q.exec(QStringLiteral("INSERT INTO notes (text) VALUES ('keep me')")));
        q.finish();
        raw.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("foreign"));
    const QByteArray before = sha256Of(db);
    QVERIFY(!before.isEmpty());
    const QStringList files = QDir(folder).entryList(QDir::Files | QDir::Hidden);
    QCOMPARE(files, QStringList{QStringLiteral("notes.db")});

    for (const QStringList &args : {QStringList{"history", "--history", db},
                                    QStringList{"history", "--json", "--history", db},
                                    QStringList{"history", "show", "1", "--history", db}}) {
        RUN(r, args);
        QVERIFY2(r.exitCode == Cli::ExitUsage, qPrintable(args.join(u' ') + u'\n' + r.describe()));
        QVERIFY2(r.out.isEmpty(), qPrintable(r.describe()));
        const QString err = QString::fromUtf8(r.err);
        QVERIFY2(err.contains(QStringLiteral("--history")) && err.contains(db)
                     && err.contains(QStringLiteral("not a SmtpScope history")),
                 qPrintable(r.describe()));
        QCOMPARE(sha256Of(db), before);
        QCOMPARE(QDir(folder).entryList(QDir::Files | QDir::Hidden), files);
    }
    // A writer refuses it too: the session is not recorded, the file stays.
    const quint16 port = closedPort();
    QVERIFY(port != 0);
    RUN(sent, {"send", "--host", "127.0.0.1", "--port", QString::number(port), "--connect-timeout", "5000", "--from",
               Sender, "--to", Rcpt, "--history", db});
    QVERIFY2(sent.exitCode == Cli::ExitConnection && sent.err.contains("not recorded")
                 && sent.err.contains("not a SmtpScope history"),
             qPrintable(sent.describe()));
    QCOMPARE(sha256Of(db), before);
    QCOMPARE(QDir(folder).entryList(QDir::Files | QDir::Hidden), files);

    // A real history is only read by a listing: not one byte changes.
    const QString ours = path(QStringLiteral("read-only.sqlite"));
    RUN(recorded, {"send", "--host", "127.0.0.1", "--port", QString::number(port), "--connect-timeout", "5000",
                   "--from", Sender, "--to", Rcpt, "--history", ours});
    QVERIFY2(recorded.exitCode == Cli::ExitConnection, qPrintable(recorded.describe()));
    const QByteArray oursBefore = sha256Of(ours);
    RUN(listed, {"history", "--json", "--history", ours});
    QVERIFY2(listed.exitCode == 0, qPrintable(listed.describe()));
    JSON_ARRAY(one, listed);
    QCOMPARE(one.size(), 1);
    RUN(shown, {"history", "show", QString::number(one.first().toObject().value("id").toInteger()), "--history", ours});
    QVERIFY2(shown.exitCode == 0, qPrintable(shown.describe()));
    QCOMPARE(sha256Of(ours), oursBefore);
}

void TestCli::historyFilesArePrivate()
{
    // Envelopes, subjects and transcripts: the data folder 0700, the database and
    // its -wal and -shm 0600, whatever the umask would give.
    const mode_t oldMask = ::umask(022);
    const auto restore = qScopeGuard([oldMask] { ::umask(oldMask); });
    const QString home = path(QStringLiteral("xdg-private"));
    QVERIFY(QDir().mkpath(home));
    const QMap<QString, QString> env{{QStringLiteral("XDG_DATA_HOME"), home}};
    const QString folder = home + QStringLiteral("/smtpscope");
    const QString db = folder + QStringLiteral("/history.sqlite");
    const quint16 port = closedPort();
    QVERIFY(port != 0);
    const QStringList send{"send", "--host", "127.0.0.1", "--port", QString::number(port), "--connect-timeout",
                           "5000", "--from", Sender, "--to", Rcpt};
    const auto checkPrivate = [&](const Run &r) {
        QCOMPARE(modeOf(folder), 0700);
        QVERIFY2(modeOf(db) == 0600, qPrintable(QString::number(modeOf(db), 8) + u'\n' + r.describe()));
        for (const QString &f : QDir(folder).entryList(QDir::Files | QDir::Hidden))
            QVERIFY2(modeOf(folder + u'/' + f) == 0600, qPrintable(f));
    };
    RUN(first, send, env);
    QVERIFY2(first.exitCode == Cli::ExitConnection, qPrintable(first.describe()));
    checkPrivate(first);
    if (QTest::currentTestFailed())
        return;

    // As an earlier build left them: tightened by the next writer.
    QVERIFY(::chmod(QFile::encodeName(folder).constData(), 0755) == 0);
    QVERIFY(::chmod(QFile::encodeName(db).constData(), 0644) == 0);
    RUN(second, send, env);
    QVERIFY2(second.exitCode == Cli::ExitConnection, qPrintable(second.describe()));
    checkPrivate(second);
    RUN(listed, QStringList{"history", "--json"}, env);
    JSON_ARRAY(two, listed);
    QCOMPARE(two.size(), 2);
}

void TestCli::localInputsNeverBlock()
{
    const QString fifo = path(QStringLiteral("input.fifo"));
    QFile::remove(fifo);
    QVERIFY(::mkfifo(QFile::encodeName(fifo).constData(), 0600) == 0);
    const QStringList test{"send", "--test", "--from", Sender, "--to", Rcpt};
    // A short wait, so that the test is quick; the default is 10 s.
    const QMap<QString, QString> quick{{QStringLiteral("SMTPSCOPE_FIFO_TIMEOUT"), QStringLiteral("1")}};

    // A FIFO nobody writes to: a clear error within the wait, not a hang.
    for (const QStringList &extra : {QStringList{"--body-file", fifo},
                                     QStringList{"--user", "tester", "--password-file", fifo}}) {
        QElapsedTimer clock;
        clock.start();
        RUN(r, test + extra, quick);
        QVERIFY2(r.exitCode == Cli::ExitUsage, qPrintable(r.describe()));
        QVERIFY2(clock.elapsed() < 20000, qPrintable(QString::number(clock.elapsed())));
        const QString err = QString::fromUtf8(r.err);
        QVERIFY2(err.contains(extra.at(extra.size() - 2)) && err.contains(fifo) && err.contains(QStringLiteral("writer")),
                 qPrintable(r.describe()));
    }

    // A FIFO with a writer is read to its end (the documented exception).
    QProcess writer;
    writer.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QStringLiteral("printf 'body from a fifo\\n' > \"$1\""),
                                             QStringLiteral("sh"), fifo});
    QVERIFY(writer.waitForStarted(10000));
    RUN(fed, test + QStringList{"--body-file", fifo});
    QVERIFY2(fed.exitCode == 0 && fed.out.contains("body from a fifo"), qPrintable(fed.describe()));
    QVERIFY(writer.waitForFinished(10000));

    // A password needs only its first line: a writer that keeps the FIFO open
    // after it does not hold the run up.
    QProcess holder;
    holder.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"),
                                             QStringLiteral("exec 3>\"$1\"; printf 'secret\\n' >&3; exec sleep 60"),
                                             QStringLiteral("sh"), fifo});
    QVERIFY(holder.waitForStarted(10000));
    const auto stopHolder = qScopeGuard([&holder] {
        holder.kill();
        holder.waitForFinished(10000);
    });
    RUN(held, test + QStringList{"--user", "tester", "--password-file", fifo}, quick);
    QVERIFY2(held.exitCode == 0 && held.out.contains("MAIL FROM:"), qPrintable(held.describe()));

    // Process substitution: a pipe, read with poll() like a FIFO.
    const QString script = QStringLiteral("exec \"$0\" send --test --from %1 --to %2 --user tester "
                                          "--password-file <(printf 'secret\\n') --body-file <(printf 'piped body\\n')")
                               .arg(Sender, Rcpt);
    const Run piped = runProcess(QStringLiteral("/bin/bash"), {QStringLiteral("-c"), script, QStringLiteral(SMTPSCOPE_BINARY)},
                                 cliEnvironment(), {}, ProcessTimeoutMs);
    QVERIFY2(piped.finished && piped.exitCode == 0 && piped.out.contains("piped body"), qPrintable(piped.describe()));

    // Devices are refused before a byte is read; a message's own files must be
    // regular files (their size is measured before sending).
    struct Case
    {
        QStringList args;
        int exitCode;
        QString mentions;
    };
    const Case cases[] = {
        {{"--body-file", "/dev/zero"}, Cli::ExitUsage, QStringLiteral("character device")},
        {{"--html-file", "/dev/zero"}, Cli::ExitUsage, QStringLiteral("character device")},
        {{"--attach", "/dev/zero"}, Cli::ExitMessage, QStringLiteral("character device")},
        {{"--attach", fifo}, Cli::ExitMessage, QStringLiteral("FIFO")},
    };
    for (const Case &c : cases) {
        RUN(r, test + c.args);
        QVERIFY2(r.exitCode == c.exitCode, qPrintable(c.args.join(u' ') + u'\n' + r.describe()));
        QVERIFY2(r.err.contains(c.args.constFirst().toUtf8()) || r.err.contains("attachment"), qPrintable(r.describe()));
        QVERIFY2(QString::fromUtf8(r.err).contains(c.mentions) && r.err.contains("not a"), qPrintable(r.describe()));
    }
    for (const QString &eml : {QStringLiteral("/dev/zero"), fifo}) {
        RUN(r, QStringList{"send", "--test", "--eml", eml});
        QVERIFY2(r.exitCode == Cli::ExitUsage && r.err.contains("--eml") && r.err.contains("not a regular file"),
                 qPrintable(r.describe()));
    }
}

void TestCli::testModeStreamsALargeMessage()
{
    // A 1 GiB .eml made here: a header block, a hole (read as zeros, no disk
    // used) and a last line starting with a dot.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString eml = dir.filePath(QStringLiteral("large.eml"));
    const auto removeEml = qScopeGuard([&eml] { QFile::remove(eml); });
    {
        QFile f(eml);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("From: Large <" + Sender.toUtf8() + ">\nTo: " + Rcpt.toUtf8() + "\nSubject: one gigabyte\n\n");
        QVERIFY(f.resize(qint64(1) << 30));
        QVERIFY(f.seek(qint64(1) << 30));
        f.write("\n.last line\n");
    }
    constexpr qint64 Bound = 100 * 1024 * 1024;
    constexpr int TimeoutMs = 240000;

    // Plain: the wire on stdout as it is produced, then the summary line. All
    // but the last bytes are hashed as they come; the tail is split at the end
    // of the wire (QUIT).
    QCryptographicHash hash(QCryptographicHash::Sha256);
    QByteArray tail;
    qint64 wireBytes = 0;
    const StreamedRun plain = runStreamed({"send", "--test", "--eml", eml}, [&](QByteArrayView bytes) {
        tail.append(bytes.data(), bytes.size());
        constexpr qsizetype Keep = 64 * 1024;
        if (tail.size() > 2 * Keep) {
            const qsizetype n = tail.size() - Keep;
            hash.addData(QByteArrayView(tail.constData(), n));
            wireBytes += n;
            tail.remove(0, n);
        }
    }, TimeoutMs);
    QVERIFY2(plain.finished && plain.exitCode == 0, qPrintable(plain.describe()));
    const qsizetype quit = tail.lastIndexOf("\r\nQUIT\r\n");
    QVERIFY2(quit >= 0, tail.right(300).constData());
    QVERIFY(tail.endsWith("\n") && tail.mid(quit + 8).startsWith("test mode, nothing sent"));
    QVERIFY(tail.mid(0, quit + 8).endsWith("\r\n..last line\r\n.\r\nQUIT\r\n"));
    hash.addData(QByteArrayView(tail.constData(), quit + 8));
    wireBytes += quit + 8;
    QVERIFY2(wireBytes > qint64(1) << 30, qPrintable(QString::number(wireBytes)));
    qInfo("send --test of a 1 GiB .eml: peak RSS %lld bytes", plain.peakRssBytes);
    QVERIFY2(plain.peakRssBytes > 0 && plain.peakRssBytes < Bounds::memoryBytes(Bound), qPrintable(plain.describe()));

    // --json: a bounded excerpt, and the size and SHA-256 of the wire printed above.
    QByteArray jsonOut;
    const StreamedRun json = runStreamed({"send", "--test", "--json", "--eml", eml},
                                         [&](QByteArrayView bytes) { jsonOut.append(bytes.data(), bytes.size()); },
                                         TimeoutMs);
    QVERIFY2(json.finished && json.exitCode == 0, qPrintable(json.describe()));
    QVERIFY2(json.peakRssBytes > 0 && json.peakRssBytes < Bounds::memoryBytes(Bound), qPrintable(json.describe()));
    QVERIFY2(jsonOut.size() < 1024 * 1024, qPrintable(QString::number(jsonOut.size())));
    const QJsonObject doc = QJsonDocument::fromJson(jsonOut).object();
    QCOMPARE(doc.value("simulated_wire_bytes").toInteger(), wireBytes);
    QCOMPARE(doc.value("simulated_wire_sha256").toString().toLatin1(), hash.result().toHex());
    QCOMPARE(doc.value("simulated_wire_truncated").toBool(), true);
    const QByteArray excerpt = doc.value("simulated_wire").toString().toUtf8();
    QVERIFY(excerpt.size() <= 64 * 1024 && excerpt.startsWith("EHLO localhost\r\n"));
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
