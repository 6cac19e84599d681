// The readers of the sender-domain records: SPF (RFC 7208), DMARC (RFC 7489) and
// the MTA-STS policy (RFC 8461), on well-formed and malformed records.

#include "diagnostics/discovery.h"

#include <QTest>

using namespace Diagnostics;

class TestDnsRecords : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void spf_data();
    void spf();
    void spfMalformed_data();
    void spfMalformed();
    void spfReadingNamesWhatItAllows();
    void dmarc_data();
    void dmarc();
    void dmarcMalformed_data();
    void dmarcMalformed();
    void dmarcReading_data();
    void dmarcReading();
    void mtaSts_data();
    void mtaSts();
    void mtaStsMalformed_data();
    void mtaStsMalformed();
    void mtaStsMatches_data();
    void mtaStsMatches();
};

void TestDnsRecords::spf_data()
{
    QTest::addColumn<QString>("record");
    QTest::addColumn<QStringList>("mechanisms");
    QTest::addColumn<QString>("all");
    QTest::addColumn<int>("lookups");

    QTest::addRow("minimal -all") << QStringLiteral("v=spf1 -all") << QStringList{QStringLiteral("-all")}
                                  << QStringLiteral("-") << 0;
    QTest::addRow("mx ~all") << QStringLiteral("v=spf1 mx ~all")
                             << QStringList{QStringLiteral("mx"), QStringLiteral("~all")} << QStringLiteral("~") << 1;
    QTest::addRow("+all implicit qualifier") << QStringLiteral("v=spf1 all") << QStringList{QStringLiteral("all")}
                                             << QStringLiteral("+") << 0;
    QTest::addRow("explicit +all") << QStringLiteral("v=spf1 ip4:192.0.2.1 +all")
                                   << QStringList{QStringLiteral("ip4:192.0.2.1"), QStringLiteral("+all")}
                                   << QStringLiteral("+") << 0;
    QTest::addRow("?all") << QStringLiteral("v=spf1 a ?all") << QStringList{QStringLiteral("a"), QStringLiteral("?all")}
                          << QStringLiteral("?") << 1;
    QTest::addRow("no all") << QStringLiteral("v=spf1 ip6:2001:db8::/32")
                            << QStringList{QStringLiteral("ip6:2001:db8::/32")} << QString() << 0;
    QTest::addRow("uppercase version and names")
        << QStringLiteral("V=SPF1 MX INCLUDE:_spf.example.net -ALL")
        << QStringList{QStringLiteral("MX"), QStringLiteral("INCLUDE:_spf.example.net"), QStringLiteral("-ALL")}
        << QStringLiteral("-") << 2;
    QTest::addRow("extra spaces") << QStringLiteral("  v=spf1   mx    -all  ")
                                  << QStringList{QStringLiteral("mx"), QStringLiteral("-all")} << QStringLiteral("-") << 1;
    QTest::addRow("every lookup kind")
        << QStringLiteral("v=spf1 a mx ptr exists:%{i}.x.example include:a.example redirect=b.example")
        << QStringList{QStringLiteral("a"), QStringLiteral("mx"), QStringLiteral("ptr"),
                       QStringLiteral("exists:%{i}.x.example"), QStringLiteral("include:a.example")}
        << QString() << 6;
    QTest::addRow("a and mx with cidr") << QStringLiteral("v=spf1 a/24 mx:mail.example.org/28//64 -all")
                                        << QStringList{QStringLiteral("a/24"), QStringLiteral("mx:mail.example.org/28//64"),
                                                       QStringLiteral("-all")}
                                        << QStringLiteral("-") << 2;
    QTest::addRow("ip4 with prefix") << QStringLiteral("v=spf1 ip4:192.0.2.0/24 -all")
                                     << QStringList{QStringLiteral("ip4:192.0.2.0/24"), QStringLiteral("-all")}
                                     << QStringLiteral("-") << 0;
    QTest::addRow("unknown modifier ignored") << QStringLiteral("v=spf1 foo=bar -all")
                                              << QStringList{QStringLiteral("-all")} << QStringLiteral("-") << 0;
    QStringList eleven;
    QString record = QStringLiteral("v=spf1");
    for (int i = 1; i <= 11; ++i) {
        eleven << QStringLiteral("include:s%1.example.net").arg(i);
        record += QStringLiteral(" include:s%1.example.net").arg(i);
    }
    QTest::addRow("11 includes") << record + QStringLiteral(" -all") << (eleven << QStringLiteral("-all"))
                                 << QStringLiteral("-") << 11;
    QTest::addRow("first all wins") << QStringLiteral("v=spf1 -all +all")
                                    << QStringList{QStringLiteral("-all"), QStringLiteral("+all")} << QStringLiteral("-") << 0;
}

