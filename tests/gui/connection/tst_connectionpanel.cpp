// The connection panel on real widgets: URL <-> fields both ways, the visible
// URL error, the verify-off warning, mismatch hints, accessibility, and saving
// through the profile buttons (password never in the settings file).

#include "connection/connectionpanel.h"
#include "connection/profilestore.h"

#include <QAbstractButton>
#include <QClipboard>
#include <QGuiApplication>
#include <QAbstractSpinBox>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

using Security = ConnectionSettings::Security;

namespace {

template<typename T>
T *child(QWidget *panel, const char *name)
{
    auto *w = panel->findChild<T *>(QString::fromLatin1(name));
    if (!w)
        qWarning("no child %s", name);
    return w;
}

// Pastes over a line edit's text as a user would (one textEdited, with the
// whole text: no intermediate prefixes that happen to parse).
void paste(QLineEdit *edit, const QString &text)
{
    edit->setFocus();
    edit->selectAll();
    QGuiApplication::clipboard()->setText(text);
    edit->paste();
}

// Types into a line edit as a user would (textEdited fires, setText would not).
void retype(QLineEdit *edit, const QString &text)
{
    edit->setFocus();
    edit->selectAll();
    QTest::keyClick(edit, Qt::Key_Backspace);
    QTest::keyClicks(edit, text);
}

double contrast(const QColor &a, const QColor &b)
{
    // WCAG 2 relative luminance contrast ratio.
    auto lum = [](const QColor &c) {
        auto ch = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF());
    };
    const double la = lum(a);
    const double lb = lum(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
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

// Every field set to a value unlike the profile's default (checked per field,
// so a field added later and missed here fails).
ConnectionSettings unusual()
{
    ConnectionSettings s;
    s.host = QStringLiteral("mx.example.test");
    s.port = 2525;
    s.security = Security::ImplicitTls;
    s.user = QStringLiteral("alice");
    s.password = QStringLiteral("pw-panel-0c41");
    s.oauthToken = "token-panel-93ab";
    s.mechanism = QStringLiteral("SCRAM-SHA-256");
    s.allowPlaintextAuth = true;
    s.caFile = QStringLiteral("/etc/ssl/certs/ca-certificates.crt");
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

// Sets `value` into a field's control as a user would.
bool setThroughControl(QWidget *w, const QString &key, const QVariant &value)
{
    if (auto *edit = qobject_cast<QLineEdit *>(w)) {
        retype(edit, value.toString());
    } else if (auto *check = qobject_cast<QCheckBox *>(w)) {
        if (check->isChecked() != value.toBool())
            check->click();
    } else if (auto *dspin = qobject_cast<QDoubleSpinBox *>(w)) {
        if (!key.endsWith(u"_ms"))
            return false;
        dspin->setValue(value.toInt() / 1000.0);
    } else if (auto *spin = qobject_cast<QSpinBox *>(w)) {
        spin->setValue(value.toInt());
    } else if (auto *combo = qobject_cast<QComboBox *>(w)) {
        const int index = combo->findData(value.toString());
        if (index < 0)
            return false;
        combo->setCurrentIndex(index);
    } else {
        return false;
    }
    return true;
}

QString writeFile(const QTemporaryDir &dir, const QString &name)
{
    QFile f(dir.filePath(name));
    if (!f.open(QIODevice::WriteOnly))
        return {};
    f.write("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
    return f.fileName();
}

} // namespace

class TestConnectionPanel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void urlToFields_data();
    void urlToFields();
    void fieldsToUrl_data();
    void fieldsToUrl();
    void noneKeptWhileUrlSaysSmtp();
    void invalidUrlShowsReason_data();
    void invalidUrlShowsReason();
    void verifyOffWarning();
    void warningColoursReadable_data();
    void warningColoursReadable();
    void mismatchHint_data();
    void mismatchHint();
    void profileRoundTripThroughPanel();
    void setProfileShowsEveryField();
    void everyControlIsNamed();
    void fitsSidePanel();
    void everyFieldSettableFromThePanel();
    void tabOrderFollowsTheForm();
    void modifiedMarkClearedBySaveAndRevert();
    void retargetingDropsTheOldTargetsTrust();
    void retargetingKeepsTheUsersOwnChoices();

private:
    QTemporaryDir m_dir;
};

void TestConnectionPanel::initTestCase()
{
    // Never touch the desktop keychain of whoever runs the tests: point the
    // session bus at nothing, so QtKeychain fails fast (as on a headless CI).
    qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/smtpscope-test-bus");
    QVERIFY(m_dir.isValid());
}

void TestConnectionPanel::urlToFields_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<int>("security");
    QTest::addColumn<QString>("user");

    QTest::addRow("smtp") << "smtp://a.example" << "a.example" << 25 << int(Security::StartTlsOpportunistic) << "";
    QTest::addRow("esmtp") << "esmtp://b.example" << "b.example" << 587 << int(Security::StartTlsOpportunistic) << "";
    QTest::addRow("smtps") << "smtps://c.example" << "c.example" << 465 << int(Security::ImplicitTls) << "";
    QTest::addRow("esmtps") << "esmtps://d.example" << "d.example" << 465 << int(Security::ImplicitTls) << "";
    QTest::addRow("smtptls") << "smtptls://e.example" << "e.example" << 25 << int(Security::StartTlsRequired) << "";
    QTest::addRow("esmtptls") << "esmtptls://carol@f.example" << "f.example" << 587
                              << int(Security::StartTlsRequired) << "carol";
    QTest::addRow("ipv6") << "smtp://[::1]:2525" << "::1" << 2525 << int(Security::StartTlsOpportunistic) << "";
    QTest::addRow("ipv6 smtps") << "smtps://dave@[::1]" << "::1" << 465 << int(Security::ImplicitTls) << "dave";
}

void TestConnectionPanel::urlToFields()
{
    QFETCH(QString, url);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(int, security);
    QFETCH(QString, user);

    ConnectionPanel panel(nullptr);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QSignalSpy changed(&panel, &ConnectionPanel::profileChanged);
    retype(child<QLineEdit>(&panel, "urlEdit"), url);

    QCOMPARE(child<QLineEdit>(&panel, "host")->text(), host);
    QCOMPARE(child<QSpinBox>(&panel, "port")->value(), port);
    QCOMPARE(child<QComboBox>(&panel, "security")->currentData().toString(), Smtp::securityName(Security(security)));
    QCOMPARE(child<QLineEdit>(&panel, "user")->text(), user);
    QCOMPARE(panel.profile().settings.host, host);
    QCOMPARE(panel.profile().settings.port, quint16(port));
    QCOMPARE(int(panel.profile().settings.security), security);
    QVERIFY(panel.problem().isEmpty());
    QVERIFY(!child<QLabel>(&panel, "urlErrorLabel")->isVisible());
    QVERIFY(changed.count() > 0);
}

void TestConnectionPanel::fieldsToUrl_data()
{
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<int>("security");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("url");

    QTest::addRow("none") << "a.example" << 25 << int(Security::Plain) << "" << "smtp://a.example:25";
    QTest::addRow("if offered 587") << "b.example" << 587 << int(Security::StartTlsOpportunistic) << ""
                                    << "esmtp://b.example:587";
    QTest::addRow("required 587") << "c.example" << 587 << int(Security::StartTlsRequired) << "erin"
                                  << "esmtptls://erin@c.example:587";
    QTest::addRow("required 25") << "d.example" << 25 << int(Security::StartTlsRequired) << ""
                                 << "smtptls://d.example:25";
    QTest::addRow("implicit 465") << "e.example" << 465 << int(Security::ImplicitTls) << "" << "smtps://e.example:465";
    QTest::addRow("ipv6 bare") << "::1" << 2525 << int(Security::StartTlsRequired) << ""
                               << "esmtptls://[::1]:2525";
    QTest::addRow("ipv6 typed with brackets") << "[::1]" << 4465 << int(Security::ImplicitTls) << ""
                                              << "smtps://[::1]:4465";
}

void TestConnectionPanel::fieldsToUrl()
{
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(int, security);
    QFETCH(QString, user);
    QFETCH(QString, url);

    ConnectionPanel panel(nullptr);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    retype(child<QLineEdit>(&panel, "host"), host);
    child<QSpinBox>(&panel, "port")->setValue(port);
    auto *combo = child<QComboBox>(&panel, "security");
    combo->setCurrentIndex(combo->findData(Smtp::securityName(Security(security))));
    if (!user.isEmpty())
        retype(child<QLineEdit>(&panel, "user"), user);

    QCOMPARE(child<QLineEdit>(&panel, "urlEdit")->text(), url);
    QCOMPARE(int(panel.profile().settings.security), security);
    QCOMPARE(panel.profile().settings.port, quint16(port));
    QVERIFY(!panel.profile().settings.host.startsWith(QLatin1Char('[')));
}

void TestConnectionPanel::noneKeptWhileUrlSaysSmtp()
{
    ConnectionPanel panel(nullptr);
    auto *combo = child<QComboBox>(&panel, "security");
    combo->setCurrentIndex(combo->findData(Smtp::securityName(Security::Plain)));
    child<QSpinBox>(&panel, "port")->setValue(25);
    QCOMPARE(child<QLineEdit>(&panel, "urlEdit")->text(), QStringLiteral("smtp://localhost:25"));
    // Editing the URL (same scheme) keeps the None selection.
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    retype(child<QLineEdit>(&panel, "urlEdit"), QStringLiteral("smtp://other.example:2525"));
    QCOMPARE(combo->currentData().toString(), Smtp::securityName(Security::Plain));
    QCOMPARE(panel.profile().settings.host, QStringLiteral("other.example"));
}

void TestConnectionPanel::invalidUrlShowsReason_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("unknown scheme") << "gopher://x.example" << "gopher";
    QTest::addRow("bad port") << "smtp://x.example:99999" << "range";
    QTest::addRow("ipv6 unbracketed") << "smtp://::1:25" << "bracket";
}

