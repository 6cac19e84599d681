// Capture::CertificateAuthority: the files it makes, reloading them, checks by
// Qt and by the openssl command, remaking a damaged, expiring or foreign server
// certificate (and only then), key file modes, and real TLS handshakes on
// loopback with the CA as the client's only trusted root.

#include "capture/certificateauthority.h"
#include "fileio.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QProcess>
#include <QSignalSpy>
#include <QSslCertificateExtension>
#include <QSslConfiguration>
#include <QSslServer>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

using Capture::CertificateAuthority;

namespace {

constexpr int kWaitMs = 15000;

mode_t fileMode(const QString &path)
{
    struct stat st{};
    return ::stat(QFile::encodeName(path).constData(), &st) == 0 ? (st.st_mode & 07777) : mode_t(-1);
}

// Runs the openssl command in `dir`; its exit code (-1 if it did not finish) and output.
int openssl(const QString &dir, const QStringList &args, QByteArray *output = nullptr)
{
    QProcess p;
    p.setWorkingDirectory(dir);
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral("openssl"), args);
    if (!p.waitForStarted(kWaitMs) || !p.waitForFinished(kWaitMs)) {
        p.kill();
        p.waitForFinished(kWaitMs);
        return -1;
    }
    if (output)
        *output = p.readAll();
    return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
}

// A server certificate made outside CertificateAuthority, signed by the CA in
// `dir` (ca.pem, ca.key), written as server.pem/server.key there.
bool signWithFolderCa(const QString &dir, int days, const QByteArray &subjectAltName, QByteArray *log)
{
    const QByteArray ext = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                           "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n"
                           "authorityKeyIdentifier=keyid:always\nsubjectAltName="
        + subjectAltName + "\n";
    if (!writeAll(dir + QStringLiteral("/ext.cnf"), ext))
        return false;
    return openssl(dir,
                   {QStringLiteral("req"), QStringLiteral("-new"), QStringLiteral("-newkey"), QStringLiteral("ec"),
                    QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:P-256"), QStringLiteral("-nodes"),
                    QStringLiteral("-keyout"), QStringLiteral("server.key"), QStringLiteral("-out"),
                    QStringLiteral("server.csr"), QStringLiteral("-subj"), QStringLiteral("/CN=localhost")},
                   log)
        == 0
        && openssl(dir,
                   {QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"), QStringLiteral("server.csr"),
                    QStringLiteral("-CA"), QStringLiteral("ca.pem"), QStringLiteral("-CAkey"), QStringLiteral("ca.key"),
                    QStringLiteral("-days"), QString::number(days), QStringLiteral("-extfile"),
                    QStringLiteral("ext.cnf"), QStringLiteral("-out"), QStringLiteral("server.pem")},
                   log)
        == 0;
}

QVariant extensionValue(const QSslCertificate &cert, const QString &name)
{
    for (const QSslCertificateExtension &e : cert.extensions()) {
        if (e.name() == name)
            return e.value();
    }
    return {};
}

bool extensionCritical(const QSslCertificate &cert, const QString &name)
{
    for (const QSslCertificateExtension &e : cert.extensions()) {
        if (e.name() == name)
            return e.isCritical();
    }
    return false;
}

} // namespace

class TestCertificateAuthority : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void makesFiles();
    void secondEnsureLoadsSame();
    void qtVerifiesHostNames_data();
    void qtVerifiesHostNames();
    void opensslVerifies();
    void remade_data();
    void remade();
    void unusableFolder();
    void tlsHandshake_data();
    void tlsHandshake();
};

void TestCertificateAuthority::initTestCase()
{
    if (!QSslSocket::supportsSsl())
        QFAIL("Qt has no TLS backend here");
}

