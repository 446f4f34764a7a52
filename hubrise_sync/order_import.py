"""Orders other apps created at HubRise (Uber Eats, Deliveroo, the POS) become ours, exactly once.

Every way such an order reaches us ends here: an ``order.create`` event (webhook
or polling), an ``order.update`` that overtook its create, the reconciliation's
and the first connection's list of open orders, and a manager's "Réessayer".

- Our own orders are never imported: HubRise shows an order's ``private_ref``
  only to the app that set it, so an order with one is ours (we send our uid).
- Exactly once: the HubRise id is unique per location in ``OrderLink``. Imports
  of one HubRise order wait for each other on a transaction-scoped advisory
  lock, then find the link the first one wrote; the unique constraint stays the
  last word should anything bypass the lock.
- The order goes through ``orders.services.create_order`` with source "hubrise"
  and HubRise's ``created_by`` as the detail: the create kind of the outbox
  writes nothing for such an order, and its link carries the HubRise id at once,
  so staff's status changes go out as PATCHes.
- An order we cannot take is recorded as not imported with the reason (see
  ``import_mapping``); nothing of it is written.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import DataError, IntegrityError, transaction
from django.db import connection as db_connection
from django.utils import timezone

from hubrise_sync import deliveries
from hubrise_sync.client import HubRiseClient, HubRiseError
from hubrise_sync.import_mapping import NotImportable, read_order
from hubrise_sync.inbound_time import parse_time
from hubrise_sync.models import Connection, InboundEvent, OrderLink
from orders.models import Order, StatusChange
from orders.services import OrderError, change_status, create_order
from orders.status import OrderStatus

logger = logging.getLogger(__name__)
Outcome = InboundEvent.Outcome


@dataclass(frozen=True)
class ImportResult:
    outcome: str
    detail: str
    order: Order | None = None


def is_ours(state: dict) -> bool:
    """An order with a private_ref is one we sent: HubRise shows that field to its author only."""
    return bool(state.get("private_ref"))


def import_order(connection: Connection, state: dict, *, hubrise_order_id: str = "") -> ImportResult:
    """Makes the HubRise order ``state`` one of ours unless it is ours already; never raises for bad input."""
    hubrise_order_id = hubrise_order_id or str(state.get("id") or "")
    if not hubrise_order_id:
        return ImportResult(Outcome.NOT_IMPORTED, "The order has no HubRise id.")
    if is_ours(state):
        return ImportResult(Outcome.NO_CHANGE, "An order we sent to HubRise ourselves: not imported.")
    establishment = connection.establishment
    with transaction.atomic():
        lock(connection.location_id, hubrise_order_id)
        existing = _linked(connection.location_id, hubrise_order_id)
        if existing is not None:
            return ImportResult(Outcome.NO_CHANGE, f"Already imported as order {existing.ref}.", existing)
        try:
            imported = read_order(state, currency=establishment.currency, country=establishment.country)
        except NotImportable as refused:
            return ImportResult(Outcome.NOT_IMPORTED, str(refused))
        try:
            # A savepoint: a refusal or a lost race leaves nothing of the order behind.
            with transaction.atomic():
                order = create_order(
                    establishment,
                    imported.order,
                    source=StatusChange.Source.HUBRISE,
                    source_detail=imported.created_by,
                    created_at=_placed_at(state),
                )
                OrderLink.objects.create(order=order, location_id=connection.location_id, hubrise_order_id=hubrise_order_id)
                if imported.delivery:
                    deliveries.store(order, imported.delivery, changed_at=None)
        except IntegrityError:
            existing = _linked(connection.location_id, hubrise_order_id)
            if existing is None:
                raise
            return ImportResult(Outcome.NO_CHANGE, f"Already imported as order {existing.ref}.", existing)
        except (OrderError, DataError) as error:
            # A value PostgreSQL refuses (out of range) is the order's fault; a database that is down is not (it propagates,
            # and the event stays to be applied again).
            logger.warning("HubRise order %s could not be imported: %s", hubrise_order_id, error)
            return ImportResult(Outcome.NOT_IMPORTED, f"The order could not be recorded: {error}")
        if connection.acknowledge_new_orders and order.status == OrderStatus.NEW:
            # HubRise's guidance for apps receiving orders: say "received" once the order is here.
            change_status(order, OrderStatus.RECEIVED, source=StatusChange.Source.SYSTEM)
        # Earlier tries that failed are settled: the order leaves the managers' "not imported" list.
        InboundEvent.objects.filter(
            location_id=connection.location_id, hubrise_order_id=hubrise_order_id, outcome=Outcome.NOT_IMPORTED
        ).update(outcome=Outcome.IMPORTED, order=order, detail=f"Imported later as order {order.ref}.")
        _apply_waiting_deliveries(order, connection.location_id, hubrise_order_id)
    by = imported.created_by or "another app"
    return ImportResult(Outcome.IMPORTED, f"Order {hubrise_order_id} of {by} imported as {order.ref}.", order)


def _apply_waiting_deliveries(order: Order, location_id: str, hubrise_order_id: str) -> None:
    """The courier events that reached us before their order was imported (inbound keeps them, under ``lock``), applied
    to it now, in the order they came."""
    waiting = InboundEvent.objects.filter(
        location_id=location_id,
        hubrise_order_id=hubrise_order_id,
        resource_type="delivery",
        outcome=Outcome.IGNORED_UNKNOWN_ORDER,
    ).order_by("pk")
    for event in waiting:
        # Recorded only once inbound had read it: a JSON object with its time.
        body = json.loads(event.raw_body)
        event.order = order
        happened_at = parse_time(body["created_at"])
        event.outcome, event.detail = deliveries.store(order, body.get("new_state") or {}, changed_at=happened_at)
        event.save(update_fields=["order", "outcome", "detail"])


def lock(location_id: str, hubrise_order_id: str) -> None:
    """Imports of one HubRise order, in any process, run one at a time until their transaction ends; so does a
    courier event of that order which found no order (inbound), so that it sees the import or the import sees it."""
    digest = hashlib.blake2b(f"{location_id}/{hubrise_order_id}".encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _linked(location_id: str, hubrise_order_id: str) -> Order | None:
    link = OrderLink.objects.filter(location_id=location_id, hubrise_order_id=hubrise_order_id).select_related("order").first()
    return link.order if link is not None else None


def _placed_at(state: dict) -> datetime:
    """When the guest placed the order, by HubRise's clock; never later than now (a clock ahead of ours)."""
    now = timezone.now()
    placed = parse_time(state.get("created_at"))
    return now if placed is None else min(placed, now)


def not_imported(connection: Connection):
    """The orders of other apps this connection could not import, newest first (the settings page lists them)."""
    return InboundEvent.objects.filter(connection=connection, outcome=Outcome.NOT_IMPORTED).order_by("-received_at", "-pk")


def retry(event: InboundEvent) -> ImportResult:
    """Imports a not-imported order again, as HubRise holds it now (an app may have corrected it); the event records how it went.

    When HubRise cannot be asked, the order as the event carried it is tried again
    (the fix may be ours: the establishment's currency, say).
    """
    connection = event.connection
    state = None
    try:
        state = HubRiseClient(connection.access_token).get_order(connection.location_id, event.hubrise_order_id).data
    except HubRiseError as error:
        logger.info(
            "HubRise order %s could not be read again (%s); retrying with the recorded one", event.hubrise_order_id, error
        )
    if not isinstance(state, dict):
        state = (json.loads(event.raw_body) if event.raw_body else {}).get("new_state") or {}
    result = import_order(connection, state, hubrise_order_id=event.hubrise_order_id)
    event.outcome, event.detail, event.order = result.outcome, result.detail, result.order
    event.save(update_fields=["outcome", "detail", "order"])
    return result
