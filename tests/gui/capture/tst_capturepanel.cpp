// CapturePanel on real widgets over a real MessageStore in a temporary folder:
// listing (before and after setStore, newest first), the detail tabs, saving an
// attachment, the HTML view never reaching the network (a QTcpServer on
// loopback must see no connection) while cid: images resolve, delete, clear and
// resend; the details loaded off the GUI thread (a loading state, stale results
// dropped), a message too complex to parse shown as raw source that can be saved
// whole, and large or hostile messages never pausing the GUI thread for 100 ms
// (the Heartbeat).

#include <QAbstractItemModelTester>
#include <QBuffer>
#include <QFile>
#include <QHeaderView>
#include <QElapsedTimer>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QImage>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTextDocument>
#include <QThread>
#include <QTimer>

#include "sanitize/bounds.h"
#include "../../unit/parsedmessage/hostilemessage.h"
#include "../../unit/parsedmessage/samplemessage.h"
#include "capture/capturelistmodel.h"
#include "../heartbeat.h"
#include "capture/capturepanel.h"
#include "capture/messagestore.h"
#include "capture/safehtmlbrowser.h"

namespace {

QByteArray pngBytes()
{
    QImage image(7, 5, QImage::Format_RGB32);
    image.fill(QColor(10, 120, 200));
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return bytes;
}

QByteArray simple(const QByteArray &subject)
{
    return "From: a@example.test\r\nTo: b@example.test\r\nSubject: " + subject + "\r\n\r\nbody of " + subject + "\r\n";
}

QPushButton *button(QWidget *panel, const QString &accessibleName)
{
    for (QPushButton *b : panel->findChildren<QPushButton *>()) {
        if (b->accessibleName() == accessibleName)
            return b;
    }
    return nullptr;
}

} // namespace

class TestCapturePanel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void listsBeforeAndAfterSetStoreNewestFirst();
    void selectingShowsDetails();
    void saveAttachmentWritesDecodedBytes();
    void htmlNeverFetches();
    void deleteRemovesFromListAndStore();
    void clearAll();
    void resendCarriesPath();
    void rawIsBounded();
    void unparsableStillShowsRaw();
    void loadingStateThenShown();
    void staleResultDropped();
    void millionPartsNeverPauseTheGui();
    void largeMessagesNeverPauseTheGui_data();
    void largeMessagesNeverPauseTheGui();
    void everyControlNamed();
    void fitsAt1280x800();
    void listHoldsPagesOfALargeStore();

private:
    QString commit(const QByteArray &bytes, const QString &from = QStringLiteral("sender@example.test"));
    // Selects `id` and waits (bounded) until its details are filled in.
    void show(const QString &id);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Capture::MessageStore> m_store;
    std::unique_ptr<CapturePanel> m_panel;
};

QString TestCapturePanel::commit(const QByteArray &bytes, const QString &from)
{
    QString error;
    auto incoming = m_store->begin(from, {QStringLiteral("rcpt@example.test")}, &error);
    if (!incoming || !incoming->write(bytes, &error))
        qFatal("begin/write failed: %s", qPrintable(error));
    const QString id = m_store->commit(std::move(incoming), &error);
    if (id.isEmpty())
        qFatal("commit failed: %s", qPrintable(error));
    return id;
}

void TestCapturePanel::show(const QString &id)
{
    m_panel->selectMessage(id);
    QCOMPARE(m_panel->selectedId(), id);
    QTRY_VERIFY_WITH_TIMEOUT(m_panel->detailState() != CapturePanel::DetailState::Loading, 10000);
}

void TestCapturePanel::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_store = std::make_unique<Capture::MessageStore>();
    QString error;
    QVERIFY2(m_store->open(m_dir->path(), &error), qPrintable(error));
    m_panel = std::make_unique<CapturePanel>();
    m_panel->resize(1280, 800);
}

void TestCapturePanel::cleanup()
{
    m_panel.reset();
    m_store.reset();
    m_dir.reset();
}

