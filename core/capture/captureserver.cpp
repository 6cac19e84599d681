#include "captureserver.h"

#include "protocol/printable.h"

// How it works: two QTcpServer subclasses (plain port with STARTTLS, implicit-TLS
// port) hand each accepted descriptor to a QSslSocket. One Connection per socket
// owns a sans-I/O ServerSession and runs the actions it returns strictly in order:
// a Delay or a pending TLS upgrade pauses both the action queue and reading, so
// replies never overtake each other and no client byte is interpreted early.
// Message bytes go straight from the session into the MessageStore's
// IncomingMessage (temporary file), so a connection never holds a whole message.
// At the end of the data the store commits on its own thread (fsync, link,
// index) and the connection waits for the result, reading nothing, while the
// event loop goes on serving every other connection; the reply to the end of
// data (250, 452, 552 or 451) goes out when the result comes back.
//
// Back-pressure: the peer sets the pace, never our memory. The socket's read
// buffer is bounded, so once it is full Qt stops reading and the kernel's TCP
// window stops the client. The session gets the input in small chunks, and only
// while the action queue is empty and the replies not yet taken by the kernel
// (bytesToWrite + encryptedBytesToWrite) are under a high-water mark; bytesWritten
// below the low-water mark resumes it. The replies to one chunk are bounded (at
// most ~50 bytes of reply per input byte: an empty line gets a 47-byte 500), so
// neither the write buffer nor the action queue can grow without bound. A client
// that stops reading makes no progress, so the idle timer ends it with 421; a
// close whose last replies are not taken in time is an abort.
//
// Limits per server: connections in total and per client address (over a cap:
// 421 and close), a lifetime per connection, and the AUTH throttle shared by all
// sessions (AuthThrottle, keyed by client address).

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QLoggingCategory>
#include <QPointer>
#include <QSslCipher>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpServer>
#include <QTimer>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>

#include <sys/resource.h>
#include <sys/stat.h>

Q_LOGGING_CATEGORY(lcCapture, "smtpscope.capture")

