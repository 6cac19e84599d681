#include "smtpdriver.h"

#include "events/eventqueue.h"
#include "events/socketevent.h"
#include "events/usagestats.h"
#include "protocol/printable.h"
#include "protocol/smtpsession.h"
#include "protocol/validation.h"
#include "simulatedserver.h"
#include "transport/smtptransport.h"

#include <QHostAddress>



namespace {

// Flow control for message bodies: read this much at a time, and keep at most
// HighWater bytes queued in the socket so memory stays flat whatever the size
// (docs/security.md: Qt's write buffer is unbounded).
constexpr qint64 ReadChunk = 256 * 1024;
constexpr qint64 HighWater = 2 * 1024 * 1024;
// Messages at most this big are read whole and handed to the session with the
// envelope, so it can write them without a round trip through the driver.
constexpr qint64 InlineBodyLimit = 64 * 1024;
// With PIPELINING, how many transactions may be in flight at once.
constexpr int MaxInFlight = 64;
// Transcript entries kept per job: this many from the start and from the end.
constexpr qsizetype TranscriptKeep = 2000;

ServerReply toServerReply(const Smtp::Reply &r)
{
    ServerReply s;
    s.code = r.code;
    s.enhanced = r.enhanced.toString();
    s.desc = QString::fromUtf8(r.text());
    return s;
}

QStringList capabilityLines(const Smtp::Capabilities &caps)
{
    QStringList out;
    for (const auto &e : caps.entries())
        out.append(e.parameters.isEmpty() ? QString::fromUtf8(e.keyword)
                                          : QString::fromUtf8(e.keyword + ' ' + e.parameters));
    return out;
}

} // namespace

Driver::Driver(UsageStats *stats, LogFunctionPair logs)
    : m_stats(stats)
    , m_logs(std::move(logs))
{
}

Driver::~Driver()
{
    delete m_transport;
}

// ---------------------------------------------------------------- jobs

void Driver::run(DriverJob job, Done done)
{
    Q_ASSERT(!m_busy);
    m_busy = true;
    m_job = std::move(job);
    m_done = std::move(done);
    m_jobOptions = m_job.options;
    m_messages.clear();
    m_byTxn.clear();
    m_retries.clear();
    m_nextMessage = 0;
    m_doneCount = 0;
    m_reconnected = false;
    m_quitting = false;
    m_finishPending = false;
    m_finishError = SmtpError();
    m_transcriptHead.clear();
    m_transcriptTail.clear();
    m_transcriptDropped = 0;
    m_info.simulatedWire.clear();
    m_info.simulatedWireBytes = 0;
    m_info.simulatedWireSha256.clear();
    m_wireHash.reset();

    if (m_job.kind == DriverJob::Kind::Quit) {
        if (!m_session || !m_connected) {
            finish();
            return;
        }
        m_quitting = true;
        if (!m_session->quit()) {
            forceClose();
            finish();
            return;
        }
        pump();
        return;
    }

    if (const auto err = Smtp::checkEhloName(m_jobOptions.settings.ehloName)) {
        finish(SmtpError::make(SmtpError::Category::Usage, QStringLiteral("SMTPCLIENT-INVALID-EHLO"),
                               QStringLiteral("EHLO"), *err));
        return;
    }

    if (m_job.kind == DriverJob::Kind::Send) {
        for (const OutgoingMessage *msg : std::as_const(m_job.messages)) {
            Message m;
            m.msg = msg;
            // The 7-bit form until the server's extensions are known (startMessage).
            m.result.messageBytes = msg->size(BodyOptions{});
            m.result.error = msg->checkSendPossible();
            if (!m.result.error.isError())
                m.result.error = prepareEnvelope(m);
            if (m.result.error.isError()) {
                m.done = true;
                ++m_doneCount;
            }
            m_messages.push_back(std::move(m));
        }
        if (m_doneCount == int(m_messages.size())) {
            // Nothing can be sent: no connection at all (reference: MESSAGE-ERROR
            // before anything is sent).
            finish(m_messages.size() == 1 ? m_messages.front().result.error : SmtpError());
            return;
        }
    }

    const bool usable = m_session && m_connected && m_options.settings.sameConnectionAs(m_jobOptions.settings)
        && m_session->state() == Smtp::Session::State::Ready;
    if (!usable) {
        if (m_session || m_connected)
            forceClose();
        connectNow();
        return;
    }
    if (m_job.kind == DriverJob::Kind::Connect) {
        finish();
        return;
    }
    // A kept-open session may have been closed by the server while idle (e.g. a
    // 421 idle timeout): check it with NOOP before reuse (RFC 5321 4.1.1.9).
    m_checkingReuse = true;
    m_session->noop();
    pump();
}

