"""The control API under /_sandbox: test and demo hooks, loopback callers only, no auth."""

from __future__ import annotations

import ipaddress
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, jsonify, request

from .api import sandbox
from .errors import ApiError, ValidationFailed, not_found
from .network import FAULT_MODES, Fault
from .store import APP_SCOPE

control = Blueprint("control", __name__, url_prefix="/_sandbox")

# Our app's scope as the back office requests it once it syncs menus and stock.
DEFAULT_SCOPE = APP_SCOPE


def require_loopback() -> None:
    try:
        is_loopback = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        is_loopback = False
    if not is_loopback:
        raise ApiError(403, "forbidden", "The sandbox control API only answers loopback callers")


control.before_request(require_loopback)


def _json() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def control_body() -> dict:
    """The JSON object a control call sends (an empty one when it sends none)."""
    return _json()


def acting_client(body: dict) -> str:
    """Takes ``client_id``, or ``as`` (a role: pos, uber_eats, deliveroo, carrier, app), out of the
    body: the app a change is made as, the POS by default. It never receives its own events."""
    client_id = body.pop("client_id", None)
    role = body.pop("as", None) or "pos"
    if client_id is None:
        client = next((c for c in sandbox().clients() if c["role"] == role), None)
        if client is None:
            raise ValidationFailed([{"field": "as", "message": f"{role!r} is not an app the sandbox plays"}])
        return client["id"]
    if sandbox().client(client_id) is None:
        raise not_found(f"Unknown client {client_id!r}")
    return client_id


@control.get("/health")
def health():
    return jsonify({"ok": True})


@control.get("/locations")
def locations():
    return jsonify(sandbox().locations())


@control.post("/locations")
def add_location():
    body = _json()
    errors = []
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 200):
        errors.append({"field": "name", "message": "must be a non-empty string of at most 200 characters"})
    timezone = body.get("timezone", "Europe/Paris")
    try:
        ZoneInfo(timezone)
    except (TypeError, ValueError, ZoneInfoNotFoundError):
        errors.append({"field": "timezone", "message": "must be an IANA time zone name such as Europe/Paris"})
    if errors:
        raise ValidationFailed(errors)
    return jsonify(sandbox().add_location(name, timezone)), 201


@control.get("/clients")
def clients():
    return jsonify(sandbox().clients())


@control.post("/connections")
def create_connection():
    body = _json()
    client_id = body.get("client_id") or sandbox().client_by_role(body.get("role", "app"))["id"]
    if sandbox().client(client_id) is None:
        raise not_found(f"Unknown client {client_id!r}")
    location_id = body.get("location_id") or sandbox().locations()[0]["id"]
    answer = sandbox().connect(
        client_id, location_id, body.get("scope") or DEFAULT_SCOPE, body.get("device_id", ""), body.get("catalog_id")
    )
    return jsonify(answer)


@control.get("/faults")
def list_faults():
    return jsonify(sandbox().faults.list())


@control.post("/faults")
def add_fault():
    body = _json()
    errors = []
    mode = str(body.get("mode", ""))
    if mode not in FAULT_MODES:
        errors.append({"field": "mode", "message": f"must be one of {', '.join(FAULT_MODES)}"})
    count = body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        errors.append({"field": "count", "message": "must be a positive integer"})
    seconds = body.get("seconds", 5.0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        errors.append({"field": "seconds", "message": "must be a number of seconds"})
    retry_after = body.get("retry_after", 30)
    if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0:
        errors.append({"field": "retry_after", "message": "must be a non-negative integer"})
    if errors:
        raise ValidationFailed(errors)
    fault = sandbox().faults.add(
        Fault(
            mode=mode,
            remaining=count,
            method=body.get("method"),
            path_prefix=body.get("path_prefix"),
            retry_after=retry_after,
            seconds=float(seconds),
            processed=bool(body.get("processed", False)),
        )
    )
    return jsonify(vars(fault)), 201


@control.delete("/faults")
def clear_faults():
    sandbox().faults.clear()
    return jsonify([])


@control.post("/orders/<order_id>/status")
def change_status(order_id: str):
    body = _json()
    client_id = body.pop("client_id", None) or sandbox().client_by_role("pos")["id"]
    if sandbox().client(client_id) is None:
        raise not_found(f"Unknown client {client_id!r}")
    return jsonify(sandbox().change_status_as(client_id, order_id, body))


@control.get("/locations/<location_id>/orders")
def orders_of_location(location_id: str):
    if sandbox().location(location_id) is None:
        raise not_found(f"Unknown location {location_id!r}")
    return jsonify(sandbox().orders_as_hubrise_holds_them(location_id))


@control.get("/locations/<location_id>/connections")
def connections_of_location(location_id: str):
    return jsonify(sandbox().connections_of(location_id))


@control.get("/requests")
def request_log():
    return jsonify(sandbox().request_log(request.args.to_dict()))


@control.get("/events")
def events():
    return jsonify(sandbox().events_report(request.args.to_dict()))


@control.get("/settings")
def get_settings():
    return jsonify(sandbox().runtime_settings())


@control.post("/settings")
def update_settings():
    return jsonify(sandbox().update_settings(_json()))


@control.post("/reset")
def reset():
    sandbox().reset()
    return jsonify({"ok": True})