namespace Capture {

namespace {

// Qt's read buffer per socket: when it is full Qt stops reading, and the client
// is held back by TCP flow control instead of by our memory.
constexpr qint64 ReadBufferBytes = 64 * 1024;
// Input handed to the session at once, and chunks per pass of the event loop
// (then the other connections get their turn).
constexpr qint64 InputChunkBytes = 4 * 1024;
constexpr int ChunksPerPass = 16;
// Replies not yet taken by the kernel: above the high-water mark no more input
// is processed, below the low-water mark it resumes.
constexpr qint64 OutputHighWater = 64 * 1024;
constexpr qint64 OutputLowWater = 16 * 1024;
// A closing connection whose last replies are not taken within this is aborted.
constexpr int CloseFlushMs = 5000;
// After an accept error (the descriptor limit reached) QTcpServer stops
// accepting; it starts again after this pause, and the waiting clients stay in
// the listen backlog meanwhile.
constexpr int AcceptRetryMs = 250;
constexpr int ListenBacklog = 1024;
// Descriptors: one socket per connection and, while a message arrives, its
// temporary file; some are kept for the store, certificates and the event loop.
constexpr qint64 FdsPerConnection = 2;
constexpr qint64 FdReserve = 64;

// QTcpServer gives QTcpSockets; a server that may speak TLS needs the
// descriptor in a QSslSocket, which only incomingConnection() allows.
class Listener : public QTcpServer
{
public:
    using Handler = std::function<void(qintptr)>;
    Listener(Handler handler, QObject *parent)
        : QTcpServer(parent)
        , m_handler(std::move(handler))
    {
    }

protected:
    void incomingConnection(qintptr descriptor) override { m_handler(descriptor); }

private:
    Handler m_handler;
};

// What the store can take now, for the session's replies.
StoreSpace storeSpace(const MessageStore *store)
{
    StoreSpace space;
    const StoreQuota quota = store->quota();
    const qint64 messages = store->count();
    const qint64 bytes = store->totalBytes();
    space.full = (quota.maxMessages > 0 && messages >= quota.maxMessages)
        || (quota.maxBytes > 0 && bytes >= quota.maxBytes);
    space.freeBytes = quota.maxBytes > 0 ? std::max<qint64>(0, quota.maxBytes - bytes) : -1;
    space.maxBytes = quota.maxBytes;
    return space;
}

ServerSession::StoreResult toStoreResult(CommitResult::Status status)
{
    switch (status) {
    case CommitResult::Status::Stored: return ServerSession::StoreResult::Stored;
    case CommitResult::Status::Full: return ServerSession::StoreResult::Full;
    case CommitResult::Status::TooLarge: return ServerSession::StoreResult::TooLarge;
    case CommitResult::Status::Failed: break;
    }
    return ServerSession::StoreResult::Failed;
}

// Creates the folder if needed and makes it owner-only (0700), tightening an
// existing one: it holds captured mail and the CA's private key.
bool makePrivateFolder(const QString &path, QString *error)
{
    if (!QDir().mkpath(path)) {
        *error = QStringLiteral("cannot create the folder %1").arg(path);
        return false;
    }
    if (::chmod(QFile::encodeName(path).constData(), S_IRWXU) != 0) {
        *error = QStringLiteral("cannot make the folder %1 private: %2")
                     .arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    return true;
}

QString peerName(const QAbstractSocket *socket)
{
    const QHostAddress a = socket->peerAddress();
    const QString host = a.protocol() == QAbstractSocket::IPv6Protocol ? QStringLiteral("[%1]").arg(a.toString())
                                                                        : a.toString();
    return QStringLiteral("%1:%2").arg(host).arg(socket->peerPort());
}

// The client address as one key: an IPv4-mapped IPv6 address (::ffff:a.b.c.d,
// from a dual-stack socket) is the IPv4 address, and a scope id is dropped.
QString addressKey(const QHostAddress &address)
{
    bool ok = false;
    const quint32 v4 = address.toIPv4Address(&ok);
    if (ok)
        return QHostAddress(v4).toString();
    QHostAddress a = address;
    a.setScopeId(QString());
    return a.toString();
}

// The connection cap that the file descriptor limit (ulimit -n) allows for
// `wanted` connections (0: no cap of their own). The soft limit is raised toward
// the hard limit first when it is too low; *note says why the cap is lower.
int fitDescriptorLimit(int wanted, QString *note)
{
    struct rlimit limit = {};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return wanted;
    const rlim_t need = wanted > 0 ? rlim_t(wanted) * FdsPerConnection + FdReserve : limit.rlim_max;
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < need) {
        struct rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? need : std::min(need, limit.rlim_max);
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
            limit = raised;
    }
    if (limit.rlim_cur == RLIM_INFINITY)
        return wanted;
    const qint64 room = std::max<qint64>(1, (qint64(limit.rlim_cur) - FdReserve) / FdsPerConnection);
    const int allowed = int(std::min<qint64>(room, std::numeric_limits<int>::max()));
    if (wanted > 0 && wanted <= allowed)
        return wanted;
    if (wanted > 0) {
        *note = QStringLiteral("connection limit lowered from %1 to %2 by the file descriptor limit (ulimit -n %3)")
                    .arg(wanted)
                    .arg(allowed)
                    .arg(qint64(limit.rlim_cur));
    }
    return allowed;
}

// One client connection. A QObject only for lifetime (children: socket, timers)
// and as the context of its lambdas; it declares no signals or slots.
class Connection : public QObject
{
public:
    using LogFn = std::function<void(const QString &)>;
    using CapturedFn = std::function<void(const StoredMessage &)>;
    using ClosedFn = std::function<void(Connection *)>;

    struct Setup
    {
        bool implicitTls = false;
        ServerConfig config;
        std::shared_ptr<FaultState> faults;
        std::shared_ptr<AuthThrottle> authThrottle;
        QSslConfiguration tls;
        MessageStore *store = nullptr;
        const QElapsedTimer *clock = nullptr;
        int idleTimeoutMs = 300000;
        int sessionTimeoutMs = 0;
        LogFn log;
        CapturedFn captured;
        ClosedFn closed; // called once when a started connection ends
    };

    Connection(qintptr descriptor, Setup setup, QObject *parent);
    [[nodiscard]] bool isValid() const { return m_valid; }
    [[nodiscard]] QString address() const { return m_address; }
    // Serves the client: the greeting, then the session.
    void start();
    // Turns the client away: `reply` (not on the implicit-TLS port, where nothing
    // may precede the handshake and a handshake for a refused client would cost
    // more than the refusal: RFC 8314 3.3), then the close.
    void refuse(const QByteArray &reply, const QString &why);
    void abort();

private:
    void onReadyRead() { processInput(); }
    void processInput();
    void scheduleInput();
    // After the client closed with input left (m_peerGone): finish once it is
    // all served and nothing waits (a commit, a delay).
    void finishIfDrained();
    [[nodiscard]] bool inputPaused() const;
    [[nodiscard]] qint64 outputQueued() const
    {
        return m_socket->bytesToWrite() + m_socket->encryptedBytesToWrite();
    }
    void onWritten();
    void noteProgress();
    void runActions();
    // Returns false when the queue must pause (delay, flush before TLS, output
    // above the high-water mark, closed).
    bool runOne(const ServerAction &action);
    void onMessageEnd();
    // The store's answer to the message of the last MessageEnd.
    void onCommitted(const CommitResult &result);
    void onIdleTimeout();
    // Writes `reply` (when not empty) after what is queued, then closes.
    void closeWith(const QByteArray &reply, const QString &why);
    // disconnectFromHost() flushes first; a client that does not take the last
    // bytes within CloseFlushMs is aborted.
    void closeGracefully();
    void finish();
    void logLine(const QString &text) { m_setup.log(QStringLiteral("%1: %2").arg(m_peer, text)); }
    [[nodiscard]] QByteArray hostname() const { return m_setup.config.hostname; }

