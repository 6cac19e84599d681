#include "historylistmodel.h"

#include "live/livecolours.h"
#include "live/peertext.h"

#include <QLocale>
#include <QSet>

#include <algorithm>

class HistoryListModel::ChangeScope
{
public:
    explicit ChangeScope(HistoryListModel *model)
        : m_model(model)
        , m_was(model->m_changing)
    {
        m_model->m_changing = true;
    }
    ~ChangeScope() { m_model->m_changing = m_was; }
    Q_DISABLE_COPY_MOVE(ChangeScope)

private:
    HistoryListModel *m_model;
    bool m_was;
};

HistoryListModel::HistoryListModel(Store::HistoryStore *store, QObject *parent)
    : QAbstractTableModel(parent)
    , m_store(store)
{
}

QList<Store::SessionSummary> HistoryListModel::readPage(int offset, int limit) const
{
    if (!m_store || !m_store->isOpen())
        return {};
    Store::SessionFilter f = m_filter;
    f.offset = offset;
    f.limit = limit;
    return m_store->list(f);
}

void HistoryListModel::setFilter(const Store::SessionFilter &filter)
{
    m_filter = filter;
    const ChangeScope scope(this);
    beginResetModel();
    m_rows = readPage(0, PageSize);
    // A short page is the last one: no COUNT needed to know there is no more.
    m_more = m_rows.size() == PageSize;
    endResetModel();
    m_total = m_more ? (m_store && m_store->isOpen() ? m_store->count(m_filter) : 0) : int(m_rows.size());
}

void HistoryListModel::reload()
{
    const int want = std::max(PageSize, int(m_rows.size()));
    const ChangeScope scope(this);
    beginResetModel();
    m_rows = readPage(0, want);
    m_more = m_rows.size() == want;
    endResetModel();
    m_total = m_more ? (m_store && m_store->isOpen() ? m_store->count(m_filter) : 0) : int(m_rows.size());
}

void HistoryListModel::setPalette(const QPalette &palette)
{
    m_palette = palette;
    m_colours.clear();
    for (int hue : {LiveColours::ServerHue, LiveColours::WarningHue, LiveColours::ErrorHue})
        m_colours.insert(hue, LiveColours::readable(hue, palette.color(QPalette::Base)));
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, OutcomeColumn), index(int(m_rows.size()) - 1, OutcomeColumn), {Qt::ForegroundRole});
}

qint64 HistoryListModel::idAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).id : 0;
}

int HistoryListModel::rowOf(qint64 id) const
{
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).id == id)
            return i;
    }
    return -1;
}

QList<qint64> HistoryListModel::ids() const
{
    QList<qint64> out;
    out.reserve(m_rows.size());
    for (const Store::SessionSummary &s : m_rows)
        out.append(s.id);
    return out;
}

int HistoryListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int HistoryListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

int HistoryListModel::outcomeHue(const QString &outcome)
{
    if (outcome == u"accepted" || outcome == u"pass")
        return LiveColours::ServerHue;
    if (outcome == u"partial" || outcome == u"warn")
        return LiveColours::WarningHue;
    if (outcome == u"rejected" || outcome == u"failed" || outcome == u"fail")
        return LiveColours::ErrorHue;
    return -1; // cancelled, unknown: the palette's text colour
}

QString HistoryListModel::durationText(qint64 us)
{
    if (us < 1000000)
        return tr("%1 ms").arg(QLocale().toString(double(us) / 1000.0, 'f', us < 10000 ? 1 : 0));
    return tr("%1 s").arg(QLocale().toString(double(us) / 1e6, 'f', 2));
}

QVariant HistoryListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Store::SessionSummary &s = m_rows.at(index.row());
    switch (role) {
    case IdRole:
        return s.id;
    case OutcomeRole:
        return s.outcome;
    case Qt::DisplayRole:
        switch (index.column()) {
        case TimeColumn: return s.started.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        case KindColumn: return Store::sessionKindName(s.kind);
        // Rows hold what servers and .eml files said: shown by the escaping rule
        // (live/peertext.h), one line each.
        case TargetColumn: return PeerText::value(s.target);
        case OutcomeColumn: return PeerText::value(s.outcome);
        case SubjectColumn:
            // The error says more than the subject when the session failed.
            return s.error.isEmpty() ? PeerText::value(s.subject) : PeerText::line(s.error);
        case DurationColumn: return durationText(s.durationUs);
        }
        return {};
    case Qt::ToolTipRole:
        switch (index.column()) {
        case TimeColumn: return s.started.toUTC().toString(Qt::ISODate);
        case TargetColumn:
            return PeerText::toolTip(s.profile.isEmpty()
                                         ? PeerText::value(s.target)
                                         : tr("%1 (profile %2)").arg(PeerText::value(s.target), PeerText::value(s.profile)));
        case SubjectColumn: {
            QStringList lines;
            if (!s.subject.isEmpty())
                lines.append(tr("Subject: %1").arg(PeerText::value(s.subject)));
            if (!s.error.isEmpty())
                lines.append(tr("Error: %1").arg(PeerText::line(s.error)));
            return PeerText::toolTip(lines.join(QLatin1Char('\n')));
        }
        default: return {};
        }
    case Qt::ForegroundRole:
        if (index.column() == OutcomeColumn) {
            const int hue = outcomeHue(s.outcome);
            if (hue >= 0 && m_colours.contains(hue))
                return m_colours.value(hue);
        }
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() == DurationColumn)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    default:
        return {};
    }
}

QVariant HistoryListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case TimeColumn: return tr("Time");
    case KindColumn: return tr("Kind");
    case TargetColumn: return tr("Server");
    case OutcomeColumn: return tr("Outcome");
    case SubjectColumn: return tr("Subject or error");
    case DurationColumn: return tr("Duration");
    }
    return {};
}

bool HistoryListModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_more;
}

void HistoryListModel::fetchMore(const QModelIndex &parent)
{
    if (parent.isValid() || !m_more)
        return;
    if (m_changing) {
        if (!m_fetchQueued) {
            m_fetchQueued = true;
            QMetaObject::invokeMethod(
                this,
                [this] {
                    m_fetchQueued = false;
                    fetchMore({});
                },
                Qt::QueuedConnection);
        }
        return;
    }
    // Offset paging, newest first: a session stored meanwhile shifts the pages by
    // one, so skip ids already shown rather than show a row twice.
    QList<Store::SessionSummary> page = readPage(int(m_rows.size()), PageSize);
    m_more = page.size() == PageSize;
    QSet<qint64> have;
    for (const Store::SessionSummary &s : std::as_const(m_rows))
        have.insert(s.id);
    page.erase(std::remove_if(page.begin(), page.end(), [&have](const Store::SessionSummary &s) { return have.contains(s.id); }),
               page.end());
    if (page.isEmpty())
        return;
    const int first = int(m_rows.size());
    const ChangeScope scope(this);
    beginInsertRows({}, first, first + int(page.size()) - 1);
    m_rows.append(page);
    endInsertRows();
}
