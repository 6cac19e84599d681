#pragma once
// SinkSession: the SMTP server side of one connection of the benchmark sink,
// sans-I/O. Bytes go in through feed(); replies are appended to a caller-owned
// string so that the event loop can answer a whole pipelined batch with one
// write (RFC 2920 3.2: the server may group replies, and a fast sink must).
//
// It accepts every well-formed transaction and keeps nothing of a message but
// its size: DATA bodies are scanned for the end-of-data mark, BDAT chunks are
// skipped by count. Plain C++ (no Qt), so the sink measures the client, not an
// event-loop framework.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

struct SinkConfig
{
    std::string hostname = "smtpsink";
    bool pipelining = true;
    bool chunking = true;
    // Advertised in EHLO and checked against MAIL FROM's SIZE= (RFC 1870 6.1);
    // 0 advertises "no fixed maximum" (RFC 1870 4) and checks nothing.
    std::uint64_t maxSize = 104857600;

    // Built once from the fields above by prepare(): every EHLO answers with it.
    std::string ehloReply;
    void prepare();
};

// Totals over every session of the sink.
struct SinkCounters
{
    std::uint64_t connections = 0;
    std::uint64_t commands = 0;
    std::uint64_t messages = 0;  // accepted at the end of data or BDAT LAST
    std::uint64_t dataBytes = 0; // message bytes as sent on the wire (DATA: still dot-stuffed)
};

class SinkSession
{
public:
    // The longest command line accepted. RFC 5321 4.5.3.1.4 sets 512 octets,
    // but SMTPUTF8 paths and extension parameters make longer lines legitimate;
    // the bound only keeps one connection's memory small.
    static constexpr std::size_t MaxLineLength = 16384;

    SinkSession(const SinkConfig &config, SinkCounters &counters);
    SinkSession(const SinkSession &) = delete;
    SinkSession &operator=(const SinkSession &) = delete;

    // The 220 greeting (RFC 5321 4.2, 3.1).
    void greet(std::string &out);
    // Consumes every byte of data; appends each complete command's reply to out.
    void feed(const char *data, std::size_t length, std::string &out);
    // True after QUIT or a fatal error: close once out has been written.
    [[nodiscard]] bool closing() const { return m_state == State::Closing; }

private:
    enum class State {
        Command, // reading command lines
        Data,    // after 354: scanning for CRLF "." CRLF (RFC 5321 4.1.1.4)
        Chunk,   // inside a BDAT chunk: m_chunkLeft bytes still to skip (RFC 3030 2)
        Closing, // everything further is ignored
    };

    void command(std::string_view line, std::string &out);
    void commandMail(std::string_view args, std::string &out);
    void commandRcpt(std::string_view args, std::string &out);
    void commandData(std::string_view args, std::string &out);
    void commandBdat(std::string_view args, std::string &out);
    std::size_t consumeData(const char *data, std::size_t length, std::string &out);
    std::size_t consumeChunk(std::size_t length, std::string &out);
    void resetTransaction();
    void acceptMessage(std::uint64_t bytes, std::string &out);

    const SinkConfig &m_config;
    SinkCounters &m_counters;
    State m_state = State::Command;
    std::string m_line;            // an incomplete command line carried across reads
    bool m_lineTooLong = false;    // discarding up to the next LF
    bool m_greeted = false;        // EHLO or HELO seen
    bool m_haveMail = false;
    std::uint64_t m_recipients = 0;
    // DATA: how much of CR LF "." CR LF has been seen, and the bytes so far.
    int m_match = 0;
    std::uint64_t m_dataRun = 0;
    // BDAT: bytes left in this chunk, whether it is the LAST one, what to say
    // after it (RFC 3030 2: a refused BDAT's chunk is still read and discarded).
    std::uint64_t m_chunkLeft = 0;
    std::uint64_t m_chunkSize = 0;
    bool m_chunkLast = false;
    const char *m_chunkRefusal = nullptr;
    bool m_inBdat = false;         // a BDAT sequence is open: DATA is not allowed
    std::uint64_t m_bdatBytes = 0; // total of this message's chunks
};