void Driver::connectNow()
{
    m_options = m_jobOptions;
    Smtp::SessionConfig cfg;
    cfg.ehloName = m_options.settings.ehloName;
    cfg.security = m_options.settings.security;
    cfg.useCredentials = !m_options.settings.user.isEmpty() && !m_options.settings.testMode;
    cfg.credentials.user = m_options.settings.user;
    cfg.credentials.password = m_options.settings.password;
    cfg.credentials.oauthToken = m_options.settings.oauthToken;
    cfg.credentials.host = m_options.settings.peerName.isEmpty() ? m_options.settings.host : m_options.settings.peerName;
    cfg.credentials.port = m_options.settings.port;
    cfg.forcedMechanism = m_options.settings.mechanism;
    cfg.allowPlaintextAuth = m_options.settings.allowPlaintextAuth;
    cfg.usePipelining = m_options.settings.pipelining;
    cfg.useChunking = m_options.settings.chunking;
    cfg.showSecrets = m_options.settings.showSecrets;
    if (m_options.settings.testMode)
        cfg.security = Smtp::Security::Plain;
    m_session = std::make_unique<Smtp::Session>(cfg);
    m_commandTimes.clear();
    m_armedKind = Smtp::Session::WaitKind::None;
    m_armedReplies = 0;
    m_bodyTxn = -1;
    m_body.reset();

    m_info = SendResult();
    m_wireHash.reset();
    m_info.target = m_options.settings.target();
    m_info.securityMode = m_options.settings.testMode ? QStringLiteral("test") : m_options.settings.securityName();
    m_info.tls.verificationEnabled = m_options.settings.verifyPeer;
    m_clock.start();
    m_connectStartUs = 0;

    if (m_options.settings.testMode) {
        // Test mode (reference): no connection. A simulated server answers so the
        // transcript and the exact bytes are those a real session would produce.
        addTranscript(TranscriptEntry::Direction::Info,
                      QStringLiteral("test mode: no connection is made; a simulated server answers "
                                     "(TLS and authentication are skipped)"));
        m_simulator = std::make_unique<SimulatedServer>();
        m_connected = true;
        m_session->connected();
        m_session->receive(m_simulator->greeting());
        pump();
        return;
    }

    if (!m_transport) {
        m_transport = new SmtpTransport(this);
        connect(m_transport, &SmtpTransport::connecting, this, &Driver::onConnecting);
        connect(m_transport, &SmtpTransport::startingTls, this, [this] {
            addTranscript(TranscriptEntry::Direction::Info, QStringLiteral("starting TLS (STARTTLS)"),
                          m_transport->usSincePhaseStarted());
        });
        connect(m_transport, &SmtpTransport::connected, this, &Driver::onConnected);
        connect(m_transport, &SmtpTransport::encrypted, this, &Driver::onEncrypted);
        connect(m_transport, &SmtpTransport::received, this, &Driver::onReceived);
        connect(m_transport, &SmtpTransport::closed, this, &Driver::onClosed);
        connect(m_transport, &SmtpTransport::failed, this, &Driver::onFailed);
        connect(m_transport, &SmtpTransport::deadlinePassed, this, &Driver::onDeadline);
        connect(m_transport, &SmtpTransport::bytesWritten, this, &Driver::onBytesWritten);
    }
    m_transport->setStats(m_stats);
    m_transport->setEventQueue(m_options.eventQueue, m_options.eventArg, m_options.eventData, m_options.clientId);

    SmtpTransport::Options t;
    t.host = m_options.settings.host;
    t.port = m_options.settings.port;
    t.implicitTls = m_options.settings.ssl();
    t.peerVerifyName = m_options.settings.peerName;
    t.caFile = m_options.settings.caFile;
    t.insecure = !m_options.settings.verifyPeer;
    t.connectTimeoutMs = m_options.settings.connectTimeoutMs;
    t.tlsTimeoutMs = m_options.settings.connectTimeoutMs;
    // The TLS set-up first, so that "connecting" and the connect step measure the
    // network only; when it costs, it is a step of its own (one clock: the
    // transcript, events, warnings and timings all see the same steps).
    const qint64 setupUs = m_transport->prepare(t);
    if (setupUs >= SmtpTransport::TlsSetupReportUs)
        addTranscript(TranscriptEntry::Direction::Info,
                      QStringLiteral("TLS set-up (TLS library, CA certificates) took %1 ms")
                          .arg(double(setupUs) / 1000.0, 0, 'f', 1));
    // "connecting to" comes from the transport when an attempt starts (onConnecting):
    // the same instant as the connect step's start. A name is looked up first.
    if (QHostAddress literal; !literal.setAddress(m_options.settings.host))
        addTranscript(TranscriptEntry::Direction::Info,
                      QStringLiteral("looking up %1").arg(m_options.settings.host));
    if (!m_options.settings.verifyPeer)
        addTranscript(TranscriptEntry::Direction::Info,
                      QStringLiteral("certificate verification is OFF (insecure mode): the server's identity "
                                     "is not checked"));
    if (m_logs.log)
        m_logs.log(QStringLiteral("connecting to %1").arg(m_info.target));
    m_transport->connectToServer(t);
}

