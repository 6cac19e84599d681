#include "historyview.h"

#include "historylistmodel.h"
#include "live/eventlogmodel.h"
#include "live/livecolours.h"
#include "live/liveviews.h"
#include "live/peertext.h"
#include "storedresult.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateEdit>
#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QLoggingCategory>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <functional>

// How it works: the list is a HistoryListModel paging through HistoryStore::list
// (newest first, 200 rows a page); each filter change is one indexed query and a
// COUNT, both on the GUI thread, which the store keeps short (indexes, FTS).
// Selecting one session reads its whole record (HistoryStore::session) and shows
// it in the live views (ui/live); selecting two compares them
// (Store::compareSessions), the older on the left.

Q_LOGGING_CATEGORY(lcHistoryView, "smtpscope.ui.history")

namespace {

constexpr int kDebounceMs = 250;
const QDate kOpenDate(2000, 1, 1); // the date edits' "any" value

// Re-colours what is drawn from the palette when the palette changes (light and
// dark system themes), without an event override in the public header.
class PaletteWatcher : public QObject
{
public:
    PaletteWatcher(QWidget *watched, std::function<void()> onChange)
        : QObject(watched)
        , m_onChange(std::move(onChange))
    {
        watched->installEventFilter(this);
    }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (event->type() == QEvent::PaletteChange || event->type() == QEvent::ApplicationPaletteChange)
            m_onChange();
        return QObject::eventFilter(watched, event);
    }

private:
    std::function<void()> m_onChange;
};

int verdictHue(const QString &verdict)
{
    if (verdict == u"pass")
        return LiveColours::ServerHue;
    if (verdict == u"warn")
        return LiveColours::WarningHue;
    if (verdict == u"fail")
        return LiveColours::ErrorHue;
    return -1;
}

} // namespace

struct HistoryView::Private
{
    static QString tr(const char *text) { return HistoryView::tr(text); }

    HistoryView *q = nullptr;
    Store::HistoryStore *store = nullptr;
    QSettings *settings = nullptr;

    // Filters
    QLineEdit *server = nullptr;
    QComboBox *outcome = nullptr;
    QComboBox *kind = nullptr;
    QDateEdit *from = nullptr;
    QDateEdit *to = nullptr;
    QLineEdit *search = nullptr;
    QTimer *debounce = nullptr;

    // List
    HistoryListModel *model = nullptr;
    QTableView *table = nullptr;
    QLabel *status = nullptr;
    QPushButton *deleteButton = nullptr;
    QPushButton *exportButton = nullptr;
    QSpinBox *keepDays = nullptr;
    QSpinBox *keepSessions = nullptr;

    // Detail
    QLabel *header = nullptr;
    QStackedWidget *stack = nullptr;
    QLabel *placeholder = nullptr;
    QTabWidget *sendTabs = nullptr;
    TranscriptView *sendTranscript = nullptr;
    EventLogView *events = nullptr;
    ResultPanel *result = nullptr;
    QTabWidget *diagnosisTabs = nullptr;
    QTableWidget *checks = nullptr;
    TranscriptView *diagnosisTranscript = nullptr;
    QWidget *comparePage = nullptr;
    QCheckBox *onlyDifferences = nullptr;
    QTableWidget *compareTable = nullptr;

    QList<qint64> shownIds;                  // what the detail area shows now
    QList<Store::ComparisonRow> comparison;  // of the two shown, else empty
    std::optional<Store::SessionRecord> shownDiagnosis;

    void buildFilters(QVBoxLayout *layout);
    void buildList(QWidget *parent, QVBoxLayout *layout);
    void buildDetail(QWidget *parent, QVBoxLayout *layout);
    [[nodiscard]] Store::SessionFilter currentFilter() const;
    void applyFilter();
    void updateStatus();
    [[nodiscard]] QList<qint64> selectedIds() const;
    // `fetch`: read further pages until every id is loaded (select() only: a
    // filter change must not page through 10,000 rows for a row it filtered out).
    bool selectIds(const QList<qint64> &ids, bool fetch = false);
    void updateDetail();
    void showNothing(const QString &why);
    void showSession(const Store::SessionRecord &record);
    void showComparison(const Store::SessionRecord &older, const Store::SessionRecord &newer);
    void fillComparisonTable();
    void fillChecks(const Store::SessionRecord &record);
    void confirmDelete();
    void deleteIds(const QList<qint64> &ids);
    void chooseExportFolder();
    void exportIds(const QList<qint64> &ids, const QString &dir);
    void saveRetention();
    void paletteChanged();
};

