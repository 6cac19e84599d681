// Unit tests of the public client API (core/client/smtpclient.h).
//
// No external server is needed: test mode runs the real session against the
// built-in simulated server, and everything else talks to a ScriptedServer, an
// in-process QTcpServer on 127.0.0.1 (port 0) that plays a C:/S: script on its
// own thread. The client blocks the calling thread (its network work runs on
// its own worker thread), so the server cannot share the test thread. Every
// wait on either side has a timeout.
//
// Script notation, one step a line (leading blanks ignored):
//   S: text     the server writes "text\r\n" (consecutive S: lines go in one write)
//   C: text     the server reads one CRLF-terminated line and it must be "text"
//               ("C:" alone is an empty line, e.g. between headers and body)
//   -- sleep N  the server waits N ms
//   -- close    the server closes the connection
//   -- silent   the server says nothing and waits until the client closes
//   -- accept   the server waits for the next connection
// When the script ends, the client must close the connection without sending
// anything more, and must not open another one.

#include "client/outgoingmessage.h"
#include "client/sendresult.h"
#include "client/smtpclient.h"
#include "client/smtperror.h"
#include "events/eventqueue.h"
#include "events/socketevent.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QMutex>
#include <QMutexLocker>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QWaitCondition>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>

using namespace std::chrono_literals;

namespace {

constexpr int kWait = 5000; // upper bound for any single loopback wait (ms)

// ---------------------------------------------------------------- the scripted server

class ScriptedServer
{
public:
    explicit ScriptedServer(const QByteArray &script)
    {
        parse(script);
    }

    ~ScriptedServer()
    {
        m_stop = true;
        if (m_thread.joinable())
            m_thread.join();
    }

    Q_DISABLE_COPY_MOVE(ScriptedServer)

    // Starts listening on 127.0.0.1, port 0, and playing the script.
    [[nodiscard]] bool start()
    {
        std::promise<quint16> promise;
        std::future<quint16> future = promise.get_future();
        m_thread = std::thread([this, p = std::move(promise)]() mutable { run(std::move(p)); });
        if (future.wait_for(std::chrono::milliseconds(kWait)) != std::future_status::ready)
            return false;
        m_port = future.get();
        return m_port != 0;
    }

    [[nodiscard]] quint16 port() const { return m_port; }

    // Waits until the script has been played to its end (or failed).
    [[nodiscard]] bool waitFinished(int ms = kWait)
    {
        QMutexLocker lock(&m_mutex);
        const QDeadlineTimer deadline(ms);
        while (!m_finished) {
            if (!m_changed.wait(&m_mutex, deadline))
                return m_finished;
        }
        return true;
    }

    // Waits until `count` connections have been accepted.
    [[nodiscard]] bool waitForConnections(int count, int ms = kWait)
    {
        QMutexLocker lock(&m_mutex);
        const QDeadlineTimer deadline(ms);
        while (m_connections < count) {
            if (!m_changed.wait(&m_mutex, deadline))
                return m_connections >= count;
        }
        return true;
    }

    [[nodiscard]] QStringList failures() const { QMutexLocker lock(&m_mutex); return m_failures; }
    [[nodiscard]] QString report() const
    {
        const QStringList f = failures();
        return f.isEmpty() ? QStringLiteral("(server: script played without error)")
                           : QStringLiteral("server: ") + f.join(QStringLiteral("; "));
    }
    [[nodiscard]] int connections() const { QMutexLocker lock(&m_mutex); return m_connections; }
    [[nodiscard]] qint64 bytesRead() const { QMutexLocker lock(&m_mutex); return m_received.size(); }
    [[nodiscard]] qint64 bytesWritten() const { QMutexLocker lock(&m_mutex); return m_sent.size(); }
    [[nodiscard]] QByteArray received() const { QMutexLocker lock(&m_mutex); return m_received; }
    [[nodiscard]] QByteArray sent() const { QMutexLocker lock(&m_mutex); return m_sent; }

private:
    struct Step
    {
        enum class Kind { Send, Expect, Sleep, Close, Silent, Accept };
        Kind kind = Kind::Send;
        QByteArray text;
        int ms = 0;
    };

    void parse(const QByteArray &script)
    {
        for (QByteArray line : script.split('\n')) {
            qsizetype i = 0;
            while (i < line.size() && (line.at(i) == ' ' || line.at(i) == '\t'))
                ++i;
            line = line.mid(i);
            if (line.isEmpty())
                continue;
            auto rest = [&line] {
                QByteArray r = line.mid(2);
                return r.startsWith(' ') ? r.mid(1) : r;
            };
            Step s;
            if (line.startsWith("S:")) {
                s.kind = Step::Kind::Send;
                s.text = rest();
            } else if (line.startsWith("C:")) {
                s.kind = Step::Kind::Expect;
                s.text = rest();
            } else if (line.startsWith("-- sleep ")) {
                s.kind = Step::Kind::Sleep;
                s.ms = line.mid(9).toInt();
            } else if (line == "-- close") {
                s.kind = Step::Kind::Close;
            } else if (line == "-- silent") {
                s.kind = Step::Kind::Silent;
            } else if (line == "-- accept") {
                s.kind = Step::Kind::Accept;
            } else {
                m_failures.append(QStringLiteral("bad script line \"%1\"").arg(QString::fromUtf8(line)));
                continue;
            }
            m_steps.append(s);
        }
    }

    void fail(const QString &why)
    {
        QMutexLocker lock(&m_mutex);
        m_failures.append(why);
    }

    void notify(const std::function<void()> &change)
    {
        QMutexLocker lock(&m_mutex);
        change();
        m_changed.wakeAll();
    }

    std::unique_ptr<QTcpSocket> accept(QTcpServer &server)
    {
        const QDeadlineTimer deadline(kWait);
        while (!m_stop && !deadline.hasExpired()) {
            if (server.hasPendingConnections() || server.waitForNewConnection(50)) {
                std::unique_ptr<QTcpSocket> s(server.nextPendingConnection());
                if (!s)
                    continue;
                s->setParent(nullptr);
                notify([this] { ++m_connections; });
                return s;
            }
        }
        fail(QStringLiteral("no connection from the client within %1 ms").arg(kWait));
        return nullptr;
    }

    // Reads what is there; false when the peer has closed (or on stop/deadline)
    // and nothing was read.
    bool readSome(QTcpSocket &s, QByteArray &buffer, const QDeadlineTimer &deadline)
    {
        while (!m_stop && !deadline.hasExpired()) {
            if (s.bytesAvailable() > 0 || s.waitForReadyRead(50)) {
                const QByteArray data = s.readAll();
                if (data.isEmpty())
                    continue;
                buffer += data;
                QMutexLocker lock(&m_mutex);
                m_received += data;
                return true;
            }
            if (s.state() != QAbstractSocket::ConnectedState)
                return false;
        }
        return false;
    }

    bool readLine(QTcpSocket &s, QByteArray &buffer, QByteArray *line)
    {
        const QDeadlineTimer deadline(kWait);
        for (;;) {
            const qsizetype end = buffer.indexOf("\r\n");
            if (end >= 0) {
                *line = buffer.left(end);
                buffer.remove(0, end + 2);
                return true;
            }
            if (!readSome(s, buffer, deadline))
                return false;
        }
    }

    // Reads until the client closes; false if it did not within the timeout.
    bool readUntilClosed(QTcpSocket &s, QByteArray &buffer)
    {
        const QDeadlineTimer deadline(kWait);
        while (readSome(s, buffer, deadline)) {
        }
        return s.state() != QAbstractSocket::ConnectedState && s.bytesAvailable() == 0;
    }

    bool write(QTcpSocket &s, const QByteArray &bytes)
    {
        if (s.write(bytes) != bytes.size())
            return false;
        {
            QMutexLocker lock(&m_mutex);
            m_sent += bytes;
        }
        const QDeadlineTimer deadline(kWait);
        while (s.bytesToWrite() > 0) {
            if (deadline.hasExpired() || s.state() != QAbstractSocket::ConnectedState)
                return false;
            s.waitForBytesWritten(50);
        }
        return true;
    }

