#include "testservers.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTemporaryFile>
#include <QThread>
#include <QUuid>

const MailEnv &MailEnv::get()
{
    static const MailEnv env = [] {
        MailEnv e;
        const QString path = qEnvironmentVariable("SMTPSCOPE_MAILENV");
        if (path.isEmpty()) {
            e.error = QStringLiteral("SMTPSCOPE_MAILENV is not set: run the tests through scripts/test, or start "
                                     "tests/servers/mailserver and point SMTPSCOPE_MAILENV at its env file");
            return e;
        }
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly)) {
            e.error = QStringLiteral("cannot read the mail server env file %1").arg(path);
            return e;
        }
        QMap<QString, QString> kv;
        for (const QByteArray &raw : f.readAll().split('\n')) {
            const QString line = QString::fromUtf8(raw).trimmed();
            const qsizetype eq = line.indexOf(u'=');
            if (line.isEmpty() || line.startsWith(u'#') || eq < 0)
                continue;
            QString value = line.mid(eq + 1);
            if (value.size() >= 2 && (value.startsWith(u'"') || value.startsWith(u'\'')))
                value = value.mid(1, value.size() - 2);
            kv.insert(line.left(eq), value);
        }
        e.smtpPort = quint16(kv.value(QStringLiteral("SMTP_PORT")).toUInt());
        e.smtpsPort = quint16(kv.value(QStringLiteral("SMTPS_PORT")).toUInt());
        e.submissionPort = quint16(kv.value(QStringLiteral("SUBMISSION_PORT")).toUInt());
        e.badPort = quint16(kv.value(QStringLiteral("BAD_PORT")).toUInt());
        e.wrongNamePort = quint16(kv.value(QStringLiteral("WRONGNAME_PORT")).toUInt());
        e.selfSignedPort = quint16(kv.value(QStringLiteral("SELFSIGNED_PORT")).toUInt());
        e.chainPort = quint16(kv.value(QStringLiteral("CHAIN_PORT")).toUInt());
        e.maildir = kv.value(QStringLiteral("MAILDIR"));
        e.caFile = kv.value(QStringLiteral("CA_FILE"));
        e.certsDir = QFileInfo(e.caFile).absolutePath();
        e.certName = kv.value(QStringLiteral("CERT_NAME"), QStringLiteral("smtp.test"));
        e.user = kv.value(QStringLiteral("SMTP_USER"));
        e.password = kv.value(QStringLiteral("SMTP_PASSWORD"));
        e.refusedRcpt = kv.value(QStringLiteral("REFUSED_RCPT"));
        e.oauthToken = kv.value(QStringLiteral("OAUTH_TOKEN")).toUtf8();
        e.oauthBadToken = kv.value(QStringLiteral("OAUTH_BAD_TOKEN")).toUtf8();
        e.ok = e.smtpPort && e.smtpsPort && e.submissionPort && !e.maildir.isEmpty() && !e.caFile.isEmpty();
        if (!e.ok)
            e.error = QStringLiteral("the env file %1 lacks ports, MAILDIR or CA_FILE").arg(path);
        return e;
    }();
    return env;
}

static QString serversDir()
{
    const QString dir = qEnvironmentVariable("SMTPSCOPE_SERVERS_DIR");
    if (!dir.isEmpty())
        return dir;
    return QStringLiteral(SMTPSCOPE_SOURCE_DIR "/tests/servers");
}

DnsServer::~DnsServer()
{
    if (!m_started)
        return;
    QProcess p;
    p.start(serversDir() + QStringLiteral("/dnsserver"), {QStringLiteral("stop"), m_dir.filePath(QStringLiteral("dns"))});
    if (!p.waitForFinished(15000))
        p.kill();
}

bool DnsServer::start(const QByteArray &records, QString *error, bool *notPermitted)
{
    if (!m_dir.isValid()) {
        *error = QStringLiteral("no temporary folder for the DNS server");
        return false;
    }
    const QString zoneFile = m_dir.filePath(QStringLiteral("zone.conf"));
    QFile zone(zoneFile);
    if (!zone.open(QIODevice::WriteOnly | QIODevice::Truncate) || zone.write(records) != records.size()) {
        *error = QStringLiteral("cannot write %1").arg(zoneFile);
        return false;
    }
    zone.close();
    // The agreed address first; another run may hold it (exit code 3), then a random one.
    for (int attempt = 0; attempt < 5; ++attempt) {
        m_address = attempt == 0 ? QStringLiteral("127.0.0.153")
                                 : QStringLiteral("127.53.%1.%2")
                                       .arg(QRandomGenerator::global()->bounded(0, 256))
                                       .arg(QRandomGenerator::global()->bounded(1, 255));
        QProcess p;
        p.start(serversDir() + QStringLiteral("/dnsserver"),
                {QStringLiteral("start"), m_dir.filePath(QStringLiteral("dns")), zoneFile, m_address});
        if (!p.waitForFinished(30000)) {
            p.kill();
            p.waitForFinished(5000);
            *error = QStringLiteral("dnsserver start did not finish within 30 s");
            return false;
        }
        *error = QString::fromUtf8(p.readAllStandardError()).trimmed();
        if (p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0) {
            m_started = true;
            return true;
        }
        if (notPermitted)
            *notPermitted = p.exitCode() == 4;
        if (p.exitCode() != 3)
            return false;
    }
    return false;
}

HostileServer::~HostileServer()
{
    if (m_process) {
        m_process->closeWriteChannel(); // the server exits when its stdin closes
        if (!m_process->waitForFinished(2000)) {
            m_process->kill();
            m_process->waitForFinished(2000);
        }
    }
    if (!m_recordFile.isEmpty())
        QFile::remove(m_recordFile);
}

