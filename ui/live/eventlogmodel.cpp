#include "eventlogmodel.h"

#include "events/socketevent.h"
#include "peertext.h"
#include "protocol/printable.h"

#include <QDateTime>
#include <QSet>
#include <algorithm>

// The ring buffer is a std::deque: dropping the oldest rows and appending new ones
// are both O(rows moved), so a batch costs O(batch) whatever the fill level, and a
// million events stream through a full 100,000-row model in linear time. Records
// are reduced to what the columns show (time, name, details text) on arrival: the
// packet data they may carry is never kept beyond the cut details.

namespace {

constexpr qsizetype kMaxValueChars = 200;

// Fields shown in their own columns, or not shown at all (socketevent.h).
bool isCommonField(const QString &key)
{
    return key == u"event" || key == u"event_name" || key == u"source" || key == u"id" || key == u"arg"
        || key == u"time";
}

// Values may hold what a server sent (reply text, host names): the escaping
// rule of protocol/printable.h makes control and format characters visible, and
// one event stays one line. Smtp::safeLine leaves backslashes alone, so a value
// the engine already escaped is shown as it is.
QString escaped(const QString &s)
{
    return Smtp::safeLine(s);
}

// One value as text, cut at kMaxValueChars with " +N bytes" (N: what was left
// out, in bytes for byte arrays and characters otherwise).
QString valueText(const QVariant &v)
{
    if (v.typeId() == QMetaType::QByteArray) {
        const QByteArray bytes = v.toByteArray();
        const QByteArray head = bytes.left(kMaxValueChars);
        QString text = escaped(QString::fromUtf8(head));
        if (bytes.size() > kMaxValueChars)
            text += QStringLiteral(" +%1 bytes").arg(bytes.size() - kMaxValueChars);
        return text;
    }
    QString text;
    if (v.typeId() == QMetaType::QStringList || v.typeId() == QMetaType::QVariantList) {
        QStringList items;
        for (const QVariant &item : v.toList())
            items.append(item.toString());
        text = items.join(u',');
    } else if (v.typeId() == QMetaType::Double) {
        text = QString::number(v.toDouble(), 'g', 10);
    } else {
        text = v.toString();
    }
    if (text.size() > kMaxValueChars) {
        const qsizetype cut = text.size() - kMaxValueChars;
        return escaped(text.left(kMaxValueChars)) + QStringLiteral(" +%1 bytes").arg(cut);
    }
    return escaped(text);
}

QString detailsOf(const QVariantMap &record)
{
    QString out;
    for (auto it = record.cbegin(); it != record.cend(); ++it) {
        if (isCommonField(it.key()))
            continue;
        if (!out.isEmpty())
            out += u' ';
        out += it.key() + u'=' + valueText(it.value());
    }
    return out;
}

} // namespace

EventLogModel::EventLogModel(qsizetype capacity, QObject *parent)
    : QAbstractTableModel(parent)
    , m_capacity(qMax<qsizetype>(capacity, 1))
{
}

int EventLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int EventLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(ColumnCount);
}

QVariant EventLogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows[size_t(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case TimeColumn:
            if (row.timeUs < 0 || m_firstTimeUs < 0)
                return QString();
            return QStringLiteral("%1 s").arg(double(row.timeUs - m_firstTimeUs) / 1e6, 0, 'f', 3);
        case EventColumn: return row.event;
        case DetailsColumn: return row.details;
        }
        return {};
    case Qt::ToolTipRole:
        if (index.column() == DetailsColumn && !row.details.isEmpty())
            return PeerText::toolTip(row.details);
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == TimeColumn)
            return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
        return {};
    case EventNameRole:
        return row.event;
    case RecordRole:
        // The stored form of the record (the original is not kept: see the top).
        return QVariantMap{{QStringLiteral("time"), row.timeUs},
                           {QStringLiteral("event_name"), row.event},
                           {QStringLiteral("details"), row.details}};
    }
    return {};
}

