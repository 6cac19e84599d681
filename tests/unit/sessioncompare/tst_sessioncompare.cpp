// Store::compareSessions and Store::exportBundle on records made the way the
// window and the CLI make them (recordFromSend / recordFromReport) from results
// filled as the engine fills them (sessionfixtures.h).

#include "diagnostics/diagnosticreport.h"
#include "sessionfixtures.h"
#include "store/sessioncompare.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QtTest>

using Store::ComparisonRow;
using Store::SessionRecord;

namespace {

// The row of (section, aspect), or nullopt.
std::optional<ComparisonRow> rowOf(const QList<ComparisonRow> &rows, const QString &section, const QString &aspect)
{
    for (const ComparisonRow &r : rows) {
        if (r.section == section && r.aspect == aspect)
            return r;
    }
    return std::nullopt;
}

QString dump(const QList<ComparisonRow> &rows)
{
    QStringList out;
    for (const ComparisonRow &r : rows)
        out.append(QStringLiteral("%1 | %2 | %3 | %4 | %5").arg(r.section, r.aspect, r.left, r.right, r.same ? u"=" : u"!"));
    return out.join(QLatin1Char('\n'));
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

Diagnostics::Check check(const QString &scope, const QString &id, Diagnostics::Verdict verdict, qint64 durationUs = 0)
{
    Diagnostics::Check c;
    c.id = id;
    c.scope = scope;
    c.title = id;
    c.verdict = verdict;
    c.summary = QStringLiteral("%1 was %2").arg(id, Diagnostics::verdictName(verdict));
    c.durationUs = durationUs;
    return c;
}

Diagnostics::Report report(quint16 port, Diagnostics::Verdict expiry, const QStringList &capsAfter,
                           const QList<QSslCertificate> &chain)
{
    using V = Diagnostics::Verdict;
    Diagnostics::Report r;
    r.subject = QStringLiteral("127.0.0.1:%1").arg(port);
    r.started = QDateTime::currentDateTimeUtc();
    r.durationUs = 420000;
    Diagnostics::Endpoint e;
    e.host = QStringLiteral("127.0.0.1");
    e.port = port;
    e.reachable = true;
    e.address = QStringLiteral("127.0.0.1");
    e.greeting = QStringLiteral("smtp.test ESMTP Postfix");
    e.capabilitiesBeforeTls = {QStringLiteral("PIPELINING"), QStringLiteral("STARTTLS")};
    e.capabilitiesAfterTls = capsAfter;
    e.tls.encrypted = true;
    e.tls.protocol = QStringLiteral("TLSv1.3");
    e.tls.cipher = QStringLiteral("TLS_AES_256_GCM_SHA384");
    e.tls.chain = chain;
    e.transcript = {Fixtures::entry(1000, TranscriptEntry::Direction::Server, false, QStringLiteral("220 smtp.test ESMTP Postfix"))};
    r.endpoints = {e};
    const QString scope = e.target();
    r.checks = {check(scope, QStringLiteral("tcp"), V::Pass, 800), check(scope, QStringLiteral("greeting"), V::Pass, 2000),
                check(scope, QStringLiteral("starttls"), V::Pass, 9000),
                check(scope, QStringLiteral("certificate-expiry"), expiry),
                check(QStringLiteral("127.0.0.1"), QStringLiteral("ptr"), V::Info)};
    return r;
}

} // namespace

class TestSessionCompare : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void identicalSessionsAgree();
    void capabilities_data();
    void capabilities();
    void certificateExpiryChanged();
    void timings_data();
    void timings();
    void outcomeAndRecipients();
    void diagnosisVerdicts();
    void diagnosisOnAnotherPortStillPairs();
    void exportWritesFourFiles();
    void exportRedactsSecretsShownInTheSession();
    void exportPlainSessionHasNoChain();
    void exportIntoAFileFails();

private:
    QTemporaryDir m_dir;
    QList<QSslCertificate> m_shortCert; // 20 days
    QList<QSslCertificate> m_longCert;  // 400 days
};

