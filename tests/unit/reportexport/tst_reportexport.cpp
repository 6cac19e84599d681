// The report exports: JSON with every documented key, the HTML page checked by an
// independent parser (Python's html.parser, htmlcheck.py) for structure, escaping
// and the absence of any external reference, the waterfall's order and scale, and
// the command lines run through a real POSIX shell to see the arguments it gets.
//
// The TLS facts come from real certificates made by tests/servers/make-certs.

#include "diagnostics/reportexport.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QTest>

using namespace Diagnostics;

namespace {

constexpr int ProcessTimeoutMs = 30000;

struct Checked
{
    bool ran = false;
    QString failure; // why the checker could not be run or its output not read
    QJsonObject result;

    [[nodiscard]] QStringList errors() const
    {
        QStringList out;
        for (const QJsonValue &v : result.value(QStringLiteral("errors")).toArray())
            out.append(v.toString());
        return out;
    }
    [[nodiscard]] QString text() const { return result.value(QStringLiteral("text")).toString(); }
    [[nodiscard]] int tagCount(const QString &tag) const
    {
        return result.value(QStringLiteral("tags")).toObject().value(tag).toInt();
    }
};

// Runs htmlcheck.py on the page (through stdin) and reads its JSON.
Checked checkHtml(const QByteArray &html)
{
    Checked c;
    QProcess p;
    p.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral(REPORTEXPORT_CHECKER), QStringLiteral("-")});
    if (!p.waitForStarted(10000)) {
        c.failure = QStringLiteral("python3 did not start: ") + p.errorString();
        return c;
    }
    p.write(html);
    p.closeWriteChannel();
    if (!p.waitForFinished(ProcessTimeoutMs)) {
        p.kill();
        p.waitForFinished(5000);
        c.failure = QStringLiteral("htmlcheck.py did not finish in time");
        return c;
    }
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(p.readAllStandardOutput(), &error);
    if (p.exitCode() != 0 || !doc.isObject()) {
        c.failure = QStringLiteral("htmlcheck.py failed (exit %1): %2 %3")
                        .arg(p.exitCode())
                        .arg(error.errorString(), QString::fromUtf8(p.readAllStandardError()));
        return c;
    }
    c.ran = true;
    c.result = doc.object();
    return c;
}

#define CHECK_HTML(var, html)                                                                                          \
    const Checked var = checkHtml(html);                                                                               \
    QVERIFY2(var.ran, qPrintable(var.failure))

// The arguments a POSIX shell passes for one command line: the command's name is
// defined as a shell function that prints its arguments NUL-separated.
QStringList shellArguments(const QString &line, bool *ok)
{
    QProcess p;
    const QString script = QStringLiteral("smtpscope() { printf '%s\\0' smtpscope \"$@\"; }\n"
                                          "swaks() { printf '%s\\0' swaks \"$@\"; }\n")
                           + line + u'\n';
    p.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), script});
    *ok = p.waitForStarted(10000) && p.waitForFinished(ProcessTimeoutMs) && p.exitStatus() == QProcess::NormalExit
          && p.exitCode() == 0;
    QByteArray out = p.readAllStandardOutput();
    if (out.endsWith('\0'))
        out.chop(1);
    QStringList args;
    for (const QByteArray &a : out.split('\0'))
        args.append(QString::fromUtf8(a));
    return args;
}

// The value that follows `option` in argv ({} when absent).
std::optional<QString> valueOf(const QStringList &args, const QString &option)
{
    const qsizetype i = args.indexOf(option);
    if (i < 0 || i + 1 >= args.size())
        return std::nullopt;
    return args.at(i + 1);
}

QString sha256Colons(const QSslCertificate &cert)
{
    const QByteArray hex = cert.digest(QCryptographicHash::Sha256).toHex().toUpper();
    QStringList pairs;
    for (qsizetype i = 0; i < hex.size(); i += 2)
        pairs.append(QString::fromLatin1(hex.mid(i, 2)));
    return pairs.join(u':');
}

Check makeCheck(const QString &scope, const QString &id, const QString &title, Verdict v, qint64 startUs,
                qint64 durationUs, const QString &summary, const QString &fix = {})
{
    Check c;
    c.scope = scope;
    c.id = id;
    c.title = title;
    c.verdict = v;
    c.startUs = startUs;
    c.durationUs = durationUs;
    c.summary = summary;
    c.fix = fix;
    return c;
}

QVariantMap baseOptions()
{
    // The keys of CheckOptions::toVariantMap() (servercheck.h).
    return QVariantMap{{QStringLiteral("ehlo_name"), QStringLiteral("client.example.test")},
                       {QStringLiteral("ca_file"), QString()},
                       {QStringLiteral("insecure"), false},
                       {QStringLiteral("user"), QString()},
                       {QStringLiteral("mechanism"), QString()},
                       {QStringLiteral("has_password"), false},
                       {QStringLiteral("has_oauth_token"), false},
                       {QStringLiteral("allow_plaintext_auth"), false},
                       {QStringLiteral("connect_timeout_ms"), 10000},
                       {QStringLiteral("read_timeout_ms"), 15000},
                       {QStringLiteral("scan_tls_versions"), true},
                       {QStringLiteral("try_each_mechanism"), true},
                       {QStringLiteral("exercise_extensions"), true},
                       {QStringLiteral("relay_check"), false},
                       {QStringLiteral("relay_from"), QStringLiteral("relay-check@example.com")},
                       {QStringLiteral("relay_to"), QStringLiteral("relay-check@example.net")},
                       {QStringLiteral("mail_from"), QString()}};
}

Endpoint endpoint(const QString &host, quint16 port, bool reachable)
{
    Endpoint e;
    e.host = host;
    e.port = port;
    e.role = Endpoint::roleForPort(port);
    e.source = QStringLiteral("given");
    e.reachable = reachable;
    e.address = reachable ? host : QString();
    return e;
}

} // namespace

