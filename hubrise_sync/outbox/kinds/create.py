"""Create: POST the whole order to HubRise when it is placed here (docs/hubrise/orders.md, "Create")."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from getresto import statements
from hubrise_sync import mapping
from hubrise_sync.models import OrderLink
from hubrise_sync.outbox.kind import Kind, Sending
from hubrise_sync.outbox.result import Outcome, Result, call
from hubrise_sync.outbox.write import connection_of, message_for_new_order, write_message
from orders import signals
from orders.models import Order, StatusChange

NAME = "create"


def rows_of_new_order(sender: type, order: Order, source: str, **kwargs: object) -> list[list] | None:
    """The new order's link and create message, written in the order's own statement (orders.signals.order_rows)."""
    # An order that came from HubRise is already there.
    if source == StatusChange.Source.HUBRISE:
        return None
    connection = connection_of(order.establishment_id, order.establishment)
    if connection is None:
        return None
    link = statements.new(OrderLink, order=order, location_id=connection.location_id)
    return [[link], [message_for_new_order(order, connection, NAME, status=order.status)]]


def push(order: Order, connection) -> None:
    """Links an order made before connecting and writes its create, in the caller's transaction."""
    link, created = OrderLink.objects.get_or_create(order=order, defaults={"location_id": connection.location_id})
    if not created and link.hubrise_order_id:
        # Already at HubRise (an order imported from there): it must never be created again.
        return
    write_message(order, connection, NAME, status=order.status)


def send(sending: Sending) -> Result:
    """POST the order, unless an earlier try may have stored it: then it is looked up by private_ref first."""
    link, order = sending.link, sending.order
    result = Result(outcome=Outcome.DELIVERED)
    if link.hubrise_order_id:
        result.outcome = Outcome.ADOPTED
        result.hubrise_order_id = link.hubrise_order_id
        return result
    if sending.look_up_first:
        found = call(
            result,
            lambda: sending.client.find_orders(link.location_id, private_ref=str(order.uid)),
            f"GET /locations/{link.location_id}/orders?private_ref={order.uid}",
        )
        if found is None:
            # The lookup failed: the create is still unknown, whatever the error said.
            result.surely_not_recorded = False
            return result
        orders = found.data if isinstance(found.data, list) else []
        if orders:
            result.outcome = Outcome.ADOPTED
            result.hubrise_order_id = str(orders[0]["id"])
            return result
    payload = mapping.order_payload(order, status=sending.message.status, timezone_name=order.establishment.timezone)
    result.payload = payload
    created = call(
        result, lambda: sending.client.create_order(link.location_id, payload), f"POST /locations/{link.location_id}/orders"
    )
    if created is not None:
        result.hubrise_order_id = str(created.data["id"])
    return result


KIND = Kind(
    name=NAME,
    label=_("Create the order"),
    send=send,
    receivers=((signals.order_rows, rows_of_new_order),),
    look_up_before_retry=True,
)
