#include "usagestats.h"

#include "eventqueue.h"

#include <QMutexLocker>

// Counters and thresholds are guarded by m_mutex. A warning record is built under
// the lock and pushed after it is released: EventQueue::push() emits available()
// synchronously, and a directly connected slot may well call usageInfo().

void UsageStats::recordSent(qint64 bytes, qint64 us)
{
    QMutexLocker lock(&m_mutex);
    m_bytesSent += qMax<qint64>(bytes, 0);
    m_usSent += qMax<qint64>(us, 0);
}

void UsageStats::recordReceived(qint64 bytes, qint64 us)
{
    QMutexLocker lock(&m_mutex);
    m_bytesRecv += qMax<qint64>(bytes, 0);
    m_usRecv += qMax<qint64>(us, 0);
}

void UsageStats::recordOperation(const QString &operation, qint64 us)
{
    EventQueue *queue = nullptr;
    QVariantMap warning;
    {
        QMutexLocker lock(&m_mutex);
        // Reference: "if exceeded" -> strictly longer than the threshold.
        if (!m_warningQueue || m_warningUs <= 0 || us <= m_warningUs)
            return;
        queue = m_warningQueue;
        warning.insert(QStringLiteral("type"), QStringLiteral("SOCKET-OPERATION-WARNING"));
        warning.insert(QStringLiteral("operation"), operation);
        warning.insert(QStringLiteral("us"), us);
        warning.insert(QStringLiteral("timeout"), m_warningUs);
        warning.insert(QStringLiteral("arg"), m_warningArg);
    }
    queue->push(std::move(warning));
}

void UsageStats::recordTransfer(const QString &dir, qint64 bytes, qint64 us)
{
    EventQueue *queue = nullptr;
    QVariantMap warning;
    {
        QMutexLocker lock(&m_mutex);
        if (!m_warningQueue || m_warningBs <= 0)
            return;
        // Transfers shorter than min_ms are not judged: a few bytes that took a
        // millisecond say nothing about the link. us > 0 also guards the division.
        if (us <= 0 || us < m_minUs)
            return;
        const double bytesPerSec = double(qMax<qint64>(bytes, 0)) * 1e6 / double(us);
        if (bytesPerSec >= double(m_warningBs))
            return;
        queue = m_warningQueue;
        warning.insert(QStringLiteral("type"), QStringLiteral("SOCKET-THROUGHPUT-WARNING"));
        warning.insert(QStringLiteral("dir"), dir);
        warning.insert(QStringLiteral("bytes"), bytes);
        warning.insert(QStringLiteral("us"), us);
        warning.insert(QStringLiteral("bytes_sec"), bytesPerSec);
        warning.insert(QStringLiteral("threshold"), m_warningBs);
        warning.insert(QStringLiteral("arg"), m_warningArg);
    }
    queue->push(std::move(warning));
}

QVariantMap UsageStats::usageInfo() const
{
    QMutexLocker lock(&m_mutex);
    QVariantMap info{
        {QStringLiteral("bytes_sent"), m_bytesSent},
        {QStringLiteral("bytes_recv"), m_bytesRecv},
        {QStringLiteral("us_sent"), m_usSent},
        {QStringLiteral("us_recv"), m_usRecv},
    };
    // Reference getUsageInfo(): these three only when warnings are configured.
    if (m_warningQueue) {
        info.insert(QStringLiteral("arg"), m_warningArg);
        info.insert(QStringLiteral("timeout"), m_warningUs);
        info.insert(QStringLiteral("min_throughput"), m_warningBs);
    }
    return info;
}

void UsageStats::clear()
{
    // Reference clearStats(): the counters only; warning settings stay.
    QMutexLocker lock(&m_mutex);
    m_bytesSent = m_bytesRecv = m_usSent = m_usRecv = 0;
}

bool UsageStats::setWarningQueue(qint64 warningMs, qint64 warningBs, EventQueue *queue,
                                 const QVariant &arg, qint64 minMs)
{
    if ((warningMs <= 0 && warningBs <= 0) || !queue)
        return false;
    QMutexLocker lock(&m_mutex);
    m_warningQueue = queue;
    m_warningArg = arg;
    m_warningUs = warningMs > 0 ? warningMs * 1000 : 0;
    m_warningBs = warningBs > 0 ? warningBs : 0;
    m_minUs = minMs > 0 ? minMs * 1000 : 0;
    return true;
}

void UsageStats::clearWarningQueue()
{
    QMutexLocker lock(&m_mutex);
    m_warningQueue = nullptr;
    m_warningArg = QVariant();
    m_warningUs = 0;
    m_warningBs = 0;
    m_minUs = 1000000;
}
