// ReplyParser: every row is replayed whole, byte by byte, split at every byte
// boundary (and at every pair of boundaries for short rows), in fixed chunk sizes
// around 4096 and in seeded random chunks; every replay must give the same
// replies and the same error (docs/security.md section E).

#include "protocol/replyparser.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTest>

using Smtp::ParseError;
using Smtp::Reply;
using Smtp::ReplyParser;

struct ExpectedReply
{
    int code = 0;
    QByteArrayList lines;
    QString enhanced; // "" when absent
};
using ExpectedReplies = QList<ExpectedReply>;
Q_DECLARE_METATYPE(ExpectedReplies)
Q_DECLARE_METATYPE(ReplyParser::Limits)

namespace {

struct Outcome
{
    QList<Reply> replies;
    bool failed = false;
    ParseError error;
    qsizetype maxBuffered = 0;
};

// Feeds input cut at `cuts` (ascending offsets), draining the parser after each piece.
Outcome feedInPieces(const QByteArray &input, const QList<qsizetype> &cuts, ReplyParser::Limits limits)
{
    ReplyParser parser(limits);
    Outcome out;
    qsizetype from = 0;
    auto drain = [&] {
        for (;;) {
            Reply reply;
            ParseError error;
            const ReplyParser::Status status = parser.next(&reply, &error);
            out.maxBuffered = qMax(out.maxBuffered, parser.bufferedBytes());
            if (status == ReplyParser::Status::Reply) {
                out.replies.append(reply);
                continue;
            }
            if (status == ReplyParser::Status::Error) {
                out.failed = true;
                out.error = error;
            }
            return status;
        }
    };
    QList<qsizetype> ends = cuts;
    ends.append(input.size());
    for (const qsizetype to : std::as_const(ends)) {
        if (to < from)
            continue;
        parser.feed(QByteArrayView(input).sliced(from, to - from));
        out.maxBuffered = qMax(out.maxBuffered, parser.bufferedBytes());
        from = to;
        if (drain() == ReplyParser::Status::Error)
            break;
    }
    return out;
}

QList<qsizetype> everyN(qsizetype size, qsizetype n)
{
    QList<qsizetype> cuts;
    for (qsizetype i = n; i < size; i += n)
        cuts.append(i);
    return cuts;
}

// Empty when equal, else what differs.
QString difference(const Outcome &a, const Outcome &b)
{
    if (a.failed != b.failed)
        return QStringLiteral("error %1 vs %2").arg(a.failed).arg(b.failed);
    if (a.error.message != b.error.message || a.error.line != b.error.line)
        return QStringLiteral("error '%1' [%2] vs '%3' [%4]")
                .arg(a.error.message, QString::fromLatin1(a.error.line.toHex()), b.error.message,
                     QString::fromLatin1(b.error.line.toHex()));
    if (a.replies.size() != b.replies.size())
        return QStringLiteral("%1 replies vs %2").arg(a.replies.size()).arg(b.replies.size());
    for (qsizetype i = 0; i < a.replies.size(); ++i) {
        const Reply &x = a.replies.at(i);
        const Reply &y = b.replies.at(i);
        if (x.code != y.code || x.lines != y.lines || x.raw != y.raw || !(x.enhanced == y.enhanced))
            return QStringLiteral("reply %1 differs: %2 vs %3").arg(i).arg(x.summary(), y.summary());
    }
    return {};
}

QByteArray hugeEhlo(int lines)
{
    QByteArray ehlo = "250-smtp.test\r\n";
    for (int i = 0; i < lines; ++i)
        ehlo += "250-X-CAP-" + QByteArray::number(i) + "\r\n";
    ehlo += "250 END\r\n";
    return ehlo;
}

} // namespace

class TestReplyParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void replay_data();
    void replay();
    void overlongLineFailsAsSoonAsCapPasses();
    void overlongLineInChunksStaysBounded();
    void hugeEhloStaysBounded();
    void bufferedBytesAfterStartTlsReply();
    void errorIsStickyUntilReset();
    void enhancedStatusToString();
    void replyHelpers_data();
    void replyHelpers();
    void linearTimeByteByByte();
    void linearTimeManySmallReplies();
};

void TestReplyParser::replay_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<ReplyParser::Limits>("limits");
    QTest::addColumn<ExpectedReplies>("expected");
    QTest::addColumn<QString>("error"); // substring of the error message; empty: no error

    const ReplyParser::Limits defaults;
    const ReplyParser::Limits tiny{20, 50, 3};

    QTest::addRow("single line") << QByteArray("220 smtp.test ESMTP ready\r\n") << defaults
                                 << ExpectedReplies{{220, {"smtp.test ESMTP ready"}, {}}} << QString();
    QTest::addRow("code alone") << QByteArray("250\r\n") << defaults
                                << ExpectedReplies{{250, {""}, {}}} << QString();
    QTest::addRow("code and space") << QByteArray("250 \r\n") << defaults
                                    << ExpectedReplies{{250, {""}, {}}} << QString();
    QTest::addRow("multi-line EHLO")
            << QByteArray("250-smtp.test Hello\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n"
                          "250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n")
            << defaults
            << ExpectedReplies{{250,
                                {"smtp.test Hello", "PIPELINING", "SIZE 10485760", "AUTH PLAIN LOGIN",
                                 "STARTTLS"},
                                {}}}
            << QString();
    QTest::addRow("empty continuation line") << QByteArray("250-\r\n250 end\r\n") << defaults
                                             << ExpectedReplies{{250, {"", "end"}, {}}} << QString();
    QTest::addRow("greeting 220-a 220 b") << QByteArray("220-a\r\n220 b\r\n") << defaults
                                          << ExpectedReplies{{220, {"a", "b"}, {}}} << QString();
    QTest::addRow("mismatched codes") << QByteArray("250-first\r\n550 second\r\n") << defaults
                                      << ExpectedReplies{} << QStringLiteral("250 then 550");
    QTest::addRow("invalid XXX") << QByteArray("XXX x\r\n") << defaults << ExpectedReplies{}
                                 << QStringLiteral("3-digit code");
    QTest::addRow("invalid 0") << QByteArray("0\r\n") << defaults << ExpectedReplies{}
                               << QStringLiteral("3-digit code");
    QTest::addRow("invalid 01") << QByteArray("01\r\n") << defaults << ExpectedReplies{}
                                << QStringLiteral("3-digit code");
    QTest::addRow("invalid 012") << QByteArray("012 x\r\n") << defaults << ExpectedReplies{}
                                 << QStringLiteral("outside 200..599");
    QTest::addRow("invalid 1234") << QByteArray("1234 x\r\n") << defaults << ExpectedReplies{}
                                  << QStringLiteral("not followed by");
    QTest::addRow("invalid 250x") << QByteArray("250x\r\n") << defaults << ExpectedReplies{}
                                  << QStringLiteral("not followed by");
    QTest::addRow("invalid leading space") << QByteArray(" 250 x\r\n") << defaults
                                           << ExpectedReplies{} << QStringLiteral("3-digit code");
    QTest::addRow("invalid empty line") << QByteArray("\r\n") << defaults << ExpectedReplies{}
                                        << QStringLiteral("3-digit code");
    QTest::addRow("out of range 199") << QByteArray("199 no hello for you!\r\n") << defaults
                                      << ExpectedReplies{} << QStringLiteral("199 is outside 200..599");
    QTest::addRow("out of range 600") << QByteArray("600 x\r\n") << defaults << ExpectedReplies{}
                                      << QStringLiteral("600 is outside");
    QTest::addRow("out of range 099") << QByteArray("099 x\r\n") << defaults << ExpectedReplies{}
                                      << QStringLiteral("099 is outside");
    QTest::addRow("unknown in-range 299 and 459")
            << QByteArray("299 x\r\n459 y\r\n") << defaults
            << ExpectedReplies{{299, {"x"}, {}}, {459, {"y"}, {}}} << QString();
    QTest::addRow("error after a good reply")
            << QByteArray("250 ok\r\n250-a\r\n251 b\r\n") << defaults
            << ExpectedReplies{{250, {"ok"}, {}}} << QStringLiteral("250 then 251");
    QTest::addRow("LF-only single") << QByteArray("220 hi\n") << defaults
                                    << ExpectedReplies{{220, {"hi"}, {}}} << QString();
    QTest::addRow("LF-only multi") << QByteArray("250-a\n250 b\n") << defaults
                                   << ExpectedReplies{{250, {"a", "b"}, {}}} << QString();
    QTest::addRow("mixed endings") << QByteArray("250-a\n250-b\r\n250 c\n") << defaults
                                   << ExpectedReplies{{250, {"a", "b", "c"}, {}}} << QString();
    QTest::addRow("bare CR kept") << QByteArray("250 a\rb\r\n") << defaults
                                  << ExpectedReplies{{250, {"a\rb"}, {}}} << QString();
    QTest::addRow("CR before CRLF kept") << QByteArray("250 a\r\r\n") << defaults
                                         << ExpectedReplies{{250, {"a\r"}, {}}} << QString();
    QTest::addRow("8-bit Latin-1 kept") << QByteArray("250 caf\xe9 \xff\x80\r\n") << defaults
                                        << ExpectedReplies{{250, {"caf\xe9 \xff\x80"}, {}}} << QString();
    QTest::addRow("UTF-8 and escapes kept")
            << QByteArray("250 gr\xc3\xbc\xc3\x9f \x1b[2J \xe2\x80\xae\r\n") << defaults
            << ExpectedReplies{{250, {"gr\xc3\xbc\xc3\x9f \x1b[2J \xe2\x80\xae"}, {}}} << QString();
    QTest::addRow("NUL") << QByteArray("250 a\0b\r\n", 9) << defaults << ExpectedReplies{}
                         << QStringLiteral("NUL");
    QTest::addRow("NUL in code") << QByteArray("2\0" "0 x\r\n", 7) << defaults << ExpectedReplies{}
                                 << QStringLiteral("NUL");
    QTest::addRow("enhanced code") << QByteArray("250 2.1.0 Ok\r\n") << defaults
                                   << ExpectedReplies{{250, {"2.1.0 Ok"}, QStringLiteral("2.1.0")}}
                                   << QString();
    QTest::addRow("enhanced code alone") << QByteArray("550 5.7.1\r\n") << defaults
                                         << ExpectedReplies{{550, {"5.7.1"}, QStringLiteral("5.7.1")}}
                                         << QString();
    QTest::addRow("enhanced code 3 digits")
            << QByteArray("452 4.5.312 Too many\r\n") << defaults
            << ExpectedReplies{{452, {"4.5.312 Too many"}, QStringLiteral("4.5.312")}} << QString();
    QTest::addRow("enhanced code multi-line")
            << QByteArray("550-5.1.1 No such\r\n550 5.1.1 user\r\n") << defaults
            << ExpectedReplies{{550, {"5.1.1 No such", "5.1.1 user"}, QStringLiteral("5.1.1")}}
            << QString();
    QTest::addRow("enhanced not at start") << QByteArray("250 Ok 2.1.0\r\n") << defaults
                                           << ExpectedReplies{{250, {"Ok 2.1.0"}, {}}} << QString();
    QTest::addRow("enhanced glued to text") << QByteArray("250 2.1.0Ok\r\n") << defaults
                                            << ExpectedReplies{{250, {"2.1.0Ok"}, {}}} << QString();
    QTest::addRow("enhanced two parts") << QByteArray("250 2.1 Ok\r\n") << defaults
                                        << ExpectedReplies{{250, {"2.1 Ok"}, {}}} << QString();
    QTest::addRow("enhanced class mismatch") << QByteArray("250 5.1.0 Ok\r\n") << defaults
                                             << ExpectedReplies{{250, {"5.1.0 Ok"}, {}}} << QString();
    QTest::addRow("enhanced class 3") << QByteArray("354 3.0.0 go\r\n") << defaults
                                      << ExpectedReplies{{354, {"3.0.0 go"}, {}}} << QString();
    QTest::addRow("enhanced four digits") << QByteArray("250 2.1000.0 x\r\n") << defaults
                                          << ExpectedReplies{{250, {"2.1000.0 x"}, {}}} << QString();
    QTest::addRow("enhanced trailing dot") << QByteArray("250 2.1.0. x\r\n") << defaults
                                           << ExpectedReplies{{250, {"2.1.0. x"}, {}}} << QString();
    QTest::addRow("two replies in one chunk")
            << QByteArray("250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n") << defaults
            << ExpectedReplies{{250, {"2.1.0 Sender ok"}, QStringLiteral("2.1.0")},
                               {250, {"2.1.5 Recipient ok"}, QStringLiteral("2.1.5")}}
            << QString();
    QTest::addRow("missing final line") << QByteArray("250-a\r\n250-b\r\n") << defaults
                                        << ExpectedReplies{} << QString();
    QTest::addRow("partial line left over") << QByteArray("220 Ready\r\n250-AUTH PLAIN INJ")
                                            << defaults << ExpectedReplies{{220, {"Ready"}, {}}}
                                            << QString();

    {
        QByteArray crossing;
        ExpectedReply expected{250, {}, {}};
        for (int i = 0; i < 60; ++i) {
            const QByteArray text = "X-CAP-" + QByteArray::number(i) + ' ' + QByteArray(70, 'a' + i % 26);
            crossing += "250-" + text + "\r\n";
            expected.lines.append(text);
        }
        crossing += "250 END\r\n";
        expected.lines.append("END");
        Q_ASSERT(crossing.size() > 4096 + 200);
        QTest::addRow("reply crossing 4096") << crossing << defaults << ExpectedReplies{expected}
                                             << QString();
    }

    QTest::addRow("over-long line 100000")
            << QByteArray("250 " + QByteArray(100000, 'A') + "\r\n") << defaults << ExpectedReplies{}
            << QStringLiteral("line longer than 16384");
    QTest::addRow("huge EHLO 200000 lines") << hugeEhlo(200000) << defaults << ExpectedReplies{}
                                            << QStringLiteral("more than 10000 lines");

    // Small limits exercise which limit is reported when both are passed in one
    // line: the decision must not depend on the split.
    QTest::addRow("tiny: line at limit") << QByteArray("250 " + QByteArray(16, 'a') + "\r\n") << tiny
                                         << ExpectedReplies{{250, {QByteArray(16, 'a')}, {}}}
                                         << QString();
    QTest::addRow("tiny: line one over") << QByteArray("250 " + QByteArray(17, 'a') + "\r\n") << tiny
                                         << ExpectedReplies{} << QStringLiteral("line longer than 20");
    QTest::addRow("tiny: CR at limit is text")
            << QByteArray("250 " + QByteArray(16, 'a') + "\r\r\n") << tiny << ExpectedReplies{}
            << QStringLiteral("line longer than 20");
    QTest::addRow("tiny: LF-only at limit") << QByteArray("250 " + QByteArray(16, 'a') + "\n") << tiny
                                            << ExpectedReplies{{250, {QByteArray(16, 'a')}, {}}}
                                            << QString();
    QTest::addRow("tiny: reply at size limit")
            << QByteArray("250-" + QByteArray(14, 'a') + "\r\n250-" + QByteArray(14, 'b') + "\r\n250 "
                          + QByteArray(4, 'c') + "\r\n")
            << tiny << ExpectedReplies{{250, {QByteArray(14, 'a'), QByteArray(14, 'b'), "cccc"}, {}}}
            << QString();
    QTest::addRow("tiny: reply one over size")
            << QByteArray("250-" + QByteArray(14, 'a') + "\r\n250-" + QByteArray(14, 'b') + "\r\n250 "
                          + QByteArray(5, 'c') + "\r\n")
            << tiny << ExpectedReplies{} << QStringLiteral("reply longer than 50");
    QTest::addRow("tiny: size passed before line length")
            << QByteArray("250-" + QByteArray(16, 'a') + "\r\n250-" + QByteArray(16, 'b') + "\r\n250 "
                          + QByteArray(30, 'c') + "\r\n")
            << tiny << ExpectedReplies{} << QStringLiteral("reply longer than 50");
    QTest::addRow("tiny: line length passed before size")
            << QByteArray("250-" + QByteArray(16, 'a') + "\r\n250 " + QByteArray(30, 'c') + "\r\n")
            << tiny << ExpectedReplies{} << QStringLiteral("line longer than 20");
    // Both limits at the same byte (offset 50 of the reply, 21st byte of the
    // third line) and that byte is a CR: only the next byte says whether it ends
    // the line (then only the size is passed) or is text (both; the line wins).
    QTest::addRow("tiny: tie, CR ends the line")
            << QByteArray("250-" + QByteArray(11, 'a') + "\r\n250-" + QByteArray(7, 'b') + "\r\n250 "
                          + QByteArray(16, 'c') + "\r\n")
            << tiny << ExpectedReplies{} << QStringLiteral("reply longer than 50");
    QTest::addRow("tiny: tie, CR is text")
            << QByteArray("250-" + QByteArray(11, 'a') + "\r\n250-" + QByteArray(7, 'b') + "\r\n250 "
                          + QByteArray(16, 'c') + "\rx\r\n")
            << tiny << ExpectedReplies{} << QStringLiteral("line longer than 20");
    QTest::addRow("tiny: too many lines") << QByteArray("250-a\r\n250-b\r\n250-c\r\n250 d\r\n") << tiny
                                          << ExpectedReplies{} << QStringLiteral("more than 3 lines");
    QTest::addRow("tiny: limits are per reply")
            << QByteArray("250-a\r\n250-b\r\n250 c\r\n250-d\r\n250-e\r\n250 f\r\n") << tiny
            << ExpectedReplies{{250, {"a", "b", "c"}, {}}, {250, {"d", "e", "f"}, {}}} << QString();
}

