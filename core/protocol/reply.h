#pragma once
// A parsed SMTP reply (RFC 5321 4.2) and its enhanced status code (RFC 3463).

#include <QByteArray>
#include <QList>
#include <QString>

namespace Smtp {

// RFC 3463 2: status-code = class "." subject "." detail
struct EnhancedStatus
{
    int klass = 0;   // 2, 4 or 5; 0 when absent
    int subject = 0; // 0..999
    int detail = 0;  // 0..999

    [[nodiscard]] bool isValid() const { return klass != 0; }
    [[nodiscard]] QString toString() const; // "5.7.1", or empty when absent
    friend bool operator==(const EnhancedStatus &, const EnhancedStatus &) = default;
};

struct Reply
{
    int code = 0;                // 200..599 (the parser rejects anything else)
    QList<QByteArray> lines;     // text of each line after "NNN-" / "NNN " (may be empty), no CR/LF
    EnhancedStatus enhanced;     // parsed from the start of the first line's text when present
    QByteArray raw;              // the exact bytes received for this reply, line endings included

    [[nodiscard]] int klass() const { return code / 100; }               // 2, 3, 4, 5
    [[nodiscard]] bool isPositiveCompletion() const { return klass() == 2; }
    [[nodiscard]] bool isPositiveIntermediate() const { return klass() == 3; }
    [[nodiscard]] bool isTransientFailure() const { return klass() == 4; }
    [[nodiscard]] bool isPermanentFailure() const { return klass() == 5; }
    // All lines joined with '\n', each line's enhanced code kept as sent.
    [[nodiscard]] QByteArray text() const;
    // "250 2.1.0 Ok" style single-line summary for messages (first line only, + " (+N lines)").
    [[nodiscard]] QString summary() const;
};

} // namespace Smtp