    void run(std::promise<quint16> portPromise)
    {
        QTcpServer server;
        if (!server.listen(QHostAddress::LocalHost, 0)) {
            fail(QStringLiteral("cannot listen: %1").arg(server.errorString()));
            portPromise.set_value(0);
            notify([this] { m_finished = true; });
            return;
        }
        portPromise.set_value(server.serverPort());

        std::unique_ptr<QTcpSocket> sock = accept(server);
        bool ok = sock != nullptr;
        QByteArray in;
        QByteArray out;
        for (qsizetype i = 0; ok && !m_stop && i < m_steps.size(); ++i) {
            const Step &step = m_steps.at(i);
            if (step.kind != Step::Kind::Send && !out.isEmpty()) {
                ok = write(*sock, std::exchange(out, QByteArray()));
                if (!ok) {
                    fail(QStringLiteral("step %1: cannot write to the client").arg(i + 1));
                    break;
                }
            }
            switch (step.kind) {
            case Step::Kind::Send:
                out += step.text + "\r\n";
                break;
            case Step::Kind::Expect: {
                QByteArray line;
                if (!readLine(*sock, in, &line)) {
                    fail(QStringLiteral("step %1: expected \"C: %2\", but the client %3 (unread: \"%4\")")
                             .arg(i + 1)
                             .arg(QString::fromUtf8(step.text),
                                  sock->state() == QAbstractSocket::ConnectedState ? QStringLiteral("sent no line in time")
                                                                                   : QStringLiteral("closed the connection"),
                                  QString::fromUtf8(in)));
                    ok = false;
                } else if (line != step.text) {
                    fail(QStringLiteral("step %1: expected \"C: %2\", got \"C: %3\"")
                             .arg(i + 1)
                             .arg(QString::fromUtf8(step.text), QString::fromUtf8(line)));
                    ok = false;
                }
                break;
            }
            case Step::Kind::Sleep:
                QThread::msleep(ulong(step.ms));
                break;
            case Step::Kind::Close:
                sock->disconnectFromHost();
                if (sock->state() != QAbstractSocket::UnconnectedState)
                    sock->waitForDisconnected(kWait);
                sock.reset();
                in.clear();
                break;
            case Step::Kind::Silent:
                if (!readUntilClosed(*sock, in)) {
                    fail(QStringLiteral("step %1: the client did not close a silent connection in time").arg(i + 1));
                    ok = false;
                } else if (!in.isEmpty()) {
                    fail(QStringLiteral("step %1: the client wrote \"%2\" to a silent server")
                             .arg(i + 1)
                             .arg(QString::fromUtf8(in)));
                    ok = false;
                }
                sock.reset();
                in.clear();
                break;
            case Step::Kind::Accept:
                sock = accept(server);
                ok = sock != nullptr;
                in.clear();
                break;
            }
        }
        if (ok && sock && !out.isEmpty()) {
            ok = write(*sock, out);
            if (!ok)
                fail(QStringLiteral("cannot write the last replies to the client"));
        }
        if (ok && sock) {
            // The script is over: the client must close without sending more.
            if (!readUntilClosed(*sock, in))
                fail(QStringLiteral("the client kept the connection open after the script ended"));
            if (!in.isEmpty())
                fail(QStringLiteral("the client sent \"%1\" after the script ended").arg(QString::fromUtf8(in)));
        }
        if (sock)
            sock->abort(); // on failure: make the client notice at once
        if (ok && server.waitForNewConnection(50))
            fail(QStringLiteral("the client opened an unexpected extra connection"));
        notify([this] { m_finished = true; });
    }

    QList<Step> m_steps;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    quint16 m_port = 0;

    mutable QMutex m_mutex; // guards everything below
    QWaitCondition m_changed;
    QStringList m_failures;
    QByteArray m_received;
    QByteArray m_sent;
    int m_connections = 0;
    bool m_finished = false;
};

// ---------------------------------------------------------------- helpers

// Log callbacks run on the client's worker thread.
class LineSink
{
public:
    SmtpClient::LogFunction function()
    {
        return [this](const QString &line) {
            QMutexLocker lock(&m_mutex);
            m_lines.append(line);
        };
    }
    [[nodiscard]] QStringList lines() const { QMutexLocker lock(&m_mutex); return m_lines; }
    [[nodiscard]] QString text() const { return lines().join(u'\n'); }

private:
    mutable QMutex m_mutex;
    QStringList m_lines;
};

std::unique_ptr<SmtpClient> clientFor(const ScriptedServer &server, SmtpClient::LogFunction log = {},
                                      SmtpClient::LogFunction dbglog = {})
{
    auto c = std::make_unique<SmtpClient>(QStringLiteral("127.0.0.1"), int(server.port()), std::move(log),
                                          std::move(dbglog));
    c->setConnectTimeout(kWait);
    c->setReadTimeout(kWait);
    return c;
}

// A send that must succeed: on failure, says what the client and the server saw.
std::optional<SendResult> sendOk(SmtpClient &client, const OutgoingMessage &message, QString *why)
{
    try {
        return client.sendMessage(message);
    } catch (const SmtpException &e) {
        *why = QStringLiteral("sendMessage threw %1").arg(e.error().toString());
        return std::nullopt;
    }
}

// A send that must fail: returns the error thrown.
std::optional<SmtpError> sendFails(SmtpClient &client, const OutgoingMessage &message)
{
    try {
        (void)client.sendMessage(message);
    } catch (const SmtpException &e) {
        return e.error();
    }
    return std::nullopt;
}

template<typename F>
std::optional<SmtpError> throws(F &&f)
{
    try {
        f();
    } catch (const SmtpException &e) {
        return e.error();
    }
    return std::nullopt;
}

const QString Alice = QStringLiteral("alice@example.org");
const QString Bob = QStringLiteral("bob@example.org");
const QString Carol = QStringLiteral("carol@example.org");

// A short message whose data lines are "Subject: hello", "", "line one".
const QByteArray ShortData = "Subject: hello\r\n\r\nline one\r\n";

// The greeting and EHLO of a plain server offering `caps` (none: a one-line 250).
QByteArray opening(const QByteArrayList &caps = {})
{
    QByteArray s = "S: 220 scripted.test ESMTP\nC: EHLO localhost\n";
    if (caps.isEmpty())
        return s + "S: 250 scripted.test\n";
    s += "S: 250-scripted.test\n";
    for (qsizetype i = 0; i < caps.size(); ++i)
        s += "S: 250" + QByteArray(i + 1 < caps.size() ? "-" : " ") + caps.at(i) + '\n';
    return s;
}

// One transaction of ShortData from alice to bob, accepted with `queued`.
QByteArray shortTransaction(const QByteArray &queued = "250 2.0.0 queued as 1", const QByteArray &mailParams = {})
{
    return "C: MAIL FROM:<alice@example.org>" + mailParams
        + "\n"
          "S: 250 2.1.0 ok\n"
          "C: RCPT TO:<bob@example.org>\n"
          "S: 250 2.1.5 ok\n"
          "C: DATA\n"
          "S: 354 go ahead\n"
          "C: Subject: hello\n"
          "C:\n"
          "C: line one\n"
          "C: .\n"
          "S: "
        + queued + '\n';
}

const QByteArray Quit = "C: QUIT\nS: 221 2.0.0 bye\n";

int countType(const QList<QVariantMap> &events, int type)
{
    return int(std::count_if(events.begin(), events.end(),
                             [type](const QVariantMap &e) { return e.value(QStringLiteral("event")).toInt() == type; }));
}

qsizetype firstOf(const QList<QVariantMap> &events, int type)
{
    for (qsizetype i = 0; i < events.size(); ++i) {
        if (events.at(i).value(QStringLiteral("event")).toInt() == type)
            return i;
    }
    return -1;
}

qsizetype lastOf(const QList<QVariantMap> &events, int type)
{
    for (qsizetype i = events.size() - 1; i >= 0; --i) {
        if (events.at(i).value(QStringLiteral("event")).toInt() == type)
            return i;
    }
    return -1;
}

QString eventNames(const QList<QVariantMap> &events)
{
    QStringList names;
    for (const QVariantMap &e : events)
        names.append(e.value(QStringLiteral("event_name")).toString());
    return names.join(u' ');
}

} // namespace

class tst_SmtpClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // The scripted server itself
    void harnessCatchesMistakes_data();
    void harnessCatchesMistakes();

    // Construction and settings
    void constants();
    void protocolsTable();
    void hostPortConstructor_data();
    void hostPortConstructor();
    void hostPortConstructorRejects_data();
    void hostPortConstructorRejects();
    void urlConstructor_data();
    void urlConstructor();
    void urlConstructorRejects_data();
    void urlConstructorRejects();
    void tlsAndSslExclusive();
    void timeouts();
    void queuesRejected();

    // Test mode
    void testModeSend();
    void testModeRepeatable();

    // Refused before any I/O
    void messageErrorBeforeIo_data();
    void messageErrorBeforeIo();

    // Against scripted servers
    void normalSend_data();
    void normalSend();
    void oneRecipientRefused();
    void allRecipientsRefused();
    void temporaryFailureAtEndOfData();
    void keepAlive_data();
    void keepAlive();
    void cancelFromAnotherThread();
    void events();
    void eventQueueRemoved();
    void eventQueueChangedOnKeptSession();
    void usageInfoAndClearStats();
    void warningQueue();
    void logCallbacks();
    void authSecretsInDebugLog_data();
    void authSecretsInDebugLog();
};

