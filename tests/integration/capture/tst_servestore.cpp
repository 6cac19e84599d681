// `smtpscope serve` and its message store, against the real process:
//  - quotas: 452 4.3.1 at MAIL and RCPT when the store is full, at the end of
//    data when a message does not fit now, 552 5.3.4 when it never can;
//  - storage errors (a file size limit, the folder removed under the server):
//    a generic 451 4.3.0 to the client, the path and the system's reason in
//    the --verbose log;
//  - private modes of the capture folders and the index;
//  - with a large store (20,000 messages by default; SMTPSCOPE_TEST_PREFILL
//    changes it), 500 concurrent clients all greeted within 5 s while
//    deliveries go on: commits never hold up the event loop.

#include "sanitize/bounds.h"
#include "capture/messagestore.h"
#include "client/smtpclient.h"
#include "processrun.h"
#include "serveprocess.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

constexpr int TimeoutMs = 15000;

// A blocking SMTP client that shows every reply as the server wrote it.
class RawSmtp
{
public:
    bool connect(quint16 port)
    {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        return m_socket.waitForConnected(TimeoutMs) && reply().startsWith("220 ");
    }
    // The complete reply (every line, CRLF kept off the last).
    QByteArray reply()
    {
        QByteArray all;
        QDeadlineTimer deadline(TimeoutMs);
        while (!deadline.hasExpired()) {
            while (m_socket.canReadLine()) {
                const QByteArray line = m_socket.readLine();
                all += line;
                if (line.size() >= 4 && line.at(3) == ' ')
                    return all.trimmed();
            }
            if (!m_socket.waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime()))))
                break;
        }
        return all.isEmpty() ? QByteArray("(no reply)") : all.trimmed();
    }
    QByteArray command(const QByteArray &line)
    {
        m_socket.write(line + "\r\n");
        return reply();
    }
    // DATA, the text (dot-stuffing is the caller's: test bodies have no dots
    // at line starts), the end; the reply to the end of data.
    QByteArray data(const QByteArray &text)
    {
        const QByteArray go = command("DATA");
        if (!go.startsWith("354"))
            return go;
        m_socket.write(text);
        m_socket.write(".\r\n");
        return reply();
    }
    QByteArray send(const QByteArray &text, const QByteArray &mailParams = {})
    {
        const QByteArray mail = command("MAIL FROM:<s@example.test>" + mailParams);
        if (!mail.startsWith("250"))
            return mail;
        const QByteArray rcpt = command("RCPT TO:<r@example.test>");
        if (!rcpt.startsWith("250"))
            return rcpt;
        return data(text);
    }

private:
    QTcpSocket m_socket;
};

// A message of exactly `size` bytes as stored (CRLF lines, no line starting
// with a dot).
QByteArray messageOfSize(qint64 size, const QByteArray &subject = "quota")
{
    QByteArray m = "Subject: " + subject + "\r\n\r\n";
    while (m.size() + 80 <= size)
        m += QByteArray(78, 'q') + "\r\n";
    const qint64 rest = size - m.size();
    if (rest >= 2)
        m += QByteArray(rest - 2, 'r') + "\r\n";
    return m;
}

int mode(const QString &path)
{
    struct stat st = {};
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return -1;
    return int(st.st_mode & 07777);
}

QStringList listedIds(const QString &dir)
{
    const ProcessRun run = runProcess(QStringLiteral(SMTPSCOPE_BINARY),
                                      {QStringLiteral("serve"), QStringLiteral("--dir"), dir, QStringLiteral("--list"),
                                       QStringLiteral("--json")},
                                      QProcessEnvironment::systemEnvironment(), {}, TimeoutMs);
    QStringList ids;
    if (run.exitCode != 0)
        return {QStringLiteral("(serve --list failed: %1)").arg(run.describe())};
    for (const QJsonValue &v : QJsonDocument::fromJson(run.out).object().value(QStringLiteral("messages")).toArray())
        ids.append(v.toObject().value(QStringLiteral("id")).toString());
    return ids;
}