void HistoryView::Private::buildFilters(QVBoxLayout *layout)
{
    // Two rows, so that the page fits beside the connection dock at 1280 pixels.
    auto *row = new QHBoxLayout;
    auto *secondRow = new QHBoxLayout;
    QHBoxLayout *current = row;
    auto label = [q = q, &current](const QString &text, QWidget *buddy) {
        auto *l = new QLabel(text, q);
        l->setBuddy(buddy);
        current->addWidget(l);
        current->addWidget(buddy);
    };

    server = new QLineEdit(q);
    server->setObjectName(QStringLiteral("historyServer"));
    server->setAccessibleName(tr("Server filter"));
    server->setToolTip(tr("Show only sessions whose server (host:port) contains this text"));
    server->setPlaceholderText(tr("host or port"));
    server->setClearButtonEnabled(true);
    label(tr("&Server:"), server);

    outcome = new QComboBox(q);
    outcome->setObjectName(QStringLiteral("historyOutcome"));
    outcome->setAccessibleName(tr("Outcome filter"));
    outcome->setToolTip(tr("Show only sessions that ended this way"));
    outcome->addItem(tr("Any outcome"), QString());
    outcome->addItem(tr("Problems (rejected, failed, fail)"), QStringLiteral("rejected,failed,fail"));
    for (const QString &o : {QStringLiteral("accepted"), QStringLiteral("partial"), QStringLiteral("rejected"),
                             QStringLiteral("failed"), QStringLiteral("cancelled"), QStringLiteral("pass"),
                             QStringLiteral("warn"), QStringLiteral("fail")})
        outcome->addItem(o, o);
    label(tr("&Outcome:"), outcome);

    kind = new QComboBox(q);
    kind->setObjectName(QStringLiteral("historyKind"));
    kind->setAccessibleName(tr("Kind filter"));
    kind->setToolTip(tr("Sends, probes (connection tests) or diagnoses"));
    kind->addItem(tr("All kinds"), QString());
    for (Store::SessionKind k : {Store::SessionKind::Send, Store::SessionKind::Probe, Store::SessionKind::Diagnosis})
        kind->addItem(Store::sessionKindName(k), Store::sessionKindName(k));
    label(tr("&Kind:"), kind);
    current = secondRow;

    auto makeDate = [this](const QString &name, const QString &accessible, const QString &tip) {
        auto *e = new QDateEdit(q);
        e->setObjectName(name);
        e->setAccessibleName(accessible);
        e->setToolTip(tip);
        e->setCalendarPopup(true);
        e->setDisplayFormat(QStringLiteral("yyyy-MM-dd"));
        // The minimum date stands for "no limit" and shows as "any".
        e->setMinimumDate(kOpenDate);
        e->setSpecialValueText(tr("any"));
        e->setDate(kOpenDate);
        return e;
    };
    from = makeDate(QStringLiteral("historyFrom"), tr("From date"),
                    tr("Show sessions from this day on (local time); \"any\": no limit"));
    label(tr("&From:"), from);
    to = makeDate(QStringLiteral("historyTo"), tr("To date"),
                  tr("Show sessions up to the end of this day (local time); \"any\": no limit"));
    label(tr("&To:"), to);

    search = new QLineEdit(q);
    search->setObjectName(QStringLiteral("historySearch"));
    search->setAccessibleName(tr("Search transcripts"));
    search->setToolTip(tr("Words to find in transcripts, subjects and errors (all words must occur)"));
    search->setPlaceholderText(tr("Search transcripts..."));
    search->setClearButtonEnabled(true);
    label(tr("S&earch:"), search);
    row->setStretchFactor(server, 1);
    secondRow->setStretchFactor(search, 1);
    layout->addLayout(row);
    layout->addLayout(secondRow);

    // Typing asks the database once the user pauses, not at every key.
    debounce = new QTimer(q);
    debounce->setSingleShot(true);
    debounce->setInterval(kDebounceMs);
    QObject::connect(debounce, &QTimer::timeout, q, [this] { applyFilter(); });
    QObject::connect(server, &QLineEdit::textChanged, debounce, qOverload<>(&QTimer::start));
    QObject::connect(search, &QLineEdit::textChanged, debounce, qOverload<>(&QTimer::start));
    QObject::connect(outcome, &QComboBox::currentIndexChanged, q, [this] { applyFilter(); });
    QObject::connect(kind, &QComboBox::currentIndexChanged, q, [this] { applyFilter(); });
    QObject::connect(from, &QDateEdit::dateChanged, q, [this] { applyFilter(); });
    QObject::connect(to, &QDateEdit::dateChanged, q, [this] { applyFilter(); });
}

