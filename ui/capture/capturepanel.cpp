// The capture view. The list is a CaptureListModel over the store; selecting a
// row starts a job on the panel's worker thread that reads that message's .eml,
// parses it with ParsedMessage (core/mime) and prepares everything the tabs
// show, each view's text cut to a bound; the result comes back by a queued call
// and fills the tabs. So nothing on the GUI thread grows with the message: the
// read, the parse and the formatting are off it, and what the widgets get is
// bounded (raw source, texts, tree rows, attachment rows). A result for a
// message no longer selected is dropped (each selection has a generation
// number). The HTML tab is a SafeHtmlBrowser, whose only resource source is the
// parsed message's own parts (cid:).

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
#include <QRunnable>
#include <QSaveFile>
#include <QShortcut>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QThreadPool>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <atomic>
#include <functional>
#include <optional>

#include "capture/messagestore.h"
#include "capturelistmodel.h"
#include "live/peertext.h"
#include "mime/parsedmessage.h"
#include "safehtmlbrowser.h"

namespace {

// What the widgets are given at most. A QPlainTextEdit makes a text block per
// line (about 5 microseconds each) and shapes a whole line when it paints it, a
// QTextBrowser parses and lays out all its HTML, a QTreeWidget creates an item
// per row, all on the GUI thread: these keep each of them within a few tens of
// milliseconds whatever the message holds (up to 64 MiB,
// ParsedMessage::MaxInputSize). The whole message is one "Save raw..." away.
constexpr qint64 RawLimit = 1024 * 1024;        // bytes of raw source read for the view
constexpr qsizetype LineLimit = 2000;           // lines of raw source or text body
constexpr qsizetype LineLengthLimit = 2000;     // characters of one such line
constexpr qsizetype TextLimit = 1024 * 1024;    // characters of the text body
constexpr qsizetype HtmlLimit = 128 * 1024;     // characters of HTML rendered
constexpr qsizetype HeadersLimit = 256 * 1024;  // characters of header fields
constexpr qsizetype TreeRowLimit = 500;         // parts in the MIME tree
constexpr qsizetype AttachmentRowLimit = 1000;  // rows in the attachment list
constexpr qint64 CopyChunk = 1024 * 1024;

enum Tab { HeadersTab, TextTab, HtmlTab, AttachmentsTab, TreeTab, RawTab };

// Marks the list rows that stand for "more not shown" (not an attachment).
constexpr int MoreRole = Qt::UserRole + 1;
// The attachment's name as in the message (the row shows it by the escaping rule).
constexpr int NameRole = Qt::UserRole + 2;

QPlainTextEdit *readOnlyText(const QString &name, const QString &tip, QWidget *parent)
{
    auto *edit = new QPlainTextEdit(parent);
    edit->setReadOnly(true);
    edit->setAccessibleName(name);
    edit->setToolTip(tip);
    return edit;
}

QString tr(const char *text, const char *disambiguation = nullptr, int n = -1)
{
    // QCoreApplication::translate is thread-safe: the worker uses it too.
    return CapturePanel::tr(text, disambiguation, n);
}

// `text` cut to `limit` characters, with a note saying so.
QString bounded(const QString &text, qsizetype limit)
{
    if (text.size() <= limit)
        return text;
    return text.left(limit)
        + tr("\n\n[Showing the first %1 of %2 characters; save the raw message to read it whole.]")
              .arg(QLocale().toString(limit), QLocale().toString(text.size()));
}

// At most LineLimit lines of `text`, each cut to LineLengthLimit characters
// ("[+N characters]" says what is left out); *complete is false when lines were
// left out at the end.
QString someLines(QStringView text, bool *complete)
{
    QString out;
    qsizetype lines = 0;
    qsizetype pos = 0;
    *complete = true;
    while (pos < text.size() && lines < LineLimit) {
        qsizetype end = text.indexOf(QLatin1Char('\n'), pos);
        const bool last = end < 0;
        if (last)
            end = text.size();
        const qsizetype length = end - pos;
        if (length > LineLengthLimit) {
            *complete = false;
            out += text.mid(pos, LineLengthLimit);
            out += tr(" [+%1 characters]").arg(QLocale().toString(length - LineLengthLimit));
        } else {
            out += text.mid(pos, length);
        }
        if (!last)
            out += QLatin1Char('\n');
        pos = last ? end : end + 1;
        ++lines;
    }
    if (pos < text.size())
        *complete = false;
    return out;
}

// Everything the tabs show for one message, prepared on the worker thread.
struct Loaded
{
    QString id;
    quint64 generation = 0;
    CapturePanel::DetailState state = CapturePanel::DetailState::Empty;
    QString error;  // why only the raw source is shown
    QString reason; // the same for the state line
    bool notAMessage = false;
    QString raw;
    std::shared_ptr<const ParsedMessage> parsed;
    QString headers;
    QString plain;
    QString html;      // the whole HTML body (htmlSource())
    QString htmlShown; // what the browser renders
    struct Row
    {
        int depth = 0;
        QStringList columns;
    };
    QList<Row> tree;
    qsizetype parts = 0;
    struct Attachment
    {
        QString name;  // as in the message (for saving)
        QString shown; // by the escaping rule
        QString tip;
    };
    QList<Attachment> attachments;
    qsizetype attachmentCount = 0;
};

bool copyFile(const QString &from, const QString &to, QString *error)
{
    auto fail = [error](const QString &text) {
        if (error)
            *error = text;
        return false;
    };
    QFile in(from);
    if (!in.open(QIODevice::ReadOnly))
        return fail(tr("Cannot read %1: %2").arg(QDir::toNativeSeparators(from), in.errorString()));
    // QSaveFile: an interrupted save leaves the old file (or none), never half of it.
    QSaveFile out(to);
    if (!out.open(QIODevice::WriteOnly))
        return fail(tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(to), out.errorString()));
    QByteArray chunk;
    while (!(chunk = in.read(CopyChunk)).isEmpty()) {
        if (out.write(chunk) != chunk.size())
            return fail(tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(to), out.errorString()));
    }
    if (in.error() != QFileDevice::NoError)
        return fail(tr("Cannot read %1: %2").arg(QDir::toNativeSeparators(from), in.errorString()));
    if (!out.commit())
        return fail(tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(to), out.errorString()));
    return true;
}

