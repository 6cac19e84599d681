// ParsedMessage: the structure, decoded headers and bodies of a typical message
// (mixed + related + alternative, a cid image, RFC 2231 attachment names),
// transfer-encoding and RFC 2047 decoding, recovery from broken structure, and
// the size and depth bounds.

#include <QTest>

#include "mime/parsedmessage.h"
#include "samplemessage.h"

namespace {

QByteArray simpleMessage(const QByteArray &extraHeaders, const QByteArray &body)
{
    return "From: a@example.test\r\nTo: b@example.test\r\nSubject: s\r\nMIME-Version: 1.0\r\n" + extraHeaders
        + "\r\n" + body;
}

// `levels` multiparts nested one inside the other, a text leaf in the innermost.
QByteArray nestedMultiparts(int levels)
{
    QByteArray head = "From: a@example.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\n";
    QByteArray open;
    QByteArray close;
    for (int i = 0; i < levels; ++i) {
        const QByteArray b = "b" + QByteArray::number(i);
        open += "Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n\r\n--" + b + "\r\n";
        close = "\r\n--" + b + "--\r\n" + close;
    }
    return head + open + "Content-Type: text/plain\r\n\r\ninnermost" + close;
}

// `levels` message/rfc822 parts, each embedding the next.
QByteArray nestedMessages(int levels)
{
    QByteArray m = "From: a@example.test\r\nSubject: innermost\r\n\r\ntext\r\n";
    for (int i = 0; i < levels; ++i)
        m = "From: a@example.test\r\nSubject: wrap\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n" + m;
    return m;
}

QStringList tree(const ParsedPart &part)
{
    QStringList lines{QString(part.depth * 2, QLatin1Char(' ')) + part.contentType};
    for (const ParsedPart &child : part.children)
        lines += tree(child);
    return lines;
}

} // namespace

class TestParsedMessage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void structureOfTypicalMessage();
    void decodedEnvelopeHeaders();
    void bodiesAndCidImage();
    void attachmentsDecodedWithRfc2231Names();
    void partHeadersDecoded();
    void copiesStayValid();
    void transferEncodings_data();
    void transferEncodings();
    void encodedWordSubject_data();
    void encodedWordSubject();
    void brokenStructureStillParses_data();
    void brokenStructureStillParses();
    void sizeBound();
    void depthBound_data();
    void depthBound();
    void notAMessage_data();
    void notAMessage();
};

void TestParsedMessage::structureOfTypicalMessage()
{
    ParsedMessage m;
    QString error;
    QVERIFY2(m.parse(Sample::message("PNGDATA"), &error), qPrintable(error));
    QVERIFY(m.isValid());
    const QStringList expected{
        QStringLiteral("multipart/mixed"),    QStringLiteral("  multipart/related"),
        QStringLiteral("    multipart/alternative"), QStringLiteral("      text/plain"),
        QStringLiteral("      text/html"),    QStringLiteral("    image/png"),
        QStringLiteral("  application/pdf"),  QStringLiteral("  text/csv"),
    };
    QCOMPARE(tree(m.root()), expected);
    QCOMPARE(m.allParts().size(), expected.size());
}

void TestParsedMessage::decodedEnvelopeHeaders()
{
    ParsedMessage m;
    QVERIFY(m.parse(Sample::message("x"), nullptr));
    QCOMPARE(m.subject(), Sample::subject());
    QVERIFY2(m.from().contains(QStringLiteral("Ren\u00e9e Sender")), qPrintable(m.from()));
    QVERIFY(m.from().contains(QStringLiteral("sender@example.test")));
    QVERIFY(m.to().contains(QStringLiteral("alice@example.test")));
    QVERIFY(m.to().contains(QStringLiteral("bob@example.test")));
    QVERIFY2(m.cc().contains(QStringLiteral("J\u00f6rg")), qPrintable(m.cc()));
    QCOMPARE(m.date().toUTC(), QDateTime(QDate(2026, 11, 26), QTime(9, 15), Qt::UTC));
    QCOMPARE(m.date().offsetFromUtc(), 3600);
    QCOMPARE(m.dateText(), QStringLiteral("Thu, 26 Nov 2026 10:15:00 +0100"));
    // The top-level header list keeps every field in order, decoded.
    QCOMPARE(m.headers().first().first, QStringLiteral("Return-Path"));
    bool sawSubject = false;
    for (const auto &field : m.headers()) {
        if (field.first == QLatin1String("Subject")) {
            QCOMPARE(field.second, Sample::subject());
            sawSubject = true;
        }
    }
    QVERIFY(sawSubject);
}

