#include "output.h"

#include "exitcodes.h"
#include "terminal.h"

#include "protocol/printable.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

namespace Cli::Output {

namespace {

// QJsonDocument escapes the C0 controls (RFC 8259 7) but writes DEL, C1 controls
// and format characters such as U+202E as UTF-8: a terminal would act on them.
// Outside strings JSON text is ASCII, so every such character is inside a string,
// where "\uXXXX" (UTF-16 code units, RFC 8259 7) means the same character.
QByteArray terminalSafe(QByteArray json)
{
    const bool ascii = std::all_of(json.cbegin(), json.cend(), [](char c) { return uchar(c) < 0x7f; });
    if (ascii)
        return json;
    const QString text = QString::fromUtf8(json);
    QString out;
    out.reserve(text.size() + 16);
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        const bool pair = c.isHighSurrogate() && i + 1 < text.size() && text.at(i + 1).isLowSurrogate();
        const char32_t ucs = pair ? QChar::surrogateToUcs4(c, text.at(i + 1)) : c.unicode();
        // Below DEL only C0, which QJsonDocument has escaped inside strings;
        // outside them it is the layout (line feeds).
        if (ucs >= 0x7f && Smtp::isUnsafeCharacter(ucs)) {
            for (qsizetype k = i; k <= i + (pair ? 1 : 0); ++k)
                out += QStringLiteral("\\u%1").arg(uint(text.at(k).unicode()), 4, 16, QLatin1Char('0'));
        } else {
            out += c;
            if (pair)
                out += text.at(i + 1);
        }
        if (pair)
            ++i;
    }
    return out.toUtf8();
}

} // namespace

QByteArray json(const QVariantMap &map)
{
    return terminalSafe(QJsonDocument(QJsonObject::fromVariantMap(map)).toJson(QJsonDocument::Indented));
}

QByteArray json(const QVariantList &list)
{
    return terminalSafe(QJsonDocument(QJsonArray::fromVariantList(list)).toJson(QJsonDocument::Indented));
}

QByteArray jsonLine(const QVariantMap &map)
{
    return terminalSafe(QJsonDocument(QJsonObject::fromVariantMap(map)).toJson(QJsonDocument::Compact)) + '\n';
}

QVariantMap eventForJson(const QVariantMap &record)
{
    QVariantMap out = record;
    out.remove(QStringLiteral("arg"));
    const auto data = out.constFind(QStringLiteral("data"));
    if (data != out.cend()) {
        const QByteArray bytes = data->toByteArray();
        out.insert(QStringLiteral("data_base64"), QString::fromLatin1(bytes.toBase64()));
        out.insert(QStringLiteral("data_text"), Smtp::printable(bytes));
        out.remove(QStringLiteral("data"));
    }
    return out;
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
        .arg(Smtp::safeLine(e.text));
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
    Terminal::err(QStringLiteral("smtpscope %1: warning: %2\n").arg(command, Smtp::safeLine(text)));
}

int usageError(const QString &command, const QString &text)
{
    Terminal::err(QStringLiteral("smtpscope %1: %2\nTry 'smtpscope %1 --help'.\n").arg(command, Smtp::safeLine(text)));
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
    Terminal::err(QStringLiteral("smtpscope %1: %2\n").arg(command, Smtp::safeLine(text)));
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
