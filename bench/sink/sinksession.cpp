#include "sinksession.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace {

// RFC 5321 4.1.1.4: the mail data ends with a line holding only ".", that is
// CR LF "." CR LF, where the first CR LF may be the one ending the DATA line.
constexpr char EndOfData[] = "\r\n.\r\n";
constexpr int EndOfDataLength = 5;

// ASCII case-insensitive prefix test (RFC 5321 2.4: verbs and parameter
// names are case-insensitive).
bool startsWithNoCase(std::string_view text, std::string_view prefix)
{
    if (text.size() < prefix.size())
        return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = text[i];
        if (c >= 'a' && c <= 'z')
            c = char(c - 'a' + 'A');
        if (c != prefix[i])
            return false;
    }
    return true;
}

bool equalsNoCase(std::string_view text, std::string_view upper)
{
    return text.size() == upper.size() && startsWithNoCase(text, upper);
}

void appendNumber(std::string &out, std::uint64_t value)
{
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

// Parses a whole decimal number; false on anything else or on overflow.
bool parseNumber(std::string_view text, std::uint64_t &value)
{
    if (text.empty())
        return false;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

// RFC 5321 4.1.2: after "FROM:" or "TO:" comes a path in angle brackets. The
// sink only checks the brackets; it is not an address validator. Returns the
// rest of the line after '>' (the ESMTP parameters), or false.
bool splitPath(std::string_view args, std::string_view &parameters)
{
    // Some clients put a space after the colon; RFC 5321 does not allow it,
    // but rejecting it would only measure pedantry.
    while (!args.empty() && args.front() == ' ')
        args.remove_prefix(1);
    if (args.empty() || args.front() != '<')
        return false;
    const std::size_t close = args.find('>');
    if (close == std::string_view::npos)
        return false;
    parameters = args.substr(close + 1);
    return true;
}

} // namespace

void SinkConfig::prepare()
{
    // RFC 5321 4.1.1.1: the first line names the server, each further line
    // is one extension keyword; the last line uses "250 ", the others "250-".
    std::string lines[6];
    int count = 0;
    lines[count++] = hostname;
    if (pipelining)
        lines[count++] = "PIPELINING"; // RFC 2920
    lines[count] = "SIZE";             // RFC 1870
    if (maxSize > 0) {
        lines[count] += ' ';
        appendNumber(lines[count], maxSize);
    }
    ++count;
    lines[count++] = "8BITMIME"; // RFC 6152
    lines[count++] = "SMTPUTF8"; // RFC 6531
    if (chunking)
        lines[count++] = "CHUNKING"; // RFC 3030
    ehloReply.clear();
    for (int i = 0; i < count; ++i) {
        ehloReply += (i + 1 < count) ? "250-" : "250 ";
        ehloReply += lines[i];
        ehloReply += "\r\n";
    }
}

SinkSession::SinkSession(const SinkConfig &config, SinkCounters &counters)
    : m_config(config)
    , m_counters(counters)
{
}

void SinkSession::greet(std::string &out)
{
    out += "220 ";
    out += m_config.hostname;
    out += " ESMTP smtpsink ready\r\n";
}

void SinkSession::feed(const char *data, std::size_t length, std::string &out)
{
    std::size_t pos = 0;
    while (pos < length) {
        switch (m_state) {
        case State::Closing:
            return;
        case State::Data:
            pos += consumeData(data + pos, length - pos, out);
            break;
        case State::Chunk:
            pos += consumeChunk(length - pos, out);
            break;
        case State::Command: {
            const char *start = data + pos;
            const auto *lf = static_cast<const char *>(std::memchr(start, '\n', length - pos));
            if (!lf) {
                // An incomplete line: keep it for the next read, within bounds.
                if (!m_lineTooLong) {
                    if (m_line.size() + (length - pos) > MaxLineLength) {
                        m_lineTooLong = true;
                        m_line.clear();
                    } else {
                        m_line.append(start, length - pos);
                    }
                }
                return;
            }
            const std::size_t n = std::size_t(lf - start);
            pos += n + 1;
            if (m_lineTooLong || m_line.size() + n > MaxLineLength) {
                // RFC 5321 4.5.3.1.4 and 4.2.2: 500 for a line that is too long.
                m_lineTooLong = false;
                m_line.clear();
                ++m_counters.commands;
                out += "500 Line too long\r\n";
                break;
            }
            std::string_view line;
            if (m_line.empty()) {
                line = std::string_view(start, n); // the usual case: no copy
            } else {
                m_line.append(start, n);
                line = m_line;
            }
            // RFC 5321 2.3.8: lines end with CR LF. A bare LF is tolerated
            // here because the sink is not the place to test that.
            if (!line.empty() && line.back() == '\r')
                line.remove_suffix(1);
            command(line, out);
            m_line.clear();
            break;
        }
        }
    }
}

void SinkSession::command(std::string_view line, std::string &out)
{
    ++m_counters.commands;
    const std::size_t space = line.find(' ');
    const std::string_view verb = line.substr(0, space);
    const std::string_view args = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);

    if (equalsNoCase(verb, "EHLO") || equalsNoCase(verb, "HELO")) {
        // RFC 5321 4.1.1.1: the argument (the client's domain) is required.
        if (args.empty()) {
            out += "501 Syntax: EHLO/HELO hostname\r\n";
            return;
        }
        // RFC 5321 4.1.4: EHLO/HELO in a session resets it like RSET.
        resetTransaction();
        m_greeted = true;
        if (verb[0] == 'E' || verb[0] == 'e') {
            out += m_config.ehloReply;
        } else {
            out += "250 ";
            out += m_config.hostname;
            out += "\r\n";
        }
    } else if (equalsNoCase(verb, "MAIL")) {
        commandMail(args, out);
    } else if (equalsNoCase(verb, "RCPT")) {
        commandRcpt(args, out);
    } else if (equalsNoCase(verb, "DATA")) {
        commandData(args, out);
    } else if (equalsNoCase(verb, "BDAT")) {
        commandBdat(args, out);
    } else if (equalsNoCase(verb, "RSET")) {
        resetTransaction(); // RFC 5321 4.1.1.5
        out += "250 Ok\r\n";
    } else if (equalsNoCase(verb, "NOOP")) {
        out += "250 Ok\r\n"; // RFC 5321 4.1.1.9
    } else if (equalsNoCase(verb, "QUIT")) {
        // RFC 5321 4.1.1.10: reply 221, then close.
        out += "221 Bye\r\n";
        m_state = State::Closing;
    } else if (equalsNoCase(verb, "VRFY")) {
        out += "252 Cannot VRFY user\r\n"; // RFC 5321 3.5.3
    } else if (equalsNoCase(verb, "HELP")) {
        out += "214 smtpsink: a benchmark sink that discards mail\r\n";
    } else if (equalsNoCase(verb, "STARTTLS") || equalsNoCase(verb, "AUTH") || equalsNoCase(verb, "EXPN")
               || equalsNoCase(verb, "ETRN") || equalsNoCase(verb, "TURN")) {
        // RFC 5321 4.2.4: 502 for a known command that is not implemented.
        out += "502 Command not implemented\r\n";
    } else {
        out += "500 Command not recognized\r\n"; // RFC 5321 4.2.4
    }
}

