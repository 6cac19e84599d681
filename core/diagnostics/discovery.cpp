// How it works: every lookup is one QDnsLookup (or one QNetworkReply for the
// MTA-STS policy) waited for in a local QEventLoop with a QTimer deadline; cancel()
// quits the loop from any thread. The checks built on top read the answers and say
// in plain words what they mean for mail, citing the RFC behind each verdict.
//
// Qt 6.4 reports a NOERROR answer without records ("the name exists, but not with
// this type", RFC 2308 2.2 NODATA) as InvalidReplyError, the same error as a server
// that never answered. A NODATA answer is common and harmless (a domain with an A
// record but no MX or no TXT), so on InvalidReplyError the question is asked again
// through the C library's resolver (res_nquery), whose h_errno tells NODATA,
// NXDOMAIN and failure apart.

#include "discovery.h"

#include "protocol/printable.h"

#include <QDnsLookup>
#include <QEventLoop>
#include <QMutex>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QPointer>
#include <QScopeGuard>
#include <QRegularExpression>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QTimer>
#include <QUrl>
#include <algorithm>
#include <array>
#include <atomic>

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

namespace Diagnostics {

namespace {

// DNS records and an HTTPS policy body are the peer's text: a check's detail
// shows them line by line by the escaping rule (protocol/printable.h), CRLF or
// LF line ends alike; the check's data keeps them exact.
QString shownLines(const QStringList &texts)
{
    QStringList out;
    for (const QString &text : texts) {
        for (QStringView line : QStringView(text).split(u'\n')) {
            if (line.endsWith(u'\r'))
                line.chop(1);
            out.append(Smtp::printable(line));
        }
    }
    return out.join(u'\n');
}

QString stripDot(QString name)
{
    while (name.endsWith(u'.'))
        name.chop(1);
    return name;
}

qint64 nowUs(const QElapsedTimer &clock)
{
    return clock.isValid() ? clock.nsecsElapsed() / 1000 : 0;
}

Check makeCheck(const QString &id, const QString &scope, const QString &title, qint64 startUs)
{
    Check c;
    c.id = id;
    c.scope = scope;
    c.title = title;
    c.startUs = startUs;
    return c;
}

void finish(Check *c, const QElapsedTimer &clock)
{
    c->durationUs = std::max<qint64>(0, nowUs(clock) - c->startUs);
}

QString listWords(const QStringList &items)
{
    if (items.size() <= 1)
        return items.join(QString());
    return items.mid(0, items.size() - 1).join(QStringLiteral(", ")) + QStringLiteral(" and ") + items.last();
}

// The reply code of `name`/`type` asked again through the C library's resolver
// (the system's servers, or `nameserver` when set; IPv4 only there, as glibc's
// public resolver state holds IPv4 servers): 0 (NOERROR) with *answers, 3
// (NXDOMAIN), or -1 when no usable reply came within about `ms`. Blocking: it runs
// on the diagnosis's own thread, and only after QDnsLookup's ambiguous error.
int resolverRcode(const QString &name, quint16 type, const QHostAddress &nameserver, int ms, int *answers)
{
    struct __res_state state {};
    if (res_ninit(&state) != 0)
        return -1;
    const auto close = qScopeGuard([&state] { res_nclose(&state); });
    if (!nameserver.isNull()) {
        if (nameserver.protocol() != QAbstractSocket::IPv4Protocol)
            return -1;
        sockaddr_in server {};
        server.sin_family = AF_INET;
        server.sin_port = htons(53);
        server.sin_addr.s_addr = htonl(nameserver.toIPv4Address());
        state.nsaddr_list[0] = server;
        state.nscount = 1;
    }
    state.retrans = std::max(1, ms / 1000); // seconds per try
    state.retry = 1;
    const QByteArray ascii = QUrl::toAce(stripDot(name));
    if (ascii.isEmpty())
        return -1;
    std::array<unsigned char, 4096> reply {};
    const int size = res_nquery(&state, ascii.constData(), ns_c_in, type, reply.data(), int(reply.size()));
    if (size >= 0) {
        ns_msg message {};
        if (ns_initparse(reply.data(), size, &message) < 0)
            return -1;
        *answers = ns_msg_count(message, ns_s_an);
        return ns_msg_getflag(message, ns_f_rcode);
    }
    switch (state.res_h_errno) {
    case NO_DATA: // RFC 2308 2.2
        *answers = 0;
        return 0;
    case HOST_NOT_FOUND: // NXDOMAIN
        return 3;
    default:
        return -1;
    }
}

QByteArray reverseName(const QHostAddress &address)
{
    // RFC 1035 3.5 (in-addr.arpa) and RFC 3596 2.5 (ip6.arpa, nibbles reversed).
    if (address.protocol() == QAbstractSocket::IPv4Protocol) {
        const quint32 v4 = address.toIPv4Address();
        return QStringLiteral("%1.%2.%3.%4.in-addr.arpa")
            .arg(v4 & 0xff)
            .arg((v4 >> 8) & 0xff)
            .arg((v4 >> 16) & 0xff)
            .arg(v4 >> 24)
            .toLatin1();
    }
    const Q_IPV6ADDR v6 = address.toIPv6Address();
    QByteArray name;
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) {
        name += hex[v6[i] & 0xf];
        name += '.';
        name += hex[(v6[i] >> 4) & 0xf];
        name += '.';
    }
    return name + "ip6.arpa";
}

} // namespace

struct Resolver::Private
{
    DnsOptions options;
    std::atomic<bool> cancelled{false};
    QMutex mutex;                 // guards `loop` against cancel() from another thread
    QPointer<QEventLoop> loop;

    enum class Wait { Done, Timeout, Cancelled };

    // Runs `loop` until it quits or `ms` pass; `loop` is published for cancel().
    Wait wait(QEventLoop &l, int ms)
    {
        if (cancelled)
            return Wait::Cancelled;
        QTimer timer;
        timer.setSingleShot(true);
        bool timedOut = false;
        QObject::connect(&timer, &QTimer::timeout, &l, [&] {
            timedOut = true;
            l.quit();
        });
        {
            QMutexLocker lock(&mutex);
            loop = &l;
        }
        timer.start(std::max(1, ms));
        l.exec();
        {
            QMutexLocker lock(&mutex);
            loop = nullptr;
        }
        if (cancelled)
            return Wait::Cancelled;
        return timedOut ? Wait::Timeout : Wait::Done;
    }

    QString nameserverName() const
    {
        return options.nameserver.isNull() ? QStringLiteral("the system's DNS server")
                                           : QStringLiteral("the DNS server %1").arg(options.nameserver.toString());
    }

