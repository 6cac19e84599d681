// ConnectionSettings (core/client/connectionsettings.h): one list of fields that
// covers the struct, one default per field, one spelling per security mode, the
// URL both ways, validation naming the field, and SmtpClient's setters as views.

#include "client/connectionsettings.h"
#include "client/smtpclient.h"

#include <QTemporaryFile>
#include <QTest>

#include <cstddef>

using namespace Qt::StringLiterals;
using Security = ConnectionSettings::Security;

namespace {

// The number of members of an aggregate: the longest brace list it accepts.
struct AnyValue
{
    template<typename T>
    operator T() const; // NOLINT(google-explicit-constructor): never called, only named
};

template<typename T, typename... Args>
constexpr std::size_t memberCount()
{
    if constexpr (requires { T{Args{}..., AnyValue{}}; })
        return memberCount<T, Args..., AnyValue>();
    else
        return sizeof...(Args);
}

// Every field set to a value unlike its default.
ConnectionSettings unusual()
{
    ConnectionSettings s;
    s.host = u"mx.example.test"_s;
    s.port = 2525;
    s.security = Security::ImplicitTls;
    s.user = u"alice"_s;
    s.password = u"secret"_s;
    s.oauthToken = "token";
    s.mechanism = u"XOAUTH2"_s;
    s.allowPlaintextAuth = true;
    s.caFile = u"/etc/ca.pem"_s;
    s.verifyPeer = false;
    s.peerName = u"smtp.example.test"_s;
    s.ehloName = u"client.example.test"_s;
    s.connectTimeoutMs = 1001;
    s.readTimeoutMs = 1002;
    s.dataTimeoutMs = 1003;
    s.pipelining = false;
    s.chunking = false;
    s.keepAlive = true;
    s.testMode = true;
    s.showSecrets = true;
    s.warnSlowMs = 1004;
    s.warnMinBytesPerSecond = 1005;
    return s;
}

} // namespace

class TestConnectionSettings : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fieldListCoversTheStruct();
    void everyFieldRoundTrips();
    void secretsNeverInTheMap();
    void badValuesNameTheKey();
    void defaults();
    void securityNames();
    void url_data();
    void url();
    void urlErrors();
    void validationNamesTheField_data();
    void validationNamesTheField();
    void hints();
    void clientSettersAreViews();
    void clientTakesSettings();
};

void TestConnectionSettings::fieldListCoversTheStruct()
{
    // A member added to the struct and not to fields() would be stored nowhere.
    QCOMPARE(qsizetype(memberCount<ConnectionSettings>()), ConnectionSettings::fields().size());
    QStringList keys;
    for (const ConnectionSettings::Field &f : ConnectionSettings::fields())
        keys.append(QString::fromLatin1(f.key));
    keys.removeDuplicates();
    QCOMPARE(keys.size(), ConnectionSettings::fields().size());
}