    Setup m_setup;
    QSslSocket *m_socket = nullptr;
    QTimer *m_delayTimer = nullptr;
    QTimer *m_idleTimer = nullptr;
    QTimer *m_lifetimeTimer = nullptr;
    QTimer *m_closeTimer = nullptr;
    std::unique_ptr<ServerSession> m_session;
    QString m_peer;
    QString m_address;
    QList<ServerAction> m_pending;
    std::unique_ptr<IncomingMessage> m_incoming;
    QString m_messageError;   // why the current message cannot be stored
    quint64 m_lastProgress = 0;
    bool m_valid = false;
    bool m_started = false;
    bool m_delaying = false;
    bool m_waitingFlushForTls = false;
    bool m_tlsHandshaking = false;
    bool m_outputBlocked = false;
    bool m_toldBlocked = false;
    bool m_inputScheduled = false;
    bool m_closing = false;
    bool m_finished = false;
    bool m_running = false;
    bool m_committing = false; // a commit is in flight: nothing is read or run until it answers
    bool m_peerGone = false;   // the client closed with input still unread: served, then finished
};

Connection::Connection(qintptr descriptor, Setup setup, QObject *parent)
    : QObject(parent)
    , m_setup(std::move(setup))
    , m_socket(new QSslSocket(this))
    , m_delayTimer(new QTimer(this))
    , m_idleTimer(new QTimer(this))
    , m_lifetimeTimer(new QTimer(this))
    , m_closeTimer(new QTimer(this))
{
    if (!m_socket->setSocketDescriptor(descriptor)) {
        m_setup.log(QStringLiteral("cannot accept a connection: %1").arg(m_socket->errorString()));
        return;
    }
    m_valid = true;
    m_peer = peerName(m_socket);
    m_address = addressKey(m_socket->peerAddress());
    // Set after setSocketDescriptor(), which makes the socket's internal plain
    // socket; the limit applies to the decrypted buffer too.
    m_socket->setReadBufferSize(ReadBufferBytes);
    m_socket->setSslConfiguration(m_setup.tls);
    m_setup.config.clientAddress = m_address;
    m_session = std::make_unique<ServerSession>(m_setup.config, m_setup.faults, m_setup.authThrottle);

    m_delayTimer->setSingleShot(true);
    // A coarse timer may fire up to 5 % early; a scripted delay is compared with
    // the client's timeouts, so it must not be shorter than asked.
    m_delayTimer->setTimerType(Qt::PreciseTimer);
    QObject::connect(m_delayTimer, &QTimer::timeout, this, [this] {
        m_delaying = false;
        // The server's own waiting is not the client's idleness.
        if (!m_closing)
            m_idleTimer->start();
        runActions();
    });
    // RFC 5321 4.5.3.2.7: a server may close a session that stays idle; it
    // should wait at least 5 minutes (the default of idleTimeoutMs).
    m_idleTimer->setSingleShot(true);
    m_idleTimer->setInterval(std::max(1, m_setup.idleTimeoutMs));
    QObject::connect(m_idleTimer, &QTimer::timeout, this, [this] { onIdleTimeout(); });
    m_lifetimeTimer->setSingleShot(true);
    QObject::connect(m_lifetimeTimer, &QTimer::timeout, this, [this] {
        // RFC 5321 3.8 / RFC 3463 4.4.2 as for the idle timeout.
        closeWith("421 4.4.2 " + hostname() + " Session time limit reached, closing connection\r\n",
                  QStringLiteral("session time limit (%1 s) reached, closing").arg(m_setup.sessionTimeoutMs / 1000.0));
    });
    m_closeTimer->setSingleShot(true);
    QObject::connect(m_closeTimer, &QTimer::timeout, this, [this] {
        if (m_finished)
            return;
        logLine(QStringLiteral("the client did not take the last replies within %1 s: connection aborted")
                    .arg(CloseFlushMs / 1000));
        m_socket->abort();
        finish();
    });

    QObject::connect(m_socket, &QSslSocket::readyRead, this, [this] { onReadyRead(); });
    // In TLS, bytesWritten() reports plaintext taken by the encryption and
    // encryptedBytesWritten() the records taken by the kernel; both drain the queue.
    QObject::connect(m_socket, &QSslSocket::bytesWritten, this, [this] { onWritten(); });
    QObject::connect(m_socket, &QSslSocket::encryptedBytesWritten, this, [this] { onWritten(); });
    QObject::connect(m_socket, &QSslSocket::encrypted, this, [this] {
        const QSslCipher cipher = m_socket->sessionCipher();
        logLine(QStringLiteral("TLS up (%1, %2)").arg(cipher.protocolString(), cipher.name()));
        if (m_tlsHandshaking) {
            // RFC 3207 4.2: the session starts over after the handshake.
            m_tlsHandshaking = false;
            m_session->tlsStarted();
            m_pending.append(m_session->takeActions());
            runActions();
        }
        // Bytes that arrived with the handshake's last flight.
        processInput();
    });
    QObject::connect(m_socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
        QStringList texts;
        for (const QSslError &e : errors)
            texts << e.errorString();
        logLine(QStringLiteral("TLS error: %1").arg(texts.join(QStringLiteral("; "))));
    });
    QObject::connect(m_socket, &QSslSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        if (error == QAbstractSocket::RemoteHostClosedError) {
            if (!m_closing && !m_session->isClosed())
                logLine(QStringLiteral("the client closed the connection"));
            return;
        }
        const bool tlsError = error == QAbstractSocket::SslHandshakeFailedError
            || error == QAbstractSocket::SslInternalError || error == QAbstractSocket::SslInvalidUserDataError;
        logLine(QStringLiteral("%1: %2").arg(tlsError ? QStringLiteral("TLS error") : QStringLiteral("socket error"),
                                             m_socket->errorString()));
        if (tlsError)
            m_socket->abort();
    });
    QObject::connect(m_socket, &QSslSocket::disconnected, this, [this] {
        // A client may close right after its last command (a whole message
        // pipelined, then FIN): what Qt already read is still served, as a
        // server that had read it at once would have, and a complete message
        // in it is stored. The replies go nowhere.
        if (!m_closing && !m_finished && m_socket->bytesAvailable() > 0) {
            m_peerGone = true;
            m_outputBlocked = false;
            processInput();
            return;
        }
        finish();
    });
}

