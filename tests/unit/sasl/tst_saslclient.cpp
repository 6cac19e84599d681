// Tests of Smtp::SaslClient: RFC test vectors (RFC 4616, RFC 2195, RFC 5802,
// RFC 7677, RFC 7628), OAuth error handling, mechanism choice and the limits
// against hostile servers (docs/security.md).
//
// libgsasl 2.2 draws the SCRAM client nonce from getrandom() with no hook to
// fix it, so the RFC 5802/7677 exchanges cannot be replayed byte for byte.
// Instead: (1) an independent SCRAM computation written here with Qt's PBKDF2
// and HMAC is first checked against both RFC exchanges, then used to check the
// client's proof for the RFC's password, salt and iteration count around the
// client's own nonce; (2) the client runs against libgsasl's SERVER side, real
// computation on both sides; (3) tampered server signatures must fail.

#include <protocol/sasl.h>

#include <gsasl.h>

#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QMessageAuthenticationCode>
#include <QPasswordDigestor>
#include <QTest>
#include <QThread>

#include <atomic>
#include <memory>
#include <vector>

using Smtp::SaslClient;
using Smtp::SaslCredentials;
using Step = SaslClient::Step;

Q_DECLARE_METATYPE(SaslCredentials)

namespace {

SaslCredentials passwordCredentials(const QString &user, const QString &password,
                                    const QString &authzid = {})
{
    SaslCredentials c;
    c.user = user;
    c.password = password;
    c.authzid = authzid;
    return c;
}

SaslCredentials tokenCredentials(const QString &user, const QByteArray &token,
                                 const QString &host = {}, quint16 port = 0)
{
    SaslCredentials c;
    c.user = user;
    c.oauthToken = token;
    c.host = host;
    c.port = port;
    return c;
}

// The secrets of `c` must never appear in an error text, raw or base64.
bool leaksSecret(const QString &text, const SaslCredentials &c)
{
    const QByteArray utf8 = text.toUtf8();
    auto contains = [&utf8](const QByteArray &secret) {
        return !secret.isEmpty()
               && (utf8.contains(secret) || utf8.contains(secret.toBase64()));
    };
    return contains(c.password.toUtf8()) || contains(c.oauthToken);
}

// ---- An independent SCRAM computation (RFC 5802 3), for checking the client ----

struct ScramProof
{
    QByteArray clientProof;     // base64
    QByteArray serverSignature; // base64
};

ScramProof scramReference(QCryptographicHash::Algorithm hash, const QByteArray &password,
                          const QByteArray &saltBase64, int iterations,
                          const QByteArray &clientFirstBare, const QByteArray &serverFirst,
                          const QByteArray &clientFinalWithoutProof)
{
    const int hashLen = QCryptographicHash::hashLength(hash);
    const QByteArray salted = QPasswordDigestor::deriveKeyPbkdf2(
        hash, password, QByteArray::fromBase64(saltBase64), iterations, static_cast<quint64>(hashLen));
    const QByteArray clientKey = QMessageAuthenticationCode::hash("Client Key", salted, hash);
    const QByteArray storedKey = QCryptographicHash::hash(clientKey, hash);
    const QByteArray authMessage = clientFirstBare + ',' + serverFirst + ',' + clientFinalWithoutProof;
    const QByteArray clientSignature = QMessageAuthenticationCode::hash(authMessage, storedKey, hash);
    QByteArray proof = clientKey;
    for (int i = 0; i < hashLen; ++i)
        proof[i] = static_cast<char>(proof.at(i) ^ clientSignature.at(i));
    const QByteArray serverKey = QMessageAuthenticationCode::hash("Server Key", salted, hash);
    const QByteArray serverSignature = QMessageAuthenticationCode::hash(authMessage, serverKey, hash);
    return {proof.toBase64(), serverSignature.toBase64()};
}

QCryptographicHash::Algorithm scramHash(const QString &mechanism)
{
    return mechanism == u"SCRAM-SHA-256" ? QCryptographicHash::Sha256 : QCryptographicHash::Sha1;
}

// RFC 5802 5 and RFC 7677 3: user "user", password "pencil".
struct RfcScram
{
    const char *mechanism;
    const char *clientNonce;
    const char *serverFirst;
    const char *clientFinal;
    const char *serverFinal;
};

const RfcScram kRfc5802 = {
    "SCRAM-SHA-1", "fyko+d2lbbFgONRv9qkxdawL",
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="};

const RfcScram kRfc7677 = {
    "SCRAM-SHA-256", "rOprNGfwEbeRWgbNEkqO",
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="};

const RfcScram &rfcFor(const QString &mechanism)
{
    return mechanism == u"SCRAM-SHA-256" ? kRfc7677 : kRfc5802;
}

// The part of the RFC server nonce after the client nonce.
QByteArray rfcServerNoncePart(const RfcScram &rfc)
{
    const QByteArray full = QByteArray(rfc.serverFirst).split(',').at(0).mid(2);
    return full.mid(qstrlen(rfc.clientNonce));
}

QByteArray rfcSalt(const RfcScram &rfc)
{
    return QByteArray(rfc.serverFirst).split(',').at(1).mid(2);
}

// Flips one character of the base64 value after "v=", keeping it valid base64.
QByteArray tamperVerifier(QByteArray serverFinal)
{
    const qsizetype i = serverFinal.indexOf("v=") + 3;
    serverFinal[i] = serverFinal.at(i) == 'A' ? 'B' : 'A';
    return serverFinal;
}

// Runs the client until it produced client-final for a server-first built from
// the RFC's salt and iteration count around the client's own nonce. Returns the
// server signature the independent computation expects.
struct ScramSetup
{
    QByteArray clientFirst, serverFirst, clientFinal, expectedServerFinal;
};

bool runScramToClientFinal(SaslClient &client, const QString &mechanism, ScramSetup *out)
{
    const RfcScram &rfc = rfcFor(mechanism);
    QString error;
    if (!client.start(mechanism, passwordCredentials(QStringLiteral("user"), QStringLiteral("pencil")), &error))
        return false;
    if (!client.initialResponse(&out->clientFirst, &error))
        return false;
    if (!out->clientFirst.startsWith("n,,n=user,r="))
        return false;
    const QByteArray clientNonce = out->clientFirst.mid(qstrlen("n,,n=user,r="));
    const QByteArray nonce = clientNonce + rfcServerNoncePart(rfc);
    out->serverFirst = "r=" + nonce + ",s=" + rfcSalt(rfc) + ",i=4096";
    if (client.step(out->serverFirst, &out->clientFinal, &error) != Step::Continue)
        return false;
    const QByteArray withoutProof = "c=biws,r=" + nonce;
    const ScramProof ref = scramReference(scramHash(mechanism), "pencil", rfcSalt(rfc), 4096,
                                          out->clientFirst.mid(3), out->serverFirst, withoutProof);
    if (out->clientFinal != withoutProof + ",p=" + ref.clientProof)
        return false;
    out->expectedServerFinal = "v=" + ref.serverSignature;
    return true;
}

// ---- libgsasl's server side, a second real implementation to talk to ----

struct ServerSession
{
    Gsasl_session *session = nullptr;
    ~ServerSession()
    {
        if (session)
            gsasl_finish(session);
    }
};

struct ExchangeResult
{
    bool serverAccepted = false;
    Step clientFinalStep = Step::Failed;
    QByteArray serverAuthid, serverAuthzid;
    QString clientError;
};

// Full SCRAM exchange between SaslClient and a libgsasl server session.
ExchangeResult scramWithGsaslServer(Gsasl *serverCtx, const QString &mechanism,
                                    const SaslCredentials &clientCreds, const QByteArray &serverPassword,
                                    bool tamperServerFinal)
{
    ExchangeResult r;
    ServerSession server;
    if (gsasl_server_start(serverCtx, mechanism.toLatin1().constData(), &server.session) != GSASL_OK)
        return r;
    gsasl_property_set(server.session, GSASL_PASSWORD, serverPassword.constData());

    SaslClient client;
    if (!client.start(mechanism, clientCreds, &r.clientError))
        return r;
    QByteArray clientMsg;
    if (!client.initialResponse(&clientMsg, &r.clientError))
        return r;

    auto serverStep = [&server](const QByteArray &in, QByteArray *outMsg) {
        char *o = nullptr;
        size_t olen = 0;
        const int rc = gsasl_step(server.session, in.constData(), static_cast<size_t>(in.size()), &o, &olen);
        if (o) {
            *outMsg = QByteArray(o, static_cast<qsizetype>(olen));
            gsasl_free(o);
        }
        return rc;
    };

    QByteArray serverFirst;
    if (serverStep(clientMsg, &serverFirst) != GSASL_NEEDS_MORE)
        return r;
    if (client.step(serverFirst, &clientMsg, &r.clientError) != Step::Continue)
        return r;
    QByteArray serverFinal;
    const int rc = serverStep(clientMsg, &serverFinal);
    r.serverAccepted = rc == GSASL_OK;
    if (const char *p = gsasl_property_fast(server.session, GSASL_AUTHID))
        r.serverAuthid = p;
    if (const char *p = gsasl_property_fast(server.session, GSASL_AUTHZID))
        r.serverAuthzid = p;
    if (!r.serverAccepted)
        return r;
    if (tamperServerFinal)
        serverFinal = tamperVerifier(serverFinal);
    QByteArray last;
    r.clientFinalStep = client.step(serverFinal, &last, &r.clientError);
    if (r.clientFinalStep == Step::Done && !last.isEmpty())
        r.clientFinalStep = Step::Failed; // RFC 4954 4: the answer to server-final is empty
    return r;
}

} // namespace

class tst_SaslClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void supportedMechanisms();
    void choose_data();
    void choose();
    void exposesSecret_data();
    void exposesSecret();
    void startRefuses_data();
    void startRefuses();
    void notStarted();

    void plainRfc4616_data();
    void plainRfc4616();
    void cramMd5Rfc2195_data();
    void cramMd5Rfc2195();
    void loginOrder_data();
    void loginOrder();

    void scramReferenceMatchesRfc_data();
    void scramReferenceMatchesRfc();
    void scramRfcParameters_data();
    void scramRfcParameters();
    void scramBadServerFirst_data();
    void scramBadServerFirst();
    void scramAgainstGsaslServer_data();
    void scramAgainstGsaslServer();
    void scramConcurrentSessions();

    void tokenInitialResponse_data();
    void tokenInitialResponse();
    void tokenWithoutInitialResponse_data();
    void tokenWithoutInitialResponse();
    void oauthErrorChallenge_data();
    void oauthErrorChallenge();

    void authLoopIsBounded_data();
    void authLoopIsBounded();
    void oversizeChallenge_data();
    void oversizeChallenge();
    void restartResetsState();

private:
    Gsasl *m_serverCtx = nullptr;
};

void tst_SaslClient::initTestCase()
{
    // The server side gets its own context: the client's context is private
    // to core and must stay callback-free.
    QCOMPARE(gsasl_init(&m_serverCtx), GSASL_OK);
}

void tst_SaslClient::cleanupTestCase()
{
    if (m_serverCtx)
        gsasl_done(m_serverCtx);
}

void tst_SaslClient::supportedMechanisms()
{
    QCOMPARE(SaslClient::supportedMechanisms(),
             QStringList({"SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN",
                          "OAUTHBEARER", "XOAUTH2"}));
}

void tst_SaslClient::choose_data()
{
    QTest::addColumn<QStringList>("offered");
    QTest::addColumn<SaslCredentials>("credentials");
    QTest::addColumn<QString>("expected");

    const SaslCredentials pw = passwordCredentials("alice", "secret");
    const SaslCredentials tok = tokenCredentials("alice@example.org", "ya29.token");
    SaslCredentials both = pw;
    both.oauthToken = "ya29.token";
    const SaslCredentials withAuthzid = passwordCredentials("alice", "secret", "bob");

    QTest::addRow("all, password: strongest") << QStringList{"LOGIN", "PLAIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "XOAUTH2", "OAUTHBEARER"} << pw << "SCRAM-SHA-256";
    QTest::addRow("sha1 over cram") << QStringList{"CRAM-MD5", "SCRAM-SHA-1"} << pw << "SCRAM-SHA-1";
    QTest::addRow("cram over plain") << QStringList{"PLAIN", "LOGIN", "CRAM-MD5"} << pw << "CRAM-MD5";
    QTest::addRow("plain over login") << QStringList{"LOGIN", "PLAIN"} << pw << "PLAIN";
    QTest::addRow("login only") << QStringList{"LOGIN"} << pw << "LOGIN";
    QTest::addRow("lower case") << QStringList{"plain", "login"} << pw << "PLAIN";
    QTest::addRow("mixed case scram") << QStringList{"Scram-Sha-256"} << pw << "SCRAM-SHA-256";
    QTest::addRow("unknown ignored") << QStringList{"X-FOO", "GSSAPI", "NTLM", "LOGIN"} << pw << "LOGIN";
    QTest::addRow("only unknown") << QStringList{"GSSAPI", "DIGEST-MD5"} << pw << "";
    QTest::addRow("PLUS variants not chosen") << QStringList{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "PLAIN"} << pw << "PLAIN";
    QTest::addRow("nothing offered") << QStringList{} << pw << "";
    QTest::addRow("password never picks token mechs") << QStringList{"XOAUTH2", "OAUTHBEARER"} << pw << "";
    QTest::addRow("token: oauthbearer over xoauth2") << QStringList{"XOAUTH2", "OAUTHBEARER", "PLAIN"} << tok << "OAUTHBEARER";
    QTest::addRow("token: xoauth2") << QStringList{"PLAIN", "XOAUTH2"} << tok << "XOAUTH2";
    QTest::addRow("token never picks password mechs") << QStringList{"PLAIN", "LOGIN", "SCRAM-SHA-256"} << tok << "";
    QTest::addRow("token and password: token only") << QStringList{"SCRAM-SHA-256", "XOAUTH2"} << both << "XOAUTH2";
    QTest::addRow("token and password, no token mech") << QStringList{"SCRAM-SHA-256", "PLAIN"} << both << "";
    QTest::addRow("xoauth2 needs a user") << QStringList{"XOAUTH2"} << tokenCredentials("", "ya29.token") << "";
    QTest::addRow("oauthbearer without user") << QStringList{"XOAUTH2", "OAUTHBEARER"} << tokenCredentials("", "ya29.token") << "OAUTHBEARER";
    QTest::addRow("no credentials") << QStringList{"PLAIN", "XOAUTH2"} << SaslCredentials{} << "";
    QTest::addRow("empty password") << QStringList{"PLAIN"} << passwordCredentials("alice", "") << "";
    QTest::addRow("empty user") << QStringList{"PLAIN"} << passwordCredentials("", "secret") << "";
    QTest::addRow("authzid skips cram and login") << QStringList{"LOGIN", "CRAM-MD5", "PLAIN"} << withAuthzid << "PLAIN";
    QTest::addRow("authzid, only login") << QStringList{"LOGIN"} << withAuthzid << "";
    QTest::addRow("whitespace around names") << QStringList{" PLAIN "} << pw << "PLAIN";

    QStringList many;
    for (int i = 0; i < 5000; ++i)
        many << QStringLiteral("X-MECH-%1").arg(i);
    many << "CRAM-MD5";
    QTest::addRow("5000 unknown names") << many << pw << "CRAM-MD5";
}

void tst_SaslClient::choose()
{
    QFETCH(QStringList, offered);
    QFETCH(SaslCredentials, credentials);
    QFETCH(QString, expected);
    QCOMPARE(SaslClient::choose(offered, credentials), expected);
}

void tst_SaslClient::exposesSecret_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<bool>("exposes");
    QTest::addRow("PLAIN") << "PLAIN" << true;
    QTest::addRow("LOGIN") << "LOGIN" << true;
    QTest::addRow("XOAUTH2") << "XOAUTH2" << true;
    QTest::addRow("OAUTHBEARER") << "OAUTHBEARER" << true;
    QTest::addRow("CRAM-MD5") << "CRAM-MD5" << false;
    QTest::addRow("SCRAM-SHA-1") << "SCRAM-SHA-1" << false;
    QTest::addRow("SCRAM-SHA-256") << "SCRAM-SHA-256" << false;
    QTest::addRow("lower plain") << "plain" << true;
    QTest::addRow("lower scram") << "scram-sha-256" << false;
    QTest::addRow("unknown is treated as exposing") << "X-UNKNOWN" << true;
    QTest::addRow("empty") << "" << true;
}

void tst_SaslClient::exposesSecret()
{
    QFETCH(QString, mechanism);
    QFETCH(bool, exposes);
    QCOMPARE(SaslClient::exposesSecret(mechanism), exposes);
}

void tst_SaslClient::startRefuses_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<SaslCredentials>("credentials");
    QTest::addColumn<QString>("errorPart");

