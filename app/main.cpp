// smtpscope: the window with no arguments; subcommands (send, probe, help) for
// scripts and CI (app/cli/, docs/cli.md).
#include "cli/cli.h"
#include "client/smtpclient.h"
#include "main/mainwindow.h"

#include <QApplication>
#include <QCoreApplication>
#include <QSettings>
#include <QThreadPool>

#include <memory>

namespace {

void describeApplication()
{
    QCoreApplication::setOrganizationName(QStringLiteral("smtpscope"));
    QCoreApplication::setApplicationName(QStringLiteral("smtpscope"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SMTPSCOPE_VERSION));
}

} // namespace

int main(int argc, char *argv[])
{
    if (argc > 1) {
        // The command line needs no display: a QCoreApplication, not a QApplication.
        QCoreApplication app(argc, argv);
        describeApplication();
        return Cli::run(QCoreApplication::arguments());
    }
    QApplication app(argc, argv);
    describeApplication();
    QApplication::setApplicationDisplayName(QStringLiteral("SMTP Scope"));
    // The TLS library and the system CA store load once per process: on a
    // worker now, so that the first send does not wait for them.
    QThreadPool::globalInstance()->start([] { SmtpClient::preloadTls(); });
    QSettings settings;
    MainWindow window(&settings);
    window.show();
    return QApplication::exec();
}
