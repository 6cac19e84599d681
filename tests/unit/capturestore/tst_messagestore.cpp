// Capture::MessageStore: commit/list/bytes/remove/clear, restarts, id order and
// uniqueness, discards, the SQLite index (queries, read flag, quotas, the
// asynchronous commit), a clean open that reads no message file, the crash
// states open() settles, folders of older versions (index.json) imported once,
// a damaged database rebuilt, private modes, and SIGKILL of a writing process in
// the middle of a 100 MB message and during commits (capturestore_writer).

#include "capture/messagestore.h"
#include "fileio.h"
#include "testmessage.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/resource.h>
#include <sys/stat.h>

using Capture::CommitResult;
using Capture::MessageStore;
using Capture::StoredMessage;

namespace {

constexpr int kWaitMs = 30000;

const QRegularExpression kIdPattern(QStringLiteral("^\\d{8}T\\d{6}-\\d{6}$"));

// Commits `bytes` written in pieces of `chunk`; the id, or empty and *error.
QString store(MessageStore &s, const QByteArray &bytes, QString *error, qsizetype chunk = 4096,
              const QString &from = QStringLiteral("env-sender@example.test"),
              const QStringList &rcpts = {QStringLiteral("env-rcpt@example.test")})
{
    auto m = s.begin(from, rcpts, error);
    if (!m)
        return {};
    for (qsizetype at = 0; at < bytes.size(); at += chunk) {
        if (!m->write(QByteArrayView(bytes).sliced(at, qMin<qsizetype>(chunk, bytes.size() - at)), error))
            return {};
    }
    return s.commit(std::move(m), error);
}

QStringList folderEntries(const QString &folder)
{
    return QDir(folder).entryList(QDir::Files | QDir::Hidden | QDir::System, QDir::Name);
}

// Messages being received live in .incoming/ until committed.
QStringList incomingLeftovers(const QString &folder)
{
    return folderEntries(folder + QStringLiteral("/.incoming"));
}

QStringList emlFiles(const QString &folder)
{
    return folderEntries(folder).filter(QRegularExpression(QStringLiteral("\\.eml$")));
}

int mode(const QString &path)
{
    struct stat st = {};
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return -1;
    return int(st.st_mode & 07777);
}

// Runs `sql` on the folder's index.sqlite with a connection of its own (read-only
// unless `write`), without MessageStore (which would settle what a killed
// process left); the first column of each row, or nullopt and *why.
std::optional<QStringList> rawQuery(const QString &folder, const QString &sql, QString *why, bool write = false)
{
    static int counter = 0;
    const QString name = QStringLiteral("tst-raw-%1").arg(++counter);
    std::optional<QStringList> out;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(folder + QStringLiteral("/index.sqlite"));
        if (!write)
            db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY"));
        if (!db.open()) {
            *why = db.lastError().text();
        } else {
            QSqlQuery q(db);
            if (!q.exec(sql)) {
                *why = QStringLiteral("%1: %2").arg(sql, q.lastError().text());
            } else {
                QStringList rows;
                while (q.next())
                    rows.append(q.value(0).toString());
                out = rows;
            }
        }
    }
    QSqlDatabase::removeDatabase(name);
    return out;
}

// The ids the database lists (state 1), as written.
std::optional<QStringList> rawIndexIds(const QString &folder, QString *why)
{
    return rawQuery(folder, QStringLiteral("SELECT id FROM messages WHERE state = 1 ORDER BY id"), why);
}

QStringList idsOf(const QList<StoredMessage> &list)
{
    QStringList out;
    for (const StoredMessage &m : list)
        out.append(m.id);
    return out;
}

// Reads the process's stdout lines until `line` (or one starting with it) comes;
// false on timeout or exit.
bool waitForLine(QProcess &p, const QByteArray &line, QList<QByteArray> *seen, int timeoutMs = kWaitMs)
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs) {
        while (p.canReadLine()) {
            const QByteArray l = p.readLine().trimmed();
            seen->append(l);
            if (l.startsWith(line))
                return true;
        }
        if (p.state() == QProcess::NotRunning)
            return false;
        p.waitForReadyRead(int(qMax<qint64>(1, timeoutMs - t.elapsed())));
    }
    return false;
}

} // namespace

class TestMessageStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTrip_data();
    void roundTrip();
    void removeAndClear();
    void restartKeepsEverything();
    void idsUniqueAcrossRestart();
    void idsNotReusedAfterRemovingNewest();
    void discardLeavesNothing();
    void writeErrorStoresNothing();
    void queries();
    void readFlagPersists();
    void quotas();
    void asyncCommit();
    void asyncCommitContextGone();
    void cleanOpenReadsNoMessageFile();
    void openSettlesInterruptedWork();
    void legacyFolderImported_data();
    void legacyFolderImported();
    void damagedDatabaseRebuilt();
    void vanishedAndForeignFiles();
    void privateModes();
    void listReadsOnly();
    void killDuringWrite();
    void killDuringCommits();
};

void TestMessageStore::roundTrip_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("chunk");
    QTest::addColumn<QString>("subject");

    QTest::addRow("small, one write") << TestMessage::make(300, 1, "Hello") << (1 << 20) << QStringLiteral("Hello");
    QTest::addRow("small, byte by byte") << TestMessage::make(300, 2, "Bytes") << 1 << QStringLiteral("Bytes");
    QTest::addRow("1 MiB in 64 KiB writes")
        << TestMessage::make(1024 * 1024, 3, "Big") << 64 * 1024 << QStringLiteral("Big");
    // RFC 2047 encoded words are decoded for the list.
    QTest::addRow("encoded subject") << TestMessage::make(10, 4, "=?UTF-8?B?R3LDvMOfZQ==?= aus =?ISO-8859-1?Q?K=F6ln?=")
                                     << 4096 << QStringLiteral("Grüße aus Köln");
    // RFC 5322 2.2.3: a folded subject is unfolded.
    QTest::addRow("folded subject") << TestMessage::make(10, 5, "first half\r\n second half") << 7
                                    << QStringLiteral("first half second half");
    QTest::addRow("header only") << QByteArray("Subject: nothing else\r\n\r\n") << 4096
                                 << QStringLiteral("nothing else");
    QTest::addRow("empty message") << QByteArray() << 4096 << QString();
}

