"""The human page at /: what HubRise holds, and a way to act as the POS."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from .api import sandbox
from .control import require_loopback
from .errors import ApiError
from .orders import STATUSES

web = Blueprint("web", __name__)

RECENT_REQUESTS = 30


@web.get("/")
def index():
    locations = []
    for location in sandbox().locations():
        location["orders"] = sandbox().orders_as_hubrise_holds_them(location["id"])[:50]
        location["connections"] = sandbox().connections_of(location["id"])
        locations.append(location)
    return render_template(
        "index.html",
        locations=locations,
        statuses=STATUSES,
        requests_log=sandbox().request_log({"limit": str(RECENT_REQUESTS)}),
        pos=sandbox().client_by_role("pos"),
        message=request.args.get("message"),
    )


@web.post("/ui/orders/<order_id>/status")
def change_status(order_id: str):
    require_loopback()
    status = request.form.get("status", "")
    try:
        sandbox().change_status_as(sandbox().client_by_role("pos")["id"], order_id, {"status": status})
        message = f"Commande {order_id} : statut « {status} » envoyé par la caisse."
    except ApiError as error:
        message = f"Refusé : {error.message} {error.errors or ''}"
    return redirect(url_for("web.index", message=message))
