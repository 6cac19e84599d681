// The capture server end to end: our SmtpClient (and swaks) deliver to a
// CaptureServer listening on 127.0.0.1 (free ports) through every security mode
// and AUTH mechanism, with DATA and BDAT, pipelined; the stored .eml must be the
// client's bytes exactly. Then every scripted fault must produce the error the
// client reports for that step. The server runs on its own thread because
// SmtpClient's calls block the calling thread.

#include "capture/captureserver.h"
#include "client/smtpclient.h"
#include "mime/message.h"

#include <QFile>
#include <QMutex>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTest>
#include <QThread>

#include <functional>
#include <memory>

using namespace Capture;

namespace {

const QString User = QStringLiteral("alice");
const QString Password = QStringLiteral("s3cret pass");
constexpr int TimeoutMs = 15000;

// A CaptureServer on a thread of its own; every call into it is made on that
// thread (BlockingQueuedConnection), as QObject thread affinity requires.
class ServerThread
{
public:
    ServerThread() = default;
    ~ServerThread()
    {
        if (m_server)
            call([this] { delete m_server; });
        m_thread.quit();
        m_thread.wait(TimeoutMs);
    }
    Q_DISABLE_COPY_MOVE(ServerThread)

    bool start(CaptureOptions options, QString *error)
    {
        m_thread.start();
        m_server = new CaptureServer;
        m_server->moveToThread(&m_thread);
        // Runs on the server's thread (the context object lives there).
        QObject::connect(m_server, &CaptureServer::log, m_server, [this](const QString &line) {
            const QMutexLocker lock(&m_logMutex);
            m_log.append(line);
        });
        bool ok = false;
        call([&] { ok = m_server->start(options, error); });
        return ok;
    }
    void call(const std::function<void()> &f)
    {
        QMetaObject::invokeMethod(m_server, f, Qt::BlockingQueuedConnection);
    }
    [[nodiscard]] quint16 port()
    {
        quint16 p = 0;
        call([&] { p = m_server->port(); });
        return p;
    }
    [[nodiscard]] quint16 tlsPort()
    {
        quint16 p = 0;
        call([&] { p = m_server->tlsPort(); });
        return p;
    }
    [[nodiscard]] QString caFile()
    {
        QString f;
        call([&] { f = m_server->caFile(); });
        return f;
    }
    [[nodiscard]] QList<StoredMessage> messages()
    {
        QList<StoredMessage> list;
        call([&] { list = m_server->store()->messages(); });
        return list;
    }
    [[nodiscard]] QByteArray bytes(const QString &id)
    {
        QByteArray b;
        call([&] { b = m_server->store()->bytes(id); });
        return b;
    }
    // The stored messages whose bytes contain `marker`.
    [[nodiscard]] QList<QByteArray> stored(const QByteArray &marker)
    {
        QList<QByteArray> out;
        for (const StoredMessage &m : messages()) {
            const QByteArray b = bytes(m.id);
            if (b.contains(marker))
                out.append(b);
        }
        return out;
    }
    // Waits (up to timeoutMs) until a message containing `marker` is stored.
    [[nodiscard]] QList<QByteArray> waitFor(const QByteArray &marker, int count, int timeoutMs = TimeoutMs)
    {
        QList<QByteArray> found;
        QDeadlineTimer deadline(timeoutMs);
        while (!deadline.hasExpired()) {
            found = stored(marker);
            if (found.size() >= count)
                break;
            QThread::msleep(50);
        }
        return found;
    }

