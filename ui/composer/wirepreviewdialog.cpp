#include "wirepreviewdialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

WirePreviewDialog::WirePreviewDialog(const MessageFile::WirePreview &preview, const QString &problem,
                                     QWidget *parent)
    : QDialog(parent), m_preview(preview), m_problem(problem)
{
    setWindowTitle(tr("Wire preview"));
    setObjectName(QStringLiteral("wirePreviewDialog"));
    setAccessibleName(tr("Wire preview"));

    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("wirePreviewSummary"));
    m_summary->setAccessibleName(tr("Wire size"));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_markers = new QCheckBox(tr("Show line ends as ␍␊"), this);
    m_markers->setObjectName(QStringLiteral("wirePreviewMarkers"));
    m_markers->setAccessibleName(tr("Show line ends"));
    m_markers->setToolTip(tr("Mark every CR LF pair: on the wire each line ends with CR LF (RFC 5321 2.3.8)"));
    m_markers->setChecked(true);

    m_text = new QPlainTextEdit(this);
    m_text->setObjectName(QStringLiteral("wirePreviewText"));
    m_text->setAccessibleName(tr("Bytes on the wire"));
    m_text->setToolTip(tr("What the server receives after DATA: lines starting with '.' get a second '.', "
                          "and the message ends with a line holding a single '.' (RFC 5321 4.5.2)"));
    m_text->setReadOnly(true);
    m_text->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    buttons->button(QDialogButtonBox::Close)->setAccessibleName(tr("Close wire preview"));
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_markers, &QCheckBox::toggled, this, [this]() { render(); });

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_summary);
    layout->addWidget(m_markers);
    layout->addWidget(m_text, 1);
    layout->addWidget(buttons);
    resize(900, 600);
    render();
}

QString WirePreviewDialog::text() const
{
    return m_text->toPlainText();
}

QString WirePreviewDialog::summary() const
{
    return m_summary->text();
}

void WirePreviewDialog::setLineEndMarkers(bool on)
{
    m_markers->setChecked(on);
}

void WirePreviewDialog::render()
{
    if (!m_problem.isEmpty() || !m_preview.error.isEmpty()) {
        const QString why = m_problem.isEmpty() ? m_preview.error : m_problem;
        m_summary->setText(tr("No preview: %1").arg(why));
        m_markers->setEnabled(false);
        m_text->clear();
        return;
    }
    const QLocale locale;
    QString summary = tr("%1 bytes on the wire").arg(locale.toString(m_preview.totalBytes));
    if (m_preview.truncated)
        summary += tr(" (first %1 shown)").arg(locale.formattedDataSize(m_preview.bytes.size()));
    m_summary->setText(summary);
    m_markers->setEnabled(true);

    // The bytes are ASCII or, with 8BITMIME, mostly UTF-8; anything else shows as
    // U+FFFD. A cut in the middle of a UTF-8 sequence only affects the last character.
    QString shown = QString::fromUtf8(m_preview.bytes);
    if (m_markers->isChecked()) {
        // A bare CR or LF never reaches the wire (RFC 5321 2.3.8), but if one did
        // the markers would show it unpaired.
        shown.replace(QLatin1String("\r\n"), QStringLiteral("\u240D\u240A\n"));
        shown.replace(QLatin1Char('\r'), QStringLiteral("\u240D"));
        static const QString lfOnly = QStringLiteral("\u240A\n");
        QString out;
        out.reserve(shown.size());
        for (qsizetype i = 0; i < shown.size(); ++i) {
            if (shown[i] == QLatin1Char('\n') && (i == 0 || shown[i - 1] != QChar(0x240A)))
                out += lfOnly;
            else
                out += shown[i];
        }
        shown = out;
    } else {
        shown.replace(QLatin1String("\r\n"), QLatin1String("\n"));
    }
    m_text->setPlainText(shown);
}
