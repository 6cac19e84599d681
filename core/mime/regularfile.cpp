#include "regularfile.h"

#include <QFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace RegularFile {

namespace {

QString notRegular(mode_t mode)
{
    const char *what = "not a regular file";
    if (S_ISDIR(mode))
        what = "a folder";
    else if (S_ISFIFO(mode))
        what = "a FIFO (named pipe)";
    else if (S_ISCHR(mode))
        what = "a character device";
    else if (S_ISBLK(mode))
        what = "a block device";
    else if (S_ISSOCK(mode))
        what = "a socket";
    return QStringLiteral("is %1, not a regular file").arg(QLatin1String(what));
}

QString cannotRead(int error)
{
    return QStringLiteral("cannot be read: %1").arg(QString::fromLocal8Bit(std::strerror(error)));
}

} // namespace

QString problem(const QString &path)
{
    const QByteArray name = QFile::encodeName(path);
    struct stat st{};
    if (path.isEmpty() || ::stat(name.constData(), &st) != 0)
        return cannotRead(path.isEmpty() ? ENOENT : errno);
    if (!S_ISREG(st.st_mode))
        return notRegular(st.st_mode);
    if (::access(name.constData(), R_OK) != 0)
        return cannotRead(errno);
    return {};
}

bool open(QFile *file, QString *why)
{
    const int fd = ::open(QFile::encodeName(file->fileName()).constData(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *why = cannotRead(errno);
        return false;
    }
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
        *why = cannotRead(errno);
        ::close(fd);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        *why = notRegular(st.st_mode);
        ::close(fd);
        return false;
    }
    // Reads of a regular file do not wait anyway; cleared for file systems that
    // would honour the flag.
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0)
        ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    if (!file->open(fd, QIODevice::ReadOnly, QFileDevice::AutoCloseHandle)) {
        *why = QStringLiteral("cannot be read: %1").arg(file->errorString());
        ::close(fd);
        return false;
    }
    return true;
}

} // namespace RegularFile
