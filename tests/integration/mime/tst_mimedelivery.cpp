// Composed messages (core/mime) through the real Postfix: what arrives in the
// Maildir is read by an independent parser (Python's email package,
// tests/unit/mime/parse_message.py) and compared with what was composed.

#include "client/smtpclient.h"
#include "mime/message.h"
#include "testservers.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

namespace {

QJsonObject parseIndependently(const QByteArray &delivered)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("delivered.eml"));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write(delivered);
    f.close();
    QProcess p;
    p.start(QStringLiteral("/usr/bin/python3"),
            {QStringLiteral(SMTPSCOPE_SOURCE_DIR "/tests/unit/mime/parse_message.py"), path});
    if (!p.waitForFinished(10000) || p.exitCode() != 0)
        return {};
    return QJsonDocument::fromJson(p.readAllStandardOutput()).object();
}

QString sha256(const QByteArray &data)
{
    return QString::fromLatin1(QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex());
}

} // namespace

class TestMimeDelivery : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { REQUIRE_MAILENV(); }
    void composedMessageArrivesIntact();
};

void TestMimeDelivery::composedMessageArrivesIntact()
{
    const MailEnv &env = MailEnv::get();
    const QByteArray marker = uniqueMarker();
    const QString subject = QStringLiteral("Grüße, 東京 — test ") + QString::fromLatin1(marker);
    const QString plain = QStringLiteral("Hello in plain text.\n.a line starting with a dot\nÜmlaut line\n");
    const QByteArray png = QByteArray::fromBase64(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    QTemporaryDir dir;
    QByteArray binary(300 * 1024, Qt::Uninitialized);
    for (int i = 0; i < binary.size(); ++i)
        binary[i] = char((qint64(i) * 7919) % 251);
    const QString binaryPath = dir.filePath(QStringLiteral("data.bin"));
    {
        QFile f(binaryPath);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(binary);
    }
    const QByteArray csv = "a,b\n1,2\n.3,4\n";
    const QByteArray pdfLike = "%PDF-1.4\n% not really a PDF\n";

    Message m(QStringLiteral("sender@example.test"), subject);
    m.setFrom(QStringLiteral("sender@example.test"), QStringLiteral("Sender, \"Quoted\" Name"));
    m.addTo(QStringLiteral("to@example.test"), QStringLiteral("Jörg Empfänger"));
    m.addCc(QStringLiteral("cc@example.test"));
    m.addBcc(QStringLiteral("hidden@example.test"));
    const QString cid = m.addInlineData(png, QStringLiteral("image/png"), QStringLiteral("dot.png"));
    const QString html = QStringLiteral("<p>Hello in <b>HTML</b> — ünïcödé <img src=\"cid:%1\"></p>\n").arg(cid);
    m.setText(plain);
    m.setHtml(html);
    m.attachFile(binaryPath, QStringLiteral("application/octet-stream"), QStringLiteral("Übersicht März.bin"));
    m.attachData(QStringLiteral("table.csv"), csv, QStringLiteral("text/csv"));
    m.attachData(QStringLiteral("report.pdf"), pdfLike);
    m.setHeader(QStringLiteral("X-Test-Id"), QString::fromLatin1(marker));

    SmtpClient c(QStringLiteral("127.0.0.1"), env.smtpPort);
    c.setCaFile(env.caFile);
    c.setPeerVerifyName(env.certName);
    c.tls(true);
    SendResult r;
    try {
        r = c.sendMessage(m);
    } catch (const SmtpException &e) {
        QFAIL(qPrintable(e.error().toString()));
    }
    QVERIFY(r.accepted);
    QCOMPARE(r.recipients.size(), 3);

    const QList<QByteArray> got = Maildir::waitFor(env.maildir, marker, 3);
    QCOMPARE(got.size(), 3);
    QStringList deliveredTo;
    for (const QByteArray &delivered : got) {
        deliveredTo.append(QString::fromUtf8(Maildir::header(delivered, "X-Original-To")));
        // The Bcc recipient gets the message, and its address appears nowhere in
        // the other copies (only in the envelope headers Postfix adds to its own).
        if (Maildir::header(delivered, "X-Original-To") != "hidden@example.test")
            QVERIFY2(!delivered.contains("hidden@example.test"), "Bcc address leaked into a copy");
        const QJsonObject p = parseIndependently(delivered);
        QVERIFY2(!p.isEmpty(), "the independent parser read the message");
        QCOMPARE(p.value(QStringLiteral("subject")).toString(), subject);
        QVERIFY(!p.value(QStringLiteral("has_bcc")).toBool());
        QCOMPARE(p.value(QStringLiteral("to")).toArray().first().toObject().value(QStringLiteral("name")).toString(),
                 QStringLiteral("Jörg Empfänger"));
        QCOMPARE(p.value(QStringLiteral("from")).toArray().first().toObject().value(QStringLiteral("name")).toString(),
                 QStringLiteral("Sender, \"Quoted\" Name"));
        QCOMPARE(p.value(QStringLiteral("plain")).toObject().value(QStringLiteral("text")).toString(), plain);
        QCOMPARE(p.value(QStringLiteral("html")).toObject().value(QStringLiteral("text")).toString(), html);
        const QJsonArray atts = p.value(QStringLiteral("attachments")).toArray();
        QCOMPARE(atts.size(), 3);
        QCOMPARE(atts.at(0).toObject().value(QStringLiteral("filename")).toString(), QStringLiteral("Übersicht März.bin"));
        QCOMPARE(atts.at(0).toObject().value(QStringLiteral("sha256")).toString(), sha256(binary));
        QCOMPARE(atts.at(1).toObject().value(QStringLiteral("sha256")).toString(), sha256(csv));
        QCOMPARE(atts.at(2).toObject().value(QStringLiteral("sha256")).toString(), sha256(pdfLike));
        QCOMPARE(p.value(QStringLiteral("tree")).toString(),
                 QStringLiteral("multipart/mixed(multipart/related(multipart/alternative(text/plain,text/html),image/png),"
                                "application/octet-stream,text/csv,application/pdf)"));
        bool inlineFound = false;
        for (const QJsonValue &part : p.value(QStringLiteral("parts")).toArray()) {
            const QJsonObject o = part.toObject();
            if (o.value(QStringLiteral("type")).toString() != u"image/png")
                continue;
            inlineFound = true;
            QCOMPARE(o.value(QStringLiteral("content_id")).toString(), u'<' + cid + u'>');
            QCOMPARE(o.value(QStringLiteral("disposition")).toString(), QStringLiteral("inline"));
            QCOMPARE(o.value(QStringLiteral("sha256")).toString(), sha256(png));
        }
        QVERIFY(inlineFound);
        QVERIFY(p.value(QStringLiteral("has_date")).toBool());
        QVERIFY(!p.value(QStringLiteral("message_id")).toString().isEmpty());
    }
    deliveredTo.sort();
    QCOMPARE(deliveredTo, (QStringList{QStringLiteral("cc@example.test"), QStringLiteral("hidden@example.test"),
                                       QStringLiteral("to@example.test")}));
}

QTEST_GUILESS_MAIN(TestMimeDelivery)
#include "tst_mimedelivery.moc"
