// The HTML form of a diagnosis report: one self-contained HTML5 page. Inline CSS
// (light and dark colours, print rules) and inline SVG only: no script, no font,
// no image or style sheet from anywhere, so it opens offline in any browser and
// cannot phone home. Every text that comes from a server, from DNS or from the
// user goes through esc(): a greeting saying "<script>" is shown, never run.

#include "reportexport.h"

#include "reportexport_shell.h"

#include "protocol/printable.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QMap>

#include <algorithm>
#include <cmath>

namespace Diagnostics {

using namespace ReportExportDetail;

namespace {

// HTML 5 13.1.2.6 / 13.1.3: escape the five characters that can end text or an
// attribute. Before that, the escaping rule of protocol/printable.h: C0 controls
// (not allowed in HTML text), C1 controls and the format characters that could
// reorder or hide what the report shows (U+202E) become "\x1b", "\x202e" as
// in the transcript; line feeds stay, they lay out <pre> blocks.
QString esc(const QString &text)
{
    const QString safe = Smtp::safeText(text);
    QString out;
    out.reserve(safe.size() + safe.size() / 8);
    for (const QChar ch : safe) {
        switch (ch.unicode()) {
        case u'&':
            out += QStringLiteral("&amp;");
            break;
        case u'<':
            out += QStringLiteral("&lt;");
            break;
        case u'>':
            out += QStringLiteral("&gt;");
            break;
        case u'"':
            out += QStringLiteral("&quot;");
            break;
        case u'\'':
            out += QStringLiteral("&#39;");
            break;
        default:
            out += ch;
        }
    }
    return out;
}

QString verdictClass(Verdict v)
{
    return QStringLiteral("v-") + verdictName(v);
}

// The verdict as a word and a colour: colour alone would say nothing to
// colour-blind readers or on a black-and-white print.
QString badge(Verdict v)
{
    return QStringLiteral("<span class=\"badge %1\">%2</span>").arg(verdictClass(v), verdictName(v).toUpper());
}

QString ms(qint64 us)
{
    return esc(formatDurationUs(us));
}

const char *const Css = R"css(
:root {
  --bg: #ffffff; --fg: #1b1f24; --muted: #57606a; --border: #d0d7de; --panel: #f6f8fa;
  --pass: #1a7f37; --pass-bg: #dafbe1; --warn: #9a6700; --warn-bg: #fff8c5;
  --fail: #cf222e; --fail-bg: #ffebe9; --info: #0969da; --info-bg: #ddf4ff;
  --skipped: #6e7781; --skipped-bg: #eaeef2; --changed: #fff8c5;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #8d96a0; --border: #30363d; --panel: #161b22;
    --pass: #3fb950; --pass-bg: #12261e; --warn: #d29922; --warn-bg: #272115;
    --fail: #f85149; --fail-bg: #2d1214; --info: #58a6ff; --info-bg: #0c2d6b;
    --skipped: #8b949e; --skipped-bg: #21262d; --changed: #3b2e0a;
  }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 78rem; padding: 1.5rem; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .6rem; border-bottom: 1px solid var(--border); padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { border: 1px solid var(--border); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--panel); }
tr { break-inside: avoid; }
pre, code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .85rem; }
pre { background: var(--panel); border: 1px solid var(--border); padding: .5rem .7rem; overflow-x: auto;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.badge { display: inline-block; min-width: 4.8em; text-align: center; font-weight: 700; font-size: .8rem;
  padding: .05rem .4rem; border-radius: .3rem; border: 1px solid currentColor; letter-spacing: .03em; }
.v-pass { color: var(--pass); background: var(--pass-bg); }
.v-warn { color: var(--warn); background: var(--warn-bg); }
.v-fail { color: var(--fail); background: var(--fail-bg); }
.v-info { color: var(--info); background: var(--info-bg); }
.v-skipped { color: var(--skipped); background: var(--skipped-bg); }
.banner { border: 2px solid var(--fail); background: var(--fail-bg); padding: .5rem .8rem; margin: .6rem 0; }
.summary-line { font-size: 1.1rem; margin: .6rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .4rem 0 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.problem { border-left: .35rem solid var(--border); padding: .3rem .8rem; margin: .6rem 0; background: var(--panel); }
.problem.v-fail { border-left-color: var(--fail); }
.problem.v-warn { border-left-color: var(--warn); }
.problem { color: var(--fg); }
.problem h3 { margin: .2rem 0; }
tr.diff-changed td, tr.diff-added td, tr.diff-removed td { background: var(--changed); }
.diff { font-weight: 700; }
svg.waterfall { width: 100%; height: auto; font: 11px system-ui, "DejaVu Sans", sans-serif; }
svg.waterfall text { fill: var(--fg); }
svg.waterfall .axis { stroke: var(--muted); stroke-width: 1; }
svg.waterfall .grid { stroke: var(--border); stroke-width: 1; }
svg.waterfall rect.bar { stroke: none; }
svg.waterfall rect.v-pass { fill: var(--pass); }
svg.waterfall rect.v-warn { fill: var(--warn); }
svg.waterfall rect.v-fail { fill: var(--fail); }
svg.waterfall rect.v-info { fill: var(--info); }
svg.waterfall rect.v-skipped { fill: var(--skipped); }
details { margin: .4rem 0; }
summary { cursor: pointer; }
.kv th { width: 12rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; }
  .problem, table, svg { break-inside: avoid; }
  pre { white-space: pre-wrap; }
}
)css";