    struct Outcome
    {
        bool notFound = false;
        QString error;
        std::unique_ptr<QDnsLookup> lookup;
    };

    Outcome lookup(QDnsLookup::Type type, const QString &name)
    {
        Outcome out;
        if (cancelled) {
            out.error = QStringLiteral("cancelled");
            return out;
        }
        QElapsedTimer started;
        started.start();
        out.lookup = options.nameserver.isNull() ? std::make_unique<QDnsLookup>(type, name)
                                                 : std::make_unique<QDnsLookup>(type, name, options.nameserver);
        QEventLoop l;
        QObject::connect(out.lookup.get(), &QDnsLookup::finished, &l, &QEventLoop::quit);
        out.lookup->lookup();
        const Wait w = out.lookup->isFinished() ? Wait::Done : wait(l, options.timeoutMs);
        if (w != Wait::Done) {
            out.lookup->abort();
            out.error = w == Wait::Cancelled
                ? QStringLiteral("cancelled")
                : QStringLiteral("no answer from %1 within %2 ms").arg(nameserverName()).arg(options.timeoutMs);
            return out;
        }
        switch (out.lookup->error()) {
        case QDnsLookup::NoError:
            break;
        case QDnsLookup::NotFoundError:
            out.notFound = true;
            break;
        case QDnsLookup::InvalidReplyError: {
            // See the top of the file: NODATA or no answer at all?
            int answers = 0;
            const int left = options.timeoutMs - int(started.elapsed());
            const int rcode = left > 0 && !cancelled
                ? resolverRcode(name, quint16(type), options.nameserver, left, &answers)
                : -1;
            if (rcode == 0 && answers == 0)
                break; // RFC 2308 2.2: the name exists without records of this type
            if (rcode == 3) {
                out.notFound = true; // NXDOMAIN
                break;
            }
            out.error = QStringLiteral("%1 (from %2)").arg(out.lookup->errorString(), nameserverName());
            break;
        }
        default:
            out.error = QStringLiteral("%1 (from %2)").arg(out.lookup->errorString(), nameserverName());
            break;
        }
        return out;
    }
};

Resolver::Resolver(DnsOptions options)
    : d(std::make_unique<Private>())
{
    d->options = std::move(options);
}

Resolver::~Resolver() = default;

const DnsOptions &Resolver::options() const
{
    return d->options;
}

void Resolver::cancel()
{
    d->cancelled = true;
    QMutexLocker lock(&d->mutex);
    if (d->loop)
        QMetaObject::invokeMethod(d->loop.data(), &QEventLoop::quit, Qt::QueuedConnection);
}

DnsAnswer<QString> Resolver::addresses(const QString &name)
{
    DnsAnswer<QString> answer;
    const QString host = stripDot(name);
    for (QDnsLookup::Type type : {QDnsLookup::A, QDnsLookup::AAAA}) {
        Private::Outcome o = d->lookup(type, host);
        if (!o.error.isEmpty()) {
            answer.error = o.error;
            continue;
        }
        if (o.notFound) {
            // NXDOMAIN holds for every type: no need to ask for AAAA.
            answer.notFound = answer.records.isEmpty();
            break;
        }
        for (const QDnsHostAddressRecord &r : o.lookup->hostAddressRecords())
            answer.records << r.value().toString();
    }
    return answer;
}

DnsAnswer<MxRecord> Resolver::mx(const QString &domain)
{
    DnsAnswer<MxRecord> answer;
    Private::Outcome o = d->lookup(QDnsLookup::MX, stripDot(domain));
    answer.error = o.error;
    answer.notFound = o.notFound;
    if (!o.error.isEmpty() || o.notFound)
        return answer;
    for (const QDnsMailExchangeRecord &r : o.lookup->mailExchangeRecords()) {
        MxRecord m;
        m.preference = r.preference();
        m.exchange = stripDot(r.exchange()); // RFC 7505: the null MX's "." becomes ""
        answer.records << m;
    }
    // RFC 5321 5.1: lower preference first; equal preferences in name order here
    // (senders pick among them at random).
    std::sort(answer.records.begin(), answer.records.end(), [](const MxRecord &a, const MxRecord &b) {
        return a.preference != b.preference ? a.preference < b.preference : a.exchange < b.exchange;
    });
    for (MxRecord &m : answer.records) {
        if (!m.exchange.isEmpty())
            m.addresses = addresses(m.exchange).records;
    }
    return answer;
}

DnsAnswer<SrvRecord> Resolver::srv(const QString &name)
{
    DnsAnswer<SrvRecord> answer;
    const QString n = stripDot(name);
    Private::Outcome o = d->lookup(QDnsLookup::SRV, n);
    answer.error = o.error;
    answer.notFound = o.notFound;
    if (!o.error.isEmpty() || o.notFound)
        return answer;
    // "_submission._tcp" out of "_submission._tcp.example.org".
    const QStringList labels = n.split(u'.');
    const QString service = labels.size() >= 2 ? labels.at(0) + u'.' + labels.at(1) : n;
    for (const QDnsServiceRecord &r : o.lookup->serviceRecords()) {
        SrvRecord s;
        s.service = service;
        s.priority = r.priority();
        s.weight = r.weight();
        s.port = r.port();
        s.target = stripDot(r.target());
        if (s.target.isEmpty())
            s.target = QStringLiteral("."); // RFC 2782: "." = the service is not offered
        answer.records << s;
    }
    // RFC 2782: lowest priority first; among equals, the heavier weight first.
    std::sort(answer.records.begin(), answer.records.end(), [](const SrvRecord &a, const SrvRecord &b) {
        return a.priority != b.priority ? a.priority < b.priority : a.weight > b.weight;
    });
    for (SrvRecord &s : answer.records) {
        if (s.target != QLatin1String("."))
            s.addresses = addresses(s.target).records;
    }
    return answer;
}

DnsAnswer<QString> Resolver::txt(const QString &name)
{
    DnsAnswer<QString> answer;
    Private::Outcome o = d->lookup(QDnsLookup::TXT, stripDot(name));
    answer.error = o.error;
    answer.notFound = o.notFound;
    if (!o.error.isEmpty() || o.notFound)
        return answer;
    for (const QDnsTextRecord &r : o.lookup->textRecords()) {
        // RFC 7208 3.3: the strings of one record are joined without spaces.
        QByteArray joined;
        for (const QByteArray &v : r.values())
            joined += v;
        answer.records << QString::fromUtf8(joined);
    }
    return answer;
}

