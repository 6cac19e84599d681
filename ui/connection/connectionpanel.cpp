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
// and user back (ConnectionSettings::fromUrl). `updating` is set while widgets
// are filled programmatically so that filling them does not count as an edit.
//
// `saved` is the profile as it was loaded, set or saved: the panel marks the
// profile modified while `current` differs from it, and Revert goes back to it.
// Retargeting (another host or port than the saved one) drops the trust
// settings that named the saved target's certificate (CA file, TLS name) and a
// name that described that target; going back to the saved target restores them.
//
// Every ConnectionSettings field has one control whose objectName is the field
// key (ConnectionSettings::fields()); the password control holds the secret of
// either "password" or "oauth_token", by mechanism.

namespace {

using Security = ConnectionSettings::Security;

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

// The object name of a field's control: its key.
QString keyName(const char *key)
{
    return QString::fromLatin1(key);
}

bool sameTarget(const ConnectionSettings &s, const QString &host, quint16 port)
{
    return s.port == port && s.host.compare(host, Qt::CaseInsensitive) == 0;
}

} // namespace

struct ConnectionPanel::Private
{
    ConnectionPanel *q = nullptr;
    ProfileStore *store = nullptr;
    ConnectionProfile current;
    ConnectionProfile saved;      // as loaded, set or saved (the "modified" mark)
    bool nameFromTarget = false;  // current.name was derived from a new target
    QString urlError;
    bool updating = false;

    QComboBox *profileCombo = nullptr;
    QPushButton *saveButton = nullptr;
    QPushButton *saveAsButton = nullptr;
    QPushButton *revertButton = nullptr;
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
    QCheckBox *plaintextAuthCheck = nullptr;
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
    QDoubleSpinBox *dataTimeoutSpin = nullptr;
    QCheckBox *pipeliningCheck = nullptr;
    QCheckBox *chunkingCheck = nullptr;
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
    void fillTrustFields();     // current -> CA file, TLS name
    void refreshIndicators();   // hints, warnings, problem, colours, modified mark
    void applyColours();
    void refreshProfileCombo();
    void fieldEdited();         // after a field wrote into current
    void targetChanged(const QString &oldHost, quint16 oldPort);
    void urlEdited(const QString &text);
    void loadNamed(const QString &name);
    void requestPassword(const QString &name);
    void showStoreMessage(const QString &message);
    void reset(const ConnectionProfile &profile); // a new saved form
    [[nodiscard]] bool modified() const { return !(current == saved); }
    void save();
    void saveAs();
    void revert();
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
    scroll->setAccessibleName(tr("Connection settings"));
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
    profileCombo->setAccessibleName(tr("Profile"));
    profileCombo->setToolTip(tr("Saved connection profiles; choosing one loads it"));
    form->addRow(tr("&Profile:"), profileCombo);

    auto *profileButtons = new QHBoxLayout;
    saveButton = new QPushButton(tr("Save"), content);
    saveButton->setObjectName(QStringLiteral("saveProfileButton"));
    saveButton->setAccessibleName(tr("Save profile"));
    saveButton->setToolTip(tr("Save these settings under the current profile name (the password goes to the "
                              "system keychain, never to the settings file)"));
    saveAsButton = new QPushButton(tr("Save as…"), content);
    saveAsButton->setObjectName(QStringLiteral("saveProfileAsButton"));
    saveAsButton->setAccessibleName(tr("Save profile as"));
    saveAsButton->setToolTip(tr("Save these settings as a new named profile"));
    revertButton = new QPushButton(tr("Revert"), content);
    revertButton->setObjectName(QStringLiteral("revertProfileButton"));
    revertButton->setAccessibleName(tr("Revert profile"));
    revertButton->setToolTip(tr("Undo the changes made since the profile was loaded or saved"));
    revertButton->setEnabled(false);
    deleteButton = new QPushButton(tr("Delete"), content);
    deleteButton->setObjectName(QStringLiteral("deleteProfileButton"));
    deleteButton->setAccessibleName(tr("Delete profile"));
    deleteButton->setToolTip(tr("Delete the current profile and its saved password"));
    profileButtons->addWidget(saveButton);
    profileButtons->addWidget(saveAsButton);
    profileButtons->addWidget(revertButton);
    profileButtons->addWidget(deleteButton);
    profileButtons->addStretch();
    form->addRow(QString(), profileButtons);

