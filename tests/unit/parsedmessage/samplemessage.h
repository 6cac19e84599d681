#pragma once
// A message with the shapes mail clients send (shared by the ParsedMessage unit
// test and the capture panel GUI test):
//
//   multipart/mixed
//     multipart/related
//       multipart/alternative
//         text/plain  (quoted-printable, UTF-8)
//         text/html   (base64; <img src="cid:logo@example.test"> and a remote image)
//       image/png     (base64, Content-ID <logo@example.test>, inline, logo.png)
//     application/pdf (base64, attachment, RFC 2231 filename "€ rates.pdf")
//     text/csv        (quoted-printable, attachment, RFC 2231 continued filename)
//
// The encoded forms below are written out by hand (not produced by the code under
// test), so the decoded values the tests expect are independent of it.

#include <QByteArray>
#include <QString>

namespace Sample {

// What the parts decode to.
inline QString plainText()
{
    return QStringLiteral("Caf\u00e9 menu: the long line goes on and on and on and on and on and on past "
                          "seventy-six characters.\r\nPrice = 5\u20ac\r\n");
}
inline QByteArray pdfBytes()
{
    QByteArray bytes;
    for (int i = 0; i < 256; ++i)
        bytes.append(char(i));
    return bytes;
}
inline QByteArray csvBytes() { return QByteArrayLiteral("a,b\r\n1=2,3\r\n"); }
inline QString subject() { return QStringLiteral("Caf\u00e9 \u2013 r\u00e9sum\u00e9 attached"); }
inline QString pdfName() { return QStringLiteral("\u20ac rates.pdf"); }
inline QString csvName() { return QStringLiteral("quarterly report 2026.csv"); }
inline QString htmlText(const QString &remoteUrl)
{
    return QStringLiteral("<html><body><p>Hello <b>world</b></p><img src=\"cid:logo@example.test\" alt=\"logo\">"
                          "<img src=\"%1\" alt=\"remote\"><a href=\"%1\">link</a></body></html>")
        .arg(remoteUrl);
}

// `image` is the image part's content (any bytes; the GUI test passes a real PNG).
inline QByteArray message(const QByteArray &image, const QString &remoteUrl = QStringLiteral("http://127.0.0.1:9/x.png"))
{
    QByteArray m;
    m += "Return-Path: <sender@example.test>\r\n";
    m += "From: =?UTF-8?Q?Ren=C3=A9e_Sender?= <sender@example.test>\r\n";
    m += "To: Alice <alice@example.test>, bob@example.test\r\n";
    m += "Cc: =?ISO-8859-1?Q?J=F6rg?= <joerg@example.test>\r\n";
    // RFC 2047 6.2: the space between two adjacent encoded-words is dropped.
    m += "Subject: =?UTF-8?B?Q2Fmw6kg4oCTIHLDqXN1bcOp?=\r\n =?UTF-8?Q?_attached?=\r\n";
    m += "Date: Thu, 26 Nov 2026 10:15:00 +0100\r\n";
    m += "Message-ID: <sample-1@example.test>\r\n";
    m += "MIME-Version: 1.0\r\n";
    m += "Content-Type: multipart/mixed; boundary=\"==outer==\"\r\n";
    m += "\r\n";
    m += "This is a multi-part message in MIME format.\r\n";
    m += "--==outer==\r\n";
    m += "Content-Type: multipart/related; boundary=\"rel-1\"; type=\"multipart/alternative\"\r\n";
    m += "\r\n";
    m += "--rel-1\r\n";
    m += "Content-Type: multipart/alternative;\r\n\tboundary=alt-1\r\n";
    m += "\r\n";
    m += "--alt-1\r\n";
    m += "Content-Type: text/plain; charset=UTF-8\r\n";
    m += "Content-Transfer-Encoding: quoted-printable\r\n";
    m += "\r\n";
    // A soft line break (RFC 2045 6.7 rule 5), an escaped "=" and UTF-8 octets.
    m += "Caf=C3=A9 menu: the long line goes on and on and on and on and on and on p=\r\n";
    m += "ast seventy-six characters.\r\n";
    m += "Price =3D 5=E2=82=AC\r\n";
    m += "--alt-1\r\n";
    m += "Content-Type: text/html; charset=UTF-8\r\n";
    m += "Content-Transfer-Encoding: base64\r\n";
    m += "\r\n";
    const QByteArray html = htmlText(remoteUrl).toUtf8().toBase64();
    for (qsizetype i = 0; i < html.size(); i += 76)
        m += html.mid(i, 76) + "\r\n";
    m += "--alt-1--\r\n";
    m += "\r\n";
    m += "--rel-1\r\n";
    m += "Content-Type: image/png; name=\"logo.png\"\r\n";
    m += "Content-Transfer-Encoding: base64\r\n";
    m += "Content-ID: <logo@example.test>\r\n";
    m += "Content-Disposition: inline; filename=\"logo.png\"\r\n";
    m += "\r\n";
    const QByteArray img = image.toBase64();
    for (qsizetype i = 0; i < img.size(); i += 76)
        m += img.mid(i, 76) + "\r\n";
    m += "--rel-1--\r\n";
    m += "--==outer==\r\n";
    m += "Content-Type: application/pdf\r\n";
    m += "Content-Transfer-Encoding: base64\r\n";
    // RFC 2231 4: charset'language'percent-encoded value.
    m += "Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf\r\n";
    m += "\r\n";
    const QByteArray pdf = pdfBytes().toBase64();
    for (qsizetype i = 0; i < pdf.size(); i += 76)
        m += pdf.mid(i, 76) + "\r\n";
    m += "--==outer==\r\n";
    m += "Content-Type: text/csv; charset=us-ascii\r\n";
    m += "Content-Transfer-Encoding: quoted-printable\r\n";
    // RFC 2231 3: a parameter continued over numbered sections.
    m += "Content-Disposition: attachment;\r\n filename*0*=us-ascii''quarterly%20report;\r\n filename*1=\" 2026.csv\"\r\n";
    m += "\r\n";
    m += "a,b\r\n1=3D2,3\r\n";
    m += "--==outer==--\r\n";
    return m;
}

} // namespace Sample