class TestReportExport : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();

    void jsonHasEveryDocumentedKey();
    void jsonReadsBackTheReport();

    void checkerCatchesBadPages_data();
    void checkerCatchesBadPages();
    void htmlIsSelfContainedAndComplete();
    void htmlEscapesHostileText_data();
    void htmlEscapesHostileText();
    void htmlCapabilitiesSideBySide();
    void htmlDomainRecordsOfAnyShape();
    void htmlStatesInsecureAndCancelled();

    void waterfallOrderAndLabels();
    void waterfallSvgScale();

    void commandLinesQuoting_data();
    void commandLinesQuoting();
    void commandLinesTlsModes_data();
    void commandLinesTlsModes();
    void commandLinesSecretsAndMechanisms_data();
    void commandLinesSecretsAndMechanisms();

private:
    [[nodiscard]] Report sampleReport() const;

    QTemporaryDir m_dir;
    QSslCertificate m_leaf;
    QSslCertificate m_ca;
    QSslCertificate m_expired;
};

void TestReportExport::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QProcess p;
    p.start(QStringLiteral(SMTPSCOPE_SOURCE_DIR "/tests/servers/make-certs"), {m_dir.path()});
    QVERIFY(p.waitForStarted(10000));
    QVERIFY2(p.waitForFinished(60000) && p.exitCode() == 0, p.readAllStandardError().constData());
    const auto load = [this](const QString &name) {
        const QList<QSslCertificate> certs = QSslCertificate::fromPath(m_dir.filePath(name));
        return certs.isEmpty() ? QSslCertificate() : certs.first();
    };
    m_leaf = load(QStringLiteral("smtp.test.pem"));
    m_ca = load(QStringLiteral("ca.pem"));
    m_expired = load(QStringLiteral("expired.pem"));
    QVERIFY(!m_leaf.isNull() && !m_ca.isNull() && !m_expired.isNull());
}

// A report with the shapes a real diagnosis produces: a STARTTLS submission port,
// an implicit-TLS port with an expired certificate, a closed relay port, DNS facts.
Report TestReportExport::sampleReport() const
{
    Report r;
    r.subject = QStringLiteral("smtp.test");
    r.started = QDateTime(QDate(2026, 11, 26), QTime(10, 30, 5), Qt::UTC);
    r.durationUs = 2'346'000;
    r.options = baseOptions();
    r.options.insert(QStringLiteral("user"), QStringLiteral("tester"));
    r.options.insert(QStringLiteral("has_password"), true);

    Endpoint sub = endpoint(QStringLiteral("127.0.0.1"), 587, true);
    sub.greeting = QStringLiteral("220 smtp.test ESMTP Postfix");
    sub.greetingName = QStringLiteral("smtp.test");
    sub.ehloName = QStringLiteral("smtp.test");
    sub.capabilitiesBeforeTls = {QStringLiteral("PIPELINING"), QStringLiteral("SIZE 10240000"),
                                 QStringLiteral("STARTTLS"), QStringLiteral("8BITMIME")};
    sub.capabilitiesAfterTls = {QStringLiteral("PIPELINING"), QStringLiteral("SIZE 52428800"),
                                QStringLiteral("AUTH PLAIN LOGIN"), QStringLiteral("8BITMIME")};
    sub.tls.encrypted = true;
    sub.tls.protocol = QStringLiteral("TLSv1.3");
    sub.tls.cipher = QStringLiteral("TLS_AES_256_GCM_SHA384");
    sub.tls.cipherBits = 256;
    sub.tls.peerVerifyName = QStringLiteral("smtp.test");
    sub.tls.verified = true;
    sub.tls.chain = {m_leaf, m_ca};
    sub.tlsVersionsAccepted = {QStringLiteral("TLSv1.2"), QStringLiteral("TLSv1.3")};
    sub.tlsVersionsRefused = {QStringLiteral("TLSv1.1")};
    sub.tlsVersionsUntestable = {QStringLiteral("TLSv1.0")};
    sub.transcript = {{0, TranscriptEntry::Direction::Server, false, QStringLiteral("220 smtp.test ESMTP Postfix")},
                      {1200, TranscriptEntry::Direction::Client, false, QStringLiteral("EHLO client.example.test")},
                      {5400, TranscriptEntry::Direction::Client, true, QStringLiteral("AUTH PLAIN (redacted)")}};

    Endpoint smtps = endpoint(QStringLiteral("127.0.0.1"), 465, true);
    smtps.implicitTlsSpoken = true;
    smtps.capabilitiesAfterTls = {QStringLiteral("AUTH PLAIN")};
    smtps.tls.encrypted = true;
    smtps.tls.implicit = true;
    smtps.tls.protocol = QStringLiteral("TLSv1.3");
    smtps.tls.peerVerifyName = QStringLiteral("smtp.test");
    smtps.tls.chain = {m_expired};
    smtps.tls.errors = {{QStringLiteral("CertificateExpired"), QStringLiteral("the certificate expired on 2020-01-31"),
                         QStringLiteral("CN=smtp.test")}};

    Endpoint relay = endpoint(QStringLiteral("127.0.0.1"), 25, false);
    r.endpoints = {sub, smtps, relay};

    const QString s = sub.target();
    const QString i = smtps.target();
    r.checks = {
        makeCheck(QStringLiteral("smtp.test"), QStringLiteral("dns-mx"), QStringLiteral("MX records"), Verdict::Pass,
                  0, 4000, QStringLiteral("One MX: 10 smtp.test.")),
        makeCheck(relay.target(), QStringLiteral("tcp"), QStringLiteral("TCP connect"), Verdict::Info, 5000, 300,
                  QStringLiteral("Port 25 refused the connection.")),
        makeCheck(s, QStringLiteral("tcp"), QStringLiteral("TCP connect"), Verdict::Pass, 5000, 800,
                  QStringLiteral("Connected in 0.8 ms.")),
        makeCheck(s, QStringLiteral("auth-before-tls"), QStringLiteral("AUTH before TLS"), Verdict::Pass, 0, 0,
                  QStringLiteral("AUTH is offered only inside TLS.")),
        makeCheck(s, QStringLiteral("certificate-chain"), QStringLiteral("Certificate chain"), Verdict::Pass, 9000,
                  12000, QStringLiteral("The chain verifies against the given CA.")),
        makeCheck(i, QStringLiteral("certificate-expiry"), QStringLiteral("Certificate expiry"), Verdict::Fail, 30000,
                  0, QStringLiteral("The certificate for smtp.test expired on 2020-01-31."),
                  QStringLiteral("Renew the certificate and reload the server.")),
        makeCheck(i, QStringLiteral("quit"), QStringLiteral("QUIT"), Verdict::Warn, 31000, 1500,
                  QStringLiteral("The server closed the connection instead of answering QUIT."),
                  QStringLiteral("Let the server answer 221 before closing (RFC 5321 4.1.1.10).")),
        makeCheck(i, QStringLiteral("auth:XOAUTH2"), QStringLiteral("AUTH XOAUTH2"), Verdict::Skipped, 32000, 0,
                  QStringLiteral("No bearer token was given.")),
    };
    r.checks[4].detail = QStringLiteral("depth 0: CN=smtp.test\ndepth 1: CN=SMTP Scope Test CA");
    r.checks[4].data = QVariantMap{{QStringLiteral("depth"), 2}};
    r.domain = QVariantMap{
        {QStringLiteral("mx"), QVariantList{QVariantMap{{QStringLiteral("preference"), 10},
                                                        {QStringLiteral("exchange"), QStringLiteral("smtp.test")},
                                                        {QStringLiteral("addresses"),
                                                         QStringList{QStringLiteral("127.0.0.1")}}}}},
        {QStringLiteral("spf"), QVariantMap{{QStringLiteral("record"), QStringLiteral("v=spf1 mx -all")}}},
        {QStringLiteral("dmarc"), QStringLiteral("v=DMARC1; p=reject; rua=mailto:dmarc@smtp.test")},
        {QStringLiteral("mta_sts"), QVariantMap{}},
        {QStringLiteral("srv"), QVariantList{}},
    };
    r.commandLines = commandLines(r, m_dir.filePath(QStringLiteral("ca.pem")));
    return r;
}

