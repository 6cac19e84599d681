// What a peer says reaches the terminal only by the escaping rule
// (core/protocol/printable.h): the built smtpscope binary against a real TLS
// server on loopback whose certificate names carry terminal escapes and bidi
// controls (made at test time with the openssl CLI), and `smtpscope serve`
// given a message whose Subject decodes (RFC 2047) to such characters. The
// output of send, probe, history and serve must hold none of them raw (no ESC,
// BEL, other C0 but line feed, DEL, C1, format character or line separator),
// must show the escaped form instead, and JSON must still carry the exact values.

#include "shared/unsafetext.h"
#include "client/smtpclient.h"
#include "processrun.h"
#include "serveprocess.h"
#include "testservers.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSslCertificate>
#include <QStandardPaths>
#include <QStringDecoder>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

using namespace Qt::StringLiterals;

namespace {

constexpr int TimeoutMs = 30000;

// The hostile names. An OSC sequence that would retitle the terminal, one that
// clears it, a right-to-left override, an isolate and a one-byte CSI (U+009B).
const QString LeafCn = u"\x1b]0;title\x07\x1b[2Jleaf\u202e\u2066"_s;
const QString CaCn = u"CA \x1b[2J\u202e\u009bgro.live"_s;
const QString CaOrg = u"Evil \x1b]0;title\x07"_s;
const QString SanName = u"host\x1b]0;san\x07.test"_s; // an IA5String: ASCII only

// How they must be shown (Smtp::printable's notation).
const QByteArray LeafShown = R"(\x1b]0;title\x07\x1b[2Jleaf\x202e\x2066)";
const QByteArray CaShown = R"(CA \x1b[2J\x202e\x9bgro.live)";
const QByteArray SanShown = R"(host\x1b]0;san\x07.test)";

// The first character of `bytes` a terminal could act on: invalid UTF-8 (a
// lone 0x9B byte is an 8-bit CSI), then what UnsafeText finds (line feeds
// allowed). Empty when there is none.
QString firstUnsafe(const QByteArray &bytes)
{
    QStringDecoder utf8(QStringDecoder::Utf8);
    const QString text = utf8.decode(bytes);
    if (utf8.hasError())
        return u"invalid UTF-8"_s;
    const qsizetype i = UnsafeText::first(text, true);
    if (i < 0)
        return {};
    const char32_t ucs = text.at(i).isHighSurrogate() && i + 1 < text.size()
        ? QChar::surrogateToUcs4(text.at(i), text.at(i + 1))
        : text.at(i).unicode();
    return u"U+%1 at offset %2"_s.arg(uint(ucs), 4, 16, QLatin1Char('0')).arg(i);
}

#define VERIFY_SAFE(run)                                                                                           \
    do {                                                                                                           \
        const QString outBad = firstUnsafe((run).out);                                                             \
        const QString errBad = firstUnsafe((run).err);                                                             \
        QVERIFY2(outBad.isEmpty(), qPrintable(u"stdout holds "_s + outBad + u'\n' + (run).describe()));             \
        QVERIFY2(errBad.isEmpty(), qPrintable(u"stderr holds "_s + errBad + u'\n' + (run).describe()));             \
    } while (false)

#define VERIFY_SHOWS(run, needle)                                                                                  \
    QVERIFY2((run).both().contains(needle),                                                                        \
             qPrintable(u"the output does not show "_s + QString::fromUtf8(needle) + u'\n' + (run).describe()))

std::optional<QJsonDocument> jsonOf(const ProcessRun &r)
{
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(r.out, &error);
    if (error.error != QJsonParseError::NoError)
        return std::nullopt;
    return doc;
}

} // namespace

class TestHostileInput : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void certificateNamesInSendProbeAndHistory();
    void serveShowsHostileSubjectEscaped();

private:
    [[nodiscard]] ProcessRun run(const QStringList &args) const;
    [[nodiscard]] bool openssl(const QStringList &args, QString *error) const;

    QTemporaryDir m_dir;
    QString m_dataHome;
};

