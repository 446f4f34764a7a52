"""The drain the Celery task ``hubrise_sync.connection_push.drain`` runs: claim, send, record.

Rows are claimed a few at a time and sent one by one, outside any transaction
(a call may take seconds; no row lock is held meanwhile: the lease is). A drain
stops when nothing is due, or after HUBRISE_PUSH_DRAIN_SECONDS, queueing its
successor so that other tasks get a worker during a long backlog. A row left due
later (a retry, the rate limit) gets its own delayed wake-up.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from hubrise_sync import broker, ratelimit
from hubrise_sync.client import HubRiseClient
from hubrise_sync.connection_outbox import state, topics, wake
from hubrise_sync.connection_outbox.state import Claim
from hubrise_sync.connection_outbox.topic import TopicSending
from hubrise_sync.models import ConnectionMessage
from hubrise_sync.outbox.result import Outcome
from hubrise_sync.outbox.sweep import release_held_messages

logger = logging.getLogger(__name__)

CLAIMS_PER_ROUND = 5


def drain(*, seconds: float | None = None) -> int:
    """Sends every due row until none is due or ``seconds`` passed; returns how many HubRise took."""
    broker.clear_drain_flag(wake.FLAG, 0)
    deadline = time.monotonic() + (settings.HUBRISE_PUSH_DRAIN_SECONDS if seconds is None else seconds)
    limited: set[int] = set()
    sent = 0
    while True:
        claims = state.claim(CLAIMS_PER_ROUND, skip_connections=frozenset(limited))
        if not claims:
            return sent
        for position, claimed in enumerate(claims):
            if time.monotonic() >= deadline and position:
                for unsent in claims[position:]:
                    state.release(unsent, timezone.now())
                break
            outcome = _deliver(claimed, limited)
            sent += outcome == Outcome.DELIVERED
        if time.monotonic() >= deadline:
            wake.at(timezone.now())
            return sent


def _deliver(claimed: Claim, limited: set[int]) -> str:
    connection = claimed.message.connection
    if connection.is_broken:
        state.hold(claimed)
        return Outcome.HELD
    wait = ratelimit.acquire(connection.pk)
    if wait:
        # Out of HubRise's limits for this connection: its rows wait, the others go on.
        limited.add(connection.pk)
        due_at = timezone.now() + timedelta(seconds=wait)
        state.release(claimed, due_at)
        wake.at(due_at)
        return "rate_limited"
    topic = topics.get(claimed.message.topic)
    result = topic.send(TopicSending(HubRiseClient(connection.access_token), connection, connection.establishment))
    row = state.record(claimed, result)
    # The row keeps only the last attempt (last_*): the log keeps each one.
    logger.info(
        "HubRise %s of connection %s, version %s: %s %s%s",
        claimed.message.topic,
        connection.pk,
        claimed.version,
        result.outcome,
        result.http_status or "",
        f" ({result.error})" if result.error else "",
    )
    if row is None:
        logger.warning("HubRise %s of connection %s outlived its lease", claimed.message.topic, connection.pk)
        return result.outcome
    _after(row, connection, result)
    return result.outcome


def _after(row: ConnectionMessage, connection, result) -> None:
    if result.http_status == 401:
        connection.mark_broken(result.error)
    if result.http_status == 429 and result.retry_after is not None:
        ratelimit.pause(connection.pk, result.retry_after)
    if result.delivered and connection.is_broken:
        # A call went through: whatever waited for the connection goes out too.
        connection.mark_healthy()
        release_held_messages(connection)
    if row.state == ConnectionMessage.State.PENDING and row.due_at > timezone.now():
        wake.at(row.due_at)
