#include "connectionpanel.h"

#include "profilestore.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include <climits>

// How it works: `current` (a ConnectionProfile) is the single source of truth.
// Each widget writes only its own field into it; the URL is re-derived from it
// after every field edit, and a parsable URL edit writes host, port, security
// and user back (ConnectionProfile::fromUrl). `updating` is set while widgets are
// filled programmatically so that filling them does not count as an edit.

namespace {

using Security = ConnectionProfile::Security;

// Colours readable on both light and dark palettes: pick the variant by the
// lightness of the window background instead of hard-coding one colour.
bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Window).lightnessF() < 0.5;
}

QColor errorColour(const QPalette &palette)
{
    return isDark(palette) ? QColor(255, 128, 128) : QColor(176, 0, 32);
}

QColor warningColour(const QPalette &palette)
{
    return isDark(palette) ? QColor(255, 200, 90) : QColor(140, 80, 0);
}

void paintLabel(QLabel *label, const QColor &colour)
{
    QPalette p = label->palette();
    p.setColor(QPalette::WindowText, colour);
    p.setColor(QPalette::Text, colour);
    label->setPalette(p);
}

QLabel *makeNoteLabel(QWidget *parent, const QString &objectName, const QString &accessibleName)
{
    auto *label = new QLabel(parent);
    label->setObjectName(objectName);
    label->setAccessibleName(accessibleName);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    // Full-width notes under the fields: QFormLayout sizes a word-wrapped label
    // in the field column for its narrowest width, leaving large gaps.
    label->setVisible(false);
    return label;
}

} // namespace

struct ConnectionPanel::Private
{
    ConnectionPanel *q = nullptr;
    ProfileStore *store = nullptr;
    ConnectionProfile current;
    QString urlError;
    bool updating = false;

    QComboBox *profileCombo = nullptr;
    QPushButton *saveButton = nullptr;
    QPushButton *saveAsButton = nullptr;
    QPushButton *deleteButton = nullptr;
    QLineEdit *urlEdit = nullptr;
    QLabel *urlErrorLabel = nullptr;
    QLineEdit *hostEdit = nullptr;
    QSpinBox *portSpin = nullptr;
    QComboBox *securityCombo = nullptr;
    QLabel *hintLabel = nullptr;
    QPushButton *usePortButton = nullptr;
    QLineEdit *userEdit = nullptr;
    QLineEdit *passwordEdit = nullptr;
    QToolButton *showPasswordButton = nullptr;
    QComboBox *mechanismCombo = nullptr;
    QCheckBox *verifyCheck = nullptr;
    QLabel *verifyWarning = nullptr;
    QLabel *keychainLabel = nullptr;
    QToolButton *advancedToggle = nullptr;
    QWidget *advancedBox = nullptr;
    QLineEdit *caFileEdit = nullptr;
    QToolButton *caBrowseButton = nullptr;
    QLineEdit *tlsNameEdit = nullptr;
    QLineEdit *ehloEdit = nullptr;
    QDoubleSpinBox *connectTimeoutSpin = nullptr;
    QDoubleSpinBox *readTimeoutSpin = nullptr;
    QCheckBox *testModeCheck = nullptr;
    QCheckBox *keepAliveCheck = nullptr;
    QCheckBox *showSecretsCheck = nullptr;
    QSpinBox *warningMsSpin = nullptr;
    QSpinBox *warningBpsSpin = nullptr;
    QLabel *problemLabel = nullptr;

    void build();
    void connectSignals();
    void fillWidgets();         // current -> every widget
    void fillUrlFields();       // current -> host, port, security, user, password
    void refreshIndicators();   // hints, warnings, problem, colours
    void applyColours();
    void refreshProfileCombo();
    void fieldEdited();         // after a field wrote into current
    void urlEdited(const QString &text);
    void loadNamed(const QString &name);
    void requestPassword(const QString &name);
    void save();
    void saveAs();
    void removeCurrent();
};

