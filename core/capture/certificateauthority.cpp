// The capture server's certificates, made with OpenSSL 3's API (the library Qt's
// TLS backend uses, so what we write is what the server loads).
//
// Files in the folder:
//   ca.pem      the CA certificate: what clients trust (--cafile)
//   ca.key      the CA's private key (0600): kept so the server certificate can
//               be remade without changing the CA clients already trust
//   server.pem  the server certificate: localhost, 127.0.0.1, ::1
//   server.key  its private key (0600)
//
// Each pair is checked on load (the key belongs to the certificate, the dates,
// the server certificate issued and signed by this CA and naming the loopback
// names) and remade when a check fails. Keys are written before certificates: a
// kill between the two leaves a key that does not match its certificate, which
// the next run notices and repairs.

#include "certificateauthority.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLockFile>
#include <QLoggingCategory>
#include <QSaveFile>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <sys/stat.h>

namespace {

Q_LOGGING_CATEGORY(lcCaptureCa, "smtpscope.capture.ca")

template <typename T, void (*Free)(T *)>
struct OsslFree
{
    void operator()(T *p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, OsslFree<X509, X509_free>>;
using PKeyPtr = std::unique_ptr<EVP_PKEY, OsslFree<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, OsslFree<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, OsslFree<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, OsslFree<X509_EXTENSION, X509_EXTENSION_free>>;

constexpr long kCaDays = 3652;                 // 10 years
constexpr long kServerDays = 825;              // the longest TLS clients accept (CA/B 2018, Apple)
constexpr time_t kRenewBefore = 30L * 86400;   // remade when it expires within 30 days
constexpr long kBackdate = 3600;               // notBefore an hour back: small clock skews
constexpr int kSerialBytes = 16;               // RFC 5280 4.1.2.2: at most 20 octets
constexpr int kLockWaitMs = 10000;

const char *const kServerNames[] = {"localhost"};
const char *const kServerAddresses[] = {"127.0.0.1", "::1"};

void setError(QString *error, const QString &text)
{
    if (error)
        *error = text;
}

// Never prompt for a passphrase on a terminal: an encrypted key is not ours.
int noPassphrase(char *, int, int, void *)
{
    return 0;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

X509Ptr parseCertificate(const QByteArray &pem)
{
    if (pem.isEmpty())
        return {};
    BioPtr bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    return X509Ptr(bio ? PEM_read_bio_X509(bio.get(), nullptr, noPassphrase, nullptr) : nullptr);
}

PKeyPtr parseKey(const QByteArray &pem)
{
    if (pem.isEmpty())
        return {};
    BioPtr bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    return PKeyPtr(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr) : nullptr);
}

QByteArray bioBytes(BIO *bio)
{
    char *data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    return n > 0 ? QByteArray(data, n) : QByteArray();
}

QByteArray certificatePem(X509 *cert)
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
        return {};
    return bioBytes(bio.get());
}

QByteArray keyPem(EVP_PKEY *key)
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    // PKCS#8, unencrypted: the file's mode protects it (the server starts unattended).
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return {};
    return bioBytes(bio.get());
}

// Valid now and for at least kRenewBefore more.
bool datesGood(X509 *cert)
{
    time_t now = std::time(nullptr);
    time_t limit = now + kRenewBefore;
    // X509_cmp_time: -1 when the certificate's time is at or before the given
    // time, 1 after it, 0 on a malformed time.
    return X509_cmp_time(X509_get0_notBefore(cert), &now) < 0
        && X509_cmp_time(X509_get0_notAfter(cert), &limit) > 0;
}

bool caGood(X509 *ca, EVP_PKEY *key)
{
    return ca && key && X509_check_private_key(ca, key) == 1
        && X509_check_ca(ca) >= 1                                 // RFC 5280 4.2.1.9
        && X509_verify(ca, X509_get0_pubkey(ca)) == 1            // self-signed, intact
        && datesGood(ca);
}

bool serverGood(X509 *cert, EVP_PKEY *key, X509 *ca)
{
    if (!cert || !key || !ca || X509_check_private_key(cert, key) != 1 || !datesGood(cert))
        return false;
    // Issued by this CA (names, key identifiers, key usage) and signed by its key.
    if (X509_check_issued(ca, cert) != X509_V_OK || X509_verify(cert, X509_get0_pubkey(ca)) != 1)
        return false;
    // RFC 6125 6.4 / RFC 5280 4.2.1.6: clients match the names in subjectAltName.
    for (const char *name : kServerNames) {
        if (X509_check_host(cert, name, 0, 0, nullptr) != 1)
            return false;
    }
    for (const char *address : kServerAddresses) {
        if (X509_check_ip_asc(cert, address, 0) != 1)
            return false;
    }
    return true;
}

PKeyPtr makeKey()
{
    // ECDSA P-256: fast to make, accepted by every TLS 1.2/1.3 client.
    return PKeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

bool addExtension(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
    return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

bool addName(X509_NAME *name, const char *field, const QByteArray &value)
{
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char *>(value.constData()),
                                      int(value.size()), -1, 0) == 1;
}

struct Extension
{
    int nid;
    const char *value;
};

// A version 3 certificate for `key`, issued by `issuer` (nullptr: self-signed)
// and signed with `signer` using SHA-256.
X509Ptr makeCertificate(const QByteArray &commonName, EVP_PKEY *key, X509 *issuer, EVP_PKEY *signer, long days,
                        std::initializer_list<Extension> extensions)
{
    X509Ptr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
        return {};

    // RFC 5280 4.1.2.2: a positive serial unique per CA; random so that a remade
    // CA never repeats one a client may have cached.
    unsigned char serial[kSerialBytes];
    if (RAND_bytes(serial, sizeof serial) != 1)
        return {};
    serial[0] = (serial[0] & 0x7f) | 0x40; // positive, full length, not zero
    BnPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
    if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())))
        return {};

    if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdate)
        || !X509_time_adj_ex(X509_getm_notAfter(cert.get()), int(days), 0, nullptr))
        return {};
    if (X509_set_pubkey(cert.get(), key) != 1)
        return {};

    X509_NAME *subject = X509_get_subject_name(cert.get());
    if (!addName(subject, "O", QByteArrayLiteral("SMTP Scope")) || !addName(subject, "CN", commonName))
        return {};
    if (X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : subject) != 1)
        return {};

    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
    for (const Extension &e : extensions) {
        if (!addExtension(cert.get(), &ctx, e.nid, e.value))
            return {};
    }
    if (X509_sign(cert.get(), signer, EVP_sha256()) <= 0)
        return {};
    return cert;
}

