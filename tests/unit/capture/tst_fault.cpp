// Fault specs (core/capture/fault.h) and the shared FaultState
// (core/capture/serversession.h): every form of the grammar, every error naming
// its part, every=N counting, recipient matching, the rate window.

#include "capture/fault.h"
#include "capture/serversession.h"

#include <QTest>

#include <atomic>
#include <thread>
#include <vector>

using Capture::Fault;
using Capture::FaultState;

Q_DECLARE_METATYPE(Fault::Step)
Q_DECLARE_METATYPE(Fault::Action)

namespace {

Fault mustParse(const QString &spec)
{
    QString error;
    const auto f = Fault::parse(spec, &error);
    if (!f)
        qFatal("cannot parse %s: %s", qPrintable(spec), qPrintable(error));
    return *f;
}

} // namespace

class tst_Fault : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void errors_data();
    void errors();
    void stepNames();
    void everyNth();
    void recipientMatch();
    void independentCounters();
    void countersAreThreadSafe();
    void rateWindow();
    void setFaultsRestarts();
};

void tst_Fault::parse_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<Fault::Step>("step");
    QTest::addColumn<Fault::Action>("action");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("delayMs");
    QTest::addColumn<int>("every");
    QTest::addColumn<QString>("recipient");
    QTest::addColumn<int>("perMinute");
    QTest::addColumn<QString>("canonical");

    using S = Fault::Step;
    using A = Fault::Action;
    const QString none;
    QTest::addRow("rcpt reply (header example)")
        << "rcpt:550 5.1.1 No such user" << S::Rcpt << A::Reply << 550 << "5.1.1 No such user" << 0 << 1 << none << 0
        << "rcpt:550 5.1.1 No such user";
    QTest::addRow("recipient-specific (header example)")
        << "rcpt=bob@example.org:550 5.1.1 Gone" << S::Rcpt << A::Reply << 550 << "5.1.1 Gone" << 0 << 1
        << "bob@example.org" << 0 << "rcpt=bob@example.org:550 5.1.1 Gone";
    QTest::addRow("eod every third (header example)")
        << "eod:every=3:451 4.3.0 Try again" << S::EndOfData << A::Reply << 451 << "4.3.0 Try again" << 0 << 3
        << none << 0 << "eod:every=3:451 4.3.0 Try again";
    QTest::addRow("mail delay (header example)") << "mail:delay=2000" << S::Mail << A::Delay << 0 << none << 2000 << 1
                                                 << none << 0 << "mail:delay=2000";
    QTest::addRow("data disconnect (header example)") << "data:disconnect" << S::Data << A::Disconnect << 0 << none
                                                      << 0 << 1 << none << 0 << "data:disconnect";
    QTest::addRow("rate 421 (header example)") << "rate=10/min:421" << S::Mail << A::RateLimit << 421 << none << 0
                                               << 1 << none << 10 << "rate=10/min:421";
    QTest::addRow("rate 451 with text") << "rate=3/MIN:451 4.7.0 Slow down" << S::Mail << A::RateLimit << 451
                                        << "4.7.0 Slow down" << 0 << 1 << none << 3
                                        << "rate=3/min:451 4.7.0 Slow down";
    QTest::addRow("rate without a code is 421") << "rate=5/min" << S::Mail << A::RateLimit << 421 << none << 0 << 1
                                                << none << 5 << "rate=5/min:421";
    QTest::addRow("greeting 554") << "greeting:554 5.3.2 No service" << S::Greeting << A::Reply << 554
                                  << "5.3.2 No service" << 0 << 1 << none << 0 << "greeting:554 5.3.2 No service";
    QTest::addRow("ehlo, code without text") << "ehlo:550" << S::Ehlo << A::Reply << 550 << none << 0 << 1 << none
                                             << 0 << "ehlo:550";
    QTest::addRow("starttls, case-insensitive")
        << "StartTLS:Every=2:454 4.7.0 Not now" << S::StartTls << A::Reply << 454 << "4.7.0 Not now" << 0 << 2
        << none << 0 << "starttls:every=2:454 4.7.0 Not now";
    QTest::addRow("auth disconnect every 5th") << "AUTH:every=5:DISCONNECT" << S::Auth << A::Disconnect << 0 << none
                                               << 0 << 5 << none << 0 << "auth:every=5:disconnect";
    QTest::addRow("delay 0") << "rcpt:delay=0" << S::Rcpt << A::Delay << 0 << none << 0 << 1 << none << 0
                             << "rcpt:delay=0";
    QTest::addRow("every=1 is the default") << "mail:every=1:421 4.3.2 Bye" << S::Mail << A::Reply << 421
                                            << "4.3.2 Bye" << 0 << 1 << none << 0 << "mail:421 4.3.2 Bye";
    QTest::addRow("reply text with colons") << "eod:452 4.3.1 Full: try: later" << S::EndOfData << A::Reply << 452
                                            << "4.3.1 Full: try: later" << 0 << 1 << none << 0
                                            << "eod:452 4.3.1 Full: try: later";
    QTest::addRow("recipient in brackets, spaces around")
        << "  rcpt=<Carol@Example.org>:every=2:delay=50  " << S::Rcpt << A::Delay << 0 << none << 50 << 2
        << "Carol@Example.org" << 0 << "rcpt=Carol@Example.org:every=2:delay=50";
}

