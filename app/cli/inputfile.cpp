#include "inputfile.h"

#include <QElapsedTimer>
#include <QFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Cli::InputFile {

namespace {

constexpr int DefaultFifoTimeoutMs = 10000;
constexpr int MaxFifoTimeoutSeconds = 3600;
constexpr qint64 ReadChunk = 64 * 1024;

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

// What a file that is neither regular nor a pipe is, for the error line.
QString typeText(mode_t mode)
{
    if (S_ISCHR(mode))
        return QStringLiteral("a character device");
    if (S_ISBLK(mode))
        return QStringLiteral("a block device");
    if (S_ISSOCK(mode))
        return QStringLiteral("a socket");
    return QStringLiteral("not a regular file");
}

class Descriptor
{
public:
    explicit Descriptor(int fd) : m_fd(fd) {}
    ~Descriptor()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    Q_DISABLE_COPY_MOVE(Descriptor)
    [[nodiscard]] int fd() const { return m_fd; }

private:
    int m_fd;
};

bool tooLarge(const QString &path, const QString &option, qint64 maxBytes, QString *error)
{
    *error = QStringLiteral("%1: '%2' is larger than %3 bytes").arg(option, path).arg(maxBytes);
    return false;
}

// A regular file: read() never blocks on one (the descriptor's O_NONBLOCK is
// cleared anyway, for file systems that would honour it).
bool readRegular(int fd, qint64 size, const QString &path, const QString &option, QByteArray *data, QString *error,
                 qint64 maxBytes)
{
    if (size > maxBytes)
        return tooLarge(path, option, maxBytes, error);
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0)
        ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    QByteArray out;
    out.reserve(qsizetype(size));
    QByteArray chunk(ReadChunk, Qt::Uninitialized);
    for (;;) {
        const ssize_t n = ::read(fd, chunk.data(), size_t(chunk.size()));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *error = QStringLiteral("%1: cannot read '%2': %3").arg(option, path, errnoText(errno));
            return false;
        }
        if (n == 0)
            break;
        if (out.size() + n > maxBytes) // it grew since fstat
            return tooLarge(path, option, maxBytes, error);
        out.append(chunk.constData(), qsizetype(n));
    }
    *data = std::move(out);
    return true;
}

// A pipe or FIFO, read until its writer closes it (or, for a password or token,
// until its first line is complete). Opened O_NONBLOCK, so a FIFO without a
// writer opened at once; poll() then waits for data or for the writer's close
// (POLLHUP), within one deadline for the whole read.
bool readPipe(int fd, const QString &path, const QString &option, QByteArray *data, QString *error, qint64 maxBytes,
              bool firstLine)
{
    const int timeoutMs = fifoTimeoutMs();
    const QString wait = QStringLiteral("%1 s").arg(timeoutMs / 1000.0, 0, 'g', 4);
    QElapsedTimer clock;
    clock.start();
    QByteArray out;
    QByteArray chunk(ReadChunk, Qt::Uninitialized);
    for (;;) {
        const qint64 left = timeoutMs - clock.elapsed();
        pollfd p{fd, POLLIN, 0};
        const int ready = left > 0 ? ::poll(&p, 1, int(left)) : 0;
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0) {
            *error = QStringLiteral("%1: cannot read '%2': %3").arg(option, path, errnoText(errno));
            return false;
        }
        if (ready == 0) {
            *error = out.isEmpty()
                ? QStringLiteral("%1: nothing arrived from the FIFO '%2' within %3: is a writer attached? "
                                 "(SMTPSCOPE_FIFO_TIMEOUT sets the wait in seconds)")
                      .arg(option, path, wait)
                : QStringLiteral("%1: the FIFO '%2' was not closed by its writer within %3 (%4 bytes arrived): "
                                 "the writer must end it (SMTPSCOPE_FIFO_TIMEOUT sets the wait in seconds)")
                      .arg(option, path, wait)
                      .arg(out.size());
            return false;
        }
        const ssize_t n = ::read(fd, chunk.data(), size_t(chunk.size()));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            *error = QStringLiteral("%1: cannot read '%2': %3").arg(option, path, errnoText(errno));
            return false;
        }
        if (n == 0)
            break; // the writer closed it
        if (out.size() + n > maxBytes)
            return tooLarge(path, option, maxBytes, error);
        out.append(chunk.constData(), qsizetype(n));
        if (firstLine && out.contains('\n'))
            break;
    }
    *data = std::move(out);
    return true;
}

bool readStdin(const QString &option, QByteArray *data, QString *error, qint64 maxBytes)
{
    // "-" is the user's own choice of input: read as it comes, to its end.
    QFile file;
    if (!file.open(stdin, QIODevice::ReadOnly)) {
        *error = QStringLiteral("%1: cannot read standard input").arg(option);
        return false;
    }
    *data = file.read(maxBytes + 1);
    if (data->size() > maxBytes) {
        data->clear();
        return tooLarge(QStringLiteral("-"), option, maxBytes, error);
    }
    return true;
}

bool readFile(const QString &path, const QString &option, QByteArray *data, QString *error, qint64 maxBytes,
              bool firstLine)
{
    data->clear();
    if (path == u"-")
        return readStdin(option, data, error, maxBytes);
    if (path.isEmpty()) {
        *error = QStringLiteral("%1: give a file name (or '-' for standard input)").arg(option);
        return false;
    }
    // O_NONBLOCK: opening a FIFO for reading never waits for a writer, and a
    // device's open cannot hang; the type comes from this descriptor, so what is
    // checked is what is read.
    const Descriptor file(::open(QFile::encodeName(path).constData(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (file.fd() < 0) {
        *error = QStringLiteral("%1: cannot read '%2': %3").arg(option, path, errnoText(errno));
        return false;
    }
    struct stat st{};
    if (::fstat(file.fd(), &st) != 0) {
        *error = QStringLiteral("%1: cannot read '%2': %3").arg(option, path, errnoText(errno));
        return false;
    }
    if (S_ISREG(st.st_mode))
        return readRegular(file.fd(), qint64(st.st_size), path, option, data, error, maxBytes);
    if (S_ISFIFO(st.st_mode))
        return readPipe(file.fd(), path, option, data, error, maxBytes, firstLine);
    if (S_ISDIR(st.st_mode)) {
        *error = QStringLiteral("%1: '%2' is a folder, not a file").arg(option, path);
        return false;
    }
    *error = QStringLiteral("%1: '%2' is %3, not a file: give a regular file, a pipe, or '-' for standard input")
                 .arg(option, path, typeText(st.st_mode));
    return false;
}

} // namespace

int fifoTimeoutMs()
{
    bool ok = false;
    const int seconds = qEnvironmentVariableIntValue("SMTPSCOPE_FIFO_TIMEOUT", &ok);
    if (ok && seconds >= 1 && seconds <= MaxFifoTimeoutSeconds)
        return seconds * 1000;
    return DefaultFifoTimeoutMs;
}

bool read(const QString &path, const QString &option, QByteArray *data, QString *error, qint64 maxBytes)
{
    return readFile(path, option, data, error, maxBytes, false);
}

bool readFirstLine(const QString &path, const QString &option, QByteArray *line, QString *error)
{
    QByteArray all;
    if (!readFile(path, option, &all, error, 1024 * 1024, true))
        return false;
    const qsizetype end = all.indexOf('\n');
    *line = end < 0 ? all : all.left(end);
    if (line->endsWith('\r'))
        line->chop(1);
    if (line->isEmpty()) {
        *error = QStringLiteral("%1: '%2' is empty").arg(option, path);
        return false;
    }
    return true;
}

} // namespace Cli::InputFile
