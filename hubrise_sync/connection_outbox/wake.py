"""Queueing the connection outbox's drain: after a commit, at a row's due time, or from beat's sweep."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from hubrise_sync import broker, queue

logger = logging.getLogger(__name__)

# The drain flag's name in the broker (hubrise_sync.broker): one drain queued "now" at a time.
FLAG = "connection"


def at(due_at: datetime) -> None:
    """A drain runs when ``due_at`` comes; never raises (beat's sweep sends what could not be woken for)."""
    countdown = (due_at - timezone.now()).total_seconds()
    try:
        if countdown > 0:
            # A debounced or backed-off row: Celery holds the task until then.
            queue.drain_connection_outbox(countdown=countdown)
        else:
            now()
    except Exception as error:  # the broker's errors vary with the transport
        # Only the error's type: a broker URL may carry a password.
        logger.warning("Could not queue the HubRise connection drain (%s); the sweep will", type(error).__name__)


def after_commit(due_at: datetime) -> None:
    transaction.on_commit(lambda: at(due_at))


def now() -> None:
    """One drain at once, unless one is queued already and has not started (its flag is still set)."""
    if broker.set_drain_flag(broker.redis_client(), FLAG, 0):
        try:
            queue.drain_connection_outbox()
        except Exception:
            broker.clear_drain_flag(FLAG, 0)
            raise
