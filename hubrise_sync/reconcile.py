"""Reconciliation: catch up on callbacks we missed, and repair a divergence, by asking HubRise for our orders' status.

HubRise gives up on an event after an hour of retries, so a longer outage on
our side loses status changes; and a race the rules could not settle may leave
the two sides apart. A periodic pass GETs our recent orders (unfinished ones,
and finished ones once after they finished), the least recently checked first,
within a small share of HubRise's rate limits, and applies any difference through
the same code as the webhook (order_updates): HubRise's status wins.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone, translation

from hubrise_sync import order_updates, ratelimit
from hubrise_sync.client import HubRiseClient, HubRiseError
from hubrise_sync.models import Connection, InboundEvent, OutboxMessage, ReconcileCheck
from hubrise_sync.order_checks import put_first_in_line
from orders.models import Order
from orders.status import FINISHED_STATUSES

logger = logging.getLogger(__name__)

# Our own changes not yet at HubRise: until they are, HubRise's status is older than ours.
_UNSENT = (OutboxMessage.State.PENDING, OutboxMessage.State.HELD, OutboxMessage.State.FAILED)


@dataclass
class ReconcileResult:
    checked: list[int] = field(default_factory=list)
    applied: list[int] = field(default_factory=list)
    error: str = ""


def orders_per_run() -> int:
    """How many orders one run may GET per connection: the daily budget spread over the runs of a day.

    0 when runs are more frequent than the budget allows: a run then checks one
    order only if the connection's last check is old enough (see ``_limit``).
    """
    return int(settings.HUBRISE_RECONCILE_BUDGET_PER_DAY * settings.HUBRISE_RECONCILE_INTERVAL / 86400)


def _limit(connection: Connection) -> int:
    per_run = orders_per_run()
    if per_run > 0:
        return per_run
    spacing = timedelta(seconds=86400 / max(1, settings.HUBRISE_RECONCILE_BUDGET_PER_DAY))
    last = ReconcileCheck.objects.filter(order__establishment_id=connection.establishment_id).aggregate(
        last=Max("last_checked_at")
    )["last"]
    return 1 if last is None or timezone.now() - last >= spacing else 0


def orders_to_check(connection: Connection, limit: int):
    """Recent orders of the connection known to HubRise and fully sent, the least recently checked first.

    Unfinished orders are checked again and again (their status still moves);
    a finished one until it has been checked once since it finished: a divergence
    left by a race (docs/hubrise/orders.md, "Who wins") is found even when our side
    believes the order is over, at the cost of one more GET per order.
    """
    unsent = OutboxMessage.objects.filter(order=OuterRef("pk"), state__in=_UNSENT)
    since = timezone.now() - timedelta(hours=settings.HUBRISE_RECONCILE_MAX_AGE_HOURS)
    not_checked_since_it_finished = Q(hubrise_check__isnull=True) | Q(hubrise_check__last_checked_at__lt=F("status_changed_at"))
    return (
        Order.objects.filter(
            establishment_id=connection.establishment_id,
            created_at__gte=since,
            hubrise__location_id=connection.location_id,
            hubrise__hubrise_order_id__isnull=False,
        )
        .filter(~Q(status__in=FINISHED_STATUSES) | not_checked_since_it_finished)
        .exclude(Exists(unsent))
        .select_related("hubrise")
        .order_by(F("hubrise_check__last_checked_at").asc(nulls_first=True), "created_at")[:limit]
    )


def reconcile_connection(connection: Connection, limit: int | None = None) -> ReconcileResult:
    result = ReconcileResult()
    client = HubRiseClient(connection.access_token)
    for order in orders_to_check(connection, _limit(connection) if limit is None else limit):
        if ratelimit.acquire(connection.pk) > 0:
            result.error = "Rate limit reached; the next run continues."
            break
        asked_at = timezone.now()
        try:
            state = client.get_order(connection.location_id, order.hubrise.hubrise_order_id).data or {}
        except HubRiseError as error:
            if error.unauthorized:
                connection.mark_broken(str(error))
            if error.retryable or error.unauthorized:
                result.error = str(error)
                break
            _checked(order, asked_at, f"HubRise answered {error}")
            continue
        result.checked.append(order.pk)
        outcome = _compare(connection, order, state, asked_at)
        if outcome == InboundEvent.Outcome.APPLIED:
            result.applied.append(order.pk)
    return result


def check_order(order: Order) -> str:
    """Asks HubRise for one order's status now and applies it if it differs; returns what was done."""
    connection = Connection.objects.filter(establishment_id=order.establishment_id).first()
    link = getattr(order, "hubrise", None)
    if connection is None or connection.is_broken or link is None or not link.hubrise_order_id:
        return "not connected"
    if OutboxMessage.objects.filter(order=order, state__in=_UNSENT).exists():
        return "our own change is on its way to HubRise"
    if ratelimit.acquire(connection.pk) > 0:
        put_first_in_line(order.pk)
        return "rate limit reached: left to reconciliation"
    asked_at = timezone.now()
    try:
        state = HubRiseClient(connection.access_token).get_order(connection.location_id, link.hubrise_order_id).data or {}
    except HubRiseError as error:
        put_first_in_line(order.pk)
        return f"HubRise answered {error}: left to reconciliation"
    return _compare(connection, order, state, asked_at)


def _compare(connection: Connection, order: Order, state: dict, asked_at) -> str:
    status = state.get("status")
    if status == order.status:
        _checked(order, asked_at, f"Same status ({status})")
        return InboundEvent.Outcome.NO_CHANGE
    with transaction.atomic():
        record = InboundEvent.objects.create(
            connection=connection,
            location_id=connection.location_id,
            resource_type="order",
            event_type="update",
            hubrise_order_id=order.hubrise.hubrise_order_id,
            order=order,
            new_status=str(status or "")[:32],
            # What HubRise said when we asked: anything we learn or do after that is newer.
            created_at=asked_at,
            via=InboundEvent.Via.RECONCILIATION,
            outcome=InboundEvent.Outcome.NO_CHANGE,
            raw_body=json.dumps(state, ensure_ascii=False),
        )
        record.outcome, record.detail = order_updates.apply_status(order, state, happened_at=asked_at)
        record.save(update_fields=["outcome", "detail"])
        # In the admins' language-neutral words, as every detail of these records.
        with translation.override(None):
            _checked(order, asked_at, f"{record.get_outcome_display()}: {record.detail}"[:200])
    if record.outcome == InboundEvent.Outcome.APPLIED:
        logger.info("Reconciliation applied a missed HubRise change to order %s: %s", order.pk, record.detail)
    return record.outcome


def _checked(order: Order, at, result: str) -> None:
    ReconcileCheck.objects.update_or_create(order=order, defaults={"last_checked_at": at, "last_result": result[:200]})
