#include "composerwidget.h"

#include "addresslistparser.h"
#include "mime/emlmessage.h"
#include "mime/message.h"
#include "mime/messagefile.h"
#include "wirepreviewdialog.h"

#include <QAction>
#include <QCheckBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QMimeData>
#include <QMimeDatabase>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QRegularExpression>
#include <QScopedValueRollback>
#include <QSet>
#include <QStyle>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>

#include <array>
#include <functional>

// How it works
// ------------
// The widgets hold the message; nothing else does. problem() and buildMessage()
// make a fresh core Message from the fields every time, so core's
// checkSendPossible() is the only judge of what may be sent. Typing restarts a
// short timer; when it fires the address fields are checked one by one (to put
// the reason next to the right field) and problemChanged() is emitted if the
// overall problem changed.
//
// After openEml() the loaded EmlMessage is what gets sent, byte for byte (minus
// Bcc, which core strips, RFC 5322 3.6.3), until the user edits anything: from
// then on the message is composed from the fields like any other. A note at the
// top says which of the two will be sent.

namespace {

constexpr int kValidateDelayMs = 300;
constexpr qint64 kPreviewMaxBytes = 256 * 1024;
// Reading an opened file for display only: bounded, the file itself is streamed
// by EmlMessage when sent.
constexpr qint64 kMaxHeaderBlock = 1024 * 1024;
constexpr qint64 kMaxShownBody = 1024 * 1024;

enum AddressField { FromField, ToField, CcField, BccField, AddressFieldCount };

const std::array<const char *, AddressFieldCount> kFieldKeys = {"from", "to", "cc", "bcc"};
const std::array<const char *, AddressFieldCount> kFieldLabels = {"From", "To", "Cc", "Bcc"};

// A red that stays readable on the window background of both light and dark
// palettes (a dark red on light windows, a light red on dark ones).
QColor errorColor(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightness() < 128 ? QColor(255, 128, 128) : QColor(176, 0, 32);
}

QColor mix(const QColor &a, const QColor &b, qreal t)
{
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t), float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}

bool isLocalFileDrop(const QMimeData *mime)
{
    if (!mime || !mime->hasUrls())
        return false;
    const QList<QUrl> urls = mime->urls();
    return std::any_of(urls.begin(), urls.end(), [](const QUrl &u) { return u.isLocalFile(); });
}

// Drops of files anywhere on the composer become attachments (also over the text
// fields, which would otherwise paste the file's URL as text); Delete in the
// attachment list removes the selection.
class ComposerEventFilter : public QObject
{
public:
    ComposerEventFilter(std::function<void(const QList<QUrl> &)> drop, std::function<void()> deleteKey,
                        std::function<void()> paletteChanged, QObject *parent)
        : QObject(parent), m_drop(std::move(drop)), m_deleteKey(std::move(deleteKey)),
          m_paletteChanged(std::move(paletteChanged))
    {
    }

    QWidget *deleteTarget = nullptr;
    QWidget *paletteTarget = nullptr;

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        switch (event->type()) {
        case QEvent::DragEnter:
        case QEvent::DragMove: {
            auto *e = static_cast<QDragMoveEvent *>(event);
            if (!isLocalFileDrop(e->mimeData()))
                return false;
            e->acceptProposedAction();
            return true;
        }
        case QEvent::Drop: {
            auto *e = static_cast<QDropEvent *>(event);
            if (!isLocalFileDrop(e->mimeData()))
                return false;
            m_drop(e->mimeData()->urls());
            e->acceptProposedAction();
            return true;
        }
        case QEvent::KeyPress:
            if (watched == deleteTarget && static_cast<QKeyEvent *>(event)->key() == Qt::Key_Delete) {
                m_deleteKey();
                return true;
            }
            return false;
        case QEvent::PaletteChange:
            if (watched == paletteTarget)
                m_paletteChanged();
            return false;
        default:
            return false;
        }
    }

private:
    std::function<void(const QList<QUrl> &)> m_drop;
    std::function<void()> m_deleteKey;
    std::function<void()> m_paletteChanged;
};

// What the composer shows of an opened file, read from its header block as text
// (display only: what is sent is EmlMessage's business).
struct EmlView
{
    QList<QPair<QByteArray, QByteArray>> fields; // lower-case name, unfolded value
    bool bodyShown = false;
    QString body;
    QString bodyNote; // why the body is not shown
};

QByteArray fieldValue(const EmlView &view, const char *name)
{
    QList<QByteArray> values;
    for (const auto &[n, v] : view.fields) {
        if (n == name)
            values.append(v.trimmed());
    }
    return values.join(", ");
}

