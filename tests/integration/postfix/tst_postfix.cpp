// The engine against a real Postfix 3.7 with Dovecot as its SASL service, on
// loopback (tests/servers/mailserver). Every delivered message is read back from
// the Maildir and checked: envelope (Return-Path, X-Original-To) and bytes.

#include "client/smtpclient.h"
#include "events/eventqueue.h"
#include "testservers.h"

#include <QSet>
#include <QTemporaryFile>
#include <QTest>

namespace {

const QString Sender = QStringLiteral("sender@example.test");

// What Postfix stores is the submitted message with LF line ends, after the
// headers it prepends.
QByteArray asStored(const QByteArray &submitted)
{
    QByteArray s = submitted;
    s.replace("\r\n", "\n");
    if (!s.endsWith('\n'))
        s += '\n';
    return s;
}

std::unique_ptr<SmtpClient> makeClient(quint16 port, QStringList *log = nullptr)
{
    const MailEnv &env = MailEnv::get();
    auto c = std::make_unique<SmtpClient>(QStringLiteral("127.0.0.1"), port, SmtpClient::LogFunction(),
                                          [log](const QString &line) {
                                              if (log)
                                                  log->append(line);
                                          });
    c->setCaFile(env.caFile);
    c->setPeerVerifyName(env.certName); // connect to 127.0.0.1, verify "smtp.test"
    c->setEhloName(QStringLiteral("client.smtpscope.test"));
    c->setConnectTimeout(10000);
    c->setReadTimeout(10000);
    return c;
}

QList<SendResult> sendAll(SmtpClient &client, const std::vector<RawMessage> &messages)
{
    QList<const OutgoingMessage *> list;
    for (const RawMessage &m : messages)
        list.append(&m);
    return client.sendMessages(list);
}

// The same test over DATA and over BDAT (Postfix offers CHUNKING).
void dataAndBdatRows()
{
    QTest::addColumn<bool>("chunking");
    QTest::addRow("DATA") << false;
    QTest::addRow("BDAT") << true;
}

} // namespace

class TestPostfix : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { REQUIRE_MAILENV(); }

    void securityModes_data();
    void securityModes();
    void saslMechanisms_data();
    void saslMechanisms();
    void wrongPassword();
    void oauthTokens_data();
    void oauthTokens();
    void fiftyRecipientsOneRefused();
    void hundredMessagesKeptAlive_data();
    void hundredMessagesKeptAlive();
    void batchWithARefusedMessage_data();
    void batchWithARefusedMessage();
    void largeMessageStreamedIntact_data();
    void largeMessageStreamedIntact();
    void smtpUtf8Address();
    void plaintextAuthRefusedBeforeTls();
};

void TestPostfix::securityModes_data()
{
    QTest::addColumn<QString>("mode");
    QTest::addRow("plain") << "plain";
    QTest::addRow("starttls-required") << "starttls";
    QTest::addRow("starttls-opportunistic") << "opportunistic";
    QTest::addRow("implicit-tls") << "implicit";
}

