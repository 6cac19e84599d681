// Message composition: every output is checked for wire rules (CRLF only,
// lines <= 998 octets, no Bcc) and parsed back by Python's email package, an
// independent implementation, then compared with what was put in.

#include "mimecheck.h"
#include "mime/message.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTemporaryFile>
#include <QTest>

#include <sys/stat.h>

using namespace MimeCheck;

class TestMessage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fullMessage();
    void bodies_data();
    void bodies();
    void subjectsAndNames_data();
    void subjectsAndNames();
    void checkSendPossible_data();
    void checkSendPossible();
    void sizeIsExactAndCached();
    void givenDateAndMessageIdKept();
    void mimeTypeDetection();
    void inlineImages_data();
    void inlineImages();
    void unreadableInlineFile();
    void attachmentsMustBeRegularFiles();
    void priorityAndReceipts_data();
    void priorityAndReceipts();
    void headerClashesWithOptions_data();
    void headerClashesWithOptions();
};

void TestMessage::fullMessage()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QByteArray fileBytes = binaryBlob(300000);
    const QString filePath = dir.filePath(QStringLiteral("Übersicht Bericht.bin"));
    {
        QFile f(filePath);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QCOMPARE(f.write(fileBytes), qint64(fileBytes.size()));
    }
    const QByteArray csv = "a,b\nc,d\n"; // LF line ends must survive byte for byte

    const QString subject = QStringLiteral("Prüfbericht № 7 — 東京 ✓");
    const QString plain = QStringLiteral("Hallo Jürgen,\n\nanbei der Bericht.\n.\n..zwei Punkte\n");
    const QString html = QStringLiteral("<html><body><p>Hallo <b>Jürgen</b></p></body></html>\n");

    Message m(QStringLiteral("Sender Name <sender@example.org>"), subject);
    m.addTo(QStringLiteral("to1@example.org"), QStringLiteral("Zoë Müller"));
    m.addTo(QStringLiteral("to2@example.org"));
    m.addCc(QStringLiteral("cc@example.net"), QStringLiteral("Doe, \"Jr\" John"));
    m.addBcc(QStringLiteral("hidden@example.com"), QStringLiteral("Hidden Person"));
    m.setReplyTo(QStringLiteral("reply@example.org"));
    m.addHeader(QStringLiteral("X-Custom"), QStringLiteral("one"));
    m.addHeader(QStringLiteral("X-Custom"), QStringLiteral("zwei ü"));
    m.setText(plain);
    m.setHtml(html);
    m.attachFile(filePath, QStringLiteral("application/octet-stream"));
    m.attachData(QStringLiteral("data.csv"), csv, QStringLiteral("text/csv"));

    const SmtpError check = m.checkSendPossible();
    QVERIFY2(!check.isError(), qPrintable(check.toString()));
    QCOMPARE(m.envelopeSender(), QStringLiteral("sender@example.org"));
    QCOMPARE(m.envelopeRecipients(),
             (QStringList{QStringLiteral("to1@example.org"), QStringLiteral("to2@example.org"),
                          QStringLiteral("cc@example.net"), QStringLiteral("hidden@example.com")}));

    const QByteArray bytes = m.toBytes();
    QVERIFY(!bytes.isEmpty());
    QCOMPARE(m.size({}), qint64(bytes.size()));
    const QString problem = wireProblem(bytes);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY(!m.has8BitContent({}));
    for (char c : bytes)
        QVERIFY(static_cast<unsigned char>(c) < 128);
    const QByteArray headers = headerBlock(bytes);
    QVERIFY(!headers.toLower().contains("\nbcc:"));
    QVERIFY(!bytes.contains("hidden@example.com"));
    // The address itself stays readable next to the encoded display name (RFC 2047 5(3)).
    QVERIFY(headers.contains("<to1@example.org>"));

    const QJsonObject r = parseWithPython(bytes);
    QVERIFY(!r.isEmpty());
    QCOMPARE(r.value(QStringLiteral("defects")).toArray().size(), 0);
    QCOMPARE(r.value(QStringLiteral("subject")).toString(), subject);
    QCOMPARE(r.value(QStringLiteral("has_bcc")).toBool(), false);
    QCOMPARE(r.value(QStringLiteral("has_date")).toBool(), true);
    QVERIFY(r.value(QStringLiteral("message_id")).toString().endsWith(QStringLiteral("@example.org>")));
    QCOMPARE(r.value(QStringLiteral("mime_version")).toString(), QStringLiteral("1.0"));
    const QJsonArray from = r.value(QStringLiteral("from")).toArray();
    QCOMPARE(from.size(), 1);
    QCOMPARE(from.at(0)[QStringLiteral("name")].toString(), QStringLiteral("Sender Name"));
    QCOMPARE(from.at(0)[QStringLiteral("address")].toString(), QStringLiteral("sender@example.org"));
    const QJsonArray to = r.value(QStringLiteral("to")).toArray();
    QCOMPARE(to.size(), 2);
    QCOMPARE(to.at(0)[QStringLiteral("name")].toString(), QStringLiteral("Zoë Müller"));
    QCOMPARE(to.at(0)[QStringLiteral("address")].toString(), QStringLiteral("to1@example.org"));
    QCOMPARE(to.at(1)[QStringLiteral("address")].toString(), QStringLiteral("to2@example.org"));
    const QJsonArray cc = r.value(QStringLiteral("cc")).toArray();
    QCOMPARE(cc.size(), 1);
    QCOMPARE(cc.at(0)[QStringLiteral("name")].toString(), QStringLiteral("Doe, \"Jr\" John"));
    QCOMPARE(cc.at(0)[QStringLiteral("address")].toString(), QStringLiteral("cc@example.net"));
    QCOMPARE(r.value(QStringLiteral("reply_to")).toArray().at(0)[QStringLiteral("address")].toString(),
             QStringLiteral("reply@example.org"));
    QCOMPARE(r.value(QStringLiteral("custom")).toArray(),
             (QJsonArray{QStringLiteral("one"), QStringLiteral("zwei ü")}));
    QCOMPARE(r.value(QStringLiteral("tree")).toString(),
             QStringLiteral("multipart/mixed(multipart/alternative(text/plain,text/html),"
                            "application/octet-stream,text/csv)"));

    const QJsonObject p = r.value(QStringLiteral("plain")).toObject();
    QCOMPARE(p.value(QStringLiteral("text")).toString(), plain);
    QCOMPARE(p.value(QStringLiteral("charset")).toString(), QStringLiteral("utf-8"));
    QCOMPARE(p.value(QStringLiteral("cte")).toString(), QStringLiteral("quoted-printable"));
    const QJsonObject h = r.value(QStringLiteral("html")).toObject();
    QCOMPARE(h.value(QStringLiteral("text")).toString(), html);

    const QJsonArray atts = r.value(QStringLiteral("attachments")).toArray();
    QCOMPARE(atts.size(), 2);
    QCOMPARE(atts.at(0)[QStringLiteral("filename")].toString(), QStringLiteral("Übersicht Bericht.bin"));
    QCOMPARE(atts.at(0)[QStringLiteral("sha256")].toString(), sha256(fileBytes));
    QCOMPARE(atts.at(0)[QStringLiteral("cte")].toString(), QStringLiteral("base64"));
    QCOMPARE(atts.at(1)[QStringLiteral("filename")].toString(), QStringLiteral("data.csv"));
    QCOMPARE(atts.at(1)[QStringLiteral("type")].toString(), QStringLiteral("text/csv"));
    QCOMPARE(atts.at(1)[QStringLiteral("sha256")].toString(), sha256(csv));
    // RFC 2231 parameter (filename*=utf-8''...), not an encoded-word inside quotes.
    QVERIFY2(bytes.contains("filename*=UTF-8''%C3%9Cbersicht%20Bericht.bin"), bytes.left(4000).constData());
    // UTF-8 everywhere, not the "smallest" charset GMime would pick by default.
    QVERIFY2(!bytes.toLower().contains("iso-8859"), headers.constData());
    QVERIFY(headers.contains("=?UTF-8?"));
}