void TestConnectionSettings::everyFieldRoundTrips()
{
    const ConnectionSettings s = unusual();
    const ConnectionSettings defaults;
    QVariantMap map = s.toVariantMap();
    map.insert(u"password"_s, s.password);
    map.insert(u"oauth_token"_s, s.oauthToken);
    QString error;
    const auto back = ConnectionSettings::fromVariantMap(map, defaults, &error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(*back, s);
    // Each field on its own changes exactly that field.
    for (const ConnectionSettings::Field &f : ConnectionSettings::fields()) {
        const QString key = QString::fromLatin1(f.key);
        const auto one = ConnectionSettings::fromVariantMap({{key, map.value(key)}}, defaults, &error);
        QVERIFY2(one, qPrintable(error));
        QVERIFY2(!(*one == defaults), f.key);
        QVariantMap expected = defaults.toVariantMap();
        if (!f.secret)
            expected.insert(key, map.value(key));
        QCOMPARE(one->toVariantMap(), expected);
    }
    // QSettings gives strings back: they read the same.
    QVariantMap strings;
    for (auto it = map.cbegin(); it != map.cend(); ++it)
        strings.insert(it.key(), it->toString());
    const auto fromStrings = ConnectionSettings::fromVariantMap(strings, defaults, &error);
    QVERIFY2(fromStrings, qPrintable(error));
    QCOMPARE(*fromStrings, s);
}

void TestConnectionSettings::secretsNeverInTheMap()
{
    const QVariantMap map = unusual().toVariantMap();
    QVERIFY(!map.contains(u"password"_s));
    QVERIFY(!map.contains(u"oauth_token"_s));
    for (const QVariant &v : map) {
        QVERIFY(v.toString() != u"secret");
        QVERIFY(v.toString() != u"token");
    }
    int secrets = 0;
    for (const ConnectionSettings::Field &f : ConnectionSettings::fields())
        secrets += f.secret ? 1 : 0;
    QCOMPARE(secrets, 2);
}

void TestConnectionSettings::badValuesNameTheKey()
{
    const QList<std::pair<QString, QVariant>> bad = {
        {u"port"_s, 0},           {u"port"_s, 70000},        {u"port"_s, u"smtp"_s},
        {u"security"_s, u"ssl"_s}, {u"read_timeout_ms"_s, -1}, {u"pipelining"_s, u"maybe"_s},
        {u"host"_s, 42},
    };
    for (const auto &[key, value] : bad) {
        QString error;
        QVERIFY2(!ConnectionSettings::fromVariantMap({{key, value}}, {}, &error), qPrintable(key));
        QVERIFY2(error.startsWith(key + u':'), qPrintable(error));
    }
}

void TestConnectionSettings::defaults()
{
    // One place: the engine, the command line and the window start from these.
    const ConnectionSettings s;
    QCOMPARE(s.security, Security::StartTlsOpportunistic); // the reference's default
    QCOMPARE(s.port, quint16(25));
    QCOMPARE(s.connectTimeoutMs, 30000);
    QCOMPARE(s.readTimeoutMs, 15000);
    QCOMPARE(s.dataTimeoutMs, 600000);
    QCOMPARE(s.ehloName, u"localhost"_s);
    QVERIFY(s.verifyPeer);
    QVERIFY(!s.allowPlaintextAuth);
    QVERIFY(s.pipelining && s.chunking);
    const SmtpClient client(u"mx.example.test"_s, 25);
    ConnectionSettings expected;
    expected.host = u"mx.example.test"_s;
    QCOMPARE(client.settings(), expected);
    QCOMPARE(client.getReadTimeoutMs(), s.readTimeoutMs);
    QCOMPARE(ConnectionSettings::defaultPort(Security::ImplicitTls), quint16(465));
    QCOMPARE(ConnectionSettings::defaultPort(Security::StartTlsRequired), quint16(25));
}

void TestConnectionSettings::securityNames()
{
    const QStringList names{u"plain"_s, u"starttls-opportunistic"_s, u"starttls"_s, u"implicit-tls"_s};
    QCOMPARE(Smtp::securities().size(), names.size());
    for (qsizetype i = 0; i < names.size(); ++i) {
        QCOMPARE(Smtp::securityName(Smtp::securities().at(i)), names.at(i));
        QCOMPARE(Smtp::securityFromName(names.at(i)), Smtp::securities().at(i));
    }
    // Profiles saved before read the same.
    QCOMPARE(Smtp::securityFromName(u"none"), Security::Plain);
    QCOMPARE(Smtp::securityFromName(u"starttls-if-offered"), Security::StartTlsOpportunistic);
    QCOMPARE(Smtp::securityFromName(u"starttls-required"), Security::StartTlsRequired);
    QVERIFY(!Smtp::securityFromName(u"tls"));
}

void TestConnectionSettings::url_data()
{
    QTest::addColumn<int>("security");
    QTest::addColumn<int>("port");
    QTest::addColumn<QString>("url");
    QTest::addColumn<int>("readBack"); // Plain reads back as opportunistic from a fresh base
    QTest::addRow("plain") << int(Security::Plain) << 25 << u"smtp://bob@mx.example.test:25"_s
                           << int(Security::StartTlsOpportunistic);
    QTest::addRow("opportunistic-25") << int(Security::StartTlsOpportunistic) << 25
                                      << u"smtp://bob@mx.example.test:25"_s << int(Security::StartTlsOpportunistic);
    QTest::addRow("opportunistic-587") << int(Security::StartTlsOpportunistic) << 587
                                       << u"esmtp://bob@mx.example.test:587"_s << int(Security::StartTlsOpportunistic);
    QTest::addRow("required-25") << int(Security::StartTlsRequired) << 25 << u"smtptls://bob@mx.example.test:25"_s
                                 << int(Security::StartTlsRequired);
    QTest::addRow("required-587") << int(Security::StartTlsRequired) << 587
                                  << u"esmtptls://bob@mx.example.test:587"_s << int(Security::StartTlsRequired);
    QTest::addRow("implicit") << int(Security::ImplicitTls) << 465 << u"smtps://bob@mx.example.test:465"_s
                              << int(Security::ImplicitTls);
}

void TestConnectionSettings::url()
{
    QFETCH(int, security);
    QFETCH(int, port);
    QFETCH(QString, url);
    QFETCH(int, readBack);
    ConnectionSettings s;
    s.host = u"mx.example.test"_s;
    s.port = quint16(port);
    s.security = Security(security);
    s.user = u"bob"_s;
    s.password = u"never shown"_s;
    QCOMPARE(s.toUrl(), url);
    SmtpError error;
    const auto back = ConnectionSettings::fromUrl(url, ConnectionSettings(), &error);
    QVERIFY2(back, qPrintable(error.toString()));
    QCOMPARE(back->host, s.host);
    QCOMPARE(back->port, s.port);
    QCOMPARE(int(back->security), readBack);
    QCOMPARE(back->user, u"bob"_s);
    QVERIFY(back->password.isEmpty());
    // Plain stays Plain when its own URL is read back onto it.
    QCOMPARE(ConnectionSettings::fromUrl(url, s, &error)->security, Security(security));
    // A password typed into a URL is taken; IPv6 keeps its brackets in the target.
    const auto typed = ConnectionSettings::fromUrl(u"smtps://bob:pw@[::1]:465"_s, s, &error);
    QVERIFY(typed);
    QCOMPARE(typed->password, u"pw"_s);
    QCOMPARE(typed->target(), u"[::1]:465"_s);
}

void TestConnectionSettings::urlErrors()
{
    SmtpError error;
    QVERIFY(!ConnectionSettings::fromUrl(u"imap://mx.example.test"_s, {}, &error));
    QCOMPARE(error.code, u"SMTPCLIENT-UNKNOWN-PROTOCOL"_s);
    QVERIFY(!ConnectionSettings::fromUrl(u"smtp:///var/run/smtp.sock"_s, {}, &error));
    QVERIFY2(error.message.contains(u"UNIX socket"_s), qPrintable(error.toString()));
}

void TestConnectionSettings::validationNamesTheField_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QVariant>("value");
    QTest::addColumn<QString>("field");
    QTest::addRow("empty host") << u"host"_s << QVariant(QString()) << u"Host:"_s;
    QTest::addRow("host with LF") << u"host"_s << QVariant(u"mx\nexample"_s) << u"Host:"_s;
    QTest::addRow("user with CR") << u"user"_s << QVariant(u"bob\r"_s) << u"User:"_s;
    QTest::addRow("password with LF") << u"password"_s << QVariant(u"a\nb"_s) << u"Password:"_s;
    QTest::addRow("unknown mechanism") << u"mechanism"_s << QVariant(u"NTLM"_s) << u"Mechanism:"_s;
    QTest::addRow("ehlo with space") << u"ehlo_name"_s << QVariant(u"a b"_s) << u"EHLO name"_s;
    QTest::addRow("missing CA file") << u"ca_file"_s << QVariant(u"/nonexistent/ca.pem"_s) << u"CA file:"_s;
    QTest::addRow("zero read timeout") << u"read_timeout_ms"_s << QVariant(0) << u"Read timeout:"_s;
    QTest::addRow("zero data timeout") << u"data_timeout_ms"_s << QVariant(0) << u"Data timeout:"_s;
}