void Connection::start()
{
    if (!m_valid || m_started || m_finished)
        return;
    m_started = true;
    logLine(QStringLiteral("connected%1").arg(m_setup.implicitTls ? QStringLiteral(" (implicit TLS)") : QString()));
    m_idleTimer->start();
    if (m_setup.sessionTimeoutMs > 0)
        m_lifetimeTimer->start(m_setup.sessionTimeoutMs);
    if (m_setup.implicitTls) {
        // RFC 8314 3.3: on the implicit-TLS port the handshake comes first; the
        // greeting written below is held by QSslSocket until it is encrypted.
        m_socket->startServerEncryption();
    }
    m_session->setNow(m_setup.clock->elapsed());
    m_session->setStoreSpace(storeSpace(m_setup.store));
    m_session->start();
    m_pending = m_session->takeActions();
    runActions();
}

void Connection::refuse(const QByteArray &reply, const QString &why)
{
    if (!m_valid || m_started || m_closing)
        return;
    logLine(why);
    m_closing = true;
    if (!m_setup.implicitTls)
        m_socket->write(reply);
    closeGracefully();
}

void Connection::abort()
{
    m_incoming.reset();
    if (m_valid)
        m_socket->abort();
    finish();
}

bool Connection::inputPaused() const
{
    // Reading pauses while actions wait (a delay, a TLS upgrade, replies the
    // client has not taken): a pipelined command is answered only after the
    // replies before it (RFC 2920 3.2), and never faster than the client reads.
    return m_finished || m_closing || m_delaying || m_waitingFlushForTls || m_tlsHandshaking || m_outputBlocked
        || m_committing || !m_pending.isEmpty();
}

void Connection::processInput()
{
    for (int i = 0; i < ChunksPerPass; ++i) {
        if (inputPaused() || m_socket->bytesAvailable() <= 0) {
            finishIfDrained();
            return;
        }
        const QByteArray bytes = m_socket->read(InputChunkBytes);
        if (bytes.isEmpty()) {
            finishIfDrained();
            return;
        }
        m_session->setNow(m_setup.clock->elapsed());
        m_session->setStoreSpace(storeSpace(m_setup.store));
        m_session->receive(bytes);
        noteProgress();
        m_pending.append(m_session->takeActions());
        runActions();
    }
    // More may be waiting: go on after the other connections had their turn.
    scheduleInput();
}

