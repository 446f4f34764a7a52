"""A Redis client on Celery's broker, for the small shared state the workers and web processes keep there."""

from __future__ import annotations

import logging

from getresto.redis import broker_redis

logger = logging.getLogger(__name__)

# Kept under this name for the modules of hubrise_sync that read it.
redis_client = broker_redis


# A drain (a task that works through a backlog, then stops) per slot: its flag is set while
# that drain is queued, and expires in case the task is lost.
DRAIN_FLAG_PREFIX = "hubrise:drain-queued:"
DRAIN_FLAG_TTL = 60


def drain_flag(kind: str, slot: int) -> str:
    return f"{DRAIN_FLAG_PREFIX}{kind}:{slot}"


def set_drain_flag(client, kind: str, slot: int) -> bool:
    """Marks that slot's drain queued; False if one was queued already (its flag still set)."""
    return bool(client.set(drain_flag(kind, slot), "1", nx=True, ex=DRAIN_FLAG_TTL))


# SET NX of each slot's flag in turn until one was free: its index, or -1 when every slot has a drain queued.
_FIRST_FREE_SLOT = """
for index, key in ipairs(KEYS) do
    if redis.call('SET', key, '1', 'NX', 'EX', ARGV[1]) then return index - 1 end
end
return -1
"""


def set_first_free_drain_flag(client, kind: str, slots: int) -> int | None:
    """Marks the first slot without a queued drain as queued, in one round trip (a burst of orders finds every
    slot busy: that was one SET per slot); its number, or None when every slot has its drain queued."""
    slot = client.eval(_FIRST_FREE_SLOT, slots, *(drain_flag(kind, slot) for slot in range(slots)), DRAIN_FLAG_TTL)
    return None if slot < 0 else slot


def clear_drain_flag(kind: str, slot: int) -> None:
    """Called by a drain as it starts, before it reads its work: whatever arrives later queues the next one."""
    try:
        redis_client().delete(drain_flag(kind, slot))
    except Exception as error:  # Redis' errors vary; the flag expires by itself anyway
        logging.getLogger(__name__).warning(
            "Could not clear the %s drain flag (%s); it expires by itself", kind, type(error).__name__
        )


def forget_queued_drains(client) -> None:
    """Clears the drain flags once the broker's queue was emptied, drains included.

    Left set, they would stop the next work from queueing a drain until they expire.
    """
    flags = list(client.scan_iter(f"{DRAIN_FLAG_PREFIX}*"))
    if flags:
        client.delete(*flags)
