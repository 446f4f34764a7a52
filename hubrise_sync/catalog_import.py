"""Pulling the connection's HubRise catalog into the establishment's menu.

``request_import`` records the wish (on connection, from the settings page's
button, on a ``catalog.create``/``catalog.update`` callback unless the
connection's ``CatalogSync.auto_import`` is off) and queues a task
after the commit; ``run_import`` (the task) reads the catalog, a heavy call
that HubRise allows 10 times a minute, through the rate limiter's heavy window,
and replaces the menu through ``menu.services.replace_menu``: one transaction,
keyed on ref codes, so that the same catalog twice changes nothing. A catalog
that cannot be read faithfully is refused as a whole and the menu stays as it
was; the record says why, for the settings page. HubRise is never called
inside a database transaction.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hubrise_sync import inventory_sync, queue, ratelimit
from hubrise_sync.catalog_mapping import CatalogRefused, menu_from_catalog
from hubrise_sync.catalog_work import QUEUED_TIMEOUT, RETRY_AFTER_FAILURE, SOURCE, STARTED_TIMEOUT, TryLater
from hubrise_sync.client import HubRiseClient, HubRiseError
from hubrise_sync.models import CatalogImport, CatalogSync, Connection
from menu import selectors as menu_selectors
from menu import services as menu_services
from menu.changes import MenuChanges
from orders.models import Establishment

logger = logging.getLogger(__name__)

Outcome = CatalogImport.Outcome
Trigger = CatalogImport.Trigger
# Lists shown on the settings page are cut here; the counts stay whole.
SHOWN = 30


# Said when a connection was made without a catalog (HubRise's consent page lets one choose none).
def _no_catalog() -> str:
    return _("This HubRise connection has no catalog: connect again and choose the catalog to import.")


def request_import(establishment: Establishment, *, trigger: str, user: AbstractBaseUser | None = None) -> CatalogImport:
    """Records an import of the connection's catalog and queues it after the commit; joins one not yet started."""
    with transaction.atomic():
        # The connection's row lock: two requests at once make one import, not two heavy reads.
        connection = Connection.objects.select_for_update().filter(establishment=establishment).first()
        waiting = CatalogImport.objects.filter(
            establishment=establishment, outcome=Outcome.PENDING, started_at__isnull=True
        ).first()
        if waiting is not None:
            return waiting
        record = CatalogImport.objects.create(
            establishment=establishment,
            catalog_id=connection.catalog_id if connection else "",
            trigger=trigger,
            requested_by=user,
        )
        transaction.on_commit(lambda: _queue_quietly(record.pk))
    return record


def imports_automatically(connection: Connection) -> bool:
    """Whether the POS's changes of the catalog (its callbacks) re-import the menu: yes unless a manager said no."""
    return not CatalogSync.objects.filter(connection=connection, auto_import=False).exists()


def set_auto_import(connection: Connection, auto_import: bool) -> None:
    CatalogSync.objects.update_or_create(connection=connection, defaults={"auto_import": auto_import})


def _queue_quietly(import_id: int, countdown: float | None = None) -> None:
    try:
        queue.import_catalog(import_id, countdown=countdown)
    except Exception as error:  # the broker's errors vary with the transport; the sweep queues it later
        logger.warning("Could not queue catalog import %s (%s); the sweep will", import_id, type(error).__name__)


