// SmtpTransport against real sockets: in-process servers on 127.0.0.1, port 0,
// certificates made with the openssl CLI in initTestCase (a test CA, leaves for
// smtp.test and other.test, and a self-signed smtp.test). Every wait has a
// timeout (QTRY_*_WITH_TIMEOUT or QSignalSpy::wait).

#include "events/eventqueue.h"
#include "events/socketevent.h"
#include "events/usagestats.h"
#include "transport/smtptransport.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QLoggingCategory>
#include <QPointer>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslSocket>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <sys/socket.h>
#include <sys/types.h>

namespace {

constexpr int kWait = 10000; // upper bound for any loopback wait

// A scripted server: the test drives it step by step. It records what the client
// sent before TLS and after, so tests can assert what was NOT sent.
class FakeServer : public QTcpServer
{
    Q_OBJECT
public:
    enum class Mode { Plain, ImplicitTls };

    explicit FakeServer(Mode mode, QObject *parent = nullptr)
        : QTcpServer(parent)
        , m_mode(mode)
    {
    }

    void setIdentity(const QSslCertificate &cert, const QSslKey &key)
    {
        m_cert = cert;
        m_key = key;
    }
    void setGreeting(const QByteArray &greeting) { m_greeting = greeting; }
    bool start() { return listen(QHostAddress::LocalHost, 0); }
    [[nodiscard]] quint16 port() const { return serverPort(); }
    [[nodiscard]] QSslSocket *conn() const { return m_conn; }

    // One write, pushed to the kernel at once (a single segment on loopback).
    void send(const QByteArray &bytes)
    {
        m_conn->write(bytes);
        m_conn->flush();
    }
    void startTls() { m_conn->startServerEncryption(); }

    int accepted = 0;
    QByteArray plainBytes; // client bytes read before TLS
    QByteArray tlsBytes;   // client bytes read inside TLS
    bool encrypted = false;
    bool clientGone = false;

protected:
    void incomingConnection(qintptr fd) override
    {
        auto *s = new QSslSocket(this);
        if (!s->setSocketDescriptor(fd)) {
            delete s;
            return;
        }
        QSslConfiguration config = QSslConfiguration::defaultConfiguration();
        config.setLocalCertificate(m_cert);
        config.setPrivateKey(m_key);
        config.setPeerVerifyMode(QSslSocket::VerifyNone);
        s->setSslConfiguration(config);
        connect(s, &QIODevice::readyRead, this, [this, s] {
            const QByteArray bytes = s->readAll();
            (s->isEncrypted() ? tlsBytes : plainBytes) += bytes;
        });
        connect(s, &QSslSocket::encrypted, this, [this] { encrypted = true; });
        connect(s, &QAbstractSocket::disconnected, this, [this] { clientGone = true; });
        m_conn = s;
        ++accepted;
        if (m_mode == Mode::ImplicitTls)
            s->startServerEncryption();
        else if (!m_greeting.isEmpty())
            send(m_greeting);
    }

private:
    Mode m_mode;
    QSslCertificate m_cert;
    QSslKey m_key;
    QByteArray m_greeting;
    QPointer<QSslSocket> m_conn;
};

// Everything the transport signals, in order.
struct Recorder
{
    QStringList log;
    QByteArray data;
    QList<QByteArray> chunks;
    SmtpError error;
    qint64 bytesWritten = 0;
    int failures = 0;
    int closes = 0;

    void attach(SmtpTransport &t, QObject *context)
    {
        QObject::connect(&t, &SmtpTransport::connected, context, [this] { log << "connected"; });
        QObject::connect(&t, &SmtpTransport::encrypted, context, [this] { log << "encrypted"; });
        QObject::connect(&t, &SmtpTransport::received, context, [this](const QByteArray &d) {
            log << "received";
            data += d;
            chunks << d;
        });
        QObject::connect(&t, &SmtpTransport::bytesWritten, context,
                         [this](qint64 n) { bytesWritten += n; });
        QObject::connect(&t, &SmtpTransport::deadlinePassed, context, [this] { log << "deadline"; });
        QObject::connect(&t, &SmtpTransport::closed, context, [this] {
            log << "closed";
            ++closes;
        });
        QObject::connect(&t, &SmtpTransport::failed, context, [this](const SmtpError &e) {
            log << "failed";
            error = e;
            ++failures;
        });
    }
};

SmtpTransport::Options options(quint16 port)
{
    SmtpTransport::Options o;
    o.host = QStringLiteral("127.0.0.1");
    o.port = port;
    o.connectTimeoutMs = kWait;
    o.tlsTimeoutMs = kWait;
    return o;
}

// By the "event" code, the one field every record has for sure ("name" is the
// host in HOSTNAME_LOOKUP, as in the reference).
QString eventName(const QVariantMap &e)
{
    return SocketEvent::typeName(e.value(QStringLiteral("event")).toInt());
}

QStringList eventNames(const QList<QVariantMap> &events)
{
    QStringList names;
    for (const QVariantMap &e : events)
        names << eventName(e);
    return names;
}

QList<QVariantMap> eventsNamed(const QList<QVariantMap> &events, const QString &name)
{
    QList<QVariantMap> out;
    for (const QVariantMap &e : events) {
        if (eventName(e) == name)
            out << e;
    }
    return out;
}

QStringList errorNames(const TlsInfo &info)
{
    QStringList names;
    for (const TlsInfo::CertificateError &e : info.errors)
        names << e.name;
    return names;
}

// Bytes waiting in the client's kernel receive queue, looked at without reading.
// Used to know that the server's bytes have arrived while the client has not run
// its event loop (so it cannot have read them).
qsizetype kernelBytes(SmtpTransport &t)
{
    const auto *socket = t.findChild<QSslSocket *>();
    if (!socket || socket->socketDescriptor() == -1)
        return -1;
    char buf[4096];
    const auto n = ::recv(int(socket->socketDescriptor()), buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    return n > 0 ? qsizetype(n) : 0;
}

bool waitForKernelBytes(SmtpTransport &t, qsizetype n)
{
    QDeadlineTimer deadline(kWait);
    while (!deadline.hasExpired()) {
        if (kernelBytes(t) >= n)
            return true;
        QThread::usleep(500);
    }
    return false;
}

} // namespace

class tst_SmtpTransport : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void plainRoundTrip_data();
    void plainRoundTrip();
    void largeWrite_data();
    void largeWrite();
    void tlsVerification_data();
    void tlsVerification();
    void starttlsInjection_data();
    void starttlsInjection();
    void connectionRefused();
    void reconnectAfterFailure();
    void implicitTlsHandshakeTimeout();
    void starttlsHandshakeTimeout();
    void plaintextServerOnImplicitTls();
    void missingCaFile();
    void tlsSetupIsAStepOfItsOwn();
    void deadlinePassed_data();
    void deadlinePassed();
    void deadlineCleared();
    void remoteClose_data();
    void remoteClose();
    void abortWhenOpen();
    void abortWhileConnecting();
    void gracefulDisconnect();
    void deletedEvent();
    void hostLookup();

private:
    bool openssl(const QStringList &args);
    bool writeFile(const QString &name, const QByteArray &content);
    bool makeLeaf(const QString &name, const QString &cn, const QString &san, bool selfSigned);
    QSslKey loadKey(const QString &name);
    QSslCertificate loadCert(const QString &name);
    void identity(const QString &which, QSslCertificate *cert, QSslKey *key);
    // Plain connect, greeting, STARTTLS trigger; leaves the server waiting with
    // `reply` written (and its handshake started when startServerTls).
    void upgradeUntilReply(FakeServer &server, SmtpTransport &t, Recorder &rec,
                           const QByteArray &reply, bool startServerTls);