void TestReplyParser::replay()
{
    QFETCH(QByteArray, input);
    QFETCH(ReplyParser::Limits, limits);
    QFETCH(ExpectedReplies, expected);
    QFETCH(QString, error);

    const Outcome whole = feedInPieces(input, {}, limits);
    QCOMPARE(whole.replies.size(), expected.size());
    QByteArray rawTogether;
    for (qsizetype i = 0; i < expected.size(); ++i) {
        const Reply &got = whole.replies.at(i);
        QCOMPARE(got.code, expected.at(i).code);
        QCOMPARE(got.lines, expected.at(i).lines);
        QCOMPARE(got.enhanced.toString(), expected.at(i).enhanced);
        rawTogether += got.raw;
    }
    // raw is the exact bytes of the replies, in order, from the start of input.
    QVERIFY(input.startsWith(rawTogether));
    QCOMPARE(whole.failed, !error.isEmpty());
    if (!error.isEmpty()) {
        QVERIFY2(whole.error.message.contains(error), qPrintable(whole.error.message));
        QVERIFY(whole.error.line.size() <= 200);
    }

    auto check = [&](const QList<qsizetype> &cuts, const QString &how) {
        const Outcome other = feedInPieces(input, cuts, limits);
        const QString diff = difference(whole, other);
        QVERIFY2(diff.isEmpty(), qPrintable(how + QStringLiteral(": ") + diff));
    };

    check(everyN(input.size(), 1), QStringLiteral("byte by byte"));
    for (const qsizetype n : {2, 3, 7, 4095, 4096, 4097})
        check(everyN(input.size(), n), QStringLiteral("chunks of %1").arg(n));
    if (input.size() <= 20000) {
        for (qsizetype i = 1; i < input.size(); ++i)
            check({i}, QStringLiteral("split at %1").arg(i));
    }
    if (input.size() <= 200) {
        for (qsizetype i = 1; i < input.size(); ++i) {
            for (qsizetype j = i + 1; j < input.size(); ++j)
                check({i, j}, QStringLiteral("split at %1 and %2").arg(i).arg(j));
        }
    }
    QRandomGenerator random(0x5eed);
    for (int round = 0; round < 20; ++round) {
        QList<qsizetype> cuts;
        for (qsizetype at = 0;;) {
            at += 1 + random.bounded(qMax<qsizetype>(2, input.size() / 8));
            if (at >= input.size())
                break;
            cuts.append(at);
        }
        check(cuts, QStringLiteral("random round %1").arg(round));
    }
}

