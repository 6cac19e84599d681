#pragma once
// A thread-safe, unbounded queue of event records, as the reference's Qore Queue
// used by setEventQueue()/setWarningQueue(). Producers (the engine's worker
// thread) never block and never drop; consumers pop with a timeout, or listen to
// available() (emitted, queued-connection friendly, when the queue goes from
// empty to non-empty, not once per record).

#include <QMutex>
#include <QObject>
#include <QVariantMap>
#include <QWaitCondition>
#include <deque>
#include <optional>

class EventQueue : public QObject
{
    Q_OBJECT
public:
    // maxSize > 0 makes a bounded queue; SmtpClient refuses those with QUEUE-ERROR
    // (the reference does: events must never be dropped). push() on a full bounded
    // queue blocks until there is room.
    explicit EventQueue(qsizetype maxSize = 0, QObject *parent = nullptr);
    ~EventQueue() override;

    [[nodiscard]] qsizetype maxSize() const { return m_maxSize; }
    [[nodiscard]] qsizetype size() const;
    [[nodiscard]] bool isEmpty() const { return size() == 0; }

    void push(QVariantMap record);
    // Waits up to timeoutMs (0: don't wait, <0: forever) for a record.
    std::optional<QVariantMap> pop(int timeoutMs = 0);
    // Takes up to maxCount records at once (for batched UI updates).
    QList<QVariantMap> popAll(qsizetype maxCount = -1);
    void clear();

Q_SIGNALS:
    void available();

private:
    mutable QMutex m_mutex;
    QWaitCondition m_notEmpty;
    QWaitCondition m_notFull;
    std::deque<QVariantMap> m_records;
    qsizetype m_maxSize;
};
