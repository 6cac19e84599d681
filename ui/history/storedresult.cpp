#include "storedresult.h"

#include <QSslCertificate>

namespace {

ServerReply replyFrom(const QVariant &v)
{
    const QVariantMap m = v.toMap();
    ServerReply r;
    r.code = m.value(QStringLiteral("code")).toInt();
    r.enhanced = m.value(QStringLiteral("enhanced")).toString();
    r.desc = m.value(QStringLiteral("desc")).toString();
    return r;
}

SmtpError::Category categoryFrom(const QString &name)
{
    using C = SmtpError::Category;
    for (C c : {C::Usage, C::Message, C::Transport, C::Tls, C::Protocol, C::Reply, C::Auth}) {
        if (SmtpError::categoryName(c) == name)
            return c;
    }
    // An error was stored (the map exists) under a name this build does not know:
    // still an error.
    return C::Protocol;
}

TlsInfo tlsFrom(const QVariantMap &m, const QByteArray &pem)
{
    TlsInfo t;
    if (m.isEmpty())
        return t;
    t.encrypted = m.value(QStringLiteral("encrypted"), true).toBool();
    t.implicit = m.value(QStringLiteral("implicit")).toBool();
    t.protocol = m.value(QStringLiteral("protocol")).toString();
    t.cipher = m.value(QStringLiteral("cipher")).toString();
    t.cipherBits = m.value(QStringLiteral("bits")).toInt();
    t.peerVerifyName = m.value(QStringLiteral("peerVerifyName")).toString();
    t.verified = m.value(QStringLiteral("verified")).toBool();
    t.verificationEnabled = !m.value(QStringLiteral("insecure")).toBool();
    for (const QVariant &v : m.value(QStringLiteral("errors")).toList()) {
        const QVariantMap e = v.toMap();
        t.errors.append({e.value(QStringLiteral("name")).toString(), e.value(QStringLiteral("reason")).toString(),
                         e.value(QStringLiteral("subject")).toString()});
    }
    t.chain = QSslCertificate::fromData(pem, QSsl::Pem);
    return t;
}

} // namespace

SendResult sendResultFromRecord(const Store::SessionRecord &record)
{
    const QVariantMap &m = record.result;
    SendResult r;
    r.target = m.value(QStringLiteral("target"), record.target).toString();
    r.securityMode = m.value(QStringLiteral("security"), record.securityMode).toString();
    r.encrypted = m.value(QStringLiteral("encrypted")).toBool();
    r.usedHelo = m.contains(QStringLiteral("HELO"));
    r.greeting = replyFrom(m.value(QStringLiteral("greeting")));
    r.ehlo = replyFrom(m.value(r.usedHelo ? QStringLiteral("HELO") : QStringLiteral("EHLO")));
    r.capabilities = m.value(QStringLiteral("capabilities")).toStringList();
    r.capabilitiesBeforeTls = m.value(QStringLiteral("capabilities_before_tls")).toStringList();
    r.tls = tlsFrom(m.value(QStringLiteral("tls")).toMap(), record.certificateChain);
    for (const QVariant &v : m.value(QStringLiteral("auth")).toList()) {
        const QString mech = v.toMap().value(QStringLiteral("mechanism")).toString();
        r.authAttempts.append({mech, replyFrom(v)});
        r.authMechanism = mech;
    }
    r.mail = replyFrom(m.value(QStringLiteral("MAIL")));
    // RCPT is a map by address (the reference's shape): put the recipients back in
    // the envelope's order, then any the record did not list.
    const QVariantMap rcpt = m.value(QStringLiteral("RCPT")).toMap();
    QStringList order = record.recipients;
    for (auto it = rcpt.cbegin(); it != rcpt.cend(); ++it) {
        if (!order.contains(it.key()))
            order.append(it.key());
    }
    for (const QString &address : std::as_const(order)) {
        if (rcpt.contains(address))
            r.recipients.append({address, replyFrom(rcpt.value(address))});
    }
    r.message = replyFrom(m.value(QStringLiteral("MSGID")));
    r.quit = replyFrom(m.value(QStringLiteral("QUIT")));
    r.accepted = m.value(QStringLiteral("accepted")).toBool();
    r.pipelined = m.value(QStringLiteral("pipelined")).toBool();
    r.chunked = m.value(QStringLiteral("chunked")).toBool();
    r.messageBytes = m.value(QStringLiteral("message_bytes")).toLongLong();
    r.wireBytes = m.value(QStringLiteral("wire_bytes")).toLongLong();
    for (const QVariant &v : m.value(QStringLiteral("timings")).toList()) {
        const QVariantMap t = v.toMap();
        r.timings.append({t.value(QStringLiteral("step")).toString(), t.value(QStringLiteral("us")).toLongLong()});
    }
    r.warnings = m.value(QStringLiteral("warnings")).toStringList();
    r.transcript = record.transcript;
    if (m.contains(QStringLiteral("error"))) {
        const QVariantMap e = m.value(QStringLiteral("error")).toMap();
        r.error.category = categoryFrom(e.value(QStringLiteral("category")).toString());
        r.error.code = e.value(QStringLiteral("code")).toString();
        r.error.step = e.value(QStringLiteral("step")).toString();
        r.error.message = e.value(QStringLiteral("message")).toString();
        r.error.replyCode = e.value(QStringLiteral("reply_code")).toInt();
        r.error.enhancedCode = e.value(QStringLiteral("enhanced")).toString();
        r.error.serverText = e.value(QStringLiteral("server_text")).toString().toUtf8();
    }
    return r;
}
