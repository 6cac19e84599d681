#pragma once
// Transcript harness for the sans-I/O SMTP session (STYLE.md "Tests").
//
// A script is a list of lines, one fact or expectation each:
//   S: <text>   the server sends <text> + CRLF. Consecutive S lines form ONE chunk
//               (one receive() call in the whole replay).
//   S= <text>   the same without the CRLF (a partial line, a bare LF, ...).
//   C: <text>   the client must have written <text> + CRLF; consecutive C lines are
//               one block, compared with everything written since the last check.
//   C= <text>   the same without the CRLF (BDAT payloads).
//   E: <Type> [positional...] [key=value] [key~substring]
//               the next event of that type, in order. Every event except the
//               chatty ones (StateChanged, CommandSent, DataSent, ReplyReceived)
//               must be listed: an unlisted one fails the script.
//   ! <fact or request>
//               connected, tls, eof, deadline, gap (separates two S chunks),
//               start <envelope>, body <text>, endbody, quit, noop, rset,
//               abort <why>, expect <key=value...> (session getters).
// Text after S:, S=, C:, C= and in body/quoted values understands the escapes
// \r \n \t \0 \\ \" \xHH. A line starting with # is a comment.
//
// The written bytes are compared at each check point: before every server chunk,
// at the end of every C block and at the end of the script. So "nothing may be
// written here" is said by not writing a C line.
//
// run() replays a script once, feeding each server chunk whole, split in two at a
// given offset, or byte by byte; the test compares the replays (h11's fuzz
// invariant: the protocol outcome must not depend on how TCP cut the bytes).

#include "../scriptescapes.h"
#include "protocol/smtpsession.h"

#include <QByteArray>
#include <algorithm>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>
#include <utility>

namespace SessionTranscript {

using Smtp::Envelope;
using Smtp::Session;
using Smtp::SessionConfig;
using Smtp::SessionEvent;

// ---------------------------------------------------------------- text helpers

using ScriptEscapes::decodeEscapes;
using ScriptEscapes::printable;

// "key=value", "key~value", or a positional value; values may be "quoted".
struct Token
{
    QString key;  // empty for a positional value
    QChar op;     // '=' exact, '~' contains
    QString value;
};

inline QList<Token> tokenize(QStringView s, QString *error)
{
    QList<Token> out;
    qsizetype i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == u' ')
            ++i;
        if (i >= s.size())
            break;
        Token t;
        if (s[i] != u'"') {
            qsizetype j = i;
            while (j < s.size() && s[j] != u' ' && s[j] != u'=' && s[j] != u'~' && s[j] != u'"')
                ++j;
            if (j > i && j < s.size() && (s[j] == u'=' || s[j] == u'~')) {
                t.key = s.mid(i, j - i).toString();
                t.op = s[j];
                i = j + 1;
            }
        }
        if (i < s.size() && s[i] == u'"') {
            ++i;
            QString v;
            while (i < s.size() && s[i] != u'"') {
                if (s[i] == u'\\' && i + 1 < s.size() && s[i + 1] == u'"') {
                    v += u'"';
                    i += 2;
                    continue;
                }
                v += s[i++];
            }
            if (i >= s.size()) {
                *error = QStringLiteral("unterminated quote");
                return {};
            }
            ++i;
            t.value = v;
        } else {
            qsizetype k = i;
            while (k < s.size() && s[k] != u' ')
                ++k;
            t.value = s.mid(i, k - i).toString();
            i = k;
        }
        out.append(t);
    }
    return out;
}

// ---------------------------------------------------------------- events

inline constexpr SessionEvent::Type AllTypes[] = {
    SessionEvent::Type::StateChanged,   SessionEvent::Type::CommandSent,     SessionEvent::Type::DataSent,
    SessionEvent::Type::ReplyReceived,  SessionEvent::Type::Greeting,        SessionEvent::Type::Capabilities,
    SessionEvent::Type::StartTlsNow,    SessionEvent::Type::AuthAttempt,     SessionEvent::Type::Ready,
    SessionEvent::Type::SenderResult,   SessionEvent::Type::RecipientResult, SessionEvent::Type::BodyWanted,
    SessionEvent::Type::MessageResult,  SessionEvent::Type::TransactionFailed, SessionEvent::Type::NoopResult,
    SessionEvent::Type::ResetResult,    SessionEvent::Type::QuitResult,      SessionEvent::Type::Warning,
    SessionEvent::Type::Failed,
};

