// HistoryStore on real SQLite files in a temporary folder: round trip
// of every field, filters, paging and text search (hostile input included), the
// caps, remove and prune, drafts and outbox, the migration from version 1,
// another application's file and a newer one refused untouched, read-only
// listings, private file modes, kill -9 while writing, two writers at once, and
// the records made from a send result and a diagnosis report.

#include "capture/certificateauthority.h"
#include "diagnostics/diagnosticreport.h"
#include "store/historystore.h"
#include "testrecord.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QProcess>
#include <QScopeGuard>
#include <QRandomGenerator>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimeZone>

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Store;

namespace {

QJsonObject json(const QVariantMap &m)
{
    return QJsonObject::fromVariantMap(m);
}

// Every field of two records, JSON data compared as JSON (what the file keeps).
void compareRecords(const SessionRecord &got, const SessionRecord &want)
{
    QCOMPARE(got.kind, want.kind);
    QCOMPARE(got.started, want.started);
    QCOMPARE(got.durationUs, want.durationUs);
    QCOMPARE(got.source, want.source);
    QCOMPARE(got.profile, want.profile);
    QCOMPARE(got.target, want.target);
    QCOMPARE(got.securityMode, want.securityMode);
    QCOMPARE(got.user, want.user);
    QCOMPARE(got.outcome, want.outcome);
    QCOMPARE(got.error, want.error);
    QCOMPARE(got.subject, want.subject);
    QCOMPARE(got.from, want.from);
    QCOMPARE(got.recipients, want.recipients);
    QCOMPARE(json(got.result), json(want.result));
    QCOMPARE(json(got.usage), json(want.usage));
    QCOMPARE(got.transcript.size(), want.transcript.size());
    for (qsizetype i = 0; i < want.transcript.size(); ++i) {
        QCOMPARE(got.transcript[i].timeUs, want.transcript[i].timeUs);
        QCOMPARE(got.transcript[i].direction, want.transcript[i].direction);
        QCOMPARE(got.transcript[i].encrypted, want.transcript[i].encrypted);
        QCOMPARE(got.transcript[i].text, want.transcript[i].text);
    }
    QCOMPARE(got.events.size(), want.events.size());
    for (qsizetype i = 0; i < want.events.size(); ++i)
        QCOMPARE(json(got.events[i]), json(want.events[i]));
    QCOMPARE(got.certificateChain, want.certificateChain);
    QCOMPARE(got.message, want.message);
    QCOMPARE(got.messageBytes, want.messageBytes);
}

SessionRecord simple(const QString &subject, const QString &target, const QString &outcome, SessionKind kind,
                     const QDateTime &started, const QString &transcriptLine = {})
{
    SessionRecord r;
    r.subject = subject;
    r.target = target;
    r.outcome = outcome;
    r.kind = kind;
    r.started = started;
    if (!transcriptLine.isEmpty())
        r.transcript.append(TranscriptEntry{10, TranscriptEntry::Direction::Server, false, transcriptLine});
    return r;
}

QStringList subjects(const QList<SessionSummary> &rows)
{
    QStringList out;
    for (const SessionSummary &s : rows)
        out.append(s.subject);
    return out;
}

QByteArray fileHash(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

// A raw connection of the test's own, to check the file without HistoryStore.
class RawDb
{
public:
    explicit RawDb(const QString &path)
        : m_name(QStringLiteral("raw-%1").arg(++s_counter))
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_name);
        db.setDatabaseName(path);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
        m_ok = db.open();
    }
    ~RawDb()
    {
        QSqlDatabase::database(m_name, false).close();
        QSqlDatabase::removeDatabase(m_name);
    }
    Q_DISABLE_COPY_MOVE(RawDb)

    [[nodiscard]] bool isOpen() const { return m_ok; }
    bool exec(const QString &sql, QString *error = nullptr)
    {
        QSqlQuery q(QSqlDatabase::database(m_name, false));
        if (q.exec(sql))
            return true;
        if (error)
            *error = q.lastError().text() + QStringLiteral(" in ") + sql;
        return false;
    }
    QVariant scalar(const QString &sql)
    {
        QSqlQuery q(QSqlDatabase::database(m_name, false));
        if (!q.exec(sql) || !q.next())
            return {};
        return q.value(0);
    }

private:
    static inline int s_counter = 0;
    QString m_name;
    bool m_ok = false;
};

} // namespace

