#pragma once
// A whole diagnosis: discovery for a domain (discovery.h), the checklist of each
// endpoint (servercheck.h), reverse DNS, and the sender-domain records, gathered
// into one Report. Used by `smtpscope probe` and the Diagnose view alike.
//
// What is checked:
// - `domain` set: the MX hosts (as relays, on relayPort) and the RFC 6186 SRV
//   targets; then SPF, DMARC and MTA-STS of the domain.
// - `host` set: that host. With `port` (and `implicitTls`), that one endpoint;
//   with `allPorts` (or no port) the three standard ones: relayPort (25),
//   submissionsPort (465, implicit TLS) and submissionPort (587).
// Threading and cancel(): as servercheck.h.

#include "diagnosticreport.h"
#include "discovery.h"
#include "servercheck.h"

#include <functional>
#include <memory>

namespace Diagnostics {

struct DiagnosisOptions
{
    QString domain;
    QString host;
    quint16 port = 0;          // 0: the standard ports
    bool implicitTls = false;  // the given port speaks TLS from the first byte
    QString peerVerifyName;    // certificate name when not the host (connect to an IP)
    bool allPorts = false;
    quint16 relayPort = 25;
    quint16 submissionsPort = 465;
    quint16 submissionPort = 587;
    bool dns = true;           // reverse DNS and discovery lookups at all
    DnsOptions dnsOptions;
    CheckOptions checks;

    // What the report is about: the domain, else "host:port" for one port, else the host.
    [[nodiscard]] QString subject() const;
    // Report::options: the checklist's options (never a secret) and where it looked.
    [[nodiscard]] QVariantMap toVariantMap() const;
};

class Diagnosis
{
public:
    explicit Diagnosis(DiagnosisOptions options);
    ~Diagnosis();
    Q_DISABLE_COPY_MOVE(Diagnosis)

    void setCheckFunction(ServerChecker::CheckFunction f);
    void setTranscriptFunction(ServerChecker::TranscriptFunction f);
    // Called when an endpoint's checklist begins (for live views).
    void setEndpointFunction(std::function<void(const Endpoint &)> f);

    // Blocking. The report is complete, also when cancelled (Report::cancelled).
    [[nodiscard]] Report run();
    void cancel();

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Diagnostics
