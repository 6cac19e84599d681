#pragma once
// SmtpSink: the benchmark sink's event loop. One thread, one epoll set, plain
// POSIX sockets: the listening socket, each client, a signalfd for SIGTERM /
// SIGINT and the standard input (end of file there means the parent is gone).
//
// Each readable client gets one read() into a large buffer; every complete
// command in it is answered, and all the replies leave in ONE write (RFC 2920
// 3.2 lets a server batch its replies; a pipelining client sends batches). A
// client whose replies cannot be written is not read until they are, so a
// peer that never reads cannot make the sink's memory grow.

#include "sinksession.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

class SmtpSink
{
public:
    struct Options
    {
        SinkConfig config;
        std::uint16_t port = 0;  // 0: any free port
        int maxSeconds = 600;    // run at most this long
        int maxConnections = 1024;
        bool watchStdin = true;  // exit at end of file on stdin
    };

    explicit SmtpSink(Options options);
    ~SmtpSink();
    SmtpSink(const SmtpSink &) = delete;
    SmtpSink &operator=(const SmtpSink &) = delete;

    // Binds 127.0.0.1 and starts listening; returns false with errorString() set.
    bool listen();
    [[nodiscard]] std::uint16_t port() const { return m_port; }
    [[nodiscard]] const std::string &errorString() const { return m_error; }

    // Runs until SIGTERM/SIGINT, end of file on stdin or the time limit.
    // Returns why it stopped: "signal", "stdin", "time-limit" or "error".
    std::string run();

    [[nodiscard]] const SinkCounters &counters() const { return m_counters; }
    [[nodiscard]] double secondsRunning() const;

private:
    struct Connection;

    void acceptAll();
    void onReadable(Connection &connection);
    void onWritable(Connection &connection);
    // Writes what is pending; returns false when the connection was closed.
    bool flush(Connection &connection);
    void close(Connection &connection);
    bool watch(int fd, std::uint32_t events, bool add);

    Options m_options;
    SinkCounters m_counters;
    std::string m_error;
    int m_epoll = -1;
    int m_listener = -1;
    int m_signals = -1;
    std::uint16_t m_port = 0;
    std::chrono::steady_clock::time_point m_started;
    std::vector<std::unique_ptr<Connection>> m_connections; // indexed by fd
    int m_open = 0;
    std::vector<char> m_readBuffer;
};
