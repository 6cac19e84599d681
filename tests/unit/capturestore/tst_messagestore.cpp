// Capture::MessageStore: commit/list/bytes/remove/clear, restarts, id order and
// uniqueness, discards, damaged indexes, and SIGKILL of a writing process in the
// middle of a 100 MB message and during commits (capturestore_writer).

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
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>

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

QStringList incomingLeftovers(const QString &folder)
{
    return folderEntries(folder).filter(QRegularExpression(QStringLiteral("^\\.incoming-")));
}

// Reads index.json as written, without MessageStore (which would repair it).
// Its ids, or nullopt and *why when it does not parse as the store writes it.
std::optional<QStringList> rawIndexIds(const QString &folder, QString *why)
{
    const QByteArray json = readAll(folder + QStringLiteral("/index.json"));
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject()
        || !doc.object().value(QStringLiteral("messages")).isArray()) {
        *why = QStringLiteral("index.json does not parse (%1 bytes): %2").arg(json.size()).arg(err.errorString());
        return std::nullopt;
    }
    QStringList ids;
    for (const QJsonValue &v : doc.object().value(QStringLiteral("messages")).toArray())
        ids.append(v.toObject().value(QStringLiteral("id")).toString());
    return ids;
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
    void damagedIndexRebuilt_data();
    void damagedIndexRebuilt();
    void vanishedAndForeignFiles();
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
    QCOMPARE(QFileInfo(m.path).permissions() & (QFileDevice::ReadOther | QFileDevice::ReadGroup),
             QFileDevice::Permissions());
    // Only the message and the index remain: no temporary file.
    QCOMPARE(folderEntries(dir.path()), (QStringList{id + QStringLiteral(".eml"), QStringLiteral("index.json")}));
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
    QCOMPARE(folderEntries(dir.path()), QStringList{QStringLiteral("index.json")});
    QCOMPARE(rawIndexIds(dir.path(), &why).value_or(QStringList{why}), QStringList());

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
    QVERIFY(folderEntries(dir.path()).filter(QStringLiteral(".eml")).isEmpty());
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
    QVERIFY(!error.isEmpty());
    if (m) {
        QVERIFY(s.commit(std::move(m), &error).isEmpty()); // refused after a failed write
    }
    QVERIFY(s.messages().isEmpty());
    QVERIFY(incomingLeftovers(dir.path()).isEmpty());
    QVERIFY(folderEntries(dir.path()).filter(QStringLiteral(".eml")).isEmpty());
}

void TestMessageStore::damagedIndexRebuilt_data()
{
    QTest::addColumn<QByteArray>("index");
    QTest::addRow("garbage") << QByteArray("\x01\x02 not json at all");
    QTest::addRow("truncated") << QByteArray("{\"format\":1,\"lastId\":\"2026");
    QTest::addRow("empty file") << QByteArray();
    QTest::addRow("an array") << QByteArray("[1,2,3]");
    QTest::addRow("unknown format") << QByteArray("{\"format\":99,\"messages\":[]}");
    QTest::addRow("bad entries") << QByteArray(
        "{\"format\":1,\"messages\":[{\"id\":\"../../etc/passwd\",\"received\":\"2026-01-01T00:00:00Z\"},7]}");
    QTest::addRow("missing") << QByteArray("<delete>");
}

