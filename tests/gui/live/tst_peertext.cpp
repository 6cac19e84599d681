// Peer text in the widgets that show it (live/peertext.h): a certificate whose
// names hold terminal escapes and bidi overrides (made at test time with the
// openssl CLI), a reply, a captured subject, a history row, a check summary, a
// transcript line and an event. Cells, labels and tooltips show the escaped form
// ("\x1b", "\x202e"), never the raw characters, and a tooltip that looks like
// HTML shows its tags as text.

#include "shared/unsafetext.h"
#include "capture/messagestore.h"
#include "capture/capturelistmodel.h"
#include "capture/capturepanel.h"
#include "diagnose/checklistmodel.h"
#include "history/historylistmodel.h"
#include "live/eventlogmodel.h"
#include "live/liveviews.h"
#include "outbox/outboxpanel.h"
#include "store/historystore.h"

#include <QDialog>
#include <QFile>
#include <QListWidget>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextDocument>
#include <QTreeWidget>
#include <QTreeWidgetItemIterator>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace {

const QString HostileCn = u"\x1b]0;title\x07\x1b[2Jleaf\u202e\u2066"_s;
const QString HostileCnShown = uR"(\x1b]0;title\x07\x1b[2Jleaf\x202e\x2066)"_s;

// A character a viewer would act on or that would disguise the text around it
// (shared/unsafetext.h); line feeds are allowed (multi-line labels).
bool holdsUnsafe(const QString &text)
{
    return UnsafeText::holds(text, true);
}

// What a tooltip shows: Qt renders it as HTML when it looks like HTML
// (Qt::mightBeRichText), else as plain text (QToolTip, QLabel::AutoText).
QString shownToolTip(const QString &tip)
{
    if (!Qt::mightBeRichText(tip))
        return tip;
    QTextDocument doc;
    doc.setHtml(tip);
    return doc.toPlainText();
}

#define VERIFY_SHOWN(text, expected)                                                                               \
    do {                                                                                                           \
        const QString shownValue = (text);                                                                         \
        QVERIFY2(!holdsUnsafe(shownValue), qPrintable(u"raw control or format character in: "_s + shownValue));   \
        QVERIFY2(shownValue.contains(expected), qPrintable(shownValue));                                           \
    } while (false)

} // namespace

class TestPeerText : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void resultPanelCertificateAndReplies();
    void captureListSubject();
    void capturePanelHeadersAndParts();
    void historyListRow();
    void outboxRow();
    void checklistSummary();
    void transcriptAndEvents();

private:
    QTemporaryDir m_dir;
    QSslCertificate m_cert;
};