void TestCapturePanel::listsBeforeAndAfterSetStoreNewestFirst()
{
    const QString first = commit(simple("one"));
    const QString second = commit(simple("two"));
    QCOMPARE(m_panel->messageCount(), 0);
    auto *table = m_panel->findChild<QTableView *>(QStringLiteral("captureList"));
    QVERIFY(table);
    QAbstractItemModelTester tester(table->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);

    m_panel->setStore(m_store.get());
    QCOMPARE(m_panel->messageCount(), 2);
    const QString third = commit(simple("three"));
    QCOMPARE(m_panel->messageCount(), 3);

    QAbstractItemModel *model = table->model();
    const QStringList order{model->index(0, 0).data(Qt::UserRole + 1).toString(),
                            model->index(1, 0).data(Qt::UserRole + 1).toString(),
                            model->index(2, 0).data(Qt::UserRole + 1).toString()};
    QCOMPARE(order, (QStringList{third, second, first}));
    QCOMPARE(model->index(0, 3).data().toString(), QStringLiteral("three"));
    QCOMPARE(model->index(0, 1).data().toString(), QStringLiteral("sender@example.test"));
    QCOMPARE(model->index(0, 2).data().toString(), QStringLiteral("rcpt@example.test"));

    // Detached: the store's later messages no longer reach the panel.
    m_panel->setStore(nullptr);
    QCOMPARE(m_panel->messageCount(), 0);
    commit(simple("four"));
    QCOMPARE(m_panel->messageCount(), 0);
}

void TestCapturePanel::selectingShowsDetails()
{
    m_panel->setStore(m_store.get());
    const QString other = commit(simple("other"));
    const QString id = commit(Sample::message(pngBytes()));
    QCOMPARE(m_panel->selectedId(), QString());
    show(id);
    QCOMPARE(m_panel->detailState(), CapturePanel::DetailState::Shown);

    QVERIFY2(m_panel->headersText().contains(QStringLiteral("Subject: ") + Sample::subject()),
             qPrintable(m_panel->headersText()));
    QVERIFY(m_panel->headersText().contains(QStringLiteral("Message-ID: <sample-1@example.test>")));
    QCOMPARE(m_panel->plainText(), QString(Sample::plainText().chopped(2)).replace(QLatin1String("\r\n"), QLatin1String("\n")));
    QCOMPARE(m_panel->htmlSource(), Sample::htmlText(QStringLiteral("http://127.0.0.1:9/x.png")));
    QCOMPARE(m_panel->mimeTreeText(),
             QStringLiteral("multipart/mixed\n  multipart/related\n    multipart/alternative\n      text/plain\n"
                            "      text/html\n    image/png\n  application/pdf\n  text/csv"));
    QCOMPARE(m_panel->attachmentNames(), (QStringList{QStringLiteral("logo.png"), Sample::pdfName(), Sample::csvName()}));
    QVERIFY(m_panel->rawText().startsWith(QLatin1String("Return-Path: <sender@example.test>\r\n")));
    QCOMPARE(m_panel->rawText().size(), Sample::message(pngBytes()).size());

    // Another selection replaces everything.
    show(other);
    QCOMPARE(m_panel->plainText(), QStringLiteral("body of other\n"));
    QVERIFY(m_panel->htmlSource().isEmpty());
    QVERIFY(m_panel->attachmentNames().isEmpty());
    QCOMPARE(m_panel->mimeTreeText(), QStringLiteral("text/plain"));
}

void TestCapturePanel::saveAttachmentWritesDecodedBytes()
{
    m_panel->setStore(m_store.get());
    const QByteArray png = pngBytes();
    show(commit(Sample::message(png)));

    const QString pdfPath = m_dir->filePath(QStringLiteral("saved.pdf"));
    QString error;
    QVERIFY2(m_panel->saveAttachment(Sample::pdfName(), pdfPath, &error), qPrintable(error));
    QFile pdf(pdfPath);
    QVERIFY(pdf.open(QIODevice::ReadOnly));
    QCOMPARE(pdf.readAll(), Sample::pdfBytes());

    const QString pngPath = m_dir->filePath(QStringLiteral("saved.png"));
    QVERIFY(m_panel->saveAttachment(QStringLiteral("logo.png"), pngPath, &error));
    QFile pngFile(pngPath);
    QVERIFY(pngFile.open(QIODevice::ReadOnly));
    QCOMPARE(pngFile.readAll(), png);

    QVERIFY(!m_panel->saveAttachment(QStringLiteral("nope.bin"), m_dir->filePath(QStringLiteral("x")), &error));
    QVERIFY(error.contains(QLatin1String("nope.bin")));
    QVERIFY(!QFile::exists(m_dir->filePath(QStringLiteral("x"))));
}