// Atomic write (QSaveFile); `secret` files are owner-only from their first byte.
bool saveFile(const QString &path, const QByteArray &bytes, bool secret, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        setError(error, QStringLiteral("Cannot write %1: %2").arg(path, file.errorString()));
        return false;
    }
    if (secret)
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    if (file.write(bytes) != bytes.size() || !file.commit()) {
        setError(error, QStringLiteral("Cannot write %1: %2").arg(path, file.errorString()));
        return false;
    }
    // QSaveFile may keep an older file's mode: make sure of it on the final name.
    if (secret && ::chmod(QFile::encodeName(path).constData(), S_IRUSR | S_IWUSR) != 0) {
        setError(error, QStringLiteral("Cannot make %1 private.").arg(path));
        return false;
    }
    return true;
}

// A key file that others can read (copied in, restored from a backup) is made
// owner-only again rather than remade: the key may already be in use.
bool keepPrivate(const QString &path, QString *error)
{
    struct stat st{};
    const QByteArray name = QFile::encodeName(path);
    if (::stat(name.constData(), &st) != 0)
        return true; // nothing there
    if ((st.st_mode & 077) == 0)
        return true;
    if (::chmod(name.constData(), S_IRUSR | S_IWUSR) != 0) {
        setError(error, QStringLiteral("Cannot make %1 private.").arg(path));
        return false;
    }
    return true;
}

} // namespace

