// The engine against scripted hostile and faulty servers (tests/servers/
// hostile_smtpd.py; docs/security.md). Each case must end in a clear error
// naming the step, within the configured timeouts, with nothing sent that
// should not have been, and no crash. The server records every client line
// (pre-TLS and post-TLS apart), so the tests assert what was NOT sent.

#include "client/smtpclient.h"
#include "testservers.h"

#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QTest>

namespace {

const QString Sender = QStringLiteral("sender@example.test");
const QString Rcpt = QStringLiteral("rcpt@example.test");

struct Setup
{
    QString tlsMode = QStringLiteral("required"); // required | opportunistic | never | implicit
    bool credentials = false;
    bool insecure = false;
    int readTimeoutMs = 3000;
    int dataTimeoutMs = 600000;
};

std::unique_ptr<SmtpClient> clientFor(const HostileServer &server, const Setup &s)
{
    auto c = std::make_unique<SmtpClient>(QStringLiteral("127.0.0.1"), server.port());
    c->setCaFile(MailEnv::get().caFile);
    c->setPeerVerifyName(QStringLiteral("smtp.test"));
    c->setConnectTimeout(5000);
    c->setReadTimeout(s.readTimeoutMs);
    c->setDataTimeout(s.dataTimeoutMs);
    if (s.tlsMode == u"required")
        c->tls(true);
    else if (s.tlsMode == u"implicit")
        c->ssl(true);
    else if (s.tlsMode == u"never")
        c->setStartTlsPolicy(SmtpClient::StartTlsPolicy::Never);
    if (s.credentials)
        c->setUserPass(QStringLiteral("tester"), QStringLiteral("s3cret-pass"));
    c->setInsecure(s.insecure);
    return c;
}

QByteArray smallMessage()
{
    return "From: <sender@example.test>\r\nTo: <rcpt@example.test>\r\nSubject: t\r\n\r\nhello\r\n";
}

// Sends one message; returns the error (empty when it was accepted).
SmtpError trySend(SmtpClient &c, const QByteArray &message = smallMessage(), const QStringList &rcpts = {Rcpt})
{
    try {
        c.sendMessage(RawMessage(Sender, rcpts, message));
        return {};
    } catch (const SmtpException &e) {
        return e.error();
    }
}

HostileServer::Options serverOptions(const QStringList &scenarios, const QString &cert = QStringLiteral("smtp.test"),
                                     bool implicitTls = false, const QStringList &extraArgs = {})
{
    HostileServer::Options o;
    o.scenarios = scenarios;
    o.certName = cert;
    o.implicitTls = implicitTls;
    o.extraArgs = extraArgs;
    return o;
}

#define START_SERVER(server, ...)                                                                   \
    HostileServer server;                                                                          \
    {                                                                                              \
        QString startError;                                                                        \
        QVERIFY2(server.start(serverOptions(__VA_ARGS__), &startError), qPrintable(startError));    \
    }

} // namespace

class TestHostile : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { REQUIRE_MAILENV(); }

    void baselineWorks_data();
    void baselineWorks();
    void tlsRequiredFailures_data();
    void tlsRequiredFailures();
    void ehloRefusedFallsBackToHeloWhenTlsOptional();
    void malformedReplies_data();
    void malformedReplies();
    void timeouts_data();
    void timeouts();
    void slowFinalReplyUsesTheDataTimeout();
    void connectionLost_data();
    void connectionLost();
    void earlyRejectDuringData();
    void serviceClosing421_data();
    void serviceClosing421();
    void floodsEndInAnAbort_data();
    void floodsEndInAnAbort();
    void authAbuse_data();
    void authAbuse();
    void noCredentialsWithoutTls();
    void insecureModeRecordsErrors();
    void allRecipientsRefused();
    void tooManyRecipientsSentInTurns();
    void crlfInjectionRefusedBeforeConnecting_data();
    void crlfInjectionRefusedBeforeConnecting();
};

void TestHostile::baselineWorks_data()
{
    QTest::addColumn<QString>("mode");
    QTest::addRow("starttls") << "required";
    QTest::addRow("implicit") << "implicit";
}