// ------------------------------------------------------------------------- JSON

void TestReportExport::jsonHasEveryDocumentedKey()
{
    const Report r = sampleReport();
    const QByteArray json = toJson(r);
    QVERIFY2(json.contains("\n    \""), "the JSON is not indented");
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
    QVERIFY(doc.isObject());
    const QJsonObject o = doc.object();

    // diagnosticreport.h, Report::toVariantMap().
    const QStringList keys{"subject", "started", "duration_ms", "cancelled", "overall", "counts",
                           "options", "endpoints", "checks",    "domain",    "command_lines"};
    for (const QString &k : keys)
        QVERIFY2(o.contains(k), qPrintable(k + QStringLiteral(" is missing")));
    QCOMPARE(o.value("subject").toString(), QStringLiteral("smtp.test"));
    QCOMPARE(o.value("started").toString(), QStringLiteral("2026-11-26T10:30:05.000Z"));
    QCOMPARE(o.value("duration_ms").toDouble(), 2346.0);
    QCOMPARE(o.value("cancelled").toBool(true), false);
    QCOMPARE(o.value("overall").toString(), QStringLiteral("fail"));
    const QJsonObject counts = o.value("counts").toObject();
    QCOMPARE(counts.value("pass").toInt(), 4);
    QCOMPARE(counts.value("info").toInt(), 1);
    QCOMPARE(counts.value("warn").toInt(), 1);
    QCOMPARE(counts.value("fail").toInt(), 1);
    QCOMPARE(counts.value("skipped").toInt(), 1);

    const QJsonArray checks = o.value("checks").toArray();
    QCOMPARE(checks.size(), r.checks.size());
    for (qsizetype n = 0; n < checks.size(); ++n) {
        const QJsonObject c = checks.at(n).toObject();
        for (const char *k : {"id", "scope", "title", "verdict", "summary", "fix", "detail", "start_ms",
                                 "duration_ms", "data"})
            QVERIFY2(c.contains(k), qPrintable(QStringLiteral("checks[%1].%2 is missing").arg(n).arg(k)));
        QCOMPARE(c.value("id").toString(), r.checks.at(n).id);
        QCOMPARE(c.value("verdict").toString(), verdictName(r.checks.at(n).verdict));
        QCOMPARE(c.value("start_ms").toDouble(), double(r.checks.at(n).startUs) / 1000.0);
    }
    QCOMPARE(checks.at(4).toObject().value("data").toObject().value("depth").toInt(), 2);

    const QJsonArray endpoints = o.value("endpoints").toArray();
    QCOMPARE(endpoints.size(), 3);
    const QJsonObject sub = endpoints.at(0).toObject();
    for (const char *k : {"target", "host", "port", "role", "source", "addresses", "reachable", "address",
                             "greeting", "greeting_name", "ehlo_name", "ptr_name", "capabilities_before_tls",
                             "capabilities_after_tls", "implicit_tls_spoken", "tls_versions_accepted",
                             "tls_versions_refused", "tls_versions_untestable", "transcript", "tls"})
        QVERIFY2(sub.contains(k), qPrintable(QStringLiteral("endpoints[0].%1 is missing").arg(k)));
    QCOMPARE(sub.value("target").toString(), QStringLiteral("127.0.0.1:587"));
    QCOMPARE(sub.value("role").toString(), QStringLiteral("submission"));
    // The fingerprint in the JSON is the certificate's, computed here independently.
    const QJsonArray chain = sub.value("tls").toObject().value("chain").toArray();
    QCOMPARE(chain.size(), 2);
    QCOMPARE(chain.at(0).toObject().value("sha256").toString(), sha256Colons(m_leaf));
    QCOMPARE(chain.at(1).toObject().value("sha256").toString(), sha256Colons(m_ca));
    QVERIFY(chain.at(0).toObject().value("sans").toArray().contains(QJsonValue(QStringLiteral("DNS:smtp.test"))));
    // No TLS facts for the endpoint that was never reached.
    QVERIFY(!endpoints.at(2).toObject().contains("tls"));
    const QJsonArray transcript = sub.value("transcript").toArray();
    QCOMPARE(transcript.size(), 3);
    QCOMPARE(transcript.at(2).toObject().value("tls").toBool(), true);

    QCOMPARE(o.value("domain").toObject().value("mx").toArray().at(0).toObject().value("exchange").toString(),
             QStringLiteral("smtp.test"));
    QCOMPARE(o.value("command_lines").toArray().size(), r.commandLines.size());
    QVERIFY(!r.commandLines.isEmpty());
}

