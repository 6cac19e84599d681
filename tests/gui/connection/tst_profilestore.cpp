// ProfileStore on a private INI file: every field but the password round-trips,
// the password never reaches the file, and a missing keychain is reported
// quickly instead of hanging.

#include "connection/profilestore.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using Security = ConnectionSettings::Security;

namespace {

ConnectionProfile everyFieldSet(const QString &name)
{
    ConnectionProfile p;
    p.name = name;
    p.settings.host = QStringLiteral("::1");
    p.settings.port = 2587;
    p.settings.security = Security::StartTlsOpportunistic;
    p.settings.user = QStringLiteral("heidi@example.org");
    p.settings.password = QStringLiteral("pw-store-3c9d41");
    p.settings.mechanism = QStringLiteral("CRAM-MD5");
    p.settings.caFile = QStringLiteral("/etc/ssl/certs/ca-certificates.crt");
    p.settings.verifyPeer = false;
    p.settings.peerName = QStringLiteral("mail.example.org");
    p.settings.ehloName = QStringLiteral("[IPv6:::1]");
    p.settings.connectTimeoutMs = 4321;
    p.settings.readTimeoutMs = 8765;
    p.settings.testMode = true;
    p.settings.keepAlive = true;
    p.settings.showSecrets = true;
    p.settings.warnSlowMs = 300;
    p.settings.warnMinBytesPerSecond = 2048;
    return p;
}

// A field's value by key, the secrets included (toVariantMap leaves them out).
QVariant fieldValue(const ConnectionSettings &s, const QString &key)
{
    if (key == u"password")
        return s.password;
    if (key == u"oauth_token")
        return s.oauthToken;
    return s.toVariantMap().value(key);
}

// Every field of ConnectionSettings set to a value unlike the profile's default
// (checked per field by the tests, so a field added later and missed here fails).
ConnectionSettings unusual(const QString &caFile)
{
    ConnectionSettings s;
    s.host = QStringLiteral("mx.example.test");
    s.port = 2525;
    s.security = Security::ImplicitTls;
    s.user = QStringLiteral("alice");
    s.password = QStringLiteral("pw-unusual-51c0");
    s.oauthToken = "token-unusual-7e2a";
    s.mechanism = QStringLiteral("SCRAM-SHA-256");
    s.allowPlaintextAuth = true;
    s.caFile = caFile;
    s.verifyPeer = false;
    s.peerName = QStringLiteral("smtp.example.test");
    s.ehloName = QStringLiteral("client.example.test");
    s.connectTimeoutMs = 4100;
    s.readTimeoutMs = 4200;
    s.dataTimeoutMs = 4300;
    s.pipelining = false;
    s.chunking = false;
    s.keepAlive = true;
    s.testMode = true;
    s.showSecrets = true;
    s.warnSlowMs = 4400;
    s.warnMinBytesPerSecond = 4500;
    return s;
}

} // namespace

class TestProfileStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void roundTrip_data();
    void roundTrip();
    void passwordNeverInSettingsFile();
    void loadPasswordWithoutKeychain();
    void callbackRunsOnceEvenWhenTimedOut();
    void savingWithoutPasswordIsQuiet();
    void removeAndLastUsed();
    void unknownProfile();
    void storedUnderTheFieldKeys();
    void everyFieldSurvivesASavedProfile();
    void readsProfilesSavedWithTheOldKeys_data();
    void readsProfilesSavedWithTheOldKeys();
    void badValueCostsOnlyItsField();

private:
    QTemporaryDir m_dir;
    QString m_ini;
    int m_counter = 0;
};

void TestProfileStore::initTestCase()
{
    // Never touch the desktop keychain of whoever runs the tests: point the
    // session bus at nothing, so QtKeychain fails fast (as on a headless CI).
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/smtpscope-test-bus");
    QVERIFY(m_dir.isValid());
}

void TestProfileStore::init()
{
    m_ini = m_dir.filePath(QStringLiteral("profiles-%1.ini").arg(++m_counter));
}

void TestProfileStore::roundTrip_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("security");
    QTest::addRow("plain name") << "Work" << int(Security::StartTlsOpportunistic);
    QTest::addRow("name with slash") << "lab/postfix" << int(Security::Plain);
    QTest::addRow("name with percent and backslash") << "100% \\ local" << int(Security::ImplicitTls);
    QTest::addRow("non-ascii name") << "Bücher Ω" << int(Security::StartTlsRequired);
}

