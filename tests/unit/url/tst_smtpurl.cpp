// SmtpUrl::parse(): the reference's URL forms (qore-behaviour.md "URL schemes")
// as one table of accepted URLs and one of refused URLs with the error code and
// a part of the message that names what is wrong.

#include "client/smtpurl.h"

#include <QTest>

#include <iterator>

namespace {

struct Ok
{
    QString scheme;
    QString host;
    int port;
    bool ssl;
    bool tls;
    bool unixSocket;
    QString user;
    QString password;
    QString target;
    QString display;
};

} // namespace

Q_DECLARE_METATYPE(Ok)

class TestSmtpUrl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void schemeTable();
    void accepted_data();
    void accepted();
    void refused_data();
    void refused();
    void errorIsClearedOnSuccess();
    void targetAndDisplayOfBuiltUrls_data();
    void targetAndDisplayOfBuiltUrls();
};

void TestSmtpUrl::schemeTable()
{
    // The header's table, which the reference documents (smtptls: 25, see the header).
    struct Row { const char *name; int port; bool ssl; bool tls; };
    const Row expected[] = {{"smtp", 25, false, false},   {"smtps", 465, true, false},
                            {"smtptls", 25, false, true}, {"esmtp", 587, false, false},
                            {"esmtps", 465, true, false}, {"esmtptls", 587, false, true}};
    const QList<SmtpUrl::Scheme> &schemes = SmtpUrl::schemes();
    QCOMPARE(schemes.size(), qsizetype(std::size(expected)));
    for (qsizetype i = 0; i < schemes.size(); ++i) {
        QCOMPARE(QByteArray(schemes[i].name), QByteArray(expected[i].name));
        QCOMPARE(int(schemes[i].port), expected[i].port);
        QCOMPARE(schemes[i].ssl, expected[i].ssl);
        QCOMPARE(schemes[i].tls, expected[i].tls);
        QVERIFY(!(schemes[i].ssl && schemes[i].tls)); // reference: the two are exclusive
    }
}

