#include "waterfallchart.h"

#include "checklistmodel.h"

#include <QCursor>
#include <QEvent>
#include <QScrollArea>
#include <QSet>
#include <QTimer>
#include <QToolTip>
#include <QVBoxLayout>
#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QBarSet>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLegend>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QHorizontalStackedBarSeries>
#include <QtCharts/QValueAxis>

using Diagnostics::Verdict;
using Diagnostics::WaterfallBar;

namespace {

constexpr int kRedrawMs = 150;  // checks come in 100 ms batches: at most one layout per batch or so
constexpr int kRowPx = 22;      // height per bar, so labels never overlap
constexpr int kChromePx = 90;   // title, axis and margins
constexpr int kVerdicts = 5;

QString ms(qint64 us)
{
    return QStringLiteral("%1 ms").arg(double(us) / 1000.0, 0, 'f', us < 10'000 ? 1 : 0);
}

} // namespace

struct WaterfallChart::Private
{
    QScrollArea *scroll = nullptr;
    QChartView *view = nullptr;
    QChart *chart = nullptr;
    QHorizontalStackedBarSeries *series = nullptr;
    QBarSet *offset = nullptr;
    QList<QBarSet *> byVerdict; // index: int(Verdict)
    QBarCategoryAxis *categories = nullptr;
    QValueAxis *time = nullptr;
    QTimer redraw;

    QList<WaterfallBar> bars;
    QStringList labels;
    int drawn = 0;

