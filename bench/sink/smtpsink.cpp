#include "smtpsink.h"

#include <arpa/inet.h>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

constexpr int StdinFd = 0;
// One read takes up to this much; a pipelined batch of small messages or a
// good slice of a large one fits, so most reads are answered by one write.
constexpr std::size_t ReadBufferSize = 256 * 1024;
constexpr int MaxEvents = 256;

std::string errnoText(const char *what)
{
    return std::string(what) + ": " + std::strerror(errno);
}

} // namespace

struct SmtpSink::Connection
{
    Connection(int socket, const SinkConfig &config, SinkCounters &counters)
        : fd(socket)
        , session(config, counters)
    {
    }

    int fd;
    SinkSession session;
    std::string out;        // replies not yet written
    std::size_t outPos = 0; // how much of out is written
    bool writing = false;   // waiting for EPOLLOUT (and not reading)
};

SmtpSink::SmtpSink(Options options)
    : m_options(std::move(options))
{
    m_options.config.prepare();
}

SmtpSink::~SmtpSink()
{
    for (auto &connection : m_connections) {
        if (connection)
            ::close(connection->fd);
    }
    for (int fd : {m_listener, m_signals, m_epoll}) {
        if (fd >= 0)
            ::close(fd);
    }
}

bool SmtpSink::watch(int fd, std::uint32_t events, bool add)
{
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    return epoll_ctl(m_epoll, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event) == 0;
}

bool SmtpSink::listen()
{
    m_started = std::chrono::steady_clock::now();
    m_readBuffer.resize(ReadBufferSize);
    m_epoll = epoll_create1(EPOLL_CLOEXEC);
    if (m_epoll < 0) {
        m_error = errnoText("epoll_create1");
        return false;
    }

    // Signals arrive as readable data on a signalfd, so the loop handles them
    // like any other event and the summary is printed outside a handler.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) {
        m_error = errnoText("sigprocmask");
        return false;
    }
    m_signals = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (m_signals < 0 || !watch(m_signals, EPOLLIN, true)) {
        m_error = errnoText("signalfd");
        return false;
    }

    m_listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_listener < 0) {
        m_error = errnoText("socket");
        return false;
    }
    const int on = 1;
    setsockopt(m_listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(m_options.port);
    // Loopback only: the sink is a benchmark instrument, never a listener on
    // the network.
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(m_listener, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
        m_error = errnoText("bind 127.0.0.1");
        return false;
    }
    if (::listen(m_listener, SOMAXCONN) != 0) {
        m_error = errnoText("listen");
        return false;
    }
    socklen_t length = sizeof address;
    if (getsockname(m_listener, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
        m_error = errnoText("getsockname");
        return false;
    }
    m_port = ntohs(address.sin_port);
    if (!watch(m_listener, EPOLLIN, true)) {
        m_error = errnoText("epoll_ctl listener");
        return false;
    }

    if (m_options.watchStdin && !watch(StdinFd, EPOLLIN, true)) {
        // epoll refuses regular files and /dev/null (EPERM): then only the
        // time limit and signals end the sink.
        std::fprintf(stderr, "smtpsink: not watching stdin (%s); relying on --max-seconds %d\n",
                     std::strerror(errno), m_options.maxSeconds);
        m_options.watchStdin = false;
    }
    return true;
}

double SmtpSink::secondsRunning() const
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
}

std::string SmtpSink::run()
{
    const auto deadline = m_started + std::chrono::seconds(m_options.maxSeconds);
    epoll_event events[MaxEvents];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return "time-limit";
        const int timeout = int(std::min<long long>(left.count() + 1, INT_MAX));
        const int count = epoll_wait(m_epoll, events, MaxEvents, timeout);
        if (count < 0) {
            if (errno == EINTR)
                continue;
            m_error = errnoText("epoll_wait");
            return "error";
        }
        for (int i = 0; i < count; ++i) {
            const int fd = events[i].data.fd;
            const std::uint32_t what = events[i].events;
            if (fd == m_listener) {
                acceptAll();
            } else if (fd == m_signals) {
                signalfd_siginfo info{};
                if (read(m_signals, &info, sizeof info) == ssize_t(sizeof info))
                    return "signal";
            } else if (m_options.watchStdin && fd == StdinFd) {
                // Anything typed is ignored; end of file or an error means
                // whoever started the sink is gone.
                char scratch[4096];
                const ssize_t n = read(StdinFd, scratch, sizeof scratch);
                if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                    return "stdin";
            } else if (fd >= 0 && std::size_t(fd) < m_connections.size() && m_connections[std::size_t(fd)]) {
                Connection &connection = *m_connections[std::size_t(fd)];
                if (what & EPOLLERR)
                    close(connection);
                else if (connection.writing)
                    onWritable(connection);
                else
                    onReadable(connection);
            }
        }
    }
}

void SmtpSink::acceptAll()
{
    for (;;) {
        const int fd = accept4(m_listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                std::fprintf(stderr, "smtpsink: accept: %s\n", std::strerror(errno));
            return;
        }
        if (m_open >= m_options.maxConnections) {
            // RFC 5321 3.8: 421 when the service cannot take the session.
            static const char busy[] = "421 Too many connections\r\n";
            (void)send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
            ::close(fd);
            continue;
        }
        // Replies are small and written once per batch: without TCP_NODELAY,
        // Nagle plus the client's delayed ACK could hold one for 40 ms.
        const int on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        if (std::size_t(fd) >= m_connections.size())
            m_connections.resize(std::size_t(fd) + 1);
        auto &slot = m_connections[std::size_t(fd)];
        slot = std::make_unique<Connection>(fd, m_options.config, m_counters);
        ++m_open;
        ++m_counters.connections;
        if (!watch(fd, EPOLLIN | EPOLLRDHUP, true)) {
            std::fprintf(stderr, "smtpsink: epoll_ctl: %s\n", std::strerror(errno));
            close(*slot);
            continue;
        }
        slot->session.greet(slot->out);
        flush(*slot);
    }
}

void SmtpSink::onReadable(Connection &connection)
{
    const ssize_t n = read(connection.fd, m_readBuffer.data(), m_readBuffer.size());
    if (n > 0) {
        connection.session.feed(m_readBuffer.data(), std::size_t(n), connection.out);
        flush(connection);
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        close(connection); // the client closed, or the connection broke
    }
}

void SmtpSink::onWritable(Connection &connection)
{
    flush(connection);
}

bool SmtpSink::flush(Connection &connection)
{
    while (connection.outPos < connection.out.size()) {
        const ssize_t n = send(connection.fd, connection.out.data() + connection.outPos,
                               connection.out.size() - connection.outPos, MSG_NOSIGNAL);
        if (n > 0) {
            connection.outPos += std::size_t(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            // Stop reading this client until its replies are gone.
            if (!connection.writing) {
                connection.writing = true;
                watch(connection.fd, EPOLLOUT, false);
            }
            return true;
        } else {
            close(connection);
            return false;
        }
    }
    connection.out.clear();
    connection.outPos = 0;
    if (connection.session.closing()) {
        close(connection);
        return false;
    }
    if (connection.writing) {
        connection.writing = false;
        watch(connection.fd, EPOLLIN | EPOLLRDHUP, false);
    }
    return true;
}

void SmtpSink::close(Connection &connection)
{
    const int fd = connection.fd;
    epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    --m_open;
    m_connections[std::size_t(fd)].reset(); // destroys connection: do not touch it after
}