// Ids as the store gives them, a thousand per second, starting in 2020.
QString fillId(int i)
{
    static const QDateTime base(QDate(2020, 1, 1), QTime(0, 0), Qt::UTC);
    return base.addSecs(i / 1000).toString(QStringLiteral("yyyyMMdd'T'HHmmss")) + QLatin1Char('-')
        + QStringLiteral("%1").arg(i % 1000 + 1, 6, 10, QLatin1Char('0'));
}

} // namespace

class tst_ServeStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void jsonNeedsList();
    void messageQuota();
    void byteQuota();
    void storageErrorIsGeneric();
    void privateModes();
    void clientGoneDuringCommit();
    void clientGoneWhileTheServerWaits();
    void greetingsWhileDelivering();
};

void tst_ServeStore::jsonNeedsList()
{
    QTemporaryDir dir;
    const ProcessRun run = runProcess(QStringLiteral(SMTPSCOPE_BINARY),
                                      {QStringLiteral("serve"), QStringLiteral("--dir"), dir.path(),
                                       QStringLiteral("--json")},
                                      QProcessEnvironment::systemEnvironment(), {}, TimeoutMs);
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains("--json goes with --list"), qPrintable(run.describe()));
    const ProcessRun bad = runProcess(QStringLiteral(SMTPSCOPE_BINARY),
                                      {QStringLiteral("serve"), QStringLiteral("--dir"), dir.path(),
                                       QStringLiteral("--quota-bytes"), QStringLiteral("lots")},
                                      QProcessEnvironment::systemEnvironment(), {}, TimeoutMs);
    QCOMPARE(bad.exitCode, 2);
    QVERIFY2(bad.err.contains("--quota-bytes: 'lots'"), qPrintable(bad.describe()));
    // Nothing there yet: --list says so (exit 4) and creates nothing.
    const ProcessRun empty = runProcess(QStringLiteral(SMTPSCOPE_BINARY),
                                        {QStringLiteral("serve"), QStringLiteral("--dir"),
                                         dir.filePath(QStringLiteral("new")), QStringLiteral("--list")},
                                        QProcessEnvironment::systemEnvironment(), {}, TimeoutMs);
    QCOMPARE(empty.exitCode, 4);
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("new"))));
}

void tst_ServeStore::messageQuota()
{
    QTemporaryDir dir;
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), dir.path(),
                         {QStringLiteral("--quota-messages"), QStringLiteral("2")}, &error),
             qPrintable(error));
    RawSmtp a;
    RawSmtp b;
    RawSmtp c;
    QVERIFY(a.connect(serve.port) && b.connect(serve.port) && c.connect(serve.port));
    for (RawSmtp *s : {&a, &b, &c})
        QVERIFY(s->command("EHLO client.test").startsWith("250"));

    QCOMPARE(a.send(messageOfSize(300, "one")).left(3), QByteArray("250"));
    // b starts a transaction while there is room ...
    QCOMPARE(b.command("MAIL FROM:<s@example.test>"), QByteArray("250 2.1.0 Ok"));
    QCOMPARE(a.send(messageOfSize(300, "two")).left(3), QByteArray("250"));
    // ... and the store is full by its RCPT: RFC 5321 4.5.3.1.10, 452.
    QCOMPARE(b.command("RCPT TO:<r@example.test>"), QByteArray("452 4.3.1 Insufficient system storage"));
    QCOMPARE(b.command("RSET"), QByteArray("250 2.0.0 Ok"));
    // A new transaction is refused at MAIL.
    QCOMPARE(c.command("MAIL FROM:<s@example.test>"), QByteArray("452 4.3.1 Insufficient system storage"));
    QCOMPARE(a.command("MAIL FROM:<s@example.test> SIZE=10"), QByteArray("452 4.3.1 Insufficient system storage"));
    QCOMPARE(c.command("QUIT").left(3), QByteArray("221"));
    QCOMPARE(listedIds(dir.path()).size(), 2);
}

