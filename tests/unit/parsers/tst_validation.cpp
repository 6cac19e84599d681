// Validation of user input before it reaches a command line (docs/security.md section C,
// RFC 5321 4.1.2 and 4.5.3.1, RFC 5890/6531, RFC 3461 4).

#include "protocol/validation.h"

#include <QTest>

class TestValidation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void controlChars_data();
    void controlChars();
    void mailbox_data();
    void mailbox();
    void mailboxNullErrorPointer();
    void ehloName_data();
    void ehloName();
    void xtext_data();
    void xtext();
};

void TestValidation::controlChars_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("named"); // what the message must name; empty when valid

    QTest::addRow("plain") << QStringLiteral("sender@example.org") << QString();
    QTest::addRow("unicode") << QStringLiteral("j\u00f6rg \u202e text") << QString();
    QTest::addRow("empty") << QString() << QString();
    QTest::addRow("CRLF") << QStringLiteral("sender@example.com\r\nDATA") << QStringLiteral("CR");
    QTest::addRow("bare LF") << QStringLiteral("a@b.c\nRSET") << QStringLiteral("LF");
    QTest::addRow("bare CR") << QStringLiteral("a@b.c\rX") << QStringLiteral("CR");
    QTest::addRow("NUL") << QString::fromLatin1("a\0b", 3) << QStringLiteral("NUL");
    QTest::addRow("TAB") << QStringLiteral("a\tb") << QStringLiteral("TAB");
    QTest::addRow("SOH") << QStringLiteral("a\x01") << QStringLiteral("U+0001");
    QTest::addRow("ESC") << QStringLiteral("\x1b[2J") << QStringLiteral("U+001B");
    QTest::addRow("US") << QStringLiteral("a\x1f") << QStringLiteral("U+001F");
    QTest::addRow("DEL") << QStringLiteral("a\x7f") << QStringLiteral("DEL");
}

void TestValidation::controlChars()
{
    QFETCH(QString, value);
    QFETCH(QString, named);
    const Smtp::ValidationError error = Smtp::checkNoControlChars(value, u"sender address");
    QCOMPARE(error.has_value(), !named.isEmpty());
    if (error) {
        QVERIFY2(error->contains(named), qPrintable(*error));
        QVERIFY2(error->startsWith(QStringLiteral("sender address")), qPrintable(*error));
    }
}