void Connection::finishIfDrained()
{
    if (m_peerGone && !m_finished && !m_running && !m_committing && !m_delaying && m_pending.isEmpty()
        && m_socket->bytesAvailable() <= 0)
        finish();
}

void Connection::scheduleInput()
{
    if (m_inputScheduled || inputPaused() || m_socket->bytesAvailable() <= 0)
        return;
    m_inputScheduled = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_inputScheduled = false;
            processInput();
        },
        Qt::QueuedConnection);
}

void Connection::noteProgress()
{
    const quint64 progress = m_session->progress();
    if (progress == m_lastProgress)
        return;
    m_lastProgress = progress;
    if (!m_closing && !m_finished)
        m_idleTimer->start();
}

void Connection::onWritten()
{
    if (m_finished)
        return;
    if (m_waitingFlushForTls && m_socket->bytesToWrite() == 0) {
        runActions();
        return;
    }
    if (m_outputBlocked && outputQueued() <= OutputLowWater) {
        m_outputBlocked = false;
        runActions();
        scheduleInput();
    }
}

void Connection::runActions()
{
    if (m_running || m_finished || m_committing)
        return;
    m_running = true;
    while (!m_pending.isEmpty() && !m_finished) {
        const ServerAction action = m_pending.takeFirst();
        if (!runOne(action))
            break;
    }
    m_running = false;
    // Input that arrived while the queue was paused.
    if (!m_finished)
        scheduleInput();
    finishIfDrained();
}

bool Connection::runOne(const ServerAction &action)
{
    switch (action.kind) {
    case ServerAction::Kind::Write:
        if (m_peerGone)
            return true; // nobody to read it
        m_socket->write(action.bytes);
        if (outputQueued() > OutputHighWater) {
            // Back-pressure: the rest waits for bytesWritten (onWritten()).
            m_outputBlocked = true;
            if (!m_toldBlocked) {
                m_toldBlocked = true;
                logLine(QStringLiteral("the client is not reading its replies; input paused until it does"));
            }
            return false;
        }
        return true;
    case ServerAction::Kind::Delay:
        m_delaying = true;
        m_idleTimer->stop();
        m_delayTimer->start(std::max(0, action.ms));
        return false;
    case ServerAction::Kind::StartTls:
        if (m_peerGone) {
            finish(); // no handshake without the client
            return false;
        }
        if (!m_waitingFlushForTls) {
            // RFC 3207 4.2 (and the STARTTLS injection of docs/security.md):
            // whatever the client sent after STARTTLS, before seeing our 220, was
            // sent in plaintext and must not be read as TLS-protected commands.
            // The 220 is still in our buffer, so the handshake cannot have begun.
            const QByteArray injected = m_socket->readAll();
            if (!injected.isEmpty())
                logLine(QStringLiteral("discarded %1 bytes sent after STARTTLS before the handshake")
                            .arg(injected.size()));
            m_waitingFlushForTls = true;
            m_socket->flush();
        }
        if (m_socket->bytesToWrite() > 0) {
            // Put the action back; bytesWritten resumes the queue once the 220 is out.
            m_pending.prepend(action);
            return false;
        }
        m_waitingFlushForTls = false;
        m_tlsHandshaking = true;
        m_socket->setSslConfiguration(m_setup.tls);
        m_socket->startServerEncryption();
        return false;
    case ServerAction::Kind::Close:
        m_closing = true;
        m_idleTimer->stop();
        m_lifetimeTimer->stop();
        m_incoming.reset();
        m_pending.clear();
        // disconnectFromHost() writes what is buffered before closing.
        closeGracefully();
        return false;
    case ServerAction::Kind::MessageBegin: {
        m_incoming.reset();
        m_messageError.clear();
        QString error;
        m_incoming = m_setup.store->begin(action.from, action.recipients, &error);
        if (!m_incoming) {
            m_messageError = error.isEmpty() ? QStringLiteral("cannot store the message") : error;
            logLine(QStringLiteral("store error: %1").arg(m_messageError));
        }
        return true;
    }
    case ServerAction::Kind::MessageData:
        if (m_incoming) {
            QString error;
            if (!m_incoming->write(action.bytes, &error)) {
                // The rest of the data is still read (the client cannot be
                // stopped mid-stream) but the message is dropped; the end of data
                // then gets 451 (RFC 5321 4.2.5: a transient failure to store).
                m_messageError = error.isEmpty() ? QStringLiteral("write error") : error;
                logLine(QStringLiteral("store error: %1").arg(m_messageError));
                m_incoming.reset();
            }
        }
        return true;
    case ServerAction::Kind::MessageEnd:
        onMessageEnd();
        // The queue waits for the commit's answer (onCommitted resumes it).
        return !m_committing;
    case ServerAction::Kind::MessageAbort:
        m_incoming.reset();
        m_messageError.clear();
        return true;
    case ServerAction::Kind::Authenticated:
        // The name is the client's: shown by the escaping rule (protocol/printable.h).
        logLine(QStringLiteral("authenticated as %1").arg(Smtp::printable(QStringView(action.user))));
        return true;
    }
    return true;
}