void TestReplyParser::overlongLineFailsAsSoonAsCapPasses()
{
    // Catalogue E.44: "250 " + 100000 'A' + CRLF, byte by byte. The 16385th byte
    // of the line (a content byte, so not a possible CR of CRLF) is the first
    // that proves the 16384-byte cap is passed.
    const QByteArray line = "250 " + QByteArray(100000, 'A') + "\r\n";
    ReplyParser parser;
    Reply reply;
    ParseError error;
    qsizetype failedAt = -1;
    for (qsizetype i = 0; i < line.size(); ++i) {
        parser.feed(line.mid(i, 1));
        QVERIFY(parser.bufferedBytes() <= 16385);
        if (parser.next(&reply, &error) == ReplyParser::Status::Error) {
            failedAt = i + 1;
            break;
        }
    }
    QCOMPARE(failedAt, qsizetype(16385));
    QCOMPARE(error.message, QStringLiteral("reply line longer than 16384 bytes"));
    QCOMPARE(error.line, "250 " + QByteArray(196, 'A'));
    // Input after an error is dropped: nothing accumulates.
    QCOMPARE(parser.bufferedBytes(), qsizetype(0));
    parser.feed(QByteArray(1 << 20, 'A'));
    QCOMPARE(parser.bufferedBytes(), qsizetype(0));
}

