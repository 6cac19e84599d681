#pragma once
// A read-only reading of a received message (.eml bytes) as a plain C++/Qt tree,
// for views that show what arrived: the decoded envelope-ish headers, the plain
// and HTML bodies, each MIME part with its type, charset, filename, disposition,
// Content-ID, decoded headers and decoded bytes. GMime does the parsing; nothing
// of GMime leaks into this header, so ui/ can include it.
//
// Bounded so that a hostile message cannot exhaust memory or the stack: input
// larger than MaxInputSize and MIME nesting deeper than MaxDepth are refused
// with an error instead of being parsed.

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

    [[nodiscard]] bool isMultipart() const { return contentType.startsWith(QLatin1String("multipart/")); }
    [[nodiscard]] bool isLeaf() const { return children.isEmpty() && !isMultipart() && !isMessage(); }
    [[nodiscard]] bool isMessage() const { return contentType.startsWith(QLatin1String("message/")); }
    // The first value of a header field (case-insensitive name), decoded.
    [[nodiscard]] QString header(const QString &name) const;
};

class ParsedMessage
{
public:
    static constexpr qsizetype MaxInputSize = qsizetype(64) * 1024 * 1024;
    static constexpr int MaxDepth = 32;

    // Parses `bytes`; false and *error when refused (too large, nested too deep,
    // or not a message at all). A message with broken structure (a boundary that
    // never appears, a missing end) still parses: whatever GMime recovers is kept.
    bool parse(const QByteArray &bytes, QString *error);
    [[nodiscard]] bool isValid() const { return m_valid; }

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
