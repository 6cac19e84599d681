#pragma once
// A read-only reading of a received message (.eml bytes) as a plain C++/Qt tree,
// for views that show what arrived: the decoded envelope-ish headers, the plain
// and HTML bodies, each MIME part with its type, charset, filename, disposition,
// Content-ID, decoded headers and decoded bytes. GMime does the parsing; nothing
// of GMime leaks into this header, so ui/ can include it.
//
// Bounded so that a hostile message cannot exhaust memory, time or the stack:
// the input size, the MIME nesting depth, the number of parts, the number of
// header fields (in one part and in all), the decoded size and the memory the
// parse is expected to need are checked (ParsedMessage::Limits). GMime builds
// its whole object tree before anything can be counted on it, so the structure
// is first measured by a scan that follows GMime's own rules (measure()) and a
// message over a bound is refused before GMime sees it, with the error kind
// TooComplex and the limit named (limitReached()).

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

struct ParsedPart
{
    QString contentType;  // "type/subtype", lower case (RFC 2045 5.1: case-insensitive)
    QString charset;      // the charset parameter, empty if none
    QString filename;     // Content-Disposition filename or Content-Type name, RFC 2231 / 2047 decoded
    QString disposition;  // "inline", "attachment" or empty (RFC 2183)
    QString contentId;    // without the angle brackets (RFC 2392)
    QList<QPair<QString, QString>> headers; // this part's own fields, values RFC 2047 decoded, in order
    QByteArray body;      // leaf parts: the bytes with the transfer encoding undone (RFC 2045 6)
    QString text;         // text/* leaf parts: body converted from its charset
    QList<ParsedPart> children; // multipart: its parts; message/rfc822: the embedded message's root
    int depth = 0;        // 0 for the message's root part
    int index = 0;        // position in ParsedMessage::allParts() (depth first, root 0)

    [[nodiscard]] bool isMultipart() const { return contentType.startsWith(QLatin1String("multipart/")); }
    [[nodiscard]] bool isLeaf() const { return children.isEmpty() && !isMultipart() && !isMessage(); }
    [[nodiscard]] bool isMessage() const { return contentType.startsWith(QLatin1String("message/")); }
    // The first value of a header field (case-insensitive name), decoded.
    [[nodiscard]] QString header(const QString &name) const;
};

class ParsedMessage
{
public:
    // The default bounds. Real mail stays far below each of them; a message
    // beyond one is shown as raw source only ("too complex to display").
    //
    // Input: the capture server's default SIZE is 50 MiB; 64 MiB leaves room for
    // a larger configured SIZE while keeping every later copy bounded.
    static constexpr qsizetype MaxInputSize = qsizetype(64) * 1024 * 1024;
    // Depth: RFC 2046 sets none; real mail nests 3 to 5 levels (mixed > related >
    // alternative, a forwarded message inside). 32 allows forwards of forwards.
    static constexpr int MaxDepth = 32;
    // Parts: a large newsletter has tens of inline images, a mailing-list digest
    // (RFC 2046 5.1.5) of 500 posts each with a text and an HTML alternative has
    // about 2,000 parts. 10,000 is five times that; GMime needs about 2.5 KiB
    // per part, so the tree stays near 25 MiB.
    static constexpr int MaxParts = 10000;
    // Fields in one header block: a message that crossed many relays carries
    // Received fields (RFC 5321 6.3 asks relays to stop a message past about 100
    // of them), DKIM and ARC signatures and filter verdicts: a few hundred at
    // most. 1,000 fields in one part is beyond any of those.
    static constexpr int MaxFieldsPerPart = 1000;
    // Fields in all: the digest above has about 20,000 (its posts' headers); a
    // field costs GMime about 0.5 KiB, so 50,000 stay near 25 MiB.
    static constexpr int MaxFields = 50000;
    // Decoded size: the decoded bytes of every leaf plus their text (UTF-16, two
    // bytes a character). Transfer decoding never grows the bytes, so a message
    // of MaxInputSize decodes to at most 64 MiB plus 128 MiB of text.
    static constexpr qint64 MaxDecodedSize = qint64(256) * 1024 * 1024;
    // Memory: what the parse is expected to need at its peak (GMime's tree at the
    // per-part and per-field costs above, the decoded content and its text), as
    // measured before GMime runs. A message within the bounds above stays under
    // about 350 MiB; this bound holds whatever the other limits are set to.
    static constexpr qint64 MaxMemory = qint64(512) * 1024 * 1024;

    struct Limits
    {
        qsizetype maxInputSize = MaxInputSize;
        int maxDepth = MaxDepth; // at most 256, to keep recursion shallow
        int maxParts = MaxParts;
        int maxFieldsPerPart = MaxFieldsPerPart;
        int maxFields = MaxFields;
        qint64 maxDecodedSize = MaxDecodedSize;
        qint64 maxMemory = MaxMemory;
    };

