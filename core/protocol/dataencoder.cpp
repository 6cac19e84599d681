#include "dataencoder.h"

#include <cstring>

// How it works
// ------------
// The body is copied in runs between line breaks. The next CR and the next LF
// are found with memchr and remembered until passed, so every input byte is
// scanned at most once per character searched whatever the mix of CR and LF
// (a body of bare CRs does not rescan for the next LF each time). Each run is
// one memcpy into `out`, which is grown once per call to the worst case (every
// byte can at most double: a break becomes CRLF, a leading '.' becomes "..")
// and cut back to the bytes written at the end.
//
// A CR that ends a chunk is written at once as CRLF and remembered in
// m_pendingCr, so an LF that starts the next chunk is the second half of the
// same break and is skipped: the output never depends on where chunks split.

namespace Smtp {

namespace {

const char *findByte(const char *from, const char *end, char byte)
{
    const void *hit = std::memchr(from, byte, size_t(end - from));
    return hit ? static_cast<const char *>(hit) : end;
}

} // namespace

void DataEncoder::encode(QByteArrayView in, QByteArray &out)
{
    if (in.isEmpty())
        return;
    m_empty = false;

    const char *p = in.data();
    const char *const end = p + in.size();
    if (m_pendingCr) {
        m_pendingCr = false;
        if (*p == '\n')
            ++p;
    }

    const qsizetype start = out.size();
    out.resize(start + 2 * (end - p));
    char *const base = out.data();
    char *w = base + start;

    // RFC 5321 4.5.2: a line that starts with "." gets one more "." (the server
    // removes it), so no body line can read as the end-of-data "." line.
    const bool stuff = m_mode == Mode::Data;
    const char *nextCr = nullptr;
    const char *nextLf = nullptr;

    while (p < end) {
        if (m_atLineStart) {
            m_atLineStart = false;
            if (stuff && *p == '.')
                *w++ = '.';
        }
        if (!nextCr || nextCr < p)
            nextCr = findByte(p, end, '\r');
        if (!nextLf || nextLf < p)
            nextLf = findByte(p, end, '\n');
        const char *brk = nextCr < nextLf ? nextCr : nextLf;

        const size_t run = size_t(brk - p);
        std::memcpy(w, p, run);
        w += run;
        if (brk == end)
            break;

        // RFC 5321 2.3.8: CR and LF only ever travel together as CRLF. A bare
        // LF or a bare CR is a line break of its own and becomes CRLF (the
        // SMTP smuggling sequences of docs/security.md section D rely on servers that read
        // one of them as a line end while the client did not).
        *w++ = '\r';
        *w++ = '\n';
        m_atLineStart = true;
        p = skipLineBreak(brk, end, &m_pendingCr);
    }

    out.resize(w - base);
}

void DataEncoder::finish(QByteArray &out)
{
    // RFC 5321 4.1.1.4: the data ends with CRLF "." CRLF, and the first CRLF
    // belongs to the last line, so a body without a final line break gets one.
    // A pending CR has already been written as CRLF. An empty body is just ".".
    if (!m_empty && !m_atLineStart)
        out.append("\r\n", 2);
    // RFC 3030 2: BDAT chunks carry exact sizes and no terminator.
    if (m_mode == Mode::Data)
        out.append(".\r\n", 3);
    reset();
}

void DataEncoder::reset()
{
    m_atLineStart = true;
    m_pendingCr = false;
    m_empty = true;
}

} // namespace Smtp