void TestReplyParser::overlongLineInChunksStaysBounded()
{
    const QByteArray line = "250 " + QByteArray(100000, 'A') + "\r\n";
    ReplyParser parser;
    qsizetype maxBuffered = 0;
    int chunks = 0;
    ReplyParser::Status status = ReplyParser::Status::NeedMore;
    for (qsizetype i = 0; i < line.size() && status != ReplyParser::Status::Error; i += 1000) {
        parser.feed(line.mid(i, 1000));
        maxBuffered = qMax(maxBuffered, parser.bufferedBytes());
        ++chunks;
        status = parser.next(nullptr, nullptr);
    }
    QCOMPARE(status, ReplyParser::Status::Error);
    QCOMPARE(chunks, 17); // 17000 bytes fed >= 16385
    QVERIFY(maxBuffered <= 17000);
}

void TestReplyParser::hugeEhloStaysBounded()
{
    // Catalogue E.45: 200000 capability lines in 64 KiB reads.
    const QByteArray ehlo = hugeEhlo(200000);
    ReplyParser parser;
    qsizetype maxBuffered = 0;
    qsizetype fed = 0;
    ParseError error;
    ReplyParser::Status status = ReplyParser::Status::NeedMore;
    while (fed < ehlo.size() && status == ReplyParser::Status::NeedMore) {
        parser.feed(QByteArrayView(ehlo).sliced(fed, qMin<qsizetype>(65536, ehlo.size() - fed)));
        fed += 65536;
        maxBuffered = qMax(maxBuffered, parser.bufferedBytes());
        status = parser.next(nullptr, &error);
    }
    QCOMPARE(status, ReplyParser::Status::Error);
    QCOMPARE(error.message, QStringLiteral("reply has more than 10000 lines"));
    QCOMPARE(error.line, QByteArray("250-X-CAP-9999"));
    QVERIFY(fed < ehlo.size() / 10); // stopped early, not at the end of the flood
    QVERIFY(maxBuffered <= 1024 * 1024 + 65536);
}

