#include "inputfile.h"

#include <QFile>
#include <QFileInfo>

namespace Cli::InputFile {

bool read(const QString &path, const QString &option, QByteArray *data, QString *error, qint64 maxBytes)
{
    QFile file;
    const bool isStdin = path == u"-";
    if (isStdin) {
        if (!file.open(stdin, QIODevice::ReadOnly)) {
            *error = QStringLiteral("%1: cannot read standard input").arg(option);
            return false;
        }
    } else {
        file.setFileName(path);
        if (QFileInfo(path).isDir()) {
            *error = QStringLiteral("%1: '%2' is a folder, not a file").arg(option, path);
            return false;
        }
        if (!file.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("%1: cannot read '%2': %3").arg(option, path, file.errorString());
            return false;
        }
    }
    *data = file.read(maxBytes + 1);
    if (data->size() > maxBytes) {
        *error = QStringLiteral("%1: '%2' is larger than %3 bytes").arg(option, path).arg(maxBytes);
        data->clear();
        return false;
    }
    return true;
}

bool readFirstLine(const QString &path, const QString &option, QByteArray *line, QString *error)
{
    QByteArray all;
    if (!read(path, option, &all, error, 1024 * 1024))
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
