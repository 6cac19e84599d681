#include "sendcontroller.h"

#include "events/eventqueue.h"

#include <QMutex>
#include <QThread>

// What the send thread and the engine's threads share with the GUI thread.
struct SendController::Shared
{
    QMutex mutex;
    std::unique_ptr<SmtpClient> client; // kept between sends when the profile keeps the session alive
    ConnectionProfile clientProfile;    // the profile `client` was made from
    bool cancelled = false;
    QList<TranscriptEntry> transcript;  // filled on the engine thread, drained by the GUI
    EventQueue events;
    EventQueue warnings;
};

SendController::SendController(QObject *parent) : QObject(parent), m_shared(std::make_shared<Shared>())
{
    m_batchTimer.setInterval(BatchIntervalMs);
    connect(&m_batchTimer, &QTimer::timeout, this, &SendController::drain);
}

SendController::~SendController()
{
    cancel();
    if (m_thread) {
        m_thread->wait();
        delete m_thread;
    }
    // A kept-alive session is closed without waiting for QUIT's reply: the window
    // is closing. Outside the lock: the engine thread may be waiting for it to
    // hand over a transcript line.
    std::unique_ptr<SmtpClient> client;
    {
        QMutexLocker lock(&m_shared->mutex);
        client = std::move(m_shared->client);
    }
    if (client)
        client->forceDisconnect();
}

