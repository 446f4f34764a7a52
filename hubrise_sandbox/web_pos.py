"""The sandbox page's tools for acting as the other apps: pause the location or set its preparation
time as the POS, edit the POS's catalog and stock, create an order as Uber Eats, Deliveroo or the
POS, edit an order as the POS, watch and move couriers; and the customers' tracking page.

Every form posts to a ``/ui/...`` route that calls the same services as the API and the control
API, then redirects back with a message. Forms only: the page needs no script.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

from flask import Blueprint, redirect, render_template, request, url_for

from .api import sandbox
from .catalog_view import CatalogView
from .control import require_loopback
from .errors import ApiError
from .formats import local_time

web_pos = Blueprint("web_pos", __name__)

DELIVERY_LABELS = {
    "pending": "en attente d'un coursier",
    "pickup_enroute": "en route vers le restaurant",
    "pickup_approaching": "arrive au restaurant",
    "pickup_waiting": "au restaurant",
    "dropoff_enroute": "en route vers le client",
    "dropoff_approaching": "arrive chez le client",
    "dropoff_waiting": "chez le client",
    "delivered": "livrée",
    "cancelled": "annulée",
}
DAY_LABELS = {
    "monday": "lun.",
    "tuesday": "mar.",
    "wednesday": "mer.",
    "thursday": "jeu.",
    "friday": "ven.",
    "saturday": "sam.",
    "sunday": "dim.",
}
ACCEPTANCE_LABELS = {"online": "ouvert aux commandes", "busy": "très occupé", "paused": "en pause"}
NEW_ORDERS = {
    "uber-delivery": ("Uber Eats, livrée par Uber", {"as": "uber_eats", "service_type": "delivery"}),
    "uber-collection": ("Uber Eats, à emporter", {"as": "uber_eats", "service_type": "collection"}),
    "deliveroo-delivery": ("Deliveroo, livrée par Deliveroo", {"as": "deliveroo", "service_type": "delivery"}),
    "deliveroo-restaurant": ("Deliveroo, livrée par le restaurant", {"as": "deliveroo", "delivery_by": "restaurant"}),
    "pos-eat-in": ("Caisse, sur place", {"as": "pos", "service_type": "eat_in"}),
    "pos-collection": ("Caisse, à emporter", {"as": "pos", "service_type": "collection"}),
}


@web_pos.app_template_global()
def pos_panel(location_id: str) -> dict:
    """What the page shows about a location beyond its orders: settings, catalogs, couriers."""
    return {
        "location": sandbox().location_view(location_id),
        "plans": sandbox().deliveries.plans(),
        "new_orders": NEW_ORDERS,
        "acceptance_labels": ACCEPTANCE_LABELS,
        "day_labels": DAY_LABELS,
    }


@web_pos.app_template_filter("delivery_label")
def delivery_label(status: str | None) -> str:
    return DELIVERY_LABELS.get(status or "", status or "")


def _back(message: str, anchor: str = "") -> object:
    return redirect(url_for("web.index", message=message) + (f"#{anchor}" if anchor else ""))


def _refused(error: ApiError) -> str:
    details = "; ".join(f"{e['field']} : {e['message']}" for e in error.errors or [])
    return f"Refusé : {error.message}" + (f" ({details})" if details else "")


def _pos_id() -> str:
    return sandbox().client_by_role("pos")["id"]


# The location, as the POS -----------------------------------------------------------------------


@web_pos.post("/ui/locations/<location_id>/acceptance")
def set_acceptance(location_id: str):
    require_loopback()
    mode = request.form.get("mode", "")
    acceptance: dict = {"mode": mode}
    minutes = request.form.get("minutes", "")
    if mode in ("paused", "busy") and minutes.isdigit():
        timezone = sandbox().location(location_id)["timezone"]
        acceptance["resume_at"] = local_time(time.time() + timedelta(minutes=int(minutes)).total_seconds(), timezone)
    if mode == "paused" and request.form.get("reason"):
        acceptance["reason"] = request.form["reason"]
    if mode == "busy":
        extra = request.form.get("extra_preparation_time", "")
        acceptance["extra_preparation_time"] = int(extra) if extra.isdigit() else extra
    try:
        sandbox().location_settings.patch_as(_pos_id(), location_id, {"order_acceptance": acceptance})
        message = f"Établissement : {ACCEPTANCE_LABELS.get(mode, mode)}, changé par la caisse."
    except ApiError as error:
        message = _refused(error)
    return _back(message, location_id)


@web_pos.post("/ui/locations/<location_id>/preparation_time")
def set_preparation_time(location_id: str):
    require_loopback()
    raw = request.form.get("preparation_time", "")
    try:
        sandbox().location_settings.patch_as(_pos_id(), location_id, {"preparation_time": int(raw) if raw.isdigit() else raw})
        message = f"Temps de préparation : {raw} min, changé par la caisse."
    except ApiError as error:
        message = _refused(error)
    return _back(message, location_id)


# Orders of the other apps -----------------------------------------------------------------------


@web_pos.post("/ui/locations/<location_id>/orders")
def create_order(location_id: str):
    require_loopback()
    label, request_body = NEW_ORDERS.get(request.form.get("kind", ""), ("", None))
    if request_body is None:
        return _back("Refusé : type de commande inconnu.", location_id)
    try:
        order = sandbox().other_apps.create_order(location_id, dict(request_body))
        message = f"Commande {order['id']} créée ({label}), total {order['total']}."
    except ApiError as error:
        message = _refused(error)
    return _back(message, location_id)


@web_pos.post("/ui/orders/<order_id>/edit")
def edit_order(order_id: str):
    """The POS confirms a time and/or leaves a note for the customer."""
    require_loopback()
    row = sandbox().order_row(order_id)
    if row is None:
        return _back(f"Refusé : la commande {order_id} n'existe pas.")
    changes: dict = {}
    minutes = request.form.get("confirm_in", "")
    if minutes.isdigit():
        changes["confirmed_time"] = local_time(time.time() + int(minutes) * 60, row["timezone"])
    if request.form.get("seller_notes"):
        changes["seller_notes"] = request.form["seller_notes"]
    if not changes:
        return _back("Rien à changer : choisissez une heure ou écrivez une note.", row["location_id"])
    try:
        sandbox().change_status_as(_pos_id(), order_id, changes)
        message = f"Commande {order_id} modifiée par la caisse."
    except ApiError as error:
        message = _refused(error)
    return _back(message, row["location_id"])


@web_pos.post("/ui/orders/<order_id>/courier")
def dispatch_courier(order_id: str):
    require_loopback()
    """The restaurant's own courier app comes for it (a platform brings its courier with the order)."""
    row = sandbox().order_row(order_id)
    if row is None:
        return _back(f"Refusé : la commande {order_id} n'existe pas.")
    client = sandbox().client_by_role("carrier")
    try:
        sandbox().deliveries.dispatch(client["id"], order_id, client["name"], step_seconds=20)
        message = f"Commande {order_id} : un coursier {client['name']} arrive."
    except ApiError as error:
        message = _refused(error)
    return _back(message, row["location_id"])