inline QString typeName(SessionEvent::Type t)
{
    using T = SessionEvent::Type;
    switch (t) {
    case T::StateChanged: return QStringLiteral("StateChanged");
    case T::CommandSent: return QStringLiteral("CommandSent");
    case T::DataSent: return QStringLiteral("DataSent");
    case T::ReplyReceived: return QStringLiteral("ReplyReceived");
    case T::Greeting: return QStringLiteral("Greeting");
    case T::Capabilities: return QStringLiteral("Capabilities");
    case T::StartTlsNow: return QStringLiteral("StartTlsNow");
    case T::AuthAttempt: return QStringLiteral("AuthAttempt");
    case T::Ready: return QStringLiteral("Ready");
    case T::SenderResult: return QStringLiteral("SenderResult");
    case T::RecipientResult: return QStringLiteral("RecipientResult");
    case T::BodyWanted: return QStringLiteral("BodyWanted");
    case T::MessageResult: return QStringLiteral("MessageResult");
    case T::TransactionFailed: return QStringLiteral("TransactionFailed");
    case T::NoopResult: return QStringLiteral("NoopResult");
    case T::ResetResult: return QStringLiteral("ResetResult");
    case T::QuitResult: return QStringLiteral("QuitResult");
    case T::Warning: return QStringLiteral("Warning");
    case T::Failed: return QStringLiteral("Failed");
    }
    return QStringLiteral("?");
}

// Events a script may leave out: they restate what the C: and S: lines show.
inline bool isChatty(SessionEvent::Type t)
{
    using T = SessionEvent::Type;
    return t == T::StateChanged || t == T::CommandSent || t == T::DataSent || t == T::ReplyReceived;
}

// Every observable field of an event, in a fixed order.
inline QList<std::pair<QString, QString>> eventFields(const SessionEvent &e)
{
    return {
        {QStringLiteral("txn"), QString::number(e.txn)},
        {QStringLiteral("index"), QString::number(e.index)},
        {QStringLiteral("code"), QString::number(e.reply.code)},
        {QStringLiteral("enh"), e.reply.enhanced.toString()},
        {QStringLiteral("rtext"), printable(e.reply.text())},
        {QStringLiteral("raw"), printable(e.reply.raw)},
        {QStringLiteral("verb"), QString::fromLatin1(e.verb)},
        {QStringLiteral("text"), e.text},
        {QStringLiteral("count"), QString::number(e.count)},
        {QStringLiteral("flag"), e.flag ? QStringLiteral("1") : QStringLiteral("0")},
        {QStringLiteral("ecode"), e.error.code},
        {QStringLiteral("cat"), SmtpError::categoryName(e.error.category)},
        {QStringLiteral("step"), e.error.step},
        {QStringLiteral("msg"), e.error.message},
        {QStringLiteral("rcode"), QString::number(e.error.replyCode)},
        {QStringLiteral("eenh"), e.error.enhancedCode},
        {QStringLiteral("etext"), printable(e.error.serverText)},
    };
}

inline QString describe(const SessionEvent &e)
{
    QString s = typeName(e.type);
    for (const auto &[key, value] : eventFields(e)) {
        // Defaults are left out to keep failure messages short.
        if (value.isEmpty() || ((key == u"txn" || key == u"index") && value == u"-1")
            || ((key == u"code" || key == u"count" || key == u"flag" || key == u"rcode") && value == u"0")
            || (key == u"cat" && value == u"none"))
            continue;
        s += QStringLiteral(" %1=\"%2\"").arg(key, value);
    }
    return s;
}

