#include "checklistmodel.h"

#include "live/livecolours.h"
#include "live/peertext.h"

#include <QFont>
#include <QGuiApplication>
#include <QHash>
#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

using Diagnostics::Check;
using Diagnostics::Verdict;

namespace {

constexpr int kVerdicts = 5;

// Rank for "worst first": a scope shows what needs attention most.
int severity(Verdict v)
{
    switch (v) {
    case Verdict::Fail:
        return 4;
    case Verdict::Warn:
        return 3;
    case Verdict::Pass:
        return 2;
    case Verdict::Info:
        return 1;
    case Verdict::Skipped:
        return 0;
    }
    return 0;
}

} // namespace

QString ChecklistModel::verdictWord(Verdict v)
{
    switch (v) {
    case Verdict::Pass:
        return ChecklistModel::tr("Pass");
    case Verdict::Info:
        return ChecklistModel::tr("Info");
    case Verdict::Warn:
        return ChecklistModel::tr("Warn");
    case Verdict::Fail:
        return ChecklistModel::tr("Fail");
    case Verdict::Skipped:
        return ChecklistModel::tr("Skipped");
    }
    return {};
}

namespace {

// A different shape per verdict, so the icon does not rely on colour alone:
// pass a disc, info a ring, warn a triangle, fail a square, skipped a bar.
QIcon drawIcon(Verdict v, const QColor &colour)
{
    const qreal dpr = qGuiApp ? qGuiApp->devicePixelRatio() : 1.0;
    QPixmap pm(QSize(16, 16) * dpr);
    pm.setDevicePixelRatio(dpr);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(colour, 2.0));
    p.setBrush(colour);
    switch (v) {
    case Verdict::Pass:
        p.drawEllipse(QRectF(2, 2, 12, 12));
        break;
    case Verdict::Info:
        p.setBrush(Qt::NoBrush);
        p.drawEllipse(QRectF(3, 3, 10, 10));
        break;
    case Verdict::Warn: {
        QPainterPath path;
        path.moveTo(8, 2);
        path.lineTo(14.5, 14);
        path.lineTo(1.5, 14);
        path.closeSubpath();
        p.drawPath(path);
        break;
    }
    case Verdict::Fail:
        p.drawRect(QRectF(3, 3, 10, 10));
        break;
    case Verdict::Skipped:
        p.drawLine(QPointF(3, 8), QPointF(13, 8));
        break;
    }
    p.end();
    return QIcon(pm);
}

} // namespace

ChecklistModel::ChecklistModel(QObject *parent) : QAbstractItemModel(parent)
{
    m_palette = qGuiApp ? qGuiApp->palette() : QPalette();
    rebuildIcons();
}

QColor ChecklistModel::colourFor(Verdict verdict, const QPalette &palette)
{
    const QColor base = palette.color(QPalette::Base);
    switch (verdict) {
    case Verdict::Pass:
        return LiveColours::readable(LiveColours::ServerHue, base);
    case Verdict::Info:
        return LiveColours::readable(LiveColours::ClientHue, base);
    case Verdict::Warn:
        return LiveColours::readable(LiveColours::WarningHue, base);
    case Verdict::Fail:
        return LiveColours::readable(LiveColours::ErrorHue, base);
    case Verdict::Skipped:
        return LiveColours::readable(0, base, 0); // a grey that still reads
    }
    return palette.color(QPalette::Text);
}

void ChecklistModel::rebuildIcons()
{
    m_colours.clear();
    m_icons.clear();
    for (int i = 0; i < kVerdicts; ++i) {
        const auto v = static_cast<Verdict>(i);
        const QColor c = colourFor(v, m_palette);
        m_colours.append(c);
        m_icons.append(drawIcon(v, c));
    }
}

