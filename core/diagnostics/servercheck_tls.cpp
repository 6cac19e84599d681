#include "servercheck_tls.h"

#include "protocol/printable.h"

#include <QSslCertificate>
#include <QStringList>

namespace Diagnostics::TlsVerdicts {

namespace {

const QString kStops = QStringLiteral(
    " A real client with verification on stops here, before AUTH or MAIL; this diagnosis "
    "went on regardless so that it can show the rest.");

bool isExpiryError(const QString &name)
{
    return name == QLatin1String("CertificateExpired") || name == QLatin1String("CertificateNotYetValid");
}

bool isNameError(const QString &name)
{
    return name == QLatin1String("HostNameMismatch");
}

// Certificate fields are the peer's text: summaries show them by the escaping
// rule (printable.h), at most this many characters each; check data keeps them exact.
constexpr qsizetype MaxNameShown = 256;

QString shown(const QString &name)
{
    return Smtp::printable(name, MaxNameShown);
}

QString shownList(const QStringList &names, const QString &separator = QStringLiteral(", "))
{
    QStringList out;
    out.reserve(names.size());
    for (const QString &n : names)
        out.append(shown(n));
    return out.join(separator);
}

QString leafName(const QSslCertificate &leaf)
{
    // The subject's CN is the name people recognise; the SANs when it has none.
    const QStringList cn = leaf.subjectInfo(QSslCertificate::CommonName);
    if (!cn.isEmpty() && !cn.first().isEmpty())
        return shown(cn.first());
    const QStringList names = TlsInfo::certificateNames(leaf);
    return names.isEmpty() ? QStringLiteral("the server") : shown(names.first());
}

QString dateOf(const QDateTime &t)
{
    return t.toUTC().date().toString(Qt::ISODate);
}

QString errorLines(const QList<TlsInfo::CertificateError> &errors)
{
    QStringList lines;
    for (const TlsInfo::CertificateError &e : errors)
        lines.append(QStringLiteral("%1: %2").arg(e.name, e.reason));
    return lines.join(u'\n');
}

} // namespace

void chain(const TlsInfo &tls, bool insecure, Check *check)
{
    QList<TlsInfo::CertificateError> errors;
    for (const TlsInfo::CertificateError &e : tls.errors) {
        if (!isExpiryError(e.name) && !isNameError(e.name))
            errors.append(e);
    }
    QVariantList chainList;
    QStringList subjects;
    for (const QSslCertificate &c : tls.chain) {
        const QString subject = c.subjectInfo(QSslCertificate::CommonName).join(QStringLiteral(", "));
        const QString issuer = c.issuerInfo(QSslCertificate::CommonName).join(QStringLiteral(", "));
        subjects.append(subject);
        chainList.append(QVariantMap{{QStringLiteral("subject"), subject},
                                     {QStringLiteral("issuer"), issuer},
                                     {QStringLiteral("not_after"), c.expiryDate().toUTC().toString(Qt::ISODate)}});
    }
    check->data.insert(QStringLiteral("chain"), chainList);
    QStringList names;
    for (const TlsInfo::CertificateError &e : tls.errors)
        names.append(e.name);
    check->data.insert(QStringLiteral("errors"), names);

    if (tls.chain.isEmpty()) {
        check->verdict = Verdict::Fail;
        check->summary = QStringLiteral("the server sent no certificate.") + kStops;
        check->fix = QStringLiteral("configure a certificate and its key on the server (Postfix: "
                                    "smtpd_tls_chain_files)");
        check->detail = errorLines(tls.errors);
        return;
    }
    if (errors.isEmpty()) {
        const QSslCertificate &top = tls.chain.last();
        check->verdict = Verdict::Pass;
        check->summary = QStringLiteral("the chain (%1) leads to a trusted authority (%2)")
                             .arg(shownList(subjects, QStringLiteral(" <- ")),
                                  shownList(top.issuerInfo(QSslCertificate::CommonName)));
        check->detail = errorLines(tls.errors);
        return;
    }

    check->verdict = Verdict::Fail;
    check->detail = errorLines(errors);
    const QString first = errors.first().name;
    const QString why = errors.first().reason;
    if (first == QLatin1String("SelfSignedCertificate")) {
        check->summary = QStringLiteral("the certificate of %1 is self-signed: no client trusts it unless told "
                                        "to (%2).")
                             .arg(leafName(tls.chain.first()), why);
        check->fix = QStringLiteral("install a certificate from a public CA (Let's Encrypt is free), or for a "
                                    "private server give every client your CA certificate");
    } else if (first == QLatin1String("UnableToGetLocalIssuerCertificate")
               || first == QLatin1String("UnableToGetIssuerCertificate")
               || first == QLatin1String("UnableToVerifyFirstCertificate")) {
        check->summary = QStringLiteral("the chain stops at %1, whose issuer is neither sent by the server "
                                        "nor trusted here: most likely the intermediate certificate is "
                                        "missing (%2).")
                             .arg(shownList(tls.chain.last().subjectInfo(QSslCertificate::CommonName)), why);
        check->fix = QStringLiteral("serve the full chain: the leaf followed by its intermediates (with "
                                    "Let's Encrypt, fullchain.pem rather than cert.pem; Postfix: "
                                    "smtpd_tls_chain_files = key, fullchain), then reload the server");
    } else if (first == QLatin1String("SelfSignedCertificateInChain")) {
        check->summary = QStringLiteral("the chain ends in a root that is not trusted here (%1).").arg(why);
        check->fix = QStringLiteral("use a certificate from a publicly trusted CA, or give clients the private "
                                    "root CA certificate");
    } else {
        check->summary = QStringLiteral("the certificate cannot be trusted: %1.").arg(why);
        check->fix = QStringLiteral("replace the certificate with one from a trusted CA that is meant for a "
                                    "TLS server, and serve its full chain");
    }
    check->summary += kStops;
    if (insecure)
        check->summary += QStringLiteral(" (Verification is off for this run: clients that verify refuse it.)");
}

void expiry(const TlsInfo &tls, const QDateTime &nowUtc, Check *check)
{
    if (tls.chain.isEmpty()) {
        check->verdict = Verdict::Skipped;
        check->summary = QStringLiteral("no certificate was received");
        return;
    }
    const QSslCertificate &leaf = tls.chain.first();
    const QString name = leafName(leaf);
    const QDateTime notAfter = leaf.expiryDate().toUTC();
    const QDateTime notBefore = leaf.effectiveDate().toUTC();
    check->data.insert(QStringLiteral("not_before"), notBefore.toString(Qt::ISODate));
    check->data.insert(QStringLiteral("not_after"), notAfter.toString(Qt::ISODate));
    const qint64 secsLeft = nowUtc.secsTo(notAfter);
    const qint64 daysLeft = secsLeft / 86400;
    check->data.insert(QStringLiteral("days_left"), daysLeft);
    QStringList detail;
    for (const TlsInfo::CertificateError &e : tls.errors) {
        if (isExpiryError(e.name))
            detail.append(QStringLiteral("%1: %2").arg(e.name, e.reason));
    }
    check->detail = detail.join(u'\n');

    if (nowUtc < notBefore) {
        check->verdict = Verdict::Fail;
        check->summary = QStringLiteral("the certificate for %1 is not valid before %2 (%3 days from now).%4")
                             .arg(name, dateOf(notBefore), QString::number(nowUtc.daysTo(notBefore)), kStops);
        check->fix = QStringLiteral("check the clock of the server that issued it and of this machine, or "
                                    "install a certificate that is valid now");
        return;
    }
    if (secsLeft < 0) {
        const qint64 ago = notAfter.daysTo(nowUtc);
        check->verdict = Verdict::Fail;
        check->summary = QStringLiteral("the certificate for %1 expired %2 (%3).%4")
                             .arg(name,
                                  ago == 0 ? QStringLiteral("today")
                                           : QStringLiteral("%1 day%2 ago").arg(ago).arg(ago == 1 ? "" : "s"),
                                  dateOf(notAfter), kStops);
        check->fix = QStringLiteral("renew the certificate and reload the server; with Let's Encrypt check "
                                    "that the renewal timer runs (systemctl list-timers 'certbot*') and that "
                                    "the mail server is reloaded after a renewal (a deploy hook)");
        return;
    }
    // Let's Encrypt renews 30 days ahead: under 14 days left, renewal has failed
    // for two weeks already.
    if (daysLeft < 14) {
        check->verdict = Verdict::Warn;
        check->summary = QStringLiteral("the certificate for %1 expires in %2 day%3 (%4)")
                             .arg(name, QString::number(daysLeft), daysLeft == 1 ? QString() : QStringLiteral("s"),
                                  dateOf(notAfter));
        check->fix = QStringLiteral("renew the certificate now and reload the server; with automatic renewal "
                                    "find out why it has not happened (certbot renew --dry-run)");
        return;
    }
    check->verdict = Verdict::Pass;
    check->summary = QStringLiteral("the certificate for %1 is valid until %2 (%3 days left)")
                         .arg(name, dateOf(notAfter), QString::number(daysLeft));
}

void name(const TlsInfo &tls, Check *check)
{
    if (tls.chain.isEmpty()) {
        check->verdict = Verdict::Skipped;
        check->summary = QStringLiteral("no certificate was received");
        return;
    }
    const QStringList names = TlsInfo::certificateNames(tls.chain.first());
    check->data.insert(QStringLiteral("checked_name"), tls.peerVerifyName);
    check->data.insert(QStringLiteral("certificate_names"), names);
    for (const TlsInfo::CertificateError &e : tls.errors) {
        if (!isNameError(e.name))
            continue;
        check->verdict = Verdict::Fail;
        check->summary = QStringLiteral("%1: clients connecting to %2 see a certificate for another "
                                        "name.%3")
                             .arg(e.reason, tls.peerVerifyName, kStops);
        check->detail = QStringLiteral("%1: %2").arg(e.name, e.reason);
        check->fix = QStringLiteral("install a certificate whose subject alternative names include %1 (e.g. "
                                    "certbot certonly -d %1), or have clients use a name the certificate "
                                    "carries (%2)")
                         .arg(tls.peerVerifyName, shownList(names));
        return;
    }
    check->verdict = Verdict::Pass;
    check->summary = QStringLiteral("the certificate is valid for %1 (it names %2)")
                         .arg(tls.peerVerifyName, shownList(names));
}

void protocol(const TlsInfo &tls, Check *check)
{
    check->data.insert(QStringLiteral("protocol"), tls.protocol);
    check->data.insert(QStringLiteral("cipher"), tls.cipher);
    check->data.insert(QStringLiteral("bits"), tls.cipherBits);
    const bool old = tls.protocol == QLatin1String("TLSv1") || tls.protocol == QLatin1String("TLSv1.0")
        || tls.protocol == QLatin1String("TLSv1.1") || tls.protocol.startsWith(QLatin1String("SSL"));
    if (old) {
        check->verdict = Verdict::Fail;
        check->summary = QStringLiteral("%1 was negotiated (%2): TLS 1.0 and 1.1 are deprecated (RFC 8996) "
                                        "and refused by current clients")
                             .arg(tls.protocol, tls.cipher);
        check->fix = QStringLiteral("enable TLS 1.2 and 1.3 on the server (Postfix: smtpd_tls_protocols = "
                                    ">=TLSv1.2, with an OpenSSL that supports them)");
        return;
    }
    if (tls.cipherBits > 0 && tls.cipherBits < 128) {
        check->verdict = Verdict::Warn;
        check->summary = QStringLiteral("%1 with a weak cipher (%2, %3 bits)")
                             .arg(tls.protocol, tls.cipher)
                             .arg(tls.cipherBits);
        check->fix = QStringLiteral("remove export and 64-bit ciphers from the server's cipher list "
                                    "(Postfix: smtpd_tls_ciphers = high)");
        return;
    }
    check->verdict = Verdict::Pass;
    check->summary = QStringLiteral("%1 with %2 (%3 bits)").arg(tls.protocol, tls.cipher).arg(tls.cipherBits);
}

} // namespace Diagnostics::TlsVerdicts
