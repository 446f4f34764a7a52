"""The last statement of an order's creation: its first history entry, its status counter, its number and the
order list's version, written together.

One statement rather than four because the intake API's cost is mostly round trips
to PostgreSQL, and because it is where the establishment's row gets locked (for the
number): last in the transaction, that lock lasts only until the commit, so that
concurrent orders of one establishment wait on each other no longer than the
numbering needs. The counter is written first (the establishment's row is found
through it): every transaction locks a counter before the establishment's row, as
a status change does (orders.screen_versions), so none waits on another in a circle.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from getresto import statements
from orders import screen_versions
from orders.models import Establishment, Order, OrderStatusCount, StatusChange

# Refs are for humans at the pass: short ("0042") and increasing per establishment;
# the unique id that systems rely on is Order.uid. A ref the caller gave is kept.
_SQL = f"""
WITH counted AS (
    INSERT INTO {OrderStatusCount._meta.db_table} (establishment_id, status, count) VALUES (%(establishment)s, %(status)s, 1)
    ON CONFLICT (establishment_id, status) DO UPDATE SET count = {OrderStatusCount._meta.db_table}.count + 1
    RETURNING establishment_id
), numbered AS (
    UPDATE {Establishment._meta.db_table}
    SET last_order_number = last_order_number + %(numbering)s, screen_version = screen_version + 1
    WHERE id = (SELECT establishment_id FROM counted) RETURNING last_order_number, screen_version
), first AS (
    INSERT INTO {StatusChange._meta.db_table} (order_id, from_status, to_status, at, actor_id, source, source_detail, reason)
    VALUES (%(order)s, '', %(status)s, %(at)s, %(actor)s, %(source)s, %(source_detail)s, '') RETURNING id
)
UPDATE {Order._meta.db_table} o SET ref = CASE
    WHEN %(numbering)s = 0 THEN o.ref
    WHEN n.last_order_number < 10000 THEN lpad(n.last_order_number::text, 4, '0')
    ELSE n.last_order_number::text END
FROM numbered n WHERE o.id = %(order)s
RETURNING o.ref, n.screen_version, (SELECT id FROM first)
"""  # noqa: S608 (only our own table names are formatted in)


def record_creation(order: Order, *, at: datetime, actor_id: int | None, source: str, source_detail: str = "") -> StatusChange:
    """Numbers ``order`` unless it has a ref, counts it, bumps the list's version; returns its first history entry."""
    params = {
        "establishment": order.establishment_id,
        "order": order.pk,
        "status": order.status,
        "numbering": 0 if order.ref else 1,
        "at": at,
        "actor": actor_id,
        "source": source,
        "source_detail": source_detail,
    }
    with connection.cursor() as cursor:
        # Prepared once per connection: PostgreSQL plans this statement once, not on every order.
        statements.execute(cursor, _SQL, params)
        order.ref, version, first_id = cursor.fetchone()
    screen_versions.mirror_on_commit(order.establishment_id, version)
    return StatusChange(
        pk=first_id,
        order=order,
        from_status="",
        to_status=order.status,
        at=at,
        actor_id=actor_id,
        source=source,
        source_detail=source_detail,
    )
