// EventLogModel (ring buffer, batched inserts, details formatting) and
// EventLogView (filters, copy, export, auto-scroll), on real widgets.

#include "sanitize/bounds.h"
#include "live/eventlogmodel.h"
#include "live/liveviews.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QLineEdit>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

namespace {

constexpr qint64 kEpochUs = 1700000000000000; // an arbitrary session start

QVariantMap record(qint64 n, const QString &name = QStringLiteral("PACKET_SENT"), qint64 offsetUs = -1)
{
    return QVariantMap{
        {QStringLiteral("event"), 2},
        {QStringLiteral("event_name"), name},
        {QStringLiteral("source"), 4},
        {QStringLiteral("id"), qint64(7)},
        {QStringLiteral("arg"), QStringLiteral("user-arg")},
        {QStringLiteral("time"), kEpochUs + (offsetUs >= 0 ? offsetUs : n * 1000)},
        {QStringLiteral("sent"), n},
    };
}

QList<QVariantMap> batch(qint64 first, qint64 count)
{
    QList<QVariantMap> out;
    out.reserve(count);
    for (qint64 i = 0; i < count; ++i)
        out.append(record(first + i));
    return out;
}

} // namespace

class TestEventLogModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void modelTesterWhileAppendingAndClearing_data();
    void modelTesterWhileAppendingAndClearing();
    void oneInsertAndOneRemovePerBatch();
    void details();
    void timeColumnIsRelative();
    void eventNames();
    void toTextSelectedRows();
    void millionEventsStayLinear();
    void viewFiltersByTypeAndText();
    void viewCopiesAndExports();
    void viewFollowsOnlyAtBottom();
};

void TestEventLogModel::modelTesterWhileAppendingAndClearing_data()
{
    QTest::addColumn<int>("capacity");
    QTest::addColumn<QList<int>>("batches");
    QTest::addRow("below-capacity") << 100 << QList<int>{1, 10, 30};
    QTest::addRow("wraps") << 50 << QList<int>{7, 30, 20, 49, 1};
    QTest::addRow("batch-larger-than-capacity") << 10 << QList<int>{3, 25, 10, 11};
    QTest::addRow("capacity-one") << 1 << QList<int>{1, 2, 1};
}

void TestEventLogModel::modelTesterWhileAppendingAndClearing()
{
    QFETCH(int, capacity);
    QFETCH(QList<int>, batches);
    EventLogModel model(capacity);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::Fatal);
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::Fatal);

    for (int round = 0; round < 2; ++round) {
        qint64 next = 0;
        for (const int n : batches) {
            model.append(batch(next, n));
            next += n;
            QCOMPARE(model.rowCount(), int(qMin<qint64>(next, capacity)));
            QCOMPARE(model.totalSeen(), next);
            // The newest event is the last row, the oldest kept is next - rows.
            const int last = model.rowCount() - 1;
            QCOMPARE(model.index(last, EventLogModel::DetailsColumn).data().toString(),
                     QStringLiteral("sent=%1").arg(next - 1));
            QCOMPARE(model.index(0, EventLogModel::DetailsColumn).data().toString(),
                     QStringLiteral("sent=%1").arg(next - model.rowCount()));
        }
        model.clear();
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(model.totalSeen(), 0);
    }
}

void TestEventLogModel::oneInsertAndOneRemovePerBatch()
{
    EventLogModel model(100);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    model.append(batch(0, 80));
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(removed.count(), 0);
    model.append(batch(80, 50)); // 30 over capacity
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(removed.at(0).at(1).toInt(), 0);
    QCOMPARE(removed.at(0).at(2).toInt(), 29);
    QCOMPARE(inserted.at(1).at(1).toInt(), 50);
    QCOMPARE(inserted.at(1).at(2).toInt(), 99);
    model.append({});
    QCOMPARE(inserted.count(), 2);
}