void TestMessageStore::roundTrip()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, chunk);
    QFETCH(QString, subject);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    QCOMPARE(s.folder(), QDir(dir.path()).absolutePath());
    QSignalSpy added(&s, &MessageStore::messageAdded);

    const QDateTime before = QDateTime::currentDateTimeUtc().addMSecs(-1);
    const QString id = store(s, bytes, &error, chunk);
    QVERIFY2(!id.isEmpty(), qPrintable(error));
    QVERIFY2(kIdPattern.match(id).hasMatch(), qPrintable(id));

    QCOMPARE(added.size(), 1);
    QCOMPARE(added.at(0).at(0).value<StoredMessage>().id, id);

    const QList<StoredMessage> list = s.messages();
    QCOMPARE(list.size(), 1);
    const StoredMessage &m = list.first();
    QCOMPARE(m.id, id);
    QCOMPARE(m.from, QStringLiteral("env-sender@example.test")); // the envelope, not the header
    QCOMPARE(m.recipients, QStringList{QStringLiteral("env-rcpt@example.test")});
    QCOMPARE(m.subject, subject);
    QCOMPARE(m.size, bytes.size());
    QCOMPARE(m.received.timeSpec(), Qt::UTC);
    QVERIFY(m.received >= before && m.received <= QDateTime::currentDateTimeUtc());
    QCOMPARE(m.path, QDir(dir.path()).absoluteFilePath(id + QStringLiteral(".eml")));
    QCOMPARE(readAll(m.path), bytes);
    QCOMPARE(s.bytes(id), bytes);
    QVERIFY(s.message(id).has_value());
    QCOMPARE(s.message(id)->subject, subject);
    QVERIFY(!s.message(QStringLiteral("20000101T000000-000001")).has_value());
    QVERIFY(s.bytes(QStringLiteral("20000101T000000-000001")).isEmpty());

    // Captured mail is private to the user.
    QCOMPARE(mode(m.path), 0600);
    // Only the message and the index remain: no temporary file.
    QCOMPARE(emlFiles(dir.path()), QStringList{id + QStringLiteral(".eml")});
    QVERIFY(incomingLeftovers(dir.path()).isEmpty());
    QVERIFY(QFileInfo(dir.filePath(QStringLiteral("index.sqlite"))).isFile());
}

void TestMessageStore::removeAndClear()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    QStringList ids;
    for (int i = 0; i < 3; ++i) {
        ids << store(s, TestMessage::make(100 + i, quint32(i)), &error);
        QVERIFY2(!ids.last().isEmpty(), qPrintable(error));
    }
    QSignalSpy removed(&s, &MessageStore::messageRemoved);
    QSignalSpy cleared(&s, &MessageStore::cleared);

    const QString middlePath = s.message(ids.at(1))->path;
    QVERIFY2(s.remove(ids.at(1), &error), qPrintable(error));
    QCOMPARE(removed.size(), 1);
    QCOMPARE(removed.at(0).at(0).toString(), ids.at(1));
    QVERIFY(!QFile::exists(middlePath));
    QCOMPARE(s.messages().size(), 2);
    QCOMPARE(s.messages().at(0).id, ids.at(0));
    QCOMPARE(s.messages().at(1).id, ids.at(2));
    QString why;
    QCOMPARE(rawIndexIds(dir.path(), &why).value_or(QStringList{why}), (QStringList{ids.at(0), ids.at(2)}));

    error.clear();
    QVERIFY(!s.remove(ids.at(1), &error));
    QVERIFY(!error.isEmpty());
    QCOMPARE(removed.size(), 1);

    QVERIFY2(s.clear(&error), qPrintable(error));
    QCOMPARE(cleared.size(), 1);
    QVERIFY(s.messages().isEmpty());
    QVERIFY(emlFiles(dir.path()).isEmpty());
    QCOMPARE(rawIndexIds(dir.path(), &why).value_or(QStringList{why}), QStringList());
    QCOMPARE(s.count(), 0);
    QCOMPARE(s.totalBytes(), 0);

    // Ids keep growing after a clear.
    const QString next = store(s, TestMessage::make(10, 9), &error);
    QVERIFY2(!next.isEmpty(), qPrintable(error));
    QVERIFY2(next > ids.last(), qPrintable(next + QLatin1String(" <= ") + ids.last()));
}

void TestMessageStore::restartKeepsEverything()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QList<StoredMessage> before;
    QList<QByteArray> contents;
    {
        MessageStore s;
        QString error;
        QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
        for (int i = 0; i < 5; ++i) {
            contents << TestMessage::make(1000 * i, quint32(100 + i), "restart " + QByteArray::number(i),
                                          "header-from@example.test");
            const QStringList rcpts{QStringLiteral("a%1@example.test").arg(i), QStringLiteral("b@example.test")};
            QVERIFY2(!store(s, contents.last(), &error, 4096, QStringLiteral("env%1@example.test").arg(i), rcpts)
                          .isEmpty(),
                     qPrintable(error));
        }
        before = s.messages();
    }
    MessageStore again;
    QString error;
    QVERIFY2(again.open(dir.path(), &error), qPrintable(error));
    const QList<StoredMessage> after = again.messages();
    QCOMPARE(after.size(), before.size());
    for (qsizetype i = 0; i < after.size(); ++i) {
        QCOMPARE(after.at(i).id, before.at(i).id);
        QCOMPARE(after.at(i).received, before.at(i).received); // to the millisecond
        // The envelope survives only through the index: the files hold the header's From.
        QCOMPARE(after.at(i).from, QStringLiteral("env%1@example.test").arg(i));
        QCOMPARE(after.at(i).recipients, before.at(i).recipients);
        QCOMPARE(after.at(i).subject, before.at(i).subject);
        QCOMPARE(after.at(i).size, before.at(i).size);
        QCOMPARE(after.at(i).path, before.at(i).path);
        QCOMPARE(again.bytes(after.at(i).id), contents.at(i));
    }
}

void TestMessageStore::idsUniqueAcrossRestart()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QStringList ids;
    const QByteArray bytes = TestMessage::make(64, 7);
    {
        MessageStore s;
        QString error;
        QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
        for (int i = 0; i < 1000; ++i) {
            ids << store(s, bytes, &error);
            QVERIFY2(!ids.last().isEmpty(), qPrintable(error));
        }
        QCOMPARE(s.messages().size(), 1000);
    }
    // A restart within the same second must not start the counter again.
    MessageStore again;
    QString error;
    QVERIFY2(again.open(dir.path(), &error), qPrintable(error));
    QCOMPARE(again.messages().size(), 1000);
    for (int i = 0; i < 20; ++i) {
        ids << store(again, bytes, &error);
        QVERIFY2(!ids.last().isEmpty(), qPrintable(error));
    }
    QCOMPARE(QSet<QString>(ids.cbegin(), ids.cend()).size(), ids.size());
    for (qsizetype i = 1; i < ids.size(); ++i)
        QVERIFY2(ids.at(i - 1) < ids.at(i), qPrintable(ids.at(i - 1) + QLatin1String(" >= ") + ids.at(i)));
    for (const QString &id : std::as_const(ids))
        QVERIFY2(kIdPattern.match(id).hasMatch(), qPrintable(id));
    QCOMPARE(again.messages().size(), 1020);
}