void TestMessageStore::damagedIndexRebuilt()
{
    QFETCH(QByteArray, index);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QByteArray plain = TestMessage::make(500, 1, "Plain subject", "Anna <anna@example.test>",
                                               "bob@example.test");
    // Bare LF line ends, a group and Cc, an encoded subject: what a dropped-in file may hold.
    const QByteArray unusual = "From: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.test>\n"
                               "To: team: x@example.test, y@example.test;\n"
                               "Cc: <z@example.test>\n"
                               "Subject: =?UTF-8?B?w5xiZXJzaWNodA==?=\n\nbody\n";
    QStringList ids;
    {
        MessageStore s;
        QString error;
        QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
        ids << store(s, plain, &error) << store(s, unusual, &error);
        QVERIFY2(!ids.contains(QString()), qPrintable(error));
    }
    const QString indexPath = dir.filePath(QStringLiteral("index.json"));
    if (index == "<delete>")
        QVERIFY(QFile::remove(indexPath));
    else
        QVERIFY(writeAll(indexPath, index));

    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    const QList<StoredMessage> list = s.messages();
    QCOMPARE(list.size(), 2);
    QCOMPARE(list.at(0).id, ids.at(0));
    QCOMPARE(list.at(1).id, ids.at(1));
    // Without the index the envelope is gone: the list shows the header's addresses.
    QCOMPARE(list.at(0).from, QStringLiteral("anna@example.test"));
    QCOMPARE(list.at(0).recipients, QStringList{QStringLiteral("bob@example.test")});
    QCOMPARE(list.at(0).subject, QStringLiteral("Plain subject"));
    QCOMPARE(list.at(0).size, plain.size());
    QCOMPARE(list.at(1).from, QStringLiteral("zoe@example.test"));
    QCOMPARE(list.at(1).recipients, (QStringList{QStringLiteral("x@example.test"), QStringLiteral("y@example.test"),
                                                 QStringLiteral("z@example.test")}));
    QCOMPARE(list.at(1).subject, QStringLiteral("Übersicht"));
    // The received time comes from the id (to the second).
    QCOMPARE(list.at(0).received.toString(QStringLiteral("yyyyMMdd'T'HHmmss")), ids.at(0).left(15));
    QCOMPARE(list.at(0).received.timeSpec(), Qt::UTC);
    QCOMPARE(s.bytes(ids.at(1)), unusual);

    // The index was written again, and new ids still come after the old ones.
    QString why;
    QCOMPARE(rawIndexIds(dir.path(), &why).value_or(QStringList{why}), ids);
    const QString next = store(s, plain, &error);
    QVERIFY2(next > ids.last(), qPrintable(next));
}

void TestMessageStore::vanishedAndForeignFiles()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QStringList ids;
    {
        MessageStore s;
        QString error;
        QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
        for (int i = 0; i < 3; ++i)
            ids << store(s, TestMessage::make(10, quint32(i)), &error);
        QVERIFY2(!ids.contains(QString()), qPrintable(error));
    }
    // Deleted behind the store's back; a stray file; leftovers of killed writers
    // (a message and a QSaveFile temporary).
    QVERIFY(QFile::remove(dir.filePath(ids.at(0) + QStringLiteral(".eml"))));
    QVERIFY(writeAll(dir.filePath(QStringLiteral("notes.eml")), "Subject: mine\r\n\r\n"));
    QVERIFY(writeAll(dir.filePath(QStringLiteral(".incoming-1234abcd")), "From: half"));
    QVERIFY(writeAll(dir.filePath(QStringLiteral("index.json.aB3dE9")), "{\"format\":1,"));

    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    QCOMPARE(s.messages().size(), 2);
    QCOMPARE(s.messages().at(0).id, ids.at(1));
    QCOMPARE(s.messages().at(1).id, ids.at(2));
    QVERIFY(incomingLeftovers(dir.path()).isEmpty());
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("index.json.aB3dE9"))));
    // Not a name the store gives: left alone, not listed.
    QVERIFY(QFile::exists(dir.filePath(QStringLiteral("notes.eml"))));
    QString why;
    QCOMPARE(rawIndexIds(dir.path(), &why).value_or(QStringList{why}), ids.mid(1));

    // An unusable folder is an error, not a crash.
    const QString file = dir.filePath(QStringLiteral("a-file"));
    QVERIFY(writeAll(file, "x"));
    MessageStore bad;
    error.clear();
    QVERIFY(!bad.open(file, &error));
    QVERIFY(!error.isEmpty());
    QVERIFY(!bad.begin({}, {}, &error));
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
    const qint64 partialSize = QFileInfo(dir.filePath(partial.first())).size();
    QVERIFY2(partialSize < 100LL * 1024 * 1024, qPrintable(QString::number(partialSize)));

    MessageStore s;
    QString error;
    QVERIFY2(s.open(dir.path(), &error), qPrintable(error));
    QVERIFY(incomingLeftovers(dir.path()).isEmpty());
    const QList<StoredMessage> list = s.messages();
    QCOMPARE(list.size(), committed.size());
    for (qsizetype i = 0; i < list.size(); ++i)
        QCOMPARE(s.bytes(list.at(i).id), committed.at(i));
    QCOMPARE(folderEntries(dir.path()).filter(QStringLiteral(".eml")).size(), committed.size());
}

void TestMessageStore::killDuringCommits()
{
    // Kills at random moments of a loop of commits: inside writes, fsyncs, the
    // link, the index rewrite. After each: index.json parses, every message it
    // lists exists and is complete, everything acknowledged is there.
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