// What the unnamed values of an E: line mean, per type.
inline QStringList positionalKeys(SessionEvent::Type t)
{
    using T = SessionEvent::Type;
    switch (t) {
    case T::Failed: return {QStringLiteral("ecode"), QStringLiteral("step")};
    case T::TransactionFailed: return {QStringLiteral("txn"), QStringLiteral("ecode"), QStringLiteral("step")};
    case T::SenderResult: return {QStringLiteral("code")};
    case T::RecipientResult: return {QStringLiteral("index"), QStringLiteral("code")};
    case T::MessageResult: return {QStringLiteral("flag"), QStringLiteral("code")};
    case T::AuthAttempt: return {QStringLiteral("text"), QStringLiteral("code")};
    case T::Greeting:
    case T::NoopResult:
    case T::ResetResult:
    case T::QuitResult: return {QStringLiteral("code")};
    case T::Capabilities: return {QStringLiteral("code"), QStringLiteral("flag")};
    case T::CommandSent:
    case T::StateChanged:
    case T::Warning: return {QStringLiteral("text")};
    case T::BodyWanted: return {QStringLiteral("txn")};
    case T::DataSent: return {QStringLiteral("count")};
    case T::ReplyReceived: return {QStringLiteral("code"), QStringLiteral("verb")};
    case T::StartTlsNow:
    case T::Ready: return {};
    }
    return {};
}

struct Condition
{
    QString key;
    QChar op;
    QString value;
};

struct Expectation
{
    SessionEvent::Type type = SessionEvent::Type::Warning;
    QList<Condition> conditions;
};

inline bool parseExpectation(QStringView text, Expectation *x, QString *error)
{
    const QList<Token> tokens = tokenize(text, error);
    if (!error->isEmpty())
        return false;
    if (tokens.isEmpty() || !tokens.first().key.isEmpty()) {
        *error = QStringLiteral("an E: line starts with an event type");
        return false;
    }
    bool found = false;
    for (const SessionEvent::Type t : AllTypes) {
        if (typeName(t) == tokens.first().value) {
            x->type = t;
            found = true;
        }
    }
    if (!found) {
        *error = QStringLiteral("unknown event type %1").arg(tokens.first().value);
        return false;
    }
    QStringList known;
    for (const auto &f : eventFields(SessionEvent()))
        known.append(f.first);
    const QStringList positional = positionalKeys(x->type);
    qsizetype next = 0;
    for (qsizetype i = 1; i < tokens.size(); ++i) {
        Condition c{tokens[i].key, tokens[i].op, tokens[i].value};
        if (c.key.isEmpty()) {
            if (next >= positional.size()) {
                *error = QStringLiteral("too many values for %1").arg(typeName(x->type));
                return false;
            }
            c.key = positional[next++];
            c.op = u'=';
        }
        if (!known.contains(c.key)) {
            *error = QStringLiteral("unknown event field %1").arg(c.key);
            return false;
        }
        if (c.key == u"flag") {
            // Readable words for the flag: MessageResult accepted, Capabilities tls, ...
            static const QStringList yes = {QStringLiteral("accepted"), QStringLiteral("ok"), QStringLiteral("tls"),
                                            QStringLiteral("yes"), QStringLiteral("1")};
            static const QStringList no = {QStringLiteral("rejected"), QStringLiteral("fail"), QStringLiteral("plain"),
                                           QStringLiteral("no"), QStringLiteral("0")};
            if (yes.contains(c.value))
                c.value = QStringLiteral("1");
            else if (no.contains(c.value))
                c.value = QStringLiteral("0");
            else {
                *error = QStringLiteral("bad flag word %1").arg(c.value);
                return false;
            }
        }
        x->conditions.append(c);
    }
    return true;
}

inline bool matches(const SessionEvent &e, const Expectation &x)
{
    if (e.type != x.type)
        return false;
    const auto fields = eventFields(e);
    for (const Condition &c : x.conditions) {
        for (const auto &[key, value] : fields) {
            if (key != c.key)
                continue;
            if (c.op == u'~' ? !value.contains(c.value) : value != c.value)
                return false;
        }
    }
    return true;
}

// ---------------------------------------------------------------- scripts

struct Line
{
    enum class Kind { Server, Client, Event, Action };
    Kind kind = Kind::Action;
    int number = 0;       // 1-based line in the script
    QString source;       // as written, for messages
    QByteArray bytes;     // Server, Client, and "! body"
    Expectation expect;   // Event
    QString verb;         // Action
    QString rest;         // Action: text after the verb
    QList<Token> tokens;  // Action
    Envelope envelope;    // "! start"
    int expectedId = 0;   // "! start ret=": -2 means "any id >= 0"
    bool expectedOk = true; // "! noop" / "! rset" / "! quit" ret=
    bool checkOk = false;   // ret= given (noop and rset are always checked)
};

