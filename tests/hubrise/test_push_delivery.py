"""Orders and status changes reach HubRise through a real Celery worker, whatever goes wrong.

Each test runs the HubRise sandbox over HTTP, a real worker (with its beat) on Redis and
PostgreSQL, and checks "nothing lost, nothing twice" against the sandbox's own record.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
import requests
from django.test import Client

from hubrise_sync import push
from hubrise_sync.models import Connection, OrderLink, OutboxMessage
from orders.models import Order, StatusChange
from orders.services import change_status
from tests.factories import make_establishment, make_order, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

STAFF = StatusChange.Source.STAFF
ORDERS_PATH = "/v1/locations/"


def wait_until(condition: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def connect(establishment, sandbox) -> Connection:
    return Connection.objects.create(
        establishment=establishment, access_token=sandbox.create_token(), location_id=sandbox.location_id
    )


def at_hubrise(sandbox, order: Order) -> list[dict]:
    """The sandbox's orders carrying this order's uid as our private_ref."""
    return [o for o in sandbox.orders() if str(order.uid) in o["private_refs"].values()]


def delivered(order: Order) -> bool:
    return not OutboxMessage.objects.filter(order=order, state__in=push.UNFINISHED).exists()


def hubrise_status_is(sandbox, order: Order, status: str) -> bool:
    found = at_hubrise(sandbox, order)
    return len(found) == 1 and found[0]["status"] == status


def patches(sandbox, order: Order) -> list[dict]:
    """The PATCHes HubRise received for this order, oldest first."""
    hubrise_id = OrderLink.objects.get(order=order).hubrise_order_id
    log = sandbox.requests_log(method="PATCH", limit=200)
    return [entry for entry in reversed(log) if entry["path"].endswith(f"/orders/{hubrise_id}")]


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


def test_a_create_answered_500_twice_then_200_is_delivered_once(hubrise_sandbox, restaurant, celery_worker):
    establishment, _connection = restaurant
    hubrise_sandbox.inject_fault("500", count=2, method="POST", path_prefix=ORDERS_PATH)
    order = make_order(establishment)
    wait_until(lambda: delivered(order), what="the delivery")
    assert len(at_hubrise(hubrise_sandbox, order)) == 1
    message = OutboxMessage.objects.get(order=order)
    assert message.attempts >= 3
    assert [a.http_status for a in message.attempts_log.all()][:2] == [500, 500]


def test_a_create_processed_by_hubrise_whose_answer_never_came_is_adopted_not_duplicated(
    hubrise_sandbox, restaurant, start_celery_worker
):
    establishment, _connection = restaurant
    start_celery_worker(HUBRISE_READ_TIMEOUT="0.5")
    # HubRise records the order, then hangs past our read timeout.
    hubrise_sandbox.inject_fault("hang", method="POST", path_prefix=ORDERS_PATH, seconds=3, processed=True)
    order = make_order(establishment)
    wait_until(lambda: delivered(order), what="the delivery")
    assert len(at_hubrise(hubrise_sandbox, order)) == 1
    outcomes = list(OutboxMessage.objects.get(order=order).attempts_log.values_list("outcome", flat=True))
    assert outcomes == ["retry", "adopted"]
    assert len(hubrise_sandbox.requests_log(method="POST", path_prefix=ORDERS_PATH)) == 1


def test_a_status_change_survives_a_dropped_connection(hubrise_sandbox, restaurant, celery_worker):
    establishment, _connection = restaurant
    order = make_order(establishment)
    wait_until(lambda: delivered(order), what="the create")
    hubrise_sandbox.inject_fault("drop", method="PATCH")
    change_status(order, "accepted", source=STAFF)
    wait_until(lambda: hubrise_status_is(hubrise_sandbox, order, "accepted"), what="the status at HubRise")
    message = OutboxMessage.objects.get(order=order, kind="update_status")
    assert message.attempts == 2
    assert "connection" in message.attempts_log.first().error.lower()


def test_a_429_waits_for_retry_after_before_trying_again(hubrise_sandbox, restaurant, celery_worker):
    establishment, _connection = restaurant
    order = make_order(establishment)
    wait_until(lambda: delivered(order), what="the create")
    hubrise_sandbox.inject_fault("429", method="PATCH", retry_after=2)
    change_status(order, "accepted", source=STAFF)
    wait_until(lambda: hubrise_status_is(hubrise_sandbox, order, "accepted"), what="the status at HubRise")
    tries = patches(hubrise_sandbox, order)
    assert [entry["status"] for entry in tries] == [429, 200]
    assert tries[1]["at"] - tries[0]["at"] >= 2.0


def test_a_refused_create_is_shown_failed_with_hubrise_message_and_goes_out_after_a_fix_and_retry(hubrise_sandbox, celery_worker):
    establishment = make_establishment(currency="USD")  # HubRise's account is in EUR
    connect(establishment, hubrise_sandbox)
    staff = Client()
    staff.force_login(make_user(establishment))
    order = make_order(establishment)
    wait_until(lambda: OutboxMessage.objects.filter(order=order, state="failed").exists(), what="the refusal")
    page = staff.get(f"/e/{establishment.pk}/orders/{order.pk}/").content.decode()
    assert "sync-failed" in page
    assert "is not in the account currency EUR" in page
    assert at_hubrise(hubrise_sandbox, order) == []

    Order.objects.filter(pk=order.pk).update(currency="EUR")
    response = staff.post(f"/hubrise/e/{establishment.pk}/orders/{order.pk}/retry/")
    assert response.status_code == 302
    wait_until(lambda: delivered(order), what="the delivery after the retry")
    assert len(at_hubrise(hubrise_sandbox, order)) == 1
    assert "sync-sent" in staff.get(f"/e/{establishment.pk}/orders/{order.pk}/").content.decode()


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
    push.release_held_messages(connection)
    wait_until(lambda: hubrise_status_is(hubrise_sandbox, order, "in_preparation"), what="the last status at HubRise")
    assert delivered(order)


def test_a_change_committed_while_redis_is_down_is_delivered_by_the_sweep(
    hubrise_sandbox, restaurant, celery_worker, monkeypatch
):
    establishment, _connection = restaurant
    from hubrise_sync.tasks.push import deliver_message

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Redis is down")

    monkeypatch.setattr(deliver_message, "apply_async", broker_down)
    order = make_order(establishment)  # the staff request does not fail
    message = OutboxMessage.objects.get(order=order)
    assert message.queued_until is None, "left for the sweep"
    monkeypatch.undo()
    wait_until(lambda: delivered(order), what="the sweep's delivery")
    assert len(at_hubrise(hubrise_sandbox, order)) == 1


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
