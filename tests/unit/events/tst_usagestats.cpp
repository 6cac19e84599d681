// UsageStats: the reference's getUsageInfo() keys, clearStats(), setWarningQueue()
// rules, and the two warning records (qore-smtpclient-reference.txt).

#include "events/eventqueue.h"
#include "events/usagestats.h"

#include <QTest>
#include <QThread>

#include <memory>
#include <vector>

namespace {

QStringList sortedKeys(const QVariantMap &m)
{
    QStringList k = m.keys();
    k.sort();
    return k;
}

const QStringList kBaseKeys{"bytes_recv", "bytes_sent", "us_recv", "us_sent"};
const QStringList kWarningKeys{"arg",     "bytes_recv", "bytes_sent", "min_throughput",
                               "timeout", "us_recv",    "us_sent"};

} // namespace

class TestUsageStats : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void startsAtZero();
    void accumulates();
    void clearKeepsWarningSettings();
    void setWarningQueue_data();
    void setWarningQueue();
    void clearWarningQueue();
    void operationWarning_data();
    void operationWarning();
    void throughputWarning_data();
    void throughputWarning();
    void concurrentUpdates();
    void warningPushedOutsideLock();
};

void TestUsageStats::startsAtZero()
{
    UsageStats s;
    const QVariantMap info = s.usageInfo();
    QCOMPARE(sortedKeys(info), kBaseKeys);
    for (const QString &k : kBaseKeys)
        QCOMPARE(info.value(k).toLongLong(), 0);
}

void TestUsageStats::accumulates()
{
    UsageStats s;
    s.recordSent(100, 10);
    s.recordSent(50, 5);
    s.recordReceived(7, 1000);
    s.recordReceived(3, 1);
    const QVariantMap info = s.usageInfo();
    QCOMPARE(info.value("bytes_sent").toLongLong(), 150);
    QCOMPARE(info.value("us_sent").toLongLong(), 15);
    QCOMPARE(info.value("bytes_recv").toLongLong(), 10);
    QCOMPARE(info.value("us_recv").toLongLong(), 1001);
    // Counters are 64-bit: large transfers do not wrap.
    s.recordSent(qint64(5) << 32, 1);
    QCOMPARE(s.usageInfo().value("bytes_sent").toLongLong(), 150 + (qint64(5) << 32));
}

void TestUsageStats::clearKeepsWarningSettings()
{
    UsageStats s;
    EventQueue q;
    QVERIFY(s.setWarningQueue(10, 0, &q, QStringLiteral("sock")));
    s.recordSent(10, 10);
    s.recordReceived(20, 20);
    s.clear();
    const QVariantMap info = s.usageInfo();
    QCOMPARE(sortedKeys(info), kWarningKeys);
    for (const QString &k : kBaseKeys)
        QCOMPARE(info.value(k).toLongLong(), 0);
    QCOMPARE(info.value("timeout").toLongLong(), 10000);
    // Warnings still work after clearStats().
    s.recordOperation(QStringLiteral("send"), 20000);
    QCOMPARE(q.size(), qsizetype(1));
}

void TestUsageStats::setWarningQueue_data()
{
    QTest::addColumn<qint64>("warningMs");
    QTest::addColumn<qint64>("warningBs");
    QTest::addColumn<bool>("withQueue");
    QTest::addColumn<bool>("accepted");
    QTest::addColumn<qint64>("timeoutUs");
    QTest::addColumn<qint64>("minThroughput");
    QTest::addRow("both-zero") << qint64(0) << qint64(0) << true << false << qint64(0) << qint64(0);
    QTest::addRow("both-negative") << qint64(-1) << qint64(-5) << true << false << qint64(0) << qint64(0);
    QTest::addRow("ms-only") << qint64(5000) << qint64(0) << true << true << qint64(5000000) << qint64(0);
    QTest::addRow("bs-only") << qint64(0) << qint64(5000) << true << true << qint64(0) << qint64(5000);
    QTest::addRow("both") << qint64(250) << qint64(1024) << true << true << qint64(250000) << qint64(1024);
    QTest::addRow("negative-ms-positive-bs") << qint64(-3) << qint64(10) << true << true << qint64(0) << qint64(10);
    QTest::addRow("no-queue") << qint64(5000) << qint64(5000) << false << false << qint64(0) << qint64(0);
}

void TestUsageStats::setWarningQueue()
{
    QFETCH(qint64, warningMs);
    QFETCH(qint64, warningBs);
    QFETCH(bool, withQueue);
    QFETCH(bool, accepted);
    QFETCH(qint64, timeoutUs);
    QFETCH(qint64, minThroughput);
    UsageStats s;
    EventQueue q;
    const QVariant arg(QStringLiteral("socket-1"));
    QCOMPARE(s.setWarningQueue(warningMs, warningBs, withQueue ? &q : nullptr, arg), accepted);
    const QVariantMap info = s.usageInfo();
    if (!accepted) {
        QCOMPARE(sortedKeys(info), kBaseKeys);
        return;
    }
    QCOMPARE(sortedKeys(info), kWarningKeys);
    QCOMPARE(info.value("arg"), arg);
    QCOMPARE(info.value("timeout").toLongLong(), timeoutUs);
    QCOMPARE(info.value("min_throughput").toLongLong(), minThroughput);
}

