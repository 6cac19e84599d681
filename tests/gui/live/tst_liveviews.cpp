// TranscriptView, ThroughputChart, WarningsPanel and ResultPanel on real widgets.

#include "live/livecolours.h"
#include "live/liveviews.h"

#include <QDialog>
#include <QFile>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QTreeWidget>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>

namespace {

TranscriptEntry entry(qint64 us, TranscriptEntry::Direction d, const QString &text, bool tls = false)
{
    TranscriptEntry e;
    e.timeUs = us;
    e.direction = d;
    e.text = text;
    e.encrypted = tls;
    return e;
}

using D = TranscriptEntry::Direction;

QList<TranscriptEntry> rcptFailure()
{
    return {
        entry(1000, D::Info, QStringLiteral("connected to 127.0.0.1:2525")),
        entry(12000, D::Server, QStringLiteral("220 mail.test ESMTP")),
        entry(13000, D::Client, QStringLiteral("EHLO client.test")),
        entry(14000, D::Server, QStringLiteral("250-mail.test")),
        entry(14100, D::Server, QStringLiteral("250 STARTTLS")),
        entry(15000, D::Client, QStringLiteral("STARTTLS")),
        entry(16000, D::Server, QStringLiteral("220 go ahead")),
        entry(30000, D::Client, QStringLiteral("EHLO client.test"), true),
        entry(31000, D::Server, QStringLiteral("250 mail.test"), true),
        entry(32000, D::Client, QStringLiteral("MAIL FROM:<a@client.test>"), true),
        entry(33000, D::Server, QStringLiteral("250 2.1.0 ok"), true),
        entry(34000, D::Client, QStringLiteral("RCPT TO:<nobody@mail.test>"), true),
        entry(35000, D::Server, QStringLiteral("550 5.1.1 <nobody@mail.test>: no such user"), true),
        entry(36000, D::Client, QStringLiteral("QUIT"), true),
        entry(37000, D::Server, QStringLiteral("221 2.0.0 bye"), true),
    };
}

QColor foregroundOf(const QPlainTextEdit *edit, int line)
{
    const QTextBlock block = edit->document()->findBlockByNumber(line);
    return block.begin().fragment().charFormat().foreground().color();
}

QString runOpenssl(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral("openssl"), args);
    if (!p.waitForFinished(30000) || p.exitCode() != 0)
        return {};
    return QString::fromUtf8(p.readAllStandardOutput()).trimmed();
}

} // namespace

class TestLiveViews : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void transcriptLinesAndColours();
    void transcriptColoursReadableOnDarkPalette();
    void transcriptHighlightsAndExplainsRcptFailure();
    void transcriptFallsBackToErrorLine();
    void transcriptSave();
    void chartRatesAndThrottle();
    void chartUnitFollowsMagnitude();
    void chartDecimates();
    void warnings();
    void resultPanel();
    void resultPanelVerdicts_data();
    void resultPanelVerdicts();

private:
    QTemporaryDir m_certs;
    QList<QSslCertificate> m_chain;
};

