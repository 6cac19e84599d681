#pragma once
// Checks shared by the core/mime tests: the wire rules of RFC 5322 and an
// independent parse of a message by Python's email package (parse_message.py).

#include <QByteArray>
#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QTemporaryFile>
#include <QtGlobal>

namespace MimeCheck {

// Runs the independent parser on `bytes`; fails the test on any problem.
inline QJsonObject parseWithPython(const QByteArray &bytes)
{
    QTemporaryFile file;
    if (!file.open() || file.write(bytes) != bytes.size() || !file.flush())
        return {};
    QProcess py;
    py.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral(MIME_PARSER_SCRIPT), file.fileName()});
    if (!py.waitForFinished(10000)) {
        py.kill();
        py.waitForFinished(1000);
        qWarning("python parser timed out");
        return {};
    }
    if (py.exitStatus() != QProcess::NormalExit || py.exitCode() != 0) {
        qWarning("python parser failed: %s", py.readAllStandardError().constData());
        return {};
    }
    return QJsonDocument::fromJson(py.readAllStandardOutput()).object();
}

// RFC 5322 2.1.1 / 2.3: CRLF only, no line over 998 octets. Returns a reason or empty.
inline QString wireProblem(const QByteArray &bytes, int maxLine = 998)
{
    qsizetype start = 0;
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        const char c = bytes.at(i);
        if (c == '\r' && (i + 1 >= bytes.size() || bytes.at(i + 1) != '\n'))
            return QStringLiteral("bare CR at %1").arg(i);
        if (c == '\n') {
            if (i == 0 || bytes.at(i - 1) != '\r')
                return QStringLiteral("bare LF at %1").arg(i);
            if (i - 1 - start > maxLine)
                return QStringLiteral("line of %1 octets at %2").arg(i - 1 - start).arg(start);
            start = i + 1;
        }
    }
    if (bytes.size() - start > maxLine)
        return QStringLiteral("last line too long");
    return {};
}

inline QByteArray headerBlock(const QByteArray &bytes)
{
    return bytes.left(bytes.indexOf("\r\n\r\n") + 2);
}

inline QString sha256(const QByteArray &b)
{
    return QString::fromLatin1(QCryptographicHash::hash(b, QCryptographicHash::Sha256).toHex());
}

inline QByteArray binaryBlob(int n)
{
    QByteArray b;
    b.reserve(n);
    quint32 x = 2463534242u; // xorshift: every byte value, NUL and bare CR/LF included
    for (int i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b.append(static_cast<char>(x & 0xff));
    }
    return b;
}

} // namespace MimeCheck
