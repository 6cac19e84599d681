// smtpbench: end-to-end benchmarks of SmtpClient against smtpsink on loopback,
// with Python's smtplib doing the same work for comparison (bench/README.md).
//
// How it works: every part starts its own sink (bench/sink, a child process on
// 127.0.0.1, free port), runs one client against it, stops it with SIGTERM and
// reads its "SUMMARY" line, so each number is checked against what the server
// actually received (message count and bytes). The parts:
//   small: N messages of ~500 bytes over ONE session with sendMessages(),
//          keep-alive on: PIPELINING + BDAT, PIPELINING + DATA, then DATA with
//          no PIPELINING offered (one round trip per command, like smtplib);
//   large: one message of M MiB written to a temporary file and streamed with
//          RawMessage::fromFile, over BDAT and over DATA (dot-stuffed);
//   python: the same small and large work by bench/smtplib_bench.py.
// Peak memory: the kernel's peak-RSS mark (VmHWM) is reset before each part
// (clear_refs, Linux >= 4.0), so "growth" is what that part alone added.
// Every loop has a count and a time limit (--max-seconds per part), and a
// watchdog thread cancels a client call still running at the deadline.

#include "client/outgoingmessage.h"
#include "client/sendresult.h"
#include "client/smtpclient.h"
#include "mime/message.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QProcess>
#include <QTemporaryDir>
#include <QTextStream>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace {

const QString Sender = QStringLiteral("bench@example.test");
const QString Recipient = QStringLiteral("sink@example.test");
// Keep in step with smtplib_bench.py: both sides send the same bytes.
constexpr char BodyLine[] = "The quick brown fox jumps over the lazy dog while SMTP Scope measures it.\r\n";
constexpr qint64 MiB = 1024 * 1024;
constexpr int SinkStartMs = 10000;
constexpr int SinkStopMs = 10000;

struct Options
{
    int messages = 20000;
    int messageSize = 500;
    int largeMb = 200;
    int maxSeconds = 120;
    int batch = 1000;
    bool skipPython = false;
    bool json = false;
    bool verbose = false;
    QString sinkPath = QStringLiteral(SMTPBENCH_SINK_PATH);
    QString pythonPath = QStringLiteral("/usr/bin/python3");
    QString scriptPath = QStringLiteral(SMTPBENCH_PYTHON_SCRIPT);
};

struct PartResult
{
    QString part;   // "small", "large" or "attachment"
    QString client; // "SmtpClient" or "smtplib"
    QString mode;   // what was on the wire
    qint64 attempted = 0;
    qint64 done = 0;  // messages the server accepted
    qint64 bytes = 0; // message bytes of those (before dot-stuffing)
    double seconds = 0;
    qint64 rssBeforeKb = 0;
    qint64 peakKb = 0;
    bool peakIsPerPart = false; // VmHWM was reset before the part
    std::optional<qint64> sinkMessages;
    std::optional<qint64> sinkBytes;
    qint64 expectedSinkBytes = 0;
    QString error;

    [[nodiscard]] bool verified() const
    {
        return sinkMessages && sinkBytes && *sinkMessages == done && *sinkBytes == expectedSinkBytes;
    }
    [[nodiscard]] bool ok() const { return error.isEmpty() && done == attempted && verified(); }
    [[nodiscard]] double rate() const
    {
        if (seconds <= 0)
            return 0;
        return part == QLatin1String("small") ? double(done) / seconds : double(bytes) / double(MiB) / seconds;
    }
    [[nodiscard]] QString rateUnit() const
    {
        return part == QLatin1String("small") ? QStringLiteral("msg/s") : QStringLiteral("MiB/s");
    }
    [[nodiscard]] qint64 growthKb() const { return std::max<qint64>(0, peakKb - rssBeforeKb); }
};

void progress(const QString &text)
{
    std::fprintf(stderr, "smtpbench: %s\n", qPrintable(text));
    std::fflush(stderr);
}

// ---- memory of this process, from /proc/self/status (Linux)

