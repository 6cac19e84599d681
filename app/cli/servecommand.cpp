#include "servecommand.h"

#include "exitcodes.h"
#include "inputfile.h"
#include "output.h"
#include "terminal.h"

#include "capture/captureserver.h"
#include "protocol/printable.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSocketNotifier>
#include <QStandardPaths>

#include <cerrno>
#include <limits>
#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace Cli {

namespace {

const QString Command = QStringLiteral("serve");
constexpr quint16 DefaultPort = 2525;
constexpr quint16 DefaultTlsPort = 4650;

// The self-pipe: a signal handler may only call async-signal-safe functions, so
// it writes one byte that the event loop reads through a QSocketNotifier.
int g_signalFds[2] = {-1, -1};

extern "C" void onTerminationSignal(int)
{
    const char byte = 1;
    const int saved = errno;
    [[maybe_unused]] const ssize_t n = ::write(g_signalFds[0], &byte, 1);
    errno = saved;
}

// Installs the handlers for SIGINT and SIGTERM for the lifetime of the object
// and restores the previous ones afterwards.
class TerminationSignals
{
public:
    TerminationSignals()
    {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_signalFds) != 0)
            return;
        struct sigaction action = {};
        action.sa_handler = onTerminationSignal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        m_ok = ::sigaction(SIGINT, &action, &m_oldInt) == 0 && ::sigaction(SIGTERM, &action, &m_oldTerm) == 0;
    }
    ~TerminationSignals()
    {
        ::sigaction(SIGINT, &m_oldInt, nullptr);
        ::sigaction(SIGTERM, &m_oldTerm, nullptr);
        for (int &fd : g_signalFds) {
            if (fd >= 0)
                ::close(fd);
            fd = -1;
        }
    }
    Q_DISABLE_COPY_MOVE(TerminationSignals)
    [[nodiscard]] bool ok() const { return m_ok; }
    [[nodiscard]] int readFd() const { return g_signalFds[1]; }

private:
    bool m_ok = false;
    struct sigaction m_oldInt = {};
    struct sigaction m_oldTerm = {};
};

bool readPort(const QCommandLineParser &p, const QString &name, quint16 fallback, quint16 *port, QString *error)
{
    if (!p.isSet(name)) {
        *port = fallback;
        return true;
    }
    bool ok = false;
    const uint value = p.value(name).toUInt(&ok);
    if (!ok || value > 65535) {
        *error = QStringLiteral("--%1: '%2' is not a port number from 0 to 65535").arg(name, p.value(name));
        return false;
    }
    *port = quint16(value);
    return true;
}

// A whole number from `min` to `max` for option `name`; unchanged when the
// option is not set. False and *error naming the option otherwise.
template<typename T>
bool readCount(const QCommandLineParser &p, const QString &name, qint64 min, qint64 max, T *value, QString *error)
{
    if (!p.isSet(name))
        return true;
    bool ok = false;
    const qint64 v = p.value(name).toLongLong(&ok);
    if (!ok || v < min || v > max) {
        *error = max == std::numeric_limits<qint64>::max()
            ? QStringLiteral("--%1: '%2' is not a whole number of %3 or more").arg(name, p.value(name)).arg(min)
            : QStringLiteral("--%1: '%2' is not a whole number from %3 to %4")
                  .arg(name, p.value(name))
                  .arg(min)
                  .arg(max);
        return false;
    }
    *value = T(v);
    return true;
}

// What a client sent (an encoded-word may decode to CR, LF, ESC or U+202E) is
// shown by the escaping rule (protocol/printable.h): it cannot start a line of
// its own in the output a script reads, nor act on the terminal.
QString messageLine(const Capture::StoredMessage &m)
{
    QStringList recipients;
    for (const QString &r : m.recipients)
        recipients.append(Smtp::printable(r));
    const QString subject = m.subject.isEmpty() ? QStringLiteral("(no subject)")
                                                : QStringLiteral("\"%1\"").arg(Smtp::printable(m.subject));
    return QStringLiteral("%1  %2  from <%3>  to %4  %5  %6\n")
        .arg(m.received.toUTC().toString(Qt::ISODate), Smtp::printable(m.id), Smtp::printable(m.from),
             recipients.isEmpty() ? QStringLiteral("(none)") : recipients.join(QStringLiteral(", ")),
             Output::bytes(m.size), subject);
}

QJsonObject messageJson(const Capture::StoredMessage &m)
{
    // The fields of the index.json of earlier versions, then path and read.
    return QJsonObject{{QStringLiteral("id"), m.id},
                       {QStringLiteral("received"), m.received.toUTC().toString(Qt::ISODateWithMs)},
                       {QStringLiteral("from"), m.from},
                       {QStringLiteral("recipients"), QJsonArray::fromStringList(m.recipients)},
                       {QStringLiteral("subject"), m.subject},
                       {QStringLiteral("size"), m.size},
                       {QStringLiteral("path"), m.path},
                       {QStringLiteral("read"), m.read}};
}