void TestConnectionPanel::invalidUrlShowsReason()
{
    QFETCH(QString, url);
    QFETCH(QString, mentions);

    ConnectionPanel panel(nullptr);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    const ConnectionProfile before = panel.profile();
    auto *urlEdit = child<QLineEdit>(&panel, "urlEdit");
    auto *errorLabel = child<QLabel>(&panel, "urlErrorLabel");
    QVERIFY(!errorLabel->isVisible());
    paste(urlEdit, url);

    QVERIFY(errorLabel->isVisible());
    QVERIFY2(errorLabel->text().contains(mentions, Qt::CaseInsensitive), qPrintable(errorLabel->text()));
    QVERIFY(panel.problem().startsWith(QLatin1String("URL")));
    QVERIFY2(panel.problem().contains(mentions, Qt::CaseInsensitive), qPrintable(panel.problem()));
    // The fields keep their last good values, and the typed text stays.
    QCOMPARE(panel.profile(), before);
    QCOMPARE(urlEdit->text(), url);

    // Fixing it clears the reason.
    retype(urlEdit, QStringLiteral("smtps://fixed.example"));
    QVERIFY(!errorLabel->isVisible());
    QVERIFY(panel.problem().isEmpty());
    QCOMPARE(panel.profile().settings.host, QStringLiteral("fixed.example"));

    // Editing a field after a bad URL rewrites the URL from the fields.
    paste(urlEdit, url);
    QVERIFY(errorLabel->isVisible());
    child<QSpinBox>(&panel, "port")->setValue(2465);
    QVERIFY(!errorLabel->isVisible());
    QCOMPARE(urlEdit->text(), QStringLiteral("smtps://fixed.example:2465"));
}

