// The escaping rule for text from outside (protocol/printable.h;
// docs/security.md): what changes, what stays readable, the notation, and
// the guards safeText()/safeLine() that may run over already escaped text.

#include "protocol/printable.h"
#include "shared/unsafetext.h"

#include <QTest>

using namespace Qt::StringLiterals;

namespace {

// One code point as a QString (QString::fromUcs4 would drop U+FEFF as a byte
// order mark).
QString fromUcs4(char32_t ucs)
{
    if (ucs <= 0xffff)
        return QString(QChar(char16_t(ucs)));
    const QChar pair[2] = {QChar(QChar::highSurrogate(ucs)), QChar(QChar::lowSurrogate(ucs))};
    return QString(pair, 2);
}

// Independent of the implementation: the categories a shown text must never
// hold raw (shared/unsafetext.h).
bool holdsUnsafe(const QString &text)
{
    return UnsafeText::holds(text);
}

} // namespace

class TestPrintable : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void text_data();
    void text();
    void bytes_data();
    void bytes();
    void limits();
    void everyCodePoint();
    void guards_data();
    void guards();
    void guardKeepsSafeTextShared();
};

void TestPrintable::text_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("shown");

    // Ordinary text in any language stays as it is.
    QTest::addRow("ASCII") << u"250 2.0.0 Ok: queued as 4Xk"_s << u"250 2.0.0 Ok: queued as 4Xk"_s;
    QTest::addRow("German") << u"Grüße aus Köln"_s << u"Grüße aus Köln"_s;
    QTest::addRow("Japanese") << u"日本語のメール"_s << u"日本語のメール"_s;
    QTest::addRow("Arabic") << u"مرحبا بالعالم"_s << u"مرحبا بالعالم"_s;
    QTest::addRow("Hebrew") << u"שלום"_s << u"שלום"_s;
    QTest::addRow("combining mark") << u"e\u0301te\u0301"_s << u"e\u0301te\u0301"_s;
    QTest::addRow("emoji") << u"ok \U0001F600 \U0001F1E9\U0001F1EA"_s << u"ok \U0001F600 \U0001F1E9\U0001F1EA"_s;
    QTest::addRow("no-break space") << u"a\u00a0b"_s << u"a\u00a0b"_s;
    QTest::addRow("private use") << u"\ue000"_s << u"\ue000"_s;

    // C0, DEL, C1.
    QTest::addRow("OSC title") << u"\x1b]0;title\x07"_s << u"\\x1b]0;title\\x07"_s;
    QTest::addRow("clear screen") << u"\x1b[2J"_s << u"\\x1b[2J"_s;
    QTest::addRow("CR LF TAB") << u"a\r\nb\tc"_s << u"a\\r\\nb\\tc"_s;
    QTest::addRow("NUL") << QString::fromLatin1("a\0b", 3) << u"a\\x00b"_s;
    QTest::addRow("DEL") << u"a\x7f"_s << u"a\\x7f"_s;
    QTest::addRow("C1 CSI") << u"\u009b2J"_s << u"\\x9b2J"_s;
    QTest::addRow("C1 NEL") << u"a\u0085b"_s << u"a\\x85b"_s;

    // Format characters (Cf): bidi, invisible, tags.
    QTest::addRow("RLO") << u"txt.\u202eexe"_s << u"txt.\\x202eexe"_s;
    QTest::addRow("LRE PDF") << u"\u202aa\u202c"_s << u"\\x202aa\\x202c"_s;
    QTest::addRow("isolates") << u"\u2066a\u2067b\u2068c\u2069"_s << u"\\x2066a\\x2067b\\x2068c\\x2069"_s;
    QTest::addRow("marks") << u"\u200e\u200f\u061c"_s << u"\\x200e\\x200f\\x061c"_s;
    QTest::addRow("soft hyphen") << u"pay\u00adpal"_s << u"pay\\xadpal"_s;
    QTest::addRow("zero width") << u"a\u200bb\u200dc\u2060d"_s << u"a\\x200bb\\x200dc\\x2060d"_s;
    QTest::addRow("BOM") << u"\ufeffx"_s << u"\\xfeffx"_s;
    QTest::addRow("annotation") << u"\ufff9a\ufffb"_s << u"\\xfff9a\\xfffb"_s;
    QTest::addRow("tag characters") << (u"x"_s + fromUcs4(0xe0041) + fromUcs4(0xe007f))
                                    << u"x\\x0e0041\\x0e007f"_s;

    // Line and paragraph separators; a surrogate without its pair.
    QTest::addRow("U+2028 U+2029") << u"a\u2028b\u2029c"_s << u"a\\x2028b\\x2029c"_s;
    QTest::addRow("lone high surrogate") << (u"a"_s + QChar(0xd800) + u"b"_s) << u"a\\xd800b"_s;
    QTest::addRow("lone low surrogate") << (QChar(0xdc00) + u"b"_s) << u"\\xdc00b"_s;

    // A backslash is doubled, so "\x1b" as text reads differently from ESC.
    QTest::addRow("backslash") << u"a\\x1b"_s << u"a\\\\x1b"_s;
}

void TestPrintable::text()
{
    QFETCH(QString, input);
    QFETCH(QString, shown);
    QCOMPARE(Smtp::printable(QStringView(input)), shown);
    // The byte form agrees whenever the text survives a trip through UTF-8.
    const QByteArray utf8 = input.toUtf8();
    if (QString::fromUtf8(utf8) == input)
        QCOMPARE(Smtp::printable(QByteArrayView(utf8)), shown);
}

