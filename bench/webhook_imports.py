"""bench/webhook.py --creates N: orders of other apps imported per second, end to end, against order.update in the same run.

Two rounds with the Celery worker running, each measured from the first request of
its burst to the last event applied (the order on the list): N ``order.update``
events moving N of our orders to "accepted", then N ``order.create`` events each
carrying a 20-item Uber Eats order (an option per item, a discount, a charge, a
payment, a customer with an address), imported through ``create_order``. A tenth
of the creates is sent again as redeliveries. The check: every HubRise order
imported exactly once, with its 20 items, and the redeliveries changed nothing.
"""

from __future__ import annotations

import json
import sys
import time

ITEMS = 20
UPDATE_EVENT_PREFIX = "bu"
CREATE_EVENT_PREFIX = "bc"
CREATE_ORDER_PREFIX = "bco"


def prepare_updates(establishments: list, count: int, location_of) -> list[tuple[str, str]]:
    """N more of our orders in "new", linked to HubRise ids, for the update round."""
    from django.utils import timezone

    from hubrise_sync.models import OrderLink
    from orders.services import create_order
    from tests.factories import croque_order

    targets = []
    for number in range(count):
        establishment = establishments[number % len(establishments)]
        order = create_order(establishment, croque_order(ref=f"U{number:05d}"), created_at=timezone.now())
        targets.append((location_of(establishment), f"bou{number:05d}"))
        OrderLink.objects.create(order=order, location_id=targets[-1][0], hubrise_order_id=targets[-1][1])
    return targets


def update_body(number: int, location_id: str, order_id: str) -> bytes:
    state = {"id": order_id, "location_id": location_id, "status": "accepted", "created_by": "Get Resto", "custom_fields": {}}
    return json.dumps(
        {
            "id": f"{UPDATE_EVENT_PREFIX}{number:06d}",
            "resource_type": "order",
            "event_type": "update",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
            "order_id": order_id,
            "location_id": location_id,
            "previous_state": {**state, "status": "new"},
            "new_state": state,
        }
    ).encode()


def create_body(number: int, location_id: str) -> bytes:
    order_id = f"{CREATE_ORDER_PREFIX}{number:05d}"
    items = [
        {
            "product_name": f"Plat {line}",
            "sku_name": "Normal",
            "sku_ref": f"PLAT-{line}",
            "price": "9.50 EUR",
            "quantity": "1",
            "tax_rate": "10.0",
            "options": [{"option_list_name": "Cuisson", "name": "À point", "ref": "CUIS-PT", "price": "0.50 EUR", "quantity": 1}],
            "deleted": False,
        }
        for line in range(ITEMS)
    ]
    state = {
        "id": order_id,
        "location_id": location_id,
        "private_ref": None,
        "status": "new",
        "ref": f"UB{number:05d}",
        "channel": "Uber Eats",
        "created_by": "Uber Eats",
        "service_type": "delivery",
        "service_type_ref": "UBER-LIV",
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        "expected_time": None,
        "confirmed_time": None,
        "collection_code": f"UB{number:05d}",
        "items": items,
        "deals": {},
        "discounts": [{"name": "Discount", "price_off": "5.00 EUR", "deleted": False}],
        "charges": [{"name": "Delivery charge", "price": "2.50 EUR", "deleted": False}],
        "payments": [{"name": "Uber Eats", "ref": "UBER", "amount": "197.50 EUR", "info": {"paid_online": True}}],
        "customer": {
            "first_name": "Jules",
            "last_name": "L.",
            "phone": "+33612345678",
            "address_1": "12 rue des Martyrs",
            "postal_code": "75009",
            "city": "Paris",
            "delivery_notes": "Phone access code: 123",
        },
        "delivery": None,
        "custom_fields": {},
    }
    return json.dumps(
        {
            "id": f"{CREATE_EVENT_PREFIX}{number:06d}",
            "resource_type": "order",
            "event_type": "create",
            "created_at": state["created_at"],
            "order_id": order_id,
            "location_id": location_id,
            "new_state": state,
        }
    ).encode()


def wait_until_done(prefix: str, count: int, started: float, timeout: float) -> float:
    """Seconds from ``started`` until ``count`` events of ``prefix`` are recorded and none is pending."""
    from hubrise_sync.models import InboundEvent

    events = InboundEvent.objects.filter(event_id__startswith=prefix)
    deadline = time.monotonic() + timeout
    while events.count() < count or events.filter(outcome=InboundEvent.Outcome.PENDING).exists():
        if time.monotonic() > deadline:
            sys.exit(f"events {prefix}… not all applied within {timeout:.0f} s")
        time.sleep(0.02)
    return time.perf_counter() - started


def check_imported_once(count: int) -> None:
    from django.db.models import Count

    from hubrise_sync.models import InboundEvent, OrderLink
    from orders.models import Order

    links = OrderLink.objects.filter(hubrise_order_id__startswith=CREATE_ORDER_PREFIX)
    orders = Order.objects.filter(hubrise__in=links).annotate(lines=Count("items"))
    problems = []
    if links.count() != count or orders.count() != count:
        problems.append(f"{links.count()} links, {orders.count()} orders for {count} HubRise orders")
    if orders.exclude(lines=ITEMS).exists():
        problems.append(f"{orders.exclude(lines=ITEMS).count()} orders without their {ITEMS} items")
    imported = InboundEvent.objects.filter(event_id__startswith=CREATE_EVENT_PREFIX, outcome=InboundEvent.Outcome.IMPORTED)
    if imported.count() != count:
        problems.append(f"{imported.count()} events imported (expected {count})")
    updated = InboundEvent.objects.filter(event_id__startswith=UPDATE_EVENT_PREFIX, outcome=InboundEvent.Outcome.APPLIED)
    if updated.count() != count:
        problems.append(f"{updated.count()} updates applied (expected {count})")
    if problems:
        sys.exit("NOT imported exactly once: " + "; ".join(problems))
    print(f"check: {count} orders of other apps imported exactly once with their {ITEMS} items; redeliveries changed nothing")
