// Discovery and the sender-domain checks from real lookups: dnsmasq
// (tests/servers/dnsserver) serves MX, SRV, TXT, PTR and A/AAAA records for test
// domains under .test (RFC 2606) on a loopback address, and
// tests/servers/mtasts_https.py serves MTA-STS policies over HTTPS with a
// certificate from the test CA (tests/servers/make-certs).
//
// Binding port 53 and 443 needs root: without it the test skips, or fails when
// SMTPSCOPE_REQUIRE_SERVERS=1 (scripts/test).

#include "diagnostics/discovery.h"
#include "testservers.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QUdpSocket>
#include <memory>
#include <thread>

using namespace Diagnostics;

Q_DECLARE_METATYPE(Diagnostics::Verdict)
Q_DECLARE_METATYPE(Diagnostics::Endpoint::Role)

namespace {

QString serversDir()
{
    const QString dir = qEnvironmentVariable("SMTPSCOPE_SERVERS_DIR");
    return dir.isEmpty() ? QStringLiteral(SMTPSCOPE_SOURCE_DIR "/tests/servers") : dir;
}

// A loopback address nobody else uses (127.0.0.0/8 is all loopback on Linux).
QString randomLoopback(int second)
{
    return QStringLiteral("127.%1.%2.%3")
        .arg(second)
        .arg(QRandomGenerator::global()->bounded(0, 256))
        .arg(QRandomGenerator::global()->bounded(1, 255));
}

const Check *findCheck(const QList<Check> &checks, const QString &id)
{
    for (const Check &c : checks) {
        if (c.id == id)
            return &c;
    }
    return nullptr;
}

QString describe(const Check &c)
{
    return QStringLiteral("%1 %2: %3 | fix: %4 | %5")
        .arg(c.id, verdictName(c.verdict), c.summary, c.fix, c.detail);
}

} // namespace

class TestDiscovery : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void mxOrderAndAddresses();
    void discoverHealthyDomain();
    void nullMx();
    void noMxIsImplicitMx();
    void domainThatDoesNotExist();
    void srvSortedWithPorts();
    void txtStringsJoined();
    void senderDomain_data();
    void senderDomain();
    void senderDomainFacts();
    void ptrNames();
    void reverseDns_data();
    void reverseDns();
    void mtaStsPolicyFetch();
    void mtaStsPolicyNeedsTrustedCertificate();
    void unservedNameserverFails();
    void silentNameserverTimesOut();
    void cancelFromAnotherThread();

private:
    bool startHttps(QString *error);
    bool startDns(QString *error, int *exitCode);
    void skipOrFail(const QString &why);

    QTemporaryDir m_dir;
    DnsServer m_dns; // stops with the test object
    QString m_dnsAddress;
    QString m_httpsAddress;
    QString m_certs;
    std::unique_ptr<QProcess> m_https;
    QString m_skip;
};

void TestDiscovery::skipOrFail(const QString &why)
{
    m_skip = why;
    if (qEnvironmentVariableIntValue("SMTPSCOPE_REQUIRE_SERVERS"))
        QFAIL(qPrintable(why));
    QSKIP(qPrintable(why));
}

static void writeFile(const QString &path, const QByteArray &content)
{
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly | QIODevice::Truncate), qPrintable(path));
    f.write(content);
}

bool TestDiscovery::startHttps(QString *error)
{
    const QString dir = m_dir.path();
    writeFile(dir + QStringLiteral("/good.policy"),
              "version: STSv1\nmode: enforce\nmx: mx1.good.test\nmx: *.good.test\nmax_age: 604800\n");
    writeFile(dir + QStringLiteral("/badsts.policy"),
              "version: STSv1\nmode: enforce\nmx: mail.other.test\nmax_age: 604800\n");
    // Up to 5 addresses: another run of this test may hold port 443 on one.
    for (int attempt = 0; attempt < 5; ++attempt) {
        m_httpsAddress = randomLoopback(54);
        m_https = std::make_unique<QProcess>();
        m_https->start(QStringLiteral("/usr/bin/python3"),
                       {serversDir() + QStringLiteral("/mtasts_https.py"), QStringLiteral("--address"), m_httpsAddress,
                        QStringLiteral("--certs"), m_certs, QStringLiteral("--policy"),
                        QStringLiteral("mta-sts.good.test=%1/good.policy").arg(dir), QStringLiteral("--policy"),
                        QStringLiteral("mta-sts.badsts.test=%1/badsts.policy").arg(dir), QStringLiteral("--redirect"),
                        QStringLiteral("mta-sts.redirect.test=https://mta-sts.good.test/.well-known/mta-sts.txt"),
                        QStringLiteral("--name"), QStringLiteral("mta-sts.nopolicy.test")});
        if (!m_https->waitForStarted(10000)) {
            *error = m_https->errorString();
            return false;
        }
        QElapsedTimer t;
        t.start();
        while (!m_https->canReadLine() && m_https->state() == QProcess::Running && t.elapsed() < 20000)
            m_https->waitForReadyRead(int(20000 - t.elapsed()));
        const QByteArray line = m_https->readLine().trimmed();
        if (line.startsWith("PORT "))
            return true;
        m_https->closeWriteChannel();
        m_https->waitForFinished(5000);
        *error = QString::fromUtf8(m_https->readAllStandardError()).trimmed();
        if (!error->contains(QLatin1String("in use")))
            return false;
    }
    return false;
}

