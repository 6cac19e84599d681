// SASL client steps for SMTP AUTH (RFC 4954).
//
// How it works: start() checks the credentials and either opens a libgsasl
// client session (PLAIN, LOGIN, CRAM-MD5, SCRAM-*) with the credentials set as
// session properties, or formats the single token message (XOAUTH2,
// OAUTHBEARER). initialResponse() and step() then turn each decoded server
// challenge into the next raw client message. This file keeps its own small
// state machine on top of libgsasl so that every mechanism refuses challenges it
// has no use for, instead of trusting each libgsasl mechanism to do so; and it
// bounds the exchange (rounds, challenge size, SCRAM iterations) against hostile
// servers. Nothing here logs: credentials never leave this object except inside
// the responses handed to the caller, and error texts never quote them.

#include "sasl.h"

#include "printable.h"

#include <gsasl.h>

#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QSet>

#include <array>
#include <optional>

namespace Smtp {

namespace {

// One libgsasl context per process. gsasl_init() must not run concurrently, so
// it runs once, under the C++ guarantee that a function-local static is
// initialised exactly once even with several threads racing. After that the
// context is only read: no callback is ever installed on it (each session gets
// its credentials with gsasl_property_set(), and a property lookup without a
// callback just reports "not set"), so sessions on different threads can share
// it. Each session keeps a reference, so a SaslClient that outlives static
// destruction still finishes its session before gsasl_done().
struct GsaslContext
{
    std::shared_ptr<Gsasl> context;
    int initResult = GSASL_OK;
};

const GsaslContext &gsaslContext()
{
    static const GsaslContext instance = [] {
        GsaslContext c;
        Gsasl *raw = nullptr;
        c.initResult = gsasl_init(&raw);
        if (c.initResult == GSASL_OK && raw)
            c.context = std::shared_ptr<Gsasl>(raw, [](Gsasl *ctx) { gsasl_done(ctx); });
        else if (c.initResult == GSASL_OK)
            c.initResult = GSASL_MALLOC_ERROR;
        return c;
    }();
    return instance;
}

enum class Mech { None, ScramSha256, ScramSha1, CramMd5, Plain, Login, OAuthBearer, XOAuth2 };

struct MechInfo
{
    Mech id;
    const char *name;
    bool usesToken;      // needs an OAuth bearer token instead of a password
    bool exposesSecret;  // password recoverable from the exchange, or a bearer token
    bool initialResponse; // RFC 4954 4: data can go with the AUTH command
    bool carriesAuthzid; // the mechanism has a field for an authorization identity
};

// Strongest first; choose() walks this order.
constexpr std::array<MechInfo, 7> kMechanisms{{
    {Mech::ScramSha256, "SCRAM-SHA-256", false, false, true, true},
    {Mech::ScramSha1, "SCRAM-SHA-1", false, false, true, true},
    {Mech::CramMd5, "CRAM-MD5", false, false, false, false},
    {Mech::Plain, "PLAIN", false, true, true, true},
    {Mech::Login, "LOGIN", false, true, false, false},
    {Mech::OAuthBearer, "OAUTHBEARER", true, true, true, false},
    {Mech::XOAuth2, "XOAUTH2", true, true, true, false},
}};

const MechInfo *findMechanism(const QString &name)
{
    const QString upper = name.trimmed().toUpper();
    for (const MechInfo &m : kMechanisms) {
        if (upper == QLatin1String(m.name))
            return &m;
    }
    return nullptr;
}

bool isScram(Mech m)
{
    return m == Mech::ScramSha1 || m == Mech::ScramSha256;
}

bool containsNul(const QString &s)
{
    return s.contains(QChar(u'\0'));
}

// Bytes that would break the \x01-separated key/value framing of XOAUTH2 and
// OAUTHBEARER (RFC 7628 3.1) or the "Bearer <token>" form (RFC 6750 2.1).
bool hasControlChar(QByteArrayView s)
{
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f)
            return true;
    }
    return false;
}

