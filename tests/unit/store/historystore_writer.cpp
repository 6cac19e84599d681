// The process tst_historystore kills with SIGKILL: stores TestRecord::numbered(n)
// for n = first, first + 1, ... into the history file given, and prints each n
// after its commit, so the test knows which rows must have survived.
//   historystore_writer FILE FIRST
// With "--read", a listing as another user runs it: opens FILE read-only and
// prints "sessions N" (the test runs it under a user who cannot write the folder).
//   historystore_writer --read FILE

#include "store/historystore.h"
#include "testrecord.h"

#include <QCoreApplication>
#include <cstdio>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (argc == 3 && QByteArray(argv[1]) == "--read") {
        Store::HistoryStore reader;
        QString error;
        if (!reader.openReadOnly(QString::fromLocal8Bit(argv[2]), &error)) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            return 1;
        }
        std::printf("sessions %d\n", reader.count({}));
        return 0;
    }
    if (argc != 3) {
        std::fprintf(stderr, "usage: historystore_writer FILE FIRST\n");
        return 2;
    }
    Store::HistoryStore store;
    QString error;
    if (!store.open(QString::fromLocal8Bit(argv[1]), &error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    // Bounded, should the test fail to kill it.
    const int first = QByteArray(argv[2]).toInt();
    for (int n = first; n < first + 100000; ++n) {
        if (store.add(TestRecord::numbered(n), &error) == 0) {
            std::fprintf(stderr, "%s\n", qPrintable(error));
            return 1;
        }
        std::printf("%d\n", n);
        std::fflush(stdout);
    }
    return 0;
}
