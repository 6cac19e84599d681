// The composer on real widgets (offscreen): what the user types becomes a core
// Message (or the opened .eml), and what cannot be sent is named, per field.

#include "composer/addresslistparser.h"
#include "composer/composerwidget.h"
#include "composer/wirepreviewdialog.h"
#include "mime/emlmessage.h"
#include "mime/message.h"

#include <QCheckBox>
#include <QDropEvent>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>
#include <QUrl>

#include <cmath>

namespace {

constexpr int kWaitMs = 5000;

QByteArray readAll(QIODevice *device)
{
    QByteArray out;
    while (device) {
        const QByteArray chunk = device->read(64 * 1024);
        if (chunk.isEmpty())
            break;
        out += chunk;
    }
    return out;
}

// The header block of a serialized message, unfolded (RFC 5322 2.2.3), one
// "Name: value" per entry.
QStringList headerLines(const QByteArray &bytes)
{
    const qsizetype end = bytes.indexOf("\r\n\r\n");
    QStringList lines;
    for (const QByteArray &line : bytes.left(end).split('\n')) {
        const QString l = QString::fromUtf8(line).remove(QLatin1Char('\r'));
        if ((l.startsWith(QLatin1Char(' ')) || l.startsWith(QLatin1Char('\t'))) && !lines.isEmpty())
            lines.last() += QLatin1Char(' ') + l.trimmed();
        else
            lines.append(l);
    }
    return lines;
}

QString headerValue(const QStringList &lines, const QString &name)
{
    for (const QString &l : lines) {
        if (l.startsWith(name + QLatin1Char(':'), Qt::CaseInsensitive))
            return l.mid(name.size() + 1).trimmed();
    }
    return {};
}

// WCAG 2.x contrast ratio of two colours (1 to 21).
double contrast(const QColor &a, const QColor &b)
{
    auto luminance = [](const QColor &c) {
        auto lin = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF());
    };
    const double la = luminance(a);
    const double lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

} // namespace

class TestComposerWidget : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void addressListParser_data();
    void addressListParser();
    void emptyComposerNamesMissingSender();
    void invalidAddressShowsReason_data();
    void invalidAddressShowsReason();
    void validMessageBuilds();
    void quotedDisplayNameWithComma();
    void attachmentViaAdd();
    void attachmentViaDrop();
    void attachmentRemove();
    void unreadableAttachmentIsAProblem();
    void customHeaders_data();
    void customHeaders();
    void openEmlRoundTrip();
    void openEmlMultipartNote();
    void openEmlMissingFile();
    void saveEmlReadsBack();
    void wirePreviewDotStuffed();
    void wirePreviewTruncated();
    void fitsSmallScreen();
    void errorColoursReadable_data();
    void errorColoursReadable();
    void stateRoundTrip_data();
    void stateRoundTrip();
    void stateOfOpenedEml_data();
    void stateOfOpenedEml();
    void stateNamesMissingAttachment();
    void changedOnEditsOnly();
    void messageFromStateBuildsTheSameMessage();

private:
    QTemporaryDir m_dir;
    void fillValid(ComposerWidget &c)
    {
        c.setField(QStringLiteral("from"), QStringLiteral("Alice Example <alice@example.org>"));
        c.setField(QStringLiteral("to"), QStringLiteral("bob@example.org"));
        c.setField(QStringLiteral("subject"), QStringLiteral("Hello"));
        c.setField(QStringLiteral("text"), QStringLiteral("Hi Bob\n"));
    }
};

void TestComposerWidget::addressListParser_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QStringList>("addresses");
    QTest::addColumn<QStringList>("names");

    QTest::addRow("bare") << "a@example.org" << true << QStringList{"a@example.org"} << QStringList{""};
    QTest::addRow("two, trailing comma") << "a@example.org, b@example.org," << true
                                        << QStringList{"a@example.org", "b@example.org"} << QStringList{"", ""};
    QTest::addRow("semicolon") << "a@example.org; b@example.org" << true
                               << QStringList{"a@example.org", "b@example.org"} << QStringList{"", ""};
    QTest::addRow("quoted comma name") << "\"Doe, John\" <j@example.org>, x@example.org" << true
                                       << QStringList{"j@example.org", "x@example.org"}
                                       << QStringList{"Doe, John", ""};
    QTest::addRow("escaped quote") << R"("Say \"hi\", Bob" <b@example.org>)" << true
                                   << QStringList{"b@example.org"} << QStringList{R"(Say "hi", Bob)"};
    QTest::addRow("plain name") << "Bob Smith <b@example.org>" << true << QStringList{"b@example.org"}
                                << QStringList{"Bob Smith"};
    QTest::addRow("comment dropped") << "b@example.org (Bob, at work)" << true << QStringList{"b@example.org"}
                                     << QStringList{""};
    QTest::addRow("quoted local part") << "\"a,b\"@example.org" << true << QStringList{"\"a,b\"@example.org"}
                                       << QStringList{""};
    QTest::addRow("unclosed quote") << "\"Doe, John <j@example.org>" << false << QStringList{} << QStringList{};
    QTest::addRow("no closing angle") << "John <j@example.org" << false << QStringList{} << QStringList{};
    QTest::addRow("text after angle") << "John <j@example.org> extra" << false << QStringList{} << QStringList{};
    QTest::addRow("empty") << "  " << true << QStringList{} << QStringList{};
}

