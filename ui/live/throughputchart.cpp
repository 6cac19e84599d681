#include "liveviews.h"

#include "livecolours.h"

#include <QEvent>
#include <QTimer>
#include <QVBoxLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

// Samples arrive as cumulative totals (UsageStats) about ten times a second. Rates
// are computed on arrival and kept in plain lists; the series are replaced from
// them by a timer at most five times a second, so a burst of samples never turns
// into a burst of chart layouts. Older points are decimated (pairs averaged) so a
// long session keeps at most kMaxPoints per series.

namespace {

constexpr int kRepaintMs = 200;
constexpr int kMaxPoints = 2000;

void decimate(QList<QPointF> &points)
{
    if (points.size() <= kMaxPoints)
        return;
    // Average pairs in the older half; the recent half keeps full detail.
    const qsizetype half = points.size() / 2;
    QList<QPointF> out;
    out.reserve(points.size() - half / 2);
    qsizetype i = 0;
    for (; i + 1 < half; i += 2)
        out.append((points.at(i) + points.at(i + 1)) / 2.0);
    for (; i < points.size(); ++i)
        out.append(points.at(i));
    points = std::move(out);
}

} // namespace

struct ThroughputChart::Private
{
    QChartView *view = nullptr;
    QChart *chart = nullptr;
    QLineSeries *sent = nullptr;
    QLineSeries *received = nullptr;
    QValueAxis *xAxis = nullptr;
    QValueAxis *yAxis = nullptr;
    QTimer repaint;

    QList<QPointF> sentRates, receivedRates; // seconds, bytes per second
    bool havePrevious = false;
    qint64 prevMs = 0, prevSent = 0, prevReceived = 0;
    double divisor = 1024.0;
    QString unit = QStringLiteral("KiB/s");

    void flush();
    void applyColours(const QPalette &palette);
};

void ThroughputChart::Private::flush()
{
    double maxRate = 0;
    for (const QPointF &p : std::as_const(sentRates))
        maxRate = qMax(maxRate, p.y());
    for (const QPointF &p : std::as_const(receivedRates))
        maxRate = qMax(maxRate, p.y());
    // The unit follows the magnitude: KiB/s up to 1 MiB/s, MiB/s above.
    if (maxRate >= 1024.0 * 1024.0) {
        divisor = 1024.0 * 1024.0;
        unit = QStringLiteral("MiB/s");
    } else {
        divisor = 1024.0;
        unit = QStringLiteral("KiB/s");
    }
    auto scaled = [this](const QList<QPointF> &in) {
        QList<QPointF> out;
        out.reserve(in.size());
        for (const QPointF &p : in)
            out.append(QPointF(p.x(), p.y() / divisor));
        return out;
    };
    // replace(): one change notification per series instead of one per point.
    sent->replace(scaled(sentRates));
    received->replace(scaled(receivedRates));

    double xMin = 0, xMax = 1;
    if (!sentRates.isEmpty() || !receivedRates.isEmpty()) {
        const QList<QPointF> &any = sentRates.isEmpty() ? receivedRates : sentRates;
        xMin = qMin(any.first().x(), xMin);
        xMax = qMax(any.last().x(), xMin + 1.0);
    }
    xAxis->setRange(xMin, xMax);
    yAxis->setRange(0, qMax(maxRate / divisor * 1.1, 1.0));
    yAxis->setTitleText(ThroughputChart::tr("Rate (%1)").arg(unit));
}

void ThroughputChart::Private::applyColours(const QPalette &palette)
{
    // Chart background and text from the palette (no fixed white); line colours
    // checked for contrast against that background.
    const QColor base = palette.color(QPalette::Base);
    chart->setBackgroundBrush(base);
    chart->setPlotAreaBackgroundVisible(false);
    chart->legend()->setLabelColor(palette.color(QPalette::Text));
    chart->setTitleBrush(palette.color(QPalette::Text));
    for (QValueAxis *axis : {xAxis, yAxis}) {
        axis->setLabelsColor(palette.color(QPalette::Text));
        axis->setTitleBrush(palette.color(QPalette::Text));
        axis->setGridLineColor(palette.color(QPalette::Mid));
        axis->setLinePenColor(palette.color(QPalette::Mid));
    }
    QPen sentPen(LiveColours::readable(LiveColours::ClientHue, base));
    sentPen.setWidthF(2.0);
    sent->setPen(sentPen);
    QPen receivedPen(LiveColours::readable(LiveColours::ServerHue, base));
    receivedPen.setWidthF(2.0);
    received->setPen(receivedPen);
}