EmlView readEmlView(const QString &path)
{
    EmlView view;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        view.bodyNote = QObject::tr("the body could not be read: sent unchanged");
        return view;
    }
    // RFC 5322 2.2.3: a line starting with white space continues the field before.
    qint64 headerBytes = 0;
    bool headerEnded = false;
    while (!file.atEnd() && headerBytes < kMaxHeaderBlock) {
        QByteArray line = file.readLine(kMaxHeaderBlock);
        headerBytes += line.size();
        while (line.endsWith('\n') || line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty()) {
            headerEnded = true;
            break;
        }
        if ((line.startsWith(' ') || line.startsWith('\t')) && !view.fields.isEmpty()) {
            view.fields.last().second += ' ' + line.trimmed();
            continue;
        }
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            view.fields.append({line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed()});
    }
    if (!headerEnded) {
        view.bodyNote = QObject::tr("no body found: sent unchanged");
        return view;
    }

    // Show the body only when it is a single text part whose bytes are the text
    // (RFC 2045 6.2: 7bit/8bit are identity encodings; RFC 2046 4.1.2 charset).
    const QByteArray type = fieldValue(view, "content-type").toLower();
    const QByteArray encoding = fieldValue(view, "content-transfer-encoding").toLower().trimmed();
    if (type.startsWith("multipart/")) {
        view.bodyNote = QObject::tr("multipart message: sent unchanged (its parts are not shown)");
        return view;
    }
    if (!type.isEmpty() && !type.startsWith("text/plain")) {
        view.bodyNote = QObject::tr("%1 body: sent unchanged").arg(QString::fromLatin1(type.split(';').first()));
        return view;
    }
    if (!encoding.isEmpty() && encoding != "7bit" && encoding != "8bit") {
        view.bodyNote = QObject::tr("%1-encoded body: sent unchanged").arg(QString::fromLatin1(encoding));
        return view;
    }
    static const QRegularExpression charsetRe(QStringLiteral("charset\\s*=\\s*\"?([^\";\\s]+)"));
    const QRegularExpressionMatch match = charsetRe.match(QString::fromLatin1(type));
    const QString charset = match.hasMatch() ? match.captured(1) : QStringLiteral("us-ascii");
    const bool utf8 = charset == QLatin1String("utf-8") || charset == QLatin1String("us-ascii");
    const bool latin1 = charset == QLatin1String("iso-8859-1") || charset == QLatin1String("latin1");
    if (!utf8 && !latin1) {
        view.bodyNote = QObject::tr("body in %1: sent unchanged").arg(charset);
        return view;
    }
    QByteArray body = file.read(kMaxShownBody + 1);
    if (body.size() > kMaxShownBody) {
        view.bodyNote = QObject::tr("body larger than %1: sent unchanged")
                                .arg(QLocale().formattedDataSize(kMaxShownBody));
        return view;
    }
    body.replace("\r\n", "\n");
    view.body = utf8 ? QString::fromUtf8(body) : QString::fromLatin1(body);
    view.bodyShown = true;
    return view;
}

} // namespace

struct ComposerWidget::Private
{
    ComposerWidget *q = nullptr;

    std::array<QLineEdit *, AddressFieldCount> address{};
    std::array<QLabel *, AddressFieldCount> reason{};
    std::array<QAction *, AddressFieldCount> warning{};
    QLineEdit *subject = nullptr;
    QPlainTextEdit *text = nullptr;
    QPlainTextEdit *html = nullptr;
    QLabel *bodyNote = nullptr;
    QTabWidget *tabs = nullptr;
    QWidget *attachmentsTab = nullptr;
    QWidget *headersTab = nullptr;
    QTreeWidget *attachments = nullptr;
    QTableWidget *headers = nullptr;
    QCheckBox *important = nullptr;
    QCheckBox *readReceipt = nullptr;
    QCheckBox *deliveryReceipt = nullptr;
    QLabel *emlNote = nullptr;
    QTimer validateTimer;
    QString lastProblem;
    QPointer<WirePreviewDialog> preview;

    // The opened file, sent as it is while emlUnedited.
    std::shared_ptr<EmlMessage> eml;
    bool emlUnedited = false;
    bool emlBodyShown = false;
    bool emlRecipientsMerged = false;
    bool filling = false;   // fields being set by openEml(): not an edit
    bool restoring = false; // setState(): edits, but not the user's (no changed())

    // Why the address field cannot be used, or empty.
    QString fieldProblem(int field, QList<AddressListParser::Entry> *entries = nullptr) const
    {
        QList<AddressListParser::Entry> parsed;
        QString error;
        const QString label = QString::fromLatin1(kFieldLabels[size_t(field)]);
        if (!AddressListParser::parse(address[size_t(field)]->text(), &parsed, &error))
            return QStringLiteral("%1: %2").arg(label, error);
        // RFC 5321 3.3: one reverse-path. (RFC 5322 3.6.2 would allow several
        // authors with a Sender field; the composer keeps to the common case.)
        if (field == FromField && parsed.size() > 1)
            return QStringLiteral("From: give one sender address, not %1").arg(parsed.size());
        for (const AddressListParser::Entry &e : std::as_const(parsed)) {
            const QString why = AddressListParser::validateAddress(e.mailbox, label);
            if (!why.isEmpty()) {
                const QString shown = e.mailbox.address.isEmpty() ? e.source : e.mailbox.address;
                return QStringLiteral("%1: \"%2\" is not a valid address (%3)").arg(label, shown, why);
            }
        }
        if (entries)
            *entries = parsed;
        return {};
    }

