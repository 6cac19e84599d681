// TlsInfo::toVariantMap(): the JSON-friendly report of a TLS session. The
// certificates are made at test time with openssl, and every expected value
// (fingerprint, dates) is what openssl itself prints for them.

#include "events/tlsinfo.h"

#include <QDateTime>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

class TestTlsInfo : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void defaults();
    void sessionFields_data();
    void sessionFields();
    void errors();
    void chain_data();
    void chain();

private:
    // Runs openssl with `args` in the temporary directory; true when it exited
    // with 0. Its stdout goes to *out if given.
    bool openssl(const QStringList &args, QByteArray *out = nullptr);
    // What openssl says about `pemFile`: sha256 fingerprint and ISO dates.
    QVariantMap opensslFacts(const QString &pemFile);

    QTemporaryDir m_dir;
    QString m_openssl;
    QSslCertificate m_ca;
    QSslCertificate m_leaf;
};

bool TestTlsInfo::openssl(const QStringList &args, QByteArray *out)
{
    QProcess p;
    p.setWorkingDirectory(m_dir.path());
    p.start(m_openssl, args);
    if (!p.waitForStarted(10000) || !p.waitForFinished(60000)) {
        p.kill();
        p.waitForFinished(5000);
        qWarning("openssl %s: did not finish", qPrintable(args.join(' ')));
        return false;
    }
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        qWarning("openssl %s failed: %s", qPrintable(args.join(' ')), p.readAllStandardError().constData());
        return false;
    }
    if (out)
        *out = p.readAllStandardOutput();
    return true;
}

QVariantMap TestTlsInfo::opensslFacts(const QString &pemFile)
{
    QByteArray out;
    if (!openssl({"x509", "-in", pemFile, "-noout", "-fingerprint", "-sha256", "-startdate",
                  "-enddate", "-dateopt", "iso_8601"},
                 &out))
        return {};
    QVariantMap facts;
    for (const QByteArray &raw : out.split('\n')) {
        const QString line = QString::fromLatin1(raw).trimmed();
        const qsizetype eq = line.indexOf(QLatin1Char('='));
        if (eq < 0)
            continue;
        const QString key = line.left(eq);
        QString value = line.mid(eq + 1);
        if (key.startsWith(QLatin1String("notBefore")) || key.startsWith(QLatin1String("notAfter"))) {
            // openssl: "2025-11-26 06:04:00Z" -> ISO 8601 "2025-11-26T06:04:00Z"
            value.replace(QLatin1Char(' '), QLatin1Char('T'));
        }
        facts.insert(key.startsWith(QLatin1String("sha256")) ? QStringLiteral("sha256") : key, value);
    }
    return facts;
}

