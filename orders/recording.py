"""The last statement of an order's creation: its first history entry, its status counter, its number, the
order list's version and the order's row itself, written together.

One statement rather than five because the intake API's cost is mostly round trips
to PostgreSQL, and because it is where the establishment's row gets locked (for the
number): last in the transaction, that lock lasts only until the commit, so that
concurrent orders of one establishment wait on each other no longer than the
numbering needs. The counter is written first (the establishment's row is found
through it): every transaction locks a counter before the establishment's row, as
a status change does (orders.screen_versions), so none waits on another in a circle.

The order's row is inserted here, with its number, rather than first and then numbered: an
UPDATE of its indexed ``ref`` rewrote the row and every one of its indexes. Its lines, history
and messages, written before it with its id taken from the sequence (in the lines' statement:
``statements.insert_together(parent=…)``), refer to it through foreign keys that PostgreSQL
checks at the commit (Django makes them DEFERRABLE INITIALLY DEFERRED).
"""

from __future__ import annotations

import functools
from datetime import datetime

from django.db import connection, connections

from getresto import statements
from orders import screen_versions
from orders.models import Establishment, Order, OrderStatusCount, StatusChange

# Refs are for humans at the pass: short ("0042") and increasing per establishment;
# the unique id that systems rely on is Order.uid. A ref the caller gave is kept.
_WITH = f"""
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
"""  # noqa: S608 (only our own table names are formatted in)
_NUMBER = """(SELECT CASE
    WHEN %(numbering)s = 0 THEN %(ref)s
    WHEN n.last_order_number < 10000 THEN lpad(n.last_order_number::text, 4, '0')
    ELSE n.last_order_number::text END
FROM numbered n)"""


@functools.cache
def _statement(alias: str) -> tuple[str, list]:
    """The statement for the database ``alias``, and the order's fields whose values it takes (the id and the ref apart)."""
    meta = Order._meta
    quote = connections[alias].ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    columns = [meta.pk.column] + [field.column for field in fields]
    values = ["%(order)s"] + [_NUMBER if field.attname == "ref" else f"%(c{index})s" for index, field in enumerate(fields)]
    # Only the model's own names are formatted in; every value is a parameter.
    sql = (
        f"{_WITH}INSERT INTO {quote(meta.db_table)} ({', '.join(quote(column) for column in columns)})"  # noqa: S608
        f" VALUES ({', '.join(values)})"
        " RETURNING ref, (SELECT screen_version FROM numbered), (SELECT id FROM first)"
    )
    return sql, statements.prepared_fields(fields, connections[alias])


def record_creation(order: Order, *, at: datetime, actor_id: int | None, source: str, source_detail: str = "") -> StatusChange:
    """Inserts ``order`` (its id taken already), numbered unless it has a ref, counts it, bumps the list's version;
    returns its first history entry."""
    sql, fields = _statement(connection.alias)
    params = {
        "establishment": order.establishment_id,
        "order": order.pk,
        "status": order.status,
        "numbering": 0 if order.ref else 1,
        "ref": order.ref,
        "at": at,
        "actor": actor_id,
        "source": source,
        "source_detail": source_detail,
    }
    for index, value in enumerate(statements.prepared_values(order, fields, connection)):
        params[f"c{index}"] = value
    with connection.cursor() as cursor:
        # Prepared once per connection: PostgreSQL plans this statement once, not on every order.
        statements.execute(cursor, sql, params)
        order.ref, version, first_id = cursor.fetchone()
    statements.mark_inserted(order, order.pk, connection.alias)
    screen_versions.mirror_on_commit(order.establishment_id, version)
    return statements.new(
        StatusChange,
        id=first_id,
        order=order,
        from_status="",
        to_status=order.status,
        at=at,
        actor_id=actor_id,
        source=source,
        source_detail=source_detail,
    )