void TestCapturePanel::htmlNeverFetches()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const QString remote = QStringLiteral("http://127.0.0.1:%1/x.png").arg(server.serverPort());
    QSignalSpy connections(&server, &QTcpServer::newConnection);

    m_panel->setStore(m_store.get());
    const QByteArray png = pngBytes();
    const QString id = commit(Sample::message(png, remote));
    m_panel->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_panel.get()));
    auto *tabs = m_panel->findChild<QTabWidget *>();
    QVERIFY(tabs);
    auto *html = m_panel->findChild<SafeHtmlBrowser *>(QStringLiteral("captureHtml"));
    QVERIFY(html);
    tabs->setCurrentIndex(tabs->indexOf(html->parentWidget()));
    show(id);
    QCOMPARE(m_panel->htmlSource(), Sample::htmlText(remote));
    (void)m_panel->grab(); // lays out and paints the document, images included

    QVERIFY(!connections.wait(1000));
    QCOMPARE(connections.count(), 0);
    QVERIFY(!server.hasPendingConnections());

    // The document got the cid: image from the message itself, and nothing for
    // the remote one, nor for file: or relative names.
    const QVariant cid = html->document()->resource(QTextDocument::ImageResource, QUrl(QStringLiteral("cid:logo@example.test")));
    QVERIFY(cid.isValid());
    const QImage image = cid.value<QImage>();
    QCOMPARE(image.size(), QSize(7, 5));
    QCOMPARE(image.pixelColor(3, 2), QColor(10, 120, 200));
    QVERIFY(html->blockedCount() >= 1);
    QVERIFY(!html->document()->resource(QTextDocument::ImageResource, QUrl(remote)).isValid());
    const QString local = m_dir->filePath(QStringLiteral("local.png"));
    QFile localFile(local);
    QVERIFY(localFile.open(QIODevice::WriteOnly));
    localFile.write(png);
    localFile.close();
    QVERIFY(!html->loadResource(QTextDocument::ImageResource, QUrl::fromLocalFile(local)).isValid());
    QVERIFY(!html->loadResource(QTextDocument::ImageResource, QUrl(QStringLiteral("local.png"))).isValid());
    QVERIFY(!html->loadResource(QTextDocument::ImageResource, QUrl(QStringLiteral("cid:unknown@example.test"))).isValid());
    QVERIFY(!html->openLinks());
    QVERIFY(!html->openExternalLinks());
}

void TestCapturePanel::deleteRemovesFromListAndStore()
{
    m_panel->setStore(m_store.get());
    const QString keep = commit(simple("keep"));
    const QString byKey = commit(simple("by key"));
    const QString byButton = commit(simple("by button"));
    m_panel->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_panel.get()));

    auto *table = m_panel->findChild<QTableView *>(QStringLiteral("captureList"));
    m_panel->selectMessage(byKey);
    table->setFocus();
    QTRY_VERIFY_WITH_TIMEOUT(table->hasFocus(), 2000);
    QTest::keyClick(table, Qt::Key_Delete);
    QCOMPARE(m_panel->messageCount(), 2);
    QVERIFY(!m_store->message(byKey));
    QVERIFY(m_panel->selectedId() != byKey);

    m_panel->selectMessage(byButton);
    QPushButton *del = button(m_panel.get(), QStringLiteral("Delete message"));
    QVERIFY(del && del->isEnabled());
    QTest::mouseClick(del, Qt::LeftButton);
    QCOMPARE(m_panel->messageCount(), 1);
    QVERIFY(!m_store->message(byButton));
    QCOMPARE(m_store->messages().size(), 1);
    QCOMPARE(m_store->messages().first().id, keep);
}

void TestCapturePanel::clearAll()
{
    m_panel->setStore(m_store.get());
    commit(simple("a"));
    const QString b = commit(simple("b"));
    m_panel->selectMessage(b);
    m_panel->setConfirmClear(false);
    QPushButton *clear = button(m_panel.get(), QStringLiteral("Clear all messages"));
    QVERIFY(clear && clear->isEnabled());
    QTest::mouseClick(clear, Qt::LeftButton);
    QCOMPARE(m_panel->messageCount(), 0);
    QVERIFY(m_store->messages().isEmpty());
    QCOMPARE(m_panel->selectedId(), QString());
    QVERIFY(m_panel->plainText().isEmpty());
    QVERIFY(!clear->isEnabled());
}

