// DataEncoder: CRLF normalisation, dot-stuffing and the end of data (docs/security.md
// D.31-D.35, RFC 5321 4.5.2 and 2.3.8, RFC 3030). Every row is encoded whole,
// in chunks of 1, 2, 3, 4095, 4096 and 4097 bytes, split at every offset and in
// seeded random chunks; the output must always be the same.

#include "protocol/dataencoder.h"

#include <QRandomGenerator>
#include <QTest>

using Smtp::DataEncoder;

namespace {

QByteArray encodeInChunks(DataEncoder::Mode mode, const QByteArray &in, const QList<qsizetype> &cuts)
{
    DataEncoder encoder(mode);
    QByteArray out;
    qsizetype from = 0;
    QList<qsizetype> ends = cuts;
    ends.append(in.size());
    for (const qsizetype to : std::as_const(ends)) {
        encoder.encode(QByteArrayView(in).sliced(from, to - from), out);
        from = to;
    }
    encoder.finish(out);
    return out;
}

QList<qsizetype> everyN(qsizetype size, qsizetype n)
{
    QList<qsizetype> cuts;
    for (qsizetype i = n; i < size; i += n)
        cuts.append(i);
    return cuts;
}

// True when every CR is followed by LF and every LF preceded by CR.
bool onlyCrlf(const QByteArray &out)
{
    for (qsizetype i = 0; i < out.size(); ++i) {
        if (out[i] == '\r' && (i + 1 == out.size() || out[i + 1] != '\n'))
            return false;
        if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
            return false;
    }
    return true;
}

// What a server sees after removing the stuffing (RFC 5321 4.5.2) and the
// terminator, written independently of the encoder: lines are cut at CRLF.
QByteArray serverView(const QByteArray &wire)
{
    QByteArray result;
    qsizetype from = 0;
    for (;;) {
        const qsizetype crlf = wire.indexOf("\r\n", from);
        if (crlf < 0)
            return "missing terminator: " + wire.mid(from);
        QByteArray line = wire.mid(from, crlf - from);
        from = crlf + 2;
        if (line == ".")
            return from == wire.size() ? result : "data after terminator: " + wire.mid(from);
        if (line.startsWith('.'))
            line.remove(0, 1);
        result += line + "\r\n";
    }
}

// The input with every line break as CRLF and a final one added (the
// normalisation the encoder must perform), done byte by byte for reference.
QByteArray normalised(const QByteArray &in)
{
    QByteArray out;
    for (qsizetype i = 0; i < in.size(); ++i) {
        if (in[i] == '\r') {
            out += "\r\n";
            if (i + 1 < in.size() && in[i + 1] == '\n')
                ++i;
        } else if (in[i] == '\n') {
            out += "\r\n";
        } else {
            out += in[i];
        }
    }
    if (!out.isEmpty() && !out.endsWith("\r\n"))
        out += "\r\n";
    return out;
}

const QByteArray kSmuggledTail = "MAIL FROM:<x>\r\nRCPT TO:<y>\r\nDATA\r\n";

} // namespace

class TestDataEncoder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void encode_data();
    void encode();
    void smuggling_data();
    void smuggling();
    void randomBodiesMatchReference();
    void sameEncoderForSeveralMessages();
    void appendsToExistingOutput();
    void largeBodyStraddlingChunkSizes();
};

