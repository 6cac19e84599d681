// The History page on a real SQLite store in a temporary folder: filters,
// opening a session in the live views, comparing two, delete, export, retention,
// the list model checked by QAbstractItemModelTester, and 10,000 sessions with
// the GUI thread's pauses measured.

#include "sanitize/bounds.h"
#include "heartbeat.h"
#include "../../unit/sessioncompare/sessionfixtures.h"
#include "diagnostics/diagnosticreport.h"
#include "history/historyview.h"
#include "live/livecolours.h"
#include "live/liveviews.h"

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QHeaderView>
#include <QTabBar>
#include <QDir>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSet>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <memory>

namespace {

constexpr int kSessions = 300;

const QStringList kTargets{QStringLiteral("127.0.0.1:587"), QStringLiteral("mail.example.test:465"),
                           QStringLiteral("10.0.0.5:25")};

// Session i of the generated history: server by i % 3; every tenth refused at
// the end of data, the next one failing to connect, the rest accepted; a rare
// word in the transcript of every 37th that reached RCPT.
Fixtures::SendSpec specFor(int i)
{
    Fixtures::SendSpec spec;
    spec.target = kTargets.at(i % 3);
    spec.rejectData = i % 10 == 0;
    spec.connectFails = i % 10 == 1;
    if (i % 37 == 0)
        spec.extraServerLine = QStringLiteral("250 2.0.0 quokka trace %1").arg(i);
    return spec;
}

bool hasQuokka(int i) { return i % 37 == 0 && i % 10 != 1; }

QSet<qint64> toSet(const QList<qint64> &ids) { return QSet<qint64>(ids.cbegin(), ids.cend()); }

template<typename T>
T *child(QWidget &view, const char *name)
{
    return view.findChild<T *>(QLatin1String(name));
}

} // namespace

class TestHistoryView : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void firstPageNewestFirstAndMore();
    void filtersNarrowTheList_data();
    void filtersNarrowTheList();
    void searchBoxDebounces();
    void dateFilter();
    void selectingShowsTheSession();
    void selectingADiagnosisShowsItsChecks();
    void selectingTwoCompares();
    void deleteAsksThenRemoves();
    void exportWritesABundle();
    void retentionIsSavedAndAnnounced();
    void refreshKeepsTheSelection();
    void modelTester();
    void controlsAreNamedAndFit();
    void darkPaletteStaysReadable();
    void withoutADatabase();
    void tenThousandSessionsStayResponsive();

private:
    QHash<int, qint64> m_ids; // session number -> id in m_store
    QDateTime m_newest;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Store::HistoryStore> m_store;
    std::unique_ptr<QSettings> m_settings;
    QTemporaryDir m_certDir;
    QList<QSslCertificate> m_cert;

    std::unique_ptr<HistoryView> makeView()
    {
        auto view = std::make_unique<HistoryView>(m_store.get(), m_settings.get());
        view->resize(1280, 800);
        view->show();
        return view;
    }
};

void TestHistoryView::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_certDir.isValid());
    QString error;
    m_cert = Fixtures::makeCertificate(m_certDir.path(), QStringLiteral("smtp.test"), 90, &error);
    QVERIFY2(m_cert.size() == 1, qPrintable(error));
}

void TestHistoryView::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_settings = std::make_unique<QSettings>(m_dir->filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
    m_store = std::make_unique<Store::HistoryStore>();
    QString error;
    QVERIFY2(m_store->open(m_dir->filePath(QStringLiteral("history.sqlite")), &error), qPrintable(error));
    m_ids.clear();
    // One session an hour, the newest now.
    m_newest = QDateTime::currentDateTimeUtc().addSecs(-60);
    for (int i = 0; i < kSessions; ++i) {
        Fixtures::SendSpec spec = specFor(i);
        if (i % 50 == 5)
            spec.chain = m_cert;
        Store::SessionRecord r = Store::recordFromSend(Fixtures::send(spec), Store::SessionKind::Send, {},
                                                       QByteArrayLiteral("Subject: Report\r\n\r\nbody\r\n"));
        r.started = m_newest.addSecs(-3600LL * (kSessions - 1 - i));
        r.subject = QStringLiteral("Report %1").arg(i);
        r.source = QStringLiteral("window");
        r.profile = QStringLiteral("postfix");
        r.from = QStringLiteral("alice@example.test");
        const qint64 id = m_store->add(r, &error);
        QVERIFY2(id > 0, qPrintable(error));
        m_ids.insert(i, id);
    }
}

