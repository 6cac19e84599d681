#include "smtptransport.h"

// How it works
// ------------
// One QSslSocket, one explicit state (State below) and three single-shot timers:
//   connect  - lookup + TCP connect (each address in turn) + implicit TLS handshake;
//              reused as the flush limit of a graceful close;
//   tls      - the STARTTLS handshake;
//   deadline - the caller's total deadline for the next awaited data.
//
//   Idle/Closed --connectToServer--> LookingUp --(addresses)--> Connecting
//   Connecting --TCP up--> Open                    (plain)
//   Connecting --TCP up--> Handshaking --encrypted--> Open    (implicit TLS)
//   Open --startTls--> Upgrading --encrypted--> Open          (STARTTLS)
//   Open --disconnectFromServer--> Closing --disconnected--> Closed
//   any --failure--> Closed (failed())    any --abort--> Closed (closed() if it was open)
//
// Two rules keep it safe inside Qt's TLS code. First, the socket is never
// aborted from inside one of its own signals while it is in the handshake: a
// failure marks the transport Closed at once (no byte can be written from then
// on, every later socket signal is ignored) and the socket abort plus failed()
// follow from the event loop. Second, encrypted() is taken through a queued
// connection, so the caller's slots for connected()/encrypted() never run inside
// OpenSSL's handshake call stack.
//
// Threads: everything here, timers and socket slots included, runs on the
// transport's own thread (the engine's worker); nothing is shared with others
// except the EventQueue and UsageStats, which lock for themselves.
//
// Byte accounting counts application bytes in both modes: QSslSocket emits
// bytesWritten() for plaintext handed to the kernel (plain mode) or to the TLS
// layer (encrypted mode), never for handshake records, and readyRead() only for
// decrypted data.

#include "events/eventqueue.h"
#include "events/socketevent.h"
#include "events/usagestats.h"
#include "protocol/printable.h"

#include <QHostInfo>
#include <QLoggingCategory>
#include <QMetaEnum>
#include <QSslCipher>
#include <QSslConfiguration>
#include <QSslError>
#include <QSslSocket>
#include <QTimer>

#include <chrono>
#include <deque>
#include <optional>

#if defined(Q_OS_WIN)
#  include <winsock2.h>
#  include <ws2tcpip.h>
#else
#  include <netinet/in.h>
#  include <sys/socket.h>
#  include <sys/types.h>
#endif

namespace {

Q_LOGGING_CATEGORY(lcTransport, "smtpscope.transport", QtInfoMsg)

enum class State {
    Idle,        // never connected
    LookingUp,   // QHostInfo lookup running
    Connecting,  // TCP connect to addresses[addressIndex]
    Handshaking, // implicit TLS handshake (smtps)
    Open,        // usable: plain, or encrypted after implicit TLS / STARTTLS
    Upgrading,   // STARTTLS handshake
    Closing,     // graceful close requested, flushing
    Closed,      // closed by either side, aborted, or failed
};

const char *stateName(State s)
{
    switch (s) {
    case State::Idle: return "Idle";
    case State::LookingUp: return "LookingUp";
    case State::Connecting: return "Connecting";
    case State::Handshaking: return "Handshaking";
    case State::Open: return "Open";
    case State::Upgrading: return "Upgrading";
    case State::Closing: return "Closing";
    case State::Closed: return "Closed";
    }
    return "?";
}

qint64 usSince(const QElapsedTimer &t)
{
    return t.isValid() ? t.nsecsElapsed() / 1000 : 0;
}

// The reference reports the address family as the system's AF_* number.
int addressFamily(const QHostAddress &a)
{
    return a.protocol() == QAbstractSocket::IPv6Protocol ? AF_INET6 : AF_INET;
}

QString familyName(const QHostAddress &a)
{
    return a.protocol() == QAbstractSocket::IPv6Protocol ? QStringLiteral("ipv6")
                                                         : QStringLiteral("ipv4");
}

QString sslErrorName(QSslError::SslError e)
{
    const char *key = QMetaEnum::fromType<QSslError::SslError>().valueToKey(int(e));
    return key ? QString::fromLatin1(key) : QStringLiteral("SslError%1").arg(int(e));
}

// A certificate field is shown at most this long in an error (characters): the
// peer chooses its size.
constexpr qsizetype MaxNameShown = 256;

QString certificateSubject(const QSslCertificate &cert)
{
    if (cert.isNull())
        return {};
    const QStringList cn = cert.subjectInfo(QSslCertificate::CommonName);
    return cn.isEmpty() ? cert.subjectDisplayName() : cn.join(QStringLiteral(", "));
}

QString certificateIssuer(const QSslCertificate &cert)
{
    const QStringList cn = cert.issuerInfo(QSslCertificate::CommonName);
    return cn.isEmpty() ? cert.issuerDisplayName() : cn.join(QStringLiteral(", "));
}

// One certificate error in words, saying what it means for the user. The
// certificate's names are the peer's text: the reason shows them by the
// escaping rule (printable.h), so a subject holding terminal escapes or bidi
// overrides cannot rewrite the error line; `subject` keeps them exact, as data.
TlsInfo::CertificateError describeSslError(const QSslError &error, const QSslCertificate &leaf,
                                           const QString &verifyName)
{
    const QSslCertificate cert = error.certificate().isNull() ? leaf : error.certificate();
    TlsInfo::CertificateError out;
    out.name = sslErrorName(error.error());
    out.subject = certificateSubject(cert);
    const QString subject =
        out.subject.isEmpty() ? QStringLiteral("the server") : Smtp::printable(out.subject, MaxNameShown);
    switch (error.error()) {
    case QSslError::HostNameMismatch: {
        QStringList names = TlsInfo::certificateNames(cert);
        for (QString &n : names)
            n = Smtp::printable(n, MaxNameShown);
        out.reason = QStringLiteral("the certificate is for %1, not %2")
                         .arg(names.isEmpty() ? QStringLiteral("no host name")
                                              : names.join(QStringLiteral(", ")),
                              Smtp::printable(verifyName));
        break;
    }
    case QSslError::SelfSignedCertificate:
        out.reason = QStringLiteral("the certificate of %1 is self-signed and not trusted")
                         .arg(subject);
        break;
    case QSslError::SelfSignedCertificateInChain:
        out.reason = QStringLiteral("the chain ends in a root that is not trusted (%1)")
                         .arg(subject);
        break;
    case QSslError::UnableToGetLocalIssuerCertificate:
    case QSslError::UnableToGetIssuerCertificate:
    case QSslError::UnableToVerifyFirstCertificate:
        out.reason = QStringLiteral("the certificate of %1 was issued by %2, which is not a "
                                    "trusted authority (or the server did not send the "
                                    "intermediate certificates)")
                         .arg(subject, Smtp::printable(certificateIssuer(cert), MaxNameShown));
        break;
    case QSslError::CertificateExpired:
        out.reason = QStringLiteral("the certificate of %1 expired on %2")
                         .arg(subject, cert.expiryDate().toUTC().toString(Qt::ISODate));
        break;
    case QSslError::CertificateNotYetValid:
        out.reason = QStringLiteral("the certificate of %1 is not valid before %2")
                         .arg(subject, cert.effectiveDate().toUTC().toString(Qt::ISODate));
        break;
    case QSslError::CertificateRevoked:
        out.reason = QStringLiteral("the certificate of %1 was revoked").arg(subject);
        break;
    case QSslError::InvalidPurpose:
        out.reason = QStringLiteral("the certificate of %1 is not meant for a TLS server")
                         .arg(subject);
        break;
    case QSslError::CertificateUntrusted:
    case QSslError::CertificateRejected:
        out.reason = QStringLiteral("the certificate of %1 is not trusted for this use")
                         .arg(subject);
        break;
    case QSslError::NoPeerCertificate:
        out.reason = QStringLiteral("the server sent no certificate");
        break;
    default:
        out.reason = error.errorString();
        break;
    }
    return out;
}

QString protocolName(QSsl::SslProtocol p, const QSslCipher &cipher)
{
    switch (p) {
    case QSsl::TlsV1_3: return QStringLiteral("TLSv1.3");
    case QSsl::TlsV1_2: return QStringLiteral("TLSv1.2");
    default: return cipher.protocolString();
    }
}

// Parsing the system store takes about 300 ms here (Debian, ~300 roots): do it
// once per process, not per connection. Thread-safe static initialisation.
const QList<QSslCertificate> &systemCaCertificates()
{
    static const QList<QSslCertificate> certificates = QSslConfiguration::systemCaCertificates();
    return certificates;
}

// OpenSSL's words when the peer answers a ClientHello with something that is not
// TLS at all, typically an SMTP greeting on a STARTTLS port.
bool looksLikePlaintextPeer(const QString &error)
{
    static const char *const kSigns[] = {"wrong version number", "unknown protocol",
                                         "packet length too long", "record layer failure",
                                         "http request", "unexpected eof"};
    for (const char *s : kSigns) {
        if (error.contains(QLatin1String(s), Qt::CaseInsensitive))
            return true;
    }
    return false;
}

} // namespace

