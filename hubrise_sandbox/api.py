"""The HubRise API under /v1: every call authenticated with X-Access-Token and rate limited."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from flask import Blueprint, Response, current_app, g, jsonify, request

from .errors import ApiError, forbidden
from .sandbox import Connection, Sandbox
from .store import mask_token

api = Blueprint("api", __name__, url_prefix="/v1")


def sandbox() -> Sandbox:
    return current_app.extensions["hubrise_sandbox"]


def authenticated(heavy: str | None = None) -> Callable:
    """Authenticates, then counts the call against the connection's rate limits (and, for a heavy
    call, against that call's own limit)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            token = request.headers.get("X-Access-Token")
            connection = sandbox().authenticate(token)
            request.environ["hubrise_sandbox.client_name"] = connection.client_name
            request.environ["hubrise_sandbox.connection_id"] = connection.id
            request.environ["hubrise_sandbox.token_hint"] = mask_token(token)
            sandbox().limiter.check(connection.id, heavy)
            g.connection = connection
            return view(*args, **kwargs)

        return wrapper

    return decorator


def json_body() -> object:
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "The request body must be JSON (Content-Type: application/json)")
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "bad_request", "The request body is not valid JSON") from None


def location_of(location_id: str | None) -> Connection:
    """Both /location/... and /locations/:id/... paths; a location token reaches only its own location."""
    connection: Connection = g.connection
    if location_id is not None and location_id != connection.location_id:
        raise forbidden(f"This access token does not give access to location {location_id!r}")
    return connection


def paginated(items: list, next_cursor: str | None) -> Response:
    response = jsonify(items)
    if next_cursor:
        response.headers["X-Cursor-Next"] = next_cursor
    return response


@api.get("/location")
@api.get("/locations/<location_id>")
@authenticated()
def get_location(location_id: str | None = None):
    return jsonify(sandbox().location_view(location_of(location_id).location_id))


@api.get("/account")
@api.get("/accounts/<account_id>")
@authenticated()
def get_account(account_id: str | None = None):
    connection: Connection = g.connection
    if account_id is not None and account_id != connection.account_id:
        raise forbidden(f"This access token does not give access to account {account_id!r}")
    account = sandbox().location_view(connection.location_id)["account"]
    return jsonify(account)


@api.post("/location/orders")
@api.post("/locations/<location_id>/orders")
@authenticated()
def create_order(location_id: str | None = None):
    connection = location_of(location_id)
    return jsonify(sandbox().create_order(connection, json_body())), 200


@api.get("/location/orders")
@api.get("/locations/<location_id>/orders")
@authenticated(heavy="orders")
def list_orders(location_id: str | None = None):
    connection = location_of(location_id)
    return paginated(*sandbox().list_orders(connection, request.args.to_dict()))


@api.get("/location/orders/<order_id>")
@api.get("/locations/<location_id>/orders/<order_id>")
@authenticated()
def get_order(order_id: str, location_id: str | None = None):
    return jsonify(sandbox().get_order(location_of(location_id), order_id))


# PUT is HubRise's deprecated update verb; it follows the PATCH rules here.
@api.route("/location/orders/<order_id>", methods=["PATCH", "PUT"])
@api.route("/locations/<location_id>/orders/<order_id>", methods=["PATCH", "PUT"])
@authenticated()
def patch_order(order_id: str, location_id: str | None = None):
    connection = location_of(location_id)
    return jsonify(sandbox().patch_order(connection, order_id, json_body()))


@api.get("/callback")
@authenticated()
def get_callback():
    return jsonify(sandbox().get_callback(g.connection))


@api.post("/callback")
@authenticated()
def set_callback():
    return jsonify(sandbox().set_callback(g.connection, json_body()))


@api.delete("/callback")
@authenticated()
def delete_callback():
    return jsonify(sandbox().delete_callback(g.connection))


@api.get("/callback/events")
@authenticated()
def list_events():
    return paginated(*sandbox().list_events(g.connection, request.args.to_dict()))


@api.get("/callback/events/<event_id>")
@authenticated()
def get_event(event_id: str):
    return jsonify(sandbox().get_event(g.connection, event_id))


@api.delete("/callback/events/<event_id>")
@authenticated()
def acknowledge_event(event_id: str):
    return jsonify(sandbox().acknowledge_event(g.connection, event_id))