    QTemporaryDir m_dir;
    QString m_caFile;
    QSslCertificate m_smtpCert, m_otherCert, m_selfCert;
    QSslKey m_smtpKey, m_otherKey, m_selfKey;
};

bool tst_SmtpTransport::openssl(const QStringList &args)
{
    QProcess p;
    p.setWorkingDirectory(m_dir.path());
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral("openssl"), args);
    if (!p.waitForFinished(30000)) {
        qWarning() << "openssl did not finish:" << args << p.errorString();
        p.kill();
        p.waitForFinished(5000);
        return false;
    }
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        qWarning().noquote() << "openssl" << args.join(QLatin1Char(' ')) << "failed:\n"
                             << p.readAll();
        return false;
    }
    return true;
}

bool tst_SmtpTransport::writeFile(const QString &name, const QByteArray &content)
{
    QFile f(m_dir.filePath(name));
    return f.open(QIODevice::WriteOnly) && f.write(content) == content.size();
}

bool tst_SmtpTransport::makeLeaf(const QString &name, const QString &cn, const QString &san,
                                 bool selfSigned)
{
    const QByteArray cnf = QStringLiteral("[req]\ndistinguished_name = dn\nprompt = no\n"
                                          "[dn]\nCN = %1\n"
                                          "[leaf]\nbasicConstraints = critical,CA:FALSE\n"
                                          "keyUsage = critical,digitalSignature,keyEncipherment\n"
                                          "extendedKeyUsage = serverAuth\n"
                                          "subjectAltName = %2\n")
                               .arg(cn, san)
                               .toUtf8();
    if (!writeFile(name + QStringLiteral(".cnf"), cnf))
        return false;
    const QStringList key{QStringLiteral("-newkey"), QStringLiteral("ec"),
                          QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"),
                          QStringLiteral("-nodes"), QStringLiteral("-keyout"), name + QStringLiteral(".key")};
    if (selfSigned) {
        return openssl(QStringList{QStringLiteral("req"), QStringLiteral("-x509"),
                                   QStringLiteral("-config"), name + QStringLiteral(".cnf"),
                                   QStringLiteral("-extensions"), QStringLiteral("leaf"),
                                   QStringLiteral("-days"), QStringLiteral("2"),
                                   QStringLiteral("-out"), name + QStringLiteral(".pem")}
                       + key);
    }
    return openssl(QStringList{QStringLiteral("req"), QStringLiteral("-new"),
                               QStringLiteral("-config"), name + QStringLiteral(".cnf"),
                               QStringLiteral("-out"), name + QStringLiteral(".csr")}
                   + key)
        && openssl({QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"),
                    name + QStringLiteral(".csr"), QStringLiteral("-CA"), QStringLiteral("ca.pem"),
                    QStringLiteral("-CAkey"), QStringLiteral("ca.key"), QStringLiteral("-set_serial"),
                    QString::number(qHash(name) & 0xffffff), QStringLiteral("-days"),
                    QStringLiteral("2"), QStringLiteral("-extfile"), name + QStringLiteral(".cnf"),
                    QStringLiteral("-extensions"), QStringLiteral("leaf"), QStringLiteral("-out"),
                    name + QStringLiteral(".pem")});
}

QSslKey tst_SmtpTransport::loadKey(const QString &name)
{
    QFile f(m_dir.filePath(name + QStringLiteral(".key")));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QSslKey(f.readAll(), QSsl::Ec, QSsl::Pem);
}

QSslCertificate tst_SmtpTransport::loadCert(const QString &name)
{
    const QList<QSslCertificate> certs =
        QSslCertificate::fromPath(m_dir.filePath(name + QStringLiteral(".pem")), QSsl::Pem);
    return certs.isEmpty() ? QSslCertificate() : certs.first();
}

void tst_SmtpTransport::identity(const QString &which, QSslCertificate *cert, QSslKey *key)
{
    if (which == QLatin1String("other")) {
        *cert = m_otherCert;
        *key = m_otherKey;
    } else if (which == QLatin1String("self")) {
        *cert = m_selfCert;
        *key = m_selfKey;
    } else {
        *cert = m_smtpCert;
        *key = m_smtpKey;
    }
}

void tst_SmtpTransport::initTestCase()
{
    if (!QSslSocket::supportsSsl())
        QSKIP("no TLS backend");
    // The transport's state trace is debug output; failures are logged at info.
    QLoggingCategory::setFilterRules(QStringLiteral("smtpscope.transport.debug=false"));
    QVERIFY(m_dir.isValid());
    QVERIFY(writeFile(QStringLiteral("ca.cnf"),
                      "[req]\ndistinguished_name = dn\nprompt = no\n"
                      "[dn]\nCN = SMTP Scope Test CA\n"
                      "[ca]\nbasicConstraints = critical,CA:TRUE\n"
                      "keyUsage = critical,keyCertSign,cRLSign\n"
                      "subjectKeyIdentifier = hash\n"));
    QVERIFY(openssl({QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-config"),
                     QStringLiteral("ca.cnf"), QStringLiteral("-extensions"), QStringLiteral("ca"),
                     QStringLiteral("-newkey"), QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
                     QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                     QStringLiteral("-keyout"), QStringLiteral("ca.key"), QStringLiteral("-days"),
                     QStringLiteral("2"), QStringLiteral("-out"), QStringLiteral("ca.pem")}));
    QVERIFY(makeLeaf(QStringLiteral("smtp"), QStringLiteral("smtp.test"),
                     QStringLiteral("DNS:smtp.test,IP:127.0.0.1"), false));
    QVERIFY(makeLeaf(QStringLiteral("other"), QStringLiteral("other.test"),
                     QStringLiteral("DNS:other.test"), false));
    QVERIFY(makeLeaf(QStringLiteral("self"), QStringLiteral("smtp.test"),
                     QStringLiteral("DNS:smtp.test,IP:127.0.0.1"), true));
    m_caFile = m_dir.filePath(QStringLiteral("ca.pem"));
    m_smtpCert = loadCert(QStringLiteral("smtp"));
    m_otherCert = loadCert(QStringLiteral("other"));
    m_selfCert = loadCert(QStringLiteral("self"));
    m_smtpKey = loadKey(QStringLiteral("smtp"));
    m_otherKey = loadKey(QStringLiteral("other"));
    m_selfKey = loadKey(QStringLiteral("self"));
    for (const QSslCertificate *c : {&m_smtpCert, &m_otherCert, &m_selfCert})
        QVERIFY(!c->isNull());
    for (const QSslKey *k : {&m_smtpKey, &m_otherKey, &m_selfKey})
        QVERIFY(!k->isNull());
}