void ConnectionPanel::Private::build()
{
    auto *outer = new QVBoxLayout(q);
    outer->setContentsMargins(0, 0, 0, 0);
    // A side panel at 1280x800 cannot show every field at once: scroll rather
    // than squeeze.
    auto *scroll = new QScrollArea(q);
    scroll->setObjectName(QStringLiteral("connectionScroll"));
    scroll->setAccessibleName(QStringLiteral("Connection settings"));
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    outer->addWidget(scroll);

    auto *content = new QWidget(scroll);
    scroll->setWidget(content);
    auto *form = new QFormLayout(content);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setRowWrapPolicy(QFormLayout::DontWrapRows);

    // ---- profiles
    profileCombo = new QComboBox(content);
    profileCombo->setObjectName(QStringLiteral("profileCombo"));
    profileCombo->setAccessibleName(QStringLiteral("Profile"));
    profileCombo->setToolTip(QStringLiteral("Saved connection profiles; choosing one loads it"));
    form->addRow(QStringLiteral("&Profile:"), profileCombo);

    auto *profileButtons = new QHBoxLayout;
    saveButton = new QPushButton(QStringLiteral("Save"), content);
    saveButton->setObjectName(QStringLiteral("saveProfileButton"));
    saveButton->setAccessibleName(QStringLiteral("Save profile"));
    saveButton->setToolTip(QStringLiteral("Save these settings under the current profile name (the password "
                                          "goes to the system keychain, never to the settings file)"));
    saveAsButton = new QPushButton(QStringLiteral("Save as…"), content);
    saveAsButton->setObjectName(QStringLiteral("saveProfileAsButton"));
    saveAsButton->setAccessibleName(QStringLiteral("Save profile as"));
    saveAsButton->setToolTip(QStringLiteral("Save these settings as a new named profile"));
    deleteButton = new QPushButton(QStringLiteral("Delete"), content);
    deleteButton->setObjectName(QStringLiteral("deleteProfileButton"));
    deleteButton->setAccessibleName(QStringLiteral("Delete profile"));
    deleteButton->setToolTip(QStringLiteral("Delete the current profile and its saved password"));
    profileButtons->addWidget(saveButton);
    profileButtons->addWidget(saveAsButton);
    profileButtons->addWidget(deleteButton);
    profileButtons->addStretch();
    form->addRow(QString(), profileButtons);

    // ---- where
    urlEdit = new QLineEdit(content);
    urlEdit->setObjectName(QStringLiteral("urlEdit"));
    urlEdit->setAccessibleName(QStringLiteral("Server URL"));
    urlEdit->setPlaceholderText(QStringLiteral("esmtptls://user@mail.example.org:587"));
    urlEdit->setToolTip(QStringLiteral(
        "scheme://[user@]host[:port]. smtp/esmtp: STARTTLS when offered; smtptls/esmtptls: STARTTLS "
        "required; smtps/esmtps: TLS from the first byte. IPv6 in brackets: smtp://[::1]:25"));
    urlEdit->setClearButtonEnabled(true);
    form->addRow(QStringLiteral("&URL:"), urlEdit);
    urlErrorLabel = makeNoteLabel(content, QStringLiteral("urlErrorLabel"), QStringLiteral("URL problem"));
    form->addRow(urlErrorLabel);

    hostEdit = new QLineEdit(content);
    hostEdit->setObjectName(QStringLiteral("hostEdit"));
    hostEdit->setAccessibleName(QStringLiteral("Host"));
    hostEdit->setToolTip(QStringLiteral("Server host name, IPv4 address or IPv6 address (without brackets)"));
    form->addRow(QStringLiteral("&Host:"), hostEdit);

    portSpin = new QSpinBox(content);
    portSpin->setObjectName(QStringLiteral("portSpin"));
    portSpin->setAccessibleName(QStringLiteral("Port"));
    portSpin->setRange(1, 65535);
    portSpin->setToolTip(QStringLiteral("25: relay (RFC 5321); 587: submission with STARTTLS (RFC 6409); "
                                        "465: submission with implicit TLS (RFC 8314)"));
    form->addRow(QStringLiteral("P&ort:"), portSpin);

    securityCombo = new QComboBox(content);
    securityCombo->setObjectName(QStringLiteral("securityCombo"));
    securityCombo->setAccessibleName(QStringLiteral("Security"));
    securityCombo->addItem(QStringLiteral("None (plain text, never STARTTLS)"), int(Security::None));
    securityCombo->addItem(QStringLiteral("STARTTLS if offered"), int(Security::StartTlsIfOffered));
    securityCombo->addItem(QStringLiteral("STARTTLS required"), int(Security::StartTlsRequired));
    securityCombo->addItem(QStringLiteral("Implicit TLS"), int(Security::ImplicitTls));
    securityCombo->setToolTip(QStringLiteral(
        "STARTTLS if offered: upgrades when the server offers it, else continues in plain text.\n"
        "STARTTLS required: stops before AUTH or MAIL when TLS cannot be had.\n"
        "Implicit TLS: TLS from the first byte (port 465)."));
    form->addRow(QStringLiteral("&Security:"), securityCombo);

    hintLabel = makeNoteLabel(content, QStringLiteral("mismatchHintLabel"), QStringLiteral("Port and security hint"));
    usePortButton = new QPushButton(content);
    usePortButton->setObjectName(QStringLiteral("usePortButton"));
    usePortButton->setAccessibleName(QStringLiteral("Use the usual port"));
    usePortButton->setToolTip(QStringLiteral("Change the port to the one usually used with this security mode"));
    usePortButton->setVisible(false);
    auto *hintRow = new QVBoxLayout;
    hintRow->setContentsMargins(0, 0, 0, 0);
    hintRow->addWidget(hintLabel);
    hintRow->addWidget(usePortButton, 0, Qt::AlignLeft);
    form->addRow(hintRow);

    // ---- who
    userEdit = new QLineEdit(content);
    userEdit->setObjectName(QStringLiteral("userEdit"));
    userEdit->setAccessibleName(QStringLiteral("User name"));
    userEdit->setToolTip(QStringLiteral("Empty: no authentication"));
    form->addRow(QStringLiteral("U&ser:"), userEdit);

    passwordEdit = new QLineEdit(content);
    passwordEdit->setObjectName(QStringLiteral("passwordEdit"));
    passwordEdit->setAccessibleName(QStringLiteral("Password"));
    passwordEdit->setEchoMode(QLineEdit::Password);
    passwordEdit->setToolTip(QStringLiteral("Password, or the access token for XOAUTH2 and OAUTHBEARER. Saved "
                                            "in the system keychain only"));
    showPasswordButton = new QToolButton(content);
    showPasswordButton->setObjectName(QStringLiteral("showPasswordButton"));
    showPasswordButton->setAccessibleName(QStringLiteral("Show password"));
    showPasswordButton->setToolTip(QStringLiteral("Show or hide the password"));
    showPasswordButton->setText(QStringLiteral("Show"));
    showPasswordButton->setCheckable(true);
    auto *passwordRow = new QHBoxLayout;
    passwordRow->setContentsMargins(0, 0, 0, 0);
    passwordRow->addWidget(passwordEdit, 1);
    passwordRow->addWidget(showPasswordButton);
    form->addRow(QStringLiteral("Pass&word:"), passwordRow);
    // A row holding a layout gets no buddy by itself: give the mnemonic one.
    if (auto *label = qobject_cast<QLabel *>(form->labelForField(passwordRow)))
        label->setBuddy(passwordEdit);

    mechanismCombo = new QComboBox(content);
    mechanismCombo->setObjectName(QStringLiteral("mechanismCombo"));
    mechanismCombo->setAccessibleName(QStringLiteral("Authentication mechanism"));
    mechanismCombo->setToolTip(QStringLiteral("SASL mechanism (RFC 4954); auto: the strongest the server offers"));
    mechanismCombo->addItem(QStringLiteral("auto"), QString());
    for (const QString &m : ConnectionProfile::mechanisms())
        mechanismCombo->addItem(m, m);
    form->addRow(QStringLiteral("&Mechanism:"), mechanismCombo);

    verifyCheck = new QCheckBox(QStringLiteral("Verify certificates"), content);
    verifyCheck->setObjectName(QStringLiteral("verifyCheck"));
    verifyCheck->setAccessibleName(QStringLiteral("Verify certificates"));
    verifyCheck->setToolTip(QStringLiteral("Check the server certificate against the trusted CAs and the host "
                                           "name. Turn off only for a test server you control"));
    form->addRow(QString(), verifyCheck);
    verifyWarning = makeNoteLabel(content, QStringLiteral("verifyWarningLabel"),
                                  QStringLiteral("Certificate verification warning"));
    verifyWarning->setText(QStringLiteral(
        "Certificate verification is OFF: anyone between you and the server can pose as the server and read "
        "the password and the messages. Every report of this session will say so."));
    form->addRow(verifyWarning);

    keychainLabel = makeNoteLabel(content, QStringLiteral("keychainLabel"), QStringLiteral("Keychain status"));
    form->addRow(keychainLabel);

    // ---- advanced: rarely changed, collapsed by default
    advancedToggle = new QToolButton(content);
    advancedToggle->setObjectName(QStringLiteral("advancedToggle"));
    advancedToggle->setAccessibleName(QStringLiteral("Advanced settings"));
    advancedToggle->setToolTip(QStringLiteral("Show or hide CA file, TLS and EHLO names, timeouts, test mode and "
                                              "warning thresholds"));
    advancedToggle->setText(QStringLiteral("Advanced"));
    advancedToggle->setCheckable(true);
    advancedToggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    advancedToggle->setArrowType(Qt::RightArrow);
    advancedToggle->setAutoRaise(true);
    form->addRow(advancedToggle);

    advancedBox = new QWidget(content);
    advancedBox->setObjectName(QStringLiteral("advancedBox"));
    advancedBox->setVisible(false);
    auto *adv = new QFormLayout(advancedBox);
    adv->setContentsMargins(0, 0, 0, 0);
    adv->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    adv->setRowWrapPolicy(QFormLayout::DontWrapRows);
    form->addRow(advancedBox);

    caFileEdit = new QLineEdit(advancedBox);
    caFileEdit->setObjectName(QStringLiteral("caFileEdit"));
    caFileEdit->setAccessibleName(QStringLiteral("CA file"));
    caFileEdit->setPlaceholderText(QStringLiteral("system CAs"));
    caFileEdit->setToolTip(QStringLiteral("PEM file of CA certificates to trust instead of the system ones"));
    caBrowseButton = new QToolButton(advancedBox);
    caBrowseButton->setObjectName(QStringLiteral("caBrowseButton"));
    caBrowseButton->setAccessibleName(QStringLiteral("Browse for CA file"));
    caBrowseButton->setToolTip(QStringLiteral("Choose a PEM file of CA certificates"));
    caBrowseButton->setText(QStringLiteral("…"));
    auto *caRow = new QHBoxLayout;
    caRow->setContentsMargins(0, 0, 0, 0);
    caRow->addWidget(caFileEdit, 1);
    caRow->addWidget(caBrowseButton);
    adv->addRow(QStringLiteral("&CA file:"), caRow);
    if (auto *label = qobject_cast<QLabel *>(adv->labelForField(caRow)))
        label->setBuddy(caFileEdit);

    tlsNameEdit = new QLineEdit(advancedBox);
    tlsNameEdit->setObjectName(QStringLiteral("tlsNameEdit"));
    tlsNameEdit->setAccessibleName(QStringLiteral("TLS name"));
    tlsNameEdit->setPlaceholderText(QStringLiteral("the host"));
    tlsNameEdit->setToolTip(QStringLiteral("The name the certificate must carry, when it is not the host "
                                           "(connecting to an address or a tunnel); also sent as SNI"));
    adv->addRow(QStringLiteral("&TLS name:"), tlsNameEdit);

    ehloEdit = new QLineEdit(advancedBox);
    ehloEdit->setObjectName(QStringLiteral("ehloEdit"));
    ehloEdit->setAccessibleName(QStringLiteral("EHLO name"));
    ehloEdit->setToolTip(QStringLiteral("This client's name in EHLO/HELO (RFC 5321 4.1.1.1): a host name or an "
                                        "address literal such as [192.0.2.1]"));
    adv->addRow(QStringLiteral("&EHLO name:"), ehloEdit);

    auto makeSeconds = [this](const QString &objectName, const QString &name, const QString &tip) {
        auto *spin = new QDoubleSpinBox(advancedBox);
        spin->setObjectName(objectName);
        spin->setAccessibleName(name);
        spin->setToolTip(tip);
        spin->setDecimals(1);
        spin->setRange(0.1, 86400.0);
        spin->setSuffix(QStringLiteral(" s"));
        return spin;
    };
    connectTimeoutSpin = makeSeconds(QStringLiteral("connectTimeoutSpin"), QStringLiteral("Connect timeout"),
                                     QStringLiteral("How long to wait for the TCP connection and the TLS "
                                                    "handshake"));
    adv->addRow(QStringLiteral("Co&nnect timeout:"), connectTimeoutSpin);
    readTimeoutSpin = makeSeconds(QStringLiteral("readTimeoutSpin"), QStringLiteral("Read timeout"),
                                  QStringLiteral("How long to wait for each server reply (RFC 5321 4.5.3.2 "
                                                 "suggests minutes)"));
    adv->addRow(QStringLiteral("&Read timeout:"), readTimeoutSpin);

    testModeCheck = new QCheckBox(QStringLiteral("Test mode (no connection)"), advancedBox);
    testModeCheck->setObjectName(QStringLiteral("testModeCheck"));
    testModeCheck->setAccessibleName(QStringLiteral("Test mode"));
    testModeCheck->setToolTip(QStringLiteral("Simulate the whole session without connecting: shows the "
                                             "transcript that would be sent"));
    adv->addRow(testModeCheck);
    keepAliveCheck = new QCheckBox(QStringLiteral("Keep the session open between sends"), advancedBox);
    keepAliveCheck->setObjectName(QStringLiteral("keepAliveCheck"));
    keepAliveCheck->setAccessibleName(QStringLiteral("Keep alive"));
    keepAliveCheck->setToolTip(QStringLiteral("Reuse the connection for the next message (RSET between)"));
    adv->addRow(keepAliveCheck);
    showSecretsCheck = new QCheckBox(QStringLiteral("Show secrets in the transcript"), advancedBox);
    showSecretsCheck->setObjectName(QStringLiteral("showSecretsCheck"));
    showSecretsCheck->setAccessibleName(QStringLiteral("Show secrets"));
    showSecretsCheck->setToolTip(QStringLiteral("Show AUTH data unredacted in the transcript and events of "
                                                "this session"));
    adv->addRow(showSecretsCheck);

    warningMsSpin = new QSpinBox(advancedBox);
    warningMsSpin->setObjectName(QStringLiteral("warningMsSpin"));
    warningMsSpin->setAccessibleName(QStringLiteral("Slow operation warning threshold"));
    warningMsSpin->setToolTip(QStringLiteral("Warn when one socket operation takes longer than this (0: off)"));
    warningMsSpin->setRange(0, 3600000);
    warningMsSpin->setSuffix(QStringLiteral(" ms"));
    warningMsSpin->setSpecialValueText(QStringLiteral("off"));
    adv->addRow(QStringLiteral("Warn &slower than:"), warningMsSpin);
    warningBpsSpin = new QSpinBox(advancedBox);
    warningBpsSpin->setObjectName(QStringLiteral("warningBpsSpin"));
    warningBpsSpin->setAccessibleName(QStringLiteral("Low throughput warning threshold"));
    warningBpsSpin->setToolTip(QStringLiteral("Warn when a transfer runs below this rate (0: off)"));
    warningBpsSpin->setRange(0, INT_MAX);
    warningBpsSpin->setSuffix(QStringLiteral(" B/s"));
    warningBpsSpin->setSpecialValueText(QStringLiteral("off"));
    adv->addRow(QStringLiteral("Warn &below:"), warningBpsSpin);

    problemLabel = makeNoteLabel(content, QStringLiteral("problemLabel"), QStringLiteral("Settings problem"));
    form->addRow(problemLabel);

    const bool canStore = store != nullptr;
    saveButton->setEnabled(canStore);
    saveAsButton->setEnabled(canStore);
    deleteButton->setEnabled(canStore);
    if (!canStore) {
        profileCombo->setToolTip(QStringLiteral("Profiles cannot be saved here"));
    }
}