    const QString nul(QChar(u'\0'));
    QTest::addRow("plain NUL in user") << "PLAIN" << passwordCredentials("ti" + nul + "m", "tanstaaf") << "NUL";
    QTest::addRow("plain NUL in password") << "PLAIN" << passwordCredentials("tim", "tan" + nul + "staaf") << "NUL";
    QTest::addRow("plain NUL in authzid") << "PLAIN" << passwordCredentials("tim", "tanstaaf", "ad" + nul + "min") << "NUL";
    QTest::addRow("scram NUL in password") << "SCRAM-SHA-256" << passwordCredentials("tim", "tan" + nul + "staaf") << "NUL";
    QTest::addRow("login NUL in user") << "LOGIN" << passwordCredentials(nul + "tim", "tanstaaf") << "NUL";
    QTest::addRow("plain empty password") << "PLAIN" << passwordCredentials("tim", "") << "no password";
    QTest::addRow("scram empty password") << "SCRAM-SHA-1" << passwordCredentials("tim", "") << "no password";
    QTest::addRow("cram empty password") << "CRAM-MD5" << passwordCredentials("tim", "") << "no password";
    QTest::addRow("login empty user") << "LOGIN" << passwordCredentials("", "pw-secret-1") << "no user";
    QTest::addRow("login with authzid") << "LOGIN" << passwordCredentials("tim", "pw-secret-1", "boss") << "authorization identity";
    QTest::addRow("cram with authzid") << "CRAM-MD5" << passwordCredentials("tim", "pw-secret-1", "boss") << "authorization identity";
    QTest::addRow("xoauth2 empty token") << "XOAUTH2" << tokenCredentials("tim@example.org", {}) << "token";
    QTest::addRow("oauthbearer empty token") << "OAUTHBEARER" << tokenCredentials("tim@example.org", {}) << "token";
    QTest::addRow("xoauth2 password only") << "XOAUTH2" << passwordCredentials("tim", "pw-secret-1") << "token";
    QTest::addRow("xoauth2 empty user") << "XOAUTH2" << tokenCredentials("", "ya29.abc") << "user name";
    QTest::addRow("xoauth2 token with ^A") << "XOAUTH2" << tokenCredentials("tim", "ya29\x01" "abc") << "token";
    QTest::addRow("oauthbearer token with space") << "OAUTHBEARER" << tokenCredentials("tim", "ya29 abc") << "token";
    QTest::addRow("oauthbearer token with CRLF") << "OAUTHBEARER" << tokenCredentials("tim", "ya29\r\nabc") << "token";
    QTest::addRow("xoauth2 user with ^A") << "XOAUTH2" << tokenCredentials("tim\x01" "auth=Bearer x", "ya29.abc") << "user name";
    QTest::addRow("oauthbearer host with ^A") << "OAUTHBEARER" << tokenCredentials("tim", "ya29.abc", "smtp\x01" "x") << "host";
    QTest::addRow("unknown mechanism") << "DIGEST-MD5" << passwordCredentials("tim", "pw-secret-1") << "unsupported";
    QTest::addRow("channel binding variant") << "SCRAM-SHA-256-PLUS" << passwordCredentials("tim", "pw-secret-1") << "unsupported";
    QTest::addRow("empty mechanism") << "" << passwordCredentials("tim", "pw-secret-1") << "unsupported";
}

