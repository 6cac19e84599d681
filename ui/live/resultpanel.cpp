#include "liveviews.h"

#include "diagnostics/replyexplainer.h"
#include "livecolours.h"
#include "peertext.h"

#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

// What one send ended with. The TLS summary and the chain dialog use
// TlsInfo::toVariantMap() for the certificate fields, so the GUI shows the very
// strings (DN text, ISO dates, SHA-256 as openssl prints it) that the CLI and the
// JSON reports show. Those fields, reply texts and addresses are the peer's: they
// are shown by the escaping rule (peertext.h).

namespace {

QString replyText(const ServerReply &r)
{
    return r.display();
}

QList<QStringList> rowsOf(const QTableWidget *t)
{
    QList<QStringList> out;
    for (int r = 0; r < t->rowCount(); ++r) {
        QStringList row;
        for (int c = 0; c < t->columnCount(); ++c) {
            const QTableWidgetItem *item = t->item(r, c);
            row.append(item ? item->text() : QString());
        }
        out.append(row);
    }
    return out;
}

} // namespace

QTableWidget *makeReadOnlyTable(const QStringList &headers, QWidget *parent)
{
    auto *t = new QTableWidget(0, int(headers.size()), parent);
    t->setHorizontalHeaderLabels(headers);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->verticalHeader()->hide();
    t->horizontalHeader()->setStretchLastSection(true);
    t->setWordWrap(false);
    return t;
}

struct ResultPanel::Private
{
    QLabel *summary = nullptr;
    QTableWidget *recipients = nullptr;
    QGroupBox *tlsBox = nullptr;
    QFormLayout *tlsForm = nullptr;
    QLabel *protocol = nullptr, *cipher = nullptr, *subject = nullptr, *issuer = nullptr, *expiry = nullptr,
           *verdict = nullptr;
    QPushButton *chainButton = nullptr;
    QTableWidget *timings = nullptr;
    TlsInfo tls;

    void showChain(QWidget *parent) const;
};

