#include "sessioncompare.h"

#include <QDir>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSet>
#include <QSslCertificate>

#include <algorithm>
#include <cmath>
#include <utility>

// How it works: both records are reduced to the same "facts" (one set per SMTP
// endpoint: the send/probe result itself, or each endpoint of a diagnosis), read
// from the JSON-friendly result maps the store keeps (SendResult::toVariantMap(),
// Diagnostics::Report::toVariantMap()), never from live objects: a session stored
// by an older build compares the same way. Each fact becomes one row; the rows of
// one side missing on the other show "" there.

Q_LOGGING_CATEGORY(lcCompare, "smtpscope.store")

namespace Store {

namespace {

const QString kOutcome = QStringLiteral("Outcome");
const QString kServer = QStringLiteral("Server");
const QString kCapsBefore = QStringLiteral("Capabilities before TLS");
const QString kCapsAfter = QStringLiteral("Capabilities after TLS");
const QString kTls = QStringLiteral("TLS");
const QString kCertificate = QStringLiteral("Certificate");
const QString kAuth = QStringLiteral("AUTH");
const QString kRecipients = QStringLiteral("Recipients");
const QString kTimings = QStringLiteral("Timings");
const QString kChecks = QStringLiteral("Checks");

QString s(const QVariant &v) { return v.toString(); }

QString yesNo(bool b) { return b ? QStringLiteral("yes") : QStringLiteral("no"); }

// A reply map {code, enhanced, desc} as one line, as the transcript shows it.
QString replyLine(const QVariant &v)
{
    const QVariantMap m = v.toMap();
    if (m.isEmpty() || m.value(QStringLiteral("code")).toInt() == 0)
        return {};
    QString out = QString::number(m.value(QStringLiteral("code")).toInt());
    const QString enhanced = m.value(QStringLiteral("enhanced")).toString();
    QString desc = m.value(QStringLiteral("desc")).toString();
    desc.replace(QLatin1Char('\n'), QStringLiteral(" / "));
    if (!enhanced.isEmpty() && !desc.startsWith(enhanced))
        out += QLatin1Char(' ') + enhanced;
    if (!desc.isEmpty())
        out += QLatin1Char(' ') + desc;
    return out;
}

QString msText(double ms)
{
    return QString::number(ms, 'f', ms < 10 ? 2 : 1);
}

// Timings never repeat to the microsecond: a row differs only when the change is
// one a person would act on, more than 10 ms and more than 25% of the slower one.
// Network jitter on loopback or a LAN stays under that; a server that started
// to tarpit or a DNS timeout does not.
bool sameTiming(double a, double b)
{
    const double diff = std::abs(a - b);
    return diff <= 10.0 || diff <= 0.25 * std::max(a, b);
}

// The first word of an EHLO line is the keyword (RFC 5321 4.1.1.1: ehlo-keyword,
// case-insensitive), the rest its parameters.
QString capabilityKeyword(const QString &line)
{
    const qsizetype space = line.indexOf(QLatin1Char(' '));
    return (space < 0 ? line : line.left(space)).toUpper();
}

// Keyword -> the line(s) as the server sent them, in the server's order.
QList<std::pair<QString, QString>> capabilityMap(const QStringList &lines)
{
    QList<std::pair<QString, QString>> out;
    for (const QString &raw : lines) {
        const QString line = raw.trimmed();
        if (line.isEmpty())
            continue;
        const QString k = capabilityKeyword(line);
        auto it = std::find_if(out.begin(), out.end(), [&k](const auto &p) { return p.first == k; });
        if (it == out.end())
            out.append({k, line});
        else
            it->second += QStringLiteral(" / ") + line;
    }
    return out;
}

// AUTH mechanisms offered (RFC 4954 3: "AUTH mech mech ..."; the old "AUTH=mech"
// form some servers still repeat is folded in), sorted for a stable comparison.
QString authMechanisms(const QStringList &caps)
{
    QStringList mechs;
    for (const QString &raw : caps) {
        const QString line = raw.trimmed();
        const QString k = capabilityKeyword(line);
        QStringList words;
        if (k == u"AUTH")
            words = line.mid(4).split(QLatin1Char(' '), Qt::SkipEmptyParts);
        else if (k.startsWith(QStringLiteral("AUTH=")))
            words = line.mid(5).split(QLatin1Char(' '), Qt::SkipEmptyParts);
        for (const QString &w : std::as_const(words)) {
            if (!mechs.contains(w.toUpper()))
                mechs.append(w.toUpper());
        }
    }
    mechs.sort();
    return mechs.join(QLatin1Char(' '));
}

// What one SMTP conversation showed, from a send/probe result map or a diagnosis
// endpoint map.
struct Facts
{
    QString greeting;
    QString ehlo;
    QStringList capsBefore, capsAfter;
    QVariantMap tls;           // TlsInfo::toVariantMap(), empty without TLS
    QString authUsed;          // "PLAIN: 235 2.7.0 ..." (last attempt)
    QList<std::pair<QString, QString>> recipients;
    QString mail, message, quit;
    QList<std::pair<QString, double>> timings; // aspect, ms
};

Facts sendFacts(const QVariantMap &r)
{
    Facts f;
    f.greeting = replyLine(r.value(QStringLiteral("greeting")));
    // The EHLO reply's first line names the server (RFC 5321 4.1.1.1); its other
    // lines are the capabilities, compared one by one below.
    const bool helo = r.contains(QStringLiteral("HELO"));
    QVariantMap ehlo = r.value(helo ? QStringLiteral("HELO") : QStringLiteral("EHLO")).toMap();
    ehlo.insert(QStringLiteral("desc"), ehlo.value(QStringLiteral("desc")).toString().section(QLatin1Char('\n'), 0, 0));
    f.ehlo = (helo ? QStringLiteral("HELO ") : QString()) + replyLine(ehlo);
    const QStringList caps = r.value(QStringLiteral("capabilities")).toStringList();
    // With TLS, "capabilities" are the ones asked again inside it (RFC 3207 4.2)
    // and "capabilities_before_tls" the plain ones (none with implicit TLS, RFC 8314);
    // without TLS "capabilities" is the only list there is.
    if (r.value(QStringLiteral("encrypted")).toBool()) {
        f.capsBefore = r.value(QStringLiteral("capabilities_before_tls")).toStringList();
        f.capsAfter = caps;
        f.tls = r.value(QStringLiteral("tls")).toMap();
    } else {
        f.capsBefore = caps;
    }
    const QVariantList auth = r.value(QStringLiteral("auth")).toList();
    if (!auth.isEmpty()) {
        const QVariantMap last = auth.constLast().toMap();
        f.authUsed = last.value(QStringLiteral("mechanism")).toString() + QStringLiteral(": ") + replyLine(last);
    }
    const QVariantMap rcpt = r.value(QStringLiteral("RCPT")).toMap();
    for (auto it = rcpt.cbegin(); it != rcpt.cend(); ++it)
        f.recipients.append({it.key(), replyLine(it.value())});
    f.mail = replyLine(r.value(QStringLiteral("MAIL")));
    f.message = replyLine(r.value(QStringLiteral("MSGID")));
    f.quit = replyLine(r.value(QStringLiteral("QUIT")));
    // A step may come twice (EHLO before and after STARTTLS): number the repeats.
    QHash<QString, int> seen;
    for (const QVariant &v : r.value(QStringLiteral("timings")).toList()) {
        const QVariantMap t = v.toMap();
        const QString step = t.value(QStringLiteral("step")).toString();
        const int n = ++seen[step];
        const QString name = n == 1 ? step : QStringLiteral("%1 #%2").arg(step).arg(n);
        f.timings.append({name + QStringLiteral(" (ms)"), t.value(QStringLiteral("us")).toDouble() / 1000.0});
    }
    return f;
}

Facts endpointFacts(const QVariantMap &e)
{
    Facts f;
    f.greeting = e.value(QStringLiteral("greeting")).toString().replace(QLatin1Char('\n'), QStringLiteral(" / "));
    f.capsBefore = e.value(QStringLiteral("capabilities_before_tls")).toStringList();
    f.capsAfter = e.value(QStringLiteral("capabilities_after_tls")).toStringList();
    f.tls = e.value(QStringLiteral("tls")).toMap();
    return f;
}

class Builder
{
public:
    QList<ComparisonRow> rows;

