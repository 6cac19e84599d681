#include "tlsinfo.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QMultiMap>
#include <QStringList>

#include <algorithm>
#include <utility>

namespace {

// A distinguished name as readable text. QSslCertificate gives the attributes
// as a map (sorted by name, not in certificate order), so print the usual ones
// most-specific first, as people read them, then any others.
QString distinguishedName(const QSslCertificate &cert, bool issuer)
{
    const QList<QByteArray> present = issuer ? cert.issuerInfoAttributes()
                                             : cert.subjectInfoAttributes();
    static const QList<QByteArray> preferred{"CN", "OU", "O", "L", "ST", "C", "emailAddress"};
    QList<QByteArray> order;
    for (const QByteArray &a : preferred) {
        if (present.contains(a))
            order.append(a);
    }
    for (const QByteArray &a : present) {
        if (!order.contains(a))
            order.append(a);
    }
    QStringList parts;
    for (const QByteArray &a : std::as_const(order)) {
        const QStringList values = issuer ? cert.issuerInfo(a) : cert.subjectInfo(a);
        for (const QString &v : values)
            parts.append(QString::fromLatin1(a) + QLatin1Char('=') + v);
    }
    return parts.join(QStringLiteral(", "));
}

QString isoUtc(const QDateTime &dt)
{
    return dt.isValid() ? dt.toUTC().toString(Qt::ISODate) : QString();
}

QVariantMap certificateMap(const QSslCertificate &cert)
{
    // DNS names first, then addresses: the two kinds a host name is checked
    // against (RFC 6125 6.4, and 6.2.1 for IP addresses). QMultiMap::values()
    // lists the most recently inserted value first; reverse to get the
    // certificate's order back.
    const auto alt = cert.subjectAlternativeNames();
    QStringList sans;
    for (const auto &[kind, prefix] : {std::pair{QSsl::DnsEntry, "DNS:"},
                                       std::pair{QSsl::IpAddressEntry, "IP:"}}) {
        QStringList values = alt.values(kind);
        std::reverse(values.begin(), values.end());
        for (const QString &v : std::as_const(values))
            sans.append(QString::fromLatin1(prefix) + v);
    }

    // Colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256`
    // prints it, so users can compare with their own tools.
    const QString sha256 =
        QString::fromLatin1(cert.digest(QCryptographicHash::Sha256).toHex(':').toUpper());

    return {
        {QStringLiteral("subject"), distinguishedName(cert, false)},
        {QStringLiteral("issuer"), distinguishedName(cert, true)},
        {QStringLiteral("notBefore"), isoUtc(cert.effectiveDate())},
        {QStringLiteral("notAfter"), isoUtc(cert.expiryDate())},
        {QStringLiteral("sha256"), sha256},
        {QStringLiteral("sans"), sans},
        {QStringLiteral("selfSigned"), cert.isSelfSigned()},
    };
}

} // namespace

QVariantMap TlsInfo::toVariantMap() const
{
    QVariantList errorList;
    for (const CertificateError &e : errors) {
        errorList.append(QVariantMap{
            {QStringLiteral("name"), e.name},
            {QStringLiteral("reason"), e.reason},
            {QStringLiteral("subject"), e.subject},
        });
    }
    QVariantList chainList;
    for (const QSslCertificate &c : chain)
        chainList.append(certificateMap(c));

    return {
        {QStringLiteral("encrypted"), encrypted},
        {QStringLiteral("implicit"), implicit},
        {QStringLiteral("protocol"), protocol},
        {QStringLiteral("cipher"), cipher},
        {QStringLiteral("bits"), cipherBits},
        {QStringLiteral("peerVerifyName"), peerVerifyName},
        {QStringLiteral("verified"), verified},
        // ARCHITECTURE.md: every report of a session without verification says so.
        {QStringLiteral("insecure"), !verificationEnabled},
        {QStringLiteral("errors"), errorList},
        {QStringLiteral("chain"), chainList},
    };
}

QStringList TlsInfo::certificateNames(const QSslCertificate &cert)
{
    const auto alt = cert.subjectAlternativeNames();
    QStringList names = alt.values(QSsl::DnsEntry);
    names += alt.values(QSsl::IpAddressEntry);
    if (names.isEmpty())
        names = cert.subjectInfo(QSslCertificate::CommonName);
    names.removeDuplicates();
    return names;
}
