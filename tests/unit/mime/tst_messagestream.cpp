// Message serialization as it reaches the engine: the streamed layout
// (exact size, any read size, files changing under it), 8bit text with 8BITMIME,
// UTF-8 addresses with SMTPUTF8, golden files, and every output parsed back by
// GMime's own parser as well as by Python's email package.

#include "mimecheck.h"
#include "client/smtpclient.h"
#include "mime/message.h"
#include "mime/messagelayout.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <gmime/gmime.h>

#include <mutex>

using namespace MimeCheck;

namespace {

constexpr BodyOptions SevenBit{};
constexpr BodyOptions EightBit{true, false};
constexpr BodyOptions Utf8{true, true};

// ---- GMime's reading of a message: the tree, and each leaf's decoded bytes.
struct GLeaf
{
    QString type;
    QString filename;
    QString encoding;
    QByteArray decoded;
};

struct GParsed
{
    bool ok = false;
    QString tree;
    QString subject;
    QStringList from;
    QList<GLeaf> leaves;
};

void walk(GMimeObject *obj, GParsed &out, QString &tree)
{
    char *mime = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(obj));
    tree += QString::fromUtf8(mime);
    g_free(mime);
    if (GMIME_IS_MULTIPART(obj)) {
        tree += QLatin1Char('(');
        const int n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
        for (int i = 0; i < n; ++i) {
            if (i)
                tree += QLatin1Char(',');
            walk(g_mime_multipart_get_part(GMIME_MULTIPART(obj), i), out, tree);
        }
        tree += QLatin1Char(')');
        return;
    }
    if (!GMIME_IS_PART(obj))
        return;
    GMimePart *part = GMIME_PART(obj);
    GLeaf leaf;
    leaf.type = QString::fromUtf8(g_mime_content_type_get_mime_type(g_mime_object_get_content_type(obj)));
    leaf.filename = QString::fromUtf8(g_mime_part_get_filename(part));
    leaf.encoding = QString::fromUtf8(g_mime_content_encoding_to_string(g_mime_part_get_content_encoding(part)));
    GMimeStream *mem = g_mime_stream_mem_new();
    if (GMimeDataWrapper *content = g_mime_part_get_content(part))
        g_mime_data_wrapper_write_to_stream(content, mem); // decodes the transfer encoding
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    leaf.decoded = QByteArray(reinterpret_cast<const char *>(bytes->data), qsizetype(bytes->len));
    g_object_unref(mem);
    out.leaves.append(leaf);
}

GParsed parseWithGMime(const QByteArray &bytes)
{
    static std::once_flag once;
    std::call_once(once, [] { g_mime_init(); });
    GParsed out;
    GMimeStream *stream = g_mime_stream_mem_new_with_buffer(bytes.constData(), size_t(bytes.size()));
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, nullptr);
    g_object_unref(parser);
    g_object_unref(stream);
    if (!msg)
        return out;
    out.ok = true;
    out.subject = QString::fromUtf8(g_mime_message_get_subject(msg));
    InternetAddressList *from = g_mime_message_get_from(msg);
    for (int i = 0; i < internet_address_list_length(from); ++i) {
        InternetAddress *ia = internet_address_list_get_address(from, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia))
            out.from.append(QString::fromUtf8(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))));
    }
    walk(g_mime_message_get_mime_part(msg), out, out.tree);
    g_object_unref(msg);
    return out;
}

QByteArray crlfToLf(QByteArray b)
{
    return b.replace("\r\n", "\n");
}

QByteArray readAllInChunks(QIODevice *dev, qint64 chunk)
{
    QByteArray all;
    QByteArray buf(chunk, Qt::Uninitialized);
    for (;;) {
        const qint64 n = dev->read(buf.data(), chunk);
        if (n <= 0)
            break;
        all.append(buf.constData(), n);
    }
    return all;
}