void TestConnectionPanel::verifyOffWarning()
{
    ConnectionPanel panel(nullptr);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    auto *verify = child<QCheckBox>(&panel, "verify_peer");
    auto *warning = child<QLabel>(&panel, "verifyWarningLabel");
    QVERIFY(verify->isChecked()); // verified by default (ARCHITECTURE.md)
    QVERIFY(panel.profile().settings.verifyPeer);
    QVERIFY(!warning->isVisible());

    QTest::mouseClick(verify, Qt::LeftButton, {}, QPoint(4, verify->height() / 2));
    QVERIFY(!verify->isChecked());
    QVERIFY(!panel.profile().settings.verifyPeer);
    QVERIFY(warning->isVisible());
    QVERIFY(!warning->text().isEmpty());
    // Persistent: other edits do not hide it.
    retype(child<QLineEdit>(&panel, "host"), QStringLiteral("mx.example"));
    QVERIFY(warning->isVisible());
    // Collapsing or opening the advanced group does not hide it either.
    child<QAbstractButton>(&panel, "advancedToggle")->click();
    QVERIFY(warning->isVisible());

    verify->click();
    QVERIFY(!warning->isVisible());

    ConnectionProfile off;
    off.settings.verifyPeer = false;
    panel.setProfile(off);
    QVERIFY(warning->isVisible());
}

void TestConnectionPanel::warningColoursReadable_data()
{
    QTest::addColumn<QColor>("window");
    QTest::addColumn<QColor>("text");
    QTest::addRow("light") << QColor(250, 250, 250) << QColor(20, 20, 20);
    QTest::addRow("dark") << QColor(35, 35, 38) << QColor(230, 230, 230);
}

