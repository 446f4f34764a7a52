"""Catalogs: who may see and change which catalog, their storage, images and catalog events.

Permissions follow HubRise's authentication page, the newer text where it and the catalogs
page disagree:

- ``catalog.read|write``: the catalog bound to the connection (picked on the consent page, the
  location's or its account's); ``catalog.write`` may PUT it "even if it belongs to the account".
- ``all_catalogs.read|write``: every catalog the location sees; ``write`` creates location-level
  catalogs and updates or deletes them, but not the account's: that answers 401, as the catalogs
  page says for "an account access token is required".
- listing needs any catalog permission; anything else missing answers 403.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .catalog_rules import DATA_KEYS, check_upload
from .catalog_view import CatalogView, to_upload
from .errors import ApiError, ValidationFailed, not_found, unauthorized
from .events import emit
from .formats import local_time
from .permissions import has_any, require_any
from .store import insert_catalog, unused_id

if TYPE_CHECKING:
    from .sandbox import Connection, Sandbox

EMPTY_CATALOG = {key: [] for key in DATA_KEYS}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp")
IMAGE_MAX_BYTES = 1024 * 1024
# Unattached images are removed after 30 days.
IMAGE_LIFETIME = 30 * 24 * 3600
SUB_RESOURCES = ("categories", "products", "option_lists", "deals", "discounts", "charges")


def visible_catalogs(store_or_db, location_id: str) -> list:
    """The location's own catalogs (oldest first), then its account's."""
    sql = (
        "SELECT c.* FROM catalogs c JOIN locations l ON l.id = ?"
        " WHERE c.location_id = l.id OR c.account_id = l.account_id ORDER BY c.account_id IS NOT NULL, c.seq"
    )
    if hasattr(store_or_db, "query"):
        return store_or_db.query(sql, (location_id,))
    return store_or_db.execute(sql, (location_id,)).fetchall()


def catalog_locations(db, row) -> list[str]:
    """The locations that see a catalog, i.e. whose connections may get its events."""
    if row["location_id"]:
        return [row["location_id"]]
    return [r["id"] for r in db.execute("SELECT id FROM locations WHERE account_id = ?", (row["account_id"],))]


class Catalogs:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store

    # Reading ----------------------------------------------------------------------------

    def list_for(self, connection: Connection) -> list[dict]:
        require_any(connection.scope, "catalog.read", "all_catalogs.read")
        return [
            {"id": row["id"], "name": row["name"], "created_at": local_time(row["created_at"], connection.timezone)}
            for row in visible_catalogs(self.store, connection.location_id)
        ]

    def get(self, connection: Connection, catalog_id: str, hide_data: bool = False) -> dict:
        row = self._readable(connection, catalog_id)
        return self.render(row, connection.timezone, hide_data)

    def sub_resources(self, connection: Connection, catalog_id: str, kind: str) -> list[dict]:
        view = self._view_of(self._readable(connection, catalog_id))
        if kind == "categories":
            return view.categories()
        return view.full()[kind]

    def sub_resource(self, connection: Connection, catalog_id: str, kind: str, element_id: str) -> dict:
        return _find(self.sub_resources(connection, catalog_id, kind), element_id, kind)

    def nested(self, connection: Connection, catalog_id: str, kind: str, parent_id: str) -> list[dict]:
        """A product's skus or an option list's options."""
        parent_kind, child_key = ("products", "skus") if kind == "skus" else ("option_lists", "options")
        return self.sub_resource(connection, catalog_id, parent_kind, parent_id)[child_key]

    def render(self, row, timezone: str, hide_data: bool = False) -> dict:
        view: dict[str, Any] = {"id": row["id"]}
        if row["location_id"]:
            view["location_id"] = row["location_id"]
        else:
            view["account_id"] = row["account_id"]
        view["name"] = row["name"]
        view["created_at"] = local_time(row["created_at"], timezone)
        if not hide_data:
            data = json.loads(row["data"])
            # An unchecked catalog (control API) is served exactly as it was stored.
            view["data"] = data if row["unchecked"] else CatalogView(data).full()
        return view

    def row(self, catalog_id: str):
        return self.store.query_one("SELECT * FROM catalogs WHERE id = ?", (catalog_id,))

    def _visible(self, connection: Connection, catalog_id: str):
        for row in visible_catalogs(self.store, connection.location_id):
            if row["id"] == catalog_id:
                return row
        raise not_found(f"Catalog {catalog_id!r} not found")

    def _readable(self, connection: Connection, catalog_id: str):
        row = self._visible(connection, catalog_id)
        bound = connection.catalog_id == catalog_id and has_any(connection.scope, "catalog.read")
        if not bound and not has_any(connection.scope, "all_catalogs.read"):
            if has_any(connection.scope, "catalog.read"):
                raise ApiError(403, "forbidden", f"This access token gives access to catalog {connection.catalog_id!r} only")
            require_any(connection.scope, "catalog.read", "all_catalogs.read")
        return row

    def _writable(self, connection: Connection, catalog_id: str):
        row = self._visible(connection, catalog_id)
        if connection.catalog_id == catalog_id and has_any(connection.scope, "catalog.write"):
            return row
        if has_any(connection.scope, "all_catalogs.write"):
            if row["account_id"]:
                raise unauthorized("An account access token is required to modify an account level catalog")
            return row
        if has_any(connection.scope, "catalog.write"):
            raise ApiError(403, "forbidden", f"This access token gives access to catalog {connection.catalog_id!r} only")
        require_any(connection.scope, "catalog.write", "all_catalogs.write")
        return row

    def _view_of(self, row) -> CatalogView:
        if row["unchecked"]:
            raise not_found("This catalog was stored unchecked through the control API: only GET /catalogs/:id serves it")
        return CatalogView(json.loads(row["data"]))

    # Writing through the API -----------------------------------------------------------------

    def create(self, connection: Connection, payload: Any) -> dict:
        require_any(connection.scope, "all_catalogs.write")
        row = self.create_as(connection.client_id, connection.location_id, payload)
        return self.render(row, connection.timezone)

    def replace(self, connection: Connection, catalog_id: str, payload: Any) -> dict:
        self._writable(connection, catalog_id)
        return self.render(self.replace_as(connection.client_id, catalog_id, payload), connection.timezone)

    def delete(self, connection: Connection, catalog_id: str) -> dict:
        row = self._visible(connection, catalog_id)
        require_any(connection.scope, "all_catalogs.write")
        if row["account_id"]:
            raise unauthorized("An account access token is required to modify an account level catalog")
        view = self.render(row, connection.timezone, hide_data=True)
        with self.store.transaction() as db:
            db.execute("DELETE FROM catalogs WHERE id = ?", (catalog_id,))
            db.execute("DELETE FROM catalog_images WHERE catalog_id = ?", (catalog_id,))
            db.execute("DELETE FROM inventory_entries WHERE catalog_id = ?", (catalog_id,))
            self._emit(db, row, "delete", connection.client_id)
        self.sandbox.dispatcher.wake()
        return view

    # Writing as any app (the API above, the control API and the page) -------------------------

    def create_as(self, client_id: str, location_id: str, payload: Any, *, account_level: bool = False, unchecked: bool = False):
        location = self.sandbox.location(location_id)
        if location is None:
            raise not_found(f"Unknown location {location_id!r}")
        name, data = self._checked(payload, location["currency"], creating=True, unchecked=unchecked, image_ids=set())
        with self.store.transaction() as db:
            owner = {"account_id": location["account_id"]} if account_level else {"location_id": location_id}
            self._check_name_free(db, name, None, **owner)
            catalog_id = insert_catalog(db, name, data if data is not None else EMPTY_CATALOG, unchecked=unchecked, **owner)
            row = db.execute("SELECT * FROM catalogs WHERE id = ?", (catalog_id,)).fetchone()
            self._emit(db, row, "create", client_id)
        self.sandbox.dispatcher.wake()
        return row

    def replace_as(self, client_id: str, catalog_id: str, payload: Any, *, unchecked: bool = False):
        """PUT: with ``data`` the whole content is cleared and recreated (new ids); without, only the name changes."""
        row = self.row(catalog_id)
        if row is None:
            raise not_found(f"Catalog {catalog_id!r} not found")
        image_ids = {r["id"] for r in self.store.query("SELECT id FROM catalog_images WHERE catalog_id = ?", (catalog_id,))}
        name, data = self._checked(payload, self._currency(row), creating=False, unchecked=unchecked, image_ids=image_ids)
        with self.store.transaction() as db:
            if name is not None:
                self._check_name_free(db, name, catalog_id, location_id=row["location_id"], account_id=row["account_id"])
                db.execute("UPDATE catalogs SET name = ? WHERE id = ?", (name, catalog_id))
            if data is not None:
                db.execute(
                    "UPDATE catalogs SET data = ?, unchecked = ? WHERE id = ?",
                    (json.dumps(data, ensure_ascii=False), int(unchecked), catalog_id),
                )
            row = db.execute("SELECT * FROM catalogs WHERE id = ?", (catalog_id,)).fetchone()
            self._emit(db, row, "update", client_id)
        self.sandbox.dispatcher.wake()
        return row

    def edit_as(self, client_id: str, catalog_id: str, change: Callable[[dict], None]):
        """Applies ``change`` to the catalog's upload form and PUTs the whole catalog, as a POS does
        after a single edit (there is no per-item write in HubRise's API)."""
        row = self.row(catalog_id)
        if row is None:
            raise not_found(f"Catalog {catalog_id!r} not found")
        if row["unchecked"]:
            raise ApiError(409, "conflict", "An unchecked catalog can only be replaced whole")
        upload = to_upload(json.loads(row["data"]))
        change(upload)
        return self.replace_as(client_id, catalog_id, {"data": upload})

    def _checked(self, payload: Any, currency: str, *, creating: bool, unchecked: bool, image_ids: set[str]):
        if not unchecked:
            return check_upload(payload, currency, creating=creating, image_ids=image_ids)
        if not isinstance(payload, dict) or (creating and not isinstance(payload.get("name"), str)):
            raise ValidationFailed([{"field": "name", "message": "is required, even unchecked"}])
        return payload.get("name"), payload.get("data")

    def _currency(self, row) -> str:
        if row["location_id"]:
            return self.sandbox.location(row["location_id"])["currency"]
        return self.store.query_one("SELECT currency FROM accounts WHERE id = ?", (row["account_id"],))["currency"]

    @staticmethod
    def _check_name_free(db, name: str, catalog_id: str | None, *, location_id: str | None = None, account_id: str | None = None):
        """Names are unique within a location and its account: two locations may each have a
        "Web" catalog, a location and its account may not."""
        if location_id:
            account_id_of_location = db.execute("SELECT account_id FROM locations WHERE id = ?", (location_id,)).fetchone()[0]
            clash = db.execute(
                "SELECT 1 FROM catalogs WHERE name = ? AND id != ? AND (location_id = ? OR account_id = ?)",
                (name, catalog_id or "", location_id, account_id_of_location),
            ).fetchone()
        else:
            clash = db.execute(
                "SELECT 1 FROM catalogs WHERE name = ? AND id != ? AND (account_id = ?"
                " OR location_id IN (SELECT id FROM locations WHERE account_id = ?))",
                (name, catalog_id or "", account_id, account_id),
            ).fetchone()
        if clash:
            raise ValidationFailed(
                [{"field": "name", "message": f"{name!r} is already the name of a catalog of this location or account"}]
            )

    def _emit(self, db, row, event_type: str, actor_client_id: str | None) -> None:
        # Catalog events carry ids only, never the catalog: a receiver GETs it (a heavy call).
        owner = {"location_id": row["location_id"]} if row["location_id"] else {"account_id": row["account_id"]}
        emit(
            db,
            location_ids=catalog_locations(db, row),
            resource="catalog",
            event_type=event_type,
            actor_client_id=actor_client_id,
            fields=lambda receiver: {"catalog_id": row["id"], **owner},
        )

    # Images ---------------------------------------------------------------------------------

    def add_image(self, connection: Connection, catalog_id: str, content_type: str, body: bytes) -> dict:
        self._writable(connection, catalog_id)
        if content_type not in IMAGE_TYPES:
            raise ApiError(415, "unsupported_media_type", f"Images must be one of {', '.join(IMAGE_TYPES)}, not {content_type!r}")
        if not body:
            raise ValidationFailed([{"field": "base", "message": "the image is empty"}])
        if len(body) > IMAGE_MAX_BYTES:
            raise ValidationFailed([{"field": "base", "message": f"the image is {len(body)} bytes, more than 1 MB"}])
        with self.store.transaction() as db:
            image_id = unused_id(db, "catalog_images")
            db.execute(
                "INSERT INTO catalog_images (id, catalog_id, type, size, md5, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                # HubRise's checksum to spot an image already uploaded, not a security hash.
                (
                    image_id,
                    catalog_id,
                    content_type,
                    len(body),
                    hashlib.md5(body, usedforsecurity=False).hexdigest(),
                    body,
                    time.time(),
                ),
            )
        return self.image(connection, catalog_id, image_id)

    def images(self, connection: Connection, catalog_id: str) -> list[dict]:
        self._readable(connection, catalog_id)
        rows = self.store.query("SELECT * FROM catalog_images WHERE catalog_id = ? ORDER BY seq", (catalog_id,))
        return [self._image_view(row) for row in rows]

    def image(self, connection: Connection, catalog_id: str, image_id: str) -> dict:
        return self._image_view(self._image_row(connection, catalog_id, image_id))

    def image_data(self, connection: Connection, catalog_id: str, image_id: str) -> tuple[str, bytes]:
        row = self._image_row(connection, catalog_id, image_id)
        return row["type"], bytes(row["data"])

    def _image_row(self, connection: Connection, catalog_id: str, image_id: str):
        self._readable(connection, catalog_id)
        row = self.store.query_one("SELECT * FROM catalog_images WHERE id = ? AND catalog_id = ?", (image_id, catalog_id))
        if row is None:
            raise not_found(f"Image {image_id!r} not found")
        return row

    def _image_view(self, row) -> dict:
        catalog = self.row(row["catalog_id"])
        attached = catalog is not None and row["id"] in _attached_image_ids(json.loads(catalog["data"]))
        remaining = None if attached else max(0, int(row["created_at"] + IMAGE_LIFETIME - time.time()))
        return {"id": row["id"], "type": row["type"], "size": row["size"], "md5": row["md5"], "seconds_before_removal": remaining}


def _find(elements: list[dict], element_id: str, kind: str) -> dict:
    for element in elements:
        if element["id"] == element_id:
            return element
    raise not_found(f"No element {element_id!r} in {kind}")


def _attached_image_ids(data: Any) -> set[str]:
    if not isinstance(data, dict):
        return set()
    found: set[str] = set()
    for key in ("categories", "products", "deals", "discounts"):
        for element in data.get(key) or []:
            if isinstance(element, dict) and isinstance(element.get("image_ids"), list):
                found.update(i for i in element["image_ids"] if isinstance(i, str))
    return found