void TestReplyParser::bufferedBytesAfterStartTlsReply()
{
    // Catalogue A.1/A.2 (CVE-2021-22947): the session must see that bytes were
    // sent after the STARTTLS 220, complete lines or a fragment.
    const QByteArray injected = "250-smtp.test\r\n250 AUTH PLAIN\r\n";
    for (const QByteArray &extra : {injected, QByteArray("250-AUTH PLAIN INJ"), QByteArray()}) {
        ReplyParser parser;
        parser.feed("220 2.0.0 Ready\r\n" + extra);
        Reply reply;
        QCOMPARE(parser.next(&reply, nullptr), ReplyParser::Status::Reply);
        QCOMPARE(reply.code, 220);
        QCOMPARE(reply.raw, QByteArray("220 2.0.0 Ready\r\n"));
        QCOMPARE(parser.bufferedBytes(), extra.size());
    }
}

void TestReplyParser::errorIsStickyUntilReset()
{
    ReplyParser parser;
    parser.feed("250-a\r\n550 b\r\n250 ok\r\n");
    ParseError first;
    QCOMPARE(parser.next(nullptr, &first), ReplyParser::Status::Error);
    QCOMPARE(first.line, QByteArray("550 b"));
    ParseError again;
    parser.feed("250 more\r\n");
    QCOMPARE(parser.next(nullptr, &again), ReplyParser::Status::Error);
    QCOMPARE(again.message, first.message);

    parser.reset();
    QCOMPARE(parser.bufferedBytes(), qsizetype(0));
    parser.feed("221 bye\r\n");
    Reply reply;
    QCOMPARE(parser.next(&reply, nullptr), ReplyParser::Status::Reply);
    QCOMPARE(reply.code, 221);
    QCOMPARE(parser.next(&reply, nullptr), ReplyParser::Status::NeedMore);
}