bool TestDiscovery::startDns(QString *error, int *exitCode)
{
    const QByteArray https = m_httpsAddress.toLatin1();
    QByteArray zone;
    // good.test: two MX listed out of order, SRV, SPF, DMARC reject, MTA-STS.
    zone += "mx-host=good.test,mx2.good.test,20\n"
            "mx-host=good.test,mx1.good.test,10\n"
            "host-record=mx1.good.test,127.0.0.11,fd00::11\n"
            "host-record=mx2.good.test,127.0.0.12\n"
            "txt-record=good.test,\"v=spf1 mx -all\"\n"
            "txt-record=_dmarc.good.test,\"v=DMARC1; p=reject; rua=mailto:dmarc@good.test\"\n"
            "srv-host=_submission._tcp.good.test,mail.good.test,587,0,1\n"
            "srv-host=_submissions._tcp.good.test,backup.good.test,465,10,1\n"
            "srv-host=_submissions._tcp.good.test,mail.good.test,465,0,1\n"
            "host-record=mail.good.test,127.0.0.13\n"
            "host-record=backup.good.test,127.0.0.14\n"
            "txt-record=_mta-sts.good.test,\"v=STSv1; id=20240101T000000\"\n"
            "host-record=mta-sts.good.test," + https + "\n"
            // a PTR whose name has no address: not forward-confirmed
            "ptr-record=15.0.0.127.in-addr.arpa,liar.good.test\n"
            // one TXT record of two strings (RFC 7208 3.3)
            "txt-record=split.test,\"v=spf1 ip4:192.0.2.1 \",\"-all\"\n";
    // null MX (RFC 7505): preference 0, exchange "." as raw RDATA
    zone += "dns-rr=nullmx.test,15,000000\n";
    // only an A record: implicit MX; no TXT (NODATA) and no _dmarc (NXDOMAIN)
    zone += "host-record=nomx.test,127.0.0.20\n";
    zone += "txt-record=plusall.test,\"v=spf1 +all\"\n"
            "txt-record=twospf.test,\"v=spf1 mx -all\"\n"
            "txt-record=twospf.test,\"v=spf1 a -all\"\n"
            "txt-record=twospf.test,\"google-site-verification=abc\"\n";
    QByteArray many = "txt-record=manyinc.test,\"v=spf1";
    for (int i = 1; i <= 11; ++i)
        many += " include:s" + QByteArray::number(i) + ".example.test";
    zone += many + " -all\"\n";
    zone += "txt-record=dmarcnone.test,\"v=spf1 -all\"\n"
            "txt-record=_dmarc.dmarcnone.test,\"v=DMARC1; p=none\"\n";
    // MTA-STS whose policy does not cover the MX; one without a policy; one redirecting
    zone += "mx-host=badsts.test,mx.badsts.test,10\n"
            "host-record=mx.badsts.test,127.0.0.21\n"
            "txt-record=_mta-sts.badsts.test,\"v=STSv1; id=1\"\n"
            "host-record=mta-sts.badsts.test," + https + "\n"
            "txt-record=_mta-sts.nopolicy.test,\"v=STSv1; id=1\"\n"
            "host-record=mta-sts.nopolicy.test," + https + "\n"
            "txt-record=_mta-sts.redirect.test,\"v=STSv1; id=1\"\n"
            "host-record=mta-sts.redirect.test," + https + "\n"
            // the HTTPS server has no certificate for this name
            "txt-record=_mta-sts.wrongcert.test,\"v=STSv1; id=1\"\n"
            "host-record=mta-sts.wrongcert.test," + https + "\n";
    bool notPermitted = false;
    if (!m_dns.start(zone, error, &notPermitted)) {
        *exitCode = notPermitted ? 4 : 1;
        return false;
    }
    m_dnsAddress = m_dns.address();
    return true;
}