void TestMessage::bodies_data()
{
    QTest::addColumn<QString>("body");
    QTest::addColumn<QString>("encoding");
    QTest::addColumn<int>("maxBodyLine");

    QTest::addRow("empty body") << QString() << "7bit" << 0;
    QTest::addRow("only a dot") << QStringLiteral(".") << "7bit" << 1;
    QTest::addRow("lines starting with dots") << QStringLiteral(".\n..\n.x\nend\n.") << "7bit" << 3;
    QTest::addRow("CRLF input normalised") << QStringLiteral("a\r\nb\r\n") << "7bit" << 1;
    QTest::addRow("998-octet line stays 7bit") << QString(998, QLatin1Char('x')) << "7bit" << 998;
    QTest::addRow("999-octet line becomes QP") << QString(999, QLatin1Char('x')) << "quoted-printable" << 76;
    QTest::addRow("10000-character line") << QString(10000, QLatin1Char('y')) + QLatin1Char('\n')
                                          << "quoted-printable" << 76;
    QTest::addRow("bare CR in text") << QStringLiteral("a\rb\n") << "quoted-printable" << 76;
    QTest::addRow("NUL in text") << QString::fromUtf8("a\0b\n", 4) << "quoted-printable" << 76;
    QTest::addRow("non-ASCII text") << QStringLiteral("Grüße aus Köln\n日本語\n") << "quoted-printable" << 76;
}