void TestCapturePanel::resendCarriesPath()
{
    m_panel->setStore(m_store.get());
    const QString id = commit(simple("resend me"));
    QSignalSpy spy(m_panel.get(), &CapturePanel::resendRequested);
    QPushButton *resend = button(m_panel.get(), QStringLiteral("Resend message"));
    QVERIFY(resend);
    QVERIFY(!resend->isEnabled()); // nothing selected yet
    m_panel->selectMessage(id);
    QVERIFY(resend->isEnabled());
    QTest::mouseClick(resend, Qt::LeftButton);
    QCOMPARE(spy.count(), 1);
    const QString path = spy.at(0).at(0).toString();
    QCOMPARE(path, m_store->message(id)->path);
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), simple("resend me"));
}

void TestCapturePanel::rawIsBounded()
{
    // The raw and text views hold the first 2,000 lines, each at most 2,000
    // characters: a text document costs the GUI thread per line and a line
    // costs it per character (shaped when painted).
    m_panel->setStore(m_store.get());
    const QByteArray longLine = QByteArray(100000, 'L') + "\r\n";
    QByteArray body = longLine;
    while (body.size() < 1536 * 1024)
        body += "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n";
    const QByteArray message = simple("large") + body;
    show(commit(message));
    QCOMPARE(m_panel->detailState(), CapturePanel::DetailState::Shown);

    const QStringList raw = m_panel->rawText().split(QLatin1Char('\n'));
    const QList<QByteArray> lines = message.split('\n');
    QVERIFY(raw.size() < 2000 + 5);
    QCOMPARE(raw.at(0), QString::fromLatin1(lines.at(0)));
    const int longAt = 5; // From, To, Subject, the empty line, "body of large", then the long one
    QVERIFY(lines.at(longAt).startsWith("LLLL"));
    QCOMPARE(raw.at(longAt), QString(2000, QLatin1Char('L')) + QStringLiteral(" [+%1 characters]").arg(QLocale().toString(100000 - 2000 + 1)));
    QCOMPARE(raw.at(1999), QString::fromLatin1(lines.at(1999)));
    QVERIFY2(m_panel->rawText().contains(QLocale().toString(message.size())), qPrintable(m_panel->rawText().right(150)));

    // The body is parsed whole; the Text tab shows its beginning, with a note
    // of the whole length.
    const QString plain = QString::fromLatin1("body of large\r\n" + body).replace(QLatin1String("\r\n"), QLatin1String("\n"));
    const QStringList shown = m_panel->plainText().split(QLatin1Char('\n'));
    QVERIFY(shown.size() < 2000 + 5);
    QCOMPARE(shown.at(0), QStringLiteral("body of large"));
    QVERIFY(shown.at(1).startsWith(QString(2000, QLatin1Char('L')) + QLatin1String(" [+")));
    QCOMPARE(shown.at(2), plain.section(QLatin1Char('\n'), 2, 2));
    QVERIFY2(m_panel->plainText().contains(QLocale().toString(plain.size())), qPrintable(m_panel->plainText().right(150)));
}

void TestCapturePanel::unparsableStillShowsRaw()
{
    m_panel->setStore(m_store.get());
    QByteArray deep = "From: a@example.test\r\nSubject: deep\r\n";
    for (int i = 0; i < 200; ++i)
        deep += "Content-Type: multipart/mixed; boundary=\"b" + QByteArray::number(i) + "\"\r\n\r\n--b"
            + QByteArray::number(i) + "\r\n";
    show(commit(deep));
    QCOMPARE(m_panel->rawText(), QString::fromLatin1(deep));
    QVERIFY2(m_panel->headersText().contains(QLatin1String("deeper than 32")), qPrintable(m_panel->headersText()));
    QVERIFY(m_panel->attachmentNames().isEmpty());
    QCOMPARE(m_panel->detailState(), CapturePanel::DetailState::TooComplex);
    QVERIFY2(m_panel->stateText().contains(QLatin1String("Too complex to display")), qPrintable(m_panel->stateText()));
}