void Driver::startSending()
{
    if (m_job.kind == DriverJob::Kind::Connect) {
        finish();
        return;
    }
    startMessages();
}

SmtpError Driver::prepareEnvelope(Message &m)
{
    // Every address is checked before anything is sent (docs/security.md
    // C.21-23): a CR, LF or NUL never reaches a command line.
    Smtp::Envelope &env = m.envelope;
    QString error;
    const auto sender = Smtp::parseMailbox(m.msg->envelopeSender(), u"sender address", &error, true);
    if (!sender)
        return SmtpError::make(SmtpError::Category::Message, QStringLiteral("MESSAGE-ERROR"), QStringLiteral("MAIL FROM"),
                               error);
    env.sender = sender->wire;
    env.needsSmtpUtf8 = sender->needsSmtpUtf8 || m.msg->needsSmtpUtf8();
    const QStringList rcpts = m.msg->envelopeRecipients();
    for (const QString &r : rcpts) {
        const auto box = Smtp::parseMailbox(r, u"recipient address", &error);
        if (!box)
            return SmtpError::make(SmtpError::Category::Message, QStringLiteral("MESSAGE-ERROR"), QStringLiteral("RCPT TO"),
                                   error);
        env.recipients.append(box->wire);
        env.needsSmtpUtf8 = env.needsSmtpUtf8 || box->needsSmtpUtf8;
        RecipientResult rr;
        rr.address = r;
        m.result.recipients.append(rr);
        m.rcptIndexes.append(int(m.rcptIndexes.size()));
    }
    return {};
}

bool Driver::retryDeferredRecipients(Message &m)
{
    // RFC 5321 4.5.3.1.10: a server that takes fewer recipients per message
    // answers 452 to the rest; the client sends the message again to them in a
    // new transaction (docs/security.md). Only after a transaction that
    // delivered to someone, so every retry makes progress.
    QList<int> deferred;
    for (int i : std::as_const(m.rcptIndexes)) {
        if (m.result.recipients.at(i).reply.code == 452)
            deferred.append(i);
    }
    if (deferred.isEmpty())
        return false;
    addTranscript(TranscriptEntry::Direction::Info,
                  QStringLiteral("%1 recipient(s) deferred with 452 (too many recipients): sending again to them")
                      .arg(deferred.size()));
    m_byTxn.remove(m.txn);
    m.txn = -1;
    m.started = false;
    m.rcptIndexes = deferred;
    m_retries.push_back(&m);
    return true;
}

bool Driver::startMessage(Message &m)
{
    m.started = true;
    Smtp::Envelope env = m.envelope;
    if (m.rcptIndexes.size() != m.envelope.recipients.size()) {
        env.recipients.clear();
        for (int i : std::as_const(m.rcptIndexes))
            env.recipients.append(m.envelope.recipients.at(i));
    }
    // The message is written for what this server offers (8bit text parts with
    // 8BITMIME, RFC 6152; UTF-8 header addresses with SMTPUTF8, RFC 6532).
    const Smtp::Capabilities &caps = m_session->capabilities();
    m.bodyOptions = BodyOptions{caps.eightBitMime(), caps.smtpUtf8()};
    env.size = m.msg->size(m.bodyOptions);
    m.result.messageBytes = env.size;
    env.body8Bit = m.msg->has8BitContent(m.bodyOptions);
    if (env.size >= 0 && env.size <= InlineBodyLimit) {
        std::unique_ptr<QIODevice> dev = m.msg->openBody(m.bodyOptions);
        if (!dev) {
            m.result.error = SmtpError::make(SmtpError::Category::Message, QStringLiteral("MESSAGE-ERROR"),
                                             QStringLiteral("DATA"), QStringLiteral("cannot read the message"));
            messageDone(m);
            return false;
        }
        env.inlineBody = dev->readAll();
        env.hasInlineBody = true;
    }
    m.result.pipelined = m_session->pipeliningInUse();
    m.result.chunked = m_session->chunkingInUse();
    m.txn = m_session->startTransaction(env);
    if (m.txn >= 0)
        m_byTxn.insert(m.txn, &m);
    if (m.txn < 0) {
        // Refused before any I/O (SMTPUTF8 or 8BITMIME missing, SIZE exceeded).
        for (const Smtp::SessionEvent &e : m_session->takeEvents()) {
            if (e.type == Smtp::SessionEvent::Type::TransactionFailed && e.txn < 0)
                m.result.error = e.error;
            else
                handle(e);
        }
        if (!m.result.error.isError())
            m.result.error = SmtpError::make(SmtpError::Category::Usage, QStringLiteral("SMTP-STATE-ERROR"),
                                             QStringLiteral("MAIL FROM"), QStringLiteral("the message could not be started"));
        messageDone(m);
        return false;
    }
    if (env.hasInlineBody)
        m.bodyStartUs = nowUs();
    return true;
}

