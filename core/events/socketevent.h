#pragma once
// Socket and SMTP event records, with the reference's codes and field names
// (qore-behaviour.md "Socket events"). Each record is a QVariantMap so that it
// can go into an EventQueue and be shown or stored as is:
//   "event"     int code (SocketEvent::Type)
//   "event_name" the code as text ("PACKET_SENT")   [added: readable logs; not
//               "name", which HOSTNAME_LOOKUP uses for the host, as in the reference]
//   "source"    int, always SourceSocket for socket events, SourceSmtp for SMTP ones
//   "id"        qint64, unique per client object
//   "arg"       the caller's arg from setEventQueue()
//   "time"      qint64 microseconds since the Unix epoch [added]
//   plus the per-event fields below.

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QStringView>
#include <QVariant>
#include <QVariantMap>

namespace SocketEvent {

enum Type : int {
    // Reference socket events (values as in Qore's EVENT_* constants)
    PacketRead = 1,        // read, total_read, [total_to_read], [data]
    PacketSent = 2,        // socket, sent, total_sent, total_to_send, [data]
    ChannelClosed = 6,     // -
    Deleted = 7,           // -
    HostnameLookup = 8,    // name
    HostnameResolved = 9,  // type, typename ("ipv4"/"ipv6"), address
    Connecting = 12,       // type, typename, address, target, port
    Connected = 13,        // -
    StartSsl = 14,         // -
    SslEstablished = 15,   // cipher, cipher_version
    // SMTP-level events (added)
    CommandSent = 100,     // command (redacted), verb
    ReplyReceived = 101,   // code, enhanced, text
    StateChanged = 102,    // from, to
};

enum Source : int { SourceSocket = 4, SourceSmtp = 100 };

[[nodiscard]] QString typeName(int type); // "PACKET_SENT", ..., "UNKNOWN"
// The reverse of typeName() (for records read back from history): -1 if unknown.
[[nodiscard]] int typeFromName(QStringView name);

// The fields every record from make() has: event, name, source, id, arg, time.
[[nodiscard]] QStringList commonFields();
// The per-event fields that are always present for `type`, as listed above and in
// qore-behaviour.md; optional ones (total_to_read, data) are not included.
// Empty for events without extra fields and for unknown types.
[[nodiscard]] QStringList requiredFields(int type);

// Builds a record with the common fields filled in.
[[nodiscard]] QVariantMap make(Type type, qint64 id, const QVariant &arg);

} // namespace SocketEvent
