"""Orders and status changes reach HubRise through a real Celery worker, whatever goes wrong.

Each test runs the HubRise sandbox over HTTP, a real worker (with its beat) on Redis and
PostgreSQL, and checks "nothing lost, nothing twice" against the sandbox's own record.
The fault-injection suite (tests/faults/test_nothing_lost_push.py) covers broker outages,
HubRise failing, limiting or refusing, and timed-out creates.
"""

from __future__ import annotations

import json

import pytest
import requests

from hubrise_sync.models import Connection, OutboxMessage
from hubrise_sync.outbox import sweep
from orders.models import StatusChange
from orders.services import change_status
from tests.factories import make_establishment, make_order
from tests.faults.nothing_lost import at_hubrise, connect, delivered, hubrise_status_is, patches
from tests.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

STAFF = StatusChange.Source.STAFF
ORDERS_PATH = "/v1/locations/"


@pytest.fixture
def restaurant(hubrise_sandbox):
    establishment = make_establishment()
    connection = connect(establishment, hubrise_sandbox)
    return establishment, connection


def test_an_order_and_its_status_change_reach_hubrise(hubrise_sandbox, restaurant, celery_worker):
    establishment, _connection = restaurant
    order = make_order(establishment, ref="A-1")
    change_status(order, "accepted", source=STAFF)
    wait_until(lambda: hubrise_status_is(hubrise_sandbox, order, "accepted"), what="the accepted order at HubRise")
    (remote,) = at_hubrise(hubrise_sandbox, order)
    order.hubrise.refresh_from_db()
    assert order.hubrise.hubrise_order_id == remote["id"]
    assert remote["ref"] == "A-1"
    assert remote["items"][0]["sku_ref"] == "CROQ-M"
    assert remote["custom_fields"] == {"restaurant": {"table_name": "12"}}
    assert remote["confirmed_time"] is not None


def test_a_status_change_survives_a_dropped_connection(hubrise_sandbox, restaurant, celery_worker):
    establishment, _connection = restaurant
    order = make_order(establishment)
    wait_until(lambda: delivered(order), what="the create")
    hubrise_sandbox.inject_fault("drop", method="PATCH")
    change_status(order, "accepted", source=STAFF)
    # HubRise holds the status a moment before the worker has recorded its answer: wait for both.
    wait_until(
        lambda: hubrise_status_is(hubrise_sandbox, order, "accepted") and delivered(order),
        what="the status at HubRise, recorded as delivered",
    )
    message = OutboxMessage.objects.get(order=order, kind="update_status")
    assert message.attempts == 2
    assert "connection" in message.attempts_log.first().error.lower()


def test_a_revoked_token_breaks_the_connection_holds_messages_and_delivers_them_after_reconnecting(
    hubrise_sandbox, restaurant, celery_worker
):
    establishment, connection = restaurant
    order = make_order(establishment)
    wait_until(lambda: delivered(order), what="the create")
    requests.post(
        f"{hubrise_sandbox.oauth_url}/revoke",
        data={"token": connection.access_token},
        auth=(hubrise_sandbox.client_id, hubrise_sandbox.client_secret),
        timeout=5,
    ).raise_for_status()
    change_status(order, "accepted", source=STAFF)
    wait_until(lambda: OutboxMessage.objects.filter(order=order, state="held").exists(), what="the message held")
    connection.refresh_from_db()
    assert connection.is_broken
    change_status(order, "in_preparation", source=STAFF)
    assert OutboxMessage.objects.get(order=order, status="in_preparation").state == "held"

    # What the OAuth flow does on reconnection: a new token, the connection healthy again.
    Connection.objects.filter(pk=connection.pk).update(access_token="")
    connection.access_token = hubrise_sandbox.create_token()
    connection.save(update_fields=["access_token"])
    connection.mark_healthy()
    sweep.release_held_messages(connection)
    wait_until(
        lambda: hubrise_status_is(hubrise_sandbox, order, "in_preparation") and delivered(order),
        what="the last status at HubRise, recorded as delivered",
    )


