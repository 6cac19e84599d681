// Message files: EmlMessage (an .eml resent as it is, Bcc removed, CRLF
// line ends), MessageFile::save and MessageFile::wirePreview, and the preview
// checked against the bytes SmtpClient itself would send (test mode).

#include "client/outgoingmessage.h"
#include "client/sendresult.h"
#include "client/smtpclient.h"
#include "client/smtperror.h"
#include "mime/emlmessage.h"
#include "mime/messagefile.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <optional>
#include <sys/resource.h>
#include <sys/stat.h>

namespace {

// Internal read size of EmlMessage's stream: rows that put a line break or a
// field name across it check the state carried from one file chunk to the next.
constexpr qsizetype kFileChunk = 64 * 1024;

QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &bytes)
{
    const QString path = dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(bytes) != bytes.size())
        return {};
    f.close();
    return path;
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("<unreadable>");
}

// Reads a stream to its end `step` bytes at a time. nullopt (and *why) on a read
// error or a stream that stops without ending.
std::optional<QByteArray> drain(QIODevice &dev, qint64 step, QString *why = nullptr)
{
    QByteArray all;
    QByteArray buf(step, Qt::Uninitialized);
    for (;;) {
        const qint64 n = dev.read(buf.data(), step);
        if (n < 0) {
            if (why)
                *why = dev.errorString();
            return std::nullopt;
        }
        if (n == 0) {
            if (dev.atEnd())
                return all;
            if (why)
                *why = QStringLiteral("read gave nothing but the stream is not at its end");
            return std::nullopt;
        }
        all.append(buf.constData(), n);
    }
}

std::optional<QByteArray> bodyOf(const OutgoingMessage &m, qint64 step = 4096, QString *why = nullptr)
{
    std::unique_ptr<QIODevice> dev = m.openBody({});
    if (!dev) {
        if (why)
            *why = QStringLiteral("openBody() gave nullptr");
        return std::nullopt;
    }
    if (!dev->isSequential()) {
        if (why)
            *why = QStringLiteral("the stream is not sequential");
        return std::nullopt;
    }
    return drain(*dev, step, why);
}

qsizetype firstDifference(const QByteArray &a, const QByteArray &b)
{
    qsizetype i = 0;
    while (i < a.size() && i < b.size() && a.at(i) == b.at(i))
        ++i;
    return i;
}

qint64 maxRssKiB()
{
    rusage u {};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss; // Linux: KiB
}

const QByteArray kSimple = "From: Alice <alice@example.org>\r\n"
                           "To: bob@example.org\r\n"
                           "Subject: hello\r\n"
                           "\r\n"
                           "body\r\n";

} // namespace

class tst_EmlMessage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    // First, while the peak memory of the process is still low.
    void largeFileStreamsFlat();

    void envelope_data();
    void envelope();
    void overrides();
    void sendPossible_data();
    void sendPossible();

    void transform_data();
    void transform();
    void chunkBoundaries_data();
    void chunkBoundaries();
    void crlfFileUnchanged();
    void eightBit_data();
    void eightBit();
    void smtpUtf8Headers_data();
    void smtpUtf8Headers();

    void loadErrors_data();
    void loadErrors();
    void changedBeforeOpen_data();
    void changedBeforeOpen();
    void changedWhileReading();

    void saveRoundTrip();
    void saveErrors();

    void wirePreview_data();
    void wirePreview();
    void wirePreviewOfEml();
    void previewMatchesEngine();
    void testModeStreamsTheWire();

private:
    QTemporaryDir m_dir;
    int m_files = 0;
    QString file(const QByteArray &bytes) { return writeFile(m_dir, QStringLiteral("m%1.eml").arg(++m_files), bytes); }
};

void tst_EmlMessage::initTestCase()
{
    QVERIFY2(m_dir.isValid(), qPrintable(m_dir.errorString()));
}

// ---------------------------------------------------------------- envelope from headers