// The generated parts of a message (boundaries, Content-IDs) made stable, for
// comparing with a golden file.
QByteArray normalised(QByteArray bytes, const QStringList &contentIds)
{
    static const QRegularExpression boundary(QStringLiteral("boundary=\"([^\"]+)\""));
    QStringList seen;
    auto it = boundary.globalMatch(QString::fromLatin1(bytes));
    while (it.hasNext()) {
        const QString b = it.next().captured(1);
        if (!seen.contains(b))
            seen.append(b);
    }
    for (int i = 0; i < seen.size(); ++i)
        bytes.replace(seen.at(i).toLatin1(), "BOUNDARY-" + QByteArray::number(i + 1));
    for (int i = 0; i < contentIds.size(); ++i)
        bytes.replace(contentIds.at(i).toLatin1(), "content-id-" + QByteArray::number(i + 1) + "@example.org");
    return bytes;
}

QByteArray pngBytes()
{
    // A 1x1 PNG: the inline image of the golden messages.
    return QByteArray::fromBase64("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");
}

void fixedIdentity(Message &m)
{
    m.setHeader(QStringLiteral("Date"), QStringLiteral("Thu, 26 Nov 2026 09:00:00 +0000"));
    m.setHeader(QStringLiteral("Message-ID"), QStringLiteral("<golden-1@example.org>"));
}

} // namespace

class TestMessageStream : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void base64SizeMatchesGMime();
    void readsInAnyChunkSize_data();
    void readsInAnyChunkSize();
    void attachmentEditedBeforeSending();
    void attachmentChangedWhileReading();
    void attachmentRemovedBeforeSending();
    void placeholderTextInBodyKept();
    void eightBitMime_data();
    void eightBitMime();
    void smtpUtf8Addresses();
    void smtpUtf8InTestModeSend();
    void hundredRecipients();
    void golden_data();
    void golden();
};

void TestMessageStream::base64SizeMatchesGMime()
{
    // The promised size of every part is this formula; check it against GMime's
    // encoder for every remainder and line position, through a real message.
    QList<int> sizes;
    for (int n = 0; n <= 240; ++n)
        sizes.append(n);
    sizes << 56 * 1000 << 57 * 1000 << 57 * 1000 + 1 << 48 * 1024 << 48 * 1024 + 1 << 1000003;
    for (int n : sizes) {
        Message m(QStringLiteral("a@example.org"), QStringLiteral("size"));
        m.addTo(QStringLiteral("b@example.org"));
        m.attachData(QStringLiteral("blob.bin"), binaryBlob(n), QStringLiteral("application/octet-stream"));
        const QByteArray bytes = m.toBytes();
        QVERIFY2(!bytes.isEmpty(), qPrintable(QString::number(n)));
        QCOMPARE(m.size(SevenBit), qint64(bytes.size()));
        const GParsed g = parseWithGMime(bytes);
        QVERIFY(g.ok);
        QCOMPARE(g.leaves.size(), 1); // multipart/mixed with the attachment alone
        QCOMPARE(g.leaves.at(0).decoded, binaryBlob(n));
        // Same encoded text as GMime's own base64 encoder writes.
        const qsizetype start = bytes.indexOf("\r\n\r\n", bytes.indexOf("filename=blob.bin")) + 4;
        const qsizetype end = bytes.indexOf("\r\n--", start);
        // The part's text ends with its own CRLF; the next CRLF belongs to the
        // boundary delimiter (RFC 2046 5.1.1).
        const QByteArray encoded = bytes.mid(start, end - start);
        QCOMPARE(qint64(encoded.size()), MessageLayout::base64Size(n));
    }
}

void TestMessageStream::readsInAnyChunkSize_data()
{
    QTest::addColumn<int>("chunk");
    for (int c : {1, 2, 3, 7, 76, 78, 4096, 65536, 1 << 20})
        QTest::addRow("%d", c) << c;
}

