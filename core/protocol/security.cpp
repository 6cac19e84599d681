#include "security.h"

namespace Smtp {

QString securityName(Security s)
{
    switch (s) {
    case Security::Plain:
        return QStringLiteral("plain");
    case Security::StartTlsOpportunistic:
        return QStringLiteral("starttls-opportunistic");
    case Security::StartTlsRequired:
        return QStringLiteral("starttls");
    case Security::ImplicitTls:
        return QStringLiteral("implicit-tls");
    }
    return {};
}

std::optional<Security> securityFromName(QStringView name)
{
    for (const Security s : securities()) {
        if (securityName(s) == name)
            return s;
    }
    if (name == u"none")
        return Security::Plain;
    if (name == u"starttls-if-offered")
        return Security::StartTlsOpportunistic;
    if (name == u"starttls-required")
        return Security::StartTlsRequired;
    return std::nullopt;
}

QList<Security> securities()
{
    return {Security::Plain, Security::StartTlsOpportunistic, Security::StartTlsRequired, Security::ImplicitTls};
}

} // namespace Smtp