void TestMessage::bodies()
{
    QFETCH(QString, body);
    QFETCH(QString, encoding);
    QFETCH(int, maxBodyLine);

    Message m(QStringLiteral("a@example.org"), QStringLiteral("body test"));
    m.addTo(QStringLiteral("b@example.org"));
    m.setText(body);
    QVERIFY(!m.checkSendPossible().isError());
    const QByteArray bytes = m.toBytes();
    QCOMPARE(m.size({}), qint64(bytes.size()));
    const QString problem = wireProblem(bytes);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    // Body lines within the limit of their encoding (QP: 76 characters, RFC 2045 6.7(5)).
    const QByteArray bodyBytes = bytes.mid(bytes.indexOf("\r\n\r\n") + 4);
    const QString bodyProblem = wireProblem(bodyBytes, maxBodyLine);
    QVERIFY2(bodyProblem.isEmpty(), qPrintable(bodyProblem));

    const QJsonObject r = parseWithPython(bytes);
    QVERIFY(!r.isEmpty());
    QCOMPARE(r.value(QStringLiteral("defects")).toArray().size(), 0);
    QCOMPARE(r.value(QStringLiteral("tree")).toString(), QStringLiteral("text/plain"));
    const QJsonObject p = r.value(QStringLiteral("plain")).toObject();
    QCOMPARE(p.value(QStringLiteral("cte")).toString(), encoding);
    QString expected = body;
    expected.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
    QString got = p.value(QStringLiteral("text")).toString();
    // Python's content manager ends a text part with a newline when the wire form
    // lacks one; compare the text itself.
    if (!expected.endsWith(QLatin1Char('\n')) && got == expected + QLatin1Char('\n'))
        got.chop(1);
    QCOMPARE(got, expected);
}

void TestMessage::subjectsAndNames_data()
{
    QTest::addColumn<QString>("subject");
    QTest::addColumn<QString>("displayName");

    QTest::addRow("ASCII") << QStringLiteral("Hello") << QStringLiteral("Plain Name");
    QTest::addRow("non-ASCII subject") << QStringLiteral("Grüße — ünïcödé ✓") << QString();
    QTest::addRow("long non-ASCII subject")
        << QStringLiteral("Ärger ").repeated(40) + QStringLiteral("Ende") << QStringLiteral("Åsa Ñúñez");
    QTest::addRow("comma and quotes") << QStringLiteral("names") << QStringLiteral("Doe, \"Jr\" John");
    QTest::addRow("non-ASCII with comma") << QStringLiteral("x") << QStringLiteral("Müller, Zoë (Büro)");
    QTest::addRow("empty subject") << QString() << QString();
}

void TestMessage::subjectsAndNames()
{
    QFETCH(QString, subject);
    QFETCH(QString, displayName);

    Message m(QStringLiteral("a@example.org"), subject);
    m.addTo(QStringLiteral("rcpt@example.org"), displayName);
    m.setText(QStringLiteral("hi\n"));
    QVERIFY(!m.checkSendPossible().isError());
    const QByteArray bytes = m.toBytes();
    const QString problem = wireProblem(bytes, 78); // folded headers (RFC 5322 2.1.1)
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY(!m.has8BitContent({}));
    QVERIFY(headerBlock(bytes).contains("rcpt@example.org"));

    const QJsonObject r = parseWithPython(bytes);
    QVERIFY(!r.isEmpty());
    QCOMPARE(r.value(QStringLiteral("defects")).toArray().size(), 0);
    QCOMPARE(r.value(QStringLiteral("subject")).toString(), subject);
    const QJsonArray to = r.value(QStringLiteral("to")).toArray();
    QCOMPARE(to.size(), 1);
    QCOMPARE(to.at(0)[QStringLiteral("name")].toString(), displayName);
    QCOMPARE(to.at(0)[QStringLiteral("address")].toString(), QStringLiteral("rcpt@example.org"));
}