void TestCertificateAuthority::makesFiles()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString folder = dir.filePath(QStringLiteral("certs/nested")); // made on demand
    CertificateAuthority ca;
    QString error;
    QVERIFY2(ca.ensure(folder, &error), qPrintable(error));

    const QDir d(folder);
    QCOMPARE(ca.caFile(), d.absoluteFilePath(QStringLiteral("ca.pem")));
    for (const char *name : {"ca.pem", "ca.key", "server.pem", "server.key"})
        QVERIFY2(QFileInfo(d.filePath(QLatin1String(name))).size() > 0, name);
    // Private keys: owner read/write only.
    QCOMPARE(fileMode(d.filePath(QStringLiteral("server.key"))), mode_t(0600));
    QCOMPARE(fileMode(d.filePath(QStringLiteral("ca.key"))), mode_t(0600));

    // What is returned is what is in the files.
    QCOMPARE(ca.caCertificate(), QSslCertificate(readAll(ca.caFile()), QSsl::Pem));
    QCOMPARE(ca.serverCertificate(), QSslCertificate(readAll(d.filePath(QStringLiteral("server.pem"))), QSsl::Pem));
    QVERIFY(!ca.serverKey().isNull());
    QCOMPARE(ca.serverKey().algorithm(), QSsl::Ec);
    QCOMPARE(ca.serverKey().type(), QSsl::PrivateKey);

    const QSslCertificate caCert = ca.caCertificate();
    const QSslCertificate server = ca.serverCertificate();
    QVERIFY(caCert.isSelfSigned());
    QVERIFY(!server.isSelfSigned());
    QCOMPARE(server.issuerDisplayName(), caCert.subjectDisplayName());
    QCOMPARE(server.version(), QByteArray("3"));
    QCOMPARE(caCert.version(), QByteArray("3"));
    QVERIFY(server.serialNumber() != caCert.serialNumber());
    QCOMPARE(server.subjectInfo(QSslCertificate::CommonName), QStringList{QStringLiteral("localhost")});

    // Validity: CA about ten years, server 825 days.
    const QDateTime now = QDateTime::currentDateTimeUtc();
    QVERIFY(caCert.effectiveDate() <= now && server.effectiveDate() <= now);
    QVERIFY(qAbs(now.daysTo(caCert.expiryDate()) - 3652) <= 1);
    QVERIFY(qAbs(now.daysTo(server.expiryDate()) - 825) <= 1);

    // The names clients check.
    const auto san = server.subjectAlternativeNames();
    QCOMPARE(san.values(QSsl::DnsEntry), QStringList{QStringLiteral("localhost")});
    QList<QHostAddress> ips;
    for (const QString &ip : san.values(QSsl::IpAddressEntry))
        ips << QHostAddress(ip);
    QCOMPARE(ips.size(), 2);
    QVERIFY(ips.contains(QHostAddress(QHostAddress::LocalHost)));
    QVERIFY(ips.contains(QHostAddress(QHostAddress::LocalHostIPv6)));

    // Extensions: a CA that may sign, a server that may not.
    QCOMPARE(extensionValue(caCert, QStringLiteral("basicConstraints")).toMap().value(QStringLiteral("ca")), true);
    QVERIFY(extensionCritical(caCert, QStringLiteral("basicConstraints")));
    QCOMPARE(extensionValue(server, QStringLiteral("basicConstraints")).toMap().value(QStringLiteral("ca")), false);
    QVERIFY(extensionValue(caCert, QStringLiteral("subjectKeyIdentifier")).isValid());
    QVERIFY(extensionValue(server, QStringLiteral("authorityKeyIdentifier")).isValid());
    QByteArray text;
    QCOMPARE(openssl(folder, {QStringLiteral("x509"), QStringLiteral("-in"), QStringLiteral("server.pem"),
                              QStringLiteral("-noout"), QStringLiteral("-text")},
                     &text),
             0);
    QVERIFY2(text.contains("TLS Web Server Authentication"), text.constData());
    QVERIFY2(text.contains("Digital Signature, Key Encipherment"), text.constData());
    QVERIFY2(text.contains("sha256WithRSAEncryption") || text.contains("ecdsa-with-SHA256"), text.constData());
    QCOMPARE(openssl(folder, {QStringLiteral("x509"), QStringLiteral("-in"), QStringLiteral("ca.pem"),
                              QStringLiteral("-noout"), QStringLiteral("-text")},
                     &text),
             0);
    QVERIFY2(text.contains("Certificate Sign, CRL Sign"), text.constData());
}