void ConnectionPanel::Private::connectSignals()
{
    // All slots run on the GUI thread (the panel's thread).
    QObject::connect(urlEdit, &QLineEdit::textEdited, q, [this](const QString &text) { urlEdited(text); });
    QObject::connect(urlEdit, &QLineEdit::editingFinished, q, [this] {
        // Show the normal form (and drop a password typed into the URL: it
        // now lives in the password field).
        if (urlError.isEmpty()) {
            updating = true;
            urlEdit->setText(current.toUrl());
            updating = false;
        }
    });
    QObject::connect(hostEdit, &QLineEdit::textEdited, q, [this](const QString &text) {
        QString host = text.trimmed();
        // The field holds the bare address; brackets belong to the URL form only.
        if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
            host = host.mid(1, host.size() - 2);
        current.host = host;
        fieldEdited();
    });
    QObject::connect(portSpin, &QSpinBox::valueChanged, q, [this](int value) {
        if (updating)
            return;
        current.port = value;
        fieldEdited();
    });
    QObject::connect(securityCombo, &QComboBox::currentIndexChanged, q, [this](int) {
        if (updating)
            return;
        current.security = Security(securityCombo->currentData().toInt());
        fieldEdited();
    });
    QObject::connect(usePortButton, &QPushButton::clicked, q, [this] {
        if (const int port = current.suggestedPort())
            portSpin->setValue(port); // goes through valueChanged -> fieldEdited
    });
    QObject::connect(userEdit, &QLineEdit::textEdited, q, [this](const QString &text) {
        current.user = text;
        fieldEdited();
    });
    QObject::connect(passwordEdit, &QLineEdit::textEdited, q, [this](const QString &text) {
        current.password = text;
        refreshIndicators();
        Q_EMIT q->profileChanged();
    });
    QObject::connect(showPasswordButton, &QToolButton::toggled, q, [this](bool show) {
        passwordEdit->setEchoMode(show ? QLineEdit::Normal : QLineEdit::Password);
        showPasswordButton->setText(show ? QStringLiteral("Hide") : QStringLiteral("Show"));
    });
    auto otherField = [this](auto apply) {
        return [this, apply](auto value) {
            if (updating)
                return;
            apply(value);
            refreshIndicators();
            Q_EMIT q->profileChanged();
        };
    };
    QObject::connect(mechanismCombo, &QComboBox::currentIndexChanged, q,
                     otherField([this](int) { current.mechanism = mechanismCombo->currentData().toString(); }));
    QObject::connect(verifyCheck, &QCheckBox::toggled, q,
                     otherField([this](bool on) { current.verifyCertificates = on; }));
    QObject::connect(caFileEdit, &QLineEdit::textChanged, q,
                     otherField([this](const QString &text) { current.caFile = text; }));
    QObject::connect(caBrowseButton, &QToolButton::clicked, q, [this] {
        const QString start = current.caFile.isEmpty() ? QDir::homePath() : current.caFile;
        const QString file = QFileDialog::getOpenFileName(
            q, QStringLiteral("CA certificates"), start,
            QStringLiteral("PEM certificates (*.pem *.crt *.cer);;All files (*)"));
        if (!file.isEmpty())
            caFileEdit->setText(file); // textChanged updates the profile
    });
    QObject::connect(tlsNameEdit, &QLineEdit::textChanged, q,
                     otherField([this](const QString &text) { current.tlsName = text.trimmed(); }));
    QObject::connect(ehloEdit, &QLineEdit::textChanged, q,
                     otherField([this](const QString &text) { current.ehloName = text; }));
    QObject::connect(connectTimeoutSpin, &QDoubleSpinBox::valueChanged, q,
                     otherField([this](double s) { current.connectTimeoutMs = qRound(s * 1000.0); }));
    QObject::connect(readTimeoutSpin, &QDoubleSpinBox::valueChanged, q,
                     otherField([this](double s) { current.readTimeoutMs = qRound(s * 1000.0); }));
    QObject::connect(testModeCheck, &QCheckBox::toggled, q, otherField([this](bool on) { current.testMode = on; }));
    QObject::connect(keepAliveCheck, &QCheckBox::toggled, q, otherField([this](bool on) { current.keepAlive = on; }));
    QObject::connect(showSecretsCheck, &QCheckBox::toggled, q,
                     otherField([this](bool on) { current.showSecrets = on; }));
    QObject::connect(warningMsSpin, &QSpinBox::valueChanged, q, otherField([this](int v) { current.warningMs = v; }));
    QObject::connect(warningBpsSpin, &QSpinBox::valueChanged, q,
                     otherField([this](int v) { current.warningBytesPerSecond = v; }));

    QObject::connect(advancedToggle, &QToolButton::toggled, q, [this](bool open) {
        advancedToggle->setArrowType(open ? Qt::DownArrow : Qt::RightArrow);
        advancedBox->setVisible(open);
    });

    QObject::connect(profileCombo, &QComboBox::activated, q, [this](int index) {
        loadNamed(profileCombo->itemText(index));
    });
    QObject::connect(saveButton, &QPushButton::clicked, q, [this] { save(); });
    QObject::connect(saveAsButton, &QPushButton::clicked, q, [this] { saveAs(); });
    QObject::connect(deleteButton, &QPushButton::clicked, q, [this] { removeCurrent(); });
    if (store) {
        QObject::connect(store, &ProfileStore::keychainError, q, [this](const QString &message) {
            keychainLabel->setText(message);
            keychainLabel->setVisible(true);
        });
    }
}