    void flush();
    void applyColours(const QPalette &palette);
};

void WaterfallChart::Private::flush()
{
    // Horizontal bar charts put the first category at the bottom (and Qt 6.4
    // ignores a reversed category axis there); a waterfall reads top-down, so the
    // bars go in last first.
    QList<qreal> starts;
    QList<QList<qreal>> durations(kVerdicts);
    QStringList reversedLabels;
    qint64 endUs = 0;
    for (qsizetype i = bars.size() - 1; i >= 0; --i) {
        const WaterfallBar &b = bars.at(i);
        starts.append(double(b.startUs) / 1000.0);
        for (int v = 0; v < kVerdicts; ++v)
            durations[v].append(v == static_cast<int>(b.verdict) ? double(b.durationUs) / 1000.0 : 0.0);
        endUs = qMax(endUs, b.startUs + b.durationUs);
        reversedLabels.append(labels.at(i));
    }
    // The sets are kept (and keep their colours); only their values change.
    offset->remove(0, offset->count());
    offset->append(starts);
    for (int v = 0; v < kVerdicts; ++v) {
        QBarSet *set = byVerdict.at(v);
        set->remove(0, set->count());
        set->append(durations.at(v));
    }
    categories->clear();
    categories->append(reversedLabels);
    time->setRange(0, qMax(1.0, double(endUs) / 1000.0 * 1.05));
    drawn = int(bars.size());
    view->setMinimumHeight(kChromePx + kRowPx * int(qMax<qsizetype>(bars.size(), 3)));
}

void WaterfallChart::Private::applyColours(const QPalette &palette)
{
    chart->setBackgroundBrush(palette.color(QPalette::Base));
    chart->setPlotAreaBackgroundVisible(false);
    chart->setTitleBrush(palette.color(QPalette::Text));
    chart->legend()->setLabelColor(palette.color(QPalette::Text));
    for (QAbstractAxis *axis : {static_cast<QAbstractAxis *>(categories), static_cast<QAbstractAxis *>(time)}) {
        axis->setLabelsColor(palette.color(QPalette::Text));
        axis->setTitleBrush(palette.color(QPalette::Text));
        axis->setGridLineColor(palette.color(QPalette::Mid));
        axis->setLinePenColor(palette.color(QPalette::Mid));
    }
    for (int v = 0; v < kVerdicts; ++v) {
        const QColor c = ChecklistModel::colourFor(static_cast<Verdict>(v), palette);
        byVerdict.at(v)->setColor(c);
        byVerdict.at(v)->setBorderColor(c);
    }
}

WaterfallChart::WaterfallChart(QWidget *parent) : QWidget(parent), d(std::make_unique<Private>())
{
    d->chart = new QChart;
    d->chart->setTitle(tr("Timing waterfall"));
    d->chart->setAnimationOptions(QChart::NoAnimation);
    d->series = new QHorizontalStackedBarSeries(d->chart);
    d->series->setBarWidth(0.7);

    // The offset set only pushes each bar to its start: invisible, not in the legend.
    d->offset = new QBarSet(tr("Start"));
    d->offset->setColor(Qt::transparent);
    d->offset->setBorderColor(Qt::transparent);
    d->series->append(d->offset);
    for (int v = 0; v < kVerdicts; ++v) {
        auto *set = new QBarSet(ChecklistModel::verdictWord(static_cast<Verdict>(v)));
        d->byVerdict.append(set);
        d->series->append(set);
    }
    d->chart->addSeries(d->series);

    d->categories = new QBarCategoryAxis(d->chart);
    // Labels are short ("587 certificate-chain"); eliding them to "..." hides
    // which step a bar is.
    d->categories->setTruncateLabels(false);
    d->time = new QValueAxis(d->chart);
    d->time->setTitleText(tr("Time since the diagnosis began (ms)"));
    d->time->setLabelFormat(QStringLiteral("%.0f"));
    d->chart->addAxis(d->categories, Qt::AlignLeft);
    d->chart->addAxis(d->time, Qt::AlignBottom);
    d->series->attachAxis(d->categories);
    d->series->attachAxis(d->time);
    d->time->setRange(0, 1);

    d->chart->legend()->setAlignment(Qt::AlignTop);
    if (const QList<QLegendMarker *> markers = d->chart->legend()->markers(d->series); !markers.isEmpty())
        markers.first()->setVisible(false); // the offset set

    d->view = new QChartView(d->chart); // takes ownership of the chart
    d->view->setRenderHint(QPainter::Antialiasing);
    d->view->setAccessibleName(tr("Timing waterfall chart"));
    d->view->setAccessibleDescription(tr("One bar per timed check, at its start time and as long as it took, coloured by verdict"));
    d->view->setMinimumHeight(kChromePx + kRowPx * 3);

    // Many endpoints give many bars: the chart grows and scrolls rather than
    // squeezing its labels.
    d->scroll = new QScrollArea(this);
    d->scroll->setWidgetResizable(true);
    d->scroll->setFrameShape(QFrame::NoFrame);
    d->scroll->setWidget(d->view);
    d->scroll->setAccessibleName(tr("Timing waterfall"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(d->scroll);

    connect(d->series, &QAbstractBarSeries::hovered, this, [this](bool status, int index, QBarSet *set) {
        if (!status || set == d->offset) {
            QToolTip::hideText();
            return;
        }
        // Sets hold the bars last first (see flush()).
        QToolTip::showText(QCursor::pos(), barToolTip(d->drawn - 1 - index), d->view);
    });

    d->redraw.setSingleShot(true);
    d->redraw.setInterval(kRedrawMs);
    connect(&d->redraw, &QTimer::timeout, this, [this] { d->flush(); });
    d->applyColours(palette());
}

WaterfallChart::~WaterfallChart() = default;

void WaterfallChart::setBars(const QList<WaterfallBar> &bars)
{
    d->bars = bars;
    // Two endpoints on the same port (several MX hosts on 25) would give equal
    // labels, and a category axis keeps only one of equal categories.
    d->labels.clear();
    QSet<QString> seen;
    for (const WaterfallBar &b : bars) {
        QString label = b.label;
        if (seen.contains(label))
            label = QStringLiteral("%1 %2").arg(b.scope, b.label.section(QLatin1Char(' '), 1));
        for (int n = 2; seen.contains(label); ++n)
            label = QStringLiteral("%1 (%2)").arg(b.label).arg(n);
        seen.insert(label);
        d->labels.append(label);
    }
    if (!d->redraw.isActive())
        d->redraw.start();
}

void WaterfallChart::clear()
{
    d->redraw.stop();
    d->bars.clear();
    d->labels.clear();
    d->flush();
}

int WaterfallChart::barCount() const
{
    return int(d->bars.size());
}

QList<WaterfallBar> WaterfallChart::bars() const
{
    return d->bars;
}

QString WaterfallChart::barLabel(int index) const
{
    return d->labels.value(index);
}

QString WaterfallChart::barToolTip(int index) const
{
    if (index < 0 || index >= d->bars.size())
        return {};
    const WaterfallBar &b = d->bars.at(index);
    return tr("%1 (%2): %3, from %4 to %5, %6")
        .arg(d->labels.at(index), b.scope, ms(b.durationUs), ms(b.startUs), ms(b.startUs + b.durationUs),
             ChecklistModel::verdictWord(b.verdict).toLower());
}

int WaterfallChart::drawnBarCount() const
{
    return d->categories->count() == d->drawn ? d->drawn : -1;
}

bool WaterfallChart::event(QEvent *e)
{
    if (e->type() == QEvent::PaletteChange || e->type() == QEvent::ApplicationPaletteChange)
        d->applyColours(palette());
    return QWidget::event(e);
}