void TestEventLogModel::details()
{
    EventLogModel model;
    QVariantMap r = record(0, QStringLiteral("PACKET_READ"));
    r.remove(QStringLiteral("sent"));
    r.insert(QStringLiteral("read"), 12);
    r.insert(QStringLiteral("total_read"), 40);
    r.insert(QStringLiteral("data"), QByteArray("250 ok\r\n"));
    QVariantMap longOne = record(1, QStringLiteral("COMMAND_SENT"));
    longOne.remove(QStringLiteral("sent"));
    longOne.insert(QStringLiteral("command"), QString(250, u'x'));
    QVariantMap longBytes = record(2, QStringLiteral("PACKET_SENT"));
    longBytes.insert(QStringLiteral("data"), QByteArray(1000, 'y'));
    model.append({r, longOne, longBytes});

    // Common fields (event, event_name, source, id, arg, time) are not repeated;
    // the rest in key order, control characters made visible.
    QCOMPARE(model.index(0, EventLogModel::DetailsColumn).data().toString(),
             QStringLiteral("data=250 ok\\r\\n read=12 total_read=40"));
    QCOMPARE(model.index(0, EventLogModel::EventColumn).data().toString(), QStringLiteral("PACKET_READ"));
    QCOMPARE(model.index(0, 0).data(EventLogModel::EventNameRole).toString(), QStringLiteral("PACKET_READ"));
    QCOMPARE(model.index(1, EventLogModel::DetailsColumn).data().toString(),
             QStringLiteral("command=%1 +50 bytes").arg(QString(200, u'x')));
    QCOMPARE(model.index(2, EventLogModel::DetailsColumn).data().toString(),
             QStringLiteral("data=%1 +800 bytes sent=2").arg(QString(200, u'y')));

    // A record without event_name gets the name of its code.
    QVariantMap bare{{QStringLiteral("event"), 13}, {QStringLiteral("time"), kEpochUs}};
    model.append({bare});
    QCOMPARE(model.index(3, EventLogModel::EventColumn).data().toString(), QStringLiteral("CONNECTED"));
    QCOMPARE(model.index(3, EventLogModel::DetailsColumn).data().toString(), QString());
}

void TestEventLogModel::timeColumnIsRelative()
{
    EventLogModel model;
    model.append({record(0, QStringLiteral("A"), 5000000), record(1, QStringLiteral("B"), 5123000)});
    model.append({record(2, QStringLiteral("C"), 7000400)});
    QCOMPARE(model.index(0, EventLogModel::TimeColumn).data().toString(), QStringLiteral("0.000 s"));
    QCOMPARE(model.index(1, EventLogModel::TimeColumn).data().toString(), QStringLiteral("0.123 s"));
    QCOMPARE(model.index(2, EventLogModel::TimeColumn).data().toString(), QStringLiteral("2.000 s"));
    model.clear();
    model.append({record(3, QStringLiteral("D"), 9000000)});
    QCOMPARE(model.index(0, EventLogModel::TimeColumn).data().toString(), QStringLiteral("0.000 s"));
}

void TestEventLogModel::eventNames()
{
    EventLogModel model;
    QSignalSpy changed(&model, &EventLogModel::eventNamesChanged);
    model.append({record(0, QStringLiteral("PACKET_SENT")), record(1, QStringLiteral("CONNECTED")),
                  record(2, QStringLiteral("PACKET_SENT"))});
    QCOMPARE(changed.count(), 1);
    QCOMPARE(model.eventNames(), (QStringList{QStringLiteral("CONNECTED"), QStringLiteral("PACKET_SENT")}));
    model.append({record(3, QStringLiteral("CONNECTED"))});
    QCOMPARE(changed.count(), 1); // nothing new
    model.clear();
    QCOMPARE(changed.count(), 2);
    QVERIFY(model.eventNames().isEmpty());
}

void TestEventLogModel::toTextSelectedRows()
{
    EventLogModel model;
    model.append(batch(0, 5));
    const QString all = model.toText();
    QCOMPARE(all.count(u'\n'), 5);
    QVERIFY(all.startsWith(QStringLiteral("0.000 s\tPACKET_SENT\tsent=0\n")));
    // Several columns of one row count once; rows come out in order.
    const QString some = model.toText({model.index(3, 2), model.index(1, 0), model.index(3, 0)});
    QCOMPARE(some, QStringLiteral("0.001 s\tPACKET_SENT\tsent=1\n0.003 s\tPACKET_SENT\tsent=3\n"));
}

void TestEventLogModel::millionEventsStayLinear()
{
    EventLogModel model(100000);
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    QTableView view;
    view.setModel(&proxy);
    view.resize(1000, 600);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));

    constexpr int kBatch = 1000;
    constexpr int kBatches = 1000;
    // Two clocks: the whole loop, and the model + proxy + view part alone (making
    // the test's QVariantMaps is not what is measured).
    QElapsedTimer clock;
    clock.start();
    qint64 appendNs = 0;
    qint64 firstTenthNs = 0;
    for (int b = 0; b < kBatches; ++b) {
        const QList<QVariantMap> records = batch(qint64(b) * kBatch, kBatch);
        QElapsedTimer step;
        step.start();
        model.append(records);
        view.scrollToBottom();
        appendNs += step.nsecsElapsed();
        if (b == kBatches / 10 - 1)
            firstTenthNs = appendNs;
    }
    view.repaint();
    const qint64 totalMs = clock.elapsed();
    const qint64 ms = appendNs / 1000000;
    qInfo("1,000,000 events in batches of 1,000 into a 100,000-row model with proxy and view: "
          "%lld ms appending (first 100,000: %lld ms; last 900,000, all with the ring full: %lld ms), "
          "%lld ms with making the records",
          ms, firstTenthNs / 1000000, (appendNs - firstTenthNs) / 1000000, totalMs);
    QCOMPARE(model.rowCount(), 100000);
    QCOMPARE(proxy.rowCount(), 100000);
    QCOMPARE(model.totalSeen(), qint64(1000000));
    QCOMPARE(model.index(99999, EventLogModel::DetailsColumn).data().toString(), QStringLiteral("sent=999999"));
    QCOMPARE(model.index(0, EventLogModel::DetailsColumn).data().toString(), QStringLiteral("sent=900000"));
    // Generous bound for Debug builds on a shared machine: a per-batch cost that
    // grew with the fill level (quadratic) would take minutes.
    QVERIFY2(ms < Bounds::timeMs(20000), qPrintable(QStringLiteral("took %1 ms").arg(ms)));
    QVERIFY2(totalMs < Bounds::timeMs(60000), qPrintable(QStringLiteral("took %1 ms in all").arg(totalMs)));
}

