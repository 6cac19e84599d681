#pragma once
// The session records the kill test's writer stores and the test checks: each
// is a pure function of its sequence number, so the reader can tell exactly what
// a committed row must contain.

#include "store/sessionrecord.h"

#include <QDateTime>
#include <QTimeZone>

namespace TestRecord {

inline QDateTime baseTime()
{
    return QDateTime(QDate(2024, 3, 1), QTime(8, 0), QTimeZone::utc());
}

// About 40 transcript lines, some events, a PEM-like chain and a message whose
// size varies (some large, so a kill often lands inside a big write).
inline Store::SessionRecord numbered(int n)
{
    using D = TranscriptEntry::Direction;
    Store::SessionRecord r;
    r.kind = n % 3 == 0 ? Store::SessionKind::Probe : Store::SessionKind::Send;
    r.started = baseTime().addSecs(n);
    r.durationUs = 1000 + n;
    r.source = QStringLiteral("cli");
    r.profile = QStringLiteral("profile-%1").arg(n % 4);
    r.target = QStringLiteral("127.0.0.1:%1").arg(1025 + n % 50);
    r.securityMode = QStringLiteral("starttls");
    r.user = QStringLiteral("user%1").arg(n);
    r.outcome = n % 5 == 0 ? QStringLiteral("rejected") : QStringLiteral("accepted");
    r.subject = QStringLiteral("kill test %1").arg(n);
    r.from = QStringLiteral("from%1@example.test").arg(n);
    r.recipients = {QStringLiteral("a%1@example.test").arg(n), QStringLiteral("b@example.test")};
    r.result = {{QStringLiteral("n"), n}, {QStringLiteral("accepted"), n % 5 != 0}};
    r.usage = {{QStringLiteral("bytes_sent"), n * 10}};
    for (int i = 0; i < 40; ++i) {
        TranscriptEntry e;
        e.timeUs = i * 100;
        e.direction = i % 2 == 0 ? D::Client : D::Server;
        e.encrypted = i > 6;
        e.text = QStringLiteral("line %1 of session seq%2").arg(i).arg(n);
        r.transcript.append(e);
    }
    for (int i = 0; i < 10; ++i)
        r.events.append({{QStringLiteral("type"), QStringLiteral("Read")}, {QStringLiteral("i"), i}});
    r.certificateChain = QByteArray("-----BEGIN CERTIFICATE-----\n") + QByteArray::number(n).repeated(20)
        + QByteArray("\n-----END CERTIFICATE-----\n");
    const int messageSize = n % 7 == 0 ? 300 * 1024 : 500 + n % 3000;
    r.message = QByteArray(messageSize, char('a' + n % 26));
    r.messageBytes = messageSize;
    return r;
}

} // namespace TestRecord
