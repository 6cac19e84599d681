// bench_capturestore: does the capture store's cost per message grow with the
// number of messages stored? For each store size N (default 0, 10,000 and
// 100,000) it
//   1. fills a folder with N .eml files under the store's own id names, written
//      directly (no fsync: the filling is test data, not what is measured);
//      with --same-content, hard links to one file (much faster to make on
//      file systems slow to create inodes; the store sees N messages all the
//      same);
//   2. times the first open(), which indexes those files (a one-time import);
//   3. times a second open() of the same folder: the start-up of a server or of
//      the window on a store of N messages;
//   4. times --deliveries deliveries (begin, write a 2 KiB message in 4 KiB
//      pieces, commit), each the full durable commit, and prints their median
//      and 90th percentile.
// It prints the process's resident memory after the deliveries and how much of
// it the second open() and the deliveries added (the import's memory is given
// back to the system first), so a store that keeps its whole index in memory
// shows up too.
//
// Bounds: sizes are capped at 500,000 and the deliveries at 10,000; filling
// and indexing stop being measured when --max-seconds passes (the row says so).
// Only a temporary folder is touched.
//
//   bench_capturestore [--sizes 0,10000,100000] [--deliveries N] [--max-seconds S] [--same-content]

#include "capture/messagestore.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>
#include <vector>

namespace {

QByteArray messageBytes(int n, int bodySize)
{
    QByteArray m = "From: Sender " + QByteArray::number(n % 50) + " <sender" + QByteArray::number(n % 50)
        + "@example.test>\r\nTo: rcpt" + QByteArray::number(n % 200) + "@example.test\r\nSubject: Report number "
        + QByteArray::number(n) + "\r\nDate: Thu, 26 Nov 2026 10:15:00 +0000\r\nMessage-ID: <" + QByteArray::number(n)
        + ".bench@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
    const QByteArray line = "The quick brown fox jumps over the lazy dog, line after line of text.\r\n";
    while (m.size() < bodySize)
        m += line;
    return m;
}

// Ids as the store gives them ("yyyyMMddTHHmmss-NNNNNN"), a thousand per
// second, starting in 2020: older than anything the store will hand out now.
QString fillId(int i)
{
    static const QDateTime base(QDate(2020, 1, 1), QTime(0, 0), Qt::UTC);
    return base.addSecs(i / 1000).toString(QStringLiteral("yyyyMMdd'T'HHmmss")) + QLatin1Char('-')
        + QStringLiteral("%1").arg(i % 1000 + 1, 6, 10, QLatin1Char('0'));
}

bool fill(const QString &folder, int count, bool sameContent, const QDeadlineTimer &deadline, int *written)
{
    if (!QDir().mkpath(folder))
        return false;
    // ext4 allows 65,000 links to one inode: a new source every 50,000.
    constexpr int LinksPerSource = 50000;
    const QByteArray bytes = messageBytes(0, 1500);
    QByteArray source;
    for (*written = 0; *written < count && !deadline.hasExpired(); ++*written) {
        const QByteArray path =
            QFile::encodeName(folder + QLatin1Char('/') + fillId(*written) + QStringLiteral(".eml"));
        if (sameContent && *written % LinksPerSource != 0) {
            if (::link(source.constData(), path.constData()) != 0)
                return false;
            continue;
        }
        const QByteArray content = sameContent ? bytes : messageBytes(*written, 1500);
        const int fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return false;
        const bool ok = ::write(fd, content.constData(), size_t(content.size())) == content.size();
        ::close(fd);
        if (!ok)
            return false;
        source = path;
    }
    return true;
}

double ms(const QElapsedTimer &t)
{
    return double(t.nsecsElapsed()) / 1e6;
}

qint64 statusKiB(const char *field)
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith(field))
            return line.mid(qstrlen(field)).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

