#include "diagnosis.h"

#include "reportexport.h"

#include <QHostAddress>
#include <QMutex>
#include <atomic>

namespace Diagnostics {

struct Diagnosis::Private
{
    DiagnosisOptions options;
    ServerChecker::CheckFunction checkFunction;
    ServerChecker::TranscriptFunction transcriptFunction;
    std::function<void(const Endpoint &)> endpointFunction;
    std::atomic<bool> cancelled{false};
    // What cancel() must reach: the checker or resolver of the running step. Both
    // live on the run() thread; the mutex keeps them alive while cancel() uses them.
    QMutex mutex;
    ServerChecker *checker = nullptr;
    Resolver *resolver = nullptr;

    // Hands checks appended to `checks` since `from` to the live view.
    void announce(const QList<Check> &checks, qsizetype from) const
    {
        if (!checkFunction)
            return;
        for (qsizetype i = from; i < checks.size(); ++i)
            checkFunction(checks.at(i));
    }

    [[nodiscard]] QList<Endpoint> hostEndpoints() const;
};

QList<Endpoint> Diagnosis::Private::hostEndpoints() const
{
    QList<Endpoint> out;
    auto add = [&](quint16 port, Endpoint::Role role, const QString &source) {
        for (const Endpoint &e : std::as_const(out)) {
            if (e.port == port)
                return;
        }
        Endpoint e;
        e.host = options.host;
        e.port = port;
        e.role = role;
        e.source = source;
        e.peerVerifyName = options.peerVerifyName;
        out.append(e);
    };
    if (options.port != 0) {
        // The user's own setting decides what the port must speak: implicit TLS
        // when they chose it (RFC 8314 3.3), else what the port number implies.
        add(options.port, options.implicitTls ? Endpoint::Role::Submissions : Endpoint::roleForPort(options.port),
            QStringLiteral("given"));
    }
    if (options.port == 0 || options.allPorts) {
        // RFC 8314 3.3 (465, implicit TLS) is preferred for submission over RFC 6409's
        // 587 with STARTTLS; 25 is where other servers deliver (RFC 5321 2.3.5).
        add(options.submissionsPort, Endpoint::Role::Submissions, QStringLiteral("standard port"));
        add(options.submissionPort, Endpoint::Role::Submission, QStringLiteral("standard port"));
        add(options.relayPort, Endpoint::Role::Relay, QStringLiteral("standard port"));
    }
    return out;
}

QString DiagnosisOptions::subject() const
{
    if (!domain.isEmpty())
        return domain;
    if (port == 0 || allPorts)
        return host;
    Endpoint given;
    given.host = host;
    given.port = port;
    return given.target();
}

QVariantMap DiagnosisOptions::toVariantMap() const
{
    QVariantMap m = checks.toVariantMap();
    m.insert(QStringLiteral("domain"), domain);
    m.insert(QStringLiteral("host"), host);
    m.insert(QStringLiteral("port"), port);
    m.insert(QStringLiteral("implicit_tls"), implicitTls);
    m.insert(QStringLiteral("peer_verify_name"), peerVerifyName);
    m.insert(QStringLiteral("all_ports"), allPorts);
    m.insert(QStringLiteral("dns"), dns);
    m.insert(QStringLiteral("nameserver"), dnsOptions.nameserver.isNull() ? QString() : dnsOptions.nameserver.toString());
    return m;
}

Diagnosis::Diagnosis(DiagnosisOptions options)
    : d(std::make_unique<Private>())
{
    d->options = std::move(options);
}

Diagnosis::~Diagnosis() = default;

void Diagnosis::setCheckFunction(ServerChecker::CheckFunction f)
{
    d->checkFunction = std::move(f);
}

void Diagnosis::setTranscriptFunction(ServerChecker::TranscriptFunction f)
{
    d->transcriptFunction = std::move(f);
}

void Diagnosis::setEndpointFunction(std::function<void(const Endpoint &)> f)
{
    d->endpointFunction = std::move(f);
}

void Diagnosis::cancel()
{
    d->cancelled = true;
    const QMutexLocker lock(&d->mutex);
    if (d->checker)
        d->checker->cancel();
    if (d->resolver)
        d->resolver->cancel();
}

Report Diagnosis::run()
{
    const DiagnosisOptions &o = d->options;
    QElapsedTimer clock;
    clock.start();

    Report report;
    report.started = QDateTime::currentDateTimeUtc();
    report.subject = o.subject();
    report.options = o.toVariantMap();

    Resolver resolver(o.dnsOptions);
    ServerChecker checker(o.checks);
    checker.setCheckFunction(d->checkFunction);
    checker.setTranscriptFunction(d->transcriptFunction);
    {
        const QMutexLocker lock(&d->mutex);
        d->checker = &checker;
        d->resolver = &resolver;
    }
    if (d->cancelled) {
        checker.cancel();
        resolver.cancel();
    }

    QList<Endpoint> endpoints;
    if (!o.domain.isEmpty() && o.dns && !d->cancelled) {
        const qsizetype from = report.checks.size();
        endpoints = discoverDomain(resolver, o.domain, o.relayPort, clock, &report.checks, &report.domain);
        d->announce(report.checks, from);
    }
    if (!o.host.isEmpty()) {
        QList<Endpoint> given = d->hostEndpoints();
        // With a nameserver of the user's choice (tests, split-horizon setups), the host
        // is resolved through it too, so that every lookup asks the same server.
        if (o.dns && !o.dnsOptions.nameserver.isNull() && QHostAddress(o.host).isNull() && !d->cancelled) {
            const DnsAnswer<QString> a = resolver.addresses(o.host);
            for (Endpoint &e : given)
                e.addresses = a.records;
        }
        endpoints += given;
    }

    QStringList mxNames;
    for (const Endpoint &e : std::as_const(endpoints)) {
        if (e.role == Endpoint::Role::Relay && e.source.startsWith(QStringLiteral("MX")))
            mxNames.append(e.host);
    }

    for (const Endpoint &endpoint : std::as_const(endpoints)) {
        if (d->cancelled)
            break;
        if (d->endpointFunction)
            d->endpointFunction(endpoint);
        Endpoint done = checker.run(endpoint, clock, &report.checks);
        if (o.dns && done.reachable && !done.address.isEmpty() && !d->cancelled) {
            Check ptr = checkReverseDns(resolver, &done, clock);
            report.checks.append(ptr);
            d->announce(report.checks, report.checks.size() - 1);
        }
        report.endpoints.append(done);
    }

    if (!o.domain.isEmpty() && o.dns && !d->cancelled) {
        const qsizetype from = report.checks.size();
        checkSenderDomain(resolver, o.domain, mxNames, clock, &report.checks, &report.domain);
        d->announce(report.checks, from);
    }

    {
        const QMutexLocker lock(&d->mutex);
        d->checker = nullptr;
        d->resolver = nullptr;
    }
    report.cancelled = d->cancelled || checker.isCancelled();
    report.durationUs = clock.nsecsElapsed() / 1000;
    report.commandLines = commandLines(report, o.checks.caFile);
    return report;
}

} // namespace Diagnostics