    // ---- where
    urlEdit = new QLineEdit(content);
    urlEdit->setObjectName(QStringLiteral("urlEdit"));
    urlEdit->setAccessibleName(tr("Server URL"));
    urlEdit->setPlaceholderText(QStringLiteral("esmtptls://user@mail.example.org:587"));
    urlEdit->setToolTip(tr("scheme://[user@]host[:port]. smtp/esmtp: STARTTLS when offered; smtptls/esmtptls: "
                           "STARTTLS required; smtps/esmtps: TLS from the first byte. IPv6 in brackets: "
                           "smtp://[::1]:25"));
    urlEdit->setClearButtonEnabled(true);
    form->addRow(tr("&URL:"), urlEdit);
    urlErrorLabel = makeNoteLabel(content, QStringLiteral("urlErrorLabel"), tr("URL problem"));
    form->addRow(urlErrorLabel);

    hostEdit = new QLineEdit(content);
    hostEdit->setObjectName(keyName("host"));
    hostEdit->setAccessibleName(tr("Host"));
    hostEdit->setToolTip(tr("Server host name, IPv4 address or IPv6 address (without brackets)"));
    form->addRow(tr("&Host:"), hostEdit);

    portSpin = new QSpinBox(content);
    portSpin->setObjectName(keyName("port"));
    portSpin->setAccessibleName(tr("Port"));
    portSpin->setRange(1, 65535);
    portSpin->setToolTip(tr("25: relay (RFC 5321); 587: submission with STARTTLS (RFC 6409); 465: submission "
                            "with implicit TLS (RFC 8314)"));
    form->addRow(tr("P&ort:"), portSpin);

    securityCombo = new QComboBox(content);
    securityCombo->setObjectName(keyName("security"));
    securityCombo->setAccessibleName(tr("Security"));
    // Item data: the one spelling of each mode (Smtp::securityName).
    securityCombo->addItem(tr("None (plain text, never STARTTLS)"), Smtp::securityName(Security::Plain));
    securityCombo->addItem(tr("STARTTLS if offered"), Smtp::securityName(Security::StartTlsOpportunistic));
    securityCombo->addItem(tr("STARTTLS required"), Smtp::securityName(Security::StartTlsRequired));
    securityCombo->addItem(tr("Implicit TLS"), Smtp::securityName(Security::ImplicitTls));
    securityCombo->setToolTip(tr("STARTTLS if offered: upgrades when the server offers it, else continues in "
                                 "plain text.\nSTARTTLS required: stops before AUTH or MAIL when TLS cannot be "
                                 "had.\nImplicit TLS: TLS from the first byte (port 465)."));
    form->addRow(tr("&Security:"), securityCombo);

    hintLabel = makeNoteLabel(content, QStringLiteral("mismatchHintLabel"), tr("Port and security hint"));
    usePortButton = new QPushButton(content);
    usePortButton->setObjectName(QStringLiteral("usePortButton"));
    usePortButton->setAccessibleName(tr("Use the usual port"));
    usePortButton->setToolTip(tr("Change the port to the one usually used with this security mode"));
    usePortButton->setVisible(false);
    auto *hintRow = new QVBoxLayout;
    hintRow->setContentsMargins(0, 0, 0, 0);
    hintRow->addWidget(hintLabel);
    hintRow->addWidget(usePortButton, 0, Qt::AlignLeft);
    form->addRow(hintRow);

    // ---- who
    userEdit = new QLineEdit(content);
    userEdit->setObjectName(keyName("user"));
    userEdit->setAccessibleName(tr("User name"));
    userEdit->setToolTip(tr("Empty: no authentication"));
    form->addRow(tr("U&ser:"), userEdit);

    passwordEdit = new QLineEdit(content);
    passwordEdit->setObjectName(keyName("password"));
    passwordEdit->setAccessibleName(tr("Password"));
    passwordEdit->setEchoMode(QLineEdit::Password);
    passwordEdit->setToolTip(tr("Password, or the access token for XOAUTH2 and OAUTHBEARER. Saved in the system "
                                "keychain only"));
    showPasswordButton = new QToolButton(content);
    showPasswordButton->setObjectName(QStringLiteral("showPasswordButton"));
    showPasswordButton->setAccessibleName(tr("Show password"));
    showPasswordButton->setToolTip(tr("Show or hide the password"));
    showPasswordButton->setText(tr("Show"));
    showPasswordButton->setCheckable(true);
    auto *passwordRow = new QHBoxLayout;
    passwordRow->setContentsMargins(0, 0, 0, 0);
    passwordRow->addWidget(passwordEdit, 1);
    passwordRow->addWidget(showPasswordButton);
    form->addRow(tr("Pass&word:"), passwordRow);
    // A row holding a layout gets no buddy by itself: give the mnemonic one.
    if (auto *label = qobject_cast<QLabel *>(form->labelForField(passwordRow)))
        label->setBuddy(passwordEdit);