void TestMessageStore::idsNotReusedAfterRemovingNewest()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString newest;
    {
        MessageStore s;
        QString error;
        QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
        QVERIFY(!store(s, TestMessage::make(10, 1), &error).isEmpty());
        newest = store(s, TestMessage::make(10, 2), &error);
        QVERIFY2(!newest.isEmpty(), qPrintable(error));
        QVERIFY2(s.remove(newest, &error), qPrintable(error));
    }
    MessageStore again;
    QString error;
    QVERIFY2(again.open(dir.path(), &error), qPrintable(error));
    const QString next = store(again, TestMessage::make(10, 3), &error);
    QVERIFY2(!next.isEmpty(), qPrintable(error));
    QVERIFY2(next > newest, qPrintable(next + QLatin1String(" <= ") + newest));
}

void TestMessageStore::discardLeavesNothing()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    QSignalSpy added(&s, &MessageStore::messageAdded);

    // Discarded explicitly: nothing stays, and it can be neither written nor committed.
    auto m = s.begin(QStringLiteral("a@example.test"), {QStringLiteral("b@example.test")}, &error);
    QVERIFY2(m, qPrintable(error));
    QVERIFY(m->write(TestMessage::make(100000, 1), &error));
    QCOMPARE(m->size(), TestMessage::make(100000, 1).size());
    QCOMPARE(incomingLeftovers(dir.path()).size(), 1); // it was really being written
    m->discard();
    QVERIFY(incomingLeftovers(dir.path()).isEmpty());
    QVERIFY(!m->write("more", &error));
    QVERIFY(s.commit(std::move(m), &error).isEmpty());

    // Dropped without commit (a connection closed mid-DATA): the same.
    {
        auto dropped = s.begin(QStringLiteral("a@example.test"), {QStringLiteral("b@example.test")}, &error);
        QVERIFY2(dropped, qPrintable(error));
        QVERIFY(dropped->write("Subject: x\r\n\r\nbody", &error));
        QCOMPARE(incomingLeftovers(dir.path()).size(), 1);
    }
    QVERIFY(incomingLeftovers(dir.path()).isEmpty());

    // Several at once (several connections) each get their own file.
    auto one = s.begin({}, {}, &error);
    auto two = s.begin({}, {}, &error);
    QVERIFY(one && two);
    QCOMPARE(incomingLeftovers(dir.path()).size(), 2);
    one.reset();
    two.reset();

    QCOMPARE(added.size(), 0);
    QVERIFY(s.messages().isEmpty());
    QVERIFY(emlFiles(dir.path()).isEmpty());
    QVERIFY(incomingLeftovers(dir.path()).isEmpty());
}

void TestMessageStore::writeErrorStoresNothing()
{
    // A file size limit stands in for a full disk: writes past it fail (EFBIG).
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    auto m = s.begin({}, {}, &error);
    QVERIFY2(m, qPrintable(error));

    const auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit old{};
    QCOMPARE(getrlimit(RLIMIT_FSIZE, &old), 0);
    rlimit small = old;
    small.rlim_cur = 256 * 1024;
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &small), 0);
    bool writeFailed = false;
    const QByteArray chunk(64 * 1024, 'x');
    for (int i = 0; i < 16 && !writeFailed; ++i)
        writeFailed = !m->write(chunk, &error);
    const QString id = writeFailed ? QString() : s.commit(std::move(m), &error);
    setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, oldHandler);

    QVERIFY2(id.isEmpty(), "a 1 MiB message was stored past a 256 KiB limit");
    // The system's reason, taken at the failing call, and the file it was about.
    QVERIFY2(error.contains(QString::fromLocal8Bit(std::strerror(EFBIG))), qPrintable(error));
    QVERIFY2(error.contains(dir.path()), qPrintable(error));
    if (m) {
        QVERIFY(s.commit(std::move(m), &error).isEmpty()); // refused after a failed write
    }
    QVERIFY(s.messages().isEmpty());
    QVERIFY(incomingLeftovers(dir.path()).isEmpty());
    QVERIFY(emlFiles(dir.path()).isEmpty());
}