void TestDnsRecords::spf()
{
    QFETCH(QString, record);
    QFETCH(QStringList, mechanisms);
    QFETCH(QString, all);
    QFETCH(int, lookups);
    const SpfReading r = readSpf(record);
    QVERIFY2(r.valid, qPrintable(r.error));
    QVERIFY(r.error.isEmpty());
    QCOMPARE(r.mechanisms, mechanisms);
    QCOMPARE(r.allQualifier, all);
    QCOMPARE(r.lookupTerms, lookups);
    QVERIFY(!r.reading.isEmpty());
    QVERIFY2(r.reading.contains(QStringLiteral("%1 of 10 DNS lookups").arg(lookups)), qPrintable(r.reading));
}

void TestDnsRecords::spfMalformed_data()
{
    QTest::addColumn<QString>("record");
    QTest::addColumn<QString>("errorPart");

    QTest::addRow("empty") << QString() << QStringLiteral("v=spf1");
    QTest::addRow("spf10") << QStringLiteral("v=spf10 -all") << QStringLiteral("v=spf1");
    QTest::addRow("dkim record") << QStringLiteral("v=DKIM1; k=rsa") << QStringLiteral("v=spf1");
    QTest::addRow("unknown mechanism") << QStringLiteral("v=spf1 ipv4:192.0.2.1 -all") << QStringLiteral("unknown term");
    QTest::addRow("include without domain") << QStringLiteral("v=spf1 include -all") << QStringLiteral("needs a domain");
    QTest::addRow("include empty domain") << QStringLiteral("v=spf1 include: -all") << QStringLiteral("needs a domain");
    QTest::addRow("exists without domain") << QStringLiteral("v=spf1 exists -all") << QStringLiteral("needs a domain");
    QTest::addRow("ip4 not an address") << QStringLiteral("v=spf1 ip4:192.0.2.300 -all") << QStringLiteral("not an IPv4");
    QTest::addRow("ip4 with v6 address") << QStringLiteral("v=spf1 ip4:2001:db8::1 -all") << QStringLiteral("not an IPv4");
    QTest::addRow("ip6 with v4 address") << QStringLiteral("v=spf1 ip6:192.0.2.1 -all") << QStringLiteral("not an IPv6");
    QTest::addRow("ip4 prefix 33") << QStringLiteral("v=spf1 ip4:192.0.2.0/33 -all") << QStringLiteral("prefix");
    QTest::addRow("ip6 prefix 129") << QStringLiteral("v=spf1 ip6:2001:db8::/129 -all") << QStringLiteral("prefix");
    QTest::addRow("ip4 without address") << QStringLiteral("v=spf1 ip4 -all") << QStringLiteral("needs an address");
    QTest::addRow("all with argument") << QStringLiteral("v=spf1 all:x") << QStringLiteral("no argument");
    QTest::addRow("a bad cidr") << QStringLiteral("v=spf1 a/40 -all") << QStringLiteral("prefix");
    QTest::addRow("mx empty domain") << QStringLiteral("v=spf1 mx: -all") << QStringLiteral("empty domain");
    QTest::addRow("two redirects") << QStringLiteral("v=spf1 redirect=a.example redirect=b.example")
                                   << QStringLiteral("twice");
    QTest::addRow("two exp") << QStringLiteral("v=spf1 exp=a.example exp=b.example -all") << QStringLiteral("twice");
    QTest::addRow("empty redirect") << QStringLiteral("v=spf1 redirect=") << QStringLiteral("no domain");
    QTest::addRow("control character") << QStringLiteral("v=spf1 mx\t-all") << QStringLiteral("printable ASCII");
    QTest::addRow("non-ascii") << QStringLiteral("v=spf1 include:exämple.org -all") << QStringLiteral("printable ASCII");
    QTest::addRow("bare qualifier") << QStringLiteral("v=spf1 - all") << QStringLiteral("unknown term");
}

