// ConnectionProfile: a name plus ConnectionSettings. The URL <-> fields
// behaviour the connection panel relies on (each reference scheme, the password
// kept out of the URL), mismatch hints, validation, the one set of defaults, the
// password field's secret by mechanism, and the client it configures.

#include "connection/connectionprofile.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace Qt::StringLiterals;
using Security = ConnectionSettings::Security;

class TestConnectionProfile : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fromUrl_data();
    void fromUrl();
    void invalidUrl_data();
    void invalidUrl();
    void roundTrip_data();
    void roundTrip();
    void plainStaysPlain();
    void urlNeverHoldsPassword();
    void mismatchHint_data();
    void mismatchHint();
    void validationProblem_data();
    void validationProblem();
    void createClient_data();
    void createClient();
    void createClientRefusesInvalid();
    void defaultsAreTheSettings();
    void secretFollowsMechanism();
    void keychainKey();
};

void TestConnectionProfile::fromUrl_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<int>("security");
    QTest::addColumn<QString>("user");

    const int ifOffered = int(Security::StartTlsOpportunistic);
    const int required = int(Security::StartTlsRequired);
    const int implicit = int(Security::ImplicitTls);
    // The six reference schemes (smtpurl.h table).
    QTest::addRow("smtp") << "smtp://mail.example.org" << "mail.example.org" << 25 << ifOffered << "";
    QTest::addRow("esmtp") << "esmtp://mail.example.org" << "mail.example.org" << 587 << ifOffered << "";
    QTest::addRow("smtps") << "smtps://mail.example.org" << "mail.example.org" << 465 << implicit << "";
    QTest::addRow("esmtps") << "esmtps://mail.example.org" << "mail.example.org" << 465 << implicit << "";
    QTest::addRow("smtptls") << "smtptls://mail.example.org" << "mail.example.org" << 25 << required << "";
    QTest::addRow("esmtptls") << "esmtptls://mail.example.org" << "mail.example.org" << 587 << required << "";
    QTest::addRow("upper-case scheme") << "ESMTPS://mx.example.net" << "mx.example.net" << 465 << implicit << "";
    QTest::addRow("no scheme") << "mail.example.org:2525" << "mail.example.org" << 2525 << ifOffered << "";
    QTest::addRow("ipv6 loopback") << "smtp://[::1]" << "::1" << 25 << ifOffered << "";
    QTest::addRow("ipv6 with port") << "esmtptls://[::1]:2587" << "::1" << 2587 << required << "";
    QTest::addRow("ipv4") << "smtps://127.0.0.1:4650" << "127.0.0.1" << 4650 << implicit << "";
    QTest::addRow("user without password") << "esmtptls://alice@mail.example.org" << "mail.example.org" << 587
                                           << required << "alice";
    QTest::addRow("user with password") << "esmtptls://alice:pw@mail.example.org" << "mail.example.org" << 587
                                        << required << "alice";
    QTest::addRow("encoded user") << "smtps://bob%40example.org@[::1]:465" << "::1" << 465 << implicit
                                  << "bob@example.org";
}

void TestConnectionProfile::fromUrl()
{
    QFETCH(QString, url);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(int, security);
    QFETCH(QString, user);

    ConnectionSettings base = ConnectionProfile().settings;
    base.ehloName = QStringLiteral("client.example.org");
    base.readTimeoutMs = 1234;
    SmtpError error = SmtpError::make(SmtpError::Category::Usage, u"STALE"_s, u"x"_s, u"stale"_s);
    const auto p = ConnectionSettings::fromUrl(url, base, &error);
    QVERIFY2(p.has_value(), qPrintable(error.message));
    QVERIFY(!error.isError());
    QCOMPARE(p->host, host);
    QCOMPARE(int(p->port), port);
    QCOMPARE(int(p->security), security);
    QCOMPARE(p->user, user);
    // Other fields keep the base's values.
    QCOMPARE(p->ehloName, base.ehloName);
    QCOMPARE(p->readTimeoutMs, 1234);
}

void TestConnectionProfile::invalidUrl_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("mentions");

    QTest::addRow("unknown scheme") << "ftp://mail.example.org" << "ftp";
    QTest::addRow("empty") << "" << "empty";
    QTest::addRow("port zero") << "smtp://mail.example.org:0" << "port";
    QTest::addRow("port too big") << "smtp://mail.example.org:70000" << "range";
    QTest::addRow("port not a number") << "smtp://mail.example.org:abc" << "number";
    QTest::addRow("ipv6 without brackets") << "smtp://::1:25" << "bracket";
    QTest::addRow("unclosed bracket") << "smtp://[::1:25" << "]";
    QTest::addRow("path") << "smtp://mail.example.org/x" << "path";
    QTest::addRow("space") << "smtp://mail example.org" << "space";
    QTest::addRow("unix socket") << "smtp:///run/smtp.sock" << "UNIX";
    QTest::addRow("password without user") << "smtp://:pw@mail.example.org" << "user";
}

