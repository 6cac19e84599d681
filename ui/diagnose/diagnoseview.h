#pragma once
// The Diagnose tab: runs a Diagnostics::Diagnosis on the current connection
// profile and shows it live.
//
// On top, the target (read-only, from the profile), an optional domain (runs MX
// and SRV discovery and the sender-domain records), the scope of the run (all
// standard ports, TLS version scan, every AUTH mechanism, the open-relay check
// which needs the user's consent) and Run / Cancel. Below, the checklist tree
// (scope -> checks) with a details pane for the selected check, the problem
// count, the timing waterfall, and the exports (JSON, self-contained HTML, the
// command lines that reproduce the session).
//
// The run happens on a worker thread (DiagnoseController); the GUI thread only
// takes batches. Everything a server sent is shown as plain text, never as rich
// text (a greeting is attacker-controlled).

#include "connection/connectionprofile.h"
#include "diagnostics/diagnosis.h"

#include <QWidget>
#include <memory>

class ChecklistModel;
class WaterfallChart;

class DiagnoseView : public QWidget
{
    Q_OBJECT

public:
    explicit DiagnoseView(QWidget *parent = nullptr);
    ~DiagnoseView() override;

    void setProfile(const ConnectionProfile &profile);
    void start();
    void cancel();
    [[nodiscard]] bool isRunning() const;
    // The last (or current partial) report.
    [[nodiscard]] Diagnostics::Report report() const;

    // The options the next run would use: the profile mapped onto DiagnosisOptions
    // plus the form (domain, check boxes), dns.nameserver from SMTPSCOPE_DNS_SERVER.
    [[nodiscard]] Diagnostics::DiagnosisOptions diagnosisOptions() const;
    // Off: no DNS at all (no reverse DNS, no discovery), for offline use and tests
    // that must not reach the system resolver. On by default.
    void setDnsLookups(bool enabled);

    // Exports, written atomically (QSaveFile); false and *error on failure.
    bool saveJson(const QString &path, QString *error) const;
    bool saveHtml(const QString &path, QString *error) const;
    // The command lines that reproduce the sessions (secrets left out), one per line.
    [[nodiscard]] QString commandLinesText() const;

    // For tests and the main window.
    [[nodiscard]] ChecklistModel *checklistModel() const;
    [[nodiscard]] WaterfallChart *waterfallChart() const;
    // Selects a check in the tree (and so shows it in the details pane).
    bool selectCheck(const QString &scope, const QString &id);
    [[nodiscard]] QString detailsText() const;
    [[nodiscard]] QString problemsText() const;
    [[nodiscard]] QString statusText() const;

Q_SIGNALS:
    void finished(Diagnostics::Verdict overall);

protected:
    bool event(QEvent *e) override; // follows palette changes

private:
    struct Private;
    std::unique_ptr<Private> d;
};
