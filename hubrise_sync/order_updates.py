"""What a HubRise order update means for our order: the one path of the webhook, polling and reconciliation.

HubRise is the arbiter (docs/hubrise/orders.md, "Who wins"): the status it took
last, by its own clock, is the order's status. An event is applied through
``orders.services.change_status(source="hubrise")`` unless it is older than what
we know: an older HubRise change already applied, our own last change, or our
last status HubRise took after it. When the times cannot tell (the same second,
or our status was out at HubRise meanwhile), HubRise is asked for the order's
status instead (``order_checks.check_order_soon``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from getresto import statements
from hubrise_sync import order_checks
from hubrise_sync.inbound_time import parse_time
from hubrise_sync.models import DeliveryAttempt, InboundEvent
from hubrise_sync.outbox import kinds
from orders.models import Order, StatusChange
from orders.services import OrderError, OutdatedChange, change_status
from orders.status import OrderStatus

Outcome = InboundEvent.Outcome
# The longest rejection cause kept in the order history.
MAX_REASON_LENGTH = 2000


def event_time(created_at: datetime) -> datetime:
    """When the change happened, at the latest.

    HubRise stamps events to the second while our history has microseconds: a
    POS change in the same second as ours must not look older than it, so a
    whole-second time stands for the end of that second.
    """
    if created_at.microsecond == 0:
        return created_at + timedelta(seconds=1) - timedelta(microseconds=1)
    return created_at


def apply_status(order: Order, state: dict, *, happened_at: datetime, locked: bool = False) -> tuple[str, str]:
    """Brings our order to HubRise's status as of ``happened_at``; returns (outcome, detail) for the record.

    Call inside a transaction; ``locked`` says the caller holds the order's row lock
    and passes the order as read under it. Out-of-order delivery is decided against two
    clocks: HubRise's, for changes that came from HubRise (an event older than
    one already applied is stale), and ours, for changes made here (an event
    older than our last local change would roll it back).
    """
    status = state.get("status")
    if status not in OrderStatus.values:
        return Outcome.IGNORED_UNSUPPORTED, f"Unknown status {status!r}."
    # Events of one order are decided one at a time, each seeing what the previous applied.
    if not locked:
        order = Order.objects.select_for_update().get(pk=order.pk)
    facts = _facts_of(order)
    newest_applied = facts["newest_applied"]
    if newest_applied is not None and happened_at < newest_applied:
        return Outcome.IGNORED_OUTDATED, (
            f"HubRise says {status} as of {_when(happened_at)}, but a newer HubRise change"
            f" (of {_when(newest_applied)}) was already applied."
        )
    if facts["delivered_at"] is not None:
        sent_status, started_at, delivered_at = facts["sent_status"], facts["sent_at"], facts["delivered_at"]
        if event_time(happened_at) < started_at:
            # Our status reached HubRise after this change: HubRise holds ours, not this one.
            return Outcome.IGNORED_OUTDATED, (
                f"HubRise says {status} as of {_when(happened_at)}, but our status {sent_status}"
                f" reached HubRise after that (sent at {_when(started_at)})."
            )
        if happened_at < delivered_at:
            # The same second as our call: which came last at HubRise cannot be told
            # from the times, so HubRise is asked for the order's status instead.
            order_checks.check_order_soon(order.pk)
            return Outcome.IGNORED_OUTDATED, (
                f"HubRise says {status} as of {_when(happened_at)}, in the same second as our status"
                f" {sent_status} reached it: HubRise is asked which is current."
            )
    guard = event_time(happened_at)
    if facts["last_change_source"] == StatusChange.Source.HUBRISE:
        # Our clock stamped that change when we applied it, possibly long after it
        # happened (HubRise retries for an hour): only a change made here since counts.
        guard = max(guard, order.status_changed_at)
    reason = rejection_cause(state) if status == OrderStatus.REJECTED else ""
    # The POS accepts with its own ready time (HubRise's confirmed_time): ours must not replace it.
    ready_at = parse_time(state.get("confirmed_time")) if status == OrderStatus.ACCEPTED else None
    try:
        change = change_status(
            order,
            status,
            source=StatusChange.Source.HUBRISE,
            reason=reason,
            unless_changed_after=guard,
            order_locked=True,
            confirmed_time=ready_at,
        )
    except OutdatedChange:
        return Outcome.IGNORED_OUTDATED, (
            f"HubRise says {status} as of {_when(happened_at)}, but our order changed later"
            f" (to {order.status} at {_when(order.status_changed_at)})."
        )
    except OrderError as error:
        return Outcome.IGNORED_UNSUPPORTED, str(error)
    if change is None:
        return Outcome.NO_CHANGE, f"Already {status}."
    detail = f"{change.from_status} → {change.to_status}"
    return Outcome.APPLIED, detail + (f" ({reason})" if reason else "")


def _facts_of(order: Order) -> dict[str, Any]:
    """What apply_status weighs an event against, in one query (read under the order's lock).

    - newest_applied: HubRise's time of the newest order event already applied, or found
      already true here (an older event arriving after it is stale either way);
    - sent_status, sent_at, delivered_at: the last status change we delivered for the order (the
      status, when the call started, when HubRise answered), all None unless HubRise answered;
      not the create, as a change made at HubRise always follows the order's creation there;
    - last_change_source: where the order's last status change came from.
    """
    facts = _FACTS.rows(order.pk)[0]
    if facts["delivered_at"] is None:
        facts["sent_status"] = facts["sent_at"] = None
    return facts


def _facts_queryset(order_id: int):
    # An event that found the order already at its status says as much of HubRise's clock as one
    # that changed it. A courier's events run on the delivery's own history (hubrise_sync.deliveries).
    known = InboundEvent.objects.filter(
        order=OuterRef("pk"), resource_type="order", outcome__in=(Outcome.APPLIED, Outcome.NO_CHANGE), created_at__isnull=False
    )
    delivered = DeliveryAttempt.objects.filter(
        message__order=OuterRef("pk"),
        message__kind__in=kinds.carrying_status(),
        outcome=DeliveryAttempt.Outcome.DELIVERED,
    ).order_by("-started_at", "-id")
    history = StatusChange.objects.filter(order=OuterRef("pk")).order_by("-at", "-id")
    return Order.objects.filter(pk=order_id).values(
        newest_applied=Subquery(known.order_by("-created_at").values("created_at")[:1]),
        sent_status=Subquery(delivered.values("message__status")[:1]),
        sent_at=Subquery(delivered.values("started_at")[:1]),
        delivered_at=Subquery(delivered.values("message__delivered_at")[:1]),
        last_change_source=Subquery(history.values("source")[:1]),
    )


# Compiled once: each event applied runs it. No order has the id -1: it stands for the order.
_FACTS = statements.Select(_facts_queryset, -1)


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def rejection_cause(state: dict) -> str:
    """custom_fields.epos.rejection.cause, HubRise's convention for why the EPOS rejected an order."""
    fields = state.get("custom_fields")
    epos = fields.get("epos") if isinstance(fields, dict) else None
    rejection = epos.get("rejection") if isinstance(epos, dict) else None
    cause = rejection.get("cause") if isinstance(rejection, dict) else None
    return cause.strip()[:MAX_REASON_LENGTH] if isinstance(cause, str) else ""