void TestConnectionPanel::warningColoursReadable()
{
    QFETCH(QColor, window);
    QFETCH(QColor, text);
    ConnectionPanel panel(nullptr);
    QPalette palette = panel.palette();
    palette.setColor(QPalette::Window, window);
    palette.setColor(QPalette::WindowText, text);
    panel.setPalette(palette);
    ConnectionProfile p;
    p.settings.verifyPeer = false;
    p.settings.security = Security::ImplicitTls; // on port 25: a hint too
    panel.setProfile(p);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    for (const char *name : {"verifyWarningLabel", "mismatchHintLabel"}) {
        auto *label = child<QLabel>(&panel, name);
        QVERIFY(label->isVisible());
        const QColor fg = label->palette().color(QPalette::WindowText);
        const QColor bg = label->palette().color(QPalette::Window);
        // WCAG AA for normal text: 4.5:1.
        QVERIFY2(contrast(fg, bg) >= 4.5, qPrintable(QStringLiteral("%1: %2 on %3 is %4:1")
                                                         .arg(QString::fromLatin1(name), fg.name(), bg.name())
                                                         .arg(contrast(fg, bg))));
    }
}

void TestConnectionPanel::mismatchHint_data()
{
    QTest::addColumn<int>("port");
    QTest::addColumn<int>("security");
    QTest::addColumn<bool>("hint");
    QTest::addColumn<int>("suggested");
    QTest::addRow("implicit on 587") << 587 << int(Security::ImplicitTls) << true << 465;
    QTest::addRow("implicit on 25") << 25 << int(Security::ImplicitTls) << true << 465;
    QTest::addRow("starttls required on 465") << 465 << int(Security::StartTlsRequired) << true << 587;
    QTest::addRow("starttls if offered on 465") << 465 << int(Security::StartTlsOpportunistic) << true << 587;
    QTest::addRow("implicit on 465") << 465 << int(Security::ImplicitTls) << false << 0;
    QTest::addRow("starttls on 587") << 587 << int(Security::StartTlsRequired) << false << 0;
    QTest::addRow("custom port") << 2525 << int(Security::ImplicitTls) << false << 0;
}

void TestConnectionPanel::mismatchHint()
{
    QFETCH(int, port);
    QFETCH(int, security);
    QFETCH(bool, hint);
    QFETCH(int, suggested);

    ConnectionPanel panel(nullptr);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    auto *portSpin = child<QSpinBox>(&panel, "port");
    auto *combo = child<QComboBox>(&panel, "security");
    auto *label = child<QLabel>(&panel, "mismatchHintLabel");
    auto *usePort = child<QPushButton>(&panel, "usePortButton");
    portSpin->setValue(port);
    combo->setCurrentIndex(combo->findData(Smtp::securityName(Security(security))));
    // Choosing the mode never overrides the port by itself.
    QCOMPARE(portSpin->value(), port);
    QCOMPARE(label->isVisible(), hint);
    QCOMPARE(usePort->isVisible(), suggested != 0);
    if (!suggested)
        return;
    QVERIFY(usePort->text().contains(QString::number(suggested)));
    usePort->click();
    QCOMPARE(portSpin->value(), suggested);
    QCOMPARE(panel.profile().settings.port, quint16(suggested));
    QVERIFY(!label->isVisible());
    QVERIFY(child<QLineEdit>(&panel, "urlEdit")->text().endsWith(QStringLiteral(":%1").arg(suggested)));
}

