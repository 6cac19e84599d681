#pragma once
// The command line of smtpscope: picks the subcommand and runs it.

#include <QStringList>

namespace Cli {

// `arguments` as QCoreApplication::arguments() gives them (program first).
// Returns the process exit code (exitcodes.h).
[[nodiscard]] int run(const QStringList &arguments);

// The general help: subcommands and exit codes.
[[nodiscard]] QString generalHelp();

} // namespace Cli
