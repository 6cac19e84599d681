#pragma once
// The model of a diagnosis: what `smtpscope probe`, the Diagnose view and the
// report exports share. A diagnosis is a list of checks, each with a verdict and a
// sentence saying why, plus the facts learnt about each endpoint (host:port) and
// about the domain (MX, SRV, SPF, DMARC, MTA-STS).
//
// Nothing here holds a secret: passwords and tokens never enter a report, and
// transcripts are the engine's redacted ones.

#include "client/sendresult.h"
#include "events/tlsinfo.h"

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>
#include <QVariantMap>
#include <optional>

namespace Diagnostics {

// Worst first is Fail > Warn > Pass; Info states a fact; Skipped says a check was
// not run (and its summary says why: closed port, no credentials, no consent).
enum class Verdict { Pass, Info, Warn, Fail, Skipped };

// "pass", "info", "warn", "fail", "skipped"
[[nodiscard]] QString verdictName(Verdict verdict);
[[nodiscard]] std::optional<Verdict> verdictFromName(const QString &name);

struct Check
{
    // Stable machine id; ids are listed with the code that makes them
    // (servercheck.h, discovery.h, diagnosis.h). Several endpoints may produce the
    // same id: (scope, id) is unique.
    QString id;
    QString scope;     // what was checked: "mail.example.org:587", "example.org" (DNS), "127.0.0.1"
    QString title;     // short, capitalised: "Certificate expiry"
    Verdict verdict = Verdict::Info;
    QString summary;   // one sentence in plain words: what was seen and why that is the verdict
    QString fix;       // what to change, when there is something to change (else empty)
    QString detail;    // more lines: the exact verification error, the record, the reply
    qint64 startUs = 0;    // when the step began, microseconds since the diagnosis started
    qint64 durationUs = 0; // how long it took (0 for a verdict derived from earlier steps)
    QVariantMap data;  // machine-readable facts of this check (JSON-friendly values)
};

struct Endpoint
{
    // RFC 5321 port 25 relay/MX; RFC 6409 submission with STARTTLS (587);
    // RFC 8314 submissions with implicit TLS (465).
    enum class Role { Relay, Submission, Submissions };

    QString host;       // name as given or discovered ("mail.example.org", "127.0.0.1", "::1")
    quint16 port = 0;
    Role role = Role::Submission;
    QString source;     // how it was found: "given", "MX 10 example.org", "SRV _submission._tcp.example.org"
    // Addresses to try, in order (from discovery); empty: `host` is resolved by the
    // system or is an IP literal.
    QStringList addresses;
    // The name the certificate must carry (and SNI) when it is not `host`, e.g. when
    // connecting to an IP address; empty: `host`.
    QString peerVerifyName;

    // Facts learnt (filled by the checker)
    bool reachable = false;   // a TCP connection was made
    QString address;          // the IP actually connected to
    QString greeting;         // the 220 reply, lines joined with '\n'
    QString greetingName;     // first word of the greeting's text (RFC 5321 4.3.1), if any
    QString ehloName;         // first word of the EHLO reply's first line (RFC 5321 4.1.1.1)
    QString ptrName;          // reverse DNS of `address` (filled by the diagnosis; empty: none)
    QStringList capabilitiesBeforeTls; // EHLO lines after the first, as received
    QStringList capabilitiesAfterTls;  // after STARTTLS (or of the implicit TLS session)
    bool implicitTlsSpoken = false;    // the port answered a TLS handshake from the first byte
    TlsInfo tls;                       // the TLS session (chain and errors even when not verified)
    QStringList tlsVersionsAccepted;   // "TLSv1.2", "TLSv1.3" (as QSsl names them in TlsInfo)
    QStringList tlsVersionsRefused;
    QStringList tlsVersionsUntestable; // this machine's TLS library refuses to offer them
    QList<TranscriptEntry> transcript; // the main session, redacted

    [[nodiscard]] QString target() const; // "host:port", brackets around IPv6
    [[nodiscard]] static QString roleName(Role role); // "relay", "submission", "submissions"
    [[nodiscard]] static std::optional<Role> roleFromName(const QString &name);
    // The port's usual role: 465 Submissions, 25 Relay, anything else Submission.
    [[nodiscard]] static Role roleForPort(quint16 port);
    [[nodiscard]] QVariantMap toVariantMap() const;
};

struct Report
{
    QString subject;          // what the user asked about: "example.org" or "smtp.example.org:587"
    QDateTime started;        // UTC
    qint64 durationUs = 0;
    bool cancelled = false;
    QVariantMap options;      // the settings that shaped the run (never a secret): user, relay_check, ...
    QList<Endpoint> endpoints;
    QList<Check> checks;      // in the order they ended
    QVariantMap domain;       // discovery facts: "mx", "srv", "spf", "dmarc", "mta_sts" (discovery.h)
    // The commands that reproduce the session by hand (secrets left out):
    // `smtpscope send ...` and `swaks ...` (reportexport.h fills them).
    QStringList commandLines;

    [[nodiscard]] int count(Verdict verdict) const;
    // Fail if any check failed, else Warn if any warned, else Pass.
    [[nodiscard]] Verdict overall() const;
    // The checks of one endpoint (scope == endpoint.target()).
    [[nodiscard]] QList<Check> checksFor(const QString &scope) const;

    // The JSON form, documented in docs/diagnostics.md: { "subject", "started",
    // "duration_ms", "cancelled", "overall", "counts": {pass, info, warn, fail,
    // skipped}, "options", "endpoints": [...], "checks": [ { id, scope, title,
    // verdict, summary, fix, detail, start_ms, duration_ms, data } ], "domain",
    // "command_lines" }.
    [[nodiscard]] QVariantMap toVariantMap() const;
};

} // namespace Diagnostics
