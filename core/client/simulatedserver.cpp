#include "simulatedserver.h"

#include <QList>

#include <cstring>

QByteArray SimulatedServer::greeting() const
{
    return "220 simulated.smtpscope.invalid ESMTP test mode: nothing is delivered\r\n";
}

QByteArray SimulatedServer::reply(const QByteArray &line)
{
    const qsizetype space = line.indexOf(' ');
    const QByteArray verb = (space < 0 ? line : line.left(space)).toUpper();
    if (verb == "EHLO")
        return "250-simulated.smtpscope.invalid\r\n250-PIPELINING\r\n250-SIZE 0\r\n250-8BITMIME\r\n"
               "250-SMTPUTF8\r\n250 ENHANCEDSTATUSCODES\r\n";
    if (verb == "HELO")
        return "250 simulated.smtpscope.invalid\r\n";
    if (verb == "MAIL")
        return "250 2.1.0 Ok\r\n";
    if (verb == "RCPT")
        return "250 2.1.5 Ok\r\n";
    if (verb == "DATA") {
        m_inData = true;
        m_endMatch = 2; // the CRLF ending the DATA line counts as the start of "\r\n.\r\n"
        return "354 End data with <CR><LF>.<CR><LF>\r\n";
    }
    if (verb == "BDAT") {
        const QList<QByteArray> parts = line.split(' ');
        m_bdatRemaining = parts.value(1).toLongLong();
        m_bdatLast = parts.size() > 2 && parts.at(2).toUpper() == "LAST";
        if (m_bdatRemaining == 0)
            return m_bdatLast ? QByteArray("250 2.0.0 Ok: simulated, not delivered\r\n") : QByteArray("250 2.0.0 Ok\r\n");
        return QByteArray();
    }
    if (verb == "RSET" || verb == "NOOP")
        return "250 2.0.0 Ok\r\n";
    if (verb == "QUIT")
        return "221 2.0.0 Bye\r\n";
    return "502 5.5.2 Command not recognized\r\n";
}

QByteArray SimulatedServer::feed(QByteArrayView in)
{
    static constexpr char End[] = "\r\n.\r\n";
    QByteArray out;
    qsizetype i = 0;
    while (i < in.size()) {
        if (m_bdatRemaining > 0) {
            const qint64 take = std::min<qint64>(m_bdatRemaining, in.size() - i);
            m_bdatRemaining -= take;
            i += take;
            if (m_bdatRemaining == 0) {
                ++m_messages;
                out += m_bdatLast ? QByteArray("250 2.0.0 Ok: simulated, not delivered\r\n")
                                  : QByteArray("250 2.0.0 Ok\r\n");
            }
            continue;
        }
        if (m_inData) {
            // Outside a possible end-of-data line only a CR matters: skip to the
            // next one (the body of a large message goes through here).
            if (m_endMatch == 0) {
                const void *cr = std::memchr(in.data() + i, '\r', size_t(in.size() - i));
                if (!cr)
                    break;
                i = static_cast<const char *>(cr) - in.data();
            }
            const char c = in.at(i++);
            if (c == End[m_endMatch]) {
                if (++m_endMatch == 5) {
                    m_inData = false;
                    ++m_messages;
                    out += "250 2.0.0 Ok: simulated, not delivered\r\n";
                }
            } else {
                m_endMatch = c == '\r' ? 1 : 0;
            }
            continue;
        }
        const qsizetype nl = in.indexOf('\n', i);
        if (nl < 0) {
            m_line += in.sliced(i);
            break;
        }
        m_line += in.sliced(i, nl - i);
        i = nl + 1;
        if (m_line.endsWith('\r'))
            m_line.chop(1);
        out += reply(std::exchange(m_line, QByteArray()));
    }
    return out;
}
