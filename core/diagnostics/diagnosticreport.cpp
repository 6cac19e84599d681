#include "diagnosticreport.h"

#include <algorithm>

namespace Diagnostics {

namespace {

double ms(qint64 us)
{
    return double(us) / 1000.0;
}

} // namespace

QString verdictName(Verdict verdict)
{
    switch (verdict) {
    case Verdict::Pass:
        return QStringLiteral("pass");
    case Verdict::Info:
        return QStringLiteral("info");
    case Verdict::Warn:
        return QStringLiteral("warn");
    case Verdict::Fail:
        return QStringLiteral("fail");
    case Verdict::Skipped:
        return QStringLiteral("skipped");
    }
    return QStringLiteral("info");
}

std::optional<Verdict> verdictFromName(const QString &name)
{
    for (Verdict v : {Verdict::Pass, Verdict::Info, Verdict::Warn, Verdict::Fail, Verdict::Skipped}) {
        if (verdictName(v) == name)
            return v;
    }
    return std::nullopt;
}

QString Endpoint::target() const
{
    // RFC 3986 3.2.2: an IPv6 literal is bracketed before ":port".
    const bool v6 = host.contains(u':');
    return QStringLiteral("%1%2%3:%4")
        .arg(v6 ? QStringLiteral("[") : QString(), host, v6 ? QStringLiteral("]") : QString())
        .arg(port);
}

QString Endpoint::roleName(Role role)
{
    switch (role) {
    case Role::Relay:
        return QStringLiteral("relay");
    case Role::Submission:
        return QStringLiteral("submission");
    case Role::Submissions:
        return QStringLiteral("submissions");
    }
    return QStringLiteral("submission");
}

std::optional<Endpoint::Role> Endpoint::roleFromName(const QString &name)
{
    for (Role r : {Role::Relay, Role::Submission, Role::Submissions}) {
        if (roleName(r) == name)
            return r;
    }
    return std::nullopt;
}

Endpoint::Role Endpoint::roleForPort(quint16 port)
{
    // RFC 8314 7.3 assigns 465 to submissions; RFC 5321 uses 25 between MTAs;
    // anything else is treated as message submission (RFC 6409, 587).
    if (port == 465)
        return Role::Submissions;
    if (port == 25)
        return Role::Relay;
    return Role::Submission;
}

QVariantMap Endpoint::toVariantMap() const
{
    QVariantMap m{
        {QStringLiteral("target"), target()},
        {QStringLiteral("host"), host},
        {QStringLiteral("port"), port},
        {QStringLiteral("role"), roleName(role)},
        {QStringLiteral("source"), source},
        {QStringLiteral("addresses"), addresses},
        {QStringLiteral("peer_verify_name"), peerVerifyName},
        {QStringLiteral("reachable"), reachable},
        {QStringLiteral("address"), address},
        {QStringLiteral("greeting"), greeting},
        {QStringLiteral("greeting_name"), greetingName},
        {QStringLiteral("ehlo_name"), ehloName},
        {QStringLiteral("ptr_name"), ptrName},
        {QStringLiteral("capabilities_before_tls"), capabilitiesBeforeTls},
        {QStringLiteral("capabilities_after_tls"), capabilitiesAfterTls},
        {QStringLiteral("implicit_tls_spoken"), implicitTlsSpoken},
        {QStringLiteral("tls_versions_accepted"), tlsVersionsAccepted},
        {QStringLiteral("tls_versions_refused"), tlsVersionsRefused},
        {QStringLiteral("tls_versions_untestable"), tlsVersionsUntestable},
        {QStringLiteral("transcript"), TranscriptEntry::toVariantList(transcript)},
    };
    if (tls.encrypted || !tls.chain.isEmpty() || !tls.errors.isEmpty())
        m.insert(QStringLiteral("tls"), tls.toVariantMap());
    return m;
}

int Report::count(Verdict verdict) const
{
    return int(std::count_if(checks.cbegin(), checks.cend(),
                             [verdict](const Check &c) { return c.verdict == verdict; }));
}

Verdict Report::overall() const
{
    if (count(Verdict::Fail) > 0)
        return Verdict::Fail;
    if (count(Verdict::Warn) > 0)
        return Verdict::Warn;
    return Verdict::Pass;
}

QList<Check> Report::checksFor(const QString &scope) const
{
    QList<Check> out;
    for (const Check &c : checks) {
        if (c.scope == scope)
            out.append(c);
    }
    return out;
}

QVariantMap Report::toVariantMap() const
{
    QVariantMap counts;
    for (Verdict v : {Verdict::Pass, Verdict::Info, Verdict::Warn, Verdict::Fail, Verdict::Skipped})
        counts.insert(verdictName(v), count(v));

    QVariantList endpointList;
    for (const Endpoint &e : endpoints)
        endpointList.append(e.toVariantMap());

    QVariantList checkList;
    for (const Check &c : checks) {
        checkList.append(QVariantMap{
            {QStringLiteral("id"), c.id},
            {QStringLiteral("scope"), c.scope},
            {QStringLiteral("title"), c.title},
            {QStringLiteral("verdict"), verdictName(c.verdict)},
            {QStringLiteral("summary"), c.summary},
            {QStringLiteral("fix"), c.fix},
            {QStringLiteral("detail"), c.detail},
            {QStringLiteral("start_ms"), ms(c.startUs)},
            {QStringLiteral("duration_ms"), ms(c.durationUs)},
            {QStringLiteral("data"), c.data},
        });
    }

    return QVariantMap{
        {QStringLiteral("subject"), subject},
        {QStringLiteral("started"), started.toUTC().toString(Qt::ISODateWithMs)},
        {QStringLiteral("duration_ms"), ms(durationUs)},
        {QStringLiteral("cancelled"), cancelled},
        {QStringLiteral("overall"), verdictName(overall())},
        {QStringLiteral("counts"), counts},
        {QStringLiteral("options"), options},
        {QStringLiteral("endpoints"), endpointList},
        {QStringLiteral("checks"), checkList},
        {QStringLiteral("domain"), domain},
        {QStringLiteral("command_lines"), commandLines},
    };
}

} // namespace Diagnostics