struct SmtpTransport::Private
{
    explicit Private(SmtpTransport *qq);

    SmtpTransport *q;
    QSslSocket *socket = nullptr;
    bool socketUsed = false;
    QTimer *connectTimer;
    QTimer *tlsTimer;
    QTimer *deadlineTimer;

    State state = State::Idle;
    Options options;
    QString verifyName;       // effective peer verify name (SNI + name check)
    bool hostIsLiteral = false;
    quint64 generation = 0;   // bumped per connection and by abort(): stale queued work is dropped

    // events and statistics
    QPointer<EventQueue> queue;
    QVariant eventArg;
    bool withData = false;
    qint64 id = 0;
    UsageStats *stats = nullptr;

    // connect
    int lookupId = -1;
    QList<QHostAddress> addresses;
    qsizetype addressIndex = 0;
    QStringList attemptErrors;
    QHostAddress peer;
    QElapsedTimer connectClock; // whole connect
    QElapsedTimer phaseClock;   // current phase
    // When the TCP connect and the TLS handshake ended: the driver stamps its
    // transcript lines with these instants (one clock for every view of a step).
    QElapsedTimer connectedMark;
    QElapsedTimer encryptedMark;
    qint64 lookupUs = -1, connectUs = -1, tlsUs = -1;
    qint64 tlsSetupUs = -1;     // building the TLS configuration (prepare())
    // The TLS configuration prepare() built, for the options it was built for.
    std::optional<QSslConfiguration> preparedConfig;
    SmtpError prepareError;
    QString preparedCaFile;
    QSsl::SslProtocol preparedProtocol = QSsl::SecureProtocols;
    bool channelOpen = false;   // CONNECTED recorded and CHANNEL_CLOSED not yet

    // TLS
    TlsInfo tls;
    QList<QSslError> unignoredErrors;

    // writes in flight, oldest first
    struct PendingWrite
    {
        QByteArray data;  // kept only when events carry data
        qint64 size = 0;
        qint64 done = 0;
        QElapsedTimer clock;
    };
    std::deque<PendingWrite> pending;
    QElapsedTimer sendBusy;   // since the last bytesWritten, or the write that made the queue non-empty
    QElapsedTimer recvWait;   // since we last had something to wait for (connect, read, write done)
    qint64 totalSent = 0, totalToSend = 0, totalRead = 0;

    void attachSocket();
    void replaceSocket();
    void setState(State s);
    void event(SocketEvent::Type type, QVariantMap fields = {});
    void recordChannelClosed();
    void stopTimers();
    void abortLookup();

    void prepare(const Options &opts);
    void startConnect(const Options &opts);
    void onLookup(const QHostInfo &info);
    void startAttempt();
    void onSocketConnected();
    void onEncrypted();
    void onSslErrors(const QList<QSslError> &errors);
    void onSocketError(QAbstractSocket::SocketError error);
    void onDisconnected();
    void onBytesWritten(qint64 n);
    void onConnectTimeout();
    void onTlsTimeout();
    void finishOpen(bool upgrade);
    void readPending();
    void remoteClosed();
    void fillTlsInfo();
    QByteArray unreadBytes() const;