void TestConnectionSettings::validationNamesTheField()
{
    QFETCH(QString, key);
    QFETCH(QVariant, value);
    QFETCH(QString, field);
    ConnectionSettings base;
    base.host = u"mx.example.test"_s;
    base.user = u"bob"_s;
    QVERIFY(base.validationProblem().isEmpty());
    QString error;
    const auto s = ConnectionSettings::fromVariantMap({{key, value}}, base, &error);
    QVERIFY2(s, qPrintable(error));
    QVERIFY2(s->validationProblem().startsWith(field), qPrintable(s->validationProblem()));
    // The client refuses the same values, naming the same field.
    SmtpClient client(u"mx.example.test"_s, 25);
    try {
        client.setSettings(*s);
        QFAIL("setSettings accepted an invalid value");
    } catch (const SmtpException &e) {
        QCOMPARE(e.error().category, SmtpError::Category::Usage);
        QVERIFY2(e.error().message.startsWith(field), qPrintable(e.error().toString()));
    }
}

void TestConnectionSettings::hints()
{
    ConnectionSettings s;
    s.host = u"mx.example.test"_s;
    s.security = Security::ImplicitTls;
    s.port = 587;
    QCOMPARE(s.suggestedPort(), quint16(465));
    QVERIFY(s.mismatchHint().contains(u"465"_s));
    s.security = Security::StartTlsRequired;
    s.port = 465;
    QCOMPARE(s.suggestedPort(), quint16(587));
    s.port = 587;
    QCOMPARE(s.suggestedPort(), quint16(0));
    QVERIFY(s.mismatchHint().isEmpty());
    s.security = Security::Plain;
    s.user = u"bob"_s;
    QVERIFY(s.mismatchHint().contains(u"clear text"_s));
}

