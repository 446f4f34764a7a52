"""Catalog and inventory endpoints: HubRise's API under /v1, and the control API acting as the POS."""

from __future__ import annotations

import json

from flask import Blueprint, Response, g, jsonify, request

from .api import authenticated, json_body, location_of, paginated, sandbox
from .catalog_view import to_upload
from .control import acting_client, control_body, require_loopback
from .errors import ApiError, ValidationFailed, not_found
from .paging import page_of

api_catalogs = Blueprint("api_catalogs", __name__, url_prefix="/v1")
control_catalogs = Blueprint("control_catalogs", __name__, url_prefix="/_sandbox")
control_catalogs.before_request(require_loopback)


# API ----------------------------------------------------------------------------------------


@api_catalogs.get("/location/catalogs")
@api_catalogs.get("/locations/<location_id>/catalogs")
@authenticated()
def list_catalogs(location_id: str | None = None):
    catalogs = sandbox().catalogs.list_for(location_of(location_id))
    return paginated(*page_of(catalogs, request.args.to_dict()))


@api_catalogs.post("/location/catalogs")
@api_catalogs.post("/locations/<location_id>/catalogs")
@authenticated()
def create_catalog(location_id: str | None = None):
    return jsonify(sandbox().catalogs.create(location_of(location_id), json_body()))


@api_catalogs.post("/account/catalogs")
@api_catalogs.post("/accounts/<account_id>/catalogs")
@authenticated()
def create_account_catalog(account_id: str | None = None):
    raise ApiError(403, "forbidden", "Creating an account-level catalog needs an account-level access token")


@api_catalogs.get("/catalogs/<catalog_id>")
@authenticated(heavy="catalog")
def get_catalog(catalog_id: str):
    hide_data = request.args.get("hide_data") not in (None, "", "false", "0")
    return jsonify(sandbox().catalogs.get(g.connection, catalog_id, hide_data))


@api_catalogs.put("/catalogs/<catalog_id>")
@authenticated()
def replace_catalog(catalog_id: str):
    return jsonify(sandbox().catalogs.replace(g.connection, catalog_id, json_body()))


@api_catalogs.delete("/catalogs/<catalog_id>")
@authenticated()
def delete_catalog(catalog_id: str):
    return jsonify(sandbox().catalogs.delete(g.connection, catalog_id))


@api_catalogs.get("/catalogs/<catalog_id>/<any(categories, products, option_lists, deals, discounts, charges):kind>")
@authenticated()
def list_elements(catalog_id: str, kind: str):
    elements = sandbox().catalogs.sub_resources(g.connection, catalog_id, kind)
    return paginated(*page_of(elements, request.args.to_dict()))


@api_catalogs.get("/catalogs/<catalog_id>/<any(categories, products, option_lists, deals, discounts, charges):kind>/<element_id>")
@authenticated()
def get_element(catalog_id: str, kind: str, element_id: str):
    return jsonify(sandbox().catalogs.sub_resource(g.connection, catalog_id, kind, element_id))


@api_catalogs.get("/catalogs/<catalog_id>/products/<parent_id>/skus")
@api_catalogs.get("/catalogs/<catalog_id>/option_lists/<parent_id>/options")
@authenticated()
def list_nested(catalog_id: str, parent_id: str):
    kind = "skus" if request.path.endswith("/skus") else "options"
    elements = sandbox().catalogs.nested(g.connection, catalog_id, kind, parent_id)
    return paginated(*page_of(elements, request.args.to_dict()))


@api_catalogs.get("/catalogs/<catalog_id>/products/<parent_id>/skus/<element_id>")
@api_catalogs.get("/catalogs/<catalog_id>/option_lists/<parent_id>/options/<element_id>")
@authenticated()
def get_nested(catalog_id: str, parent_id: str, element_id: str):
    kind = "skus" if "/skus/" in request.path else "options"
    for element in sandbox().catalogs.nested(g.connection, catalog_id, kind, parent_id):
        if element["id"] == element_id:
            return jsonify(element)
    raise not_found(f"No element {element_id!r} in {kind}")


@api_catalogs.post("/catalogs/<catalog_id>/images")
@authenticated()
def upload_image(catalog_id: str):
    return jsonify(sandbox().catalogs.add_image(g.connection, catalog_id, request.mimetype, request.get_data()))


@api_catalogs.get("/catalogs/<catalog_id>/images")
@authenticated()
def list_images(catalog_id: str):
    # HubRise answers every image at once here (changelog, 23/07/2025: no pagination).
    return jsonify(sandbox().catalogs.images(g.connection, catalog_id))


@api_catalogs.get("/catalogs/<catalog_id>/images/<image_id>")
@authenticated()
def get_image(catalog_id: str, image_id: str):
    return jsonify(sandbox().catalogs.image(g.connection, catalog_id, image_id))


@api_catalogs.get("/catalogs/<catalog_id>/images/<image_id>/data")
@authenticated()
def get_image_data(catalog_id: str, image_id: str):
    content_type, data = sandbox().catalogs.image_data(g.connection, catalog_id, image_id)
    return Response(data, content_type=content_type)


@api_catalogs.get("/catalogs/<catalog_id>/location/inventory")
@api_catalogs.get("/catalogs/<catalog_id>/locations/<location_id>/inventory")
@authenticated()
def get_inventory(catalog_id: str, location_id: str | None = None):
    return jsonify(sandbox().inventory.get(location_of(location_id), catalog_id))