ProcessRun TestHostileInput::run(const QStringList &args) const
{
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    e.remove(QStringLiteral("SMTPSCOPE_PASSWORD"));
    // The history of these runs goes into the test's folder, never the user's.
    e.insert(QStringLiteral("XDG_DATA_HOME"), m_dataHome);
    return runProcess(QStringLiteral(SMTPSCOPE_BINARY), args, e, {}, TimeoutMs);
}

bool TestHostileInput::openssl(const QStringList &args, QString *error) const
{
    QProcess p;
    p.setWorkingDirectory(m_dir.path());
    p.start(QStringLiteral("openssl"), args);
    if (!p.waitForFinished(TimeoutMs) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        p.kill();
        *error = u"openssl %1: %2"_s.arg(args.join(u' '), QString::fromUtf8(p.readAllStandardError()));
        return false;
    }
    return true;
}

void TestHostileInput::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QStandardPaths::setTestModeEnabled(true);
    m_dataHome = m_dir.filePath(QStringLiteral("xdg-data"));
    QVERIFY(QDir().mkpath(m_dataHome));
    QVERIFY(QFileInfo(QStringLiteral(SMTPSCOPE_BINARY)).isExecutable());

    // A CA and a leaf it issued, as tests/servers/make-certs makes them (EC P-256),
    // with names holding raw control bytes: -utf8 takes the -subj bytes as they
    // are into UTF8String values; the SANs are IA5Strings from an extension file.
    auto subject = [](const QList<std::pair<QString, QString>> &parts) {
        QString s;
        for (const auto &[type, value] : parts)
            s += u'/' + type + u'=' + value;
        return s;
    };
    QString error;
    QVERIFY2(openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                      "ca.key", "-out", "ca.pem", "-days", "2", "-utf8", "-subj",
                      subject({{u"CN"_s, CaCn}, {u"O"_s, CaOrg}}), "-addext", "basicConstraints=critical,CA:TRUE",
                      "-addext", "keyUsage=critical,keyCertSign"},
                     &error),
             qPrintable(error));
    QVERIFY2(openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key",
                      "-out", "leaf.csr", "-utf8", "-subj", subject({{u"CN"_s, LeafCn}})},
                     &error),
             qPrintable(error));
    QFile ext(m_dir.filePath(QStringLiteral("leaf.ext")));
    QVERIFY(ext.open(QIODevice::WriteOnly));
    ext.write("[leaf]\nbasicConstraints = critical, CA:FALSE\nextendedKeyUsage = serverAuth\nsubjectAltName = DNS:"
              + SanName.toUtf8() + "\n");
    ext.close();
    QVERIFY2(openssl({"x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                      "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext", "-extensions", "leaf"},
                     &error),
             qPrintable(error));

    // The certificate really holds the raw characters (else the test proves nothing).
    const QList<QSslCertificate> leaf = QSslCertificate::fromPath(m_dir.filePath(QStringLiteral("leaf.pem")));
    QCOMPARE(leaf.size(), 1);
    QCOMPARE(leaf.first().subjectInfo(QSslCertificate::CommonName), QStringList{LeafCn});
    QCOMPARE(leaf.first().issuerInfo(QSslCertificate::CommonName), QStringList{CaCn});
    QVERIFY2(leaf.first().subjectAlternativeNames().values(QSsl::DnsEntry).contains(SanName),
             qPrintable(leaf.first().subjectAlternativeNames().values(QSsl::DnsEntry).join(u", ")));
}