bool isValidBearerToken(QByteArrayView token)
{
    // RFC 6750 2.1 b64token is a subset of visible ASCII; refusing anything
    // outside visible ASCII (space, controls, 8-bit) keeps the token from
    // ending the "auth=" value early, without rejecting unusual but harmless
    // characters some providers use.
    for (char c : token) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f)
            return false;
    }
    return !token.isEmpty();
}

QString printableExcerpt(QByteArrayView bytes, qsizetype limit = 200)
{
    return printable(bytes, limit);
}

QString printableText(const QString &text, qsizetype limit = 200)
{
    return printableExcerpt(QByteArrayView(text.toUtf8()), limit);
}

// RFC 5801 4 (used by RFC 7628 3.1 for "a="): "," and "=" in a saslname are
// written as "=2C" and "=3D".
QByteArray gs2SaslName(const QString &name)
{
    QByteArray out;
    const QByteArray utf8 = name.toUtf8();
    for (char c : utf8) {
        if (c == ',')
            out += "=2C";
        else if (c == '=')
            out += "=3D";
        else
            out += c;
    }
    return out;
}

// The attributes of a SCRAM message ("r=...,s=...,i=..."), RFC 5802 5.1.
struct ScramAttributes
{
    QByteArray nonce, salt, iterations, error, verifier, mandatoryExtension;
};

ScramAttributes parseScram(const QByteArray &message)
{
    ScramAttributes a;
    const QList<QByteArray> parts = message.split(',');
    for (const QByteArray &p : parts) {
        if (p.size() < 2 || p.at(1) != '=')
            continue;
        const QByteArray value = p.mid(2);
        switch (p.at(0)) {
        case 'r': a.nonce = value; break;
        case 's': a.salt = value; break;
        case 'i': a.iterations = value; break;
        case 'e': a.error = value; break;
        case 'v': a.verifier = value; break;
        case 'm': a.mandatoryExtension = value.isEmpty() ? QByteArray("(empty)") : value; break;
        default: break;
        }
    }
    return a;
}

} // namespace

struct SaslClient::Private
{
    enum class Phase {
        NotStarted,
        Ready,          // started, nothing sent yet
        Exchanging,     // messages sent, more challenges expected
        ClientComplete, // the client's last message was produced; only 235/535 should follow
        Verified,       // SCRAM: the server's signature matched (RFC 5802 3)
        Failed,
    };

    ~Private() { finishSession(); }

    void finishSession()
    {
        if (session) {
            gsasl_finish(session);
            session = nullptr;
        }
        context.reset();
    }

    [[nodiscard]] QString mechName() const { return info ? QLatin1String(info->name) : QString(); }

    // Marks the exchange failed; `closing` is the mechanism's own closing message
    // when it has one (see failureHasResponse()).
    Step fail(QString *error, const QString &why, QByteArray *response = nullptr,
              const std::optional<QByteArray> &closing = std::nullopt)
    {
        phase = Phase::Failed;
        hasClosingResponse = closing.has_value();
        if (response)
            *response = closing.value_or(QByteArray());
        if (error)
            *error = why;
        return Step::Failed;
    }

    // One libgsasl step. Returns the libgsasl result code (GSASL_OK or
    // GSASL_NEEDS_MORE on success); *out receives the produced message.
    int gsaslStep(const QByteArray &input, QByteArray *out) const
    {
        char *output = nullptr;
        size_t outputLen = 0;
        const int rc = gsasl_step(session, input.isEmpty() ? nullptr : input.constData(),
                                  static_cast<size_t>(input.size()), &output, &outputLen);
        if (output) {
            if (rc == GSASL_OK || rc == GSASL_NEEDS_MORE)
                *out = QByteArray(output, static_cast<qsizetype>(outputLen));
            gsasl_free(output);
        }
        return rc;
    }