void TestPostfix::securityModes()
{
    QFETCH(QString, mode);
    const MailEnv &env = MailEnv::get();
    auto c = makeClient(mode == u"implicit" ? env.smtpsPort : env.smtpPort);
    if (mode == u"plain")
        c->setStartTlsPolicy(SmtpClient::StartTlsPolicy::Never);
    else if (mode == u"starttls")
        c->tls(true);
    else if (mode == u"implicit")
        c->ssl(true);

    const QByteArray marker = uniqueMarker();
    const QString rcpt = QStringLiteral("mode-%1@example.test").arg(mode);
    const QByteArray msg = testMessage(marker, Sender, {rcpt}, "Hello over " + mode.toUtf8() + "\r\n.leading dot\r\n");
    const SendResult r = c->sendMessage(RawMessage(Sender, {rcpt}, msg));

    QVERIFY(r.accepted);
    QCOMPARE(r.message.code, 250);
    QCOMPARE(r.quit.code, 221);
    QCOMPARE(r.greeting.code, 220);
    QCOMPARE(r.encrypted, mode != u"plain");
    if (mode != u"plain") {
        QVERIFY(r.tls.encrypted);
        QVERIFY2(r.tls.verified, "the test CA signs the server certificate");
        QVERIFY(!r.tls.protocol.isEmpty());
    }
    if (mode == u"starttls" || mode == u"opportunistic") {
        // RFC 3207 4.2: capabilities asked again after TLS; AUTH appears only then
        // (smtpd_tls_auth_only).
        QVERIFY(r.capabilitiesBeforeTls.contains(QStringLiteral("STARTTLS")));
        QVERIFY(!std::any_of(r.capabilitiesBeforeTls.begin(), r.capabilitiesBeforeTls.end(),
                             [](const QString &cap) { return cap.startsWith(u"AUTH"); }));
        QVERIFY(std::any_of(r.capabilities.begin(), r.capabilities.end(),
                            [](const QString &cap) { return cap.startsWith(u"AUTH"); }));
    }
    // Per-step timings, each step named once it happened.
    QStringList steps;
    for (const StepTiming &t : r.timings) {
        QVERIFY2(t.us >= 0, qPrintable(t.step));
        steps.append(t.step);
    }
    QStringList expected{QStringLiteral("connect"), QStringLiteral("greeting"), QStringLiteral("EHLO"),
                         QStringLiteral("MAIL FROM"), QStringLiteral("RCPT TO"), QStringLiteral("QUIT")};
    // Postfix offers CHUNKING: the message goes as BDAT (RFC 3030).
    QVERIFY(r.chunked);
    expected.append(QStringLiteral("BDAT LAST"));
    if (mode == u"starttls" || mode == u"opportunistic")
        expected.append(QStringLiteral("STARTTLS"));
    if (mode != u"plain")
        expected.append(QStringLiteral("tls"));
    for (const QString &step : std::as_const(expected))
        QVERIFY2(steps.contains(step), qPrintable(step + QStringLiteral(" missing from ") + steps.join(u',')));
    // In the order they happened: the handshake right after connect (implicit
    // TLS) or after STARTTLS's 220 (RFC 3207 4).
    QVERIFY2(steps.indexOf(u"connect") < steps.indexOf(u"greeting"), qPrintable(steps.join(u',')));
    if (mode == u"starttls" || mode == u"opportunistic")
        QCOMPARE(steps.indexOf(u"tls"), steps.indexOf(u"STARTTLS") + 1);
    else if (mode == u"implicit")
        QCOMPARE(steps.indexOf(u"tls"), steps.indexOf(u"connect") + 1);

    const QList<QByteArray> got = Maildir::waitFor(env.maildir, marker, 1);
    QCOMPARE(got.size(), 1);
    QCOMPARE(Maildir::header(got.first(), "X-Original-To"), rcpt.toUtf8());
    QCOMPARE(Maildir::header(got.first(), "Return-Path"), "<" + Sender.toUtf8() + ">");
    QCOMPARE(Maildir::submittedPart(got.first(), "X-Test-Id:"), asStored(msg));
}