void Driver::startMessages()
{
    while ((!m_retries.empty() || m_nextMessage < int(m_messages.size())) && m_session
           && m_session->canStartTransaction() && m_session->transactionsInFlight() < MaxInFlight
           && !m_finishPending) {
        if (!m_retries.empty()) {
            Message *retry = m_retries.front();
            m_retries.pop_front();
            startMessage(*retry);
            continue;
        }
        Message &m = m_messages[m_nextMessage++];
        if (m.done)
            continue;
        startMessage(m);
    }
}

void Driver::messageDone(Message &m)
{
    if (m.done)
        return;
    m.done = true;
    ++m_doneCount;
    if (m.bodyStartUs > 0)
        m.result.timings.append({QStringLiteral("data"), nowUs() - m.bodyStartUs});
    if (m_logs.log) {
        m_logs.log(m.result.error.isError() ? QStringLiteral("message not sent: %1").arg(m.result.error.toString())
                                            : QStringLiteral("message accepted: %1").arg(m.result.message.desc));
    }
}

Driver::Message *Driver::messageForTxn(int txn)
{
    return txn < 0 ? nullptr : m_byTxn.value(txn, nullptr);
}

void Driver::allMessagesHandled()
{
    if (m_job.quitAfter && !m_options.settings.keepAlive && m_session && m_session->quit()) {
        m_quitting = true;
        return;
    }
    m_finishPending = true;
}

// ---------------------------------------------------------------- the pump

void Driver::pump()
{
    if (m_inPump || !m_session)
        return;
    m_inPump = true;
    for (;;) {
        m_session->takeEvents(m_events);
        const bool hadEvents = !m_events.isEmpty();
        for (const Smtp::SessionEvent &e : std::as_const(m_events))
            handle(e);
        if (m_job.kind == DriverJob::Kind::Send && !m_quitting && !m_finishPending && !m_checkingReuse) {
            startMessages();
            if (m_doneCount == int(m_messages.size()) && m_session->state() == Smtp::Session::State::Ready
                && m_session->transactionsInFlight() == 0)
                allMessagesHandled();
        }
        if (m_session->hasOutput()) {
            QByteArray shown;
            const QByteArray out = m_session->takeOutput(&shown);
            if (m_simulator) {
                takeSimulatedWire(out);
                const QByteArray reply = m_simulator->feed(out);
                if (!reply.isEmpty())
                    m_session->receive(reply);
            } else if (m_transport) {
                // One write per batch: a pipelined group or a body chunk goes out whole.
                m_transport->write(out, shown);
            }
            continue;
        }
        if (!hadEvents)
            break;
    }
    m_inPump = false;
    if (m_bodyTxn >= 0)
        streamBody();
    armDeadline();
    if (m_finishPending) {
        m_finishPending = false;
        finish(m_finishError);
    }
}

void Driver::takeSimulatedWire(const QByteArray &bytes)
{
    if (m_wireFunction)
        m_wireFunction(bytes);
    m_wireHash.addData(bytes);
    m_info.simulatedWireBytes += bytes.size();
    const qsizetype room = SendResult::SimulatedWireExcerpt - m_info.simulatedWire.size();
    if (room > 0)
        m_info.simulatedWire.append(bytes.constData(), std::min(room, bytes.size()));
}