void tst_SaslClient::startRefuses()
{
    QFETCH(QString, mechanism);
    QFETCH(SaslCredentials, credentials);
    QFETCH(QString, errorPart);

    SaslClient client;
    QString error;
    QVERIFY(!client.start(mechanism, credentials, &error));
    QVERIFY2(error.contains(errorPart, Qt::CaseInsensitive), qPrintable(error));
    QVERIFY(!leaksSecret(error, credentials));
    // Nothing may be produced after a refused start.
    QByteArray response = "untouched";
    QVERIFY(!client.initialResponse(&response, &error));
    QVERIFY(response.isEmpty());
    QCOMPARE(client.step("challenge", &response, &error), Step::Failed);
    QVERIFY(response.isEmpty());
}

void tst_SaslClient::notStarted()
{
    SaslClient client;
    QString error;
    QByteArray response;
    QVERIFY(client.mechanism().isEmpty());
    QVERIFY(!client.hasInitialResponse());
    QVERIFY(!client.initialResponse(&response, &error));
    QVERIFY(!error.isEmpty());
    error.clear();
    QCOMPARE(client.step({}, &response, &error), Step::Failed);
    QVERIFY(!error.isEmpty());
    QVERIFY(client.verifyServerFinal({}, &error));
}

void tst_SaslClient::plainRfc4616_data()
{
    QTest::addColumn<QString>("authzid");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QByteArray>("expected");
    QTest::addColumn<bool>("viaEmptyChallenge");

    // RFC 4616 4, both examples.
    const QByteArray tim("\0tim\0tanstaaftanstaaf", 21);
    const QByteArray kurt("Ursel\0Kurt\0xipj3plmq", 20);
    QTest::addRow("tim, initial response") << "" << "tim" << "tanstaaftanstaaf" << tim << false;
    QTest::addRow("Ursel/Kurt, initial response") << "Ursel" << "Kurt" << "xipj3plmq" << kurt << false;
    QTest::addRow("tim, after empty 334") << "" << "tim" << "tanstaaftanstaaf" << tim << true;
    QTest::addRow("Ursel/Kurt, after empty 334") << "Ursel" << "Kurt" << "xipj3plmq" << kurt << true;
    // CR/LF are harmless: the caller base64-encodes (docs/security.md).
    QTest::addRow("CRLF in user stays data") << "" << "u\r\nMAIL FROM:<x>" << "pw"
                                             << QByteArray("\0u\r\nMAIL FROM:<x>\0pw", 20) << false;
}

