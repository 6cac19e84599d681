#pragma once
// The progress bar of `smtpscope send` on stderr: bytes written, rate and time
// left, redrawn in place on a terminal (one line per update otherwise, for
// --progress always into a log). A private thread samples a byte counter (the
// client's usage statistics, which are safe to read from any thread) while the
// calling thread is blocked in the send.

#include <QString>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace Cli {

class ProgressBar
{
public:
    using Sampler = std::function<qint64()>; // bytes done so far, any thread

    // totalBytes: what will be written when done (approximate is fine);
    // inPlace: redraw with '\r' (a terminal) or write whole lines.
    ProgressBar(qint64 totalBytes, bool inPlace, int columns);
    ~ProgressBar();
    Q_DISABLE_COPY_MOVE(ProgressBar)

    // Starts sampling every intervalMs until stop().
    void start(Sampler sampler, int intervalMs = 200);
    // Draws the final state and ends the line. Idempotent. `complete`: everything
    // was written (the server answered the end of data), whatever the counter
    // says: the transport counts written bytes when the socket reports them,
    // which can come after the server's reply.
    void stop(bool complete = false);

    // One bar line (no line end) for `done` of `total` bytes after `seconds`,
    // fitted into `width` columns:
    //   "[#########...........]  45%  4.5 MiB / 10.0 MiB  2.1 MiB/s  0:03 left"
    [[nodiscard]] static QString render(qint64 done, qint64 total, double seconds, int width);

private:
    void run();
    void draw(qint64 done, double seconds);

    qint64 m_total;
    bool m_inPlace;
    int m_columns;
    int m_intervalMs = 200;
    Sampler m_sampler;
    std::thread m_thread;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    bool m_started = false;
    std::chrono::steady_clock::time_point m_start;
};

} // namespace Cli
