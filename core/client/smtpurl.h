#pragma once
// The reference's connection URL (qore-behaviour.md "URL schemes"):
//   [scheme://][user[:password]@]host[:port]   host may be "[ipv6]"; a host
// starting with '/' is a UNIX socket path (accepted by the parser; the transport
// reports it as unsupported).
//
// scheme   port ssl tls
// smtp      25   -   -
// smtps    465   y   -
// smtptls   25   -   y   (the reference's code says 465, its docs 25; 25 is what
//                         STARTTLS-required means: see docs/reference-differences.md)
// esmtp    587   -   -
// esmtps   465   y   -
// esmtptls 587   -   y
// No scheme: smtp. user and password are percent-decoded.

#include "smtperror.h"

#include <QString>
#include <QStringList>
#include <optional>

struct SmtpUrl
{
    QString scheme = QStringLiteral("smtp");
    QString host;          // without brackets; IPv6 literal as "::1"
    quint16 port = 25;
    bool ssl = false;      // implicit TLS
    bool tls = false;      // STARTTLS required
    bool unixSocket = false;
    QString user;
    QString password;

    // Parses `url`. On failure returns nullopt and fills *error with
    // PARSE-URL-ERROR, SMTPCLIENT-UNKNOWN-PROTOCOL (message lists the known
    // schemes) or SMTPCLIENT-INVALID-AUTHENTICATION (user without password or
    // the reverse).
    static std::optional<SmtpUrl> parse(const QString &url, SmtpError *error);

    // "host:port" with brackets around IPv6, as getTarget() returns it.
    [[nodiscard]] QString target() const;
    // The URL again, without the password (safe for logs): "smtptls://user@host:25".
    [[nodiscard]] QString toDisplayString() const;

    struct Scheme { const char *name; quint16 port; bool ssl; bool tls; };
    [[nodiscard]] static const QList<Scheme> &schemes();
};