void TestDataEncoder::encode_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<QByteArray>("bdat");

    QTest::addRow("empty body") << QByteArray() << QByteArray(".\r\n") << QByteArray();
    QTest::addRow("no final CRLF") << QByteArray("body") << QByteArray("body\r\n.\r\n")
                                   << QByteArray("body\r\n");
    QTest::addRow("final CRLF") << QByteArray("body\r\n") << QByteArray("body\r\n.\r\n")
                                << QByteArray("body\r\n");
    QTest::addRow("lone dot") << QByteArray(".") << QByteArray("..\r\n.\r\n") << QByteArray(".\r\n");
    QTest::addRow("dot line") << QByteArray("a\r\n.\r\nb\r\n") << QByteArray("a\r\n..\r\nb\r\n.\r\n")
                              << QByteArray("a\r\n.\r\nb\r\n");
    QTest::addRow("dot first line") << QByteArray(".first\r\nsecond\r\n")
                                    << QByteArray("..first\r\nsecond\r\n.\r\n")
                                    << QByteArray(".first\r\nsecond\r\n");
    QTest::addRow("double dot") << QByteArray("a\r\n..\r\n") << QByteArray("a\r\n...\r\n.\r\n")
                                << QByteArray("a\r\n..\r\n");
    QTest::addRow("dot x") << QByteArray("a\r\n.x\r\n") << QByteArray("a\r\n..x\r\n.\r\n")
                           << QByteArray("a\r\n.x\r\n");
    QTest::addRow("dot inside line") << QByteArray("a.b .\r\n") << QByteArray("a.b .\r\n.\r\n")
                                     << QByteArray("a.b .\r\n");
    QTest::addRow("bare LF") << QByteArray("a\nb") << QByteArray("a\r\nb\r\n.\r\n")
                             << QByteArray("a\r\nb\r\n");
    QTest::addRow("bare CR") << QByteArray("a\rb") << QByteArray("a\r\nb\r\n.\r\n")
                             << QByteArray("a\r\nb\r\n");
    QTest::addRow("CR at end") << QByteArray("a\r") << QByteArray("a\r\n.\r\n") << QByteArray("a\r\n");
    QTest::addRow("LF at end") << QByteArray("a\n") << QByteArray("a\r\n.\r\n") << QByteArray("a\r\n");
    QTest::addRow("CR CR LF") << QByteArray("a\r\r\nb") << QByteArray("a\r\n\r\nb\r\n.\r\n")
                              << QByteArray("a\r\n\r\nb\r\n");
    QTest::addRow("LF CR") << QByteArray("a\n\rb") << QByteArray("a\r\n\r\nb\r\n.\r\n")
                           << QByteArray("a\r\n\r\nb\r\n");
    QTest::addRow("only line breaks") << QByteArray("\n\r\n\r") << QByteArray("\r\n\r\n\r\n.\r\n")
                                      << QByteArray("\r\n\r\n\r\n");
    QTest::addRow("ends with CRLF dot") << QByteArray("a\r\n.") << QByteArray("a\r\n..\r\n.\r\n")
                                        << QByteArray("a\r\n.\r\n");
    QTest::addRow("ends with CRLF dot CRLF") << QByteArray("a\r\n.\r\n")
                                             << QByteArray("a\r\n..\r\n.\r\n")
                                             << QByteArray("a\r\n.\r\n");
    QTest::addRow("dot after bare LF") << QByteArray("a\n.b") << QByteArray("a\r\n..b\r\n.\r\n")
                                       << QByteArray("a\r\n.b\r\n");
    QTest::addRow("dot after bare CR") << QByteArray("a\r.b") << QByteArray("a\r\n..b\r\n.\r\n")
                                       << QByteArray("a\r\n.b\r\n");
    QTest::addRow("NUL before dot is not a line start")
            << QByteArray("a\r\n\0.\r\n", 7) << QByteArray("a\r\n\0.\r\n.\r\n", 10)
            << QByteArray("a\r\n\0.\r\n", 7);
    QTest::addRow("8-bit bytes kept") << QByteArray("caf\xe9\r\n\xff.") << QByteArray("caf\xe9\r\n\xff.\r\n.\r\n")
                                      << QByteArray("caf\xe9\r\n\xff.\r\n");
}

