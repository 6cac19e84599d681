#include "outgoingmessage.h"

#include <QBuffer>
#include <QFile>
#include <QFileInfo>

namespace {

bool has8Bit(QByteArrayView data)
{
    return std::any_of(data.begin(), data.end(), [](char c) { return static_cast<unsigned char>(c) > 127; });
}

SmtpError messageError(const QString &step, const QString &message)
{
    return SmtpError::make(SmtpError::Category::Message, QStringLiteral("MESSAGE-ERROR"), step, message);
}

} // namespace

RawMessage::RawMessage(QString sender, QStringList recipients, QByteArray data)
    : m_sender(std::move(sender))
    , m_recipients(std::move(recipients))
    , m_data(std::move(data))
{
}

RawMessage RawMessage::fromFile(QString sender, QStringList recipients, QString path)
{
    RawMessage m;
    m.m_sender = std::move(sender);
    m.m_recipients = std::move(recipients);
    m.m_path = std::move(path);
    return m;
}

SmtpError RawMessage::checkSendPossible() const
{
    if (m_recipients.isEmpty())
        return messageError(QStringLiteral("RCPT TO"), QStringLiteral("the message has no recipient"));
    if (!m_path.isEmpty()) {
        QFileInfo fi(m_path);
        if (!fi.exists())
            return messageError(QStringLiteral("message"), QStringLiteral("the message file %1 does not exist").arg(m_path));
        if (!fi.isReadable() || !fi.isFile())
            return messageError(QStringLiteral("message"), QStringLiteral("the message file %1 cannot be read").arg(m_path));
    }
    return {};
}

qint64 RawMessage::size(const BodyOptions &) const
{
    if (m_path.isEmpty())
        return m_data.size();
    QFileInfo fi(m_path);
    return fi.exists() ? fi.size() : -1;
}

bool RawMessage::has8BitContent(const BodyOptions &) const
{
    if (m_8bit >= 0)
        return m_8bit == 1;
    if (m_path.isEmpty()) {
        m_8bit = has8Bit(m_data) ? 1 : 0;
        return m_8bit == 1;
    }
    // One streaming pass over the file; memory stays flat.
    QFile f(m_path);
    m_8bit = 0;
    if (f.open(QIODevice::ReadOnly)) {
        QByteArray buf(1 << 20, Qt::Uninitialized);
        qint64 n;
        while ((n = f.read(buf.data(), buf.size())) > 0) {
            if (has8Bit(QByteArrayView(buf.constData(), n))) {
                m_8bit = 1;
                break;
            }
        }
    }
    return m_8bit == 1;
}

std::unique_ptr<QIODevice> RawMessage::openBody(const BodyOptions &) const
{
    if (m_path.isEmpty()) {
        auto buf = std::make_unique<QBuffer>();
        buf->setData(m_data);
        buf->open(QIODevice::ReadOnly);
        return buf;
    }
    auto f = std::make_unique<QFile>(m_path);
    if (!f->open(QIODevice::ReadOnly))
        return nullptr;
    return f;
}
