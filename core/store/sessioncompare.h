#pragma once
// Two stored sessions side by side ("what did the server say yesterday, before I
// changed the config?"): outcome, greeting, capabilities before and after TLS,
// TLS protocol and cipher, certificate (subject, issuer, expiry, fingerprint),
// AUTH mechanisms, per-step timings, and for diagnoses each check's verdict.

#include "sessionrecord.h"

namespace Store {

struct ComparisonRow
{
    QString section;   // "Outcome", "Capabilities after TLS", "Certificate", "Timings", "Checks"
    QString aspect;    // "SIZE", "leaf expiry", "EHLO (ms)", "127.0.0.1:587 certificate-expiry"
    QString left;      // value in the first session ("" when absent)
    QString right;
    bool same = true;
};

[[nodiscard]] QList<ComparisonRow> compareSessions(const SessionRecord &left, const SessionRecord &right);

// Writes one session as a folder `dir`/session-<id>-<date>/: transcript.txt
// (redacted, as the transcript view shows it), result.json (the record without
// the message), chain.pem (when TLS), message.eml (when kept). Returns the folder,
// or "" and *error.
[[nodiscard]] QString exportBundle(const SessionRecord &record, const QString &dir, QString *error);

} // namespace Store
