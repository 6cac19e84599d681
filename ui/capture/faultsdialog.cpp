#include "faultsdialog.h"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QPlainTextEdit>
#include <QVBoxLayout>

FaultsDialog::FaultsDialog(const QList<Capture::Fault> &current, QWidget *parent)
    : QDialog(parent), m_edit(new QPlainTextEdit(this)), m_problem(new QLabel(this))
{
    setWindowTitle(QStringLiteral("Capture server faults"));
    setAccessibleName(QStringLiteral("Capture server faults"));
    auto *help = new QLabel(QStringLiteral(
                                "One fault per line: STEP[=RECIPIENT][:every=N][:delay=MS | :disconnect | :CODE TEXT], "
                                "or rate=N/min:421 (or 451).\nSteps: greeting, ehlo, starttls, auth, mail, rcpt, data, "
                                "eod (end of data). Examples:\n"
                                "  rcpt=bob@example.org:550 5.1.1 No such user\n"
                                "  eod:every=3:451 4.3.0 Try again later\n"
                                "  mail:delay=2000"),
                            this);
    help->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_edit->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_edit->setAccessibleName(QStringLiteral("Fault specifications"));
    QStringList lines;
    for (const Capture::Fault &f : current)
        lines.append(f.toString());
    m_edit->setPlainText(lines.join(u'\n'));
    m_problem->setWordWrap(true);
    m_problem->setAccessibleName(QStringLiteral("Fault problem"));
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &FaultsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_edit, &QPlainTextEdit::textChanged, this, [this] {
        QString problem;
        (void)faults(&problem);
        m_problem->setText(problem);
    });
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(help);
    layout->addWidget(m_edit, 1);
    layout->addWidget(m_problem);
    layout->addWidget(buttons);
    resize(560, 360);
}

void FaultsDialog::setText(const QString &text)
{
    m_edit->setPlainText(text);
}

std::optional<QList<Capture::Fault>> FaultsDialog::faults(QString *problem) const
{
    QList<Capture::Fault> out;
    const QStringList lines = m_edit->toPlainText().split(u'\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QString line = lines.at(i).trimmed();
        if (line.isEmpty())
            continue;
        QString error;
        const auto fault = Capture::Fault::parse(line, &error);
        if (!fault) {
            *problem = QStringLiteral("line %1: %2").arg(i + 1).arg(error);
            return std::nullopt;
        }
        out.append(*fault);
    }
    problem->clear();
    return out;
}

QString FaultsDialog::problemText() const
{
    return m_problem->text();
}

void FaultsDialog::accept()
{
    QString problem;
    const auto parsed = faults(&problem);
    if (!parsed) {
        m_problem->setText(problem); // stays open: nothing half-applied
        return;
    }
    Q_EMIT faultsAccepted(*parsed);
    QDialog::accept();
}
