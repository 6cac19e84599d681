#include "liveviews.h"

#include "diagnostics/replyexplainer.h"
#include "livecolours.h"
#include "peertext.h"

#include <QEvent>
#include <QFontDatabase>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSaveFile>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextCursor>
#include <QVBoxLayout>
#include <deque>

// A QPlainTextEdit with a block limit (never an unbounded QTextEdit log), plus a
// parallel deque of the lines and their kinds so that a palette change can recolour
// everything and the failing line can be found and highlighted later. Both are
// capped at the same count, so line i of the deque is block i of the document.

namespace {

constexpr int kMaxLines = 50000;

enum class Kind { Client, Server, Info, Error, Marker };

Kind kindOf(TranscriptEntry::Direction d)
{
    switch (d) {
    case TranscriptEntry::Direction::Client: return Kind::Client;
    case TranscriptEntry::Direction::Server: return Kind::Server;
    case TranscriptEntry::Direction::Info: return Kind::Info;
    case TranscriptEntry::Direction::Error: return Kind::Error;
    }
    return Kind::Info;
}

struct Line
{
    QString text;  // as shown and saved
    Kind kind;
    QString body;  // the entry's own text, for finding the failing reply
};

QString lineText(const TranscriptEntry &e)
{
    // "  0.012 C [tls] EHLO x": seconds right-aligned so columns line up. The
    // engine escaped the text; one read back from a history file is kept one
    // line by the escaping rule all the same (peertext.h).
    return QStringLiteral("%1 %2 %3%4")
        .arg(double(e.timeUs) / 1e6, 7, 'f', 3)
        .arg(TranscriptEntry::directionTag(e.direction),
             e.encrypted ? QStringLiteral("[tls] ") : QString(), PeerText::line(e.text));
}

} // namespace

struct TranscriptView::Private
{
    // The view's own palette: on a palette change the view hears of it before the
    // text edit inherits the new one.
    QWidget *owner = nullptr;
    QPlainTextEdit *edit = nullptr;
    QLabel *explanation = nullptr;
    std::deque<Line> lines;
    bool tlsMarked = false;
    int failing = -1; // index into lines, -1 when none

    [[nodiscard]] QTextCharFormat format(Kind kind) const;
    void appendLine(QTextCursor &cursor, Line line);
    void recolour();
    void applyHighlight();
};

QTextCharFormat TranscriptView::Private::format(Kind kind) const
{
    // Colours derived from the palette's base colour, checked for contrast
    // (livecolours.h), so that light and dark themes both read well.
    const QPalette pal = owner->palette();
    const QColor base = pal.color(QPalette::Base);
    QTextCharFormat f;
    switch (kind) {
    case Kind::Client: f.setForeground(LiveColours::readable(LiveColours::ClientHue, base)); break;
    case Kind::Server: f.setForeground(LiveColours::readable(LiveColours::ServerHue, base)); break;
    case Kind::Error:
        f.setForeground(LiveColours::readable(LiveColours::ErrorHue, base));
        f.setFontWeight(QFont::Bold);
        break;
    case Kind::Info: f.setForeground(pal.color(QPalette::PlaceholderText)); break;
    case Kind::Marker:
        f.setForeground(pal.color(QPalette::Text));
        f.setFontWeight(QFont::Bold);
        break;
    }
    return f;
}

void TranscriptView::Private::appendLine(QTextCursor &cursor, Line line)
{
    if (!lines.empty())
        cursor.insertBlock();
    cursor.insertText(line.text, format(line.kind));
    lines.push_back(std::move(line));
    if (lines.size() > size_t(kMaxLines)) {
        // The document drops its first block at the same moment (maximumBlockCount).
        lines.pop_front();
        if (failing >= 0)
            --failing;
    }
}

void TranscriptView::Private::recolour()
{
    QTextCursor cursor(edit->document());
    cursor.beginEditBlock();
    QTextBlock block = edit->document()->begin();
    for (size_t i = 0; i < lines.size() && block.isValid(); ++i, block = block.next()) {
        cursor.setPosition(block.position());
        cursor.setPosition(block.position() + block.length() - 1, QTextCursor::KeepAnchor);
        cursor.setCharFormat(format(lines[i].kind));
    }
    cursor.endEditBlock();
    applyHighlight();
}

void TranscriptView::Private::applyHighlight()
{
    QList<QTextEdit::ExtraSelection> selections;
    if (failing >= 0) {
        const QTextBlock block = edit->document()->findBlockByNumber(failing);
        if (block.isValid()) {
            QTextEdit::ExtraSelection sel;
            sel.cursor = QTextCursor(block);
            sel.format.setBackground(LiveColours::highlight(LiveColours::ErrorHue, owner->palette()));
            sel.format.setForeground(owner->palette().color(QPalette::Text));
            sel.format.setProperty(QTextFormat::FullWidthSelection, true);
            selections.append(sel);
        }
    }
    edit->setExtraSelections(selections);
}

