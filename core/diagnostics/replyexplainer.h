#pragma once
// Plain-words explanations of SMTP replies and engine errors, for the transcript
// view, the result panel and the diagnostics report: what the reply
// code (RFC 5321 4.2) and the enhanced status code (RFC 3463) mean, the likely
// cause, and what to try. Includes the common mix-ups (implicit TLS on 587,
// STARTTLS on 465, self-signed certificate, AUTH not offered before STARTTLS).

#include "client/smtperror.h"

#include <QString>

namespace ReplyExplainer {

// "550 5.1.1 at RCPT TO: the mailbox does not exist ..." style explanation; empty
// for a code it knows nothing about (never invented).
[[nodiscard]] QString explain(int code, const QString &enhanced, const QString &step = {});
// An engine error (any category: connection, TLS, timeout, AUTH, reply): its
// reply explained when it has one, else what the error code means and what to try.
[[nodiscard]] QString explainError(const SmtpError &error);
// The same, knowing where the session went (SendResult::target "host:port" and
// SendResult::securityMode), so that a port / TLS-mode mix-up (465 without
// implicit TLS, implicit TLS on 587 or 25) is named outright rather than hinted.
[[nodiscard]] QString explainError(const SmtpError &error, const QString &target,
                                   const QString &securityMode);

} // namespace ReplyExplainer
