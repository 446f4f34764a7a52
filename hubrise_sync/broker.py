"""A Redis client on Celery's broker, for the small shared state the workers and web processes keep there."""

from __future__ import annotations

from django.conf import settings

_clients: dict[str, object] = {}


def redis_client():
    """The broker's Redis (one client per process and URL), or None when the broker is not Redis."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        return None
    if url not in _clients:
        import redis

        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    return _clients[url]
