#include "capturelistmodel.h"

#include "live/peertext.h"

#include <QLocale>
#include <QTimer>

#include <algorithm>

CaptureListModel::CaptureListModel(QObject *parent) : QAbstractTableModel(parent) {}

CaptureListModel::~CaptureListModel() = default;

void CaptureListModel::setStore(Capture::MessageStore *store)
{
    for (const auto &c : std::as_const(m_connections))
        disconnect(c);
    m_connections.clear();
    m_store = store;
    if (m_store) {
        // Connected before the list is read; add() ignores an id already listed,
        // so a message committed in between is neither lost nor listed twice.
        m_connections << connect(m_store, &Capture::MessageStore::messageAdded, this, &CaptureListModel::add);
        m_connections << connect(m_store, &Capture::MessageStore::messageRemoved, this, &CaptureListModel::removeId);
        m_connections << connect(m_store, &Capture::MessageStore::cleared, this, &CaptureListModel::reload);
        m_connections << connect(m_store, &QObject::destroyed, this, [this] {
            m_store = nullptr;
            m_connections.clear();
            reload();
        });
    }
    reload();
}

void CaptureListModel::reload()
{
    beginResetModel();
    m_messages = m_store ? m_store->page(0, PageSize) : QList<Capture::StoredMessage>();
    endResetModel();
}

bool CaptureListModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_store && m_messages.size() < m_store->count();
}

void CaptureListModel::fetchMore(const QModelIndex &parent)
{
    // Loaded from the event loop, not inside the caller: views (and the model
    // tester) ask while they handle a reset or an insertion, when rows must not
    // change under them.
    if (!canFetchMore(parent) || m_fetchScheduled)
        return;
    m_fetchScheduled = true;
    QTimer::singleShot(0, this, [this] {
        m_fetchScheduled = false;
        loadNextPage();
    });
}

void CaptureListModel::loadNextPage()
{
    if (!canFetchMore({}))
        return;
    // The rows held are the newest of the store, so the next page starts
    // where they end.
    QList<Capture::StoredMessage> more = m_store->page(m_messages.size(), PageSize);
    // Only older than the oldest held (ids sort by arrival): nothing twice,
    // should the store have changed between the count and the page.
    if (!m_messages.isEmpty()) {
        const QString oldest = m_messages.constLast().id;
        more.erase(std::remove_if(more.begin(), more.end(),
                                  [&oldest](const Capture::StoredMessage &m) { return m.id >= oldest; }),
                   more.end());
    }
    if (more.isEmpty())
        return;
    const int first = int(m_messages.size());
    beginInsertRows({}, first, first + int(more.size()) - 1);
    m_messages += more;
    endInsertRows();
}

void CaptureListModel::add(const Capture::StoredMessage &message)
{
    if (rowOf(message.id) >= 0)
        return;
    // Newest first: the row before the first message with a smaller id.
    const auto it = std::find_if(m_messages.cbegin(), m_messages.cend(),
                                 [&](const Capture::StoredMessage &m) { return m.id < message.id; });
    const int row = int(it - m_messages.cbegin());
    beginInsertRows({}, row, row);
    m_messages.insert(row, message);
    endInsertRows();
}

void CaptureListModel::removeId(const QString &id)
{
    const int row = rowOf(id);
    if (row < 0)
        return;
    beginRemoveRows({}, row, row);
    m_messages.removeAt(row);
    endRemoveRows();
}

int CaptureListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_messages.size());
}

int CaptureListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant CaptureListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Capture::StoredMessage &m = m_messages.at(index.row());
    if (role == IdRole)
        return m.id;
    if (role == PathRole)
        return m.path;
    if (role == Qt::TextAlignmentRole && index.column() == SizeColumn)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return {};
    switch (index.column()) {
    case TimeColumn:
        return role == Qt::ToolTipRole ? m.received.toLocalTime().toString(Qt::ISODateWithMs)
                                       : QLocale().toString(m.received.toLocalTime(), QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    // Envelope and subject are what a client sent: shown by the escaping rule
    // (live/peertext.h), so a subject with U+202E or ESC cannot disguise the row.
    case FromColumn: {
        // RFC 5321 4.5.5: "<>" is the null reverse-path.
        const QString from = m.from.isEmpty() ? QStringLiteral("<>") : PeerText::value(m.from);
        return role == Qt::ToolTipRole ? PeerText::toolTip(from) : from;
    }
    case ToColumn:
        return role == Qt::ToolTipRole ? PeerText::toolTip(PeerText::values(m.recipients, QStringLiteral("\n")))
                                       : PeerText::values(m.recipients, QStringLiteral(", "));
    case SubjectColumn:
        return role == Qt::ToolTipRole ? PeerText::toolTip(PeerText::value(m.subject)) : PeerText::value(m.subject);
    case SizeColumn:
        return role == Qt::ToolTipRole ? tr("%1 bytes").arg(m.size) : QLocale().formattedDataSize(m.size);
    default:
        return {};
    }
}

QVariant CaptureListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case TimeColumn:
        return tr("Received");
    case FromColumn:
        return tr("From");
    case ToColumn:
        return tr("To");
    case SubjectColumn:
        return tr("Subject");
    case SizeColumn:
        return tr("Size");
    default:
        return {};
    }
}

int CaptureListModel::rowOf(const QString &id) const
{
    for (int i = 0; i < m_messages.size(); ++i) {
        if (m_messages.at(i).id == id)
            return i;
    }
    return -1;
}

const Capture::StoredMessage *CaptureListModel::messageAt(int row) const
{
    return row >= 0 && row < m_messages.size() ? &m_messages.at(row) : nullptr;
}