void TestPostfix::saslMechanisms_data()
{
    QTest::addColumn<QString>("mechanism");
    for (const char *m : {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"})
        QTest::addRow("%s", m) << QString::fromLatin1(m);
    QTest::addRow("auto-strongest") << QString();
}

void TestPostfix::saslMechanisms()
{
    QFETCH(QString, mechanism);
    const MailEnv &env = MailEnv::get();
    QStringList log;
    auto c = makeClient(env.submissionPort, &log);
    c->tls(true);
    c->setUserPass(env.user, env.password);
    c->setAuthMechanism(mechanism);
    EventQueue events;
    c->setEventQueue(&events, QStringLiteral("sasl-test"), true);

    const QByteArray marker = uniqueMarker();
    const QString rcpt = QStringLiteral("auth@example.test");
    const SendResult r = c->sendMessage(RawMessage(Sender, {rcpt}, testMessage(marker, Sender, {rcpt}, "auth\r\n")));
    QVERIFY(r.accepted);
    QCOMPARE(r.authMechanism, mechanism.isEmpty() ? QStringLiteral("SCRAM-SHA-256") : mechanism);
    QVERIFY(!r.authAttempts.isEmpty());
    QCOMPARE(r.authAttempts.last().second.code, 235);
    // The SASL exchange is one timed step, whatever its round trips (LOGIN: 3).
    QCOMPARE(std::count_if(r.timings.begin(), r.timings.end(), [](const StepTiming &t) { return t.step == u"AUTH"; }),
             1);
    QCOMPARE(Maildir::waitFor(env.maildir, marker, 1).size(), 1);

    // No password and no AUTH payload in the transcript, the debug log or the
    // events (which here include raw TLS-layer data: plaintext never appears there).
    const QByteArray pw = env.password.toUtf8();
    const QByteArray plainB64 = QByteArray('\0' + env.user.toUtf8() + '\0' + pw).toBase64();
    const QString transcript = r.transcriptText();
    QVERIFY(!transcript.contains(env.password));
    QVERIFY(!transcript.contains(QString::fromLatin1(pw.toBase64())));
    QVERIFY(!transcript.contains(QString::fromLatin1(plainB64)));
    QVERIFY(transcript.contains(QStringLiteral("AUTH ") + (mechanism.isEmpty() ? QStringLiteral("SCRAM-SHA-256") : mechanism)));
    for (const QString &line : std::as_const(log)) {
        QVERIFY2(!line.contains(env.password), qPrintable(line));
        QVERIFY2(!line.contains(QString::fromLatin1(plainB64)), qPrintable(line));
    }
    int count = 0;
    while (auto e = events.pop(0)) {
        ++count;
        const QString dump = QVariant(*e).toString() + e->value(QStringLiteral("command")).toString()
            + QString::fromLatin1(e->value(QStringLiteral("data")).toByteArray());
        QVERIFY2(!dump.contains(env.password), qPrintable(dump));
        QVERIFY2(!dump.contains(QString::fromLatin1(plainB64)), qPrintable(dump));
        QCOMPARE(e->value(QStringLiteral("arg")).toString(), QStringLiteral("sasl-test"));
    }
    QVERIFY(count > 10);
}

void TestPostfix::wrongPassword()
{
    const MailEnv &env = MailEnv::get();
    auto c = makeClient(env.submissionPort);
    c->tls(true);
    c->setUserPass(env.user, QStringLiteral("not-the-password"));
    c->setAuthMechanism(QStringLiteral("PLAIN"));
    try {
        c->sendMessage(RawMessage(Sender, {QStringLiteral("x@example.test")}, "Subject: x\r\n\r\nx\r\n"));
        QFAIL("a wrong password must fail");
    } catch (const SmtpException &e) {
        QCOMPARE(e.error().category, SmtpError::Category::Auth);
        QCOMPARE(e.error().replyCode, 535);
        QVERIFY(e.error().step.startsWith(QStringLiteral("AUTH")));
        QVERIFY(!e.error().toString().contains(QStringLiteral("not-the-password")));
    }
}

void TestPostfix::oauthTokens_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<bool>("goodToken");
    QTest::addRow("XOAUTH2") << "XOAUTH2" << true;
    QTest::addRow("OAUTHBEARER") << "OAUTHBEARER" << true;
    QTest::addRow("auto-picks-OAUTHBEARER") << "" << true;
    QTest::addRow("XOAUTH2-bad-token") << "XOAUTH2" << false;
    QTest::addRow("OAUTHBEARER-bad-token") << "OAUTHBEARER" << false;
}

void TestPostfix::oauthTokens()
{
    // Dovecot validates the JWT locally (tests/servers/dovecot); nothing leaves loopback.
    QFETCH(QString, mechanism);
    QFETCH(bool, goodToken);
    const MailEnv &env = MailEnv::get();
    QVERIFY2(!env.oauthToken.isEmpty(), "the mail server env has no OAUTH_TOKEN");
    QStringList log;
    auto c = makeClient(env.submissionPort, &log);
    c->tls(true);
    const QByteArray token = goodToken ? env.oauthToken : env.oauthBadToken;
    c->setOAuthToken(env.user, token);
    c->setAuthMechanism(mechanism);
    const QByteArray marker = uniqueMarker();
    const QString rcpt = QStringLiteral("oauth@example.test");
    SendResult r;
    SmtpError error;
    try {
        r = c->sendMessage(RawMessage(Sender, {rcpt}, testMessage(marker, Sender, {rcpt}, "oauth\r\n")));
    } catch (const SmtpException &e) {
        error = e.error();
    }
    if (goodToken) {
        QVERIFY2(!error.isError(), qPrintable(error.toString()));
        QCOMPARE(r.authMechanism, mechanism.isEmpty() ? QStringLiteral("OAUTHBEARER") : mechanism);
        QCOMPARE(Maildir::waitFor(env.maildir, marker, 1).size(), 1);
        QVERIFY(!r.transcriptText().contains(QString::fromLatin1(token)));
    } else {
        QCOMPARE(error.category, SmtpError::Category::Auth);
        QCOMPARE(error.replyCode, 535);
        QVERIFY(!error.toString().contains(QString::fromLatin1(token)));
    }
    for (const QString &line : std::as_const(log))
        QVERIFY2(!line.contains(QString::fromLatin1(token)), qPrintable(line));
}

void TestPostfix::fiftyRecipientsOneRefused()
{
    const MailEnv &env = MailEnv::get();
    auto c = makeClient(env.smtpPort);
    c->tls(true);
    QStringList rcpts;
    for (int i = 0; i < 50; ++i)
        rcpts.append(i == 17 ? env.refusedRcpt : QStringLiteral("r%1@example.test").arg(i));
    const QByteArray marker = uniqueMarker();
    const SendResult r = c->sendMessage(RawMessage(Sender, rcpts, testMessage(marker, Sender, {"list@example.test"}, "fifty\r\n")));
    QVERIFY(r.accepted);
    QCOMPARE(r.recipients.size(), 50);
    QCOMPARE(r.refusedRecipients(), QStringList{env.refusedRcpt});
    QCOMPARE(r.recipients.at(17).reply.code, 550);
    QCOMPARE(r.recipients.at(17).reply.enhanced, QStringLiteral("5.1.1"));
    QVERIFY(r.pipelined);
    const QList<QByteArray> got = Maildir::waitFor(env.maildir, marker, 49);
    QCOMPARE(got.size(), 49);
    QSet<QByteArray> to;
    for (const QByteArray &m : got)
        to.insert(Maildir::header(m, "X-Original-To"));
    QCOMPARE(to.size(), 49);
    QVERIFY(!to.contains(env.refusedRcpt.toUtf8()));
}

void TestPostfix::hundredMessagesKeptAlive_data()
{
    dataAndBdatRows();
}

void TestPostfix::hundredMessagesKeptAlive()
{
    QFETCH(bool, chunking);
    const MailEnv &env = MailEnv::get();
    auto c = makeClient(env.smtpPort);
    c->tls(true);
    c->setKeepAlive(true);
    c->setChunking(chunking);
    const QByteArray marker = uniqueMarker();
    std::vector<RawMessage> msgs;
    QList<QByteArray> bodies;
    for (int i = 0; i < 100; ++i) {
        const QString rcpt = QStringLiteral("bulk%1@example.test").arg(i);
        bodies.append(testMessage(marker + '-' + QByteArray::number(i), Sender, {rcpt},
                                  "message " + QByteArray::number(i) + "\r\n.\r\n..\r\nend\r\n"));
        msgs.emplace_back(Sender, QStringList{rcpt}, bodies.last());
    }
    const QList<SendResult> results = sendAll(*c, msgs);
    QCOMPARE(results.size(), 100);
    for (const SendResult &r : results) {
        QVERIFY2(r.accepted, qPrintable(r.error.toString()));
        QCOMPARE(r.chunked, chunking);
    }
    QVERIFY(c->isConnected()); // kept alive
    // Still usable: one more message over the same session (NOOP-checked reuse).
    const QByteArray extra = uniqueMarker();
    QVERIFY(c->sendMessage(RawMessage(Sender, {"extra@example.test"}, testMessage(extra, Sender, {"extra@example.test"}, "x\r\n"))).accepted);
    c->disconnect();
    QVERIFY(!c->isConnected());

    const QList<QByteArray> got = Maildir::waitFor(env.maildir, marker, 100, 30000);
    QCOMPARE(got.size(), 100);
    for (const QByteArray &m : got) {
        const QByteArray id = Maildir::header(m, "X-Test-Id");
        const int i = id.mid(id.lastIndexOf('-') + 1).toInt();
        QCOMPARE(Maildir::submittedPart(m, "X-Test-Id:"), asStored(bodies.at(i)));
        QCOMPARE(Maildir::header(m, "X-Original-To"), QStringLiteral("bulk%1@example.test").arg(i).toUtf8());
    }
    QCOMPARE(Maildir::waitFor(env.maildir, extra, 1).size(), 1);
}

void TestPostfix::batchWithARefusedMessage_data()
{
    dataAndBdatRows();
}

void TestPostfix::batchWithARefusedMessage()
{
    // A message whose only recipient is refused, in the middle of a pipelined
    // batch: it fails alone; the messages behind it (pipelined before its
    // outcome was known) are delivered.
    QFETCH(bool, chunking);
    const MailEnv &env = MailEnv::get();
    auto c = makeClient(env.smtpPort);
    c->tls(true);
    c->setChunking(chunking);
    const QByteArray marker = uniqueMarker();
    std::vector<RawMessage> msgs;
    for (int i = 0; i < 10; ++i) {
        const QString rcpt = i == 4 ? env.refusedRcpt : QStringLiteral("batch%1@example.test").arg(i);
        msgs.emplace_back(Sender, QStringList{rcpt},
                          testMessage(marker + '-' + QByteArray::number(i), Sender, {rcpt}, "batch\r\n"));
    }
    const QList<SendResult> results = sendAll(*c, msgs);
    QCOMPARE(results.size(), 10);
    for (int i = 0; i < 10; ++i) {
        if (i == 4) {
            QVERIFY(!results.at(i).accepted);
            QCOMPARE(results.at(i).error.step, QStringLiteral("RCPT TO"));
            QCOMPARE(results.at(i).recipients.first().reply.code, 550);
        } else {
            QVERIFY2(results.at(i).accepted, qPrintable(results.at(i).error.toString()));
        }
    }
    QCOMPARE(Maildir::waitFor(env.maildir, marker, 9).size(), 9);
}

void TestPostfix::largeMessageStreamedIntact_data()
{
    dataAndBdatRows();
}

void TestPostfix::largeMessageStreamedIntact()
{
    QFETCH(bool, chunking);
    const MailEnv &env = MailEnv::get();
    auto c = makeClient(env.smtpPort);
    c->tls(true);
    c->setChunking(chunking);
    const QByteArray marker = uniqueMarker();
    // 8 MB of lines, some starting with dots, with bare LF endings in places:
    // the stored copy must equal the input with CRLF normalised and no stuffing left.
    QByteArray body;
    body.reserve(8 * 1024 * 1024 + 100);
    int i = 0;
    while (body.size() < 8 * 1024 * 1024) {
        body += (i % 7 == 0 ? "." : "") + QByteArray::number(i) + " the quick brown fox jumps over the lazy dog";
        body += (i % 5 == 0) ? "\n" : "\r\n";
        ++i;
    }
    QTemporaryFile file;
    QVERIFY(file.open());
    const QByteArray msg = testMessage(marker, Sender, {"big@example.test"}, body);
    file.write(msg);
    file.close();
    const SendResult r = c->sendMessage(RawMessage::fromFile(Sender, {"big@example.test"}, file.fileName()));
    QVERIFY(r.accepted);
    QCOMPARE(r.chunked, chunking);
    QCOMPARE(r.messageBytes, msg.size());
    const QString finalStep = chunking ? QStringLiteral("BDAT LAST") : QStringLiteral("end of data");
    QVERIFY(std::any_of(r.timings.begin(), r.timings.end(), [&](const StepTiming &t) { return t.step == finalStep; }));
    const QList<QByteArray> got = Maildir::waitFor(env.maildir, marker, 1, 30000);
    QCOMPARE(got.size(), 1);
    QVERIFY(Maildir::submittedPart(got.first(), "X-Test-Id:") == asStored(msg));
}

void TestPostfix::smtpUtf8Address()
{
    const MailEnv &env = MailEnv::get();
    auto c = makeClient(env.smtpPort);
    c->tls(true);
    const QString rcpt = QStringLiteral("j\u00f6rg@example.test");
    const QByteArray marker = uniqueMarker();
    const SendResult r = c->sendMessage(RawMessage(Sender, {rcpt}, testMessage(marker, Sender, {"utf8@example.test"}, "utf8\r\n")));
    QVERIFY(r.accepted);
    const QList<QByteArray> got = Maildir::waitFor(env.maildir, marker, 1);
    QCOMPARE(got.size(), 1);
    QCOMPARE(QString::fromUtf8(Maildir::header(got.first(), "X-Original-To")), rcpt);
}

void TestPostfix::plaintextAuthRefusedBeforeTls()
{
    // Credentials with STARTTLS turned off: refused by the client before any AUTH.
    const MailEnv &env = MailEnv::get();
    auto c = makeClient(env.smtpPort);
    c->setStartTlsPolicy(SmtpClient::StartTlsPolicy::Never);
    c->setUserPass(env.user, env.password);
    try {
        c->sendMessage(RawMessage(Sender, {"x@example.test"}, "Subject: x\r\n\r\nx\r\n"));
        QFAIL("must refuse");
    } catch (const SmtpException &e) {
        QCOMPARE(e.error().category, SmtpError::Category::Auth);
    }
}

QTEST_GUILESS_MAIN(TestPostfix)
#include "tst_postfix.moc"
