"""A real, private Secret Service for tests: its own D-Bus session bus and gnome-keyring-daemon.

The fixture never touches the developer's own keyring: it always starts a private bus (even when
``DBUS_SESSION_BUS_ADDRESS`` is set) with the keyring files in a temp folder, points this process at
it, and stops both daemons at the end. It skips, with the reason, only when the programs are missing
(``apt-get install gnome-keyring libsecret-tools dbus-x11``; CI installs them).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

KEYRING_PASSWORD = "test-login-keyring-pw"


@dataclass(frozen=True)
class SecretServiceBus:
    """The private bus address and the login keyring's password (to unlock it again in a test)."""

    address: str
    keyring_password: str


def _missing_programs() -> list[str]:
    return [p for p in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(p) is None]


def _wait_for_secrets_service(timeout_s: float = 10.0) -> None:
    """Wait until OUR daemon owns org.freedesktop.secrets (NameHasOwner, not "activatable": the
    private bus has no service files, so nothing else can be activated under that name)."""
    import secretstorage
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import Proxy

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with secretstorage.dbus_init() as conn:
            if Proxy(message_bus, conn).NameHasOwner("org.freedesktop.secrets")[0] == 1:
                return
        time.sleep(0.02)
    raise RuntimeError("gnome-keyring-daemon did not register org.freedesktop.secrets in time")


# A session bus with no service directories. With the system's session.conf, a call that races the
# daemon's start-up D-Bus-activates a SECOND gnome-keyring-daemon (without --unlock, so it never
# creates the login keyring): measured 2 starts in 15 under load before this config.
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def _wait_until_unlocked(timeout_s: float = 10.0) -> None:
    """The daemon registers on the bus before it has read the --unlock password: for a moment the
    login keyring is still locked or, in a fresh home, not created yet (measured: 1 start in 15 had no
    ``default`` alias at registration; a write then asks a prompter that does not exist and keyring
    raises InitError). Wait until the ``default`` collection exists and is unlocked."""
    import secretstorage
    from secretstorage.exceptions import SecretStorageException

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with secretstorage.dbus_init() as conn:
            try:
                # Collection(), not get_default_collection(): the latter would try to create it
                if not secretstorage.Collection(conn).is_locked():
                    return
            except SecretStorageException:
                pass  # the default alias is not there yet
        time.sleep(0.02)
    raise RuntimeError("the login keyring was not created/unlocked although the right password was given")


@contextmanager
def private_secret_service(home: Path, keyring_password: str, *, unlocks: bool = True) -> Iterator[SecretServiceBus]:
    """Run dbus-daemon + gnome-keyring-daemon with keyrings under ``home``; this process uses that bus.

    ``keyring_password`` unlocks the login keyring (it is created with it when absent); a wrong
    password leaves an existing login keyring locked (pass ``unlocks=False`` then: with True, the
    context waits until the keyring is unlocked).
    """
    for sub in (".cache", ".local/share", "run"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "run").chmod(0o700)
    env = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / ".local/share"), XDG_RUNTIME_DIR=str(home / "run"))
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    saved = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    # under load the daemon sometimes leaves the login keyring locked although it was given the right
    # password (it reads --unlock racing its own start-up): a fresh daemon on the same keyrings is tried
    # up to three times before the test set-up fails
    for attempt in range(3):
        daemon, bus_pid, address = _start_daemons(env, keyring_password)
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
        try:
            _wait_for_secrets_service()
            if unlocks:
                _wait_until_unlocked()
            break
        except RuntimeError:
            _stop_daemons(daemon, bus_pid)
            if attempt == 2:
                _restore_bus(saved)
                raise
    try:
        yield SecretServiceBus(address, keyring_password)
    finally:
        _restore_bus(saved)
        _stop_daemons(daemon, bus_pid)


def _start_daemons(env: dict[str, str], keyring_password: str) -> tuple[subprocess.Popen[bytes], int, str]:
    config = Path(env["HOME"]) / "bus.conf"
    config.write_text(_BUS_CONFIG)
    out = subprocess.run(
        ["dbus-daemon", f"--config-file={config}", "--fork", "--nopidfile", "--print-address=1", "--print-pid=1"],
        capture_output=True, text=True, check=True, env=env, timeout=10,
    ).stdout.split()
    address, bus_pid = out[0], int(out[1])
    daemon_env = dict(env, DBUS_SESSION_BUS_ADDRESS=address)
    daemon = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=daemon_env,
    )
    assert daemon.stdin is not None
    daemon.stdin.write(keyring_password.encode())
    daemon.stdin.close()
    return daemon, bus_pid, address


def _stop_daemons(daemon: subprocess.Popen[bytes], bus_pid: int) -> None:
    daemon.terminate()
    try:
        daemon.wait(timeout=5)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait(timeout=5)
    try:
        os.kill(bus_pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def _restore_bus(saved: str | None) -> None:
    if saved is None:
        os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
    else:
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = saved


def require_secret_service_programs() -> None:
    """Skip (with the reason) when the daemons are not installed."""
    missing = _missing_programs()
    if missing:
        pytest.skip(f"real Secret Service tests need {', '.join(missing)}: apt-get install gnome-keyring dbus-x11")


@pytest.fixture(scope="session")
def secret_service() -> Iterator[SecretServiceBus]:
    """A private Secret Service (login keyring created and unlocked) for the whole test session."""
    require_secret_service_programs()
    home = Path(tempfile.mkdtemp(prefix="magnus-secret-service-"))
    try:
        with private_secret_service(home, KEYRING_PASSWORD) as bus:
            yield bus
    finally:
        shutil.rmtree(home, ignore_errors=True)