void TestHostile::baselineWorks()
{
    // The scripted server's baseline is a working server: the hostile cases below
    // fail because of their fault, not because of the harness.
    QFETCH(QString, mode);
    START_SERVER(server, {QStringLiteral("ok")}, QStringLiteral("smtp.test"), mode == u"implicit");
    Setup s;
    s.tlsMode = mode;
    s.credentials = true;
    auto c = clientFor(server, s);
    const SmtpError e = trySend(*c);
    QVERIFY2(!e.isError(), qPrintable(e.toString()));
    QVERIFY(server.received(QStringLiteral("MAIL FROM:<sender@example.test>"), QStringLiteral("tls")));
    QVERIFY(server.received(QStringLiteral("AUTH"), QStringLiteral("tls")));
    QVERIFY(!server.received(QStringLiteral("AUTH"), QStringLiteral("plain")));
    // The server's own account of the message: the exact bytes, no bare CR/LF.
    const QList<QJsonObject> messages = server.events(QStringLiteral("data-bytes"));
    QCOMPARE(messages.size(), 1);
    for (const QJsonObject &o : messages) {
        QCOMPARE(o.value(QStringLiteral("n")).toInteger(), smallMessage().size());
        QCOMPARE(o.value(QStringLiteral("sha256")).toString(),
                 QString::fromLatin1(QCryptographicHash::hash(smallMessage(), QCryptographicHash::Sha256).toHex()));
        QCOMPARE(o.value(QStringLiteral("bare_lf")).toInteger(), 0);
        QCOMPARE(o.value(QStringLiteral("bare_cr")).toInteger(), 0);
    }
}

void TestHostile::tlsRequiredFailures_data()
{
    QTest::addColumn<QString>("scenario");
    QTest::addColumn<QString>("cert");
    QTest::addColumn<int>("category");
    QTest::addColumn<QString>("step");
    QTest::addColumn<QString>("mentions");
    const int tls = int(SmtpError::Category::Tls);
    const int reply = int(SmtpError::Category::Reply);
    QTest::addRow("injection-after-starttls") << "inject-after-starttls" << "smtp.test" << tls << "STARTTLS" << "injection";
    QTest::addRow("partial-injection") << "inject-partial" << "smtp.test" << tls << "STARTTLS" << "injection";
    QTest::addRow("starttls-missing") << "no-starttls" << "smtp.test" << tls << "EHLO" << "STARTTLS";
    QTest::addRow("starttls-454") << "starttls-454" << "smtp.test" << tls << "STARTTLS" << "454";
    QTest::addRow("starttls-502") << "starttls-502" << "smtp.test" << tls << "STARTTLS" << "502";
    QTest::addRow("starttls-501") << "starttls-501" << "smtp.test" << tls << "STARTTLS" << "501";
    QTest::addRow("starttls-354") << "starttls-354" << "smtp.test" << tls << "STARTTLS" << "354";
    QTest::addRow("starttls-250") << "starttls-250" << "smtp.test" << tls << "STARTTLS" << "250";
    QTest::addRow("starttls-421") << "starttls-421" << "smtp.test" << reply << "STARTTLS" << "421";
    QTest::addRow("ehlo-refused") << "ehlo-502" << "smtp.test" << tls << "EHLO" << "EHLO";
    QTest::addRow("wrong-certificate-name") << "ok" << "other.test" << tls << "TLS handshake" << "other.test";
    QTest::addRow("self-signed-certificate") << "ok" << "selfsigned" << tls << "TLS handshake" << "certificate";
    QTest::addRow("expired-certificate") << "ok" << "expired" << tls << "TLS handshake" << "expired";
}

void TestHostile::tlsRequiredFailures()
{
    QFETCH(QString, scenario);
    QFETCH(QString, cert);
    QFETCH(int, category);
    QFETCH(QString, step);
    QFETCH(QString, mentions);
    START_SERVER(server, {scenario}, cert);
    Setup s;
    s.credentials = true;
    auto c = clientFor(server, s);
    QElapsedTimer timer;
    timer.start();
    const SmtpError e = trySend(*c);
    QVERIFY2(e.isError(), "must fail");
    QCOMPARE(int(e.category), category);
    QCOMPARE(e.step, step);
    QVERIFY2(e.toString().contains(mentions, Qt::CaseInsensitive), qPrintable(e.toString()));
    QVERIFY2(timer.elapsed() < 5000, "fails at once, not by timeout");
    // No silent downgrade: nothing after the failed TLS requirement.
    QVERIFY(!server.received(QStringLiteral("AUTH")));
    QVERIFY(!server.received(QStringLiteral("MAIL")));
    QVERIFY(!server.received(QStringLiteral("HELO")));
    QVERIFY(server.lines(QStringLiteral("tls")).isEmpty());
}

