// smtpscope: the GUI by default, CLI subcommands for scripts (issue 4/5 grow this).
#include <QCoreApplication>
#include <QTextStream>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("smtpscope"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SMTPSCOPE_VERSION));
    QTextStream(stdout) << "smtpscope " << SMTPSCOPE_VERSION << "\n";
    return 0;
}
