#pragma once
// The SMTP client session as a sans-I/O state machine (ARCHITECTURE.md, STYLE.md).
//
// How it works
// ------------
// The driver (client/SmtpConnection) owns the socket. It tells the session what
// the transport saw (connected(), receive(), tlsEstablished(), closed(),
// deadlinePassed()) and what the user wants (startTransaction(), sendBody(),
// endBody(), noop(), reset(), quit()). After each call it takes the bytes to write
// (takeOutput()) and the events (takeEvents()), and arms the reply deadline that
// waitKind() asks for. The session never touches a socket, a clock or a thread,
// so the whole protocol is tested by feeding it transcripts.
//
// Every command the session writes is recorded in a queue of commands awaiting
// a reply; each parsed reply answers the command at the front of that queue
// (RFC 2920 3.1: replies come back in order). This one mechanism serves both a
// server without PIPELINING (one command in flight) and one with it (MAIL, every
// RCPT and DATA in one write; with keep-alive, the next transaction's commands
// go in the same write as the previous message's end of data).
//
// Transitions (written once; see Session::State):
//   Connecting  --connected-->            Greeting
//   Greeting    --220-->                  Ehlo      (other codes: Failed)
//   Ehlo        --250-->                  StartTls | Auth | Ready
//   Ehlo        --5xx, TLS not required--> Helo --250--> Auth | Ready
//   StartTls    --220, nothing buffered--> TlsHandshake --tlsEstablished--> EhloAfterTls
//   EhloAfterTls--250-->                  Auth | Ready
//   Auth        --235-->                  Ready     (5xx: next mechanism or Failed)
//   Ready       --startTransaction-->     Transaction (MAIL/RCPT/DATA|BDAT in flight)
//   Transaction --final reply-->          Ready     (failure before the data: RSET first)
//   any         --421 / EOF / deadline--> Failed
//   Ready       --quit-->                 Quitting --221 or EOF--> Closed

#include "client/smtperror.h"
#include "capabilities.h"
#include "dataencoder.h"
#include "replyparser.h"
#include "sasl.h"

#include "security.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <deque>
#include <memory>

namespace Smtp {

struct SessionConfig
{
    QString ehloName = QStringLiteral("localhost");
    // Implicit TLS is done by the transport; the session only knows it is on.
    Security security = Security::StartTlsOpportunistic;
    bool useCredentials = false;
    SaslCredentials credentials;
    QString forcedMechanism;      // empty: the strongest offered
    bool allowPlaintextAuth = false;
    bool usePipelining = true;    // when the server offers it (RFC 2920)
    bool useChunking = true;      // BDAT when the server offers CHUNKING (RFC 3030)
    bool showSecrets = false;     // AUTH data in events/transcripts
    qsizetype bdatChunkSize = 1024 * 1024; // payload of one BDAT command
};

// What one message needs from the protocol. Addresses are already validated wire
// forms (validation.h parseMailbox).
struct Envelope
{
    QByteArray sender;               // "" for the null reverse-path
    QList<QByteArray> recipients;
    qint64 size = -1;                // message size in bytes if known (RFC 1870 SIZE=)
    bool body8Bit = false;           // needs BODY=8BITMIME (RFC 6152)
    bool needsSmtpUtf8 = false;      // RFC 6531
    // The whole body when small: lets the session write it without asking
    // (and pipeline it with BDAT). Otherwise BodyWanted asks the driver for it.
    bool hasInlineBody = false;
    QByteArray inlineBody;
};

struct SessionEvent
{
    enum class Type {
        StateChanged,      // text = new state name, verb = the previous one
        CommandSent,       // text = the line as it may be shown (secrets redacted), verb
        DataSent,          // count = message bytes put on the wire (after encoding)
        ReplyReceived,     // reply, verb it answers
        Greeting,          // reply
        Capabilities,      // reply, flag = after TLS
        StartTlsNow,       // the driver must start the TLS handshake, then call tlsEstablished()
        AuthAttempt,       // text = mechanism, reply, flag = success
        Ready,             // ready for a transaction, NOOP, RSET or QUIT
        SenderResult,      // txn, reply
        RecipientResult,   // txn, index, reply
        BodyWanted,        // txn: the driver calls sendBody()/endBody()
        MessageResult,     // txn, reply (the reply to the end of data), flag = accepted
        TransactionFailed, // txn, error: this message was not sent; the session goes on
        NoopResult,        // reply
        ResetResult,       // reply
        QuitResult,        // reply
        Warning,           // text
        Failed,            // error: fatal; the driver closes the connection
    };