void TestHostile::ehloRefusedFallsBackToHeloWhenTlsOptional()
{
    // RFC 5321 4.1.1.1: EHLO refused with 5xx -> HELO, when TLS is not required.
    START_SERVER(server, {QStringLiteral("ehlo-502")}, QString());
    Setup s;
    s.tlsMode = QStringLiteral("opportunistic");
    auto c = clientFor(server, s);
    const SmtpError e = trySend(*c);
    QVERIFY2(!e.isError(), qPrintable(e.toString()));
    QVERIFY(server.received(QStringLiteral("HELO ")));
}

void TestHostile::malformedReplies_data()
{
    QTest::addColumn<QString>("scenario");
    QTest::addColumn<QString>("step");
    QTest::addRow("mismatched-multiline-codes") << "mismatched-multiline" << "EHLO";
    QTest::addRow("200KB-reply-line") << "long-line" << "EHLO";
    QTest::addRow("200000-line-EHLO") << "huge-ehlo" << "EHLO";
    QTest::addRow("unsolicited-reply") << "early-data" << "EHLO";
}

void TestHostile::malformedReplies()
{
    QFETCH(QString, scenario);
    QFETCH(QString, step);
    START_SERVER(server, {scenario}, QString());
    Setup s;
    s.tlsMode = QStringLiteral("opportunistic");
    auto c = clientFor(server, s);
    const SmtpError e = trySend(*c);
    QVERIFY2(e.isError(), "must fail");
    QCOMPARE(e.category, SmtpError::Category::Protocol);
    QCOMPARE(e.step, step);
    QVERIFY(!server.received(QStringLiteral("MAIL")));
}

void TestHostile::timeouts_data()
{
    QTest::addColumn<QString>("scenario");
    QTest::addColumn<QString>("step");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("silent-greeting") << "silent-greeting" << "Greeting" << "greeting";
    QTest::addRow("trickling-greeting") << "trickle-greeting" << "Greeting" << "greeting";
    QTest::addRow("silent-at-MAIL") << "silent-at=MAIL" << "MAIL FROM" << "no reply";
    QTest::addRow("silent-at-RCPT") << "silent-at=RCPT" << "RCPT TO" << "no reply";
    QTest::addRow("silent-at-end-of-data") << "silent-at=DOT" << "end of data" << "may or may not";
}

void TestHostile::timeouts()
{
    QFETCH(QString, scenario);
    QFETCH(QString, step);
    QFETCH(QString, mentions);
    START_SERVER(server, {scenario}, QString());
    Setup s;
    s.tlsMode = QStringLiteral("never");
    s.readTimeoutMs = 1000;
    s.dataTimeoutMs = 1500;
    auto c = clientFor(server, s);
    QElapsedTimer timer;
    timer.start();
    const SmtpError e = trySend(*c);
    const qint64 took = timer.elapsed();
    QVERIFY2(e.isError(), "must time out");
    QCOMPARE(e.code, QStringLiteral("SOCKET-TIMEOUT"));
    QCOMPARE(e.step, step);
    QVERIFY2(e.message.contains(mentions, Qt::CaseInsensitive), qPrintable(e.message));
    QVERIFY2(took >= 900 && took < 6000, qPrintable(QStringLiteral("took %1 ms").arg(took)));
}

void TestHostile::slowFinalReplyUsesTheDataTimeout()
{
    // RFC 5321 4.5.3.2.6: the reply to the end of data may be slow; the short read
    // timeout must not turn a delivered message into a failure.
    START_SERVER(server, {QStringLiteral("slow-dot=2")}, QString());
    Setup s;
    s.tlsMode = QStringLiteral("never");
    s.readTimeoutMs = 1000;
    s.dataTimeoutMs = 10000;
    auto c = clientFor(server, s);
    const SmtpError e = trySend(*c);
    QVERIFY2(!e.isError(), qPrintable(e.toString()));
}