void tst_EmlMessage::envelope_data()
{
    QTest::addColumn<QByteArray>("headers");
    QTest::addColumn<QString>("sender");
    QTest::addColumn<QStringList>("recipients");
    QTest::addColumn<QString>("fromHeader");
    QTest::addColumn<QString>("subject");

    QTest::addRow("display names") << QByteArray("From: Alice Example <alice@example.org>\n"
                                                 "To: Bob B <bob@example.org>, carol@example.org\n"
                                                 "Subject: plain\n")
                                   << "alice@example.org"
                                   << QStringList {"bob@example.org", "carol@example.org"}
                                   << "Alice Example <alice@example.org>"
                                   << "plain";
    QTest::addRow("quoted names with commas")
        << QByteArray("From: \"Example, Alice\" <alice@example.org>\n"
                      "To: \"Doe, John\" <john@example.org>, \"Roe, Jane (QA)\" <jane@example.org>\n")
        << "alice@example.org" << QStringList {"john@example.org", "jane@example.org"}
        << "\"Example, Alice\" <alice@example.org>" << QString();
    QTest::addRow("encoded words") << QByteArray("From: =?UTF-8?Q?Ren=C3=A9_M=C3=BCller?= <rene@example.org>\n"
                                                 "To: =?ISO-8859-1?Q?J=F6rg?= <joerg@example.org>\n"
                                                 "Subject: =?UTF-8?B?R3LDvMOfZSDinJM=?= and =?UTF-8?Q?caf=C3=A9?=\n")
                                   << "rene@example.org" << QStringList {"joerg@example.org"}
                                   << QString::fromUtf8("René Müller <rene@example.org>")
                                   << QString::fromUtf8("Grüße ✓ and café");
    QTest::addRow("empty group and Bcc") << QByteArray("From: alice@example.org\n"
                                                       "To: undisclosed-recipients:;\n"
                                                       "Bcc: hidden@example.org\n")
                                         << "alice@example.org" << QStringList {"hidden@example.org"}
                                         << "alice@example.org" << QString();
    QTest::addRow("group with members") << QByteArray("From: alice@example.org\n"
                                                      "To: Team: a@example.org, \"B\" <b@example.org>;, c@example.org\n")
                                        << "alice@example.org"
                                        << QStringList {"a@example.org", "b@example.org", "c@example.org"}
                                        << "alice@example.org" << QString();
    QTest::addRow("multiple To and Cc fields, duplicates")
        << QByteArray("From: alice@example.org\n"
                      "To: bob@example.org\n"
                      "Cc: carol@example.org, Bob@Example.org\n"
                      "To: dave@example.org\n"
                      "Cc: \"Carol again\" <CAROL@example.org>\n"
                      "Bcc: erin@example.org, dave@example.org\n")
        << "alice@example.org"
        << QStringList {"bob@example.org", "carol@example.org", "dave@example.org", "erin@example.org"}
        << "alice@example.org" << QString();
    QTest::addRow("folded fields, lower-case names")
        << QByteArray("from: Alice\n <alice@example.org>\n"
                      "to: bob@example.org,\n\tcarol@example.org\n"
                      "subject: two\n  lines\n")
        << "alice@example.org" << QStringList {"bob@example.org", "carol@example.org"}
        << "Alice <alice@example.org>" << "two  lines";
    QTest::addRow("several authors, Sender") << QByteArray("From: alice@example.org, bob@example.org\n"
                                                           "Sender: Secretary <sec@example.org>\n"
                                                           "To: carol@example.org\n")
                                             << "sec@example.org" << QStringList {"carol@example.org"}
                                             << "alice@example.org, bob@example.org" << QString();
    QTest::addRow("Resent-Bcc not a recipient") << QByteArray("From: alice@example.org\n"
                                                              "To: bob@example.org\n"
                                                              "Resent-Bcc: other@example.org\n"
                                                              "X-Bcc: not@example.org\n")
                                                << "alice@example.org" << QStringList {"bob@example.org"}
                                                << "alice@example.org" << QString();
    QTest::addRow("header fields after the body are not read")
        << QByteArray("From: alice@example.org\nTo: bob@example.org\n\nCc: nobody@example.org\n")
        << "alice@example.org" << QStringList {"bob@example.org"} << "alice@example.org" << QString();
}

void tst_EmlMessage::envelope()
{
    QFETCH(QByteArray, headers);
    QFETCH(QString, sender);
    QFETCH(QStringList, recipients);
    QFETCH(QString, fromHeader);
    QFETCH(QString, subject);

    QString error;
    const QString path = file(headers + "\nbody\n");
    auto m = EmlMessage::load(path, &error);
    QVERIFY2(m, qPrintable(error));
    QCOMPARE(m->path(), path);
    QCOMPARE(m->envelopeSender(), sender);
    QCOMPARE(m->envelopeRecipients(), recipients);
    QCOMPARE(m->headerRecipients(), recipients);
    QCOMPARE(m->fromHeader(), fromHeader);
    QCOMPARE(m->subject(), subject);
    const SmtpError e = m->checkSendPossible();
    QVERIFY2(!e.isError(), qPrintable(e.toString()));
}

void tst_EmlMessage::overrides()
{
    QString error;
    auto m = EmlMessage::load(file("From: alice@example.org\nTo: bob@example.org\nBcc: c@example.org\n\nx\n"), &error);
    QVERIFY2(m, qPrintable(error));
    QCOMPARE(m->envelopeSender(), QStringLiteral("alice@example.org"));

    m->setEnvelopeSender(QStringLiteral("bounce@example.net"));
    m->setEnvelopeRecipients({QStringLiteral("x@example.net"), QStringLiteral("y@example.net")});
    QCOMPARE(m->envelopeSender(), QStringLiteral("bounce@example.net"));
    QCOMPARE(m->envelopeRecipients(), (QStringList {"x@example.net", "y@example.net"}));
    // The headers still say what they say.
    QCOMPARE(m->headerRecipients(), (QStringList {"bob@example.org", "c@example.org"}));
    QVERIFY(!m->checkSendPossible().isError());

    // An invalid override is refused before any I/O.
    m->setEnvelopeRecipients({QStringLiteral("x@example.net\r\nRSET")});
    QCOMPARE(m->checkSendPossible().code, QStringLiteral("MESSAGE-ERROR"));

    // Empty overrides: back to the headers.
    m->setEnvelopeSender(QString());
    m->setEnvelopeRecipients({});
    QCOMPARE(m->envelopeSender(), QStringLiteral("alice@example.org"));
    QCOMPARE(m->envelopeRecipients(), (QStringList {"bob@example.org", "c@example.org"}));
}

void tst_EmlMessage::sendPossible_data()
{
    QTest::addColumn<QByteArray>("headers");
    QTest::addColumn<QString>("sender");       // override, or empty
    QTest::addColumn<QStringList>("recipients"); // override, or empty
    QTest::addColumn<QString>("step");         // empty: sendable
    QTest::addColumn<QString>("mention");      // part of the error text

    const QByteArray ok = "From: alice@example.org\nTo: bob@example.org\n";
    QTest::addRow("sendable") << ok << QString() << QStringList() << QString() << QString();
    QTest::addRow("no From") << QByteArray("To: bob@example.org\nSubject: s\n") << QString() << QStringList()
                             << "MAIL FROM" << "no From field";
    QTest::addRow("no From, sender given") << QByteArray("To: bob@example.org\n") << "alice@example.org"
                                           << QStringList() << QString() << QString();
    QTest::addRow("From without address") << QByteArray("From: undisclosed:;\nTo: bob@example.org\n") << QString()
                                          << QStringList() << "MAIL FROM" << "no address";
    QTest::addRow("several From, no Sender") << QByteArray("From: a@example.org, b@example.org\nTo: c@example.org\n")
                                             << QString() << QStringList() << "MAIL FROM" << "Sender";
    QTest::addRow("several From, sender given") << QByteArray("From: a@example.org, b@example.org\nTo: c@example.org\n")
                                                << "a@example.org" << QStringList() << QString() << QString();
    QTest::addRow("no recipient") << QByteArray("From: alice@example.org\nTo: undisclosed-recipients:;\n")
                                  << QString() << QStringList() << "RCPT TO" << "no recipient";
    QTest::addRow("no recipient, given") << QByteArray("From: alice@example.org\n") << QString()
                                         << QStringList {"bob@example.org"} << QString() << QString();
    QTest::addRow("header address without domain") << QByteArray("From: alice\nTo: bob@example.org\n") << QString()
                                                   << QStringList() << "MAIL FROM" << "sender address";
    QTest::addRow("CRLF in a given sender") << ok << "a@example.org\r\nDATA" << QStringList() << "MAIL FROM"
                                            << "sender address";
}

