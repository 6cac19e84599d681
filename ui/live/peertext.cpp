#include "peertext.h"

#include "protocol/printable.h"

#include <QTextDocument>

namespace PeerText {

QString value(const QString &text)
{
    return Smtp::printable(text);
}

QString values(const QStringList &texts, const QString &separator)
{
    QStringList shown;
    shown.reserve(texts.size());
    for (const QString &t : texts)
        shown.append(Smtp::printable(t));
    return shown.join(separator);
}

QString line(const QString &text)
{
    return Smtp::safeLine(text);
}

QString text(const QString &text)
{
    return Smtp::safeText(text);
}

QString toolTip(const QString &text)
{
    const QString safe = Smtp::safeText(text);
    // Qt::convertFromPlainText escapes <, > and & and turns line feeds into <br>,
    // so the tooltip shows the characters that were sent.
    return Qt::mightBeRichText(safe) ? Qt::convertFromPlainText(safe, Qt::WhiteSpaceNormal) : safe;
}

} // namespace PeerText
