// The diagnostics checklist (ServerChecker) against real situations:
// Postfix's healthy listeners must get no Fail; each misconfigured listener of
// tests/servers/mailserver (expired certificate with AUTH before TLS, wrong
// name, self-signed, missing intermediate) and each port / TLS-mode mix-up must
// produce its own verdict with a fix; the capture server's scripted faults fail
// the step they hit; cancel() from another thread ends a run at once. No
// password may appear in any transcript or check text.

#include "capture/captureserver.h"
#include "diagnostics/servercheck.h"
#include "testservers.h"

#include <QElapsedTimer>
#include <QFile>
#include <QMutex>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <functional>
#include <memory>
#include <thread>

using namespace Diagnostics;

namespace {

constexpr int kTimeoutMs = 15000;

// The misconfigured listeners (tests/servers/mailserver writes their ports).
bool haveExtraPorts()
{
    const MailEnv &env = MailEnv::get();
    return env.badPort && env.wrongNamePort && env.selfSignedPort && env.chainPort;
}

#define REQUIRE_EXTRA_PORTS()                                                                         \
    do {                                                                                              \
        REQUIRE_MAILENV();                                                                            \
        if (!haveExtraPorts())                                                                       \
            QFAIL("the mail server env lacks BAD_PORT, WRONGNAME_PORT, SELFSIGNED_PORT or CHAIN_PORT: " \
                  "restart tests/servers/mailserver");                                                \
    } while (false)

struct Outcome
{
    Endpoint endpoint;
    QList<Check> checks;
    QList<Check> live;                   // as passed to the check function
    QList<TranscriptEntry> transcript;   // every connection's lines
    qint64 elapsedMs = 0;

    [[nodiscard]] Check find(const QString &id) const
    {
        for (const Check &c : checks) {
            if (c.id == id)
                return c;
        }
        return Check{};
    }
    [[nodiscard]] bool has(const QString &id) const { return !find(id).id.isEmpty(); }
    [[nodiscard]] QStringList failures() const
    {
        QStringList out;
        for (const Check &c : checks) {
            if (c.verdict == Verdict::Fail)
                out.append(QStringLiteral("%1: %2").arg(c.id, c.summary));
        }
        return out;
    }
    // Everything a user could see, for the secrets check.
    [[nodiscard]] QString allText() const
    {
        QString t;
        for (const Check &c : checks) {
            t += c.summary + u'\n' + c.fix + u'\n' + c.detail + u'\n' + c.title + u'\n';
            for (auto it = c.data.cbegin(); it != c.data.cend(); ++it)
                t += it.value().toString() + u'\n' + it.value().toStringList().join(u' ') + u'\n';
        }
        for (const TranscriptEntry &e : transcript)
            t += e.text + u'\n';
        for (const TranscriptEntry &e : endpoint.transcript)
            t += e.text + u'\n';
        return t;
    }
    [[nodiscard]] QString dump() const
    {
        QString t;
        for (const Check &c : checks)
            t += QStringLiteral("  %1 [%2] %3 | %4\n").arg(c.id, verdictName(c.verdict), c.summary, c.detail);
        return t;
    }
};

Endpoint endpointFor(quint16 port, Endpoint::Role role)
{
    Endpoint e;
    e.host = QStringLiteral("127.0.0.1");
    e.port = port;
    e.role = role;
    e.source = QStringLiteral("given");
    e.peerVerifyName = QStringLiteral("smtp.test");
    return e;
}

CheckOptions baseOptions()
{
    CheckOptions o;
    o.caFile = MailEnv::get().caFile;
    o.connectTimeoutMs = 5000;
    o.readTimeoutMs = 3000;
    return o;
}

Outcome runCheck(const Endpoint &endpoint, const CheckOptions &options, ServerChecker *checker = nullptr)
{
    Outcome out;
    std::unique_ptr<ServerChecker> own;
    if (!checker) {
        own = std::make_unique<ServerChecker>(options);
        checker = own.get();
    }
    checker->setCheckFunction([&out](const Check &c) { out.live.append(c); });
    QMutex mutex;
    checker->setTranscriptFunction([&out, &mutex](const QString &, const TranscriptEntry &e) {
        const QMutexLocker lock(&mutex);
        out.transcript.append(e);
    });
    QElapsedTimer clock;
    clock.start();
    out.endpoint = checker->run(endpoint, clock, &out.checks);
    out.elapsedMs = clock.elapsed();
    return out;
}

// A CaptureServer on a thread of its own (SmtpDialog waits block the test thread).
class CaptureThread
{
public:
    CaptureThread() = default;
    ~CaptureThread()
    {
        if (m_server)
            QMetaObject::invokeMethod(m_server, [s = m_server] { delete s; }, Qt::BlockingQueuedConnection);
        m_thread.quit();
        m_thread.wait(kTimeoutMs);
    }
    Q_DISABLE_COPY_MOVE(CaptureThread)

