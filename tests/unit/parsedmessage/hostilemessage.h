#pragma once
// Messages built to exhaust a MIME reader (shared by the ParsedMessage unit test,
// the capture panel GUI test and bench_parse): many parts, many header fields,
// and their well-formed neighbours just inside the bounds.

#include <QByteArray>

namespace Hostile {

inline QByteArray head(const QByteArray &contentType)
{
    return "From: a@example.test\r\nTo: b@example.test\r\nSubject: many parts\r\nMIME-Version: 1.0\r\n"
           "Content-Type: "
        + contentType + "\r\n\r\n";
}

// One multipart/mixed with `parts` text/plain parts of one line each: about 40
// bytes a part, so 1,000,000 parts make a 40 MB message (under the capture
// server's default 50 MiB SIZE).
inline QByteArray manyParts(int parts)
{
    QByteArray m = head("multipart/mixed; boundary=\"b\"");
    m.reserve(m.size() + qsizetype(parts) * 40 + 16);
    for (int i = 0; i < parts; ++i)
        m += "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n";
    m += "--b--\r\n";
    return m;
}

// The smallest parts there are: a delimiter and an empty header block, no
// header field that a callback could count (7 bytes a part).
inline QByteArray emptyParts(int parts)
{
    QByteArray m = head("multipart/mixed; boundary=\"b\"");
    m.reserve(m.size() + qsizetype(parts) * 7 + 16);
    for (int i = 0; i < parts; ++i)
        m += "--b\r\n\r\n";
    m += "--b--\r\n";
    return m;
}

// A mailing-list digest (RFC 2046 5.1.5): `messages` embedded messages, each a
// multipart/alternative of a text and an HTML part.
inline QByteArray digest(int messages)
{
    QByteArray m = head("multipart/digest; boundary=\"digest\"");
    for (int i = 0; i < messages; ++i) {
        const QByteArray n = QByteArray::number(i);
        m += "--digest\r\n\r\n" // RFC 2046 5.1.5: a digest's parts default to message/rfc822
             "From: member" + n + "@example.test\r\nSubject: post " + n + "\r\nMIME-Version: 1.0\r\n"
             "Content-Type: multipart/alternative; boundary=\"alt" + n + "\"\r\n\r\n"
             "--alt" + n + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\npost " + n + "\r\n"
             "--alt" + n + "\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>post " + n + "</p>\r\n"
             "--alt" + n + "--\r\n";
    }
    m += "--digest--\r\n";
    return m;
}

// One header block with `fields` fields (8 bytes each), then a short body.
inline QByteArray manyHeaders(int fields)
{
    QByteArray m = "From: a@example.test\r\nSubject: many fields\r\n";
    m.reserve(m.size() + qsizetype(fields) * 8 + 16);
    for (int i = 0; i < fields; ++i)
        m += "X-A: b\r\n";
    m += "\r\nbody\r\n";
    return m;
}

// `parts` parts, each with `fieldsPerPart` header fields: many fields in all,
// few in any one part.
inline QByteArray manyHeadersInParts(int parts, int fieldsPerPart)
{
    QByteArray m = head("multipart/mixed; boundary=\"b\"");
    for (int i = 0; i < parts; ++i) {
        m += "--b\r\n";
        for (int f = 0; f < fieldsPerPart; ++f)
            m += "X-A: b\r\n";
        m += "\r\nx\r\n";
    }
    m += "--b--\r\n";
    return m;
}

// One text/plain part of `bytes` bytes (8bit, 76-character lines).
inline QByteArray largeText(qsizetype bytes)
{
    QByteArray m = head("text/plain; charset=utf-8");
    const QByteArray line = QByteArray(74, 'a') + "\r\n";
    m.reserve(m.size() + bytes + line.size());
    while (m.size() < bytes)
        m += line;
    return m;
}

} // namespace Hostile