void TestDataEncoder::encode()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, data);
    QFETCH(QByteArray, bdat);

    for (const auto mode : {DataEncoder::Mode::Data, DataEncoder::Mode::Bdat}) {
        const QByteArray &expected = mode == DataEncoder::Mode::Data ? data : bdat;
        const QString modeName = mode == DataEncoder::Mode::Data ? QStringLiteral("DATA")
                                                                 : QStringLiteral("BDAT");
        auto check = [&](const QList<qsizetype> &cuts, const QString &how) {
            const QByteArray got = encodeInChunks(mode, input, cuts);
            QVERIFY2(got == expected, qPrintable(modeName + QLatin1Char(' ') + how + QStringLiteral(": ")
                                                 + QString::fromLatin1(got.toPercentEncoding())));
        };
        check({}, QStringLiteral("whole"));
        for (const qsizetype n : {1, 2, 3, 4095, 4096, 4097})
            check(everyN(input.size(), n), QStringLiteral("chunks of %1").arg(n));
        for (qsizetype i = 0; i <= input.size(); ++i) {
            for (qsizetype j = i; j <= input.size(); ++j)
                check({i, j}, QStringLiteral("split at %1 and %2").arg(i).arg(j));
        }
        QVERIFY(onlyCrlf(expected));
    }
}

void TestDataEncoder::smuggling_data()
{
    QTest::addColumn<QByteArray>("sequence");
    // Catalogue D.32 (SEC Consult 2023; hannob/smtpsmug).
    QTest::addRow("LF dot LF") << QByteArray("\n.\n");
    QTest::addRow("CR dot CR") << QByteArray("\r.\r");
    QTest::addRow("CR dot LF") << QByteArray("\r.\n");
    QTest::addRow("LF dot CR") << QByteArray("\n.\r");
    QTest::addRow("LF dot CRLF") << QByteArray("\n.\r\n");
    QTest::addRow("CRLF dot LF") << QByteArray("\r\n.\n");
    QTest::addRow("CR dot CRLF") << QByteArray("\r.\r\n");
    QTest::addRow("CRLF dot CR") << QByteArray("\r\n.\r");
    QTest::addRow("CRLF NUL dot CRLF") << QByteArray("\r\n\0.\r\n", 6);
    QTest::addRow("CRLF dot CRLF") << QByteArray("\r\n.\r\n");
}

void TestDataEncoder::smuggling()
{
    QFETCH(QByteArray, sequence);
    const QList<QByteArray> bodies{"Hello" + sequence + kSmuggledTail + "evil",
                                   sequence + kSmuggledTail, "Hello" + sequence,
                                   "Subject: x\r\n\r\n" + sequence + kSmuggledTail + sequence};
    for (const QByteArray &body : bodies) {
        const QByteArray whole = encodeInChunks(DataEncoder::Mode::Data, body, {});
        // Exactly one end of data, and it is the last five bytes (or the whole
        // output for a body that begins with the terminator sequence).
        const qsizetype end = whole.indexOf("\r\n.\r\n");
        QCOMPARE(end, whole.size() - 5);
        QVERIFY(!whole.startsWith(".\r\n"));
        QVERIFY(onlyCrlf(whole));
        // The server gets back the normalised body, smuggled commands as text.
        QCOMPARE(serverView(whole), normalised(body));
        for (qsizetype i = 0; i <= body.size(); ++i)
            QCOMPARE(encodeInChunks(DataEncoder::Mode::Data, body, {i}), whole);
        QCOMPARE(encodeInChunks(DataEncoder::Mode::Data, body, everyN(body.size(), 1)), whole);
    }
}

