"""The ``inventory`` topic: the availability staff changed, PATCHed onto the location's HubRise inventory.

Only the SKUs and options whose availability changed here are sent (kept in
``CatalogSync.pending_stock`` by hubrise_sync.catalog_push): unavailable is
``"stock": "0"``, available again removes the entry (``null``: unlimited), so a
stock the POS set on other items is left alone (docs/hubrise/inventory.md).
What was sent is then taken off the list, unless it changed again meanwhile.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy

from hubrise_sync.connection_outbox.topic import Topic, TopicSending
from hubrise_sync.models import CatalogSync
from hubrise_sync.outbox.result import Outcome, Result, call


def entries(pending: dict) -> list[dict]:
    body = []
    for key, available in sorted(pending.items()):
        kind, _sep, ref = key.partition(":")
        body.append({f"{kind}_ref": ref, "stock": None if available else "0"})
    return body


def send(sending: TopicSending) -> Result:
    sync = CatalogSync.objects.filter(connection=sending.connection).first()
    pending = dict(sync.pending_stock) if sync else {}
    result = Result(Outcome.DELIVERED, payload={"entries": len(pending)})
    if not pending:
        return result
    connection = sending.connection
    path = f"PATCH /catalogs/{connection.catalog_id}/locations/{connection.location_id}/inventory"
    answer = call(
        result, lambda: sending.client.patch_inventory(connection.catalog_id, connection.location_id, entries(pending)), path
    )
    if answer is not None:
        with transaction.atomic():
            row = CatalogSync.objects.select_for_update().get(pk=sync.pk)
            left = {key: value for key, value in row.pending_stock.items() if pending.get(key) != value}
            CatalogSync.objects.filter(pk=row.pk).update(pending_stock=left)
    return result


TOPIC = Topic(name="inventory", label=gettext_lazy("HubRise inventory"), send=send, debounce=timedelta(0))