void tst_EmlMessage::sendPossible()
{
    QFETCH(QByteArray, headers);
    QFETCH(QString, sender);
    QFETCH(QStringList, recipients);
    QFETCH(QString, step);
    QFETCH(QString, mention);

    QString error;
    auto m = EmlMessage::load(file(headers + "\nbody\n"), &error);
    QVERIFY2(m, qPrintable(error));
    m->setEnvelopeSender(sender);
    m->setEnvelopeRecipients(recipients);
    const SmtpError e = m->checkSendPossible();
    if (step.isEmpty()) {
        QVERIFY2(!e.isError(), qPrintable(e.toString()));
        return;
    }
    QVERIFY(e.isError());
    QCOMPARE(e.category, SmtpError::Category::Message);
    QCOMPARE(e.code, QStringLiteral("MESSAGE-ERROR"));
    QCOMPARE(e.step, step);
    QVERIFY2(e.message.contains(mention, Qt::CaseInsensitive), qPrintable(e.message));
}

// ---------------------------------------------------------------- transmitted bytes

void tst_EmlMessage::transform_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");

    const QByteArray to = "From: a@example.org\r\nTo: b@example.org\r\n";
    QTest::addRow("Bcc removed") << to + "Bcc: hidden@example.org\r\nSubject: s\r\n\r\nbody\r\n"
                                 << to + "Subject: s\r\n\r\nbody\r\n";
    QTest::addRow("Bcc folded") << to + "Bcc: one@example.org,\r\n two@example.org,\r\n\tthree@example.org\r\nSubject: s\r\n\r\nb\r\n"
                                << to + "Subject: s\r\n\r\nb\r\n";
    QTest::addRow("bcc lower case, LF") << QByteArray("From: a@example.org\nbcc: x@example.org\n y@example.org\nTo: b@example.org\n\nb\n")
                                        << QByteArray("From: a@example.org\r\nTo: b@example.org\r\n\r\nb\r\n");
    QTest::addRow("BCC upper case") << to + "BCC: x@example.org\r\n\r\nb\r\n" << to + "\r\nb\r\n";
    QTest::addRow("Resent-Bcc folded") << to + "Resent-Bcc: x@example.org,\r\n\ty@example.org\r\nResent-To: z@example.org\r\n\r\nb\r\n"
                                       << to + "Resent-To: z@example.org\r\n\r\nb\r\n";
    QTest::addRow("resent-bcc lower case") << to + "resent-bcc: x@example.org\r\n\r\nb\r\n" << to + "\r\nb\r\n";
    QTest::addRow("white space before the colon") << to + "Bcc \t: x@example.org\r\nSubject: s\r\n\r\nb\r\n"
                                                  << to + "Subject: s\r\n\r\nb\r\n";
    QTest::addRow("empty Bcc") << to + "Bcc:\r\n\r\nb\r\n" << to + "\r\nb\r\n";
    QTest::addRow("Bcc first and last") << QByteArray("Bcc: x@example.org\r\nTo: b@example.org\r\nBcc: y@example.org\r\n\r\nb\r\n")
                                        << QByteArray("To: b@example.org\r\n\r\nb\r\n");
    QTest::addRow("Bcc last, no body, no final line end") << to + "Bcc: x@example.org" << to;
    QTest::addRow("several Bcc fields") << to + "Bcc: x@example.org\r\nBcc: y@example.org\r\n z@example.org\r\nX: 1\r\n\r\nb\r\n"
                                        << to + "X: 1\r\n\r\nb\r\n";
    QTest::addRow("X-Bcc-Note kept") << to + "X-Bcc-Note: keep me\r\n\r\nb\r\n" << to + "X-Bcc-Note: keep me\r\n\r\nb\r\n";
    QTest::addRow("similar names kept") << to + "Bccx: 1\r\nBc: 2\r\nResent-Bc: 3\r\nResent-Bccc: 4\r\nXBcc: 5\r\n\r\nb\r\n"
                                        << to + "Bccx: 1\r\nBc: 2\r\nResent-Bc: 3\r\nResent-Bccc: 4\r\nXBcc: 5\r\n\r\nb\r\n";
    QTest::addRow("folded line after a kept field kept") << to + "Bcc: x@example.org\r\nSubject: a\r\n b\r\n\r\nc\r\n"
                                                         << to + "Subject: a\r\n b\r\n\r\nc\r\n";
    QTest::addRow("body line Bcc: kept") << to + "\r\nBcc: in the body\r\n bcc: folded-looking\r\n"
                                         << to + "\r\nBcc: in the body\r\n bcc: folded-looking\r\n";
    QTest::addRow("not a field: Bcc then text") << to + "Bcc x@example.org\r\n\r\nb\r\n" << to + "Bcc x@example.org\r\n\r\nb\r\n";
    QTest::addRow("LF only") << QByteArray("From: a@example.org\nTo: b@example.org\n\nline 1\nline 2\n")
                             << QByteArray("From: a@example.org\r\nTo: b@example.org\r\n\r\nline 1\r\nline 2\r\n");
    QTest::addRow("mixed endings") << QByteArray("From: a@example.org\r\nTo: b@example.org\n\r\none\rtwo\nthree\r\n\n\rfour")
                                   << QByteArray("From: a@example.org\r\nTo: b@example.org\r\n\r\none\r\ntwo\r\nthree\r\n\r\n\r\nfour");
    QTest::addRow("bare CR ends a Bcc line") << to + "Bcc: x@example.org\rSubject: s\r\n\r\nb\r\n"
                                             << to + "Subject: s\r\n\r\nb\r\n";
    QTest::addRow("CR CR LF") << to + "\r\r\nb\r\r\n" << to + "\r\n\r\nb\r\n\r\n";
    QTest::addRow("no final line end") << to + "\r\nlast" << to + "\r\nlast";
    QTest::addRow("all headers, no body") << QByteArray("From: a@example.org\nTo: b@example.org\n")
                                          << QByteArray("From: a@example.org\r\nTo: b@example.org\r\n");
    QTest::addRow("dots untouched") << to + "\r\n.\r\n..x\r\n" << to + "\r\n.\r\n..x\r\n";
    const QByteArray binary("\r\nx\0y\xc3\xa9\r\n", 9);
    QTest::addRow("NUL and 8-bit as they are") << to + binary << to + binary;
}

