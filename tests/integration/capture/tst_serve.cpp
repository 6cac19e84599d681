// `smtpscope serve` as a process: its start line, one line per captured message,
// a clean exit 0 on SIGTERM and SIGINT, exit 2 on a bad --fault, and durability:
// kill -9 in the middle of a 100 MB message leaves no partial .eml, and the next
// serve on the same folder loads the index with the earlier messages intact.

#include "client/smtpclient.h"
#include "serveprocess.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <atomic>
#include <csignal>
#include <memory>
#include <thread>

namespace {

constexpr int TimeoutMs = 15000;


QByteArray message(const QByteArray &marker, qint64 bodyBytes = 200)
{
    QByteArray m = "From: <s@example.test>\r\nTo: <r@example.test>\r\nSubject: serve " + marker
        + "\r\nMessage-ID: <" + marker + "@example.test>\r\n\r\n";
    const QByteArray line = QByteArray(74, 'x') + "\r\n";
    m.reserve(m.size() + bodyBytes + line.size());
    while (m.size() < bodyBytes)
        m += line;
    m += "end " + marker + "\r\n";
    return m;
}

SmtpError send(quint16 port, const QString &caFile, const QByteArray &bytes, int timeoutMs = TimeoutMs)
{
    SmtpClient client(QStringLiteral("127.0.0.1"), port);
    client.setConnectTimeout(timeoutMs);
    client.setReadTimeout(timeoutMs);
    client.setDataTimeout(timeoutMs);
    client.setCaFile(caFile);
    client.tls(true);
    RawMessage m(QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")}, bytes);
    try {
        client.sendMessage(m);
    } catch (const SmtpException &e) {
        return e.error();
    }
    return {};
}

QStringList files(const QString &dir, const QString &pattern)
{
    return QDir(dir).entryList({pattern}, QDir::Files | QDir::Hidden, QDir::Name);
}

} // namespace

class tst_Serve : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void helpOptionsAreDocumented();
    void badFault();
    void portInUse();
    void messageLinesAndSignals_data();
    void messageLinesAndSignals();
    void killDuringLargeReceive();
};

void tst_Serve::helpOptionsAreDocumented()
{
    QProcess p;
    p.start(QStringLiteral(SMTPSCOPE_BINARY), {QStringLiteral("help"), QStringLiteral("serve")});
    QVERIFY(p.waitForFinished(TimeoutMs));
    QCOMPARE(p.exitCode(), 0);
    const QString help = QString::fromUtf8(p.readAllStandardOutput());
    QFile docs(QStringLiteral(SMTPSCOPE_SOURCE_DIR "/docs/cli.md"));
    QVERIFY(docs.open(QIODevice::ReadOnly));
    const QString doc = QString::fromUtf8(docs.readAll());
    QVERIFY(doc.contains(QStringLiteral("## smtpscope serve")));
    int options = 0;
    for (const QString &line : help.split(u'\n')) {
        const QString t = line.trimmed();
        if (!t.startsWith(QStringLiteral("--")) || t.startsWith(QStringLiteral("--help")))
            continue;
        ++options;
        const QString option = t.section(u' ', 0, 0);
        QVERIFY2(doc.contains(u'`' + option), qPrintable(option + QStringLiteral(" is not in docs/cli.md")));
    }
    QCOMPARE(options, 16);
}

void tst_Serve::portInUse()
{
    // Another server holds the port: serve says so and exits 4 (connection).
    QTcpServer holder;
    QVERIFY(holder.listen(QHostAddress::LocalHost, 0));
    QTemporaryDir dir;
    QProcess p;
    p.start(QStringLiteral(SMTPSCOPE_BINARY),
            {QStringLiteral("serve"), QStringLiteral("--port"), QString::number(holder.serverPort()),
             QStringLiteral("--tls-port"), QStringLiteral("0"), QStringLiteral("--dir"), dir.path()});
    QVERIFY(p.waitForFinished(TimeoutMs));
    QCOMPARE(p.exitCode(), 4);
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(err.contains("cannot listen on 127.0.0.1:" + QByteArray::number(holder.serverPort())), err.constData());
}

void tst_Serve::badFault()
{
    QTemporaryDir dir;
    QProcess p;
    p.start(QStringLiteral(SMTPSCOPE_BINARY),
            {QStringLiteral("serve"), QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--dir"),
             dir.path(), QStringLiteral("--fault"), QStringLiteral("nosuchstep:550 x")});
    QVERIFY(p.waitForFinished(TimeoutMs));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 2);
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(err.contains("--fault 'nosuchstep:550 x'"), err.constData());
    QVERIFY(p.readAllStandardOutput().isEmpty());
}

void tst_Serve::messageLinesAndSignals_data()
{
    QTest::addColumn<int>("signal");
    QTest::addRow("SIGTERM") << int(SIGTERM);
    QTest::addRow("SIGINT") << int(SIGINT);
}