    // A Message from the fields, or nullptr and *problem.
    std::shared_ptr<Message> compose(QString *problem) const
    {
        std::array<QList<AddressListParser::Entry>, AddressFieldCount> lists;
        for (int f = 0; f < AddressFieldCount; ++f) {
            const QString why = fieldProblem(f, &lists[size_t(f)]);
            if (!why.isEmpty()) {
                *problem = why;
                return nullptr;
            }
        }
        const auto &from = lists[FromField];
        const QString sender = from.isEmpty() ? QString() : from.first().mailbox.address;
        auto m = std::make_shared<Message>(sender, subject->text());
        if (!from.isEmpty())
            m->setFrom(sender, from.first().mailbox.displayName);
        for (const auto &e : lists[ToField])
            m->addTo(e.mailbox.address, e.mailbox.displayName);
        for (const auto &e : lists[CcField])
            m->addCc(e.mailbox.address, e.mailbox.displayName);
        // RFC 5322 3.6.3: Bcc recipients get the message but core keeps the
        // field out of the transmitted headers.
        for (const auto &e : lists[BccField])
            m->addBcc(e.mailbox.address, e.mailbox.displayName);
        m->setText(text->toPlainText());
        if (!html->toPlainText().isEmpty())
            m->setHtml(html->toPlainText());
        for (int i = 0; i < attachments->topLevelItemCount(); ++i)
            m->attachFile(attachments->topLevelItem(i)->data(0, Qt::UserRole).toString());
        for (int r = 0; r < headers->rowCount(); ++r) {
            const QTableWidgetItem *n = headers->item(r, 0);
            const QTableWidgetItem *v = headers->item(r, 1);
            const QString name = n ? n->text().trimmed() : QString();
            const QString value = v ? v->text() : QString();
            if (name.isEmpty() && value.isEmpty())
                continue; // a row just added and not filled yet
            m->addHeader(name, value);
        }
        m->important(important->isChecked());
        m->requestReadReceipt(readReceipt->isChecked());
        m->requestDeliveryReceipt(deliveryReceipt->isChecked());

        if (const SmtpError e = m->checkSendPossible(); e.isError()) {
            *problem = e.message;
            return nullptr;
        }
        return m;
    }

    std::shared_ptr<OutgoingMessage> build(QString *problem) const
    {
        QString why;
        std::shared_ptr<OutgoingMessage> result;
        if (eml && emlUnedited) {
            if (const SmtpError e = eml->checkSendPossible(); e.isError())
                why = e.message;
            else
                result = eml;
        } else {
            result = compose(&why);
        }
        if (problem)
            *problem = why;
        return result;
    }

    void updateFieldDisplay()
    {
        const QColor bad = errorColor(q->palette());
        for (int f = 0; f < AddressFieldCount; ++f) {
            QLineEdit *edit = address[size_t(f)];
            QLabel *label = reason[size_t(f)];
            const QString why = fieldProblem(f);
            label->setText(why);
            label->setVisible(!why.isEmpty());
            warning[size_t(f)]->setVisible(!why.isEmpty());
            warning[size_t(f)]->setToolTip(why);
            edit->setAccessibleDescription(why);
            if (why.isEmpty()) {
                edit->setPalette(QPalette()); // inherit again
            } else {
                // A tint of the theme's own base colour: the text keeps its
                // contrast in light and dark palettes.
                QPalette p = q->palette();
                p.setColor(QPalette::Base, mix(p.color(QPalette::Base), bad, 0.22));
                edit->setPalette(p);
            }
            QPalette lp = q->palette();
            lp.setColor(QPalette::WindowText, bad);
            label->setPalette(lp);
        }
    }

    void refresh()
    {
        validateTimer.stop();
        updateFieldDisplay();
        QString now;
        (void)build(&now);
        if (now != lastProblem) {
            lastProblem = now;
            Q_EMIT q->problemChanged(now);
        }
    }

    void updateEmlNote()
    {
        if (!eml) {
            emlNote->hide();
            bodyNote->hide();
            return;
        }
        const QString name = QFileInfo(eml->path()).fileName();
        QString note;
        if (emlUnedited) {
            note = tr("Sending the opened file %1 unchanged (Bcc removed). Editing any field composes a new "
                      "message from the fields instead.")
                           .arg(name);
            if (emlRecipientsMerged)
                note += tr(" The file's To, Cc and Bcc could not be told apart: all its recipients are shown in To.");
        } else {
            note = tr("Composing a new message from the fields: the opened file %1 is no longer sent as it is.")
                           .arg(name);
            if (!emlBodyShown)
                note += tr(" Its body and attachments are not included.");
        }
        emlNote->setText(note);
        emlNote->show();
        bodyNote->setVisible(!emlBodyShown && emlUnedited);
    }

    void edited()
    {
        if (filling)
            return;
        if (eml && emlUnedited) {
            emlUnedited = false;
            updateEmlNote();
        }
        validateTimer.start();
        if (!restoring)
            Q_EMIT q->changed();
    }

    void updateTabTitles()
    {
        tabs->setTabText(tabs->indexOf(attachmentsTab),
                         tr("Attachments (%1)").arg(attachments->topLevelItemCount()));
        tabs->setTabText(tabs->indexOf(headersTab), tr("Headers (%1)").arg(headers->rowCount()));
    }

