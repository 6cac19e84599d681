#include "progressbar.h"

#include "output.h"
#include "terminal.h"

#include <QtGlobal>

#include <algorithm>
#include <cmath>

namespace Cli {

ProgressBar::ProgressBar(qint64 totalBytes, bool inPlace, int columns)
    : m_total(std::max<qint64>(1, totalBytes))
    , m_inPlace(inPlace)
    , m_columns(columns)
{
}

ProgressBar::~ProgressBar() { stop(); }

void ProgressBar::start(Sampler sampler, int intervalMs)
{
    m_sampler = std::move(sampler);
    m_intervalMs = std::max(20, intervalMs);
    m_start = std::chrono::steady_clock::now();
    m_started = true;
    m_thread = std::thread([this] { run(); });
}

void ProgressBar::stop(bool complete)
{
    if (!m_started)
        return;
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();
    m_started = false;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    draw(complete ? m_total : m_sampler(), s);
    if (m_inPlace)
        Terminal::err(QStringLiteral("\n"));
}

void ProgressBar::run()
{
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        m_wake.wait_for(lock, std::chrono::milliseconds(m_intervalMs), [this] { return m_stopping; });
        if (m_stopping)
            break;
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
        draw(m_sampler(), s);
    }
}

void ProgressBar::draw(qint64 done, double seconds)
{
    const QString line = render(done, m_total, seconds, m_columns - 1);
    // In place: "\r" + erase to the end of the line (ECMA-48 EL), so a shorter
    // line leaves no tail.
    if (m_inPlace)
        Terminal::errInPlace(line);
    else
        Terminal::err(line + u'\n');
}

QString ProgressBar::render(qint64 done, qint64 total, double seconds, int width)
{
    total = std::max<qint64>(1, total);
    done = std::clamp<qint64>(done, 0, total);
    const double fraction = double(done) / double(total);
    const double rate = seconds > 0.0 ? double(done) / seconds : 0.0;
    QString left;
    if (done >= total) {
        left = QStringLiteral("done");
    } else if (rate > 0.0) {
        const qint64 s = qint64(std::ceil(double(total - done) / rate));
        left = QStringLiteral("%1:%2 left").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    } else {
        left = QStringLiteral("--:-- left");
    }
    const QString info = QStringLiteral(" %1%  %2 / %3  %4/s  %5")
                             .arg(int(fraction * 100.0), 3)
                             .arg(Output::bytes(done), Output::bytes(total), Output::bytes(qint64(rate)), left);
    // The bar takes what the numbers leave, at least 10 columns.
    const int barWidth = std::max(10, width - int(info.size()) - 2);
    const int filled = int(fraction * barWidth);
    return u'[' + QString(filled, u'#') + QString(barWidth - filled, u'.') + u']' + info;
}

} // namespace Cli