void TestComposerWidget::addressListParser()
{
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(QStringList, addresses);
    QFETCH(QStringList, names);

    QList<AddressListParser::Entry> entries;
    QString error;
    QCOMPARE(AddressListParser::parse(text, &entries, &error), ok);
    if (!ok) {
        QVERIFY(!error.isEmpty());
        return;
    }
    QStringList gotAddresses;
    QStringList gotNames;
    for (const auto &e : entries) {
        gotAddresses.append(e.mailbox.address);
        gotNames.append(e.mailbox.displayName);
    }
    QCOMPARE(gotAddresses, addresses);
    QCOMPARE(gotNames, names);
}

void TestComposerWidget::emptyComposerNamesMissingSender()
{
    ComposerWidget c;
    QVERIFY(c.problem().contains(QLatin1String("sender")));
    QString problem;
    QVERIFY(!c.buildMessage(&problem));
    QCOMPARE(problem, c.problem());

    // A sender alone: now the missing recipient is named.
    QSignalSpy spy(&c, &ComposerWidget::problemChanged);
    c.setField(QStringLiteral("from"), QStringLiteral("alice@example.org"));
    QVERIFY(spy.wait(kWaitMs));
    QVERIFY(spy.last().at(0).toString().contains(QLatin1String("recipient")));
    QCOMPARE(c.problem(), spy.last().at(0).toString());
}

void TestComposerWidget::invalidAddressShowsReason_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("label");
    QTest::addColumn<QString>("bad");

    QTest::addRow("to no domain") << "to" << "bob@" << "To" << "bob@";
    QTest::addRow("to second of two") << "to" << "carol@example.org, bob@" << "To" << "bob@";
    QTest::addRow("to no at") << "to" << "Bob <bob.example.org>" << "To" << "bob.example.org";
    QTest::addRow("cc bad domain") << "cc" << "c@exa_mple.org" << "Cc" << "c@exa_mple.org";
    QTest::addRow("bcc space") << "bcc" << "b b@example.org" << "Bcc" << "b b@example.org";
    QTest::addRow("from invalid") << "from" << "alice@@example.org" << "From" << "alice@@example.org";
    QTest::addRow("to unclosed quote") << "to" << "\"Doe, John <j@example.org>" << "To" << "Doe, John";
}

void TestComposerWidget::invalidAddressShowsReason()
{
    QFETCH(QString, field);
    QFETCH(QString, value);
    QFETCH(QString, label);
    QFETCH(QString, bad);

    ComposerWidget c;
    fillValid(c);
    c.show();
    QVERIFY(c.problem().isEmpty());
    c.setField(field, value);

    auto *reason = c.findChild<QLabel *>(field + QStringLiteral("Reason"));
    QVERIFY(reason);
    QTRY_VERIFY_WITH_TIMEOUT(reason->isVisible(), kWaitMs);
    QVERIFY2(reason->text().startsWith(label + QStringLiteral(": ")), qPrintable(reason->text()));
    QVERIFY2(reason->text().contains(bad), qPrintable(reason->text()));
    QVERIFY(c.problem().startsWith(label + QStringLiteral(": ")));
    // The field is tinted: its base colour differs from the untouched Subject's.
    auto *edit = c.findChild<QLineEdit *>(field + QStringLiteral("Edit"));
    auto *subject = c.findChild<QLineEdit *>(QStringLiteral("subjectEdit"));
    QVERIFY(edit && subject);
    QVERIFY(edit->palette().color(QPalette::Base) != subject->palette().color(QPalette::Base));

    // Fixing it clears the reason and the problem.
    QSignalSpy spy(&c, &ComposerWidget::problemChanged);
    c.setField(field, field == QLatin1String("from") ? QStringLiteral("alice@example.org")
                                                      : QStringLiteral("ok@example.org"));
    QVERIFY(spy.wait(kWaitMs));
    QCOMPARE(spy.last().at(0).toString(), QString());
    QVERIFY(reason->isHidden());
    QCOMPARE(edit->palette().color(QPalette::Base), subject->palette().color(QPalette::Base));
}

void TestComposerWidget::validMessageBuilds()
{
    ComposerWidget c;
    QSignalSpy spy(&c, &ComposerWidget::problemChanged);
    fillValid(c);
    c.setField(QStringLiteral("cc"), QStringLiteral("carol@example.org"));
    c.setField(QStringLiteral("bcc"), QStringLiteral("Dave <dave@example.org>"));
    c.findChild<QCheckBox *>(QStringLiteral("importantCheck"))->setChecked(true);
    c.findChild<QCheckBox *>(QStringLiteral("readReceiptCheck"))->setChecked(true);
    QVERIFY(spy.wait(kWaitMs));
    QCOMPARE(spy.last().at(0).toString(), QString());
    QCOMPARE(c.problem(), QString());

    QString problem = QStringLiteral("unset");
    const auto built = c.buildMessage(&problem);
    QVERIFY(built);
    QVERIFY(problem.isEmpty());
    const auto message = std::dynamic_pointer_cast<Message>(built);
    QVERIFY(message);
    QCOMPARE(message->envelopeSender(), QStringLiteral("alice@example.org"));
    QCOMPARE(message->envelopeRecipients(),
             (QStringList{"bob@example.org", "carol@example.org", "dave@example.org"}));

    const QByteArray bytes = message->toBytes();
    const QStringList headers = headerLines(bytes);
    QCOMPARE(headerValue(headers, QStringLiteral("From")), QStringLiteral("Alice Example <alice@example.org>"));
    QCOMPARE(headerValue(headers, QStringLiteral("To")), QStringLiteral("bob@example.org"));
    QCOMPARE(headerValue(headers, QStringLiteral("Cc")), QStringLiteral("carol@example.org"));
    QCOMPARE(headerValue(headers, QStringLiteral("Subject")), QStringLiteral("Hello"));
    QCOMPARE(headerValue(headers, QStringLiteral("Importance")), QStringLiteral("high"));
    QCOMPARE(headerValue(headers, QStringLiteral("Disposition-Notification-To")),
             QStringLiteral("alice@example.org"));
    // RFC 5322 3.6.3: the blind copy is on the envelope only.
    for (const QString &h : headers)
        QVERIFY2(!h.startsWith(QLatin1String("Bcc:"), Qt::CaseInsensitive), qPrintable(h));
    QVERIFY(!bytes.contains("dave@example.org"));
    QVERIFY(bytes.contains("\r\n\r\nHi Bob\r\n"));
}