void TestMessageStore::queries()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    QCOMPARE(s.count(), 0);
    QVERIFY(s.page(0, 10).isEmpty());

    // Five messages: envelope recipients differ from the header's, and one
    // body in quoted-printable, one in base64 inside a multipart, one in HTML.
    const QList<QByteArray> bodies{
        "Subject: Quarterly figures\r\nTo: header-only@example.test\r\n\r\nThe turnover rose by seven percent.\r\n",
        "Subject: Lunch\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "Sch=C3=B6ne Gr=C3=BC=C3=9Fe, let us meet at noon.\r\n",
        "Subject: =?UTF-8?B?UmVwb3J0IMOcYmVyc2ljaHQ=?=\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
            + QByteArray("Hidden treasure inside base64.").toBase64()
            + "\r\n--b1\r\nContent-Type: application/octet-stream\r\n\r\nbinary junk zebra\r\n--b1--\r\n",
        "Subject: Newsletter\r\nContent-Type: text/html\r\n\r\n"
        "<html><body><p>Unsubscribe <b>here</b></p></body></html>\r\n",
        "Subject: Quarterly figures, again\r\n\r\nNumbers.\r\n",
    };
    const QList<QStringList> rcpts{
        {QStringLiteral("alice@example.test")},
        {QStringLiteral("bob@example.test"), QStringLiteral("Alice@Example.TEST")},
        {QStringLiteral("carol@example.test")},
        {QStringLiteral("alice@example.test")},
        {QStringLiteral("dave@example.test")},
    };
    QStringList stored;
    qint64 total = 0;
    for (int i = 0; i < bodies.size(); ++i) {
        stored << store(s, bodies.at(i), &error, 4096, QStringLiteral("sender@example.test"), rcpts.at(i));
        QVERIFY2(!stored.last().isEmpty(), qPrintable(error));
        total += bodies.at(i).size();
    }
    QCOMPARE(s.count(), 5);
    QCOMPARE(s.totalBytes(), total);

    // Paging, newest first.
    QCOMPARE(idsOf(s.page(0, 2)), (QStringList{stored.at(4), stored.at(3)}));
    QCOMPARE(idsOf(s.page(2, 2)), (QStringList{stored.at(2), stored.at(1)}));
    QCOMPARE(idsOf(s.page(4, 10)), QStringList{stored.at(0)});
    QVERIFY(s.page(5, 10).isEmpty());
    QCOMPARE(s.page(0, 1).first().recipients, rcpts.at(4));

    // By envelope recipient, case-insensitive; the header's To is not the envelope.
    QCOMPARE(idsOf(s.byRecipient(QStringLiteral("ALICE@example.test"), 0, 10)),
             (QStringList{stored.at(3), stored.at(1), stored.at(0)}));
    QCOMPARE(idsOf(s.byRecipient(QStringLiteral("alice@example.test"), 1, 1)), QStringList{stored.at(1)});
    QVERIFY(s.byRecipient(QStringLiteral("header-only@example.test"), 0, 10).isEmpty());
    QVERIFY(s.byRecipient(QStringLiteral("nobody@example.test"), 0, 10).isEmpty());

    // Full text: header fields (decoded), the text of each encoding, every word
    // required, prefixes, diacritics folded; not the binary part, not the tags.
    QCOMPARE(idsOf(s.search(QStringLiteral("quarterly"), 10)), (QStringList{stored.at(4), stored.at(0)}));
    QCOMPARE(idsOf(s.search(QStringLiteral("quarterly turnover"), 10)), QStringList{stored.at(0)});
    QCOMPARE(idsOf(s.search(QStringLiteral("grüße"), 10)), QStringList{stored.at(1)});
    QCOMPARE(idsOf(s.search(QStringLiteral("schone"), 10)), QStringList{stored.at(1)});
    QCOMPARE(idsOf(s.search(QStringLiteral("treasure"), 10)), QStringList{stored.at(2)});
    QCOMPARE(idsOf(s.search(QStringLiteral("übersicht"), 10)), QStringList{stored.at(2)});
    QVERIFY(s.search(QStringLiteral("zebra"), 10).isEmpty());
    QCOMPARE(idsOf(s.search(QStringLiteral("unsubscr"), 10)), QStringList{stored.at(3)});
    QVERIFY(s.search(QStringLiteral("body"), 10).isEmpty());
    QCOMPARE(idsOf(s.search(QStringLiteral("sender@example.test"), 10)).size(), 0); // the envelope is not text
    QCOMPARE(idsOf(s.search(QStringLiteral("quarterly"), 1)), QStringList{stored.at(4)});
    // What a user types is never query syntax.
    for (const QString &odd : {QStringLiteral("\"unbalanced"), QStringLiteral("AND OR NOT"), QStringLiteral("*"),
                               QStringLiteral("figures)"), QStringLiteral("col:umn"), QStringLiteral("NEAR(a b)")})
        QVERIFY(s.search(odd, 10).size() <= 5); // no crash
    QCOMPARE(idsOf(s.search(QStringLiteral("figures)"), 10)), (QStringList{stored.at(4), stored.at(0)}));

    // A removed message leaves every query and the totals.
    QVERIFY2(s.remove(stored.at(0), &error), qPrintable(error));
    QCOMPARE(s.count(), 4);
    QCOMPARE(s.totalBytes(), total - bodies.at(0).size());
    QCOMPARE(idsOf(s.search(QStringLiteral("quarterly"), 10)), QStringList{stored.at(4)});
    QCOMPARE(idsOf(s.byRecipient(QStringLiteral("alice@example.test"), 0, 10)),
             (QStringList{stored.at(3), stored.at(1)}));
    QVERIFY2(s.clear(&error), qPrintable(error));
    QCOMPARE(s.count(), 0);
    QVERIFY(s.search(QStringLiteral("lunch"), 10).isEmpty());
    QVERIFY(s.byRecipient(QStringLiteral("alice@example.test"), 0, 10).isEmpty());
    QString why;
    QCOMPARE(rawQuery(dir.path(), QStringLiteral("SELECT count(*) FROM recipients"), &why).value_or(QStringList{why}),
             QStringList{QStringLiteral("0")});
}

void TestMessageStore::readFlagPersists()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString a;
    QString b;
    {
        MessageStore s;
        QString error;
        QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
        a = store(s, TestMessage::make(10, 1), &error);
        b = store(s, TestMessage::make(10, 2), &error);
        QVERIFY2(!a.isEmpty() && !b.isEmpty(), qPrintable(error));
        QVERIFY(!s.message(a)->read);
        QVERIFY2(s.setRead(a, true, &error), qPrintable(error));
        QVERIFY(s.message(a)->read);
        QVERIFY(!s.message(b)->read);
        QVERIFY(!s.setRead(QStringLiteral("20000101T000000-000001"), true, &error));
        QVERIFY(error.contains(QStringLiteral("20000101T000000-000001")));
    }
    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    QVERIFY(s.message(a)->read);
    QVERIFY(!s.message(b)->read);
    QVERIFY2(s.setRead(a, false, &error), qPrintable(error));
    QVERIFY(!s.message(a)->read);
}

void TestMessageStore::quotas()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    MessageStore s;
    QString error;
    s.setQuota({2, 0});
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    QSignalSpy added(&s, &MessageStore::messageAdded);
    const QString first = store(s, TestMessage::make(100, 1), &error);
    QVERIFY2(!first.isEmpty(), qPrintable(error));
    QVERIFY2(!store(s, TestMessage::make(100, 2), &error).isEmpty(), qPrintable(error));

    // A third message: refused as "full", nothing kept of it.
    auto third = s.begin({}, {}, &error);
    QVERIFY(third && third->write(TestMessage::make(100, 3), &error));
    const CommitResult full = s.commitAndWait(std::move(third));
    QCOMPARE(full.status, CommitResult::Status::Full);
    QCOMPARE(s.count(), 2);
    QCOMPARE(added.size(), 2);
    QVERIFY(incomingLeftovers(dir.path()).isEmpty());
    QCOMPARE(emlFiles(dir.path()).size(), 2);

    // Room again after a removal.
    QVERIFY2(s.remove(first, &error), qPrintable(error));
    QVERIFY2(!store(s, TestMessage::make(100, 4), &error).isEmpty(), qPrintable(error));
    QVERIFY(store(s, TestMessage::make(100, 5), &error).isEmpty());

    // A byte quota: what fits, what does not fit now, what can never fit.
    QVERIFY2(s.clear(&error), qPrintable(error));
    const QByteArray kb = TestMessage::make(1000, 6);
    s.setQuota({0, 3 * kb.size()});
    QVERIFY2(!store(s, kb, &error).isEmpty(), qPrintable(error));
    QVERIFY2(!store(s, kb, &error).isEmpty(), qPrintable(error));
    auto big = s.begin({}, {}, &error);
    QVERIFY(big && big->write(kb + kb, &error));
    QCOMPARE(s.commitAndWait(std::move(big)).status, CommitResult::Status::Full);
    auto huge = s.begin({}, {}, &error);
    QVERIFY(huge && huge->write(kb + kb + kb + "x", &error));
    QCOMPARE(s.commitAndWait(std::move(huge)).status, CommitResult::Status::TooLarge);
    QVERIFY2(!store(s, kb, &error).isEmpty(), qPrintable(error)); // exactly full
    QCOMPARE(s.totalBytes(), 3 * kb.size());
    QVERIFY(incomingLeftovers(dir.path()).isEmpty());
    QCOMPARE(s.quota().maxBytes, 3 * kb.size());
}

