// `smtpscope serve` against clients that abuse it, as a real process on loopback:
// a client that pipelines at full speed and never reads its replies (the
// server's memory must stay bounded and the connection must end), 500 clients
// at once (each greeted within the bound of docs/cli.md's limits), connection
// caps per address and in total, an idle timer that a trickle of bytes does not
// reset, a session lifetime, and the tarpit then 421 after failed AUTH.
//
// Raw POSIX sockets where the test must control the client's buffers (never
// reading, a small receive window, 500 descriptors); QSslSocket where TLS is
// needed. Every loop is bounded in bytes and time; every wait has a deadline.

#include "sanitize/bounds.h"
#include "processrun.h"
#include "serveprocess.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cerrno>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

constexpr int TimeoutMs = 15000;
constexpr qint64 MiB = 1024 * 1024;
// The bound of "a client that never reads" (peak RSS of the whole process).
constexpr qint64 RssBound = 100 * MiB;

// A client socket, closed with the object.
class Client
{
public:
    Client() = default;
    ~Client() { close(); }
    Q_DISABLE_COPY_MOVE(Client)

    // Connects to 127.0.0.1:port from `from` (a loopback address); a small
    // receive buffer when `receiveBuffer` > 0 (set before connect, so the
    // window is small from the start). Blocking unless `nonBlocking`.
    bool open(quint16 port, const char *from = "127.0.0.1", int receiveBuffer = 0, bool nonBlocking = false)
    {
        close();
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonBlocking ? SOCK_NONBLOCK : 0), 0);
        if (m_fd < 0)
            return false;
        if (receiveBuffer > 0)
            ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
        sockaddr_in local = {};
        local.sin_family = AF_INET;
        if (::inet_pton(AF_INET, from, &local.sin_addr) != 1
            || ::bind(m_fd, reinterpret_cast<sockaddr *>(&local), sizeof local) != 0) {
            close();
            return false;
        }
        sockaddr_in server = {};
        server.sin_family = AF_INET;
        server.sin_port = htons(port);
        server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(m_fd, reinterpret_cast<sockaddr *>(&server), sizeof server) != 0 && errno != EINPROGRESS) {
            close();
            return false;
        }
        return true;
    }
    void close()
    {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
    }
    [[nodiscard]] int fd() const { return m_fd; }
    [[nodiscard]] bool isOpen() const { return m_fd >= 0; }

    bool send(const QByteArray &bytes)
    {
        qsizetype done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::send(m_fd, bytes.constData() + done, size_t(bytes.size() - done), MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            done += n;
        }
        return true;
    }

    // Reads what is there within `ms`; false at the end of the stream or on an
    // error (then *eof says whether the server closed it).
    bool readSome(int ms, bool *eof = nullptr)
    {
        pollfd p = {m_fd, POLLIN, 0};
        if (::poll(&p, 1, std::max(0, ms)) <= 0)
            return true;
        char buffer[16384];
        const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n > 0) {
            received.append(buffer, n);
            return true;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        if (eof)
            *eof = true;
        return false;
    }
    // Reads until `received` has `lines` CRLF-ended lines (or the stream ends).
    bool readLines(int lines, int ms = TimeoutMs)
    {
        QDeadlineTimer deadline(ms);
        while (received.count("\r\n") < lines && !deadline.hasExpired()) {
            if (!readSome(int(std::max<qint64>(1, deadline.remainingTime()))))
                break;
        }
        return received.count("\r\n") >= lines;
    }
    // Reads until the server closes the connection; false when it does not
    // within `ms`.
    bool readToEnd(int ms = TimeoutMs)
    {
        QDeadlineTimer deadline(ms);
        while (!deadline.hasExpired()) {
            if (!readSome(int(std::max<qint64>(1, deadline.remainingTime()))))
                return true;
        }
        return false;
    }

    QByteArray received;

private:
    int m_fd = -1;
};

// Waits until serve's stderr (its --verbose log) has `text`; all of it so far.
QByteArray waitForLog(ServeProcess &serve, QByteArray *log, const QByteArray &text, int ms = TimeoutMs)
{
    QDeadlineTimer deadline(ms);
    while (!log->contains(text) && !deadline.hasExpired() && serve.process()->state() == QProcess::Running) {
        serve.process()->waitForReadyRead(50);
        *log += serve.process()->readAllStandardError();
        (void)serve.process()->readAllStandardOutput();
    }
    *log += serve.process()->readAllStandardError();
    return *log;
}