bool SendController::start(const ConnectionProfile &profile, std::shared_ptr<OutgoingMessage> message, QString *error)
{
    if (m_busy) {
        *error = QStringLiteral("a send is already in progress");
        return false;
    }
    if (const QString problem = profile.settings.validationProblem(); !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    if (m_thread) {
        m_thread->wait();
        delete m_thread;
        m_thread = nullptr;
    }
    {
        QMutexLocker lock(&m_shared->mutex);
        m_shared->cancelled = false;
        m_shared->transcript.clear();
        // A kept-alive session is reused only for the very same settings.
        if (m_shared->client && !(m_shared->clientProfile == profile && profile.settings.keepAlive))
            m_shared->client.reset();
        if (!m_shared->client) {
            try {
                m_shared->client = profile.createClient();
            } catch (const SmtpException &e) {
                *error = e.error().toString();
                return false;
            }
            m_shared->clientProfile = profile;
            std::weak_ptr<Shared> weak = m_shared;
            m_shared->client->setTranscriptFunction([weak](const TranscriptEntry &entry) {
                if (auto shared = weak.lock()) {
                    QMutexLocker l(&shared->mutex);
                    shared->transcript.append(entry);
                }
            });
            m_shared->client->setEventQueue(&m_shared->events);
            // The thresholds are settings, the queue is ours: the client cannot
            // apply them by itself.
            const ConnectionSettings &s = profile.settings;
            if (s.warnSlowMs > 0 || s.warnMinBytesPerSecond > 0)
                m_shared->client->setWarningQueue(s.warnSlowMs, s.warnMinBytesPerSecond, &m_shared->warnings);
        }
        m_shared->client->clearStats();
    }
    m_total = message->size(BodyOptions{});
    m_lastSent = 0;
    m_lastMs = 0;
    m_clock.start();

    // The blocking SmtpClient calls run on this thread; the GUI thread only
    // drains what they produce.
    std::shared_ptr<Shared> shared = m_shared;
    m_thread = QThread::create([this, shared, message] {
        SmtpClient *client = nullptr;
        {
            QMutexLocker lock(&shared->mutex);
            client = shared->client.get();
        }
        SendResult result;
        try {
            const QList<SendResult> results = client->sendMessages({message.get()});
            result = results.isEmpty() ? client->sessionInfo() : results.constFirst();
            // The session's steps (connect, TLS, EHLO, AUTH) before the message's own.
            if (!results.isEmpty()) {
                const SendResult session = client->sessionInfo();
                // QUIT (when the session ended) comes last, after the message's steps.
                QList<StepTiming> quit;
                QList<StepTiming> before;
                for (const StepTiming &t : session.timings)
                    (t.step == u"QUIT" ? quit : before).append(t);
                result.timings = before + result.timings + quit;
                result.transcript = session.transcript;
                result.tls = session.tls;
                result.greeting = session.greeting;
                result.ehlo = session.ehlo;
                result.capabilities = session.capabilities;
                result.capabilitiesBeforeTls = session.capabilitiesBeforeTls;
                result.quit = session.quit;
            }
        } catch (const SmtpException &e) {
            result = client->sessionInfo();
            result.error = e.error();
        }
        // The totals for the chart's last point, read before the client may go.
        const QVariantMap usage = client->getUsageInfo();
        bool cancelled = false;
        std::unique_ptr<SmtpClient> done;
        {
            QMutexLocker lock(&shared->mutex);
            cancelled = shared->cancelled;
            if (!shared->clientProfile.settings.keepAlive || cancelled || result.error.isError())
                done = std::move(shared->client);
        }
        // QUIT (or close) on this thread, not the GUI's, and outside the lock: the
        // engine thread hands transcript lines over under it meanwhile.
        done.reset();
        if (cancelled && !result.accepted)
            result.error = SmtpError::make(SmtpError::Category::Usage, QStringLiteral("CANCELLED"),
                                           result.error.step, QStringLiteral("cancelled by the user"));
        QMetaObject::invokeMethod(this, [this, result, usage] { onWorkerDone(result, usage); }, Qt::QueuedConnection);
    });
    m_thread->setObjectName(QStringLiteral("smtpscope-send"));
    m_thread->start();
    m_busy = true;
    m_batchTimer.start();
    Q_EMIT busyChanged(true);
    // The chart's baseline: rates are drawn between samples, even for a send
    // shorter than one batch interval.
    Q_EMIT sample(0, 0, 0);
    return true;
}

void SendController::cancel()
{
    QMutexLocker lock(&m_shared->mutex);
    if (!m_busy)
        return;
    m_shared->cancelled = true;
    // Not serialised by the client: stops the call in progress at once.
    if (m_shared->client)
        m_shared->client->cancel();
}

void SendController::drain()
{
    drainWith({});
}

void SendController::drainWith(const QVariantMap &finalUsage)
{
    QList<TranscriptEntry> entries;
    {
        QMutexLocker lock(&m_shared->mutex);
        entries.swap(m_shared->transcript);
    }
    if (!entries.isEmpty())
        Q_EMIT transcriptArrived(entries);
    QList<QVariantMap> events = m_shared->events.popAll();
    if (!events.isEmpty())
        Q_EMIT eventsArrived(events);
    const QList<QVariantMap> warnings = m_shared->warnings.popAll();
    if (!warnings.isEmpty())
        Q_EMIT warningsArrived(warnings);

    QVariantMap usage = finalUsage;
    if (usage.isEmpty()) {
        QMutexLocker lock(&m_shared->mutex);
        if (m_shared->client)
            usage = m_shared->client->getUsageInfo(); // its own lock: never waits for the send
    }
    if (usage.isEmpty())
        return;
    const qint64 ms = m_clock.elapsed();
    const qint64 sent = usage.value(QStringLiteral("bytes_sent")).toLongLong();
    const qint64 received = usage.value(QStringLiteral("bytes_recv")).toLongLong();
    Q_EMIT sample(ms, sent, received);
    const double rate = ms > m_lastMs ? double(sent - m_lastSent) * 1000.0 / double(ms - m_lastMs) : 0.0;
    m_lastSent = sent;
    m_lastMs = ms;
    Q_EMIT progress(m_total >= 0 ? std::min(sent, m_total) : sent, m_total, rate);
}

void SendController::onWorkerDone(const SendResult &result, const QVariantMap &finalUsage)
{
    drainWith(finalUsage);
    m_batchTimer.stop();
    if (m_total >= 0 && result.accepted)
        Q_EMIT progress(m_total, m_total, 0);
    m_busy = false;
    Q_EMIT busyChanged(false);
    Q_EMIT finished(result);
}