qint64 procStatusKb(QByteArrayView key)
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    const QList<QByteArray> lines = status.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (line.startsWith(key) && line.size() > key.size() && line.at(key.size()) == ':') {
            const QList<QByteArray> fields = line.mid(key.size() + 1).simplified().split(' ');
            return fields.value(0).toLongLong();
        }
    }
    return -1;
}

// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
bool resetPeakRss()
{
    QFile refs(QStringLiteral("/proc/self/clear_refs"));
    return refs.open(QIODevice::WriteOnly) && refs.write("5") == 1;
}

// ---- test data

// One small message of exactly `size` bytes (at least its header), CRLF lines,
// ASCII, no line starting with "." (so DATA and BDAT carry the same bytes).
QByteArray makeMessage(qint64 index, int size)
{
    QByteArray message = QStringLiteral("From: <%1>\r\nTo: <%2>\r\nSubject: smtpbench message %3\r\n"
                                        "Message-ID: <%3.smtpbench@example.test>\r\n"
                                        "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMIME-Version: 1.0\r\n"
                                        "Content-Type: text/plain; charset=us-ascii\r\n\r\n")
                             .arg(Sender, Recipient)
                             .arg(index)
                             .toLatin1();
    const qint64 lineLength = qint64(sizeof BodyLine) - 1;
    const qint64 bodySize = std::max<qint64>(size - message.size(), 2);
    qint64 body = 0;
    message.reserve(message.size() + bodySize);
    while (body + lineLength <= bodySize) {
        message.append(BodyLine, lineLength);
        body += lineLength;
    }
    qint64 rest = bodySize - body;
    if (rest == 1) {
        // A line needs at least its CRLF: lengthen the last full line instead.
        message.chop(lineLength);
        rest += lineLength;
    }
    if (rest > 0) {
        message.append(QByteArray(rest - 2, 'x'));
        message.append("\r\n");
    }
    return message;
}

struct LargeFile
{
    QString path;
    qint64 bytes = 0;
    qint64 dotLines = 0; // lines starting with "." (DATA doubles each: RFC 5321 4.5.2)
};

// Writes the large message in 1 MiB slices: headers, then 78-byte lines of
// which one in 100 starts with "." so that dot-stuffing is part of the work.
bool writeLargeFile(const QString &path, qint64 bytes, LargeFile &out, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    QByteArray buffer = QStringLiteral("From: <%1>\r\nTo: <%2>\r\nSubject: smtpbench large message\r\n"
                                       "Message-ID: <large.smtpbench@example.test>\r\n"
                                       "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMIME-Version: 1.0\r\n"
                                       "Content-Type: text/plain; charset=us-ascii\r\n\r\n")
                            .arg(Sender, Recipient)
                            .toLatin1();
    // 76 characters and CRLF: the body text, padded.
    constexpr qint64 lineLength = 78;
    QByteArray line(BodyLine, qsizetype(sizeof BodyLine) - 3);
    line = line.leftJustified(lineLength - 2, '-', true) + "\r\n";
    QByteArray dotLine = line;
    dotLine[0] = '.';
    qint64 written = 0;
    qint64 dotLines = 0;
    qint64 lineNumber = 0;
    auto flush = [&]() {
        if (file.write(buffer) != buffer.size())
            return false;
        written += buffer.size();
        buffer.clear();
        return true;
    };
    // Bounded by the byte count: every turn adds one full line. The last one or
    // two lines' worth is left for one final line of the exact length.
    while (written + buffer.size() + 2 * lineLength <= bytes) {
        const bool dot = lineNumber++ % 100 == 50;
        buffer.append(dot ? dotLine : line);
        dotLines += dot ? 1 : 0;
        if (buffer.size() >= MiB && !flush()) {
            *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
            return false;
        }
    }
    const qint64 rest = bytes - written - buffer.size();
    if (rest < 2) {
        *error = QStringLiteral("%1 bytes is too small for the large message").arg(bytes);
        return false;
    }
    // At most 2 * 78 - 1 bytes: within RFC 5321 4.5.3.1.6's 1000-octet line.
    buffer.append(QByteArray(rest - 2, 'x'));
    buffer.append("\r\n");
    if (!flush() || !file.flush()) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    out.path = path;
    out.bytes = written;
    out.dotLines = dotLines;
    if (written != bytes) {
        *error = QStringLiteral("wrote %1 bytes instead of %2").arg(written).arg(bytes);
        return false;
    }
    return true;
}

