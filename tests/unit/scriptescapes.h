#pragma once
// The escapes of the transcript scripts (tests/unit/session, tests/unit/capture):
// \r \n \t \0 \\ \" and \xHH, decoded into bytes and printed back.

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringView>

namespace ScriptEscapes {

// Bytes as a readable one-line string for failure messages and transcripts.
inline QString printable(QByteArrayView bytes)
{
    QString out;
    for (const char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\r')
            out += QStringLiteral("\\r");
        else if (c == '\n')
            out += QStringLiteral("\\n");
        else if (c == '\\')
            out += QStringLiteral("\\\\");
        else if (c < 0x20 || c >= 0x7f)
            out += QStringLiteral("\\x%1").arg(uint(c), 2, 16, QLatin1Char('0'));
        else
            out += QLatin1Char(char(c));
    }
    return out;
}

// Decodes the script escapes; sets *error (and returns what was decoded so far)
// on a malformed one.
inline QByteArray decodeEscapes(QStringView text, QString *error)
{
    const QByteArray in = text.toUtf8();
    QByteArray out;
    out.reserve(in.size());
    for (qsizetype i = 0; i < in.size(); ++i) {
        const char c = in.at(i);
        if (c != '\\') {
            out.append(c);
            continue;
        }
        if (i + 1 >= in.size()) {
            *error = QStringLiteral("dangling backslash");
            return out;
        }
        const char e = in.at(++i);
        switch (e) {
        case 'r': out.append('\r'); break;
        case 'n': out.append('\n'); break;
        case 't': out.append('\t'); break;
        case '0': out.append('\0'); break;
        case '\\': out.append('\\'); break;
        case '"': out.append('"'); break;
        case 'x': {
            bool ok = false;
            const int v = i + 2 < in.size() ? in.mid(i + 1, 2).toInt(&ok, 16) : 0;
            if (!ok) {
                *error = QStringLiteral("bad \\x escape");
                return out;
            }
            out.append(char(v));
            i += 2;
            break;
        }
        default:
            *error = QStringLiteral("unknown escape \\%1").arg(QLatin1Char(e));
            return out;
        }
    }
    return out;
}

} // namespace ScriptEscapes