void tst_EmlMessage::transform()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);

    QString error;
    auto m = EmlMessage::load(file(input), &error);
    QVERIFY2(m, qPrintable(error));
    QCOMPARE(m->size({}), qint64(expected.size()));
    // Options do not change a raw message.
    QCOMPARE(m->size({true, true}), qint64(expected.size()));
    for (const qint64 step : {qint64(1), qint64(2), qint64(3), qint64(7), qint64(4096)}) {
        QString why;
        const auto got = bodyOf(*m, step, &why);
        QVERIFY2(got, qPrintable(QStringLiteral("read size %1: %2").arg(step).arg(why)));
        QCOMPARE(*got, expected);
    }
}

// The file is read in 64 KiB chunks: put each delicate spot across that boundary,
// at every offset around it.
void tst_EmlMessage::chunkBoundaries_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");

    struct Tail
    {
        const char *name;
        QByteArray in;
        QByteArray out;
    };
    const QList<Tail> tails = {
        {"CR|LF", "Subject: s\r\nBcc: x@example.org\r\n y@example.org\r\n\r\nb\r\n.\r\n",
         "Subject: s\r\n\r\nb\r\n.\r\n"},
        {"Resent-Bcc name", "Resent-Bcc: x@example.org\r\nResent-Bccx: y\r\n\r\nb\r\n", "Resent-Bccx: y\r\n\r\nb\r\n"},
        {"bare CR", "Bcc: x\rTo: y@example.org\r\rb\r", "To: y@example.org\r\n\r\nb\r\n"},
        {"LF", "Bcc: x\n z\nTo: y@example.org\n\nBcc: body\n", "To: y@example.org\r\n\r\nBcc: body\r\n"},
    };
    for (const Tail &t : tails) {
        for (int shift = 0; shift <= 14; ++shift) {
            // "From: ...\r\nX-Pad: aaa...\r\n" so that the tail starts `shift` bytes
            // before the chunk boundary.
            const QByteArray head = "From: a@example.org\r\nX-Pad: ";
            const qsizetype pad = kFileChunk - shift - head.size() - 2;
            const QByteArray prefix = head + QByteArray(pad, 'a') + "\r\n";
            QTest::addRow("%s, %d before the boundary", t.name, shift) << prefix + t.in << prefix + t.out;
        }
    }
}

void tst_EmlMessage::chunkBoundaries()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);

    QString error;
    auto m = EmlMessage::load(file(input), &error);
    QVERIFY2(m, qPrintable(error));
    QCOMPARE(m->size({}), qint64(expected.size()));
    for (const qint64 step : {qint64(3), qint64(4096), qint64(kFileChunk + 1)}) {
        QString why;
        const auto got = bodyOf(*m, step, &why);
        QVERIFY2(got, qPrintable(why));
        QVERIFY2(*got == expected, qPrintable(QStringLiteral("read size %1: differs from byte %2")
                                                  .arg(step)
                                                  .arg(firstDifference(*got, expected))));
    }
}

void tst_EmlMessage::crlfFileUnchanged()
{
    // A well-formed CRLF file without Bcc goes byte for byte as it is, 8-bit text,
    // long lines and dots included.
    QByteArray bytes = "From: =?UTF-8?Q?Ren=C3=A9?= <rene@example.org>\r\nTo: b@example.org\r\n"
                       "Subject: unchanged\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: 8bit\r\n\r\n";
    for (int i = 0; i < 5000; ++i)
        bytes += QByteArray::number(i) + (i % 7 ? " caf\xc3\xa9 line\r\n" : ".dot line\r\n");
    const QString path = file(bytes);
    QString error;
    auto m = EmlMessage::load(path, &error);
    QVERIFY2(m, qPrintable(error));
    QCOMPARE(m->size({}), qint64(bytes.size()));
    QVERIFY(m->has8BitContent({}));
    const auto got = bodyOf(*m, 1000);
    QVERIFY(got);
    QCOMPARE(*got, readFile(path));
}

void tst_EmlMessage::eightBit_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<bool>("eightBit");

    const QByteArray to = "From: a@example.org\nTo: b@example.org\n";
    QTest::addRow("ASCII") << to + "\nplain\n" << false;
    QTest::addRow("8-bit body") << to + "\ncaf\xc3\xa9\n" << true;
    QTest::addRow("8-bit header") << to + "Subject: caf\xc3\xa9\n\nx\n" << true;
    QTest::addRow("8-bit only in Bcc (not sent)") << to + "Bcc: J\xc3\xb6rg <j@example.org>\n\nx\n" << false;
    QTest::addRow("0xFF late in a big body") << to + "\n" + QByteArray(200000, 'a') + "\xff\n" << true;
    QTest::addRow("DEL is 7-bit") << to + "\n\x7f\n" << false;
}