void tst_Fault::parse()
{
    QFETCH(QString, spec);
    QFETCH(Fault::Step, step);
    QFETCH(Fault::Action, action);
    QFETCH(int, code);
    QFETCH(QString, text);
    QFETCH(int, delayMs);
    QFETCH(int, every);
    QFETCH(QString, recipient);
    QFETCH(int, perMinute);
    QFETCH(QString, canonical);

    QString error;
    const auto f = Fault::parse(spec, &error);
    QVERIFY2(f, qPrintable(error));
    QCOMPARE(f->step, step);
    QCOMPARE(f->action, action);
    QCOMPARE(f->code, code);
    QCOMPARE(f->text, text);
    QCOMPARE(f->delayMs, delayMs);
    QCOMPARE(f->everyNth, every);
    QCOMPARE(f->recipient, recipient);
    QCOMPARE(f->perMinute, perMinute);
    QCOMPARE(f->toString(), canonical);
    // parse(toString()) gives back the same fault.
    const auto again = Fault::parse(f->toString(), &error);
    QVERIFY2(again, qPrintable(error));
    QVERIFY(*again == *f);
}

void tst_Fault::errors_data()
{
    QTest::addColumn<QString>("spec");
    QTest::addColumn<QString>("names"); // the error must quote the bad part

    QTest::addRow("empty") << "" << "empty";
    QTest::addRow("blank") << "   " << "empty";
    QTest::addRow("unknown step") << "helo:550" << "unknown step \"helo\"";
    QTest::addRow("no action") << "rcpt" << "no action";
    QTest::addRow("only every") << "rcpt:every=2" << "no action";
    QTest::addRow("code 2xx") << "rcpt:250 Ok" << "reply code 250";
    QTest::addRow("code 3xx") << "data:354 go" << "reply code 354";
    QTest::addRow("code 600") << "mail:600 x" << "reply code 600";
    QTest::addRow("code two digits") << "mail:55 x" << "the code must be three digits";
    QTest::addRow("code four digits") << "mail:5500 x" << "a space must separate";
    QTest::addRow("control in text") << "mail:550 bad\r\n250 ok" << "control characters";
    QTest::addRow("every=0") << "rcpt:every=0:550" << "every \"0\"";
    QTest::addRow("every negative") << "rcpt:every=-2:550" << "every \"-2\"";
    QTest::addRow("every not a number") << "rcpt:every=two:550" << "every \"two\"";
    QTest::addRow("every twice") << "rcpt:every=2:every=3:550" << "every= given twice";
    QTest::addRow("delay negative") << "mail:delay=-5" << "delay \"-5\": it cannot be negative";
    QTest::addRow("delay not a number") << "mail:delay=soon" << "delay \"soon\"";
    QTest::addRow("delay over an hour") << "mail:delay=3600001" << "more than one hour";
    QTest::addRow("two actions") << "mail:delay=5:disconnect" << "\"disconnect\": a fault has one action";
    QTest::addRow("reply then disconnect is text") << "mail:disconnect:550 x" << "\"550 x\": a fault has one action";
    QTest::addRow("recipient on mail") << "mail=bob@x.test:550" << "recipient \"bob@x.test\" on step mail";
    QTest::addRow("recipient on eod") << "eod=bob@x.test:451" << "only rcpt takes a recipient";
    QTest::addRow("empty recipient") << "rcpt=:550" << "recipient is empty";
    QTest::addRow("recipient with a space") << "rcpt=a b@x.test:550" << "recipient \"a b@x.test\"";
    QTest::addRow("unknown field") << "rcpt:often:550" << "unknown field \"often\"";
    QTest::addRow("empty field") << "rcpt::550" << "empty field";
    QTest::addRow("rate code 550") << "rate=10/min:550" << "rate reply code 550";
    QTest::addRow("rate code 452") << "rate=10/min:452" << "use 421 or 451";
    QTest::addRow("rate zero") << "rate=0/min:421" << "rate \"0/min\"";
    QTest::addRow("rate per hour") << "rate=10/hour:421" << "rate \"10/hour\"";
    QTest::addRow("rate no slash") << "rate=10:421" << "rate=N/min";
    QTest::addRow("rate extra field") << "rate=10/min:every=2:421" << "only a reply code";
}