// ---------------------------------------------------------------- the scripted server

void tst_SmtpClient::harnessCatchesMistakes_data()
{
    QTest::addColumn<QByteArray>("script");
    QTest::addColumn<QString>("failure");

    // The client sends alice as the sender, not mallory.
    QTest::addRow("wrong line") << opening() + "C: MAIL FROM:<mallory@example.org>\nS: 250 ok\n"
                                << QStringLiteral("got \"C: MAIL FROM:<alice@example.org>\"");
    // The script stops before QUIT: the client's QUIT is one line too many.
    QTest::addRow("more than scripted") << opening() + shortTransaction()
                                        << QStringLiteral("sent \"QUIT\r\n\" after the script ended");
    QTest::addRow("bad script line") << QByteArray("X: nonsense\n") + opening() + shortTransaction() + Quit
                                     << QStringLiteral("bad script line");
}

void tst_SmtpClient::harnessCatchesMistakes()
{
    // The tests below trust ScriptedServer to notice a client that strays from
    // its script; this checks that it does.
    QFETCH(QByteArray, script);
    QFETCH(QString, failure);
    ScriptedServer server(script);
    QVERIFY(server.start());
    auto c = clientFor(server);
    c->setReadTimeout(300); // the client gives up quickly on a server that went quiet
    RawMessage m(Alice, {Bob}, ShortData);
    (void)sendFails(*c, m); // the client's view does not matter here
    QVERIFY(server.waitFinished());
    QVERIFY2(server.report().contains(failure), qPrintable(server.report()));
}

// ---------------------------------------------------------------- construction and settings

void tst_SmtpClient::constants()
{
    QCOMPARE(SmtpClient::SmtpPort, quint16(25));
    QCOMPARE(SmtpClient::SmtpsPort, quint16(465));
    QCOMPARE(SmtpClient::EsmtpPort, quint16(587));
}

void tst_SmtpClient::protocolsTable()
{
    // The reference's Protocols constant, with smtptls on 25 (reference-differences.md).
    struct Row { const char *scheme; int port; bool ssl; bool tls; };
    const Row expected[] = {
        {"smtp", SmtpClient::SmtpPort, false, false},    {"smtps", SmtpClient::SmtpsPort, true, false},
        {"smtptls", SmtpClient::SmtpPort, false, true},  {"esmtp", SmtpClient::EsmtpPort, false, false},
        {"esmtps", SmtpClient::SmtpsPort, true, false},  {"esmtptls", SmtpClient::EsmtpPort, false, true},
    };
    const QVariantMap table = SmtpClient::protocols();
    QCOMPARE(table.size(), qsizetype(std::size(expected)));
    for (const Row &r : expected) {
        const QString scheme = QString::fromLatin1(r.scheme);
        QVERIFY2(table.contains(scheme), r.scheme);
        const QVariantMap entry = table.value(scheme).toMap();
        QCOMPARE(entry.size(), qsizetype(3));
        QCOMPARE(entry.value(QStringLiteral("port")).toInt(), r.port);
        QCOMPARE(entry.value(QStringLiteral("ssl")).toBool(), r.ssl);
        QCOMPARE(entry.value(QStringLiteral("tls")).toBool(), r.tls);

        // The table and the URL constructor agree.
        SmtpClient c(scheme + QStringLiteral("://mail.example.org"));
        QCOMPARE(c.ssl(), r.ssl);
        QCOMPARE(c.tls(), r.tls);
        QCOMPARE(c.getTarget(), QStringLiteral("mail.example.org:%1").arg(r.port));
    }
}

void tst_SmtpClient::hostPortConstructor_data()
{
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("target");

    QTest::addRow("name") << QStringLiteral("mail.example.org") << 25 << QStringLiteral("mail.example.org:25");
    QTest::addRow("ipv4") << QStringLiteral("127.0.0.1") << 2525 << QStringLiteral("127.0.0.1:2525");
    QTest::addRow("ipv6 in brackets") << QStringLiteral("[::1]") << 587 << QStringLiteral("[::1]:587");
    QTest::addRow("ipv6 bare") << QStringLiteral("::1") << 465 << QStringLiteral("[::1]:465");
    QTest::addRow("ipv6 long in brackets") << QStringLiteral("[2001:db8::25]") << 1 << QStringLiteral("[2001:db8::25]:1");
    QTest::addRow("highest port") << QStringLiteral("localhost") << 65535 << QStringLiteral("localhost:65535");
}

void tst_SmtpClient::hostPortConstructor()
{
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(QString, target);
    SmtpClient c(host, port);
    QCOMPARE(c.getTarget(), target);
    QVERIFY(!c.ssl());
    QVERIFY(!c.tls());
    QVERIFY(!c.test());
    QVERIFY(!c.isConnected());
}

void tst_SmtpClient::hostPortConstructorRejects_data()
{
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");

    QTest::addRow("port 0") << QStringLiteral("mail.example.org") << 0;
    QTest::addRow("negative port") << QStringLiteral("mail.example.org") << -25;
    QTest::addRow("port 65536") << QStringLiteral("mail.example.org") << 65536;
    QTest::addRow("port 100000") << QStringLiteral("[::1]") << 100000;
    QTest::addRow("empty host") << QString() << 25;
    QTest::addRow("empty brackets") << QStringLiteral("[]") << 25;
}

void tst_SmtpClient::hostPortConstructorRejects()
{
    QFETCH(QString, host);
    QFETCH(int, port);
    const auto error = throws([&] { SmtpClient c(host, port); });
    QVERIFY2(error, "no exception");
    QCOMPARE(error->code, QStringLiteral("PARSE-URL-ERROR"));
    QCOMPARE(error->category, SmtpError::Category::Usage);
}

void tst_SmtpClient::urlConstructor_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<bool>("ssl");
    QTest::addColumn<bool>("tls");
    QTest::addColumn<QString>("target");

    QTest::addRow("smtp") << QStringLiteral("smtp://mail.example.org") << false << false << QStringLiteral("mail.example.org:25");
    QTest::addRow("smtps") << QStringLiteral("smtps://mail.example.org") << true << false << QStringLiteral("mail.example.org:465");
    QTest::addRow("smtptls") << QStringLiteral("smtptls://mail.example.org") << false << true << QStringLiteral("mail.example.org:25");
    QTest::addRow("esmtp") << QStringLiteral("esmtp://mail.example.org") << false << false << QStringLiteral("mail.example.org:587");
    QTest::addRow("esmtps") << QStringLiteral("esmtps://mail.example.org") << true << false << QStringLiteral("mail.example.org:465");
    QTest::addRow("esmtptls") << QStringLiteral("esmtptls://mail.example.org") << false << true << QStringLiteral("mail.example.org:587");
    QTest::addRow("no scheme") << QStringLiteral("mail.example.org") << false << false << QStringLiteral("mail.example.org:25");
    QTest::addRow("explicit port") << QStringLiteral("esmtptls://mail.example.org:2587") << false << true << QStringLiteral("mail.example.org:2587");
    QTest::addRow("ipv6") << QStringLiteral("smtps://[::1]:10465") << true << false << QStringLiteral("[::1]:10465");
    QTest::addRow("user and password") << QStringLiteral("esmtptls://alice:secret@mail.example.org") << false << true << QStringLiteral("mail.example.org:587");
}

void tst_SmtpClient::urlConstructor()
{
    QFETCH(QString, url);
    QFETCH(bool, ssl);
    QFETCH(bool, tls);
    QFETCH(QString, target);
    std::unique_ptr<SmtpClient> c;
    const auto error = throws([&] { c = std::make_unique<SmtpClient>(url); });
    QVERIFY2(!error, qPrintable(error ? error->toString() : QString()));
    QCOMPARE(c->ssl(), ssl);
    QCOMPARE(c->tls(), tls);
    QCOMPARE(c->getTarget(), target);
}