void TestMessageStream::readsInAnyChunkSize()
{
    QFETCH(int, chunk);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("data.bin"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    const QByteArray fileBytes = binaryBlob(200 * 1024 + 17);
    f.write(fileBytes);
    f.close();

    Message m(QStringLiteral("a@example.org"), QStringLiteral("chunks"));
    m.addTo(QStringLiteral("b@example.org"));
    m.setText(QStringLiteral("see attached\n"));
    m.setHtml(QStringLiteral("<p>inline <img src=\"cid:%1\"></p>")
                  .arg(m.addInlineData(pngBytes(), QStringLiteral("image/png"), QStringLiteral("dot.png"))));
    m.attachFile(path);
    m.attachData(QStringLiteral("empty.txt"), QByteArray(), QStringLiteral("text/plain"));
    m.attachData(QStringLiteral("small.bin"), binaryBlob(5), QStringLiteral("application/octet-stream"));

    const QByteArray whole = m.toBytes();
    std::unique_ptr<QIODevice> dev = m.openBody(SevenBit);
    QVERIFY(dev);
    QVERIFY(dev->isSequential());
    const QByteArray chunked = readAllInChunks(dev.get(), chunk);
    QVERIFY(dev->atEnd());
    QCOMPARE(chunked.size(), whole.size());
    QCOMPARE(chunked, whole);
    QCOMPARE(m.size(SevenBit), qint64(whole.size()));
    const QString problem = wireProblem(whole);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));

    const GParsed g = parseWithGMime(whole);
    QVERIFY(g.ok);
    QCOMPARE(g.tree, QStringLiteral("multipart/mixed(multipart/related(multipart/alternative(text/plain,text/html),"
                                    "image/png),application/octet-stream,text/plain,application/octet-stream)"));
    QCOMPARE(g.leaves.at(2).decoded, pngBytes());
    QCOMPARE(g.leaves.at(3).decoded, fileBytes);
    QCOMPARE(g.leaves.at(3).filename, QStringLiteral("data.bin"));
    QCOMPARE(g.leaves.at(4).decoded, QByteArray());
    QCOMPARE(g.leaves.at(5).decoded, binaryBlob(5));

    const QJsonObject py = parseWithPython(whole);
    QCOMPARE(py.value(QStringLiteral("defects")).toArray().size(), 0);
    QCOMPARE(py.value(QStringLiteral("attachments")).toArray().at(0)[QStringLiteral("sha256")].toString(),
             sha256(fileBytes));
}

void TestMessageStream::attachmentEditedBeforeSending()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("notes.txt"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("first version\n");
    f.close();

    Message m(QStringLiteral("a@example.org"), QStringLiteral("edit"));
    m.addTo(QStringLiteral("b@example.org"));
    m.attachFile(path);
    const qint64 before = m.size(SevenBit);

    // The file changes after the size was taken (the user saved it again): the
    // next send lays the message out afresh instead of failing or sending stale sizes.
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(QByteArray(3000, 'z'));
    QVERIFY(f.setFileTime(QDateTime::currentDateTimeUtc().addSecs(5), QFileDevice::FileModificationTime));
    f.close();
    const qint64 after = m.size(SevenBit);
    QVERIFY(after > before);
    const QByteArray bytes = m.toBytes();
    QCOMPARE(qint64(bytes.size()), after);
    QCOMPARE(parseWithGMime(bytes).leaves.last().decoded, QByteArray(3000, 'z'));
}

void TestMessageStream::attachmentChangedWhileReading()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("growing.log"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(binaryBlob(300 * 1024));
    f.close();

    Message m(QStringLiteral("a@example.org"), QStringLiteral("growing"));
    m.addTo(QStringLiteral("b@example.org"));
    m.setText(QStringLiteral("log attached\n"));
    m.attachFile(path);
    std::unique_ptr<QIODevice> dev = m.openBody(SevenBit);
    QVERIFY(dev);
    QByteArray buf(4096, Qt::Uninitialized);
    QVERIFY(dev->read(buf.data(), buf.size()) > 0);

    // Appended to while being sent: a read error, so the engine drops the
    // session rather than ending the data with a message of another size.
    QVERIFY(f.open(QIODevice::Append));
    f.write(QByteArray(1000, 'x'));
    f.close();
    qint64 n = 0;
    do {
        n = dev->read(buf.data(), buf.size());
    } while (n > 0);
    QCOMPARE(n, qint64(-1));
    QVERIFY2(dev->errorString().contains(QStringLiteral("growing.log"))
                 && dev->errorString().contains(QStringLiteral("changed")),
             qPrintable(dev->errorString()));
}