void HistoryView::Private::buildList(QWidget *parent, QVBoxLayout *layout)
{
    model = new HistoryListModel(store, q);
    model->setPalette(q->palette());
    table = new QTableView(parent);
    table->setObjectName(QStringLiteral("historyList"));
    table->setAccessibleName(tr("Stored sessions"));
    table->setToolTip(tr("Select a session to open it; select two (Ctrl+click) to compare them"));
    table->setModel(model);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setWordWrap(false);
    table->verticalHeader()->hide();
    // Fixed row heights: the view need not measure 10,000 rows.
    table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    table->horizontalHeader()->setStretchLastSection(false);
    table->horizontalHeader()->setSectionResizeMode(HistoryListModel::SubjectColumn, QHeaderView::Stretch);
    table->setColumnWidth(HistoryListModel::TimeColumn, 150);
    table->setColumnWidth(HistoryListModel::KindColumn, 80);
    table->setColumnWidth(HistoryListModel::TargetColumn, 200);
    table->setColumnWidth(HistoryListModel::OutcomeColumn, 90);
    table->setColumnWidth(HistoryListModel::DurationColumn, 90);
    layout->addWidget(table, 1);
    QObject::connect(table->selectionModel(), &QItemSelectionModel::selectionChanged, q, [this] { updateDetail(); });
    QObject::connect(model, &QAbstractItemModel::rowsInserted, q, [this] { updateStatus(); });

    auto *row = new QHBoxLayout;
    status = new QLabel(parent);
    status->setObjectName(QStringLiteral("historyStatus"));
    status->setAccessibleName(tr("History status"));
    status->setTextFormat(Qt::PlainText);
    row->addWidget(status, 1);

    deleteButton = new QPushButton(tr("&Delete..."), parent);
    deleteButton->setObjectName(QStringLiteral("historyDelete"));
    deleteButton->setAccessibleName(tr("Delete selected sessions"));
    deleteButton->setToolTip(tr("Remove the selected sessions from the history (asks first)"));
    QObject::connect(deleteButton, &QPushButton::clicked, q, [this] { confirmDelete(); });
    row->addWidget(deleteButton);
    auto *del = new QShortcut(QKeySequence::Delete, table, nullptr, nullptr, Qt::WidgetShortcut);
    QObject::connect(del, &QShortcut::activated, q, [this] { confirmDelete(); });

    exportButton = new QPushButton(tr("E&xport bundle..."), parent);
    exportButton->setObjectName(QStringLiteral("historyExport"));
    exportButton->setAccessibleName(tr("Export selected sessions"));
    exportButton->setToolTip(tr("Write each selected session to a folder: redacted transcript, JSON result, "
                                "certificate chain (PEM) and the message (.eml) when kept"));
    QObject::connect(exportButton, &QPushButton::clicked, q, [this] { chooseExportFolder(); });
    row->addWidget(exportButton);

    row->addSpacing(16);
    const Store::Retention defaults;
    keepDays = new QSpinBox(parent);
    keepDays->setObjectName(QStringLiteral("historyKeepDays"));
    keepDays->setAccessibleName(tr("Keep sessions for days"));
    keepDays->setToolTip(tr("Sessions older than this many days are deleted; 0: no age limit"));
    keepDays->setRange(0, 36500);
    keepDays->setSpecialValueText(tr("no limit"));
    keepDays->setSuffix(tr(" days"));
    // Only a finished edit counts: typing "365" must not prune at "3" on the way.
    keepDays->setKeyboardTracking(false);
    keepDays->setValue(settings ? settings->value(QStringLiteral("history/keepDays"), defaults.keepDays).toInt()
                                : defaults.keepDays);
    auto *daysLabel = new QLabel(tr("Keep &for:"), parent);
    daysLabel->setBuddy(keepDays);
    row->addWidget(daysLabel);
    row->addWidget(keepDays);

    keepSessions = new QSpinBox(parent);
    keepSessions->setObjectName(QStringLiteral("historyKeepSessions"));
    keepSessions->setAccessibleName(tr("Keep at most sessions"));
    keepSessions->setToolTip(tr("Only the newest this many sessions are kept; 0: no count limit"));
    keepSessions->setRange(0, 10000000);
    keepSessions->setSingleStep(100);
    keepSessions->setSpecialValueText(tr("no limit"));
    keepSessions->setSuffix(tr(" sessions"));
    keepSessions->setKeyboardTracking(false);
    keepSessions->setValue(settings ? settings->value(QStringLiteral("history/keepSessions"), defaults.keepSessions)
                                          .toInt()
                                    : defaults.keepSessions);
    auto *countLabel = new QLabel(tr("at &most:"), parent);
    countLabel->setBuddy(keepSessions);
    row->addWidget(countLabel);
    row->addWidget(keepSessions);
    QObject::connect(keepDays, &QSpinBox::valueChanged, q, [this] { saveRetention(); });
    QObject::connect(keepSessions, &QSpinBox::valueChanged, q, [this] { saveRetention(); });
    layout->addLayout(row);
}