// `serve --list`: the stored messages of DIR/messages, read-only, oldest first,
// written as they are read (memory stays flat however many there are).
int listMessages(const QString &folder, bool json)
{
    bool first = true;
    if (json)
        Terminal::outBytes("{\"format\": 1, \"messages\": [");
    QString error;
    const bool ok = Capture::MessageStore::list(folder + QStringLiteral("/messages"),
                                                [&](const Capture::StoredMessage &m) {
        if (json) {
            Terminal::outBytes((first ? "\n" : ",\n")
                               + QJsonDocument(messageJson(m)).toJson(QJsonDocument::Compact));
        } else {
            Terminal::out(messageLine(m));
        }
        first = false;
        return true;
    }, &error);
    if (json)
        Terminal::outBytes(first ? "]}\n" : "\n]}\n");
    if (!ok)
        return Output::failure(Command, error, ExitConnection);
    return ExitOk;
}

} // namespace

int ServeCommand::run(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(
        QStringLiteral("Run the built-in capture server on loopback: SMTP with STARTTLS on one port, implicit TLS "
                       "on another, every message stored as a .eml file in the folder's messages/, indexed in "
                       "messages/index.sqlite. Runs until Ctrl-C (SIGINT) or SIGTERM. Clients verify the server "
                       "with the CA file printed at start. With --list, prints the stored messages and exits."));
    p.addPositionalArgument(QStringLiteral("serve"), QStringLiteral("Run the capture server."),
                            QStringLiteral("serve"));
    p.addHelpOption();
    p.addOptions({
        {QStringLiteral("port"), QStringLiteral("SMTP port with STARTTLS (0: any free port)."), QStringLiteral("P"),
         QString::number(DefaultPort)},
        {QStringLiteral("tls-port"), QStringLiteral("Implicit TLS port (0: any free port)."), QStringLiteral("P"),
         QString::number(DefaultTlsPort)},
        {QStringLiteral("dir"),
         QStringLiteral("Folder for messages/ and tls/ (default: the app data folder's capture/)."),
         QStringLiteral("D")},
        {QStringLiteral("user"), QStringLiteral("Offer AUTH PLAIN, LOGIN and CRAM-MD5 for this user (needs "
                                                "--password-file)."),
         QStringLiteral("U")},
        {QStringLiteral("password-file"), QStringLiteral("The user's password: the first line of F (\"-\": stdin)."),
         QStringLiteral("F")},
        {QStringLiteral("fault"),
         QStringLiteral("Scripted failure (repeatable): STEP[=RCPT][:every=N][:delay=MS | :disconnect | :CODE TEXT], "
                        "or rate=N/min:CODE. STEP: greeting, ehlo, starttls, auth, mail, rcpt, data, eod."),
         QStringLiteral("SPEC")},
        {QStringLiteral("max-size"), QStringLiteral("SIZE limit in bytes (RFC 1870; 0: none)."),
         QStringLiteral("BYTES")},
        {QStringLiteral("quota-messages"),
         QStringLiteral("Keep at most N messages: when full, new mail gets 452 4.3.1 (0: no limit)."),
         QStringLiteral("N")},
        {QStringLiteral("quota-bytes"),
         QStringLiteral("Keep at most BYTES of messages: when full, new mail gets 452 4.3.1; a larger message gets "
                        "552 5.3.4 (0: no limit)."),
         QStringLiteral("BYTES")},
        {QStringLiteral("list"), QStringLiteral("Print the messages stored in the folder (oldest first) and exit; "
                                                "no server is started, nothing is changed.")},
        {QStringLiteral("json"), QStringLiteral("With --list: one JSON document (id, received, from, recipients, "
                                                "subject, size, path, read per message).")},
        {QStringLiteral("max-connections"),
         QStringLiteral("Connections served at once (default 1000; 0: as many as the file descriptor limit "
                        "allows). Others get 421 and are closed."),
         QStringLiteral("N")},
        {QStringLiteral("max-connections-per-address"),
         QStringLiteral("Connections served at once from one client address (default 600; 0: no such limit)."),
         QStringLiteral("N")},
        {QStringLiteral("idle-timeout"),
         QStringLiteral("Close with 421 after S seconds without a complete command or message data, or with "
                        "replies the client does not read (default 300)."),
         QStringLiteral("S")},
        {QStringLiteral("session-timeout"),
         QStringLiteral("Close any connection with 421 after S seconds (default 3600; 0: no limit)."),
         QStringLiteral("S")},
        {QStringLiteral("verbose"), QStringLiteral("Connection events (connect, TLS, AUTH, errors) on stderr.")},
    });
    if (const auto done = Output::parseArguments(p, Command, arguments))
        return *done;

    Capture::CaptureOptions options;
    QString error;
    if (!readPort(p, QStringLiteral("port"), DefaultPort, &options.port, &error)
        || !readPort(p, QStringLiteral("tls-port"), DefaultTlsPort, &options.tlsPort, &error))
        return Output::usageError(Command, error);

    for (const QString &spec : p.values(QStringLiteral("fault"))) {
        QString why;
        const auto fault = Capture::Fault::parse(spec, &why);
        if (!fault)
            return Output::usageError(Command, QStringLiteral("--fault '%1': %2").arg(spec, why));
        options.faults.append(*fault);
    }

    // 0: no limit.
    constexpr qint64 Unbounded = std::numeric_limits<qint64>::max();
    if (!readCount(p, QStringLiteral("quota-messages"), 0, Unbounded, &options.quota.maxMessages, &error)
        || !readCount(p, QStringLiteral("quota-bytes"), 0, Unbounded, &options.quota.maxBytes, &error))
        return Output::usageError(Command, error);

    if (p.isSet(QStringLiteral("max-size"))) {
        bool ok = false;
        options.maxSize = p.value(QStringLiteral("max-size")).toLongLong(&ok);
        if (!ok || options.maxSize < 0)
            return Output::usageError(Command, QStringLiteral("--max-size: '%1' is not a number of bytes")
                                                   .arg(p.value(QStringLiteral("max-size"))));
    }

    // Seconds up to a day: the timers count milliseconds in an int.
    constexpr qint64 MaxSeconds = 86400;
    int idleSeconds = options.idleTimeoutMs / 1000;
    int sessionSeconds = options.sessionTimeoutMs / 1000;
    if (!readCount(p, QStringLiteral("max-connections"), 0, 1000000, &options.maxConnections, &error)
        || !readCount(p, QStringLiteral("max-connections-per-address"), 0, 1000000,
                      &options.maxConnectionsPerAddress, &error)
        || !readCount(p, QStringLiteral("idle-timeout"), 1, MaxSeconds, &idleSeconds, &error)
        || !readCount(p, QStringLiteral("session-timeout"), 0, MaxSeconds, &sessionSeconds, &error))
        return Output::usageError(Command, error);
    options.idleTimeoutMs = idleSeconds * 1000;
    options.sessionTimeoutMs = sessionSeconds * 1000;

    const bool hasUser = p.isSet(QStringLiteral("user"));
    const bool hasPassword = p.isSet(QStringLiteral("password-file"));
    if (hasUser != hasPassword)
        return Output::usageError(Command, QStringLiteral("--user and --password-file go together"));
    if (hasUser) {
        options.user = p.value(QStringLiteral("user"));
        if (options.user.isEmpty())
            return Output::usageError(Command, QStringLiteral("--user: empty user name"));
        QByteArray password;
        if (!InputFile::readFirstLine(p.value(QStringLiteral("password-file")), QStringLiteral("--password-file"),
                                      &password, &error))
            return Output::usageError(Command, error);
        options.password = QString::fromUtf8(password);
    }

    options.folder = p.isSet(QStringLiteral("dir"))
        ? QDir(p.value(QStringLiteral("dir"))).absolutePath()
        // Not the window's capture folder: two processes would rewrite one index.
        : QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + QStringLiteral("/smtpscope/serve");
    if (options.folder.isEmpty())
        return Output::usageError(Command, QStringLiteral("--dir: no folder given"));

    const bool list = p.isSet(QStringLiteral("list"));
    if (p.isSet(QStringLiteral("json")) && !list)
        return Output::usageError(Command, QStringLiteral("--json goes with --list"));
    if (list)
        return listMessages(options.folder, p.isSet(QStringLiteral("json")));

    // A file size limit (RLIMIT_FSIZE, `ulimit -f`) must be a storage error like
    // a full disk (write() fails with EFBIG; the client gets 451), not a signal
    // that kills the server with every connection.
    std::signal(SIGXFSZ, SIG_IGN);

    TerminationSignals termination;
    if (!termination.ok())
        return Output::failure(Command, QStringLiteral("cannot install the signal handlers"), ExitProtocol);

    Capture::CaptureServer server;
    const bool verbose = p.isSet(QStringLiteral("verbose"));
    QObject::connect(&server, &Capture::CaptureServer::log, &server, [verbose](const QString &line) {
        // A log line may name what a client sent (the AUTH user): one line each.
        if (verbose)
            Terminal::err(Smtp::safeLine(line) + u'\n');
    });
    QObject::connect(&server, &Capture::CaptureServer::messageCaptured, &server,
                     [](const Capture::StoredMessage &m) { Terminal::out(messageLine(m)); });
    if (!server.start(options, &error))
        return Output::failure(Command, error, ExitConnection);

    const QString host = options.address.toString();
    Terminal::out(QStringLiteral("listening on %1:%2 (STARTTLS) and %1:%3 (implicit TLS); CA: %4\n")
                      .arg(host)
                      .arg(server.port())
                      .arg(server.tlsPort())
                      .arg(server.caFile()));

    QEventLoop loop;
    QSocketNotifier notifier(termination.readFd(), QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, &loop, [&loop, &termination] {
        char byte = 0;
        [[maybe_unused]] const ssize_t n = ::read(termination.readFd(), &byte, 1);
        loop.quit();
    });
    loop.exec();
    server.stop();
    if (verbose)
        Terminal::err(QStringLiteral("stopped\n"));
    return ExitOk;
}

} // namespace Cli