void TestSmtpUrl::accepted_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<Ok>("expected");
    const auto row = [](const char *name, const QString &url, Ok ok) {
        QTest::addRow("%s", name) << url << ok;
    };
    const QString none;

    // No scheme: smtp, port 25 unless given.
    row("bare-host", "smtp.example.com",
        {"smtp", "smtp.example.com", 25, false, false, false, none, none, "smtp.example.com:25",
         "smtp://smtp.example.com:25"});
    row("bare-host-port", "smtp.example.com:2525",
        {"smtp", "smtp.example.com", 2525, false, false, false, none, none,
         "smtp.example.com:2525", "smtp://smtp.example.com:2525"});
    row("localhost", "localhost",
        {"smtp", "localhost", 25, false, false, false, none, none, "localhost:25", "smtp://localhost:25"});
    row("ipv4", "127.0.0.1",
        {"smtp", "127.0.0.1", 25, false, false, false, none, none, "127.0.0.1:25", "smtp://127.0.0.1:25"});
    row("ipv4-port", "127.0.0.1:1025",
        {"smtp", "127.0.0.1", 1025, false, false, false, none, none, "127.0.0.1:1025",
         "smtp://127.0.0.1:1025"});

    // Every scheme with its default port and flags.
    row("scheme-smtp", "smtp://mx.test",
        {"smtp", "mx.test", 25, false, false, false, none, none, "mx.test:25", "smtp://mx.test:25"});
    row("scheme-smtps", "smtps://mx.test",
        {"smtps", "mx.test", 465, true, false, false, none, none, "mx.test:465", "smtps://mx.test:465"});
    row("scheme-smtptls", "smtptls://mx.test",
        {"smtptls", "mx.test", 25, false, true, false, none, none, "mx.test:25",
         "smtptls://mx.test:25"});
    row("scheme-esmtp", "esmtp://mx.test",
        {"esmtp", "mx.test", 587, false, false, false, none, none, "mx.test:587",
         "esmtp://mx.test:587"});
    row("scheme-esmtps", "esmtps://mx.test",
        {"esmtps", "mx.test", 465, true, false, false, none, none, "mx.test:465",
         "esmtps://mx.test:465"});
    row("scheme-esmtptls", "esmtptls://mx.test",
        {"esmtptls", "mx.test", 587, false, true, false, none, none, "mx.test:587",
         "esmtptls://mx.test:587"});
    row("scheme-port-overrides-default", "smtps://mx.test:2465",
        {"smtps", "mx.test", 2465, true, false, false, none, none, "mx.test:2465",
         "smtps://mx.test:2465"});
    row("esmtptls-port-25", "esmtptls://mx.test:25",
        {"esmtptls", "mx.test", 25, false, true, false, none, none, "mx.test:25",
         "esmtptls://mx.test:25"});

    // Schemes are case-insensitive (RFC 3986 3.1); the host keeps its spelling.
    row("scheme-upper", "SMTPS://mx.test",
        {"smtps", "mx.test", 465, true, false, false, none, none, "mx.test:465", "smtps://mx.test:465"});
    row("scheme-mixed", "EsMtPtLs://Mail.Example.COM",
        {"esmtptls", "Mail.Example.COM", 587, false, true, false, none, none,
         "Mail.Example.COM:587", "esmtptls://Mail.Example.COM:587"});

    // Port boundaries.
    row("port-1", "h.test:1",
        {"smtp", "h.test", 1, false, false, false, none, none, "h.test:1", "smtp://h.test:1"});
    row("port-65535", "h.test:65535",
        {"smtp", "h.test", 65535, false, false, false, none, none, "h.test:65535",
         "smtp://h.test:65535"});
    row("port-leading-zeros", "h.test:0025",
        {"smtp", "h.test", 25, false, false, false, none, none, "h.test:25", "smtp://h.test:25"});

    // IPv6 in brackets, with and without a port.
    row("ipv6-loopback", "[::1]",
        {"smtp", "::1", 25, false, false, false, none, none, "[::1]:25", "smtp://[::1]:25"});
    row("ipv6-port", "[::1]:2525",
        {"smtp", "::1", 2525, false, false, false, none, none, "[::1]:2525", "smtp://[::1]:2525"});
    row("ipv6-smtps", "smtps://[2001:db8::25]",
        {"smtps", "2001:db8::25", 465, true, false, false, none, none, "[2001:db8::25]:465",
         "smtps://[2001:db8::25]:465"});
    row("ipv6-esmtp-port", "esmtp://[2001:db8::1]:10587",
        {"esmtp", "2001:db8::1", 10587, false, false, false, none, none, "[2001:db8::1]:10587",
         "esmtp://[2001:db8::1]:10587"});
    row("ipv6-v4-mapped", "[::ffff:127.0.0.1]:25",
        {"smtp", "::ffff:127.0.0.1", 25, false, false, false, none, none, "[::ffff:127.0.0.1]:25",
         "smtp://[::ffff:127.0.0.1]:25"});
    row("ipv6-zone-id", "[fe80::1%25lo]:25", // RFC 6874: '%' written as %25
        {"smtp", "fe80::1%lo", 25, false, false, false, none, none, "[fe80::1%lo]:25",
         "smtp://[fe80::1%25lo]:25"});

    // Credentials, percent-decoded; the host starts after the LAST '@'.
    row("user-password", "smtp://user:s3cret@mx.test",
        {"smtp", "mx.test", 25, false, false, false, "user", "s3cret", "mx.test:25",
         "smtp://user@mx.test:25"});
    row("reference-example", "smtptls://user@gmail.com:password@smtp.gmail.com",
        {"smtptls", "smtp.gmail.com", 25, false, true, false, "user@gmail.com", "password",
         "smtp.gmail.com:25", "smtptls://user%40gmail.com@smtp.gmail.com:25"});
    row("password-colons", "smtp://u:pa:ss:x@mx.test:587",
        {"smtp", "mx.test", 587, false, false, false, "u", "pa:ss:x", "mx.test:587",
         "smtp://u@mx.test:587"});
    row("password-encoded-at", "smtp://u:p%40ss@mx.test",
        {"smtp", "mx.test", 25, false, false, false, "u", "p@ss", "mx.test:25", "smtp://u@mx.test:25"});
    row("password-raw-at", "smtp://u:p@ss@mx.test",
        {"smtp", "mx.test", 25, false, false, false, "u", "p@ss", "mx.test:25", "smtp://u@mx.test:25"});
    row("password-encoded-percent", "smtp://u:100%25@mx.test",
        {"smtp", "mx.test", 25, false, false, false, "u", "100%", "mx.test:25", "smtp://u@mx.test:25"});
    row("password-raw-delimiters", "smtp://u:a/b?c#d@mx.test",
        {"smtp", "mx.test", 25, false, false, false, "u", "a/b?c#d", "mx.test:25",
         "smtp://u@mx.test:25"});
    row("password-utf8-encoded", "smtp://u:p%C3%A4ss@mx.test",
        {"smtp", "mx.test", 25, false, false, false, "u", QString::fromUtf8("p\xc3\xa4ss"),
         "mx.test:25", "smtp://u@mx.test:25"});
    row("password-utf8-raw", QString::fromUtf8("smtp://u:p\xc3\xa4ss@mx.test"),
        {"smtp", "mx.test", 25, false, false, false, "u", QString::fromUtf8("p\xc3\xa4ss"),
         "mx.test:25", "smtp://u@mx.test:25"});
    row("user-encoded-colon", "smtp://us%3Aer:pw@mx.test",
        {"smtp", "mx.test", 25, false, false, false, "us:er", "pw", "mx.test:25",
         "smtp://us%3Aer@mx.test:25"});
    row("credentials-ipv6-port", "esmtps://me:pw@[::1]:4650",
        {"esmtps", "::1", 4650, true, false, false, "me", "pw", "[::1]:4650", "esmtps://me@[::1]:4650"});
    row("credentials-no-scheme", "me:pw@mx.test:26",
        {"smtp", "mx.test", 26, false, false, false, "me", "pw", "mx.test:26", "smtp://me@mx.test:26"});
    row("password-contains-scheme-sep", "u:a://b@mx.test",
        {"smtp", "mx.test", 25, false, false, false, "u", "a://b", "mx.test:25", "smtp://u@mx.test:25"});

    // UNIX socket paths: port 0.
    row("unix-bare", "/var/run/smtp.sock",
        {"smtp", "/var/run/smtp.sock", 0, false, false, true, none, none, "/var/run/smtp.sock",
         "smtp:///var/run/smtp.sock"});
    row("unix-scheme", "smtp:///tmp/mail.sock",
        {"smtp", "/tmp/mail.sock", 0, false, false, true, none, none, "/tmp/mail.sock",
         "smtp:///tmp/mail.sock"});
    row("unix-smtps", "smtps:///tmp/s",
        {"smtps", "/tmp/s", 0, true, false, true, none, none, "/tmp/s", "smtps:///tmp/s"});
    row("unix-credentials", "smtp://u:pw9x@/tmp/s",
        {"smtp", "/tmp/s", 0, false, false, true, "u", "pw9x", "/tmp/s", "smtp://u@/tmp/s"});
    row("unix-path-with-at", "/tmp/a@b.sock",
        {"smtp", "/tmp/a@b.sock", 0, false, false, true, none, none, "/tmp/a@b.sock",
         "smtp:///tmp/a@b.sock"});
    row("unix-colon-in-path", "/tmp/x:25",
        {"smtp", "/tmp/x:25", 0, false, false, true, none, none, "/tmp/x:25", "smtp:///tmp/x:25"});
    row("unix-max-length", "/" + QString(106, QLatin1Char('p')),
        {"smtp", "/" + QString(106, QLatin1Char('p')), 0, false, false, true, none, none,
         "/" + QString(106, QLatin1Char('p')), "smtp:///" + QString(106, QLatin1Char('p'))});

    // Host name forms.
    row("host-idn", QString::fromUtf8("smtp.ex\xc3\xa4mple.de"),
        {"smtp", QString::fromUtf8("smtp.ex\xc3\xa4mple.de"), 25, false, false, false, none, none,
         QString::fromUtf8("smtp.ex\xc3\xa4mple.de:25"),
         QString::fromUtf8("smtp://smtp.ex\xc3\xa4mple.de:25")});
    row("host-trailing-dot", "smtp.example.com.",
        {"smtp", "smtp.example.com.", 25, false, false, false, none, none, "smtp.example.com.:25",
         "smtp://smtp.example.com.:25"});
    row("host-underscore", "mail_relay.local",
        {"smtp", "mail_relay.local", 25, false, false, false, none, none, "mail_relay.local:25",
         "smtp://mail_relay.local:25"});
    row("host-label-63", QString(63, QLatin1Char('a')) + ".test",
        {"smtp", QString(63, QLatin1Char('a')) + ".test", 25, false, false, false, none, none,
         QString(63, QLatin1Char('a')) + ".test:25",
         "smtp://" + QString(63, QLatin1Char('a')) + ".test:25"});
    row("host-digits-label", "123.example",
        {"smtp", "123.example", 25, false, false, false, none, none, "123.example:25",
         "smtp://123.example:25"});
}

