#pragma once
// Transcript harness for the capture server's sans-I/O session
// (core/capture/serversession.h): the mirror image of tests/unit/session's
// harness for the client. Here the script plays the client.
//
// A script is a list of lines, one fact or expectation each:
//   C: <text>   the client sends <text> + CRLF. Consecutive C lines form ONE chunk
//               (one receive() call in the whole replay: a pipelined batch).
//   C= <text>   the same without the CRLF.
//   S: <text>   the server must have written <text> + CRLF. Written bytes are
//               compared at each check point (before each client chunk, at every
//               A: and ! line, and at the end): everything written since the last
//               check point must equal the S: lines since then.
//   A: <Kind> [args]
//               the next action other than Write and MessageData, in order:
//               Delay MS | StartTls | Close | MessageBegin FROM [RCPT,RCPT...] |
//               MessageEnd | MessageAbort | Authenticated USER.
//               Every such action must be listed.
//   D: <text>   message bytes (MessageData) expected, + CRLF; D= without CRLF.
//               Compared at the next A: MessageEnd and at the end; at A: MessageAbort
//               the data so far is dropped unchecked (how much of a refused message
//               was handed out before the abort depends on how the bytes arrived).
//   ! <request> start, tls, now MS, stored ok ID, stored fail TEXT, gap (only
//               separates two client chunks), expect closed=0|1 encrypted=0|1.
// Text after C:, C=, S:, D:, D= understands \r \n \t \0 \\ \xHH. A line starting
// with # is a comment; leading blanks are ignored.
//
// run() replays a script with each client chunk fed whole, split in two at a
// given offset, or byte by byte: the outcome must not depend on how TCP cut the
// bytes (python-hyper/h11's fuzz invariant).

#include "../scriptescapes.h"
#include "capture/serversession.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <memory>