void tst_EmlMessage::eightBit()
{
    QFETCH(QByteArray, input);
    QFETCH(bool, eightBit);
    QString error;
    auto m = EmlMessage::load(file(input), &error);
    QVERIFY2(m, qPrintable(error));
    QCOMPARE(m->has8BitContent({}), eightBit);
    const auto got = bodyOf(*m);
    QVERIFY(got);
    const bool seen = std::any_of(got->begin(), got->end(), [](char c) { return static_cast<unsigned char>(c) > 127; });
    QCOMPARE(seen, eightBit);
}

void tst_EmlMessage::smtpUtf8Headers_data()
{
    QTest::addColumn<QByteArray>("headers");
    QTest::addColumn<bool>("needs");

    QTest::addRow("ASCII") << QByteArray("From: a@example.org\nTo: b@example.org\n") << false;
    QTest::addRow("UTF-8 local part in From")
        << QByteArray("From: J\xc3\xb6rg <j\xc3\xb6rg@example.org>\nTo: b@example.org\n") << true;
    QTest::addRow("UTF-8 local part in Cc")
        << QByteArray("From: a@example.org\nTo: b@example.org\nCc: zo\xc3\xab@example.org\n") << true;
    QTest::addRow("UTF-8 domain only") << QByteArray("From: a@b\xc3\xbc" "cher.example\nTo: b@example.org\n") << false;
    QTest::addRow("UTF-8 display name only")
        << QByteArray("From: J\xc3\xb6rg <a@example.org>\nTo: b@example.org\n") << false;
}

void tst_EmlMessage::smtpUtf8Headers()
{
    // RFC 6532 3.2: header addresses with a UTF-8 local part need an SMTPUTF8 session.
    QFETCH(QByteArray, headers);
    QFETCH(bool, needs);
    QString error;
    auto m = EmlMessage::load(file(headers + "\nbody\n"), &error);
    QVERIFY2(m, qPrintable(error));
    QCOMPARE(m->needsSmtpUtf8(), needs);
}

// ---------------------------------------------------------------- errors

void tst_EmlMessage::loadErrors_data()
{
    QTest::addColumn<QByteArray>("input"); // "<missing>": no file; "<dir>": a folder
    QTest::addColumn<QString>("mention");

    QTest::addRow("missing file") << QByteArray("<missing>") << "does not exist";
    QTest::addRow("a folder") << QByteArray("<dir>") << "a folder, not a regular file";
    // Refused without blocking: a FIFO nobody writes to, a device that never ends.
    QTest::addRow("a FIFO") << QByteArray("<fifo>") << "FIFO (named pipe), not a regular file";
    QTest::addRow("a device") << QByteArray("<device>") << "character device, not a regular file";
    QTest::addRow("empty file") << QByteArray() << "is empty";
    QTest::addRow("plain text") << QByteArray("hello world\nsecond line\n") << "no header fields";
    QTest::addRow("starts with an empty line") << QByteArray("\nFrom: a@example.org\n") << "no header fields";
    QTest::addRow("only line breaks") << QByteArray("\r\n\r\n") << "no header fields";
    QTest::addRow("colon first") << QByteArray(": x\n\nbody\n") << "no header fields";
    QTest::addRow("mbox From_ line only") << QByteArray("From alice@example.org Mon Jan 1 00:00:00 2024\n\nb\n")
                                          << "no header fields";
    QTest::addRow("huge To field") << "From: a@example.org\nTo: " + QByteArray(2 * 1024 * 1024, 'x') + "\n\nb\n"
                                   << "longer than";
}

void tst_EmlMessage::loadErrors()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, mention);

    QString path;
    if (input == "<missing>")
        path = m_dir.filePath(QStringLiteral("no-such-file.eml"));
    else if (input == "<dir>")
        path = m_dir.path();
    else if (input == "<device>")
        path = QStringLiteral("/dev/zero");
    else if (input == "<fifo>") {
        path = m_dir.filePath(QStringLiteral("m%1.eml").arg(++m_files));
        QVERIFY(::mkfifo(QFile::encodeName(path).constData(), 0600) == 0);
    } else
        path = file(input);
    QString error;
    auto m = EmlMessage::load(path, &error);
    QVERIFY(!m);
    QVERIFY2(error.contains(path), qPrintable(error));
    QVERIFY2(error.contains(mention), qPrintable(error));
}

void tst_EmlMessage::changedBeforeOpen_data()
{
    QTest::addColumn<int>("change"); // 0: append, 1: same size, later time, 2: removed

    QTest::addRow("grew") << 0;
    QTest::addRow("same size, new time") << 1;
    QTest::addRow("removed") << 2;
}

void tst_EmlMessage::changedBeforeOpen()
{
    QFETCH(int, change);
    const QString path = file(kSimple);
    QString error;
    auto m = EmlMessage::load(path, &error);
    QVERIFY2(m, qPrintable(error));
    QVERIFY(!m->checkSendPossible().isError());
    QVERIFY(bodyOf(*m));

    QFile f(path);
    if (change == 0) {
        QVERIFY(f.open(QIODevice::Append));
        QCOMPARE(f.write("more\r\n"), qint64(6));
        f.close();
    } else if (change == 1) {
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.seek(f.size() - 6));
        QCOMPARE(f.write("BODY\r\n"), qint64(6)); // same size, other bytes
        QVERIFY(f.flush()); // written before the time is set, or the write sets it again
        const QDateTime later = QFileInfo(path).lastModified().addSecs(10);
        QVERIFY(f.setFileTime(later, QFileDevice::FileModificationTime));
        f.close();
    } else {
        QVERIFY(QFile::remove(path));
    }

    QVERIFY(!m->openBody({}));
    const SmtpError e = m->checkSendPossible();
    QCOMPARE(e.code, QStringLiteral("MESSAGE-ERROR"));
    QVERIFY2(e.message.contains(path), qPrintable(e.message));
    QVERIFY2(e.message.contains(change == 2 ? QStringLiteral("no longer exists") : QStringLiteral("changed since it was loaded")),
             qPrintable(e.message));
}