void TestCapturePanel::loadingStateThenShown()
{
    m_panel->setStore(m_store.get());
    const QString id = commit(simple("loading"));
    QSignalSpy shown(m_panel.get(), &CapturePanel::messageShown);
    m_panel->selectMessage(id);
    // The file is read and parsed on the worker: until its result is back
    // the details say so, and show nothing of another message.
    QCOMPARE(m_panel->detailState(), CapturePanel::DetailState::Loading);
    QVERIFY2(m_panel->stateText().contains(QLatin1String("Loading")), qPrintable(m_panel->stateText()));
    QVERIFY(m_panel->plainText().isEmpty());
    QVERIFY(shown.wait(10000));
    QCOMPARE(shown.constFirst().constFirst().toString(), id);
    QCOMPARE(m_panel->detailState(), CapturePanel::DetailState::Shown);
    QVERIFY(m_panel->stateText().isEmpty());
    QCOMPARE(m_panel->plainText(), QStringLiteral("body of loading\n"));
}

void TestCapturePanel::staleResultDropped()
{
    // A large message selected, then at once a small one: the large one's
    // result (whenever it comes) must not replace the small one's details.
    m_panel->setStore(m_store.get());
    const QString large = commit(Hostile::manyParts(9999));
    const QString small = commit(simple("small"));
    QSignalSpy shown(m_panel.get(), &CapturePanel::messageShown);
    m_panel->selectMessage(large);
    m_panel->selectMessage(small);
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->detailState(), CapturePanel::DetailState::Shown, 10000);
    QCOMPARE(m_panel->plainText(), QStringLiteral("body of small\n"));
    // The worker runs jobs in order: the large one's came (or was skipped)
    // before the small one's. Nothing more arrives.
    QVERIFY(!shown.wait(500));
    QCOMPARE(shown.size(), 1);
    QCOMPARE(shown.constFirst().constFirst().toString(), small);
    QCOMPARE(m_panel->plainText(), QStringLiteral("body of small\n"));
    QCOMPARE(m_panel->mimeTreeText(), QStringLiteral("text/plain"));
}

void TestCapturePanel::millionPartsNeverPauseTheGui()
{
    // 1,000,000 parts in 34 MiB: refused by the parser's part bound, shown as
    // raw source (bounded) with a clear "too complex" state; the whole file can
    // still be saved. Selecting it never pauses the GUI thread for 100 ms.
    m_panel->setStore(m_store.get());
    m_panel->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_panel.get()));
    const QByteArray message = Hostile::manyParts(1000000);
    const QString id = commit(message);
    QCOMPARE(m_panel->detailState(), CapturePanel::DetailState::Empty);
    auto *tabs = m_panel->findChild<QTabWidget *>();
    QVERIFY(tabs);

    QSignalSpy shown(m_panel.get(), &CapturePanel::messageShown);
    QElapsedTimer clock;
    Heartbeat heartbeat;
    // From the event loop once the heartbeat beats, so that it sees the pause
    // the selection itself causes.
    QTimer::singleShot(50, this, [&] {
        clock.start();
        m_panel->selectMessage(id);
    });
    QVERIFY(shown.wait(30000));
    const qint64 shownAfter = clock.elapsed();
    QCOMPARE(m_panel->detailState(), CapturePanel::DetailState::TooComplex);
    // Every tab looked at in turn, as a user would, inside the measured span.
    for (int i = 0; i < tabs->count(); ++i) {
        tabs->setCurrentIndex(i);
        (void)m_panel->grab();
        QTest::qWait(20);
    }
    qInfo("1,000,000 parts: too complex after %lld ms; longest GUI pause %lld ms", shownAfter, heartbeat.maxGapMs());
    QVERIFY2(heartbeat.maxGapMs() < Bounds::timeMs(100), qPrintable(QStringLiteral("GUI thread paused %1 ms").arg(heartbeat.maxGapMs())));

    QVERIFY2(m_panel->stateText().contains(QLatin1String("Too complex to display")), qPrintable(m_panel->stateText()));
    QVERIFY2(m_panel->stateText().contains(QLatin1String("more than 10000 MIME parts")), qPrintable(m_panel->stateText()));
    // The raw source's first 2,000 lines, and a note of the whole size.
    const QString raw = m_panel->rawText();
    const qsizetype lines2000 = [&] {
        qsizetype at = -1;
        for (int i = 0; i < 2000; ++i)
            at = message.indexOf('\n', at + 1);
        return at + 1;
    }();
    QVERIFY(raw.startsWith(QString::fromLatin1(message.left(lines2000))));
    QVERIFY(raw.size() < lines2000 + 300);
    QVERIFY2(raw.contains(QLocale().toString(message.size())), qPrintable(raw.right(150)));
    QVERIFY(m_panel->attachmentNames().isEmpty());
    QVERIFY(m_panel->mimeTreeText().isEmpty());

    QPushButton *saveRaw = button(m_panel.get(), QStringLiteral("Save raw message"));
    QVERIFY(saveRaw && saveRaw->isEnabled());
    const QString copy = m_dir->filePath(QStringLiteral("whole.eml"));
    QString error;
    QVERIFY2(m_panel->saveRawMessage(copy, &error), qPrintable(error));
    QFile saved(copy);
    QVERIFY(saved.open(QIODevice::ReadOnly));
    QVERIFY(saved.readAll() == message);
}

