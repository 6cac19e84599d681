#include "profilestore.h"

#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <qt6keychain/keychain.h>

// How it works: each profile is a QSettings group "profiles/<name>" holding its
// name and every field of its ConnectionSettings but the secrets, under the
// field keys (ConnectionSettings::fields()); the secret (password or bearer
// token) is a QtKeychain entry. Keychain
// jobs are asynchronous and may never answer (no secret service, a locked
// wallet, no session bus in tests), so every job has a timer of its own and
// the first of "job finished" and "timer fired" wins; the other is ignored.
// Insecure fallback stays off: QtKeychain would otherwise write the password
// into a settings file in clear text.

namespace {

const QString kProfilesGroup = QStringLiteral("profiles");
const QString kLastUsedKey = QStringLiteral("lastUsedProfile");

const QString kNameKey = QStringLiteral("name");

// Keys profiles were saved with before they were stored under the settings'
// field keys (ConnectionSettings::fields()); read, never written. Their old
// security names are read by Smtp::securityFromName.
const QList<std::pair<QString, QString>> &oldKeys()
{
    static const QList<std::pair<QString, QString>> table = {
        {QStringLiteral("caFile"), QStringLiteral("ca_file")},
        {QStringLiteral("verifyCertificates"), QStringLiteral("verify_peer")},
        {QStringLiteral("tlsName"), QStringLiteral("peer_name")},
        {QStringLiteral("ehloName"), QStringLiteral("ehlo_name")},
        {QStringLiteral("connectTimeoutMs"), QStringLiteral("connect_timeout_ms")},
        {QStringLiteral("readTimeoutMs"), QStringLiteral("read_timeout_ms")},
        {QStringLiteral("testMode"), QStringLiteral("test_mode")},
        {QStringLiteral("keepAlive"), QStringLiteral("keep_alive")},
        {QStringLiteral("showSecrets"), QStringLiteral("show_secrets")},
        {QStringLiteral("warningMs"), QStringLiteral("warn_slow_ms")},
        {QStringLiteral("warningBytesPerSecond"), QStringLiteral("warn_min_bytes_per_second")},
    };
    return table;
}

QString normalisedName(const QString &name)
{
    const QString n = name.trimmed();
    return n.isEmpty() ? QString::fromLatin1(ConnectionProfile::DefaultName) : n;
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
    ConnectionProfile p;
    p.name = normalisedName(name);
    return p.keychainKey();
}

QStringList ProfileStore::names() const
{
    QStringList out;
    m_settings->beginGroup(kProfilesGroup);
    const QStringList groups = m_settings->childGroups();
    for (const QString &group : groups) {
        const QString name = m_settings->value(group + QLatin1Char('/') + kNameKey).toString();
        out.append(name.isEmpty() ? QUrl::fromPercentEncoding(group.toUtf8()) : name);
    }
    m_settings->endGroup();
    out.sort(Qt::CaseInsensitive);
    return out;
}

std::optional<ConnectionProfile> ProfileStore::load(const QString &name, QString *problem) const
{
    if (problem)
        problem->clear();
    const QString group = groupFor(name);
    m_settings->beginGroup(group);
    const QStringList keys = m_settings->childKeys();
    QVariantMap stored;
    for (const QString &key : keys)
        stored.insert(key, m_settings->value(key));
    m_settings->endGroup();
    if (keys.isEmpty())
        return std::nullopt;

    ConnectionProfile p;
    p.name = stored.value(kNameKey, normalisedName(name)).toString();
    // A profile saved before the field keys: its keys under their new names (a
    // key written both ways is taken in its new form).
    for (const auto &[old, key] : oldKeys()) {
        if (stored.contains(old) && !stored.contains(key))
            stored.insert(key, stored.value(old));
    }
    // Field by field, so that one bad value (a hand-edited file) costs that
    // field only; the first such problem is reported, naming the key.
    for (const ConnectionSettings::Field &field : ConnectionSettings::fields()) {
        const QString key = QString::fromLatin1(field.key);
        if (field.secret || !stored.contains(key))
            continue; // a secret is the keychain's, even in a file written by hand
        QString error;
        if (const auto next = ConnectionSettings::fromVariantMap({{key, stored.value(key)}}, p.settings, &error))
            p.settings = *next;
        else if (problem && problem->isEmpty())
            *problem = QStringLiteral("Profile \"%1\": %2").arg(p.name, error);
    }
    return p;
}

void ProfileStore::save(const ConnectionProfile &profile)
{
    const QString name = normalisedName(profile.name);
    m_settings->remove(groupFor(name)); // no stale keys from an older version
    m_settings->beginGroup(groupFor(name));
    m_settings->setValue(kNameKey, name);
    // Every field but the secrets (toVariantMap leaves them out): they go to
    // the keychain below.
    const QVariantMap map = profile.settings.toVariantMap();
    for (auto it = map.cbegin(); it != map.cend(); ++it)
        m_settings->setValue(it.key(), it.value());
    m_settings->endGroup();
    m_settings->sync();

    QPointer<ProfileStore> self(this);
    const QString secret = profile.secret();
    if (secret.isEmpty()) {
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
    job->setTextData(secret);
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