    void fail(SmtpError error);
    SmtpError connectError(QAbstractSocket::SocketError error) const;
    SmtpError handshakeError(QAbstractSocket::SocketError error) const;
    QString target() const;
};

SmtpTransport::Private::Private(SmtpTransport *qq)
    : q(qq)
    , connectTimer(new QTimer(qq))
    , tlsTimer(new QTimer(qq))
    , deadlineTimer(new QTimer(qq))
{
    // A timeout must never fire before the time the user gave: a server that
    // answers in 7.8 s is within an 8 s timeout. CoarseTimer may fire up to 5%
    // early, so these few timers are precise.
    for (QTimer *t : {connectTimer, tlsTimer, deadlineTimer}) {
        t->setSingleShot(true);
        t->setTimerType(Qt::PreciseTimer);
    }
    QObject::connect(connectTimer, &QTimer::timeout, q, [this] { onConnectTimeout(); });
    QObject::connect(tlsTimer, &QTimer::timeout, q, [this] { onTlsTimeout(); });
    QObject::connect(deadlineTimer, &QTimer::timeout, q, [this] {
        if (state == State::Open || state == State::Upgrading || state == State::Closing)
            Q_EMIT q->deadlinePassed();
    });
}

QString SmtpTransport::Private::target() const
{
    const QString h = peer.isNull() ? options.host : peer.toString();
    return h.contains(QLatin1Char(':')) ? QStringLiteral("[%1]:%2").arg(h).arg(options.port)
                                        : QStringLiteral("%1:%2").arg(h).arg(options.port);
}

void SmtpTransport::Private::attachSocket()
{
    // Created on the transport's own thread (the worker), as a child so that it
    // follows the transport through moveToThread().
    socket = new QSslSocket(q);
    socketUsed = false;
    QObject::connect(socket, &QAbstractSocket::connected, q, [this] { onSocketConnected(); });
    // Queued (see the top of the file); a late call from a replaced socket is dropped.
    QObject::connect(
        socket, &QSslSocket::encrypted, q,
        [this, s = QPointer<QSslSocket>(socket)] {
            if (s && s == socket && socket->isEncrypted())
                onEncrypted();
        },
        Qt::QueuedConnection);
    QObject::connect(socket, &QSslSocket::sslErrors, q,
                     [this](const QList<QSslError> &errors) { onSslErrors(errors); });
    QObject::connect(socket, &QAbstractSocket::errorOccurred, q,
                     [this](QAbstractSocket::SocketError e) { onSocketError(e); });
    QObject::connect(socket, &QAbstractSocket::disconnected, q, [this] { onDisconnected(); });
    QObject::connect(socket, &QIODevice::bytesWritten, q, [this](qint64 n) { onBytesWritten(n); });
    // With TLS, bytesWritten() fires when plaintext enters the TLS layer; the
    // encrypted queue then drains with only this signal. Flow control waits on
    // bytesToWrite() (both queues), so report that progress too.
    QObject::connect(socket, &QSslSocket::encryptedBytesWritten, q, [this](qint64) {
        if (state != State::Closed)
            Q_EMIT q->bytesWritten(0);
    });
    QObject::connect(socket, &QIODevice::readyRead, q, [this] {
        if (state == State::Open || state == State::Closing)
            readPending();
    });
}

void SmtpTransport::Private::replaceSocket()
{
    // A fresh socket per connection: no TLS session, ignore list or error state
    // carried over. The old one may be inside its own signal: never delete it here.
    QSslSocket *old = socket;
    QObject::disconnect(old, nullptr, q, nullptr);
    old->abort();
    old->deleteLater();
    attachSocket();
}

void SmtpTransport::Private::setState(State s)
{
    if (s == state)
        return;
    qCDebug(lcTransport) << "state" << stateName(state) << "->" << stateName(s);
    state = s;
}