// ---- the sink as a child process

class SinkProcess
{
public:
    SinkProcess() = default;
    ~SinkProcess()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(SinkStopMs);
        }
    }
    Q_DISABLE_COPY_MOVE(SinkProcess)

    bool start(const Options &options, QStringList arguments, QString *error)
    {
        // The sink also stops by itself at end of file on stdin (our pipe) and
        // after its own time limit, longer than anything this part may take.
        arguments << QStringLiteral("--max-seconds") << QString::number(options.maxSeconds * 2 + 60);
        m_process.setProgram(options.sinkPath);
        m_process.setArguments(arguments);
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_process.start();
        if (!m_process.waitForStarted(SinkStartMs)) {
            *error = QStringLiteral("cannot start %1: %2").arg(options.sinkPath, m_process.errorString());
            return false;
        }
        const QDeadlineTimer deadline(SinkStartMs);
        while (!m_process.canReadLine()) {
            if (deadline.hasExpired() || !m_process.waitForReadyRead(int(deadline.remainingTime()))) {
                *error = QStringLiteral("the sink did not report its port");
                return false;
            }
        }
        const QByteArray line = m_process.readLine().trimmed();
        bool ok = false;
        if (line.startsWith("PORT "))
            m_port = line.mid(5).toUShort(&ok);
        if (!ok || m_port == 0) {
            *error = QStringLiteral("unexpected first line from the sink: %1").arg(QString::fromLatin1(line));
            return false;
        }
        return true;
    }

    [[nodiscard]] quint16 port() const { return m_port; }

    // SIGTERM, then the counters from the "SUMMARY key=value ..." line.
    void stop(PartResult &result)
    {
        m_process.terminate();
        if (!m_process.waitForFinished(SinkStopMs)) {
            m_process.kill();
            m_process.waitForFinished(SinkStopMs);
            appendError(result, QStringLiteral("the sink did not stop on SIGTERM"));
            return;
        }
        const QList<QByteArray> lines = m_process.readAllStandardOutput().split('\n');
        for (const QByteArray &line : lines) {
            if (!line.startsWith("SUMMARY "))
                continue;
            const QList<QByteArray> fields = line.mid(8).split(' ');
            for (const QByteArray &field : fields) {
                const qsizetype eq = field.indexOf('=');
                const QByteArray key = field.left(eq);
                const qint64 value = field.mid(eq + 1).toLongLong();
                if (key == "messages")
                    result.sinkMessages = value;
                else if (key == "data_bytes")
                    result.sinkBytes = value;
            }
        }
        if (!result.sinkMessages)
            appendError(result, QStringLiteral("no SUMMARY line from the sink"));
    }

    static void appendError(PartResult &result, const QString &text)
    {
        result.error = result.error.isEmpty() ? text : result.error + QStringLiteral("; ") + text;
    }

private:
    QProcess m_process;
    quint16 m_port = 0;
};

// ---- a deadline for blocking client calls

class Watchdog
{
public:
    Watchdog(std::chrono::steady_clock::time_point deadline, std::function<void()> onExpiry)
        : m_thread([this, deadline, expire = std::move(onExpiry)] {
            std::unique_lock lock(m_mutex);
            if (!m_condition.wait_until(lock, deadline, [this] { return m_stopped; })) {
                m_fired = true;
                expire(); // SmtpClient::cancel() is not serialised: safe from here
            }
        })
    {
    }
    ~Watchdog()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stopped = true;
        }
        m_condition.notify_all();
        m_thread.join();
    }
    Q_DISABLE_COPY_MOVE(Watchdog)

    [[nodiscard]] bool fired()
    {
        std::lock_guard lock(m_mutex);
        return m_fired;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_condition;
    bool m_stopped = false;
    bool m_fired = false;
    std::thread m_thread; // last: starts once the members above exist
};

