#include "captureserver.h"

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

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QPointer>
#include <QSslCipher>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpServer>
#include <QTimer>

#include <cerrno>
#include <cstring>
#include <functional>

#include <sys/stat.h>

Q_LOGGING_CATEGORY(lcCapture, "smtpscope.capture")

namespace Capture {

namespace {

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

// One client connection. A QObject only for lifetime (children: socket, timers)
// and as the context of its lambdas; it declares no signals or slots.
class Connection : public QObject
{
public:
    using LogFn = std::function<void(const QString &)>;
    using CapturedFn = std::function<void(const StoredMessage &)>;

    Connection(qintptr descriptor, bool implicitTls, const ServerConfig &config, std::shared_ptr<FaultState> faults,
               const QSslConfiguration &tls, MessageStore *store, const QElapsedTimer *clock, int idleTimeoutMs,
               LogFn log, CapturedFn captured, QObject *parent);
    [[nodiscard]] bool isValid() const { return m_valid; }
    void abort();

private:
    void onReadyRead();
    void runActions();
    // Returns false when the queue must pause (delay, flush before TLS, closed).
    bool runOne(const ServerAction &action);
    void onMessageEnd();
    // The store's answer to the message of the last MessageEnd.
    void onCommitted(const CommitResult &result);
    void onIdleTimeout();
    void finish();
    void logLine(const QString &text) { m_log(QStringLiteral("%1: %2").arg(m_peer, text)); }