// The worker's job: read, parse, prepare. Touches no widget and nothing of the
// panel; `latest` lets a job whose selection is already gone skip its work.
std::shared_ptr<Loaded> load(const QString &path, const QString &id, quint64 generation,
                             const std::shared_ptr<std::atomic<quint64>> &latest)
{
    auto out = std::make_shared<Loaded>();
    out->id = id;
    out->generation = generation;
    auto stale = [&] { return latest->load() != generation; };

    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        out->state = CapturePanel::DetailState::Unreadable;
        out->error = tr("Cannot read %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
        return out;
    }
    const qint64 total = file.size();
    QByteArray bytes = total <= ParsedMessage::MaxInputSize ? file.readAll() : file.read(RawLimit);
    if (file.error() != QFileDevice::NoError) {
        out->state = CapturePanel::DetailState::Unreadable;
        out->error = tr("Cannot read %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
        return out;
    }
    file.close();

    // Raw: bytes as received; Latin-1 keeps every byte visible one for one.
    bool complete = false;
    out->raw = someLines(QString::fromLatin1(bytes.left(RawLimit)), &complete);
    if (!complete || total > RawLimit)
        out->raw += tr("\n\n[Showing the beginning (%1 lines at most) of %2 bytes; use \"Save raw...\" to get the "
                       "whole message.]")
                        .arg(QLocale().toString(LineLimit), QLocale().toString(total));
    if (stale())
        return nullptr;

    auto parsed = std::make_shared<ParsedMessage>();
    QString error;
    if (total > ParsedMessage::MaxInputSize) {
        out->state = CapturePanel::DetailState::TooComplex;
        out->error = tr("Message of %1 bytes is larger than the %2 MiB that are parsed")
                         .arg(QLocale().toString(total))
                         .arg(ParsedMessage::MaxInputSize / (1024 * 1024));
        out->reason = tr("larger than the %1 MiB that are parsed").arg(ParsedMessage::MaxInputSize / (1024 * 1024));
        return out;
    }
    if (!parsed->parse(bytes, &error)) {
        out->state = CapturePanel::DetailState::TooComplex;
        out->notAMessage = parsed->errorKind() == ParsedMessage::ErrorKind::NotAMessage;
        out->error = error;
        out->reason = parsed->errorKind() == ParsedMessage::ErrorKind::TooComplex ? parsed->limitDescription() : error;
        return out;
    }
    bytes.clear();
    if (stale())
        return nullptr;

    // Field names and values, attachment names and the parts' parameters come
    // from the sender: shown by the escaping rule (live/peertext.h), one line
    // each. The bodies stay as written.
    QStringList headerLines;
    for (const auto &field : parsed->headers())
        headerLines << PeerText::value(field.first) + QStringLiteral(": ") + PeerText::value(field.second);
    out->headers = someLines(bounded(headerLines.join(QLatin1Char('\n')), HeadersLimit), &complete);
    if (!complete)
        out->headers += tr("\n\n[Long or many header fields are cut here; save the raw message to read them whole.]");
    // Line ends as the widget shows them: a CR of CRLF would only add noise.
    const QString plain = QString(parsed->plainBody()).replace(QLatin1String("\r\n"), QLatin1String("\n"));
    out->plain = someLines(QStringView(plain).left(TextLimit), &complete);
    if (!complete || plain.size() > TextLimit)
        out->plain += tr("\n\n[Showing the beginning (%1 lines at most) of %2 characters; save the raw message to read it "
                         "whole.]")
                          .arg(QLocale().toString(LineLimit), QLocale().toString(plain.size()));
    out->html = parsed->htmlBody();
    // Cut HTML renders as far as it goes; the note follows as text.
    out->htmlShown = out->html.size() <= HtmlLimit
        ? out->html
        : out->html.left(HtmlLimit)
            + tr("<hr><p>[The HTML body has %1 characters; the first %2 are shown.]</p>")
                  .arg(QLocale().toString(out->html.size()), QLocale().toString(HtmlLimit));

    const QList<const ParsedPart *> attachments = parsed->attachments();
    out->attachmentCount = attachments.size();
    for (const ParsedPart *part : attachments) {
        if (out->attachments.size() >= AttachmentRowLimit)
            break;
        const QString name = parsed->attachmentName(part);
        out->attachments.append({name, PeerText::value(name),
                                 tr("%1, %2").arg(PeerText::value(part->contentType),
                                                  QLocale().formattedDataSize(part->body.size()))});
    }
    const QList<const ParsedPart *> parts = parsed->allParts();
    out->parts = parts.size();
    for (const ParsedPart *part : parts) {
        if (out->tree.size() >= TreeRowLimit)
            break;
        out->tree.append({part->depth,
                          {PeerText::value(part->contentType), PeerText::value(part->filename),
                           PeerText::value(part->disposition), PeerText::value(part->contentId),
                           part->isLeaf() ? QLocale().formattedDataSize(part->body.size()) : QString()}});
    }
    out->parsed = std::move(parsed);
    out->state = CapturePanel::DetailState::Shown;
    return out;
}

} // namespace