void TestValidation::mailbox_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<bool>("allowEmpty");
    QTest::addColumn<QByteArray>("wire");    // expected wire form; ignored when invalid
    QTest::addColumn<bool>("needsUtf8");
    QTest::addColumn<QString>("error");      // substring of the error; empty when valid

    const QString local64(64, QLatin1Char('l'));
    const QString label63(63, QLatin1Char('d'));
    // 4 labels of 63 and 3 dots: 255 octets.
    const QString domain255 = label63 + u'.' + label63 + u'.' + label63 + u'.' + label63;
    // Labels of at most 63 octets, 256 octets in all.
    const QString domain256 = label63 + u'.' + label63 + u'.' + label63 + u'.' + QString(62, u'e')
            + QStringLiteral(".f");
    // "a@" + 252 octets + "<>" = 256 octets, the path limit.
    const QString domain252 = label63 + u'.' + label63 + u'.' + label63 + u'.' + QString(60, u'e');

    QTest::addRow("simple") << QStringLiteral("user@example.org") << false
                            << QByteArray("user@example.org") << false << QString();
    QTest::addRow("atext specials") << QStringLiteral("a!#$%&'*+-/=?^_`{|}~z@example.org") << false
                                    << QByteArray("a!#$%&'*+-/=?^_`{|}~z@example.org") << false
                                    << QString();
    QTest::addRow("dots kept as given") << QStringLiteral("a..b.@example.org") << false
                                        << QByteArray("a..b.@example.org") << false << QString();
    QTest::addRow("null reverse-path allowed") << QString() << true << QByteArray() << false << QString();
    QTest::addRow("empty refused") << QString() << false << QByteArray() << false
                                   << QStringLiteral("empty");
    // Catalogue C.21-C.23.
    QTest::addRow("CRLF in sender") << QStringLiteral("sender@example.com\r\nDATA") << false
                                    << QByteArray() << false << QStringLiteral("CR");
    QTest::addRow("CRLF in quoted local part")
            << QStringLiteral("\"x\r\nRCPT TO:<evil@x>\"@example.com") << false << QByteArray() << false
            << QStringLiteral("CR");
    QTest::addRow("bare LF") << QStringLiteral("a@b.c\nRSET") << false << QByteArray() << false
                             << QStringLiteral("LF");
    QTest::addRow("bare CR") << QStringLiteral("a@b.c\rX") << false << QByteArray() << false
                             << QStringLiteral("CR");
    QTest::addRow("NUL") << QString::fromLatin1("a\0b@c.d", 7) << false << QByteArray() << false
                         << QStringLiteral("NUL");
    QTest::addRow("C0 control") << QStringLiteral("a\x01@b.c") << false << QByteArray() << false
                                << QStringLiteral("U+0001");
    QTest::addRow("DEL") << QStringLiteral("a\x7f@b.c") << false << QByteArray() << false
                         << QStringLiteral("DEL");
    QTest::addRow("no at") << QStringLiteral("user.example.org") << false << QByteArray() << false
                           << QStringLiteral("no '@'");
    QTest::addRow("empty local part") << QStringLiteral("@example.org") << false << QByteArray()
                                      << false << QStringLiteral("before '@' is empty");
    QTest::addRow("empty domain") << QStringLiteral("user@") << false << QByteArray() << false
                                  << QStringLiteral("after '@' is empty");
    QTest::addRow("space") << QStringLiteral("us er@example.org") << false << QByteArray() << false
                           << QStringLiteral("outside a quoted");
    QTest::addRow("angle brackets") << QStringLiteral("<user@example.org>") << false << QByteArray()
                                    << false << QStringLiteral("'<'");
    QTest::addRow("display name") << QStringLiteral("Name <u@example.org>") << false << QByteArray()
                                  << false << QStringLiteral("outside a quoted");
    QTest::addRow("trailing space") << QStringLiteral("user@example.org ") << false << QByteArray()
                                    << false << QStringLiteral("' '");
    QTest::addRow("comma") << QStringLiteral("a,b@example.org") << false << QByteArray() << false
                           << QStringLiteral("','");
    QTest::addRow("two ats") << QStringLiteral("a@b@example.org") << false << QByteArray() << false
                             << QStringLiteral("'@'");
    QTest::addRow("quoted with space") << QStringLiteral("\"john doe\"@example.org") << false
                                       << QByteArray("\"john doe\"@example.org") << false << QString();
    QTest::addRow("quoted with at and escapes") << QStringLiteral("\"a@\\\"b\\\\\"@example.org") << false
                                                << QByteArray("\"a@\\\"b\\\\\"@example.org") << false
                                                << QString();
    QTest::addRow("quoted unterminated") << QStringLiteral("\"john@example.org") << false
                                         << QByteArray() << false << QStringLiteral("closing");
    QTest::addRow("quoted then text") << QStringLiteral("\"john\"x@example.org") << false
                                      << QByteArray() << false << QStringLiteral("'@' must follow");
    QTest::addRow("quoted backslash at end") << QStringLiteral("\"john\\") << false << QByteArray()
                                             << false << QStringLiteral("backslash");
    QTest::addRow("local part 64") << local64 + QStringLiteral("@example.org") << false
                                   << (local64 + QStringLiteral("@example.org")).toLatin1() << false
                                   << QString();
    QTest::addRow("local part 65") << local64 + QStringLiteral("x@example.org") << false << QByteArray()
                                   << false << QStringLiteral("limit is 64");
    QTest::addRow("non-ASCII local part counted in octets")
            << QString(32, QChar(0xe9)) + QStringLiteral("x@example.org") << false << QByteArray()
            << true << QStringLiteral("limit is 64");
    QTest::addRow("path 256") << QStringLiteral("a@") + domain252 << false
                              << (QStringLiteral("a@") + domain252).toLatin1() << false << QString();
    QTest::addRow("path 257") << QStringLiteral("ab@") + domain252 << false << QByteArray() << false
                              << QStringLiteral("limit is 254");
    QTest::addRow("domain 255 but path too long") << QStringLiteral("a@") + domain255 << false
                                                  << QByteArray() << false
                                                  << QStringLiteral("angle brackets");
    QTest::addRow("domain 256") << QStringLiteral("a@") + domain256 << false
                                << QByteArray() << false << QStringLiteral("limit is 255");
    QTest::addRow("label 64") << QStringLiteral("a@") + label63 + QStringLiteral("x.org") << false
                              << QByteArray() << false << QStringLiteral("longer than 63");
    QTest::addRow("underscore") << QStringLiteral("user@exa_mple.org") << false << QByteArray() << false
                                << QStringLiteral("'_'");
    QTest::addRow("hyphen at label start") << QStringLiteral("user@-example.org") << false
                                           << QByteArray() << false << QStringLiteral("'-'");
    QTest::addRow("trailing dot") << QStringLiteral("user@example.org.") << false << QByteArray()
                                  << false << QStringLiteral("empty label");
    QTest::addRow("double dot in domain") << QStringLiteral("user@example..org") << false
                                          << QByteArray() << false << QStringLiteral("empty label");
    QTest::addRow("single label domain") << QStringLiteral("root@localhost") << false
                                         << QByteArray("root@localhost") << false << QString();
    QTest::addRow("IDN domain to punycode") << QStringLiteral("user@b\u00fccher.example") << false
                                            << QByteArray("user@xn--bcher-kva.example") << false
                                            << QString();
    QTest::addRow("IDN domain upper case mapped") << QStringLiteral("user@B\u00dcCHER.example") << false
                                                  << QByteArray("user@xn--bcher-kva.example") << false
                                                  << QString();
    QTest::addRow("A-label domain kept") << QStringLiteral("user@xn--bcher-kva.example") << false
                                         << QByteArray("user@xn--bcher-kva.example") << false
                                         << QString();
    QTest::addRow("non-ASCII local part") << QStringLiteral("j\u00f6rg@example.org") << false
                                          << QByteArray("j\xc3\xb6rg@example.org") << true << QString();
    QTest::addRow("non-ASCII local and domain")
            << QStringLiteral("j\u00f6rg@b\u00fccher.example") << false
            << QByteArray("j\xc3\xb6rg@b\xc3\xbc" "cher.example") << true << QString();
    QTest::addRow("lone surrogate") << (QStringLiteral("a") + QChar(0xd800) + QStringLiteral("@b.c"))
                                    << false << QByteArray() << false << QStringLiteral("Unicode");
    QTest::addRow("IPv4 literal") << QStringLiteral("user@[192.0.2.1]") << false
                                  << QByteArray("user@[192.0.2.1]") << false << QString();
    QTest::addRow("IPv6 literal") << QStringLiteral("user@[IPv6:2001:db8::1]") << false
                                  << QByteArray("user@[IPv6:2001:db8::1]") << false << QString();
    QTest::addRow("IPv6 full literal") << QStringLiteral("user@[IPv6:2001:db8:0:0:0:0:0:1]") << false
                                       << QByteArray("user@[IPv6:2001:db8:0:0:0:0:0:1]") << false
                                       << QString();
    QTest::addRow("IPv6 v4 literal") << QStringLiteral("user@[IPv6:::ffff:192.0.2.1]") << false
                                     << QByteArray("user@[IPv6:::ffff:192.0.2.1]") << false << QString();
    QTest::addRow("general literal") << QStringLiteral("user@[x-tag:abc]") << false
                                     << QByteArray("user@[x-tag:abc]") << false << QString();
    QTest::addRow("IPv4 octet over 255") << QStringLiteral("user@[300.1.1.1]") << false << QByteArray()
                                         << false << QStringLiteral("address literal");
    QTest::addRow("IPv4 three parts") << QStringLiteral("user@[1.2.3]") << false << QByteArray()
                                      << false << QStringLiteral("address literal");
    QTest::addRow("IPv6 bad hex") << QStringLiteral("user@[IPv6:zz::1]") << false << QByteArray()
                                  << false << QStringLiteral("address literal");
    QTest::addRow("IPv6 two compressions") << QStringLiteral("user@[IPv6:1::2::3]") << false
                                           << QByteArray() << false << QStringLiteral("address literal");
    QTest::addRow("IPv6 seven groups") << QStringLiteral("user@[IPv6:1:2:3:4:5:6:7]") << false
                                       << QByteArray() << false << QStringLiteral("address literal");
    QTest::addRow("unterminated literal") << QStringLiteral("user@[192.0.2.1") << false << QByteArray()
                                          << false << QStringLiteral("address literal");
}