void TestHistoryView::cleanup()
{
    m_store.reset();
    m_settings.reset();
    m_dir.reset();
}

void TestHistoryView::firstPageNewestFirstAndMore()
{
    auto view = makeView();
    const QList<qint64> shown = view->shownIds();
    QCOMPARE(shown.size(), 200);
    QCOMPARE(shown.first(), m_ids.value(kSessions - 1));
    QCOMPARE(shown.last(), m_ids.value(kSessions - 200));
    auto *status = child<QLabel>(*view, "historyStatus");
    QVERIFY(status->text().contains(QStringLiteral("200 of 300")));

    // Scrolling to the end reads the next page.
    auto *table = child<QTableView>(*view, "historyList");
    table->scrollToBottom();
    QTRY_COMPARE_WITH_TIMEOUT(view->shownIds().size(), kSessions, 5000);
    QCOMPARE(view->shownIds().last(), m_ids.value(0));
    QVERIFY(!table->model()->canFetchMore({}));
    QCOMPARE(toSet(view->shownIds()).size(), kSessions);
}

void TestHistoryView::filtersNarrowTheList_data()
{
    QTest::addColumn<QStringList>("filters"); // name=value
    QTest::addColumn<QList<int>>("expected"); // session numbers
    auto sessions = [](const std::function<bool(int)> &keep) {
        QList<int> out;
        for (int i = 0; i < kSessions; ++i) {
            if (keep(i))
                out.append(i);
        }
        return out;
    };
    QTest::addRow("server host") << QStringList{QStringLiteral("server=example.test")}
                                 << sessions([](int i) { return i % 3 == 1; });
    QTest::addRow("server port") << QStringList{QStringLiteral("server=:25")}
                                 << sessions([](int i) { return i % 3 == 2; });
    QTest::addRow("outcome rejected") << QStringList{QStringLiteral("outcome=rejected")}
                                      << sessions([](int i) { return i % 10 == 0; });
    QTest::addRow("outcome failed") << QStringList{QStringLiteral("outcome=failed")}
                                    << sessions([](int i) { return i % 10 == 1; });
    QTest::addRow("text") << QStringList{QStringLiteral("text=quokka")} << sessions(hasQuokka);
    QTest::addRow("server and outcome") << QStringList{QStringLiteral("server=127.0.0.1"), QStringLiteral("outcome=rejected")}
                                        << sessions([](int i) { return i % 3 == 0 && i % 10 == 0; });
    QTest::addRow("text and server") << QStringList{QStringLiteral("text=quokka"), QStringLiteral("server=example.test")}
                                     << sessions([](int i) { return hasQuokka(i) && i % 3 == 1; });
    QTest::addRow("kind probe") << QStringList{QStringLiteral("kind=probe")} << QList<int>{};
    QTest::addRow("text hostile") << QStringList{QStringLiteral("text=\"quokka OR *")} << QList<int>{};
}

void TestHistoryView::filtersNarrowTheList()
{
    QFETCH(QStringList, filters);
    QFETCH(QList<int>, expected);
    QVERIFY(expected.size() < 200); // all on the first page
    auto view = makeView();
    for (const QString &f : filters) {
        const qsizetype eq = f.indexOf(QLatin1Char('='));
        view->setFilter(f.left(eq), f.mid(eq + 1));
    }
    QSet<qint64> want;
    for (int i : expected)
        want.insert(m_ids.value(i));
    if (filters.first().startsWith(QStringLiteral("text=\""))) {
        // Quotes and operators are words to find, never query syntax: nothing
        // has them all, and nothing broke.
        QVERIFY(view->shownIds().isEmpty());
    } else {
        QCOMPARE(toSet(view->shownIds()), want);
    }
    // Newest first, whatever the filter.
    const QList<qint64> shown = view->shownIds();
    for (qsizetype i = 1; i < shown.size(); ++i)
        QVERIFY(shown.at(i - 1) > shown.at(i));

    // Back to everything.
    for (const QString &f : filters)
        view->setFilter(f.left(f.indexOf(QLatin1Char('='))), QString());
    QCOMPARE(view->shownIds().size(), 200);
}

