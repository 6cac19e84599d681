#pragma once
// Test messages that carry their own body length and SHA-256 in the header
// block, so a stored copy can be proven complete (or not) on its own, by a test
// that did not see it being written (the kill tests).

#include <QByteArray>
#include <QCryptographicHash>
#include <QRandomGenerator>
#include <QString>

namespace TestMessage {

inline constexpr QByteArrayView kLengthField = "X-Test-Body-Length";
inline constexpr QByteArrayView kHashField = "X-Test-Body-SHA256";

// `size` bytes of CRLF-ended printable lines, different for each seed.
inline QByteArray body(qint64 size, quint32 seed)
{
    QRandomGenerator rng(seed);
    QByteArray out;
    out.reserve(size);
    while (out.size() < size) {
        QByteArray line(76, Qt::Uninitialized);
        for (char &c : line)
            c = char('A' + rng.bounded(26));
        line += "\r\n";
        out += line;
    }
    out.truncate(size);
    return out;
}

inline QByteArray header(const QByteArray &body, const QByteArray &subject, const QByteArray &from,
                         const QByteArray &to)
{
    return "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n" + kLengthField.toByteArray()
        + ": " + QByteArray::number(body.size()) + "\r\n" + kHashField.toByteArray() + ": "
        + QCryptographicHash::hash(body, QCryptographicHash::Sha256).toHex() + "\r\n\r\n";
}

inline QByteArray make(qint64 bodySize, quint32 seed, const QByteArray &subject = "test",
                       const QByteArray &from = "sender@example.test", const QByteArray &to = "rcpt@example.test")
{
    const QByteArray b = body(bodySize, seed);
    return header(b, subject, from, to) + b;
}

// True when the message's body has exactly the length and hash its header claims.
inline bool verify(const QByteArray &message, QString *why)
{
    const qsizetype end = message.indexOf("\r\n\r\n");
    if (end < 0) {
        *why = QStringLiteral("no end of header (%1 bytes)").arg(message.size());
        return false;
    }
    QByteArray length;
    QByteArray hash;
    for (const QByteArray &line : message.left(end).split('\n')) {
        const QByteArray l = line.trimmed();
        if (l.startsWith(kLengthField.toByteArray() + ':'))
            length = l.mid(kLengthField.size() + 1).trimmed();
        else if (l.startsWith(kHashField.toByteArray() + ':'))
            hash = l.mid(kHashField.size() + 1).trimmed();
    }
    const QByteArray b = message.mid(end + 4);
    if (length.isEmpty() || hash.isEmpty()) {
        *why = QStringLiteral("no length or hash field");
        return false;
    }
    if (length.toLongLong() != b.size()) {
        *why = QStringLiteral("body is %1 bytes, header says %2").arg(b.size()).arg(QString::fromLatin1(length));
        return false;
    }
    if (QCryptographicHash::hash(b, QCryptographicHash::Sha256).toHex() != hash) {
        *why = QStringLiteral("body hash differs from the header's");
        return false;
    }
    return true;
}

} // namespace TestMessage
