#pragma once
// One stored session (a send, a probe or a diagnosis) as the history keeps it:
// what was asked, what the server said, and how it ended. Never a password or a
// token: profiles are stored by name, transcripts and events are the engine's
// redacted ones.

#include "client/sendresult.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>
#include <QVariantMap>
#include <optional>

namespace Diagnostics {
struct Report;
}

namespace Store {

enum class SessionKind { Send, Probe, Diagnosis };
[[nodiscard]] QString sessionKindName(SessionKind kind); // "send", "probe", "diagnosis"
[[nodiscard]] std::optional<SessionKind> sessionKindFromName(const QString &name);

struct SessionRecord
{
    qint64 id = 0;                 // 0 until stored
    SessionKind kind = SessionKind::Send;
    QDateTime started;             // UTC
    qint64 durationUs = 0;
    QString source;                // "window" or "cli"
    QString profile;               // profile name, or "" (CLI)
    QString target;                // "host:port"
    QString securityMode;          // SendResult::securityMode
    QString user;                  // AUTH user name (never the password)
    // How it ended, one word: send "accepted" (every recipient), "partial" (some
    // refused), "rejected", "failed" (connection, TLS, AUTH, protocol), "cancelled";
    // probe/diagnosis the session's result or the report's overall verdict:
    // "pass", "warn", "fail", "failed", "cancelled".
    QString outcome;
    QString error;                 // the error line, empty when none
    QString subject;               // message Subject, or what a diagnosis was about
    QString from;                  // envelope sender
    QStringList recipients;        // envelope recipients
    // The whole result as JSON-friendly data: SendResult::toVariantMap() (send,
    // probe) or Diagnostics::Report::toVariantMap() (diagnosis). Per-recipient
    // replies, TLS summary, capabilities and timings are read from here.
    QVariantMap result;
    QVariantMap usage;             // SmtpClient::getUsageInfo()
    QList<TranscriptEntry> transcript;
    QList<QVariantMap> events;     // socket events, at most HistoryStore::maxEvents kept
    QByteArray certificateChain;   // peer chain as PEM (leaf first), empty when no TLS
    QByteArray message;            // the .eml as sent when at most HistoryStore::maxMessageBytes, else empty
    qint64 messageBytes = 0;       // its size (also when not kept)
};

// What lists show, without the heavy columns.
struct SessionSummary
{
    qint64 id = 0;
    SessionKind kind = SessionKind::Send;
    QDateTime started;
    qint64 durationUs = 0;
    QString target;
    QString outcome;
    QString subject;
    QString error;
    QString profile;
};

struct SessionFilter
{
    QString server;                // substring of the target
    QStringList outcomes;          // any of these; empty: all
    std::optional<SessionKind> kind;
    QDateTime from, to;            // UTC, inclusive; invalid: open
    QString text;                  // full-text search in transcripts, subject, error (FTS5 syntax-safe: words)
    int limit = 200;
    int offset = 0;                // newest first
};

// Records made from what the engine and the diagnosis return (outcome, error line,
// TLS chain as PEM, recipients, transcript), for the CLI and the window alike.
// `messageBytes` (the .eml as sent) is kept when small enough (see HistoryStore).
[[nodiscard]] SessionRecord recordFromSend(const SendResult &result, SessionKind kind, const QVariantMap &usage = {},
                                           const QByteArray &message = {});
// A diagnosis: outcome = the report's overall verdict (or "cancelled"), result =
// Report::toVariantMap(), transcript = the first endpoint's, chain of the first
// endpoint that had TLS.
[[nodiscard]] SessionRecord recordFromReport(const Diagnostics::Report &report);

} // namespace Store
