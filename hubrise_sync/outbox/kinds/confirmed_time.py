"""Confirmed time: PATCH the time the restaurant committed to when it changes without a status change.

``orders`` sends ``order_updated`` with the fields it changed. HubRise takes
``confirmed_time`` alone in a PATCH (docs/hubrise/orders.md, "Update"). The
message sends the order's confirmed time as it is when the message goes out, so a
newer change replaces the waiting ones; a change that came from HubRise is not
sent back.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hubrise_sync import mapping
from hubrise_sync.outbox import state
from hubrise_sync.outbox.kind import Kind, Sending
from hubrise_sync.outbox.result import Outcome, Result, call
from hubrise_sync.outbox.write import pushed_connection, write_message
from orders import signals
from orders.models import Order, StatusChange

NAME = "update_confirmed_time"


def on_order_updated(sender: type, order: Order, fields: list[str], source: str, **kwargs: object) -> None:
    if "confirmed_time" not in fields:
        return
    if source == StatusChange.Source.HUBRISE:
        state.overtaken_by_hubrise(order, [NAME])
        return
    connection = pushed_connection(order)
    if connection is None:
        return
    state.supersede_waiting(order, [NAME])
    write_message(order, connection, NAME, status=order.status)


def send(sending: Sending) -> Result:
    link, order = sending.link, sending.order
    result = Result(outcome=Outcome.DELIVERED)
    if not link.hubrise_order_id:
        result.outcome = Outcome.FAILED
        result.error = "The order is not on HubRise yet."
        return result
    payload = mapping.confirmed_time_payload(order.confirmed_time, timezone_name=order.establishment.timezone)
    result.payload = payload
    call(
        result,
        lambda: sending.client.patch_order(link.location_id, link.hubrise_order_id, payload),
        f"PATCH /locations/{link.location_id}/orders/{link.hubrise_order_id}",
    )
    return result


KIND = Kind(
    name=NAME,
    label=_("Send the confirmed time"),
    send=send,
    receivers=((signals.order_updated, on_order_updated),),
)