    [[nodiscard]] QString gsaslError(int rc) const
    {
        return QStringLiteral("%1: %2").arg(mechName(), QString::fromUtf8(gsasl_strerror(rc)));
    }

    // Produces the first client message (the initial response, or the answer
    // to an empty first challenge, RFC 4954 4).
    Step produceFirst(QByteArray *response, QString *error);
    Step stepGsasl(const QByteArray &challenge, QByteArray *response, QString *error);
    Step checkServerFinal(const QByteArray &serverFinal, QString *error);
    Step oauthError(const QByteArray &challenge, QByteArray *response, QString *error);

    const MechInfo *info = nullptr;
    std::shared_ptr<Gsasl> context;
    Gsasl_session *session = nullptr;
    QByteArray tokenMessage;  // XOAUTH2 / OAUTHBEARER client response
    QByteArray clientNonce;   // SCRAM: from client-first, to check the server's nonce
    Phase phase = Phase::NotStarted;
    int messagesSent = 0;     // client messages produced so far
    int rounds = 0;           // challenges received so far
    bool hasClosingResponse = false;
};

SaslClient::SaslClient()
    : d(std::make_unique<Private>())
{
}

SaslClient::~SaslClient() = default;

QStringList SaslClient::supportedMechanisms()
{
    QStringList out;
    for (const MechInfo &m : kMechanisms)
        out << QLatin1String(m.name);
    return out;
}

namespace {

// Whether `m` can run with `c` at all (the checks start() would refuse on),
// and whether the libgsasl build offers it.
bool canRun(const MechInfo &m, const SaslCredentials &c)
{
    if (m.usesToken) {
        if (!isValidBearerToken(c.oauthToken))
            return false;
        // XOAUTH2 names the account in "user="; OAUTHBEARER may leave the
        // gs2 authzid out (RFC 7628 3.1).
        return m.id != Mech::XOAuth2 || !c.user.isEmpty();
    }
    if (c.user.isEmpty() || c.password.isEmpty())
        return false;
    if (!c.authzid.isEmpty() && !m.carriesAuthzid)
        return false;
    const GsaslContext &g = gsaslContext();
    return g.context && gsasl_client_support_p(g.context.get(), m.name) != 0;
}

} // namespace

QString SaslClient::choose(const QStringList &offered, const SaslCredentials &credentials)
{
    // Upper-case once: a hostile EHLO may list thousands of names (security
    // docs/security.md section E); unknown ones simply never match.
    QSet<QString> names;
    names.reserve(offered.size());
    for (const QString &o : offered)
        names.insert(o.trimmed().toUpper());

    // A token means the user authenticates through OAuth: never fall back to a
    // password mechanism with it, and never send a password through a token
    // mechanism (docs/security.md: no silent downgrade).
    const bool wantToken = !credentials.oauthToken.isEmpty();
    for (const MechInfo &m : kMechanisms) {
        if (m.usesToken != wantToken)
            continue;
        if (!names.contains(QLatin1String(m.name)))
            continue;
        if (canRun(m, credentials))
            return QLatin1String(m.name);
    }
    return {};
}

bool SaslClient::exposesSecret(const QString &mechanism)
{
    const MechInfo *m = findMechanism(mechanism);
    // An unknown mechanism is treated as exposing: the caller then insists on
    // TLS, the safe side of not knowing.
    return m ? m->exposesSecret : true;
}

