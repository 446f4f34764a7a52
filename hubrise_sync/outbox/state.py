"""The only writer of an outbox message's state and lease: one function per transition.

A message's lifecycle is five fields: ``state``, its lease (``lease_token`` and
``leased_until``: a worker owns it until then), when it is due (``next_attempt_at``)
and until when a drain is believed queued for it (``queued_until``, read by the
sweep). Every transition below sets all five, so that no path leaves a stale lease
or a stale belief behind::

    new ─▶ pending ──claim──▶ leased ──record──▶ delivered | pending (retry) | held | failed
      └──▶ held                  └──release──▶ pending      (no call was made)
    pending, held, failed ──supersede, overtaken_by_hubrise──▶ superseded   (a newer status replaced it)
    held ──release_held──▶ pending     failed, pending ──retry (staff, admin)──▶ pending

Rules kept here:

- The messages of one order go out one at a time, oldest first: a message is
  claimed only when no older message of its order is unfinished.
- A lease outlasts a lookup and a call together (``lease_duration``); past it the
  worker is presumed dead and another may take the message.
- Retries back off exponentially with jitter, never give up (``retry_delay``).
- A HubRise change of an order supersedes our messages of it not yet sent; one
  that was out at HubRise at that moment is marked ``crossed_at``: once its outcome is known, HubRise is asked
  which status is current (the rule: docs/hubrise/orders.md, "Who wins").
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from getresto import statements
from hubrise_sync.models import Connection, DeliveryAttempt, OrderLink, OutboxMessage
from hubrise_sync.outbox.result import Outcome, Result
from orders import screen_versions
from orders.models import Order, StatusChange

State = OutboxMessage.State
UNFINISHED = (State.PENDING, State.HELD, State.FAILED)


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next try after ``attempts`` failed ones.

    Exponential from HUBRISE_PUSH_BACKOFF_BASE, capped at HUBRISE_PUSH_BACKOFF_CAP,
    with "equal jitter" (between half and all of the step) so that the messages
    of an outage do not all come back in the same second. HubRise's Retry-After
    wins when it is given.
    """
    base = settings.HUBRISE_PUSH_BACKOFF_BASE
    cap = settings.HUBRISE_PUSH_BACKOFF_CAP
    if retry_after is not None:
        return max(0.0, retry_after) + random.uniform(0, min(1.0, base))  # noqa: S311
    step = min(cap, base * 2 ** max(0, attempts - 1))
    return random.uniform(step / 2, step)  # noqa: S311


def lease_duration() -> timedelta:
    """How long a worker owns a message: longer than the lookup and the call together can take."""
    return timedelta(seconds=settings.HUBRISE_PUSH_LEASE)


def requeue_after() -> timedelta:
    return timedelta(seconds=settings.HUBRISE_PUSH_REQUEUE_AFTER)


def _lifecycle(state: str, *, next_attempt_at: datetime, queued_until: datetime | None = None) -> dict:
    """The five lifecycle fields of a message no worker holds."""
    return {
        "state": state,
        "next_attempt_at": next_attempt_at,
        "queued_until": queued_until,
        "lease_token": None,
        "leased_until": None,
    }


def _not_leased(now: datetime) -> Q:
    return Q(leased_until__isnull=True) | Q(leased_until__lt=now)


# New -------------------------------------------------------------------------------


def new(order: Order, connection: Connection, kind: str, *, status: str, change: StatusChange | None = None) -> OutboxMessage:
    """A message written in the order's transaction: held while the connection is broken, else due now."""
    message = unwritten(order, connection, kind, status=status, change=change)
    # Every status change writes one: its SQL is built once.
    statements.insert([message])
    return message


def unwritten(
    order: Order, connection: Connection, kind: str, *, status: str, change: StatusChange | None = None
) -> OutboxMessage:
    """``new``'s message, for its caller to write (a new order's create, in the order's own statement)."""
    now = timezone.now()
    held = connection.is_broken
    fields = _lifecycle(State.HELD if held else State.PENDING, next_attempt_at=now)
    if not held:
        # Its drain is woken once the transaction commits; the sweep leaves it alone until then.
        fields["queued_until"] = now + requeue_after()
    return statements.new(
        OutboxMessage, order=order, connection=connection, kind=kind, status=status, change=change, created_at=now, **fields
    )


# Claim and release -----------------------------------------------------------------


@dataclass
class Claim:
    message: OutboxMessage
    token: uuid.UUID
    # Whether an earlier attempt of this message may have reached HubRise unanswered.
    look_up_first: bool


