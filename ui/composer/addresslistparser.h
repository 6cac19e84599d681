#pragma once
// Splits what a user types in an address field (From, To, Cc, Bcc) into
// mailboxes: a comma-separated list of "Display Name <user@example.org>" or bare
// addresses (RFC 5322 3.4 address-list). Only the list syntax is handled here:
// whether each address is a valid mailbox is decided by core's Message (see
// validateAddress), so the rules exist once.

#include "mime/message.h"

#include <QList>
#include <QString>

namespace AddressListParser {

struct Entry
{
    Message::Address mailbox;
    QString source; // the entry as typed, trimmed, for error messages
};

// The entries of `text`, in order. Separators are ',' (RFC 5322 3.4) and, as a
// convenience many mail programs offer, ';', both only outside quoted strings,
// comments and angle brackets: "\"Doe, John\" <j@example.org>" is one entry.
// Empty entries (a trailing comma) are skipped. Returns false and sets *error
// (naming the entry) on a list that cannot be split: an unclosed quote, '<'
// without '>', text after '>'.
bool parse(const QString &text, QList<Entry> *entries, QString *error);

// Why `mailbox` is not acceptable in the field `field` ("To", "Cc", "Bcc" or
// "From"), in core's own words (a throwaway Message's checkSendPossible()), or
// an empty string.
[[nodiscard]] QString validateAddress(const Message::Address &mailbox, const QString &field);

} // namespace AddressListParser