void Driver::armDeadline(bool progress)
{
    if (!m_transport || !m_session || m_simulator)
        return;
    const Smtp::Session::WaitKind kind = m_session->waitKind();
    const quint64 replies = m_session->repliesReceived();
    if (!progress && kind == m_armedKind && replies == m_armedReplies)
        return; // still waiting for the same thing: the deadline stands
    m_armedKind = kind;
    m_armedReplies = replies;
    switch (kind) {
    case Smtp::Session::WaitKind::None:
    case Smtp::Session::WaitKind::Handshake: // the transport times the handshake itself
        m_transport->clearDeadline();
        break;
    case Smtp::Session::WaitKind::Reply:
    case Smtp::Session::WaitKind::Send:
        m_transport->setDeadline(m_options.settings.readTimeoutMs);
        break;
    case Smtp::Session::WaitKind::FinalReply:
        // RFC 5321 4.5.3.2.6: the reply to the end of data may take 10 minutes.
        m_transport->setDeadline(std::max(m_options.settings.dataTimeoutMs, m_options.settings.readTimeoutMs));
        break;
    }
}

void Driver::streamBody()
{
    if (m_bodyTxn < 0 || !m_body || !m_session)
        return;
    if (m_streaming || m_inPump)
        return; // pump() calls back here when it is done; a write can report
                // progress from inside pump(), and output must go out in order
    m_streaming = true;
    while (m_bodyTxn >= 0 && m_session->isStreamingBody()) {
        if (m_transport && !m_simulator && m_transport->bytesToWrite() >= HighWater)
            break; // resume on bytesWritten
        m_readBuffer.resize(ReadChunk);
        const qint64 n = m_body->read(m_readBuffer.data(), ReadChunk);
        if (n < 0) {
            Message *m = messageForTxn(m_bodyTxn);
            const QString why = QStringLiteral("cannot read the message data: %1").arg(m_body->errorString());
            m_body.reset();
            m_bodyTxn = -1;
            if (m)
                m->result.error = SmtpError::make(SmtpError::Category::Message, QStringLiteral("MESSAGE-ERROR"),
                                                  QStringLiteral("DATA"), why);
            // Half a message must never be taken for a whole one: drop the session.
            m_session->abort(why);
            break;
        }
        if (n == 0 && m_body->atEnd()) {
            m_session->endBody();
            m_body.reset();
            m_bodyTxn = -1;
        } else if (n > 0) {
            m_session->sendBody(QByteArrayView(m_readBuffer.constData(), n));
        } else {
            break; // sequential device with nothing yet
        }
        m_streaming = false;
        pump();
        m_streaming = true;
    }
    m_streaming = false;
}