void TestLiveViews::initTestCase()
{
    QVERIFY(m_certs.isValid());
    QProcess p;
    p.start(QStringLiteral(SMTPSCOPE_SOURCE_DIR "/tests/servers/make-certs"), {m_certs.path()});
    QVERIFY(p.waitForFinished(60000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    m_chain = QSslCertificate::fromPath(m_certs.filePath(QStringLiteral("smtp.test.pem")));
    m_chain += QSslCertificate::fromPath(m_certs.filePath(QStringLiteral("ca.pem")));
    QCOMPARE(m_chain.size(), 2);
}

void TestLiveViews::transcriptLinesAndColours()
{
    TranscriptView view;
    view.resize(900, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.append(rcptFailure().mid(0, 7));
    QCOMPARE(view.lineCount(), 7);
    view.append(rcptFailure().mid(7));
    // 15 entries and the TLS marker once, before the first [tls] line.
    QCOMPARE(view.lineCount(), 16);
    const QStringList lines = view.text().split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 16);
    QCOMPARE(lines.at(0), QStringLiteral("  0.001 * connected to 127.0.0.1:2525"));
    QCOMPARE(lines.at(2), QStringLiteral("  0.013 C EHLO client.test"));
    QCOMPARE(lines.at(7), QStringLiteral("---- TLS established ----"));
    QCOMPARE(lines.at(8), QStringLiteral("  0.030 C [tls] EHLO client.test"));
    QCOMPARE(view.text().count(QStringLiteral("TLS established")), 1);

    auto *edit = view.findChild<QPlainTextEdit *>();
    QVERIFY(edit);
    QVERIFY(edit->isReadOnly());
    QVERIFY(edit->maximumBlockCount() > 0);
    QCOMPARE(edit->document()->blockCount(), 16);
    const QColor client = foregroundOf(edit, 2);
    const QColor server = foregroundOf(edit, 1);
    const QColor info = foregroundOf(edit, 0);
    QVERIFY(client.isValid() && server.isValid());
    QVERIFY(client != server);
    QVERIFY(info != client && info != server);
    QCOMPARE(foregroundOf(edit, 8), client); // same direction, same colour inside TLS
    QCOMPARE(foregroundOf(edit, 9), server);
    const QColor base = edit->palette().color(QPalette::Base);
    QVERIFY(LiveColours::contrast(client, base) >= 4.5);
    QVERIFY(LiveColours::contrast(server, base) >= 4.5);

    view.clear();
    QCOMPARE(view.lineCount(), 0);
    view.append({entry(0, D::Client, QStringLiteral("NOOP"), true)});
    QCOMPARE(view.text(), QStringLiteral("---- TLS established ----\n  0.000 C [tls] NOOP\n"));
}

void TestLiveViews::transcriptColoursReadableOnDarkPalette()
{
    TranscriptView view;
    view.append(rcptFailure());
    auto *edit = view.findChild<QPlainTextEdit *>();
    QPalette dark = view.palette();
    dark.setColor(QPalette::Base, QColor(30, 30, 30));
    dark.setColor(QPalette::Text, QColor(230, 230, 230));
    dark.setColor(QPalette::Window, QColor(40, 40, 40));
    view.setPalette(dark);
    const QColor base = edit->palette().color(QPalette::Base);
    QCOMPARE(base, QColor(30, 30, 30));
    const QColor client = foregroundOf(edit, 2);
    const QColor server = foregroundOf(edit, 1);
    QVERIFY2(LiveColours::contrast(client, base) >= 4.5, qPrintable(client.name()));
    QVERIFY2(LiveColours::contrast(server, base) >= 4.5, qPrintable(server.name()));
    QVERIFY(client != server);
    QVERIFY(LiveColours::luminance(client) > LiveColours::luminance(base));
}

void TestLiveViews::transcriptHighlightsAndExplainsRcptFailure()
{
    TranscriptView view;
    view.resize(900, 500);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.append(rcptFailure());
    QCOMPARE(view.failingLine(), -1);
    QVERIFY(view.failureExplanation().isEmpty());

    SendResult result;
    result.target = QStringLiteral("127.0.0.1:2525");
    result.securityMode = QStringLiteral("starttls");
    result.error = SmtpError::make(SmtpError::Category::Reply, QStringLiteral("SMTP-REPLY-ERROR"),
                                   QStringLiteral("RCPT TO"), QStringLiteral("the recipient was refused"));
    result.error.replyCode = 550;
    result.error.enhancedCode = QStringLiteral("5.1.1");
    view.showOutcome(result);

    // Line 13: the 550 (after the TLS marker), not the later 221.
    QCOMPARE(view.failingLine(), 13);
    const QStringList lines = view.text().split(u'\n');
    QVERIFY(lines.at(13).contains(QStringLiteral("550 5.1.1")));
    auto *edit = view.findChild<QPlainTextEdit *>();
    const QList<QTextEdit::ExtraSelection> sel = edit->extraSelections();
    QCOMPARE(sel.size(), 1);
    QCOMPARE(sel.first().cursor.block().blockNumber(), 13);
    QVERIFY(sel.first().format.background().color().isValid());

    const QString explanation = view.failureExplanation();
    QVERIFY2(explanation.contains(QStringLiteral("550 5.1.1 at RCPT TO")), qPrintable(explanation));
    QVERIFY2(explanation.contains(QStringLiteral("Bad destination mailbox address")), qPrintable(explanation));
    // The label under the text shows it.
    bool shown = false;
    for (const QLabel *label : view.findChildren<QLabel *>())
        shown = shown || (label->isVisible() && label->text() == explanation);
    QVERIFY(shown);

    // A later successful outcome removes the highlight and the explanation.
    view.showOutcome(SendResult());
    QCOMPARE(view.failingLine(), -1);
    QVERIFY(edit->extraSelections().isEmpty());
    QVERIFY(view.failureExplanation().isEmpty());
}

void TestLiveViews::transcriptFallsBackToErrorLine()
{
    TranscriptView view;
    view.append({entry(0, D::Info, QStringLiteral("connecting")),
                 entry(5000000, D::Error, QStringLiteral("no greeting from the server in time")),
                 entry(5000100, D::Info, QStringLiteral("closed"))});
    SendResult result;
    result.target = QStringLiteral("mail.test:465");
    result.securityMode = QStringLiteral("starttls");
    result.error = SmtpError::make(SmtpError::Category::Transport, QStringLiteral("SOCKET-TIMEOUT"),
                                   QStringLiteral("Greeting"), QStringLiteral("no greeting"));
    view.showOutcome(result);
    QCOMPARE(view.failingLine(), 1);
    QVERIFY2(view.failureExplanation().contains(QStringLiteral("port 465 expects implicit TLS")),
             qPrintable(view.failureExplanation()));
}

void TestLiveViews::transcriptSave()
{
    TranscriptView view;
    view.append(rcptFailure());
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("t.txt"));
    QString error;
    QVERIFY2(view.saveTo(path, &error), qPrintable(error));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(f.readAll()), view.text());
    QVERIFY(!view.saveTo(dir.filePath(QStringLiteral("missing/t.txt")), &error));
    QVERIFY(!error.isEmpty());
}

