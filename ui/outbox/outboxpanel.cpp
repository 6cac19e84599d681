#include "outboxpanel.h"

#include "live/peertext.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace {

enum Column { SubjectColumn, ToColumn, ProfileColumn, AttemptsColumn, LastAttemptColumn, ErrorColumn, ColumnCount };

QString when(const QDateTime &utc)
{
    return utc.isValid() ? QLocale().toString(utc.toLocalTime(), QLocale::ShortFormat) : OutboxPanel::tr("never");
}

// Who the message is for, from the composer's fields (an opened .eml unedited
// has them too: the composer fills them from its headers).
QString recipients(const QVariantMap &fields)
{
    QStringList to;
    for (const char *key : {"to", "cc", "bcc"}) {
        const QString v = fields.value(QString::fromLatin1(key)).toString().trimmed();
        if (!v.isEmpty())
            to.append(v);
    }
    return to.join(QStringLiteral(", "));
}

} // namespace

OutboxPanel::OutboxPanel(QWidget *parent) : QWidget(parent)
{
    setAccessibleName(tr("Outbox"));

    m_empty = new QLabel(tr("The outbox is empty: a message whose send fails waits here for a retry."), this);
    m_empty->setObjectName(QStringLiteral("outboxEmptyNote"));
    m_empty->setAccessibleName(tr("Outbox note"));
    m_empty->setWordWrap(true);

    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("outboxList"));
    m_list->setAccessibleName(tr("Messages waiting in the outbox"));
    m_list->setToolTip(tr("Messages whose send failed; nothing here was accepted by a server"));
    m_list->setHeaderLabels({tr("Subject"), tr("To"), tr("Profile"), tr("Attempts"), tr("Last attempt"), tr("Error")});
    m_list->setRootIsDecorated(false);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setAlternatingRowColors(true);
    m_list->header()->setStretchLastSection(true);
    m_list->setWordWrap(false);

    m_retry = new QPushButton(tr("&Retry now"), this);
    m_retry->setObjectName(QStringLiteral("outboxRetryButton"));
    m_retry->setAccessibleName(tr("Retry now"));
    m_retry->setToolTip(tr("Send the selected message again with its profile (or the current connection when "
                           "that profile no longer exists)"));
    m_edit = new QPushButton(tr("&Edit"), this);
    m_edit->setObjectName(QStringLiteral("outboxEditButton"));
    m_edit->setAccessibleName(tr("Edit in the composer"));
    m_edit->setToolTip(tr("Load the selected message into the composer; it leaves the outbox once it is sent"));
    m_discard = new QPushButton(tr("&Discard"), this);
    m_discard->setObjectName(QStringLiteral("outboxDiscardButton"));
    m_discard->setAccessibleName(tr("Discard"));
    m_discard->setToolTip(tr("Remove the selected message from the outbox without sending it"));
    m_autoRetry = new QCheckBox(tr("Retry every"), this);
    m_autoRetry->setObjectName(QStringLiteral("outboxAutoRetry"));
    m_autoRetry->setAccessibleName(tr("Retry automatically"));
    m_autoRetry->setToolTip(tr("Retry every message in the outbox on a timer while the window is open"));
    m_minutes = new QSpinBox(this);
    m_minutes->setObjectName(QStringLiteral("outboxRetryMinutes"));
    m_minutes->setAccessibleName(tr("Retry interval in minutes"));
    m_minutes->setToolTip(tr("Minutes between automatic retries"));
    m_minutes->setRange(1, 24 * 60);
    m_minutes->setValue(15);
    m_minutes->setSuffix(tr(" min"));
    m_minutes->setEnabled(false);

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_retry);
    buttons->addWidget(m_edit);
    buttons->addWidget(m_discard);
    buttons->addStretch(1);
    buttons->addWidget(m_autoRetry);
    buttons->addWidget(m_minutes);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_empty);
    layout->addWidget(m_list, 1);
    layout->addLayout(buttons);

    connect(m_list, &QTreeWidget::itemSelectionChanged, this, &OutboxPanel::updateButtons);
    connect(m_list, &QTreeWidget::itemDoubleClicked, this, [this] {
        if (const qint64 id = selectedId(); id != 0 && !m_busy)
            Q_EMIT editRequested(id);
    });
    connect(m_retry, &QPushButton::clicked, this, [this] {
        if (const qint64 id = selectedId(); id != 0)
            Q_EMIT retryRequested(id);
    });
    connect(m_edit, &QPushButton::clicked, this, [this] {
        if (const qint64 id = selectedId(); id != 0)
            Q_EMIT editRequested(id);
    });
    connect(m_discard, &QPushButton::clicked, this, [this] {
        if (const qint64 id = selectedId(); id != 0)
            Q_EMIT discardRequested(id);
    });
    auto emitMinutes = [this] {
        m_minutes->setEnabled(m_autoRetry->isChecked());
        Q_EMIT retryMinutesChanged(retryMinutes());
    };
    connect(m_autoRetry, &QCheckBox::toggled, this, emitMinutes);
    connect(m_minutes, &QSpinBox::valueChanged, this, emitMinutes);
    setItems({});
}