void configureClient(SmtpClient &client, const Options &options)
{
    client.setEhloName(QStringLiteral("localhost")); // no lookup of our own name
    client.setStartTlsPolicy(SmtpClient::StartTlsPolicy::Never);
    client.setConnectTimeout(5000);
    client.setReadTimeout(30000);
    client.setDataTimeout(options.maxSeconds * 1000);
    client.setPipelining(true);
}

// ---- the parts

PartResult runSmallClient(const Options &options, const QString &mode, const QStringList &sinkArguments, bool chunking)
{
    PartResult result;
    result.part = QStringLiteral("small");
    result.client = QStringLiteral("SmtpClient");
    result.mode = mode;
    SinkProcess sink;
    if (!sink.start(options, sinkArguments, &result.error))
        return result;

    // The messages are made before timing: the measure is the sending.
    std::vector<RawMessage> messages;
    messages.reserve(std::size_t(options.messages));
    QList<const OutgoingMessage *> pointers;
    pointers.reserve(options.messages);
    for (int i = 0; i < options.messages; ++i) {
        messages.emplace_back(Sender, QStringList{Recipient}, makeMessage(i, options.messageSize));
        pointers.append(&messages.back());
    }

    try {
        SmtpClient client(QStringLiteral("127.0.0.1"), sink.port());
        configureClient(client, options);
        client.setKeepAlive(true); // one session for every batch
        client.setChunking(chunking);
        client.connect();

        result.rssBeforeKb = procStatusKb("VmRSS");
        result.peakIsPerPart = resetPeakRss();
        QElapsedTimer timer;
        timer.start();
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.maxSeconds);
        {
            Watchdog watchdog(deadline, [&client] { client.cancel(); });
            // Bounded by the count and by the deadline.
            for (qsizetype offset = 0; offset < pointers.size() && std::chrono::steady_clock::now() < deadline;
                 offset += options.batch) {
                const QList<const OutgoingMessage *> batch = pointers.mid(offset, options.batch);
                result.attempted += batch.size();
                const QList<SendResult> results = client.sendMessages(batch);
                for (const SendResult &r : results) {
                    if (r.accepted) {
                        ++result.done;
                        result.bytes += r.messageBytes;
                    } else if (result.error.isEmpty()) {
                        result.error = r.error.isError() ? r.error.toString() : QStringLiteral("a message was not accepted");
                    }
                }
                if (results.size() != batch.size() && result.error.isEmpty())
                    result.error = QStringLiteral("%1 results for %2 messages").arg(results.size()).arg(batch.size());
                if (!result.error.isEmpty())
                    break;
            }
            result.seconds = double(timer.nsecsElapsed()) / 1e9;
            if (watchdog.fired())
                SinkProcess::appendError(result, QStringLiteral("time limit of %1 s reached").arg(options.maxSeconds));
        }
        result.peakKb = procStatusKb("VmHWM");
        client.disconnect();
    } catch (const SmtpException &e) {
        SinkProcess::appendError(result, e.error().toString());
    }
    // No line of these messages starts with ".", so DATA adds nothing.
    result.expectedSinkBytes = result.bytes;
    sink.stop(result);
    return result;
}

