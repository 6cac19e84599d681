// EventQueue: ordering, timeouts, thread safety, the available() batching rule
// and the bounded queue's blocking push.

#include "events/eventqueue.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QSignalSpy>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <functional>
#include <memory>

namespace {

// A function on its own QThread. The destructor first runs `unblock` if the
// thread is still busy (a check failed while it was blocked in push/pop), then
// waits with a timeout, so that a failing test ends instead of hanging.
class Worker
{
public:
    explicit Worker(std::function<void()> fn, std::function<void()> unblock = {})
        : m_thread(QThread::create(std::move(fn)))
        , m_unblock(std::move(unblock))
    {
        m_thread->start();
    }
    ~Worker()
    {
        if (!m_thread->wait(QDeadlineTimer(10000)) && m_unblock)
            m_unblock();
        if (!m_thread->wait(QDeadlineTimer(10000))) {
            qWarning("worker thread stuck; leaking it so the test can end");
            (void)m_thread.release();
        }
    }
    Q_DISABLE_COPY_MOVE(Worker)

    bool wait(int ms) { return m_thread->wait(QDeadlineTimer(ms)); }
    [[nodiscard]] bool isFinished() const { return m_thread->isFinished(); }

private:
    std::unique_ptr<QThread> m_thread;
    std::function<void()> m_unblock;
};

QVariantMap rec(int producer, int seq)
{
    return {{QStringLiteral("producer"), producer}, {QStringLiteral("seq"), seq}};
}

// Checks that the records from each producer arrive complete and in order.
// Returns an empty string when they do, else what is wrong.
QString checkPerProducerOrder(const QList<QVariantMap> &got, int producers, int perProducer)
{
    QList<int> next(producers, 0);
    for (const QVariantMap &r : got) {
        const int p = r.value(QStringLiteral("producer")).toInt();
        const int seq = r.value(QStringLiteral("seq")).toInt();
        if (p < 0 || p >= producers)
            return QStringLiteral("unknown producer %1").arg(p);
        if (seq != next[p])
            return QStringLiteral("producer %1: got seq %2, expected %3").arg(p).arg(seq).arg(next[p]);
        ++next[p];
    }
    for (int p = 0; p < producers; ++p) {
        if (next[p] != perProducer)
            return QStringLiteral("producer %1: %2 of %3 records").arg(p).arg(next[p]).arg(perProducer);
    }
    return {};
}

} // namespace

class TestEventQueue : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void maxSize_data();
    void maxSize();
    void fifoOrder();
    void popAllMaxCount();
    void clearEmpties();
    void popTimeout_data();
    void popTimeout();
    void popWakesOnPush();
    void popForeverWaitsForPush();
    void concurrentProducers_data();
    void concurrentProducers();
    void availableOnlyOnTransitions();
    void availableGivesBatchesAcrossThreads();
    void availableSlotMayPopAll();
    void boundedPushBlocksWhenFull_data();
    void boundedPushBlocksWhenFull();
    void unboundedNeverBlocks();
};

void TestEventQueue::maxSize_data()
{
    QTest::addColumn<qsizetype>("requested");
    QTest::addColumn<qsizetype>("expected");
    QTest::addRow("default-unbounded") << qsizetype(0) << qsizetype(0);
    QTest::addRow("negative-unbounded") << qsizetype(-5) << qsizetype(0);
    QTest::addRow("bounded-1") << qsizetype(1) << qsizetype(1);
    QTest::addRow("bounded-100") << qsizetype(100) << qsizetype(100);
}

void TestEventQueue::maxSize()
{
    QFETCH(qsizetype, requested);
    QFETCH(qsizetype, expected);
    EventQueue q(requested);
    QCOMPARE(q.maxSize(), expected);
    QVERIFY(q.isEmpty());
    QCOMPARE(q.size(), qsizetype(0));
}

void TestEventQueue::fifoOrder()
{
    EventQueue q;
    for (int i = 0; i < 5; ++i)
        q.push(rec(0, i));
    QCOMPARE(q.size(), qsizetype(5));
    for (int i = 0; i < 5; ++i) {
        const auto r = q.pop();
        QVERIFY(r.has_value());
        QCOMPARE(r->value(QStringLiteral("seq")).toInt(), i);
    }
    QVERIFY(q.isEmpty());
    QVERIFY(!q.pop().has_value());
}

void TestEventQueue::popAllMaxCount()
{
    EventQueue q;
    for (int i = 0; i < 5; ++i)
        q.push(rec(0, i));
    QVERIFY(q.popAll(0).isEmpty());
    QCOMPARE(q.size(), qsizetype(5));

    const QList<QVariantMap> first = q.popAll(2);
    QCOMPARE(first.size(), 2);
    QCOMPARE(first[0].value(QStringLiteral("seq")).toInt(), 0);
    QCOMPARE(first[1].value(QStringLiteral("seq")).toInt(), 1);

    const QList<QVariantMap> rest = q.popAll();
    QCOMPARE(rest.size(), 3);
    QCOMPARE(rest[0].value(QStringLiteral("seq")).toInt(), 2);
    QCOMPARE(rest[2].value(QStringLiteral("seq")).toInt(), 4);
    QVERIFY(q.isEmpty());
    QVERIFY(q.popAll().isEmpty());
}

