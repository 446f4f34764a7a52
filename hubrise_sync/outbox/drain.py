"""The delivery drain: what the Celery task ``hubrise_sync.push.drain`` runs.

A drain claims the due messages ten at a time (``state.claim``), sends each with
its kind's call, outside any transaction, and records the outcomes
(``state.record``): the statuses HubRise took are recorded together at the end of
the round, anything else at once. It stops when nothing is due, or after
HUBRISE_PUSH_DRAIN_SECONDS, queueing its successor so that the other tasks waiting
for a worker (webhook events, polls) get their turn during a long backlog.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from hubrise_sync import broker, order_checks, ratelimit
from hubrise_sync.client import HubRiseClient
from hubrise_sync.models import Connection, OrderLink
from hubrise_sync.outbox import in_doubt, kinds, state, sweep, wake
from hubrise_sync.outbox.kind import Sending
from hubrise_sync.outbox.result import Outcome
from hubrise_sync.outbox.state import Claim, Sent
from orders.models import Order

logger = logging.getLogger(__name__)

# How many due messages a drain claims at a time (one statement, their orders in one more).
CLAIMS_PER_ROUND = 10
# A successful call refreshes the connection's last_success_at at most this often.
HEALTH_REFRESH = timedelta(minutes=1)


def drain(slot: int = 0, *, seconds: float | None = None, threads: int | None = None) -> int:
    """Deliver due messages, any order's, longest due first, until none is due or ``seconds`` passed.

    Returns how many were sent. ``threads`` deliver side by side (each claims
    its own messages), so that one process keeps working while a call waits
    for HubRise. A connection out of its rate limit is left out of this drain's
    claims once met, instead of claiming and putting back each of its messages.
    """
    broker.clear_drain_flag("push", slot)
    deadline = time.monotonic() + (settings.HUBRISE_PUSH_DRAIN_SECONDS if seconds is None else seconds)
    if threads is None:
        threads = settings.HUBRISE_PUSH_DRAIN_THREADS
    limited = _LimitedConnections()
    if threads <= 1:
        sent, out_of_time = _deliver_until(deadline, limited)
    else:
        pool = _delivery_threads(threads)
        results = list(pool.map(lambda _: _deliver_in_own_thread(deadline, limited), range(threads)))
        sent, out_of_time = sum(n for n, _ in results), any(late for _, late in results)
    if out_of_time:
        wake.publish([])
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
    look_up_kinds = kinds.looked_up_before_retry()
    while True:
        claims = state.claim(CLAIMS_PER_ROUND, look_up_kinds=look_up_kinds, skip_connections=limited.snapshot())
        if not claims:
            return sent, False
        orders = _orders_of(claims)
        claims, adopted = in_doubt.settle(claims, orders)
        if adopted:
            _after_recording(adopted, state.record(adopted))
            sent += len(adopted)
        taken: list[Sent] = []
        try:
            for position, claimed in enumerate(claims):
                if position and not _lease_outlasts_a_call(claimed):
                    # HubRise is slow today: the rest go back before their lease could run out mid-call.
                    # (The first always goes, as a claim of one would.)
                    for unsent in claims[position:]:
                        state.release(unsent, next_attempt_at=timezone.now())
                    break
                outcome = _deliver(claimed, orders[claimed.message.order_id], taken)
                if outcome in (Outcome.DELIVERED, Outcome.ADOPTED):
                    sent += 1
                elif outcome == _RATE_LIMITED and claimed.message.connection_id is not None:
                    limited.add(claimed.message.connection_id)
        finally:
            _after_recording(taken, state.record(taken))
        if time.monotonic() >= deadline:
            return sent, True


def _orders_of(claims: list[Claim]) -> dict[int, Order]:
    # The establishment's connection comes with the order: a message's own connection is
    # that one, or none once it was deleted (the message then waits for the next one).
    orders = Order.objects.select_related("establishment__hubrise_connection", "hubrise")
    if any(kinds.of(claimed.message).look_up_before_retry for claimed in claims):
        orders = orders.prefetch_related("items__options", "deals", "discounts", "charges", "payments")
    return orders.in_bulk([claimed.message.order_id for claimed in claims])


# What _deliver returns when the connection's rate limit made the message wait (no call made).
_RATE_LIMITED = "rate_limited"


def _deliver(claimed: Claim, order: Order, taken: list[Sent]) -> str:
    """Sends one claimed message: a plain delivery joins ``taken`` (recorded with its round), another outcome is recorded now."""
    message = claimed.message
    kind = kinds.of(message)
    connection = in_doubt.connection_of(order)
    if connection is None or connection.is_broken:
        state.hold(claimed, connection)
        return Outcome.HELD
    wait = ratelimit.acquire(connection.pk, heavy=kind.look_up_before_retry and claimed.look_up_first)
    if wait:
        state.release(claimed, next_attempt_at=timezone.now() + timedelta(seconds=wait))
        return _RATE_LIMITED
    try:
        link = order.hubrise
    except OrderLink.DoesNotExist:
        link = OrderLink.objects.create(order=order, location_id=connection.location_id)
    started = timezone.now()
    sending = Sending(HubRiseClient(connection.access_token), link, order, message, claimed.look_up_first)
    result = kind.send(sending)
    sent = Sent(claimed, connection, result, started)
    if result.outcome == Outcome.DELIVERED and not result.hubrise_order_id:
        taken.append(sent)
    else:
        _after_recording([sent], state.record([sent]))
    return result.outcome


def _after_recording(sent: list[Sent], recorded: state.Recorded) -> None:
    for s in sent:
        if s.claimed.message.pk not in recorded.kept:
            logger.warning(
                "HubRise message %s outlived its lease; its result was recorded by another worker", s.claimed.message.pk
            )
        if s.result.http_status == 429 and s.result.retry_after is not None:
            ratelimit.pause(s.connection.pk, s.result.retry_after)
    for connection in {s.connection.pk: s.connection for s in sent if s.result.delivered}.values():
        _note_success(connection)
    # HubRise took our status and a change of its own around the same time: ask it which it holds now.
    for order_id in recorded.to_check:
        order_checks.check_order_soon(order_id)


def _note_success(connection: Connection) -> None:
    if connection.is_broken:
        connection.mark_healthy()
        sweep.release_held_messages(connection)
    elif connection.last_success_at is None or connection.last_success_at < timezone.now() - HEALTH_REFRESH:
        connection.mark_healthy()


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