// One large message through SmtpClient: `part` is "large" (the raw file) or
// "attachment" (a composed Message carrying the file, base64-encoded on the fly).
PartResult runLargeClient(const Options &options, const OutgoingMessage &message, const QString &part,
                          bool chunking, qint64 expectedSinkBytes)
{
    PartResult result;
    result.part = part;
    result.client = QStringLiteral("SmtpClient");
    result.mode = chunking ? QStringLiteral("BDAT (RFC 3030)") : QStringLiteral("DATA, dot-stuffed");
    result.attempted = 1;
    SinkProcess sink;
    // SIZE must admit the message (RFC 1870): advertise twice its size.
    QStringList arguments{QStringLiteral("--size"), QString::number(message.size(BodyOptions{}) * 2)};
    if (!chunking)
        arguments << QStringLiteral("--no-chunking");
    if (!sink.start(options, arguments, &result.error))
        return result;

    try {
        SmtpClient client(QStringLiteral("127.0.0.1"), sink.port());
        configureClient(client, options);
        client.setChunking(chunking);
        client.connect();

        result.rssBeforeKb = procStatusKb("VmRSS");
        result.peakIsPerPart = resetPeakRss();
        QElapsedTimer timer;
        timer.start();
        {
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.maxSeconds);
            Watchdog watchdog(deadline, [&client] { client.cancel(); });
            try {
                const SendResult r = client.sendMessage(message); // throws unless accepted
                result.done = 1;
                result.bytes = r.messageBytes;
            } catch (const SmtpException &e) {
                SinkProcess::appendError(result, e.error().toString());
            }
            result.seconds = double(timer.nsecsElapsed()) / 1e9;
            if (watchdog.fired())
                SinkProcess::appendError(result, QStringLiteral("time limit of %1 s reached").arg(options.maxSeconds));
        }
        result.peakKb = procStatusKb("VmHWM");
    } catch (const SmtpException &e) {
        SinkProcess::appendError(result, e.error().toString());
    }
    result.expectedSinkBytes = result.done ? expectedSinkBytes : 0;
    sink.stop(result);
    return result;
}

PartResult runPython(const Options &options, const QString &part, const LargeFile *large)
{
    PartResult result;
    result.part = part;
    result.client = QStringLiteral("smtplib");
    result.mode = QStringLiteral("DATA, no pipelining");
    SinkProcess sink;
    QStringList sinkArguments;
    if (large)
        sinkArguments << QStringLiteral("--size") << QString::number(large->bytes * 2);
    if (!sink.start(options, sinkArguments, &result.error))
        return result;

    QStringList arguments{options.scriptPath,
                          QStringLiteral("--port"), QString::number(sink.port()),
                          QStringLiteral("--part"), part,
                          QStringLiteral("--messages"), QString::number(options.messages),
                          QStringLiteral("--message-size"), QString::number(options.messageSize),
                          QStringLiteral("--max-seconds"), QString::number(options.maxSeconds)};
    if (large)
        arguments << QStringLiteral("--large-file") << large->path;
    QProcess python;
    python.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    python.start(options.pythonPath, arguments);
    // The script stops itself at --max-seconds (+5 s alarm); this is the backstop.
    const int waitMs = (options.maxSeconds + 60) * 1000;
    if (!python.waitForStarted(10000) || !python.waitForFinished(waitMs)) {
        python.kill();
        python.waitForFinished(10000);
        result.error = QStringLiteral("%1 did not finish: %2").arg(options.pythonPath, python.errorString());
        sink.stop(result);
        return result;
    }
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(python.readAllStandardOutput().trimmed(), &parseError);
    if (!document.isObject()) {
        result.error = QStringLiteral("unreadable output from %1: %2").arg(options.scriptPath, parseError.errorString());
        sink.stop(result);
        return result;
    }
    const QJsonObject o = document.object();
    result.attempted = o.value(QLatin1String("attempted")).toInteger();
    result.done = o.value(QLatin1String("messages")).toInteger();
    result.bytes = o.value(QLatin1String("bytes")).toInteger();
    result.seconds = o.value(QLatin1String("seconds")).toDouble();
    result.rssBeforeKb = o.value(QLatin1String("rss_before_kb")).toInteger();
    result.peakKb = o.value(QLatin1String("peak_rss_kb")).toInteger();
    if (!o.value(QLatin1String("error")).isNull())
        result.error = o.value(QLatin1String("error")).toString();
    // smtplib dot-stuffs too (RFC 5321 4.5.2).
    result.expectedSinkBytes = result.bytes + (large && result.done ? large->dotLines : 0);
    sink.stop(result);
    return result;
}

// ---- output

QString mib(qint64 kb)
{
    return QStringLiteral("%1 MiB").arg(double(kb) / 1024.0, 0, 'f', 1);
}

QString grouped(double value)
{
    // 123456.7 -> "123,457": thousands separators without a locale.
    QString digits = QString::number(qint64(value + 0.5));
    for (qsizetype i = digits.size() - 3; i > 0; i -= 3)
        digits.insert(i, u',');
    return digits;
}