    mechanismCombo = new QComboBox(content);
    mechanismCombo->setObjectName(keyName("mechanism"));
    mechanismCombo->setAccessibleName(tr("Authentication mechanism"));
    mechanismCombo->setToolTip(tr("SASL mechanism (RFC 4954); auto: the strongest the server offers"));
    mechanismCombo->addItem(tr("auto"), QString());
    for (const QString &m : ConnectionSettings::mechanisms())
        mechanismCombo->addItem(m, m);
    form->addRow(tr("&Mechanism:"), mechanismCombo);

    plaintextAuthCheck = new QCheckBox(tr("Allow AUTH without TLS"), content);
    plaintextAuthCheck->setObjectName(keyName("allow_plaintext_auth"));
    plaintextAuthCheck->setAccessibleName(tr("Allow authentication without TLS"));
    plaintextAuthCheck->setToolTip(tr("Send the credentials even when the session is not encrypted (RFC 4954 4 "
                                      "advises against it); off: the client stops before AUTH instead"));
    form->addRow(QString(), plaintextAuthCheck);

    verifyCheck = new QCheckBox(tr("Verify certificates"), content);
    verifyCheck->setObjectName(keyName("verify_peer"));
    verifyCheck->setAccessibleName(tr("Verify certificates"));
    verifyCheck->setToolTip(tr("Check the server certificate against the trusted CAs and the host name. Turn "
                               "off only for a test server you control"));
    form->addRow(QString(), verifyCheck);
    verifyWarning = makeNoteLabel(content, QStringLiteral("verifyWarningLabel"),
                                  tr("Certificate verification warning"));
    verifyWarning->setText(tr("Certificate verification is OFF: anyone between you and the server can pose as the "
                              "server and read the password and the messages. Every report of this session will "
                              "say so."));
    form->addRow(verifyWarning);

    // Keychain answers and profiles that could not be read in full.
    keychainLabel = makeNoteLabel(content, QStringLiteral("keychainLabel"), tr("Profile storage status"));
    form->addRow(keychainLabel);

    // ---- advanced: rarely changed, collapsed by default
    advancedToggle = new QToolButton(content);
    advancedToggle->setObjectName(QStringLiteral("advancedToggle"));
    advancedToggle->setAccessibleName(tr("Advanced settings"));
    advancedToggle->setToolTip(tr("Show or hide CA file, TLS and EHLO names, timeouts, extensions, test mode "
                                  "and warning thresholds"));
    advancedToggle->setText(tr("Advanced"));
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
    caFileEdit->setObjectName(keyName("ca_file"));
    caFileEdit->setAccessibleName(tr("CA file"));
    caFileEdit->setPlaceholderText(tr("system CAs"));
    caFileEdit->setToolTip(tr("PEM file of CA certificates to trust (a private or test CA). Cleared when the "
                              "profile is pointed at another server"));
    caBrowseButton = new QToolButton(advancedBox);
    caBrowseButton->setObjectName(QStringLiteral("caBrowseButton"));
    caBrowseButton->setAccessibleName(tr("Browse for CA file"));
    caBrowseButton->setToolTip(tr("Choose a PEM file of CA certificates"));
    caBrowseButton->setText(QStringLiteral("…"));
    auto *caRow = new QHBoxLayout;
    caRow->setContentsMargins(0, 0, 0, 0);
    caRow->addWidget(caFileEdit, 1);
    caRow->addWidget(caBrowseButton);
    adv->addRow(tr("&CA file:"), caRow);
    if (auto *label = qobject_cast<QLabel *>(adv->labelForField(caRow)))
        label->setBuddy(caFileEdit);