    [[nodiscard]] QStringList logLines()
    {
        const QMutexLocker lock(&m_logMutex);
        return m_log;
    }
    // Waits (up to TimeoutMs) for a log line containing `text`.
    [[nodiscard]] bool waitForLog(const QString &text)
    {
        QDeadlineTimer deadline(TimeoutMs);
        while (!deadline.hasExpired()) {
            for (const QString &line : logLines()) {
                if (line.contains(text))
                    return true;
            }
            QThread::msleep(20);
        }
        return false;
    }

private:
    QThread m_thread;
    CaptureServer *m_server = nullptr;
    QMutex m_logMutex;
    QStringList m_log;
};

// Reads from `socket` until `bytes` holds a complete reply (a line "ddd " ...)
// or the deadline passes; returns the reply's lines.
QList<QByteArray> readReply(QAbstractSocket &socket, QByteArray *buffer)
{
    QDeadlineTimer deadline(TimeoutMs);
    while (!deadline.hasExpired()) {
        qsizetype start = 0;
        while (true) {
            const qsizetype nl = buffer->indexOf("\r\n", start);
            if (nl < 0)
                break;
            const QByteArray line = buffer->mid(start, nl - start);
            start = nl + 2;
            if (line.size() >= 4 && line.at(3) == ' ') {
                QList<QByteArray> lines = buffer->left(start - 2).split('\n');
                for (QByteArray &l : lines)
                    l = l.trimmed();
                buffer->remove(0, start);
                return lines;
            }
        }
        if (!socket.waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime()))))
            break;
        *buffer += socket.readAll();
    }
    return {};
}

QByteArray uniqueMarker()
{
    static int n = 0;
    return "capture-" + QByteArray::number(QCoreApplication::applicationPid()) + "-" + QByteArray::number(++n) + "-"
        + QByteArray::number(QDateTime::currentMSecsSinceEpoch());
}

// A well-formed RFC 5322 message (CRLF lines, ending with CRLF) carrying `marker`,
// with a line that starts with a dot to exercise dot-stuffing (RFC 5321 4.5.2).
QByteArray rawMessage(const QByteArray &marker, const QString &from, const QStringList &to, int bodyLines = 20)
{
    QByteArray m = "From: <" + from.toUtf8() + ">\r\nTo: " + to.join(QStringLiteral(", ")).toUtf8()
        + "\r\nSubject: capture " + marker + "\r\nX-Test-Id: " + marker
        + "\r\nMessage-ID: <" + marker + "@example.test>\r\nMIME-Version: 1.0\r\n"
          "Content-Type: text/plain; charset=utf-8\r\n\r\n";
    for (int i = 0; i < bodyLines; ++i)
        m += "line " + QByteArray::number(i) + " of the body of " + marker + "\r\n";
    m += ".a line starting with a dot\r\n..two dots\r\n.\r\nend\r\n";
    return m;
}

enum class Mode { Plain, StartTlsOpportunistic, StartTlsRequired, ImplicitTls };

std::unique_ptr<SmtpClient> makeClient(ServerThread &server, Mode mode)
{
    const quint16 port = mode == Mode::ImplicitTls ? server.tlsPort() : server.port();
    auto client = std::make_unique<SmtpClient>(QStringLiteral("127.0.0.1"), port);
    client->setConnectTimeout(TimeoutMs);
    client->setReadTimeout(TimeoutMs);
    client->setDataTimeout(TimeoutMs);
    client->setCaFile(server.caFile());
    switch (mode) {
    case Mode::Plain:
        client->setStartTlsPolicy(SmtpClient::StartTlsPolicy::Never);
        break;
    case Mode::StartTlsOpportunistic:
        break;
    case Mode::StartTlsRequired:
        client->tls(true);
        break;
    case Mode::ImplicitTls:
        client->ssl(true);
        break;
    }
    return client;
}

// Runs `f`, which must throw SmtpException; returns its error (a failure otherwise).
SmtpError expectError(const std::function<void()> &f)
{
    try {
        f();
    } catch (const SmtpException &e) {
        return e.error();
    }
    return {};
}

} // namespace

class tst_CaptureServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void delivery_data();
    void delivery();
    void composedMessage();
    void swaks_data();
    void swaks();
    void faultReplies_data();
    void faultReplies();
    void faultPartialRecipients();
    void faultEveryOtherEndOfData();
    void faultDelayTimesOut();
    void faultDisconnect();
    void faultRateLimit();
    void idleTimeout();
    void startTlsInjectionDiscarded();
    void badHandshakeIsLogged();