void TestProfileStore::roundTrip()
{
    QFETCH(QString, name);
    QFETCH(int, security);
    ConnectionProfile p = everyFieldSet(name);
    p.settings.security = Security(security);
    {
        QSettings settings(m_ini, QSettings::IniFormat);
        ProfileStore store(&settings);
        store.setKeychainTimeout(3000);
        store.save(p);
        QCOMPARE(store.names(), QStringList{name});
        const auto loaded = store.load(name);
        QVERIFY(loaded);
        ConnectionProfile expected = p;
        expected.settings.password.clear(); // the password is the keychain's
        QCOMPARE(*loaded, expected);
    }
    // A fresh QSettings on the same file: what was written is what is read.
    QSettings settings(m_ini, QSettings::IniFormat);
    ProfileStore store(&settings);
    QCOMPARE(store.names(), QStringList{name});
    const auto loaded = store.load(name);
    QVERIFY(loaded);
    QCOMPARE(loaded->settings.host, p.settings.host);
    QCOMPARE(loaded->settings.security, p.settings.security);
    QCOMPARE(loaded->settings.ehloName, p.settings.ehloName);
    QCOMPARE(loaded->settings.warnMinBytesPerSecond, p.settings.warnMinBytesPerSecond);
    QVERIFY(loaded->settings.password.isEmpty());
}

void TestProfileStore::passwordNeverInSettingsFile()
{
    const ConnectionProfile p = everyFieldSet(QStringLiteral("Secret"));
    {
        QSettings settings(m_ini, QSettings::IniFormat);
        ProfileStore store(&settings);
        store.setKeychainTimeout(3000);
        QSignalSpy errors(&store, &ProfileStore::keychainError);
        QElapsedTimer clock;
        clock.start();
        store.save(p);
        // No keychain here: the write is reported as failed, quickly.
        QVERIFY(errors.count() > 0 || errors.wait(10000));
        QVERIFY(clock.elapsed() < 10000);
        QVERIFY(!errors.front().front().toString().isEmpty());
        settings.sync();
    }
    QFile ini(m_ini);
    QVERIFY(ini.open(QIODevice::ReadOnly));
    const QByteArray bytes = ini.readAll();
    QVERIFY(bytes.contains("2587"));                 // the profile is there
    QVERIFY(!bytes.contains("pw-store-3c9d41"));     // its password is not
    QVERIFY(!bytes.toLower().contains("password"));  // nor a key for one
    QVERIFY(!bytes.contains(p.settings.password.toUtf8().toBase64()));
}

void TestProfileStore::loadPasswordWithoutKeychain()
{
    QSettings settings(m_ini, QSettings::IniFormat);
    ProfileStore store(&settings);
    store.setKeychainTimeout(3000);
    store.save(everyFieldSet(QStringLiteral("Work")));

    QSignalSpy errors(&store, &ProfileStore::keychainError);
    int calls = 0;
    QString password = QStringLiteral("unset");
    QString error;
    store.loadPassword(QStringLiteral("Work"), [&](const QString &pw, const QString &err) {
        ++calls;
        password = pw;
        error = err;
    });
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, 10000);
    QVERIFY(password.isEmpty());
    QVERIFY(!error.isEmpty());
    qInfo("keychain: %s", qPrintable(error));
}

void TestProfileStore::savingWithoutPasswordIsQuiet()
{
    // Nothing to store and no keychain to clear: no error for the user.
    QSettings settings(m_ini, QSettings::IniFormat);
    ProfileStore store(&settings);
    store.setKeychainTimeout(3000);
    QSignalSpy errors(&store, &ProfileStore::keychainError);
    ConnectionProfile p = everyFieldSet(QStringLiteral("NoPassword"));
    p.settings.password.clear();
    store.save(p);
    store.remove(QStringLiteral("NoPassword"));
    QVERIFY(!errors.wait(1500));
    QCOMPARE(errors.count(), 0);
}

void TestProfileStore::callbackRunsOnceEvenWhenTimedOut()
{
    // A keychain that does not answer in time: the guard answers instead, and a
    // late job result does not call back a second time.
    QSettings settings(m_ini, QSettings::IniFormat);
    ProfileStore store(&settings);
    store.setKeychainTimeout(1);
    int calls = 0;
    store.loadPassword(QStringLiteral("Nobody"), [&](const QString &pw, const QString &err) {
        ++calls;
        QVERIFY(pw.isEmpty());
        QVERIFY(!err.isEmpty());
    });
    QTRY_COMPARE_WITH_TIMEOUT(calls, 1, 5000);
    QTest::qWait(300); // room for the job's own (late) answer
    QCOMPARE(calls, 1);
}