void TestUsageStats::clearWarningQueue()
{
    UsageStats s;
    EventQueue q;
    QVERIFY(s.setWarningQueue(1, 1000000, &q, 1, 0));
    s.clearWarningQueue();
    QCOMPARE(sortedKeys(s.usageInfo()), kBaseKeys);
    s.recordOperation(QStringLiteral("connect"), 1000000);
    s.recordTransfer(QStringLiteral("send"), 1, 1000000);
    QVERIFY(q.isEmpty());
    // A refused setWarningQueue() leaves the previous settings as they were.
    QVERIFY(s.setWarningQueue(1, 0, &q, 1));
    QVERIFY(!s.setWarningQueue(0, 0, &q, 2));
    QCOMPARE(s.usageInfo().value("arg").toInt(), 1);
}

void TestUsageStats::operationWarning_data()
{
    QTest::addColumn<qint64>("warningMs");
    QTest::addColumn<qint64>("us");
    QTest::addColumn<bool>("warns");
    QTest::addRow("below") << qint64(100) << qint64(50000) << false;
    QTest::addRow("equal-not-exceeded") << qint64(100) << qint64(100000) << false;
    QTest::addRow("just-over") << qint64(100) << qint64(100001) << true;
    QTest::addRow("far-over") << qint64(5000) << qint64(30000000) << true;
    QTest::addRow("ms-threshold-zero") << qint64(0) << qint64(999999999) << false;
}

void TestUsageStats::operationWarning()
{
    QFETCH(qint64, warningMs);
    QFETCH(qint64, us);
    QFETCH(bool, warns);
    UsageStats s;
    EventQueue q;
    // A throughput threshold too, so that the "ms-threshold-zero" row is accepted.
    QVERIFY(s.setWarningQueue(warningMs, 1, &q, QStringLiteral("conn-A")));
    s.recordOperation(QStringLiteral("connect"), us);
    if (!warns) {
        QVERIFY(q.isEmpty());
        return;
    }
    const auto w = q.pop();
    QVERIFY(w.has_value());
    QVERIFY(q.isEmpty());
    QCOMPARE(sortedKeys(*w), (QStringList{"arg", "operation", "timeout", "type", "us"}));
    QCOMPARE(w->value("type").toString(), QStringLiteral("SOCKET-OPERATION-WARNING"));
    QCOMPARE(w->value("operation").toString(), QStringLiteral("connect"));
    QCOMPARE(w->value("us").toLongLong(), us);
    QCOMPARE(w->value("timeout").toLongLong(), warningMs * 1000);
    QCOMPARE(w->value("arg").toString(), QStringLiteral("conn-A"));
    // Operation warnings do not touch the transfer counters.
    QCOMPARE(s.usageInfo().value("us_sent").toLongLong(), 0);
}

void TestUsageStats::throughputWarning_data()
{
    QTest::addColumn<qint64>("warningBs");
    QTest::addColumn<qint64>("minMs");
    QTest::addColumn<QString>("dir");
    QTest::addColumn<qint64>("bytes");
    QTest::addColumn<qint64>("us");
    QTest::addColumn<bool>("warns");
    QTest::addColumn<double>("bytesSec");
    QTest::addRow("slow-send") << qint64(1000) << qint64(1000) << "send" << qint64(500)
                               << qint64(1000000) << true << 500.0;
    QTest::addRow("slow-recv-2s") << qint64(1000) << qint64(1000) << "recv" << qint64(1000)
                                  << qint64(2000000) << true << 500.0;
    QTest::addRow("exactly-threshold") << qint64(1000) << qint64(1000) << "send" << qint64(1000)
                                       << qint64(1000000) << false << 0.0;
    QTest::addRow("fast") << qint64(1000) << qint64(1000) << "send" << qint64(1000000)
                          << qint64(1000000) << false << 0.0;
    QTest::addRow("too-short-to-judge") << qint64(1000) << qint64(1000) << "send" << qint64(1)
                                        << qint64(999999) << false << 0.0;
    QTest::addRow("min-boundary-judged") << qint64(1000) << qint64(1000) << "recv" << qint64(1)
                                         << qint64(1000000) << true << 1.0;
    QTest::addRow("min-0-short") << qint64(1000000) << qint64(0) << "send" << qint64(3)
                                 << qint64(4) << true << 750000.0;
    QTest::addRow("min-0-zero-us") << qint64(1000000) << qint64(0) << "send" << qint64(3)
                                   << qint64(0) << false << 0.0;
    QTest::addRow("stalled-zero-bytes") << qint64(10) << qint64(100) << "recv" << qint64(0)
                                        << qint64(5000000) << true << 0.0;
    QTest::addRow("fractional-rate") << qint64(10) << qint64(1000) << "send" << qint64(7)
                                     << qint64(2000000) << true << 3.5;
    QTest::addRow("bs-threshold-zero") << qint64(0) << qint64(0) << "send" << qint64(1)
                                       << qint64(100000000) << false << 0.0;
}

