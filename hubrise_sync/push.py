"""Pushing our orders and their status changes to HubRise, without losing one.

The flow (ARCHITECTURE.md, "How data flows"):

1. ``orders`` sends ``order_created`` / ``status_changed`` inside its transaction;
   the receivers below write an OutboxMessage in that same transaction and ask
   for a Celery task once it commits.
2. ``publish`` wakes a deliverer: a Celery task running ``drain(slot)``, one
   per slot at most queued at a time (HUBRISE_PUSH_DELIVERERS slots). A drain
   claims the next due message (row lock, then a lease written to the row),
   calls HubRise outside any transaction, records the outcome and a
   DeliveryAttempt, and claims the next, until none is due or its time is up.
   A backlog thus costs a few tasks, not one per message.
3. Celery beat calls ``sweep()`` every few seconds: it wakes the deliverers for
   every message that is due and not believed to be taken care of (the broker
   was down at commit, a worker died, a retry is due) and releases held
   messages whose connection is healthy again.

Rules kept here and nowhere else:

- The messages of one order go out one at a time, oldest first: a message is
  claimed only when no older message of its order is unfinished. A newer
  status change replaces older status messages still waiting (they are marked
  superseded), so the last status always arrives last.
- Orders of an establishment without a HubRise connection are not pushed, not
  even once a connection is made later. Messages of a connection that is
  broken (401) or deleted are held, and released by ``release_held_messages``.
- Retry policy (``retry_delay``): timeouts, dropped connections, 5xx and 429
  are retried with exponential backoff and jitter (capped, never given up);
  429 waits for Retry-After; 401 holds; any other 4xx fails the message with
  HubRise's text until staff retry it.
- A create that may have reached HubRise (timeout, dropped connection, 5xx,
  worker killed) is first looked up by private_ref before being posted again.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connections, router, transaction
from django.db.models import Exists, F, Min, OuterRef, Q
from django.utils import timezone

from hubrise_sync import broker, mapping, ratelimit
from hubrise_sync.client import HubRiseClient, HubRiseError, HubRiseResponse
from hubrise_sync.models import Connection, DeliveryAttempt, OrderLink, OutboxMessage
from orders.models import Order, StatusChange
from orders.status import OrderStatus

logger = logging.getLogger(__name__)

Kind = OutboxMessage.Kind
State = OutboxMessage.State
Outcome = DeliveryAttempt.Outcome

UNFINISHED = (State.PENDING, State.HELD, State.FAILED)
# How many messages of one order deliver() sends in a row once the first one went through.
MAX_MESSAGES_PER_ORDER = 20
# How many due messages a drain claims at a time (one statement, their orders in one more).
CLAIMS_PER_ROUND = 10
# Creates in doubt of one connection settled by listing its orders once (_look_up_together),
# from this many in a round, with at most that many pages; HubRise's clock may be behind ours.
LOOK_UP_TOGETHER_FROM = 2
LOOK_UP_TOGETHER_PAGES = 5
CLOCK_MARGIN = timedelta(minutes=10)
# What deliver_claimed() returns when the connection's rate limit made the message wait (no call made).
RATE_LIMITED = "rate_limited"
# A successful call refreshes the connection's last_success_at at most this often.
HEALTH_REFRESH = timedelta(minutes=1)


# Retry policy -----------------------------------------------------------------


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


# Writing messages (inside the order's transaction) ----------------------------


def connection_of(establishment_id: int) -> Connection | None:
    return Connection.objects.filter(establishment_id=establishment_id).first()


def on_order_created(sender: type, order: Order, source: str, **kwargs: object) -> None:
    # An order that came from HubRise is already there.
    if source == StatusChange.Source.HUBRISE:
        return
    connection = connection_of(order.establishment_id)
    if connection is None:
        return
    OrderLink.objects.get_or_create(order=order, defaults={"location_id": connection.location_id})
    _write_message(order, connection, Kind.CREATE, status=order.status)


def on_status_changed(sender: type, order: Order, change: StatusChange, **kwargs: object) -> None:
    # A change HubRise told us about is not echoed back to it; and our status
    # changes still waiting are older than it, so sending them now would
    # overwrite HubRise's newer status with one we no longer hold.
    if change.source == StatusChange.Source.HUBRISE:
        _supersede_waiting_status_messages(order)
        return
    # Only orders that were pushed (or are being pushed) have a link.
    if not OrderLink.objects.filter(order=order).exists():
        return
    connection = connection_of(order.establishment_id)
    if connection is None:
        return
    _supersede_waiting_status_messages(order)
    _write_message(order, connection, Kind.UPDATE_STATUS, status=change.to_status, change=change)


def _supersede_waiting_status_messages(order: Order) -> None:
    # The order row is locked by change_status, so status messages of one order
    # are written one transaction at a time. One being sent right now (a live
    # lease) is left alone: the new message waits behind it.
    now = timezone.now()
    OutboxMessage.objects.filter(order=order, kind=Kind.UPDATE_STATUS, state__in=UNFINISHED).filter(
        Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    ).update(state=State.SUPERSEDED, lease_token=None, leased_until=None, queued_until=None)


def _write_message(
    order: Order, connection: Connection, kind: str, *, status: str, change: StatusChange | None = None
) -> OutboxMessage:
    now = timezone.now()
    held = connection.is_broken
    message = OutboxMessage.objects.create(
        order=order,
        connection=connection,
        kind=kind,
        status=status,
        change=change,
        state=State.HELD if held else State.PENDING,
        created_at=now,
        next_attempt_at=now,
        queued_until=None if held else now + timedelta(seconds=settings.HUBRISE_PUSH_REQUEUE_AFTER),
    )
    if not held:
        transaction.on_commit(lambda: publish([message.pk]))
    return message


def publish(message_ids: list[int]) -> None:
    """Wake a deliverer for these waiting messages; never raises (the sweep sends what could not be woken for)."""
    try:
        wake_deliverers()
    except Exception as error:  # the broker's errors vary with the transport
        # Only the error's type: a broker URL may carry a password.
        logger.warning("Could not queue HubRise deliveries (%s); the sweep will send them", type(error).__name__)
        OutboxMessage.objects.filter(pk__in=message_ids, state=State.PENDING).update(queued_until=None)


def wake_deliverers() -> None:
    """Queue one drain, on the first deliverer slot that has none queued.

    A drain clears its slot's flag before it claims anything, so a message
    written after a drain's last claim always finds a free slot and queues the
    next drain; while every slot has a drain queued, publishing costs one Redis
    round trip and no task. Without Redis (the embedded broker) every publish
    queues a drain.
    """
    from hubrise_sync.tasks.push import drain_outbox

    flags = broker.redis_client()
    if flags is None:
        drain_outbox.apply_async((0,), retry=False)
        return
    for slot in range(settings.HUBRISE_PUSH_DELIVERERS):
        if broker.set_drain_flag(flags, "push", slot):
            try:
                drain_outbox.apply_async((slot,), retry=False)
            except Exception:
                flags.delete(broker.drain_flag("push", slot))
                raise
            return


# Claiming ---------------------------------------------------------------------


@dataclass
class Claim:
    message: OutboxMessage
    token: uuid.UUID
    # Whether an earlier attempt of this create may have reached HubRise.
    look_up_first: bool


def _claimable(now: datetime):
    older_unfinished = OutboxMessage.objects.filter(order=OuterRef("order"), pk__lt=OuterRef("pk"), state__in=UNFINISHED)
    return OutboxMessage.objects.filter(state=State.PENDING, next_attempt_at__lte=now).exclude(Exists(older_unfinished))


def claim(*, message_id: int | None = None, order_id: int | None = None) -> Claim | None:
    """Take one due message (that one, or the next of that order) for this worker, or None."""
    claims = claim_several(1, message_id=message_id, order_id=order_id)
    return claims[0] if claims else None


def claim_several(
    limit: int, *, message_id: int | None = None, order_id: int | None = None, skip_connections: frozenset[int] = frozenset()
) -> list[Claim]:
    """Take up to ``limit`` due messages, each the next of its order, longest due first, leaving out those connections.

    The rows are locked with SELECT … FOR UPDATE SKIP LOCKED (a plain select on
    SQLite, whose writers are serialised anyway) and a lease is written before
    the lock is released: until the lease ends, no other worker or sweep takes
    the message, and past it the worker is presumed dead.
    """
    now = timezone.now()
    token = uuid.uuid4()
    connection = connections[router.db_for_write(OutboxMessage)]
    if connection.vendor == "postgresql":
        return _claim_in_one_statement(
            connection, now, token, limit, message_id=message_id, order_id=order_id, skip_connections=skip_connections
        )
    claims = []
    while len(claims) < limit:
        claimed = _claim_one_in_orm(now, token, message_id=message_id, order_id=order_id, skip_connections=skip_connections)
        if claimed is None:
            break
        claims.append(claimed)
    return claims


def _claim_one_in_orm(
    now: datetime, token: uuid.UUID, *, message_id: int | None, order_id: int | None, skip_connections: frozenset[int]
) -> Claim | None:
    with transaction.atomic():
        candidates = _claimable(now).select_for_update(skip_locked=True, of=("self",))
        if message_id is not None:
            candidates = candidates.filter(pk=message_id)
        if order_id is not None:
            candidates = candidates.filter(order_id=order_id)
        if skip_connections:
            candidates = candidates.exclude(connection_id__in=skip_connections)
        message = candidates.order_by("next_attempt_at", "id").first()
        if message is None:
            return None
        look_up_first = message.create_may_have_landed
        message.due_at = message.next_attempt_at
        message.lease_token = token
        message.leased_until = now + lease_duration()
        message.next_attempt_at = message.leased_until
        fields = ["lease_token", "leased_until", "next_attempt_at"]
        if message.kind == Kind.CREATE:
            # Written before the call: if this worker dies mid-call, the next one looks it up.
            message.create_may_have_landed = True
            fields.append("create_may_have_landed")
        message.save(update_fields=fields)
    return Claim(message, token, look_up_first)


# The claim above as one round trip: the same conditions, order and lease.
_CLAIM_SQL = """
WITH candidate AS (
    SELECT m.id, m.create_may_have_landed AS look_up_first, m.next_attempt_at AS due_at
    FROM {table} m
    WHERE m.state = %(pending)s AND m.next_attempt_at <= %(now)s {target}
      AND NOT EXISTS (
          SELECT 1 FROM {table} older
          WHERE older.order_id = m.order_id AND older.id < m.id AND older.state IN %(unfinished)s
      )
    ORDER BY m.next_attempt_at, m.id
    LIMIT %(limit)s
    FOR UPDATE OF m SKIP LOCKED
)
UPDATE {table} claimed
SET lease_token = %(token)s, leased_until = %(until)s, next_attempt_at = %(until)s,
    create_may_have_landed = claimed.create_may_have_landed OR claimed.kind = %(create)s