void tst_EmlMessage::changedWhileReading()
{
    // Larger than one chunk, so the stream goes back to the file after the change.
    QByteArray bytes = kSimple;
    for (int i = 0; i < 20000; ++i)
        bytes += "a line of the body that goes on for a while\r\n";
    QVERIFY(bytes.size() > 4 * kFileChunk);
    const QString path = file(bytes);
    QString error;
    auto m = EmlMessage::load(path, &error);
    QVERIFY2(m, qPrintable(error));

    std::unique_ptr<QIODevice> dev = m->openBody({});
    QVERIFY(dev);
    QByteArray buf(1000, Qt::Uninitialized);
    QCOMPARE(dev->read(buf.data(), buf.size()), qint64(buf.size()));

    QFile f(path);
    QVERIFY(f.open(QIODevice::Append));
    QCOMPARE(f.write("appended\r\n"), qint64(10));
    f.close();

    QString why;
    QVERIFY(!drain(*dev, 4096, &why));
    QVERIFY2(why.contains(QStringLiteral("changed since it was loaded")) && why.contains(path), qPrintable(why));
    // It stays failed.
    QCOMPARE(dev->read(buf.data(), buf.size()), qint64(-1));
    QVERIFY(!dev->atEnd());
}

// ---------------------------------------------------------------- save

void tst_EmlMessage::saveRoundTrip()
{
    // Raw bytes are saved as they are (RawMessage does not normalise).
    QByteArray raw = "From: a@example.org\r\nTo: b@example.org\r\n\r\n";
    for (int i = 0; i < 30000; ++i)
        raw += "raw line " + QByteArray::number(i) + (i % 3 ? "\r\n" : "\n");
    const RawMessage rm(QStringLiteral("a@example.org"), {QStringLiteral("b@example.org")}, raw);
    const QString rawPath = m_dir.filePath(QStringLiteral("saved-raw.eml"));
    QCOMPARE(MessageFile::save(rm, rawPath, {}), QString());
    QCOMPARE(readFile(rawPath), raw);

    // An EmlMessage saves what it would send: Bcc gone, CRLF everywhere.
    const QByteArray eml = "From: a@example.org\nTo: b@example.org\nBcc: secret@example.org\n\nline\n.dot\n";
    QString error;
    auto m = EmlMessage::load(file(eml), &error);
    QVERIFY2(m, qPrintable(error));
    const QString emlPath = m_dir.filePath(QStringLiteral("saved.eml"));
    QCOMPARE(MessageFile::save(*m, emlPath, {}), QString());
    const QByteArray expected = "From: a@example.org\r\nTo: b@example.org\r\n\r\nline\r\n.dot\r\n";
    QCOMPARE(readFile(emlPath), expected);
    QCOMPARE(*bodyOf(*m), expected);

    // Saved over an existing file: replaced whole. Loaded back: the same envelope
    // but the Bcc recipient, and the same bytes.
    QCOMPARE(MessageFile::save(*m, rawPath, {}), QString());
    QCOMPARE(readFile(rawPath), expected);
    auto again = EmlMessage::load(rawPath, &error);
    QVERIFY2(again, qPrintable(error));
    QCOMPARE(again->envelopeSender(), m->envelopeSender());
    QCOMPARE(again->envelopeRecipients(), QStringList {QStringLiteral("b@example.org")});
    QCOMPARE(*bodyOf(*again), expected);
}

void tst_EmlMessage::saveErrors()
{
    const RawMessage rm(QStringLiteral("a@example.org"), {QStringLiteral("b@example.org")}, kSimple);

    const QString missing = m_dir.filePath(QStringLiteral("no/such/folder/out.eml"));
    QString error = MessageFile::save(rm, missing, {});
    QVERIFY2(error.contains(missing) && error.contains(QStringLiteral("does not exist")), qPrintable(error));
    QVERIFY(!QFileInfo::exists(missing));

    error = MessageFile::save(rm, m_dir.path(), {});
    QVERIFY2(error.contains(m_dir.path()) && error.contains(QStringLiteral("folder")), qPrintable(error));

    // The message cannot be read: the source file changed. Nothing is written,
    // and an existing file is left as it was.
    QString loadError;
    const QString src = file(kSimple);
    auto m = EmlMessage::load(src, &loadError);
    QVERIFY2(m, qPrintable(loadError));
    const QString target = m_dir.filePath(QStringLiteral("kept.eml"));
    QVERIFY(!writeFile(m_dir, QStringLiteral("kept.eml"), "old contents").isEmpty());
    QFile f(src);
    QVERIFY(f.open(QIODevice::Append));
    f.write("x");
    f.close();
    error = MessageFile::save(*m, target, {});
    QVERIFY2(error.contains(target) && error.contains(QStringLiteral("cannot be read")), qPrintable(error));
    QCOMPARE(readFile(target), QByteArray("old contents"));
    QCOMPARE(QDir(m_dir.path()).entryList({QStringLiteral("kept.eml*")}, QDir::Files | QDir::Hidden),
             QStringList {QStringLiteral("kept.eml")});

    // A missing RawMessage file: the stream cannot be opened.
    const RawMessage gone = RawMessage::fromFile(QStringLiteral("a@example.org"), {QStringLiteral("b@example.org")},
                                                 m_dir.filePath(QStringLiteral("gone.eml")));
    error = MessageFile::save(gone, target, {});
    QVERIFY2(error.contains(target) && error.contains(QStringLiteral("cannot be read")), qPrintable(error));
}

// ---------------------------------------------------------------- wire preview

