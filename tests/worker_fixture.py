"""Pytest plugin: a real ``celery -A getresto worker`` process for integration tests.

Enable it with ``pytest_plugins = ["tests.worker_fixture"]`` in the root conftest. A test
asks for ``celery_worker`` (started with the defaults below) or ``start_celery_worker``
(a factory taking extra environment variables, e.g. ``HUBRISE_READ_TIMEOUT="0.5"``).

The worker runs with an embedded beat (``-B``) and talks to the test's own database, so
such tests must use ``@pytest.mark.django_db(transaction=True)`` (the worker cannot see
rows of a transaction that never commits) and PostgreSQL, and the Redis broker of
CELERY_BROKER_URL: mark them ``postgres`` and ``redis``. When the test also uses the
``hubrise_sandbox`` fixture, the worker calls that sandbox. The worker is stopped after the
test; ``worker.kill()`` SIGKILLs it (and its pool children) mid-task.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0

# Fast but realistic: retries after 0.2 s, 0.4 s … 1.6 s, a sweep every half second, and
# a worker presumed dead after 4 s without a result.
FAST_PUSH_ENV = {
    "HUBRISE_CONNECT_TIMEOUT": "1",
    "HUBRISE_READ_TIMEOUT": "2",
    "HUBRISE_PUSH_BACKOFF_BASE": "0.2",
    "HUBRISE_PUSH_BACKOFF_CAP": "1.6",
    "HUBRISE_PUSH_LEASE": "4",
    "HUBRISE_PUSH_REQUEUE_AFTER": "2",
    "HUBRISE_SWEEP_INTERVAL": "0.5",
}


def database_url(settings_dict: dict) -> str:
    """The URL of the database Django is using right now (the test database during a test)."""
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


def purge_broker(broker_url: str) -> None:
    """Forget tasks left in the broker by earlier tests (e.g. one whose worker was killed)."""
    import redis

    from hubrise_sync.inbound import APPLIER_QUEUED_KEY

    client = redis.Redis.from_url(broker_url, socket_connect_timeout=2)
    # The flags say drain tasks are queued: gone with the queue.
    client.delete("celery", "unacked", "unacked_index", "unacked_mutex", *client.keys(f"{APPLIER_QUEUED_KEY}:*"))


class CeleryWorker:
    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.name = f"push-test-{uuid.uuid4().hex[:8]}@%h"
        self.log_path = workdir / f"celery-worker-{uuid.uuid4().hex[:6]}.log"
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "getresto",
            "worker",
            "-B",
            "--schedule",
            str(self.workdir / f"beat-{uuid.uuid4().hex[:6]}"),
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "-n",
            self.name,
        ]
        # Its own process group, so that kill() reaches the pool's children too.
        self._process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the Celery worker exited at start-up:\n{self.log()[-3000:]}")
            if " ready." in self.log():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the Celery worker was not ready within {STARTUP_TIMEOUT} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once, as a crash or an OOM kill would."""
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        self._process = None

    def stop(self) -> None:
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, signal.SIGTERM)
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass
        self._process = None


@pytest.fixture
def start_celery_worker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., CeleryWorker]]:
    from django.conf import settings
    from django.db import connection

    workers: list[CeleryWorker] = []

    def start(**extra_env: str) -> CeleryWorker:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
            "DJANGO_SETTINGS_MODULE": "getresto.test_settings",
            "GETRESTO_ENV": "test",
            "DATABASE_URL": database_url(connection.settings_dict),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
            **FAST_PUSH_ENV,
        }
        if "hubrise_sandbox" in request.fixturenames:
            env["HUBRISE_API_URL"] = request.getfixturevalue("hubrise_sandbox").api_url
        env.update(extra_env)
        if not workers:
            purge_broker(settings.CELERY_BROKER_URL)
        worker = CeleryWorker(env, tmp_path)
        workers.append(worker)
        worker.start()
        return worker

    # The test process writes messages too: same timings as the worker.
    test_settings = request.getfixturevalue("settings")
    for name, value in FAST_PUSH_ENV.items():
        setattr(test_settings, name, float(value))
    yield start
    for worker in workers:
        worker.stop()
        # Shown by pytest only when the test fails.
        print(f"--- {worker.log_path.name} ---\n{worker.log()[-6000:]}")


@pytest.fixture
def celery_worker(start_celery_worker: Callable[..., CeleryWorker]) -> CeleryWorker:
    return start_celery_worker()
