#pragma once
// The built-in capture server: SMTP on loopback (QTcpServer + QSslSocket), one
// ServerSession per connection, STARTTLS on the plain port and implicit TLS on a
// second port, messages stored in a MessageStore. Lives on the thread that
// creates it (the app's GUI thread is fine: all I/O is asynchronous, and the
// store commits on a thread of its own; the CLI's `serve` runs it in its event
// loop). The folder and its messages/ and tls/ are made private (0700).

#include "certificateauthority.h"
#include "fault.h"
#include "messagestore.h"
#include "serversession.h"

#include <QHostAddress>
#include <QObject>
#include <memory>

namespace Capture {

struct CaptureOptions
{
    QHostAddress address = QHostAddress::LocalHost; // loopback only by default
    quint16 port = 0;          // 0: a free port
    quint16 tlsPort = 0;       // implicit TLS; 0: a free port; -1 not possible, use enableTlsPort
    bool enableTlsPort = true;
    QString folder;            // messages (MessageStore) and certificates (CertificateAuthority)
    QString user;              // AUTH offered when set
    QString password;
    QList<Fault> faults;
    qint64 maxSize = 50LL * 1024 * 1024;
    // Limits on the whole store (0: none). When one is reached, new mail is
    // refused with 452 4.3.1 at MAIL and RCPT until messages are removed; a
    // message larger than maxBytes can never fit and gets 552 5.3.4.
    StoreQuota quota;
    // RFC 5321 4.5.3.2.7: a server waits at least 5 minutes. Only complete
    // commands and message data restart it (ServerSession::progress()), so a
    // client that trickles a partial line, or stops reading its replies, is
    // closed with 421 when it runs out.
    int idleTimeoutMs = 300000;
    // The whole life of a connection (0: none). It bounds what the idle timer
    // cannot: a client that keeps making a little progress for ever.
    int sessionTimeoutMs = 3600000;
    // Connections open at once (0: as many as the descriptor limit allows) and
    // from one client address (0: no such cap). Over a cap a client is answered
    // 421 and closed. The defaults let a test suite open 500 connections at once
    // from 127.0.0.1. The total is lowered to what the process's file descriptor
    // limit allows (the soft limit is raised toward the hard one first).
    int maxConnections = 1000;
    int maxConnectionsPerAddress = 600;
    // Failed AUTH: a tarpit, then 421 (see AuthThrottle); per client address.
    AuthThrottle::Policy authThrottle;
};

class CaptureServer : public QObject
{
    Q_OBJECT

public:
    explicit CaptureServer(QObject *parent = nullptr);
    ~CaptureServer() override;

    // Opens the store, loads or makes the certificates, listens; false and *error.
    bool start(const CaptureOptions &options, QString *error);
    void stop();
    [[nodiscard]] bool isListening() const;
    [[nodiscard]] quint16 port() const;
    [[nodiscard]] quint16 tlsPort() const;
    [[nodiscard]] QString caFile() const;
    [[nodiscard]] MessageStore *store() const;
    // Connections being served now (refused ones are not counted), and the cap
    // in force (after the descriptor limit; 0: none).
    [[nodiscard]] int connectionCount() const;
    [[nodiscard]] int maxConnections() const;
    // Changes the scripted faults for new steps at once (counters restart).
    void setFaults(const QList<Fault> &faults);

Q_SIGNALS:
    void messageCaptured(const Capture::StoredMessage &message);
    // One line per notable event ("connection from 127.0.0.1:5555", "TLS up", ...).
    void log(const QString &line);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Capture
