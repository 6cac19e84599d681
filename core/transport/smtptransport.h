#pragma once
// The only code that touches QSslSocket (ARCHITECTURE.md). A thin, asynchronous
// driver: it connects (host lookup, connect timeout, implicit TLS), writes what
// it is given in one write, hands received bytes up, upgrades to TLS on demand
// (STARTTLS), arms a reply deadline, and records events, statistics and TLS
// facts. It knows nothing of SMTP.
//
// Thread: lives on the engine's worker thread; every method must be called on
// that thread. Signals are emitted on that thread.

#include "events/tlsinfo.h"
#include "client/smtperror.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QSsl>
#include <QVariant>
#include <memory>

class EventQueue;
class UsageStats;

class SmtpTransport : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QString host;               // name or IP literal (no brackets)
        quint16 port = 25;
        bool implicitTls = false;   // TLS from the first byte (smtps, port 465)
        QString peerVerifyName;     // certificate name to verify and SNI; defaults to host
                                    // (tests connect to 127.0.0.1 and verify "smtp.test")
        QString caFile;             // extra CA certificates (PEM), added to the system ones
        bool insecure = false;      // do not fail on certificate errors (still recorded)
        int connectTimeoutMs = 30000; // lookup + TCP connect + implicit TLS handshake
        int tlsTimeoutMs = 30000;   // STARTTLS handshake
        // TLS versions offered. The default lets OpenSSL offer what it considers
        // secure; the diagnostics' version scan offers one version at a
        // time to learn which ones the server accepts.
        QSsl::SslProtocol protocol = QSsl::SecureProtocols;
    };

    explicit SmtpTransport(QObject *parent = nullptr);
    ~SmtpTransport() override;

    // Events go to `queue` (may be null) with the given arg; `withData` adds the
    // raw bytes to PACKET_SENT / PACKET_READ; `id` identifies the client object.
    void setEventQueue(EventQueue *queue, const QVariant &arg, bool withData, qint64 id);
    void setStats(UsageStats *stats); // not owned, may be null

    // Starts: HOSTNAME_LOOKUP/HOSTNAME_RESOLVED (skipped for IP literals),
    // CONNECTING, CONNECTED, and START_SSL/SSL_ESTABLISHED when implicitTls.
    // Ends with connected() or failed(). Tries each resolved address in turn
    // within the connect timeout.
    void connectToServer(const Options &options);
    // Builds the TLS configuration connectToServer() will use (the TLS backend;
    // with a CA file, the system CA store too, loaded once per process: a few
    // hundred milliseconds the first time). Called ahead of connectToServer, its
    // cost is a step of its own ("tls-setup") instead of part of the connect;
    // connectToServer calls it itself otherwise. Returns the microseconds it took.
    qint64 prepare(const Options &options);
    // Loads what prepare() loads once per process (the TLS backend and the system
    // CA store), on the calling thread: the window calls it on a worker at start-up.
    static void preload();
    // A set-up shorter than this is not reported as a step.
    static constexpr qint64 TlsSetupReportUs = 1000;
    // Queues `data` as one socket write (PACKET_SENT when the kernel took it).
    // `shown`, when given, is what PACKET_SENT events carry as "data" instead:
    // the same bytes with secrets masked (same length, so offsets agree).
    void write(const QByteArray &data, const QByteArray &shown = QByteArray());
    // RFC 3207: begins the TLS handshake on the open connection. The caller must
    // have checked that no unread bytes were received after the 220; the
    // transport checks its own socket buffer too and fails with a Tls error
    // ("data received between the STARTTLS reply and the TLS handshake") if any.
    // Ends with encrypted() or failed().
    void startTls();
    // Arms (or re-arms) the deadline for the next awaited data: deadlinePassed()
    // fires once after `ms` unless cleared. This is a total deadline, not an
    // inactivity timer (a trickling server still times out).
    void setDeadline(int ms);
    void clearDeadline();
    // Graceful close after pending writes; closed() follows.
    void disconnectFromServer();
    // Immediate close, no signal other than closed() if it was open.
    void abort();

    [[nodiscard]] bool isOpen() const;
    [[nodiscard]] bool isEncrypted() const;
    [[nodiscard]] qint64 bytesToWrite() const; // plain + encrypted bytes still buffered
    [[nodiscard]] TlsInfo tlsInfo() const;
    [[nodiscard]] QHostAddress peerAddress() const;
    [[nodiscard]] QList<QHostAddress> resolvedAddresses() const;
    // Microseconds spent in each phase of the last connect: "tls-setup" (when it
    // took TlsSetupReportUs or more), "lookup", "connect", "tls".
    [[nodiscard]] QVariantMap timings() const;
    // Microseconds since the TCP connect, and since the last TLS handshake,
    // completed (0 before): for stamping what is shown of those instants later.
    [[nodiscard]] qint64 usSinceConnected() const;
    // Microseconds since the phase in progress began (from connecting() and
    // startingTls(): since that signal's instant).
    [[nodiscard]] qint64 usSincePhaseStarted() const;
    [[nodiscard]] qint64 usSinceEncrypted() const;

Q_SIGNALS:
    // An attempt to connect to `address` starts now (once per address tried);
    // the connect step is timed from here.
    void connecting(const QHostAddress &address);
    void connected();                   // TCP up (and TLS up when implicitTls)
    void startingTls();                 // startTls() begins the handshake now; the "tls" step is timed from here
    void encrypted();                   // STARTTLS handshake done and verified
    void received(const QByteArray &data);
    // Write progress, for flow control of large bodies: `bytes` application
    // bytes were written; 0 when only already-encrypted TLS bytes drained.
    void bytesWritten(qint64 bytes);
    void deadlinePassed();
    void closed();                      // the peer closed, or the socket was aborted
    void failed(const SmtpError &error);// connection, TLS or I/O failure: the transport is closed

private:
    struct Private;
    std::unique_ptr<Private> d;
};
