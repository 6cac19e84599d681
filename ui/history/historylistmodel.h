#pragma once
// The History page's list: stored sessions newest first, read from the
// HistoryStore a page (200 rows) at a time. The view asks for more with
// fetchMore() as the user scrolls, so opening 10,000 sessions reads one page.
// Lives and queries on the GUI thread (the store's thread).

#include "store/historystore.h"

#include <QAbstractTableModel>
#include <QColor>
#include <QHash>
#include <QPalette>

class HistoryListModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { TimeColumn, KindColumn, TargetColumn, OutcomeColumn, SubjectColumn, DurationColumn, ColumnCount };
    enum Role { IdRole = Qt::UserRole + 1, OutcomeRole };
    static constexpr int PageSize = 200;

    explicit HistoryListModel(Store::HistoryStore *store, QObject *parent = nullptr);

    // Replaces the filter and reads its first page (limit/offset of `filter` are
    // ignored: the model pages itself).
    void setFilter(const Store::SessionFilter &filter);
    [[nodiscard]] Store::SessionFilter filter() const { return m_filter; }
    // Reads again as many rows as are loaded now (at least one page).
    void reload();
    // Colours of the outcome column follow the palette of the view showing them.
    void setPalette(const QPalette &palette);

    [[nodiscard]] qint64 idAt(int row) const;
    [[nodiscard]] int rowOf(qint64 id) const; // -1 when not loaded
    [[nodiscard]] QList<qint64> ids() const;
    [[nodiscard]] const Store::SessionSummary &summaryAt(int row) const { return m_rows.at(row); }
    // How many sessions match the filter (one COUNT query per filter change).
    [[nodiscard]] int totalCount() const { return m_total; }

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    [[nodiscard]] bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

    // The hue of an outcome (LiveColours), -1 for none: the word is shown too, so
    // colour never carries the meaning alone.
    [[nodiscard]] static int outcomeHue(const QString &outcome);
    [[nodiscard]] static QString durationText(qint64 us);

private:
    QList<Store::SessionSummary> readPage(int offset, int limit) const;

    // Set while the model changes and while it announces the change: a listener
    // asking for more from inside that announcement (views and
    // QAbstractItemModelTester do, from rowsInserted/modelReset) gets it from the
    // event loop instead, so changes never nest.
    class ChangeScope;
    bool m_changing = false;
    bool m_fetchQueued = false;

    Store::HistoryStore *m_store;
    Store::SessionFilter m_filter;
    QList<Store::SessionSummary> m_rows;
    bool m_more = false;
    int m_total = 0;
    QPalette m_palette;
    QHash<int, QColor> m_colours; // hue -> readable foreground on m_palette's base
};