void tst_SaslClient::plainRfc4616()
{
    QFETCH(QString, authzid);
    QFETCH(QString, user);
    QFETCH(QString, password);
    QFETCH(QByteArray, expected);
    QFETCH(bool, viaEmptyChallenge);

    SaslClient client;
    QString error;
    QVERIFY2(client.start("PLAIN", passwordCredentials(user, password, authzid), &error), qPrintable(error));
    QCOMPARE(client.mechanism(), QStringLiteral("PLAIN"));
    QVERIFY(client.hasInitialResponse());
    QByteArray response;
    if (viaEmptyChallenge) {
        QCOMPARE(client.step({}, &response, &error), Step::Done);
    } else {
        QVERIFY2(client.initialResponse(&response, &error), qPrintable(error));
    }
    QCOMPARE(response, expected);
    QVERIFY(client.verifyServerFinal({}, &error));

    // PLAIN is one message: a further challenge ends the exchange with "*".
    QCOMPARE(client.step("more?", &response, &error), Step::Failed);
    QVERIFY(response.isEmpty());
    QVERIFY(!client.failureHasResponse());
    QVERIFY(!leaksSecret(error, passwordCredentials(user, password)));
}

void tst_SaslClient::cramMd5Rfc2195_data()
{
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QByteArray>("challenge");
    QTest::addColumn<QByteArray>("expected");

    // RFC 2195 2.
    QTest::addRow("rfc2195") << "tim" << "tanstaaftanstaaf"
                             << QByteArray("<1896.697170952@postoffice.reston.mci.net>")
                             << QByteArray("tim b913a602c7eda7a495b4e6e7334d3890");
    // Same secret, another challenge: the answer must depend on the challenge.
    const QByteArray other = "<1897.697170952@postoffice.reston.mci.net>";
    const QByteArray otherDigest = QMessageAuthenticationCode::hash(other, "tanstaaftanstaaf",
                                                                    QCryptographicHash::Md5).toHex();
    QTest::addRow("other challenge") << "tim" << "tanstaaftanstaaf" << other << QByteArray("tim " + otherDigest);
}

void tst_SaslClient::cramMd5Rfc2195()
{
    QFETCH(QString, user);
    QFETCH(QString, password);
    QFETCH(QByteArray, challenge);
    QFETCH(QByteArray, expected);

    SaslClient client;
    QString error;
    QVERIFY2(client.start("CRAM-MD5", passwordCredentials(user, password), &error), qPrintable(error));
    QVERIFY(!client.hasInitialResponse());
    QByteArray response;
    QVERIFY(!client.initialResponse(&response, &error));

    // RFC 2195 2: an empty challenge is not a challenge.
    SaslClient emptyChallenge;
    QVERIFY(emptyChallenge.start("CRAM-MD5", passwordCredentials(user, password), &error));
    QCOMPARE(emptyChallenge.step({}, &response, &error), Step::Failed);
    QVERIFY(!emptyChallenge.failureHasResponse());

    QCOMPARE(client.step(challenge, &response, &error), Step::Done);
    QCOMPARE(response, expected);
    QCOMPARE(client.step(challenge, &response, &error), Step::Failed);
    QVERIFY(response.isEmpty());
}