    void add(const QString &section, const QString &aspect, const QString &left, const QString &right)
    {
        rows.append({section, aspect, left, right, left == right});
    }
    void addTiming(const QString &section, const QString &aspect, std::optional<double> left,
                   std::optional<double> right)
    {
        ComparisonRow row{section, aspect, left ? msText(*left) : QString(), right ? msText(*right) : QString(), false};
        row.same = left && right ? sameTiming(*left, *right) : (!left && !right);
        rows.append(row);
    }

    // Facts of one endpoint on each side; `prefix` names the endpoint when a
    // diagnosis had several ("127.0.0.1:587 ").
    void addFacts(const QString &prefix, const Facts &l, const Facts &r, bool sendLike)
    {
        add(kServer, prefix + QStringLiteral("greeting"), l.greeting, r.greeting);
        if (sendLike)
            add(kServer, prefix + QStringLiteral("EHLO reply"), l.ehlo, r.ehlo);
        addCapabilities(kCapsBefore, prefix, l.capsBefore, r.capsBefore);
        addCapabilities(kCapsAfter, prefix, l.capsAfter, r.capsAfter);
        addTls(prefix, l.tls, r.tls);
        // The mechanisms a client may use are those offered where it would
        // authenticate: inside TLS when there is TLS (RFC 4954 4, RFC 3207 4.2).
        const QString lm = authMechanisms(l.capsAfter.isEmpty() ? l.capsBefore : l.capsAfter);
        const QString rm = authMechanisms(r.capsAfter.isEmpty() ? r.capsBefore : r.capsAfter);
        add(kAuth, prefix + QStringLiteral("mechanisms offered"), lm, rm);
        if (sendLike) {
            add(kAuth, prefix + QStringLiteral("result"), l.authUsed, r.authUsed);
            add(kOutcome, prefix + QStringLiteral("MAIL FROM reply"), l.mail, r.mail);
            addRecipients(l.recipients, r.recipients);
            add(kOutcome, prefix + QStringLiteral("end of data reply"), l.message, r.message);
            add(kOutcome, prefix + QStringLiteral("QUIT reply"), l.quit, r.quit);
            addTimings(l.timings, r.timings);
        }
    }

private:
    void addCapabilities(const QString &section, const QString &prefix, const QStringList &l, const QStringList &r)
    {
        const auto lm = capabilityMap(l);
        const auto rm = capabilityMap(r);
        auto find = [](const QList<std::pair<QString, QString>> &m, const QString &k) {
            for (const auto &[kk, v] : m) {
                if (kk == k)
                    return v;
            }
            return QString();
        };
        QStringList order;
        for (const auto &p : lm)
            order.append(p.first);
        for (const auto &p : rm) {
            if (!order.contains(p.first))
                order.append(p.first);
        }
        // EHLO keywords and their usual parameters (AUTH mechanism names) are
        // case-insensitive (RFC 5321 2.4, RFC 4954 3): "pipelining" is no change.
        for (const QString &k : std::as_const(order)) {
            const QString lv = find(lm, k), rv = find(rm, k);
            rows.append({section, prefix + k, lv, rv, lv.compare(rv, Qt::CaseInsensitive) == 0});
        }
    }

