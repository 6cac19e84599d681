// SocketEvent: codes and names as the reference has them (qore-behaviour.md
// "Socket events"), the common fields of every record, the per-event fields.

#include "events/socketevent.h"

#include <QTest>

#include <chrono>

class TestSocketEvent : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void typeName_data();
    void typeName();
    void unknownTypeName_data();
    void unknownTypeName();
    void requiredFields_data();
    void requiredFields();
    void make_data();
    void make();
};

void TestSocketEvent::typeName_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("name");
    // Values of Qore's EVENT_* constants, and our SMTP-level additions.
    QTest::addRow("packet-read") << 1 << "PACKET_READ";
    QTest::addRow("packet-sent") << 2 << "PACKET_SENT";
    QTest::addRow("channel-closed") << 6 << "CHANNEL_CLOSED";
    QTest::addRow("deleted") << 7 << "DELETED";
    QTest::addRow("hostname-lookup") << 8 << "HOSTNAME_LOOKUP";
    QTest::addRow("hostname-resolved") << 9 << "HOSTNAME_RESOLVED";
    QTest::addRow("connecting") << 12 << "CONNECTING";
    QTest::addRow("connected") << 13 << "CONNECTED";
    QTest::addRow("start-ssl") << 14 << "START_SSL";
    QTest::addRow("ssl-established") << 15 << "SSL_ESTABLISHED";
    QTest::addRow("command-sent") << 100 << "COMMAND_SENT";
    QTest::addRow("reply-received") << 101 << "REPLY_RECEIVED";
    QTest::addRow("state-changed") << 102 << "STATE_CHANGED";
}

void TestSocketEvent::typeName()
{
    QFETCH(int, code);
    QFETCH(QString, name);
    QCOMPARE(SocketEvent::typeName(code), name);
    QCOMPARE(SocketEvent::typeFromName(name), code);
}

void TestSocketEvent::unknownTypeName_data()
{
    QTest::addColumn<int>("code");
    QTest::addRow("zero") << 0;
    QTest::addRow("gap-3") << 3;
    QTest::addRow("gap-10") << 10;
    QTest::addRow("16") << 16;
    QTest::addRow("99") << 99;
    QTest::addRow("103") << 103;
    QTest::addRow("negative") << -1;
}

void TestSocketEvent::unknownTypeName()
{
    QFETCH(int, code);
    QCOMPARE(SocketEvent::typeName(code), QStringLiteral("UNKNOWN"));
    QCOMPARE(SocketEvent::typeFromName(QStringLiteral("UNKNOWN")), -1);
    QCOMPARE(SocketEvent::typeFromName(QStringLiteral("packet_read")), -1); // exact names only
    QVERIFY(SocketEvent::requiredFields(code).isEmpty());
}

void TestSocketEvent::requiredFields_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<QStringList>("fields");
    // Written out from the table in qore-behaviour.md, optional fields left out.
    QTest::addRow("packet-read") << int(SocketEvent::PacketRead) << QStringList{"read", "total_read"};
    QTest::addRow("packet-sent") << int(SocketEvent::PacketSent)
                                 << QStringList{"socket", "sent", "total_sent", "total_to_send"};
    QTest::addRow("channel-closed") << int(SocketEvent::ChannelClosed) << QStringList{};
    QTest::addRow("deleted") << int(SocketEvent::Deleted) << QStringList{};
    QTest::addRow("hostname-lookup") << int(SocketEvent::HostnameLookup) << QStringList{"name"};
    QTest::addRow("hostname-resolved") << int(SocketEvent::HostnameResolved)
                                       << QStringList{"type", "typename", "address"};
    QTest::addRow("connecting") << int(SocketEvent::Connecting)
                                << QStringList{"type", "typename", "address", "target", "port"};
    QTest::addRow("connected") << int(SocketEvent::Connected) << QStringList{};
    QTest::addRow("start-ssl") << int(SocketEvent::StartSsl) << QStringList{};
    QTest::addRow("ssl-established") << int(SocketEvent::SslEstablished)
                                     << QStringList{"cipher", "cipher_version"};
    QTest::addRow("command-sent") << int(SocketEvent::CommandSent) << QStringList{"command", "verb"};
    QTest::addRow("reply-received") << int(SocketEvent::ReplyReceived)
                                    << QStringList{"code", "enhanced", "text"};
    QTest::addRow("state-changed") << int(SocketEvent::StateChanged) << QStringList{"from", "to"};
}

void TestSocketEvent::requiredFields()
{
    QFETCH(int, code);
    QFETCH(QStringList, fields);
    QCOMPARE(SocketEvent::requiredFields(code), fields);
}

void TestSocketEvent::make_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<qint64>("id");
    QTest::addColumn<QVariant>("arg");
    QTest::addColumn<int>("source");
    QTest::addRow("connected-string-arg") << int(SocketEvent::Connected) << qint64(1)
                                          << QVariant(QStringLiteral("client-1")) << 4;
    QTest::addRow("packet-sent-int-arg") << int(SocketEvent::PacketSent) << qint64(2)
                                         << QVariant(12345) << 4;
    QTest::addRow("ssl-null-arg") << int(SocketEvent::SslEstablished) << qint64(9000000000LL)
                                  << QVariant() << 4;
    QTest::addRow("reply-smtp-source") << int(SocketEvent::ReplyReceived) << qint64(3)
                                       << QVariant(QVariantMap{{"k", 1}}) << 100;
    QTest::addRow("state-smtp-source") << int(SocketEvent::StateChanged) << qint64(3)
                                       << QVariant(true) << 100;
}

void TestSocketEvent::make()
{
    QFETCH(int, code);
    QFETCH(qint64, id);
    QFETCH(QVariant, arg);
    QFETCH(int, source);
    using namespace std::chrono;
    const auto nowUs = [] {
        return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
    };
    const qint64 before = nowUs();
    const QVariantMap r = SocketEvent::make(SocketEvent::Type(code), id, arg);
    const qint64 after = nowUs();

    QStringList keys = r.keys();
    QStringList common = SocketEvent::commonFields();
    keys.sort();
    common.sort();
    QCOMPARE(keys, common);
    QCOMPARE(r.value(QStringLiteral("event")).toInt(), code);
    QCOMPARE(r.value(QStringLiteral("event_name")).toString(), SocketEvent::typeName(code));
    QCOMPARE(r.value(QStringLiteral("source")).toInt(), source);
    QCOMPARE(r.value(QStringLiteral("id")).toLongLong(), id);
    QCOMPARE(r.value(QStringLiteral("arg")), arg);
    const qint64 time = r.value(QStringLiteral("time")).toLongLong();
    QVERIFY2(time >= before && time <= after,
             qPrintable(QStringLiteral("time %1 not in [%2, %3]").arg(time).arg(before).arg(after)));
}

QTEST_GUILESS_MAIN(TestSocketEvent)
#include "tst_socketevent.moc"
