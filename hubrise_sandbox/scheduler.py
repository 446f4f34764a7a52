"""One background thread for HubRise's timed changes: inventory entries expiring, a pause or busy
time ending, the sandbox's couriers moving on.

Each job takes the current time, does what is due (reading the state from the database, so
nothing is lost across a restart) and returns when it next has something to do, or None.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

Job = Callable[[float], "float | None"]
# Even with nothing planned, look again now and then: a job's state may change without a wake().
IDLE_WAIT = 1.0


class Scheduler:
    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = jobs
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def run_due(self) -> float:
        """Runs every job once; returns how long to wait before the next round."""
        now = time.time()
        upcoming = []
        for job in self.jobs:
            try:
                next_at = job(now)
            except Exception:
                log.exception("scheduled job %s failed", getattr(job, "__qualname__", job))
                continue
            if next_at is not None:
                upcoming.append(next_at)
        if not upcoming:
            return IDLE_WAIT
        return min(IDLE_WAIT, max(0.0, min(upcoming) - time.time()))

    def _run(self) -> None:
        while not self._stopping.is_set():
            wait = self.run_due()
            self._wake.wait(wait)
            self._wake.clear()
