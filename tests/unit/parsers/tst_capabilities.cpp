// Capabilities from EHLO replies given as wire bytes (docs/security.md section E).

#include "protocol/capabilities.h"
#include "protocol/replyparser.h"

#include <QTest>

using Smtp::Capabilities;

namespace {

Capabilities fromWire(const QByteArray &wire)
{
    Smtp::ReplyParser parser;
    parser.feed(wire);
    Smtp::Reply reply;
    Smtp::ParseError error;
    const auto status = parser.next(&reply, &error);
    if (status != Smtp::ReplyParser::Status::Reply) {
        qWarning() << "test input does not parse:" << error.message;
        return {};
    }
    return Capabilities::fromEhloReply(reply);
}

const QByteArray kTypical = "250-smtp.test Hello [127.0.0.1]\r\n"
                            "250-PIPELINING\r\n"
                            "250-SIZE 10485760\r\n"
                            "250-AUTH PLAIN LOGIN\r\n"
                            "250-8BITMIME\r\n"
                            "250-ENHANCEDSTATUSCODES\r\n"
                            "250 STARTTLS\r\n";

} // namespace

class TestCapabilities : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void has_data();
    void has();
    void authMechanisms_data();
    void authMechanisms();
    void sizeLimit_data();
    void sizeLimit();
    void domainEntriesAndParameters();
    void namedGetters();
    void refusedEhloHasNothing();
    void fiveThousandMechanisms();
};

void TestCapabilities::has_data()
{
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<QByteArray>("keyword");
    QTest::addColumn<bool>("present");

    QTest::addRow("upper") << kTypical << QByteArray("STARTTLS") << true;
    QTest::addRow("query lower") << kTypical << QByteArray("starttls") << true;
    QTest::addRow("advertised lower") << QByteArray("250-smtp.test\r\n250 starttls\r\n")
                                      << QByteArray("STARTTLS") << true;
    QTest::addRow("mixed case") << QByteArray("250-smtp.test\r\n250 StartTls\r\n")
                                << QByteArray("STARTTLS") << true;
    QTest::addRow("suffix is another keyword") << QByteArray("250-smtp.test\r\n250 STARTTLSX\r\n")
                                               << QByteArray("STARTTLS") << false;
    QTest::addRow("prefix is another keyword") << QByteArray("250-smtp.test\r\n250 XSTARTTLS\r\n")
                                               << QByteArray("STARTTLS") << false;
    QTest::addRow("mangled by middlebox") << QByteArray("250-smtp.test\r\n250 XXXXXXXA\r\n")
                                          << QByteArray("STARTTLS") << false;
    QTest::addRow("only in parameters") << QByteArray("250-smtp.test\r\n250 X-FOO STARTTLS\r\n")
                                        << QByteArray("STARTTLS") << false;
    QTest::addRow("greeting line is not a capability")
            << QByteArray("250-STARTTLS\r\n250 SIZE 1\r\n") << QByteArray("STARTTLS") << false;
    QTest::addRow("single-line EHLO") << QByteArray("250 smtp.test\r\n") << QByteArray("SIZE") << false;
    QTest::addRow("keyword with parameters") << kTypical << QByteArray("AUTH") << true;
    QTest::addRow("tab after keyword") << QByteArray("250-smtp.test\r\n250 SIZE\t100\r\n")
                                       << QByteArray("SIZE") << true;
    QTest::addRow("old AUTH= form") << QByteArray("250-smtp.test\r\n250 AUTH=LOGIN\r\n")
                                    << QByteArray("AUTH") << true;
    QTest::addRow("empty query") << kTypical << QByteArray() << false;
}

void TestCapabilities::has()
{
    QFETCH(QByteArray, wire);
    QFETCH(QByteArray, keyword);
    QFETCH(bool, present);
    QCOMPARE(fromWire(wire).has(keyword), present);
}

