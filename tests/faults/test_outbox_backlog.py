"""A 300,000-message outbox after a long HubRise outage: the sweep, the claims and the staff pages still work.

100,000 orders across 40 establishments, each connected to the sandbox, three messages
per order (tests/faults/backlog.py says which are delivered, superseded, failed, held
or waiting, and which are believed queued). At that size the sweep still queues at most
its limit, oldest first, and skips what is believed queued; claims take each order's
oldest unfinished message only; their queries use the indexes; the list page of an
affected establishment answers; and a sample of waiting orders goes out end to end and
matches what the sandbox recorded. How long these take is measured by
bench/outbox_backlog.py, not here.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hubrise_sync.models import Connection, OrderLink, OutboxMessage
from hubrise_sync.outbox import drain, kinds, state, sweep
from orders.models import Membership, Order
from tests.factories import make_establishment, make_user
from tests.faults.backlog import FAILED_CREATE, MESSAGES_PER_ORDER, WAITING_CREATE, kind_of, load_backlog
from tests.orders.pages import logged_in
from tests.worker_fixture import purge_broker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ORDERS = 100_000
ESTABLISHMENTS = 40
SWEEP_LIMIT = 500
CLAIMS = 200
SAMPLE = 10
OUTBOX = "hubrise_sync_outboxmessage"

# Each order's oldest unfinished message, when it is pending and due: written
# differently from outbox.state.claimable (DISTINCT ON instead of NOT EXISTS) on purpose.
HEADS_SQL = """
SELECT id FROM (
    SELECT DISTINCT ON (order_id) id, state, next_attempt_at, queued_until
    FROM hubrise_sync_outboxmessage WHERE state IN ('pending', 'held', 'failed')
    ORDER BY order_id, id
) first_unfinished
WHERE state = 'pending' AND next_attempt_at <= now() {and_not_queued}
ORDER BY next_attempt_at, id
"""
NOT_QUEUED = "AND (queued_until IS NULL OR queued_until <= now())"


def sql_ids(sql: str, params: list | None = None) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return [row[0] for row in cursor.fetchall()]


def queued_drains() -> list[list]:
    """The arguments of the delivery drains waiting in the broker."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    drains = []
    for raw in client.lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == "hubrise_sync.push.drain":
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            drains.append(args)
    return drains


def believed_queued() -> set[int]:
    return set(sql_ids("SELECT id FROM hubrise_sync_outboxmessage WHERE queued_until > now()"))


def plans_of(statements: list[str]) -> list[tuple[str, str]]:
    """EXPLAIN of every statement on the outbox (nothing is executed)."""
    plans = []
    with connection.cursor() as cursor:
        for sql in statements:
            if OUTBOX in sql and sql.lstrip().upper().startswith(("SELECT", "UPDATE", "WITH")):
                cursor.execute("EXPLAIN " + sql)
                plans.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
    return plans


def assert_no_seq_scan_on_the_outbox(plans: list[tuple[str, str]]) -> None:
    scanned = [f"{sql}\n{plan}" for sql, plan in plans if f"Seq Scan on {OUTBOX}" in plan]
    assert not scanned, "sequential scan of the outbox:\n\n" + "\n\n".join(scanned)


@pytest.fixture
def backlog(hubrise_sandbox, settings):
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    locations = [location["id"] for location in hubrise_sandbox.locations()]
    establishments = [make_establishment(f"Backlog {number:02d}") for number in range(ESTABLISHMENTS)]
    for number, establishment in enumerate(establishments):
        location = locations[number % len(locations)]
        Connection.objects.create(
            establishment=establishment, access_token=hubrise_sandbox.create_token(location), location_id=location
        )
    held = establishments[-1]
    held.hubrise_connection.mark_broken("HubRise answered 401: token revoked")
    loaded = load_backlog(ORDERS, [e.pk for e in establishments], held.pk, timezone.now())
    assert loaded.messages == ORDERS * MESSAGES_PER_ORDER
    purge_broker(settings.CELERY_BROKER_URL)
    yield establishments
    purge_broker(settings.CELERY_BROKER_URL)