namespace Capture {

bool CertificateAuthority::ensure(const QString &folder, QString *error)
{
    if (folder.isEmpty()) {
        setError(error, QStringLiteral("No folder given for the certificates."));
        return false;
    }
    const QDir dir(folder);
    if (!QDir().mkpath(dir.absolutePath())) {
        setError(error, QStringLiteral("Cannot create the folder %1.").arg(dir.absolutePath()));
        return false;
    }
    // The app and a CLI `serve` may start together on the same folder: one makes
    // the files, the other then loads them, rather than both writing half pairs.
    QLockFile lock(dir.absoluteFilePath(QStringLiteral("certificates.lock")));
    if (!lock.tryLock(kLockWaitMs)) {
        setError(error, QStringLiteral("The certificates in %1 are locked by another process.").arg(dir.absolutePath()));
        return false;
    }

    const QString caPath = dir.absoluteFilePath(QStringLiteral("ca.pem"));
    const QString caKeyPath = dir.absoluteFilePath(QStringLiteral("ca.key"));
    const QString certPath = dir.absoluteFilePath(QStringLiteral("server.pem"));
    const QString keyPath = dir.absoluteFilePath(QStringLiteral("server.key"));

    QByteArray caPem = readFile(caPath);
    QByteArray caKeyPem = readFile(caKeyPath);
    X509Ptr ca = parseCertificate(caPem);
    PKeyPtr caKey = parseKey(caKeyPem);
    if (!caGood(ca.get(), caKey.get())) {
        if (ca || caKey)
            qCInfo(lcCaptureCa) << "the CA in" << dir.absolutePath() << "is missing, damaged or expiring; making a new one";
        caKey = makeKey();
        if (!caKey) {
            setError(error, QStringLiteral("Cannot make a key for the capture CA."));
            return false;
        }
        // A short random tag in the name: two installations' CAs are told apart
        // in a trust store.
        unsigned char tag[4];
        RAND_bytes(tag, sizeof tag);
        const QByteArray name = QByteArrayLiteral("SMTP Scope capture CA ")
            + QByteArray(reinterpret_cast<const char *>(tag), sizeof tag).toHex();
        ca = makeCertificate(name, caKey.get(), nullptr, caKey.get(), kCaDays,
                             {
                                 // RFC 5280 4.2.1.9: critical in CA certificates
                                 {NID_basic_constraints, "critical,CA:TRUE"},
                                 // RFC 5280 4.2.1.3: a CA signs certificates and CRLs
                                 {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                 // RFC 5280 4.2.1.2: required in CA certificates
                                 {NID_subject_key_identifier, "hash"},
                             });
        caPem = ca ? certificatePem(ca.get()) : QByteArray();
        caKeyPem = keyPem(caKey.get());
        if (caPem.isEmpty() || caKeyPem.isEmpty()) {
            setError(error, QStringLiteral("Cannot make the capture CA certificate."));
            return false;
        }
        if (!saveFile(caKeyPath, caKeyPem, true, error) || !saveFile(caPath, caPem, false, error))
            return false;
    }

    QByteArray certPem = readFile(certPath);
    QByteArray serverKeyPem = readFile(keyPath);
    X509Ptr cert = parseCertificate(certPem);
    PKeyPtr key = parseKey(serverKeyPem);
    if (!serverGood(cert.get(), key.get(), ca.get())) {
        if (cert || key)
            qCInfo(lcCaptureCa) << "the server certificate in" << dir.absolutePath()
                                << "is missing, expiring, or not from this CA; making a new one";
        key = makeKey();
        if (!key) {
            setError(error, QStringLiteral("Cannot make a key for the capture server."));
            return false;
        }
        cert = makeCertificate(QByteArrayLiteral("localhost"), key.get(), ca.get(), caKey.get(), kServerDays,
                               {
                                   // RFC 5280 4.2.1.9: an end entity, not a CA
                                   {NID_basic_constraints, "critical,CA:FALSE"},
                                   // RFC 5280 4.2.1.3 and RFC 5246 7.4.2: what a TLS server key does
                                   {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                                   // RFC 5280 4.2.1.12: TLS server only
                                   {NID_ext_key_usage, "serverAuth"},
                                   // RFC 6125 6.4.4: clients check these names, not the CN
                                   {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"},
                                   {NID_subject_key_identifier, "hash"},
                                   // RFC 5280 4.2.1.1: lets clients pick the issuing CA
                                   {NID_authority_key_identifier, "keyid:always"},
                               });
        certPem = cert ? certificatePem(cert.get()) : QByteArray();
        serverKeyPem = keyPem(key.get());
        if (certPem.isEmpty() || serverKeyPem.isEmpty()) {
            setError(error, QStringLiteral("Cannot make the capture server certificate."));
            return false;
        }
        if (!saveFile(keyPath, serverKeyPem, true, error) || !saveFile(certPath, certPem, false, error))
            return false;
    }

    if (!keepPrivate(caKeyPath, error) || !keepPrivate(keyPath, error))
        return false;

    const QSslCertificate caCert(caPem, QSsl::Pem);
    const QSslCertificate serverCert(certPem, QSsl::Pem);
    // Ours are EC; an RSA key put there by hand and certified by this CA loads too.
    const QSsl::KeyAlgorithm algorithm = EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA ? QSsl::Rsa : QSsl::Ec;
    const QSslKey serverKey(serverKeyPem, algorithm, QSsl::Pem, QSsl::PrivateKey);
    if (caCert.isNull() || serverCert.isNull() || serverKey.isNull()) {
        setError(error, QStringLiteral("Qt cannot load the certificates in %1 (is a TLS backend available?).")
                            .arg(dir.absolutePath()));
        return false;
    }
    m_caFile = caPath;
    m_ca = caCert;
    m_cert = serverCert;
    m_key = serverKey;
    return true;
}

} // namespace Capture