void TestCapabilities::authMechanisms_data()
{
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<QStringList>("mechanisms");

    QTest::addRow("one line") << kTypical << QStringList{QStringLiteral("PLAIN"), QStringLiteral("LOGIN")};
    QTest::addRow("none") << QByteArray("250-smtp.test\r\n250 SIZE 1\r\n") << QStringList();
    QTest::addRow("lower case upper-cased")
            << QByteArray("250-smtp.test\r\n250 auth cram-md5 plain\r\n")
            << QStringList{QStringLiteral("CRAM-MD5"), QStringLiteral("PLAIN")};
    QTest::addRow("split over lines")
            << QByteArray("250-smtp.test\r\n250-AUTH SCRAM-SHA-256\r\n250-SIZE 5\r\n"
                          "250 AUTH PLAIN LOGIN\r\n")
            << QStringList{QStringLiteral("SCRAM-SHA-256"), QStringLiteral("PLAIN"),
                           QStringLiteral("LOGIN")};
    QTest::addRow("old form merged, duplicates removed")
            << QByteArray("250-smtp.test\r\n250-AUTH LOGIN PLAIN\r\n250 AUTH=LOGIN PLAIN XOAUTH2\r\n")
            << QStringList{QStringLiteral("LOGIN"), QStringLiteral("PLAIN"), QStringLiteral("XOAUTH2")};
    QTest::addRow("old form alone, lower case")
            << QByteArray("250-smtp.test\r\n250 auth=login\r\n") << QStringList{QStringLiteral("LOGIN")};
    QTest::addRow("extra spaces") << QByteArray("250-smtp.test\r\n250 AUTH   PLAIN \t LOGIN  \r\n")
                                  << QStringList{QStringLiteral("PLAIN"), QStringLiteral("LOGIN")};
    QTest::addRow("invalid names dropped")
            << QByteArray("250-smtp.test\r\n250 AUTH PLAIN BAD/NAME \xc3\xa9 "
                          "THIS-NAME-IS-LONGER-THAN-20 GSSAPI\r\n")
            << QStringList{QStringLiteral("PLAIN"), QStringLiteral("GSSAPI")};
    QTest::addRow("AUTH= without mechanism") << QByteArray("250-smtp.test\r\n250 AUTH=\r\n")
                                              << QStringList();
}

void TestCapabilities::authMechanisms()
{
    QFETCH(QByteArray, wire);
    QFETCH(QStringList, mechanisms);
    QCOMPARE(fromWire(wire).authMechanisms(), mechanisms);
}

void TestCapabilities::sizeLimit_data()
{
    QTest::addColumn<QByteArray>("size"); // the SIZE line's text, or empty for no SIZE line
    QTest::addColumn<bool>("known");
    QTest::addColumn<quint64>("limit");

    QTest::addRow("typical") << QByteArray("SIZE 10485760") << true << quint64(10485760);
    QTest::addRow("zero means no fixed limit") << QByteArray("SIZE 0") << true << quint64(0);
    QTest::addRow("lower-case keyword") << QByteArray("size 32") << true << quint64(32);
    QTest::addRow("max quint64") << QByteArray("SIZE 18446744073709551615") << true
                                 << quint64(18446744073709551615ULL);
    QTest::addRow("one past quint64") << QByteArray("SIZE 18446744073709551616") << false << quint64(0);
    QTest::addRow("huge") << QByteArray("SIZE 99999999999999999999") << false << quint64(0);
    QTest::addRow("negative") << QByteArray("SIZE -1") << false << quint64(0);
    QTest::addRow("plus sign") << QByteArray("SIZE +5") << false << quint64(0);
    QTest::addRow("letters") << QByteArray("SIZE abc") << false << quint64(0);
    QTest::addRow("digits then letters") << QByteArray("SIZE 12abc") << false << quint64(0);
    QTest::addRow("two words") << QByteArray("SIZE 10 20") << false << quint64(0);
    QTest::addRow("no parameter") << QByteArray("SIZE") << false << quint64(0);
    QTest::addRow("absent") << QByteArray() << false << quint64(0);
    QTest::addRow("similar keyword") << QByteArray("SIZEX 100") << false << quint64(0);
}

void TestCapabilities::sizeLimit()
{
    QFETCH(QByteArray, size);
    QFETCH(bool, known);
    QFETCH(quint64, limit);

    QByteArray wire = "250-smtp.test\r\n";
    if (!size.isEmpty())
        wire += "250-" + size + "\r\n";
    wire += "250 PIPELINING\r\n";
    const std::optional<quint64> got = fromWire(wire).sizeLimit();
    QCOMPARE(got.has_value(), known);
    if (known)
        QCOMPARE(*got, limit);
}