void TestReplyParser::enhancedStatusToString()
{
    QCOMPARE(Smtp::EnhancedStatus().toString(), QString());
    QVERIFY(!Smtp::EnhancedStatus().isValid());
    const Smtp::EnhancedStatus status{5, 7, 1};
    QVERIFY(status.isValid());
    QCOMPARE(status.toString(), QStringLiteral("5.7.1"));
}

void TestReplyParser::replyHelpers_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<int>("klass");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QString>("summary");

    QTest::addRow("one line") << QByteArray("250 2.1.0 Ok\r\n") << 2 << QByteArray("2.1.0 Ok")
                              << QStringLiteral("250 2.1.0 Ok");
    QTest::addRow("no text") << QByteArray("354\r\n") << 3 << QByteArray() << QStringLiteral("354");
    QTest::addRow("three lines") << QByteArray("451-4.3.0 a\r\n451-4.3.0 b\r\n451 4.3.0 c\r\n") << 4
                                 << QByteArray("4.3.0 a\n4.3.0 b\n4.3.0 c")
                                 << QStringLiteral("451 4.3.0 a (+2 lines)");
    QTest::addRow("escape sequence shown escaped")
            << QByteArray("554 \x1b[2Jgone\r\n") << 5 << QByteArray("\x1b[2Jgone")
            << QStringLiteral("554 \\x1b[2Jgone");
    QTest::addRow("bidi override shown escaped")
            << QByteArray("250 ab\xe2\x80\xae" "cd\r\n") << 2 << QByteArray("ab\xe2\x80\xae" "cd")
            << QStringLiteral("250 ab\\x202ecd");
    QTest::addRow("UTF-8 decoded") << QByteArray("250 gr\xc3\xbc\xc3\x9f\r\n") << 2
                                   << QByteArray("gr\xc3\xbc\xc3\x9f")
                                   << (QStringLiteral("250 gr") + QChar(0xfc) + QChar(0xdf));
    QTest::addRow("Latin-1 fallback") << QByteArray("250 caf\xe9\r\n") << 2 << QByteArray("caf\xe9")
                                      << (QStringLiteral("250 caf") + QChar(0xe9));
}