def claimable(now: datetime) -> QuerySet[OutboxMessage]:
    """Due messages that are the oldest unfinished one of their order (what ``claim`` may take)."""
    older_unfinished = OutboxMessage.objects.filter(order=OuterRef("order"), pk__lt=OuterRef("pk"), state__in=UNFINISHED)
    return OutboxMessage.objects.filter(state=State.PENDING, next_attempt_at__lte=now).exclude(Exists(older_unfinished))


# One round trip: the due messages, each the oldest unfinished of its order, longest due first,
# locked (SKIP LOCKED: another worker's are left to it) and leased before the lock is released.
_CLAIM_SQL = """
WITH candidate AS (
    SELECT m.id, m.create_may_have_landed AS look_up_first, m.next_attempt_at AS due_at
    FROM {table} m
    WHERE m.state = %(pending)s AND m.next_attempt_at <= %(now)s {skip}
      AND NOT EXISTS (
          SELECT 1 FROM {table} older
          WHERE older.order_id = m.order_id AND older.id < m.id AND older.state IN %(unfinished)s
      )
    ORDER BY m.next_attempt_at, m.id
    LIMIT %(limit)s
    FOR UPDATE OF m SKIP LOCKED
)
UPDATE {table} claimed
SET lease_token = %(token)s, leased_until = %(until)s, next_attempt_at = %(until)s, queued_until = NULL,
    create_may_have_landed = claimed.create_may_have_landed OR claimed.kind = ANY(%(look_up_kinds)s)
FROM candidate
WHERE claimed.id = candidate.id
RETURNING claimed.*, candidate.look_up_first, candidate.due_at
"""


def claim(limit: int, *, look_up_kinds: list[str], skip_connections: frozenset[int] = frozenset()) -> list[Claim]:
    """Takes up to ``limit`` due messages for this worker, longest due first, leaving out those connections.

    Messages of ``look_up_kinds`` are marked as possibly landed before their call
    goes out: if this worker dies mid-call, the next one looks them up first.
    ``due_at`` on each message is when it was due (its last try ended then).
    """
    now = timezone.now()
    token = uuid.uuid4()
    skip = " AND m.connection_id <> ALL(%(skip_connections)s)" if skip_connections else ""
    sql = _CLAIM_SQL.format(table=db_connection.ops.quote_name(OutboxMessage._meta.db_table), skip=skip)
    params = {
        "pending": State.PENDING,
        "unfinished": tuple(UNFINISHED),
        "now": now,
        "until": now + lease_duration(),
        "token": token,
        "look_up_kinds": list(look_up_kinds),
        "skip_connections": sorted(skip_connections),
        "limit": limit,
    }
    # RETURNING keeps no order: put them back in the order they were due.
    claimed = sorted(OutboxMessage.objects.raw(sql, params), key=lambda message: (message.due_at, message.pk))
    # Their badges now read "Sending to HubRise…".
    screen_versions.changed_for_orders(message.order_id for message in claimed)
    return [Claim(message, token, message.look_up_first) for message in claimed]


def release(claimed: Claim, *, next_attempt_at: datetime) -> None:
    """Gives the message back untouched (no call was made), due at ``next_attempt_at``.

    One a HubRise change crossed meanwhile is superseded instead: it never went out.
    """
    fields = _lifecycle(State.PENDING, next_attempt_at=next_attempt_at)
    fields["state"] = _superseded_if_crossed(State.PENDING)
    if OutboxMessage.objects.filter(pk=claimed.message.pk, lease_token=claimed.token).update(
        **fields, create_may_have_landed=claimed.look_up_first, crossed_at=None
    ):
        screen_versions.changed_for_orders([claimed.message.order_id])


def _superseded_if_crossed(state: str) -> Case:
    return Case(When(crossed_at__isnull=False, then=Value(State.SUPERSEDED)), default=Value(state))


def hold(claimed: Claim, connection: Connection | None) -> None:
    """The establishment has no working connection: the message waits for ``release_held``."""
    fields = _lifecycle(State.HELD, next_attempt_at=timezone.now())
    fields["state"] = _superseded_if_crossed(State.HELD)
    if OutboxMessage.objects.filter(pk=claimed.message.pk, lease_token=claimed.token).update(
        **fields, connection=connection, last_error=connection.last_failed_reason if connection else "", crossed_at=None
    ):
        screen_versions.changed_for_orders([claimed.message.order_id])


def _hold_waiting_of(connection: Connection) -> None:
    now = timezone.now()
    OutboxMessage.objects.filter(connection=connection, state=State.PENDING).filter(_not_leased(now)).update(
        **_lifecycle(State.HELD, next_attempt_at=now)
    )


# Record the outcome ----------------------------------------------------------------