void TestMessageStore::asyncCommit()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    QSignalSpy added(&s, &MessageStore::messageAdded);

    QObject context;
    QList<CommitResult> results;
    QStringList order;
    QObject::connect(&s, &MessageStore::messageAdded, &context,
                     [&](const StoredMessage &m) { order << QStringLiteral("added ") + m.id; });
    for (int i = 0; i < 5; ++i) {
        auto m = s.begin(QStringLiteral("a@example.test"), {QStringLiteral("b@example.test")}, &error);
        QVERIFY2(m, qPrintable(error));
        QVERIFY(m->write(TestMessage::make(1000, quint32(i)), &error));
        s.commitAsync(std::move(m), &context, [&](const CommitResult &r) {
            results << r;
            order << QStringLiteral("done ") + r.message.id;
        });
    }
    // Nothing is answered from inside commitAsync(): only through the event loop.
    QVERIFY(results.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(results.size(), 5, kWaitMs);
    QStringList expected;
    for (qsizetype i = 0; i < results.size(); ++i) {
        QCOMPARE(results.at(i).status, CommitResult::Status::Stored);
        if (i > 0)
            QVERIFY(results.at(i - 1).message.id < results.at(i).message.id); // in order
        QCOMPARE(s.bytes(results.at(i).message.id), TestMessage::make(1000, quint32(i)));
        expected << QStringLiteral("added ") + results.at(i).message.id
                 << QStringLiteral("done ") + results.at(i).message.id;
    }
    QCOMPARE(order, expected); // the views hear of it before the caller answers
    QCOMPARE(added.size(), 5);

    // A failed write: the answer is a failure, with the reason for the log.
    auto bad = s.begin({}, {}, &error);
    bad->discard();
    std::optional<CommitResult> failed;
    s.commitAsync(std::move(bad), &context, [&](const CommitResult &r) { failed = r; });
    QTRY_VERIFY_WITH_TIMEOUT(failed.has_value(), kWaitMs);
    QCOMPARE(failed->status, CommitResult::Status::Failed);
    QVERIFY(!failed->error.isEmpty());
}

void TestMessageStore::asyncCommitContextGone()
{
    // The connection that asked goes away while its commit is in flight: no
    // callback, no crash, and the message is stored all the same.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString storedId;
    {
        MessageStore s;
        QString error;
        QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
        QSignalSpy added(&s, &MessageStore::messageAdded);
        bool called = false;
        {
            auto context = std::make_unique<QObject>();
            auto m = s.begin({}, {QStringLiteral("b@example.test")}, &error);
            QVERIFY(m && m->write(TestMessage::make(200000, 7), &error));
            s.commitAsync(std::move(m), context.get(), [&](const CommitResult &) { called = true; });
        }
        QTRY_COMPARE_WITH_TIMEOUT(added.size(), 1, kWaitMs);
        QVERIFY(!called);
        storedId = added.at(0).at(0).value<StoredMessage>().id;

        // And the store itself destroyed with commits in flight: they finish
        // (durably) before the destructor returns.
        QObject context;
        for (int i = 0; i < 3; ++i) {
            auto more = s.begin({}, {QStringLiteral("b@example.test")}, &error);
            QVERIFY(more && more->write(TestMessage::make(1000, quint32(10 + i)), &error));
            s.commitAsync(std::move(more), &context, [&](const CommitResult &) { called = true; });
        }
    }
    MessageStore again;
    QString error;
    QVERIFY2(again.open(dir.path(), &error), qPrintable(error));
    QCOMPARE(again.count(), 4);
    QCOMPARE(again.messages().first().id, storedId);
    QString why;
    for (const StoredMessage &m : again.messages())
        QVERIFY2(TestMessage::verify(again.bytes(m.id), &why), qPrintable(why));
}

void TestMessageStore::cleanOpenReadsNoMessageFile()
{
    // A clean open costs the same however many messages there are: it reads
    // the index, not the folder. A file with a valid id dropped in behind the
    // store's back is therefore not listed (an index rebuilt from the files
    // would list it), and a message file made unreadable changes nothing.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QStringList stored;
    {
        MessageStore s;
        QString error;
        QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
        for (int i = 0; i < 3; ++i)
            stored << store(s, TestMessage::make(100, quint32(i)), &error);
        QVERIFY2(!stored.contains(QString()), qPrintable(error));
    }
    const QString dropped = QStringLiteral("20000101T000000-000001");
    QVERIFY(writeAll(dir.filePath(dropped + QStringLiteral(".eml")), "Subject: dropped in\r\n\r\nx\r\n"));
    QVERIFY(writeAll(dir.filePath(stored.at(1) + QStringLiteral(".eml")), "not even a header"));

    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    QCOMPARE(idsOf(s.messages()), stored);
    QVERIFY(!s.message(dropped));
    QCOMPARE(s.message(stored.at(1))->subject, QStringLiteral("test")); // from the index, not the file
}

void TestMessageStore::openSettlesInterruptedWork()
{
    // The states a kill can leave, made by hand: a commit killed after its
    // link (row in state 0, file there), one killed before it (state 0, no
    // file), a removal killed before its unlink (state 2, file there).
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QStringList stored;
    {
        MessageStore s;
        QString error;
        QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
        for (int i = 0; i < 4; ++i)
            stored << store(s, TestMessage::make(100 * (i + 1), quint32(i)), &error);
        QVERIFY2(!stored.contains(QString()), qPrintable(error));
    }
    QString why;
    const auto exec = [&](const QString &sql) {
        return rawQuery(dir.path(), sql, &why, true).has_value();
    };
    QVERIFY2(exec(QStringLiteral("UPDATE messages SET state = 0 WHERE id = '%1'").arg(stored.at(0))), qPrintable(why));
    QVERIFY2(exec(QStringLiteral("UPDATE messages SET state = 0 WHERE id = '%1'").arg(stored.at(1))), qPrintable(why));
    QVERIFY(QFile::remove(dir.filePath(stored.at(1) + QStringLiteral(".eml"))));
    QVERIFY2(exec(QStringLiteral("UPDATE messages SET state = 2 WHERE id = '%1'").arg(stored.at(2))), qPrintable(why));
    QCOMPARE(rawIndexIds(dir.path(), &why).value_or(QStringList{why}), QStringList{stored.at(3)});

    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    QCOMPARE(idsOf(s.messages()), (QStringList{stored.at(0), stored.at(3)}));
    QCOMPARE(s.count(), 2);
    QCOMPARE(s.totalBytes(), QFileInfo(dir.filePath(stored.at(0) + QStringLiteral(".eml"))).size()
                                 + QFileInfo(dir.filePath(stored.at(3) + QStringLiteral(".eml"))).size());
    QVERIFY(!QFile::exists(dir.filePath(stored.at(2) + QStringLiteral(".eml"))));
    QCOMPARE(rawQuery(dir.path(), QStringLiteral("SELECT count(*) FROM messages WHERE state <> 1"), &why)
                 .value_or(QStringList{why}),
             QStringList{QStringLiteral("0")});
    // The full-text rows went with theirs.
    QCOMPARE(rawQuery(dir.path(), QStringLiteral("SELECT count(*) FROM messages_fts"), &why).value_or(QStringList{why}),
             QStringList{QStringLiteral("2")});
}

