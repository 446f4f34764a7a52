"""What every kind does to write its message, inside the order's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Model

from hubrise_sync.models import Connection, OrderLink, OutboxMessage
from hubrise_sync.outbox import state, wake
from orders.models import Order, StatusChange


def connection_of(establishment_id: int, establishment=None) -> Connection | None:
    """The establishment's connection; without a query when ``establishment`` was loaded with it
    (orders.extensions.establishment_select_related, as the intake API does)."""
    if establishment is not None and establishment._state.fields_cache.get("hubrise_connection", False) is not False:
        return establishment._state.fields_cache["hubrise_connection"]
    return Connection.objects.filter(establishment_id=establishment_id).first()


def pushed_connection(order: Order) -> Connection | None:
    """The connection to write an update of the order for, or None when the order is not pushed.

    Orders of an establishment without a connection are never pushed, not even once
    one is made later: only orders with a link (sent, or on their way) get updates.
    """
    if not OrderLink.objects.filter(order=order).exists():
        return None
    return connection_of(order.establishment_id)


def write_message(
    order: Order,
    connection: Connection,
    kind: str,
    *,
    status: str,
    change: StatusChange | None = None,
    with_rows: Sequence[Model] = (),
) -> OutboxMessage:
    """Writes the message in the current transaction and wakes a drain once it commits; ``with_rows``: new objects of
    one model inserted in the message's statement."""
    message = state.new(order, connection, kind, status=status, change=change, with_rows=with_rows)
    if message.state == state.State.PENDING:
        transaction.on_commit(lambda: wake.publish([message.pk]))
    return message