struct CapturePanel::Private
{
    CapturePanel *q = nullptr;
    Capture::MessageStore *store = nullptr;
    bool confirmClear = true;

    QLabel *serverInfo = nullptr;
    QLabel *status = nullptr;
    CaptureListModel *model = nullptr;
    QTableView *table = nullptr;
    QLabel *stateLabel = nullptr;
    QPushButton *saveRawButton = nullptr;
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

    // One worker thread: jobs run in order, and one whose selection is gone
    // returns at once, so clicking through the list never queues real work.
    QThreadPool pool;
    quint64 generation = 0;
    std::shared_ptr<std::atomic<quint64>> latest = std::make_shared<std::atomic<quint64>>(0);

    QString shownId;
    QString shownPath;
    DetailState state = DetailState::Empty;
    std::shared_ptr<const ParsedMessage> parsed;
    QString htmlSource;
    QString rawText;

    void build();
    void showSelected();
    void showMessage(const QString &id);
    void apply(const std::shared_ptr<Loaded> &loaded);
    // Runs `step` on a later turn of the event loop, unless the selection changed.
    void later(std::function<void()> step);
    void fillLists(const Loaded &loaded);
    void clearDetails();
    void setState(DetailState next, const QString &line);
    void deleteSelected();
    void clearAll();
    void resend();
    void saveCurrentAttachment();
    void saveRaw();
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
    saveRawButton = new QPushButton(tr("Save raw..."), q);
    saveRawButton->setAccessibleName(tr("Save raw message"));
    saveRawButton->setToolTip(tr("Save the whole message file exactly as received"));
    buttons->addWidget(deleteButton);
    buttons->addWidget(clearButton);
    buttons->addStretch();
    buttons->addWidget(saveRawButton);
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