void OutboxPanel::setItems(const QList<Store::OutboxItem> &items)
{
    const qint64 selected = selectedId();
    const int before = int(m_items.size());
    m_items = items;
    {
        const QSignalBlocker block(m_list);
        m_list->clear();
        for (const Store::OutboxItem &item : items) {
            auto *row = new QTreeWidgetItem(m_list);
            row->setData(0, Qt::UserRole, item.id);
            const QString subject = item.fields.value(QStringLiteral("subject")).toString();
            // The subject and addresses may come from an opened .eml file: shown
            // by the escaping rule (live/peertext.h), like the error below.
            row->setText(SubjectColumn, subject.isEmpty() ? tr("(no subject)") : PeerText::value(subject));
            row->setText(ToColumn, PeerText::value(recipients(item.fields)));
            row->setText(ProfileColumn, item.profile);
            row->setText(AttemptsColumn, QString::number(item.attempts));
            row->setTextAlignment(AttemptsColumn, Qt::AlignRight | Qt::AlignVCenter);
            row->setText(LastAttemptColumn, when(item.lastAttempt));
            // The error is the server's words among others: plain text only, the
            // first line in the row, all of it in the tooltip.
            row->setText(ErrorColumn, PeerText::line(item.lastError.section(u'\n', 0, 0)));
            row->setToolTip(ErrorColumn, PeerText::toolTip(item.lastError));
            row->setToolTip(SubjectColumn, tr("Waiting since %1").arg(when(item.created)));
        }
        for (int c = 0; c < ErrorColumn; ++c)
            m_list->resizeColumnToContents(c);
    }
    m_empty->setVisible(items.isEmpty());
    if (!select(selected) && !items.isEmpty())
        m_list->setCurrentItem(m_list->topLevelItem(0));
    updateButtons();
    if (before != items.size())
        Q_EMIT countChanged(int(items.size()));
}

qint64 OutboxPanel::selectedId() const
{
    const QList<QTreeWidgetItem *> selected = m_list->selectedItems();
    return selected.isEmpty() ? 0 : selected.first()->data(0, Qt::UserRole).toLongLong();
}

bool OutboxPanel::select(qint64 id)
{
    for (int i = 0; id != 0 && i < m_list->topLevelItemCount(); ++i) {
        QTreeWidgetItem *row = m_list->topLevelItem(i);
        if (row->data(0, Qt::UserRole).toLongLong() == id) {
            m_list->setCurrentItem(row);
            row->setSelected(true);
            return true;
        }
    }
    return false;
}

QStringList OutboxPanel::rowTexts() const
{
    QStringList rows;
    for (int i = 0; i < m_list->topLevelItemCount(); ++i) {
        const QTreeWidgetItem *row = m_list->topLevelItem(i);
        QStringList cells;
        for (int c = 0; c < ColumnCount; ++c)
            cells.append(row->text(c));
        rows.append(cells.join(QStringLiteral(" | ")));
    }
    return rows;
}

void OutboxPanel::setRetryMinutes(int minutes)
{
    const QSignalBlocker a(m_autoRetry);
    const QSignalBlocker b(m_minutes);
    m_autoRetry->setChecked(minutes > 0);
    if (minutes > 0)
        m_minutes->setValue(minutes);
    m_minutes->setEnabled(minutes > 0);
}

int OutboxPanel::retryMinutes() const
{
    return m_autoRetry->isChecked() ? m_minutes->value() : 0;
}

void OutboxPanel::setBusy(bool busy)
{
    m_busy = busy;
    updateButtons();
}

void OutboxPanel::updateButtons()
{
    const bool any = selectedId() != 0;
    m_retry->setEnabled(any && !m_busy);
    m_edit->setEnabled(any && !m_busy);
    m_discard->setEnabled(any);
    m_list->setVisible(!m_items.isEmpty());
}