void TestHistoryView::searchBoxDebounces()
{
    auto view = makeView();
    auto *search = child<QLineEdit>(*view, "historySearch");
    QVERIFY(search);
    QVERIFY(!search->accessibleName().isEmpty());
    QSet<qint64> want;
    for (int i = 0; i < kSessions; ++i) {
        if (hasQuokka(i))
            want.insert(m_ids.value(i));
    }
    QTest::keyClicks(search, QStringLiteral("quokka"));
    // Typing does not query at every key: the list changes after the pause.
    QCOMPARE(view->shownIds().size(), 200);
    QTRY_COMPARE_WITH_TIMEOUT(toSet(view->shownIds()), want, 3000);
}

void TestHistoryView::dateFilter()
{
    auto view = makeView();
    // Sessions are an hour apart: from the local day of session 250 on.
    const QDate day = m_newest.addSecs(-3600LL * (kSessions - 1 - 250)).toLocalTime().date();
    view->setFilter(QStringLiteral("from"), day.toString(Qt::ISODate));
    QSet<qint64> want;
    for (int i = 0; i < kSessions; ++i) {
        if (m_newest.addSecs(-3600LL * (kSessions - 1 - i)).toLocalTime().date() >= day)
            want.insert(m_ids.value(i));
    }
    QVERIFY(want.size() >= 50 && want.size() < 200);
    QCOMPARE(toSet(view->shownIds()), want);

    // And up to the day before: the complement.
    view->setFilter(QStringLiteral("from"), QString());
    view->setFilter(QStringLiteral("to"), day.addDays(-1).toString(Qt::ISODate));
    QCOMPARE(view->shownIds().size(), 200);
    QVERIFY(!toSet(view->shownIds()).intersects(want));
    auto *status = child<QLabel>(*view, "historyStatus");
    QVERIFY2(status->text().contains(QStringLiteral("of %1").arg(kSessions - want.size())), qPrintable(status->text()));
}

void TestHistoryView::selectingShowsTheSession()
{
    auto view = makeView();
    QVERIFY(view->transcriptText().isEmpty());
    // Session 155: accepted, with TLS (i % 50 == 5) and a certificate.
    QVERIFY(view->select({m_ids.value(155)}));
    QTRY_VERIFY_WITH_TIMEOUT(!view->transcriptText().isEmpty(), 2000);
    const QString text = view->transcriptText();
    QVERIFY2(text.contains(QStringLiteral("C [tls] RCPT TO:<bob@example.test>")), qPrintable(text));
    QVERIFY(text.contains(QStringLiteral("S [tls] 250 2.0.0 Ok: queued as 4XyZ1234")));
    auto *result = child<ResultPanel>(*view, "historyResult");
    QVERIFY(result);
    QCOMPARE(result->recipientRows().size(), 1);
    QCOMPARE(result->recipientRows().first().value(0), QStringLiteral("bob@example.test"));
    QCOMPARE(result->recipientRows().first().value(1), QStringLiteral("250"));
    // The certificate came back from the stored PEM chain.
    QVERIFY2(result->tlsSummaryText().contains(QStringLiteral("CN=smtp.test")), qPrintable(result->tlsSummaryText()));
    QCOMPARE(result->timingRows().size(), 9);
    QVERIFY(view->comparison().isEmpty());

    // A refused one: the failing line is marked with the explanation.
    QVERIFY(view->select({m_ids.value(150)}));
    QTRY_VERIFY_WITH_TIMEOUT(view->transcriptText().contains(QStringLiteral("554 5.7.1 Message rejected as spam")), 2000);
    auto *transcript = child<TranscriptView>(*view, "historyTranscript");
    QVERIFY(transcript->failingLine() >= 0);
    QVERIFY(transcript->text().split(QLatin1Char('\n')).value(transcript->failingLine()).contains(QStringLiteral("554")));
}