void TestMessageStream::attachmentRemovedBeforeSending()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("gone.pdf"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("%PDF-1.4\n");
    f.close();
    Message m(QStringLiteral("a@example.org"), QStringLiteral("gone"));
    m.addTo(QStringLiteral("b@example.org"));
    m.attachFile(path);
    QVERIFY(m.size(SevenBit) > 0);
    QVERIFY(QFile::remove(path));
    QCOMPARE(m.size(SevenBit), qint64(-1));
    QVERIFY(!m.openBody(SevenBit));
    const SmtpError e = m.checkSendPossible();
    QVERIFY(e.isError());
    QVERIFY2(e.message.contains(path), qPrintable(e.message));
}

void TestMessageStream::placeholderTextInBodyKept()
{
    // Text that looks like the layout's placeholders is the user's, sent as written.
    const QString lookalike = QStringLiteral("\x01smtpscope-part-00000000000000000000000000000000-0\x01 stays\n");
    Message m(QStringLiteral("a@example.org"), QStringLiteral("lookalike"));
    m.addTo(QStringLiteral("b@example.org"));
    m.setText(lookalike);
    m.attachData(QStringLiteral("x.bin"), binaryBlob(100));
    const GParsed g = parseWithGMime(m.toBytes());
    QCOMPARE(crlfToLf(g.leaves.at(0).decoded), lookalike.toUtf8());
    QCOMPARE(g.leaves.at(1).decoded, binaryBlob(100));
}

void TestMessageStream::eightBitMime_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("eightBitMime");
    QTest::addColumn<QString>("encoding");

    const QString utf8 = QStringLiteral("Grüße aus Köln\n日本語\n");
    QTest::addRow("UTF-8 without 8BITMIME") << utf8 << false << "quoted-printable";
    QTest::addRow("UTF-8 with 8BITMIME") << utf8 << true << "8bit";
    QTest::addRow("ASCII with 8BITMIME stays 7bit") << QStringLiteral("plain\n") << true << "7bit";
    QTest::addRow("999-octet UTF-8 line with 8BITMIME") << QStringLiteral("é").repeated(500) << true
                                                        << "quoted-printable";
    QTest::addRow("NUL with 8BITMIME") << QString::fromUtf8("é\0x\n", 4) << true << "quoted-printable";
    QTest::addRow("bare CR with 8BITMIME") << QStringLiteral("é\rx\n") << true << "quoted-printable";
    QTest::addRow("lines starting with dots, 8bit") << QStringLiteral(".é\n..\n.") << true << "8bit";
}

void TestMessageStream::eightBitMime()
{
    QFETCH(QString, text);
    QFETCH(bool, eightBitMime);
    QFETCH(QString, encoding);

    Message m(QStringLiteral("a@example.org"), QStringLiteral("8bit"));
    m.addTo(QStringLiteral("b@example.org"));
    m.setText(text);
    m.setHtml(QStringLiteral("<p>%1</p>").arg(text.toHtmlEscaped()));
    const BodyOptions options{eightBitMime, false};
    const QByteArray bytes = m.toBytes(options);
    QCOMPARE(m.size(options), qint64(bytes.size()));
    QCOMPARE(m.has8BitContent(options), encoding == QLatin1String("8bit"));
    const QString problem = wireProblem(bytes);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));

    const GParsed g = parseWithGMime(bytes);
    QVERIFY(g.ok);
    QCOMPARE(g.leaves.size(), 2);
    QCOMPARE(g.leaves.at(0).encoding, encoding);
    QByteArray expected = text.toUtf8();
    if (!expected.endsWith('\n') && crlfToLf(g.leaves.at(0).decoded) == expected + '\n')
        expected += '\n';
    QCOMPARE(crlfToLf(g.leaves.at(0).decoded), expected);

    const QJsonObject py = parseWithPython(bytes);
    QCOMPARE(py.value(QStringLiteral("defects")).toArray().size(), 0);
    QCOMPARE(py.value(QStringLiteral("plain")).toObject().value(QStringLiteral("cte")).toString(), encoding);
}