FROM candidate
WHERE claimed.id = candidate.id
RETURNING claimed.*, candidate.look_up_first, candidate.due_at
"""


def _claim_in_one_statement(
    connection,
    now: datetime,
    token: uuid.UUID,
    limit: int,
    *,
    message_id: int | None,
    order_id: int | None,
    skip_connections: frozenset[int],
) -> list[Claim]:
    target = ""
    if message_id is not None:
        target += " AND m.id = %(message_id)s"
    if order_id is not None:
        target += " AND m.order_id = %(order_id)s"
    if skip_connections:
        target += " AND m.connection_id <> ALL(%(skip_connections)s)"
    sql = _CLAIM_SQL.format(table=connection.ops.quote_name(OutboxMessage._meta.db_table), target=target)
    params = {
        "pending": State.PENDING,
        "unfinished": tuple(UNFINISHED),
        "now": now,
        "until": now + lease_duration(),
        "token": token,
        "create": Kind.CREATE,
        "message_id": message_id,
        "order_id": order_id,
        "skip_connections": sorted(skip_connections),
        "limit": limit,
    }
    # RETURNING keeps no order: put them back in the order they were due.
    claimed = sorted(OutboxMessage.objects.raw(sql, params), key=lambda message: (message.due_at, message.pk))
    return [Claim(message, token, message.look_up_first) for message in claimed]


# Delivering -------------------------------------------------------------------


@dataclass
class Result:
    outcome: str
    http_status: int | None = None
    error: str = ""
    retry_after: float | None = None
    hubrise_order_id: str | None = None
    request: str = ""
    duration_ms: int = 0
    payload: dict | None = None
    retryable: bool = False
    create_not_recorded: bool = False
    attempts: list[dict] = field(default_factory=list)


def drain(slot: int = 0, *, seconds: float | None = None, threads: int | None = None) -> int:
    """Deliver due messages, any order's, longest due first, until none is due or ``seconds`` passed.

    Returns how many were sent. ``threads`` deliver side by side (each claims
    its own messages), so that one process keeps working while a call waits
    for HubRise. Stopping after a while and queueing the next drain lets the
    other tasks waiting for a worker (webhook events, polls) have their turn
    during a long backlog. A connection out of its rate limit is left out of
    this drain's claims once met, instead of claiming and putting back each of
    its messages.
    """
    broker.clear_drain_flag("push", slot)
    deadline = time.monotonic() + (settings.HUBRISE_PUSH_DRAIN_SECONDS if seconds is None else seconds)
    if threads is None:
        threads = settings.HUBRISE_PUSH_DRAIN_THREADS
    # SQLite takes one writer at a time: threads would only wait for each other's locks.
    if connections[router.db_for_write(OutboxMessage)].vendor != "postgresql":
        threads = 1
    limited = _LimitedConnections()
    if threads <= 1:
        sent, out_of_time = _deliver_until(deadline, limited)
    else:
        pool = _delivery_threads(threads)
        results = list(pool.map(lambda _: _deliver_in_own_thread(deadline, limited), range(threads)))
        sent, out_of_time = sum(n for n, _ in results), any(late for _, late in results)
    if out_of_time:
        publish([])
    return sent


class _LimitedConnections:
    """Connections a drain met out of their rate limit, shared by its threads."""

    def __init__(self) -> None:
        self._ids: set[int] = set()
        self._lock = threading.Lock()

    def add(self, connection_id: int) -> None:
        with self._lock:
            self._ids.add(connection_id)

    def snapshot(self) -> frozenset[int]:
        with self._lock:
            return frozenset(self._ids)


def _deliver_until(deadline: float, limited: _LimitedConnections) -> tuple[int, bool]:
    """(messages sent, whether time ran out before the due messages did)."""
    sent = 0
    while True:
        claims = claim_several(CLAIMS_PER_ROUND, skip_connections=limited.snapshot())
        if not claims:
            return sent, False
        orders = _orders_of(claims)
        claims, adopted = _look_up_together(claims, orders)
        sent += adopted
        taken: list[Sent] = []
        try:
            for position, claimed in enumerate(claims):
                if position and not _lease_outlasts_a_call(claimed):
                    # HubRise is slow today: the rest go back before their lease could run out mid-call.
                    # (The first always goes, as a claim of one would.)
                    for unsent in claims[position:]:
                        _release(unsent, next_attempt_at=timezone.now())
                    break
                outcome = deliver_claimed(claimed, order=orders[claimed.message.order_id], taken=taken)
                if outcome in (Outcome.DELIVERED, Outcome.ADOPTED):
                    sent += 1
                elif outcome == RATE_LIMITED and claimed.message.connection_id is not None:
                    limited.add(claimed.message.connection_id)
        finally:
            record_taken(taken)
        if time.monotonic() >= deadline:
            return sent, True


def _look_up_together(claims: list[Claim], orders: dict[int, Order]) -> tuple[list[Claim], int]:
    """Settles a connection's creates in doubt with one listing of its orders instead of a lookup each.

    After a HubRise outage whose calls timed out, every waiting create must be
    looked up before it is posted again, and a lookup is a heavy call (HubRise
    allows 10 a minute). When several of a round's creates in doubt share a
    connection, its orders since the oldest of them are listed instead (a page
    of 100 per heavy call): those found are adopted, those not found are posted
    without a lookup. A listing serves the next rounds too, for the creates whose
    last try ended before it was taken (``_listing_for``). Returns the claims left
    to send and how many were adopted.
    """
    in_doubt: dict[int, tuple[Connection, list[Claim]]] = {}
    for claimed in claims:
        if claimed.message.kind != Kind.CREATE or not claimed.look_up_first:
            continue
        connection = _connection_of_order(orders[claimed.message.order_id])
        if connection is None or connection.is_broken:
            continue
        in_doubt.setdefault(connection.pk, (connection, []))[1].append(claimed)
    settled: set[int] = set()
    for connection, group in in_doubt.values():
        started = timezone.now()
        listing = _listing_for(connection, group)
        if listing is None:
            continue  # each is looked up on its own
        for claimed in group:
            order = orders[claimed.message.order_id]
            hubrise_id = listing.found.get(str(order.uid))
            if hubrise_id is None:
                # Not at HubRise: no one else sends it while we hold its lease.
                claimed.look_up_first = False
                continue
            request = f"GET /locations/{connection.location_id}/orders?after={mapping.local_time(listing.since, 'UTC')}"
            result = Result(outcome=Outcome.ADOPTED, hubrise_order_id=hubrise_id, http_status=200, request=request)
            _record(claimed, connection, result, started)
            settled.add(claimed.message.pk)
    return [claimed for claimed in claims if claimed.message.pk not in settled], len(settled)


@dataclass(frozen=True)
class Listing:
    """A connection's orders at HubRise created since ``since``, as listed at ``taken_at``: our private_ref → id."""

    taken_at: datetime
    since: datetime
    found: dict[str, str]