@web_pos.post("/ui/orders/<order_id>/courier/advance")
def advance_courier(order_id: str):
    require_loopback()
    try:
        delivery = sandbox().deliveries.advance(order_id)
        message = f"Commande {order_id} : le coursier est {delivery_label(delivery['status'])}."
    except ApiError as error:
        message = _refused(error)
    return _back(message)


@web_pos.get("/track/<order_id>")
def track(order_id: str):
    """The page a delivery's ``tracking_url`` points to, as a customer would open it."""
    try:
        delivery = sandbox().deliveries.resource_of(order_id)
    except ApiError:
        delivery = None
    if delivery is None:
        return render_template("track.html", delivery=None), 404
    return render_template("track.html", delivery=delivery)


# The POS's catalog and stock -----------------------------------------------------------------------


@web_pos.get("/catalogs/<catalog_id>")
def catalog_page(catalog_id: str):
    row = sandbox().catalogs.row(catalog_id)
    if row is None:
        return render_template("oauth_error.html", message=f"Catalogue {catalog_id!r} inconnu."), 404
    location_id = request.args.get("location_id") or row["location_id"] or sandbox().locations()[0]["id"]
    stock = {}
    for entry in sandbox().inventory.entries(catalog_id, location_id):
        stock[("sku", entry["sku_ref"]) if "sku_ref" in entry else ("option", entry["option_ref"])] = entry
    data = json.loads(row["data"])
    view = None if row["unchecked"] else CatalogView(data)
    return render_template(
        "catalog.html",
        catalog=row,
        data=data,
        categories=view.categories() if view else [],
        location=sandbox().location(location_id),
        stock=stock,
        message=request.args.get("message"),
    )


def _back_to_catalog(catalog_id: str, location_id: str, message: str) -> object:
    return redirect(url_for("web_pos.catalog_page", catalog_id=catalog_id, location_id=location_id, message=message))


@web_pos.post("/ui/catalogs/<catalog_id>/price")
def change_price(catalog_id: str):
    require_loopback()
    sku_ref, price = request.form.get("sku_ref", ""), request.form.get("price", "").strip().replace(",", ".")
    currency = sandbox().location(request.form["location_id"])["currency"]
    amount = price if price.endswith(currency) else f"{price} {currency}"

    def change(upload: dict) -> None:
        for product in upload["products"]:
            for sku in product["skus"]:
                if sku.get("ref") == sku_ref:
                    sku["price"] = amount

    try:
        sandbox().catalogs.edit_as(_pos_id(), catalog_id, change)
        message = f"{sku_ref} : nouveau prix {amount}, carte envoyée par la caisse."
    except ApiError as error:
        message = _refused(error)
    return _back_to_catalog(catalog_id, request.form["location_id"], message)


@web_pos.post("/ui/catalogs/<catalog_id>/stock")
def change_stock(catalog_id: str):
    require_loopback()
    kind, ref, location_id = request.form.get("kind", "sku"), request.form.get("ref", ""), request.form["location_id"]
    out = request.form.get("out_of_stock") == "1"
    entry = {f"{kind}_ref": ref, "stock": "0" if out else None}
    try:
        sandbox().inventory.patch_as(_pos_id(), catalog_id, location_id, [entry])
        message = f"{ref} : {'en rupture' if out else 'de nouveau disponible'}, stock envoyé par la caisse."
    except ApiError as error:
        message = _refused(error)
    return _back_to_catalog(catalog_id, location_id, message)


@web_pos.post("/ui/catalogs/<catalog_id>/products")
def add_product(catalog_id: str):
    require_loopback()
    form = request.form
    currency = sandbox().location(form["location_id"])["currency"]
    price = form.get("price", "").strip().replace(",", ".")
    product = {
        "ref": form.get("ref") or None,
        "category_ref": form.get("category_ref"),
        "name": form.get("name", "").strip(),
        "skus": [{"ref": form.get("ref") or None, "price": f"{price} {currency}"}],
    }
    try:
        sandbox().catalogs.edit_as(_pos_id(), catalog_id, lambda upload: upload["products"].append(product))
        message = f"Produit « {product['name']} » ajouté, carte envoyée par la caisse."
    except ApiError as error:
        message = _refused(error)
    return _back_to_catalog(catalog_id, form["location_id"], message)
