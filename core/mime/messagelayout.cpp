#include "messagelayout.h"

#include "regularfile.h"

#include <QBuffer>
#include <QFile>
#include <QFileInfo>

#include <cstring>

#include <gmime/gmime.h>

namespace {

constexpr qint64 SourceChunk = 48 * 1024; // a multiple of 3 and of 57 (one 76-column line)

} // namespace

bool MessageLayout::isCurrent() const
{
    for (const Leaf &leaf : leaves) {
        if (leaf.path.isEmpty())
            continue;
        const QFileInfo fi(leaf.path);
        if (!fi.isFile() || fi.size() != leaf.sourceSize || fi.lastModified() != leaf.modified)
            return false;
    }
    return true;
}

qint64 MessageLayout::base64Size(qint64 n)
{
    const qint64 chars = (n + 2) / 3 * 4;
    const qint64 lines = (chars + 75) / 76;
    return chars + 2 * lines;
}

// GMime's incremental base64 encoder (the one its own serializer uses), with
// its LF line ends made CRLF (RFC 5322 2.3).
struct LayoutReader::Encoder
{
    GMimeEncoding state;
    QByteArray scratch;

    Encoder() { g_mime_encoding_init_encode(&state, GMIME_CONTENT_ENCODING_BASE64); }

    void step(const char *in, qint64 n, QByteArray &out, bool last)
    {
        scratch.resize(qsizetype(g_mime_encoding_outlen(&state, size_t(n))) + 8);
        const size_t len = last ? g_mime_encoding_flush(&state, in, size_t(n), scratch.data())
                                : g_mime_encoding_step(&state, in, size_t(n), scratch.data());
        // Whole lines at a time: this runs over every byte of every attachment.
        const char *p = scratch.constData();
        const char *end = p + len;
        out.reserve(out.size() + qsizetype(len) + qsizetype(len) / 76 + 2);
        while (p < end) {
            const char *nl = static_cast<const char *>(memchr(p, '\n', size_t(end - p)));
            if (!nl) {
                out.append(p, end - p);
                break;
            }
            out.append(p, nl - p);
            out.append("\r\n", 2);
            p = nl + 1;
        }
    }
};

LayoutReader::LayoutReader(std::shared_ptr<const MessageLayout> layout) : m_layout(std::move(layout))
{
    // Unbuffered: QIODevice's own buffer would only add a copy.
    open(QIODevice::ReadOnly | QIODevice::Unbuffered);
}

LayoutReader::~LayoutReader() = default;

bool LayoutReader::atEnd() const
{
    return m_produced >= m_layout->size;
}

qint64 LayoutReader::bytesAvailable() const
{
    return std::max<qint64>(0, m_layout->size - m_produced) + QIODevice::bytesAvailable();
}

qint64 LayoutReader::fail(const QString &why)
{
    setErrorString(why);
    m_source.reset();
    m_encoder.reset();
    return -1;
}

bool LayoutReader::startLeaf()
{
    const MessageLayout::Leaf &leaf = m_layout->leaves.at(m_leaf);
    if (leaf.path.isEmpty()) {
        auto buffer = std::make_unique<QBuffer>();
        buffer->setData(leaf.data);
        buffer->open(QIODevice::ReadOnly);
        m_source = std::move(buffer);
    } else {
        // Never a blocking open: the file was a regular one when the layout was
        // made, but it may have been swapped for a FIFO since (regularfile.h).
        auto file = std::make_unique<QFile>(leaf.path);
        QString why;
        if (!RegularFile::open(file.get(), &why)) {
            setErrorString(QStringLiteral("%1: file \"%2\" %3").arg(leaf.label, leaf.path, why));
            return false;
        }
        m_source = std::move(file);
    }
    m_encoder = std::make_unique<Encoder>();
    m_inLeaf = true;
    m_sourceDone = false;
    m_sourceRead = 0;
    m_leafProduced = 0;
    m_pending.clear();
    m_pendingPos = 0;
    return true;
}

// Reads one chunk of the current part and encodes it into m_pending.
bool LayoutReader::refill()
{
    const MessageLayout::Leaf &leaf = m_layout->leaves.at(m_leaf);
    m_pending.clear();
    m_pendingPos = 0;
    m_chunk.resize(SourceChunk);
    const qint64 n = m_source->read(m_chunk.data(), SourceChunk);
    if (n < 0) {
        setErrorString(QStringLiteral("%1: reading \"%2\" failed: %3").arg(leaf.label, leaf.path, m_source->errorString()));
        return false;
    }
    m_sourceRead += n;
    // The size was promised before sending (SIZE=, progress): a file that grew
    // or shrank since is an error, not a silently different message.
    if (m_sourceRead > leaf.sourceSize || (n == 0 && m_sourceRead != leaf.sourceSize)) {
        setErrorString(QStringLiteral("%1: file \"%2\" changed while the message was being sent (%3 bytes when "
                                      "prepared, now %4 or more)")
                           .arg(leaf.label, leaf.path)
                           .arg(leaf.sourceSize)
                           .arg(m_sourceRead));
        return false;
    }
    const bool last = m_sourceRead == leaf.sourceSize;
    m_encoder->step(m_chunk.constData(), n, m_pending, last);
    m_sourceDone = last;
    m_leafProduced += m_pending.size();
    if (m_sourceDone && m_leafProduced != leaf.encodedSize) {
        setErrorString(QStringLiteral("%1: encoded to %2 bytes where %3 were expected")
                           .arg(leaf.label)
                           .arg(m_leafProduced)
                           .arg(leaf.encodedSize));
        return false;
    }
    return true;
}

qint64 LayoutReader::readData(char *data, qint64 maxSize)
{
    const QByteArray &skeleton = m_layout->skeleton;
    const QList<MessageLayout::Leaf> &leaves = m_layout->leaves;
    qint64 done = 0;
    while (done < maxSize) {
        if (m_inLeaf) {
            if (m_pendingPos < m_pending.size()) {
                const qint64 take = std::min(maxSize - done, qint64(m_pending.size()) - m_pendingPos);
                memcpy(data + done, m_pending.constData() + m_pendingPos, size_t(take));
                m_pendingPos += take;
                done += take;
                continue;
            }
            if (m_sourceDone) {
                // Past the placeholder, back in the skeleton.
                m_skeletonPos = leaves.at(m_leaf).offset + leaves.at(m_leaf).placeholderLength;
                m_inLeaf = false;
                m_source.reset();
                m_encoder.reset();
                ++m_leaf;
                continue;
            }
            if (!refill())
                return fail(errorString());
            continue;
        }
        const qint64 stop = m_leaf < leaves.size() ? leaves.at(m_leaf).offset : skeleton.size();
        if (m_skeletonPos < stop) {
            const qint64 take = std::min(maxSize - done, stop - m_skeletonPos);
            memcpy(data + done, skeleton.constData() + m_skeletonPos, size_t(take));
            m_skeletonPos += take;
            done += take;
            continue;
        }
        if (m_leaf < leaves.size()) {
            if (!startLeaf())
                return fail(errorString());
            continue;
        }
        break; // the end
    }
    m_produced += done;
    return done;
}
