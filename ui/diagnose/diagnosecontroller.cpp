#include "diagnosecontroller.h"

#include <QHostAddress>
#include <QMutex>
#include <QThread>

using Diagnostics::Check;
using Diagnostics::Endpoint;
using Diagnostics::Report;

// What one run's worker thread shares with the GUI thread.
struct DiagnoseController::Shared
{
    // Guards the buffers below; taken by the worker for each check, by the GUI at
    // each batch.
    QMutex mutex;
    QList<Check> checks;
    QList<Endpoint> endpoints;

    // Separate from `mutex` so that a cancel never waits behind a batch: guards
    // `diagnosis`, which is valid only while the worker runs it.
    QMutex cancelMutex;
    Diagnostics::Diagnosis *diagnosis = nullptr;
    bool cancelled = false;
};

DiagnoseController::DiagnoseController(QObject *parent) : QObject(parent)
{
    m_batchTimer.setInterval(BatchIntervalMs);
    connect(&m_batchTimer, &QTimer::timeout, this, &DiagnoseController::drain);
    m_cancelTimer.setSingleShot(true);
    m_cancelTimer.setInterval(CancelGraceMs);
    connect(&m_cancelTimer, &QTimer::timeout, this, [this] {
        // The worker is still inside a step that does not notice the cancel yet:
        // the GUI does not wait for it. What arrived so far is the report.
        if (!m_running)
            return;
        drain();
        Report partial = m_report;
        partial.cancelled = true;
        finish(std::move(partial));
    });
}

DiagnoseController::~DiagnoseController()
{
    cancel();
    // Every worker, also one abandoned by a cancel, must end before its QThread
    // goes; Diagnosis::cancel() has already been called on each.
    for (QThread *t : std::as_const(m_threads)) {
        t->wait();
        delete t;
    }
}

bool DiagnoseController::start(const Diagnostics::DiagnosisOptions &options, QString *error)
{
    if (m_running) {
        *error = tr("a diagnosis is already running");
        return false;
    }
    if (options.host.trimmed().isEmpty() && options.domain.trimmed().isEmpty()) {
        *error = tr("nothing to diagnose: give a host or a domain");
        return false;
    }

    m_shared = std::make_shared<Shared>();
    const quint64 generation = ++m_generation;
    m_report = Report{};
    m_report.subject = options.subject();
    m_report.started = QDateTime::currentDateTimeUtc();
    // What a partial (cancelled) report says of its settings; the final report
    // from Diagnosis::run() brings its own.
    m_report.options = options.toVariantMap();
    m_clock.start();

    std::shared_ptr<Shared> shared = m_shared;
    QThread *thread = QThread::create([this, shared, options, generation] {
        // Runs on the worker thread: the Diagnosis and everything it creates
        // (sockets, DNS lookups) live here.
        Diagnostics::Diagnosis diagnosis(options);
        diagnosis.setCheckFunction([shared](const Check &check) {
            QMutexLocker lock(&shared->mutex);
            shared->checks.append(check);
        });
        diagnosis.setEndpointFunction([shared](const Endpoint &endpoint) {
            QMutexLocker lock(&shared->mutex);
            shared->endpoints.append(endpoint);
        });
        {
            QMutexLocker lock(&shared->cancelMutex);
            shared->diagnosis = &diagnosis;
            if (shared->cancelled) // cancelled before the thread got here
                diagnosis.cancel();
        }
        Report report = diagnosis.run();
        {
            QMutexLocker lock(&shared->cancelMutex);
            shared->diagnosis = nullptr;
        }
        QMetaObject::invokeMethod(
            this, [this, generation, report] { onWorkerDone(generation, report); }, Qt::QueuedConnection);
    });
    thread->setObjectName(QStringLiteral("smtpscope-diagnose"));
    connect(thread, &QThread::finished, this, [this, thread] {
        m_threads.removeOne(thread);
        thread->deleteLater();
    });
    m_threads.append(thread);
    thread->start();

    m_running = true;
    m_batchTimer.start();
    Q_EMIT runningChanged(true);
    return true;
}

void DiagnoseController::cancel()
{
    if (!m_running || !m_shared)
        return;
    {
        QMutexLocker lock(&m_shared->cancelMutex);
        m_shared->cancelled = true;
        // Non-blocking: aborts the connection or lookup in progress.
        if (m_shared->diagnosis)
            m_shared->diagnosis->cancel();
    }
    if (!m_cancelTimer.isActive())
        m_cancelTimer.start();
}

void DiagnoseController::drain()
{
    if (!m_shared)
        return;
    QList<Check> checks;
    QList<Endpoint> endpoints;
    {
        QMutexLocker lock(&m_shared->mutex);
        checks.swap(m_shared->checks);
        endpoints.swap(m_shared->endpoints);
    }
    m_report.durationUs = m_clock.nsecsElapsed() / 1000;
    // Endpoints first: their scope rows come before their checks.
    if (!endpoints.isEmpty()) {
        m_report.endpoints.append(endpoints);
        Q_EMIT endpointsStarted(endpoints);
    }
    if (!checks.isEmpty()) {
        m_report.checks.append(checks);
        Q_EMIT checksArrived(checks);
    }
}

void DiagnoseController::onWorkerDone(quint64 generation, const Report &report)
{
    // A worker abandoned by cancel() (or of an earlier run) reports too late.
    if (generation != m_generation || !m_running)
        return;
    drain();
    finish(report);
}

void DiagnoseController::finish(Report report)
{
    m_batchTimer.stop();
    m_cancelTimer.stop();
    if (report.subject.isEmpty())
        report.subject = m_report.subject;
    m_report = std::move(report);
    m_running = false;
    Q_EMIT runningChanged(false);
    Q_EMIT finished(m_report);
}
