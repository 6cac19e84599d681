#pragma once
// Private helpers of reportexport.cpp: POSIX shell quoting and the small
// formatting functions the JSON, HTML and command-line exports share.

#include <QString>
#include <QStringList>

namespace Diagnostics::ReportExportDetail {

// One argument for a POSIX shell (XCU 2.2.2: inside single quotes every
// character is literal, so only the single quote itself needs the '\'' dance).
// Words made only of characters no shell treats specially stay bare, so the
// commands stay readable.
[[nodiscard]] QString shellQuote(const QString &argument);
[[nodiscard]] QString shellJoin(const QStringList &arguments);

// "0.8 ms", "12.3 ms", "1.24 s": durations people read.
[[nodiscard]] QString formatDurationUs(qint64 us);

// The port of a "host:port" / "[v6]:port" scope, empty for a scope without one
// (a domain, an address).
[[nodiscard]] QString scopePort(const QString &scope);

} // namespace Diagnostics::ReportExportDetail