    bool start(const Capture::CaptureOptions &options, QString *error)
    {
        m_thread.start();
        m_server = new Capture::CaptureServer;
        m_server->moveToThread(&m_thread);
        bool ok = false;
        QMetaObject::invokeMethod(m_server, [&] { ok = m_server->start(options, error); },
                                  Qt::BlockingQueuedConnection);
        if (ok) {
            QMetaObject::invokeMethod(m_server, [&] {
                m_port = m_server->port();
                m_caFile = m_server->caFile();
            }, Qt::BlockingQueuedConnection);
        }
        return ok;
    }
    [[nodiscard]] quint16 port() const { return m_port; }
    [[nodiscard]] QString caFile() const { return m_caFile; }

private:
    QThread m_thread;
    Capture::CaptureServer *m_server = nullptr;
    quint16 m_port = 0;
    QString m_caFile;
};

} // namespace

class tst_ServerCheck : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void optionsMap();
    void healthy_data();
    void healthy();
    void wrongPassword();
    void expiredAndAuthBeforeTls();
    void startTlsPortAsSubmissions();
    void implicitTlsPortAsSubmission();
    void certificateProblems_data();
    void certificateProblems();
    void closedPort();
    void relay_data();
    void relay();
    void extensions();
    void tlsVersions();
    void captureFaults_data();
    void captureFaults();
    void cancelFromAnotherThread();
};

void tst_ServerCheck::optionsMap()
{
    CheckOptions o;
    o.user = QStringLiteral("tester");
    o.password = QStringLiteral("pw-not-in-map");
    o.oauthToken = "token-not-in-map";
    o.relayCheck = true;
    o.mechanism = QStringLiteral("PLAIN");
    const QVariantMap m = o.toVariantMap();
    const QStringList keys = {"ehlo_name", "ca_file", "insecure", "user", "mechanism", "has_password",
                              "has_oauth_token", "allow_plaintext_auth", "connect_timeout_ms", "read_timeout_ms",
                              "scan_tls_versions", "try_each_mechanism", "exercise_extensions", "relay_check",
                              "relay_from", "relay_to", "mail_from"};
    for (const QString &k : keys)
        QVERIFY2(m.contains(k), qPrintable(k));
    QCOMPARE(m.size(), keys.size());
    QCOMPARE(m.value("has_password").toBool(), true);
    QCOMPARE(m.value("has_oauth_token").toBool(), true);
    QCOMPARE(m.value("relay_check").toBool(), true);
    QCOMPARE(m.value("mechanism").toString(), QStringLiteral("PLAIN"));
    for (const QVariant &v : m)
        QVERIFY(!v.toString().contains(QLatin1String("not-in-map")));
    CheckOptions none;
    QCOMPARE(none.toVariantMap().value("has_password").toBool(), false);
}

void tst_ServerCheck::healthy_data()
{
    QTest::addColumn<int>("which");
    QTest::addColumn<int>("role");
    QTest::addRow("submission") << 0 << int(Endpoint::Role::Submission);
    QTest::addRow("smtps") << 1 << int(Endpoint::Role::Submissions);
    QTest::addRow("relay") << 2 << int(Endpoint::Role::Relay);
}