ThroughputChart::ThroughputChart(QWidget *parent)
    : QWidget(parent)
    , d(std::make_unique<Private>())
{
    d->chart = new QChart;
    d->chart->setTitle(tr("Throughput"));
    d->chart->legend()->setAlignment(Qt::AlignBottom);
    d->sent = new QLineSeries(d->chart);
    d->sent->setName(tr("Sent"));
    d->received = new QLineSeries(d->chart);
    d->received->setName(tr("Received"));
    d->chart->addSeries(d->sent);
    d->chart->addSeries(d->received);
    d->xAxis = new QValueAxis(d->chart);
    d->xAxis->setTitleText(tr("Time (s)"));
    d->xAxis->setLabelFormat(QStringLiteral("%.1f"));
    d->yAxis = new QValueAxis(d->chart);
    d->yAxis->setTitleText(tr("Rate (%1)").arg(d->unit));
    d->yAxis->setLabelFormat(QStringLiteral("%.1f"));
    d->chart->addAxis(d->xAxis, Qt::AlignBottom);
    d->chart->addAxis(d->yAxis, Qt::AlignLeft);
    for (QLineSeries *s : {d->sent, d->received}) {
        s->attachAxis(d->xAxis);
        s->attachAxis(d->yAxis);
    }
    d->xAxis->setRange(0, 1);
    d->yAxis->setRange(0, 1);

    d->view = new QChartView(d->chart, this); // takes ownership of the chart
    d->view->setRenderHint(QPainter::Antialiasing);
    d->view->setAccessibleName(tr("Throughput chart"));
    d->view->setToolTip(tr("Bytes per second sent (client to server) and received, over the session"));
    d->view->setMinimumHeight(160);
    d->applyColours(palette());

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(d->view);

    d->repaint.setSingleShot(true);
    d->repaint.setInterval(kRepaintMs);
    connect(&d->repaint, &QTimer::timeout, this, [this] { d->flush(); });
}

ThroughputChart::~ThroughputChart() = default;

void ThroughputChart::addSample(qint64 ms, qint64 bytesSent, qint64 bytesReceived)
{
    // Counters going backwards mean the statistics were cleared: start again from
    // this sample rather than plotting a negative rate.
    if (!d->havePrevious || bytesSent < d->prevSent || bytesReceived < d->prevReceived) {
        d->havePrevious = true;
        d->prevMs = ms;
        d->prevSent = bytesSent;
        d->prevReceived = bytesReceived;
        return;
    }
    if (ms <= d->prevMs)
        return; // no time elapsed: no rate to compute; the next sample covers it
    const double seconds = double(ms - d->prevMs) / 1000.0;
    const double x = double(ms) / 1000.0;
    d->sentRates.append(QPointF(x, double(bytesSent - d->prevSent) / seconds));
    d->receivedRates.append(QPointF(x, double(bytesReceived - d->prevReceived) / seconds));
    decimate(d->sentRates);
    decimate(d->receivedRates);
    d->prevMs = ms;
    d->prevSent = bytesSent;
    d->prevReceived = bytesReceived;
    if (!d->repaint.isActive())
        d->repaint.start();
}

void ThroughputChart::clear()
{
    d->repaint.stop();
    d->sentRates.clear();
    d->receivedRates.clear();
    d->havePrevious = false;
    d->prevMs = d->prevSent = d->prevReceived = 0;
    d->flush();
}

int ThroughputChart::sentPointCount() const
{
    return d->sent->count();
}

int ThroughputChart::receivedPointCount() const
{
    return d->received->count();
}

QList<QPointF> ThroughputChart::sentRates() const
{
    return d->sentRates;
}

QList<QPointF> ThroughputChart::receivedRates() const
{
    return d->receivedRates;
}

QString ThroughputChart::rateUnit() const
{
    return d->unit;
}

bool ThroughputChart::event(QEvent *e)
{
    const bool handled = QWidget::event(e);
    if (e->type() == QEvent::PaletteChange || e->type() == QEvent::ApplicationPaletteChange)
        d->applyColours(palette());
    return handled;
}