bool SaslClient::start(const QString &mechanism, const SaslCredentials &credentials, QString *error)
{
    auto refuse = [&](const QString &why) {
        d->finishSession();
        d->info = nullptr;
        d->phase = Private::Phase::NotStarted;
        if (error)
            *error = why;
        return false;
    };

    d->finishSession();
    d->info = nullptr;
    d->tokenMessage.clear();
    d->clientNonce.clear();
    d->phase = Private::Phase::NotStarted;
    d->messagesSent = 0;
    d->rounds = 0;
    d->hasClosingResponse = false;

    const MechInfo *m = findMechanism(mechanism);
    if (!m) {
        return refuse(QStringLiteral("AUTH: unsupported SASL mechanism \"%1\"; supported: %2")
                          .arg(printableText(mechanism, 40), supportedMechanisms().join(u' ')));
    }
    const QString name = QLatin1String(m->name);

    if (m->usesToken) {
        if (credentials.oauthToken.isEmpty())
            return refuse(QStringLiteral("%1: no OAuth access token given").arg(name));
        if (!isValidBearerToken(credentials.oauthToken)) {
            return refuse(QStringLiteral("%1: the OAuth access token contains spaces, control "
                                         "or non-ASCII characters (RFC 6750 2.1)").arg(name));
        }
        const QByteArray user = credentials.user.toUtf8();
        const QByteArray host = credentials.host.toUtf8();
        if (hasControlChar(user))
            return refuse(QStringLiteral("%1: the user name contains control characters").arg(name));
        if (hasControlChar(host))
            return refuse(QStringLiteral("%1: the host name contains control characters").arg(name));

        if (m->id == Mech::XOAuth2) {
            if (user.isEmpty())
                return refuse(QStringLiteral("XOAUTH2: a user name (the account's address) is required"));
            // Google's XOAUTH2 format: user=<user>^Aauth=Bearer <token>^A^A.
            d->tokenMessage = "user=" + user + "\x01" "auth=Bearer " + credentials.oauthToken + "\x01\x01";
        } else {
            // RFC 7628 3.1: gs2-header ("n," [ "a=" saslname ] ","), then
            // kvsep-separated host, port and auth, closed by two kvseps.
            QByteArray msg = "n,";
            if (!user.isEmpty())
                msg += "a=" + gs2SaslName(credentials.user);
            msg += ",\x01";
            if (!host.isEmpty())
                msg += "host=" + host + "\x01";
            if (credentials.port != 0)
                msg += "port=" + QByteArray::number(credentials.port) + "\x01";
            msg += "auth=Bearer " + credentials.oauthToken + "\x01\x01";
            d->tokenMessage = msg;
        }
        d->info = m;
        d->phase = Private::Phase::Ready;
        return true;
    }

    // Password mechanisms.
    if (credentials.user.isEmpty())
        return refuse(QStringLiteral("%1: no user name given").arg(name));
    if (credentials.password.isEmpty())
        return refuse(QStringLiteral("%1: no password given").arg(name));
    // RFC 4616 2: authzid, authcid and passwd are 1*SAFE, where SAFE excludes
    // NUL (the separator). The other mechanisms go through libgsasl's C-string
    // properties, where a NUL would silently cut the value: refuse it for all.
    if (containsNul(credentials.user))
        return refuse(QStringLiteral("%1: the user name contains a NUL character (RFC 4616 2)").arg(name));
    if (containsNul(credentials.password))
        return refuse(QStringLiteral("%1: the password contains a NUL character (RFC 4616 2)").arg(name));
    if (containsNul(credentials.authzid)) {
        return refuse(QStringLiteral("%1: the authorization identity contains a NUL character "
                                     "(RFC 4616 2)").arg(name));
    }
    if (!credentials.authzid.isEmpty() && !m->carriesAuthzid) {
        // Dropping it silently would log in as a different identity than asked.
        return refuse(QStringLiteral("%1 cannot carry an authorization identity; use PLAIN or "
                                     "SCRAM, or leave it empty").arg(name));
    }

    const GsaslContext &g = gsaslContext();
    if (!g.context) {
        return refuse(QStringLiteral("%1: the SASL library failed to initialise: %2")
                          .arg(name, QString::fromUtf8(gsasl_strerror(g.initResult))));
    }
    Gsasl_session *session = nullptr;
    int rc = gsasl_client_start(g.context.get(), m->name, &session);
    if (rc != GSASL_OK || !session) {
        return refuse(QStringLiteral("%1: the SASL library cannot start it: %2")
                          .arg(name, QString::fromUtf8(gsasl_strerror(rc))));
    }
    d->context = g.context;
    d->session = session;
    d->info = m;

    rc = gsasl_property_set(session, GSASL_AUTHID, credentials.user.toUtf8().constData());
    if (rc == GSASL_OK)
        rc = gsasl_property_set(session, GSASL_PASSWORD, credentials.password.toUtf8().constData());
    if (rc == GSASL_OK && !credentials.authzid.isEmpty())
        rc = gsasl_property_set(session, GSASL_AUTHZID, credentials.authzid.toUtf8().constData());
    if (rc != GSASL_OK)
        return refuse(d->gsaslError(rc));

    d->phase = Private::Phase::Ready;
    return true;
}