void tst_ServerCheck::healthy()
{
    REQUIRE_MAILENV();
    QFETCH(int, which);
    QFETCH(int, role);
    const MailEnv &env = MailEnv::get();
    const quint16 port = which == 0 ? env.submissionPort : which == 1 ? env.smtpsPort : env.smtpPort;
    CheckOptions o = baseOptions();
    o.user = env.user;
    o.password = env.password;
    const Outcome r = runCheck(endpointFor(port, Endpoint::Role(role)), o);

    QVERIFY2(r.failures().isEmpty(), qPrintable(r.failures().join(u'\n') + u'\n' + r.dump()));
    for (const char *id : {"tcp", "tls-mode", "greeting", "ehlo", "tls-protocol", "tls-versions",
                              "certificate-chain", "certificate-expiry", "certificate-name", "auth", "quit"}) {
        QVERIFY2(r.find(id).verdict == Verdict::Pass, qPrintable(QString::fromLatin1(id) + u'\n' + r.dump()));
    }
    QCOMPARE(r.find("auth:PLAIN").verdict, Verdict::Pass);
    QCOMPARE(r.find("auth:LOGIN").verdict, Verdict::Pass);
    QCOMPARE(r.find("relay").verdict, Verdict::Skipped); // no consent given
    // Endpoint facts.
    QVERIFY(r.endpoint.reachable);
    QCOMPARE(r.endpoint.address, QStringLiteral("127.0.0.1"));
    QVERIFY2(r.endpoint.greeting.startsWith(QLatin1String("smtp.test")), qPrintable(r.endpoint.greeting));
    QCOMPARE(r.endpoint.greetingName, QStringLiteral("smtp.test"));
    QCOMPARE(r.endpoint.ehloName, QStringLiteral("smtp.test"));
    QVERIFY(r.endpoint.tls.encrypted);
    QVERIFY(r.endpoint.tls.verified);
    QVERIFY(!r.endpoint.tls.chain.isEmpty());
    QVERIFY(r.endpoint.capabilitiesAfterTls.join(u' ').contains(QLatin1String("AUTH")));
    QCOMPARE(r.endpoint.implicitTlsSpoken, which == 1);
    if (which == 1) {
        QVERIFY(r.endpoint.capabilitiesBeforeTls.isEmpty());
        QCOMPARE(r.find("starttls").verdict, Verdict::Skipped);
    } else {
        QVERIFY(r.endpoint.capabilitiesBeforeTls.contains(QStringLiteral("STARTTLS")));
        QCOMPARE(r.find("starttls").verdict, Verdict::Pass);
        QCOMPARE(r.find("ehlo-after-tls").verdict, Verdict::Pass);
        QCOMPARE(r.find("ehlo-after-tls").data.value("added").toStringList().contains("AUTH"), true);
        QCOMPARE(r.find("auth-before-tls").verdict, Verdict::Pass);
    }
    QVERIFY(!r.endpoint.transcript.isEmpty());
    // Each check was handed to the live function once, in the same order.
    QCOMPARE(r.live.size(), r.checks.size());
    for (qsizetype i = 0; i < r.checks.size(); ++i)
        QCOMPARE(r.live.at(i).id, r.checks.at(i).id);
    // (scope, id) is unique, and every scope is the endpoint's.
    QSet<QString> ids;
    for (const Check &c : r.checks) {
        QCOMPARE(c.scope, r.endpoint.target());
        QVERIFY2(!ids.contains(c.id), qPrintable(c.id));
        ids.insert(c.id);
        QVERIFY(c.startUs >= 0 && c.durationUs >= 0);
        QVERIFY2(!c.summary.isEmpty(), qPrintable(c.id));
    }
    // No secret anywhere.
    QVERIFY(!r.allText().contains(env.password));
    QVERIFY(!r.allText().contains(QString::fromLatin1(QByteArray(QByteArray("\0", 1) + env.user.toUtf8() + '\0'
                                                                 + env.password.toUtf8())
                                                          .toBase64())));
}

void tst_ServerCheck::wrongPassword()
{
    REQUIRE_MAILENV();
    const MailEnv &env = MailEnv::get();
    CheckOptions o = baseOptions();
    o.user = env.user;
    o.password = QStringLiteral("wrong-%1").arg(env.password);
    o.tryEachMechanism = false;
    o.mechanism = QStringLiteral("PLAIN");
    o.scanTlsVersions = false;
    const Outcome r = runCheck(endpointFor(env.submissionPort, Endpoint::Role::Submission), o);
    QCOMPARE(r.find("auth:PLAIN").verdict, Verdict::Fail);
    QVERIFY2(r.find("auth:PLAIN").summary.contains(QLatin1String("535")), qPrintable(r.find("auth:PLAIN").summary));
    QCOMPARE(r.find("auth").verdict, Verdict::Fail);
    QVERIFY(!r.find("auth").fix.isEmpty());
    QCOMPARE(r.find("tls-versions").verdict, Verdict::Skipped);
    QVERIFY(!r.allText().contains(o.password));
}