void Driver::handle(const Smtp::SessionEvent &e)
{
    using T = Smtp::SessionEvent::Type;
    switch (e.type) {
    case T::StateChanged:
        if (m_options.eventQueue)
            pushSmtpEvent(SocketEvent::StateChanged,
                          {{QStringLiteral("from"), QString::fromLatin1(e.verb)}, {QStringLiteral("to"), e.text}});
        break;
    case T::CommandSent:
        m_commandTimes.emplace_back(e.verb, nowUs());
        addTranscript(TranscriptEntry::Direction::Client, e.text);
        if (m_options.eventQueue)
            pushSmtpEvent(SocketEvent::CommandSent,
                      {{QStringLiteral("command"), e.text}, {QStringLiteral("verb"), QString::fromLatin1(e.verb)}});
        break;
    case T::DataSent:
        if (Message *m = messageForTxn(e.txn)) {
            m->result.wireBytes += e.count;
            m->lastDataUs = nowUs();
        }
        break;
    case T::ReplyReceived: {
        const QList<QByteArray> rawLines = e.reply.raw.split('\n');
        for (QByteArray line : rawLines) {
            if (line.endsWith('\r'))
                line.chop(1);
            if (!line.isEmpty())
                addTranscript(TranscriptEntry::Direction::Server, Smtp::printable(line));
        }
        QString step = QString::fromLatin1(e.verb);
        qint64 started = m_connectStartUs;
        if (e.verb == "end of data") {
            // No command line: the wait starts when the last data went out. It is
            // the server's time to accept the message (RFC 5321 4.5.3.2.6).
            const Message *m = messageForTxn(e.txn);
            started = m && m->lastDataUs > 0 ? m->lastDataUs : -1;
        } else if (!m_commandTimes.empty() && e.verb != "greeting") {
            started = m_commandTimes.front().second;
            m_commandTimes.pop_front();
        }
        if (started >= 0) {
            const StepTiming st{step, nowUs() - started};
            Message *m = messageForTxn(e.txn);
            QList<StepTiming> &timings = m ? m->result.timings : m_info.timings;
            // A SASL exchange takes several round trips (RFC 4954 4): one AUTH step.
            if (e.verb == "AUTH" && !timings.isEmpty() && timings.constLast().step == step)
                timings.last().us += st.us;
            else
                timings.append(st);
        }
        if (m_options.eventQueue)
            pushSmtpEvent(SocketEvent::ReplyReceived, {{QStringLiteral("code"), e.reply.code},
                                                   {QStringLiteral("enhanced"), e.reply.enhanced.toString()},
                                                   {QStringLiteral("text"), Smtp::printable(e.reply.text())},
                                                   {QStringLiteral("verb"), step}});
        break;
    }
    case T::Greeting:
        m_info.greeting = toServerReply(e.reply);
        break;
    case T::Capabilities:
        m_info.ehlo = toServerReply(e.reply);
        m_info.usedHelo = m_session->usedHelo();
        m_info.capabilities = capabilityLines(m_session->capabilities());
        if (!e.flag || m_options.settings.ssl())
            m_info.capabilitiesBeforeTls = capabilityLines(m_session->capabilitiesBeforeTls());
        break;
    case T::StartTlsNow:
        if (m_session->hasOutput() && m_transport) {
            QByteArray shown;
            const QByteArray out = m_session->takeOutput(&shown);
            m_transport->write(out, shown);
        }
        // "starting TLS" comes from the transport as the handshake begins
        // (onStartingTls): the same instant as the "tls" step's start.
        if (m_transport)
            m_transport->startTls();
        break;
    case T::AuthAttempt:
        m_info.authAttempts.append({e.text, toServerReply(e.reply)});
        if (e.flag)
            m_info.authMechanism = e.text;
        break;
    case T::Ready:
        if (m_checkingReuse) {
            m_checkingReuse = false;
            startSending();
        } else if (m_job.kind == DriverJob::Kind::Connect && !m_quitting) {
            m_finishPending = true;
        }
        // For Send, the pump starts the next messages, or QUITs when all are done.
        break;
    case T::SenderResult:
        if (Message *m = messageForTxn(e.txn))
            m->result.mail = toServerReply(e.reply);
        break;
    case T::RecipientResult:
        if (Message *m = messageForTxn(e.txn); m && e.index >= 0 && e.index < m->rcptIndexes.size())
            m->result.recipients[m->rcptIndexes.at(e.index)].reply = toServerReply(e.reply);
        break;
    case T::BodyWanted:
        if (Message *m = messageForTxn(e.txn)) {
            m->bodyStartUs = nowUs();
            m_body = m->msg->openBody(m->bodyOptions);
            m_bodyTxn = e.txn;
            if (!m_body) {
                m->result.error = SmtpError::make(SmtpError::Category::Message, QStringLiteral("MESSAGE-ERROR"),
                                                  QStringLiteral("DATA"), QStringLiteral("cannot read the message"));
                m_bodyTxn = -1;
                m_session->abort(QStringLiteral("cannot read the message data"));
            }
        }
        break;
    case T::MessageResult:
        if (Message *m = messageForTxn(e.txn)) {
            m->result.message = toServerReply(e.reply);
            m->result.accepted = m->result.accepted || e.flag;
            if (e.flag && !retryDeferredRecipients(*m))
                messageDone(*m);
        }
        break;
    case T::TransactionFailed:
        if (Message *m = messageForTxn(e.txn)) {
            // A retry for 452-deferred recipients that fails leaves the message
            // delivered to the others: their refusals are in the RCPT results.
            if (!m->result.error.isError() && !m->result.accepted)
                m->result.error = e.error;
            else if (m->result.accepted)
                m->result.warnings.append(QStringLiteral("the second transaction for deferred recipients failed: ")
                                          + e.error.toString());
            if (m_bodyTxn == e.txn) {
                m_bodyTxn = -1;
                m_body.reset();
            }
            messageDone(*m);
        }
        break;
    case T::NoopResult:
    case T::ResetResult:
        break;
    case T::QuitResult:
        m_info.quit = toServerReply(e.reply);
        if (m_transport)
            m_transport->disconnectFromServer();
        m_connected = false;
        m_finishPending = true;
        break;
    case T::Warning:
        m_info.warnings.append(e.text);
        addTranscript(TranscriptEntry::Direction::Info, QStringLiteral("warning: ") + e.text);
        break;
    case T::Failed:
        if (m_checkingReuse && !m_reconnected) {
            // The kept-open session died while idle: connect again once (docs/security.md section F).
            m_checkingReuse = false;
            m_reconnected = true;
            addTranscript(TranscriptEntry::Direction::Info,
                          QStringLiteral("the kept-open session is gone (%1); reconnecting").arg(e.error.message));
            QMetaObject::invokeMethod(this, &Driver::reconnect, Qt::QueuedConnection);
            break;
        }
        addTranscript(TranscriptEntry::Direction::Error, e.error.toString());
        if (m_transport)
            m_transport->abort();
        m_connected = false;
        m_finishError = e.error;
        m_finishPending = true;
        break;
    }
}