void TestReportExport::jsonReadsBackTheReport()
{
    // Hostile and non-ASCII text survives the round trip byte for byte.
    Report r = sampleReport();
    r.subject = QStringLiteral("mail.exämple.test \"quoted\" \\ back\nslash \x01");
    r.checks[0].summary = QStringLiteral("</script><script>alert(1)</script> ✓");
    const QJsonDocument doc = QJsonDocument::fromJson(toJson(r));
    QVERIFY(doc.isObject());
    QCOMPARE(doc.object().value("subject").toString(), r.subject);
    QCOMPARE(doc.object().value("checks").toArray().at(0).toObject().value("summary").toString(), r.checks[0].summary);
    QCOMPARE(doc.object(), QJsonObject::fromVariantMap(r.toVariantMap()));
}

// ------------------------------------------------------------------------- HTML

void TestReportExport::checkerCatchesBadPages_data()
{
    QTest::addColumn<QByteArray>("html");
    QTest::addColumn<QString>("error");
    const QByteArray head = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>t</title></head><body>";
    const QByteArray tail = "</body></html>";
    QTest::addRow("script") << head + "<script>x()</script>" + tail << "forbidden element <script>";
    QTest::addRow("img-http") << head + "<img src=\"http://evil.example/a.png\">" + tail << "external reference";
    QTest::addRow("a-protocol-relative") << head + "<a href=\"//evil.example/\">x</a>" + tail << "external reference";
    QTest::addRow("css-import") << QByteArray(head).replace("</head>", "<style>@import 'x.css';</style></head>") + tail
                                << "in <style>";
    QTest::addRow("css-url-attr") << head + "<div style=\"background:url(https://e.example/x)\">x</div>" + tail
                                  << "style attribute";
    QTest::addRow("handler") << head + "<div onclick=\"x()\">x</div>" + tail << "event handler";
    QTest::addRow("unclosed") << head + "<table><tr><td>x</td></tr>" + tail << "does not close";
    QTest::addRow("no-charset") << QByteArray("<!DOCTYPE html><html><head></head><body></body></html>") << "charset";
    QTest::addRow("web-font") << QByteArray(head).replace("</head>", "<style>@font-face{font-family:x}</style></head>")
                                     + tail
                              << "web font";
}

// The checker is itself tested: a page with each fault must be refused.
void TestReportExport::checkerCatchesBadPages()
{
    QFETCH(QByteArray, html);
    QFETCH(QString, error);
    CHECK_HTML(c, html);
    const QStringList errors = c.errors();
    QVERIFY2(std::any_of(errors.cbegin(), errors.cend(), [&](const QString &e) { return e.contains(error); }),
             qPrintable(errors.join(u'\n')));
}

void TestReportExport::htmlIsSelfContainedAndComplete()
{
    const Report r = sampleReport();
    const QByteArray html = toHtml(r);
    CHECK_HTML(c, html);
    QVERIFY2(c.errors().isEmpty(), qPrintable(c.errors().join(u'\n')));
    QCOMPARE(c.tagCount(QStringLiteral("script")), 0);
    QCOMPARE(c.tagCount(QStringLiteral("svg")), 1);

    const QString style = c.result.value("style").toString();
    QVERIFY(style.contains(QStringLiteral("prefers-color-scheme: dark")));
    QVERIFY(style.contains(QStringLiteral("@media print")));

    const QString text = c.text();
    for (const Check &k : r.checks) {
        QVERIFY2(text.contains(k.title), qPrintable(k.title));
        QVERIFY2(text.contains(k.summary), qPrintable(k.summary));
        if (!k.fix.isEmpty())
            QVERIFY2(text.contains(k.fix), qPrintable(k.fix));
    }
    QVERIFY(text.contains(r.checks[4].detail));
    // Header: subject, date, duration, overall verdict with counts (as words).
    QVERIFY(text.contains(QStringLiteral("SMTP Scope diagnosis: smtp.test")));
    QVERIFY(text.contains(QStringLiteral("2026-11-26 10:30:05 UTC")));
    QVERIFY(text.contains(QStringLiteral("2.35 s")));
    QVERIFY(text.contains(QStringLiteral("Overall: FAIL")));
    QVERIFY(text.contains(QStringLiteral("1 fail · 1 warn · 4 pass · 1 info · 1 skipped")));

    // Problems to fix: every fail, then every warn, and nothing else.
    QJsonArray problems = c.result.value("problems").toArray();
    QCOMPARE(problems.size(), 2);
    QVERIFY2(problems.at(0).toString().startsWith(QStringLiteral("FAIL Certificate expiry 127.0.0.1:465")),
             qPrintable(problems.at(0).toString()));
    QVERIFY(problems.at(0).toString().contains(QStringLiteral("Fix: Renew the certificate")));
    QVERIFY2(problems.at(1).toString().startsWith(QStringLiteral("WARN QUIT")), qPrintable(problems.at(1).toString()));
    const QStringList ids = [&] {
        QStringList out;
        for (const QJsonValue &v : c.result.value("ids").toArray())
            out.append(v.toString());
        return out;
    }();
    QVERIFY(ids.indexOf(QStringLiteral("problems")) < ids.indexOf(QStringLiteral("checklist")));
    for (const char *section : {"waterfall", "domain", "commands"})
        QVERIFY2(ids.contains(section), qPrintable(section));

    // TLS facts and the real certificates.
    QVERIFY(text.contains(QStringLiteral("TLS_AES_256_GCM_SHA384 (256 bits)")));
    QVERIFY(text.contains(sha256Colons(m_leaf)));
    QVERIFY(text.contains(sha256Colons(m_expired)));
    QVERIFY(text.contains(QStringLiteral("DNS:smtp.test, DNS:localhost, IP:127.0.0.1")));
    QVERIFY(text.contains(QStringLiteral("the certificate expired on 2020-01-31")));
    QVERIFY(text.contains(QStringLiteral("TLSv1.2, TLSv1.3")));
    QVERIFY(text.contains(QStringLiteral("(self-signed)"))); // the CA in the chain
    // Transcript lines, with the TLS mark.
    QVERIFY(text.contains(QStringLiteral("C: AUTH PLAIN (redacted)  [tls]")));
    // The command lines as given, each in its own <pre>.
    QJsonArray pre = c.result.value("pre").toArray();
    QCOMPARE(pre.size(), r.commandLines.size());
    for (qsizetype n = 0; n < pre.size(); ++n)
        QCOMPARE(pre.at(n).toString(), r.commandLines.at(n));
}

