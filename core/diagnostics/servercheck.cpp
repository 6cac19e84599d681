#include "servercheck.h"

// How it works
// ------------
// run() keeps one "main" SMTP session open through the checklist (SmtpDialog:
// greeting, EHLO, STARTTLS, the extension exercise, the relay check, QUIT) and
// opens extra connections where a check needs its own: the TLS-mode probe, one
// per TLS version, and one SmtpClient session per AUTH mechanism (so SASL is the
// engine's, not a copy). Each step appends one Check; a step that cannot run
// records why, and at the end every check id not produced yet is emitted as
// Skipped with that reason ("the port is not reachable", "cancelled", ...).
//
// Certificates: every TLS connection is made with the transport's verification
// on but not enforced (the transport's "insecure" mode, which still records
// every error and the chain), so a diagnosis can read what comes after TLS on a
// server with a bad certificate. The certificate checks then judge those errors
// as a client would, and say that a real client stops there. Credentials are
// never sent to a server whose certificate failed unless the user chose
// insecure mode (security: a diagnosis must not leak the password to an
// impostor), and never in clear unless allowPlaintextAuth.

#include "client/smtpclient.h"
#include "protocol/capabilities.h"
#include "protocol/printable.h"
#include "replyexplainer.h"
#include "servercheck_tls.h"
#include "smtpdialog.h"

#include <QDateTime>
#include <QHostAddress>
#include <QMutex>
#include <QSet>
#include <QSsl>

#include <optional>

namespace Diagnostics {

QVariantMap CheckOptions::toVariantMap() const
{
    // Never the password or the token themselves: only whether they were given.
    return QVariantMap{
        {QStringLiteral("ehlo_name"), ehloName},
        {QStringLiteral("ca_file"), caFile},
        {QStringLiteral("insecure"), insecure},
        {QStringLiteral("user"), user},
        {QStringLiteral("mechanism"), mechanism},
        {QStringLiteral("has_password"), !password.isEmpty()},
        {QStringLiteral("has_oauth_token"), !oauthToken.isEmpty()},
        {QStringLiteral("allow_plaintext_auth"), allowPlaintextAuth},
        {QStringLiteral("connect_timeout_ms"), connectTimeoutMs},
        {QStringLiteral("read_timeout_ms"), readTimeoutMs},
        {QStringLiteral("scan_tls_versions"), scanTlsVersions},
        {QStringLiteral("try_each_mechanism"), tryEachMechanism},
        {QStringLiteral("exercise_extensions"), exerciseExtensions},
        {QStringLiteral("relay_check"), relayCheck},
        {QStringLiteral("relay_from"), relayFrom},
        {QStringLiteral("relay_to"), relayTo},
        {QStringLiteral("mail_from"), mailFrom},
    };
}

namespace {

// The fixed ids, in the order they run (servercheck.h); auth:MECH ids are added
// per advertised mechanism and are not in this list.
const QStringList &checkIds()
{
    static const QStringList ids = {
        QStringLiteral("tcp"),           QStringLiteral("tls-mode"),          QStringLiteral("greeting"),
        QStringLiteral("ehlo"),          QStringLiteral("starttls"),          QStringLiteral("ehlo-after-tls"),
        QStringLiteral("auth-before-tls"), QStringLiteral("tls-protocol"),    QStringLiteral("tls-versions"),
        QStringLiteral("certificate-chain"), QStringLiteral("certificate-expiry"),
        QStringLiteral("certificate-name"), QStringLiteral("auth"),          QStringLiteral("ext:PIPELINING"),
        QStringLiteral("ext:SIZE"),      QStringLiteral("ext:8BITMIME"),      QStringLiteral("ext:SMTPUTF8"),
        QStringLiteral("ext:DSN"),       QStringLiteral("ext:CHUNKING"),      QStringLiteral("relay"),
        QStringLiteral("quit"),
    };
    return ids;
}

QString titleFor(const QString &id)
{
    static const QHash<QString, QString> titles = {
        {QStringLiteral("tcp"), QStringLiteral("TCP connect")},
        {QStringLiteral("tls-mode"), QStringLiteral("TLS mode of the port")},
        {QStringLiteral("greeting"), QStringLiteral("Greeting")},
        {QStringLiteral("ehlo"), QStringLiteral("EHLO")},
        {QStringLiteral("starttls"), QStringLiteral("STARTTLS")},
        {QStringLiteral("ehlo-after-tls"), QStringLiteral("EHLO after TLS")},
        {QStringLiteral("auth-before-tls"), QStringLiteral("AUTH before TLS")},
        {QStringLiteral("tls-protocol"), QStringLiteral("TLS version and cipher")},
        {QStringLiteral("tls-versions"), QStringLiteral("TLS versions accepted")},
        {QStringLiteral("certificate-chain"), QStringLiteral("Certificate chain")},
        {QStringLiteral("certificate-expiry"), QStringLiteral("Certificate expiry")},
        {QStringLiteral("certificate-name"), QStringLiteral("Certificate name")},
        {QStringLiteral("auth"), QStringLiteral("Authentication")},
        {QStringLiteral("relay"), QStringLiteral("Open relay")},
        {QStringLiteral("quit"), QStringLiteral("QUIT")},
    };
    if (id.startsWith(QLatin1String("auth:")))
        return QStringLiteral("AUTH %1").arg(id.mid(5));
    if (id.startsWith(QLatin1String("ext:")))
        return QStringLiteral("Extension %1").arg(id.mid(4));
    return titles.value(id, id);
}

// Mechanisms the engine speaks (protocol/sasl.h).
const QStringList &knownMechanisms()
{
    static const QStringList m = {QStringLiteral("PLAIN"),       QStringLiteral("LOGIN"),
                                  QStringLiteral("CRAM-MD5"),    QStringLiteral("SCRAM-SHA-1"),
                                  QStringLiteral("SCRAM-SHA-256"), QStringLiteral("XOAUTH2"),
                                  QStringLiteral("OAUTHBEARER")};
    return m;
}

bool isTokenMechanism(const QString &m)
{
    return m == QLatin1String("XOAUTH2") || m == QLatin1String("OAUTHBEARER");
}

QString replyText(const Smtp::Reply &r)
{
    // "554 5.7.1 text / more", escaped for display.
    QStringList lines;
    for (const QByteArray &l : r.lines)
        lines.append(Smtp::printable(l, 300));
    return QStringLiteral("%1 %2").arg(r.code).arg(lines.join(QStringLiteral(" / "))).trimmed();
}

QString explain(const Smtp::Reply &r, const QString &step)
{
    return ReplyExplainer::explain(r.code, r.enhanced.toString(), step);
}

QString firstWord(const QByteArray &text)
{
    const QByteArray t = text.trimmed();
    const qsizetype sp = t.indexOf(' ');
    return Smtp::printable(sp < 0 ? t : t.left(sp), 255);
}

// EHLO lines after the first (RFC 5321 4.1.1.1), as received.
QStringList capabilityLines(const Smtp::Reply &ehlo)
{
    QStringList out;
    for (qsizetype i = 1; i < ehlo.lines.size(); ++i)
        out.append(Smtp::printable(ehlo.lines.at(i), 500));
    return out;
}

QString msText(qint64 us)
{
    return us >= 10000 ? QStringLiteral("%1 ms").arg(us / 1000)
                       : QStringLiteral("%1 ms").arg(double(us) / 1000.0, 0, 'f', 1);
}

QString versionName(int index)
{
    static const char *const names[] = {"TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
    return QString::fromLatin1(names[index]);
}

QSsl::SslProtocol versionProtocol(int index)
{
    // The version scan must offer the versions RFC 8996 deprecates, to learn
    // whether the server still accepts them: Qt marks those enumerators
    // deprecated, which is right for every other use.
    QT_WARNING_PUSH
    QT_WARNING_DISABLE_DEPRECATED
    switch (index) {
    case 0: return QSsl::TlsV1_0;
    case 1: return QSsl::TlsV1_1;
    case 2: return QSsl::TlsV1_2;
    default: return QSsl::TlsV1_3;
    }
    QT_WARNING_POP
}

// OpenSSL's words when it refuses to offer a version itself (security level,
// compiled out): the server was never asked.
bool isLocalRefusal(const QString &message)
{
    // "legacy sigalg disallowed": the server chose TLS 1.0/1.1, whose MD5+SHA-1
    // handshake signature this OpenSSL's security level refuses to check.
    static const char *const kSigns[] = {"no protocols available", "no ciphers available",
                                         "unsupported protocol", "protocol is shutdown",
                                         "no suitable signature algorithm", "legacy sigalg disallowed"};
    for (const char *s : kSigns) {
        if (message.contains(QLatin1String(s), Qt::CaseInsensitive))
            return true;
    }
    return false;
}

} // namespace

struct ServerChecker::Private
{
    CheckOptions options;
    CheckFunction checkFunction;
    TranscriptFunction transcriptFunction;
    std::atomic<bool> cancelled{false};
    // The connection or client in progress, for cancel() from another thread.
    QMutex activeMutex;
    SmtpDialog *activeDialog = nullptr;
    SmtpClient *activeClient = nullptr;
};

namespace {

// One run() call.
class Run
{
public:
    Run(const CheckOptions &options, ServerChecker::CheckFunction checkFunction,
        ServerChecker::TranscriptFunction transcriptFunction, std::atomic<bool> *cancelled,
        QMutex *activeMutex, SmtpDialog **activeDialog, SmtpClient **activeClient,
        const QElapsedTimer &clock, QList<Check> *checks, const Endpoint &endpoint)
        : m_o(options)
        , m_checkFunction(std::move(checkFunction))
        , m_transcriptFunction(std::move(transcriptFunction))
        , m_cancelled(cancelled)
        , m_activeMutex(activeMutex)
        , m_activeDialog(activeDialog)
        , m_activeClient(activeClient)
        , m_clock(clock)
        , m_checks(checks)
        , m_ep(endpoint)
    {
        m_scope = m_ep.target();
        m_verifyName = m_ep.peerVerifyName.isEmpty() ? m_ep.host : m_ep.peerVerifyName;
        m_sessionClock.start();
    }