void TestLiveViews::chartRatesAndThrottle()
{
    ThroughputChart chart;
    chart.resize(800, 400);
    chart.show();
    QVERIFY(QTest::qWaitForWindowExposed(&chart));
    chart.addSample(0, 0, 0);
    chart.addSample(1000, 2048, 1024);   // 2 KiB/s sent, 1 KiB/s received
    chart.addSample(1500, 3072, 1024);   // 1024 B in 0.5 s = 2 KiB/s, 0 received
    chart.addSample(1500, 9999, 9999);   // no time elapsed: ignored
    chart.addSample(3500, 11264, 5120);  // 8192 B / 2 s = 4 KiB/s; 4096 / 2 = 2 KiB/s
    // Redrawn on a timer, not per sample.
    QCOMPARE(chart.sentPointCount(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(chart.sentPointCount(), 3, 5000);
    QCOMPARE(chart.receivedPointCount(), 3);

    const QList<QPointF> sent = chart.sentRates();
    const QList<QPointF> received = chart.receivedRates();
    QCOMPARE(sent, (QList<QPointF>{{1.0, 2048.0}, {1.5, 2048.0}, {3.5, 4096.0}}));
    QCOMPARE(received, (QList<QPointF>{{1.0, 1024.0}, {1.5, 0.0}, {3.5, 2048.0}}));
    QCOMPARE(chart.rateUnit(), QStringLiteral("KiB/s"));

    // The series hold the same rates in the axis unit.
    auto *view = chart.findChild<QChartView *>();
    QVERIFY(view);
    auto *sentSeries = qobject_cast<QLineSeries *>(view->chart()->series().at(0));
    QVERIFY(sentSeries);
    QCOMPARE(sentSeries->points(), (QList<QPointF>{{1.0, 2.0}, {1.5, 2.0}, {3.5, 4.0}}));

    chart.addSample(4500, 12288, 5120);
    QTRY_COMPARE_WITH_TIMEOUT(chart.sentPointCount(), 4, 5000);
    // Counters reset (statistics cleared): a new baseline, no negative rate.
    chart.addSample(5000, 100, 100);
    chart.addSample(6000, 1124, 100);
    QTRY_COMPARE_WITH_TIMEOUT(chart.sentPointCount(), 5, 5000);
    QCOMPARE(chart.sentRates().last(), QPointF(6.0, 1024.0));

    chart.clear();
    QCOMPARE(chart.sentPointCount(), 0);
    QVERIFY(chart.sentRates().isEmpty());
}

void TestLiveViews::chartUnitFollowsMagnitude()
{
    ThroughputChart chart;
    chart.addSample(0, 0, 0);
    chart.addSample(1000, 5 * 1024 * 1024, 0); // 5 MiB/s
    QTRY_COMPARE_WITH_TIMEOUT(chart.sentPointCount(), 1, 5000);
    QCOMPARE(chart.rateUnit(), QStringLiteral("MiB/s"));
    auto *view = chart.findChild<QChartView *>();
    auto *series = qobject_cast<QLineSeries *>(view->chart()->series().at(0));
    QCOMPARE(series->at(0), QPointF(1.0, 5.0));
}

void TestLiveViews::chartDecimates()
{
    ThroughputChart chart;
    qint64 total = 0;
    for (int i = 0; i <= 6000; ++i) {
        chart.addSample(i * 100, total, total / 2);
        total += 1000;
    }
    QTRY_VERIFY_WITH_TIMEOUT(chart.sentPointCount() > 0, 5000);
    QVERIFY2(chart.sentPointCount() <= 2000, qPrintable(QString::number(chart.sentPointCount())));
    QVERIFY(chart.sentPointCount() >= 1000);
    // Constant 10,000 B/s: averaging keeps the rate; the newest point is exact.
    for (const QPointF &p : chart.sentRates())
        QCOMPARE(p.y(), 10000.0);
    QCOMPARE(chart.sentRates().last().x(), 600.0);
}

void TestLiveViews::warnings()
{
    WarningsPanel panel;
    QSignalSpy count(&panel, &WarningsPanel::countChanged);
    panel.append({
        QVariantMap{{QStringLiteral("type"), QStringLiteral("SOCKET-OPERATION-WARNING")},
                    {QStringLiteral("operation"), QStringLiteral("connect")},
                    {QStringLiteral("us"), qint64(1500000)},
                    {QStringLiteral("timeout"), qint64(500000)},
                    {QStringLiteral("arg"), 1}},
        QVariantMap{{QStringLiteral("type"), QStringLiteral("SOCKET-THROUGHPUT-WARNING")},
                    {QStringLiteral("dir"), QStringLiteral("send")},
                    {QStringLiteral("bytes"), qint64(2048)},
                    {QStringLiteral("us"), qint64(2000000)},
                    {QStringLiteral("bytes_sec"), 1024.0},
                    {QStringLiteral("threshold"), qint64(10240)},
                    {QStringLiteral("arg"), 1}},
    });
    QCOMPARE(panel.count(), 2);
    QCOMPARE(count.count(), 1);
    QCOMPARE(count.last().at(0).toInt(), 2);
    panel.appendText({QStringLiteral("the server does not support PIPELINING")});
    QCOMPARE(panel.count(), 3);

    auto *tree = panel.findChild<QTreeWidget *>();
    QVERIFY(tree);
    QCOMPARE(tree->topLevelItem(0)->text(1), QStringLiteral("Slow operation: connect took 1.500 s (threshold 0.500 s)"));
    QCOMPARE(tree->topLevelItem(1)->text(1),
             QStringLiteral("Low throughput: sent 2048 bytes in 2.000 s = 1.0 KiB/s (threshold 10.0 KiB/s)"));
    QCOMPARE(tree->topLevelItem(2)->text(1), QStringLiteral("the server does not support PIPELINING"));
    QVERIFY(!tree->topLevelItem(0)->text(0).isEmpty());
    panel.clear();
    QCOMPARE(panel.count(), 0);
    QCOMPARE(count.last().at(0).toInt(), 0);
}

void TestLiveViews::resultPanel()
{
    SendResult r;
    r.target = QStringLiteral("127.0.0.1:2525");
    r.securityMode = QStringLiteral("starttls");
    r.accepted = true;
    r.message = ServerReply{250, QStringLiteral("2.0.0"), QStringLiteral("Ok: queued as 4F2A")};
    r.recipients = {
        RecipientResult{QStringLiteral("alice@mail.test"), ServerReply{250, QStringLiteral("2.1.5"), QStringLiteral("ok")}},
        RecipientResult{QStringLiteral("nobody@mail.test"),
                        ServerReply{550, QStringLiteral("5.1.1"), QStringLiteral("no such user")}},
    };
    r.encrypted = true;
    r.tls.encrypted = true;
    r.tls.protocol = QStringLiteral("TLSv1.3");
    r.tls.cipher = QStringLiteral("TLS_AES_256_GCM_SHA384");
    r.tls.cipherBits = 256;
    r.tls.peerVerifyName = QStringLiteral("smtp.test");
    r.tls.verified = true;
    r.tls.chain = m_chain;
    r.timings = {StepTiming{QStringLiteral("connect"), 1500}, StepTiming{QStringLiteral("EHLO"), 2250}};

    ResultPanel panel;
    panel.resize(1280, 800);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    panel.showResult(r);

    QCOMPARE(panel.recipientRows(),
             (QList<QStringList>{
                 {QStringLiteral("alice@mail.test"), QStringLiteral("250"), QStringLiteral("2.1.5"), QStringLiteral("ok")},
                 {QStringLiteral("nobody@mail.test"), QStringLiteral("550"), QStringLiteral("5.1.1"),
                  QStringLiteral("no such user")}}));
    QVERIFY2(panel.summaryText().startsWith(QStringLiteral("Accepted by 127.0.0.1:2525: 250 2.0.0 Ok: queued as 4F2A")),
             qPrintable(panel.summaryText()));
    QVERIFY2(panel.summaryText().contains(QStringLiteral("1 of 2 recipients refused")), qPrintable(panel.summaryText()));
    QCOMPARE(panel.timingRows(), (QList<QStringList>{{QStringLiteral("connect"), QStringLiteral("1.5")},
                                                     {QStringLiteral("EHLO"), QStringLiteral("2.3")}}));

    const QString tls = panel.tlsSummaryText();
    const qint64 days = QDateTime::currentDateTimeUtc().daysTo(m_chain.first().expiryDate().toUTC());
    QVERIFY2(tls.contains(QStringLiteral("Protocol: TLSv1.3 (STARTTLS)")), qPrintable(tls));
    QVERIFY2(tls.contains(QStringLiteral("Cipher: TLS_AES_256_GCM_SHA384, 256 bits")), qPrintable(tls));
    QVERIFY2(tls.contains(QStringLiteral("CN=smtp.test")), qPrintable(tls));
    QVERIFY2(tls.contains(QStringLiteral("(%1 days left)").arg(days)), qPrintable(tls));
    QVERIFY2(tls.contains(QStringLiteral("Verdict: verified for smtp.test")), qPrintable(tls));

    // The chain dialog lists both certificates with the SHA-256 openssl computes.
    auto *button = panel.findChild<QPushButton *>();
    QVERIFY(button && button->isEnabled());
    QTest::mouseClick(button, Qt::LeftButton);
    QDialog *dialog = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((dialog = panel.findChild<QDialog *>(QStringLiteral("certificateChainDialog"))), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(dialog->isVisible(), 5000);
    auto *tree = dialog->findChild<QTreeWidget *>();
    QVERIFY(tree);
    QCOMPARE(tree->topLevelItemCount(), 2);
    const QString fingerprint = runOpenssl({QStringLiteral("x509"), QStringLiteral("-noout"),
                                            QStringLiteral("-fingerprint"), QStringLiteral("-sha256"),
                                            QStringLiteral("-in"), m_certs.filePath(QStringLiteral("smtp.test.pem"))});
    QVERIFY(fingerprint.contains(u'='));
    const QString expected = fingerprint.section(u'=', 1).trimmed().toUpper();
    QStringList leafFields;
    for (int i = 0; i < tree->topLevelItem(0)->childCount(); ++i)
        leafFields.append(tree->topLevelItem(0)->child(i)->text(0) + u'=' + tree->topLevelItem(0)->child(i)->text(1));
    QVERIFY2(leafFields.contains(QStringLiteral("SHA-256=") + expected), qPrintable(leafFields.join(u'\n')));
    QVERIFY2(leafFields.join(u'\n').contains(QStringLiteral("DNS:smtp.test")), qPrintable(leafFields.join(u'\n')));
    dialog->reject();

    panel.clear();
    QVERIFY(panel.recipientRows().isEmpty());
    QVERIFY(!button->isEnabled());
}

void TestLiveViews::resultPanelVerdicts_data()
{
    QTest::addColumn<bool>("verificationEnabled");
    QTest::addColumn<bool>("verified");
    QTest::addColumn<QString>("expected");
    QTest::addRow("not-verified") << true << false
                                  << QStringLiteral("Verdict: NOT verified: the certificate is for other.test, not smtp.test");
    QTest::addRow("insecure") << false << false << QStringLiteral("Verdict: insecure mode: the certificate was NOT verified");
}

void TestLiveViews::resultPanelVerdicts()
{
    QFETCH(bool, verificationEnabled);
    QFETCH(bool, verified);
    QFETCH(QString, expected);
    SendResult r;
    r.target = QStringLiteral("127.0.0.1:465");
    r.error = SmtpError::make(SmtpError::Category::Tls, QStringLiteral("SSL-VERIFY-ERROR"),
                              QStringLiteral("TLS handshake"), QStringLiteral("the certificate is for other.test"));
    r.tls.encrypted = true;
    r.tls.implicit = true;
    r.tls.protocol = QStringLiteral("TLSv1.2");
    r.tls.verificationEnabled = verificationEnabled;
    r.tls.verified = verified;
    r.tls.errors = {TlsInfo::CertificateError{QStringLiteral("HostNameMismatch"),
                                              QStringLiteral("the certificate is for other.test, not smtp.test"),
                                              QStringLiteral("CN=other.test")}};
    r.tls.chain = m_chain.mid(0, 1);
    ResultPanel panel;
    panel.showResult(r);
    const QString tls = panel.tlsSummaryText();
    QVERIFY2(tls.contains(expected), qPrintable(tls));
    QVERIFY2(tls.contains(QStringLiteral("(implicit TLS)")), qPrintable(tls));
    QVERIFY2(panel.summaryText().startsWith(QStringLiteral("Not sent: SSL-VERIFY-ERROR")), qPrintable(panel.summaryText()));
}

QTEST_MAIN(TestLiveViews)
#include "tst_liveviews.moc"