void tst_SmtpTransport::upgradeUntilReply(FakeServer &server, SmtpTransport &t, Recorder &rec,
                                          const QByteArray &reply, bool startServerTls)
{
    QTRY_VERIFY_WITH_TIMEOUT(rec.log.contains(QLatin1String("connected")), kWait);
    QTRY_COMPARE_WITH_TIMEOUT(rec.data, QByteArray("220 smtp.test ESMTP\r\n"), kWait);
    t.write("STARTTLS\r\n");
    QTRY_COMPARE_WITH_TIMEOUT(server.plainBytes, QByteArray("STARTTLS\r\n"), kWait);
    server.send(reply);
    if (startServerTls)
        server.startTls();
}

// --- plain connection --------------------------------------------------------

void tst_SmtpTransport::plainRoundTrip_data()
{
    QTest::addColumn<bool>("withData");
    QTest::addRow("events without data") << false;
    QTest::addRow("events with data") << true;
}

void tst_SmtpTransport::plainRoundTrip()
{
    QFETCH(bool, withData);
    const QByteArray greeting("220 smtp.test ESMTP ready\r\n");
    const QByteArray command("EHLO client.test\r\n");
    const QByteArray reply("250-smtp.test\r\n250 PIPELINING\r\n");

    FakeServer server(FakeServer::Mode::Plain);
    server.setGreeting(greeting);
    QVERIFY(server.start());

    EventQueue queue;
    UsageStats stats;
    SmtpTransport t;
    t.setEventQueue(&queue, QStringLiteral("my-arg"), withData, 42);
    t.setStats(&stats);
    Recorder rec;
    rec.attach(t, this);

    t.connectToServer(options(server.port()));
    QTRY_COMPARE_WITH_TIMEOUT(rec.data, greeting, kWait);
    QVERIFY(t.isOpen());
    QVERIFY(!t.isEncrypted());
    QCOMPARE(t.peerAddress(), QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(t.resolvedAddresses(), QList<QHostAddress>{QHostAddress(QHostAddress::LocalHost)});

    t.write(command);
    QTRY_COMPARE_WITH_TIMEOUT(server.plainBytes, command, kWait);
    QTRY_COMPARE_WITH_TIMEOUT(rec.bytesWritten, qint64(command.size()), kWait);
    server.send(reply);
    QTRY_COMPARE_WITH_TIMEOUT(rec.data, greeting + reply, kWait);
    QCOMPARE(rec.log, (QStringList{"connected", "received", "received"}));
    QCOMPARE(rec.chunks.last(), reply); // one signal for the whole segment, not one per line

    const QList<QVariantMap> events = queue.popAll();
    QCOMPARE(eventNames(events),
             (QStringList{"CONNECTING", "CONNECTED", "PACKET_READ", "PACKET_SENT", "PACKET_READ"}));
    for (const QVariantMap &e : events) {
        QCOMPARE(e.value("id").toLongLong(), 42);
        QCOMPARE(e.value("arg").toString(), QStringLiteral("my-arg"));
        QCOMPARE(e.value("source").toInt(), int(SocketEvent::SourceSocket));
    }
    const QVariantMap connecting = events.at(0);
    QCOMPARE(connecting.value("type").toInt(), int(AF_INET));
    QCOMPARE(connecting.value("typename").toString(), QStringLiteral("ipv4"));
    QCOMPARE(connecting.value("address").toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(connecting.value("target").toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(connecting.value("port").toInt(), int(server.port()));

    const QVariantMap read1 = events.at(2);
    QCOMPARE(read1.value("read").toLongLong(), qint64(greeting.size()));
    QCOMPARE(read1.value("total_read").toLongLong(), qint64(greeting.size()));
    const QVariantMap sent = events.at(3);
    QVERIFY(sent.value("socket").toLongLong() > 0);
    QCOMPARE(sent.value("sent").toLongLong(), qint64(command.size()));
    QCOMPARE(sent.value("total_sent").toLongLong(), qint64(command.size()));
    QCOMPARE(sent.value("total_to_send").toLongLong(), qint64(command.size()));
    const QVariantMap read2 = events.at(4);
    QCOMPARE(read2.value("read").toLongLong(), qint64(reply.size()));
    QCOMPARE(read2.value("total_read").toLongLong(), qint64(greeting.size() + reply.size()));

    QCOMPARE(read1.contains("data"), withData);
    QCOMPARE(sent.contains("data"), withData);
    if (withData) {
        QCOMPARE(read1.value("data").toByteArray(), greeting);
        QCOMPARE(sent.value("data").toByteArray(), command);
        QCOMPARE(read2.value("data").toByteArray(), reply);
    }

    // Statistics count exactly the bytes that crossed the socket.
    const QVariantMap usage = stats.usageInfo();
    QCOMPARE(usage.value("bytes_sent").toLongLong(), qint64(server.plainBytes.size()));
    QCOMPARE(usage.value("bytes_recv").toLongLong(), qint64(greeting.size() + reply.size()));
    QVERIFY(usage.value("us_recv").toLongLong() > 0);

    const QVariantMap timings = t.timings();
    QCOMPARE(timings.value("lookup").toLongLong(), 0); // IP literal: no lookup
    QVERIFY(timings.contains("connect"));
    QVERIFY(!timings.contains("tls"));
}

void tst_SmtpTransport::largeWrite_data()
{
    QTest::addColumn<bool>("tls");
    QTest::addRow("plain") << false;
    QTest::addRow("implicit TLS") << true;
}

void tst_SmtpTransport::largeWrite()
{
    QFETCH(bool, tls);
    // Larger than any socket buffer: several bytesWritten notifications.
    QByteArray payload(3 * 1024 * 1024 + 17, Qt::Uninitialized);
    for (qsizetype i = 0; i < payload.size(); ++i)
        payload[i] = char('a' + (i * 7) % 26);
    const QByteArray tail("QUIT\r\n");

    FakeServer server(tls ? FakeServer::Mode::ImplicitTls : FakeServer::Mode::Plain);
    server.setIdentity(m_smtpCert, m_smtpKey);
    QVERIFY(server.start());
    EventQueue queue;
    UsageStats stats;
    SmtpTransport t;
    t.setEventQueue(&queue, {}, true, 1);
    t.setStats(&stats);
    Recorder rec;
    rec.attach(t, this);
    SmtpTransport::Options o = options(server.port());
    o.implicitTls = tls;
    o.peerVerifyName = QStringLiteral("smtp.test");
    o.caFile = m_caFile;
    t.connectToServer(o);
    QTRY_VERIFY_WITH_TIMEOUT(rec.log.contains(QLatin1String("connected")), kWait);

    t.write(payload);
    t.write(tail);
    QByteArray &got = tls ? server.tlsBytes : server.plainBytes;
    QTRY_COMPARE_WITH_TIMEOUT(got.size(), payload.size() + tail.size(), 60000);
    QVERIFY(got == payload + tail);
    QTRY_COMPARE_WITH_TIMEOUT(rec.bytesWritten, qint64(payload.size() + tail.size()), kWait);
    QCOMPARE(t.bytesToWrite(), 0);

    const QList<QVariantMap> sent = eventsNamed(queue.popAll(), QStringLiteral("PACKET_SENT"));
    QVERIFY(!sent.isEmpty());
    qint64 sum = 0;
    QByteArray data;
    for (const QVariantMap &e : sent) {
        sum += e.value("sent").toLongLong();
        QCOMPARE(e.value("total_sent").toLongLong(), sum);
        QCOMPARE(e.value("total_to_send").toLongLong(), qint64(payload.size() + tail.size()));
        data += e.value("data").toByteArray();
    }
    QCOMPARE(sum, qint64(payload.size() + tail.size()));
    QVERIFY(data == payload + tail);
    QCOMPARE(stats.usageInfo().value("bytes_sent").toLongLong(), qint64(payload.size() + tail.size()));
    QVERIFY(stats.usageInfo().value("us_sent").toLongLong() > 0);
}

// --- TLS: implicit and STARTTLS ------------------------------------------------

void tst_SmtpTransport::tlsVerification_data()
{
    QTest::addColumn<bool>("starttls");
    QTest::addColumn<QString>("cert");        // smtp / other / self
    QTest::addColumn<QString>("verifyName");  // empty: the host (127.0.0.1)
    QTest::addColumn<bool>("useCa");
    QTest::addColumn<bool>("insecure");
    QTest::addColumn<bool>("expectUp");
    QTest::addColumn<QString>("errorName");   // expected in TlsInfo.errors
    QTest::addColumn<QString>("reasonPart");  // expected in the reason and the message

    for (bool starttls : {false, true}) {
        const char *mode = starttls ? "STARTTLS" : "implicit";
        QTest::addRow("%s: verified with the CA file", mode)
            << starttls << "smtp" << "smtp.test" << true << false << true << "" << "";
        QTest::addRow("%s: IP literal checked against the IP SAN", mode)
            << starttls << "smtp" << "" << true << false << true << "" << "";
        QTest::addRow("%s: wrong name", mode)
            << starttls << "other" << "smtp.test" << true << false << false
            << "HostNameMismatch" << "the certificate is for other.test, not smtp.test";
        QTest::addRow("%s: self-signed", mode)
            << starttls << "self" << "smtp.test" << true << false << false
            << "SelfSignedCertificate" << "self-signed";
        QTest::addRow("%s: issuer not trusted without the CA file", mode)
            << starttls << "smtp" << "smtp.test" << false << false << false
            << "UnableToGetLocalIssuerCertificate" << "SMTP Scope Test CA";
        QTest::addRow("%s: insecure mode, wrong name", mode)
            << starttls << "other" << "smtp.test" << true << true << true
            << "HostNameMismatch" << "other.test";
    }
}

void tst_SmtpTransport::tlsVerification()
{
    QFETCH(bool, starttls);
    QFETCH(QString, cert);
    QFETCH(QString, verifyName);
    QFETCH(bool, useCa);
    QFETCH(bool, insecure);
    QFETCH(bool, expectUp);
    QFETCH(QString, errorName);
    QFETCH(QString, reasonPart);

    FakeServer server(starttls ? FakeServer::Mode::Plain : FakeServer::Mode::ImplicitTls);
    QSslCertificate serverCert;
    QSslKey serverKey;
    identity(cert, &serverCert, &serverKey);
    server.setIdentity(serverCert, serverKey);
    server.setGreeting("220 smtp.test ESMTP\r\n");
    QVERIFY(server.start());

    EventQueue queue;
    SmtpTransport t;
    t.setEventQueue(&queue, {}, false, 3);
    Recorder rec;
    rec.attach(t, this);
    SmtpTransport::Options o = options(server.port());
    o.implicitTls = !starttls;
    o.peerVerifyName = verifyName;
    o.caFile = useCa ? m_caFile : QString();
    o.insecure = insecure;
    t.connectToServer(o);
    // Nothing may be written before the connection is up (plaintext, or before
    // the certificate was checked): the write is refused, not queued.
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("write of 7 bytes refused")));
    t.write("EARLY\r\n");

    if (starttls) {
        upgradeUntilReply(server, t, rec, "220 2.0.0 Ready to start TLS\r\n", true);
        if (QTest::currentTestFailed())
            return;
        QTRY_VERIFY_WITH_TIMEOUT(rec.data.endsWith("Ready to start TLS\r\n"), kWait);
        t.startTls();
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("write of 7 bytes refused")));
        t.write("EARLY\r\n"); // during the handshake: refused too
    }

    const QString outcome = expectUp ? QString::fromLatin1(starttls ? "encrypted" : "connected")
                                     : QStringLiteral("failed");
    QTRY_VERIFY_WITH_TIMEOUT(rec.log.contains(outcome), kWait);
    const TlsInfo info = t.tlsInfo();
    const QString expectedName = verifyName.isEmpty() ? QStringLiteral("127.0.0.1") : verifyName;
    QCOMPARE(info.peerVerifyName, expectedName);
    QCOMPARE(info.verificationEnabled, !insecure);
    if (!errorName.isEmpty()) {
        QVERIFY2(errorNames(info).contains(errorName), qPrintable(errorNames(info).join(',')));
        bool reasonFound = false;
        for (const TlsInfo::CertificateError &e : info.errors)
            reasonFound = reasonFound || e.reason.contains(reasonPart);
        QVERIFY2(reasonFound, qPrintable(reasonPart));
    } else {
        QVERIFY(info.errors.isEmpty());
    }

    if (expectUp) {
        QCOMPARE(rec.failures, 0);
        QVERIFY(t.isEncrypted());
        QVERIFY(info.encrypted);
        QCOMPARE(info.implicit, !starttls);
        QCOMPARE(info.verified, !insecure);
        QVERIFY(info.protocol.startsWith(QLatin1String("TLSv1.")));
        QVERIFY(!info.cipher.isEmpty());
        QVERIFY(info.cipherBits >= 128);
        QVERIFY(!info.chain.isEmpty());
        QCOMPARE(info.chain.first(), serverCert);
        QVERIFY(t.timings().value("tls").toLongLong() > 0);

        t.write("EHLO client.test\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(server.tlsBytes, QByteArray("EHLO client.test\r\n"), kWait);
        const qsizetype before = rec.data.size();
        server.send("250 smtp.test\r\n");
        QTRY_COMPARE_WITH_TIMEOUT(rec.data.mid(before), QByteArray("250 smtp.test\r\n"), kWait);
        QCOMPARE(server.plainBytes, starttls ? QByteArray("STARTTLS\r\n") : QByteArray());

        const QList<QVariantMap> events = queue.popAll();
        const QStringList names = eventNames(events);
        QVERIFY(names.indexOf("CONNECTED") < names.indexOf("START_SSL"));
        QVERIFY(names.indexOf("START_SSL") < names.indexOf("SSL_ESTABLISHED"));
        const QVariantMap established = eventsNamed(events, QStringLiteral("SSL_ESTABLISHED")).first();
        QCOMPARE(established.value("cipher").toString(), info.cipher);
        QCOMPARE(established.value("cipher_version").toString(), info.protocol);
    } else {
        QCOMPARE(rec.error.category, SmtpError::Category::Tls);
        QCOMPARE(rec.error.code, QStringLiteral("SSL-VERIFY-ERROR"));
        QCOMPARE(rec.error.step, QStringLiteral("TLS handshake"));
        QVERIFY2(rec.error.message.contains(reasonPart), qPrintable(rec.error.message));
        QVERIFY(!info.verified);
        QVERIFY(!t.isOpen());
        QVERIFY(!rec.log.contains(QLatin1String("encrypted")));
        // The server never sees an application byte inside TLS, nor a plaintext
        // one other than the STARTTLS trigger.
        QTRY_VERIFY_WITH_TIMEOUT(server.clientGone, kWait);
        QCOMPARE(server.tlsBytes, QByteArray());
        QCOMPARE(server.plainBytes, starttls ? QByteArray("STARTTLS\r\n") : QByteArray());
        QVERIFY(eventNames(queue.popAll()).contains(QStringLiteral("CHANNEL_CLOSED")));
    }
}