// Generic rendering of the JSON-like values of the domain records and options:
// maps as key/value tables, lists as lists, scalars as text. Bounded in depth so
// a pathological value cannot blow the page up.
QString renderValue(const QVariant &value, int depth = 0);

QVariant normalised(const QVariant &v)
{
    // Values read back from JSON arrive as QJsonValue/Object/Array.
    switch (v.metaType().id()) {
    case QMetaType::QJsonValue:
        return v.toJsonValue().toVariant();
    case QMetaType::QJsonObject:
        return v.toJsonObject().toVariantMap();
    case QMetaType::QJsonArray:
        return v.toJsonArray().toVariantList();
    default:
        return v;
    }
}

bool isMap(const QVariant &v)
{
    return v.metaType().id() == QMetaType::QVariantMap || v.metaType().id() == QMetaType::QVariantHash;
}

bool isList(const QVariant &v)
{
    return v.metaType().id() == QMetaType::QVariantList || v.metaType().id() == QMetaType::QStringList;
}

QVariantMap asMap(const QVariant &v)
{
    if (v.metaType().id() == QMetaType::QVariantHash) {
        QVariantMap m;
        const QVariantHash h = v.toHash();
        for (auto it = h.cbegin(); it != h.cend(); ++it)
            m.insert(it.key(), it.value());
        return m;
    }
    return v.toMap();
}

QString scalarText(const QVariant &v)
{
    if (!v.isValid() || v.isNull())
        return QStringLiteral("<span class=\"muted\">(none)</span>");
    if (v.metaType().id() == QMetaType::Bool)
        return v.toBool() ? QStringLiteral("yes") : QStringLiteral("no");
    const QString s = v.toString();
    if (s.isEmpty())
        return QStringLiteral("<span class=\"muted\">(empty)</span>");
    return esc(s);
}

