// SmtpError: category names, the one-line text, and SmtpException::what().

#include "client/smtperror.h"

#include <QTest>

using Cat = SmtpError::Category;
Q_DECLARE_METATYPE(SmtpError::Category)

class TestSmtpError : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void categoryName_data();
    void categoryName();
    void toString_data();
    void toString();
    void exception();
};

void TestSmtpError::categoryName_data()
{
    QTest::addColumn<Cat>("category");
    QTest::addColumn<QString>("name");
    QTest::addRow("none") << Cat::None << "none";
    QTest::addRow("usage") << Cat::Usage << "usage";
    QTest::addRow("message") << Cat::Message << "message";
    QTest::addRow("transport") << Cat::Transport << "transport";
    QTest::addRow("tls") << Cat::Tls << "tls";
    QTest::addRow("protocol") << Cat::Protocol << "protocol";
    QTest::addRow("reply") << Cat::Reply << "reply";
    QTest::addRow("auth") << Cat::Auth << "auth";
}

void TestSmtpError::categoryName()
{
    QFETCH(Cat, category);
    QFETCH(QString, name);
    QCOMPARE(SmtpError::categoryName(category), name);
}

void TestSmtpError::toString_data()
{
    QTest::addColumn<Cat>("category");
    QTest::addColumn<QString>("code");
    QTest::addColumn<QString>("step");
    QTest::addColumn<QString>("message");
    QTest::addColumn<int>("replyCode");
    QTest::addColumn<QString>("enhanced");
    QTest::addColumn<QByteArray>("serverText");
    QTest::addColumn<QString>("expected");

    QTest::addRow("no-error") << Cat::None << "" << "" << "" << 0 << "" << QByteArray()
                              << "no error";
    QTest::addRow("full-reply") << Cat::Reply << "SMTP-REPLY-ERROR" << "RCPT TO"
                                << "the server refused the recipient" << 550 << "5.7.1"
                                << QByteArray("relaying denied")
                                << "SMTP-REPLY-ERROR: RCPT TO: the server refused the recipient "
                                   "(server: 550 5.7.1 relaying denied)";
    QTest::addRow("no-enhanced") << Cat::Reply << "SMTP-REPLY-ERROR" << "MAIL FROM" << "refused"
                                 << 451 << "" << QByteArray("try later")
                                 << "SMTP-REPLY-ERROR: MAIL FROM: refused (server: 451 try later)";
    QTest::addRow("no-server-part") << Cat::Message << "MESSAGE-ERROR" << "" << "no sender"
                                    << 0 << "" << QByteArray()
                                    << "MESSAGE-ERROR: no sender";
    QTest::addRow("no-code-uses-category") << Cat::Transport << "" << "connect"
                                           << "connection refused" << 0 << "" << QByteArray()
                                           << "TRANSPORT-ERROR: connect: connection refused";
    QTest::addRow("multi-line-text") << Cat::Reply << "SMTP-REPLY-ERROR" << "EHLO" << "refused"
                                     << 554 << "" << QByteArray("first line\r\nsecond line\r\n")
                                     << "SMTP-REPLY-ERROR: EHLO: refused "
                                        "(server: 554 first line / second line)";
    // docs/security.md section E: server bytes never reach a log line raw.
    QTest::addRow("control-bytes-escaped")
        << Cat::Protocol << "SMTP-PROTOCOL-ERROR" << "greeting" << "bad reply" << 0 << ""
        << QByteArray("a\x1b[2Jb\x00" "c", 8)
        << "SMTP-PROTOCOL-ERROR: greeting: bad reply (server: a\\x1b[2Jb\\x00c)";
    QTest::addRow("bidi-override-escaped")
        << Cat::Protocol << "SMTP-PROTOCOL-ERROR" << "greeting" << "bad" << 0 << ""
        << QByteArray("x\xe2\x80\xaey") << "SMTP-PROTOCOL-ERROR: greeting: bad (server: x\\x202ey)";
    QTest::addRow("invalid-utf8-replaced")
        << Cat::Protocol << "SMTP-PROTOCOL-ERROR" << "" << "bad" << 0 << ""
        << QByteArray("caf\xe9") << QString::fromUtf8("SMTP-PROTOCOL-ERROR: bad (server: caf\xef\xbf\xbd)");
}

void TestSmtpError::toString()
{
    QFETCH(Cat, category);
    QFETCH(QString, code);
    QFETCH(QString, step);
    QFETCH(QString, message);
    QFETCH(int, replyCode);
    QFETCH(QString, enhanced);
    QFETCH(QByteArray, serverText);
    QFETCH(QString, expected);
    SmtpError e = SmtpError::make(category, code, step, message);
    e.replyCode = replyCode;
    e.enhancedCode = enhanced;
    e.serverText = serverText;
    QCOMPARE(e.isError(), category != Cat::None);
    QCOMPARE(e.toString(), expected);
}

void TestSmtpError::exception()
{
    SmtpError e = SmtpError::make(Cat::Usage, QStringLiteral("PARSE-URL-ERROR"),
                                  QStringLiteral("URL"), QString::fromUtf8("h\xc3\xb6st is bad"));
    try {
        throw SmtpException(e);
    } catch (const std::exception &ex) {
        QCOMPARE(QByteArray(ex.what()), e.toString().toUtf8());
        const auto *smtp = dynamic_cast<const SmtpException *>(&ex);
        QVERIFY(smtp);
        QCOMPARE(smtp->error().code, QStringLiteral("PARSE-URL-ERROR"));
        QCOMPARE(smtp->error().category, Cat::Usage);
        QCOMPARE(smtp->error().message, e.message);
    }
}

QTEST_GUILESS_MAIN(TestSmtpError)
#include "tst_smtperror.moc"