void TestHistoryView::selectingADiagnosisShowsItsChecks()
{
    Diagnostics::Report report;
    report.subject = QStringLiteral("127.0.0.1:587");
    report.started = QDateTime::currentDateTimeUtc();
    report.durationUs = 300000;
    Diagnostics::Endpoint e;
    e.host = QStringLiteral("127.0.0.1");
    e.port = 587;
    e.transcript = {Fixtures::entry(1000, TranscriptEntry::Direction::Server, false, QStringLiteral("220 diag.test ESMTP"))};
    report.endpoints = {e};
    Diagnostics::Check c;
    c.id = QStringLiteral("certificate-expiry");
    c.scope = e.target();
    c.title = QStringLiteral("Certificate expiry");
    c.verdict = Diagnostics::Verdict::Fail;
    c.summary = QStringLiteral("The certificate expired 3 days ago");
    c.fix = QStringLiteral("Renew the certificate");
    Diagnostics::Check tcp = c;
    tcp.id = QStringLiteral("tcp");
    tcp.title = QStringLiteral("TCP connection");
    tcp.verdict = Diagnostics::Verdict::Pass;
    tcp.summary = QStringLiteral("Connected");
    tcp.fix.clear();
    report.checks = {tcp, c};
    QString error;
    const qint64 id = m_store->add(Store::recordFromReport(report), &error);
    QVERIFY2(id > 0, qPrintable(error));

    auto view = makeView();
    QCOMPARE(view->shownIds().first(), id);
    QVERIFY(view->select({id}));
    auto *checks = child<QTableWidget>(*view, "historyChecks");
    QVERIFY(checks);
    QTRY_COMPARE_WITH_TIMEOUT(checks->rowCount(), 2, 2000);
    QCOMPARE(checks->item(1, 0)->text(), QStringLiteral("fail"));
    QVERIFY(checks->item(1, 1)->text().startsWith(QStringLiteral("Certificate expiry")));
    QCOMPARE(checks->item(1, 2)->text(), c.summary);
    QCOMPARE(checks->item(1, 3)->text(), c.fix);
    QVERIFY(checks->editTriggers() == QAbstractItemView::NoEditTriggers);
    QVERIFY(view->transcriptText().contains(QStringLiteral("220 diag.test ESMTP")));
}

void TestHistoryView::selectingTwoCompares()
{
    Fixtures::SendSpec before;
    before.target = QStringLiteral("cmp.test:587");
    before.chain = m_cert;
    Fixtures::SendSpec after = before;
    after.capabilitiesAfterTls.append(QStringLiteral("SMTPUTF8"));
    QString error;
    Store::SessionRecord a = Store::recordFromSend(Fixtures::send(before), Store::SessionKind::Probe);
    a.started = QDateTime::currentDateTimeUtc().addDays(-1);
    Store::SessionRecord b = Store::recordFromSend(Fixtures::send(after), Store::SessionKind::Probe);
    const qint64 ida = m_store->add(a, &error);
    const qint64 idb = m_store->add(b, &error);
    QVERIFY2(ida > 0 && idb > 0, qPrintable(error));

    auto view = makeView();
    view->setFilter(QStringLiteral("server"), QStringLiteral("cmp.test"));
    QCOMPARE(view->shownIds(), (QList<qint64>{idb, ida}));
    // Selected newer first: the older still goes on the left.
    QVERIFY(view->select({idb, ida}));
    QTRY_VERIFY_WITH_TIMEOUT(!view->comparison().isEmpty(), 2000);
    const QList<Store::ComparisonRow> rows = view->comparison();
    int differing = 0;
    bool found = false;
    for (const Store::ComparisonRow &r : rows) {
        differing += r.same ? 0 : 1;
        if (r.section == u"Capabilities after TLS" && r.aspect == u"SMTPUTF8") {
            found = true;
            QCOMPARE(r.left, QString());
            QCOMPARE(r.right, QStringLiteral("SMTPUTF8"));
            QVERIFY(!r.same);
        }
    }
    QVERIFY(found);
    QCOMPARE(differing, 1); // the EHLO reply's capability lines are compared one by one, not twice

    // The table says it in words and can hide what agrees.
    auto *table = child<QTableWidget>(*view, "historyCompare");
    QVERIFY(table && table->isVisible());
    QCOMPARE(table->rowCount(), int(rows.size()));
    auto *only = child<QCheckBox>(*view, "historyOnlyDifferences");
    only->setChecked(true);
    QCOMPARE(table->rowCount(), 1);
    QCOMPARE(table->item(0, 1)->text(), QStringLiteral("SMTPUTF8"));
    QCOMPARE(table->item(0, 4)->text(), QStringLiteral("differs"));
    QVERIFY(table->item(0, 0)->background().style() != Qt::NoBrush);
    QVERIFY(view->transcriptText().isEmpty()); // a comparison is not one session
}