void TestHostileInput::certificateNamesInSendProbeAndHistory()
{
    // STARTTLS with the hostile leaf; the greeting carries an escape sequence and
    // a bidi override too (reply text, escaped by the engine since it exists).
    HostileServer server;
    HostileServer::Options options;
    options.scenarios = {QStringLiteral("ok"),
                         QStringLiteral(R"(reply-at=GREETING:220 smtp.test \x1b[2J\xe2\x80\xae ESMTP)")};
    options.certName.clear();
    options.extraArgs = {QStringLiteral("--cert"), m_dir.filePath(QStringLiteral("leaf.pem")), QStringLiteral("--key"),
                         m_dir.filePath(QStringLiteral("leaf.key"))};
    QString startError;
    QVERIFY2(server.start(options, &startError), qPrintable(startError));
    const QStringList target{"--host", "127.0.0.1", "--port", QString::number(server.port()), "--tls",
                             "--connect-timeout", "10000"};

    // send: the certificate cannot be trusted; the error names it, escaped.
    const QStringList send = QStringList{"send"} + target
        + QStringList{"--from", "sender@example.test", "--to", "rcpt@example.test"};
    const ProcessRun sent = run(send + QStringList{"--transcript"});
    QVERIFY2(sent.finished && sent.exitCode != 0, qPrintable(sent.describe()));
    VERIFY_SAFE(sent);
    QVERIFY2(sent.err.contains("SSL-VERIFY-ERROR"), qPrintable(sent.describe()));
    VERIFY_SHOWS(sent, LeafShown);
    VERIFY_SHOWS(sent, CaShown);
    VERIFY_SHOWS(sent, SanShown);
    VERIFY_SHOWS(sent, R"(220 smtp.test \x1b[2J\x202e ESMTP)");

    // send --json: terminal-safe text; the error message (text, not data) holds
    // the escaped names.
    const ProcessRun sentJson = run(send + QStringList{"--json"});
    QVERIFY2(sentJson.finished && sentJson.exitCode != 0, qPrintable(sentJson.describe()));
    VERIFY_SAFE(sentJson);
    const std::optional<QJsonDocument> sendDoc = jsonOf(sentJson);
    QVERIFY2(sendDoc && sendDoc->isObject(), qPrintable(sentJson.describe()));
    const QString message = sendDoc->object().value("error").toObject().value("message").toString();
    QVERIFY2(message.contains(QString::fromUtf8(LeafShown)) && message.contains(QString::fromUtf8(CaShown)),
             qPrintable(message));

    // probe: the session's rows (chain, errors) and the checklist's certificate
    // checks on this port only, quickly.
    const ProcessRun probed = run(QStringList{"probe"} + target
                                  + QStringList{"--no-tls-scan", "--no-auth-scan", "--no-dns", "--no-transaction"});
    QVERIFY2(probed.finished && probed.exitCode != 0, qPrintable(probed.describe()));
    VERIFY_SAFE(probed);
    VERIFY_SHOWS(probed, LeafShown);
    VERIFY_SHOWS(probed, CaShown);
    VERIFY_SHOWS(probed, SanShown);
    QVERIFY2(probed.out.contains("certificate"), qPrintable(probed.describe()));

    // probe --json: terminal-safe text, and the certificate's fields as data,
    // exact for any JSON parser (the \uXXXX escapes are the same characters).
    const ProcessRun probedJson = run(QStringList{"probe"} + target + QStringList{"--no-checklist", "--json"});
    QVERIFY2(probedJson.finished, qPrintable(probedJson.describe()));
    VERIFY_SAFE(probedJson);
    const std::optional<QJsonDocument> probeDoc = jsonOf(probedJson);
    QVERIFY2(probeDoc && probeDoc->isObject(), qPrintable(probedJson.describe()));
    const QJsonArray chain = probeDoc->object().value("tls").toObject().value("chain").toArray();
    QVERIFY2(!chain.isEmpty(), qPrintable(probedJson.describe()));
    QCOMPARE(chain.first().toObject().value("subject").toString(), u"CN="_s + LeafCn);
    QCOMPARE(chain.first().toObject().value("issuer").toString(), u"CN="_s + CaCn + u", O="_s + CaOrg);
    QCOMPARE(chain.first().toObject().value("sans").toArray(), QJsonArray{u"DNS:"_s + SanName});

    // history: the sessions just recorded, listed and shown.
    const ProcessRun listed = run({"history"});
    QVERIFY2(listed.finished && listed.exitCode == 0, qPrintable(listed.describe()));
    VERIFY_SAFE(listed);
    VERIFY_SHOWS(listed, LeafShown);
    const ProcessRun listedJson = run({"history", "--json"});
    QVERIFY2(listedJson.finished && listedJson.exitCode == 0, qPrintable(listedJson.describe()));
    VERIFY_SAFE(listedJson);
    const std::optional<QJsonDocument> list = jsonOf(listedJson);
    QVERIFY2(list && list->isArray() && list->array().size() >= 5, qPrintable(listedJson.describe()));
    for (const QJsonValue &session : list->array()) {
        const QString id = QString::number(session.toObject().value("id").toInteger());
        const ProcessRun shown = run({"history", "show", id});
        QVERIFY2(shown.finished && shown.exitCode == 0, qPrintable(shown.describe()));
        VERIFY_SAFE(shown);
        const ProcessRun shownJson = run({"history", "show", id, "--json"});
        QVERIFY2(shownJson.finished && shownJson.exitCode == 0, qPrintable(shownJson.describe()));
        VERIFY_SAFE(shownJson);
        QVERIFY2(jsonOf(shownJson).has_value(), qPrintable(shownJson.describe()));
        if (session.toObject().value("kind").toString() == u"send") {
            VERIFY_SHOWS(shown, LeafShown);
            VERIFY_SHOWS(shown, R"(\x202e ESMTP)");
        }
    }
}

