// The machine side of the report exports: JSON, the waterfall as data, and the
// command lines that reproduce each session by hand. The HTML page is in
// reportexport_html.cpp.

#include "reportexport.h"

#include "reportexport_shell.h"

#include <QJsonDocument>
#include <QRegularExpression>

#include <algorithm>

namespace Diagnostics {

namespace ReportExportDetail {

QString shellQuote(const QString &argument)
{
    // Characters no POSIX shell gives a meaning to in a word (XCU 2.2: not an
    // operator, quote, expansion, glob or comment start). '=' is harmless outside
    // the first word; '%' and ',' likewise. '~' is left out: it expands at a word start.
    static const QRegularExpression plain(QStringLiteral("^[A-Za-z0-9_@%+=:,./-]+$"));
    if (plain.match(argument).hasMatch())
        return argument;
    QString quoted = argument;
    quoted.replace(u'\'', QStringLiteral("'\\''"));
    return u'\'' + quoted + u'\'';
}

QString shellJoin(const QStringList &arguments)
{
    QStringList quoted;
    quoted.reserve(arguments.size());
    for (const QString &a : arguments)
        quoted.append(shellQuote(a));
    return quoted.join(u' ');
}

QString formatDurationUs(qint64 us)
{
    if (us >= 1000000)
        return QStringLiteral("%1 s").arg(double(us) / 1e6, 0, 'f', 2);
    return QStringLiteral("%1 ms").arg(double(us) / 1000.0, 0, 'f', 1);
}

QString scopePort(const QString &scope)
{
    // Endpoint::target(): "host:port", IPv6 bracketed ("[::1]:587"). A bare IPv6
    // address ("::1", a dns-ptr scope) has colons but no bracket: no port.
    static const QRegularExpression withPort(QStringLiteral("^(?:\\[[^\\]]*\\]|[^:\\[\\]]+):(\\d{1,5})$"));
    const QRegularExpressionMatch m = withPort.match(scope);
    return m.hasMatch() ? m.captured(1) : QString();
}

} // namespace ReportExportDetail

using namespace ReportExportDetail;

QByteArray toJson(const Report &report)
{
    return QJsonDocument::fromVariant(report.toVariantMap()).toJson(QJsonDocument::Indented);
}

QList<WaterfallBar> waterfall(const Report &report)
{
    QList<WaterfallBar> bars;
    for (const Check &c : report.checks) {
        // A verdict derived from earlier steps took no time of its own: no bar.
        if (c.durationUs <= 0)
            continue;
        const QString port = scopePort(c.scope);
        WaterfallBar b;
        b.label = port.isEmpty() ? c.id : port + u' ' + c.id;
        b.scope = c.scope;
        b.startUs = c.startUs;
        b.durationUs = c.durationUs;
        b.verdict = c.verdict;
        bars.append(b);
    }
    // Checks are listed in the order they ended; the chart wants the order they
    // began. Stable: steps that began together keep their reported order.
    std::stable_sort(bars.begin(), bars.end(),
                     [](const WaterfallBar &a, const WaterfallBar &b) { return a.startUs < b.startUs; });
    return bars;
}

namespace {

// The mechanisms swaks 20201014 speaks (its --help, AUTHENTICATION). Others
// (SCRAM-*, XOAUTH2, OAUTHBEARER) make it exit at option processing.
const QStringList SwaksMechanisms{QStringLiteral("PLAIN"),      QStringLiteral("LOGIN"),
                                  QStringLiteral("CRAM-MD5"),   QStringLiteral("DIGEST-MD5"),
                                  QStringLiteral("CRAM-SHA1"),  QStringLiteral("NTLM")};

bool isTokenMechanism(const QString &mechanism)
{
    return mechanism == u"XOAUTH2" || mechanism == u"OAUTHBEARER";
}

// RFC 3207 2: STARTTLS is an EHLO keyword of its own line.
bool offersStartTls(const QStringList &capabilities)
{
    return std::any_of(capabilities.cbegin(), capabilities.cend(), [](const QString &line) {
        return line.section(u' ', 0, 0).compare(QStringLiteral("STARTTLS"), Qt::CaseInsensitive) == 0;
    });
}

enum class TlsMode { Implicit, StartTls, None };

TlsMode tlsModeOf(const Endpoint &e)
{
    // RFC 8314 3.3: a port that spoke TLS from the first byte is used that way.
    if (e.implicitTlsSpoken || (e.tls.encrypted && e.tls.implicit))
        return TlsMode::Implicit;
    // RFC 3207: offered (or used) STARTTLS is required in the reproduction, so the
    // command fails rather than silently sending in clear.
    if (e.tls.encrypted || offersStartTls(e.capabilitiesBeforeTls))
        return TlsMode::StartTls;
    return TlsMode::None;
}

} // namespace

QStringList commandLines(const Report &report, const QString &caFile)
{
    const QVariantMap &o = report.options;
    const QString ca = caFile.isEmpty() ? o.value(QStringLiteral("ca_file")).toString() : caFile;
    const bool insecure = o.value(QStringLiteral("insecure")).toBool();
    const QString user = o.value(QStringLiteral("user")).toString();
    const QString mechanism = o.value(QStringLiteral("mechanism")).toString().toUpper();
    const QString ehlo = o.value(QStringLiteral("ehlo_name")).toString();
    const bool hasPassword = o.value(QStringLiteral("has_password")).toBool();
    const bool hasToken = o.value(QStringLiteral("has_oauth_token")).toBool();
    // A bearer token is used when it is all there is, or when the chosen
    // mechanism needs one.
    const bool useToken = !user.isEmpty() && hasToken && (!hasPassword || isTokenMechanism(mechanism));
    const bool allowPlaintextAuth = o.value(QStringLiteral("allow_plaintext_auth")).toBool();

    // The envelope: the checklist's own sender when there is one (servercheck.h
    // mailFrom, else the user name when it is an address); otherwise an address in
    // a domain reserved for documentation (RFC 2606) for the user to replace. The
    // message goes to the sender itself, the least surprising recipient.
    QString from = o.value(QStringLiteral("mail_from")).toString();
    if (from.isEmpty() && user.contains(u'@'))
        from = user;
    if (from.isEmpty())
        from = QStringLiteral("smtpscope-test@example.org");
    const QString to = from;
    const QString subject = QStringLiteral("SMTP Scope test");

    QStringList out;
    for (const Endpoint &e : report.endpoints) {
        if (!e.reachable)
            continue;
        const QString host = e.host.isEmpty() ? e.address : e.host;
        const QString port = QString::number(e.port);
        const TlsMode mode = tlsModeOf(e);
        const bool tls = mode != TlsMode::None;
        // The name the certificate was checked against, when it is not the host
        // (a connection to an IP address verified against smtp.example.org).
        const QString tlsName = e.tls.peerVerifyName.compare(host, Qt::CaseInsensitive) == 0
                                    ? QString()
                                    : e.tls.peerVerifyName;

        QStringList s{QStringLiteral("smtpscope"), QStringLiteral("send"), QStringLiteral("--host"), host,
                      QStringLiteral("--port"), port};
        switch (mode) {
        case TlsMode::Implicit:
            s << QStringLiteral("--ssl");
            break;
        case TlsMode::StartTls:
            s << QStringLiteral("--tls");
            break;
        case TlsMode::None:
            s << QStringLiteral("--no-starttls");
            break;
        }
        if (tls && !tlsName.isEmpty())
            s << QStringLiteral("--tls-name") << tlsName;
        if (tls && !ca.isEmpty())
            s << QStringLiteral("--cafile") << ca;
        if (tls && insecure)
            s << QStringLiteral("--insecure");
        if (!ehlo.isEmpty())
            s << QStringLiteral("--ehlo") << ehlo;
        if (!user.isEmpty()) {
            // Secrets by file only: a command line is visible to every local user.
            s << QStringLiteral("--user") << user;
            if (useToken)
                s << QStringLiteral("--oauth-token-file") << QStringLiteral("TOKEN_FILE");
            else
                s << QStringLiteral("--password-file") << QStringLiteral("PASSWORD_FILE");
            if (!mechanism.isEmpty())
                s << QStringLiteral("--auth") << mechanism;
            if (!tls && allowPlaintextAuth)
                s << QStringLiteral("--allow-plaintext-auth");
        }
        s << QStringLiteral("--from") << from << QStringLiteral("--to") << to << QStringLiteral("--subject")
          << subject;
        out.append(shellJoin(s));

        // swaks cannot send a bearer token: no equivalent command for that session.
        if (useToken)
            continue;
        // swaks takes IPv6 literals in brackets (its --server: "[SERVER]:PORT").
        const QString swaksHost = host.contains(u':') ? u'[' + host + u']' : host;
        QStringList w{QStringLiteral("swaks"), QStringLiteral("--server"), swaksHost, QStringLiteral("--port"), port};
        if (mode == TlsMode::Implicit)
            w << QStringLiteral("--tlsc");
        else if (mode == TlsMode::StartTls)
            w << QStringLiteral("--tls");
        if (tls && !insecure) {
            // swaks 20201014 verifies the chain only (it has no host-name option):
            // the name goes out as SNI so the server presents the same certificate.
            w << QStringLiteral("--tls-verify");
            if (!ca.isEmpty())
                w << QStringLiteral("--tls-ca-path") << ca;
        }
        if (tls && !tlsName.isEmpty())
            w << QStringLiteral("--tls-sni") << tlsName;
        if (!ehlo.isEmpty())
            w << QStringLiteral("--ehlo") << ehlo;
        if (!user.isEmpty()) {
            // Without --auth-password swaks prompts for it (never inline). With no
            // mechanism it tries each one the server offers that it can speak.
            if (SwaksMechanisms.contains(mechanism))
                w << QStringLiteral("--auth") << mechanism;
            w << QStringLiteral("--auth-user") << user;
        }
        w << QStringLiteral("--from") << from << QStringLiteral("--to") << to << QStringLiteral("--header")
          << QStringLiteral("Subject: ") + subject;
        out.append(shellJoin(w));
    }
    return out;
}

} // namespace Diagnostics