void printTable(const Options &options, const QList<PartResult> &results)
{
    QTextStream out(stdout);
    out << "smtpbench: SmtpClient";
    if (!options.skipPython)
        out << " and Python smtplib";
    out << " -> smtpsink on 127.0.0.1 (" << SMTPBENCH_BUILD_TYPE << " build";
    if (QLatin1String(SMTPBENCH_BUILD_TYPE) == QLatin1String("Debug"))
        out << "; a Release build is faster";
    out << ")\n";
    out << "small: " << options.messages << " messages of " << options.messageSize
        << " bytes over one session; large: one " << options.largeMb << " MiB message from a file\n\n";

    const QStringList header{QStringLiteral("part"), QStringLiteral("client"), QStringLiteral("mode"),
                             QStringLiteral("sent"), QStringLiteral("seconds"), QStringLiteral("rate"),
                             QStringLiteral("RSS before"), QStringLiteral("peak RSS"), QStringLiteral("growth"),
                             QStringLiteral("sink check")};
    QList<QStringList> rows{header};
    for (const PartResult &r : results) {
        const QString sent = r.part == QLatin1String("small")
                                 ? QStringLiteral("%1/%2").arg(r.done).arg(r.attempted)
                                 : QStringLiteral("%1 MiB").arg(double(r.bytes) / double(MiB), 0, 'f', 0);
        const QString rate = r.part == QLatin1String("small") ? grouped(r.rate())
                                                               : QString::number(r.rate(), 'f', 1);
        rows.append({r.part, r.client, r.mode, sent, QString::number(r.seconds, 'f', 3),
                     rate + u' ' + r.rateUnit(), mib(r.rssBeforeKb), mib(r.peakKb) + (r.peakIsPerPart ? QString() : QStringLiteral("*")),
                     u'+' + mib(r.growthKb()), r.verified() ? QStringLiteral("ok") : QStringLiteral("MISMATCH")});
    }
    QList<qsizetype> widths(header.size(), 0);
    for (const QStringList &row : rows) {
        for (qsizetype c = 0; c < row.size(); ++c)
            widths[c] = std::max(widths[c], row[c].size());
    }
    for (const QStringList &row : rows) {
        for (qsizetype c = 0; c < row.size(); ++c) {
            // Numbers right-aligned, words left-aligned.
            const bool numeric = c >= 3 && c <= 8;
            if (c + 1 == row.size())
                out << row[c] << '\n';
            else
                out << (numeric ? row[c].rightJustified(widths[c]) : row[c].leftJustified(widths[c])) << "  ";
        }
    }
    out << "\npeak RSS: the process's peak during the part (VmHWM reset just before it); growth = peak - RSS before.\n";
    if (std::any_of(results.begin(), results.end(), [](const PartResult &r) { return !r.peakIsPerPart; }))
        out << "* not reset per part: the whole process's peak (smtplib: ru_maxrss; its process runs one part only).\n";
    for (const PartResult &r : results) {
        if (!r.error.isEmpty())
            out << "error: " << r.part << ' ' << r.client << " (" << r.mode << "): " << r.error << '\n';
        if (!r.verified()) {
            out << "mismatch: " << r.part << ' ' << r.client << " (" << r.mode << "): sink saw "
                << r.sinkMessages.value_or(-1) << " messages, " << r.sinkBytes.value_or(-1) << " bytes; expected "
                << r.done << ", " << r.expectedSinkBytes << '\n';
        }
    }
}