// The lines of a reply stream that start with `prefix`.
int countLines(const QByteArray &bytes, const QByteArray &prefix)
{
    int n = 0;
    for (const QByteArray &line : bytes.split('\n')) {
        if (line.startsWith(prefix))
            ++n;
    }
    return n;
}

// Raises this process's descriptor limit to at least `wanted` (within the hard
// limit); false when that is not possible.
bool ensureDescriptors(rlim_t wanted)
{
    rlimit limit = {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return false;
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
        if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted)
            return false;
        limit.rlim_cur = wanted;
        return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
    }
    return true;
}

QSslConfiguration trusting(const QString &caFile)
{
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setCaCertificates(QSslCertificate::fromPath(caFile));
    return tls;
}

// An implicit-TLS client of serve.
bool openTls(QSslSocket *socket, const ServeProcess &serve)
{
    socket->setSslConfiguration(trusting(serve.caFile));
    socket->connectToHostEncrypted(QStringLiteral("127.0.0.1"), serve.tlsPort);
    return socket->waitForEncrypted(TimeoutMs);
}

// Reads from a Qt socket until it holds `lines` CRLF lines or is closed.
QByteArray readQtLines(QSslSocket *socket, int lines, int ms, QByteArray received = {})
{
    QDeadlineTimer deadline(ms);
    while (received.count("\r\n") < lines && !deadline.hasExpired()
           && socket->state() == QAbstractSocket::ConnectedState) {
        socket->waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime())));
        received += socket->readAll();
    }
    received += socket->readAll();
    return received;
}

const QByteArray WrongPlain = QByteArray("AUTH PLAIN ") + QByteArray("\0tester\0wrong", 13).toBase64() + "\r\n";

} // namespace

class tst_ServeLimits : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void clientThatNeverReadsKeepsServeSmall();
    void tlsClientThatNeverReadsKeepsServeSmall();
    void clientThatReadsLateGetsEveryReply();
    void fiveHundredClientsGetTheirGreeting();
    void connectionCapsAnswer421();
    void idleTimerIgnoresTrickledBytes();
    void sessionTimeoutEndsABusyConnection();
    void failedAuthIsTarpittedThenDisconnected();

private:
    QTemporaryDir m_dir;
};

// Pipelined HELP at full speed, nothing ever read: serve must stop reading (TCP
// flow control holds the client) instead of queueing replies, stay under 100 MB,
// and end the connection (421 after the idle timeout, then an abort because the
// 421 cannot be delivered either).
void tst_ServeLimits::clientThatNeverReadsKeepsServeSmall()
{
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), m_dir.path() + QStringLiteral("/flood"),
                         {QStringLiteral("--idle-timeout"), QStringLiteral("2"), QStringLiteral("--verbose")}, &error),
             qPrintable(error));
    Client c;
    QVERIFY(c.open(serve.port, "127.0.0.1", 4096, true));

    // At most 64 MiB or 6 s, whichever comes first (unbounded, serve reads
    // 64 MiB in about 5 s and reaches more than 1 GB).
    const QByteArray batch = QByteArray("HELP\r\n").repeated(10000);
    qint64 sent = 0;
    QElapsedTimer timer;
    timer.start();
    while (sent < 64 * MiB && timer.elapsed() < 6000) {
        pollfd p = {c.fd(), POLLOUT, 0};
        if (::poll(&p, 1, 100) <= 0)
            continue;
        if (p.revents & (POLLERR | POLLHUP))
            break;
        const qsizetype offset = qsizetype(sent % batch.size());
        const ssize_t n = ::send(c.fd(), batch.constData() + offset, size_t(batch.size() - offset),
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            break; // reset by the server: it gave up on us
        if (n > 0)
            sent += n;
    }
    const qint64 peak = peakRssBytes(serve.pid());
    qInfo("sent %.1f MiB in %lld ms; serve's peak RSS %.1f MiB", double(sent) / MiB, timer.elapsed(),
          double(peak) / MiB);
    QVERIFY2(peak > 0, "cannot read /proc/PID/status");
    QVERIFY2(peak < Bounds::memoryBytes(RssBound), qPrintable(QStringLiteral("peak RSS %1 MiB").arg(peak / MiB)));

    QByteArray log;
    waitForLog(serve, &log, "connection aborted");
    QVERIFY2(log.contains("the client is not reading its replies"), log.constData());
    QVERIFY2(log.contains("has not read its replies for 2 s"), log.constData());
    QVERIFY2(log.contains("connection aborted"), log.constData());

    // And serve still serves.
    Client next;
    QVERIFY(next.open(serve.port));
    QVERIFY(next.readLines(1));
    QVERIFY2(next.received.startsWith("220 "), next.received.constData());
}

