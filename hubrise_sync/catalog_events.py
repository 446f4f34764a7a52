"""What HubRise's catalog and inventory callbacks mean for the menu (webhook and polling alike).

``catalog.create``/``catalog.update`` carry ids only: an import of the bound
catalog is asked for (a heavy read, done by a task), unless a manager switched
the automatic re-import off for the connection (the event is then recorded,
not used). ``inventory.patch``
carries the changed entries and is applied at once; ``inventory.update``
asks for a read of the whole inventory. Events of another catalog than the
one the connection is bound to are recorded and left alone.
"""

from __future__ import annotations

import json

from hubrise_sync import catalog_import, inventory_sync
from hubrise_sync.models import CatalogImport, Connection, InboundEvent

RESOURCE_TYPES = ("catalog", "inventory")
Outcome = InboundEvent.Outcome


def connections_of(body: dict, location_id: str, connection: Connection | None) -> list[Connection]:
    """The connections bound to the event's catalog (an account-level catalog's event names no location)."""
    catalog_id = body.get("catalog_id")
    if not isinstance(catalog_id, str) or not catalog_id:
        return []
    if connection is not None:
        candidates = [connection]
    elif location_id:
        candidates = list(Connection.objects.select_related("establishment").filter(location_id=location_id))
    else:
        candidates = list(Connection.objects.select_related("establishment").filter(catalog_id=catalog_id))
    return [candidate for candidate in candidates if candidate.catalog_id == catalog_id]


def apply(raw: str, resource_type: str, event_type: str, location_id: str, connection: Connection | None) -> tuple[str, str]:
    """(outcome, detail) of one catalog or inventory event, for its InboundEvent record."""
    body = json.loads(raw)
    connections = connections_of(body, location_id, connection)
    kind = f"{resource_type}.{event_type}"
    if not connections:
        return Outcome.IGNORED_UNSUPPORTED, f"{kind}: catalog {body.get('catalog_id')!r} is not bound to a connection of ours."
    done = []
    used = False
    for bound in connections:
        if resource_type == "catalog" and event_type in ("create", "update"):
            if not catalog_import.imports_automatically(bound):
                done.append(f"automatic re-import is off for establishment {bound.establishment_id}, the menu is kept")
                continue
            record = catalog_import.request_import(bound.establishment, trigger=CatalogImport.Trigger.CALLBACK)
            done.append(f"import {record.pk} for establishment {bound.establishment_id}")
        elif resource_type == "inventory" and event_type == "update":
            inventory_sync.request_refresh(bound)
            done.append(f"inventory read for establishment {bound.establishment_id}")
        elif resource_type == "inventory" and event_type == "patch":
            changed = inventory_sync.apply_changes(bound, body.get("state_change"))
            done.append(f"{changed} availability changes for establishment {bound.establishment_id}")
        else:
            # A deleted catalog leaves the menu as it is: staff keep taking orders on it.
            return Outcome.IGNORED_UNSUPPORTED, f"{kind}: the menu is kept as it is."
        used = True
    return Outcome.APPLIED if used else Outcome.IGNORED_UNSUPPORTED, f"{kind}: " + "; ".join(done)
