// ParsedMessage: the structure, decoded headers and bodies of a typical message
// (mixed + related + alternative, a cid image, RFC 2231 attachment names),
// transfer-encoding and RFC 2047 decoding, recovery from broken structure, and
// the bounds: size, depth, parts, header fields (in a part and in all), decoded
// size and memory, each refused as "too complex" naming the limit; and the
// structure scan (ParsedMessage::measure) counting what GMime builds.

#include <QElapsedTimer>
#include <QFile>
#include <QTest>

#include "sanitize/bounds.h"
#include "hostilemessage.h"
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

// A field of /proc/self/status in KiB, -1 when it cannot be read.
qint64 statusKiB(const char *field)
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray key = QByteArray(field) + ':';
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith(key))
            return line.mid(key.size()).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

int fieldsInAll(const ParsedMessage &m)
{
    // The root's own Content-* fields and the message's others are one header
    // block; an embedded message's root shows the embedded message's fields.
    int n = int(m.headers().size());
    for (const ParsedPart *part : m.allParts())
        n += int(part->headers.size());
    return n;
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
    void partBound_data();
    void partBound();
    void millionPartsStayBounded();
    void fieldBound_data();
    void fieldBound();
    void decodedSizeAndMemoryBounds();
    void measureMatchesParse_data();
    void measureMatchesParse();
    void longLinesAroundDelimiters_data();
    void longLinesAroundDelimiters();
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

void TestParsedMessage::partBound_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<int>("parts"); // 0: refused for its part count
    // Parts counted as allParts() holds them: the root multipart and its children.
    QTest::addRow("9,999 parts and the root: at the bound") << Hostile::manyParts(9999) << 10000;
    QTest::addRow("10,000 parts and the root: over") << Hostile::manyParts(10000) << 0;
    QTest::addRow("parts without header fields: over") << Hostile::emptyParts(10000) << 0;
    QTest::addRow("5,000,000 parts without header fields") << Hostile::emptyParts(5000000) << 0;
    // RFC 2046 5.1.5: 500 embedded posts, each a multipart/alternative of two.
    QTest::addRow("digest of 500 posts") << Hostile::digest(500) << 2001;
    QTest::addRow("digest of 2,500 posts: over") << Hostile::digest(2500) << 0;
}

void TestParsedMessage::partBound()
{
    QFETCH(QByteArray, message);
    QFETCH(int, parts);
    ParsedMessage m;
    QString error;
    QCOMPARE(m.parse(message, &error), parts > 0);
    if (parts > 0) {
        QCOMPARE(m.allParts().size(), parts);
        QCOMPARE(m.errorKind(), ParsedMessage::ErrorKind::None);
        return;
    }
    QCOMPARE(m.errorKind(), ParsedMessage::ErrorKind::TooComplex);
    QCOMPARE(m.limitReached(), ParsedMessage::Limit::Parts);
    QVERIFY2(error.contains(QLatin1String("more than 10000 MIME parts")), qPrintable(error));
    QCOMPARE(m.errorString(), error);
    QCOMPARE(m.limitDescription(), QStringLiteral("more than 10000 MIME parts (the limit on parts)"));
    QVERIFY(m.allParts().size() == 1 && m.root().children.isEmpty()); // nothing kept
}