# The last complete listing of each connection, shared by the process's delivery threads.
_listings: dict[int, Listing] = {}
_listings_lock = threading.Lock()


def _listing_for(connection: Connection, group: list[Claim]) -> Listing | None:
    """A listing that settles every create of ``group``, the last one taken or a new one; None if none can.

    A listing settles a create if it reaches back to the create's order and was
    taken after the create's last try ended: a message is due (``due_at``) only
    after its last try, and its lease kept any other worker from trying it
    since. Creates not found in it were then never stored by HubRise.
    """
    oldest = min(claimed.message.created_at for claimed in group) - CLOCK_MARGIN
    with _listings_lock:
        last = _listings.get(connection.pk)
    if last is not None and last.since <= oldest and all(claimed.message.due_at <= last.taken_at for claimed in group):
        return last
    if len(group) < LOOK_UP_TOGETHER_FROM:
        return None  # one create: its own lookup costs the same heavy call
    # Far enough back for every create of the connection in doubt, so that the next rounds can use it too.
    in_doubt_since = (
        OutboxMessage.objects.filter(connection=connection, kind=Kind.CREATE, create_may_have_landed=True)
        .exclude(state__in=(State.DELIVERED, State.SUPERSEDED))
        .aggregate(oldest=Min("created_at"))["oldest"]
    )
    since = min(oldest, in_doubt_since - CLOCK_MARGIN) if in_doubt_since else oldest
    taken_at = timezone.now()
    found = _list_private_refs(connection, since)
    if found is None:
        return None
    listing = Listing(taken_at, since, found)
    with _listings_lock:
        _listings[connection.pk] = listing
    return listing