    auto *details = new QWidget(splitter);
    auto *detailsLayout = new QVBoxLayout(details);
    detailsLayout->setContentsMargins(0, 0, 0, 0);
    // The state line takes room only while it has something to say (loading,
    // too complex), so that the panel's minimum size stays as it was.
    stateLabel = new QLabel(details);
    stateLabel->setObjectName(QStringLiteral("captureState"));
    stateLabel->setWordWrap(true);
    stateLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    stateLabel->setAccessibleName(tr("Message state"));
    stateLabel->setToolTip(tr("Whether the selected message is loading, shown, or too complex to display"));
    stateLabel->hide();
    detailsLayout->addWidget(stateLabel);

    tabs = new QTabWidget(details);
    tabs->setAccessibleName(tr("Message details"));
    detailsLayout->addWidget(tabs, 1);

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
        const ParsedPart *part = parsed ? parsed->partByContentId(cid) : nullptr;
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

    raw = readOnlyText(tr("Raw message"),
                       tr("The message exactly as received (the first 1 MiB; \"Save raw...\" writes it whole)"), tabs);
    raw->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    raw->setLineWrapMode(QPlainTextEdit::NoWrap);
    tabs->addTab(raw, tr("Raw"));

    splitter->addWidget(table);
    splitter->addWidget(details);
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
    connect(saveRawButton, &QPushButton::clicked, q, [this] { saveRaw(); });
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
    const QListWidgetItem *current = attachments->currentItem();
    saveButton->setEnabled(current && !current->data(MoreRole).toBool());
    saveRawButton->setEnabled(selected);
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
    shownPath.clear();
    parsed.reset();
    htmlSource.clear();
    rawText.clear();
    headers->clear();
    text->clear();
    html->clear();
    attachments->clear();
    tree->clear();
    raw->clear();
    status->clear();
    tabs->setTabEnabled(HtmlTab, true);
    setState(DetailState::Empty, QString());
}

void CapturePanel::Private::setState(DetailState next, const QString &line)
{
    state = next;
    stateLabel->setText(line);
    stateLabel->setVisible(!line.isEmpty());
}

void CapturePanel::Private::showMessage(const QString &id)
{
    clearDetails();
    // A job still running for the previous selection finds itself stale.
    latest->store(++generation);
    const std::optional<Capture::StoredMessage> stored = store && !id.isEmpty() ? store->message(id) : std::nullopt;
    if (!stored)
        return;
    shownId = id;
    shownPath = stored->path;
    setState(DetailState::Loading,
             tr("Loading the message (%1)...").arg(QLocale().formattedDataSize(stored->size)));
    const quint64 mine = generation;
    const QString path = stored->path;
    const std::shared_ptr<std::atomic<quint64>> shared = latest;
    pool.start(QRunnable::create([this, path, id, mine, shared] {
        // On the worker thread.
        std::shared_ptr<Loaded> loaded = load(path, id, mine, shared);
        if (!loaded)
            return; // stale: nobody waits for it
        // Back on the GUI thread (the panel waits for this thread before it goes).
        QMetaObject::invokeMethod(
            q, [this, loaded] { apply(loaded); }, Qt::QueuedConnection);
    }));
}

// On the GUI thread: only setting prepared, bounded contents, one view per
// turn of the event loop so that no single step holds the thread long.
void CapturePanel::Private::apply(const std::shared_ptr<Loaded> &loaded)
{
    if (loaded->generation != generation)
        return; // another message was selected meanwhile
    rawText = loaded->raw;
    raw->setPlainText(rawText);
    if (loaded->state != DetailState::Shown) {
        QString what;
        if (loaded->state == DetailState::Unreadable)
            what = tr("The message file could not be read: %1").arg(loaded->error);
        else if (loaded->notAMessage)
            what = tr("Not a message that can be displayed: %1. Only the raw source is shown (its beginning); "
                      "\"Save raw...\" writes the whole file.")
                       .arg(loaded->reason);
        else
            what = tr("Too complex to display: %1. Only the raw source is shown (its beginning); "
                      "\"Save raw...\" writes the whole message.")
                       .arg(loaded->reason);
        setState(loaded->state, what);
        status->setText(tr("Only the raw source is shown: %1").arg(loaded->error));
        headers->setPlainText(loaded->error);
        tabs->setCurrentIndex(RawTab);
        updateButtons();
        Q_EMIT q->messageShown(loaded->id);
        return;
    }
    parsed = loaded->parsed;
    headers->setPlainText(loaded->headers);
    later([this, loaded] {
        text->setPlainText(loaded->plain);
        later([this, loaded] {
            htmlSource = loaded->html;
            html->resetBlockedCount();
            html->setHtml(loaded->htmlShown);
            htmlNote->setText(html->blockedCount() > 0
                                  ? tr("%n outside resource(s) blocked: remote content is never loaded; links are not "
                                       "followed.",
                                       nullptr, html->blockedCount())
                                  : tr("Remote content is never loaded; links are not followed."));
            tabs->setTabEnabled(HtmlTab, !htmlSource.isEmpty());
            later([this, loaded] { fillLists(*loaded); });
        });
    });
}

