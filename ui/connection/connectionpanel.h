#pragma once
// The connection panel: URL field kept in sync with host, port and the security
// selector; user, password, SASL mechanism, CA file, "verify certificates" (a
// persistent warning when off), EHLO name, timeouts, test mode, keep-alive, warning
// thresholds; named profiles (ProfileStore) with save/delete; a port/security
// mismatch hint.

#include "connectionprofile.h"

#include <QWidget>
#include <memory>

class ProfileStore;

class ConnectionPanel : public QWidget
{
    Q_OBJECT

public:
    // `store` may be nullptr (no saving). The panel shows the store's last used
    // profile, or the default.
    explicit ConnectionPanel(ProfileStore *store, QWidget *parent = nullptr);
    ~ConnectionPanel() override;

    [[nodiscard]] ConnectionProfile profile() const;
    void setProfile(const ConnectionProfile &profile);
    // What is wrong with the current settings (profile().validationProblem(), or
    // an unparsable URL being typed), or empty.
    [[nodiscard]] QString problem() const;
    // Moves keyboard focus to the host field (a shortcut of the main window).
    void focusHost();

Q_SIGNALS:
    void profileChanged();

protected:
    // Re-derives the warning and error colours when the palette changes (light
    // and dark system themes).
    void changeEvent(QEvent *event) override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};