void HistoryView::Private::buildDetail(QWidget *parent, QVBoxLayout *layout)
{
    header = new QLabel(parent);
    header->setObjectName(QStringLiteral("historyHeader"));
    header->setAccessibleName(tr("Session summary"));
    header->setTextFormat(Qt::PlainText);
    header->setWordWrap(true);
    header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(header);

    stack = new QStackedWidget(parent);
    stack->setObjectName(QStringLiteral("historyDetail"));
    stack->setAccessibleName(tr("Session details"));
    layout->addWidget(stack, 1);

    placeholder = new QLabel(tr("Select a session to open it, or two to compare them."), stack);
    placeholder->setAccessibleName(tr("No session selected"));
    placeholder->setAlignment(Qt::AlignCenter);
    placeholder->setWordWrap(true);
    stack->addWidget(placeholder);

    sendTabs = new QTabWidget(stack);
    sendTabs->setObjectName(QStringLiteral("historySendTabs"));
    sendTabs->setAccessibleName(tr("Stored session"));
    sendTranscript = new TranscriptView(sendTabs);
    sendTranscript->setObjectName(QStringLiteral("historyTranscript"));
    sendTranscript->setAccessibleName(tr("Stored transcript"));
    events = new EventLogView(sendTabs);
    events->setObjectName(QStringLiteral("historyEvents"));
    events->setAccessibleName(tr("Stored events"));
    result = new ResultPanel(sendTabs);
    result->setObjectName(QStringLiteral("historyResult"));
    result->setAccessibleName(tr("Stored result"));
    sendTabs->addTab(sendTranscript, tr("Transcript"));
    sendTabs->addTab(events, tr("Events"));
    sendTabs->addTab(result, tr("Result"));
    stack->addWidget(sendTabs);

    diagnosisTabs = new QTabWidget(stack);
    diagnosisTabs->setObjectName(QStringLiteral("historyDiagnosisTabs"));
    diagnosisTabs->setAccessibleName(tr("Stored diagnosis"));
    checks = makeReadOnlyTable({tr("Verdict"), tr("Check"), tr("Summary"), tr("Fix")}, diagnosisTabs);
    checks->setObjectName(QStringLiteral("historyChecks"));
    checks->setAccessibleName(tr("Stored checks"));
    checks->setToolTip(tr("Each check of the diagnosis as it was then: verdict, what was checked, why, what to change"));
    checks->setWordWrap(true);
    diagnosisTranscript = new TranscriptView(diagnosisTabs);
    diagnosisTranscript->setObjectName(QStringLiteral("historyDiagnosisTranscript"));
    diagnosisTranscript->setAccessibleName(tr("Stored diagnosis transcript"));
    diagnosisTabs->addTab(checks, tr("Checks"));
    diagnosisTabs->addTab(diagnosisTranscript, tr("Transcript"));
    stack->addWidget(diagnosisTabs);

    comparePage = new QWidget(stack);
    auto *cl = new QVBoxLayout(comparePage);
    cl->setContentsMargins(0, 0, 0, 0);
    onlyDifferences = new QCheckBox(tr("Show only &differences"), comparePage);
    onlyDifferences->setObjectName(QStringLiteral("historyOnlyDifferences"));
    onlyDifferences->setAccessibleName(tr("Show only differences"));
    onlyDifferences->setToolTip(tr("Hide the rows where both sessions agree"));
    cl->addWidget(onlyDifferences);
    compareTable = makeReadOnlyTable({tr("Section"), tr("Aspect"), tr("Older"), tr("Newer"), tr("Same?")}, comparePage);
    compareTable->setObjectName(QStringLiteral("historyCompare"));
    compareTable->setAccessibleName(tr("Session comparison"));
    compareTable->setToolTip(tr("The two selected sessions side by side, the older on the left; "
                                "rows that differ are highlighted and say \"differs\""));
    compareTable->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    compareTable->setColumnWidth(0, 170);
    compareTable->setColumnWidth(1, 200);
    compareTable->setColumnWidth(2, 330);
    compareTable->setColumnWidth(3, 330);
    cl->addWidget(compareTable, 1);
    QObject::connect(onlyDifferences, &QCheckBox::toggled, q, [this] { fillComparisonTable(); });
    stack->addWidget(comparePage);
}

