"""Queueing the print drains: a few Celery tasks for a burst of jobs, not one task per job.

A drain (printing.jobs.drain) prints due jobs until none is left. One per slot
is queued at a time, marked by a flag in the broker's Redis that the drain
clears as it starts: a job written after a drain's last claim always finds a
free slot and queues the next drain. Without Redis (the embedded broker of the
demo) every wake queues a drain.
"""

from __future__ import annotations

import logging

from django.conf import settings

logger = logging.getLogger(__name__)

FLAG_PREFIX = "printing:drain-queued:"
# A flag outlives a lost task by this much at most.
FLAG_TTL = 60
_clients: dict[str, object] = {}


def redis_client():
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        return None
    if url not in _clients:
        import redis

        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    return _clients[url]


def wake_drains() -> None:
    """Queue a drain on the first slot that has none queued; never raises (the sweep makes up for it)."""
    from printing.tasks import drain_print_jobs

    try:
        flags = redis_client()
        if flags is None:
            drain_print_jobs.apply_async((0,), retry=False)
            return
        for slot in range(settings.PRINTING_DRAINS):
            if flags.set(f"{FLAG_PREFIX}{slot}", "1", nx=True, ex=FLAG_TTL):
                try:
                    drain_print_jobs.apply_async((slot,), retry=False)
                except Exception:
                    flags.delete(f"{FLAG_PREFIX}{slot}")
                    raise
                return
    except Exception as error:  # Redis' and the broker's errors vary with the transport
        # Only the error's type: a broker URL may carry a password.
        logger.warning("Could not queue a print drain (%s); the sweep will print the waiting tickets", type(error).__name__)


def clear_flag(slot: int) -> None:
    """Called by a drain as it starts, before it claims anything."""
    flags = redis_client()
    if flags is None:
        return
    try:
        flags.delete(f"{FLAG_PREFIX}{slot}")
    except Exception as error:
        logger.warning("Could not clear the print drain flag (%s); it expires by itself", type(error).__name__)


def forget_flags(client) -> None:
    """After the broker's queue was emptied (tests, benchmarks): flags left set would hold back the next drains."""
    flags = list(client.scan_iter(f"{FLAG_PREFIX}*"))
    if flags:
        client.delete(*flags)