DnsAnswer<QString> Resolver::ptr(const QString &address)
{
    DnsAnswer<QString> answer;
    QHostAddress a;
    if (!a.setAddress(address)) {
        answer.error = QStringLiteral("\"%1\" is not an IP address").arg(address);
        return answer;
    }
    // An IPv4-mapped IPv6 address has its PTR under in-addr.arpa.
    bool mapped = false;
    const quint32 v4 = a.toIPv4Address(&mapped);
    if (mapped && a.protocol() == QAbstractSocket::IPv6Protocol)
        a = QHostAddress(v4);
    Private::Outcome o = d->lookup(QDnsLookup::PTR, QString::fromLatin1(reverseName(a)));
    answer.error = o.error;
    answer.notFound = o.notFound;
    if (!o.error.isEmpty() || o.notFound)
        return answer;
    for (const QDnsDomainNameRecord &r : o.lookup->pointerRecords())
        answer.records << stripDot(r.value());
    return answer;
}

DnsAnswer<QString> Resolver::mtaStsPolicy(const QString &domain)
{
    DnsAnswer<QString> answer;
    const QString host = QStringLiteral("mta-sts.") + stripDot(domain).toLower();
    constexpr qint64 maxBytes = 64 * 1024; // RFC 8461 3.3 suggests a 64 KiB limit

    QUrl url;
    url.setScheme(QStringLiteral("https"));
    url.setPath(QStringLiteral("/.well-known/mta-sts.txt"));
    QNetworkRequest request;
    if (d->options.nameserver.isNull()) {
        url.setHost(host);
    } else {
        // A custom name server: resolve the policy host with it, so that the
        // system's DNS is never asked, and verify the certificate for the name.
        const DnsAnswer<QString> addrs = addresses(host);
        if (addrs.records.isEmpty()) {
            answer.error = addrs.notFound ? QStringLiteral("%1 does not exist in DNS").arg(host)
                         : !addrs.error.isEmpty() ? QStringLiteral("cannot resolve %1: %2").arg(host, addrs.error)
                                                  : QStringLiteral("%1 has no address").arg(host);
            return answer;
        }
        url.setHost(addrs.records.first());
        request.setPeerVerifyName(host);
        request.setRawHeader("Host", host.toLatin1());
    }
    request.setUrl(url);
    // RFC 8461 3.3: "HTTP 3xx redirects MUST NOT be followed".
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    request.setTransferTimeout(d->options.timeoutMs);
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    if (!d->options.caFile.isEmpty()) {
        const QList<QSslCertificate> cas = QSslCertificate::fromPath(d->options.caFile, QSsl::Pem);
        if (cas.isEmpty()) {
            answer.error = QStringLiteral("no certificate could be read from %1").arg(d->options.caFile);
            return answer;
        }
        ssl.addCaCertificates(cas);
    }
    request.setSslConfiguration(ssl);

    QNetworkAccessManager nam;
    if (!d->options.nameserver.isNull())
        nam.setProxy(QNetworkProxy::NoProxy); // a proxy would resolve names itself
    nam.setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
    std::unique_ptr<QNetworkReply> reply(nam.get(request));
    QEventLoop l;
    bool tooBig = false;
    QObject::connect(reply.get(), &QNetworkReply::finished, &l, &QEventLoop::quit);
    QObject::connect(reply.get(), &QNetworkReply::downloadProgress, &l, [&](qint64 received, qint64 total) {
        if (received > maxBytes || total > maxBytes) {
            tooBig = true;
            reply->abort();
        }
    });
    const Private::Wait w = reply->isFinished() ? Private::Wait::Done : d->wait(l, d->options.timeoutMs);
    if (w != Private::Wait::Done) {
        reply->abort();
        answer.error = w == Private::Wait::Cancelled
            ? QStringLiteral("cancelled")
            : QStringLiteral("https://%1/.well-known/mta-sts.txt gave no answer within %2 ms").arg(host).arg(d->options.timeoutMs);
        return answer;
    }
    const QString where = QStringLiteral("https://%1/.well-known/mta-sts.txt").arg(host);
    if (tooBig) {
        answer.error = QStringLiteral("%1 is larger than 64 KiB").arg(where);
        return answer;
    }
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (status >= 300 && status < 400) {
        answer.error = QStringLiteral("%1 redirects (HTTP %2 to %3); RFC 8461 3.3 forbids following redirects")
                           .arg(where)
                           .arg(status)
                           .arg(QString::fromUtf8(reply->rawHeader("Location")));
        return answer;
    }
    // An HTTP status says more than Qt's "Error transferring <address>" (which
    // names the IP, not the policy host).
    if (status != 0 && status != 200) {
        answer.error = QStringLiteral("%1 answered HTTP %2, not 200").arg(where).arg(status);
        return answer;
    }
    if (reply->error() != QNetworkReply::NoError) {
        answer.error = QStringLiteral("%1: %2").arg(where, reply->errorString());
        return answer;
    }
    // RFC 8461 3.2: the policy is served as text/plain.
    const QString type = reply->header(QNetworkRequest::ContentTypeHeader).toString();
    if (!type.trimmed().startsWith(QLatin1String("text/plain"), Qt::CaseInsensitive)) {
        answer.error = QStringLiteral("%1 is served as \"%2\", not text/plain").arg(where, type);
        return answer;
    }
    const QByteArray body = reply->read(maxBytes + 1);
    if (body.size() > maxBytes) {
        answer.error = QStringLiteral("%1 is larger than 64 KiB").arg(where);
        return answer;
    }
    answer.records << QString::fromUtf8(body);
    return answer;
}

// ---- checks

