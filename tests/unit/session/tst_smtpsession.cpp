// Transcript tests of Smtp::Session (core/protocol/smtpsession.h).
//
// Each row is a named C:/S: script (see sessiontranscript.h for the notation)
// with a session configuration. Every script is replayed with each server chunk
// fed whole, split in two at every byte offset, and byte by byte; all replays
// must write the same bytes and report the same events (h11's fuzz invariant).

#include "sessiontranscript.h"

#include <QTest>

using namespace SessionTranscript;

namespace {

const char *const Password = "Tr0ub4dor&3";

// Greeting and EHLO with nothing to negotiate: the server offers `caps` (one EHLO
// line each) and the session ends Ready. `flag` is the Capabilities event's
// "after TLS" flag (tls for implicit TLS, plain otherwise).
QString opening(const QStringList &caps, const QString &flag = QStringLiteral("tls"))
{
    QString s = QStringLiteral("! connected\n"
                               "S: 220 mx.test ESMTP ready\n"
                               "E: Greeting 220\n"
                               "C: EHLO localhost\n");
    if (caps.isEmpty()) {
        s += QStringLiteral("S: 250 mx.test\n");
    } else {
        s += QStringLiteral("S: 250-mx.test greets localhost\n");
        for (qsizetype i = 0; i < caps.size(); ++i)
            s += QStringLiteral("S: 250%1%2\n")
                     .arg(i + 1 < caps.size() ? QStringLiteral("-") : QStringLiteral(" "), caps[i]);
    }
    s += QStringLiteral("E: Capabilities 250 %1\nE: Ready\n").arg(flag);
    return s;
}

void row(const char *name, const QString &config, const QString &script)
{
    QTest::addRow("%s", name) << config << script;
}

QString creds() { return QStringLiteral("user=alice pass=%1").arg(QLatin1String(Password)); }

} // namespace

class tst_SmtpSession : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void transcript_data();
    void transcript();
    void harnessCatchesMistakes_data();
    void harnessCatchesMistakes();
};