void tst_ServerCheck::expiredAndAuthBeforeTls()
{
    REQUIRE_EXTRA_PORTS();
    const MailEnv &env = MailEnv::get();
    CheckOptions o = baseOptions();
    o.user = env.user;
    o.password = env.password;
    const Outcome r = runCheck(endpointFor(MailEnv::get().badPort, Endpoint::Role::Submission), o);

    const Check expiry = r.find("certificate-expiry");
    QVERIFY2(expiry.verdict == Verdict::Fail, qPrintable(r.dump()));
    QVERIFY2(expiry.summary.contains(QLatin1String("expired")) && expiry.summary.contains(QLatin1String("2020-02-01")),
             qPrintable(expiry.summary));
    QVERIFY(expiry.summary.contains(QLatin1String("real client")));
    QVERIFY(!expiry.fix.isEmpty());
    QVERIFY2(expiry.detail.contains(QLatin1String("CertificateExpired")), qPrintable(expiry.detail));
    QVERIFY(expiry.data.value("days_left").toLongLong() < 0);

    const Check beforeTls = r.find("auth-before-tls");
    QCOMPARE(beforeTls.verdict, Verdict::Fail);
    QVERIFY(beforeTls.summary.contains(QLatin1String("PLAIN")));
    QVERIFY(beforeTls.fix.contains(QLatin1String("smtpd_tls_auth_only")));
    // The run went on past the certificate: capabilities after TLS were read.
    QCOMPARE(r.find("ehlo-after-tls").verdict, Verdict::Pass);
    QVERIFY(!r.endpoint.capabilitiesAfterTls.isEmpty());
    QVERIFY(!r.endpoint.tls.verified);
    // The certificate is not trusted: the password is never sent.
    QCOMPARE(r.find("auth").verdict, Verdict::Skipped);
    QVERIFY(!r.has("auth:PLAIN"));
    QVERIFY(!r.allText().contains(env.password));
}

void tst_ServerCheck::startTlsPortAsSubmissions()
{
    REQUIRE_EXTRA_PORTS();
    CheckOptions o = baseOptions();
    o.scanTlsVersions = false;
    const Outcome r = runCheck(endpointFor(MailEnv::get().badPort, Endpoint::Role::Submissions), o);
    const Check mode = r.find("tls-mode");
    QVERIFY2(mode.verdict == Verdict::Fail, qPrintable(r.dump()));
    QVERIFY2(mode.summary.contains(QLatin1String("STARTTLS")), qPrintable(mode.summary));
    QVERIFY(mode.fix.contains(QLatin1String("STARTTLS")));
    QVERIFY(mode.fix.contains(QLatin1String("smtpd_tls_wrappermode=yes")));
    // The checklist went on in STARTTLS mode.
    QVERIFY(!r.endpoint.implicitTlsSpoken);
    QCOMPARE(r.find("greeting").verdict, Verdict::Pass);
    QCOMPARE(r.find("starttls").verdict, Verdict::Pass);
    QCOMPARE(r.find("certificate-expiry").verdict, Verdict::Fail);
}

void tst_ServerCheck::implicitTlsPortAsSubmission()
{
    REQUIRE_MAILENV();
    CheckOptions o = baseOptions();
    o.scanTlsVersions = false;
    const Outcome r = runCheck(endpointFor(MailEnv::get().smtpsPort, Endpoint::Role::Submission), o);
    const Check mode = r.find("tls-mode");
    QVERIFY2(mode.verdict == Verdict::Fail, qPrintable(r.dump()));
    QVERIFY2(mode.summary.contains(QLatin1String("implicit TLS")), qPrintable(mode.summary));
    QVERIFY(mode.fix.contains(QLatin1String("465")));
    QVERIFY(r.endpoint.implicitTlsSpoken);
    // Then it carried on inside TLS.
    QCOMPARE(r.find("greeting").verdict, Verdict::Pass);
    QCOMPARE(r.find("ehlo").verdict, Verdict::Pass);
    QCOMPARE(r.find("certificate-chain").verdict, Verdict::Pass);
    // One read timeout (3 s) plus the rest: the mix-up must not take long.
    QVERIFY2(r.elapsedMs < 12000, qPrintable(QString::number(r.elapsedMs)));
}

