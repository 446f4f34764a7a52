"""Passive callbacks: fetch HubRise's pending events, apply them like the webhook does, delete them.

For an establishment HubRise cannot reach (behind NAT, a dev machine), the
connection's callback has no URL and its events wait at HubRise until we
DELETE them. An event is deleted only once it is recorded here, so a failure
anywhere leaves it for the next poll, and the record makes a second pass a
no-op.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from hubrise_sync import inbound, ratelimit
from hubrise_sync.client import HubRiseClient, HubRiseError
from hubrise_sync.models import Connection, InboundEvent, PollingState

logger = logging.getLogger(__name__)

# One poll reads at most this many pages of 100 events; the rest waits for the next poll.
MAX_PAGES = 10


@dataclass
class PollResult:
    applied: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error: str = ""


def passive_connections():
    return Connection.objects.healthy().filter(callback_mode=Connection.CallbackMode.PASSIVE)


def claim_due_connections() -> list[int]:
    """Connections whose last poll is at least HUBRISE_POLL_INTERVAL old, each claimed by one caller only.

    The claim is a conditional update, so overlapping beat runs or workers never
    poll one connection twice within the interval HubRise asks for.
    """
    now = timezone.now()
    due_before = now - timedelta(seconds=settings.HUBRISE_POLL_INTERVAL)
    claimed = []
    for connection_id in passive_connections().values_list("pk", flat=True):
        state, _ = PollingState.objects.get_or_create(connection_id=connection_id)
        updated = (
            PollingState.objects.filter(pk=state.pk)
            .filter(Q(last_polled_at__isnull=True) | Q(last_polled_at__lte=due_before))
            .update(last_polled_at=now)
        )
        if updated:
            claimed.append(connection_id)
    return claimed


def poll_connection(connection: Connection) -> PollResult:
    """One pass over the connection's pending events (call after claiming it)."""
    result = PollResult()
    client = HubRiseClient(connection.access_token)
    cursor = None
    try:
        for _page in range(MAX_PAGES):
            _respect_rate_limit(connection)
            page = client.callback_events(cursor)
            for summary in page.data or []:
                _handle(client, connection, summary, result)
            cursor = page.headers.get("X-Cursor-Next")
            if not cursor:
                break
    except HubRiseError as error:
        result.error = str(error)
        if error.unauthorized:
            connection.mark_broken(str(error))
        logger.warning("Polling HubRise events of connection %s stopped: %s", connection.pk, error)
    except _RateLimited as limited:
        result.error = str(limited)
    PollingState.objects.filter(connection=connection).update(last_error=result.error)
    return result


class _RateLimited(Exception):
    pass


def _respect_rate_limit(connection: Connection) -> None:
    wait = ratelimit.acquire(connection.pk)
    if wait > 0:
        raise _RateLimited(f"Rate limit reached; the next poll continues (in {wait:.0f} s at the earliest).")


def _handle(client: HubRiseClient, connection: Connection, summary: dict, result: PollResult) -> None:
    event_id = summary.get("id") if isinstance(summary, dict) else None
    if not isinstance(event_id, str) or not event_id:
        logger.warning("HubRise listed an event without an id on connection %s", connection.pk)
        return
    if not InboundEvent.objects.filter(event_id=event_id).exists():
        body = summary
        if "new_state" not in summary and "previous_state" not in summary:
            try:
                _respect_rate_limit(connection)
                body = client.callback_event(event_id).data
            except HubRiseError as error:
                if error.status == 404:
                    return  # acknowledged meanwhile (by another poller or HubRise's expiry)
                raise
        raw = json.dumps(body, ensure_ascii=False)
        try:
            event = inbound.event_from_json(body, raw)
        except inbound.MalformedEvent as problem:
            # It will never become readable: record it for admins and let HubRise forget it.
            inbound.record_malformed(raw.encode(), str(problem), via=inbound.Via.POLLING, connection=connection)
        else:
            try:
                inbound.receive_event(event, via=inbound.Via.POLLING, connection=connection)
            except Exception:
                # Nothing was recorded (one transaction), so the next poll tries again.
                logger.exception("Applying HubRise event %s failed; kept for the next poll", event_id)
                result.failed.append(event_id)
                return
            result.applied.append(event_id)
    _respect_rate_limit(connection)
    try:
        client.delete_callback_event(event_id)
    except HubRiseError as error:
        if error.status != 404:
            raise
    result.deleted.append(event_id)
