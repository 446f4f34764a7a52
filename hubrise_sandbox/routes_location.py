"""Location endpoints: ``PATCH /location`` (``GET`` is in api.py), and the control API acting as the POS."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .api import authenticated, json_body, location_of, sandbox
from .control import acting_client, control_body, require_loopback
from .demo_catalog import POS_CODES
from .errors import not_found

api_location = Blueprint("api_location", __name__, url_prefix="/v1")
control_location = Blueprint("control_location", __name__, url_prefix="/_sandbox")
control_location.before_request(require_loopback)


@api_location.patch("/location")
@api_location.patch("/locations/<location_id>")
@authenticated()
def patch_location(location_id: str | None = None):
    connection = location_of(location_id)
    return jsonify(sandbox().location_settings.patch_as(connection.client_id, connection.location_id, json_body()))


@control_location.get("/locations/<location_id>")
def control_get_location(location_id: str):
    """The location as ``GET /location`` answers it."""
    return jsonify(sandbox().location_settings.view(location_id))


@control_location.patch("/locations/<location_id>")
def control_patch_location(location_id: str):
    """A PATCH of the location as another app (the POS by default): fires ``location.update``."""
    body = control_body()
    client_id = acting_client(body)
    return jsonify(sandbox().location_settings.patch_as(client_id, location_id, body))


@control_location.get("/locations/<location_id>/pos_codes")
def control_pos_codes(location_id: str):
    """The POS's codes for service types, payment methods, platform discounts and charges: HubRise
    has no resource for them, a connected app sets them by hand."""
    if sandbox().location(location_id) is None:
        raise not_found(f"Unknown location {location_id!r}")
    return jsonify(POS_CODES)