    void addAttachment(const QString &path)
    {
        const QFileInfo fi(path);
        const QString absolute = fi.absoluteFilePath();
        for (int i = 0; i < attachments->topLevelItemCount(); ++i) {
            if (attachments->topLevelItem(i)->data(0, Qt::UserRole).toString() == absolute)
                return; // already attached
        }
        auto *item = new QTreeWidgetItem(attachments);
        item->setData(0, Qt::UserRole, absolute);
        item->setText(0, fi.fileName());
        item->setToolTip(0, QDir::toNativeSeparators(absolute));
        // The same lookup core does when it writes Content-Type (RFC 2045 5).
        item->setText(1, QMimeDatabase().mimeTypeForFile(fi).name());
        item->setText(2, fi.isFile() ? QLocale().formattedDataSize(fi.size()) : tr("not a readable file"));
        item->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
        updateTabTitles();
        edited();
    }

    void removeSelectedAttachments()
    {
        const QList<QTreeWidgetItem *> selected = attachments->selectedItems();
        if (selected.isEmpty())
            return;
        qDeleteAll(selected);
        updateTabTitles();
        edited();
    }

    void addHeaderRow(const QString &name, const QString &value)
    {
        const int row = headers->rowCount();
        headers->insertRow(row);
        headers->setItem(row, 0, new QTableWidgetItem(name));
        headers->setItem(row, 1, new QTableWidgetItem(value));
        updateTabTitles();
        edited();
    }

    void removeSelectedHeaders()
    {
        QList<int> rows;
        for (const QModelIndex &i : headers->selectionModel()->selectedRows())
            rows.append(i.row());
        if (rows.isEmpty() && headers->currentRow() >= 0)
            rows.append(headers->currentRow());
        std::sort(rows.begin(), rows.end(), std::greater<>());
        for (int r : rows)
            headers->removeRow(r);
        updateTabTitles();
        edited();
    }

    static QString tr(const char *text) { return ComposerWidget::tr(text); }
};