void tst_EmlMessage::wirePreview_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<bool>("chunking");
    QTest::addColumn<qint64>("maxBytes");
    QTest::addColumn<QByteArray>("wire"); // the whole wire form

    const QByteArray h = "Subject: s\r\n\r\n";
    QTest::addRow("dots doubled") << h + ".a\r\n..b\r\nc.\r\n.\r\n" << false << qint64(1000)
                                  << h + "..a\r\n...b\r\nc.\r\n..\r\n.\r\n";
    QTest::addRow("body only a dot") << QByteArray(".") << false << qint64(1000) << QByteArray("..\r\n.\r\n");
    QTest::addRow("dot after bare LF") << h + "x\n.\nMAIL FROM:<e@x>\r\n" << false << qint64(1000)
                                       << h + "x\r\n..\r\nMAIL FROM:<e@x>\r\n.\r\n";
    QTest::addRow("no final CRLF") << h + "last" << false << qint64(1000) << h + "last\r\n.\r\n";
    QTest::addRow("ends with CRLF dot") << h + "x\r\n." << false << qint64(1000) << h + "x\r\n..\r\n.\r\n";
    QTest::addRow("empty") << QByteArray() << false << qint64(1000) << QByteArray(".\r\n");
    QTest::addRow("bdat leaves dots") << h + ".a\r\n.\r\n" << true << qint64(1000) << h + ".a\r\n.\r\n";
    QTest::addRow("bdat completes the last line") << h + ".a\nb" << true << qint64(1000) << h + ".a\r\nb\r\n";
    QTest::addRow("bdat empty") << QByteArray() << true << qint64(1000) << QByteArray();
    QTest::addRow("truncated") << h + ".a\r\nbbbb\r\n" << false << qint64(5) << h + "..a\r\nbbbb\r\n.\r\n";
    QTest::addRow("cut exactly at the end") << QByteArray("x") << false << qint64(6) << QByteArray("x\r\n.\r\n");
    QTest::addRow("one byte short") << QByteArray("x") << false << qint64(5) << QByteArray("x\r\n.\r\n");
    QTest::addRow("nothing kept") << QByteArray("x") << false << qint64(0) << QByteArray("x\r\n.\r\n");
    QByteArray big;
    for (int i = 0; i < 50000; ++i)
        big += (i % 5 ? "line\n" : ".dot\n");
    QByteArray bigWire;
    for (int i = 0; i < 50000; ++i)
        bigWire += (i % 5 ? "line\r\n" : "..dot\r\n");
    QTest::addRow("several chunks, truncated") << big << false << qint64(100000) << bigWire + ".\r\n";
    QTest::addRow("several chunks, whole") << big << false << qint64(10'000'000) << bigWire + ".\r\n";
}

void tst_EmlMessage::wirePreview()
{
    QFETCH(QByteArray, message);
    QFETCH(bool, chunking);
    QFETCH(qint64, maxBytes);
    QFETCH(QByteArray, wire);

    const RawMessage m(QStringLiteral("a@example.org"), {QStringLiteral("b@example.org")}, message);
    const MessageFile::WirePreview p = MessageFile::wirePreview(m, {}, chunking, maxBytes);
    QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
    QCOMPARE(p.totalBytes, qint64(wire.size()));
    QCOMPARE(p.truncated, wire.size() > maxBytes);
    QCOMPARE(p.bytes, wire.left(qsizetype(maxBytes)));
}

void tst_EmlMessage::wirePreviewOfEml()
{
    // The preview of an .eml: Bcc gone, CRLF, dots stuffed, and the size of the
    // whole; a changed file gives an error, not a preview.
    QString error;
    const QString path = file("From: a@example.org\nBcc: s@example.org\nTo: b@example.org\n\n.x\n");
    auto m = EmlMessage::load(path, &error);
    QVERIFY2(m, qPrintable(error));
    const QByteArray expected = "From: a@example.org\r\nTo: b@example.org\r\n\r\n..x\r\n.\r\n";
    MessageFile::WirePreview p = MessageFile::wirePreview(*m, {}, false, 1 << 20);
    QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
    QCOMPARE(p.bytes, expected);
    QCOMPARE(p.totalBytes, qint64(expected.size()));
    QVERIFY(!p.truncated);
    // Data mode adds the stuffed dot and the terminator to size().
    QCOMPARE(p.totalBytes, m->size({}) + 1 + 3);

    QVERIFY(QFile::remove(path));
    p = MessageFile::wirePreview(*m, {}, false, 1 << 20);
    QVERIFY(!p.error.isEmpty());
    QVERIFY(p.bytes.isEmpty());
}

void tst_EmlMessage::previewMatchesEngine()
{
    // The preview must be what the engine sends: the same file sent by SmtpClient
    // in test mode (the built-in simulated server; no connection is made).
    QByteArray bytes = "From: Alice <alice@example.org>\n"
                       "To: \"Doe, John\" <john@example.org>\n"
                       "Bcc: hidden@example.org,\n  other@example.org\n"
                       "Subject: =?UTF-8?Q?preview?=\n\n"
                       ".starts with a dot\nbare CR\rthen\r\n..two\n";
    for (int i = 0; i < 3000; ++i)
        bytes += (i % 11 ? "some body text\n" : ".\n");
    bytes += "no final line end";
    QString error;
    auto m = EmlMessage::load(file(bytes), &error);
    QVERIFY2(m, qPrintable(error));

    SmtpClient client(QStringLiteral("mail.example.invalid"), 9);
    client.test(true);
    std::optional<SendResult> r;
    try {
        r = client.sendMessage(*m);
    } catch (const SmtpException &e) {
        QFAIL(qPrintable(e.error().toString()));
    }
    QVERIFY(r);
    QVERIFY2(r->accepted, qPrintable(r->error.toString()));

    // The simulated server offers no CHUNKING: DATA it is.
    const MessageFile::WirePreview p = MessageFile::wirePreview(*m, {true, true}, false, 1 << 24);
    QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
    QVERIFY(!p.truncated);
    const QByteArray &wire = r->simulatedWire;
    const QByteArray envelope = "MAIL FROM:<alice@example.org> SIZE=" + QByteArray::number(m->size({}))
        + "\r\nRCPT TO:<john@example.org>\r\nRCPT TO:<hidden@example.org>\r\nRCPT TO:<other@example.org>\r\nDATA\r\n";
    QVERIFY2(wire.contains(envelope + p.bytes + "QUIT\r\n"), wire.left(400).constData());
    QVERIFY(!p.bytes.contains("hidden@example.org"));
    QCOMPARE(r->messageBytes, m->size({}));
}