// An event's "time" (microseconds since the Unix epoch, as SocketEvent::make
// stamps it), taken at the instant a step starts or ends so that the event and
// the step's duration come from one moment.
static QVariant wallClockUs()
{
    using namespace std::chrono;
    return qint64(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

void SmtpTransport::Private::event(SocketEvent::Type type, QVariantMap fields)
{
    if (!queue)
        return;
    QVariantMap record = SocketEvent::make(type, id, eventArg);
    for (auto it = fields.cbegin(); it != fields.cend(); ++it)
        record.insert(it.key(), it.value());
    queue->push(std::move(record));
}

void SmtpTransport::Private::recordChannelClosed()
{
    if (!channelOpen)
        return;
    channelOpen = false;
    event(SocketEvent::ChannelClosed);
}

void SmtpTransport::Private::stopTimers()
{
    connectTimer->stop();
    tlsTimer->stop();
    deadlineTimer->stop();
}

void SmtpTransport::Private::abortLookup()
{
    if (lookupId != -1) {
        QHostInfo::abortHostLookup(lookupId);
        lookupId = -1;
    }
}

void SmtpTransport::Private::prepare(const Options &opts)
{
    QElapsedTimer clock;
    clock.start();
    preparedConfig.reset();
    prepareError = SmtpError();
    preparedCaFile = opts.caFile;
    preparedProtocol = opts.protocol;
    // TLS settings go on before any byte is exchanged. defaultConfiguration()
    // keeps QSsl::SecureProtocols and VerifyPeer; nothing here lowers them
    // (docs/security.md).
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    if (!opts.caFile.isEmpty()) {
        const QList<QSslCertificate> extra = QSslCertificate::fromPath(opts.caFile, QSsl::Pem);
        if (extra.isEmpty()) {
            prepareError = SmtpError::make(
                SmtpError::Category::Usage, QStringLiteral("SSL-CA-FILE-ERROR"), QStringLiteral("connect"),
                QStringLiteral("no PEM certificate could be read from the CA file '%1': check "
                               "the path and that it holds -----BEGIN CERTIFICATE----- blocks")
                    .arg(opts.caFile));
            tlsSetupUs = usSince(clock);
            preparedConfig = config;
            return;
        }
        // An explicit CA list turns off Qt's on-demand loading of the system
        // store, so the system CAs are put in the list too: the file adds trust,
        // it never replaces it.
        QList<QSslCertificate> cas = config.caCertificates();
        if (cas.isEmpty())
            cas = systemCaCertificates();
        cas += extra;
        config.setCaCertificates(cas);
    }
    config.setPeerVerifyMode(QSslSocket::VerifyPeer);
    // SecureProtocols unless a caller asks for one version (the diagnostics'
    // version scan): never lowered silently.
    config.setProtocol(opts.protocol);
    preparedConfig = config;
    tlsSetupUs = usSince(clock);
}

void SmtpTransport::Private::startConnect(const Options &opts)
{
    options = opts;
    ++generation;
    if (socketUsed)
        replaceSocket();
    socketUsed = true;

    addresses.clear();
    addressIndex = 0;
    attemptErrors.clear();
    peer.clear();
    lookupUs = connectUs = tlsUs = -1;
    connectedMark.invalidate();
    encryptedMark.invalidate();
    if (!preparedConfig)
        tlsSetupUs = -1;
    tls = TlsInfo();
    unignoredErrors.clear();
    pending.clear();
    totalSent = totalToSend = totalRead = 0;
    channelOpen = false;

    QHostAddress literal;
    hostIsLiteral = literal.setAddress(options.host);
    verifyName = options.peerVerifyName.isEmpty() ? options.host : options.peerVerifyName;

    if (options.host.isEmpty() || options.port == 0) {
        setState(State::Connecting);
        fail(SmtpError::make(SmtpError::Category::Usage, QStringLiteral("SOCKET-CONNECT-ERROR"),
                             QStringLiteral("connect"),
                             options.host.isEmpty() ? QStringLiteral("no server host name given")
                                                    : QStringLiteral("no server port given")));
        return;
    }

    if (!preparedConfig || preparedCaFile != options.caFile || preparedProtocol != options.protocol)
        prepare(options);
    if (prepareError.isError()) {
        setState(State::Connecting);
        const SmtpError error = prepareError;
        preparedConfig.reset();
        fail(error);
        return;
    }
    socket->setSslConfiguration(*preparedConfig);
    preparedConfig.reset(); // used once: the next connect prepares again (cheap once the store is loaded)
    // RFC 6066 3 (SNI) and RFC 6125 6 (name check) both use this name. Qt sends
    // no SNI when it is an IP literal, as RFC 6066 requires.
    socket->setPeerVerifyName(verifyName);

    // The connect step starts here, after the TLS set-up: its time is the
    // network's (the set-up is a step of its own, "tls-setup").
    connectClock.start();
    connectTimer->start(options.connectTimeoutMs);

    if (hostIsLiteral) {
        addresses = {literal};
        lookupUs = 0;
        startAttempt();
        return;
    }
    setState(State::LookingUp);
    // The reference's field for this event is "name": the host being looked up.
    event(SocketEvent::HostnameLookup, {{QStringLiteral("name"), options.host}});
    phaseClock.start();
    const quint64 gen = generation;
    lookupId = QHostInfo::lookupHost(options.host, q, [this, gen](const QHostInfo &info) {
        if (gen == generation && state == State::LookingUp)
            onLookup(info);
    });
}

void SmtpTransport::Private::onLookup(const QHostInfo &info)
{
    lookupId = -1;
    lookupUs = usSince(phaseClock);
    addresses = info.addresses();
    if (info.error() != QHostInfo::NoError || addresses.isEmpty()) {
        const QString why = info.error() == QHostInfo::NoError ? QStringLiteral("no address")
                                                               : info.errorString();
        fail(SmtpError::make(SmtpError::Category::Transport, QStringLiteral("SOCKET-CONNECT-ERROR"),
                             QStringLiteral("connect"),
                             QStringLiteral("cannot resolve the host name '%1' (%2): check its "
                                            "spelling and your DNS settings, or give an IP "
                                            "address")
                                 .arg(options.host, why)));
        return;
    }
    startAttempt();
}

void SmtpTransport::Private::startAttempt()
{
    setState(State::Connecting);
    const QHostAddress &address = addresses.at(addressIndex);
    const QVariantMap family{{QStringLiteral("type"), addressFamily(address)},
                             {QStringLiteral("typename"), familyName(address)},
                             {QStringLiteral("address"), address.toString()}};
    if (!hostIsLiteral)
        event(SocketEvent::HostnameResolved, family);
    qCDebug(lcTransport) << "connecting to" << address << options.port;
    // One instant starts the connect step, stamps its CONNECTING event and (via
    // usSincePhaseStarted) the driver's "connecting to" line.
    phaseClock.start();
    QVariantMap connecting = family;
    connecting.insert(QStringLiteral("target"), options.host);
    connecting.insert(QStringLiteral("port"), int(options.port));
    connecting.insert(QStringLiteral("time"), wallClockUs());
    event(SocketEvent::Connecting, connecting);
    const quint64 gen = generation;
    QPointer<SmtpTransport> guard(q);
    Q_EMIT q->connecting(address);
    if (!guard || gen != generation || state != State::Connecting)
        return; // aborted or replaced from the slot
    socket->connectToHost(address, options.port);
}

void SmtpTransport::Private::onSocketConnected()
{
    if (state != State::Connecting)
        return;
    connectUs = usSince(phaseClock);
    connectedMark.start();
    const QVariant connectedAt = wallClockUs();
    peer = socket->peerAddress();
    // Small SMTP commands must not wait for Nagle + delayed ACK (about 40 ms per
    // round trip, test-servers.md); keep-alive notices a silently dead peer.
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    socket->setSocketOption(QAbstractSocket::KeepAliveOption, 1);
    channelOpen = true;
    event(SocketEvent::Connected, {{QStringLiteral("time"), connectedAt}});
    if (stats)
        stats->recordOperation(QStringLiteral("connect"), usSince(connectClock));

    if (options.implicitTls) {
        // RFC 8314 3.3: implicit TLS from the first byte on the submission port.
        setState(State::Handshaking);
        tls.implicit = true;
        phaseClock.start();
        event(SocketEvent::StartSsl, {{QStringLiteral("time"), wallClockUs()}});
        socket->startClientEncryption();
        return;
    }
    finishOpen(false);
}

void SmtpTransport::Private::finishOpen(bool upgrade)
{
    connectTimer->stop();
    tlsTimer->stop();
    setState(State::Open);
    recvWait.start();
    const quint64 gen = generation;
    QPointer<SmtpTransport> guard(q);
    if (upgrade)
        Q_EMIT q->encrypted();
    else
        Q_EMIT q->connected();
    // Data that arrived with the end of the handshake (an implicit-TLS greeting)
    // waited in the socket until we were Open.
    if (guard && gen == generation && state == State::Open && socket->bytesAvailable() > 0)
        readPending();
}

void SmtpTransport::Private::onSslErrors(const QList<QSslError> &errors)
{
    if (state != State::Handshaking && state != State::Upgrading)
        return;
    const QSslCertificate leaf = socket->peerCertificate();
    tls.peerVerifyName = verifyName;
    tls.verificationEnabled = !options.insecure;
    for (const QSslError &e : errors)
        tls.errors.append(describeSslError(e, leaf, verifyName));
    tls.chain = socket->peerCertificateChain();
    if (options.insecure) {
        // Exactly the errors seen, never a blanket ignoreSslErrors() (Trojita
        // CVE-2020-15047): a later, different error still fails.
        socket->ignoreSslErrors(errors);
        qCInfo(lcTransport) << "insecure mode: ignoring" << errors.size() << "certificate errors";
    } else {
        unignoredErrors = errors; // Qt now fails the handshake: onSocketError
    }
}

void SmtpTransport::Private::fillTlsInfo()
{
    const QSslCipher cipher = socket->sessionCipher();
    tls.encrypted = true;
    tls.protocol = protocolName(socket->sessionProtocol(), cipher);
    tls.cipher = cipher.name();
    tls.cipherBits = cipher.usedBits();
    tls.peerVerifyName = verifyName;
    tls.verificationEnabled = !options.insecure;
    tls.verified = tls.errors.isEmpty();
    tls.chain = socket->peerCertificateChain();
}

void SmtpTransport::Private::onEncrypted()
{
    // Queued: runs from the event loop, after Qt's handshake code has returned.
    if (state != State::Handshaking && state != State::Upgrading)
        return;
    tlsUs = usSince(phaseClock);
    encryptedMark.start();
    // One instant for the step's end, its event and the driver's line (stamped
    // back with usSinceEncrypted), whatever reading the certificates costs after.
    const QVariant encryptedAt = wallClockUs();
    const QSslCipher cipher = socket->sessionCipher();
    event(SocketEvent::SslEstablished, {{QStringLiteral("cipher"), cipher.name()},
                                        {QStringLiteral("cipher_version"),
                                         protocolName(socket->sessionProtocol(), cipher)},
                                        {QStringLiteral("time"), encryptedAt}});
    fillTlsInfo();
    if (stats)
        stats->recordOperation(QStringLiteral("tls-handshake"), tlsUs);
    qCDebug(lcTransport) << "TLS up:" << tls.protocol << tls.cipher << "verified" << tls.verified;
    finishOpen(state == State::Upgrading);
}

SmtpError SmtpTransport::Private::connectError(QAbstractSocket::SocketError error) const
{
    QString message;
    switch (error) {
    case QAbstractSocket::ConnectionRefusedError:
        message = QStringLiteral("the connection to %1 was refused: no server listens on port %2 "
                                 "there. Is the port right? SMTP servers listen on 25 (relay), "
                                 "587 (submission, STARTTLS) or 465 (implicit TLS)")
                      .arg(target())
                      .arg(options.port);
        break;
    case QAbstractSocket::NetworkError:
        message = QStringLiteral("%1 cannot be reached (%2): check the network connection, "
                                 "a VPN, or a firewall")
                      .arg(target(), socket->errorString());
        break;
    case QAbstractSocket::SocketAccessError:
        message = QStringLiteral("connecting to %1 is not permitted (%2): a firewall or sandbox "
                                 "blocks outgoing connections")
                      .arg(target(), socket->errorString());
        break;
    default:
        message = QStringLiteral("cannot connect to %1: %2").arg(target(), socket->errorString());
        break;
    }
    if (attemptErrors.size() > 1)
        message += QStringLiteral(" (tried %1)").arg(attemptErrors.join(QStringLiteral("; ")));
    return SmtpError::make(SmtpError::Category::Transport, QStringLiteral("SOCKET-CONNECT-ERROR"),
                           QStringLiteral("connect"), message);
}

SmtpError SmtpTransport::Private::handshakeError(QAbstractSocket::SocketError error) const
{
    const QString step = QStringLiteral("TLS handshake");
    const bool implicit = state == State::Handshaking;
    if (!unignoredErrors.isEmpty()) {
        QStringList reasons;
        for (const TlsInfo::CertificateError &e : tls.errors)
            reasons.append(e.reason);
        reasons.removeDuplicates(); // one fault often yields two codes with the same meaning
        return SmtpError::make(
            SmtpError::Category::Tls, QStringLiteral("SSL-VERIFY-ERROR"), step,
            QStringLiteral("the server's certificate cannot be trusted for %1: %2. Check the "
                           "host name, or give the CA certificate that issued it as the CA "
                           "file; turn verification off only for a server you control")
                .arg(verifyName, reasons.join(QStringLiteral("; "))));
    }
    const QString detail = socket->errorString();
    if (error == QAbstractSocket::RemoteHostClosedError) {
        return SmtpError::make(
            SmtpError::Category::Tls, QStringLiteral("SOCKET-CLOSED"), step,
            implicit ? QStringLiteral("%1 closed the connection during the TLS handshake: it may "
                                      "not speak TLS on port %2 (try STARTTLS, usually on port "
                                      "587 or 25), or it refused every TLS version and cipher we "
                                      "offer")
                           .arg(target())
                           .arg(options.port)
                     : QStringLiteral("%1 closed the connection during the STARTTLS handshake: "
                                      "it refused every TLS version and cipher we offer, or "
                                      "something on the path interferes with TLS")
                           .arg(target()));
    }
    if (looksLikePlaintextPeer(detail)) {
        return SmtpError::make(
            SmtpError::Category::Tls, QStringLiteral("SSL-HANDSHAKE-ERROR"), step,
            implicit ? QStringLiteral("%1 answered the TLS handshake in plaintext (%2): this port "
                                      "speaks plain SMTP. Connect without implicit TLS and use "
                                      "STARTTLS (usually port 587 or 25), or use the implicit "
                                      "TLS port (usually 465)")
                           .arg(target(), detail)
                     : QStringLiteral("%1 sent data that is not TLS after its STARTTLS reply "
                                      "(%2): the server does not really start TLS, or data is "
                                      "being injected on the path")
                           .arg(target(), detail));
    }
    return SmtpError::make(
        SmtpError::Category::Tls, QStringLiteral("SSL-HANDSHAKE-ERROR"), step,
        QStringLiteral("the TLS handshake with %1 failed: %2. The server may only offer TLS "
                       "versions or ciphers considered insecure (older than TLS 1.2)")
            .arg(target(), detail));
}

void SmtpTransport::Private::onSocketError(QAbstractSocket::SocketError error)
{
    qCDebug(lcTransport) << "socket error" << error << socket->errorString() << "in"
                         << stateName(state);
    switch (state) {
    case State::Connecting: {
        attemptErrors.append(QStringLiteral("%1: %2").arg(addresses.at(addressIndex).toString(),
                                                          socket->errorString()));
        if (addressIndex + 1 < addresses.size()) {
            // Next address, from the event loop: the socket may not be ready
            // for a new connect inside its own error signal (QAbstractSocket docs).
            ++addressIndex;
            const quint64 gen = generation;
            QTimer::singleShot(0, q, [this, gen] {
                if (gen != generation || state != State::Connecting)
                    return;
                socket->abort();
                startAttempt();
            });
            return;
        }
        fail(connectError(error));
        return;
    }
    case State::Handshaking:
    case State::Upgrading:
        fail(handshakeError(error));
        return;
    case State::Open:
    case State::Closing:
        if (error == QAbstractSocket::RemoteHostClosedError) {
            remoteClosed();
            return;
        }
        readPending(); // what arrived before the error still counts
        if (state != State::Open && state != State::Closing)
            return;
        fail(SmtpError::make(
            (error == QAbstractSocket::SslInternalError
             || error == QAbstractSocket::SslInvalidUserDataError)
                ? SmtpError::Category::Tls
                : SmtpError::Category::Transport,
            QStringLiteral("SOCKET-CLOSED"), QStringLiteral("connection"),
            QStringLiteral("the connection to %1 was lost: %2").arg(target(), socket->errorString())));
        return;
    case State::Idle:
    case State::LookingUp:
    case State::Closed:
        return;
    }
}

void SmtpTransport::Private::onDisconnected()
{
    switch (state) {
    case State::Open:
    case State::Closing:
        remoteClosed();
        return;
    case State::Connecting:
    case State::Handshaking:
    case State::Upgrading:
        // Normally errorOccurred came first and we are Closed already.
        fail(SmtpError::make(SmtpError::Category::Transport, QStringLiteral("SOCKET-CLOSED"),
                             state == State::Connecting ? QStringLiteral("connect")
                                                        : QStringLiteral("TLS handshake"),
                             QStringLiteral("%1 closed the connection").arg(target())));
        return;
    default:
        return;
    }
}

void SmtpTransport::Private::remoteClosed()
{
    // Hand up whatever the peer sent before closing, then report the close.
    readPending();
    if (state != State::Open && state != State::Closing)
        return; // the caller aborted or reconnected while handling the data
    setState(State::Closed);
    stopTimers();
    recordChannelClosed();
    // The socket is half-dead inside its own signal: finish it from the event loop.
    QPointer<QSslSocket> s = socket;
    QTimer::singleShot(0, q, [s] {
        if (s)
            s->abort();
    });
    Q_EMIT q->closed();
}

void SmtpTransport::Private::readPending()
{
    const qint64 available = socket->bytesAvailable();
    if (available <= 0)
        return;
    const QByteArray data = socket->readAll();
    const qint64 n = data.size();
    totalRead += n;
    const qint64 us = usSince(recvWait);
    recvWait.start();
    if (stats) {
        stats->recordReceived(n, us);
        stats->recordTransfer(QStringLiteral("recv"), n, us);
        stats->recordOperation(QStringLiteral("receive"), us);
    }
    if (queue) {
        QVariantMap fields{{QStringLiteral("read"), n}, {QStringLiteral("total_read"), totalRead}};
        if (withData)
            fields.insert(QStringLiteral("data"), data);
        event(SocketEvent::PacketRead, fields);
    }
    Q_EMIT q->received(data);
}

void SmtpTransport::Private::onBytesWritten(qint64 n)
{
    if (n <= 0 || pending.empty())
        return;
    totalSent += n;
    const qint64 us = usSince(sendBusy);
    sendBusy.start();
    if (stats)
        stats->recordSent(n, us);

    QByteArray sent;
    qint64 left = n;
    while (left > 0 && !pending.empty()) {
        PendingWrite &w = pending.front();
        const qint64 take = qMin(left, w.size - w.done);
        if (withData)
            sent += w.data.mid(w.done, take);
        w.done += take;
        left -= take;
        if (w.done == w.size) {
            const qint64 whole = usSince(w.clock);
            if (stats) {
                stats->recordTransfer(QStringLiteral("send"), w.size, whole);
                stats->recordOperation(QStringLiteral("send"), whole);
            }
            pending.pop_front();
            if (pending.empty())
                recvWait.start(); // the request is out: now we wait for the answer
        }
    }
    if (queue) {
        QVariantMap fields{{QStringLiteral("socket"), qint64(socket->socketDescriptor())},
                           {QStringLiteral("sent"), n},
                           {QStringLiteral("total_sent"), totalSent},
                           {QStringLiteral("total_to_send"), totalToSend}};
        if (withData)
            fields.insert(QStringLiteral("data"), sent);
        event(SocketEvent::PacketSent, fields);
    }
    Q_EMIT q->bytesWritten(n);
}

void SmtpTransport::Private::onConnectTimeout()
{
    switch (state) {
    case State::LookingUp:
        fail(SmtpError::make(SmtpError::Category::Transport, QStringLiteral("SOCKET-TIMEOUT"),
                             QStringLiteral("connect"),
                             QStringLiteral("looking up '%1' took more than %2 ms: check your DNS "
                                            "settings, or give an IP address")
                                 .arg(options.host)
                                 .arg(options.connectTimeoutMs)));
        return;
    case State::Connecting:
        attemptErrors.append(QStringLiteral("%1: no answer").arg(addresses.at(addressIndex).toString()));
        fail(SmtpError::make(SmtpError::Category::Transport, QStringLiteral("SOCKET-TIMEOUT"),
                             QStringLiteral("connect"),
                             QStringLiteral("no TCP connection to %1 within %2 ms (tried %3): a "
                                            "firewall may drop the packets, or the host is down")
                                 .arg(target())
                                 .arg(options.connectTimeoutMs)
                                 .arg(attemptErrors.join(QStringLiteral("; ")))));
        return;
    case State::Handshaking:
        fail(SmtpError::make(SmtpError::Category::Tls, QStringLiteral("SOCKET-TIMEOUT"),
                             QStringLiteral("TLS handshake"),
                             QStringLiteral("%1 did not complete the TLS handshake within %2 ms: "
                                            "it may be waiting for plain SMTP (then use STARTTLS, "
                                            "usually on port 587 or 25, instead of implicit TLS), "
                                            "or it is overloaded")
                                 .arg(target())
                                 .arg(options.connectTimeoutMs)));
        return;
    case State::Closing:
        // A graceful close that could not flush in time: give up on it.
        setState(State::Closed);
        stopTimers();
        socket->abort();
        recordChannelClosed();
        Q_EMIT q->closed();
        return;
    default:
        return;
    }
}

void SmtpTransport::Private::onTlsTimeout()
{
    if (state != State::Upgrading)
        return;
    fail(SmtpError::make(SmtpError::Category::Tls, QStringLiteral("SOCKET-TIMEOUT"),
                         QStringLiteral("TLS handshake"),
                         QStringLiteral("%1 did not complete the STARTTLS handshake within %2 ms: "
                                        "the server accepted STARTTLS but does not answer TLS")
                             .arg(target())
                             .arg(options.tlsTimeoutMs)));
}

QByteArray SmtpTransport::Private::unreadBytes() const
{
    // Our own buffer first: anything Qt already read but nobody consumed.
    QByteArray bytes = socket->peek(socket->bytesAvailable());
    // Then the kernel's receive queue, looked at without taking anything: bytes
    // that arrived after the last read would otherwise be fed to OpenSSL as if
    // they were the server's first TLS record.
    const qintptr fd = socket->socketDescriptor();
    if (fd != -1) {
        char buf[512];
#if defined(Q_OS_WIN)
        const int got = ::recv(SOCKET(fd), buf, int(sizeof buf), MSG_PEEK);
#else
        const auto got = ::recv(int(fd), buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
#endif
        if (got > 0)
            bytes.append(buf, qsizetype(got));
    }
    return bytes;
}

void SmtpTransport::Private::fail(SmtpError error)
{
    qCInfo(lcTransport).noquote() << "failed in" << stateName(state) << ":" << error.toString();
    abortLookup();
    stopTimers();
    setState(State::Closed);
    recordChannelClosed();
    pending.clear();
    // From here on every socket signal is ignored and nothing can be written.
    // The abort and the signal come from the event loop (see the top of the
    // file), unless the caller aborts or reconnects first.
    const quint64 gen = generation;
    QTimer::singleShot(0, q, [this, gen, error] {
        if (gen != generation)
            return;
        socket->abort();
        Q_EMIT q->failed(error);
    });
}

// ---------------------------------------------------------------------------

SmtpTransport::SmtpTransport(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>(this))
{
    d->attachSocket();
}

SmtpTransport::~SmtpTransport()
{
    ++d->generation;
    d->abortLookup();
    d->stopTimers();
    QObject::disconnect(d->socket, nullptr, this, nullptr);
    d->socket->abort();
    delete d->socket;
    d->socket = nullptr;
    d->recordChannelClosed();
    d->event(SocketEvent::Deleted);
}

void SmtpTransport::setEventQueue(EventQueue *queue, const QVariant &arg, bool withData, qint64 id)
{
    d->queue = queue;
    d->eventArg = arg;
    d->withData = withData;
    d->id = id;
}

void SmtpTransport::setStats(UsageStats *stats)
{
    d->stats = stats;
}

qint64 SmtpTransport::prepare(const Options &options)
{
    d->prepare(options);
    return d->tlsSetupUs;
}

void SmtpTransport::preload()
{
    (void)QSslConfiguration::defaultConfiguration();
    (void)systemCaCertificates();
}

void SmtpTransport::connectToServer(const Options &options)
{
    if (d->state != State::Idle && d->state != State::Closed) {
        // A new connection replaces the old one without signals for the old.
        d->abortLookup();
        d->stopTimers();
        d->recordChannelClosed();
    }
    d->startConnect(options);
}

void SmtpTransport::write(const QByteArray &data, const QByteArray &shown)
{
    if (d->state != State::Open) {
        // Before connected()/encrypted() a byte could leave in plaintext or
        // before the certificate is checked; after a close it has nowhere to go.
        qCWarning(lcTransport) << "write of" << data.size() << "bytes refused in state"
                               << stateName(d->state);
        return;
    }
    if (data.isEmpty())
        return;
    const qint64 queued = d->socket->write(data);
    if (queued != data.size()) {
        d->fail(SmtpError::make(SmtpError::Category::Transport, QStringLiteral("SOCKET-CLOSED"),
                                QStringLiteral("connection"),
                                QStringLiteral("cannot write to %1: %2")
                                    .arg(d->target(), d->socket->errorString())));
        return;
    }
    if (d->pending.empty())
        d->sendBusy.start();
    Private::PendingWrite w;
    if (d->withData)
        w.data = shown.size() == data.size() ? shown : data;
    w.size = data.size();
    w.clock.start();
    d->pending.push_back(std::move(w));
    d->totalToSend += data.size();
    // A small write (a pipelined group, a small message) goes to the kernel now
    // rather than on the next event-loop pass: the client is waiting on that
    // round trip. Bulk data keeps Qt's notifier-paced writes. flush() may emit
    // bytesWritten() at once, so the write is accounted for before it.
    if (queued <= 64 * 1024)
        d->socket->flush();
}

void SmtpTransport::startTls()
{
    if (d->state != State::Open || d->socket->isEncrypted()) {
        d->fail(SmtpError::make(SmtpError::Category::Usage, QStringLiteral("SSL-HANDSHAKE-ERROR"),
                                QStringLiteral("TLS handshake"),
                                d->socket->isEncrypted()
                                    ? QStringLiteral("TLS is already active on this connection")
                                    : QStringLiteral("STARTTLS needs an open connection")));
        return;
    }
    // RFC 3207 4.2 / CVE-2021-22947: the server must send nothing between its 220
    // and the handshake. Bytes here were not protected by TLS and Qt would hand
    // them up after the handshake as if they had been: refuse the connection.
    const QByteArray early = d->unreadBytes();
    if (!early.isEmpty()) {
        SmtpError e = SmtpError::make(
            SmtpError::Category::Tls, QStringLiteral("SSL-HANDSHAKE-ERROR"),
            QStringLiteral("TLS handshake"),
            QStringLiteral("data received between the STARTTLS reply and the TLS handshake "
                           "(%1 bytes: \"%2\"): they are not protected by TLS and may have "
                           "been injected on the path (RFC 3207 section 4.2), so the connection "
                           "was closed")
                .arg(early.size())
                .arg(Smtp::printable(early, 160)));
        e.serverText = early;
        d->fail(std::move(e));
        return;
    }
    d->setState(State::Upgrading);
    d->tls = TlsInfo();
    d->tls.implicit = false;
    d->unignoredErrors.clear();
    // One instant starts the "tls" step, stamps START_SSL and (via
    // usSincePhaseStarted) the driver's "starting TLS" line.
    d->phaseClock.start();
    d->event(SocketEvent::StartSsl, {{QStringLiteral("time"), wallClockUs()}});
    const QPointer<SmtpTransport> guard(this);
    Q_EMIT startingTls();
    if (!guard || d->state != State::Upgrading)
        return; // aborted from the slot
    d->tlsTimer->start(d->options.tlsTimeoutMs);
    d->socket->startClientEncryption();
}

void SmtpTransport::setDeadline(int ms)
{
    d->deadlineTimer->start(qMax(ms, 0));
}

void SmtpTransport::clearDeadline()
{
    d->deadlineTimer->stop();
}

void SmtpTransport::disconnectFromServer()
{
    switch (d->state) {
    case State::Open:
        d->setState(State::Closing);
        d->deadlineTimer->stop();
        // Pending writes are flushed first (and a TLS close_notify sent); the
        // connect timeout bounds that flush.
        d->connectTimer->start(d->options.connectTimeoutMs);
        d->socket->disconnectFromHost(); // may emit disconnected() at once: onDisconnected
        return;
    case State::LookingUp:
    case State::Connecting:
    case State::Handshaking:
    case State::Upgrading:
        abort();
        return;
    case State::Idle:
    case State::Closing:
    case State::Closed:
        return;
    }
}

void SmtpTransport::abort()
{
    const bool wasOpen = d->state == State::Open || d->state == State::Upgrading
                      || d->state == State::Closing;
    ++d->generation; // drops a queued failed() or retry
    d->abortLookup();
    d->stopTimers();
    d->pending.clear();
    if (d->state != State::Idle)
        d->setState(State::Closed);
    d->socket->abort(); // our slots see Closed and stay quiet
    d->recordChannelClosed();
    if (wasOpen)
        Q_EMIT closed();
}

bool SmtpTransport::isOpen() const
{
    return d->state == State::Open || d->state == State::Upgrading;
}

bool SmtpTransport::isEncrypted() const
{
    return d->state == State::Open && d->socket->isEncrypted();
}

qint64 SmtpTransport::bytesToWrite() const
{
    return d->socket->bytesToWrite() + d->socket->encryptedBytesToWrite();
}

TlsInfo SmtpTransport::tlsInfo() const
{
    return d->tls;
}

QHostAddress SmtpTransport::peerAddress() const
{
    return d->peer;
}

QList<QHostAddress> SmtpTransport::resolvedAddresses() const
{
    return d->addresses;
}

qint64 SmtpTransport::usSinceConnected() const
{
    return d->connectedMark.isValid() ? d->connectedMark.nsecsElapsed() / 1000 : 0;
}

qint64 SmtpTransport::usSincePhaseStarted() const
{
    return d->phaseClock.isValid() ? d->phaseClock.nsecsElapsed() / 1000 : 0;
}

qint64 SmtpTransport::usSinceEncrypted() const
{
    return d->encryptedMark.isValid() ? d->encryptedMark.nsecsElapsed() / 1000 : 0;
}

QVariantMap SmtpTransport::timings() const
{
    QVariantMap map;
    if (d->tlsSetupUs >= TlsSetupReportUs)
        map.insert(QStringLiteral("tls-setup"), d->tlsSetupUs);
    if (d->lookupUs >= 0)
        map.insert(QStringLiteral("lookup"), d->lookupUs);
    if (d->connectUs >= 0)
        map.insert(QStringLiteral("connect"), d->connectUs);
    if (d->tlsUs >= 0)
        map.insert(QStringLiteral("tls"), d->tlsUs);
    return map;
}
