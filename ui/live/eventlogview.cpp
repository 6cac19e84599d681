#include "liveviews.h"

#include "eventlogmodel.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollBar>
#include <QShortcut>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace {

// Filters by exact event name and by case-insensitive text in the event or the
// details. A plain substring test: the text box is for quick searches, and a
// regular expression per row would cost more than the whole model on 100,000 rows.
class EventFilterProxy : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

    void setEventName(const QString &name)
    {
        if (name == m_event)
            return;
        m_event = name;
        invalidateFilter();
    }
    void setText(const QString &text)
    {
        if (text == m_text)
            return;
        m_text = text;
        invalidateFilter();
    }
    [[nodiscard]] bool isFiltering() const { return !m_event.isEmpty() || !m_text.isEmpty(); }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override
    {
        if (!isFiltering())
            return true;
        const QAbstractItemModel *m = sourceModel();
        const QString event = m->index(sourceRow, EventLogModel::EventColumn, sourceParent).data().toString();
        if (!m_event.isEmpty() && event != m_event)
            return false;
        if (m_text.isEmpty())
            return true;
        return event.contains(m_text, Qt::CaseInsensitive)
            || m->index(sourceRow, EventLogModel::DetailsColumn, sourceParent)
                   .data()
                   .toString()
                   .contains(m_text, Qt::CaseInsensitive);
    }

private:
    QString m_event;
    QString m_text;
};

} // namespace

struct EventLogView::Private
{
    EventLogModel *model = nullptr;
    EventFilterProxy *proxy = nullptr;
    QTableView *table = nullptr;
    QComboBox *typeFilter = nullptr;
    QLineEdit *textFilter = nullptr;
    QLabel *countLabel = nullptr;
    QPushButton *copyButton = nullptr;
    QPushButton *exportButton = nullptr;

    void updateNames();
    void updateCount();
    [[nodiscard]] bool atBottom() const
    {
        const QScrollBar *bar = table->verticalScrollBar();
        return bar->value() >= bar->maximum();
    }
    [[nodiscard]] QModelIndexList sourceRows(const QModelIndexList &proxyRows) const
    {
        QModelIndexList out;
        out.reserve(proxyRows.size());
        for (const QModelIndex &i : proxyRows)
            out.append(proxy->mapToSource(i));
        return out;
    }
};

void EventLogView::Private::updateNames()
{
    // Rebuilt from the model's list, keeping the user's choice selected.
    const QString current = typeFilter->currentData().toString();
    const QSignalBlocker block(typeFilter);
    typeFilter->clear();
    typeFilter->addItem(EventLogView::tr("All events"), QString());
    for (const QString &name : model->eventNames())
        typeFilter->addItem(name, name);
    const int index = typeFilter->findData(current);
    typeFilter->setCurrentIndex(index < 0 ? 0 : index);
    if (index < 0)
        proxy->setEventName(QString());
}

void EventLogView::Private::updateCount()
{
    const qint64 total = model->totalSeen();
    const int kept = model->rowCount();
    const int shown = proxy->rowCount();
    QString text = proxy->isFiltering() ? EventLogView::tr("%1 of %2 events shown").arg(shown).arg(kept)
                                        : EventLogView::tr("%1 events").arg(kept);
    if (total > kept)
        text += EventLogView::tr(" (%1 older dropped)").arg(total - kept);
    countLabel->setText(text);
}

