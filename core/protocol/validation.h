#pragma once
// Checks on everything user-supplied that reaches an SMTP command line, done
// before any I/O (docs/security.md: CR, LF or NUL must never reach the
// wire inside a command).

#include <QByteArray>
#include <QString>
#include <optional>

namespace Smtp {

// An error message naming the field and what to do, or nullopt when valid.
using ValidationError = std::optional<QString>;

// Refuses CR, LF, NUL and other C0 controls (and DEL) in `value`.
// `field` names it in the message: "EHLO name", "sender address", ...
[[nodiscard]] ValidationError checkNoControlChars(QStringView value, QStringView field);

struct Mailbox
{
    QByteArray wire;       // the form for MAIL FROM:<...> / RCPT TO:<...>: domain in
                           // A-labels (punycode, RFC 5890) unless utf8 is needed
    bool needsSmtpUtf8 = false; // non-ASCII local part (RFC 6531)
};

// Parses an envelope address ("user@example.org", or "" for the null reverse-path
// when allowEmpty). Rejects control characters, missing '@', an empty local part
// or domain, spaces or '<' '>' outside a quoted local part, a local part over 64
// octets, a domain over 255, a path over 256 (RFC 5321 4.5.3.1.1-3). A domain
// literal "[1.2.3.4]" / "[IPv6:...]" is accepted as is.
// Non-ASCII domains become A-labels; a non-ASCII local part sets needsSmtpUtf8.
[[nodiscard]] std::optional<Mailbox> parseMailbox(QStringView address, QStringView field,
                                                  QString *error, bool allowEmpty = false);

// Checks an EHLO/HELO argument: a domain name or an address literal, no controls,
// no spaces, at most 255 octets (RFC 5321 4.1.1.1).
[[nodiscard]] ValidationError checkEhloName(QStringView name);

// RFC 3461 4: xtext encoding for ESMTP parameter values (ENVID, ORCPT).
[[nodiscard]] QByteArray xtextEncode(QByteArrayView value);

} // namespace Smtp