TranscriptView::TranscriptView(QWidget *parent)
    : QWidget(parent)
    , d(std::make_unique<Private>())
{
    d->owner = this;
    d->edit = new QPlainTextEdit(this);
    d->edit->setReadOnly(true);
    d->edit->setMaximumBlockCount(kMaxLines);
    d->edit->setLineWrapMode(QPlainTextEdit::NoWrap);
    d->edit->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    d->edit->setAccessibleName(tr("SMTP transcript"));
    d->edit->setToolTip(tr("C: client, S: server, *: information, !: error; [tls]: inside TLS"));
    d->edit->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);

    d->explanation = new QLabel(this);
    d->explanation->setAccessibleName(tr("Failure explanation"));
    d->explanation->setWordWrap(true);
    d->explanation->setTextInteractionFlags(Qt::TextSelectableByMouse);
    d->explanation->setTextFormat(Qt::PlainText);
    d->explanation->setFrameShape(QFrame::StyledPanel);
    d->explanation->setMargin(6);
    d->explanation->hide();

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(d->edit, 1);
    layout->addWidget(d->explanation);
}

TranscriptView::~TranscriptView() = default;

void TranscriptView::append(const QList<TranscriptEntry> &entries)
{
    if (entries.isEmpty())
        return;
    const QScrollBar *bar = d->edit->verticalScrollBar();
    const bool follow = bar->value() >= bar->maximum();
    QTextCursor cursor(d->edit->document());
    cursor.movePosition(QTextCursor::End);
    cursor.beginEditBlock();
    for (const TranscriptEntry &e : entries) {
        // RFC 3207 4.2: everything after the handshake is a new session; mark the
        // boundary so the plain-text part is easy to tell apart.
        if (e.encrypted && !d->tlsMarked) {
            d->tlsMarked = true;
            d->appendLine(cursor, Line{QStringLiteral("---- TLS established ----"), Kind::Marker, QString()});
        }
        d->appendLine(cursor, Line{lineText(e), kindOf(e.direction), e.text});
    }
    cursor.endEditBlock();
    if (follow)
        d->edit->verticalScrollBar()->setValue(d->edit->verticalScrollBar()->maximum());
}

void TranscriptView::showOutcome(const SendResult &result)
{
    d->failing = -1;
    if (!result.error.isError()) {
        d->explanation->clear();
        d->explanation->hide();
        d->applyHighlight();
        return;
    }
    // The failing line: the last server reply carrying the error's code, else the
    // last error line the engine wrote.
    const QString code = result.error.replyCode > 0 ? QString::number(result.error.replyCode) : QString();
    for (int i = int(d->lines.size()) - 1; i >= 0 && !code.isEmpty(); --i) {
        const Line &l = d->lines[size_t(i)];
        if (l.kind != Kind::Server)
            continue;
        if (l.body.startsWith(code)) {
            d->failing = i;
            break;
        }
    }
    for (int i = int(d->lines.size()) - 1; i >= 0 && d->failing < 0; --i) {
        if (d->lines[size_t(i)].kind == Kind::Error)
            d->failing = i;
    }
    d->applyHighlight();
    if (d->failing >= 0) {
        QTextCursor c(d->edit->document()->findBlockByNumber(d->failing));
        d->edit->setTextCursor(c);
        d->edit->ensureCursorVisible();
    }

    QString text = ReplyExplainer::explainError(result.error, result.target, result.securityMode);
    if (text.isEmpty())
        text = result.error.toString(); // the engine's own sentence, when no table knows the code
    d->explanation->setText(PeerText::text(text));
    d->explanation->setVisible(!text.isEmpty());
}

void TranscriptView::clear()
{
    d->edit->clear();
    d->lines.clear();
    d->tlsMarked = false;
    d->failing = -1;
    d->edit->setExtraSelections({});
    d->explanation->clear();
    d->explanation->hide();
}

QString TranscriptView::text() const
{
    QString out;
    for (const Line &l : d->lines) {
        out += l.text;
        out += u'\n';
    }
    return out;
}

bool TranscriptView::saveTo(const QString &path, QString *error) const
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text) || file.write(text().toUtf8()) < 0 || !file.commit()) {
        if (error)
            *error = file.errorString();
        return false;
    }
    return true;
}

int TranscriptView::lineCount() const
{
    return int(d->lines.size());
}

QString TranscriptView::failureExplanation() const
{
    return d->explanation->text();
}

int TranscriptView::failingLine() const
{
    return d->failing;
}

bool TranscriptView::event(QEvent *e)
{
    const bool handled = QWidget::event(e);
    // A switch between light and dark palettes recolours the lines already shown.
    if (e->type() == QEvent::PaletteChange || e->type() == QEvent::ApplicationPaletteChange)
        d->recolour();
    return handled;
}