    tlsNameEdit = new QLineEdit(advancedBox);
    tlsNameEdit->setObjectName(keyName("peer_name"));
    tlsNameEdit->setAccessibleName(tr("TLS name"));
    tlsNameEdit->setPlaceholderText(tr("the host"));
    tlsNameEdit->setToolTip(tr("The name the certificate must carry, when it is not the host (connecting to an "
                               "address or a tunnel); also sent as SNI. Cleared when the profile is pointed at "
                               "another server"));
    adv->addRow(tr("&TLS name:"), tlsNameEdit);

    ehloEdit = new QLineEdit(advancedBox);
    ehloEdit->setObjectName(keyName("ehlo_name"));
    ehloEdit->setAccessibleName(tr("EHLO name"));
    ehloEdit->setToolTip(tr("This client's name in EHLO/HELO (RFC 5321 4.1.1.1): a host name or an address "
                            "literal such as [192.0.2.1]"));
    adv->addRow(tr("&EHLO name:"), ehloEdit);

    auto makeSeconds = [this](const char *key, const QString &name, const QString &tip) {
        auto *spin = new QDoubleSpinBox(advancedBox);
        spin->setObjectName(keyName(key));
        spin->setAccessibleName(name);
        spin->setToolTip(tip);
        spin->setDecimals(1);
        spin->setRange(0.1, 86400.0);
        spin->setSuffix(tr(" s"));
        return spin;
    };
    connectTimeoutSpin = makeSeconds("connect_timeout_ms", tr("Connect timeout"),
                                     tr("How long to wait for the TCP connection and the TLS handshake"));
    adv->addRow(tr("Co&nnect timeout:"), connectTimeoutSpin);
    readTimeoutSpin = makeSeconds("read_timeout_ms", tr("Read timeout"),
                                  tr("How long to wait for each server reply but the one to the end of data"));
    adv->addRow(tr("&Read timeout:"), readTimeoutSpin);
    dataTimeoutSpin = makeSeconds("data_timeout_ms", tr("Data timeout"),
                                  tr("How long to wait for the reply to the end of the message data (RFC 5321 "
                                     "4.5.3.2.6 suggests 10 minutes)"));
    adv->addRow(tr("Dat&a timeout:"), dataTimeoutSpin);

    pipeliningCheck = new QCheckBox(tr("Use PIPELINING when offered"), advancedBox);
    pipeliningCheck->setObjectName(keyName("pipelining"));
    pipeliningCheck->setAccessibleName(tr("Pipelining"));
    pipeliningCheck->setToolTip(tr("Send MAIL, RCPT and DATA without waiting for each reply when the server "
                                   "offers PIPELINING (RFC 2920)"));
    adv->addRow(pipeliningCheck);
    chunkingCheck = new QCheckBox(tr("Use CHUNKING (BDAT) when offered"), advancedBox);
    chunkingCheck->setObjectName(keyName("chunking"));
    chunkingCheck->setAccessibleName(tr("Chunking"));
    chunkingCheck->setToolTip(tr("Send the message with BDAT instead of DATA when the server offers CHUNKING "
                                 "(RFC 3030)"));
    adv->addRow(chunkingCheck);
    testModeCheck = new QCheckBox(tr("Test mode (no connection)"), advancedBox);
    testModeCheck->setObjectName(keyName("test_mode"));
    testModeCheck->setAccessibleName(tr("Test mode"));
    testModeCheck->setToolTip(tr("Simulate the whole session without connecting: shows the transcript that "
                                 "would be sent"));
    adv->addRow(testModeCheck);
    keepAliveCheck = new QCheckBox(tr("Keep the session open between sends"), advancedBox);
    keepAliveCheck->setObjectName(keyName("keep_alive"));
    keepAliveCheck->setAccessibleName(tr("Keep alive"));
    keepAliveCheck->setToolTip(tr("Reuse the connection for the next message (RSET between)"));
    adv->addRow(keepAliveCheck);
    showSecretsCheck = new QCheckBox(tr("Show secrets in the transcript"), advancedBox);
    showSecretsCheck->setObjectName(keyName("show_secrets"));
    showSecretsCheck->setAccessibleName(tr("Show secrets"));
    showSecretsCheck->setToolTip(tr("Show AUTH data unredacted in the transcript and events of this session"));
    adv->addRow(showSecretsCheck);

