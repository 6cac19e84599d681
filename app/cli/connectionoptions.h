#pragma once
// The connection, TLS and authentication options shared by `send` and `probe`:
// declared on a QCommandLineParser, read back and checked, then applied to an
// SmtpClient.
//
// Passwords never have to be on the command line (where every local user can
// read them in the process list): --password-file, $SMTPSCOPE_PASSWORD, or a
// prompt without echo when stdin is a terminal. A password inside --url is
// accepted (the reference's URLs allow it) with a warning.

#include "client/connectionsettings.h"
#include "client/smtpclient.h"
#include "diagnostics/servercheck.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <memory>

class QCommandLineParser;

namespace Cli {

class ConnectionOptions
{
public:
    // Declares the options on `parser`.
    static void declare(QCommandLineParser &parser);

    // `probe --domain` may run without a host: then read() leaves host() empty
    // instead of failing.
    void setHostOptional(bool optional) { m_hostOptional = optional; }

    // Reads and checks the options. On bad input returns false with a one-line
    // *error. `testMode`: no connection will be made, so no host or password is
    // needed. Warnings for the user (insecure mode, password in the URL) are
    // appended to *warnings.
    bool read(const QCommandLineParser &parser, bool testMode, QString *error, QStringList *warnings);

    // A client set up with every option. Throws SmtpException for values the
    // engine refuses (category Usage).
    [[nodiscard]] std::unique_ptr<SmtpClient> createClient() const;

    // The same settings for a diagnosis's checklist (credentials included: the
    // checklist keeps them out of every report).
    [[nodiscard]] Diagnostics::CheckOptions checkOptions() const;

    // The warning thresholds (`send --warn-slow-ms`, `--warn-min-rate`); 0: off.
    void setWarnings(int slowMs, int minBytesPerSecond)
    {
        m_settings.warnSlowMs = slowMs;
        m_settings.warnMinBytesPerSecond = minBytesPerSecond;
    }
    // Everything read, as the one settings value (client/connectionsettings.h).
    [[nodiscard]] const ConnectionSettings &settings() const { return m_settings; }
    // "host:port" (brackets around IPv6).
    [[nodiscard]] QString target() const { return m_settings.target(); }
    [[nodiscard]] QString host() const { return m_settings.host; }
    [[nodiscard]] quint16 port() const { return m_settings.port; }
    [[nodiscard]] bool portGiven() const { return m_portGiven; }
    [[nodiscard]] QString tlsName() const { return m_settings.peerName; }
    [[nodiscard]] QString caFile() const { return m_settings.caFile; }
    [[nodiscard]] bool implicitTls() const { return m_settings.ssl(); }
    [[nodiscard]] QString user() const { return m_settings.user; }
    [[nodiscard]] bool hasCredentials() const { return !m_settings.user.isEmpty(); }
    [[nodiscard]] bool insecure() const { return !m_settings.verifyPeer; }
    [[nodiscard]] bool showSecrets() const { return m_settings.showSecrets; }
    // Smtp::securityName: "plain", "starttls-opportunistic", "starttls", "implicit-tls"
    [[nodiscard]] QString securityMode() const { return m_settings.securityName(); }

private:
    bool readPassword(const QCommandLineParser &parser, QString *error);

    ConnectionSettings m_settings;
    bool m_portGiven = false; // by --port or in the URL
    bool m_hostOptional = false;
    bool m_connectTimeoutGiven = false;
    bool m_readTimeoutGiven = false;
};

} // namespace Cli