Store::SessionFilter HistoryView::Private::currentFilter() const
{
    Store::SessionFilter f;
    f.server = server->text().trimmed();
    const QString outcomes = outcome->currentData().toString();
    if (!outcomes.isEmpty())
        f.outcomes = outcomes.split(QLatin1Char(','));
    f.kind = Store::sessionKindFromName(kind->currentData().toString());
    // The dates are the user's days (local time), the store's times are UTC.
    if (from->date() != kOpenDate)
        f.from = from->date().startOfDay().toUTC();
    if (to->date() != kOpenDate)
        f.to = to->date().endOfDay().toUTC();
    f.text = search->text().trimmed();
    f.limit = HistoryListModel::PageSize;
    return f;
}

void HistoryView::Private::applyFilter()
{
    debounce->stop();
    const QList<qint64> keep = selectedIds();
    model->setFilter(currentFilter());
    selectIds(keep);
    updateStatus();
}

void HistoryView::Private::updateStatus()
{
    if (!store || !store->isOpen()) {
        status->setText(tr("The history database is not open: sessions are not kept."));
        return;
    }
    status->setText(tr("Showing %1 of %2 sessions").arg(model->rowCount()).arg(model->totalCount()));
}

QList<qint64> HistoryView::Private::selectedIds() const
{
    QList<qint64> out;
    const QModelIndexList rows = table->selectionModel()->selectedRows();
    for (const QModelIndex &i : rows)
        out.append(model->idAt(i.row()));
    return out;
}

bool HistoryView::Private::selectIds(const QList<qint64> &ids, bool fetch)
{
    QItemSelection selection;
    bool all = true;
    for (qint64 id : ids) {
        int row = model->rowOf(id);
        // Not loaded yet: read further pages until it shows up or the list ends.
        while (fetch && row < 0 && model->canFetchMore({})) {
            model->fetchMore({});
            row = model->rowOf(id);
        }
        if (row < 0) {
            all = false;
            continue;
        }
        selection.select(model->index(row, 0), model->index(row, HistoryListModel::ColumnCount - 1));
    }
    table->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    if (!selection.isEmpty())
        table->scrollTo(selection.indexes().constFirst());
    return all;
}

void HistoryView::Private::showNothing(const QString &why)
{
    shownIds.clear();
    comparison.clear();
    shownDiagnosis.reset();
    header->setText(why);
    stack->setCurrentWidget(placeholder);
}

void HistoryView::Private::updateDetail()
{
    const QList<qint64> ids = selectedIds();
    deleteButton->setEnabled(!ids.isEmpty());
    exportButton->setEnabled(!ids.isEmpty());
    QList<qint64> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    // std::equal rather than QList's ==, which in Qt 6.4 hands memcmp a null
    // pointer for an empty list (undefined, and reported by UBSan).
    if (std::equal(sorted.cbegin(), sorted.cend(), shownIds.cbegin(), shownIds.cend()))
        return; // a refresh kept the selection: the records have not changed
    if (ids.isEmpty()) {
        showNothing({});
        return;
    }
    if (ids.size() > 2) {
        showNothing(tr("%1 sessions selected: select one to open it or two to compare them.").arg(ids.size()));
        return;
    }
    QList<Store::SessionRecord> records;
    for (qint64 id : ids) {
        std::optional<Store::SessionRecord> r = store->session(id);
        if (!r) {
            showNothing(tr("Session %1 could not be read (deleted meanwhile?).").arg(id));
            return;
        }
        records.append(std::move(*r));
    }
    if (records.size() == 1) {
        showSession(records.first());
    } else {
        // "What did the server say yesterday, before I changed the config?": the
        // older session on the left.
        std::sort(records.begin(), records.end(), [](const Store::SessionRecord &a, const Store::SessionRecord &b) {
            return a.started != b.started ? a.started < b.started : a.id < b.id;
        });
        showComparison(records.at(0), records.at(1));
    }
    shownIds = sorted;
}