QString renderValue(const QVariant &raw, int depth)
{
    constexpr int MaxDepth = 8;
    const QVariant v = normalised(raw);
    if (depth > MaxDepth)
        return QStringLiteral("<span class=\"muted\">(nested too deep)</span>");
    if (isMap(v)) {
        const QVariantMap m = asMap(v);
        if (m.isEmpty())
            return QStringLiteral("<span class=\"muted\">(none)</span>");
        QString out = QStringLiteral("<table class=\"kv\">");
        for (auto it = m.cbegin(); it != m.cend(); ++it)
            out += QStringLiteral("<tr><th>%1</th><td>%2</td></tr>").arg(esc(it.key()), renderValue(it.value(), depth + 1));
        return out + QStringLiteral("</table>");
    }
    if (isList(v)) {
        const QVariantList l = v.toList();
        if (l.isEmpty())
            return QStringLiteral("<span class=\"muted\">(none)</span>");
        QString out = QStringLiteral("<ul>");
        for (const QVariant &item : l)
            out += QStringLiteral("<li>%1</li>").arg(renderValue(item, depth + 1));
        return out + QStringLiteral("</ul>");
    }
    return scalarText(v);
}

QString fact(const QString &name, const QString &htmlValue)
{
    return QStringLiteral("<dt>%1</dt><dd>%2</dd>").arg(esc(name), htmlValue);
}

QString listOrNone(const QStringList &items)
{
    return items.isEmpty() ? QStringLiteral("<span class=\"muted\">(none)</span>") : esc(items.join(QStringLiteral(", ")));
}

// ------------------------------------------------------------------ sections

