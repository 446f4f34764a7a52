"""Status: PATCH the order's status at HubRise when staff (or the admin, or the API) change it here.

A newer status replaces the order's status messages still waiting, so the last
one always arrives last; a change that came from HubRise is not sent back, and
replaces them too (it is newer than what they carry). Who wins when both sides
change an order at once: docs/hubrise/orders.md, "Who wins".
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
from orders.status import OrderStatus

NAME = "update_status"


def on_status_changed(sender: type, order: Order, change: StatusChange, **kwargs: object) -> None:
    if change.source == StatusChange.Source.HUBRISE:
        # Our statuses not yet at HubRise are older than its change: sent now, they would overwrite it.
        state.overtaken_by_hubrise(order, [NAME])
        return
    connection = pushed_connection(order)
    if connection is None:
        return
    state.supersede_waiting(order, [NAME])
    write_message(order, connection, NAME, status=change.to_status, change=change)


def send(sending: Sending) -> Result:
    link, order, message = sending.link, sending.order, sending.message
    result = Result(outcome=Outcome.DELIVERED)
    if not link.hubrise_order_id:
        # Cannot happen while creates go first; kept visible rather than silent.
        result.outcome = Outcome.FAILED
        result.error = "The order is not on HubRise yet."
        return result
    reason = ""
    if message.status == OrderStatus.REJECTED and message.change_id:
        reason = StatusChange.objects.filter(pk=message.change_id).values_list("reason", flat=True).first() or ""
    payload = mapping.status_payload(
        message.status, confirmed_time=order.confirmed_time, timezone_name=order.establishment.timezone, reason=reason
    )
    result.payload = payload
    call(
        result,
        lambda: sending.client.patch_order(link.location_id, link.hubrise_order_id, payload),
        f"PATCH /locations/{link.location_id}/orders/{link.hubrise_order_id}",
    )
    return result


KIND = Kind(
    name=NAME,
    label=_("Send the status"),
    send=send,
    receivers=((signals.status_changed, on_status_changed),),
    carries_status=True,
)