void TestComposerWidget::quotedDisplayNameWithComma()
{
    ComposerWidget c;
    fillValid(c);
    c.setField(QStringLiteral("to"), QStringLiteral("\"Doe, John\" <john@example.org>, bob@example.org"));
    QCOMPARE(c.problem(), QString());
    const auto message = std::dynamic_pointer_cast<Message>(c.buildMessage(nullptr));
    QVERIFY(message);
    QCOMPARE(message->to().size(), 2);
    QCOMPARE(message->to().at(0).address, QStringLiteral("john@example.org"));
    QCOMPARE(message->to().at(0).displayName, QStringLiteral("Doe, John"));
    QCOMPARE(message->to().at(1).address, QStringLiteral("bob@example.org"));
    const QString to = headerValue(headerLines(message->toBytes()), QStringLiteral("To"));
    QVERIFY2(to.contains(QLatin1String("\"Doe, John\" <john@example.org>")), qPrintable(to));
}

void TestComposerWidget::attachmentViaAdd()
{
    const QString path = m_dir.filePath(QStringLiteral("report.txt"));
    QVERIFY(writeFile(path, QByteArray(1500, 'r')));
    ComposerWidget c;
    fillValid(c);
    c.addAttachment(path);

    auto *list = c.findChild<QTreeWidget *>(QStringLiteral("attachmentList"));
    QVERIFY(list);
    QCOMPARE(list->topLevelItemCount(), 1);
    const QTreeWidgetItem *item = list->topLevelItem(0);
    QCOMPARE(item->text(0), QStringLiteral("report.txt"));
    QCOMPARE(item->text(1), QStringLiteral("text/plain"));
    QCOMPARE(item->text(2), QLocale().formattedDataSize(1500));

    QCOMPARE(c.problem(), QString());
    const auto message = std::dynamic_pointer_cast<Message>(c.buildMessage(nullptr));
    QVERIFY(message);
    QCOMPARE(message->attachments().size(), 1);
    QCOMPARE(message->attachments().at(0).path, QFileInfo(path).absoluteFilePath());
    QVERIFY(message->toBytes().contains("report.txt"));
}

