// The process tst_messagestore kills with SIGKILL. Two modes:
//   capturestore_writer big <folder>         begins one 100 MB message and writes
//                                            it in 64 KiB chunks; prints "writing"
//                                            after the first chunk
//   capturestore_writer loop <folder> <n> <seed>
//                                            commits n small self-checking
//                                            messages (testmessage.h); prints
//                                            "committed <id>" after each commit
// Prints "ready" once the store is open. Exit code 0 only if it ran to the end.

#include "capture/messagestore.h"
#include "testmessage.h"

#include <QCoreApplication>
#include <QRandomGenerator>
#include <QStringList>

#include <cstdio>

namespace {

void say(const QByteArray &line)
{
    std::fputs(line.constData(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout); // the test reacts to each line as it comes
}

int fail(const QString &what)
{
    std::fprintf(stderr, "capturestore_writer: %s\n", qPrintable(what));
    return 2;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 3)
        return fail(QStringLiteral("usage: big <folder> | loop <folder> <count> <seed>"));

    Capture::MessageStore store;
    QString error;
    if (!store.open(args.at(2), &error))
        return fail(error);
    say("ready");

    if (args.at(1) == QLatin1String("big")) {
        constexpr qint64 kTotal = 100LL * 1024 * 1024;
        constexpr qint64 kChunk = 64 * 1024;
        auto message = store.begin(QStringLiteral("big@example.test"), {QStringLiteral("rcpt@example.test")}, &error);
        if (!message)
            return fail(error);
        // A length claim the body never reaches: were this ever committed and
        // listed, TestMessage::verify() would reject it.
        const QByteArray head = "From: big@example.test\r\nSubject: big\r\nX-Test-Body-Length: "
            + QByteArray::number(kTotal) + "\r\nX-Test-Body-SHA256: 00\r\n\r\n";
        if (!message->write(head, &error))
            return fail(error);
        const QByteArray chunk = TestMessage::body(kChunk, 1);
        for (qint64 written = 0; written < kTotal; written += kChunk) {
            if (!message->write(chunk, &error))
                return fail(error);
            if (written == 0)
                say("writing");
        }
        const QString id = store.commit(std::move(message), &error);
        if (id.isEmpty())
            return fail(error);
        say("committed " + id.toLatin1());
        return 0;
    }

    if (args.at(1) == QLatin1String("loop") && args.size() >= 5) {
        const int count = args.at(3).toInt();
        QRandomGenerator rng(args.at(4).toUInt());
        for (int i = 0; i < count; ++i) {
            const quint32 seed = rng.generate();
            const QByteArray bytes = TestMessage::make(rng.bounded(200, 64 * 1024), seed,
                                                       "loop " + QByteArray::number(seed));
            auto message = store.begin(QStringLiteral("loop@example.test"), {QStringLiteral("rcpt@example.test")},
                                       &error);
            if (!message)
                return fail(error);
            // Several writes per message, as a server writes what each read gave it.
            for (qsizetype at = 0; at < bytes.size(); at += 4096) {
                if (!message->write(QByteArrayView(bytes).sliced(at, qMin<qsizetype>(4096, bytes.size() - at)), &error))
                    return fail(error);
            }
            const QString id = store.commit(std::move(message), &error);
            if (id.isEmpty())
                return fail(error);
            say("committed " + id.toLatin1());
        }
        return 0;
    }
    return fail(QStringLiteral("unknown mode %1").arg(args.at(1)));
}
