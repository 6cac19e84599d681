#include "safehtmlbrowser.h"

#include <QImage>
#include <QTextDocument>
#include <QUrl>

SafeHtmlBrowser::SafeHtmlBrowser(QWidget *parent) : QTextBrowser(parent)
{
    setOpenLinks(false);
    setOpenExternalLinks(false);
    // No search paths: a relative name must not resolve to a local file.
    setSearchPaths({});
}

SafeHtmlBrowser::~SafeHtmlBrowser() = default;

void SafeHtmlBrowser::setCidResolver(CidResolver resolver)
{
    m_resolver = std::move(resolver);
}

QVariant SafeHtmlBrowser::loadResource(int type, const QUrl &name)
{
    // Only the message's own parts (RFC 2392 "cid:" URLs); QTextBrowser's own
    // loader would open file: and relative names, so it is never called.
    if (name.scheme().compare(QLatin1String("cid"), Qt::CaseInsensitive) != 0 || !m_resolver) {
        ++m_blocked;
        return {};
    }
    const QByteArray bytes = m_resolver(name.path(QUrl::FullyEncoded)); // RFC 2392: still %hh-escaped
    if (bytes.isNull()) {
        ++m_blocked;
        return {};
    }
    if (type == QTextDocument::ImageResource) {
        QImage image;
        if (image.loadFromData(bytes))
            return image;
        return {};
    }
    if (type == QTextDocument::StyleSheetResource)
        return QString::fromUtf8(bytes);
    return bytes;
}
