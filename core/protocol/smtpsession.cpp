#include "smtpsession.h"

#include <algorithm>

namespace Smtp {

namespace {

constexpr int MaxAuthRounds = 10; // docs/security.md: a server answering 334 forever
constexpr qsizetype MaxCommandLine = 512; // RFC 5321 4.5.3.1.4, CRLF included

QByteArray crlf(QByteArray line)
{
    line.append("\r\n");
    return line;
}

SmtpError replyError(SmtpError::Category category, const QString &code, const QString &step,
                     const QString &message, const Reply &reply)
{
    SmtpError e = SmtpError::make(category, code, step, message);
    e.replyCode = reply.code;
    e.enhancedCode = reply.enhanced.toString();
    e.serverText = reply.text();
    return e;
}

// A short, human reading of why a reply class failed, for error messages.
QString failureKind(const Reply &reply)
{
    if (reply.isTransientFailure())
        return QStringLiteral("temporary failure (4xx: try again later)");
    if (reply.isPermanentFailure())
        return QStringLiteral("permanent failure (5xx)");
    return QStringLiteral("unexpected reply");
}

} // namespace

Session::Session(SessionConfig config)
    : m_config(std::move(config))
{
    // RFC 8314 3: with implicit TLS the connection is encrypted before the greeting.
    m_encrypted = m_config.security == Smtp::Security::ImplicitTls;
    m_tlsDone = m_encrypted;
}

Session::~Session() = default;

QString Session::stateName(State state)
{
    switch (state) {
    case State::Connecting: return QStringLiteral("Connecting");
    case State::Greeting: return QStringLiteral("Greeting");
    case State::Ehlo: return QStringLiteral("Ehlo");
    case State::Helo: return QStringLiteral("Helo");
    case State::StartTls: return QStringLiteral("StartTls");
    case State::TlsHandshake: return QStringLiteral("TlsHandshake");
    case State::EhloAfterTls: return QStringLiteral("EhloAfterTls");
    case State::Auth: return QStringLiteral("Auth");
    case State::Ready: return QStringLiteral("Ready");
    case State::Transaction: return QStringLiteral("Transaction");
    case State::Quitting: return QStringLiteral("Quitting");
    case State::Closed: return QStringLiteral("Closed");
    case State::Failed: return QStringLiteral("Failed");
    }
    return QStringLiteral("Unknown");
}

Session::WaitKind Session::waitKind() const
{
    switch (m_state) {
    case State::Connecting:
    case State::Closed:
    case State::Failed:
        return WaitKind::None;
    case State::TlsHandshake:
        return WaitKind::Handshake;
    case State::Greeting:
        return WaitKind::Reply;
    default:
        break;
    }
    if (!m_pending.empty()) {
        // RFC 5321 4.5.3.2.6: the reply to the end of data may take up to 10 minutes;
        // timing out early is how "failed but delivered" duplicates happen. With
        // commands pipelined behind it, the end of data is still what is awaited first.
        const Cmd front = m_pending.front().cmd;
        if (front == Cmd::DataEnd || front == Cmd::BdatLast)
            return WaitKind::FinalReply;
        return WaitKind::Reply;
    }
    if (m_bodyTxn >= 0)
        return WaitKind::Send;
    return WaitKind::None;
}

bool Session::pipeliningInUse() const
{
    return m_config.usePipelining && m_caps.pipelining();
}

bool Session::chunkingInUse() const
{
    return m_config.useChunking && m_caps.chunking() && pipeliningInUse();
}

void Session::setState(State s)
{
    if (s == m_state)
        return;
    SessionEvent e;
    e.type = SessionEvent::Type::StateChanged;
    e.verb = stateName(m_state).toLatin1();
    e.text = stateName(s);
    m_state = s;
    emitEvent(std::move(e));
}

void Session::emitEvent(SessionEvent e) { m_events.append(std::move(e)); }

QByteArray Session::takeOutput(QByteArray *shown)
{
    m_unsent = 0;
    if (shown) {
        shown->clear();
        if (!m_secretRanges.isEmpty()) {
            *shown = m_output;
            for (const auto &[from, length] : std::as_const(m_secretRanges))
                std::fill_n(shown->begin() + from, length, '*');
        }
    }
    m_secretRanges.clear();
    return std::exchange(m_output, QByteArray());
}

QList<SessionEvent> Session::takeEvents() { return std::exchange(m_events, {}); }

void Session::takeEvents(QList<SessionEvent> &into)
{
    into.clear(); // keeps its capacity: no allocation per round on the hot path
    into.swap(m_events);
}

Session::Txn *Session::findTxn(int id)
{
    for (Txn &t : m_txns) {
        if (t.id == id)
            return &t;
    }
    return nullptr;
}

void Session::writeCommand(Cmd cmd, const QByteArray &line, int txn, int index, const QByteArray &shown,
                           qsizetype secretFrom)
{
    // Defence in depth: every argument was validated before it got here
    // (validation.h), but no command line may ever carry a CR or LF of its own.
    Q_ASSERT(!line.contains('\r') && !line.contains('\n'));
    if (secretFrom >= 0 && secretFrom < line.size() && !m_config.showSecrets)
        m_secretRanges.append({m_output.size() + secretFrom, line.size() - secretFrom});
    m_output.append(crlf(line));
    QByteArray verb;
    switch (cmd) {
    case Cmd::Ehlo: verb = "EHLO"; break;
    case Cmd::Helo: verb = "HELO"; break;
    case Cmd::StartTls: verb = "STARTTLS"; break;
    case Cmd::Auth: verb = "AUTH"; break;
    case Cmd::AuthResponse: verb = "AUTH"; break;
    case Cmd::Mail: verb = "MAIL FROM"; break;
    case Cmd::Rcpt: verb = "RCPT TO"; break;
    case Cmd::Data: verb = "DATA"; break;
    case Cmd::DataEnd: verb = "end of data"; break;
    case Cmd::Bdat: verb = "BDAT"; break;
    case Cmd::BdatLast: verb = "BDAT LAST"; break;
    case Cmd::Noop: verb = "NOOP"; break;
    case Cmd::Rset: verb = "RSET"; break;
    case Cmd::Quit: verb = "QUIT"; break;
    }
    m_pending.push_back(Pending{cmd, txn, index, verb});
    ++m_unsent;
    if (cmd != Cmd::DataEnd) {
        SessionEvent e;
        e.type = SessionEvent::Type::CommandSent;
        e.text = QString::fromUtf8(shown.isNull() ? line : shown);
        e.verb = verb;
        e.txn = txn;
        emitEvent(std::move(e));
    }
}

void Session::fail(SmtpError error)
{
    if (m_state == State::Failed || m_state == State::Closed)
        return;
    // Nothing more goes out once the session has failed: after injected data, a
    // 421 or a desync, any further byte could be misread (RFC 5321 3.8).
    m_output.clear();
    m_secretRanges.clear();
    m_pending.clear();
    m_unsent = 0;
    m_bodyTxn = -1;
    for (Txn &t : m_txns) {
        if (!t.failed) {
            t.failed = true;
            SessionEvent e;
            e.type = SessionEvent::Type::TransactionFailed;
            e.txn = t.id;
            e.error = error;
            emitEvent(std::move(e));
        }
    }
    m_txns.clear();
    setState(State::Failed);
    SessionEvent e;
    e.type = SessionEvent::Type::Failed;
    e.error = std::move(error);
    emitEvent(std::move(e));
}

void Session::failReply(const QString &step, const Reply &reply, const QString &message,
                        SmtpError::Category category)
{
    const QString code = category == SmtpError::Category::Tls ? QStringLiteral("SMTP-TLS-ERROR")
        : category == SmtpError::Category::Auth               ? QStringLiteral("SMTP-AUTH-ERROR")
                                                              : QStringLiteral("SMTP-REPLY-ERROR");
    fail(replyError(category, code, step, message, reply));
}

// ---------------------------------------------------------------- transport facts

void Session::connected()
{
    if (m_state != State::Connecting)
        return;
    // RFC 5321 3.1 / docs/security.md: say nothing before the 220 arrives.
    setState(State::Greeting);
}

void Session::receive(QByteArrayView data)
{
    if (m_state == State::Failed || m_state == State::Closed)
        return;
    m_parser.feed(data);
    // Replies in these bytes can only answer commands already handed to the
    // transport before they arrived.
    m_answerable = qsizetype(m_pending.size()) - m_unsent;
    for (;;) {
        if (m_state == State::Failed || m_state == State::Closed || m_state == State::TlsHandshake)
            return;
        Reply reply;
        ParseError error;
        const ReplyParser::Status status = m_parser.next(&reply, &error);
        if (status == ReplyParser::Status::NeedMore)
            return;
        if (status == ReplyParser::Status::Error) {
            // While the message data goes out nothing waits for a reply: the step
            // is DATA, as for the other failures during the transfer (security
            // docs/security.md section I: junk while uploading).
            const QString step = !m_pending.empty() ? QString::fromLatin1(m_pending.front().verb)
                : m_bodyTxn >= 0                    ? QStringLiteral("DATA")
                                                    : stateName(m_state);
            SmtpError e = SmtpError::make(SmtpError::Category::Protocol, QStringLiteral("SMTP-PROTOCOL-ERROR"), step,
                                          QStringLiteral("malformed reply from the server: %1").arg(error.message));
            e.serverText = error.line;
            fail(std::move(e));
            return;
        }
        handleReply(reply);
    }
}

void Session::tlsEstablished()
{
    if (m_state != State::TlsHandshake)
        return;
    // RFC 3207 4.2: the client MUST discard any knowledge obtained from the server
    // before TLS and SHOULD send EHLO again. Nothing can be buffered here (the 220
    // check refused that), but reset anyway so no pre-TLS byte can ever be parsed.
    m_parser.reset();
    m_encrypted = true;
    m_tlsDone = true;
    m_caps = Capabilities();
    m_ehloReply = Reply();
    setState(State::EhloAfterTls);
    writeCommand(Cmd::Ehlo, "EHLO " + m_config.ehloName.toUtf8());
}

void Session::closed()
{
    switch (m_state) {
    case State::Closed:
    case State::Failed:
        return;
    case State::Quitting: {
        // A missing 221 does not undo what was already done (docs/security.md).
        SessionEvent e;
        e.type = SessionEvent::Type::QuitResult;
        emitEvent(std::move(e));
        setState(State::Closed);
        return;
    }
    default:
        break;
    }
    QString step = m_pending.empty() ? stateName(m_state) : QString::fromLatin1(m_pending.front().verb);
    QString message = QStringLiteral("the server closed the connection");
    if (!m_pending.empty()
        && (m_pending.front().cmd == Cmd::DataEnd || m_pending.front().cmd == Cmd::BdatLast)) {
        // RFC 5321 3.8: treat as a temporary failure; the message may have been
        // delivered, so a blind retry can duplicate it.
        message = QStringLiteral("the server closed the connection after the end of data, before "
                                 "replying: the message may or may not have been delivered "
                                 "(treated as 451; check before resending to avoid a duplicate)");
    } else if (m_bodyTxn >= 0) {
        step = QStringLiteral("DATA");
        message = QStringLiteral("the server closed the connection during the data transfer");
    } else if (m_state == State::Greeting) {
        message = QStringLiteral("the server closed the connection before its greeting "
                                 "(is this an SMTP port? with implicit TLS, is the TLS mode right?)");
    }
    fail(SmtpError::make(SmtpError::Category::Transport, QStringLiteral("SOCKET-CLOSED"), step, message));
}

void Session::deadlinePassed()
{
    if (m_state == State::Closed || m_state == State::Failed)
        return;
    const WaitKind kind = waitKind();
    QString step = m_pending.empty() ? stateName(m_state) : QString::fromLatin1(m_pending.front().verb);
    QString message;
    switch (kind) {
    case WaitKind::FinalReply:
        message = QStringLiteral("no reply to the end of data in time: the message may or may not have "
                                 "been delivered (check before resending; raise the data timeout for "
                                 "slow servers)");
        break;
    case WaitKind::Handshake:
        message = QStringLiteral("the TLS handshake did not finish in time");
        step = QStringLiteral("TLS handshake");
        break;
    case WaitKind::Send:
        step = QStringLiteral("DATA");
        message = QStringLiteral("the server stopped reading the message data");
        break;
    default:
        message = m_state == State::Greeting
            ? QStringLiteral("no greeting from the server in time (is this an SMTP port? with implicit TLS "
                             "on a STARTTLS port, or the reverse, servers stay silent)")
            : QStringLiteral("no reply from the server in time");
        break;
    }
    fail(SmtpError::make(SmtpError::Category::Transport, QStringLiteral("SOCKET-TIMEOUT"), step, message));
}

// ---------------------------------------------------------------- replies

void Session::handleReply(const Reply &reply)
{
    ++m_repliesReceived;
    SessionEvent received;
    received.type = SessionEvent::Type::ReplyReceived;
    received.reply = reply;
    received.verb = m_pending.empty() ? (m_state == State::Greeting ? QByteArray("greeting") : QByteArray())
                                      : m_pending.front().verb;
    if (!m_pending.empty())
        received.txn = m_pending.front().txn;
    emitEvent(received);

    if (m_state == State::Greeting) {
        onGreeting(reply);
        return;
    }

    if (m_pending.empty()) {
        if (m_bodyTxn >= 0) {
            // The server answered while the message data was still being written:
            // an early rejection (docs/security.md). DATA cannot be resumed.
            failReply(QStringLiteral("DATA"), reply,
                      QStringLiteral("the server interrupted the data transfer with %1: %2")
                          .arg(reply.code)
                          .arg(reply.summary()));
            return;
        }
        if (reply.code == 421) {
            // RFC 5321 3.8: a server may announce its shutdown at any time, e.g. an
            // idle timeout on a kept-open session (docs/security.md).
            failReply(stateName(m_state), reply,
                      QStringLiteral("the server closed the session (421: service not available)"));
            return;
        }
        // E.49: an unsolicited reply means the two sides are out of step; pairing it
        // with the next command would misreport that command's result.
        SmtpError e = replyError(SmtpError::Category::Protocol, QStringLiteral("SMTP-PROTOCOL-ERROR"),
                                 stateName(m_state),
                                 QStringLiteral("the server sent a reply when no command was waiting for one"),
                                 reply);
        fail(std::move(e));
        return;
    }

    if (m_answerable <= 0) {
        // E.49: this reply arrived before the command it would answer was sent
        // (e.g. "220 hi" and "250 ok" in one segment): the server is out of step
        // or an attacker is answering for it.
        fail(replyError(SmtpError::Category::Protocol, QStringLiteral("SMTP-PROTOCOL-ERROR"),
                        QString::fromLatin1(m_pending.front().verb),
                        QStringLiteral("the server sent a reply before the command it would answer was sent"),
                        reply));
        return;
    }
    --m_answerable;
    const Pending p = m_pending.front();
    m_pending.pop_front();

    // RFC 5321 3.8: 421 means the server is closing the channel, whatever the step.
    if (reply.code == 421 && p.cmd != Cmd::Quit) {
        failReply(QString::fromLatin1(p.verb), reply,
                  QStringLiteral("the server is closing the connection (421: service not available); "
                                 "try again later"));
        return;
    }

    switch (p.cmd) {
    case Cmd::Ehlo:
        onEhlo(reply, false);
        return;
    case Cmd::Helo:
        onEhlo(reply, true);
        return;
    case Cmd::StartTls:
        if (reply.code == 220) {
            // RFC 3207 4.2 / CVE-2021-22947: any byte after the 220 came before the TLS
            // handshake, unauthenticated; it must never be read as a post-TLS reply.
            const qsizetype extra = m_parser.bufferedBytes();
            if (extra > 0) {
                SmtpError e = replyError(
                    SmtpError::Category::Tls, QStringLiteral("SMTP-TLS-ERROR"), QStringLiteral("STARTTLS"),
                    QStringLiteral("the server sent %1 byte(s) after its 220 reply to STARTTLS, before the TLS "
                                   "handshake: possible response injection by an attacker (CVE-2021-22947); "
                                   "stopping")
                        .arg(extra),
                    reply);
                fail(std::move(e));
                return;
            }
            setState(State::TlsHandshake);
            SessionEvent e;
            e.type = SessionEvent::Type::StartTlsNow;
            emitEvent(std::move(e));
            return;
        }
        // RFC 3207 4: only 220 means "go ahead". Nothing else leads to TLS.
        if (m_config.security == Smtp::Security::StartTlsRequired) {
            failReply(QStringLiteral("STARTTLS"), reply,
                      QStringLiteral("the server refused STARTTLS (%1) and TLS is required; nothing was sent "
                                     "in the clear. Check the server's TLS set-up, or use implicit TLS "
                                     "(smtps, port 465)")
                          .arg(reply.code),
                      SmtpError::Category::Tls);
            return;
        }
        {
            SessionEvent w;
            w.type = SessionEvent::Type::Warning;
            w.text = QStringLiteral("the server refused STARTTLS (%1); continuing WITHOUT encryption")
                         .arg(reply.code);
            emitEvent(std::move(w));
        }
        m_tlsDone = true; // do not ask again
        if (m_config.useCredentials && !m_authenticated)
            startAuth();
        else
            becomeReady();
        return;
    case Cmd::Auth:
    case Cmd::AuthResponse:
        onAuthReply(reply);
        return;
    case Cmd::Noop: {
        SessionEvent e;
        e.type = SessionEvent::Type::NoopResult;
        e.reply = reply;
        emitEvent(std::move(e));
        if (!reply.isPositiveCompletion()) {
            failReply(QStringLiteral("NOOP"), reply, QStringLiteral("the server refused NOOP"));
            return;
        }
        becomeReady();
        return;
    }
    case Cmd::Rset: {
        SessionEvent e;
        e.type = SessionEvent::Type::ResetResult;
        e.reply = reply;
        e.txn = p.txn;
        emitEvent(std::move(e));
        if (!reply.isPositiveCompletion()) {
            failReply(QStringLiteral("RSET"), reply,
                      QStringLiteral("the server refused RSET; the session cannot be reused"));
            return;
        }
        if (p.txn >= 0)
            finishTransaction(p.txn);
        else
            becomeReady();
        return;
    }
    case Cmd::Quit: {
        SessionEvent e;
        e.type = SessionEvent::Type::QuitResult;
        e.reply = reply;
        emitEvent(std::move(e));
        setState(State::Closed);
        return;
    }
    default:
        break;
    }

    // Transaction commands
    Txn *t = findTxn(p.txn);
    if (!t) {
        fail(SmtpError::make(SmtpError::Category::Protocol, QStringLiteral("SMTP-PROTOCOL-ERROR"),
                             QString::fromLatin1(p.verb), QStringLiteral("reply for an unknown transaction")));
        return;
    }
    switch (p.cmd) {
    case Cmd::Mail: onMailReply(*t, reply); break;
    case Cmd::Rcpt: onRcptReply(*t, p.index, reply); break;
    case Cmd::Data: onDataReply(*t, reply); break;
    case Cmd::DataEnd: onFinalReply(*t, reply, false); break;
    case Cmd::BdatLast: onFinalReply(*t, reply, true); break;
    case Cmd::Bdat: onBdatReply(*t, reply); break;
    default: break;
    }
    if (m_state == State::Failed)
        return;

    // A transaction that failed before its data was complete is cleared with RSET
    // once every reply it was owed has arrived (RFC 5321 4.1.1.5).
    if (Txn *tt = findTxn(p.txn); tt && tt->failed && !tt->rsetSent) {
        const bool owed = std::any_of(m_pending.begin(), m_pending.end(),
                                      [&](const Pending &q) { return q.txn == tt->id; });
        if (!owed && m_bodyTxn != tt->id) {
            tt->rsetSent = true;
            // A transaction started behind this one began with its own RSET.
            const bool later = std::any_of(m_txns.begin(), m_txns.end(), [&](const Txn &o) { return o.id > tt->id; });
            if (later)
                finishTransaction(tt->id);
            else
                writeCommand(Cmd::Rset, "RSET", tt->id);
        }
    }
}

void Session::onGreeting(const Reply &reply)
{
    m_greeting = reply;
    SessionEvent e;
    e.type = SessionEvent::Type::Greeting;
    e.reply = reply;
    emitEvent(std::move(e));
    if (reply.code != 220) {
        // RFC 5321 3.1: 554 means "no SMTP service here"; 421 "not now".
        const QString why = reply.code == 554
            ? QStringLiteral("the server refuses to serve this client (554)")
            : reply.code == 421 ? QStringLiteral("the server is not available now (421); try again later")
                                : QStringLiteral("the server's greeting is not 220");
        failReply(QStringLiteral("greeting"), reply, why);
        return;
    }
    // RFC 5321 4.1.1.1: always EHLO first, HELO only if EHLO is refused (the
    // reference looked for "ESMTP" in the greeting, which servers need not send).
    setState(State::Ehlo);
    writeCommand(Cmd::Ehlo, "EHLO " + m_config.ehloName.toUtf8());
}

void Session::onEhlo(const Reply &reply, bool helo)
{
    if (reply.isPositiveCompletion()) {
        m_ehloReply = reply;
        m_usedHelo = helo;
        m_caps = helo ? Capabilities() : Capabilities::fromEhloReply(reply);
        if (!m_tlsDone || m_config.security == Smtp::Security::ImplicitTls)
            m_capsBeforeTls = m_caps;
        SessionEvent e;
        e.type = SessionEvent::Type::Capabilities;
        e.reply = reply;
        e.flag = m_encrypted;
        emitEvent(std::move(e));
        afterCapabilities();
        return;
    }
    if (!helo && m_state == State::Ehlo && reply.isPermanentFailure()) {
        // RFC 5321 4.1.1.1: fall back to HELO on a 5xx... unless TLS is required:
        // HELO cannot lead to STARTTLS, so falling back would be a downgrade
        // (docs/security.md).
        if (m_config.security == Smtp::Security::StartTlsRequired) {
            failReply(QStringLiteral("EHLO"), reply,
                      QStringLiteral("the server refused EHLO, so STARTTLS cannot be used and TLS is "
                                     "required; stopping"),
                      SmtpError::Category::Tls);
            return;
        }
        setState(State::Helo);
        writeCommand(Cmd::Helo, "HELO " + m_config.ehloName.toUtf8());
        return;
    }
    failReply(helo ? QStringLiteral("HELO") : QStringLiteral("EHLO"), reply,
              QStringLiteral("the server refused %1: %2").arg(helo ? u"HELO" : u"EHLO", failureKind(reply)));
}

void Session::afterCapabilities()
{
    if (!m_encrypted && !m_tlsDone) {
        switch (m_config.security) {
        case Smtp::Security::StartTlsRequired:
            if (!m_caps.startTls()) {
                // RFC 3207 6 / docs/security.md: a missing STARTTLS may be an
                // attacker stripping it; never continue in the clear.
                fail(replyError(SmtpError::Category::Tls, QStringLiteral("SMTP-TLS-ERROR"), QStringLiteral("EHLO"),
                                QStringLiteral("the server does not offer STARTTLS and TLS is required; "
                                               "nothing was sent in the clear. Check that this is the "
                                               "submission port (587) or use implicit TLS (smtps, 465)"),
                                m_ehloReply));
                return;
            }
            setState(State::StartTls);
            writeCommand(Cmd::StartTls, "STARTTLS");
            return;
        case Smtp::Security::StartTlsOpportunistic:
            if (m_caps.startTls()) {
                setState(State::StartTls);
                writeCommand(Cmd::StartTls, "STARTTLS");
                return;
            }
            {
                // RFC 8314 5: never present such a session as confidential.
                SessionEvent w;
                w.type = SessionEvent::Type::Warning;
                w.text = QStringLiteral("the server does not offer STARTTLS; the session is NOT encrypted");
                emitEvent(std::move(w));
            }
            m_tlsDone = true;
            break;
        case Smtp::Security::Plain:
        case Smtp::Security::ImplicitTls:
            break;
        }
    }
    if (m_config.useCredentials && !m_authenticated)
        startAuth();
    else
        becomeReady();
}

// ---------------------------------------------------------------- AUTH (RFC 4954)

void Session::startAuth()
{
    const QStringList offered = m_caps.authMechanisms();
    if (offered.isEmpty()) {
        // docs/security.md section H: credentials were given but AUTH is not offered.
        // Sending unauthenticated could relay-fail later or hide a stripped AUTH; say so.
        fail(replyError(SmtpError::Category::Auth, QStringLiteral("SMTP-AUTH-ERROR"), QStringLiteral("AUTH"),
                        m_encrypted ? QStringLiteral("the server does not offer authentication (no AUTH in its "
                                                     "EHLO reply); is this the submission port (587 or 465)?")
                                    : QStringLiteral("the server does not offer authentication before TLS; use "
                                                     "STARTTLS (esmtptls://, port 587) or implicit TLS "
                                                     "(smtps://, port 465)"),
                        m_ehloReply));
        return;
    }
    m_mechanismsToTry.clear();
    if (!m_config.forcedMechanism.isEmpty()) {
        const QString forced = m_config.forcedMechanism.toUpper();
        if (!offered.contains(forced)) {
            fail(replyError(SmtpError::Category::Auth, QStringLiteral("SMTP-AUTH-ERROR"), QStringLiteral("AUTH"),
                            QStringLiteral("the server does not offer %1 (it offers %2)")
                                .arg(forced, offered.join(u' ')),
                            m_ehloReply));
            return;
        }
        m_mechanismsToTry.append(forced);
    } else {
        // Strongest first (sasl.h); only mechanisms the credentials can run.
        for (const QString &mech : SaslClient::supportedMechanisms()) {
            if (offered.contains(mech) && SaslClient::choose({mech}, m_config.credentials) == mech)
                m_mechanismsToTry.append(mech);
        }
        if (m_mechanismsToTry.isEmpty()) {
            fail(replyError(SmtpError::Category::Auth, QStringLiteral("SMTP-AUTH-ERROR"), QStringLiteral("AUTH"),
                            QStringLiteral("no offered mechanism (%1) can be used with the credentials given")
                                .arg(offered.join(u' ')),
                            m_ehloReply));
            return;
        }
    }
    if (!m_encrypted && !m_config.allowPlaintextAuth) {
        // Credentials never cross an unencrypted connection unless the user asked
        // (RFC 8314 5; Go CVE-2017-15042; docs/security.md).
        fail(SmtpError::make(SmtpError::Category::Auth, QStringLiteral("SMTP-AUTH-ERROR"), QStringLiteral("AUTH"),
                             QStringLiteral("refusing to send credentials over an unencrypted connection; use "
                                            "STARTTLS (tls flag, esmtptls://) or implicit TLS (ssl flag, "
                                            "smtps://), or explicitly allow plaintext authentication")));
        return;
    }
    m_authFailures.clear();
    setState(State::Auth);
    tryNextMechanism();
}

void Session::tryNextMechanism()
{
    const QString mech = m_mechanismsToTry.takeFirst();
    m_sasl = std::make_unique<SaslClient>();
    m_authMechanism = mech;
    m_authRounds = 0;
    m_authCancelled = SmtpError();
    m_deferredInitialResponse.clear();
    m_hasDeferredInitialResponse = false;
    QString error;
    if (!m_sasl->start(mech, m_config.credentials, &error)) {
        fail(SmtpError::make(SmtpError::Category::Auth, QStringLiteral("SMTP-AUTH-ERROR"),
                             QStringLiteral("AUTH %1").arg(mech), error));
        return;
    }
    QByteArray line = "AUTH " + mech.toLatin1();
    QByteArray shown = line;
    qsizetype secretFrom = -1;
    if (m_sasl->hasInitialResponse()) {
        QByteArray ir;
        if (!m_sasl->initialResponse(&ir, &error)) {
            fail(SmtpError::make(SmtpError::Category::Auth, QStringLiteral("SMTP-AUTH-ERROR"),
                                 QStringLiteral("AUTH %1").arg(mech), error));
            return;
        }
        // RFC 4954 4: an empty initial response is sent as "=".
        const QByteArray encoded = ir.isEmpty() ? QByteArray("=") : ir.toBase64();
        if (line.size() + 1 + encoded.size() + 2 <= MaxCommandLine) {
            secretFrom = line.size() + 1;
            line += ' ' + encoded;
            shown += m_config.showSecrets ? ' ' + encoded : QByteArray(" <redacted>");
        } else {
            // docs/security.md section G: too long for one command line; send it after an
            // empty 334 challenge instead.
            m_deferredInitialResponse = encoded;
            m_hasDeferredInitialResponse = true;
        }
    }
    writeCommand(Cmd::Auth, line, -1, -1, shown, secretFrom);
}

void Session::onAuthReply(const Reply &reply)
{
    const QString step = QStringLiteral("AUTH %1").arg(m_authMechanism);
    if (m_authCancelled.isError()) {
        // The reply to our "*" or closing response (RFC 4954 4, RFC 7628 3.2.3):
        // the exchange is over, and failed; report that final reply.
        SmtpError e = m_authCancelled;
        e.replyCode = reply.code;
        e.enhancedCode = reply.enhanced.toString();
        e.serverText = reply.text();
        fail(std::move(e));
        return;
    }
    if (reply.code == 334) {
        if (++m_authRounds > MaxAuthRounds) {
            fail(replyError(SmtpError::Category::Auth, QStringLiteral("SMTP-AUTH-ERROR"), step,
                            QStringLiteral("the server kept sending challenges (%1 rounds); stopping")
                                .arg(MaxAuthRounds),
                            reply));
            return;
        }
        const QByteArray shownResponse = QByteArray("<redacted SASL response>");
        if (m_hasDeferredInitialResponse) {
            m_hasDeferredInitialResponse = false;
            writeCommand(Cmd::AuthResponse, m_deferredInitialResponse, -1, -1,
                         m_config.showSecrets ? m_deferredInitialResponse : shownResponse, 0);
            return;
        }
        // The challenge is the reply text, base64 (RFC 4954 4); an enhanced status
        // code is not expected here, so use the raw first line.
        const QByteArray text = reply.lines.value(0).trimmed();
        const auto decoded = QByteArray::fromBase64Encoding(text, QByteArray::AbortOnBase64DecodingErrors);
        if (!decoded) {
            // RFC 4954 4: cancel with "*"; the server answers 501, then we stop.
            m_authCancelled = replyError(SmtpError::Category::Auth, QStringLiteral("SMTP-AUTH-ERROR"), step,
                                         QStringLiteral("the server sent a challenge that is not valid base64"),
                                         reply);
            writeCommand(Cmd::AuthResponse, "*");
            return;
        }
        QByteArray response;
        QString error;
        const SaslClient::Step s = m_sasl->step(*decoded, &response, &error);
        if (s == SaslClient::Step::Failed) {
            m_authCancelled = replyError(SmtpError::Category::Auth, QStringLiteral("SMTP-AUTH-ERROR"), step,
                                         error, reply);
            // The mechanism says what ends the exchange (OAuth: empty or "\x01"),
            // else cancel with "*".
            const QByteArray line = m_sasl->failureHasResponse() ? response.toBase64() : QByteArray("*");
            writeCommand(Cmd::AuthResponse, line, -1, -1, m_config.showSecrets ? line : shownResponse, 0);
            return;
        }
        const QByteArray line = response.toBase64();
        writeCommand(Cmd::AuthResponse, line, -1, -1, m_config.showSecrets ? line : shownResponse, 0);
        return;
    }

    SessionEvent attempt;
    attempt.type = SessionEvent::Type::AuthAttempt;
    attempt.text = m_authMechanism;
    attempt.reply = reply;
    attempt.flag = reply.code == 235;

    if (reply.code == 235) {
        // RFC 4954 4: a 235 may carry the server's final SASL data (SCRAM's v=).
        const QByteArray text = reply.lines.value(0).trimmed();
        const auto extra = QByteArray::fromBase64Encoding(text, QByteArray::AbortOnBase64DecodingErrors);
        const QByteArray serverFinal = extra && (*extra).startsWith("v=") ? *extra : QByteArray();
        QString error;
        // SCRAM is mutual (RFC 5802 3): success without a verified server
        // signature does not prove the server knows the password.
        if (!m_sasl->verifyServerFinal(serverFinal, &error)) {
            attempt.flag = false;
            emitEvent(attempt);
            fail(replyError(SmtpError::Category::Auth, QStringLiteral("SMTP-AUTH-ERROR"), step,
                            QStringLiteral("the server could not prove its identity: %1").arg(error), reply));
            return;
        }
        emitEvent(attempt);
        m_authenticated = true;
        m_sasl.reset();
        becomeReady();
        return;
    }

    emitEvent(attempt);
    m_authFailures.append(QStringLiteral("%1: %2").arg(m_authMechanism, reply.summary()));
    // 530/538 (RFC 4954 6): encryption required; 454/4xx: temporary. Trying other
    // mechanisms cannot help with either. For a refused mechanism (504, 535, ...)
    // try the next one the server offers, strongest first (never outside the
    // allowed set: docs/security.md section H).
    const bool retryable = reply.isPermanentFailure() && reply.code != 530 && reply.code != 538;
    if (retryable && reply.code == 535)
        narrowAfterRefusedCredentials();
    if (retryable && !m_mechanismsToTry.isEmpty()) {
        tryNextMechanism();
        return;
    }
    QString message = QStringLiteral("authentication failed (%1)").arg(m_authFailures.join(QStringLiteral("; ")));
    if (reply.code == 530 || reply.code == 538)
        message += QStringLiteral(": the server requires encryption first; use STARTTLS or implicit TLS");
    else if (reply.code == 535)
        message += QStringLiteral(": check the user name and password");
    fail(replyError(SmtpError::Category::Auth, QStringLiteral("SMTP-AUTH-ERROR"), step, message, reply));
}

// RFC 4954 6: 535 (5.7.8) says the credentials were refused. Every further
// attempt counts against the account on servers that lock it out after a few
// failures, so the same secret is not replayed through every mechanism. One case
// still deserves a second try: a server that offers a challenge-response
// mechanism (CRAM-MD5, SCRAM) but keeps only hashed passwords refuses it even
// with the right password, and PLAIN (or LOGIN) then succeeds. So after a
// refused challenge-response mechanism, only the first plain one offered is left;
// after a refused PLAIN, LOGIN or token, nothing is.
void Session::narrowAfterRefusedCredentials()
{
    static const QStringList plainFamily = {QStringLiteral("PLAIN"), QStringLiteral("LOGIN")};
    const bool challengeResponse = m_authMechanism.startsWith(QLatin1String("CRAM-"))
                                   || m_authMechanism.startsWith(QLatin1String("SCRAM-"))
                                   || m_authMechanism.startsWith(QLatin1String("DIGEST-"));
    QStringList left;
    if (challengeResponse) {
        for (const QString &m : std::as_const(m_mechanismsToTry)) {
            if (plainFamily.contains(m)) {
                left.append(m);
                break;
            }
        }
    }
    m_mechanismsToTry = left;
}

void Session::becomeReady()
{
    if (m_state == State::Quitting || m_state == State::Closed || m_state == State::Failed)
        return;
    if (!m_txns.empty()) {
        setState(State::Transaction);
        return;
    }
    setState(State::Ready);
    SessionEvent e;
    e.type = SessionEvent::Type::Ready;
    emitEvent(std::move(e));
}

// ---------------------------------------------------------------- transactions

int Session::startTransaction(const Envelope &envelope)
{
    auto refuse = [this](SmtpError::Category category, const QString &step, const QString &message) {
        SessionEvent e;
        e.type = SessionEvent::Type::TransactionFailed;
        e.error = SmtpError::make(category,
                                  category == SmtpError::Category::Message ? QStringLiteral("MESSAGE-ERROR")
                                                                           : QStringLiteral("SMTP-STATE-ERROR"),
                                  step, message);
        emitEvent(std::move(e));
        return -1;
    };

    // RFC 2920 3.1: with PIPELINING, the next MAIL may follow the previous
    // message's content in the same group, so a transaction may start while the
    // previous end of data awaits its reply.
    if (!canStartTransaction())
        return refuse(SmtpError::Category::Usage, QStringLiteral("MAIL FROM"),
                      QStringLiteral("the session is not ready for a message (state %1)").arg(stateName(m_state)));
    if (envelope.recipients.isEmpty())
        return refuse(SmtpError::Category::Message, QStringLiteral("RCPT TO"),
                      QStringLiteral("the message has no recipient"));
    if (envelope.needsSmtpUtf8 && !m_caps.smtpUtf8())
        return refuse(SmtpError::Category::Message, QStringLiteral("MAIL FROM"),
                      QStringLiteral("an address needs SMTPUTF8 (RFC 6531) but the server does not offer it; "
                                     "use an ASCII address"));
    if (envelope.body8Bit && !m_caps.eightBitMime())
        return refuse(SmtpError::Category::Message, QStringLiteral("MAIL FROM"),
                      QStringLiteral("the message has 8-bit content but the server does not offer 8BITMIME "
                                     "(RFC 6152); encode it as quoted-printable or base64"));
    if (const auto limit = m_caps.sizeLimit(); limit && *limit > 0 && envelope.size > 0
        && quint64(envelope.size) > *limit)
        return refuse(SmtpError::Category::Message, QStringLiteral("MAIL FROM"),
                      QStringLiteral("the message is %1 bytes but the server accepts at most %2 (SIZE, RFC 1870)")
                          .arg(envelope.size)
                          .arg(*limit));

    Txn t;
    t.id = m_nextTxn++;
    t.envelope = envelope;
    t.chunking = chunkingInUse();

    QByteArray mail = "MAIL FROM:<" + envelope.sender + '>';
    // RFC 1870 6: SIZE= only when the server offers SIZE.
    if (m_caps.size() && envelope.size >= 0)
        mail += " SIZE=" + QByteArray::number(envelope.size);
    if (envelope.body8Bit)
        mail += " BODY=8BITMIME"; // RFC 6152 2
    if (envelope.needsSmtpUtf8)
        mail += " SMTPUTF8"; // RFC 6531 3.4

    const int id = t.id;
    const bool pipe = pipeliningInUse();
    const bool behindChunked = !m_txns.empty() && t.chunking;
    m_txns.push_back(std::move(t));
    if (m_state == State::Ready)
        setState(State::Transaction);
    if (behindChunked) {
        // The BDAT transactions ahead may end without closing the server's mail
        // transaction (every recipient refused): a RSET first makes this MAIL
        // valid whatever happened to them, so a batch needs no round trip per
        // message (RFC 5321 4.1.1.5; RSET may sit inside a group, RFC 2920 3.1).
        writeCommand(Cmd::Rset, "RSET");
    }
    writeCommand(Cmd::Mail, mail, id);
    if (pipe) {
        // RFC 2920 3.1: MAIL, every RCPT and DATA in one group (one write).
        Txn &tt = *findTxn(id);
        for (int i = 0; i < tt.envelope.recipients.size(); ++i)
            writeCommand(Cmd::Rcpt, "RCPT TO:<" + tt.envelope.recipients.at(i) + '>', id, i);
        if (!tt.chunking) {
            writeCommand(Cmd::Data, "DATA", id);
        } else if (tt.envelope.hasInlineBody) {
            // RFC 3030 4.2: BDAT may be pipelined; a small body goes in the same write.
            DataEncoder enc(DataEncoder::Mode::Bdat);
            QByteArray body;
            enc.encode(tt.envelope.inlineBody, body);
            enc.finish(body);
            tt.dataStarted = true;
            tt.bodyDone = true;
            tt.envelope.inlineBody.clear();
            writeBdat(tt, body, true);
        }
    }
    return id;
}

bool Session::canStartTransaction() const
{
    if (m_state == State::Ready)
        return m_pending.empty(); // a NOOP or RSET in flight ends its group first
    if (m_state != State::Transaction || !pipeliningInUse() || m_bodyTxn >= 0)
        return false;
    // DATA: bodyDone means the 354 came, so the end of data closes the
    // transaction whatever its reply. BDAT: the transaction may still fail (all
    // recipients refused) and leave the server's MAIL open; startTransaction()
    // then writes RSET ahead of the next MAIL (RFC 3030 4.2, RFC 2920 3.1).
    return std::all_of(m_txns.begin(), m_txns.end(), [](const Txn &t) { return t.bodyDone && !t.failed; });
}

void Session::onMailReply(Txn &t, const Reply &reply)
{
    SessionEvent e;
    e.type = SessionEvent::Type::SenderResult;
    e.txn = t.id;
    e.reply = reply;
    emitEvent(std::move(e));
    if (!reply.isPositiveCompletion()) {
        failTransaction(t, replyError(SmtpError::Category::Reply, QStringLiteral("SMTP-REPLY-ERROR"),
                                      QStringLiteral("MAIL FROM"),
                                      QStringLiteral("the server refused the sender <%1>: %2")
                                          .arg(QString::fromUtf8(t.envelope.sender), failureKind(reply)),
                                      reply));
        return;
    }
    t.senderOk = true;
    if (!pipeliningInUse() && !t.envelope.recipients.isEmpty())
        writeCommand(Cmd::Rcpt, "RCPT TO:<" + t.envelope.recipients.first() + '>', t.id, 0);
}

void Session::onRcptReply(Txn &t, int index, const Reply &reply)
{
    SessionEvent e;
    e.type = SessionEvent::Type::RecipientResult;
    e.txn = t.id;
    e.index = index;
    e.reply = reply;
    emitEvent(std::move(e));
    ++t.answered;
    if (reply.isPositiveCompletion()) {
        ++t.accepted;
    } else {
        t.refused.append(t.envelope.recipients.value(index));
        t.refusalReplies.append(reply.summary());
        t.lastRefusal = reply;
    }

    if (!pipeliningInUse() && !t.failed && index + 1 < t.envelope.recipients.size()) {
        writeCommand(Cmd::Rcpt, "RCPT TO:<" + t.envelope.recipients.at(index + 1) + '>', t.id, index + 1);
        return;
    }
    if (t.answered == t.envelope.recipients.size())
        maybeFinishRecipients(t);
}

void Session::maybeFinishRecipients(Txn &t)
{
    if (t.failed)
        return;
    if (t.accepted == 0) {
        // Nothing is sent when every recipient is refused (curl's RCPT_ALLOWFAILS
        // semantics; docs/security.md). DATA/BDAT may already be pipelined:
        // their replies are still collected before RSET.
        // Each address with the reply that refused it; the error carries the last
        // reply's code and enhanced code, so it can be explained (RFC 3463).
        QStringList refusals;
        for (qsizetype i = 0; i < t.refused.size(); ++i)
            refusals.append(QStringLiteral("%1: %2").arg(QString::fromUtf8(t.refused.at(i)), t.refusalReplies.value(i)));
        failTransaction(t, replyError(SmtpError::Category::Reply, QStringLiteral("SMTP-REPLY-ERROR"),
                                      QStringLiteral("RCPT TO"),
                                      QStringLiteral("the server refused every recipient (%1)")
                                          .arg(refusals.join(QStringLiteral("; "))),
                                      t.lastRefusal));
        return;
    }
    if (!pipeliningInUse()) {
        writeCommand(Cmd::Data, "DATA", t.id);
        return;
    }
    if (t.chunking && !t.dataStarted) {
        // BDAT without an inline body: ask for it now that a recipient is accepted.
        t.dataStarted = true;
        m_bodyTxn = t.id;
        m_encoder = DataEncoder(DataEncoder::Mode::Bdat);
        m_bodyBuffer.clear();
        SessionEvent e;
        e.type = SessionEvent::Type::BodyWanted;
        e.txn = t.id;
        emitEvent(std::move(e));
    }
}

void Session::onDataReply(Txn &t, const Reply &reply)
{
    if (reply.code == 354) {
        t.dataStarted = true;
        if (t.failed || t.accepted == 0 || !t.senderOk) {
            // A server that says 354 with no valid recipient: end the (empty) data at
            // once so the session stays in step, then RSET.
            writeCommand(Cmd::DataEnd, ".", t.id);
            t.bodyDone = true;
            return;
        }
        m_encoder = DataEncoder(DataEncoder::Mode::Data);
        if (t.envelope.hasInlineBody) {
            const qsizetype before = m_output.size();
            m_encoder.encode(t.envelope.inlineBody, m_output);
            m_encoder.finish(m_output);
            t.envelope.inlineBody.clear();
            t.bodyDone = true;
            SessionEvent d;
            d.type = SessionEvent::Type::DataSent;
            d.txn = t.id;
            d.count = m_output.size() - before;
            emitEvent(std::move(d));
            m_pending.push_back(Pending{Cmd::DataEnd, t.id, -1, "end of data"});
            ++m_unsent;
            return;
        }
        m_bodyTxn = t.id;
        SessionEvent e;
        e.type = SessionEvent::Type::BodyWanted;
        e.txn = t.id;
        emitEvent(std::move(e));
        return;
    }
    // RFC 5321 4.1.1.4: anything but 354 means no data may follow (docs/security.md section G).
    if (!t.failed) {
        failTransaction(t, replyError(SmtpError::Category::Reply, QStringLiteral("SMTP-REPLY-ERROR"),
                                      QStringLiteral("DATA"),
                                      QStringLiteral("the server refused DATA: %1").arg(failureKind(reply)), reply));
    }
}

void Session::sendBody(QByteArrayView chunk)
{
    Txn *t = findTxn(m_bodyTxn);
    if (!t || chunk.isEmpty())
        return;
    if (!t->chunking) {
        const qsizetype before = m_output.size();
        m_encoder.encode(chunk, m_output);
        SessionEvent d;
        d.type = SessionEvent::Type::DataSent;
        d.txn = t->id;
        d.count = m_output.size() - before;
        emitEvent(std::move(d));
        return;
    }
    m_encoder.encode(chunk, m_bodyBuffer);
    while (m_bodyBuffer.size() >= m_config.bdatChunkSize) {
        writeBdat(*t, QByteArrayView(m_bodyBuffer).first(m_config.bdatChunkSize), false);
        m_bodyBuffer.remove(0, m_config.bdatChunkSize);
    }
}

void Session::endBody()
{
    Txn *t = findTxn(m_bodyTxn);
    if (!t)
        return;
    m_bodyTxn = -1;
    t->bodyDone = true;
    if (!t->chunking) {
        const qsizetype before = m_output.size();
        m_encoder.finish(m_output);
        SessionEvent d;
        d.type = SessionEvent::Type::DataSent;
        d.txn = t->id;
        d.count = m_output.size() - before;
        emitEvent(std::move(d));
        m_pending.push_back(Pending{Cmd::DataEnd, t->id, -1, "end of data"});
        ++m_unsent;
        return;
    }
    m_encoder.finish(m_bodyBuffer);
    writeBdat(*t, m_bodyBuffer, true);
    m_bodyBuffer.clear();
}

void Session::writeBdat(Txn &t, QByteArrayView payload, bool last)
{
    // RFC 3030 2: "BDAT <size> [LAST]" then exactly <size> octets, no dot-stuffing.
    QByteArray line = "BDAT " + QByteArray::number(payload.size());
    if (last)
        line += " LAST";
    writeCommand(last ? Cmd::BdatLast : Cmd::Bdat, line, t.id);
    m_output.append(payload);
    SessionEvent d;
    d.type = SessionEvent::Type::DataSent;
    d.txn = t.id;
    d.count = payload.size();
    emitEvent(std::move(d));
}

void Session::onBdatReply(Txn &t, const Reply &reply)
{
    if (reply.isPositiveCompletion() || t.failed)
        return;
    if (m_bodyTxn == t.id)
        m_bodyTxn = -1; // stop asking for more data; RSET follows the remaining replies
    failTransaction(t, replyError(SmtpError::Category::Reply, QStringLiteral("SMTP-REPLY-ERROR"), QStringLiteral("BDAT"),
                                  QStringLiteral("the server refused a chunk of the message: %1").arg(failureKind(reply)),
                                  reply));
}

void Session::onFinalReply(Txn &t, const Reply &reply, bool isBdatLast)
{
    const bool accepted = reply.isPositiveCompletion() && !t.failed;
    if (!t.failed || isBdatLast) {
        SessionEvent e;
        e.type = SessionEvent::Type::MessageResult;
        e.txn = t.id;
        e.reply = reply;
        e.flag = accepted;
        if (!t.failed)
            emitEvent(std::move(e));
    }
    if (accepted) {
        finishTransaction(t.id);
        return;
    }
    if (!t.failed) {
        // RFC 5321 4.2.5: after the end of data a 4xx/5xx means the message was not
        // accepted. The transaction is over either way; no RSET is needed.
        failTransaction(t, replyError(SmtpError::Category::Reply, QStringLiteral("SMTP-REPLY-ERROR"),
                                      QStringLiteral("end of data"),
                                      QStringLiteral("the server did not accept the message: %1").arg(failureKind(reply)),
                                      reply));
        if (!isBdatLast || t.accepted > 0) {
            t.rsetSent = true; // complete transaction: nothing to reset
            finishTransaction(t.id);
        }
    }
}

void Session::failTransaction(Txn &t, SmtpError error)
{
    if (t.failed)
        return;
    t.failed = true;
    t.error = error;
    if (m_bodyTxn == t.id)
        m_bodyTxn = -1;
    SessionEvent e;
    e.type = SessionEvent::Type::TransactionFailed;
    e.txn = t.id;
    e.error = std::move(error);
    emitEvent(std::move(e));
}

void Session::finishTransaction(int id)
{
    // Transactions end in the order they started, nearly always.
    if (!m_txns.empty() && m_txns.front().id == id)
        m_txns.pop_front();
    else
        m_txns.erase(std::remove_if(m_txns.begin(), m_txns.end(), [id](const Txn &t) { return t.id == id; }),
                     m_txns.end());
    if (m_txns.empty() && m_state == State::Transaction && m_pending.empty())
        becomeReady();
}

// ---------------------------------------------------------------- other commands

bool Session::noop()
{
    // RFC 5321 4.1.1.9: NOOP changes nothing; used to check a kept-open session.
    // RFC 2920 3.1: NOOP ends a group, so nothing may be in flight before it.
    if (m_state != State::Ready || !m_pending.empty())
        return false;
    writeCommand(Cmd::Noop, "NOOP");
    return true;
}

bool Session::reset()
{
    if (m_state != State::Ready || !m_pending.empty())
        return false;
    writeCommand(Cmd::Rset, "RSET");
    return true;
}

bool Session::quit()
{
    // QUIT only from an idle session: written behind commands still awaiting
    // replies it could land inside message data (after a pipelined DATA) or
    // before commands the session still has to write. Mid-way, the driver
    // closes the connection instead.
    if (m_state != State::Ready || !m_pending.empty() || !m_txns.empty())
        return false;
    setState(State::Quitting);
    writeCommand(Cmd::Quit, "QUIT");
    return true;
}

void Session::abort(const QString &why)
{
    fail(SmtpError::make(SmtpError::Category::Transport, QStringLiteral("SMTP-CANCELLED"),
                         m_pending.empty() ? stateName(m_state) : QString::fromLatin1(m_pending.front().verb), why));
}

} // namespace Smtp
