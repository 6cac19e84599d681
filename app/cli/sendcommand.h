#pragma once
// `smtpscope send`: compose (or load) a message, send it, report.
//
// Output contract (docs/cli.md): the one-line summary, the --json document and
// the --test wire dump go to stdout; the transcript, the progress bar, warnings
// and errors go to stderr. The exit code tells the failing stage (exitcodes.h).

#include <QStringList>

namespace Cli {

class SendCommand
{
public:
    // `arguments`: what follows "send" on the command line. Returns the exit code.
    [[nodiscard]] int run(const QStringList &arguments);
};

} // namespace Cli