namespace {

QVariantMap mxToVariant(const MxRecord &m)
{
    return {{QStringLiteral("preference"), m.preference},
            {QStringLiteral("exchange"), m.exchange},
            {QStringLiteral("addresses"), m.addresses}};
}

QVariantMap srvToVariant(const SrvRecord &s)
{
    return {{QStringLiteral("service"), s.service}, {QStringLiteral("priority"), s.priority},
            {QStringLiteral("weight"), s.weight},   {QStringLiteral("port"), s.port},
            {QStringLiteral("target"), s.target},   {QStringLiteral("addresses"), s.addresses}};
}

bool isIpLiteral(const QString &name)
{
    QHostAddress a;
    return a.setAddress(name);
}

void mxCheck(Resolver &resolver, const QString &domain, quint16 relayPort, const QElapsedTimer &clock,
             QList<Check> *checks, QVariantMap *facts, QList<Endpoint> *endpoints)
{
    Check c = makeCheck(QStringLiteral("dns-mx"), domain, QStringLiteral("MX records"), nowUs(clock));
    const DnsAnswer<MxRecord> mx = resolver.mx(domain);
    QVariantList list;
    for (const MxRecord &m : mx.records)
        list << mxToVariant(m);
    c.data.insert(QStringLiteral("records"), list);
    facts->insert(QStringLiteral("mx"), list);

    if (!mx.ok()) {
        c.verdict = Verdict::Warn;
        c.summary = QStringLiteral("The MX lookup for %1 failed: %2.").arg(domain, mx.error);
        c.fix = QStringLiteral("Check that this machine can reach its DNS server, then run the check again.");
        c.detail = mx.error;
    } else if (mx.notFound) {
        c.verdict = Verdict::Fail;
        c.summary = QStringLiteral("The domain %1 does not exist in DNS (NXDOMAIN), so no mail can reach it.").arg(domain);
        c.fix = QStringLiteral("Check the spelling; if it is right, check that the domain is registered and delegated to "
                               "name servers that answer for it.");
    } else if (mx.records.isEmpty()) {
        // RFC 5321 5.1: without MX records the domain itself is the mail host.
        const DnsAnswer<QString> a = resolver.addresses(domain);
        c.data.insert(QStringLiteral("implicit_mx"), true);
        c.data.insert(QStringLiteral("addresses"), a.records);
        if (a.records.isEmpty()) {
            c.verdict = Verdict::Fail;
            c.summary = QStringLiteral("%1 has no MX record and no A/AAAA record: no mail can be delivered to it.").arg(domain);
            c.fix = QStringLiteral("Publish an MX record naming your mail server, e.g. \"%1. MX 10 mail.%1.\", with an "
                                   "A record for that host; or a null MX (\"%1. MX 0 .\") if the domain takes no mail.")
                        .arg(domain);
        } else {
            c.verdict = Verdict::Warn;
            c.summary = QStringLiteral("%1 has no MX record; implicit MX: mail goes to the A record (%2, RFC 5321 5.1).")
                            .arg(domain, a.records.join(QStringLiteral(", ")));
            c.fix = QStringLiteral("Publish an MX record, e.g. \"%1. MX 10 mail.%1.\", so that mail does not depend on the "
                                   "web host's address; if the domain takes no mail, publish a null MX (\"%1. MX 0 .\", "
                                   "RFC 7505).")
                        .arg(domain);
            Endpoint e;
            e.host = domain;
            e.port = relayPort;
            e.role = Endpoint::Role::Relay;
            e.source = QStringLiteral("implicit MX (A/AAAA of %1)").arg(domain);
            e.addresses = a.records;
            endpoints->append(e);
        }
    } else {
        const bool hasNull = std::any_of(mx.records.begin(), mx.records.end(),
                                         [](const MxRecord &m) { return m.exchange.isEmpty(); });
        if (hasNull && mx.records.size() == 1) {
            c.verdict = Verdict::Info;
            c.summary = QStringLiteral("%1 publishes a null MX: the domain accepts no mail (RFC 7505).").arg(domain);
            c.fix = QStringLiteral("Nothing to do if %1 should receive no mail; otherwise replace the null MX with MX "
                                   "records naming your mail servers.")
                        .arg(domain);
            c.data.insert(QStringLiteral("null_mx"), true);
        } else if (hasNull) {
            c.verdict = Verdict::Fail;
            c.summary = QStringLiteral("%1 mixes a null MX (\".\") with other MX records; RFC 7505 3 forbids that, and "
                                       "senders may treat the domain as taking no mail.")
                            .arg(domain);
            c.fix = QStringLiteral("Remove the \"MX 0 .\" record if the domain receives mail, or remove the other MX records.");
        } else {
            QStringList hosts, noAddress, literals;
            for (const MxRecord &m : mx.records) {
                hosts << QStringLiteral("%1 (preference %2)").arg(m.exchange).arg(m.preference);
                if (isIpLiteral(m.exchange))
                    literals << m.exchange;
                else if (m.addresses.isEmpty())
                    noAddress << m.exchange;
            }
            c.summary = QStringLiteral("%1 MX host%2 in order: %3.")
                            .arg(mx.records.size())
                            .arg(mx.records.size() > 1 ? QStringLiteral("s") : QString(), hosts.join(QStringLiteral(", ")));
            c.verdict = Verdict::Pass;
            if (!literals.isEmpty()) {
                c.verdict = Verdict::Fail;
                c.summary += QStringLiteral(" %1 is an IP address, but an MX must name a host (RFC 5321 5.1); many "
                                            "senders will not deliver there.")
                                 .arg(listWords(literals));
                c.fix = QStringLiteral("Point the MX record at a host name with an A/AAAA record instead of an address.");
            } else if (!noAddress.isEmpty()) {
                c.verdict = Verdict::Warn;
                c.summary += QStringLiteral(" %1 has no A/AAAA record, so senders skip it.").arg(listWords(noAddress));
                c.fix = QStringLiteral("Add an A (and AAAA) record for %1, or remove it from the MX records.")
                            .arg(listWords(noAddress));
            }
            for (const MxRecord &m : mx.records) {
                if (isIpLiteral(m.exchange) || m.addresses.isEmpty())
                    continue;
                Endpoint e;
                e.host = m.exchange;
                e.port = relayPort;
                e.role = Endpoint::Role::Relay;
                e.source = QStringLiteral("MX %1 %2").arg(m.preference).arg(domain);
                e.addresses = m.addresses;
                endpoints->append(e);
            }
        }
    }
    c.detail = c.detail.isEmpty() ? [&] {
        QStringList lines;
        for (const MxRecord &m : mx.records)
            lines << QStringLiteral("%1. MX %2 %3. -> %4")
                         .arg(domain)
                         .arg(m.preference)
                         .arg(m.exchange, m.addresses.isEmpty() ? QStringLiteral("(no address)") : m.addresses.join(u' '));
        return lines.join(u'\n');
    }() : c.detail;
    finish(&c, clock);
    checks->append(c);
}

void srvCheck(Resolver &resolver, const QString &domain, bool implicitTls, const QElapsedTimer &clock,
              QList<Check> *checks, QVariantList *facts, QList<Endpoint> *endpoints)
{
    const QString service = implicitTls ? QStringLiteral("_submissions._tcp") : QStringLiteral("_submission._tcp");
    const QString name = service + u'.' + domain;
    const quint16 usualPort = implicitTls ? 465 : 587;
    Check c = makeCheck(implicitTls ? QStringLiteral("dns-srv-submissions") : QStringLiteral("dns-srv-submission"), domain,
                        implicitTls ? QStringLiteral("Submission SRV (implicit TLS)") : QStringLiteral("Submission SRV"),
                        nowUs(clock));
    const DnsAnswer<SrvRecord> srv = resolver.srv(name);
    QVariantList list;
    for (const SrvRecord &s : srv.records) {
        list << srvToVariant(s);
        facts->append(srvToVariant(s));
    }
    c.data.insert(QStringLiteral("name"), name);
    c.data.insert(QStringLiteral("records"), list);
    if (!srv.ok()) {
        c.verdict = Verdict::Warn;
        c.summary = QStringLiteral("The SRV lookup of %1 failed: %2.").arg(name, srv.error);
        c.fix = QStringLiteral("Check that this machine can reach its DNS server, then run the check again.");
    } else if (srv.records.isEmpty()) {
        // RFC 6186 is optional: its absence only costs client auto-configuration.
        c.verdict = Verdict::Info;
        c.summary = QStringLiteral("No %1 SRV record: mail clients cannot find the submission server from DNS (RFC 6186).")
                        .arg(name);
        c.fix = QStringLiteral("Optional: publish \"%1. SRV 0 1 %2 mail.%3.\" so that mail clients configure themselves.")
                    .arg(name)
                    .arg(usualPort)
                    .arg(domain);
    } else if (srv.records.size() == 1 && srv.records.first().target == QLatin1String(".")) {
        c.verdict = Verdict::Info;
        c.summary = QStringLiteral("%1 has target \".\": the domain says it offers no %2 service (RFC 6186 3.4, RFC 2782).")
                        .arg(name, implicitTls ? QStringLiteral("implicit-TLS submission") : QStringLiteral("submission"));
    } else {
        QStringList offers, noAddress;
        for (const SrvRecord &s : srv.records) {
            if (s.target == QLatin1String("."))
                continue;
            offers << QStringLiteral("%1 port %2 (priority %3, weight %4)").arg(s.target).arg(s.port).arg(s.priority).arg(s.weight);
            if (s.addresses.isEmpty()) {
                noAddress << s.target;
                continue;
            }
            Endpoint e;
            e.host = s.target;
            e.port = s.port;
            e.role = implicitTls ? Endpoint::Role::Submissions : Endpoint::Role::Submission;
            e.source = QStringLiteral("SRV %1").arg(name);
            e.addresses = s.addresses;
            endpoints->append(e);
        }
        c.verdict = noAddress.isEmpty() ? Verdict::Pass : Verdict::Warn;
        c.summary = QStringLiteral("%1 points to %2.").arg(name, offers.join(QStringLiteral(", ")));
        if (!noAddress.isEmpty()) {
            c.summary += QStringLiteral(" %1 has no A/AAAA record, so clients cannot connect to it.").arg(listWords(noAddress));
            c.fix = QStringLiteral("Add an A (and AAAA) record for %1 or correct the SRV target.").arg(listWords(noAddress));
        }
    }
    finish(&c, clock);
    checks->append(c);
}

QStringList recordsStartingWith(const QList<QString> &records, const QRegularExpression &re)
{
    QStringList out;
    for (const QString &r : records) {
        if (re.match(r).hasMatch())
            out << r;
    }
    return out;
}

} // namespace