void TestHostile::connectionLost_data()
{
    QTest::addColumn<QString>("scenario");
    QTest::addColumn<QString>("step");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("closed-mid-DATA") << "close-mid-data" << "DATA" << "closed";
    QTest::addRow("closed-after-end-of-data") << "close-after-dot" << "end of data" << "may or may not";
}

void TestHostile::connectionLost()
{
    QFETCH(QString, scenario);
    QFETCH(QString, step);
    QFETCH(QString, mentions);
    START_SERVER(server, {scenario}, QString());
    Setup s;
    s.tlsMode = QStringLiteral("never");
    auto c = clientFor(server, s);
    QByteArray big = "Subject: big\r\n\r\n";
    while (big.size() < 4 * 1024 * 1024)
        big += "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n";
    const SmtpError e = trySend(*c, scenario == u"close-mid-data" ? big : smallMessage());
    QVERIFY2(e.isError(), "must fail");
    QCOMPARE(e.category, SmtpError::Category::Transport);
    QCOMPARE(e.step, step);
    QVERIFY2(e.message.contains(mentions, Qt::CaseInsensitive), qPrintable(e.message));
}

void TestHostile::earlyRejectDuringData()
{
    // docs/security.md section F: after 64 KB the server answers 552 and stops
    // reading. The client must notice the reply while it is still writing, stop,
    // and report the 552, with no deadlock on full buffers and no success.
    START_SERVER(server, {QStringLiteral("reject-during-data=65536")}, QString());
    Setup s;
    s.tlsMode = QStringLiteral("never");
    s.readTimeoutMs = 10000;
    auto c = clientFor(server, s);
    QByteArray big = "Subject: big\r\n\r\n";
    while (big.size() < 8 * 1024 * 1024) // under the server's SIZE 10485760
        big += "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n";
    QElapsedTimer timer;
    timer.start();
    const SmtpError e = trySend(*c, big);
    QVERIFY2(e.isError(), "must fail");
    QCOMPARE(e.replyCode, 552);
    QCOMPARE(e.step, QStringLiteral("DATA"));
    QVERIFY2(timer.elapsed() < 5000, "stops when the reply comes, not at a timeout");
}

void TestHostile::serviceClosing421_data()
{
    QTest::addColumn<QString>("at");
    QTest::addColumn<QString>("step");
    QTest::addRow("greeting") << "GREETING" << "greeting";
    QTest::addRow("EHLO") << "EHLO" << "EHLO";
    QTest::addRow("MAIL") << "MAIL" << "MAIL FROM";
    QTest::addRow("first-RCPT") << "RCPT" << "RCPT TO";
    QTest::addRow("second-RCPT") << "RCPT2" << "RCPT TO";
    QTest::addRow("DATA") << "DATA" << "DATA";
    QTest::addRow("end-of-data") << "DOT" << "end of data";
}

void TestHostile::serviceClosing421()
{
    // docs/security.md section F: stop, send nothing more (no RSET, no QUIT), report
    // a temporary failure.
    QFETCH(QString, at);
    QFETCH(QString, step);
    START_SERVER(server, {QStringLiteral("421-at=") + at}, QString());
    Setup s;
    s.tlsMode = QStringLiteral("never");
    auto c = clientFor(server, s);
    const SmtpError e = trySend(*c, smallMessage(), {Rcpt, QStringLiteral("second@example.test")});
    QVERIFY2(e.isError(), "must fail");
    QCOMPARE(e.replyCode, 421);
    QCOMPARE(e.step, step);
    QVERIFY(!server.received(QStringLiteral("RSET")));
    QVERIFY(!server.received(QStringLiteral("QUIT")));
}

void TestHostile::floodsEndInAnAbort_data()
{
    QTest::addColumn<QString>("scenario");
    QTest::addColumn<QString>("step");
    QTest::addRow("endless-EHLO-reply") << "flood-at=EHLO" << "EHLO";
    QTest::addRow("endless-MAIL-reply") << "flood-at=MAIL" << "MAIL FROM";
    QTest::addRow("junk-while-uploading") << "junk-during-data" << "DATA";
}