void TestCapabilities::domainEntriesAndParameters()
{
    const Capabilities caps = fromWire(kTypical);
    QCOMPARE(caps.domain(), QByteArray("smtp.test"));
    QVERIFY(!caps.isEmpty());
    QCOMPARE(caps.entries().size(), 6);
    QCOMPARE(caps.entries().at(0).keyword, QByteArray("PIPELINING"));
    QCOMPARE(caps.entries().at(2).keyword, QByteArray("AUTH"));
    QCOMPARE(caps.entries().at(2).parameters, QByteArray("PLAIN LOGIN"));
    QCOMPARE(caps.parameters("auth"), QByteArray("PLAIN LOGIN"));
    QCOMPARE(caps.parameters("SIZE"), QByteArray("10485760"));
    QCOMPARE(caps.parameters("PIPELINING"), QByteArray());
    QCOMPARE(caps.parameters("DSN"), QByteArray());

    const Capabilities lower = fromWire("250-smtp.test\r\n250 x-custom  Some Value \r\n");
    QCOMPARE(lower.entries().size(), 1);
    QCOMPARE(lower.entries().at(0).keyword, QByteArray("X-CUSTOM"));
    QCOMPARE(lower.entries().at(0).parameters, QByteArray("Some Value"));

    const Capabilities single = fromWire("250 mx.example.org\r\n");
    QCOMPARE(single.domain(), QByteArray("mx.example.org"));
    QVERIFY(single.isEmpty());
}

void TestCapabilities::namedGetters()
{
    const Capabilities all = fromWire("250-smtp.test\r\n250-starttls\r\n250-PIPELINING\r\n"
                                      "250-8bitmime\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n"
                                      "250-BINARYMIME\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n"
                                      "250 REQUIRETLS\r\n");
    QVERIFY(all.startTls());
    QVERIFY(all.pipelining());
    QVERIFY(all.eightBitMime());
    QVERIFY(all.smtpUtf8());
    QVERIFY(all.chunking());
    QVERIFY(all.binaryMime());
    QVERIFY(all.dsn());
    QVERIFY(all.enhancedStatusCodes());
    QVERIFY(all.requireTls());

    const Capabilities none = fromWire("250-smtp.test\r\n250 SIZE 1\r\n");
    QVERIFY(!none.startTls());
    QVERIFY(!none.pipelining());
    QVERIFY(!none.eightBitMime());
    QVERIFY(!none.smtpUtf8());
    QVERIFY(!none.chunking());
    QVERIFY(!none.binaryMime());
    QVERIFY(!none.dsn());
    QVERIFY(!none.enhancedStatusCodes());
    QVERIFY(!none.requireTls());
}

void TestCapabilities::refusedEhloHasNothing()
{
    // RFC 5321 4.1.4: after a 5yz EHLO the client falls back to HELO; the text
    // of the refusal is not a list of extensions.
    const Capabilities caps = fromWire("502-5.5.2 EHLO not supported\r\n502 STARTTLS\r\n");
    QVERIFY(caps.isEmpty());
    QVERIFY(!caps.startTls());
    QCOMPARE(caps.domain(), QByteArray());
    QVERIFY(Capabilities().isEmpty());
}

void TestCapabilities::fiveThousandMechanisms()
{
    // Catalogue E.45 (EAST others/X_1.ron): AUTH with 5000 names, on 50 AUTH
    // lines so each stays under the parser's line cap.
    QByteArray wire = "250-smtp.test\r\n";
    QStringList expected;
    for (int line = 0; line < 50; ++line) {
        wire += "250-AUTH";
        for (int i = line * 100; i < (line + 1) * 100; ++i) {
            const QByteArray name = "X-MECH-" + QByteArray::number(i);
            wire += ' ' + name;
            expected.append(QString::fromLatin1(name));
        }
        wire += "\r\n";
    }
    wire += "250 AUTH X-MECH-0 x-mech-1\r\n"; // repeats, in any case
    const Capabilities caps = fromWire(wire);
    QCOMPARE(caps.authMechanisms(), expected);
}

QTEST_GUILESS_MAIN(TestCapabilities)
#include "tst_capabilities.moc"