void TestValidation::mailbox()
{
    QFETCH(QString, address);
    QFETCH(bool, allowEmpty);
    QFETCH(QByteArray, wire);
    QFETCH(bool, needsUtf8);
    QFETCH(QString, error);

    QString message = QStringLiteral("not touched");
    const std::optional<Smtp::Mailbox> mailbox =
            Smtp::parseMailbox(address, u"recipient address", &message, allowEmpty);
    QCOMPARE(mailbox.has_value(), error.isEmpty());
    if (mailbox) {
        QVERIFY(message.isEmpty());
        QCOMPARE(mailbox->wire, wire);
        QCOMPARE(mailbox->needsSmtpUtf8, needsUtf8);
        // Whatever was accepted can never end or split a command line.
        QVERIFY(!mailbox->wire.contains('\r') && !mailbox->wire.contains('\n')
                && !mailbox->wire.contains('\0'));
    } else {
        QVERIFY2(message.contains(error), qPrintable(message));
        QVERIFY2(message.startsWith(QStringLiteral("recipient address")), qPrintable(message));
    }
}

void TestValidation::mailboxNullErrorPointer()
{
    QVERIFY(!Smtp::parseMailbox(u"a\r\nb@c.d", u"sender", nullptr));
    QVERIFY(!Smtp::parseMailbox(u"", u"sender", nullptr));
    QVERIFY(Smtp::parseMailbox(u"a@c.d", u"sender", nullptr));
}

