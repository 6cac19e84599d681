#pragma once
// ESMTP capabilities from an EHLO reply (RFC 5321 4.1.1.1): the first line is the
// server's domain and greeting text, each further line a keyword and parameters.

#include "reply.h"

#include <QByteArray>
#include <QList>
#include <QStringList>
#include <optional>

namespace Smtp {

class Capabilities
{
public:
    Capabilities() = default;
    static Capabilities fromEhloReply(const Reply &reply);

    [[nodiscard]] bool isEmpty() const { return m_entries.isEmpty(); }
    // Case-insensitive, whole keyword ("STARTTLSX" is not "STARTTLS").
    [[nodiscard]] bool has(QByteArrayView keyword) const;
    // Parameters after the keyword, as sent (e.g. "PLAIN LOGIN"); empty if none or absent.
    [[nodiscard]] QByteArray parameters(QByteArrayView keyword) const;

    [[nodiscard]] QByteArray domain() const { return m_domain; }
    // Upper-cased mechanism names, in server order, from every "AUTH ..." and the
    // old "AUTH=..." form, duplicates removed.
    [[nodiscard]] QStringList authMechanisms() const;
    // RFC 1870: "SIZE n". nullopt when SIZE is absent or its value is not a valid
    // non-negative integer that fits in 64 bits; 0 means "no fixed limit".
    [[nodiscard]] std::optional<quint64> sizeLimit() const;

    // The extensions the session asks about for every message, looked up once
    // when the reply is parsed (the engine checks them on its hot path).
    [[nodiscard]] bool startTls() const { return m_flags & StartTls; }
    [[nodiscard]] bool pipelining() const { return m_flags & Pipelining; }
    [[nodiscard]] bool eightBitMime() const { return m_flags & EightBitMime; }
    [[nodiscard]] bool smtpUtf8() const { return m_flags & SmtpUtf8; }
    [[nodiscard]] bool chunking() const { return m_flags & Chunking; }
    [[nodiscard]] bool binaryMime() const { return m_flags & BinaryMime; }
    [[nodiscard]] bool dsn() const { return m_flags & Dsn; }
    [[nodiscard]] bool enhancedStatusCodes() const { return m_flags & EnhancedStatusCodes; }
    [[nodiscard]] bool requireTls() const { return m_flags & RequireTls; }
    [[nodiscard]] bool size() const { return m_flags & Size; }

    struct Entry
    {
        QByteArray keyword;    // upper-cased
        QByteArray parameters; // as sent, trimmed
    };
    [[nodiscard]] const QList<Entry> &entries() const { return m_entries; }

private:
    enum Flag : quint32 {
        StartTls = 1 << 0, Pipelining = 1 << 1, EightBitMime = 1 << 2, SmtpUtf8 = 1 << 3,
        Chunking = 1 << 4, BinaryMime = 1 << 5, Dsn = 1 << 6, EnhancedStatusCodes = 1 << 7,
        RequireTls = 1 << 8, Size = 1 << 9,
    };
    void computeFlags();
    [[nodiscard]] std::optional<quint64> parseSizeLimit() const;

    QByteArray m_domain;
    QList<Entry> m_entries;
    quint32 m_flags = 0;
    std::optional<quint64> m_sizeLimit;
};

} // namespace Smtp