void tst_SmtpTransport::starttlsInjection_data()
{
    QTest::addColumn<QByteArray>("reply");     // the server's answer to the trigger
    QTest::addColumn<bool>("deliverReply");    // let the client read the reply first
    QTest::addColumn<QByteArray>("injected");  // sent before the handshake, unencrypted
    QTest::addRow("clean upgrade") << QByteArray("220 go ahead\r\n") << true << QByteArray();
    // Catalogue A.1: reply and injected lines in ONE write, before the client ran.
    QTest::addRow("same write as the reply")
        << QByteArray("220 go ahead\r\n250-smtp.test\r\n250 AUTH PLAIN\r\n") << false
        << QByteArray("250 AUTH PLAIN");
    // The reply was handed up; more plaintext follows before the handshake.
    QTest::addRow("after the reply was read")
        << QByteArray("220 go ahead\r\n") << true << QByteArray("250 AUTH PLAIN INJ");
}

void tst_SmtpTransport::starttlsInjection()
{
    QFETCH(QByteArray, reply);
    QFETCH(bool, deliverReply);
    QFETCH(QByteArray, injected);

    FakeServer server(FakeServer::Mode::Plain);
    server.setIdentity(m_smtpCert, m_smtpKey);
    server.setGreeting("220 smtp.test ESMTP\r\n");
    QVERIFY(server.start());
    SmtpTransport t;
    Recorder rec;
    rec.attach(t, this);
    SmtpTransport::Options o = options(server.port());
    o.peerVerifyName = QStringLiteral("smtp.test");
    o.caFile = m_caFile;
    t.connectToServer(o);

    upgradeUntilReply(server, t, rec, reply, !deliverReply);
    if (QTest::currentTestFailed())
        return;
    const QByteArray greeting("220 smtp.test ESMTP\r\n");
    if (deliverReply) {
        QTRY_COMPARE_WITH_TIMEOUT(rec.data, greeting + reply, kWait);
        if (!injected.isEmpty())
            server.send(injected);
        server.startTls();
    }
    const qsizetype unread = deliverReply ? injected.size() : reply.size();
    if (unread > 0)
        QVERIFY(waitForKernelBytes(t, unread)); // arrived, and the client has not run since
    QCOMPARE(rec.data, deliverReply ? greeting + reply : greeting);

    t.startTls();
    if (injected.isEmpty()) {
        QTRY_VERIFY_WITH_TIMEOUT(rec.log.contains(QLatin1String("encrypted")), kWait);
        QVERIFY(t.tlsInfo().verified);
        return;
    }
    QTRY_VERIFY_WITH_TIMEOUT(rec.log.contains(QLatin1String("failed")), kWait);
    QCOMPARE(rec.error.category, SmtpError::Category::Tls);
    QCOMPARE(rec.error.step, QStringLiteral("TLS handshake"));
    QVERIFY2(rec.error.message.contains(QLatin1String("between the STARTTLS reply and the TLS handshake")),
             qPrintable(rec.error.message));
    QVERIFY2(rec.error.message.contains(QString::fromLatin1(injected)), qPrintable(rec.error.message));
    QVERIFY(rec.error.serverText.contains(injected));
    QVERIFY(!rec.log.contains(QLatin1String("encrypted")));
    // The injected bytes never reached the caller as data.
    QVERIFY(!rec.data.contains(injected));
    QTRY_VERIFY_WITH_TIMEOUT(server.clientGone, kWait);
    QCOMPARE(server.tlsBytes, QByteArray());
    QCOMPARE(server.plainBytes, QByteArray("STARTTLS\r\n"));
}

