// Transcript tests of Capture::ServerSession (core/capture/serversession.h).
//
// Each row is a named C:/S:/A: script (servertranscript.h) with a server
// configuration and fault specs. Every script is replayed with each client chunk
// fed whole, split in two at every byte offset, and byte by byte; every replay
// must match the script.

#include "servertranscript.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>
#include <QTest>

using namespace ServerTranscript;

namespace {

// Greeting and EHLO with the default test configuration (max=1000); `extra`
// are the capability lines after ENHANCEDSTATUSCODES.
QString opening(const QStringList &extra = {}, const QString &host = QStringLiteral("smtpscope.capture"))
{
    QStringList caps = {host,
                        QStringLiteral("PIPELINING"),
                        QStringLiteral("SIZE 1000"),
                        QStringLiteral("8BITMIME"),
                        QStringLiteral("SMTPUTF8"),
                        QStringLiteral("CHUNKING"),
                        QStringLiteral("ENHANCEDSTATUSCODES")};
    caps += extra;
    QString s = QStringLiteral("! start\nS: 220 %1 ESMTP\nC: EHLO client.test\n").arg(host);
    for (qsizetype i = 0; i < caps.size(); ++i)
        s += QStringLiteral("S: 250%1%2\n").arg(i + 1 < caps.size() ? QStringLiteral("-") : QStringLiteral(" "), caps[i]);
    return s;
}

// MAIL and one RCPT accepted.
const QString Envelope = QStringLiteral("C: MAIL FROM:<a@x.test>\nS: 250 2.1.0 Ok\n"
                                        "C: RCPT TO:<b@y.test>\nS: 250 2.1.5 Ok\n");

// One complete DATA message, stored as `id`.
QString message(const QString &id)
{
    return Envelope + QStringLiteral("C: DATA\nA: MessageBegin a@x.test b@y.test\nS: 354 End data with <CR><LF>.<CR><LF>\n"
                                     "C: Subject: %1\nC: \nC: body\nC: .\n"
                                     "D: Subject: %1\nD: \nD: body\nA: MessageEnd\n! stored ok %1\n"
                                     "S: 250 2.0.0 Ok: queued as %1\n")
                          .arg(id);
}

void row(const char *name, const QString &config, const QStringList &faults, const QString &script)
{
    QTest::addRow("%s", name) << config << faults << script;
}

QByteArray b64(QByteArrayView text)
{
    return text.toByteArray().toBase64();
}

} // namespace

class tst_ServerSession : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void transcript_data();
    void transcript();
    void harnessCatchesMistakes_data();
    void harnessCatchesMistakes();
    void tooManyRecipients();
    void largeMessageInChunks_data();
    void largeMessageInChunks();
    void faultCountersSharedBetweenSessions();
    void authThrottleSharedByAddress();
    void authThrottleForgetsAfterTheWindow();
    void authThrottleTableIsBounded();
    void progressCountsCompleteCommandsAndData();
};

