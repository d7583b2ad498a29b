"""Settings → Accounts: broker accounts on the left, the selected account's form on the right.

:class:`AccountsController` (a QObject) sits between the dialog and the
:class:`~magnus_desktop.services.session.BrokerSessionManager`: it re-emits the manager's events as Qt
signals and owns the ``@asyncSlot`` coroutines; the dialog never calls the service.

The form is validated by :class:`AccountConfig` after every edit (errors in red beside their field;
Save stays disabled until the form is valid). Password and TOTP fields are write-only: they say
whether a secret is stored in the keyring and never show it; what is typed goes to the keyring only.

Use::

    controller = AccountsController(manager, window)     # long-lived (main window / view model)
    dialog = AccountsDialog(controller, window)
    dialog.show()
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from magnus_desktop.services.credentials import BackendInfo, CredentialsError
from magnus_desktop.services.session import (
    SECRET_NAMES,
    BrokerSessionManager,
    SessionStatus,
    normalize_totp_secret,
)
from magnus_desktop.services.settings import (
    DEMO_ACCOUNT,
    IB_PORTS,
    AccountConfig,
    SettingsSaveError,
    field_errors,
)
from magnus_desktop.ui.settings.dialog import error_color, error_label

log = logging.getLogger(__name__)

#: (dark theme, light theme) text colours with >= 4.5:1 contrast on the theme's window colour
WARNING_COLORS = ("#e0a040", "#8a5200")
OK_COLORS = ("#4cbb6c", "#1f6b35")
KIND_NAMES = [("Paper (replay)", "paper"), ("Interactive Brokers (TWS / Gateway)", "ib"), ("Robinhood", "robinhood")]
KIND_SHORT = {"paper": "Paper", "ib": "Interactive Brokers", "robinhood": "Robinhood"}
#: form fields per kind (the rest are hidden)
KIND_FIELDS = {"paper": (), "ib": ("host", "port", "client_id", "ib_account"), "robinhood": ("username",)}
USER_ERRORS = (ValidationError, ValueError, KeyError, CredentialsError, SettingsSaveError, OSError)


def _message(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, loc)) or 'account'}: {reason}" for loc, reason in field_errors(exc))
    if isinstance(exc, KeyError) and type(exc) is KeyError:
        return f"There is no account named {exc.args[0]!r}"
    return str(exc)


class AccountsController(QObject):
    """Qt face of the broker session manager for the Accounts dialog and the status bar.

    Signals:
        accounts_changed(list, str): all accounts (AccountConfig) and the active account's name.
        status_changed(SessionStatus): the active session's state changed.
        secrets_loaded(str, dict): account name → {secret name: stored?} (never values).
        backend_loaded(BackendInfo): the keyring backend.
        test_finished(SessionStatus): result of "Test connection".
        saved(str): an account was saved under this name.
        failed(str): an action failed; the message is for the user.
        busy_changed(bool): an action is running.
        challenge_requested(str, str): account, kind ("sms", "email", "app", "mfa"); answer with
            :meth:`answer_challenge`.
    """

    accounts_changed = Signal(list, str)
    status_changed = Signal(object)
    secrets_loaded = Signal(str, object)
    backend_loaded = Signal(object)
    test_finished = Signal(object)
    saved = Signal(str)
    failed = Signal(str)
    busy_changed = Signal(bool)
    challenge_requested = Signal(str, str)

    def __init__(self, manager: BrokerSessionManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._manager = manager
        self._busy = 0
        manager.state_changed.connect(self._on_manager_state_changed)
        manager.accounts_changed.connect(self._on_manager_accounts_changed)
        manager.challenge_requested.connect(self._on_manager_challenge_requested)

    def detach(self) -> None:
        """Stop listening to the manager (call before the controller is destroyed)."""
        self._manager.state_changed.disconnect(self._on_manager_state_changed)
        self._manager.accounts_changed.disconnect(self._on_manager_accounts_changed)
        self._manager.challenge_requested.disconnect(self._on_manager_challenge_requested)

    # ---- reading (snapshots; no I/O) ----------------------------------------------------------
    def accounts(self) -> list[AccountConfig]:
        return self._manager.accounts

    def active_name(self) -> str:
        return self._manager.settings.active_account

    def status(self) -> SessionStatus:
        return self._manager.status()

    # ---- manager events -----------------------------------------------------------------------
    def _on_manager_state_changed(self, account: str, state: str, reason: str) -> None:
        self.status_changed.emit(self._manager.status())

    def _on_manager_accounts_changed(self) -> None:
        self.accounts_changed.emit(self._manager.accounts, self.active_name())

    def _on_manager_challenge_requested(self, account: str, kind: str) -> None:
        self.challenge_requested.emit(account, kind)

    def answer_challenge(self, code: str | None) -> None:
        """Send the verification code the user typed (None cancels the sign-in)."""
        self._manager.answer_challenge(code)

    # ---- actions ------------------------------------------------------------------------------
    def _set_busy(self, delta: int) -> None:
        before = self._busy > 0
        self._busy += delta
        if (self._busy > 0) != before:
            self.busy_changed.emit(self._busy > 0)

    @asyncSlot()
    async def load_backend(self) -> None:
        try:
            self.backend_loaded.emit(await self._manager.backend_info())
        except CredentialsError as exc:
            self.failed.emit(str(exc))

    @asyncSlot(str)
    async def load_secrets(self, name: str) -> None:
        """Which secrets of ``name`` are stored (``secrets_loaded``); a locked keyring → ``failed``."""
        try:
            self.secrets_loaded.emit(name, await self._manager.secret_status(name))
        except USER_ERRORS as exc:
            self.failed.emit(f"Cannot tell whether secrets are stored for {name!r}: {_message(exc)}")

    @asyncSlot(object, object, object)
    async def save(self, previous_name: str | None, account: AccountConfig, secrets: Mapping[str, str]) -> None:
        """Save ``account`` (new when ``previous_name`` is None), then its typed ``secrets`` to the keyring."""
        self._set_busy(1)
        try:
            try:
                await self._manager.save_account(account, previous_name=previous_name)
            except USER_ERRORS as exc:
                self.failed.emit(f"The account was not saved: {_message(exc)}")
                return
            if secrets:
                try:
                    await self._manager.save_secrets(account.name, secrets)
                except USER_ERRORS as exc:
                    self.saved.emit(account.name)
                    self.failed.emit(f"The account was saved, but its secrets were not: {_message(exc)}")
                    return
            self.saved.emit(account.name)
            self.secrets_loaded.emit(account.name, await self._secret_status_or_none(account.name))
        finally:
            self._set_busy(-1)

    async def _secret_status_or_none(self, name: str) -> dict[str, bool]:
        try:
            return await self._manager.secret_status(name)
        except USER_ERRORS:
            return {}

    @asyncSlot(str)
    async def delete(self, name: str) -> None:
        await self._run(f"{name!r} was not removed", self._manager.delete_account(name))

    @asyncSlot(str)
    async def make_active(self, name: str) -> None:
        await self._run(f"Could not switch to {name!r}", self._manager.switch(name))

    @asyncSlot(str)
    async def test_connection(self, name: str) -> None:
        self._set_busy(1)
        try:
            status = await self._manager.test_connection(name)
        except USER_ERRORS as exc:
            self.failed.emit(f"Could not test {name!r}: {_message(exc)}")
        else:
            self.test_finished.emit(status)
        finally:
            self._set_busy(-1)

    @asyncSlot(int)
    async def retry_with_client_id(self, client_id: int) -> None:
        await self._run("Could not retry with another client id", self._manager.retry_with_client_id(client_id))

    async def _run(self, what: str, action: Any) -> None:
        self._set_busy(1)
        try:
            await action
        except USER_ERRORS as exc:
            self.failed.emit(f"{what}: {_message(exc)}")
        finally:
            self._set_busy(-1)


class AccountsDialog(QDialog):
    """Settings → Accounts (non-modal). All actions go through ``controller``."""

    def __init__(self, controller: AccountsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Accounts — Magnus Desktop")
        self.setObjectName("accounts_dialog")
        self.controller = controller
        self._accounts: list[AccountConfig] = []
        self._active = DEMO_ACCOUNT
        self._editing: str | None = None  # name of the account in the form; None = a new account
        self._dirty = False
        self._loading = False
        self._busy = False
        self._backend = "the system keyring"
        self._secrets: dict[str, bool] = {}
        self._errors: dict[str, QLabel] = {}
        self._build()
        controller.accounts_changed.connect(self._on_accounts_changed)
        controller.status_changed.connect(self._on_status_changed)
        controller.secrets_loaded.connect(self._on_secrets_loaded)
        controller.backend_loaded.connect(self._on_backend_loaded)
        controller.test_finished.connect(self._on_test_finished)
        controller.saved.connect(self._on_saved)
        controller.failed.connect(self._show_problem)
        controller.busy_changed.connect(self._on_busy_changed)
        controller.challenge_requested.connect(self._on_challenge_requested)
        self._on_accounts_changed(controller.accounts(), controller.active_name())
        self._select(self._active)
        controller.load_backend()

    # ---- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        self.account_list = QListWidget()
        self.account_list.setMinimumWidth(220)
        self.account_list.setSpacing(3)
        self.account_list.currentItemChanged.connect(self._on_selection_changed)
        self.add_button = QPushButton("&Add")
        self.remove_button = QPushButton("&Remove")
        self.add_button.clicked.connect(self._on_add)
        self.remove_button.clicked.connect(self._on_remove)
        left = QVBoxLayout()
        left.addWidget(self.account_list, 1)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        left.addLayout(row)

        self.title_label = QLabel()
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.title_label.setFont(font)
        self.note_label = _muted_label("")
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.name_edit = QLineEdit()
        self.kind_combo = QComboBox()
        for text, kind in KIND_NAMES:
            self.kind_combo.addItem(text, kind)
        self.host_edit = QLineEdit()
        self.port_spin = QSpinBox()
        self.port_spin.setRange(1, 65535)
        self.port_preset = QComboBox()
        for text, port in IB_PORTS.items():
            self.port_preset.addItem(f"{text} ({port})", port)
        self.port_preset.addItem("Other", 0)
        self.client_id_spin = QSpinBox()
        self.client_id_spin.setRange(0, 2_147_483_647)
        self.ib_account_edit = QLineEdit()
        self.username_edit = QLineEdit()
        self.password_edit = _secret_edit()
        self.totp_edit = _secret_edit()
        self.live_check = QCheckBox("Live trading enabled")
        self.live_warning = QLabel()
        self.live_warning.setWordWrap(True)
        self.live_warning.setStyleSheet(f"color: {self._color('warning')};")
        self._rows: dict[str, QWidget] = {}
        self._add_row("name", "&Name", self.name_edit)
        self._add_row("kind", "&Kind", self.kind_combo)
        self._add_row("host", "&Host", self.host_edit)
        self._add_row("port", "&Port", self.port_spin, [self.port_preset])
        self._add_row("client_id", "&Client id", self.client_id_spin)
        self._add_row("ib_account", "Account &code", self.ib_account_edit)
        self._add_row("username", "&User name", self.username_edit)
        self._add_row("password", "Pass&word", self.password_edit)
        self._add_row("totp_secret", "&TOTP secret", self.totp_edit)
        self._add_row("live_trading_enabled", "", self.live_check, below=self.live_warning)
        for edit in (self.name_edit, self.host_edit, self.ib_account_edit, self.username_edit, self.password_edit,
                     self.totp_edit):
            edit.textEdited.connect(self._on_edited)
        self.kind_combo.currentIndexChanged.connect(self._on_edited)
        self.port_spin.valueChanged.connect(self._on_port_changed)
        self.port_preset.activated.connect(self._on_preset_chosen)
        self.client_id_spin.valueChanged.connect(self._on_edited)
        self.live_check.toggled.connect(self._on_edited)

        self.save_button = QPushButton("&Save")
        self.revert_button = QPushButton("Re&vert")
        self.active_button = QPushButton("&Make active")
        self.test_button = QPushButton("&Test connection")
        self.save_button.clicked.connect(self._on_save)
        self.revert_button.clicked.connect(self._on_revert)
        self.active_button.clicked.connect(self._on_make_active)
        self.test_button.clicked.connect(self._on_test)
        actions = QHBoxLayout()
        for button in (self.save_button, self.revert_button, self.active_button, self.test_button):
            actions.addWidget(button)
        actions.addStretch(1)

        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.client_id_button = QPushButton()
        self.client_id_button.setVisible(False)
        self.client_id_button.clicked.connect(self._on_use_next_client_id)
        self.challenge_label = QLabel()
        self.challenge_edit = QLineEdit()
        self.challenge_send = QPushButton("Send code")
        self.challenge_cancel = QPushButton("Cancel sign-in")
        self.challenge_send.clicked.connect(self._on_challenge_send)
        self.challenge_cancel.clicked.connect(lambda: self._answer_challenge(None))
        self.challenge_row = QWidget()
        challenge = QHBoxLayout(self.challenge_row)
        challenge.setContentsMargins(0, 0, 0, 0)
        for widget in (self.challenge_label, self.challenge_edit, self.challenge_send, self.challenge_cancel):
            challenge.addWidget(widget)
        self.challenge_row.setVisible(False)
        self.problem_label = error_label()
        self.problem_label.setObjectName("accounts_problem")
        self.backend_label = QLabel()
        self.backend_label.setWordWrap(True)

        right = QVBoxLayout()
        right.addWidget(self.title_label)
        right.addWidget(self.note_label)
        right.addLayout(self.form)
        right.addLayout(actions)
        right.addWidget(self.status_label)
        right.addWidget(self.client_id_button, 0, Qt.AlignmentFlag.AlignLeft)
        right.addWidget(self.challenge_row)
        right.addWidget(self.problem_label)
        right.addStretch(1)
        right.addWidget(self.backend_label)

        body = QHBoxLayout()
        body.addLayout(left, 0)
        body.addLayout(right, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(buttons)
        self.resize(820, 560)

    def _add_row(self, field: str, text: str, editor: QWidget, extra: list[QWidget] | None = None,
                 below: QWidget | None = None) -> None:
        help_text = AccountConfig.model_fields[field].description if field in AccountConfig.model_fields else ""
        if field == "password":
            help_text = "Robinhood password; kept in the system keyring only, never shown again."
        elif field == "totp_secret":
            help_text = ("Base32 secret Robinhood shows when you choose an authenticator app (\"Can't scan it?\"); "
                         "kept in the system keyring only. Leave empty if you use SMS codes.")
        editor.setToolTip(help_text or "")
        error = error_label()
        self._errors[field] = error
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(editor, 1 if isinstance(editor, QLineEdit) else 0)
        for widget in extra or []:
            line.addWidget(widget)
        line.addStretch(0)
        cell = QWidget()
        box = QVBoxLayout(cell)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addLayout(line)
        box.addWidget(error)
        if below is not None:
            box.addWidget(below)
        label = QLabel(text)
        label.setBuddy(editor)
        self.form.addRow(label, cell)
        self._rows[field] = cell

    # ---- list ---------------------------------------------------------------------------------
    def _on_accounts_changed(self, accounts: list[AccountConfig], active: str) -> None:
        current = self._editing
        self._accounts, self._active = list(accounts), active
        self._loading = True
        try:
            self.account_list.clear()
            for account in self._accounts:
                item = QListWidgetItem(self._list_text(account))
                item.setData(Qt.ItemDataRole.UserRole, account.name)
                if account.name == active:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                self.account_list.addItem(item)
        finally:
            self._loading = False
        names = [a.name for a in self._accounts]
        if current in names and not self._dirty:
            self._select(current)
        elif current in names:
            self._highlight(current)
        elif current is not None:  # removed (here or elsewhere): show the active account
            self._dirty = False
            self._select(active)
        self._update_buttons()

    def _list_text(self, account: AccountConfig) -> str:
        text = f"{account.name}\n    {KIND_SHORT[account.kind]}"
        if account.name == self._active:
            text += " · active"
        if account.kind != "paper" and account.live_trading_enabled:
            text += " · LIVE"
        return text

    def _highlight(self, name: str | None) -> None:
        self._loading = True
        try:
            for i in range(self.account_list.count()):
                item = self.account_list.item(i)
                if item.data(Qt.ItemDataRole.UserRole) == name:
                    self.account_list.setCurrentItem(item)
                    break
            else:
                self.account_list.setCurrentItem(None)
        finally:
            self._loading = False

    def _select(self, name: str) -> None:
        self._highlight(name)
        account = next((a for a in self._accounts if a.name == name), None)
        if account is not None:
            self._load(account, name)

    def _on_selection_changed(self, current: QListWidgetItem | None, previous: QListWidgetItem | None) -> None:
        if self._loading or current is None:
            return
        name = current.data(Qt.ItemDataRole.UserRole)
        if self._dirty and name != self._editing:
            self._show_problem("Save or revert the changes to this account first.")
            self._highlight(self._editing)
            return
        self._select(name)

    # ---- form ---------------------------------------------------------------------------------
    def _load(self, account: AccountConfig, editing: str | None) -> None:
        self._loading = True
        try:
            self._editing = editing
            self.name_edit.setText(account.name)
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(account.kind))
            self.host_edit.setText(account.host)
            self.port_spin.setValue(account.port)
            self._sync_preset()
            self.client_id_spin.setValue(account.client_id)
            self.ib_account_edit.setText(account.ib_account)
            self.username_edit.setText(account.username)
            self.password_edit.clear()
            self.totp_edit.clear()
            self.live_check.setChecked(account.live_trading_enabled)
        finally:
            self._loading = False
        self._dirty = editing is None
        self._secrets = {}
        self.status_label.clear()
        self.client_id_button.setVisible(False)
        self._show_problem("")
        if editing is not None and SECRET_NAMES[account.kind]:
            self.controller.load_secrets(editing)
        if editing == self._active:
            self._on_status_changed(self.controller.status())
        self._refresh_form()

    def _form_data(self) -> dict[str, Any]:
        return {"name": self.name_edit.text(), "kind": self.kind_combo.currentData(), "host": self.host_edit.text(),
                "port": self.port_spin.value(), "client_id": self.client_id_spin.value(),
                "ib_account": self.ib_account_edit.text(), "username": self.username_edit.text(),
                "live_trading_enabled": self.live_check.isChecked()}

    def form_account(self) -> AccountConfig | None:
        """The form as an AccountConfig, or None while it is invalid (errors shown beside the fields)."""
        errors: dict[str, str] = {}
        account = None
        try:
            account = AccountConfig.model_validate(self._form_data())
        except ValidationError as exc:
            for loc, reason in field_errors(exc):
                field = str(loc[0]) if loc else ""
                if not field and ": " in reason and reason.split(": ", 1)[0] in self._errors:
                    field, reason = reason.split(": ", 1)
                errors.setdefault(field or "name", reason)
        name = self.name_edit.text().strip().casefold()
        if any(a.name.casefold() == name and a.name != self._editing for a in self._accounts):
            errors.setdefault("name", "another account has this name")
        if self.totp_edit.text():
            try:
                normalize_totp_secret(self.totp_edit.text())
            except ValueError as exc:
                errors["totp_secret"] = str(exc)
        for field, label in self._errors.items():
            label.setText(errors.get(field, ""))
            label.setVisible(field in errors)
        return account if not errors else None

    def typed_secrets(self) -> dict[str, str]:
        """Secrets typed into the write-only fields (only the ones this kind keeps)."""
        kind = self.kind_combo.currentData()
        typed = {"password": self.password_edit.text(), "totp_secret": self.totp_edit.text()}
        return {name: value for name, value in typed.items() if value and name in SECRET_NAMES[kind]}

    def field_error(self, field: str) -> str:
        label = self._errors[field]
        return label.text() if not label.isHidden() else ""

    def _on_edited(self, *_: object) -> None:
        if self._loading:
            return
        self._dirty = True
        self._show_problem("")
        self._refresh_form()

    def _on_port_changed(self, *_: object) -> None:
        self._sync_preset()
        self._on_edited()

    def _sync_preset(self) -> None:
        index = self.port_preset.findData(self.port_spin.value())
        self.port_preset.setCurrentIndex(index if index >= 0 else self.port_preset.count() - 1)

    def _on_preset_chosen(self, index: int) -> None:
        port = self.port_preset.itemData(index)
        if port:
            self.port_spin.setValue(port)

    def _refresh_form(self) -> None:
        kind = self.kind_combo.currentData()
        is_demo = self._editing == DEMO_ACCOUNT
        for field, row in self._rows.items():
            visible = field in ("name", "kind") or field in KIND_FIELDS[kind] or field in SECRET_NAMES[kind]
            if field == "live_trading_enabled":
                visible = kind != "paper"
            row.setVisible(visible)
            label = self.form.labelForField(row)
            if label is not None:
                label.setVisible(visible)
            row.setEnabled(not is_demo)
        self.title_label.setText(self._editing or "New account")
        self.note_label.setText(
            "The built-in paper account: orders fill against the replay (recorded market data); nothing is sent "
            "to a broker. It cannot be changed or removed." if is_demo else "")
        self.note_label.setVisible(is_demo)
        for name, edit in (("password", self.password_edit), ("totp_secret", self.totp_edit)):
            stored = self._secrets.get(name)
            edit.setPlaceholderText(f"stored in {self._backend} — type to replace" if stored
                                    else "not stored — type to save it in the keyring")
        broker = "Interactive Brokers" if kind == "ib" else "Robinhood"
        self.live_warning.setText(
            f"⚠ Orders you confirm will be sent to {broker} and executed with real money. Leave this off to "
            "practise: orders are then refused before anything is sent." if self.live_check.isChecked() else "")
        self.live_warning.setVisible(self.live_check.isChecked() and kind != "paper")
        self.form_account()
        self._update_buttons()

    def _update_buttons(self) -> None:
        valid = self.form_account() is not None if self._dirty else True
        saved = self._editing is not None and not self._dirty
        idle = not self._busy
        self.save_button.setEnabled(idle and self._dirty and valid and self._editing != DEMO_ACCOUNT)
        self.revert_button.setEnabled(idle and self._dirty)
        self.active_button.setEnabled(idle and saved and self._editing != self._active)
        self.test_button.setEnabled(idle and saved)
        self.test_button.setToolTip("" if saved else "Save the account first")
        self.remove_button.setEnabled(idle and not self._dirty and self._editing not in (None, DEMO_ACCOUNT))
        self.add_button.setEnabled(idle and not self._dirty)

    # ---- actions ------------------------------------------------------------------------------
    def _on_add(self) -> None:
        taken = {a.name.casefold() for a in self._accounts}
        n = 1
        while (name := f"New account {n}" if n > 1 else "New account").casefold() in taken:
            n += 1
        self._highlight(None)
        self._load(AccountConfig(name=name, kind="ib"), None)
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    def _on_save(self) -> None:
        account = self.form_account()
        if account is None:
            return
        self.controller.save(self._editing, account, self.typed_secrets())

    def _on_saved(self, name: str) -> None:
        self._dirty = False
        self._editing = name
        self.password_edit.clear()
        self.totp_edit.clear()
        self._select(name)

    def _on_revert(self) -> None:
        self._dirty = False
        target = self._editing if self._editing is not None else self._active
        self._select(target)

    def _on_remove(self) -> None:
        name = self._editing
        if name is None or name == DEMO_ACCOUNT or not self.confirm_remove(name):
            return
        self.controller.delete(name)

    def confirm_remove(self, name: str) -> bool:
        """Ask before removing ``name`` and its stored secrets (tests replace this)."""
        answer = QMessageBox.question(
            self, "Remove account",
            f"Remove {name!r}? Its password and TOTP secret are deleted from the keyring too.")
        return answer == QMessageBox.StandardButton.Yes

    def _on_make_active(self) -> None:
        if self._editing is not None:
            self.controller.make_active(self._editing)

    def _on_test(self) -> None:
        if self._editing is not None:
            self.status_label.setText(f"Testing {self._editing}…")
            self.status_label.setStyleSheet("")
            self.controller.test_connection(self._editing)

    def _on_use_next_client_id(self) -> None:
        next_id = self.client_id_button.property("next_id")
        if next_id is None:
            return
        if self._editing == self._active and not self._dirty:
            self.controller.retry_with_client_id(int(next_id))
        else:
            self.client_id_spin.setValue(int(next_id))  # the user saves it

    # ---- results ------------------------------------------------------------------------------
    def _show_status(self, status: SessionStatus, prefix: str) -> None:
        color = {"connected": self._color("ok"), "failed": error_color(), "disconnected": ""}.get(
            status.state, self._color("warning"))
        self.status_label.setStyleSheet(f"color: {color};" if color else "")
        self.status_label.setText(f"{prefix}{status.state}. {status.reason}")
        if status.next_client_id is not None:
            self.client_id_button.setText(f"Use client id {status.next_client_id}")
            self.client_id_button.setProperty("next_id", status.next_client_id)
        self.client_id_button.setVisible(status.next_client_id is not None)

    def _on_status_changed(self, status: SessionStatus) -> None:
        if status.account == self._editing:
            self._show_status(status, "Session: ")

    def _on_test_finished(self, status: SessionStatus) -> None:
        if status.account == self._editing:
            self._show_status(status, "Test: ")

    def _on_secrets_loaded(self, name: str, stored: object) -> None:
        if name == self._editing and isinstance(stored, dict):
            self._secrets = dict(stored)
            self._refresh_form()

    def _on_backend_loaded(self, info: BackendInfo) -> None:
        self._backend = info.name.rsplit(".", 2)[-2] if info.name.startswith("keyring.backends.") else info.name
        text = f"Secrets are kept in the system keyring: {info.name}."
        if not info.secure:
            text += f" ⚠ {info.warning}"
        self.backend_label.setText(text)
        self.backend_label.setStyleSheet("" if info.secure else f"color: {self._color('warning')};")
        self._refresh_form()

    def _on_busy_changed(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    def _color(self, role: str) -> str:
        light = self.palette().color(QPalette.ColorRole.Window).lightness() > 128
        return (WARNING_COLORS if role == "warning" else OK_COLORS)[light]

    def _show_problem(self, message: str) -> None:
        self.problem_label.setText(message)
        self.problem_label.setVisible(bool(message))

    def _on_challenge_requested(self, account: str, kind: str) -> None:
        prompts = {"sms": "Robinhood sent a code by SMS:", "email": "Robinhood sent a code by e-mail:",
                   "mfa": "Code from your authenticator app:",
                   "app": "Approve the sign-in in the Robinhood app, then press Send (any text):"}
        self.challenge_label.setText(f"{account}: {prompts.get(kind, 'Verification code:')}")
        self.challenge_edit.clear()
        self.challenge_row.setVisible(True)
        self.challenge_edit.setFocus()

    def _on_challenge_send(self) -> None:
        self._answer_challenge(self.challenge_edit.text().strip() or None)

    def _answer_challenge(self, code: str | None) -> None:
        self.challenge_row.setVisible(False)
        self.challenge_edit.clear()
        self.controller.answer_challenge(code)


def _secret_edit() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
    return edit


def _muted_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label