void TestDnsRecords::spfMalformed()
{
    QFETCH(QString, record);
    QFETCH(QString, errorPart);
    const SpfReading r = readSpf(record);
    QVERIFY(!r.valid);
    QVERIFY2(r.error.contains(errorPart), qPrintable(r.error));
}

void TestDnsRecords::spfReadingNamesWhatItAllows()
{
    const SpfReading r = readSpf(QStringLiteral("v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.1 mx include:_spf.example.net -all"));
    QVERIFY(r.valid);
    QVERIFY2(r.reading.contains(QStringLiteral("2 IPv4 ranges")), qPrintable(r.reading));
    QVERIFY2(r.reading.contains(QStringLiteral("include:_spf.example.net")), qPrintable(r.reading));
    QVERIFY2(r.reading.contains(QStringLiteral("everything else fails (-all)")), qPrintable(r.reading));

    const SpfReading plus = readSpf(QStringLiteral("v=spf1 +all"));
    QVERIFY2(plus.reading.contains(QStringLiteral("any server")), qPrintable(plus.reading));

    const SpfReading redirect = readSpf(QStringLiteral("v=spf1 redirect=_spf.example.net"));
    QVERIFY(redirect.valid);
    QVERIFY2(redirect.reading.contains(QStringLiteral("_spf.example.net (redirect)")), qPrintable(redirect.reading));
}

void TestDnsRecords::dmarc_data()
{
    QTest::addColumn<QString>("record");
    QTest::addColumn<QString>("policy");
    QTest::addColumn<QString>("sp");
    QTest::addColumn<int>("pct");
    QTest::addColumn<QStringList>("rua");
    QTest::addColumn<QString>("adkim");
    QTest::addColumn<QString>("aspf");

    QTest::addRow("reject") << QStringLiteral("v=DMARC1; p=reject; rua=mailto:d@example.org") << QStringLiteral("reject")
                            << QString() << 100 << QStringList{QStringLiteral("mailto:d@example.org")} << QStringLiteral("r")
                            << QStringLiteral("r");
    QTest::addRow("none minimal") << QStringLiteral("v=DMARC1; p=none") << QStringLiteral("none") << QString() << 100
                                  << QStringList{} << QStringLiteral("r") << QStringLiteral("r");
    QTest::addRow("trailing semicolon") << QStringLiteral("v=DMARC1; p=quarantine;") << QStringLiteral("quarantine")
                                        << QString() << 100 << QStringList{} << QStringLiteral("r") << QStringLiteral("r");
    QTest::addRow("no spaces") << QStringLiteral("v=DMARC1;p=reject;sp=none;pct=50") << QStringLiteral("reject")
                               << QStringLiteral("none") << 50 << QStringList{} << QStringLiteral("r") << QStringLiteral("r");
    QTest::addRow("strict alignment, two rua")
        << QStringLiteral("v=DMARC1; p=Reject; adkim=s; aspf=S; rua=mailto:a@x.example, mailto:b@y.example")
        << QStringLiteral("reject") << QString() << 100
        << QStringList{QStringLiteral("mailto:a@x.example"), QStringLiteral("mailto:b@y.example")} << QStringLiteral("s")
        << QStringLiteral("s");
    QTest::addRow("unknown tags ignored") << QStringLiteral("v=DMARC1; p=none; fo=1; ri=86400; rf=afrf; zz=1")
                                          << QStringLiteral("none") << QString() << 100 << QStringList{} << QStringLiteral("r")
                                          << QStringLiteral("r");
    QTest::addRow("pct 0") << QStringLiteral("v=DMARC1; p=quarantine; pct=0") << QStringLiteral("quarantine") << QString()
                           << 0 << QStringList{} << QStringLiteral("r") << QStringLiteral("r");
}

