"""The only writer of a connection message's state and lease: one function per transition.

::

    (none) ──request──▶ pending ──claim──▶ leased ──record──▶ delivered | pending (retry, or newer version) | held | failed
                           └── held (connection broken)   └──release──▶ pending   (no call was made)
    delivered, failed ──request──▶ pending      held ──release_held (repaired)──▶ pending
    failed ──retry (staff)──▶ pending

A row's ``requested_version`` only grows; ``record`` sets ``sent_version`` to the
version the claim saw, so a request made while the call was out leaves the row
pending and due at once: the newer state follows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hubrise_sync.models import Connection, ConnectionMessage
from hubrise_sync.outbox.result import Outcome, Result
from hubrise_sync.outbox.state import retry_delay

State = ConnectionMessage.State


def _not_leased(now: datetime) -> Q:
    return Q(leased_until__isnull=True) | Q(leased_until__lt=now)


def _free(state: str, due_at: datetime) -> dict:
    """The lifecycle fields of a row no worker holds."""
    return {"state": state, "due_at": due_at, "lease_token": None, "leased_until": None}


# Request ---------------------------------------------------------------------------


@transaction.atomic  # a savepoint in the caller's transaction; a transaction of its own if called outside one
def request(connection: Connection, topic: str, delay: timedelta) -> ConnectionMessage | None:
    """Counts one more change to send; returns the row if it just became due (a drain must be woken), else None.

    Must run in the transaction that made the change: the row is locked until it
    commits, so two requests never both see "not pending yet".
    """
    now = timezone.now()
    # ON CONFLICT DO NOTHING, then lock: the first request of a topic creates its row without racing another.
    ConnectionMessage.objects.bulk_create(
        [ConnectionMessage(connection=connection, topic=topic, state=State.DELIVERED, due_at=now)], ignore_conflicts=True
    )
    row = ConnectionMessage.objects.select_for_update().get(connection=connection, topic=topic)
    row.requested_version += 1
    fields = ["requested_version", "updated_at"]
    woken = None
    being_sent = row.state == State.PENDING and row.leased_until is not None and row.leased_until > now
    if connection.is_broken:
        # Sending would only get the same 401: kept until the connection is repaired
        # (a row out at HubRise right now is settled by its record).
        if not being_sent:
            row.state = State.HELD
            fields.append("state")
    elif row.state != State.PENDING:
        # Pending already: its due time stands, so the changes of one debounce window make one call.
        row.state, row.due_at, row.attempts = State.PENDING, now + delay, 0
        fields += ["state", "due_at", "attempts"]
        woken = row
    row.save(update_fields=fields)
    return woken


# Claim and release -----------------------------------------------------------------


@dataclass
class Claim:
    message: ConnectionMessage
    token: uuid.UUID
    # requested_version when claimed: what the call sends (the state is read after the claim).
    version: int


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.HUBRISE_PUSH_LEASE)


def due(now: datetime):
    return ConnectionMessage.objects.filter(state=State.PENDING, due_at__lte=now).filter(_not_leased(now))


@transaction.atomic
def claim(limit: int, *, skip_connections: frozenset[int] = frozenset()) -> list[Claim]:
    """Leases up to ``limit`` due rows, longest due first; rows another worker is reading are skipped."""
    now = timezone.now()
    rows = list(
        due(now)
        .exclude(connection_id__in=skip_connections)
        .select_related("connection__establishment")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("due_at", "id")[:limit]
    )
    if not rows:
        return []
    token = uuid.uuid4()
    until = now + lease_duration()
    ConnectionMessage.objects.filter(pk__in=[row.pk for row in rows]).update(lease_token=token, leased_until=until)
    for row in rows:
        row.lease_token, row.leased_until = token, until
    return [Claim(row, token, row.requested_version) for row in rows]


def _owned(claimed: Claim):
    return ConnectionMessage.objects.filter(pk=claimed.message.pk, lease_token=claimed.token)


def release(claimed: Claim, due_at: datetime) -> None:
    """No call was made (the rate limit): due again at ``due_at``."""
    _owned(claimed).update(**_free(State.PENDING, due_at), updated_at=timezone.now())


def hold(claimed: Claim) -> None:
    """No call was made: the connection is broken."""
    _owned(claimed).update(**_free(State.HELD, timezone.now()), updated_at=timezone.now())


# Record ----------------------------------------------------------------------------


@transaction.atomic
def record(claimed: Claim, result: Result) -> ConnectionMessage | None:
    """Writes what the call gave; None if the lease was lost meanwhile (another worker took the row)."""
    row = _owned(claimed).select_for_update().first()
    if row is None:
        return None
    now = timezone.now()
    row.last_status_code = result.http_status
    row.last_payload = result.payload
    if result.delivered:
        row.sent_version = claimed.version
        row.delivered_at, row.last_error, row.attempts = now, "", 0
        # A request came while the call was out: what it changed is not at HubRise yet.
        newer = row.requested_version > claimed.version
        _set(row, _free(State.PENDING if newer else State.DELIVERED, now))
    elif result.outcome == Outcome.RETRY:
        row.attempts += 1
        row.last_error = result.error
        _set(row, _free(State.PENDING, now + timedelta(seconds=retry_delay(row.attempts, result.retry_after))))
    elif result.outcome == Outcome.HELD:
        row.attempts += 1
        row.last_error = result.error
        _set(row, _free(State.HELD, now))
    else:
        row.attempts += 1
        row.last_error = result.error
        _set(row, _free(State.FAILED, now))
    row.save()
    return row


def _set(row: ConnectionMessage, fields: dict) -> None:
    for name, value in fields.items():
        setattr(row, name, value)


# Held and failed rows --------------------------------------------------------------


def release_held(connection: Connection) -> int:
    """The connection was repaired: its held rows are due now; how many."""
    return ConnectionMessage.objects.filter(connection=connection, state=State.HELD).update(
        **_free(State.PENDING, timezone.now()), attempts=0, updated_at=timezone.now()
    )


def retry(message: ConnectionMessage) -> bool:
    """Staff asked to try a failed row again; False if it was not failed any more."""
    now = timezone.now()
    return bool(
        ConnectionMessage.objects.filter(pk=message.pk, state=State.FAILED).update(
            **_free(State.PENDING, now), attempts=0, updated_at=now
        )
    )