void TestReportExport::htmlEscapesHostileText_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("payload");
    const QStringList payloads{
        QStringLiteral("<script>alert(1)</script>"),
        QStringLiteral("<img src=\"http://evil.example/x.png\" onerror=\"alert(1)\">"),
        QStringLiteral("\"><a href='//evil.example/'>click</a>"),
        QStringLiteral("</style><link rel=stylesheet href=https://evil.example/a.css>"),
        QStringLiteral("</pre></details></table><iframe src=//evil.example></iframe>"),
        QStringLiteral("&lt;not decoded twice&gt; &amp;amp;"),
        QStringLiteral("]]><svg><use href=\"https://evil.example/s.svg#a\"/></svg>"),
    };
    const QStringList fields{"subject", "greeting", "title", "summary", "fix", "detail", "transcript",
                             "capability", "domain", "option", "tls-error", "scope"};
    for (const QString &f : fields) {
        for (qsizetype i = 0; i < payloads.size(); ++i)
            QTest::addRow("%s-%lld", qPrintable(f), qlonglong(i)) << f << payloads.at(i);
    }
}

void TestReportExport::htmlEscapesHostileText()
{
    QFETCH(QString, field);
    QFETCH(QString, payload);
    Report r = sampleReport();
    Endpoint &e = r.endpoints[0];
    if (field == u"subject")
        r.subject = payload;
    else if (field == u"greeting")
        e.greeting = QStringLiteral("220 ") + payload;
    else if (field == u"title")
        r.checks[5].title = payload;
    else if (field == u"summary")
        r.checks[5].summary = payload;
    else if (field == u"fix")
        r.checks[5].fix = payload;
    else if (field == u"detail")
        r.checks[4].detail = payload;
    else if (field == u"transcript")
        e.transcript.append({9000, TranscriptEntry::Direction::Server, false, payload});
    else if (field == u"capability")
        e.capabilitiesAfterTls.append(QStringLiteral("X-") + payload);
    else if (field == u"domain")
        r.domain.insert(QStringLiteral("spf"), QVariantList{payload, QVariantMap{{payload, payload}}});
    else if (field == u"option")
        r.options.insert(QStringLiteral("user"), payload);
    else if (field == u"tls-error")
        e.tls.errors.append({QStringLiteral("HostNameMismatch"), payload, payload});
    else if (field == u"scope")
        r.checks[1].scope = payload;
    else
        QFAIL("unknown field");
    r.commandLines = commandLines(r);

    const QByteArray html = toHtml(r);
    CHECK_HTML(c, html);
    QVERIFY2(c.errors().isEmpty(), qPrintable(c.errors().join(u'\n')));
    // Shown as text, exactly as received.
    QVERIFY2(c.text().contains(payload), qPrintable(payload));
    for (const char *tag : {"script", "img", "a", "link", "iframe", "use"})
        QVERIFY2(c.tagCount(tag) == 0, qPrintable(tag));
    QCOMPARE(c.tagCount(QStringLiteral("svg")), 1);
    QCOMPARE(c.tagCount(QStringLiteral("style")), 1);
}

void TestReportExport::htmlCapabilitiesSideBySide()
{
    const Report r = sampleReport();
    CHECK_HTML(c, toHtml(r));
    // Rows of the first endpoint's table (the header row has no class and th cells).
    QMap<QString, QString> classOf;
    for (const QJsonValue &v : c.result.value("caps").toArray()) {
        const QJsonObject row = v.toObject();
        const QJsonArray cells = row.value("cells").toArray();
        if (cells.size() != 3 || cells.at(0).toString() == u"Before TLS")
            continue;
        const QString key = (cells.at(0).toString().isEmpty() ? cells.at(1) : cells.at(0)).toString();
        if (!classOf.contains(key))
            classOf.insert(key, row.value("class").toString() + u'|' + cells.at(2).toString());
    }
    QCOMPARE(classOf.value(QStringLiteral("PIPELINING")), QStringLiteral("|same"));
    QCOMPARE(classOf.value(QStringLiteral("SIZE 10240000")), QStringLiteral("diff-changed|changed"));
    QCOMPARE(classOf.value(QStringLiteral("STARTTLS")), QStringLiteral("diff-removed|removed after TLS"));
    QCOMPARE(classOf.value(QStringLiteral("AUTH PLAIN LOGIN")), QStringLiteral("diff-added|added after TLS"));
}

