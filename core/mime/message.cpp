#include "message.h"

#include "messagelayout.h"
#include "regularfile.h"
#include "protocol/validation.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QMimeDatabase>
#include <QMutexLocker>
#include <QUrl>
#include <QUuid>


#include "gmimesupport.h"

namespace {

const QString kMessageError = QStringLiteral("MESSAGE-ERROR");

using MimeSupport::ensureGMime;
using MimeSupport::GRef;

// "Display Name <user@example.org>" or a bare address.
Message::Address splitAddress(const QString &text)
{
    const QString t = text.trimmed();
    const qsizetype lt = t.lastIndexOf(QLatin1Char('<'));
    if (t.endsWith(QLatin1Char('>')) && lt >= 0) {
        QString name = t.left(lt).trimmed();
        if (name.size() >= 2 && name.startsWith(QLatin1Char('"')) && name.endsWith(QLatin1Char('"')))
            name = name.mid(1, name.size() - 2);
        return {t.mid(lt + 1, t.size() - lt - 2).trimmed(), name};
    }
    return {t, {}};
}

bool hasLineBreakOrNul(const QString &s)
{
    for (QChar c : s) {
        if (c == QLatin1Char('\r') || c == QLatin1Char('\n') || c == QChar(0))
            return true;
    }
    return false;
}

// RFC 5322 2.2: a field name is one or more printable US-ASCII characters except ':'.
bool isValidFieldName(const QString &name)
{
    if (name.isEmpty())
        return false;
    for (QChar c : name) {
        const ushort u = c.unicode();
        if (u < 33 || u > 126 || u == ':')
            return false;
    }
    return true;
}

bool isOneOf(const QString &name, std::initializer_list<const char *> names)
{
    return std::any_of(names.begin(), names.end(),
                       [&](const char *n) { return name.compare(QLatin1String(n), Qt::CaseInsensitive) == 0; });
}

// Headers the composer writes itself from structured data; setting them as free
// text would bypass address validation, duplicate them, or leak Bcc (RFC 5322 3.6.3).
bool isReservedHeader(const QString &name)
{
    static const QStringList reserved = {
        QStringLiteral("From"), QStringLiteral("To"), QStringLiteral("Cc"), QStringLiteral("Bcc"),
        QStringLiteral("Reply-To"), QStringLiteral("Subject"), QStringLiteral("MIME-Version"),
    };
    for (const QString &r : reserved) {
        if (name.compare(r, Qt::CaseInsensitive) == 0)
            return true;
    }
    return name.startsWith(QStringLiteral("Content-"), Qt::CaseInsensitive);
}

// Text bodies are kept with LF line ends; GMime's DOS newline format turns every LF
// into CRLF on output (RFC 5322 2.3: lines end in CRLF, no bare CR or LF).
QByteArray normalizedText(const QString &text)
{
    QByteArray b = text.toUtf8();
    b.replace("\r\n", "\n");
    return b;
}

// RFC 2045 2.7 and 2.8: 7bit data is ASCII, 8bit data may have octets over 127;
// neither may have NUL, CR or LF other than as CRLF, or lines over 998 octets
// (RFC 5322 2.1.1). Returns the plainest that fits: 7bit, 8bit, or none (binary).
enum class TextFit { SevenBit, EightBit, Binary };
TextFit textFit(const QByteArray &lfText)
{
    qsizetype lineLength = 0;
    bool eight = false;
    for (char ch : lfText) {
        const auto u = static_cast<unsigned char>(ch);
        if (u == '\n') {
            lineLength = 0;
            continue;
        }
        if (u == 0 || u == '\r' || ++lineLength > 998)
            return TextFit::Binary;
        eight = eight || u > 127;
    }
    return eight ? TextFit::EightBit : TextFit::SevenBit;
}

void setContentFromBytes(GMimePart *part, const QByteArray &bytes)
{
    GRef<GMimeStream> mem(g_mime_stream_mem_new_with_buffer(bytes.constData(), static_cast<size_t>(bytes.size())));
    GRef<GMimeDataWrapper> wrapper(g_mime_data_wrapper_new_with_stream(mem.get(), GMIME_CONTENT_ENCODING_DEFAULT));
    g_mime_part_set_content(part, wrapper.get());
}

// A UTF-8 text part: 7bit when it fits; 8bit when it fits and the server takes
// it (BODY=8BITMIME, RFC 6152); else quoted-printable, readable and line-safe for
// mostly-ASCII text (RFC 2045 6.7, lines of at most 76 characters).
GMimeObject *newTextPart(const char *subtype, const QString &text, bool eightBitMime)
{
    const QByteArray bytes = normalizedText(text);
    GMimePart *part = g_mime_part_new_with_type("text", subtype);
    setContentFromBytes(part, bytes);
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
    const TextFit fit = textFit(bytes);
    GMimeContentEncoding encoding = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
    if (fit == TextFit::SevenBit)
        encoding = GMIME_CONTENT_ENCODING_7BIT;
    else if (fit == TextFit::EightBit && eightBitMime)
        encoding = GMIME_CONTENT_ENCODING_8BIT;
    g_mime_part_set_content_encoding(part, encoding);
    return GMIME_OBJECT(part);
}

// A base64 leaf part (attachment or inline) whose content is a placeholder in the
// skeleton: the layout reader encodes the real bytes there while sending
// (messagelayout.h), so a file is read only then, in chunks. Base64 keeps the
// exact bytes, where 7bit or quoted-printable text would have its line ends
// rewritten to CRLF on the way (RFC 2045 6.8, RFC 2046 4.1.1). The placeholder is
// declared already base64-encoded so that GMime copies it as it is. The filename
// goes into Content-Disposition and Content-Type name=, non-ASCII as RFC 2231
// parameters pinned to UTF-8 (RFC 2231 4).
GMimePart *newLeafPart(const QString &mimeType, const QByteArray &placeholder, const char *disposition,
                       const QString &name)
{
    const qsizetype slash = mimeType.indexOf(QLatin1Char('/'));
    const QByteArray type = mimeType.left(slash).toLatin1();
    const QByteArray subtype = mimeType.mid(slash + 1).toLatin1();
    GMimePart *part = g_mime_part_new_with_type(type.constData(), subtype.constData());
    GRef<GMimeStream> mem(
        g_mime_stream_mem_new_with_buffer(placeholder.constData(), static_cast<size_t>(placeholder.size())));
    GRef<GMimeDataWrapper> wrapper(g_mime_data_wrapper_new_with_stream(mem.get(), GMIME_CONTENT_ENCODING_BASE64));
    g_mime_part_set_content(part, wrapper.get());
    g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
    g_mime_object_set_disposition(GMIME_OBJECT(part), disposition);
    if (!name.isEmpty()) {
        g_mime_part_set_filename(part, name.toUtf8().constData());
        for (GMimeParamList *params :
             {g_mime_content_disposition_get_parameters(g_mime_object_get_content_disposition(GMIME_OBJECT(part))),
              g_mime_content_type_get_parameters(g_mime_object_get_content_type(GMIME_OBJECT(part)))}) {
            for (const char *param : {"filename", "name"}) {
                if (GMimeParam *p = g_mime_param_list_get_parameter(params, param))
                    g_mime_param_set_charset(p, "UTF-8");
            }
        }
    }
    return part;
}

QString mimeTypeFor(const QString &given, const QString &name, const QByteArray *data, const QString &path)
{
    if (!given.isEmpty())
        return given;
    QMimeDatabase db;
    if (!path.isEmpty()) {
        // Content sniffing reads the file: through a non-blocking open that takes
        // only a regular file (regularfile.h). Anything else is typed by its name
        // here and refused by checkSendPossible().
        QFile file(path);
        QString why;
        if (RegularFile::open(&file, &why))
            return db.mimeTypeForFileNameAndData(QFileInfo(path).fileName(), &file).name();
        return db.mimeTypeForFile(path, QMimeDatabase::MatchExtension).name();
    }
    return db.mimeTypeForFileNameAndData(name, *data).name();
}

QByteArray generatedDomain(const QString &address)
{
    const qsizetype at = address.lastIndexOf(QLatin1Char('@'));
    QString domain = at >= 0 ? address.mid(at + 1) : QString();
    // RFC 5322 3.6.4: id-right is a dot-atom; a domain literal or junk gets a
    // neutral reserved name instead (RFC 2606).
    for (QChar c : domain) {
        if (!(c.isLetterOrNumber() || c == QLatin1Char('.') || c == QLatin1Char('-')))
            return "smtpscope.invalid";
    }
    if (domain.isEmpty())
        return "smtpscope.invalid";
    return QUrl::toAce(domain).isEmpty() ? QByteArray("smtpscope.invalid") : QUrl::toAce(domain);
}

// What to do about a file that exists but is no regular file (RegularFile::problem).
QString notRegularHint(const QString &why)
{
    return why.contains(QLatin1String("not a regular file"))
        ? QStringLiteral(": only regular files can be attached (their size is measured before sending); "
                         "copy the data into a file first")
        : QString();
}

SmtpError messageError(const QString &text)
{
    return SmtpError::make(SmtpError::Category::Message, kMessageError, QStringLiteral("message"), text);
}

} // namespace