    void addTls(const QString &prefix, const QVariantMap &l, const QVariantMap &r)
    {
        auto tlsField = [](const QVariantMap &m, const char *name) {
            return m.isEmpty() ? QString() : m.value(QLatin1String(name)).toString();
        };
        add(kTls, prefix + QStringLiteral("protocol"), tlsField(l, "protocol"), tlsField(r, "protocol"));
        add(kTls, prefix + QStringLiteral("cipher"), tlsField(l, "cipher"), tlsField(r, "cipher"));
        auto verified = [](const QVariantMap &m) {
            if (m.isEmpty())
                return QString();
            if (m.value(QStringLiteral("insecure")).toBool())
                return QStringLiteral("not checked (insecure)");
            return m.value(QStringLiteral("verified")).toBool() ? QStringLiteral("verified")
                                                                : QStringLiteral("not verified");
        };
        add(kTls, prefix + QStringLiteral("verification"), verified(l), verified(r));
        auto errors = [](const QVariantMap &m) {
            QStringList names;
            for (const QVariant &v : m.value(QStringLiteral("errors")).toList())
                names.append(v.toMap().value(QStringLiteral("name")).toString());
            return names.join(QStringLiteral(", "));
        };
        add(kTls, prefix + QStringLiteral("verification errors"), errors(l), errors(r));

        const QVariantList lc = l.value(QStringLiteral("chain")).toList();
        const QVariantList rc = r.value(QStringLiteral("chain")).toList();
        const QVariantMap ll = lc.value(0).toMap();
        const QVariantMap rl = rc.value(0).toMap();
        add(kCertificate, prefix + QStringLiteral("leaf subject"), s(ll.value(QStringLiteral("subject"))),
            s(rl.value(QStringLiteral("subject"))));
        add(kCertificate, prefix + QStringLiteral("leaf issuer"), s(ll.value(QStringLiteral("issuer"))),
            s(rl.value(QStringLiteral("issuer"))));
        add(kCertificate, prefix + QStringLiteral("leaf names"),
            ll.value(QStringLiteral("sans")).toStringList().join(QStringLiteral(", ")),
            rl.value(QStringLiteral("sans")).toStringList().join(QStringLiteral(", ")));
        add(kCertificate, prefix + QStringLiteral("leaf valid from"), s(ll.value(QStringLiteral("notBefore"))),
            s(rl.value(QStringLiteral("notBefore"))));
        add(kCertificate, prefix + QStringLiteral("leaf expiry"), s(ll.value(QStringLiteral("notAfter"))),
            s(rl.value(QStringLiteral("notAfter"))));
        add(kCertificate, prefix + QStringLiteral("leaf SHA-256"), s(ll.value(QStringLiteral("sha256"))),
            s(rl.value(QStringLiteral("sha256"))));
        add(kCertificate, prefix + QStringLiteral("chain length"), lc.isEmpty() ? QString() : QString::number(lc.size()),
            rc.isEmpty() ? QString() : QString::number(rc.size()));
    }

