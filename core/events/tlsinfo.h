#pragma once
// What was learnt about a TLS session: recorded by the transport, reported in
// send results, probes and the UI.

#include <QList>
#include <QSslCertificate>
#include <QString>
#include <QStringList>
#include <QVariantMap>

struct TlsInfo
{
    struct CertificateError
    {
        QString name;    // "HostNameMismatch", "SelfSignedCertificate", ... (QSslError::SslError as text)
        QString reason;  // readable sentence: "the certificate is for other.test, not smtp.test"
        QString subject; // subject of the certificate concerned, if any
    };

    bool encrypted = false;
    bool implicit = false;          // implicit TLS (smtps) rather than STARTTLS
    QString protocol;               // "TLSv1.3"
    QString cipher;                 // "TLS_AES_256_GCM_SHA384"
    int cipherBits = 0;
    QString peerVerifyName;         // the name the certificate was checked against
    bool verificationEnabled = true;// false when the user chose insecure mode
    bool verified = false;          // chain and name verified
    QList<CertificateError> errors; // every verification error seen (also when ignored)
    QList<QSslCertificate> chain;   // peer certificate chain, leaf first

    // JSON-friendly form: protocol, cipher, bits, verified, insecure, errors[],
    // chain[] { subject, issuer, notBefore, notAfter, sha256, sans[] }.
    // Also: encrypted, implicit, peerVerifyName; errors[] { name, reason, subject };
    // chain[].selfSigned. subject/issuer are DN text "CN=smtp.test, O=Org";
    // dates ISO 8601 UTC ("2025-01-31T12:00:00Z"); sha256 as openssl prints it
    // ("AB:CD:..."); sans "DNS:name" then "IP:address", in certificate order.
    [[nodiscard]] QVariantMap toVariantMap() const;

    // The names a certificate is valid for: DNS SANs, then IP SANs, else the CN
    // (RFC 6125 6.4.4: the CN is only looked at when there are no DNS SANs).
    [[nodiscard]] static QStringList certificateNames(const QSslCertificate &cert);
};