void TestParsedMessage::bodiesAndCidImage()
{
    const QByteArray image("\x89PNG\r\n\x1a\n-not-really-", 20);
    ParsedMessage m;
    QVERIFY(m.parse(Sample::message(image, QStringLiteral("http://127.0.0.1:1/r.png")), nullptr));
    // RFC 2046 5.1.1: the CRLF before a delimiter belongs to the delimiter.
    QCOMPARE(m.plainBody(), Sample::plainText().chopped(2));
    QCOMPARE(m.htmlBody(), Sample::htmlText(QStringLiteral("http://127.0.0.1:1/r.png")));

    const ParsedPart *logo = m.partByContentId(QStringLiteral("logo@example.test"));
    QVERIFY(logo);
    QCOMPARE(logo->contentType, QStringLiteral("image/png"));
    QCOMPARE(logo->body, image);
    QCOMPARE(logo->disposition, QStringLiteral("inline"));
    // RFC 2392: cid URLs are percent-encoded; brackets are not part of the id.
    QCOMPARE(m.partByContentId(QStringLiteral("logo%40example.test")), logo);
    QCOMPARE(m.partByContentId(QStringLiteral("<logo@example.test>")), logo);
    QVERIFY(!m.partByContentId(QStringLiteral("missing@example.test")));
    QVERIFY(!m.partByContentId(QString()));
}

void TestParsedMessage::attachmentsDecodedWithRfc2231Names()
{
    ParsedMessage m;
    QVERIFY(m.parse(Sample::message("IMG"), nullptr));
    const QList<const ParsedPart *> attachments = m.attachments();
    QStringList names;
    for (const ParsedPart *part : attachments)
        names << m.attachmentName(part);
    QCOMPARE(names, (QStringList{QStringLiteral("logo.png"), Sample::pdfName(), Sample::csvName()}));

    QCOMPARE(attachments[1]->disposition, QStringLiteral("attachment"));
    QCOMPARE(attachments[1]->body, Sample::pdfBytes());
    QCOMPARE(attachments[2]->body, Sample::csvBytes().chopped(2));
    QCOMPARE(attachments[2]->charset, QStringLiteral("us-ascii"));
    QCOMPARE(attachments[0]->body, QByteArray("IMG"));
}

void TestParsedMessage::partHeadersDecoded()
{
    const QByteArray msg = simpleMessage("Content-Type: text/plain; charset=utf-8\r\n"
                                         "Content-Description: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
                                         "X-Folded: one\r\n two\r\n",
                                         "hi\r\n");
    ParsedMessage m;
    QVERIFY(m.parse(msg, nullptr));
    QCOMPARE(m.root().header(QStringLiteral("content-description")), QStringLiteral("Gr\u00fc\u00dfe"));
    bool folded = false;
    for (const auto &field : m.headers()) {
        if (field.first == QLatin1String("X-Folded")) {
            QCOMPARE(field.second, QStringLiteral("one two"));
            folded = true;
        }
    }
    QVERIFY(folded);
    QCOMPARE(m.root().charset, QStringLiteral("utf-8"));
    QCOMPARE(m.plainBody(), QStringLiteral("hi\r\n"));
    QVERIFY(m.attachments().isEmpty());
}

void TestParsedMessage::copiesStayValid()
{
    ParsedMessage copy;
    {
        ParsedMessage original;
        QVERIFY(original.parse(Sample::message("IMG"), nullptr));
        copy = original;
    }
    QCOMPARE(copy.attachments().size(), 3);
    QCOMPARE(copy.attachmentName(copy.attachments().at(1)), Sample::pdfName());
    QVERIFY(copy.partByContentId(QStringLiteral("logo@example.test")));
}