void TestSessionCompare::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QString error;
    m_shortCert = Fixtures::makeCertificate(m_dir.path(), QStringLiteral("smtp.test"), 20, &error);
    QVERIFY2(m_shortCert.size() == 1, qPrintable(error));
    m_longCert = Fixtures::makeCertificate(m_dir.path(), QStringLiteral("smtp.test"), 400, &error);
    QVERIFY2(m_longCert.size() == 1, qPrintable(error));
}

void TestSessionCompare::identicalSessionsAgree()
{
    Fixtures::SendSpec spec;
    spec.chain = m_longCert;
    const SessionRecord a = Store::recordFromSend(Fixtures::send(spec), Store::SessionKind::Send);
    const SessionRecord b = Store::recordFromSend(Fixtures::send(spec), Store::SessionKind::Send);
    const QList<ComparisonRow> rows = Store::compareSessions(a, b);
    QVERIFY2(rows.size() > 20, qPrintable(dump(rows)));
    for (const ComparisonRow &r : rows)
        QVERIFY2(r.same, qPrintable(dump({r})));
    // The facts are there, not only agreeing emptiness.
    QCOMPARE(rowOf(rows, QStringLiteral("Capabilities after TLS"), QStringLiteral("SIZE"))->left,
             QStringLiteral("SIZE 10240000"));
    QCOMPARE(rowOf(rows, QStringLiteral("Outcome"), QStringLiteral("outcome"))->left, QStringLiteral("accepted"));
    QCOMPARE(rowOf(rows, QStringLiteral("TLS"), QStringLiteral("protocol"))->right, QStringLiteral("TLSv1.3"));
    // The EHLO reply row is its first line (the server's name); the capability
    // lines have their own rows.
    QCOMPARE(rowOf(rows, QStringLiteral("Server"), QStringLiteral("EHLO reply"))->left, QStringLiteral("250 smtp.test"));
}

void TestSessionCompare::capabilities_data()
{
    QTest::addColumn<QStringList>("left");
    QTest::addColumn<QStringList>("right");
    QTest::addColumn<QString>("aspect");
    QTest::addColumn<QString>("leftValue");
    QTest::addColumn<QString>("rightValue");
    QTest::addColumn<bool>("same");

    const QStringList base{QStringLiteral("PIPELINING"), QStringLiteral("SIZE 10240000"),
                           QStringLiteral("AUTH PLAIN LOGIN"), QStringLiteral("8BITMIME")};
    QTest::addRow("added") << base << (base + QStringList{QStringLiteral("SMTPUTF8")}) << QStringLiteral("SMTPUTF8")
                           << QString() << QStringLiteral("SMTPUTF8") << false;
    QStringList withoutPipelining = base;
    withoutPipelining.removeAll(QStringLiteral("PIPELINING"));
    QTest::addRow("removed") << base << withoutPipelining << QStringLiteral("PIPELINING") << QStringLiteral("PIPELINING")
                             << QString() << false;
    QStringList bigger = base;
    bigger[1] = QStringLiteral("SIZE 52428800");
    QTest::addRow("parameter changed") << base << bigger << QStringLiteral("SIZE") << QStringLiteral("SIZE 10240000")
                                       << QStringLiteral("SIZE 52428800") << false;
    QTest::addRow("keyword case ignored") << base << QStringList{QStringLiteral("pipelining"), base[1], base[2], base[3]}
                                          << QStringLiteral("PIPELINING") << QStringLiteral("PIPELINING")
                                          << QStringLiteral("pipelining") << true;
    QTest::addRow("unchanged") << base << base << QStringLiteral("8BITMIME") << QStringLiteral("8BITMIME")
                               << QStringLiteral("8BITMIME") << true;
}

