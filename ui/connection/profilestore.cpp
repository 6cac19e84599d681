#include "profilestore.h"

#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <qt6keychain/keychain.h>

// How it works: each profile is a QSettings group "profiles/<name>" holding
// every field but the password; the password is a QtKeychain entry. Keychain
// jobs are asynchronous and may never answer (no secret service, a locked
// wallet, no session bus in tests), so every job has a timer of its own and
// the first of "job finished" and "timer fired" wins; the other is ignored.
// Insecure fallback stays off: QtKeychain would otherwise write the password
// into a settings file in clear text.

namespace {

const QString kProfilesGroup = QStringLiteral("profiles");
const QString kLastUsedKey = QStringLiteral("lastUsedProfile");

// One settings key per field, written once here so load and save agree.
namespace Key {
const QString name = QStringLiteral("name");
const QString host = QStringLiteral("host");
const QString port = QStringLiteral("port");
const QString security = QStringLiteral("security");
const QString user = QStringLiteral("user");
const QString mechanism = QStringLiteral("mechanism");
const QString caFile = QStringLiteral("caFile");
const QString verify = QStringLiteral("verifyCertificates");
const QString tlsName = QStringLiteral("tlsName");
const QString ehloName = QStringLiteral("ehloName");
const QString connectTimeout = QStringLiteral("connectTimeoutMs");
const QString readTimeout = QStringLiteral("readTimeoutMs");
const QString testMode = QStringLiteral("testMode");
const QString keepAlive = QStringLiteral("keepAlive");
const QString showSecrets = QStringLiteral("showSecrets");
const QString warningMs = QStringLiteral("warningMs");
const QString warningBps = QStringLiteral("warningBytesPerSecond");
} // namespace Key

QString normalisedName(const QString &name)
{
    const QString n = name.trimmed();
    return n.isEmpty() ? ConnectionProfile().name : n;
}

// QtKeychain often says only "Unknown error"; say what the code means.
QString describe(QKeychain::Error code, const QString &detail)
{
    QString what;
    switch (code) {
    case QKeychain::NoError:
        return {};
    case QKeychain::EntryNotFound:
        what = QStringLiteral("no password is saved for this profile");
        break;
    case QKeychain::CouldNotDeleteEntry:
        what = QStringLiteral("the keychain could not delete the entry");
        break;
    case QKeychain::AccessDeniedByUser:
        what = QStringLiteral("access to the keychain was refused");
        break;
    case QKeychain::AccessDenied:
        what = QStringLiteral("access to the keychain was denied");
        break;
    case QKeychain::NoBackendAvailable:
        what = QStringLiteral("no keychain service (Secret Service, KWallet) is running");
        break;
    case QKeychain::NotImplemented:
        what = QStringLiteral("this platform has no keychain support");
        break;
    case QKeychain::OtherError:
        what = QStringLiteral("the keychain is not available");
        break;
    }
    if (detail.isEmpty() || detail == QLatin1String("Unknown error"))
        return what;
    return QStringLiteral("%1: %2").arg(what, detail);
}

// A delete "fails" harmlessly when there was nothing to delete, or no keychain
// to hold anything: only a keychain that refused is worth telling the user.
bool deleteFailed(QKeychain::Error code)
{
    return code == QKeychain::CouldNotDeleteEntry || code == QKeychain::AccessDenied
        || code == QKeychain::AccessDeniedByUser;
}

// Runs `onDone(errorCode, message)` once: when `job` finishes or when
// `timeoutMs` passes, whichever comes first. The job belongs to `owner`, so a
// job still pending when the store goes away goes with it.
void runGuarded(QKeychain::Job *job, QObject *owner, int timeoutMs,
                std::function<void(QKeychain::Error, const QString &)> onDone)
{
    auto settled = std::make_shared<bool>(false);
    auto callback = std::make_shared<std::function<void(QKeychain::Error, const QString &)>>(std::move(onDone));
    auto *timer = new QTimer(owner);
    timer->setSingleShot(true);
    QObject::connect(job, &QKeychain::Job::finished, owner, [settled, callback, timer](QKeychain::Job *j) {
        timer->deleteLater();
        if (*settled)
            return;
        *settled = true;
        (*callback)(j->error(), describe(j->error(), j->errorString()));
    });
    QObject::connect(timer, &QTimer::timeout, owner, [settled, callback, timer, timeoutMs] {
        timer->deleteLater();
        if (*settled)
            return;
        *settled = true;
        (*callback)(QKeychain::OtherError,
                    QStringLiteral("the keychain did not answer within %1 s").arg(timeoutMs / 1000.0));
    });
    timer->start(timeoutMs);
    job->setAutoDelete(true);
    job->setInsecureFallback(false);
    job->start();
}

} // namespace

