// The capture view. The list is a CaptureListModel over the store; selecting a
// row reads that message's .eml once, parses it with ParsedMessage (core/mime)
// and fills the tabs from the result. The HTML tab is a SafeHtmlBrowser, whose
// only resource source is the parsed message's own parts (cid:).

#include "capturepanel.h"

#include <QAbstractItemView>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QShortcut>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <functional>
#include <optional>

#include "capture/messagestore.h"
#include "capturelistmodel.h"
#include "mime/parsedmessage.h"
#include "safehtmlbrowser.h"

namespace {

// The raw tab shows at most this much: a QPlainTextEdit holding tens of MiB is
// slow to lay out, and the whole file is one "Save" away anyway.
constexpr qint64 RawLimit = 1024 * 1024;

enum Tab { HeadersTab, TextTab, HtmlTab, AttachmentsTab, TreeTab, RawTab };

QPlainTextEdit *readOnlyText(const QString &name, const QString &tip, QWidget *parent)
{
    auto *edit = new QPlainTextEdit(parent);
    edit->setReadOnly(true);
    edit->setAccessibleName(name);
    edit->setToolTip(tip);
    return edit;
}

} // namespace

struct CapturePanel::Private
{
    // Private is not a QObject; its texts are translated in the panel's context.
    static QString tr(const char *text, const char *disambiguation = nullptr, int n = -1)
    {
        return CapturePanel::tr(text, disambiguation, n);
    }

    CapturePanel *q = nullptr;
    Capture::MessageStore *store = nullptr;
    bool confirmClear = true;

    QLabel *serverInfo = nullptr;
    QLabel *status = nullptr;
    CaptureListModel *model = nullptr;
    QTableView *table = nullptr;
    QTabWidget *tabs = nullptr;
    QPlainTextEdit *headers = nullptr;
    QPlainTextEdit *text = nullptr;
    SafeHtmlBrowser *html = nullptr;
    QLabel *htmlNote = nullptr;
    QListWidget *attachments = nullptr;
    QPushButton *saveButton = nullptr;
    QTreeWidget *tree = nullptr;
    QPlainTextEdit *raw = nullptr;
    QPushButton *deleteButton = nullptr;
    QPushButton *clearButton = nullptr;
    QPushButton *resendButton = nullptr;

    QString shownId;
    ParsedMessage parsed;
    QString htmlSource;
    QString rawText;

    void build();
    void showSelected();
    void showMessage(const QString &id);
    void clearDetails();
    void fillTree(const ParsedPart &part, QTreeWidgetItem *parent);
    void deleteSelected();
    void clearAll();
    void resend();
    void saveCurrentAttachment();
    void updateButtons();
};