void tst_ServerCheck::certificateProblems_data()
{
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("failingId");
    QTest::addColumn<QString>("error");
    QTest::addColumn<QString>("words");
    QTest::addRow("wrong name") << 0 << "certificate-name" << "HostNameMismatch" << "other.test";
    QTest::addRow("self-signed") << 1 << "certificate-chain" << "SelfSignedCertificate" << "self-signed";
    QTest::addRow("missing intermediate") << 2 << "certificate-chain" << "UnableToGetLocalIssuerCertificate"
                                          << "intermediate";
}

void tst_ServerCheck::certificateProblems()
{
    REQUIRE_EXTRA_PORTS();
    QFETCH(int, which);
    QFETCH(QString, failingId);
    QFETCH(QString, error);
    QFETCH(QString, words);
    const MailEnv &p = MailEnv::get();
    CheckOptions o = baseOptions();
    o.scanTlsVersions = false;
    const quint16 port = which == 0 ? p.wrongNamePort : which == 1 ? p.selfSignedPort : p.chainPort;
    const Outcome r = runCheck(endpointFor(port, Endpoint::Role::Relay), o);
    const Check c = r.find(failingId);
    QVERIFY2(c.verdict == Verdict::Fail, qPrintable(r.dump()));
    QVERIFY2(c.detail.contains(error), qPrintable(c.detail));
    QVERIFY2(c.summary.contains(words), qPrintable(c.summary));
    QVERIFY(!c.fix.isEmpty());
    // Only that certificate check fails; the others pass.
    for (const QString &id : {QStringLiteral("certificate-chain"), QStringLiteral("certificate-name"),
                              QStringLiteral("certificate-expiry")}) {
        if (id != failingId)
            QVERIFY2(r.find(id).verdict == Verdict::Pass, qPrintable(id + u'\n' + r.dump()));
    }
    QCOMPARE(r.find("ehlo-after-tls").verdict, Verdict::Pass);
}

void tst_ServerCheck::closedPort()
{
    // A port that was free a moment ago: bound, then released.
    quint16 port = 0;
    {
        QTcpServer s;
        QVERIFY(s.listen(QHostAddress::LocalHost, 0));
        port = s.serverPort();
    }
    CheckOptions o;
    o.connectTimeoutMs = 3000;
    o.readTimeoutMs = 3000;
    Endpoint e;
    e.host = QStringLiteral("127.0.0.1");
    e.port = port;
    e.role = Endpoint::Role::Submission;
    const Outcome r = runCheck(e, o);
    const Check tcp = r.find("tcp");
    QCOMPARE(tcp.verdict, Verdict::Fail);
    QVERIFY2(tcp.summary.contains(QLatin1String("refused")), qPrintable(tcp.summary));
    QVERIFY(!tcp.fix.isEmpty());
    QCOMPARE(tcp.data.value("state").toString(), QStringLiteral("closed"));
    QVERIFY(!r.endpoint.reachable);
    int skipped = 0;
    for (const Check &c : r.checks) {
        if (c.id == QLatin1String("tcp"))
            continue;
        QVERIFY2(c.verdict == Verdict::Skipped, qPrintable(c.id));
        QVERIFY(c.summary.contains(QString::number(port)));
        ++skipped;
    }
    QCOMPARE(skipped, 20);
    QVERIFY(r.elapsedMs < 5000);
}

void tst_ServerCheck::relay_data()
{
    QTest::addColumn<int>("which");
    QTest::addColumn<bool>("consent");
    QTest::addColumn<int>("verdict");
    QTest::addRow("relay port, consent") << 0 << true << int(Verdict::Fail);
    QTest::addRow("submission port, consent") << 1 << true << int(Verdict::Pass);
    QTest::addRow("relay port, no consent") << 0 << false << int(Verdict::Skipped);
}

