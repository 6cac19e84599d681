// libFuzzer target for Smtp::Session, the sans-I/O SMTP client state machine.
//
// The harness plays the driver (client/SmtpDriver): it reports transport facts,
// makes requests, and after every call takes the output and the events, as a
// real driver must. The server's bytes come from the input; the session's
// writes are checked against what the events say was written.
//
// Input layout
//   byte 0  configuration
//           bits 0-1 TLS mode (None, Opportunistic, Required, Implicit)
//           bit 2    PIPELINING off      bit 3  CHUNKING off
//           bit 4    showSecrets         bit 5  allowPlaintextAuth
//           bit 6    TLS handshake finishes only on a "tls" op (bytes that arrive
//                    meanwhile are fed to the session, which must ignore them)
//           bit 7    EHLO name "client.example.test" instead of "localhost"
//   byte 1  bits 0-1 credentials (none, password, OAuth token, both)
//           bits 2-4 forced mechanism (none = strongest offered, PLAIN, LOGIN,
//                    CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256, XOAUTH2, OAUTHBEARER)
//           bits 5-7 BDAT chunk size (1 MiB, 1, 2, 5, 16, 100, 512, 4096)
//   byte 2  how the server stream is cut into receive() calls:
//           bits 0-1 mode, bits 2-7 p: 0 one line per call; 1 p+1 bytes per
//           call; 2 (p%4)+2 lines per call; 3 one line per call, cut in two at p
//   byte 3  bit 0    a streamed body is handed over one piece per server chunk
//                    (else whole before the next chunk: replies come after it),
//                    and the connection may end before the body does
//           bit 1    long credentials: an AUTH initial response too long for
//                    the AUTH line (RFC 4954 4) goes after an empty 334
//   byte 4  number of script ops (mod 17), then two bytes per op:
//           op byte  bits 0-2 what: start, quit, noop, tls, deadline, eof, rset, abort
//                    bit 3    wait until it makes sense (start: canStartTransaction;
//                             quit/noop/rset: Ready, no reply awaited; tls: StartTlsNow
//                             seen and, with bit 6, a server chunk received since;
//                             deadline: a handshake, final-reply or send wait;
//                             eof: Ready or Quitting; abort: a body is streaming)
//                    bits 4-5 start: 1-3 recipients, or none  bit 6: inline body
//                    bit 7    start: declare SIZE=
//           arg byte bits 0-2 body (table below), bits 3-4 sender, bits 5-7 size
//                    of the pieces a streamed body is handed over in
//   rest    the server's byte stream
// The driver loop: before each server chunk, hand over the body the session asked
// for (BodyWanted; or one piece of it, byte 3), run the ops whose condition holds, and finish
// a pending TLS handshake (unless bit 6). At the end: the remaining ops, the rest
// of the body (unless byte 3 bit 0), the handshake, then EOF.
//
// Invariants (any violation aborts):
//  - every command line is one CRLF-terminated line without a bare CR or LF, as
//    long as its CommandSent event says (RFC 5321 2.3.8, 4.1.1), and no longer than
//    512 octets except SASL responses (RFC 5321 4.5.3.1.4, RFC 4954 4);
//  - every written byte belongs to a CommandSent line, a DataSent count, or the
//    lone "." ending an empty DATA; a BDAT payload is exactly the size its command
//    announces (RFC 3030 2); DATA content is the body with CRLF line ends and
//    dot-stuffing (RFC 5321 4.5.2) and ends once, with CRLF.CRLF, at endBody();
//    the BDAT payloads of a message add up to the CRLF-normalised body;
//  - nothing is written after a Failed event (and then state() == Failed), after
//    Closed, or between StartTlsNow and tlsEstablished(); the first command after
//    tlsEstablished() is EHLO (RFC 3207 4.2);
//  - replies pair with commands in wire order (RFC 2920 3.1): every ReplyReceived
//    names the oldest command written and not yet answered;
//  - EHLO, HELO, STARTTLS, AUTH (and SASL responses), DATA, NOOP and QUIT end a
//    group (RFC 2920 3.1, RFC 3207 4, RFC 4954 4): nothing follows them before
//    their reply; without PIPELINING, nothing follows any command before its reply;
//  - with TLS required, no AUTH or MAIL before the handshake (RFC 3207 6); no AUTH
//    on an unencrypted connection unless plaintext AUTH is allowed (RFC 8314 5);
//  - with showSecrets off, no event text and no byte of the "shown" copy of the
//    output holds the password, the token, or any base64 form of them; the shown
//    copy differs from the output only by '*';
//  - at most one MessageResult(accepted) per transaction, never with a
//    TransactionFailed too, only after its whole body was written, and never more
//    than transactions started; a TransactionFailed with no transaction only
//    answers a refused startTransaction(); after EOF every started transaction has
//    exactly one outcome.