QVariant EventLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
        case TimeColumn: return tr("Time");
        case EventColumn: return tr("Event");
        case DetailsColumn: return tr("Details");
        }
    } else if (role == Qt::ToolTipRole) {
        switch (section) {
        case TimeColumn: return tr("Seconds since the first event of the session");
        case EventColumn: return tr("Socket or SMTP event type");
        case DetailsColumn: return tr("The event's fields; long values are cut and marked \"+N bytes\"");
        }
    }
    return {};
}

void EventLogModel::append(const QList<QVariantMap> &records)
{
    if (records.isEmpty())
        return;
    m_totalSeen += records.size();

    // Only the newest `capacity` records of a batch can survive it.
    const qsizetype skip = qMax<qsizetype>(0, records.size() - m_capacity);
    const qsizetype incoming = records.size() - skip;

    QSet<QString> newNames;
    std::vector<Row> batch;
    batch.reserve(size_t(incoming));
    for (qsizetype i = 0; i < records.size(); ++i) {
        const QVariantMap &r = records.at(i);
        QString name = r.value(QStringLiteral("event_name")).toString();
        if (name.isEmpty())
            name = SocketEvent::typeName(r.value(QStringLiteral("event"), -1).toInt());
        const auto timeIt = r.constFind(QStringLiteral("time"));
        const qint64 timeUs = timeIt != r.cend() ? timeIt->toLongLong() : -1;
        // Relative times count from the first event that had a time, even when it
        // was dropped from the ring since.
        if (m_firstTimeUs < 0 && timeUs >= 0)
            m_firstTimeUs = timeUs;
        if (!m_names.contains(name))
            newNames.insert(name);
        if (i < skip)
            continue;
        batch.push_back(Row{timeUs, name, detailsOf(r)});
    }

    // One removal of the oldest rows, then one insertion of the batch: views and
    // proxies see two signals per batch, not one per row.
    const qsizetype overflow = qsizetype(m_rows.size()) + incoming - m_capacity;
    if (overflow > 0) {
        const qsizetype drop = qMin<qsizetype>(overflow, qsizetype(m_rows.size()));
        beginRemoveRows({}, 0, int(drop - 1));
        m_rows.erase(m_rows.begin(), m_rows.begin() + drop);
        endRemoveRows();
    }
    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + int(incoming) - 1);
    std::move(batch.begin(), batch.end(), std::back_inserter(m_rows));
    endInsertRows();

    if (!newNames.isEmpty()) {
        for (const QString &n : std::as_const(newNames))
            m_names.append(n);
        m_names.sort(Qt::CaseInsensitive);
        Q_EMIT eventNamesChanged();
    }
}

void EventLogModel::clear()
{
    beginResetModel();
    m_rows.clear();
    m_totalSeen = 0;
    m_firstTimeUs = -1;
    endResetModel();
    if (!m_names.isEmpty()) {
        m_names.clear();
        Q_EMIT eventNamesChanged();
    }
}

QStringList EventLogModel::eventNames() const
{
    return m_names;
}

QString EventLogModel::toText(const QModelIndexList &rows) const
{
    std::vector<int> numbers;
    if (rows.isEmpty()) {
        numbers.resize(m_rows.size());
        for (size_t i = 0; i < numbers.size(); ++i)
            numbers[i] = int(i);
    } else {
        numbers.reserve(size_t(rows.size()));
        for (const QModelIndex &index : rows) {
            // Indexes of this model only (views map proxy indexes first).
            if (index.isValid() && index.model() == this)
                numbers.push_back(index.row());
        }
        std::sort(numbers.begin(), numbers.end());
        numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
    }
    QString out;
    for (const int r : numbers) {
        out += data(index(r, TimeColumn)).toString();
        out += u'\t';
        out += data(index(r, EventColumn)).toString();
        out += u'\t';
        out += data(index(r, DetailsColumn)).toString();
        out += u'\n';
    }
    return out;
}