struct Script
{
    QList<Line> lines;
    qsizetype longestChunk = 0;
};

inline bool parseStart(Line *line, QString *error)
{
    Envelope &env = line->envelope;
    line->expectedId = -2;
    bool haveFrom = false;
    bool haveTo = false;
    for (const Token &t : std::as_const(line->tokens)) {
        if (t.key == u"from") {
            env.sender = t.value.toUtf8();
            haveFrom = true;
        } else if (t.key == u"to") {
            haveTo = true;
            if (!t.value.isEmpty()) {
                for (const QString &r : t.value.split(u','))
                    env.recipients.append(r.toUtf8());
            }
        } else if (t.key == u"size") {
            env.size = t.value.toLongLong();
        } else if (t.key.isEmpty() && t.value == u"8bit") {
            env.body8Bit = true;
        } else if (t.key.isEmpty() && t.value == u"utf8") {
            env.needsSmtpUtf8 = true;
        } else if (t.key == u"body") {
            env.hasInlineBody = true;
            env.inlineBody = decodeEscapes(t.value, error);
        } else if (t.key == u"ret") {
            line->expectedId = t.value.toInt();
        } else {
            *error = QStringLiteral("unknown start argument %1").arg(t.key.isEmpty() ? t.value : t.key);
            return false;
        }
    }
    if (!haveFrom || !haveTo)
        *error = QStringLiteral("start needs from= and to=");
    return error->isEmpty();
}

inline Script parseScript(const QString &text, QString *error)
{
    static const QStringList verbs = {
        QStringLiteral("connected"), QStringLiteral("tls"),     QStringLiteral("eof"),
        QStringLiteral("deadline"),  QStringLiteral("gap"),     QStringLiteral("start"),
        QStringLiteral("body"),      QStringLiteral("endbody"), QStringLiteral("quit"),
        QStringLiteral("noop"),      QStringLiteral("rset"),    QStringLiteral("abort"),
        QStringLiteral("expect"),
    };
    Script script;
    const QStringList rawLines = text.split(u'\n');
    for (int n = 0; n < rawLines.size(); ++n) {
        QStringView l = rawLines[n];
        while (!l.isEmpty() && (l.front() == u' ' || l.front() == u'\t'))
            l = l.sliced(1);
        if (l.isEmpty() || l.front() == u'#')
            continue;
        const auto fail = [&](const QString &why) {
            *error = QStringLiteral("script line %1 \"%2\": %3").arg(n + 1).arg(l.toString(), why);
            return Script();
        };
        Line line;
        line.number = n + 1;
        line.source = l.toString();
        const QStringView head = l.first(std::min<qsizetype>(2, l.size()));
        if (head == u"S:" || head == u"S=" || head == u"C:" || head == u"C=") {
            QStringView body = l.sliced(2);
            if (body.startsWith(u' '))
                body = body.sliced(1);
            line.kind = head.front() == u'S' ? Line::Kind::Server : Line::Kind::Client;
            line.bytes = decodeEscapes(body, error);
            if (!error->isEmpty())
                return fail(*error);
            if (head.back() == u':')
                line.bytes.append("\r\n");
            // One server write / one client block.
            if (!script.lines.isEmpty() && script.lines.last().kind == line.kind) {
                script.lines.last().bytes.append(line.bytes);
                continue;
            }
        } else if (head == u"E:") {
            line.kind = Line::Kind::Event;
            if (!parseExpectation(l.sliced(2), &line.expect, error))
                return fail(*error);
        } else if (head.front() == u'!') {
            line.kind = Line::Kind::Action;
            QStringView body = l.sliced(1).trimmed();
            const qsizetype space = body.indexOf(u' ');
            line.verb = (space < 0 ? body : body.first(space)).toString();
            line.rest = space < 0 ? QString() : body.sliced(space + 1).toString();
            if (!verbs.contains(line.verb))
                return fail(QStringLiteral("unknown action"));
            if (line.verb == u"body") {
                line.bytes = decodeEscapes(line.rest, error);
                if (!error->isEmpty())
                    return fail(*error);
            } else if (line.verb != u"abort") {
                line.tokens = tokenize(line.rest, error);
                if (!error->isEmpty())
                    return fail(*error);
            }
            if (line.verb == u"start" && !parseStart(&line, error))
                return fail(*error);
            if (line.verb == u"noop" || line.verb == u"rset" || line.verb == u"quit") {
                for (const Token &t : std::as_const(line.tokens)) {
                    if (t.key != u"ret")
                        return fail(QStringLiteral("only ret= is known here"));
                    line.expectedOk = t.value == u"true";
                    line.checkOk = true;
                }
            }
        } else {
            return fail(QStringLiteral("a line starts with S:, S=, C:, C=, E: or !"));
        }
        script.lines.append(line);
    }
    for (const Line &line : std::as_const(script.lines)) {
        if (line.kind == Line::Kind::Server)
            script.longestChunk = std::max(script.longestChunk, line.bytes.size());
    }
    return script;
}

