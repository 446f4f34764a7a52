"""Beat's safety net: every due message no drain was told about goes out, held ones are released.

It also wakes the connection outbox's drain (hubrise_sync.connection_outbox) for rows
long due, and releases its held rows with the orders' messages.

A message is due and not believed queued when the broker was down at its commit,
a worker died holding it, or its retry came due. ``sweep`` runs every
HUBRISE_SWEEP_INTERVAL seconds (the task ``hubrise_sync.push.sweep``).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hubrise_sync import queue
from hubrise_sync.connection_outbox import state as connection_state
from hubrise_sync.connection_outbox import wake as connection_wake
from hubrise_sync.models import Connection, ConnectionMessage, OutboxMessage
from hubrise_sync.outbox import state, wake

logger = logging.getLogger(__name__)


def sweep(limit: int = 500) -> int:
    """Queue every due message not believed to be queued already; returns how many were queued."""
    for connection in Connection.objects.healthy().filter(establishment_id__in=establishments_with_held_messages()):
        release_held_messages(connection)
    now = timezone.now()
    due = list(
        state.claimable(now)
        .filter(Q(queued_until__isnull=True) | Q(queued_until__lte=now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if due:
        state.mark_queued(due, now + state.requeue_after())
        wake.publish(due)
    _wake_connection_drain(now)
    return len(due)


def _wake_connection_drain(now) -> None:
    # The connection outbox's rows due for a while: their wake-up was lost (broker down at
    # commit, a worker gone with a delayed task). One drain for all of them.
    if connection_state.due(now - state.requeue_after()).exists():
        connection_wake.at(now)


def establishments_with_held_messages() -> set[int]:
    # Read from the held messages' connections; only those whose connection is gone need their
    # orders (joining every held message to the orders table made this slow on a big backlog).
    held = OutboxMessage.objects.filter(state=state.State.HELD).order_by()
    with_connection = held.filter(connection__isnull=False).values_list("connection__establishment_id", flat=True)
    without = held.filter(connection__isnull=True).values_list("order__establishment_id", flat=True)
    topics = ConnectionMessage.objects.filter(state=ConnectionMessage.State.HELD).values_list(
        "connection__establishment_id", flat=True
    )
    return set(with_connection.distinct()) | set(without.distinct()) | set(topics.distinct())


def release_held_messages(connection: Connection) -> int:
    """Hand the connection the messages of its establishment that waited while it was broken or missing.

    Called after a (re)connection and by the sweep once the connection is
    healthy. Returns how many messages go out again.
    """
    count = state.release_held(connection)
    if count:
        logger.info("Released %d held HubRise messages of connection %s", count, connection.pk)
        transaction.on_commit(_sweep_soon)
    # The connection outbox's held topics (the location, the catalog …) go out again too.
    topics = connection_state.release_held(connection)
    if topics:
        logger.info("Released %d held HubRise topics of connection %s", topics, connection.pk)
        connection_wake.after_commit(timezone.now())
    return count + topics


def _sweep_soon() -> None:
    try:
        queue.sweep_outbox()
    except Exception as error:  # the broker's errors vary with the transport
        logger.warning("Could not queue the outbox sweep (%s); beat will run it", type(error).__name__)