    Endpoint exec();

private:
    // --- checks
    Check begin(const QString &id) const;
    void end(Check c, bool timed = true);
    void skip(const QString &id, const QString &why);
    [[nodiscard]] bool cancelled() const { return m_cancelled->load(); }
    [[nodiscard]] qint64 nowUs() const { return m_clock.isValid() ? m_clock.nsecsElapsed() / 1000 : 0; }

    // --- connections
    std::unique_ptr<SmtpDialog> newDialog(const QString &purpose, bool main);
    void setActive(SmtpDialog *dialog);
    SmtpTransport::Options transportOptions(bool implicitTls) const;
    std::optional<Smtp::Reply> command(const QByteArray &line);

    // --- steps
    bool stepTcp();
    bool stepTlsMode();
    bool stepGreeting();
    bool stepEhlo();
    void stepStartTls();
    void stepEhloAfterTls();
    void stepAuthBeforeTls();
    void stepTlsProtocol();
    void stepTlsVersions();
    void stepCertificates();
    void stepAuth();
    void stepExtensions();
    void stepRelay();
    void stepQuit();
    void finish();

    enum class VersionResult { Accepted, Refused, Untestable };
    VersionResult tryVersion(int index, QString *detail);
    struct AuthOutcome
    {
        bool ok = false;
        bool ran = false;
        QString mechanism;
        QString summary;
        QString detail;
        QString fix;
    };
    AuthOutcome tryMechanism(const QString &mechanism);

    [[nodiscard]] Smtp::Capabilities currentCapabilities() const
    {
        return m_tlsUp ? m_capsAfter : m_capsBefore;
    }
    [[nodiscard]] bool mainUsable() const { return m_main && m_main->isOpen() && m_sessionOk; }

    const CheckOptions &m_o;
    ServerChecker::CheckFunction m_checkFunction;
    ServerChecker::TranscriptFunction m_transcriptFunction;
    std::atomic<bool> *m_cancelled;
    QMutex *m_activeMutex;
    SmtpDialog **m_activeDialog;
    SmtpClient **m_activeClient;
    const QElapsedTimer &m_clock;
    QList<Check> *m_checks;
    Endpoint m_ep;
    QString m_scope;
    QString m_verifyName;
    QElapsedTimer m_sessionClock;

