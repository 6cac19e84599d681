#pragma once
// Named connection profiles in QSettings (group "profiles/<name>", one key per
// ConnectionSettings field), with the secret of each (password or bearer token)
// in the desktop keychain (QtKeychain, service "smtpscope", key
// ConnectionProfile::keychainKey()), never in the settings file.

#include "connectionprofile.h"

#include <QObject>
#include <QSettings>
#include <QStringList>
#include <functional>

class ProfileStore : public QObject
{
    Q_OBJECT

public:
    // `settings` is owned by the caller and outlives the store (tests give an
    // INI file of their own; the app gives QSettings()).
    explicit ProfileStore(QSettings *settings, QObject *parent = nullptr);

    [[nodiscard]] QStringList names() const;
    // The profile without its secret (see loadPassword); nullopt when there is
    // none of that name. Profiles saved under the earlier keys (caFile, tlsName,
    // ..., "starttls-required") are read too. A value that cannot be read keeps
    // that field's default and *problem names the key.
    [[nodiscard]] std::optional<ConnectionProfile> load(const QString &name, QString *problem = nullptr) const;
    // Saves everything but the secret; the secret goes to the keychain
    // (asynchronously; errors reported by keychainError).
    void save(const ConnectionProfile &profile);
    void remove(const QString &name);
    [[nodiscard]] QString lastUsed() const;
    void setLastUsed(const QString &name);

    // Reads the secret (ConnectionProfile::setSecret) from the keychain and calls `done(password, error)` on
    // this object's thread; an empty password and an error when there is none or
    // no keychain is available.
    void loadPassword(const QString &name, std::function<void(const QString &, const QString &)> done);

    // How long a keychain job may take before it is given up on (the callback
    // then gets an error); a keychain that never answers must not hang the UI.
    void setKeychainTimeout(int ms) { m_keychainTimeoutMs = ms; }
    [[nodiscard]] int keychainTimeout() const { return m_keychainTimeoutMs; }

    static constexpr auto KeychainService = "smtpscope";

Q_SIGNALS:
    void keychainError(const QString &message);

private:
    [[nodiscard]] static QString groupFor(const QString &name);
    [[nodiscard]] static QString keyFor(const QString &name);

    QSettings *m_settings;
    int m_keychainTimeoutMs = 10000;
};