void ConnectionPanel::Private::fieldEdited()
{
    if (updating)
        return;
    // Fields win over a half-typed URL: rewrite it from the profile.
    urlError.clear();
    updating = true;
    urlEdit->setText(current.toUrl());
    updating = false;
    refreshIndicators();
    Q_EMIT q->profileChanged();
}

void ConnectionPanel::Private::urlEdited(const QString &text)
{
    if (updating)
        return;
    QString error;
    if (const auto parsed = ConnectionProfile::fromUrl(text, current, &error)) {
        urlError.clear();
        current = *parsed;
        fillUrlFields();
    } else {
        // Keep the fields as they were; say why the URL is not taken.
        urlError = error.isEmpty() ? QStringLiteral("the URL cannot be parsed") : error;
    }
    refreshIndicators();
    Q_EMIT q->profileChanged();
}

void ConnectionPanel::Private::fillUrlFields()
{
    const bool was = updating;
    updating = true;
    hostEdit->setText(current.host);
    portSpin->setValue(std::clamp(current.port, 1, 65535));
    securityCombo->setCurrentIndex(securityCombo->findData(int(current.security)));
    userEdit->setText(current.user);
    if (passwordEdit->text() != current.password)
        passwordEdit->setText(current.password);
    updating = was;
}

void ConnectionPanel::Private::fillWidgets()
{
    updating = true;
    fillUrlFields();
    urlEdit->setText(current.toUrl());
    urlError.clear();
    int mech = mechanismCombo->findData(current.mechanism.toUpper());
    if (mech < 0) {
        // A mechanism this build does not list (a hand-edited profile): show it
        // rather than silently switching to auto.
        mechanismCombo->addItem(current.mechanism, current.mechanism);
        mech = mechanismCombo->count() - 1;
    }
    mechanismCombo->setCurrentIndex(mech);
    verifyCheck->setChecked(current.verifyCertificates);
    caFileEdit->setText(current.caFile);
    tlsNameEdit->setText(current.tlsName);
    ehloEdit->setText(current.ehloName);
    connectTimeoutSpin->setValue(current.connectTimeoutMs / 1000.0);
    readTimeoutSpin->setValue(current.readTimeoutMs / 1000.0);
    testModeCheck->setChecked(current.testMode);
    keepAliveCheck->setChecked(current.keepAlive);
    showSecretsCheck->setChecked(current.showSecrets);
    warningMsSpin->setValue(current.warningMs);
    warningBpsSpin->setValue(current.warningBytesPerSecond);
    updating = false;
    refreshProfileCombo();
    refreshIndicators();
}

