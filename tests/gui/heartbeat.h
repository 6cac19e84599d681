#pragma once
// Measures the longest pause of the GUI thread's event loop while it lives: a
// 10 ms timer notes the time between its ticks. A pause over ~100 ms is what a
// user sees as a frozen window.

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

class Heartbeat
{
public:
    Heartbeat()
    {
        m_timer.setInterval(10);
        QObject::connect(&m_timer, &QTimer::timeout, &m_timer, [this] {
            if (m_clock.isValid())
                m_maxGapMs = qMax(m_maxGapMs, m_clock.restart());
            else
                m_clock.start();
        });
        m_timer.start();
    }
    [[nodiscard]] qint64 maxGapMs() const { return m_maxGapMs; }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_maxGapMs = 0;
};