// The same through TLS, where the queue is in two parts (plaintext not yet
// encrypted, records not yet sent).
void tst_ServeLimits::tlsClientThatNeverReadsKeepsServeSmall()
{
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), m_dir.path() + QStringLiteral("/tlsflood"),
                         {QStringLiteral("--idle-timeout"), QStringLiteral("2"), QStringLiteral("--verbose")}, &error),
             qPrintable(error));
    QSslSocket socket;
    socket.setReadBufferSize(4096); // Qt stops reading when full: the client never reads
    socket.setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, 4096);
    QVERIFY2(openTls(&socket, serve), qPrintable(socket.errorString()));

    const QByteArray batch = QByteArray("HELP\r\n").repeated(10000);
    qint64 queued = 0;
    QElapsedTimer timer;
    timer.start();
    while (queued < 64 * MiB && timer.elapsed() < 6000 && socket.state() == QAbstractSocket::ConnectedState) {
        // At most 1 MiB waits in this client, so the test itself stays small.
        if (socket.bytesToWrite() + socket.encryptedBytesToWrite() < MiB) {
            socket.write(batch);
            queued += batch.size();
        }
        socket.waitForBytesWritten(50);
    }
    const qint64 peak = peakRssBytes(serve.pid());
    qInfo("queued %.1f MiB in %lld ms; serve's peak RSS %.1f MiB", double(queued) / MiB, timer.elapsed(),
          double(peak) / MiB);
    QVERIFY2(peak > 0, "cannot read /proc/PID/status");
    QVERIFY2(peak < Bounds::memoryBytes(RssBound), qPrintable(QStringLiteral("peak RSS %1 MiB").arg(peak / MiB)));
    // Closed after the idle timeout; QSslSocket does not wait for the unsent
    // records, so the close comes before the abort would.
    QByteArray log;
    waitForLog(serve, &log, ": disconnected");
    QVERIFY2(log.contains("the client is not reading its replies"), log.constData());
    QVERIFY2(log.contains("has not read its replies for 2 s"), log.constData());
    QVERIFY2(log.contains(": disconnected"), log.constData());
}

// Back-pressure pauses, it does not lose: a client that pipelines 60,000
// commands and reads only after a second gets every reply, in order, and the
// session goes on.
void tst_ServeLimits::clientThatReadsLateGetsEveryReply()
{
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), m_dir.path() + QStringLiteral("/late"),
                         {QStringLiteral("--verbose")}, &error),
             qPrintable(error));
    Client c;
    QVERIFY(c.open(serve.port, "127.0.0.1", 4096, true));
    constexpr int Commands = 60000;
    QByteArray commands;
    for (int i = 0; i < Commands; ++i)
        commands += i % 2 ? QByteArrayLiteral("HELP\r\n") : QByteArrayLiteral("NOOP\r\n");
    qsizetype sent = 0;
    QElapsedTimer timer;
    timer.start();
    // A second of writing without reading: the replies (about 3.6 MB) pile up
    // until serve pauses.
    while (sent < commands.size() && timer.elapsed() < 1000) {
        pollfd p = {c.fd(), POLLOUT, 0};
        if (::poll(&p, 1, 50) <= 0)
            continue;
        const ssize_t n = ::send(c.fd(), commands.constData() + sent, size_t(commands.size() - sent),
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        QVERIFY2(n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK, strerror(errno));
        if (n > 0)
            sent += n;
    }
    QByteArray log;
    QVERIFY2(waitForLog(serve, &log, "not reading its replies").contains("input paused"), log.constData());
    // Then both ways until every reply is in (at most 30 s).
    QDeadlineTimer deadline(30000);
    while (c.received.count("\r\n") < Commands + 1 && !deadline.hasExpired()) {
        pollfd p = {c.fd(), short(POLLIN | (sent < commands.size() ? POLLOUT : 0)), 0};
        if (::poll(&p, 1, 100) <= 0)
            continue;
        if ((p.revents & POLLOUT) && sent < commands.size()) {
            const ssize_t n = ::send(c.fd(), commands.constData() + sent, size_t(commands.size() - sent),
                                     MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                sent += n;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR))
            QVERIFY2(c.readSome(0), "serve closed the connection");
    }
    const QList<QByteArray> lines = c.received.split('\n');
    QCOMPARE(lines.size(), Commands + 2); // the greeting, the replies, and "" after the last LF
    QVERIFY(lines.first().startsWith("220 "));
    for (int i = 0; i < Commands; ++i) {
        const QByteArray &line = lines[i + 1];
        if (!line.startsWith(i % 2 ? "214 " : "250 "))
            QFAIL(qPrintable(QStringLiteral("reply %1 is '%2'").arg(i).arg(QString::fromLatin1(line))));
    }
    c.received.clear();
    QVERIFY(c.send("QUIT\r\n"));
    QVERIFY(c.readToEnd());
    QVERIFY2(c.received.startsWith("221 "), c.received.constData());
}

