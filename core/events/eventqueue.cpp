#include "eventqueue.h"

#include <QDeadlineTimer>
#include <QMutexLocker>

// How it works: one mutex guards the deque; m_notEmpty wakes consumers blocked
// in pop(), m_notFull wakes producers blocked on a full bounded queue. The
// available() signal is emitted after the mutex is released, so a directly
// connected slot may call back into the queue (popAll) without deadlocking.

EventQueue::EventQueue(qsizetype maxSize, QObject *parent)
    : QObject(parent)
    , m_maxSize(maxSize > 0 ? maxSize : 0)
{
}

EventQueue::~EventQueue() = default;

qsizetype EventQueue::size() const
{
    QMutexLocker lock(&m_mutex);
    return qsizetype(m_records.size());
}

void EventQueue::push(QVariantMap record)
{
    bool wasEmpty = false;
    {
        QMutexLocker lock(&m_mutex);
        // Only a bounded queue ever waits; an unbounded one never blocks and never
        // drops (the reference refuses bounded queues for socket events).
        while (m_maxSize > 0 && qsizetype(m_records.size()) >= m_maxSize)
            m_notFull.wait(&m_mutex);
        wasEmpty = m_records.empty();
        m_records.push_back(std::move(record));
        m_notEmpty.wakeOne();
    }
    // One signal per empty -> non-empty transition: a consumer that drains with
    // popAll() on each signal gets batches instead of one call per record.
    if (wasEmpty)
        Q_EMIT available();
}

std::optional<QVariantMap> EventQueue::pop(int timeoutMs)
{
    // QDeadlineTimer: negative = forever, 0 = already expired. PreciseTimer so
    // that a timed-out pop() never returns before the requested time.
    const QDeadlineTimer deadline(timeoutMs < 0 ? QDeadlineTimer(QDeadlineTimer::Forever)
                                                : QDeadlineTimer(timeoutMs, Qt::PreciseTimer));
    QMutexLocker lock(&m_mutex);
    // Loop: QWaitCondition may wake spuriously, and another consumer may have
    // taken the record that woke us.
    while (m_records.empty()) {
        if (deadline.hasExpired())
            return std::nullopt;
        m_notEmpty.wait(&m_mutex, deadline);
    }
    QVariantMap record = std::move(m_records.front());
    m_records.pop_front();
    m_notFull.wakeOne();
    return record;
}

QList<QVariantMap> EventQueue::popAll(qsizetype maxCount)
{
    QList<QVariantMap> out;
    QMutexLocker lock(&m_mutex);
    qsizetype n = qsizetype(m_records.size());
    if (maxCount >= 0 && maxCount < n)
        n = maxCount;
    out.reserve(n);
    for (qsizetype i = 0; i < n; ++i) {
        out.append(std::move(m_records.front()));
        m_records.pop_front();
    }
    if (n > 0)
        m_notFull.wakeAll();
    return out;
}

void EventQueue::clear()
{
    QMutexLocker lock(&m_mutex);
    m_records.clear();
    m_notFull.wakeAll();
}