void TestSessionCompare::capabilities()
{
    QFETCH(QStringList, left);
    QFETCH(QStringList, right);
    QFETCH(QString, aspect);
    QFETCH(QString, leftValue);
    QFETCH(QString, rightValue);
    QFETCH(bool, same);

    Fixtures::SendSpec a;
    a.chain = m_longCert;
    a.capabilitiesAfterTls = left;
    Fixtures::SendSpec b = a;
    b.capabilitiesAfterTls = right;
    const QList<ComparisonRow> rows =
        Store::compareSessions(Store::recordFromSend(Fixtures::send(a), Store::SessionKind::Send),
                               Store::recordFromSend(Fixtures::send(b), Store::SessionKind::Send));
    const auto row = rowOf(rows, QStringLiteral("Capabilities after TLS"), aspect);
    QVERIFY2(row, qPrintable(dump(rows)));
    QCOMPARE(row->left, leftValue);
    QCOMPARE(row->right, rightValue);
    QCOMPARE(row->same, same);
    // The plain EHLO did not change: its rows all agree.
    for (const ComparisonRow &r : rows) {
        if (r.section == u"Capabilities before TLS")
            QVERIFY2(r.same, qPrintable(dump({r})));
    }
}

void TestSessionCompare::certificateExpiryChanged()
{
    Fixtures::SendSpec a;
    a.chain = m_shortCert;
    Fixtures::SendSpec b = a;
    b.chain = m_longCert;
    const SessionRecord left = Store::recordFromSend(Fixtures::send(a), Store::SessionKind::Probe);
    const SessionRecord right = Store::recordFromSend(Fixtures::send(b), Store::SessionKind::Probe);
    const QList<ComparisonRow> rows = Store::compareSessions(left, right);

    const auto expiry = rowOf(rows, QStringLiteral("Certificate"), QStringLiteral("leaf expiry"));
    QVERIFY2(expiry, qPrintable(dump(rows)));
    QVERIFY(!expiry->same);
    QCOMPARE(expiry->left, m_shortCert.first().expiryDate().toUTC().toString(Qt::ISODate));
    QCOMPARE(expiry->right, m_longCert.first().expiryDate().toUTC().toString(Qt::ISODate));
    const auto sha = rowOf(rows, QStringLiteral("Certificate"), QStringLiteral("leaf SHA-256"));
    QVERIFY(sha && !sha->same);
    QCOMPARE(sha->left, QString::fromLatin1(m_shortCert.first().digest(QCryptographicHash::Sha256).toHex(':').toUpper()));
    // Same name, same issuer (both self-signed for smtp.test): not a difference.
    const auto subject = rowOf(rows, QStringLiteral("Certificate"), QStringLiteral("leaf subject"));
    QVERIFY(subject && subject->same);
    QVERIFY(subject->left.contains(QStringLiteral("CN=smtp.test")));

    // A plain session against a TLS one: the certificate is on one side only.
    Fixtures::SendSpec plain;
    const QList<ComparisonRow> vsPlain =
        Store::compareSessions(Store::recordFromSend(Fixtures::send(plain), Store::SessionKind::Probe), right);
    const auto plainExpiry = rowOf(vsPlain, QStringLiteral("Certificate"), QStringLiteral("leaf expiry"));
    QVERIFY(plainExpiry);
    QCOMPARE(plainExpiry->left, QString());
    QVERIFY(!plainExpiry->same);
    QCOMPARE(rowOf(vsPlain, QStringLiteral("Outcome"), QStringLiteral("security"))->left, QStringLiteral("plain"));
}

void TestSessionCompare::timings_data()
{
    QTest::addColumn<qint64>("leftUs");
    QTest::addColumn<qint64>("rightUs");
    QTest::addColumn<bool>("same");
    QTest::addRow("jitter") << qint64(15300) << qint64(17900) << true;
    QTest::addRow("tarpit") << qint64(15300) << qint64(2015300) << false;
    QTest::addRow("faster by half") << qint64(80000) << qint64(40000) << false;
    QTest::addRow("both tiny") << qint64(300) << qint64(9000) << true;
}