void TestDiscovery::initTestCase()
{
    QVERIFY(m_dir.isValid());
    if (!QFile::exists(QStringLiteral("/usr/sbin/dnsmasq")))
        skipOrFail(QStringLiteral("dnsmasq is not installed (Debian dnsmasq-base; scripts/install-deps)"));

    m_certs = m_dir.path() + QStringLiteral("/certs");
    QProcess mk;
    mk.start(serversDir() + QStringLiteral("/make-certs"), {m_certs});
    QVERIFY2(mk.waitForFinished(60000), "make-certs did not finish within 60 s");
    QVERIFY2(mk.exitCode() == 0, mk.readAllStandardError().constData());

    QString error;
    if (!startHttps(&error))
        skipOrFail(QStringLiteral("cannot start the MTA-STS HTTPS server on a loopback port 443 (needs root): %1").arg(error));
    int code = 0;
    if (!startDns(&error, &code)) {
        skipOrFail(code == 4 ? QStringLiteral("cannot bind a DNS server to port 53 (needs root): %1").arg(error)
                             : QStringLiteral("cannot start dnsmasq: %1").arg(error));
    }
}

void TestDiscovery::cleanupTestCase()
{
    if (m_https) {
        m_https->closeWriteChannel(); // it exits when its stdin closes
        if (!m_https->waitForFinished(5000)) {
            m_https->kill();
            m_https->waitForFinished(5000);
        }
    }
}

static DnsOptions dnsOptions(const QString &nameserver, int timeoutMs = 5000)
{
    DnsOptions o;
    o.nameserver = QHostAddress(nameserver);
    o.timeoutMs = timeoutMs;
    return o;
}

void TestDiscovery::mxOrderAndAddresses()
{
    Resolver r(dnsOptions(m_dnsAddress));
    const DnsAnswer<MxRecord> mx = r.mx(QStringLiteral("good.test"));
    QVERIFY2(mx.ok(), qPrintable(mx.error));
    QVERIFY(!mx.notFound);
    QCOMPARE(mx.records.size(), 2);
    QCOMPARE(mx.records.at(0).preference, quint16(10));
    QCOMPARE(mx.records.at(0).exchange, QStringLiteral("mx1.good.test"));
    QCOMPARE(mx.records.at(0).addresses, (QStringList{QStringLiteral("127.0.0.11"), QStringLiteral("fd00::11")}));
    QCOMPARE(mx.records.at(1).preference, quint16(20));
    QCOMPARE(mx.records.at(1).exchange, QStringLiteral("mx2.good.test"));
    QCOMPARE(mx.records.at(1).addresses, QStringList{QStringLiteral("127.0.0.12")});
}

void TestDiscovery::discoverHealthyDomain()
{
    Resolver r(dnsOptions(m_dnsAddress));
    QElapsedTimer clock;
    clock.start();
    QList<Check> checks;
    QVariantMap facts;
    const QList<Endpoint> eps = discoverDomain(r, QStringLiteral("good.test"), 2525, clock, &checks, &facts);

    QCOMPARE(checks.size(), 3);
    QCOMPARE(checks.at(0).id, QStringLiteral("dns-mx"));
    QCOMPARE(checks.at(1).id, QStringLiteral("dns-srv-submission"));
    QCOMPARE(checks.at(2).id, QStringLiteral("dns-srv-submissions"));
    qint64 previousStart = -1;
    for (const Check &c : checks) {
        QVERIFY2(c.verdict == Verdict::Pass, qPrintable(describe(c)));
        QCOMPARE(c.scope, QStringLiteral("good.test"));
        QVERIFY(c.startUs >= previousStart);
        QVERIFY(c.durationUs > 0);
        previousStart = c.startUs;
    }
    QVERIFY2(checks.at(0).summary.contains(QStringLiteral("mx1.good.test (preference 10), mx2.good.test (preference 20)")),
             qPrintable(checks.at(0).summary));
    QVERIFY2(checks.at(1).summary.contains(QStringLiteral("mail.good.test port 587")), qPrintable(checks.at(1).summary));

    QCOMPARE(eps.size(), 5);
    const struct {
        const char *host;
        quint16 port;
        Endpoint::Role role;
        const char *address;
    } want[] = {{"mx1.good.test", 2525, Endpoint::Role::Relay, "127.0.0.11"},
                {"mx2.good.test", 2525, Endpoint::Role::Relay, "127.0.0.12"},
                {"mail.good.test", 587, Endpoint::Role::Submission, "127.0.0.13"},
                {"mail.good.test", 465, Endpoint::Role::Submissions, "127.0.0.13"},
                {"backup.good.test", 465, Endpoint::Role::Submissions, "127.0.0.14"}};
    for (int i = 0; i < 5; ++i) {
        QCOMPARE(eps.at(i).host, QString::fromLatin1(want[i].host));
        QCOMPARE(eps.at(i).port, want[i].port);
        QCOMPARE(eps.at(i).role, want[i].role);
        QCOMPARE(eps.at(i).addresses.value(0), QString::fromLatin1(want[i].address));
    }
    QCOMPARE(eps.at(0).source, QStringLiteral("MX 10 good.test"));
    QCOMPARE(eps.at(2).source, QStringLiteral("SRV _submission._tcp.good.test"));

    QCOMPARE(facts.value(QStringLiteral("mx")).toList().size(), 2);
    QCOMPARE(facts.value(QStringLiteral("mx")).toList().at(0).toMap().value(QStringLiteral("exchange")).toString(),
             QStringLiteral("mx1.good.test"));
    const QVariantList srv = facts.value(QStringLiteral("srv")).toList();
    QCOMPARE(srv.size(), 3);
    QCOMPARE(srv.at(0).toMap().value(QStringLiteral("port")).toInt(), 587);
}