void TestCapturePanel::largeMessagesNeverPauseTheGui_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QString>("treeEnd"); // the MIME tree's last line
    QTest::addRow("9,999 parts: at the part bound") << Hostile::manyParts(9999) << QStringLiteral("... 9500 more part(s), not shown");
    QTest::addRow("40 MiB of text") << Hostile::largeText(40 * 1024 * 1024) << QStringLiteral("text/plain");
    QByteArray html = Hostile::head("text/html; charset=utf-8");
    while (html.size() < 4 * 1024 * 1024)
        html += "<p>A paragraph of a long <b>newsletter</b> with <a href=\"https://example.test/\">a link</a>.</p>\r\n";
    QTest::addRow("4 MiB of HTML") << html << QStringLiteral("text/html");
}

void TestCapturePanel::largeMessagesNeverPauseTheGui()
{
    // Within the parser's bounds, but large: every view gets a bounded excerpt,
    // so filling the tabs stays short.
    QFETCH(QByteArray, message);
    QFETCH(QString, treeEnd);
    m_panel->setStore(m_store.get());
    m_panel->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_panel.get()));
    const QString id = commit(message);
    QCOMPARE(m_panel->detailState(), CapturePanel::DetailState::Empty);
    auto *tabs = m_panel->findChild<QTabWidget *>();
    QVERIFY(tabs);

    QSignalSpy shown(m_panel.get(), &CapturePanel::messageShown);
    QElapsedTimer clock;
    Heartbeat heartbeat;
    QTimer::singleShot(50, this, [&] {
        clock.start();
        m_panel->selectMessage(id);
    });
    QVERIFY(shown.wait(30000));
    const qint64 shownAfter = clock.elapsed();
    QCOMPARE(m_panel->detailState(), CapturePanel::DetailState::Shown);
    // Every tab looked at in turn, as a user would, inside the measured span.
    for (int i = 0; i < tabs->count(); ++i) {
        tabs->setCurrentIndex(i);
        (void)m_panel->grab();
        QTest::qWait(20);
    }
    qInfo("%s: shown after %lld ms; longest GUI pause %lld ms", QTest::currentDataTag(), shownAfter, heartbeat.maxGapMs());
    QVERIFY2(heartbeat.maxGapMs() < Bounds::timeMs(100), qPrintable(QStringLiteral("GUI thread paused %1 ms").arg(heartbeat.maxGapMs())));
    QVERIFY(m_panel->mimeTreeText().endsWith(treeEnd));
    QVERIFY(m_panel->plainText().size() < 1024 * 1024 + 200);
    QVERIFY(m_panel->rawText().size() < 1024 * 1024 + 200);
}

