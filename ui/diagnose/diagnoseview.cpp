#include "diagnoseview.h"

#include "checklistmodel.h"
#include "diagnosecontroller.h"
#include "diagnostics/reportexport.h"
#include "live/peertext.h"
#include "waterfallchart.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHostAddress>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSplitter>
#include <QTreeView>
#include <QUrl>
#include <QVBoxLayout>

using Diagnostics::Check;
using Diagnostics::Endpoint;
using Diagnostics::Report;
using Diagnostics::Verdict;

namespace {

// Diagnosis waits at most this long for one reply: a checklist has dozens of
// steps, and a profile's send timeout (60 s by default) would make one silent
// server stall the whole run.
constexpr int kMaxReadTimeoutMs = 15000;

QLabel *valueLabel(const QString &accessibleName)
{
    auto *l = new QLabel;
    // Profile values are shown as typed, never interpreted as rich text.
    l->setTextFormat(Qt::PlainText);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    l->setAccessibleName(accessibleName);
    // Long values (a host name, "none: AUTH checks are skipped") wrap rather than
    // widen the window past 1280 pixels with the connection dock beside it.
    l->setWordWrap(true);
    return l;
}

QString dataValue(const QVariant &v)
{
    switch (v.typeId()) {
    case QMetaType::QVariantMap:
    case QMetaType::QVariantList:
    case QMetaType::QStringList:
        return QString::fromUtf8(QJsonDocument::fromVariant(v).toJson(QJsonDocument::Compact));
    default:
        return v.toString();
    }
}

// Two lists side by side in a monospace pane ("before | after").
QString sideBySide(const QString &leftTitle, const QStringList &left, const QString &rightTitle,
                   const QStringList &right)
{
    qsizetype width = leftTitle.size();
    for (const QString &s : left)
        width = qMax(width, s.size());
    width = qMin<qsizetype>(width, 48);
    QStringList lines;
    lines.append(leftTitle.leftJustified(width) + QStringLiteral(" | ") + rightTitle);
    for (qsizetype i = 0; i < qMax(left.size(), right.size()); ++i)
        lines.append(left.value(i).leftJustified(width) + QStringLiteral(" | ") + right.value(i));
    return lines.join(QLatin1Char('\n'));
}

QString fileNameFor(const Report &report, const QString &suffix)
{
    QString subject = report.subject;
    subject.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]+")), QStringLiteral("_"));
    const QDateTime when = report.started.isValid() ? report.started : QDateTime::currentDateTimeUtc();
    return QStringLiteral("smtpscope-diagnosis-%1-%2.%3")
        .arg(subject, when.toString(QStringLiteral("yyyyMMdd-HHmmss")), suffix);
}