// docs/cli.md: with the default limits, 500 clients connecting at once all get
// their 220 within 5 s.
void tst_ServeLimits::fiveHundredClientsGetTheirGreeting()
{
    constexpr int Clients = 500;
    if (!ensureDescriptors(Clients + 100))
        QSKIP("the descriptor limit (ulimit -n) is too low for 500 clients");
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), m_dir.path() + QStringLiteral("/many"), {}, &error),
             qPrintable(error));

    std::vector<std::unique_ptr<Client>> clients;
    QList<qint64> greetedAt(Clients, -1);
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < Clients; ++i) {
        clients.push_back(std::make_unique<Client>());
        QVERIFY2(clients.back()->open(serve.port, "127.0.0.1", 0, true), strerror(errno));
    }
    int greeted = 0;
    while (greeted < Clients && timer.elapsed() < 3 * TimeoutMs) {
        std::vector<pollfd> fds;
        std::vector<int> which;
        for (int i = 0; i < Clients; ++i) {
            if (greetedAt[i] < 0) {
                fds.push_back({clients[i]->fd(), POLLIN, 0});
                which.push_back(i);
            }
        }
        if (::poll(fds.data(), nfds_t(fds.size()), 100) <= 0)
            continue;
        for (size_t k = 0; k < fds.size(); ++k) {
            if (!fds[k].revents)
                continue;
            Client &c = *clients[size_t(which[k])];
            bool eof = false;
            c.readSome(0, &eof);
            if (c.received.contains("\r\n") || eof) {
                greetedAt[which[k]] = timer.elapsed();
                ++greeted;
            }
        }
    }
    QList<qint64> times;
    for (int i = 0; i < Clients; ++i) {
        QVERIFY2(clients[size_t(i)]->received.startsWith("220 "),
                 qPrintable(QStringLiteral("client %1: '%2'").arg(i).arg(QString::fromLatin1(clients[size_t(i)]->received))));
        times.append(greetedAt[i]);
    }
    std::sort(times.begin(), times.end());
    qInfo("500 greetings: median %lld ms, slowest %lld ms", times[Clients / 2], times.last());
    QVERIFY2(times.last() < Bounds::timeMs(5000), qPrintable(QStringLiteral("slowest greeting after %1 ms").arg(times.last())));
}