void tst_SaslClient::loginOrder_data()
{
    QTest::addColumn<QByteArray>("first");
    QTest::addColumn<QByteArray>("second");

    QTest::addRow("aiosmtpd") << QByteArray("User Name\0", 10) << QByteArray("Password\0", 9);
    QTest::addRow("postfix/dovecot") << QByteArray("Username:") << QByteArray("Password:");
    QTest::addRow("prompts swapped") << QByteArray("Password:") << QByteArray("Username:");
    QTest::addRow("empty prompts") << QByteArray() << QByteArray();
    QTest::addRow("binary prompts") << QByteArray("\xff\xfe\x01", 3) << QByteArray("\x00\x00", 2);
}

void tst_SaslClient::loginOrder()
{
    QFETCH(QByteArray, first);
    QFETCH(QByteArray, second);

    const SaslCredentials creds = passwordCredentials("alice@example.org", "s3cret pass");
    SaslClient client;
    QString error;
    QVERIFY2(client.start("LOGIN", creds, &error), qPrintable(error));
    QVERIFY(!client.hasInitialResponse());
    QByteArray response;
    QVERIFY(!client.initialResponse(&response, &error));

    QCOMPARE(client.step(first, &response, &error), Step::Continue);
    QCOMPARE(response, QByteArray("alice@example.org"));
    QCOMPARE(client.step(second, &response, &error), Step::Done);
    QCOMPARE(response, QByteArray("s3cret pass"));
    error.clear();
    QCOMPARE(client.step("Username:", &response, &error), Step::Failed);
    QVERIFY(response.isEmpty());
    QVERIFY(!client.failureHasResponse());
    QVERIFY(!error.isEmpty());
    QVERIFY(!leaksSecret(error, creds));
}

void tst_SaslClient::scramReferenceMatchesRfc_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::addRow("RFC 5802 5 SCRAM-SHA-1") << "SCRAM-SHA-1";
    QTest::addRow("RFC 7677 3 SCRAM-SHA-256") << "SCRAM-SHA-256";
}

void tst_SaslClient::scramReferenceMatchesRfc()
{
    // Validates the test's own SCRAM computation against the RFC exchanges, so
    // that it can be trusted to check the client below.
    QFETCH(QString, mechanism);
    const RfcScram &rfc = rfcFor(mechanism);
    const QByteArray clientFirstBare = QByteArray("n=user,r=") + rfc.clientNonce;
    const QByteArray clientFinal(rfc.clientFinal);
    const QByteArray withoutProof = clientFinal.left(clientFinal.indexOf(",p="));
    const ScramProof ref = scramReference(scramHash(mechanism), "pencil", rfcSalt(rfc), 4096,
                                          clientFirstBare, rfc.serverFirst, withoutProof);
    QCOMPARE(withoutProof + ",p=" + ref.clientProof, clientFinal);
    QCOMPARE("v=" + ref.serverSignature, QByteArray(rfc.serverFinal));
}

void tst_SaslClient::scramRfcParameters_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<QString>("serverFinalKind");
    QTest::addColumn<bool>("viaChallenge"); // 334 challenge, or data with the 235 reply
    QTest::addColumn<bool>("accepted");

    for (const char *mech : {"SCRAM-SHA-1", "SCRAM-SHA-256"}) {
        for (bool via334 : {true, false}) {
            const char *how = via334 ? "334" : "235";
            QTest::addRow("%s %s correct v=", mech, how) << mech << "correct" << via334 << true;
            QTest::addRow("%s %s tampered v=", mech, how) << mech << "tampered" << via334 << false;
            QTest::addRow("%s %s RFC's v= (other nonce)", mech, how) << mech << "rfc" << via334 << false;
            QTest::addRow("%s %s e=invalid-proof", mech, how) << mech << "error" << via334 << false;
            QTest::addRow("%s %s garbage", mech, how) << mech << "garbage" << via334 << false;
        }
        QTest::addRow("%s 235 without v=", mech) << mech << "none" << false << false;
    }
}

void tst_SaslClient::scramRfcParameters()
{
    QFETCH(QString, mechanism);
    QFETCH(QString, serverFinalKind);
    QFETCH(bool, viaChallenge);
    QFETCH(bool, accepted);

    SaslClient client;
    QVERIFY(client.hasInitialResponse() == false);
    ScramSetup setup;
    QVERIFY(runScramToClientFinal(client, mechanism, &setup));
    QVERIFY(client.hasInitialResponse());

    // Before server-final, success cannot be verified.
    {
        SaslClient early;
        QString error;
        QVERIFY(early.start(mechanism, passwordCredentials("user", "pencil"), &error));
        QByteArray first;
        QVERIFY(early.initialResponse(&first, &error));
        QVERIFY(!early.verifyServerFinal({}, &error));
    }

    QByteArray serverFinal;
    if (serverFinalKind == u"correct")
        serverFinal = setup.expectedServerFinal;
    else if (serverFinalKind == u"tampered")
        serverFinal = tamperVerifier(setup.expectedServerFinal);
    else if (serverFinalKind == u"rfc")
        serverFinal = rfcFor(mechanism).serverFinal;
    else if (serverFinalKind == u"error")
        serverFinal = "e=invalid-proof";
    else if (serverFinalKind == u"garbage")
        serverFinal = "\x01\x02nothing";
    QVERIFY(serverFinal != setup.expectedServerFinal || accepted);

    QString error;
    if (viaChallenge) {
        QByteArray response = "untouched";
        const Step s = client.step(serverFinal, &response, &error);
        QCOMPARE(s, accepted ? Step::Done : Step::Failed);
        QVERIFY(response.isEmpty()); // RFC 4954 4: empty answer, or "*" on failure
        QVERIFY(!client.failureHasResponse());
        // After the 334 path, the 235 that follows needs no more data.
        QString laterError;
        QCOMPARE(client.verifyServerFinal({}, &laterError), accepted);
    } else {
        QCOMPARE(client.verifyServerFinal(serverFinal, &error), accepted);
    }
    if (!accepted) {
        QVERIFY(!error.isEmpty());
        QVERIFY(!error.contains("pencil"));
        if (serverFinalKind == u"error")
            QVERIFY2(error.contains("invalid-proof"), qPrintable(error));
        if (serverFinalKind == u"tampered" || serverFinalKind == u"rfc")
            QVERIFY2(error.contains("signature"), qPrintable(error));
    }
    // Whatever happened, the exchange is over.
    QByteArray response;
    QCOMPARE(client.step("r=x", &response, &error), Step::Failed);
}