// --- failures and timeouts -----------------------------------------------------

void tst_SmtpTransport::connectionRefused()
{
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    } // closed: nothing listens there now

    EventQueue queue;
    SmtpTransport t;
    t.setEventQueue(&queue, {}, false, 1);
    Recorder rec;
    rec.attach(t, this);
    QElapsedTimer clock;
    clock.start();
    t.connectToServer(options(port));
    QTRY_COMPARE_WITH_TIMEOUT(rec.failures, 1, kWait);
    QVERIFY2(clock.elapsed() < 3000, "a refused connection must fail at once, not at the timeout");
    QCOMPARE(rec.error.category, SmtpError::Category::Transport);
    QCOMPARE(rec.error.code, QStringLiteral("SOCKET-CONNECT-ERROR"));
    QCOMPARE(rec.error.step, QStringLiteral("connect"));
    QVERIFY2(rec.error.message.contains(QLatin1String("refused")), qPrintable(rec.error.message));
    QVERIFY2(rec.error.message.contains(QLatin1String("Is the port right?")),
             qPrintable(rec.error.message));
    QVERIFY(!t.isOpen());
    QCOMPARE(rec.log, QStringList{"failed"});
    // Never connected: no CONNECTED, hence no CHANNEL_CLOSED.
    QCOMPARE(eventNames(queue.popAll()), QStringList{"CONNECTING"});
}