private:
    QTemporaryDir m_dir;
    std::unique_ptr<ServerThread> m_server;
    // A fresh server with `faults` in its own folder.
    std::unique_ptr<ServerThread> faultServer(const QList<Fault> &faults, QTemporaryDir *dir, int idleMs = 300000);
    // The same for one fault spec; nullptr (with the parse error logged) when invalid.
    std::unique_ptr<ServerThread> faultServer(const QString &spec, QTemporaryDir *dir);
};

void tst_CaptureServer::initTestCase()
{
    QVERIFY(m_dir.isValid());
    CaptureOptions options;
    options.folder = m_dir.path();
    options.user = User;
    options.password = Password;
    m_server = std::make_unique<ServerThread>();
    QString error;
    QVERIFY2(m_server->start(options, &error), qPrintable(error));
    QVERIFY(m_server->port() != 0);
    QVERIFY(m_server->tlsPort() != 0);
    QVERIFY(m_server->port() != m_server->tlsPort());
    QVERIFY(QFile::exists(m_server->caFile()));
}

std::unique_ptr<ServerThread> tst_CaptureServer::faultServer(const QString &spec, QTemporaryDir *dir)
{
    QString why;
    const auto fault = Fault::parse(spec, &why);
    if (!fault) {
        qWarning("fault \"%s\": %s", qPrintable(spec), qPrintable(why));
        return nullptr;
    }
    return faultServer(QList<Fault>{*fault}, dir);
}

std::unique_ptr<ServerThread> tst_CaptureServer::faultServer(const QList<Fault> &faults, QTemporaryDir *dir,
                                                             int idleMs)
{
    CaptureOptions options;
    options.folder = dir->path();
    options.user = User;
    options.password = Password;
    options.faults = faults;
    options.idleTimeoutMs = idleMs;
    auto server = std::make_unique<ServerThread>();
    QString error;
    if (!server->start(options, &error)) {
        qWarning("cannot start the capture server: %s", qPrintable(error));
        return nullptr;
    }
    return server;
}

void tst_CaptureServer::delivery_data()
{
    QTest::addColumn<int>("mode");
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<bool>("chunking");
    QTest::addColumn<bool>("pipelining");

    const QList<std::pair<Mode, const char *>> tlsModes = {{Mode::StartTlsOpportunistic, "starttls-opportunistic"},
                                                           {Mode::StartTlsRequired, "starttls-required"},
                                                           {Mode::ImplicitTls, "implicit-tls"}};
    // AUTH is offered only inside TLS (RFC 4954 4: no plaintext passwords), so
    // the plain mode goes without login.
    for (bool chunking : {false, true}) {
        for (bool pipelining : {true, false})
            QTest::addRow("plain/none/%s/%s", chunking ? "bdat" : "data", pipelining ? "pipelined" : "lockstep")
                << int(Mode::Plain) << QString() << chunking << pipelining;
    }
    for (const auto &[mode, name] : tlsModes) {
        for (const char *mech : {"", "PLAIN", "LOGIN", "CRAM-MD5"}) {
            for (bool chunking : {false, true}) {
                QTest::addRow("%s/%s/%s", name, *mech ? mech : "none", chunking ? "bdat" : "data")
                    << int(mode) << QString::fromLatin1(mech) << chunking << true;
            }
        }
    }
}