void Connection::onMessageEnd()
{
    if (!m_incoming) {
        // Storing failed before the end (the file could not be made or written):
        // the error is already logged; the answer is the same 451.
        CommitResult failed;
        failed.error = m_messageError.isEmpty() ? QStringLiteral("no message was being received") : m_messageError;
        m_messageError.clear();
        onCommitted(failed);
        return;
    }
    m_messageError.clear();
    m_committing = true;
    // The answer comes on this thread later. Its context is the server, not this
    // connection: a message committed after its connection closed (the client
    // left, the idle timeout) is still reported captured; only the reply has
    // nobody to go to.
    QPointer<Connection> self(this);
    m_setup.store->commitAsync(
        std::move(m_incoming), parent(),
        [self, captured = m_setup.captured, log = m_setup.log, peer = m_peer](const CommitResult &result) {
            // One read of the guarded pointer (see CaptureServer::stop()).
            if (Connection *connection = self.data(); connection && !connection->m_finished && !connection->m_closing) {
                connection->onCommitted(result);
                return;
            }
            if (result.status == CommitResult::Status::Stored) {
                log(QStringLiteral("%1: message %2 stored after the connection closed (%3 bytes)")
                        .arg(peer, result.message.id)
                        .arg(result.message.size));
                captured(result.message);
            }
        });
}

void Connection::onCommitted(const CommitResult &result)
{
    m_committing = false;
    m_session->setNow(m_setup.clock->elapsed());
    m_session->setStoreSpace(storeSpace(m_setup.store));
    m_session->messageStored(toStoreResult(result.status), result.message.id);
    noteProgress();
    // The reply to this end of data comes before anything else still queued.
    const QList<ServerAction> next = m_session->takeActions();
    for (qsizetype i = next.size() - 1; i >= 0; --i)
        m_pending.prepend(next.at(i));
    switch (result.status) {
    case CommitResult::Status::Stored:
        logLine(QStringLiteral("message %1 stored (%2 bytes)").arg(result.message.id).arg(result.message.size));
        m_setup.captured(result.message);
        break;
    case CommitResult::Status::Full:
    case CommitResult::Status::TooLarge:
        logLine(QStringLiteral("message refused: %1").arg(result.error));
        break;
    case CommitResult::Status::Failed:
        // The path and the system's reason stay here, in the local log; the
        // client gets a generic 451 (ServerSession::messageStored).
        logLine(QStringLiteral("message not stored: %1").arg(result.error));
        break;
    }
    runActions();
}

void Connection::onIdleTimeout()
{
    if (m_finished || m_closing)
        return;
    // RFC 5321 4.5.3.2.7 allows the close; 421 tells the client why (RFC 5321
    // 3.8: a server that must close sends 421 first), 4.4.2 "bad connection"
    // (RFC 3463). No progress because the client does not read its replies is
    // the same stall seen from the other side.
    const int seconds = m_setup.idleTimeoutMs / 1000;
    if (m_outputBlocked) {
        closeWith("421 4.4.2 " + hostname() + " Replies not read, closing connection\r\n",
                  QStringLiteral("the client has not read its replies for %1 s, closing").arg(seconds));
    } else {
        closeWith("421 4.4.2 " + hostname() + " Idle timeout, closing connection\r\n",
                  QStringLiteral("idle timeout, closing"));
    }
}

void Connection::closeWith(const QByteArray &reply, const QString &why)
{
    if (m_finished || m_closing)
        return;
    logLine(why);
    m_closing = true;
    m_pending.clear();
    m_incoming.reset();
    m_delaying = false;
    m_delayTimer->stop();
    m_idleTimer->stop();
    m_lifetimeTimer->stop();
    if (!reply.isEmpty())
        m_socket->write(reply);
    closeGracefully();
}

void Connection::closeGracefully()
{
    m_socket->disconnectFromHost();
    if (m_finished)
        return;
    if (m_socket->state() != QAbstractSocket::UnconnectedState)
        m_closeTimer->start(CloseFlushMs);
    else if (m_peerGone)
        finish(); // already closed by the client: no disconnected() is coming
}

