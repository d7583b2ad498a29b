"""One running Magnus Desktop per user and settings folder (QLocalServer / QLocalSocket).

The first process listens on a local socket (a named pipe on Windows, a socket file on Linux and
macOS). A second launch connects, sends its command line as one JSON line, gets ``ok`` back and
exits; the first brings its window to the front and applies what the command line asked for.

A socket file left by a crashed instance makes ``listen`` fail with "address in use": when no one
answers on it (the connect failed) it is stale, so it is removed and the listen retried.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

log = logging.getLogger(__name__)
#: how long a second launch waits for the first one to connect and answer
CONNECT_TIMEOUT_MS = 1500


def server_name(config_dir: Path) -> str:
    """The socket name: per user and per config folder (``MAGNUS_DESKTOP_HOME`` gives a separate one),
    short enough for a Unix socket path."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "user"
    digest = hashlib.sha256(f"{user}\0{config_dir.resolve()}".encode()).hexdigest()[:16]
    return f"magnus-desktop-{digest}"


class SingleInstance(QObject):
    """``forward(argv)`` in a second launch; ``listen()`` in the first, which then emits
    ``activated(argv)`` for each later launch."""

    #: the command line of a second launch (arguments after the program name)
    activated = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server: QLocalServer | None = None
        self._buffers: dict[QLocalSocket, bytes] = {}

    def forward(self, argv: Sequence[str], timeout_ms: int = CONNECT_TIMEOUT_MS) -> bool:
        """Hand ``argv`` to a running instance. True when it acknowledged (this process should exit);
        False when none is running (or it did not answer in time)."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(timeout_ms):
            return False
        socket.write(json.dumps({"argv": list(argv)}).encode() + b"\n")
        socket.flush()
        answered = b""
        while b"\n" not in answered and socket.waitForReadyRead(timeout_ms):
            answered += bytes(socket.readAll().data())
        socket.disconnectFromServer()
        return answered.strip() == b"ok"

    def listen(self) -> bool:
        """Become the running instance. A stale socket from a crash is removed first. False (logged)
        when the name stays taken: a launch then runs unguarded rather than not at all."""
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            if server.serverError() == QAbstractSocket.SocketError.AddressInUseError:
                log.info("removing the stale single-instance socket %s (a previous run did not exit cleanly)", self.name)
                QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                log.warning("single-instance socket %s: %s", self.name, server.errorString())
                return False
        server.newConnection.connect(self._on_server_new_connection)
        self.server = server
        return True

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    def _on_server_new_connection(self) -> None:
        assert self.server is not None
        while (socket := self.server.nextPendingConnection()) is not None:
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._on_socket_ready_read(s))
            socket.disconnected.connect(lambda s=socket: self._forget(s))
            if socket.bytesAvailable():  # the line arrived before readyRead was connected
                self._on_socket_ready_read(socket)

    def _forget(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        if shiboken6.isValid(socket):  # (closing the server deletes its sockets first)
            socket.deleteLater()

    def _on_socket_ready_read(self, socket: QLocalSocket) -> None:
        data = self._buffers.get(socket, b"") + bytes(socket.readAll().data())
        if b"\n" not in data:
            self._buffers[socket] = data[-65536:]  # a line never gets longer than a command line
            return
        line, _rest = data.split(b"\n", 1)
        self._buffers[socket] = b""
        try:
            argv = json.loads(line)["argv"]
            if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
                raise ValueError("argv is not a list of strings")
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignored a malformed message on the single-instance socket: %s", exc)
            socket.write(b"error\n")
            socket.flush()
            return
        socket.write(b"ok\n")
        socket.flush()
        self.activated.emit(argv)