class TstHistoryStore : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int m_files = 0;
    QString newPath() { return m_dir.filePath(QStringLiteral("h%1/history.sqlite").arg(++m_files)); }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void openCreatesTheLatestVersion()
    {
        HistoryStore store;
        QString error;
        const QString path = newPath();
        QVERIFY2(store.open(path, &error), qPrintable(error));
        QVERIFY(store.isOpen());
        QVERIFY(!store.isReadOnly());
        QCOMPARE(store.path(), path);
        QCOMPARE(store.schemaVersion(), HistoryStore::SchemaVersion);
        RawDb raw(path);
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), 3);
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA application_id")).toInt(), HistoryStore::ApplicationId);
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA journal_mode")).toString(), QStringLiteral("wal"));
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA auto_vacuum")).toInt(), 2); // incremental
    }

    void roundTripEveryField()
    {
        HistoryStore store;
        QString error;
        QVERIFY2(store.open(newPath(), &error), qPrintable(error));

        using D = TranscriptEntry::Direction;
        SessionRecord r;
        r.kind = SessionKind::Probe;
        r.started = QDateTime(QDate(2025, 1, 31), QTime(12, 0, 1, 234), QTimeZone::utc());
        r.durationUs = 1234567;
        r.source = QStringLiteral("window");
        r.profile = QStringLiteral("Work (587)");
        r.target = QStringLiteral("[::1]:587");
        r.securityMode = QStringLiteral("starttls");
        r.user = QStringLiteral("jöhn@example.test");
        r.outcome = QStringLiteral("warn");
        r.error = QStringLiteral("SMTP-REPLY-ERROR: RCPT TO: refused (server: 550 5.1.1 no \"such\" user)");
        r.subject = QStringLiteral("Grüße 日本語 'quotes' \"double\"");
        r.from = QStringLiteral("sender@example.test");
        r.recipients = {QStringLiteral("a@example.test"), QStringLiteral("ü@example.test")};
        r.result = {{QStringLiteral("EHLO"), QVariantMap{{QStringLiteral("code"), 250}, {QStringLiteral("desc"), QStringLiteral("hi")}}},
                    {QStringLiteral("capabilities"), QStringList{QStringLiteral("SIZE 1000"), QStringLiteral("8BITMIME")}},
                    {QStringLiteral("accepted"), false},
                    {QStringLiteral("wire_bytes"), qint64(1) << 40}};
        r.usage = {{QStringLiteral("bytes_sent"), 4096}, {QStringLiteral("rate"), 1.5}};
        r.transcript = {{0, D::Info, false, QStringLiteral("connecting to ::1")},
                        {100, D::Server, false, QStringLiteral("220 ready")},
                        {200, D::Client, false, QStringLiteral("EHLO me")},
                        {300, D::Client, true, QStringLiteral("AUTH PLAIN <redacted>")},
                        {400, D::Error, true, QStringLiteral("\\x1b[31m escaped")}};
        r.events = {{{QStringLiteral("type"), QStringLiteral("Connected")}, {QStringLiteral("us"), 5}},
                    {{QStringLiteral("type"), QStringLiteral("Read")}, {QStringLiteral("bytes"), 120}}};
        for (int i = 0; i < 256; ++i)
            r.certificateChain.append(char(i)); // binary, NUL included
        r.message = QByteArray("Subject: x\r\n\r\nbody\r\n\0tail", 25);
        r.messageBytes = r.message.size();

        const qint64 id = store.add(r, &error);
        QVERIFY2(id > 0, qPrintable(error));
        const std::optional<SessionRecord> back = store.session(id);
        QVERIFY(back);
        QCOMPARE(back->id, id);
        compareRecords(*back, r);
        QVERIFY(!store.session(id + 1000));

        const QList<SessionSummary> rows = store.list({});
        QCOMPARE(rows.size(), 1);
        QCOMPARE(rows[0].id, id);
        QCOMPARE(rows[0].kind, r.kind);
        QCOMPARE(rows[0].started, r.started);
        QCOMPARE(rows[0].durationUs, r.durationUs);
        QCOMPARE(rows[0].target, r.target);
        QCOMPARE(rows[0].outcome, r.outcome);
        QCOMPARE(rows[0].subject, r.subject);
        QCOMPARE(rows[0].error, r.error);
        QCOMPARE(rows[0].profile, r.profile);

        // And from another connection after closing: it is in the file.
        HistoryStore again;
        QVERIFY2(again.open(store.path(), &error), qPrintable(error));
        compareRecords(again.session(id).value(), r);
    }

    void filters_data()
    {
        QTest::addColumn<QString>("server");
        QTest::addColumn<QStringList>("outcomes");
        QTest::addColumn<int>("kind"); // -1: any
        QTest::addColumn<int>("fromDay"); // 0: open
        QTest::addColumn<int>("toDay");
        QTest::addColumn<QStringList>("expected"); // newest first

        const QStringList none;
        QTest::addRow("all") << QString() << none << -1 << 0 << 0
                             << QStringList{"e", "d", "c", "b", "a"};
        QTest::addRow("server substring") << QStringLiteral("mx.example") << none << -1 << 0 << 0
                                          << QStringList{"c", "a"};
        QTest::addRow("server case") << QStringLiteral("MX.EXAMPLE") << none << -1 << 0 << 0
                                     << QStringList{"c", "a"};
        QTest::addRow("server port") << QStringLiteral(":465") << none << -1 << 0 << 0 << QStringList{"b"};
        QTest::addRow("server like wildcard literal") << QStringLiteral("%") << none << -1 << 0 << 0 << QStringList{};
        QTest::addRow("server underscore literal") << QStringLiteral("a_b") << none << -1 << 0 << 0 << QStringList{"e"};
        QTest::addRow("one outcome") << QString() << QStringList{"failed"} << -1 << 0 << 0 << QStringList{"d", "b"};
        QTest::addRow("two outcomes") << QString() << QStringList{"failed", "pass"} << -1 << 0 << 0
                                      << QStringList{"e", "d", "b"};
        QTest::addRow("kind probe") << QString() << none << int(SessionKind::Probe) << 0 << 0 << QStringList{"e", "b"};
        QTest::addRow("kind diagnosis") << QString() << none << int(SessionKind::Diagnosis) << 0 << 0 << QStringList{"d"};
        QTest::addRow("from inclusive") << QString() << none << -1 << 3 << 0 << QStringList{"e", "d", "c"};
        QTest::addRow("to inclusive") << QString() << none << -1 << 0 << 2 << QStringList{"b", "a"};
        QTest::addRow("range") << QString() << none << -1 << 2 << 4 << QStringList{"d", "c", "b"};
        QTest::addRow("combined") << QStringLiteral("example") << QStringList{"accepted", "failed"} << int(SessionKind::Send)
                                  << 1 << 4 << QStringList{"c", "a"};
    }

    void filters()
    {
        QFETCH(QString, server);
        QFETCH(QStringList, outcomes);
        QFETCH(int, kind);
        QFETCH(int, fromDay);
        QFETCH(int, toDay);
        QFETCH(QStringList, expected);

        HistoryStore store;
        QString error;
        QVERIFY2(store.open(newPath(), &error), qPrintable(error));
        const QDateTime day0(QDate(2025, 5, 1), QTime(10, 0), QTimeZone::utc());
        const auto at = [&](int day) { return day0.addDays(day); };
        // Inserted out of time order: the list sorts by time, not by id.
        const QList<SessionRecord> records{
            simple("c", "mx.example.org:25", "accepted", SessionKind::Send, at(3)),
            simple("a", "mx.example.org:587", "accepted", SessionKind::Send, at(1)),
            simple("e", "a_b.test:25", "pass", SessionKind::Probe, at(5)),
            simple("b", "smtp.example.net:465", "failed", SessionKind::Probe, at(2)),
            simple("d", "127.0.0.1:2525", "failed", SessionKind::Diagnosis, at(4)),
        };
        for (const SessionRecord &r : records)
            QVERIFY2(store.add(r, &error) > 0, qPrintable(error));

        SessionFilter f;
        f.server = server;
        f.outcomes = outcomes;
        if (kind >= 0)
            f.kind = SessionKind(kind);
        if (fromDay > 0)
            f.from = at(fromDay);
        if (toDay > 0)
            f.to = at(toDay);
        QCOMPARE(subjects(store.list(f)), expected);
        QCOMPARE(store.count(f), expected.size());
    }

    void paging()
    {
        HistoryStore store;
        QString error;
        QVERIFY2(store.open(newPath(), &error), qPrintable(error));
        const QDateTime t0(QDate(2025, 6, 1), QTime(0, 0), QTimeZone::utc());
        for (int i = 0; i < 25; ++i) {
            QVERIFY2(store.add(simple(QString::number(i), "h:25", "accepted", SessionKind::Send, t0.addSecs(i * 60)), &error) > 0,
                     qPrintable(error));
        }
        SessionFilter f;
        f.limit = 10;
        QStringList seen;
        for (int page = 0; page < 3; ++page) {
            f.offset = page * 10;
            const QStringList got = subjects(store.list(f));
            QCOMPARE(got.size(), page < 2 ? 10 : 5);
            seen += got;
        }
        QStringList expected;
        for (int i = 24; i >= 0; --i)
            expected.append(QString::number(i));
        QCOMPARE(seen, expected);
        f.offset = 30;
        QVERIFY(store.list(f).isEmpty());
        QCOMPARE(store.count(f), 25); // count ignores paging
        f.limit = 0;                  // no limit
        f.offset = 0;
        QCOMPARE(store.list(f).size(), 25);
    }

    void textSearch_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("server");
        QTest::addColumn<QStringList>("expected");

        QTest::addRow("transcript word") << QStringLiteral("STARTTLS") << QString() << QStringList{"tls"};
        QTest::addRow("case folded") << QStringLiteral("starttls") << QString() << QStringList{"tls"};
        QTest::addRow("prefix") << QStringLiteral("STARTT") << QString() << QStringList{"tls"};
        QTest::addRow("two words anded") << QStringLiteral("mailbox unavailable") << QString() << QStringList{"invoice"};
        QTest::addRow("two words not together") << QStringLiteral("mailbox STARTTLS") << QString() << QStringList{};
        QTest::addRow("subject") << QStringLiteral("invoice") << QString() << QStringList{"invoice"};
        QTest::addRow("error") << QStringLiteral("SMTP-CONNECT-ERROR") << QString() << QStringList{"conn"};
        QTest::addRow("target") << QStringLiteral("relay.example") << QString() << QStringList{"conn"};
        QTest::addRow("address phrase") << QStringLiteral("bob@example.test") << QString() << QStringList{"invoice"};
        QTest::addRow("diacritics folded") << QStringLiteral("resume") << QString() << QStringList{"unicode"};
        QTest::addRow("unicode word") << QStringLiteral("日本語") << QString() << QStringList{"unicode"};
        QTest::addRow("with server filter") << QStringLiteral("250") << QStringLiteral("relay")
                                            << QStringList{"conn"};
        QTest::addRow("no match") << QStringLiteral("nonexistentword") << QString() << QStringList{};
        // Hostile input: FTS5 syntax is plain text, never an error or a
        // different query.
        QTest::addRow("lone quote") << QStringLiteral("\"") << QString() << QStringList{"weird"};
        QTest::addRow("quoted word") << QStringLiteral("\"quoted\"") << QString() << QStringList{"weird"};
        QTest::addRow("unbalanced quote") << QStringLiteral("\"quoted") << QString() << QStringList{"weird"};
        QTest::addRow("OR is a word") << QStringLiteral("STARTTLS OR weird") << QString() << QStringList{};
        // A prefix: "or" also starts "org" of mx.example.org.
        QTest::addRow("OR alone") << QStringLiteral("OR") << QString() << QStringList{"weird", "invoice", "tls"};
        QTest::addRow("NOT operator") << QStringLiteral("NOT mailbox") << QString() << QStringList{};
        QTest::addRow("NEAR group") << QStringLiteral("NEAR(x") << QString() << QStringList{"weird"};
        QTest::addRow("column filter") << QStringLiteral("col:val") << QString() << QStringList{"weird"};
        QTest::addRow("column filter other") << QStringLiteral("subject:invoice") << QString() << QStringList{};
        QTest::addRow("caret") << QStringLiteral("^caret") << QString() << QStringList{"weird"};
        QTest::addRow("minus") << QStringLiteral("-dash") << QString() << QStringList{"weird"};
        QTest::addRow("star alone") << QStringLiteral("*") << QString() << QStringList{"weird"};
        QTest::addRow("percent literal") << QStringLiteral("%") << QString() << QStringList{"percent"};
        QTest::addRow("underscore literal") << QStringLiteral("_") << QString() << QStringList{};
        QTest::addRow("sql injection") << QStringLiteral("'; DROP TABLE sessions; --") << QString() << QStringList{};
        QTest::addRow("parentheses") << QStringLiteral("(((") << QString() << QStringList{};
        QTest::addRow("whitespace only") << QStringLiteral(" \t ") << QString()
                                         << QStringList{"percent", "weird", "unicode", "conn", "invoice", "tls"};
    }

    void textSearch()
    {
        QFETCH(QString, text);
        QFETCH(QString, server);
        QFETCH(QStringList, expected);

        HistoryStore store;
        QString error;
        QVERIFY2(store.open(newPath(), &error), qPrintable(error));
        const QDateTime t0(QDate(2025, 6, 1), QTime(0, 0), QTimeZone::utc());
        QList<SessionRecord> records{
            simple("tls", "mx.example.org:25", "accepted", SessionKind::Send, t0.addSecs(1), "250-STARTTLS"),
            simple("invoice", "mx.example.org:25", "rejected", SessionKind::Send, t0.addSecs(2),
                   "550 5.2.1 mailbox unavailable for bob@example.test"),
            simple("conn", "relay.example.net:587", "failed", SessionKind::Send, t0.addSecs(3), "250 ok"),
            simple("unicode", "h:25", "accepted", SessionKind::Send, t0.addSecs(4), "Résumé 日本語テスト Grüße"),
            simple("weird", "h:25", "accepted", SessionKind::Send, t0.addSecs(5),
                   "S: \"quoted\" OR NOT NEAR(x) col:val ^caret -dash * star"),
            simple("percent", "h:25", "accepted", SessionKind::Send, t0.addSecs(6), "100% done"),
        };
        records[2].error = QStringLiteral("SMTP-CONNECT-ERROR: connect: refused");
        for (const SessionRecord &r : records)
            QVERIFY2(store.add(r, &error) > 0, qPrintable(error));

        SessionFilter f;
        f.text = text;
        f.server = server;
        QCOMPARE(subjects(store.list(f)), expected);
        QCOMPARE(store.count(f), expected.size());
        QCOMPARE(store.count({}), records.size()); // nothing was dropped
    }

    void textSearchWithoutFts()
    {
        // As with an SQLite built without FTS5: LIKE, then the index is rebuilt
        // by the next open that has FTS5 (the rows added meanwhile included).
        const QString path = newPath();
        QString error;
        qputenv("SMTPSCOPE_HISTORY_NO_FTS", "1");
        {
            HistoryStore store;
            QVERIFY2(store.open(path, &error), qPrintable(error));
            QVERIFY(store.add(simple("a", "h:25", "accepted", SessionKind::Send, {}, "250-STARTTLS"), &error) > 0);
            SessionFilter f;
            f.text = QStringLiteral("starttls");
            QCOMPARE(subjects(store.list(f)), QStringList{"a"});
            f.text = QStringLiteral("\" OR *");
            QCOMPARE(store.count(f), 0);
        }
        qunsetenv("SMTPSCOPE_HISTORY_NO_FTS");
        {
            HistoryStore store;
            QVERIFY2(store.open(path, &error), qPrintable(error));
            QVERIFY(store.add(simple("b", "h:25", "accepted", SessionKind::Send, {}, "250-STARTTLS"), &error) > 0);
            SessionFilter f;
            f.text = QStringLiteral("STARTT");
            QCOMPARE(store.count(f), 2);
        }
        qputenv("SMTPSCOPE_HISTORY_NO_FTS", "1");
        {
            HistoryStore store; // drops the triggers it cannot run, then writes
            QVERIFY2(store.open(path, &error), qPrintable(error));
            QVERIFY(store.add(simple("c", "h:25", "accepted", SessionKind::Send, {}, "250-STARTTLS"), &error) > 0);
            QVERIFY(store.remove(1, &error));
        }
        qunsetenv("SMTPSCOPE_HISTORY_NO_FTS");
        HistoryStore store;
        QVERIFY2(store.open(path, &error), qPrintable(error));
        SessionFilter f;
        f.text = QStringLiteral("starttls");
        QCOMPARE(subjects(store.list(f)), (QStringList{"c", "b"}));
        RawDb raw(path);
        QVERIFY(raw.exec(QStringLiteral("INSERT INTO sessions_fts(sessions_fts) VALUES('integrity-check')")));
    }

    void caps()
    {
        HistoryStore store;
        QString error;
        QVERIFY2(store.open(newPath(), &error), qPrintable(error));

        SessionRecord big;
        for (int i = 0; i < HistoryStore::maxEvents + 500; ++i)
            big.events.append({{QStringLiteral("i"), i}});
        big.message = QByteArray(HistoryStore::maxMessageBytes + 1, 'x');
        big.messageBytes = big.message.size();
        const qint64 id = store.add(big, &error);
        QVERIFY2(id > 0, qPrintable(error));
        const SessionRecord back = store.session(id).value();
        QCOMPARE(back.events.size(), HistoryStore::maxEvents);
        // The beginning and the end of the session are kept.
        QCOMPARE(back.events.first().value(QStringLiteral("i")).toInt(), 0);
        QCOMPARE(back.events.last().value(QStringLiteral("i")).toInt(), HistoryStore::maxEvents + 499);
        QVERIFY(back.message.isEmpty());
        QCOMPARE(back.messageBytes, HistoryStore::maxMessageBytes + 1);

        SessionRecord fits;
        fits.events = big.events.mid(0, HistoryStore::maxEvents);
        fits.message = QByteArray(HistoryStore::maxMessageBytes, 'y');
        const qint64 id2 = store.add(fits, &error);
        QVERIFY2(id2 > 0, qPrintable(error));
        const SessionRecord back2 = store.session(id2).value();
        QCOMPARE(back2.events.size(), HistoryStore::maxEvents);
        QCOMPARE(back2.message, fits.message);
        QCOMPARE(back2.messageBytes, HistoryStore::maxMessageBytes); // from the message when not given
    }

    void removeSession()
    {
        HistoryStore store;
        QString error;
        QVERIFY2(store.open(newPath(), &error), qPrintable(error));
        const QDateTime t0 = QDateTime::currentDateTimeUtc();
        const qint64 a = store.add(simple("a", "h:25", "accepted", SessionKind::Send, t0, "alpha"), &error);
        const qint64 b = store.add(simple("b", "h:25", "accepted", SessionKind::Send, t0.addSecs(1), "beta"), &error);
        const qint64 c = store.add(simple("c", "h:25", "accepted", SessionKind::Send, t0.addSecs(2), "gamma"), &error);
        QVERIFY(a > 0 && b > 0 && c > 0);
        QVERIFY2(store.remove(b, &error), qPrintable(error));
        QVERIFY(!store.session(b));
        QCOMPARE(subjects(store.list({})), (QStringList{"c", "a"}));
        SessionFilter f;
        f.text = QStringLiteral("beta");
        QCOMPARE(store.count(f), 0); // gone from the index too
        error.clear();
        QVERIFY(!store.remove(b, &error));
        QVERIFY(error.contains(QString::number(b)));
        // Ids are not reused after a delete of the newest.
        QVERIFY(store.remove(c, &error));
        QVERIFY(store.add(simple("d", "h:25", "accepted", SessionKind::Send, t0), &error) > c);
    }

    void prune_data()
    {
        QTest::addColumn<int>("keepDays");
        QTest::addColumn<int>("keepSessions");
        QTest::addColumn<QStringList>("kept"); // newest first

        // Sessions s0..s9 are 0, 10, 20, ... 90 days old (s0 newest).
        QTest::addRow("nothing") << 0 << 0 << QStringList{"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"};
        QTest::addRow("by days") << 35 << 0 << QStringList{"s0", "s1", "s2", "s3"};
        QTest::addRow("by count") << 0 << 3 << QStringList{"s0", "s1", "s2"};
        QTest::addRow("both, days stricter") << 15 << 5 << QStringList{"s0", "s1"};
        QTest::addRow("both, count stricter") << 85 << 2 << QStringList{"s0", "s1"};
        QTest::addRow("count above size") << 0 << 100 << QStringList{"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"};
    }

    void prune()
    {
        QFETCH(int, keepDays);
        QFETCH(int, keepSessions);
        QFETCH(QStringList, kept);

        HistoryStore store;
        QString error;
        QVERIFY2(store.open(newPath(), &error), qPrintable(error));
        const QDateTime now = QDateTime::currentDateTimeUtc().addSecs(-60);
        QList<qint64> ids;
        for (int i = 9; i >= 0; --i) {
            SessionRecord r = simple(QStringLiteral("s%1").arg(i), "h:25", "accepted", SessionKind::Send,
                                     now.addDays(-10 * i), QStringLiteral("word%1").arg(i));
            r.message = QByteArray(20000, 'm');
            ids.prepend(store.add(r, &error));
            QVERIFY2(ids.first() > 0, qPrintable(error));
        }
        // An outbox item linked to the oldest session loses the link, not itself.
        OutboxItem item;
        item.fields = {{QStringLiteral("subject"), QStringLiteral("x")}};
        QVERIFY2(store.addToOutbox(&item, &error), qPrintable(error));
        QVERIFY2(store.recordAttempt(item.id, QStringLiteral("failed"), ids.last(), &error), qPrintable(error));

        error.clear();
        const int removed = store.prune(Retention{keepDays, keepSessions}, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(removed, 10 - kept.size());
        QCOMPARE(subjects(store.list({})), kept);
        SessionFilter f;
        f.text = QStringLiteral("word9");
        QCOMPARE(store.count(f), kept.contains(QStringLiteral("s9")) ? 1 : 0);
        QCOMPARE(store.outbox().size(), 1);
        QCOMPARE(store.outbox().first().lastSessionId, kept.contains(QStringLiteral("s9")) ? ids.last() : 0);
        // Pruning again removes nothing more.
        QCOMPARE(store.prune(Retention{keepDays, keepSessions}, &error), 0);
    }

    void pruneKeepsFileBounded()
    {
        HistoryStore store;
        QString error;
        const QString path = newPath();
        QVERIFY2(store.open(path, &error), qPrintable(error));
        for (int i = 0; i < 200; ++i) {
            SessionRecord r = TestRecord::numbered(i);
            r.started = QDateTime::currentDateTimeUtc().addSecs(-i);
            QVERIFY2(store.add(r, &error) > 0, qPrintable(error));
        }
        RawDb raw(path);
        const qint64 pagesBefore = raw.scalar(QStringLiteral("PRAGMA page_count")).toLongLong();
        QCOMPARE(store.prune(Retention{0, 10}, &error), 190);
        const qint64 pagesAfter = raw.scalar(QStringLiteral("PRAGMA page_count")).toLongLong();
        QVERIFY2(pagesAfter < pagesBefore / 4, qPrintable(QStringLiteral("%1 -> %2 pages").arg(pagesBefore).arg(pagesAfter)));
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA freelist_count")).toInt(), 0);
    }

    void drafts()
    {
        HistoryStore store;
        QString error;
        QVERIFY2(store.open(newPath(), &error), qPrintable(error));
        QVERIFY(store.drafts().isEmpty());

        Draft a;
        a.profile = QStringLiteral("Work");
        a.fields = {{QStringLiteral("to"), QStringLiteral("x@example.test")}, {QStringLiteral("subject"), QStringLiteral("first")}};
        a.attachments = {QStringLiteral("/tmp/a file.pdf"), QStringLiteral("/tmp/ü.txt")};
        QVERIFY2(store.saveDraft(&a, &error), qPrintable(error));
        QVERIFY(a.id > 0);
        QVERIFY(a.saved.isValid());
        const qint64 firstId = a.id;

        QTest::qSleep(5); // distinct saved times
        Draft b;
        b.fields = {{QStringLiteral("subject"), QStringLiteral("second")}};
        QVERIFY2(store.saveDraft(&b, &error), qPrintable(error));
        QVERIFY(b.id != a.id);

        QList<Draft> all = store.drafts();
        QCOMPARE(all.size(), 2);
        QCOMPARE(all[0].id, b.id); // newest first
        QCOMPARE(all[1].id, a.id);
        QCOMPARE(all[1].profile, a.profile);
        QCOMPARE(json(all[1].fields), json(a.fields));
        QCOMPARE(all[1].attachments, a.attachments);
        QCOMPARE(all[1].saved, a.saved);

        // Updating keeps the id and makes it the newest.
        QTest::qSleep(5);
        a.fields.insert(QStringLiteral("subject"), QStringLiteral("first, edited"));
        a.attachments.removeLast();
        QVERIFY2(store.saveDraft(&a, &error), qPrintable(error));
        QCOMPARE(a.id, firstId);
        all = store.drafts();
        QCOMPARE(all.size(), 2);
        QCOMPARE(all[0].id, firstId);
        QCOMPARE(all[0].fields.value(QStringLiteral("subject")).toString(), QStringLiteral("first, edited"));
        QCOMPARE(all[0].attachments, a.attachments);

        QVERIFY2(store.removeDraft(b.id, &error), qPrintable(error));
        QVERIFY(!store.removeDraft(b.id, &error));
        // Saving a draft deleted meanwhile stores it again: never lost.
        const qint64 removedId = b.id;
        QVERIFY2(store.saveDraft(&b, &error), qPrintable(error));
        QVERIFY(b.id != removedId);
        QCOMPARE(store.drafts().size(), 2);
    }

    void outbox()
    {
        HistoryStore store;
        QString error;
        QVERIFY2(store.open(newPath(), &error), qPrintable(error));
        OutboxItem a;
        a.profile = QStringLiteral("Work");
        a.fields = {{QStringLiteral("to"), QStringList{QStringLiteral("x@example.test")}}};
        a.attachments = {QStringLiteral("/tmp/a.pdf")};
        QVERIFY2(store.addToOutbox(&a, &error), qPrintable(error));
        QVERIFY(a.id > 0);
        QVERIFY(a.created.isValid());
        QTest::qSleep(5);
        OutboxItem b;
        b.profile = QStringLiteral("Home");
        QVERIFY2(store.addToOutbox(&b, &error), qPrintable(error));

        QList<OutboxItem> items = store.outbox();
        QCOMPARE(items.size(), 2);
        QCOMPARE(items[0].id, a.id); // oldest first
        QCOMPARE(items[0].created, a.created);
        QVERIFY(!items[0].lastAttempt.isValid());
        QCOMPARE(items[0].attempts, 0);
        QCOMPARE(items[0].profile, a.profile);
        QCOMPARE(json(items[0].fields), json(a.fields));
        QCOMPARE(items[0].attachments, a.attachments);
        QCOMPARE(items[0].lastSessionId, 0);

        const qint64 session = store.add(simple("try", "h:25", "failed", SessionKind::Send, {}), &error);
        QVERIFY(session > 0);
        const QString why = QStringLiteral("SMTP-CONNECT-ERROR: connect: connection refused");
        QVERIFY2(store.recordAttempt(a.id, why, session, &error), qPrintable(error));
        QVERIFY2(store.recordAttempt(a.id, why + u'2', 0, &error), qPrintable(error));
        items = store.outbox();
        QCOMPARE(items[0].attempts, 2);
        QCOMPARE(items[0].lastError, why + u'2');
        QCOMPARE(items[0].lastSessionId, 0);
        QVERIFY(items[0].lastAttempt.isValid());
        QVERIFY(items[0].lastAttempt >= items[0].created);
        QVERIFY2(store.recordAttempt(a.id, why, session, &error), qPrintable(error));
        QCOMPARE(store.outbox()[0].lastSessionId, session);

        error.clear();
        QVERIFY(!store.recordAttempt(9999, why, 0, &error));
        QVERIFY(!error.isEmpty());
        error.clear();
        QVERIFY(!store.recordAttempt(b.id, why, session + 1000, &error)); // no such session (foreign key)
        QVERIFY(!error.isEmpty());
        QCOMPARE(store.outbox()[1].attempts, 0); // the failed update changed nothing

        QVERIFY2(store.removeFromOutbox(a.id, &error), qPrintable(error));
        QVERIFY(!store.removeFromOutbox(a.id, &error));
        items = store.outbox();
        QCOMPARE(items.size(), 1);
        QCOMPARE(items[0].id, b.id);
    }

    void migrationFromVersion1()
    {
        const QString path = newPath();
        QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
        {
            // What a version-1 build wrote.
            RawDb raw(path);
            QVERIFY(raw.isOpen());
            QString error;
            const QStringList v1{
                QStringLiteral("CREATE TABLE sessions (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, started TEXT NOT NULL, "
                               "duration_us INTEGER NOT NULL DEFAULT 0, source TEXT, profile TEXT, target TEXT, "
                               "security_mode TEXT, user TEXT, outcome TEXT, error TEXT, subject TEXT, mail_from TEXT, "
                               "recipients TEXT, result TEXT, usage TEXT, transcript TEXT, events TEXT, "
                               "certificate_chain BLOB, message BLOB, message_bytes INTEGER NOT NULL DEFAULT 0)"),
                QStringLiteral("CREATE INDEX sessions_started ON sessions(started)"),
                QStringLiteral("CREATE INDEX sessions_target ON sessions(target)"),
                QStringLiteral("CREATE INDEX sessions_outcome ON sessions(outcome)"),
                QStringLiteral("INSERT INTO sessions (kind, started, duration_us, target, outcome, subject, recipients, result, "
                               "usage, transcript, events, certificate_chain, message_bytes) VALUES ('send', "
                               "'2024-01-02T03:04:05.006Z', 42, 'old.example:25', 'accepted', 'old one', '[\"r@x.test\"]', "
                               "'{\"accepted\":true}', '{}', '[{\"time_us\":5,\"dir\":\"server\",\"tls\":false,"
                               "\"text\":\"220 oldserver ESMTP\"}]', '[]', x'00ff10', 7)"),
                QStringLiteral("INSERT INTO sessions (kind, started, target, outcome, subject, transcript) VALUES "
                               "('probe', '2024-01-03T00:00:00.000Z', 'other.example:587', 'failed', 'second', "
                               "'[{\"time_us\":1,\"dir\":\"error\",\"tls\":true,\"text\":\"handshake failed\"}]')"),
                QStringLiteral("INSERT INTO sessions (kind, started, target, outcome, subject, transcript) VALUES "
                               "('diagnosis', '2024-01-04T00:00:00.000Z', 'third.example:465', 'pass', 'third', NULL)"),
                QStringLiteral("PRAGMA user_version = 1"),
            };
            for (const QString &s : v1)
                QVERIFY2(raw.exec(s, &error), qPrintable(error));
        }
        // A listing reads it as it is: version 1, no full-text index (LIKE finds
        // the words), nothing written.
        const QByteArray v1Hash = fileHash(path);
        {
            HistoryStore reader;
            QString error;
            QVERIFY2(reader.openReadOnly(path, &error), qPrintable(error));
            QVERIFY(reader.isReadOnly());
            QCOMPARE(reader.schemaVersion(), 1);
            QCOMPARE(subjects(reader.list({})), (QStringList{"third", "second", "old one"}));
            SessionFilter f;
            f.text = QStringLiteral("oldserver");
            QCOMPARE(subjects(reader.list(f)), QStringList{"old one"});
            QVERIFY(reader.drafts().isEmpty());
            QCOMPARE(reader.add(simple("no", "n:25", "accepted", SessionKind::Send, {}), &error), 0);
            QVERIFY2(error.contains(QStringLiteral("reading only")), qPrintable(error));
        }
        QCOMPARE(fileHash(path), v1Hash);

        HistoryStore store;
        QString error;
        QVERIFY2(store.open(path, &error), qPrintable(error));
        QCOMPARE(store.schemaVersion(), HistoryStore::SchemaVersion);
        QCOMPARE(store.count({}), 3);
        QCOMPARE(subjects(store.list({})), (QStringList{"third", "second", "old one"}));
        const SessionRecord old = store.session(1).value();
        QCOMPARE(old.kind, SessionKind::Send);
        QCOMPARE(old.started, QDateTime(QDate(2024, 1, 2), QTime(3, 4, 5, 6), QTimeZone::utc()));
        QCOMPARE(old.durationUs, 42);
        QCOMPARE(old.recipients, QStringList{"r@x.test"});
        QCOMPARE(old.result.value(QStringLiteral("accepted")).toBool(), true);
        QCOMPARE(old.transcript.size(), 1);
        QCOMPARE(old.transcript[0].text, QStringLiteral("220 oldserver ESMTP"));
        QCOMPARE(old.transcript[0].direction, TranscriptEntry::Direction::Server);
        QCOMPARE(old.certificateChain, QByteArray("\x00\xff\x10", 3));
        QCOMPARE(old.messageBytes, 7);
        QVERIFY(store.session(3).value().transcript.isEmpty());

        SessionFilter f;
        f.text = QStringLiteral("oldserver");
        QCOMPARE(subjects(store.list(f)), QStringList{"old one"});
        f.text = QStringLiteral("handshake");
        QCOMPARE(subjects(store.list(f)), QStringList{"second"});
        f.text = QStringLiteral("third.example");
        QCOMPARE(subjects(store.list(f)), QStringList{"third"});

        // Version 2's tables work, and new rows are searchable alongside.
        Draft d;
        QVERIFY2(store.saveDraft(&d, &error), qPrintable(error));
        OutboxItem o;
        QVERIFY2(store.addToOutbox(&o, &error), qPrintable(error));
        QVERIFY(store.add(simple("new", "n:25", "accepted", SessionKind::Send, {}, "oldserver again"), &error) > 0);
        f.text = QStringLiteral("oldserver");
        QCOMPARE(store.count(f), 2);
        RawDb raw(path);
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA user_version")).toInt(), 3);
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA application_id")).toInt(), HistoryStore::ApplicationId);
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA integrity_check")).toString(), QStringLiteral("ok"));
    }

    // Another application's SQLite file, or one from a newer build: neither a
    // writer nor a reader changes a byte of it, or makes a file beside it.
    void foreignOrNewerFileRefusedUntouched_data()
    {
        QTest::addColumn<QStringList>("setup"); // SQL run on the file first; "garbage": not SQLite at all
        QTest::addColumn<QString>("mentions");

        const QString notes = QStringLiteral("CREATE TABLE notes (x TEXT)");
        const QString note = QStringLiteral("INSERT INTO notes VALUES ('kept')");
        QTest::addRow("another application, user_version 0") << QStringList{notes, note} << "another application";
        QTest::addRow("another application in WAL mode")
            << QStringList{QStringLiteral("PRAGMA journal_mode = WAL"), notes, note} << "another application";
        QTest::addRow("another application_id")
            << QStringList{notes, note, QStringLiteral("PRAGMA application_id = 1234"),
                           QStringLiteral("PRAGMA user_version = 2")}
            << "application_id";
        QTest::addRow("version 2 with tables not ours")
            << QStringList{QStringLiteral("CREATE TABLE sessions (id INTEGER PRIMARY KEY)"), notes, note,
                           QStringLiteral("PRAGMA user_version = 2")}
            << "notes";
        QTest::addRow("a version no SmtpScope wrote")
            << QStringList{notes, note, QStringLiteral("PRAGMA user_version = 7")} << "user_version 7";
        QTest::addRow("newer SmtpScope")
            << QStringList{QStringLiteral("CREATE TABLE future (x TEXT)"), QStringLiteral("INSERT INTO future VALUES ('kept')"),
                           QStringLiteral("PRAGMA application_id = %1").arg(HistoryStore::ApplicationId),
                           QStringLiteral("PRAGMA user_version = %1").arg(HistoryStore::SchemaVersion + 1)}
            << QStringLiteral("version %1").arg(HistoryStore::SchemaVersion + 1);
        QTest::addRow("not a database") << QStringList{QStringLiteral("garbage")} << "not an SQLite database";
    }

    void foreignOrNewerFileRefusedUntouched()
    {
        QFETCH(QStringList, setup);
        QFETCH(QString, mentions);
        const QString path = newPath();
        const QDir folder = QFileInfo(path).absoluteDir();
        QVERIFY(QDir().mkpath(folder.absolutePath()));
        if (setup == QStringList{QStringLiteral("garbage")}) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QByteArray("this is not SQLite\n").repeated(300));
        } else {
            RawDb raw(path);
            QVERIFY(raw.isOpen());
            QString error;
            for (const QString &sql : setup)
                QVERIFY2(raw.exec(sql, &error), qPrintable(error));
        }
        const QStringList files{QFileInfo(path).fileName()};
        QCOMPARE(folder.entryList(QDir::Files | QDir::Hidden), files);
        QVERIFY(QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther));
        const QByteArray before = fileHash(path);
        QVERIFY(!before.isEmpty());

        for (const bool reading : {false, true}) {
            HistoryStore store;
            QString error;
            QVERIFY(!(reading ? store.openReadOnly(path, &error) : store.open(path, &error)));
            QVERIFY(!store.isOpen());
            QVERIFY2(error.contains(path) && error.contains(mentions), qPrintable(error));
            if (mentions.startsWith(QStringLiteral("version")))
                QVERIFY2(error.contains(QStringLiteral("newer")), qPrintable(error));
            else
                QVERIFY2(error.contains(QStringLiteral("not a SmtpScope history")), qPrintable(error));
            QCOMPARE(fileHash(path), before);
            QCOMPARE(folder.entryList(QDir::Files | QDir::Hidden), files);
            // Not even its mode is changed.
            QCOMPARE(QFileInfo(path).permissions() & (QFile::ReadGroup | QFile::ReadOther),
                     QFile::ReadGroup | QFile::ReadOther);
            QCOMPARE(store.add(SessionRecord{}, &error), 0);
            QVERIFY(store.list({}).isEmpty());
        }
    }

    // A listing opens read-only: a missing file is not created, an existing one
    // is not changed (it may be read while a writer has it open, commits still
    // in the WAL included), and nothing can be written through it.
    void readOnlyNeverWrites()
    {
        const QString missing = newPath();
        {
            HistoryStore reader;
            QString error;
            QVERIFY(!reader.openReadOnly(missing, &error));
            QVERIFY2(error.contains(QStringLiteral("no history yet")) && error.contains(missing), qPrintable(error));
            QVERIFY(!QFileInfo::exists(missing));
        }

        const QString path = newPath();
        HistoryStore writer; // stays open, as the window keeps it
        QString error;
        QVERIFY2(writer.open(path, &error), qPrintable(error));
        QVERIFY(writer.add(simple("first", "a:25", "accepted", SessionKind::Send, {}, "needle"), &error) > 0);

        HistoryStore reader;
        QVERIFY2(reader.openReadOnly(path, &error), qPrintable(error));
        QVERIFY(reader.isReadOnly());
        QCOMPARE(reader.schemaVersion(), HistoryStore::SchemaVersion);
        SessionFilter f;
        f.text = QStringLiteral("needle");
        QCOMPARE(subjects(reader.list(f)), QStringList{"first"});
        QVERIFY(writer.add(simple("second", "b:25", "accepted", SessionKind::Send, {}), &error) > 0);
        QCOMPARE(reader.count({}), 2);

        const qint64 id = reader.list({}).constFirst().id;
        QCOMPARE(reader.add(simple("no", "n:25", "accepted", SessionKind::Send, {}), &error), 0);
        QVERIFY2(error.contains(QStringLiteral("reading only")), qPrintable(error));
        QVERIFY(!reader.remove(id, &error));
        QCOMPARE(reader.prune(Retention{0, 1}, &error), 0);
        Draft d;
        QVERIFY(!reader.saveDraft(&d, &error));
        QCOMPARE(writer.count({}), 2);

        // An older (version 2) file, as an earlier build left it: read as it is,
        // and marked as ours only by a writer.
        const QString old = newPath();
        {
            HistoryStore make;
            QVERIFY2(make.open(old, &error), qPrintable(error));
            QVERIFY(make.add(simple("old", "o:25", "accepted", SessionKind::Send, {}, "oldword"), &error) > 0);
        }
        {
            RawDb raw(old);
            QVERIFY(raw.exec(QStringLiteral("PRAGMA application_id = 0")));
            QVERIFY(raw.exec(QStringLiteral("PRAGMA user_version = 2")));
        }
        const QByteArray oldHash = fileHash(old);
        {
            HistoryStore oldReader;
            QVERIFY2(oldReader.openReadOnly(old, &error), qPrintable(error));
            QCOMPARE(oldReader.schemaVersion(), 2);
            f.text = QStringLiteral("oldword");
            QCOMPARE(subjects(oldReader.list(f)), QStringList{"old"});
        }
        QCOMPARE(fileHash(old), oldHash);
        {
            HistoryStore oldWriter;
            QVERIFY2(oldWriter.open(old, &error), qPrintable(error));
            QCOMPARE(oldWriter.schemaVersion(), HistoryStore::SchemaVersion);
        }
        RawDb raw(old);
        QCOMPARE(raw.scalar(QStringLiteral("PRAGMA application_id")).toInt(), HistoryStore::ApplicationId);
    }

    // A WAL history in a folder the reader cannot write, with no -shm left by a
    // writer: SQLite could not make one, so the listing reads the file as
    // immutable (no writer can be using it either) and creates nothing.
    void readOnlyInAFolderNobodyWrites()
    {
        const QString folder = m_dir.filePath(QStringLiteral("locked-%1").arg(++m_files));
        const QString path = folder + QStringLiteral("/history.sqlite");
        {
            HistoryStore writer;
            QString error;
            QVERIFY2(writer.open(path, &error), qPrintable(error));
            QVERIFY(writer.add(simple("locked", "l:25", "accepted", SessionKind::Send, {}), &error) > 0);
            QVERIFY(writer.add(simple("away", "l:25", "accepted", SessionKind::Send, {}), &error) > 0);
        }
        QCOMPARE(RawDb(path).scalar(QStringLiteral("PRAGMA journal_mode")).toString(), QStringLiteral("wal"));
        QVERIFY(!QFileInfo::exists(path + QStringLiteral("-shm")));
        QVERIFY(::chmod(QFile::encodeName(path).constData(), 0644) == 0);
        QVERIFY(::chmod(QFile::encodeName(folder).constData(), 0555) == 0);
        const auto unlock = qScopeGuard([&folder] { ::chmod(QFile::encodeName(folder).constData(), 0755); });
        const QByteArray before = fileHash(path);

        QProcess reader;
        reader.setProgram(QStringLiteral(HISTORYSTORE_WRITER));
        reader.setArguments({QStringLiteral("--read"), path});
        if (::geteuid() == 0) {
            // Root writes any folder: the listing runs as nobody (the folders on
            // the way made passable for it).
            QVERIFY(::chmod(QFile::encodeName(m_dir.path()).constData(), 0755) == 0);
            reader.setChildProcessModifier([] {
                if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
                    ::_exit(99);
            });
        }
        reader.start();
        QVERIFY(reader.waitForFinished(30000));
        QVERIFY2(reader.exitStatus() == QProcess::NormalExit && reader.exitCode() == 0,
                 reader.readAllStandardError().constData());
        QCOMPARE(reader.readAllStandardOutput().trimmed(), QByteArray("sessions 2"));
        QCOMPARE(fileHash(path), before);
        QCOMPARE(QDir(folder).entryList(QDir::Files | QDir::Hidden), QStringList{QStringLiteral("history.sqlite")});
    }

    // The history holds envelopes, subjects and transcripts: the data folder is
    // made 0700, the file and its -wal and -shm 0600 (whatever the umask allows
    // otherwise), and looser modes left by an earlier build are tightened.
    void privateFiles()
    {
        const mode_t oldMask = ::umask(022);
        const auto restoreMask = qScopeGuard([oldMask] { ::umask(oldMask); });
        const QByteArray oldXdg = qgetenv("XDG_DATA_HOME");
        const auto restoreXdg = qScopeGuard([oldXdg] { qputenv("XDG_DATA_HOME", oldXdg); });
        const QString home = m_dir.filePath(QStringLiteral("xdg-%1/data").arg(++m_files));
        qputenv("XDG_DATA_HOME", QFile::encodeName(home));
        const QString path = HistoryStore::defaultPath();
        QCOMPARE(path, home + QStringLiteral("/smtpscope/history.sqlite"));
        const QString dataFolder = QFileInfo(path).absolutePath();

        const auto mode = [](const QString &p) {
            struct stat st{};
            return ::stat(QFile::encodeName(p).constData(), &st) == 0 ? int(st.st_mode & 0777) : -1;
        };
        const auto checkPrivate = [&] {
            QCOMPARE(mode(dataFolder), 0700);
            for (const char *suffix : {"", "-wal", "-shm"})
                QCOMPARE(mode(path + QLatin1String(suffix)), 0600);
        };
        {
            HistoryStore store;
            QString error;
            QVERIFY2(store.open(path, &error), qPrintable(error));
            QVERIFY(store.add(simple("private", "p:25", "accepted", SessionKind::Send, {}), &error) > 0);
            QCOMPARE(mode(home), 0700); // every folder it made
            checkPrivate();
            if (QTest::currentTestFailed())
                return;
        }
        // As an earlier build left them.
        QVERIFY(::chmod(QFile::encodeName(dataFolder).constData(), 0755) == 0);
        QVERIFY(::chmod(QFile::encodeName(path).constData(), 0644) == 0);
        {
            // A listing changes nothing, modes included.
            HistoryStore reader;
            QString error;
            QVERIFY2(reader.openReadOnly(path, &error), qPrintable(error));
            QCOMPARE(mode(path), 0644);
        }
        HistoryStore store;
        QString error;
        QVERIFY2(store.open(path, &error), qPrintable(error));
        QVERIFY(store.add(simple("again", "p:25", "accepted", SessionKind::Send, {}), &error) > 0);
        checkPrivate();

        // A file given by name in a folder of the user's: the file is private,
        // the existing folder is left as it is.
        const QString elsewhere = m_dir.filePath(QStringLiteral("shared-%1").arg(++m_files));
        QVERIFY(QDir().mkpath(elsewhere));
        QVERIFY(::chmod(QFile::encodeName(elsewhere).constData(), 0755) == 0);
        HistoryStore named;
        QVERIFY2(named.open(elsewhere + QStringLiteral("/named.sqlite"), &error), qPrintable(error));
        QCOMPARE(mode(elsewhere + QStringLiteral("/named.sqlite")), 0600);
        QCOMPARE(mode(elsewhere), 0755);
    }

    void killDuringWrites()
    {
        const QString path = newPath();
        QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
        int next = 0;
        for (int round = 0; round < 10; ++round) {
            QProcess writer;
            writer.setProcessChannelMode(QProcess::SeparateChannels);
            writer.start(QStringLiteral(HISTORYSTORE_WRITER), {path, QString::number(next)});
            QVERIFY2(writer.waitForStarted(10000), qPrintable(writer.errorString()));
            // Let it commit at least one row, then kill it at a random moment.
            QDeadlineTimer firstRow(20000);
            while (!writer.canReadLine() && !firstRow.hasExpired() && writer.state() == QProcess::Running)
                writer.waitForReadyRead(100);
            QVERIFY2(writer.canReadLine(), writer.readAllStandardError().constData());
            QThread::msleep(QRandomGenerator::global()->bounded(5, 250));
            writer.kill(); // SIGKILL
            QVERIFY(writer.waitForFinished(10000));
            QCOMPARE(writer.exitStatus(), QProcess::CrashExit);

            QList<int> committed;
            for (const QByteArray &line : writer.readAllStandardOutput().split('\n')) {
                if (!line.isEmpty())
                    committed.append(line.toInt());
            }
            QVERIFY(!committed.isEmpty());

            {
                RawDb raw(path);
                QVERIFY(raw.isOpen());
                QCOMPARE(raw.scalar(QStringLiteral("PRAGMA integrity_check")).toString(), QStringLiteral("ok"));
                QString error;
                QVERIFY2(raw.exec(QStringLiteral("INSERT INTO sessions_fts(sessions_fts) VALUES('integrity-check')"), &error),
                         qPrintable(error));
            }
            HistoryStore store;
            QString error;
            QVERIFY2(store.open(path, &error), qPrintable(error));
            // Every row printed as committed is there, whole.
            SessionFilter all;
            all.limit = 0;
            const QList<SessionSummary> rows = store.list(all);
            QHash<int, qint64> idOf;
            for (const SessionSummary &s : rows)
                idOf.insert(s.subject.section(u' ', 2).toInt(), s.id);
            for (int n : committed) {
                QVERIFY2(idOf.contains(n), qPrintable(QStringLiteral("round %1: row %2 lost").arg(round).arg(n)));
            }
            // And every row there (committed but killed before the print, too) is whole.
            int last = next - 1;
            for (auto it = idOf.cbegin(); it != idOf.cend(); ++it) {
                if (it.key() < next)
                    continue; // checked in an earlier round
                compareRecords(store.session(it.value()).value(), TestRecord::numbered(it.key()));
                if (QTest::currentTestFailed())
                    return;
                last = std::max(last, it.key());
            }
            // The last committed row is found by its transcript (the index too
            // survived the kill).
            SessionFilter f;
            f.text = QStringLiteral("seq%1").arg(committed.last());
            f.limit = 0;
            QVERIFY(subjects(store.list(f)).contains(QStringLiteral("kill test %1").arg(committed.last())));
            next = last + 1;
        }
    }

    void twoWritersOnTwoThreads()
    {
        const QString path = newPath();
        {
            HistoryStore first;
            QString error;
            QVERIFY2(first.open(path, &error), qPrintable(error));
        }
        constexpr int perThread = 150;
        QAtomicInt failures = 0;
        QString firstError;
        QMutex errorLock;
        const auto writer = [&](int offset) {
            HistoryStore store;
            QString error;
            if (!store.open(path, &error)) {
                ++failures;
                QMutexLocker l(&errorLock);
                firstError = error;
                return;
            }
            for (int i = 0; i < perThread; ++i) {
                if (store.add(TestRecord::numbered(offset + i), &error) == 0) {
                    ++failures;
                    QMutexLocker l(&errorLock);
                    firstError = error;
                    return;
                }
            }
        };
        std::unique_ptr<QThread> a(QThread::create(writer, 0));
        std::unique_ptr<QThread> b(QThread::create(writer, 100000));
        a->start();
        b->start();
        QVERIFY(a->wait(QDeadlineTimer(120000)));
        QVERIFY(b->wait(QDeadlineTimer(120000)));
        QVERIFY2(failures.loadRelaxed() == 0, qPrintable(firstError));

        HistoryStore store;
        QString error;
        QVERIFY2(store.open(path, &error), qPrintable(error));
        QCOMPARE(store.count({}), 2 * perThread);
        SessionFilter f;
        f.text = QStringLiteral("seq100149");
        QCOMPARE(store.count(f), 1);
    }

    void recordFromSendOutcome_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<bool>("accepted");
        QTest::addColumn<bool>("oneRefused");
        QTest::addColumn<int>("category");
        QTest::addColumn<QString>("code");
        QTest::addColumn<bool>("warning");
        QTest::addColumn<QString>("outcome");

        using C = SmtpError::Category;
        const int send = int(SessionKind::Send);
        const int probe = int(SessionKind::Probe);
        QTest::addRow("send accepted") << send << true << false << int(C::None) << QString() << false << "accepted";
        QTest::addRow("send partial") << send << true << true << int(C::None) << QString() << false << "partial";
        QTest::addRow("send accepted, quit lost") << send << true << false << int(C::Transport) << "SMTP-CONNECTION-LOST" << false
                                                  << "accepted";
        QTest::addRow("send rejected") << send << false << true << int(C::Reply) << "SMTP-REPLY-ERROR" << false << "rejected";
        QTest::addRow("send connect failed") << send << false << false << int(C::Transport) << "SMTP-CONNECT-ERROR" << false
                                             << "failed";
        QTest::addRow("send auth failed") << send << false << false << int(C::Auth) << "SMTP-AUTH-ERROR" << false << "failed";
        QTest::addRow("send tls failed") << send << false << false << int(C::Tls) << "SMTP-TLS-ERROR" << false << "failed";
        QTest::addRow("send cancelled") << send << false << false << int(C::Transport) << "SMTP-CANCELLED" << false
                                        << "cancelled";
        QTest::addRow("probe pass") << probe << false << false << int(C::None) << QString() << false << "pass";
        QTest::addRow("probe warn") << probe << false << false << int(C::None) << QString() << true << "warn";
        QTest::addRow("probe failed") << probe << false << false << int(C::Tls) << "SMTP-TLS-ERROR" << false << "failed";
        QTest::addRow("probe cancelled") << probe << false << false << int(C::Transport) << "SMTP-CANCELLED" << false
                                         << "cancelled";
    }

    void recordFromSendOutcome()
    {
        QFETCH(int, kind);
        QFETCH(bool, accepted);
        QFETCH(bool, oneRefused);
        QFETCH(int, category);
        QFETCH(QString, code);
        QFETCH(bool, warning);
        QFETCH(QString, outcome);

        SendResult result;
        result.target = QStringLiteral("127.0.0.1:2525");
        result.securityMode = QStringLiteral("plain");
        result.accepted = accepted;
        result.recipients.append({QStringLiteral("a@x.test"), ServerReply{250, QStringLiteral("2.1.5"), QStringLiteral("ok")}});
        if (oneRefused)
            result.recipients.append({QStringLiteral("b@x.test"), ServerReply{550, QStringLiteral("5.1.1"), QStringLiteral("no")}});
        if (category != int(SmtpError::Category::None)) {
            result.error = SmtpError::make(SmtpError::Category(category), code, QStringLiteral("RCPT TO"),
                                           QStringLiteral("what happened"));
            result.error.replyCode = 550;
            result.error.serverText = "5.1.1 no";
        }
        if (warning)
            result.warnings.append(QStringLiteral("certificate not verified"));

        const SessionRecord r = recordFromSend(result, SessionKind(kind));
        QCOMPARE(r.kind, SessionKind(kind));
        QCOMPARE(r.outcome, outcome);
        QCOMPARE(r.error, result.error.isError() ? result.error.toString() : QString());
        QCOMPARE(r.target, result.target);
        QCOMPARE(r.securityMode, result.securityMode);
        QCOMPARE(r.recipients.size(), oneRefused ? 2 : 1);
        QCOMPARE(json(r.result), json(result.toVariantMap()));
        QVERIFY(r.certificateChain.isEmpty());
    }

    void recordFromSendFields()
    {
        QTemporaryDir caDir;
        Capture::CertificateAuthority ca;
        QString error;
        QVERIFY2(ca.ensure(caDir.path(), &error), qPrintable(error));

        SendResult result;
        result.target = QStringLiteral("localhost:465");
        result.securityMode = QStringLiteral("implicit-tls");
        result.encrypted = true;
        result.accepted = true;
        result.tls.encrypted = true;
        result.tls.chain = {ca.serverCertificate(), ca.caCertificate()};
        result.recipients.append({QStringLiteral("a@x.test"), ServerReply{250, {}, QStringLiteral("ok")}});
        result.transcript = {{0, TranscriptEntry::Direction::Server, true, QStringLiteral("220 hi")},
                             {2500000, TranscriptEntry::Direction::Client, true, QStringLiteral("QUIT")}};
        result.timings = {{QStringLiteral("connect"), 1000}, {QStringLiteral("EHLO"), 2000}};
        result.messageBytes = 1234;
        const QVariantMap usage{{QStringLiteral("bytes_sent"), 99}};
        const QByteArray eml("Subject: s\r\n\r\nbody\r\n");

        const QDateTime before = QDateTime::currentDateTimeUtc();
        const SessionRecord r = recordFromSend(result, SessionKind::Send, usage, eml);
        QCOMPARE(r.outcome, QStringLiteral("accepted"));
        QCOMPARE(r.durationUs, 2500000);
        QVERIFY(r.started <= before.addMSecs(-2400) && r.started >= before.addSecs(-10));
        QCOMPARE(r.message, eml);
        QCOMPARE(r.messageBytes, eml.size());
        QCOMPARE(json(r.usage), json(usage));
        QCOMPARE(r.transcript.size(), 2);
        const QList<QSslCertificate> chain = QSslCertificate::fromData(r.certificateChain, QSsl::Pem);
        QCOMPARE(chain, result.tls.chain); // leaf first

        // Without the message, its size still comes from the result.
        QCOMPARE(recordFromSend(result, SessionKind::Send).messageBytes, 1234);

        // Stored and reloaded, the chain still parses to the same certificates.
        HistoryStore store;
        QVERIFY2(store.open(newPath(), &error), qPrintable(error));
        const qint64 id = store.add(r, &error);
        QVERIFY2(id > 0, qPrintable(error));
        QCOMPARE(QSslCertificate::fromData(store.session(id)->certificateChain, QSsl::Pem), result.tls.chain);
        compareRecords(store.session(id).value(), r);
    }

    void recordFromReport_data()
    {
        QTest::addColumn<bool>("cancelled");
        QTest::addColumn<int>("worst"); // Diagnostics::Verdict of the second check
        QTest::addColumn<QString>("outcome");
        using V = Diagnostics::Verdict;
        QTest::addRow("pass") << false << int(V::Info) << "pass";
        QTest::addRow("warn") << false << int(V::Warn) << "warn";
        QTest::addRow("fail") << false << int(V::Fail) << "fail";
        QTest::addRow("cancelled") << true << int(V::Fail) << "cancelled";
    }

    void recordFromReport()
    {
        QFETCH(bool, cancelled);
        QFETCH(int, worst);
        QFETCH(QString, outcome);

        QTemporaryDir caDir;
        Capture::CertificateAuthority ca;
        QString error;
        QVERIFY2(ca.ensure(caDir.path(), &error), qPrintable(error));

        Diagnostics::Report report;
        report.subject = QStringLiteral("example.test");
        report.started = QDateTime(QDate(2025, 2, 2), QTime(2, 2), QTimeZone::utc());
        report.durationUs = 777;
        report.cancelled = cancelled;
        report.options = {{QStringLiteral("user"), QStringLiteral("alice")}};
        Diagnostics::Endpoint plain;
        plain.host = QStringLiteral("127.0.0.1");
        plain.port = 25;
        plain.transcript = {{0, TranscriptEntry::Direction::Server, false, QStringLiteral("220 first")}};
        Diagnostics::Endpoint tls;
        tls.host = QStringLiteral("::1");
        tls.port = 465;
        tls.tls.encrypted = true;
        tls.tls.chain = {ca.serverCertificate()};
        report.endpoints = {plain, tls};
        Diagnostics::Check ok;
        ok.id = QStringLiteral("connect");
        ok.scope = plain.target();
        ok.title = QStringLiteral("Connection");
        ok.verdict = Diagnostics::Verdict::Pass;
        Diagnostics::Check second = ok;
        second.id = QStringLiteral("certificate-expiry");
        second.scope = tls.target();
        second.title = QStringLiteral("Certificate expiry");
        second.summary = QStringLiteral("expired two days ago");
        second.verdict = Diagnostics::Verdict(worst);
        report.checks = {ok, second};

        const SessionRecord r = Store::recordFromReport(report);
        QCOMPARE(r.kind, SessionKind::Diagnosis);
        QCOMPARE(r.outcome, outcome);
        QCOMPARE(r.subject, QStringLiteral("example.test"));
        QCOMPARE(r.target, QStringLiteral("127.0.0.1:25"));
        QCOMPARE(r.started, report.started);
        QCOMPARE(r.durationUs, 777);
        QCOMPARE(r.user, QStringLiteral("alice"));
        QCOMPARE(r.transcript.size(), 1);
        QCOMPARE(r.transcript[0].text, QStringLiteral("220 first"));
        QCOMPARE(QSslCertificate::fromData(r.certificateChain, QSsl::Pem), tls.tls.chain);
        QCOMPARE(json(r.result), json(report.toVariantMap()));
        if (worst == int(Diagnostics::Verdict::Fail))
            QVERIFY2(r.error.contains(QStringLiteral("expired two days ago")) && r.error.contains(tls.target()),
                     qPrintable(r.error));
        else
            QVERIFY(r.error.isEmpty());
    }

    void kindNames()
    {
        for (SessionKind k : {SessionKind::Send, SessionKind::Probe, SessionKind::Diagnosis})
            QCOMPARE(sessionKindFromName(sessionKindName(k)), k);
        QCOMPARE(sessionKindName(SessionKind::Diagnosis), QStringLiteral("diagnosis"));
        QVERIFY(!sessionKindFromName(QStringLiteral("Send")));
        QVERIFY(!sessionKindFromName(QString()));
    }
};

QTEST_GUILESS_MAIN(TstHistoryStore)
#include "tst_historystore.moc"
