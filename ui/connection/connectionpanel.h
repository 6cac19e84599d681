#pragma once
// The connection panel: URL field kept in sync with host, port and the security
// selector; a control for every other ConnectionSettings field (its objectName
// is the field key): user, password or token, SASL mechanism, plaintext AUTH,
// "verify certificates" (a persistent warning when off), CA file, TLS and EHLO
// names, timeouts, pipelining, chunking, test mode, keep-alive, secrets, warning
// thresholds; named profiles (ProfileStore) with save/revert/delete and a
// "modified" mark; a port/security mismatch hint. Pointing the profile at
// another host or port drops the trust settings of the saved target.

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
    // Shows `profile` as the saved form (not modified).
    void setProfile(const ConnectionProfile &profile);
    // What is wrong with the current settings (settings.validationProblem(), or
    // an unparsable URL being typed), or empty.
    [[nodiscard]] QString problem() const;
    // The profile differs from the form it was loaded, set or saved in.
    [[nodiscard]] bool isModified() const;
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
