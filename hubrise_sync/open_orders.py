"""The open orders at HubRise that no event brought us: imported on the first connection, and caught up by reconciliation.

A restaurant connecting in the middle of a service already has orders at HubRise
(Uber Eats, the POS): the first connection imports those still open from the last
24 hours. HubRise also gives up on an event after an hour of retries, so the
reconciliation lists the open orders of the last hours too and imports any it
missed. ``GET /location/orders`` is a heavy call (10 a minute): one list per run,
pages of 100 (docs/hubrise/deliveries.md, "First connection"). Every order goes
through ``order_import``, which skips ours and those already here.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from hubrise_sync import order_import, ratelimit
from hubrise_sync.client import HubRiseClient, HubRiseError
from hubrise_sync.mapping import local_time
from hubrise_sync.models import Connection, InboundEvent

logger = logging.getLogger(__name__)

OPEN_STATUSES = "new,received,accepted,in_preparation,awaiting_shipment,awaiting_collection,in_delivery"
FIRST_CONNECTION_HOURS = 24
# One list never reads more than this many pages; the next run goes on.
MAX_PAGES = 5


@dataclass
class OpenOrdersResult:
    imported: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    error: str = ""


def import_open_orders(connection: Connection, *, hours: float) -> OpenOrdersResult:
    """Imports the orders still open at HubRise placed in the last ``hours``; records the refused ones for managers."""
    result = OpenOrdersResult()
    client = HubRiseClient(connection.access_token)
    after = local_time(timezone.now() - timedelta(hours=hours), connection.establishment.timezone)
    cursor = None
    for _page in range(MAX_PAGES):
        if ratelimit.acquire(connection.pk, heavy=True) > 0:
            result.error = "Rate limit reached; the next run goes on."
            break
        params = {"status": OPEN_STATUSES, "after": after, "count": "100"}
        if cursor:
            params["cursor"] = cursor
        try:
            page = client.find_orders(connection.location_id, **params)
        except HubRiseError as error:
            if error.unauthorized:
                connection.mark_broken(str(error))
            result.error = str(error)
            break
        for state in page.data if isinstance(page.data, list) else []:
            _import_one(connection, state, result)
        cursor = page.headers.get("X-Cursor-Next")
        if not cursor:
            break
    return result


def _import_one(connection: Connection, state: dict, result: OpenOrdersResult) -> None:
    if not isinstance(state, dict) or order_import.is_ours(state):
        return
    outcome = order_import.import_order(connection, state)
    hubrise_id = str(state.get("id") or "")
    if outcome.outcome == InboundEvent.Outcome.IMPORTED:
        result.imported.append(hubrise_id)
    elif outcome.outcome == InboundEvent.Outcome.NOT_IMPORTED:
        result.refused.append(hubrise_id)
        # Recorded like an event, so that managers see it and retry it from the same list; once per order.
        already = InboundEvent.objects.filter(
            connection=connection, hubrise_order_id=hubrise_id, outcome=InboundEvent.Outcome.NOT_IMPORTED
        )
        if already.update(detail=outcome.detail):
            return
        InboundEvent.objects.create(
            connection=connection,
            location_id=connection.location_id,
            hubrise_order_id=hubrise_id,
            outcome=InboundEvent.Outcome.NOT_IMPORTED,
            resource_type="order",
            event_type="create",
            new_status=str(state.get("status") or "")[:32],
            via=InboundEvent.Via.RECONCILIATION,
            detail=outcome.detail,
            raw_body=_as_event(state),
        )


def _as_event(state: dict) -> str:
    return json.dumps({"new_state": state}, ensure_ascii=False)


# Reconciliation looks this far back: HubRise retries an event for about an hour.
CATCH_UP_HOURS = 2


def catch_up(connection: Connection) -> OpenOrdersResult | None:
    """Reconciliation's pass: the first import if it is still to do, else the open orders of the last hours."""
    if connection.open_orders_imported_at is None:
        return first_import(connection)
    return import_open_orders(connection, hours=CATCH_UP_HOURS)


def first_import(connection: Connection) -> OpenOrdersResult | None:
    """The one import of a new connection's open orders; None when it was done already."""
    claimed = Connection.objects.filter(pk=connection.pk, open_orders_imported_at__isnull=True).update(
        open_orders_imported_at=timezone.now()
    )
    if not claimed:
        return None
    result = import_open_orders(connection, hours=FIRST_CONNECTION_HOURS)
    if result.error:
        # Tried again by the next reconciliation run, which lists these hours too.
        Connection.objects.filter(pk=connection.pk).update(open_orders_imported_at=None)
    logger.info("First import of HubRise location %s: %d imported", connection.location_id, len(result.imported))
    return result