void TestParsedMessage::millionPartsStayBounded()
{
    // 1,000,000 parts in 40 MB (under the capture server's 50 MiB SIZE): refused
    // before GMime builds its tree, fast and in little memory. The growth is the
    // kernel's peak mark after the parse minus the resident size before it
    // (Linux: "5" to /proc/self/clear_refs resets the mark).
    const QByteArray message = Hostile::manyParts(1000000);
    QVERIFY(message.size() > 30 * 1024 * 1024 && message.size() < 50 * 1024 * 1024);
    QFile clear(QStringLiteral("/proc/self/clear_refs"));
    const bool canMeasure = clear.open(QIODevice::WriteOnly) && clear.write("5") == 1;
    clear.close();
    const qint64 rssBefore = statusKiB("VmRSS");
    QElapsedTimer timer;
    timer.start();
    ParsedMessage m;
    QString error;
    QVERIFY(!m.parse(message, &error));
    const qint64 ms = timer.elapsed();
    QCOMPARE(m.errorKind(), ParsedMessage::ErrorKind::TooComplex);
    QCOMPARE(m.limitReached(), ParsedMessage::Limit::Parts);
    // Generous margins: bench_parse measures about 30 ms and 1 MiB.
    QVERIFY2(ms < Bounds::timeMs(5000), qPrintable(QString::number(ms)));
    if (!canMeasure || rssBefore < 0)
        QSKIP("the peak resident size cannot be reset here (/proc/self/clear_refs)");
    const qint64 growthKiB = statusKiB("VmHWM") - rssBefore;
    qInfo("1,000,000 parts: refused in %lld ms, peak growth %lld KiB", ms, growthKiB);
    QVERIFY2(growthKiB < Bounds::memoryBytes(200LL * 1024 * 1024) / 1024, qPrintable(QString::number(growthKiB)));
}

void TestParsedMessage::fieldBound_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<int>("limit"); // ParsedMessage::Limit, None: accepted
    // manyHeaders(n): n fields after From and Subject.
    QTest::addRow("1,000 fields in a part: at the bound") << Hostile::manyHeaders(998) << int(ParsedMessage::Limit::None);
    QTest::addRow("1,001 fields in a part: over") << Hostile::manyHeaders(999) << int(ParsedMessage::Limit::FieldsPerPart);
    QTest::addRow("5,000,000 fields in a part") << Hostile::manyHeaders(5000000) << int(ParsedMessage::Limit::FieldsPerPart);
    // The top block has 5 fields: 5 + 50 * 999 = 49,955; 5 + 51 * 999 = 50,954.
    QTest::addRow("49,955 fields in all") << Hostile::manyHeadersInParts(50, 999) << int(ParsedMessage::Limit::None);
    QTest::addRow("50,954 fields in all: over") << Hostile::manyHeadersInParts(51, 999) << int(ParsedMessage::Limit::Fields);
}

void TestParsedMessage::fieldBound()
{
    QFETCH(QByteArray, message);
    QFETCH(int, limit);
    ParsedMessage m;
    QString error;
    const bool accepted = limit == int(ParsedMessage::Limit::None);
    QCOMPARE(m.parse(message, &error), accepted);
    QCOMPARE(int(m.limitReached()), limit);
    if (accepted) {
        QVERIFY(fieldsInAll(m) <= ParsedMessage::MaxFields);
        return;
    }
    QCOMPARE(m.errorKind(), ParsedMessage::ErrorKind::TooComplex);
    const QString expected = limit == int(ParsedMessage::Limit::Fields)
        ? QStringLiteral("more than 50000 header fields in all")
        : QStringLiteral("a part with more than 1000 header fields");
    QVERIFY2(error.contains(expected), qPrintable(error));
}