void tst_SaslClient::scramBadServerFirst_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<QByteArray>("serverFirstTemplate"); // %N = client nonce
    QTest::addColumn<QString>("errorPart");

    for (const char *mech : {"SCRAM-SHA-1", "SCRAM-SHA-256"}) {
        QTest::addRow("%s RFC server-first verbatim", mech) << mech << QByteArray(rfcFor(mech).serverFirst) << "nonce";
        QTest::addRow("%s nonce not extended", mech) << mech << QByteArray("r=%N,s=QSXCR+Q6sek8bf92,i=4096") << "nonce";
        QTest::addRow("%s nonce prefix changed", mech) << mech << QByteArray("r=X%Nabc,s=QSXCR+Q6sek8bf92,i=4096") << "nonce";
        QTest::addRow("%s one iteration", mech) << mech << QByteArray("r=%Nabc,s=QSXCR+Q6sek8bf92,i=1") << "iterations";
        QTest::addRow("%s 4095 iterations", mech) << mech << QByteArray("r=%Nabc,s=QSXCR+Q6sek8bf92,i=4095") << "iterations";
        QTest::addRow("%s huge iterations", mech) << mech << QByteArray("r=%Nabc,s=QSXCR+Q6sek8bf92,i=4294967295") << "iterations";
        QTest::addRow("%s negative iterations", mech) << mech << QByteArray("r=%Nabc,s=QSXCR+Q6sek8bf92,i=-4096") << "iterations";
        QTest::addRow("%s missing salt", mech) << mech << QByteArray("r=%Nabc,i=4096") << "malformed";
        QTest::addRow("%s missing iterations", mech) << mech << QByteArray("r=%Nabc,s=QSXCR+Q6sek8bf92") << "malformed";
        QTest::addRow("%s mandatory extension", mech) << mech << QByteArray("m=ext,r=%Nabc,s=QSXCR+Q6sek8bf92,i=4096") << "extension";
        QTest::addRow("%s server error", mech) << mech << QByteArray("e=unknown-user") << "unknown-user";
        QTest::addRow("%s empty", mech) << mech << QByteArray() << "malformed";
    }
}

void tst_SaslClient::scramBadServerFirst()
{
    QFETCH(QString, mechanism);
    QFETCH(QByteArray, serverFirstTemplate);
    QFETCH(QString, errorPart);

    SaslClient client;
    QString error;
    QVERIFY(client.start(mechanism, passwordCredentials("user", "pencil"), &error));
    QByteArray clientFirst;
    QVERIFY(client.initialResponse(&clientFirst, &error));
    const QByteArray nonce = clientFirst.mid(qstrlen("n,,n=user,r="));
    QVERIFY(nonce.size() >= 16);
    QByteArray serverFirst = serverFirstTemplate;
    serverFirst.replace("%N", nonce);

    QByteArray response = "untouched";
    QCOMPARE(client.step(serverFirst, &response, &error), Step::Failed);
    QVERIFY(response.isEmpty());
    QVERIFY(!client.failureHasResponse());
    QVERIFY2(error.contains(errorPart, Qt::CaseInsensitive), qPrintable(error));
    QVERIFY(!error.contains("pencil"));
}

void tst_SaslClient::scramAgainstGsaslServer_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<SaslCredentials>("credentials");
    QTest::addColumn<QByteArray>("serverPassword");
    QTest::addColumn<bool>("tamper");
    QTest::addColumn<bool>("serverAccepts");
    QTest::addColumn<bool>("clientAccepts");

    for (const char *mech : {"SCRAM-SHA-1", "SCRAM-SHA-256"}) {
        QTest::addRow("%s right password", mech) << mech << passwordCredentials("user", "pencil") << QByteArray("pencil") << false << true << true;
        QTest::addRow("%s with authzid", mech) << mech << passwordCredentials("user", "pencil", "admin") << QByteArray("pencil") << false << true << true;
        QTest::addRow("%s non-ASCII", mech) << mech << passwordCredentials(QString::fromUtf8("j\xc3\xbcrgen"), QString::fromUtf8("p\xc3\xa4ssw\xc3\xb6rd")) << QByteArray("p\xc3\xa4ssw\xc3\xb6rd") << false << true << true;
        QTest::addRow("%s wrong password", mech) << mech << passwordCredentials("user", "pencil") << QByteArray("pen") << false << false << false;
        QTest::addRow("%s tampered server-final", mech) << mech << passwordCredentials("user", "pencil") << QByteArray("pencil") << true << true << false;
    }
}

void tst_SaslClient::scramAgainstGsaslServer()
{
    QFETCH(QString, mechanism);
    QFETCH(SaslCredentials, credentials);
    QFETCH(QByteArray, serverPassword);
    QFETCH(bool, tamper);
    QFETCH(bool, serverAccepts);
    QFETCH(bool, clientAccepts);

    const ExchangeResult r = scramWithGsaslServer(m_serverCtx, mechanism, credentials, serverPassword, tamper);
    QCOMPARE(r.serverAccepted, serverAccepts);
    QCOMPARE(QString::fromUtf8(r.serverAuthid), credentials.user);
    QCOMPARE(QString::fromUtf8(r.serverAuthzid), credentials.authzid);
    if (serverAccepts) {
        QCOMPARE(r.clientFinalStep, clientAccepts ? Step::Done : Step::Failed);
        if (!clientAccepts)
            QVERIFY2(r.clientError.contains("signature"), qPrintable(r.clientError));
    }
}

