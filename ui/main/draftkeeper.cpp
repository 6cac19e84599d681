#include "draftkeeper.h"

#include "composer/composerwidget.h"
#include "store/historystore.h"

#include <QCryptographicHash>
#include <QFrame>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSettings>

#include <algorithm>

namespace {

// "<draft id>:<digest of its fields>" of the draft a clean close kept, "" when
// it kept none. A draft that is not that one was saved by a run that did not
// close cleanly (crash, kill -9) and is offered back. Content, not timestamps:
// a crashed run may save within the same second as the clean exit before it.
const QString CleanDraftKey = QStringLiteral("drafts/cleanExit");
const QString AutosaveKey = QStringLiteral("drafts/autosaveMs");

QString draftMark(qint64 id, const QVariantMap &fields)
{
    // QJsonObject sorts its keys and writes a list of strings as an array
    // whether it came as QStringList or (read back) QVariantList.
    const QByteArray json = QJsonDocument(QJsonObject::fromVariantMap(fields)).toJson(QJsonDocument::Compact);
    return QStringLiteral("%1:%2").arg(id).arg(
        QString::fromLatin1(QCryptographicHash::hash(json, QCryptographicHash::Sha256).toHex()));
}

QString draftSummary(const Store::Draft &draft)
{
    const QString subject = draft.fields.value(QStringLiteral("subject")).toString();
    const QString to = draft.fields.value(QStringLiteral("to")).toString();
    QString text = subject.isEmpty() ? QObject::tr("(no subject)") : QStringLiteral("\u201c%1\u201d").arg(subject);
    if (!to.isEmpty())
        text += QObject::tr(" to %1").arg(to);
    return text;
}

} // namespace

DraftKeeper::DraftKeeper(QSettings *settings, ComposerWidget *composer, std::function<QString()> profileName,
                         int autosaveMs, QObject *parent)
    : QObject(parent), m_settings(settings), m_composer(composer), m_profileName(std::move(profileName))
{
    // Every edit (re)arms a single-shot timer, so a changed composer is saved at
    // most the interval later, and an idle one costs nothing. setState() does
    // not emit changed(): what it puts back is what was saved.
    m_autosave.setSingleShot(true);
    m_autosave.setInterval(std::max(100, m_settings->value(AutosaveKey, autosaveMs).toInt()));
    connect(&m_autosave, &QTimer::timeout, this, &DraftKeeper::save);
    connect(m_composer, &ComposerWidget::changed, this, [this] {
        m_dirty = true;
        if (!m_autosave.isActive())
            m_autosave.start();
    });
}

DraftKeeper::~DraftKeeper() = default;

QWidget *DraftKeeper::buildBar(QWidget *parent)
{
    // A bar, not a dialog: the window is usable at once, and the offer waits.
    auto *frame = new QFrame(parent);
    m_bar = frame;
    frame->setObjectName(QStringLiteral("draftBar"));
    frame->setAccessibleName(QStringLiteral("Draft recovery"));
    frame->setFrameShape(QFrame::StyledPanel);
    // The palette's own highlight-free roles: readable in light and dark themes.
    frame->setBackgroundRole(QPalette::AlternateBase);
    frame->setAutoFillBackground(true);
    m_barText = new QLabel(frame);
    m_barText->setObjectName(QStringLiteral("draftBarText"));
    m_barText->setAccessibleName(QStringLiteral("Draft recovery message"));
    m_barText->setWordWrap(true);
    m_barText->setTextFormat(Qt::PlainText);
    m_restore = new QPushButton(QStringLiteral("&Restore"), frame);
    m_restore->setAccessibleName(QStringLiteral("Restore the draft"));
    m_restore->setToolTip(QStringLiteral("Put the unsent draft back into the composer, attachments included"));
    m_discard = new QPushButton(QStringLiteral("Discard"), frame);
    m_discard->setAccessibleName(QStringLiteral("Discard the draft"));
    m_discard->setToolTip(QStringLiteral("Delete the unsent draft for good"));
    m_dismiss = new QPushButton(QStringLiteral("Close"), frame);
    m_dismiss->setAccessibleName(QStringLiteral("Close the draft note"));
    m_dismiss->setToolTip(QStringLiteral("Hide this note"));
    auto *layout = new QHBoxLayout(frame);
    layout->addWidget(m_barText, 1);
    layout->addWidget(m_restore);
    layout->addWidget(m_discard);
    layout->addWidget(m_dismiss);
    connect(m_restore, &QPushButton::clicked, this, &DraftKeeper::restoreOffered);
    connect(m_discard, &QPushButton::clicked, this, &DraftKeeper::discardOffered);
    connect(m_dismiss, &QPushButton::clicked, m_bar, &QWidget::hide);
    m_bar->hide();
    return m_bar;
}

QString DraftKeeper::barText() const
{
    // Visible within its window (whether or not the window itself is shown).
    return m_bar && m_bar->isVisibleTo(m_bar->window()) ? m_barText->text() : QString();
}