void TestSessionCompare::timings()
{
    QFETCH(qint64, leftUs);
    QFETCH(qint64, rightUs);
    QFETCH(bool, same);
    Fixtures::SendSpec a;
    a.chain = m_longCert;
    Fixtures::SendSpec b = a;
    a.timings[5].us = leftUs; // AUTH PLAIN
    b.timings[5].us = rightUs;
    const QList<ComparisonRow> rows =
        Store::compareSessions(Store::recordFromSend(Fixtures::send(a), Store::SessionKind::Send),
                               Store::recordFromSend(Fixtures::send(b), Store::SessionKind::Send));
    const auto row = rowOf(rows, QStringLiteral("Timings"), QStringLiteral("AUTH PLAIN (ms)"));
    QVERIFY2(row, qPrintable(dump(rows)));
    QCOMPARE(row->same, same);
    QCOMPARE(row->left.toDouble(), double(leftUs) / 1000.0);
    QCOMPARE(row->right.toDouble(), double(rightUs) / 1000.0);
    // The second EHLO (after STARTTLS) has its own row.
    QVERIFY(rowOf(rows, QStringLiteral("Timings"), QStringLiteral("EHLO #2 (ms)")));
    // The other steps did not change.
    QVERIFY(rowOf(rows, QStringLiteral("Timings"), QStringLiteral("connect (ms)"))->same);
}

void TestSessionCompare::outcomeAndRecipients()
{
    Fixtures::SendSpec a;
    a.recipients = {QStringLiteral("bob@example.test"), QStringLiteral("carol@example.test")};
    Fixtures::SendSpec b = a;
    b.refused = {QStringLiteral("carol@example.test")};
    const QList<ComparisonRow> rows =
        Store::compareSessions(Store::recordFromSend(Fixtures::send(a), Store::SessionKind::Send),
                               Store::recordFromSend(Fixtures::send(b), Store::SessionKind::Send));
    const auto outcome = rowOf(rows, QStringLiteral("Outcome"), QStringLiteral("outcome"));
    QCOMPARE(outcome->left, QStringLiteral("accepted"));
    QCOMPARE(outcome->right, QStringLiteral("partial"));
    QVERIFY(!outcome->same);
    const auto carol = rowOf(rows, QStringLiteral("Recipients"), QStringLiteral("carol@example.test"));
    QVERIFY2(carol, qPrintable(dump(rows)));
    QCOMPARE(carol->left, QStringLiteral("250 2.1.5 Ok"));
    QVERIFY(carol->right.startsWith(QStringLiteral("550 5.1.1")));
    QVERIFY(rowOf(rows, QStringLiteral("Recipients"), QStringLiteral("bob@example.test"))->same);

    // A refused message: the end-of-data reply and the error differ.
    Fixtures::SendSpec c = a;
    c.rejectData = true;
    const QList<ComparisonRow> rejected =
        Store::compareSessions(Store::recordFromSend(Fixtures::send(a), Store::SessionKind::Send),
                               Store::recordFromSend(Fixtures::send(c), Store::SessionKind::Send));
    QCOMPARE(rowOf(rejected, QStringLiteral("Outcome"), QStringLiteral("outcome"))->right, QStringLiteral("rejected"));
    const auto data = rowOf(rejected, QStringLiteral("Outcome"), QStringLiteral("end of data reply"));
    QCOMPARE(data->left, QStringLiteral("250 2.0.0 Ok: queued as 4XyZ1234"));
    QCOMPARE(data->right, QStringLiteral("554 5.7.1 Message rejected as spam"));
    QVERIFY(rowOf(rejected, QStringLiteral("Outcome"), QStringLiteral("error"))->right.contains(QStringLiteral("SMTP-REPLY-ERROR")));
}

