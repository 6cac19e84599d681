#pragma once
// A named connection profile: a name plus the ConnectionSettings the connection
// panel edits. Saved by ProfileStore (QSettings under the settings' field keys;
// the secret goes to the keychain only, under keychainKey()) and turned into a
// configured SmtpClient by createClient().

#include "client/connectionsettings.h"
#include "client/smtpclient.h"

#include <QString>
#include <memory>

struct ConnectionProfile
{
    static constexpr auto DefaultName = "Default";

    QString name = QString::fromLatin1(DefaultName);
    // Every default is ConnectionSettings's, but for the host: a new profile
    // points at this machine.
    ConnectionSettings settings = defaultSettings();
    // The name describes the target itself ("Local capture server"), so the
    // panel drops it when the profile is retargeted at another host or port.
    // Never saved: a stored profile's name is the user's.
    bool nameDescribesTarget = false;

    [[nodiscard]] static ConnectionSettings defaultSettings();

    // The panel's password field: the password, or for XOAUTH2 and OAUTHBEARER the
    // bearer token (RFC 7628 3.1), which goes to settings.oauthToken.
    [[nodiscard]] QString secret() const;
    void setSecret(const QString &secret);
    // Changes the SASL mechanism and moves the secret to the field it now belongs
    // in (password or token).
    void setMechanism(const QString &mechanism);
    // After settings.password was set from outside (a URL with a password): moves
    // it to the token when the mechanism takes one.
    void normaliseSecret();

    // The keychain entry holding this profile's secret (service ProfileStore::KeychainService).
    [[nodiscard]] QString keychainKey() const;

    // A client configured with `settings`. Throws SmtpException (SETTINGS-ERROR,
    // category Usage) naming the field of an invalid value. The warning
    // thresholds need the caller's queue: SendController applies them.
    [[nodiscard]] std::unique_ptr<SmtpClient> createClient() const;

    friend bool operator==(const ConnectionProfile &, const ConnectionProfile &) = default;
};