void TestMessageStore::legacyFolderImported_data()
{
    QTest::addColumn<QByteArray>("index");
    QTest::addColumn<bool>("envelopeKept");
    QTest::addRow("valid index") << QByteArray("<valid>") << true;
    QTest::addRow("garbage") << QByteArray("\x01\x02 not json at all") << false;
    QTest::addRow("truncated") << QByteArray("{\"format\":1,\"lastId\":\"2026") << false;
    QTest::addRow("empty file") << QByteArray() << false;
    QTest::addRow("an array") << QByteArray("[1,2,3]") << false;
    QTest::addRow("unknown format") << QByteArray("{\"format\":99,\"messages\":[]}") << false;
    QTest::addRow("bad entries") << QByteArray(
        "{\"format\":1,\"messages\":[{\"id\":\"../../etc/passwd\",\"received\":\"2026-01-01T00:00:00Z\"},7]}")
                                 << false;
    QTest::addRow("missing") << QByteArray("<delete>") << false;
}

void TestMessageStore::legacyFolderImported()
{
    // A folder as an older version left it: <id>.eml files, index.json with the
    // envelopes (or damaged, or missing), leftovers of its writers.
    QFETCH(QByteArray, index);
    QFETCH(bool, envelopeKept);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QByteArray plain = TestMessage::make(500, 1, "Plain subject", "Anna <anna@example.test>",
                                               "bob@example.test");
    // Bare LF line ends, a group and Cc, an encoded subject: what a dropped-in file may hold.
    const QByteArray unusual = "From: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.test>\n"
                               "To: team: x@example.test, y@example.test;\n"
                               "Cc: <z@example.test>\n"
                               "Subject: =?UTF-8?B?w5xiZXJzaWNodA==?=\n\nbody\n";
    const QStringList oldIds{QStringLiteral("20261126T101500-000001"), QStringLiteral("20261126T101500-000002")};
    QVERIFY(writeAll(dir.filePath(oldIds.at(0) + QStringLiteral(".eml")), plain));
    QVERIFY(writeAll(dir.filePath(oldIds.at(1) + QStringLiteral(".eml")), unusual));
    QVERIFY(::chmod(QFile::encodeName(dir.filePath(oldIds.at(1) + QStringLiteral(".eml"))).constData(), 0644) == 0);
    const QString lastId = QStringLiteral("20261126T101501-000009"); // given out, then removed
    if (index == "<valid>") {
        QJsonArray list;
        for (int i = 0; i < 2; ++i) {
            list.append(QJsonObject{{QStringLiteral("id"), oldIds.at(i)},
                                    {QStringLiteral("received"), QStringLiteral("2026-11-26T10:15:00.12%1Z").arg(i)},
                                    {QStringLiteral("from"), QStringLiteral("env%1@example.test").arg(i)},
                                    {QStringLiteral("recipients"),
                                     QJsonArray{QStringLiteral("r%1@example.test").arg(i)}},
                                    {QStringLiteral("subject"), QStringLiteral("ignored")},
                                    {QStringLiteral("size"), 1}});
        }
        index = QJsonDocument(QJsonObject{{QStringLiteral("format"), 1}, {QStringLiteral("lastId"), lastId},
                                          {QStringLiteral("messages"), list}})
                    .toJson();
    }
    if (index != "<delete>")
        QVERIFY(writeAll(dir.filePath(QStringLiteral("index.json")), index));
    QVERIFY(writeAll(dir.filePath(QStringLiteral(".incoming-1234abcd")), "From: half"));
    QVERIFY(writeAll(dir.filePath(QStringLiteral("index.json.aB3dE9")), "{\"format\":1,"));
    QVERIFY(writeAll(dir.filePath(QStringLiteral("notes.eml")), "Subject: mine\r\n\r\n"));

    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    const QList<StoredMessage> list = s.messages();
    QCOMPARE(idsOf(list), oldIds);
    QCOMPARE(list.at(0).subject, QStringLiteral("Plain subject"));
    QCOMPARE(list.at(0).size, plain.size());
    QCOMPARE(list.at(1).subject, QStringLiteral("Übersicht"));
    if (envelopeKept) {
        QCOMPARE(list.at(0).from, QStringLiteral("env0@example.test"));
        QCOMPARE(list.at(0).recipients, QStringList{QStringLiteral("r0@example.test")});
        QCOMPARE(list.at(1).received,
                 QDateTime::fromString(QStringLiteral("2026-11-26T10:15:00.121Z"), Qt::ISODateWithMs));
    } else {
        // Without the index the envelope is gone: the list shows the header's addresses.
        QCOMPARE(list.at(0).from, QStringLiteral("anna@example.test"));
        QCOMPARE(list.at(0).recipients, QStringList{QStringLiteral("bob@example.test")});
        QCOMPARE(list.at(1).from, QStringLiteral("zoe@example.test"));
        QCOMPARE(list.at(1).recipients, (QStringList{QStringLiteral("x@example.test"), QStringLiteral("y@example.test"),
                                                     QStringLiteral("z@example.test")}));
        // The received time comes from the id (to the second).
        QCOMPARE(list.at(0).received.toString(QStringLiteral("yyyyMMdd'T'HHmmss")), oldIds.at(0).left(15));
    }
    QCOMPARE(list.at(0).received.timeSpec(), Qt::UTC);
    QCOMPARE(s.bytes(oldIds.at(1)), unusual);
    QCOMPARE(mode(dir.filePath(oldIds.at(1) + QStringLiteral(".eml"))), 0600);
    QCOMPARE(idsOf(s.search(QStringLiteral("übersicht"), 10)), QStringList{oldIds.at(1)});

    // Imported once: the old index and the old leftovers are gone; a file not
    // named like ours is left alone.
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("index.json"))));
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral(".incoming-1234abcd"))));
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("index.json.aB3dE9"))));
    QVERIFY(QFile::exists(dir.filePath(QStringLiteral("notes.eml"))));

    // New ids come after everything the old index gave out.
    const QString next = store(s, plain, &error);
    QVERIFY2(next > (envelopeKept ? lastId : oldIds.last()), qPrintable(next));
}

