"""Delivery rules: validation of a delivery create or PATCH, its auto-set times, and its two views.

A delivery lives inside its order's stored body (``body["delivery"]``), so an order's previous
and new states naturally carry it. The order shows it without the driver's position, which
changes too often to be part of ``order.update`` (HubRise's orders reference, §11).
These functions are pure.
"""

from __future__ import annotations

import time
from typing import Any

from .errors import Errors
from .formats import FormatError, local_time, parse_decimal, parse_money, parse_time

STATUSES = (
    "pending",
    "pickup_enroute",
    "pickup_approaching",
    "pickup_waiting",
    "dropoff_enroute",
    "dropoff_approaching",
    "dropoff_waiting",
    "delivered",
    "cancelled",
)
STRING_FIELDS = (
    "carrier",
    "carrier_ref",
    "ref",
    "tracking_url",
    "driver_pickup_url",
    "driver_name",
    "driver_phone",
    "driver_phone_access_code",
)
TIME_FIELDS = ("estimated_pickup_at", "estimated_dropoff_at", "assigned_at", "pickup_at", "delivered_at", "cancelled_at")
POSITION_FIELDS = ("driver_latitude", "driver_longitude")
FIELDS = (*STRING_FIELDS[:3], "status", "fee", *STRING_FIELDS[3:], *POSITION_FIELDS, *TIME_FIELDS)
NOT_UPDATABLE = ("carrier", "carrier_ref", "fee")
# The time HubRise stamps when the status moves to each of these, unless the request sets it.
STAMPED_AT = {
    "pickup_enroute": "assigned_at",
    "dropoff_enroute": "pickup_at",
    "delivered": "delivered_at",
    "cancelled": "cancelled_at",
}


def check(payload: Any, currency: str, current: dict | None) -> dict:
    """Returns the stored delivery after a create (``current`` None) or a PATCH, or raises ValidationFailed."""
    errors = Errors()
    if not isinstance(payload, dict):
        errors.add("base", "the body must be a JSON object")
        errors.raise_if_any()
    creating = current is None
    delivery = dict.fromkeys(FIELDS) if creating else dict(current)
    for key in payload:
        if key not in FIELDS:
            errors.add(key, "is not a known field")
        elif not creating and key in NOT_UPDATABLE:
            errors.add(key, "cannot be updated")
    for key in STRING_FIELDS:
        if key in payload:
            value = payload[key]
            required = key == "carrier"
            if (value is None and required) or (
                value is not None and (not isinstance(value, str) or (required and not value.strip()))
            ):
                errors.add(key, "must be a non-empty string" if required else "must be a string")
    if creating and payload.get("carrier") is None:
        errors.add("carrier", "is required")
    status = payload.get("status", None if creating else delivery["status"])
    if status is None:
        errors.add("status", "is required")
    elif status not in STATUSES:
        errors.add("status", f"{status!r} is not one of {', '.join(STATUSES)}")
    if payload.get("fee") is not None:
        try:
            parse_money(payload["fee"], currency)
        except FormatError as error:
            errors.add("fee", str(error))
    for key in TIME_FIELDS:
        if payload.get(key) is not None:
            try:
                parse_time(payload[key])
            except FormatError as error:
                errors.add(key, str(error))
    for key in POSITION_FIELDS:
        if payload.get(key) is not None:
            try:
                parse_decimal(payload[key])
            except FormatError as error:
                errors.add(key, str(error))
    errors.raise_if_any()
    for key in FIELDS:
        if key in payload:
            delivery[key] = payload[key]
    previous_status = None if creating else current["status"]
    stamped = STAMPED_AT.get(status)
    if stamped and status != previous_status and stamped not in payload:
        delivery[stamped] = local_time(time.time(), "UTC")
    return delivery


def resource_view(delivery: dict, *, delivery_id: str, order_id: str, location_id: str, timezone: str) -> dict:
    """``GET .../orders/:id/delivery``: every field, times in the location's time zone."""
    view = {"id": delivery_id, "order_id": order_id, "location_id": location_id}
    for key in FIELDS:
        value = delivery.get(key)
        view[key] = local_time(parse_time(value), timezone) if key in TIME_FIELDS and value else value
    return view


def on_order(stored: dict | None, *, order_id: str, location_id: str, timezone: str) -> dict | None:
    """The order's ``delivery`` field: the resource without the driver's position."""
    if stored is None:
        return None
    view = resource_view(
        stored["fields"], delivery_id=stored["id"], order_id=order_id, location_id=location_id, timezone=timezone
    )
    for key in POSITION_FIELDS:
        view.pop(key)
    return view