void TestSmtpUrl::accepted()
{
    QFETCH(QString, url);
    QFETCH(Ok, expected);
    SmtpError error = SmtpError::make(SmtpError::Category::Usage, "X", "Y", "Z");
    const std::optional<SmtpUrl> u = SmtpUrl::parse(url, &error);
    QVERIFY2(u.has_value(), qPrintable(error.toString()));
    QVERIFY(!error.isError());
    QCOMPARE(u->scheme, expected.scheme);
    QCOMPARE(u->host, expected.host);
    QCOMPARE(int(u->port), expected.port);
    QCOMPARE(u->ssl, expected.ssl);
    QCOMPARE(u->tls, expected.tls);
    QCOMPARE(u->unixSocket, expected.unixSocket);
    QCOMPARE(u->user, expected.user);
    QCOMPARE(u->password, expected.password);
    QCOMPARE(u->target(), expected.target);
    QCOMPARE(u->toDisplayString(), expected.display);
    if (!u->password.isEmpty())
        QVERIFY(!u->toDisplayString().contains(u->password));

    // The display form parses back to the same place. With a user it has no
    // password, so the parser must refuse it as partial credentials.
    SmtpError again;
    const std::optional<SmtpUrl> back = SmtpUrl::parse(u->toDisplayString(), &again);
    if (u->user.isEmpty()) {
        QVERIFY2(back.has_value(), qPrintable(again.toString()));
        QCOMPARE(back->scheme, u->scheme);
        QCOMPARE(back->host, u->host);
        QCOMPARE(back->port, u->port);
        QCOMPARE(back->unixSocket, u->unixSocket);
    } else {
        QVERIFY(!back.has_value());
        QCOMPARE(again.code, QStringLiteral("SMTPCLIENT-INVALID-AUTHENTICATION"));
    }

    // A null error pointer is allowed.
    QVERIFY(SmtpUrl::parse(url, nullptr).has_value());
}