void TestValidation::ehloName_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("error"); // substring; empty when valid

    QTest::addRow("domain") << QStringLiteral("mail.example.org") << QString();
    QTest::addRow("single label") << QStringLiteral("localhost") << QString();
    QTest::addRow("IPv4 literal") << QStringLiteral("[127.0.0.1]") << QString();
    QTest::addRow("IPv6 literal") << QStringLiteral("[IPv6:::1]") << QString();
    QTest::addRow("255 octets") << QString(63, u'a') + u'.' + QString(63, u'b') + u'.' + QString(63, u'c')
                    + u'.' + QString(63, u'd')
                                << QString();
    QTest::addRow("empty") << QString() << QStringLiteral("empty");
    QTest::addRow("CRLF") << QStringLiteral("host\r\nMAIL FROM:<x>") << QStringLiteral("CR");
    QTest::addRow("bare LF") << QStringLiteral("host\nRSET") << QStringLiteral("LF");
    QTest::addRow("NUL") << QString::fromLatin1("host\0", 5) << QStringLiteral("NUL");
    QTest::addRow("space") << QStringLiteral("my host") << QStringLiteral("space");
    QTest::addRow("256 octets") << QString(63, u'a') + u'.' + QString(63, u'b') + u'.' + QString(63, u'c')
                    + u'.' + QString(64, u'd')
                                << QStringLiteral("255");
    QTest::addRow("IDN") << QStringLiteral("b\u00fccher.example") << QStringLiteral("xn--bcher-kva.example");
    QTest::addRow("underscore") << QStringLiteral("my_pc") << QStringLiteral("'_'");
    QTest::addRow("leading hyphen") << QStringLiteral("-host") << QStringLiteral("'-'");
    QTest::addRow("trailing dot") << QStringLiteral("host.example.") << QStringLiteral("empty label");
    QTest::addRow("bad literal") << QStringLiteral("[1.2.3.4") << QStringLiteral("address literal");
    QTest::addRow("angle bracket") << QStringLiteral("host>") << QStringLiteral("'>'");
}

void TestValidation::ehloName()
{
    QFETCH(QString, name);
    QFETCH(QString, error);
    const Smtp::ValidationError got = Smtp::checkEhloName(name);
    QCOMPARE(got.has_value(), !error.isEmpty());
    if (got) {
        QVERIFY2(got->contains(error), qPrintable(*got));
        QVERIFY2(got->contains(QStringLiteral("EHLO name")), qPrintable(*got));
    }
}

void TestValidation::xtext_data()
{
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QByteArray>("encoded");

    QTest::addRow("plain") << QByteArray("abc-123") << QByteArray("abc-123");
    QTest::addRow("empty") << QByteArray() << QByteArray();
    QTest::addRow("plus") << QByteArray("a+b") << QByteArray("a+2Bb");
    QTest::addRow("equals") << QByteArray("a=b") << QByteArray("a+3Db");
    QTest::addRow("space") << QByteArray("a b") << QByteArray("a+20b");
    QTest::addRow("CRLF") << QByteArray("x\r\nRCPT TO:<y>") << QByteArray("x+0D+0ARCPT+20TO:<y>");
    QTest::addRow("NUL") << QByteArray("\0", 1) << QByteArray("+00");
    QTest::addRow("DEL") << QByteArray("\x7f") << QByteArray("+7F");
    QTest::addRow("8-bit") << QByteArray("\xc3\xa9") << QByteArray("+C3+A9");
    QTest::addRow("bounds") << QByteArray("!~") << QByteArray("!~");
    QTest::addRow("message id") << QByteArray("<id.1@host>") << QByteArray("<id.1@host>");
}

void TestValidation::xtext()
{
    QFETCH(QByteArray, value);
    QFETCH(QByteArray, encoded);
    QCOMPARE(Smtp::xtextEncode(value), encoded);
}

QTEST_GUILESS_MAIN(TestValidation)
#include "tst_validation.moc"
