#pragma once
// The server that answers in test mode (the reference's test flag): no
// connection is made, but the session runs for real against this responder, so
// the transcript and the bytes are exactly those a real session would produce.
// It speaks just enough SMTP for that: EHLO/HELO, MAIL, RCPT, DATA (until the
// end-of-data line), BDAT, RSET, NOOP, QUIT, and answers pipelined groups.

#include <QByteArray>

class SimulatedServer
{
public:
    [[nodiscard]] QByteArray greeting() const;
    // Client bytes in, server replies out.
    [[nodiscard]] QByteArray feed(QByteArrayView clientBytes);

private:
    QByteArray reply(const QByteArray &line);

    QByteArray m_line;       // partial command line
    bool m_inData = false;   // between 354 and the end of data
    int m_endMatch = 0;      // progress through "\r\n.\r\n"
    qint64 m_bdatRemaining = 0;
    bool m_bdatLast = false;
    int m_messages = 0;
};