void TestHostile::floodsEndInAnAbort()
{
    // docs/security.md sections I and E (an endless reply): a server that
    // writes "250-" lines at full speed for ever, at a command or while the
    // client uploads, must meet bounded buffers (the reply parser's line, size
    // and line-count limits) and then an abort, not a client that reads on until
    // memory or the read timeout runs out. The server stops at flood_cap
    // (256 MiB) and records how much it wrote before the client went away.
    QFETCH(QString, scenario);
    QFETCH(QString, step);
    START_SERVER(server, {scenario}, QString());
    Setup s;
    s.tlsMode = QStringLiteral("never");
    s.readTimeoutMs = 20000; // only the limits can end this early
    auto c = clientFor(server, s);
    QByteArray big = "Subject: big\r\n\r\n";
    while (big.size() < 8 * 1024 * 1024) // under the server's SIZE 10485760
        big += "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n";
    QElapsedTimer timer;
    timer.start();
    const SmtpError e = trySend(*c, scenario == u"junk-during-data" ? big : smallMessage());
    const qint64 took = timer.elapsed();
    QVERIFY2(e.isError(), "must fail");
    QCOMPARE(e.category, SmtpError::Category::Protocol);
    QCOMPARE(e.step, step);
    QVERIFY2(e.message.contains(QStringLiteral("malformed reply")), qPrintable(e.toString()));
    QVERIFY2(took < 10000, qPrintable(QStringLiteral("took %1 ms").arg(took)));
    QDeadlineTimer deadline(10000);
    while (server.events(QStringLiteral("flood")).isEmpty() && !deadline.hasExpired())
        QTest::qWait(20);
    const QList<QJsonObject> flood = server.events(QStringLiteral("flood"));
    QVERIFY2(!flood.isEmpty(), "the server recorded no flood");
    const qint64 written = qint64(flood.first().value(QStringLiteral("bytes")).toDouble());
    qInfo("the server wrote %lld bytes before the client aborted", written);
    QCOMPARE(flood.first().value(QStringLiteral("ended")).toString(), QStringLiteral("client"));
    // The parser stops at 1 MiB of one reply; the rest is what the kernel's
    // socket buffers on both sides held.
    QVERIFY2(written < 64 * 1024 * 1024, qPrintable(QString::number(written)));
}

void TestHostile::authAbuse_data()
{
    QTest::addColumn<QString>("scenario");
    QTest::addColumn<QString>("mentions");
    QTest::addRow("endless-challenges") << "auth-loop" << "challenge";
    QTest::addRow("invalid-base64-challenge") << "bad-challenge" << "base64";
}

void TestHostile::authAbuse()
{
    QFETCH(QString, scenario);
    QFETCH(QString, mentions);
    START_SERVER(server, {scenario}, QStringLiteral("smtp.test"));
    Setup s;
    s.credentials = true;
    auto c = clientFor(server, s);
    c->setAuthMechanism(QStringLiteral("LOGIN"));
    QElapsedTimer timer;
    timer.start();
    const SmtpError e = trySend(*c);
    QVERIFY2(e.isError(), "must fail");
    QCOMPARE(e.category, SmtpError::Category::Auth);
    QVERIFY2(e.message.contains(mentions, Qt::CaseInsensitive), qPrintable(e.message));
    QVERIFY(timer.elapsed() < 5000);
    QVERIFY(!server.received(QStringLiteral("MAIL")));
}

void TestHostile::noCredentialsWithoutTls()
{
    // Opportunistic TLS, STARTTLS stripped, AUTH offered in the clear: no AUTH.
    START_SERVER(server, {QStringLiteral("no-starttls")}, QString(), false, {QStringLiteral("--option"), QStringLiteral("auth_plain=1")});
    Setup s;
    s.tlsMode = QStringLiteral("opportunistic");
    s.credentials = true;
    auto c = clientFor(server, s);
    const SmtpError e = trySend(*c);
    QVERIFY2(e.isError(), "must refuse to authenticate in the clear");
    QCOMPARE(e.category, SmtpError::Category::Auth);
    QVERIFY(e.message.contains(QStringLiteral("unencrypted")));
    QVERIFY(!server.received(QStringLiteral("AUTH")));
    QVERIFY(!server.received(QStringLiteral("MAIL")));
}

