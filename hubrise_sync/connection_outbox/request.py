"""``request_send``: what a writer calls when something a topic sends has changed."""

from __future__ import annotations

from datetime import timedelta

from hubrise_sync.connection_outbox import state, topics, wake
from hubrise_sync.models import Connection


def request_send(connection: Connection, topic: str, *, delay: timedelta | None = None) -> None:
    """HubRise must learn the topic's current state, ``delay`` from now (default: the topic's debounce).

    Call it inside the transaction that made the change: the request commits or
    vanishes with it, and the drain is queued only once it committed. A row already
    waiting keeps its due time, so the changes of one window make one call.
    """
    chosen = topics.get(topic)
    row = state.request(connection, chosen.name, chosen.debounce if delay is None else delay)
    if row is not None:
        wake.after_commit(row.due_at)
