"""The courier of an order: HubRise's delivery object, kept beside the order and shown to staff.

It arrives inside an order's states (``order.create``, ``order.update``: the
``delivery`` key) and in ``delivery.create`` / ``delivery.update`` events, whose
state is the delivery itself (docs/hubrise/deliveries.md). Each copy carries
the whole object, so the newest one by HubRise's clock replaces what we have;
an older one arriving late is ignored. Staff only read it: a delivery belongs to
the carrier's app, so nothing here is sent back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from hubrise_sync.inbound_time import parse_time
from hubrise_sync.models import InboundEvent, OrderDelivery
from orders import screen_versions
from orders.models import Order

Outcome = InboundEvent.Outcome

_TEXT = {"carrier": 200, "ref": 200, "status": 32, "driver_name": 200, "driver_phone": 64}


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    return value.strip()[: _TEXT[key]] if isinstance(value, str) else ""


def _url(value: Any) -> str:
    # Shown as a link: only a web address, never another scheme.
    if isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) <= 1000:
        return value
    return ""


@transaction.atomic
def store(order: Order, data: dict, *, changed_at: datetime | None) -> tuple[str, str]:
    """Keeps ``data`` as the order's delivery unless we hold a newer one; returns (outcome, detail)."""
    current = OrderDelivery.objects.select_for_update().filter(order=order).first()
    if current is not None and changed_at is not None and current.changed_at is not None and changed_at < current.changed_at:
        return Outcome.IGNORED_OUTDATED, "An older copy of the delivery than the one kept."
    fields = {
        "hubrise_delivery_id": str(data.get("id") or "")[:64],
        **{key: _text(data, key) for key in _TEXT},
        "estimated_pickup_at": parse_time(data.get("estimated_pickup_at")),
        "estimated_dropoff_at": parse_time(data.get("estimated_dropoff_at")),
        "tracking_url": _url(data.get("tracking_url")),
        "changed_at": changed_at or (current.changed_at if current else None),
        # The driver's position moves every few seconds and is never shown: not worth a write each time.
        "raw": {key: value for key, value in data.items() if key not in ("driver_latitude", "driver_longitude")},
    }
    if current is not None:
        changed = [key for key, value in fields.items() if getattr(current, key) != value]
        if not changed or changed == ["changed_at"]:
            if changed:
                current.changed_at = fields["changed_at"]
                current.save(update_fields=["changed_at"])
            return Outcome.NO_CHANGE, f"Delivery already {current.status}."
        for key in changed:
            setattr(current, key, fields[key])
        current.save(update_fields=changed)
        # The courier line on the list and the order page (last in the transaction: orders.screen_versions).
        screen_versions.changed(order.establishment_id, order.pk)
        return Outcome.APPLIED, f"Delivery {current.carrier}: {current.status}."
    created = OrderDelivery.objects.create(order=order, **fields)
    screen_versions.changed(order.establishment_id, order.pk)
    return Outcome.APPLIED, f"Delivery {created.carrier}: {created.status}."


def from_order_state(order: Order, state: dict, *, changed_at: datetime | None) -> None:
    """The delivery an order's state carries, if any (an order update attaches or moves it)."""
    delivery = state.get("delivery")
    if isinstance(delivery, dict) and delivery:
        store(order, delivery, changed_at=changed_at)
