#include "socketevent.h"

#include <array>
#include <chrono>

namespace SocketEvent {

namespace {

struct TypeInfo
{
    Type type;
    const char *name;
    const char *fields; // space-separated required per-event fields
};

// One table for names and fields, so the two can never disagree. Names are the
// reference's (Qore EVENT_* constants without the prefix); the SMTP-level ones
// are ours.
constexpr std::array<TypeInfo, 13> kTypes{{
    {PacketRead, "PACKET_READ", "read total_read"},
    {PacketSent, "PACKET_SENT", "socket sent total_sent total_to_send"},
    {ChannelClosed, "CHANNEL_CLOSED", ""},
    {Deleted, "DELETED", ""},
    {HostnameLookup, "HOSTNAME_LOOKUP", "name"},
    {HostnameResolved, "HOSTNAME_RESOLVED", "type typename address"},
    {Connecting, "CONNECTING", "type typename address target port"},
    {Connected, "CONNECTED", ""},
    {StartSsl, "START_SSL", ""},
    {SslEstablished, "SSL_ESTABLISHED", "cipher cipher_version"},
    {CommandSent, "COMMAND_SENT", "command verb"},
    {ReplyReceived, "REPLY_RECEIVED", "code enhanced text"},
    {StateChanged, "STATE_CHANGED", "from to"},
}};

const TypeInfo *find(int type)
{
    for (const TypeInfo &t : kTypes) {
        if (t.type == type)
            return &t;
    }
    return nullptr;
}

qint64 nowMicroseconds()
{
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace

QString typeName(int type)
{
    const TypeInfo *t = find(type);
    return t ? QString::fromLatin1(t->name) : QStringLiteral("UNKNOWN");
}

int typeFromName(QStringView name)
{
    for (const TypeInfo &t : kTypes) {
        if (name == QLatin1String(t.name))
            return t.type;
    }
    return -1;
}

QStringList commonFields()
{
    return {QStringLiteral("event"), QStringLiteral("event_name"), QStringLiteral("source"),
            QStringLiteral("id"),    QStringLiteral("arg"),  QStringLiteral("time")};
}

QStringList requiredFields(int type)
{
    const TypeInfo *t = find(type);
    if (!t)
        return {};
    return QString::fromLatin1(t->fields).split(QLatin1Char(' '), Qt::SkipEmptyParts);
}

QVariantMap make(Type type, qint64 id, const QVariant &arg)
{
    QVariantMap record;
    record.insert(QStringLiteral("event"), int(type));
    record.insert(QStringLiteral("event_name"), typeName(type));
    // Socket-level codes are below 100; SMTP-level ones (our additions) from 100.
    record.insert(QStringLiteral("source"), int(type) >= CommandSent ? int(SourceSmtp)
                                                                     : int(SourceSocket));
    record.insert(QStringLiteral("id"), id);
    // Always present (null when the caller gave none), so consumers can rely on it.
    record.insert(QStringLiteral("arg"), arg);
    record.insert(QStringLiteral("time"), nowMicroseconds());
    return record;
}

} // namespace SocketEvent
