"""Inventories: stock of skus and options per location and catalog, and inventory events.

An entry is ``{"sku_ref"|"option_ref", "stock", "expires_at"}``. No entry means unlimited;
``"0"`` is out of stock, optionally until ``expires_at``, when the entry goes away and
``inventory.patch`` tells every subscriber (one event per catalog, location and instant).

Only refs of the catalog in the path can be set: an unknown ref is refused (422) rather than
silently skipped, so a client that sends stale refs hears about it. PUT resets the catalog's
entries missing from the body and leaves entries of refs no longer in the catalog alone.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .catalog_view import sku_and_option_refs
from .catalogs import visible_catalogs
from .errors import ApiError, Errors, not_found
from .events import emit
from .formats import FormatError, local_time, parse_decimal, parse_time
from .permissions import has_any, require_any

if TYPE_CHECKING:
    from .sandbox import Connection, Sandbox

ENTRY_FIELDS = {"sku_ref", "option_ref", "stock", "expires_at"}
KEYS = {"sku": "sku_ref", "option": "option_ref"}


def check_entries(payload: Any, sku_refs: set[str], option_refs: set[str]) -> list[tuple[str, str, str | None, float | None]]:
    """Returns (kind, ref, stock or None, expires_at timestamp or None) per entry, or raises ValidationFailed."""
    errors = Errors()
    if not isinstance(payload, list):
        errors.add("base", "the body must be a JSON array of inventory entries")
        errors.raise_if_any()
    entries, seen = [], set()
    for index, raw in enumerate(payload):
        path = f"[{index}]"
        if not isinstance(raw, dict):
            errors.add(path, "must be an object")
            continue
        for key in raw:
            if key not in ENTRY_FIELDS:
                errors.add(f"{path}.{key}", "is not a known field")
        kinds = [kind for kind, key in KEYS.items() if key in raw]
        if len(kinds) != 1:
            errors.add(path, "needs exactly one of sku_ref or option_ref")
            continue
        kind = kinds[0]
        ref = raw[KEYS[kind]]
        known = sku_refs if kind == "sku" else option_refs
        if not isinstance(ref, str) or ref not in known:
            errors.add(
                f"{path}.{KEYS[kind]}", f"{ref!r} is not the ref of a{'' if kind == 'sku' else 'n'} {kind} of this catalog"
            )
            continue
        if (kind, ref) in seen:
            errors.add(f"{path}.{KEYS[kind]}", f"{ref!r} appears twice in this request")
        seen.add((kind, ref))
        if "stock" not in raw:
            errors.add(f"{path}.stock", "is required (null removes the entry)")
            continue
        stock = _stock(errors, raw["stock"], f"{path}.stock")
        expires_at = None
        if raw.get("expires_at") is not None:
            try:
                expires_at = parse_time(raw["expires_at"]).timestamp()
            except FormatError as error:
                errors.add(f"{path}.expires_at", str(error))
            if stock is None or Decimal(stock) != 0:
                errors.add(f"{path}.expires_at", 'is only allowed when stock is "0" (out of stock)')
        entries.append((kind, ref, stock, expires_at))
    errors.raise_if_any()
    return entries


def _stock(errors: Errors, value: Any, path: str) -> str | None:
    if value is None:
        return None
    try:
        number = parse_decimal(value)
    except FormatError as error:
        errors.add(path, str(error))
        return None
    if number < 0:
        errors.add(path, f"{value!r} must not be negative")
    elif -number.as_tuple().exponent > 3:
        errors.add(path, f"{value!r} has more than 3 decimal places")
    return value


class Inventory:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store

    # Through the API ------------------------------------------------------------------------

    def get(self, connection: Connection, catalog_id: str) -> list[dict]:
        self._allowed(connection, catalog_id, "read")
        return self.entries(catalog_id, connection.location_id)

    def replace(self, connection: Connection, catalog_id: str, payload: Any) -> list[dict]:
        self._allowed(connection, catalog_id, "write")
        return self.replace_as(connection.client_id, catalog_id, connection.location_id, payload)

    def patch(self, connection: Connection, catalog_id: str, payload: Any) -> list[dict]:
        self._allowed(connection, catalog_id, "write")
        return self.patch_as(connection.client_id, catalog_id, connection.location_id, payload)

    def _allowed(self, connection: Connection, catalog_id: str, access: str) -> None:
        if not any(row["id"] == catalog_id for row in visible_catalogs(self.store, connection.location_id)):
            raise not_found(f"Catalog {catalog_id!r} not found")
        if has_any(connection.scope, f"inventory.{access}"):
            return
        # Deprecated by HubRise but still honoured: catalog.* reaches the bound catalog's inventory.
        if has_any(connection.scope, f"catalog.{access}"):
            if connection.catalog_id == catalog_id:
                return
            raise ApiError(403, "forbidden", f"This access token gives access to catalog {connection.catalog_id!r} only")
        require_any(connection.scope, f"inventory.{access}")

    # As any app ---------------------------------------------------------------------------------

    def entries(self, catalog_id: str, location_id: str) -> list[dict]:
        timezone = self.sandbox.location(location_id)["timezone"]
        rows = self.store.query(
            "SELECT * FROM inventory_entries WHERE catalog_id = ? AND location_id = ? ORDER BY seq", (catalog_id, location_id)
        )
        return [_entry_view(row["kind"], row["ref"], row["stock"], row["expires_at"], timezone) for row in rows]

    def replace_as(self, client_id: str | None, catalog_id: str, location_id: str, payload: Any) -> list[dict]:
        sku_refs, option_refs = self._catalog_refs(catalog_id, location_id)
        entries = check_entries(payload, sku_refs, option_refs)
        with self.store.transaction() as db:
            for kind, refs in (("sku", sku_refs), ("option", option_refs)):
                for ref in refs:
                    db.execute(
                        "DELETE FROM inventory_entries WHERE catalog_id = ? AND location_id = ? AND kind = ? AND ref = ?",
                        (catalog_id, location_id, kind, ref),
                    )
            for kind, ref, stock, expires_at in entries:
                # In a PUT a null stock is ignored: the entry stays reset, i.e. unlimited.
                if stock is not None:
                    self._upsert(db, catalog_id, location_id, kind, ref, stock, expires_at)
            self._emit(db, catalog_id, location_id, "update", client_id, None)
        self.sandbox.dispatcher.wake()
        return self.entries(catalog_id, location_id)

    def patch_as(self, client_id: str | None, catalog_id: str, location_id: str, payload: Any) -> list[dict]:
        """Changes only the entries sent (a null stock removes one); answers the changed entries."""
        sku_refs, option_refs = self._catalog_refs(catalog_id, location_id)
        entries = check_entries(payload, sku_refs, option_refs)
        timezone = self.sandbox.location(location_id)["timezone"]
        changed = [_entry_view(kind, ref, stock, expires_at, timezone) for kind, ref, stock, expires_at in entries]
        with self.store.transaction() as db:
            for kind, ref, stock, expires_at in entries:
                if stock is None:
                    db.execute(
                        "DELETE FROM inventory_entries WHERE catalog_id = ? AND location_id = ? AND kind = ? AND ref = ?",
                        (catalog_id, location_id, kind, ref),
                    )
                else:
                    self._upsert(db, catalog_id, location_id, kind, ref, stock, expires_at)
            self._emit(db, catalog_id, location_id, "patch", client_id, changed)
        self.sandbox.dispatcher.wake()
        return changed

    def expire_due(self, now: float) -> float | None:
        """Drops the entries whose ``expires_at`` has passed, one ``inventory.patch`` per catalog,
        location and instant; returns when the next entry expires."""
        with self.store.transaction() as db:
            due = db.execute("SELECT * FROM inventory_entries WHERE expires_at <= ? ORDER BY expires_at, seq", (now,)).fetchall()
            groups: dict[tuple, list] = {}
            for row in due:
                groups.setdefault((row["catalog_id"], row["location_id"], row["expires_at"]), []).append(row)
            for (catalog_id, location_id, _), rows in groups.items():
                db.execute(
                    f"DELETE FROM inventory_entries WHERE seq IN ({', '.join('?' * len(rows))})",  # noqa: S608
                    [row["seq"] for row in rows],
                )
                timezone = db.execute("SELECT timezone FROM locations WHERE id = ?", (location_id,)).fetchone()[0]
                changed = [_entry_view(row["kind"], row["ref"], None, None, timezone) for row in rows]
                # HubRise itself makes this change: every subscriber hears of it, the app that set the entry too.
                self._emit(db, catalog_id, location_id, "patch", None, changed)
            upcoming = db.execute("SELECT MIN(expires_at) FROM inventory_entries WHERE expires_at IS NOT NULL").fetchone()[0]
        if due:
            self.sandbox.dispatcher.wake()
        return upcoming

    def _catalog_refs(self, catalog_id: str, location_id: str) -> tuple[set[str], set[str]]:
        for row in visible_catalogs(self.store, location_id):
            if row["id"] == catalog_id:
                return sku_and_option_refs(json.loads(row["data"]))
        raise not_found(f"Catalog {catalog_id!r} is not a catalog of location {location_id!r}")

    @staticmethod
    def _upsert(db, catalog_id: str, location_id: str, kind: str, ref: str, stock: str, expires_at: float | None) -> None:
        db.execute(
            "INSERT INTO inventory_entries (catalog_id, location_id, kind, ref, stock, expires_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (catalog_id, location_id, kind, ref)"
            " DO UPDATE SET stock = excluded.stock, expires_at = excluded.expires_at",
            (catalog_id, location_id, kind, ref, stock, expires_at),
        )

    @staticmethod
    def _emit(db, catalog_id: str, location_id: str, event_type: str, actor_client_id: str | None, changed: list | None) -> None:
        def fields(receiver) -> dict:
            body = {"catalog_id": catalog_id, "location_id": location_id, "account_id": receiver["account_id"]}
            # inventory.update carries no state (GET the inventory); inventory.patch lists the changes.
            if changed is not None:
                body["state_change"] = changed
            return body

        emit(
            db,
            location_ids=[location_id],
            resource="inventory",
            event_type=event_type,
            actor_client_id=actor_client_id,
            fields=fields,
        )


def _entry_view(kind: str, ref: str, stock: str | None, expires_at: float | None, timezone: str) -> dict:
    return {KEYS[kind]: ref, "stock": stock, "expires_at": local_time(expires_at, timezone) if expires_at is not None else None}