void TestCertificateAuthority::secondEnsureLoadsSame()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    CertificateAuthority first;
    QString error;
    QVERIFY2(first.ensure(dir.path(), &error), qPrintable(error));
    const QByteArray serverPem = readAll(dir.filePath(QStringLiteral("server.pem")));
    const QByteArray keyPem = readAll(dir.filePath(QStringLiteral("server.key")));

    CertificateAuthority second;
    QVERIFY2(second.ensure(dir.path(), &error), qPrintable(error));
    QCOMPARE(second.caCertificate().serialNumber(), first.caCertificate().serialNumber());
    QCOMPARE(second.serverCertificate().serialNumber(), first.serverCertificate().serialNumber());
    QCOMPARE(second.serverCertificate(), first.serverCertificate());
    QCOMPARE(second.serverKey(), first.serverKey());
    QCOMPARE(readAll(dir.filePath(QStringLiteral("server.pem"))), serverPem);
    QCOMPARE(readAll(dir.filePath(QStringLiteral("server.key"))), keyPem);

    // Another folder gets another CA.
    QTemporaryDir other;
    CertificateAuthority third;
    QVERIFY2(third.ensure(other.path(), &error), qPrintable(error));
    QVERIFY(third.caCertificate().serialNumber() != first.caCertificate().serialNumber());
}

void TestCertificateAuthority::qtVerifiesHostNames_data()
{
    QTest::addColumn<QString>("host");
    QTest::addColumn<bool>("valid");
    QTest::addRow("localhost") << QStringLiteral("localhost") << true;
    QTest::addRow("127.0.0.1") << QStringLiteral("127.0.0.1") << true;
    QTest::addRow("::1") << QStringLiteral("::1") << true;
    QTest::addRow("another name") << QStringLiteral("mail.example.org") << false;
    QTest::addRow("another address") << QStringLiteral("127.0.0.2") << false;
}

void TestCertificateAuthority::qtVerifiesHostNames()
{
    QFETCH(QString, host);
    QFETCH(bool, valid);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    CertificateAuthority ca;
    QString error;
    QVERIFY2(ca.ensure(dir.path(), &error), qPrintable(error));

    // QSslCertificate::verify() trusts the default configuration's CAs: add ours
    // for this check only.
    const QSslConfiguration saved = QSslConfiguration::defaultConfiguration();
    QSslConfiguration withCa = saved;
    withCa.setCaCertificates({ca.caCertificate()});
    QSslConfiguration::setDefaultConfiguration(withCa);
    const QList<QSslError> errors = QSslCertificate::verify({ca.serverCertificate(), ca.caCertificate()}, host);
    QSslConfiguration::setDefaultConfiguration(saved);

    QStringList text;
    for (const QSslError &e : errors)
        text << e.errorString();
    if (valid) {
        QVERIFY2(errors.isEmpty(), qPrintable(text.join(QStringLiteral("; "))));
    } else {
        QCOMPARE(errors.size(), 1);
        QCOMPARE(errors.first().error(), QSslError::HostNameMismatch);
    }
}