void TestHostileInput::serveShowsHostileSubjectEscaped()
{
    QTemporaryDir folder;
    QVERIFY(folder.isValid());
    ServeProcess serve;
    QString error;
    QVERIFY2(serve.start(QStringLiteral(SMTPSCOPE_BINARY), folder.path(), {}, &error), qPrintable(error));

    // RFC 2047 encoded words that decode to U+202E, U+2066, ESC, BEL, U+009B,
    // U+2028 and CR LF; the envelope sender's local part holds U+202E (RFC 6531).
    const QString subject = u"inv\u202eoice \u2066x\x1b]0;title\x07 \u009b2J a\u2028b\r\nInjected: yes"_s;
    const QByteArray message = "From: =?UTF-8?B?" + u"\u202eMallory\x1b[2J"_s.toUtf8().toBase64()
        + "?= <m@example.test>\r\nTo: <r@example.test>\r\nSubject: =?UTF-8?B?" + subject.toUtf8().toBase64()
        + "?=\r\nMessage-ID: <hostile@example.test>\r\n\r\nbody\r\n";
    SmtpClient client(QStringLiteral("127.0.0.1"), serve.port);
    client.setConnectTimeout(TimeoutMs);
    client.setReadTimeout(TimeoutMs);
    client.setDataTimeout(TimeoutMs);
    client.setCaFile(serve.caFile);
    client.tls(true);
    RawMessage m(u"\u202eevil@example.test"_s, {u"r\u2066cpt@example.test"_s}, message);
    try {
        client.sendMessage(m);
    } catch (const SmtpException &e) {
        QFAIL(qPrintable(e.error().toString()));
    }

    const QList<QByteArray> lines = serve.waitForLines(1);
    QCOMPARE(lines.size(), 1);
    const QByteArray line = lines.first();
    const QString bad = firstUnsafe(line);
    QVERIFY2(bad.isEmpty(), qPrintable(u"the line holds "_s + bad + u": "_s + QString::fromUtf8(line.toPercentEncoding(" <>\"@:,./\\"))));
    QVERIFY2(line.contains(R"("inv\x202eoice \x2066x\x1b]0;title\x07 \x9b2J a\x2028b\r\nInjected: yes")"),
             line.constData());
    QVERIFY2(line.contains(R"(from <\x202eevil@example.test>)"), line.constData());
    QVERIFY2(line.contains(R"(to r\x2066cpt@example.test)"), line.constData());
    // One line: the CR LF inside the subject did not start another.
    QVERIFY2(serve.out.count('\n') == 1, serve.out.constData());
}

QTEST_GUILESS_MAIN(TestHostileInput)
#include "tst_hostileinput.moc"
