#pragma once
// Errors are values (STYLE.md): what failed, at which step, the server's reply if
// any, and a sentence saying what to do. Thrown as SmtpException by the
// reference-style blocking API.

#include <QByteArray>
#include <QString>
#include <exception>

struct SmtpError
{
    enum class Category {
        None,
        Usage,      // bad argument or configuration (URL, flags, credentials)
        Message,    // the message cannot be sent as it is
        Transport,  // lookup, connect, read/write, timeout, connection lost
        Tls,        // handshake, certificate, STARTTLS refused or missing
        Protocol,   // malformed or unexpected server data
        Reply,      // the server answered with a failure code
        Auth,       // authentication refused or impossible
    };

    Category category = Category::None;
    QString code;         // user-visible code kept from the reference: "MESSAGE-ERROR",
                          // "SMTPCLIENT-UNKNOWN-PROTOCOL", ... or our own "SMTP-REPLY-ERROR", ...
    QString step;         // "connect", "greeting", "EHLO", "STARTTLS", "AUTH PLAIN", "MAIL FROM", "RCPT TO", "DATA", "end of data", ...
    QString message;      // readable text: what happened and what to try
    int replyCode = 0;    // server reply code, 0 if none
    QString enhancedCode; // "5.7.1", empty if none
    QByteArray serverText;// the server's reply text (all lines), escaped for display by the UI

    [[nodiscard]] bool isError() const { return category != Category::None; }
    [[nodiscard]] static QString categoryName(Category c);
    // "CODE: step: message (server: 550 5.7.1 text)"
    [[nodiscard]] QString toString() const;

    static SmtpError make(Category category, QString code, QString step, QString message)
    {
        SmtpError e;
        e.category = category;
        e.code = std::move(code);
        e.step = std::move(step);
        e.message = std::move(message);
        return e;
    }
};

class SmtpException : public std::exception
{
public:
    explicit SmtpException(SmtpError error);
    [[nodiscard]] const SmtpError &error() const noexcept { return m_error; }
    [[nodiscard]] const char *what() const noexcept override { return m_what.constData(); }

private:
    SmtpError m_error;
    QByteArray m_what;
};