void TestDiscovery::nullMx()
{
    Resolver r(dnsOptions(m_dnsAddress));
    const DnsAnswer<MxRecord> mx = r.mx(QStringLiteral("nullmx.test"));
    QVERIFY2(mx.ok(), qPrintable(mx.error));
    QCOMPARE(mx.records.size(), 1);
    QCOMPARE(mx.records.first().exchange, QString());
    QCOMPARE(mx.records.first().preference, quint16(0));

    QElapsedTimer clock;
    clock.start();
    QList<Check> checks;
    QVariantMap facts;
    const QList<Endpoint> eps = discoverDomain(r, QStringLiteral("nullmx.test"), 25, clock, &checks, &facts);
    const Check *c = findCheck(checks, QStringLiteral("dns-mx"));
    QVERIFY(c);
    QVERIFY2(c->verdict == Verdict::Info, qPrintable(describe(*c)));
    QVERIFY2(c->summary.contains(QStringLiteral("accepts no mail")), qPrintable(c->summary));
    QVERIFY(eps.isEmpty());
}

void TestDiscovery::noMxIsImplicitMx()
{
    Resolver r(dnsOptions(m_dnsAddress));
    // The name exists (A record) without MX: an empty answer, not an error.
    const DnsAnswer<MxRecord> mx = r.mx(QStringLiteral("nomx.test"));
    QVERIFY2(mx.ok(), qPrintable(mx.error));
    QVERIFY(!mx.notFound);
    QVERIFY(mx.records.isEmpty());

    QElapsedTimer clock;
    clock.start();
    QList<Check> checks;
    QVariantMap facts;
    const QList<Endpoint> eps = discoverDomain(r, QStringLiteral("nomx.test"), 25, clock, &checks, &facts);
    const Check *c = findCheck(checks, QStringLiteral("dns-mx"));
    QVERIFY(c);
    QVERIFY2(c->verdict == Verdict::Warn, qPrintable(describe(*c)));
    QVERIFY2(c->summary.contains(QStringLiteral("implicit MX: mail goes to the A record")), qPrintable(c->summary));
    QVERIFY2(c->summary.contains(QStringLiteral("127.0.0.20")), qPrintable(c->summary));
    QVERIFY(!c->fix.isEmpty());
    QCOMPARE(eps.size(), 1);
    QCOMPARE(eps.first().host, QStringLiteral("nomx.test"));
    QCOMPARE(eps.first().role, Endpoint::Role::Relay);
    QCOMPARE(eps.first().addresses, QStringList{QStringLiteral("127.0.0.20")});
    // No SRV records: information, not a problem.
    const Check *srv = findCheck(checks, QStringLiteral("dns-srv-submission"));
    QVERIFY(srv);
    QVERIFY2(srv->verdict == Verdict::Info, qPrintable(describe(*srv)));
}

void TestDiscovery::domainThatDoesNotExist()
{
    Resolver r(dnsOptions(m_dnsAddress));
    const DnsAnswer<MxRecord> mx = r.mx(QStringLiteral("missing.test"));
    QVERIFY2(mx.ok(), qPrintable(mx.error));
    QVERIFY(mx.notFound);

    QElapsedTimer clock;
    clock.start();
    QList<Check> checks;
    QVariantMap facts;
    const QList<Endpoint> eps = discoverDomain(r, QStringLiteral("missing.test"), 25, clock, &checks, &facts);
    const Check *c = findCheck(checks, QStringLiteral("dns-mx"));
    QVERIFY(c);
    QVERIFY2(c->verdict == Verdict::Fail, qPrintable(describe(*c)));
    QVERIFY2(c->summary.contains(QStringLiteral("does not exist")), qPrintable(c->summary));
    QVERIFY(eps.isEmpty());
}

