"""HubRise's per-connection rate limits, enforced on our side before each call.

HubRise counts requests per connection in windows aligned on the round minute,
hour and day (shared/hubrise-api.md §3). Counting the same windows here lets a
backlog drain as fast as the limits allow instead of into a wall of 429s. Our
limits sit a little below HubRise's to leave room for the other calls made with
the same token (callback polling, connection checks).

The counters live in Redis, Celery's broker, where every worker shares them.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings

from hubrise_sync import broker

logger = logging.getLogger(__name__)

# Redis keys of the counters: prefix, connection id, window name and start.
KEY_PREFIX = "hubrise:ratelimit:"
WINDOW_SECONDS = {"minute": 60, "hour": 3600, "day": 86400, "heavy_minute": 60}

# Key suffix of a pause HubRise asked for with a 429; the key expires when the pause ends.
PAUSE = "pause"

# Waits out a pause first (returns minus its milliseconds left), then checks every
# window and counts the request only if all have room, so a refused request costs
# nothing and concurrent workers never overshoot. The last key is the pause.
_LUA_ACQUIRE = """
local paused = redis.call('PTTL', KEYS[#KEYS])
if paused > 0 then return -paused end
local n = #KEYS - 1
for i = 1, n do
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  if used >= tonumber(ARGV[i]) then return i end
end
for i = 1, n do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[n + i])
end
return 0
"""


def forget_counters(client) -> None:
    """Drops every counter and pause kept in that Redis (tests: connection ids start again at 1 every run)."""
    counters = list(client.scan_iter(f"{KEY_PREFIX}*", count=1000))
    if counters:
        client.delete(*counters)


def _limits(heavy: bool) -> list[tuple[str, int]]:
    configured = settings.HUBRISE_RATE_LIMITS
    names = ["minute", "hour", "day"] + (["heavy_minute"] if heavy else [])
    return [(name, int(configured[name])) for name in names]


def _windows(heavy: bool, now: float) -> list[tuple[str, int, int, int]]:
    """(name, limit, window start, window end) of each window the request counts in."""
    windows = []
    for name, limit in _limits(heavy):
        length = WINDOW_SECONDS[name]
        start = int(now // length) * length
        windows.append((name, limit, start, start + length))
    return windows


def acquire(connection_id: int, *, heavy: bool = False, now: float | None = None) -> float:
    """Counts one request of the connection and returns 0, or returns how long to wait (nothing counted).

    ``heavy`` is HubRise's extra limit on list queries such as GET /orders.
    """
    now = time.time() if now is None else now
    windows = _windows(heavy, now)
    refused = _acquire_in_redis(broker.redis_client(), connection_id, windows, now)
    if refused is None:
        return 0.0
    return max(0.05, refused[3] - now)


def pause(connection_id: int, seconds: float) -> None:
    """No request of the connection for ``seconds``: HubRise answered 429 with that Retry-After.

    HubRise also counts the calls made with the same token outside the outbox
    (polling, connection checks, another of our processes before a restart), so
    its 429 is the last word: every message of the connection waits, not only
    the one that was refused.
    """
    import redis

    seconds = max(0.05, seconds)
    try:
        broker.redis_client().set(_pause_key(connection_id), "1", px=int(seconds * 1000))
    except redis.RedisError as error:
        logger.warning("Rate limiter unavailable (%s); the pause is kept by the message only", type(error).__name__)


def _pause_key(connection_id: int) -> str:
    return f"{KEY_PREFIX}{connection_id}:{PAUSE}"


def _acquire_in_redis(client, connection_id: int, windows: list, now: float) -> tuple | None:
    import redis

    try:
        keys = [f"{KEY_PREFIX}{connection_id}:{name}:{start}" for name, _limit, start, _end in windows]
        limits = [limit for _name, limit, _start, _end in windows]
        ttls = [end - start + 60 for _name, _limit, start, end in windows]
        answer = int(client.register_script(_LUA_ACQUIRE)(keys=[*keys, _pause_key(connection_id)], args=limits + ttls))
    except redis.RedisError as error:
        # Without Redis no task runs anyway; HubRise's own 429s still protect us.
        logger.warning("Rate limiter unavailable (%s); sending without it", type(error).__name__)
        return None
    if answer < 0:
        return (PAUSE, 0, now, now - answer / 1000)
    return windows[answer - 1] if answer else None