void TestMessage::checkSendPossible_data()
{
    QTest::addColumn<QString>("sender");
    QTest::addColumn<QString>("recipient");
    QTest::addColumn<QString>("headerName");
    QTest::addColumn<QString>("headerValue");
    QTest::addColumn<QString>("subject");
    QTest::addColumn<QString>("attachPath");
    QTest::addColumn<QString>("expected"); // substring of the error, empty = no error

    const QString ok = QStringLiteral("ok@example.org");
    QTest::addRow("valid") << ok << ok << QString() << QString() << QStringLiteral("s") << QString() << QString();
    QTest::addRow("no sender") << QString() << ok << QString() << QString() << QString() << QString()
                               << QStringLiteral("no sender");
    QTest::addRow("no recipient") << ok << QString() << QString() << QString() << QString() << QString()
                                  << QStringLiteral("no recipient");
    QTest::addRow("invalid sender") << QStringLiteral("not an address") << ok << QString() << QString()
                                    << QString() << QString() << QStringLiteral("invalid sender address");
    QTest::addRow("invalid recipient") << ok << QStringLiteral("nobody@") << QString() << QString() << QString()
                                       << QString() << QStringLiteral("invalid To address");
    QTest::addRow("CRLF in custom header") << ok << ok << QStringLiteral("X-Evil")
                                           << QStringLiteral("a\r\nBcc: victim@example.org") << QString()
                                           << QString() << QStringLiteral("X-Evil");
    QTest::addRow("LF in custom header") << ok << ok << QStringLiteral("X-Evil") << QStringLiteral("a\nb")
                                         << QString() << QString() << QStringLiteral("CR, LF");
    QTest::addRow("CR in subject") << ok << ok << QString() << QString() << QStringLiteral("a\rb") << QString()
                                   << QStringLiteral("Subject");
    QTest::addRow("bad header name") << ok << ok << QStringLiteral("X Bad:") << QStringLiteral("v") << QString()
                                     << QString() << QStringLiteral("invalid header name");
    QTest::addRow("Bcc as custom header") << ok << ok << QStringLiteral("bcc") << QStringLiteral("x@example.org")
                                          << QString() << QString() << QStringLiteral("setter");
    QTest::addRow("unreadable attachment") << ok << ok << QString() << QString() << QString()
                                           << QStringLiteral("/nonexistent/smtpscope/file.bin")
                                           << QStringLiteral("/nonexistent/smtpscope/file.bin");
}

void TestMessage::checkSendPossible()
{
    QFETCH(QString, sender);
    QFETCH(QString, recipient);
    QFETCH(QString, headerName);
    QFETCH(QString, headerValue);
    QFETCH(QString, subject);
    QFETCH(QString, attachPath);
    QFETCH(QString, expected);

    Message m(sender, subject);
    if (!recipient.isEmpty())
        m.addTo(recipient);
    if (!headerName.isEmpty())
        m.setHeader(headerName, headerValue);
    if (!attachPath.isEmpty())
        m.attachFile(attachPath, QStringLiteral("application/octet-stream"));
    m.setText(QStringLiteral("body\n"));

    const SmtpError e = m.checkSendPossible();
    if (expected.isEmpty()) {
        QVERIFY2(!e.isError(), qPrintable(e.toString()));
        return;
    }
    QVERIFY(e.isError());
    QCOMPARE(e.category, SmtpError::Category::Message);
    QCOMPARE(e.code, QStringLiteral("MESSAGE-ERROR"));
    QVERIFY2(e.message.contains(expected), qPrintable(e.message));
}

void TestMessage::sizeIsExactAndCached()
{
    Message m(QStringLiteral("a@example.org"), QStringLiteral("size"));
    m.addTo(QStringLiteral("b@example.org"));
    m.setText(QStringLiteral("first\n"));
    const qint64 s1 = m.size({});
    QVERIFY(s1 > 0);
    const QByteArray b1 = m.toBytes();
    QCOMPARE(qint64(b1.size()), s1);
    // Two reads give the same bytes (Date and Message-ID are fixed once generated).
    QCOMPARE(m.toBytes(), b1);
    std::unique_ptr<QIODevice> dev = m.openBody({});
    QVERIFY(dev);
    QVERIFY(dev->isOpen());
    QCOMPARE(dev->readAll(), b1);

    std::unique_ptr<QIODevice> before = m.openBody({});
    QVERIFY(before);
    m.setText(QStringLiteral("second, longer\n"));
    const QByteArray b2 = m.toBytes();
    QCOMPARE(m.size({}), qint64(b2.size()));
    QCOMPARE(qint64(b2.size()), s1 + 9);
    QVERIFY(b2.contains("second, longer"));
    // A stream opened before the edit still reads the old message whole.
    QCOMPARE(before->readAll(), b1);
    const QJsonObject r1 = parseWithPython(b1);
    const QJsonObject r2 = parseWithPython(b2);
    QCOMPARE(r1.value(QStringLiteral("message_id")), r2.value(QStringLiteral("message_id")));
}