void TestMessageStore::damagedDatabaseRebuilt()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QStringList stored;
    {
        MessageStore s;
        QString error;
        QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
        for (int i = 0; i < 2; ++i)
            stored << store(s, TestMessage::make(100, quint32(i), "kept " + QByteArray::number(i)), &error);
        QVERIFY2(!stored.contains(QString()), qPrintable(error));
    }
    const QString db = dir.filePath(QStringLiteral("index.sqlite"));
    QVERIFY(writeAll(db, "this is not a database, not even close; " + QByteArray(8192, 'x')));
    QFile::remove(db + QStringLiteral("-wal"));
    QFile::remove(db + QStringLiteral("-shm"));

    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    QCOMPARE(idsOf(s.messages()), stored);
    QCOMPARE(s.messages().at(1).subject, QStringLiteral("kept 1"));
    // Set aside, not deleted.
    const QStringList aside = folderEntries(dir.path()).filter(QStringLiteral("index.sqlite.unreadable-"));
    QCOMPARE(aside.size(), 1);
    QVERIFY(readAll(dir.filePath(aside.first())).startsWith("this is not a database"));
    QVERIFY2(store(s, TestMessage::make(10, 9), &error) > stored.last(), qPrintable(error));

    // A database from a newer version is refused, and left as it is.
    s.open(QString(), nullptr); // closes it
    QString why;
    QVERIFY2(rawQuery(dir.path(), QStringLiteral("PRAGMA user_version = 99"), &why, true), qPrintable(why));
    const QByteArray before = readAll(db);
    MessageStore newer;
    QVERIFY(!newer.open(dir.path(), &error));
    QVERIFY2(error.contains(QStringLiteral("newer")), qPrintable(error));
    QCOMPARE(readAll(db), before);
}

void TestMessageStore::vanishedAndForeignFiles()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QStringList stored;
    {
        MessageStore s;
        QString error;
        QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
        for (int i = 0; i < 3; ++i)
            stored << store(s, TestMessage::make(10, quint32(i)), &error);
        QVERIFY2(!stored.contains(QString()), qPrintable(error));
    }
    // Deleted behind the store's back; a stray file; the leftover of a killed
    // writer.
    QVERIFY(QFile::remove(dir.filePath(stored.at(0) + QStringLiteral(".eml"))));
    QVERIFY(writeAll(dir.filePath(QStringLiteral("notes.eml")), "Subject: mine\r\n\r\n"));
    QVERIFY(writeAll(dir.filePath(QStringLiteral(".incoming/1234abcd")), "From: half"));

    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    QVERIFY(incomingLeftovers(dir.path()).isEmpty());
    // Not a name the store gives: left alone, not listed.
    QVERIFY(QFile::exists(dir.filePath(QStringLiteral("notes.eml"))));
    // The vanished one is still listed (a clean open does not look at the
    // files), has no bytes, and removing it works.
    QVERIFY(s.bytes(stored.at(0)).isEmpty());
    QVERIFY2(s.remove(stored.at(0), &error), qPrintable(error));
    QCOMPARE(idsOf(s.messages()), stored.mid(1));

    // An unusable folder is an error, not a crash.
    const QString file = dir.filePath(QStringLiteral("a-file"));
    QVERIFY(writeAll(file, "x"));
    MessageStore bad;
    error.clear();
    QVERIFY(!bad.open(file, &error));
    QVERIFY(!error.isEmpty());
    QVERIFY(!bad.begin({}, {}, &error));
    QCOMPARE(bad.count(), 0);
    QVERIFY(bad.page(0, 10).isEmpty());
}

void TestMessageStore::privateModes()
{
    // New: the folder 0700, the database and its journal files 0600.
    QTemporaryDir parent;
    QVERIFY(parent.isValid());
    const QString folder = parent.filePath(QStringLiteral("messages"));
    {
        MessageStore s;
        QString error;
        QVERIFY2(s.open(folder, &error), qPrintable(error));
        QVERIFY2(!store(s, TestMessage::make(10, 1), &error).isEmpty(), qPrintable(error));
        QCOMPARE(mode(folder), 0700);
        QCOMPARE(mode(folder + QStringLiteral("/.incoming")), 0700);
        for (const char *name : {"index.sqlite", "index.sqlite-wal", "index.sqlite-shm"})
            QCOMPARE(mode(folder + u'/' + QLatin1String(name)), 0600);
    }
    // Existing loose modes are tightened on open.
    QCOMPARE(::chmod(QFile::encodeName(folder).constData(), 0755), 0);
    for (const char *name : {"index.sqlite", "index.sqlite-wal", "index.sqlite-shm"}) {
        const QString path = folder + u'/' + QLatin1String(name);
        if (!QFile::exists(path))
            QVERIFY(writeAll(path, {})); // a clean close may have removed it
        QCOMPARE(::chmod(QFile::encodeName(path).constData(), 0644), 0);
    }
    MessageStore s;
    QString error;
    QVERIFY2(s.open(folder, &error), qPrintable(error));
    QCOMPARE(mode(folder), 0700);
    for (const char *name : {"index.sqlite", "index.sqlite-wal", "index.sqlite-shm"})
        QCOMPARE(mode(folder + u'/' + QLatin1String(name)), 0600);
    QCOMPARE(s.count(), 1);
}

