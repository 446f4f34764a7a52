"""Child processes of the integration tests: how they are given a port, an environment and a lifetime.

gunicorn, the Celery worker, the HubRise sandbox and a private Redis are real
processes started by fixtures. They share what is written here so that they all
start, wait for readiness, stop and report their output the same way, and so that
every Django child sees the same settings as the test that started it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now, picked by the system (so parallel runs do not collide)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def repository_env(**variables: str) -> dict[str, str]:
    """This process's environment plus ``variables``, with this repository importable.

    The project is not an installed package: a child imports it from the
    repository root, whatever its working folder.
    """
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        **variables,
    }


def django_env(database_url: str, **variables: str) -> dict[str, str]:
    """The environment of a child running this project under the test settings, on ``database_url``."""
    return repository_env(
        DJANGO_SETTINGS_MODULE="getresto.test_settings", GETRESTO_ENV="test", DATABASE_URL=database_url, **variables
    )


def current_database_url(name: str | None = None) -> str:
    """The URL of the database Django is using right now (the test database during a test), or of the database
    ``name`` on the same server."""
    from django.db import connection

    settings_dict = connection.settings_dict
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    # The embedded PostgreSQL's host is the folder of its socket, written percent-encoded.
    host = quote(settings_dict.get("HOST") or "127.0.0.1", safe="")
    port = settings_dict.get("PORT")
    return f"postgres://{credentials}{host}{f':{port}' if port else ''}/{name or settings_dict['NAME']}"


def peer_env(request: pytest.FixtureRequest, database_url: str | None = None, **variables: str) -> dict[str, str]:
    """``django_env`` for a web or worker process that works alongside the test process.

    It uses the test's own database unless told otherwise, and must use the same
    broker and keys as the test (tokens encrypted by one are read by the other,
    sessions signed by one are checked by the other) and, when the test has a
    HubRise sandbox, call that sandbox.
    """
    from django.conf import settings

    env = django_env(
        database_url or current_database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEY=settings.FIELD_ENCRYPTION_KEY,
    )
    if "hubrise_sandbox" in request.fixturenames:
        env["HUBRISE_API_URL"] = request.getfixturevalue("hubrise_sandbox").api_url
    env.update(variables)
    return env


class ChildProcess:
    """A child in a session of its own, its output in ``log_path``.

    Its own session, so that stopping or killing it reaches its children too
    (gunicorn's and Celery's pool processes), as a process manager would.
    A subclass says when it is ready to serve.
    """

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_path: Path, cwd: Path = REPO_ROOT) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log_path = log_path
        self.cwd = cwd
        self._process: subprocess.Popen | None = None

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Starts it and returns once it is ready; fails with the end of its log if it exits or is late."""
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.log()[-3000:]}")
            if self.ready():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} was not ready within {timeout} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        """SIGKILLs it and its children at once, as a crash or an OOM kill would."""
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        self._process = None

    def stop(self) -> None:
        """SIGTERM, as a deployment stops it; SIGKILL if it is not gone in time."""
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass
        self._process = None

    def stop_and_print_log(self) -> None:
        """Stops it and prints the end of its log, which pytest shows only when the test fails."""
        self.stop()
        print(f"--- {self.name}: {self.log_path.name} ---\n{self.log()[-6000:]}")


def wait_until(condition: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> object:
    """Polls ``condition`` until it returns something true, and returns that: what another process does takes time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