// ---------------------------------------------------------------- row options

struct Options
{
    SessionConfig config;
    // The STARTTLS injection race: when a split delivers the injected bytes only
    // after the 220 was handled, the session is in TlsHandshake and may not look at
    // them (the TLS layer will). Those replays must write nothing more and end in
    // TlsHandshake; the events are checked on the whole-chunk replay only.
    bool injectionRace = false;
    // Outcome decided by how bytes were cut (data the server sent too early in the
    // same segment as a reply): only the whole-chunk replay is checked.
    bool wholeChunkOnly = false;
    // Strings that must not appear in any event (secrets when showSecrets is off).
    QList<QString> secrets;
};

inline Options parseOptions(const QString &text, QString *error)
{
    Options o;
    SessionConfig &c = o.config;
    const QList<Token> tokens = tokenize(text, error);
    for (const Token &t : tokens) {
        const QString key = t.key.isEmpty() ? t.value : t.key;
        if (key == u"tls") {
            if (t.value == u"none")
                c.security = Smtp::Security::Plain;
            else if (t.value == u"opportunistic")
                c.security = Smtp::Security::StartTlsOpportunistic;
            else if (t.value == u"required")
                c.security = Smtp::Security::StartTlsRequired;
            else if (t.value == u"implicit")
                c.security = Smtp::Security::ImplicitTls;
            else
                *error = QStringLiteral("bad tls mode %1").arg(t.value);
        } else if (key == u"user") {
            c.useCredentials = true;
            c.credentials.user = t.value;
        } else if (key == u"pass") {
            c.useCredentials = true;
            c.credentials.password = t.value;
        } else if (key == u"token") {
            c.useCredentials = true;
            c.credentials.oauthToken = t.value.toUtf8();
        } else if (key == u"mech") {
            c.forcedMechanism = t.value;
        } else if (key == u"plainauth") {
            c.allowPlaintextAuth = true;
        } else if (key == u"pipelining") {
            c.usePipelining = t.value != u"off";
        } else if (key == u"chunking") {
            c.useChunking = t.value != u"off";
        } else if (key == u"secrets") {
            c.showSecrets = true;
        } else if (key == u"bdat") {
            c.bdatChunkSize = t.value.toLongLong();
        } else if (key == u"ehlo") {
            c.ehloName = t.value;
        } else if (key == u"injection-race") {
            o.injectionRace = true;
        } else if (key == u"whole-chunk-only") {
            o.wholeChunkOnly = true;
        } else {
            *error = QStringLiteral("unknown config %1").arg(key);
        }
    }
    if (c.useCredentials && !c.showSecrets) {
        const SessionConfig &k = c;
        const QByteArray user = k.credentials.user.toUtf8();
        const QByteArray pass = k.credentials.password.toUtf8();
        if (!pass.isEmpty()) {
            // The password itself, alone in base64 (LOGIN), and inside PLAIN's message.
            o.secrets << QString::fromUtf8(pass) << QString::fromLatin1(pass.toBase64())
                      << QString::fromLatin1(QByteArray('\0' + user + '\0' + pass).toBase64());
        }
        if (!k.credentials.oauthToken.isEmpty())
            o.secrets << QString::fromUtf8(k.credentials.oauthToken);
    }
    return o;
}

// ---------------------------------------------------------------- replay

struct Replay
{
    enum class Mode { Whole, Split, Bytewise };
    Mode mode = Mode::Whole;
    qsizetype at = 0; // Split: every chunk longer than this is cut here