void TestSmtpUrl::refused_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("messagePart");
    QTest::addColumn<QString>("secret"); // must not appear in the message
    const QString parse = QStringLiteral("PARSE-URL-ERROR");
    const QString unknown = QStringLiteral("SMTPCLIENT-UNKNOWN-PROTOCOL");
    const QString auth = QStringLiteral("SMTPCLIENT-INVALID-AUTHENTICATION");
    const QString allSchemes = QStringLiteral("smtp, smtps, smtptls, esmtp, esmtps, esmtptls");
    const QString none;
    const auto row = [](const char *name, const QString &url, const QString &code,
                        const QString &part, const QString &secret) {
        QTest::addRow("%s", name) << url << code << part << secret;
    };

    row("empty", "", parse, "empty", none);

    // Spaces and control characters anywhere.
    row("space-in-host", "smtp://mx test", parse, "space or control character", none);
    row("leading-space", " smtp://mx.test", parse, "position 1", none);
    row("trailing-space", "smtp://mx.test ", parse, "space or control", none);
    row("tab", "smtp://mx.test\t:25", parse, "control character", none);
    row("crlf-injection", "smtp://mx.test\r\nRCPT TO:<x>", parse, "control character", none);
    row("lf-in-password", "smtp://u:pw\nx@mx.test", parse, "control character", "pw");
    row("nul", QString::fromLatin1("smtp://mx.test\0x", 16), parse, "control character", none);
    row("del", "smtp://mx.te\x7fst", parse, "control character", none);
    row("c1-control", QString(QChar(0x85)) + "mx.test", parse, "control character", none);
    row("nbsp", "smtp://mx" + QString(QChar(0xa0)) + "test", parse, "space", none);

    // Schemes.
    row("unknown-http", "http://mx.test", unknown, allSchemes, none);
    row("unknown-lmtp", "lmtp://mx.test:24", unknown, "'lmtp'", none);
    row("unknown-smtpx", "smtpx://mx.test", unknown, allSchemes, none);
    row("unknown-imap-with-credentials", "imap://u:t0psecret@mx.test", unknown, allSchemes, "t0psecret");
    row("unknown-upper", "SMTPSS://mx.test", unknown, "'smtpss'", none);
    row("empty-scheme", "://mx.test", parse, "empty scheme", none);
    row("scheme-starts-with-digit", "1smtp://mx.test", parse, "not a valid URL scheme", none);
    row("scheme-bad-char", "sm_tp://mx.test", parse, "not a valid URL scheme", none);

    // No host.
    row("scheme-only", "smtp://", parse, "no host", none);
    row("port-only", "smtp://:25", parse, "no host", none);
    row("port-only-no-scheme", ":25", parse, "no host", none);
    row("credentials-only", "smtp://u:pw0rd@", parse, "no host", "pw0rd");
    row("credentials-port-only", "smtp://u:pw0rd@:25", parse, "no host", "pw0rd");

    // IPv6 brackets.
    row("ipv6-empty", "smtp://[]:25", parse, "empty IPv6", none);
    row("ipv6-unclosed", "[::1", parse, "without a closing ']'", none);
    row("ipv6-junk-after", "[::1]x", parse, "after ']'", none);
    row("ipv6-missing-colon", "[::1]25", parse, "after ']'", none);
    row("ipv6-bad-literal", "[::g]", parse, "not an IPv6 address", none);
    row("ipv6-brackets-ipv4", "[127.0.0.1]:25", parse, "not an IPv6 address", none);
    row("ipv6-brackets-name", "[mx.test]", parse, "only for IPv6", none);
    row("ipv6-unbracketed", "::1", parse, "in brackets", none);
    row("ipv6-unbracketed-scheme", "smtp://2001:db8::1:25", parse, "in brackets", none);
    row("ipv6-empty-port", "[::1]:", parse, "empty port", none);

    // Ports. The port text is never echoed: "user:password" without "@host"
    // reads as host:port.
    row("port-zero", "mx.test:0", parse, "port 0", none);
    row("port-65536", "mx.test:65536", parse, "out of range", none);
    row("port-huge", "mx.test:99999999999999999999", parse, "out of range", none);
    row("port-letters", "mx.test:smtp", parse, "not a number", none);
    row("port-negative", "mx.test:-1", parse, "not a number", none);
    row("port-plus", "mx.test:+25", parse, "not a number", none);
    row("port-trailing-junk", "mx.test:25x", parse, "not a number", none);
    row("port-empty", "mx.test:", parse, "empty port", none);
    row("forgotten-host-password-as-port", "smtp://alice:hunter2", parse, "not a number", "hunter2");
    row("ipv6-port-range", "[::1]:70000", parse, "out of range", none);

    // Path, query, fragment.
    row("path-slash", "smtp://mx.test/", parse, "path", none);
    row("path-after-port", "smtp://mx.test:25/inbox", parse, "path", none);
    row("path-after-ipv6", "smtp://[::1]:25/x", parse, "path", none);
    row("query", "smtp://mx.test?x=1", parse, "query", none);
    row("query-after-port", "smtps://mx.test:465?tls=1", parse, "query", none);
    row("fragment", "smtp://mx.test#top", parse, "fragment", none);
    row("unix-query", "/tmp/s.sock?x", parse, "query or fragment", none);
    row("unix-fragment", "smtp:///tmp/s.sock#x", parse, "query or fragment", none);
    row("unix-empty-path", "smtp:///", parse, "UNIX socket path is empty", none);
    row("unix-too-long", "/" + QString(107, QLatin1Char('p')), parse, "longer than 107", none);

    // Host names.
    row("host-bang", "smtp://mx!.test", parse, "invalid character '!'", none);
    row("host-percent", "smtp://mx%41.test", parse, "invalid character '%'", none);
    row("host-double-dot", "smtp://mx..test", parse, "empty label", none);
    row("host-leading-dot", ".mx.test", parse, "empty label", none);
    row("host-leading-hyphen", "-mx.test", parse, "'-'", none);
    row("host-trailing-hyphen", "mx-.test", parse, "'-'", none);
    row("host-label-64", QString(64, QLatin1Char('a')) + ".test", parse, "longer than 63", none);
    row("host-too-long", (QString(60, QLatin1Char('a')) + ".").repeated(5) + "test", parse,
        "longer than 253", none);
    row("host-bad-ipv4-octet", "999.1.1.1", parse, "not a valid IPv4", none);
    row("host-short-ipv4", "10.1.1", parse, "not a valid IPv4", none);
    row("host-numeric-only", "smtp://12345", parse, "not a valid IPv4", none);
    row("host-symbol", QString::fromUtf8("mx\xe2\x82\xac.test"), parse, "invalid character", none);

    // Credentials: both or neither (reference SMTPCLIENT-INVALID-AUTHENTICATION).
    row("user-no-password", "smtp://alice@mx.test", auth, "without a password", none);
    row("user-empty-password", "smtp://alice:@mx.test", auth, "without a password", none);
    row("password-no-user", "smtp://:s3cr3t@mx.test", auth, "without a user name", "s3cr3t");
    row("password-no-user-no-scheme", ":s3cr3t@mx.test", auth, "without a user name", "s3cr3t");
    row("at-only", "smtp://@mx.test", auth, "no user name or password", none);
    row("colon-at-only", ":@mx.test", auth, "no user name or password", none);
    row("reference-example-no-password", "smtptls://user@gmail.com@smtp.gmail.com", auth,
        "without a password", none);
    row("user-encoded-empty-password", "smtp://al%69ce@mx.test", auth, "without a password", none);

    // Percent-decoding of credentials.
    row("password-bad-escape", "smtp://u:p%zzsecret@mx.test", parse, "password contains a '%'", "p%zzsecret");
    row("password-truncated-escape", "smtp://u:secret%4@mx.test", parse, "password contains a '%'", "secret%4");
    row("password-lone-percent", "smtp://u:secret%@mx.test", parse, "password contains a '%'", "secret%");
    row("user-bad-escape", "smtp://u%4:pw@mx.test", parse, "user name contains a '%'", none);
    row("password-encoded-crlf", "smtp://u:x%0D%0AMAIL%20FROM@mx.test", parse,
        "password contains a control character", "MAIL");
    row("password-encoded-nul", "smtp://u:a%00b@mx.test", parse,
        "password contains a control character", "a%00b");
    row("user-encoded-lf", "smtp://u%0Ax:pw@mx.test", parse, "user name contains a control character", none);
    row("password-invalid-utf8", "smtp://u:%C3%28secret@mx.test", parse, "not valid UTF-8", "secret");
}

