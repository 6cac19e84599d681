#pragma once
// Access to the real servers the integration tests talk to (started by
// scripts/test through tests/servers/), and helpers to check what they received.
// Every wait has a timeout.

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <memory>

// Postfix + Dovecot, described by the env file `tests/servers/mailserver start` writes.
struct MailEnv
{
    bool ok = false;
    QString error;
    quint16 smtpPort = 0;       // plain, STARTTLS offered, AUTH only after TLS
    quint16 smtpsPort = 0;      // implicit TLS
    quint16 submissionPort = 0; // TLS required, AUTH required
    // Misconfigured listeners for the diagnostics (tests/servers/README.md):
    quint16 badPort = 0;        // expired certificate, AUTH offered before TLS
    quint16 wrongNamePort = 0;  // certificate for other.test
    quint16 selfSignedPort = 0; // self-signed certificate
    quint16 chainPort = 0;      // leaf without its intermediate
    QString maildir;
    QString caFile;
    QString certsDir;
    QString certName;           // name in the server certificate ("smtp.test")
    QString user;
    QString password;
    QString refusedRcpt;
    QByteArray oauthToken;      // a JWT Dovecot accepts for `user` (XOAUTH2, OAUTHBEARER)
    QByteArray oauthBadToken;   // one it refuses

    // Loads $SMTPSCOPE_MAILENV. When missing: ok=false; tests QSKIP unless
    // SMTPSCOPE_REQUIRE_SERVERS=1 (scripts/test sets it), where they fail.
    static const MailEnv &get();
};

// Skips (developer run without servers) or fails (scripts/test) when the mail
// servers are not available.
#define REQUIRE_MAILENV()                                                                            \
    do {                                                                                             \
        if (!MailEnv::get().ok) {                                                                    \
            if (qEnvironmentVariableIntValue("SMTPSCOPE_REQUIRE_SERVERS"))                           \
                QFAIL(qPrintable(MailEnv::get().error));                                            \
            QSKIP(qPrintable(MailEnv::get().error));                                                \
        }                                                                                            \
    } while (false)

// tests/servers/dnsserver (dnsmasq on a loopback address, port 53) serving the
// records of a dnsmasq configuration fragment (mx-host=, srv-host=, txt-record=,
// ptr-record=, host-record=, dns-rr=). Port 53 needs root: scripts/test runs the
// tests as root in a private network namespace.
class DnsServer
{
public:
    DnsServer() = default;
    ~DnsServer(); // stops it
    Q_DISABLE_COPY_MOVE(DnsServer)
    // Starts it on 127.0.0.153, or on a random 127.53.x.x address when another run
    // holds that one. False with *error on failure; *notPermitted when port 53
    // cannot be bound (not root), for the caller to skip.
    bool start(const QByteArray &records, QString *error, bool *notPermitted = nullptr);
    [[nodiscard]] QString address() const { return m_address; }

private:
    QTemporaryDir m_dir;
    QString m_address;
    bool m_started = false;
};

// tests/servers/hostile_smtpd.py as a child process, one per test.
class HostileServer
{
public:
    struct Options
    {
        QStringList scenarios;       // e.g. {"inject-after-starttls"}
        QString certName = QStringLiteral("smtp.test"); // which test certificate it presents ("" = none)
        bool implicitTls = false;
        QStringList extraArgs;
    };

    HostileServer() = default;
    ~HostileServer();
    // Starts it and reads its port; false with *error on failure (10 s timeout).
    bool start(const Options &options, QString *error);
    [[nodiscard]] quint16 port() const { return m_port; }
    // Every JSON record written so far ({"conn","phase","line"} or {"conn","event",...}).
    [[nodiscard]] QList<QJsonObject> records() const;
    // The records of one event kind ("data-bytes", "tls-start", ...).
    [[nodiscard]] QList<QJsonObject> events(const QString &name) const;
    // Client lines received in a phase ("plain" / "tls" / "" for both).
    [[nodiscard]] QStringList lines(const QString &phase = QString()) const;
    // True if any received line starts with `prefix` (case-insensitive).
    [[nodiscard]] bool received(const QString &prefix, const QString &phase = QString()) const;

private:
    std::unique_ptr<QProcess> m_process;
    QString m_recordFile;
    quint16 m_port = 0;
};

// Messages delivered to Postfix's Maildir.
namespace Maildir {
// Waits until `count` messages containing `marker` are in the Maildir (new/ and
// cur/), up to timeoutMs; returns their contents (fewer on timeout).
QList<QByteArray> waitFor(const QString &maildir, const QByteArray &marker, int count, int timeoutMs = 15000);
// The message as submitted: what follows the headers Postfix prepends
// (Return-Path, X-Original-To, Delivered-To, Received), found by `firstHeader`.
QByteArray submittedPart(const QByteArray &delivered, const QByteArray &firstHeader);
// The value of a header Postfix added (e.g. "X-Original-To").
QByteArray header(const QByteArray &delivered, const QByteArray &name);
} // namespace Maildir

// A unique marker for one test message.
QByteArray uniqueMarker();
// A minimal RFC 5322 message with "X-Test-Id: <marker>" as its first header.
QByteArray testMessage(const QByteArray &marker, const QString &from, const QStringList &to,
                       const QByteArray &body, const QByteArray &subject = "SMTP Scope test");