void TestHistoryView::deleteAsksThenRemoves()
{
    auto view = makeView();
    const qint64 victim = m_ids.value(kSessions - 3);
    QVERIFY(view->select({victim}));
    auto *button = child<QPushButton>(*view, "historyDelete");
    QVERIFY(button->isEnabled());

    // Cancel keeps it.
    button->click();
    auto *box = child<QMessageBox>(*view, "historyDeleteConfirm");
    QVERIFY(box);
    QTRY_VERIFY_WITH_TIMEOUT(box->isVisible(), 2000);
    box->button(QMessageBox::Cancel)->click();
    QTRY_VERIFY_WITH_TIMEOUT(!child<QMessageBox>(*view, "historyDeleteConfirm"), 2000);
    QVERIFY(view->shownIds().contains(victim));
    QVERIFY(m_store->session(victim));

    button->click();
    box = child<QMessageBox>(*view, "historyDeleteConfirm");
    QVERIFY(box);
    box->button(QMessageBox::Yes)->click();
    QTRY_VERIFY_WITH_TIMEOUT(!view->shownIds().contains(victim), 2000);
    QVERIFY(!m_store->session(victim));
    QCOMPARE(view->shownIds().size(), 200);
    QVERIFY(!button->isEnabled()); // nothing selected any more
}