void TestEventLogModel::viewFiltersByTypeAndText()
{
    EventLogView view;
    view.resize(1000, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QVariantMap cmd = record(0, QStringLiteral("COMMAND_SENT"));
    cmd.insert(QStringLiteral("verb"), QStringLiteral("EHLO"));
    QVariantMap reply = record(1, QStringLiteral("REPLY_RECEIVED"));
    reply.insert(QStringLiteral("text"), QStringLiteral("Hello Client"));
    view.append({cmd, reply, record(2), record(3)});

    auto *combo = view.findChild<QComboBox *>();
    auto *text = view.findChild<QLineEdit *>();
    auto *table = view.findChild<QTableView *>();
    QVERIFY(combo && text && table);
    QCOMPARE(combo->count(), 4); // all + 3 names
    QCOMPARE(table->model()->rowCount(), 4);

    combo->setCurrentIndex(combo->findData(QStringLiteral("PACKET_SENT")));
    QCOMPARE(table->model()->rowCount(), 2);
    combo->setCurrentIndex(0);
    QCOMPARE(table->model()->rowCount(), 4);

    QTest::keyClicks(text, QStringLiteral("hello client"));
    QCOMPARE(table->model()->rowCount(), 1); // case-insensitive, in the details
    QCOMPARE(table->model()->index(0, EventLogModel::EventColumn).data().toString(), QStringLiteral("REPLY_RECEIVED"));
    text->clear();
    QTest::keyClicks(text, QStringLiteral("command"));
    QCOMPARE(table->model()->rowCount(), 1); // in the event name

    // A new name arriving keeps the chosen type selected.
    combo->setCurrentIndex(combo->findData(QStringLiteral("COMMAND_SENT")));
    text->clear();
    view.append({record(4, QStringLiteral("CHANNEL_CLOSED"))});
    QCOMPARE(combo->count(), 5);
    QCOMPARE(combo->currentData().toString(), QStringLiteral("COMMAND_SENT"));
    QCOMPARE(table->model()->rowCount(), 1);
}

void TestEventLogModel::viewCopiesAndExports()
{
    EventLogView view;
    view.resize(1000, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.append(batch(0, 6));
    auto *table = view.findChild<QTableView *>();
    auto *text = view.findChild<QLineEdit *>();
    QVERIFY(table && text);

    table->selectRow(2);
    table->setFocus();
    QApplication::clipboard()->clear();
    QTest::keySequence(table, QKeySequence::Copy);
    QTRY_COMPARE_WITH_TIMEOUT(QApplication::clipboard()->text(), QStringLiteral("0.002 s\tPACKET_SENT\tsent=2\n"),
                              5000);

    // Export writes the filtered rows, with a header line.
    QTest::keyClicks(text, QStringLiteral("sent=5"));
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("events.tsv"));
    QString error;
    QVERIFY2(view.exportTo(path, &error), qPrintable(error));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(f.readAll()), QStringLiteral("Time\tEvent\tDetails\n0.005 s\tPACKET_SENT\tsent=5\n"));

    QVERIFY(!view.exportTo(dir.filePath(QStringLiteral("no/such/dir/x.tsv")), &error));
    QVERIFY(!error.isEmpty());
}

void TestEventLogModel::viewFollowsOnlyAtBottom()
{
    EventLogView view;
    view.resize(800, 300);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    auto *table = view.findChild<QTableView *>();
    QScrollBar *bar = table->verticalScrollBar();
    view.append(batch(0, 500));
    QTRY_VERIFY_WITH_TIMEOUT(bar->maximum() > 0, 5000);
    QCOMPARE(bar->value(), bar->maximum());
    view.append(batch(500, 100));
    QCOMPARE(bar->value(), bar->maximum());

    // The user scrolls up: new events do not pull the view down.
    bar->setValue(10);
    view.append(batch(600, 100));
    QCOMPARE(bar->value(), 10);
    QVERIFY(bar->value() < bar->maximum());
}

QTEST_MAIN(TestEventLogModel)
#include "tst_eventlogmodel.moc"