void CapturePanel::Private::build()
{
    auto *layout = new QVBoxLayout(q);

    serverInfo = new QLabel(q);
    serverInfo->setWordWrap(true);
    serverInfo->setTextInteractionFlags(Qt::TextSelectableByMouse);
    serverInfo->setAccessibleName(tr("Capture server address"));
    serverInfo->setToolTip(tr("Where the capture server listens, and the CA certificate clients must trust for TLS"));
    serverInfo->setText(tr("Capture server not running"));
    layout->addWidget(serverInfo);

    auto *buttons = new QHBoxLayout;
    deleteButton = new QPushButton(tr("Delete"), q);
    deleteButton->setAccessibleName(tr("Delete message"));
    deleteButton->setToolTip(tr("Delete the selected message from the capture folder (Delete key)"));
    clearButton = new QPushButton(tr("Clear all..."), q);
    clearButton->setAccessibleName(tr("Clear all messages"));
    clearButton->setToolTip(tr("Delete every captured message (asks first)"));
    resendButton = new QPushButton(tr("Resend..."), q);
    resendButton->setAccessibleName(tr("Resend message"));
    resendButton->setToolTip(tr("Send the selected message, exactly as captured, to a real server with the current profile"));
    buttons->addWidget(deleteButton);
    buttons->addWidget(clearButton);
    buttons->addStretch();
    buttons->addWidget(resendButton);
    layout->addLayout(buttons);

    auto *splitter = new QSplitter(Qt::Vertical, q);
    splitter->setAccessibleName(tr("Captured messages and details"));
    splitter->setChildrenCollapsible(false);

    model = new CaptureListModel(q);
    table = new QTableView(splitter);
    table->setObjectName(QStringLiteral("captureList"));
    table->setModel(model);
    table->setAccessibleName(tr("Captured messages"));
    table->setToolTip(tr("Messages the capture server received, newest first"));
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setSelectionMode(QAbstractItemView::SingleSelection);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setAlternatingRowColors(true);
    table->setWordWrap(false);
    table->verticalHeader()->hide();
    table->horizontalHeader()->setStretchLastSection(false);
    table->horizontalHeader()->setSectionResizeMode(CaptureListModel::TimeColumn, QHeaderView::ResizeToContents);
    table->horizontalHeader()->setSectionResizeMode(CaptureListModel::FromColumn, QHeaderView::Interactive);
    table->horizontalHeader()->setSectionResizeMode(CaptureListModel::ToColumn, QHeaderView::Interactive);
    table->horizontalHeader()->setSectionResizeMode(CaptureListModel::SubjectColumn, QHeaderView::Stretch);
    table->horizontalHeader()->setSectionResizeMode(CaptureListModel::SizeColumn, QHeaderView::ResizeToContents);
    table->setColumnWidth(CaptureListModel::FromColumn, 200);
    table->setColumnWidth(CaptureListModel::ToColumn, 200);

    tabs = new QTabWidget(splitter);
    tabs->setAccessibleName(tr("Message details"));

    headers = readOnlyText(tr("Message headers"), tr("The message's header fields, encoded words decoded"), tabs);
    tabs->addTab(headers, tr("Headers"));

    text = readOnlyText(tr("Plain text body"), tr("The message's text/plain body"), tabs);
    tabs->addTab(text, tr("Text"));

    auto *htmlPage = new QWidget(tabs);
    auto *htmlLayout = new QVBoxLayout(htmlPage);
    htmlLayout->setContentsMargins(0, 0, 0, 0);
    htmlNote = new QLabel(htmlPage);
    htmlNote->setWordWrap(true);
    htmlNote->setAccessibleName(tr("HTML safety note"));
    htmlNote->setText(tr("Remote content is never loaded; links are not followed."));
    html = new SafeHtmlBrowser(htmlPage);
    html->setObjectName(QStringLiteral("captureHtml"));
    html->setAccessibleName(tr("HTML body"));
    html->setToolTip(tr("The text/html body, shown without loading anything from outside the message"));
    html->setCidResolver([this](const QString &cid) {
        const ParsedPart *part = parsed.partByContentId(cid);
        return part ? part->body : QByteArray();
    });
    htmlLayout->addWidget(htmlNote);
    htmlLayout->addWidget(html, 1);
    tabs->addTab(htmlPage, tr("HTML"));

    auto *attachPage = new QWidget(tabs);
    auto *attachLayout = new QVBoxLayout(attachPage);
    attachments = new QListWidget(attachPage);
    attachments->setAccessibleName(tr("Attachments"));
    attachments->setToolTip(tr("Files in the message (attachments and inline images); double-click to save"));
    saveButton = new QPushButton(tr("Save..."), attachPage);
    saveButton->setAccessibleName(tr("Save attachment"));
    saveButton->setToolTip(tr("Save the selected attachment, decoded, to a file"));
    auto *saveRow = new QHBoxLayout;
    saveRow->addStretch();
    saveRow->addWidget(saveButton);
    attachLayout->addWidget(attachments, 1);
    attachLayout->addLayout(saveRow);
    tabs->addTab(attachPage, tr("Attachments"));

    tree = new QTreeWidget(tabs);
    tree->setAccessibleName(tr("MIME structure"));
    tree->setToolTip(tr("The message's MIME parts as nested"));
    tree->setHeaderLabels({tr("Type"), tr("Name"), tr("Disposition"), tr("Content-ID"), tr("Size")});
    tree->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    tabs->addTab(tree, tr("MIME tree"));

    raw = readOnlyText(tr("Raw message"), tr("The message exactly as received (the first 1 MiB)"), tabs);
    raw->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    raw->setLineWrapMode(QPlainTextEdit::NoWrap);
    tabs->addTab(raw, tr("Raw"));

    splitter->addWidget(table);
    splitter->addWidget(tabs);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    layout->addWidget(splitter, 1);

    status = new QLabel(q);
    status->setWordWrap(true);
    status->setAccessibleName(tr("Capture status"));
    layout->addWidget(status);

    // Delete acts on the list only, so that the key still edits text elsewhere
    // in the main window.
    auto *deleteKey = new QShortcut(QKeySequence::Delete, table);
    deleteKey->setContext(Qt::WidgetShortcut);
    connect(deleteKey, &QShortcut::activated, q, [this] { deleteSelected(); });
    connect(deleteButton, &QPushButton::clicked, q, [this] { deleteSelected(); });
    connect(clearButton, &QPushButton::clicked, q, [this] { clearAll(); });
    connect(resendButton, &QPushButton::clicked, q, [this] { resend(); });
    connect(saveButton, &QPushButton::clicked, q, [this] { saveCurrentAttachment(); });
    connect(attachments, &QListWidget::itemActivated, q, [this] { saveCurrentAttachment(); });
    connect(attachments, &QListWidget::currentRowChanged, q, [this] { updateButtons(); });
    connect(table->selectionModel(), &QItemSelectionModel::currentRowChanged, q, [this] { showSelected(); });
    connect(model, &QAbstractItemModel::modelReset, q, [this] { showSelected(); });
    connect(model, &QAbstractItemModel::rowsRemoved, q, [this] { showSelected(); });
    updateButtons();
}