    warningMsSpin = new QSpinBox(advancedBox);
    warningMsSpin->setObjectName(keyName("warn_slow_ms"));
    warningMsSpin->setAccessibleName(tr("Slow operation warning threshold"));
    warningMsSpin->setToolTip(tr("Warn when one socket operation takes longer than this (0: off)"));
    warningMsSpin->setRange(0, 3600000);
    warningMsSpin->setSuffix(tr(" ms"));
    warningMsSpin->setSpecialValueText(tr("off"));
    adv->addRow(tr("Warn &slower than:"), warningMsSpin);
    warningBpsSpin = new QSpinBox(advancedBox);
    warningBpsSpin->setObjectName(keyName("warn_min_bytes_per_second"));
    warningBpsSpin->setAccessibleName(tr("Low throughput warning threshold"));
    warningBpsSpin->setToolTip(tr("Warn when a transfer runs below this rate (0: off)"));
    warningBpsSpin->setRange(0, INT_MAX);
    warningBpsSpin->setSuffix(tr(" B/s"));
    warningBpsSpin->setSpecialValueText(tr("off"));
    adv->addRow(tr("Warn &below:"), warningBpsSpin);

    problemLabel = makeNoteLabel(content, QStringLiteral("problemLabel"), tr("Settings problem"));
    form->addRow(problemLabel);

    const bool canStore = store != nullptr;
    saveButton->setEnabled(canStore);
    saveAsButton->setEnabled(canStore);
    deleteButton->setEnabled(canStore);
    if (!canStore)
        profileCombo->setToolTip(tr("Profiles cannot be saved here"));
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
            urlEdit->setText(current.settings.toUrl());
            updating = false;
        }
    });
    QObject::connect(hostEdit, &QLineEdit::textEdited, q, [this](const QString &text) {
        QString host = text.trimmed();
        // The field holds the bare address; brackets belong to the URL form only.
        if (host.startsWith(u'[') && host.endsWith(u']'))
            host = host.mid(1, host.size() - 2);
        const QString oldHost = current.settings.host;
        current.settings.host = host;
        targetChanged(oldHost, current.settings.port);
        fieldEdited();
    });
    QObject::connect(portSpin, &QSpinBox::valueChanged, q, [this](int value) {
        if (updating)
            return;
        const quint16 oldPort = current.settings.port;
        current.settings.port = quint16(value);
        targetChanged(current.settings.host, oldPort);
        fieldEdited();
    });
    QObject::connect(securityCombo, &QComboBox::currentIndexChanged, q, [this](int) {
        if (updating)
            return;
        if (const auto security = Smtp::securityFromName(securityCombo->currentData().toString()))
            current.settings.security = *security;
        fieldEdited();
    });
    QObject::connect(usePortButton, &QPushButton::clicked, q, [this] {
        if (const quint16 port = current.settings.suggestedPort())
            portSpin->setValue(port); // goes through valueChanged -> fieldEdited
    });
    QObject::connect(userEdit, &QLineEdit::textEdited, q, [this](const QString &text) {
        current.settings.user = text;
        fieldEdited();
    });
    QObject::connect(passwordEdit, &QLineEdit::textEdited, q, [this](const QString &text) {
        current.setSecret(text);
        refreshIndicators();
        Q_EMIT q->profileChanged();
    });
    QObject::connect(showPasswordButton, &QToolButton::toggled, q, [this](bool show) {
        passwordEdit->setEchoMode(show ? QLineEdit::Normal : QLineEdit::Password);
        showPasswordButton->setText(show ? tr("Hide") : tr("Show"));
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
                     otherField([this](int) { current.setMechanism(mechanismCombo->currentData().toString()); }));
    QObject::connect(plaintextAuthCheck, &QCheckBox::toggled, q,
                     otherField([this](bool on) { current.settings.allowPlaintextAuth = on; }));
    QObject::connect(verifyCheck, &QCheckBox::toggled, q, otherField([this](bool on) { current.settings.verifyPeer = on; }));
    QObject::connect(caFileEdit, &QLineEdit::textChanged, q,
                     otherField([this](const QString &text) { current.settings.caFile = text; }));
    QObject::connect(caBrowseButton, &QToolButton::clicked, q, [this] {
        const QString start = current.settings.caFile.isEmpty() ? QDir::homePath() : current.settings.caFile;
        const QString file = QFileDialog::getOpenFileName(q, tr("CA certificates"), start,
                                                          tr("PEM certificates (*.pem *.crt *.cer);;All files (*)"));
        if (!file.isEmpty())
            caFileEdit->setText(file); // textChanged updates the profile
    });
    QObject::connect(tlsNameEdit, &QLineEdit::textChanged, q,
                     otherField([this](const QString &text) { current.settings.peerName = text.trimmed(); }));
    QObject::connect(ehloEdit, &QLineEdit::textChanged, q,
                     otherField([this](const QString &text) { current.settings.ehloName = text; }));
    QObject::connect(connectTimeoutSpin, &QDoubleSpinBox::valueChanged, q,
                     otherField([this](double sec) { current.settings.connectTimeoutMs = qRound(sec * 1000.0); }));
    QObject::connect(readTimeoutSpin, &QDoubleSpinBox::valueChanged, q,
                     otherField([this](double sec) { current.settings.readTimeoutMs = qRound(sec * 1000.0); }));
    QObject::connect(dataTimeoutSpin, &QDoubleSpinBox::valueChanged, q,
                     otherField([this](double sec) { current.settings.dataTimeoutMs = qRound(sec * 1000.0); }));
    QObject::connect(pipeliningCheck, &QCheckBox::toggled, q, otherField([this](bool on) { current.settings.pipelining = on; }));
    QObject::connect(chunkingCheck, &QCheckBox::toggled, q, otherField([this](bool on) { current.settings.chunking = on; }));
    QObject::connect(testModeCheck, &QCheckBox::toggled, q, otherField([this](bool on) { current.settings.testMode = on; }));
    QObject::connect(keepAliveCheck, &QCheckBox::toggled, q, otherField([this](bool on) { current.settings.keepAlive = on; }));
    QObject::connect(showSecretsCheck, &QCheckBox::toggled, q, otherField([this](bool on) { current.settings.showSecrets = on; }));
    QObject::connect(warningMsSpin, &QSpinBox::valueChanged, q, otherField([this](int v) { current.settings.warnSlowMs = v; }));
    QObject::connect(warningBpsSpin, &QSpinBox::valueChanged, q,
                     otherField([this](int v) { current.settings.warnMinBytesPerSecond = v; }));

    QObject::connect(advancedToggle, &QToolButton::toggled, q, [this](bool open) {
        advancedToggle->setArrowType(open ? Qt::DownArrow : Qt::RightArrow);
        advancedBox->setVisible(open);
    });

    QObject::connect(profileCombo, &QComboBox::activated, q, [this](int index) {
        loadNamed(profileCombo->itemData(index).toString());
    });
    QObject::connect(saveButton, &QPushButton::clicked, q, [this] { save(); });
    QObject::connect(saveAsButton, &QPushButton::clicked, q, [this] { saveAs(); });
    QObject::connect(revertButton, &QPushButton::clicked, q, [this] { revert(); });
    QObject::connect(deleteButton, &QPushButton::clicked, q, [this] { removeCurrent(); });
    if (store) {
        QObject::connect(store, &ProfileStore::keychainError, q,
                         [this](const QString &message) { showStoreMessage(message); });
    }
}

