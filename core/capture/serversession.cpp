// The capture server's SMTP session (serversession.h), sans-I/O.
//
// How it works
// ------------
// receive() appends the client's bytes to an input buffer and process() consumes
// it in the current mode:
//   Command      one line at a time (CRLF, or a bare LF: be liberal in commands),
//                answered in order, so a pipelined batch (RFC 2920) gets its
//                replies in the order of its commands;
//   AuthResponse one SASL response line (RFC 4954 4);
//   Data         DATA's message text: dot-unstuffed, ended only by CRLF.CRLF;
//   Bdat         exactly n octets of a BDAT chunk (RFC 3030);
//   WaitingStore the end of data was reported (MessageEnd): nothing more is read
//                until messageStored(), so later pipelined commands are answered
//                after the end-of-data reply, in order;
//   WaitingTls   STARTTLS was accepted: every byte until tlsStarted() is dropped;
//   Closed       everything is ignored.
// Message bytes are handed out as MessageData actions of at most 64 KiB, flushed
// at the end of every receive(): the session never holds a whole message.
//
// Authentication is optional: a configured user makes AUTH available, but MAIL
// is accepted without it (a capture server catches what any client sends; a
// test that needs "530 authentication required" scripts it as a mail fault).
// Failed logins go through the server's AuthThrottle: a growing Delay before the
// 535, then 421 and Close; the delay is an action, so the session keeps no clock.

#include "serversession.h"

#include <QCryptographicHash>
#include <QHash>
#include <QMessageAuthenticationCode>
#include <QMutex>
#include <QMutexLocker>
#include <QRandomGenerator>

#include <algorithm>
#include <deque>
#include <limits>
#include <utility>

namespace Capture {

// ================================================================ FaultState

struct FaultState::Private
{
    mutable QMutex mutex;
    QList<Fault> faults;
    QList<qint64> counters;       // occurrences seen, one per fault
    std::deque<qint64> accepted;  // times of accepted messages, oldest first
};

namespace {

constexpr qint64 RateWindowMs = 60 * 1000;

bool sameAddress(const QString &a, const QString &b)
{
    // Case-insensitive as the grammar says; the local part is case-sensitive in
    // RFC 5321 2.4, but a test script names the recipient it means.
    return a.compare(b, Qt::CaseInsensitive) == 0;
}

} // namespace

FaultState::FaultState(QList<Fault> faults)
    : d(std::make_shared<Private>())
{
    setFaults(std::move(faults));
}

void FaultState::setFaults(QList<Fault> faults)
{
    QMutexLocker lock(&d->mutex);
    d->counters = QList<qint64>(faults.size(), 0);
    d->faults = std::move(faults);
    d->accepted.clear();
}

QList<Fault> FaultState::faults() const
{
    QMutexLocker lock(&d->mutex);
    return d->faults;
}

std::optional<Fault> FaultState::next(Fault::Step step, const QString &recipient)
{
    QMutexLocker lock(&d->mutex);
    std::optional<Fault> result;
    for (qsizetype i = 0; i < d->faults.size(); ++i) {
        const Fault &f = d->faults[i];
        if (f.action == Fault::Action::RateLimit || f.step != step)
            continue;
        // A recipient-specific fault counts only the RCPTs to its recipient:
        // "rcpt=bob:every=2" is every second RCPT to bob.
        if (!f.recipient.isEmpty() && !sameAddress(f.recipient, recipient))
            continue;
        // Every matching fault counts this occurrence, whether or not it fires,
        // so two faults on one step keep independent every=N rhythms.
        const qint64 n = ++d->counters[i];
        if (!result && n % std::max(1, f.everyNth) == 0)
            result = f;
    }
    return result;
}

std::optional<Fault> FaultState::rateLimited(qint64 msNow)
{
    QMutexLocker lock(&d->mutex);
    while (!d->accepted.empty() && msNow - d->accepted.front() >= RateWindowMs)
        d->accepted.pop_front();
    for (const Fault &f : std::as_const(d->faults)) {
        if (f.action == Fault::Action::RateLimit && qint64(d->accepted.size()) >= f.perMinute)
            return f;
    }
    return std::nullopt;
}

void FaultState::messageAccepted(qint64 msNow)
{
    QMutexLocker lock(&d->mutex);
    int keep = 0;
    for (const Fault &f : std::as_const(d->faults)) {
        if (f.action == Fault::Action::RateLimit)
            keep = std::max(keep, f.perMinute);
    }
    if (keep == 0)
        return; // no rate limit: nothing to remember
    d->accepted.push_back(msNow);
    // Older entries beyond the largest limit can never change an answer.
    while (qint64(d->accepted.size()) > keep)
        d->accepted.pop_front();
}

// ================================================================ AuthThrottle

struct AuthThrottle::Private
{
    struct Entry
    {
        int failures = 0;
        qint64 last = 0; // time of the last failure
    };
    Policy policy;
    mutable QMutex mutex;
    QHash<QString, Entry> entries;

    [[nodiscard]] bool expired(const Entry &e, qint64 msNow) const { return msNow - e.last >= policy.windowMs; }