void TestMessage::givenDateAndMessageIdKept()
{
    Message m(QStringLiteral("a@example.org"), QStringLiteral("ids"));
    m.addBcc(QStringLiteral("only-bcc@example.org"));
    m.setHeader(QStringLiteral("Date"), QStringLiteral("Mon, 7 Jul 2025 10:00:00 +0200"));
    m.setHeader(QStringLiteral("Message-ID"), QStringLiteral("<fixed.1@example.org>"));
    m.setText(QStringLiteral("x\n"));
    QVERIFY(!m.checkSendPossible().isError());
    QCOMPARE(m.envelopeRecipients(), QStringList{QStringLiteral("only-bcc@example.org")});
    const QByteArray bytes = m.toBytes();
    const QByteArray headers = headerBlock(bytes);
    QCOMPARE(headers.count("\r\nDate:") + (headers.startsWith("Date:") ? 1 : 0), 1);
    QCOMPARE(headers.count("Message-ID:"), 1);
    QVERIFY(!bytes.contains("only-bcc@example.org"));
    const QJsonObject r = parseWithPython(bytes);
    QCOMPARE(r.value(QStringLiteral("message_id")).toString(), QStringLiteral("<fixed.1@example.org>"));
    QCOMPARE(r.value(QStringLiteral("has_bcc")).toBool(), false);
    QCOMPARE(r.value(QStringLiteral("to")).toArray().size(), 0);
}

void TestMessage::mimeTypeDetection()
{
    Message m(QStringLiteral("a@example.org"), QStringLiteral("types"));
    m.addTo(QStringLiteral("b@example.org"));
    const QByteArray png = QByteArray::fromHex("89504e470d0a1a0a0000000d49484452");
    m.attachData(QStringLiteral("picture.png"), png);
    m.attachData(QStringLiteral("notes.txt"), "plain notes\n");
    QCOMPARE(m.attachments().at(0).mimeType, QStringLiteral("image/png"));
    QCOMPARE(m.attachments().at(1).mimeType, QStringLiteral("text/plain"));

    const QByteArray bytes = m.toBytes();
    const QJsonObject r = parseWithPython(bytes);
    QVERIFY(!r.isEmpty());
    QCOMPARE(r.value(QStringLiteral("tree")).toString(), QStringLiteral("multipart/mixed(image/png,text/plain)"));
    const QJsonArray atts = r.value(QStringLiteral("attachments")).toArray();
    QCOMPARE(atts.size(), 2);
    QCOMPARE(atts.at(0)[QStringLiteral("sha256")].toString(), sha256(png));
    QCOMPARE(atts.at(1)[QStringLiteral("sha256")].toString(), sha256("plain notes\n"));
}

void TestMessage::inlineImages_data()
{
    QTest::addColumn<bool>("fromFile");
    QTest::addColumn<bool>("withPlain");
    QTest::addColumn<bool>("withAttachment");
    QTest::addColumn<QString>("tree");
    QTest::addColumn<QString>("relatedType");

    QTest::addRow("file, plain+html, attachment")
        << true << true << true
        << QStringLiteral("multipart/mixed(multipart/related(multipart/alternative(text/plain,text/html),"
                          "image/png,image/png),application/pdf)")
        << QStringLiteral("multipart/alternative");
    QTest::addRow("data, plain+html, attachment")
        << false << true << true
        << QStringLiteral("multipart/mixed(multipart/related(multipart/alternative(text/plain,text/html),"
                          "image/png,image/png),application/pdf)")
        << QStringLiteral("multipart/alternative");
    QTest::addRow("file, html only, no attachment")
        << true << false << false << QStringLiteral("multipart/related(text/html,image/png,image/png)")
        << QStringLiteral("text/html");
    QTest::addRow("data, plain+html, no attachment")
        << false << true << false
        << QStringLiteral("multipart/related(multipart/alternative(text/plain,text/html),image/png,image/png)")
        << QStringLiteral("multipart/alternative");
}

