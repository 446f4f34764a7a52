"""The end of an order's first statement: its first history entry, its status counter, its number, the order
list's version and the order's row itself, written with its lines (``statements.insert_together``).

In the lines' statement rather than in statements of their own because the intake API's cost
is mostly round trips to PostgreSQL. This is where the establishment's row gets locked (for the
number): what the order's transaction does after this statement is short (the commit; for an
establishment with printers, their tickets), so concurrent orders of one establishment wait on
each other little longer than the numbering needs. The counter is written first (the
establishment's row is found through it): every transaction locks a counter before the
establishment's row, as a status change does (orders.screen_versions), so none waits on another
in a circle.

The order's row is inserted with its number rather than inserted and then numbered: an UPDATE
of its indexed ``ref`` rewrote the row and every one of its indexes. Its id is taken from the
sequence at the start of the statement (``p``); its lines and messages refer to it through
foreign keys that PostgreSQL checks at the commit (Django makes them DEFERRABLE INITIALLY DEFERRED).
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
counted AS (
    INSERT INTO {OrderStatusCount._meta.db_table} (establishment_id, status, count) VALUES (%s, %s, 1)
    ON CONFLICT (establishment_id, status) DO UPDATE SET count = {OrderStatusCount._meta.db_table}.count + 1
    RETURNING establishment_id
), numbered AS (
    UPDATE {Establishment._meta.db_table}
    SET last_order_number = last_order_number + %s, screen_version = screen_version + 1
    WHERE id = (SELECT establishment_id FROM counted) RETURNING last_order_number, screen_version
), first AS (
    INSERT INTO {StatusChange._meta.db_table} (order_id, from_status, to_status, at, actor_id, source, source_detail, reason)
    VALUES ((SELECT id FROM p), '', %s, %s, %s, %s, %s, '') RETURNING id
)"""  # noqa: S608 (only our own table names are formatted in)
# Its parameters: whether the order is numbered (0: it keeps the ref it came with), and that ref.
_NUMBER = """(SELECT CASE
    WHEN %s = 0 THEN %s
    WHEN n.last_order_number < 10000 THEN lpad(n.last_order_number::text, 4, '0')
    ELSE n.last_order_number::text END
FROM numbered n)"""
_RETURNS = "(SELECT ref FROM created), (SELECT screen_version FROM numbered), (SELECT id FROM first)"


@functools.cache
def _parts(alias: str) -> tuple[str, list, int]:
    """The statement's end for the database ``alias``, the order's fields whose values it takes (the id and the ref
    apart), and where among those values the ref's two parameters go."""
    meta = Order._meta
    quote = connections[alias].ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    columns = [meta.pk.column] + [field.column for field in fields]
    values = ["(SELECT id FROM p)"] + [_NUMBER if field.attname == "ref" else "%s" for field in fields]
    # Only the model's own names are formatted in; every value is a parameter.
    ctes = (
        f"{_WITH}, created AS (INSERT INTO {quote(meta.db_table)} ({', '.join(quote(column) for column in columns)})"  # noqa: S608
        f" VALUES ({', '.join(values)}) RETURNING ref)"
    )
    ref_place = [field.attname for field in fields].index("ref")
    taken = [field for field in fields if field.attname != "ref"]
    return ctes, statements.prepared_fields(taken, connections[alias]), ref_place


def creation(order: Order, *, at: datetime, actor_id: int | None, source: str, source_detail: str = "") -> statements.Then:
    """What writes ``order`` (its id taken in the same statement), numbered unless it has a ref, counts it and bumps
    the list's version; for ``statements.insert_together(then=…)``, whose answer goes to ``recorded``."""
    ctes, fields, ref_place = _parts(connection.alias)
    numbering = 0 if order.ref else 1
    values = statements.prepared_values(order, fields, connection)
    params = [order.establishment_id, order.status, numbering, order.status, at, actor_id, source, source_detail]
    params += [*values[:ref_place], numbering, order.ref, *values[ref_place:]]
    return statements.Then(ctes=ctes, returns=_RETURNS, params=params)


def recorded(
    order: Order, handed_back: tuple, *, at: datetime, actor_id: int | None, source: str, source_detail: str = ""
) -> StatusChange:
    """The order as written by ``creation``'s statement (its number, the list's version); its first history entry."""
    order.ref, version, first_id = handed_back
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