def _connection_of_order(order: Order) -> Connection | None:
    try:
        return order.establishment.hubrise_connection
    except Connection.DoesNotExist:
        return None


def _list_private_refs(connection: Connection, since: datetime) -> dict[str, str] | None:
    """Our private_ref → HubRise id of the connection's orders created since then; None unless all were listed."""
    client = HubRiseClient(connection.access_token)
    found: dict[str, str] = {}
    cursor = None
    for _page in range(LOOK_UP_TOGETHER_PAGES):
        if ratelimit.acquire(connection.pk, heavy=True):
            return None
        params = {"after": mapping.local_time(since, "UTC"), "count": "100"}
        if cursor:
            params["cursor"] = cursor
        try:
            page = client.find_orders(connection.location_id, **params)
        except HubRiseError:
            return None
        for remote in page.data if isinstance(page.data, list) else []:
            if isinstance(remote, dict) and remote.get("private_ref"):
                found[str(remote["private_ref"])] = str(remote["id"])
        cursor = page.headers.get("X-Cursor-Next")
        if not cursor:
            return found
    return None


def _lease_outlasts_a_call(claimed: Claim) -> bool:
    calls = 2 if claimed.look_up_first else 1  # a lookup by private_ref, then the post
    longest = calls * (settings.HUBRISE_CONNECT_TIMEOUT + settings.HUBRISE_READ_TIMEOUT)
    return claimed.message.leased_until - timezone.now() > timedelta(seconds=longest)