void HistoryView::Private::showSession(const Store::SessionRecord &record)
{
    comparison.clear();
    // The record's values came from servers, .eml files and the database file:
    // shown by the escaping rule (live/peertext.h).
    QStringList parts{QStringLiteral("%1 %2").arg(Store::sessionKindName(record.kind), PeerText::value(record.target)),
                      PeerText::value(record.outcome),
                      record.started.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
                      HistoryListModel::durationText(record.durationUs)};
    if (!record.securityMode.isEmpty())
        parts.append(PeerText::value(record.securityMode));
    if (!record.profile.isEmpty())
        parts.append(tr("profile %1").arg(PeerText::value(record.profile)));
    if (!record.user.isEmpty())
        parts.append(tr("user %1").arg(PeerText::value(record.user)));
    if (!record.subject.isEmpty())
        parts.append(tr("\"%1\"").arg(PeerText::value(record.subject)));
    QString text = parts.join(QStringLiteral(" \u2014 "));
    if (!record.error.isEmpty())
        text += QLatin1Char('\n') + PeerText::line(record.error);
    header->setText(text);

    if (record.kind == Store::SessionKind::Diagnosis) {
        shownDiagnosis = record;
        fillChecks(record);
        diagnosisTranscript->clear();
        diagnosisTranscript->append(record.transcript);
        stack->setCurrentWidget(diagnosisTabs);
        return;
    }
    shownDiagnosis.reset();
    const SendResult r = sendResultFromRecord(record);
    sendTranscript->clear();
    sendTranscript->append(record.transcript);
    sendTranscript->showOutcome(r);
    events->clear();
    events->append(record.events);
    result->showResult(r);
    stack->setCurrentWidget(sendTabs);
}

void HistoryView::Private::fillChecks(const Store::SessionRecord &record)
{
    const QVariantList list = record.result.value(QStringLiteral("checks")).toList();
    const QColor base = checks->palette().color(QPalette::Base);
    checks->setRowCount(0);
    checks->setRowCount(int(list.size()));
    for (int row = 0; row < list.size(); ++row) {
        const QVariantMap c = list.at(row).toMap();
        const QString verdict = c.value(QStringLiteral("verdict")).toString();
        auto *v = new QTableWidgetItem(PeerText::line(verdict));
        const int hue = verdictHue(verdict);
        if (hue >= 0)
            v->setForeground(LiveColours::readable(hue, base));
        checks->setItem(row, 0, v);
        const QString title = c.value(QStringLiteral("title")).toString();
        const QString scope = c.value(QStringLiteral("scope")).toString();
        // Check texts hold server and DNS text (escaped when the check was made;
        // kept one line all the same, as a stored row may have been edited).
        auto *check = new QTableWidgetItem(
            PeerText::line(scope.isEmpty() ? title : QStringLiteral("%1 (%2)").arg(title, scope)));
        check->setToolTip(PeerText::toolTip(c.value(QStringLiteral("id")).toString()));
        checks->setItem(row, 1, check);
        auto *summary = new QTableWidgetItem(PeerText::line(c.value(QStringLiteral("summary")).toString()));
        const QString detail = c.value(QStringLiteral("detail")).toString();
        summary->setToolTip(
            PeerText::toolTip(detail.isEmpty() ? summary->text() : summary->text() + QLatin1Char('\n') + detail));
        checks->setItem(row, 2, summary);
        auto *fix = new QTableWidgetItem(PeerText::line(c.value(QStringLiteral("fix")).toString()));
        fix->setToolTip(PeerText::toolTip(fix->text()));
        checks->setItem(row, 3, fix);
    }
    checks->resizeColumnToContents(0);
    checks->setColumnWidth(1, 240);
    checks->setColumnWidth(2, 460);
}