void TestPrintable::bytes_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("shown");

    QTest::addRow("plain") << QByteArray("EHLO client.test") << u"EHLO client.test"_s;
    QTest::addRow("ESC") << QByteArray("a\x1b[31mred") << u"a\\x1b[31mred"_s;
    QTest::addRow("UTF-8 RLO") << QByteArray("x\xe2\x80\xaey") << u"x\\x202ey"_s;
    QTest::addRow("UTF-8 C1") << QByteArray("x\xc2\x9by") << u"x\\x9by"_s;
    QTest::addRow("invalid UTF-8") << QByteArray("caf\xe9!") << u"caf\ufffd!"_s;
    QTest::addRow("UTF-8 text") << QByteArray("gr\xc3\xbc\xc3\x9f") << u"grüß"_s;
}

void TestPrintable::bytes()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, shown);
    QCOMPARE(Smtp::printable(QByteArrayView(input)), shown);
}

void TestPrintable::limits()
{
    QCOMPARE(Smtp::printable(QByteArrayView("abcdef"), 4), u"abcd... (+2 bytes)"_s);
    QCOMPARE(Smtp::printable(QByteArrayView("abcdef"), 6), u"abcdef"_s);
    QCOMPARE(Smtp::printable(u"abcdef"_s, 3), u"abc... (+3 characters)"_s);
    QCOMPARE(Smtp::printable(u"\x1b\x1b\x1b"_s, 2), u"\\x1b\\x1b... (+1 characters)"_s);
    // A surrogate pair is never cut in two: the cut moves before it.
    const QString emoji = u"ab\U0001F600c"_s;
    QCOMPARE(Smtp::printable(emoji, 3), u"ab... (+3 characters)"_s);
    QCOMPARE(Smtp::printable(emoji, 4), u"ab\U0001F600... (+1 characters)"_s);
}

void TestPrintable::everyCodePoint()
{
    // Whatever the character, the result holds none of the unsafe categories
    // raw, and a character is changed exactly when the rule says so.
    for (char32_t ucs = 0; ucs <= 0x10ffff; ++ucs) {
        const QString in = fromUcs4(ucs);
        const QString out = Smtp::printable(QStringView(in));
        if (holdsUnsafe(out))
            QFAIL(qPrintable(u"U+%1 is shown raw"_s.arg(uint(ucs), 4, 16, QLatin1Char('0'))));
        const bool changed = out != in;
        const bool expected = Smtp::isUnsafeCharacter(ucs) || ucs == u'\\';
        if (changed != expected)
            QFAIL(qPrintable(u"U+%1: changed %2, expected %3"_s.arg(uint(ucs), 4, 16, QLatin1Char('0'))
                                 .arg(changed)
                                 .arg(expected)));
        if (Smtp::safeText(in) != in && !Smtp::isUnsafeCharacter(ucs))
            QFAIL(qPrintable(u"safeText changed U+%1"_s.arg(uint(ucs), 4, 16, QLatin1Char('0'))));
    }
    // Every format character of Unicode is unsafe: spot-check the whole
    // category independently of the table behind isUnsafeCharacter().
    for (char32_t ucs : {0x00adU, 0x0600U, 0x061cU, 0x06ddU, 0x070fU, 0x180eU, 0x200bU, 0x202eU, 0x2064U, 0x2066U,
                         0xfeffU, 0x110bdU, 0x1d173U, 0xe0001U, 0xe0020U})
        QVERIFY2(Smtp::isUnsafeCharacter(ucs), qPrintable(u"U+%1"_s.arg(uint(ucs), 4, 16)));
}

void TestPrintable::guards_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("text"); // safeText
    QTest::addColumn<QString>("line"); // safeLine

    QTest::addRow("plain") << u"a\\b"_s << u"a\\b"_s << u"a\\b"_s;
    QTest::addRow("line feed") << u"one\ntwo"_s << u"one\ntwo"_s << u"one\\ntwo"_s;
    QTest::addRow("ESC and CR") << u"a\x1b[2J\r"_s << u"a\\x1b[2J\\r"_s << u"a\\x1b[2J\\r"_s;
    QTest::addRow("bidi") << u"\u202eab"_s << u"\\x202eab"_s << u"\\x202eab"_s;
    QTest::addRow("already escaped") << u"server: a\\x1bb"_s << u"server: a\\x1bb"_s << u"server: a\\x1bb"_s;
}

void TestPrintable::guards()
{
    QFETCH(QString, input);
    QFETCH(QString, text);
    QFETCH(QString, line);
    QCOMPARE(Smtp::safeText(input), text);
    QCOMPARE(Smtp::safeLine(input), line);
    // Idempotent: a guard over guarded or printable() text changes nothing.
    QCOMPARE(Smtp::safeText(text), text);
    QCOMPARE(Smtp::safeLine(line), line);
    const QString quoted = Smtp::printable(QStringView(input));
    QCOMPARE(Smtp::safeText(quoted), quoted);
    QCOMPARE(Smtp::safeLine(quoted), quoted);
}

void TestPrintable::guardKeepsSafeTextShared()
{
    // The guard runs on every line the command line prints: text that needs
    // nothing is returned as it is, not copied.
    const QString text = QString::fromUtf8("250 2.0.0 Ok: queued\nGr\xc3\xbc\xc3\x9f\xe6\x97\xa5");
    QCOMPARE(Smtp::safeText(text).constData(), text.constData());
    QCOMPARE(Smtp::safeLine(u"one line"_s), u"one line"_s);
}

QTEST_APPLESS_MAIN(TestPrintable)
#include "tst_printable.moc"
