"""Pytest plugin: a private PostgreSQL server that a test may stop, restart or crash.

The suite's own PostgreSQL is shared with other runs and must never be restarted.
A test that needs an outage asks for ``private_postgres``: a throwaway cluster
(initdb into a temporary folder, owned by the ``postgres`` user when the test runs
as root, since PostgreSQL refuses to run as root) served by ``pg_ctl`` on a free
port of 127.0.0.1, from the same binaries as the system's server. It is stopped
and deleted after the test.

    def test_something(private_postgres):
        url = private_postgres.create_database("getresto")   # postgres://…:port/getresto
        private_postgres.migrate(url)                         # our schema, via manage.py
        private_postgres.restart()                            # pg_ctl restart -m fast

Binaries are looked up in PG_BIN_DIR, then /usr/lib/postgresql/<newest>/bin, then the
PATH. Without them the test is skipped locally and fails in CI, as with the
``postgres`` marker.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import REPO_ROOT, django_env, free_port

STARTUP_TIMEOUT = 30.0
# Durability is not what these tests look at; a clean shutdown writes everything anyway.
SERVER_OPTIONS = "-c fsync=off -c full_page_writes=off -c max_connections=60 -c shared_buffers=32MB"


def find_bin_dir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None."""
    candidates = []
    if os.environ.get("PG_BIN_DIR"):
        candidates.append(Path(os.environ["PG_BIN_DIR"]))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0
    )
    candidates.extend(reversed(versions))
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


class PostgresServer:
    """One cluster in its own folder, on its own port; start, stop and restart it at will."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.host = "127.0.0.1"
        self.user = "postgres"
        self.root = Path(tempfile.mkdtemp(prefix="gr-private-pg-"))
        self.data_dir = self.root / "data"
        self.log_path = self.root / "server.log"
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL will not run as root: hand the folder to the postgres account.
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self._as_postgres, *command], capture_output=True, text=True, timeout=timeout, check=True, cwd=self.root
        )

    def init(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses={self.host} -c unix_socket_directories={self.root} {SERVER_OPTIONS}"
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_path),
            "-o",
            options,
            "-w",
            "-t",
            str(int(STARTUP_TIMEOUT)),
        )
        self.wait_until_ready()

    def stop(self, mode: str = "fast") -> None:
        """``fast`` disconnects every client and shuts down cleanly; ``immediate`` is a crash."""
        self._run(str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", mode, "-w")

    def restart(self, down_for: float = 1.0, mode: str = "fast") -> None:
        """Stops the server, leaves it down for ``down_for`` seconds, and starts it again."""
        self.stop(mode)
        time.sleep(down_for)
        self.start()

    @property
    def running(self) -> bool:
        status = subprocess.run(
            [*self._as_postgres, str(self.bin_dir / "pg_ctl"), "status", "-D", str(self.data_dir)],
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def wait_until_ready(self) -> None:
        import psycopg2

        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                psycopg2.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def url(self, database: str) -> str:
        return f"postgres://{self.user}@{self.host}:{self.port}/{database}"

    def connect(self, database: str):
        """A psycopg2 connection in autocommit, for a test's own checks."""
        import psycopg2

        connection = psycopg2.connect(self.url(database), connect_timeout=5)
        connection.autocommit = True
        return connection

    def create_database(self, name: str) -> str:
        with contextlib.closing(self.connect("postgres")) as connection, connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def migrate(self, database_url: str) -> None:
        """Our schema, applied by ``manage.py migrate`` in a child process, as a deployment would."""
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=REPO_ROOT,
            env=django_env(database_url),
            check=True,
            timeout=300,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            if self.running:
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PostgresServer]:
    from conftest import missing_service

    bin_dir = find_bin_dir()
    if bin_dir is None:
        missing_service("needs the PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql, or set PG_BIN_DIR")
    server = PostgresServer(bin_dir)
    try:
        server.init()
        server.start()
        yield server
    finally:
        # Shown by pytest only when the test fails.
        print(f"--- private PostgreSQL log ({server.log_path}) ---\n{server.log()[-4000:]}")
        server.destroy()
