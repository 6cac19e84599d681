#include "cli.h"

#include "exitcodes.h"
#include "historycommand.h"
#include "probecommand.h"
#include "sendcommand.h"
#include "servecommand.h"
#include "terminal.h"

#include <QCoreApplication>
#include <QLoggingCategory>

namespace Cli {

QString generalHelp()
{
    return QStringLiteral("smtpscope %1: SMTP mail composer and diagnostics tool\n"
                          "\n"
                          "Usage: smtpscope <command> [options]\n"
                          "\n"
                          "Commands:\n"
                          "  send     compose (or load a .eml file) and send a message; --json, --transcript, "
                          "--count, --test\n"
                          "  probe    connect without sending mail and report what the server offers\n"
                          "  serve    run the built-in capture server on loopback and store what it receives\n"
                          "  history  list the recorded sessions of send and probe (and the window); "
                          "'history show ID' prints one with its transcript\n"
                          "  help     this text; 'smtpscope <command> --help' for a command's options\n"
                          "\n"
                          "With no command smtpscope opens its window.\n"
                          "\n")
               .arg(QCoreApplication::applicationVersion())
        + exitCodeHelp();
}

int run(const QStringList &arguments)
{
    // The engine's own log lines would repeat, unformatted, what the command
    // reports (and a script would read them as output). QT_LOGGING_RULES, when
    // set, still turns them on for debugging.
    if (qEnvironmentVariableIsEmpty("QT_LOGGING_RULES"))
        QLoggingCategory::setFilterRules(QStringLiteral("smtpscope.*=false"));
    if (arguments.size() < 2) {
        Terminal::out(generalHelp());
        return ExitOk;
    }
    const QString command = arguments.at(1);
    const QStringList rest = arguments.mid(2);
    if (command == u"send")
        return SendCommand().run(rest);
    if (command == u"probe")
        return ProbeCommand().run(rest);
    if (command == u"serve")
        return ServeCommand().run(rest);
    if (command == u"history")
        return HistoryCommand().run(rest);
    if (command == u"help" || command == u"--help" || command == u"-h") {
        if (rest.size() == 1 && rest.constFirst() == u"send")
            return SendCommand().run({QStringLiteral("--help")});
        if (rest.size() == 1 && rest.constFirst() == u"probe")
            return ProbeCommand().run({QStringLiteral("--help")});
        if (rest.size() == 1 && rest.constFirst() == u"serve")
            return ServeCommand().run({QStringLiteral("--help")});
        if (rest.size() == 1 && rest.constFirst() == u"history")
            return HistoryCommand().run({QStringLiteral("--help")});
        Terminal::out(generalHelp());
        return ExitOk;
    }
    if (command == u"--version" || command == u"-v") {
        Terminal::out(QStringLiteral("smtpscope %1\n").arg(QCoreApplication::applicationVersion()));
        return ExitOk;
    }
    Terminal::err(QStringLiteral("smtpscope: unknown command '%1'\nTry 'smtpscope help'.\n").arg(command));
    return ExitUsage;
}

} // namespace Cli