QString SaslClient::mechanism() const
{
    return d->mechName();
}

bool SaslClient::hasInitialResponse() const
{
    return d->info && d->info->initialResponse;
}

bool SaslClient::initialResponse(QByteArray *response, QString *error)
{
    if (response)
        response->clear();
    if (d->phase == Private::Phase::NotStarted) {
        if (error)
            *error = QStringLiteral("AUTH: no SASL mechanism started");
        return false;
    }
    if (!d->info->initialResponse) {
        if (error) {
            *error = QStringLiteral("%1 has no initial response: it waits for the server's "
                                    "first challenge (RFC 4954 4)").arg(d->mechName());
        }
        return false;
    }
    if (d->phase != Private::Phase::Ready) {
        if (error)
            *error = QStringLiteral("%1: the initial response was already produced").arg(d->mechName());
        return false;
    }
    QByteArray out;
    const Step s = d->produceFirst(&out, error);
    if (s == Step::Failed)
        return false;
    if (response)
        *response = out;
    return true;
}

SaslClient::Step SaslClient::Private::produceFirst(QByteArray *response, QString *error)
{
    if (info->usesToken) {
        *response = tokenMessage;
        ++messagesSent;
        // The token is the whole client side; the server answers 235, or a 334
        // carrying an error (RFC 7628 3.2.2), handled in step().
        phase = Phase::ClientComplete;
        return Step::Continue;
    }

    QByteArray out;
    const int rc = gsaslStep(QByteArray(), &out);
    if (rc == GSASL_OK) {
        // PLAIN: one message is the whole mechanism (RFC 4616 2).
        *response = out;
        ++messagesSent;
        phase = Phase::ClientComplete;
        return Step::Done;
    }
    if (rc == GSASL_NEEDS_MORE) {
        // SCRAM client-first-message (RFC 5802 5.1). Keep the client nonce to
        // check that the server's nonce extends it.
        if (isScram(info->id)) {
            const qsizetype header = out.indexOf(",,");
            clientNonce = parseScram(header >= 0 ? out.mid(header + 2) : out).nonce;
            if (clientNonce.isEmpty())
                return fail(error, QStringLiteral("%1: the SASL library produced no client nonce").arg(mechName()));
        }
        *response = out;
        ++messagesSent;
        phase = Phase::Exchanging;
        return Step::Continue;
    }
    return fail(error, gsaslError(rc));
}