    void prune(qint64 msNow)
    {
        for (auto it = entries.begin(); it != entries.end();) {
            if (expired(*it, msNow))
                it = entries.erase(it);
            else
                ++it;
        }
        // Many addresses failing at once (a spread-out attack): the oldest go first,
        // so the table stays bounded.
        while (entries.size() >= policy.maxAddresses && !entries.isEmpty()) {
            auto oldest = entries.begin();
            for (auto it = entries.begin(); it != entries.end(); ++it) {
                if (it->last < oldest->last)
                    oldest = it;
            }
            entries.erase(oldest);
        }
    }
};

AuthThrottle::AuthThrottle()
    : AuthThrottle(Policy())
{
}

AuthThrottle::AuthThrottle(Policy policy)
    : d(std::make_shared<Private>())
{
    policy.freeFailures = std::max(0, policy.freeFailures);
    policy.firstDelayMs = std::max(0, policy.firstDelayMs);
    policy.maxDelayMs = std::max(policy.firstDelayMs, policy.maxDelayMs);
    policy.disconnectAt = std::max(1, policy.disconnectAt);
    policy.maxAddresses = std::max(1, policy.maxAddresses);
    d->policy = policy;
}

AuthThrottle::Verdict AuthThrottle::failed(const QString &address, qint64 msNow)
{
    QMutexLocker lock(&d->mutex);
    auto it = d->entries.find(address);
    if (it != d->entries.end() && d->expired(*it, msNow)) {
        d->entries.erase(it);
        it = d->entries.end();
    }
    if (it == d->entries.end()) {
        d->prune(msNow);
        it = d->entries.insert(address, {});
    }
    it->failures = it->failures < std::numeric_limits<int>::max() ? it->failures + 1 : it->failures;
    it->last = msNow;

    const Policy &p = d->policy;
    Verdict v;
    v.failures = it->failures;
    v.disconnect = v.failures >= p.disconnectAt;
    if (v.failures > p.freeFailures) {
        // firstDelayMs, then doubling up to maxDelayMs.
        qint64 ms = p.firstDelayMs;
        for (int i = p.freeFailures + 1; i < v.failures && ms < p.maxDelayMs; ++i)
            ms *= 2;
        v.delayMs = int(std::min<qint64>(ms, p.maxDelayMs));
    }
    return v;
}

int AuthThrottle::failures(const QString &address, qint64 msNow) const
{
    QMutexLocker lock(&d->mutex);
    const auto it = d->entries.constFind(address);
    return it == d->entries.cend() || d->expired(*it, msNow) ? 0 : it->failures;
}

AuthThrottle::Policy AuthThrottle::policy() const
{
    return d->policy;
}

// ================================================================ ServerSession

namespace {

constexpr qsizetype MaxDataChunk = 64 * 1024;
// RFC 5321 4.5.3.1.8: at least 100 recipients must be accepted; more than
// this many get 452 4.5.3 (RFC 5321 4.5.3.1.10).
constexpr qsizetype MaxRecipients = 1000;
// RFC 4954 4: an AUTH command line or response may be up to 12288 octets.
constexpr qsizetype MaxAuthLine = 12288;

enum class Mode { Command, AuthResponse, Data, Bdat, WaitingStore, WaitingTls, Closed };
enum class AuthStep { None, Plain, LoginUser, LoginPassword, CramMd5 };

bool hasControl(QByteArrayView bytes)
{
    return std::any_of(bytes.begin(), bytes.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

bool isAscii(QByteArrayView bytes)
{
    return std::all_of(bytes.begin(), bytes.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Equal without an early exit: the time taken does not tell how much matched.
bool constantTimeEqual(QByteArrayView a, QByteArrayView b)
{
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const qsizetype n = std::min(a.size(), b.size());
    for (qsizetype i = 0; i < n; ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

// A decimal size of at most 18 digits, or -1.
qint64 parseSize(QByteArrayView text)
{
    if (text.isEmpty() || text.size() > 18)
        return -1;
    qint64 v = 0;
    for (const char c : text) {
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

// "<path> params" after "FROM:" / "TO:" (RFC 5321 4.1.2). Spaces before '<'
// are tolerated (many clients send "MAIL FROM: <a@b>"). The address is
// returned without its brackets and without an RFC 5321 4.1.1.3 source route
// ("<@a,@b:u@c>": MUST be accepted and ignored).
bool parsePath(QByteArrayView text, QByteArray *address, QByteArrayView *params)
{
    qsizetype i = 0;
    while (i < text.size() && text[i] == ' ')
        ++i;
    if (i >= text.size() || text[i] != '<')
        return false;
    const qsizetype open = i++;
    bool quoted = false;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted && c == '\\') {
            ++i; // RFC 5321 4.1.2 quoted-pairSMTP
            continue;
        }
        if (c == '"')
            quoted = !quoted;
        else if (c == '>' && !quoted)
            break;
    }
    if (i >= text.size())
        return false;
    QByteArrayView inner = text.sliced(open + 1, i - open - 1);
    if (inner.startsWith('@')) {
        const qsizetype colon = inner.indexOf(':');
        if (colon < 0)
            return false;
        inner = inner.sliced(colon + 1);
    }
    if (hasControl(inner) || inner.contains(' ') != inner.contains('"'))
        return false;
    const QByteArrayView rest = text.sliced(i + 1);
    if (!rest.isEmpty() && rest[0] != ' ')
        return false;
    *address = inner.toByteArray();
    *params = rest.trimmed();
    return true;
}

QList<QByteArrayView> splitSpaces(QByteArrayView text)
{
    QList<QByteArrayView> out;
    qsizetype i = 0;
    while (i < text.size()) {
        while (i < text.size() && text[i] == ' ')
            ++i;
        const qsizetype start = i;
        while (i < text.size() && text[i] != ' ')
            ++i;
        if (i > start)
            out.append(text.sliced(start, i - start));
    }
    return out;
}

QByteArray sanitize(const QString &text)
{
    QByteArray out = text.toUtf8();
    for (char &c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f)
            c = ' ';
    }
    return out;
}

} // namespace

struct ServerSession::Private
{
    ServerConfig config;
    std::shared_ptr<FaultState> faults;
    std::shared_ptr<AuthThrottle> authThrottle;
    std::function<quint64()> random;
    QList<ServerAction> actions;

    QByteArray in;
    qsizetype pos = 0; // first unread byte of `in`
    Mode mode = Mode::Command;
    bool started = false;
    bool encrypted = false;
    bool greeted = false;      // EHLO or HELO accepted
    bool refuseAll = false;    // a greeting fault refused service (RFC 5321 3.1)
    bool discardingLine = false;
    qint64 now = 0;
    quint64 progress = 0;      // see ServerSession::progress()

    // AUTH
    bool authenticated = false;
    AuthStep authStep = AuthStep::None;
    QByteArray loginUser;
    QByteArray challenge;

    // The mail transaction (RFC 5321 3.3).
    bool inTransaction = false;
    QString from;
    QStringList recipients;
    bool smtpUtf8 = false;
    bool messageBegun = false; // MessageBegin sent, no MessageEnd/Abort yet
    bool bdat = false;         // the message goes by BDAT chunks
    qint64 messageBytes = 0;
    bool tooBig = false;
    bool atLineStart = true;   // DATA: the next byte starts a line
    qint64 bdatRemaining = 0;
    qint64 bdatChunkSize = 0;  // of the chunk being read, for its 250 reply
    bool bdatLast = false;
    bool bdatDiscard = false;  // the chunk is read and dropped, then bdatReply
    QByteArray bdatReply;
    int bdatReplyCode = 0;
    QByteArray pendingData;
    int eodDelayMs = 0;
    bool overQuota = false;    // tooBig because of the store's byte quota, not SIZE
    StoreSpace store;

    // The largest message that can be taken: the SIZE limit or the store's byte
    // quota, whichever is smaller (0: none).
    [[nodiscard]] qint64 sizeLimit() const
    {
        if (config.maxSize > 0 && store.maxBytes > 0)
            return std::min(config.maxSize, store.maxBytes);
        return config.maxSize > 0 ? config.maxSize : store.maxBytes;
    }
    // RFC 1870 6.1 and RFC 5321 4.2.2: 552 is for a message that exceeds a
    // fixed maximum; RFC 3463 5.3.4 "message too big for system". A message
    // over the byte quota of the whole store can never fit, however much is
    // removed: a permanent refusal, so the client does not retry it for days.
    [[nodiscard]] QByteArray tooBigReply() const
    {
        return overQuota ? QByteArray("552 5.3.4 Message size exceeds the capture store's quota")
                         : QByteArray("552 5.3.4 Message size exceeds fixed maximum message size");
    }
    // RFC 5321 4.2.2 / 4.2.3: 452 "insufficient system storage", RFC 3463
    // 4.3.1 "mail system full": transient, the client tries again later (when
    // messages were removed, there is room again).
    void storeFullReply() { write("452 4.3.1 Insufficient system storage"); }

    // ------------------------------------------------------------ output

    void write(const QByteArray &line)
    {
        if (!actions.isEmpty() && actions.last().kind == ServerAction::Kind::Write) {
            actions.last().bytes += line + "\r\n";
            return;
        }
        ServerAction a;
        a.kind = ServerAction::Kind::Write;
        a.bytes = line + "\r\n";
        actions.append(a);
    }
    void action(ServerAction::Kind kind)
    {
        ServerAction a;
        a.kind = kind;
        actions.append(a);
    }
    void delay(int ms)
    {
        ServerAction a;
        a.kind = ServerAction::Kind::Delay;
        a.ms = ms;
        actions.append(a);
    }
    void close()
    {
        abortMessage();
        action(ServerAction::Kind::Close);
        mode = Mode::Closed;
        in.clear();
        pos = 0;
    }
    [[nodiscard]] bool closed() const { return mode == Mode::Closed; }

    // A fault's reply; RFC 5321 3.8: a 421 reply is followed by closing.
    void faultReply(const Fault &f)
    {
        QByteArray text = f.text.toUtf8();
        if (text.isEmpty()) {
            // RFC 2034 3: with ENHANCEDSTATUSCODES every reply carries one.
            text = (f.code < 500 ? "4.0.0" : "5.0.0") + QByteArray(" Scripted fault at ")
                   + Fault::stepName(f.step).toLatin1();
        }
        write(QByteArray::number(f.code) + ' ' + text);
        if (f.code == 421)
            close();
    }

    // Asks the fault script about this occurrence of `step`. True when the fault
    // took over (its reply was written, or the connection is closing); a delay
    // is queued and the caller answers normally.
    bool applyFault(Fault::Step step, const QString &recipient = {})
    {
        const std::optional<Fault> f = faults->next(step, recipient);
        if (!f)
            return false;
        switch (f->action) {
        case Fault::Action::Delay:
            delay(f->delayMs);
            return false;
        case Fault::Action::Disconnect:
            close();
            return true;
        case Fault::Action::Reply:
            faultReply(*f);
            return true;
        case Fault::Action::RateLimit:
            return false;
        }
        return false;
    }

    // ------------------------------------------------------------ message data

    void flushData(bool all)
    {
        qsizetype from0 = 0;
        while (pendingData.size() - from0 >= (all ? 1 : MaxDataChunk)) {
            const qsizetype n = std::min(MaxDataChunk, pendingData.size() - from0);
            ServerAction a;
            a.kind = ServerAction::Kind::MessageData;
            a.bytes = pendingData.mid(from0, n);
            actions.append(a);
            from0 += n;
        }
        pendingData.remove(0, from0);
    }
    void appendData(QByteArrayView bytes)
    {
        messageBytes += bytes.size();
        if (tooBig)
            return;
        // RFC 1870 6.1: the declared SIZE is not trusted; a message that grows
        // past the limit is dropped at once (the reply comes at its end).
        const qint64 limit = sizeLimit();
        if (limit > 0 && messageBytes > limit) {
            tooBig = true;
            overQuota = limit < config.maxSize || config.maxSize <= 0;
            abortMessage();
            return;
        }
        pendingData += bytes;
        if (pendingData.size() >= MaxDataChunk)
            flushData(false);
    }
    void beginMessage()
    {
        ServerAction a;
        a.kind = ServerAction::Kind::MessageBegin;
        a.from = from;
        a.recipients = recipients;
        actions.append(a);
        messageBegun = true;
        messageBytes = 0;
        tooBig = false;
        overQuota = false;
    }
    void abortMessage()
    {
        pendingData.clear();
        if (messageBegun) {
            action(ServerAction::Kind::MessageAbort);
            messageBegun = false;
        }
    }
    void endTransaction()
    {
        inTransaction = false;
        from.clear();
        recipients.clear();
        smtpUtf8 = false;
        bdat = false;
        messageBegun = false;
        messageBytes = 0;
        tooBig = false;
        overQuota = false;
        eodDelayMs = 0;
    }
    // RFC 5321 4.1.1.5 (RSET) and 4.1.4 (EHLO/HELO imply RSET).
    void resetTransaction()
    {
        abortMessage();
        endTransaction();
    }

    void endOfData()
    {
        if (tooBig) {
            // RFC 1870 6.1 / RFC 5321 4.5.3.1.10
            write(tooBigReply());
            endTransaction();
            return;
        }
        flushData(true);
        const std::optional<Fault> f = faults->next(Fault::Step::EndOfData);
        if (f && f->action == Fault::Action::Disconnect) {
            close();
            return;
        }
        if (f && f->action == Fault::Action::Reply) {
            abortMessage(); // nothing is kept of a refused message
            endTransaction();
            faultReply(*f);
            return;
        }
        eodDelayMs = f && f->action == Fault::Action::Delay ? f->delayMs : 0;
        ServerAction a;
        a.kind = ServerAction::Kind::MessageEnd;
        a.from = from;
        a.recipients = recipients;
        actions.append(a);
        messageBegun = false;
        mode = Mode::WaitingStore;
    }

    // ------------------------------------------------------------ input

    [[nodiscard]] QByteArrayView unread() const { return QByteArrayView(in).sliced(pos); }

    void process()
    {
        while (true) {
            bool progressed = false;
            switch (mode) {
            case Mode::Command:
            case Mode::AuthResponse: progressed = processLine(); break;
            case Mode::Data: progressed = processData(); break;
            case Mode::Bdat: progressed = processBdat(); break;
            case Mode::WaitingTls:
                // RFC 3207 4.2 / CVE-2011-0411: whatever came after the STARTTLS
                // line in plaintext must not be taken as commands under TLS.
                in.clear();
                pos = 0;
                break;
            case Mode::WaitingStore:
            case Mode::Closed: break;
            }
            if (!progressed)
                break;
        }
        if (pos > 0) {
            in.remove(0, pos);
            pos = 0;
        }
    }

    bool processLine()
    {
        const qsizetype limit = mode == Mode::AuthResponse ? std::max<qsizetype>(config.maxLineLength, MaxAuthLine)
                                                           : config.maxLineLength;
        const QByteArrayView rest = unread();
        const qsizetype lf = rest.indexOf('\n');
        if (discardingLine) {
            if (lf < 0) {
                pos = in.size();
                return false;
            }
            pos += lf + 1;
            discardingLine = false;
            ++progress;
            lineTooLong();
            return true;
        }
        if (lf < 0) {
            // Even if a CRLF came next, the line would be over the limit: stop
            // buffering it now.
            if (rest.size() > limit) {
                discardingLine = true;
                pos = in.size();
            }
            return false;
        }
        QByteArrayView line = rest.first(lf);
        pos += lf + 1;
        ++progress;
        // RFC 5321 2.3.8 wants CRLF; a bare LF ends a command line too (be
        // liberal in what is accepted: the command stream has no smuggling risk,
        // unlike the end of DATA).
        if (line.endsWith('\r'))
            line.chop(1);
        // RFC 5321 4.5.3.1.4: the limit counts the CRLF.
        if (line.size() + 2 > limit) {
            lineTooLong();
            return true;
        }
        if (mode == Mode::AuthResponse)
            authResponse(line);
        else
            command(line);
        return true;
    }

    void lineTooLong()
    {
        if (mode == Mode::AuthResponse) {
            authStep = AuthStep::None;
            mode = Mode::Command;
        }
        write("500 5.5.6 Line too long"); // RFC 5321 4.5.3.1.4, RFC 3463 5.5.6
    }

    bool processData()
    {
        const qsizetype start = pos;
        const bool any = processDataLines();
        progress += quint64(pos - start);
        return any;
    }

    bool processDataLines()
    {
        bool any = false;
        while (mode == Mode::Data) {
            const QByteArrayView rest = unread();
            if (atLineStart) {
                if (rest.isEmpty())
                    return any;
                if (rest[0] == '.') {
                    if (rest.size() < 2 || (rest[1] == '\r' && rest.size() < 3))
                        return any; // ".", ".\r": wait to see the end of data or not
                    if (rest[1] == '\r' && rest[2] == '\n') {
                        // RFC 5321 4.1.1.4: only CRLF "." CRLF ends the data; the
                        // CRLF before it is part of the message.
                        pos += 3;
                        mode = Mode::Command;
                        endOfData();
                        return true;
                    }
                    // RFC 5321 4.5.2: a line starting with "." loses that dot.
                    ++pos;
                }
                atLineStart = false;
                any = true;
                continue;
            }
            // Only CRLF starts a new line: a bare LF (or CR) followed by "."
            // is message text (SMTP smuggling, CVE-2023-51764 class).
            const qsizetype crlf = rest.indexOf("\r\n");
            if (crlf >= 0) {
                appendData(rest.first(crlf + 2));
                pos += crlf + 2;
                atLineStart = true;
                any = true;
                continue;
            }
            const qsizetype take = rest.endsWith('\r') ? rest.size() - 1 : rest.size();
            if (take > 0) {
                appendData(rest.first(take));
                pos += take;
                any = true;
            }
            return false;
        }
        return any;
    }

    bool processBdat()
    {
        const QByteArrayView rest = unread();
        const qsizetype take = qsizetype(std::min<qint64>(bdatRemaining, rest.size()));
        if (take > 0 && !bdatDiscard)
            appendData(rest.first(take));
        pos += take;
        progress += quint64(take);
        bdatRemaining -= take;
        if (bdatRemaining > 0)
            return false;
        mode = Mode::Command;
        if (bdatDiscard) {
            // RFC 3030 2: a refused BDAT's chunk is read and dropped first.
            bdatDiscard = false;
            write(bdatReply);
            if (bdatReplyCode == 421)
                close();
            return true;
        }
        if (tooBig) {
            write(tooBigReply());
            endTransaction();
            return true;
        }
        if (bdatLast) {
            endOfData();
        } else {
            flushData(true);
            write("250 2.0.0 " + QByteArray::number(bdatChunkSize) + " octets received");
        }
        return true;
    }

    // ------------------------------------------------------------ commands

    void command(QByteArrayView line)
    {
        const qsizetype space = line.indexOf(' ');
        const QByteArray verb = (space < 0 ? line : line.first(space)).toByteArray().toUpper();
        const QByteArrayView arg = space < 0 ? QByteArrayView() : line.sliced(space + 1).trimmed();

        if (line.contains('\0') || line.isEmpty()) {
            write("500 5.5.2 Syntax error, command unrecognized");
            return;
        }
        if (refuseAll && verb != "QUIT") {
            // RFC 5321 3.1: after a 554 greeting the server waits for QUIT and
            // answers everything else with 503.
            write("503 5.5.1 No SMTP service here, only QUIT");
            return;
        }
        if (verb == "EHLO" || verb == "HELO")
            hello(verb == "EHLO", arg);
        else if (verb == "STARTTLS")
            startTls(arg);
        else if (verb == "AUTH")
            auth(arg);
        else if (verb == "MAIL")
            mail(arg);
        else if (verb == "RCPT")
            rcpt(arg);
        else if (verb == "DATA")
            data(arg);
        else if (verb == "BDAT")
            bdatCommand(arg);
        else if (verb == "RSET") {
            if (!arg.isEmpty()) {
                write("501 5.5.4 Syntax: RSET");
                return;
            }
            resetTransaction();
            write("250 2.0.0 Ok");
        } else if (verb == "NOOP") {
            write("250 2.0.0 Ok"); // RFC 5321 4.1.1.9: a parameter is ignored
        } else if (verb == "QUIT") {
            write("221 2.0.0 " + config.hostname + " closing connection");
            close();
        } else if (verb == "VRFY") {
            if (arg.isEmpty())
                write("501 5.5.4 Syntax: VRFY address");
            else // RFC 5321 3.5.3: neither confirm nor deny
                write("252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
        } else if (verb == "EXPN") {
            write("502 5.5.1 EXPN not implemented");
        } else if (verb == "HELP") {
            write("214 2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP");
        } else {
            write("500 5.5.2 Command not recognized");
        }
    }

    void hello(bool ehlo, QByteArrayView arg)
    {
        // RFC 5321 4.1.1.1: EHLO/HELO take the client's domain or address literal.
        if (arg.isEmpty() || arg.contains(' ')) {
            write(ehlo ? "501 5.5.4 Syntax: EHLO hostname" : "501 5.5.4 Syntax: HELO hostname");
            return;
        }
        if (applyFault(Fault::Step::Ehlo))
            return;
        resetTransaction(); // RFC 5321 4.1.4: EHLO/HELO reset the transaction
        greeted = true;
        if (!ehlo) {
            write("250 " + config.hostname);
            return;
        }
        QList<QByteArray> lines = {config.hostname, "PIPELINING"};
        // RFC 1870 4: the fixed maximum; with a byte quota smaller than the SIZE
        // limit, nothing larger than the quota can ever be stored.
        lines.append(sizeLimit() > 0 ? "SIZE " + QByteArray::number(sizeLimit()) : QByteArray("SIZE"));
        lines.append({"8BITMIME", "SMTPUTF8", "CHUNKING", "ENHANCEDSTATUSCODES"});
        // RFC 3207 4.2: STARTTLS is not offered once TLS is up.
        if (config.tlsAvailable && !encrypted)
            lines.append("STARTTLS");
        if (authOffered())
            lines.append("AUTH PLAIN LOGIN CRAM-MD5");
        for (qsizetype i = 0; i < lines.size(); ++i)
            write((i + 1 < lines.size() ? "250-" : "250 ") + lines[i]);
    }

    [[nodiscard]] bool authOffered() const
    {
        return !config.user.isEmpty() && (encrypted || config.allowPlaintextAuth);
    }

    void startTls(QByteArrayView arg)
    {
        if (!arg.isEmpty()) {
            write("501 5.5.4 Syntax: STARTTLS"); // RFC 3207 4: no parameters
            return;
        }
        if (encrypted) {
            write("503 5.5.1 TLS already active");
            return;
        }
        if (!config.tlsAvailable) {
            write("502 5.5.1 STARTTLS not available");
            return;
        }
        if (applyFault(Fault::Step::StartTls))
            return;
        write("220 2.0.0 Ready to start TLS");
        action(ServerAction::Kind::StartTls);
        // RFC 3207 4.2: nothing of the plaintext session survives the handshake.
        resetTransaction();
        greeted = false;
        authenticated = false;
        mode = Mode::WaitingTls;
        // The pipelined bytes after the STARTTLS line (CVE-2011-0411 class).
        pos = in.size();
    }

    // ------------------------------------------------------------ AUTH

    void auth(QByteArrayView arg)
    {
        if (config.user.isEmpty()) {
            write("502 5.5.1 AUTH not available");
            return;
        }
        if (!greeted) {
            write("503 5.5.1 Send EHLO first"); // RFC 4954 4: AUTH follows EHLO
            return;
        }
        if (authenticated) {
            write("503 5.5.1 Already authenticated"); // RFC 4954 4
            return;
        }
        if (inTransaction) {
            write("503 5.5.1 AUTH not allowed during a mail transaction"); // RFC 4954 4
            return;
        }
        if (!encrypted && !config.allowPlaintextAuth) {
            // RFC 4954 6: encryption required for the requested mechanism.
            write("538 5.7.11 Encryption required for requested authentication mechanism");
            return;
        }
        const QList<QByteArrayView> parts = splitSpaces(arg);
        if (parts.isEmpty() || parts.size() > 2) {
            write("501 5.5.4 Syntax: AUTH mechanism [initial-response]");
            return;
        }
        const QByteArray mech = parts[0].toByteArray().toUpper();
        if (mech != "PLAIN" && mech != "LOGIN" && mech != "CRAM-MD5") {
            write("504 5.5.4 Unrecognized authentication type"); // RFC 4954 4
            return;
        }
        if (applyFault(Fault::Step::Auth))
            return;
        const bool hasInitial = parts.size() == 2;
        QByteArray initial;
        if (hasInitial) {
            // RFC 4954 4: "=" is an empty initial response.
            if (parts[1] != "=" && !decode(parts[1], &initial))
                return;
        }
        if (mech == "PLAIN") {
            if (hasInitial) {
                plain(initial);
                return;
            }
            write("334 "); // RFC 4616 / RFC 4954 4: an empty challenge
            authStep = AuthStep::Plain;
        } else if (mech == "LOGIN") {
            if (hasInitial) {
                loginUser = initial;
                write("334 UGFzc3dvcmQ6"); // "Password:"
                authStep = AuthStep::LoginPassword;
            } else {
                write("334 VXNlcm5hbWU6"); // "Username:"
                authStep = AuthStep::LoginUser;
            }
        } else {
            if (hasInitial) {
                // RFC 2195: the server speaks first; there is no initial response.
                write("501 5.5.2 CRAM-MD5 takes no initial response");
                return;
            }
            // RFC 2195 2: a unique msg-id style challenge.
            challenge = '<' + QByteArray::number(randomSource()) + '.' + QByteArray::number(now) + '@' + config.hostname
                        + '>';
            write("334 " + challenge.toBase64());
            authStep = AuthStep::CramMd5;
        }
        mode = Mode::AuthResponse;
    }

    // Strict base64 (RFC 4954 4: a response that is not base64 gets 501).
    bool decode(QByteArrayView text, QByteArray *out)
    {
        auto result = QByteArray::fromBase64Encoding(text.toByteArray(), QByteArray::AbortOnBase64DecodingErrors);
        if (!result) {
            write("501 5.5.2 Invalid base64 data");
            endAuth();
            return false;
        }
        *out = *result;
        return true;
    }

    void endAuth()
    {
        authStep = AuthStep::None;
        loginUser.clear();
        challenge.clear();
        if (mode == Mode::AuthResponse)
            mode = Mode::Command;
    }

    void authResponse(QByteArrayView line)
    {
        if (line == "*") {
            endAuth();
            write("501 5.0.0 Authentication cancelled"); // RFC 4954 4
            return;
        }
        QByteArray bytes;
        if (!decode(line, &bytes))
            return;
        switch (authStep) {
        case AuthStep::Plain:
            endAuth();
            plain(bytes);
            return;
        case AuthStep::LoginUser:
            loginUser = bytes;
            authStep = AuthStep::LoginPassword;
            write("334 UGFzc3dvcmQ6");
            return;
        case AuthStep::LoginPassword: {
            const QByteArray user = loginUser;
            endAuth();
            finishAuth(user, checkCredentials(user, bytes));
            return;
        }
        case AuthStep::CramMd5: {
            // RFC 2195 2: "user SP digest", the digest 32 lowercase hex digits.
            const QByteArray c = challenge;
            endAuth();
            const qsizetype sp = bytes.lastIndexOf(' ');
            if (sp <= 0) {
                write("501 5.5.2 Malformed CRAM-MD5 response");
                return;
            }
            const QByteArray user = bytes.left(sp);
            const QByteArray digest = bytes.mid(sp + 1).toLower();
            const QByteArray expected =
                QMessageAuthenticationCode::hash(c, config.password.toUtf8(), QCryptographicHash::Md5).toHex();
            // Both compared in full: no early exit on a wrong user.
            const bool userOk = constantTimeEqual(user, config.user.toUtf8());
            const bool digestOk = constantTimeEqual(digest, expected);
            const bool ok = userOk && digestOk;
            finishAuth(user, ok);
            return;
        }
        case AuthStep::None: break;
        }
        endAuth();
    }

    void plain(const QByteArray &message)
    {
        // RFC 4616 2: [authzid] NUL authcid NUL passwd
        const QList<QByteArray> parts = message.split('\0');
        if (parts.size() != 3) {
            write("501 5.5.2 Malformed PLAIN response");
            return;
        }
        // Acting as another identity is not supported: authzid empty or the same.
        const bool ok = (parts[0].isEmpty() || parts[0] == parts[1]) && checkCredentials(parts[1], parts[2]);
        finishAuth(parts[1], ok);
    }

    [[nodiscard]] bool checkCredentials(QByteArrayView user, QByteArrayView password) const
    {
        const bool userOk = constantTimeEqual(user, config.user.toUtf8());
        const bool passwordOk = constantTimeEqual(password, config.password.toUtf8());
        return userOk && passwordOk;
    }

    void finishAuth(const QByteArray &user, bool ok)
    {
        if (!ok) {
            // The throttle decides (see AuthThrottle): a delay before the answer
            // holds up the commands pipelined after it too, as the server runs
            // the actions in order.
            const AuthThrottle::Verdict v = authThrottle->failed(config.clientAddress, now);
            if (v.delayMs > 0)
                delay(v.delayMs);
            if (v.disconnect) {
                // RFC 5321 3.8: 421 answers the command and closes; RFC 3463 4.7.0:
                // a security policy reason, temporary.
                write("421 4.7.0 " + config.hostname + " Too many failed authentication attempts, closing connection");
                close();
                return;
            }
            write("535 5.7.8 Authentication credentials invalid"); // RFC 4954 6
            return;
        }
        authenticated = true;
        write("235 2.7.0 Authentication successful");
        ServerAction a;
        a.kind = ServerAction::Kind::Authenticated;
        a.user = QString::fromUtf8(user);
        actions.append(a);
    }

    // ------------------------------------------------------------ transaction

    // RFC 6531 3.5: a non-ASCII address needs SMTPUTF8 on MAIL.
    bool checkAddressCharset(const QByteArray &address, bool isSender)
    {
        if (isAscii(address))
            return true;
        if (!smtpUtf8) {
            write("553 5.6.7 Non-ASCII address needs SMTPUTF8");
            return false;
        }
        if (!QByteArrayView(address).isValidUtf8()) {
            write(isSender ? "501 5.1.7 Address is not valid UTF-8" : "501 5.1.3 Address is not valid UTF-8");
            return false;
        }
        return true;
    }

    void mail(QByteArrayView arg)
    {
        if (!greeted) {
            write("503 5.5.1 Send EHLO/HELO first");
            return;
        }
        if (inTransaction) {
            write("503 5.5.1 Nested MAIL command"); // RFC 5321 4.1.4
            return;
        }
        if (!arg.toByteArray().toUpper().startsWith("FROM:")) {
            write("501 5.5.4 Syntax: MAIL FROM:<address>");
            return;
        }
        QByteArray address;
        QByteArrayView params;
        if (!parsePath(arg.sliced(5), &address, &params)) {
            write("501 5.1.7 Bad sender address syntax");
            return;
        }
        bool utf8 = false;
        qint64 declaredSize = -1;
        for (const QByteArrayView p : splitSpaces(params)) {
            const qsizetype eq = p.indexOf('=');
            const QByteArray key = (eq < 0 ? p : p.first(eq)).toByteArray().toUpper();
            const QByteArray value = eq < 0 ? QByteArray() : p.sliced(eq + 1).toByteArray().toUpper();
            if (key == "SIZE") {
                // RFC 1870 6: a declared size over the limit is refused at MAIL.
                const qint64 size = parseSize(value);
                if (size < 0) {
                    write("501 5.5.4 Bad SIZE parameter");
                    return;
                }
                if (config.maxSize > 0 && size > config.maxSize) {
                    write("552 5.3.4 Message size exceeds fixed maximum message size");
                    return;
                }
                declaredSize = size;
            } else if (key == "BODY") {
                // RFC 6152: 7BIT and 8BITMIME. RFC 3030 3: BINARYMIME needs an
                // offer this server does not make.
                if (value == "BINARYMIME") {
                    write("555 5.5.4 BODY=BINARYMIME not supported");
                    return;
                }
                if (value != "7BIT" && value != "8BITMIME") {
                    write("501 5.5.4 Bad BODY parameter");
                    return;
                }
            } else if (key == "SMTPUTF8") {
                if (eq >= 0) {
                    write("501 5.5.4 SMTPUTF8 takes no value"); // RFC 6531 3.4
                    return;
                }
                utf8 = true;
            } else if (key == "AUTH") {
                // RFC 4954 5: accepted; the capture server does not relay.
            } else {
                write("555 5.5.4 Unsupported MAIL parameter"); // RFC 5321 4.1.1.11
                return;
            }
        }
        smtpUtf8 = utf8;
        if (!checkAddressCharset(address, true)) {
            smtpUtf8 = false;
            return;
        }
        // The store's quotas (RFC 1870 6.1 for a declared SIZE): larger than the
        // byte quota can never fit (552, see tooBigReply); no room now is
        // transient (452 4.3.1). Refused at MAIL, before any data is sent.
        if (store.maxBytes > 0 && declaredSize > store.maxBytes) {
            smtpUtf8 = false;
            overQuota = true;
            write(tooBigReply());
            overQuota = false;
            return;
        }
        if (store.full || (store.freeBytes >= 0 && declaredSize > store.freeBytes)) {
            smtpUtf8 = false;
            storeFullReply();
            return;
        }
        if (const std::optional<Fault> r = faults->rateLimited(now)) {
            smtpUtf8 = false;
            QByteArray text = r->text.toUtf8();
            if (r->code == 421) {
                if (text.isEmpty())
                    text = "4.7.0 " + config.hostname + " Too many messages, closing connection";
                write("421 " + text);
                close();
            } else {
                if (text.isEmpty())
                    text = "4.7.0 Too many messages per minute, try again later";
                write(QByteArray::number(r->code) + ' ' + text);
            }
            return;
        }
        if (applyFault(Fault::Step::Mail)) {
            smtpUtf8 = false;
            return;
        }
        inTransaction = true;
        from = QString::fromUtf8(address);
        recipients.clear();
        write("250 2.1.0 Ok");
    }

    void rcpt(QByteArrayView arg)
    {
        if (!inTransaction) {
            write("503 5.5.1 Need MAIL before RCPT");
            return;
        }
        if (bdat) {
            write("503 5.5.1 RCPT after BDAT"); // RFC 3030 2: the envelope is closed
            return;
        }
        if (!arg.toByteArray().toUpper().startsWith("TO:")) {
            write("501 5.5.4 Syntax: RCPT TO:<address>");
            return;
        }
        QByteArray address;
        QByteArrayView params;
        if (!parsePath(arg.sliced(3), &address, &params) || address.isEmpty()) {
            write("501 5.1.3 Bad recipient address syntax");
            return;
        }
        if (!params.isEmpty()) {
            write("555 5.5.4 Unsupported RCPT parameter"); // no DSN offered (RFC 5321 4.1.1.11)
            return;
        }
        if (!checkAddressCharset(address, false))
            return;
        if (recipients.size() >= MaxRecipients) {
            write("452 4.5.3 Too many recipients"); // RFC 5321 4.5.3.1.10
            return;
        }
        // The store filled up since MAIL (other connections delivered): RFC 5321
        // 4.5.3.1.10, a limit the server hits at RCPT is answered 452 so the
        // client keeps the recipient and tries again later.
        if (store.full) {
            storeFullReply();
            return;
        }
        const QString rcpt = QString::fromUtf8(address);
        if (applyFault(Fault::Step::Rcpt, rcpt))
            return;
        recipients.append(rcpt);
        write("250 2.1.5 Ok");
    }

    void data(QByteArrayView arg)
    {
        if (!arg.isEmpty()) {
            write("501 5.5.4 Syntax: DATA");
            return;
        }
        if (!inTransaction) {
            write("503 5.5.1 Need MAIL before DATA");
            return;
        }
        if (bdat) {
            write("503 5.5.1 DATA after BDAT"); // RFC 3030 2: no mixing
            return;
        }
        if (recipients.isEmpty()) {
            write("554 5.5.1 No valid recipients"); // RFC 5321 3.3
            return;
        }
        if (applyFault(Fault::Step::Data))
            return;
        beginMessage();
        write("354 End data with <CR><LF>.<CR><LF>");
        mode = Mode::Data;
        atLineStart = true;
    }

    void bdatCommand(QByteArrayView arg)
    {
        // RFC 3030 2: BDAT SP chunk-size [SP end-marker]
        const QList<QByteArrayView> parts = splitSpaces(arg);
        const qint64 size = parts.isEmpty() ? -1 : parseSize(parts[0]);
        const bool last = parts.size() == 2 && parts[1].toByteArray().toUpper() == "LAST";
        if (size < 0 || parts.size() > 2 || (parts.size() == 2 && !last)) {
            // The chunk size is unknown: nothing can be skipped.
            write("501 5.5.4 Syntax: BDAT size [LAST]");
            return;
        }
        const auto refuse = [&](const QByteArray &reply, int code) {
            // RFC 3030 2: a refused chunk is still read (and dropped).
            bdatDiscard = true;
            bdatReply = reply;
            bdatReplyCode = code;
            bdatRemaining = size;
            mode = Mode::Bdat;
        };
        if (!inTransaction) {
            refuse("503 5.5.1 Need MAIL before BDAT", 503);
            return;
        }
        if (recipients.isEmpty()) {
            refuse("554 5.5.1 No valid recipients", 554);
            return;
        }
        if (!bdat) {
            // The first chunk starts the message: the "data" step.
            const std::optional<Fault> f = faults->next(Fault::Step::Data);
            if (f && f->action == Fault::Action::Disconnect) {
                close();
                return;
            }
            if (f && f->action == Fault::Action::Reply) {
                QByteArray text = f->text.toUtf8();
                if (text.isEmpty())
                    text = (f->code < 500 ? "4.0.0" : "5.0.0") + QByteArray(" Scripted fault at data");
                refuse(QByteArray::number(f->code) + ' ' + text, f->code);
                return;
            }
            if (f && f->action == Fault::Action::Delay)
                delay(f->delayMs);
            bdat = true;
            beginMessage();
        }
        bdatRemaining = size;
        bdatChunkSize = size;
        bdatLast = last;
        bdatDiscard = false;
        mode = Mode::Bdat;
    }

    std::function<quint64()> randomSource = [] { return QRandomGenerator::system()->generate64(); };
};

ServerSession::ServerSession(ServerConfig config, std::shared_ptr<FaultState> faults,
                             std::shared_ptr<AuthThrottle> authThrottle)
    : d(std::make_unique<Private>())
{
    d->config = std::move(config);
    d->faults = faults ? std::move(faults) : std::make_shared<FaultState>();
    d->authThrottle = authThrottle ? std::move(authThrottle) : std::make_shared<AuthThrottle>();
    if (d->config.maxLineLength < 512)
        d->config.maxLineLength = 512; // RFC 5321 4.5.3.1.4: the minimum
}

ServerSession::~ServerSession() = default;

void ServerSession::start()
{
    if (d->started)
        return;
    d->started = true;
    d->encrypted = d->config.implicitTls;
    const std::optional<Fault> f = d->faults->next(Fault::Step::Greeting);
    if (f && f->action == Fault::Action::Disconnect) {
        d->close();
        return;
    }
    if (f && f->action == Fault::Action::Delay)
        d->delay(f->delayMs);
    if (f && f->action == Fault::Action::Reply) {
        d->faultReply(*f);
        if (d->closed())
            return;
        // RFC 5321 3.1: a refusing greeting (554) leaves only QUIT.
        d->refuseAll = true;
    } else {
        // RFC 5321 4.1.1.1 / 4.2: "220 <domain> ESMTP" invites EHLO.
        d->write("220 " + d->config.hostname + " ESMTP");
    }
    // Bytes a client sent before the greeting are answered now, in order.
    d->process();
    d->flushData(true);
}

void ServerSession::receive(QByteArrayView bytes)
{
    if (d->closed() || d->mode == Mode::WaitingTls)
        return; // after STARTTLS, plaintext is dropped (RFC 3207 4.2)
    d->in.append(bytes);
    if (!d->started)
        return;
    d->process();
    d->flushData(true);
}

void ServerSession::tlsStarted()
{
    if (d->closed())
        return;
    d->encrypted = true;
    if (d->mode != Mode::WaitingTls)
        return;
    // RFC 3207 4.2: the client must EHLO again; no knowledge is carried over.
    d->mode = Mode::Command;
    d->in.clear();
    d->pos = 0;
    d->greeted = false;
    d->authenticated = false;
    d->discardingLine = false;
    d->resetTransaction();
}

void ServerSession::messageStored(bool ok, const QString &id, const QString &error)
{
    Q_UNUSED(error) // for the local log only: the driver logs it
    messageStored(ok ? StoreResult::Stored : StoreResult::Failed, id);
}

void ServerSession::setStoreSpace(const StoreSpace &space)
{
    d->store = space;
}

void ServerSession::messageStored(StoreResult result, const QString &id)
{
    if (d->mode != Mode::WaitingStore)
        return;
    if (d->eodDelayMs > 0)
        d->delay(d->eodDelayMs);
    switch (result) {
    case StoreResult::Stored:
        d->faults->messageAccepted(d->now);
        d->write("250 2.0.0 Ok: queued as " + sanitize(id));
        break;
    case StoreResult::Full:
        d->storeFullReply();
        break;
    case StoreResult::TooLarge:
        d->overQuota = true;
        d->write(d->tooBigReply());
        break;
    case StoreResult::Failed:
        // RFC 5321 4.2.3 gives this text for 451; RFC 3463 4.3.0 "other or
        // undefined mail system status". Nothing of the cause goes to the peer:
        // it holds local paths and system errors (the driver logs it).
        d->write("451 4.3.0 Requested action aborted: local error in processing");
        break;
    }
    d->endTransaction();
    d->mode = Mode::Command;
    d->process(); // commands pipelined after the end of data
    d->flushData(true);
}

void ServerSession::setNow(qint64 ms)
{
    d->now = ms;
}

void ServerSession::setRandomSource(std::function<quint64()> source)
{
    if (source)
        d->randomSource = std::move(source);
}

QList<ServerAction> ServerSession::takeActions()
{
    return std::exchange(d->actions, {});
}

quint64 ServerSession::progress() const
{
    return d->progress;
}

bool ServerSession::isClosed() const
{
    return d->closed();
}

bool ServerSession::isEncrypted() const
{
    return d->encrypted;
}

} // namespace Capture