void ConnectionPanel::Private::refreshIndicators()
{
    urlErrorLabel->setText(urlError.isEmpty() ? QString() : QStringLiteral("URL not used: %1").arg(urlError));
    urlErrorLabel->setVisible(!urlError.isEmpty());

    const QString hint = current.mismatchHint();
    hintLabel->setText(hint);
    hintLabel->setVisible(!hint.isEmpty());
    const int suggested = current.suggestedPort();
    usePortButton->setText(QStringLiteral("Use port %1").arg(suggested));
    usePortButton->setVisible(suggested != 0);

    // Persistent, not a one-off dialog: the choice must stay in view.
    verifyWarning->setVisible(!current.verifyCertificates);

    const QString problem = urlError.isEmpty() ? current.validationProblem() : QString();
    problemLabel->setText(problem);
    problemLabel->setVisible(!problem.isEmpty());
    applyColours();
}

void ConnectionPanel::Private::applyColours()
{
    const QPalette &palette = q->palette();
    paintLabel(urlErrorLabel, errorColour(palette));
    paintLabel(problemLabel, errorColour(palette));
    paintLabel(verifyWarning, warningColour(palette));
    paintLabel(hintLabel, warningColour(palette));
    paintLabel(keychainLabel, warningColour(palette));
}

void ConnectionPanel::Private::refreshProfileCombo()
{
    const QSignalBlocker blocker(profileCombo);
    profileCombo->clear();
    QStringList names = store ? store->names() : QStringList();
    if (!names.contains(current.name))
        names.append(current.name); // the unsaved profile being edited
    profileCombo->addItems(names);
    profileCombo->setCurrentIndex(names.indexOf(current.name));
    deleteButton->setEnabled(store && store->names().contains(current.name));
}