void TestSessionCompare::diagnosisVerdicts()
{
    using V = Diagnostics::Verdict;
    const QStringList caps{QStringLiteral("PIPELINING"), QStringLiteral("AUTH PLAIN")};
    const SessionRecord before = Store::recordFromReport(report(587, V::Pass, caps, m_longCert));
    const SessionRecord after =
        Store::recordFromReport(report(587, V::Fail, caps + QStringList{QStringLiteral("AUTH LOGIN")}, m_shortCert));
    const QList<ComparisonRow> rows = Store::compareSessions(before, after);

    const auto expiry = rowOf(rows, QStringLiteral("Checks"), QStringLiteral("127.0.0.1:587 certificate-expiry"));
    QVERIFY2(expiry, qPrintable(dump(rows)));
    QCOMPARE(expiry->left, QStringLiteral("pass"));
    QCOMPARE(expiry->right, QStringLiteral("fail"));
    QVERIFY(!expiry->same);
    QVERIFY(rowOf(rows, QStringLiteral("Checks"), QStringLiteral("127.0.0.1:587 tcp"))->same);
    QVERIFY(rowOf(rows, QStringLiteral("Checks"), QStringLiteral("127.0.0.1 ptr"))->same);
    const auto overall = rowOf(rows, QStringLiteral("Outcome"), QStringLiteral("outcome"));
    QCOMPARE(overall->left, QStringLiteral("pass"));
    QCOMPARE(overall->right, QStringLiteral("fail"));
    // The endpoint's facts too: the AUTH line and the certificate.
    const auto auth = rowOf(rows, QStringLiteral("Capabilities after TLS"), QStringLiteral("AUTH"));
    QVERIFY2(auth && !auth->same, qPrintable(dump(rows)));
    QCOMPARE(rowOf(rows, QStringLiteral("AUTH"), QStringLiteral("mechanisms offered"))->right, QStringLiteral("LOGIN PLAIN"));
    QVERIFY(!rowOf(rows, QStringLiteral("Certificate"), QStringLiteral("leaf expiry"))->same);
    // Timed checks get timing rows; untimed ones none.
    QVERIFY(rowOf(rows, QStringLiteral("Timings"), QStringLiteral("127.0.0.1:587 starttls (ms)")));
    QVERIFY(!rowOf(rows, QStringLiteral("Timings"), QStringLiteral("127.0.0.1:587 certificate-expiry (ms)")));
}

void TestSessionCompare::diagnosisOnAnotherPortStillPairs()
{
    using V = Diagnostics::Verdict;
    const QStringList caps{QStringLiteral("PIPELINING")};
    const QList<ComparisonRow> rows = Store::compareSessions(Store::recordFromReport(report(587, V::Pass, caps, m_longCert)),
                                                             Store::recordFromReport(report(2587, V::Warn, caps, m_longCert)));
    // One endpoint each: checks pair up under the left one's name.
    const auto expiry = rowOf(rows, QStringLiteral("Checks"), QStringLiteral("127.0.0.1:587 certificate-expiry"));
    QVERIFY2(expiry, qPrintable(dump(rows)));
    QCOMPARE(expiry->right, QStringLiteral("warn"));
    QVERIFY(!rowOf(rows, QStringLiteral("Checks"), QStringLiteral("127.0.0.1:2587 certificate-expiry")));
    QVERIFY(!rowOf(rows, QStringLiteral("Outcome"), QStringLiteral("target"))->same);
}

