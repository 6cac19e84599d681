#include "replyexplainer.h"

#include <QRegularExpression>
#include <QStringList>

// How it works: three tables written once.
//  - reply codes (RFC 5321 4.2.2 / 4.2.3, with the AUTH codes of RFC 4954 6 and the
//    STARTTLS ones of RFC 3207 4), each with its meaning, a likely cause and what to try;
//  - enhanced status codes X.Y.Z (RFC 3463 2-3: class X, subject Y, detail Z), plus
//    the full codes given a specific meaning by later RFCs (RFC 4954 6, RFC 3207 4,
//    RFC 7372);
//  - the engine's own error codes (core/client/smtperror.h and the codes raised in
//    core), read together with the step at which they happened.
// A cause or next step given for a (code, step) pair beats one for the enhanced
// code, which beats the plain reply code's: the more specific, the more useful.
// Nothing is guessed: a code found in no table yields no text.

namespace {

struct Entry
{
    const char *meaning = nullptr; // what the standard says the code means
    const char *cause = nullptr;   // the usual reason in practice
    const char *next = nullptr;    // what the user can try
    const char *ref = nullptr;     // "RFC 5321 4.2.3"
};

QString str(const char *s)
{
    return s ? QString::fromUtf8(s) : QString();
}

// ---------------------------------------------------------------- reply codes

const Entry *replyEntry(int code)
{
    // RFC 5321 4.2.2 lists the codes by command; 4.2.3 by number. The 2yz/3yz
    // ones are not failures but are explained too (a transcript shows them).
    static const struct { int code; Entry e; } table[] = {
        {211, {"System status, or system help reply", "the server answered a status or HELP request",
               "nothing to fix", "RFC 5321 4.2.3"}},
        {214, {"Help message", "the server answered HELP", "nothing to fix", "RFC 5321 4.2.3"}},
        {220, {"Service ready", "the server greeted the client, or agreed to start TLS (RFC 3207 4)",
               "nothing to fix", "RFC 5321 4.2.3"}},
        {221, {"Service closing transmission channel", "the server ends the session, usually after QUIT",
               "nothing to fix", "RFC 5321 4.2.3"}},
        {235, {"Authentication succeeded", "the credentials were accepted", "nothing to fix",
               "RFC 4954 6"}},
        {250, {"Requested mail action okay, completed", "the command was accepted", "nothing to fix",
               "RFC 5321 4.2.3"}},
        {251, {"User not local; the server will forward", "the server knows where the mailbox moved",
               "nothing to fix; update the address if it is used often", "RFC 5321 4.2.3"}},
        {252, {"Cannot verify the user, but will accept the message and attempt delivery",
               "the server does not confirm addresses (VRFY is often disabled against address harvesting)",
               "nothing to fix", "RFC 5321 4.2.3"}},
        {334, {"Server challenge during AUTH", "the server waits for the next step of the SASL exchange",
               "nothing to fix", "RFC 4954 4"}},
        {354, {"Start mail input; end with <CRLF>.<CRLF>", "the server accepted DATA and waits for the message",
               "nothing to fix", "RFC 5321 4.2.3"}},
        {421, {"Service not available, closing transmission channel",
               "the server is overloaded or shutting down, has too many connections from your address, "
               "or dropped the session after too many errors or a time limit",
               "try again later; if it happens at once, check whether the server rate-limits or blocks your address",
               "RFC 5321 4.2.3"}},
        {432, {"A password transition is needed", "the account must change its password before this mechanism works",
               "log in once with a plain mechanism over TLS (or the provider's web page) to update the password",
               "RFC 4954 4.7.12"}},
        {450, {"Requested mail action not taken: mailbox unavailable (temporarily)",
               "the mailbox is busy, or the server greylists or temporarily blocks the message for policy reasons",
               "try again later: greylisting servers accept the same message after a few minutes",
               "RFC 5321 4.2.3"}},
        {451, {"Requested action aborted: local error in processing",
               "a temporary fault on the server (storage, DNS or a content filter not answering)",
               "try again later; if it persists, the server's log says why", "RFC 5321 4.2.3"}},
        {452, {"Requested action not taken: insufficient system storage",
               "the server is short of disk space, or (at RCPT TO) the message has too many recipients "
               "(RFC 5321 4.5.3.1.10)",
               "try again later, or send to fewer recipients per message", "RFC 5321 4.2.3"}},
        {454, {"Temporary failure: TLS not available (RFC 3207 4) or temporary authentication failure (RFC 4954 6)",
               "the server's TLS or authentication back end is not working right now",
               "try again later; if it persists the server's TLS keys or password database are misconfigured",
               "RFC 3207 4, RFC 4954 6"}},
        {455, {"Server unable to accommodate parameters", "a MAIL FROM or RCPT TO parameter cannot be honoured now",
               "try again later, or without the extension parameter", "RFC 5321 4.2.3"}},
        {500, {"Syntax error, command unrecognized (also: command line too long)",
               "the server does not know the command (an extension it did not offer in EHLO), or the line was too long",
               "use only the extensions listed in the EHLO reply", "RFC 5321 4.2.3"}},
        {501, {"Syntax error in parameters or arguments",
               "an address or parameter is malformed (missing <>, bad characters, an AUTH answer that is not base64)",
               "check the addresses and the EHLO name for typos and forbidden characters", "RFC 5321 4.2.3"}},
        {502, {"Command not implemented", "the server does not support this command",
               "use only the commands and extensions offered in the EHLO reply", "RFC 5321 4.2.3"}},
        {503, {"Bad sequence of commands",
               "a command came out of order: MAIL before EHLO, RCPT before MAIL, DATA without an accepted "
               "recipient, AUTH twice, or MAIL before the authentication the server requires",
               "authenticate first if the server asks for it, and check that at least one recipient was accepted",
               "RFC 5321 4.2.3"}},
        {504, {"Command parameter not implemented", "the server does not support this parameter or AUTH mechanism",
               "choose a mechanism or parameter the server lists in its EHLO reply", "RFC 5321 4.2.3, RFC 4954 6"}},
        {530, {"Authentication required, or STARTTLS must come first",
               "the server only takes this command from an authenticated client (RFC 4954 6), or only after "
               "STARTTLS (RFC 3207 4: \"530 Must issue a STARTTLS command first\")",
               "turn on STARTTLS (or implicit TLS) and give a user name and password", "RFC 4954 6, RFC 3207 4"}},
        {534, {"Authentication mechanism is too weak", "the server refuses this SASL mechanism for this account",
               "choose a stronger mechanism (SCRAM-SHA-256, or PLAIN/LOGIN over TLS)", "RFC 4954 6"}},
        {535, {"Authentication credentials invalid",
               "wrong user name or password, or the provider wants an app password or OAuth token",
               "check the user name and password; for accounts with two-factor login, create an app password",
               "RFC 4954 6"}},
        {538, {"Encryption required for requested authentication mechanism",
               "the mechanism may only be used inside TLS",
               "turn on STARTTLS or implicit TLS before authenticating", "RFC 4954 6"}},
        {550, {"Requested action not taken: mailbox unavailable",
               "the mailbox does not exist, access is refused, or the server refuses the command for policy reasons",
               "check the address; if the server names a policy (spam, relaying, SPF), fix that", "RFC 5321 4.2.3"}},
        {551, {"User not local", "the mailbox is not on this server; the reply may name the new address",
               "send to the address the server gives, if any", "RFC 5321 4.2.3"}},
        {552, {"Requested mail action aborted: exceeded storage allocation",
               "the message is larger than the server accepts, or the recipient's mailbox is full",
               "compare the message size with the SIZE limit in the EHLO reply; send smaller attachments "
               "or a link instead", "RFC 5321 4.2.3"}},
        {553, {"Requested action not taken: mailbox name not allowed",
               "the address syntax is refused, or the account may not send with this From address",
               "check the address syntax, and send from an address that belongs to the account you log in with",
               "RFC 5321 4.2.3"}},
        {554, {"Transaction failed (as a greeting: no SMTP service here)",
               "the message was refused by a spam, virus or policy filter, or (as a greeting) the server "
               "refuses connections from your address",
               "read the server's text for the reason; check blocklists for your IP address, and SPF, DKIM "
               "and DMARC for your domain", "RFC 5321 4.2.3"}},
        {555, {"MAIL FROM/RCPT TO parameters not recognized or not implemented",
               "the client used an extension parameter (SIZE, BODY, SMTPUTF8, ...) the server does not support",
               "send without that extension, or to a server that offers it", "RFC 5321 4.2.3"}},
    };
    for (const auto &row : table) {
        if (row.code == code)
            return &row.e;
    }
    return nullptr;
}

// Where a code means something more precise at one step.
enum class StepKind { Other, Greeting, Ehlo, StartTls, Auth, Mail, Rcpt, Data, EndOfData };

StepKind stepKind(const QString &step)
{
    const QString s = step.trimmed().toLower();
    if (s.startsWith(u"greeting") || s == u"connect")
        return StepKind::Greeting;
    if (s.startsWith(u"ehlo") || s.startsWith(u"helo"))
        return StepKind::Ehlo;
    if (s.startsWith(u"starttls"))
        return StepKind::StartTls;
    if (s.startsWith(u"auth"))
        return StepKind::Auth;
    if (s.startsWith(u"mail"))
        return StepKind::Mail;
    if (s.startsWith(u"rcpt"))
        return StepKind::Rcpt;
    if (s.startsWith(u"end of data") || s == u"." || s.startsWith(u"bdat last"))
        return StepKind::EndOfData;
    if (s.startsWith(u"data") || s.startsWith(u"bdat"))
        return StepKind::Data;
    return StepKind::Other;
}

const Entry *stepEntry(int code, StepKind step)
{
    static const struct { int code; StepKind step; Entry e; } table[] = {
        // RFC 5321 3.3: a 550 to RCPT is about that recipient only.
        {550, StepKind::Rcpt, {nullptr,
            "the recipient's mailbox does not exist, or the server will not relay to that domain for you",
            "check the recipient address for typos; to send to other domains, authenticate on the "
            "submission port (587 or 465)", nullptr}},
        {550, StepKind::Mail, {nullptr,
            "the server refuses this sender address (not yours, not allowed for this account, or blocked by policy)",
            "send from an address that belongs to the account, and check SPF for its domain", nullptr}},
        {550, StepKind::EndOfData, {nullptr,
            "the message content was refused by a spam, virus or policy filter",
            "read the server's text; check SPF, DKIM and DMARC for the sender's domain", nullptr}},
        {554, StepKind::Greeting, {nullptr,
            "the server refuses connections from your address (a blocklist or a policy)",
            "check whether your IP address is on a blocklist, or send through your provider's submission server",
            nullptr}},
        {554, StepKind::Rcpt, {nullptr,
            "the recipient is refused by policy (relaying denied or the address is blocked)",
            "authenticate to relay, or check the recipient address", nullptr}},
        {421, StepKind::Greeting, {nullptr,
            "the server does not take connections now (too many connections, rate limit or maintenance)",
            "try again later and open fewer connections at once", nullptr}},
        {552, StepKind::Rcpt, {nullptr,
            "the recipient's mailbox is full (RFC 5321 4.5.3.1.10 also allows 552 for too many recipients)",
            "ask the recipient to make space, or try later", nullptr}},
        {503, StepKind::Data, {nullptr,
            "DATA was sent although no recipient was accepted",
            "fix the refused recipients first (see the RCPT TO replies)", nullptr}},
        {502, StepKind::StartTls, {nullptr,
            "the server does not support STARTTLS on this port",
            "use implicit TLS (smtps, port 465) or a server that supports STARTTLS", nullptr}},
        {504, StepKind::Auth, {nullptr,
            "the server does not know this AUTH mechanism (RFC 4954 6)",
            "choose a mechanism listed after AUTH in the EHLO reply", nullptr}},
    };
    for (const auto &row : table) {
        if (row.code == code && row.step == step)
            return &row.e;
    }
    return nullptr;
}

// ---------------------------------------------------------------- enhanced codes

struct Enhanced
{
    int cls = 0, subject = -1, detail = -1;
    [[nodiscard]] bool valid() const { return cls != 0; }
};

Enhanced parseEnhanced(const QString &text)
{
    // RFC 3463 2: class "." subject "." detail; class 2, 4 or 5; subject and
    // detail 1 to 3 digits.
    static const QRegularExpression re(QStringLiteral("^([245])\\.(\\d{1,3})\\.(\\d{1,3})$"));
    const QRegularExpressionMatch m = re.match(text.trimmed());
    Enhanced e;
    if (!m.hasMatch())
        return e;
    e.cls = m.captured(1).toInt();
    e.subject = m.captured(2).toInt();
    e.detail = m.captured(3).toInt();
    return e;
}

const char *className(int cls)
{
    switch (cls) {
    case 2: return "success";
    case 4: return "persistent transient failure, may succeed later";
    case 5: return "permanent failure, will not succeed as sent";
    }
    return nullptr;
}

const char *subjectName(int subject)
{
    // RFC 3463 3.1 .. 3.8
    switch (subject) {
    case 0: return "other or undefined status";
    case 1: return "addressing status";
    case 2: return "mailbox status";
    case 3: return "mail system status";
    case 4: return "network and routing status";
    case 5: return "mail delivery protocol status";
    case 6: return "message content or media status";
    case 7: return "security or policy status";
    }
    return nullptr;
}

// Codes whose meaning depends on the class, from RFCs after 3463.
const Entry *specificEnhanced(const Enhanced &e)
{
    static const struct { int cls, subject, detail; Entry entry; } table[] = {
        {4, 7, 0, {"Temporary authentication failure", "the server's authentication back end is not available",
                   "try again later", "RFC 4954 6"}},
        {5, 7, 0, {"Authentication required, or STARTTLS must come first",
                   "the server wants STARTTLS before this command (RFC 3207 4: \"530 5.7.0 Must issue a STARTTLS "
                   "command first\") or an authenticated client (RFC 4954 6)",
                   "turn on STARTTLS (or implicit TLS) and authenticate", "RFC 3207 4, RFC 4954 6"}},
        {5, 7, 8, {"Authentication credentials invalid",
                   "wrong user name or password, or the provider requires an app password or OAuth token",
                   "check the user name and password; with two-factor login create an app password", "RFC 4954 6"}},
        {5, 7, 9, {"Authentication mechanism is too weak", "the server refuses this mechanism for this account",
                   "use a stronger mechanism (SCRAM-SHA-256, or PLAIN over TLS)", "RFC 4954 6"}},
        {5, 7, 11, {"Encryption required for requested authentication mechanism",
                    "the mechanism may only be used after TLS is up",
                    "turn on STARTTLS or implicit TLS before authenticating", "RFC 4954 6"}},
        {4, 7, 12, {"A password transition is needed", "the account must change its password first",
                    "update the password with the provider, then retry", "RFC 4954 6"}},
        {5, 5, 6, {"Authentication exchange line is too long", "a SASL response exceeded the server's line limit",
                   "use a mechanism with shorter responses, or a shorter token", "RFC 4954 6"}},
        {5, 7, 13, {"User account disabled", "the account was disabled by the provider",
                    "contact the mail provider", "RFC 7372 4"}},
        {5, 7, 14, {"Trust relationship required", "the server only accepts mail from partners it trusts",
                    "send through a server the recipient's domain trusts", "RFC 7372 4"}},
        {5, 7, 23, {"SPF validation failed", "the sending IP address is not allowed by the sender domain's SPF record",
                    "send through a server listed in the domain's SPF record, or fix the record", "RFC 7372 3.2"}},
        {5, 7, 25, {"Reverse DNS validation failed", "the sending IP address has no matching reverse DNS name",
                    "send through your provider's submission server", "RFC 7372 3.3"}},
        {5, 7, 26, {"Multiple authentication checks failed", "SPF, DKIM and DMARC checks of the sender all failed",
                    "fix SPF, DKIM and DMARC for the sender's domain", "RFC 7372 3.4"}},
    };
    for (const auto &row : table) {
        if (row.cls == e.cls && row.subject == e.subject && row.detail == e.detail)
            return &row.entry;
    }
    return nullptr;
}

// RFC 3463 3.x: details, the same for every class.
const Entry *detailEntry(int subject, int detail)
{
    static const struct { int subject, detail; Entry e; } table[] = {
        {0, 0, {"Other undefined status", nullptr, nullptr, "RFC 3463 3.1"}},
        {1, 0, {"Other address status", nullptr, nullptr, "RFC 3463 3.2"}},
        {1, 1, {"Bad destination mailbox address", "the mailbox does not exist on that server (often a typo)",
                "check the spelling of the recipient's address", "RFC 3463 3.2"}},
        {1, 2, {"Bad destination system address", "the recipient's domain does not exist or does not take mail",
                "check the domain part of the address", "RFC 3463 3.2"}},
        {1, 3, {"Bad destination mailbox address syntax", "the recipient address is malformed",
                "check the address for stray characters and the <> around it", "RFC 3463 3.2"}},
        {1, 4, {"Destination mailbox address ambiguous", "the address matches several mailboxes",
                "use the full address", "RFC 3463 3.2"}},
        {1, 5, {"Destination address valid", nullptr, nullptr, "RFC 3463 3.2"}},
        {1, 6, {"Destination mailbox has moved, no forwarding address", "the recipient left that address",
                "find the recipient's new address", "RFC 3463 3.2"}},
        {1, 7, {"Bad sender's mailbox address syntax", "the sender address is malformed",
                "check the From/envelope sender address", "RFC 3463 3.2"}},
        {1, 8, {"Bad sender's system address", "the sender's domain does not exist or cannot receive replies",
                "use a sender address whose domain exists and has MX or A records", "RFC 3463 3.2"}},
        {2, 0, {"Other or undefined mailbox status", nullptr, nullptr, "RFC 3463 3.3"}},
        {2, 1, {"Mailbox disabled, not accepting messages", "the recipient's mailbox was disabled",
                "contact the recipient another way", "RFC 3463 3.3"}},
        {2, 2, {"Mailbox full", "the recipient's mailbox is over its quota",
                "try later, or ask the recipient to make space", "RFC 3463 3.3"}},
        {2, 3, {"Message length exceeds administrative limit", "the message is bigger than the mailbox accepts",
                "send smaller attachments or a link", "RFC 3463 3.3"}},
        {2, 4, {"Mailing list expansion problem", "the list's addresses could not be expanded",
                "tell the list owner", "RFC 3463 3.3"}},
        {3, 0, {"Other or undefined mail system status", nullptr, nullptr, "RFC 3463 3.4"}},
        {3, 1, {"Mail system full", "the server is out of storage", "try again later", "RFC 3463 3.4"}},
        {3, 2, {"System not accepting network messages", "the server is shutting down or in maintenance",
                "try again later", "RFC 3463 3.4"}},
        {3, 3, {"System not capable of selected features", "the message needs a feature the server lacks",
                "send without the extension (e.g. 8BITMIME, SMTPUTF8)", "RFC 3463 3.4"}},
        {3, 4, {"Message too big for system", "the message exceeds the server's size limit",
                "check SIZE in the EHLO reply; send smaller attachments or a link", "RFC 3463 3.4"}},
        {3, 5, {"System incorrectly configured", "the server is misconfigured", "tell the server's administrator",
                "RFC 3463 3.4"}},
        {4, 0, {"Other or undefined network or routing status", nullptr, nullptr, "RFC 3463 3.5"}},
        {4, 1, {"No answer from host", "the next mail server did not answer", "try again later", "RFC 3463 3.5"}},
        {4, 2, {"Bad connection", "the connection to the next server broke", "try again later", "RFC 3463 3.5"}},
        {4, 3, {"Directory server failure", "a DNS or directory lookup failed on the server", "try again later",
                "RFC 3463 3.5"}},
        {4, 4, {"Unable to route", "no route to the recipient's domain (no MX or A record)",
                "check the recipient's domain", "RFC 3463 3.5"}},
        {4, 5, {"Mail system congestion", "the server is overloaded", "try again later", "RFC 3463 3.5"}},
        {4, 6, {"Routing loop detected", "the message loops between servers", "tell the postmaster of the domain",
                "RFC 3463 3.5"}},
        {4, 7, {"Delivery time expired", "the message could not be delivered in time", "try again later",
                "RFC 3463 3.5"}},
        {5, 0, {"Other or undefined protocol status", nullptr, nullptr, "RFC 3463 3.6"}},
        {5, 1, {"Invalid command", "the command is not allowed or not known here", "use the commands the server offers",
                "RFC 3463 3.6"}},
        {5, 2, {"Syntax error", "the command or its arguments are malformed", "check addresses and parameters",
                "RFC 3463 3.6"}},
        {5, 3, {"Too many recipients", "the message has more recipients than the server allows",
                "send to fewer recipients per message", "RFC 3463 3.6"}},
        {5, 4, {"Invalid command arguments", "a parameter value is not valid", "check the parameters",
                "RFC 3463 3.6"}},
        {5, 5, {"Wrong protocol version", "the server does not support the protocol level asked for",
                "try HELO instead of EHLO", "RFC 3463 3.6"}},
        {6, 0, {"Other or undefined media error", nullptr, nullptr, "RFC 3463 3.7"}},
        {6, 1, {"Media not supported", "the server does not accept this content type", "send a plainer message",
                "RFC 3463 3.7"}},
        {6, 2, {"Conversion required and prohibited", "the content would need converting, which is forbidden",
                "send the content in a form the server accepts (e.g. 7-bit)", "RFC 3463 3.7"}},
        {6, 3, {"Conversion required but not supported", "the server cannot convert the content",
                "send the content in a form the server accepts", "RFC 3463 3.7"}},
        {6, 4, {"Conversion with loss performed", nullptr, nullptr, "RFC 3463 3.7"}},
        {6, 5, {"Conversion failed", "the content could not be converted", "send the content unconverted",
                "RFC 3463 3.7"}},
        {7, 0, {"Other or undefined security status", "the server refused for a security or policy reason",
                "read the server's text for the policy", "RFC 3463 3.8"}},
        {7, 1, {"Delivery not authorized, message refused",
                "the server refuses to take or relay this message for you (relaying denied, sender not allowed, "
                "or blocked by policy)",
                "authenticate to relay, or send from an address the account may use", "RFC 3463 3.8"}},
        {7, 2, {"Mailing list expansion prohibited", "the sender may not post to this list", "ask the list owner",
                "RFC 3463 3.8"}},
        {7, 3, {"Security conversion required but not possible", nullptr, nullptr, "RFC 3463 3.8"}},
        {7, 4, {"Security features not supported", nullptr, nullptr, "RFC 3463 3.8"}},
        {7, 5, {"Cryptographic failure", nullptr, nullptr, "RFC 3463 3.8"}},
        {7, 6, {"Cryptographic algorithm not supported", nullptr, nullptr, "RFC 3463 3.8"}},
        {7, 7, {"Message integrity failure", nullptr, nullptr, "RFC 3463 3.8"}},
    };
    for (const auto &row : table) {
        if (row.subject == subject && row.detail == detail)
            return &row.e;
    }
    return nullptr;
}

QString sentence(QString s)
{
    if (s.isEmpty())
        return s;
    s[0] = s.at(0).toUpper();
    if (!s.endsWith(u'.'))
        s += u'.';
    return s;
}

// ---------------------------------------------------------------- engine codes

int portOf(const QString &target)
{
    // "host:port" or "[v6]:port" (SendResult::target)
    const qsizetype colon = target.lastIndexOf(u':');
    if (colon < 0 || (target.contains(u']') && colon < target.lastIndexOf(u']')))
        return 0;
    bool ok = false;
    const int port = target.mid(colon + 1).toInt(&ok);
    return ok ? port : 0;
}

struct EngineText
{
    QString meaning;
    QString next;
};

EngineText engineEntry(const SmtpError &error)
{
    const QString &code = error.code;
    const StepKind step = stepKind(error.step);
    const bool atHandshake = error.step.contains(QStringLiteral("TLS handshake"), Qt::CaseInsensitive);
    const QString msg = error.message;
    auto has = [&msg](const char *needle) { return msg.contains(QString::fromUtf8(needle), Qt::CaseInsensitive); };

    if (code == u"SOCKET-TIMEOUT") {
        if (atHandshake)
            return {QStringLiteral("the TLS handshake did not finish in time"),
                    QStringLiteral("check that the security mode matches the port: implicit TLS on 465, STARTTLS "
                                   "on 587 and 25 (RFC 8314 3.3)")};
        if (step == StepKind::Greeting && error.step.compare(u"connect", Qt::CaseInsensitive) != 0)
            return {QStringLiteral("the connection was made but the server sent no greeting in time "
                                   "(RFC 5321 3.1: the server speaks first)"),
                    QStringLiteral("check that this is an SMTP port and that the TLS mode matches it: a server "
                                   "expecting implicit TLS (port 465) stays silent on a plain connection")};
        if (error.step.compare(u"connect", Qt::CaseInsensitive) == 0)
            return {QStringLiteral("no TCP connection (or no name lookup) could be completed in time"),
                    QStringLiteral("check the host name and port; a firewall that drops packets makes connections "
                                   "time out instead of failing at once")};
        if (step == StepKind::EndOfData)
            return {QStringLiteral("no reply to the end of the message in time: it may or may not have been "
                                   "delivered (RFC 5321 4.5.3.2.6 allows the server 10 minutes here)"),
                    QStringLiteral("check the recipient's mailbox before sending again, and raise the data timeout "
                                   "for slow servers")};
        return {QStringLiteral("the server did not answer in time"),
                QStringLiteral("try again; raise the timeout for slow servers")};
    }
    if (code == u"SOCKET-CLOSED") {
        if (atHandshake)
            return {QStringLiteral("the server closed the connection during the TLS handshake"),
                    QStringLiteral("check that the security mode matches the port (implicit TLS on 465, STARTTLS on "
                                   "587 and 25); the server may also refuse every TLS version we offer")};
        if (step == StepKind::Greeting)
            return {QStringLiteral("the server closed the connection before or instead of its greeting"),
                    QStringLiteral("check that this is an SMTP port, that your address is not blocked, and that the "
                                   "TLS mode matches the port")};
        if (step == StepKind::EndOfData)
            return {QStringLiteral("the connection closed after the message was sent, before the server replied: "
                                   "it may or may not have been delivered (RFC 5321 3.8)"),
                    QStringLiteral("check the recipient's mailbox before sending again")};
        return {QStringLiteral("the connection was closed by the server or lost on the way"),
                QStringLiteral("try again; if it always happens at the same step, the server's log says why")};
    }
    if (code == u"SOCKET-CONNECT-ERROR")
        return {QStringLiteral("no TCP connection could be made (connection refused, host unreachable, or the name "
                               "did not resolve)"),
                QStringLiteral("check the host name and the port: SMTP listens on 25 (relay), 587 (submission with "
                               "STARTTLS) and 465 (submission with implicit TLS); check firewalls and VPNs")};
    if (code == u"SSL-HANDSHAKE-ERROR") {
        if (has("plaintext") || has("not TLS"))
            return {QStringLiteral("the server answered the TLS handshake with plain text: the port does not speak "
                                   "TLS at that moment"),
                    QStringLiteral("use STARTTLS on ports 587 and 25, implicit TLS only on 465 (RFC 8314 3.3)")};
        if (has("already active") || error.category == SmtpError::Category::Usage)
            return {QStringLiteral("TLS was asked for on a connection where it cannot start"),
                    QStringLiteral("this is a programming error in the caller: start TLS once, after connecting")};
        if (has("received between"))
            return {QStringLiteral("the server sent data between its STARTTLS reply and the TLS handshake; such "
                                   "data is not protected and can be injected by an attacker (RFC 3207 5)"),
                    QStringLiteral("do not trust this path; report it to the server's administrator")};
        return {QStringLiteral("the TLS handshake failed: the client and the server agree on no TLS version or cipher"),
                QStringLiteral("check that the server offers TLS 1.2 or newer, and that the TLS mode matches the port")};
    }
    if (code == u"SSL-VERIFY-ERROR") {
        if (has("self-signed"))
            return {QStringLiteral("the server's certificate is self-signed: nobody vouches for it, so it cannot be "
                                   "told apart from an attacker's"),
                    QStringLiteral("give that exact certificate (or the CA that signed it) as the CA file; use "
                                   "insecure mode only for a test server you control")};
        if (has("is for") || has("HostNameMismatch"))
            return {QStringLiteral("the certificate is valid but for another host name (RFC 6125 6)"),
                    QStringLiteral("connect with a name the certificate lists (see the chain), not an IP address "
                                   "or an alias")};
        if (has("expired") || has("not valid before"))
            return {QStringLiteral("the certificate is outside its validity period"),
                    QStringLiteral("check the computer's clock; otherwise the server's certificate must be renewed")};
        if (has("not a trusted authority") || has("intermediate"))
            return {QStringLiteral("the certificate was issued by an authority this system does not trust, or the "
                                   "server did not send the intermediate certificates"),
                    QStringLiteral("give the issuing CA as the CA file, or fix the server to send its full chain")};
        return {QStringLiteral("the server's certificate could not be verified"),
                QStringLiteral("read the reasons in the TLS summary; give the right CA file, or use insecure mode "
                               "only for a server you control")};
    }
    if (code == u"SSL-CA-FILE-ERROR")
        return {QStringLiteral("the CA file given could not be read as PEM certificates"),
                QStringLiteral("check the path and that the file holds -----BEGIN CERTIFICATE----- blocks")};
    if (code == u"SMTP-TLS-ERROR") {
        if (has("does not offer STARTTLS"))
            return {QStringLiteral("TLS is required but the server does not offer STARTTLS (RFC 3207 4); nothing "
                                   "was sent in the clear"),
                    QStringLiteral("use the submission port 587, or implicit TLS on 465; an attacker on the path can "
                                   "also strip STARTTLS from the reply")};
        if (has("after its 220"))
            return {QStringLiteral("the server sent extra data after agreeing to STARTTLS, before the handshake: a "
                                   "sign of response injection (RFC 3207 5, CVE-2021-22947)"),
                    QStringLiteral("do not trust this path; the session was stopped on purpose")};
        return {QStringLiteral("STARTTLS failed or was refused (RFC 3207 4)"),
                QStringLiteral("try implicit TLS on port 465, or try again later if the reply was temporary (454)")};
    }
    if (code == u"SMTP-AUTH-ERROR") {
        if (has("before TLS"))
            return {QStringLiteral("the server does not offer AUTH on an unencrypted connection: many servers list "
                                   "AUTH only after STARTTLS (RFC 4954 4 lets them refuse plaintext mechanisms)"),
                    QStringLiteral("turn on STARTTLS (esmtptls://, port 587) or implicit TLS (smtps://, port 465)")};
        if (has("does not offer authentication"))
            return {QStringLiteral("credentials were given but the server offers no AUTH in its EHLO reply"),
                    QStringLiteral("use the submission port (587 or 465); port 25 usually takes mail without login")};
        if (has("unencrypted connection"))
            return {QStringLiteral("the password would have gone over an unencrypted connection, so it was not sent"),
                    QStringLiteral("turn on STARTTLS or implicit TLS, or explicitly allow plaintext authentication "
                                   "for a test server")};
        if (has("does not offer") || has("no offered mechanism"))
            return {QStringLiteral("no AUTH mechanism that the server offers can be used with these credentials"),
                    QStringLiteral("choose one of the mechanisms listed after AUTH in the EHLO reply")};
        return {QStringLiteral("authentication failed (RFC 4954)"),
                QStringLiteral("check the user name and password (or token) and the mechanism")};
    }
    if (code == u"SMTP-REPLY-ERROR")
        return {QStringLiteral("the server refused a command"),
                QStringLiteral("read the server's reply and the explanation of its code")};
    if (code == u"SMTP-PROTOCOL-ERROR")
        return {QStringLiteral("the server sent something that is not valid SMTP (RFC 5321 4.2), or sent it at the "
                               "wrong time"),
                QStringLiteral("check that this is an SMTP server; a proxy or a filter on the path may interfere")};
    if (code == u"SMTP-STATE-ERROR")
        return {QStringLiteral("the session was not in a state that allows this step"),
                QStringLiteral("see the earlier error: a previous step failed")};
    if (code == u"SMTP-CANCELLED")
        return {QStringLiteral("the send was cancelled before it finished"),
                QStringLiteral("if it was cancelled after the end of data, check whether the message was delivered "
                               "before sending it again")};
    if (code == u"MESSAGE-ERROR")
        return {QStringLiteral("the message cannot be sent as it is (a sender or recipient is missing, or a field "
                               "holds characters that are not allowed)"),
                QStringLiteral("fix the message as the error says; nothing was sent")};
    if (code == u"PARSE-URL-ERROR")
        return {QStringLiteral("the server URL could not be understood"),
                QStringLiteral("write it as smtp://host:port, esmtptls://host:587 or smtps://host:465")};
    if (code == u"SETTINGS-ERROR")
        return {QStringLiteral("a connection setting has a value that cannot work (the message names the field)"),
                QStringLiteral("correct that field in the connection settings; nothing was sent")};
    if (code == u"SMTPCLIENT-UNKNOWN-PROTOCOL")
        return {QStringLiteral("the URL's scheme is not an SMTP scheme this client knows"),
                QStringLiteral("use smtp://, smtps://, esmtp:// or esmtptls://")};
    if (code == u"SMTPCLIENT-INVALID-EHLO")
        return {QStringLiteral("the EHLO name is not a valid domain or address literal (RFC 5321 4.1.1.1)"),
                QStringLiteral("use the computer's fully qualified name, or an address literal such as [192.0.2.1]")};
    if (code == u"SMTPCLIENT-INVALID-AUTHENTICATION")
        return {QStringLiteral("the credentials in the URL or settings are incomplete or malformed"),
                QStringLiteral("give both a user name and a password, percent-encoding special characters in URLs")};
    if (code == u"QUEUE-ERROR")
        return {QStringLiteral("the event or warning queue given has a maximum size, and events must never be dropped"),
                QStringLiteral("use an unbounded queue")};
    if (code == u"SOCKET-SETWARNINGQUEUE-ERROR")
        return {QStringLiteral("warnings were asked for without any threshold"),
                QStringLiteral("give a time threshold, a throughput threshold, or both")};
    if (code == u"SOCKET-OPERATION-WARNING")
        return {QStringLiteral("a network operation took longer than the warning threshold"),
                QStringLiteral("the network or the server is slow; raise the threshold if this is expected")};
    if (code == u"SOCKET-THROUGHPUT-WARNING")
        return {QStringLiteral("a transfer ran slower than the throughput threshold"),
                QStringLiteral("the network or the server is slow; raise the threshold if this is expected")};
    return {};
}

QString mixUp(const SmtpError &error, int port, const QString &mode)
{
    const bool atHandshake = error.step.contains(QStringLiteral("TLS handshake"), Qt::CaseInsensitive);
    const bool atGreeting = error.step.compare(u"greeting", Qt::CaseInsensitive) == 0;
    const bool implicitMode = mode == u"implicit-tls";
    const bool knownMode = !mode.isEmpty();

    // RFC 8314 3.3: port 465 is implicit TLS: the server waits for a ClientHello
    // and says nothing in plain text, so a plain or STARTTLS client times out
    // waiting for the greeting.
    if (error.code == u"SOCKET-TIMEOUT" && atGreeting) {
        if (port == 465 && !implicitMode)
            return QStringLiteral("Mix-up: port 465 expects implicit TLS (RFC 8314 3.3): the server waits for a TLS "
                                  "handshake and never greets a plain connection. Use implicit TLS (smtps://).");
        if (port == 0 && !implicitMode)
            return QStringLiteral("If the port is 465, it expects implicit TLS (RFC 8314 3.3): use smtps://.");
    }
    // RFC 3207 / RFC 6409: 587 and 25 greet in plain text and upgrade with
    // STARTTLS; a TLS handshake straight away fails.
    const bool handshakeFailure = error.code == u"SSL-HANDSHAKE-ERROR"
        || (atHandshake && (error.code == u"SOCKET-CLOSED" || error.code == u"SOCKET-TIMEOUT"));
    if (handshakeFailure && !error.message.contains(QStringLiteral("STARTTLS"), Qt::CaseSensitive)) {
        if ((port == 587 || port == 25) && (implicitMode || !knownMode))
            return QStringLiteral("Mix-up: port %1 speaks plain SMTP first and expects STARTTLS (RFC 3207; RFC 6409 "
                                  "for 587), not implicit TLS. Use STARTTLS (esmtptls://).")
                .arg(port);
        if (port == 0 && implicitMode)
            return QStringLiteral("If the port is 587 or 25, it expects STARTTLS (RFC 3207), not implicit TLS: use "
                                  "esmtptls://.");
    }
    if (error.code == u"SSL-VERIFY-ERROR" && error.message.contains(QStringLiteral("self-signed")))
        return QStringLiteral("Self-signed certificate: common on test and internal servers. Trusting it by giving the "
                              "certificate as the CA file keeps the connection verified.");
    // RFC 3207 4.2 / RFC 4954 4: AUTH often appears only in the EHLO reply after
    // STARTTLS; 530 5.7.0 "Must issue a STARTTLS command first" says the same.
    const bool authBeforeTls = (error.code == u"SMTP-AUTH-ERROR" && error.message.contains(QStringLiteral("before TLS")))
        || (error.replyCode == 530 && mode == u"plain");
    if (authBeforeTls)
        return QStringLiteral("Mix-up: AUTH is not offered before STARTTLS on this server. Turn on STARTTLS "
                              "(port 587) or implicit TLS (port 465).");
    return {};
}

} // namespace