void TestConnectionPanel::profileRoundTripThroughPanel()
{
    const QString iniPath = m_dir.filePath(QStringLiteral("panel.ini"));
    const QString secret = QStringLiteral("pw-panel-5b1e77");
    {
        QSettings settings(iniPath, QSettings::IniFormat);
        ProfileStore store(&settings);
        store.setKeychainTimeout(5000);
        QSignalSpy keychainErrors(&store, &ProfileStore::keychainError);
        ConnectionPanel panel(&store);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        retype(child<QLineEdit>(&panel, "urlEdit"), QStringLiteral("esmtptls://frank@[::1]:2587"));
        retype(child<QLineEdit>(&panel, "password"), secret);
        child<QAbstractButton>(&panel, "advancedToggle")->click();
        retype(child<QLineEdit>(&panel, "ehlo_name"), QStringLiteral("client.example.org"));
        child<QDoubleSpinBox>(&panel, "read_timeout_ms")->setValue(12.5);
        child<QCheckBox>(&panel, "keep_alive")->click();
        QCOMPARE(panel.profile().settings.password, secret);
        child<QPushButton>(&panel, "saveProfileButton")->click();
        QVERIFY(store.names().contains(QStringLiteral("Default")));
        // No keychain in the test environment: reported, not hung.
        QVERIFY(keychainErrors.count() > 0 || keychainErrors.wait(10000));
        QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(&panel, "keychainLabel")->isVisible(), 5000);
    }
    QFile ini(iniPath);
    QVERIFY(ini.open(QIODevice::ReadOnly));
    const QByteArray bytes = ini.readAll();
    QVERIFY(bytes.contains("frank"));
    QVERIFY(!bytes.contains(secret.toUtf8()));

    // A new panel on the same store shows the last used profile, password not restored.
    QSettings settings(iniPath, QSettings::IniFormat);
    ProfileStore store(&settings);
    store.setKeychainTimeout(5000);
    QSignalSpy keychainErrors(&store, &ProfileStore::keychainError);
    ConnectionPanel panel(&store);
    const ConnectionProfile p = panel.profile();
    QCOMPARE(p.settings.host, QStringLiteral("::1"));
    QCOMPARE(p.settings.port, quint16(2587));
    QCOMPARE(p.settings.security, Security::StartTlsRequired);
    QCOMPARE(p.settings.user, QStringLiteral("frank"));
    QCOMPARE(p.settings.ehloName, QStringLiteral("client.example.org"));
    QCOMPARE(p.settings.readTimeoutMs, 12500);
    QVERIFY(p.settings.keepAlive);
    QCOMPARE(child<QLineEdit>(&panel, "urlEdit")->text(), QStringLiteral("esmtptls://frank@[::1]:2587"));
    QVERIFY(keychainErrors.wait(10000));
    QVERIFY(panel.profile().settings.password.isEmpty());
    QVERIFY(child<QLineEdit>(&panel, "password")->text().isEmpty());

    // Delete: the profile goes, the panel falls back to the default.
    QVERIFY(child<QPushButton>(&panel, "deleteProfileButton")->isEnabled());
    child<QPushButton>(&panel, "deleteProfileButton")->click();
    QVERIFY(store.names().isEmpty());
    QCOMPARE(panel.profile(), ConnectionProfile());
}

void TestConnectionPanel::setProfileShowsEveryField()
{
    ConnectionProfile p;
    p.name = QStringLiteral("Lab");
    p.settings.host = QStringLiteral("127.0.0.1");
    p.settings.port = 2465;
    p.settings.security = Security::ImplicitTls;
    p.settings.user = QStringLiteral("grace");
    p.settings.password = QStringLiteral("pw");
    p.settings.mechanism = QStringLiteral("SCRAM-SHA-256");
    p.settings.verifyPeer = false;
    p.settings.peerName = QStringLiteral("mail.example.org");
    p.settings.ehloName = QStringLiteral("[127.0.0.1]");
    p.settings.connectTimeoutMs = 4500;
    p.settings.readTimeoutMs = 7000;
    p.settings.testMode = true;
    p.settings.keepAlive = true;
    p.settings.showSecrets = true;
    p.settings.warnSlowMs = 250;
    p.settings.warnMinBytesPerSecond = 1000;

    ConnectionPanel panel(nullptr);
    QSignalSpy changed(&panel, &ConnectionPanel::profileChanged);
    panel.setProfile(p);
    QCOMPARE(panel.profile(), p);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(child<QComboBox>(&panel, "profileCombo")->currentText(), QStringLiteral("Lab"));
    QCOMPARE(child<QLineEdit>(&panel, "host")->text(), p.settings.host);
    QCOMPARE(child<QComboBox>(&panel, "mechanism")->currentText(), p.settings.mechanism);
    QCOMPARE(child<QLineEdit>(&panel, "peer_name")->text(), p.settings.peerName);
    QCOMPARE(child<QDoubleSpinBox>(&panel, "connect_timeout_ms")->value(), 4.5);
    QCOMPARE(child<QSpinBox>(&panel, "warn_slow_ms")->value(), 250);
    QCOMPARE(child<QSpinBox>(&panel, "warn_min_bytes_per_second")->value(), 1000);
    QVERIFY(child<QCheckBox>(&panel, "test_mode")->isChecked());
    QVERIFY(child<QCheckBox>(&panel, "show_secrets")->isChecked());
    QCOMPARE(child<QLineEdit>(&panel, "urlEdit")->text(), QStringLiteral("smtps://grace@127.0.0.1:2465"));
    // The same profile again is no change.
    panel.setProfile(p);
    QCOMPARE(changed.count(), 1);

    // Widget edits reach the profile.
    child<QComboBox>(&panel, "mechanism")->setCurrentIndex(0);
    QVERIFY(panel.profile().settings.mechanism.isEmpty());
    child<QSpinBox>(&panel, "warn_slow_ms")->setValue(0);
    QCOMPARE(panel.profile().settings.warnSlowMs, 0);
    QCOMPARE(changed.count(), 3);
}