void TestMessageStream::smtpUtf8Addresses()
{
    Message m(QStringLiteral("Jörg <jörg@bücher.example>"), QStringLiteral("Grüße"));
    m.addTo(QStringLiteral("ascii@example.org"));
    QVERIFY(!m.checkSendPossible().isError());
    QVERIFY(m.needsSmtpUtf8());
    const QByteArray bytes = m.toBytes(Utf8);
    // RFC 6532 3.2: the local part as UTF-8; the domain may stay as A-labels.
    QVERIFY2(bytes.contains("jörg@"), headerBlock(bytes).constData());
    QVERIFY(m.has8BitContent(Utf8));
    const GParsed g = parseWithGMime(bytes);
    QVERIFY(g.ok);
    QCOMPARE(g.subject, QStringLiteral("Grüße"));
    QCOMPARE(g.from.size(), 1);
    QVERIFY(g.from.at(0).startsWith(QStringLiteral("jörg@")));

    Message ascii(QStringLiteral("a@bücher.example"), QStringLiteral("x"));
    ascii.addTo(QStringLiteral("b@example.org"));
    QVERIFY(!ascii.needsSmtpUtf8()); // an IDN domain alone goes as A-labels (RFC 5890)
    Message rcpt(QStringLiteral("a@example.org"), QStringLiteral("x"));
    rcpt.addCc(QStringLiteral("zoë@example.org"));
    QVERIFY(rcpt.needsSmtpUtf8());
}

void TestMessageStream::smtpUtf8InTestModeSend()
{
    // Through the engine (test mode: a simulated server offering 8BITMIME and
    // SMTPUTF8): the envelope asks for both, the text goes as 8bit.
    Message m(QStringLiteral("jörg@example.org"), QStringLiteral("Grüße"));
    m.addTo(QStringLiteral("zoë@example.org"));
    m.setText(QStringLiteral("Grüße\n"));
    SmtpClient client(QStringLiteral("127.0.0.1"), 2525);
    client.test(true);
    const SendResult r = client.sendMessage(m);
    QVERIFY(r.accepted);
    QVERIFY2(r.simulatedWire.contains("MAIL FROM:<jörg@example.org>"), r.simulatedWire.left(400).constData());
    const qsizetype mail = r.simulatedWire.indexOf("MAIL FROM:");
    const QByteArray mailLine = r.simulatedWire.mid(mail, r.simulatedWire.indexOf("\r\n", mail) - mail);
    QVERIFY2(mailLine.contains("SMTPUTF8") && mailLine.contains("BODY=8BITMIME"), mailLine.constData());
    QVERIFY(r.simulatedWire.contains("Content-Transfer-Encoding: 8bit"));
    QCOMPARE(r.messageBytes, m.size(Utf8));
}

void TestMessageStream::hundredRecipients()
{
    Message m(QStringLiteral("a@example.org"), QStringLiteral("many"));
    for (int i = 0; i < 60; ++i)
        m.addTo(QStringLiteral("to%1@example.org").arg(i), QStringLiteral("Recipient, Number %1").arg(i));
    for (int i = 0; i < 30; ++i)
        m.addCc(QStringLiteral("cc%1@example.org").arg(i));
    for (int i = 0; i < 10; ++i)
        m.addBcc(QStringLiteral("bcc%1@example.org").arg(i));
    m.setText(QStringLiteral("hello\n"));
    QVERIFY(!m.checkSendPossible().isError());
    QCOMPARE(m.envelopeRecipients().size(), 100);
    const QByteArray bytes = m.toBytes();
    const QString problem = wireProblem(bytes);
    QVERIFY2(problem.isEmpty(), qPrintable(problem)); // long To: folded
    QVERIFY(!bytes.contains("bcc"));
    const QJsonObject py = parseWithPython(bytes);
    QCOMPARE(py.value(QStringLiteral("to")).toArray().size(), 60);
    QCOMPARE(py.value(QStringLiteral("to")).toArray().at(59)[QStringLiteral("name")].toString(),
             QStringLiteral("Recipient, Number 59"));
    QCOMPARE(py.value(QStringLiteral("cc")).toArray().size(), 30);
    QVERIFY(!py.value(QStringLiteral("has_bcc")).toBool());
}

