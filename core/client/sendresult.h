#pragma once
// What one sendMessage() learnt: the reference's result keys (HELO/EHLO, RCPT,
// MSGID, QUIT, each {code, desc}) and more (greeting, capabilities before and
// after TLS, TLS details, enhanced status codes, per-step timings, transcript).

#include "smtperror.h"
#include "events/tlsinfo.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <QVariantMap>

struct ServerReply
{
    int code = 0;
    QString enhanced;   // "2.1.5" or empty
    QString desc;       // the reply text, lines joined with '\n'

    [[nodiscard]] bool isValid() const { return code != 0; }
    [[nodiscard]] QVariantMap toVariantMap() const; // {code, desc, enhanced}
    // "250 2.0.0 Ok: queued as X": the code, the enhanced code unless the text
    // already starts with it (RFC 2034 replies usually do), and the text: all its
    // lines joined with " / ", or only the first, each shown by the escaping rule
    // of protocol/printable.h. Empty for no reply.
    [[nodiscard]] QString display(bool firstLineOnly = false) const;
};

struct TranscriptEntry
{
    enum class Direction { Client, Server, Info, Error };
    qint64 timeUs = 0;      // microseconds since the session started
    Direction direction = Direction::Info;
    bool encrypted = false; // sent/received inside TLS
    QString text;           // one line, secrets redacted, control characters escaped

    [[nodiscard]] static QString directionTag(Direction d); // "C", "S", "*", "!"
    [[nodiscard]] static QString directionName(Direction d); // "client", "server", "info", "error"
    // JSON-friendly: { time_us, dir (directionName), tls, text }
    [[nodiscard]] QVariantMap toVariantMap() const;
    [[nodiscard]] static QVariantList toVariantList(const QList<TranscriptEntry> &entries);
};

struct StepTiming
{
    QString step;  // "lookup", "connect", "tls", "greeting", "EHLO", "MAIL FROM", "data", ...
    qint64 us = 0;
};

struct RecipientResult
{
    QString address;
    ServerReply reply;
    [[nodiscard]] bool accepted() const { return reply.code >= 200 && reply.code < 300; }
};

struct SendResult
{
    QString target;                 // host:port
    QString securityMode;           // "plain", "starttls", "starttls-opportunistic", "implicit-tls"
    bool encrypted = false;
    bool usedHelo = false;
    ServerReply greeting;
    ServerReply ehlo;               // reference "EHLO" or "HELO"
    QStringList capabilitiesBeforeTls;
    QStringList capabilities;       // after TLS when TLS was used
    TlsInfo tls;
    QString authMechanism;
    QList<QPair<QString, ServerReply>> authAttempts; // mechanism, reply
    ServerReply mail;
    QList<RecipientResult> recipients;
    ServerReply message;            // reference "MSGID": the reply to the end of data
    ServerReply quit;               // reference "QUIT" (empty with keep-alive)
    bool accepted = false;          // the server accepted the message at the end of data
    bool pipelined = false;
    bool chunked = false;           // BDAT (RFC 3030)
    qint64 messageBytes = 0;        // message size before dot-stuffing
    qint64 wireBytes = 0;           // bytes of message data written
    QList<StepTiming> timings;
    QStringList warnings;
    QList<TranscriptEntry> transcript;
    SmtpError error;                // set when the send failed
    // Test mode: what the client would have sent. The wire of a large message
    // is not kept whole (memory stays flat): the first SimulatedWireExcerpt
    // bytes, the size and the SHA-256 of all of it. SmtpClient::setTestWireFunction
    // hands out every byte as it goes.
    static constexpr qsizetype SimulatedWireExcerpt = 64 * 1024;
    QByteArray simulatedWire;       // the first bytes (all of them when simulatedWireBytes <= the excerpt)
    qint64 simulatedWireBytes = 0;  // size of the whole wire
    QByteArray simulatedWireSha256; // SHA-256 of the whole wire, lower-case hex

    [[nodiscard]] QStringList refusedRecipients() const;
    // Reference-compatible keys ("EHLO" or "HELO", "RCPT", "MSGID", "QUIT") plus
    // "greeting", "capabilities", "capabilities_before_tls", "tls", "auth",
    // "timings", "warnings", "pipelined", "chunked", "error".
    [[nodiscard]] QVariantMap toVariantMap() const;
    // The transcript as text, one entry a line: "C: EHLO x" / "S: 250 ok" with
    // "[tls]" marks, for logs and the CLI.
    [[nodiscard]] QString transcriptText() const;
};