    Type type = Type::Warning;
    int txn = -1;
    int index = -1;
    Reply reply;
    SmtpError error;
    QString text;
    QByteArray verb;
    qint64 count = 0;
    bool flag = false;
};

class Session
{
public:
    enum class State {
        Connecting,
        Greeting,
        Ehlo,
        Helo,
        StartTls,
        TlsHandshake,
        EhloAfterTls,
        Auth,
        Ready,
        Transaction,
        Quitting,
        Closed,
        Failed,
    };
    // How long the driver should wait for the next reply.
    enum class WaitKind {
        None,        // nothing awaited: no deadline
        Reply,       // the read timeout
        FinalReply,  // the reply to the end of data: a longer timeout (RFC 5321 4.5.3.2.6)
        Handshake,   // the TLS handshake (transport's own timeout)
        Send,        // message data is being written: the server must keep reading
    };

    explicit Session(SessionConfig config);
    ~Session();
    Q_DISABLE_COPY_MOVE(Session)

    [[nodiscard]] static QString stateName(State state);
    [[nodiscard]] State state() const { return m_state; }
    [[nodiscard]] WaitKind waitKind() const;
    // Complete replies parsed so far: the driver re-arms its reply deadline only
    // when this moves (a trickling server must still time out, docs/security.md section F).
    [[nodiscard]] quint64 repliesReceived() const { return m_repliesReceived; }
    [[nodiscard]] const SessionConfig &config() const { return m_config; }

    // Transport facts
    void connected();
    void receive(QByteArrayView data);
    void tlsEstablished();
    void closed();          // EOF or reset by peer
    void deadlinePassed();  // the deadline armed for waitKind() passed

    // Requests. startTransaction() reports a refusal with a TransactionFailed
    // event; noop() and reset() just return false when not possible now.
    // Starts a mail transaction; returns its id (>= 0) or -1. Allowed in Ready,
    // and, with PIPELINING, while the previous message's end of data awaits its
    // reply (RFC 2920 3.1: the message content may be followed by the next group).
    int startTransaction(const Envelope &envelope);
    // True when startTransaction() would be accepted now: Ready, or (PIPELINING)
    // every transaction in flight has written its whole body and cannot leave
    // the server inside a transaction (DATA got its 354; BDAT has an accepted
    // recipient), so a MAIL written now cannot be a nested one.
    [[nodiscard]] bool canStartTransaction() const;
    [[nodiscard]] int transactionsInFlight() const { return int(m_txns.size()); }
    // Body bytes of the transaction that asked with BodyWanted, in chunks of any size.
    void sendBody(QByteArrayView chunk);
    void endBody();
    bool noop();
    bool reset();
    // Writes QUIT when the session is idle (Ready, nothing in flight); false otherwise.
    bool quit();
    // Abandon the transaction in progress (user cancel): nothing more is written;
    // the driver closes the connection.
    void abort(const QString &why);

    // Outputs. With `shown`, a copy of the bytes with every AUTH payload masked
    // by '*' (same length) is stored there when the output holds one (else it is
    // cleared): for raw-data events and logs, unless showSecrets is on.
    [[nodiscard]] QByteArray takeOutput(QByteArray *shown = nullptr);
    [[nodiscard]] bool hasOutput() const { return !m_output.isEmpty(); }
    [[nodiscard]] QList<SessionEvent> takeEvents();
    // The same into a caller's buffer, swapping storage (for a driver's loop).
    void takeEvents(QList<SessionEvent> &into);