void tst_CaptureServer::delivery()
{
    QFETCH(int, mode);
    QFETCH(QString, mechanism);
    QFETCH(bool, chunking);
    QFETCH(bool, pipelining);

    auto client = makeClient(*m_server, Mode(mode));
    if (!mechanism.isEmpty()) {
        client->setUserPass(User, Password);
        client->setAuthMechanism(mechanism);
    }
    client->setChunking(chunking);
    client->setPipelining(pipelining);

    // Two messages over one session: the second's commands ride with the first's
    // end of data when pipelining (RFC 2920 3.1).
    const QByteArray marker1 = uniqueMarker();
    const QByteArray marker2 = uniqueMarker();
    const QString from = QStringLiteral("sender@example.test");
    const QStringList to = {QStringLiteral("one@example.test"), QStringLiteral("two@example.test")};
    const QByteArray bytes1 = rawMessage(marker1, from, to);
    const QByteArray bytes2 = rawMessage(marker2, from, to, 3000); // over one TCP segment
    RawMessage m1(from, to, bytes1);
    RawMessage m2(from, to, bytes2);
    QList<SendResult> results;
    try {
        results = client->sendMessages({&m1, &m2});
    } catch (const SmtpException &e) {
        QFAIL(qPrintable(e.error().toString()));
    }
    QCOMPARE(results.size(), 2);
    for (const SendResult &r : std::as_const(results)) {
        QVERIFY2(!r.error.isError(), qPrintable(r.error.toString()));
        QVERIFY(r.accepted);
        // The client uses BDAT only together with PIPELINING (smtpsession.cpp chunkingInUse).
        QCOMPARE(r.chunked, chunking && pipelining);
        QCOMPARE(r.encrypted, Mode(mode) != Mode::Plain);
        if (!mechanism.isEmpty())
            QCOMPARE(r.authMechanism, mechanism);
        if (Mode(mode) != Mode::Plain)
            QVERIFY(r.tls.verificationEnabled);
    }
    QCOMPARE(results.constFirst().pipelined, pipelining);

    const QList<QByteArray> stored1 = m_server->waitFor(marker1, 1);
    const QList<QByteArray> stored2 = m_server->waitFor(marker2, 1);
    QCOMPARE(stored1.size(), 1);
    QCOMPARE(stored2.size(), 1);
    QCOMPARE(stored1.constFirst(), bytes1);
    QCOMPARE(stored2.constFirst(), bytes2);

    // The index knows the envelope.
    bool indexed = false;
    for (const StoredMessage &s : m_server->messages()) {
        if (s.subject == QStringLiteral("capture ") + QString::fromLatin1(marker1)) {
            indexed = true;
            QCOMPARE(s.from, from);
            QCOMPARE(s.recipients, to);
            QCOMPARE(s.size, bytes1.size());
        }
    }
    QVERIFY(indexed);
}

void tst_CaptureServer::composedMessage()
{
    // A composed message, as the client serializes it for a server with 8BITMIME
    // and SMTPUTF8 (which the capture server offers): stored byte for byte.
    const QByteArray marker = uniqueMarker();
    Message message(QStringLiteral("Sender <sender@example.test>"), QStringLiteral("Grüße ") + QString::fromLatin1(marker));
    message.addTo(QStringLiteral("rcpt@example.test"), QStringLiteral("Récipient"));
    message.setText(QStringLiteral("Hello ✓\n.leading dot\nmarker %1\n").arg(QString::fromLatin1(marker)));
    message.attachData(QStringLiteral("data.bin"), QByteArray(5000, '\x7f') + QByteArray(100, '\xff'),
                       QStringLiteral("application/octet-stream"));
    const QByteArray expected = message.toBytes(BodyOptions{true, true});
    QVERIFY(expected.contains(marker));

    for (Mode mode : {Mode::StartTlsRequired, Mode::ImplicitTls}) {
        auto client = makeClient(*m_server, mode);
        client->setUserPass(User, Password);
        SendResult r;
        try {
            r = client->sendMessage(message);
        } catch (const SmtpException &e) {
            QFAIL(qPrintable(e.error().toString()));
        }
        QVERIFY(r.accepted);
    }
    const QList<QByteArray> stored = m_server->waitFor(marker, 2);
    QCOMPARE(stored.size(), 2);
    for (const QByteArray &b : stored)
        QCOMPARE(b, expected);
}

void tst_CaptureServer::swaks_data()
{
    QTest::addColumn<QStringList>("tlsArgs");
    QTest::addColumn<bool>("implicit");
    QTest::addRow("plain") << QStringList() << false;
    QTest::addRow("starttls") << QStringList{QStringLiteral("--tls")} << false;
    QTest::addRow("starttls-verified") << QStringList{QStringLiteral("--tls"), QStringLiteral("--tls-verify")}
                                       << false;
    QTest::addRow("implicit-tls-auth") << QStringList{QStringLiteral("--tls-on-connect"), QStringLiteral("--tls-verify"),
                                                       QStringLiteral("--auth"), QStringLiteral("PLAIN"),
                                                       QStringLiteral("--auth-user"), User,
                                                       QStringLiteral("--auth-password"), Password}
                                       << true;
}

