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

QTEST_MAIN(TestProfileStore)
#include "tst_profilestore.moc"