_thread_pools: dict[int, ThreadPoolExecutor] = {}


def _delivery_threads(size: int) -> ThreadPoolExecutor:
    """The process's delivery threads, kept from drain to drain with their database and HTTP connections."""
    if size not in _thread_pools:
        _thread_pools[size] = ThreadPoolExecutor(size, thread_name_prefix="hubrise-push")
    return _thread_pools[size]


def _deliver_in_own_thread(deadline: float, limited: _LimitedConnections) -> tuple[int, bool]:
    # What Django does at each request: drop this thread's connection if it broke
    # (PostgreSQL restarted) or outlived CONN_MAX_AGE.
    close_old_connections()
    return _deliver_until(deadline, limited)


def deliver(message_id: int) -> int:
    """Send that message if it is due, then the next ones of its order; returns how many were sent."""
    claimed = claim(message_id=message_id)
    sent = 0
    while claimed is not None and sent < MAX_MESSAGES_PER_ORDER:
        outcome = deliver_claimed(claimed)
        if outcome not in (Outcome.DELIVERED, Outcome.ADOPTED):
            break
        sent += 1
        # A newer message written while this one was out found it unfinished and
        # left it to us. Most often there is none: a cheap look before the claim.
        order_id = claimed.message.order_id
        waiting = OutboxMessage.objects.filter(order_id=order_id, state=State.PENDING).exists()
        claimed = claim(order_id=order_id) if waiting else None
    if claimed is not None and sent >= MAX_MESSAGES_PER_ORDER:
        _release(claimed, next_attempt_at=timezone.now())
    return sent


