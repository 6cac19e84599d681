#pragma once
// The timing waterfall of a diagnosis (Qt Charts): one horizontal bar per timed
// check, starting where the step began and as long as it took, coloured by
// verdict, first step on top. A hover tooltip gives the label and milliseconds.
//
// Built as a QHorizontalStackedBarSeries whose first set is a transparent offset
// (the start) and whose other sets hold each bar's duration under its verdict.
// GUI thread only; redraws are coalesced (setBars may come every batch).

#include "diagnostics/reportexport.h"

#include <QList>
#include <QWidget>
#include <memory>

class WaterfallChart : public QWidget
{
    Q_OBJECT

public:
    explicit WaterfallChart(QWidget *parent = nullptr);
    ~WaterfallChart() override;

    // Bars as Diagnostics::waterfall() gives them (timed checks, start order).
    void setBars(const QList<Diagnostics::WaterfallBar> &bars);
    void clear();

    [[nodiscard]] int barCount() const;
    [[nodiscard]] QList<Diagnostics::WaterfallBar> bars() const;
    // The category shown for bar `index` (labels made unique when two endpoints
    // share a port) and its tooltip ("587 tcp: 1.2 ms (at 0.0 ms), pass").
    [[nodiscard]] QString barLabel(int index) const;
    [[nodiscard]] QString barToolTip(int index) const;
    // Bars currently drawn by the chart's series (after a pending redraw).
    [[nodiscard]] int drawnBarCount() const;

protected:
    bool event(QEvent *e) override; // follows palette changes

private:
    struct Private;
    std::unique_ptr<Private> d;
};