void TestParsedMessage::decodedSizeAndMemoryBounds()
{
    // No message within the input bound can reach the default decoded-size and
    // memory bounds (they hold whatever the other limits are set to), so they
    // are checked with lower limits.
    const QByteArray message = Hostile::largeText(64 * 1024); // 64 KiB of text
    ParsedMessage m;
    QString error;
    QVERIFY2(m.parse(message, &error), qPrintable(error));
    const qint64 decoded = m.root().body.size() + m.root().text.size() * qint64(sizeof(QChar));

    ParsedMessage::Limits limits;
    limits.maxDecodedSize = decoded;
    QVERIFY2(m.parse(message, limits, &error), qPrintable(error)); // at the bound
    limits.maxDecodedSize = decoded - 1;
    QVERIFY(!m.parse(message, limits, &error));
    QCOMPARE(m.errorKind(), ParsedMessage::ErrorKind::TooComplex);
    QCOMPARE(m.limitReached(), ParsedMessage::Limit::DecodedSize);
    QVERIFY2(error.contains(QLatin1String("limit on decoded size")), qPrintable(error));

    const ParsedMessage::Complexity c = ParsedMessage::measure(message);
    QVERIFY(c.estimatedMemory >= decoded); // the estimate covers what the parse keeps
    limits = ParsedMessage::Limits();
    limits.maxMemory = c.estimatedMemory;
    QVERIFY2(m.parse(message, limits, &error), qPrintable(error));
    limits.maxMemory = c.estimatedMemory - 1;
    QVERIFY(!m.parse(message, limits, &error));
    QCOMPARE(m.limitReached(), ParsedMessage::Limit::Memory);
    QVERIFY2(error.contains(QLatin1String("limit on memory")), qPrintable(error));
    // The estimate of many small parts is dominated by GMime's cost per part.
    QVERIFY(ParsedMessage::measure(Hostile::manyParts(5000)).estimatedMemory > 5000 * 2048);
}