SaslClient::Step SaslClient::step(const QByteArray &challenge, QByteArray *response, QString *error)
{
    QByteArray scratch;
    QByteArray *out = response ? response : &scratch;
    out->clear();

    switch (d->phase) {
    case Private::Phase::NotStarted:
        if (error)
            *error = QStringLiteral("AUTH: no SASL mechanism started");
        return Step::Failed;
    case Private::Phase::Failed:
        // Sticky: a failed exchange is cancelled, never resumed.
        d->hasClosingResponse = false;
        if (error)
            *error = QStringLiteral("%1: the authentication exchange already failed").arg(d->mechName());
        return Step::Failed;
    default:
        break;
    }

    // docs/security.md section H: a server answering 334 forever must not keep the
    // client in AUTH. No supported mechanism takes more than three challenges
    // and each one's state below already refuses extra ones; this cap bounds the
    // exchange as a whole whatever a mechanism's steps do.
    if (++d->rounds > MaxRounds) {
        return d->fail(error, QStringLiteral("%1: the server sent more than %2 challenges; "
                                             "stopping a possible AUTH loop")
                                  .arg(d->mechName())
                                  .arg(MaxRounds));
    }
    // docs/security.md section H: bound what a challenge may make the client process.
    if (challenge.size() > MaxChallengeSize) {
        return d->fail(error, QStringLiteral("%1: the server's challenge is %2 bytes, over the "
                                             "%3-byte limit")
                                  .arg(d->mechName())
                                  .arg(challenge.size())
                                  .arg(MaxChallengeSize));
    }

    if (d->info->usesToken) {
        if (d->phase == Private::Phase::Ready) {
            // The caller sent "AUTH XOAUTH2" alone (e.g. to keep the command
            // under 512 octets, RFC 4954 4) and the server asks with an empty
            // challenge: the token goes now.
            if (!challenge.isEmpty()) {
                return d->fail(error, QStringLiteral("%1: unexpected challenge before the token "
                                                     "was sent: \"%2\"")
                                          .arg(d->mechName(), printableExcerpt(challenge)));
            }
            return d->produceFirst(out, error);
        }
        return d->oauthError(challenge, out, error);
    }

    return d->stepGsasl(challenge, out, error);
}