void TestParsedMessage::transferEncodings_data()
{
    QTest::addColumn<QByteArray>("headers");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("decoded");
    QTest::addColumn<QString>("text");

    QTest::addRow("qp soft break and escapes")
        << QByteArray("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n")
        << QByteArray("a=3Db =C3=A4=\r\nc\r\n") << QByteArray("a=b \xc3\xa4" "c\r\n") << QStringLiteral("a=b \u00e4c\r\n");
    QTest::addRow("qp lower-case hex")
        << QByteArray("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: Quoted-Printable\r\n")
        << QByteArray("x=c3=a9\r\n") << QByteArray("x\xc3\xa9\r\n") << QStringLiteral("x\u00e9\r\n");
    QTest::addRow("qp latin-1 charset")
        << QByteArray("Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n")
        << QByteArray("J=F6rg\r\n") << QByteArray("J\xf6rg\r\n") << QStringLiteral("J\u00f6rg\r\n");
    QTest::addRow("base64 over lines")
        << QByteArray("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n")
        << QByteArray("SGVsbG8s\r\nIHfDtnJs\r\nZCE=\r\n") << QByteArray("Hello, w\xc3\xb6rld!")
        << QStringLiteral("Hello, w\u00f6rld!");
    QTest::addRow("base64 binary")
        << QByteArray("Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: BASE64\r\n")
        << QByteArray("AAEC/f7/\r\n") << QByteArray("\x00\x01\x02\xfd\xfe\xff", 6) << QString();
    QTest::addRow("8bit as is")
        << QByteArray("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n")
        << QByteArray("\xe2\x82\xac=3D\r\n") << QByteArray("\xe2\x82\xac=3D\r\n") << QStringLiteral("\u20ac=3D\r\n");
}

void TestParsedMessage::transferEncodings()
{
    QFETCH(QByteArray, headers);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, decoded);
    QFETCH(QString, text);
    ParsedMessage m;
    QString error;
    QVERIFY2(m.parse(simpleMessage(headers, body), &error), qPrintable(error));
    QCOMPARE(m.root().body, decoded);
    QCOMPARE(m.root().text, text);
}

void TestParsedMessage::encodedWordSubject_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QString>("decoded");
    QTest::addRow("B utf-8") << QByteArray("=?UTF-8?B?4pyTIGRvbmU=?=") << QStringLiteral("\u2713 done");
    QTest::addRow("Q latin-1 underscores") << QByteArray("=?iso-8859-1?q?Gr=FC=DFe_aus_K=F6ln?=")
                                           << QStringLiteral("Gr\u00fc\u00dfe aus K\u00f6ln");
    QTest::addRow("adjacent words joined") << QByteArray("=?UTF-8?Q?a?= =?UTF-8?Q?b?=") << QStringLiteral("ab");
    QTest::addRow("mixed with plain text") << QByteArray("Re: =?UTF-8?Q?caf=C3=A9?= today")
                                           << QStringLiteral("Re: caf\u00e9 today");
    QTest::addRow("folded") << QByteArray("=?UTF-8?Q?one?=\r\n =?UTF-8?Q?_two?=") << QStringLiteral("one two");
    QTest::addRow("plain stays") << QByteArray("=? not encoded") << QStringLiteral("=? not encoded");
}

void TestParsedMessage::encodedWordSubject()
{
    QFETCH(QByteArray, raw);
    QFETCH(QString, decoded);
    ParsedMessage m;
    QVERIFY(m.parse("From: a@example.test\r\nSubject: " + raw + "\r\n\r\nbody\r\n", nullptr));
    QCOMPARE(m.subject(), decoded);
    QCOMPARE(m.headers().at(1).second, decoded);
}

void TestParsedMessage::brokenStructureStillParses_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QString>("expectedText");
    QTest::addColumn<QString>("expectedSubject");

    QTest::addRow("boundary never appears")
        << simpleMessage("Content-Type: multipart/mixed; boundary=\"declared\"\r\n",
                         "--other\r\nContent-Type: text/plain\r\n\r\nthe text that was sent\r\n--other--\r\n")
        << QStringLiteral("the text that was sent") << QStringLiteral("s");
    QTest::addRow("no closing delimiter")
        << simpleMessage("Content-Type: multipart/alternative; boundary=b\r\n",
                         "--b\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>x</p>")
        << QStringLiteral("first part") << QStringLiteral("s");
    QTest::addRow("multipart without boundary")
        << simpleMessage("Content-Type: multipart/mixed\r\n", "just some text\r\n")
        << QStringLiteral("just some text") << QStringLiteral("s");
    QTest::addRow("bad base64 in a part")
        << simpleMessage("Content-Type: multipart/mixed; boundary=b\r\n",
                         "--b\r\nContent-Type: text/plain\r\n\r\nreadable\r\n--b\r\n"
                         "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!@@@###\r\n--b--\r\n")
        << QStringLiteral("readable") << QStringLiteral("s");
}