void TestComposerWidget::attachmentViaDrop()
{
    const QString a = m_dir.filePath(QStringLiteral("dropped.pdf"));
    const QString b = m_dir.filePath(QStringLiteral("picture.png"));
    QVERIFY(writeFile(a, QByteArray("%PDF-1.4\n") + QByteArray(3000, 'x')));
    QVERIFY(writeFile(b, QByteArray::fromHex("89504e470d0a1a0a") + QByteArray(100, '\0')));
    ComposerWidget c;
    fillValid(c);
    c.resize(1000, 700);
    c.show();

    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(a), QUrl::fromLocalFile(b)});
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(&c, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(&c, &drop);
    QVERIFY(drop.isAccepted());

    auto *list = c.findChild<QTreeWidget *>(QStringLiteral("attachmentList"));
    QCOMPARE(list->topLevelItemCount(), 2);
    QCOMPARE(list->topLevelItem(0)->text(0), QStringLiteral("dropped.pdf"));
    QCOMPARE(list->topLevelItem(0)->text(1), QStringLiteral("application/pdf"));
    QCOMPARE(list->topLevelItem(0)->text(2), QLocale().formattedDataSize(QFileInfo(a).size()));
    QCOMPARE(list->topLevelItem(1)->text(1), QStringLiteral("image/png"));

    // Dropped on the body editor, a file is attached, not pasted as its URL.
    const QString t = m_dir.filePath(QStringLiteral("notes.txt"));
    QVERIFY(writeFile(t, "notes"));
    QMimeData mime2;
    mime2.setUrls({QUrl::fromLocalFile(t)});
    auto *body = c.findChild<QPlainTextEdit *>(QStringLiteral("textEdit"));
    // As a real drag does: the enter picks the target that gets the drop.
    QDragEnterEvent enter2(QPoint(5, 5), Qt::CopyAction, &mime2, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(body->viewport(), &enter2);
    QVERIFY(enter2.isAccepted());
    QDropEvent drop2(QPointF(5, 5), Qt::CopyAction, &mime2, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(body->viewport(), &drop2);
    QCOMPARE(list->topLevelItemCount(), 3);
    QCOMPARE(body->toPlainText(), QStringLiteral("Hi Bob\n"));

    const auto message = std::dynamic_pointer_cast<Message>(c.buildMessage(nullptr));
    QVERIFY(message);
    QCOMPARE(message->attachments().size(), 3);
    const QByteArray bytes = message->toBytes();
    QVERIFY(bytes.contains("dropped.pdf"));
    QVERIFY(bytes.contains("picture.png"));
}

void TestComposerWidget::attachmentRemove()
{
    const QString a = m_dir.filePath(QStringLiteral("one.txt"));
    const QString b = m_dir.filePath(QStringLiteral("two.txt"));
    const QString e = m_dir.filePath(QStringLiteral("three.txt"));
    QVERIFY(writeFile(a, "1") && writeFile(b, "2") && writeFile(e, "3"));
    ComposerWidget c;
    fillValid(c);
    c.show();
    c.addAttachment(a);
    c.addAttachment(b);
    c.addAttachment(e);
    auto *list = c.findChild<QTreeWidget *>(QStringLiteral("attachmentList"));
    QCOMPARE(list->topLevelItemCount(), 3);

    // Delete key removes the selection.
    list->setCurrentItem(list->topLevelItem(0));
    QTest::keyClick(list, Qt::Key_Delete);
    QCOMPARE(list->topLevelItemCount(), 2);
    QCOMPARE(list->topLevelItem(0)->text(0), QStringLiteral("two.txt"));

    // And so does the Remove button.
    list->setCurrentItem(list->topLevelItem(1));
    auto *remove = c.findChild<QPushButton *>(QStringLiteral("removeAttachmentButton"));
    QVERIFY(remove);
    remove->click();
    QCOMPARE(list->topLevelItemCount(), 1);

    const auto message = std::dynamic_pointer_cast<Message>(c.buildMessage(nullptr));
    QVERIFY(message);
    QCOMPARE(message->attachments().size(), 1);
    QCOMPARE(message->attachments().at(0).name, QStringLiteral("two.txt"));
}

void TestComposerWidget::unreadableAttachmentIsAProblem()
{
    ComposerWidget c;
    fillValid(c);
    const QString missing = m_dir.filePath(QStringLiteral("gone.bin"));
    c.addAttachment(missing);
    QVERIFY2(c.problem().contains(QLatin1String("cannot be read")), qPrintable(c.problem()));
    QVERIFY(c.problem().contains(QLatin1String("gone.bin")));
    QVERIFY(!c.buildMessage(nullptr));
    // The file appears: the message can be sent.
    QVERIFY(writeFile(missing, "now here"));
    QCOMPARE(c.problem(), QString());
}

void TestComposerWidget::customHeaders_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("problemPart"); // empty: sendable

    QTest::addRow("plain") << "X-Campaign" << "spring 2026" << "";
    QTest::addRow("CRLF injection") << "X-Test" << "a\r\nBcc: evil@example.org" << "CR, LF";
    QTest::addRow("bare LF") << "X-Test" << "a\nb" << "CR, LF";
    QTest::addRow("space in name") << "Bad Name" << "v" << "invalid header name";
    QTest::addRow("reserved") << "Subject" << "other" << "written by the composer";
    QTest::addRow("value without name") << "" << "orphan" << "invalid header name";
}

void TestComposerWidget::customHeaders()
{
    QFETCH(QString, name);
    QFETCH(QString, value);
    QFETCH(QString, problemPart);

    ComposerWidget c;
    fillValid(c);
    c.show();
    auto *table = c.findChild<QTableWidget *>(QStringLiteral("customHeaders"));
    auto *add = c.findChild<QPushButton *>(QStringLiteral("addHeaderButton"));
    QVERIFY(table && add);
    add->click();
    QCOMPARE(table->rowCount(), 1);
    // An empty new row is not a problem.
    QCOMPARE(c.problem(), QString());
    QSignalSpy spy(&c, &ComposerWidget::problemChanged);
    table->item(0, 0)->setText(name);
    table->item(0, 1)->setText(value);

    if (problemPart.isEmpty()) {
        QCOMPARE(c.problem(), QString());
        const auto message = std::dynamic_pointer_cast<Message>(c.buildMessage(nullptr));
        QVERIFY(message);
        QCOMPARE(headerValue(headerLines(message->toBytes()), name), value);
    } else {
        QVERIFY2(c.problem().contains(problemPart), qPrintable(c.problem()));
        QVERIFY(spy.wait(kWaitMs));
        QCOMPARE(spy.last().at(0).toString(), c.problem());
        // Removing the row makes it sendable again.
        table->selectRow(0);
        c.findChild<QPushButton *>(QStringLiteral("removeHeaderButton"))->click();
        QCOMPARE(table->rowCount(), 0);
        QCOMPARE(c.problem(), QString());
    }
}

void TestComposerWidget::openEmlRoundTrip()
{
    const QByteArray eml = "From: Alice <alice@example.org>\r\n"
                           "To: \"Doe, John\" <john@example.org>, bob@example.org\r\n"
                           "Cc: carol@example.org\r\n"
                           "Bcc: secret@example.org\r\n"
                           "Subject: Round trip\r\n"
                           "Message-ID: <rt-1@example.org>\r\n"
                           "Date: Thu, 26 Nov 2026 09:00:00 +0000\r\n"
                           "Content-Type: text/plain; charset=utf-8\r\n"
                           "\r\n"
                           "Line one\r\n"
                           ".dot line\r\n";
    const QString path = m_dir.filePath(QStringLiteral("roundtrip.eml"));
    QVERIFY(writeFile(path, eml));

    ComposerWidget c;
    c.show();
    QString error;
    QVERIFY2(c.openEml(path, &error), qPrintable(error));
    QCOMPARE(c.findChild<QLineEdit *>(QStringLiteral("fromEdit"))->text(), QStringLiteral("Alice <alice@example.org>"));
    QCOMPARE(c.findChild<QLineEdit *>(QStringLiteral("toEdit"))->text(),
             QStringLiteral("\"Doe, John\" <john@example.org>, bob@example.org"));
    QCOMPARE(c.findChild<QLineEdit *>(QStringLiteral("ccEdit"))->text(), QStringLiteral("carol@example.org"));
    QCOMPARE(c.findChild<QLineEdit *>(QStringLiteral("bccEdit"))->text(), QStringLiteral("secret@example.org"));
    QCOMPARE(c.findChild<QLineEdit *>(QStringLiteral("subjectEdit"))->text(), QStringLiteral("Round trip"));
    QCOMPARE(c.findChild<QPlainTextEdit *>(QStringLiteral("textEdit"))->toPlainText(),
             QStringLiteral("Line one\n.dot line\n"));
    auto *note = c.findChild<QLabel *>(QStringLiteral("emlNote"));
    QVERIFY(note->isVisible());
    QVERIFY2(note->text().contains(QLatin1String("unchanged")), qPrintable(note->text()));
    QCOMPARE(c.problem(), QString());

    // Unedited: the file itself goes, minus its Bcc line (RFC 5322 3.6.3).
    const auto built = c.buildMessage(nullptr);
    const auto asEml = std::dynamic_pointer_cast<EmlMessage>(built);
    QVERIFY(asEml);
    QCOMPARE(asEml->envelopeSender(), QStringLiteral("alice@example.org"));
    QVERIFY(asEml->envelopeRecipients().contains(QStringLiteral("secret@example.org")));
    QByteArray expected = eml;
    expected.replace("Bcc: secret@example.org\r\n", "");
    const std::unique_ptr<QIODevice> body = asEml->openBody(BodyOptions{});
    QCOMPARE(readAll(body.get()), expected);

    // Any edit switches to a message composed from the fields.
    c.setField(QStringLiteral("subject"), QStringLiteral("Round trip, edited"));
    QVERIFY(note->text().contains(QLatin1String("Composing")));
    const auto composed = std::dynamic_pointer_cast<Message>(c.buildMessage(nullptr));
    QVERIFY(composed);
    QCOMPARE(composed->subject(), QStringLiteral("Round trip, edited"));
    QCOMPARE(composed->to().at(0).displayName, QStringLiteral("Doe, John"));
    QCOMPARE(composed->bcc().at(0).address, QStringLiteral("secret@example.org"));
    QCOMPARE(composed->text(), QStringLiteral("Line one\n.dot line\n"));
}

void TestComposerWidget::openEmlMultipartNote()
{
    const QByteArray eml = "From: alice@example.org\r\n"
                           "To: undisclosed-recipients:;\r\n"
                           "Bcc: hidden@example.org\r\n"
                           "Subject: parts\r\n"
                           "MIME-Version: 1.0\r\n"
                           "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
                           "\r\n"
                           "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1--\r\n";
    const QString path = m_dir.filePath(QStringLiteral("multi.eml"));
    QVERIFY(writeFile(path, eml));
    ComposerWidget c;
    c.show();
    QString error;
    QVERIFY2(c.openEml(path, &error), qPrintable(error));
    auto *bodyNote = c.findChild<QLabel *>(QStringLiteral("bodyNote"));
    QVERIFY(bodyNote->isVisible());
    QVERIFY(bodyNote->text().contains(QLatin1String("multipart message: sent unchanged")));
    QCOMPARE(c.findChild<QPlainTextEdit *>(QStringLiteral("textEdit"))->toPlainText(), QString());
    // The group has no members; the file's only recipient is the Bcc one, which
    // the split could not place with the group syntax: everything is in To.
    QCOMPARE(c.findChild<QLineEdit *>(QStringLiteral("toEdit"))->text(), QStringLiteral("hidden@example.org"));
    QVERIFY(c.findChild<QLabel *>(QStringLiteral("emlNote"))->text().contains(QLatin1String("all its recipients")));
    QVERIFY(std::dynamic_pointer_cast<EmlMessage>(c.buildMessage(nullptr)));
}

void TestComposerWidget::openEmlMissingFile()
{
    ComposerWidget c;
    QString error;
    const QString path = m_dir.filePath(QStringLiteral("nothere.eml"));
    QVERIFY(!c.openEml(path, &error));
    QVERIFY2(error.contains(path), qPrintable(error));
}

void TestComposerWidget::saveEmlReadsBack()
{
    ComposerWidget c;
    fillValid(c);
    c.setField(QStringLiteral("bcc"), QStringLiteral("blind@example.org"));
    const QString path = m_dir.filePath(QStringLiteral("saved.eml"));
    QString error;
    QVERIFY2(c.saveEml(path, &error), qPrintable(error));

    const auto loaded = EmlMessage::load(path, &error);
    QVERIFY2(loaded, qPrintable(error));
    QCOMPARE(loaded->subject(), QStringLiteral("Hello"));
    QCOMPARE(loaded->envelopeSender(), QStringLiteral("alice@example.org"));
    // Saved as sent: without Bcc, so only To is left in the file.
    QCOMPARE(loaded->headerRecipients(), QStringList{QStringLiteral("bob@example.org")});
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray saved = f.readAll();
    QVERIFY(!saved.contains("blind@example.org"));
    QVERIFY(saved.contains("\r\n\r\nHi Bob\r\n"));

    // Incomplete: refused with the reason, nothing written.
    ComposerWidget empty;
    const QString other = m_dir.filePath(QStringLiteral("empty.eml"));
    QVERIFY(!empty.saveEml(other, &error));
    QVERIFY(error.contains(QLatin1String("sender")));
    QVERIFY(!QFile::exists(other));
}

void TestComposerWidget::wirePreviewDotStuffed()
{
    ComposerWidget c;
    fillValid(c);
    c.setField(QStringLiteral("text"), QStringLiteral("first\n.hidden line\nlast\n"));
    c.showWirePreview();
    auto *dialog = c.findChild<WirePreviewDialog *>();
    QVERIFY(dialog);
    QTRY_VERIFY_WITH_TIMEOUT(dialog->isVisible(), kWaitMs);

    const QString text = dialog->text();
    // RFC 5321 4.5.2: a line starting with '.' gets one more; the data ends CRLF.CRLF.
    QVERIFY2(text.contains(QStringLiteral("\n..hidden line\u240D\u240A\n")), qPrintable(text));
    QVERIFY(text.endsWith(QStringLiteral("last\u240D\u240A\n.\u240D\u240A\n")));
    QVERIFY(!text.contains(QLatin1Char('\r')));

    // The size shown is the size of the bytes shown (nothing cut here).
    QVERIFY(!dialog->summary().contains(QLatin1String("first")));
    dialog->setLineEndMarkers(false);
    const QString plain = dialog->text();
    QCOMPARE(plain, QString(text).remove(QStringLiteral("\u240D\u240A")));
    const qsizetype wireSize = QString(plain).replace(QStringLiteral("\n"), QStringLiteral("\r\n")).toUtf8().size();
    QVERIFY2(dialog->summary().startsWith(QLocale().toString(wireSize) + QStringLiteral(" bytes on the wire")),
             qPrintable(dialog->summary()));
}

void TestComposerWidget::wirePreviewTruncated()
{
    const QString big = m_dir.filePath(QStringLiteral("big.bin"));
    QByteArray data(400 * 1024, '\0');
    for (qsizetype i = 0; i < data.size(); ++i)
        data[i] = char((i * 131) & 0xff);
    QVERIFY(writeFile(big, data));
    ComposerWidget c;
    fillValid(c);
    c.addAttachment(big);
    c.showWirePreview();
    auto *dialog = c.findChild<WirePreviewDialog *>();
    QVERIFY(dialog);
    QVERIFY2(dialog->summary().contains(QLatin1String("first 256")), qPrintable(dialog->summary()));
    QVERIFY(dialog->text().size() >= 256 * 1024);

    // With a problem the dialog says so instead of showing bytes.
    ComposerWidget empty;
    empty.showWirePreview();
    auto *none = empty.findChild<WirePreviewDialog *>();
    QVERIFY(none);
    QVERIFY(none->summary().contains(QLatin1String("sender")));
    QCOMPARE(none->text(), QString());
}

void TestComposerWidget::fitsSmallScreen()
{
    ComposerWidget c;
    QVERIFY(c.minimumSizeHint().width() <= 1280);
    QVERIFY(c.minimumSizeHint().height() <= 800 - 200); // room left for the main window's panels
    // Every control the user can reach has an accessible name.
    for (QWidget *w : c.findChildren<QWidget *>()) {
        if ((qobject_cast<QLineEdit *>(w) || qobject_cast<QPushButton *>(w) || qobject_cast<QCheckBox *>(w)
             || qobject_cast<QPlainTextEdit *>(w) || qobject_cast<QTreeWidget *>(w) || qobject_cast<QTableWidget *>(w))
            && w->parent() && !qobject_cast<QTableWidget *>(w->parentWidget()->parentWidget())) {
            QVERIFY2(!w->accessibleName().isEmpty(), qPrintable(w->objectName() + w->metaObject()->className()));
        }
    }
}

void TestComposerWidget::errorColoursReadable_data()
{
    QTest::addColumn<QColor>("window");
    QTest::addColumn<QColor>("base");
    QTest::addColumn<QColor>("text");
    QTest::addRow("light") << QColor(239, 239, 239) << QColor(255, 255, 255) << QColor(0, 0, 0);
    QTest::addRow("dark") << QColor(53, 53, 53) << QColor(42, 42, 42) << QColor(255, 255, 255);
}

void TestComposerWidget::errorColoursReadable()
{
    QFETCH(QColor, window);
    QFETCH(QColor, base);
    QFETCH(QColor, text);

    ComposerWidget c;
    QPalette p = c.palette();
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::Text, text);
    c.setPalette(p);
    c.show();
    c.setField(QStringLiteral("to"), QStringLiteral("bob@"));
    auto *reason = c.findChild<QLabel *>(QStringLiteral("toReason"));
    QTRY_VERIFY_WITH_TIMEOUT(reason->isVisible(), kWaitMs);
    // The reason text and the tinted field stay readable (WCAG AA: 4.5:1).
    const QColor reasonColour = reason->palette().color(QPalette::WindowText);
    QVERIFY(reasonColour != text);
    QVERIFY2(contrast(reasonColour, window) >= 4.5, qPrintable(QString::number(contrast(reasonColour, window))));
    auto *edit = c.findChild<QLineEdit *>(QStringLiteral("toEdit"));
    const QColor tinted = edit->palette().color(QPalette::Base);
    QVERIFY(tinted != base);
    QVERIFY(contrast(edit->palette().color(QPalette::Text), tinted) >= 4.5);
}