QList<Endpoint> discoverDomain(Resolver &resolver, const QString &domain, quint16 relayPort, const QElapsedTimer &clock,
                               QList<Check> *checks, QVariantMap *domainFacts)
{
    QList<Endpoint> endpoints;
    const QString name = stripDot(domain.trimmed()).toLower();
    mxCheck(resolver, name, relayPort, clock, checks, domainFacts, &endpoints);
    QVariantList srvFacts;
    srvCheck(resolver, name, false, clock, checks, &srvFacts, &endpoints);
    srvCheck(resolver, name, true, clock, checks, &srvFacts, &endpoints);
    domainFacts->insert(QStringLiteral("srv"), srvFacts);
    return endpoints;
}

// ---- sender-domain records

namespace {

void spfCheck(Resolver &resolver, const QString &domain, const QElapsedTimer &clock, QList<Check> *checks,
              QVariantMap *facts)
{
    Check c = makeCheck(QStringLiteral("spf"), domain, QStringLiteral("SPF record"), nowUs(clock));
    const DnsAnswer<QString> txt = resolver.txt(domain);
    // RFC 7208 4.5: records that begin with "v=spf1" followed by a space or the end.
    static const QRegularExpression spfRe(QStringLiteral("^v=spf1( |$)"), QRegularExpression::CaseInsensitiveOption);
    const QStringList spf = recordsStartingWith(txt.records, spfRe);
    const QString starter = QStringLiteral("%1. TXT \"v=spf1 mx -all\"").arg(domain);
    QVariantMap fact{{QStringLiteral("records"), spf}};
    if (!txt.ok()) {
        c.verdict = Verdict::Warn;
        c.summary = QStringLiteral("The TXT lookup of %1 failed, so SPF could not be read: %2.").arg(domain, txt.error);
        c.fix = QStringLiteral("Check that this machine can reach its DNS server, then run the check again.");
    } else if (spf.isEmpty()) {
        c.verdict = Verdict::Warn;
        c.summary = QStringLiteral("%1 has no SPF record: receivers cannot tell which servers may send as %1, and "
                                   "spam filters count that against its mail.")
                        .arg(domain);
        c.fix = QStringLiteral("Publish one TXT record such as %1 (the MX hosts may send, nothing else), adding "
                               "\"include:\" terms for services that send for you.")
                    .arg(starter);
    } else if (spf.size() > 1) {
        c.verdict = Verdict::Fail;
        c.summary = QStringLiteral("%1 has %2 SPF records; receivers treat that as a permanent error (permerror, RFC 7208 "
                                   "4.5) and SPF fails for all of its mail.")
                        .arg(domain)
                        .arg(spf.size());
        c.fix = QStringLiteral("Merge them into one v=spf1 record listing every allowed sender once.");
        c.detail = shownLines(spf);
    } else {
        const SpfReading r = readSpf(spf.first());
        c.detail = shownLines({spf.first()});
        fact.insert(QStringLiteral("record"), spf.first());
        fact.insert(QStringLiteral("mechanisms"), r.mechanisms);
        fact.insert(QStringLiteral("all"), r.allQualifier);
        fact.insert(QStringLiteral("lookup_terms"), r.lookupTerms);
        fact.insert(QStringLiteral("reading"), r.valid ? r.reading : r.error);
        c.data.insert(QStringLiteral("lookup_terms"), r.lookupTerms);
        c.data.insert(QStringLiteral("all"), r.allQualifier);
        if (!r.valid) {
            c.verdict = Verdict::Fail;
            c.summary = QStringLiteral("The SPF record of %1 is broken: %2; receivers treat it as permerror.").arg(domain, r.error);
            c.fix = QStringLiteral("Correct the record; a minimal valid one is %1.").arg(starter);
        } else if (r.allQualifier == u'+') {
            // RFC 7208 5.1 / 10: "+all" authorises every host on the internet.
            c.verdict = Verdict::Fail;
            c.summary = QStringLiteral("The SPF record of %1 ends in \"+all\": any server on the internet passes SPF as %1.")
                            .arg(domain);
            c.fix = QStringLiteral("Replace \"+all\" with \"-all\" (or \"~all\" while you check that every sender is listed).");
        } else if (r.lookupTerms > 10) {
            c.verdict = Verdict::Fail;
            c.summary = QStringLiteral("The SPF record of %1 has %2 terms that need DNS lookups; over 10 is a permerror "
                                       "(RFC 7208 4.6.4), so SPF fails for all of its mail.")
                            .arg(domain)
                            .arg(r.lookupTerms);
            c.fix = QStringLiteral("Replace some include/a/mx terms with ip4:/ip6: ranges, or drop services that no longer "
                                   "send for you, to get to 10 or fewer.");
        } else if (r.allQualifier == u'?' || (r.allQualifier.isEmpty() && !spf.first().contains(QLatin1String("redirect="), Qt::CaseInsensitive))) {
            c.verdict = Verdict::Warn;
            c.summary = QStringLiteral("The SPF record of %1 protects nothing: %2").arg(domain, r.reading);
            c.fix = QStringLiteral("End the record with \"-all\" (or \"~all\") so that other servers fail SPF.");
        } else {
            c.verdict = Verdict::Pass;
            c.summary = r.reading;
        }
    }
    facts->insert(QStringLiteral("spf"), fact);
    finish(&c, clock);
    checks->append(c);
}

void dmarcCheck(Resolver &resolver, const QString &domain, const QElapsedTimer &clock, QList<Check> *checks,
                QVariantMap *facts)
{
    const QString name = QStringLiteral("_dmarc.") + domain;
    Check c = makeCheck(QStringLiteral("dmarc"), domain, QStringLiteral("DMARC record"), nowUs(clock));
    const DnsAnswer<QString> txt = resolver.txt(name);
    static const QRegularExpression dmarcRe(QStringLiteral("^v\\s*=\\s*DMARC1\\s*(;|$)"));
    const QStringList records = recordsStartingWith(txt.records, dmarcRe);
    const QString starter = QStringLiteral("%1. TXT \"v=DMARC1; p=none; rua=mailto:dmarc-reports@%2\"").arg(name, domain);
    QVariantMap fact{{QStringLiteral("records"), records}};
    if (!txt.ok()) {
        c.verdict = Verdict::Warn;
        c.summary = QStringLiteral("The TXT lookup of %1 failed, so DMARC could not be read: %2.").arg(name, txt.error);
        c.fix = QStringLiteral("Check that this machine can reach its DNS server, then run the check again.");
    } else if (records.isEmpty()) {
        c.verdict = Verdict::Warn;
        c.summary = QStringLiteral("%1 has no DMARC record (%2): receivers apply their own policy to mail forged as %1, "
                                   "and you get no reports about it.")
                        .arg(domain, name);
        c.fix = QStringLiteral("Publish %1, read the reports for a few weeks, then move to p=quarantine or p=reject.").arg(starter);
    } else if (records.size() > 1) {
        // RFC 7489 6.6.3: more than one record means no DMARC processing at all.
        c.verdict = Verdict::Fail;
        c.summary = QStringLiteral("%1 has %2 DMARC records; receivers then ignore DMARC for %3 (RFC 7489 6.6.3).")
                        .arg(name)
                        .arg(records.size())
                        .arg(domain);
        c.fix = QStringLiteral("Keep exactly one v=DMARC1 record at %1.").arg(name);
        c.detail = shownLines(records);
    } else {
        const DmarcReading r = readDmarc(records.first());
        c.detail = shownLines({records.first()});
        fact.insert(QStringLiteral("record"), records.first());
        if (r.valid) {
            fact.insert(QStringLiteral("policy"), r.policy);
            fact.insert(QStringLiteral("subdomain_policy"), r.subdomainPolicy);
            fact.insert(QStringLiteral("pct"), r.pct);
            fact.insert(QStringLiteral("rua"), r.rua);
            fact.insert(QStringLiteral("ruf"), r.ruf);
            fact.insert(QStringLiteral("adkim"), r.adkim);
            fact.insert(QStringLiteral("aspf"), r.aspf);
            fact.insert(QStringLiteral("reading"), r.reading);
            c.data.insert(QStringLiteral("policy"), r.policy);
        }
        if (!r.valid) {
            c.verdict = Verdict::Fail;
            c.summary = QStringLiteral("The DMARC record of %1 is broken: %2; receivers ignore it.").arg(domain, r.error);
            c.fix = QStringLiteral("Correct it; a minimal valid record is %1.").arg(starter);
        } else if (r.policy == QLatin1String("none")) {
            c.verdict = Verdict::Warn;
            c.summary = QStringLiteral("DMARC for %1 is p=none, monitoring only: mail forged as %1 is still delivered%2.")
                            .arg(domain, r.rua.isEmpty() ? QStringLiteral(", and no reports are requested (no rua=)")
                                                         : QStringLiteral("; reports go to %1").arg(r.rua.join(QStringLiteral(", "))));
            c.fix = (r.rua.isEmpty() ? QStringLiteral("Add rua=mailto:dmarc-reports@%1 to receive reports. ").arg(domain)
                                     : QString())
                + QStringLiteral("Once the reports show that all your own mail passes, change to p=quarantine, then p=reject.");
        } else if (r.pct < 100) {
            c.verdict = Verdict::Warn;
            c.summary = QStringLiteral("DMARC for %1 applies its policy to only %2% of failing mail. %3")
                            .arg(domain)
                            .arg(r.pct)
                            .arg(r.reading);
            c.fix = QStringLiteral("Raise pct to 100 (or remove pct=) once your own mail passes.");
        } else {
            c.verdict = Verdict::Pass;
            c.summary = r.reading;
        }
    }
    facts->insert(QStringLiteral("dmarc"), fact);
    finish(&c, clock);
    checks->append(c);
}

void mtaStsCheck(Resolver &resolver, const QString &domain, const QStringList &mxNames, const QElapsedTimer &clock,
                 QList<Check> *checks, QVariantMap *facts)
{
    const QString name = QStringLiteral("_mta-sts.") + domain;
    const QString policyUrl = QStringLiteral("https://mta-sts.%1/.well-known/mta-sts.txt").arg(domain);
    Check c = makeCheck(QStringLiteral("mta-sts"), domain, QStringLiteral("MTA-STS"), nowUs(clock));
    const DnsAnswer<QString> txt = resolver.txt(name);
    // RFC 8461 3.1: "v=STSv1" first, then "id=".
    static const QRegularExpression stsRe(QStringLiteral("^v=STSv1\\s*(;|$)"));
    const QStringList records = recordsStartingWith(txt.records, stsRe);
    QVariantMap fact{{QStringLiteral("records"), records}};
    auto done = [&] {
        facts->insert(QStringLiteral("mta_sts"), fact);
        finish(&c, clock);
        checks->append(c);
    };
    if (!txt.ok()) {
        c.verdict = Verdict::Warn;
        c.summary = QStringLiteral("The TXT lookup of %1 failed, so MTA-STS could not be read: %2.").arg(name, txt.error);
        c.fix = QStringLiteral("Check that this machine can reach its DNS server, then run the check again.");
        return done();
    }
    if (records.isEmpty()) {
        c.verdict = Verdict::Info;
        c.summary = QStringLiteral("%1 publishes no MTA-STS policy: senders use TLS when offered, but an attacker on the "
                                   "path can strip STARTTLS unnoticed.")
                        .arg(domain);
        c.fix = QStringLiteral("Optional: serve a policy at %1 and publish %2. TXT \"v=STSv1; id=20240101\" (RFC 8461).")
                    .arg(policyUrl, name);
        return done();
    }
    if (records.size() > 1) {
        // RFC 8461 3.1: more than one record: senders assume no policy.
        c.verdict = Verdict::Fail;
        c.summary = QStringLiteral("%1 has %2 MTA-STS TXT records; senders then assume there is no policy (RFC 8461 3.1).")
                        .arg(name)
                        .arg(records.size());
        c.fix = QStringLiteral("Keep exactly one \"v=STSv1; id=...\" record.");
        c.detail = shownLines(records);
        return done();
    }
    static const QRegularExpression idRe(QStringLiteral("(?:^|;)\\s*id=([A-Za-z0-9]{1,32})\\s*(?:;|$)"));
    const QRegularExpressionMatch idm = idRe.match(records.first());
    c.detail = shownLines({records.first()});
    if (!idm.hasMatch()) {
        c.verdict = Verdict::Fail;
        c.summary = QStringLiteral("The MTA-STS record of %1 has no valid id= (1 to 32 letters or digits, RFC 8461 3.1), "
                                   "so senders ignore it.")
                        .arg(domain);
        c.fix = QStringLiteral("Publish \"v=STSv1; id=20240101\" and change the id whenever the policy changes.");
        return done();
    }
    fact.insert(QStringLiteral("id"), idm.captured(1));
    if (!resolver.options().fetchMtaStsPolicy) {
        c.verdict = Verdict::Info;
        c.summary = QStringLiteral("%1 announces an MTA-STS policy (id %2); the policy itself was not fetched.")
                        .arg(domain, idm.captured(1));
        return done();
    }
    const DnsAnswer<QString> body = resolver.mtaStsPolicy(domain);
    if (!body.ok() || body.records.isEmpty()) {
        c.verdict = Verdict::Fail;
        c.summary = QStringLiteral("%1 announces MTA-STS in DNS, but the policy cannot be fetched: %2. Senders that "
                                   "cached an earlier policy may refuse to deliver.")
                        .arg(domain, body.error);
        c.fix = QStringLiteral("Serve the policy at %1 over HTTPS with a valid certificate for mta-sts.%2 (no redirect), "
                               "or remove the %3 TXT record.")
                    .arg(policyUrl, domain, name);
        c.detail += u'\n' + body.error;
        return done();
    }
    const MtaStsPolicy policy = readMtaStsPolicy(body.records.first());
    c.detail += u'\n' + shownLines({body.records.first().left(4096)});
    if (!policy.valid) {
        c.verdict = Verdict::Fail;
        c.summary = QStringLiteral("The MTA-STS policy at %1 is invalid: %2; senders ignore it.").arg(policyUrl, policy.error);
        c.fix = QStringLiteral("Write it as lines \"version: STSv1\", \"mode: enforce\", one \"mx: <host>\" per MX host and "
                               "\"max_age: 604800\".");
        return done();
    }
    fact.insert(QStringLiteral("mode"), policy.mode);
    fact.insert(QStringLiteral("mx"), policy.mx);
    fact.insert(QStringLiteral("max_age"), policy.maxAge);
    QStringList uncovered;
    for (const QString &mx : mxNames) {
        if (!mx.isEmpty() && !policy.matches(mx))
            uncovered << mx;
    }
    fact.insert(QStringLiteral("uncovered_mx"), uncovered);
    c.data.insert(QStringLiteral("mode"), policy.mode);
    c.data.insert(QStringLiteral("uncovered_mx"), uncovered);
    if (policy.mode == QLatin1String("none")) {
        c.verdict = Verdict::Info;
        c.summary = QStringLiteral("The MTA-STS policy of %1 is mode none: the policy is switched off.").arg(domain);
        return done();
    }
    if (!uncovered.isEmpty()) {
        // RFC 8461 4.1 / 5: a sender enforcing the policy refuses MX hosts it does not match.
        const bool enforce = policy.mode == QLatin1String("enforce");
        c.verdict = enforce ? Verdict::Fail : Verdict::Warn;
        c.summary = QStringLiteral("The MTA-STS policy (mode %1) lists mx %2, which does not cover %3: %4")
                        .arg(policy.mode, policy.mx.join(QStringLiteral(", ")), listWords(uncovered),
                             enforce ? QStringLiteral("senders enforcing it will not deliver there.")
                                     : QStringLiteral("in testing mode senders only report it, but enforce would break delivery."));
        c.fix = QStringLiteral("Add \"mx: %1\" to the policy (a \"*.\" pattern covers one label), change the id in %2, "
                               "and wait for max_age before relying on it.")
                    .arg(uncovered.first(), name);
        return done();
    }
    c.verdict = policy.mode == QLatin1String("enforce") ? Verdict::Pass : Verdict::Info;
    c.summary = QStringLiteral("MTA-STS mode %1 covers %2 (max_age %3 days)%4.")
                    .arg(policy.mode,
                         mxNames.isEmpty() ? QStringLiteral("no MX host found") : listWords(mxNames))
                    .arg(policy.maxAge / 86400)
                    .arg(policy.mode == QLatin1String("testing")
                             ? QStringLiteral(": senders only report failures; switch to enforce once reports are clean")
                             : QString());
    done();
}

} // namespace

