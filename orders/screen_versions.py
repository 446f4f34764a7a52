"""What an open screen shows changed: the versions that let a live refresh answer "nothing new" for almost nothing.

Every establishment (its order list) and every order (its page) has a counter,
``screen_version``, bumped in the same transaction as the change a screen would
show: an order created, a status, a sync badge, a print job's state, a pause, a
menu availability… Anything that changes what staff see calls::

    from orders import screen_versions
    screen_versions.changed(establishment_id)             # the order list
    screen_versions.changed(establishment_id, order.pk)   # the list and the order's page

The database holds the truth; once the transaction commits, the new values are
copied to Redis, where orders.live_poll reads them without any database query.
A copy only ever moves forward (a slower commit cannot put an older value back),
and expires after ``MIRROR_SECONDS``: if the copy after a commit is lost (Redis
unreachable for that moment), screens catch up once it has expired, when the next
render reads the database and copies it again. Each copy that moves forward is also
published on ``channel()`` (the key and its new value), for the screens that listen
rather than poll (orders.live_stream).
"""

from __future__ import annotations

import logging
from functools import cache

import redis
from django.conf import settings
from django.db import connection, transaction
from redis.connection import parse_url

from getresto.redis import broker_redis
from orders.models import Establishment, Order

logger = logging.getLogger(__name__)

# How long a copied version is trusted without the database being read again.
MIRROR_SECONDS = 120
PREFIX = "gr:screen"


@cache
def channel(redis_url: str) -> str:
    """Where each version that moved forward is announced, as "<key> <version>". Channels are shared by all the
    databases of a Redis server: the database's number keeps apart the deployments (and test runs) sharing one."""
    return f"{PREFIX}:changes:{parse_url(redis_url).get('db', 0)}"


# Sets a key only to a higher value than it has. Only then does its expiry start again: a value higher than the
# database's (a database restored from a backup) is trusted for MIRROR_SECONDS at most. A value that moved forward
# is announced in the same call: a listening screen is never told of a version Redis does not have yet.
_FORWARD = """
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
local wanted = tonumber(ARGV[1])
if wanted > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  redis.call('PUBLISH', ARGV[3], KEYS[1] .. ' ' .. ARGV[1])
  return wanted
end
return current
"""


def establishment_key(establishment_id: int) -> str:
    return f"{PREFIX}:e:{establishment_id}"


def order_key(establishment_id: int, order_id: int) -> str:
    # The establishment is part of the key: a poll for an order under another establishment finds no
    # version and takes the full path, whose query answers 404.
    return f"{PREFIX}:o:{establishment_id}:{order_id}"


_BUMP_BOTH = (
    f"WITH e AS (UPDATE {Establishment._meta.db_table} SET screen_version = screen_version + 1 WHERE id = %s"  # noqa: S608
    f" RETURNING screen_version), o AS (UPDATE {Order._meta.db_table} SET screen_version = screen_version + 1"
    f" WHERE id = %s AND establishment_id = %s RETURNING screen_version)"
    f" SELECT (SELECT screen_version FROM e), (SELECT screen_version FROM o)"
)


def changed(establishment_id: int, order_id: int | None = None) -> None:
    """Record that what a screen shows of the establishment (and of ``order_id``'s page) changed.

    One statement, in the caller's transaction (or its own); the copy to Redis happens
    on commit, so that no screen is told of a change that is then rolled back.
    """
    if order_id is None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Establishment._meta.db_table} SET screen_version = screen_version + 1"  # noqa: S608
                " WHERE id = %s RETURNING screen_version",
                [establishment_id],
            )
            row = cursor.fetchone()
        if row is not None:
            mirror_on_commit(establishment_id, row[0])
        return
    with connection.cursor() as cursor:
        cursor.execute(_BUMP_BOTH, [establishment_id, order_id, establishment_id])
        establishment_version, order_version = cursor.fetchone()
    if establishment_version is not None:
        mirror_on_commit(establishment_id, establishment_version, order_id, order_version)


def mirror_on_commit(establishment_id: int, version: int, order_id: int | None = None, order_version: int | None = None) -> None:
    """For callers that bumped the counter in a statement of their own (the order numbering does)."""
    transaction.on_commit(lambda: mirror(establishment_id, version, order_id, order_version))


def mirror(establishment_id: int, version: int | None, order_id: int | None = None, order_version: int | None = None) -> None:
    """Copy versions read or written in the database to Redis; a failure only delays screens (see the module)."""
    try:
        pipe = broker_redis().pipeline(transaction=False)
        announce_on = channel(settings.CELERY_BROKER_URL)
        if version is not None:
            pipe.eval(_FORWARD, 1, establishment_key(establishment_id), version, MIRROR_SECONDS, announce_on)
        if order_id is not None and order_version is not None:
            pipe.eval(_FORWARD, 1, order_key(establishment_id, order_id), order_version, MIRROR_SECONDS, announce_on)
        pipe.execute()
    except (redis.RedisError, ValueError) as error:  # ValueError: a broker URL that is not Redis (benches)
        logger.warning("Screen versions not copied to Redis (screens catch up within %s s): %s", MIRROR_SECONDS, error)


_BUMP_OF_ORDERS = (
    f"WITH locked AS (SELECT id FROM {Establishment._meta.db_table} WHERE id IN"  # noqa: S608
    f" (SELECT establishment_id FROM {Order._meta.db_table} WHERE id = ANY(%s)) ORDER BY id FOR NO KEY UPDATE)"
    f" UPDATE {Establishment._meta.db_table} e SET screen_version = e.screen_version + 1 FROM locked"
    f" WHERE e.id = locked.id RETURNING e.id, e.screen_version"
)


def changed_for_orders(order_ids) -> None:
    """The order lists of these orders' establishments changed (a sync badge, a ticket's state): one statement.

    The establishments are locked in id order, so that two such transactions never wait on each other in a circle.
    Call it last in a transaction that locks orders or their messages: every writer takes those before the
    establishment's counter, so no cycle forms with them either.
    """
    ids = sorted({order_id for order_id in order_ids if order_id is not None})
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(_BUMP_OF_ORDERS, [ids])
        bumped = cursor.fetchall()
    for establishment_id, version in bumped:
        mirror_on_commit(establishment_id, version)