void ConnectionPanel::Private::loadNamed(const QString &name)
{
    if (!store)
        return;
    const auto loaded = store->load(name);
    if (!loaded)
        return;
    q->setProfile(*loaded);
    store->setLastUsed(name);
    requestPassword(name);
}

void ConnectionPanel::Private::requestPassword(const QString &name)
{
    // No user, no password to restore (and no keychain prompt for nothing).
    if (!store || current.user.isEmpty())
        return;
    QPointer<ConnectionPanel> panel(q);
    store->loadPassword(name, [panel, this, name](const QString &password, const QString &) {
        // Runs on the store's (GUI) thread. Ignore a late answer for a profile
        // no longer shown, or when the user has typed a password meanwhile.
        if (!panel || password.isEmpty() || current.name != name || !current.password.isEmpty())
            return;
        current.password = password;
        updating = true;
        passwordEdit->setText(password);
        updating = false;
        refreshIndicators();
        Q_EMIT q->profileChanged();
    });
}

void ConnectionPanel::Private::save()
{
    if (!store)
        return;
    keychainLabel->setVisible(false);
    store->save(current);
    store->setLastUsed(current.name);
    refreshProfileCombo();
}

void ConnectionPanel::Private::saveAs()
{
    if (!store)
        return;
    bool ok = false;
    const QString name = QInputDialog::getText(q, QStringLiteral("Save profile as"), QStringLiteral("Profile name:"),
                                               QLineEdit::Normal, current.name, &ok)
                             .trimmed();
    if (!ok || name.isEmpty())
        return;
    current.name = name;
    save();
    Q_EMIT q->profileChanged();
}