void TestDnsRecords::dmarc()
{
    QFETCH(QString, record);
    QFETCH(QString, policy);
    QFETCH(QString, sp);
    QFETCH(int, pct);
    QFETCH(QStringList, rua);
    QFETCH(QString, adkim);
    QFETCH(QString, aspf);
    const DmarcReading r = readDmarc(record);
    QVERIFY2(r.valid, qPrintable(r.error));
    QCOMPARE(r.policy, policy);
    QCOMPARE(r.subdomainPolicy, sp);
    QCOMPARE(r.pct, pct);
    QCOMPARE(r.rua, rua);
    QCOMPARE(r.adkim, adkim);
    QCOMPARE(r.aspf, aspf);
    QVERIFY(!r.reading.isEmpty());
}

void TestDnsRecords::dmarcMalformed_data()
{
    QTest::addColumn<QString>("record");
    QTest::addColumn<QString>("errorPart");

    QTest::addRow("empty") << QString() << QStringLiteral("empty");
    QTest::addRow("v not first") << QStringLiteral("p=reject; v=DMARC1") << QStringLiteral("v=DMARC1");
    QTest::addRow("wrong version") << QStringLiteral("v=DMARC2; p=reject") << QStringLiteral("v=DMARC1");
    QTest::addRow("lowercase version") << QStringLiteral("v=dmarc1; p=reject") << QStringLiteral("v=DMARC1");
    QTest::addRow("no policy") << QStringLiteral("v=DMARC1; rua=mailto:d@example.org") << QStringLiteral("p= tag");
    QTest::addRow("bad policy") << QStringLiteral("v=DMARC1; p=block") << QStringLiteral("p=block");
    QTest::addRow("bad sp") << QStringLiteral("v=DMARC1; p=none; sp=maybe") << QStringLiteral("sp=maybe");
    QTest::addRow("pct over 100") << QStringLiteral("v=DMARC1; p=reject; pct=150") << QStringLiteral("pct=150");
    QTest::addRow("pct not a number") << QStringLiteral("v=DMARC1; p=reject; pct=all") << QStringLiteral("pct=all");
    QTest::addRow("bad adkim") << QStringLiteral("v=DMARC1; p=reject; adkim=x") << QStringLiteral("adkim=x");
    QTest::addRow("tag without value sign") << QStringLiteral("v=DMARC1; p=reject; garbage")
                                            << QStringLiteral("malformed tag");
    QTest::addRow("duplicate p") << QStringLiteral("v=DMARC1; p=none; p=reject") << QStringLiteral("twice");
    QTest::addRow("v repeated") << QStringLiteral("v=DMARC1; v=DMARC1; p=none") << QStringLiteral("v= appears again");
}

void TestDnsRecords::dmarcMalformed()
{
    QFETCH(QString, record);
    QFETCH(QString, errorPart);
    const DmarcReading r = readDmarc(record);
    QVERIFY(!r.valid);
    QVERIFY2(r.error.contains(errorPart), qPrintable(r.error));
}