void TestProfileStore::removeAndLastUsed()
{
    QSettings settings(m_ini, QSettings::IniFormat);
    ProfileStore store(&settings);
    store.setKeychainTimeout(3000);
    store.save(everyFieldSet(QStringLiteral("A")));
    store.save(everyFieldSet(QStringLiteral("b/2")));
    QCOMPARE(store.names(), (QStringList{QStringLiteral("A"), QStringLiteral("b/2")}));
    QVERIFY(store.lastUsed().isEmpty());
    store.setLastUsed(QStringLiteral("b/2"));
    QCOMPARE(store.lastUsed(), QStringLiteral("b/2"));

    store.remove(QStringLiteral("A"));
    QCOMPARE(store.names(), QStringList{QStringLiteral("b/2")});
    QVERIFY(!store.load(QStringLiteral("A")));
    QCOMPARE(store.lastUsed(), QStringLiteral("b/2"));

    store.remove(QStringLiteral("b/2"));
    QVERIFY(store.names().isEmpty());
    QVERIFY(store.lastUsed().isEmpty()); // no dangling last-used name
}

void TestProfileStore::unknownProfile()
{
    QSettings settings(m_ini, QSettings::IniFormat);
    ProfileStore store(&settings);
    QVERIFY(!store.load(QStringLiteral("missing")));
    QVERIFY(store.names().isEmpty());
}

void TestProfileStore::storedUnderTheFieldKeys()
{
    // One vocabulary: the settings file uses ConnectionSettings's field keys and
    // security names, as history records and JSON do.
    {
        QSettings settings(m_ini, QSettings::IniFormat);
        ProfileStore store(&settings);
        store.setKeychainTimeout(3000);
        store.save(everyFieldSet(QStringLiteral("Keys")));
    }
    QSettings settings(m_ini, QSettings::IniFormat);
    settings.beginGroup(QStringLiteral("profiles/Keys"));
    QStringList expected{QStringLiteral("name")};
    for (const ConnectionSettings::Field &f : ConnectionSettings::fields()) {
        if (!f.secret)
            expected.append(QString::fromLatin1(f.key));
    }
    QStringList keys = settings.childKeys();
    keys.sort();
    expected.sort();
    QCOMPARE(keys, expected);
    QCOMPARE(settings.value(QStringLiteral("security")).toString(), QStringLiteral("starttls-opportunistic"));
    QCOMPARE(settings.value(QStringLiteral("peer_name")).toString(), QStringLiteral("mail.example.org"));
}

void TestProfileStore::everyFieldSurvivesASavedProfile()
{
    // Each field of ConnectionSettings on its own, set to a value unlike the
    // default, is read back from a fresh QSettings on the file; the secrets
    // (password, oauth_token) never reach the file and go to the keychain
    // instead (absent here, so the write is reported).
    const QString caFile = m_dir.filePath(QStringLiteral("ca.pem"));
    const ConnectionSettings changed = unusual(caFile);
    const ConnectionProfile defaults;
    int secrets = 0;
    for (const ConnectionSettings::Field &f : ConnectionSettings::fields()) {
        const QString key = QString::fromLatin1(f.key);
        const QVariant value = fieldValue(changed, key);
        QVERIFY2(value != fieldValue(defaults.settings, key), f.key); // a change to see
        ConnectionProfile p;
        p.name = QStringLiteral("field %1").arg(key);
        if (key == u"oauth_token") {
            p.setMechanism(QStringLiteral("XOAUTH2")); // the token is the secret then
            p.setSecret(QString::fromUtf8(changed.oauthToken));
        } else {
            QString error;
            const auto one = ConnectionSettings::fromVariantMap({{key, value}}, p.settings, &error);
            QVERIFY2(one, qPrintable(error));
            p.settings = *one;
        }
        QVERIFY2(fieldValue(p.settings, key) == value, f.key);

        const QString ini = m_dir.filePath(QStringLiteral("field-%1.ini").arg(key));
        {
            QSettings settings(ini, QSettings::IniFormat);
            ProfileStore store(&settings);
            store.setKeychainTimeout(3000);
            QSignalSpy keychainErrors(&store, &ProfileStore::keychainError);
            store.save(p);
            if (f.secret) {
                // The keychain path: a write job was started for the secret.
                QVERIFY2(keychainErrors.count() > 0 || keychainErrors.wait(10000), f.key);
                ++secrets;
            }
        }
        QFile file(ini);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray bytes = file.readAll();
        QSettings settings(ini, QSettings::IniFormat);
        ProfileStore store(&settings);
        QString problem;
        const auto loaded = store.load(p.name, &problem);
        QVERIFY(loaded);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        if (f.secret) {
            QVERIFY2(!bytes.contains(value.toString().toUtf8()), f.key);
            QVERIFY2(fieldValue(loaded->settings, key) == fieldValue(defaults.settings, key), f.key);
            ConnectionProfile expected = p;
            expected.setSecret(QString());
            QCOMPARE(*loaded, expected);
        } else {
            QVERIFY2(fieldValue(loaded->settings, key) == value,
                     qPrintable(QStringLiteral("%1: %2").arg(key, fieldValue(loaded->settings, key).toString())));
            QCOMPARE(*loaded, p);
        }
    }
    QCOMPARE(secrets, 2);
}

