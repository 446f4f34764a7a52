"""Deleting what is no longer useful, on a documented retention (README, "Retention").

The HubRise records, and the intake API's Idempotency-Keys: one task purges them all.

Run by beat (hubrise_sync.tasks.retention) every RETENTION_INTERVAL seconds. What
is still to do is never deleted, whatever its age: a pending event, a message not
yet delivered. Each kind is deleted in small batches, so that no run holds long
locks on tables the webhook and the workers write to.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from hubrise_sync.models import CatalogImport, InboundEvent, OutboxMessage, QuarantinedCallback, RefusedCallbackTally
from orders.api import idempotency

logger = logging.getLogger(__name__)

BATCH = 2000


def purge_old_records(now: datetime | None = None) -> dict[str, int]:
    """Deletes what is past its retention; returns how many rows of each kind."""
    now = timezone.now() if now is None else now

    def before(days: float) -> datetime:
        return now - timedelta(days=days)

    quarantine_cutoff = before(settings.HUBRISE_QUARANTINE_RETENTION_DAYS)
    outbox_cutoff = before(settings.HUBRISE_OUTBOX_RETENTION_DAYS)
    deleted = {
        "quarantined callbacks": delete_in_batches(QuarantinedCallback.objects.filter(received_at__lt=quarantine_cutoff)),
        "refused callback tallies": delete_in_batches(RefusedCallbackTally.objects.filter(hour__lt=quarantine_cutoff)),
        "inbound events": delete_in_batches(
            # An order not imported stays until it is (or a manager gives up on it): its record is all we have of it.
            InboundEvent.objects.exclude(outcome__in=(InboundEvent.Outcome.PENDING, InboundEvent.Outcome.NOT_IMPORTED)).filter(
                received_at__lt=before(settings.HUBRISE_EVENT_RETENTION_DAYS)
            )
        ),
        # Their delivery attempts go with them. A superseded message never went out: its age is its creation's.
        "outbox messages": delete_in_batches(
            OutboxMessage.objects.filter(
                Q(state=OutboxMessage.State.DELIVERED, delivered_at__lt=outbox_cutoff)
                | Q(state=OutboxMessage.State.SUPERSEDED, created_at__lt=outbox_cutoff)
            )
        ),
        # Catalog imports (one per POS change of the catalog): the settings page shows the last few only.
        "catalog imports": delete_in_batches(
            CatalogImport.objects.exclude(outcome=CatalogImport.Outcome.PENDING).filter(
                requested_at__lt=before(settings.HUBRISE_EVENT_RETENTION_DAYS)
            )
        ),
        # The intake API's Idempotency-Keys: the API no longer honours them past their hours anyway.
        "idempotency keys": delete_in_batches(idempotency.expired(now)),
    }
    if any(deleted.values()):
        logger.info("Retention: deleted %s", ", ".join(f"{count} {kind}" for kind, count in deleted.items()))
    return deleted


def delete_in_batches(rows: QuerySet, batch: int = BATCH) -> int:
    """Deletes the rows of ``rows``, ``batch`` at a time (each its own short transaction); returns how many."""
    total = 0
    while True:
        ids = list(rows.order_by().values_list("pk", flat=True)[:batch])
        if not ids:
            return total
        rows.model.objects.filter(pk__in=ids).delete()
        total += len(ids)
