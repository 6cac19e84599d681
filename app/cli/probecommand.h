#pragma once
// `smtpscope probe`: connect without sending mail and report what the server
// offers: addresses, per-step timings, greeting, capabilities before and after
// STARTTLS, TLS protocol and cipher, the certificate chain with its validity
// and the host name verdict, AUTH mechanisms and (with credentials) whether the
// login succeeds. Nothing goes past EHLO/AUTH; QUIT ends the session.

#include <QStringList>

namespace Cli {

class ProbeCommand
{
public:
    // `arguments`: what follows "probe" on the command line. Returns the exit code.
    [[nodiscard]] int run(const QStringList &arguments);
};

} // namespace Cli
