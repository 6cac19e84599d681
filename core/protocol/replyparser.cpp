#include "replyparser.h"

#include <cstring>

// How it works
// ------------
// feed() appends to one buffer. next() searches for the next LF with memchr,
// starting where the previous search stopped (m_scanFrom), so every byte is
// looked at once whatever the chunking: the whole parse is O(n). Each complete
// line is checked and appended to the reply being read (m_pending); the bytes
// of that reply stay in the buffer until its last line arrives, so `raw` is one
// copy. Consumed bytes are dropped in feed() once they are at least half of the
// buffer, which keeps the compaction cost amortised O(1) per byte.
//
// Limits are decided by byte position so the result never depends on how the
// input was split (the fuzz target checks this): a line is "too long" at its
// (maxLineLength+1)-th content byte, a reply is "too big" at its
// (maxReplySize+1)-th byte, and the first of the two positions wins. A partial
// line reports a limit only when no later byte can change which limit was
// passed first; until then at most maxLineLength+1 bytes of it are held.

namespace Smtp {

namespace {

constexpr qsizetype kShownLineBytes = 200;

QByteArray shownLine(const QByteArray &buffer, qsizetype from, qsizetype to)
{
    QByteArray line = buffer.mid(from, qMin(to - from, kShownLineBytes));
    // The cut may end inside a line ending; what is shown is text only.
    while (line.endsWith('\n') || line.endsWith('\r'))
        line.chop(1);
    return line;
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

// RFC 3463 2 (and RFC 2034 4): status-code = class "." subject "." detail, class
// 2 / 4 / 5, subject and detail 1*3digit, followed by one or more spaces (we also
// accept the end of the text). RFC 2034 4: the class must agree with the reply
// code's first digit; a code that does not is not an enhanced status code.
EnhancedStatus parseEnhanced(QByteArrayView text, int replyCode)
{
    EnhancedStatus status;
    const qsizetype n = text.size();
    if (n < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.')
        return status;
    const int klass = text[0] - '0';
    if (klass != replyCode / 100)
        return status;

    qsizetype i = 2;
    auto number = [&](int *value) {
        const qsizetype start = i;
        int v = 0;
        while (i < n && isDigit(text[i]) && i - start < 3)
            v = v * 10 + (text[i++] - '0');
        *value = v;
        return i > start && (i == n || !isDigit(text[i]));
    };
    int subject = 0;
    int detail = 0;
    if (!number(&subject) || i >= n || text[i] != '.')
        return status;
    ++i;
    if (!number(&detail) || (i < n && text[i] != ' '))
        return status;
    status.klass = klass;
    status.subject = subject;
    status.detail = detail;
    return status;
}

} // namespace

void ReplyParser::feed(QByteArrayView data)
{
    // After an error the session is over (header policy); input is dropped so
    // a flooding peer cannot grow the buffer.
    if (m_failed || data.isEmpty())
        return;
    if (m_pos > 0 && m_pos >= m_buffer.size() - m_pos) {
        m_buffer.remove(0, m_pos);
        m_lineStart -= m_pos;
        m_scanFrom -= m_pos;
        m_pos = 0;
    }
    m_buffer.append(data);
}

qsizetype ReplyParser::bufferedBytes() const
{
    return m_buffer.size() - m_pos;
}

void ReplyParser::reset()
{
    m_buffer = QByteArray();
    m_pos = 0;
    m_lineStart = 0;
    m_scanFrom = 0;
    m_pending = Reply();
    m_replyDone = false;
    m_failed = false;
    m_error = ParseError();
}

ReplyParser::Status ReplyParser::fail(const QString &message, QByteArray line, ParseError *error)
{
    m_failed = true;
    m_error.message = message;
    m_error.line = std::move(line);
    // Nothing after an error is parsed again: free the input now.
    m_buffer = QByteArray();
    m_pos = m_lineStart = m_scanFrom = 0;
    m_pending = Reply();
    if (error)
        *error = m_error;
    return Status::Error;
}

ReplyParser::Status ReplyParser::next(Reply *reply, ParseError *error)
{
    if (m_failed) {
        if (error)
            *error = m_error;
        return Status::Error;
    }

    for (;;) {
        const char *data = m_buffer.constData();
        const qsizetype size = m_buffer.size();
        const void *found = m_scanFrom < size
                ? std::memchr(data + m_scanFrom, '\n', size_t(size - m_scanFrom))
                : nullptr;
        if (!found) {
            m_scanFrom = size;
            if (!checkPartialLine(error))
                return Status::Error;
            return Status::NeedMore;
        }

        // RFC 5321 4.2 ends lines with CRLF; a bare LF is accepted as a line end
        // too (header policy, docs/security.md section E), and a CR not followed by LF stays text.
        const qsizetype lf = static_cast<const char *>(found) - data;
        const qsizetype contentEnd = (lf > m_lineStart && data[lf - 1] == '\r') ? lf - 1 : lf;
        if (!completeLine(contentEnd, lf + 1, error))
            return Status::Error;

        if (m_replyDone) {
            m_pending.raw = m_buffer.mid(m_pos, m_lineStart - m_pos);
            m_pos = m_lineStart;
            m_replyDone = false;
            if (reply)
                *reply = std::move(m_pending);
            m_pending = Reply();
            return Status::Reply;
        }
    }
}

bool ReplyParser::checkPartialLine(ParseError *error)
{
    const qsizetype end = m_buffer.size();
    const qsizetype pending = end - m_lineStart;
    const qsizetype lengthAt = m_lineStart + m_limits.maxLineLength;
    const qsizetype sizeAt = m_pos + m_limits.maxReplySize;

    // A final CR may still turn out to be the CR of CRLF, so one more byte than
    // the limit is not yet proof unless that byte is something else.
    const bool lengthPassed = pending > m_limits.maxLineLength + 1
            || (pending == m_limits.maxLineLength + 1 && m_buffer.at(end - 1) != '\r');
    const bool sizePassed = end - m_pos > m_limits.maxReplySize;

    if (lengthPassed && (!sizePassed || lengthAt <= sizeAt)) {
        fail(QStringLiteral("reply line longer than %1 bytes").arg(m_limits.maxLineLength),
             shownLine(m_buffer, m_lineStart, lengthAt + 1), error);
        return false;
    }
    if (sizePassed && sizeAt < lengthAt) {
        fail(QStringLiteral("reply longer than %1 bytes").arg(m_limits.maxReplySize),
             shownLine(m_buffer, m_lineStart, sizeAt + 1), error);
        return false;
    }
    return true;
}

bool ReplyParser::completeLine(qsizetype contentEnd, qsizetype lineEnd, ParseError *error)
{
    const qsizetype start = m_lineStart;
    const qsizetype length = contentEnd - start;

    // Limits first, by position (see the top of this file).
    const qsizetype lengthAt = start + m_limits.maxLineLength;
    const qsizetype sizeAt = m_pos + m_limits.maxReplySize;
    const bool lengthPassed = length > m_limits.maxLineLength;
    const bool sizePassed = lineEnd - m_pos > m_limits.maxReplySize;
    if (lengthPassed && (!sizePassed || lengthAt <= sizeAt)) {
        fail(QStringLiteral("reply line longer than %1 bytes").arg(m_limits.maxLineLength),
             shownLine(m_buffer, start, lengthAt + 1), error);
        return false;
    }
    if (sizePassed) {
        fail(QStringLiteral("reply longer than %1 bytes").arg(m_limits.maxReplySize),
             shownLine(m_buffer, start, sizeAt + 1), error);
        return false;
    }
    if (m_pending.lines.size() + 1 > m_limits.maxReplyLines) {
        fail(QStringLiteral("reply has more than %1 lines").arg(m_limits.maxReplyLines),
             shownLine(m_buffer, start, contentEnd), error);
        return false;
    }

    const char *line = m_buffer.constData() + start;
    // Catalogue E.47: a NUL has no place in reply text (curl refuses it too);
    // it would cut C strings further down and hide what follows.
    if (std::memchr(line, '\0', size_t(length))) {
        fail(QStringLiteral("NUL byte in reply line"), shownLine(m_buffer, start, contentEnd), error);
        return false;
    }
    // RFC 5321 4.2: Reply-line = *( Reply-code "-" [ textstring ] CRLF )
    //                 Reply-code [ SP textstring ] CRLF, Reply-code = 3 digits.
    if (length < 3 || !isDigit(line[0]) || !isDigit(line[1]) || !isDigit(line[2])) {
        fail(QStringLiteral("reply line does not start with a 3-digit code"),
             shownLine(m_buffer, start, contentEnd), error);
        return false;
    }
    const char separator = length > 3 ? line[3] : ' ';
    if (separator != ' ' && separator != '-') {
        fail(QStringLiteral("reply code not followed by a space, '-' or the end of the line"),
             shownLine(m_buffer, start, contentEnd), error);
        return false;
    }
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    // RFC 5321 4.2.1: only 2yz..5yz exist; a client SHOULD treat other first
    // digits as fatal (docs/security.md section E: 199 greeting, 600, 099).
    if (code < 200 || code > 599) {
        fail(QStringLiteral("reply code %1 is outside 200..599").arg(QLatin1String(line, 3)),
             shownLine(m_buffer, start, contentEnd), error);
        return false;
    }
    // RFC 5321 4.2: "the reply code on each of the lines MUST be the same".
    if (!m_pending.lines.isEmpty() && code != m_pending.code) {
        fail(QStringLiteral("reply code %1 then %2 in one reply").arg(m_pending.code).arg(code),
             shownLine(m_buffer, start, contentEnd), error);
        return false;
    }

    // "250" alone and "250 " are both a last line with empty text (RFC 5321 4.2).
    QByteArray text = length > 4 ? QByteArray(line + 4, length - 4) : QByteArray();
    if (m_pending.lines.isEmpty()) {
        m_pending.code = code;
        m_pending.enhanced = parseEnhanced(text, code);
    }
    m_pending.lines.append(std::move(text));
    m_replyDone = separator == ' ';
    m_lineStart = m_scanFrom = lineEnd;
    return true;
}

} // namespace Smtp