void TestUsageStats::throughputWarning()
{
    QFETCH(qint64, warningBs);
    QFETCH(qint64, minMs);
    QFETCH(QString, dir);
    QFETCH(qint64, bytes);
    QFETCH(qint64, us);
    QFETCH(bool, warns);
    QFETCH(double, bytesSec);
    UsageStats s;
    EventQueue q;
    // An operation threshold too, so that the "bs-threshold-zero" row is accepted;
    // recordTransfer never raises operation warnings.
    QVERIFY(s.setWarningQueue(1, warningBs, &q, 77, minMs));
    s.recordTransfer(dir, bytes, us);
    if (!warns) {
        QVERIFY(q.isEmpty());
        return;
    }
    const auto w = q.pop();
    QVERIFY(w.has_value());
    QVERIFY(q.isEmpty());
    QCOMPARE(sortedKeys(*w),
             (QStringList{"arg", "bytes", "bytes_sec", "dir", "threshold", "type", "us"}));
    QCOMPARE(w->value("type").toString(), QStringLiteral("SOCKET-THROUGHPUT-WARNING"));
    QCOMPARE(w->value("dir").toString(), dir);
    QCOMPARE(w->value("bytes").toLongLong(), bytes);
    QCOMPARE(w->value("us").toLongLong(), us);
    QCOMPARE(w->value("bytes_sec").typeId(), QMetaType::Double); // reference: a float
    QCOMPARE(w->value("bytes_sec").toDouble(), bytesSec);
    QCOMPARE(w->value("threshold").toLongLong(), warningBs);
    QCOMPARE(w->value("arg").toInt(), 77);
}

void TestUsageStats::concurrentUpdates()
{
    constexpr int threads = 4;
    constexpr int iterations = 20000;
    UsageStats s;
    EventQueue q;
    QVERIFY(s.setWarningQueue(1, 0, &q, {}));
    std::vector<std::unique_ptr<QThread>> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back(QThread::create([&s] {
            for (int i = 0; i < iterations; ++i) {
                s.recordSent(3, 2);
                s.recordReceived(5, 7);
                if (i % 100 == 0)
                    s.recordOperation(QStringLiteral("send"), 2000); // > 1 ms: warns
            }
        }));
        workers.back()->start();
    }
    // Readers on this thread meanwhile: never a torn or decreasing value.
    qint64 lastSent = 0;
    for (int i = 0; i < 2000; ++i) {
        const qint64 sent = s.usageInfo().value("bytes_sent").toLongLong();
        QVERIFY(sent >= lastSent);
        QCOMPARE(sent % 3, 0);
        lastSent = sent;
    }
    for (auto &w : workers)
        QVERIFY(w->wait(QDeadlineTimer(30000)));
    const QVariantMap info = s.usageInfo();
    QCOMPARE(info.value("bytes_sent").toLongLong(), qint64(threads) * iterations * 3);
    QCOMPARE(info.value("us_sent").toLongLong(), qint64(threads) * iterations * 2);
    QCOMPARE(info.value("bytes_recv").toLongLong(), qint64(threads) * iterations * 5);
    QCOMPARE(info.value("us_recv").toLongLong(), qint64(threads) * iterations * 7);
    QCOMPARE(q.size(), qsizetype(threads * (iterations / 100)));
}

void TestUsageStats::warningPushedOutsideLock()
{
    // EventQueue::available() is emitted synchronously by push(); a directly
    // connected slot that reads the statistics must not deadlock.
    UsageStats s;
    EventQueue q;
    QObject context;
    QVariantMap seenInSlot;
    connect(&q, &EventQueue::available, &context, [&] { seenInSlot = s.usageInfo(); },
            Qt::DirectConnection);
    QVERIFY(s.setWarningQueue(1, 0, &q, QStringLiteral("x")));
    std::unique_ptr<QThread> worker(QThread::create([&s] {
        s.recordSent(11, 1);
        s.recordOperation(QStringLiteral("receive"), 5000);
    }));
    worker->start();
    if (!worker->wait(QDeadlineTimer(5000))) {
        (void)worker.release(); // deadlocked: leak it so that the failure is reported
        QFAIL("recordOperation() deadlocked when the queue's slot read usageInfo()");
    }
    QCOMPARE(seenInSlot.value("bytes_sent").toLongLong(), 11);
    QCOMPARE(q.size(), qsizetype(1));
}

QTEST_GUILESS_MAIN(TestUsageStats)
#include "tst_usagestats.moc"