void TestDiscovery::srvSortedWithPorts()
{
    Resolver r(dnsOptions(m_dnsAddress));
    const DnsAnswer<SrvRecord> srv = r.srv(QStringLiteral("_submissions._tcp.good.test"));
    QVERIFY2(srv.ok(), qPrintable(srv.error));
    QCOMPARE(srv.records.size(), 2);
    QCOMPARE(srv.records.at(0).service, QStringLiteral("_submissions._tcp"));
    QCOMPARE(srv.records.at(0).target, QStringLiteral("mail.good.test"));
    QCOMPARE(srv.records.at(0).priority, quint16(0));
    QCOMPARE(srv.records.at(0).port, quint16(465));
    QCOMPARE(srv.records.at(0).addresses, QStringList{QStringLiteral("127.0.0.13")});
    QCOMPARE(srv.records.at(1).target, QStringLiteral("backup.good.test"));
    QCOMPARE(srv.records.at(1).priority, quint16(10));

    const DnsAnswer<SrvRecord> sub = r.srv(QStringLiteral("_submission._tcp.good.test"));
    QVERIFY2(sub.ok(), qPrintable(sub.error));
    QCOMPARE(sub.records.size(), 1);
    QCOMPARE(sub.records.first().port, quint16(587));
    QCOMPARE(sub.records.first().weight, quint16(1));

    const DnsAnswer<SrvRecord> none = r.srv(QStringLiteral("_submission._tcp.nomx.test"));
    QVERIFY2(none.ok(), qPrintable(none.error));
    QVERIFY(none.records.isEmpty());
}

void TestDiscovery::txtStringsJoined()
{
    Resolver r(dnsOptions(m_dnsAddress));
    const DnsAnswer<QString> txt = r.txt(QStringLiteral("split.test"));
    QVERIFY2(txt.ok(), qPrintable(txt.error));
    QCOMPARE(txt.records, QStringList{QStringLiteral("v=spf1 ip4:192.0.2.1 -all")});
}

void TestDiscovery::senderDomain_data()
{
    QTest::addColumn<QString>("domain");
    QTest::addColumn<QString>("id");
    QTest::addColumn<Verdict>("verdict");
    QTest::addColumn<QString>("phrase"); // in the summary
    QTest::addColumn<QString>("fixPhrase");

    QTest::addRow("spf good") << QStringLiteral("good.test") << QStringLiteral("spf") << Verdict::Pass
                              << QStringLiteral("everything else fails (-all)") << QString();
    QTest::addRow("spf missing") << QStringLiteral("nomx.test") << QStringLiteral("spf") << Verdict::Warn
                                 << QStringLiteral("has no SPF record") << QStringLiteral("\"v=spf1 mx -all\"");
    QTest::addRow("spf +all") << QStringLiteral("plusall.test") << QStringLiteral("spf") << Verdict::Fail
                              << QStringLiteral("\"+all\"") << QStringLiteral("-all");
    QTest::addRow("spf two records") << QStringLiteral("twospf.test") << QStringLiteral("spf") << Verdict::Fail
                                     << QStringLiteral("2 SPF records") << QStringLiteral("Merge");
    QTest::addRow("spf 11 includes") << QStringLiteral("manyinc.test") << QStringLiteral("spf") << Verdict::Fail
                                     << QStringLiteral("11 terms that need DNS lookups") << QStringLiteral("10 or fewer");
    QTest::addRow("spf joined strings") << QStringLiteral("split.test") << QStringLiteral("spf") << Verdict::Pass
                                        << QStringLiteral("1 IPv4 range") << QString();
    QTest::addRow("dmarc reject") << QStringLiteral("good.test") << QStringLiteral("dmarc") << Verdict::Pass
                                  << QStringLiteral("Policy reject") << QString();
    QTest::addRow("dmarc none") << QStringLiteral("dmarcnone.test") << QStringLiteral("dmarc") << Verdict::Warn
                                << QStringLiteral("monitoring only") << QStringLiteral("p=quarantine");
    QTest::addRow("dmarc missing") << QStringLiteral("nomx.test") << QStringLiteral("dmarc") << Verdict::Warn
                                   << QStringLiteral("has no DMARC record (_dmarc.nomx.test)")
                                   << QStringLiteral("v=DMARC1; p=none");
    QTest::addRow("mta-sts covering") << QStringLiteral("good.test") << QStringLiteral("mta-sts") << Verdict::Pass
                                      << QStringLiteral("mode enforce covers mx1.good.test and mx2.good.test")
                                      << QString();
    QTest::addRow("mta-sts not covering") << QStringLiteral("badsts.test") << QStringLiteral("mta-sts") << Verdict::Fail
                                          << QStringLiteral("does not cover mx.badsts.test")
                                          << QStringLiteral("mx: mx.badsts.test");
    QTest::addRow("mta-sts no policy") << QStringLiteral("nopolicy.test") << QStringLiteral("mta-sts") << Verdict::Fail
                                       << QStringLiteral("HTTP 404") << QStringLiteral("or remove the _mta-sts.nopolicy.test");
    QTest::addRow("mta-sts redirect") << QStringLiteral("redirect.test") << QStringLiteral("mta-sts") << Verdict::Fail
                                      << QStringLiteral("forbids following redirects") << QStringLiteral("no redirect");
    QTest::addRow("mta-sts wrong certificate")
        << QStringLiteral("wrongcert.test") << QStringLiteral("mta-sts") << Verdict::Fail
        << QStringLiteral("host name did not match") << QStringLiteral("valid certificate for mta-sts.wrongcert.test");
    QTest::addRow("mta-sts absent") << QStringLiteral("nomx.test") << QStringLiteral("mta-sts") << Verdict::Info
                                    << QStringLiteral("no MTA-STS policy") << QStringLiteral("v=STSv1");
}