void SinkSession::commandMail(std::string_view args, std::string &out)
{
    // RFC 5321 4.1.4: MAIL needs a greeting first and no open transaction.
    if (!m_greeted) {
        out += "503 Send EHLO or HELO first\r\n";
        return;
    }
    if (m_haveMail) {
        out += "503 Nested MAIL command\r\n";
        return;
    }
    std::string_view parameters;
    if (!startsWithNoCase(args, "FROM:") || !splitPath(args.substr(5), parameters)) {
        out += "501 Syntax: MAIL FROM:<address>\r\n";
        return;
    }
    // Parameters are separated by spaces (RFC 5321 4.1.2 Mail-parameters).
    while (!parameters.empty()) {
        while (!parameters.empty() && parameters.front() == ' ')
            parameters.remove_prefix(1);
        const std::size_t end = parameters.find(' ');
        const std::string_view parameter = parameters.substr(0, end);
        parameters = end == std::string_view::npos ? std::string_view() : parameters.substr(end);
        if (parameter.empty())
            continue;
        if (startsWithNoCase(parameter, "SIZE=")) {
            std::uint64_t declared = 0;
            if (!parseNumber(parameter.substr(5), declared)) {
                out += "501 Syntax: SIZE=<number>\r\n";
                return;
            }
            // RFC 1870 6.1: refuse at MAIL a message declared over the limit.
            if (m_config.maxSize > 0 && declared > m_config.maxSize) {
                out += "552 Message size exceeds fixed maximum message size\r\n";
                return;
            }
        } else if (equalsNoCase(parameter, "BODY=7BIT") || equalsNoCase(parameter, "BODY=8BITMIME")
                   || equalsNoCase(parameter, "SMTPUTF8")) {
            // RFC 6152 2 and RFC 6531 3.4: offered in EHLO, nothing to do.
        } else {
            // RFC 5321 4.1.1.11: a parameter of an extension not offered.
            out += "555 MAIL FROM parameters not recognized or not implemented\r\n";
            return;
        }
    }
    m_haveMail = true;
    out += "250 Ok\r\n";
}