void TestReportExport::htmlDomainRecordsOfAnyShape()
{
    Report r = sampleReport();
    // Nested deeper than the renderer goes, JSON values, numbers, booleans, nulls.
    QVariant deep = QStringLiteral("bottom-of-the-well");
    for (int i = 0; i < 20; ++i)
        deep = QVariantList{deep};
    r.domain.insert(QStringLiteral("deep"), deep);
    r.domain.insert(QStringLiteral("json"), QVariant::fromValue(QJsonObject{{"mode", "enforce"}, {"max_age", 86400}}));
    r.domain.insert(QStringLiteral("mta_sts"),
                    QVariantMap{{QStringLiteral("txt"), QStringLiteral("v=STSv1; id=2026")},
                                {QStringLiteral("policy"), QVariantMap{{QStringLiteral("mx"),
                                                                        QStringList{QStringLiteral("*.smtp.test")}}}},
                                {QStringLiteral("ok"), true},
                                {QStringLiteral("none"), QVariant()}});
    CHECK_HTML(c, toHtml(r));
    QVERIFY2(c.errors().isEmpty(), qPrintable(c.errors().join(u'\n')));
    const QString text = c.text();
    for (const char *s : {"MTA-STS", "v=STSv1; id=2026", "*.smtp.test", "enforce", "86400", "v=spf1 mx -all",
                             "v=DMARC1; p=reject; rua=mailto:dmarc@smtp.test", "nested too deep"})
        QVERIFY2(text.contains(s), qPrintable(s));
    QVERIFY(!text.contains(QStringLiteral("bottom-of-the-well")));
    // The documented keys come in their order, before anything else.
    const qsizetype mx = text.indexOf(QStringLiteral("MX"), text.indexOf(QStringLiteral("Domain records")));
    QVERIFY(mx > 0);
    QVERIFY(mx < text.indexOf(QStringLiteral("SPF"), mx));
    QVERIFY(text.indexOf(QStringLiteral("MTA-STS")) < text.indexOf(QStringLiteral("deep"), text.indexOf(QStringLiteral("MTA-STS"))));
}

void TestReportExport::htmlStatesInsecureAndCancelled()
{
    Report r = sampleReport();
    CHECK_HTML(before, toHtml(r));
    QVERIFY(!before.text().contains(QStringLiteral("Certificate verification was turned off")));
    QVERIFY(!before.text().contains(QStringLiteral("Cancelled:")));
    r.options.insert(QStringLiteral("insecure"), true);
    r.cancelled = true;
    CHECK_HTML(after, toHtml(r));
    QVERIFY(after.text().contains(QStringLiteral("Certificate verification was turned off")));
    QVERIFY(after.text().contains(QStringLiteral("Cancelled:")));
}

// -------------------------------------------------------------------- waterfall

void TestReportExport::waterfallOrderAndLabels()
{
    Report r;
    r.checks = {
        makeCheck(QStringLiteral("[::1]:587"), QStringLiteral("greeting"), QStringLiteral("G"), Verdict::Pass, 3000,
                  1000, {}),
        makeCheck(QStringLiteral("[::1]:587"), QStringLiteral("tcp"), QStringLiteral("T"), Verdict::Pass, 1000, 2000,
                  {}),
        makeCheck(QStringLiteral("[::1]:587"), QStringLiteral("auth-before-tls"), QStringLiteral("A"), Verdict::Fail,
                  500, 0, {}), // derived: no bar
        makeCheck(QStringLiteral("example.org"), QStringLiteral("dns-mx"), QStringLiteral("M"), Verdict::Warn, 0, 900,
                  {}),
        makeCheck(QStringLiteral("mail.example.org:25"), QStringLiteral("tcp"), QStringLiteral("T"), Verdict::Fail,
                  1000, 5000, {}),
        makeCheck(QStringLiteral("::1"), QStringLiteral("dns-ptr"), QStringLiteral("P"), Verdict::Info, 8000, 10, {}),
    };
    const QList<WaterfallBar> bars = waterfall(r);
    QStringList labels;
    for (const WaterfallBar &b : bars)
        labels.append(b.label);
    // Start order; ties keep the order they were reported in.
    QCOMPARE(labels, (QStringList{"dns-mx", "587 tcp", "25 tcp", "587 greeting", "dns-ptr"}));
    QCOMPARE(bars.at(2).scope, QStringLiteral("mail.example.org:25"));
    QCOMPARE(bars.at(2).startUs, 1000);
    QCOMPARE(bars.at(2).durationUs, 5000);
    QCOMPARE(bars.at(2).verdict, Verdict::Fail);
    QCOMPARE(bars.at(0).verdict, Verdict::Warn);
}

void TestReportExport::waterfallSvgScale()
{
    const Report r = sampleReport();
    const QList<WaterfallBar> expected = waterfall(r);
    CHECK_HTML(c, toHtml(r));
    const QJsonArray bars = c.result.value("bars").toArray();
    QCOMPARE(bars.size(), expected.size());
    QVERIFY(bars.size() >= 4);
    // One linear scale: x = x0 + start * k, width = duration * k (at least 1 px).
    const QJsonObject first = bars.at(0).toObject();
    QCOMPARE(first.value("start_us").toInteger(), 0);
    const double x0 = first.value("x").toDouble();
    qint64 longest = 0;
    double longestWidth = 0;
    for (const QJsonValue &v : bars) {
        const QJsonObject b = v.toObject();
        if (b.value("start_us").toInteger() + b.value("duration_us").toInteger() > longest) {
            longest = b.value("start_us").toInteger() + b.value("duration_us").toInteger();
            longestWidth = b.value("x").toDouble() + b.value("width").toDouble() - x0;
        }
    }
    const double k = longestWidth / double(longest);
    QVERIFY(k > 0);
    for (qsizetype n = 0; n < bars.size(); ++n) {
        const QJsonObject b = bars.at(n).toObject();
        QCOMPARE(b.value("start_us").toInteger(), expected.at(n).startUs);
        QCOMPARE(b.value("duration_us").toInteger(), expected.at(n).durationUs);
        QVERIFY(b.value("class").toString().contains(QStringLiteral("v-") + verdictName(expected.at(n).verdict)));
        QVERIFY2(qAbs(b.value("x").toDouble() - (x0 + double(expected.at(n).startUs) * k)) < 0.05,
                 qPrintable(QString::number(n)));
        const double w = std::max(1.0, double(expected.at(n).durationUs) * k);
        QVERIFY2(qAbs(b.value("width").toDouble() - w) < 0.05, qPrintable(QString::number(n)));
    }
    // The bars' labels and the axis are in the text.
    QVERIFY(c.text().contains(QStringLiteral("587 certificate-chain")));
    QVERIFY(c.text().contains(QStringLiteral("0 ms")));
}

// ---------------------------------------------------------------- command lines