ProfileStore::ProfileStore(QSettings *settings, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
{
}

QString ProfileStore::groupFor(const QString &name)
{
    // '/' and '\' separate QSettings groups; escape them (and '%', the escape
    // character) so any profile name is a single group.
    QString key = normalisedName(name);
    key.replace(QLatin1Char('%'), QStringLiteral("%25"));
    key.replace(QLatin1Char('/'), QStringLiteral("%2F"));
    key.replace(QLatin1Char('\\'), QStringLiteral("%5C"));
    return kProfilesGroup + QLatin1Char('/') + key;
}

QString ProfileStore::keyFor(const QString &name)
{
    return QStringLiteral("profile/") + normalisedName(name);
}

QStringList ProfileStore::names() const
{
    QStringList out;
    m_settings->beginGroup(kProfilesGroup);
    const QStringList groups = m_settings->childGroups();
    for (const QString &group : groups) {
        const QString name = m_settings->value(group + QLatin1Char('/') + Key::name).toString();
        out.append(name.isEmpty() ? QUrl::fromPercentEncoding(group.toUtf8()) : name);
    }
    m_settings->endGroup();
    out.sort(Qt::CaseInsensitive);
    return out;
}

std::optional<ConnectionProfile> ProfileStore::load(const QString &name) const
{
    const QString group = groupFor(name);
    m_settings->beginGroup(group);
    const bool exists = !m_settings->childKeys().isEmpty();
    m_settings->endGroup();
    if (!exists)
        return std::nullopt;
    const ConnectionProfile defaults;
    ConnectionProfile p;
    m_settings->beginGroup(group);
    p.name = m_settings->value(Key::name, normalisedName(name)).toString();
    p.host = m_settings->value(Key::host, defaults.host).toString();
    p.port = m_settings->value(Key::port, defaults.port).toInt();
    p.security = ConnectionProfile::securityFromName(m_settings->value(Key::security).toString())
                     .value_or(defaults.security);
    p.user = m_settings->value(Key::user).toString();
    p.mechanism = m_settings->value(Key::mechanism).toString();
    p.caFile = m_settings->value(Key::caFile).toString();
    p.verifyCertificates = m_settings->value(Key::verify, defaults.verifyCertificates).toBool();
    p.tlsName = m_settings->value(Key::tlsName).toString();
    p.ehloName = m_settings->value(Key::ehloName, defaults.ehloName).toString();
    p.connectTimeoutMs = m_settings->value(Key::connectTimeout, defaults.connectTimeoutMs).toInt();
    p.readTimeoutMs = m_settings->value(Key::readTimeout, defaults.readTimeoutMs).toInt();
    p.testMode = m_settings->value(Key::testMode, defaults.testMode).toBool();
    p.keepAlive = m_settings->value(Key::keepAlive, defaults.keepAlive).toBool();
    p.showSecrets = m_settings->value(Key::showSecrets, defaults.showSecrets).toBool();
    p.warningMs = m_settings->value(Key::warningMs, defaults.warningMs).toInt();
    p.warningBytesPerSecond = m_settings->value(Key::warningBps, defaults.warningBytesPerSecond).toInt();
    m_settings->endGroup();
    return p;
}

void ProfileStore::save(const ConnectionProfile &profile)
{
    const QString name = normalisedName(profile.name);
    m_settings->remove(groupFor(name)); // no stale keys from an older version
    m_settings->beginGroup(groupFor(name));
    m_settings->setValue(Key::name, name);
    m_settings->setValue(Key::host, profile.host);
    m_settings->setValue(Key::port, profile.port);
    m_settings->setValue(Key::security, ConnectionProfile::securityName(profile.security));
    m_settings->setValue(Key::user, profile.user);
    m_settings->setValue(Key::mechanism, profile.mechanism);
    m_settings->setValue(Key::caFile, profile.caFile);
    m_settings->setValue(Key::verify, profile.verifyCertificates);
    m_settings->setValue(Key::tlsName, profile.tlsName);
    m_settings->setValue(Key::ehloName, profile.ehloName);
    m_settings->setValue(Key::connectTimeout, profile.connectTimeoutMs);
    m_settings->setValue(Key::readTimeout, profile.readTimeoutMs);
    m_settings->setValue(Key::testMode, profile.testMode);
    m_settings->setValue(Key::keepAlive, profile.keepAlive);
    m_settings->setValue(Key::showSecrets, profile.showSecrets);
    m_settings->setValue(Key::warningMs, profile.warningMs);
    m_settings->setValue(Key::warningBps, profile.warningBytesPerSecond);
    // The password is deliberately absent: it goes to the keychain below.
    m_settings->endGroup();
    m_settings->sync();

    QPointer<ProfileStore> self(this);
    if (profile.password.isEmpty()) {
        // A cleared password must not linger in the keychain.
        auto *job = new QKeychain::DeletePasswordJob(QString::fromLatin1(KeychainService), this);
        job->setKey(keyFor(name));
        runGuarded(job, this, m_keychainTimeoutMs, [self](QKeychain::Error code, const QString &message) {
            if (self && deleteFailed(code))
                Q_EMIT self->keychainError(QStringLiteral("Could not remove the saved password: %1").arg(message));
        });
        return;
    }
    auto *job = new QKeychain::WritePasswordJob(QString::fromLatin1(KeychainService), this);
    job->setKey(keyFor(name));
    job->setTextData(profile.password);
    runGuarded(job, this, m_keychainTimeoutMs, [self](QKeychain::Error code, const QString &message) {
        if (self && code != QKeychain::NoError)
            Q_EMIT self->keychainError(
                QStringLiteral("The password was not saved (%1); it will have to be typed again.")
                    .arg(message));
    });
}

void ProfileStore::remove(const QString &name)
{
    const QString n = normalisedName(name);
    m_settings->remove(groupFor(n));
    if (lastUsed() == n)
        m_settings->remove(kLastUsedKey);
    m_settings->sync();

    QPointer<ProfileStore> self(this);
    auto *job = new QKeychain::DeletePasswordJob(QString::fromLatin1(KeychainService), this);
    job->setKey(keyFor(n));
    runGuarded(job, this, m_keychainTimeoutMs, [self](QKeychain::Error code, const QString &message) {
        if (self && deleteFailed(code))
            Q_EMIT self->keychainError(QStringLiteral("Could not remove the saved password: %1").arg(message));
    });
}

QString ProfileStore::lastUsed() const
{
    return m_settings->value(kLastUsedKey).toString();
}

void ProfileStore::setLastUsed(const QString &name)
{
    m_settings->setValue(kLastUsedKey, normalisedName(name));
    m_settings->sync();
}

void ProfileStore::loadPassword(const QString &name, std::function<void(const QString &, const QString &)> done)
{
    QPointer<ProfileStore> self(this);
    auto *job = new QKeychain::ReadPasswordJob(QString::fromLatin1(KeychainService), this);
    job->setKey(keyFor(name));
    // The job object is gone (auto-delete) after `finished`; read its data in
    // the finished handler, which runGuarded calls before deletion.
    QPointer<QKeychain::ReadPasswordJob> guard(job);
    runGuarded(job, this, m_keychainTimeoutMs,
               [self, guard, done = std::move(done)](QKeychain::Error code, const QString &message) {
                   if (code == QKeychain::NoError && guard) {
                       done(guard->textData(), QString());
                       return;
                   }
                   if (code == QKeychain::EntryNotFound) {
                       done(QString(), QStringLiteral("no password is saved for this profile"));
                       return;
                   }
                   const QString why = QStringLiteral("The saved password could not be read (%1).").arg(message);
                   if (self)
                       Q_EMIT self->keychainError(why);
                   done(QString(), why);
               });
}