Message::Message(QString sender, QString subject)
    : m_sender(splitAddress(sender)), m_from(m_sender), m_subject(std::move(subject))
{
}

Message::~Message() = default;

void Message::invalidate()
{
    QMutexLocker lock(&m_mutex);
    for (auto &layout : m_layouts)
        layout.reset();
}

void Message::setFrom(const QString &address, const QString &displayName)
{
    m_from = {address.trimmed(), displayName};
    invalidate();
}

void Message::addTo(const QString &address, const QString &displayName)
{
    m_to.append({address.trimmed(), displayName});
    invalidate();
}

void Message::addCc(const QString &address, const QString &displayName)
{
    m_cc.append({address.trimmed(), displayName});
    invalidate();
}

void Message::addBcc(const QString &address, const QString &displayName)
{
    m_bcc.append({address.trimmed(), displayName});
    invalidate();
}

void Message::setReplyTo(const QString &address, const QString &displayName)
{
    m_replyTo = {address.trimmed(), displayName};
    invalidate();
}

void Message::setSubject(const QString &subject)
{
    m_subject = subject;
    invalidate();
}

void Message::setHeader(const QString &name, const QString &value)
{
    m_headers.removeIf([&](const Header &h) { return h.name.compare(name, Qt::CaseInsensitive) == 0; });
    m_headers.append({name, value});
    invalidate();
}

