"""Deliveries: the delivery sub-resource of an order, its events, and a courier the sandbox plays.

Attaching or changing a delivery records ``delivery.create`` / ``delivery.update`` and, since
the order's ``delivery`` field changes, ``order.update``; a change of the driver's position alone
records only ``delivery.update`` (HubRise's orders reference, §11).

A *plan* moves a delivery through its statuses over time as a carrier app would, from
``pending`` to ``delivered``, with the driver's position updated on the way.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import delivery_rules
from .errors import ValidationFailed, not_found
from .events import emit
from .formats import local_time, new_id, parse_time
from .permissions import require_any

if TYPE_CHECKING:
    from .sandbox import Connection, Sandbox

# Where the demo courier starts, picks up and drops off when the order gives no coordinates (Paris 9e).
RESTAURANT_POSITION = (Decimal("48.8790"), Decimal("2.3390"))
DEFAULT_DROPOFF = (Decimal("48.8867"), Decimal("2.3431"))
COURIER_START = (Decimal("48.8722"), Decimal("2.3305"))
DRIVERS = (("Karim", "+33612873410"), ("Inès", "+33698123457"), ("Thomas", "+33745120986"), ("Aïcha", "+33678451230"))
# (status or None for a position update only, where the driver is: 0 start, 1 restaurant, 2 customer, with a fraction)
PLAN = (
    ("pickup_enroute", (0, 1, Decimal("0.2"))),
    (None, (0, 1, Decimal("0.6"))),
    ("pickup_approaching", (0, 1, Decimal("0.9"))),
    ("pickup_waiting", (0, 1, Decimal("1"))),
    ("dropoff_enroute", (1, 2, Decimal("0.1"))),
    (None, (1, 2, Decimal("0.5"))),
    ("dropoff_approaching", (1, 2, Decimal("0.85"))),
    ("dropoff_waiting", (1, 2, Decimal("1"))),
    ("delivered", (1, 2, Decimal("1"))),
)


class Deliveries:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store

    # Through the API ------------------------------------------------------------------------

    def get(self, connection: Connection, order_id: str) -> dict:
        require_any(connection.scope, "orders.read")
        self._order(order_id, connection.location_id)
        delivery = self.resource_of(order_id)
        if delivery is None:
            raise not_found(f"Order {order_id!r} has no delivery")
        return delivery

    def resource_of(self, order_id: str) -> dict | None:
        """The order's delivery as ``GET .../delivery`` answers it (driver position included), or None."""
        row = self._order(order_id, None)
        stored = json.loads(row["body"]).get("delivery")
        return None if stored is None else self._resource(row, stored)

    def create(self, connection: Connection, order_id: str, payload: Any) -> dict:
        require_any(connection.scope, "orders.write")
        return self.create_as(connection.client_id, order_id, payload, connection.location_id)

    def patch(self, connection: Connection, order_id: str, payload: Any) -> dict:
        require_any(connection.scope, "orders.write")
        return self.patch_as(connection.client_id, order_id, payload, connection.location_id)

    # As any app ---------------------------------------------------------------------------------

    def create_as(self, client_id: str, order_id: str, payload: Any, location_id: str | None = None) -> dict:
        with self.store.transaction() as db:
            row = self._order(order_id, location_id, db)
            before = json.loads(row["body"])
            if before.get("delivery") is not None:
                raise ValidationFailed([{"field": "base", "message": "this order already has a delivery: PATCH it"}])
            if before.get("service_type") != "delivery":
                message = f"only an order whose service_type is delivery can have one, not {before.get('service_type')!r}"
                raise ValidationFailed([{"field": "base", "message": message}])
            stored = {"id": new_id(), "fields": delivery_rules.check(payload, row["currency"], None)}
            self._save(db, row, before, {**before, "delivery": stored}, client_id, "create")
        self.sandbox.dispatcher.wake()
        return self._resource(self.sandbox.order_row(order_id), stored)

    def patch_as(self, client_id: str, order_id: str, payload: Any, location_id: str | None = None) -> dict:
        with self.store.transaction() as db:
            row = self._order(order_id, location_id, db)
            before = json.loads(row["body"])
            current = before.get("delivery")
            if current is None:
                raise not_found(f"Order {order_id!r} has no delivery")
            stored = {"id": current["id"], "fields": delivery_rules.check(payload, row["currency"], current["fields"])}
            self._save(db, row, before, {**before, "delivery": stored}, client_id, "update")
        self.sandbox.dispatcher.wake()
        return self._resource(self.sandbox.order_row(order_id), stored)

    def _save(self, db, row, before: dict, after: dict, client_id: str, event_type: str) -> None:
        db.execute("UPDATE orders SET body = ? WHERE id = ?", (json.dumps(after), row["id"]))
        previous = before.get("delivery")
        emit(
            db,
            location_ids=[row["location_id"]],
            resource="delivery",
            event_type=event_type,
            actor_client_id=client_id,
            fields=lambda receiver: {
                "delivery_id": after["delivery"]["id"],
                "order_id": row["id"],
                "location_id": row["location_id"],
                "account_id": receiver["account_id"],
                **({"previous_state": self._resource(row, previous)} if previous is not None else {}),
                "new_state": self._resource(row, after["delivery"]),
            },
        )
        seen_on_order = [
            delivery_rules.on_order(body.get("delivery"), order_id=row["id"], location_id="", timezone="UTC")
            for body in (before, after)
        ]
        if seen_on_order[0] != seen_on_order[1]:
            self.sandbox.emit_order_event(db, row["id"], "update", client_id, (row, before))

    def _order(self, order_id: str, location_id: str | None, db=None):
        row = self.sandbox.order_row(order_id, db)
        if row is None or (location_id is not None and row["location_id"] != location_id):
            raise not_found(f"Order {order_id!r} not found")
        return row

    @staticmethod
    def _resource(row, stored: dict) -> dict:
        return delivery_rules.resource_view(
            stored["fields"],
            delivery_id=stored["id"],
            order_id=row["id"],
            location_id=row["location_id"],
            timezone=row["timezone"],
        )

    # The courier the sandbox plays --------------------------------------------------------------

    def dispatch(
        self, client_id: str, order_id: str, carrier: str, *, step_seconds: float | None, fields: dict | None = None
    ) -> dict:
        """Attaches a pending delivery as the carrier app ``client_id`` and plans its course:
        one step every ``step_seconds`` (None: only when ``advance`` is called)."""
        row = self._order(order_id, None)
        body = json.loads(row["body"])
        now = time.time()
        pickup = parse_time(body["expected_time"]).timestamp() if body.get("expected_time") else now + 15 * 60
        number = sum(map(ord, order_id))
        payload = {
            "carrier": carrier,
            "carrier_ref": carrier.lower().replace(" ", "_"),
            "ref": f"{carrier[:2].upper()}-{order_id.upper()}-{number % 1000:03d}",
            "status": "pending",
            "estimated_pickup_at": local_time(max(pickup, now + 5 * 60), row["timezone"]),
            "estimated_dropoff_at": local_time(max(pickup, now + 5 * 60) + 15 * 60, row["timezone"]),
            "tracking_url": f"{self.sandbox.public_url}/track/{order_id}",
            **(fields or {}),
        }
        delivery = self.create_as(client_id, order_id, payload)
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO delivery_plans (order_id, step, step_seconds, next_at, client_id) VALUES (?, 0, ?, ?, ?)"
                " ON CONFLICT (order_id) DO UPDATE SET step = 0, step_seconds = excluded.step_seconds,"
                " next_at = excluded.next_at, client_id = excluded.client_id",
                (order_id, step_seconds or 0, now + step_seconds if step_seconds else None, client_id),
            )
        self.sandbox.scheduler.wake()
        return delivery

    def advance(self, order_id: str) -> dict:
        """Moves the planned delivery one step on, now."""
        plan = self.store.query_one("SELECT * FROM delivery_plans WHERE order_id = ?", (order_id,))
        if plan is None:
            raise not_found(f"Order {order_id!r} has no delivery planned by the sandbox (or it is over)")
        return self._step(plan)

    def advance_due(self, now: float) -> float | None:
        for plan in self.store.query("SELECT * FROM delivery_plans WHERE next_at <= ? ORDER BY next_at", (now,)):
            self._step(plan)
        return self.store.query_one("SELECT MIN(next_at) FROM delivery_plans")[0]

    def plans(self) -> dict[str, dict]:
        return {row["order_id"]: dict(row) for row in self.store.query("SELECT * FROM delivery_plans")}

    def _step(self, plan) -> dict:
        row = self._order(plan["order_id"], None)
        body = json.loads(row["body"])
        status, (origin, target, fraction) = PLAN[plan["step"]]
        points = (COURIER_START, RESTAURANT_POSITION, _dropoff(body))
        latitude, longitude = (points[origin][i] + (points[target][i] - points[origin][i]) * fraction for i in (0, 1))
        change: dict = {"driver_latitude": f"{latitude:.6f}", "driver_longitude": f"{longitude:.6f}"}
        if status is not None:
            change["status"] = status
        if status == "pickup_enroute":
            name, phone = DRIVERS[sum(map(ord, row["id"])) % len(DRIVERS)]
            change.update(
                driver_name=name, driver_phone=phone, driver_phone_access_code=f"{sum(map(ord, row['id'])) % 900 + 100}"
            )
        if status == "dropoff_enroute":
            change["estimated_dropoff_at"] = local_time(time.time() + 12 * 60, row["timezone"])
        delivery = self.patch_as(plan["client_id"], row["id"], change)
        with self.store.transaction() as db:
            if plan["step"] + 1 >= len(PLAN):
                db.execute("DELETE FROM delivery_plans WHERE order_id = ?", (row["id"],))
            else:
                next_at = time.time() + plan["step_seconds"] if plan["step_seconds"] else None
                db.execute("UPDATE delivery_plans SET step = step + 1, next_at = ? WHERE order_id = ?", (next_at, row["id"]))
        return delivery


def _dropoff(body: dict) -> tuple[Decimal, Decimal]:
    customer = body.get("customer") or {}
    if customer.get("latitude") and customer.get("longitude"):
        return Decimal(customer["latitude"]), Decimal(customer["longitude"])
    return DEFAULT_DROPOFF