void tst_ServerCheck::relay()
{
    REQUIRE_MAILENV();
    QFETCH(int, which);
    QFETCH(bool, consent);
    QFETCH(int, verdict);
    const MailEnv &env = MailEnv::get();
    CheckOptions o = baseOptions();
    o.relayCheck = consent;
    o.scanTlsVersions = false;
    o.exerciseExtensions = false;
    const Outcome r = which == 0 ? runCheck(endpointFor(env.smtpPort, Endpoint::Role::Relay), o)
                                 : runCheck(endpointFor(env.submissionPort, Endpoint::Role::Submission), o);
    const Check c = r.find("relay");
    QVERIFY2(c.verdict == Verdict(verdict), qPrintable(r.dump()));
    if (Verdict(verdict) == Verdict::Fail) {
        QVERIFY(c.summary.contains(QLatin1String("open relay")));
        QVERIFY(c.summary.contains(QLatin1String("trusted")));
        QVERIFY(c.summary.contains(QLatin1String("127.0.0.1")));
        QVERIFY(c.fix.contains(QLatin1String("reject_unauth_destination")));
    } else if (Verdict(verdict) == Verdict::Pass) {
        QVERIFY2(c.summary.contains(QLatin1String("5.7.1")), qPrintable(c.summary));
    } else {
        QVERIFY(c.summary.contains(QLatin1String("consent")));
    }
}

void tst_ServerCheck::extensions()
{
    REQUIRE_MAILENV();
    CheckOptions o = baseOptions();
    o.scanTlsVersions = false;
    o.mailFrom = QStringLiteral("diag@example.test");
    const Outcome r = runCheck(endpointFor(MailEnv::get().smtpPort, Endpoint::Role::Relay), o);
    const Check size = r.find("ext:SIZE");
    QVERIFY2(size.verdict == Verdict::Pass, qPrintable(r.dump()));
    QVERIFY2(size.summary.contains(QLatin1String("552")), qPrintable(size.summary));
    QCOMPARE(size.data.value("limit").toULongLong(), 52428800ULL);
    for (const char *id : {"ext:PIPELINING", "ext:8BITMIME", "ext:SMTPUTF8", "ext:DSN"})
        QVERIFY2(r.find(id).verdict == Verdict::Pass, qPrintable(QString::fromLatin1(id) + u'\n' + r.dump()));
    QCOMPARE(r.find("ext:CHUNKING").verdict, Verdict::Info);
    QVERIFY(r.find("ext:CHUNKING").summary.contains(QLatin1String("advertised")));
    // Never DATA or BDAT; every transaction ended by RSET.
    bool sawRset = false;
    for (const TranscriptEntry &e : r.endpoint.transcript) {
        if (e.direction != TranscriptEntry::Direction::Client)
            continue;
        QVERIFY2(!e.text.startsWith(QLatin1String("DATA")) && !e.text.startsWith(QLatin1String("BDAT")),
                 qPrintable(e.text));
        sawRset = sawRset || e.text == QLatin1String("RSET");
    }
    QVERIFY(sawRset);
}

void tst_ServerCheck::tlsVersions()
{
    REQUIRE_MAILENV();
    CheckOptions o = baseOptions();
    o.exerciseExtensions = false;
    const Outcome r = runCheck(endpointFor(MailEnv::get().smtpPort, Endpoint::Role::Relay), o);
    const Check c = r.find("tls-versions");
    QVERIFY2(c.verdict == Verdict::Pass, qPrintable(r.dump()));
    QVERIFY(r.endpoint.tlsVersionsAccepted.contains(QStringLiteral("TLSv1.2")));
    QVERIFY(r.endpoint.tlsVersionsAccepted.contains(QStringLiteral("TLSv1.3")));
    // 1.0 and 1.1 are refused by the server or not offered by this machine's
    // OpenSSL: never "accepted".
    for (const QString &v : {QStringLiteral("TLSv1.0"), QStringLiteral("TLSv1.1")}) {
        QVERIFY(!r.endpoint.tlsVersionsAccepted.contains(v));
        QVERIFY(r.endpoint.tlsVersionsRefused.contains(v) || r.endpoint.tlsVersionsUntestable.contains(v));
    }
    QCOMPARE(r.endpoint.tlsVersionsAccepted.size() + r.endpoint.tlsVersionsRefused.size()
                 + r.endpoint.tlsVersionsUntestable.size(),
             4);
}