void TestComposerWidget::stateRoundTrip_data()
{
    // Each row sets one part of the composer beyond the basic fields; the state
    // of a second composer restored from the first's must be the same, field by
    // field, and build the same message.
    QTest::addColumn<QString>("part");
    QTest::addRow("plain fields") << QString();
    QTest::addRow("cc and bcc") << QStringLiteral("cc");
    QTest::addRow("html body") << QStringLiteral("html");
    QTest::addRow("custom headers") << QStringLiteral("headers");
    QTest::addRow("priority and receipts") << QStringLiteral("options");
    QTest::addRow("attachments") << QStringLiteral("attachments");
}

void TestComposerWidget::stateRoundTrip()
{
    QFETCH(QString, part);
    ComposerWidget a;
    fillValid(a);
    QStringList files;
    if (part == u"cc") {
        a.setField(QStringLiteral("cc"), QStringLiteral("carol@example.org"));
        a.setField(QStringLiteral("bcc"), QStringLiteral("\"Doe, John\" <john@example.org>"));
    } else if (part == u"html") {
        a.setField(QStringLiteral("html"), QStringLiteral("<p>Hi <b>Bob</b></p>"));
    } else if (part == u"headers") {
        a.findChild<QPushButton *>(QStringLiteral("addHeaderButton"))->click();
        auto *table = a.findChild<QTableWidget *>(QStringLiteral("customHeaders"));
        table->item(0, 0)->setText(QStringLiteral("X-Mailer"));
        table->item(0, 1)->setText(QStringLiteral("SMTP Scope test"));
        a.findChild<QPushButton *>(QStringLiteral("addHeaderButton"))->click();
        table->item(1, 0)->setText(QStringLiteral("X-Second"));
        table->item(1, 1)->setText(QStringLiteral("two"));
    } else if (part == u"options") {
        a.findChild<QCheckBox *>(QStringLiteral("importantCheck"))->setChecked(true);
        a.findChild<QCheckBox *>(QStringLiteral("readReceiptCheck"))->setChecked(true);
        a.findChild<QCheckBox *>(QStringLiteral("deliveryReceiptCheck"))->setChecked(true);
    } else if (part == u"attachments") {
        for (const char *name : {"one.txt", "two.bin"}) {
            const QString path = m_dir.filePath(QString::fromLatin1(name));
            QVERIFY(writeFile(path, QByteArray("content of ") + name));
            a.addAttachment(path);
            files.append(QFileInfo(path).absoluteFilePath());
        }
    }
    const QVariantMap state = a.state();
    for (const char *key : {"from", "to", "cc", "bcc", "subject", "text", "html", "headers", "important",
                            "readReceipt", "deliveryReceipt", "attachments"})
        QVERIFY2(state.contains(QString::fromLatin1(key)), key);
    QCOMPARE(state.value(QStringLiteral("attachments")).toStringList(), files);
    QVERIFY(!state.contains(QStringLiteral("emlPath")));

    ComposerWidget b;
    QSignalSpy changed(&b, &ComposerWidget::changed);
    QCOMPARE(b.setState(state), QStringList());
    QCOMPARE(changed.size(), 0); // restoring is not an edit
    QCOMPARE(b.state(), state);
    QCOMPARE(b.problem(), QString());
    // The same message: same headers and body (Date and Message-ID aside).
    const auto ma = std::dynamic_pointer_cast<Message>(a.buildMessage(nullptr));
    const auto mb = std::dynamic_pointer_cast<Message>(b.buildMessage(nullptr));
    QVERIFY(ma && mb);
    QCOMPARE(mb->envelopeRecipients(), ma->envelopeRecipients());
    // Whole messages compared, with what differs by design made equal: Date,
    // Message-ID and the random MIME boundaries (RFC 2046 5.1.1).
    auto normalise = [](QByteArray bytes) {
        static const QRegularExpression boundaryRe(QStringLiteral("boundary=\"([^\"]+)\""));
        auto it = boundaryRe.globalMatch(QString::fromLatin1(bytes));
        for (int n = 0; it.hasNext(); ++n)
            bytes.replace(it.next().captured(1).toLatin1(), "BOUNDARY" + QByteArray::number(n));
        QList<QByteArray> lines = bytes.split('\n');
        lines.removeIf([](const QByteArray &l) {
            return l.toLower().startsWith("date:") || l.toLower().startsWith("message-id:");
        });
        return lines;
    };
    const QByteArray bytesA = ma->toBytes();
    const QByteArray bytesB = mb->toBytes();
    QCOMPARE(normalise(bytesB), normalise(bytesA));
    if (part == u"options")
        QCOMPARE(headerValue(headerLines(bytesB), QStringLiteral("Importance")).toLower(), QStringLiteral("high"));
    if (part == u"headers")
        QCOMPARE(headerValue(headerLines(bytesB), QStringLiteral("X-Second")), QStringLiteral("two"));

    // An empty state clears everything.
    b.setState({});
    QCOMPARE(b.state().value(QStringLiteral("subject")).toString(), QString());
    QCOMPARE(b.state().value(QStringLiteral("attachments")).toStringList(), QStringList());
    QCOMPARE(b.state().value(QStringLiteral("headers")).toList().size(), 0);
    QVERIFY(!b.problem().isEmpty());
}