void TestPeerText::initTestCase()
{
    QVERIFY(m_dir.isValid());
    // -utf8 puts the -subj bytes, controls included, into a UTF8String CN.
    QProcess p;
    p.setWorkingDirectory(m_dir.path());
    p.start(u"openssl"_s, {u"req"_s, u"-x509"_s, u"-newkey"_s, u"ec"_s, u"-pkeyopt"_s, u"ec_paramgen_curve:P-256"_s,
                           u"-nodes"_s, u"-keyout"_s, u"leaf.key"_s, u"-out"_s, u"leaf.pem"_s, u"-days"_s, u"2"_s,
                           u"-utf8"_s, u"-subj"_s, u"/CN="_s + HostileCn, u"-addext"_s,
                           u"subjectAltName=DNS:host\x1b[2J.test"_s});
    QVERIFY(p.waitForFinished(30000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    const QList<QSslCertificate> certs = QSslCertificate::fromPath(m_dir.filePath(u"leaf.pem"_s));
    QCOMPARE(certs.size(), 1);
    m_cert = certs.first();
    QCOMPARE(m_cert.subjectInfo(QSslCertificate::CommonName), QStringList{HostileCn});
}

void TestPeerText::resultPanelCertificateAndReplies()
{
    SendResult r;
    r.target = u"127.0.0.1:2525"_s;
    r.securityMode = u"starttls"_s;
    r.accepted = true;
    r.message = ServerReply{250, QString(), u"Ok \x1b[2J\u202equeued"_s};
    // Without a reply code there is no explanation: the cell's own text is its tooltip.
    r.recipients = {RecipientResult{u"a@mail.test"_s, ServerReply{250, QString(), u"ok"_s}},
                    RecipientResult{u"b@mail.test"_s, ServerReply{0, QString(), u"<b>ok</b> \x1b]0;t\x07"_s}}};
    r.tls.encrypted = true;
    r.tls.protocol = u"TLSv1.3"_s;
    r.tls.peerVerifyName = u"smtp.test"_s;
    r.tls.chain = {m_cert};
    r.tls.errors = {TlsInfo::CertificateError{u"SelfSignedCertificate"_s,
                                              u"the certificate of "_s + HostileCn + u" is self-signed"_s, HostileCn}};

    ResultPanel panel;
    panel.resize(1280, 800);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    panel.showResult(r);

    VERIFY_SHOWN(panel.summaryText(), uR"(Ok \x1b[2J\x202equeued)"_s);
    const QString tls = panel.tlsSummaryText();
    VERIFY_SHOWN(tls, u"Certificate: CN="_s + HostileCnShown);
    VERIFY_SHOWN(tls, u"Issuer: CN="_s + HostileCnShown);
    VERIFY_SHOWN(tls, u"NOT verified: the certificate of "_s + HostileCnShown);
    const QList<QStringList> rows = panel.recipientRows();
    QCOMPARE(rows.size(), 2);
    VERIFY_SHOWN(rows.at(1).at(3), uR"(<b>ok</b> \x1b]0;t\x07)"_s);

    // Tooltips: the recipients' cells (HTML-looking text shown as text) and the
    // chain dialog's fields.
    QTableWidget *recipients = nullptr;
    for (QTableWidget *t : panel.findChildren<QTableWidget *>()) {
        if (t->accessibleName() == u"Recipients")
            recipients = t;
    }
    QVERIFY(recipients);
    const QString cellTip = recipients->item(1, 3)->toolTip();
    QVERIFY(!cellTip.isEmpty());
    VERIFY_SHOWN(shownToolTip(cellTip), uR"(<b>ok</b> \x1b]0;t\x07)"_s);

    auto *button = panel.findChild<QPushButton *>();
    QVERIFY(button && button->isEnabled());
    QTest::mouseClick(button, Qt::LeftButton);
    QDialog *dialog = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((dialog = panel.findChild<QDialog *>(u"certificateChainDialog"_s)), 5000);
    auto *tree = dialog->findChild<QTreeWidget *>();
    QVERIFY(tree);
    QCOMPARE(tree->topLevelItemCount(), 1);
    VERIFY_SHOWN(tree->topLevelItem(0)->text(1), u"CN="_s + HostileCnShown);
    QStringList tips;
    for (int i = 0; i < tree->topLevelItem(0)->childCount(); ++i) {
        const QTreeWidgetItem *field = tree->topLevelItem(0)->child(i);
        QVERIFY2(!holdsUnsafe(field->text(1)), qPrintable(field->text(1)));
        tips.append(shownToolTip(field->toolTip(1)));
    }
    VERIFY_SHOWN(tips.join(u'\n'), u"CN="_s + HostileCnShown);
    VERIFY_SHOWN(tips.join(u'\n'), uR"(DNS:host\x1b[2J.test)"_s);
    dialog->reject();
}

void TestPeerText::captureListSubject()
{
    // A real capture store: the Subject is an RFC 2047 encoded word that the
    // store decodes; the envelope holds format characters (RFC 6531).
    Capture::MessageStore store;
    QString error;
    QVERIFY2(store.open(m_dir.filePath(u"capture"_s), &error), qPrintable(error));
    const QString subject = u"<b>inv\u202eoice</b>\x1b[2J\u2028next"_s;
    auto incoming = store.begin(u"\u202eevil@example.test"_s, {u"r\u2066cpt@example.test"_s}, &error);
    QVERIFY2(incoming, qPrintable(error));
    QVERIFY2(incoming->write("From: <s@example.test>\r\nSubject: =?UTF-8?B?" + subject.toUtf8().toBase64()
                                 + "?=\r\n\r\nbody\r\n",
                             &error),
             qPrintable(error));
    QVERIFY2(!store.commit(std::move(incoming), &error).isEmpty(), qPrintable(error));
    QCOMPARE(store.messages().value(0).subject, subject); // stored exactly

    CaptureListModel model;
    model.setStore(&store);
    QCOMPARE(model.rowCount(), 1);
    const auto cell = [&](int column, int role) { return model.index(0, column).data(role).toString(); };
    const QString shown = uR"(<b>inv\x202eoice</b>\x1b[2J\x2028next)"_s;
    VERIFY_SHOWN(cell(CaptureListModel::SubjectColumn, Qt::DisplayRole), shown);
    VERIFY_SHOWN(shownToolTip(cell(CaptureListModel::SubjectColumn, Qt::ToolTipRole)), shown);
    VERIFY_SHOWN(cell(CaptureListModel::FromColumn, Qt::DisplayRole), uR"(\x202eevil@example.test)"_s);
    VERIFY_SHOWN(shownToolTip(cell(CaptureListModel::ToColumn, Qt::ToolTipRole)), uR"(r\x2066cpt@example.test)"_s);
}

void TestPeerText::capturePanelHeadersAndParts()
{
    // The Capture view's header fields, attachment names and MIME tree come
    // from the sender: shown by the rule, while saving still finds the
    // attachment by its real name.
    Capture::MessageStore store;
    QString error;
    QVERIFY2(store.open(m_dir.filePath(u"panel"_s), &error), qPrintable(error));
    const QString note = u"\x1b]0;title\x07\u202eexe.txt"_s;
    const QString file = u"in\u202evoice\x1b.txt"_s;
    auto incoming = store.begin(u"s@example.test"_s, {u"r@example.test"_s}, &error);
    QVERIFY2(incoming, qPrintable(error));
    const QByteArray bytes = "From: <s@example.test>\r\nSubject: parts\r\nX-Note: =?UTF-8?B?" + note.toUtf8().toBase64()
        + "?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
          "Content-Type: text/plain\r\n\r\nbody\r\n--b\r\nContent-Type: text/plain\r\n"
          "Content-Disposition: attachment; filename*=UTF-8''"
        + QUrl::toPercentEncoding(file) + "\r\n\r\nattached\r\n--b--\r\n";
    QVERIFY2(incoming->write(bytes, &error), qPrintable(error));
    const QString id = store.commit(std::move(incoming), &error);
    QVERIFY2(!id.isEmpty(), qPrintable(error));

    CapturePanel panel;
    panel.setStore(&store);
    panel.resize(1280, 800);
    panel.show();
    QSignalSpy shown(&panel, &CapturePanel::messageShown);
    panel.selectMessage(id);
    QVERIFY(shown.wait(10000) || !shown.isEmpty());
    QCOMPARE(panel.detailState(), CapturePanel::DetailState::Shown);

    VERIFY_SHOWN(panel.headersText(), uR"(X-Note: \x1b]0;title\x07\x202eexe.txt)"_s);
    QStringList rows;
    for (const QTreeWidget *tree : panel.findChildren<QTreeWidget *>()) {
        for (QTreeWidgetItemIterator it(const_cast<QTreeWidget *>(tree)); *it; ++it) {
            for (int column = 0; column < (*it)->columnCount(); ++column)
                rows << (*it)->text(column);
        }
    }
    VERIFY_SHOWN(rows.join(u'\n'), uR"(in\x202evoice\x1b.txt)"_s);
    rows.clear();
    const auto lists = panel.findChildren<QListWidget *>();
    for (const QListWidget *list : lists) {
        for (int i = 0; i < list->count(); ++i)
            rows << list->item(i)->text();
    }
    VERIFY_SHOWN(rows.join(u'\n'), uR"(in\x202evoice\x1b.txt)"_s);
    QCOMPARE(panel.attachmentNames(), QStringList{file});
    const QString saved = m_dir.filePath(u"saved.txt"_s);
    QVERIFY2(panel.saveAttachment(file, saved, &error), qPrintable(error));
    QFile out(saved);
    QVERIFY(out.open(QIODevice::ReadOnly));
    QCOMPARE(out.readAll(), QByteArray("attached"));
}

void TestPeerText::historyListRow()
{
    Store::HistoryStore store;
    QString error;
    QVERIFY2(store.open(m_dir.filePath(u"history.sqlite"_s), &error), qPrintable(error));
    Store::SessionRecord sent;
    sent.started = QDateTime::currentDateTimeUtc();
    sent.source = u"cli"_s;
    sent.target = u"mx\u202e.example:25"_s;
    sent.outcome = u"accepted"_s;
    sent.subject = u"<i>Re:</i> \x1b]0;title\x07\u202efdp.exe"_s;
    QVERIFY2(store.add(sent, &error) > 0, qPrintable(error));
    Store::SessionRecord failed = sent;
    failed.outcome = u"failed"_s;
    failed.error = u"SSL-VERIFY-ERROR: the certificate of "_s + HostileCn + u" is self-signed"_s;
    QVERIFY2(store.add(failed, &error) > 0, qPrintable(error));

    HistoryListModel model(&store);
    model.reload();
    QCOMPARE(model.rowCount(), 2);
    QStringList display, tips;
    for (int row = 0; row < 2; ++row) {
        for (int column : {int(HistoryListModel::TargetColumn), int(HistoryListModel::SubjectColumn)}) {
            display.append(model.index(row, column).data(Qt::DisplayRole).toString());
            tips.append(shownToolTip(model.index(row, column).data(Qt::ToolTipRole).toString()));
        }
    }
    VERIFY_SHOWN(display.join(u'\n'), uR"(<i>Re:</i> \x1b]0;title\x07\x202efdp.exe)"_s);
    VERIFY_SHOWN(display.join(u'\n'), u"the certificate of "_s + HostileCnShown);
    VERIFY_SHOWN(display.join(u'\n'), uR"(mx\x202e.example:25)"_s);
    VERIFY_SHOWN(tips.join(u'\n'), uR"(Subject: <i>Re:</i> \x1b]0;title\x07\x202efdp.exe)"_s);
    VERIFY_SHOWN(tips.join(u'\n'), u"Error: SSL-VERIFY-ERROR: the certificate of "_s + HostileCnShown);
}

void TestPeerText::outboxRow()
{
    // An outbox item may come from an opened .eml file, and its error holds the
    // server's reply.
    Store::OutboxItem item;
    item.id = 1;
    item.created = QDateTime::currentDateTimeUtc();
    item.attempts = 1;
    item.profile = u"Local capture server"_s;
    item.fields = {{u"subject"_s, u"\x1b]0;title\x07\u202efdp.exe"_s},
                   {u"to"_s, u"user@mx\u202e.example"_s}};
    item.lastError = u"RCPT TO refused: 550 \x1b[2Jno\nsecond line \u2066"_s;
    OutboxPanel panel;
    panel.setItems({item});
    const auto *list = panel.findChild<QTreeWidget *>();
    QVERIFY(list);
    QCOMPARE(list->topLevelItemCount(), 1);
    const QTreeWidgetItem *row = list->topLevelItem(0);
    QStringList shown, tips;
    for (int column = 0; column < list->columnCount(); ++column) {
        shown.append(row->text(column));
        tips.append(shownToolTip(row->toolTip(column)));
    }
    VERIFY_SHOWN(shown.join(u'\n'), uR"(\x1b]0;title\x07\x202efdp.exe)"_s);
    VERIFY_SHOWN(shown.join(u'\n'), uR"(user@mx\x202e.example)"_s);
    VERIFY_SHOWN(shown.join(u'\n'), uR"(550 \x1b[2Jno)"_s);
    VERIFY_SHOWN(tips.join(u'\n'), uR"(second line \x2066)"_s);
}

void TestPeerText::checklistSummary()
{
    ChecklistModel model;
    Diagnostics::Check c;
    c.id = u"certificate-name"_s;
    c.scope = u"mx\u202e.example:25"_s;
    c.title = u"Certificate name"_s;
    c.verdict = Diagnostics::Verdict::Fail;
    c.summary = u"the certificate is for "_s + HostileCn + u", not mx.example"_s;
    c.fix = u"install a certificate for mx.example"_s;
    model.appendChecks({c});
    const QModelIndex scope = model.index(0, ChecklistModel::CheckColumn);
    VERIFY_SHOWN(scope.data(Qt::DisplayRole).toString(), uR"(mx\x202e.example:25)"_s);
    const QModelIndex check = model.index(0, ChecklistModel::SummaryColumn, model.index(0, 0));
    QVERIFY(check.isValid());
    VERIFY_SHOWN(check.data(Qt::DisplayRole).toString(), u"the certificate is for "_s + HostileCnShown);
    VERIFY_SHOWN(shownToolTip(check.data(Qt::ToolTipRole).toString()), u"the certificate is for "_s + HostileCnShown);
}

void TestPeerText::transcriptAndEvents()
{
    // A transcript line read back from a history file may hold what the engine
    // would have escaped: the view keeps it one escaped line.
    TranscriptView view;
    TranscriptEntry e;
    e.timeUs = 1000;
    e.direction = TranscriptEntry::Direction::Server;
    e.text = u"220 \x1b[2J\u202egreeting\nfake line"_s;
    view.append({e});
    QCOMPARE(view.lineCount(), 1);
    VERIFY_SHOWN(view.text(), uR"(220 \x1b[2J\x202egreeting\nfake line)"_s);

    EventLogModel events(100);
    events.append({QVariantMap{{u"event_name"_s, u"SmtpReply"_s}, {u"time"_s, 1}, {u"text"_s, u"<b>a</b>\u202eb"_s}}});
    QCOMPARE(events.rowCount(), 1);
    const QModelIndex details = events.index(0, EventLogModel::DetailsColumn);
    VERIFY_SHOWN(details.data(Qt::DisplayRole).toString(), uR"(text=<b>a</b>\x202eb)"_s);
    VERIFY_SHOWN(shownToolTip(details.data(Qt::ToolTipRole).toString()), uR"(text=<b>a</b>\x202eb)"_s);
}

QTEST_MAIN(TestPeerText)
#include "tst_peertext.moc"