void TestTlsInfo::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
    QVERIFY2(!m_openssl.isEmpty(), "openssl is needed to make the test certificates");

    const QStringList ecKey{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
    QVERIFY(openssl(QStringList{"req", "-x509"} + ecKey
                     + QStringList{"-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj",
                                   "/O=SMTP Scope Tests/CN=SMTP Scope Test CA"}));
    QVERIFY(openssl(QStringList{"req"} + ecKey
                     + QStringList{"-keyout", "leaf.key", "-out", "leaf.csr", "-subj",
                                   "/C=DE/O=SMTP Scope Tests/OU=Mail/CN=smtp.test"}));
    QFile ext(m_dir.filePath(QStringLiteral("leaf.ext")));
    QVERIFY(ext.open(QIODevice::WriteOnly));
    ext.write("subjectAltName=DNS:smtp.test,DNS:mail.smtp.test,IP:127.0.0.1,IP:::1\n");
    ext.close();
    QVERIFY(openssl({"x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                      "-CAcreateserial", "-out", "leaf.pem", "-days", "10", "-extfile", "leaf.ext"}));

    const auto load = [this](const char *name) {
        const QList<QSslCertificate> certs =
            QSslCertificate::fromPath(m_dir.filePath(QString::fromLatin1(name)));
        return certs.size() == 1 ? certs.first() : QSslCertificate();
    };
    m_ca = load("ca.pem");
    m_leaf = load("leaf.pem");
    QVERIFY(!m_ca.isNull());
    QVERIFY(!m_leaf.isNull());
}

void TestTlsInfo::defaults()
{
    const QVariantMap m = TlsInfo().toVariantMap();
    QStringList keys = m.keys();
    keys.sort();
    QCOMPARE(keys, (QStringList{"bits", "chain", "cipher", "encrypted", "errors", "implicit",
                                "insecure", "peerVerifyName", "protocol", "verified"}));
    QCOMPARE(m.value("encrypted").toBool(), false);
    QCOMPARE(m.value("verified").toBool(), false);
    QCOMPARE(m.value("insecure").toBool(), false); // verification is on by default
    QVERIFY(m.value("chain").toList().isEmpty());
    QVERIFY(m.value("errors").toList().isEmpty());
}

void TestTlsInfo::sessionFields_data()
{
    QTest::addColumn<bool>("implicitTls");
    QTest::addColumn<bool>("verificationEnabled");
    QTest::addColumn<bool>("verified");
    QTest::addColumn<QString>("protocol");
    QTest::addColumn<QString>("cipher");
    QTest::addColumn<int>("bits");
    QTest::addRow("starttls-verified") << false << true << true << "TLSv1.3"
                                       << "TLS_AES_256_GCM_SHA384" << 256;
    QTest::addRow("implicit-insecure") << true << false << false << "TLSv1.2"
                                       << "ECDHE-RSA-AES128-GCM-SHA256" << 128;
}

void TestTlsInfo::sessionFields()
{
    QFETCH(bool, implicitTls);
    QFETCH(bool, verificationEnabled);
    QFETCH(bool, verified);
    QFETCH(QString, protocol);
    QFETCH(QString, cipher);
    QFETCH(int, bits);
    TlsInfo info;
    info.encrypted = true;
    info.implicit = implicitTls;
    info.protocol = protocol;
    info.cipher = cipher;
    info.cipherBits = bits;
    info.peerVerifyName = QStringLiteral("smtp.test");
    info.verificationEnabled = verificationEnabled;
    info.verified = verified;
    const QVariantMap m = info.toVariantMap();
    QCOMPARE(m.value("encrypted").toBool(), true);
    QCOMPARE(m.value("implicit").toBool(), implicitTls);
    QCOMPARE(m.value("protocol").toString(), protocol);
    QCOMPARE(m.value("cipher").toString(), cipher);
    QCOMPARE(m.value("bits").toInt(), bits);
    QCOMPARE(m.value("peerVerifyName").toString(), QStringLiteral("smtp.test"));
    QCOMPARE(m.value("verified").toBool(), verified);
    QCOMPARE(m.value("insecure").toBool(), !verificationEnabled);
}

void TestTlsInfo::errors()
{
    TlsInfo info;
    info.errors.append({QStringLiteral("HostNameMismatch"),
                        QStringLiteral("the certificate is for other.test, not smtp.test"),
                        QStringLiteral("CN=other.test")});
    info.errors.append({QStringLiteral("SelfSignedCertificate"), QStringLiteral("self-signed"), {}});
    const QVariantList list = info.toVariantMap().value("errors").toList();
    QCOMPARE(list.size(), 2);
    const QVariantMap first = list[0].toMap();
    QCOMPARE(first.value("name").toString(), QStringLiteral("HostNameMismatch"));
    QCOMPARE(first.value("reason").toString(),
             QStringLiteral("the certificate is for other.test, not smtp.test"));
    QCOMPARE(first.value("subject").toString(), QStringLiteral("CN=other.test"));
    QCOMPARE(list[1].toMap().value("name").toString(), QStringLiteral("SelfSignedCertificate"));
    QCOMPARE(list[1].toMap().value("subject").toString(), QString());
}

void TestTlsInfo::chain_data()
{
    QTest::addColumn<int>("index");
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("subject");
    QTest::addColumn<QString>("issuer");
    QTest::addColumn<QStringList>("sans");
    QTest::addColumn<bool>("selfSigned");
    const QString ca = QStringLiteral("CN=SMTP Scope Test CA, O=SMTP Scope Tests");
    QTest::addRow("leaf") << 0 << "leaf.pem"
                          << "CN=smtp.test, OU=Mail, O=SMTP Scope Tests, C=DE" << ca
                          << QStringList{"DNS:smtp.test", "DNS:mail.smtp.test", "IP:127.0.0.1",
                                         "IP:::1"}
                          << false;
    QTest::addRow("ca") << 1 << "ca.pem" << ca << ca << QStringList{} << true;
}

void TestTlsInfo::chain()
{
    QFETCH(int, index);
    QFETCH(QString, file);
    QFETCH(QString, subject);
    QFETCH(QString, issuer);
    QFETCH(QStringList, sans);
    QFETCH(bool, selfSigned);
    TlsInfo info;
    info.chain = {m_leaf, m_ca};
    const QVariantList chain = info.toVariantMap().value("chain").toList();
    QCOMPARE(chain.size(), 2);
    const QVariantMap c = chain[index].toMap();
    QStringList keys = c.keys();
    keys.sort();
    QCOMPARE(keys, (QStringList{"issuer", "notAfter", "notBefore", "sans", "selfSigned", "sha256",
                                "subject"}));
    QCOMPARE(c.value("subject").toString(), subject);
    QCOMPARE(c.value("issuer").toString(), issuer);
    QCOMPARE(c.value("sans").toStringList(), sans);
    QCOMPARE(c.value("selfSigned").toBool(), selfSigned);

    const QVariantMap facts = opensslFacts(file);
    QVERIFY2(facts.contains("sha256") && facts.contains("notBefore") && facts.contains("notAfter"),
             qPrintable(QStringList(facts.keys()).join(',')));
    QCOMPARE(c.value("sha256").toString(), facts.value("sha256").toString());
    QCOMPARE(c.value("notBefore").toString(), facts.value("notBefore").toString());
    QCOMPARE(c.value("notAfter").toString(), facts.value("notAfter").toString());
    // And the dates are real ISO 8601 UTC timestamps in the right order.
    const QDateTime from = QDateTime::fromString(c.value("notBefore").toString(), Qt::ISODate);
    const QDateTime to = QDateTime::fromString(c.value("notAfter").toString(), Qt::ISODate);
    QVERIFY(from.isValid() && to.isValid());
    QCOMPARE(from.timeSpec(), Qt::UTC);
    QVERIFY(from < to);
}

QTEST_GUILESS_MAIN(TestTlsInfo)
#include "tst_tlsinfo.moc"