QString header(const Report &r)
{
    QString out;
    out += QStringLiteral("<header><h1>SMTP Scope diagnosis: %1</h1>").arg(esc(r.subject));
    const Verdict overall = r.overall();
    QStringList counts;
    for (Verdict v : {Verdict::Fail, Verdict::Warn, Verdict::Pass, Verdict::Info, Verdict::Skipped})
        counts.append(QStringLiteral("%1 %2").arg(r.count(v)).arg(verdictName(v)));
    out += QStringLiteral("<p class=\"summary-line\">Overall: %1 &mdash; %2</p>")
               .arg(badge(overall), esc(counts.join(QStringLiteral(" · "))));
    out += QStringLiteral("<dl class=\"facts\">");
    out += fact(QStringLiteral("Subject"), esc(r.subject));
    out += fact(QStringLiteral("Started"),
                r.started.isValid() ? esc(r.started.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'")))
                                    : QStringLiteral("<span class=\"muted\">(unknown)</span>"));
    out += fact(QStringLiteral("Duration"), ms(r.durationUs));
    out += fact(QStringLiteral("Endpoints"), QString::number(r.endpoints.size()));
    out += QStringLiteral("</dl>");
    if (r.cancelled)
        out += QStringLiteral("<p class=\"banner\"><strong>Cancelled:</strong> the diagnosis was stopped before the "
                              "end; checks that did not run are missing or marked skipped.</p>");
    // ARCHITECTURE.md: every report of a session without verification says so.
    if (r.options.value(QStringLiteral("insecure")).toBool())
        out += QStringLiteral("<p class=\"banner\"><strong>Certificate verification was turned off</strong> for this "
                              "run: the errors below were still recorded, but a client that verifies would have "
                              "refused these connections.</p>");
    return out + QStringLiteral("</header>");
}

QString problems(const Report &r)
{
    QString out = QStringLiteral("<section id=\"problems\"><h2>Problems to fix</h2>");
    int n = 0;
    for (Verdict v : {Verdict::Fail, Verdict::Warn}) {
        for (const Check &c : r.checks) {
            if (c.verdict != v)
                continue;
            ++n;
            out += QStringLiteral("<div class=\"problem %1\"><h3>%2 %3 <span class=\"muted\">%4</span></h3>")
                       .arg(verdictClass(v), badge(v), esc(c.title), esc(c.scope));
            out += QStringLiteral("<p>%1</p>").arg(esc(c.summary));
            if (!c.fix.isEmpty())
                out += QStringLiteral("<p class=\"fix\"><strong>Fix:</strong> %1</p>").arg(esc(c.fix));
            out += QStringLiteral("</div>");
        }
    }
    if (n == 0)
        out += QStringLiteral("<p>Nothing failed and nothing needs attention.</p>");
    return out + QStringLiteral("</section>");
}

QStringList scopesInOrder(const Report &r)
{
    QStringList scopes;
    for (const Check &c : r.checks) {
        if (!scopes.contains(c.scope))
            scopes.append(c.scope);
    }
    return scopes;
}

QString checklist(const Report &r)
{
    QString out = QStringLiteral("<section id=\"checklist\"><h2>Checklist</h2>");
    for (const QString &scope : scopesInOrder(r)) {
        out += QStringLiteral("<h3>%1</h3>").arg(esc(scope));
        out += QStringLiteral("<table class=\"checks\"><thead><tr><th>Verdict</th><th>Check</th><th>What was seen</th>"
                              "<th>Fix</th><th>Time</th></tr></thead><tbody>");
        for (const Check &c : r.checks) {
            if (c.scope != scope)
                continue;
            QString seen = esc(c.summary);
            if (!c.detail.isEmpty())
                seen += QStringLiteral("<details><summary>Details</summary><pre>%1</pre></details>").arg(esc(c.detail));
            const QString time = c.durationUs > 0
                                     ? QStringLiteral("%1<br><span class=\"muted\">at %2</span>").arg(ms(c.durationUs), ms(c.startUs))
                                     : QStringLiteral("<span class=\"muted\">&mdash;</span>");
            out += QStringLiteral("<tr id=\"check-%1\"><td>%2</td><td>%3<br><code class=\"muted\">%4</code></td>"
                                  "<td>%5</td><td>%6</td><td>%7</td></tr>")
                       .arg(esc(QString(scope + u'-' + c.id).replace(u' ', u'_')), badge(c.verdict), esc(c.title),
                            esc(c.id), seen, esc(c.fix), time);
        }
        out += QStringLiteral("</tbody></table>");
    }
    if (r.checks.isEmpty())
        out += QStringLiteral("<p class=\"muted\">No check ran.</p>");
    return out + QStringLiteral("</section>");
}

// RFC 5321 4.1.1.1: each EHLO line after the first is a keyword and its
// parameters; the keyword is compared without case.
QString keywordOf(const QString &line)
{
    return line.section(u' ', 0, 0).section(u'=', 0, 0).toUpper();
}

QString capabilities(const Endpoint &e)
{
    QString out = QStringLiteral("<h3>Capabilities before and after TLS</h3>");
    if (e.capabilitiesBeforeTls.isEmpty() && e.capabilitiesAfterTls.isEmpty())
        return out + QStringLiteral("<p class=\"muted\">No EHLO reply was received.</p>");
    // One row per keyword, in the server's order (before TLS first, then any that
    // only appear after): the change that matters is easy to see.
    QStringList keywords;
    QMap<QString, QString> before;
    QMap<QString, QString> after;
    for (const QString &l : e.capabilitiesBeforeTls) {
        const QString k = keywordOf(l);
        if (!keywords.contains(k))
            keywords.append(k);
        before.insert(k, l);
    }
    for (const QString &l : e.capabilitiesAfterTls) {
        const QString k = keywordOf(l);
        if (!keywords.contains(k))
            keywords.append(k);
        after.insert(k, l);
    }
    const bool hadBefore = !e.capabilitiesBeforeTls.isEmpty() && !e.implicitTlsSpoken;
    const bool hadAfter = !e.capabilitiesAfterTls.isEmpty();
    out += QStringLiteral("<table class=\"caps\"><thead><tr><th>Before TLS</th><th>After TLS</th><th>Difference</th>"
                          "</tr></thead><tbody>");
    for (const QString &k : keywords) {
        const bool inBefore = before.contains(k);
        const bool inAfter = after.contains(k);
        QString cls;
        QString diff;
        if (!hadBefore || !hadAfter) {
            diff = QStringLiteral("<span class=\"muted\">&mdash;</span>");
        } else if (inBefore && inAfter && before.value(k) == after.value(k)) {
            diff = QStringLiteral("<span class=\"muted\">same</span>");
        } else if (inBefore && inAfter) {
            cls = QStringLiteral("diff-changed");
            diff = QStringLiteral("<span class=\"diff\">changed</span>");
        } else if (inAfter) {
            cls = QStringLiteral("diff-added");
            diff = QStringLiteral("<span class=\"diff\">added after TLS</span>");
        } else {
            cls = QStringLiteral("diff-removed");
            diff = QStringLiteral("<span class=\"diff\">removed after TLS</span>");
        }
        out += QStringLiteral("<tr%1><td><code>%2</code></td><td><code>%3</code></td><td>%4</td></tr>")
                   .arg(cls.isEmpty() ? QString() : QStringLiteral(" class=\"%1\"").arg(cls),
                        inBefore ? esc(before.value(k)) : QString(), inAfter ? esc(after.value(k)) : QString(), diff);
    }
    out += QStringLiteral("</tbody></table>");
    if (e.implicitTlsSpoken)
        out += QStringLiteral("<p class=\"muted\">This port speaks TLS from the first byte (RFC 8314): every "
                              "capability was offered inside TLS.</p>");
    else if (!hadAfter)
        out += QStringLiteral("<p class=\"muted\">No TLS session: only the capabilities offered in clear are known.</p>");
    return out;
}

QString tlsSection(const Endpoint &e)
{
    const TlsInfo &t = e.tls;
    QString out = QStringLiteral("<h3>TLS</h3>");
    if (!t.encrypted && t.chain.isEmpty() && t.errors.isEmpty()) {
        out += QStringLiteral("<p class=\"muted\">No TLS session was made on this endpoint.</p>");
    } else {
        out += QStringLiteral("<dl class=\"facts\">");
        out += fact(QStringLiteral("Mode"), t.implicit ? QStringLiteral("implicit TLS (RFC 8314)")
                                                       : QStringLiteral("STARTTLS (RFC 3207)"));
        out += fact(QStringLiteral("Encrypted"), t.encrypted ? QStringLiteral("yes") : QStringLiteral("no"));
        out += fact(QStringLiteral("Protocol"), t.protocol.isEmpty() ? QStringLiteral("<span class=\"muted\">(none)</span>")
                                                                     : esc(t.protocol));
        out += fact(QStringLiteral("Cipher"), t.cipher.isEmpty()
                                                  ? QStringLiteral("<span class=\"muted\">(none)</span>")
                                                  : esc(QStringLiteral("%1 (%2 bits)").arg(t.cipher).arg(t.cipherBits)));
        out += fact(QStringLiteral("Name checked"), esc(t.peerVerifyName));
        out += fact(QStringLiteral("Verification"),
                    !t.verificationEnabled ? QStringLiteral("<strong>turned off by the user</strong>")
                    : t.verified           ? QStringLiteral("chain and name verified")
                                           : QStringLiteral("<strong>failed</strong>"));
        out += QStringLiteral("</dl>");
    }
    if (!e.tlsVersionsAccepted.isEmpty() || !e.tlsVersionsRefused.isEmpty() || !e.tlsVersionsUntestable.isEmpty()) {
        out += QStringLiteral("<table class=\"kv\"><tr><th>Versions accepted</th><td>%1</td></tr>"
                              "<tr><th>Versions refused</th><td>%2</td></tr>"
                              "<tr><th>Not testable from here</th><td>%3</td></tr></table>")
                   .arg(listOrNone(e.tlsVersionsAccepted), listOrNone(e.tlsVersionsRefused),
                        listOrNone(e.tlsVersionsUntestable));
    }
    if (!t.errors.isEmpty()) {
        out += QStringLiteral("<h3>Certificate verification errors</h3><ul>");
        for (const TlsInfo::CertificateError &err : t.errors) {
            out += QStringLiteral("<li><code>%1</code>: %2%3</li>")
                       .arg(esc(err.name), esc(err.reason),
                            err.subject.isEmpty() ? QString() : QStringLiteral(" <span class=\"muted\">(%1)</span>").arg(esc(err.subject)));
        }
        out += QStringLiteral("</ul>");
    }
    if (!t.chain.isEmpty()) {
        // TlsInfo::toVariantMap() formats names, dates and fingerprints once for
        // every export; read them from there.
        const QVariantList chain = t.toVariantMap().value(QStringLiteral("chain")).toList();
        out += QStringLiteral("<h3>Certificate chain (leaf first)</h3>");
        int i = 0;
        for (const QVariant &cv : chain) {
            const QVariantMap c = cv.toMap();
            out += QStringLiteral("<table class=\"kv cert\"><tr><th>#%1 Subject</th><td>%2</td></tr>")
                       .arg(i++)
                       .arg(esc(c.value(QStringLiteral("subject")).toString()));
            out += QStringLiteral("<tr><th>Issuer</th><td>%1%2</td></tr>")
                       .arg(esc(c.value(QStringLiteral("issuer")).toString()),
                            c.value(QStringLiteral("selfSigned")).toBool() ? QStringLiteral(" <strong>(self-signed)</strong>")
                                                                          : QString());
            out += QStringLiteral("<tr><th>Valid</th><td>%1 to %2</td></tr>")
                       .arg(esc(c.value(QStringLiteral("notBefore")).toString()),
                            esc(c.value(QStringLiteral("notAfter")).toString()));
            out += QStringLiteral("<tr><th>Names (SAN)</th><td>%1</td></tr>")
                       .arg(listOrNone(c.value(QStringLiteral("sans")).toStringList()));
            out += QStringLiteral("<tr><th>SHA-256</th><td><code>%1</code></td></tr></table>")
                       .arg(esc(c.value(QStringLiteral("sha256")).toString()));
        }
    }
    return out;
}

QString transcript(const Endpoint &e)
{
    if (e.transcript.isEmpty())
        return {};
    QString out = QStringLiteral("<details class=\"transcript\"><summary>Transcript of %1 (%2 lines)</summary><pre>")
                      .arg(esc(e.target()))
                      .arg(e.transcript.size());
    for (const TranscriptEntry &t : e.transcript) {
        out += esc(QStringLiteral("%1  %2: %3%4\n")
                       .arg(formatDurationUs(t.timeUs), 10)
                       .arg(TranscriptEntry::directionTag(t.direction), t.text,
                            t.encrypted ? QStringLiteral("  [tls]") : QString()));
    }
    return out + QStringLiteral("</pre></details>");
}

QString endpoints(const Report &r)
{
    QString out;
    for (const Endpoint &e : r.endpoints) {
        out += QStringLiteral("<section class=\"endpoint\"><h2>Endpoint %1</h2><dl class=\"facts\">").arg(esc(e.target()));
        out += fact(QStringLiteral("Role"), esc(Endpoint::roleName(e.role)));
        if (!e.source.isEmpty())
            out += fact(QStringLiteral("Found by"), esc(e.source));
        out += fact(QStringLiteral("Reached"), e.reachable ? QStringLiteral("yes") : QStringLiteral("<strong>no</strong>"));
        if (!e.address.isEmpty())
            out += fact(QStringLiteral("Address"), esc(e.address));
        if (!e.addresses.isEmpty())
            out += fact(QStringLiteral("Addresses"), listOrNone(e.addresses));
        if (!e.ptrName.isEmpty())
            out += fact(QStringLiteral("Reverse DNS"), esc(e.ptrName));
        if (!e.greeting.isEmpty())
            out += fact(QStringLiteral("Greeting"), QStringLiteral("<code>%1</code>").arg(esc(e.greeting)));
        if (!e.greetingName.isEmpty())
            out += fact(QStringLiteral("Greeting name"), esc(e.greetingName));
        if (!e.ehloName.isEmpty())
            out += fact(QStringLiteral("EHLO name"), esc(e.ehloName));
        out += QStringLiteral("</dl>");
        if (e.reachable) {
            out += capabilities(e);
            out += tlsSection(e);
        }
        out += transcript(e);
        out += QStringLiteral("</section>");
    }
    return out;
}

// The waterfall as SVG: one row per timed check, bars placed at start and sized
// by duration on one linear time scale, with a millisecond axis on top.
QString waterfallSvg(const Report &r)
{
    const QList<WaterfallBar> bars = waterfall(r);
    QString out = QStringLiteral("<section id=\"waterfall\"><h2>Timing</h2>");
    if (bars.isEmpty())
        return out + QStringLiteral("<p class=\"muted\">No timed step.</p></section>");

    constexpr double Width = 1000;
    constexpr double LabelWidth = 240;
    constexpr double RightMargin = 110;
    constexpr double AxisHeight = 28;
    constexpr double Row = 20;
    constexpr double BarHeight = 13;
    const double plot = Width - LabelWidth - RightMargin;
    qint64 endUs = 1;
    for (const WaterfallBar &b : bars)
        endUs = std::max(endUs, b.startUs + b.durationUs);
    const double scale = plot / double(endUs); // px per microsecond
    const double height = AxisHeight + Row * double(bars.size()) + 6;

    // A tick step of 1, 2 or 5 times a power of ten, for about 8 ticks.
    const double endMs = double(endUs) / 1000.0;
    const double raw = endMs / 8.0;
    const double magnitude = std::pow(10.0, std::floor(std::log10(std::max(raw, 1e-3))));
    double step = magnitude;
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
        if (magnitude * m >= raw) {
            step = magnitude * m;
            break;
        }
    }

    const auto num = [](double v) { return QString::number(v, 'f', 2); };
    out += QStringLiteral("<svg class=\"waterfall\" viewBox=\"0 0 %1 %2\" role=\"img\" aria-label=\"Timing of each "
                          "step, in milliseconds since the diagnosis began\">")
               .arg(num(Width), num(height));
    out += QStringLiteral("<line class=\"axis\" x1=\"%1\" y1=\"%2\" x2=\"%3\" y2=\"%2\"/>")
               .arg(num(LabelWidth), num(AxisHeight - 6), num(LabelWidth + plot));
    for (double t = 0; t <= endMs + step * 1e-9; t += step) {
        const double x = LabelWidth + t * 1000.0 * scale;
        out += QStringLiteral("<line class=\"grid\" x1=\"%1\" y1=\"%2\" x2=\"%1\" y2=\"%3\"/>")
                   .arg(num(x), num(AxisHeight - 10), num(height));
        out += QStringLiteral("<text class=\"tick\" x=\"%1\" y=\"%2\" text-anchor=\"middle\">%3 ms</text>")
                   .arg(num(x), num(AxisHeight - 14), esc(QString::number(t, 'g', 6)));
    }
    double y = AxisHeight;
    for (const WaterfallBar &b : bars) {
        const double x = LabelWidth + double(b.startUs) * scale;
        const double w = std::max(1.0, double(b.durationUs) * scale); // still visible when tiny
        const QString tip = QStringLiteral("%1 (%2): %3 at %4, %5")
                                .arg(b.label, b.scope, formatDurationUs(b.durationUs), formatDurationUs(b.startUs),
                                     verdictName(b.verdict));
        out += QStringLiteral("<text class=\"label\" x=\"%1\" y=\"%2\" text-anchor=\"end\">%3</text>")
                   .arg(num(LabelWidth - 6), num(y + BarHeight - 2), esc(b.label));
        out += QStringLiteral("<rect class=\"bar %1\" x=\"%2\" y=\"%3\" width=\"%4\" height=\"%5\" "
                              "data-start-us=\"%6\" data-duration-us=\"%7\"><title>%8</title></rect>")
                   .arg(verdictClass(b.verdict), num(x), num(y), num(w), num(BarHeight))
                   .arg(b.startUs)
                   .arg(b.durationUs)
                   .arg(esc(tip));
        // Duration and verdict as words next to the bar: the colour is not the
        // only carrier of the verdict.
        out += QStringLiteral("<text class=\"value\" x=\"%1\" y=\"%2\">%3 %4</text>")
                   .arg(num(x + w + 4), num(y + BarHeight - 2), ms(b.durationUs), esc(verdictName(b.verdict)));
        y += Row;
    }
    out += QStringLiteral("</svg></section>");
    return out;
}