void printJson(const Options &options, const QList<PartResult> &results)
{
    QJsonArray parts;
    for (const PartResult &r : results) {
        parts.append(QJsonObject{
            {QStringLiteral("part"), r.part},
            {QStringLiteral("client"), r.client},
            {QStringLiteral("mode"), r.mode},
            {QStringLiteral("attempted"), r.attempted},
            {QStringLiteral("messages"), r.done},
            {QStringLiteral("bytes"), r.bytes},
            {QStringLiteral("seconds"), r.seconds},
            {QStringLiteral("rate"), r.rate()},
            {QStringLiteral("rate_unit"), r.rateUnit()},
            {QStringLiteral("rss_before_kb"), r.rssBeforeKb},
            {QStringLiteral("peak_rss_kb"), r.peakKb},
            {QStringLiteral("peak_is_per_part"), r.peakIsPerPart},
            {QStringLiteral("growth_kb"), r.growthKb()},
            {QStringLiteral("sink_messages"), r.sinkMessages ? QJsonValue(*r.sinkMessages) : QJsonValue()},
            {QStringLiteral("sink_bytes"), r.sinkBytes ? QJsonValue(*r.sinkBytes) : QJsonValue()},
            {QStringLiteral("expected_sink_bytes"), r.expectedSinkBytes},
            {QStringLiteral("verified"), r.verified()},
            {QStringLiteral("ok"), r.ok()},
            {QStringLiteral("error"), r.error.isEmpty() ? QJsonValue() : QJsonValue(r.error)},
        });
    }
    const QJsonObject root{
        {QStringLiteral("build_type"), QStringLiteral(SMTPBENCH_BUILD_TYPE)},
        {QStringLiteral("qt"), QString::fromLatin1(qVersion())},
        {QStringLiteral("messages"), options.messages},
        {QStringLiteral("message_size"), options.messageSize},
        {QStringLiteral("large_mib"), options.largeMb},
        {QStringLiteral("max_seconds"), options.maxSeconds},
        {QStringLiteral("parts"), parts},
    };
    QTextStream(stdout) << QJsonDocument(root).toJson(QJsonDocument::Indented);
}