void TestDiscovery::senderDomain()
{
    QFETCH(QString, domain);
    QFETCH(QString, id);
    QFETCH(Verdict, verdict);
    QFETCH(QString, phrase);
    QFETCH(QString, fixPhrase);

    DnsOptions o = dnsOptions(m_dnsAddress);
    o.caFile = m_certs + QStringLiteral("/ca.pem");
    Resolver r(o);
    QStringList mxNames;
    for (const MxRecord &m : r.mx(domain).records)
        mxNames << m.exchange;
    QElapsedTimer clock;
    clock.start();
    QList<Check> checks;
    QVariantMap facts;
    checkSenderDomain(r, domain, mxNames, clock, &checks, &facts);
    QCOMPARE(checks.size(), 3);
    const Check *c = findCheck(checks, id);
    QVERIFY(c);
    qInfo().noquote() << describe(*c); // the sentences, for reading in the log
    QCOMPARE(c->scope, domain);
    QVERIFY2(c->verdict == verdict, qPrintable(describe(*c)));
    QVERIFY2(c->summary.contains(phrase), qPrintable(describe(*c)));
    if (fixPhrase.isEmpty())
        QVERIFY2(c->fix.isEmpty(), qPrintable(describe(*c)));
    else
        QVERIFY2(c->fix.contains(fixPhrase), qPrintable(describe(*c)));
    QVERIFY(c->durationUs > 0);
}

void TestDiscovery::senderDomainFacts()
{
    DnsOptions o = dnsOptions(m_dnsAddress);
    o.caFile = m_certs + QStringLiteral("/ca.pem");
    Resolver r(o);
    QElapsedTimer clock;
    clock.start();
    QList<Check> checks;
    QVariantMap facts;
    checkSenderDomain(r, QStringLiteral("good.test"), {QStringLiteral("mx1.good.test")}, clock, &checks, &facts);
    const QVariantMap spf = facts.value(QStringLiteral("spf")).toMap();
    QCOMPARE(spf.value(QStringLiteral("record")).toString(), QStringLiteral("v=spf1 mx -all"));
    QCOMPARE(spf.value(QStringLiteral("all")).toString(), QStringLiteral("-"));
    QCOMPARE(spf.value(QStringLiteral("lookup_terms")).toInt(), 1);
    const QVariantMap dmarc = facts.value(QStringLiteral("dmarc")).toMap();
    QCOMPARE(dmarc.value(QStringLiteral("policy")).toString(), QStringLiteral("reject"));
    QCOMPARE(dmarc.value(QStringLiteral("rua")).toStringList(), QStringList{QStringLiteral("mailto:dmarc@good.test")});
    const QVariantMap sts = facts.value(QStringLiteral("mta_sts")).toMap();
    QCOMPARE(sts.value(QStringLiteral("id")).toString(), QStringLiteral("20240101T000000"));
    QCOMPARE(sts.value(QStringLiteral("mode")).toString(), QStringLiteral("enforce"));
    QCOMPARE(sts.value(QStringLiteral("mx")).toStringList(),
             (QStringList{QStringLiteral("mx1.good.test"), QStringLiteral("*.good.test")}));
    QCOMPARE(sts.value(QStringLiteral("max_age")).toLongLong(), qint64(604800));
}