void TestMessage::inlineImages()
{
    QFETCH(bool, fromFile);
    QFETCH(bool, withPlain);
    QFETCH(bool, withAttachment);
    QFETCH(QString, tree);
    QFETCH(QString, relatedType);

    // Two different "images": a PNG signature followed by arbitrary binary bytes.
    const QByteArray pngHead = QByteArray::fromHex("89504e470d0a1a0a0000000d49484452");
    const QByteArray image1 = pngHead + binaryBlob(70000);
    const QByteArray image2 = pngHead + binaryBlob(513).toHex();
    const QByteArray pdf = "%PDF-1.4\n" + binaryBlob(2000);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    Message m(QStringLiteral("a@example.org"), QStringLiteral("inline"));
    m.addTo(QStringLiteral("b@example.org"));
    QString id1;
    QString id2;
    if (fromFile) {
        const QByteArray *images[] = {&image1, &image2};
        QStringList ids;
        for (int i = 0; i < 2; ++i) {
            const QString path = dir.filePath(QStringLiteral("logo%1.png").arg(i));
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QCOMPARE(f.write(*images[i]), qint64(images[i]->size()));
            f.close();
            ids.append(m.addInlineFile(path)); // type from the file name / content
        }
        id1 = ids.at(0);
        id2 = ids.at(1);
        QCOMPARE(m.inlineParts().at(0).mimeType, QStringLiteral("image/png"));
    } else {
        id1 = m.addInlineData(image1, QStringLiteral("image/png"), QStringLiteral("logo0.png"));
        id2 = m.addInlineData(image2, QStringLiteral("image/png"));
    }
    QVERIFY(!id1.isEmpty());
    QVERIFY(id1 != id2);
    QVERIFY(!id1.contains(QLatin1Char('<')) && !id1.contains(QLatin1Char('>')));
    QVERIFY(id1.endsWith(QStringLiteral("@example.org")));

    const QString html = QStringLiteral("<html><body><img src=\"cid:%1\"><img src=\"cid:%2\"></body></html>\n")
                             .arg(id1, id2);
    m.setHtml(html);
    if (withPlain)
        m.setText(QStringLiteral("see the pictures\n"));
    if (withAttachment)
        m.attachData(QStringLiteral("doc.pdf"), pdf, QStringLiteral("application/pdf"));
    const SmtpError check = m.checkSendPossible();
    QVERIFY2(!check.isError(), qPrintable(check.toString()));

    const QByteArray bytes = m.toBytes();
    QCOMPARE(m.size({}), qint64(bytes.size()));
    const QString problem = wireProblem(bytes);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY(!m.has8BitContent({}));

    const QJsonObject r = parseWithPython(bytes);
    QVERIFY(!r.isEmpty());
    QCOMPARE(r.value(QStringLiteral("defects")).toArray().size(), 0);
    QCOMPARE(r.value(QStringLiteral("tree")).toString(), tree);
    QCOMPARE(r.value(QStringLiteral("related_type")).toString(), relatedType);
    QCOMPARE(r.value(QStringLiteral("html")).toObject().value(QStringLiteral("text")).toString(), html);

    // Each image part: inline, its Content-ID the one the HTML refers to, its bytes intact.
    const QJsonArray parts = r.value(QStringLiteral("parts")).toArray();
    QJsonArray images;
    for (const QJsonValue &v : parts) {
        if (v[QStringLiteral("type")].toString() == QStringLiteral("image/png"))
            images.append(v);
    }
    QCOMPARE(images.size(), 2);
    const QString ids[] = {id1, id2};
    const QByteArray *datas[] = {&image1, &image2};
    for (int i = 0; i < 2; ++i) {
        const QJsonValue img = images.at(i);
        QCOMPARE(img[QStringLiteral("content_id")].toString(), QLatin1Char('<') + ids[i] + QLatin1Char('>'));
        QVERIFY(html.contains(QStringLiteral("cid:") + img[QStringLiteral("content_id")].toString().mid(1).chopped(1)));
        QCOMPARE(img[QStringLiteral("disposition")].toString(), QStringLiteral("inline"));
        QCOMPARE(img[QStringLiteral("sha256")].toString(), sha256(*datas[i]));
    }
    // Inline images are not attachments; the real attachment still is.
    const QJsonArray atts = r.value(QStringLiteral("attachments")).toArray();
    QCOMPARE(atts.size(), withAttachment ? 1 : 0);
    if (withAttachment)
        QCOMPARE(atts.at(0)[QStringLiteral("sha256")].toString(), sha256(pdf));
}