void ChecklistModel::setPalette(const QPalette &palette)
{
    m_palette = palette;
    rebuildIcons();
    if (!m_scopes.isEmpty()) {
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1),
                           {Qt::DecorationRole, Qt::ForegroundRole});
        for (int r = 0; r < m_scopes.size(); ++r) {
            const QModelIndex parentIndex = index(r, 0);
            if (const int n = rowCount(parentIndex); n > 0)
                Q_EMIT dataChanged(index(0, 0, parentIndex), index(n - 1, ColumnCount - 1, parentIndex),
                                   {Qt::DecorationRole, Qt::ForegroundRole});
        }
    }
}

QColor ChecklistModel::verdictColour(Verdict verdict) const
{
    return m_colours.value(static_cast<int>(verdict));
}

QIcon ChecklistModel::verdictIcon(Verdict verdict) const
{
    return m_icons.value(static_cast<int>(verdict));
}

QString ChecklistModel::formatDuration(qint64 us)
{
    if (us <= 0)
        return {};
    if (us < 10'000)
        return tr("%1 ms").arg(double(us) / 1000.0, 0, 'f', 1);
    if (us < 1'000'000)
        return tr("%1 ms").arg(double(us) / 1000.0, 0, 'f', 0);
    return tr("%1 s").arg(double(us) / 1e6, 0, 'f', 2);
}

Verdict ChecklistModel::worst(const QList<Check> &checks)
{
    Verdict w = Verdict::Skipped;
    for (const Check &c : checks) {
        if (severity(c.verdict) > severity(w))
            w = c.verdict;
    }
    return w;
}

int ChecklistModel::scopeRow(const QString &scope) const
{
    for (int i = 0; i < m_scopes.size(); ++i) {
        if (m_scopes.at(i).name == scope)
            return i;
    }
    return -1;
}

int ChecklistModel::ensureScope(const QString &scope)
{
    if (const int row = scopeRow(scope); row >= 0)
        return row;
    const int row = int(m_scopes.size());
    beginInsertRows({}, row, row);
    m_scopes.append(Scope{scope, {}});
    endInsertRows();
    return row;
}

void ChecklistModel::addScope(const QString &scope)
{
    ensureScope(scope);
}

void ChecklistModel::appendChecks(const QList<Check> &checks)
{
    // Group by scope keeping the order of arrival: one insertion per scope.
    QList<QString> order;
    QHash<QString, QList<Check>> byScope;
    for (const Check &c : checks) {
        if (!byScope.contains(c.scope))
            order.append(c.scope);
        byScope[c.scope].append(c);
    }
    for (const QString &scope : std::as_const(order)) {
        const int row = ensureScope(scope);
        const QList<Check> &add = byScope.value(scope);
        Scope &s = m_scopes[row];
        const int first = int(s.checks.size());
        beginInsertRows(index(row, 0), first, first + int(add.size()) - 1);
        s.checks.append(add);
        endInsertRows();
        // The scope row summarises its children: worst verdict, counts, time.
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    }
}

void ChecklistModel::setReport(const Diagnostics::Report &report)
{
    beginResetModel();
    m_scopes.clear();
    for (const Diagnostics::Endpoint &e : report.endpoints) {
        // Endpoints keep their order even when one produced no check.
        if (scopeRow(e.target()) < 0)
            m_scopes.append(Scope{e.target(), {}});
    }
    for (const Check &c : report.checks) {
        int row = scopeRow(c.scope);
        if (row < 0) {
            row = int(m_scopes.size());
            m_scopes.append(Scope{c.scope, {}});
        }
        m_scopes[row].checks.append(c);
    }
    endResetModel();
}

void ChecklistModel::clear()
{
    beginResetModel();
    m_scopes.clear();
    endResetModel();
}

bool ChecklistModel::isScope(const QModelIndex &index) const
{
    return index.isValid() && index.internalId() == 0;
}

const Check *ChecklistModel::checkAt(const QModelIndex &index) const
{
    if (!index.isValid() || index.internalId() == 0 || index.model() != this)
        return nullptr;
    const int scope = int(index.internalId()) - 1;
    if (scope < 0 || scope >= m_scopes.size() || index.row() >= m_scopes.at(scope).checks.size())
        return nullptr;
    return &m_scopes.at(scope).checks.at(index.row());
}

QModelIndex ChecklistModel::indexOf(const QString &scope, const QString &id) const
{
    const int row = scopeRow(scope);
    if (row < 0)
        return {};
    const QList<Check> &checks = m_scopes.at(row).checks;
    for (int i = 0; i < checks.size(); ++i) {
        if (checks.at(i).id == id)
            return createIndex(i, 0, quintptr(row + 1));
    }
    return {};
}

QModelIndex ChecklistModel::scopeIndex(const QString &scope) const
{
    const int row = scopeRow(scope);
    return row < 0 ? QModelIndex() : createIndex(row, 0, quintptr(0));
}

QStringList ChecklistModel::scopes() const
{
    QStringList out;
    for (const Scope &s : m_scopes)
        out.append(s.name);
    return out;
}

int ChecklistModel::checkCount() const
{
    int n = 0;
    for (const Scope &s : m_scopes)
        n += int(s.checks.size());
    return n;
}

int ChecklistModel::count(Verdict verdict) const
{
    int n = 0;
    for (const Scope &s : m_scopes) {
        for (const Check &c : s.checks)
            n += c.verdict == verdict ? 1 : 0;
    }
    return n;
}

QModelIndex ChecklistModel::index(int row, int column, const QModelIndex &parent) const
{
    if (row < 0 || column < 0 || column >= ColumnCount)
        return {};
    if (!parent.isValid())
        return row < m_scopes.size() ? createIndex(row, column, quintptr(0)) : QModelIndex();
    if (parent.internalId() != 0 || parent.row() >= m_scopes.size())
        return {}; // checks have no children
    if (row >= m_scopes.at(parent.row()).checks.size())
        return {};
    return createIndex(row, column, quintptr(parent.row() + 1));
}

QModelIndex ChecklistModel::parent(const QModelIndex &child) const
{
    if (!child.isValid() || child.internalId() == 0)
        return {};
    return createIndex(int(child.internalId()) - 1, 0, quintptr(0));
}

int ChecklistModel::rowCount(const QModelIndex &parent) const
{
    if (!parent.isValid())
        return int(m_scopes.size());
    if (parent.column() != 0 || parent.internalId() != 0 || parent.row() >= m_scopes.size())
        return 0;
    return int(m_scopes.at(parent.row()).checks.size());
}

int ChecklistModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

Qt::ItemFlags ChecklistModel::flags(const QModelIndex &index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (index.internalId() != 0)
        f |= Qt::ItemNeverHasChildren;
    return f;
}

QVariant ChecklistModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
        case VerdictColumn:
            return tr("Verdict");
        case CheckColumn:
            return tr("Check");
        case SummaryColumn:
            return tr("Summary");
        case TimeColumn:
            return tr("Time");
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole && section == TimeColumn)
        return tr("How long the step took on the wire (empty: derived from earlier steps)");
    return {};
}