void TestDiscovery::ptrNames()
{
    Resolver r(dnsOptions(m_dnsAddress));
    QCOMPARE(r.ptr(QStringLiteral("127.0.0.11")).records, QStringList{QStringLiteral("mx1.good.test")});
    // ip6.arpa: nibbles of fd00::11 reversed
    const DnsAnswer<QString> v6 = r.ptr(QStringLiteral("fd00::11"));
    QVERIFY2(v6.ok(), qPrintable(v6.error));
    QCOMPARE(v6.records, QStringList{QStringLiteral("mx1.good.test")});
    const DnsAnswer<QString> none = r.ptr(QStringLiteral("127.0.0.16"));
    QVERIFY2(none.ok(), qPrintable(none.error));
    QVERIFY(none.records.isEmpty());
    QVERIFY(none.notFound);
    QVERIFY(!r.ptr(QStringLiteral("not-an-address")).ok());
}

void TestDiscovery::reverseDns_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<Endpoint::Role>("role");
    QTest::addColumn<QString>("greetingName");
    QTest::addColumn<QString>("ehloName");
    QTest::addColumn<Verdict>("verdict");
    QTest::addColumn<QString>("phrase");
    QTest::addColumn<QString>("ptrName");

    const auto relay = Endpoint::Role::Relay;
    QTest::addRow("matching, forward-confirmed")
        << QStringLiteral("127.0.0.11") << relay << QStringLiteral("mx1.good.test") << QStringLiteral("MX1.good.test")
        << Verdict::Pass << QStringLiteral("forward-confirmed") << QStringLiteral("mx1.good.test");
    QTest::addRow("ipv6, forward-confirmed") << QStringLiteral("fd00::11") << relay << QStringLiteral("mx1.good.test")
                                             << QString() << Verdict::Pass << QStringLiteral("resolves back to fd00::11")
                                             << QStringLiteral("mx1.good.test");
    QTest::addRow("greeting does not match")
        << QStringLiteral("127.0.0.12") << relay << QStringLiteral("smtp.other.test") << QStringLiteral("smtp.other.test")
        << Verdict::Warn << QStringLiteral("greets as smtp.other.test") << QStringLiteral("mx2.good.test");
    QTest::addRow("ehlo does not match") << QStringLiteral("127.0.0.12") << relay << QString()
                                         << QStringLiteral("localhost") << Verdict::Warn
                                         << QStringLiteral("answers EHLO as localhost") << QStringLiteral("mx2.good.test");
    QTest::addRow("not forward-confirmed") << QStringLiteral("127.0.0.15") << relay << QStringLiteral("liar.good.test")
                                           << QString() << Verdict::Warn << QStringLiteral("not forward-confirmed")
                                           << QStringLiteral("liar.good.test");
    QTest::addRow("missing, relay") << QStringLiteral("127.0.0.16") << relay << QStringLiteral("mx.good.test") << QString()
                                    << Verdict::Warn << QStringLiteral("many receivers refuse mail") << QString();
    QTest::addRow("missing, submission") << QStringLiteral("127.0.0.16") << Endpoint::Role::Submission
                                         << QStringLiteral("mail.good.test") << QString() << Verdict::Info
                                         << QStringLiteral("no reverse DNS") << QString();
    QTest::addRow("not connected") << QString() << relay << QString() << QString() << Verdict::Skipped
                                   << QStringLiteral("no connection") << QString();
}

void TestDiscovery::reverseDns()
{
    QFETCH(QString, address);
    QFETCH(Endpoint::Role, role);
    QFETCH(QString, greetingName);
    QFETCH(QString, ehloName);
    QFETCH(Verdict, verdict);
    QFETCH(QString, phrase);
    QFETCH(QString, ptrName);

    Resolver r(dnsOptions(m_dnsAddress));
    Endpoint e;
    e.host = QStringLiteral("mx.good.test");
    e.port = 25;
    e.role = role;
    e.reachable = !address.isEmpty();
    e.address = address;
    e.greetingName = greetingName;
    e.ehloName = ehloName;
    QElapsedTimer clock;
    clock.start();
    const Check c = checkReverseDns(r, &e, clock);
    qInfo().noquote() << describe(c);
    QCOMPARE(c.id, QStringLiteral("dns-ptr"));
    QCOMPARE(c.scope, QStringLiteral("mx.good.test:25"));
    QVERIFY2(c.verdict == verdict, qPrintable(describe(c)));
    QVERIFY2(c.summary.contains(phrase), qPrintable(describe(c)));
    QCOMPARE(e.ptrName, ptrName);
    QCOMPARE(c.fix.isEmpty(), verdict == Verdict::Pass || verdict == Verdict::Skipped);
}