ComposerWidget::ComposerWidget(QWidget *parent) : QWidget(parent), d(std::make_unique<Private>())
{
    d->q = this;
    setAccessibleName(tr("Message composer"));
    setAcceptDrops(true);

    d->emlNote = new QLabel(this);
    d->emlNote->setObjectName(QStringLiteral("emlNote"));
    d->emlNote->setAccessibleName(tr("Opened message file"));
    d->emlNote->setWordWrap(true);
    d->emlNote->setFrameShape(QFrame::StyledPanel);
    d->emlNote->setMargin(4);
    d->emlNote->hide();

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    const std::array<QString, AddressFieldCount> placeholders = {
        tr("Your Name <you@example.org>"),
        tr("bob@example.org, \"Doe, John\" <john@example.org>"),
        tr("Copy to (visible to all recipients)"),
        tr("Blind copy (not shown in the sent headers)"),
    };
    const std::array<QString, AddressFieldCount> tips = {
        tr("The sender: the From header and the envelope sender (MAIL FROM)"),
        tr("Recipients, separated by commas; quote a name that contains a comma"),
        tr("Copy recipients, separated by commas"),
        tr("Blind copy recipients: they get the message, but the Bcc header is never sent (RFC 5322 3.6.3)"),
    };
    const QIcon warnIcon = style()->standardIcon(QStyle::SP_MessageBoxWarning);
    for (int f = 0; f < AddressFieldCount; ++f) {
        const QString key = QString::fromLatin1(kFieldKeys[size_t(f)]);
        const QString label = QString::fromLatin1(kFieldLabels[size_t(f)]);
        auto *edit = new QLineEdit(this);
        edit->setObjectName(key + QStringLiteral("Edit"));
        edit->setAccessibleName(label);
        edit->setPlaceholderText(placeholders[size_t(f)]);
        edit->setToolTip(tips[size_t(f)]);
        edit->setClearButtonEnabled(true);
        QAction *warn = edit->addAction(warnIcon, QLineEdit::TrailingPosition);
        warn->setVisible(false);
        auto *reason = new QLabel(this);
        reason->setObjectName(key + QStringLiteral("Reason"));
        reason->setAccessibleName(tr("%1 problem").arg(label));
        reason->setWordWrap(true);
        reason->setTextInteractionFlags(Qt::TextSelectableByMouse);
        reason->hide();
        auto *box = new QVBoxLayout;
        box->setContentsMargins(0, 0, 0, 0);
        box->setSpacing(2);
        box->addWidget(edit);
        box->addWidget(reason);
        form->addRow(tr("%1:").arg(label), box);
        d->address[size_t(f)] = edit;
        d->reason[size_t(f)] = reason;
        d->warning[size_t(f)] = warn;
        connect(edit, &QLineEdit::textChanged, this, [this]() { d->edited(); });
    }
    d->subject = new QLineEdit(this);
    d->subject->setObjectName(QStringLiteral("subjectEdit"));
    d->subject->setAccessibleName(tr("Subject"));
    form->addRow(tr("Subject:"), d->subject);
    connect(d->subject, &QLineEdit::textChanged, this, [this]() { d->edited(); });

    auto *options = new QHBoxLayout;
    d->important = new QCheckBox(tr("Important"), this);
    d->important->setObjectName(QStringLiteral("importantCheck"));
    d->important->setAccessibleName(tr("Important"));
    d->important->setToolTip(tr("Mark as high priority (Importance: high, X-Priority: 1, Priority: urgent)"));
    d->readReceipt = new QCheckBox(tr("Request read receipt"), this);
    d->readReceipt->setObjectName(QStringLiteral("readReceiptCheck"));
    d->readReceipt->setAccessibleName(tr("Request read receipt"));
    d->readReceipt->setToolTip(tr("Ask the reader's program to confirm it was read "
                                  "(Disposition-Notification-To, RFC 8098); many ignore it"));
    d->deliveryReceipt = new QCheckBox(tr("Request delivery receipt"), this);
    d->deliveryReceipt->setObjectName(QStringLiteral("deliveryReceiptCheck"));
    d->deliveryReceipt->setAccessibleName(tr("Request delivery receipt"));
    d->deliveryReceipt->setToolTip(tr("Add Return-Receipt-To: a non-standard request that only some servers "
                                      "honour"));
    for (QCheckBox *c : {d->important, d->readReceipt, d->deliveryReceipt}) {
        options->addWidget(c);
        connect(c, &QCheckBox::toggled, this, [this]() { d->edited(); });
    }
    options->addStretch(1);

    d->tabs = new QTabWidget(this);
    d->tabs->setObjectName(QStringLiteral("composerTabs"));
    d->tabs->setAccessibleName(tr("Message parts"));

    auto *textTab = new QWidget(d->tabs);
    auto *textLayout = new QVBoxLayout(textTab);
    d->bodyNote = new QLabel(textTab);
    d->bodyNote->setObjectName(QStringLiteral("bodyNote"));
    d->bodyNote->setAccessibleName(tr("Body note"));
    d->bodyNote->setWordWrap(true);
    d->bodyNote->hide();
    d->text = new QPlainTextEdit(textTab);
    d->text->setObjectName(QStringLiteral("textEdit"));
    d->text->setAccessibleName(tr("Plain text body"));
    d->text->setToolTip(tr("The plain text body; lines are sent with CR LF ends"));
    textLayout->addWidget(d->bodyNote);
    textLayout->addWidget(d->text, 1);
    d->tabs->addTab(textTab, tr("Text"));

    auto *htmlTab = new QWidget(d->tabs);
    auto *htmlLayout = new QVBoxLayout(htmlTab);
    auto *htmlHint = new QLabel(tr("HTML source. When not empty, the message carries both bodies as "
                                   "multipart/alternative (RFC 2046 5.1.4)."),
                                htmlTab);
    htmlHint->setWordWrap(true);
    htmlHint->setAccessibleName(tr("HTML body hint"));
    d->html = new QPlainTextEdit(htmlTab);
    d->html->setObjectName(QStringLiteral("htmlEdit"));
    d->html->setAccessibleName(tr("HTML body source"));
    d->html->setToolTip(tr("HTML source of the alternative body; leave empty for plain text only"));
    d->html->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    htmlLayout->addWidget(htmlHint);
    htmlLayout->addWidget(d->html, 1);
    d->tabs->addTab(htmlTab, tr("HTML"));

    d->attachmentsTab = new QWidget(d->tabs);
    auto *attLayout = new QVBoxLayout(d->attachmentsTab);
    d->attachments = new QTreeWidget(d->attachmentsTab);
    d->attachments->setObjectName(QStringLiteral("attachmentList"));
    d->attachments->setAccessibleName(tr("Attachments"));
    d->attachments->setToolTip(tr("Files sent with the message; drop files on the composer to add them, "
                                  "Delete removes the selected ones"));
    d->attachments->setHeaderLabels({tr("Name"), tr("Type"), tr("Size")});
    d->attachments->setRootIsDecorated(false);
    d->attachments->setSelectionMode(QAbstractItemView::ExtendedSelection);
    d->attachments->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    auto *attButtons = new QHBoxLayout;
    auto *addAtt = new QPushButton(tr("Add..."), d->attachmentsTab);
    addAtt->setObjectName(QStringLiteral("addAttachmentButton"));
    addAtt->setAccessibleName(tr("Add attachments"));
    addAtt->setToolTip(tr("Choose files to attach"));
    auto *removeAtt = new QPushButton(tr("Remove"), d->attachmentsTab);
    removeAtt->setObjectName(QStringLiteral("removeAttachmentButton"));
    removeAtt->setAccessibleName(tr("Remove attachments"));
    removeAtt->setToolTip(tr("Remove the selected attachments (Delete)"));
    attButtons->addWidget(addAtt);
    attButtons->addWidget(removeAtt);
    attButtons->addStretch(1);
    attLayout->addWidget(d->attachments, 1);
    attLayout->addLayout(attButtons);
    d->tabs->addTab(d->attachmentsTab, QString());
    connect(addAtt, &QPushButton::clicked, this, [this]() {
        const QStringList files = QFileDialog::getOpenFileNames(this, tr("Attach files"));
        for (const QString &f : files)
            d->addAttachment(f);
    });
    connect(removeAtt, &QPushButton::clicked, this, [this]() { d->removeSelectedAttachments(); });

    d->headersTab = new QWidget(d->tabs);
    auto *hdrLayout = new QVBoxLayout(d->headersTab);
    d->headers = new QTableWidget(0, 2, d->headersTab);
    d->headers->setObjectName(QStringLiteral("customHeaders"));
    d->headers->setAccessibleName(tr("Custom headers"));
    d->headers->setToolTip(tr("Extra header fields (name, value), e.g. X-Mailer; From, To, Subject and "
                              "Content-* are set by the composer"));
    d->headers->setHorizontalHeaderLabels({tr("Name"), tr("Value")});
    d->headers->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    d->headers->setSelectionBehavior(QAbstractItemView::SelectRows);
    auto *hdrButtons = new QHBoxLayout;
    auto *addHdr = new QPushButton(tr("Add header"), d->headersTab);
    addHdr->setObjectName(QStringLiteral("addHeaderButton"));
    addHdr->setAccessibleName(tr("Add header"));
    auto *removeHdr = new QPushButton(tr("Remove header"), d->headersTab);
    removeHdr->setObjectName(QStringLiteral("removeHeaderButton"));
    removeHdr->setAccessibleName(tr("Remove header"));
    removeHdr->setToolTip(tr("Remove the selected header rows"));
    hdrButtons->addWidget(addHdr);
    hdrButtons->addWidget(removeHdr);
    hdrButtons->addStretch(1);
    hdrLayout->addWidget(d->headers, 1);
    hdrLayout->addLayout(hdrButtons);
    d->tabs->addTab(d->headersTab, QString());
    connect(addHdr, &QPushButton::clicked, this, [this]() {
        d->addHeaderRow(QString(), QString());
        d->headers->setCurrentCell(d->headers->rowCount() - 1, 0);
        d->headers->editItem(d->headers->item(d->headers->rowCount() - 1, 0));
    });
    connect(removeHdr, &QPushButton::clicked, this, [this]() { d->removeSelectedHeaders(); });
    connect(d->headers, &QTableWidget::itemChanged, this, [this]() { d->edited(); });
    d->updateTabTitles();

    auto *fileButtons = new QHBoxLayout;
    auto *openButton = new QPushButton(tr("Open .eml..."), this);
    openButton->setObjectName(QStringLiteral("openEmlButton"));
    openButton->setAccessibleName(tr("Open message file"));
    openButton->setToolTip(tr("Open a .eml file: it is sent unchanged unless you edit it"));
    auto *saveButton = new QPushButton(tr("Save as .eml..."), this);
    saveButton->setObjectName(QStringLiteral("saveEmlButton"));
    saveButton->setAccessibleName(tr("Save message file"));
    saveButton->setToolTip(tr("Save the message as a .eml file, exactly as it would be sent (without Bcc)"));
    auto *previewButton = new QPushButton(tr("Wire preview"), this);
    previewButton->setObjectName(QStringLiteral("wirePreviewButton"));
    previewButton->setAccessibleName(tr("Wire preview"));
    previewButton->setToolTip(tr("Show the exact bytes sent after DATA: CR LF line ends, dot-stuffed"));
    fileButtons->addWidget(openButton);
    fileButtons->addWidget(saveButton);
    fileButtons->addWidget(previewButton);
    fileButtons->addStretch(1);
    connect(openButton, &QPushButton::clicked, this, [this]() {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open message file"), QString(),
                                                          tr("Messages (*.eml);;All files (*)"));
        if (path.isEmpty())
            return;
        QString error;
        if (!openEml(path, &error))
            QMessageBox::warning(this, tr("Open message file"), error);
    });
    connect(saveButton, &QPushButton::clicked, this, [this]() {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save message file"), QString(),
                                                          tr("Messages (*.eml)"));
        if (path.isEmpty())
            return;
        QString error;
        if (!saveEml(path, &error))
            QMessageBox::warning(this, tr("Save message file"), error);
    });
    connect(previewButton, &QPushButton::clicked, this, [this]() { showWirePreview(); });

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(d->emlNote);
    layout->addLayout(form);
    layout->addLayout(options);
    layout->addWidget(d->tabs, 1);
    layout->addLayout(fileButtons);

    connect(d->text, &QPlainTextEdit::textChanged, this, [this]() { d->edited(); });
    connect(d->html, &QPlainTextEdit::textChanged, this, [this]() { d->edited(); });

    auto *filter = new ComposerEventFilter(
            [this](const QList<QUrl> &urls) {
                for (const QUrl &u : urls) {
                    if (u.isLocalFile())
                        d->addAttachment(u.toLocalFile());
                }
            },
            [this]() { d->removeSelectedAttachments(); },
            // Palette switched (light/dark): the error tints derive from it.
            [this]() { QTimer::singleShot(0, this, [this]() { d->updateFieldDisplay(); }); }, this);
    filter->deleteTarget = d->attachments;
    filter->paletteTarget = this;
    installEventFilter(filter);
    d->attachments->installEventFilter(filter);
    for (QLineEdit *e : d->address)
        e->installEventFilter(filter);
    d->subject->installEventFilter(filter);
    // Drops reach the viewport or, when it does not take drops, the scroll area.
    for (QAbstractScrollArea *area : std::initializer_list<QAbstractScrollArea *>{d->text, d->html, d->attachments,
                                                                                   d->headers}) {
        area->installEventFilter(filter);
        area->viewport()->installEventFilter(filter);
    }

    d->validateTimer.setSingleShot(true);
    d->validateTimer.setInterval(kValidateDelayMs);
    connect(&d->validateTimer, &QTimer::timeout, this, [this]() { d->refresh(); });
    // The empty composer's problem is known from the start (no emission: nobody
    // is connected yet; problem() answers the same).
    (void)d->build(&d->lastProblem);
}