void TestHistoryView::exportWritesABundle()
{
    auto view = makeView();
    const qint64 id = m_ids.value(205); // with TLS and a kept message
    QVERIFY(view->select({id}));
    QTemporaryDir out;
    QVERIFY(out.isValid());
    child<QPushButton>(*view, "historyExport")->click();
    auto *dialog = child<QFileDialog>(*view, "historyExportDialog");
    QVERIFY(dialog);
    dialog->setDirectory(out.path());
    dialog->selectFile(out.path());
    static_cast<QDialog *>(dialog)->accept(); // QFileDialog::accept() is protected

    QTRY_COMPARE_WITH_TIMEOUT(QDir(out.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 1, 3000);
    const QString folder = QDir(out.path()).filePath(QDir(out.path()).entryList(QDir::Dirs | QDir::NoDotAndDotDot).first());
    QVERIFY(QFileInfo(folder).fileName().startsWith(QStringLiteral("session-%1-").arg(id)));
    QCOMPARE(QDir(folder).entryList(QDir::Files, QDir::Name),
             (QStringList{QStringLiteral("chain.pem"), QStringLiteral("message.eml"), QStringLiteral("result.json"),
                          QStringLiteral("transcript.txt")}));
    QFile pem(QDir(folder).filePath(QStringLiteral("chain.pem")));
    QVERIFY(pem.open(QIODevice::ReadOnly));
    QCOMPARE(QSslCertificate::fromData(pem.readAll(), QSsl::Pem), m_cert);
    QVERIFY(child<QLabel>(*view, "historyStatus")->text().startsWith(QStringLiteral("Exported to")));
    QCOMPARE(QFileInfo(m_settings->value(QStringLiteral("history/exportFolder")).toString()).canonicalFilePath(),
             QFileInfo(out.path()).canonicalFilePath());
}

void TestHistoryView::retentionIsSavedAndAnnounced()
{
    m_settings->setValue(QStringLiteral("history/keepDays"), 45);
    auto view = makeView();
    QCOMPARE(view->retention().keepDays, 45);
    QCOMPARE(view->retention().keepSessions, Store::Retention{}.keepSessions);
    QSignalSpy spy(view.get(), &HistoryView::retentionChanged);
    auto *days = child<QSpinBox>(*view, "historyKeepDays");
    auto *count = child<QSpinBox>(*view, "historyKeepSessions");
    QVERIFY(days && count);
    QVERIFY(!days->accessibleName().isEmpty() && !days->toolTip().isEmpty());
    days->setValue(7);
    QCOMPARE(spy.size(), 1);
    auto r = spy.takeFirst().first().value<Store::Retention>();
    QCOMPARE(r.keepDays, 7);
    count->setValue(0); // no count limit
    QCOMPARE(spy.size(), 1);
    r = spy.takeFirst().first().value<Store::Retention>();
    QCOMPARE(r.keepDays, 7);
    QCOMPARE(r.keepSessions, 0);
    QCOMPARE(count->text(), QStringLiteral("no limit"));
    QCOMPARE(m_settings->value(QStringLiteral("history/keepDays")).toInt(), 7);
    QCOMPARE(m_settings->value(QStringLiteral("history/keepSessions")).toInt(), 0);

    // Typing: only the finished value counts ("10" does not prune at "1" first).
    days->selectAll();
    QTest::keyClicks(days, QStringLiteral("10"));
    QCOMPARE(spy.size(), 0);
    QTest::keyClick(days, Qt::Key_Return);
    QCOMPARE(spy.size(), 1);
    QCOMPARE(spy.takeFirst().first().value<Store::Retention>().keepDays, 10);

    // The owner prunes with what was announced; the next view reads it back.
    QString error;
    const int gone = m_store->prune(view->retention(), &error);
    // Sessions are an hour apart over 300 hours: those older than 10 days go.
    QVERIFY2(gone > 0 && gone < kSessions, qPrintable(error));
    auto second = std::make_unique<HistoryView>(m_store.get(), m_settings.get());
    QCOMPARE(second->retention().keepDays, 10);
    QCOMPARE(second->retention().keepSessions, 0);
}

void TestHistoryView::refreshKeepsTheSelection()
{
    auto view = makeView();
    const qint64 id = m_ids.value(kSessions - 2);
    QVERIFY(view->select({id}));
    QTRY_VERIFY_WITH_TIMEOUT(!view->transcriptText().isEmpty(), 2000);
    const QString before = view->transcriptText();

    Fixtures::SendSpec spec;
    spec.target = QStringLiteral("new.test:587");
    QString error;
    const qint64 added = m_store->add(Store::recordFromSend(Fixtures::send(spec), Store::SessionKind::Send), &error);
    QVERIFY2(added > 0, qPrintable(error));
    view->refresh();
    QCOMPARE(view->shownIds().first(), added);
    auto *table = child<QTableView>(*view, "historyList");
    const QModelIndexList selected = table->selectionModel()->selectedRows();
    QCOMPARE(selected.size(), 1);
    QCOMPARE(table->model()->data(selected.first(), Qt::UserRole + 1).toLongLong(), id);
    QCOMPARE(view->transcriptText(), before);
}

void TestHistoryView::modelTester()
{
    auto view = makeView();
    QAbstractItemModel *model = child<QTableView>(*view, "historyList")->model();
    QCOMPARE(model->columnCount(), 6);
    QCOMPARE(model->rowCount(), 200);
    QVERIFY(model->canFetchMore({}));
    // The tester fetches more itself while checking; either way all 300 load.
    QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    if (model->canFetchMore({}))
        model->fetchMore({});
    QCOMPARE(model->rowCount(), kSessions);
    QVERIFY(!model->canFetchMore({}));
    view->setFilter(QStringLiteral("server"), QStringLiteral("example.test"));
    view->setFilter(QStringLiteral("text"), QStringLiteral("quokka"));
    view->setFilter(QStringLiteral("text"), QString());
    view->refresh();
    view->setFilter(QStringLiteral("server"), QString());
    QVERIFY(model->rowCount() >= 200);
    // Scrolled to the end, the view asks for the rest (from the event loop when
    // asked during a change).
    child<QTableView>(*view, "historyList")->scrollToBottom();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), kSessions, 3000);
    // Outcome coloured, and the word shown too.
    const QModelIndex outcome = model->index(0, 3);
    QCOMPARE(outcome.data().toString(), QStringLiteral("accepted"));
    QVERIFY(outcome.data(Qt::ForegroundRole).value<QColor>().isValid());
    QVERIFY(!model->index(0, 0).data(Qt::ToolTipRole).toString().isEmpty());
}