void SinkSession::commandRcpt(std::string_view args, std::string &out)
{
    if (!m_haveMail) {
        out += "503 Need MAIL command\r\n"; // RFC 5321 4.1.4
        return;
    }
    std::string_view parameters;
    if (!startsWithNoCase(args, "TO:") || !splitPath(args.substr(3), parameters)) {
        out += "501 Syntax: RCPT TO:<address>\r\n";
        return;
    }
    // Only counted: the sink never stores a recipient, whatever their number.
    ++m_recipients;
    out += "250 Ok\r\n";
}

void SinkSession::commandData(std::string_view args, std::string &out)
{
    if (!args.empty()) {
        out += "501 Syntax: DATA\r\n"; // RFC 5321 4.1.1.4: no argument
        return;
    }
    if (m_inBdat) {
        // RFC 3030 2: DATA and BDAT may not be mixed in one transaction.
        out += "503 DATA not allowed after BDAT\r\n";
        return;
    }
    if (!m_haveMail || m_recipients == 0) {
        out += "503 Need RCPT command\r\n"; // RFC 5321 4.1.4
        return;
    }
    out += "354 End data with <CR><LF>.<CR><LF>\r\n";
    m_state = State::Data;
    // The CR LF that ended the DATA line counts as the start of the mark, so
    // an empty message (".\r\n" at once) ends the data too (RFC 5321 4.1.1.4).
    m_match = 2;
    m_dataRun = 0;
}

void SinkSession::commandBdat(std::string_view args, std::string &out)
{
    // RFC 3030 2: "BDAT" SP chunk-size [ SP "LAST" ].
    const std::size_t space = args.find(' ');
    const std::string_view sizeText = args.substr(0, space);
    const std::string_view rest = space == std::string_view::npos ? std::string_view() : args.substr(space + 1);
    std::uint64_t size = 0;
    const bool last = equalsNoCase(rest, "LAST");
    if (!parseNumber(sizeText, size) || (!rest.empty() && !last)) {
        // Without a size the chunk cannot be skipped, so the stream is lost.
        out += "421 BDAT syntax error, closing connection\r\n";
        m_state = State::Closing;
        return;
    }
    m_chunkLeft = size;
    m_chunkSize = size;
    m_chunkLast = last;
    m_chunkRefusal = nullptr;
    if (!m_config.chunking)
        m_chunkRefusal = "502 BDAT not offered\r\n";
    else if (!m_haveMail)
        m_chunkRefusal = "503 Need MAIL command\r\n";
    else if (m_recipients == 0)
        m_chunkRefusal = "503 Need RCPT command\r\n";
    else
        m_inBdat = true;
    // RFC 3030 2: the chunk follows the command line at once and is read
    // (and, when the command is refused, discarded) before the reply.
    m_state = State::Chunk;
    if (size == 0)
        consumeChunk(0, out);
}

std::size_t SinkSession::consumeData(const char *data, std::size_t length, std::string &out)
{
    std::size_t i = 0;
    while (i < length) {
        if (m_match == 0) {
            // Most bytes are plain text: jump to the next CR.
            const auto *cr = static_cast<const char *>(std::memchr(data + i, '\r', length - i));
            if (!cr) {
                i = length;
                break;
            }
            i = std::size_t(cr - data) + 1;
            m_match = 1;
            continue;
        }
        const char c = data[i++];
        if (c == EndOfData[m_match]) {
            if (++m_match == EndOfDataLength) {
                m_dataRun += i;
                m_state = State::Command;
                m_match = 0;
                // The final "." CR LF is not message data; the CR LF before it is.
                acceptMessage(m_dataRun - 3, out);
                return i;
            }
        } else {
            // A mismatch can only restart the mark at a CR ("\r\n.\r\n" has no
            // other prefix that is also a suffix of a partial match).
            m_match = c == '\r' ? 1 : 0;
        }
    }
    m_dataRun += i;
    return i;
}

std::size_t SinkSession::consumeChunk(std::size_t length, std::string &out)
{
    const std::size_t take = std::size_t(std::min<std::uint64_t>(m_chunkLeft, length));
    m_chunkLeft -= take;
    if (m_chunkLeft > 0)
        return take;
    m_state = State::Command;
    if (m_chunkRefusal) {
        out += m_chunkRefusal;
    } else {
        m_bdatBytes += m_chunkSize;
        if (m_chunkLast) {
            acceptMessage(m_bdatBytes, out);
        } else {
            out += "250 ";
            appendNumber(out, m_chunkSize);
            out += " octets received\r\n";
        }
    }
    return take;
}

void SinkSession::resetTransaction()
{
    m_haveMail = false;
    m_recipients = 0;
    m_inBdat = false;
    m_bdatBytes = 0;
}

void SinkSession::acceptMessage(std::uint64_t bytes, std::string &out)
{
    ++m_counters.messages;
    m_counters.dataBytes += bytes;
    out += "250 Ok: queued as ";
    appendNumber(out, m_counters.messages);
    out += "\r\n";
    resetTransaction();
}
