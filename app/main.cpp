// smtpscope: the GUI by default, CLI subcommands for scripts. Until those exist
// it prints what it is and exits.
#include <QCoreApplication>
#include <QTextStream>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("smtpscope"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SMTPSCOPE_VERSION));
    QTextStream out(stdout);
    out << "smtpscope " << SMTPSCOPE_VERSION << ": SMTP mail composer and diagnostics tool\n"
        << "\n"
        << "This build contains the SMTP engine (see README.md); the window and the\n"
        << "send, probe and serve subcommands are not part of it yet.\n";
    return argc > 1 ? 2 : 0;
}