void TestMessage::unreadableInlineFile()
{
    Message m(QStringLiteral("a@example.org"), QStringLiteral("inline"));
    m.addTo(QStringLiteral("b@example.org"));
    const QString id = m.addInlineFile(QStringLiteral("/nonexistent/smtpscope/logo.png"), QStringLiteral("image/png"));
    QVERIFY(!id.isEmpty());
    m.setHtml(QStringLiteral("<img src=\"cid:%1\">").arg(id));
    const SmtpError e = m.checkSendPossible();
    QVERIFY(e.isError());
    QVERIFY2(e.message.contains(QStringLiteral("/nonexistent/smtpscope/logo.png")), qPrintable(e.message));
    // Serializing anyway fails cleanly instead of producing a message without the image.
    QCOMPARE(m.size({}), qint64(-1));
    QVERIFY(!m.openBody({}));
}

void TestMessage::attachmentsMustBeRegularFiles()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString fifo = dir.filePath(QStringLiteral("pipe.bin"));
    QVERIFY(::mkfifo(QFile::encodeName(fifo).constData(), 0600) == 0);

    // A device and a FIFO without a writer: refused at once, saying what they
    // are (a size is needed before sending; sniffing their type would read them).
    const std::pair<QString, QString> refused[] = {{QStringLiteral("/dev/zero"), QStringLiteral("character device")},
                                                   {fifo, QStringLiteral("FIFO")}};
    for (const auto &[path, what] : refused) {
        for (const bool asInline : {false, true}) {
            Message m(QStringLiteral("a@example.org"), QStringLiteral("special file"));
            m.addTo(QStringLiteral("b@example.org"));
            m.setText(QStringLiteral("x\n"));
            if (asInline)
                m.setHtml(QStringLiteral("<img src=\"cid:%1\">").arg(m.addInlineFile(path, QStringLiteral("image/png"))));
            else
                m.attachFile(path);
            const SmtpError e = m.checkSendPossible();
            QVERIFY(e.isError());
            QVERIFY2(e.message.contains(path) && e.message.contains(what) && e.message.contains(QStringLiteral("not a regular file")),
                     qPrintable(e.message));
            QCOMPARE(m.size({}), qint64(-1));
            QVERIFY(!m.openBody({}));
        }
    }

    // A regular file swapped for a FIFO while the message is being read: the
    // read fails at once, it does not wait for a writer.
    const QString file = dir.filePath(QStringLiteral("report.bin"));
    {
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(binaryBlob(1000));
    }
    Message m(QStringLiteral("a@example.org"), QStringLiteral("swapped"));
    m.addTo(QStringLiteral("b@example.org"));
    m.setText(QStringLiteral("x\n"));
    m.attachFile(file);
    QVERIFY(!m.checkSendPossible().isError());
    const std::unique_ptr<QIODevice> body = m.openBody({});
    QVERIFY(body);
    QVERIFY(QFile::remove(file));
    QVERIFY(::mkfifo(QFile::encodeName(file).constData(), 0600) == 0);
    QElapsedTimer clock;
    clock.start();
    QByteArray buffer(64 * 1024, Qt::Uninitialized);
    qint64 n = 0;
    for (int i = 0; i < 100 && (n = body->read(buffer.data(), buffer.size())) > 0; ++i) {
    }
    QCOMPARE(n, qint64(-1));
    QVERIFY2(body->errorString().contains(QStringLiteral("FIFO")), qPrintable(body->errorString()));
    QVERIFY(clock.elapsed() < 10000);
}

void TestMessage::priorityAndReceipts_data()
{
    QTest::addColumn<bool>("important");
    QTest::addColumn<bool>("readReceipt");
    QTest::addColumn<bool>("deliveryReceipt");
    QTest::addColumn<bool>("separateFrom");

    QTest::addRow("none") << false << false << false << false;
    QTest::addRow("important") << true << false << false << false;
    QTest::addRow("read receipt") << false << true << false << false;
    QTest::addRow("delivery receipt") << false << false << true << false;
    QTest::addRow("all") << true << true << true << false;
    QTest::addRow("receipts go to From, not sender") << false << true << true << true;
    QTest::addRow("switched off again") << false << false << false << true;
}