void HistoryView::Private::showComparison(const Store::SessionRecord &older, const Store::SessionRecord &newer)
{
    shownDiagnosis.reset();
    comparison = Store::compareSessions(older, newer);
    int differing = 0;
    for (const Store::ComparisonRow &r : std::as_const(comparison))
        differing += r.same ? 0 : 1;
    auto describe = [](const Store::SessionRecord &r) {
        return QStringLiteral("#%1 %2 %3 (%4)")
            .arg(r.id)
            .arg(Store::sessionKindName(r.kind), PeerText::value(r.target),
                 r.started.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")));
    };
    header->setText(tr("Older: %1\nNewer: %2\n%3 of %4 aspects differ")
                        .arg(describe(older), describe(newer))
                        .arg(differing)
                        .arg(comparison.size()));
    fillComparisonTable();
    stack->setCurrentWidget(comparePage);
}

void HistoryView::Private::fillComparisonTable()
{
    const QColor tint = LiveColours::highlight(LiveColours::WarningHue, compareTable->palette());
    const bool filter = onlyDifferences->isChecked();
    compareTable->setRowCount(0);
    int row = 0;
    for (const Store::ComparisonRow &r : std::as_const(comparison)) {
        if (filter && r.same)
            continue;
        compareTable->insertRow(row);
        // The two sides are values from the records (certificate names, replies).
        const QStringList cells{r.section, r.aspect, PeerText::line(r.left), PeerText::line(r.right),
                                r.same ? tr("same") : tr("differs")};
        for (int col = 0; col < cells.size(); ++col) {
            auto *item = new QTableWidgetItem(cells.at(col));
            item->setToolTip(PeerText::toolTip(cells.at(col)));
            // The tint keeps the palette's text readable (LiveColours::highlight);
            // "differs" says it in words for those who do not see the tint.
            if (!r.same) {
                item->setBackground(tint);
                QFont f = item->font();
                f.setBold(true);
                item->setFont(f);
            }
            compareTable->setItem(row, col, item);
        }
        ++row;
    }
}

void HistoryView::Private::confirmDelete()
{
    const QList<qint64> ids = selectedIds();
    if (ids.isEmpty())
        return;
    auto *box = new QMessageBox(QMessageBox::Question, tr("Delete sessions"),
                                ids.size() == 1 ? tr("Delete this session from the history?")
                                                : tr("Delete these %1 sessions from the history?").arg(ids.size()),
                                QMessageBox::Yes | QMessageBox::Cancel, q);
    box->setObjectName(QStringLiteral("historyDeleteConfirm"));
    box->setInformativeText(tr("Their transcripts, results and events cannot be brought back."));
    box->setDefaultButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    // open(): no nested event loop; the answer arrives as a signal.
    QObject::connect(box, &QMessageBox::finished, q, [this, box, ids](int) {
        if (box->standardButton(box->clickedButton()) == QMessageBox::Yes)
            deleteIds(ids);
    });
    box->open();
}

void HistoryView::Private::deleteIds(const QList<qint64> &ids)
{
    QStringList errors;
    for (qint64 id : ids) {
        QString error;
        if (!store->remove(id, &error))
            errors.append(error);
    }
    shownIds.clear();
    model->reload();
    table->clearSelection();
    updateDetail();
    updateStatus();
    if (!errors.isEmpty())
        status->setText(tr("Could not delete: %1").arg(errors.join(QStringLiteral("; "))));
}

void HistoryView::Private::chooseExportFolder()
{
    const QList<qint64> ids = selectedIds();
    if (ids.isEmpty())
        return;
    const QString start =
        settings ? settings->value(QStringLiteral("history/exportFolder"), QDir::homePath()).toString() : QDir::homePath();
    auto *dialog = new QFileDialog(q, tr("Export sessions to folder"), start);
    dialog->setObjectName(QStringLiteral("historyExportDialog"));
    dialog->setFileMode(QFileDialog::Directory);
    dialog->setOption(QFileDialog::ShowDirsOnly, true);
    dialog->setAcceptMode(QFileDialog::AcceptOpen);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    QObject::connect(dialog, &QFileDialog::fileSelected, q, [this, ids](const QString &dir) {
        if (settings)
            settings->setValue(QStringLiteral("history/exportFolder"), dir);
        exportIds(ids, dir);
    });
    dialog->open();
}

void HistoryView::Private::exportIds(const QList<qint64> &ids, const QString &dir)
{
    QStringList written, errors;
    for (qint64 id : ids) {
        const std::optional<Store::SessionRecord> r = store->session(id);
        if (!r) {
            errors.append(tr("session %1 could not be read").arg(id));
            continue;
        }
        QString error;
        const QString folder = Store::exportBundle(*r, dir, &error);
        if (folder.isEmpty())
            errors.append(error);
        else
            written.append(QDir::toNativeSeparators(folder));
    }
    if (errors.isEmpty())
        status->setText(tr("Exported to %1").arg(written.join(QStringLiteral(", "))));
    else
        status->setText(tr("Export failed: %1").arg(errors.join(QStringLiteral("; "))));
    qCInfo(lcHistoryView) << "exported" << written << errors;
}

void HistoryView::Private::saveRetention()
{
    const Store::Retention r = q->retention();
    if (settings) {
        settings->setValue(QStringLiteral("history/keepDays"), r.keepDays);
        settings->setValue(QStringLiteral("history/keepSessions"), r.keepSessions);
    }
    Q_EMIT q->retentionChanged(r);
}

void HistoryView::Private::paletteChanged()
{
    model->setPalette(q->palette());
    fillComparisonTable();
    if (shownDiagnosis)
        fillChecks(*shownDiagnosis);
}

HistoryView::HistoryView(Store::HistoryStore *store, QSettings *settings, QWidget *parent)
    : QWidget(parent)
    , d(std::make_unique<Private>())
{
    d->q = this;
    d->store = store;
    d->settings = settings;
    setAccessibleName(tr("History"));

    auto *layout = new QVBoxLayout(this);
    d->buildFilters(layout);

    // List above, details below; the splitter lets the user trade one for the other.
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->setObjectName(QStringLiteral("historySplitter"));
    splitter->setChildrenCollapsible(false);
    auto *top = new QWidget(splitter);
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    d->buildList(top, topLayout);
    auto *bottom = new QWidget(splitter);
    auto *bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    d->buildDetail(bottom, bottomLayout);
    splitter->addWidget(top);
    splitter->addWidget(bottom);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 1);
    layout->addWidget(splitter, 1);

    new PaletteWatcher(this, [this] { d->paletteChanged(); });

    const bool usable = store && store->isOpen();
    for (QWidget *w : {static_cast<QWidget *>(d->server), static_cast<QWidget *>(d->outcome),
                       static_cast<QWidget *>(d->kind), static_cast<QWidget *>(d->from), static_cast<QWidget *>(d->to),
                       static_cast<QWidget *>(d->search)})
        w->setEnabled(usable);
    d->deleteButton->setEnabled(false);
    d->exportButton->setEnabled(false);
    d->model->setFilter(d->currentFilter());
    d->showNothing({});
    d->updateStatus();
}