QVariant ChecklistModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.model() != this)
        return {};
    if (index.internalId() == 0)
        return index.row() < m_scopes.size() ? scopeData(index.row(), index.column(), role) : QVariant();
    const Check *c = checkAt(index);
    return c ? checkData(*c, index.column(), role) : QVariant();
}

QVariant ChecklistModel::scopeData(int row, int column, int role) const
{
    const Scope &s = m_scopes.at(row);
    const Verdict w = worst(s.checks);
    switch (role) {
    case VerdictRole:
        return static_cast<int>(w);
    case IdRole:
        return QString();
    case ScopeRole:
        return s.name;
    case IsScopeRole:
        return true;
    default:
        break;
    }
    int fail = 0, warn = 0;
    qint64 totalUs = 0;
    for (const Check &c : s.checks) {
        fail += c.verdict == Verdict::Fail ? 1 : 0;
        warn += c.verdict == Verdict::Warn ? 1 : 0;
        totalUs += c.durationUs;
    }
    const QString summary = s.checks.isEmpty()
        ? tr("running…")
        : tr("%n check(s)", nullptr, int(s.checks.size())) + tr(": %1 failed, %2 warned").arg(fail).arg(warn);
    switch (column) {
    case VerdictColumn:
        if (s.checks.isEmpty())
            return role == Qt::DisplayRole || role == Qt::AccessibleTextRole ? QVariant(QString()) : QVariant();
        if (role == Qt::DisplayRole)
            return verdictWord(w);
        if (role == Qt::DecorationRole)
            return verdictIcon(w);
        if (role == Qt::ForegroundRole)
            return verdictColour(w);
        if (role == Qt::AccessibleTextRole)
            return tr("Worst verdict of %1: %2").arg(PeerText::line(s.name), verdictWord(w));
        if (role == Qt::ToolTipRole)
            return PeerText::toolTip(tr("Worst verdict of %1: %2").arg(PeerText::line(s.name), verdictWord(w)));
        break;
    case CheckColumn:
        // A scope is a host name from the user or from DNS (an MX target).
        if (role == Qt::DisplayRole || role == Qt::AccessibleTextRole)
            return PeerText::line(s.name);
        if (role == Qt::ToolTipRole)
            return PeerText::toolTip(PeerText::line(s.name));
        if (role == Qt::FontRole) {
            QFont f;
            f.setBold(true);
            return f;
        }
        break;
    case SummaryColumn:
        if (role == Qt::DisplayRole || role == Qt::AccessibleTextRole || role == Qt::ToolTipRole)
            return summary;
        break;
    case TimeColumn:
        if (role == Qt::DisplayRole || role == Qt::AccessibleTextRole)
            return formatDuration(totalUs);
        if (role == Qt::TextAlignmentRole)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        break;
    default:
        break;
    }
    return {};
}