    // What was learnt
    [[nodiscard]] const Reply &greeting() const { return m_greeting; }
    [[nodiscard]] const Reply &ehloReply() const { return m_ehloReply; }  // or the HELO reply
    [[nodiscard]] bool usedHelo() const { return m_usedHelo; }
    [[nodiscard]] const Capabilities &capabilities() const { return m_caps; }
    [[nodiscard]] const Capabilities &capabilitiesBeforeTls() const { return m_capsBeforeTls; }
    [[nodiscard]] bool isEncrypted() const { return m_encrypted; }
    [[nodiscard]] bool isAuthenticated() const { return m_authenticated; }
    [[nodiscard]] QString authMechanism() const { return m_authMechanism; }
    // True when the transaction `txn` is the one whose body is being written.
    [[nodiscard]] bool isStreamingBody() const { return m_bodyTxn >= 0; }
    [[nodiscard]] bool pipeliningInUse() const;
    [[nodiscard]] bool chunkingInUse() const;

private:
    enum class Cmd { Ehlo, Helo, StartTls, Auth, AuthResponse, Mail, Rcpt, Data, DataEnd, Bdat, BdatLast, Noop, Rset, Quit };
    struct Pending
    {
        Cmd cmd;
        int txn = -1;
        int index = -1;
        QByteArray verb;
    };
    struct Txn
    {
        int id = -1;
        Envelope envelope;
        int accepted = 0;
        int answered = 0;
        bool senderOk = false;
        bool failed = false;      // a reply already failed it (reported once)
        bool dataStarted = false; // 354 seen / BDAT data written
        bool bodyDone = false;
        bool chunking = false;
        bool rsetSent = false;
        SmtpError error;
        QList<QByteArray> refused;  // recipients refused, with ...
        QStringList refusalReplies; // ... each one's reply ("550 5.1.1 No such user")
        Reply lastRefusal;          // the last refusal, carried by the error when all are refused
    };

    void setState(State s);
    // `secretFrom`: offset in `line` where an AUTH payload starts (-1: none).
    void writeCommand(Cmd cmd, const QByteArray &line, int txn = -1, int index = -1,
                      const QByteArray &shown = QByteArray(), qsizetype secretFrom = -1);
    void emitEvent(SessionEvent e);
    void fail(SmtpError error);
    void failReply(const QString &step, const Reply &reply, const QString &message,
                   SmtpError::Category category = SmtpError::Category::Reply);
    void handleReply(const Reply &reply);
    void onGreeting(const Reply &reply);
    void onEhlo(const Reply &reply, bool helo);
    void afterCapabilities();
    void startAuth();
    void tryNextMechanism();
    void narrowAfterRefusedCredentials();
    void onAuthReply(const Reply &reply);
    void onMailReply(Txn &t, const Reply &reply);
    void onRcptReply(Txn &t, int index, const Reply &reply);
    void onDataReply(Txn &t, const Reply &reply);
    void onFinalReply(Txn &t, const Reply &reply, bool isBdatLast);
    void onBdatReply(Txn &t, const Reply &reply);
    void maybeFinishRecipients(Txn &t);
    void failTransaction(Txn &t, SmtpError error);
    void finishTransaction(int id);
    void writeBdat(Txn &t, QByteArrayView payload, bool last);
    void becomeReady();
    Txn *findTxn(int id);

    SessionConfig m_config;
    State m_state = State::Connecting;
    ReplyParser m_parser;
    QByteArray m_output;
    QList<SessionEvent> m_events;
    std::deque<Pending> m_pending;
    // How many pending commands had been handed out (takeOutput) when the
    // current bytes arrived: a reply to a command still in m_output, written
    // during this receive(), cannot be genuine (docs/security.md).
    qsizetype m_answerable = 0;
    quint64 m_repliesReceived = 0;
    qsizetype m_unsent = 0; // pending commands not yet taken by takeOutput()
    QList<std::pair<qsizetype, qsizetype>> m_secretRanges; // (offset, length) in m_output
    std::deque<Txn> m_txns;
    int m_nextTxn = 0;
    int m_bodyTxn = -1;
    DataEncoder m_encoder;
    QByteArray m_bodyBuffer; // BDAT: encoded bytes waiting to fill a chunk

    Reply m_greeting;
    Reply m_ehloReply;
    bool m_usedHelo = false;
    Capabilities m_caps;
    Capabilities m_capsBeforeTls;
    bool m_encrypted = false;
    bool m_tlsDone = false;

    std::unique_ptr<SaslClient> m_sasl;
    QStringList m_mechanismsToTry;
    QString m_authMechanism;
    bool m_authenticated = false;
    int m_authRounds = 0;
    SmtpError m_authCancelled;            // set when we ended the exchange ourselves
    QByteArray m_deferredInitialResponse; // too long for the AUTH line (RFC 4954 4)
    bool m_hasDeferredInitialResponse = false;
    QStringList m_authFailures;
};

} // namespace Smtp