void TestSessionCompare::exportWritesFourFiles()
{
    Fixtures::SendSpec spec;
    spec.chain = m_longCert + m_shortCert; // a "chain" of two, leaf first
    const QByteArray eml = "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: Hello\r\n\r\nHi Bob\r\n";
    SessionRecord record = Store::recordFromSend(Fixtures::send(spec), Store::SessionKind::Send, {}, eml);
    record.id = 42;
    record.subject = QStringLiteral("Hello");
    record.user = QStringLiteral("alice");
    record.events = {QVariantMap{{QStringLiteral("event"), 2}, {QStringLiteral("event_name"), QStringLiteral("PACKET_SENT")},
                                 {QStringLiteral("sent"), 30}, {QStringLiteral("data"), QByteArray("EHLO client.test\r\n")}}};

    QTemporaryDir out;
    QVERIFY(out.isValid());
    QString error;
    const QString folder = Store::exportBundle(record, out.path(), &error);
    QVERIFY2(!folder.isEmpty(), qPrintable(error));
    QVERIFY(QFileInfo(folder).fileName().startsWith(QStringLiteral("session-42-")));
    QCOMPARE(QDir(folder).entryList(QDir::Files, QDir::Name),
             (QStringList{QStringLiteral("chain.pem"), QStringLiteral("message.eml"), QStringLiteral("result.json"),
                          QStringLiteral("transcript.txt")}));

    const QList<QSslCertificate> chain =
        QSslCertificate::fromData(readAll(QDir(folder).filePath(QStringLiteral("chain.pem"))), QSsl::Pem);
    QCOMPARE(chain.size(), 2);
    QCOMPARE(chain.at(0), m_longCert.first());
    QCOMPARE(chain.at(1), m_shortCert.first());

    QCOMPARE(readAll(QDir(folder).filePath(QStringLiteral("message.eml"))), eml);

    const QStringList lines =
        QString::fromUtf8(readAll(QDir(folder).filePath(QStringLiteral("transcript.txt")))).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), record.transcript.size());
    // As the transcript view saves it: seconds right-aligned, direction, [tls], text.
    static const QRegularExpression ehlo(QStringLiteral("^ +0\\.\\d{3} C EHLO client\\.test$"));
    QVERIFY2(lines.indexOf(ehlo) >= 0, qPrintable(lines.join(QLatin1Char('\n'))));
    QVERIFY(lines.last().endsWith(QStringLiteral("S [tls] 221 2.0.0 Bye")));

    QJsonParseError parseError;
    const QJsonDocument json = QJsonDocument::fromJson(readAll(QDir(folder).filePath(QStringLiteral("result.json"))), &parseError);
    QCOMPARE(parseError.error, QJsonParseError::NoError);
    const QJsonObject o = json.object();
    QCOMPARE(o.value(QStringLiteral("id")).toInteger(), 42);
    QCOMPARE(o.value(QStringLiteral("outcome")).toString(), QStringLiteral("accepted"));
    QCOMPARE(o.value(QStringLiteral("subject")).toString(), QStringLiteral("Hello"));
    QVERIFY(!o.contains(QStringLiteral("message")));
    QCOMPARE(o.value(QStringLiteral("message_bytes")).toInteger(), eml.size());
    QCOMPARE(o.value(QStringLiteral("result")).toObject().value(QStringLiteral("MSGID")).toObject().value(QStringLiteral("code")).toInt(), 250);
    QCOMPARE(o.value(QStringLiteral("transcript")).toArray().size(), record.transcript.size());
    // Event payloads stay out; their sizes stay in.
    const QJsonObject event = o.value(QStringLiteral("events")).toArray().first().toObject();
    QCOMPARE(event.value(QStringLiteral("sent")).toInt(), 30);
    QVERIFY(!event.contains(QStringLiteral("data")));

    // Exporting again replaces the files (atomically) rather than failing.
    QCOMPARE(Store::exportBundle(record, out.path(), &error), folder);
}

