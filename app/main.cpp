// smtpscope: the GUI by default (once it exists), CLI subcommands for scripts
// (app/cli/, docs/cli.md).
#include "cli/cli.h"

#include <QCoreApplication>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("smtpscope"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SMTPSCOPE_VERSION));
    return Cli::run(QCoreApplication::arguments());
}
