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

    [[nodiscard]] bool startTls() const { return has("STARTTLS"); }
    [[nodiscard]] bool pipelining() const { return has("PIPELINING"); }
    [[nodiscard]] bool eightBitMime() const { return has("8BITMIME"); }
    [[nodiscard]] bool smtpUtf8() const { return has("SMTPUTF8"); }
    [[nodiscard]] bool chunking() const { return has("CHUNKING"); }
    [[nodiscard]] bool binaryMime() const { return has("BINARYMIME"); }
    [[nodiscard]] bool dsn() const { return has("DSN"); }
    [[nodiscard]] bool enhancedStatusCodes() const { return has("ENHANCEDSTATUSCODES"); }
    [[nodiscard]] bool requireTls() const { return has("REQUIRETLS"); }

    struct Entry
    {
        QByteArray keyword;    // upper-cased
        QByteArray parameters; // as sent, trimmed
    };
    [[nodiscard]] const QList<Entry> &entries() const { return m_entries; }

private:
    QByteArray m_domain;
    QList<Entry> m_entries;
};

} // namespace Smtp