void TestSmtpUrl::refused()
{
    QFETCH(QString, url);
    QFETCH(QString, code);
    QFETCH(QString, messagePart);
    QFETCH(QString, secret);
    SmtpError error;
    const std::optional<SmtpUrl> u = SmtpUrl::parse(url, &error);
    QVERIFY2(!u.has_value(), qPrintable(QStringLiteral("accepted: host '%1'").arg(u ? u->host : QString())));
    QCOMPARE(error.code, code);
    QCOMPARE(error.category, SmtpError::Category::Usage);
    QCOMPARE(error.step, QStringLiteral("URL"));
    QVERIFY2(error.message.contains(messagePart, Qt::CaseInsensitive),
             qPrintable(QStringLiteral("message '%1' lacks '%2'").arg(error.message, messagePart)));
    if (!secret.isEmpty())
        QVERIFY2(!error.toString().contains(secret), qPrintable(error.toString()));
    // Refused with a null error pointer too.
    QVERIFY(!SmtpUrl::parse(url, nullptr).has_value());
}

void TestSmtpUrl::errorIsClearedOnSuccess()
{
    SmtpError error;
    QVERIFY(!SmtpUrl::parse(QStringLiteral("http://x"), &error).has_value());
    QVERIFY(error.isError());
    QVERIFY(SmtpUrl::parse(QStringLiteral("smtp://x.test"), &error).has_value());
    QVERIFY(!error.isError());
    QVERIFY(error.code.isEmpty());
}