def run_import(import_id: int) -> CatalogImport | None:
    """Reads the catalog and replaces the menu with it; None when the import is no longer waiting.

    Raises TryLater when HubRise's limits or an outage put the read off.
    """
    claimed = (
        CatalogImport.objects.filter(pk=import_id, outcome=Outcome.PENDING)
        .filter(Q(started_at__isnull=True) | Q(started_at__lt=timezone.now() - STARTED_TIMEOUT))
        .update(started_at=timezone.now(), not_before=None)
    )
    if not claimed:
        return None
    record = CatalogImport.objects.select_related("establishment").get(pk=import_id)
    connection = Connection.objects.filter(establishment=record.establishment).first()
    if connection is None or not connection.catalog_id:
        return _settle(record, Outcome.FAILED, problems=[_no_catalog()])
    catalog = _read_catalog(record, connection)
    if catalog is None:
        return CatalogImport.objects.get(pk=record.pk)
    establishment = record.establishment
    service_types, payment_methods = menu_selectors.own_codes(establishment)
    try:
        menu = menu_from_catalog(
            catalog, currency=establishment.currency, service_types=service_types, payment_methods=payment_methods
        )
    except CatalogRefused as refusal:
        return _settle(record, Outcome.REFUSED, problems=refusal.messages)
    with transaction.atomic():
        try:
            changes = menu_services.replace_menu(establishment, menu, source=SOURCE, keep_availability=True)
        except menu_services.InvalidMenu as refusal:
            return _settle(record, Outcome.REFUSED, problems=refusal.messages)
        if changes.added:
            # The catalog carries no stock: what it brings in takes its availability from the inventory.
            inventory_sync.request_refresh(connection)
        return _settle(record, Outcome.IMPORTED if changes.changed else Outcome.UNCHANGED, changes=changes)


def _read_catalog(record: CatalogImport, connection: Connection) -> dict | None:
    """The catalog as HubRise answers it, or None once the record says why not."""
    wait = ratelimit.acquire(connection.pk, heavy=True)
    if wait > 0:
        _put_off(record, wait)
    try:
        response = HubRiseClient(connection.access_token).get_catalog(connection.catalog_id)
    except HubRiseError as error:
        if error.status == 429:
            seconds = error.retry_after or 60
            ratelimit.pause(connection.pk, seconds)
            _put_off(record, seconds)
        if error.retryable:
            _put_off(record, RETRY_AFTER_FAILURE)
        if error.unauthorized:
            connection.mark_broken(str(error))
        _settle(record, Outcome.FAILED, problems=[str(error)])
        return None
    connection.mark_healthy()
    return response.data


def _put_off(record: CatalogImport, seconds: float) -> None:
    CatalogImport.objects.filter(pk=record.pk).update(started_at=None, not_before=timezone.now() + timedelta(seconds=seconds))
    raise TryLater(seconds)


def _settle(
    record: CatalogImport, outcome: str, *, problems: list[str] | None = None, changes: MenuChanges | None = None
) -> CatalogImport:
    details: dict = {}
    if problems:
        details["problems"] = problems[:SHOWN]
    if changes is not None:
        details.update(_described(changes))
    record.outcome, record.details, record.finished_at = outcome, details, timezone.now()
    record.save(update_fields=["outcome", "details", "finished_at"])
    logger.info("Catalog import %s of establishment %s: %s", record.pk, record.establishment_id, outcome)
    return record


def _described(changes: MenuChanges) -> dict:
    """What changed, as short texts for the settings page (names and codes, no translation needed)."""

    def named(change) -> str:
        return f"{change.label} ({change.ref})" if change.ref else change.label

    return {
        "counts": {
            "added": len(changes.added),
            "removed": len(changes.removed),
            "prices": len(changes.price_changes),
            "updated": len(changes.updated) + changes.reordered,
        },
        "added": [named(change) for change in changes.added[:SHOWN]],
        "removed": [named(change) for change in changes.removed[:SHOWN]],
        "prices": [
            {"label": named(change), "old": _amount(change.old), "new": _amount(change.new)}
            for change in changes.price_changes[:SHOWN]
        ],
    }


def _amount(value) -> str:
    return "" if value is None else f"{value:.2f}"


def requeue_stale() -> int:
    """Beat: queue again the imports whose task never ran, whose delay is over, or whose worker died."""
    now = timezone.now()
    stale = CatalogImport.objects.filter(outcome=Outcome.PENDING).filter(
        Q(started_at__isnull=True, not_before__isnull=True, requested_at__lt=now - QUEUED_TIMEOUT)
        | Q(started_at__isnull=True, not_before__lt=now - QUEUED_TIMEOUT)
        | Q(started_at__lt=now - STARTED_TIMEOUT)
    )
    ids = list(stale.values_list("pk", flat=True)[:100])
    for import_id in ids:
        _queue_quietly(import_id)
    return len(ids)


def recent_imports(establishment: Establishment, count: int = 5) -> list[CatalogImport]:
    return list(CatalogImport.objects.filter(establishment=establishment).select_related("requested_by")[:count])