QVariant ChecklistModel::checkData(const Check &c, int column, int role) const
{
    switch (role) {
    case VerdictRole:
        return static_cast<int>(c.verdict);
    case IdRole:
        return c.id;
    case ScopeRole:
        return c.scope;
    case IsScopeRole:
        return false;
    default:
        break;
    }
    switch (column) {
    case VerdictColumn:
        if (role == Qt::DisplayRole)
            return verdictWord(c.verdict);
        if (role == Qt::DecorationRole)
            return verdictIcon(c.verdict);
        if (role == Qt::ForegroundRole)
            return verdictColour(c.verdict);
        if (role == Qt::AccessibleTextRole)
            return verdictWord(c.verdict);
        break;
    case CheckColumn:
        if (role == Qt::DisplayRole || role == Qt::AccessibleTextRole)
            return c.title.isEmpty() ? c.id : c.title;
        if (role == Qt::ToolTipRole)
            return tr("%1 (id %2)").arg(c.title.isEmpty() ? c.id : c.title, c.id);
        break;
    case SummaryColumn:
        // Summaries quote servers, certificates and DNS records (escaped when the
        // check was made); the escaping rule guards the row all the same.
        if (role == Qt::DisplayRole || role == Qt::AccessibleTextRole)
            return PeerText::line(c.summary);
        if (role == Qt::ToolTipRole)
            return PeerText::toolTip(c.fix.isEmpty() ? PeerText::line(c.summary)
                                                     : tr("%1\nFix: %2").arg(PeerText::line(c.summary), PeerText::line(c.fix)));
        break;
    case TimeColumn:
        if (role == Qt::DisplayRole || role == Qt::AccessibleTextRole)
            return formatDuration(c.durationUs);
        if (role == Qt::TextAlignmentRole)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        if (role == Qt::ToolTipRole && c.durationUs > 0)
            return tr("started at %1 ms, took %2 ms")
                .arg(double(c.startUs) / 1000.0, 0, 'f', 1)
                .arg(double(c.durationUs) / 1000.0, 0, 'f', 1);
        break;
    default:
        break;
    }
    return {};
}