// Over a cap: 421 4.7.0 and the close, logged; a freed slot is given again.
// 127.0.0.2 is a second client address on loopback (127.0.0.0/8).
void tst_ServeLimits::connectionCapsAnswer421()
{
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), m_dir.path() + QStringLiteral("/caps"),
                         {QStringLiteral("--max-connections"), QStringLiteral("3"),
                          QStringLiteral("--max-connections-per-address"), QStringLiteral("2"),
                          QStringLiteral("--verbose")},
                         &error),
             qPrintable(error));
    Client a1;
    Client a2;
    Client a3;
    for (Client *c : {&a1, &a2}) {
        QVERIFY(c->open(serve.port));
        QVERIFY(c->readLines(1));
        QVERIFY2(c->received.startsWith("220 "), c->received.constData());
    }
    QVERIFY(a3.open(serve.port));
    QVERIFY(a3.readToEnd());
    QVERIFY2(a3.received.startsWith("421 4.7.0 ") && a3.received.contains("Too many connections from your address"),
             a3.received.constData());
    QByteArray log;
    QVERIFY(waitForLog(serve, &log, "the limit (max connections per address)").contains("refused: 2 connections"));

    // On the implicit-TLS port a refused client gets no plaintext, only the close.
    Client tls;
    QVERIFY(tls.open(serve.tlsPort));
    QVERIFY(tls.readToEnd());
    QVERIFY2(tls.received.isEmpty(), tls.received.constData());

    Client b1;
    if (!b1.open(serve.port, "127.0.0.2"))
        QSKIP("127.0.0.2 is not usable as a second loopback address here");
    QVERIFY(b1.readLines(1));
    QVERIFY2(b1.received.startsWith("220 "), b1.received.constData());
    Client b2;
    QVERIFY(b2.open(serve.port, "127.0.0.2"));
    QVERIFY(b2.readToEnd());
    QVERIFY2(b2.received.startsWith("421 4.7.0 ") && b2.received.contains("Too many connections, try again later"),
             b2.received.constData());
    QVERIFY(waitForLog(serve, &log, "the limit (max connections)").contains("refused: 3 connections open"));

    // A freed slot: once serve has seen a1 go, 127.0.0.1 may connect again.
    a1.send("QUIT\r\n");
    QVERIFY(a1.readToEnd());
    QDeadlineTimer deadline(TimeoutMs);
    bool admitted = false;
    while (!admitted && !deadline.hasExpired()) {
        Client again;
        QVERIFY(again.open(serve.port));
        QVERIFY(again.readLines(1));
        admitted = again.received.startsWith("220 ");
        if (!admitted)
            QTest::qWait(50);
    }
    QVERIFY(admitted);
}

// The idle timer counts complete commands: a byte every 0.4 s (never a whole
// line) is closed after the idle timeout, while a client sending NOOP as
// slowly stays.
void tst_ServeLimits::idleTimerIgnoresTrickledBytes()
{
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), m_dir.path() + QStringLiteral("/idle"),
                         {QStringLiteral("--idle-timeout"), QStringLiteral("2")}, &error),
             qPrintable(error));
    Client trickler;
    Client active;
    for (Client *c : {&trickler, &active}) {
        QVERIFY(c->open(serve.port));
        QVERIFY(c->readLines(1));
        c->received.clear();
    }
    const QByteArray partial = "NOOP but this line never ends ";
    QElapsedTimer timer;
    timer.start();
    qint64 closedAt = -1;
    int noops = 0;
    for (int step = 0; step < 20 && closedAt < 0; ++step) { // 20 x 0.4 s: at most 8 s
        if (!trickler.send(partial.mid(step % partial.size(), 1)))
            break;
        if (step % 2 == 0 && active.send("NOOP\r\n"))
            ++noops;
        bool eof = false;
        QDeadlineTimer pause(400);
        while (!pause.hasExpired() && !eof)
            trickler.readSome(int(std::max<qint64>(1, pause.remainingTime())), &eof);
        active.readSome(0);
        if (eof)
            closedAt = timer.elapsed();
    }
    QVERIFY2(trickler.received.startsWith("421 4.4.2 ") && trickler.received.contains("Idle timeout"),
             trickler.received.constData());
    QVERIFY2(closedAt >= 1800 && closedAt < 5000, qPrintable(QStringLiteral("closed after %1 ms").arg(closedAt)));
    // The active client, as long without a pause over 2 s, is still served.
    QVERIFY(active.readLines(noops));
    QCOMPARE(countLines(active.received, "250 "), noops);
    QVERIFY2(!active.received.contains("421"), active.received.constData());
    QVERIFY(active.send("NOOP\r\n"));
    QVERIFY(active.readLines(noops + 1));
}