void tst_ServerSession::transcript_data()
{
    QTest::addColumn<QString>("config");
    QTest::addColumn<QStringList>("faults");
    QTest::addColumn<QString>("script");

    const QStringList none;
    const QString tlsCaps = QStringLiteral("STARTTLS");
    const QString authCaps = QStringLiteral("AUTH PLAIN LOGIN CRAM-MD5");

    // ------------------------------------------------------------ greeting, EHLO, HELO

    row("greeting and EHLO capabilities, no TLS, no AUTH", {}, none, opening() + QStringLiteral(R"(
        ! expect closed=0 encrypted=0
    )"));

    row("SIZE without a limit is offered bare", QStringLiteral("max=0"), none, QStringLiteral(R"(
        ! start
        S: 220 smtpscope.capture ESMTP
        C: EHLO client.test
        S: 250-smtpscope.capture
        S: 250-PIPELINING
        S: 250-SIZE
        S: 250-8BITMIME
        S: 250-SMTPUTF8
        S: 250-CHUNKING
        S: 250 ENHANCEDSTATUSCODES
    )"));

    row("STARTTLS offered with a certificate; AUTH not in plaintext", QStringLiteral("tls=1 user=alice pass=s3cret"),
        none, opening({tlsCaps}));

    row("AUTH offered in plaintext when allowed", QStringLiteral("tls=1 user=alice pass=s3cret plain=1"), none,
        opening({tlsCaps, authCaps}));

    row("implicit TLS: AUTH offered, no STARTTLS", QStringLiteral("tls=1 implicit=1 user=alice pass=s3cret"), none,
        opening({authCaps}) + QStringLiteral("! expect encrypted=1\n"));

    row("HELO then a transaction", {}, none, QStringLiteral(R"(
        ! start
        S: 220 smtpscope.capture ESMTP
        C: HELO client.test
        S: 250 smtpscope.capture
        C: MAIL FROM:<a@x.test>
        S: 250 2.1.0 Ok
    )"));

    row("EHLO and HELO need a domain", {}, none, QStringLiteral(R"(
        ! start
        S: 220 smtpscope.capture ESMTP
        C: EHLO
        S: 501 5.5.4 Syntax: EHLO hostname
        C: HELO
        S: 501 5.5.4 Syntax: HELO hostname
        C: MAIL FROM:<a@x.test>
        S: 503 5.5.1 Send EHLO/HELO first
    )"));

    row("commands sent before the greeting are answered after it", {}, none, QStringLiteral(R"(
        C: NOOP
        ! start
        S: 220 smtpscope.capture ESMTP
        S: 250 2.0.0 Ok
    )"));

    row("EHLO resets a transaction", {}, none, opening() + Envelope + QStringLiteral(R"(
        C: EHLO again.test
        S: 250-smtpscope.capture
        S: 250-PIPELINING
        S: 250-SIZE 1000
        S: 250-8BITMIME
        S: 250-SMTPUTF8
        S: 250-CHUNKING
        S: 250 ENHANCEDSTATUSCODES
        C: RCPT TO:<b@y.test>
        S: 503 5.5.1 Need MAIL before RCPT
    )"));

    // ------------------------------------------------------------ simple commands

    row("RSET NOOP VRFY HELP EXPN unknown QUIT", {}, none, opening() + QStringLiteral(R"(
        C: NOOP
        S: 250 2.0.0 Ok
        C: noop with a parameter
        S: 250 2.0.0 Ok
        C: RSET
        S: 250 2.0.0 Ok
        C: RSET now
        S: 501 5.5.4 Syntax: RSET
        C: VRFY bob
        S: 252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery
        C: VRFY
        S: 501 5.5.4 Syntax: VRFY address
        C: HELP
        S: 214 2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP
        C: EXPN list
        S: 502 5.5.1 EXPN not implemented
        C: FROB nicate
        S: 500 5.5.2 Command not recognized
        C:
        S: 500 5.5.2 Syntax error, command unrecognized
        C= NO\0OP\r\n
        S: 500 5.5.2 Syntax error, command unrecognized
        C: QUIT
        S: 221 2.0.0 smtpscope.capture closing connection
        A: Close
        ! expect closed=1
        C: NOOP
    )"));

    row("bare LF ends a command line", {}, none, opening() + QStringLiteral(R"(
        C= NOOP\nRSET\nNOOP\r\n
        S: 250 2.0.0 Ok
        S: 250 2.0.0 Ok
        S: 250 2.0.0 Ok
    )"));

    row("RSET ends a transaction", {}, none, opening() + Envelope + QStringLiteral(R"(
        C: RSET
        S: 250 2.0.0 Ok
        C: DATA
        S: 503 5.5.1 Need MAIL before DATA
    )"));

    // RFC 5321 4.5.3.1.4: the 512 octets count the CRLF.
    row("command line of exactly the limit is accepted", QStringLiteral("line=512"), none,
        opening() + QStringLiteral("C: NOOP %1\nS: 250 2.0.0 Ok\n").arg(QString(505, u'x')));

    row("command line over the limit: 500 5.5.6, the rest discarded", QStringLiteral("line=512"), none,
        opening() + QStringLiteral("C: NOOP %1\nS: 500 5.5.6 Line too long\nC: NOOP\nS: 250 2.0.0 Ok\n")
                        .arg(QString(506, u'x')));

    row("a long line arriving in pieces is discarded to its end", QStringLiteral("line=512"), none,
        opening() + QStringLiteral("C= MAIL FROM:<%1\n! gap\nC= %1\n! gap\nC: @x.test>\nS: 500 5.5.6 Line too long\n"
                                   "C: RCPT TO:<b@y.test>\nS: 503 5.5.1 Need MAIL before RCPT\n")
                        .arg(QString(400, u'a')));

    // ------------------------------------------------------------ MAIL / RCPT

    row("MAIL syntax, sequence and parameters", {}, none, opening() + QStringLiteral(R"(
        C: MAIL TO:<a@x.test>
        S: 501 5.5.4 Syntax: MAIL FROM:<address>
        C: MAIL FROM:a@x.test
        S: 501 5.1.7 Bad sender address syntax
        C: MAIL FROM:<a@x.test
        S: 501 5.1.7 Bad sender address syntax
        C: MAIL FROM:<a@x.test>X=1
        S: 501 5.1.7 Bad sender address syntax
        C: MAIL FROM:<a@x.test> SIZE=1001
        S: 552 5.3.4 Message size exceeds fixed maximum message size
        C: MAIL FROM:<a@x.test> SIZE=12x
        S: 501 5.5.4 Bad SIZE parameter
        C: MAIL FROM:<a@x.test> BODY=BINARYMIME
        S: 555 5.5.4 BODY=BINARYMIME not supported
        C: MAIL FROM:<a@x.test> BODY=9BIT
        S: 501 5.5.4 Bad BODY parameter
        C: MAIL FROM:<a@x.test> SMTPUTF8=yes
        S: 501 5.5.4 SMTPUTF8 takes no value
        C: MAIL FROM:<a@x.test> RET=FULL
        S: 555 5.5.4 Unsupported MAIL parameter
        C: MAIL FROM:<j\xc3\xb6rg@x.test>
        S: 553 5.6.7 Non-ASCII address needs SMTPUTF8
        C: MAIL FROM:<a\x01b@x.test>
        S: 501 5.1.7 Bad sender address syntax
        C: mail from: <a@x.test> SIZE=1000 BODY=8BITMIME AUTH=<>
        S: 250 2.1.0 Ok
        C: MAIL FROM:<c@x.test>
        S: 503 5.5.1 Nested MAIL command
        C: RSET
        S: 250 2.0.0 Ok
        C: MAIL FROM:<> BODY=7BIT
        S: 250 2.1.0 Ok
    )"));

    row("SMTPUTF8 allows non-ASCII addresses", {}, none, opening() + QStringLiteral(R"(
        C: MAIL FROM:<j\xc3\xb6rg@x.test> SMTPUTF8
        S: 250 2.1.0 Ok
        C: RCPT TO:<\xc3\xa9l\xc3\xa8ve@y.test>
        S: 250 2.1.5 Ok
        C: RCPT TO:<bad\xff@y.test>
        S: 501 5.1.3 Address is not valid UTF-8
        C: DATA
        A: MessageBegin j\xc3\xb6rg@x.test \xc3\xa9l\xc3\xa8ve@y.test
        S: 354 End data with <CR><LF>.<CR><LF>
    )").replace(QStringLiteral("A: MessageBegin j\\xc3\\xb6rg@x.test \\xc3\\xa9l\\xc3\\xa8ve@y.test"),
                QStringLiteral("A: MessageBegin j\u00f6rg@x.test \u00e9l\u00e8ve@y.test")));

    row("RCPT syntax and sequence", {}, none, opening() + QStringLiteral(R"(
        C: RCPT TO:<b@y.test>
        S: 503 5.5.1 Need MAIL before RCPT
        C: MAIL FROM:<a@x.test>
        S: 250 2.1.0 Ok
        C: RCPT FROM:<b@y.test>
        S: 501 5.5.4 Syntax: RCPT TO:<address>
        C: RCPT TO:<>
        S: 501 5.1.3 Bad recipient address syntax
        C: RCPT TO:<b@y.test> NOTIFY=NEVER
        S: 555 5.5.4 Unsupported RCPT parameter
        C: RCPT TO:<j\xc3\xb6rg@y.test>
        S: 553 5.6.7 Non-ASCII address needs SMTPUTF8
        C: RCPT TO:<@relay.test,@other.test:b@y.test>
        S: 250 2.1.5 Ok
        C: RCPT TO:<"john smith"@y.test>
        S: 250 2.1.5 Ok
        C: RCPT TO:<Postmaster>
        S: 250 2.1.5 Ok
        C: DATA
        A: MessageBegin a@x.test b@y.test,"john smith"@y.test,Postmaster
        S: 354 End data with <CR><LF>.<CR><LF>
    )"));

    // ------------------------------------------------------------ DATA

    row("DATA sequence errors", {}, none, opening() + QStringLiteral(R"(
        C: DATA
        S: 503 5.5.1 Need MAIL before DATA
        C: MAIL FROM:<a@x.test>
        S: 250 2.1.0 Ok
        C: DATA
        S: 554 5.5.1 No valid recipients
        C: RCPT TO:<b@y.test>
        S: 250 2.1.5 Ok
        C: DATA now
        S: 501 5.5.4 Syntax: DATA
    )"));

    row("DATA dot-unstuffing and the end of data", {}, none, opening() + Envelope + QStringLiteral(R"(
        C: DATA
        A: MessageBegin a@x.test b@y.test
        S: 354 End data with <CR><LF>.<CR><LF>
        C: Subject: dots
        C:
        C: ..leading dot
        C: ...two
        C: .
        D: Subject: dots
        D:
        D: .leading dot
        D: ..two
        A: MessageEnd
        ! stored ok 20261126T101500-000001
        S: 250 2.0.0 Ok: queued as 20261126T101500-000001
        C: MAIL FROM:<c@x.test>
        S: 250 2.1.0 Ok
    )"));

    row("a lone dot line that is not at a line start is data", {}, none, opening() + Envelope + QStringLiteral(R"(
        C: DATA
        A: MessageBegin a@x.test b@y.test
        S: 354 End data with <CR><LF>.<CR><LF>
        C= x.\r\n.x\r\n.\r\r\n.\r\n
        D= x.\r\nx\r\n\r\r\n
        A: MessageEnd
        ! stored ok 1
        S: 250 2.0.0 Ok: queued as 1
    )"));

    // SMTP smuggling (CVE-2023-51764 class, RFC 5321 4.1.1.4): only CRLF.CRLF
    // ends the data; each other end-like sequence, with a whole transaction
    // after it, stays message text.
    row("smuggling: bare LF and bare CR end sequences are data", {}, none, opening() + Envelope + QStringLiteral(R"(
        C: DATA
        A: MessageBegin a@x.test b@y.test
        S: 354 End data with <CR><LF>.<CR><LF>
        C= a\n.\nMAIL FROM:<evil@x.test>\r\n
        C= b\r\n.\nRCPT TO:<v@y.test>\r\n
        C= c\n.\r\nDATA\r\n
        C= d\r.\r\nQUIT\r\n
        C= e\r\n.\rNOOP\r\n
        C= f\r\n\x00.\r\n
        C= .\r\n
        D= a\n.\nMAIL FROM:<evil@x.test>\r\n
        D= b\r\n\nRCPT TO:<v@y.test>\r\n
        D= c\n.\r\nDATA\r\n
        D= d\r.\r\nQUIT\r\n
        D= e\r\n\rNOOP\r\n
        D= f\r\n\x00.\r\n
        A: MessageEnd
        ! stored ok 2
        S: 250 2.0.0 Ok: queued as 2
        ! expect closed=0
    )"));

    // RFC 5321 4.2.3: the cause (a local path, a system error) is for the
    // server's log, not for the peer.
    row("storing fails: a generic 451 4.3.0, the transaction ends", {}, none, opening() + Envelope + QStringLiteral(R"(
        C: DATA
        A: MessageBegin a@x.test b@y.test
        S: 354 End data with <CR><LF>.<CR><LF>
        C: hi
        C: .
        D: hi
        A: MessageEnd
        ! stored fail Cannot write /var/capture/messages/.incoming/1f2e: No space left on device
        S: 451 4.3.0 Requested action aborted: local error in processing
        C: RCPT TO:<b@y.test>
        S: 503 5.5.1 Need MAIL before RCPT
    )"));

    row("DATA over the size limit: dropped at once, 552 at the end", QStringLiteral("max=20"), none,
        QStringLiteral(R"(
        ! start
        S: 220 smtpscope.capture ESMTP
        C: HELO client.test
        S: 250 smtpscope.capture
    )") + Envelope + QStringLiteral(R"(
        C: DATA
        A: MessageBegin a@x.test b@y.test
        S: 354 End data with <CR><LF>.<CR><LF>
        C: 0123456789
        C: 0123456789
        C: more
        C: .
        A: MessageAbort
        S: 552 5.3.4 Message size exceeds fixed maximum message size
        C: NOOP
        S: 250 2.0.0 Ok
    )"));

    // RFC 2920: replies in order, the end of data answered before what follows.
    row("pipelined batch and commands after the end of data wait for the store", {}, none,
        opening() + QStringLiteral(R"(
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: RCPT TO:<c@y.test>
        C: DATA
        S: 250 2.1.0 Ok
        S: 250 2.1.5 Ok
        S: 250 2.1.5 Ok
        A: MessageBegin a@x.test b@y.test,c@y.test
        S: 354 End data with <CR><LF>.<CR><LF>
        C: body
        C: .
        C: MAIL FROM:<d@x.test>
        C: RCPT TO:<e@y.test>
        C: QUIT
        D: body
        A: MessageEnd
        ! stored ok 7
        S: 250 2.0.0 Ok: queued as 7
        S: 250 2.1.0 Ok
        S: 250 2.1.5 Ok
        S: 221 2.0.0 smtpscope.capture closing connection
        A: Close
    )"));

    // ------------------------------------------------------------ BDAT (RFC 3030)

    row("BDAT chunks, binary, LAST", {}, none, opening() + Envelope + QStringLiteral(R"(
        C= BDAT 5\r\nhe\r\n.BDAT 9 LAST\r\n\r\n.\r\nbye\x00
        A: MessageBegin a@x.test b@y.test
        S: 250 2.0.0 5 octets received
        D= he\r\n.\r\n.\r\nbye\x00
        A: MessageEnd
        ! stored ok 3
        S: 250 2.0.0 Ok: queued as 3
        C: DATA
        S: 503 5.5.1 Need MAIL before DATA
    )"));

    row("BDAT 0 LAST ends an empty chunk sequence", {}, none, opening() + Envelope + QStringLiteral(R"(
        C= BDAT 3\r\nabcBDAT 0 last\r\n
        A: MessageBegin a@x.test b@y.test
        S: 250 2.0.0 3 octets received
        D= abc
        A: MessageEnd
        ! stored ok 4
        S: 250 2.0.0 Ok: queued as 4
    )"));

    row("BDAT refused: the chunk is read and dropped", {}, none, opening() + QStringLiteral(R"(
        C= BDAT 6 LAST\r\nNOOP\r\n
        S: 503 5.5.1 Need MAIL before BDAT
        C: MAIL FROM:<a@x.test>
        S: 250 2.1.0 Ok
        C= BDAT 4\r\nRSET
        S: 554 5.5.1 No valid recipients
        C: BDAT x
        S: 501 5.5.4 Syntax: BDAT size [LAST]
        C: BDAT 1 MORE
        S: 501 5.5.4 Syntax: BDAT size [LAST]
    )"));

    row("BDAT then DATA or RCPT is a bad sequence", {}, none, opening() + Envelope + QStringLiteral(R"(
        C= BDAT 2\r\nab
        A: MessageBegin a@x.test b@y.test
        S: 250 2.0.0 2 octets received
        C: DATA
        S: 503 5.5.1 DATA after BDAT
        C: RCPT TO:<c@y.test>
        S: 503 5.5.1 RCPT after BDAT
        C: RSET
        A: MessageAbort
        S: 250 2.0.0 Ok
    )"));

    row("BDAT over the size limit", QStringLiteral("max=10"), none, opening().replace(
        QStringLiteral("SIZE 1000"), QStringLiteral("SIZE 10")) + Envelope + QStringLiteral(R"(
        C= BDAT 6\r\n123456BDAT 6 LAST\r\n789012
        A: MessageBegin a@x.test b@y.test
        S: 250 2.0.0 6 octets received
        A: MessageAbort
        S: 552 5.3.4 Message size exceeds fixed maximum message size
        C: RCPT TO:<b@y.test>
        S: 503 5.5.1 Need MAIL before RCPT
    )"));

    // ------------------------------------------------------------ STARTTLS (RFC 3207)

    row("STARTTLS: pipelined plaintext after it is discarded", QStringLiteral("tls=1"), none,
        opening({tlsCaps}) + QStringLiteral(R"(
        C: STARTTLS
        C: MAIL FROM:<evil@x.test>
        S: 220 2.0.0 Ready to start TLS
        A: StartTls
        ! gap
        C: RCPT TO:<evil@y.test>
        ! tls
        ! expect encrypted=1
        C: MAIL FROM:<a@x.test>
        S: 503 5.5.1 Send EHLO/HELO first
        C: EHLO client.test
        S: 250-smtpscope.capture
        S: 250-PIPELINING
        S: 250-SIZE 1000
        S: 250-8BITMIME
        S: 250-SMTPUTF8
        S: 250-CHUNKING
        S: 250 ENHANCEDSTATUSCODES
        C: STARTTLS
        S: 503 5.5.1 TLS already active
    )"));

    row("STARTTLS resets the transaction and the login", QStringLiteral("tls=1 user=alice pass=s3cret plain=1"), none,
        opening({tlsCaps, authCaps}) + QStringLiteral(R"(
        C: AUTH PLAIN AGFsaWNlAHMzY3JldA==
        S: 235 2.7.0 Authentication successful
        A: Authenticated alice
        C: MAIL FROM:<a@x.test>
        S: 250 2.1.0 Ok
        C: STARTTLS
        S: 220 2.0.0 Ready to start TLS
        A: StartTls
        ! tls
        C: EHLO client.test
        S: 250-smtpscope.capture
        S: 250-PIPELINING
        S: 250-SIZE 1000
        S: 250-8BITMIME
        S: 250-SMTPUTF8
        S: 250-CHUNKING
        S: 250-ENHANCEDSTATUSCODES
        S: 250 AUTH PLAIN LOGIN CRAM-MD5
        C: RCPT TO:<b@y.test>
        S: 503 5.5.1 Need MAIL before RCPT
        C: AUTH PLAIN AGFsaWNlAHMzY3JldA==
        S: 235 2.7.0 Authentication successful
        A: Authenticated alice
    )"));

    row("STARTTLS refused: no certificate, parameters, implicit TLS", {}, none, opening() + QStringLiteral(R"(
        C: STARTTLS
        S: 502 5.5.1 STARTTLS not available
        C: STARTTLS now
        S: 501 5.5.4 Syntax: STARTTLS
    )"));

    row("STARTTLS on implicit TLS", QStringLiteral("tls=1 implicit=1"), none, opening() + QStringLiteral(R"(
        C: STARTTLS
        S: 503 5.5.1 TLS already active
    )"));

    // ------------------------------------------------------------ AUTH (RFC 4954)

    const QString tlsUser = QStringLiteral("implicit=1 user=alice pass=s3cret");
    const QString tlsOpening = opening({authCaps});

    row("AUTH PLAIN with an initial response", tlsUser, none, tlsOpening + QStringLiteral(R"(
        C: AUTH PLAIN AGFsaWNlAHMzY3JldA==
        S: 235 2.7.0 Authentication successful
        A: Authenticated alice
        C: AUTH PLAIN AGFsaWNlAHMzY3JldA==
        S: 503 5.5.1 Already authenticated
    )"));

    row("AUTH PLAIN after an empty challenge, bad password", tlsUser, none, tlsOpening + QStringLiteral(R"(
        C: AUTH plain
        S: 334\x20
        C: AGFsaWNlAHdyb25n
        S: 535 5.7.8 Authentication credentials invalid
        C: AUTH PLAIN
        S: 334\x20
        C: AGFsaWNlAHMzY3JldA==
        S: 235 2.7.0 Authentication successful
        A: Authenticated alice
    )"));

    row("AUTH PLAIN: another authzid, malformed, empty initial response", tlsUser, none, tlsOpening + QStringLiteral(R"(
        C: AUTH PLAIN Ym9iAGFsaWNlAHMzY3JldA==
        S: 535 5.7.8 Authentication credentials invalid
        C: AUTH PLAIN YWxpY2U=
        S: 501 5.5.2 Malformed PLAIN response
        C: AUTH PLAIN =
        S: 501 5.5.2 Malformed PLAIN response
        C: AUTH PLAIN !!!!
        S: 501 5.5.2 Invalid base64 data
        C: AUTH PLAIN
        S: 334\x20
        C: not base64
        S: 501 5.5.2 Invalid base64 data
        C: NOOP
        S: 250 2.0.0 Ok
    )"));

    row("AUTH LOGIN", tlsUser, none, tlsOpening + QStringLiteral(R"(
        C: AUTH LOGIN
        S: 334 VXNlcm5hbWU6
        C: YWxpY2U=
        S: 334 UGFzc3dvcmQ6
        C: czNjcmV0
        S: 235 2.7.0 Authentication successful
        A: Authenticated alice
    )"));

    // AUTH throttle (AuthThrottle's default policy): 3 failures answered at once,
    // then 250, 500, 1000 ms before the 535, and the 7th failure gets 421 after
    // 2000 ms and the close (RFC 5321 3.8, RFC 3463 4.7.0).
    const QString wrongPlain = QStringLiteral("C: AUTH PLAIN AGFsaWNlAHdyb25n\n");
    const QString refused = QStringLiteral("S: 535 5.7.8 Authentication credentials invalid\n");
    const QString tooMany = QStringLiteral(
        "S: 421 4.7.0 smtpscope.capture Too many failed authentication attempts, closing connection\nA: Close\n");
    row("AUTH failures: a growing delay, then 421 and the close", tlsUser, none,
        tlsOpening + wrongPlain + refused + wrongPlain + refused + wrongPlain + refused
            + wrongPlain + QStringLiteral("A: Delay 250\n") + refused
            + wrongPlain + QStringLiteral("A: Delay 500\n") + refused
            + wrongPlain + QStringLiteral("A: Delay 1000\n") + refused
            + wrongPlain + QStringLiteral("A: Delay 2000\n") + tooMany
            + QStringLiteral("! expect closed=1\n"));
    // Pipelined (RFC 2920): the whole batch in one chunk gets the same answers, and
    // nothing after the 421 is answered.
    row("AUTH failures pipelined: the same delays, nothing answered after the 421", tlsUser, none,
        tlsOpening + wrongPlain.repeated(8) + QStringLiteral("C: NOOP\n") + refused.repeated(3)
            + QStringLiteral("A: Delay 250\n") + refused + QStringLiteral("A: Delay 500\n") + refused
            + QStringLiteral("A: Delay 1000\n") + refused + QStringLiteral("A: Delay 2000\n") + tooMany
            + QStringLiteral("! expect closed=1\n"));
    // Every mechanism's failure counts; a success in between does not reset.
    row("AUTH failures of LOGIN and CRAM-MD5 count too; a success does not reset", tlsUser, none,
        tlsOpening + QStringLiteral(R"(
        C: AUTH LOGIN YWxpY2U=
        S: 334 UGFzc3dvcmQ6
        C: d3Jvbmc=
        S: 535 5.7.8 Authentication credentials invalid
        C: AUTH PLAIN AGFsaWNlAHdyb25n
        S: 535 5.7.8 Authentication credentials invalid
        C: AUTH LOGIN YWxpY2U=
        S: 334 UGFzc3dvcmQ6
        C: d3Jvbmc=
        S: 535 5.7.8 Authentication credentials invalid
        C: AUTH PLAIN AGFsaWNlAHMzY3JldA==
        S: 235 2.7.0 Authentication successful
        A: Authenticated alice
    )"));

    row("AUTH LOGIN with the user name as initial response, wrong password", tlsUser, none,
        tlsOpening + QStringLiteral(R"(
        C: AUTH LOGIN YWxpY2U=
        S: 334 UGFzc3dvcmQ6
        C: YWxpY2U=
        S: 535 5.7.8 Authentication credentials invalid
    )"));

    row("AUTH cancelled with * at each step", tlsUser, none, tlsOpening + QStringLiteral(R"(
        C: AUTH LOGIN
        S: 334 VXNlcm5hbWU6
        C: *
        S: 501 5.0.0 Authentication cancelled
        C: AUTH LOGIN
        S: 334 VXNlcm5hbWU6
        C: YWxpY2U=
        S: 334 UGFzc3dvcmQ6
        C: *
        S: 501 5.0.0 Authentication cancelled
        C: AUTH PLAIN
        S: 334\x20
        C: *
        S: 501 5.0.0 Authentication cancelled
        C: AUTH CRAM-MD5
        S: 334 PDQyLjBAc210cHNjb3BlLmNhcHR1cmU+
        C: *
        S: 501 5.0.0 Authentication cancelled
        C: NOOP
        S: 250 2.0.0 Ok
    )"));

    // RFC 2195 2, the example exchange: challenge and response verbatim.
    row("AUTH CRAM-MD5, RFC 2195 example", QStringLiteral("implicit=1 user=tim pass=tanstaaftanstaaf "
                                                           "host=postoffice.reston.mci.net random=1896"),
        none, opening({authCaps}, QStringLiteral("postoffice.reston.mci.net")) + QStringLiteral(R"(
        ! now 697170952
        C: AUTH CRAM-MD5
        S: 334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+
        C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw
        S: 235 2.7.0 Authentication successful
        A: Authenticated tim
    )"));

    {
        // The response computed here, independently of the session.
        const QByteArray challenge = "<77.5000@smtpscope.capture>";
        const QByteArray digest =
            QMessageAuthenticationCode::hash(challenge, "s3cret", QCryptographicHash::Md5).toHex();
        const QByteArray wrong = QMessageAuthenticationCode::hash(challenge, "s3creT", QCryptographicHash::Md5).toHex();
        row("AUTH CRAM-MD5 computed, then a wrong key", tlsUser + QStringLiteral(" random=77"), none,
            tlsOpening + QStringLiteral(R"(
            ! now 5000
            C: AUTH CRAM-MD5 %1
            S: 501 5.5.2 CRAM-MD5 takes no initial response
            C: AUTH CRAM-MD5
            S: 334 %2
            C: %3
            S: 535 5.7.8 Authentication credentials invalid
            C: AUTH CRAM-MD5
            S: 334 %2
            C: %4
            S: 535 5.7.8 Authentication credentials invalid
            C: AUTH CRAM-MD5
            S: 334 %2
            C: %5
            S: 235 2.7.0 Authentication successful
            A: Authenticated alice
            )")
                             .arg(QString::fromLatin1(b64("x")), QString::fromLatin1(challenge.toBase64()),
                                  QString::fromLatin1(b64("alice " + wrong)),
                                  QString::fromLatin1(b64("mallory " + digest)),
                                  QString::fromLatin1(b64("alice " + digest.toUpper()))));
    }

    row("AUTH refused in plaintext without allowPlaintextAuth: 538", QStringLiteral("tls=1 user=alice pass=s3cret"),
        none, opening({tlsCaps}) + QStringLiteral(R"(
        C: AUTH PLAIN AGFsaWNlAHMzY3JldA==
        S: 538 5.7.11 Encryption required for requested authentication mechanism
    )"));

    row("AUTH before EHLO, unknown mechanism, no mechanism, in a transaction", tlsUser, none, QStringLiteral(R"(
        ! start
        S: 220 smtpscope.capture ESMTP
        C: AUTH PLAIN
        S: 503 5.5.1 Send EHLO first
    )") + QStringLiteral("C: EHLO client.test\n") + tlsOpening.section(u'\n', 3) + QStringLiteral(R"(
        C: AUTH DIGEST-MD5
        S: 504 5.5.4 Unrecognized authentication type
        C: AUTH
        S: 501 5.5.4 Syntax: AUTH mechanism [initial-response]
        C: MAIL FROM:<a@x.test>
        S: 250 2.1.0 Ok
        C: AUTH PLAIN AGFsaWNlAHMzY3JldA==
        S: 503 5.5.1 AUTH not allowed during a mail transaction
    )"));

    row("AUTH not configured: 502, and mail is accepted without it", {}, none, opening() + QStringLiteral(R"(
        C: AUTH PLAIN AGFsaWNlAHMzY3JldA==
        S: 502 5.5.1 AUTH not available
        C: MAIL FROM:<a@x.test>
        S: 250 2.1.0 Ok
    )"));

    // ------------------------------------------------------------ faults

    row("fault: greeting 554 refuses all but QUIT", {}, {QStringLiteral("greeting:554 5.3.2 No service")},
        QStringLiteral(R"(
        ! start
        S: 554 5.3.2 No service
        C: EHLO client.test
        S: 503 5.5.1 No SMTP service here, only QUIT
        C: MAIL FROM:<a@x.test>
        S: 503 5.5.1 No SMTP service here, only QUIT
        C: QUIT
        S: 221 2.0.0 smtpscope.capture closing connection
        A: Close
    )"));

    row("fault: greeting 421 closes", {}, {QStringLiteral("greeting:421 4.3.2 Busy")}, QStringLiteral(R"(
        ! start
        S: 421 4.3.2 Busy
        A: Close
        ! expect closed=1
        C: EHLO client.test
    )"));

    row("fault: greeting delay", {}, {QStringLiteral("greeting:delay=1500")}, QStringLiteral(R"(
        ! start
        A: Delay 1500
        S: 220 smtpscope.capture ESMTP
    )"));

    row("fault: greeting disconnect", {}, {QStringLiteral("greeting:disconnect")}, QStringLiteral(R"(
        ! start
        A: Close
        ! expect closed=1
    )"));

    row("fault: EHLO refused, HELO too, then accepted", {}, {QStringLiteral("ehlo:every=1:550 5.7.1 Go away"),
                                                             QStringLiteral("ehlo:every=3:delay=10")},
        QStringLiteral(R"(
        ! start
        S: 220 smtpscope.capture ESMTP
        C: EHLO client.test
        S: 550 5.7.1 Go away
        C: HELO client.test
        S: 550 5.7.1 Go away
        C: MAIL FROM:<a@x.test>
        S: 503 5.5.1 Send EHLO/HELO first
    )"));

    row("fault: STARTTLS 454", QStringLiteral("tls=1"), {QStringLiteral("starttls:454 4.7.0 TLS not available")},
        opening({tlsCaps}) + QStringLiteral(R"(
        C: STARTTLS
        C: NOOP
        S: 454 4.7.0 TLS not available
        S: 250 2.0.0 Ok
        ! expect encrypted=0
    )"));

    row("fault: AUTH reply and delay", tlsUser, {QStringLiteral("auth:every=2:454 4.7.0 Temporary failure"),
                                                 QStringLiteral("auth:delay=250")},
        tlsOpening + QStringLiteral(R"(
        C: AUTH LOGIN
        A: Delay 250
        S: 334 VXNlcm5hbWU6
        C: *
        S: 501 5.0.0 Authentication cancelled
        C: AUTH PLAIN AGFsaWNlAHMzY3JldA==
        S: 454 4.7.0 Temporary failure
    )"));

    row("fault: MAIL 451, delay, default text", {}, {QStringLiteral("mail:every=2:451"),
                                                     QStringLiteral("mail:every=3:delay=2000")},
        opening() + QStringLiteral(R"(
        C: MAIL FROM:<a@x.test>
        S: 250 2.1.0 Ok
        C: RSET
        S: 250 2.0.0 Ok
        C: MAIL FROM:<a@x.test>
        S: 451 4.0.0 Scripted fault at mail
        C: MAIL FROM:<a@x.test>
        A: Delay 2000
        S: 250 2.1.0 Ok
    )"));

    row("fault: MAIL 421 closes", {}, {QStringLiteral("mail:421 4.3.2 Shutting down")}, opening() + QStringLiteral(R"(
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        S: 421 4.3.2 Shutting down
        A: Close
    )"));

    row("fault: every RCPT refused", {}, {QStringLiteral("rcpt:550 5.1.1 No such user")}, opening() + QStringLiteral(R"(
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: RCPT TO:<c@y.test>
        C: DATA
        S: 250 2.1.0 Ok
        S: 550 5.1.1 No such user
        S: 550 5.1.1 No such user
        S: 554 5.5.1 No valid recipients
    )"));

    row("fault: one recipient refused, case-insensitive", {},
        {QStringLiteral("rcpt=bob@example.org:550 5.1.1 Gone")}, opening() + QStringLiteral(R"(
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<alice@example.org>
        C: RCPT TO:<Bob@Example.ORG>
        C: RCPT TO:<carol@example.org>
        C: RCPT TO:<bob@example.org>
        C: DATA
        S: 250 2.1.0 Ok
        S: 250 2.1.5 Ok
        S: 550 5.1.1 Gone
        S: 250 2.1.5 Ok
        S: 550 5.1.1 Gone
        A: MessageBegin a@x.test alice@example.org,carol@example.org
        S: 354 End data with <CR><LF>.<CR><LF>
    )"));

    row("fault: every second RCPT to bob", {}, {QStringLiteral("rcpt=bob@example.org:every=2:450 4.2.1 Later")},
        opening() + QStringLiteral(R"(
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<bob@example.org>
        C: RCPT TO:<carol@example.org>
        C: RCPT TO:<bob@example.org>
        C: RCPT TO:<bob@example.org>
        S: 250 2.1.0 Ok
        S: 250 2.1.5 Ok
        S: 250 2.1.5 Ok
        S: 450 4.2.1 Later
        S: 250 2.1.5 Ok
    )"));

    row("fault: RCPT delay", {}, {QStringLiteral("rcpt:delay=300")}, opening() + QStringLiteral(R"(
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        S: 250 2.1.0 Ok
        A: Delay 300
        S: 250 2.1.5 Ok
    )"));

    row("fault: DATA refused and DATA disconnect", {}, {QStringLiteral("data:every=2:disconnect"),
                                                       QStringLiteral("data:554 5.6.0 No data today")},
        opening() + Envelope + QStringLiteral(R"(
        C: DATA
        S: 554 5.6.0 No data today
        C: DATA
        A: Close
        ! expect closed=1
    )"));

    row("fault: BDAT's first chunk is the data step", {}, {QStringLiteral("data:554 5.6.0 No data today")},
        opening() + Envelope + QStringLiteral(R"(
        C= BDAT 4 LAST\r\nabcdNOOP\r\n
        S: 554 5.6.0 No data today
        S: 250 2.0.0 Ok
    )"));

    row("fault: end of data every third message", {}, {QStringLiteral("eod:every=3:451 4.3.0 Try again")},
        opening() + message(QStringLiteral("m1")) + message(QStringLiteral("m2")) + Envelope + QStringLiteral(R"(
        C: DATA
        A: MessageBegin a@x.test b@y.test
        S: 354 End data with <CR><LF>.<CR><LF>
        C: third
        C: .
        A: MessageAbort
        S: 451 4.3.0 Try again
    )") + message(QStringLiteral("m4")));

    row("fault: end of data delay and disconnect", {}, {QStringLiteral("eod:every=2:disconnect"),
                                                       QStringLiteral("eod:delay=5000")},
        opening() + Envelope + QStringLiteral(R"(
        C: DATA
        A: MessageBegin a@x.test b@y.test
        S: 354 End data with <CR><LF>.<CR><LF>
        C: one
        C: .
        D: one
        A: MessageEnd
        ! stored ok m1
        A: Delay 5000
        S: 250 2.0.0 Ok: queued as m1
    )") + Envelope + QStringLiteral(R"(
        C= BDAT 3 LAST\r\ntwo
        A: MessageBegin a@x.test b@y.test
        A: MessageAbort
        A: Close
    )"));

    row("fault: end of data 421 discards the message and closes", {}, {QStringLiteral("eod:421 4.3.2 Going down")},
        opening() + Envelope + QStringLiteral(R"(
        C: DATA
        A: MessageBegin a@x.test b@y.test
        S: 354 End data with <CR><LF>.<CR><LF>
        C: lost
        C: .
        C: QUIT
        A: MessageAbort
        S: 421 4.3.2 Going down
        A: Close
        ! expect closed=1
    )"));

    row("fault: DATA delay", {}, {QStringLiteral("data:delay=750")}, opening() + Envelope + QStringLiteral(R"(
        C: DATA
        A: Delay 750
        A: MessageBegin a@x.test b@y.test
        S: 354 End data with <CR><LF>.<CR><LF>
    )"));

    // Rate limit over a rolling 60 s window of accepted messages.
    row("fault: rate limit 451 with a controlled clock", {}, {QStringLiteral("rate=2/min:451")},
        opening() + QStringLiteral("! now 0\n") + message(QStringLiteral("r1")) + QStringLiteral("! now 1000\n")
            + message(QStringLiteral("r2")) + QStringLiteral(R"(
        ! now 59999
        C: MAIL FROM:<a@x.test>
        S: 451 4.7.0 Too many messages per minute, try again later
        ! now 60000
        C: MAIL FROM:<a@x.test>
        S: 250 2.1.0 Ok
        C: RSET
        S: 250 2.0.0 Ok
        ! now 60999
        C: MAIL FROM:<a@x.test>
        S: 250 2.1.0 Ok
    )"));

    row("fault: rate limit 421 closes", {}, {QStringLiteral("rate=1/min:421")},
        opening() + message(QStringLiteral("r1")) + QStringLiteral(R"(
        C: MAIL FROM:<a@x.test>
        S: 421 4.7.0 smtpscope.capture Too many messages, closing connection
        A: Close
    )"));

    row("fault: a failed store does not count against the rate", {}, {QStringLiteral("rate=1/min:451 4.7.0 Slow")},
        opening() + Envelope + QStringLiteral(R"(
        C: DATA
        A: MessageBegin a@x.test b@y.test
        S: 354 End data with <CR><LF>.<CR><LF>
        C: .
        A: MessageEnd
        ! stored fail no space
        S: 451 4.3.0 Requested action aborted: local error in processing
        C: MAIL FROM:<a@x.test>
        S: 250 2.1.0 Ok
    )"));
}

void tst_ServerSession::transcript()
{
    QFETCH(QString, config);
    QFETCH(QStringList, faults);
    QFETCH(QString, script);

    const Script parsed = parse(script);
    QVERIFY2(parsed.error.isEmpty(), qPrintable(parsed.error));
    const Options opt = options(config, faults);
    QVERIFY2(opt.error.isEmpty(), qPrintable(opt.error));

    qsizetype longest = 0;
    qsizetype chunk = 0;
    for (const Line &l : parsed.lines) {
        if (l.kind != Line::Kind::Client) {
            chunk = 0;
            continue;
        }
        chunk = l.chunkStart ? l.bytes.size() : chunk + l.bytes.size();
        longest = std::max(longest, chunk);
    }
    QList<Replay> replays = {{Replay::Mode::Whole, 0}, {Replay::Mode::Bytewise, 0}};
    for (qsizetype at = 1; at < longest; ++at)
        replays.append({Replay::Mode::Split, at});
    for (const Replay &r : replays) {
        const Outcome out = run(parsed, opt, r);
        if (!out.failures.isEmpty()) {
            const QString message = QStringLiteral("replay with %1:\n  %2\ntranscript:\n  %3")
                                        .arg(r.name(), out.failures.join(QStringLiteral("\n  ")),
                                             out.transcript.join(QStringLiteral("\n  ")));
            QFAIL(qPrintable(message));
        }
    }
}

// The harness itself must notice a wrong script: each of these must fail.
void tst_ServerSession::harnessCatchesMistakes_data()
{
    QTest::addColumn<QString>("script");
    QTest::addColumn<QString>("failure");
    QTest::addRow("wrong reply") << QStringLiteral("! start\nS: 220 other ESMTP\n") << QStringLiteral("wrote");
    QTest::addRow("missing reply") << QStringLiteral("! start\n") << QStringLiteral("wrote");
    QTest::addRow("unlisted action") << (opening() + QStringLiteral("C: QUIT\nS: 221 2.0.0 smtpscope.capture closing "
                                                                    "connection\nC: NOOP\n"))
                                     << QStringLiteral("unlisted action Close");
    QTest::addRow("wrong message data")
        << (opening() + Envelope
            + QStringLiteral("C: DATA\nA: MessageBegin a@x.test b@y.test\nS: 354 End data with <CR><LF>.<CR><LF>\n"
                             "C: ..x\nC: .\nD: ..x\nA: MessageEnd\n"))
        << QStringLiteral("message data");
    QTest::addRow("action that did not happen") << (opening() + QStringLiteral("A: StartTls\n"))
                                                << QStringLiteral("no such action");
}

void tst_ServerSession::harnessCatchesMistakes()
{
    QFETCH(QString, script);
    QFETCH(QString, failure);
    const Script parsed = parse(script);
    QVERIFY2(parsed.error.isEmpty(), qPrintable(parsed.error));
    const Outcome out = run(parsed, options({}, {}), Replay{});
    QVERIFY2(!out.failures.isEmpty(), "the harness accepted a wrong script");
    QVERIFY2(out.failures.join(u'\n').contains(failure), qPrintable(out.failures.join(u'\n')));
}

// RFC 5321 4.5.3.1.8 / 4.5.3.1.10: 1000 recipients accepted, then 452 4.5.3.
void tst_ServerSession::tooManyRecipients()
{
    QString script = opening() + QStringLiteral("C: MAIL FROM:<a@x.test>\nS: 250 2.1.0 Ok\n");
    QString batch;
    QString replies;
    for (int i = 0; i < 1002; ++i) {
        batch += QStringLiteral("C: RCPT TO:<r%1@y.test>\n").arg(i);
        replies += i < 1000 ? QStringLiteral("S: 250 2.1.5 Ok\n") : QStringLiteral("S: 452 4.5.3 Too many recipients\n");
    }
    QStringList all;
    for (int i = 0; i < 1000; ++i)
        all << QStringLiteral("r%1@y.test").arg(i);
    script += batch + replies
              + QStringLiteral("C: DATA\nA: MessageBegin a@x.test %1\nS: 354 End data with <CR><LF>.<CR><LF>\n")
                    .arg(all.join(u','));
    const Script parsed = parse(script);
    QVERIFY2(parsed.error.isEmpty(), qPrintable(parsed.error));
    for (const Replay r : {Replay{Replay::Mode::Whole, 0}, Replay{Replay::Mode::Bytewise, 0},
                           Replay{Replay::Mode::Split, 12345}}) {
        const Outcome out = run(parsed, options({}, {}), r);
        QVERIFY2(out.failures.isEmpty(), qPrintable(r.name() + u'\n' + out.failures.join(u'\n').left(2000)));
    }
}

// A message much larger than one MessageData: chunks of at most 64 KiB, however
// the bytes arrive, whose concatenation is the unstuffed (DATA) or raw (BDAT) text.
void tst_ServerSession::largeMessageInChunks_data()
{
    QTest::addColumn<bool>("bdat");
    QTest::addColumn<int>("piece");
    for (const bool bdat : {false, true}) {
        for (const int piece : {1, 7, 1000, 65536, 70000, 1 << 22})
            QTest::addRow("%s, fed %d bytes at a time", bdat ? "BDAT" : "DATA", piece) << bdat << piece;
    }
}

void tst_ServerSession::largeMessageInChunks()
{
    QFETCH(bool, bdat);
    QFETCH(int, piece);
    ServerConfig config;
    config.maxSize = 0;
    ServerSession s(config, std::make_shared<FaultState>());
    s.start();
    s.receive("EHLO c.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n");
    QByteArray expected;
    QByteArray wire;
    for (int i = 0; wire.size() < 300 * 1024; ++i) {
        const QByteArray line = (i % 5 == 0 ? "." : "") + QByteArray::number(i) + QByteArray(70, 'x') + "\r\n";
        expected += line;
        wire += (line.startsWith('.') ? "." : "") + line;
    }
    QByteArray input;
    if (bdat)
        input = "BDAT " + QByteArray::number(expected.size()) + " LAST\r\n" + expected;
    else
        input = "DATA\r\n" + wire + ".\r\n";
    for (qsizetype at = 0; at < input.size(); at += piece)
        s.receive(QByteArrayView(input).sliced(at, std::min<qsizetype>(piece, input.size() - at)));

    QByteArray data;
    int chunks = 0;
    bool ended = false;
    for (const ServerAction &a : s.takeActions()) {
        if (a.kind == ServerAction::Kind::MessageData) {
            QVERIFY(a.bytes.size() <= 64 * 1024);
            QVERIFY(!ended);
            data += a.bytes;
            ++chunks;
        } else if (a.kind == ServerAction::Kind::MessageEnd) {
            ended = true;
        }
        QVERIFY(a.kind != ServerAction::Kind::MessageAbort);
    }
    QVERIFY(ended);
    QCOMPARE(data.size(), expected.size());
    QVERIFY(data == expected);
    QVERIFY2(chunks >= int(expected.size() / (64 * 1024)), qPrintable(QString::number(chunks)));
    s.messageStored(true, QStringLiteral("big"));
    const QList<ServerAction> after = s.takeActions();
    QCOMPARE(after.size(), 1);
    QCOMPARE(after.first().bytes, QByteArray("250 2.0.0 Ok: queued as big\r\n"));
}

// One FaultState, two sessions: every=N counts across the server.
void tst_ServerSession::faultCountersSharedBetweenSessions()
{
    QString error;
    const auto f = Fault::parse(QStringLiteral("mail:every=2:451 4.3.0 Busy"), &error);
    QVERIFY2(f, qPrintable(error));
    auto state = std::make_shared<FaultState>(QList<Fault>{*f});
    const auto mailReply = [](ServerSession &s) {
        s.receive("MAIL FROM:<a@x.test>\r\n");
        QByteArray out;
        for (const ServerAction &a : s.takeActions())
            out += a.bytes;
        return out;
    };
    ServerSession one(ServerConfig(), state);
    ServerSession two(ServerConfig(), state);
    for (ServerSession *s : {&one, &two}) {
        s->start();
        s->receive("EHLO c.test\r\n");
        (void)s->takeActions();
    }
    QCOMPARE(mailReply(one), QByteArray("250 2.1.0 Ok\r\n"));
    QCOMPARE(mailReply(two), QByteArray("451 4.3.0 Busy\r\n"));
    one.receive("RSET\r\n");
    (void)one.takeActions();
    QCOMPARE(mailReply(one), QByteArray("250 2.1.0 Ok\r\n"));
    // setFaults restarts the counters.
    state->setFaults({*f});
    two.receive("RSET\r\n");
    (void)two.takeActions();
    QCOMPARE(mailReply(two), QByteArray("250 2.1.0 Ok\r\n"));
}

namespace {

// A session over TLS with AUTH for alice, from `address`, greeted.
std::unique_ptr<ServerSession> authSession(const std::shared_ptr<Capture::AuthThrottle> &throttle,
                                           const QString &address)
{
    ServerConfig config;
    config.implicitTls = true;
    config.user = QStringLiteral("alice");
    config.password = QStringLiteral("s3cret");
    config.clientAddress = address;
    auto s = std::make_unique<ServerSession>(config, nullptr, throttle);
    s->start();
    s->receive("EHLO c.test\r\n");
    (void)s->takeActions();
    return s;
}

// One wrong AUTH PLAIN at `now`: the delay before the answer (0: none) and the
// answer's code.
std::pair<int, int> failOnce(ServerSession &s, qint64 now)
{
    s.setNow(now);
    s.receive("AUTH PLAIN AGFsaWNlAHdyb25n\r\n");
    int delay = 0;
    int code = 0;
    for (const ServerAction &a : s.takeActions()) {
        if (a.kind == ServerAction::Kind::Delay)
            delay += a.ms;
        else if (a.kind == ServerAction::Kind::Write)
            code = a.bytes.left(3).toInt();
    }
    return {delay, code};
}

} // namespace

// Reconnecting must not reset the count: sessions from one address share it,
// another address has its own.
void tst_ServerSession::authThrottleSharedByAddress()
{
    auto throttle = std::make_shared<Capture::AuthThrottle>();
    auto first = authSession(throttle, QStringLiteral("192.0.2.1"));
    for (int i = 0; i < 3; ++i)
        QCOMPARE(failOnce(*first, 1000), std::make_pair(0, 535));
    QCOMPARE(failOnce(*first, 1000), std::make_pair(250, 535));
    auto second = authSession(throttle, QStringLiteral("192.0.2.1"));
    QCOMPARE(failOnce(*second, 2000), std::make_pair(500, 535));
    auto other = authSession(throttle, QStringLiteral("192.0.2.2"));
    QCOMPARE(failOnce(*other, 2000), std::make_pair(0, 535));
    QCOMPARE(failOnce(*second, 3000), std::make_pair(1000, 535));
    QCOMPARE(failOnce(*second, 4000), std::make_pair(2000, 421));
    QVERIFY(second->isClosed());
    // A new connection from that address: its first failure closes it too, after
    // the longest delay.
    auto third = authSession(throttle, QStringLiteral("192.0.2.1"));
    QCOMPARE(failOnce(*third, 5000), std::make_pair(4000, 421));
    QVERIFY(third->isClosed());
    QCOMPARE(throttle->failures(QStringLiteral("192.0.2.1"), 5000), 8);
    // A right password still works from there (the throttle delays failures; it
    // is not a lockout).
    auto fourth = authSession(throttle, QStringLiteral("192.0.2.1"));
    fourth->receive("AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n");
    const QList<ServerAction> actions = fourth->takeActions();
    QVERIFY(!actions.isEmpty());
    QCOMPARE(actions.first().bytes, QByteArray("235 2.7.0 Authentication successful\r\n"));
}

void tst_ServerSession::authThrottleForgetsAfterTheWindow()
{
    Capture::AuthThrottle::Policy policy;
    policy.windowMs = 60000;
    auto throttle = std::make_shared<Capture::AuthThrottle>(policy);
    auto s = authSession(throttle, QStringLiteral("192.0.2.7"));
    for (int i = 0; i < 4; ++i)
        (void)failOnce(*s, 1000 + i * 59000); // each within the window of the one before
    QCOMPARE(throttle->failures(QStringLiteral("192.0.2.7"), 178000), 4);
    // A whole window without a failure: the count starts over.
    QCOMPARE(throttle->failures(QStringLiteral("192.0.2.7"), 178000 + 60000), 0);
    QCOMPARE(failOnce(*s, 178000 + 60000), std::make_pair(0, 535));
    QCOMPARE(throttle->failures(QStringLiteral("192.0.2.7"), 178000 + 60000), 1);
}

void tst_ServerSession::authThrottleTableIsBounded()
{
    Capture::AuthThrottle::Policy policy;
    policy.maxAddresses = 3;
    Capture::AuthThrottle throttle(policy);
    for (int i = 0; i < 5; ++i)
        (void)throttle.failed(QStringLiteral("192.0.2.%1").arg(i), 1000 + i);
    // The oldest addresses went first; the newest are remembered.
    QCOMPARE(throttle.failures(QStringLiteral("192.0.2.0"), 2000), 0);
    QCOMPARE(throttle.failures(QStringLiteral("192.0.2.1"), 2000), 0);
    QCOMPARE(throttle.failures(QStringLiteral("192.0.2.4"), 2000), 1);
}

// The capture server's idle timer restarts on progress(): a command trickled one
// byte at a time is not progress until its line is complete; message data is.
void tst_ServerSession::progressCountsCompleteCommandsAndData()
{
    ServerSession s{ServerConfig(), nullptr};
    s.start();
    const quint64 start = s.progress();
    for (const char *part : {"N", "O", "O"}) {
        s.receive(part);
        QCOMPARE(s.progress(), start);
    }
    s.receive("P\r\n");
    QVERIFY(s.progress() > start);
    s.receive("EHLO c.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");
    const quint64 inData = s.progress();
    s.receive("x");
    QVERIFY(s.progress() > inData);
    // An over-long line being discarded is not progress either, until it ends.
    ServerSession t{ServerConfig(), nullptr};
    t.start();
    t.receive(QByteArray(5000, 'a'));
    const quint64 discarding = t.progress();
    t.receive(QByteArray(100, 'a'));
    QCOMPARE(t.progress(), discarding);
    t.receive("\r\n");
    QVERIFY(t.progress() > discarding);
}

QTEST_GUILESS_MAIN(tst_ServerSession)
#include "tst_serversession.moc"