void ResultPanel::Private::showChain(QWidget *parent) const
{
    auto *dialog = new QDialog(parent);
    dialog->setObjectName(QStringLiteral("certificateChainDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(ResultPanel::tr("Certificate chain"));
    auto *tree = new QTreeWidget(dialog);
    tree->setAccessibleName(ResultPanel::tr("Certificate chain"));
    tree->setToolTip(ResultPanel::tr("The certificates the server sent, its own first"));
    tree->setHeaderLabels({ResultPanel::tr("Field"), ResultPanel::tr("Value")});
    tree->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    const QVariantList chain = tls.toVariantMap().value(QStringLiteral("chain")).toList();
    for (qsizetype i = 0; i < chain.size(); ++i) {
        const QVariantMap c = chain.at(i).toMap();
        const QString role = i == 0 ? ResultPanel::tr("server certificate")
                                    : (c.value(QStringLiteral("selfSigned")).toBool() ? ResultPanel::tr("root")
                                                                                      : ResultPanel::tr("intermediate"));
        auto *top = new QTreeWidgetItem(tree, {ResultPanel::tr("#%1 (%2)").arg(i).arg(role),
                                               PeerText::value(c.value(QStringLiteral("subject")).toString())});
        auto field = [top](const QString &name, const QString &value) {
            auto *item = new QTreeWidgetItem(top, {name, value});
            item->setToolTip(1, PeerText::toolTip(value));
        };
        field(ResultPanel::tr("Subject"), PeerText::value(c.value(QStringLiteral("subject")).toString()));
        field(ResultPanel::tr("Issuer"), PeerText::value(c.value(QStringLiteral("issuer")).toString()));
        field(ResultPanel::tr("Valid from"), c.value(QStringLiteral("notBefore")).toString());
        field(ResultPanel::tr("Valid until"), c.value(QStringLiteral("notAfter")).toString());
        field(ResultPanel::tr("SHA-256"), c.value(QStringLiteral("sha256")).toString());
        field(ResultPanel::tr("Names (SAN)"),
              PeerText::values(c.value(QStringLiteral("sans")).toStringList(), QStringLiteral(", ")));
        top->setExpanded(true);
    }
    if (chain.isEmpty())
        new QTreeWidgetItem(tree, {ResultPanel::tr("No certificate"), QString()});
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    auto *layout = new QVBoxLayout(dialog);
    layout->addWidget(tree);
    layout->addWidget(buttons);
    dialog->resize(760, 480);
    // open(): window-modal without a nested event loop.
    dialog->open();
}

ResultPanel::ResultPanel(QWidget *parent)
    : QWidget(parent)
    , d(std::make_unique<Private>())
{
    d->summary = new QLabel(this);
    d->summary->setAccessibleName(tr("Send result"));
    d->summary->setWordWrap(true);
    d->summary->setTextFormat(Qt::PlainText);
    d->summary->setTextInteractionFlags(Qt::TextSelectableByMouse);

    d->recipients = makeReadOnlyTable({tr("Recipient"), tr("Code"), tr("Enhanced"), tr("Server text")}, this);
    d->recipients->setAccessibleName(tr("Recipients"));
    d->recipients->setToolTip(tr("The server's reply to each RCPT TO"));

    d->tlsBox = new QGroupBox(tr("TLS"), this);
    d->tlsBox->setAccessibleName(tr("TLS summary"));
    d->tlsForm = new QFormLayout(d->tlsBox);
    auto addField = [this](const QString &label, QLabel *&target, const QString &accessible) {
        target = new QLabel(d->tlsBox);
        target->setAccessibleName(accessible);
        target->setTextInteractionFlags(Qt::TextSelectableByMouse);
        target->setTextFormat(Qt::PlainText);
        target->setWordWrap(true);
        d->tlsForm->addRow(label, target);
    };
    addField(tr("Protocol:"), d->protocol, tr("TLS protocol"));
    addField(tr("Cipher:"), d->cipher, tr("TLS cipher"));
    addField(tr("Certificate:"), d->subject, tr("Certificate subject"));
    addField(tr("Issuer:"), d->issuer, tr("Certificate issuer"));
    addField(tr("Expires:"), d->expiry, tr("Certificate expiry"));
    addField(tr("Verdict:"), d->verdict, tr("Certificate verdict"));
    d->chainButton = new QPushButton(tr("Certificate &chain..."), d->tlsBox);
    d->chainButton->setAccessibleName(tr("Show certificate chain"));
    d->chainButton->setToolTip(tr("Every certificate the server sent: subject, issuer, validity, SHA-256, names"));
    d->tlsForm->addRow(QString(), d->chainButton);
    connect(d->chainButton, &QPushButton::clicked, this, [this] { d->showChain(this); });

    d->timings = makeReadOnlyTable({tr("Step"), tr("Time (ms)")}, this);
    d->timings->setAccessibleName(tr("Timings per step"));
    d->timings->setToolTip(tr("How long each step of the session took"));

    auto *lower = new QHBoxLayout;
    lower->addWidget(d->tlsBox, 3);
    lower->addWidget(d->timings, 2);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(d->summary);
    layout->addWidget(d->recipients, 2);
    layout->addLayout(lower, 3);
    clear();
}

ResultPanel::~ResultPanel() = default;

void ResultPanel::showResult(const SendResult &result)
{
    clear();
    // Summary: the end-of-data reply decides whether the message was taken
    // (RFC 5321 4.1.1.4); refused recipients are counted beside it.
    const QStringList refused = result.refusedRecipients();
    QString summary;
    if (result.accepted) {
        summary = tr("Accepted by %1: %2").arg(result.target, replyText(result.message));
    } else if (result.message.isValid()) {
        summary = tr("Refused by %1: %2").arg(result.target, replyText(result.message));
    } else if (result.error.isError()) {
        summary = tr("Not sent: %1").arg(PeerText::line(result.error.toString()));
    } else {
        summary = tr("Not sent");
    }
    if (!refused.isEmpty())
        summary += tr(" (%1 of %2 recipients refused)").arg(refused.size()).arg(result.recipients.size());
    else if (!result.recipients.isEmpty())
        summary += tr(" (all %1 recipients accepted)").arg(result.recipients.size());
    d->summary->setText(PeerText::line(summary));
    QPalette pal = d->summary->palette();
    pal.setColor(QPalette::WindowText,
                 LiveColours::readable(result.accepted ? LiveColours::ServerHue : LiveColours::ErrorHue,
                                       palette().color(QPalette::Window)));
    d->summary->setPalette(pal);
    if (result.error.isError())
        d->summary->setToolTip(
            PeerText::toolTip(ReplyExplainer::explainError(result.error, result.target, result.securityMode)));

    d->recipients->setRowCount(int(result.recipients.size()));
    for (int r = 0; r < result.recipients.size(); ++r) {
        const RecipientResult &rr = result.recipients.at(r);
        const QStringList cells{PeerText::value(rr.address),
                                rr.reply.isValid() ? QString::number(rr.reply.code) : QString(),
                                PeerText::value(rr.reply.enhanced),
                                PeerText::values(rr.reply.desc.split(u'\n'), QStringLiteral(" / "))};
        const QString explanation =
            rr.reply.isValid() ? ReplyExplainer::explain(rr.reply.code, rr.reply.enhanced, QStringLiteral("RCPT TO"))
                               : QString();
        for (int c = 0; c < cells.size(); ++c) {
            auto *item = new QTableWidgetItem(cells.at(c));
            item->setToolTip(PeerText::toolTip(explanation.isEmpty() ? cells.at(c) : explanation));
            if (!rr.accepted())
                item->setForeground(LiveColours::readable(LiveColours::ErrorHue, palette().color(QPalette::Base)));
            d->recipients->setItem(r, c, item);
        }
    }
    d->recipients->resizeColumnsToContents();

    const TlsInfo &tls = result.tls;
    d->tls = tls;
    d->chainButton->setEnabled(!tls.chain.isEmpty());
    if (!tls.encrypted) {
        d->protocol->setText(tr("none: the session was not encrypted"));
        d->verdict->setText(result.securityMode.isEmpty() ? tr("no TLS")
                                                          : tr("no TLS (mode %1)").arg(result.securityMode));
    } else {
        d->protocol->setText(tls.protocol + (tls.implicit ? tr(" (implicit TLS)") : tr(" (STARTTLS)")));
        d->cipher->setText(tls.cipherBits > 0 ? tr("%1, %2 bits").arg(tls.cipher).arg(tls.cipherBits) : tls.cipher);
        if (!tls.chain.isEmpty()) {
            const QSslCertificate &leaf = tls.chain.first();
            const QVariantMap leafMap = tls.toVariantMap().value(QStringLiteral("chain")).toList().value(0).toMap();
            d->subject->setText(PeerText::value(leafMap.value(QStringLiteral("subject")).toString()));
            d->issuer->setText(PeerText::value(leafMap.value(QStringLiteral("issuer")).toString()));
            const qint64 days = QDateTime::currentDateTimeUtc().daysTo(leaf.expiryDate().toUTC());
            const QString date = leaf.expiryDate().toUTC().date().toString(Qt::ISODate);
            d->expiry->setText(days >= 0 ? tr("%1 (%2 days left)").arg(date).arg(days)
                                         : tr("%1 (expired %2 days ago)").arg(date).arg(-days));
        }
        // The verdict states the insecure choice outright (ARCHITECTURE.md: every
        // report of such a session says so).
        QStringList reasons;
        for (const TlsInfo::CertificateError &e : tls.errors)
            reasons.append(e.reason.isEmpty() ? e.name : e.reason);
        reasons.removeDuplicates();
        QString verdict;
        if (!tls.verificationEnabled)
            verdict = tr("insecure mode: the certificate was NOT verified");
        else if (tls.verified)
            verdict = tr("verified for %1").arg(tls.peerVerifyName);
        else
            verdict = tr("NOT verified");
        if (!reasons.isEmpty() && !tls.verified)
            verdict += QStringLiteral(": ") + reasons.join(QStringLiteral("; "));
        d->verdict->setText(PeerText::line(verdict));
        QPalette vp = d->verdict->palette();
        vp.setColor(QPalette::WindowText,
                    LiveColours::readable(tls.verified ? LiveColours::ServerHue : LiveColours::ErrorHue,
                                          palette().color(QPalette::Window)));
        d->verdict->setPalette(vp);
    }

    d->timings->setRowCount(int(result.timings.size()));
    for (int r = 0; r < result.timings.size(); ++r) {
        const StepTiming &t = result.timings.at(r);
        d->timings->setItem(r, 0, new QTableWidgetItem(t.step));
        auto *ms = new QTableWidgetItem(QString::number(double(t.us) / 1000.0, 'f', 1));
        ms->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        d->timings->setItem(r, 1, ms);
    }
    d->timings->resizeColumnToContents(0);
}

void ResultPanel::clear()
{
    d->summary->setText(tr("No result yet"));
    d->summary->setPalette(palette());
    d->summary->setToolTip(QString());
    d->recipients->setRowCount(0);
    d->timings->setRowCount(0);
    for (QLabel *l : {d->protocol, d->cipher, d->subject, d->issuer, d->expiry, d->verdict})
        l->clear();
    d->verdict->setPalette(palette());
    d->tls = TlsInfo();
    d->chainButton->setEnabled(false);
}

QList<QStringList> ResultPanel::recipientRows() const
{
    return rowsOf(d->recipients);
}

QString ResultPanel::summaryText() const
{
    return d->summary->text();
}

QString ResultPanel::tlsSummaryText() const
{
    QStringList lines;
    for (int r = 0; r < d->tlsForm->rowCount(); ++r) {
        auto *label = qobject_cast<QLabel *>(d->tlsForm->itemAt(r, QFormLayout::LabelRole)
                                                 ? d->tlsForm->itemAt(r, QFormLayout::LabelRole)->widget()
                                                 : nullptr);
        auto *value = qobject_cast<QLabel *>(d->tlsForm->itemAt(r, QFormLayout::FieldRole)
                                                 ? d->tlsForm->itemAt(r, QFormLayout::FieldRole)->widget()
                                                 : nullptr);
        if (label && value)
            lines.append(label->text() + u' ' + value->text());
    }
    return lines.join(u'\n');
}

QList<QStringList> ResultPanel::timingRows() const
{
    return rowsOf(d->timings);
}
