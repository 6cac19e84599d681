#include "liveviews.h"

#include "peertext.h"

#include <QDateTime>
#include <QHeaderView>
#include <QTreeWidget>
#include <QVBoxLayout>

// The warning queue's records (core/events/usagestats.cpp) carry no time of their
// own: they are stamped when they reach the panel, which is at most one batch
// interval (SendController::BatchIntervalMs) after they were raised.

namespace {

constexpr int kMaxWarnings = 10000;

QString seconds(qint64 us)
{
    return QStringLiteral("%1 s").arg(double(us) / 1e6, 0, 'f', 3);
}

QString rate(double bytesPerSecond)
{
    if (bytesPerSecond >= 1024.0 * 1024.0)
        return QStringLiteral("%1 MiB/s").arg(bytesPerSecond / (1024.0 * 1024.0), 0, 'f', 1);
    if (bytesPerSecond >= 1024.0)
        return QStringLiteral("%1 KiB/s").arg(bytesPerSecond / 1024.0, 0, 'f', 1);
    return QStringLiteral("%1 B/s").arg(bytesPerSecond, 0, 'f', 0);
}

QString describe(const QVariantMap &w)
{
    const QString type = w.value(QStringLiteral("type")).toString();
    if (type == u"SOCKET-OPERATION-WARNING") {
        return WarningsPanel::tr("Slow operation: %1 took %2 (threshold %3)")
            .arg(w.value(QStringLiteral("operation")).toString(),
                 seconds(w.value(QStringLiteral("us")).toLongLong()),
                 seconds(w.value(QStringLiteral("timeout")).toLongLong()));
    }
    if (type == u"SOCKET-THROUGHPUT-WARNING") {
        const QString dir = w.value(QStringLiteral("dir")).toString();
        return WarningsPanel::tr("Low throughput: %1 %2 bytes in %3 = %4 (threshold %5)")
            .arg(dir == u"send" ? WarningsPanel::tr("sent") : WarningsPanel::tr("received"))
            .arg(w.value(QStringLiteral("bytes")).toLongLong())
            .arg(seconds(w.value(QStringLiteral("us")).toLongLong()),
                 rate(w.value(QStringLiteral("bytes_sec")).toDouble()),
                 rate(w.value(QStringLiteral("threshold")).toDouble()));
    }
    // A record of a kind this panel does not know: show its fields as they are.
    QStringList fields;
    for (auto it = w.cbegin(); it != w.cend(); ++it) {
        if (it.key() != u"type" && it.key() != u"arg")
            fields.append(it.key() + u'=' + it.value().toString());
    }
    return (type.isEmpty() ? WarningsPanel::tr("Warning") : type) + QStringLiteral(": ") + fields.join(u' ');
}

} // namespace

struct WarningsPanel::Private
{
    QTreeWidget *list = nullptr;

    void add(const QString &text, const QString &tooltip)
    {
        auto *item = new QTreeWidgetItem(
            {QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss.zzz")), PeerText::line(text)});
        item->setToolTip(1, PeerText::toolTip(tooltip.isEmpty() ? text : tooltip));
        list->addTopLevelItem(item);
        while (list->topLevelItemCount() > kMaxWarnings)
            delete list->takeTopLevelItem(0);
    }
};

WarningsPanel::WarningsPanel(QWidget *parent)
    : QWidget(parent)
    , d(std::make_unique<Private>())
{
    d->list = new QTreeWidget(this);
    d->list->setAccessibleName(tr("Warnings"));
    d->list->setToolTip(tr("Slow operations and low throughput reported by the connection (thresholds are set in "
                           "the connection panel), and warnings of the last send"));
    d->list->setRootIsDecorated(false);
    d->list->setUniformRowHeights(true);
    d->list->setHeaderLabels({tr("Time"), tr("Warning")});
    d->list->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    d->list->header()->setStretchLastSection(true);
    d->list->setSelectionMode(QAbstractItemView::ExtendedSelection);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(d->list);
}

WarningsPanel::~WarningsPanel() = default;

void WarningsPanel::append(const QList<QVariantMap> &warnings)
{
    if (warnings.isEmpty())
        return;
    for (const QVariantMap &w : warnings)
        d->add(describe(w), w.value(QStringLiteral("type")).toString());
    d->list->scrollToBottom();
    Q_EMIT countChanged(count());
}

void WarningsPanel::appendText(const QStringList &warnings)
{
    if (warnings.isEmpty())
        return;
    for (const QString &w : warnings)
        d->add(w, QString());
    d->list->scrollToBottom();
    Q_EMIT countChanged(count());
}

void WarningsPanel::clear()
{
    if (d->list->topLevelItemCount() == 0)
        return;
    d->list->clear();
    Q_EMIT countChanged(0);
}

int WarningsPanel::count() const
{
    return d->list->topLevelItemCount();
}