struct Row
{
    int size = 0;
    int stored = 0;
    double importMs = 0;
    double openMs = 0;
    double medianMs = 0;
    double p90Ms = 0;
    qint64 rssKiB = 0;
    qint64 growthKiB = 0;
    bool cut = false;
};

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Times capture store deliveries and start-up against its size."));
    parser.addHelpOption();
    const QCommandLineOption sizesOpt(QStringLiteral("sizes"), QStringLiteral("Store sizes (0,10000,100000)."),
                                      QStringLiteral("list"), QStringLiteral("0,10000,100000"));
    const QCommandLineOption deliveriesOpt(QStringLiteral("deliveries"),
                                           QStringLiteral("Deliveries timed per size (100)."), QStringLiteral("n"),
                                           QStringLiteral("100"));
    const QCommandLineOption maxSecondsOpt(QStringLiteral("max-seconds"),
                                           QStringLiteral("Time limit per size for filling and importing (300)."),
                                           QStringLiteral("s"), QStringLiteral("300"));
    const QCommandLineOption sameOpt(QStringLiteral("same-content"),
                                     QStringLiteral("Fill with hard links to one message (fast to make)."));
    parser.addOptions({sizesOpt, deliveriesOpt, maxSecondsOpt, sameOpt});
    parser.process(app);

    std::vector<int> sizes;
    for (const QString &s : parser.value(sizesOpt).split(u',', Qt::SkipEmptyParts))
        sizes.push_back(std::clamp(s.trimmed().toInt(), 0, 500000));
    const int deliveries = std::clamp(parser.value(deliveriesOpt).toInt(), 1, 10000);
    const int maxSeconds = std::clamp(parser.value(maxSecondsOpt).toInt(), 1, 3600);

    std::vector<Row> rows;
    for (const int size : sizes) {
        QTemporaryDir dir(QDir::tempPath() + QStringLiteral("/store-bench-XXXXXX"));
        if (!dir.isValid()) {
            std::fprintf(stderr, "bench_capturestore: no temporary folder\n");
            return 2;
        }
        const QString folder = dir.filePath(QStringLiteral("messages"));
        Row row;
        row.size = size;
        QDeadlineTimer deadline{std::chrono::seconds(maxSeconds)};
        if (!fill(folder, size, parser.isSet(sameOpt), deadline, &row.stored)) {
            std::fprintf(stderr, "bench_capturestore: cannot write the fill files in %s\n", qPrintable(folder));
            return 2;
        }
        row.cut = row.stored < size;

        QString error;
        {
            QElapsedTimer t;
            t.start();
            Capture::MessageStore first;
            if (!first.open(folder, &error)) {
                std::fprintf(stderr, "bench_capturestore: %s\n", qPrintable(error));
                return 2;
            }
            row.importMs = ms(t);
        }
        ::sync(); // the import's writes are not the start-up's or the deliveries' cost
        ::malloc_trim(0);
        const qint64 rssBefore = statusKiB("VmRSS:");

        Capture::MessageStore store;
        QElapsedTimer t;
        t.start();
        if (!store.open(folder, &error)) {
            std::fprintf(stderr, "bench_capturestore: %s\n", qPrintable(error));
            return 2;
        }
        row.openMs = ms(t);

        std::vector<double> times;
        const QByteArray bytes = messageBytes(size + 1, 2048);
        const QStringList rcpts{QStringLiteral("rcpt@example.test")};
        for (int i = 0; i < deliveries; ++i) {
            t.start();
            auto m = store.begin(QStringLiteral("sender@example.test"), rcpts, &error);
            for (qsizetype at = 0; m && at < bytes.size(); at += 4096) {
                if (!m->write(QByteArrayView(bytes).sliced(at, std::min<qsizetype>(4096, bytes.size() - at)), &error))
                    m.reset();
            }
            if (!m || store.commit(std::move(m), &error).isEmpty()) {
                std::fprintf(stderr, "bench_capturestore: delivery %d: %s\n", i, qPrintable(error));
                return 2;
            }
            times.push_back(ms(t));
        }
        std::sort(times.begin(), times.end());
        row.medianMs = times[times.size() / 2];
        row.p90Ms = times[std::min(times.size() - 1, times.size() * 9 / 10)];
        row.rssKiB = statusKiB("VmRSS:");
        row.growthKiB = row.rssKiB - rssBefore;
        rows.push_back(row);
        std::printf("size %d done\n", size);
        std::fflush(stdout);
    }

    std::printf("\n%-10s %12s %12s %14s %12s %10s %12s\n", "stored", "import ms", "open ms", "delivery ms",
                "p90 ms", "RSS MiB", "growth MiB");
    for (const Row &r : rows) {
        std::printf("%-10d %12.1f %12.1f %14.2f %12.2f %10.1f %12.1f%s\n", r.stored, r.importMs, r.openMs, r.medianMs,
                    r.p90Ms, double(r.rssKiB) / 1024.0, double(r.growthKiB) / 1024.0,
                    r.cut ? "  (filling stopped at --max-seconds)" : "");
    }
    if (rows.size() >= 2 && rows.front().medianMs > 0)
        std::printf("\ndelivery at %d vs %d: %.2fx\n", rows.back().stored, rows.front().stored,
                    rows.back().medianMs / rows.front().medianMs);
    return 0;
}
