#include "smtpclient.h"

#include "events/eventqueue.h"
#include "events/usagestats.h"
#include "smtpdriver.h"

#include "transport/smtptransport.h"

#include <QAtomicInteger>
#include <QHostAddress>
#include <QMetaObject>
#include <QThread>
#include <future>

namespace {

QAtomicInteger<qint64> g_nextClientId = 1;

[[noreturn]] void raise(SmtpError::Category category, const QString &code, const QString &message)
{
    throw SmtpException(SmtpError::make(category, code, QString(), message));
}

} // namespace

struct SmtpClient::Private
{
    // Guards the settings below and serialises public calls (the reference's mutex).
    mutable QMutex mutex;
    ClientOptions options;
    UsageStats stats;
    QThread thread;
    Driver *driver = nullptr;
    LogFunction dbglog;

    Private(LogFunction log, LogFunction dbg)
        : dbglog(dbg)
    {
        options.clientId = g_nextClientId.fetchAndAddRelaxed(1);
        driver = new Driver(&stats, LogFunctionPair{std::move(log), std::move(dbg), {}});
        thread.setObjectName(QStringLiteral("smtpclient-%1").arg(options.clientId));
        driver->moveToThread(&thread);
        thread.start();
    }

    ~Private()
    {
        // Delete the driver (and its socket) on its own thread, then stop it.
        QMetaObject::invokeMethod(driver, [d = driver] { delete d; }, Qt::BlockingQueuedConnection);
        thread.quit();
        thread.wait();
    }

    // Runs one job on the worker thread and waits for its outcome. The caller
    // holds `mutex`.
    DriverOutcome run(DriverJob job)
    {
        std::promise<DriverOutcome> promise;
        std::future<DriverOutcome> future = promise.get_future();
        QMetaObject::invokeMethod(
            driver,
            [d = driver, job = std::move(job), &promise]() mutable {
                d->run(std::move(job), [&promise](DriverOutcome out) { promise.set_value(std::move(out)); });
            },
            Qt::QueuedConnection);
        // No timeout here: every network wait inside the driver has its own.
        return future.get();
    }

    DriverJob job(DriverJob::Kind kind) const
    {
        DriverJob j;
        j.kind = kind;
        j.options = options;
        return j;
    }
};

QVariantMap SmtpClient::protocols()
{
    QVariantMap out;
    for (const SmtpUrl::Scheme &s : SmtpUrl::schemes()) {
        out.insert(QString::fromLatin1(s.name),
                   QVariantMap{{QStringLiteral("port"), s.port}, {QStringLiteral("ssl"), s.ssl}, {QStringLiteral("tls"), s.tls}});
    }
    return out;
}

SmtpClient::SmtpClient(const QString &host, int port, LogFunction log, LogFunction dbglog)
    : d(std::make_unique<Private>(std::move(log), std::move(dbglog)))
{
    QString h = host.trimmed();
    if (h.startsWith(u'[') && h.endsWith(u']'))
        h = h.mid(1, h.size() - 2);
    if (h.isEmpty())
        raise(SmtpError::Category::Usage, QStringLiteral("PARSE-URL-ERROR"), QStringLiteral("the host name is empty"));
    if (port <= 0 || port > 65535)
        raise(SmtpError::Category::Usage, QStringLiteral("PARSE-URL-ERROR"),
              QStringLiteral("port %1 is not a valid TCP port (1-65535)").arg(port));
    d->options.settings.host = h;
    d->options.settings.port = quint16(port);
}

SmtpClient::SmtpClient(const QString &url, LogFunction log, LogFunction dbglog)
    : d(std::make_unique<Private>(std::move(log), std::move(dbglog)))
{
    SmtpError error;
    const auto parsed = SmtpUrl::parse(url, &error);
    if (!parsed)
        throw SmtpException(error);
    if (parsed->unixSocket)
        raise(SmtpError::Category::Usage, QStringLiteral("PARSE-URL-ERROR"),
              QStringLiteral("UNIX socket paths are not supported; use host:port"));
    d->options.settings.host = parsed->host;
    d->options.settings.port = parsed->port;
    d->options.settings.security = parsed->ssl ? ConnectionSettings::Security::ImplicitTls
        : parsed->tls                          ? ConnectionSettings::Security::StartTlsRequired
                                               : ConnectionSettings::Security::StartTlsOpportunistic;
    d->options.settings.user = parsed->user;
    d->options.settings.password = parsed->password;
}

