// smtpsink: a fast SMTP sink for benchmarks. Listens on 127.0.0.1 (a free port
// unless --port is given), prints "PORT n", accepts and discards every message,
// and prints one "SUMMARY ..." line when it stops (SIGTERM/SIGINT, end of file on
// stdin, or --max-seconds).

#include "smtpsink.h"

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <sys/prctl.h>
#include <unistd.h>

namespace {

void usage(std::FILE *to)
{
    std::fputs("usage: smtpsink [options]\n"
               "  --port N             listen on 127.0.0.1:N (default 0: a free port)\n"
               "  --max-seconds N      stop after N seconds (default 600)\n"
               "  --size N             advertised SIZE limit, 0 = no fixed maximum (default 104857600)\n"
               "  --no-pipelining      do not advertise PIPELINING\n"
               "  --no-chunking        do not advertise CHUNKING (BDAT is then refused)\n"
               "  --max-connections N  refuse further clients with 421 (default 1024)\n"
               "  --ignore-stdin       do not stop at end of file on stdin\n"
               "Prints \"PORT n\" when ready and a \"SUMMARY ...\" line when it stops.\n",
               to);
}

template <typename T>
bool parseValue(const char *text, T &value)
{
    const std::string_view view(text);
    const auto result = std::from_chars(view.data(), view.data() + view.size(), value);
    return result.ec == std::errc() && result.ptr == view.data() + view.size();
}

} // namespace

int main(int argc, char **argv)
{
    SmtpSink::Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg(argv[i]);
        const bool hasValue = i + 1 < argc;
        bool ok = true;
        if (arg == "--port" && hasValue)
            ok = parseValue(argv[++i], options.port);
        else if (arg == "--max-seconds" && hasValue)
            ok = parseValue(argv[++i], options.maxSeconds) && options.maxSeconds > 0;
        else if (arg == "--size" && hasValue)
            ok = parseValue(argv[++i], options.config.maxSize);
        else if (arg == "--max-connections" && hasValue)
            ok = parseValue(argv[++i], options.maxConnections) && options.maxConnections > 0;
        else if (arg == "--no-pipelining")
            options.config.pipelining = false;
        else if (arg == "--no-chunking")
            options.config.chunking = false;
        else if (arg == "--ignore-stdin")
            options.watchStdin = false;
        else if (arg == "--help" || arg == "-h") {
            usage(stdout);
            return 0;
        } else
            ok = false;
        if (!ok) {
            std::fprintf(stderr, "smtpsink: bad argument: %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    // Besides end of file on stdin, ask the kernel for SIGTERM when the parent
    // dies, so a killed benchmark never leaves a sink behind. If the parent is
    // already gone (re-parented before prctl), stop now.
    const pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        return 1;

    SmtpSink sink(std::move(options));
    if (!sink.listen()) {
        std::fprintf(stderr, "smtpsink: %s\n", sink.errorString().c_str());
        return 1;
    }
    std::printf("PORT %u\n", unsigned(sink.port()));
    std::fflush(stdout);

    const std::string reason = sink.run();
    const SinkCounters &counters = sink.counters();
    const double seconds = sink.secondsRunning();
    std::printf("SUMMARY reason=%s connections=%llu commands=%llu messages=%llu data_bytes=%llu seconds=%.3f\n",
                reason.c_str(), static_cast<unsigned long long>(counters.connections),
                static_cast<unsigned long long>(counters.commands),
                static_cast<unsigned long long>(counters.messages),
                static_cast<unsigned long long>(counters.dataBytes), seconds);
    std::fflush(stdout);
    if (reason == "error") {
        std::fprintf(stderr, "smtpsink: %s\n", sink.errorString().c_str());
        return 1;
    }
    return 0;
}