void TestCertificateAuthority::opensslVerifies()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    CertificateAuthority ca;
    QString error;
    QVERIFY2(ca.ensure(dir.path(), &error), qPrintable(error));
    QByteArray out;
    QCOMPARE(openssl(dir.path(), {QStringLiteral("verify"), QStringLiteral("-CAfile"), QStringLiteral("ca.pem"),
                                  QStringLiteral("server.pem")},
                     &out),
             0);
    QVERIFY2(out.contains("server.pem: OK"), out.constData());
    // As a TLS server, for each name.
    for (const auto &check : {QStringList{QStringLiteral("-verify_hostname"), QStringLiteral("localhost")},
                              QStringList{QStringLiteral("-verify_ip"), QStringLiteral("127.0.0.1")},
                              QStringList{QStringLiteral("-verify_ip"), QStringLiteral("::1")}}) {
        const QStringList args = QStringList{QStringLiteral("verify"), QStringLiteral("-purpose"),
                                             QStringLiteral("sslserver"), QStringLiteral("-CAfile"),
                                             QStringLiteral("ca.pem")}
            + check + QStringList{QStringLiteral("server.pem")};
        QVERIFY2(openssl(dir.path(), args, &out) == 0, out.constData());
    }
    // The control: another folder's CA does not vouch for this certificate.
    QTemporaryDir other;
    CertificateAuthority foreign;
    QVERIFY2(foreign.ensure(other.path(), &error), qPrintable(error));
    QVERIFY(openssl(dir.path(), {QStringLiteral("verify"), QStringLiteral("-CAfile"), foreign.caFile(),
                                 QStringLiteral("server.pem")},
                    &out)
            != 0);
}

void TestCertificateAuthority::remade_data()
{
    QTest::addColumn<QString>("damage");
    QTest::addColumn<bool>("caRemade");
    QTest::addColumn<bool>("serverRemade");
    QTest::addRow("nothing") << QStringLiteral("nothing") << false << false;
    QTest::addRow("valid, made elsewhere by this CA") << QStringLiteral("signed-400") << false << false;
    QTest::addRow("server.pem missing") << QStringLiteral("rm-server.pem") << false << true;
    QTest::addRow("server.key missing") << QStringLiteral("rm-server.key") << false << true;
    QTest::addRow("server.pem garbage") << QStringLiteral("garbage-server.pem") << false << true;
    QTest::addRow("expires in 5 days") << QStringLiteral("signed-5") << false << true;
    QTest::addRow("expired") << QStringLiteral("signed--1") << false << true;
    QTest::addRow("no loopback names") << QStringLiteral("signed-other-name") << false << true;
    QTest::addRow("foreign certificate and key") << QStringLiteral("foreign-pair") << false << true;
    QTest::addRow("key of another certificate") << QStringLiteral("foreign-key") << false << true;
    QTest::addRow("server.key world-readable") << QStringLiteral("chmod-644") << false << false;
    QTest::addRow("ca.pem missing") << QStringLiteral("rm-ca.pem") << true << true;
    QTest::addRow("ca.key missing") << QStringLiteral("rm-ca.key") << true << true;
}