ComposerWidget::~ComposerWidget() = default;

std::shared_ptr<OutgoingMessage> ComposerWidget::buildMessage(QString *problem) const
{
    return d->build(problem);
}

QString ComposerWidget::problem() const
{
    QString why;
    (void)d->build(&why);
    return why;
}

bool ComposerWidget::openEml(const QString &path, QString *error)
{
    QString why;
    std::unique_ptr<EmlMessage> loaded = EmlMessage::load(path, &why);
    if (!loaded) {
        if (error)
            *error = why;
        return false;
    }
    const EmlView view = readEmlView(path);

    // Split the file's recipients back into To, Cc and Bcc from its header text;
    // trusted only when it finds exactly the recipients core found (GMime's
    // parser). Otherwise (groups, encoded words, odd syntax) all go to To.
    QSet<QString> coreRecipients;
    for (const QString &r : loaded->headerRecipients())
        coreRecipients.insert(r.toCaseFolded());
    std::array<QString, AddressFieldCount> shown;
    QSet<QString> found;
    bool splitOk = true;
    for (int f = ToField; f <= BccField; ++f) {
        const QByteArray raw = fieldValue(view, kFieldKeys[size_t(f)]);
        QList<AddressListParser::Entry> entries;
        if (!AddressListParser::parse(QString::fromUtf8(raw), &entries, nullptr)) {
            splitOk = false;
            break;
        }
        QStringList plain;
        for (const auto &e : std::as_const(entries)) {
            found.insert(e.mailbox.address.toCaseFolded());
            plain.append(e.mailbox.address);
        }
        // RFC 2047 encoded words would be shown raw: show the bare addresses.
        shown[size_t(f)] = raw.contains("=?") ? plain.join(QStringLiteral(", "))
                                              : QString::fromUtf8(raw).simplified();
    }
    splitOk = splitOk && found == coreRecipients;
    if (!splitOk) {
        shown[ToField] = loaded->headerRecipients().join(QStringLiteral(", "));
        shown[CcField].clear();
        shown[BccField].clear();
    }
    shown[FromField] = loaded->fromHeader();

    d->filling = true;
    for (int f = 0; f < AddressFieldCount; ++f)
        d->address[size_t(f)]->setText(shown[size_t(f)]);
    d->subject->setText(loaded->subject());
    d->text->setPlainText(view.bodyShown ? view.body : QString());
    d->html->clear();
    d->attachments->clear();
    d->headers->setRowCount(0);
    d->important->setChecked(false);
    d->readReceipt->setChecked(false);
    d->deliveryReceipt->setChecked(false);
    d->bodyNote->setText(view.bodyNote);
    d->filling = false;

    d->eml = std::move(loaded);
    d->emlUnedited = true;
    d->emlBodyShown = view.bodyShown;
    d->emlRecipientsMerged = !splitOk;
    d->updateTabTitles();
    d->updateEmlNote();
    d->refresh();
    if (!d->restoring)
        Q_EMIT changed();
    return true;
}