void tst_ServerCheck::captureFaults_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("failingId");
    QTest::addColumn<QString>("code");
    QTest::addRow("greeting 554") << "greeting:554 5.3.2 Not accepting mail" << "greeting" << "554";
    QTest::addRow("ehlo 550") << "ehlo:550 5.7.1 Go away" << "ehlo" << "550";
    QTest::addRow("starttls 454") << "starttls:454 4.7.0 TLS not available" << "starttls" << "454";
}

void tst_ServerCheck::captureFaults()
{
    QFETCH(QString, spec);
    QFETCH(QString, failingId);
    QFETCH(QString, code);
    QString why;
    const auto fault = Capture::Fault::parse(spec, &why);
    QVERIFY2(fault, qPrintable(why));
    QTemporaryDir dir;
    Capture::CaptureOptions options;
    options.folder = dir.path();
    options.faults = {*fault};
    CaptureThread server;
    QVERIFY2(server.start(options, &why), qPrintable(why));

    CheckOptions o;
    o.caFile = server.caFile();
    o.connectTimeoutMs = 5000;
    o.readTimeoutMs = 3000;
    o.scanTlsVersions = false;
    Endpoint e;
    e.host = QStringLiteral("127.0.0.1");
    e.port = server.port();
    e.role = Endpoint::Role::Submission;
    const Outcome r = runCheck(e, o);
    const Check c = r.find(failingId);
    QVERIFY2(c.verdict == Verdict::Fail, qPrintable(r.dump()));
    QVERIFY2(c.summary.contains(code), qPrintable(c.summary));
    QVERIFY2(!c.fix.isEmpty(), qPrintable(failingId));
    // The steps before it passed.
    QCOMPARE(r.find("tcp").verdict, Verdict::Pass);
    if (failingId != QLatin1String("greeting"))
        QCOMPARE(r.find("greeting").verdict, Verdict::Pass);
    if (failingId == QLatin1String("starttls")) {
        // Submission without TLS: no certificate to judge, no TLS facts.
        QCOMPARE(r.find("certificate-chain").verdict, Verdict::Skipped);
        QCOMPARE(r.find("tls-protocol").verdict, Verdict::Skipped);
    } else {
        QCOMPARE(r.find("starttls").verdict, Verdict::Skipped);
    }
}

void tst_ServerCheck::cancelFromAnotherThread()
{
    // A server that accepts and never greets: without cancel() the run would
    // wait for the 30 s read timeout, then probe TLS.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
    QList<QTcpSocket *> held;
    connect(&silent, &QTcpServer::newConnection, this, [&] {
        while (QTcpSocket *s = silent.nextPendingConnection())
            held.append(s);
    });
    CheckOptions o;
    o.connectTimeoutMs = 30000;
    o.readTimeoutMs = 30000;
    ServerChecker checker(o);
    Endpoint e;
    e.host = QStringLiteral("127.0.0.1");
    e.port = silent.serverPort();
    e.role = Endpoint::Role::Submission;
    std::thread canceller([&checker] {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        checker.cancel();
    });
    const Outcome r = runCheck(e, o, &checker);
    canceller.join();
    qDeleteAll(held);
    QVERIFY2(r.elapsedMs < 3000, qPrintable(QString::number(r.elapsedMs)));
    QVERIFY(checker.isCancelled());
    QCOMPARE(r.find("tcp").verdict, Verdict::Pass);
    const Check mode = r.find("tls-mode");
    QCOMPARE(mode.verdict, Verdict::Skipped);
    QCOMPARE(mode.summary, QStringLiteral("cancelled"));
    for (const Check &c : r.checks) {
        if (c.id != QLatin1String("tcp"))
            QVERIFY2(c.verdict == Verdict::Skipped && c.summary == QLatin1String("cancelled"), qPrintable(c.id));
    }
    QCOMPARE(r.checks.size(), 21);
}

QTEST_GUILESS_MAIN(tst_ServerCheck)
#include "tst_servercheck.moc"
