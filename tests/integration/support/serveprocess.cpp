#include "serveprocess.h"

#include <QDeadlineTimer>
#include <QRegularExpression>

#include <algorithm>

ServeProcess::~ServeProcess()
{
    if (m_process->state() != QProcess::NotRunning) {
        m_process->kill();
        m_process->waitForFinished(TimeoutMs);
    }
}

bool ServeProcess::start(const QString &program, const QString &dir, const QStringList &extra, QString *error)
{
    m_process->start(program,
                     QStringList{QStringLiteral("serve"), QStringLiteral("--port"), QStringLiteral("0"),
                                 QStringLiteral("--tls-port"), QStringLiteral("0"), QStringLiteral("--dir"), dir}
                         + extra);
    if (!m_process->waitForStarted(TimeoutMs)) {
        *error = m_process->errorString();
        return false;
    }
    QDeadlineTimer deadline(TimeoutMs);
    QByteArray buffer;
    while (!buffer.contains('\n') && !deadline.hasExpired() && m_process->state() == QProcess::Running) {
        m_process->waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime())));
        buffer += m_process->readAllStandardOutput();
    }
    const qsizetype nl = buffer.indexOf('\n');
    if (nl < 0) {
        *error = QStringLiteral("no start line; stderr: ") + QString::fromUtf8(m_process->readAllStandardError());
        return false;
    }
    const QString line = QString::fromUtf8(buffer.left(nl));
    out = buffer.mid(nl + 1);
    static const QRegularExpression re(QStringLiteral(
        "^listening on 127\\.0\\.0\\.1:(\\d+) \\(STARTTLS\\) and 127\\.0\\.0\\.1:(\\d+) \\(implicit TLS\\); CA: (.+)$"));
    const auto m = re.match(line);
    if (!m.hasMatch()) {
        *error = QStringLiteral("unexpected start line: ") + line;
        return false;
    }
    port = quint16(m.captured(1).toUInt());
    tlsPort = quint16(m.captured(2).toUInt());
    caFile = m.captured(3);
    return port != 0 && tlsPort != 0;
}

QList<QByteArray> ServeProcess::waitForLines(int count)
{
    QDeadlineTimer deadline(TimeoutMs);
    while (out.count('\n') < count && !deadline.hasExpired() && m_process->state() == QProcess::Running) {
        m_process->waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime())));
        out += m_process->readAllStandardOutput();
    }
    out += m_process->readAllStandardOutput();
    QList<QByteArray> lines = out.split('\n');
    lines.removeAll(QByteArray());
    return lines;
}
