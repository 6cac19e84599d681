#include "smtpdialog.h"

// How it works: every wait is the same loop (waitUntil): check the condition,
// the cancel flags, a failure or close of the transport and the deadline; if
// none holds, run a local QEventLoop until a transport signal, the deadline timer
// or interrupt() quits it, and check again. Transport signals only record facts
// (bytes parsed into replies, connected, encrypted, closed, failed) and quit the
// loop, so the order in which they arrive never matters.

#include "protocol/printable.h"

#include <QDeadlineTimer>
#include <QEventLoop>
#include <QMetaObject>
#include <QTimer>

namespace Diagnostics {

namespace {

// The transport's own connect timer reports a precise error ("no TCP connection
// within N ms ..."): our outer deadline leaves it time to do so first.
constexpr int kGraceMs = 500;

} // namespace

SmtpDialog::SmtpDialog(const QElapsedTimer &clock, const std::atomic<bool> *cancelled, TranscriptSink sink)
    : m_clock(clock)
    , m_cancelled(cancelled)
    , m_sink(std::move(sink))
{
    if (!m_clock.isValid())
        m_clock.start();
}

SmtpDialog::~SmtpDialog()
{
    const QMutexLocker lock(&m_mutex);
    if (m_transport) {
        QObject::disconnect(m_transport.get(), nullptr, nullptr, nullptr);
        m_transport->abort();
        m_transport.reset();
    }
}

bool SmtpDialog::wasCancelled() const
{
    return m_interrupted.load() || (m_cancelled && m_cancelled->load());
}

void SmtpDialog::record(TranscriptEntry::Direction direction, const QString &text)
{
    TranscriptEntry e;
    e.timeUs = m_clock.nsecsElapsed() / 1000;
    e.direction = direction;
    e.encrypted = m_encrypted;
    e.text = text;
    m_transcript.append(e);
    if (m_sink)
        m_sink(e);
}

void SmtpDialog::note(const QString &text, TranscriptEntry::Direction direction)
{
    record(direction, text);
}

void SmtpDialog::recordReply(const Smtp::Reply &reply)
{
    // One transcript line per reply line, as received (escaped: security
    // docs/security.md section E), like the engine's transcript.
    const QList<QByteArray> rawLines = reply.raw.split('\n');
    for (QByteArray line : rawLines) {
        if (line.endsWith('\r'))
            line.chop(1);
        if (!line.isEmpty())
            record(TranscriptEntry::Direction::Server, Smtp::printable(line));
    }
}

void SmtpDialog::quitLoop()
{
    if (m_loop)
        m_loop->quit();
}

void SmtpDialog::onReceived(const QByteArray &data)
{
    m_parser.feed(data);
    for (;;) {
        Smtp::Reply reply;
        Smtp::ParseError perr;
        const auto status = m_parser.next(&reply, &perr);
        if (status == Smtp::ReplyParser::Status::NeedMore)
            break;
        if (status == Smtp::ReplyParser::Status::Error) {
            // RFC 5321 4.2: a malformed reply ends the session; nothing after it
            // can be trusted to line up with our commands.
            m_error = SmtpError::make(SmtpError::Category::Protocol, QStringLiteral("SMTP-PROTOCOL-ERROR"),
                                      QStringLiteral("reply"),
                                      QStringLiteral("malformed reply: %1").arg(perr.message));
            m_error.serverText = perr.line;
            record(TranscriptEntry::Direction::Error,
                   QStringLiteral("malformed reply (%1): %2").arg(perr.message, Smtp::printable(perr.line, 200)));
            m_failed = true;
            if (m_transport)
                m_transport->abort();
            break;
        }
        recordReply(reply);
        m_replies.append(std::move(reply));
    }
    quitLoop();
}

bool SmtpDialog::waitUntil(const std::function<bool()> &done, int timeoutMs)
{
    m_timedOut = false;
    QElapsedTimer took;
    took.start();
    const QDeadlineTimer deadline(qMax(timeoutMs, 0), Qt::PreciseTimer);
    bool ok = false;
    for (;;) {
        if (done()) {
            ok = true;
            break;
        }
        if (wasCancelled() || m_failed || m_closed)
            break;
        if (deadline.hasExpired()) {
            m_timedOut = true;
            break;
        }
        QEventLoop loop;
        QTimer timer;
        timer.setSingleShot(true);
        timer.setTimerType(Qt::PreciseTimer);
        QObject::connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
        timer.start(int(qMax<qint64>(deadline.remainingTime(), 0)));
        m_loop = &loop;
        loop.exec();
        m_loop = nullptr;
    }
    m_lastWaitUs = took.nsecsElapsed() / 1000;
    return ok;
}

bool SmtpDialog::open(const SmtpTransport::Options &options)
{
    {
        const QMutexLocker lock(&m_mutex);
        if (m_transport) {
            QObject::disconnect(m_transport.get(), nullptr, nullptr, nullptr);
            m_transport->abort();
        }
        m_transport = std::make_unique<SmtpTransport>();
    }
    m_parser.reset();
    m_replies.clear();
    m_error = SmtpError();
    m_connected = m_encrypted = m_closed = m_failed = m_timedOut = false;

    SmtpTransport *t = m_transport.get();
    QObject::connect(t, &SmtpTransport::connected, t, [this] {
        m_connected = true;
        m_encrypted = m_transport->isEncrypted();
        quitLoop();
    });
    QObject::connect(t, &SmtpTransport::encrypted, t, [this] {
        m_encrypted = true;
        quitLoop();
    });
    QObject::connect(t, &SmtpTransport::received, t, [this](const QByteArray &data) { onReceived(data); });
    QObject::connect(t, &SmtpTransport::closed, t, [this] {
        if (!m_closed && !m_failed)
            record(TranscriptEntry::Direction::Info, QStringLiteral("connection closed"));
        m_closed = true;
        quitLoop();
    });
    QObject::connect(t, &SmtpTransport::failed, t, [this](const SmtpError &e) {
        m_error = e;
        m_failed = true;
        record(TranscriptEntry::Direction::Error, e.message);
        quitLoop();
    });

    const QString target = options.host.contains(u':') ? QStringLiteral("[%1]:%2").arg(options.host).arg(options.port)
                                                       : QStringLiteral("%1:%2").arg(options.host).arg(options.port);
    record(TranscriptEntry::Direction::Info,
           QStringLiteral("connecting to %1 (%2)")
               .arg(target, options.implicitTls ? QStringLiteral("implicit TLS") : QStringLiteral("plain")));
    t->connectToServer(options);
    const bool ok = waitUntil([this] { return m_connected; }, options.connectTimeoutMs + kGraceMs);
    if (ok && m_encrypted) {
        const TlsInfo tls = t->tlsInfo();
        record(TranscriptEntry::Direction::Info,
               QStringLiteral("TLS established: %1, %2").arg(tls.protocol, tls.cipher));
    }
    if (!ok && !m_failed) {
        if (wasCancelled()) {
            m_error = SmtpError::make(SmtpError::Category::Transport, QStringLiteral("CANCELLED"),
                                      QStringLiteral("connect"), QStringLiteral("cancelled"));
        } else {
            m_error = SmtpError::make(SmtpError::Category::Transport, QStringLiteral("SOCKET-TIMEOUT"),
                                      QStringLiteral("connect"),
                                      QStringLiteral("no connection to %1 within %2 ms").arg(target).arg(options.connectTimeoutMs));
            record(TranscriptEntry::Direction::Error, m_error.message);
        }
        t->abort();
    }
    return ok;
}

std::optional<Smtp::Reply> SmtpDialog::readReply(int timeoutMs)
{
    if (!m_transport)
        return std::nullopt;
    const bool ok = waitUntil([this] { return !m_replies.isEmpty(); }, timeoutMs);
    if (!ok) {
        if (m_timedOut)
            record(TranscriptEntry::Direction::Error,
                   QStringLiteral("no reply within %1 ms").arg(timeoutMs));
        return std::nullopt;
    }
    return m_replies.takeFirst();
}

std::optional<Smtp::Reply> SmtpDialog::command(const QByteArray &line, int timeoutMs)
{
    const QList<Smtp::Reply> replies = pipeline({line}, timeoutMs);
    if (replies.isEmpty())
        return std::nullopt;
    return replies.first();
}

QList<Smtp::Reply> SmtpDialog::pipeline(const QList<QByteArray> &lines, int timeoutMs)
{
    QList<Smtp::Reply> out;
    if (!m_transport || !m_transport->isOpen() || m_failed || m_closed)
        return out;
    QByteArray wire;
    for (const QByteArray &line : lines) {
        record(TranscriptEntry::Direction::Client, Smtp::printable(line));
        wire += line + "\r\n";
    }
    m_transport->write(wire);
    // One deadline for the group: RFC 2920 3.1 lets the server answer the whole
    // group at once, so the replies are awaited together.
    const QDeadlineTimer deadline(qMax(timeoutMs, 0), Qt::PreciseTimer);
    for (qsizetype i = 0; i < lines.size(); ++i) {
        auto reply = readReply(int(qMax<qint64>(deadline.remainingTime(), 0)));
        if (!reply)
            break;
        out.append(*reply);
    }
    return out;
}

bool SmtpDialog::startTls(int timeoutMs)
{
    if (!m_transport || !m_transport->isOpen())
        return false;
    // RFC 3207 4.2: nothing may follow the 220 before the handshake; the
    // transport checks its socket, the parser's buffer is checked here.
    if (m_parser.bufferedBytes() > 0 || !m_replies.isEmpty()) {
        m_error = SmtpError::make(SmtpError::Category::Tls, QStringLiteral("SSL-HANDSHAKE-ERROR"),
                                  QStringLiteral("TLS handshake"),
                                  QStringLiteral("data received after the STARTTLS reply and before the TLS "
                                                 "handshake (RFC 3207 section 4.2): refused"));
        record(TranscriptEntry::Direction::Error, m_error.message);
        m_failed = true;
        m_transport->abort();
        return false;
    }
    m_transport->startTls();
    const bool ok = waitUntil([this] { return m_encrypted; }, timeoutMs);
    if (ok) {
        // RFC 3207 4.2: the client discards what it knew from before TLS.
        m_parser.reset();
        m_replies.clear();
        const TlsInfo tls = m_transport->tlsInfo();
        record(TranscriptEntry::Direction::Info,
               QStringLiteral("TLS established: %1, %2").arg(tls.protocol, tls.cipher));
    } else if (!m_failed) {
        m_error = SmtpError::make(SmtpError::Category::Tls, QStringLiteral("SOCKET-TIMEOUT"),
                                  QStringLiteral("TLS handshake"),
                                  wasCancelled() ? QStringLiteral("cancelled")
                                                 : QStringLiteral("the TLS handshake did not complete within %1 ms")
                                                       .arg(timeoutMs));
        m_transport->abort();
    }
    return ok;
}

void SmtpDialog::close()
{
    if (m_transport)
        m_transport->abort();
}

bool SmtpDialog::isOpen() const
{
    return m_transport && m_transport->isOpen() && !m_failed && !m_closed;
}

bool SmtpDialog::isEncrypted() const
{
    return m_transport && m_transport->isEncrypted();
}

TlsInfo SmtpDialog::tlsInfo() const
{
    return m_transport ? m_transport->tlsInfo() : TlsInfo();
}

QHostAddress SmtpDialog::peerAddress() const
{
    return m_transport ? m_transport->peerAddress() : QHostAddress();
}

void SmtpDialog::interrupt()
{
    m_interrupted.store(true);
    const QMutexLocker lock(&m_mutex);
    if (!m_transport)
        return;
    // Queued to the dialog's own thread: the transport and the loop are only
    // touched there. The event is dropped if the transport is destroyed first.
    QMetaObject::invokeMethod(
        m_transport.get(),
        [this] {
            if (m_transport)
                m_transport->abort();
            quitLoop();
        },
        Qt::QueuedConnection);
}

} // namespace Diagnostics