void tst_SmtpSession::transcript_data()
{
    QTest::addColumn<QString>("config");
    QTest::addColumn<QString>("script");

    const QStringList pipe = {QStringLiteral("PIPELINING"), QStringLiteral("8BITMIME")};

    // ------------------------------------------------------------ greeting, EHLO, HELO

    row("greeting multi-line 220, EHLO capabilities", QStringLiteral("tls=none"), QStringLiteral(R"(
        ! connected
        ! expect state=Greeting wait=Reply
        # RFC 5321 3.1: nothing is written before the greeting
        S: 220-mx.test ESMTP first line
        S: 220 second line
        E: Greeting 220
        C: EHLO localhost
        ! expect state=Ehlo wait=Reply
        S: 250-mx.test greets localhost
        S: 250-PIPELINING
        S: 250-SIZE 10240000
        S: 250 8BITMIME
        E: Capabilities 250 plain
        E: Ready
        ! expect state=Ready wait=None helo=0 encrypted=0 cap+=PIPELINING cap+=8BITMIME cap-=STARTTLS pipelining=1
    )"));

    row("greeting 554 fails, no EHLO", QStringLiteral("tls=none"), QStringLiteral(R"(
        ! connected
        S: 554 5.7.1 No SMTP service here
        E: Greeting 554
        E: Failed SMTP-REPLY-ERROR greeting rcode=554 eenh=5.7.1 msg~"554"
        ! expect state=Failed wait=None
        ! quit
    )"));

    row("greeting 421 fails, no EHLO", QStringLiteral("tls=none"), QStringLiteral(R"(
        ! connected
        S: 421 4.3.2 Too busy, try later
        E: Greeting 421
        E: Failed SMTP-REPLY-ERROR greeting rcode=421 msg~"try again later"
    )"));

    row("greeting with code 199 is a protocol error", QStringLiteral("tls=none"), QStringLiteral(R"(
        ! connected
        S: 199 no hello for you!
        E: Failed SMTP-PROTOCOL-ERROR Greeting cat=protocol
    )"));

    row("EOF before the greeting", QStringLiteral("tls=none"), QStringLiteral(R"(
        ! connected
        ! eof
        E: Failed SOCKET-CLOSED Greeting msg~"before its greeting"
    )"));

    row("deadline waiting for the greeting", QStringLiteral("tls=none"), QStringLiteral(R"(
        ! connected
        ! deadline
        E: Failed SOCKET-TIMEOUT Greeting msg~"no greeting"
        ! expect state=Failed wait=None
    )"));

    row("EHLO 502 falls back to HELO", QStringLiteral("tls=opportunistic"), QStringLiteral(R"(
        ! connected
        S: 220 old.test SMTP
        E: Greeting 220
        C: EHLO localhost
        S: 502 5.5.2 Error: command not recognized
        C: HELO localhost
        ! expect state=Helo
        S: 250 old.test
        E: Capabilities 250 plain
        E: Warning text~"NOT encrypted"
        E: Ready
        ! expect state=Ready helo=1 pipelining=0
    )"));

    row("EHLO 502 with TLS required fails, no HELO", QStringLiteral("tls=required"), QStringLiteral(R"(
        ! connected
        S: 220 old.test SMTP
        E: Greeting 220
        C: EHLO localhost
        S: 502 5.5.2 EHLO not supported
        E: Failed SMTP-TLS-ERROR EHLO cat=tls rcode=502
        ! expect state=Failed
    )"));

    row("HELO refused after EHLO refused", QStringLiteral("tls=none"), QStringLiteral(R"(
        ! connected
        S: 220 old.test SMTP
        E: Greeting 220
        C: EHLO localhost
        S: 500 5.5.1 unrecognized
        C: HELO localhost
        S: 501 5.5.4 bad HELO
        E: Failed SMTP-REPLY-ERROR HELO rcode=501
    )"));

    row("EHLO 451 is a failure, no HELO", QStringLiteral("tls=none"), QStringLiteral(R"(
        ! connected
        S: 220 mx.test
        E: Greeting 220
        C: EHLO localhost
        S: 451 4.3.0 try later
        E: Failed SMTP-REPLY-ERROR EHLO rcode=451 msg~"temporary"
    )"));

    row("EHLO name from the configuration", QStringLiteral("tls=none ehlo=client.example.org"), QStringLiteral(R"(
        ! connected
        S: 220 mx.test
        E: Greeting 220
        C: EHLO client.example.org
        S: 250 mx.test
        E: Capabilities 250
        E: Ready
    )"));

    // ------------------------------------------------------------ STARTTLS

    row("STARTTLS required: second EHLO, pre-TLS capabilities forgotten", QStringLiteral("tls=required"),
        QStringLiteral(R"(
        ! connected
        S: 220 smtp.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-smtp.test
        S: 250-PIPELINING
        S: 250-SIZE 10485760
        S: 250-AUTH PLAIN LOGIN
        S: 250 STARTTLS
        E: Capabilities 250 plain
        C: STARTTLS
        ! expect state=StartTls
        S: 220 2.0.0 Ready to start TLS
        E: StartTlsNow
        ! expect state=TlsHandshake wait=Handshake
        ! tls
        # RFC 3207 4.2: forget what was learnt before TLS, ask again
        C: EHLO localhost
        ! expect state=EhloAfterTls encrypted=1 cap-=SIZE cap-=PIPELINING precap+=SIZE
        S: 250-smtp.test
        S: 250-PIPELINING
        S: 250 STARTTLS
        E: Capabilities 250 tls
        E: Ready
        # STARTTLS still listed after TLS: never sent twice
        ! expect state=Ready encrypted=1 cap-=SIZE cap+=STARTTLS precap+=SIZE precap+=STARTTLS
        # no SIZE after TLS: no SIZE= on MAIL (RFC 1870 6)
        ! start from=a@x.test to=b@y.test size=2048 body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
    )"));

    row("STARTTLS then AUTH with the post-TLS mechanisms only", QStringLiteral("tls=required ") + creds(),
        QStringLiteral(R"(
        ! connected
        S: 220 smtp.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-smtp.test
        S: 250-AUTH PLAIN
        S: 250 STARTTLS
        E: Capabilities 250 plain
        # no AUTH before TLS even though offered
        C: STARTTLS
        S: 220 2.0.0 go ahead
        E: StartTlsNow
        ! tls
        C: EHLO localhost
        S: 250-smtp.test
        S: 250 AUTH LOGIN
        E: Capabilities 250 tls
        C: AUTH LOGIN
        S: 334 VXNlcm5hbWU6
        C: YWxpY2U=
        S: 334 UGFzc3dvcmQ6
        C: VHIwdWI0ZG9yJjM=
        S: 235 2.7.0 Authentication successful
        E: AuthAttempt LOGIN 235 flag=ok
        E: Ready
        ! expect authenticated=1 mech=LOGIN authmechs=LOGIN
    )"));

    row("STARTTLS not offered with TLS required: nothing after EHLO", QStringLiteral("tls=required ") + creds(),
        QStringLiteral(R"(
        ! connected
        S: 220 smtp.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-smtp.test
        S: 250-PIPELINING
        S: 250 AUTH PLAIN LOGIN
        E: Capabilities 250 plain
        E: Failed SMTP-TLS-ERROR EHLO cat=tls msg~"does not offer STARTTLS"
        ! expect state=Failed encrypted=0 authenticated=0
        # no AUTH, no MAIL, no QUIT
        ! start from=a@x.test to=b@y.test ret=-1
        E: TransactionFailed -1 SMTP-STATE-ERROR
        ! quit
        ! noop ret=false
    )"));

    row("STARTTLS mangled to XXXXXXXA with TLS required", QStringLiteral("tls=required"), QStringLiteral(R"(
        ! connected
        S: 220 smtp.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-smtp.test
        S: 250 XXXXXXXA
        E: Capabilities 250 plain
        E: Failed SMTP-TLS-ERROR EHLO
    )"));

    row("STARTTLSX is not STARTTLS", QStringLiteral("tls=required"), QStringLiteral(R"(
        ! connected
        S: 220 smtp.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-smtp.test
        S: 250 STARTTLSX
        E: Capabilities 250 plain
        E: Failed SMTP-TLS-ERROR EHLO
    )"));

    // RFC 3207 4: only 220 means "go ahead"; with TLS required nothing goes in the clear.
    const char *const refusals[][2] = {
        {"454", "454 4.7.0 TLS not available"}, {"502", "502 5.5.1 Unknown command"},
        {"501", "501 5.5.4 Syntax error"},      {"354", "354 go on"},
        {"250", "250 OK"},
    };
    for (const auto &r : refusals) {
        const QByteArray name = QByteArray("STARTTLS answered ") + r[0] + " with TLS required";
        row(name.constData(), QStringLiteral("tls=required ") + creds(), QStringLiteral(R"(
            ! connected
            S: 220 smtp.test ESMTP
            E: Greeting 220
            C: EHLO localhost
            S: 250-smtp.test
            S: 250-AUTH PLAIN
            S: 250 STARTTLS
            E: Capabilities 250 plain
            C: STARTTLS
            S: %1
            E: Failed SMTP-TLS-ERROR STARTTLS cat=tls rcode=%2
            ! expect state=Failed encrypted=0
        )").arg(QLatin1String(r[1]), QLatin1String(r[0])));
    }

    row("STARTTLS answered 421", QStringLiteral("tls=required"), QStringLiteral(R"(
        ! connected
        S: 220 smtp.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-smtp.test
        S: 250 STARTTLS
        E: Capabilities 250 plain
        C: STARTTLS
        S: 421 4.3.2 Bye
        E: Failed SMTP-REPLY-ERROR STARTTLS rcode=421
        ! eof
    )"));

    row("STARTTLS refused 454, opportunistic: warning, plaintext", QStringLiteral("tls=opportunistic"),
        QStringLiteral(R"(
        ! connected
        S: 220 smtp.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-smtp.test
        S: 250 STARTTLS
        E: Capabilities 250 plain
        C: STARTTLS
        S: 454 4.7.0 TLS not available
        E: Warning text~"WITHOUT encryption"
        E: Ready
        ! expect encrypted=0 state=Ready
    )"));

    // docs/security.md section A / CVE-2021-22947: plaintext after the 220, in the same segment.
    row("injection after the STARTTLS 220 in one chunk", QStringLiteral("tls=required injection-race"),
        QStringLiteral(R"(
        ! connected
        S: 220 smtp.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-smtp.test
        S: 250 STARTTLS
        E: Capabilities 250 plain
        C: STARTTLS
        S: 220 Ready
        S: 250-x
        S: 250 AUTH PLAIN
        E: Failed SMTP-TLS-ERROR STARTTLS msg~"possible response injection" rcode=220
        ! expect state=Failed encrypted=0
    )"));

    // docs/security.md section A: the injected fragment has no line end.
    row("partial-line injection after the STARTTLS 220", QStringLiteral("tls=required injection-race"),
        QStringLiteral(R"(
        ! connected
        S: 220 smtp.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-smtp.test
        S: 250 STARTTLS
        E: Capabilities 250 plain
        C: STARTTLS
        S: 220 2.0.0 Ready
        S= 250-AUTH PLAIN INJ
        E: Failed SMTP-TLS-ERROR STARTTLS msg~"possible response injection"
    )"));

    row("bytes received during the TLS handshake are never parsed", QStringLiteral("tls=required"),
        QStringLiteral(R"(
        ! connected
        S: 220 smtp.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-smtp.test
        S: 250 STARTTLS
        E: Capabilities 250 plain
        C: STARTTLS
        S: 220 Ready
        E: StartTlsNow
        S: 250-forged.test
        S: 250 AUTH PLAIN
        ! expect state=TlsHandshake
        ! tls
        C: EHLO localhost
        S: 250-smtp.test
        S: 250 AUTH LOGIN
        E: Capabilities 250 tls
        E: Ready
        ! expect authmechs=LOGIN
    )"));

    row("deadline during the TLS handshake", QStringLiteral("tls=required"), QStringLiteral(R"(
        ! connected
        S: 220 smtp.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-smtp.test
        S: 250 STARTTLS
        E: Capabilities 250 plain
        C: STARTTLS
        S: 220 Ready
        E: StartTlsNow
        ! deadline
        E: Failed SOCKET-TIMEOUT "TLS handshake"
    )"));

    row("opportunistic without STARTTLS: warning", QStringLiteral("tls=opportunistic"),
        opening(pipe, QStringLiteral("plain")).replace(QStringLiteral("E: Ready"),
                                                       QStringLiteral("E: Warning text~\"NOT encrypted\"\nE: Ready"))
            + QStringLiteral("! expect encrypted=0\n"));

    row("opportunistic without STARTTLS, credentials: no AUTH in clear", QStringLiteral("tls=opportunistic ") + creds(),
        QStringLiteral(R"(
        ! connected
        S: 220 mx.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-mx.test
        S: 250 AUTH PLAIN LOGIN
        E: Capabilities 250 plain
        E: Warning text~"NOT encrypted"
        E: Failed SMTP-AUTH-ERROR AUTH msg~"unencrypted"
    )"));

    row("implicit TLS never sends STARTTLS", QStringLiteral("tls=implicit"),
        opening({QStringLiteral("PIPELINING"), QStringLiteral("STARTTLS")}) + QStringLiteral("! expect encrypted=1\n"));

    row("tls=none ignores an offered STARTTLS", QStringLiteral("tls=none"),
        opening({QStringLiteral("STARTTLS")}, QStringLiteral("plain")) + QStringLiteral("! expect encrypted=0\n"));

    // ------------------------------------------------------------ AUTH (RFC 4954)

    const QString authOpening = QStringLiteral(R"(
        ! connected
        S: 220 mx.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-mx.test
        S: 250 AUTH %1
        E: Capabilities 250 tls
    )");

    row("AUTH PLAIN initial response, redacted", QStringLiteral("tls=implicit ") + creds(),
        authOpening.arg(u"LOGIN PLAIN") + QStringLiteral(R"(
        C: AUTH PLAIN AGFsaWNlAFRyMHViNGRvciYz
        E: CommandSent "AUTH PLAIN <redacted>"
        ! expect state=Auth wait=Reply
        S: 235 2.7.0 Authentication successful
        E: AuthAttempt PLAIN 235 flag=ok
        E: Ready
        ! expect authenticated=1 mech=PLAIN state=Ready
    )"));

    row("AUTH PLAIN shown when showSecrets", QStringLiteral("tls=implicit secrets ") + creds(),
        authOpening.arg(u"PLAIN") + QStringLiteral(R"(
        C: AUTH PLAIN AGFsaWNlAFRyMHViNGRvciYz
        E: CommandSent "AUTH PLAIN AGFsaWNlAFRyMHViNGRvciYz"
        S: 235 2.7.0 ok
        E: AuthAttempt PLAIN 235
        E: Ready
    )"));

    row("AUTH LOGIN two 334 rounds", QStringLiteral("tls=implicit ") + creds(), authOpening.arg(u"LOGIN") + QStringLiteral(R"(
        C: AUTH LOGIN
        E: CommandSent "AUTH LOGIN"
        S: 334 VXNlcm5hbWU6
        C: YWxpY2U=
        E: CommandSent "<redacted SASL response>"
        S: 334 UGFzc3dvcmQ6
        C: VHIwdWI0ZG9yJjM=
        E: CommandSent "<redacted SASL response>"
        S: 235 2.7.0 ok
        E: AuthAttempt LOGIN 235
        E: Ready
        ! expect authenticated=1 mech=LOGIN
    )"));

    // RFC 2195 2: the example exchange (user tim, password tanstaaftanstaaf).
    row("AUTH CRAM-MD5 preferred, RFC 2195 example", QStringLiteral("tls=implicit user=tim pass=tanstaaftanstaaf"),
        authOpening.arg(u"PLAIN LOGIN CRAM-MD5") + QStringLiteral(R"(
        C: AUTH CRAM-MD5
        S: 334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+
        C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw
        S: 235 2.7.0 ok
        E: AuthAttempt CRAM-MD5 235
        E: Ready
    )"));

    // RFC 4954 6: 535 refuses the credentials. A server keeping only hashed
    // passwords refuses CRAM-MD5 even with the right one, so PLAIN gets one try ...
    row("AUTH 535 to CRAM-MD5, then PLAIN once", QStringLiteral("tls=implicit user=tim pass=tanstaaftanstaaf"),
        authOpening.arg(u"PLAIN LOGIN CRAM-MD5") + QStringLiteral(R"(
        C: AUTH CRAM-MD5
        S: 334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+
        C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw
        S: 535 5.7.8 Authentication credentials invalid
        E: AuthAttempt CRAM-MD5 535 flag=fail
        C: AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm
        S: 235 2.7.0 ok
        E: AuthAttempt PLAIN 235 flag=ok
        E: Ready
        ! expect mech=PLAIN authenticated=1
    )"));

    // ... and no more: the same password is not replayed through every mechanism
    // (each refusal counts towards an account lockout).
    row("AUTH 535 to CRAM-MD5 and PLAIN: LOGIN not tried", QStringLiteral("tls=implicit user=tim pass=tanstaaftanstaaf"),
        authOpening.arg(u"PLAIN LOGIN CRAM-MD5") + QStringLiteral(R"(
        C: AUTH CRAM-MD5
        S: 334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+
        C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw
        S: 535 5.7.8 no
        E: AuthAttempt CRAM-MD5 535
        C: AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm
        S: 535 5.7.8 still no
        E: AuthAttempt PLAIN 535
        E: Failed SMTP-AUTH-ERROR "AUTH PLAIN" msg~"CRAM-MD5: 535" msg~"PLAIN: 535" msg~"check the user name"
        ! expect authenticated=0
    )"));

    row("AUTH 535 to PLAIN: LOGIN not tried with the same password", QStringLiteral("tls=implicit ") + creds(),
        authOpening.arg(u"LOGIN PLAIN") + QStringLiteral(R"(
        C: AUTH PLAIN AGFsaWNlAFRyMHViNGRvciYz
        S: 535 5.7.8 no
        E: AuthAttempt PLAIN 535
        E: Failed SMTP-AUTH-ERROR "AUTH PLAIN" msg~"PLAIN: 535" msg~"check the user name"
        ! expect authenticated=0
    )"));

    row("AUTH 530 encryption required: no other mechanism tried", QStringLiteral("tls=implicit ") + creds(),
        authOpening.arg(u"LOGIN PLAIN") + QStringLiteral(R"(
        C: AUTH PLAIN AGFsaWNlAFRyMHViNGRvciYz
        S: 530 5.7.0 Must issue a STARTTLS command first
        E: AuthAttempt PLAIN 530
        E: Failed SMTP-AUTH-ERROR "AUTH PLAIN" msg~"requires encryption"
    )"));

    row("AUTH 454 temporary: no other mechanism tried", QStringLiteral("tls=implicit ") + creds(),
        authOpening.arg(u"LOGIN PLAIN") + QStringLiteral(R"(
        C: AUTH PLAIN AGFsaWNlAFRyMHViNGRvciYz
        S: 454 4.7.0 Temporary authentication failure
        E: AuthAttempt PLAIN 454
        E: Failed SMTP-AUTH-ERROR "AUTH PLAIN" rcode=454
    )"));

    row("no AUTH over plaintext", QStringLiteral("tls=none ") + creds(), QStringLiteral(R"(
        ! connected
        S: 220 mx.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-mx.test
        S: 250 AUTH PLAIN LOGIN
        E: Capabilities 250 plain
        E: Failed SMTP-AUTH-ERROR AUTH msg~"unencrypted"
        ! expect authenticated=0
    )"));

    row("AUTH over plaintext when allowed", QStringLiteral("tls=none plainauth ") + creds(), QStringLiteral(R"(
        ! connected
        S: 220 mx.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-mx.test
        S: 250 AUTH PLAIN
        E: Capabilities 250 plain
        C: AUTH PLAIN AGFsaWNlAFRyMHViNGRvciYz
        S: 235 2.7.0 ok
        E: AuthAttempt PLAIN 235
        E: Ready
        ! expect encrypted=0 authenticated=1
    )"));

    row("credentials but AUTH not offered", QStringLiteral("tls=implicit ") + creds(),
        QStringLiteral(R"(
        ! connected
        S: 220 mx.test ESMTP
        E: Greeting 220
        C: EHLO localhost
        S: 250-mx.test
        S: 250 PIPELINING
        E: Capabilities 250 tls
        E: Failed SMTP-AUTH-ERROR AUTH msg~"does not offer authentication"
    )"));

    row("forced mechanism not offered", QStringLiteral("tls=implicit mech=LOGIN ") + creds(),
        authOpening.arg(u"PLAIN") + QStringLiteral(R"(
        E: Failed SMTP-AUTH-ERROR AUTH msg~"does not offer LOGIN"
    )"));

    row("forced mechanism used over a stronger one", QStringLiteral("tls=implicit mech=login ") + creds(),
        authOpening.arg(u"PLAIN LOGIN") + QStringLiteral(R"(
        C: AUTH LOGIN
        S: 334 VXNlcm5hbWU6
        C: YWxpY2U=
        S: 334 UGFzc3dvcmQ6
        C: VHIwdWI0ZG9yJjM=
        S: 235 2.7.0 ok
        E: AuthAttempt LOGIN 235
        E: Ready
    )"));

    // docs/security.md section H: a server answering 334 forever.
    row("AUTH loop: 334 forever is cut off", QStringLiteral("tls=implicit ") + creds(),
        authOpening.arg(u"LOGIN") + QStringLiteral(R"(
        C: AUTH LOGIN
        S: 334 QnVHZ1liVWdHeQ==
        C: YWxpY2U=
        S: 334 QnVHZ1liVWdHeQ==
        C: VHIwdWI0ZG9yJjM=
        S: 334 QnVHZ1liVWdHeQ==
        C: *
        S: 334 QnVHZ1liVWdHeQ==
        E: Failed SMTP-AUTH-ERROR "AUTH LOGIN"
        S: 334 QnVHZ1liVWdHeQ==
        ! expect authenticated=0 state=Failed
    )"));

    // docs/security.md section H, RFC 4954 4: cancel with "*", the server answers 501.
    row("bad base64 challenge: * then Failed on the 501", QStringLiteral("tls=implicit ") + creds(),
        authOpening.arg(u"LOGIN") + QStringLiteral(R"(
        C: AUTH LOGIN
        S: 334 !!!notbase64
        C: *
        E: CommandSent "*"
        ! expect state=Auth
        S: 501 5.5.2 AUTH cancelled
        E: Failed SMTP-AUTH-ERROR "AUTH LOGIN" msg~"not valid base64"
    )"));

    // docs/security.md section H: XOAUTH2 answers the error challenge with an empty line.
    row("XOAUTH2 token refused: empty response then Failed", QStringLiteral("tls=implicit user=alice@x.test token=ya29.tok"),
        authOpening.arg(u"XOAUTH2") + QStringLiteral(R"(
        C: AUTH XOAUTH2 dXNlcj1hbGljZUB4LnRlc3QBYXV0aD1CZWFyZXIgeWEyOS50b2sBAQ==
        E: CommandSent "AUTH XOAUTH2 <redacted>"
        S: 334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==
        C:
        S: 535 5.7.8 Username and Password not accepted
        E: Failed SMTP-AUTH-ERROR "AUTH XOAUTH2" msg~"status 401"
    )"));

    {
        // docs/security.md section G / RFC 4954 4: an initial response that would make
        // the AUTH line longer than 512 octets goes alone after an empty 334.
        const QByteArray token = QByteArray("abcdefghij").repeated(36);
        const QByteArray message = "user=alice@x.test\x01" "auth=Bearer " + token + "\x01\x01";
        row("XOAUTH2 long token sent after an empty 334",
            QStringLiteral("tls=implicit user=alice@x.test token=") + QString::fromLatin1(token),
            authOpening.arg(u"XOAUTH2") + QStringLiteral(R"(
            C: AUTH XOAUTH2
            S: 334
            C: %1
            E: CommandSent "<redacted SASL response>"
            S: 235 2.7.0 Accepted
            E: AuthAttempt XOAUTH2 235
            E: Ready
        )").arg(QString::fromLatin1(message.toBase64())));
    }

    row("421 to AUTH", QStringLiteral("tls=implicit ") + creds(), authOpening.arg(u"PLAIN") + QStringLiteral(R"(
        C: AUTH PLAIN AGFsaWNlAFRyMHViNGRvciYz
        S: 421 4.3.2 Shutting down
        E: Failed SMTP-REPLY-ERROR AUTH rcode=421
    )"));

    // ------------------------------------------------------------ transactions

    row("pipelined MAIL RCPT RCPT DATA in one write", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test,c@y.test body="Subject: t\r\n\r\nHello\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: RCPT TO:<c@y.test>
        C: DATA
        ! expect state=Transaction wait=Reply
        S: 250 2.1.0 Sender ok
        S: 250 2.1.5 Recipient ok
        S: 250 2.1.5 Recipient ok
        S: 354 End data with <CR><LF>.<CR><LF>
        E: SenderResult 250 txn=0
        E: RecipientResult 0 250 txn=0
        E: RecipientResult 1 250
        E: DataSent 24
        C: Subject: t
        C:
        C: Hello
        C: .
        ! expect wait=FinalReply
        S: 250 2.0.0 Ok: queued as ABC
        E: MessageResult accepted 250 txn=0
        E: Ready
        ! expect state=Ready wait=None
    )"));

    row("pipelined: 2nd of 3 recipients refused, message still sent", QStringLiteral("tls=implicit"),
        opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test,c@y.test,d@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: RCPT TO:<c@y.test>
        C: RCPT TO:<d@y.test>
        C: DATA
        S: 250 2.1.0 ok
        S: 250 2.1.5 ok
        S: 550 5.1.1 <c@y.test>: no such user
        S: 250 2.1.5 ok
        S: 354 go ahead
        E: SenderResult 250
        E: RecipientResult 0 250
        E: RecipientResult 1 550 enh=5.1.1
        E: RecipientResult 2 250
        C: Hi
        C: .
        S: 250 2.0.0 queued
        E: MessageResult accepted 250
        E: Ready
    )"));

    row("all recipients refused: DATA 554, RSET, no body", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test,c@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: RCPT TO:<c@y.test>
        C: DATA
        S: 250 2.1.0 ok
        S: 550 5.1.1 no such user b
        S: 550 5.1.1 no such user c
        S: 554 5.5.1 No valid recipients
        E: SenderResult 250
        E: RecipientResult 0 550
        E: RecipientResult 1 550
        E: TransactionFailed 0 SMTP-REPLY-ERROR "RCPT TO" msg~"refused every recipient"
        C: RSET
        S: 250 2.0.0 Ok
        E: ResetResult 250 txn=0
        E: Ready
        ! expect state=Ready
    )"));

    // RFC 2920 3.1: DATA accepted though no recipient was: end the empty data at once.
    row("all recipients refused but DATA 354: empty data, then RSET", QStringLiteral("tls=implicit"),
        opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="secret body\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 550 5.1.1 unknown
        S: 354 go ahead
        E: SenderResult 250
        E: RecipientResult 0 550
        E: TransactionFailed 0 SMTP-REPLY-ERROR "RCPT TO"
        C: .
        S: 554 5.5.1 No valid recipients
        C: RSET
        S: 250 ok
        E: ResetResult 250
        E: Ready
    )"));

    row("pipelined: MAIL refused, replies collected, then RSET", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 553 5.1.8 bad sender
        S: 503 5.5.1 need MAIL
        E: SenderResult 553
        E: TransactionFailed 0 SMTP-REPLY-ERROR "MAIL FROM" rcode=553
        E: RecipientResult 0 503
        S: 503 5.5.1 need RCPT
        C: RSET
        S: 250 ok
        E: ResetResult 250
        E: Ready
    )"));

    // docs/security.md section G: no body unless 354.
    const char *const dataRefusals[][2] = {{"451", "451 4.3.0 try later"}, {"554", "554 5.5.1 no"}, {"250", "250 what?"}};
    for (const auto &r : dataRefusals) {
        const QByteArray name = QByteArray("DATA answered ") + r[0] + ": no body, RSET";
        row(name.constData(), QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
            ! start from=a@x.test to=b@y.test body="Hi\r\n"
            C: MAIL FROM:<a@x.test>
            C: RCPT TO:<b@y.test>
            C: DATA
            S: 250 ok
            S: 250 ok
            S: %1
            E: SenderResult 250
            E: RecipientResult 0 250
            E: TransactionFailed 0 SMTP-REPLY-ERROR DATA rcode=%2
            C: RSET
            S: 250 ok
            E: ResetResult 250
            E: Ready
        )").arg(QLatin1String(r[1]), QLatin1String(r[0])));
    }

    row("end of data rejected: failed, no RSET, still usable", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: SenderResult 250
        E: RecipientResult 0 250
        C: Hi
        C: .
        S: 554 5.7.1 spam
        E: MessageResult rejected 554
        E: TransactionFailed 0 SMTP-REPLY-ERROR "end of data" rcode=554
        E: Ready
        ! start from=a@x.test to=b@y.test body="Hi again\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
    )"));

    row("non-pipelined: one command per round trip", QStringLiteral("tls=implicit"),
        opening({QStringLiteral("8BITMIME")}) + QStringLiteral(R"(
        ! expect pipelining=0
        ! start from=a@x.test to=b@y.test,c@y.test,d@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        S: 250 ok
        E: SenderResult 250
        C: RCPT TO:<b@y.test>
        S: 250 ok
        E: RecipientResult 0 250
        C: RCPT TO:<c@y.test>
        S: 550 5.1.1 unknown
        E: RecipientResult 1 550
        C: RCPT TO:<d@y.test>
        S: 250 ok
        E: RecipientResult 2 250
        C: DATA
        S: 354 go ahead
        C: Hi
        C: .
        S: 250 2.0.0 queued
        E: MessageResult accepted 250
        E: Ready
    )"));

    row("pipelining offered but switched off", QStringLiteral("tls=implicit pipelining=off"),
        opening(pipe) + QStringLiteral(R"(
        ! expect pipelining=0
        ! start from=a@x.test to=b@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        S: 250 ok
        E: SenderResult 250
        C: RCPT TO:<b@y.test>
        S: 250 ok
        E: RecipientResult 0 250
        C: DATA
        S: 354 go ahead
        C: Hi
        C: .
        S: 250 ok
        E: MessageResult accepted 250
        E: Ready
    )"));

    row("non-pipelined: every recipient refused, RSET, no DATA", QStringLiteral("tls=implicit"),
        opening({QStringLiteral("8BITMIME")}) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test,c@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        S: 250 ok
        E: SenderResult 250
        C: RCPT TO:<b@y.test>
        S: 550 5.1.1 unknown
        E: RecipientResult 0 550
        C: RCPT TO:<c@y.test>
        S: 550 5.1.1 unknown
        E: RecipientResult 1 550
        E: TransactionFailed 0 SMTP-REPLY-ERROR "RCPT TO"
        C: RSET
        S: 250 ok
        E: ResetResult 250
        E: Ready
    )"));

    row("non-pipelined: MAIL refused, RSET, no RCPT", QStringLiteral("tls=implicit"),
        opening({QStringLiteral("8BITMIME")}) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        S: 550 5.7.1 not you
        E: SenderResult 550
        E: TransactionFailed 0 SMTP-REPLY-ERROR "MAIL FROM"
        C: RSET
        S: 250 ok
        E: ResetResult 250
        E: Ready
    )"));

    row("null reverse-path", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from= to=b@y.test
        C: MAIL FROM:<>
        C: RCPT TO:<b@y.test>
        C: DATA
    )"));

    row("no recipient: refused before MAIL", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to= ret=-1
        E: TransactionFailed -1 MESSAGE-ERROR "RCPT TO" cat=message
        ! expect state=Ready
    )"));

    row("transaction before Ready is refused", QStringLiteral("tls=none"), QStringLiteral(R"(
        ! connected
        ! start from=a@x.test to=b@y.test ret=-1
        E: TransactionFailed -1 SMTP-STATE-ERROR cat=usage
        ! noop ret=false
        ! rset ret=false
        ! expect state=Greeting
    )"));

    // ------------------------------------------------------------ DATA body

    // RFC 5321 4.5.2: a line starting with "." gets another; the data ends with
    // CRLF "." CRLF; bare CR and LF become CRLF (2.3.8). Chunks cut anywhere.
    row("DATA body dot-stuffing and terminator, streamed", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go ahead
        E: SenderResult 250
        E: RecipientResult 0 250
        E: BodyWanted 0
        ! expect streaming=1 wait=Send
        ! body .hidden line\n
        ! body ..two dots\r
        ! body \n.\nend\r\n.
        ! body \rbare CR\r
        ! endbody
        C: ..hidden line
        C: ...two dots
        C: ..
        C: end
        C: ..
        C: bare CR
        C: .
        ! expect streaming=0 wait=FinalReply
        S: 250 2.0.0 queued
        E: MessageResult accepted 250
        E: Ready
    )"));

    // docs/security.md, section D: an SMTP-smuggling body stays data.
    row("smuggled end of data stays in the body", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="a\n.\r\nMAIL FROM:<evil@x.test>\r\n\r.\rRSET"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go ahead
        E: SenderResult 250
        E: RecipientResult 0 250
        C: a
        C: ..
        C: MAIL FROM:<evil@x.test>
        C:
        C: ..
        C: RSET
        C: .
        S: 250 ok
        E: MessageResult accepted 250
        E: Ready
    )"));

    row("empty body: only the terminator", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go ahead
        E: SenderResult 250
        E: RecipientResult 0 250
        E: BodyWanted 0
        ! endbody
        C: .
        S: 250 ok
        E: MessageResult accepted 250
        E: Ready
    )"));

    // docs/security.md section F: the server rejects while the data is still coming.
    row("early 552 during the data transfer", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go ahead
        E: SenderResult 250
        E: RecipientResult 0 250
        E: BodyWanted 0
        ! body first part\r\n
        C: first part
        S: 552 5.3.4 Message too big
        E: TransactionFailed 0 SMTP-REPLY-ERROR DATA rcode=552
        E: Failed SMTP-REPLY-ERROR DATA msg~"interrupted"
        ! body more data\r\n
        ! endbody
        ! expect state=Failed
    )"));

    // ------------------------------------------------------------ BDAT (RFC 3030)

    row("BDAT with inline body pipelined with MAIL and RCPT", QStringLiteral("tls=implicit"),
        opening({QStringLiteral("PIPELINING"), QStringLiteral("CHUNKING")}) + QStringLiteral(R"(
        ! expect chunking=1
        ! start from=a@x.test to=b@y.test body="Hi\r\n.dot\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: BDAT 10 LAST
        C= Hi\r\n.dot\r\n
        ! expect wait=Reply
        S: 250 2.1.0 ok
        S: 250 2.1.5 ok
        S: 250 2.0.0 queued
        E: SenderResult 250
        E: RecipientResult 0 250
        E: MessageResult accepted 250
        E: Ready
    )"));

    row("BDAT switched off: DATA", QStringLiteral("tls=implicit chunking=off"),
        opening({QStringLiteral("PIPELINING"), QStringLiteral("CHUNKING")}) + QStringLiteral(R"(
        ! expect chunking=0
        ! start from=a@x.test to=b@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
    )"));

    row("BDAT streamed in chunks of 10", QStringLiteral("tls=implicit bdat=10"),
        opening({QStringLiteral("PIPELINING"), QStringLiteral("CHUNKING")}) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        S: 250 ok
        S: 250 ok
        E: SenderResult 250
        E: RecipientResult 0 250
        E: BodyWanted 0
        ! body 0123456789abcdefghij
        ! body KLM
        C: BDAT 10
        C= 0123456789
        C: BDAT 10
        C= abcdefghij
        S: 250 2.0.0 10 octets received
        ! body N.\nOPQ
        C: BDAT 10
        C= KLMN.\r\nOPQ
        ! endbody
        C: BDAT 2 LAST
        C= \r\n
        S: 250 2.0.0 10 octets received
        S: 250 2.0.0 10 octets received
        S: 250 2.0.0 queued
        E: MessageResult accepted 250
        E: Ready
    )"));

    row("BDAT chunk refused mid-stream: stop, RSET after owed replies", QStringLiteral("tls=implicit bdat=10"),
        opening({QStringLiteral("PIPELINING"), QStringLiteral("CHUNKING")}) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        S: 250 ok
        S: 250 ok
        E: SenderResult 250
        E: RecipientResult 0 250
        E: BodyWanted 0
        ! body 0123456789abcdefghijXY
        C: BDAT 10
        C= 0123456789
        C: BDAT 10
        C= abcdefghij
        S: 552 5.3.4 too big
        E: TransactionFailed 0 SMTP-REPLY-ERROR BDAT rcode=552
        ! body more
        ! endbody
        S: 552 5.3.4 too big
        C: RSET
        S: 250 ok
        E: ResetResult 250
        E: Ready
    )"));

    row("BDAT: every recipient refused, no data, RSET", QStringLiteral("tls=implicit bdat=10"),
        opening({QStringLiteral("PIPELINING"), QStringLiteral("CHUNKING")}) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        S: 250 ok
        S: 550 5.1.1 unknown
        E: SenderResult 250
        E: RecipientResult 0 550
        E: TransactionFailed 0 SMTP-REPLY-ERROR "RCPT TO"
        C: RSET
        S: 250 ok
        E: ResetResult 250
        E: Ready
    )"));

    // ------------------------------------------------------------ 421, EOF, deadlines

    // docs/security.md section F / RFC 5321 3.8: stop, no RSET, no QUIT.
    row("421 to EHLO", QStringLiteral("tls=none"), QStringLiteral(R"(
        ! connected
        S: 220 mx.test
        E: Greeting 220
        C: EHLO localhost
        S: 421 4.3.2 Shutting down
        E: Failed SMTP-REPLY-ERROR EHLO rcode=421 msg~"closing the connection"
        ! quit
        ! eof
        ! expect state=Failed
    )"));

    row("421 to MAIL", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 421 4.3.2 Shutting down
        E: TransactionFailed 0 SMTP-REPLY-ERROR "MAIL FROM" rcode=421
        E: Failed SMTP-REPLY-ERROR "MAIL FROM" rcode=421
        S: 503 5.5.1 late
        ! quit
        ! expect state=Failed wait=None
    )"));

    row("421 to MAIL, non-pipelined", QStringLiteral("tls=implicit"), opening({QStringLiteral("8BITMIME")}) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        S: 421 4.3.2 Shutting down
        E: TransactionFailed 0 SMTP-REPLY-ERROR "MAIL FROM"
        E: Failed SMTP-REPLY-ERROR "MAIL FROM"
        ! quit
    )"));

    row("421 to the second RCPT", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test,c@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: RCPT TO:<c@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 421 4.3.2 Shutting down
        E: SenderResult 250
        E: RecipientResult 0 250
        E: TransactionFailed 0 SMTP-REPLY-ERROR "RCPT TO"
        E: Failed SMTP-REPLY-ERROR "RCPT TO" rcode=421
        ! quit
    )"));

    row("421 to DATA", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 421 4.3.2 Shutting down
        E: SenderResult 250
        E: RecipientResult 0 250
        E: TransactionFailed 0 SMTP-REPLY-ERROR DATA
        E: Failed SMTP-REPLY-ERROR DATA rcode=421
        ! quit
    )"));

    row("421 after the end of data", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: SenderResult 250
        E: RecipientResult 0 250
        C: Hi
        C: .
        S: 421 4.3.2 Shutting down
        E: TransactionFailed 0 SMTP-REPLY-ERROR "end of data"
        E: Failed SMTP-REPLY-ERROR "end of data" rcode=421
        ! quit
    )"));

    // RFC 5321 3.8: a 421 may come at any time, also while idle.
    row("421 while idle", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        S: 421 4.4.2 Idle timeout
        E: Failed rcode=421
        ! quit
    )"));

    // docs/security.md section F / RFC 5321 3.8.
    row("EOF after the end of data", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: SenderResult 250
        E: RecipientResult 0 250
        C: Hi
        C: .
        ! expect wait=FinalReply
        ! eof
        E: TransactionFailed 0 SOCKET-CLOSED "end of data"
        E: Failed SOCKET-CLOSED "end of data" cat=transport msg~"may or may not have been delivered"
    )"));

    row("EOF during the data transfer", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: SenderResult 250
        E: RecipientResult 0 250
        E: BodyWanted 0
        ! body 1 KB of text\r\n
        C: 1 KB of text
        ! eof
        E: TransactionFailed 0 SOCKET-CLOSED DATA
        E: Failed SOCKET-CLOSED DATA msg~"during the data transfer"
    )"));

    row("EOF waiting for the EHLO reply", QStringLiteral("tls=none"), QStringLiteral(R"(
        ! connected
        S: 220 mx.test
        E: Greeting 220
        C: EHLO localhost
        ! eof
        E: Failed SOCKET-CLOSED EHLO
    )"));

    row("deadline waiting for the EHLO reply", QStringLiteral("tls=none"), QStringLiteral(R"(
        ! connected
        S: 220 mx.test
        E: Greeting 220
        C: EHLO localhost
        ! expect wait=Reply
        ! deadline
        E: Failed SOCKET-TIMEOUT EHLO msg~"no reply"
    )"));

    row("deadline waiting for a RCPT reply", QStringLiteral("tls=implicit"), opening({QStringLiteral("8BITMIME")}) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        S: 250 ok
        E: SenderResult 250
        C: RCPT TO:<b@y.test>
        ! deadline
        E: TransactionFailed 0 SOCKET-TIMEOUT "RCPT TO"
        E: Failed SOCKET-TIMEOUT "RCPT TO"
    )"));

    row("deadline after the end of data: final reply wait", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: SenderResult 250
        E: RecipientResult 0 250
        C: Hi
        C: .
        ! expect wait=FinalReply
        ! deadline
        E: TransactionFailed 0 SOCKET-TIMEOUT "end of data"
        E: Failed SOCKET-TIMEOUT "end of data" msg~"may or may not have been delivered"
    )"));

    row("deadline while the server stops reading the data", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: SenderResult 250
        E: RecipientResult 0 250
        E: BodyWanted 0
        ! expect wait=Send
        ! deadline
        E: TransactionFailed 0 SOCKET-TIMEOUT DATA
        E: Failed SOCKET-TIMEOUT DATA msg~"stopped reading"
    )"));

    row("abort while streaming the body", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: SenderResult 250
        E: RecipientResult 0 250
        E: BodyWanted 0
        ! abort cancelled by the user
        E: TransactionFailed 0 SMTP-CANCELLED
        E: Failed SMTP-CANCELLED msg="cancelled by the user"
        ! body late bytes
        ! endbody
    )"));

    // ------------------------------------------------------------ protocol errors

    // docs/security.md section E: never pair a stray reply with the next command.
    row("unsolicited reply when nothing is pending", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        S: 250 extra
        E: Failed SMTP-PROTOCOL-ERROR Ready cat=protocol msg~"no command was waiting"
        ! start from=a@x.test to=b@y.test ret=-1
        E: TransactionFailed -1 SMTP-STATE-ERROR
    )"));

    // docs/security.md section E: "G || 250 extra" in one segment. When TCP delivers
    // the extra reply after the EHLO was written it cannot be told from the EHLO
    // reply, so only the one-segment delivery is checked.
    row("reply sent with the greeting, before EHLO", QStringLiteral("tls=none whole-chunk-only"), QStringLiteral(R"(
        ! connected
        S: 220 mx.test ESMTP
        S: 250 extra
        E: Greeting 220
        E: Failed SMTP-PROTOCOL-ERROR EHLO rcode=250 msg~"before the command"
    )"));

    // docs/security.md section E / RFC 5321 4.2.
    row("mismatched multi-line reply", QStringLiteral("tls=none"), QStringLiteral(R"(
        ! connected
        S: 220 mx.test
        E: Greeting 220
        C: EHLO localhost
        S: 250-first
        S: 550 second
        E: Failed SMTP-PROTOCOL-ERROR EHLO cat=protocol
        ! expect state=Failed
    )"));

    row("reply without final line, then EOF", QStringLiteral("tls=none"), QStringLiteral(R"(
        ! connected
        S: 220 mx.test
        E: Greeting 220
        C: EHLO localhost
        S: 250-a
        S: 250-b
        ! eof
        E: Failed SOCKET-CLOSED EHLO
    )"));

    // ------------------------------------------------------------ keep-alive (RFC 2920 3.1)

    row("keep-alive: next transaction in the same write as the end of data", QStringLiteral("tls=implicit"),
        opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: SenderResult 250 txn=0
        E: RecipientResult 0 250 txn=0
        E: BodyWanted 0
        ! body first message\r\n
        ! endbody
        ! start from=a@x.test to=c@y.test body="second message\r\n"
        C: first message
        C: .
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<c@y.test>
        C: DATA
        ! expect wait=FinalReply state=Transaction
        S: 250 2.0.0 queued as 1
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: MessageResult accepted 250 txn=0
        E: SenderResult 250 txn=1
        E: RecipientResult 0 250 txn=1
        C: second message
        C: .
        S: 250 2.0.0 queued as 2
        E: MessageResult accepted 250 txn=1
        E: Ready
    )"));

    row("keep-alive with inline bodies: MAIL follows the '.' at once", QStringLiteral("tls=implicit"),
        opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="one\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: SenderResult 250 txn=0
        E: RecipientResult 0 250 txn=0
        ! start from=a@x.test to=b@y.test body="two\r\n"
        C: one
        C: .
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 queued 1
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: MessageResult accepted 250 txn=0
        E: SenderResult 250 txn=1
        E: RecipientResult 0 250 txn=1
        C: two
        C: .
        S: 250 queued 2
        E: MessageResult accepted 250 txn=1
        E: Ready
    )"));

    row("keep-alive: first message rejected, second still sent, no RSET", QStringLiteral("tls=implicit"),
        opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="one\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: SenderResult 250 txn=0
        E: RecipientResult 0 250 txn=0
        ! start from=a@x.test to=b@y.test body="two\r\n"
        C: one
        C: .
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 550 5.7.1 rejected as spam
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: MessageResult rejected 550 txn=0
        E: TransactionFailed 0 SMTP-REPLY-ERROR "end of data"
        E: SenderResult 250 txn=1
        E: RecipientResult 0 250 txn=1
        C: two
        C: .
        S: 250 queued
        E: MessageResult accepted 250 txn=1
        E: Ready
    )"));

    row("BDAT batch: the next message goes at once, behind a RSET", QStringLiteral("tls=implicit"),
        opening({QStringLiteral("PIPELINING"), QStringLiteral("CHUNKING")}) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="one\r\n"
        ! start from=a@x.test to=c@y.test body="two\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: BDAT 5 LAST
        C= one\r\n
        C: RSET
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<c@y.test>
        C: BDAT 5 LAST
        C= two\r\n
        S: 250 ok
        S: 250 ok
        S: 250 queued 1
        S: 250 reset
        S: 250 ok
        S: 250 ok
        S: 250 queued 2
        E: SenderResult 250 txn=0
        E: RecipientResult 0 250 txn=0
        E: MessageResult accepted 250 txn=0
        E: ResetResult 250
        E: SenderResult 250 txn=1
        E: RecipientResult 0 250 txn=1
        E: MessageResult accepted 250 txn=1
        E: Ready
    )"));

    row("BDAT batch: first message's recipients all refused, second still sent", QStringLiteral("tls=implicit"),
        opening({QStringLiteral("PIPELINING"), QStringLiteral("CHUNKING")}) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="one\r\n"
        ! start from=a@x.test to=c@y.test body="two\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: BDAT 5 LAST
        C= one\r\n
        C: RSET
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<c@y.test>
        C: BDAT 5 LAST
        C= two\r\n
        S: 250 ok
        S: 550 5.1.1 no such user
        S: 554 5.5.1 no valid recipients
        S: 250 reset
        S: 250 ok
        S: 250 ok
        S: 250 queued 2
        E: SenderResult 250 txn=0
        E: RecipientResult 0 550 txn=0
        E: TransactionFailed 0 SMTP-REPLY-ERROR "RCPT TO"
        E: ResetResult 250
        E: SenderResult 250 txn=1
        E: RecipientResult 0 250 txn=1
        E: MessageResult accepted 250 txn=1
        E: Ready
    )"));

    row("QUIT refused while a pipelined transaction awaits replies", QStringLiteral("tls=implicit"),
        opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="one\r\n"
        ! quit ret=false
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        ! expect state=Transaction
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: SenderResult 250 txn=0
        E: RecipientResult 0 250 txn=0
        C: one
        C: .
        S: 250 queued
        E: MessageResult accepted 250 txn=0
        E: Ready
        ! quit ret=true
        C: QUIT
    )"));

    row("NOOP, RSET and MAIL wait for a NOOP in flight", QStringLiteral("tls=implicit"),
        opening(pipe) + QStringLiteral(R"(
        ! noop ret=true
        ! noop ret=false
        ! rset ret=false
        ! start from=a@x.test to=b@y.test ret=-1
        E: TransactionFailed -1 SMTP-STATE-ERROR
        C: NOOP
        S: 250 ok
        E: NoopResult 250
        E: Ready
        ! noop ret=true
        C: NOOP
    )"));

    row("keep-alive refused without PIPELINING until the reply", QStringLiteral("tls=implicit"),
        opening({QStringLiteral("8BITMIME")}) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="one\r\n"
        C: MAIL FROM:<a@x.test>
        S: 250 ok
        E: SenderResult 250
        C: RCPT TO:<b@y.test>
        S: 250 ok
        E: RecipientResult 0 250
        C: DATA
        S: 354 go
        C: one
        C: .
        ! start from=a@x.test to=b@y.test body="two\r\n" ret=-1
        E: TransactionFailed -1 SMTP-STATE-ERROR
        S: 250 queued
        E: MessageResult accepted 250 txn=0
        E: Ready
        ! start from=a@x.test to=b@y.test body="two\r\n" ret=1
        C: MAIL FROM:<a@x.test>
    )"));

    // ------------------------------------------------------------ QUIT

    row("QUIT 221 closes", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! quit
        C: QUIT
        ! expect state=Quitting wait=Reply
        S: 221 2.0.0 Bye
        E: QuitResult 221
        ! expect state=Closed wait=None
        ! eof
        ! expect state=Closed
    )"));

    // docs/security.md section E: a missing or odd 221 is no error.
    row("EOF during QUIT closes without error", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! quit
        C: QUIT
        ! eof
        E: QuitResult code=0
        ! expect state=Closed
    )"));

    row("QUIT answered 421 still closes", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! quit
        C: QUIT
        S: 421 4.3.2 bye anyway
        E: QuitResult 421
        ! expect state=Closed
    )"));

    row("QUIT after an accepted message", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        S: 250 ok
        S: 250 ok
        S: 354 go
        E: SenderResult 250
        E: RecipientResult 0 250
        C: Hi
        C: .
        S: 250 queued
        E: MessageResult accepted 250
        E: Ready
        ! quit
        C: QUIT
        S: 500 5.5.1 what
        E: QuitResult 500
        ! expect state=Closed
    )"));

    // ------------------------------------------------------------ extensions

    row("SMTPUTF8 needed but not offered", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=δοκιμή@x.test to=b@y.test utf8 ret=-1
        E: TransactionFailed -1 MESSAGE-ERROR "MAIL FROM" msg~"SMTPUTF8"
        ! expect state=Ready wait=None
    )"));

    row("SIZE limit exceeded: refused before MAIL", QStringLiteral("tls=implicit"),
        opening({QStringLiteral("PIPELINING"), QStringLiteral("SIZE 1000")}) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test size=1001 ret=-1
        E: TransactionFailed -1 MESSAGE-ERROR "MAIL FROM" msg~"at most 1000"
        ! start from=a@x.test to=b@y.test size=1000
        C: MAIL FROM:<a@x.test> SIZE=1000
        C: RCPT TO:<b@y.test>
        C: DATA
    )"));

    row("SIZE, BODY=8BITMIME and SMTPUTF8 parameters when offered", QStringLiteral("tls=implicit"),
        opening({QStringLiteral("PIPELINING"), QStringLiteral("SIZE 10485760"), QStringLiteral("8BITMIME"),
                 QStringLiteral("SMTPUTF8")}) + QStringLiteral(R"(
        ! start from=δοκιμή@x.test to=b@y.test size=2048 8bit utf8
        C: MAIL FROM:<δοκιμή@x.test> SIZE=2048 BODY=8BITMIME SMTPUTF8
        C: RCPT TO:<b@y.test>
        C: DATA
    )"));

    row("SIZE 0 means no limit", QStringLiteral("tls=implicit"),
        opening({QStringLiteral("PIPELINING"), QStringLiteral("SIZE 0")}) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test size=99999999999
        C: MAIL FROM:<a@x.test> SIZE=99999999999
        C: RCPT TO:<b@y.test>
        C: DATA
    )"));

    row("no SIZE= when SIZE is not offered", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test size=2048 8bit
        C: MAIL FROM:<a@x.test> BODY=8BITMIME
        C: RCPT TO:<b@y.test>
        C: DATA
    )"));

    row("8-bit body without 8BITMIME", QStringLiteral("tls=implicit"), opening({QStringLiteral("PIPELINING")}) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test 8bit ret=-1
        E: TransactionFailed -1 MESSAGE-ERROR msg~"8BITMIME"
    )"));

    // ------------------------------------------------------------ NOOP, RSET

    row("NOOP and RSET in Ready", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! noop
        C: NOOP
        ! expect wait=Reply
        S: 250 2.0.0 Ok
        E: NoopResult 250
        E: Ready
        ! rset
        C: RSET
        S: 250 2.0.0 Ok
        E: ResetResult 250 txn=-1
        E: Ready
        ! expect state=Ready wait=None
    )"));

    row("NOOP refused by the server", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! noop
        C: NOOP
        S: 502 5.5.1 no NOOP here
        E: NoopResult 502
        E: Failed SMTP-REPLY-ERROR NOOP
    )"));

    row("NOOP and RSET refused during a transaction", QStringLiteral("tls=implicit"), opening(pipe) + QStringLiteral(R"(
        ! start from=a@x.test to=b@y.test body="Hi\r\n"
        C: MAIL FROM:<a@x.test>
        C: RCPT TO:<b@y.test>
        C: DATA
        ! noop ret=false
        ! rset ret=false
        ! expect state=Transaction
    )"));
}

void tst_SmtpSession::transcript()
{
    QFETCH(QString, config);
    QFETCH(QString, script);

    QString error;
    const Options options = parseOptions(config, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const Script s = parseScript(script, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));

    const auto report = [](const Replay &r, const QStringList &failures) {
        return QStringLiteral("replay with %1:\n  %2").arg(r.name(), failures.join(QStringLiteral("\n  ")));
    };

    const Replay wholeReplay{Replay::Mode::Whole, 0};
    const Outcome whole = run(s, options, wholeReplay);
    QVERIFY2(whole.failures().isEmpty(), qPrintable(report(wholeReplay, whole.failures())));

    // docs/security.md section H: no secret in any event unless showSecrets.
    for (const QString &secret : options.secrets) {
        for (const SessionEvent &e : whole.events) {
            const QString shown = describe(e);
            QVERIFY2(!shown.contains(secret), qPrintable(QStringLiteral("secret \"%1\" in %2").arg(secret, shown)));
        }
    }

    QList<Replay> replays;
    for (qsizetype at = 1; at < s.longestChunk; ++at)
        replays.append(Replay{Replay::Mode::Split, at});
    replays.append(Replay{Replay::Mode::Bytewise, 0});

    for (const Replay &r : std::as_const(replays)) {
        const Outcome o = run(s, options, r);
        if (options.wholeChunkOnly)
            continue; // ran for crashes and sanitizers only; see the row's comment
        if (options.injectionRace && o.transcript != whole.transcript) {
            // Either the injected bytes came with the 220 (at least one of them):
            // the script's Failed must be met, only the byte count in its message
            // may differ...
            if (o.failures().isEmpty() && o.sawEvent(SessionEvent::Type::Failed))
                continue;
            // ...or they came after the 220 was handled: the session must be
            // waiting for the handshake, must not have read them, and must not have
            // written anything after STARTTLS.
            QVERIFY2(o.outputFailures.isEmpty(), qPrintable(report(r, o.outputFailures)));
            QVERIFY2(o.finalState == Session::State::TlsHandshake,
                     qPrintable(QStringLiteral("%1: ended in %2").arg(r.name(), Session::stateName(o.finalState))));
            QVERIFY2(o.sawEvent(SessionEvent::Type::StartTlsNow) && !o.sawEvent(SessionEvent::Type::Failed),
                     qPrintable(QStringLiteral("%1: %2").arg(r.name(), o.transcript.join(u'\n'))));
            continue;
        }
        QVERIFY2(o.failures().isEmpty(), qPrintable(report(r, o.failures())));
        if (o.transcript != whole.transcript) {
            qsizetype i = 0;
            while (i < o.transcript.size() && i < whole.transcript.size() && o.transcript[i] == whole.transcript[i])
                ++i;
            QFAIL(qPrintable(QStringLiteral("%1 differs from the whole-chunk replay at entry %2:\n  whole: %3\n  this:  %4")
                                 .arg(r.name())
                                 .arg(i)
                                 .arg(whole.transcript.value(i, QStringLiteral("(end)")),
                                      o.transcript.value(i, QStringLiteral("(end)")))));
        }
    }
}

// A test that cannot fail is a defect: each row is a wrong script that the
// harness must reject, with the phrase its report must contain.
void tst_SmtpSession::harnessCatchesMistakes_data()
{
    QTest::addColumn<QString>("script");
    QTest::addColumn<QString>("phrase");

    const QString good = opening({QStringLiteral("PIPELINING")});
    QTest::addRow("wrong client bytes") << QString(good).replace(QStringLiteral("C: EHLO localhost"),
                                                                 QStringLiteral("C: HELO localhost"))
                                        << QStringLiteral("the client wrote \"EHLO localhost\\r\\n\"");
    QTest::addRow("missing client line") << QString(good).remove(QStringLiteral("C: EHLO localhost\n"))
                                         << QStringLiteral("expected \"\"");
    QTest::addRow("unlisted event") << QString(good).remove(QStringLiteral("E: Greeting 220\n"))
                                    << QStringLiteral("unlisted event Greeting");
    QTest::addRow("unlisted event at the end") << QString(good).remove(QStringLiteral("E: Ready\n"))
                                               << QStringLiteral("after the last E: line, the unlisted event Ready");
    QTest::addRow("wrong event detail") << QString(good).replace(QStringLiteral("E: Greeting 220"),
                                                                 QStringLiteral("E: Greeting 221"))
                                        << QStringLiteral("unlisted event Greeting");
    QTest::addRow("event expected too early") << QStringLiteral("! connected\nE: Greeting 220\nS: 220 x\n")
                                              << QStringLiteral("no such event");
    QTest::addRow("wrong state") << good + QStringLiteral("! expect state=Transaction\n")
                                 << QStringLiteral("state is \"Ready\"");
    QTest::addRow("wrong start result") << good + QStringLiteral("! start from=a@x.test to=b@y.test ret=-1\n")
                                        << QStringLiteral("startTransaction() returned 0");
}

void tst_SmtpSession::harnessCatchesMistakes()
{
    QFETCH(QString, script);
    QFETCH(QString, phrase);
    QString error;
    const Options options = parseOptions(QStringLiteral("tls=implicit"), &error);
    const Script s = parseScript(script, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    const Outcome o = run(s, options, Replay{Replay::Mode::Whole, 0});
    const QString all = o.failures().join(u'\n');
    QVERIFY2(all.contains(phrase), qPrintable(QStringLiteral("failures were:\n") + all));
}

QTEST_GUILESS_MAIN(tst_SmtpSession)
#include "tst_smtpsession.moc"
