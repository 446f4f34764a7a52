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

import re
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.processes import ChildProcess, peer_env

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


def purge_broker(broker_url: str) -> None:
    """Forget tasks left in the broker by earlier tests (e.g. one whose worker was killed)."""
    import redis

    from hubrise_sync.broker import forget_queued_drains

    client = redis.Redis.from_url(broker_url, socket_connect_timeout=2)
    client.delete("celery", "unacked", "unacked_index", "unacked_mutex")
    forget_queued_drains(client)


DRAIN_SUCCEEDED = re.compile(r"Task hubrise_sync\.push\.drain\[[0-9a-f-]+\] succeeded in \S+: (\d+)")


class CeleryWorker(ChildProcess):
    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.node_name = f"push-test-{uuid.uuid4().hex[:8]}@%h"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "getresto",
            "worker",
            "-B",
            "--schedule",
            str(workdir / f"beat-{uuid.uuid4().hex[:6]}"),
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "-n",
            self.node_name,
        ]
        super().__init__("the Celery worker", command, env, workdir / f"celery-worker-{uuid.uuid4().hex[:6]}.log")

    def ready(self) -> bool:
        return " ready." in self.log()

    def sent_by_drains(self) -> list[int]:
        """How many messages each delivery drain this worker ran sent, from its log."""
        return [int(sent) for sent in DRAIN_SUCCEEDED.findall(self.log())]


@pytest.fixture
def start_celery_worker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., CeleryWorker]]:
    from django.conf import settings

    workers: list[CeleryWorker] = []

    def start(**extra_env: str) -> CeleryWorker:
        env = peer_env(request, **{**FAST_PUSH_ENV, **extra_env})
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
        worker.stop_and_print_log()


@pytest.fixture
def celery_worker(start_celery_worker: Callable[..., CeleryWorker]) -> CeleryWorker:
    return start_celery_worker()
