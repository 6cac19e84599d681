#pragma once
// SmtpClient: the reference Qore SmtpClient API (qore-smtpclient-reference.txt),
// corrected (docs/reference-differences.md lists every difference and why).
//
// Calls block the calling thread until done, like the reference. The network
// work runs on a private worker thread owned by the client, so any thread may
// call; one mutex per client serialises the calls (as the reference does).
// cancel() is the exception: it is not serialised, and stops the call in
// progress at once (the GUI's Cancel button).
//
// Errors are thrown as SmtpException carrying an SmtpError whose code keeps the
// reference's names (MESSAGE-ERROR, SMTPCLIENT-UNKNOWN-PROTOCOL, ...).

#include "connectionsettings.h"
#include "outgoingmessage.h"
#include "sendresult.h"
#include "smtperror.h"
#include "smtpurl.h"

#include <QMutex>
#include <QString>
#include <QVariant>
#include <QVariantMap>
#include <chrono>
#include <functional>
#include <memory>

class EventQueue;

class SmtpClient
{
public:
    using LogFunction = std::function<void(const QString &)>;

    static constexpr quint16 SmtpPort = 25;
    static constexpr quint16 SmtpsPort = 465;
    static constexpr quint16 EsmtpPort = 587;
    // The reference's "Protocols" constant: scheme -> {port, ssl, tls}.
    [[nodiscard]] static QVariantMap protocols();

    // (host, port, log, dbglog): "[addr]" marks an IPv6 address.
    SmtpClient(const QString &host, int port, LogFunction log = {}, LogFunction dbglog = {});
    // (url, log, dbglog): throws PARSE-URL-ERROR, SMTPCLIENT-UNKNOWN-PROTOCOL,
    // SMTPCLIENT-INVALID-AUTHENTICATION.
    explicit SmtpClient(const QString &url, LogFunction log = {}, LogFunction dbglog = {});
    // Disconnects if connected; errors go to the debug log function.
    ~SmtpClient();
    Q_DISABLE_COPY_MOVE(SmtpClient)

    // ---- the reference API
    void connect();
    void disconnect();       // QUIT, then close
    void forceDisconnect();  // close at once, no error
    [[nodiscard]] bool isConnected() const;
    // Sends one message. Returns the result when at least one recipient was
    // accepted and the server accepted the message; throws otherwise.
    SendResult sendMessage(const OutgoingMessage &message);

    [[nodiscard]] bool tls() const;
    void tls(bool on);      // STARTTLS required; clears ssl
    [[nodiscard]] bool ssl() const;
    void ssl(bool on);      // implicit TLS; clears tls
    [[nodiscard]] bool test() const;
    void test(bool on);     // test mode: no connection; full simulated transcript
    void setUserPass(const QString &user, const QString &password);

    void setConnectTimeout(int ms);
    void setConnectTimeout(std::chrono::milliseconds timeout) { setConnectTimeout(int(timeout.count())); }
    [[nodiscard]] int getConnectTimeoutMs() const;
    [[nodiscard]] std::chrono::milliseconds getConnectTimeoutDate() const;
    void setReadTimeout(int ms);
    void setReadTimeout(std::chrono::milliseconds timeout) { setReadTimeout(int(timeout.count())); }
    [[nodiscard]] int getReadTimeoutMs() const;
    [[nodiscard]] std::chrono::milliseconds getReadTimeoutDate() const;

    [[nodiscard]] QString getTarget() const;
    [[nodiscard]] QVariantMap getUsageInfo() const;
    void clearStats();

    // Throws QUEUE-ERROR for a bounded queue. The queue must outlive its use.
    void setEventQueue(EventQueue *queue, const QVariant &arg = {}, bool withData = false);
    void setEventQueue(); // removes it
    // Throws SOCKET-SETWARNINGQUEUE-ERROR when both thresholds are 0, QUEUE-ERROR
    // for a bounded queue.
    void setWarningQueue(int warningMs, int warningBs, EventQueue *queue, const QVariant &arg = {},
                         int minMs = 1000);
    void clearWarningQueue();

    // ---- beyond the reference
    enum class StartTlsPolicy {
        Opportunistic, // STARTTLS when offered (the reference's default), reported when absent
        Never,         // never upgrade (--no-starttls)
    };
    void setStartTlsPolicy(StartTlsPolicy policy);
    void setOAuthToken(const QString &user, const QByteArray &token); // XOAUTH2 / OAUTHBEARER
    void setAuthMechanism(const QString &mechanism);  // empty: strongest offered
    void setAllowPlaintextAuth(bool allow);
    void setCaFile(const QString &path);
    void setInsecure(bool insecure);       // skip certificate verification (recorded in results)
    void setPeerVerifyName(const QString &name); // certificate name if not the host (connect-to)
    void setEhloName(const QString &name); // default "localhost"; validated
    void setDataTimeout(int ms);           // reply to the end of data; default 10 min (RFC 5321 4.5.3.2.6)
    [[nodiscard]] int getDataTimeoutMs() const;
    void setKeepAlive(bool keepAlive);     // keep the session open after a send (RSET/NOOP between)
    [[nodiscard]] bool keepAlive() const;
    void setShowSecrets(bool show);        // AUTH data in transcripts, events and logs
    // Called with each transcript entry as it happens (redacted unless
    // setShowSecrets), on the client's worker thread; empty to stop.
    using TranscriptFunction = std::function<void(const TranscriptEntry &)>;
    void setTranscriptFunction(TranscriptFunction f);
    // Test mode: called with the bytes the client would write, in order, as they
    // are produced (on the client's worker thread); SendResult keeps only their
    // start, size and SHA-256. Empty to stop.
    using WireFunction = std::function<void(QByteArrayView)>;
    void setTestWireFunction(WireFunction f);
    void setPipelining(bool use);          // when offered (default on)
    void setChunking(bool use);            // BDAT when offered (default on)

    // Loads the TLS library and the system CA store, which every client then
    // shares (a few hundred ms, once per process), on the calling thread: the
    // window calls it on a worker at start-up so its first send does not wait.
    static void preloadTls();

    // Every setting at once (connectionsettings.h); the setters above are views
    // over it. Throws SETTINGS-ERROR (category Usage) naming the field of an
    // invalid value.
    void setSettings(const ConnectionSettings &settings);
    [[nodiscard]] ConnectionSettings settings() const;

    // Sends several messages over one session. With PIPELINING each message's
    // commands go in the same write as the previous end of data (RFC 2920 3.1).
    // Never throws for a single message's failure: each result carries its error.
    // Throws when the session itself cannot be had (connect, TLS, AUTH).
    QList<SendResult> sendMessages(const QList<const OutgoingMessage *> &messages);

    // Stops the call in progress at once from any thread (not serialised).
    void cancel();

    // Greeting, capabilities and TLS facts of the open session (after connect()).
    [[nodiscard]] SendResult sessionInfo() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};