void ConnectionPanel::Private::fieldEdited()
{
    if (updating)
        return;
    // Fields win over a half-typed URL: rewrite it from the profile.
    urlError.clear();
    updating = true;
    urlEdit->setText(current.settings.toUrl());
    updating = false;
    refreshIndicators();
    Q_EMIT q->profileChanged();
}

void ConnectionPanel::Private::targetChanged(const QString &oldHost, quint16 oldPort)
{
    const ConnectionSettings &home = saved.settings;
    ConnectionSettings &s = current.settings;
    const bool wasHome = sameTarget(home, oldHost, oldPort);
    const bool isHome = sameTarget(home, s.host, s.port);
    const QString nameBefore = current.name;
    if (wasHome && !isHome) {
        // The CA file and the TLS name vouched for the saved target's
        // certificate; checked against another server they would make a
        // verification pass or fail for the wrong reason (docs/security.md,
        // section B). Values chosen since are the user's and stay.
        if (s.caFile == home.caFile)
            s.caFile.clear();
        if (s.peerName == home.peerName)
            s.peerName.clear();
        if (current.nameDescribesTarget) {
            current.nameDescribesTarget = false;
            nameFromTarget = true;
        }
    } else if (!wasHome && isHome) {
        // Back at the saved target: its trust settings apply again.
        if (s.caFile.isEmpty())
            s.caFile = home.caFile;
        if (s.peerName.isEmpty())
            s.peerName = home.peerName;
        if (nameFromTarget) {
            current.name = saved.name;
            current.nameDescribesTarget = saved.nameDescribesTarget;
            nameFromTarget = false;
        }
    }
    if (nameFromTarget) {
        const QString host = s.host.trimmed();
        current.name = host.isEmpty() ? QString::fromLatin1(ConnectionProfile::DefaultName) : host;
    }
    fillTrustFields();
    if (current.name != nameBefore)
        refreshProfileCombo();
}

