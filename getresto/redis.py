"""The broker's Redis, for the small state the web and worker processes share there (drain flags,
rate-limit counters, throttles). Celery's broker is always Redis (getresto.settings)."""

from __future__ import annotations

import redis
from django.conf import settings

_clients: dict[str, redis.Redis] = {}


def broker_redis() -> redis.Redis:
    """One client per process and URL; short timeouts, since every caller has a fallback for an outage."""
    url = settings.CELERY_BROKER_URL
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    return _clients[url]
