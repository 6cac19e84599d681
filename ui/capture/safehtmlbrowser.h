#pragma once
// Shows a captured message's HTML without letting it reach anything: links are
// not followed, and every resource the document asks for (images, style sheets)
// is refused unless it is a "cid:" URL naming one of the message's own parts
// (RFC 2392). Remote images are how senders learn a message was opened, and
// file: URLs would read local files into the view; neither ever loads here.
// QTextBrowser runs no scripts.

#include <QTextBrowser>

#include <functional>

class SafeHtmlBrowser : public QTextBrowser
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SafeHtmlBrowser)

public:
    // Returns the decoded bytes of the part with that Content-ID, or a null array.
    using CidResolver = std::function<QByteArray(const QString &contentId)>;

    explicit SafeHtmlBrowser(QWidget *parent = nullptr);
    ~SafeHtmlBrowser() override;

    void setCidResolver(CidResolver resolver);
    QVariant loadResource(int type, const QUrl &name) override;

    // How many resources were refused since the last setHtml (for a note to the user).
    [[nodiscard]] int blockedCount() const { return m_blocked; }
    void resetBlockedCount() { m_blocked = 0; }

private:
    CidResolver m_resolver;
    int m_blocked = 0;
};