void TestConnectionProfile::invalidUrl()
{
    QFETCH(QString, url);
    QFETCH(QString, mentions);
    SmtpError error;
    const auto p = ConnectionSettings::fromUrl(url, ConnectionProfile().settings, &error);
    QVERIFY(!p.has_value());
    QVERIFY2(error.message.contains(mentions, Qt::CaseInsensitive), qPrintable(error.message));
}

void TestConnectionProfile::roundTrip_data()
{
    QTest::addColumn<int>("security");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("expectedUrl");

    QTest::addRow("none 25") << int(Security::Plain) << "mail.example.org" << 25 << ""
                             << "smtp://mail.example.org:25";
    QTest::addRow("if-offered 25") << int(Security::StartTlsOpportunistic) << "mail.example.org" << 25 << ""
                                   << "smtp://mail.example.org:25";
    QTest::addRow("if-offered 587") << int(Security::StartTlsOpportunistic) << "mail.example.org" << 587 << ""
                                    << "esmtp://mail.example.org:587";
    QTest::addRow("required 587") << int(Security::StartTlsRequired) << "mail.example.org" << 587 << "alice"
                                  << "esmtptls://alice@mail.example.org:587";
    QTest::addRow("required 25") << int(Security::StartTlsRequired) << "mail.example.org" << 25 << ""
                                 << "smtptls://mail.example.org:25";
    QTest::addRow("required 2525") << int(Security::StartTlsRequired) << "127.0.0.1" << 2525 << ""
                                   << "esmtptls://127.0.0.1:2525";
    QTest::addRow("implicit 465") << int(Security::ImplicitTls) << "mail.example.org" << 465 << "bob"
                                  << "smtps://bob@mail.example.org:465";
    QTest::addRow("implicit ipv6") << int(Security::ImplicitTls) << "::1" << 4465 << ""
                                   << "smtps://[::1]:4465";
    QTest::addRow("user with @") << int(Security::StartTlsRequired) << "::1" << 587 << "bob@example.org"
                                 << "esmtptls://bob%40example.org@[::1]:587";
}

void TestConnectionProfile::roundTrip()
{
    QFETCH(int, security);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(QString, user);
    QFETCH(QString, expectedUrl);

    ConnectionSettings p = ConnectionProfile().settings;
    p.security = Security(security);
    p.host = host;
    p.port = quint16(port);
    p.user = user;
    QCOMPARE(p.toUrl(), expectedUrl);
    SmtpError error;
    const auto back = ConnectionSettings::fromUrl(p.toUrl(), p, &error);
    QVERIFY2(back.has_value(), qPrintable(error.message));
    QCOMPARE(*back, p);
}

void TestConnectionProfile::plainStaysPlain()
{
    // None has no scheme of its own: smtp:// read back keeps None only when the
    // profile was None already; otherwise smtp:// means STARTTLS if offered.
    ConnectionSettings none = ConnectionProfile().settings;
    none.security = Security::Plain;
    none.port = 25;
    QVERIFY(none.toUrl().startsWith(QLatin1String("smtp://")));
    SmtpError error;
    QCOMPARE(ConnectionSettings::fromUrl(QStringLiteral("smtp://h.example:25"), none, &error)->security,
             Security::Plain);
    QCOMPARE(ConnectionSettings::fromUrl(QStringLiteral("esmtp://h.example"), none, &error)->security,
             Security::Plain);
    ConnectionSettings required = ConnectionProfile().settings;
    required.security = Security::StartTlsRequired;
    QCOMPARE(ConnectionSettings::fromUrl(QStringLiteral("smtp://h.example:25"), required, &error)->security,
             Security::StartTlsOpportunistic);
    // A URL that asks for TLS leaves None.
    QCOMPARE(ConnectionSettings::fromUrl(QStringLiteral("smtps://h.example"), none, &error)->security,
             Security::ImplicitTls);
}