void TestCertificateAuthority::remade()
{
    QFETCH(QString, damage);
    QFETCH(bool, caRemade);
    QFETCH(bool, serverRemade);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString folder = dir.path();
    CertificateAuthority original;
    QString error;
    QVERIFY2(original.ensure(folder, &error), qPrintable(error));
    const QByteArray caSerial = original.caCertificate().serialNumber();
    QByteArray serverSerial = original.serverCertificate().serialNumber();
    const QString serverPem = QDir(folder).filePath(QStringLiteral("server.pem"));
    const QString serverKey = QDir(folder).filePath(QStringLiteral("server.key"));

    QByteArray log;
    if (damage.startsWith(QLatin1String("rm-"))) {
        QVERIFY(QFile::remove(QDir(folder).filePath(damage.mid(3))));
    } else if (damage == QLatin1String("garbage-server.pem")) {
        QVERIFY(writeAll(serverPem, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"));
    } else if (damage.startsWith(QLatin1String("signed-"))) {
        const bool otherName = damage == QLatin1String("signed-other-name");
        const int days = otherName ? 400 : damage.mid(7).toInt();
        QVERIFY2(signWithFolderCa(folder, days, otherName ? "DNS:mail.example.org" : "DNS:localhost,IP:127.0.0.1,IP:::1",
                                  &log),
                 log.constData());
        serverSerial = QSslCertificate(readAll(serverPem), QSsl::Pem).serialNumber();
        QVERIFY(serverSerial != original.serverCertificate().serialNumber());
    } else if (damage.startsWith(QLatin1String("foreign-"))) {
        QTemporaryDir other;
        CertificateAuthority foreign;
        QVERIFY2(foreign.ensure(other.path(), &error), qPrintable(error));
        QVERIFY(QFile::remove(serverKey));
        QVERIFY(QFile::copy(other.filePath(QStringLiteral("server.key")), serverKey));
        if (damage == QLatin1String("foreign-pair")) {
            QVERIFY(QFile::remove(serverPem));
            QVERIFY(QFile::copy(other.filePath(QStringLiteral("server.pem")), serverPem));
            serverSerial = foreign.serverCertificate().serialNumber();
        }
    } else if (damage == QLatin1String("chmod-644")) {
        QCOMPARE(::chmod(QFile::encodeName(serverKey).constData(), 0644), 0);
    } else {
        QCOMPARE(damage, QStringLiteral("nothing"));
    }

    CertificateAuthority again;
    QVERIFY2(again.ensure(folder, &error), qPrintable(error));
    QCOMPARE(again.caCertificate().serialNumber() != caSerial, caRemade);
    QCOMPARE(again.serverCertificate().serialNumber() != serverSerial, serverRemade);
    // Whatever happened, the folder now holds a matching, valid set.
    QCOMPARE(again.serverCertificate(), QSslCertificate(readAll(serverPem), QSsl::Pem));
    QCOMPARE(again.caCertificate(), QSslCertificate(readAll(again.caFile()), QSsl::Pem));
    QByteArray out;
    QVERIFY2(openssl(folder, {QStringLiteral("verify"), QStringLiteral("-purpose"), QStringLiteral("sslserver"),
                              QStringLiteral("-verify_hostname"), QStringLiteral("localhost"),
                              QStringLiteral("-CAfile"), QStringLiteral("ca.pem"), QStringLiteral("server.pem")},
                     &out)
                 == 0,
             out.constData());
    QVERIFY2(openssl(folder, {QStringLiteral("pkey"), QStringLiteral("-in"), QStringLiteral("server.key"),
                              QStringLiteral("-pubout")},
                     &out)
                 == 0,
             out.constData());
    QByteArray certPub;
    QVERIFY(openssl(folder, {QStringLiteral("x509"), QStringLiteral("-in"), QStringLiteral("server.pem"),
                             QStringLiteral("-noout"), QStringLiteral("-pubkey")},
                    &certPub)
            == 0);
    QCOMPARE(out, certPub); // the key is the certificate's
    QCOMPARE(fileMode(serverKey), mode_t(0600));
    QCOMPARE(fileMode(QDir(folder).filePath(QStringLiteral("ca.key"))), mode_t(0600));
}

void TestCertificateAuthority::unusableFolder()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString file = dir.filePath(QStringLiteral("a-file"));
    QVERIFY(writeAll(file, "x"));
    CertificateAuthority ca;
    QString error;
    QVERIFY(!ca.ensure(file, &error));
    QVERIFY(!error.isEmpty());
    QVERIFY(ca.serverCertificate().isNull());
}

void TestCertificateAuthority::tlsHandshake_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<QString>("peerName");
    QTest::addColumn<bool>("trustCa");
    QTest::addColumn<int>("expectedError"); // -1: the handshake succeeds
    QTest::addRow("127.0.0.1") << QStringLiteral("127.0.0.1") << QStringLiteral("127.0.0.1") << true << -1;
    // The DNS name checked without a lookup: connect to the address, verify the name.
    QTest::addRow("localhost") << QStringLiteral("127.0.0.1") << QStringLiteral("localhost") << true << -1;
    QTest::addRow("::1") << QStringLiteral("::1") << QStringLiteral("::1") << true << -1;
    QTest::addRow("wrong name") << QStringLiteral("127.0.0.1") << QStringLiteral("mail.example.org") << true
                                << int(QSslError::HostNameMismatch);
    QTest::addRow("CA not trusted") << QStringLiteral("127.0.0.1") << QStringLiteral("127.0.0.1") << false
                                    << int(QSslError::UnableToGetLocalIssuerCertificate);
}