void Driver::setEventQueue(EventQueue *queue, const QVariant &arg, bool withData)
{
    // Applies at once, to the open connection too (not only at the next connect).
    for (ClientOptions *o : {&m_options, &m_jobOptions}) {
        o->eventQueue = queue;
        o->eventArg = arg;
        o->eventData = withData;
    }
    if (m_transport)
        m_transport->setEventQueue(queue, arg, withData, m_options.clientId);
}

void Driver::reconnect()
{
    forceClose();
    connectNow();
}

void Driver::finish(SmtpError error)
{
    if (!m_busy)
        return;
    if (m_transport)
        m_transport->clearDeadline();
    m_busy = false;
    DriverOutcome out;
    out.error = std::move(error);
    if (m_transport && !m_simulator)
        m_info.tls = m_transport->tlsInfo();
    m_info.tls.verificationEnabled = m_options.settings.verifyPeer;
    m_info.encrypted = m_session && m_session->isEncrypted() && !m_options.settings.testMode;
    if (m_transport && !m_simulator) {
        // In the order they happened: lookup and connect first, the TLS
        // handshake after connect (implicit TLS) or after STARTTLS's reply.
        const QVariantMap t = m_transport->timings();
        QList<StepTiming> &timings = m_info.timings;
        qsizetype at = 0;
        for (const QString &key : {QStringLiteral("tls-setup"), QStringLiteral("lookup"), QStringLiteral("connect")}) {
            if (t.contains(key))
                timings.insert(at++, {key, t.value(key).toLongLong()});
        }
        if (t.contains(QStringLiteral("tls"))) {
            const auto starttls = std::find_if(timings.cbegin(), timings.cend(),
                                               [](const StepTiming &st) { return st.step == u"STARTTLS"; });
            timings.insert(starttls == timings.cend() ? at : (starttls - timings.cbegin()) + 1,
                           {QStringLiteral("tls"), t.value(QStringLiteral("tls")).toLongLong()});
        }
    }
    for (Message &m : m_messages) {
        if (!m.done && !m.result.error.isError())
            m.result.error = out.error.isError()
                ? out.error
                : SmtpError::make(SmtpError::Category::Usage, QStringLiteral("SMTP-STATE-ERROR"), QString(),
                                  QStringLiteral("the message was not sent"));
        SendResult r = std::move(m.result);
        r.target = m_info.target;
        r.securityMode = m_info.securityMode;
        r.encrypted = m_info.encrypted;
        r.usedHelo = m_info.usedHelo;
        r.greeting = m_info.greeting;
        r.ehlo = m_info.ehlo;
        r.capabilities = m_info.capabilities;
        r.capabilitiesBeforeTls = m_info.capabilitiesBeforeTls;
        r.tls = m_info.tls;
        r.authMechanism = m_info.authMechanism;
        r.authAttempts = m_info.authAttempts;
        r.quit = m_info.quit;
        r.warnings = m_info.warnings + r.warnings;
        out.results.append(std::move(r));
    }
    m_messages.clear();
    m_byTxn.clear();
    m_retries.clear();
    if (m_simulator && !m_connected) {
        m_simulator.reset();
    }
    if (m_options.settings.testMode)
        m_info.simulatedWireSha256 = m_wireHash.result().toHex();
    m_info.transcript = std::move(m_transcriptHead);
    m_transcriptHead.clear();
    if (m_transcriptDropped > 0) {
        TranscriptEntry gap;
        gap.timeUs = m_transcriptTail.empty() ? nowUs() : m_transcriptTail.front().timeUs;
        gap.text = QStringLiteral("... %1 transcript lines not kept ...").arg(m_transcriptDropped);
        m_info.transcript.append(gap);
    }
    for (TranscriptEntry &e : m_transcriptTail)
        m_info.transcript.append(std::move(e));
    m_transcriptTail.clear();
    m_transcriptDropped = 0;
    out.session = m_info;
    Done done = std::move(m_done);
    m_done = nullptr;
    if (done)
        done(std::move(out));
}

void Driver::abort(const QString &why)
{
    if (m_session && m_busy) {
        m_session->abort(why);
        pump();
    }
    forceClose();
    if (m_busy)
        finish(SmtpError::make(SmtpError::Category::Transport, QStringLiteral("SMTP-CANCELLED"), QString(), why));
}

void Driver::forceClose()
{
    if (m_transport)
        m_transport->abort();
    m_simulator.reset();
    m_connected = false;
    m_body.reset();
    m_bodyTxn = -1;
    if (m_session && m_session->state() != Smtp::Session::State::Failed
        && m_session->state() != Smtp::Session::State::Closed) {
        m_session->abort(QStringLiteral("disconnected"));
        (void)m_session->takeEvents();
        (void)m_session->takeOutput();
    }
}