void TestConnectionPanel::everyControlIsNamed()
{
    ConnectionPanel panel(nullptr);
    const auto widgets = panel.findChildren<QWidget *>();
    int checked = 0;
    for (QWidget *w : widgets) {
        const bool control = qobject_cast<QAbstractButton *>(w) || qobject_cast<QLineEdit *>(w)
            || qobject_cast<QComboBox *>(w) || qobject_cast<QAbstractSpinBox *>(w);
        // Skip the internals of composite widgets (a spin box's own line edit).
        if (!control || qobject_cast<QAbstractSpinBox *>(w->parentWidget())
            || qobject_cast<QComboBox *>(w->parentWidget()) || qobject_cast<QLineEdit *>(w->parentWidget()))
            continue;
        ++checked;
        QVERIFY2(!w->accessibleName().isEmpty(),
                 qPrintable(w->objectName() + QLatin1Char(' ') + QString::fromLatin1(w->metaObject()->className())
                            + QLatin1Char(' ') + w->parentWidget()->objectName()));
        QVERIFY2(!w->toolTip().isEmpty(), qPrintable(w->objectName()));
    }
    QVERIFY(checked >= 25);
}

void TestConnectionPanel::fitsSidePanel()
{
    // A side panel in a 1280x800 window: the panel must fit a third of the width
    // and scroll rather than demand more height than the screen has.
    ConnectionPanel panel(nullptr);
    child<QAbstractButton>(&panel, "advancedToggle")->click();
    QVERIFY(panel.minimumSizeHint().width() <= 420);
    QVERIFY(panel.minimumSizeHint().height() <= 800);
    panel.resize(420, 760);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QVERIFY(child<QLineEdit>(&panel, "host")->width() >= 150);
}

void TestConnectionPanel::everyFieldSettableFromThePanel()
{
    // Each field of ConnectionSettings has a control (objectName = the field
    // key; the bearer token shares the password field, by mechanism) that is
    // named for assistive technology, explained, reachable by Tab, and whose
    // edit reaches exactly that field of the profile.
    const ConnectionSettings changed = unusual();
    const ConnectionProfile defaults;
    {
        ConnectionPanel fresh(nullptr);
        QCOMPARE(fresh.profile(), defaults); // one set of defaults: the settings'
        QCOMPARE(child<QDoubleSpinBox>(&fresh, "read_timeout_ms")->value(), 15.0);
    }
    for (const ConnectionSettings::Field &f : ConnectionSettings::fields()) {
        const QString key = QString::fromLatin1(f.key);
        const QVariant value = fieldValue(changed, key);
        QVERIFY2(value != fieldValue(defaults.settings, key), f.key); // a change to see

        ConnectionPanel panel(nullptr);
        panel.resize(420, 760);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        child<QAbstractButton>(&panel, "advancedToggle")->click();
        ConnectionSettings expected = defaults.settings;
        const bool token = key == u"oauth_token";
        if (token) {
            // The password field holds the token for XOAUTH2 (RFC 7628 3.1).
            auto *mechanism = child<QComboBox>(&panel, "mechanism");
            mechanism->setCurrentIndex(mechanism->findData(QStringLiteral("XOAUTH2")));
            expected.mechanism = QStringLiteral("XOAUTH2");
            expected.oauthToken = changed.oauthToken;
        } else if (key == u"password") {
            expected.password = changed.password;
        } else {
            QString error;
            const auto one = ConnectionSettings::fromVariantMap({{key, value}}, expected, &error);
            QVERIFY2(one, qPrintable(error));
            expected = *one;
        }
        auto *control = panel.findChild<QWidget *>(token ? QStringLiteral("password") : key);
        QVERIFY2(control, qPrintable(QStringLiteral("no control named %1").arg(key)));
        QVERIFY2(!control->accessibleName().isEmpty(), f.key);
        QVERIFY2(!control->toolTip().isEmpty(), f.key);
        QVERIFY2(control->focusPolicy() & Qt::TabFocus, f.key);
        QVERIFY2(control->isVisible(), f.key);
        QVERIFY2(setThroughControl(control, key, value), f.key);
        QVERIFY2(fieldValue(panel.profile().settings, key) == value,
                 qPrintable(QStringLiteral("%1: %2").arg(key, fieldValue(panel.profile().settings, key).toString())));
        QCOMPARE(panel.profile().settings, expected); // that field and no other
        QVERIFY(panel.isModified());
    }
}

