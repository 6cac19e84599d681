#pragma once
// Incremental parser of SMTP replies (RFC 5321 4.2). Bytes go in as they arrive,
// in chunks of any size; complete replies come out. No I/O.
//
// Policy (documented for the transcript and the fuzz target):
// - A line ends at CRLF. A bare LF also ends a line (some servers send it); a bare
//   CR inside a line is kept as text. Lines are never merged.
// - Each line is 3 digits then ' ' (last line), '-' (more follow), or end of line
//   (last line, "250" alone is legal: RFC 5321 4.2). Anything else is an error.
// - Code must be 200..599 (RFC 5321 4.2: other first digits are fatal) and the same
//   on every line of a multi-line reply, else an error.
// - 8-bit text is kept byte for byte; a NUL byte is an error.
// - Limits: a line over maxLineLength, a reply over maxReplySize bytes or over
//   maxReplyLines lines is an error raised as soon as the limit is passed
//   (no unbounded buffering).
// After an error the parser stays in error: the session must be closed.

#include "reply.h"

#include <QByteArrayView>
#include <QString>

namespace Smtp {

struct ParseError
{
    QString message;   // readable: "reply line longer than 16384 bytes", "reply code 250 then 550 in one reply"
    QByteArray line;   // the offending line (cut to 200 bytes), may be empty
};

class ReplyParser
{
public:
    struct Limits
    {
        qsizetype maxLineLength = 16384;        // bytes, without CRLF
        qsizetype maxReplySize = 1024 * 1024;   // bytes of one reply, all lines
        int maxReplyLines = 10000;
    };

    enum class Status { NeedMore, Reply, Error };

    ReplyParser() = default;
    explicit ReplyParser(Limits limits) : m_limits(limits) { }

    // Appends received bytes. Cheap; parsing happens in next().
    void feed(QByteArrayView data);
    // Extracts the next complete reply into *reply. Returns NeedMore when no
    // complete reply is buffered, Error (and fills *error) on malformed input.
    Status next(Reply *reply, ParseError *error);
    // Bytes buffered but not yet returned as a reply (used to detect data sent
    // between the STARTTLS 220 and the handshake: RFC 3207 4.2, CVE-2021-22947).
    // 0 after an error: input is then dropped, so a flooding peer cannot grow it.
    [[nodiscard]] qsizetype bufferedBytes() const;
    // Drops all buffered input and any error state.
    void reset();

private:
    Limits m_limits;
    // implementation-defined members
    Status fail(const QString &message, QByteArray line, ParseError *error);
    bool completeLine(qsizetype contentEnd, qsizetype lineEnd, ParseError *error);
    bool checkPartialLine(ParseError *error);

    QByteArray m_buffer;
    qsizetype m_pos = 0;        // start of the reply being read (bytes before it are consumed)
    qsizetype m_lineStart = 0;  // start of the line being read
    qsizetype m_scanFrom = 0;   // where the search for the next LF resumes (never rescans)
    Reply m_pending;            // lines of the reply being read
    bool m_replyDone = false;   // m_pending holds a complete reply
    bool m_failed = false;
    ParseError m_error;
};

} // namespace Smtp