bool HostileServer::start(const Options &options, QString *error)
{
    {
        QTemporaryFile rec(QDir::tempPath() + QStringLiteral("/smtpscope-hostile-XXXXXX.jsonl"));
        rec.setAutoRemove(false);
        if (!rec.open()) {
            *error = QStringLiteral("cannot create a record file");
            return false;
        }
        m_recordFile = rec.fileName();
    }
    QStringList args{serversDir() + QStringLiteral("/hostile_smtpd.py"), QStringLiteral("--record"), m_recordFile};
    for (const QString &s : options.scenarios)
        args << QStringLiteral("--scenario") << s;
    if (!options.certName.isEmpty()) {
        const QString certs = MailEnv::get().certsDir.isEmpty() ? qEnvironmentVariable("SMTPSCOPE_CERTS_DIR")
                                                                : MailEnv::get().certsDir;
        args << QStringLiteral("--cert") << certs + u'/' + options.certName + QStringLiteral(".pem")
             << QStringLiteral("--key") << certs + u'/' + options.certName + QStringLiteral(".key");
    }
    if (options.implicitTls)
        args << QStringLiteral("--implicit-tls");
    args << options.extraArgs;

    m_process = std::make_unique<QProcess>();
    m_process->setProcessChannelMode(QProcess::SeparateChannels);
    m_process->start(QStringLiteral("/usr/bin/python3"), args);
    if (!m_process->waitForStarted(10000)) {
        *error = QStringLiteral("cannot start hostile_smtpd.py: %1").arg(m_process->errorString());
        return false;
    }
    QDeadlineTimer deadline(10000);
    QByteArray out;
    while (!deadline.hasExpired()) {
        if (!m_process->canReadLine() && !m_process->waitForReadyRead(int(deadline.remainingTime())))
            break;
        while (m_process->canReadLine()) {
            const QByteArray line = m_process->readLine().trimmed();
            if (line.startsWith("PORT ")) {
                m_port = quint16(line.mid(5).toUInt());
                return m_port != 0;
            }
            out += line + '\n';
        }
    }
    *error = QStringLiteral("hostile_smtpd.py printed no port: %1 %2")
                 .arg(QString::fromUtf8(out), QString::fromUtf8(m_process->readAllStandardError()));
    return false;
}

QList<QJsonObject> HostileServer::records() const
{
    QList<QJsonObject> out;
    QFile f(m_recordFile);
    if (!f.open(QIODevice::ReadOnly))
        return out;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.trimmed().isEmpty())
            continue;
        const QJsonDocument doc = QJsonDocument::fromJson(line);
        if (doc.isObject())
            out.append(doc.object());
    }
    return out;
}

QList<QJsonObject> HostileServer::events(const QString &name) const
{
    QList<QJsonObject> out;
    for (const QJsonObject &o : records()) {
        if (o.value(QStringLiteral("event")).toString() == name)
            out.append(o);
    }
    return out;
}

QStringList HostileServer::lines(const QString &phase) const
{
    QStringList out;
    for (const QJsonObject &o : records()) {
        if (!o.contains(QStringLiteral("line")))
            continue;
        if (!phase.isEmpty() && o.value(QStringLiteral("phase")).toString() != phase)
            continue;
        out.append(o.value(QStringLiteral("line")).toString());
    }
    return out;
}

bool HostileServer::received(const QString &prefix, const QString &phase) const
{
    const QStringList all = lines(phase);
    return std::any_of(all.begin(), all.end(),
                       [&](const QString &l) { return l.startsWith(prefix, Qt::CaseInsensitive); });
}

namespace Maildir {

QList<QByteArray> waitFor(const QString &maildir, const QByteArray &marker, int count, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    QList<QByteArray> found;
    QHash<QString, QByteArray> seen;
    for (;;) {
        for (const char *sub : {"new", "cur"}) {
            QDir dir(maildir + u'/' + QLatin1String(sub));
            const QStringList files = dir.entryList(QDir::Files);
            for (const QString &name : files) {
                const QString path = dir.filePath(name);
                if (seen.contains(name))
                    continue;
                QFile f(path);
                if (!f.open(QIODevice::ReadOnly))
                    continue;
                const QByteArray content = f.readAll();
                seen.insert(name, QByteArray());
                if (content.contains(marker))
                    found.append(content);
            }
        }
        if (found.size() >= count || deadline.hasExpired())
            return found;
        QThread::msleep(50);
    }
}

QByteArray submittedPart(const QByteArray &delivered, const QByteArray &firstHeader)
{
    const qsizetype at = delivered.indexOf('\n' + firstHeader);
    return at < 0 ? QByteArray() : delivered.mid(at + 1);
}

QByteArray header(const QByteArray &delivered, const QByteArray &name)
{
    for (const QByteArray &line : delivered.split('\n')) {
        if (line.isEmpty())
            break;
        if (line.startsWith(name + ':'))
            return line.mid(name.size() + 1).trimmed();
    }
    return {};
}

} // namespace Maildir

QByteArray uniqueMarker()
{
    return QUuid::createUuid().toByteArray(QUuid::WithoutBraces);
}

QByteArray testMessage(const QByteArray &marker, const QString &from, const QStringList &to, const QByteArray &body,
                       const QByteArray &subject)
{
    QByteArray m;
    m += "X-Test-Id: " + marker + "\r\n";
    m += "From: <" + from.toUtf8() + ">\r\n";
    m += "To: " + to.join(QStringLiteral(", ")).toUtf8() + "\r\n";
    m += "Subject: " + subject + "\r\n";
    m += "Date: " + QDateTime::currentDateTimeUtc().toString(Qt::RFC2822Date).toUtf8() + "\r\n";
    m += "Message-ID: <" + marker + "@smtpscope.test>\r\n";
    m += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
    m += body;
    return m;
}
