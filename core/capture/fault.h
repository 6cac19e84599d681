#pragma once
// Scripted faults of the capture server: predictable failures at a
// chosen step, rather than random chaos. Parsed from the same text in the UI and
// on the command line (smtpscope serve --fault SPEC).
//
// SPEC grammar (case-insensitive step names, fields separated by ':'):
//   STEP[=RECIPIENT][:every=N][:delay=MS | :disconnect | :CODE TEXT]
// STEP: greeting, ehlo, starttls, auth, mail, rcpt, data, eod (end of data).
// Examples:
//   "rcpt:550 5.1.1 No such user"           every RCPT refused
//   "rcpt=bob@example.org:550 5.1.1 Gone"  only that recipient
//   "eod:every=3:451 4.3.0 Try again"      every third message deferred
//   "mail:delay=2000"                        MAIL answered after 2 s
//   "data:disconnect"                        connection dropped at DATA
//   "rate=10/min:421"                        more than 10 messages a minute: 421 (or 451)

#include <QString>
#include <optional>

namespace Capture {

struct Fault
{
    enum class Step { Greeting, Ehlo, StartTls, Auth, Mail, Rcpt, Data, EndOfData };
    enum class Action { Reply, Delay, Disconnect, RateLimit };

    Step step = Step::Rcpt;
    Action action = Action::Reply;
    int code = 0;          // Reply / RateLimit: the reply code (RateLimit: 421 or 451)
    QString text;          // Reply: the reply text after the code ("5.1.1 No such user")
    int delayMs = 0;       // Delay: wait this long, then answer normally
    int everyNth = 1;      // applies to every Nth occurrence of the step (per server, counted from 1)
    QString recipient;     // Rcpt only: applies to this address only (case-insensitive)
    int perMinute = 0;     // RateLimit: messages accepted per rolling minute

    // nullopt and *error (naming the part of the spec that is wrong) when invalid.
    [[nodiscard]] static std::optional<Fault> parse(const QString &spec, QString *error);
    [[nodiscard]] QString toString() const; // parse(toString()) gives back the same fault
    [[nodiscard]] static QString stepName(Step step);

    friend bool operator==(const Fault &, const Fault &) = default;
};

} // namespace Capture
