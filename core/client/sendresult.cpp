#include "sendresult.h"

#include "protocol/printable.h"

QString ServerReply::display(bool firstLineOnly) const
{
    if (!isValid())
        return {};
    // The text is the server's: each line shown by the escaping rule (printable.h).
    QStringList lines = desc.split(u'\n');
    if (firstLineOnly)
        lines = lines.mid(0, 1);
    for (QString &line : lines)
        line = Smtp::printable(line);
    QString text = lines.join(QStringLiteral(" / "));
    if (!enhanced.isEmpty() && !text.startsWith(enhanced))
        text = enhanced + u' ' + text;
    return text.isEmpty() ? QString::number(code) : QString::number(code) + u' ' + text;
}

QVariantMap ServerReply::toVariantMap() const
{
    QVariantMap m{{QStringLiteral("code"), code}, {QStringLiteral("desc"), desc}};
    if (!enhanced.isEmpty())
        m.insert(QStringLiteral("enhanced"), enhanced);
    return m;
}

QString TranscriptEntry::directionTag(Direction d)
{
    switch (d) {
    case Direction::Client: return QStringLiteral("C");
    case Direction::Server: return QStringLiteral("S");
    case Direction::Info: return QStringLiteral("*");
    case Direction::Error: return QStringLiteral("!");
    }
    return QStringLiteral("?");
}

QString TranscriptEntry::directionName(Direction d)
{
    switch (d) {
    case Direction::Client: return QStringLiteral("client");
    case Direction::Server: return QStringLiteral("server");
    case Direction::Info: return QStringLiteral("info");
    case Direction::Error: return QStringLiteral("error");
    }
    return QStringLiteral("info");
}

QVariantMap TranscriptEntry::toVariantMap() const
{
    return QVariantMap{{QStringLiteral("time_us"), timeUs},
                       {QStringLiteral("dir"), directionName(direction)},
                       {QStringLiteral("tls"), encrypted},
                       {QStringLiteral("text"), text}};
}

QVariantList TranscriptEntry::toVariantList(const QList<TranscriptEntry> &entries)
{
    QVariantList out;
    out.reserve(entries.size());
    for (const TranscriptEntry &e : entries)
        out.append(e.toVariantMap());
    return out;
}

QStringList SendResult::refusedRecipients() const
{
    QStringList out;
    for (const RecipientResult &r : recipients) {
        if (!r.accepted())
            out.append(r.address);
    }
    return out;
}

QVariantMap SendResult::toVariantMap() const
{
    QVariantMap m;
    // The reference's keys first.
    m.insert(usedHelo ? QStringLiteral("HELO") : QStringLiteral("EHLO"), ehlo.toVariantMap());
    QVariantMap rcpt;
    for (const RecipientResult &r : recipients)
        rcpt.insert(r.address, r.reply.toVariantMap());
    m.insert(QStringLiteral("RCPT"), rcpt);
    if (message.isValid())
        m.insert(QStringLiteral("MSGID"), message.toVariantMap());
    if (quit.isValid())
        m.insert(QStringLiteral("QUIT"), quit.toVariantMap());
    // And what the reference did not report.
    m.insert(QStringLiteral("target"), target);
    m.insert(QStringLiteral("security"), securityMode);
    m.insert(QStringLiteral("encrypted"), encrypted);
    m.insert(QStringLiteral("greeting"), greeting.toVariantMap());
    m.insert(QStringLiteral("capabilities"), capabilities);
    m.insert(QStringLiteral("capabilities_before_tls"), capabilitiesBeforeTls);
    if (tls.encrypted)
        m.insert(QStringLiteral("tls"), tls.toVariantMap());
    if (mail.isValid())
        m.insert(QStringLiteral("MAIL"), mail.toVariantMap());
    QVariantList auth;
    for (const auto &[mech, reply] : authAttempts) {
        QVariantMap a = reply.toVariantMap();
        a.insert(QStringLiteral("mechanism"), mech);
        auth.append(a);
    }
    if (!auth.isEmpty())
        m.insert(QStringLiteral("auth"), auth);
    m.insert(QStringLiteral("accepted"), accepted);
    m.insert(QStringLiteral("pipelined"), pipelined);
    m.insert(QStringLiteral("chunked"), chunked);
    m.insert(QStringLiteral("message_bytes"), messageBytes);
    m.insert(QStringLiteral("wire_bytes"), wireBytes);
    QVariantList t;
    for (const StepTiming &s : timings)
        t.append(QVariantMap{{QStringLiteral("step"), s.step}, {QStringLiteral("us"), s.us}});
    m.insert(QStringLiteral("timings"), t);
    if (!warnings.isEmpty())
        m.insert(QStringLiteral("warnings"), warnings);
    if (error.isError()) {
        m.insert(QStringLiteral("error"),
                 QVariantMap{{QStringLiteral("code"), error.code},
                             {QStringLiteral("category"), SmtpError::categoryName(error.category)},
                             {QStringLiteral("step"), error.step},
                             {QStringLiteral("message"), error.message},
                             {QStringLiteral("reply_code"), error.replyCode},
                             {QStringLiteral("enhanced"), error.enhancedCode},
                             {QStringLiteral("server_text"), QString::fromUtf8(error.serverText)}});
    }
    return m;
}

QString SendResult::transcriptText() const
{
    QString out;
    for (const TranscriptEntry &e : transcript) {
        out += TranscriptEntry::directionTag(e.direction);
        out += e.encrypted ? QStringLiteral(" [tls]: ") : QStringLiteral(": ");
        out += e.text;
        out += u'\n';
    }
    return out;
}