void TestSessionCompare::exportRedactsSecretsShownInTheSession()
{
    using D = TranscriptEntry::Direction;
    // A session whose profile showed AUTH data (ARCHITECTURE.md: the user may turn
    // that on for a session): the initial response and the LOGIN responses carry
    // the credentials in base64.
    const QString password = QStringLiteral("s3cr3t-Pa55");
    const QString plain = QString::fromLatin1(QByteArray("\0alice\0" + password.toUtf8()).toBase64());
    const QString login = QString::fromLatin1(password.toUtf8().toBase64());
    const QString user = QString::fromLatin1(QByteArray("alice").toBase64());
    Fixtures::SendSpec spec;
    spec.chain = m_longCert;
    SendResult result = Fixtures::send(spec);
    result.transcript = {
        Fixtures::entry(1000, D::Server, false, QStringLiteral("220 smtp.test ESMTP")),
        Fixtures::entry(2000, D::Client, true, QStringLiteral("AUTH PLAIN ") + plain),
        Fixtures::entry(3000, D::Server, true, QStringLiteral("535 5.7.8 Error: authentication failed")),
        Fixtures::entry(4000, D::Client, true, QStringLiteral("AUTH LOGIN")),
        Fixtures::entry(5000, D::Server, true, QStringLiteral("334 VXNlcm5hbWU6")),
        Fixtures::entry(6000, D::Client, true, user),
        Fixtures::entry(7000, D::Server, true, QStringLiteral("334 UGFzc3dvcmQ6")),
        Fixtures::entry(8000, D::Client, true, login),
        Fixtures::entry(9000, D::Server, true, QStringLiteral("235 2.7.0 Authentication successful")),
        Fixtures::entry(10000, D::Client, true, QStringLiteral("MAIL FROM:<alice@example.test>")),
    };
    SessionRecord record = Store::recordFromSend(result, Store::SessionKind::Send);
    record.id = 7;
    record.events = {QVariantMap{{QStringLiteral("event"), 2}, {QStringLiteral("data"), QByteArray("AUTH PLAIN ") + plain.toLatin1()}}};

    QTemporaryDir out;
    QString error;
    const QString folder = Store::exportBundle(record, out.path(), &error);
    QVERIFY2(!folder.isEmpty(), qPrintable(error));
    const QByteArray transcript = readAll(QDir(folder).filePath(QStringLiteral("transcript.txt")));
    const QByteArray json = readAll(QDir(folder).filePath(QStringLiteral("result.json")));
    for (const QByteArray &file : {transcript, json}) {
        QVERIFY(!file.isEmpty());
        for (const QString &secret : {password, plain, login})
            QVERIFY2(!file.contains(secret.toUtf8()), qPrintable(secret));
    }
    const QString text = QString::fromUtf8(transcript);
    QVERIFY(text.contains(QStringLiteral("C [tls] AUTH PLAIN <redacted>")));
    QVERIFY(text.contains(QStringLiteral("C [tls] <redacted SASL response>")));
    // What is not secret stays readable: the challenges, the replies, MAIL FROM.
    QVERIFY(text.contains(QStringLiteral("334 UGFzc3dvcmQ6")));
    QVERIFY(text.contains(QStringLiteral("C [tls] MAIL FROM:<alice@example.test>")));
    QVERIFY(text.contains(QStringLiteral("C [tls] AUTH LOGIN\n")));
}

void TestSessionCompare::exportPlainSessionHasNoChain()
{
    Fixtures::SendSpec spec;
    spec.connectFails = true;
    SessionRecord record = Store::recordFromSend(Fixtures::send(spec), Store::SessionKind::Send);
    record.id = 3;
    QTemporaryDir out;
    QString error;
    const QString folder = Store::exportBundle(record, out.path(), &error);
    QVERIFY2(!folder.isEmpty(), qPrintable(error));
    QCOMPARE(QDir(folder).entryList(QDir::Files, QDir::Name),
             (QStringList{QStringLiteral("result.json"), QStringLiteral("transcript.txt")}));
    const QJsonObject o = QJsonDocument::fromJson(readAll(QDir(folder).filePath(QStringLiteral("result.json")))).object();
    QCOMPARE(o.value(QStringLiteral("outcome")).toString(), QStringLiteral("failed"));
    QVERIFY(o.value(QStringLiteral("error")).toString().contains(QStringLiteral("SMTP-CONNECT-ERROR")));
}

void TestSessionCompare::exportIntoAFileFails()
{
    QTemporaryDir out;
    const QString file = QDir(out.path()).filePath(QStringLiteral("not-a-folder"));
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.close();
    Fixtures::SendSpec spec;
    QString error;
    QCOMPARE(Store::exportBundle(Store::recordFromSend(Fixtures::send(spec), Store::SessionKind::Send), file, &error), QString());
    QVERIFY2(error.contains(QStringLiteral("not-a-folder")), qPrintable(error));
}

QTEST_GUILESS_MAIN(TestSessionCompare)
#include "tst_sessioncompare.moc"
