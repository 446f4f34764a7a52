"""Pytest plugin: the back office served by a real gunicorn, as the ``web`` process of the Procfile.

A test asks for ``start_gunicorn`` (a factory) and calls it once per web process it
wants; each gets a free port of 127.0.0.1. By default a server uses the test's own
database (so such tests need ``@pytest.mark.django_db(transaction=True)`` and
PostgreSQL: the server cannot see rows of a transaction that never commits) and the
broker of CELERY_BROKER_URL; ``database_url=`` points it elsewhere, and keyword
arguments become environment variables. Connections are kept between requests as in
production (DATABASE_CONN_MAX_AGE=60). Servers are stopped after the test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class GunicornServer:
    def __init__(self, env: dict[str, str], workdir: Path, workers: int) -> None:
        self.env = env
        self.workers = workers
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"gunicorn-{self.port}-{uuid.uuid4().hex[:6]}.log"
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "getresto.wsgi",
            f"--bind=127.0.0.1:{self.port}",
            f"--workers={self.workers}",
            "--timeout=30",
            "--log-level=info",
        ]
        self._process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start-up:\n{self.log()[-3000:]}")
            try:
                # The login page needs no database: it only says the server is up.
                if requests.get(f"{self.base_url}/login/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {STARTUP_TIMEOUT} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        except ProcessLookupError:
            pass
        self._process = None


@pytest.fixture
def start_gunicorn(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., GunicornServer]]:
    from django.conf import settings

    from tests.worker_fixture import database_url as current_database_url

    servers: list[GunicornServer] = []

    def start(*, database_url: str | None = None, workers: int = 2, **extra_env: str) -> GunicornServer:
        if database_url is None:
            from django.db import connection

            database_url = current_database_url(connection.settings_dict)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
            "DJANGO_SETTINGS_MODULE": "getresto.test_settings",
            "GETRESTO_ENV": "test",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            # Production's default: a worker keeps its connection between requests.
            "DATABASE_CONN_MAX_AGE": "60",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
            "HUBRISE_CLIENT_SECRET": settings.HUBRISE_CLIENT_SECRET,
            "LOG_LEVEL": "WARNING",
        }
        if "hubrise_sandbox" in request.fixturenames:
            env["HUBRISE_API_URL"] = request.getfixturevalue("hubrise_sandbox").api_url
        env.update(extra_env)
        server = GunicornServer(env, tmp_path, workers)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()
        # Shown by pytest only when the test fails.
        print(f"--- {server.log_path.name} ---\n{server.log()[-6000:]}")