void CapturePanel::Private::updateButtons()
{
    const bool selected = !shownId.isEmpty();
    deleteButton->setEnabled(selected);
    resendButton->setEnabled(selected);
    clearButton->setEnabled(model->rowCount() > 0);
    saveButton->setEnabled(attachments->currentRow() >= 0);
}

void CapturePanel::Private::showSelected()
{
    const QModelIndex current = table->selectionModel()->currentIndex();
    const QString id = current.isValid() ? current.data(CaptureListModel::IdRole).toString() : QString();
    if (id != shownId)
        showMessage(id);
    updateButtons();
}

void CapturePanel::Private::clearDetails()
{
    shownId.clear();
    parsed = ParsedMessage();
    htmlSource.clear();
    rawText.clear();
    headers->clear();
    text->clear();
    html->clear();
    attachments->clear();
    tree->clear();
    raw->clear();
}

void CapturePanel::Private::showMessage(const QString &id)
{
    clearDetails();
    const std::optional<Capture::StoredMessage> stored = store && !id.isEmpty() ? store->message(id) : std::nullopt;
    if (!stored)
        return;
    shownId = id;

    QFile file(stored->path);
    if (!file.open(QIODevice::ReadOnly)) {
        status->setText(tr("Cannot read %1: %2").arg(stored->path, file.errorString()));
        return;
    }
    QByteArray bytes;
    if (file.size() <= ParsedMessage::MaxInputSize)
        bytes = file.readAll();
    else
        bytes = file.read(RawLimit);
    const qint64 total = file.size();

    // Raw: bytes as received; Latin-1 keeps every byte visible one for one.
    rawText = QString::fromLatin1(bytes.left(RawLimit));
    if (total > RawLimit)
        rawText += tr("\n\n[Showing the first 1 MiB of %1 bytes; save or resend to use the whole message.]").arg(total);
    raw->setPlainText(rawText);

    QString error;
    if (total > ParsedMessage::MaxInputSize || !parsed.parse(bytes, &error)) {
        if (error.isEmpty())
            error = tr("Message of %1 bytes is larger than the %2 MiB that are parsed")
                        .arg(total)
                        .arg(ParsedMessage::MaxInputSize / (1024 * 1024));
        status->setText(tr("Only the raw source is shown: %1").arg(error));
        headers->setPlainText(error);
        return;
    }
    status->clear();

    QStringList headerLines;
    for (const auto &field : parsed.headers())
        headerLines << field.first + QStringLiteral(": ") + field.second;
    headers->setPlainText(headerLines.join(QLatin1Char('\n')));
    // Line ends as the widget shows them: a CR of CRLF would only add noise.
    text->setPlainText(QString(parsed.plainBody()).replace(QLatin1String("\r\n"), QLatin1String("\n")));

    htmlSource = parsed.htmlBody();
    html->resetBlockedCount();
    html->setHtml(htmlSource);
    htmlNote->setText(html->blockedCount() > 0
                          ? tr("%n outside resource(s) blocked: remote content is never loaded; links are not followed.",
                               nullptr, html->blockedCount())
                          : tr("Remote content is never loaded; links are not followed."));
    tabs->setTabEnabled(HtmlTab, !htmlSource.isEmpty());

    for (const ParsedPart *part : parsed.attachments()) {
        auto *item = new QListWidgetItem(parsed.attachmentName(part), attachments);
        item->setToolTip(tr("%1, %2").arg(part->contentType, QLocale().formattedDataSize(part->body.size())));
    }
    fillTree(parsed.root(), nullptr);
    tree->expandAll();
}

void CapturePanel::Private::fillTree(const ParsedPart &part, QTreeWidgetItem *parent)
{
    QStringList columns{part.contentType, part.filename, part.disposition, part.contentId,
                        part.isLeaf() ? QLocale().formattedDataSize(part.body.size()) : QString()};
    auto *item = parent ? new QTreeWidgetItem(parent, columns) : new QTreeWidgetItem(tree, columns);
    for (const ParsedPart &child : part.children)
        fillTree(child, item);
}