void Message::addHeader(const QString &name, const QString &value)
{
    m_headers.append({name, value});
    invalidate();
}

void Message::setText(const QString &plain)
{
    m_text = plain;
    m_hasText = true;
    invalidate();
}

void Message::setHtml(const QString &html)
{
    m_html = html;
    m_hasHtml = true;
    invalidate();
}

void Message::attachFile(const QString &path, const QString &mimeType, const QString &name)
{
    Attachment a;
    a.path = path;
    a.name = name.isEmpty() ? QFileInfo(path).fileName() : name;
    a.mimeType = mimeTypeFor(mimeType, a.name, nullptr, path);
    m_attachments.append(a);
    invalidate();
}

void Message::attachData(const QString &name, const QByteArray &data, const QString &mimeType)
{
    Attachment a;
    a.name = name;
    a.data = data;
    a.mimeType = mimeTypeFor(mimeType, name, &data, {});
    m_attachments.append(a);
    invalidate();
}

QString Message::newContentId() const
{
    // RFC 2392 2 / RFC 5322 3.6.4: a msg-id, globally unique; the same right-hand
    // side as the generated Message-ID.
    return QUuid::createUuid().toString(QUuid::WithoutBraces) + QLatin1Char('@')
           + QString::fromLatin1(generatedDomain(m_from.address.isEmpty() ? m_sender.address : m_from.address));
}

