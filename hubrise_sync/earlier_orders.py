"""The orders recorded here before the establishment was connected, sent to HubRise once if the manager wants.

The settings page of an establishment not yet connected says its orders stay here
and are sent once it is connected. Orders are only pushed from the moment a
connection exists (``outbox.write.pushed_connection``), so after connecting, the
page offers once to send those still open; finished ones would only reach the POS
as noise. The manager sends them or declines, and the offer is gone either way.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from hubrise_sync.models import Connection
from hubrise_sync.outbox.kinds import create
from orders import screen_versions
from orders.models import Order
from orders.status import FINISHED_STATUSES

# More than a service's worth of open orders means old ones nobody finished: sent all the same, in one go.
MAX_SENT = 500


def earlier_open_orders(connection: Connection):
    """Open orders of the establishment that never went to HubRise, oldest first."""
    return (
        Order.objects.filter(
            establishment_id=connection.establishment_id, hubrise__isnull=True, created_at__lt=connection.connected_at
        )
        .exclude(status__in=FINISHED_STATUSES)
        .order_by("created_at", "pk")
    )


def offer_open(connection: Connection) -> bool:
    return connection.earlier_orders_answered_at is None and earlier_open_orders(connection).exists()


@transaction.atomic
def answer(connection: Connection, *, send: bool) -> int:
    """Sends the earlier open orders (``send``) or declines; either way the offer is not made again. Returns how many go."""
    locked = Connection.objects.select_for_update().get(pk=connection.pk)
    if locked.earlier_orders_answered_at is not None:
        return 0
    locked.earlier_orders_answered_at = timezone.now()
    locked.save(update_fields=["earlier_orders_answered_at"])
    if not send:
        return 0
    orders = list(earlier_open_orders(locked).select_for_update(of=("self",))[:MAX_SENT])
    for order in orders:
        create.push(order, locked)
    # Their badges move from "not connected" to "waiting" (last in the transaction: orders.screen_versions).
    screen_versions.changed_for_orders(order.pk for order in orders)
    return len(orders)