void TestMessageStore::listReadsOnly()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString error;
    // No store there: an error, and nothing created.
    QStringList seen;
    QVERIFY(!MessageStore::list(dir.filePath(QStringLiteral("none")), [&](const StoredMessage &) { return true; },
                                &error));
    QVERIFY2(error.contains(QStringLiteral("No capture index")), qPrintable(error));
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("none"))));

    const QString folder = dir.filePath(QStringLiteral("messages"));
    QStringList stored;
    {
        MessageStore s;
        QVERIFY2(s.open(folder, &error), qPrintable(error));
        for (int i = 0; i < 3; ++i)
            stored << store(s, TestMessage::make(10, quint32(i)), &error);
        // While the store is open (a running server) too.
        QVERIFY2(MessageStore::list(folder, [&](const StoredMessage &m) { seen << m.id; return true; }, &error),
                 qPrintable(error));
        QCOMPARE(seen, stored);
    }
    // A crash state: list() shows what is stored and changes nothing.
    QString why;
    QVERIFY(rawQuery(folder, QStringLiteral("UPDATE messages SET state = 0 WHERE id = '%1'").arg(stored.at(2)), &why,
                     true));
    const QByteArray before = readAll(folder + QStringLiteral("/index.sqlite"));
    seen.clear();
    QVERIFY2(MessageStore::list(folder, [&](const StoredMessage &m) { seen << m.id; return m.id != stored.at(0); },
                                &error),
             qPrintable(error));
    QCOMPARE(seen, QStringList{stored.at(0)}); // stopped when asked
    seen.clear();
    QVERIFY(MessageStore::list(folder, [&](const StoredMessage &m) { seen << m.path; return true; }, &error));
    QCOMPARE(seen, (QStringList{folder + u'/' + stored.at(0) + QStringLiteral(".eml"),
                                folder + u'/' + stored.at(1) + QStringLiteral(".eml")}));
    QCOMPARE(readAll(folder + QStringLiteral("/index.sqlite")), before);
    QCOMPARE(rawQuery(folder, QStringLiteral("SELECT state FROM messages WHERE id = '%1'").arg(stored.at(2)), &why)
                 .value_or(QStringList{why}),
             QStringList{QStringLiteral("0")});
}

void TestMessageStore::killDuringWrite()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QList<QByteArray> committed;
    {
        MessageStore s;
        QString error;
        QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
        for (int i = 0; i < 3; ++i) {
            committed << TestMessage::make(20000, quint32(40 + i));
            QVERIFY2(!store(s, committed.last(), &error).isEmpty(), qPrintable(error));
        }
    }

    QProcess writer;
    writer.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    writer.start(QStringLiteral(CAPTURESTORE_WRITER), {QStringLiteral("big"), dir.path()});
    QVERIFY2(writer.waitForStarted(kWaitMs), qPrintable(writer.errorString()));
    QList<QByteArray> lines;
    QVERIFY2(waitForLine(writer, "writing", &lines), lines.join(' ').constData());
    writer.kill(); // SIGKILL
    QVERIFY(writer.waitForFinished(kWaitMs));
    QCOMPARE(writer.exitStatus(), QProcess::CrashExit);

    // The kill came mid-message: a partial temporary file is there.
    const QStringList partial = incomingLeftovers(dir.path());
    QCOMPARE(partial.size(), 1);
    const qint64 partialSize = QFileInfo(dir.filePath(QStringLiteral(".incoming/") + partial.first())).size();
    QVERIFY2(partialSize < 100LL * 1024 * 1024, qPrintable(QString::number(partialSize)));

    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    QVERIFY(incomingLeftovers(dir.path()).isEmpty());
    const QList<StoredMessage> list = s.messages();
    QCOMPARE(list.size(), committed.size());
    for (qsizetype i = 0; i < list.size(); ++i)
        QCOMPARE(s.bytes(list.at(i).id), committed.at(i));
    QCOMPARE(emlFiles(dir.path()).size(), committed.size());
}

void TestMessageStore::killDuringCommits()
{
    // Kills at random moments of a loop of commits: inside writes, fsyncs, the
    // pending row, the link, the settling update. After each: the database as
    // the kill left it reads, every message it lists exists and is complete,
    // everything acknowledged is listed.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    {
        MessageStore s;
        QString error;
        QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
        QVERIFY2(!store(s, TestMessage::make(1000, 99), &error).isEmpty(), qPrintable(error));
    }

    constexpr int kRounds = 20;
    QSet<QString> acknowledged;
    int killedMidRun = 0;
    QRandomGenerator rng(20261126);
    for (int round = 0; round < kRounds; ++round) {
        QProcess writer;
        writer.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        writer.start(QStringLiteral(CAPTURESTORE_WRITER),
                     {QStringLiteral("loop"), dir.path(), QStringLiteral("20"), QString::number(rng.generate())});
        QVERIFY2(writer.waitForStarted(kWaitMs), qPrintable(writer.errorString()));
        QList<QByteArray> lines;
        QVERIFY2(waitForLine(writer, "ready", &lines), lines.join(' ').constData());
        // Small random delays: most rounds die mid-loop, at varying points.
        QTest::qSleep(int(rng.bounded(1, 150)));
        writer.kill();
        QVERIFY(writer.waitForFinished(kWaitMs));
        if (writer.exitStatus() == QProcess::CrashExit)
            ++killedMidRun;
        lines += writer.readAllStandardOutput().split('\n');
        for (const QByteArray &l : std::as_const(lines)) {
            if (l.startsWith("committed "))
                acknowledged.insert(QString::fromLatin1(l.mid(10).trimmed()));
        }

        // As the killed process left it, before any repair.
        QString why;
        const std::optional<QStringList> indexed = rawIndexIds(dir.path(), &why);
        QVERIFY2(indexed, qPrintable(QStringLiteral("round %1: %2").arg(round).arg(why)));
        for (const QString &id : *indexed) {
            const QByteArray bytes = readAll(dir.filePath(id + QStringLiteral(".eml")));
            QVERIFY2(TestMessage::verify(bytes, &why),
                     qPrintable(QStringLiteral("round %1, %2: %3").arg(round).arg(id, why)));
        }
        // A commit acknowledged to the caller was indexed before the kill.
        for (const QString &id : std::as_const(acknowledged))
            QVERIFY2(indexed->contains(id), qPrintable(QStringLiteral("round %1: %2 lost").arg(round).arg(id)));

        // Opened again: no leftovers, every listed message complete.
        MessageStore s;
        QString error;
        QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
        QVERIFY(incomingLeftovers(dir.path()).isEmpty());
        const QList<StoredMessage> list = s.messages();
        QVERIFY(list.size() >= indexed->size());
        for (const StoredMessage &m : list) {
            QVERIFY2(TestMessage::verify(s.bytes(m.id), &why),
                     qPrintable(QStringLiteral("round %1, %2: %3").arg(round).arg(m.id, why)));
            QCOMPARE(m.size, QFileInfo(m.path).size());
        }
        for (qsizetype i = 1; i < list.size(); ++i)
            QVERIFY(list.at(i - 1).id < list.at(i).id);
    }
    qInfo("%d of %d rounds killed mid-run; %lld commits acknowledged", killedMidRun, kRounds,
          qint64(acknowledged.size()));
    QVERIFY2(killedMidRun >= kRounds / 2, "the kills came too late to test anything");
    QVERIFY2(!acknowledged.isEmpty(), "the kills came too early to test anything");
}

QTEST_GUILESS_MAIN(TestMessageStore)
#include "tst_messagestore.moc"
