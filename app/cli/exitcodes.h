#pragma once
// The exit codes of `smtpscope send` and `smtpscope probe`: one table, used by
// the code, by --help and (copied by hand, checked by tst_cli) by docs/cli.md.
// Each failing stage has its own code so that a script can tell them apart
// without parsing text. 1 is left unused: it is what a crash or an uncaught
// runtime failure of the Qt machinery would most likely produce.

#include "client/smtperror.h"

#include <QList>
#include <QString>

namespace Cli {

enum ExitCode : int {
    ExitOk = 0,             // every recipient accepted (send); session and login fine (probe)
    ExitUsage = 2,          // bad command line or input: unknown option, invalid address, CR/LF, missing file, unknown scheme
    ExitMessage = 3,        // the message cannot be composed or read (MESSAGE-ERROR): attachment, .eml file
    ExitConnection = 4,     // name lookup, connect, timeout, connection lost
    ExitTls = 5,            // TLS handshake, certificate, STARTTLS refused or missing when required
    ExitAuth = 6,           // authentication refused or impossible
    ExitSomeRefused = 7,    // the message was accepted, but some recipients were refused; --count: some messages not
    ExitRejected = 8,       // all recipients refused, sender or message rejected, session refused by the server
    ExitProtocol = 9,       // the server broke the protocol, or anything else unexpected
    ExitDiagnosis = 10,     // probe: the session worked, but a check of the diagnosis failed
};

struct ExitCodeInfo
{
    int code;
    const char *name;        // stable identifier, also in the JSON output ("cli"."exit_name")
    const char *description; // one line for --help and docs/cli.md
};

// Every code, in ascending order.
[[nodiscard]] const QList<ExitCodeInfo> &exitCodes();
[[nodiscard]] QString exitCodeName(int code);
// The table as text for --help.
[[nodiscard]] QString exitCodeHelp();
// The code for an engine error, by its category (smtperror.h).
[[nodiscard]] int exitCodeFor(const SmtpError &error);

} // namespace Cli