void TestParsedMessage::measureMatchesParse_data()
{
    QTest::addColumn<QByteArray>("message");
    // true: the scan may count more than the parts show: an embedded message's
    // root shows the message's fields, not its Content-* ones; the scan counts
    // malformed header lines as fields, and the parts GMime drops (a header
    // block ended by a delimiter before any field).
    QTest::addColumn<bool>("estimated");
    auto multipart = [](const QByteArray &contentTypeField, const QByteArray &body) {
        return "From: a@example.test\r\nSubject: s\r\nMIME-Version: 1.0\r\n" + contentTypeField + "\r\n\r\n" + body;
    };
    const QByteArray twoParts = "--b\r\nContent-Type: text/plain\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--\r\n";
    QTest::addRow("sample") << Sample::message("PNG") << false;
    QTest::addRow("digest") << Hostile::digest(3) << true;
    QTest::addRow("boundary on a folded line") << multipart("Content-Type: multipart/mixed;\r\n\tboundary=\"b\"", twoParts) << false;
    QTest::addRow("white space before the colon") << multipart("Content-Type  : multipart/mixed; boundary=b", twoParts) << false;
    QTest::addRow("upper-case parameter name") << multipart("Content-Type: MULTIPART/Mixed; BOUNDARY=b", twoParts) << false;
    QTest::addRow("RFC 2231 continued boundary")
        << multipart("Content-Type: multipart/mixed; boundary*0=\"x\"; boundary*1=\"y\"",
                     "--xy\r\n\r\none\r\n--xy\r\n\r\ntwo\r\n--xy--\r\n") << false;
    QTest::addRow("quoted boundary with spaces")
        << multipart("Content-Type: multipart/mixed; boundary=\"a b c\"", "--a b c\r\n\r\none\r\n--a b c--\r\n") << false;
    QTest::addRow("white space after delimiters") << multipart("Content-Type: multipart/mixed; boundary=b",
                                                              "--b  \r\n\r\none\r\n--b\t\r\n\r\ntwo\r\n--b-- \r\n") << false;
    QTest::addRow("LF line ends") << QByteArray("Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n--b--\n") << false;
    QTest::addRow("no final line end") << multipart("Content-Type: multipart/mixed; boundary=b", "--b\r\n\r\none\r\n--b--") << false;
    QTest::addRow("last Content-Type field wins")
        << multipart("Content-Type: multipart/mixed; boundary=x\r\nContent-Type: multipart/mixed; boundary=b", twoParts) << false;
    QTest::addRow("encoded message/rfc822 is a leaf")
        << multipart("Content-Type: multipart/mixed; boundary=b",
                     "--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                     "U3ViamVjdDogeA0KDQp5DQo=\r\n--b--\r\n") << false;
    QTest::addRow("digest part with a broken Content-Type is a message")
        << multipart("Content-Type: multipart/digest; boundary=b",
                     "--b\r\nContent-Type: /\r\n\r\nSubject: inner\r\n\r\nbody\r\n--b--\r\n") << true;
    QTest::addRow("empty embedded message")
        << multipart("Content-Type: multipart/mixed; boundary=b",
                     "--b\r\nContent-Type: message/rfc822\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n") << true;
    QTest::addRow("inner multipart closed by the outer delimiter")
        << multipart("Content-Type: multipart/mixed; boundary=outer",
                     "--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n\r\na\r\n"
                     "--outer\r\n\r\nb\r\n--outer--\r\n") << false;
    QTest::addRow("delimiter inside a part's header block")
        << multipart("Content-Type: multipart/mixed; boundary=b", "--b\r\nX: 1\r\n--b\r\nY: 2\r\n\r\nz\r\n--b--\r\n") << false;
    QTest::addRow("delimiter as a part's first header line")
        << multipart("Content-Type: multipart/mixed; boundary=b", "--b\r\n--b\r\n--b\r\n\r\nz\r\n--b--\r\n") << true;
    QTest::addRow("close delimiter inside a part's header block")
        << multipart("Content-Type: multipart/mixed; boundary=b", "--b\r\nX: 1\r\n--b--\r\nafter\r\n") << false;
    QTest::addRow("outer delimiter inside an inner part's header block")
        << multipart("Content-Type: multipart/mixed; boundary=outer",
                     "--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\nX: 1\r\n"
                     "--outer\r\n\r\nb\r\n--outer--\r\n") << false;
    QTest::addRow("delimiter inside an embedded message's header block")
        << multipart("Content-Type: multipart/mixed; boundary=b",
                     "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: x\r\n--b\r\n\r\ny\r\n--b--\r\n") << true;
    QTest::addRow("delimiter after a malformed line and a field")
        << multipart("Content-Type: multipart/mixed; boundary=b", "--b\r\njunk\r\nX: 1\r\n--b\r\n\r\nz\r\n--b--\r\n") << true;
    QTest::addRow("delimiter after a malformed line only")
        << multipart("Content-Type: multipart/mixed; boundary=b", "--b\r\njunk\r\n--b\r\n\r\nz\r\n--b--\r\n") << true;
    QTest::addRow("boundary with a colon")
        << multipart("Content-Type: multipart/mixed; boundary=\"a:b\"", "--a:b\r\nX: 1\r\n--a:b\r\n\r\nz\r\n--a:b--\r\n") << false;
    QTest::addRow("malformed line, then a delimiter, in an embedded message's header block")
        << multipart("Content-Type: multipart/digest; boundary=d", "--d\r\n\r\n-\r\n--d\r\n\x02") << true;
    QTest::addRow("CR inside the quoted boundary")
        << QByteArray("Content-Type:multipart/d;boundary=\"n0\r\"\n\n--n0\n 1") << true;
    QTest::addRow("folded line that looks like a delimiter")
        << multipart("Content-Type: multipart/mixed; boundary=b", "--b\r\nX: 1\r\n --b\r\n\r\nz\r\n--b--\r\n") << false;
    QTest::addRow("empty boundary")
        << multipart("Content-Type: multipart/mixed; boundary=\"\"", "--\r\n\r\none\r\n--\r\n\r\ntwo\r\n----\r\n") << false;
    QTest::addRow("multipart without boundary") << multipart("Content-Type: multipart/mixed", twoParts) << false;
    QTest::addRow("nested embedded messages") << nestedMessages(5) << true;
    QTest::addRow("nested multiparts") << nestedMultiparts(6) << false;
}

void TestParsedMessage::measureMatchesParse()
{
    // The scan counts what GMime builds: the same parts, and for well-formed
    // header blocks the same fields (tests/fuzz/parsedmessage_fuzzer.cpp checks
    // "never fewer" on everything the fuzzer makes).
    QFETCH(QByteArray, message);
    QFETCH(bool, estimated);
    ParsedMessage m;
    QString error;
    QVERIFY2(m.parse(message, &error), qPrintable(error));
    const ParsedMessage::Complexity c = ParsedMessage::measure(message);
    QCOMPARE(c.limit, ParsedMessage::Limit::None);
    if (estimated)
        QVERIFY2(c.parts >= int(m.allParts().size()), qPrintable(QStringLiteral("%1 < %2").arg(c.parts).arg(m.allParts().size())));
    else
        QCOMPARE(c.parts, int(m.allParts().size()));
    if (estimated)
        QVERIFY2(c.fields >= fieldsInAll(m), qPrintable(QStringLiteral("%1 < %2").arg(c.fields).arg(fieldsInAll(m))));
    else
        QCOMPARE(c.fields, fieldsInAll(m));
    int deepest = 0;
    for (const ParsedPart *part : m.allParts())
        deepest = std::max(deepest, part->depth);
    QCOMPARE(c.depth, deepest);
}

void TestParsedMessage::longLinesAroundDelimiters_data()
{
    // GMime reads a line in pieces of its 4 KiB buffer: a piece that starts
    // with a delimiter counts as one, whatever the whole line says. Checked
    // against GMime 3.2: "--d" + 5,000 spaces + "X" ends a part there, and so
    // does "--d" after 4,048 other bytes on its line.
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<int>("parts"); // 0: refused (LineLength)
    const QByteArray head = "From: a@example.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=d\r\n\r\n";
    QTest::addRow("delimiter, white space, then text")
        << head + "--d\r\n\r\none\r\n--d" + QByteArray(5000, ' ') + "X\r\n\r\ntwo\r\n--d--\r\n" << 0;
    QTest::addRow("delimiter inside a long line")
        << head + "--d\r\n\r\n" + QByteArray(4048, 'a') + "--d\r\n\r\nhidden\r\n--d--\r\n" << 0;
    QTest::addRow("delimiter inside a long header line")
        << head + "--d\r\nX-Long: " + QByteArray(4048, 'a') + "--d\r\n\r\nx\r\n--d--\r\n" << 0;
    // Long lines without a delimiter are only long lines (an unwrapped base64
    // attachment, a one-line HTML body).
    QTest::addRow("long line, no delimiter")
        << head + "--d\r\nContent-Type: text/html\r\n\r\n" + QByteArray(100000, 'h') + "\r\n--d\r\n\r\nx\r\n--d--\r\n" << 3;
    QTest::addRow("long line before any boundary is open")
        << "X-Long: " + QByteArray(5000, 'a') + "--d\r\nContent-Type: multipart/mixed; boundary=d\r\n\r\n--d\r\n\r\nx\r\n--d--\r\n" << 2;
    QTest::addRow("short line with a delimiter inside") << head + "--d\r\n\r\nab--d\r\n--d--\r\n" << 2;
}

void TestParsedMessage::longLinesAroundDelimiters()
{
    QFETCH(QByteArray, message);
    QFETCH(int, parts);
    ParsedMessage m;
    QString error;
    QCOMPARE(m.parse(message, &error), parts > 0);
    if (parts > 0) {
        QCOMPARE(m.allParts().size(), parts);
        QCOMPARE(ParsedMessage::measure(message).parts, parts);
        return;
    }
    QCOMPARE(m.errorKind(), ParsedMessage::ErrorKind::TooComplex);
    QCOMPARE(m.limitReached(), ParsedMessage::Limit::LineLength);
    QVERIFY2(error.contains(QLatin1String("line of 4000 bytes or more")), qPrintable(error));
}

QTEST_GUILESS_MAIN(TestParsedMessage)
#include "tst_parsedmessage.moc"