SaslClient::Step SaslClient::Private::stepGsasl(const QByteArray &challenge, QByteArray *response,
                                                QString *error)
{
    if (phase == Phase::ClientComplete || phase == Phase::Verified) {
        return fail(error, QStringLiteral("%1: the server sent another challenge after the client's "
                                          "final message")
                               .arg(mechName()));
    }

    switch (info->id) {
    case Mech::Plain:
        // RFC 4616 has no server challenge; RFC 4954 4: a client that did not
        // send an initial response answers the empty "334 " with it.
        if (!challenge.isEmpty()) {
            return fail(error, QStringLiteral("PLAIN: unexpected non-empty challenge \"%1\"")
                                   .arg(printableExcerpt(challenge)));
        }
        return produceFirst(response, error);

    case Mech::Login: {
        // LOGIN (draft-murchison-sasl-login): user name, then password, whatever
        // the prompt says ("Username:", "User Name\0", ...); servers differ, and
        // the text carries no meaning. A third challenge is refused below by
        // the ClientComplete check.
        QByteArray out;
        const int rc = gsaslStep(challenge, &out);
        if (rc == GSASL_NEEDS_MORE) {
            *response = out;
            ++messagesSent;
            phase = Phase::Exchanging;
            return Step::Continue;
        }
        if (rc == GSASL_OK) {
            *response = out;
            ++messagesSent;
            phase = Phase::ClientComplete;
            return Step::Done;
        }
        return fail(error, gsaslError(rc));
    }

    case Mech::CramMd5: {
        // RFC 2195 2: the server's first reply carries the challenge; the
        // answer is "user SP hex(HMAC-MD5(password, challenge))".
        if (challenge.isEmpty())
            return fail(error, QStringLiteral("CRAM-MD5: the server sent an empty challenge (RFC 2195 2)"));
        QByteArray out;
        const int rc = gsaslStep(challenge, &out);
        if (rc != GSASL_OK)
            return fail(error, gsaslError(rc));
        *response = out;
        ++messagesSent;
        phase = Phase::ClientComplete;
        return Step::Done;
    }

    case Mech::ScramSha1:
    case Mech::ScramSha256: {
        if (phase == Phase::Ready) {
            if (!challenge.isEmpty()) {
                return fail(error, QStringLiteral("%1: unexpected challenge before client-first: \"%2\"")
                                       .arg(mechName(), printableExcerpt(challenge)));
            }
            return produceFirst(response, error);
        }
        if (messagesSent == 1) {
            // server-first-message (RFC 5802 5.1, 7).
            const ScramAttributes a = parseScram(challenge);
            if (!a.error.isEmpty()) {
                return fail(error, QStringLiteral("%1: the server reported an error: %2")
                                       .arg(mechName(), printableExcerpt(a.error)));
            }
            if (!a.mandatoryExtension.isEmpty()) {
                // RFC 5802 5.1 "m": the client must fail on an unknown
                // mandatory extension.
                return fail(error, QStringLiteral("%1: the server requires an unsupported extension "
                                                  "(m=%2)")
                                       .arg(mechName(), printableExcerpt(a.mandatoryExtension)));
            }
            if (a.nonce.isEmpty() || a.salt.isEmpty() || a.iterations.isEmpty()) {
                return fail(error, QStringLiteral("%1: malformed server-first message \"%2\"")
                                       .arg(mechName(), printableExcerpt(challenge)));
            }
            // RFC 5802 5.1 "r": the server nonce must start with the client's,
            // and add something of its own.
            if (!a.nonce.startsWith(clientNonce) || a.nonce.size() == clientNonce.size()) {
                return fail(error, QStringLiteral("%1: the server's nonce does not extend the client "
                                                  "nonce (RFC 5802 5.1)")
                                       .arg(mechName()));
            }
            bool ok = false;
            const quint64 iterations = a.iterations.toULongLong(&ok);
            if (!ok || iterations < MinScramIterations || iterations > MaxScramIterations) {
                return fail(error, QStringLiteral("%1: the server asks for %2 hash iterations; "
                                                  "accepted are %3 to %4 (RFC 7677 4, RFC 5802 9)")
                                       .arg(mechName(), printableExcerpt(a.iterations, 24))
                                       .arg(MinScramIterations)
                                       .arg(MaxScramIterations));
            }
            QByteArray out;
            const int rc = gsaslStep(challenge, &out);
            if (rc != GSASL_NEEDS_MORE)
                return fail(error, gsaslError(rc));
            *response = out;
            ++messagesSent;
            return Step::Continue;
        }
        // server-final-message as a 334 challenge (RFC 4954 4: additional data
        // with success goes in a challenge the client answers with an empty
        // line).
        const Step s = checkServerFinal(challenge, error);
        if (s == Step::Done)
            response->clear();
        return s;
    }

    case Mech::OAuthBearer:
    case Mech::XOAuth2:
    case Mech::None:
        break;
    }
    return fail(error, QStringLiteral("%1: internal error: no step for this mechanism").arg(mechName()));
}

SaslClient::Step SaslClient::Private::checkServerFinal(const QByteArray &serverFinal, QString *error)
{
    const ScramAttributes a = parseScram(serverFinal);
    if (!a.error.isEmpty()) {
        // RFC 5802 7 server-error, e.g. "e=invalid-proof" for a wrong password.
        return fail(error, QStringLiteral("%1: the server reported an error: %2")
                               .arg(mechName(), printableExcerpt(a.error)));
    }
    if (a.verifier.isEmpty()) {
        return fail(error, QStringLiteral("%1: malformed server-final message \"%2\"")
                               .arg(mechName(), printableExcerpt(serverFinal)));
    }
    QByteArray out;
    const int rc = gsaslStep(serverFinal, &out);
    if (rc == GSASL_AUTHENTICATION_ERROR) {
        // RFC 5802 3: the ServerSignature proves the server knows the
        // credentials; a mismatch means an impostor (or a broken server).
        return fail(error, QStringLiteral("%1: the server's signature (v=) is wrong: the server "
                                          "could not prove it knows the password; it may be an "
                                          "impostor")
                               .arg(mechName()));
    }
    if (rc != GSASL_OK)
        return fail(error, gsaslError(rc));
    phase = Phase::Verified;
    return Step::Done;
}

