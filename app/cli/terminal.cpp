#include "terminal.h"

#include "protocol/printable.h"

#include <QByteArray>

#include <cstdio>
#include <string>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

namespace Cli::Terminal {

namespace {

void write(FILE *stream, const QByteArray &bytes)
{
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stream);
    std::fflush(stream);
}

} // namespace

void out(const QString &text) { write(stdout, Smtp::safeText(text).toUtf8()); }
void err(const QString &text) { write(stderr, Smtp::safeText(text).toUtf8()); }
void errInPlace(const QString &line)
{
    write(stderr, QByteArrayLiteral("\r") + Smtp::safeLine(line).toUtf8() + QByteArrayLiteral("\x1b[K"));
}
void outBytes(const QByteArray &bytes) { write(stdout, bytes); }

bool stdinIsTerminal() { return ::isatty(STDIN_FILENO) == 1; }
bool stderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

int stderrColumns()
{
    winsize ws{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        return ws.ws_col;
    return 80;
}

std::optional<QString> readSecret(const QString &prompt)
{
    if (!stdinIsTerminal())
        return std::nullopt;
    termios saved{};
    if (::tcgetattr(STDIN_FILENO, &saved) != 0)
        return std::nullopt;
    termios quiet = saved;
    // Echo off, line editing (ICANON) kept, so the user can still correct typos.
    quiet.c_lflag &= ~tcflag_t(ECHO);
    quiet.c_lflag |= ECHONL;
    err(prompt);
    if (::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
        return std::nullopt;
    std::string line;
    bool ok = false;
    for (;;) {
        char c = 0;
        const ssize_t n = ::read(STDIN_FILENO, &c, 1);
        if (n <= 0)
            break;
        if (c == '\n') {
            ok = true;
            break;
        }
        line.push_back(c);
    }
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    if (!ok)
        return std::nullopt;
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    QString secret = QString::fromUtf8(line.data(), qsizetype(line.size()));
    // Do not leave the secret in the std::string's buffer longer than needed.
    std::fill(line.begin(), line.end(), '\0');
    return secret;
}

} // namespace Cli::Terminal