void tst_SmtpTransport::reconnectAfterFailure()
{
    quint16 deadPort = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        deadPort = probe.serverPort();
    }
    FakeServer server(FakeServer::Mode::Plain);
    server.setGreeting("220 again\r\n");
    QVERIFY(server.start());

    SmtpTransport t;
    Recorder rec;
    rec.attach(t, this);
    t.connectToServer(options(deadPort));
    QTRY_COMPARE_WITH_TIMEOUT(rec.failures, 1, kWait);
    t.connectToServer(options(server.port()));
    QTRY_COMPARE_WITH_TIMEOUT(rec.data, QByteArray("220 again\r\n"), kWait);
    QCOMPARE(rec.log, (QStringList{"failed", "connected", "received"}));
}

void tst_SmtpTransport::implicitTlsHandshakeTimeout()
{
    // Accepts and reads, never answers: the connect timeout covers the handshake.
    FakeServer server(FakeServer::Mode::Plain);
    QVERIFY(server.start());
    EventQueue queue;
    SmtpTransport t;
    t.setEventQueue(&queue, {}, false, 1);
    Recorder rec;
    rec.attach(t, this);
    SmtpTransport::Options o = options(server.port());
    o.implicitTls = true;
    o.connectTimeoutMs = 300;
    o.caFile = m_caFile;
    QElapsedTimer clock;
    clock.start();
    t.connectToServer(o);
    QTRY_COMPARE_WITH_TIMEOUT(rec.failures, 1, kWait);
    const qint64 elapsed = clock.elapsed();
    QVERIFY2(elapsed >= 250 && elapsed < 5000, qPrintable(QString::number(elapsed)));
    QCOMPARE(rec.error.code, QStringLiteral("SOCKET-TIMEOUT"));
    QCOMPARE(rec.error.category, SmtpError::Category::Tls);
    QCOMPARE(rec.error.step, QStringLiteral("TLS handshake"));
    QVERIFY2(rec.error.message.contains(QLatin1String("STARTTLS")), qPrintable(rec.error.message));
    QVERIFY(server.plainBytes.startsWith('\x16')); // a ClientHello was sent, unanswered
    QCOMPARE(eventNames(queue.popAll()),
             (QStringList{"CONNECTING", "CONNECTED", "START_SSL", "CHANNEL_CLOSED"}));
    QTRY_VERIFY_WITH_TIMEOUT(server.clientGone, kWait);
}