def _orders_of(claims: list[Claim]) -> dict[int, Order]:
    # The establishment's connection comes with the order: a message's own connection is
    # that one, or none once it was deleted (the message then waits for the next one).
    orders = Order.objects.select_related("establishment__hubrise_connection", "hubrise")
    if any(claimed.message.kind == Kind.CREATE for claimed in claims):
        orders = orders.prefetch_related("items__options", "deals", "discounts", "charges", "payments")
    return orders.in_bulk([claimed.message.order_id for claimed in claims])


@dataclass
class Sent:
    """A status message HubRise took, waiting to be recorded with the others of its round."""

    claimed: Claim
    connection: Connection
    result: Result
    started: datetime


def deliver_claimed(claimed: Claim, *, order: Order | None = None, taken: list[Sent] | None = None) -> str:
    """Sends one claimed message and records the outcome; returns it.

    With ``taken``, a status change HubRise took is added to it instead, for
    ``record_taken`` to record with the others of the round.
    """
    message = claimed.message
    if order is None:
        order = _orders_of([claimed])[message.order_id]
    connection = _connection_of_order(order)
    if connection is None or connection.is_broken:
        _hold(claimed, connection)
        return Outcome.HELD
    wait = ratelimit.acquire(connection.pk, heavy=message.kind == Kind.CREATE and claimed.look_up_first)
    if wait:
        _release(claimed, next_attempt_at=timezone.now() + timedelta(seconds=wait))
        return RATE_LIMITED
    try:
        link = order.hubrise
    except OrderLink.DoesNotExist:
        link = OrderLink.objects.create(order=order, location_id=connection.location_id)
    client = HubRiseClient(connection.access_token)
    started = timezone.now()
    if message.kind == Kind.CREATE:
        result = _send_create(client, link, order, message, claimed.look_up_first)
    else:
        result = _send_status(client, link, order, message)
    if taken is not None and message.kind == Kind.UPDATE_STATUS and result.outcome == Outcome.DELIVERED:
        taken.append(Sent(claimed, connection, result, started))
    else:
        _record(claimed, connection, result, started)
    return result.outcome


def _call(result: Result, call, description: str) -> HubRiseResponse | None:
    result.request = description
    try:
        response = call()
    except HubRiseError as error:
        result.http_status = error.status
        result.error = str(error)
        result.retry_after = error.retry_after
        result.retryable = error.retryable
        if error.unauthorized:
            result.outcome = Outcome.HELD
        elif error.retryable:
            result.outcome = Outcome.RETRY
        else:
            result.outcome = Outcome.FAILED
        # A 429 or a refusal means HubRise did not record the order, and so does a 503:
        # the server (HubRise's load balancer, when the API behind it is down) did not take
        # the request. Another 5xx, a timeout or a dropped connection leaves it unknown.
        result.create_not_recorded = error.status is not None and (error.status < 500 or error.status == 503)
        return None
    result.http_status = response.status
    result.duration_ms += response.elapsed_ms
    return response


def _send_create(client: HubRiseClient, link: OrderLink, order: Order, message: OutboxMessage, look_up_first: bool) -> Result:
    result = Result(outcome=Outcome.DELIVERED)
    if link.hubrise_order_id:
        result.outcome = Outcome.ADOPTED
        result.hubrise_order_id = link.hubrise_order_id
        return result
    if look_up_first:
        found = _call(
            result,
            lambda: client.find_orders(link.location_id, private_ref=str(order.uid)),
            f"GET /locations/{link.location_id}/orders?private_ref={order.uid}",
        )
        if found is None:
            # The lookup failed: the create is still unknown, whatever the error said.
            result.create_not_recorded = False
            return result
        orders = found.data if isinstance(found.data, list) else []
        if orders:
            result.outcome = Outcome.ADOPTED
            result.hubrise_order_id = str(orders[0]["id"])
            return result
    payload = mapping.order_payload(order, status=message.status, timezone_name=order.establishment.timezone)
    result.payload = payload
    created = _call(
        result,
        lambda: client.create_order(link.location_id, payload),
        f"POST /locations/{link.location_id}/orders",
    )
    if created is not None:
        result.hubrise_order_id = str(created.data["id"])
    return result


