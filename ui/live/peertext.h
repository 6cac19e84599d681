#pragma once
// Text from outside (server replies, certificate fields, captured headers and
// envelopes, history rows) as the widgets show it, by the escaping rule of
// protocol/printable.h: control characters, C1 controls, bidi overrides and the
// other format characters appear as "\x1b", "\x202e", so a peer cannot reorder,
// hide or fake what a cell, label or tooltip says. The models and results keep
// the exact values; only what is drawn changes.

#include <QString>
#include <QStringList>

namespace PeerText {

// A value as received (a subject, an address, a certificate field): one line,
// Smtp::printable().
[[nodiscard]] QString value(const QString &text);
// Values joined by `separator`, each shown like value().
[[nodiscard]] QString values(const QStringList &texts, const QString &separator);
// Text composed by the engine that may hold a peer's words already escaped (an
// error, a check summary, a transcript line): kept one line, Smtp::safeLine().
[[nodiscard]] QString line(const QString &text);
// The same for multi-line text shown as plain text (a label set to
// Qt::PlainText, a text view): line feeds kept, Smtp::safeText().
[[nodiscard]] QString text(const QString &text);
// A tooltip: Smtp::safeText() (line feeds kept), and never taken for rich text.
// Qt renders a tooltip that looks like HTML (Qt::mightBeRichText) as HTML, so a
// subject such as "<img src=...>" is turned into an escaped paragraph instead.
[[nodiscard]] QString toolTip(const QString &text);

} // namespace PeerText