QString Message::addInlineFile(const QString &path, const QString &mimeType)
{
    InlinePart in;
    in.contentId = newContentId();
    in.path = path;
    in.name = QFileInfo(path).fileName();
    in.mimeType = mimeTypeFor(mimeType, in.name, nullptr, path);
    m_inlineParts.append(in);
    invalidate();
    return in.contentId;
}

QString Message::addInlineData(const QByteArray &bytes, const QString &mimeType, const QString &name)
{
    InlinePart in;
    in.contentId = newContentId();
    in.data = bytes;
    in.name = name;
    in.mimeType = mimeTypeFor(mimeType, name, &bytes, {});
    m_inlineParts.append(in);
    invalidate();
    return in.contentId;
}

void Message::important(bool on)
{
    m_important = on;
    invalidate();
}

void Message::requestReadReceipt(bool on)
{
    m_readReceipt = on;
    invalidate();
}

void Message::requestDeliveryReceipt(bool on)
{
    m_deliveryReceipt = on;
    invalidate();
}

QString Message::envelopeSender() const
{
    return m_sender.address;
}

QStringList Message::envelopeRecipients() const
{
    QStringList all;
    for (const QList<Address> *list : {&m_to, &m_cc, &m_bcc}) {
        for (const Address &a : *list)
            all.append(a.address);
    }
    return all;
}

bool Message::needsSmtpUtf8() const
{
    auto utf8Local = [](const Address &a) {
        const qsizetype at = a.address.lastIndexOf(QLatin1Char('@'));
        const QStringView local = QStringView(a.address).left(at < 0 ? a.address.size() : at);
        return std::any_of(local.begin(), local.end(), [](QChar c) { return c.unicode() > 127; });
    };
    for (const QList<Address> *list : {&m_to, &m_cc, &m_bcc}) {
        if (std::any_of(list->begin(), list->end(), utf8Local))
            return true;
    }
    return utf8Local(m_sender) || utf8Local(m_from) || utf8Local(m_replyTo);
}

