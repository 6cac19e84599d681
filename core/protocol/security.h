#pragma once
// The four ways a client secures an SMTP session: the one vocabulary for the
// session, the transport, the window, the command line, diagnostics, history
// and JSON (ConnectionSettings, core/client, holds the rest of "how to connect").

#include <QList>
#include <QString>
#include <optional>

namespace Smtp {

enum class Security {
    Plain,                 // never STARTTLS, even when offered (--no-starttls)
    StartTlsOpportunistic, // STARTTLS when EHLO offers it (RFC 3207 4), else plain text, reported as such
    StartTlsRequired,      // STARTTLS or stop before AUTH and MAIL (RFC 3207 4.1; RFC 8314 3.4)
    ImplicitTls,           // TLS from the first byte (RFC 8314 3.3; smtps)
};

// The one spelling: "plain", "starttls-opportunistic", "starttls", "implicit-tls".
[[nodiscard]] QString securityName(Security s);
// The inverse; also reads the names the window's profiles were saved with
// earlier ("none", "starttls-if-offered", "starttls-required"). nullopt if unknown.
[[nodiscard]] std::optional<Security> securityFromName(QStringView name);
// All four, in the order above.
[[nodiscard]] QList<Security> securities();

} // namespace Smtp