void ConnectionPanel::Private::removeCurrent()
{
    if (!store)
        return;
    store->remove(current.name);
    const QStringList rest = store->names();
    if (!rest.isEmpty()) {
        loadNamed(rest.front());
        return;
    }
    q->setProfile(ConnectionProfile());
}

ConnectionPanel::ConnectionPanel(ProfileStore *store, QWidget *parent)
    : QWidget(parent)
    , d(std::make_unique<Private>())
{
    d->q = this;
    d->store = store;
    setObjectName(QStringLiteral("connectionPanel"));
    setAccessibleName(QStringLiteral("Connection"));
    d->build();
    d->connectSignals();

    QString passwordFor;
    if (store) {
        const QString last = store->lastUsed();
        if (const auto loaded = last.isEmpty() ? std::nullopt : store->load(last)) {
            d->current = *loaded;
            passwordFor = last;
        }
    }
    d->fillWidgets();
    if (!passwordFor.isEmpty())
        d->requestPassword(passwordFor);
}

ConnectionPanel::~ConnectionPanel()
{
    // The children go before d: a focused line edit still emits editingFinished
    // when a top-level panel's window closes in ~QWidget, and the slots use d.
    qDeleteAll(findChildren<QWidget *>(QString(), Qt::FindDirectChildrenOnly));
}

ConnectionProfile ConnectionPanel::profile() const
{
    return d->current;
}

void ConnectionPanel::setProfile(const ConnectionProfile &profile)
{
    const bool changed = !(profile == d->current) || !d->urlError.isEmpty();
    d->current = profile;
    d->fillWidgets();
    if (changed)
        Q_EMIT profileChanged();
}

QString ConnectionPanel::problem() const
{
    if (!d->urlError.isEmpty())
        return QStringLiteral("URL: %1").arg(d->urlError);
    return d->current.validationProblem();
}

void ConnectionPanel::focusHost()
{
    d->hostEdit->setFocus(Qt::ShortcutFocusReason);
    d->hostEdit->selectAll();
}

void ConnectionPanel::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && d && d->problemLabel)
        d->applyColours();
}