void CapturePanel::Private::later(std::function<void()> step)
{
    QMetaObject::invokeMethod(
        q,
        [this, mine = generation, step = std::move(step)] {
            if (mine == generation)
                step();
        },
        Qt::QueuedConnection);
}

void CapturePanel::Private::fillLists(const Loaded &loaded)
{
    for (const Loaded::Attachment &a : loaded.attachments) {
        auto *item = new QListWidgetItem(a.shown, attachments);
        item->setData(NameRole, a.name);
        item->setToolTip(a.tip);
    }
    if (loaded.attachmentCount > loaded.attachments.size()) {
        auto *more = new QListWidgetItem(tr("... and %n more file(s), not listed", nullptr,
                                            int(loaded.attachmentCount - loaded.attachments.size())),
                                         attachments);
        more->setData(MoreRole, true);
        more->setFlags(Qt::NoItemFlags);
    }

    // Rows come depth first: each one's parent is the last row one level up.
    QList<QTreeWidgetItem *> open;
    for (const Loaded::Row &row : loaded.tree) {
        open.resize(std::min<qsizetype>(row.depth, open.size()));
        auto *item = open.isEmpty() ? new QTreeWidgetItem(tree, row.columns)
                                    : new QTreeWidgetItem(open.constLast(), row.columns);
        open.append(item);
    }
    if (loaded.parts > loaded.tree.size())
        new QTreeWidgetItem(tree, {tr("... %n more part(s), not shown", nullptr, int(loaded.parts - loaded.tree.size()))});
    tree->expandAll();
    setState(DetailState::Shown, QString());
    updateButtons();
    Q_EMIT q->messageShown(loaded.id);
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
    if (!item || item->data(MoreRole).toBool())
        return;
    const QString name = item->data(NameRole).toString();
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

void CapturePanel::Private::saveRaw()
{
    if (shownPath.isEmpty())
        return;
    const QString suggested = QDir::home().filePath(QFileInfo(shownPath).fileName());
    const QString path = QFileDialog::getSaveFileName(q, tr("Save raw message"), suggested,
                                                      tr("Messages (*.eml);;All files (*)"));
    if (path.isEmpty())
        return;
    // Up to 64 MiB: copied on the worker thread, the result back as a status line.
    status->setText(tr("Saving %1...").arg(QDir::toNativeSeparators(path)));
    const QString from = shownPath;
    pool.start(QRunnable::create([this, from, path] {
        QString error;
        const bool ok = copyFile(from, path, &error);
        QMetaObject::invokeMethod(
            q,
            [this, ok, error, path] {
                status->setText(ok ? tr("Saved %1").arg(QDir::toNativeSeparators(path)) : error);
            },
            Qt::QueuedConnection);
    }));
}

CapturePanel::CapturePanel(QWidget *parent) : QWidget(parent), d(std::make_unique<Private>())
{
    d->q = this;
    setAccessibleName(tr("Captured messages"));
    d->build();
}

CapturePanel::~CapturePanel()
{
    // A job holds the panel's address for its queued result: none may outlive it.
    d->latest->store(0);
    d->pool.clear();
    d->pool.waitForDone();
}

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

CapturePanel::DetailState CapturePanel::detailState() const
{
    return d->state;
}

QString CapturePanel::stateText() const
{
    return d->stateLabel->text();
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
    for (int i = 0; i < d->attachments->count(); ++i) {
        if (!d->attachments->item(i)->data(MoreRole).toBool())
            names << d->attachments->item(i)->data(NameRole).toString();
    }
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
    const QList<const ParsedPart *> parts = d->parsed ? d->parsed->attachments() : QList<const ParsedPart *>();
    for (const ParsedPart *part : parts) {
        if (d->parsed->attachmentName(part) == name) {
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

bool CapturePanel::saveRawMessage(const QString &path, QString *error) const
{
    if (d->shownPath.isEmpty()) {
        if (error)
            *error = tr("No message is selected");
        return false;
    }
    return copyFile(d->shownPath, path, error);
}

void CapturePanel::setConfirmClear(bool confirm)
{
    d->confirmClear = confirm;
}