namespace ReplyExplainer {

QString explain(int code, const QString &enhanced, const QString &step)
{
    const Entry *reply = replyEntry(code);
    const Enhanced e = parseEnhanced(enhanced);
    const Entry *specific = e.valid() ? specificEnhanced(e) : nullptr;
    const Entry *detail = e.valid() ? detailEntry(e.subject, e.detail) : nullptr;
    const char *subject = e.valid() ? subjectName(e.subject) : nullptr;
    const bool enhancedKnown = specific || detail || subject;
    if (!reply && !enhancedKnown)
        return {};
    const Entry *atStep = reply ? stepEntry(code, stepKind(step)) : nullptr;

    QString head;
    if (reply)
        head = QString::number(code);
    if (enhancedKnown)
        head += (head.isEmpty() ? QString() : QStringLiteral(" ")) + enhanced.trimmed();
    if (!step.isEmpty())
        head += QStringLiteral(" at ") + step;

    QStringList parts;
    if (reply)
        parts << QStringLiteral("%1 (%2).").arg(str(reply->meaning), str(reply->ref));
    if (specific && reply && qstrcmp(specific->meaning, reply->meaning) == 0) {
        parts << QStringLiteral("%1 says the same (%2).").arg(enhanced.trimmed(), str(specific->ref));
    } else if (specific) {
        parts << QStringLiteral("%1: %2 (%3).").arg(enhanced.trimmed(), str(specific->meaning), str(specific->ref));
    } else if (detail) {
        parts << QStringLiteral("%1: %2; %3 (%4).")
                     .arg(enhanced.trimmed(), str(detail->meaning), str(className(e.cls)), str(detail->ref));
    } else if (subject) {
        // RFC 3463 2: an unknown detail still tells its class and subject.
        parts << QStringLiteral("%1: %2, %3 (RFC 3463 2; detail %4 is not in the tables known here).")
                     .arg(enhanced.trimmed(), str(subject), str(className(e.cls)))
                     .arg(e.detail);
    }
    if (reply && enhancedKnown && code / 100 != e.cls)
        parts << QStringLiteral("Note: the enhanced code's class (%1) differs from the reply code's (%2); RFC 3463 2 "
                                "says they must agree, so trust the reply code.")
                     .arg(e.cls)
                     .arg(code / 100);

    auto pick = [&](const char *Entry::*field) -> QString {
        for (const Entry *candidate : {atStep, specific, detail, reply}) {
            if (candidate && candidate->*field)
                return str(candidate->*field);
        }
        return {};
    };
    const QString cause = pick(&Entry::cause);
    const QString next = pick(&Entry::next);
    if (!cause.isEmpty())
        parts << QStringLiteral("Likely cause: %1.").arg(cause);
    if (!next.isEmpty())
        parts << QStringLiteral("Next step: %1.").arg(next);
    return head + QStringLiteral(": ") + parts.join(u' ');
}

QString explainError(const SmtpError &error)
{
    return explainError(error, QString(), QString());
}

QString explainError(const SmtpError &error, const QString &target, const QString &securityMode)
{
    if (!error.isError())
        return {};
    QStringList parts;
    // A failure reply is the most precise fact there is. Some engine errors carry
    // a success reply (the EHLO reply that lacked AUTH or STARTTLS): that one is
    // context, not the failure, so it is not explained as if it had failed.
    const bool failureReply = error.replyCode >= 400 && error.replyCode < 600;
    if (failureReply) {
        const QString reply = explain(error.replyCode, error.enhancedCode, error.step);
        if (!reply.isEmpty())
            parts << reply;
    }
    const EngineText engine = engineEntry(error);
    // SMTP-REPLY-ERROR only says "a reply failed": the reply says it better.
    const bool engineAddsNothing = failureReply && !parts.isEmpty() && error.code == u"SMTP-REPLY-ERROR";
    if (!engine.meaning.isEmpty() && !engineAddsNothing) {
        const QString where = error.step.isEmpty() ? QString() : QStringLiteral(" at %1").arg(error.step);
        parts << QStringLiteral("%1%2: %3 %4").arg(error.code, where, sentence(engine.meaning),
                                                    sentence(QStringLiteral("what to try: ") + engine.next));
    }
    if (parts.isEmpty())
        return {};
    const QString hint = mixUp(error, portOf(target), securityMode);
    if (!hint.isEmpty())
        parts << hint;
    return parts.join(u'\n');
}

} // namespace ReplyExplainer