void checkSenderDomain(Resolver &resolver, const QString &domain, const QStringList &mxNames, const QElapsedTimer &clock,
                       QList<Check> *checks, QVariantMap *domainFacts)
{
    const QString name = stripDot(domain.trimmed()).toLower();
    spfCheck(resolver, name, clock, checks, domainFacts);
    dmarcCheck(resolver, name, clock, checks, domainFacts);
    mtaStsCheck(resolver, name, mxNames, clock, checks, domainFacts);
}

Check checkReverseDns(Resolver &resolver, Endpoint *endpoint, const QElapsedTimer &clock)
{
    Check c = makeCheck(QStringLiteral("dns-ptr"), endpoint->target(), QStringLiteral("Reverse DNS"), nowUs(clock));
    const bool relay = endpoint->role == Endpoint::Role::Relay;
    const QString address = endpoint->address;
    c.data.insert(QStringLiteral("address"), address);
    if (address.isEmpty()) {
        c.verdict = Verdict::Skipped;
        c.summary = QStringLiteral("Not checked: no connection was made, so there is no address to look up.");
        finish(&c, clock);
        return c;
    }
    const DnsAnswer<QString> ptr = resolver.ptr(address);
    c.data.insert(QStringLiteral("ptr"), ptr.records);
    if (!ptr.ok()) {
        c.verdict = Verdict::Warn;
        c.summary = QStringLiteral("The reverse DNS lookup of %1 failed: %2.").arg(address, ptr.error);
        c.fix = QStringLiteral("Check that this machine can reach its DNS server, then run the check again.");
        finish(&c, clock);
        return c;
    }
    const QString wanted = !endpoint->greetingName.isEmpty() ? endpoint->greetingName
                         : !endpoint->ehloName.isEmpty()     ? endpoint->ehloName
                                                             : endpoint->host;
    if (ptr.records.isEmpty()) {
        endpoint->ptrName.clear();
        // Receivers commonly refuse relays without reverse DNS (e.g. Postfix's
        // reject_unknown_reverse_client_hostname); it does not matter for submission.
        c.verdict = relay ? Verdict::Warn : Verdict::Info;
        c.summary = relay ? QStringLiteral("%1 has no reverse DNS (PTR) record: many receivers refuse mail from an address "
                                           "without one.")
                                .arg(address)
                          : QStringLiteral("%1 has no reverse DNS (PTR) record; that matters only for servers that relay "
                                           "mail to other domains.")
                                .arg(address);
        c.fix = QStringLiteral("Ask whoever owns %1 (the hosting provider or ISP) to set its PTR record to %2, a name whose "
                               "A/AAAA record points back to %1.")
                    .arg(address, wanted);
        finish(&c, clock);
        return c;
    }

    // Forward-confirmed reverse DNS: a PTR name whose A/AAAA holds the address.
    const QHostAddress connected(address);
    QString confirmed;
    for (const QString &n : ptr.records) {
        const DnsAnswer<QString> fwd = resolver.addresses(n);
        for (const QString &a : fwd.records) {
            if (QHostAddress(a).isEqual(connected, QHostAddress::TolerantConversion)) {
                confirmed = n;
                break;
            }
        }
        if (!confirmed.isEmpty())
            break;
    }
    endpoint->ptrName = confirmed.isEmpty() ? ptr.records.first() : confirmed;
    const QString ptrName = endpoint->ptrName;
    c.data.insert(QStringLiteral("ptr_name"), ptrName);
    c.data.insert(QStringLiteral("forward_confirmed"), !confirmed.isEmpty());
    c.data.insert(QStringLiteral("greeting_name"), endpoint->greetingName);
    c.data.insert(QStringLiteral("ehlo_name"), endpoint->ehloName);

    auto same = [](const QString &a, const QString &b) { return stripDot(a).compare(stripDot(b), Qt::CaseInsensitive) == 0; };
    QStringList mismatched;
    if (!endpoint->greetingName.isEmpty() && !same(endpoint->greetingName, ptrName))
        mismatched << QStringLiteral("greets as %1").arg(endpoint->greetingName);
    if (!endpoint->ehloName.isEmpty() && !same(endpoint->ehloName, ptrName) && !same(endpoint->ehloName, endpoint->greetingName))
        mismatched << QStringLiteral("answers EHLO as %1").arg(endpoint->ehloName);

    const Verdict problem = relay ? Verdict::Warn : Verdict::Info;
    if (confirmed.isEmpty()) {
        c.verdict = problem;
        c.summary = QStringLiteral("%1 has reverse DNS %2, but that name does not resolve back to %1 (not "
                                   "forward-confirmed); receivers that check treat the address as unknown.")
                        .arg(address, ptr.records.join(QStringLiteral(", ")));
        c.fix = QStringLiteral("Add an A/AAAA record %1 -> %2, or have the PTR record changed to a name that has one.")
                    .arg(ptrName, address);
    } else if (!mismatched.isEmpty()) {
        c.verdict = problem;
        c.summary = QStringLiteral("Reverse DNS of %1 is %2 (forward-confirmed), but the server %3; receivers and spam "
                                   "filters compare the two.")
                        .arg(address, ptrName, listWords(mismatched));
        c.fix = QStringLiteral("Make the server greet with its reverse DNS name (Postfix: myhostname = %1), or have the "
                               "PTR record changed to the name it uses.")
                    .arg(ptrName);
    } else {
        c.verdict = Verdict::Pass;
        c.summary = QStringLiteral("Reverse DNS of %1 is %2, which resolves back to %1 (forward-confirmed)%3.")
                        .arg(address, ptrName,
                             endpoint->greetingName.isEmpty() && endpoint->ehloName.isEmpty()
                                 ? QString()
                                 : QStringLiteral(" and matches the name the server gives"));
    }
    c.detail = QStringLiteral("PTR %1 -> %2").arg(address, ptr.records.join(QStringLiteral(", ")));
    finish(&c, clock);
    return c;
}

} // namespace Diagnostics