void TestCertificateAuthority::tlsHandshake()
{
    QFETCH(QString, address);
    QFETCH(QString, peerName);
    QFETCH(bool, trustCa);
    QFETCH(int, expectedError);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    CertificateAuthority ca;
    QString error;
    QVERIFY2(ca.ensure(dir.path(), &error), qPrintable(error));

    QSslServer server;
    QSslConfiguration serverConf = QSslConfiguration::defaultConfiguration();
    serverConf.setLocalCertificate(ca.serverCertificate());
    serverConf.setPrivateKey(ca.serverKey());
    serverConf.setPeerVerifyMode(QSslSocket::VerifyNone);
    server.setSslConfiguration(serverConf);
    if (!server.listen(QHostAddress(address), 0)) {
        if (address.contains(QLatin1Char(':')))
            QSKIP("no IPv6 loopback here");
        QFAIL(qPrintable(server.errorString()));
    }

    QSslSocket client;
    QSslConfiguration clientConf = QSslConfiguration::defaultConfiguration();
    // The CA is the only root trusted: success can come from nothing else.
    clientConf.setCaCertificates(trustCa ? QList<QSslCertificate>{ca.caCertificate()} : QList<QSslCertificate>{});
    clientConf.setPeerVerifyMode(QSslSocket::VerifyPeer);
    client.setSslConfiguration(clientConf);
    QSignalSpy encrypted(&client, &QSslSocket::encrypted);
    QSignalSpy sslErrors(&client, &QSslSocket::sslErrors);
    QSignalSpy failed(&client, &QAbstractSocket::errorOccurred);
    client.connectToHostEncrypted(address, server.serverPort(), peerName);
    QTRY_VERIFY_WITH_TIMEOUT(!encrypted.isEmpty() || !sslErrors.isEmpty() || !failed.isEmpty(), kWaitMs);

    QStringList text;
    for (const QSslError &e : client.sslHandshakeErrors())
        text << e.errorString();
    if (expectedError < 0) {
        QVERIFY2(client.sslHandshakeErrors().isEmpty(), qPrintable(text.join(QStringLiteral("; "))));
        QCOMPARE(encrypted.size(), 1);
        QCOMPARE(client.peerCertificate(), ca.serverCertificate());
        // Bytes pass both ways over the session.
        QTRY_VERIFY_WITH_TIMEOUT(server.hasPendingConnections(), kWaitMs);
        QTcpSocket *accepted = server.nextPendingConnection();
        QVERIFY(accepted);
        client.write("ping\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(accepted->canReadLine(), kWaitMs);
        QCOMPARE(accepted->readLine(), QByteArray("ping\r\n"));
        accepted->write("pong\r\n");
        QTRY_VERIFY_WITH_TIMEOUT(client.canReadLine(), kWaitMs);
        QCOMPARE(client.readLine(), QByteArray("pong\r\n"));
    } else {
        QVERIFY(encrypted.isEmpty());
        bool found = false;
        for (const QSslError &e : client.sslHandshakeErrors())
            found = found || e.error() == QSslError::SslError(expectedError);
        QVERIFY2(found, qPrintable(text.join(QStringLiteral("; "))));
    }
}

QTEST_GUILESS_MAIN(TestCertificateAuthority)
#include "tst_certificateauthority.moc"
