"""What every kind does to write its message, inside the order's transaction."""

from __future__ import annotations

from django.db import transaction

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
    order: Order, connection: Connection, kind: str, *, status: str, change: StatusChange | None = None
) -> OutboxMessage:
    """Writes the message in the current transaction and wakes a drain once it commits."""
    return _woken_after_commit(state.new(order, connection, kind, status=status, change=change))


def message_for_new_order(order: Order, connection: Connection, kind: str, *, status: str) -> OutboxMessage:
    """``write_message``'s message for an order not written yet, left for the order's own statement to write
    (orders.signals.order_rows); its drain is woken all the same once the transaction commits."""
    return _woken_after_commit(state.unwritten(order, connection, kind, status=status))


def _woken_after_commit(message: OutboxMessage) -> OutboxMessage:
    if message.state == state.State.PENDING:
        # Read at the commit: by then the message is written and has its id.
        transaction.on_commit(lambda: wake.publish([message.pk]))
    return message
