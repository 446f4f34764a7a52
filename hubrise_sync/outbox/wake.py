"""Waking a delivery drain after a commit, without queueing one Celery task per message."""

from __future__ import annotations

import logging

from django.conf import settings

from hubrise_sync import broker, queue
from hubrise_sync.outbox import state

logger = logging.getLogger(__name__)


def publish(message_ids: list[int]) -> None:
    """Wake a deliverer for these waiting messages; never raises (the sweep sends what could not be woken for)."""
    try:
        wake_deliverers()
    except Exception as error:  # the broker's errors vary with the transport
        # Only the error's type: a broker URL may carry a password.
        logger.warning("Could not queue HubRise deliveries (%s); the sweep will send them", type(error).__name__)
        state.forget_queued(message_ids)


def wake_deliverers() -> None:
    """Queue one drain, on the first deliverer slot that has none queued.

    A drain clears its slot's flag before it claims anything, so a message
    written after a drain's last claim always finds a free slot and queues the
    next drain; while every slot has a drain queued, publishing costs one Redis
    round trip and no task.
    """
    flags = broker.redis_client()
    slot = broker.set_first_free_drain_flag(flags, "push", settings.HUBRISE_PUSH_DELIVERERS)
    if slot is None:
        return
    try:
        queue.drain_outbox(slot)
    except Exception:
        flags.delete(broker.drain_flag("push", slot))
        raise