    enum class ErrorKind {
        None,
        TooLarge,   // more bytes than maxInputSize
        TooComplex, // over a structural bound: limitReached() says which
        NotAMessage // no header block could be read
    };
    // LineLength: a line of LongLine bytes or more that holds a delimiter of an
    // open boundary. GMime reads such a line in pieces and may take a piece
    // for a delimiter where the whole line is none (or the reverse), so the
    // structure cannot be measured; RFC 5322 2.1.1 allows 998 characters a
    // line and RFC 2046 5.1.1 keeps delimiters out of the content, so real mail
    // never has one.
    enum class Limit { None, InputSize, Depth, Parts, FieldsPerPart, Fields, DecodedSize, Memory, LineLength };
    static constexpr qsizetype LongLine = 4000; // below GMime's 4 KiB read buffer

    // What measure() found. Counting stops at the first bound crossed (`limit`),
    // so the counts are then partial.
    struct Complexity
    {
        int parts = 0;       // the parts allParts() would hold
        int fields = 0;      // header fields in all (an upper estimate: malformed lines count)
        int mostFieldsInPart = 0;
        int depth = 0;       // of the deepest part
        qint64 leafBytes = 0; // encoded content of the leaf parts
        qint64 textBytes = 0; // of which in text/* parts
        qint64 estimatedMemory = 0; // bytes; see MaxMemory
        Limit limit = Limit::None;
    };

    // Measures the structure of `bytes` as GMime would build it, without building
    // it: linear in the size, and nothing is allocated per part. Used by parse();
    // public so that tests and the fuzzer can hold it against the parsed tree.
    [[nodiscard]] static Complexity measure(const QByteArray &bytes, const Limits &limits);
    [[nodiscard]] static Complexity measure(const QByteArray &bytes);

    // Parses `bytes`; false and *error when refused (too large, too complex, or
    // not a message at all): errorKind() and limitReached() say why. A message
    // with broken structure (a boundary that never appears, a missing end) still
    // parses: whatever GMime recovers is kept.
    bool parse(const QByteArray &bytes, QString *error);
    bool parse(const QByteArray &bytes, const Limits &limits, QString *error);
    [[nodiscard]] bool isValid() const { return m_valid; }
    [[nodiscard]] ErrorKind errorKind() const { return m_errorKind; }
    [[nodiscard]] Limit limitReached() const { return m_limit; }
    [[nodiscard]] QString errorString() const { return m_error; }
    // For TooComplex: the limit reached in words ("more than 10000 MIME parts
    // (the limit on parts)"), for a view that says "too complex" itself.
    [[nodiscard]] QString limitDescription() const { return m_limitDescription; }

    // The message's top-level header fields, RFC 2047 decoded, in order.
    [[nodiscard]] const QList<QPair<QString, QString>> &headers() const { return m_headers; }
    [[nodiscard]] QString subject() const { return m_subject; }
    [[nodiscard]] QString from() const { return m_from; } // display form, decoded
    [[nodiscard]] QString to() const { return m_to; }
    [[nodiscard]] QString cc() const { return m_cc; }
    [[nodiscard]] QDateTime date() const { return m_date; } // invalid if absent or unparsable
    [[nodiscard]] QString dateText() const { return m_dateText; }

    // The body a reader would see: the first text/plain and text/html parts that
    // are not attachments, in document order (RFC 2046 5.1.4: in an alternative the
    // parts are equivalent, so each kind is picked from wherever it is).
    [[nodiscard]] QString plainBody() const { return m_plainBody; }
    [[nodiscard]] QString htmlBody() const { return m_htmlBody; }

    [[nodiscard]] const ParsedPart &root() const { return m_root; }
    // Leaf parts other than the chosen bodies that carry a file: attachments and
    // inline images (each once, in document order).
    [[nodiscard]] QList<const ParsedPart *> attachments() const;
    // The name shown for an attachment: its filename, or "part-N.<subtype>".
    [[nodiscard]] QString attachmentName(const ParsedPart *part) const;
    // The part whose Content-ID is `cid` (RFC 2392 "cid:" URL, percent-decoded, no brackets).
    [[nodiscard]] const ParsedPart *partByContentId(const QString &cid) const;
    // All parts, depth first (root first).
    [[nodiscard]] QList<const ParsedPart *> allParts() const;

private:
    bool m_valid = false;
    ErrorKind m_errorKind = ErrorKind::None;
    Limit m_limit = Limit::None;
    QString m_error;
    QString m_limitDescription;
    QList<QPair<QString, QString>> m_headers;
    QString m_subject;
    QString m_from;
    QString m_to;
    QString m_cc;
    QDateTime m_date;
    QString m_dateText;
    QString m_plainBody;
    QString m_htmlBody;
    ParsedPart m_root;
    // Indices into allParts() of the chosen bodies (-1: none); indices rather than
    // pointers so that copies of a ParsedMessage stay correct.
    int m_plainIndex = -1;
    int m_htmlIndex = -1;
};