SaslClient::Step SaslClient::Private::oauthError(const QByteArray &challenge, QByteArray *response,
                                                 QString *error)
{
    // RFC 7628 3.2.2: after the client response, a 334 carries an error as
    // JSON ("status", "schemes", "scope"); Google's XOAUTH2 does the same. The
    // client must answer it to get the final 535: "\x01" for OAUTHBEARER
    // (RFC 7628 3.2.3), an empty line for XOAUTH2.
    const QByteArray closing = info->id == Mech::OAuthBearer ? QByteArray("\x01", 1) : QByteArray("");

    QJsonParseError parseError{};
    const QJsonDocument doc = QJsonDocument::fromJson(challenge, &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isObject()) {
        // Not the error format either mechanism defines: cancel with "*".
        return fail(error, QStringLiteral("%1: the server sent an unexpected challenge after the "
                                          "token: \"%2\"")
                               .arg(mechName(), printableExcerpt(challenge)),
                    response);
    }

    const QJsonObject obj = doc.object();
    auto field = [&obj](const char *key) {
        const QJsonValue v = obj.value(QLatin1String(key));
        if (v.isString())
            return v.toString();
        if (v.isDouble())
            return QString::number(v.toInteger());
        return QString();
    };
    const QString status = field("status");
    const QString schemes = field("schemes");
    const QString scope = field("scope");

    QStringList details;
    if (!status.isEmpty())
        details << QStringLiteral("status %1").arg(printableText(status, 40));
    if (!schemes.isEmpty())
        details << QStringLiteral("schemes \"%1\"").arg(printableText(schemes, 80));
    if (!scope.isEmpty())
        details << QStringLiteral("scope \"%1\"").arg(printableText(scope));

    // RFC 7628 3.2.2 takes its status values from RFC 6750 3.1.
    QString hint;
    if (status == u"401" || status == u"invalid_token")
        hint = QStringLiteral("the token is invalid or expired; get a new access token");
    else if (status == u"403" || status == u"insufficient_scope")
        hint = QStringLiteral("the token lacks the scope the server asks for; authorise that scope");
    else if (status == u"400" || status == u"invalid_request")
        hint = QStringLiteral("the server found the request malformed; check the user name and token");
    else
        hint = QStringLiteral("check the token and account");

    const QString what = details.isEmpty() ? QStringLiteral("no details") : details.join(QStringLiteral(", "));
    return fail(error, QStringLiteral("%1: the server rejected the token (%2): %3")
                           .arg(mechName(), what, hint),
                response, closing);
}

bool SaslClient::failureHasResponse() const
{
    return d->phase == Private::Phase::Failed && d->hasClosingResponse;
}

bool SaslClient::verifyServerFinal(const QByteArray &serverFinal, QString *error)
{
    if (!d->info || !isScram(d->info->id))
        return true;
    switch (d->phase) {
    case Private::Phase::Verified:
        return true;
    case Private::Phase::Failed:
        if (error)
            *error = QStringLiteral("%1: the authentication exchange already failed").arg(d->mechName());
        return false;
    default:
        break;
    }
    if (d->messagesSent < 2) {
        d->fail(error, QStringLiteral("%1: the server reported success before the exchange was "
                                      "complete; its identity is unproven")
                           .arg(d->mechName()));
        return false;
    }
    if (serverFinal.isEmpty()) {
        // RFC 5802 3: mutual authentication rests on the server signature;
        // success without it proves nothing about the server.
        d->fail(error, QStringLiteral("%1: the server reported success without its signature "
                                      "(v=); its identity is unproven")
                           .arg(d->mechName()));
        return false;
    }
    if (serverFinal.size() > MaxChallengeSize) {
        d->fail(error, QStringLiteral("%1: the server-final message is %2 bytes, over the %3-byte limit")
                           .arg(d->mechName())
                           .arg(serverFinal.size())
                           .arg(MaxChallengeSize));
        return false;
    }
    return d->checkServerFinal(serverFinal, error) == Step::Done;
}

} // namespace Smtp