void CapturePanel::Private::deleteSelected()
{
    if (!store || shownId.isEmpty())
        return;
    QString error;
    if (!store->remove(shownId, &error))
        status->setText(tr("Could not delete the message: %1").arg(error));
}

void CapturePanel::Private::clearAll()
{
    if (!store || model->rowCount() == 0)
        return;
    if (confirmClear
        && QMessageBox::question(q, tr("Clear all captured messages"),
                                 tr("Delete all %n captured message(s)? This cannot be undone.", nullptr,
                                    model->rowCount()))
               != QMessageBox::Yes)
        return;
    QString error;
    if (!store->clear(&error))
        status->setText(tr("Could not clear the messages: %1").arg(error));
}

void CapturePanel::Private::resend()
{
    if (!store || shownId.isEmpty())
        return;
    if (const auto stored = store->message(shownId))
        Q_EMIT q->resendRequested(stored->path);
}

void CapturePanel::Private::saveCurrentAttachment()
{
    const QListWidgetItem *item = attachments->currentItem();
    if (!item)
        return;
    const QString name = item->text();
    // Only the file's base name is offered: a name from the message must not pick
    // the folder ("../../.bashrc").
    const QString suggested = QDir::home().filePath(QFileInfo(name).fileName());
    const QString path = QFileDialog::getSaveFileName(q, tr("Save attachment"), suggested);
    if (path.isEmpty())
        return;
    QString error;
    if (!q->saveAttachment(name, path, &error))
        status->setText(error);
    else
        status->setText(tr("Saved %1").arg(QDir::toNativeSeparators(path)));
}

CapturePanel::CapturePanel(QWidget *parent) : QWidget(parent), d(std::make_unique<Private>())
{
    d->q = this;
    setAccessibleName(tr("Captured messages"));
    d->build();
}

CapturePanel::~CapturePanel() = default;

void CapturePanel::setStore(Capture::MessageStore *store)
{
    d->store = store;
    d->model->setStore(store);
    d->showSelected();
}

void CapturePanel::setServerInfo(const QString &text)
{
    d->serverInfo->setText(text);
}

int CapturePanel::messageCount() const
{
    return d->model->rowCount();
}

void CapturePanel::selectMessage(const QString &id)
{
    const int row = d->model->rowOf(id);
    if (row < 0) {
        d->table->selectionModel()->clearCurrentIndex();
        d->table->clearSelection();
        return;
    }
    d->table->selectionModel()->setCurrentIndex(d->model->index(row, 0),
                                                QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

QString CapturePanel::selectedId() const
{
    return d->shownId;
}

QString CapturePanel::headersText() const
{
    return d->headers->toPlainText();
}

QString CapturePanel::plainText() const
{
    return d->text->toPlainText();
}

QString CapturePanel::htmlSource() const
{
    return d->htmlSource;
}

QString CapturePanel::rawText() const
{
    return d->rawText;
}

QString CapturePanel::mimeTreeText() const
{
    QStringList lines;
    std::function<void(const QTreeWidgetItem *, int)> walk = [&](const QTreeWidgetItem *item, int depth) {
        lines << QString(depth * 2, QLatin1Char(' ')) + item->text(0);
        for (int i = 0; i < item->childCount(); ++i)
            walk(item->child(i), depth + 1);
    };
    for (int i = 0; i < d->tree->topLevelItemCount(); ++i)
        walk(d->tree->topLevelItem(i), 0);
    return lines.join(QLatin1Char('\n'));
}

QStringList CapturePanel::attachmentNames() const
{
    QStringList names;
    for (int i = 0; i < d->attachments->count(); ++i)
        names << d->attachments->item(i)->text();
    return names;
}

bool CapturePanel::saveAttachment(const QString &name, const QString &path, QString *error) const
{
    auto fail = [error](const QString &text) {
        if (error)
            *error = text;
        return false;
    };
    const ParsedPart *found = nullptr;
    for (const ParsedPart *part : d->parsed.attachments()) {
        if (d->parsed.attachmentName(part) == name) {
            found = part;
            break;
        }
    }
    if (!found)
        return fail(tr("No attachment named \"%1\" in the selected message").arg(name));
    // QSaveFile: an interrupted save leaves the old file (or none), never half of it.
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return fail(tr("Cannot write %1: %2").arg(path, file.errorString()));
    if (file.write(found->body) != found->body.size() || !file.commit())
        return fail(tr("Cannot write %1: %2").arg(path, file.errorString()));
    return true;
}

void CapturePanel::setConfirmClear(bool confirm)
{
    d->confirmClear = confirm;
}
