#pragma once
// `smtpscope serve`: the built-in capture server on loopback until
// SIGINT or SIGTERM. One line on stdout at start (ports and CA file), then one
// line per captured message; connection events on stderr with --verbose.

#include <QStringList>

namespace Cli {

class ServeCommand
{
public:
    // `arguments`: what follows "serve" on the command line. Returns the exit code.
    [[nodiscard]] int run(const QStringList &arguments);
};

} // namespace Cli