bool ComposerWidget::saveEml(const QString &path, QString *error)
{
    QString why;
    const std::shared_ptr<OutgoingMessage> message = d->build(&why);
    if (!message) {
        if (error)
            *error = tr("cannot save the message to %1: %2").arg(path, why);
        return false;
    }
    why = MessageFile::save(*message, path, BodyOptions{});
    if (!why.isEmpty()) {
        if (error)
            *error = why;
        return false;
    }
    return true;
}

void ComposerWidget::showWirePreview()
{
    QString why;
    const std::shared_ptr<OutgoingMessage> message = d->build(&why);
    MessageFile::WirePreview preview;
    // Plain DATA (no CHUNKING) without 8BITMIME: the most conservative form, what
    // any server would get (RFC 5321 4.5.2).
    if (message)
        preview = MessageFile::wirePreview(*message, BodyOptions{}, false, kPreviewMaxBytes);
    if (d->preview)
        d->preview->close();
    auto *dialog = new WirePreviewDialog(preview, why, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    d->preview = dialog;
    dialog->show();
}

void ComposerWidget::setField(const QString &name, const QString &value)
{
    const QString key = name.toLower();
    for (int f = 0; f < AddressFieldCount; ++f) {
        if (key == QLatin1String(kFieldKeys[size_t(f)])) {
            d->address[size_t(f)]->setText(value);
            return;
        }
    }
    if (key == QLatin1String("subject"))
        d->subject->setText(value);
    else if (key == QLatin1String("text"))
        d->text->setPlainText(value);
    else if (key == QLatin1String("html"))
        d->html->setPlainText(value);
    else
        qWarning("ComposerWidget::setField: unknown field %s", qPrintable(name));
}

void ComposerWidget::addAttachment(const QString &path)
{
    d->addAttachment(path);
}

void ComposerWidget::focusTo()
{
    d->address[ToField]->setFocus(Qt::OtherFocusReason);
}

namespace {

// The keys of state(), written once.
namespace Key {
const QString Headers = QStringLiteral("headers");
const QString HeaderName = QStringLiteral("name");
const QString HeaderValue = QStringLiteral("value");
const QString Important = QStringLiteral("important");
const QString ReadReceipt = QStringLiteral("readReceipt");
const QString DeliveryReceipt = QStringLiteral("deliveryReceipt");
const QString Attachments = QStringLiteral("attachments");
const QString EmlPath = QStringLiteral("emlPath");
const QString EmlUnedited = QStringLiteral("emlUnedited");
const QString Subject = QStringLiteral("subject");
const QString Text = QStringLiteral("text");
const QString Html = QStringLiteral("html");
} // namespace Key

} // namespace

QVariantMap ComposerWidget::state() const
{
    QVariantMap s;
    for (int f = 0; f < AddressFieldCount; ++f)
        s.insert(QString::fromLatin1(kFieldKeys[size_t(f)]), d->address[size_t(f)]->text());
    s.insert(Key::Subject, d->subject->text());
    s.insert(Key::Text, d->text->toPlainText());
    s.insert(Key::Html, d->html->toPlainText());
    QVariantList headers;
    for (int r = 0; r < d->headers->rowCount(); ++r) {
        const QTableWidgetItem *n = d->headers->item(r, 0);
        const QTableWidgetItem *v = d->headers->item(r, 1);
        const QString name = n ? n->text() : QString();
        const QString value = v ? v->text() : QString();
        if (name.isEmpty() && value.isEmpty())
            continue; // an empty row just added: nothing to keep
        headers.append(QVariantMap{{Key::HeaderName, name}, {Key::HeaderValue, value}});
    }
    s.insert(Key::Headers, headers);
    s.insert(Key::Important, d->important->isChecked());
    s.insert(Key::ReadReceipt, d->readReceipt->isChecked());
    s.insert(Key::DeliveryReceipt, d->deliveryReceipt->isChecked());
    QStringList paths;
    for (int i = 0; i < d->attachments->topLevelItemCount(); ++i)
        paths.append(d->attachments->topLevelItem(i)->data(0, Qt::UserRole).toString());
    s.insert(Key::Attachments, paths);
    if (d->eml) {
        s.insert(Key::EmlPath, d->eml->path());
        s.insert(Key::EmlUnedited, d->emlUnedited);
    }
    return s;
}

QStringList ComposerWidget::setState(const QVariantMap &state)
{
    QStringList notRestored;
    const QScopedValueRollback<bool> restoring(d->restoring, true);

    // Start from an empty composer: nothing of the previous message survives.
    d->eml.reset();
    d->emlUnedited = false;
    d->emlBodyShown = false;
    d->emlRecipientsMerged = false;
    d->bodyNote->clear();
    d->updateEmlNote();

    const QString emlPath = state.value(Key::EmlPath).toString();
    if (!emlPath.isEmpty()) {
        QString error;
        if (!openEml(emlPath, &error)) {
            notRestored.append(tr("the opened message file %1 (%2): the fields are restored, its body and "
                                  "attachments are not")
                                       .arg(emlPath, error));
        } else if (state.value(Key::EmlUnedited).toBool()) {
            // The file is the message, byte for byte, as before.
            return notRestored;
        }
    }

    for (int f = 0; f < AddressFieldCount; ++f)
        d->address[size_t(f)]->setText(state.value(QString::fromLatin1(kFieldKeys[size_t(f)])).toString());
    d->subject->setText(state.value(Key::Subject).toString());
    d->text->setPlainText(state.value(Key::Text).toString());
    d->html->setPlainText(state.value(Key::Html).toString());
    d->important->setChecked(state.value(Key::Important).toBool());
    d->readReceipt->setChecked(state.value(Key::ReadReceipt).toBool());
    d->deliveryReceipt->setChecked(state.value(Key::DeliveryReceipt).toBool());
    d->headers->setRowCount(0);
    for (const QVariant &h : state.value(Key::Headers).toList()) {
        const QVariantMap m = h.toMap();
        d->addHeaderRow(m.value(Key::HeaderName).toString(), m.value(Key::HeaderValue).toString());
    }
    d->attachments->clear();
    for (const QString &path : state.value(Key::Attachments).toStringList()) {
        // Kept in the list even when gone: problem() then names it and Send stays
        // disabled, rather than a message going out without it.
        const QFileInfo fi(path);
        if (!fi.isFile() || !fi.isReadable())
            notRestored.append(tr("the attachment %1 is missing").arg(QDir::toNativeSeparators(path)));
        d->addAttachment(path);
    }
    if (d->eml && d->emlUnedited) {
        // The fields matched the file, so nothing counted as an edit; but the
        // state says the message was composed from the fields.
        d->emlUnedited = false;
        d->updateEmlNote();
    }
    d->updateTabTitles();
    d->refresh();
    return notRestored;
}

std::shared_ptr<OutgoingMessage> ComposerWidget::messageFromState(const QVariantMap &state, QString *problem)
{
    ComposerWidget hidden;
    const QStringList notRestored = hidden.setState(state);
    QString why;
    std::shared_ptr<OutgoingMessage> message = hidden.buildMessage(&why);
    if (!message && problem)
        *problem = why;
    // A message that builds while something was lost (an opened file that is
    // gone) would not be the message the user meant: refuse it.
    if (message && !notRestored.isEmpty() && !state.value(Key::EmlPath).toString().isEmpty()
        && !hidden.d->eml) {
        if (problem)
            *problem = notRestored.join(QStringLiteral("; "));
        return nullptr;
    }
    return message;
}
