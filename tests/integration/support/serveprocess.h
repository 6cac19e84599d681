#pragma once
// `smtpscope serve` as a child process for a test: started on free ports in a
// given folder, its start line parsed (ports, CA file), its stdout read line by
// line, killed when the object goes. Every wait has a timeout.

#include <QByteArray>
#include <QList>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <memory>

class ServeProcess
{
public:
    static constexpr int TimeoutMs = 15000;

    ServeProcess() = default;
    ~ServeProcess();
    Q_DISABLE_COPY_MOVE(ServeProcess)

    // Runs `program serve --port 0 --tls-port 0 --dir dir extra...` and waits
    // for its start line; false and *error (with its stderr) otherwise.
    bool start(const QString &program, const QString &dir, const QStringList &extra, QString *error);
    // Waits until stdout has `count` lines after the start line; returns them all.
    QList<QByteArray> waitForLines(int count);

    [[nodiscard]] QProcess *process() const { return m_process.get(); }
    [[nodiscard]] qint64 pid() const { return m_process->processId(); }

    quint16 port = 0;
    quint16 tlsPort = 0;
    QString caFile;
    QByteArray out; // stdout after the start line

private:
    std::unique_ptr<QProcess> m_process = std::make_unique<QProcess>();
};