void ConnectionPanel::Private::urlEdited(const QString &text)
{
    if (updating)
        return;
    SmtpError error;
    if (const auto parsed = ConnectionSettings::fromUrl(text, current.settings, &error)) {
        urlError.clear();
        const QString oldHost = current.settings.host;
        const quint16 oldPort = current.settings.port;
        current.settings = *parsed;
        current.normaliseSecret(); // a password typed into the URL is the token for XOAUTH2
        targetChanged(oldHost, oldPort);
        fillUrlFields();
    } else {
        // Keep the fields as they were; say why the URL is not taken.
        urlError = error.message.isEmpty() ? tr("the URL cannot be parsed") : error.message;
    }
    refreshIndicators();
    Q_EMIT q->profileChanged();
}

void ConnectionPanel::Private::fillUrlFields()
{
    const bool was = updating;
    updating = true;
    hostEdit->setText(current.settings.host);
    portSpin->setValue(current.settings.port);
    securityCombo->setCurrentIndex(securityCombo->findData(current.settings.securityName()));
    userEdit->setText(current.settings.user);
    if (passwordEdit->text() != current.secret())
        passwordEdit->setText(current.secret());
    updating = was;
}

void ConnectionPanel::Private::fillTrustFields()
{
    const bool was = updating;
    updating = true;
    if (caFileEdit->text() != current.settings.caFile)
        caFileEdit->setText(current.settings.caFile);
    if (tlsNameEdit->text() != current.settings.peerName)
        tlsNameEdit->setText(current.settings.peerName);
    updating = was;
}

void ConnectionPanel::Private::fillWidgets()
{
    const ConnectionSettings &s = current.settings;
    updating = true;
    fillUrlFields();
    urlEdit->setText(s.toUrl());
    urlError.clear();
    int mech = mechanismCombo->findData(s.mechanism.toUpper());
    if (mech < 0) {
        // A mechanism this build does not list (a hand-edited profile): show it
        // rather than silently switching to auto.
        mechanismCombo->addItem(s.mechanism, s.mechanism);
        mech = mechanismCombo->count() - 1;
    }
    mechanismCombo->setCurrentIndex(mech);
    plaintextAuthCheck->setChecked(s.allowPlaintextAuth);
    verifyCheck->setChecked(s.verifyPeer);
    fillTrustFields();
    ehloEdit->setText(s.ehloName);
    connectTimeoutSpin->setValue(s.connectTimeoutMs / 1000.0);
    readTimeoutSpin->setValue(s.readTimeoutMs / 1000.0);
    dataTimeoutSpin->setValue(s.dataTimeoutMs / 1000.0);
    pipeliningCheck->setChecked(s.pipelining);
    chunkingCheck->setChecked(s.chunking);
    testModeCheck->setChecked(s.testMode);
    keepAliveCheck->setChecked(s.keepAlive);
    showSecretsCheck->setChecked(s.showSecrets);
    warningMsSpin->setValue(s.warnSlowMs);
    warningBpsSpin->setValue(s.warnMinBytesPerSecond);
    updating = false;
    refreshProfileCombo();
    refreshIndicators();
}

