"""A throw-away PostgreSQL server for integration tests (started once per session, stopped after).

Built on pytest-postgresql's ``PostgreSQLExecutor`` (initdb + ``pg_ctl start -w`` on a free port, a
temp data dir and socket dir) and ``DatabaseJanitor`` (one fresh database per test, dropped after).

PostgreSQL refuses to run as root, and CI runs as root: then ``pg_ctl`` is called through a small
wrapper script that runs it via ``runuser -u postgres`` (or ``nobody``), with the temp dir owned by
that user. Binaries: ``$MAGNUS_PG_BINDIR``, ``pg_config --bindir``, ``/usr/lib/postgresql/*/bin`` or
``PATH``. Without them the PostgreSQL tests fail in CI (``CI=true``) and skip, with the reason, elsewhere.
"""

from __future__ import annotations

import logging
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_robinhood import fake_rh  # noqa: F401  (fixture for the Robinhood session tests)

log = logging.getLogger(__name__)
PG_USER = "postgres"  # database superuser created by initdb


def find_pg_bindir() -> Path | None:
    """Directory holding ``pg_ctl``/``initdb``/``postgres``, newest version first, or None."""
    candidates: list[Path] = []
    if env := os.environ.get("MAGNUS_PG_BINDIR"):
        candidates.append(Path(env))
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    debian = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(debian, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    if which := shutil.which("pg_ctl"):
        candidates.append(Path(which).parent)
    for bindir in candidates:
        if all((bindir / exe).is_file() for exe in ("pg_ctl", "initdb", "postgres")):
            return bindir
    return None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_ctl_for(bindir: Path, workdir: Path) -> str:
    """``pg_ctl`` itself, or (as root) a wrapper running it as an unprivileged user owning ``workdir``."""
    pg_ctl = bindir / "pg_ctl"
    if os.geteuid() != 0:
        return str(pg_ctl)
    runuser = shutil.which("runuser")
    if runuser is None:
        _unavailable("running as root and `runuser` (util-linux) is missing; PostgreSQL refuses root")
    user = next((u for u in ("postgres", "nobody") if _has_user(u)), None)
    if user is None:
        _unavailable("running as root and there is no 'postgres' or 'nobody' user to run the server")
    entry = pwd.getpwnam(user)
    os.chown(workdir, entry.pw_uid, entry.pw_gid)
    wrapper = workdir / "pg_ctl_as_user"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(str(runuser))} -u {user} -- {shlex.quote(str(pg_ctl))} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """A running PostgreSQL server (pytest-postgresql ``PostgreSQLExecutor``), stopped at the end."""
    bindir = find_pg_bindir()
    if bindir is None:
        _unavailable("no PostgreSQL server binaries (pg_ctl, initdb, postgres); `apt-get install postgresql`")
    try:
        from pytest_postgresql.executors import PostgreSQLExecutor
    except ImportError as exc:
        _unavailable(f"pytest-postgresql is not installed ({exc}); pip install -e '.[test]'")
    workdir = Path(tempfile.mkdtemp(prefix="magnus-pg-"))
    executor = PostgreSQLExecutor(
        executable=_pg_ctl_for(bindir, workdir),
        host="127.0.0.1",
        port=_free_port(),
        datadir=str(workdir / "data"),
        unixsocketdir=str(workdir),
        logfile=str(workdir / "server.log"),
        startparams="-w",
        dbname="magnus_test",
        user=PG_USER,
        postgres_options="-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off",
        timeout=60,
    )
    started = time.perf_counter()
    try:
        executor.start()
    except Exception as exc:
        server_log = workdir / "server.log"
        tail = server_log.read_text(errors="replace")[-2000:] if server_log.exists() else "(no log)"
        shutil.rmtree(workdir, ignore_errors=True)
        pytest.fail(f"PostgreSQL ({bindir}) did not start: {exc}\n{tail}", pytrace=False)
    log.info("PostgreSQL %s started in %.2f s on port %s", executor.version, time.perf_counter() - started,
             executor.port)
    try:
        yield executor
    finally:
        executor.stop()
        executor.clean_directory()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: object) -> Iterator[str]:
    """URL of a fresh, empty database on the session server (dropped after the test)."""
    from pytest_postgresql.janitor import DatabaseJanitor

    host, port = pg_server.host, pg_server.port  # type: ignore[attr-defined]
    dbname = f"magnus_{uuid.uuid4().hex[:12]}"
    with DatabaseJanitor(user=PG_USER, host=host, port=port, dbname=dbname, connection_timeout=10):
        yield f"postgresql+psycopg2://{PG_USER}@{host}:{port}/{dbname}"


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database on each backend: a SQLite file, a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'magnus.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def db(db_url: str) -> Iterator[object]:
    """An open, migrated ``Database`` on each backend."""
    from magnus_desktop.services.storage import Database

    database = Database.open(db_url)
    try:
        yield database
    finally:
        database.close()