void tst_SmtpTransport::starttlsHandshakeTimeout()
{
    FakeServer server(FakeServer::Mode::Plain);
    server.setGreeting("220 smtp.test ESMTP\r\n");
    QVERIFY(server.start());
    SmtpTransport t;
    Recorder rec;
    rec.attach(t, this);
    SmtpTransport::Options o = options(server.port());
    o.tlsTimeoutMs = 300;
    t.connectToServer(o);
    // The server says 220 but never starts TLS.
    upgradeUntilReply(server, t, rec, "220 go ahead\r\n", false);
    if (QTest::currentTestFailed())
        return;
    QTRY_VERIFY_WITH_TIMEOUT(rec.data.endsWith("220 go ahead\r\n"), kWait);
    QElapsedTimer clock;
    clock.start();
    t.startTls();
    QTRY_COMPARE_WITH_TIMEOUT(rec.failures, 1, kWait);
    QVERIFY2(clock.elapsed() >= 250, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(rec.error.code, QStringLiteral("SOCKET-TIMEOUT"));
    QCOMPARE(rec.error.category, SmtpError::Category::Tls);
    QCOMPARE(rec.error.step, QStringLiteral("TLS handshake"));
    QVERIFY(!rec.log.contains(QLatin1String("encrypted")));
}

void tst_SmtpTransport::plaintextServerOnImplicitTls()
{
    // Catalogue A.10: an SMTP greeting where a TLS ServerHello should be.
    FakeServer server(FakeServer::Mode::Plain);
    server.setGreeting("220 smtp.test ESMTP Postfix\r\n");
    QVERIFY(server.start());
    SmtpTransport t;
    Recorder rec;
    rec.attach(t, this);
    SmtpTransport::Options o = options(server.port());
    o.implicitTls = true;
    o.peerVerifyName = QStringLiteral("smtp.test");
    o.caFile = m_caFile;
    t.connectToServer(o);
    QTRY_COMPARE_WITH_TIMEOUT(rec.failures, 1, kWait);
    QCOMPARE(rec.error.category, SmtpError::Category::Tls);
    QCOMPARE(rec.error.code, QStringLiteral("SSL-HANDSHAKE-ERROR"));
    QCOMPARE(rec.error.step, QStringLiteral("TLS handshake"));
    QVERIFY2(rec.error.message.contains(QLatin1String("plaintext")), qPrintable(rec.error.message));
    QVERIFY2(rec.error.message.contains(QLatin1String("STARTTLS")), qPrintable(rec.error.message));
    QCOMPARE(rec.log, QStringList{"failed"}); // never connected(), the greeting never handed up
    QCOMPARE(rec.data, QByteArray());
}

void tst_SmtpTransport::missingCaFile()
{
    SmtpTransport t;
    Recorder rec;
    rec.attach(t, this);
    SmtpTransport::Options o = options(1);
    o.implicitTls = true;
    o.caFile = m_dir.filePath(QStringLiteral("no-such-ca.pem"));
    t.connectToServer(o);
    QTRY_COMPARE_WITH_TIMEOUT(rec.failures, 1, kWait);
    QCOMPARE(rec.error.category, SmtpError::Category::Usage);
    QCOMPARE(rec.error.code, QStringLiteral("SSL-CA-FILE-ERROR"));
    QVERIFY(rec.error.message.contains(o.caFile));
}

void tst_SmtpTransport::tlsSetupIsAStepOfItsOwn()
{
    FakeServer server(FakeServer::Mode::ImplicitTls);
    server.setIdentity(m_smtpCert, m_smtpKey);
    QVERIFY(server.start());
    SmtpTransport t;
    Recorder rec;
    rec.attach(t, this);
    SmtpTransport::Options o = options(server.port());
    o.implicitTls = true;
    o.peerVerifyName = QStringLiteral("smtp.test");
    o.caFile = m_caFile;
    // Prepared ahead: connectToServer uses that configuration (the CA file's
    // certificate verifies the server) and reports the set-up apart from the
    // connect, when it cost anything.
    const qint64 setupUs = t.prepare(o);
    QVERIFY(setupUs >= 0);
    t.connectToServer(o);
    QTRY_VERIFY_WITH_TIMEOUT(rec.log.contains(QLatin1String("connected")), kWait);
    QVERIFY(t.tlsInfo().verified);
    const QVariantMap timings = t.timings();
    QCOMPARE(timings.contains("tls-setup"), setupUs >= SmtpTransport::TlsSetupReportUs);
    if (setupUs >= SmtpTransport::TlsSetupReportUs)
        QCOMPARE(timings.value("tls-setup").toLongLong(), setupUs);
    QVERIFY(timings.contains("connect"));
    QVERIFY(timings.contains("tls"));

    // A bad CA file found by prepare() fails the connect that follows, as before.
    SmtpTransport bad;
    Recorder badRec;
    badRec.attach(bad, this);
    SmtpTransport::Options b = o;
    b.caFile = m_dir.filePath(QStringLiteral("no-such-ca.pem"));
    bad.prepare(b);
    bad.connectToServer(b);
    QTRY_COMPARE_WITH_TIMEOUT(badRec.failures, 1, kWait);
    QCOMPARE(badRec.error.code, QStringLiteral("SSL-CA-FILE-ERROR"));
}

// --- deadline --------------------------------------------------------------------

void tst_SmtpTransport::deadlinePassed_data()
{
    QTest::addColumn<int>("firstMs");   // armed first
    QTest::addColumn<int>("rearmMs");   // re-armed at once with this (0: not re-armed)
    QTest::addColumn<bool>("trickle");  // server sends a byte every 40 ms meanwhile
    QTest::addColumn<int>("minMs");
    QTest::addRow("silent server") << 150 << 0 << false << 120;
    QTest::addRow("re-armed replaces the first") << 100 << 500 << false << 400;
    // A total deadline, not an inactivity timer (docs/security.md section F, slow loris).
    QTest::addRow("trickling server") << 300 << 0 << true << 250;
}

void tst_SmtpTransport::deadlinePassed()
{
    QFETCH(int, firstMs);
    QFETCH(int, rearmMs);
    QFETCH(bool, trickle);
    QFETCH(int, minMs);

    FakeServer server(FakeServer::Mode::Plain);
    QVERIFY(server.start());
    SmtpTransport t;
    Recorder rec;
    rec.attach(t, this);
    t.connectToServer(options(server.port()));
    QTRY_VERIFY_WITH_TIMEOUT(rec.log.contains(QLatin1String("connected")), kWait);
    QTRY_COMPARE_WITH_TIMEOUT(server.accepted, 1, kWait);

    QTimer trickler;
    if (trickle) {
        connect(&trickler, &QTimer::timeout, this, [&server] { server.send("2"); });
        trickler.start(40);
    }
    QSignalSpy spy(&t, &SmtpTransport::deadlinePassed);
    QElapsedTimer clock;
    clock.start();
    t.setDeadline(firstMs);
    if (rearmMs > 0)
        t.setDeadline(rearmMs);
    QVERIFY(spy.wait(kWait));
    const qint64 elapsed = clock.elapsed();
    QVERIFY2(elapsed >= minMs && elapsed < 5000, qPrintable(QString::number(elapsed)));
    if (trickle)
        QVERIFY(rec.data.size() >= 2); // data kept arriving, the deadline fired anyway
    QVERIFY(!spy.wait(rearmMs > 0 ? rearmMs : firstMs + 200)); // single-shot
    QCOMPARE(spy.count(), 1);
    QVERIFY(t.isOpen()); // a deadline is reported, the decision is the caller's
}

void tst_SmtpTransport::deadlineCleared()
{
    FakeServer server(FakeServer::Mode::Plain);
    QVERIFY(server.start());
    SmtpTransport t;
    Recorder rec;
    rec.attach(t, this);
    t.connectToServer(options(server.port()));
    QTRY_VERIFY_WITH_TIMEOUT(rec.log.contains(QLatin1String("connected")), kWait);
    QSignalSpy spy(&t, &SmtpTransport::deadlinePassed);
    t.setDeadline(100);
    t.clearDeadline();
    QVERIFY(!spy.wait(500));
    QCOMPARE(spy.count(), 0);
}

// --- closing ---------------------------------------------------------------------

void tst_SmtpTransport::remoteClose_data()
{
    QTest::addColumn<bool>("tls");
    QTest::addRow("plain") << false;
    QTest::addRow("implicit TLS") << true;
}

void tst_SmtpTransport::remoteClose()
{
    QFETCH(bool, tls);
    FakeServer server(tls ? FakeServer::Mode::ImplicitTls : FakeServer::Mode::Plain);
    server.setIdentity(m_smtpCert, m_smtpKey);
    QVERIFY(server.start());
    EventQueue queue;
    SmtpTransport t;
    t.setEventQueue(&queue, {}, false, 9);
    Recorder rec;
    rec.attach(t, this);
    SmtpTransport::Options o = options(server.port());
    o.implicitTls = tls;
    o.caFile = m_caFile;
    t.connectToServer(o);
    QTRY_VERIFY_WITH_TIMEOUT(rec.log.contains(QLatin1String("connected")), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(server.conn() && (!tls || server.encrypted), kWait);

    server.conn()->write("421 4.3.2 shutting down\r\n");
    server.conn()->disconnectFromHost();
    QTRY_COMPARE_WITH_TIMEOUT(rec.closes, 1, kWait);
    // The last data first, then closed(): nothing lost, no error.
    QCOMPARE(rec.data, QByteArray("421 4.3.2 shutting down\r\n"));
    QCOMPARE(rec.log, (QStringList{"connected", "received", "closed"}));
    QVERIFY(!t.isOpen());
    const QStringList names = eventNames(queue.popAll());
    QCOMPARE(names.last(), QStringLiteral("CHANNEL_CLOSED"));
    QCOMPARE(names.count(QStringLiteral("CHANNEL_CLOSED")), 1);
    QCOMPARE(rec.failures, 0);
}

void tst_SmtpTransport::abortWhenOpen()
{
    FakeServer server(FakeServer::Mode::Plain);
    QVERIFY(server.start());
    EventQueue queue;
    SmtpTransport t;
    t.setEventQueue(&queue, {}, false, 1);
    Recorder rec;
    rec.attach(t, this);
    t.connectToServer(options(server.port()));
    QTRY_VERIFY_WITH_TIMEOUT(rec.log.contains(QLatin1String("connected")), kWait);
    t.setDeadline(200);
    t.abort();
    QCOMPARE(rec.log, (QStringList{"connected", "closed"})); // at once
    QVERIFY(!t.isOpen());
    QTRY_VERIFY_WITH_TIMEOUT(server.clientGone, kWait);
    QSignalSpy deadline(&t, &SmtpTransport::deadlinePassed);
    QVERIFY(!deadline.wait(400)); // timers stopped with the connection
    QCOMPARE(rec.log, (QStringList{"connected", "closed"}));
    QCOMPARE(eventNames(queue.popAll()).last(), QStringLiteral("CHANNEL_CLOSED"));
}

void tst_SmtpTransport::abortWhileConnecting()
{
    FakeServer server(FakeServer::Mode::Plain); // never answers the handshake
    QVERIFY(server.start());
    SmtpTransport t;
    Recorder rec;
    rec.attach(t, this);
    SmtpTransport::Options o = options(server.port());
    o.implicitTls = true;
    o.connectTimeoutMs = 300;
    t.connectToServer(o);
    QTRY_VERIFY_WITH_TIMEOUT(!server.plainBytes.isEmpty(), kWait); // handshake under way
    t.abort();
    QTRY_VERIFY_WITH_TIMEOUT(server.clientGone, kWait);
    QSignalSpy failed(&t, &SmtpTransport::failed);
    QVERIFY(!failed.wait(600)); // the connect timeout died with the attempt
    QCOMPARE(rec.log, QStringList());
}

void tst_SmtpTransport::gracefulDisconnect()
{
    FakeServer server(FakeServer::Mode::Plain);
    QVERIFY(server.start());
    SmtpTransport t;
    Recorder rec;
    rec.attach(t, this);
    t.connectToServer(options(server.port()));
    QTRY_VERIFY_WITH_TIMEOUT(rec.log.contains(QLatin1String("connected")), kWait);
    t.write("QUIT\r\n");
    t.disconnectFromServer(); // the pending write goes out first
    QTRY_COMPARE_WITH_TIMEOUT(rec.closes, 1, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(server.clientGone, kWait);
    QCOMPARE(server.plainBytes, QByteArray("QUIT\r\n"));
    QCOMPARE(rec.failures, 0);
    QVERIFY(!t.isOpen());
}

void tst_SmtpTransport::deletedEvent()
{
    FakeServer server(FakeServer::Mode::Plain);
    QVERIFY(server.start());
    EventQueue queue;
    auto t = std::make_unique<SmtpTransport>();
    t->setEventQueue(&queue, QStringLiteral("x"), false, 77);
    Recorder rec;
    rec.attach(*t, this);
    t->connectToServer(options(server.port()));
    QTRY_VERIFY_WITH_TIMEOUT(rec.log.contains(QLatin1String("connected")), kWait);
    t.reset();
    const QList<QVariantMap> events = queue.popAll();
    QCOMPARE(eventNames(events).mid(events.size() - 2),
             (QStringList{"CHANNEL_CLOSED", "DELETED"}));
    QCOMPARE(events.last().value("id").toLongLong(), 77);
    QTRY_VERIFY_WITH_TIMEOUT(server.clientGone, kWait);
}

void tst_SmtpTransport::hostLookup()
{
    // Only where "localhost" comes from /etc/hosts: a test must never query DNS.
    QFile hosts(QStringLiteral("/etc/hosts"));
    QFile nss(QStringLiteral("/etc/nsswitch.conf"));
    if (!hosts.open(QIODevice::ReadOnly) || !nss.open(QIODevice::ReadOnly))
        QSKIP("no /etc/hosts or /etc/nsswitch.conf");
    const QRegularExpression hostsLine(QStringLiteral("^\\s*127\\.0\\.0\\.1\\s+(.*\\s)?localhost(\\s|$)"),
                                       QRegularExpression::MultilineOption);
    const QRegularExpression filesFirst(QStringLiteral("^hosts:\\s+files\\b"),
                                        QRegularExpression::MultilineOption);
    if (!hostsLine.match(QString::fromUtf8(hosts.readAll())).hasMatch()
        || !filesFirst.match(QString::fromUtf8(nss.readAll())).hasMatch())
        QSKIP("localhost is not resolved from /etc/hosts first here");

    FakeServer server(FakeServer::Mode::Plain);
    server.setGreeting("220 localhost\r\n");
    QVERIFY(server.start());
    EventQueue queue;
    SmtpTransport t;
    t.setEventQueue(&queue, {}, false, 5);
    Recorder rec;
    rec.attach(t, this);
    SmtpTransport::Options o = options(server.port());
    o.host = QStringLiteral("localhost");
    t.connectToServer(o);
    QTRY_COMPARE_WITH_TIMEOUT(rec.data, QByteArray("220 localhost\r\n"), kWait);
    QVERIFY(t.resolvedAddresses().contains(QHostAddress(QHostAddress::LocalHost)));
    QCOMPARE(t.peerAddress(), QHostAddress(QHostAddress::LocalHost));
    QVERIFY(t.timings().value("lookup").toLongLong() > 0);

    const QList<QVariantMap> events = queue.popAll();
    const QStringList names = eventNames(events);
    QCOMPARE(names.first(), QStringLiteral("HOSTNAME_LOOKUP"));
    QCOMPARE(events.first().value("name").toString(), QStringLiteral("localhost"));
    // One RESOLVED + CONNECTING per address tried, the last one connected.
    const QList<QVariantMap> resolved = eventsNamed(events, QStringLiteral("HOSTNAME_RESOLVED"));
    const QList<QVariantMap> connecting = eventsNamed(events, QStringLiteral("CONNECTING"));
    QVERIFY(!resolved.isEmpty());
    QCOMPARE(resolved.size(), connecting.size());
    QCOMPARE(resolved.last().value("address").toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(resolved.last().value("typename").toString(), QStringLiteral("ipv4"));
    QCOMPARE(resolved.last().value("type").toInt(), int(AF_INET));
    QCOMPARE(connecting.last().value("target").toString(), QStringLiteral("localhost"));
    QVERIFY(names.indexOf("CONNECTED") > names.lastIndexOf("CONNECTING"));
}

QTEST_GUILESS_MAIN(tst_SmtpTransport)
#include "tst_smtptransport.moc"