SmtpClient::~SmtpClient()
{
    try {
        if (isConnected())
            disconnect();
    } catch (const SmtpException &e) {
        if (d->dbglog)
            d->dbglog(QStringLiteral("error while disconnecting: %1").arg(e.error().toString()));
    }
}

void SmtpClient::connect()
{
    QMutexLocker lock(&d->mutex);
    DriverOutcome out = d->run(d->job(DriverJob::Kind::Connect));
    if (out.error.isError())
        throw SmtpException(out.error);
}

void SmtpClient::disconnect()
{
    QMutexLocker lock(&d->mutex);
    DriverOutcome out = d->run(d->job(DriverJob::Kind::Quit));
    if (out.error.isError())
        throw SmtpException(out.error);
}

void SmtpClient::forceDisconnect()
{
    // Stop anything in progress first (not serialised), then close under the lock.
    cancel();
    QMutexLocker lock(&d->mutex);
    QMetaObject::invokeMethod(d->driver, [dr = d->driver] { dr->forceClose(); }, Qt::BlockingQueuedConnection);
}

bool SmtpClient::isConnected() const
{
    QMutexLocker lock(&d->mutex);
    // Reference: in test mode the client always reports itself connected.
    return d->options.settings.testMode || d->driver->isConnected();
}

SendResult SmtpClient::sendMessage(const OutgoingMessage &message)
{
    QMutexLocker lock(&d->mutex);
    // Reference: an incomplete message raises MESSAGE-ERROR before any I/O.
    const SmtpError check = message.checkSendPossible();
    if (check.isError())
        throw SmtpException(check);
    DriverJob job = d->job(DriverJob::Kind::Send);
    job.messages = {&message};
    job.quitAfter = !d->options.settings.keepAlive;
    DriverOutcome out = d->run(std::move(job));
    if (out.results.isEmpty())
        throw SmtpException(out.error.isError() ? out.error
                                                : SmtpError::make(SmtpError::Category::Usage, QStringLiteral("SMTP-STATE-ERROR"),
                                                                  QString(), QStringLiteral("nothing was sent")));
    SendResult r = std::move(out.results.first());
    r.transcript = out.session.transcript;
    r.timings = out.session.timings + r.timings;
    r.simulatedWire = out.session.simulatedWire;
    r.simulatedWireBytes = out.session.simulatedWireBytes;
    r.simulatedWireSha256 = out.session.simulatedWireSha256;
    if (r.error.isError())
        throw SmtpException(r.error);
    return r;
}

QList<SendResult> SmtpClient::sendMessages(const QList<const OutgoingMessage *> &messages)
{
    QMutexLocker lock(&d->mutex);
    DriverJob job = d->job(DriverJob::Kind::Send);
    job.messages = messages;
    job.quitAfter = !d->options.settings.keepAlive;
    DriverOutcome out = d->run(std::move(job));
    // The session could not be had at all (connect, TLS, AUTH): nothing was sent.
    const bool anyStarted = std::any_of(out.results.begin(), out.results.end(),
                                        [](const SendResult &r) { return r.mail.isValid(); });
    if (out.error.isError() && !anyStarted)
        throw SmtpException(out.error);
    return out.results;
}

void SmtpClient::cancel()
{
    QMetaObject::invokeMethod(d->driver, [dr = d->driver] { dr->abort(QStringLiteral("cancelled by the user")); },
                              Qt::QueuedConnection);
}

SendResult SmtpClient::sessionInfo() const
{
    QMutexLocker lock(&d->mutex);
    SendResult r;
    QMetaObject::invokeMethod(d->driver, [dr = d->driver, &r] { r = dr->sessionInfo(); }, Qt::BlockingQueuedConnection);
    return r;
}

// ---------------------------------------------------------------- settings