void TestCapturePanel::everyControlNamed()
{
    m_panel->setStore(m_store.get());
    m_panel->setServerInfo(QStringLiteral("Listening on 127.0.0.1:2525"));
    QStringList unnamed;
    QList<QWidget *> controls;
    for (auto *w : m_panel->findChildren<QPushButton *>())
        controls << w;
    for (auto *w : m_panel->findChildren<QAbstractItemView *>()) {
        if (!qobject_cast<QHeaderView *>(w)) // a view's header is part of the view
            controls << w;
    }
    for (auto *w : m_panel->findChildren<QPlainTextEdit *>())
        controls << w;
    for (auto *w : m_panel->findChildren<QTextEdit *>())
        controls << w;
    for (auto *w : m_panel->findChildren<QTabWidget *>())
        controls << w;
    for (auto *w : m_panel->findChildren<QLabel *>())
        controls << w;
    QVERIFY(controls.size() >= 14);
    for (QWidget *w : std::as_const(controls)) {
        if (w->accessibleName().isEmpty())
            unnamed << QString::fromLatin1(w->metaObject()->className()) + QLatin1Char(' ') + w->objectName();
    }
    QVERIFY2(unnamed.isEmpty(), qPrintable(unnamed.join(QStringLiteral(", "))));
}

void TestCapturePanel::fitsAt1280x800()
{
    m_panel->setStore(m_store.get());
    show(commit(Sample::message(pngBytes())));
    const QSize minimum = m_panel->minimumSizeHint();
    QVERIFY2(minimum.width() <= 1280 && minimum.height() <= 800,
             qPrintable(QStringLiteral("%1x%2").arg(minimum.width()).arg(minimum.height())));
    // Room for the list and the details at that size (the splitter gives both some).
    m_panel->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_panel.get()));
    auto *table = m_panel->findChild<QTableView *>(QStringLiteral("captureList"));
    auto *tabs = m_panel->findChild<QTabWidget *>();
    QTRY_VERIFY_WITH_TIMEOUT(table->height() >= 150 && tabs->height() >= 250, 2000);
}

void TestCapturePanel::listHoldsPagesOfALargeStore()
{
    // 1,234 messages (files of an older version's folder, indexed at open):
    // the list holds the newest page, and a page more each time it is asked.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QStringList ids;
    for (int i = 0; i < 1234; ++i) {
        ids << QStringLiteral("20260101T%1-%2")
                   .arg(QTime(0, 0).addSecs(i / 100).toString(QStringLiteral("HHmmss")))
                   .arg(i % 100 + 1, 6, 10, QLatin1Char('0'));
        QFile f(dir.filePath(ids.last() + QStringLiteral(".eml")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("Subject: page " + QByteArray::number(i) + "\r\n\r\nx\r\n");
    }
    Capture::MessageStore store;
    QString error;
    QVERIFY2(store.open(dir.path(), &error), qPrintable(error));
    {
        CaptureListModel model;
        model.setStore(&store);
        QCOMPARE(model.rowCount(), 500);
        QCOMPARE(model.messageAt(0)->id, ids.last());
        QVERIFY(model.canFetchMore({}));
        model.fetchMore({});
        QTRY_COMPARE(model.rowCount(), 1000);
        model.fetchMore({});
        QTRY_COMPARE(model.rowCount(), 1234);
        QVERIFY(!model.canFetchMore({}));
        for (int row = 0; row < model.rowCount(); ++row)
            QCOMPARE(model.messageAt(row)->id, ids.at(ids.size() - 1 - row));
    }

    // Under the model tester (which asks for every page): a new message goes
    // on top, a removed one leaves, and paging stays in step.
    CaptureListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setStore(&store);
    auto incoming = store.begin(QStringLiteral("a@example.test"), {QStringLiteral("b@example.test")}, &error);
    QVERIFY(incoming && incoming->write("Subject: newest\r\n\r\nx\r\n", &error));
    const QString newest = store.commit(std::move(incoming), &error);
    QVERIFY2(!newest.isEmpty(), qPrintable(error));
    QVERIFY2(store.remove(ids.at(1000), &error), qPrintable(error));
    QCOMPARE(model.messageAt(0)->id, newest);
    QTRY_COMPARE(model.rowCount(), 1234);
    QVERIFY(!model.canFetchMore({}));
    QCOMPARE(model.rowOf(ids.at(1000)), -1);
    QCOMPARE(model.messageAt(model.rowCount() - 1)->id, ids.first());
}

QTEST_MAIN(TestCapturePanel)
#include "tst_capturepanel.moc"
