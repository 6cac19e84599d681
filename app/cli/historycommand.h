#pragma once
// `smtpscope history`: the sessions `send`, `probe` and the window stored in the
// history database (core/store), listed or shown one at a time.
//
//   smtpscope history [--json] [--last N] [--server S] [--outcome O] [--kind K] [--search TEXT]
//   smtpscope history show ID [--json]
//
// Output contract (docs/cli.md): the list, the session and the JSON documents go
// to stdout; errors go to stderr. A stored session never holds a password: the
// transcript is the engine's redacted one, and the message bytes are not printed.
//
// The Recorder below is how `send` and `probe` store their sessions: --history
// FILE and --no-history are declared by declareRecordingOptions(). Storing is
// best effort: a failure is a warning on stderr, never a failed send.

#include "store/sessionrecord.h"

#include <QString>
#include <QStringList>

#include <memory>

class QCommandLineParser;

namespace Store {
class HistoryStore;
}

namespace Cli {

class HistoryCommand
{
public:
    // `arguments`: what follows "history" on the command line. Returns the exit code.
    [[nodiscard]] int run(const QStringList &arguments);

    // --history FILE and --no-history, for send and probe.
    static void declareRecordingOptions(QCommandLineParser &parser);

    // Stores the sessions of one send or probe run. Opens the database on the
    // first add(), so that a run that stores nothing never creates the file.
    class Recorder
    {
    public:
        // `command` names the subcommand in warnings ("send", "probe").
        explicit Recorder(QString command);
        ~Recorder();
        Q_DISABLE_COPY_MOVE(Recorder)

        // Reads --history / --no-history; false with *error on a bad combination.
        bool read(const QCommandLineParser &parser, QString *error);
        [[nodiscard]] bool enabled() const { return !m_path.isEmpty(); }
        [[nodiscard]] QString path() const { return m_path; }
        // With --show-secrets the engine's transcript carries the AUTH data: the
        // history must not (sessionrecord.h), so add() redacts it again.
        void setRedactSecrets(bool on) { m_redactSecrets = on; }

        // Adds the record (source "cli"); returns its id, or 0 when disabled or
        // when it could not be stored (then one warning on stderr says why).
        qint64 add(Store::SessionRecord record);

    private:
        QString m_command;
        QString m_path; // empty: --no-history
        std::unique_ptr<Store::HistoryStore> m_store;
        bool m_failed = false; // warned once: no further attempts
        bool m_redactSecrets = false;
    };

    // The transcript with the AUTH exchange redacted as the engine does without
    // --show-secrets: "AUTH MECH <redacted>" and "<redacted SASL response>".
    [[nodiscard]] static QList<TranscriptEntry> redactAuth(QList<TranscriptEntry> transcript);
};

} // namespace Cli