void tst_Fault::errors()
{
    QFETCH(QString, spec);
    QFETCH(QString, names);
    QString error;
    const auto f = Fault::parse(spec, &error);
    QVERIFY2(!f, qPrintable(f ? f->toString() : QString()));
    QVERIFY2(error.contains(names), qPrintable(QStringLiteral("error \"%1\" lacks \"%2\"").arg(error, names)));
}

void tst_Fault::stepNames()
{
    using S = Fault::Step;
    const QList<std::pair<S, QString>> names = {
        {S::Greeting, QStringLiteral("greeting")}, {S::Ehlo, QStringLiteral("ehlo")},
        {S::StartTls, QStringLiteral("starttls")}, {S::Auth, QStringLiteral("auth")},
        {S::Mail, QStringLiteral("mail")},         {S::Rcpt, QStringLiteral("rcpt")},
        {S::Data, QStringLiteral("data")},         {S::EndOfData, QStringLiteral("eod")},
    };
    for (const auto &[step, name] : names) {
        QCOMPARE(Fault::stepName(step), name);
        QCOMPARE(mustParse(name + QStringLiteral(":disconnect")).step, step);
    }
}

void tst_Fault::everyNth()
{
    FaultState state({mustParse(QStringLiteral("rcpt:every=3:450 4.2.1 Later"))});
    QString fired;
    for (int i = 1; i <= 9; ++i)
        fired += state.next(Fault::Step::Rcpt, QStringLiteral("x@y.test")) ? u'F' : u'.';
    QCOMPARE(fired, QStringLiteral("..F..F..F"));
    // Other steps neither fire nor count.
    QVERIFY(!state.next(Fault::Step::Mail));
    QVERIFY(!state.next(Fault::Step::Rcpt));
    QVERIFY(!state.next(Fault::Step::Rcpt));
    QVERIFY(state.next(Fault::Step::Rcpt));
}