@api_catalogs.put("/catalogs/<catalog_id>/location/inventory")
@api_catalogs.put("/catalogs/<catalog_id>/locations/<location_id>/inventory")
@authenticated()
def replace_inventory(catalog_id: str, location_id: str | None = None):
    return jsonify(sandbox().inventory.replace(location_of(location_id), catalog_id, json_body()))


@api_catalogs.patch("/catalogs/<catalog_id>/location/inventory")
@api_catalogs.patch("/catalogs/<catalog_id>/locations/<location_id>/inventory")
@authenticated()
def patch_inventory(catalog_id: str, location_id: str | None = None):
    return jsonify(sandbox().inventory.patch(location_of(location_id), catalog_id, json_body()))


# Control API: the catalog as the POS holds and edits it -------------------------------------------


def _catalog_row(catalog_id: str):
    row = sandbox().catalogs.row(catalog_id)
    if row is None:
        raise not_found(f"Unknown catalog {catalog_id!r}")
    return row


def _timezone_of(row) -> str:
    location_id = row["location_id"] or sandbox().locations()[0]["id"]
    return sandbox().location(location_id)["timezone"]


@control_catalogs.get("/catalogs/<catalog_id>")
def control_get_catalog(catalog_id: str):
    """The catalog as GET /catalogs/:id answers it, without counting against any limit."""
    row = _catalog_row(catalog_id)
    return jsonify(sandbox().catalogs.render(row, _timezone_of(row)))


@control_catalogs.post("/locations/<location_id>/catalogs")
def control_create_catalog(location_id: str):
    body = control_body()
    client_id = acting_client(body)
    level = body.pop("level", "location")
    unchecked = bool(body.pop("unchecked", False))
    if level not in ("location", "account"):
        raise ValidationFailed([{"field": "level", "message": "must be location or account"}])
    row = sandbox().catalogs.create_as(client_id, location_id, body, account_level=level == "account", unchecked=unchecked)
    return jsonify(sandbox().catalogs.render(row, _timezone_of(row))), 201


@control_catalogs.put("/catalogs/<catalog_id>")
def control_replace_catalog(catalog_id: str):
    body = control_body()
    client_id = acting_client(body)
    unchecked = bool(body.pop("unchecked", False))
    row = sandbox().catalogs.replace_as(client_id, catalog_id, body, unchecked=unchecked)
    return jsonify(sandbox().catalogs.render(row, _timezone_of(row)))


@control_catalogs.patch("/catalogs/<catalog_id>/skus/<sku_ref>")
def control_edit_sku(catalog_id: str, sku_ref: str):
    """Changes the price (or name) of every sku with this ref, then PUTs the whole catalog."""
    body = control_body()
    client_id = acting_client(body)
    unknown = set(body) - {"price", "name"}
    if unknown or not body:
        fields = sorted(unknown) or ["base"]
        raise ValidationFailed([{"field": key, "message": "is not a field this call changes (price, name)"} for key in fields])

    def change(upload: dict) -> None:
        skus = [sku for product in upload["products"] for sku in product["skus"] if sku.get("ref") == sku_ref]
        if not skus:
            raise not_found(f"No sku with ref {sku_ref!r} in catalog {catalog_id!r}")
        for sku in skus:
            sku.update(body)

    row = sandbox().catalogs.edit_as(client_id, catalog_id, change)
    return jsonify(sandbox().catalogs.render(row, _timezone_of(row)))


@control_catalogs.post("/catalogs/<catalog_id>/products")
def control_add_product(catalog_id: str):
    """Adds a product (HubRise's upload form: ``category_ref``, ``name``, ``skus``…), then PUTs the whole catalog."""
    product = control_body()
    client_id = acting_client(product)

    row = sandbox().catalogs.edit_as(client_id, catalog_id, lambda upload: upload["products"].append(product))
    return jsonify(sandbox().catalogs.render(row, _timezone_of(row))), 201


@control_catalogs.delete("/catalogs/<catalog_id>/products/<product_ref>")
def control_remove_product(catalog_id: str, product_ref: str):
    client_id = acting_client(dict(request.args))

    def change(upload: dict) -> None:
        kept = [product for product in upload["products"] if product.get("ref") != product_ref]
        if len(kept) == len(upload["products"]):
            raise not_found(f"No product with ref {product_ref!r} in catalog {catalog_id!r}")
        upload["products"] = kept

    row = sandbox().catalogs.edit_as(client_id, catalog_id, change)
    return jsonify(sandbox().catalogs.render(row, _timezone_of(row)))


@control_catalogs.get("/catalogs/<catalog_id>/upload")
def control_catalog_upload(catalog_id: str):
    """The catalog's content in upload form (refs, no ids): edit it and PUT it back."""
    row = _catalog_row(catalog_id)
    return jsonify({"name": row["name"], "data": to_upload(json.loads(row["data"]))})


@control_catalogs.get("/catalogs/<catalog_id>/locations/<location_id>/inventory")
def control_get_inventory(catalog_id: str, location_id: str):
    _catalog_row(catalog_id)
    return jsonify(sandbox().inventory.entries(catalog_id, location_id))


@control_catalogs.route("/catalogs/<catalog_id>/locations/<location_id>/inventory", methods=["PUT", "PATCH"])
def control_change_inventory(catalog_id: str, location_id: str):
    """The body is HubRise's array of entries, or ``{"entries": [...], "client_id"|"as": ...}``."""
    body = request.get_json(silent=True)
    client_id = acting_client(body if isinstance(body, dict) else {})
    entries = body.get("entries") if isinstance(body, dict) else body
    change = sandbox().inventory.patch_as if request.method == "PATCH" else sandbox().inventory.replace_as
    return jsonify(change(client_id, catalog_id, location_id, entries))
