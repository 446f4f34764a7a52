"""Our menu and its availability, pushed to the connection's HubRise catalog and inventory.

Through the connection outbox (topics ``catalog`` and ``inventory``): asked for
inside the transaction that changed the menu, sent by a worker from the state at
sending time, retried until HubRise has it. "Envoyer la carte à HubRise" sends at
once; with ``auto_push`` every menu change sends the whole menu a minute after
the last one (ten edits in a minute make one PUT). Availability changes always
go to the inventory (stock "0", or the entry removed). Changes that came from
HubRise (source "hubrise") are never sent back.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from hubrise_sync.connection_outbox.request import request_send
from hubrise_sync.models import CatalogSync, Connection
from menu import signals
from orders.models import Establishment

SOURCE_HUBRISE = "hubrise"


def _connection(establishment: Establishment) -> Connection | None:
    connection = Connection.objects.filter(establishment_id=establishment.pk).first()
    return connection if connection is not None and connection.catalog_id else None


def sync_of(connection: Connection) -> CatalogSync:
    sync, _created = CatalogSync.objects.get_or_create(connection=connection)
    return sync


def push_now(establishment: Establishment) -> bool:
    """ "Envoyer la carte à HubRise": the whole menu, at once; False when there is no catalog to send it to."""
    connection = _connection(establishment)
    if connection is None:
        return False
    with transaction.atomic():
        request_send(connection, "catalog", delay=timedelta(0))
    return True


def set_auto_push(connection: Connection, auto_push: bool) -> None:
    CatalogSync.objects.update_or_create(connection=connection, defaults={"auto_push": auto_push})


def on_menu_changed(sender, establishment: Establishment, source: str, **kwargs) -> None:
    if source == SOURCE_HUBRISE:
        return
    connection = _connection(establishment)
    if connection is not None and CatalogSync.objects.filter(connection=connection, auto_push=True).exists():
        # The topic's debounce: the first edit waits a minute for the next ones.
        request_send(connection, "catalog")


def on_availability_changed(sender, establishment: Establishment, source: str, items, **kwargs) -> None:
    if source == SOURCE_HUBRISE:
        return
    connection = _connection(establishment)
    if connection is None:
        return
    changed = {f"{item.kind}:{item.ref}": item.available for item in items if item.ref}
    if not changed:
        # Without a ref code HubRise's inventory cannot name it.
        return
    sync = CatalogSync.objects.select_for_update().filter(connection=connection).first() or sync_of(connection)
    # The newest availability of each item wins; what was waiting for other items stays.
    CatalogSync.objects.filter(pk=sync.pk).update(pending_stock={**sync.pending_stock, **changed})
    request_send(connection, "inventory", delay=timedelta(0))


def connect_receivers() -> None:
    signals.menu_changed.connect(on_menu_changed, dispatch_uid="hubrise_catalog_push")
    signals.availability_changed.connect(on_availability_changed, dispatch_uid="hubrise_inventory_push")