void TestReplyParser::replyHelpers()
{
    QFETCH(QByteArray, input);
    QFETCH(int, klass);
    QFETCH(QByteArray, text);
    QFETCH(QString, summary);

    ReplyParser parser;
    parser.feed(input);
    Reply reply;
    QCOMPARE(parser.next(&reply, nullptr), ReplyParser::Status::Reply);
    QCOMPARE(reply.klass(), klass);
    QCOMPARE(reply.isPositiveCompletion(), klass == 2);
    QCOMPARE(reply.isPositiveIntermediate(), klass == 3);
    QCOMPARE(reply.isTransientFailure(), klass == 4);
    QCOMPARE(reply.isPermanentFailure(), klass == 5);
    QCOMPARE(reply.text(), text);
    QCOMPARE(reply.summary(), summary);
}

void TestReplyParser::linearTimeByteByByte()
{
    // A ~1 MB reply of 9999 lines fed one byte at a time: linear work is about a
    // million cheap calls; re-scanning the reply from its start on each call
    // would be ~5e11 byte visits and take hours.
    QByteArray big;
    for (int i = 0; i < 9998; ++i)
        big += "250-" + QByteArray(94, 'a' + i % 26) + "\r\n";
    big += "250 end\r\n";
    QVERIFY(big.size() < 1024 * 1024);

    ReplyParser parser;
    Reply reply;
    QElapsedTimer timer;
    timer.start();
    ReplyParser::Status status = ReplyParser::Status::NeedMore;
    for (qsizetype i = 0; i < big.size(); ++i) {
        parser.feed(QByteArrayView(big).sliced(i, 1));
        status = parser.next(&reply, nullptr);
        QVERIFY(status != ReplyParser::Status::Error);
    }
    QCOMPARE(status, ReplyParser::Status::Reply);
    QCOMPARE(reply.lines.size(), 9999);
    QCOMPARE(reply.raw.size(), big.size());
    QVERIFY2(timer.elapsed() < 30000, qPrintable(QString::number(timer.elapsed())));
}

void TestReplyParser::linearTimeManySmallReplies()
{
    // 400000 pipelined replies in one chunk: taking each must not move or
    // re-scan the rest of the buffer.
    const QByteArray one = "250 2.1.5 ok\r\n";
    const QByteArray all = one.repeated(400000);
    ReplyParser parser;
    QElapsedTimer timer;
    timer.start();
    parser.feed(all);
    Reply reply;
    int count = 0;
    while (parser.next(&reply, nullptr) == ReplyParser::Status::Reply) {
        ++count;
        if (count == 1 || count == 400000)
            QCOMPARE(reply.raw, one);
    }
    QCOMPARE(count, 400000);
    QCOMPARE(parser.bufferedBytes(), qsizetype(0));
    QVERIFY2(timer.elapsed() < 30000, qPrintable(QString::number(timer.elapsed())));
}

QTEST_GUILESS_MAIN(TestReplyParser)
#include "tst_replyparser.moc"