SmtpError Message::checkSendPossible() const
{
    if (m_sender.address.isEmpty())
        return messageError(QStringLiteral("no sender: give the sender address"));

    // Every address is checked as it will appear in MAIL FROM / RCPT TO (RFC 5321
    // 4.1.2). A non-ASCII local part is allowed: the engine then requires SMTPUTF8
    // of the server (RFC 6531 3.4) and says so clearly when it is not offered.
    auto checkAddress = [](const Address &a, const QString &field) -> std::optional<SmtpError> {
        QString error;
        const auto mailbox = Smtp::parseMailbox(a.address, field, &error);
        if (!mailbox)
            return messageError(QStringLiteral("invalid %1 \"%2\": %3").arg(field, a.address, error));
        if (hasLineBreakOrNul(a.displayName))
            return messageError(QStringLiteral("the display name of %1 \"%2\" contains CR, LF or NUL")
                                    .arg(field, a.address));
        return std::nullopt;
    };

    if (auto e = checkAddress(m_sender, QStringLiteral("sender address")))
        return *e;
    if (!m_from.address.isEmpty() && m_from.address != m_sender.address) {
        if (auto e = checkAddress(m_from, QStringLiteral("From address")))
            return *e;
    } else if (hasLineBreakOrNul(m_from.displayName)) {
        return messageError(QStringLiteral("the From display name contains CR, LF or NUL"));
    }
    if (!m_replyTo.address.isEmpty()) {
        if (auto e = checkAddress(m_replyTo, QStringLiteral("Reply-To address")))
            return *e;
    }
    if (m_to.isEmpty() && m_cc.isEmpty() && m_bcc.isEmpty())
        return messageError(QStringLiteral("no recipient: add at least one To, Cc or Bcc address"));
    const std::pair<const QList<Address> *, QString> lists[] = {
        {&m_to, QStringLiteral("To address")},
        {&m_cc, QStringLiteral("Cc address")},
        {&m_bcc, QStringLiteral("Bcc address")},
    };
    for (const auto &[list, field] : lists) {
        for (const Address &a : *list) {
            if (auto e = checkAddress(a, field))
                return *e;
        }
    }

    // A CR or LF inside a header value would start a new header or the body
    // (header injection, RFC 5322 2.2); folding is GMime's job, not the caller's.
    if (hasLineBreakOrNul(m_subject))
        return messageError(QStringLiteral("the Subject contains CR, LF or NUL"));
    for (const Header &h : m_headers) {
        if (!isValidFieldName(h.name))
            return messageError(QStringLiteral("invalid header name \"%1\": use printable ASCII without ':' or spaces "
                                               "(RFC 5322 2.2)")
                                    .arg(h.name));
        if (isReservedHeader(h.name))
            return messageError(QStringLiteral("header \"%1\" is written by the composer: use the matching setter")
                                    .arg(h.name));
        if (hasLineBreakOrNul(h.value))
            return messageError(QStringLiteral("the value of header \"%1\" contains CR, LF or NUL").arg(h.name));
        // The priority and receipt options write these headers themselves; a
        // second copy with another value would leave the reader to guess which
        // one counts (RFC 5322 3.6 allows each of them at most once in spirit).
        const std::pair<bool, QString> owners[] = {
            {m_important && isOneOf(h.name, {"Importance", "X-Priority", "Priority"}), QStringLiteral("important()")},
            {m_readReceipt && isOneOf(h.name, {"Disposition-Notification-To"}), QStringLiteral("requestReadReceipt()")},
            {m_deliveryReceipt && isOneOf(h.name, {"Return-Receipt-To"}), QStringLiteral("requestDeliveryReceipt()")},
        };
        for (const auto &[clash, owner] : owners) {
            if (clash)
                return messageError(QStringLiteral("header \"%1\" is also written by %2: set one or the other")
                                        .arg(h.name, owner));
        }
    }
    // Only regular files: their size is part of the message's before it is sent
    // (regularfile.h), and a FIFO or a device would block or never end.
    for (const Attachment &a : m_attachments) {
        if (a.path.isEmpty())
            continue;
        if (const QString why = RegularFile::problem(a.path); !why.isEmpty())
            return messageError(QStringLiteral("attachment file \"%1\" %2%3")
                                    .arg(a.path, why, notRegularHint(why)));
    }
    for (const InlinePart &in : m_inlineParts) {
        if (!in.path.isEmpty()) {
            if (const QString why = RegularFile::problem(in.path); !why.isEmpty())
                return messageError(QStringLiteral("inline file \"%1\" %2%3")
                                        .arg(in.path, why, notRegularHint(why)));
        }
        if (hasLineBreakOrNul(in.name) || hasLineBreakOrNul(in.mimeType) || !in.mimeType.contains(QLatin1Char('/')))
            return messageError(QStringLiteral("inline part \"%1\" has an invalid MIME type \"%2\"")
                                    .arg(in.name, in.mimeType));
    }
    for (const Attachment &a : m_attachments) {
        if (hasLineBreakOrNul(a.name) || hasLineBreakOrNul(a.mimeType))
            return messageError(QStringLiteral("attachment \"%1\" has CR, LF or NUL in its name or type").arg(a.name));
        if (!a.mimeType.contains(QLatin1Char('/')))
            return messageError(QStringLiteral("attachment \"%1\" has an invalid MIME type \"%2\"").arg(a.name, a.mimeType));
    }
    return {};
}

std::shared_ptr<const MessageLayout> Message::layout(const BodyOptions &options, QString *error) const
{
    QMutexLocker lock(&m_mutex);
    // Text parts differ with 8BITMIME; nothing else depends on the options (UTF-8
    // addresses are written the same way; SMTPUTF8 only allows them, RFC 6532 3.2).
    std::shared_ptr<const MessageLayout> &cached = m_layouts[options.eightBitMime ? 1 : 0];
    if (cached && cached->isCurrent())
        return cached;
    cached.reset();
    auto made = std::make_shared<MessageLayout>();
    if (!buildLayout(options, made.get(), error))
        return nullptr;
    cached = made;
    return cached;
}

