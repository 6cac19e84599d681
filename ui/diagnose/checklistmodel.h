#pragma once
// The checklist of a diagnosis as a tree: one top-level row per scope (an
// endpoint "host:port", a domain, an address), its checks as children in the
// order they ended. Columns: verdict (icon + word), check title, summary, time.
//
// Fed live in batches (appendChecks: one beginInsertRows per scope per batch) or
// all at once (setReport). GUI thread only.

#include "diagnostics/diagnosticreport.h"

#include <QAbstractItemModel>
#include <QIcon>
#include <QList>
#include <QPalette>

class ChecklistModel : public QAbstractItemModel
{
    Q_OBJECT

public:
    enum Column { VerdictColumn, CheckColumn, SummaryColumn, TimeColumn, ColumnCount };
    enum Role {
        VerdictRole = Qt::UserRole + 1, // int(Diagnostics::Verdict); a scope: its worst verdict
        IdRole,                         // the check id; a scope: empty
        ScopeRole,                      // the scope of the row (also for scope rows)
        IsScopeRole,                    // true for scope rows
    };

    explicit ChecklistModel(QObject *parent = nullptr);

    // Adds checks as they end; a scope seen for the first time gets its row.
    void appendChecks(const QList<Diagnostics::Check> &checks);
    // A scope row before any of its checks ended (an endpoint whose checklist began).
    void addScope(const QString &scope);
    // Replaces everything with the report's checks.
    void setReport(const Diagnostics::Report &report);
    void clear();

    [[nodiscard]] bool isScope(const QModelIndex &index) const;
    // The check of a check row; nullptr for scope rows and invalid indexes.
    [[nodiscard]] const Diagnostics::Check *checkAt(const QModelIndex &index) const;
    // The row of a check (column 0), invalid when absent.
    [[nodiscard]] QModelIndex indexOf(const QString &scope, const QString &id) const;
    [[nodiscard]] QModelIndex scopeIndex(const QString &scope) const;
    [[nodiscard]] QStringList scopes() const;
    [[nodiscard]] int checkCount() const;
    [[nodiscard]] int count(Diagnostics::Verdict verdict) const;
    // Scopes: the worst verdict among the checks (Fail > Warn > Pass > Info > Skipped).
    [[nodiscard]] static Diagnostics::Verdict worst(const QList<Diagnostics::Check> &checks);

    // Icons and colours follow the palette (readable on light and dark).
    void setPalette(const QPalette &palette);
    [[nodiscard]] QColor verdictColour(Diagnostics::Verdict verdict) const;
    // The colour of a verdict on `palette`'s base (WCAG AA contrast), shared with the chart.
    [[nodiscard]] static QColor colourFor(Diagnostics::Verdict verdict, const QPalette &palette);
    [[nodiscard]] static QString verdictWord(Diagnostics::Verdict verdict); // "Pass", "Fail", ...
    [[nodiscard]] QIcon verdictIcon(Diagnostics::Verdict verdict) const;
    // "12.3 ms", "1.25 s"; empty for 0 (a verdict derived from earlier steps).
    [[nodiscard]] static QString formatDuration(qint64 us);

    // QAbstractItemModel
    [[nodiscard]] QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    [[nodiscard]] QModelIndex parent(const QModelIndex &child) const override;
    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    [[nodiscard]] Qt::ItemFlags flags(const QModelIndex &index) const override;

private:
    struct Scope
    {
        QString name;
        QList<Diagnostics::Check> checks;
    };
    [[nodiscard]] int scopeRow(const QString &scope) const;
    int ensureScope(const QString &scope);
    [[nodiscard]] QVariant scopeData(int row, int column, int role) const;
    [[nodiscard]] QVariant checkData(const Diagnostics::Check &check, int column, int role) const;
    void rebuildIcons();

    QList<Scope> m_scopes;
    QPalette m_palette;
    QList<QIcon> m_icons; // by int(Verdict)
    QList<QColor> m_colours;
};