void tst_EmlMessage::testModeStreamsTheWire()
{
    // Test mode hands every byte to the wire function as it goes and keeps only
    // the start of the wire, with the size and SHA-256 of all of it.
    QByteArray bytes = "From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: streamed\n\n";
    for (int i = 0; i < 20000; ++i)
        bytes += (i % 13 ? "a line of the body, long enough to add up\n" : ".a line starting with a dot\n");
    QString error;
    auto m = EmlMessage::load(file(bytes), &error);
    QVERIFY2(m, qPrintable(error));

    SmtpClient client(QStringLiteral("mail.example.invalid"), 9);
    client.test(true);
    QByteArray streamed;
    int calls = 0;
    client.setTestWireFunction([&streamed, &calls](QByteArrayView b) {
        streamed.append(b.data(), b.size());
        ++calls;
    });
    std::optional<SendResult> r;
    try {
        r = client.sendMessage(*m);
    } catch (const SmtpException &e) {
        QFAIL(qPrintable(e.error().toString()));
    }
    QVERIFY(r);
    QVERIFY(calls > 1); // as it goes, not once at the end
    const MessageFile::WirePreview p = MessageFile::wirePreview(*m, {true, true}, false, 1 << 24);
    QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
    QVERIFY(streamed.startsWith("EHLO localhost\r\n"));
    QVERIFY(streamed.endsWith(p.bytes + "QUIT\r\n"));
    QVERIFY(streamed.size() > SendResult::SimulatedWireExcerpt);
    QCOMPARE(r->simulatedWire, streamed.left(SendResult::SimulatedWireExcerpt));
    QCOMPARE(r->simulatedWireBytes, qint64(streamed.size()));
    QCOMPARE(r->simulatedWireSha256, QCryptographicHash::hash(streamed, QCryptographicHash::Sha256).toHex());
    // The session's own facts say the same.
    const SendResult info = client.sessionInfo();
    QCOMPARE(info.simulatedWireBytes, qint64(streamed.size()));
    QCOMPARE(info.simulatedWire.size(), SendResult::SimulatedWireExcerpt);
}

// ---------------------------------------------------------------- large files

void tst_EmlMessage::largeFileStreamsFlat()
{
    // 200 MB made here (not kept in git): LF line ends, some lines starting with
    // a dot. What is sent is known from how it is made: every LF becomes CRLF,
    // and DATA doubles the leading dots and adds ".\r\n".
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("big.eml"));
    const QByteArray head = "From: a@example.org\nTo: b@example.org\nBcc: c@example.org\nSubject: big\n\n";
    const qint64 headOut = head.size() - qint64(QByteArrayView("Bcc: c@example.org\n").size()) + 4;
    QByteArray block;
    qint64 blockLines = 0;
    qint64 blockDots = 0;
    while (block.size() < 1024 * 1024 - 100) {
        const bool dot = blockLines % 97 == 0;
        block += dot ? ".a line that starts with a dot\n" : "plain text of the body, line after line\n";
        ++blockLines;
        blockDots += dot ? 1 : 0;
    }
    const int blocks = 200;
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QCOMPARE(f.write(head), qint64(head.size()));
        for (int i = 0; i < blocks; ++i)
            QCOMPARE(f.write(block), qint64(block.size()));
    }
    const qint64 expectedSize = headOut + blocks * (block.size() + blockLines);
    QVERIFY(QFileInfo(path).size() > 200'000'000);

    const qint64 rssBefore = maxRssKiB();
    QElapsedTimer timer;
    timer.start();

    QString error;
    auto m = EmlMessage::load(path, &error);
    QVERIFY2(m, qPrintable(error));
    QCOMPARE(m->size({}), expectedSize);
    QVERIFY(!m->has8BitContent({}));
    QCOMPARE(m->envelopeRecipients(), (QStringList {"b@example.org", "c@example.org"}));
    const qint64 loadMs = timer.elapsed();

    std::unique_ptr<QIODevice> dev = m->openBody({});
    QVERIFY(dev);
    QByteArray buf(64 * 1024, Qt::Uninitialized);
    qint64 total = 0;
    qint64 n;
    while ((n = dev->read(buf.data(), buf.size())) > 0)
        total += n;
    QCOMPARE(n, qint64(0));
    QVERIFY(dev->atEnd());
    QCOMPARE(total, expectedSize);
    dev.reset();

    const MessageFile::WirePreview p = MessageFile::wirePreview(*m, {}, false, 4096);
    QVERIFY2(p.error.isEmpty(), qPrintable(p.error));
    QCOMPARE(p.totalBytes, expectedSize + blocks * blockDots + 3);
    QCOMPARE(p.bytes.size(), qsizetype(4096));
    QVERIFY(p.truncated);
    QVERIFY(p.bytes.startsWith("From: a@example.org\r\nTo: b@example.org\r\nSubject: big\r\n\r\n..a line"));

    const qint64 grewKiB = maxRssKiB() - rssBefore;
    qInfo("200 MB: load %lld ms, load + read + preview %lld ms, peak memory %lld KiB before, grew %lld KiB",
          loadMs, qint64(timer.elapsed()), rssBefore, grewKiB);
    QVERIFY2(grewKiB < 30 * 1024, qPrintable(QStringLiteral("peak memory grew by %1 KiB").arg(grewKiB)));
    QVERIFY2(timer.elapsed() < 60'000, "streaming 200 MB three times took over a minute");
}

QTEST_GUILESS_MAIN(tst_EmlMessage)
#include "tst_emlmessage.moc"