void TestConnectionPanel::tabOrderFollowsTheForm()
{
    // Tab walks the field controls top to bottom, every one of them.
    ConnectionPanel panel(nullptr);
    panel.resize(420, 760);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    child<QAbstractButton>(&panel, "advancedToggle")->click();
    QStringList keys;
    for (const ConnectionSettings::Field &f : ConnectionSettings::fields()) {
        if (qstrcmp(f.key, "oauth_token") != 0)
            keys.append(QString::fromLatin1(f.key));
    }
    QWidget *start = child<QComboBox>(&panel, "profileCombo");
    QList<QWidget *> chain;
    for (QWidget *w = start->nextInFocusChain(); w && w != start && chain.size() < 500; w = w->nextInFocusChain()) {
        if ((w->focusPolicy() & Qt::TabFocus) && keys.contains(w->objectName()))
            chain.append(w);
    }
    QStringList reached;
    int lastY = -1;
    for (QWidget *w : std::as_const(chain)) {
        reached.append(w->objectName());
        const int y = w->mapTo(&panel, QPoint(0, 0)).y();
        QVERIFY2(y > lastY, qPrintable(w->objectName()));
        lastY = y;
    }
    QStringList wanted = keys;
    wanted.sort();
    reached.sort();
    QCOMPARE(reached, wanted);
}

void TestConnectionPanel::modifiedMarkClearedBySaveAndRevert()
{
    const QString iniPath = m_dir.filePath(QStringLiteral("modified.ini"));
    QSettings settings(iniPath, QSettings::IniFormat);
    ProfileStore store(&settings);
    store.setKeychainTimeout(3000);
    ConnectionPanel panel(&store);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    auto *combo = child<QComboBox>(&panel, "profileCombo");
    auto *revert = child<QPushButton>(&panel, "revertProfileButton");
    QVERIFY(!panel.isModified());
    QCOMPARE(combo->currentText(), QStringLiteral("Default"));
    QVERIFY(!revert->isEnabled());

    child<QAbstractButton>(&panel, "advancedToggle")->click();
    retype(child<QLineEdit>(&panel, "ehlo_name"), QStringLiteral("client.example.org"));
    QVERIFY(panel.isModified());
    QVERIFY2(combo->currentText().startsWith(QLatin1String("Default")) && combo->currentText() != u"Default",
             qPrintable(combo->currentText()));
    QVERIFY2(combo->toolTip().contains(QLatin1String("Revert")), qPrintable(combo->toolTip()));
    QVERIFY(revert->isEnabled());

    child<QPushButton>(&panel, "saveProfileButton")->click();
    QVERIFY(!panel.isModified());
    QCOMPARE(combo->currentText(), QStringLiteral("Default"));
    QVERIFY(!revert->isEnabled());
    QCOMPARE(store.load(QStringLiteral("Default"))->settings.ehloName, QStringLiteral("client.example.org"));

    // Revert goes back to the saved form, fields and URL included.
    child<QSpinBox>(&panel, "port")->setValue(2626);
    child<QCheckBox>(&panel, "pipelining")->click();
    QVERIFY(panel.isModified());
    QSignalSpy changed(&panel, &ConnectionPanel::profileChanged);
    revert->click();
    QVERIFY(!panel.isModified());
    QCOMPARE(changed.count(), 1);
    QCOMPARE(panel.profile().settings.port, quint16(25));
    QVERIFY(panel.profile().settings.pipelining);
    QCOMPARE(child<QSpinBox>(&panel, "port")->value(), 25);
    QVERIFY(child<QCheckBox>(&panel, "pipelining")->isChecked());
    QCOMPARE(child<QLineEdit>(&panel, "urlEdit")->text(), QStringLiteral("smtp://localhost:25"));
    QCOMPARE(combo->currentText(), QStringLiteral("Default"));

    // Undoing an edit by hand clears the mark too: it compares, not counts.
    retype(child<QLineEdit>(&panel, "user"), QStringLiteral("ivan"));
    QVERIFY(panel.isModified());
    retype(child<QLineEdit>(&panel, "user"), QString());
    QVERIFY(!panel.isModified());
}