void TestProfileStore::readsProfilesSavedWithTheOldKeys_data()
{
    QTest::addColumn<QString>("security");
    QTest::addColumn<int>("expected");
    QTest::addRow("none") << "none" << int(Security::Plain);
    QTest::addRow("starttls-if-offered") << "starttls-if-offered" << int(Security::StartTlsOpportunistic);
    QTest::addRow("starttls-required") << "starttls-required" << int(Security::StartTlsRequired);
    QTest::addRow("implicit-tls") << "implicit-tls" << int(Security::ImplicitTls);
}

void TestProfileStore::readsProfilesSavedWithTheOldKeys()
{
    // An INI file as the window wrote it before profiles were stored under the
    // field keys: every key of that form, the old security names.
    QFETCH(QString, security);
    QFETCH(int, expected);
    {
        QFile file(m_ini);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QStringLiteral("[profiles]\n"
                                  "Old%20one\\name=Old one\n"
                                  "Old%20one\\host=::1\n"
                                  "Old%20one\\port=2587\n"
                                  "Old%20one\\security=%1\n"
                                  "Old%20one\\user=heidi@example.org\n"
                                  "Old%20one\\mechanism=CRAM-MD5\n"
                                  "Old%20one\\caFile=/etc/ssl/certs/ca-certificates.crt\n"
                                  "Old%20one\\verifyCertificates=false\n"
                                  "Old%20one\\tlsName=mail.example.org\n"
                                  "Old%20one\\ehloName=[IPv6:::1]\n"
                                  "Old%20one\\connectTimeoutMs=4321\n"
                                  "Old%20one\\readTimeoutMs=60000\n"
                                  "Old%20one\\testMode=true\n"
                                  "Old%20one\\keepAlive=true\n"
                                  "Old%20one\\showSecrets=true\n"
                                  "Old%20one\\warningMs=300\n"
                                  "Old%20one\\warningBytesPerSecond=2048\n"
                                  "\n[General]\nlastUsedProfile=Old one\n")
                       .arg(security)
                       .toUtf8());
    }
    QSettings settings(m_ini, QSettings::IniFormat);
    ProfileStore store(&settings);
    QCOMPARE(store.names(), QStringList{QStringLiteral("Old one")});
    QString problem;
    const auto p = store.load(QStringLiteral("Old one"), &problem);
    QVERIFY(p);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    ConnectionSettings s = ConnectionProfile().settings;
    s.host = QStringLiteral("::1");
    s.port = 2587;
    s.security = Security(expected);
    s.user = QStringLiteral("heidi@example.org");
    s.mechanism = QStringLiteral("CRAM-MD5");
    s.caFile = QStringLiteral("/etc/ssl/certs/ca-certificates.crt");
    s.verifyPeer = false;
    s.peerName = QStringLiteral("mail.example.org");
    s.ehloName = QStringLiteral("[IPv6:::1]");
    s.connectTimeoutMs = 4321;
    s.readTimeoutMs = 60000; // the old window default, saved explicitly: kept
    s.testMode = true;
    s.keepAlive = true;
    s.showSecrets = true;
    s.warnSlowMs = 300;
    s.warnMinBytesPerSecond = 2048;
    QCOMPARE(p->name, QStringLiteral("Old one"));
    QCOMPARE(p->settings, s);

    // Saved again, it is written in the new form only.
    store.save(*p);
    settings.sync();
    settings.beginGroup(QStringLiteral("profiles/Old one"));
    QVERIFY(settings.contains(QStringLiteral("peer_name")));
    QVERIFY(!settings.contains(QStringLiteral("tlsName")));
    QCOMPARE(settings.value(QStringLiteral("security")).toString(), Smtp::securityName(Security(expected)));
    settings.endGroup();
    QCOMPARE(store.load(QStringLiteral("Old one"))->settings, s);
}

void TestProfileStore::badValueCostsOnlyItsField()
{
    {
        QFile file(m_ini);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("[profiles]\nHand\\name=Hand\nHand\\host=mx.example.test\nHand\\port=abc\n"
                   "Hand\\security=tls-please\nHand\\read_timeout_ms=7000\n");
    }
    QSettings settings(m_ini, QSettings::IniFormat);
    ProfileStore store(&settings);
    QString problem;
    const auto p = store.load(QStringLiteral("Hand"), &problem);
    QVERIFY(p);
    QCOMPARE(p->settings.host, QStringLiteral("mx.example.test"));
    QCOMPARE(p->settings.readTimeoutMs, 7000);
    QCOMPARE(p->settings.port, ConnectionProfile().settings.port);
    QCOMPARE(p->settings.security, ConnectionProfile().settings.security);
    QVERIFY2(problem.contains(QLatin1String("port")) && problem.contains(QLatin1String("Hand")), qPrintable(problem));
}

QTEST_MAIN(TestProfileStore)
#include "tst_profilestore.moc"
