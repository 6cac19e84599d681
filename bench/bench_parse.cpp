// bench_parse: what ParsedMessage (core/mime, the capture view's MIME reader)
// costs on hostile and on large well-formed messages: the time of one parse and
// the memory it needed.
//
// Each case runs in its own child process (this program with --one CASE), so
// that one case's peak cannot hide another's. In the child the message is built
// first, then the kernel's peak-RSS mark is reset (`5 > /proc/self/clear_refs`,
// Linux 4.0+), the message parsed, and the growth (VmHWM after minus VmRSS
// before) reported: the memory the parse alone needed, the input excluded.
//
// Bounds: every child is killed after --max-seconds (default 120); the cases
// are a fixed list.
//
//   bench_parse [--max-seconds S] [--case NAME]...

#include "mime/parsedmessage.h"

#include "../tests/unit/parsedmessage/hostilemessage.h"
#include "../tests/unit/parsedmessage/samplemessage.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>

#include <cstdio>
#include <functional>

namespace {

struct Case
{
    const char *name;
    const char *what;
    std::function<QByteArray()> make;
};

const QList<Case> &cases()
{
    static const QList<Case> list{
        {"sample", "a typical message (mixed, related, alternative, 3 files)", [] { return Sample::message("PNG"); }},
        {"parts-1M", "1,000,000 one-line text parts (36 MB)", [] { return Hostile::manyParts(1000000); }},
        {"empty-parts-5M", "5,000,000 parts without header fields (35 MB)", [] { return Hostile::emptyParts(5000000); }},
        {"fields-5M", "one header block of 5,000,000 fields (40 MB)", [] { return Hostile::manyHeaders(5000000); }},
        {"parts-10k", "9,999 one-line text parts and the root: at the part bound", [] { return Hostile::manyParts(9999); }},
        {"fields-50k", "50 parts of 999 fields and the root: near the bound on fields", [] { return Hostile::manyHeadersInParts(50, 999); }},
        {"digest-500", "a digest of 500 messages, 2,001 parts", [] { return Hostile::digest(500); }},
        {"text-40M", "one 40 MB text/plain part", [] { return Hostile::largeText(40 * 1024 * 1024); }},
    };
    return list;
}

qint64 statusKiB(const char *field)
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray key = QByteArray(field) + ':';
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith(key))
            return line.mid(key.size()).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

int runOne(const QString &name)
{
    const Case *c = nullptr;
    for (const Case &candidate : cases()) {
        if (name == QLatin1String(candidate.name))
            c = &candidate;
    }
    if (!c) {
        fprintf(stderr, "bench_parse: no case named %s\n", qPrintable(name));
        return 2;
    }
    const QByteArray bytes = c->make();
    QFile clear(QStringLiteral("/proc/self/clear_refs"));
    if (!clear.open(QIODevice::WriteOnly) || clear.write("5") != 1) {
        fprintf(stderr, "bench_parse: cannot reset the peak RSS mark (/proc/self/clear_refs)\n");
        return 2;
    }
    clear.close();
    const qint64 rssBefore = statusKiB("VmRSS");
    QElapsedTimer timer;
    timer.start();
    qint64 ms = 0;
    QString outcome;
    {
        ParsedMessage m;
        QString error;
        const bool ok = m.parse(bytes, &error);
        ms = timer.elapsed();
        outcome = ok ? QStringLiteral("parsed, %1 parts").arg(m.allParts().size())
                     : QStringLiteral("refused: %1").arg(error);
    }
    const qint64 peak = statusKiB("VmHWM");
    // One line for the parent: size, ms, growth KiB, outcome.
    printf("%lld\t%lld\t%lld\t%s\n", qint64(bytes.size()), ms, peak - rssBefore, qPrintable(outcome));
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("ParsedMessage on hostile and large messages: time and peak memory"));
    parser.addHelpOption();
    QCommandLineOption one(QStringLiteral("one"), QStringLiteral("Run one case in this process (used by the parent)."),
                           QStringLiteral("name"));
    QCommandLineOption only(QStringLiteral("case"), QStringLiteral("Run only this case (repeatable)."), QStringLiteral("name"));
    QCommandLineOption maxSeconds(QStringLiteral("max-seconds"), QStringLiteral("Time limit per case (default 120)."),
                                  QStringLiteral("s"), QStringLiteral("120"));
    parser.addOptions({one, only, maxSeconds});
    parser.process(app);
    if (parser.isSet(one))
        return runOne(parser.value(one));

    const int limitMs = std::clamp(parser.value(maxSeconds).toInt(), 1, 3600) * 1000;
    const QStringList wanted = parser.values(only);
    printf("%-15s %9s %9s %11s  %s\n", "case", "MiB", "ms", "growth MiB", "outcome");
    int status = 0;
    for (const Case &c : cases()) {
        if (!wanted.isEmpty() && !wanted.contains(QLatin1String(c.name)))
            continue;
        QProcess child;
        child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        child.start(QCoreApplication::applicationFilePath(), {QStringLiteral("--one"), QLatin1String(c.name)});
        if (!child.waitForFinished(limitMs)) {
            child.kill();
            child.waitForFinished(5000);
            printf("%-15s %9s %9s %11s  over the %d s limit: killed (%s)\n", c.name, "-", "-", "-", limitMs / 1000, c.what);
            status = 1;
            continue;
        }
        const QList<QByteArray> fields = child.readAllStandardOutput().trimmed().split('\t');
        if (child.exitCode() != 0 || fields.size() < 4) {
            printf("%-15s failed (exit %d, signal or crash: %s)\n", c.name, child.exitCode(),
                   child.exitStatus() == QProcess::CrashExit ? "yes" : "no");
            status = 1;
            continue;
        }
        printf("%-15s %9.1f %9lld %11.1f  %s (%s)\n", c.name, fields[0].toDouble() / (1024 * 1024), fields[1].toLongLong(),
               fields[2].toDouble() / 1024, fields.mid(3).join('\t').constData(), c.what);
        fflush(stdout);
    }
    return status;
}