EventLogView::EventLogView(QWidget *parent)
    : QWidget(parent)
    , d(std::make_unique<Private>())
{
    d->model = new EventLogModel(100000, this);
    d->proxy = new EventFilterProxy(this);
    d->proxy->setSourceModel(d->model);

    d->typeFilter = new QComboBox(this);
    d->typeFilter->setAccessibleName(tr("Event type filter"));
    d->typeFilter->setToolTip(tr("Show only events of this type"));
    d->typeFilter->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    d->typeFilter->addItem(tr("All events"), QString());

    d->textFilter = new QLineEdit(this);
    d->textFilter->setAccessibleName(tr("Event text filter"));
    d->textFilter->setToolTip(tr("Show only events whose type or details contain this text (case-insensitive)"));
    d->textFilter->setPlaceholderText(tr("Filter text"));
    d->textFilter->setClearButtonEnabled(true);

    d->countLabel = new QLabel(this);
    d->countLabel->setAccessibleName(tr("Event count"));

    d->copyButton = new QPushButton(tr("&Copy"), this);
    d->copyButton->setAccessibleName(tr("Copy selected events"));
    d->copyButton->setToolTip(tr("Copy the selected rows as tab-separated text (Ctrl+C)"));
    d->exportButton = new QPushButton(tr("&Export..."), this);
    d->exportButton->setAccessibleName(tr("Export events"));
    d->exportButton->setToolTip(tr("Save the rows shown as a tab-separated text file"));

    d->table = new QTableView(this);
    d->table->setAccessibleName(tr("Event log"));
    d->table->setModel(d->proxy);
    d->table->setSelectionBehavior(QAbstractItemView::SelectRows);
    d->table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    d->table->setWordWrap(false);
    d->table->setAlternatingRowColors(true);
    d->table->setTextElideMode(Qt::ElideRight);
    // Fixed row heights: the view never measures 100,000 rows.
    d->table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    d->table->verticalHeader()->setDefaultSectionSize(d->table->fontMetrics().height() + 6);
    d->table->verticalHeader()->hide();
    d->table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    d->table->horizontalHeader()->setStretchLastSection(true);
    d->table->setColumnWidth(EventLogModel::TimeColumn, d->table->fontMetrics().horizontalAdvance(u'0') * 12);
    d->table->setColumnWidth(EventLogModel::EventColumn, d->table->fontMetrics().horizontalAdvance(u'M') * 14);

    auto *filters = new QHBoxLayout;
    filters->addWidget(d->typeFilter);
    filters->addWidget(d->textFilter, 1);
    filters->addWidget(d->countLabel);
    filters->addWidget(d->copyButton);
    filters->addWidget(d->exportButton);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(filters);
    layout->addWidget(d->table, 1);

    connect(d->model, &EventLogModel::eventNamesChanged, this, [this] { d->updateNames(); });
    connect(d->typeFilter, &QComboBox::currentIndexChanged, this, [this] {
        d->proxy->setEventName(d->typeFilter->currentData().toString());
        d->updateCount();
    });
    connect(d->textFilter, &QLineEdit::textChanged, this, [this](const QString &text) {
        d->proxy->setText(text);
        d->updateCount();
    });

    auto copy = [this] {
        const QModelIndexList rows = d->table->selectionModel()->selectedRows();
        if (rows.isEmpty())
            return;
        QApplication::clipboard()->setText(d->model->toText(d->sourceRows(rows)));
    };
    auto *copyShortcut = new QShortcut(QKeySequence::Copy, d->table);
    copyShortcut->setContext(Qt::WidgetWithChildrenShortcut);
    connect(copyShortcut, &QShortcut::activated, this, copy);
    connect(d->copyButton, &QPushButton::clicked, this, copy);
    connect(d->exportButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export events"), QStringLiteral("events.tsv"),
                                                          tr("Tab-separated text (*.tsv *.txt)"));
        if (path.isEmpty())
            return;
        QString error;
        if (!exportTo(path, &error))
            d->countLabel->setText(tr("Export failed: %1").arg(error));
    });
    d->updateCount();
}

EventLogView::~EventLogView() = default;

EventLogModel *EventLogView::model() const
{
    return d->model;
}

void EventLogView::append(const QList<QVariantMap> &records)
{
    if (records.isEmpty())
        return;
    // Follow the new events only when the user is at the bottom already: someone
    // who scrolled up to read keeps their place.
    const bool follow = d->atBottom();
    d->model->append(records);
    d->updateCount();
    if (follow)
        d->table->scrollToBottom();
}

void EventLogView::clear()
{
    d->model->clear();
    d->updateCount();
}

bool EventLogView::exportTo(const QString &path, QString *error) const
{
    QModelIndexList rows;
    const int n = d->proxy->rowCount();
    rows.reserve(n);
    for (int r = 0; r < n; ++r)
        rows.append(d->proxy->mapToSource(d->proxy->index(r, 0)));
    QString text = tr("Time\tEvent\tDetails") + u'\n';
    text += d->model->toText(rows.isEmpty() ? QModelIndexList{QModelIndex()} : rows);

    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text) || file.write(text.toUtf8()) < 0 || !file.commit()) {
        if (error)
            *error = file.errorString();
        return false;
    }
    return true;
}