void TestReportExport::commandLinesQuoting_data()
{
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("caFile");
    QTest::addColumn<QString>("tlsName");
    QTest::addColumn<QString>("ehlo");
    QTest::addColumn<QString>("from");
    QTest::addRow("plain") << "tester" << "/etc/ssl/ca.pem" << "smtp.test" << "client.test" << "a@b.test";
    QTest::addRow("spaces") << "John Smith" << "/tmp/my certs/ca file.pem" << "smtp.test" << "client.test"
                            << "a@b.test";
    QTest::addRow("single-quotes") << "o'brien" << "/tmp/it's/ca.pem" << "smtp.test" << "client.test"
                                   << "o'brien@b.test";
    QTest::addRow("double-quotes") << "say \"hi\"" << "/tmp/\"q\"/ca.pem" << "smtp.test" << "client.test"
                                   << "\"a b\"@b.test";
    QTest::addRow("shell-syntax") << "$(touch /tmp/pwned) `id` ; | & > < * ? [x] ~ # !" << "$HOME/ca.pem"
                                  << "name;reboot" << "c$x.test" << "a&b@c.test";
    QTest::addRow("backslashes-newline") << "a\\b\\'c" << "/tmp/x\ny.pem" << "smtp.test" << "e" << "a@b.test";
    QTest::addRow("utf8") << "jörg" << "/tmp/zertifikat-ä.pem" << "smtp.test" << "client.test" << "jörg@b.test";
    QTest::addRow("leading-dash-tilde") << "-x" << "~/ca.pem" << "smtp.test" << "client.test" << "a@b.test";
}

// Each line, run by /bin/sh, hands the program exactly the intended arguments.
void TestReportExport::commandLinesQuoting()
{
    QFETCH(QString, user);
    QFETCH(QString, caFile);
    QFETCH(QString, tlsName);
    QFETCH(QString, ehlo);
    QFETCH(QString, from);

    Report r;
    r.options = baseOptions();
    r.options.insert(QStringLiteral("user"), user);
    r.options.insert(QStringLiteral("has_password"), true);
    r.options.insert(QStringLiteral("mechanism"), QStringLiteral("plain"));
    r.options.insert(QStringLiteral("ehlo_name"), ehlo);
    r.options.insert(QStringLiteral("mail_from"), from);
    Endpoint e = endpoint(QStringLiteral("127.0.0.1"), 587, true);
    e.capabilitiesBeforeTls = {QStringLiteral("STARTTLS")};
    e.tls.encrypted = true;
    e.tls.peerVerifyName = tlsName;
    r.endpoints = {e};

    const QStringList lines = commandLines(r, caFile);
    QCOMPARE(lines.size(), 2);
    bool ok = false;
    const QStringList s = shellArguments(lines.at(0), &ok);
    QVERIFY2(ok, qPrintable(lines.at(0)));
    QCOMPARE(s, (QStringList{"smtpscope", "send", "--host", "127.0.0.1", "--port", "587", "--tls", "--tls-name",
                             tlsName, "--cafile", caFile, "--ehlo", ehlo, "--user", user, "--password-file",
                             "PASSWORD_FILE", "--auth", "PLAIN", "--from", from, "--to", from, "--subject",
                             "SMTP Scope test"}));
    const QStringList w = shellArguments(lines.at(1), &ok);
    QVERIFY2(ok, qPrintable(lines.at(1)));
    QCOMPARE(w, (QStringList{"swaks", "--server", "127.0.0.1", "--port", "587", "--tls", "--tls-verify",
                             "--tls-ca-path", caFile, "--tls-sni", tlsName, "--ehlo", ehlo, "--auth", "PLAIN",
                             "--auth-user", user, "--from", from, "--to", from, "--header",
                             "Subject: SMTP Scope test"}));
}

void TestReportExport::commandLinesTlsModes_data()
{
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<bool>("implicit");
    QTest::addColumn<QStringList>("before");
    QTest::addColumn<bool>("encrypted");
    QTest::addColumn<bool>("insecure");
    QTest::addColumn<QStringList>("smtpscopeHas");
    QTest::addColumn<QStringList>("smtpscopeLacks");
    QTest::addColumn<QStringList>("swaksHas");
    QTest::addColumn<QStringList>("swaksLacks");
    const QStringList starttls{"PIPELINING", "STARTTLS"};
    QTest::addRow("implicit-465") << "127.0.0.1" << 465 << true << QStringList{} << true << false
                                  << QStringList{"--ssl"} << QStringList{"--tls", "--no-starttls", "--insecure"}
                                  << QStringList{"--tlsc", "--tls-verify"} << QStringList{"--tls"};
    QTest::addRow("starttls-587") << "127.0.0.1" << 587 << false << starttls << true << false << QStringList{"--tls"}
                                  << QStringList{"--ssl", "--no-starttls"} << QStringList{"--tls", "--tls-verify"}
                                  << QStringList{"--tlsc"};
    QTest::addRow("starttls-offered-not-done") << "127.0.0.1" << 25 << false << starttls << false << false
                                               << QStringList{"--tls"} << QStringList{"--ssl"}
                                               << QStringList{"--tls"} << QStringList{"--tlsc"};
    QTest::addRow("no-tls-25") << "127.0.0.1" << 25 << false << QStringList{"PIPELINING"} << false << false
                               << QStringList{"--no-starttls"} << QStringList{"--tls", "--ssl", "--cafile"}
                               << QStringList{} << QStringList{"--tls", "--tlsc", "--tls-verify", "--tls-ca-path"};
    QTest::addRow("insecure") << "127.0.0.1" << 587 << false << starttls << true << true
                              << QStringList{"--tls", "--insecure"} << QStringList{} << QStringList{"--tls"}
                              << QStringList{"--tls-verify"};
    QTest::addRow("ipv6") << "::1" << 587 << false << starttls << true << false
                          << QStringList{"--host", "::1"} << QStringList{} << QStringList{"--server", "[::1]"}
                          << QStringList{};
}