// The reference's flags are views over the one security mode: setting one
// clears the other (exclusive, as in the reference); clearing the one that is
// on falls back to its default, STARTTLS when offered.
bool SmtpClient::tls() const { QMutexLocker lock(&d->mutex); return d->options.settings.tls(); }
void SmtpClient::tls(bool on)
{
    QMutexLocker lock(&d->mutex);
    ConnectionSettings &s = d->options.settings;
    if (on)
        s.security = ConnectionSettings::Security::StartTlsRequired;
    else if (s.tls())
        s.security = ConnectionSettings::Security::StartTlsOpportunistic;
}
bool SmtpClient::ssl() const { QMutexLocker lock(&d->mutex); return d->options.settings.ssl(); }
void SmtpClient::ssl(bool on)
{
    QMutexLocker lock(&d->mutex);
    ConnectionSettings &s = d->options.settings;
    if (on)
        s.security = ConnectionSettings::Security::ImplicitTls;
    else if (s.ssl())
        s.security = ConnectionSettings::Security::StartTlsOpportunistic;
}
bool SmtpClient::test() const { QMutexLocker lock(&d->mutex); return d->options.settings.testMode; }
void SmtpClient::test(bool on) { QMutexLocker lock(&d->mutex); d->options.settings.testMode = on; }

void SmtpClient::setUserPass(const QString &user, const QString &password)
{
    QMutexLocker lock(&d->mutex);
    d->options.settings.user = user;
    d->options.settings.password = password;
    d->options.settings.oauthToken.clear();
}

void SmtpClient::setOAuthToken(const QString &user, const QByteArray &token)
{
    QMutexLocker lock(&d->mutex);
    d->options.settings.user = user;
    d->options.settings.password.clear();
    d->options.settings.oauthToken = token;
}

void SmtpClient::setConnectTimeout(int ms) { QMutexLocker lock(&d->mutex); d->options.settings.connectTimeoutMs = std::max(1, ms); }
int SmtpClient::getConnectTimeoutMs() const { QMutexLocker lock(&d->mutex); return d->options.settings.connectTimeoutMs; }
std::chrono::milliseconds SmtpClient::getConnectTimeoutDate() const { return std::chrono::milliseconds(getConnectTimeoutMs()); }
void SmtpClient::setReadTimeout(int ms) { QMutexLocker lock(&d->mutex); d->options.settings.readTimeoutMs = std::max(1, ms); }
int SmtpClient::getReadTimeoutMs() const { QMutexLocker lock(&d->mutex); return d->options.settings.readTimeoutMs; }
std::chrono::milliseconds SmtpClient::getReadTimeoutDate() const { return std::chrono::milliseconds(getReadTimeoutMs()); }
void SmtpClient::setDataTimeout(int ms) { QMutexLocker lock(&d->mutex); d->options.settings.dataTimeoutMs = std::max(1, ms); }
int SmtpClient::getDataTimeoutMs() const { QMutexLocker lock(&d->mutex); return d->options.settings.dataTimeoutMs; }

QString SmtpClient::getTarget() const
{
    QMutexLocker lock(&d->mutex);
    return d->options.settings.target();
}

QVariantMap SmtpClient::getUsageInfo() const { return d->stats.usageInfo(); }
void SmtpClient::clearStats() { d->stats.clear(); }

void SmtpClient::setEventQueue(EventQueue *queue, const QVariant &arg, bool withData)
{
    if (queue && queue->maxSize() > 0)
        raise(SmtpError::Category::Usage, QStringLiteral("QUEUE-ERROR"),
              QStringLiteral("the event queue has a maximum size (%1); events must never be dropped, so use an "
                             "unbounded queue")
                  .arg(queue->maxSize()));
    QMutexLocker lock(&d->mutex);
    d->options.eventQueue = queue;
    d->options.eventArg = arg;
    d->options.eventData = withData;
    QMetaObject::invokeMethod(
        d->driver, [dr = d->driver, queue, arg, withData] { dr->setEventQueue(queue, arg, withData); },
        Qt::BlockingQueuedConnection);
}

void SmtpClient::setTranscriptFunction(TranscriptFunction f)
{
    QMutexLocker lock(&d->mutex);
    QMetaObject::invokeMethod(
        d->driver, [dr = d->driver, f = std::move(f)]() mutable { dr->setTranscriptFunction(std::move(f)); },
        Qt::BlockingQueuedConnection);
}

