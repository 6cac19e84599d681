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
    int idleTimeoutMs = 300000; // RFC 5321 4.5.3.2.7: a server waits at least 5 minutes
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
