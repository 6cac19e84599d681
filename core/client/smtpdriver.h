#pragma once
// Private to core/client: the worker-thread object that joins the sans-I/O
// Smtp::Session to the SmtpTransport. SmtpClient posts jobs to it and waits.
//
// Thread: a Driver lives on its SmtpClient's worker thread; every member runs
// there (jobs arrive through queued invokeMethod calls).

#include "connectionsettings.h"
#include "outgoingmessage.h"
#include "sendresult.h"
#include "smtpclient.h"

#include "protocol/smtpsession.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QVariant>
#include <atomic>
#include <deque>
#include <functional>
#include <memory>

class EventQueue;
class QHostAddress;
class SmtpTransport;
class UsageStats;

// The settings of a job, copied at its start, with where its events go.
struct ClientOptions
{
    ConnectionSettings settings;
    // Events
    EventQueue *eventQueue = nullptr;
    QVariant eventArg;
    bool eventData = false;
    qint64 clientId = 0;
};

struct LogFunctionPair
{
    SmtpClient::LogFunction log;    // the reference's "log": one line per notable step
    SmtpClient::LogFunction dbglog; // the reference's "dbglog": the redacted transcript
    // Each transcript entry as it happens (redacted, with its direction and TLS
    // mark), for live views; called on the worker thread.
    std::function<void(const TranscriptEntry &)> transcript;
};

struct DriverJob
{
    enum class Kind { Connect, Send, Quit };
    Kind kind = Kind::Connect;
    ClientOptions options;
    QList<const OutgoingMessage *> messages; // owned by the blocked caller
    bool quitAfter = true;
};

struct DriverOutcome
{
    SmtpError error;             // the session-level error, if any
    QList<SendResult> results;   // one per message for Send
    SendResult session;          // session facts and the whole transcript
};

class Driver : public QObject
{
    Q_OBJECT
public:
    using Done = std::function<void(DriverOutcome)>;

    Driver(UsageStats *stats, LogFunctionPair logs);
    void setTranscriptFunction(std::function<void(const TranscriptEntry &)> f) { m_logs.transcript = std::move(f); }
    void setTestWireFunction(SmtpClient::WireFunction f) { m_wireFunction = std::move(f); }
    ~Driver() override;

    void run(DriverJob job, Done done);
    void abort(const QString &why);
    void forceClose();
    void setEventQueue(EventQueue *queue, const QVariant &arg, bool withData);

    [[nodiscard]] bool isConnected() const { return m_connected.load(); }
    [[nodiscard]] SendResult sessionInfo() const { return m_info; }

private:
    struct Message
    {
        const OutgoingMessage *msg = nullptr;
        Smtp::Envelope envelope; // validated before any I/O
        // Recipients of the transaction in flight, as indexes into
        // envelope.recipients / result.recipients (all of them at first; those
        // answered 452 when a later transaction retries them).
        QList<int> rcptIndexes;
        SendResult result;
        BodyOptions bodyOptions; // what the server offered when the transaction began
        int txn = -1;
        bool started = false;
        bool done = false;
        qint64 bodyStartUs = 0;
        qint64 lastDataUs = 0; // when the last message bytes were written
    };

    void connectNow();
    void reconnect();
    void startSending();
    void startMessages();
    bool startMessage(Message &m);
    static SmtpError prepareEnvelope(Message &m);
    bool retryDeferredRecipients(Message &m);
    void pump();
    void handle(const Smtp::SessionEvent &e);
    void streamBody();
    void armDeadline(bool progress = false);
    void finish(SmtpError error = {});
    void messageDone(Message &m);
    void allMessagesHandled();
    Message *messageForTxn(int txn);

    void takeSimulatedWire(const QByteArray &bytes);
    // `agoUs`: the entry happened that long before now (stamped at its instant).
    void addTranscript(TranscriptEntry::Direction dir, const QString &text, qint64 agoUs = 0);
    void pushSmtpEvent(int type, QVariantMap fields);
    qint64 nowUs() const { return m_clock.isValid() ? m_clock.nsecsElapsed() / 1000 : 0; }

    void onConnecting(const QHostAddress &address);
    void onConnected();
    void onEncrypted();
    void onReceived(const QByteArray &data);
    void onClosed();
    void onFailed(const SmtpError &error);
    void onDeadline();
    void onBytesWritten();

    UsageStats *m_stats;
    LogFunctionPair m_logs;
    SmtpTransport *m_transport = nullptr;
    std::unique_ptr<Smtp::Session> m_session;
    std::unique_ptr<class SimulatedServer> m_simulator;
    // Test mode: every byte goes to the wire function and the hash; only the
    // start is kept in m_info (SendResult::SimulatedWireExcerpt).
    SmtpClient::WireFunction m_wireFunction;
    QCryptographicHash m_wireHash{QCryptographicHash::Sha256};
    ClientOptions m_options;     // of the open connection
    ClientOptions m_jobOptions;  // of the job in progress
    std::atomic<bool> m_connected{false};

    bool m_busy = false;
    DriverJob m_job;
    Done m_done;
    std::deque<Message> m_messages;    // built whole before sending: references stay valid
    QHash<int, Message *> m_byTxn;     // transaction id -> its message
    std::deque<Message *> m_retries;   // messages with recipients deferred by 452
    int m_nextMessage = 0;
    int m_doneCount = 0;
    bool m_checkingReuse = false;
    bool m_reconnected = false;
    bool m_quitting = false;
    bool m_inPump = false;
    QList<Smtp::SessionEvent> m_events; // reused by pump(): no allocation per round
    bool m_finishPending = false;
    SmtpError m_finishError;
    SendResult m_info;
    // The transcript of the job in progress. A bulk send over one session would
    // otherwise grow it without bound: the first and last entries are kept, with
    // a count of those left out between them.
    QList<TranscriptEntry> m_transcriptHead;
    std::deque<TranscriptEntry> m_transcriptTail;
    qint64 m_transcriptDropped = 0;
    QElapsedTimer m_clock;

    // Body streaming (RFC 5321 4.5.2 through Session::sendBody)
    int m_bodyTxn = -1;
    std::unique_ptr<QIODevice> m_body;
    QByteArray m_readBuffer;
    bool m_streaming = false;

    // Per-command timings: commands awaiting replies, in order (RFC 2920 3.1)
    std::deque<std::pair<QByteArray, qint64>> m_commandTimes;
    qint64 m_connectStartUs = 0;
    // What the armed deadline waits for: re-armed only on progress, so that a
    // server trickling bytes without completing a reply still times out.
    Smtp::Session::WaitKind m_armedKind = Smtp::Session::WaitKind::None;
    quint64 m_armedReplies = 0;
};
