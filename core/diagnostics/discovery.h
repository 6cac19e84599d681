#pragma once
// DNS for a diagnosis: MX, SRV (RFC 6186), A/AAAA, PTR and TXT lookups with
// QDnsLookup, and the sender-domain records read in plain words: SPF (RFC 7208),
// DMARC (RFC 7489) and MTA-STS (RFC 8461, TXT record and HTTPS policy).
//
// Check ids made here:
//   scope = the domain:
//     dns-mx            MX records in preference order, each with its addresses;
//                       a null MX (RFC 7505) and a missing MX (implicit MX, RFC 5321 5.1)
//                       are named
//     dns-srv-submission, dns-srv-submissions   RFC 6186 _submission._tcp / _submissions._tcp
//     spf               the v=spf1 TXT record and a short reading (mechanisms, the "all"
//                       qualifier, more than one record = permerror, lookups over 10)
//     dmarc             _dmarc TXT: policy, subdomain policy, pct, rua/ruf, alignment
//     mta-sts           _mta-sts TXT (v=STSv1; id=) and the policy from
//                       https://mta-sts.<domain>/.well-known/mta-sts.txt: mode, mx
//                       patterns (checked against the MX names), max_age
//   scope = Endpoint::target():
//     dns-ptr           reverse DNS of the connected address, compared with the greeting
//                       and EHLO names (forward-confirmed: the PTR name resolves back)
//
// Threading: blocking, spins local event loops (as servercheck.h); cancel() from any thread.

#include "diagnosticreport.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QString>
#include <QStringList>
#include <memory>

namespace Diagnostics {

struct MxRecord
{
    quint16 preference = 0;
    QString exchange;          // host name, no trailing dot; "" for a null MX (RFC 7505)
    QStringList addresses;     // A then AAAA of the exchange
};

struct SrvRecord
{
    QString service;           // "_submission._tcp" or "_submissions._tcp"
    quint16 priority = 0;
    quint16 weight = 0;
    quint16 port = 0;
    QString target;            // "." (service not offered, RFC 2782) is reported, not kept
    QStringList addresses;
};

struct DnsOptions
{
    // The server to ask; null: the system's (resolv.conf). Tests point it at a
    // loopback server (QDnsLookup always uses port 53).
    QHostAddress nameserver;
    int timeoutMs = 5000;      // per lookup
    bool fetchMtaStsPolicy = true;
    QString caFile;            // extra CA for the MTA-STS policy's HTTPS certificate
};

// A record set or an error. A name that exists without records of the type, and a
// name that does not exist (NXDOMAIN), are not errors: `records` is empty and
// `notFound` says which.
template <typename T>
struct DnsAnswer
{
    QList<T> records;
    bool notFound = false;     // NXDOMAIN
    QString error;             // lookup failed (timeout, server failure, refused): the reason
    [[nodiscard]] bool ok() const { return error.isEmpty(); }
};

class Resolver
{
public:
    explicit Resolver(DnsOptions options = {});
    ~Resolver();
    Q_DISABLE_COPY_MOVE(Resolver)

    [[nodiscard]] DnsAnswer<MxRecord> mx(const QString &domain);  // sorted by preference, addresses filled
    [[nodiscard]] DnsAnswer<SrvRecord> srv(const QString &name);  // sorted by priority then weight (desc)
    [[nodiscard]] DnsAnswer<QString> addresses(const QString &name); // A then AAAA
    [[nodiscard]] DnsAnswer<QString> txt(const QString &name);    // each record's strings concatenated (RFC 7208 3.3)
    [[nodiscard]] DnsAnswer<QString> ptr(const QString &address); // names, no trailing dot
    // The MTA-STS policy body (RFC 8461 3.3: HTTPS, 200, no redirects, text/plain,
    // at most 64 KiB), fetched from mta-sts.<domain> resolved through this resolver.
    [[nodiscard]] DnsAnswer<QString> mtaStsPolicy(const QString &domain);

    [[nodiscard]] const DnsOptions &options() const;
    void cancel();

private:
    struct Private;
    std::unique_ptr<Private> d;
};

// Discovery for a domain: the dns-mx and dns-srv-* checks, and the endpoints to
// diagnose (MX hosts as Relay on port `relayPort`, SRV targets with their ports).
// Facts go to domainFacts ("mx", "srv").
QList<Endpoint> discoverDomain(Resolver &resolver, const QString &domain, quint16 relayPort,
                               const QElapsedTimer &clock, QList<Check> *checks, QVariantMap *domainFacts);

// The spf, dmarc and mta-sts checks for a sender domain; facts to domainFacts
// ("spf", "dmarc", "mta_sts"). `mxNames`: the MX hosts found, for the MTA-STS
// policy's mx patterns.
void checkSenderDomain(Resolver &resolver, const QString &domain, const QStringList &mxNames,
                       const QElapsedTimer &clock, QList<Check> *checks, QVariantMap *domainFacts);

// The dns-ptr check of one reached endpoint; fills endpoint->ptrName.
Check checkReverseDns(Resolver &resolver, Endpoint *endpoint, const QElapsedTimer &clock);

// Readings of the records, usable on their own (unit-tested without DNS).
struct SpfReading
{
    bool valid = false;
    QString error;             // why not valid
    QStringList mechanisms;    // in order, as written ("ip4:192.0.2.0/24", "include:_spf.example.net", "-all")
    QString allQualifier;      // "-", "~", "?", "+" or "" when there is no "all"
    int lookupTerms = 0;       // include, a, mx, ptr, exists, redirect (RFC 7208 4.6.4: at most 10)
    QString reading;           // one or two sentences
};
[[nodiscard]] SpfReading readSpf(const QString &record);

struct DmarcReading
{
    bool valid = false;
    QString error;
    QString policy;            // p=
    QString subdomainPolicy;   // sp= (empty: same as p)
    int pct = 100;
    QStringList rua, ruf;
    QString adkim = QStringLiteral("r"), aspf = QStringLiteral("r");
    QString reading;
};
[[nodiscard]] DmarcReading readDmarc(const QString &record);

struct MtaStsPolicy
{
    bool valid = false;
    QString error;
    QString mode;              // enforce, testing, none
    QStringList mx;            // patterns, "*.example.org" allowed (RFC 8461 4.1)
    qint64 maxAge = 0;         // seconds
    [[nodiscard]] bool matches(const QString &mxHost) const;
};
[[nodiscard]] MtaStsPolicy readMtaStsPolicy(const QString &body);

} // namespace Diagnostics
