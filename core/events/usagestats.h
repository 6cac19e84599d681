#pragma once
// Transfer statistics and the reference's socket warnings
// (getUsageInfo/clearStats, setWarningQueue). Updated by the transport on its
// thread, read from any thread.

#include <QMutex>
#include <QPointer>
#include <QString>
#include <QVariant>
#include <QVariantMap>

class EventQueue;

class UsageStats
{
public:
    UsageStats() = default;
    Q_DISABLE_COPY_MOVE(UsageStats)

    // Recorded by the transport, per write / read / connect. recordSent/Received
    // only add to the counters; warnings come from recordOperation/recordTransfer,
    // which the transport calls as well (the two are independent, so that no
    // warning is ever raised twice for one transfer).
    void recordSent(qint64 bytes, qint64 us);
    void recordReceived(qint64 bytes, qint64 us);
    // An operation ("connect", "send", "receive", "tls-handshake") that took `us`.
    // Emits SOCKET-OPERATION-WARNING when us > warning threshold.
    void recordOperation(const QString &operation, qint64 us);
    // A transfer of `bytes` in `us` in direction "send"/"recv": emits
    // SOCKET-THROUGHPUT-WARNING when us >= min_ms and bytes/s < warning_bs.
    void recordTransfer(const QString &dir, qint64 bytes, qint64 us);

    // Reference getUsageInfo(): bytes_sent, bytes_recv, us_sent, us_recv, and when a
    // warning queue is set: arg, timeout (us), min_throughput.
    [[nodiscard]] QVariantMap usageInfo() const;
    void clear();

    // Reference setWarningQueue(): at least one of warningMs / warningBs must be > 0
    // (else returns false: SOCKET-SETWARNINGQUEUE-ERROR is raised by the caller).
    // Also false for a null queue. A threshold <= 0 disables that warning; minMs < 0
    // counts as 0. Warnings are pushed after the internal lock is released.
    bool setWarningQueue(qint64 warningMs, qint64 warningBs, EventQueue *queue,
                         const QVariant &arg, qint64 minMs = 1000);
    void clearWarningQueue();

private:
    mutable QMutex m_mutex;
    qint64 m_bytesSent = 0, m_bytesRecv = 0, m_usSent = 0, m_usRecv = 0;
    EventQueue *m_warningQueue = nullptr; // not owned; caller keeps it alive
    QVariant m_warningArg;
    qint64 m_warningUs = 0, m_warningBs = 0, m_minUs = 1000000;
};