def _send_status(client: HubRiseClient, link: OrderLink, order: Order, message: OutboxMessage) -> Result:
    result = Result(outcome=Outcome.DELIVERED)
    if not link.hubrise_order_id:
        # Cannot happen while creates go first; kept visible rather than silent.
        result.outcome = Outcome.FAILED
        result.error = "The order is not on HubRise yet."
        return result
    reason = ""
    if message.status == OrderStatus.REJECTED and message.change_id:
        reason = StatusChange.objects.filter(pk=message.change_id).values_list("reason", flat=True).first() or ""
    payload = mapping.status_payload(
        message.status, confirmed_time=order.confirmed_time, timezone_name=order.establishment.timezone, reason=reason
    )
    result.payload = payload
    _call(
        result,
        lambda: client.patch_order(link.location_id, link.hubrise_order_id, payload),
        f"PATCH /locations/{link.location_id}/orders/{link.hubrise_order_id}",
    )
    return result


def _record(claimed: Claim, connection: Connection, result: Result, started: datetime) -> None:
    message = claimed.message
    now = timezone.now()
    update: dict = {
        "attempts": message.attempts + 1,
        "lease_token": None,
        "leased_until": None,
        "last_status_code": result.http_status,
        "connection": connection,
    }
    if result.payload is not None:
        update["payload"] = result.payload
    if result.outcome in (Outcome.DELIVERED, Outcome.ADOPTED):
        update |= _delivered_fields(now)
    elif result.outcome == Outcome.RETRY:
        delay = retry_delay(message.attempts + 1, result.retry_after)
        update |= {"state": State.PENDING, "next_attempt_at": now + timedelta(seconds=delay), "queued_until": None}
        update["last_error"] = result.error
    elif result.outcome == Outcome.HELD:
        update |= {"state": State.HELD, "next_attempt_at": now, "queued_until": None, "last_error": result.error}
    else:
        update |= {"state": State.FAILED, "last_error": result.error, "queued_until": None}
    if result.create_not_recorded and message.kind == Kind.CREATE:
        update["create_may_have_landed"] = False

    with transaction.atomic():
        if result.hubrise_order_id:
            # Stored even if our lease was lost meanwhile: the order is at HubRise either way.
            OrderLink.objects.filter(order_id=message.order_id, hubrise_order_id__isnull=True).update(
                hubrise_order_id=result.hubrise_order_id
            )
        kept = OutboxMessage.objects.filter(pk=message.pk, lease_token=claimed.token).update(**update)
        _attempt_of(message, result, started, now).save()
        if result.outcome == Outcome.HELD and result.http_status == 401:
            connection.mark_broken(result.error)
            _hold_pending_of(connection)
    if result.http_status == 429 and result.retry_after is not None:
        ratelimit.pause(connection.pk, result.retry_after)
    if not kept:
        _warn_lease_lost(message.pk)
    if result.outcome in (Outcome.DELIVERED, Outcome.ADOPTED):
        _note_success(connection)


def _delivered_fields(now: datetime) -> dict:
    """The fields of a message HubRise took, besides its lease (cleared) and attempt count."""
    return {"state": State.DELIVERED, "delivered_at": now, "last_error": "", "create_may_have_landed": False}


def _attempt_of(message: OutboxMessage, result: Result, started: datetime, now: datetime) -> DeliveryAttempt:
    return DeliveryAttempt(
        message=message,
        started_at=started,
        request=result.request[:200],
        http_status=result.http_status,
        duration_ms=result.duration_ms or int((now - started).total_seconds() * 1000),
        outcome=result.outcome,
        error=result.error,
    )


def _warn_lease_lost(message_id: int) -> None:
    logger.warning("HubRise message %s outlived its lease; its result was recorded by another worker", message_id)


def record_taken(taken: list[Sent]) -> None:
    """What _record does for each delivered status message, for several at once: four statements instead of three each."""
    if not taken:
        return
    now = timezone.now()
    with transaction.atomic():
        kept = set(
            OutboxMessage.objects.select_for_update()
            .filter(pk__in=[sent.claimed.message.pk for sent in taken], lease_token__in={sent.claimed.token for sent in taken})
            .values_list("pk", flat=True)
        )
        ours = [sent for sent in taken if sent.claimed.message.pk in kept]
        OutboxMessage.objects.filter(pk__in=kept).update(
            attempts=F("attempts") + 1, lease_token=None, leased_until=None, **_delivered_fields(now)
        )
        for sent in ours:
            sent.claimed.message.payload = sent.result.payload
            sent.claimed.message.last_status_code = sent.result.http_status
            sent.claimed.message.connection = sent.connection
        OutboxMessage.objects.bulk_update([sent.claimed.message for sent in ours], ["payload", "last_status_code", "connection"])
        DeliveryAttempt.objects.bulk_create(_attempt_of(sent.claimed.message, sent.result, sent.started, now) for sent in taken)
    for sent in taken:
        if sent.claimed.message.pk not in kept:
            _warn_lease_lost(sent.claimed.message.pk)
    for connection in {sent.connection.pk: sent.connection for sent in taken}.values():
        _note_success(connection)