HistoryView::~HistoryView() = default;

void HistoryView::refresh()
{
    const QList<qint64> keep = d->selectedIds();
    // The reset clears the selection; the detail is kept when the same rows come back.
    const QSignalBlocker block(d->table->selectionModel());
    d->model->reload();
    d->selectIds(keep);
    d->updateStatus();
    d->table->viewport()->update();
    d->updateDetail();
}

Store::Retention HistoryView::retention() const
{
    return Store::Retention{d->keepDays->value(), d->keepSessions->value()};
}

void HistoryView::setFilter(const QString &name, const QString &value)
{
    if (name == u"server") {
        d->server->setText(value);
    } else if (name == u"text") {
        d->search->setText(value);
    } else if (name == u"outcome" || name == u"kind") {
        QComboBox *box = name == u"outcome" ? d->outcome : d->kind;
        const int i = box->findData(value);
        if (i < 0) {
            qCWarning(lcHistoryView) << "no" << name << "filter" << value;
            return;
        }
        box->setCurrentIndex(i);
    } else if (name == u"from" || name == u"to") {
        QDateEdit *edit = name == u"from" ? d->from : d->to;
        const QDate date = value.isEmpty() ? kOpenDate : QDate::fromString(value.left(10), Qt::ISODate);
        if (!date.isValid()) {
            qCWarning(lcHistoryView) << "not a date:" << value;
            return;
        }
        edit->setDate(date);
    } else {
        qCWarning(lcHistoryView) << "no filter named" << name;
        return;
    }
    // Callers (tests, the window) want the list filtered now, not after the typing pause.
    d->applyFilter();
}

QList<qint64> HistoryView::shownIds() const
{
    return d->model->ids();
}

bool HistoryView::select(const QList<qint64> &ids)
{
    return d->selectIds(ids, true);
}

QList<Store::ComparisonRow> HistoryView::comparison() const
{
    return d->comparison;
}

QString HistoryView::transcriptText() const
{
    if (d->stack->currentWidget() == d->sendTabs)
        return d->sendTranscript->text();
    if (d->stack->currentWidget() == d->diagnosisTabs)
        return d->diagnosisTranscript->text();
    return {};
}
