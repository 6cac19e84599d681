#pragma once
// The outbox: messages whose send failed, each with why (the step and the
// server's reply), how many attempts, the last attempt and the profile it goes
// with. Retry now, Edit (into the composer) and Discard act on the selected
// item; "Retry every N minutes" asks the owner to retry all of them on a timer.
//
// A view only: MainWindow owns the store and the sending, and gives the panel
// the items (setItems) after every change.

#include "store/historystore.h"

#include <QWidget>

class QCheckBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTreeWidget;

class OutboxPanel : public QWidget
{
    Q_OBJECT

public:
    explicit OutboxPanel(QWidget *parent = nullptr);

    void setItems(const QList<Store::OutboxItem> &items);
    [[nodiscard]] QList<Store::OutboxItem> items() const { return m_items; }
    [[nodiscard]] int count() const { return int(m_items.size()); }
    // The item shown selected, 0 when none.
    [[nodiscard]] qint64 selectedId() const;
    bool select(qint64 id);
    // A line per item as shown (subject, recipients, profile, attempts, error).
    [[nodiscard]] QStringList rowTexts() const;

    // Automatic retry: 0 minutes is off.
    void setRetryMinutes(int minutes);
    [[nodiscard]] int retryMinutes() const;
    // Disables Retry and Edit while a send is running.
    void setBusy(bool busy);

    [[nodiscard]] QPushButton *retryButton() const { return m_retry; }
    [[nodiscard]] QPushButton *editButton() const { return m_edit; }
    [[nodiscard]] QPushButton *discardButton() const { return m_discard; }

Q_SIGNALS:
    void retryRequested(qint64 id);
    void editRequested(qint64 id);
    void discardRequested(qint64 id);
    void retryMinutesChanged(int minutes); // 0: off
    void countChanged(int count);

private:
    void updateButtons();

    QList<Store::OutboxItem> m_items;
    QTreeWidget *m_list = nullptr;
    QLabel *m_empty = nullptr;
    QPushButton *m_retry = nullptr;
    QPushButton *m_edit = nullptr;
    QPushButton *m_discard = nullptr;
    QCheckBox *m_autoRetry = nullptr;
    QSpinBox *m_minutes = nullptr;
    bool m_busy = false;
};