void TestDiscovery::mtaStsPolicyFetch()
{
    DnsOptions o = dnsOptions(m_dnsAddress);
    o.caFile = m_certs + QStringLiteral("/ca.pem");
    Resolver r(o);
    const DnsAnswer<QString> body = r.mtaStsPolicy(QStringLiteral("good.test"));
    QVERIFY2(body.ok(), qPrintable(body.error));
    QCOMPARE(body.records.size(), 1);
    QVERIFY(body.records.first().contains(QStringLiteral("mode: enforce")));
    const MtaStsPolicy p = readMtaStsPolicy(body.records.first());
    QVERIFY(p.valid);
    QVERIFY(p.matches(QStringLiteral("mx2.good.test")));

    const DnsAnswer<QString> missing = r.mtaStsPolicy(QStringLiteral("nomx.test"));
    QVERIFY(!missing.ok());
    QVERIFY2(missing.error.contains(QStringLiteral("mta-sts.nomx.test does not exist")), qPrintable(missing.error));
}

void TestDiscovery::mtaStsPolicyNeedsTrustedCertificate()
{
    // Without the test CA the certificate is not trusted: no policy.
    Resolver r(dnsOptions(m_dnsAddress));
    const DnsAnswer<QString> body = r.mtaStsPolicy(QStringLiteral("good.test"));
    QVERIFY(!body.ok());
    QVERIFY(body.records.isEmpty());
    QVERIFY2(body.error.contains(QStringLiteral("https://mta-sts.good.test/")), qPrintable(body.error));
}

void TestDiscovery::unservedNameserverFails()
{
    // A loopback address where nothing listens on port 53: the kernel refuses
    // the datagram, and the lookup ends in an error well within the timeout.
    const QString nobody = randomLoopback(56);
    Resolver r(dnsOptions(nobody, 3000));
    QElapsedTimer t;
    t.start();
    const DnsAnswer<MxRecord> mx = r.mx(QStringLiteral("good.test"));
    QVERIFY(!mx.ok());
    QVERIFY(!mx.notFound);
    QVERIFY(mx.records.isEmpty());
    QVERIFY2(mx.error.contains(nobody), qPrintable(mx.error));
    QVERIFY2(t.elapsed() < 4000, qPrintable(QString::number(t.elapsed())));
}

void TestDiscovery::silentNameserverTimesOut()
{
    // Port 53 bound but never answering: the deadline ends the lookup.
    QUdpSocket silent;
    QString address;
    for (int i = 0; i < 5 && silent.state() != QAbstractSocket::BoundState; ++i) {
        address = randomLoopback(57);
        silent.bind(QHostAddress(address), 53);
    }
    QVERIFY2(silent.state() == QAbstractSocket::BoundState, qPrintable(silent.errorString()));
    Resolver r(dnsOptions(address, 1500));
    QElapsedTimer t;
    t.start();
    const DnsAnswer<QString> txt = r.txt(QStringLiteral("good.test"));
    const qint64 elapsed = t.elapsed();
    QVERIFY(!txt.ok());
    QVERIFY2(txt.error.contains(QStringLiteral("within 1500 ms")), qPrintable(txt.error));
    QVERIFY2(elapsed >= 1400 && elapsed < 3500, qPrintable(QString::number(elapsed)));
    QVERIFY(silent.hasPendingDatagrams()); // the question did reach it
}

void TestDiscovery::cancelFromAnotherThread()
{
    QUdpSocket silent;
    QString address;
    for (int i = 0; i < 5 && silent.state() != QAbstractSocket::BoundState; ++i) {
        address = randomLoopback(58);
        silent.bind(QHostAddress(address), 53);
    }
    QVERIFY2(silent.state() == QAbstractSocket::BoundState, qPrintable(silent.errorString()));
    Resolver r(dnsOptions(address, 10000));
    std::thread canceller([&r] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        r.cancel();
    });
    QElapsedTimer t;
    t.start();
    const DnsAnswer<MxRecord> mx = r.mx(QStringLiteral("good.test"));
    const qint64 elapsed = t.elapsed();
    canceller.join();
    QCOMPARE(mx.error, QStringLiteral("cancelled"));
    QVERIFY2(elapsed < 3000, qPrintable(QString::number(elapsed)));
    // Once cancelled, later lookups end at once.
    QCOMPARE(r.txt(QStringLiteral("good.test")).error, QStringLiteral("cancelled"));
}

QTEST_GUILESS_MAIN(TestDiscovery)
#include "tst_discovery.moc"