void tst_ServeStore::byteQuota()
{
    QTemporaryDir dir;
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), dir.path(),
                         {QStringLiteral("--quota-bytes"), QStringLiteral("10000"), QStringLiteral("--verbose")},
                         &error),
             qPrintable(error));
    RawSmtp s;
    QVERIFY(s.connect(serve.port));
    // RFC 1870: the fixed maximum announced is the quota when it is smaller.
    const QByteArray ehlo = s.command("EHLO client.test");
    QVERIFY2(ehlo.contains("250-SIZE 10000\r\n"), ehlo.constData());

    // Larger than the whole quota: never fits, 552, at MAIL when declared ...
    QCOMPARE(s.command("MAIL FROM:<s@example.test> SIZE=10001"),
             QByteArray("552 5.3.4 Message size exceeds the capture store's quota"));
    // ... and at the end of the data otherwise (dropped as it grows).
    QCOMPARE(s.send(messageOfSize(12000)), QByteArray("552 5.3.4 Message size exceeds the capture store's quota"));

    QCOMPARE(s.send(messageOfSize(6000, "first")).left(3), QByteArray("250"));
    // 4,000 bytes left: a declared 5,000 does not fit now, a transient 452.
    QCOMPARE(s.command("MAIL FROM:<s@example.test> SIZE=5000"), QByteArray("452 4.3.1 Insufficient system storage"));
    // Undeclared, it is found at the commit: the same answer at the end of data.
    QCOMPARE(s.send(messageOfSize(5000)), QByteArray("452 4.3.1 Insufficient system storage"));
    QCOMPARE(s.send(messageOfSize(4000, "exactly full")).left(3), QByteArray("250"));
    QCOMPARE(s.command("MAIL FROM:<s@example.test>"), QByteArray("452 4.3.1 Insufficient system storage"));
    QCOMPARE(s.command("QUIT").left(3), QByteArray("221"));

    const QStringList ids = listedIds(dir.path());
    QCOMPARE(ids.size(), 2);
    // Nothing of the refused ones was kept.
    QCOMPARE(QDir(dir.filePath(QStringLiteral("messages"))).entryList({QStringLiteral("*.eml")}, QDir::Files).size(),
             2);
    QVERIFY(QDir(dir.filePath(QStringLiteral("messages/.incoming"))).isEmpty());
}

void tst_ServeStore::storageErrorIsGeneric()
{
    // A file size limit of 1 MiB on the server (RLIMIT_FSIZE, as `ulimit -f`):
    // writing a 2 MiB message fails with EFBIG. serve must take that as a
    // storage error, not die of SIGXFSZ.
    QTemporaryDir dir;
    ServeProcess serve;
    serve.process()->setChildProcessModifier([] {
        rlimit limit{};
        ::getrlimit(RLIMIT_FSIZE, &limit);
        limit.rlim_cur = 1024 * 1024;
        ::setrlimit(RLIMIT_FSIZE, &limit);
    });
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), dir.path(),
                         {QStringLiteral("--verbose"), QStringLiteral("--max-size"), QStringLiteral("0")}, &error),
             qPrintable(error));
    const QByteArray generic = "451 4.3.0 Requested action aborted: local error in processing";
    RawSmtp s;
    QVERIFY(s.connect(serve.port));
    QVERIFY(s.command("EHLO client.test").startsWith("250"));
    const QByteArray tooLarge = s.send(messageOfSize(2 * 1024 * 1024, "too large for the limit"));
    QCOMPARE(tooLarge, generic);
    QVERIFY(!tooLarge.contains(dir.path().toUtf8()));
    // The server lives on and stores what fits.
    QCOMPARE(s.send(messageOfSize(500, "small")).left(3), QByteArray("250"));

    // The folder of messages being received removed under the running server.
    QVERIFY(QDir(dir.filePath(QStringLiteral("messages/.incoming"))).removeRecursively());
    QCOMPARE(s.send(messageOfSize(500, "nowhere to go")), generic);
    QCOMPARE(s.command("QUIT").left(3), QByteArray("221"));
    QVERIFY(serve.process()->state() == QProcess::Running);

    // The causes, with the paths and the system's reasons, are in the local log.
    QDeadlineTimer deadline(TimeoutMs);
    QByteArray log;
    const QByteArray efbig = QByteArray(std::strerror(EFBIG));
    const QByteArray enoent = QByteArray(std::strerror(ENOENT));
    const QByteArray incoming = QFile::encodeName(dir.filePath(QStringLiteral("messages/.incoming")));
    while (!deadline.hasExpired() && !(log.contains(efbig) && log.contains(enoent))) {
        serve.process()->waitForReadyRead(100);
        log += serve.process()->readAllStandardError();
    }
    QVERIFY2(log.contains(incoming + '/') && log.contains(efbig), log.constData());
    QVERIFY2(log.contains("Cannot create a file in " + incoming + ": " + enoent), log.constData());
    QVERIFY2(!log.contains("Unknown error"), log.constData());
    QCOMPARE(listedIds(dir.path()).size(), 1);
}