void Connection::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_delayTimer->stop();
    m_idleTimer->stop();
    m_lifetimeTimer->stop();
    m_closeTimer->stop();
    // A message cut off by the disconnect is discarded, never stored partially.
    m_incoming.reset();
    m_pending.clear();
    if (m_valid && m_started)
        logLine(QStringLiteral("disconnected"));
    if (m_started && m_setup.closed)
        m_setup.closed(this);
    deleteLater();
}

} // namespace

struct CaptureServer::Private
{
    explicit Private(CaptureServer *owner)
        : q(owner)
    {
    }
    void accept(qintptr descriptor, bool implicitTls);
    void closed(Connection *connection);
    void acceptError(Listener *listener);

    CaptureServer *q;
    CaptureOptions options;
    CertificateAuthority ca;
    MessageStore *store = nullptr;
    Listener *plain = nullptr;
    Listener *implicit = nullptr;
    std::shared_ptr<FaultState> faults = std::make_shared<FaultState>();
    QSslConfiguration tls;
    QElapsedTimer clock;
    QList<QPointer<Connection>> connections;
    std::shared_ptr<AuthThrottle> authThrottle;
    int maxConnections = 0;               // in force (options, then the descriptor limit)
    QHash<Connection *, QString> served;  // started connections and their client address
    QHash<QString, int> perAddress;       // started connections per client address
};

CaptureServer::CaptureServer(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>(this))
{
    d->store = new MessageStore(this);
    d->clock.start();
}

CaptureServer::~CaptureServer()
{
    stop();
}

bool CaptureServer::start(const CaptureOptions &options, QString *error)
{
    stop();
    d->options = options;
    if (options.folder.isEmpty()) {
        *error = QStringLiteral("no folder given for the captured messages");
        return false;
    }
    // The capture server is for local testing: refuse to listen beyond loopback
    // unless the caller chose that address explicitly (options.address).
    QString why;
    // Private folders: captured mail, and the CA's private key in tls/.
    for (const QString &folder : {options.folder, options.folder + QStringLiteral("/tls")}) {
        if (!makePrivateFolder(folder, &why)) {
            *error = why;
            return false;
        }
    }
    d->store->setQuota(options.quota);
    if (!d->store->open(options.folder + QStringLiteral("/messages"), &why)) {
        *error = QStringLiteral("cannot open the message folder: %1").arg(why);
        return false;
    }
    if (!d->ca.ensure(options.folder + QStringLiteral("/tls"), &why)) {
        *error = QStringLiteral("cannot set up the TLS certificates: %1").arg(why);
        return false;
    }
    d->tls = QSslConfiguration::defaultConfiguration();
    d->tls.setLocalCertificate(d->ca.serverCertificate());
    d->tls.setPrivateKey(d->ca.serverKey());
    d->tls.setProtocol(QSsl::SecureProtocols);
    // No client certificates are asked for.
    d->tls.setPeerVerifyMode(QSslSocket::VerifyNone);
    d->faults->setFaults(options.faults);
    d->authThrottle = std::make_shared<AuthThrottle>(options.authThrottle);
    QString note;
    d->maxConnections = fitDescriptorLimit(std::max(0, options.maxConnections), &note);
    if (!note.isEmpty()) {
        qCWarning(lcCapture, "%s", qPrintable(note));
        Q_EMIT log(note);
    }

    auto makeListener = [this](bool implicitTls) {
        auto *l = new Listener([this, implicitTls](qintptr descriptor) { d->accept(descriptor, implicitTls); }, this);
        // 500 clients connecting at once must not overflow the backlog (the
        // kernel then drops SYNs, and a client waits a second or more to retry).
        l->setListenBacklogSize(ListenBacklog);
        QObject::connect(l, &QTcpServer::acceptError, this, [this, l] { d->acceptError(l); });
        return l;
    };
    d->plain = makeListener(false);
    if (!d->plain->listen(options.address, options.port)) {
        *error = QStringLiteral("cannot listen on %1:%2: %3")
                     .arg(options.address.toString())
                     .arg(options.port)
                     .arg(d->plain->errorString());
        stop();
        return false;
    }
    if (options.enableTlsPort) {
        d->implicit = makeListener(true);
        if (!d->implicit->listen(options.address, options.tlsPort)) {
            *error = QStringLiteral("cannot listen on %1:%2: %3")
                         .arg(options.address.toString())
                         .arg(options.tlsPort)
                         .arg(d->implicit->errorString());
            stop();
            return false;
        }
    }
    Q_EMIT log(QStringLiteral("listening on %1:%2%3")
                   .arg(options.address.toString())
                   .arg(port())
                   .arg(d->implicit ? QStringLiteral(" and %1 (implicit TLS)").arg(tlsPort()) : QString()));
    return true;
}