@dataclass
class Sent:
    """One claimed message and what its call gave."""

    claimed: Claim
    connection: Connection
    result: Result
    started: datetime


@dataclass
class Recorded:
    # Messages recorded (their lease was still ours).
    kept: set[int]
    # Orders whose message crossed a HubRise change, or outlived its lease after HubRise took it:
    # which status HubRise holds now is not known here.
    to_check: set[int]


def record(sent: list[Sent]) -> Recorded:
    """Records the outcomes of calls made under our leases, in one transaction.

    The orders are locked first (as ``change_status`` and the appliers of HubRise
    events do, then the messages: one lock order, no deadlock): an event of the
    order is applied wholly before or wholly after this, so it either sees the
    delivery or marks the message crossed before it is read here.
    """
    if not sent:
        return Recorded(set(), set())
    now = timezone.now()
    by_pk = {s.claimed.message.pk: s for s in sent}
    with transaction.atomic():
        list(
            Order.objects.select_for_update(no_key=True)
            .filter(pk__in={s.claimed.message.order_id for s in sent})
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        rows = (
            OutboxMessage.objects.select_for_update()
            .filter(pk__in=by_pk)
            .order_by("pk")
            .values_list("pk", "lease_token", "crossed_at")
        )
        kept = {pk: crossed_at for pk, token, crossed_at in rows if token == by_pk[pk].claimed.token}
        for s in sent:
            if s.result.hubrise_order_id:
                # Stored even if our lease was lost meanwhile: the order is at HubRise either way.
                OrderLink.objects.filter(order_id=s.claimed.message.order_id, hubrise_order_id__isnull=True).update(
                    hubrise_order_id=s.result.hubrise_order_id
                )
        delivered = [s for s in sent if s.claimed.message.pk in kept and s.result.delivered]
        if delivered:
            _record_delivered(delivered, now)
        for s in sent:
            if s.claimed.message.pk in kept and not s.result.delivered:
                _record_failure(s, now, crossed=kept[s.claimed.message.pk] is not None)
        DeliveryAttempt.objects.bulk_create(_attempt_of(s, now) for s in sent)
        for s in sent:
            if s.result.outcome == Outcome.HELD and s.result.http_status == 401:
                s.connection.mark_broken(s.result.error)
                _hold_waiting_of(s.connection)
        # Last in the transaction (orders.screen_versions.changed_for_orders): the badges of these orders changed.
        screen_versions.changed_for_orders(s.claimed.message.order_id for s in sent)
    to_check = {by_pk[pk].claimed.message.order_id for pk, crossed_at in kept.items() if crossed_at is not None}
    to_check |= {s.claimed.message.order_id for s in sent if s.claimed.message.pk not in kept and s.result.delivered}
    return Recorded(set(kept), to_check)


def _record_delivered(delivered: list[Sent], now: datetime) -> None:
    fields = {
        **_lifecycle(State.DELIVERED, next_attempt_at=now),
        "attempts": F("attempts") + 1,
        "delivered_at": now,
        "last_error": "",
        "create_may_have_landed": False,
        "crossed_at": None,
    }
    if len(delivered) == 1:
        (s,) = delivered
        OutboxMessage.objects.filter(pk=s.claimed.message.pk).update(
            **fields, payload=s.result.payload, last_status_code=s.result.http_status, connection=s.connection
        )
        return
    OutboxMessage.objects.filter(pk__in=[s.claimed.message.pk for s in delivered]).update(**fields)
    for s in delivered:
        s.claimed.message.payload = s.result.payload
        s.claimed.message.last_status_code = s.result.http_status
        s.claimed.message.connection = s.connection
    OutboxMessage.objects.bulk_update([s.claimed.message for s in delivered], ["payload", "last_status_code", "connection"])


def _record_failure(s: Sent, now: datetime, *, crossed: bool) -> None:
    message, result = s.claimed.message, s.result
    if crossed:
        # A newer HubRise status was applied while this one was out: sending it again
        # would put back at HubRise a status we no longer hold.
        fields = _lifecycle(State.SUPERSEDED, next_attempt_at=now)
    elif result.outcome == Outcome.RETRY:
        delay = retry_delay(message.attempts + 1, result.retry_after)
        fields = _lifecycle(State.PENDING, next_attempt_at=now + timedelta(seconds=delay))
    elif result.outcome == Outcome.HELD:
        fields = _lifecycle(State.HELD, next_attempt_at=now)
    else:
        fields = _lifecycle(State.FAILED, next_attempt_at=now)
    if result.payload is not None:
        fields["payload"] = result.payload
    if result.surely_not_recorded:
        fields["create_may_have_landed"] = False
    OutboxMessage.objects.filter(pk=message.pk).update(
        **fields,
        attempts=F("attempts") + 1,
        last_error=result.error,
        last_status_code=result.http_status,
        connection=s.connection,
        crossed_at=None,
    )


def _attempt_of(s: Sent, now: datetime) -> DeliveryAttempt:
    return DeliveryAttempt(
        message=s.claimed.message,
        started_at=s.started,
        request=s.result.request[:200],
        http_status=s.result.http_status,
        duration_ms=s.result.duration_ms or int((now - s.started).total_seconds() * 1000),
        outcome=s.result.outcome,
        error=s.result.error,
    )


# Supersede, cross -------------------------------------------------------------------


def supersede_waiting(order: Order, kinds: list[str]) -> None:
    """A newer change of ours replaces the order's messages of these kinds not yet sent.

    Called under the order's row lock (inside ``change_status``). One being sent
    right now (a live lease) is left alone: the new message waits behind it.
    """
    now = timezone.now()
    OutboxMessage.objects.filter(order=order, kind__in=kinds, state__in=UNFINISHED).filter(_not_leased(now)).update(
        **_lifecycle(State.SUPERSEDED, next_attempt_at=now)
    )


def overtaken_by_hubrise(order: Order, kinds: list[str]) -> None:
    """A HubRise change of the order was applied: our messages of these kinds are older than it.

    Those waiting are superseded (sent now, they would overwrite HubRise's newer
    status). Those out at HubRise right now (a live lease) are marked crossed:
    which of the two HubRise took last cannot be told yet, and ``record`` reads the
    mark. One statement, under the order's row lock (which ``record`` takes too),
    so that a message given back meanwhile is superseded, not missed.
    """
    with db_connection.cursor() as cursor:
        cursor.execute(
            _OVERTAKEN_SQL.format(table=db_connection.ops.quote_name(OutboxMessage._meta.db_table)),
            {
                "order": order.pk,
                "kinds": list(kinds),
                "unfinished": tuple(UNFINISHED),
                "pending": State.PENDING,
                "superseded": State.SUPERSEDED,
                "now": timezone.now(),
            },
        )


# Every applied HubRise event runs it: plain SQL rather than six ORM CASE expressions compiled each time.
# Each CASE reads the row as it is when updated (the latest version, if another writer got there first).
_OVERTAKEN_SQL = """
UPDATE {table} SET
    state = CASE WHEN {out} THEN state ELSE %(superseded)s END,
    crossed_at = CASE WHEN {out} THEN %(now)s ELSE crossed_at END,
    next_attempt_at = CASE WHEN {out} THEN next_attempt_at ELSE %(now)s END,
    lease_token = CASE WHEN {out} THEN lease_token END,
    leased_until = CASE WHEN {out} THEN leased_until END,
    queued_until = CASE WHEN {out} THEN queued_until END
WHERE order_id = %(order)s AND kind = ANY(%(kinds)s) AND state IN %(unfinished)s
""".replace("{out}", "(state = %(pending)s AND lease_token IS NOT NULL AND leased_until >= %(now)s)")


# By hand, and after a reconnection ---------------------------------------------------


def retry(messages: QuerySet[OutboxMessage]) -> list[int]:
    """Failed (or waiting) messages back in line now, after someone fixed the cause; their ids."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            messages.filter(state__in=(State.FAILED, State.PENDING)).filter(_not_leased(now)).values_list("pk", "order_id")
        )
        ids = [pk for pk, _ in rows]
        OutboxMessage.objects.filter(pk__in=ids).update(**_lifecycle(State.PENDING, next_attempt_at=now))
        screen_versions.changed_for_orders(order_id for _, order_id in rows)
    return ids


def release_held(connection: Connection) -> int:
    """The establishment's held messages go out through this connection; how many."""
    released = OutboxMessage.objects.filter(state=State.HELD, order__establishment_id=connection.establishment_id).update(
        **_lifecycle(State.PENDING, next_attempt_at=timezone.now()), connection=connection
    )
    if released:
        screen_versions.changed(connection.establishment_id)
    return released


# What the sweep believes -----------------------------------------------------------


def mark_queued(message_ids: list[int], until: datetime) -> None:
    """A drain was queued for these messages: the sweep leaves them alone until then."""
    OutboxMessage.objects.filter(pk__in=message_ids).update(queued_until=until)


def forget_queued(message_ids: list[int]) -> None:
    """No drain could be queued for these: the next sweep sends them."""
    OutboxMessage.objects.filter(pk__in=message_ids, state=State.PENDING).update(queued_until=None)