void TestComposerWidget::stateOfOpenedEml_data()
{
    QTest::addColumn<bool>("edit");
    QTest::addRow("opened, unedited: the file is sent") << false;
    QTest::addRow("opened, then edited: composed from the fields") << true;
}

void TestComposerWidget::stateOfOpenedEml()
{
    QFETCH(bool, edit);
    const QByteArray eml = "From: Alice <alice@example.org>\r\n"
                           "To: bob@example.org\r\n"
                           "Subject: Kept as it is\r\n"
                           "X-Original: yes\r\n"
                           "Content-Type: text/plain; charset=utf-8\r\n"
                           "\r\n"
                           "Body\r\n";
    const QString path = m_dir.filePath(QStringLiteral("state.eml"));
    QVERIFY(writeFile(path, eml));
    ComposerWidget a;
    QString error;
    QVERIFY2(a.openEml(path, &error), qPrintable(error));
    if (edit)
        a.setField(QStringLiteral("subject"), QStringLiteral("Edited subject"));
    const QVariantMap state = a.state();
    QCOMPARE(state.value(QStringLiteral("emlPath")).toString(), QFileInfo(path).absoluteFilePath());
    QCOMPARE(state.value(QStringLiteral("emlUnedited")).toBool(), !edit);

    ComposerWidget b;
    QCOMPARE(b.setState(state), QStringList());
    QCOMPARE(b.state(), state);
    const auto built = b.buildMessage(nullptr);
    QVERIFY(built);
    // Unedited: the file itself (EmlMessage); edited: a Message from the fields.
    QCOMPARE(bool(std::dynamic_pointer_cast<EmlMessage>(built)), !edit);
    QCOMPARE(bool(std::dynamic_pointer_cast<Message>(built)), edit);
    if (edit)
        QCOMPARE(headerValue(headerLines(std::dynamic_pointer_cast<Message>(built)->toBytes()),
                             QStringLiteral("Subject")),
                 QStringLiteral("Edited subject"));

    // The file gone: named, and an unedited state builds nothing silently different.
    QVERIFY(QFile::remove(path));
    ComposerWidget c;
    const QStringList lost = c.setState(state);
    QCOMPARE(lost.size(), 1);
    QVERIFY2(lost.first().contains(QStringLiteral("state.eml")), qPrintable(lost.first()));
    QString problem;
    if (!edit) {
        QVERIFY(!ComposerWidget::messageFromState(state, &problem));
        QVERIFY2(problem.contains(QStringLiteral("state.eml")), qPrintable(problem));
    }
}