void CaptureServer::Private::accept(qintptr descriptor, bool implicitTls)
{
    Connection::Setup setup;
    setup.implicitTls = implicitTls;
    setup.config.maxSize = options.maxSize;
    setup.config.tlsAvailable = true;
    setup.config.implicitTls = implicitTls;
    setup.config.user = options.user;
    setup.config.password = options.password;
    setup.faults = faults;
    setup.authThrottle = authThrottle;
    setup.tls = tls;
    setup.store = store;
    setup.clock = &clock;
    setup.idleTimeoutMs = options.idleTimeoutMs;
    setup.sessionTimeoutMs = std::max(0, options.sessionTimeoutMs);
    setup.log = [this](const QString &line) { Q_EMIT q->log(line); };
    setup.captured = [this](const StoredMessage &m) { Q_EMIT q->messageCaptured(m); };
    setup.closed = [this](Connection *c) { closed(c); };
    auto *c = new Connection(descriptor, std::move(setup), q);
    if (!c->isValid()) {
        delete c;
        return;
    }
    connections.removeAll(nullptr);
    connections.append(c);

    // Over a cap the client is accepted only to be told why (RFC 5321 3.8: 421,
    // then the close; RFC 3463 4.7.0: a policy reason, temporary). Refused
    // connections are not counted: they close at once.
    const QString address = c->address();
    const QByteArray host = ServerConfig().hostname;
    if (maxConnections > 0 && served.size() >= maxConnections) {
        c->refuse("421 4.7.0 " + host + " Too many connections, try again later\r\n",
                  QStringLiteral("refused: %1 connections open, the limit (max connections)").arg(served.size()));
        return;
    }
    const int fromAddress = perAddress.value(address);
    if (options.maxConnectionsPerAddress > 0 && fromAddress >= options.maxConnectionsPerAddress) {
        c->refuse("421 4.7.0 " + host + " Too many connections from your address, try again later\r\n",
                  QStringLiteral("refused: %1 connections open from %2, the limit (max connections per address)")
                      .arg(fromAddress)
                      .arg(address));
        return;
    }
    served.insert(c, address);
    perAddress[address] = fromAddress + 1;
    c->start();
}

void CaptureServer::Private::closed(Connection *connection)
{
    const auto it = served.find(connection);
    if (it == served.end())
        return;
    const QString address = it.value();
    served.erase(it);
    if (--perAddress[address] <= 0)
        perAddress.remove(address);
}

void CaptureServer::Private::acceptError(Listener *listener)
{
    // QTcpServer pauses accepting on any error but a temporary one (EMFILE and
    // ENFILE are "resource errors"): without a resume the server would never
    // accept again. Clients wait in the listen backlog meanwhile.
    Q_EMIT q->log(QStringLiteral("cannot accept a connection: %1 (the file descriptor limit, ulimit -n, may be "
                                 "reached); trying again in %2 ms")
                      .arg(listener->errorString())
                      .arg(AcceptRetryMs));
    QPointer<Listener> guard(listener);
    QTimer::singleShot(AcceptRetryMs, q, [guard] {
        if (guard && guard->isListening())
            guard->resumeAccepting();
    });
}

void CaptureServer::stop()
{
    for (const QPointer<Connection> &c : std::as_const(d->connections)) {
        // One read of the guarded pointer: GCC's -Wnull-dereference (at -O2)
        // cannot see that two reads of a QPointer agree.
        if (Connection *connection = c.data())
            connection->abort();
    }
    d->connections.clear();
    d->served.clear();
    d->perAddress.clear();
    for (Listener **l : {&d->plain, &d->implicit}) {
        if (*l) {
            (*l)->close();
            delete *l;
            *l = nullptr;
        }
    }
}

bool CaptureServer::isListening() const
{
    return d->plain && d->plain->isListening();
}

quint16 CaptureServer::port() const
{
    return d->plain ? d->plain->serverPort() : 0;
}

quint16 CaptureServer::tlsPort() const
{
    return d->implicit ? d->implicit->serverPort() : 0;
}

QString CaptureServer::caFile() const
{
    return d->ca.caFile();
}

MessageStore *CaptureServer::store() const
{
    return d->store;
}

int CaptureServer::connectionCount() const
{
    return int(d->served.size());
}

int CaptureServer::maxConnections() const
{
    return d->maxConnections;
}

void CaptureServer::setFaults(const QList<Fault> &faults)
{
    d->options.faults = faults;
    d->faults->setFaults(faults);
}

} // namespace Capture