#include "protocol/smtpsession.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QString>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>

namespace {

using Smtp::Envelope;
using Smtp::Session;
using Smtp::SessionConfig;
using Smtp::SessionEvent;
using Type = SessionEvent::Type;

const QByteArray User = QByteArrayLiteral("fuzz-user");
const QByteArray Password = QByteArrayLiteral("Tr0ub4dor&3-fuzz-secret");
const QByteArray Token = QByteArrayLiteral("ya29.FuzzBearerToken-0123456789abcdef");
// Long enough that base64 of PLAIN's or XOAUTH2's message passes 512 octets.
const QByteArray LongUser = User + QByteArray(200, 'u');
const QByteArray LongPassword = Password + QByteArray(200, 'p');
const QByteArray LongToken = Token + QByteArray(400, 't');

QByteArray printable(QByteArrayView bytes)
{
    QByteArray out;
    for (const char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        if (c >= 0x20 && c < 0x7f && c != '\\')
            out.append(char(c));
        else
            out.append("\\x" + QByteArray::number(uint(c), 16).rightJustified(2, '0'));
    }
    return out;
}

// SESSION_FUZZER_TRACE=1 prints every call, write and event (to read a crash).
bool tracing()
{
    static const bool on = qEnvironmentVariableIsSet("SESSION_FUZZER_TRACE");
    return on;
}

[[noreturn]] void broken(const char *what, QByteArrayView detail = {})
{
    std::fprintf(stderr, "session_fuzzer: invariant broken: %s\n", what);
    if (!detail.isEmpty())
        std::fprintf(stderr, "  near: %s\n", printable(detail.first(qMin<qsizetype>(detail.size(), 300))).constData());
    std::abort();
}

// ---------------------------------------------------------------- input tables

const QByteArray &bodyText(int index)
{
    static const QList<QByteArray> bodies = [] {
        QByteArray big;
        for (int i = 0; i < 40; ++i)
            big += QByteArray(58, char('a' + i % 26)) + "\r\n";
        big += ".starts with a dot\r\n.\r\nafter a lone dot";
        return QList<QByteArray>{
            QByteArray(),
            QByteArrayLiteral("Subject: hello\r\n\r\nHello, world.\r\n"),
            QByteArrayLiteral(".\r\n..\r\n.leading dot\r\n."),
            QByteArrayLiteral("bare LF\nbare CR\rCRLF\r\n\r\r\n\n.\n"),
            QByteArrayLiteral("no final line break"),
            QByteArrayLiteral("Subject: x\r\n\r\nbefore\r\n.\r\nMAIL FROM:<evil@example.test>\r\nafter\r\n"),
            big,
            QByteArrayLiteral("Subject: caf\xc3\xa9\r\n\r\n8-bit \xe9\xff body\r\n"),
        };
    }();
    return bodies.at(index);
}

constexpr int EightBitBody = 7;

// Wire forms, as validation.h would produce them.
const QList<QByteArray> Senders = {"alice@example.test", "", "bounce+tag@sub.example.test",
                                   "j\xc3\xb6rg@ex\xc3\xa4mple.test"};
constexpr int Utf8Sender = 3;
const QList<QByteArray> Recipients = {"rcpt1@example.test", "Postmaster", "r3@[127.0.0.1]"};
constexpr qsizetype PieceSizes[] = {1, 2, 3, 7, 64, 512, 4096, 1 << 20};
constexpr qsizetype BdatSizes[] = {1024 * 1024, 1, 2, 5, 16, 100, 512, 4096};
const QStringList Mechanisms = {QString(),
                                QStringLiteral("PLAIN"),
                                QStringLiteral("LOGIN"),
                                QStringLiteral("CRAM-MD5"),
                                QStringLiteral("SCRAM-SHA-1"),
                                QStringLiteral("SCRAM-SHA-256"),
                                QStringLiteral("XOAUTH2"),
                                QStringLiteral("OAUTHBEARER")};

// RFC 5321 2.3.8: every line ends with CRLF; DataEncoder (dataencoder.h) turns a
// bare CR or LF into CRLF and completes a missing final CRLF. This is the oracle
// the written message is compared with.
QByteArray normalised(const QByteArray &in)
{
    QByteArray out;
    for (qsizetype i = 0; i < in.size(); ++i) {
        const char c = in.at(i);
        if (c == '\r') {
            out += "\r\n";
            if (i + 1 < in.size() && in.at(i + 1) == '\n')
                ++i;
        } else if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
    if (!out.isEmpty() && !out.endsWith("\r\n"))
        out += "\r\n";
    return out;
}

// RFC 5321 4.5.2: a line starting with '.' gets one more; then the end of data.
QByteArray dataWire(const QByteArray &in)
{
    const QByteArray lines = normalised(in);
    QByteArray out;
    bool lineStart = true;
    for (const char c : lines) {
        if (lineStart && c == '.')
            out += '.';
        out += c;
        lineStart = c == '\n';
    }
    return out + ".\r\n";
}

// The secret and the base64 of every 3-aligned run inside it: whatever a secret
// is embedded in (PLAIN's "\0user\0pass", XOAUTH2's "auth=Bearer ..."), its
// base64 contains one of these.
QList<QByteArray> secretForms(const QByteArray &secret)
{
    QList<QByteArray> forms{secret};
    for (qsizetype start = 0; start < 3; ++start) {
        const qsizetype groups = (secret.size() - start) / 3;
        if (groups >= 4) // shorter runs could match by chance
            forms.append(secret.mid(start, groups * 3).toBase64());
    }
    return forms;
}

bool isGroupEnd(const QByteArray &verb)
{
    // RFC 2920 3.1: EHLO, DATA, VRFY, EXPN, TURN, QUIT and NOOP only come last in a
    // group; RFC 3207 4: STARTTLS too; RFC 4954 4: AUTH too (each SASL response
    // waits for the next challenge). HELO is EHLO's fallback.
    return verb == "EHLO" || verb == "HELO" || verb == "STARTTLS" || verb == "AUTH" || verb == "DATA"
        || verb == "NOOP" || verb == "QUIT";
}

struct Op
{
    uint8_t op = 0;
    uint8_t arg = 0;
    [[nodiscard]] int what() const { return op & 7; }
    [[nodiscard]] bool waits() const { return op & 8; }
};

enum class Call { Connected, Receive, Tls, Closed, Deadline, Start, SendBody, EndBody, Other, Request };

struct TxnRecord
{
    QByteArray body;
    bool inlineBody = false;
    QByteArray wire;       // DATA content written so far
    QByteArray bdat;       // BDAT payloads written so far
    bool complete = false; // the whole body and its end were written
    int accepted = 0;
    int failed = 0;
};

class Harness
{
public:
    Harness(const SessionConfig &config, bool manualTls, QByteArrayView input)
        : m_session(config), m_config(config), m_manualTls(manualTls)
    {
        if (config.useCredentials && !config.showSecrets) {
            if (!config.credentials.password.isEmpty())
                m_secrets += secretForms(config.credentials.password.toUtf8());
            if (!config.credentials.oauthToken.isEmpty())
                m_secrets += secretForms(config.credentials.oauthToken);
        }
        // A server may echo anything it was sent; if the input itself holds a
        // secret form, server text quoted in error messages is not a leak.
        for (const QByteArray &s : std::as_const(m_secrets)) {
            if (QByteArrayView(input).contains(s))
                m_inputHasSecret = true;
        }
    }

    void connected()
    {
        m_session.connected();
        after(Call::Connected);
    }

    void receive(QByteArrayView chunk)
    {
        if (tracing())
            std::fprintf(stderr, "S: %s\n", printable(chunk).constData());
        if (m_tlsPending)
            ++m_chunksInHandshake;
        m_session.receive(chunk);
        after(Call::Receive);
    }

    void tlsEstablished()
    {
        m_session.tlsEstablished();
        if (m_tlsPending) {
            m_tlsPending = false;
            m_tlsDone = true;
            m_expectEhlo = true;
        }
        after(Call::Tls);
    }

    void closed()
    {
        m_session.closed();
        after(Call::Closed);
    }

    [[nodiscard]] bool tlsPending() const { return m_tlsPending; }
    [[nodiscard]] bool manualTls() const { return m_manualTls; }
    [[nodiscard]] bool eofSent() const { return m_eofSent; }

    // True when a waiting op may run now.
    [[nodiscard]] bool ready(const Op &op) const
    {
        if (!op.waits())
            return true;
        const Session::State state = m_session.state();
        switch (op.what()) {
        case 0: return m_session.canStartTransaction();
        case 1:
        case 2:
        case 6: return state == Session::State::Ready && m_session.waitKind() == Session::WaitKind::None;
        case 3: return m_tlsPending && (!m_manualTls || m_chunksInHandshake > 0);
        case 4: {
            const Session::WaitKind k = m_session.waitKind();
            return k == Session::WaitKind::Handshake || k == Session::WaitKind::FinalReply
                || k == Session::WaitKind::Send;
        }
        case 5: return state == Session::State::Ready || state == Session::State::Quitting;
        case 7: return m_session.isStreamingBody();
        }
        return true;
    }

    void run(const Op &op)
    {
        switch (op.what()) {
        case 0: start(op); return;
        case 1:
            m_session.quit();
            after(Call::Other);
            return;
        case 2:
        case 6: {
            // True: the command was written (in Ready only); false: nothing was.
            const bool wasReady = m_session.state() == Session::State::Ready;
            const bool ok = op.what() == 2 ? m_session.noop() : m_session.reset();
            if (ok && !wasReady)
                broken("noop()/reset() accepted outside Ready");
            m_expectedWrite = ok ? (op.what() == 2 ? "NOOP" : "RSET") : "";
            after(Call::Request);
            return;
        }
        case 3:
            // The transport reports the handshake only when it was asked for one.
            if (m_tlsPending)
                tlsEstablished();
            return;
        case 4:
            // A deadline is armed only when waitKind() asks for one.
            if (m_session.waitKind() != Session::WaitKind::None) {
                m_session.deadlinePassed();
                after(Call::Deadline);
            }
            return;
        case 5:
            m_eofSent = true;
            closed();
            return;
        case 7:
            m_session.abort(QStringLiteral("cancelled by the user"));
            after(Call::Other);
            if (m_session.state() != Session::State::Failed && m_session.state() != Session::State::Closed)
                broken("abort() did not end the session");
            return;
        }
    }

    // Hands over one piece (or, with `all`, everything) of the body the session
    // asked for, then ends it, as SmtpDriver's streaming loop does.
    void pumpBody(bool all)
    {
        while (m_bodyTxn >= 0) {
            if (!m_session.isStreamingBody()) {
                m_bodyTxn = -1; // the transaction failed: the session wants no more
                return;
            }
            const TxnRecord &rec = m_txns[m_bodyTxn];
            if (m_bodyOffset < rec.body.size()) {
                const QByteArray piece = rec.body.mid(m_bodyOffset, m_pieceSize.value(m_bodyTxn, 1));
                m_bodyOffset += piece.size();
                m_session.sendBody(piece);
                after(Call::SendBody);
            } else {
                m_bodyTxn = -1;
                m_session.endBody();
                after(Call::EndBody);
            }
            if (!all)
                return;
        }
    }

    void finalChecks() const
    {
        const Session::State state = m_session.state();
        if (state != Session::State::Closed && state != Session::State::Failed)
            broken("the session is neither Closed nor Failed after EOF");
        for (auto it = m_txns.cbegin(); it != m_txns.cend(); ++it) {
            if (it->accepted + it->failed != 1)
                broken("a started transaction ended without exactly one outcome",
                       QByteArray::number(it.key()) + " accepted=" + QByteArray::number(it->accepted)
                           + " failed=" + QByteArray::number(it->failed));
        }
    }

private:
    void start(const Op &op)
    {
        const int bodyIndex = op.arg & 7;
        const int sender = (op.arg >> 3) & 3;
        Envelope env;
        env.sender = Senders.at(sender);
        env.needsSmtpUtf8 = sender == Utf8Sender;
        const int count = (((op.op >> 4) & 3) + 1) & 3; // 0 recipients: refused (MESSAGE-ERROR)
        for (int i = 0; i < count; ++i)
            env.recipients.append(Recipients.at(i));
        env.body8Bit = bodyIndex == EightBitBody;
        env.hasInlineBody = op.op & 0x40;
        if (env.hasInlineBody)
            env.inlineBody = bodyText(bodyIndex);
        if (op.op & 0x80)
            env.size = normalised(bodyText(bodyIndex)).size();

        const bool couldStart = m_session.canStartTransaction();
        const int id = m_session.startTransaction(env);
        if (id >= 0) {
            if (m_txns.contains(id) || id < m_lastId)
                broken("startTransaction() reused an id");
            m_lastId = id;
            TxnRecord rec;
            rec.body = bodyText(bodyIndex);
            rec.inlineBody = env.hasInlineBody;
            m_txns.insert(id, rec);
            m_pieceSize.insert(id, PieceSizes[op.arg >> 5]);
        } else if (id != -1) {
            broken("startTransaction() returned a bad id");
        }
        if (id >= 0 && !couldStart)
            broken("startTransaction() accepted while canStartTransaction() was false");
        after(Call::Start, id);
    }

    void checkSecretsIn(QByteArrayView text, const char *where) const
    {
        for (const QByteArray &s : m_secrets) {
            if (text.contains(s))
                broken(where, text);
        }
    }

    void checkEventText(const SessionEvent &e) const
    {
        if (m_secrets.isEmpty())
            return;
        checkSecretsIn(e.text.toUtf8(), "a secret in an event text");
        if (!m_inputHasSecret) {
            checkSecretsIn(e.error.message.toUtf8(), "a secret in an error message");
            checkSecretsIn(e.error.step.toUtf8(), "a secret in an error step");
        }
    }

    TxnRecord &record(int txn, const char *what)
    {
        auto it = m_txns.find(txn);
        if (it == m_txns.end())
            broken(what, QByteArray::number(txn));
        return *it;
    }

    // A command or data is about to go on the wire: may it, with what is in flight?
    void mayWrite(const QByteArray &what)
    {
        if (m_inFlight.empty())
            return;
        if (isGroupEnd(m_inFlight.back()))
            broken("something written after a command that must end its group, before its reply",
                   m_inFlight.back() + " then " + what);
        if (!m_session.pipeliningInUse())
            broken("a second command in flight without PIPELINING", m_inFlight.back() + " then " + what);
    }

    void after(Call call, int startResult = 0)
    {
        QByteArray shown;
        const QByteArray out = m_session.takeOutput(&shown);
        const QList<SessionEvent> events = m_session.takeEvents();
        if (call == Call::Request) {
            // noop()/reset(): exactly their command, or nothing when they said no.
            const QByteArray expected = m_expectedWrite.isEmpty() ? QByteArray() : m_expectedWrite + "\r\n";
            if (out != expected)
                broken("noop()/reset() wrote something else than their result says", out);
        }
        if (tracing()) {
            static const char *const names[] = {"connected", "receive", "tls", "closed", "deadline",
                                                "start",     "sendBody", "endBody", "other",    "request"};
            std::fprintf(stderr, "-- %s -> %s\n", names[int(call)],
                         qPrintable(Session::stateName(m_session.state())));
            if (!out.isEmpty())
                std::fprintf(stderr, "   C: %s\n", printable(out.first(qMin<qsizetype>(out.size(), 400))).constData());
            for (const SessionEvent &e : events) {
                std::fprintf(stderr, "   E: type=%d txn=%d code=%d flag=%d verb=%s text=%s %s\n", int(e.type), e.txn,
                             e.reply.code, int(e.flag), e.verb.constData(), qPrintable(e.text),
                             qPrintable(e.error.message));
            }
        }

        // takeOutput(&shown): a same-length copy with AUTH payloads masked, or empty.
        if (!shown.isEmpty()) {
            if (m_config.showSecrets)
                broken("a masked copy of the output although secrets are shown");
            if (shown.size() != out.size())
                broken("the masked copy differs in length");
            for (qsizetype i = 0; i < out.size(); ++i) {
                if (shown.at(i) != out.at(i) && shown.at(i) != '*')
                    broken("the masked copy differs by more than '*'", shown);
            }
        }
        checkSecretsIn(shown.isEmpty() ? out : shown, "a secret in the output as shown");

        if (!out.isEmpty()) {
            if (m_failed)
                broken("bytes written after a Failed event", out);
            if (m_closed)
                broken("bytes written after the session closed", out);
            if (m_tlsPending)
                broken("bytes written between StartTlsNow and tlsEstablished()", out);
        }

        bool failsNow = false;
        int refusals = 0;
        for (const SessionEvent &e : events) {
            if (e.type == Type::Failed)
                failsNow = true;
        }
        if (failsNow && !out.isEmpty())
            broken("bytes left to write by a call that failed the session", out);

        qsizetype cursor = 0;
        bool bdatPending = false;
        qsizetype bdatSize = 0;
        bool bdatLast = false;
        int bdatTxn = -1;
        bool afterStartTls = false;
        bool afterFailed = m_failed;

        for (qsizetype i = 0; i < events.size(); ++i) {
            const SessionEvent &e = events.at(i);
            checkEventText(e);
            const bool writes = e.type == Type::CommandSent || e.type == Type::DataSent;
            if (afterFailed && !(e.type == Type::TransactionFailed && e.txn == -1))
                broken("an event after Failed other than a refused start");
            if (writes && afterStartTls)
                broken("a write after StartTlsNow in the same call");

            switch (e.type) {
            case Type::CommandSent: {
                if (failsNow)
                    break; // fail() discarded these bytes
                if (bdatPending)
                    broken("a command between BDAT and its payload");
                const qsizetype lf = out.indexOf('\n', cursor);
                if (lf < 0)
                    broken("a command line without its CRLF", out.sliced(cursor));
                const QByteArray line = out.mid(cursor, lf - cursor + 1);
                cursor = lf + 1;
                if (line.size() < 2 || line.at(line.size() - 2) != '\r')
                    broken("a bare LF in a command line", line);
                const QByteArray text = line.chopped(2);
                if (text.contains('\r'))
                    broken("a bare CR in a command line", line);
                const QByteArray &verb = e.verb;
                const bool sasl = verb == "AUTH";
                // An empty SASL response is an empty line (RFC 4954 4; XOAUTH2's
                // answer to an error challenge); no command is empty.
                if (text.isEmpty() && !sasl)
                    broken("an empty command line");
                if (m_config.showSecrets || !sasl) {
                    if (e.text.toUtf8() != text)
                        broken("CommandSent text is not the line written", line);
                }
                if (!sasl && line.size() > 512)
                    broken("a command line over 512 octets (RFC 5321 4.5.3.1.4)", line);
                if (sasl && text.startsWith("AUTH ") && line.size() > 512)
                    broken("an AUTH command over 512 octets (RFC 4954 4)", line);
                const bool verbOk = verb == "MAIL FROM" ? text.startsWith("MAIL FROM:<")
                    : verb == "RCPT TO"                 ? text.startsWith("RCPT TO:<")
                    : verb == "EHLO" || verb == "HELO"  ? text.startsWith(verb + ' ')
                    : verb == "BDAT" || verb == "BDAT LAST" ? text.startsWith("BDAT ")
                    : sasl                              ? true
                                                        : text == verb;
                if (!verbOk)
                    broken("a line that does not match its verb", verb + " / " + text);
                if (m_expectEhlo) {
                    m_expectEhlo = false;
                    if (verb != "EHLO")
                        broken("the first command after the TLS handshake is not EHLO (RFC 3207 4.2)", text);
                }
                const bool encrypted = m_tlsDone || m_config.security == Smtp::Security::ImplicitTls;
                if (!encrypted && m_config.security == Smtp::Security::StartTlsRequired
                    && (sasl || verb == "MAIL FROM"))
                    broken("AUTH or MAIL before TLS although TLS is required", text);
                if (!encrypted && sasl && !m_config.allowPlaintextAuth)
                    broken("AUTH on an unencrypted connection", text);
                if (verb == "MAIL FROM" || verb == "RCPT TO" || verb == "DATA" || verb.startsWith("BDAT"))
                    (void)record(e.txn, "a transaction command for a transaction never started");
                mayWrite(verb);
                m_inFlight.push_back(verb);
                if (verb.startsWith("BDAT")) {
                    // RFC 3030 2: "BDAT" SP chunk-size [ SP end-marker ]
                    const QList<QByteArray> parts = text.split(' ');
                    bool ok = false;
                    bdatSize = parts.value(1).toLongLong(&ok);
                    bdatLast = parts.size() == 3 && parts.at(2) == "LAST";
                    if (!ok || bdatSize < 0 || parts.size() > 3 || (parts.size() == 3 && !bdatLast)
                        || bdatLast != (verb == "BDAT LAST"))
                        broken("a malformed BDAT command", text);
                    bdatPending = true;
                    bdatTxn = e.txn;
                }
                break;
            }
            case Type::DataSent: {
                if (failsNow)
                    break;
                if (e.count < 0 || cursor + e.count > out.size())
                    broken("DataSent counts bytes that were not written");
                const QByteArray bytes = out.mid(cursor, e.count);
                cursor += e.count;
                TxnRecord &rec = record(e.txn, "data for a transaction never started");
                if (bdatPending) {
                    bdatPending = false;
                    if (e.txn != bdatTxn || e.count != bdatSize)
                        broken("a BDAT payload that is not the announced size");
                    if (rec.complete)
                        broken("BDAT after BDAT LAST");
                    rec.bdat += bytes;
                    if (bdatLast) {
                        if (rec.bdat != normalised(rec.body))
                            broken("the BDAT payloads are not the message", rec.bdat);
                        rec.complete = true;
                    }
                    break;
                }
                if (rec.complete)
                    broken("message data after the end of data");
                mayWrite("message data");
                rec.wire += bytes;
                const QByteArray expected = dataWire(rec.body);
                if (!expected.startsWith(rec.wire))
                    broken("the DATA content is not the dot-stuffed message", rec.wire);
                const bool whole = rec.wire.size() == expected.size();
                if (call == Call::SendBody && whole)
                    broken("the end of data written before endBody()");
                if (call != Call::SendBody && !whole)
                    broken("the data ended without its end of data", rec.wire);
                if (whole) {
                    rec.complete = true;
                    m_inFlight.push_back("end of data");
                }
                break;
            }
            case Type::ReplyReceived: {
                if (failsNow || e.verb.isEmpty() || e.verb == "greeting")
                    break;
                if (m_inFlight.empty())
                    broken("a reply paired with a command that was never written", e.verb);
                if (m_inFlight.front() != e.verb)
                    broken("a reply paired with the wrong command", m_inFlight.front() + " / " + e.verb);
                m_inFlight.pop_front();
                if (e.verb == "DATA" && e.reply.code == 354) {
                    // RFC 5321 4.1.1.4: after 354 the session writes the body
                    // (DataSent), asks for it (BodyWanted), or, with no recipient
                    // left, ends the empty data at once with a lone "." line.
                    Type next = Type::Warning;
                    for (qsizetype j = i + 1; j < events.size(); ++j) {
                        const Type t = events.at(j).type;
                        if (t == Type::DataSent || t == Type::BodyWanted || t == Type::CommandSent
                            || t == Type::ReplyReceived) {
                            next = t;
                            break;
                        }
                    }
                    if (next != Type::DataSent && next != Type::BodyWanted) {
                        if (QByteArrayView(out).sliced(cursor).first(qMin<qsizetype>(3, out.size() - cursor))
                            != ".\r\n")
                            broken("354 answered by neither data nor an end of data", out.sliced(cursor));
                        cursor += 3;
                        TxnRecord &rec = record(e.txn, "354 for a transaction never started");
                        if (rec.accepted)
                            broken("an empty end of data for an accepted message");
                        m_inFlight.push_back("end of data");
                    }
                }
                break;
            }
            case Type::StartTlsNow:
                afterStartTls = true;
                m_tlsPending = true;
                break;
            case Type::BodyWanted: {
                TxnRecord &rec = record(e.txn, "BodyWanted for a transaction never started");
                if (rec.inlineBody)
                    broken("BodyWanted for a body given inline");
                if (m_bodyTxn >= 0)
                    broken("BodyWanted while another body is being streamed");
                if (rec.complete || !rec.wire.isEmpty() || !rec.bdat.isEmpty())
                    broken("BodyWanted twice for one transaction");
                m_bodyTxn = e.txn;
                m_bodyOffset = 0;
                break;
            }
            case Type::MessageResult: {
                TxnRecord &rec = record(e.txn, "MessageResult for a transaction never started");
                if (e.flag) {
                    if (!e.reply.isPositiveCompletion())
                        broken("a message accepted with a reply that is not 2xx");
                    if (++rec.accepted > 1)
                        broken("a message accepted twice");
                    if (rec.failed)
                        broken("a transaction both failed and accepted");
                    if (!rec.complete)
                        broken("a message accepted before its whole body was written");
                    if (++m_acceptedTotal > m_txns.size())
                        broken("more messages accepted than transactions started");
                }
                break;
            }
            case Type::TransactionFailed: {
                if (e.txn == -1) {
                    if (call != Call::Start || startResult != -1 || ++refusals > 1)
                        broken("a TransactionFailed without a transaction, not for a refused start");
                    break;
                }
                TxnRecord &rec = record(e.txn, "TransactionFailed for a transaction never started");
                if (++rec.failed > 1)
                    broken("a transaction failed twice");
                if (rec.accepted)
                    broken("a transaction both accepted and failed");
                if (e.txn == m_bodyTxn)
                    m_bodyTxn = -1;
                break;
            }
            case Type::Failed:
                afterFailed = true;
                m_failed = true;
                m_tlsPending = false;
                m_bodyTxn = -1;
                if (!e.error.isError())
                    broken("a Failed event without an error");
                break;
            case Type::QuitResult:
                break;
            default:
                break;
            }
        }
        if (call == Call::Start && startResult == -1 && refusals != 1)
            broken("a refused start without its TransactionFailed");
        if (!failsNow && bdatPending)
            broken("BDAT without its payload");
        if (!failsNow && cursor != out.size())
            broken("bytes written that no event accounts for", out.sliced(cursor));

        const Session::State state = m_session.state();
        if (m_failed && state != Session::State::Failed)
            broken("state() is not Failed after a Failed event");
        if (state == Session::State::Closed)
            m_closed = true;
        if (m_tlsPending && state != Session::State::TlsHandshake)
            broken("StartTlsNow but the session is not in TlsHandshake");
        if (m_session.repliesReceived() < m_lastReplies)
            broken("repliesReceived() went backwards");
        m_lastReplies = m_session.repliesReceived();
        if (m_session.transactionsInFlight() < 0)
            broken("transactionsInFlight() < 0");
        (void)m_session.waitKind();
        (void)Session::stateName(state);
    }

    Session m_session;
    SessionConfig m_config;
    bool m_manualTls = false;
    QList<QByteArray> m_secrets;
    bool m_inputHasSecret = false;

    QHash<int, TxnRecord> m_txns;
    QHash<int, qsizetype> m_pieceSize;
    int m_lastId = -1;
    qsizetype m_acceptedTotal = 0;
    int m_bodyTxn = -1;
    qsizetype m_bodyOffset = 0;

    std::deque<QByteArray> m_inFlight; // commands on the wire awaiting a reply, oldest first
    bool m_failed = false;
    bool m_closed = false;
    bool m_tlsPending = false;
    bool m_tlsDone = false;
    bool m_expectEhlo = false;
    bool m_eofSent = false;
    int m_chunksInHandshake = 0;
    QByteArray m_expectedWrite; // what the last noop()/reset() should have written
    quint64 m_lastReplies = 0;
};

QList<QByteArrayView> chunksOf(QByteArrayView stream, uint8_t control)
{
    QList<QByteArrayView> chunks;
    const int mode = control & 3;
    const int p = control >> 2;
    auto lineEnd = [&](qsizetype from) {
        const qsizetype lf = stream.indexOf('\n', from);
        return lf < 0 ? stream.size() : lf + 1;
    };
    qsizetype from = 0;
    while (from < stream.size()) {
        qsizetype to = from;
        switch (mode) {
        case 0:
            to = lineEnd(from);
            break;
        case 1:
            to = qMin(stream.size(), from + p + 1);
            break;
        case 2:
            for (int n = 0; n < p % 4 + 2 && to < stream.size(); ++n)
                to = lineEnd(to);
            break;
        default: {
            to = lineEnd(from);
            const qsizetype cut = from + p;
            if (cut > from && cut < to) {
                chunks.append(stream.sliced(from, cut - from));
                from = cut;
            }
            break;
        }
        }
        chunks.append(stream.sliced(from, to - from));
        from = to;
    }
    return chunks;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    constexpr size_t Header = 5;
    if (size < Header)
        return 0;
    const uint8_t cfg = data[0];
    const uint8_t auth = data[1];
    const uint8_t split = data[2];
    const bool interleaveBody = data[3] & 1;
    const bool longCredentials = data[3] & 2;
    const size_t opCount = data[4] % 17;
    if (size < Header + 2 * opCount)
        return 0;
    QList<Op> ops;
    for (size_t i = 0; i < opCount; ++i)
        ops.append(Op{data[Header + 2 * i], data[Header + 1 + 2 * i]});
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const QByteArrayView stream = input.sliced(qsizetype(Header + 2 * opCount));

    SessionConfig config;
    config.security = static_cast<Smtp::Security>(cfg & 3);
    config.usePipelining = !(cfg & 4);
    config.useChunking = !(cfg & 8);
    config.showSecrets = cfg & 0x10;
    config.allowPlaintextAuth = cfg & 0x20;
    if (cfg & 0x80)
        config.ehloName = QStringLiteral("client.example.test");
    const int creds = auth & 3;
    config.useCredentials = creds != 0;
    config.credentials.user = QString::fromLatin1(longCredentials ? LongUser : User);
    if (creds & 1)
        config.credentials.password = QString::fromLatin1(longCredentials ? LongPassword : Password);
    if (creds & 2)
        config.credentials.oauthToken = longCredentials ? LongToken : Token;
    config.credentials.host = QStringLiteral("mx.example.test");
    config.credentials.port = 587;
    config.forcedMechanism = Mechanisms.at((auth >> 2) & 7);
    config.bdatChunkSize = BdatSizes[auth >> 5];

    Harness h(config, cfg & 0x40, input);
    h.connected();
    qsizetype next = 0;
    for (const QByteArrayView chunk : chunksOf(stream, split)) {
        h.pumpBody(!interleaveBody);
        while (next < ops.size() && h.ready(ops.at(next)))
            h.run(ops.at(next++));
        if (h.eofSent())
            break; // the connection is gone: nothing more arrives
        if (h.tlsPending() && !h.manualTls())
            h.tlsEstablished(); // the handshake completes before more application data
        h.receive(chunk);
    }
    while (next < ops.size())
        h.run(ops.at(next++));
    if (!interleaveBody)
        h.pumpBody(true); // else the server hangs up in the middle of the data
    if (h.tlsPending())
        h.tlsEstablished();
    h.closed();
    h.finalChecks();
    return 0;
}