void TestReportExport::commandLinesTlsModes()
{
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(bool, implicit);
    QFETCH(QStringList, before);
    QFETCH(bool, encrypted);
    QFETCH(bool, insecure);
    QFETCH(QStringList, smtpscopeHas);
    QFETCH(QStringList, smtpscopeLacks);
    QFETCH(QStringList, swaksHas);
    QFETCH(QStringList, swaksLacks);

    Report r;
    r.options = baseOptions();
    r.options.insert(QStringLiteral("insecure"), insecure);
    r.options.insert(QStringLiteral("ca_file"), QStringLiteral("/srv/ca.pem"));
    Endpoint e = endpoint(host, quint16(port), true);
    e.implicitTlsSpoken = implicit;
    e.capabilitiesBeforeTls = before;
    e.tls.encrypted = encrypted;
    e.tls.implicit = implicit;
    e.tls.peerVerifyName = host;
    // An endpoint that was not reached has no command.
    r.endpoints = {endpoint(QStringLiteral("127.0.0.1"), 2525, false), e};

    const QStringList lines = commandLines(r);
    QCOMPARE(lines.size(), 2);
    bool ok = false;
    const QStringList s = shellArguments(lines.at(0), &ok);
    QVERIFY(ok);
    const QStringList w = shellArguments(lines.at(1), &ok);
    QVERIFY(ok);
    QCOMPARE(s.mid(0, 2), (QStringList{"smtpscope", "send"}));
    QCOMPARE(w.at(0), QStringLiteral("swaks"));
    QCOMPARE(valueOf(s, QStringLiteral("--port")), QString::number(port));
    QCOMPARE(valueOf(w, QStringLiteral("--port")), QString::number(port));
    for (const QString &a : smtpscopeHas)
        QVERIFY2(s.contains(a), qPrintable(a + QStringLiteral(" not in ") + lines.at(0)));
    for (const QString &a : smtpscopeLacks)
        QVERIFY2(!s.contains(a), qPrintable(a + QStringLiteral(" in ") + lines.at(0)));
    for (const QString &a : swaksHas)
        QVERIFY2(w.contains(a), qPrintable(a + QStringLiteral(" not in ") + lines.at(1)));
    for (const QString &a : swaksLacks)
        QVERIFY2(!w.contains(a), qPrintable(a + QStringLiteral(" in ") + lines.at(1)));
    // The name checked equals the host: no --tls-name / --tls-sni to repeat it.
    QVERIFY(!s.contains(QStringLiteral("--tls-name")));
    QVERIFY(!w.contains(QStringLiteral("--tls-sni")));
}

void TestReportExport::commandLinesSecretsAndMechanisms_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<bool>("hasPassword");
    QTest::addColumn<bool>("hasToken");
    QTest::addColumn<QStringList>("smtpscopeTail"); // the authentication arguments
    QTest::addColumn<QStringList>("swaksAuth");     // {} with swaksLine false: no swaks line
    QTest::addColumn<bool>("swaksLine");
    QTest::addRow("default-mechanism") << "" << true << false
                                       << QStringList{"--user", "me@ex.test", "--password-file", "PASSWORD_FILE"}
                                       << QStringList{"--auth-user", "me@ex.test"} << true;
    QTest::addRow("cram-md5") << "CRAM-MD5" << true << false
                              << QStringList{"--user", "me@ex.test", "--password-file", "PASSWORD_FILE", "--auth",
                                             "CRAM-MD5"}
                              << QStringList{"--auth", "CRAM-MD5", "--auth-user", "me@ex.test"} << true;
    // swaks 20201014 has no SCRAM: it tries what it can with the same password.
    QTest::addRow("scram") << "SCRAM-SHA-256" << true << false
                           << QStringList{"--user", "me@ex.test", "--password-file", "PASSWORD_FILE", "--auth",
                                          "SCRAM-SHA-256"}
                           << QStringList{"--auth-user", "me@ex.test"} << true;
    QTest::addRow("token-only") << "" << false << true
                                << QStringList{"--user", "me@ex.test", "--oauth-token-file", "TOKEN_FILE"}
                                << QStringList{} << false;
    QTest::addRow("xoauth2-with-both") << "XOAUTH2" << true << true
                                       << QStringList{"--user", "me@ex.test", "--oauth-token-file", "TOKEN_FILE",
                                                      "--auth", "XOAUTH2"}
                                       << QStringList{} << false;
}

void TestReportExport::commandLinesSecretsAndMechanisms()
{
    QFETCH(QString, mechanism);
    QFETCH(bool, hasPassword);
    QFETCH(bool, hasToken);
    QFETCH(QStringList, smtpscopeTail);
    QFETCH(QStringList, swaksAuth);
    QFETCH(bool, swaksLine);

    Report r;
    r.options = baseOptions();
    r.options.insert(QStringLiteral("user"), QStringLiteral("me@ex.test"));
    r.options.insert(QStringLiteral("mechanism"), mechanism);
    r.options.insert(QStringLiteral("has_password"), hasPassword);
    r.options.insert(QStringLiteral("has_oauth_token"), hasToken);
    Endpoint e = endpoint(QStringLiteral("smtp.test"), 465, true);
    e.implicitTlsSpoken = true;
    e.tls.encrypted = true;
    e.tls.implicit = true;
    e.tls.peerVerifyName = QStringLiteral("smtp.test");
    r.endpoints = {e};

    const QStringList lines = commandLines(r);
    QCOMPARE(lines.size(), swaksLine ? 2 : 1);
    bool ok = false;
    const QStringList s = shellArguments(lines.at(0), &ok);
    QVERIFY(ok);
    // The user's address is the envelope when no sender was set.
    QCOMPARE(s.mid(s.indexOf(QStringLiteral("--user")), smtpscopeTail.size()), smtpscopeTail);
    QCOMPARE(valueOf(s, QStringLiteral("--from")), QStringLiteral("me@ex.test"));
    QVERIFY(!s.contains(QStringLiteral("--password")));
    if (swaksLine) {
        const QStringList w = shellArguments(lines.at(1), &ok);
        QVERIFY(ok);
        const qsizetype from = w.indexOf(QStringLiteral("--ehlo")) + 2;
        QCOMPARE(w.mid(from, swaksAuth.size()), swaksAuth);
        // Never the password inline: swaks prompts for it.
        QVERIFY(!w.contains(QStringLiteral("--auth-password")) && !w.contains(QStringLiteral("-ap")));
    }
}

QTEST_GUILESS_MAIN(TestReportExport)
#include "tst_reportexport.moc"