void TestConnectionProfile::urlNeverHoldsPassword()
{
    ConnectionSettings p = ConnectionProfile().settings;
    p.user = QStringLiteral("alice");
    p.password = QStringLiteral("pw-7f3a9c");
    QVERIFY(!p.toUrl().contains(QLatin1String("pw-7f3a9c")));
    // A password typed into a URL is taken (into the password field) but the
    // URL given back drops it.
    SmtpError error;
    const auto parsed = ConnectionSettings::fromUrl(QStringLiteral("esmtptls://alice:other-9d2e@h.example"),
                                                   ConnectionProfile().settings, &error);
    QVERIFY(parsed);
    QCOMPARE(parsed->password, QStringLiteral("other-9d2e"));
    QVERIFY(!parsed->toUrl().contains(QLatin1String("other-9d2e")));
    // Without one in the URL, the base's password is kept.
    const auto kept = ConnectionSettings::fromUrl(QStringLiteral("esmtptls://alice@h.example"), p, &error);
    QVERIFY(kept);
    QCOMPARE(kept->password, p.password);
}

void TestConnectionProfile::mismatchHint_data()
{
    QTest::addColumn<int>("security");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("mentions"); // empty: no hint expected
    QTest::addColumn<int>("suggested");

    QTest::addRow("implicit on 587") << int(Security::ImplicitTls) << 587 << "" << "465" << 465;
    QTest::addRow("implicit on 25") << int(Security::ImplicitTls) << 25 << "" << "465" << 465;
    QTest::addRow("implicit on 465") << int(Security::ImplicitTls) << 465 << "" << "" << 0;
    QTest::addRow("implicit on 2465") << int(Security::ImplicitTls) << 2465 << "" << "" << 0;
    QTest::addRow("starttls required on 465") << int(Security::StartTlsRequired) << 465 << "" << "465" << 587;
    QTest::addRow("starttls if offered on 465") << int(Security::StartTlsOpportunistic) << 465 << "" << "465" << 587;
    QTest::addRow("starttls on 587") << int(Security::StartTlsRequired) << 587 << "alice" << "" << 0;
    QTest::addRow("starttls on 25") << int(Security::StartTlsOpportunistic) << 25 << "" << "" << 0;
    QTest::addRow("none with user") << int(Security::Plain) << 587 << "alice" << "clear text" << 0;
    QTest::addRow("none without user") << int(Security::Plain) << 25 << "" << "" << 0;
}

void TestConnectionProfile::mismatchHint()
{
    QFETCH(int, security);
    QFETCH(int, port);
    QFETCH(QString, user);
    QFETCH(QString, mentions);
    QFETCH(int, suggested);
    ConnectionSettings p = ConnectionProfile().settings;
    p.security = Security(security);
    p.port = quint16(port);
    p.user = user;
    const QString hint = p.mismatchHint();
    if (mentions.isEmpty())
        QVERIFY2(hint.isEmpty(), qPrintable(hint));
    else
        QVERIFY2(hint.contains(mentions), qPrintable(hint));
    QCOMPARE(int(p.suggestedPort()), suggested);
}

void TestConnectionProfile::validationProblem_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("mentions"); // empty: valid

    QTest::addRow("defaults") << "" << "" << "";
    QTest::addRow("empty host") << "host" << "" << "Host";
    QTest::addRow("blank host") << "host" << "   " << "Host";
    QTest::addRow("host with CRLF") << "host" << "mail.example.org\r\nRSET" << "Host";
    QTest::addRow("host with NUL") << QStringLiteral("host") << QStringLiteral("a") + QChar(0) + QStringLiteral("b")
                                   << "Host";
    QTest::addRow("host with space") << "host" << "mail example" << "Host";
    QTest::addRow("host bad label") << "host" << "-bad.example" << "Host";
    QTest::addRow("host ipv6") << "host" << "::1" << "";
    QTest::addRow("host ipv6 bracketed") << "host" << "[::1]" << "";
    QTest::addRow("host ipv4") << "host" << "127.0.0.1" << "";
    QTest::addRow("host bad ipv4") << "host" << "300.1.1.1" << "Host";
    QTest::addRow("port 0") << "port" << "0" << "Port";
    QTest::addRow("port 65535") << "port" << "65535" << "";
    QTest::addRow("port 1") << "port" << "1" << "";
    QTest::addRow("user with LF") << "user" << "alice\nMAIL FROM:<x>" << "User";
    QTest::addRow("user plain") << "user" << "alice@example.org" << "";
    QTest::addRow("ehlo with CR") << "ehlo" << "client\r" << "EHLO";
    QTest::addRow("ehlo empty") << "ehlo" << "" << "EHLO";
    QTest::addRow("ehlo space") << "ehlo" << "my client" << "EHLO";
    QTest::addRow("ehlo bad literal") << "ehlo" << "[999.1.1.1]" << "EHLO";
    QTest::addRow("ehlo ipv4 literal") << "ehlo" << "[127.0.0.1]" << "";
    QTest::addRow("ehlo ipv6 literal") << "ehlo" << "[IPv6:::1]" << "";
    QTest::addRow("ehlo domain") << "ehlo" << "client.example.org" << "";
    QTest::addRow("ehlo underscore") << "ehlo" << "my_client" << "EHLO";
    QTest::addRow("tls name with LF") << "tlsName" << "mail\n.example" << "TLS name";
    QTest::addRow("ca file missing") << "caFile" << "/nonexistent/ca.pem" << "CA file";
    QTest::addRow("ca file is a directory") << "caFile" << "<dir>" << "CA file";
    QTest::addRow("ca file readable") << "caFile" << "<file>" << "";
    QTest::addRow("connect timeout 0") << "connectTimeoutMs" << "0" << "Connect timeout";
    QTest::addRow("read timeout 0") << "readTimeoutMs" << "0" << "Read timeout";
    QTest::addRow("unknown mechanism") << "mechanism" << "DIGEST-MD5" << "Mechanism";
    QTest::addRow("known mechanism") << "mechanism" << "scram-sha-256" << "";
}