void TestMessageStream::golden_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("eightBitMime");
    for (const char *name : {"plain-ascii", "utf8-alternative", "related-mixed", "attachment-only"}) {
        QTest::addRow("%s", name) << QString::fromLatin1(name) << false;
        QTest::addRow("%s-8bitmime", name) << QString::fromLatin1(name) << true;
    }
}

void TestMessageStream::golden()
{
    QFETCH(QString, name);
    QFETCH(bool, eightBitMime);

    Message m(QStringLiteral("Sender Name <sender@example.org>"), QStringLiteral("Golden"));
    fixedIdentity(m);
    m.addTo(QStringLiteral("to@example.org"), QStringLiteral("Doe, \"Jr\" John"));
    m.addBcc(QStringLiteral("hidden@example.org"));
    QStringList contentIds;
    if (name == QLatin1String("plain-ascii")) {
        m.setText(QStringLiteral("Hello,\n.leading dot\n\nBye.\n"));
    } else if (name == QLatin1String("utf8-alternative")) {
        m.setSubject(QStringLiteral("Grüße aus Köln — 日本語"));
        m.addCc(QStringLiteral("cc@example.org"), QStringLiteral("Zoë Müller"));
        m.setText(QStringLiteral("Grüße!\nZweite Zeile.\n"));
        m.setHtml(QStringLiteral("<p>Grüße!</p>\n"));
    } else if (name == QLatin1String("related-mixed")) {
        m.setSubject(QStringLiteral("Report ✓"));
        m.setText(QStringLiteral("See the chart.\n"));
        const QString cid = m.addInlineData(pngBytes(), QStringLiteral("image/png"), QStringLiteral("chart.png"));
        contentIds.append(cid);
        m.setHtml(QStringLiteral("<p>See <img src=\"cid:%1\"></p>\n").arg(cid));
        m.attachData(QStringLiteral("Übersicht.csv"), "a,b\r\n1,2\r\n", QStringLiteral("text/csv"));
        m.attachData(QStringLiteral("blob.bin"), binaryBlob(100), QStringLiteral("application/octet-stream"));
        m.important(true);
        m.requestReadReceipt(true);
        m.addHeader(QStringLiteral("X-Mailer-Test"), QStringLiteral("golden"));
    } else {
        m.attachData(QStringLiteral("only.pdf"), "%PDF-1.4\n%%EOF\n", QStringLiteral("application/pdf"));
    }
    QVERIFY(!m.checkSendPossible().isError());
    const BodyOptions options{eightBitMime, false};
    const QByteArray bytes = m.toBytes(options);
    QCOMPARE(m.size(options), qint64(bytes.size()));
    const QByteArray got = normalised(bytes, contentIds);

    const QString file = QStringLiteral(GOLDEN_DIR "/%1%2.eml").arg(name, eightBitMime ? QStringLiteral("-8bitmime") : QString());
    if (qEnvironmentVariableIsSet("SMTPSCOPE_UPDATE_GOLDEN")) {
        QFile out(file);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(got);
    }
    QFile in(file);
    QVERIFY2(in.open(QIODevice::ReadOnly), qPrintable(file + QStringLiteral(" (SMTPSCOPE_UPDATE_GOLDEN=1 writes it)")));
    QCOMPARE(got, in.readAll());

    // The golden bytes themselves read back right by both parsers.
    const GParsed g = parseWithGMime(bytes);
    QVERIFY(g.ok);
    QCOMPARE(g.subject, m.subject());
    const QJsonObject py = parseWithPython(bytes);
    QCOMPARE(py.value(QStringLiteral("defects")).toArray().size(), 0);
    QCOMPARE(py.value(QStringLiteral("subject")).toString(), m.subject());
    QVERIFY(!py.value(QStringLiteral("has_bcc")).toBool());
}

QTEST_GUILESS_MAIN(TestMessageStream)
#include "tst_messagestream.moc"
