"""HubRise's inventory of the location's catalog into the menu's availability flags.

HubRise keeps stock per location and catalog (docs/hubrise/inventory.md): no
entry is unlimited, ``"stock": "0"`` is out of stock (until ``expires_at`` when
set), a positive stock is available. ``inventory.patch`` carries the changed
entries (``state_change``) and is applied at once; ``inventory.update`` (a
whole inventory PUT) carries nothing, so the whole inventory is read, in a
task, outside any transaction. Every change goes through
``menu.services`` with source "hubrise", which the push side never sends back.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hubrise_sync import queue, ratelimit
from hubrise_sync.catalog_work import QUEUED_TIMEOUT, RETRY_AFTER_FAILURE, SOURCE, STARTED_TIMEOUT, TryLater
from hubrise_sync.client import HubRiseClient, HubRiseError
from hubrise_sync.models import CatalogSync, Connection, InventoryRefresh
from menu import services as menu_services

logger = logging.getLogger(__name__)


def out_of_stock(entry: Any, now=None) -> bool | None:
    """True for an entry that says out of stock now, False for one that says available, None if unreadable."""
    if not isinstance(entry, dict):
        return None
    stock = entry.get("stock")
    if stock is None:
        return False
    try:
        amount = Decimal(str(stock))
    except InvalidOperation:
        return None
    if amount > 0:
        return False
    expires = parse_datetime(entry["expires_at"]) if isinstance(entry.get("expires_at"), str) else None
    # An entry whose expiry has passed is gone at HubRise: the item is back.
    return expires is None or expires > (now or timezone.now())


def apply_changes(connection: Connection, entries: Any) -> int:
    """Applies the entries of an ``inventory.patch`` (``state_change``); returns how many flags changed."""
    closed: dict[str, list[str]] = {"sku_ref": [], "option_ref": []}
    opened: dict[str, list[str]] = {"sku_ref": [], "option_ref": []}
    for entry in entries if isinstance(entries, list) else []:
        state = out_of_stock(entry)
        key = next(
            (key for key in ("sku_ref", "option_ref") if isinstance(entry, dict) and isinstance(entry.get(key), str)), None
        )
        if state is None or key is None:
            continue
        (closed if state else opened)[key].append(entry[key])
    establishment = connection.establishment
    changed = menu_services.set_availability(
        establishment, available=False, source=SOURCE, sku_refs=closed["sku_ref"], option_refs=closed["option_ref"]
    )
    changed += menu_services.set_availability(
        establishment, available=True, source=SOURCE, sku_refs=opened["sku_ref"], option_refs=opened["option_ref"]
    )
    return len(changed)


def request_refresh(connection: Connection) -> None:
    """Asks for a read of the whole inventory (after an ``inventory.update``), queued after the commit."""
    refresh, _created = InventoryRefresh.objects.get_or_create(connection=connection)
    InventoryRefresh.objects.filter(pk=refresh.pk).update(wanted_at=timezone.now())
    transaction.on_commit(lambda: _queue_quietly(connection.pk))


def _queue_quietly(connection_id: int, countdown: float | None = None) -> None:
    try:
        queue.refresh_inventory(connection_id, countdown=countdown)
    except Exception as error:  # the sweep queues it later
        logger.warning("Could not queue the inventory read of connection %s (%s)", connection_id, type(error).__name__)


def refresh(connection_id: int) -> str:
    """Reads the location's inventory and makes the menu's flags match it. Raises TryLater when put off."""
    now = timezone.now()
    claimed = (
        InventoryRefresh.objects.filter(connection_id=connection_id)
        .filter(Q(wanted_at__isnull=False, started_at__isnull=True) | Q(started_at__lt=now - STARTED_TIMEOUT))
        .update(wanted_at=None, started_at=now, not_before=None)
    )
    if not claimed:
        return "not wanted"
    connection = Connection.objects.select_related("establishment").filter(pk=connection_id).first()
    if connection is None or not connection.catalog_id:
        return "no catalog"
    wait = ratelimit.acquire(connection.pk)
    if wait > 0:
        _put_off(connection_id, wait)
    try:
        response = HubRiseClient(connection.access_token).get_inventory(connection.catalog_id, connection.location_id)
    except HubRiseError as error:
        if error.status == 429:
            ratelimit.pause(connection.pk, error.retry_after or 60)
            _put_off(connection_id, error.retry_after or 60)
        if error.retryable:
            _put_off(connection_id, RETRY_AFTER_FAILURE)
        if error.unauthorized:
            connection.mark_broken(str(error))
        InventoryRefresh.objects.filter(connection_id=connection_id).update(started_at=None, last_error=str(error)[:2000])
        return "failed"
    entries = response.data if isinstance(response.data, list) else []
    unavailable = {
        f"{kind}:{entry[f'{kind}_ref']}"
        for entry in entries
        if out_of_stock(entry)
        for kind in ("sku", "option")
        if isinstance(entry.get(f"{kind}_ref"), str)
    }
    # A tap of staff not yet sent to HubRise wins over the inventory read before it arrived there.
    sync = CatalogSync.objects.filter(connection=connection).first()
    for key, available in (sync.pending_stock if sync else {}).items():
        (unavailable.discard if available else unavailable.add)(key)
    changed = menu_services.replace_availability(
        connection.establishment,
        unavailable_sku_refs=[key[4:] for key in unavailable if key.startswith("sku:")],
        unavailable_option_refs=[key[7:] for key in unavailable if key.startswith("option:")],
        source=SOURCE,
    )
    InventoryRefresh.objects.filter(connection_id=connection_id).update(started_at=None, done_at=timezone.now(), last_error="")
    return f"{len(changed)} changed"


def _put_off(connection_id: int, seconds: float) -> None:
    InventoryRefresh.objects.filter(connection_id=connection_id).update(
        wanted_at=timezone.now(), started_at=None, not_before=timezone.now() + timedelta(seconds=seconds)
    )
    raise TryLater(seconds)


def requeue_stale() -> int:
    now = timezone.now()
    stale = InventoryRefresh.objects.filter(
        Q(wanted_at__lt=now - QUEUED_TIMEOUT, started_at__isnull=True, not_before__isnull=True)
        | Q(wanted_at__isnull=False, started_at__isnull=True, not_before__lt=now - QUEUED_TIMEOUT)
        | Q(started_at__lt=now - STARTED_TIMEOUT)
    )
    ids = list(stale.values_list("connection_id", flat=True)[:100])
    for connection_id in ids:
        _queue_quietly(connection_id)
    return len(ids)