void TestConnectionSettings::clientSettersAreViews()
{
    SmtpClient c(u"mx.example.test"_s, 25);
    QCOMPARE(c.settings().security, Security::StartTlsOpportunistic);
    c.tls(true);
    QCOMPARE(c.settings().security, Security::StartTlsRequired);
    QVERIFY(c.tls() && !c.ssl());
    c.ssl(true); // exclusive, as in the reference
    QCOMPARE(c.settings().security, Security::ImplicitTls);
    QVERIFY(c.ssl() && !c.tls());
    c.tls(false); // not the one that is on: nothing changes
    QCOMPARE(c.settings().security, Security::ImplicitTls);
    c.ssl(false);
    QCOMPARE(c.settings().security, Security::StartTlsOpportunistic);
    c.setStartTlsPolicy(SmtpClient::StartTlsPolicy::Never);
    QCOMPARE(c.settings().security, Security::Plain);
    c.tls(true);
    c.setStartTlsPolicy(SmtpClient::StartTlsPolicy::Never); // a requirement stays
    QCOMPARE(c.settings().security, Security::StartTlsRequired);
    c.setInsecure(true);
    c.setPeerVerifyName(u"smtp.example.test"_s);
    c.setReadTimeout(1234);
    QVERIFY(!c.settings().verifyPeer);
    QCOMPARE(c.settings().peerName, u"smtp.example.test"_s);
    QCOMPARE(c.settings().readTimeoutMs, 1234);
}

void TestConnectionSettings::clientTakesSettings()
{
    QTemporaryFile ca;
    QVERIFY(ca.open());
    ConnectionSettings s = unusual();
    s.caFile = ca.fileName();
    s.host = u"[::1]"_s;
    SmtpClient c(u"mx.example.test"_s, 25);
    c.setSettings(s);
    ConnectionSettings expected = s;
    expected.host = u"::1"_s;
    QCOMPARE(c.settings(), expected);
    QCOMPARE(c.getTarget(), u"[::1]:2525"_s);
    QVERIFY(c.ssl());
    QVERIFY(c.test());
    QCOMPARE(c.getConnectTimeoutMs(), 1001);
    QCOMPARE(c.getDataTimeoutMs(), 1003);
    QVERIFY(c.keepAlive());
}

QTEST_GUILESS_MAIN(TestConnectionSettings)
#include "tst_connectionsettings.moc"