bool writeAtomically(const QString &path, const QByteArray &bytes, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    if (file.write(bytes) != bytes.size() || !file.commit()) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace

struct DiagnoseView::Private
{
    DiagnoseView *q = nullptr;
    ConnectionProfile profile;
    bool dns = true;
    DiagnoseController controller;

    QLabel *host = nullptr;
    QLabel *port = nullptr;
    QLabel *security = nullptr;
    QLabel *user = nullptr;
    QLabel *certName = nullptr;
    QLineEdit *domain = nullptr;
    QCheckBox *allPorts = nullptr;
    QCheckBox *scanTls = nullptr;
    QCheckBox *eachMechanism = nullptr;
    QCheckBox *relay = nullptr;
    QPushButton *run = nullptr;
    QPushButton *cancel = nullptr;
    QLabel *status = nullptr;
    QLabel *problems = nullptr;
    QTreeView *tree = nullptr;
    ChecklistModel *model = nullptr;
    QPlainTextEdit *details = nullptr;
    WaterfallChart *chart = nullptr;
    QPushButton *saveJson = nullptr;
    QPushButton *saveHtml = nullptr;
    QPushButton *copyCommands = nullptr;

    void showProfile();
    void setRunning(bool running);
    void onEndpoints(const QList<Endpoint> &endpoints);
    void onChecks(const QList<Check> &checks);
    void onFinished(const Report &report);
    void updateProblems();
    void updateExports();
    void showSelected();
    [[nodiscard]] QString checkDetails(const Check &check) const;
    [[nodiscard]] QString scopeDetails(const QString &scope) const;
    [[nodiscard]] Report exportReport() const;
    void saveWithDialog(bool html);
};

void DiagnoseView::Private::showProfile()
{
    const ConnectionSettings &s = profile.settings;
    host->setText(s.host);
    port->setText(QString::number(s.port));
    security->setText(s.securityName());
    user->setText(s.user.isEmpty() ? DiagnoseView::tr("(none: AUTH checks are skipped)") : s.user);
    certName->setText(s.peerName.isEmpty() ? DiagnoseView::tr("%1 (the host)").arg(s.host) : s.peerName);
}

void DiagnoseView::Private::setRunning(bool running)
{
    run->setEnabled(!running);
    cancel->setEnabled(running);
    for (QWidget *w : std::initializer_list<QWidget *>{domain, allPorts, scanTls, eachMechanism, relay})
        w->setEnabled(!running);
    updateExports();
}

void DiagnoseView::Private::onEndpoints(const QList<Endpoint> &endpoints)
{
    for (const Endpoint &e : endpoints)
        model->addScope(e.target());
    status->setText(DiagnoseView::tr("Running: checking %1…").arg(endpoints.constLast().target()));
}

void DiagnoseView::Private::onChecks(const QList<Check> &checks)
{
    model->appendChecks(checks);
    chart->setBars(Diagnostics::waterfall(controller.report()));
    updateProblems();
    updateExports();
    const Check &last = checks.constLast();
    status->setText(DiagnoseView::tr("Running: %n check(s) done, last: %1 on %2", nullptr, model->checkCount())
                        .arg(last.title.isEmpty() ? last.id : last.title, last.scope));
    showSelected(); // a scope row's summary grows with its checks
}

void DiagnoseView::Private::onFinished(const Report &report)
{
    // The final report is authoritative: checks made without passing through the
    // live feed (or a partial report after a cancel) replace what the tree shows.
    bool same = model->checkCount() == report.checks.size();
    for (const Check &c : report.checks) {
        if (!same)
            break;
        same = model->indexOf(c.scope, c.id).isValid();
    }
    if (!same) {
        const QModelIndex current = tree->currentIndex();
        const QString scope = current.data(ChecklistModel::ScopeRole).toString();
        const QString id = current.data(ChecklistModel::IdRole).toString();
        model->setReport(report);
        tree->expandAll();
        const QModelIndex again = id.isEmpty() ? model->scopeIndex(scope) : model->indexOf(scope, id);
        if (again.isValid())
            tree->setCurrentIndex(again);
    }
    chart->setBars(Diagnostics::waterfall(report));
    updateProblems();
    // Milliseconds below a second: a loopback run takes tens of them.
    const QString took = report.durationUs < 1000000
                             ? DiagnoseView::tr("%1 ms").arg(double(report.durationUs) / 1e3, 0, 'f', 0)
                             : DiagnoseView::tr("%1 s").arg(double(report.durationUs) / 1e6, 0, 'f', 1);
    if (report.cancelled)
        status->setText(DiagnoseView::tr("Cancelled after %1: the checks so far are kept.").arg(took));
    else
        status->setText(DiagnoseView::tr("Finished in %1: overall %2.")
                            .arg(took, Diagnostics::verdictName(report.overall())));
    showSelected();
    Q_EMIT q->finished(report.overall());
}

void DiagnoseView::Private::updateProblems()
{
    const int fail = model->count(Verdict::Fail);
    const int warn = model->count(Verdict::Warn);
    if (fail == 0 && warn == 0)
        problems->setText(model->checkCount() == 0 ? DiagnoseView::tr("Problems: none yet")
                                                   : DiagnoseView::tr("Problems: none"));
    else
        problems->setText(DiagnoseView::tr("Problems: %1 failed, %2 warned").arg(fail).arg(warn));
    QPalette p = problems->palette();
    const Verdict tone = fail > 0 ? Verdict::Fail : warn > 0 ? Verdict::Warn : Verdict::Pass;
    p.setColor(QPalette::WindowText, model->checkCount() == 0 ? q->palette().color(QPalette::WindowText)
                                                              : ChecklistModel::colourFor(tone, q->palette()));
    problems->setPalette(p);
}

void DiagnoseView::Private::updateExports()
{
    const bool any = !controller.report().checks.isEmpty();
    saveJson->setEnabled(any);
    saveHtml->setEnabled(any);
    copyCommands->setEnabled(any);
}

QString DiagnoseView::Private::checkDetails(const Check &c) const
{
    QStringList out;
    out.append(QStringLiteral("%1: %2").arg(c.title.isEmpty() ? c.id : c.title, ChecklistModel::verdictWord(c.verdict)));
    out.append(DiagnoseView::tr("Scope: %1    Check id: %2").arg(c.scope, c.id));
    if (c.durationUs > 0)
        out.append(DiagnoseView::tr("Time: started at %1 ms, took %2")
                       .arg(double(c.startUs) / 1000.0, 0, 'f', 1)
                       .arg(ChecklistModel::formatDuration(c.durationUs)));
    out.append(QString());
    out.append(DiagnoseView::tr("Summary"));
    out.append(c.summary);
    if (!c.fix.isEmpty()) {
        out.append(QString());
        out.append(DiagnoseView::tr("Fix"));
        out.append(c.fix);
    }
    if (!c.detail.isEmpty()) {
        out.append(QString());
        out.append(DiagnoseView::tr("Detail"));
        out.append(c.detail);
    }
    if (!c.data.isEmpty()) {
        out.append(QString());
        out.append(DiagnoseView::tr("Data"));
        for (auto it = c.data.cbegin(); it != c.data.cend(); ++it)
            out.append(QStringLiteral("%1: %2").arg(it.key(), dataValue(it.value())));
    }
    return out.join(QLatin1Char('\n'));
}

QString DiagnoseView::Private::scopeDetails(const QString &scope) const
{
    const Report report = controller.report();
    QStringList out;
    out.append(scope);
    const QModelIndex index = model->scopeIndex(scope);
    out.append(index.siblingAtColumn(ChecklistModel::SummaryColumn).data().toString());
    for (const Endpoint &e : report.endpoints) {
        if (e.target() != scope)
            continue;
        out.append(DiagnoseView::tr("Role: %1    Found as: %2").arg(Endpoint::roleName(e.role), e.source));
        if (!e.address.isEmpty())
            out.append(DiagnoseView::tr("Connected to: %1").arg(e.address));
        if (!e.ptrName.isEmpty())
            out.append(DiagnoseView::tr("Reverse DNS: %1").arg(e.ptrName));
        if (!e.greeting.isEmpty()) {
            out.append(QString());
            out.append(DiagnoseView::tr("Greeting"));
            out.append(e.greeting);
        }
        if (e.tls.encrypted)
            out.append(DiagnoseView::tr("TLS: %1, %2").arg(e.tls.protocol, e.tls.cipher));
        if (!e.capabilitiesBeforeTls.isEmpty() || !e.capabilitiesAfterTls.isEmpty()) {
            out.append(QString());
            out.append(sideBySide(DiagnoseView::tr("EHLO before TLS"), e.capabilitiesBeforeTls,
                                  DiagnoseView::tr("EHLO after TLS"), e.capabilitiesAfterTls));
        }
    }
    return out.join(QLatin1Char('\n'));
}

void DiagnoseView::Private::showSelected()
{
    const QModelIndex current = tree->currentIndex();
    if (!current.isValid()) {
        details->clear();
        return;
    }
    // The details quote the server (greeting, EHLO lines) and the check's data
    // as received: shown by the escaping rule (live/peertext.h).
    if (const Check *c = model->checkAt(current.siblingAtColumn(0)))
        details->setPlainText(PeerText::text(checkDetails(*c)));
    else
        details->setPlainText(PeerText::text(scopeDetails(current.data(ChecklistModel::ScopeRole).toString())));
}

Report DiagnoseView::Private::exportReport() const
{
    Report r = controller.report();
    if (r.commandLines.isEmpty())
        r.commandLines = Diagnostics::commandLines(r, profile.settings.caFile);
    return r;
}

void DiagnoseView::Private::saveWithDialog(bool html)
{
    const Report r = controller.report();
    const QString suggested = QDir::home().filePath(fileNameFor(r, html ? QStringLiteral("html") : QStringLiteral("json")));
    const QString path = QFileDialog::getSaveFileName(
        q, html ? DiagnoseView::tr("Save the report as HTML") : DiagnoseView::tr("Save the report as JSON"), suggested,
        html ? DiagnoseView::tr("HTML page (*.html)") : DiagnoseView::tr("JSON (*.json)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!(html ? q->saveHtml(path, &error) : q->saveJson(path, &error)))
        QMessageBox::warning(q, DiagnoseView::tr("Save failed"), error);
    else
        status->setText(DiagnoseView::tr("Saved %1").arg(QDir::toNativeSeparators(path)));
}

DiagnoseView::DiagnoseView(QWidget *parent) : QWidget(parent), d(std::make_unique<Private>())
{
    d->q = this;

    // Target: what the profile says, read-only here (edited in the connection panel).
    auto *target = new QGroupBox(tr("Target"));
    target->setAccessibleName(tr("Target"));
    target->setToolTip(tr("From the connection profile: change it in the connection panel"));
    // Two label/value pairs per row keep the form short at 1280x800.
    auto *targetGrid = new QGridLayout(target);
    d->host = valueLabel(tr("Host"));
    d->port = valueLabel(tr("Port"));
    d->security = valueLabel(tr("Security"));
    d->user = valueLabel(tr("User"));
    d->certName = valueLabel(tr("Certificate name"));
    d->certName->setToolTip(tr("The name the server certificate is checked against"));
    const QList<QPair<QString, QLabel *>> pairs = {{tr("Host:"), d->host},         {tr("Port:"), d->port},
                                                   {tr("Security:"), d->security}, {tr("User:"), d->user},
                                                   {tr("Certificate name:"), d->certName}};
    for (int i = 0; i < pairs.size(); ++i) {
        auto *caption = new QLabel(pairs.at(i).first);
        caption->setBuddy(pairs.at(i).second);
        targetGrid->addWidget(caption, i / 2, (i % 2) * 2);
        targetGrid->addWidget(pairs.at(i).second, i / 2, (i % 2) * 2 + 1);
    }
    targetGrid->setColumnStretch(1, 1);
    targetGrid->setColumnStretch(3, 1);
    targetGrid->setRowStretch(3, 1);

    auto *scope = new QGroupBox(tr("What to check"));
    scope->setAccessibleName(tr("What to check"));
    auto *scopeLayout = new QVBoxLayout(scope);
    auto *domainRow = new QFormLayout;
    d->domain = new QLineEdit;
    d->domain->setObjectName(QStringLiteral("diagnoseDomain"));
    d->domain->setAccessibleName(tr("Domain"));
    d->domain->setPlaceholderText(tr("optional, e.g. example.org"));
    d->domain->setToolTip(tr("A mail domain: its MX hosts and submission SRV records are found and checked too, "
                             "and its SPF, DMARC and MTA-STS records read. Empty: only the profile's server."));
    d->domain->setClearButtonEnabled(true);
    domainRow->addRow(tr("Domain:"), d->domain);
    scopeLayout->addLayout(domainRow);
    d->allPorts = new QCheckBox(tr("All standard ports (25, 465, 587)"));
    d->allPorts->setAccessibleName(tr("All standard ports"));
    d->allPorts->setToolTip(tr("Check relay (25), submissions with implicit TLS (465) and submission with STARTTLS "
                               "(587) on the host, instead of the profile's port only"));
    d->scanTls = new QCheckBox(tr("Scan TLS versions"));
    d->scanTls->setAccessibleName(tr("Scan TLS versions"));
    d->scanTls->setToolTip(tr("Try TLS 1.0, 1.1, 1.2 and 1.3 each on its own connection to see which the server accepts"));
    d->scanTls->setChecked(true);
    d->eachMechanism = new QCheckBox(tr("Try every AUTH mechanism"));
    d->eachMechanism->setAccessibleName(tr("Try every AUTH mechanism"));
    d->eachMechanism->setToolTip(tr("Log in with each advertised mechanism on its own session (needs the profile's "
                                    "user and password); off: only the profile's mechanism"));
    d->eachMechanism->setChecked(true);
    d->relay = new QCheckBox(tr("Open-relay check (only on servers you run)"));
    d->relay->setAccessibleName(tr("Open-relay check"));
    d->relay->setToolTip(tr("Asks the server, without logging in, to accept mail from and to domains reserved for "
                            "documentation (MAIL and RCPT, then RSET; never DATA). Only tick this for servers you "
                            "are responsible for."));
    d->relay->setChecked(false); // consent: never on by default
    for (QCheckBox *b : {d->allPorts, d->scanTls, d->eachMechanism, d->relay})
        scopeLayout->addWidget(b);

    d->run = new QPushButton(tr("Run"));
    d->run->setObjectName(QStringLiteral("diagnoseRun"));
    d->run->setAccessibleName(tr("Run diagnosis"));
    d->run->setToolTip(tr("Check the server step by step, as an expert would with telnet, openssl and swaks"));
    d->cancel = new QPushButton(tr("Cancel"));
    d->cancel->setObjectName(QStringLiteral("diagnoseCancel"));
    d->cancel->setAccessibleName(tr("Cancel diagnosis"));
    d->cancel->setToolTip(tr("Stop at once; the checks done so far are kept"));
    d->cancel->setEnabled(false);
    auto *buttons = new QVBoxLayout;
    buttons->addWidget(d->run);
    buttons->addWidget(d->cancel);
    buttons->addStretch();

    auto *top = new QHBoxLayout;
    top->addWidget(target, 2);
    top->addWidget(scope, 3);
    top->addLayout(buttons);

    d->status = new QLabel(tr("Not run yet."));
    d->status->setTextFormat(Qt::PlainText);
    d->status->setAccessibleName(tr("Diagnosis status"));
    d->problems = new QLabel;
    d->problems->setTextFormat(Qt::PlainText);
    d->problems->setAccessibleName(tr("Problems"));
    d->problems->setToolTip(tr("Checks that failed or warned"));
    auto *statusRow = new QHBoxLayout;
    statusRow->addWidget(d->status, 1);
    statusRow->addWidget(d->problems);

    d->model = new ChecklistModel(this);
    d->tree = new QTreeView;
    d->tree->setObjectName(QStringLiteral("diagnoseChecklist"));
    d->tree->setAccessibleName(tr("Checklist"));
    d->tree->setAccessibleDescription(tr("Each endpoint or domain with its checks: verdict, check, summary, time"));
    d->tree->setModel(d->model);
    d->tree->setUniformRowHeights(true);
    d->tree->setAlternatingRowColors(true);
    d->tree->setSelectionBehavior(QAbstractItemView::SelectRows);
    d->tree->setSelectionMode(QAbstractItemView::SingleSelection);
    d->tree->header()->setStretchLastSection(false);
    d->tree->header()->setSectionResizeMode(ChecklistModel::VerdictColumn, QHeaderView::ResizeToContents);
    d->tree->header()->setSectionResizeMode(ChecklistModel::CheckColumn, QHeaderView::Interactive);
    d->tree->header()->setSectionResizeMode(ChecklistModel::SummaryColumn, QHeaderView::Stretch);
    d->tree->header()->setSectionResizeMode(ChecklistModel::TimeColumn, QHeaderView::ResizeToContents);
    d->tree->setColumnWidth(ChecklistModel::CheckColumn, 190);

    d->details = new QPlainTextEdit;
    d->details->setObjectName(QStringLiteral("diagnoseDetails"));
    d->details->setReadOnly(true);
    d->details->setAccessibleName(tr("Check details"));
    d->details->setToolTip(tr("The selected check: what was seen, what to fix, the exact detail and its data"));
    d->details->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    d->details->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    d->details->setPlaceholderText(tr("Select a check to see what was seen and what to fix."));

    auto *listSplit = new QSplitter(Qt::Horizontal);
    listSplit->addWidget(d->tree);
    listSplit->addWidget(d->details);
    listSplit->setStretchFactor(0, 3);
    listSplit->setStretchFactor(1, 2);

    d->chart = new WaterfallChart;
    d->chart->setObjectName(QStringLiteral("diagnoseWaterfall"));
    d->chart->setAccessibleName(tr("Timing waterfall"));

    auto *mainSplit = new QSplitter(Qt::Vertical);
    mainSplit->addWidget(listSplit);
    mainSplit->addWidget(d->chart);
    mainSplit->setStretchFactor(0, 3);
    mainSplit->setStretchFactor(1, 2);
    mainSplit->setSizes({380, 260}); // proportions; the chart scrolls when it has many bars
    mainSplit->setChildrenCollapsible(false);

    d->saveJson = new QPushButton(tr("Save JSON…"));
    d->saveJson->setAccessibleName(tr("Save report as JSON"));
    d->saveJson->setToolTip(tr("The whole report as JSON, for scripts and tickets"));
    d->saveHtml = new QPushButton(tr("Save HTML…"));
    d->saveHtml->setAccessibleName(tr("Save report as HTML"));
    d->saveHtml->setToolTip(tr("A self-contained web page (no external resources) to send to an admin"));
    d->copyCommands = new QPushButton(tr("Copy command lines"));
    d->copyCommands->setAccessibleName(tr("Copy command lines"));
    d->copyCommands->setToolTip(tr("The smtpscope send and swaks commands that open the same sessions by hand "
                                   "(passwords left out)"));
    auto *exportRow = new QHBoxLayout;
    exportRow->addStretch();
    exportRow->addWidget(d->saveJson);
    exportRow->addWidget(d->saveHtml);
    exportRow->addWidget(d->copyCommands);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addLayout(statusRow);
    layout->addWidget(mainSplit, 1);
    layout->addLayout(exportRow);

    connect(d->run, &QPushButton::clicked, this, &DiagnoseView::start);
    connect(d->cancel, &QPushButton::clicked, this, &DiagnoseView::cancel);
    connect(d->domain, &QLineEdit::returnPressed, this, [this] {
        if (!isRunning())
            start();
    });
    connect(d->saveJson, &QPushButton::clicked, this, [this] { d->saveWithDialog(false); });
    connect(d->saveHtml, &QPushButton::clicked, this, [this] { d->saveWithDialog(true); });
    connect(d->copyCommands, &QPushButton::clicked, this, [this] {
        QApplication::clipboard()->setText(commandLinesText());
        d->status->setText(tr("Command lines copied (passwords are left out: give them by file or prompt)."));
    });
    connect(d->tree->selectionModel(), &QItemSelectionModel::currentChanged, this, [this] { d->showSelected(); });

    connect(&d->controller, &DiagnoseController::runningChanged, this, [this](bool running) { d->setRunning(running); });
    connect(&d->controller, &DiagnoseController::endpointsStarted, this,
            [this](const QList<Endpoint> &endpoints) { d->onEndpoints(endpoints); });
    connect(&d->controller, &DiagnoseController::checksArrived, this,
            [this](const QList<Check> &checks) {
                d->onChecks(checks);
                d->tree->expandAll();
            });
    connect(&d->controller, &DiagnoseController::finished, this, [this](const Report &r) { d->onFinished(r); });

    d->showProfile();
    d->updateProblems();
    d->updateExports();
}

DiagnoseView::~DiagnoseView() = default;

void DiagnoseView::setProfile(const ConnectionProfile &profile)
{
    d->profile = profile;
    d->showProfile();
}

Diagnostics::DiagnosisOptions DiagnoseView::diagnosisOptions() const
{
    const ConnectionSettings &p = d->profile.settings;
    Diagnostics::DiagnosisOptions o;
    o.domain = d->domain->text().trimmed();
    o.host = p.host.trimmed();
    o.port = p.port;
    o.implicitTls = p.security == ConnectionSettings::Security::ImplicitTls;
    o.peerVerifyName = p.peerName;
    o.allPorts = d->allPorts->isChecked();
    o.dns = d->dns;
    if (const QString server = qEnvironmentVariable("SMTPSCOPE_DNS_SERVER"); !server.isEmpty()) {
        if (const QHostAddress address(server); !address.isNull())
            o.dnsOptions.nameserver = address;
    }
    o.dnsOptions.caFile = p.caFile;

    Diagnostics::CheckOptions &c = o.checks;
    c.ehloName = p.ehloName;
    c.caFile = p.caFile;
    c.insecure = !p.verifyPeer;
    c.user = p.user;
    c.mechanism = p.mechanism;
    c.allowPlaintextAuth = p.allowPlaintextAuth; // the user's consent, as for a send
    // The panel keeps a bearer token in settings.oauthToken (RFC 7628 3.1).
    c.password = p.password;
    c.oauthToken = p.oauthToken;
    // A report is meant to be shared: AUTH data stays redacted whatever the
    // profile shows in its own transcripts.
    c.showSecrets = false;
    c.connectTimeoutMs = p.connectTimeoutMs;
    c.readTimeoutMs = qMin(p.readTimeoutMs, kMaxReadTimeoutMs);
    c.scanTlsVersions = d->scanTls->isChecked();
    c.tryEachMechanism = d->eachMechanism->isChecked();
    c.relayCheck = d->relay->isChecked();
    return o;
}

void DiagnoseView::setDnsLookups(bool enabled)
{
    d->dns = enabled;
}

void DiagnoseView::start()
{
    if (isRunning())
        return;
    if (const QString problem = d->profile.settings.validationProblem(); !problem.isEmpty()) {
        d->status->setText(tr("Cannot run: %1").arg(problem));
        return;
    }
    const QString domain = d->domain->text().trimmed();
    // A label list only (RFC 1035 2.3.1 letters, digits, hyphens, dots; IDNs in
    // their A-label form): anything else would end in a lookup of garbage.
    static const QRegularExpression domainPattern(QStringLiteral("^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\\.?$"));
    const QString ace = QString::fromLatin1(QUrl::toAce(domain));
    if (!domain.isEmpty() && (ace.isEmpty() || !domainPattern.match(ace).hasMatch())) {
        d->status->setText(tr("Cannot run: \"%1\" is not a domain name.").arg(domain));
        return;
    }
    Diagnostics::DiagnosisOptions options = diagnosisOptions();
    if (!domain.isEmpty())
        options.domain = ace;
    d->model->clear();
    d->chart->clear();
    d->details->clear();
    QString error;
    if (!d->controller.start(options, &error)) {
        d->status->setText(tr("Cannot run: %1").arg(error));
        return;
    }
    d->updateProblems();
    d->status->setText(tr("Running: %1…").arg(d->controller.report().subject));
}

void DiagnoseView::cancel()
{
    d->controller.cancel();
}

bool DiagnoseView::isRunning() const
{
    return d->controller.isRunning();
}

Report DiagnoseView::report() const
{
    return d->controller.report();
}

bool DiagnoseView::saveJson(const QString &path, QString *error) const
{
    return writeAtomically(path, Diagnostics::toJson(d->exportReport()), error);
}

bool DiagnoseView::saveHtml(const QString &path, QString *error) const
{
    return writeAtomically(path, Diagnostics::toHtml(d->exportReport()), error);
}

QString DiagnoseView::commandLinesText() const
{
    return d->exportReport().commandLines.join(QLatin1Char('\n'));
}

ChecklistModel *DiagnoseView::checklistModel() const
{
    return d->model;
}

WaterfallChart *DiagnoseView::waterfallChart() const
{
    return d->chart;
}

bool DiagnoseView::selectCheck(const QString &scope, const QString &id)
{
    const QModelIndex index = d->model->indexOf(scope, id);
    if (!index.isValid())
        return false;
    d->tree->setCurrentIndex(index);
    d->tree->scrollTo(index);
    return true;
}

QString DiagnoseView::detailsText() const
{
    return d->details->toPlainText();
}

QString DiagnoseView::problemsText() const
{
    return d->problems->text();
}

QString DiagnoseView::statusText() const
{
    return d->status->text();
}

bool DiagnoseView::event(QEvent *e)
{
    if (e->type() == QEvent::PaletteChange || e->type() == QEvent::ApplicationPaletteChange) {
        d->model->setPalette(palette());
        d->updateProblems();
    }
    return QWidget::event(e);
}