void tst_CaptureServer::swaks()
{
    QFETCH(QStringList, tlsArgs);
    QFETCH(bool, implicit);
    const QString swaksPath = QStandardPaths::findExecutable(QStringLiteral("swaks"));
    if (swaksPath.isEmpty())
        QSKIP("swaks is not installed");
    const QByteArray marker = uniqueMarker();
    QStringList args = {QStringLiteral("--server"),
                        QStringLiteral("127.0.0.1:%1").arg(implicit ? m_server->tlsPort() : m_server->port()),
                        QStringLiteral("--to"), QStringLiteral("a@example.test"),
                        QStringLiteral("--from"), QStringLiteral("b@example.test"),
                        QStringLiteral("--helo"), QStringLiteral("swaks.test"),
                        QStringLiteral("--header"), QStringLiteral("X-Test-Id: ") + QString::fromLatin1(marker),
                        QStringLiteral("--timeout"), QStringLiteral("15")};
    if (tlsArgs.contains(QStringLiteral("--tls-verify")))
        tlsArgs << QStringLiteral("--tls-ca-path") << m_server->caFile();
    args += tlsArgs;
    QProcess swaks;
    swaks.start(swaksPath, args);
    QVERIFY(swaks.waitForStarted(TimeoutMs));
    QVERIFY2(swaks.waitForFinished(30000), "swaks did not finish in 30 s");
    const QByteArray output = swaks.readAllStandardOutput() + swaks.readAllStandardError();
    QVERIFY2(swaks.exitStatus() == QProcess::NormalExit && swaks.exitCode() == 0, output.constData());
    if (!tlsArgs.isEmpty())
        QVERIFY2(output.contains("TLS started") || output.contains("TLS"), output.constData());
    const QList<QByteArray> stored = m_server->waitFor(marker, 1);
    QCOMPARE(stored.size(), 1);
    QVERIFY(stored.constFirst().contains("X-Test-Id: " + marker + "\r\n"));
}

void tst_CaptureServer::faultReplies_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<int>("mode");
    QTest::addColumn<bool>("login");
    QTest::addColumn<bool>("chunking");
    QTest::addColumn<int>("replyCode");
    QTest::addColumn<QString>("enhanced");
    QTest::addColumn<QString>("step");
    QTest::addColumn<QString>("errorCode");

    QTest::addRow("greeting 554") << "greeting:554 5.3.2 Not accepting mail" << int(Mode::Plain) << false << false
                                  << 554 << "5.3.2" << "greeting" << "SMTP-REPLY-ERROR";
    // With TLS required the client may not fall back to HELO (docs/security.md).
    QTest::addRow("ehlo 550") << "ehlo:550 5.7.1 Go away" << int(Mode::StartTlsRequired) << false << false << 550
                              << "5.7.1" << "EHLO" << "SMTP-TLS-ERROR";
    QTest::addRow("ehlo 421") << "ehlo:421 4.3.2 Shutting down" << int(Mode::Plain) << false << false << 421
                              << "4.3.2" << "EHLO" << "SMTP-REPLY-ERROR";
    QTest::addRow("starttls 454") << "starttls:454 4.7.0 TLS not available" << int(Mode::StartTlsRequired) << false
                                  << false << 454 << "4.7.0" << "STARTTLS" << "SMTP-TLS-ERROR";
    QTest::addRow("auth 535") << "auth:535 5.7.8 Bad credentials" << int(Mode::StartTlsRequired) << true << false
                              << 535 << "5.7.8" << "AUTH" << "SMTP-AUTH-ERROR";
    QTest::addRow("mail 451") << "mail:451 4.3.0 Try later" << int(Mode::ImplicitTls) << false << false << 451
                              << "4.3.0" << "MAIL" << "SMTP-REPLY-ERROR";
    QTest::addRow("rcpt 550 all") << "rcpt:550 5.1.1 No such user" << int(Mode::Plain) << false << false << 550
                                  << "5.1.1" << "RCPT" << "SMTP-REPLY-ERROR";
    QTest::addRow("data 554") << "data:554 5.6.0 No data today" << int(Mode::StartTlsOpportunistic) << false << false
                              << 554 << "5.6.0" << "DATA" << "SMTP-REPLY-ERROR";
    QTest::addRow("eod 552") << "eod:552 5.3.4 Too big for us" << int(Mode::Plain) << false << false << 552 << "5.3.4"
                             << "end of data" << "SMTP-REPLY-ERROR";
    QTest::addRow("eod 451 bdat") << "eod:451 4.3.0 Try again" << int(Mode::Plain) << false << true << 451
                                  << "4.3.0" << "" << "SMTP-REPLY-ERROR";
}