void tst_SmtpClient::urlConstructorRejects_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("code");

    const QString unknown = QStringLiteral("SMTPCLIENT-UNKNOWN-PROTOCOL");
    const QString auth = QStringLiteral("SMTPCLIENT-INVALID-AUTHENTICATION");
    const QString parse = QStringLiteral("PARSE-URL-ERROR");
    QTest::addRow("http") << QStringLiteral("http://mail.example.org") << unknown;
    QTest::addRow("smtpx") << QStringLiteral("smtpx://mail.example.org") << unknown;
    QTest::addRow("user without password") << QStringLiteral("smtp://alice@mail.example.org") << auth;
    QTest::addRow("user without password, smtps") << QStringLiteral("smtps://alice@[::1]:465") << auth;
    QTest::addRow("port too big") << QStringLiteral("smtp://mail.example.org:70000") << parse;
    QTest::addRow("port not a number") << QStringLiteral("smtp://mail.example.org:abc") << parse;
    QTest::addRow("no host") << QStringLiteral("smtp://") << parse;
}

void tst_SmtpClient::urlConstructorRejects()
{
    QFETCH(QString, url);
    QFETCH(QString, code);
    const auto error = throws([&] { SmtpClient c(url); });
    QVERIFY2(error, "no exception");
    QCOMPARE(error->code, code);
    QCOMPARE(error->category, SmtpError::Category::Usage);
}

void tst_SmtpClient::tlsAndSslExclusive()
{
    SmtpClient c(QStringLiteral("mail.example.org"), 25);
    c.tls(true);
    QVERIFY(c.tls());
    QVERIFY(!c.ssl());
    c.ssl(true); // clears tls
    QVERIFY(c.ssl());
    QVERIFY(!c.tls());
    c.tls(true); // clears ssl
    QVERIFY(c.tls());
    QVERIFY(!c.ssl());
    c.tls(false); // turning one off leaves the other as it is
    QVERIFY(!c.tls());
    QVERIFY(!c.ssl());
    c.ssl(true);
    c.tls(false);
    QVERIFY(c.ssl());

    // From a URL too.
    SmtpClient fromUrl(QStringLiteral("smtps://mail.example.org"));
    QVERIFY(fromUrl.ssl());
    fromUrl.tls(true);
    QVERIFY(fromUrl.tls());
    QVERIFY(!fromUrl.ssl());
}

void tst_SmtpClient::timeouts()
{
    SmtpClient c(QStringLiteral("mail.example.org"), 25);
    // qore-behaviour.md: connect timeout 30 s, read timeout 15 s by default.
    QCOMPARE(c.getConnectTimeoutMs(), 30000);
    QCOMPARE(c.getReadTimeoutMs(), 15000);
    QCOMPARE(c.getConnectTimeoutDate(), std::chrono::milliseconds(30000));
    QCOMPARE(c.getReadTimeoutDate(), std::chrono::milliseconds(15000));

    c.setConnectTimeout(1234);
    QCOMPARE(c.getConnectTimeoutMs(), 1234);
    QCOMPARE(c.getConnectTimeoutDate(), std::chrono::milliseconds(1234));
    c.setConnectTimeout(3s);
    QCOMPARE(c.getConnectTimeoutMs(), 3000);
    QCOMPARE(c.getConnectTimeoutDate(), std::chrono::milliseconds(3000));

    c.setReadTimeout(4500);
    QCOMPARE(c.getReadTimeoutMs(), 4500);
    QCOMPARE(c.getReadTimeoutDate(), std::chrono::milliseconds(4500));
    c.setReadTimeout(250ms);
    QCOMPARE(c.getReadTimeoutMs(), 250);
    QCOMPARE(c.getReadTimeoutDate(), std::chrono::milliseconds(250));
    // The connect timeout is independent of the read timeout.
    QCOMPARE(c.getConnectTimeoutMs(), 3000);
}

void tst_SmtpClient::queuesRejected()
{
    SmtpClient c(QStringLiteral("mail.example.org"), 25);
    EventQueue bounded(10);
    EventQueue unbounded;

    auto error = throws([&] { c.setEventQueue(&bounded, QStringLiteral("arg")); });
    QVERIFY2(error, "a bounded event queue was accepted");
    QCOMPARE(error->code, QStringLiteral("QUEUE-ERROR"));
    QVERIFY(!throws([&] { c.setEventQueue(&unbounded, QStringLiteral("arg")); }));
    QVERIFY(!throws([&] { c.setEventQueue(); }));

    error = throws([&] { c.setWarningQueue(0, 0, &unbounded, QStringLiteral("arg")); });
    QVERIFY2(error, "setWarningQueue(0, 0, ...) was accepted");
    QCOMPARE(error->code, QStringLiteral("SOCKET-SETWARNINGQUEUE-ERROR"));
    error = throws([&] { c.setWarningQueue(100, 0, &bounded, QStringLiteral("arg")); });
    QVERIFY2(error, "a bounded warning queue was accepted");
    QCOMPARE(error->code, QStringLiteral("QUEUE-ERROR"));
    QVERIFY(!throws([&] { c.setWarningQueue(100, 0, &unbounded, QStringLiteral("arg")); }));
    QVERIFY(!throws([&] { c.setWarningQueue(0, 1000, &unbounded, QStringLiteral("arg")); }));
    c.clearWarningQueue();
}

// ---------------------------------------------------------------- test mode

void tst_SmtpClient::testModeSend()
{
    // Port 9 on a reserved name: nothing may connect, and nothing does.
    SmtpClient c(QStringLiteral("mail.example.invalid"), 9);
    QVERIFY(!c.isConnected());
    c.test(true);
    QVERIFY(c.test());
    QVERIFY(c.isConnected()); // reference: always "connected" in test mode

    // A line starting with '.', a bare LF, a line "..x", and no final line ending.
    const QByteArray data = "From: alice@example.org\r\nSubject: dots\r\n\r\n"
                            ".starts with a dot\nafter a bare LF\r\n..two dots\r\nlast line";
    RawMessage m(Alice, {Bob, Carol}, data);
    QString why;
    const auto r = sendOk(c, m, &why);
    QVERIFY2(r, qPrintable(why));

    const QByteArray expectedWire = "EHLO localhost\r\n"
                                    "MAIL FROM:<alice@example.org> SIZE="
        + QByteArray::number(data.size())
        + "\r\n"
          "RCPT TO:<bob@example.org>\r\n"
          "RCPT TO:<carol@example.org>\r\n"
          "DATA\r\n"
          "From: alice@example.org\r\nSubject: dots\r\n\r\n"
          "..starts with a dot\r\nafter a bare LF\r\n...two dots\r\nlast line\r\n"
          ".\r\n"
          "QUIT\r\n";
    QCOMPARE(r->simulatedWire, expectedWire);

    QCOMPARE(r->greeting.code, 220);
    QCOMPARE(r->ehlo.code, 250);
    QVERIFY(!r->usedHelo);
    QCOMPARE(r->mail.code, 250);
    QCOMPARE(r->recipients.size(), qsizetype(2));
    QCOMPARE(r->recipients.at(0).address, Bob);
    QCOMPARE(r->recipients.at(0).reply.code, 250);
    QCOMPARE(r->recipients.at(1).address, Carol);
    QCOMPARE(r->recipients.at(1).reply.code, 250);
    QVERIFY(r->refusedRecipients().isEmpty());
    QCOMPARE(r->message.code, 250);
    QVERIFY(r->accepted);
    QCOMPARE(r->quit.code, 221);
    QCOMPARE(r->messageBytes, qint64(data.size()));
    QVERIFY(!r->error.isError());

    // The transcript: client and server lines in order, the data counted, not logged.
    const QString text = r->transcriptText();
    const QStringList inOrder = {QStringLiteral("S: 220 "), QStringLiteral("C: EHLO localhost\n"),
                                 QStringLiteral("S: 250"),
                                 QStringLiteral("C: MAIL FROM:<alice@example.org> SIZE=%1\n").arg(data.size()),
                                 QStringLiteral("C: RCPT TO:<bob@example.org>\n"),
                                 QStringLiteral("C: RCPT TO:<carol@example.org>\n"), QStringLiteral("C: DATA\n"),
                                 QStringLiteral("S: 354 "), QStringLiteral("C: QUIT\n"), QStringLiteral("S: 221 ")};
    qsizetype from = 0;
    for (const QString &piece : inOrder) {
        const qsizetype at = text.indexOf(piece, from);
        QVERIFY2(at >= 0, qPrintable(QStringLiteral("\"%1\" missing or out of order in:\n%2").arg(piece, text)));
        from = at + piece.size();
    }
    QVERIFY2(!text.contains(QStringLiteral("starts with a dot")), qPrintable(text));
    const bool hasClient = std::any_of(r->transcript.begin(), r->transcript.end(), [](const TranscriptEntry &e) {
        return e.direction == TranscriptEntry::Direction::Client;
    });
    const bool hasServer = std::any_of(r->transcript.begin(), r->transcript.end(), [](const TranscriptEntry &e) {
        return e.direction == TranscriptEntry::Direction::Server;
    });
    QVERIFY(hasClient && hasServer);

    // The reference's result keys, each {code, desc}.
    const QVariantMap v = r->toVariantMap();
    for (const QString &key : {QStringLiteral("EHLO"), QStringLiteral("MSGID"), QStringLiteral("QUIT")}) {
        QVERIFY2(v.contains(key), qPrintable(key));
        const QVariantMap reply = v.value(key).toMap();
        QVERIFY2(reply.contains(QStringLiteral("code")) && reply.contains(QStringLiteral("desc")), qPrintable(key));
    }
    QVERIFY(!v.contains(QStringLiteral("HELO")));
    QCOMPARE(v.value(QStringLiteral("EHLO")).toMap().value(QStringLiteral("code")).toInt(), 250);
    QCOMPARE(v.value(QStringLiteral("MSGID")).toMap().value(QStringLiteral("code")).toInt(), 250);
    QCOMPARE(v.value(QStringLiteral("MSGID")).toMap().value(QStringLiteral("desc")).toString(), r->message.desc);
    QCOMPARE(v.value(QStringLiteral("QUIT")).toMap().value(QStringLiteral("code")).toInt(), 221);
    const QVariantMap rcpt = v.value(QStringLiteral("RCPT")).toMap();
    QCOMPARE(rcpt.size(), qsizetype(2));
    for (const QString &a : {Bob, Carol}) {
        const QVariantMap reply = rcpt.value(a).toMap();
        QCOMPARE(reply.value(QStringLiteral("code")).toInt(), 250);
        QVERIFY(reply.contains(QStringLiteral("desc")));
    }

    QVERIFY(c.isConnected()); // still, in test mode
}

