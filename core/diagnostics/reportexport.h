#pragma once
// A diagnosis report for people and programs: JSON, a self-contained HTML page
// (inline CSS and SVG, no script, no external resource: it opens in any browser on
// its own, offline), the timing waterfall as data, and the command lines that
// reproduce the session by hand (`smtpscope send` and swaks), secrets left out.

#include "diagnosticreport.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace Diagnostics {

// Report::toVariantMap() as indented UTF-8 JSON.
[[nodiscard]] QByteArray toJson(const Report &report);

// One HTML document: summary (overall verdict and counts), the checklist grouped
// by scope with each verdict, sentence and fix, capabilities before/after TLS side
// by side, TLS and certificate chain, the waterfall as inline SVG, the domain
// records, the command lines, and the transcripts. Every text is HTML-escaped.
[[nodiscard]] QByteArray toHtml(const Report &report);

// Bars of the waterfall: one per timed check (durationUs > 0), in start order.
struct WaterfallBar
{
    QString label;   // "587 certificate-chain" style: short port + id
    QString scope;
    qint64 startUs = 0;
    qint64 durationUs = 0;
    Verdict verdict = Verdict::Info;
};
[[nodiscard]] QList<WaterfallBar> waterfall(const Report &report);

// For each reached endpoint: the `smtpscope send` and `swaks` commands that open
// the same kind of session (host, port, TLS mode, TLS name, CA file, AUTH user and
// mechanism; the password by file or prompt, never inline). Quoted for a POSIX shell.
[[nodiscard]] QStringList commandLines(const Report &report, const QString &caFile = {});

} // namespace Diagnostics