void tst_CaptureServer::faultReplies()
{
    QFETCH(QString, spec);
    QFETCH(int, mode);
    QFETCH(bool, login);
    QFETCH(bool, chunking);
    QFETCH(int, replyCode);
    QFETCH(QString, enhanced);
    QFETCH(QString, step);
    QFETCH(QString, errorCode);

    QString why;
    const auto fault = Fault::parse(spec, &why);
    QVERIFY2(fault, qPrintable(why));
    QTemporaryDir dir;
    auto server = faultServer({*fault}, &dir);
    QVERIFY(server);
    auto client = makeClient(*server, Mode(mode));
    client->setChunking(chunking);
    if (login)
        client->setUserPass(User, Password);
    const QByteArray marker = uniqueMarker();
    RawMessage m(QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")},
                 rawMessage(marker, QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")}));
    const SmtpError e = expectError([&] { client->sendMessage(m); });
    QVERIFY2(e.isError(), "the send succeeded");
    QCOMPARE(e.replyCode, replyCode);
    QCOMPARE(e.enhancedCode, enhanced);
    QCOMPARE(e.code, errorCode);
    QVERIFY2(e.step.startsWith(step, Qt::CaseInsensitive), qPrintable(e.step + QStringLiteral(" / ") + e.toString()));
    QVERIFY(server->stored(marker).isEmpty());
}

void tst_CaptureServer::faultPartialRecipients()
{
    QTemporaryDir dir;
    auto server = faultServer(QStringLiteral("rcpt=Bob@Example.test:550 5.1.1 Gone away"), &dir);
    QVERIFY(server);
    auto client = makeClient(*server, Mode::StartTlsRequired);
    const QByteArray marker = uniqueMarker();
    const QStringList to = {QStringLiteral("alice@example.test"), QStringLiteral("bob@example.test")};
    const QByteArray bytes = rawMessage(marker, QStringLiteral("s@example.test"), to);
    RawMessage m(QStringLiteral("s@example.test"), to, bytes);
    SendResult r;
    try {
        r = client->sendMessage(m);
    } catch (const SmtpException &e) {
        QFAIL(qPrintable(e.error().toString()));
    }
    QVERIFY(r.accepted);
    QCOMPARE(r.refusedRecipients(), QStringList{QStringLiteral("bob@example.test")});
    QCOMPARE(r.recipients.size(), 2);
    QCOMPARE(r.recipients.at(1).reply.code, 550);
    QCOMPARE(r.recipients.at(1).reply.enhanced, QStringLiteral("5.1.1"));
    QVERIFY(r.recipients.at(0).accepted());
    const QList<QByteArray> stored = server->waitFor(marker, 1);
    QCOMPARE(stored.size(), 1);
    QCOMPARE(stored.constFirst(), bytes);
    const QList<StoredMessage> list = server->messages();
    QCOMPARE(list.size(), 1);
    QCOMPARE(list.constFirst().recipients, QStringList{QStringLiteral("alice@example.test")});
}

void tst_CaptureServer::faultEveryOtherEndOfData()
{
    QTemporaryDir dir;
    auto server = faultServer(QStringLiteral("eod:every=2:451 4.3.0 Try again"), &dir);
    QVERIFY(server);
    auto client = makeClient(*server, Mode::Plain);
    client->setChunking(false);
    QList<QByteArray> markers;
    std::vector<std::unique_ptr<RawMessage>> messages;
    QList<const OutgoingMessage *> list;
    for (int i = 0; i < 4; ++i) {
        markers << uniqueMarker();
        messages.push_back(std::make_unique<RawMessage>(
            QStringLiteral("s@example.test"), QStringList{QStringLiteral("r@example.test")},
            rawMessage(markers.last(), QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")})));
        list << messages.back().get();
    }
    QList<SendResult> results;
    try {
        results = client->sendMessages(list);
    } catch (const SmtpException &e) {
        QFAIL(qPrintable(e.error().toString()));
    }
    QCOMPARE(results.size(), 4);
    for (int i = 0; i < 4; ++i) {
        const bool deferred = (i + 1) % 2 == 0; // the 2nd and 4th end of data
        QCOMPARE(results.at(i).accepted, !deferred);
        if (deferred) {
            QCOMPARE(results.at(i).error.replyCode, 451);
            QCOMPARE(results.at(i).error.enhancedCode, QStringLiteral("4.3.0"));
            QCOMPARE(results.at(i).message.code, 451);
        }
        QCOMPARE(server->waitFor(markers.at(i), 1, deferred ? 200 : TimeoutMs).size(), deferred ? 0 : 1);
    }
    QCOMPARE(server->messages().size(), 2);
}

void tst_CaptureServer::faultDelayTimesOut()
{
    QTemporaryDir dir;
    auto server = faultServer(QStringLiteral("mail:delay=3000"), &dir);
    QVERIFY(server);
    {
        auto client = makeClient(*server, Mode::Plain);
        client->setPipelining(false);
        client->setReadTimeout(800);
        RawMessage m(QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")},
                     rawMessage(uniqueMarker(), QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")}));
        const SmtpError e = expectError([&] { client->sendMessage(m); });
        QCOMPARE(e.code, QStringLiteral("SOCKET-TIMEOUT"));
        QVERIFY2(e.step.startsWith(QStringLiteral("MAIL")), qPrintable(e.toString()));
    }
    {
        // A read timeout longer than the delay: the same fault only slows the send.
        QElapsedTimer timer;
        timer.start();
        auto client = makeClient(*server, Mode::Plain);
        client->setPipelining(false);
        client->setReadTimeout(6000);
        const QByteArray marker = uniqueMarker();
        RawMessage m(QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")},
                     rawMessage(marker, QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")}));
        try {
            QVERIFY(client->sendMessage(m).accepted);
        } catch (const SmtpException &e) {
            QFAIL(qPrintable(e.error().toString()));
        }
        QVERIFY(timer.elapsed() >= 2900);
        QCOMPARE(server->waitFor(marker, 1).size(), 1);
    }
}

void tst_CaptureServer::faultDisconnect()
{
    QTemporaryDir dir;
    auto server = faultServer(QStringLiteral("data:disconnect"), &dir);
    QVERIFY(server);
    auto client = makeClient(*server, Mode::ImplicitTls);
    client->setChunking(false);
    const QByteArray marker = uniqueMarker();
    RawMessage m(QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")},
                 rawMessage(marker, QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")}));
    const SmtpError e = expectError([&] { client->sendMessage(m); });
    QCOMPARE(e.code, QStringLiteral("SOCKET-CLOSED"));
    QCOMPARE(e.category, SmtpError::Category::Transport);
    QVERIFY2(e.step.startsWith(QStringLiteral("DATA")), qPrintable(e.toString()));
    QVERIFY(server->messages().isEmpty());
}

void tst_CaptureServer::faultRateLimit()
{
    QTemporaryDir dir;
    auto server = faultServer(QStringLiteral("rate=2/min:421"), &dir);
    QVERIFY(server);
    for (int i = 0; i < 3; ++i) {
        auto client = makeClient(*server, Mode::Plain);
        const QByteArray marker = uniqueMarker();
        RawMessage m(QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")},
                     rawMessage(marker, QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")}));
        if (i < 2) {
            try {
                QVERIFY(client->sendMessage(m).accepted);
            } catch (const SmtpException &e) {
                QFAIL(qPrintable(QStringLiteral("message %1: %2").arg(i + 1).arg(e.error().toString())));
            }
        } else {
            const SmtpError e = expectError([&] { client->sendMessage(m); });
            QCOMPARE(e.replyCode, 421);
        }
    }
    QCOMPARE(server->messages().size(), 2);
}

void tst_CaptureServer::idleTimeout()
{
    // RFC 5321 4.5.3.2.7: the server may close an idle session; it says 421 first.
    QTemporaryDir dir;
    auto server = faultServer({}, &dir, 500);
    QVERIFY(server);
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server->port());
    QVERIFY(socket.waitForConnected(TimeoutMs));
    QByteArray received;
    QDeadlineTimer deadline(TimeoutMs);
    while (socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        socket.waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime())));
        received += socket.readAll();
    }
    received += socket.readAll();
    QVERIFY2(received.startsWith("220 "), received.constData());
    QVERIFY2(received.contains("\r\n421 4.4.2 "), received.constData());
    QCOMPARE(socket.state(), QAbstractSocket::UnconnectedState);
}

void tst_CaptureServer::startTlsInjectionDiscarded()
{
    // RFC 3207 4.2 / docs/security.md: a command sent in the same segment as
    // STARTTLS (before the handshake) was sent in plaintext and must never be
    // answered as if it came inside TLS.
    QSslSocket socket;
    QSslConfiguration tls = socket.sslConfiguration();
    tls.setCaCertificates(QSslCertificate::fromPath(m_server->caFile()));
    socket.setSslConfiguration(tls);
    socket.connectToHost(QStringLiteral("127.0.0.1"), m_server->port());
    QVERIFY(socket.waitForConnected(TimeoutMs));
    QByteArray buffer;
    QVERIFY(readReply(socket, &buffer).value(0).startsWith("220 "));
    socket.write("EHLO client.test\r\n");
    const QList<QByteArray> ehlo = readReply(socket, &buffer);
    QVERIFY(ehlo.contains("250-STARTTLS") || ehlo.contains("250 STARTTLS"));
    socket.write("STARTTLS\r\nNOOP\r\n");
    QVERIFY(readReply(socket, &buffer).value(0).startsWith("220 "));
    QVERIFY2(buffer.isEmpty(), buffer.constData()); // nothing more in plaintext
    socket.startClientEncryption();
    QVERIFY2(socket.waitForEncrypted(TimeoutMs), qPrintable(socket.errorString()));
    socket.write("EHLO again.test\r\n");
    const QList<QByteArray> second = readReply(socket, &buffer);
    QVERIFY(!second.isEmpty());
    // The first reply inside TLS answers EHLO (multi-line, no STARTTLS any more:
    // RFC 3207 4.2), not the injected NOOP.
    QVERIFY2(second.constFirst().startsWith("250-"), second.constFirst().constData());
    QVERIFY(!second.contains("250-STARTTLS") && !second.contains("250 STARTTLS"));
    socket.write("QUIT\r\n");
    QVERIFY(readReply(socket, &buffer).value(0).startsWith("221"));
}

void tst_CaptureServer::badHandshakeIsLogged()
{
    // Plaintext SMTP on the implicit-TLS port: the handshake fails, the server
    // logs it and goes on serving.
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_server->tlsPort());
    QVERIFY(socket.waitForConnected(TimeoutMs));
    socket.write("EHLO plaintext.test\r\n\r\n\r\n");
    QVERIFY(socket.waitForBytesWritten(TimeoutMs));
    QVERIFY2(m_server->waitForLog(QStringLiteral("TLS error")), qPrintable(m_server->logLines().join(u'\n')));
    auto client = makeClient(*m_server, Mode::ImplicitTls);
    const QByteArray marker = uniqueMarker();
    RawMessage m(QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")},
                 rawMessage(marker, QStringLiteral("s@example.test"), {QStringLiteral("r@example.test")}));
    try {
        QVERIFY(client->sendMessage(m).accepted);
    } catch (const SmtpException &e) {
        QFAIL(qPrintable(e.error().toString()));
    }
    QCOMPARE(m_server->waitFor(marker, 1).size(), 1);
}

QTEST_GUILESS_MAIN(tst_CaptureServer)
#include "tst_captureserver.moc"
