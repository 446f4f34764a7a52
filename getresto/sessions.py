"""Sessions read from Redis, written to PostgreSQL and Redis (Django's cached_db), that keep working while Redis is down.

A page then reads its session from Redis instead of querying the database, and
the live refresh can tell who asks without any query (orders.live_poll). Django's
cached_db already survives a failed cache read or write; this also survives the
cache being unreachable where it would raise (refilling the cache after a miss,
deleting, checking a key), so that Redis being down costs a query, never a page.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from redis import RedisError

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    def load(self) -> dict:
        try:
            return super().load()
        except RedisError as error:
            logger.warning("Session read from the database only, Redis is unreachable: %s", error)
            return DatabaseStore.load(self)

    def exists(self, session_key: str) -> bool:
        try:
            return super().exists(session_key)
        except RedisError:
            return DatabaseStore.exists(self, session_key)

    def delete(self, session_key: str | None = None) -> None:
        try:
            super().delete(session_key)
        except RedisError as error:
            # The database row is gone (deleted first): the copy in Redis expires with the session.
            logger.warning("Session deleted from the database only, Redis is unreachable: %s", error)
