// A 1 GiB attachment (a sparse file made at test time) composed by Message and sent
// by SmtpClient to a loopback sink (bench/sink/smtpsink, a separate process), with
// DATA and with BDAT: every byte arrives, and this process's peak memory stays
// under 200 MB, because the attachment is encoded while it is read from disk.

#include "sanitize/bounds.h"
#include "client/smtpclient.h"
#include "mime/message.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <sys/resource.h>

namespace {

constexpr qint64 AttachmentBytes = qint64(1) << 30;
constexpr qint64 PeakLimitBytes = 200LL * 1000 * 1000;

qint64 peakRssBytes()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return qint64(usage.ru_maxrss) * 1024; // kilobytes on Linux
}

// Starts the sink on a free loopback port; returns the port or 0.
quint16 startSink(QProcess &sink, const QStringList &extra)
{
    sink.setProgram(QStringLiteral(SMTPSINK_PATH));
    sink.setArguments(QStringList{QStringLiteral("--size"), QStringLiteral("0"), QStringLiteral("--max-seconds"),
                                  QStringLiteral("300")}
                      + extra);
    sink.start();
    if (!sink.waitForStarted(10000))
        return 0;
    QElapsedTimer t;
    t.start();
    while (!sink.canReadLine() && t.elapsed() < 10000)
        sink.waitForReadyRead(1000);
    const QByteArray line = sink.readLine().trimmed();
    return line.startsWith("PORT ") ? quint16(line.mid(5).toUInt()) : 0;
}

// Stops the sink (end of file on its stdin) and returns the bytes it received.
qint64 stopSink(QProcess &sink)
{
    sink.closeWriteChannel();
    if (!sink.waitForFinished(30000)) {
        sink.kill();
        sink.waitForFinished(5000);
        return -1;
    }
    static const QRegularExpression re(QStringLiteral("data_bytes=(\\d+)"));
    const auto m = re.match(QString::fromLatin1(sink.readAllStandardOutput()));
    return m.hasMatch() ? m.captured(1).toLongLong() : -1;
}

} // namespace

class TestLargeAttachment : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void oneGigabyte_data();
    void oneGigabyte();
};

void TestLargeAttachment::oneGigabyte_data()
{
    QTest::addColumn<bool>("chunking");
    QTest::addRow("BDAT") << true;
    QTest::addRow("DATA") << false;
}

void TestLargeAttachment::oneGigabyte()
{
    QFETCH(bool, chunking);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("disk-image.bin"));
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        QVERIFY(f.resize(AttachmentBytes)); // sparse: no disk space used
        // Non-zero bytes at both ends, so a truncated or shifted stream shows.
        f.seek(0);
        f.write("start of the image");
        f.seek(AttachmentBytes - 16);
        f.write("end of the image");
    }

    QProcess sink;
    const quint16 port = startSink(sink, chunking ? QStringList() : QStringList{QStringLiteral("--no-chunking")});
    QVERIFY2(port != 0, qPrintable(sink.readAllStandardError()));

    Message m(QStringLiteral("sender@example.org"), QStringLiteral("a 1 GiB attachment"));
    m.addTo(QStringLiteral("rcpt@example.org"));
    m.setText(QStringLiteral("The image is attached.\n"));
    m.attachFile(path, QStringLiteral("application/octet-stream"));

    const qint64 before = peakRssBytes();
    QElapsedTimer timer;
    timer.start();
    SmtpClient client(QStringLiteral("127.0.0.1"), port);
    client.setReadTimeout(60000);
    client.setDataTimeout(120000);
    const SendResult r = client.sendMessage(m);
    const qint64 ms = timer.elapsed();
    const qint64 peak = peakRssBytes();
    const qint64 received = stopSink(sink);

    QVERIFY2(r.accepted, qPrintable(r.error.toString()));
    QCOMPARE(r.chunked, chunking);
    // Base64 of 1 GiB is 4/3 of it plus CRLF every 76 characters (RFC 2045 6.8).
    QVERIFY2(r.messageBytes > AttachmentBytes * 4 / 3, qPrintable(QString::number(r.messageBytes)));
    QCOMPARE(r.messageBytes, m.size(BodyOptions{true, true}));
    // The sink counts message bytes: all of them arrived.
    QCOMPARE(received, r.messageBytes);
    qInfo("%s: %lld bytes in %lld ms (%.0f MiB/s); peak RSS %.1f MB (%.1f MB before sending)",
          chunking ? "BDAT" : "DATA", r.messageBytes, ms, double(r.messageBytes) / 1048576.0 / (double(ms) / 1000.0),
          double(peak) / 1e6, double(before) / 1e6);
    QVERIFY2(peak < Bounds::memoryBytes(PeakLimitBytes), qPrintable(QStringLiteral("peak RSS %1 bytes").arg(peak)));
}

QTEST_GUILESS_MAIN(TestLargeAttachment)
#include "tst_largeattachment.moc"