void TestMessage::priorityAndReceipts()
{
    QFETCH(bool, important);
    QFETCH(bool, readReceipt);
    QFETCH(bool, deliveryReceipt);
    QFETCH(bool, separateFrom);

    Message m(QStringLiteral("bounce@example.org"), QStringLiteral("flags"));
    m.addTo(QStringLiteral("b@example.org"));
    m.setText(QStringLiteral("x\n"));
    QString receiptTo = QStringLiteral("bounce@example.org");
    if (separateFrom) {
        m.setFrom(QStringLiteral("author@example.net"), QStringLiteral("Author"));
        receiptTo = QStringLiteral("author@example.net");
        // Turned on and then off: must leave no trace.
        m.important(true);
        m.requestReadReceipt(true);
        m.requestDeliveryReceipt(true);
        (void)m.toBytes();
        m.important(false);
        m.requestReadReceipt(false);
        m.requestDeliveryReceipt(false);
    }
    m.important(important);
    m.requestReadReceipt(readReceipt);
    m.requestDeliveryReceipt(deliveryReceipt);
    QCOMPARE(m.isImportant(), important);
    QCOMPARE(m.readReceiptRequested(), readReceipt);
    QCOMPARE(m.deliveryReceiptRequested(), deliveryReceipt);
    QVERIFY(!m.checkSendPossible().isError());

    const QByteArray bytes = m.toBytes();
    const QString problem = wireProblem(bytes);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    const QJsonObject r = parseWithPython(bytes);
    QVERIFY(!r.isEmpty());
    QCOMPARE(r.value(QStringLiteral("defects")).toArray().size(), 0);
    const QJsonObject h = r.value(QStringLiteral("headers")).toObject();
    auto expect = [](bool on, const QString &value) { return on ? QJsonArray{value} : QJsonArray{}; };
    QCOMPARE(h.value(QStringLiteral("importance")).toArray(), expect(important, QStringLiteral("high")));
    QCOMPARE(h.value(QStringLiteral("x-priority")).toArray(), expect(important, QStringLiteral("1 (Highest)")));
    QCOMPARE(h.value(QStringLiteral("priority")).toArray(), expect(important, QStringLiteral("urgent")));
    QCOMPARE(h.value(QStringLiteral("disposition-notification-to")).toArray(), expect(readReceipt, receiptTo));
    QCOMPARE(h.value(QStringLiteral("return-receipt-to")).toArray(), expect(deliveryReceipt, receiptTo));
    // Only in the header block, never in the body.
    const QByteArray body = bytes.mid(bytes.indexOf("\r\n\r\n"));
    QVERIFY(!body.contains("Importance"));
}

void TestMessage::headerClashesWithOptions_data()
{
    QTest::addColumn<int>("option"); // 0 none, 1 important, 2 read receipt, 3 delivery receipt
    QTest::addColumn<QString>("header");
    QTest::addColumn<bool>("clash");

    QTest::addRow("X-Priority alone") << 0 << QStringLiteral("X-Priority") << false;
    QTest::addRow("X-Priority with important") << 1 << QStringLiteral("X-Priority") << true;
    QTest::addRow("importance (any case) with important") << 1 << QStringLiteral("importance") << true;
    QTest::addRow("Priority with important") << 1 << QStringLiteral("Priority") << true;
    QTest::addRow("X-Mailer with important") << 1 << QStringLiteral("X-Mailer") << false;
    QTest::addRow("Disposition-Notification-To with read receipt")
        << 2 << QStringLiteral("Disposition-Notification-To") << true;
    QTest::addRow("Disposition-Notification-To alone") << 0 << QStringLiteral("Disposition-Notification-To") << false;
    QTest::addRow("Return-Receipt-To with delivery receipt") << 3 << QStringLiteral("Return-Receipt-To") << true;
    QTest::addRow("Return-Receipt-To with read receipt") << 2 << QStringLiteral("Return-Receipt-To") << false;
}

void TestMessage::headerClashesWithOptions()
{
    QFETCH(int, option);
    QFETCH(QString, header);
    QFETCH(bool, clash);

    Message m(QStringLiteral("a@example.org"), QStringLiteral("clash"));
    m.addTo(QStringLiteral("b@example.org"));
    m.important(option == 1);
    m.requestReadReceipt(option == 2);
    m.requestDeliveryReceipt(option == 3);
    m.addHeader(header, QStringLiteral("x@example.org"));
    const SmtpError e = m.checkSendPossible();
    QCOMPARE(e.isError(), clash);
    if (clash)
        QVERIFY2(e.message.contains(header) && e.message.contains(QStringLiteral("set one or the other")),
                 qPrintable(e.message));
    else
        QCOMPARE(m.toBytes().count(header.toLatin1() + ": "), 1);
}

QTEST_GUILESS_MAIN(TestMessage)
#include "tst_message.moc"