void tst_SmtpClient::testModeRepeatable()
{
    SmtpClient c(QStringLiteral("mail.example.invalid"), 9);
    c.test(true);
    RawMessage m(Alice, {Bob}, ShortData);
    QString why;
    const auto first = sendOk(c, m, &why);
    QVERIFY2(first, qPrintable(why));
    const auto second = sendOk(c, m, &why);
    QVERIFY2(second, qPrintable(why));
    QCOMPARE(second->simulatedWire, first->simulatedWire);
    QVERIFY(first->simulatedWire.startsWith("EHLO localhost\r\n"));
    QVERIFY(first->simulatedWire.endsWith("line one\r\n.\r\nQUIT\r\n"));

    // Keep-alive in test mode: the second message goes over the same simulated
    // session, checked with NOOP first (RFC 5321 4.1.1.9), and no QUIT.
    c.setKeepAlive(true);
    const auto kept1 = sendOk(c, m, &why);
    QVERIFY2(kept1, qPrintable(why));
    QVERIFY(!kept1->quit.isValid());
    QVERIFY(!kept1->simulatedWire.contains("QUIT"));
    const auto kept2 = sendOk(c, m, &why);
    QVERIFY2(kept2, qPrintable(why));
    QVERIFY2(kept2->simulatedWire.startsWith("NOOP\r\nMAIL FROM:<alice@example.org>"),
             kept2->simulatedWire.constData());
    QVERIFY(!kept2->simulatedWire.contains("EHLO"));
}

// ---------------------------------------------------------------- refused before any I/O

void tst_SmtpClient::messageErrorBeforeIo_data()
{
    QTest::addColumn<QString>("sender");
    QTest::addColumn<QStringList>("recipients");
    QTest::addColumn<QString>("step");

    QTest::addRow("no recipient") << Alice << QStringList() << QStringLiteral("RCPT TO");
    QTest::addRow("CRLF in sender") << QStringLiteral("alice@example.org>\r\nRCPT TO:<evil@example.org")
                                    << QStringList{Bob} << QStringLiteral("MAIL FROM");
    QTest::addRow("LF in sender") << QStringLiteral("alice@example.org\nDATA") << QStringList{Bob}
                                  << QStringLiteral("MAIL FROM");
    QTest::addRow("CR in sender") << QStringLiteral("alice@exam\rple.org") << QStringList{Bob}
                                  << QStringLiteral("MAIL FROM");
    QTest::addRow("NUL in sender") << QStringLiteral("alice@exam") + QChar(0) + QStringLiteral("ple.org")
                                   << QStringList{Bob} << QStringLiteral("MAIL FROM");
    QTest::addRow("CRLF in second recipient")
        << Alice << QStringList{Bob, QStringLiteral("carol@example.org\r\nRSET")} << QStringLiteral("RCPT TO");
}

void tst_SmtpClient::messageErrorBeforeIo()
{
    QFETCH(QString, sender);
    QFETCH(QStringList, recipients);
    QFETCH(QString, step);

    // A listening server that must see no connection at all. It lives on this
    // thread: a connection would wait in the kernel's backlog until asked for.
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    SmtpClient c(QStringLiteral("127.0.0.1"), server.serverPort());
    c.setConnectTimeout(kWait);
    c.setReadTimeout(500); // a wrongly made connection fails fast instead of hanging

    RawMessage m(sender, recipients, ShortData);
    const auto error = sendFails(c, m);
    QVERIFY2(error, "the message was sent");
    QCOMPARE(error->code, QStringLiteral("MESSAGE-ERROR"));
    QCOMPARE(error->category, SmtpError::Category::Message);
    QCOMPARE(error->step, step);
    QVERIFY(!server.hasPendingConnections());
    QVERIFY2(!server.waitForNewConnection(200), "the client connected for a message it cannot send");
    QVERIFY(!c.isConnected());
}

// ---------------------------------------------------------------- scripted servers

void tst_SmtpClient::normalSend_data()
{
    QTest::addColumn<bool>("pipelining");
    QTest::addRow("one command at a time") << false;
    QTest::addRow("pipelined") << true;
}

void tst_SmtpClient::normalSend()
{
    QFETCH(bool, pipelining);
    const QByteArray size = QByteArray::number(ShortData.size());
    QByteArrayList caps{"SIZE 10000000", "8BITMIME"};
    if (pipelining)
        caps.prepend("PIPELINING");
    ScriptedServer server(opening(caps) + shortTransaction("250 2.0.0 queued as 4711", " SIZE=" + size) + Quit);
    QVERIFY(server.start());
    auto c = clientFor(server);

    RawMessage m(Alice, {Bob}, ShortData);
    QString why;
    const auto r = sendOk(*c, m, &why);
    QVERIFY2(r, qPrintable(why + u' ' + server.report()));
    QVERIFY2(server.waitFinished(), "the script did not finish");
    QVERIFY2(server.failures().isEmpty(), qPrintable(server.report()));

    QCOMPARE(r->target, QStringLiteral("127.0.0.1:%1").arg(server.port()));
    QCOMPARE(r->greeting.code, 220);
    QCOMPARE(r->ehlo.code, 250);
    QCOMPARE(r->mail.code, 250);
    QCOMPARE(r->mail.enhanced, QStringLiteral("2.1.0"));
    QCOMPARE(r->recipients.size(), qsizetype(1));
    QCOMPARE(r->recipients.at(0).reply.code, 250);
    QCOMPARE(r->recipients.at(0).reply.enhanced, QStringLiteral("2.1.5"));
    QCOMPARE(r->message.code, 250);
    QCOMPARE(r->message.enhanced, QStringLiteral("2.0.0"));
    // desc is the text after the code, the enhanced code kept as sent (as the reference's desc).
    QCOMPARE(r->message.desc, QStringLiteral("2.0.0 queued as 4711"));
    QCOMPARE(r->quit.code, 221);
    QVERIFY(r->accepted);
    QCOMPARE(r->pipelined, pipelining);
    QVERIFY(!r->encrypted);
    QCOMPARE(r->securityMode, QStringLiteral("starttls-opportunistic"));
    // RFC 8314 5: a session that stayed unencrypted says so.
    QVERIFY2(r->warnings.join(u'\n').contains(QStringLiteral("STARTTLS")), qPrintable(r->warnings.join(u'\n')));
    QVERIFY(r->simulatedWire.isEmpty());
    QCOMPARE(server.connections(), 1);
    QVERIFY(!c->isConnected());
}