void TestDataEncoder::randomBodiesMatchReference()
{
    // Bodies drawn from the bytes that matter, against an independent model.
    QRandomGenerator random(20231218);
    const QByteArray alphabet("ab.\r\n\0\xff", 7);
    for (int round = 0; round < 400; ++round) {
        const qsizetype length = round < 390 ? random.bounded(64) : 20000 + random.bounded(5000);
        QByteArray body(length, Qt::Uninitialized);
        for (char &c : body)
            c = alphabet.at(random.bounded(alphabet.size()));

        const QByteArray data = encodeInChunks(DataEncoder::Mode::Data, body, {});
        const QByteArray bdat = encodeInChunks(DataEncoder::Mode::Bdat, body, {});
        QCOMPARE(bdat, normalised(body));
        QVERIFY(onlyCrlf(data));
        QCOMPARE(data.indexOf("\r\n.\r\n"), body.isEmpty() ? qsizetype(-1) : data.size() - 5);
        QCOMPARE(serverView(data), normalised(body));

        QList<qsizetype> cuts;
        for (qsizetype at = 0;;) {
            at += 1 + random.bounded(qMax<qsizetype>(2, length / 4));
            if (at >= length)
                break;
            cuts.append(at);
        }
        QCOMPARE(encodeInChunks(DataEncoder::Mode::Data, body, cuts), data);
        QCOMPARE(encodeInChunks(DataEncoder::Mode::Bdat, body, cuts), bdat);
    }
}

void TestDataEncoder::sameEncoderForSeveralMessages()
{
    DataEncoder encoder;
    QByteArray out;
    encoder.encode("first\r", out);
    encoder.finish(out);
    QCOMPARE(out, QByteArray("first\r\n.\r\n"));

    // finish() left it at the start of a body: a leading LF is a new line,
    // not the end of the previous CR, and a leading dot is stuffed.
    out.clear();
    encoder.encode("\n.second", out);
    encoder.finish(out);
    QCOMPARE(out, QByteArray("\r\n..second\r\n.\r\n"));

    out.clear();
    encoder.encode("half", out);
    encoder.reset();
    encoder.encode(".x", out);
    encoder.finish(out);
    QCOMPARE(out, QByteArray("half..x\r\n.\r\n"));
    QCOMPARE(encoder.mode(), DataEncoder::Mode::Data);

    DataEncoder bdat(DataEncoder::Mode::Bdat);
    QCOMPARE(bdat.mode(), DataEncoder::Mode::Bdat);
    out.clear();
    bdat.finish(out);
    QCOMPARE(out, QByteArray());
}

void TestDataEncoder::appendsToExistingOutput()
{
    DataEncoder encoder;
    QByteArray out = "DATA already here|";
    encoder.encode(".a\nb", out);
    encoder.encode(QByteArrayView(), out);
    QCOMPARE(out, QByteArray("DATA already here|..a\r\nb"));
    encoder.finish(out);
    QCOMPARE(out, QByteArray("DATA already here|..a\r\nb\r\n.\r\n"));
}

void TestDataEncoder::largeBodyStraddlingChunkSizes()
{
    // Every special sequence placed so it straddles offsets 4095..4097 and
    // their multiples (docs/security.md section D; curl #18798 was a read-size bug).
    QByteArray body;
    const QList<QByteArray> specials{"\r\n.\r\n", "\r.\r", "\n.\n", "\r\n..\r\n", "\r\n", "\r", "\n."};
    for (int block = 0; block < 40; ++block) {
        const qsizetype target = 4096 * (block + 1) - 2 + block % 5;
        while (body.size() < target)
            body += char('a' + body.size() % 26);
        body += specials.at(block % specials.size());
    }
    const QByteArray whole = encodeInChunks(DataEncoder::Mode::Data, body, {});
    QCOMPARE(whole.indexOf("\r\n.\r\n"), whole.size() - 5);
    QVERIFY(onlyCrlf(whole));
    QCOMPARE(serverView(whole), normalised(body));
    for (const qsizetype n : {1, 2, 3, 4095, 4096, 4097, 65536})
        QCOMPARE(encodeInChunks(DataEncoder::Mode::Data, body, everyN(body.size(), n)), whole);
    const QByteArray bdat = encodeInChunks(DataEncoder::Mode::Bdat, body, {});
    for (const qsizetype n : {1, 4095, 4096, 4097})
        QCOMPARE(encodeInChunks(DataEncoder::Mode::Bdat, body, everyN(body.size(), n)), bdat);
}

QTEST_GUILESS_MAIN(TestDataEncoder)
#include "tst_dataencoder.moc"