void TestParsedMessage::brokenStructureStillParses()
{
    QFETCH(QByteArray, message);
    QFETCH(QString, expectedText);
    QFETCH(QString, expectedSubject);
    ParsedMessage m;
    QString error;
    QVERIFY2(m.parse(message, &error), qPrintable(error));
    QCOMPARE(m.subject(), expectedSubject);
    QVERIFY2(m.plainBody().contains(expectedText), qPrintable(m.plainBody()));
}

void TestParsedMessage::sizeBound()
{
    // Just over the bound: refused before any parsing.
    QByteArray big = simpleMessage("Content-Type: text/plain\r\n", QByteArray());
    big += QByteArray(ParsedMessage::MaxInputSize - big.size() + 1, 'a');
    QCOMPARE(big.size(), ParsedMessage::MaxInputSize + 1);
    ParsedMessage m;
    QString error;
    QVERIFY(!m.parse(big, &error));
    QVERIFY(!m.isValid());
    QVERIFY2(error.contains(QLatin1String("64 MiB")), qPrintable(error));

    // A large message well inside the bound is read whole.
    QByteArray body;
    for (int i = 0; i < 20000; ++i)
        body += "line " + QByteArray::number(i) + " of a longer text body\r\n";
    QVERIFY(m.parse(simpleMessage("Content-Type: text/plain\r\n", body), &error));
    QCOMPARE(m.plainBody().toUtf8(), body);
}

void TestParsedMessage::depthBound_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<bool>("accepted");
    QTest::addColumn<int>("leafDepth");
    // Leaf depth = number of containers around it; MaxDepth is the deepest allowed.
    QTest::addRow("31 multiparts") << nestedMultiparts(31) << true << 31;
    QTest::addRow("32 multiparts: at the bound") << nestedMultiparts(32) << true << 32;
    QTest::addRow("33 multiparts: over") << nestedMultiparts(33) << false << 0;
    QTest::addRow("5000 multiparts") << nestedMultiparts(5000) << false << 0;
    // Refused by the line scan, before GMime builds a tree that deep.
    QTest::addRow("100000 multiparts") << nestedMultiparts(100000) << false << 0;
    QTest::addRow("32 embedded messages") << nestedMessages(32) << true << 32;
    QTest::addRow("40 embedded messages") << nestedMessages(40) << false << 0;
    QTest::addRow("3000 embedded messages") << nestedMessages(3000) << false << 0;
}

void TestParsedMessage::depthBound()
{
    QFETCH(QByteArray, message);
    QFETCH(bool, accepted);
    QFETCH(int, leafDepth);
    ParsedMessage m;
    QString error;
    QCOMPARE(m.parse(message, &error), accepted);
    QCOMPARE(m.isValid(), accepted);
    if (!accepted) {
        QVERIFY2(error.contains(QLatin1String("deeper than 32")), qPrintable(error));
        return;
    }
    int deepest = 0;
    for (const ParsedPart *part : m.allParts())
        deepest = std::max(deepest, part->depth);
    QCOMPARE(deepest, leafDepth);
}

void TestParsedMessage::notAMessage_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("accepted");
    QTest::addColumn<QString>("plain");
    QTest::addRow("empty") << QByteArray() << false << QString();
    QTest::addRow("no header field") << QByteArray("garbage without a colon\r\n") << false << QString();
    // RFC 5322 3.5: the header block may be empty; the body follows the blank line.
    QTest::addRow("empty header block") << QByteArray("\r\nbody only\r\n") << true << QStringLiteral("body only\r\n");
}

void TestParsedMessage::notAMessage()
{
    QFETCH(QByteArray, bytes);
    QFETCH(bool, accepted);
    QFETCH(QString, plain);
    ParsedMessage m;
    QString error;
    QCOMPARE(m.parse(bytes, &error), accepted);
    QCOMPARE(m.isValid(), accepted);
    QCOMPARE(error.isEmpty(), accepted);
    QCOMPARE(m.plainBody(), plain);
    if (accepted)
        QVERIFY(m.headers().isEmpty());
}

QTEST_GUILESS_MAIN(TestParsedMessage)
#include "tst_parsedmessage.moc"
