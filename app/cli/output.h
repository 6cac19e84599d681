#pragma once
// What the command line prints: JSON documents for --json (stdout), the
// transcript for --transcript (stderr), and short human-readable pieces.

#include "client/sendresult.h"
#include "client/smtpclient.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QVariantList>
#include <QVariantMap>

#include <optional>

class QCommandLineParser;

namespace Cli::Output {

// Indented JSON text of `map` (or `list`), ending with a newline. Safe for a
// terminal: besides the C0 controls JSON itself escapes, every character of the
// escaping rule (protocol/printable.h: DEL, C1 controls, bidi overrides and the
// other format characters, U+2028/U+2029) is written as a \uXXXX escape, so
// strings keep their exact values for any JSON parser.
[[nodiscard]] QByteArray json(const QVariantMap &map);
[[nodiscard]] QByteArray json(const QVariantList &list);
// The same, compact on one line with a newline: a line of a JSON-lines stream.
[[nodiscard]] QByteArray jsonLine(const QVariantMap &map);

// An event record (events/socketevent.h) or a warning record (events/usagestats.h)
// ready for JSON: the payload bytes ("data"), when present, become "data_base64"
// (exact) and "data_text" (by the escaping rule, for reading); "arg" is left out.
[[nodiscard]] QVariantMap eventForJson(const QVariantMap &record);

// Transcript entries as JSON-friendly maps: {time_us, dir ("client", "server",
// "info", "error"), tls (bool), text}. The engine already redacted secrets.
[[nodiscard]] QVariantList transcript(const QList<TranscriptEntry> &entries);

// One transcript entry as a line: seconds since the session started, the direction tag
// (C client, S server, * local info, ! error) and [tls] when inside TLS; the text, which
// the engine escaped, kept one line (Smtp::safeLine) even when read from a file:
//   "  0.003 S       220 smtp.test ESMTP"
//   "  0.011 C [tls] EHLO localhost"
[[nodiscard]] QString transcriptLine(const TranscriptEntry &entry);
// Prints the client's transcript on stderr as it happens (swaks-like), so a
// server that stalls shows where, long before the timeout ends the session.
void streamTranscript(SmtpClient &client);

// "250 2.0.0 Ok: queued as X" (the first line of the reply text).
[[nodiscard]] QString reply(const ServerReply &r);

// One line on stderr: "smtpscope send: warning: TEXT".
void warning(const QString &command, const QString &text);
// One line on stderr naming the problem, one pointing to --help; returns the
// usage exit code.
[[nodiscard]] int usageError(const QString &command, const QString &text);
// Parses a subcommand's arguments. Returns the exit code when the command is
// already done: --help printed (with the exit codes), or a usage error (an
// unknown option, an unexpected positional argument); nullopt to go on.
[[nodiscard]] std::optional<int> parseArguments(QCommandLineParser &parser, const QString &command,
                                                const QStringList &arguments);
// One line on stderr for a failure; returns `exitCode`.
int failure(const QString &command, const QString &text, int exitCode);

// "12.3 KiB" style sizes, "1.234 s" style durations.
[[nodiscard]] QString bytes(qint64 n);
[[nodiscard]] QString seconds(double s);

} // namespace Cli::Output