void TestHostile::insecureModeRecordsErrors()
{
    START_SERVER(server, {QStringLiteral("ok")}, QStringLiteral("other.test"), true);
    Setup s;
    s.tlsMode = QStringLiteral("implicit");
    s.insecure = true;
    auto c = clientFor(server, s);
    SendResult r;
    try {
        r = c->sendMessage(RawMessage(Sender, {Rcpt}, smallMessage()));
    } catch (const SmtpException &e) {
        QFAIL(qPrintable(e.error().toString()));
    }
    QVERIFY(r.accepted);
    QVERIFY(r.tls.encrypted);
    QVERIFY(!r.tls.verified);
    QVERIFY(!r.tls.verificationEnabled);
    QVERIFY(!r.tls.errors.isEmpty());
    QVERIFY(r.transcriptText().contains(QStringLiteral("verification is OFF")));
}

void TestHostile::allRecipientsRefused()
{
    START_SERVER(server, {QStringLiteral("refuse-rcpt=rcpt@example.test")}, QString());
    Setup s;
    s.tlsMode = QStringLiteral("never");
    auto c = clientFor(server, s);
    const SmtpError e = trySend(*c);
    QVERIFY2(e.isError(), "must fail");
    QCOMPARE(e.step, QStringLiteral("RCPT TO"));
    QVERIFY(e.message.contains(Rcpt));
    QVERIFY2(server.events(QStringLiteral("data-bytes")).isEmpty(), "no message data may be sent");
}

void TestHostile::tooManyRecipientsSentInTurns()
{
    // RFC 5321 4.5.3.1.10 / docs/security.md section G: the server takes 2 recipients per
    // message and answers 452 to the rest; they get the message in further
    // transactions, and every recipient ends up accepted.
    START_SERVER(server, {QStringLiteral("max-rcpt=2")}, QString());
    Setup s;
    s.tlsMode = QStringLiteral("never");
    auto c = clientFor(server, s);
    QStringList rcpts;
    for (int i = 0; i < 5; ++i)
        rcpts.append(QStringLiteral("r%1@example.test").arg(i));
    SendResult r;
    try {
        r = c->sendMessage(RawMessage(Sender, rcpts, smallMessage()));
    } catch (const SmtpException &e) {
        QFAIL(qPrintable(e.error().toString()));
    }
    QVERIFY(r.accepted);
    QCOMPARE(r.recipients.size(), 5);
    for (const RecipientResult &rr : std::as_const(r.recipients))
        QVERIFY2(rr.accepted(), qPrintable(rr.address + QStringLiteral(": ") + rr.reply.desc));
    QCOMPARE(server.events(QStringLiteral("data-bytes")).size(), 3); // 2 + 2 + 1 recipients
    QCOMPARE(server.lines().filter(QStringLiteral("RCPT TO:")).size(), 5 + 3 + 1);
}

void TestHostile::crlfInjectionRefusedBeforeConnecting_data()
{
    QTest::addColumn<QString>("sender");
    QTest::addColumn<QString>("rcpt");
    QTest::addRow("CRLF-in-sender") << "sender@example.com\r\nDATA" << Rcpt;
    QTest::addRow("LF-in-recipient") << Sender << "a@b.test\nRSET";
    QTest::addRow("CR-in-recipient") << Sender << "a@b.test\rX";
    QTest::addRow("NUL-in-sender") << QStringLiteral("a\0b@example.test") << Rcpt;
    QTest::addRow("CRLF-in-quoted-local-part") << Sender << "\"x\r\nRCPT TO:<evil@x>\"@example.com";
}

void TestHostile::crlfInjectionRefusedBeforeConnecting()
{
    QFETCH(QString, sender);
    QFETCH(QString, rcpt);
    START_SERVER(server, {QStringLiteral("ok")}, QString());
    Setup s;
    s.tlsMode = QStringLiteral("never");
    auto c = clientFor(server, s);
    SmtpError e;
    try {
        c->sendMessage(RawMessage(sender, {rcpt}, smallMessage()));
    } catch (const SmtpException &ex) {
        e = ex.error();
    }
    QVERIFY2(e.isError(), "must refuse");
    QCOMPARE(e.code, QStringLiteral("MESSAGE-ERROR"));
    QVERIFY(!server.received(QStringLiteral("MAIL")));
    QVERIFY(!server.received(QStringLiteral("RCPT")));
    QVERIFY(!server.received(QStringLiteral("DATA")));
}

QTEST_GUILESS_MAIN(TestHostile)
#include "tst_hostile.moc"
