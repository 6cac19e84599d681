#pragma once
// Streaming transformation of a message body for the wire.
//
// Mode::Data (RFC 5321 4.5.2 and 2.3.8): every line ending becomes CRLF (a bare
// LF or a bare CR becomes CRLF), a line starting with '.' gets one more '.', and
// finish() makes sure the data ends with CRLF before adding ".\r\n".
// Mode::Bdat (RFC 3030): the same CRLF normalisation, no dot-stuffing, finish()
// only completes a missing final CRLF (no terminator: BDAT sizes are exact).
//
// encode() may be called with chunks of any size (1 byte included); the output
// is identical whatever the split. At most one byte of state (a pending CR and
// whether we are at the start of a line) is carried between calls. No allocation
// other than growing `out`.

#include <QByteArray>
#include <QByteArrayView>

namespace Smtp {

// Returns the position past the line break at `brk` (a CR, an LF or a CRLF; RFC
// 5321 2.3.8). A CR that ends the buffer may be the first half of a CRLF split
// across two buffers: *pendingCr is then set and `end` returned, and the caller
// skips an LF that starts the next buffer.
[[nodiscard]] inline const char *skipLineBreak(const char *brk, const char *end, bool *pendingCr)
{
    if (*brk != '\r')
        return brk + 1;
    if (brk + 1 == end) {
        *pendingCr = true;
        return end;
    }
    return brk[1] == '\n' ? brk + 2 : brk + 1;
}

class DataEncoder
{
public:
    enum class Mode { Data, Bdat };

    explicit DataEncoder(Mode mode = Mode::Data) : m_mode(mode) { }

    // Appends the encoded form of `in` to `out`.
    void encode(QByteArrayView in, QByteArray &out);
    // Appends what ends the body: a CRLF if the body did not end with one (an
    // empty body needs none), then ".\r\n" in Data mode; then the encoder is back
    // in the start-of-body state, ready for the next message.
    void finish(QByteArray &out);
    // Back to the start-of-body state (same mode).
    void reset();

    [[nodiscard]] Mode mode() const { return m_mode; }

private:
    Mode m_mode;
    bool m_atLineStart = true;
    bool m_pendingCr = false;
    bool m_empty = true;
};

} // namespace Smtp