void TestConnectionProfile::validationProblem()
{
    QFETCH(QString, field);
    QFETCH(QString, value);
    QFETCH(QString, mentions);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    ConnectionSettings p = ConnectionProfile().settings;
    if (field == QLatin1String("host")) {
        p.host = value;
    } else if (field == QLatin1String("port")) {
        p.port = quint16(value.toInt());
    } else if (field == QLatin1String("user")) {
        p.user = value;
    } else if (field == QLatin1String("ehlo")) {
        p.ehloName = value;
    } else if (field == QLatin1String("tlsName")) {
        p.peerName = value;
    } else if (field == QLatin1String("caFile")) {
        if (value == QLatin1String("<dir>")) {
            p.caFile = dir.path();
        } else if (value == QLatin1String("<file>")) {
            QFile f(dir.filePath(QStringLiteral("ca.pem")));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
            f.close();
            p.caFile = f.fileName();
        } else {
            p.caFile = value;
        }
    } else if (field == QLatin1String("connectTimeoutMs")) {
        p.connectTimeoutMs = value.toInt();
    } else if (field == QLatin1String("readTimeoutMs")) {
        p.readTimeoutMs = value.toInt();
    } else if (field == QLatin1String("mechanism")) {
        p.mechanism = value;
    }
    const QString problem = p.validationProblem();
    if (mentions.isEmpty())
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    else
        QVERIFY2(problem.startsWith(mentions), qPrintable(problem));
}

void TestConnectionProfile::createClient_data()
{
    QTest::addColumn<int>("security");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<bool>("tls");
    QTest::addColumn<bool>("ssl");
    QTest::addColumn<QString>("target");

    QTest::addRow("none") << int(Security::Plain) << "127.0.0.1" << 25 << false << false << "127.0.0.1:25";
    QTest::addRow("if offered") << int(Security::StartTlsOpportunistic) << "mail.example.org" << 587 << false << false
                                << "mail.example.org:587";
    QTest::addRow("required") << int(Security::StartTlsRequired) << "::1" << 2587 << true << false << "[::1]:2587";
    QTest::addRow("implicit") << int(Security::ImplicitTls) << "mail.example.org" << 465 << false << true
                              << "mail.example.org:465";
    QTest::addRow("implicit bracketed ipv6") << int(Security::ImplicitTls) << "[::1]" << 4465 << false << true
                                             << "[::1]:4465";
}