void TestEventQueue::clearEmpties()
{
    EventQueue q;
    q.push(rec(0, 0));
    q.push(rec(0, 1));
    q.clear();
    QVERIFY(q.isEmpty());
    QVERIFY(!q.pop(0).has_value());
}

void TestEventQueue::popTimeout_data()
{
    QTest::addColumn<int>("timeoutMs");
    QTest::addRow("0ms-no-wait") << 0;
    QTest::addRow("30ms") << 30;
    QTest::addRow("150ms") << 150;
    QTest::addRow("400ms") << 400;
}

void TestEventQueue::popTimeout()
{
    QFETCH(int, timeoutMs);
    EventQueue q;
    QElapsedTimer timer;
    timer.start();
    const auto r = q.pop(timeoutMs);
    const qint64 elapsed = timer.elapsed();
    QVERIFY(!r.has_value());
    QVERIFY2(elapsed >= timeoutMs, qPrintable(QStringLiteral("returned after %1 ms").arg(elapsed)));
    // Generous margin: the machine is shared and loaded.
    QVERIFY2(elapsed < timeoutMs + 2000, qPrintable(QStringLiteral("returned after %1 ms").arg(elapsed)));
}

void TestEventQueue::popWakesOnPush()
{
    EventQueue q;
    Worker producer([&q] {
        QThread::msleep(100);
        q.push(rec(7, 42));
    });
    QElapsedTimer timer;
    timer.start();
    const auto r = q.pop(10000);
    QVERIFY(r.has_value());
    QCOMPARE(r->value(QStringLiteral("producer")).toInt(), 7);
    QCOMPARE(r->value(QStringLiteral("seq")).toInt(), 42);
    // Woken by the push, not by the 10 s timeout.
    QVERIFY(timer.elapsed() < 9000);
    QVERIFY(producer.wait(5000));
}

void TestEventQueue::popForeverWaitsForPush()
{
    EventQueue q;
    std::optional<QVariantMap> got;
    // pop(-1) runs on a worker so that a broken implementation cannot hang the
    // test: the unblock action pushes a record it would have to return.
    Worker consumer([&] { got = q.pop(-1); },
                    [&] { q.push(rec(99, 99)); });
    QThread::msleep(150);
    QVERIFY2(!consumer.isFinished(), "pop(-1) returned without a record");
    q.push(rec(1, 5));
    QVERIFY(consumer.wait(5000));
    QVERIFY(got.has_value());
    QCOMPARE(got->value(QStringLiteral("seq")).toInt(), 5);
}

void TestEventQueue::concurrentProducers_data()
{
    QTest::addColumn<int>("producers");
    QTest::addColumn<int>("perProducer");
    QTest::addColumn<bool>("batched"); // consumer uses popAll instead of pop
    QTest::addRow("1x2000-pop") << 1 << 2000 << false;
    QTest::addRow("4x5000-pop") << 4 << 5000 << false;
    QTest::addRow("8x2000-pop") << 8 << 2000 << false;
    QTest::addRow("4x5000-popAll") << 4 << 5000 << true;
}

void TestEventQueue::concurrentProducers()
{
    QFETCH(int, producers);
    QFETCH(int, perProducer);
    QFETCH(bool, batched);
    EventQueue q;
    std::vector<std::unique_ptr<Worker>> workers;
    for (int p = 0; p < producers; ++p) {
        workers.push_back(std::make_unique<Worker>([&q, p, perProducer] {
            for (int i = 0; i < perProducer; ++i)
                q.push(rec(p, i));
        }));
    }
    const int total = producers * perProducer;
    QList<QVariantMap> got;
    got.reserve(total);
    QElapsedTimer timer;
    timer.start();
    while (got.size() < total && timer.elapsed() < 60000) {
        if (batched) {
            got += q.popAll();
            if (got.size() < total) {
                // Block for the next record rather than spinning.
                if (auto r = q.pop(1000))
                    got.append(*r);
            }
        } else if (auto r = q.pop(5000)) {
            got.append(*r);
        }
    }
    for (auto &w : workers)
        QVERIFY(w->wait(10000));
    QCOMPARE(got.size(), total);
    const QString problem = checkPerProducerOrder(got, producers, perProducer);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY(q.isEmpty());
}

