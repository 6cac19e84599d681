#pragma once
// A small blocking SMTP dialog for the diagnostics checklist (servercheck.h): one
// connection through SmtpTransport, replies parsed with Smtp::ReplyParser, and
// each wait a local QEventLoop bounded by a deadline. It only speaks the commands
// a diagnosis needs (EHLO, HELO, STARTTLS, MAIL, RCPT, RSET, QUIT): never AUTH
// (the engine's SmtpClient does that, so SASL is the engine's), never DATA or BDAT.
//
// Thread: created, used and destroyed on one thread with an event dispatcher;
// interrupt() may be called from any thread.

#include "client/sendresult.h"
#include "client/smtperror.h"
#include "events/tlsinfo.h"
#include "protocol/reply.h"
#include "protocol/replyparser.h"
#include "transport/smtptransport.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QMutex>
#include <QPointer>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>

class QEventLoop;

namespace Diagnostics {

class SmtpDialog
{
public:
    using TranscriptSink = std::function<void(const TranscriptEntry &)>;

    // `clock` times the transcript entries (microseconds since it started);
    // `cancelled` is polled at every wait (may be null).
    SmtpDialog(const QElapsedTimer &clock, const std::atomic<bool> *cancelled, TranscriptSink sink);
    ~SmtpDialog();
    Q_DISABLE_COPY_MOVE(SmtpDialog)

    // Connects (and, with options.implicitTls, completes the TLS handshake).
    // Waits at most options.connectTimeoutMs (+ a little for the transport's own
    // timer to report first). False with error() set on failure.
    bool open(const SmtpTransport::Options &options);
    // Waits for the next complete reply for up to `timeoutMs`.
    std::optional<Smtp::Reply> readReply(int timeoutMs);
    // Writes `line` + CRLF and waits for its reply.
    std::optional<Smtp::Reply> command(const QByteArray &line, int timeoutMs);
    // Writes several commands in one write (RFC 2920 pipelining) and waits for
    // as many replies; fewer are returned when one fails to come.
    QList<Smtp::Reply> pipeline(const QList<QByteArray> &lines, int timeoutMs);
    // RFC 3207: begins the TLS handshake after a 220 to STARTTLS and waits for it.
    bool startTls(int timeoutMs);
    void close();   // QUIT is the caller's: this only closes the socket

    [[nodiscard]] bool isOpen() const;
    [[nodiscard]] bool isEncrypted() const;
    [[nodiscard]] bool timedOut() const { return m_timedOut; }   // the last wait ran out of time
    [[nodiscard]] bool peerClosed() const { return m_closed; }   // the server closed the connection
    [[nodiscard]] bool wasCancelled() const;
    [[nodiscard]] const SmtpError &error() const { return m_error; } // transport or parse failure
    [[nodiscard]] TlsInfo tlsInfo() const;
    [[nodiscard]] QHostAddress peerAddress() const;
    [[nodiscard]] qint64 lastWaitUs() const { return m_lastWaitUs; } // how long the last wait took
    // Bytes received after the last complete reply and not parsed yet.
    [[nodiscard]] qsizetype unparsedBytes() const { return m_parser.bufferedBytes(); }
    [[nodiscard]] const QList<TranscriptEntry> &transcript() const { return m_transcript; }
    // Adds a local note to the transcript ("*" lines).
    void note(const QString &text, TranscriptEntry::Direction direction = TranscriptEntry::Direction::Info);

    // From any thread: ends the running wait at once and aborts the connection.
    void interrupt();

private:
    bool waitUntil(const std::function<bool()> &done, int timeoutMs);
    void onReceived(const QByteArray &data);
    void record(TranscriptEntry::Direction direction, const QString &text);
    void recordReply(const Smtp::Reply &reply);
    void quitLoop();

    QElapsedTimer m_clock;
    const std::atomic<bool> *m_cancelled = nullptr;
    TranscriptSink m_sink;
    std::unique_ptr<SmtpTransport> m_transport;
    Smtp::ReplyParser m_parser;
    QList<Smtp::Reply> m_replies;      // complete replies not taken yet
    QList<TranscriptEntry> m_transcript;
    SmtpError m_error;
    bool m_connected = false;
    bool m_encrypted = false;
    bool m_closed = false;
    bool m_failed = false;
    bool m_timedOut = false;
    std::atomic<bool> m_interrupted{false};
    qint64 m_lastWaitUs = 0;
    QEventLoop *m_loop = nullptr;       // the wait in progress (this thread only)
    mutable QMutex m_mutex;             // guards m_transport's lifetime against interrupt()
};

} // namespace Diagnostics