namespace ServerTranscript {

using Capture::Fault;
using Capture::FaultState;
using Capture::ServerAction;
using Capture::ServerConfig;
using Capture::ServerSession;

using ScriptEscapes::decodeEscapes;
using ScriptEscapes::printable;

inline QString kindName(ServerAction::Kind k)
{
    using K = ServerAction::Kind;
    switch (k) {
    case K::Write: return QStringLiteral("Write");
    case K::Delay: return QStringLiteral("Delay");
    case K::StartTls: return QStringLiteral("StartTls");
    case K::Close: return QStringLiteral("Close");
    case K::MessageBegin: return QStringLiteral("MessageBegin");
    case K::MessageData: return QStringLiteral("MessageData");
    case K::MessageEnd: return QStringLiteral("MessageEnd");
    case K::MessageAbort: return QStringLiteral("MessageAbort");
    case K::Authenticated: return QStringLiteral("Authenticated");
    }
    return QStringLiteral("?");
}

// The action as an A: line would say it.
inline QString describe(const ServerAction &a)
{
    using K = ServerAction::Kind;
    switch (a.kind) {
    case K::Delay: return QStringLiteral("Delay %1").arg(a.ms);
    case K::MessageBegin:
        return a.recipients.isEmpty() ? QStringLiteral("MessageBegin %1").arg(a.from)
                                      : QStringLiteral("MessageBegin %1 %2").arg(a.from, a.recipients.join(u','));
    case K::Authenticated: return QStringLiteral("Authenticated %1").arg(a.user);
    case K::Write:
    case K::MessageData: return kindName(a.kind) + QStringLiteral(" \"") + printable(a.bytes) + u'"';
    default: return kindName(a.kind);
    }
}

struct Line
{
    enum class Kind { Client, Server, Action, Data, Request };
    Kind kind = Kind::Request;
    int number = 0;
    QString source;
    QByteArray bytes;   // Client, Server, Data
    QString text;       // Action: the expected description; Request: the request
    bool chunkStart = false; // Client: the first line of a chunk
};

struct Script
{
    QList<Line> lines;
    QString error;
};

inline Script parse(const QString &text)
{
    Script s;
    const QStringList rows = text.split(u'\n');
    bool previousClient = false;
    for (qsizetype i = 0; i < rows.size(); ++i) {
        const QString row = rows[i].trimmed();
        if (row.isEmpty() || row.startsWith(u'#'))
            continue;
        Line l;
        l.number = int(i + 1);
        l.source = row;
        const QString tag = row.left(2);
        const QString rest = row.size() > 3 ? row.mid(3) : QString();
        QString err;
        if (tag == u"C:" || tag == u"C=" || tag == u"S:" || tag == u"D:" || tag == u"D=") {
            l.bytes = decodeEscapes(rest, &err);
            if (tag.endsWith(u':'))
                l.bytes += "\r\n";
            l.kind = tag[0] == u'C' ? Line::Kind::Client : tag[0] == u'S' ? Line::Kind::Server : Line::Kind::Data;
        } else if (tag == u"A:") {
            l.kind = Line::Kind::Action;
            l.text = rest.trimmed();
        } else if (row.startsWith(u'!')) {
            l.kind = Line::Kind::Request;
            l.text = row.mid(1).trimmed();
        } else {
            err = QStringLiteral("unknown line kind");
        }
        if (!err.isEmpty()) {
            s.error = QStringLiteral("line %1 \"%2\": %3").arg(l.number).arg(row, err);
            return s;
        }
        l.chunkStart = l.kind == Line::Kind::Client && !previousClient;
        previousClient = l.kind == Line::Kind::Client;
        s.lines.append(l);
    }
    return s;
}

// key=value words of a row's configuration.
struct Options
{
    ServerConfig config;
    QStringList faults;
    quint64 random = 42;
    QString error;
};

inline Options options(const QString &text, const QStringList &faults)
{
    Options o;
    o.config.maxSize = 1000;
    o.faults = faults;
    for (const QString &word : text.split(u' ', Qt::SkipEmptyParts)) {
        const qsizetype eq = word.indexOf(u'=');
        const QString key = word.left(eq);
        const QString value = eq < 0 ? QString() : word.mid(eq + 1);
        if (key == u"host")
            o.config.hostname = value.toLatin1();
        else if (key == u"max")
            o.config.maxSize = value.toLongLong();
        else if (key == u"tls")
            o.config.tlsAvailable = value == u"1";
        else if (key == u"implicit")
            o.config.implicitTls = value == u"1";
        else if (key == u"user")
            o.config.user = value;
        else if (key == u"pass")
            o.config.password = value;
        else if (key == u"plain")
            o.config.allowPlaintextAuth = value == u"1";
        else if (key == u"line")
            o.config.maxLineLength = value.toInt();
        else if (key == u"random")
            o.random = value.toULongLong();
        else
            o.error = QStringLiteral("unknown config key %1").arg(key);
    }
    return o;
}

struct Replay
{
    enum class Mode { Whole, Split, Bytewise };
    Mode mode = Mode::Whole;
    qsizetype at = 0;
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
    QStringList failures;
    QStringList transcript;
};

inline Outcome run(const Script &script, const Options &opt, Replay replay)
{
    Outcome out;
    QList<Fault> faults;
    for (const QString &spec : opt.faults) {
        QString err;
        const auto f = Fault::parse(spec, &err);
        if (!f) {
            out.failures.append(QStringLiteral("fault \"%1\": %2").arg(spec, err));
            return out;
        }
        faults.append(*f);
    }
    ServerSession session(opt.config, std::make_shared<FaultState>(faults));
    const quint64 random = opt.random;
    session.setRandomSource([random] { return random; });

    QList<ServerAction> stream; // every action taken, in order
    qsizetype cursor = 0;       // first action not yet accounted for
    QByteArray expectedWrite;
    QByteArray data;            // MessageData seen since the last data check
    QByteArray expectedData;

    const auto where = [](const Line &l) { return QStringLiteral("line %1 \"%2\"").arg(l.number).arg(l.source); };
    const auto collect = [&] {
        for (const ServerAction &a : session.takeActions()) {
            if (a.kind == ServerAction::Kind::MessageData && a.bytes.size() > 64 * 1024)
                out.failures.append(QStringLiteral("a MessageData of %1 bytes (over 64 KiB)").arg(a.bytes.size()));
            if (a.kind == ServerAction::Kind::MessageData && a.bytes.isEmpty())
                out.failures.append(QStringLiteral("an empty MessageData"));
            out.transcript.append(describe(a));
            stream.append(a);
        }
    };
    // Consumes the writes (and message data) at the cursor and compares them.
    const auto checkWrites = [&](const QString &at) {
        collect();
        QByteArray written;
        while (cursor < stream.size()) {
            const ServerAction &a = stream[cursor];
            if (a.kind == ServerAction::Kind::Write)
                written += a.bytes;
            else if (a.kind == ServerAction::Kind::MessageData)
                data += a.bytes;
            else
                break;
            ++cursor;
        }
        if (written != expectedWrite)
            out.failures.append(QStringLiteral("%1: the server wrote \"%2\"\n    expected \"%3\"")
                                    .arg(at, printable(written), printable(expectedWrite)));
        expectedWrite.clear();
    };
    const auto checkData = [&](const QString &at) {
        if (data != expectedData)
            out.failures.append(QStringLiteral("%1: the message data was \"%2\"\n    expected \"%3\"")
                                    .arg(at, printable(data), printable(expectedData)));
        data.clear();
        expectedData.clear();
    };
    // A check point where every action so far must have been listed.
    const auto settle = [&](const QString &at) {
        checkWrites(at);
        if (cursor < stream.size()) {
            out.failures.append(QStringLiteral("%1: unlisted action %2").arg(at, describe(stream[cursor])));
            cursor = stream.size();
        }
    };
    const auto feed = [&](QByteArrayView chunk) {
        switch (replay.mode) {
        case Replay::Mode::Whole: session.receive(chunk); break;
        case Replay::Mode::Split:
            if (replay.at > 0 && replay.at < chunk.size()) {
                session.receive(chunk.first(replay.at));
                collect();
                session.receive(chunk.sliced(replay.at));
            } else {
                session.receive(chunk);
            }
            break;
        case Replay::Mode::Bytewise:
            for (qsizetype i = 0; i < chunk.size(); ++i) {
                session.receive(chunk.sliced(i, 1));
                collect();
            }
            break;
        }
        collect();
    };

    for (qsizetype i = 0; i < script.lines.size(); ++i) {
        const Line &line = script.lines[i];
        switch (line.kind) {
        case Line::Kind::Client: {
            if (!line.chunkStart)
                break;
            settle(QStringLiteral("before ") + where(line));
            QByteArray chunk;
            for (qsizetype j = i; j < script.lines.size() && script.lines[j].kind == Line::Kind::Client
                 && (j == i || !script.lines[j].chunkStart);
                 ++j)
                chunk += script.lines[j].bytes;
            out.transcript.append(QStringLiteral("C: ") + printable(chunk));
            feed(chunk);
            break;
        }
        case Line::Kind::Server: expectedWrite += line.bytes; break;
        case Line::Kind::Data: expectedData += line.bytes; break;
        case Line::Kind::Action: {
            checkWrites(where(line));
            if (cursor >= stream.size()) {
                out.failures.append(QStringLiteral("%1: no such action").arg(where(line)));
                break;
            }
            const ServerAction &a = stream[cursor++];
            if (describe(a) != line.text)
                out.failures.append(QStringLiteral("%1: the next action is %2").arg(where(line), describe(a)));
            if (a.kind == ServerAction::Kind::MessageEnd)
                checkData(where(line));
            if (a.kind == ServerAction::Kind::MessageAbort) {
                data.clear();
                expectedData.clear();
            }
            break;
        }
        case Line::Kind::Request: {
            settle(where(line));
            const QStringList words = line.text.split(u' ', Qt::SkipEmptyParts);
            const QString verb = words.value(0);
            if (verb == u"start") {
                session.start();
            } else if (verb == u"tls") {
                session.tlsStarted();
            } else if (verb == u"now") {
                session.setNow(words.value(1).toLongLong());
            } else if (verb == u"stored") {
                const bool ok = words.value(1) == u"ok";
                const QString rest = words.mid(2).join(u' ');
                session.messageStored(ok, ok ? rest : QString(), ok ? QString() : rest);
            } else if (verb == u"gap") {
            } else if (verb == u"expect") {
                for (const QString &w : words.mid(1)) {
                    const QString key = w.section(u'=', 0, 0);
                    const QString want = w.section(u'=', 1);
                    QString actual;
                    if (key == u"closed")
                        actual = session.isClosed() ? QStringLiteral("1") : QStringLiteral("0");
                    else if (key == u"encrypted")
                        actual = session.isEncrypted() ? QStringLiteral("1") : QStringLiteral("0");
                    else
                        actual = QStringLiteral("(unknown key)");
                    if (actual != want)
                        out.failures.append(QStringLiteral("%1: %2 is %3").arg(where(line), key, actual));
                }
            } else {
                out.failures.append(QStringLiteral("%1: unknown request").arg(where(line)));
            }
            collect();
            break;
        }
        }
    }
    settle(QStringLiteral("at the end of the script"));
    checkData(QStringLiteral("at the end of the script"));
    return out;
}

} // namespace ServerTranscript