bool parseOptions(const QCoreApplication &app, Options &options)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Benchmarks SmtpClient (and Python's smtplib) against a local SMTP sink on 127.0.0.1."));
    parser.addHelpOption();
    const QCommandLineOption messages(QStringLiteral("messages"), QStringLiteral("Small messages per run (default 20000)."), QStringLiteral("N"), QString::number(options.messages));
    const QCommandLineOption messageSize(QStringLiteral("message-size"), QStringLiteral("Bytes per small message (default 500)."), QStringLiteral("B"), QString::number(options.messageSize));
    const QCommandLineOption largeMb(QStringLiteral("large-mb"), QStringLiteral("Size of the large message in MiB (default 200; 0 skips it)."), QStringLiteral("M"), QString::number(options.largeMb));
    const QCommandLineOption maxSeconds(QStringLiteral("max-seconds"), QStringLiteral("Time limit per part (default 120)."), QStringLiteral("S"), QString::number(options.maxSeconds));
    const QCommandLineOption batch(QStringLiteral("batch"), QStringLiteral("Messages per sendMessages() call (default 1000)."), QStringLiteral("N"), QString::number(options.batch));
    const QCommandLineOption skipPython(QStringLiteral("skip-python"), QStringLiteral("Do not run the smtplib comparison."));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print JSON instead of the table."));
    const QCommandLineOption verbose(QStringLiteral("verbose"), QStringLiteral("Keep the engine's debug logging (slower)."));
    const QCommandLineOption sink(QStringLiteral("sink"), QStringLiteral("Path of smtpsink."), QStringLiteral("PATH"), options.sinkPath);
    const QCommandLineOption python(QStringLiteral("python"), QStringLiteral("Python interpreter (default /usr/bin/python3)."), QStringLiteral("PATH"), options.pythonPath);
    const QCommandLineOption script(QStringLiteral("script"), QStringLiteral("Path of smtplib_bench.py."), QStringLiteral("PATH"), options.scriptPath);
    parser.addOptions({messages, messageSize, largeMb, maxSeconds, batch, skipPython, json, verbose, sink, python, script});
    parser.process(app);

    bool ok[5] = {};
    options.messages = parser.value(messages).toInt(&ok[0]);
    options.messageSize = parser.value(messageSize).toInt(&ok[1]);
    options.largeMb = parser.value(largeMb).toInt(&ok[2]);
    options.maxSeconds = parser.value(maxSeconds).toInt(&ok[3]);
    options.batch = parser.value(batch).toInt(&ok[4]);
    options.skipPython = parser.isSet(skipPython);
    options.json = parser.isSet(json);
    options.verbose = parser.isSet(verbose);
    options.sinkPath = parser.value(sink);
    options.pythonPath = parser.value(python);
    options.scriptPath = parser.value(script);
    if (!std::all_of(std::begin(ok), std::end(ok), [](bool b) { return b; }) || options.messages < 0
        || options.messageSize < 1 || options.messageSize > 64 * 1024 * 1024 || options.largeMb < 0
        || options.largeMb > 64 * 1024 || options.maxSeconds < 1 || options.maxSeconds > 86400 || options.batch < 1) {
        std::fprintf(stderr, "smtpbench: bad option value (see --help)\n");
        return false;
    }
    return true;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("smtpbench"));
    Options options;
    if (!parseOptions(app, options))
        return 2;
    // The engine's debug categories would measure logging, not sending.
    if (!options.verbose)
        QLoggingCategory::setFilterRules(QStringLiteral("smtpscope.*.debug=false\nsmtpscope.*.info=false"));

    QList<PartResult> results;
    if (options.messages > 0) {
        progress(QStringLiteral("small messages: PIPELINING + BDAT"));
        results.append(runSmallClient(options, QStringLiteral("PIPELINING + BDAT"), {}, true));
        progress(QStringLiteral("small messages: PIPELINING + DATA"));
        results.append(runSmallClient(options, QStringLiteral("PIPELINING + DATA"), {QStringLiteral("--no-chunking")}, true));
        progress(QStringLiteral("small messages: DATA, no PIPELINING offered"));
        results.append(runSmallClient(options, QStringLiteral("DATA, no pipelining"),
                                      {QStringLiteral("--no-chunking"), QStringLiteral("--no-pipelining")}, false));
    }

    QTemporaryDir directory;
    LargeFile large;
    bool haveLarge = false;
    if (options.largeMb > 0) {
        if (!directory.isValid()) {
            std::fprintf(stderr, "smtpbench: no temporary directory: %s\n", qPrintable(directory.errorString()));
            return 1;
        }
        progress(QStringLiteral("writing a %1 MiB message").arg(options.largeMb));
        QString error;
        if (!writeLargeFile(directory.filePath(QStringLiteral("large.eml")), options.largeMb * MiB, large, &error)) {
            std::fprintf(stderr, "smtpbench: %s\n", qPrintable(error));
            return 1;
        }
        haveLarge = true;
        // RFC 5321 4.5.2: DATA doubles each leading "."; BDAT sends the bytes as they are.
        const RawMessage raw = RawMessage::fromFile(Sender, {Recipient}, large.path);
        progress(QStringLiteral("large message: BDAT"));
        results.append(runLargeClient(options, raw, QStringLiteral("large"), true, large.bytes));
        progress(QStringLiteral("large message: DATA"));
        results.append(runLargeClient(options, raw, QStringLiteral("large"), false, large.bytes + large.dotLines));
        // The same file as an attachment of a composed message: base64 lines
        // never start with ".", so DATA adds nothing.
        Message composed(Sender, QStringLiteral("attachment benchmark"));
        composed.addTo(Recipient);
        composed.setText(QStringLiteral("attached\n"));
        composed.attachFile(large.path, QStringLiteral("application/octet-stream"));
        const qint64 composedBytes = composed.size(BodyOptions{true, true});
        progress(QStringLiteral("attachment: BDAT"));
        results.append(runLargeClient(options, composed, QStringLiteral("attachment"), true, composedBytes));
        progress(QStringLiteral("attachment: DATA"));
        results.append(runLargeClient(options, composed, QStringLiteral("attachment"), false, composedBytes));
    }

    if (!options.skipPython) {
        if (options.messages > 0) {
            progress(QStringLiteral("small messages: Python smtplib"));
            results.append(runPython(options, QStringLiteral("small"), nullptr));
        }
        if (haveLarge) {
            progress(QStringLiteral("large message: Python smtplib"));
            results.append(runPython(options, QStringLiteral("large"), &large));
        }
    }

    if (options.json)
        printJson(options, results);
    else
        printTable(options, results);
    const bool allOk = std::all_of(results.begin(), results.end(), [](const PartResult &r) { return r.ok(); });
    return allOk ? 0 : 1;
}