void ConnectionPanel::Private::refreshIndicators()
{
    urlErrorLabel->setText(urlError.isEmpty() ? QString() : tr("URL not used: %1").arg(urlError));
    urlErrorLabel->setVisible(!urlError.isEmpty());

    const QString hint = current.settings.mismatchHint();
    hintLabel->setText(hint);
    hintLabel->setVisible(!hint.isEmpty());
    const quint16 suggested = current.settings.suggestedPort();
    usePortButton->setText(tr("Use port %1").arg(suggested));
    usePortButton->setVisible(suggested != 0);

    // Persistent, not a one-off dialog: the choice must stay in view.
    verifyWarning->setVisible(!current.settings.verifyPeer);

    const QString problem = urlError.isEmpty() ? current.settings.validationProblem() : QString();
    problemLabel->setText(problem);
    problemLabel->setVisible(!problem.isEmpty());

    // The modified mark: on the profile's name in the selector, explained by its
    // tooltip, cleared by Save and Revert.
    const bool isModified = modified();
    const int index = profileCombo->findData(current.name);
    if (index >= 0) {
        const QString shown = isModified ? tr("%1 (modified)").arg(current.name) : current.name;
        if (profileCombo->itemText(index) != shown)
            profileCombo->setItemText(index, shown);
    }
    QString tip;
    if (!store)
        tip = tr("Profiles cannot be saved here");
    else if (!isModified)
        tip = tr("Saved connection profiles; choosing one loads it");
    else if (current.name != saved.name)
        tip = tr("These settings were \"%1\" and now point at another server; Save keeps them as \"%2\", Revert "
                 "goes back")
                  .arg(saved.name, current.name);
    else
        tip = tr("Changed since \"%1\" was loaded or saved; Save keeps the changes, Revert discards them")
                  .arg(current.name);
    profileCombo->setToolTip(tip);
    profileCombo->setProperty("modified", isModified);
    revertButton->setEnabled(isModified);
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
    // Item data: the name; the text may carry the modified mark.
    for (const QString &name : std::as_const(names))
        profileCombo->addItem(name, name);
    profileCombo->setCurrentIndex(names.indexOf(current.name));
    deleteButton->setEnabled(store && store->names().contains(current.name));
}

void ConnectionPanel::Private::showStoreMessage(const QString &message)
{
    keychainLabel->setText(message);
    keychainLabel->setVisible(!message.isEmpty());
}

void ConnectionPanel::Private::reset(const ConnectionProfile &profile)
{
    current = profile;
    saved = profile;
    nameFromTarget = false;
}

void ConnectionPanel::Private::loadNamed(const QString &name)
{
    if (!store)
        return;
    QString problem;
    const auto loaded = store->load(name, &problem);
    if (!loaded)
        return;
    q->setProfile(*loaded);
    showStoreMessage(problem);
    store->setLastUsed(name);
    requestPassword(name);
}

void ConnectionPanel::Private::requestPassword(const QString &name)
{
    // No user, no password to restore (and no keychain prompt for nothing).
    if (!store || current.settings.user.isEmpty())
        return;
    QPointer<ConnectionPanel> panel(q);
    store->loadPassword(name, [panel, this, name](const QString &password, const QString &) {
        // Runs on the store's (GUI) thread. Ignore a late answer for a profile
        // no longer shown, or when the user has typed a password meanwhile.
        if (!panel || password.isEmpty() || current.name != name || !current.secret().isEmpty())
            return;
        current.setSecret(password);
        // Part of the saved form: it came from the keychain, not from an edit.
        if (saved.name == name && saved.secret().isEmpty())
            saved.setSecret(password);
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
    showStoreMessage({});
    // Saved under its name, the profile is the user's: its name no longer
    // follows the target.
    current.nameDescribesTarget = false;
    store->save(current);
    store->setLastUsed(current.name);
    saved = current;
    nameFromTarget = false;
    refreshProfileCombo();
    refreshIndicators();
}

void ConnectionPanel::Private::saveAs()
{
    if (!store)
        return;
    bool ok = false;
    const QString name = QInputDialog::getText(q, tr("Save profile as"), tr("Profile name:"), QLineEdit::Normal,
                                               current.name, &ok)
                             .trimmed();
    if (!ok || name.isEmpty())
        return;
    current.name = name;
    save();
    Q_EMIT q->profileChanged();
}

void ConnectionPanel::Private::revert()
{
    if (!modified())
        return;
    current = saved;
    nameFromTarget = false;
    fillWidgets();
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
    setAccessibleName(tr("Connection"));
    d->build();
    d->connectSignals();

    QString passwordFor;
    QString problem;
    if (store) {
        const QString last = store->lastUsed();
        if (const auto loaded = last.isEmpty() ? std::nullopt : store->load(last, &problem)) {
            d->reset(*loaded);
            passwordFor = last;
        }
    }
    d->fillWidgets();
    d->showStoreMessage(problem);
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
    d->reset(profile);
    d->fillWidgets();
    if (changed)
        Q_EMIT profileChanged();
}

bool ConnectionPanel::isModified() const
{
    return d->modified();
}

QString ConnectionPanel::problem() const
{
    if (!d->urlError.isEmpty())
        return tr("URL: %1").arg(d->urlError);
    return d->current.settings.validationProblem();
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