QString domain(const Report &r)
{
    if (r.domain.isEmpty())
        return {};
    QString out = QStringLiteral("<section id=\"domain\"><h2>Domain records</h2>");
    // The documented keys first, in the order the checks read them (discovery.h),
    // then anything else discovery added.
    static const QList<QPair<QString, QString>> known{
        {QStringLiteral("mx"), QStringLiteral("MX")},         {QStringLiteral("srv"), QStringLiteral("SRV (RFC 6186)")},
        {QStringLiteral("spf"), QStringLiteral("SPF")},       {QStringLiteral("dmarc"), QStringLiteral("DMARC")},
        {QStringLiteral("mta_sts"), QStringLiteral("MTA-STS")}};
    QStringList done;
    for (const auto &[key, title] : known) {
        if (!r.domain.contains(key))
            continue;
        done.append(key);
        out += QStringLiteral("<h3>%1</h3>%2").arg(esc(title), renderValue(r.domain.value(key)));
    }
    for (auto it = r.domain.cbegin(); it != r.domain.cend(); ++it) {
        if (!done.contains(it.key()))
            out += QStringLiteral("<h3>%1</h3>%2").arg(esc(it.key()), renderValue(it.value()));
    }
    return out + QStringLiteral("</section>");
}

QString commands(const Report &r)
{
    const QStringList lines = r.commandLines.isEmpty() ? commandLines(r) : r.commandLines;
    QString out = QStringLiteral("<section id=\"commands\"><h2>Reproduce by hand</h2>");
    if (lines.isEmpty())
        return out + QStringLiteral("<p class=\"muted\">No endpoint was reached.</p></section>");
    out += QStringLiteral("<p>The same kind of session with <code>smtpscope send</code> and with swaks. Passwords are "
                          "never on a command line: put yours in PASSWORD_FILE (swaks asks for it).</p>");
    for (const QString &l : lines)
        out += QStringLiteral("<pre class=\"command\">%1</pre>").arg(esc(l));
    return out + QStringLiteral("</section>");
}

QString options(const Report &r)
{
    if (r.options.isEmpty())
        return {};
    return QStringLiteral("<section id=\"options\"><details><summary>Settings of this run</summary>%1</details></section>")
        .arg(renderValue(r.options));
}

} // namespace

QByteArray toHtml(const Report &report)
{
    QString html;
    html.reserve(64 * 1024);
    html += QStringLiteral("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                           "<meta name=\"color-scheme\" content=\"light dark\">"
                           "<title>SMTP Scope diagnosis: %1</title><style>")
                .arg(esc(report.subject));
    html += QString::fromLatin1(Css);
    html += QStringLiteral("</style></head><body>\n");
    html += header(report);
    html += QStringLiteral("<main>");
    html += problems(report);
    html += checklist(report);
    html += waterfallSvg(report);
    html += endpoints(report);
    html += domain(report);
    html += commands(report);
    html += options(report);
    html += QStringLiteral("</main><footer class=\"muted\"><p>Made by SMTP Scope.</p></footer></body></html>\n");
    return html.toUtf8();
}

} // namespace Diagnostics