void SmtpClient::setTestWireFunction(WireFunction f)
{
    QMutexLocker lock(&d->mutex);
    QMetaObject::invokeMethod(
        d->driver, [dr = d->driver, f = std::move(f)]() mutable { dr->setTestWireFunction(std::move(f)); },
        Qt::BlockingQueuedConnection);
}

void SmtpClient::setEventQueue()
{
    QMutexLocker lock(&d->mutex);
    d->options.eventQueue = nullptr;
    d->options.eventArg.clear();
    d->options.eventData = false;
    QMetaObject::invokeMethod(d->driver, [dr = d->driver] { dr->setEventQueue(nullptr, QVariant(), false); },
                              Qt::BlockingQueuedConnection);
}

void SmtpClient::setWarningQueue(int warningMs, int warningBs, EventQueue *queue, const QVariant &arg, int minMs)
{
    if (queue && queue->maxSize() > 0)
        raise(SmtpError::Category::Usage, QStringLiteral("QUEUE-ERROR"),
              QStringLiteral("the warning queue has a maximum size; use an unbounded queue"));
    if (!d->stats.setWarningQueue(warningMs, warningBs, queue, arg, minMs))
        raise(SmtpError::Category::Usage, QStringLiteral("SOCKET-SETWARNINGQUEUE-ERROR"),
              QStringLiteral("at least one of warning_ms and warning_bs must be greater than 0"));
}

void SmtpClient::clearWarningQueue() { d->stats.clearWarningQueue(); }

void SmtpClient::setStartTlsPolicy(StartTlsPolicy policy)
{
    // Only between the two modes that do not require TLS: a required mode set
    // by tls() or ssl() stays.
    QMutexLocker lock(&d->mutex);
    ConnectionSettings &s = d->options.settings;
    if (!s.tlsRequired())
        s.security = policy == StartTlsPolicy::Never ? ConnectionSettings::Security::Plain
                                                     : ConnectionSettings::Security::StartTlsOpportunistic;
}
void SmtpClient::setAuthMechanism(const QString &mechanism) { QMutexLocker lock(&d->mutex); d->options.settings.mechanism = mechanism.toUpper(); }
void SmtpClient::setAllowPlaintextAuth(bool allow) { QMutexLocker lock(&d->mutex); d->options.settings.allowPlaintextAuth = allow; }
void SmtpClient::setCaFile(const QString &path) { QMutexLocker lock(&d->mutex); d->options.settings.caFile = path; }
void SmtpClient::setInsecure(bool insecure) { QMutexLocker lock(&d->mutex); d->options.settings.verifyPeer = !insecure; }
void SmtpClient::setPeerVerifyName(const QString &name) { QMutexLocker lock(&d->mutex); d->options.settings.peerName = name; }
void SmtpClient::setEhloName(const QString &name) { QMutexLocker lock(&d->mutex); d->options.settings.ehloName = name; }
void SmtpClient::setKeepAlive(bool keepAlive) { QMutexLocker lock(&d->mutex); d->options.settings.keepAlive = keepAlive; }
bool SmtpClient::keepAlive() const { QMutexLocker lock(&d->mutex); return d->options.settings.keepAlive; }
void SmtpClient::setShowSecrets(bool show) { QMutexLocker lock(&d->mutex); d->options.settings.showSecrets = show; }
void SmtpClient::setPipelining(bool use) { QMutexLocker lock(&d->mutex); d->options.settings.pipelining = use; }
void SmtpClient::setChunking(bool use) { QMutexLocker lock(&d->mutex); d->options.settings.chunking = use; }

void SmtpClient::preloadTls()
{
    SmtpTransport::preload();
}

void SmtpClient::setSettings(const ConnectionSettings &settings)
{
    if (const QString problem = settings.validationProblem(); !problem.isEmpty())
        raise(SmtpError::Category::Usage, QStringLiteral("SETTINGS-ERROR"), problem);
    QMutexLocker lock(&d->mutex);
    d->options.settings = settings;
    d->options.settings.mechanism = settings.mechanism.toUpper();
    if (d->options.settings.host.startsWith(u'[') && d->options.settings.host.endsWith(u']'))
        d->options.settings.host = d->options.settings.host.mid(1, d->options.settings.host.size() - 2);
}

ConnectionSettings SmtpClient::settings() const
{
    QMutexLocker lock(&d->mutex);
    return d->options.settings;
}