    void addRecipients(const QList<std::pair<QString, QString>> &l, const QList<std::pair<QString, QString>> &r)
    {
        QStringList order;
        for (const auto &p : l)
            order.append(p.first);
        for (const auto &p : r) {
            if (!order.contains(p.first))
                order.append(p.first);
        }
        auto find = [](const QList<std::pair<QString, QString>> &m, const QString &k) {
            for (const auto &[kk, v] : m) {
                if (kk == k)
                    return v;
            }
            return QString();
        };
        for (const QString &a : std::as_const(order))
            add(kRecipients, a, find(l, a), find(r, a));
    }

    void addTimings(const QList<std::pair<QString, double>> &l, const QList<std::pair<QString, double>> &r)
    {
        QStringList order;
        for (const auto &p : l)
            order.append(p.first);
        for (const auto &p : r) {
            if (!order.contains(p.first))
                order.append(p.first);
        }
        auto find = [](const QList<std::pair<QString, double>> &m, const QString &k) -> std::optional<double> {
            for (const auto &[kk, v] : m) {
                if (kk == k)
                    return v;
            }
            return std::nullopt;
        };
        for (const QString &a : std::as_const(order))
            addTiming(kTimings, a, find(l, a), find(r, a));
    }
};

bool isDiagnosis(const SessionRecord &r) { return r.kind == SessionKind::Diagnosis; }

void compareDiagnoses(Builder &b, const SessionRecord &left, const SessionRecord &right)
{
    const QVariantList le = left.result.value(QStringLiteral("endpoints")).toList();
    const QVariantList re = right.result.value(QStringLiteral("endpoints")).toList();
    // One endpoint each (the usual "host:port" diagnosis): compare them whatever
    // their names, so a server moved to another port still lines up. Several:
    // pair them by target.
    const bool single = le.size() == 1 && re.size() == 1;
    QString leftScope, rightScope;
    if (single) {
        leftScope = le.first().toMap().value(QStringLiteral("target")).toString();
        rightScope = re.first().toMap().value(QStringLiteral("target")).toString();
        b.addFacts({}, endpointFacts(le.first().toMap()), endpointFacts(re.first().toMap()), false);
    } else {
        QStringList targets;
        QHash<QString, QVariantMap> lm, rm;
        for (const QVariant &v : le) {
            const QVariantMap m = v.toMap();
            const QString t = m.value(QStringLiteral("target")).toString();
            lm.insert(t, m);
            targets.append(t);
        }
        for (const QVariant &v : re) {
            const QVariantMap m = v.toMap();
            const QString t = m.value(QStringLiteral("target")).toString();
            rm.insert(t, m);
            if (!targets.contains(t))
                targets.append(t);
        }
        for (const QString &t : std::as_const(targets)) {
            b.add(kServer, t + QStringLiteral(" reachable"),
                  lm.contains(t) ? yesNo(lm.value(t).value(QStringLiteral("reachable")).toBool()) : QString(),
                  rm.contains(t) ? yesNo(rm.value(t).value(QStringLiteral("reachable")).toBool()) : QString());
            b.addFacts(t + QLatin1Char(' '), endpointFacts(lm.value(t)), endpointFacts(rm.value(t)), false);
        }
    }

    // Each check by (scope, id) (diagnosticreport.h: that pair is unique); with one
    // endpoint each, the right one's scope is read as the left one's.
    struct CheckFacts
    {
        QString verdict;
        double ms = 0;
        bool timed = false;
    };
    QStringList order;
    QHash<QString, CheckFacts> lc, rc;
    auto collect = [&order](const QVariantList &checks, QHash<QString, CheckFacts> &out, const QString &from,
                            const QString &to) {
        for (const QVariant &v : checks) {
            const QVariantMap c = v.toMap();
            QString scope = c.value(QStringLiteral("scope")).toString();
            if (!from.isEmpty() && scope == from)
                scope = to;
            const QString k = scope + QLatin1Char(' ') + c.value(QStringLiteral("id")).toString();
            const double ms = c.value(QStringLiteral("duration_ms")).toDouble();
            out.insert(k, {c.value(QStringLiteral("verdict")).toString(), ms, ms > 0});
            if (!order.contains(k))
                order.append(k);
        }
    };
    collect(left.result.value(QStringLiteral("checks")).toList(), lc, {}, {});
    collect(right.result.value(QStringLiteral("checks")).toList(), rc, single ? rightScope : QString(), leftScope);
    for (const QString &k : std::as_const(order))
        b.add(kChecks, k, lc.value(k).verdict, rc.value(k).verdict);
    for (const QString &k : std::as_const(order)) {
        const CheckFacts l = lc.value(k), r = rc.value(k);
        if (!l.timed && !r.timed)
            continue;
        b.addTiming(kTimings, k + QStringLiteral(" (ms)"), l.timed ? std::optional<double>(l.ms) : std::nullopt,
                    r.timed ? std::optional<double>(r.ms) : std::nullopt);
    }
}

} // namespace

QList<ComparisonRow> compareSessions(const SessionRecord &left, const SessionRecord &right)
{
    Builder b;
    b.add(kOutcome, QStringLiteral("kind"), sessionKindName(left.kind), sessionKindName(right.kind));
    b.add(kOutcome, QStringLiteral("target"), left.target, right.target);
    b.add(kOutcome, QStringLiteral("security"), left.securityMode, right.securityMode);
    b.add(kOutcome, QStringLiteral("outcome"), left.outcome, right.outcome);
    b.add(kOutcome, QStringLiteral("error"), left.error, right.error);
    b.addTiming(kTimings, QStringLiteral("whole session (ms)"), double(left.durationUs) / 1000.0,
                double(right.durationUs) / 1000.0);

    if (isDiagnosis(left) && isDiagnosis(right)) {
        compareDiagnoses(b, left, right);
    } else if (!isDiagnosis(left) && !isDiagnosis(right)) {
        b.addFacts({}, sendFacts(left.result), sendFacts(right.result), true);
    } else {
        // A send against a diagnosis: what both saw of the server is comparable
        // (the diagnosis's first endpoint); their steps are not.
        auto facts = [](const SessionRecord &r) {
            if (!isDiagnosis(r))
                return sendFacts(r.result);
            return endpointFacts(r.result.value(QStringLiteral("endpoints")).toList().value(0).toMap());
        };
        b.addFacts({}, facts(left), facts(right), false);
    }

    // Rows empty on both sides say nothing (a plain session has no certificate).
    QList<ComparisonRow> out;
    out.reserve(b.rows.size());
    for (const ComparisonRow &r : std::as_const(b.rows)) {
        if (!r.left.isEmpty() || !r.right.isEmpty())
            out.append(r);
    }
    return out;
}

namespace {

// The engine redacts AUTH data unless a profile chose to show it for that session
// (ARCHITECTURE.md "Rules that keep it safe"); a bundle is meant to be shared, so
// it is redacted again whatever the session showed. RFC 4954 4: the initial
// response follows the mechanism on the AUTH line, and every client line after a
// 334 challenge up to the server's final reply is a SASL response.
QList<TranscriptEntry> redactedTranscript(const QList<TranscriptEntry> &in)
{
    static const QRegularExpression authLine(QStringLiteral("^(AUTH\\s+\\S+)\\s+(\\S.*)$"),
                                             QRegularExpression::CaseInsensitiveOption);
    QList<TranscriptEntry> out = in;
    bool inSasl = false;
    for (TranscriptEntry &e : out) {
        if (e.direction == TranscriptEntry::Direction::Server) {
            inSasl = e.text.startsWith(QStringLiteral("334"));
            continue;
        }
        if (e.direction != TranscriptEntry::Direction::Client)
            continue;
        const auto m = authLine.match(e.text);
        if (m.hasMatch()) {
            if (!m.captured(2).startsWith(QLatin1Char('<')))
                e.text = m.captured(1) + QStringLiteral(" <redacted>");
            continue;
        }
        // "*" cancels the exchange (RFC 4954 4) and says nothing secret.
        if (inSasl && e.text != u"*" && !e.text.startsWith(QLatin1Char('<')))
            e.text = QStringLiteral("<redacted SASL response>");
    }
    return out;
}

// Socket events may carry the raw bytes written (PACKET_SENT "data"), AUTH
// included: a bundle keeps sizes and times, not payloads.
QVariantList redactedEvents(const QList<QVariantMap> &events)
{
    QVariantList out;
    out.reserve(events.size());
    for (QVariantMap e : events) {
        e.remove(QStringLiteral("data"));
        out.append(e);
    }
    return out;
}

QString transcriptLine(const TranscriptEntry &e)
{
    // As TranscriptView shows and saves it: "  0.012 C [tls] EHLO x".
    return QStringLiteral("%1 %2 %3%4")
        .arg(double(e.timeUs) / 1e6, 7, 'f', 3)
        .arg(TranscriptEntry::directionTag(e.direction), e.encrypted ? QStringLiteral("[tls] ") : QString(), e.text);
}

bool writeAtomically(const QString &path, const QByteArray &data, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(data) != data.size() || !file.commit()) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
        return false;
    }
    return true;
}

} // namespace