void tst_ServeStore::privateModes()
{
    QTemporaryDir parent;
    const QString dir = parent.filePath(QStringLiteral("capture"));
    const QString messages = dir + QStringLiteral("/messages");
    const QStringList folders{dir, messages, dir + QStringLiteral("/tls")};
    const QStringList files{messages + QStringLiteral("/index.sqlite"), messages + QStringLiteral("/index.sqlite-wal"),
                            messages + QStringLiteral("/index.sqlite-shm")};
    {
        ServeProcess serve;
        QString error;
        QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), dir, {}, &error), qPrintable(error));
        RawSmtp s;
        QVERIFY(s.connect(serve.port));
        QVERIFY(s.command("EHLO client.test").startsWith("250"));
        QCOMPARE(s.send(messageOfSize(300)).left(3), QByteArray("250"));
        for (const QString &f : folders)
            QCOMPARE(mode(f), 0700);
        for (const QString &f : files) // the journal files exist while it runs
            QCOMPARE(mode(f), 0600);
        for (const QString &name : QDir(messages).entryList({QStringLiteral("*.eml")}, QDir::Files))
            QCOMPARE(mode(messages + u'/' + name), 0600);
    }
    // Loosened by hand (or made by an older version): tightened at start.
    for (const QString &f : folders)
        QCOMPARE(::chmod(QFile::encodeName(f).constData(), 0755), 0);
    for (const QString &f : files) {
        if (!QFile::exists(f)) {
            QFile create(f);
            QVERIFY(create.open(QIODevice::WriteOnly));
        }
        QCOMPARE(::chmod(QFile::encodeName(f).constData(), 0644), 0);
    }
    ServeProcess again;
    QString error;
    QVERIFY2(again.start(QStringLiteral(SMTPSCOPE_BINARY), dir, {}, &error), qPrintable(error));
    for (const QString &f : folders)
        QCOMPARE(mode(f), 0700);
    for (const QString &f : files)
        QCOMPARE(mode(f), 0600);
    QCOMPARE(listedIds(dir).size(), 1);
}

void tst_ServeStore::clientGoneDuringCommit()
{
    // Clients that send a whole message and close at once, without waiting for
    // the reply: the connection goes while its commit is in flight. The
    // messages (complete) are stored and reported, the server carries on.
    QTemporaryDir dir;
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), dir.path(), {QStringLiteral("--verbose")}, &error),
             qPrintable(error));
    constexpr int Count = 20;
    for (int i = 0; i < Count; ++i) {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, serve.port);
        QVERIFY(socket.waitForConnected(TimeoutMs));
        // RFC 2920: everything pipelined; the text follows DATA at once (this
        // server reads it as the message once its 354 is written).
        socket.write("EHLO client.test\r\nMAIL FROM:<s@example.test>\r\nRCPT TO:<r@example.test>\r\nDATA\r\n"
                     + messageOfSize(100000 + i, "gone " + QByteArray::number(i)) + ".\r\n");
        socket.disconnectFromHost(); // FIN after the data: all of it arrives
        if (socket.state() != QAbstractSocket::UnconnectedState)
            QVERIFY(socket.waitForDisconnected(TimeoutMs));
    }
    QCOMPARE(serve.waitForLines(Count).size(), Count);
    QCOMPARE(listedIds(dir.path()).size(), Count);
    RawSmtp s;
    QVERIFY(s.connect(serve.port));
    QVERIFY(s.command("EHLO client.test").startsWith("250"));
    QCOMPARE(s.send(messageOfSize(300, "after")).left(3), QByteArray("250"));
    QVERIFY(serve.process()->state() == QProcess::Running);
}

