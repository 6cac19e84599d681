// bench_history: is the history still responsive with 10,000 stored sessions?
// Fills a HistoryStore in a temporary folder with realistic sessions
// (about 40 transcript lines each: greeting, EHLO and its capabilities,
// STARTTLS, AUTH, MAIL, RCPT, DATA, QUIT; some events; a small .eml), then
// times what the History page does: the first page of the list, count(), a
// full-text search and a server filter, each the median of several runs.
//
// Bounds: --sessions is capped at 200,000 and the filling stops at
// --max-seconds (whatever was stored by then is measured, and said); every
// query is run --runs times (at most 50). Only a temporary folder is touched.
//
//   bench_history [--sessions N] [--runs R] [--max-seconds S] [--budget-ms MS]
// With --budget-ms, the exit status is 1 when a median is over the budget.

#include "store/historystore.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

namespace {

Store::SessionRecord realisticSession(int n, const QDateTime &started)
{
    using D = TranscriptEntry::Direction;
    Store::SessionRecord r;
    r.kind = n % 10 == 0 ? Store::SessionKind::Probe : Store::SessionKind::Send;
    r.started = started;
    r.durationUs = 150000 + (n * 7919) % 900000;
    r.source = n % 2 ? QStringLiteral("window") : QStringLiteral("cli");
    r.profile = QStringLiteral("profile %1").arg(n % 5);
    const QString host = QStringLiteral("mx%1.example%2.test").arg(n % 40).arg(n % 3);
    r.target = host + QStringLiteral(":587");
    r.securityMode = QStringLiteral("starttls");
    r.user = QStringLiteral("user%1@example.test").arg(n % 50);
    const bool refused = n % 17 == 0;
    r.outcome = refused ? QStringLiteral("rejected") : QStringLiteral("accepted");
    if (refused)
        r.error = QStringLiteral("SMTP-REPLY-ERROR: RCPT TO: the server refused the recipient (server: 550 5.1.1 "
                                 "<nobody%1@example.test>: Recipient address rejected)")
                      .arg(n);
    r.subject = QStringLiteral("Weekly report %1").arg(n);
    r.from = QStringLiteral("sender%1@example.test").arg(n % 30);
    r.recipients = {QStringLiteral("to%1@example.test").arg(n % 100)};
    const QString queueId = QStringLiteral("Q%1X").arg(n * 2654435761u % 100000000u, 8, 16, QLatin1Char('0')).toUpper();

    const QStringList lines{
        QStringLiteral("connecting to %1").arg(r.target),
        QStringLiteral("220 %1 ESMTP Postfix (Debian/GNU)").arg(host),
        QStringLiteral("EHLO client.example.test"),
        QStringLiteral("250-%1").arg(host),
        QStringLiteral("250-PIPELINING"),
        QStringLiteral("250-SIZE 10240000"),
        QStringLiteral("250-VRFY"),
        QStringLiteral("250-ETRN"),
        QStringLiteral("250-STARTTLS"),
        QStringLiteral("250-ENHANCEDSTATUSCODES"),
        QStringLiteral("250-8BITMIME"),
        QStringLiteral("250-DSN"),
        QStringLiteral("250 CHUNKING"),
        QStringLiteral("STARTTLS"),
        QStringLiteral("220 2.0.0 Ready to start TLS"),
        QStringLiteral("TLS 1.3 established, TLS_AES_256_GCM_SHA384, certificate verified for %1").arg(host),
        QStringLiteral("EHLO client.example.test"),
        QStringLiteral("250-%1").arg(host),
        QStringLiteral("250-PIPELINING"),
        QStringLiteral("250-SIZE 10240000"),
        QStringLiteral("250-AUTH PLAIN LOGIN"),
        QStringLiteral("250-ENHANCEDSTATUSCODES"),
        QStringLiteral("250-8BITMIME"),
        QStringLiteral("250 CHUNKING"),
        QStringLiteral("AUTH PLAIN <redacted>"),
        QStringLiteral("235 2.7.0 Authentication successful"),
        QStringLiteral("MAIL FROM:<%1> SIZE=2048").arg(r.from),
        QStringLiteral("250 2.1.0 Ok"),
        QStringLiteral("RCPT TO:<%1>").arg(r.recipients.first()),
        refused ? QStringLiteral("550 5.1.1 <%1>: Recipient address rejected").arg(r.recipients.first())
                : QStringLiteral("250 2.1.5 Ok"),
        QStringLiteral("DATA"),
        QStringLiteral("354 End data with <CR><LF>.<CR><LF>"),
        QStringLiteral("<2048 bytes of message data>"),
        QStringLiteral("."),
        QStringLiteral("250 2.0.0 Ok: queued as %1").arg(queueId),
        QStringLiteral("QUIT"),
        QStringLiteral("221 2.0.0 Bye"),
        QStringLiteral("connection closed by the client"),
        QStringLiteral("session took %1 ms").arg(r.durationUs / 1000),
        QStringLiteral("stored in history"),
    };
    qint64 t = 0;
    for (int i = 0; i < lines.size(); ++i) {
        t += 500 + (n + i) % 3000;
        const QString &text = lines[i];
        const D dir = text.startsWith(QLatin1String("EHLO")) || text.startsWith(QLatin1String("MAIL"))
                || text.startsWith(QLatin1String("RCPT")) || text == QLatin1String("DATA")
                || text == QLatin1String("QUIT") || text == QLatin1String("STARTTLS") || text.startsWith(u'<')
                || text == QLatin1String(".") || text.startsWith(QLatin1String("AUTH"))
            ? D::Client
            : (text.at(0).isDigit() ? D::Server : D::Info);
        r.transcript.append(TranscriptEntry{t, dir, i > 15, text});
    }
    for (int i = 0; i < 30; ++i)
        r.events.append({{QStringLiteral("type"), i % 2 ? QStringLiteral("Read") : QStringLiteral("Written")},
                         {QStringLiteral("bytes"), 40 + i},
                         {QStringLiteral("us"), i * 1000}});
    r.result = {{QStringLiteral("target"), r.target},
                {QStringLiteral("accepted"), !refused},
                {QStringLiteral("MSGID"), QVariantMap{{QStringLiteral("code"), 250},
                                                      {QStringLiteral("desc"), QStringLiteral("Ok: queued as ") + queueId}}}};
    r.usage = {{QStringLiteral("bytes_sent"), 2400}, {QStringLiteral("bytes_received"), 900}};
    r.message = QByteArray("Subject: Weekly report\r\n\r\n") + QByteArray(2000, 'x');
    r.messageBytes = r.message.size();
    return r;
}

double medianMs(int runs, const std::function<void()> &work)
{
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        QElapsedTimer timer;
        timer.start();
        work();
        ms.push_back(double(timer.nsecsElapsed()) / 1e6);
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Times the history database with many stored sessions."));
    parser.addHelpOption();
    const QCommandLineOption sessionsOpt(QStringLiteral("sessions"), QStringLiteral("Sessions to store (10000)."),
                                         QStringLiteral("n"), QStringLiteral("10000"));
    const QCommandLineOption runsOpt(QStringLiteral("runs"), QStringLiteral("Runs per query, median shown (9)."),
                                     QStringLiteral("n"), QStringLiteral("9"));
    const QCommandLineOption maxSecondsOpt(QStringLiteral("max-seconds"),
                                           QStringLiteral("Stop storing after this long (300)."), QStringLiteral("s"),
                                           QStringLiteral("300"));
    const QCommandLineOption budgetOpt(QStringLiteral("budget-ms"),
                                       QStringLiteral("Exit 1 when a query's median is over this."), QStringLiteral("ms"));
    parser.addOptions({sessionsOpt, runsOpt, maxSecondsOpt, budgetOpt});
    parser.process(app);

    const int sessions = std::clamp(parser.value(sessionsOpt).toInt(), 1, 200000);
    const int runs = std::clamp(parser.value(runsOpt).toInt(), 1, 50);
    const int maxSeconds = std::clamp(parser.value(maxSecondsOpt).toInt(), 1, 3600);
    const double budget = parser.isSet(budgetOpt) ? parser.value(budgetOpt).toDouble() : 0.0;

    QTemporaryDir dir;
    if (!dir.isValid()) {
        std::fprintf(stderr, "bench_history: no temporary folder\n");
        return 2;
    }
    Store::HistoryStore store;
    QString error;
    if (!store.open(dir.filePath(QStringLiteral("history.sqlite")), &error)) {
        std::fprintf(stderr, "bench_history: %s\n", qPrintable(error));
        return 2;
    }

    // Newest last, a minute apart, ending now.
    const QDateTime end = QDateTime::currentDateTimeUtc();
    QDeadlineTimer deadline{std::chrono::seconds(maxSeconds)};
    QElapsedTimer fill;
    fill.start();
    int stored = 0;
    for (; stored < sessions && !deadline.hasExpired(); ++stored) {
        if (store.add(realisticSession(stored, end.addSecs(-60LL * (sessions - stored))), &error) == 0) {
            std::fprintf(stderr, "bench_history: %s\n", qPrintable(error));
            return 2;
        }
    }
    const double fillMs = double(fill.nsecsElapsed()) / 1e6;
    std::printf("stored %d of %d sessions in %.0f ms (%.2f ms each, one transaction each)%s\n", stored, sessions, fillMs,
                fillMs / std::max(stored, 1), stored < sessions ? " -- stopped at --max-seconds" : "");

    struct Query
    {
        const char *name;
        std::function<int()> run; // returns the rows seen, so the work is not optimised away
    };
    Store::SessionFilter firstPage;
    Store::SessionFilter search;
    search.text = QStringLiteral("Recipient rejected");
    Store::SessionFilter rareSearch;
    rareSearch.text = QStringLiteral("Weekly report %1").arg(stored / 2);
    Store::SessionFilter server;
    server.server = QStringLiteral("mx7.example1");
    const std::vector<Query> queries{
        {"list() first page (200)", [&] { return int(store.list(firstPage).size()); }},
        {"count() all", [&] { return store.count({}); }},
        {"text search, common words (page)", [&] { return int(store.list(search).size()); }},
        {"text search, common words (count)", [&] { return store.count(search); }},
        {"text search, one session", [&] { return int(store.list(rareSearch).size()); }},
        {"server filter (page)", [&] { return int(store.list(server).size()); }},
        {"server filter (count)", [&] { return store.count(server); }},
        {"session() by id", [&] { return store.session(std::max(stored / 2, 1)) ? 1 : 0; }},
    };

    bool overBudget = false;
    std::printf("%-36s %10s %8s\n", "query", "median ms", "rows");
    for (const Query &q : queries) {
        int rows = 0;
        const double ms = medianMs(runs, [&] { rows = q.run(); });
        const bool over = budget > 0 && ms > budget;
        overBudget = overBudget || over;
        std::printf("%-36s %10.2f %8d%s\n", q.name, ms, rows, over ? "  over budget" : "");
    }
    return overBudget ? 1 : 0;
}