void TestEventQueue::availableOnlyOnTransitions()
{
    EventQueue q;
    QSignalSpy spy(&q, &EventQueue::available);
    q.push(rec(0, 0));
    QCOMPARE(spy.count(), 1);
    q.push(rec(0, 1));
    q.push(rec(0, 2));
    QCOMPARE(spy.count(), 1); // still non-empty: no new signal

    QVERIFY(q.pop().has_value());
    q.push(rec(0, 3));
    QCOMPARE(spy.count(), 1); // never became empty

    QCOMPARE(q.popAll().size(), 3);
    q.push(rec(0, 4));
    QCOMPARE(spy.count(), 2); // empty -> non-empty again

    q.clear();
    q.push(rec(0, 5));
    QCOMPARE(spy.count(), 3);
}

void TestEventQueue::availableGivesBatchesAcrossThreads()
{
    // A producer on another thread pushes while the consumer's event loop is not
    // running: when it runs, one queued available() arrives and one popAll()
    // takes the whole batch.
    constexpr int count = 500;
    EventQueue q;
    QObject context;
    QList<qsizetype> batches;
    QList<QVariantMap> got;
    QEventLoop loop;
    connect(&q, &EventQueue::available, &context, [&] {
        const QList<QVariantMap> batch = q.popAll();
        batches.append(batch.size());
        got += batch;
        if (got.size() >= count)
            loop.quit();
    });
    {
        Worker producer([&q] {
            for (int i = 0; i < count; ++i)
                q.push(rec(0, i));
        });
        QVERIFY(producer.wait(10000));
    }
    QTimer guard;
    guard.setSingleShot(true);
    connect(&guard, &QTimer::timeout, &loop, &QEventLoop::quit);
    guard.start(10000);
    if (got.size() < count)
        loop.exec();
    QCOMPARE(got.size(), count);
    QCOMPARE(batches, QList<qsizetype>{count});
    QVERIFY(checkPerProducerOrder(got, 1, count).isEmpty());
}

void TestEventQueue::availableSlotMayPopAll()
{
    // The signal is emitted after the lock is released: a directly connected
    // slot that drains the queue must not deadlock.
    EventQueue q;
    QList<QVariantMap> got;
    QObject context;
    connect(&q, &EventQueue::available, &context, [&] { got += q.popAll(); },
            Qt::DirectConnection);
    std::atomic<bool> done = false;
    Worker producer([&] {
        for (int i = 0; i < 3; ++i)
            q.push(rec(0, i));
        done = true;
    });
    QVERIFY(producer.wait(5000));
    QVERIFY(done);
    // Each push found the queue empty (the slot drained it): all three arrived.
    QCOMPARE(got.size(), 3);
    QVERIFY(checkPerProducerOrder(got, 1, 3).isEmpty());
}

void TestEventQueue::boundedPushBlocksWhenFull_data()
{
    QTest::addColumn<int>("unblockBy"); // 0 pop, 1 popAll, 2 clear
    QTest::addRow("pop") << 0;
    QTest::addRow("popAll") << 1;
    QTest::addRow("clear") << 2;
}

void TestEventQueue::boundedPushBlocksWhenFull()
{
    QFETCH(int, unblockBy);
    EventQueue q(2);
    q.push(rec(0, 0));
    q.push(rec(0, 1));
    std::atomic<bool> pushed = false;
    Worker producer([&] {
        q.push(rec(0, 2));
        pushed = true;
    },
                    [&] { q.clear(); });
    QThread::msleep(200);
    QVERIFY2(!pushed, "push() on a full bounded queue did not block");
    QCOMPARE(q.size(), qsizetype(2));

    switch (unblockBy) {
    case 0: {
        const auto r = q.pop();
        QVERIFY(r.has_value());
        QCOMPARE(r->value(QStringLiteral("seq")).toInt(), 0);
        break;
    }
    case 1:
        QCOMPARE(q.popAll(1).size(), 1);
        break;
    default:
        q.clear();
        break;
    }
    QVERIFY(producer.wait(5000));
    QVERIFY(pushed);
    const QList<QVariantMap> left = q.popAll();
    if (unblockBy == 2) {
        QCOMPARE(left.size(), 1);
        QCOMPARE(left[0].value(QStringLiteral("seq")).toInt(), 2);
    } else {
        QCOMPARE(left.size(), 2);
        QCOMPARE(left[0].value(QStringLiteral("seq")).toInt(), 1);
        QCOMPARE(left[1].value(QStringLiteral("seq")).toInt(), 2);
    }
}

void TestEventQueue::unboundedNeverBlocks()
{
    // The reference's rule for socket events: never drop, never block. 100 000
    // records with no consumer must all be kept.
    EventQueue q;
    std::atomic<bool> done = false;
    Worker producer([&] {
        for (int i = 0; i < 100000; ++i)
            q.push(rec(0, i));
        done = true;
    });
    QVERIFY(producer.wait(30000));
    QVERIFY(done);
    QCOMPARE(q.size(), qsizetype(100000));
    QVERIFY(checkPerProducerOrder(q.popAll(), 1, 100000).isEmpty());
}

QTEST_GUILESS_MAIN(TestEventQueue)
#include "tst_eventqueue.moc"
