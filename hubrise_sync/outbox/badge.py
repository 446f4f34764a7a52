"""What staff see of an order's sync, and what they (or an admin) can do about it: send again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from hubrise_sync.models import Connection, OrderLink, OutboxMessage
from hubrise_sync.outbox import state, wake
from orders.models import Order

State = OutboxMessage.State


@dataclass(frozen=True)
class SyncState:
    """The sync badge of one order."""

    # sent | waiting | sending | failed | held | not_connected | not_sent
    state: str
    hubrise_order_id: str = ""
    next_attempt_at: datetime | None = None
    error: str = ""
    attempts: int = 0
    since: datetime | None = None
    messages: tuple = ()


def sync_state(order: Order, connection: Connection | None) -> SyncState:
    """Computed from the order's link and messages, as prefetched by the order pages."""
    try:
        link = order.hubrise
    except OrderLink.DoesNotExist:
        link = None
    hubrise_id = (link.hubrise_order_id or "") if link else ""
    messages = tuple(order.hubrise_messages.all())
    head = next((m for m in sorted(messages, key=lambda m: m.pk) if m.state in state.UNFINISHED), None)
    if head is None:
        if hubrise_id:
            return SyncState("sent", hubrise_id, messages=messages)
        return SyncState("not_connected" if connection is None else "not_sent", messages=messages)
    common = {
        "hubrise_order_id": hubrise_id,
        "error": head.last_error,
        "attempts": head.attempts,
        "since": head.created_at,
        "messages": messages,
    }
    if head.state == State.FAILED:
        return SyncState("failed", **common)
    if head.state == State.HELD or connection is None or connection.is_broken:
        return SyncState("held" if connection is not None else "not_connected", **common)
    if head.leased_until and head.leased_until > timezone.now():
        return SyncState("sending", **common)
    return SyncState("waiting", next_attempt_at=head.next_attempt_at, **common)


def retry_messages(messages: QuerySet[OutboxMessage]) -> int:
    """Put failed (or waiting) messages back in line now, after someone fixed the cause (the admin's action)."""
    ids = state.retry(messages)
    if ids:
        transaction.on_commit(lambda: wake.publish(ids))
    return len(ids)


def retry_order(order: Order) -> int:
    """The "Réessayer" button: the order's failed or waiting messages go out again now."""
    return retry_messages(OutboxMessage.objects.filter(order=order))
