#include "output.h"

#include "exitcodes.h"
#include "terminal.h"

#include <QCommandLineParser>
#include <QJsonDocument>
#include <QJsonObject>

namespace Cli::Output {

QByteArray json(const QVariantMap &map)
{
    return QJsonDocument(QJsonObject::fromVariantMap(map)).toJson(QJsonDocument::Indented);
}


QVariantList transcript(const QList<TranscriptEntry> &entries)
{
    return TranscriptEntry::toVariantList(entries);
}

QString transcriptLine(const TranscriptEntry &e)
{
    return QStringLiteral("%1 %2 %3 %4\n")
        .arg(double(e.timeUs) / 1e6, 7, 'f', 3)
        .arg(TranscriptEntry::directionTag(e.direction))
        .arg(e.encrypted ? QStringLiteral("[tls]") : QStringLiteral("     "))
        .arg(e.text);
}

void streamTranscript(SmtpClient &client)
{
    // Runs on the client's worker thread; one fwrite per line keeps lines whole.
    client.setTranscriptFunction([](const TranscriptEntry &e) { Terminal::err(transcriptLine(e)); });
}

QString reply(const ServerReply &r)
{
    return r.isValid() ? r.display(true) : QStringLiteral("(no reply)");
}

void warning(const QString &command, const QString &text)
{
    Terminal::err(QStringLiteral("smtpscope %1: warning: %2\n").arg(command, text));
}

int usageError(const QString &command, const QString &text)
{
    Terminal::err(QStringLiteral("smtpscope %1: %2\nTry 'smtpscope %1 --help'.\n").arg(command, text));
    return ExitUsage;
}

std::optional<int> parseArguments(QCommandLineParser &parser, const QString &command, const QStringList &arguments)
{
    if (!parser.parse(QStringList{QStringLiteral("smtpscope")} + arguments))
        return usageError(command, parser.errorText());
    if (parser.isSet(QStringLiteral("help"))) {
        Terminal::out(parser.helpText() + u'\n' + exitCodeHelp());
        return ExitOk;
    }
    if (!parser.positionalArguments().isEmpty())
        return usageError(command,
                          QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().constFirst()));
    return std::nullopt;
}

int failure(const QString &command, const QString &text, int exitCode)
{
    Terminal::err(QStringLiteral("smtpscope %1: %2\n").arg(command, text));
    return exitCode;
}

QString bytes(qint64 n)
{
    if (n < 1024)
        return QStringLiteral("%1 B").arg(n);
    if (n < 1024 * 1024)
        return QStringLiteral("%1 KiB").arg(double(n) / 1024.0, 0, 'f', 1);
    if (n < 1024LL * 1024 * 1024)
        return QStringLiteral("%1 MiB").arg(double(n) / (1024.0 * 1024.0), 0, 'f', 1);
    return QStringLiteral("%1 GiB").arg(double(n) / (1024.0 * 1024.0 * 1024.0), 0, 'f', 2);
}

QString seconds(double s)
{
    return QStringLiteral("%1 s").arg(s, 0, 'f', 3);
}

} // namespace Cli::Output