void tst_ServeStore::clientGoneWhileTheServerWaits()
{
    // The whole transaction pipelined, then FIN, while the server still holds
    // its reply to DATA back (a scripted delay): when the close is seen the
    // message is unread input. It is served all the same and stored; only the
    // replies have nobody to go to.
    QTemporaryDir dir;
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), dir.path(),
                         {QStringLiteral("--fault"), QStringLiteral("data:delay=800")}, &error),
             qPrintable(error));
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, serve.port);
    QVERIFY(socket.waitForConnected(TimeoutMs));
    socket.write("EHLO client.test\r\nMAIL FROM:<s@example.test>\r\nRCPT TO:<r@example.test>\r\nDATA\r\n"
                 + messageOfSize(20000, "closed early") + ".\r\nQUIT\r\n");
    socket.disconnectFromHost();
    if (socket.state() != QAbstractSocket::UnconnectedState)
        QVERIFY(socket.waitForDisconnected(TimeoutMs));
    const QList<QByteArray> lines = serve.waitForLines(1);
    QCOMPARE(lines.size(), 1);
    QVERIFY2(lines.first().contains("closed early"), lines.first().constData());
    QCOMPARE(listedIds(dir.path()).size(), 1);
    QVERIFY(serve.process()->state() == QProcess::Running);
}

