#pragma once
// The live event log: a bounded table model over a ring buffer of SocketEvent
// records (core/events/socketevent.h), appended in batches (one
// beginInsertRows per batch; the oldest rows dropped in one beginRemoveRows when
// full), so a million events do not slow the window. Columns: time, event,
// details. Long details are cut with "+N bytes".

#include <QAbstractTableModel>
#include <QVariantMap>
#include <deque>

class EventLogModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { TimeColumn, EventColumn, DetailsColumn, ColumnCount };
    enum Role { EventNameRole = Qt::UserRole + 1, RecordRole };

    explicit EventLogModel(qsizetype capacity = 100000, QObject *parent = nullptr);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    void append(const QList<QVariantMap> &records);
    void clear();
    [[nodiscard]] qsizetype capacity() const { return m_capacity; }
    // Events seen since the last clear(), including those dropped from the ring.
    [[nodiscard]] qint64 totalSeen() const { return m_totalSeen; }
    // The distinct event names seen, for the type filter.
    [[nodiscard]] QStringList eventNames() const;
    // The rows as tab-separated text (copy / export).
    [[nodiscard]] QString toText(const QModelIndexList &rows = {}) const;

Q_SIGNALS:
    void eventNamesChanged();

private:
    struct Row
    {
        qint64 timeUs;
        QString event;
        QString details;
    };
    std::deque<Row> m_rows;
    qsizetype m_capacity;
    qint64 m_totalSeen = 0;
    qint64 m_firstTimeUs = -1;
    QStringList m_names;
};