void TestConnectionProfile::createClient()
{
    QFETCH(int, security);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(bool, tls);
    QFETCH(bool, ssl);
    QFETCH(QString, target);

    ConnectionProfile p;
    ConnectionSettings &s = p.settings;
    s.security = Security(security);
    s.host = host;
    s.port = quint16(port);
    s.user = QStringLiteral("alice");
    s.password = QStringLiteral("pw");
    s.connectTimeoutMs = 1500 + port; // distinct per row, so a fixed value cannot pass
    s.readTimeoutMs = 2500 + port;
    s.dataTimeoutMs = 3500 + port;
    s.keepAlive = (port % 2) == 1;
    s.pipelining = (port % 2) == 0;
    s.chunking = (port % 2) == 1;
    s.allowPlaintextAuth = (port % 2) == 0;
    s.testMode = security == int(Security::Plain);
    const std::unique_ptr<SmtpClient> client = p.createClient();
    QVERIFY(client);
    QCOMPARE(client->tls(), tls);
    QCOMPARE(client->ssl(), ssl);
    QCOMPARE(client->getConnectTimeoutMs(), 1500 + port);
    QCOMPARE(client->getReadTimeoutMs(), 2500 + port);
    QCOMPARE(client->getDataTimeoutMs(), 3500 + port);
    QCOMPARE(client->getTarget(), target);
    QCOMPARE(client->keepAlive(), s.keepAlive);
    QCOMPARE(client->test(), s.testMode);
    // Every setting reaches the client at once (SmtpClient::setSettings), the
    // host without the brackets of the URL form.
    ConnectionSettings expected = s;
    if (expected.host.startsWith(u'['))
        expected.host = expected.host.mid(1, expected.host.size() - 2);
    QCOMPARE(client->settings(), expected);
}

void TestConnectionProfile::createClientRefusesInvalid()
{
    ConnectionProfile p;
    p.settings.host = QStringLiteral("mail.example.org\r\nQUIT");
    try {
        const auto client = p.createClient();
        QFAIL("an invalid profile made a client");
    } catch (const SmtpException &e) {
        QCOMPARE(e.error().category, SmtpError::Category::Usage);
        QVERIFY(e.error().message.startsWith(QLatin1String("Host")));
    }
}

void TestConnectionProfile::defaultsAreTheSettings()
{
    // One set of defaults: ConnectionSettings's (the command line's), the host
    // aside. The window's read timeout was 60 s and its mode STARTTLS required
    // on 587; now 15 s, STARTTLS when offered, on 25.
    const ConnectionProfile p;
    QCOMPARE(p.name, QStringLiteral("Default"));
    ConnectionSettings expected;
    expected.host = QStringLiteral("localhost");
    QCOMPARE(p.settings, expected);
    QCOMPARE(p.settings.readTimeoutMs, 15000);
    QCOMPARE(p.settings.port, quint16(25));
    QCOMPARE(p.settings.security, Security::StartTlsOpportunistic);
    QVERIFY(!p.nameDescribesTarget);
}

void TestConnectionProfile::secretFollowsMechanism()
{
    // The panel has one password field; with XOAUTH2/OAUTHBEARER it holds the
    // bearer token (RFC 7628 3.1), which the client takes as oauthToken.
    ConnectionProfile p;
    p.settings.user = QStringLiteral("alice");
    p.setSecret(QStringLiteral("pw-1"));
    QCOMPARE(p.settings.password, QStringLiteral("pw-1"));
    QVERIFY(p.settings.oauthToken.isEmpty());

    p.setMechanism(QStringLiteral("XOAUTH2"));
    QCOMPARE(p.secret(), QStringLiteral("pw-1"));
    QCOMPARE(p.settings.oauthToken, QByteArray("pw-1"));
    QVERIFY(p.settings.password.isEmpty());
    p.setSecret(QStringLiteral("token-2"));
    QCOMPARE(p.settings.oauthToken, QByteArray("token-2"));
    {
        const auto client = p.createClient();
        QCOMPARE(client->settings().oauthToken, QByteArray("token-2"));
        QVERIFY(client->settings().password.isEmpty());
    }

    p.setMechanism(QStringLiteral("oauthbearer"));
    QCOMPARE(p.settings.oauthToken, QByteArray("token-2"));
    p.setMechanism(QStringLiteral("PLAIN"));
    QCOMPARE(p.settings.password, QStringLiteral("token-2"));
    QVERIFY(p.settings.oauthToken.isEmpty());

    // A password typed into the URL lands in settings.password: with a token
    // mechanism it is the token.
    p.setMechanism(QStringLiteral("XOAUTH2"));
    p.settings.password = QStringLiteral("from-url");
    p.normaliseSecret();
    QCOMPARE(p.settings.oauthToken, QByteArray("from-url"));
    QVERIFY(p.settings.password.isEmpty());
}

void TestConnectionProfile::keychainKey()
{
    ConnectionProfile p;
    QCOMPARE(p.keychainKey(), QStringLiteral("profile/Default"));
    p.name = QStringLiteral("  lab/postfix ");
    QCOMPARE(p.keychainKey(), QStringLiteral("profile/lab/postfix"));
    p.name.clear();
    QCOMPARE(p.keychainKey(), QStringLiteral("profile/Default"));
}

QTEST_MAIN(TestConnectionProfile)
#include "tst_connectionprofile.moc"
