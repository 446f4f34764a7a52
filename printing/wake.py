"""Queueing the print drains: a few Celery tasks for a burst of jobs, not one task per job.

A drain (printing.jobs.drain) prints due jobs until none is left. One per slot
is queued at a time, marked by a flag in the broker's Redis that the drain
clears as it starts: a job written after a drain's last claim always finds a
free slot and queues the next drain.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.conf import settings

from getresto.redis import broker_redis

logger = logging.getLogger(__name__)

FLAG_PREFIX = "printing:drain-queued:"
# A flag outlives a lost task by this much at most.
FLAG_TTL = 60
# The registered name of printing.tasks.drain_print_jobs.
DRAIN_TASK = "printing.drain"


def _queue_drain(slot: int) -> None:
    # By name, so that the jobs never import their task module (printing.tasks imports printing.jobs);
    # a signature still honours CELERY_TASK_ALWAYS_EAGER. retry=False: a request must not wait on the broker.
    current_app.signature(DRAIN_TASK, args=(slot,)).apply_async(retry=False)


def wake_drains() -> None:
    """Queue a drain on the first slot that has none queued; never raises (the sweep makes up for it)."""
    try:
        flags = broker_redis()
        for slot in range(settings.PRINTING_DRAINS):
            if flags.set(f"{FLAG_PREFIX}{slot}", "1", nx=True, ex=FLAG_TTL):
                try:
                    _queue_drain(slot)
                except Exception:
                    flags.delete(f"{FLAG_PREFIX}{slot}")
                    raise
                return
    except Exception as error:  # Redis' and the broker's errors vary with the transport
        # Only the error's type: a broker URL may carry a password.
        logger.warning("Could not queue a print drain (%s); the sweep will print the waiting tickets", type(error).__name__)


def clear_flag(slot: int) -> None:
    """Called by a drain as it starts, before it claims anything."""
    try:
        broker_redis().delete(f"{FLAG_PREFIX}{slot}")
    except Exception as error:
        logger.warning("Could not clear the print drain flag (%s); it expires by itself", type(error).__name__)


def forget_flags(client) -> None:
    """After the broker's queue was emptied (tests, benchmarks): flags left set would hold back the next drains."""
    flags = list(client.scan_iter(f"{FLAG_PREFIX}*"))
    if flags:
        client.delete(*flags)