    [[nodiscard]] QString name() const
    {
        switch (mode) {
        case Mode::Whole: return QStringLiteral("whole chunks");
        case Mode::Split: return QStringLiteral("chunks split at byte %1").arg(at);
        case Mode::Bytewise: return QStringLiteral("byte by byte");
        }
        return {};
    }
};

struct Outcome
{
    QStringList outputFailures; // C: lines not matched
    QStringList otherFailures;  // E: lines, ! expectations, request results
    QStringList transcript;     // every event and every write, in order
    QList<SessionEvent> events;
    Session::State finalState = Session::State::Connecting;

    [[nodiscard]] bool sawEvent(SessionEvent::Type t) const
    {
        return std::any_of(events.begin(), events.end(), [t](const SessionEvent &e) { return e.type == t; });
    }
    [[nodiscard]] QStringList failures() const { return outputFailures + otherFailures; }
};

inline QString waitName(Session::WaitKind k)
{
    switch (k) {
    case Session::WaitKind::None: return QStringLiteral("None");
    case Session::WaitKind::Reply: return QStringLiteral("Reply");
    case Session::WaitKind::FinalReply: return QStringLiteral("FinalReply");
    case Session::WaitKind::Handshake: return QStringLiteral("Handshake");
    case Session::WaitKind::Send: return QStringLiteral("Send");
    }
    return {};
}

// Checks one "! expect" key against the session; returns a failure text or "".
inline QString checkExpect(const Session &s, const Token &t)
{
    const auto boolText = [](bool b) { return b ? QStringLiteral("1") : QStringLiteral("0"); };
    QString actual;
    if (t.key == u"state")
        actual = Session::stateName(s.state());
    else if (t.key == u"wait")
        actual = waitName(s.waitKind());
    else if (t.key == u"encrypted")
        actual = boolText(s.isEncrypted());
    else if (t.key == u"authenticated")
        actual = boolText(s.isAuthenticated());
    else if (t.key == u"helo")
        actual = boolText(s.usedHelo());
    else if (t.key == u"streaming")
        actual = boolText(s.isStreamingBody());
    else if (t.key == u"pipelining")
        actual = boolText(s.pipeliningInUse());
    else if (t.key == u"chunking")
        actual = boolText(s.chunkingInUse());
    else if (t.key == u"mech")
        actual = s.authMechanism();
    else if (t.key == u"authmechs")
        actual = s.capabilities().authMechanisms().join(u' ');
    else if (t.key == u"greeting")
        actual = QString::number(s.greeting().code);
    else if (t.key == u"cap+" || t.key == u"cap-" || t.key == u"precap+" || t.key == u"precap-") {
        const Smtp::Capabilities &caps = t.key.startsWith(u"pre") ? s.capabilitiesBeforeTls() : s.capabilities();
        const bool want = t.key.endsWith(u'+');
        if (caps.has(t.value.toLatin1()) != want)
            return QStringLiteral("%1 %2 %3").arg(t.key.startsWith(u"pre") ? u"capabilities before TLS"
                                                                             : u"capabilities",
                                                  want ? u"lack" : u"have", t.value);
        return {};
    } else
        return QStringLiteral("unknown expect key %1").arg(t.key);
    if (actual != t.value)
        return QStringLiteral("%1 is \"%2\", expected \"%3\"").arg(t.key, actual, t.value);
    return {};
}