void TestHistoryView::controlsAreNamedAndFit()
{
    auto view = makeView();
    // Every page of the detail area once: a session, a comparison.
    QVERIFY(view->select({m_ids.value(155)}));
    QVERIFY(view->select({m_ids.value(155), m_ids.value(154)}));
    QTRY_VERIFY_WITH_TIMEOUT(!view->comparison().isEmpty(), 2000);

    QStringList unnamed;
    const QList<QWidget *> widgets = view->findChildren<QWidget *>();
    for (QWidget *w : widgets) {
        const bool control = qobject_cast<QAbstractButton *>(w) || qobject_cast<QLineEdit *>(w)
            || qobject_cast<QComboBox *>(w) || qobject_cast<QAbstractSpinBox *>(w)
            || (qobject_cast<QAbstractItemView *>(w) && !qobject_cast<QHeaderView *>(w));
        // Parts of composite controls, and the live views' own insides (their
        // tests check those), are named by their owners.
        bool inner = false;
        for (QWidget *p = w->parentWidget(); p && p != view.get(); p = p->parentWidget()) {
            if (qobject_cast<QAbstractSpinBox *>(p) || qobject_cast<QComboBox *>(p) || qobject_cast<TranscriptView *>(p)
                || qobject_cast<EventLogView *>(p) || qobject_cast<ResultPanel *>(p) || qobject_cast<QDialog *>(p)
                || qobject_cast<QAbstractItemView *>(p) || qobject_cast<QTabBar *>(p))
                inner = true;
        }
        if (control && !inner && w->isVisibleTo(view.get()) && w->accessibleName().isEmpty())
            unnamed.append(QStringLiteral("%1 %2").arg(QString::fromLatin1(w->metaObject()->className()), w->objectName()));
    }
    QVERIFY2(unnamed.isEmpty(), qPrintable(unnamed.join(QStringLiteral(", "))));

    // It fits a 1280x800 screen (window frame and the main window's tabs aside).
    const QSize min = view->minimumSizeHint();
    QVERIFY2(min.width() <= 1200 && min.height() <= 700,
             qPrintable(QStringLiteral("%1x%2").arg(min.width()).arg(min.height())));
    if (const QString shot = qEnvironmentVariable("SMTPSCOPE_HISTORY_SCREENSHOT"); !shot.isEmpty())
        QVERIFY(view->grab().save(shot));
}

void TestHistoryView::darkPaletteStaysReadable()
{
    auto view = makeView();
    QPalette dark = view->palette();
    dark.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
    dark.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
    dark.setColor(QPalette::Text, QColor(0xe8, 0xe8, 0xe8));
    dark.setColor(QPalette::WindowText, QColor(0xe8, 0xe8, 0xe8));
    QAbstractItemModel *model = child<QTableView>(*view, "historyList")->model();
    for (const QPalette &palette : {view->palette(), dark}) {
        view->setPalette(palette);
        const QColor base = palette.color(QPalette::Base);
        // Rows 0 (session 299: accepted) and 9 (session 290: rejected).
        for (int row : {0, 9}) {
            const QColor fg = model->index(row, 3).data(Qt::ForegroundRole).value<QColor>();
            QVERIFY(fg.isValid());
            QVERIFY2(LiveColours::contrast(fg, base) >= 4.5,
                     qPrintable(QStringLiteral("%1 on %2").arg(fg.name(), base.name())));
        }
        QCOMPARE(model->index(9, 3).data().toString(), QStringLiteral("rejected"));
    }
    // The comparison's tint leaves the dark palette's text readable.
    QVERIFY(view->select({m_ids.value(155), m_ids.value(154)}));
    auto *table = child<QTableWidget>(*view, "historyCompare");
    QTRY_VERIFY_WITH_TIMEOUT(table->rowCount() > 0, 2000);
    bool sawTint = false;
    for (int r = 0; r < table->rowCount(); ++r) {
        const QBrush b = table->item(r, 0)->background();
        if (b.style() == Qt::NoBrush)
            continue;
        sawTint = true;
        QVERIFY(LiveColours::contrast(b.color(), dark.color(QPalette::Text)) >= 4.5);
    }
    QVERIFY(sawTint);
}