void tst_ServeStore::greetingsWhileDelivering()
{
    const int prefill = qEnvironmentVariableIsSet("SMTPSCOPE_TEST_PREFILL")
        ? qEnvironmentVariableIntValue("SMTPSCOPE_TEST_PREFILL")
        : 20000;
    constexpr int Clients = 500;
    constexpr int Senders = 8;
    constexpr qint64 GreetingBoundMs = Bounds::timeMs(5000); // the bound the store is built to

    // Server and clients in one process: 500 sockets and theirs.
    rlimit files{};
    QCOMPARE(::getrlimit(RLIMIT_NOFILE, &files), 0);
    if (files.rlim_cur < 4 * Clients && files.rlim_max >= 4 * Clients) {
        files.rlim_cur = 4 * Clients;
        QCOMPARE(::setrlimit(RLIMIT_NOFILE, &files), 0);
    }
    if (files.rlim_cur < 4 * Clients)
        QSKIP("too few file descriptors for 500 connections (ulimit -n)");

    // The store, filled fast: one message hard-linked under `prefill` ids,
    // then indexed once through MessageStore, as a store that grew to that
    // size would be.
    QTemporaryDir dir;
    const QString messages = dir.filePath(QStringLiteral("messages"));
    QVERIFY(QDir().mkpath(messages));
    const QString source = dir.filePath(QStringLiteral("fill.eml"));
    {
        QFile f(source);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("From: fill@example.test\r\nTo: many@example.test\r\nSubject: filler\r\n\r\n" + QByteArray(1400, 'f')
                + "\r\n");
    }
    QElapsedTimer fillTimer;
    fillTimer.start();
    QString linkTo = source;
    for (int i = 0; i < prefill; ++i) {
        const QString name = messages + u'/' + fillId(i) + QStringLiteral(".eml");
        QVERIFY2(::link(QFile::encodeName(linkTo).constData(), QFile::encodeName(name).constData()) == 0,
                 std::strerror(errno));
        if (i % 50000 == 49999) // ext4 allows 65,000 links to one inode
            QVERIFY(QFile::copy(source, linkTo = dir.filePath(QStringLiteral("fill-%1.eml").arg(i))));
    }
    {
        Capture::MessageStore store;
        QString error;
        QVERIFY2(store.open(messages, &error), qPrintable(error));
        QCOMPARE(store.messages().size(), prefill);
    }
    qInfo("filled and indexed %d messages in %lld ms", prefill, fillTimer.elapsed());

    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), dir.path(), {}, &error), qPrintable(error));

    // Deliveries go on throughout: each sender one session, message after
    // message, until the greetings are done (bounded in count and time).
    std::atomic<bool> stop = false;
    std::atomic<int> delivered = 0;
    std::atomic<int> failed = 0;
    std::vector<std::thread> senders;
    const QByteArray body = "Subject: during the greetings\r\n\r\n" + QByteArray(2000, 'd') + "\r\n";
    for (int t = 0; t < Senders; ++t) {
        senders.emplace_back([&, port = serve.port] {
            SmtpClient client(QStringLiteral("127.0.0.1"), port);
            client.setConnectTimeout(60000);
            client.setReadTimeout(60000);
            client.setDataTimeout(60000);
            client.setStartTlsPolicy(SmtpClient::StartTlsPolicy::Never);
            client.setKeepAlive(true);
            RawMessage m(QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")}, body);
            QDeadlineTimer limit(120000);
            for (int i = 0; i < 2000 && !stop && !limit.hasExpired(); ++i) {
                try {
                    client.sendMessage(m);
                    ++delivered;
                } catch (const SmtpException &) {
                    ++failed;
                    break;
                }
            }
            client.forceDisconnect();
        });
    }
    // Let the deliveries get going first.
    QDeadlineTimer warmup(30000);
    while (delivered < 2 * Senders && failed == 0 && !warmup.hasExpired())
        QTest::qWait(20);
    const int deliveredBefore = delivered;

    // 500 clients, connecting in quick waves (so the listen backlog is not
    // what is measured), all open at once; each timed from its connect to
    // its 220.
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    std::vector<qint64> greetedMs(Clients, -1);
    std::vector<QElapsedTimer> started(Clients);
    std::vector<QByteArray> received(Clients);
    int greeted = 0;
    QElapsedTimer phase;
    phase.start();
    for (int i = 0; i < Clients; ++i) {
        auto socket = std::make_unique<QTcpSocket>();
        QTcpSocket *raw = socket.get();
        QObject::connect(raw, &QTcpSocket::readyRead, raw, [&, i, raw] {
            received[i] += raw->readAll();
            if (greetedMs[i] < 0 && received[i].contains("\r\n")) {
                greetedMs[i] = started[i].elapsed();
                ++greeted;
            }
        });
        started[i].start();
        raw->connectToHost(QHostAddress::LocalHost, serve.port);
        sockets.push_back(std::move(socket));
        if (i % 25 == 24)
            QTest::qWait(10);
    }
    QDeadlineTimer deadline(GreetingBoundMs + 5000);
    while (greeted < Clients && !deadline.hasExpired())
        QTest::qWait(20);
    const qint64 phaseMs = phase.elapsed();
    const int deliveredDuring = delivered - deliveredBefore;
    stop = true;
    for (std::thread &t : senders)
        t.join();
    for (auto &socket : sockets)
        socket->abort();

    int late = 0;
    int missing = 0;
    std::vector<qint64> times;
    for (int i = 0; i < Clients; ++i) {
        if (greetedMs[i] < 0) {
            ++missing;
            continue;
        }
        if (!received[i].startsWith("220 "))
            QFAIL(qPrintable(QStringLiteral("client %1 got %2").arg(i).arg(QString::fromLatin1(received[i]))));
        if (greetedMs[i] > GreetingBoundMs)
            ++late;
        times.push_back(greetedMs[i]);
    }
    std::sort(times.begin(), times.end());
    qInfo("store of %d: %d clients, greeted %d (median %lld ms, max %lld ms), %d late, %d never; %d deliveries "
          "during the %lld ms of greetings, %d sender failures",
          prefill, Clients, greeted, times.empty() ? -1 : times[times.size() / 2], times.empty() ? -1 : times.back(),
          late, missing, deliveredDuring, phaseMs, int(failed));
    QCOMPARE(failed.load(), 0);
    QVERIFY2(deliveredDuring > 0, "no delivery went on during the greetings: nothing was measured");
    QCOMPARE(missing, 0);
    QCOMPARE(late, 0);
}

QTEST_GUILESS_MAIN(tst_ServeStore)
#include "tst_servestore.moc"