    QSslSocket *m_socket = nullptr;
    QTimer *m_delayTimer = nullptr;
    QTimer *m_idleTimer = nullptr;
    ServerSession m_session;
    QSslConfiguration m_tls;
    MessageStore *m_store = nullptr;
    const QElapsedTimer *m_clock = nullptr;
    LogFn m_log;
    CapturedFn m_captured;
    QString m_peer;
    QString m_hostname;
    QList<ServerAction> m_pending;
    std::unique_ptr<IncomingMessage> m_incoming;
    QString m_messageError;   // why the current message cannot be stored
    bool m_valid = false;
    bool m_delaying = false;
    bool m_waitingFlushForTls = false;
    bool m_tlsHandshaking = false;
    bool m_closing = false;
    bool m_finished = false;
    bool m_running = false;
    bool m_committing = false; // a commit is in flight: nothing is read or run until it answers
};

Connection::Connection(qintptr descriptor, bool implicitTls, const ServerConfig &config,
                       std::shared_ptr<FaultState> faults, const QSslConfiguration &tls, MessageStore *store,
                       const QElapsedTimer *clock, int idleTimeoutMs, LogFn log, CapturedFn captured,
                       QObject *parent)
    : QObject(parent)
    , m_socket(new QSslSocket(this))
    , m_delayTimer(new QTimer(this))
    , m_idleTimer(new QTimer(this))
    , m_session(config, std::move(faults))
    , m_tls(tls)
    , m_store(store)
    , m_clock(clock)
    , m_log(std::move(log))
    , m_captured(std::move(captured))
    , m_hostname(QString::fromLatin1(config.hostname))
{
    if (!m_socket->setSocketDescriptor(descriptor)) {
        m_log(QStringLiteral("cannot accept a connection: %1").arg(m_socket->errorString()));
        return;
    }
    m_valid = true;
    m_peer = peerName(m_socket);
    m_socket->setSslConfiguration(m_tls);

    m_delayTimer->setSingleShot(true);
    // A coarse timer may fire up to 5 % early; a scripted delay is compared with
    // the client's timeouts, so it must not be shorter than asked.
    m_delayTimer->setTimerType(Qt::PreciseTimer);
    QObject::connect(m_delayTimer, &QTimer::timeout, this, [this] {
        m_delaying = false;
        runActions();
    });
    // RFC 5321 4.5.3.2.7: a server may close a session that stays idle; it
    // should wait at least 5 minutes (the default of idleTimeoutMs).
    m_idleTimer->setSingleShot(true);
    m_idleTimer->setInterval(idleTimeoutMs);
    QObject::connect(m_idleTimer, &QTimer::timeout, this, [this] { onIdleTimeout(); });

    QObject::connect(m_socket, &QSslSocket::readyRead, this, [this] { onReadyRead(); });
    QObject::connect(m_socket, &QSslSocket::bytesWritten, this, [this] {
        if (m_waitingFlushForTls && m_socket->bytesToWrite() == 0)
            runActions();
    });
    QObject::connect(m_socket, &QSslSocket::encrypted, this, [this] {
        const QSslCipher cipher = m_socket->sessionCipher();
        logLine(QStringLiteral("TLS up (%1, %2)").arg(cipher.protocolString(), cipher.name()));
        if (m_tlsHandshaking) {
            // RFC 3207 4.2: the session starts over after the handshake.
            m_tlsHandshaking = false;
            m_session.tlsStarted();
            m_pending.append(m_session.takeActions());
            runActions();
        }
        // Bytes that arrived with the handshake's last flight.
        onReadyRead();
    });
    QObject::connect(m_socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
        QStringList texts;
        for (const QSslError &e : errors)
            texts << e.errorString();
        logLine(QStringLiteral("TLS error: %1").arg(texts.join(QStringLiteral("; "))));
    });
    QObject::connect(m_socket, &QSslSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        if (error == QAbstractSocket::RemoteHostClosedError) {
            if (!m_closing && !m_session.isClosed())
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
    QObject::connect(m_socket, &QSslSocket::disconnected, this, [this] { finish(); });

    logLine(QStringLiteral("connected%1").arg(implicitTls ? QStringLiteral(" (implicit TLS)") : QString()));
    m_idleTimer->start();
    if (implicitTls) {
        // RFC 8314 3.3: on the implicit-TLS port the handshake comes first; the
        // greeting written below is held by QSslSocket until it is encrypted.
        m_socket->startServerEncryption();
    }
    m_session.setNow(m_clock->elapsed());
    m_session.setStoreSpace(storeSpace(m_store));
    m_session.start();
    m_pending = m_session.takeActions();
    runActions();
}

void Connection::abort()
{
    m_incoming.reset();
    if (m_valid)
        m_socket->abort();
    finish();
}

void Connection::onReadyRead()
{
    if (m_finished || m_closing)
        return;
    // Reading pauses while actions wait (a delay, a TLS upgrade): a pipelined
    // command is answered only after the replies before it (RFC 2920 3.2).
    if (m_delaying || m_waitingFlushForTls || m_tlsHandshaking || m_committing || !m_pending.isEmpty())
        return;
    if (m_socket->bytesAvailable() <= 0)
        return;
    m_idleTimer->start();
    const QByteArray bytes = m_socket->readAll();
    m_session.setNow(m_clock->elapsed());
    m_session.setStoreSpace(storeSpace(m_store));
    m_session.receive(bytes);
    m_pending.append(m_session.takeActions());
    runActions();
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
    if (!m_finished && m_pending.isEmpty() && !m_delaying && !m_waitingFlushForTls && !m_tlsHandshaking
        && !m_committing && !m_closing && m_socket->bytesAvailable() > 0) {
        QTimer::singleShot(0, this, [this] { onReadyRead(); });
    }
}

bool Connection::runOne(const ServerAction &action)
{
    switch (action.kind) {
    case ServerAction::Kind::Write:
        m_socket->write(action.bytes);
        return true;
    case ServerAction::Kind::Delay:
        m_delaying = true;
        m_delayTimer->start(std::max(0, action.ms));
        return false;
    case ServerAction::Kind::StartTls:
        if (!m_waitingFlushForTls) {
            // RFC 3207 4.2 (and the STARTTLS injection of security-catalogue):
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
        m_socket->setSslConfiguration(m_tls);
        m_socket->startServerEncryption();
        return false;
    case ServerAction::Kind::Close:
        m_closing = true;
        m_idleTimer->stop();
        m_incoming.reset();
        // disconnectFromHost() writes what is buffered before closing.
        m_socket->disconnectFromHost();
        m_pending.clear();
        return false;
    case ServerAction::Kind::MessageBegin: {
        m_incoming.reset();
        m_messageError.clear();
        QString error;
        m_incoming = m_store->begin(action.from, action.recipients, &error);
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
        logLine(QStringLiteral("authenticated as %1").arg(action.user));
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
    m_store->commitAsync(std::move(m_incoming), parent(),
                         [self, captured = m_captured, log = m_log, peer = m_peer](const CommitResult &result) {
                             // One read of the guarded pointer (see CaptureServer::stop()).
                             if (Connection *connection = self.data();
                                 connection && !connection->m_finished && !connection->m_closing) {
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
    m_session.setNow(m_clock->elapsed());
    m_session.setStoreSpace(storeSpace(m_store));
    m_session.messageStored(toStoreResult(result.status), result.message.id);
    // The reply to this end of data comes before anything else still queued.
    const QList<ServerAction> next = m_session.takeActions();
    for (qsizetype i = next.size() - 1; i >= 0; --i)
        m_pending.prepend(next.at(i));
    switch (result.status) {
    case CommitResult::Status::Stored:
        logLine(QStringLiteral("message %1 stored (%2 bytes)").arg(result.message.id).arg(result.message.size));
        m_captured(result.message);
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
    // (RFC 3463).
    logLine(QStringLiteral("idle timeout, closing"));
    m_closing = true;
    m_pending.clear();
    m_incoming.reset();
    m_socket->write(QByteArray("421 4.4.2 ") + m_hostname.toLatin1() + " Idle timeout, closing connection\r\n");
    m_socket->disconnectFromHost();
}

void Connection::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_delayTimer->stop();
    m_idleTimer->stop();
    // A message cut off by the disconnect is discarded, never stored partially.
    m_incoming.reset();
    m_pending.clear();
    if (m_valid)
        logLine(QStringLiteral("disconnected"));
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

    auto makeListener = [this](bool implicitTls) {
        return new Listener([this, implicitTls](qintptr descriptor) { d->accept(descriptor, implicitTls); }, this);
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
    ServerConfig config;
    config.maxSize = options.maxSize;
    config.tlsAvailable = true;
    config.implicitTls = implicitTls;
    config.user = options.user;
    config.password = options.password;
    auto *c = new Connection(
        descriptor, implicitTls, config, faults, tls, store, &clock, options.idleTimeoutMs,
        [this](const QString &line) { Q_EMIT q->log(line); },
        [this](const StoredMessage &m) { Q_EMIT q->messageCaptured(m); }, q);
    if (!c->isValid()) {
        delete c;
        return;
    }
    connections.removeAll(nullptr);
    connections.append(c);
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

void CaptureServer::setFaults(const QList<Fault> &faults)
{
    d->options.faults = faults;
    d->faults->setFaults(faults);
}

} // namespace Capture