void tst_SaslClient::scramConcurrentSessions()
{
    // One shared libgsasl context, several threads: every exchange must
    // succeed, and the first use of the context may happen in any thread.
    constexpr int threadCount = 4;
    constexpr int exchangesPerThread = 8;
    std::atomic<int> succeeded{0};
    std::vector<std::unique_ptr<QThread>> threads;
    for (int t = 0; t < threadCount; ++t) {
        threads.emplace_back(QThread::create([this, t, &succeeded] {
            const QString mech = t % 2 ? QStringLiteral("SCRAM-SHA-1") : QStringLiteral("SCRAM-SHA-256");
            for (int i = 0; i < exchangesPerThread; ++i) {
                const QString user = QStringLiteral("user%1_%2").arg(t).arg(i);
                const ExchangeResult r = scramWithGsaslServer(
                    m_serverCtx, mech, passwordCredentials(user, "pencil"), "pencil", false);
                if (r.serverAccepted && r.clientFinalStep == Step::Done && r.serverAuthid == user.toUtf8())
                    ++succeeded;
            }
        }));
    }
    for (auto &th : threads)
        th->start();
    for (auto &th : threads)
        QVERIFY(th->wait(QDeadlineTimer(60000)));
    QCOMPARE(succeeded.load(), threadCount * exchangesPerThread);
}

void tst_SaslClient::tokenInitialResponse_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<SaslCredentials>("credentials");
    QTest::addColumn<QByteArray>("expected");

    // Google's XOAUTH2 documentation example.
    QTest::addRow("xoauth2 google example")
        << "XOAUTH2" << tokenCredentials("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")
        << QByteArray("user=someuser@example.com\x01" "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01");
    QTest::addRow("xoauth2 ignores host and port")
        << "XOAUTH2" << tokenCredentials("a@b.c", "tok", "smtp.example.com", 587)
        << QByteArray("user=a@b.c\x01" "auth=Bearer tok\x01\x01");
    // RFC 7628 4.1.
    QTest::addRow("oauthbearer rfc7628 4.1")
        << "OAUTHBEARER" << tokenCredentials("user@example.com", "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", "server.example.com", 143)
        << QByteArray("n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
                      "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01");
    QTest::addRow("oauthbearer saslname escaping (RFC 5801 4)")
        << "OAUTHBEARER" << tokenCredentials("a,b=c", "tok", "h", 25)
        << QByteArray("n,a=a=2Cb=3Dc,\x01host=h\x01port=25\x01" "auth=Bearer tok\x01\x01");
    QTest::addRow("oauthbearer no host, no port")
        << "OAUTHBEARER" << tokenCredentials("u@example.com", "tok")
        << QByteArray("n,a=u@example.com,\x01" "auth=Bearer tok\x01\x01");
    QTest::addRow("oauthbearer no user")
        << "OAUTHBEARER" << tokenCredentials("", "tok", "smtp.example.com", 465)
        << QByteArray("n,,\x01host=smtp.example.com\x01port=465\x01" "auth=Bearer tok\x01\x01");
    QTest::addRow("oauthbearer lower-case name")
        << "oauthbearer" << tokenCredentials("u", "tok")
        << QByteArray("n,a=u,\x01" "auth=Bearer tok\x01\x01");
    const QByteArray longToken(8192, 'A');
    QTest::addRow("xoauth2 8 KiB token")
        << "XOAUTH2" << tokenCredentials("u@example.com", longToken)
        << QByteArray("user=u@example.com\x01" "auth=Bearer " + longToken + "\x01\x01");
}

void tst_SaslClient::tokenInitialResponse()
{
    QFETCH(QString, mechanism);
    QFETCH(SaslCredentials, credentials);
    QFETCH(QByteArray, expected);

    SaslClient client;
    QString error;
    QVERIFY2(client.start(mechanism, credentials, &error), qPrintable(error));
    QCOMPARE(client.mechanism(), mechanism.toUpper());
    QVERIFY(client.hasInitialResponse());
    QByteArray response;
    QVERIFY2(client.initialResponse(&response, &error), qPrintable(error));
    QCOMPARE(response, expected);
    QVERIFY(!client.initialResponse(&response, &error)); // only once
    QVERIFY(client.verifyServerFinal({}, &error));
}

void tst_SaslClient::tokenWithoutInitialResponse_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::addRow("XOAUTH2") << "XOAUTH2";
    QTest::addRow("OAUTHBEARER") << "OAUTHBEARER";
}

void tst_SaslClient::tokenWithoutInitialResponse()
{
    // docs/security.md section G: a long token goes on its own line after an
    // empty 334 when "AUTH mech token" would pass 512 octets.
    QFETCH(QString, mechanism);
    const SaslCredentials creds = tokenCredentials("u@example.com", QByteArray(6000, 'x'), "h", 587);

    SaslClient withIr;
    QString error;
    QVERIFY(withIr.start(mechanism, creds, &error));
    QByteArray expected;
    QVERIFY(withIr.initialResponse(&expected, &error));

    SaslClient client;
    QVERIFY(client.start(mechanism, creds, &error));
    QByteArray response;
    QCOMPARE(client.step({}, &response, &error), Step::Continue);
    QCOMPARE(response, expected);

    SaslClient odd;
    QVERIFY(odd.start(mechanism, creds, &error));
    QCOMPARE(odd.step("not empty", &response, &error), Step::Failed);
    QVERIFY(!odd.failureHasResponse());
}

void tst_SaslClient::oauthErrorChallenge_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<QByteArray>("challenge");
    QTest::addColumn<QStringList>("errorParts");
    QTest::addColumn<bool>("hasClosing");
    QTest::addColumn<QByteArray>("closing");

    const QByteArray google = R"({"status":"401","schemes":"bearer","scope":"https://mail.google.com/"})";
    // RFC 7628 3.2.2 example.
    const QByteArray rfc = R"({"status":"invalid_token","scope":"example_scope",)"
                           R"("openid-configuration":"https://example.com/.well-known/openid-configuration"})";
    const QByteArray numeric = R"({"status":403,"scope":"mail"})";
    const QByteArray hostile = "{\"status\":\"401\\u001b[2J\",\"scope\":\"x\"}";

    for (const char *mech : {"XOAUTH2", "OAUTHBEARER"}) {
        const QByteArray close = qstrcmp(mech, "OAUTHBEARER") == 0 ? QByteArray("\x01") : QByteArray("");
        QTest::addRow("%s google 401", mech) << mech << google
                                             << QStringList{"status 401", "bearer", "https://mail.google.com/", "expired"}
                                             << true << close;
        QTest::addRow("%s rfc7628 invalid_token", mech) << mech << rfc
                                                        << QStringList{"invalid_token", "example_scope"} << true << close;
        QTest::addRow("%s numeric 403", mech) << mech << numeric << QStringList{"status 403", "scope"} << true << close;
        QTest::addRow("%s empty object", mech) << mech << QByteArray("{}") << QStringList{"no details"} << true << close;
        QTest::addRow("%s escape sequence escaped", mech) << mech << hostile << QStringList{"\\x1b"} << true << close;
        QTest::addRow("%s not JSON", mech) << mech << QByteArray("go away") << QStringList{"go away"} << false << QByteArray();
        QTest::addRow("%s JSON array", mech) << mech << QByteArray("[1,2]") << QStringList{"unexpected"} << false << QByteArray();
        QTest::addRow("%s empty challenge", mech) << mech << QByteArray() << QStringList{"unexpected"} << false << QByteArray();
    }
}

