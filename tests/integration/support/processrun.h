#pragma once
// Running a program to its end for a test: its exit code and both output
// streams, stdin a pipe (never a terminal) closed after the given input, and a
// timeout on the wait (a program that does not finish is killed and reported as
// not finished).

#include <QByteArray>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

struct ProcessRun
{
    bool finished = false;
    int exitCode = -1;  // -1 when it crashed, was killed or did not start
    QByteArray out;
    QByteArray err;

    [[nodiscard]] QByteArray both() const { return out + err; }
    // Exit code and the ends of both streams, for a failure message.
    [[nodiscard]] QString describe() const;
};

[[nodiscard]] ProcessRun runProcess(const QString &program, const QStringList &arguments,
                                    const QProcessEnvironment &environment, const QByteArray &input,
                                    int timeoutMs);

// The peak resident set size of a running process (VmHWM of /proc/PID/status),
// in bytes; -1 when it cannot be read.
[[nodiscard]] qint64 peakRssBytes(qint64 pid);
