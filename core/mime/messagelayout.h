#pragma once
// The serialized form of a composed Message, streamed without a copy on disk.
//
// GMime writes the structure (headers, text parts, boundaries) into a small
// "skeleton" in which each attachment or inline part's content is a unique
// placeholder. LayoutReader streams the skeleton and, on reaching a placeholder,
// encodes that part's bytes to base64 as it reads them (from disk for files).
// Memory stays flat whatever the attachment size, and the exact size is known
// before sending (for SIZE=, RFC 1870, and progress): the length of base64 text is
// a function of the input length (RFC 2045 6.8).

#include <QByteArray>
#include <QDateTime>
#include <QIODevice>
#include <QList>
#include <QString>
#include <memory>

struct MessageLayout
{
    struct Leaf
    {
        qint64 offset = 0;            // where the placeholder starts in the skeleton
        qint64 placeholderLength = 0;
        QString label;                // "attachment \"a.pdf\"", for error messages
        QString path;                 // read from this file while streaming ...
        QByteArray data;              // ... or these bytes
        qint64 sourceSize = 0;        // bytes of the file (or data) when laid out
        QDateTime modified;           // the file's modification time then
        qint64 encodedSize = 0;       // base64 with CRLF line ends
    };

    QByteArray skeleton;
    QList<Leaf> leaves;               // in skeleton order
    qint64 size = 0;                  // the whole message
    bool has8Bit = false;

    // False when a file part changed on disk since the layout was made.
    [[nodiscard]] bool isCurrent() const;
    // Size of GMime's base64 output for n input bytes: 76-character lines, each
    // ending in CRLF (RFC 2045 6.8 allows at most 76).
    [[nodiscard]] static qint64 base64Size(qint64 n);
};

// A sequential device yielding the message bytes of a layout. A file part that
// cannot be read, or whose size changed since the layout was made, is a read
// error (-1): the engine then drops the session instead of ending the data, so
// half a message is never taken for a whole one.
class LayoutReader : public QIODevice
{
public:
    explicit LayoutReader(std::shared_ptr<const MessageLayout> layout);
    ~LayoutReader() override;

    [[nodiscard]] bool isSequential() const override { return true; }
    [[nodiscard]] bool atEnd() const override;
    [[nodiscard]] qint64 bytesAvailable() const override;

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    bool startLeaf();
    bool refill();
    qint64 fail(const QString &why);

    std::shared_ptr<const MessageLayout> m_layout;
    qint64 m_skeletonPos = 0;   // next skeleton byte to copy
    int m_leaf = 0;             // next (or current) leaf
    bool m_inLeaf = false;
    std::unique_ptr<QIODevice> m_source;
    struct Encoder;
    std::unique_ptr<Encoder> m_encoder;
    QByteArray m_chunk;         // source bytes being encoded
    QByteArray m_pending;       // encoded bytes not yet handed out
    qint64 m_pendingPos = 0;
    qint64 m_sourceRead = 0;
    qint64 m_leafProduced = 0;
    qint64 m_produced = 0;
    bool m_sourceDone = false;
};