void tst_Serve::messageLinesAndSignals()
{
    QFETCH(int, signal);
    QTemporaryDir dir;
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), dir.path(), {}, &error), qPrintable(error));
    QVERIFY(QFile::exists(serve.caFile));
    QVERIFY(serve.caFile.startsWith(dir.path()));
    const QByteArray marker = "sig" + QByteArray::number(signal) + "-" + QByteArray::number(QDateTime::currentMSecsSinceEpoch());
    const SmtpError e = send(serve.port, serve.caFile, message(marker));
    QVERIFY2(!e.isError(), qPrintable(e.toString()));
    const QList<QByteArray> lines = serve.waitForLines(1);
    QCOMPARE(lines.size(), 1);
    QVERIFY2(lines.constFirst().contains("\"serve " + marker + "\""), lines.constFirst().constData());
    QVERIFY2(lines.constFirst().contains("<s@example.test>"), lines.constFirst().constData());
    QVERIFY2(lines.constFirst().contains("r@example.test"), lines.constFirst().constData());
    const QStringList eml = files(dir.path() + QStringLiteral("/messages"), QStringLiteral("*.eml"));
    QCOMPARE(eml.size(), 1);
    QVERIFY2(lines.constFirst().contains(eml.constFirst().chopped(4).toUtf8()), lines.constFirst().constData());

    QCOMPARE(::kill(pid_t(serve.process()->processId()), signal), 0);
    QVERIFY(serve.process()->waitForFinished(TimeoutMs));
    QCOMPARE(serve.process()->exitStatus(), QProcess::NormalExit);
    QCOMPARE(serve.process()->exitCode(), 0);
}

void tst_Serve::killDuringLargeReceive()
{
    QTemporaryDir dir;
    const QString messages = dir.path() + QStringLiteral("/messages");
    QList<QByteArray> earlier;
    {
        ServeProcess serve;
        QString error;
        // The default SIZE limit (50 MiB) would refuse the big message at MAIL.
        QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), dir.path(), {QStringLiteral("--max-size"), QStringLiteral("0")}, &error),
                 qPrintable(error));
        for (int i = 0; i < 2; ++i) {
            earlier << message("early-" + QByteArray::number(i), 5000);
            const SmtpError e = send(serve.port, serve.caFile, earlier.last());
            QVERIFY2(!e.isError(), qPrintable(e.toString()));
        }
        QCOMPARE(serve.waitForLines(2).size(), 2);

        // 100 MB from another thread (SmtpClient blocks its caller); the server
        // is killed once about 30 MB sit in its temporary file.
        const QByteArray big = message("big", 100LL * 1000 * 1000);
        std::atomic<bool> done = false;
        SmtpError bigError;
        std::thread sender([&] {
            bigError = send(serve.port, serve.caFile, big, 60000);
            done = true;
        });
        QString incoming;
        QDeadlineTimer deadline(120000);
        while (!deadline.hasExpired() && !done) {
            for (const QFileInfo &f : QDir(messages + QStringLiteral("/.incoming")).entryInfoList(QDir::Files)) {
                if (f.size() >= 30LL * 1000 * 1000)
                    incoming = f.fileName();
            }
            if (!incoming.isEmpty())
                break;
            QThread::msleep(20);
        }
        if (!incoming.isEmpty()) {
            serve.process()->kill(); // SIGKILL: no chance to clean up
            serve.process()->waitForFinished(TimeoutMs);
        }
        sender.join();
        QVERIFY2(!incoming.isEmpty(), "no .incoming file reached 30 MB before the send ended");
        QVERIFY2(bigError.isError(), "the 100 MB send succeeded although the server was killed");
        QCOMPARE(serve.process()->exitStatus(), QProcess::CrashExit);
    }

    // What the kill left: the two earlier messages and no partial .eml.
    const QStringList eml = files(messages, QStringLiteral("*.eml"));
    QCOMPARE(eml.size(), 2);
    for (const QString &name : eml) {
        QFile f(messages + u'/' + name);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(earlier.contains(f.readAll()));
    }

    // The index as the kill left it lists the two (serve --list reads it
    // without changing anything).
    QProcess list;
    list.start(QStringLiteral(SMTPSCOPE_BINARY),
               {QStringLiteral("serve"), QStringLiteral("--dir"), dir.path(), QStringLiteral("--list"),
                QStringLiteral("--json")});
    QVERIFY(list.waitForFinished(TimeoutMs));
    QCOMPARE(list.exitCode(), 0);
    QJsonParseError parseError;
    const QJsonDocument index = QJsonDocument::fromJson(list.readAllStandardOutput(), &parseError);
    QVERIFY2(!index.isNull(), qPrintable(parseError.errorString()));
    const QJsonArray listed = index.object().value(QStringLiteral("messages")).toArray();
    QCOMPARE(listed.size(), 2);
    for (qsizetype i = 0; i < eml.size(); ++i)
        QCOMPARE(listed.at(i).toObject().value(QStringLiteral("id")).toString(), eml.at(i).chopped(4));

    // A new serve on the folder: the leftover is removed, and it captures again.
    ServeProcess again;
    QString error;
    QVERIFY2(again.start(QStringLiteral(SMTPSCOPE_BINARY), dir.path(), {}, &error), qPrintable(error));
    QVERIFY(files(messages + QStringLiteral("/.incoming"), QStringLiteral("*")).isEmpty());
    const QByteArray after = message("after-restart");
    const SmtpError e = send(again.port, again.caFile, after);
    QVERIFY2(!e.isError(), qPrintable(e.toString()));
    QCOMPARE(again.waitForLines(1).size(), 1);
    QCOMPARE(files(messages, QStringLiteral("*.eml")).size(), 3);
}

QTEST_GUILESS_MAIN(tst_Serve)
#include "tst_serve.moc"