QString exportBundle(const SessionRecord &record, const QString &dir, QString *error)
{
    const QDateTime started = record.started.isValid() ? record.started.toUTC() : QDateTime::currentDateTimeUtc();
    const QString name = QStringLiteral("session-%1-%2").arg(record.id).arg(started.toString(QStringLiteral("yyyyMMdd-HHmmss")));
    QDir base(dir);
    if (!base.mkpath(name)) {
        if (error)
            *error = QStringLiteral("cannot create the folder %1").arg(QDir::toNativeSeparators(base.filePath(name)));
        return {};
    }
    const QString folder = base.filePath(name);

    const QList<TranscriptEntry> transcript = redactedTranscript(record.transcript);
    QString text;
    for (const TranscriptEntry &e : transcript) {
        text += transcriptLine(e);
        text += QLatin1Char('\n');
    }
    if (!writeAtomically(QDir(folder).filePath(QStringLiteral("transcript.txt")), text.toUtf8(), error))
        return {};

    // The record as data, minus the message (message.eml holds it) and the chain
    // (chain.pem); the user name stays, a password is never in a record.
    const QVariantMap json{
        {QStringLiteral("id"), record.id},
        {QStringLiteral("kind"), sessionKindName(record.kind)},
        {QStringLiteral("started"), started.toString(Qt::ISODateWithMs)},
        {QStringLiteral("duration_us"), record.durationUs},
        {QStringLiteral("source"), record.source},
        {QStringLiteral("profile"), record.profile},
        {QStringLiteral("target"), record.target},
        {QStringLiteral("security_mode"), record.securityMode},
        {QStringLiteral("user"), record.user},
        {QStringLiteral("outcome"), record.outcome},
        {QStringLiteral("error"), record.error},
        {QStringLiteral("subject"), record.subject},
        {QStringLiteral("from"), record.from},
        {QStringLiteral("recipients"), record.recipients},
        {QStringLiteral("result"), record.result},
        {QStringLiteral("usage"), record.usage},
        {QStringLiteral("transcript"), TranscriptEntry::toVariantList(transcript)},
        {QStringLiteral("events"), redactedEvents(record.events)},
        {QStringLiteral("message_bytes"), record.messageBytes},
        {QStringLiteral("message_kept"), !record.message.isEmpty()},
    };
    const QByteArray jsonBytes = QJsonDocument(QJsonObject::fromVariantMap(json)).toJson(QJsonDocument::Indented);
    if (!writeAtomically(QDir(folder).filePath(QStringLiteral("result.json")), jsonBytes, error))
        return {};

    if (!record.certificateChain.isEmpty()) {
        // Written as stored (PEM, leaf first) after checking it is PEM at all, so a
        // damaged record does not produce a file that only looks like a chain.
        if (QSslCertificate::fromData(record.certificateChain, QSsl::Pem).isEmpty()) {
            qCWarning(lcCompare) << "session" << record.id << "has a certificate chain that is not PEM; not exported";
        } else if (!writeAtomically(QDir(folder).filePath(QStringLiteral("chain.pem")), record.certificateChain,
                                    error)) {
            return {};
        }
    }
    if (!record.message.isEmpty()
        && !writeAtomically(QDir(folder).filePath(QStringLiteral("message.eml")), record.message, error))
        return {};
    return folder;
}

} // namespace Store