void TestDnsRecords::dmarcReading_data()
{
    QTest::addColumn<QString>("record");
    QTest::addColumn<QString>("phrase");

    QTest::addRow("none is monitoring") << QStringLiteral("v=DMARC1; p=none") << QStringLiteral("monitoring only");
    QTest::addRow("reject refuses") << QStringLiteral("v=DMARC1; p=reject") << QStringLiteral("refuse mail");
    QTest::addRow("quarantine spam") << QStringLiteral("v=DMARC1; p=quarantine") << QStringLiteral("spam");
    QTest::addRow("pct named") << QStringLiteral("v=DMARC1; p=reject; pct=20") << QStringLiteral("20% of failing mail");
    QTest::addRow("no rua named") << QStringLiteral("v=DMARC1; p=reject") << QStringLiteral("no aggregate reports");
    QTest::addRow("rua named") << QStringLiteral("v=DMARC1; p=reject; rua=mailto:r@example.org")
                               << QStringLiteral("reports go to mailto:r@example.org");
    QTest::addRow("sp differs") << QStringLiteral("v=DMARC1; p=reject; sp=none") << QStringLiteral("subdomains: none");
    QTest::addRow("strict dkim") << QStringLiteral("v=DMARC1; p=reject; adkim=s") << QStringLiteral("strict alignment for DKIM");
}

void TestDnsRecords::dmarcReading()
{
    QFETCH(QString, record);
    QFETCH(QString, phrase);
    const DmarcReading r = readDmarc(record);
    QVERIFY2(r.valid, qPrintable(r.error));
    QVERIFY2(r.reading.contains(phrase), qPrintable(r.reading));
}

void TestDnsRecords::mtaSts_data()
{
    QTest::addColumn<QString>("body");
    QTest::addColumn<QString>("mode");
    QTest::addColumn<QStringList>("mx");
    QTest::addColumn<qint64>("maxAge");

    QTest::addRow("enforce LF") << QStringLiteral("version: STSv1\nmode: enforce\nmx: mail.example.org\nmax_age: 604800\n")
                                << QStringLiteral("enforce") << QStringList{QStringLiteral("mail.example.org")}
                                << qint64(604800);
    QTest::addRow("testing CRLF, two mx")
        << QStringLiteral("version: STSv1\r\nmode: testing\r\nmx: mx1.example.org\r\nmx: *.example.net\r\nmax_age: 86400\r\n")
        << QStringLiteral("testing") << QStringList{QStringLiteral("mx1.example.org"), QStringLiteral("*.example.net")}
        << qint64(86400);
    QTest::addRow("none without mx") << QStringLiteral("version: STSv1\nmode: none\nmax_age: 0")
                                     << QStringLiteral("none") << QStringList{} << qint64(0);
    QTest::addRow("unknown field ignored, any order")
        << QStringLiteral("max_age: 31557600\nfoo: bar\nmx: MAIL.Example.org\nmode: enforce\nversion: STSv1\n")
        << QStringLiteral("enforce") << QStringList{QStringLiteral("mail.example.org")} << qint64(31557600);
    QTest::addRow("no space after colon") << QStringLiteral("version:STSv1\nmode:enforce\nmx:a.example\nmax_age:10")
                                          << QStringLiteral("enforce") << QStringList{QStringLiteral("a.example")}
                                          << qint64(10);
    QTest::addRow("blank lines") << QStringLiteral("\nversion: STSv1\n\nmode: enforce\nmx: a.example\nmax_age: 10\n\n")
                                 << QStringLiteral("enforce") << QStringList{QStringLiteral("a.example")} << qint64(10);
}

void TestDnsRecords::mtaSts()
{
    QFETCH(QString, body);
    QFETCH(QString, mode);
    QFETCH(QStringList, mx);
    QFETCH(qint64, maxAge);
    const MtaStsPolicy p = readMtaStsPolicy(body);
    QVERIFY2(p.valid, qPrintable(p.error));
    QCOMPARE(p.mode, mode);
    QCOMPARE(p.mx, mx);
    QCOMPARE(p.maxAge, maxAge);
}