void tst_SmtpClient::oneRecipientRefused()
{
    ScriptedServer server(opening() + R"(
        C: MAIL FROM:<alice@example.org>
        S: 250 2.1.0 ok
        C: RCPT TO:<bob@example.org>
        S: 250 2.1.5 ok
        C: RCPT TO:<carol@example.org>
        S: 550 5.1.1 carol: no such user
        C: DATA
        S: 354 go ahead
        C: Subject: hello
        C:
        C: line one
        C: .
        S: 250 2.0.0 queued for bob only
    )" + Quit);
    QVERIFY(server.start());
    auto c = clientFor(server);

    RawMessage m(Alice, {Bob, Carol}, ShortData);
    QString why;
    const auto r = sendOk(*c, m, &why);
    QVERIFY2(r, qPrintable(why + u' ' + server.report()));
    QVERIFY(server.waitFinished());
    QVERIFY2(server.failures().isEmpty(), qPrintable(server.report()));

    QVERIFY(r->accepted);
    QCOMPARE(r->message.code, 250);
    QCOMPARE(r->recipients.size(), qsizetype(2));
    QVERIFY(r->recipients.at(0).accepted());
    QVERIFY(!r->recipients.at(1).accepted());
    QCOMPARE(r->recipients.at(1).reply.code, 550);
    QCOMPARE(r->recipients.at(1).reply.enhanced, QStringLiteral("5.1.1"));
    QCOMPARE(r->refusedRecipients(), QStringList{Carol});
    const QVariantMap rcpt = r->toVariantMap().value(QStringLiteral("RCPT")).toMap();
    QCOMPARE(rcpt.value(Bob).toMap().value(QStringLiteral("code")).toInt(), 250);
    QCOMPARE(rcpt.value(Carol).toMap().value(QStringLiteral("code")).toInt(), 550);
    QVERIFY(!r->error.isError());
}

void tst_SmtpClient::allRecipientsRefused()
{
    // RFC 5321 3.3: nothing is sent when no recipient is accepted; RSET ends the
    // transaction (reference-differences.md).
    ScriptedServer server(opening() + R"(
        C: MAIL FROM:<alice@example.org>
        S: 250 2.1.0 ok
        C: RCPT TO:<bob@example.org>
        S: 550 5.1.1 bob: no such user
        C: RCPT TO:<carol@example.org>
        S: 553 5.7.1 carol: relay denied
        C: RSET
        S: 250 2.0.0 ok
    )" + Quit);
    QVERIFY(server.start());
    auto c = clientFor(server);

    RawMessage m(Alice, {Bob, Carol}, ShortData);
    const auto error = sendFails(*c, m);
    QVERIFY2(error, "the send succeeded");
    QVERIFY(server.waitFinished());
    QVERIFY2(server.failures().isEmpty(), qPrintable(server.report()));
    QVERIFY(!server.received().contains("DATA"));
    QVERIFY(!server.received().contains("line one"));

    QCOMPARE(error->code, QStringLiteral("SMTP-REPLY-ERROR"));
    QCOMPARE(error->category, SmtpError::Category::Reply);
    QCOMPARE(error->step, QStringLiteral("RCPT TO"));
    QVERIFY2(error->message.contains(Bob) && error->message.contains(Carol), qPrintable(error->toString()));
}

void tst_SmtpClient::temporaryFailureAtEndOfData()
{
    ScriptedServer server(opening() + shortTransaction("451 4.3.0 try again later") + Quit);
    QVERIFY(server.start());
    auto c = clientFor(server);

    RawMessage m(Alice, {Bob}, ShortData);
    const auto error = sendFails(*c, m);
    QVERIFY2(error, "a 451 at the end of data was taken for success");
    QVERIFY(server.waitFinished());
    QVERIFY2(server.failures().isEmpty(), qPrintable(server.report()));

    QCOMPARE(error->replyCode, 451);
    QCOMPARE(error->enhancedCode, QStringLiteral("4.3.0"));
    QCOMPARE(error->step, QStringLiteral("end of data"));
    QCOMPARE(error->category, SmtpError::Category::Reply);
    QVERIFY2(error->serverText.contains("try again later"), error->serverText.constData());
}

void tst_SmtpClient::keepAlive_data()
{
    QTest::addColumn<QByteArray>("between");     // the script between the two messages
    QTest::addColumn<bool>("waitForIdleClose"); // let the client see the close while idle
    QTest::addColumn<int>("connections");
    QTest::addColumn<bool>("reconnectNoted");   // the transcript says it reconnected

    QTest::addRow("NOOP before reuse") << QByteArray("C: NOOP\nS: 250 2.0.0 ok\n") << false << 1 << false;
    // RFC 5321 3.8 / docs/security.md: an idle timeout; the client reconnects once.
    QTest::addRow("421 to NOOP")
        << QByteArray("C: NOOP\nS: 421 4.4.2 idle timeout, closing\n-- close\n-- accept\n") + opening() << false << 2
        << true;
    QTest::addRow("closed while idle") << QByteArray("-- close\n-- accept\n") + opening() << true << 2 << false;
}

void tst_SmtpClient::keepAlive()
{
    QFETCH(QByteArray, between);
    QFETCH(bool, waitForIdleClose);
    QFETCH(int, connections);
    QFETCH(bool, reconnectNoted);

    ScriptedServer server(opening() + shortTransaction("250 2.0.0 first queued") + between
                          + shortTransaction("250 2.0.0 second queued") + Quit);
    QVERIFY(server.start());
    auto c = clientFor(server);
    c->setKeepAlive(true);
    QVERIFY(c->keepAlive());

    RawMessage m(Alice, {Bob}, ShortData);
    QString why;
    const auto first = sendOk(*c, m, &why);
    QVERIFY2(first, qPrintable(why + u' ' + server.report()));
    QCOMPARE(first->message.desc, QStringLiteral("2.0.0 first queued"));
    QVERIFY(!first->quit.isValid()); // no QUIT with keep-alive

    if (waitForIdleClose) {
        // The server closes at once, while the client is idle: the client notices
        // without a call in progress.
        QTRY_VERIFY_WITH_TIMEOUT(!c->isConnected(), kWait);
    } else {
        QVERIFY(c->isConnected());
    }

    const auto second = sendOk(*c, m, &why);
    QVERIFY2(second, qPrintable(why + u' ' + server.report()));
    QCOMPARE(second->message.desc, QStringLiteral("2.0.0 second queued"));
    QVERIFY(second->accepted);
    QVERIFY(!second->quit.isValid());
    QVERIFY(c->isConnected());
    QCOMPARE(second->transcriptText().contains(QStringLiteral("reconnecting")), reconnectNoted);

    QVERIFY(!throws([&] { c->disconnect(); }));
    QVERIFY(!c->isConnected());
    QVERIFY(server.waitFinished());
    QVERIFY2(server.failures().isEmpty(), qPrintable(server.report()));
    QCOMPARE(server.connections(), connections);
}

void tst_SmtpClient::cancelFromAnotherThread()
{
    // The first connection gets no greeting at all; the second is a normal session.
    ScriptedServer server(QByteArray("-- silent\n-- accept\n") + opening() + shortTransaction() + Quit);
    QVERIFY(server.start());
    auto c = clientFor(server);
    constexpr int readTimeout = 8000;
    c->setReadTimeout(readTimeout);

    std::atomic<bool> cancelled{false};
    std::thread canceller([&] {
        if (server.waitForConnections(1, kWait)) {
            QThread::msleep(50);
            c->cancel();
            cancelled = true;
        }
    });
    RawMessage m(Alice, {Bob}, ShortData);
    QElapsedTimer timer;
    timer.start();
    const auto error = sendFails(*c, m);
    const qint64 elapsed = timer.elapsed();
    canceller.join();
    QVERIFY(cancelled);
    QVERIFY2(error, "the send succeeded against a silent server");
    QCOMPARE(error->code, QStringLiteral("SMTP-CANCELLED"));
    QVERIFY2(elapsed < 2000, qPrintable(QStringLiteral("cancel took %1 ms (read timeout %2 ms)").arg(elapsed).arg(readTimeout)));
    QVERIFY(!c->isConnected());

    // The client is usable again.
    QString why;
    const auto r = sendOk(*c, m, &why);
    QVERIFY2(r, qPrintable(why + u' ' + server.report()));
    QVERIFY(r->accepted);
    QVERIFY(server.waitFinished());
    QVERIFY2(server.failures().isEmpty(), qPrintable(server.report()));
    QCOMPARE(server.connections(), 2);
}