void TestSmtpUrl::targetAndDisplayOfBuiltUrls_data()
{
    QTest::addColumn<QString>("scheme");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<bool>("unixSocket");
    QTest::addColumn<QString>("user");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("display");
    QTest::addRow("v4") << "smtp" << "10.0.0.1" << 25 << false << "" << "10.0.0.1:25"
                        << "smtp://10.0.0.1:25";
    QTest::addRow("v6") << "smtps" << "2001:db8::2" << 465 << false << "" << "[2001:db8::2]:465"
                        << "smtps://[2001:db8::2]:465";
    QTest::addRow("user-specials") << "esmtp" << "mx.test" << 587 << false << "a b/c?d#e[f]%"
                                   << "mx.test:587" << "esmtp://a%20b%2Fc%3Fd%23e%5Bf%5D%25@mx.test:587";
    // parse() refuses a raw NBSP (or any space): escaped, the display parses back.
    QTest::addRow("user-nbsp") << "esmtp" << "mx.test" << 587 << false << QStringLiteral("a\u00a0b")
                               << "mx.test:587" << "esmtp://a%C2%A0b@mx.test:587";
    QTest::addRow("unix") << "smtp" << "/run/s" << 0 << true << "" << "/run/s" << "smtp:///run/s";
}

void TestSmtpUrl::targetAndDisplayOfBuiltUrls()
{
    QFETCH(QString, scheme);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(bool, unixSocket);
    QFETCH(QString, user);
    QFETCH(QString, target);
    QFETCH(QString, display);
    SmtpUrl u;
    u.scheme = scheme;
    u.host = host;
    u.port = quint16(port);
    u.unixSocket = unixSocket;
    u.user = user;
    u.password = QStringLiteral("never-shown");
    QCOMPARE(u.target(), target);
    QCOMPARE(u.toDisplayString(), display);
}

QTEST_GUILESS_MAIN(TestSmtpUrl)
#include "tst_smtpurl.moc"