// The session lifetime ends even a busy connection.
void tst_ServeLimits::sessionTimeoutEndsABusyConnection()
{
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), m_dir.path() + QStringLiteral("/lifetime"),
                         {QStringLiteral("--session-timeout"), QStringLiteral("2"), QStringLiteral("--idle-timeout"),
                          QStringLiteral("60")},
                         &error),
             qPrintable(error));
    Client c;
    QVERIFY(c.open(serve.port));
    QVERIFY(c.readLines(1));
    QElapsedTimer timer;
    timer.start();
    qint64 closedAt = -1;
    for (int step = 0; step < 25 && closedAt < 0; ++step) { // 25 x 0.3 s: at most 7.5 s
        c.send("NOOP\r\n");
        bool eof = false;
        QDeadlineTimer pause(300);
        while (!pause.hasExpired() && !eof)
            c.readSome(int(std::max<qint64>(1, pause.remainingTime())), &eof);
        if (eof)
            closedAt = timer.elapsed();
    }
    QVERIFY2(c.received.contains("\r\n421 4.4.2 ") && c.received.contains("Session time limit"),
             c.received.constData());
    QVERIFY2(countLines(c.received, "250 ") >= 4, c.received.constData());
    QVERIFY2(closedAt >= 1500 && closedAt < 5000, qPrintable(QStringLiteral("closed after %1 ms").arg(closedAt)));
}

// 3,000 wrong passwords pipelined on one connection: 3 answered at once, then
// slower 535s, then 421 4.7.0 and the close; a new connection from the same
// address starts where the last one stopped. The right password still works.
void tst_ServeLimits::failedAuthIsTarpittedThenDisconnected()
{
    const QString passwordFile = m_dir.path() + QStringLiteral("/password");
    QFile f(passwordFile);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("right-pass\n");
    f.close();
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), m_dir.path() + QStringLiteral("/auth"),
                         {QStringLiteral("--user"), QStringLiteral("tester"), QStringLiteral("--password-file"),
                          passwordFile},
                         &error),
             qPrintable(error));

    QSslSocket first;
    QVERIFY2(openTls(&first, serve), qPrintable(first.errorString()));
    QElapsedTimer timer;
    timer.start();
    first.write("EHLO c.test\r\n" + WrongPlain.repeated(3000));
    // Every reply line (the greeting and EHLO's 8 lines included), or the close.
    const QByteArray replies = readQtLines(&first, 9 + 3000, 30000);
    const qint64 took = timer.elapsed();
    qInfo("%d replies of 535, %d of 421 in %lld ms", countLines(replies, "535 "), countLines(replies, "421 "), took);
    QCOMPARE(countLines(replies, "535 5.7.8 "), 6);
    QCOMPARE(countLines(replies, "421 4.7.0 "), 1);
    QVERIFY2(replies.endsWith("Too many failed authentication attempts, closing connection\r\n"), replies.right(300).constData());
    QVERIFY(first.state() != QAbstractSocket::ConnectedState || first.waitForDisconnected(TimeoutMs));
    // 0.25 + 0.5 + 1 + 2 s of delays.
    QVERIFY2(took >= 3500, qPrintable(QStringLiteral("took %1 ms").arg(took)));

    // Reconnecting does not start over: the first failure is the 8th.
    QSslSocket second;
    QVERIFY2(openTls(&second, serve), qPrintable(second.errorString()));
    timer.restart();
    second.write("EHLO c.test\r\n" + WrongPlain);
    const QByteArray again = readQtLines(&second, 10, 30000);
    QVERIFY2(again.contains("\r\n421 4.7.0 ") && !again.contains("535"), again.constData());
    QVERIFY2(timer.elapsed() >= 3500, qPrintable(QStringLiteral("took %1 ms").arg(timer.elapsed())));

    QSslSocket third;
    QVERIFY2(openTls(&third, serve), qPrintable(third.errorString()));
    third.write("EHLO c.test\r\nAUTH PLAIN " + QByteArray("\0tester\0right-pass", 18).toBase64() + "\r\n");
    const QByteArray right = readQtLines(&third, 10, TimeoutMs);
    QVERIFY2(right.contains("\r\n235 2.7.0 "), right.constData());
}

QTEST_GUILESS_MAIN(tst_ServeLimits)
#include "tst_servelimits.moc"
