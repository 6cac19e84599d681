#pragma once
// The History page: every stored session (sends, probes, diagnoses), newest
// first, with filters (server, outcome, kind, date range, text search in
// transcripts); the selected session opens in the same transcript, event and
// result views as a live one (diagnoses in a read-only checklist); two selected
// sessions compare side by side (Store::compareSessions); delete; export a
// bundle (Store::exportBundle); retention settings (keep N days / N sessions).
//
// Reads go through the HistoryStore on the GUI thread: list queries are paged
// and indexed, so 10,000 sessions stay responsive.

#include "store/historystore.h"
#include "store/sessioncompare.h"

#include <QWidget>
#include <memory>

class QSettings;

class HistoryView : public QWidget
{
    Q_OBJECT

public:
    // `store` and `settings` are not owned and must outlive the view. Retention
    // is read from and saved to settings "history/keepDays", "history/keepSessions".
    HistoryView(Store::HistoryStore *store, QSettings *settings, QWidget *parent = nullptr);
    ~HistoryView() override;

    // Re-reads the list (after a session was stored), keeping the selection.
    void refresh();
    [[nodiscard]] Store::Retention retention() const;

    // For tests: the filter fields by name ("server", "outcome", "kind", "text",
    // "from", "to"), the rows shown, selecting by id, the comparison shown.
    void setFilter(const QString &name, const QString &value);
    [[nodiscard]] QList<qint64> shownIds() const;
    bool select(const QList<qint64> &ids);
    [[nodiscard]] QList<Store::ComparisonRow> comparison() const;
    [[nodiscard]] QString transcriptText() const; // of the session shown

Q_SIGNALS:
    // The user changed the retention: the owner prunes with it.
    void retentionChanged(const Store::Retention &retention);

private:
    struct Private;
    std::unique_ptr<Private> d;
};