void DraftKeeper::offerAtStart()
{
    if (!m_store)
        return;
    const QList<Store::Draft> drafts = m_store->drafts(); // newest first
    const QString clean = m_settings->value(CleanDraftKey).toString();
    const Store::Draft *kept = nullptr;
    const Store::Draft *left = nullptr;
    for (const Store::Draft &d : drafts) {
        if (!kept && !clean.isEmpty() && draftMark(d.id, d.fields) == clean)
            kept = &d;
        else if (!left)
            left = &d;
    }
    // What the last clean close left in the composer comes back as it was.
    if (kept) {
        const QStringList missing = m_composer->setState(kept->fields);
        m_draftId = kept->id;
        if (!missing.isEmpty())
            Q_EMIT statusMessage(QStringLiteral("Draft restored, but: %1").arg(missing.join(QStringLiteral("; "))));
    }
    // A draft saved after the last clean close: that run crashed or was killed.
    if (left) {
        m_offeredDraftId = left->id;
        m_barText->setText(QStringLiteral("SMTP Scope did not close properly last time. An unsent draft "
                                          "saved %1 can be restored: %2.")
                               .arg(QLocale().toString(left->saved.toLocalTime(), QLocale::ShortFormat),
                                    draftSummary(*left)));
        m_restore->show();
        m_discard->show();
        m_dismiss->hide();
        m_bar->show();
    }
}

void DraftKeeper::restoreOffered()
{
    if (!m_store || m_offeredDraftId == 0)
        return;
    const QList<Store::Draft> drafts = m_store->drafts();
    const auto it = std::find_if(drafts.begin(), drafts.end(),
                                 [this](const Store::Draft &d) { return d.id == m_offeredDraftId; });
    m_offeredDraftId = 0;
    m_restore->hide();
    m_discard->hide();
    m_dismiss->show();
    if (it == drafts.end()) {
        m_barText->setText(QStringLiteral("The draft is gone (another window may have used it)."));
        return;
    }
    QVariantMap fields = it->fields;
    // The attachments by path: the files stay where they were.
    if (!it->attachments.isEmpty())
        fields.insert(QStringLiteral("attachments"), it->attachments);
    const QStringList missing = m_composer->setState(fields);
    // What the user typed meanwhile is in its own draft row; this one is the
    // composer's from now on.
    m_draftId = it->id;
    m_dirty = false;
    m_safeState.clear();
    if (missing.isEmpty()) {
        m_bar->hide();
    } else {
        m_barText->setText(QStringLiteral("Draft restored, but not all of it: %1.")
                               .arg(missing.join(QStringLiteral("; "))));
    }
    Q_EMIT restored();
}

void DraftKeeper::discardOffered()
{
    if (m_store && m_offeredDraftId != 0) {
        QString error;
        if (!m_store->removeDraft(m_offeredDraftId, &error))
            Q_EMIT statusMessage(QStringLiteral("The draft could not be removed: %1").arg(error));
    }
    m_offeredDraftId = 0;
    m_bar->hide();
}

bool DraftKeeper::isEmptyState(const QVariantMap &state)
{
    for (auto it = state.begin(); it != state.end(); ++it) {
        const QVariant &v = it.value();
        if (v.typeId() == QMetaType::Bool ? v.toBool() : !v.toString().isEmpty() || !v.toList().isEmpty())
            return false;
    }
    return true;
}

bool DraftKeeper::save()
{
    m_autosave.stop();
    if (!m_store || !m_dirty)
        return m_store != nullptr;
    const QVariantMap state = m_composer->state();
    QString error;
    if (isEmptyState(state)) {
        // Nothing worth keeping (the user cleared the composer).
        if (m_draftId != 0 && !m_store->removeDraft(m_draftId, &error))
            Q_EMIT statusMessage(QStringLiteral("The draft could not be removed: %1").arg(error));
        m_draftId = 0;
        m_dirty = false;
        return true;
    }
    Store::Draft draft;
    draft.id = m_draftId;
    draft.profile = m_profileName ? m_profileName() : QString();
    draft.fields = state;
    draft.attachments = state.value(QStringLiteral("attachments")).toStringList();
    if (!m_store->saveDraft(&draft, &error)) {
        Q_EMIT statusMessage(QStringLiteral("The draft could not be saved: %1").arg(error));
        return false;
    }
    m_draftId = draft.id;
    m_dirty = false;
    return true;
}

void DraftKeeper::composerMessageSafe(const QVariantMap &state)
{
    QString error; // a row that cannot go is only a stale draft, offered at most once
    if (m_store && m_draftId != 0)
        m_store->removeDraft(m_draftId, &error);
    m_draftId = 0;
    m_dirty = false;
    m_autosave.stop();
    m_safeState = state;
}

QStringList DraftKeeper::loadSafeMessage(const QVariantMap &fields)
{
    // What is in the composer now is not lost: it is saved as a draft first.
    save();
    const QStringList missing = m_composer->setState(fields);
    m_draftId = 0; // a new draft row for the message now in the composer
    m_dirty = false;
    m_safeState = m_composer->state();
    return missing;
}

void DraftKeeper::keepOnClose()
{
    // The composer as it is left: kept as a draft (restored at the next start)
    // unless it is empty, sent, or waiting in the outbox. Then this close is
    // marked clean, so that draft is not offered as one a crash left behind.
    if (!m_store)
        return;
    QString mark;
    const QVariantMap state = m_composer->state();
    QString error;
    if (isEmptyState(state) || state == m_safeState) {
        if (m_draftId != 0)
            m_store->removeDraft(m_draftId, &error);
        m_draftId = 0;
    } else {
        m_dirty = true;
        if (save())
            mark = draftMark(m_draftId, state);
    }
    m_autosave.stop();
    m_settings->setValue(CleanDraftKey, mark);
}