void tst_SaslClient::oauthErrorChallenge()
{
    QFETCH(QString, mechanism);
    QFETCH(QByteArray, challenge);
    QFETCH(QStringList, errorParts);
    QFETCH(bool, hasClosing);
    QFETCH(QByteArray, closing);

    const SaslCredentials creds = tokenCredentials("u@example.com", "ya29.SECRETTOKEN", "smtp.example.com", 587);
    SaslClient client;
    QString error;
    QVERIFY(client.start(mechanism, creds, &error));
    QByteArray response;
    QVERIFY(client.initialResponse(&response, &error));

    response = "untouched";
    QCOMPARE(client.step(challenge, &response, &error), Step::Failed);
    QCOMPARE(client.failureHasResponse(), hasClosing);
    QCOMPARE(response, closing);
    for (const QString &part : errorParts)
        QVERIFY2(error.contains(part), qPrintable(error));
    QVERIFY(!error.contains(QChar(0x1b)));
    QVERIFY(!leaksSecret(error, creds));

    // The server answers the closing response with 535; a further 334 is
    // refused and now needs "*".
    QCOMPARE(client.step(challenge, &response, &error), Step::Failed);
    QVERIFY(!client.failureHasResponse());
    QVERIFY(response.isEmpty());
}

void tst_SaslClient::authLoopIsBounded_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<SaslCredentials>("credentials");
    // Python testAUTH_BUGGY: "334 QnVHZ1liVWdHeQ==" to every line.
    for (const char *m : {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"})
        QTest::addRow("%s", m) << m << passwordCredentials("user", "pencil");
    for (const char *m : {"XOAUTH2", "OAUTHBEARER"})
        QTest::addRow("%s", m) << m << tokenCredentials("user", "ya29.SECRETTOKEN");
}

void tst_SaslClient::authLoopIsBounded()
{
    QFETCH(QString, mechanism);
    QFETCH(SaslCredentials, credentials);
    const QByteArray buggy = QByteArray::fromBase64("QnVHZ1liVWdHeQ==");

    for (bool useInitial : {true, false}) {
        SaslClient client;
        QString error;
        QVERIFY(client.start(mechanism, credentials, &error));
        QByteArray response;
        if (useInitial && client.hasInitialResponse())
            QVERIFY(client.initialResponse(&response, &error));
        int rounds = 0;
        Step s = Step::Continue;
        while (s != Step::Failed && rounds <= 2 * SaslClient::MaxRounds) {
            s = client.step(buggy, &response, &error);
            ++rounds;
        }
        QCOMPARE(s, Step::Failed);
        QVERIFY2(rounds <= SaslClient::MaxRounds, qPrintable(QString::number(rounds)));
        QVERIFY(!error.isEmpty());
        QVERIFY(!leaksSecret(error, credentials));
        // And it stays failed.
        QCOMPARE(client.step(buggy, &response, &error), Step::Failed);
    }
}

void tst_SaslClient::oversizeChallenge_data()
{
    QTest::addColumn<QString>("mechanism");
    QTest::addColumn<qsizetype>("size");
    QTest::addColumn<bool>("accepted");
    QTest::addRow("CRAM-MD5 at limit") << "CRAM-MD5" << SaslClient::MaxChallengeSize << true;
    QTest::addRow("CRAM-MD5 over limit") << "CRAM-MD5" << SaslClient::MaxChallengeSize + 1 << false;
    QTest::addRow("CRAM-MD5 1 MiB") << "CRAM-MD5" << qsizetype(1024 * 1024) << false;
    QTest::addRow("LOGIN at limit") << "LOGIN" << SaslClient::MaxChallengeSize << true;
    QTest::addRow("LOGIN over limit") << "LOGIN" << SaslClient::MaxChallengeSize + 1 << false;
}

void tst_SaslClient::oversizeChallenge()
{
    QFETCH(QString, mechanism);
    QFETCH(qsizetype, size);
    QFETCH(bool, accepted);

    SaslClient client;
    QString error;
    QVERIFY(client.start(mechanism, passwordCredentials("tim", "tanstaaftanstaaf"), &error));
    QByteArray challenge(size, 'c');
    challenge.front() = '<';
    challenge.back() = '>';
    QByteArray response = "untouched";
    const Step s = client.step(challenge, &response, &error);
    if (accepted) {
        QVERIFY(s != Step::Failed);
        QVERIFY(response.startsWith("tim"));
    } else {
        QCOMPARE(s, Step::Failed);
        QVERIFY(response.isEmpty());
        QVERIFY2(error.contains("limit"), qPrintable(error));
    }
}

void tst_SaslClient::restartResetsState()
{
    SaslClient client;
    QString error;
    QByteArray response;
    QVERIFY(client.start("LOGIN", passwordCredentials("a", "b"), &error));
    QCOMPARE(client.step("Username:", &response, &error), Step::Continue);
    QCOMPARE(client.step("Password:", &response, &error), Step::Done);
    QCOMPARE(client.step("again", &response, &error), Step::Failed);

    // A new start() is a fresh exchange (e.g. falling back to another mechanism).
    QVERIFY(client.start("CRAM-MD5", passwordCredentials("tim", "tanstaaftanstaaf"), &error));
    QCOMPARE(client.mechanism(), QStringLiteral("CRAM-MD5"));
    QCOMPARE(client.step("<1896.697170952@postoffice.reston.mci.net>", &response, &error), Step::Done);
    QCOMPARE(response, QByteArray("tim b913a602c7eda7a495b4e6e7334d3890"));

    // A refused start() leaves nothing runnable behind.
    QVERIFY(!client.start("PLAIN", passwordCredentials("tim", ""), &error));
    QVERIFY(client.mechanism().isEmpty());
    QCOMPARE(client.step({}, &response, &error), Step::Failed);
}

QTEST_GUILESS_MAIN(tst_SaslClient)
#include "tst_saslclient.moc"
