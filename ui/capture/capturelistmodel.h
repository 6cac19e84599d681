#pragma once
// The capture list: one row per stored message, newest first (ids sort by
// arrival, MessageStore), columns time, from, to, subject, size. Follows the
// store's signals; rows are inserted and removed one at a time, which is what
// the store reports. Holds only the newest messages, a page more each time the
// view asks (canFetchMore/fetchMore, loaded from the event loop): memory stays
// flat however large the store; the rows held are always the newest N.

#include <QAbstractTableModel>
#include <QList>
#include <QMetaObject>

#include "capture/messagestore.h"

class CaptureListModel : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CaptureListModel)

public:
    enum Column { TimeColumn, FromColumn, ToColumn, SubjectColumn, SizeColumn, ColumnCount };
    static constexpr int IdRole = Qt::UserRole + 1;
    static constexpr int PathRole = Qt::UserRole + 2;

    explicit CaptureListModel(QObject *parent = nullptr);
    ~CaptureListModel() override;

    void setStore(Capture::MessageStore *store);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    [[nodiscard]] bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

    [[nodiscard]] int rowOf(const QString &id) const; // -1 if absent (or not fetched yet)
    [[nodiscard]] const Capture::StoredMessage *messageAt(int row) const;

private:
    void reload();
    void loadNextPage();
    void add(const Capture::StoredMessage &message);
    void removeId(const QString &id);

    Capture::MessageStore *m_store = nullptr;
    static constexpr int PageSize = 500;
    QList<Capture::StoredMessage> m_messages; // the newest (greatest id) first
    QList<QMetaObject::Connection> m_connections;
    bool m_fetchScheduled = false;
};