void TestDnsRecords::mtaStsMalformed_data()
{
    QTest::addColumn<QString>("body");
    QTest::addColumn<QString>("errorPart");

    QTest::addRow("empty") << QString() << QStringLiteral("version");
    QTest::addRow("html error page") << QStringLiteral("<html><body>Not Found</body></html>")
                                     << QStringLiteral("not \"key: value\"");
    QTest::addRow("wrong version") << QStringLiteral("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 10")
                                   << QStringLiteral("STSv2");
    QTest::addRow("no version") << QStringLiteral("mode: enforce\nmx: a.example\nmax_age: 10") << QStringLiteral("version");
    QTest::addRow("bad mode") << QStringLiteral("version: STSv1\nmode: strict\nmx: a.example\nmax_age: 10")
                              << QStringLiteral("strict");
    QTest::addRow("no mode") << QStringLiteral("version: STSv1\nmx: a.example\nmax_age: 10") << QStringLiteral("mode");
    QTest::addRow("no max_age") << QStringLiteral("version: STSv1\nmode: enforce\nmx: a.example")
                                << QStringLiteral("max_age");
    QTest::addRow("max_age over a year") << QStringLiteral("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601")
                                         << QStringLiteral("max_age");
    QTest::addRow("max_age negative") << QStringLiteral("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1")
                                      << QStringLiteral("max_age");
    QTest::addRow("enforce without mx") << QStringLiteral("version: STSv1\nmode: enforce\nmax_age: 10")
                                        << QStringLiteral("no mx");
    QTest::addRow("mx with space") << QStringLiteral("version: STSv1\nmode: enforce\nmx: a example\nmax_age: 10")
                                   << QStringLiteral("not a host name");
    QTest::addRow("mx wildcard in middle") << QStringLiteral("version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 10")
                                           << QStringLiteral("not a host name");
    QTest::addRow("mode uppercase") << QStringLiteral("version: STSv1\nmode: ENFORCE\nmx: a.example\nmax_age: 10")
                                    << QStringLiteral("ENFORCE");
}

void TestDnsRecords::mtaStsMalformed()
{
    QFETCH(QString, body);
    QFETCH(QString, errorPart);
    const MtaStsPolicy p = readMtaStsPolicy(body);
    QVERIFY(!p.valid);
    QVERIFY2(p.error.contains(errorPart), qPrintable(p.error));
}

void TestDnsRecords::mtaStsMatches_data()
{
    QTest::addColumn<QStringList>("patterns");
    QTest::addColumn<QString>("host");
    QTest::addColumn<bool>("matches");

    const QStringList exact{QStringLiteral("mail.example.org")};
    const QStringList wild{QStringLiteral("*.example.org")};
    QTest::addRow("exact") << exact << QStringLiteral("mail.example.org") << true;
    QTest::addRow("exact, case") << exact << QStringLiteral("MAIL.example.ORG") << true;
    QTest::addRow("exact, trailing dot") << exact << QStringLiteral("mail.example.org.") << true;
    QTest::addRow("exact, other host") << exact << QStringLiteral("mx.example.org") << false;
    QTest::addRow("exact, suffix only") << exact << QStringLiteral("xmail.example.org") << false;
    QTest::addRow("wildcard one label") << wild << QStringLiteral("mx1.example.org") << true;
    QTest::addRow("wildcard two labels") << wild << QStringLiteral("a.b.example.org") << false;
    QTest::addRow("wildcard not the apex") << wild << QStringLiteral("example.org") << false;
    QTest::addRow("wildcard other domain") << wild << QStringLiteral("mx1.example.net") << false;
    QTest::addRow("wildcard lookalike") << wild << QStringLiteral("mx1.badexample.org") << false;
    QTest::addRow("second pattern") << QStringList{QStringLiteral("a.example"), QStringLiteral("*.example.org")}
                                    << QStringLiteral("mx.example.org") << true;
    QTest::addRow("empty host") << wild << QString() << false;
}

void TestDnsRecords::mtaStsMatches()
{
    QFETCH(QStringList, patterns);
    QFETCH(QString, host);
    QFETCH(bool, matches);
    MtaStsPolicy p;
    p.valid = true;
    p.mode = QStringLiteral("enforce");
    p.mx = patterns;
    QCOMPARE(p.matches(host), matches);
}

QTEST_GUILESS_MAIN(TestDnsRecords)
#include "tst_dnsrecords.moc"