inline Outcome run(const Script &script, const Options &options, Replay replay)
{
    Session session(options.config);
    Outcome out;
    QByteArray written;
    QByteArray expected;
    qsizetype cursor = 0; // first event not yet accounted for by an E: line

    const auto where = [](const Line &l) { return QStringLiteral("line %1 \"%2\"").arg(l.number).arg(l.source); };
    // What a driver does after every call: take the bytes and the events.
    const auto collect = [&] {
        written += session.takeOutput();
        const QList<SessionEvent> events = session.takeEvents();
        for (const SessionEvent &e : events) {
            out.events.append(e);
            out.transcript.append(describe(e));
        }
    };
    const auto checkpoint = [&](const QString &at) {
        collect();
        if (written != expected) {
            out.outputFailures.append(QStringLiteral("%1: the client wrote \"%2\"\n    expected \"%3\"")
                                          .arg(at, printable(written), printable(expected)));
        }
        if (!written.isEmpty())
            out.transcript.append(QStringLiteral("C: ") + printable(written));
        written.clear();
        expected.clear();
    };
    const auto feed = [&](QByteArrayView chunk) {
        switch (replay.mode) {
        case Replay::Mode::Whole:
            session.receive(chunk);
            collect();
            break;
        case Replay::Mode::Split:
            if (replay.at > 0 && replay.at < chunk.size()) {
                session.receive(chunk.first(replay.at));
                collect();
                session.receive(chunk.sliced(replay.at));
                collect();
            } else {
                session.receive(chunk);
                collect();
            }
            break;
        case Replay::Mode::Bytewise:
            for (qsizetype i = 0; i < chunk.size(); ++i) {
                session.receive(chunk.sliced(i, 1));
                collect();
            }
            break;
        }
    };

    for (qsizetype i = 0; i < script.lines.size(); ++i) {
        const Line &line = script.lines[i];
        switch (line.kind) {
        case Line::Kind::Server:
            checkpoint(QStringLiteral("before ") + where(line));
            feed(line.bytes);
            break;
        case Line::Kind::Client:
            expected += line.bytes;
            checkpoint(where(line));
            break;
        case Line::Kind::Event: {
            collect();
            qsizetype k = cursor;
            bool found = false;
            for (; k < out.events.size(); ++k) {
                const SessionEvent &e = out.events[k];
                if (matches(e, line.expect)) {
                    found = true;
                    break;
                }
                if (!isChatty(e.type)) {
                    out.otherFailures.append(QStringLiteral("%1: first came the unlisted event %2")
                                                 .arg(where(line), describe(e)));
                    break;
                }
            }
            if (found) {
                cursor = k + 1;
            } else if (k >= out.events.size()) {
                QStringList since;
                for (qsizetype j = cursor; j < out.events.size(); ++j)
                    since.append(QStringLiteral("      ") + describe(out.events[j]));
                out.otherFailures.append(QStringLiteral("%1: no such event; the events since the last match:\n%2")
                                             .arg(where(line), since.join(u'\n')));
            }
            break;
        }
        case Line::Kind::Action: {
            const QString &v = line.verb;
            if (v == u"connected") {
                session.connected();
            } else if (v == u"tls") {
                session.tlsEstablished();
            } else if (v == u"eof") {
                session.closed();
            } else if (v == u"deadline") {
                session.deadlinePassed();
            } else if (v == u"gap") {
                // only separates two server chunks
            } else if (v == u"start") {
                const int id = session.startTransaction(line.envelope);
                const bool ok = line.expectedId == -2 ? id >= 0 : id == line.expectedId;
                if (!ok)
                    out.otherFailures.append(QStringLiteral("%1: startTransaction() returned %2").arg(where(line)).arg(id));
                out.transcript.append(QStringLiteral("start -> %1").arg(id));
            } else if (v == u"body") {
                session.sendBody(line.bytes);
            } else if (v == u"endbody") {
                session.endBody();
            } else if (v == u"noop" || v == u"rset" || v == u"quit") {
                const bool ok = v == u"noop" ? session.noop() : v == u"rset" ? session.reset() : session.quit();
                if ((line.checkOk || v != u"quit") && ok != line.expectedOk)
                    out.otherFailures.append(QStringLiteral("%1: returned %2").arg(where(line)).arg(ok));
            } else if (v == u"abort") {
                session.abort(line.rest);
            } else if (v == u"expect") {
                collect();
                for (const Token &t : line.tokens) {
                    const QString f = checkExpect(session, t);
                    if (!f.isEmpty())
                        out.otherFailures.append(QStringLiteral("%1: %2").arg(where(line), f));
                }
            }
            collect();
            break;
        }
        }
    }
    checkpoint(QStringLiteral("at the end of the script"));
    for (qsizetype j = cursor; j < out.events.size(); ++j) {
        if (!isChatty(out.events[j].type))
            out.otherFailures.append(QStringLiteral("after the last E: line, the unlisted event %1")
                                         .arg(describe(out.events[j])));
    }
    out.finalState = session.state();
    return out;
}

} // namespace SessionTranscript