void TestComposerWidget::stateNamesMissingAttachment()
{
    const QString kept = m_dir.filePath(QStringLiteral("kept.txt"));
    const QString gone = m_dir.filePath(QStringLiteral("gone.txt"));
    QVERIFY(writeFile(kept, "kept"));
    QVERIFY(writeFile(gone, "gone"));
    ComposerWidget a;
    fillValid(a);
    a.addAttachment(kept);
    a.addAttachment(gone);
    const QVariantMap state = a.state();
    QVERIFY(QFile::remove(gone));

    ComposerWidget b;
    const QStringList lost = b.setState(state);
    QCOMPARE(lost.size(), 1);
    QVERIFY2(lost.first().contains(QStringLiteral("gone.txt")), qPrintable(lost.first()));
    // Both are listed; the missing one keeps Send disabled with its name.
    QCOMPARE(b.state().value(QStringLiteral("attachments")).toStringList().size(), 2);
    QVERIFY2(b.problem().contains(QStringLiteral("gone.txt")), qPrintable(b.problem()));
    QString problem;
    QVERIFY(!ComposerWidget::messageFromState(state, &problem));
    QVERIFY2(problem.contains(QStringLiteral("gone.txt")), qPrintable(problem));
}

void TestComposerWidget::changedOnEditsOnly()
{
    ComposerWidget c;
    c.show();
    QSignalSpy changed(&c, &ComposerWidget::changed);
    QTest::keyClicks(c.findChild<QLineEdit *>(QStringLiteral("subjectEdit")), QStringLiteral("Hi"));
    QCOMPARE(changed.size(), 2);
    QTest::keyClicks(c.findChild<QPlainTextEdit *>(QStringLiteral("textEdit")), QStringLiteral("x"));
    QCOMPARE(changed.size(), 3);
    c.findChild<QCheckBox *>(QStringLiteral("importantCheck"))->click();
    QCOMPARE(changed.size(), 4);
    const QString path = m_dir.filePath(QStringLiteral("changed.txt"));
    QVERIFY(writeFile(path, "x"));
    c.addAttachment(path);
    QCOMPARE(changed.size(), 5);
    c.setState(c.state());
    QCOMPARE(changed.size(), 5);
}

void TestComposerWidget::messageFromStateBuildsTheSameMessage()
{
    ComposerWidget a;
    fillValid(a);
    a.setField(QStringLiteral("html"), QStringLiteral("<p>Hi</p>"));
    QString problem;
    const auto fromState = std::dynamic_pointer_cast<Message>(ComposerWidget::messageFromState(a.state(), &problem));
    QVERIFY2(fromState, qPrintable(problem));
    const auto direct = std::dynamic_pointer_cast<Message>(a.buildMessage(nullptr));
    QCOMPARE(fromState->envelopeSender(), direct->envelopeSender());
    QCOMPARE(headerValue(headerLines(fromState->toBytes()), QStringLiteral("Subject")), QStringLiteral("Hello"));
    QVERIFY(fromState->toBytes().contains("<p>Hi</p>"));
    // An incomplete state: no message, the problem named as Send would name it.
    QVariantMap bad = a.state();
    bad.insert(QStringLiteral("to"), QStringLiteral("bob@"));
    QVERIFY(!ComposerWidget::messageFromState(bad, &problem));
    QVERIFY2(problem.startsWith(QStringLiteral("To:")), qPrintable(problem));
}

QTEST_MAIN(TestComposerWidget)
#include "tst_composerwidget.moc"
