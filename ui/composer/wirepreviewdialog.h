#pragma once
// Shows the exact bytes a message puts on the wire after DATA (RFC 5321 4.5.2:
// CRLF line ends, dot-stuffed, ending CRLF "." CRLF), with the line ends made
// visible on request and the total size. Non-modal: it can stay open next to the
// composer.

#include "mime/messagefile.h"

#include <QDialog>

class QCheckBox;
class QLabel;
class QPlainTextEdit;

class WirePreviewDialog : public QDialog
{
    Q_OBJECT

public:
    // `problem` non-empty: the message cannot be built, the dialog says why instead.
    WirePreviewDialog(const MessageFile::WirePreview &preview, const QString &problem, QWidget *parent = nullptr);

    // The text as shown (CR LF as "␍␊" when the markers are on), for tests.
    [[nodiscard]] QString text() const;
    [[nodiscard]] QString summary() const;
    void setLineEndMarkers(bool on);

private:
    void render();

    MessageFile::WirePreview m_preview;
    QString m_problem;
    QLabel *m_summary = nullptr;
    QCheckBox *m_markers = nullptr;
    QPlainTextEdit *m_text = nullptr;
};