def test_a_worker_killed_mid_create_leaves_exactly_one_order_at_hubrise(hubrise_sandbox, restaurant, start_celery_worker):
    establishment, _connection = restaurant
    worker = start_celery_worker(HUBRISE_READ_TIMEOUT="10")
    hubrise_sandbox.inject_fault("hang", method="POST", path_prefix=ORDERS_PATH, seconds=5, processed=True)
    order = make_order(establishment)
    wait_until(lambda: hubrise_sandbox.requests_log(method="POST", path_prefix=ORDERS_PATH), what="the POST")
    worker.kill()
    start_celery_worker()
    wait_until(lambda: delivered(order), what="the delivery by the new worker")
    assert len(at_hubrise(hubrise_sandbox, order)) == 1
    assert len(hubrise_sandbox.requests_log(method="POST", path_prefix=ORDERS_PATH)) == 1
    assert list(OutboxMessage.objects.get(order=order).attempts_log.values_list("outcome", flat=True)) == ["adopted"]


def test_two_quick_status_changes_reach_hubrise_in_order(hubrise_sandbox, restaurant, celery_worker):
    establishment, _connection = restaurant
    order = make_order(establishment)
    wait_until(lambda: delivered(order), what="the create")
    change_status(order, "accepted", source=STAFF)
    change_status(order, "in_preparation", source=STAFF)
    wait_until(lambda: delivered(order), what="both statuses")
    sent = [entry["request_body"] for entry in patches(hubrise_sandbox, order)]
    statuses = [json.loads(body)["status"] for body in sent]
    assert statuses[-1] == "in_preparation"
    assert statuses in (["accepted", "in_preparation"], ["in_preparation"])
    assert hubrise_status_is(hubrise_sandbox, order, "in_preparation")


def test_a_status_change_made_before_the_create_succeeded_waits_for_it(hubrise_sandbox, restaurant, celery_worker):
    establishment, _connection = restaurant
    hubrise_sandbox.inject_fault("500", count=3, method="POST", path_prefix=ORDERS_PATH)
    order = make_order(establishment)
    change_status(order, "accepted", source=STAFF)
    wait_until(lambda: delivered(order), timeout=30, what="the create then the status")
    assert hubrise_status_is(hubrise_sandbox, order, "accepted")
    log = hubrise_sandbox.requests_log(limit=50)
    first_patch = min(entry["id"] for entry in log if entry["method"] == "PATCH")
    created = max(entry["id"] for entry in log if entry["method"] == "POST" and entry["status"] == 200)
    assert created < first_patch
    assert all(entry["status"] != 404 for entry in log if entry["method"] == "PATCH")


def test_a_backlog_left_while_no_worker_ran_goes_out_in_a_few_drains_each_order_in_order(
    hubrise_sandbox, restaurant, start_celery_worker
):
    establishment, _connection = restaurant
    orders = [make_order(establishment, ref=f"B-{n}") for n in range(30)]
    for order in orders:
        change_status(order, "accepted", source=STAFF)
    assert OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).count() == 60

    worker = start_celery_worker()
    wait_until(lambda: all(hubrise_status_is(hubrise_sandbox, order, "accepted") for order in orders), what="the backlog")
    # A drain's line reaches the worker's log once the drain has ended, a moment after its last call.
    wait_until(lambda: sum(worker.sent_by_drains()) == 60, what="the drains' 60 deliveries in the worker's log")

    log = list(reversed(hubrise_sandbox.requests_log(path_prefix=ORDERS_PATH, limit=500)))
    assert [entry["method"] for entry in log].count("POST") == 30, "each order created once"
    for order in orders:
        (remote,) = at_hubrise(hubrise_sandbox, order)
        (created,) = [n for n, entry in enumerate(log) if entry["method"] == "POST" and str(order.uid) in entry["request_body"]]
        (accepted,) = [n for n, entry in enumerate(log) if entry["path"].endswith(f"/orders/{remote['id']}")]
        assert created < accepted, order.ref
    sent_by_drain = worker.sent_by_drains()
    assert sum(sent_by_drain) == 60
    # A task per message would have been 60 tasks; the drains claim ten due messages at a time.
    assert len(sent_by_drain) <= 12, sent_by_drain
