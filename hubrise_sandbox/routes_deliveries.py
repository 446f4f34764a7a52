"""Deliveries under /v1, and the control API playing the other apps: their orders, edits and couriers."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .api import authenticated, json_body, location_of, sandbox
from .control import acting_client, control_body, require_loopback
from .errors import ValidationFailed

api_deliveries = Blueprint("api_deliveries", __name__, url_prefix="/v1")
control_other_apps = Blueprint("control_other_apps", __name__, url_prefix="/_sandbox")
control_other_apps.before_request(require_loopback)


@api_deliveries.get("/location/orders/<order_id>/delivery")
@api_deliveries.get("/locations/<location_id>/orders/<order_id>/delivery")
@authenticated()
def get_delivery(order_id: str, location_id: str | None = None):
    return jsonify(sandbox().deliveries.get(location_of(location_id), order_id))


@api_deliveries.post("/location/orders/<order_id>/delivery")
@api_deliveries.post("/locations/<location_id>/orders/<order_id>/delivery")
@authenticated()
def create_delivery(order_id: str, location_id: str | None = None):
    return jsonify(sandbox().deliveries.create(location_of(location_id), order_id, json_body()))


@api_deliveries.patch("/location/orders/<order_id>/delivery")
@api_deliveries.patch("/locations/<location_id>/orders/<order_id>/delivery")
@authenticated()
def patch_delivery(order_id: str, location_id: str | None = None):
    return jsonify(sandbox().deliveries.patch(location_of(location_id), order_id, json_body()))


@control_other_apps.post("/locations/<location_id>/orders")
def create_order_as_another_app(location_id: str):
    """``{"as": "uber_eats" | "deliveroo" | "pos", ...}``: see the README's control API."""
    return jsonify(sandbox().other_apps.create_order(location_id, control_body())), 201


@control_other_apps.patch("/orders/<order_id>")
def edit_order_as_another_app(order_id: str):
    return jsonify(sandbox().other_apps.edit_order(order_id, control_body()))


@control_other_apps.post("/orders/<order_id>/delivery")
def dispatch_courier(order_id: str):
    """Attaches a delivery as its carrier (by default Uber Direct, the restaurant's courier app; ``as``
    "uber_eats" or "deliveroo" for a platform's own courier) and moves it on every ``step_seconds``
    (0: only on ``.../advance``)."""
    body = control_body()
    if "client_id" not in body:
        body.setdefault("as", "carrier")
    client_id = acting_client(body)
    step_seconds = body.pop("step_seconds", 20)
    if isinstance(step_seconds, bool) or not isinstance(step_seconds, (int, float)) or step_seconds < 0:
        raise ValidationFailed([{"field": "step_seconds", "message": "must be a non-negative number of seconds"}])
    carrier = body.pop("carrier", None) or sandbox().client(client_id)["name"]
    delivery = sandbox().deliveries.dispatch(client_id, order_id, carrier, step_seconds=step_seconds, fields=body)
    return jsonify(delivery), 201


@control_other_apps.patch("/orders/<order_id>/delivery")
def change_delivery(order_id: str):
    """A PATCH of the delivery as its carrier (``as``/``client_id``, default Uber Direct)."""
    body = control_body()
    if "client_id" not in body:
        body.setdefault("as", "carrier")
    client_id = acting_client(body)
    return jsonify(sandbox().deliveries.patch_as(client_id, order_id, body))


@control_other_apps.post("/orders/<order_id>/delivery/advance")
def advance_delivery(order_id: str):
    return jsonify(sandbox().deliveries.advance(order_id))


@control_other_apps.get("/deliveries")
def deliveries():
    """Every delivery HubRise holds, with the courier's plan when the sandbox moves it."""
    plans = sandbox().deliveries.plans()
    result = []
    for location in sandbox().locations():
        for order in sandbox().orders_as_hubrise_holds_them(location["id"]):
            if order["delivery"] is not None:
                full = sandbox().deliveries.resource_of(order["id"])
                result.append(
                    {"order_id": order["id"], "location_id": location["id"], "delivery": full, "plan": plans.get(order["id"])}
                )
    return jsonify(result)