void tst_Fault::recipientMatch()
{
    FaultState state({mustParse(QStringLiteral("rcpt=bob@example.org:every=2:550 5.1.1 Gone"))});
    // Only RCPTs to bob count: carol's are neither refused nor counted.
    QVERIFY(!state.next(Fault::Step::Rcpt, QStringLiteral("bob@example.org")));
    QVERIFY(!state.next(Fault::Step::Rcpt, QStringLiteral("carol@example.org")));
    QVERIFY(!state.next(Fault::Step::Rcpt, QStringLiteral("carol@example.org")));
    const auto f = state.next(Fault::Step::Rcpt, QStringLiteral("BOB@Example.Org"));
    QVERIFY(f);
    QCOMPARE(f->code, 550);
    QVERIFY(!state.next(Fault::Step::Rcpt, QStringLiteral("bob@example.org.evil")));
    QVERIFY(!state.next(Fault::Step::Rcpt, QStringLiteral("bob@example.org")));
}

void tst_Fault::independentCounters()
{
    FaultState state({mustParse(QStringLiteral("mail:every=2:451 4.3.0 A")),
                      mustParse(QStringLiteral("mail:every=3:452 4.3.1 B"))});
    QStringList seen;
    for (int i = 1; i <= 6; ++i) {
        const auto f = state.next(Fault::Step::Mail);
        seen << (f ? QString::number(f->code) : QStringLiteral("-"));
    }
    // The first listed fault wins when both fire (6); the second still counted
    // its occurrences while the first fired (3 is its own).
    QCOMPARE(seen.join(u' '), QStringLiteral("- 451 452 451 - 451"));
}

void tst_Fault::countersAreThreadSafe()
{
    FaultState state({mustParse(QStringLiteral("rcpt:every=7:550 5.1.1 x"))});
    std::atomic<int> fired{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 7000; ++i) {
                if (state.next(Fault::Step::Rcpt))
                    ++fired;
            }
        });
    }
    for (std::thread &t : threads)
        t.join();
    QCOMPARE(fired.load(), 4 * 7000 / 7);
}

void tst_Fault::rateWindow()
{
    FaultState state({mustParse(QStringLiteral("rate=3/min:451 4.7.0 Slow"))});
    QVERIFY(!state.rateLimited(0));
    state.messageAccepted(0);
    state.messageAccepted(10'000);
    QVERIFY(!state.rateLimited(20'000));
    state.messageAccepted(20'000);
    const auto limited = state.rateLimited(20'001);
    QVERIFY(limited);
    QCOMPARE(limited->code, 451);
    QCOMPARE(limited->text, QStringLiteral("4.7.0 Slow"));
    QVERIFY(state.rateLimited(59'999));
    // The message at 0 leaves the rolling window at 60 s.
    QVERIFY(!state.rateLimited(60'000));
    state.messageAccepted(60'000);
    QVERIFY(state.rateLimited(69'999));
    QVERIFY(!state.rateLimited(70'000));

    // No rate fault: never limited, however many messages.
    FaultState unlimited({mustParse(QStringLiteral("rcpt:550"))});
    for (int i = 0; i < 100; ++i)
        unlimited.messageAccepted(i);
    QVERIFY(!unlimited.rateLimited(100));
}

void tst_Fault::setFaultsRestarts()
{
    FaultState state({mustParse(QStringLiteral("eod:every=2:451"))});
    QVERIFY(!state.next(Fault::Step::EndOfData));
    state.setFaults({mustParse(QStringLiteral("eod:every=2:451")), mustParse(QStringLiteral("rate=1/min"))});
    QCOMPARE(state.faults().size(), 2);
    QVERIFY(!state.next(Fault::Step::EndOfData)); // counting from 1 again
    QVERIFY(state.next(Fault::Step::EndOfData));
    state.messageAccepted(0);
    QVERIFY(state.rateLimited(1));
    state.setFaults(state.faults());
    QVERIFY(!state.rateLimited(1)); // the window restarts too
}

QTEST_GUILESS_MAIN(tst_Fault)
#include "tst_fault.moc"