void TestConnectionPanel::retargetingDropsTheOldTargetsTrust()
{
    // The capture server's profile as MainWindow makes it: its CA file and a
    // TLS name vouch for that server only, and its name describes it.
    const QString caFile = writeFile(m_dir, QStringLiteral("capture-ca.pem"));
    QVERIFY(!caFile.isEmpty());
    ConnectionProfile capture;
    capture.name = QStringLiteral("Local capture server");
    capture.nameDescribesTarget = true;
    capture.settings.host = QStringLiteral("127.0.0.1");
    capture.settings.port = 2525;
    capture.settings.security = Security::StartTlsRequired;
    capture.settings.caFile = caFile;
    capture.settings.peerName = QStringLiteral("capture.test");

    ConnectionPanel panel(nullptr);
    panel.setProfile(capture);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    auto *host = child<QLineEdit>(&panel, "host");
    auto *caEdit = child<QLineEdit>(&panel, "ca_file");
    auto *combo = child<QComboBox>(&panel, "profileCombo");

    retype(host, QStringLiteral("mx.example.test"));
    ConnectionProfile p = panel.profile();
    QVERIFY(p.settings.caFile.isEmpty());
    QVERIFY(p.settings.peerName.isEmpty());
    QVERIFY(caEdit->text().isEmpty());
    QVERIFY(child<QLineEdit>(&panel, "peer_name")->text().isEmpty());
    QVERIFY(p.name != capture.name);
    QCOMPARE(p.name, QStringLiteral("mx.example.test"));
    QVERIFY(!combo->currentText().contains(capture.name));
    QVERIFY(panel.isModified());
    QVERIFY(panel.problem().isEmpty()); // the old CA's absence is no problem

    // Back at the capture server: its trust settings and name apply again.
    retype(host, QStringLiteral("127.0.0.1"));
    QCOMPARE(panel.profile(), capture);
    QVERIFY(!panel.isModified());
    QCOMPARE(caEdit->text(), caFile);

    // Another port is another target too; so is a URL naming another server.
    child<QSpinBox>(&panel, "port")->setValue(2526);
    QVERIFY(panel.profile().settings.caFile.isEmpty());
    QVERIFY(panel.profile().name != capture.name);
    child<QSpinBox>(&panel, "port")->setValue(2525);
    QCOMPARE(panel.profile(), capture);
    retype(child<QLineEdit>(&panel, "urlEdit"), QStringLiteral("smtps://submit.example.test"));
    QVERIFY(panel.profile().settings.caFile.isEmpty());
    QCOMPARE(panel.profile().name, QStringLiteral("submit.example.test"));
    // Edits that keep the target keep the trust settings.
    panel.setProfile(capture);
    retype(child<QLineEdit>(&panel, "user"), QStringLiteral("ivan"));
    QCOMPARE(panel.profile().settings.caFile, caFile);
    QCOMPARE(panel.profile().name, capture.name);
}

void TestConnectionPanel::retargetingKeepsTheUsersOwnChoices()
{
    const QString oldCa = writeFile(m_dir, QStringLiteral("old-ca.pem"));
    const QString newCa = writeFile(m_dir, QStringLiteral("new-ca.pem"));
    ConnectionProfile work;
    work.name = QStringLiteral("Work");
    work.settings.host = QStringLiteral("mail.example.org");
    work.settings.port = 587;
    work.settings.caFile = oldCa;

    ConnectionPanel panel(nullptr);
    panel.setProfile(work);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    child<QAbstractButton>(&panel, "advancedToggle")->click();
    // A profile the user named keeps its name when its server moves.
    retype(child<QLineEdit>(&panel, "host"), QStringLiteral("mail2.example.org"));
    QCOMPARE(panel.profile().name, QStringLiteral("Work"));
    QVERIFY(panel.profile().settings.caFile.isEmpty());
    // A CA chosen for the new server stays through further edits of the target.
    retype(child<QLineEdit>(&panel, "ca_file"), newCa);
    child<QSpinBox>(&panel, "port")->setValue(465);
    QCOMPARE(panel.profile().settings.caFile, newCa);
    // ... and is not replaced by the old one on the way back.
    retype(child<QLineEdit>(&panel, "host"), QStringLiteral("mail.example.org"));
    child<QSpinBox>(&panel, "port")->setValue(587);
    QCOMPARE(panel.profile().settings.caFile, newCa);
    QVERIFY(panel.isModified());
}

QTEST_MAIN(TestConnectionPanel)
#include "tst_connectionpanel.moc"
