#pragma once
// Scripted faults for the built-in capture server, one spec per line in the
// grammar of core/capture/fault.h (the same as `smtpscope serve --fault`).
// Accepting applies them only when every line parses; a wrong line is named.

#include "capture/fault.h"

#include <QDialog>
#include <QList>

class QLabel;
class QPlainTextEdit;

class FaultsDialog : public QDialog
{
    Q_OBJECT

public:
    explicit FaultsDialog(const QList<Capture::Fault> &current, QWidget *parent = nullptr);

    void setText(const QString &text);
    // The faults of the text, or nullopt with the first problem ("line 2: ...").
    [[nodiscard]] std::optional<QList<Capture::Fault>> faults(QString *problem) const;
    [[nodiscard]] QString problemText() const;

    void accept() override;

Q_SIGNALS:
    void faultsAccepted(const QList<Capture::Fault> &faults);

private:
    QPlainTextEdit *m_edit;
    QLabel *m_problem;
};
