#pragma once
// Runs one send at a time off the GUI thread and feeds the live views in batches.
//
// Threads: the controller lives on the GUI thread. A send runs the blocking
// SmtpClient API on a worker QThread of its own (SmtpClient has its own network
// thread beneath). Events (EventQueue), transcript entries and warnings are
// collected by the engine's threads into thread-safe buffers and handed to the
// GUI by a timer every BatchIntervalMs, as lists: never one signal per line.
// cancel() stops the send at once (SmtpClient::cancel) and leaves the app usable.

#include "client/outgoingmessage.h"
#include "client/sendresult.h"
#include "connection/connectionprofile.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <QVariantMap>
#include <memory>

class EventQueue;
class QThread;

class SendController : public QObject
{
    Q_OBJECT

public:
    static constexpr int BatchIntervalMs = 100;

    explicit SendController(QObject *parent = nullptr);
    ~SendController() override; // cancels and waits for a send in progress

    // Starts sending `message` with `profile`; false (and *error) when a send is
    // already running or the profile cannot make a client.
    bool start(const ConnectionProfile &profile, std::shared_ptr<OutgoingMessage> message, QString *error);
    void cancel();
    [[nodiscard]] bool isBusy() const { return m_busy; }

Q_SIGNALS:
    void busyChanged(bool busy);
    void eventsArrived(const QList<QVariantMap> &events);
    void transcriptArrived(const QList<TranscriptEntry> &entries);
    void warningsArrived(const QList<QVariantMap> &warnings);
    // Message bytes written so far, of `total` (-1 unknown), and the current rate.
    void progress(qint64 sent, qint64 total, double bytesPerSecond);
    // Cumulative socket bytes at `ms` since the send started, for the chart.
    void sample(qint64 ms, qint64 bytesSent, qint64 bytesReceived);
    // The send is over: its result (result.error set when it failed; cancelled
    // sends say so).
    void finished(const SendResult &result);

private:
    void drain();
    // As drain(), with the client's final totals when the client is gone.
    void drainWith(const QVariantMap &finalUsage);
    void onWorkerDone(const SendResult &result, const QVariantMap &finalUsage);

    struct Shared;
    std::shared_ptr<Shared> m_shared;
    QThread *m_thread = nullptr;
    QTimer m_batchTimer;
    QElapsedTimer m_clock;
    qint64 m_total = -1;
    qint64 m_lastSent = 0;
    qint64 m_lastMs = 0;
    bool m_busy = false;
};