bool Message::buildLayout(const BodyOptions &options, MessageLayout *layout, QString *error) const
{
    ensureGMime();
    // Each attachment or inline part is a placeholder in the skeleton, unique to
    // this layout so that no text the user wrote can be taken for one.
    const QByteArray placeholderStem = "\x01smtpscope-part-" + QUuid::createUuid().toByteArray(QUuid::Id128) + '-';
    QList<QByteArray> placeholders;
    bool unreadable = false;
    auto addLeaf = [&](const QString &label, const QString &path, const QByteArray &data) -> QByteArray {
        MessageLayout::Leaf leaf;
        leaf.label = label;
        leaf.path = path;
        leaf.data = data;
        if (path.isEmpty()) {
            leaf.sourceSize = data.size();
        } else {
            const QFileInfo fi(path);
            if (const QString why = RegularFile::problem(path); !why.isEmpty()) {
                *error = QStringLiteral("%1: file \"%2\" %3").arg(label, path, why);
                unreadable = true;
            }
            leaf.sourceSize = fi.size();
            leaf.modified = fi.lastModified();
        }
        leaf.encodedSize = MessageLayout::base64Size(leaf.sourceSize);
        layout->leaves.append(leaf);
        placeholders.append(placeholderStem + QByteArray::number(placeholders.size()) + '\x01');
        return placeholders.last();
    };

    GRef<GMimeMessage> msg(g_mime_message_new(FALSE));
    GMimeObject *top = GMIME_OBJECT(msg.get());

    auto addMailbox = [&](GMimeAddressType type, const Address &a) {
        const QByteArray name = a.displayName.toUtf8();
        const QByteArray addr = a.address.toUtf8();
        // GMime writes non-ASCII names as RFC 2047 encoded-words and quotes specials
        // (RFC 5322 3.4), leaving the addr-spec itself untouched. The charset is
        // pinned to UTF-8; GMime would otherwise pick the "smallest" one (Latin-1).
        InternetAddress *ia = internet_address_mailbox_new(name.isEmpty() ? nullptr : name.constData(),
                                                           addr.constData());
        internet_address_set_charset(ia, "UTF-8");
        internet_address_list_add(g_mime_message_get_addresses(msg.get(), type), ia);
        g_object_unref(ia);
    };
    addMailbox(GMIME_ADDRESS_TYPE_FROM, m_from.address.isEmpty() ? m_sender : m_from);
    if (!m_replyTo.address.isEmpty())
        addMailbox(GMIME_ADDRESS_TYPE_REPLY_TO, m_replyTo);
    for (const Address &a : m_to)
        addMailbox(GMIME_ADDRESS_TYPE_TO, a);
    for (const Address &a : m_cc)
        addMailbox(GMIME_ADDRESS_TYPE_CC, a);
    // Bcc deliberately not added: RFC 5322 3.6.3 allows omitting it, and writing it
    // would reveal the blind recipients to everyone (the reference's defect).

    // RFC 2047 encoded-words when the subject is not ASCII.
    g_mime_message_set_subject(msg.get(), m_subject.toUtf8().constData(), "utf-8");

    bool hasDate = false;
    bool hasMessageId = false;
    for (const Header &h : m_headers) {
        hasDate = hasDate || h.name.compare(QStringLiteral("Date"), Qt::CaseInsensitive) == 0;
        hasMessageId = hasMessageId || h.name.compare(QStringLiteral("Message-ID"), Qt::CaseInsensitive) == 0;
    }
    // RFC 5322 3.6: Date is required, Message-ID should be present (3.6.4).
    if (!hasDate) {
        if (m_generatedDate.isEmpty())
            m_generatedDate = QDateTime::currentDateTime().toString(Qt::RFC2822Date).toLatin1();
        g_mime_object_set_header(top, "Date", m_generatedDate.constData(), nullptr);
    }
    if (!hasMessageId) {
        if (m_generatedMessageId.isEmpty())
            m_generatedMessageId = '<' + QUuid::createUuid().toString(QUuid::WithoutBraces).toLatin1() + '@'
                                   + generatedDomain(m_from.address.isEmpty() ? m_sender.address : m_from.address) + '>';
        g_mime_object_set_header(top, "Message-ID", m_generatedMessageId.constData(), nullptr);
    }
    if (m_important) {
        // No RFC defines a single priority header; clients read different ones, so
        // the reference writes all three: Importance (RFC 2156 / Outlook), X-Priority
        // (Eudora, Thunderbird) and Priority (RFC 2156 5.3.6, X.400 gateways).
        g_mime_object_set_header(top, "Importance", "high", nullptr);
        g_mime_object_set_header(top, "X-Priority", "1 (Highest)", nullptr);
        g_mime_object_set_header(top, "Priority", "urgent", nullptr);
    }
    const QByteArray receiptAddress = (m_from.address.isEmpty() ? m_sender.address : m_from.address).toUtf8();
    if (m_readReceipt) {
        // RFC 8098 2.1: the read (disposition) receipt goes to this mailbox. The
        // reference attached this to its "delivery" option and vice versa.
        g_mime_object_set_header(top, "Disposition-Notification-To", receiptAddress.constData(), nullptr);
    }
    if (m_deliveryReceipt) {
        // Return-Receipt-To is not standardised (only some servers honour it); the
        // real delivery status notification is RCPT TO ... NOTIFY=SUCCESS
        // (RFC 3461 4.1), to be added to the envelope in a later step.
        g_mime_object_set_header(top, "Return-Receipt-To", receiptAddress.constData(), nullptr);
    }
    for (const Header &h : m_headers)
        g_mime_object_append_header(top, h.name.toLatin1().constData(), h.value.toUtf8().constData(), "utf-8");
    g_mime_object_set_header(top, "MIME-Version", "1.0", nullptr);

    // Body: plain, HTML, or both as alternatives, plainest first (RFC 2046 5.1.4).
    GMimeObject *body = nullptr;
    if (m_hasText && m_hasHtml) {
        GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
        GRef<GMimeObject> plain(newTextPart("plain", m_text, options.eightBitMime));
        GRef<GMimeObject> html(newTextPart("html", m_html, options.eightBitMime));
        g_mime_multipart_add(alt, plain.get());
        g_mime_multipart_add(alt, html.get());
        body = GMIME_OBJECT(alt);
    } else if (m_hasHtml) {
        body = newTextPart("html", m_html, options.eightBitMime);
    } else if (m_hasText || m_attachments.isEmpty() || !m_inlineParts.isEmpty()) {
        // Inline parts need a root to belong to (RFC 2387 3.1), so an empty text part.
        body = newTextPart("plain", m_text, options.eightBitMime);
    }

    if (!m_inlineParts.isEmpty()) {
        // RFC 2387 3.1: the root (the body, possibly the whole alternative) comes
        // first; the type parameter is required and names the root's type (3.1).
        GMimeMultipart *related = g_mime_multipart_new_with_subtype("related");
        GMimeContentType *rootType = g_mime_object_get_content_type(body);
        char *rootMime = g_mime_content_type_get_mime_type(rootType);
        g_mime_object_set_content_type_parameter(GMIME_OBJECT(related), "type", rootMime);
        g_free(rootMime);
        g_mime_multipart_add(related, body);
        g_object_unref(body);
        for (const InlinePart &in : m_inlineParts) {
            // RFC 2183 2.1: shown inline; RFC 2045 7 / RFC 2392: the Content-ID the
            // HTML refers to as cid:.
            const QByteArray placeholder =
                addLeaf(QStringLiteral("inline part \"%1\"").arg(in.name.isEmpty() ? in.contentId : in.name), in.path,
                        in.data);
            GRef<GMimePart> part(newLeafPart(in.mimeType, placeholder, "inline", in.name));
            g_mime_object_set_content_id(GMIME_OBJECT(part.get()), in.contentId.toLatin1().constData());
            g_mime_multipart_add(related, GMIME_OBJECT(part.get()));
        }
        body = GMIME_OBJECT(related);
    }

    GMimeObject *root = body;
    if (!m_attachments.isEmpty()) {
        GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
        if (body) {
            g_mime_multipart_add(mixed, body);
            g_object_unref(body);
        }
        for (const Attachment &a : m_attachments) {
            // RFC 2183 2.2: an attachment, shown apart from the body.
            const QByteArray placeholder =
                addLeaf(QStringLiteral("attachment \"%1\"").arg(a.name), a.path, a.data);
            GRef<GMimePart> part(newLeafPart(a.mimeType, placeholder, "attachment", a.name));
            g_mime_multipart_add(mixed, GMIME_OBJECT(part.get()));
        }
        root = GMIME_OBJECT(mixed);
    }
    g_mime_message_set_mime_part(msg.get(), root);
    g_object_unref(root);
    if (unreadable)
        return false; // a message without a part it names is never sent

    GMimeFormatOptions *format = g_mime_format_options_new();
    // RFC 5322 2.3: CRLF line ends on the wire.
    g_mime_format_options_set_newline_format(format, GMIME_NEWLINE_FORMAT_DOS);
    // RFC 2231 for non-ASCII parameters (filenames), not the non-standard RFC 2047-in-quotes.
    g_mime_format_options_set_param_encoding_method(format, GMIME_PARAM_ENCODING_METHOD_RFC2231);
    GRef<GMimeStream> out(g_mime_stream_mem_new());
    const ssize_t written = g_mime_object_write_to_stream(top, format, out.get());
    g_mime_format_options_free(format);
    if (written < 0) {
        *error = QStringLiteral("the message could not be serialized");
        return false;
    }
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
    layout->skeleton = QByteArray(reinterpret_cast<const char *>(bytes->data), qsizetype(bytes->len));

    // Find each placeholder; the sizes of the parts replace theirs.
    layout->size = layout->skeleton.size();
    for (qsizetype i = 0; i < layout->leaves.size(); ++i) {
        MessageLayout::Leaf &leaf = layout->leaves[i];
        leaf.offset = layout->skeleton.indexOf(placeholders.at(i));
        if (leaf.offset < 0) {
            *error = QStringLiteral("%1 is missing from the serialized message").arg(leaf.label);
            return false;
        }
        leaf.placeholderLength = placeholders.at(i).size();
        layout->size += leaf.encodedSize - leaf.placeholderLength;
    }
    std::sort(layout->leaves.begin(), layout->leaves.end(),
              [](const MessageLayout::Leaf &a, const MessageLayout::Leaf &b) { return a.offset < b.offset; });
    // Parts are base64, so only the skeleton can hold 8-bit octets.
    layout->has8Bit = std::any_of(layout->skeleton.cbegin(), layout->skeleton.cend(),
                                  [](char c) { return static_cast<unsigned char>(c) > 127; });
    return true;
}

qint64 Message::size(const BodyOptions &options) const
{
    QString error;
    const auto l = layout(options, &error);
    return l ? l->size : -1;
}

bool Message::has8BitContent(const BodyOptions &options) const
{
    QString error;
    const auto l = layout(options, &error);
    return l && l->has8Bit;
}

std::unique_ptr<QIODevice> Message::openBody(const BodyOptions &options) const
{
    QString error;
    auto l = layout(options, &error);
    if (!l)
        return nullptr;
    // The reader holds the layout: an edit meanwhile makes a new one and leaves
    // this send reading what it started with.
    return std::make_unique<LayoutReader>(std::move(l));
}

QByteArray Message::toBytes(const BodyOptions &options) const
{
    std::unique_ptr<QIODevice> dev = openBody(options);
    return dev ? dev->readAll() : QByteArray();
}