// ---------------------------------------------------------------- transport signals

void Driver::onConnecting(const QHostAddress &address)
{
    QString line = QStringLiteral("connecting to %1 (%2)").arg(m_info.target, m_info.securityMode);
    if (address.toString() != m_options.settings.host)
        line += QStringLiteral(" at %1").arg(address.toString());
    addTranscript(TranscriptEntry::Direction::Info, line, m_transport->usSincePhaseStarted());
}

void Driver::onConnected()
{
    m_connected = true;
    m_connectStartUs = nowUs();
    // Stamped when the transport saw them happen (one clock with the steps and
    // events), not when this slot runs: with implicit TLS that is after the handshake.
    addTranscript(TranscriptEntry::Direction::Info,
                  QStringLiteral("connected to %1").arg(m_transport->peerAddress().toString()),
                  m_transport->usSinceConnected());
    if (m_options.settings.ssl()) {
        const TlsInfo tls = m_transport->tlsInfo();
        addTranscript(TranscriptEntry::Direction::Info,
                      QStringLiteral("TLS established (implicit): %1, %2%3")
                          .arg(tls.protocol, tls.cipher,
                               tls.verified ? QStringLiteral(", certificate verified")
                                            : QStringLiteral(", certificate NOT verified")),
                      m_transport->usSinceEncrypted());
    }
    if (m_session) {
        m_session->connected();
        pump();
    }
}

void Driver::onEncrypted()
{
    const TlsInfo tls = m_transport->tlsInfo();
    addTranscript(TranscriptEntry::Direction::Info,
                  QStringLiteral("TLS established: %1, %2%3")
                      .arg(tls.protocol, tls.cipher,
                           tls.verified ? QStringLiteral(", certificate verified")
                                        : QStringLiteral(", certificate NOT verified")),
                  m_transport->usSinceEncrypted());
    if (m_session) {
        m_session->tlsEstablished();
        pump();
    }
}

void Driver::onReceived(const QByteArray &data)
{
    if (m_session) {
        m_session->receive(data);
        pump();
    }
}

void Driver::onClosed()
{
    m_connected = false;
    if (m_session) {
        m_session->closed();
        pump();
    }
    if (m_busy && m_quitting)
        finish(m_finishError);
}

void Driver::onFailed(const SmtpError &error)
{
    m_connected = false;
    addTranscript(TranscriptEntry::Direction::Error, error.toString());
    if (m_session && m_session->state() != Smtp::Session::State::Failed) {
        m_session->abort(error.message);
        (void)m_session->takeEvents();
    }
    if (m_quitting && m_busy) {
        finish(); // a failed close after QUIT does not undo a delivered message
        return;
    }
    for (Message &m : m_messages) {
        if (!m.done && !m.result.error.isError()) {
            m.result.error = error;
            messageDone(m);
        }
    }
    finish(error);
}

void Driver::onDeadline()
{
    if (m_session) {
        m_session->deadlinePassed();
        pump();
    }
}

void Driver::onBytesWritten()
{
    if (m_bodyTxn >= 0) {
        streamBody();
        armDeadline(true); // progress: the server is reading
    }
}

// ---------------------------------------------------------------- transcript and events

void Driver::addTranscript(TranscriptEntry::Direction dir, const QString &text, qint64 agoUs)
{
    TranscriptEntry t;
    t.timeUs = nowUs() - std::max<qint64>(0, agoUs);
    t.direction = dir;
    t.encrypted = m_session && m_session->isEncrypted();
    t.text = text;
    if (m_logs.dbglog)
        m_logs.dbglog(TranscriptEntry::directionTag(dir) + QStringLiteral(": ") + text);
    if (m_logs.transcript)
        m_logs.transcript(t);
    if (m_transcriptHead.size() < TranscriptKeep) {
        m_transcriptHead.append(std::move(t));
        return;
    }
    m_transcriptTail.push_back(std::move(t));
    if (qsizetype(m_transcriptTail.size()) > TranscriptKeep) {
        m_transcriptTail.pop_front();
        ++m_transcriptDropped;
    }
}

void Driver::pushSmtpEvent(int type, QVariantMap fields)
{
    if (!m_options.eventQueue)
        return;
    QVariantMap rec = SocketEvent::make(SocketEvent::Type(type), m_options.clientId, m_options.eventArg);
    rec[QStringLiteral("source")] = int(SocketEvent::SourceSmtp);
    for (auto it = fields.begin(); it != fields.end(); ++it)
        rec.insert(it.key(), it.value());
    m_options.eventQueue->push(std::move(rec));
}
