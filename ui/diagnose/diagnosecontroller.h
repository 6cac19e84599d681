#pragma once
// Runs one Diagnostics::Diagnosis at a time off the GUI thread and feeds the
// Diagnose view in batches.
//
// Threads: the controller lives on the GUI thread. Diagnosis::run() is blocking
// and spins local event loops, so it runs on a worker QThread of its own (which
// has an event dispatcher). Checks and endpoints are collected there into a
// mutex-guarded buffer and handed to the GUI every BatchIntervalMs as lists,
// never one signal per check (as SendController does).
//
// cancel() asks the diagnosis to stop (Diagnosis::cancel, callable from any
// thread) and ends the run for the GUI at once: if the worker does not hand
// back its final report within CancelGraceMs, the partial report built from the
// checks seen so far is kept and the worker is left to wind down on its own (its
// late result is dropped; the destructor still waits for it).

#include "diagnostics/diagnosis.h"

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QTimer>
#include <memory>

class QThread;

class DiagnoseController : public QObject
{
    Q_OBJECT

public:
    static constexpr int BatchIntervalMs = 100;
    static constexpr int CancelGraceMs = 400;

    explicit DiagnoseController(QObject *parent = nullptr);
    ~DiagnoseController() override; // cancels and waits for every worker it started

    // Starts a diagnosis; false (and *error) when one is already running or the
    // options name nothing to diagnose.
    bool start(const Diagnostics::DiagnosisOptions &options, QString *error);
    void cancel();
    [[nodiscard]] bool isRunning() const { return m_running; }

    // The last report: the final one after finished(), the partial one (checks
    // so far, cancelled when cancelled) while running or after a cancel.
    [[nodiscard]] Diagnostics::Report report() const { return m_report; }

Q_SIGNALS:
    void runningChanged(bool running);
    // An endpoint's checklist began (scope = Endpoint::target()).
    void endpointsStarted(const QList<Diagnostics::Endpoint> &endpoints);
    void checksArrived(const QList<Diagnostics::Check> &checks);
    void finished(const Diagnostics::Report &report);

private:
    struct Shared;
    void drain();
    void onWorkerDone(quint64 generation, const Diagnostics::Report &report);
    void finish(Diagnostics::Report report);

    std::shared_ptr<Shared> m_shared; // of the current run
    QList<QThread *> m_threads;       // workers not yet ended (a cancelled one may linger)
    QTimer m_batchTimer;
    QTimer m_cancelTimer;
    QElapsedTimer m_clock;
    Diagnostics::Report m_report;
    quint64 m_generation = 0;
    bool m_running = false;
};
