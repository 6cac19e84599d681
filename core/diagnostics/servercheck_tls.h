#pragma once
// The certificate verdicts of the checklist (servercheck.h): chain, expiry and
// name, read from the TlsInfo the transport recorded (every verification error,
// also when the handshake went on past them). Pure functions of their inputs, so
// the wording is the same in the report, the CLI and the Diagnose view.

#include "diagnosticreport.h"
#include "events/tlsinfo.h"

#include <QDateTime>

namespace Diagnostics::TlsVerdicts {

// The `verdict`, `summary`, `fix`, `detail` and `data` of each check; the caller
// sets id, scope, title and times. `insecure`: the user turned verification off.
void chain(const TlsInfo &tls, bool insecure, Check *check);
void expiry(const TlsInfo &tls, const QDateTime &nowUtc, Check *check);
void name(const TlsInfo &tls, Check *check);
// "TLSv1.0" .. "TLSv1.3": the negotiated version (RFC 8996 deprecates 1.0 and 1.1).
void protocol(const TlsInfo &tls, Check *check);

} // namespace Diagnostics::TlsVerdicts