void TestHistoryView::withoutADatabase()
{
    // The window keeps working when the file cannot be opened: the page says so.
    Store::HistoryStore closed;
    HistoryView view(&closed, m_settings.get());
    view.show();
    QVERIFY(view.shownIds().isEmpty());
    QVERIFY(!view.select({1}));
    QVERIFY(child<QLabel>(view, "historyStatus")->text().contains(QStringLiteral("not open")));
    QVERIFY(!child<QLineEdit>(view, "historySearch")->isEnabled());
    view.setFilter(QStringLiteral("text"), QStringLiteral("anything"));
    QVERIFY(view.shownIds().isEmpty());
}

void TestHistoryView::tenThousandSessionsStayResponsive()
{
    // A store of its own: 10,000 sessions of ~25 transcript lines each.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    Store::HistoryStore store;
    QString error;
    QVERIFY2(store.open(dir.filePath(QStringLiteral("big.sqlite")), &error), qPrintable(error));
    QElapsedTimer filling;
    filling.start();
    const QDateTime newest = QDateTime::currentDateTimeUtc();
    constexpr int kBig = 10000;
    QSet<qint64> wombats;
    for (int i = 0; i < kBig; ++i) {
        Fixtures::SendSpec spec = specFor(i);
        if (i % 997 == 0)
            spec.extraServerLine = QStringLiteral("250 2.0.0 wombat %1").arg(i);
        Store::SessionRecord r = Store::recordFromSend(Fixtures::send(spec), Store::SessionKind::Send);
        r.started = newest.addSecs(-60LL * (kBig - i));
        r.subject = QStringLiteral("Bulk %1").arg(i);
        const qint64 id = store.add(r, &error);
        QVERIFY2(id > 0, qPrintable(error));
        if (i % 997 == 0 && i % 10 != 1)
            wombats.insert(id);
    }
    qInfo("filled 10,000 sessions in %lld ms", filling.elapsed());

    Heartbeat heartbeat;
    std::unique_ptr<HistoryView> view;
    QElapsedTimer opening;
    // Built from the event loop once the heartbeat beats, so it sees any pause
    // the construction and the first page cause.
    QTimer::singleShot(50, this, [&] {
        opening.start();
        view = std::make_unique<HistoryView>(&store, m_settings.get());
        view->resize(1280, 800);
        view->show();
    });
    QTRY_VERIFY_WITH_TIMEOUT(view && view->shownIds().size() == 200, 5000);
    qInfo("first page after %lld ms; longest GUI pause %lld ms", opening.elapsed(), heartbeat.maxGapMs());
    QVERIFY2(heartbeat.maxGapMs() < Bounds::timeMs(200), qPrintable(QStringLiteral("GUI thread paused %1 ms").arg(heartbeat.maxGapMs())));
    QVERIFY(child<QLabel>(*view, "historyStatus")->text().contains(QStringLiteral("of 10000")));

    Heartbeat searching;
    QElapsedTimer answer;
    answer.start();
    QTest::keyClicks(child<QLineEdit>(*view, "historySearch"), QStringLiteral("wombat"));
    QTRY_COMPARE_WITH_TIMEOUT(toSet(view->shownIds()), wombats, 5000);
    qInfo("search answered after %lld ms (typing and the %d ms pause included); longest GUI pause %lld ms",
          answer.elapsed(), 250, searching.maxGapMs());
    QVERIFY2(searching.maxGapMs() < Bounds::timeMs(200), qPrintable(QStringLiteral("GUI thread paused %1 ms").arg(searching.maxGapMs())));

    // Scrolling the unfiltered list reads the next page just as quickly.
    child<QLineEdit>(*view, "historySearch")->clear();
    QTRY_COMPARE_WITH_TIMEOUT(view->shownIds().size(), 200, 3000);
    Heartbeat scrolling;
    child<QTableView>(*view, "historyList")->scrollToBottom();
    QTRY_VERIFY_WITH_TIMEOUT(view->shownIds().size() >= 400, 3000);
    QVERIFY2(scrolling.maxGapMs() < Bounds::timeMs(200), qPrintable(QStringLiteral("GUI thread paused %1 ms").arg(scrolling.maxGapMs())));
    view.reset();
}

QTEST_MAIN(TestHistoryView)
#include "tst_historyview.moc"