def test_a_300000_message_backlog_is_swept_and_claimed_in_order_on_indexes_and_still_delivers(backlog, hubrise_sandbox):
    establishments = backlog
    due_not_queued = sql_ids(HEADS_SQL.format(and_not_queued=NOT_QUEUED))
    due = sql_ids(HEADS_SQL.format(and_not_queued=""))
    queued_before = believed_queued()
    assert len(due_not_queued) > 2 * SWEEP_LIMIT and queued_before

    # The sweep: at most its limit, oldest first, never what is believed queued already; the
    # next sweep goes on with the next ones. The messages cost a few drains, not a task each.
    with CaptureQueriesContext(connection) as sweep_queries:
        first = sweep.sweep(limit=SWEEP_LIMIT)
    first_queued = believed_queued() - queued_before
    second = sweep.sweep(limit=SWEEP_LIMIT)
    queued = believed_queued() - queued_before
    assert (first, second) == (SWEEP_LIMIT, SWEEP_LIMIT)
    assert first_queued == set(due_not_queued[:SWEEP_LIMIT])
    assert queued == set(due_not_queued[: 2 * SWEEP_LIMIT])
    assert sorted(queued_drains()) == [[0], [1]]
    assert OutboxMessage.objects.filter(state=OutboxMessage.State.HELD).exists()

    # Claims, as the delivery drain makes them (rounds of ten): each order's oldest unfinished
    # message only, the longest due first.
    look_up_kinds = kinds.looked_up_before_retry()
    with CaptureQueriesContext(connection) as claim_queries:
        claimed = [
            c
            for _ in range(CLAIMS // drain.CLAIMS_PER_ROUND)
            for c in state.claim(drain.CLAIMS_PER_ROUND, look_up_kinds=look_up_kinds)
        ]
    assert [c.message.pk for c in claimed] == due[:CLAIMS]
    claimed_ids = [c.message.pk for c in claimed]
    older_unfinished = sql_ids(
        """SELECT m.id FROM hubrise_sync_outboxmessage m
           JOIN hubrise_sync_outboxmessage older ON older.order_id = m.order_id AND older.id < m.id
           WHERE m.id = ANY(%s) AND older.state IN ('pending', 'held', 'failed')""",
        [claimed_ids],
    )
    assert older_unfinished == []

    # Everything else that is due, in one claim: exactly the heads, never a message waiting behind
    # an unfinished create (pending, or refused by HubRise), never a held one.
    rest = state.claim(len(due), look_up_kinds=look_up_kinds)
    assert {c.message.pk for c in rest} | set(claimed_ids) == set(due)
    waiting = list(
        OutboxMessage.objects.filter(kind="update_status", state=OutboxMessage.State.PENDING)
        .exclude(pk__in=due)
        .order_by("-id")
        .values_list("pk", "order_id")[:50]
    )
    assert len(waiting) == 50
    taken_orders = {c.message.order_id: c.message for c in [*claimed, *rest]}
    for _pk, order_id in waiting[:10]:
        kind = kind_of(int(Order.objects.get(pk=order_id).ref[2:]))
        assert kind in (WAITING_CREATE, FAILED_CREATE)
        by_order = taken_orders.get(order_id)
        if kind == WAITING_CREATE:
            assert by_order is not None and (by_order.kind, by_order.state) == ("create", "pending")
        else:
            assert by_order is None
    held_message = OutboxMessage.objects.filter(state=OutboxMessage.State.HELD).first()
    assert held_message.order_id not in taken_orders

    plans = plans_of([q["sql"] for q in sweep_queries.captured_queries + claim_queries.captured_queries[:3]])
    assert any("FOR UPDATE" in sql for sql, _ in plans)
    assert_no_seq_scan_on_the_outbox(plans)
    # The sweep and the claims read the due messages in due order from the (state, next_attempt_at) index.
    selections = [q["sql"] for q in sweep_queries.captured_queries if f"LIMIT {SWEEP_LIMIT}" in q["sql"]]
    due_plans = [plan for _sql, plan in plans_of([*selections, claim_queries.captured_queries[0]["sql"]])]
    assert due_plans and all("outbox_due" in plan for plan in due_plans), "\n\n".join(due_plans)

    # Staff of an affected establishment still get their list, waiting orders first.
    establishment = establishments[0]
    staff = make_user(establishment, role=Membership.Role.STAFF)
    response = logged_in(staff).get(f"/e/{establishment.pk}/orders/?tab=en-preparation")
    assert response.status_code == 200
    oldest_waiting = Order.objects.filter(establishment=establishment, tab="en-preparation").order_by("due_at", "id").first()
    assert response.context["page"].object_list[0].pk == oldest_waiting.pk

    # A sample of waiting orders goes out end to end through the delivery drain: one create
    # each, then the last status. The test's claims made no call: the sample's are given back,
    # everything else is put off.
    near = set(Order.objects.filter(establishment__in=establishments[:2]).values_list("pk", flat=True))
    creates = [c for c in [*claimed, *rest] if c.message.kind == "create" and c.message.order_id in near]
    sample_claims = sorted(creates, key=lambda c: -c.message.pk)[:SAMPLE]
    assert len(sample_claims) == SAMPLE
    sample = list(OutboxMessage.objects.filter(pk__in=[c.message.pk for c in sample_claims]).select_related("order"))
    sample_orders = [message.order_id for message in sample]
    OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).exclude(order__in=sample_orders).update(
        next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    for claimed_create in sample_claims:
        state.release(claimed_create, next_attempt_at=timezone.now())
    assert drain.drain(threads=1, seconds=60) == 2 * SAMPLE
    for location_id in {message.connection.location_id for message in sample}:
        remote_orders = hubrise_sandbox.orders(location_id)
        ours = [m.order for m in sample if m.connection.location_id == location_id]
        for order in ours:
            found = [o for o in remote_orders if str(order.uid) in o["private_refs"].values()]
            assert len(found) == 1, order.ref
            remote = found[0]
            assert (remote["status"], remote["total"]) == (order.status, "19.00 EUR")
            assert [(i["product_name"], i["quantity"]) for i in remote["items"]] == [("Croque-monsieur", "2")]
            assert OrderLink.objects.get(order=order).hubrise_order_id == remote["id"]
    posted = hubrise_sandbox.requests_log(method="POST", path_prefix="/v1/locations/", limit=100)
    assert len(posted) == SAMPLE
    assert not OutboxMessage.objects.filter(order__in=[m.order for m in sample], state__in=state.UNFINISHED).exists()
