#pragma once
// The connection, TLS and authentication options shared by `send` and `probe`:
// declared on a QCommandLineParser, read back and checked, then applied to an
// SmtpClient.
//
// Passwords never have to be on the command line (where every local user can
// read them in the process list): --password-file, $SMTPSCOPE_PASSWORD, or a
// prompt without echo when stdin is a terminal. A password inside --url is
// accepted (the reference's URLs allow it) with a warning.

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

    // "host:port" (brackets around IPv6).
    [[nodiscard]] QString target() const;
    [[nodiscard]] QString host() const { return m_host; }
    [[nodiscard]] quint16 port() const { return m_port; }
    [[nodiscard]] bool portGiven() const { return m_portGiven; }
    [[nodiscard]] QString tlsName() const { return m_tlsName; }
    [[nodiscard]] QString caFile() const { return m_caFile; }
    [[nodiscard]] bool implicitTls() const { return m_ssl; }
    [[nodiscard]] bool requireTls() const { return m_tls; }
    [[nodiscard]] bool noStartTls() const { return m_noStartTls; }
    [[nodiscard]] QString user() const { return m_user; }
    [[nodiscard]] bool hasCredentials() const { return !m_user.isEmpty(); }
    [[nodiscard]] bool insecure() const { return m_insecure; }
    [[nodiscard]] bool showSecrets() const { return m_showSecrets; }
    // "plain", "starttls-opportunistic", "starttls", "implicit-tls"
    [[nodiscard]] QString securityMode() const;

private:
    bool readPassword(const QCommandLineParser &parser, QString *error);

    QString m_host;
    quint16 m_port = SmtpClient::SmtpPort;
    bool m_portGiven = false; // by --port or in the URL
    bool m_hostOptional = false;
    bool m_ssl = false;
    bool m_tls = false;
    bool m_noStartTls = false;
    QString m_user;
    QString m_password;
    QByteArray m_oauthToken;
    QString m_mechanism;
    bool m_allowPlaintextAuth = false;
    QString m_caFile;
    bool m_insecure = false;
    QString m_tlsName;
    QString m_ehlo;
    int m_connectTimeoutMs = 0; // 0: the engine's default
    int m_readTimeoutMs = 0;
    int m_dataTimeoutMs = 0;
    bool m_showSecrets = false;
    bool m_pipelining = true;
    bool m_chunking = true;
};

} // namespace Cli