    QString m_connectHost;            // the address (or name) that answered
    std::unique_ptr<SmtpDialog> m_main;
    std::optional<Smtp::Reply> m_greeting; // read during tls-mode
    qint64 m_greetingStartUs = 0;
    qint64 m_greetingWaitUs = 0;
    bool m_implicit = false;          // the main session speaks implicit TLS
    bool m_tlsUp = false;             // the main session is encrypted
    bool m_sessionOk = false;         // greeting and EHLO/HELO accepted
    bool m_usedHelo = false;
    Smtp::Capabilities m_capsBefore;
    Smtp::Capabilities m_capsAfter;
    QSet<QString> m_done;
    QString m_skipReason;             // why the checks not run were skipped
};

Check Run::begin(const QString &id) const
{
    Check c;
    c.id = id;
    c.scope = m_scope;
    c.title = titleFor(id);
    c.startUs = nowUs();
    return c;
}

void Run::end(Check c, bool timed)
{
    if (timed)
        c.durationUs = qMax<qint64>(0, nowUs() - c.startUs);
    // A step interrupted by cancel() ends Skipped, whatever it saw half-way.
    if (cancelled() && c.verdict != Verdict::Pass && c.verdict != Verdict::Skipped) {
        c.verdict = Verdict::Skipped;
        c.summary = QStringLiteral("cancelled");
        c.fix.clear();
    }
    m_done.insert(c.id);
    m_checks->append(c);
    if (m_checkFunction)
        m_checkFunction(c);
}

void Run::skip(const QString &id, const QString &why)
{
    Check c = begin(id);
    c.verdict = Verdict::Skipped;
    c.summary = why;
    end(std::move(c), false);
}

void Run::setActive(SmtpDialog *dialog)
{
    const QMutexLocker lock(m_activeMutex);
    *m_activeDialog = dialog;
    if (dialog && cancelled())
        dialog->interrupt();
}

std::unique_ptr<SmtpDialog> Run::newDialog(const QString &purpose, bool main)
{
    auto sink = [this, main](const TranscriptEntry &e) {
        if (main)
            m_ep.transcript.append(e);
        if (m_transcriptFunction)
            m_transcriptFunction(m_scope, e);
    };
    auto dialog = std::make_unique<SmtpDialog>(m_sessionClock, m_cancelled, std::move(sink));
    dialog->note(QStringLiteral("--- %1").arg(purpose));
    return dialog;
}

SmtpTransport::Options Run::transportOptions(bool implicitTls) const
{
    SmtpTransport::Options t;
    t.host = m_connectHost.isEmpty() ? m_ep.host : m_connectHost;
    t.port = m_ep.port;
    t.implicitTls = implicitTls;
    t.peerVerifyName = m_verifyName;
    t.caFile = m_o.caFile;
    // Verification runs and every error is recorded, but it does not end the
    // handshake: the certificate checks judge the errors (see the top).
    t.insecure = true;
    t.connectTimeoutMs = m_o.connectTimeoutMs;
    t.tlsTimeoutMs = m_o.connectTimeoutMs;
    return t;
}

std::optional<Smtp::Reply> Run::command(const QByteArray &line)
{
    if (!m_main || !m_main->isOpen())
        return std::nullopt;
    setActive(m_main.get());
    return m_main->command(line, m_o.readTimeoutMs);
}

// ---------------------------------------------------------------- tcp

bool Run::stepTcp()
{
    Check c = begin(QStringLiteral("tcp"));
    const QStringList candidates = m_ep.addresses.isEmpty() ? QStringList{m_ep.host} : m_ep.addresses;
    QStringList failures;
    bool refused = false;
    for (const QString &candidate : candidates) {
        if (cancelled())
            break;
        auto dialog = newDialog(QStringLiteral("TCP connect to %1").arg(candidate), true);
        setActive(dialog.get());
        SmtpTransport::Options t = transportOptions(false);
        t.host = candidate;
        QElapsedTimer took;
        took.start();
        const bool ok = dialog->open(t);
        const qint64 us = took.nsecsElapsed() / 1000;
        if (ok) {
            m_connectHost = candidate;
            m_ep.reachable = true;
            m_ep.address = dialog->peerAddress().toString();
            c.verdict = Verdict::Pass;
            c.summary = QStringLiteral("port %1 is open: connected to %2 in %3")
                            .arg(m_ep.port)
                            .arg(m_ep.address, msText(us));
            c.data.insert(QStringLiteral("address"), m_ep.address);
            c.data.insert(QStringLiteral("connect_us"), us);
            if (!failures.isEmpty())
                c.detail = failures.join(u'\n');
            m_main = std::move(dialog);
            end(std::move(c));
            return true;
        }
        setActive(nullptr);
        refused = refused || dialog->error().message.contains(QLatin1String("refused"));
        failures.append(QStringLiteral("%1: %2").arg(candidate, dialog->error().message));
    }
    setActive(nullptr);
    c.verdict = Verdict::Fail;
    c.detail = failures.join(u'\n');
    c.data.insert(QStringLiteral("state"), refused ? QStringLiteral("closed") : QStringLiteral("filtered"));
    if (refused) {
        c.summary = QStringLiteral("port %1 is closed on %2: the connection was refused, nothing listens there")
                        .arg(m_ep.port)
                        .arg(m_ep.host);
        c.fix = QStringLiteral("check that the mail server runs and listens on port %1 on a public address "
                               "(ss -ltnp; Postfix: the service in master.cf and inet_interfaces), and that "
                               "the host name points to the right machine")
                    .arg(m_ep.port);
    } else {
        c.summary = QStringLiteral("no answer from %1 port %2 within %3 ms: the port looks filtered")
                        .arg(m_ep.host)
                        .arg(m_ep.port)
                        .arg(m_o.connectTimeoutMs);
        c.fix = m_ep.port == 25
            ? QStringLiteral("many internet providers block outgoing port 25 from home and cloud networks: "
                             "use the submission port 587 or 465 to send, or ask the provider; else check "
                             "the server's firewall")
            : QStringLiteral("check the firewall in front of the server (and any on this network), and "
                             "that the host is up");
    }
    m_skipReason = QStringLiteral("not run: port %1 is not reachable").arg(m_ep.port);
    end(std::move(c));
    return false;
}

// ---------------------------------------------------------------- tls-mode

bool Run::stepTlsMode()
{
    Check c = begin(QStringLiteral("tls-mode"));
    c.data.insert(QStringLiteral("role"), Endpoint::roleName(m_ep.role));

    if (m_ep.role == Endpoint::Role::Submissions) {
        // The TCP check's plain connection is not the session: RFC 8314 3.3 wants
        // TLS from the first byte, so a fresh connection starts with the handshake.
        setActive(nullptr);
        m_main->close();
        m_main.reset();
        auto tls = newDialog(QStringLiteral("implicit TLS session"), true);
        setActive(tls.get());
        if (tls->open(transportOptions(true))) {
            m_implicit = true;
            m_tlsUp = true;
            m_ep.implicitTlsSpoken = true;
            m_main = std::move(tls);
            c.verdict = Verdict::Pass;
            c.summary = QStringLiteral("port %1 speaks TLS from the first byte, as a submissions port "
                                       "should (RFC 8314 3.3)")
                            .arg(m_ep.port);
            c.data.insert(QStringLiteral("mode"), QStringLiteral("implicit-tls"));
            end(std::move(c));
            return true;
        }
        const SmtpError tlsError = tls->error();
        setActive(nullptr);
        if (cancelled()) {
            end(std::move(c));
            return false;
        }
        // Is it plain SMTP? A new connection that waits for a greeting.
        auto plain = newDialog(QStringLiteral("plain connection (is it STARTTLS?)"), true);
        setActive(plain.get());
        if (plain->open(transportOptions(false))) {
            m_greetingStartUs = nowUs();
            m_greeting = plain->readReply(m_o.readTimeoutMs);
            m_greetingWaitUs = plain->lastWaitUs();
        }
        c.detail = QStringLiteral("TLS handshake: %1").arg(tlsError.message);
        m_main = std::move(plain);
        if (m_greeting && m_greeting->code == 220) {
            c.verdict = Verdict::Fail;
            c.summary = QStringLiteral("port %1 does not speak implicit TLS: it greets in plain text (%2), so it "
                                       "expects STARTTLS; clients set to SSL/TLS on this port fail")
                            .arg(m_ep.port)
                            .arg(replyText(*m_greeting));
            c.fix = QStringLiteral("use STARTTLS mode with this port (usually 587), or configure implicit TLS "
                                   "on it (Postfix: -o smtpd_tls_wrappermode=yes on this port's service in "
                                   "master.cf; RFC 8314 3.3 assigns 465 to implicit TLS)");
            c.data.insert(QStringLiteral("mode"), QStringLiteral("starttls"));
            end(std::move(c));
            return true; // the checklist goes on in STARTTLS mode
        }
        c.verdict = Verdict::Fail;
        c.summary = QStringLiteral("port %1 completes no TLS handshake (%2) and sends no plain greeting "
                                   "either: it does not behave as an SMTP server")
                        .arg(m_ep.port)
                        .arg(tlsError.message);
        c.fix = QStringLiteral("check that this port belongs to the mail server and that it is configured "
                               "for implicit TLS (Postfix: smtpd_tls_wrappermode=yes)");
        c.data.insert(QStringLiteral("mode"), QStringLiteral("unknown"));
        end(std::move(c));
        return true; // the greeting check reports what came
    }

    // Submission and relay: RFC 3207 / RFC 6409, a greeting in clear first.
    m_greetingStartUs = nowUs();
    m_greeting = m_main->readReply(m_o.readTimeoutMs);
    m_greetingWaitUs = m_main->lastWaitUs();
    if (m_greeting) {
        c.verdict = Verdict::Pass;
        c.summary = QStringLiteral("port %1 greets in clear text, as a %2 port should (STARTTLS, RFC 3207)")
                        .arg(m_ep.port)
                        .arg(Endpoint::roleName(m_ep.role));
        c.data.insert(QStringLiteral("mode"), QStringLiteral("starttls"));
        end(std::move(c));
        return true;
    }
    if (cancelled()) {
        end(std::move(c));
        return false;
    }
    const bool silent = m_main->timedOut();
    const QString plainWhat = silent ? QStringLiteral("sent no greeting within %1 ms").arg(m_o.readTimeoutMs)
                                     : QStringLiteral("sent no greeting (%1)").arg(m_main->error().isError()
                                                                                      ? m_main->error().message
                                                                                      : QStringLiteral("connection closed"));
    // Silent in clear: does it wait for a TLS ClientHello?
    auto tls = newDialog(QStringLiteral("implicit TLS probe"), true);
    setActive(tls.get());
    if (tls->open(transportOptions(true))) {
        m_main->close();
        m_main = std::move(tls); // the active one already
        m_implicit = true;
        m_tlsUp = true;
        m_ep.implicitTlsSpoken = true;
        c.verdict = Verdict::Fail;
        c.summary = QStringLiteral("port %1 %2 but accepted a TLS handshake: it speaks implicit TLS, so "
                                   "clients set to STARTTLS (or plain) on this port hang until they time out")
                        .arg(m_ep.port)
                        .arg(plainWhat);
        c.fix = QStringLiteral("use SSL/TLS (implicit TLS) mode with this port, or port 465 for implicit TLS; "
                               "to serve STARTTLS here, remove smtpd_tls_wrappermode=yes from this port's "
                               "service in Postfix's master.cf");
        c.data.insert(QStringLiteral("mode"), QStringLiteral("implicit-tls"));
        end(std::move(c));
        return true;
    }
    setActive(m_main.get());
    c.verdict = Verdict::Fail;
    c.summary = QStringLiteral("port %1 %2, and a TLS handshake failed too (%3)")
                    .arg(m_ep.port)
                    .arg(plainWhat, tls->error().message);
    c.fix = QStringLiteral("check that an SMTP server listens on this port and is not overloaded (greeting "
                           "delays over a few seconds make clients give up)");
    c.data.insert(QStringLiteral("mode"), QStringLiteral("unknown"));
    end(std::move(c));
    return true;
}

// ---------------------------------------------------------------- greeting and EHLO

bool Run::stepGreeting()
{
    Check c = begin(QStringLiteral("greeting"));
    if (!m_greeting && m_main && m_main->isOpen() && m_implicit) {
        m_greetingStartUs = nowUs();
        m_greeting = m_main->readReply(m_o.readTimeoutMs);
        m_greetingWaitUs = m_main->lastWaitUs();
    }
    c.startUs = m_greetingStartUs ? m_greetingStartUs : c.startUs;
    c.durationUs = m_greetingWaitUs;
    c.data.insert(QStringLiteral("time_to_greet_us"), m_greetingWaitUs);
    if (!m_greeting) {
        c.verdict = Verdict::Fail;
        c.summary = m_main && m_main->timedOut()
            ? QStringLiteral("no greeting within %1 ms").arg(m_o.readTimeoutMs)
            : QStringLiteral("no greeting: %1")
                  .arg(m_main && m_main->error().isError() ? m_main->error().message
                                                           : QStringLiteral("the connection was closed"));
        c.fix = QStringLiteral("check the server's logs: an overloaded server or a slow reverse DNS lookup of "
                               "the client delays the greeting (Postfix: smtpd_peername_lookup, "
                               "postscreen_greet_wait)");
        m_skipReason = QStringLiteral("not run: the server sent no greeting");
        end(std::move(c), false);
        return false;
    }
    const Smtp::Reply &g = *m_greeting;
    m_ep.greeting = QString::fromUtf8(g.text());
    m_ep.greetingName = g.lines.isEmpty() ? QString() : firstWord(g.lines.first());
    c.data.insert(QStringLiteral("code"), g.code);
    c.data.insert(QStringLiteral("name"), m_ep.greetingName);
    c.detail = replyText(g);
    if (g.code != 220) {
        c.verdict = Verdict::Fail;
        c.summary = QStringLiteral("the server refused the session at its greeting: %1").arg(replyText(g));
        c.fix = explain(g, QStringLiteral("greeting"));
        if (c.fix.isEmpty())
            c.fix = QStringLiteral("the server does not accept mail from this client: look for this address on "
                                   "block lists and in the server's access rules");
        m_skipReason = QStringLiteral("not run: the server refused the session (%1)").arg(g.code);
        end(std::move(c), false);
        return false;
    }
    // RFC 5321 4.5.3.2.1: clients wait 5 minutes for the greeting, but a greeting
    // that takes seconds is usually a resolver timeout or a deliberate delay.
    if (m_greetingWaitUs > 5'000'000) {
        c.verdict = Verdict::Warn;
        c.summary = QStringLiteral("220 greeting from %1 after %2: slow enough for impatient clients to give up")
                        .arg(m_ep.greetingName, msText(m_greetingWaitUs));
        c.fix = QStringLiteral("look for reverse DNS timeouts on the server or a greet-pause setting "
                               "(postscreen_greet_wait)");
    } else {
        c.verdict = Verdict::Pass;
        c.summary = QStringLiteral("220 greeting from %1 after %2")
                        .arg(m_ep.greetingName.isEmpty() ? QStringLiteral("(no name)") : m_ep.greetingName,
                             msText(m_greetingWaitUs));
    }
    end(std::move(c), false);
    return true;
}

bool Run::stepEhlo()
{
    Check c = begin(QStringLiteral("ehlo"));
    const QByteArray name = m_o.ehloName.toUtf8();
    // The EHLO name reaches the wire: refuse CR, LF, NUL and spaces (security
    // docs/security.md section C).
    if (name.isEmpty() || name.contains('\r') || name.contains('\n') || name.contains('\0') || name.contains(' ')) {
        c.verdict = Verdict::Fail;
        c.summary = QStringLiteral("the EHLO name given is not a valid domain or address literal");
        c.fix = QStringLiteral("give a host name such as client.example.org");
        m_skipReason = QStringLiteral("not run: no valid EHLO name");
        end(std::move(c));
        return false;
    }
    auto reply = command("EHLO " + name);
    if (reply && reply->code == 250) {
        const Smtp::Capabilities caps = Smtp::Capabilities::fromEhloReply(*reply);
        const QStringList lines = capabilityLines(*reply);
        m_ep.ehloName = reply->lines.isEmpty() ? QString() : firstWord(reply->lines.first());
        if (m_tlsUp) {
            m_capsAfter = caps;
            m_ep.capabilitiesAfterTls = lines;
        } else {
            m_capsBefore = caps;
            m_ep.capabilitiesBeforeTls = lines;
        }
        m_sessionOk = true;
        c.verdict = Verdict::Pass;
        c.summary = QStringLiteral("EHLO accepted by %1%2: %3")
                        .arg(m_ep.ehloName,
                             m_tlsUp ? QStringLiteral(" (inside TLS)") : QString(),
                             lines.isEmpty() ? QStringLiteral("no extensions") : lines.join(QStringLiteral(", ")));
        c.data.insert(QStringLiteral("capabilities"), lines);
        c.data.insert(QStringLiteral("name"), m_ep.ehloName);
        end(std::move(c));
        return true;
    }
    if (reply && (reply->code == 500 || reply->code == 502)) {
        // RFC 5321 4.1.4 / 3.2: a server that does not know EHLO gets HELO.
        const QString ehloReply = replyText(*reply);
        auto helo = command("HELO " + name);
        if (helo && helo->code == 250) {
            m_usedHelo = true;
            m_sessionOk = true;
            m_ep.ehloName = helo->lines.isEmpty() ? QString() : firstWord(helo->lines.first());
            c.verdict = Verdict::Warn;
            c.summary = QStringLiteral("EHLO is not supported (%1); HELO works, so no extension is available: "
                                       "no STARTTLS, AUTH, SIZE or 8BITMIME")
                            .arg(ehloReply);
            c.fix = QStringLiteral("use an SMTP server that supports ESMTP (RFC 5321); anything current does");
            c.data.insert(QStringLiteral("helo"), true);
            end(std::move(c));
            return true;
        }
        reply = helo;
    }
    c.verdict = Verdict::Fail;
    if (reply) {
        c.summary = QStringLiteral("the server refused EHLO %1: %2").arg(m_o.ehloName, replyText(*reply));
        c.detail = replyText(*reply);
        c.fix = explain(*reply, QStringLiteral("EHLO"));
        if (c.fix.isEmpty())
            c.fix = QStringLiteral("the server may require a fully qualified EHLO name (give one with the EHLO "
                                   "name option) or refuse this client's address");
        m_skipReason = QStringLiteral("not run: EHLO was refused (%1)").arg(reply->code);
    } else {
        c.summary = m_main && m_main->timedOut() ? QStringLiteral("no answer to EHLO within %1 ms").arg(m_o.readTimeoutMs)
                                                 : QStringLiteral("no answer to EHLO: %1")
                                                       .arg(m_main && m_main->error().isError()
                                                                ? m_main->error().message
                                                                : QStringLiteral("the connection was closed"));
        c.fix = QStringLiteral("check the server's logs for why it drops the session after the greeting");
        m_skipReason = QStringLiteral("not run: EHLO was not answered");
    }
    end(std::move(c));
    return false;
}

// ---------------------------------------------------------------- STARTTLS

void Run::stepStartTls()
{
    if (m_implicit) {
        skip(QStringLiteral("starttls"),
             QStringLiteral("not applicable: the session is in TLS from the first byte (implicit TLS)"));
        return;
    }
    Check c = begin(QStringLiteral("starttls"));
    const bool offered = m_capsBefore.startTls();
    c.data.insert(QStringLiteral("offered"), offered);
    if (!offered) {
        const bool relay = m_ep.role == Endpoint::Role::Relay;
        c.verdict = relay ? Verdict::Warn : Verdict::Fail;
        c.summary = relay ? QStringLiteral("STARTTLS is not offered: mail from other servers reaches this one "
                                           "in clear (RFC 3207)")
                          : QStringLiteral("STARTTLS is not offered on a submission port: passwords and mail "
                                           "would cross the network in clear");
        c.fix = QStringLiteral("enable TLS with a certificate (Postfix: smtpd_tls_chain_files and "
                               "smtpd_tls_security_level = may, or encrypt on the submission port)");
        end(std::move(c));
        return;
    }
    auto reply = command("STARTTLS");
    if (!reply || reply->code != 220) {
        c.verdict = Verdict::Fail;
        c.summary = reply ? QStringLiteral("STARTTLS is offered but refused: %1").arg(replyText(*reply))
                          : QStringLiteral("STARTTLS is offered but not answered");
        if (reply) {
            c.detail = replyText(*reply);
            c.fix = explain(*reply, QStringLiteral("STARTTLS"));
        }
        if (c.fix.isEmpty())
            c.fix = QStringLiteral("check the server's TLS settings and logs: a missing or unreadable "
                                   "certificate or key makes it refuse TLS (Postfix logs \"cannot load "
                                   "certificate\")");
        end(std::move(c));
        return;
    }
    const qint64 before = nowUs();
    if (!m_main->startTls(m_o.connectTimeoutMs)) {
        c.verdict = Verdict::Fail;
        c.summary = QStringLiteral("the server agreed to STARTTLS but the TLS handshake failed: %1")
                        .arg(m_main->error().message);
        c.fix = QStringLiteral("check the server's TLS settings (protocols, ciphers, certificate and key) and "
                               "its log for the handshake error");
        c.data.insert(QStringLiteral("error"), m_main->error().message);
        m_sessionOk = false;
        m_skipReason = QStringLiteral("not run: the STARTTLS handshake failed");
        end(std::move(c));
        return;
    }
    m_tlsUp = true;
    const TlsInfo tls = m_main->tlsInfo();
    c.verdict = Verdict::Pass;
    c.summary = QStringLiteral("STARTTLS accepted; %1 handshake in %2").arg(tls.protocol, msText(nowUs() - before));
    c.data.insert(QStringLiteral("protocol"), tls.protocol);
    end(std::move(c));
}

void Run::stepEhloAfterTls()
{
    if (m_implicit) {
        skip(QStringLiteral("ehlo-after-tls"),
             QStringLiteral("not applicable: implicit TLS, the only EHLO was inside TLS"));
        return;
    }
    if (!m_tlsUp) {
        skip(QStringLiteral("ehlo-after-tls"), QStringLiteral("not run: no TLS session"));
        return;
    }
    Check c = begin(QStringLiteral("ehlo-after-tls"));
    // RFC 3207 4.2: after the handshake the client forgets what it knew and asks again.
    auto reply = command("EHLO " + m_o.ehloName.toUtf8());
    if (!reply || reply->code != 250) {
        c.verdict = Verdict::Fail;
        c.summary = reply ? QStringLiteral("EHLO after TLS was refused: %1").arg(replyText(*reply))
                          : QStringLiteral("EHLO after TLS was not answered");
        c.fix = QStringLiteral("check the server's log: it should answer EHLO again inside TLS (RFC 3207 4.2)");
        m_sessionOk = false;
        m_skipReason = QStringLiteral("not run: EHLO after TLS failed");
        end(std::move(c));
        return;
    }
    m_capsAfter = Smtp::Capabilities::fromEhloReply(*reply);
    m_ep.capabilitiesAfterTls = capabilityLines(*reply);

    QStringList before, after;
    for (const auto &e : m_capsBefore.entries())
        before.append(QString::fromLatin1(e.keyword));
    for (const auto &e : m_capsAfter.entries())
        after.append(QString::fromLatin1(e.keyword));
    QStringList added, removed;
    for (const QString &k : after)
        if (!before.contains(k))
            added.append(k);
    for (const QString &k : before)
        if (!after.contains(k))
            removed.append(k);
    c.data.insert(QStringLiteral("before"), m_ep.capabilitiesBeforeTls);
    c.data.insert(QStringLiteral("after"), m_ep.capabilitiesAfterTls);
    c.data.insert(QStringLiteral("added"), added);
    c.data.insert(QStringLiteral("removed"), removed);

    QStringList problems;
    // RFC 3207 4.2: STARTTLS must not be offered again inside TLS.
    if (m_capsAfter.startTls())
        problems.append(QStringLiteral("STARTTLS is still offered inside TLS (RFC 3207 4.2 forbids it)"));
    const QStringList mattering = {QStringLiteral("PIPELINING"), QStringLiteral("8BITMIME"),
                                   QStringLiteral("SMTPUTF8"), QStringLiteral("SIZE"),
                                   QStringLiteral("ENHANCEDSTATUSCODES"), QStringLiteral("CHUNKING"),
                                   QStringLiteral("DSN")};
    for (const QString &k : removed) {
        if (k != QLatin1String("STARTTLS") && mattering.contains(k))
            problems.append(QStringLiteral("%1 disappears after TLS").arg(k));
    }
    const auto sizeBefore = m_capsBefore.sizeLimit();
    const auto sizeAfter = m_capsAfter.sizeLimit();
    if (sizeBefore && sizeAfter && *sizeBefore > 0 && (*sizeAfter == 0 ? false : *sizeAfter < *sizeBefore))
        problems.append(QStringLiteral("SIZE shrinks from %1 to %2 bytes after TLS").arg(*sizeBefore).arg(*sizeAfter));

    QStringList changes;
    if (!added.isEmpty())
        changes.append(QStringLiteral("added %1").arg(added.join(QStringLiteral(", "))));
    if (!removed.isEmpty())
        changes.append(QStringLiteral("removed %1").arg(removed.join(QStringLiteral(", "))));
    const QString changeText = changes.isEmpty() ? QStringLiteral("no change") : changes.join(QStringLiteral("; "));
    c.detail = QStringLiteral("before TLS: %1\nafter TLS: %2")
                   .arg(m_ep.capabilitiesBeforeTls.join(QStringLiteral(", ")),
                        m_ep.capabilitiesAfterTls.join(QStringLiteral(", ")));
    if (problems.isEmpty()) {
        c.verdict = Verdict::Pass;
        c.summary = QStringLiteral("EHLO answered again inside TLS: %1%2")
                        .arg(changeText,
                             added.contains(QStringLiteral("AUTH"))
                                 ? QStringLiteral(" (AUTH appearing only inside TLS is the safe setup)")
                                 : QString());
    } else {
        c.verdict = Verdict::Warn;
        c.summary = QStringLiteral("capabilities change after TLS in a way that matters: %1")
                        .arg(problems.join(QStringLiteral("; ")));
        c.fix = QStringLiteral("give the TLS and plain sessions the same extension settings (Postfix: compare "
                               "the -o overrides of this port's service in master.cf)");
    }
    end(std::move(c));
}

void Run::stepAuthBeforeTls()
{
    Check c = begin(QStringLiteral("auth-before-tls"));
    if (m_implicit) {
        c.verdict = Verdict::Pass;
        c.summary = QStringLiteral("the port speaks TLS from the first byte: AUTH is never offered in clear");
        end(std::move(c), false);
        return;
    }
    const QStringList mechs = m_capsBefore.authMechanisms();
    c.data.insert(QStringLiteral("mechanisms"), mechs);
    if (mechs.isEmpty()) {
        c.verdict = Verdict::Pass;
        c.summary = QStringLiteral("AUTH is not offered before TLS");
        end(std::move(c), false);
        return;
    }
    // RFC 8314 4.1 / RFC 4954 4: passwords only inside TLS. A relay may offer
    // AUTH to MTAs in clear, but nobody should log in there without TLS.
    const bool relay = m_ep.role == Endpoint::Role::Relay;
    c.verdict = relay ? Verdict::Warn : Verdict::Fail;
    c.summary = QStringLiteral("AUTH %1 is offered before TLS: a client may send the password in clear, "
                               "readable by anyone on the path (RFC 8314 4.1)")
                    .arg(mechs.join(u' '));
    c.fix = QStringLiteral("offer AUTH only inside TLS (Postfix: smtpd_tls_auth_only = yes; Exim: "
                           "auth_advertise_hosts = ${if eq{$tls_in_cipher}{}{}{*}})");
    end(std::move(c), false);
}

// ---------------------------------------------------------------- TLS facts

void Run::stepTlsProtocol()
{
    if (!m_tlsUp) {
        skip(QStringLiteral("tls-protocol"), QStringLiteral("not run: no TLS session"));
        return;
    }
    Check c = begin(QStringLiteral("tls-protocol"));
    TlsVerdicts::protocol(m_ep.tls, &c);
    end(std::move(c), false);
}

Run::VersionResult Run::tryVersion(int index, QString *detail)
{
    auto dialog = newDialog(QStringLiteral("TLS version scan: %1 only").arg(versionName(index)), false);
    setActive(dialog.get());
    SmtpTransport::Options t = transportOptions(m_implicit);
    t.protocol = versionProtocol(index);
    VersionResult result = VersionResult::Refused;
    auto classify = [&](const SmtpError &e) {
        *detail = e.message;
        if (e.message.contains(QLatin1String("legacy sigalg"), Qt::CaseInsensitive)) {
            *detail = QStringLiteral("the server chose %1, so it probably accepts it, but this machine's "
                                     "OpenSSL refuses that version's legacy handshake signature "
                                     "(MD5+SHA-1) and cannot complete it")
                          .arg(versionName(index));
        }
        return isLocalRefusal(e.message) ? VersionResult::Untestable : VersionResult::Refused;
    };
    if (m_implicit) {
        if (dialog->open(t))
            result = VersionResult::Accepted;
        else
            result = classify(dialog->error());
    } else if (!dialog->open(t)) {
        *detail = dialog->error().message;
        result = VersionResult::Untestable; // no connection: nothing learnt about TLS
    } else {
        auto greeting = dialog->readReply(m_o.readTimeoutMs);
        auto ehlo = greeting && greeting->code == 220
            ? dialog->command("EHLO " + m_o.ehloName.toUtf8(), m_o.readTimeoutMs)
            : std::nullopt;
        auto starttls = ehlo && ehlo->code == 250 ? dialog->command("STARTTLS", m_o.readTimeoutMs) : std::nullopt;
        if (!starttls || starttls->code != 220) {
            *detail = QStringLiteral("the session did not reach the TLS handshake");
            result = VersionResult::Untestable;
        } else if (dialog->startTls(m_o.connectTimeoutMs)) {
            result = VersionResult::Accepted;
        } else {
            result = classify(dialog->error());
        }
    }
    if (result == VersionResult::Accepted) {
        const QString got = dialog->tlsInfo().protocol;
        *detail = got;
        // Polite end of a session that did nothing (RFC 5321 4.1.1.10).
        dialog->command("QUIT", qMin(m_o.readTimeoutMs, 2000));
    }
    setActive(m_main.get());
    return result;
}

void Run::stepTlsVersions()
{
    if (!m_o.scanTlsVersions) {
        skip(QStringLiteral("tls-versions"), QStringLiteral("not run: the version scan is turned off"));
        return;
    }
    if (!m_tlsUp) {
        skip(QStringLiteral("tls-versions"), QStringLiteral("not run: no TLS session"));
        return;
    }
    Check c = begin(QStringLiteral("tls-versions"));
    QStringList details;
    for (int i = 0; i < 4 && !cancelled(); ++i) {
        QString detail;
        const VersionResult r = tryVersion(i, &detail);
        const QString name = versionName(i);
        switch (r) {
        case VersionResult::Accepted:
            m_ep.tlsVersionsAccepted.append(name);
            details.append(QStringLiteral("%1: accepted").arg(name));
            break;
        case VersionResult::Refused:
            m_ep.tlsVersionsRefused.append(name);
            details.append(QStringLiteral("%1: refused (%2)").arg(name, detail));
            break;
        case VersionResult::Untestable:
            m_ep.tlsVersionsUntestable.append(name);
            details.append(QStringLiteral("%1: not testable from here (%2)").arg(name, detail));
            break;
        }
    }
    c.detail = details.join(u'\n');
    c.data.insert(QStringLiteral("accepted"), m_ep.tlsVersionsAccepted);
    c.data.insert(QStringLiteral("refused"), m_ep.tlsVersionsRefused);
    c.data.insert(QStringLiteral("untestable"), m_ep.tlsVersionsUntestable);
    const QString accepted = m_ep.tlsVersionsAccepted.isEmpty() ? QStringLiteral("none")
                                                                : m_ep.tlsVersionsAccepted.join(QStringLiteral(", "));
    QString tail;
    if (!m_ep.tlsVersionsUntestable.isEmpty())
        tail = QStringLiteral("; %1 not testable from here (this machine's TLS library will not offer or complete them)")
                   .arg(m_ep.tlsVersionsUntestable.join(QStringLiteral(", ")));
    QStringList old;
    for (const QString &v : {QStringLiteral("TLSv1.0"), QStringLiteral("TLSv1.1")})
        if (m_ep.tlsVersionsAccepted.contains(v))
            old.append(v);
    if (!old.isEmpty()) {
        c.verdict = Verdict::Fail;
        c.summary = QStringLiteral("accepted: %1; %2 are deprecated (RFC 8996)%3")
                        .arg(accepted, old.join(QStringLiteral(" and ")), tail);
        c.fix = QStringLiteral("turn off TLS 1.0 and 1.1 (Postfix: smtpd_tls_protocols = >=TLSv1.2 and "
                               "smtpd_tls_mandatory_protocols = >=TLSv1.2)");
    } else if (m_ep.tlsVersionsAccepted.isEmpty()) {
        c.verdict = Verdict::Warn;
        c.summary = QStringLiteral("no single version could be negotiated on its own%1").arg(tail);
        c.fix = QStringLiteral("enable TLS 1.2 and 1.3 on the server");
    } else {
        c.verdict = Verdict::Pass;
        c.summary = QStringLiteral("accepted: %1%2%3")
                        .arg(accepted,
                             m_ep.tlsVersionsAccepted.contains(QStringLiteral("TLSv1.3"))
                                 ? QString()
                                 : QStringLiteral(" (TLS 1.3 is not offered: consider enabling it)"),
                             tail);
    }
    end(std::move(c));
}

void Run::stepCertificates()
{
    const bool haveTls = m_tlsUp || !m_ep.tls.chain.isEmpty();
    for (const QString &id : {QStringLiteral("certificate-chain"), QStringLiteral("certificate-expiry"),
                              QStringLiteral("certificate-name")}) {
        if (!haveTls) {
            skip(id, QStringLiteral("not run: no TLS session"));
            continue;
        }
        Check c = begin(id);
        if (id == QLatin1String("certificate-chain"))
            TlsVerdicts::chain(m_ep.tls, m_o.insecure, &c);
        else if (id == QLatin1String("certificate-expiry"))
            TlsVerdicts::expiry(m_ep.tls, QDateTime::currentDateTimeUtc(), &c);
        else
            TlsVerdicts::name(m_ep.tls, &c);
        end(std::move(c), false);
    }
}

// ---------------------------------------------------------------- AUTH

Run::AuthOutcome Run::tryMechanism(const QString &mechanism)
{
    AuthOutcome out;
    out.mechanism = mechanism;
    QMutex transcriptMutex;
    QList<TranscriptEntry> entries;
    try {
        SmtpClient client(m_connectHost.isEmpty() ? m_ep.host : m_connectHost, m_ep.port);
        {
            const QMutexLocker lock(m_activeMutex);
            *m_activeClient = &client;
        }
        // The client's worker thread calls this: collect, and hand the lines on
        // from this thread afterwards.
        client.setTranscriptFunction([&transcriptMutex, &entries](const TranscriptEntry &e) {
            const QMutexLocker lock(&transcriptMutex);
            entries.append(e);
        });
        if (m_implicit)
            client.ssl(true);
        else if (m_tlsUp)
            client.tls(true);
        else
            client.setStartTlsPolicy(SmtpClient::StartTlsPolicy::Never);
        if (isTokenMechanism(mechanism))
            client.setOAuthToken(m_o.user, m_o.oauthToken);
        else
            client.setUserPass(m_o.user, m_o.password);
        client.setAuthMechanism(mechanism);
        client.setAllowPlaintextAuth(m_o.allowPlaintextAuth);
        client.setCaFile(m_o.caFile);
        client.setInsecure(m_o.insecure);
        client.setPeerVerifyName(m_verifyName);
        client.setEhloName(m_o.ehloName);
        client.setShowSecrets(m_o.showSecrets);
        client.setConnectTimeout(m_o.connectTimeoutMs);
        client.setReadTimeout(m_o.readTimeoutMs);
        if (cancelled())
            client.cancel();
        try {
            client.connect();
            const SendResult info = client.sessionInfo();
            out.ran = true;
            out.ok = true;
            out.mechanism = info.authMechanism.isEmpty() ? mechanism : info.authMechanism;
            const ServerReply last = info.authAttempts.isEmpty() ? ServerReply() : info.authAttempts.last().second;
            out.summary = QStringLiteral("%1 accepted for %2 (%3)")
                              .arg(out.mechanism, m_o.user, last.display(true));
            try {
                client.disconnect();
            } catch (const SmtpException &) {
                // QUIT after a successful AUTH is not what is checked here.
            }
        } catch (const SmtpException &e) {
            const SendResult info = client.sessionInfo();
            const SmtpError &err = e.error();
            out.ran = true;
            if (!info.authMechanism.isEmpty())
                out.mechanism = info.authMechanism;
            else if (!info.authAttempts.isEmpty())
                out.mechanism = info.authAttempts.last().first;
            out.summary = QStringLiteral("%1 refused: %2").arg(out.mechanism.isEmpty() ? QStringLiteral("AUTH") : out.mechanism,
                                                                err.message);
            out.detail = err.toString();
            out.fix = ReplyExplainer::explainError(err, m_scope,
                                                   m_implicit ? QStringLiteral("implicit-tls")
                                                              : (m_tlsUp ? QStringLiteral("starttls")
                                                                         : QStringLiteral("plain")));
            client.forceDisconnect();
        }
        {
            const QMutexLocker lock(m_activeMutex);
            *m_activeClient = nullptr;
        }
    } catch (const SmtpException &e) {
        // The constructor or a setting refused its input.
        const QMutexLocker lock(m_activeMutex);
        *m_activeClient = nullptr;
        out.summary = e.error().message;
    }
    if (m_transcriptFunction) {
        TranscriptEntry head;
        head.direction = TranscriptEntry::Direction::Info;
        head.text = QStringLiteral("--- AUTH %1 session").arg(mechanism.isEmpty() ? QStringLiteral("(engine's choice)") : mechanism);
        m_transcriptFunction(m_scope, head);
        for (const TranscriptEntry &e : std::as_const(entries))
            m_transcriptFunction(m_scope, e);
    }
    return out;
}

void Run::stepAuth()
{
    const Smtp::Capabilities caps = currentCapabilities();
    const QStringList offered = caps.authMechanisms();
    const bool haveCredentials = !m_o.user.isEmpty() && (!m_o.password.isEmpty() || !m_o.oauthToken.isEmpty());
    Check summary = begin(QStringLiteral("auth"));
    summary.data.insert(QStringLiteral("offered"), offered);

    if (!haveCredentials) {
        summary.verdict = Verdict::Skipped;
        summary.summary = offered.isEmpty() ? QStringLiteral("no credentials given (the server offers no AUTH here)")
                                            : QStringLiteral("no credentials given; the server offers %1")
                                                  .arg(offered.join(u' '));
        end(std::move(summary), false);
        return;
    }
    if (!m_sessionOk && !m_tlsUp) {
        summary.verdict = Verdict::Skipped;
        summary.summary = m_skipReason.isEmpty() ? QStringLiteral("not run: no usable session") : m_skipReason;
        end(std::move(summary), false);
        return;
    }
    if (!m_tlsUp && !m_o.allowPlaintextAuth) {
        summary.verdict = Verdict::Skipped;
        summary.summary = QStringLiteral("not run: there is no TLS, and credentials are never sent in clear "
                                         "unless plaintext AUTH is allowed");
        end(std::move(summary), false);
        return;
    }
    if (m_tlsUp && !m_ep.tls.verified && !m_o.insecure) {
        summary.verdict = Verdict::Skipped;
        summary.summary = QStringLiteral("not run: the certificate is not trusted, so the password was not "
                                         "sent (a real client stops at the TLS handshake; see the "
                                         "certificate checks)");
        end(std::move(summary), false);
        return;
    }
    if (offered.isEmpty()) {
        const bool submission = m_ep.role != Endpoint::Role::Relay;
        summary.verdict = submission ? Verdict::Fail : Verdict::Info;
        summary.summary = QStringLiteral("the server offers no AUTH %1: clients cannot log in here")
                              .arg(m_tlsUp ? QStringLiteral("inside TLS") : QStringLiteral("in this session"));
        if (submission)
            summary.fix = QStringLiteral("enable SASL on the submission service (Postfix: smtpd_sasl_auth_enable = "
                                         "yes with smtpd_sasl_type = dovecot)");
        end(std::move(summary), false);
        return;
    }

    QStringList toTry;
    if (m_o.tryEachMechanism)
        toTry = offered;
    else
        toTry = {m_o.mechanism.toUpper()}; // empty: the engine's choice
    QMap<QString, bool> results;
    QStringList worked, failed;
    for (const QString &mech : std::as_const(toTry)) {
        if (cancelled())
            break;
        const QString id = QStringLiteral("auth:%1").arg(mech.isEmpty() ? QStringLiteral("DEFAULT") : mech);
        Check c = begin(id);
        if (!mech.isEmpty() && !knownMechanisms().contains(mech)) {
            c.verdict = Verdict::Skipped;
            c.summary = QStringLiteral("SMTP Scope cannot speak %1").arg(mech);
            end(std::move(c), false);
            continue;
        }
        if (isTokenMechanism(mech) && m_o.oauthToken.isEmpty()) {
            c.verdict = Verdict::Skipped;
            c.summary = QStringLiteral("not run: no OAuth token given");
            end(std::move(c), false);
            continue;
        }
        if (!mech.isEmpty() && !isTokenMechanism(mech) && m_o.password.isEmpty()) {
            c.verdict = Verdict::Skipped;
            c.summary = QStringLiteral("not run: no password given");
            end(std::move(c), false);
            continue;
        }
        const AuthOutcome r = tryMechanism(mech);
        if (mech.isEmpty() && !r.mechanism.isEmpty()) {
            c.id = QStringLiteral("auth:%1").arg(r.mechanism);
            c.title = titleFor(c.id);
        }
        c.verdict = r.ok ? Verdict::Pass : Verdict::Fail;
        c.summary = r.summary;
        c.detail = r.detail;
        c.fix = r.ok ? QString() : r.fix;
        results.insert(r.mechanism.isEmpty() ? mech : r.mechanism, r.ok);
        (r.ok ? worked : failed).append(r.mechanism.isEmpty() ? mech : r.mechanism);
        end(std::move(c));
    }
    if (cancelled()) {
        end(std::move(summary), false);
        return;
    }
    summary.data.insert(QStringLiteral("worked"), worked);
    summary.data.insert(QStringLiteral("failed"), failed);
    const QString chosen = m_o.mechanism.toUpper();
    if (!chosen.isEmpty() && !offered.contains(chosen)) {
        summary.verdict = Verdict::Fail;
        summary.summary = QStringLiteral("%1, the mechanism chosen, is not offered (the server offers %2)")
                              .arg(chosen, offered.join(u' '));
        summary.fix = QStringLiteral("choose one of the offered mechanisms, or leave the choice to SMTP Scope");
    } else if (!chosen.isEmpty() && results.contains(chosen)) {
        summary.verdict = results.value(chosen) ? Verdict::Pass : Verdict::Fail;
        summary.summary = results.value(chosen)
            ? QStringLiteral("logging in as %1 works with %2").arg(m_o.user, chosen)
            : QStringLiteral("logging in as %1 with %2 fails").arg(m_o.user, chosen);
        if (!results.value(chosen))
            summary.fix = QStringLiteral("check the user name and password (the user name is often the whole "
                                         "address); the server's log says why it refused them");
    } else if (!worked.isEmpty()) {
        summary.verdict = Verdict::Pass;
        summary.summary = QStringLiteral("logging in as %1 works with %2%3")
                              .arg(m_o.user, worked.join(QStringLiteral(", ")),
                                   failed.isEmpty() ? QString()
                                                    : QStringLiteral(" (not with %1)").arg(failed.join(QStringLiteral(", "))));
    } else if (failed.isEmpty()) {
        summary.verdict = Verdict::Skipped;
        summary.summary = QStringLiteral("no offered mechanism could be tried with the credentials given");
    } else {
        summary.verdict = Verdict::Fail;
        summary.summary = QStringLiteral("logging in as %1 failed with every mechanism tried (%2)")
                              .arg(m_o.user, failed.join(QStringLiteral(", ")));
        summary.fix = QStringLiteral("check the user name and password (the user name is often the whole "
                                     "address); the server's log says which it refused");
    }
    end(std::move(summary), false);
}

// ---------------------------------------------------------------- extensions

void Run::stepExtensions()
{
    const QStringList ids = {QStringLiteral("ext:PIPELINING"), QStringLiteral("ext:SIZE"),
                             QStringLiteral("ext:8BITMIME"), QStringLiteral("ext:SMTPUTF8"),
                             QStringLiteral("ext:DSN"), QStringLiteral("ext:CHUNKING")};
    if (!m_o.exerciseExtensions) {
        for (const QString &id : ids)
            skip(id, QStringLiteral("not run: the extension exercise is turned off"));
        return;
    }
    if (!mainUsable()) {
        for (const QString &id : ids)
            skip(id, m_skipReason.isEmpty() ? QStringLiteral("not run: no usable session") : m_skipReason);
        return;
    }
    const Smtp::Capabilities caps = currentCapabilities();
    // RFC 5321 4.5.5: the null reverse-path is always a valid sender; RCPT to
    // postmaster must be accepted by every server (RFC 5321 4.5.1).
    QString sender = m_o.mailFrom;
    if (sender.isEmpty() && m_o.user.contains(u'@'))
        sender = m_o.user;
    const bool unsafe = sender.contains(u'\r') || sender.contains(u'\n') || sender.contains(QChar(0))
        || sender.contains(u'>') || sender.contains(u' ');
    if (unsafe)
        sender.clear();
    const QByteArray from = "<" + sender.toUtf8() + ">";
    const QByteArray to = sender.isEmpty() ? QByteArrayLiteral("<postmaster>") : from;

    // ext:SIZE: a declared size above the limit must be refused at MAIL (RFC 1870 6).
    {
        Check c = begin(QStringLiteral("ext:SIZE"));
        const auto limit = caps.sizeLimit();
        if (!caps.size()) {
            c.verdict = Verdict::Info;
            c.summary = QStringLiteral("SIZE is not advertised: clients learn that a message is too big only after "
                                       "uploading it (RFC 1870)");
        } else if (!limit || *limit == 0) {
            c.verdict = Verdict::Info;
            c.summary = QStringLiteral("SIZE is advertised without a fixed limit");
        } else {
            c.data.insert(QStringLiteral("limit"), qulonglong(*limit));
            auto reply = command("MAIL FROM:" + from + " SIZE=" + QByteArray::number(qulonglong(*limit + 1)));
            if (reply && (reply->code == 552 || (reply->klass() >= 4 && reply->enhanced.subject == 3
                                                 && reply->enhanced.detail == 4))) {
                c.verdict = Verdict::Pass;
                c.summary = QStringLiteral("limit %1 bytes (%2 MB); a MAIL declaring one byte more is refused at "
                                           "once: %3")
                                .arg(qulonglong(*limit))
                                .arg(double(*limit) / 1048576.0, 0, 'f', 1)
                                .arg(replyText(*reply));
            } else if (reply && reply->klass() >= 4) {
                c.verdict = Verdict::Warn;
                c.summary = QStringLiteral("limit %1 bytes; a MAIL over it is refused, but not with 552 (RFC 1870 6): "
                                           "%2")
                                .arg(qulonglong(*limit))
                                .arg(replyText(*reply));
            } else if (reply) {
                c.verdict = Verdict::Fail;
                c.summary = QStringLiteral("the server advertises SIZE %1 but accepted a MAIL declaring %2 bytes: "
                                           "clients will upload too-big messages before being refused")
                                .arg(qulonglong(*limit))
                                .arg(qulonglong(*limit + 1));
                c.fix = QStringLiteral("check that the advertised SIZE matches the real limit "
                                       "(Postfix: message_size_limit)");
            } else {
                c.verdict = Verdict::Warn;
                c.summary = QStringLiteral("no answer to MAIL with SIZE");
            }
            if (reply)
                c.detail = replyText(*reply);
            command("RSET");
        }
        end(std::move(c));
    }

    // One transaction with every advertised parameter, ended by RSET: never DATA.
    QByteArray mail = "MAIL FROM:" + from;
    QByteArray rcpt = "RCPT TO:" + to;
    if (caps.size())
        mail += " SIZE=1024";
    if (caps.eightBitMime())
        mail += " BODY=8BITMIME"; // RFC 6152 2
    if (caps.smtpUtf8())
        mail += " SMTPUTF8";      // RFC 6531 3.4
    if (caps.dsn()) {
        mail += " RET=HDRS ENVID=smtpscope-check"; // RFC 3461 4.3, 4.4
        rcpt += " NOTIFY=NEVER";                   // RFC 3461 4.1
    }
    const qint64 txStart = nowUs();
    QList<Smtp::Reply> replies;
    if (caps.pipelining()) {
        // RFC 2920 3.1: MAIL and RCPT may go in one group; replies come in order.
        replies = m_main->pipeline({mail, rcpt}, m_o.readTimeoutMs);
    } else {
        auto m = command(mail);
        if (m) {
            replies.append(*m);
            if (m->isPositiveCompletion()) {
                if (auto r = command(rcpt))
                    replies.append(*r);
            }
        }
    }
    const qint64 txUs = nowUs() - txStart;
    const std::optional<Smtp::Reply> mailReply = replies.size() > 0 ? std::optional(replies.at(0)) : std::nullopt;
    const std::optional<Smtp::Reply> rcptReply = replies.size() > 1 ? std::optional(replies.at(1)) : std::nullopt;
    command("RSET");

    const bool mailOk = mailReply && mailReply->isPositiveCompletion();
    // A refusal for policy (AUTH needed, relaying denied: RFC 3463 X.7.Y) says
    // nothing about the parameters.
    const bool mailPolicy = mailReply && !mailOk
        && (mailReply->code == 530 || mailReply->enhanced.subject == 7);
    const QString mailText = mailReply ? replyText(*mailReply) : QStringLiteral("no answer");

    // When the combined MAIL is refused for its syntax, each parameter alone
    // finds the one the server does not take.
    auto paramAccepted = [&](const QByteArray &param) -> std::optional<bool> {
        if (mailOk)
            return true;
        if (!mailReply || mailPolicy)
            return std::nullopt;
        auto r = command("MAIL FROM:" + from + " " + param);
        command("RSET");
        if (!r)
            return std::nullopt;
        return r->isPositiveCompletion();
    };

    {
        Check c = begin(QStringLiteral("ext:PIPELINING"));
        c.durationUs = txUs;
        if (!caps.pipelining()) {
            c.verdict = Verdict::Info;
            c.summary = QStringLiteral("PIPELINING is not advertised: every command waits for its reply (one "
                                       "round trip each)");
        } else if (replies.size() == 2) {
            c.verdict = Verdict::Pass;
            c.summary = QStringLiteral("MAIL and RCPT sent in one write were answered in order (%1, %2) in %3")
                            .arg(replies.at(0).code)
                            .arg(replies.at(1).code)
                            .arg(msText(txUs));
        } else {
            c.verdict = Verdict::Fail;
            c.summary = QStringLiteral("PIPELINING is advertised, but MAIL and RCPT sent together got %1 "
                                       "replies instead of 2 (RFC 2920 3.1)")
                            .arg(replies.size());
            c.fix = QStringLiteral("stop advertising PIPELINING, or fix the server's command handling");
        }
        end(std::move(c), false);
    }
    auto paramCheck = [&](const QString &id, bool advertised, const QByteArray &param, const QString &what) {
        Check c = begin(id);
        if (!advertised) {
            c.verdict = Verdict::Info;
            c.summary = QStringLiteral("%1 is not advertised: %2").arg(id.mid(4), what);
            end(std::move(c), false);
            return;
        }
        const auto ok = paramAccepted(param);
        if (!ok) {
            c.verdict = Verdict::Skipped;
            c.summary = QStringLiteral("advertised; not exercised: MAIL was refused for another reason (%1)").arg(mailText);
        } else if (*ok) {
            c.verdict = Verdict::Pass;
            c.summary = QStringLiteral("advertised, and MAIL FROM with %1 was accepted").arg(QString::fromLatin1(param));
        } else {
            c.verdict = Verdict::Fail;
            c.summary = QStringLiteral("advertised, but MAIL FROM with %1 was refused").arg(QString::fromLatin1(param));
            c.fix = QStringLiteral("stop advertising %1 or accept its parameter").arg(id.mid(4));
        }
        c.detail = QStringLiteral("MAIL: %1").arg(mailText);
        end(std::move(c), false);
    };
    paramCheck(QStringLiteral("ext:8BITMIME"), caps.eightBitMime(), "BODY=8BITMIME",
               QStringLiteral("8-bit text must be encoded (quoted-printable or base64) by clients"));
    paramCheck(QStringLiteral("ext:SMTPUTF8"), caps.smtpUtf8(), "SMTPUTF8",
               QStringLiteral("addresses with non-ASCII characters cannot be used (RFC 6531)"));
    {
        Check c = begin(QStringLiteral("ext:DSN"));
        if (!caps.dsn()) {
            c.verdict = Verdict::Info;
            c.summary = QStringLiteral("DSN is not advertised: senders cannot ask for delivery notices (RFC 3461)");
        } else {
            const auto ok = paramAccepted("RET=HDRS ENVID=smtpscope-check");
            const QString rcptText = rcptReply ? replyText(*rcptReply) : QStringLiteral("not sent");
            c.detail = QStringLiteral("MAIL: %1\nRCPT: %2").arg(mailText, rcptText);
            if (!ok) {
                c.verdict = Verdict::Skipped;
                c.summary = QStringLiteral("advertised; not exercised: MAIL was refused for another reason (%1)")
                                .arg(mailText);
            } else if (!*ok) {
                c.verdict = Verdict::Fail;
                c.summary = QStringLiteral("advertised, but MAIL FROM with RET and ENVID was refused");
                c.fix = QStringLiteral("stop advertising DSN or accept its parameters");
            } else if (rcptReply && !rcptReply->isPositiveCompletion()
                       && (rcptReply->code == 555 || rcptReply->code == 501 || rcptReply->code == 504)) {
                c.verdict = Verdict::Fail;
                c.summary = QStringLiteral("advertised, but RCPT with NOTIFY was refused: %1").arg(rcptText);
                c.fix = QStringLiteral("stop advertising DSN or accept NOTIFY (RFC 3461 4.1)");
            } else if (rcptReply && rcptReply->isPositiveCompletion()) {
                c.verdict = Verdict::Pass;
                c.summary = QStringLiteral("advertised; RET/ENVID on MAIL and NOTIFY on RCPT were accepted");
            } else {
                c.verdict = Verdict::Pass;
                c.summary = QStringLiteral("advertised; RET/ENVID on MAIL were accepted (RCPT was refused for "
                                           "another reason, so NOTIFY is untested: %1)")
                                .arg(rcptText);
            }
        }
        end(std::move(c), false);
    }
    {
        Check c = begin(QStringLiteral("ext:CHUNKING"));
        c.verdict = Verdict::Info;
        c.summary = caps.chunking()
            ? QStringLiteral("CHUNKING (BDAT, RFC 3030) is advertised; not exercised, as BDAT would submit a message")
            : QStringLiteral("CHUNKING is not advertised: clients send messages with DATA");
        end(std::move(c), false);
    }
}

// ---------------------------------------------------------------- relay and QUIT

void Run::stepRelay()
{
    if (!m_o.relayCheck) {
        skip(QStringLiteral("relay"), QStringLiteral("not run: the open-relay check needs your consent "
                                                     "(relay check option)"));
        return;
    }
    if (!mainUsable()) {
        skip(QStringLiteral("relay"), m_skipReason.isEmpty() ? QStringLiteral("not run: no usable session") : m_skipReason);
        return;
    }
    Check c = begin(QStringLiteral("relay"));
    const auto safe = [](const QString &a) {
        return !a.isEmpty() && !a.contains(u'\r') && !a.contains(u'\n') && !a.contains(QChar(0)) && !a.contains(u'>')
            && !a.contains(u' ');
    };
    if (!safe(m_o.relayFrom) || !safe(m_o.relayTo)) {
        c.verdict = Verdict::Skipped;
        c.summary = QStringLiteral("not run: the relay test addresses are not valid");
        end(std::move(c));
        return;
    }
    // Without AUTH, from an outside domain to an outside domain; RSET, never DATA.
    auto mail = command("MAIL FROM:<" + m_o.relayFrom.toUtf8() + ">");
    std::optional<Smtp::Reply> rcpt;
    if (mail && mail->isPositiveCompletion())
        rcpt = command("RCPT TO:<" + m_o.relayTo.toUtf8() + ">");
    command("RSET");
    c.detail = QStringLiteral("MAIL FROM:<%1>: %2\nRCPT TO:<%3>: %4")
                   .arg(m_o.relayFrom, mail ? replyText(*mail) : QStringLiteral("no answer"), m_o.relayTo,
                        rcpt ? replyText(*rcpt) : QStringLiteral("not sent"));
    c.data.insert(QStringLiteral("from"), m_o.relayFrom);
    c.data.insert(QStringLiteral("to"), m_o.relayTo);
    if (rcpt && rcpt->isPositiveCompletion()) {
        c.verdict = Verdict::Fail;
        c.summary = QStringLiteral("open relay: without AUTH the server accepted mail from %1 to %2 (%3). If "
                                   "this address (%4) is in the server's trusted networks (Postfix mynetworks) "
                                   "that is expected from here, but check from outside: anyone else would be "
                                   "relayed too if not")
                        .arg(m_o.relayFrom, m_o.relayTo, replyText(*rcpt), m_ep.address);
        c.fix = QStringLiteral("relay only for authenticated users and your own networks (Postfix: "
                               "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, "
                               "reject_unauth_destination, with mynetworks limited to your own hosts)");
    } else if (rcpt || (mail && !mail->isPositiveCompletion())) {
        const Smtp::Reply &r = rcpt ? *rcpt : *mail;
        c.verdict = Verdict::Pass;
        c.summary = QStringLiteral("relaying from %1 to %2 without AUTH is refused: %3")
                        .arg(m_o.relayFrom, m_o.relayTo, replyText(r));
    } else {
        c.verdict = Verdict::Warn;
        c.summary = QStringLiteral("the relay test got no answer, so it tells nothing");
    }
    end(std::move(c));
}

void Run::stepQuit()
{
    if (!m_main || !m_main->isOpen()) {
        skip(QStringLiteral("quit"), m_skipReason.isEmpty() ? QStringLiteral("not run: the connection is closed")
                                                            : m_skipReason);
        return;
    }
    Check c = begin(QStringLiteral("quit"));
    auto reply = command("QUIT");
    if (reply && reply->code == 221) {
        c.verdict = Verdict::Pass;
        c.summary = QStringLiteral("QUIT answered: %1").arg(replyText(*reply));
    } else {
        // RFC 5321 4.1.1.10: the server MUST send 221 before closing.
        c.verdict = Verdict::Warn;
        c.summary = reply ? QStringLiteral("QUIT got %1 instead of 221").arg(replyText(*reply))
                          : QStringLiteral("the server closed or stayed silent instead of answering QUIT with 221");
        c.fix = QStringLiteral("nothing urgent: clients cope, but a server should answer QUIT (RFC 5321 4.1.1.10)");
    }
    m_main->close();
    end(std::move(c));
}

void Run::finish()
{
    const QString why = cancelled() ? QStringLiteral("cancelled")
                                    : (m_skipReason.isEmpty() ? QStringLiteral("not run") : m_skipReason);
    for (const QString &id : checkIds()) {
        if (!m_done.contains(id))
            skip(id, why);
    }
    if (m_main) {
        m_main->close();
        setActive(nullptr);
    }
}

Endpoint Run::exec()
{
    m_ep.reachable = false;
    m_ep.address.clear();
    m_ep.greeting.clear();
    m_ep.greetingName.clear();
    m_ep.ehloName.clear();
    m_ep.capabilitiesBeforeTls.clear();
    m_ep.capabilitiesAfterTls.clear();
    m_ep.implicitTlsSpoken = false;
    m_ep.tls = TlsInfo();
    m_ep.tlsVersionsAccepted.clear();
    m_ep.tlsVersionsRefused.clear();
    m_ep.tlsVersionsUntestable.clear();
    m_ep.transcript.clear();

    // Each step runs only while the previous ones left a session to work on;
    // finish() names the rest as skipped.
    if (!cancelled() && stepTcp() && !cancelled() && stepTlsMode() && !cancelled() && stepGreeting()
        && !cancelled() && stepEhlo() && !cancelled()) {
        stepStartTls();
        if (m_tlsUp && m_main) {
            m_ep.tls = m_main->tlsInfo();
            m_ep.tls.verificationEnabled = !m_o.insecure;
        }
        if (!cancelled())
            stepEhloAfterTls();
        if (!cancelled())
            stepAuthBeforeTls();
        if (!cancelled())
            stepTlsProtocol();
        if (!cancelled())
            stepTlsVersions();
        if (!cancelled())
            stepCertificates();
        if (!cancelled())
            stepAuth();
        if (!cancelled())
            stepExtensions();
        if (!cancelled())
            stepRelay();
        if (!cancelled())
            stepQuit();
    }
    if (m_main && m_main->tlsInfo().encrypted && !m_ep.tls.encrypted) {
        m_ep.tls = m_main->tlsInfo();
        m_ep.tls.verificationEnabled = !m_o.insecure;
    }
    finish();
    return m_ep;
}

} // namespace

// ---------------------------------------------------------------- ServerChecker

ServerChecker::ServerChecker(CheckOptions options)
    : d(std::make_unique<Private>())
{
    d->options = std::move(options);
}

ServerChecker::~ServerChecker() = default;

void ServerChecker::setCheckFunction(CheckFunction f)
{
    d->checkFunction = std::move(f);
}

void ServerChecker::setTranscriptFunction(TranscriptFunction f)
{
    d->transcriptFunction = std::move(f);
}

Endpoint ServerChecker::run(const Endpoint &endpoint, const QElapsedTimer &clock, QList<Check> *checks)
{
    QList<Check> local;
    Run r(d->options, d->checkFunction, d->transcriptFunction, &d->cancelled, &d->activeMutex, &d->activeDialog,
          &d->activeClient, clock, checks ? checks : &local, endpoint);
    return r.exec();
}

void ServerChecker::cancel()
{
    d->cancelled.store(true);
    const QMutexLocker lock(&d->activeMutex);
    if (d->activeDialog)
        d->activeDialog->interrupt();
    if (d->activeClient)
        d->activeClient->cancel();
}

bool ServerChecker::isCancelled() const
{
    return d->cancelled.load();
}

} // namespace Diagnostics
