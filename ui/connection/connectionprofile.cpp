#include "connectionprofile.h"

// How it works: the profile adds only a name to ConnectionSettings, which owns
// the defaults, the URL form, validation and the mismatch hints. What is left
// here is the panel's one password field, which holds either a password or a
// bearer token depending on the mechanism.

ConnectionSettings ConnectionProfile::defaultSettings()
{
    ConnectionSettings s;
    s.host = QStringLiteral("localhost");
    return s;
}

QString ConnectionProfile::secret() const
{
    return ConnectionSettings::isTokenMechanism(settings.mechanism) ? QString::fromUtf8(settings.oauthToken)
                                                                    : settings.password;
}

void ConnectionProfile::setSecret(const QString &secret)
{
    if (ConnectionSettings::isTokenMechanism(settings.mechanism)) {
        settings.oauthToken = secret.toUtf8();
        settings.password.clear();
    } else {
        settings.password = secret;
        settings.oauthToken.clear();
    }
}

void ConnectionProfile::setMechanism(const QString &mechanism)
{
    const QString kept = secret();
    settings.mechanism = mechanism;
    setSecret(kept);
}

void ConnectionProfile::normaliseSecret()
{
    if (ConnectionSettings::isTokenMechanism(settings.mechanism)) {
        if (!settings.password.isEmpty())
            setSecret(settings.password);
    } else if (!settings.oauthToken.isEmpty() && settings.password.isEmpty()) {
        setSecret(QString::fromUtf8(settings.oauthToken));
    }
}

QString ConnectionProfile::keychainKey() const
{
    const QString n = name.trimmed();
    return QStringLiteral("profile/") + (n.isEmpty() ? QString::fromLatin1(DefaultName) : n);
}

std::unique_ptr<SmtpClient> ConnectionProfile::createClient() const
{
    ConnectionSettings s = settings;
    s.host = s.host.trimmed();
    if (const QString problem = s.validationProblem(); !problem.isEmpty())
        throw SmtpException(SmtpError::make(SmtpError::Category::Usage, QStringLiteral("SETTINGS-ERROR"),
                                            QStringLiteral("profile"), problem));
    auto client = std::make_unique<SmtpClient>(s.host, int(s.port));
    client->setSettings(s);
    return client;
}
