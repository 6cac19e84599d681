#pragma once
// The capture server's own TLS: a private CA and a server certificate for
// localhost, 127.0.0.1 and ::1, made with OpenSSL's API on first run and kept in
// a folder (the app's data folder): ca.pem, server.pem, server.key (mode 0600),
// and ca.key (mode 0600) so the server certificate can be remade under the same CA.
// Later runs load them; the server certificate is remade when it is missing,
// expires within 30 days, or was not signed by the CA in the folder. The CA
// certificate is what clients are given to verify the server (--cafile).

#include <QSslCertificate>
#include <QSslKey>
#include <QString>

namespace Capture {

class CertificateAuthority
{
public:
    // Loads or makes the files in `folder`; false and *error on failure.
    bool ensure(const QString &folder, QString *error);

    [[nodiscard]] QString caFile() const { return m_caFile; }
    [[nodiscard]] QSslCertificate caCertificate() const { return m_ca; }
    [[nodiscard]] QSslCertificate serverCertificate() const { return m_cert; }
    [[nodiscard]] QSslKey serverKey() const { return m_key; }

private:
    QString m_caFile;
    QSslCertificate m_ca;
    QSslCertificate m_cert;
    QSslKey m_key;
};

} // namespace Capture