def _note_success(connection: Connection) -> None:
    if connection.is_broken:
        connection.mark_healthy()
        release_held_messages(connection)
    elif connection.last_success_at is None or connection.last_success_at < timezone.now() - HEALTH_REFRESH:
        connection.mark_healthy()


def _hold(claimed: Claim, connection: Connection | None) -> None:
    OutboxMessage.objects.filter(pk=claimed.message.pk, lease_token=claimed.token).update(
        state=State.HELD,
        connection=connection,
        lease_token=None,
        leased_until=None,
        next_attempt_at=timezone.now(),
        queued_until=None,
        last_error=connection.last_failed_reason if connection else "",
    )


def _hold_pending_of(connection: Connection) -> None:
    now = timezone.now()
    OutboxMessage.objects.filter(connection=connection, state=State.PENDING).filter(
        Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    ).update(state=State.HELD, lease_token=None, leased_until=None, queued_until=None)


def _release(claimed: Claim, *, next_attempt_at: datetime) -> None:
    """Gives the message back untouched (no call was made), due at ``next_attempt_at``."""
    OutboxMessage.objects.filter(pk=claimed.message.pk, lease_token=claimed.token).update(
        lease_token=None,
        leased_until=None,
        next_attempt_at=next_attempt_at,
        queued_until=None,
        create_may_have_landed=claimed.look_up_first,
    )


# Sweeping, releasing, retrying by hand -----------------------------------------


def sweep(limit: int = 500) -> int:
    """Queue every due message not believed to be queued already; returns how many were queued."""
    for connection in Connection.objects.healthy().filter(establishment_id__in=establishments_with_held_messages()):
        release_held_messages(connection)
    now = timezone.now()
    due = list(
        _claimable(now)
        .filter(Q(queued_until__isnull=True) | Q(queued_until__lte=now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if due:
        OutboxMessage.objects.filter(pk__in=due).update(queued_until=now + timedelta(seconds=settings.HUBRISE_PUSH_REQUEUE_AFTER))
        publish(due)
    ratelimit.forget_old_windows()
    return len(due)


def establishments_with_held_messages() -> set[int]:
    # Read from the held messages' connections; only those whose connection is gone need their
    # orders (joining every held message to the orders table made this slow on a big backlog).
    held = OutboxMessage.objects.filter(state=State.HELD).order_by()
    with_connection = held.filter(connection__isnull=False).values_list("connection__establishment_id", flat=True)
    without = held.filter(connection__isnull=True).values_list("order__establishment_id", flat=True)
    return set(with_connection.distinct()) | set(without.distinct())


def release_held_messages(connection: Connection) -> int:
    """Hand the connection the messages of its establishment that waited while it was broken or missing.

    Called by the OAuth code after a (re)connection and by the sweep once the
    connection is healthy. Returns how many messages go out again.
    """
    now = timezone.now()
    with transaction.atomic():
        released = OutboxMessage.objects.filter(state=State.HELD, order__establishment_id=connection.establishment_id)
        count = released.update(
            state=State.PENDING, connection=connection, next_attempt_at=now, queued_until=None, lease_token=None
        )
    if count:
        logger.info("Released %d held HubRise messages of connection %s", count, connection.pk)
        transaction.on_commit(_sweep_soon)
    return count


def _sweep_soon() -> None:
    from hubrise_sync.tasks.push import sweep_outbox

    try:
        sweep_outbox.apply_async(retry=False)
    except Exception as error:
        logger.warning("Could not queue the outbox sweep (%s); beat will run it", type(error).__name__)


def retry_messages(messages) -> int:
    """Put failed (or waiting) messages back in line now, after someone fixed the cause."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            messages.filter(state__in=(State.FAILED, State.PENDING))
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .values_list("pk", flat=True)
        )
        OutboxMessage.objects.filter(pk__in=ids).update(
            state=State.PENDING, next_attempt_at=now, queued_until=None, lease_token=None, leased_until=None
        )
    if ids:
        transaction.on_commit(lambda: publish(ids))
    return len(ids)


def retry_order(order: Order) -> int:
    """The "Réessayer" button: the order's failed or waiting messages go out again now."""
    return retry_messages(OutboxMessage.objects.filter(order=order))


# What staff see -----------------------------------------------------------------


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
    head = next((m for m in sorted(messages, key=lambda m: m.pk) if m.state in UNFINISHED), None)
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