void tst_SmtpClient::events()
{
    EventQueue queue; // first: it outlives the client, whatever happens
    ScriptedServer server(opening() + shortTransaction() + Quit);
    QVERIFY(server.start());
    auto c = clientFor(server);
    const QVariant arg = QStringLiteral("events-arg-42");
    c->setEventQueue(&queue, arg, true);

    RawMessage m(Alice, {Bob}, ShortData);
    QString why;
    const auto r = sendOk(*c, m, &why);
    QVERIFY2(r, qPrintable(why + u' ' + server.report()));
    QVERIFY(server.waitFinished());
    QVERIFY2(server.failures().isEmpty(), qPrintable(server.report()));

    // The channel may be reported closed just after the call returns.
    QList<QVariantMap> events = queue.popAll();
    const QDeadlineTimer deadline(kWait);
    while (countType(events, SocketEvent::ChannelClosed) == 0 && !deadline.hasExpired()) {
        if (auto e = queue.pop(50))
            events.append(*e);
    }

    for (int type : {SocketEvent::Connecting, SocketEvent::Connected, SocketEvent::PacketSent, SocketEvent::PacketRead,
                     SocketEvent::ChannelClosed, SocketEvent::CommandSent, SocketEvent::ReplyReceived}) {
        QVERIFY2(countType(events, type) > 0, qPrintable(SocketEvent::typeName(type) + QStringLiteral(" missing")));
    }
    QCOMPARE(countType(events, SocketEvent::Connecting), 1);
    QCOMPARE(countType(events, SocketEvent::Connected), 1);
    QCOMPARE(countType(events, SocketEvent::ChannelClosed), 1);
    QCOMPARE(countType(events, SocketEvent::HostnameLookup), 0); // an IP literal: no lookup

    const qint64 id = events.first().value(QStringLiteral("id")).toLongLong();
    QStringList missingFields;
    for (const QVariantMap &e : std::as_const(events)) {
        const int type = e.value(QStringLiteral("event")).toInt();
        const QString name = SocketEvent::typeName(type);
        QCOMPARE(e.value(QStringLiteral("arg")), arg);
        QCOMPARE(e.value(QStringLiteral("id")).toLongLong(), id);
        QCOMPARE(e.value(QStringLiteral("event_name")).toString(), name);
        QCOMPARE(e.value(QStringLiteral("source")).toInt(),
                 int(type >= SocketEvent::CommandSent ? SocketEvent::SourceSmtp : SocketEvent::SourceSocket));
        // Every record has the fields socketevent.h promises for its type
        // (checked last, so that one missing field does not hide the rest).
        for (const QString &field : SocketEvent::commonFields() + SocketEvent::requiredFields(type)) {
            const QString what = QStringLiteral("%1 record without \"%2\"").arg(name, field);
            if (!e.contains(field) && !missingFields.contains(what))
                missingFields.append(what);
        }
    }

    // Order: connecting, connected, the greeting read, its reply parsed; closed after the last write.
    QVERIFY(firstOf(events, SocketEvent::Connecting) < firstOf(events, SocketEvent::Connected));
    QVERIFY(firstOf(events, SocketEvent::Connected) < firstOf(events, SocketEvent::PacketRead));
    QVERIFY(firstOf(events, SocketEvent::PacketRead) < firstOf(events, SocketEvent::ReplyReceived));
    QVERIFY(lastOf(events, SocketEvent::PacketSent) < firstOf(events, SocketEvent::ChannelClosed));
    const QVariantMap connecting = events.at(firstOf(events, SocketEvent::Connecting));
    QCOMPARE(connecting.value(QStringLiteral("address")).toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(connecting.value(QStringLiteral("port")).toInt(), int(server.port()));

    // With data: the PACKET_SENT data is what the server read, PACKET_READ what it wrote.
    QByteArray sentData;
    QByteArray readData;
    QStringList commands;
    QList<int> codes;
    for (const QVariantMap &e : std::as_const(events)) {
        switch (e.value(QStringLiteral("event")).toInt()) {
        case SocketEvent::PacketSent: sentData += e.value(QStringLiteral("data")).toByteArray(); break;
        case SocketEvent::PacketRead: readData += e.value(QStringLiteral("data")).toByteArray(); break;
        case SocketEvent::CommandSent: commands.append(e.value(QStringLiteral("command")).toString()); break;
        case SocketEvent::ReplyReceived: codes.append(e.value(QStringLiteral("code")).toInt()); break;
        default: break;
        }
    }
    QCOMPARE(sentData, server.received());
    QCOMPARE(readData, server.sent());
    QCOMPARE(commands, (QStringList{QStringLiteral("EHLO localhost"), QStringLiteral("MAIL FROM:<alice@example.org>"),
                                    QStringLiteral("RCPT TO:<bob@example.org>"), QStringLiteral("DATA"),
                                    QStringLiteral("QUIT")}));
    QCOMPARE(codes, (QList<int>{220, 250, 250, 250, 354, 250, 221}));
    const QVariantMap lastSent = events.at(lastOf(events, SocketEvent::PacketSent));
    QCOMPARE(lastSent.value(QStringLiteral("total_sent")).toLongLong(), server.bytesRead());
    const QVariantMap lastRead = events.at(lastOf(events, SocketEvent::PacketRead));
    QCOMPARE(lastRead.value(QStringLiteral("total_read")).toLongLong(), server.bytesWritten());

    QVERIFY2(missingFields.isEmpty(), qPrintable(missingFields.join(QStringLiteral("; "))));
}

void tst_SmtpClient::eventQueueRemoved()
{
    EventQueue queue; // first: it outlives the clients, whatever happens
    const QVariant arg = QStringLiteral("removed-arg");
    RawMessage m(Alice, {Bob}, ShortData);
    QString why;
    {
        // Set, then removed before the send: no event at all.
        ScriptedServer server(opening() + shortTransaction() + Quit);
        QVERIFY(server.start());
        auto c = clientFor(server);
        c->setEventQueue(&queue, arg);
        c->setEventQueue();
        QVERIFY2(sendOk(*c, m, &why), qPrintable(why + u' ' + server.report()));
        QVERIFY(server.waitFinished());
        c.reset();
        QVERIFY2(queue.isEmpty(), qPrintable(QStringLiteral("events after removal: ") + eventNames(queue.popAll())));
    }
    {
        // Removed after a send: the client must not push into the queue again, not
        // even when its connection is deleted (the owner may delete a queue it
        // removed; smtpclient.h: "the queue must outlive its use").
        ScriptedServer server(opening() + shortTransaction() + Quit);
        QVERIFY(server.start());
        auto c = clientFor(server);
        c->setEventQueue(&queue, arg);
        QVERIFY2(sendOk(*c, m, &why), qPrintable(why + u' ' + server.report()));
        QVERIFY(server.waitFinished());
        QList<QVariantMap> events = queue.popAll();
        const QDeadlineTimer deadline(kWait);
        while (countType(events, SocketEvent::ChannelClosed) == 0 && !deadline.hasExpired()) {
            if (auto e = queue.pop(50))
                events.append(*e);
        }
        QCOMPARE(countType(events, SocketEvent::ChannelClosed), 1);
        c->setEventQueue();
        queue.clear();
        c.reset();
        QVERIFY2(queue.isEmpty(), qPrintable(QStringLiteral("events after removal: ") + eventNames(queue.popAll())));
    }
}

void tst_SmtpClient::eventQueueChangedOnKeptSession()
{
    // A queue set between two sends over one kept-open session gets the second
    // send's events; the one it replaced gets none of them.
    EventQueue first; // before the client: they outlive it, whatever happens
    EventQueue second;
    ScriptedServer server(opening() + shortTransaction() + "C: NOOP\nS: 250 2.0.0 ok\n" + shortTransaction() + Quit);
    QVERIFY(server.start());
    auto c = clientFor(server);
    c->setKeepAlive(true);
    c->setEventQueue(&first, QStringLiteral("first"));
    RawMessage m(Alice, {Bob}, ShortData);
    QString why;
    QVERIFY2(sendOk(*c, m, &why), qPrintable(why + u' ' + server.report()));
    QVERIFY(countType(first.popAll(), SocketEvent::CommandSent) > 0);

    c->setEventQueue(&second, QStringLiteral("second"));
    QVERIFY2(sendOk(*c, m, &why), qPrintable(why + u' ' + server.report()));
    const QList<QVariantMap> leaked = first.popAll();
    const QList<QVariantMap> got = second.popAll();
    QVERIFY(!throws([&] { c->disconnect(); }));
    QVERIFY(server.waitFinished());
    QVERIFY2(server.failures().isEmpty(), qPrintable(server.report()));

    QVERIFY2(leaked.isEmpty(), qPrintable(QStringLiteral("the replaced queue got: ") + eventNames(leaked)));
    QVERIFY2(countType(got, SocketEvent::CommandSent) >= 4, qPrintable(QStringLiteral("the new queue got: ") + eventNames(got)));
    for (const QVariantMap &e : got)
        QCOMPARE(e.value(QStringLiteral("arg")).toString(), QStringLiteral("second"));
}

void tst_SmtpClient::usageInfoAndClearStats()
{
    ScriptedServer server(opening({"SIZE 10000000"})
                          + shortTransaction("250 2.0.0 ok", " SIZE=" + QByteArray::number(ShortData.size())) + Quit);
    QVERIFY(server.start());
    auto c = clientFor(server);
    QVariantMap info = c->getUsageInfo();
    QCOMPARE(info.value(QStringLiteral("bytes_sent")).toLongLong(), qlonglong(0));
    QCOMPARE(info.value(QStringLiteral("bytes_recv")).toLongLong(), qlonglong(0));

    RawMessage m(Alice, {Bob}, ShortData);
    QString why;
    QVERIFY2(sendOk(*c, m, &why), qPrintable(why + u' ' + server.report()));
    QVERIFY(server.waitFinished());
    QVERIFY2(server.failures().isEmpty(), qPrintable(server.report()));

    info = c->getUsageInfo();
    QVERIFY(server.bytesRead() > 0);
    QCOMPARE(info.value(QStringLiteral("bytes_sent")).toLongLong(), server.bytesRead());
    QCOMPARE(info.value(QStringLiteral("bytes_recv")).toLongLong(), server.bytesWritten());
    for (const char *key : {"us_sent", "us_recv"})
        QVERIFY2(info.contains(QLatin1String(key)), key);
    // Reference: arg/timeout/min_throughput only when a warning queue is set.
    QVERIFY(!info.contains(QStringLiteral("timeout")));

    c->clearStats();
    info = c->getUsageInfo();
    for (const char *key : {"bytes_sent", "bytes_recv", "us_sent", "us_recv"})
        QVERIFY2(info.value(QLatin1String(key)).toLongLong() == 0, key);
}

void tst_SmtpClient::warningQueue()
{
    // The greeting comes 50 ms after the connection: far over warning_ms = 1.
    EventQueue warnings; // first: it outlives the client, whatever happens
    ScriptedServer server("-- sleep 50\n" + opening() + shortTransaction() + Quit);
    QVERIFY(server.start());
    auto c = clientFor(server);
    const QVariant arg = QStringLiteral("warn-arg");
    c->setWarningQueue(1, 0, &warnings, arg, 1);
    const QVariantMap info = c->getUsageInfo();
    QCOMPARE(info.value(QStringLiteral("arg")), arg);
    QCOMPARE(info.value(QStringLiteral("timeout")).toLongLong(), qlonglong(1000)); // microseconds

    RawMessage m(Alice, {Bob}, ShortData);
    QString why;
    QVERIFY2(sendOk(*c, m, &why), qPrintable(why + u' ' + server.report()));
    QVERIFY(server.waitFinished());
    QVERIFY2(server.failures().isEmpty(), qPrintable(server.report()));

    const QList<QVariantMap> records = warnings.popAll();
    QVERIFY(!records.isEmpty());
    bool greetingWait = false;
    for (const QVariantMap &w : records) {
        QCOMPARE(w.value(QStringLiteral("type")).toString(), QStringLiteral("SOCKET-OPERATION-WARNING"));
        QCOMPARE(w.value(QStringLiteral("arg")), arg);
        QCOMPARE(w.value(QStringLiteral("timeout")).toLongLong(), qlonglong(1000));
        QVERIFY(w.value(QStringLiteral("us")).toLongLong() > 1000);
        if (w.value(QStringLiteral("operation")).toString() == QStringLiteral("receive")
            && w.value(QStringLiteral("us")).toLongLong() >= 45000)
            greetingWait = true;
    }
    QVERIFY2(greetingWait, "no warning for the 50 ms wait for the greeting");

    c->clearWarningQueue();
    QVERIFY(!c->getUsageInfo().contains(QStringLiteral("timeout")));
}

void tst_SmtpClient::logCallbacks()
{
    ScriptedServer server(opening() + shortTransaction() + Quit);
    QVERIFY(server.start());
    LineSink log;
    LineSink dbglog;
    auto c = clientFor(server, log.function(), dbglog.function());

    RawMessage m(Alice, {Bob}, ShortData);
    QString why;
    QVERIFY2(sendOk(*c, m, &why), qPrintable(why + u' ' + server.report()));
    QVERIFY(server.waitFinished());

    const QStringList logLines = log.lines();
    QVERIFY2(logLines.contains(QStringLiteral("connecting to 127.0.0.1:%1").arg(server.port())),
             qPrintable(logLines.join(u'\n')));
    QVERIFY2(std::any_of(logLines.begin(), logLines.end(),
                         [](const QString &l) { return l.startsWith(QStringLiteral("message accepted")); }),
             qPrintable(logLines.join(u'\n')));
    const QStringList dbg = dbglog.lines();
    for (const QString &line : {QStringLiteral("S: 220 scripted.test ESMTP"), QStringLiteral("C: EHLO localhost"),
                                QStringLiteral("C: MAIL FROM:<alice@example.org>"), QStringLiteral("S: 354 go ahead"),
                                QStringLiteral("C: QUIT"), QStringLiteral("S: 221 2.0.0 bye")})
        QVERIFY2(dbg.contains(line), qPrintable(line + QStringLiteral(" not in:\n") + dbg.join(u'\n')));
    // Message data is counted, not logged (reference-differences.md).
    QVERIFY(!dbglog.text().contains(QStringLiteral("line one")));
}

void tst_SmtpClient::authSecretsInDebugLog_data()
{
    QTest::addColumn<bool>("showSecrets");
    QTest::addRow("redacted") << false;
    QTest::addRow("shown") << true;
}

void tst_SmtpClient::authSecretsInDebugLog()
{
    QFETCH(bool, showSecrets);
    const QString password = QStringLiteral("s3cret-Pa55word");
    // RFC 4616 2: authzid NUL authcid NUL passwd, as the initial response (RFC 4954 4).
    const QByteArray payload = QByteArray("\0alice\0", 7) + password.toUtf8();
    const QByteArray encoded = payload.toBase64();

    ScriptedServer server(opening({"AUTH PLAIN"}) + "C: AUTH PLAIN " + encoded
                          + "\nS: 235 2.7.0 authenticated\n" + shortTransaction() + Quit);
    QVERIFY(server.start());
    LineSink log;
    LineSink dbglog;
    auto c = clientFor(server, log.function(), dbglog.function());
    c->setUserPass(QStringLiteral("alice"), password);
    c->setAllowPlaintextAuth(true);
    c->setShowSecrets(showSecrets);

    RawMessage m(Alice, {Bob}, ShortData);
    QString why;
    const auto r = sendOk(*c, m, &why);
    QVERIFY2(r, qPrintable(why + u' ' + server.report()));
    QVERIFY(server.waitFinished());
    QVERIFY2(server.failures().isEmpty(), qPrintable(server.report()));
    QCOMPARE(r->authMechanism, QStringLiteral("PLAIN"));
    QCOMPARE(r->authAttempts.size(), qsizetype(1));
    QCOMPARE(r->authAttempts.at(0).second.code, 235);

    const QString dbg = dbglog.text();
    const QString transcript = r->transcriptText();
    const QString all = dbg + u'\n' + log.text() + u'\n' + transcript;
    QVERIFY2(dbg.contains(QStringLiteral("C: AUTH PLAIN")), qPrintable(dbg));
    QVERIFY2(!all.contains(password), qPrintable(all)); // never in clear
    if (showSecrets) {
        QVERIFY2(dbg.contains(QStringLiteral("C: AUTH PLAIN ") + QString::fromLatin1(encoded)), qPrintable(dbg));
        QVERIFY2(transcript.contains(QString::fromLatin1(encoded)), qPrintable(transcript));
    } else {
        QVERIFY2(!all.contains(QString::fromLatin1(encoded)), qPrintable(all));
        // Nor any long piece of it.
        QVERIFY2(!all.contains(QString::fromLatin1(encoded.left(12))), qPrintable(all));
    }
}

QTEST_GUILESS_MAIN(tst_SmtpClient)
#include "tst_smtpclient.moc"
