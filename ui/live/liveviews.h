#pragma once
// The views that fill live during a session (all on the GUI thread; fed in
// batches by SendController):
//  - EventLogView: the event log (EventLogModel) with a filter by event type and
//    text, copy and export.
//  - TranscriptView: client and server lines coloured by direction, the TLS
//    boundary marked, the failing line highlighted with its reply code and
//    enhanced status code explained in words; secrets already redacted by the
//    engine unless the profile showed them; save as text.
//  - ThroughputChart: bytes per second sent and received over time (Qt Charts),
//    axes labelled with units, redrawn at most a few times a second.
//  - WarningsPanel: the warning queue's records (slow operations, low throughput).
//  - ResultPanel: per-recipient table (address, code, enhanced code, text), the
//    message reply, TLS summary (protocol, cipher, certificate subject, issuer,
//    expiry, verdict) with a dialog for the full chain, timings per step.

#include "client/sendresult.h"

#include <QList>
#include <QPointF>
#include <QVariantMap>
#include <QWidget>
#include <memory>

class EventLogModel;
class QTableWidget;

// A read-only table with these column headers: whole rows selected, no row
// numbers, the last column stretched. Used by the result panel and the History page.
[[nodiscard]] QTableWidget *makeReadOnlyTable(const QStringList &headers, QWidget *parent);

class EventLogView : public QWidget
{
    Q_OBJECT
public:
    explicit EventLogView(QWidget *parent = nullptr);
    ~EventLogView() override;
    [[nodiscard]] EventLogModel *model() const;
    void append(const QList<QVariantMap> &records);
    void clear();
    // Exports the visible (filtered) rows as tab-separated text.
    bool exportTo(const QString &path, QString *error) const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

class TranscriptView : public QWidget
{
    Q_OBJECT
public:
    explicit TranscriptView(QWidget *parent = nullptr);
    ~TranscriptView() override;
    void append(const QList<TranscriptEntry> &entries);
    // Marks the line that failed (the last server reply, or the error entry) and
    // shows the explanation of the error's reply code and enhanced code.
    void showOutcome(const SendResult &result);
    void clear();
    [[nodiscard]] QString text() const; // as saved: "  0.012 C [tls] EHLO x" lines
    bool saveTo(const QString &path, QString *error) const;
    [[nodiscard]] int lineCount() const;
    // The explanation shown for the failure (empty when none).
    [[nodiscard]] QString failureExplanation() const;
    // The highlighted failing line (0-based, as in text()), -1 when none.
    [[nodiscard]] int failingLine() const;

protected:
    bool event(QEvent *e) override; // recolours on palette changes

private:
    struct Private;
    std::unique_ptr<Private> d;
};

class ThroughputChart : public QWidget
{
    Q_OBJECT
public:
    explicit ThroughputChart(QWidget *parent = nullptr);
    ~ThroughputChart() override;
    // Cumulative totals at `ms` since the session started (from UsageStats);
    // the chart plots the rate between samples.
    void addSample(qint64 ms, qint64 bytesSent, qint64 bytesReceived);
    void clear();
    // For tests: points in the sent and received series.
    [[nodiscard]] int sentPointCount() const;
    [[nodiscard]] int receivedPointCount() const;
    // The rates computed so far, (seconds, bytes per second), before the axis unit
    // is applied; and the unit the y axis shows now ("KiB/s" or "MiB/s").
    [[nodiscard]] QList<QPointF> sentRates() const;
    [[nodiscard]] QList<QPointF> receivedRates() const;
    [[nodiscard]] QString rateUnit() const;

protected:
    bool event(QEvent *e) override; // follows palette changes

private:
    struct Private;
    std::unique_ptr<Private> d;
};

class WarningsPanel : public QWidget
{
    Q_OBJECT
public:
    explicit WarningsPanel(QWidget *parent = nullptr);
    ~WarningsPanel() override;
    void append(const QList<QVariantMap> &warnings); // warning queue records
    void appendText(const QStringList &warnings);    // SendResult::warnings
    void clear();
    [[nodiscard]] int count() const;

Q_SIGNALS:
    void countChanged(int count);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

class ResultPanel : public QWidget
{
    Q_OBJECT
public:
    explicit ResultPanel(QWidget *parent = nullptr);
    ~ResultPanel() override;
    void showResult(const SendResult &result);
    void clear();
    // For tests: the per-recipient table's rows (address, code, enhanced, text).
    [[nodiscard]] QList<QStringList> recipientRows() const;
    [[nodiscard]] QString summaryText() const;
    // For tests: the TLS summary as "Label: value" lines, and the timing rows
    // (step, milliseconds).
    [[nodiscard]] QString tlsSummaryText() const;
    [[nodiscard]] QList<QStringList> timingRows() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};
