"""Nothing lost on the way to HubRise: one real fault per test, then the same check.

Each test runs the HubRise sandbox over HTTP and a real Celery worker (with its beat) on
PostgreSQL and Redis, breaks one thing for real (the broker refusing, resetting or
black-holing connections, a worker SIGKILLed, HubRise failing, limiting or refusing), and
ends with ``assert_nothing_lost``: each of our orders is at HubRise exactly once with our
status, nothing is left in the outbox, and each history is an unbroken chain.

Broker faults never touch the shared Redis: those tests run a Redis server of their own
(stopped and started for an outage) and, for resets and hangs, a TCP proxy in front of it;
this process's Celery app and the worker both use that broker.
"""

from __future__ import annotations

import contextlib
import json
import time

import pytest
import requests
from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hubrise_sync.models import DeliveryAttempt, OrderLink, OutboxMessage
from hubrise_sync.outbox import drain as outbox_drain
from orders.models import Order, StatusChange
from orders.services import change_status
from tests.factories import make_establishment, make_order, make_user
from tests.faults.broker import BrokerProxy, PrivateRedis, celery_broker
from tests.faults.nothing_lost import (
    assert_nothing_lost,
    at_hubrise,
    connect,
    delivered,
    hubrise_status_is,
    patches,
)
from tests.faults.staff import click_retry, click_status, order_page, staff_client
from tests.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ORDERS_PATH = "/v1/locations/"
# How long a staff member may wait after a click, whatever the broker does.
STAFF_WAIT_BOUND = 10.0
# Faster still than the worker fixture's defaults, for the tests that retry many times.
QUICK_RETRIES = {"HUBRISE_READ_TIMEOUT": "1", "HUBRISE_PUSH_BACKOFF_BASE": "0.05", "HUBRISE_PUSH_BACKOFF_CAP": "0.2"}


@pytest.fixture
def restaurant(hubrise_sandbox):
    establishment = make_establishment()
    connect(establishment, hubrise_sandbox)
    return establishment


@pytest.fixture
def staff(restaurant):
    client = staff_client()
    client.force_login(make_user(restaurant))
    return client


@pytest.fixture
def private_redis(tmp_path):
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def broker_proxy(private_redis):
    proxy = BrokerProxy("127.0.0.1", private_redis.port)
    yield proxy
    proxy.stop()


@pytest.fixture
def use_broker(settings):
    """Points this process's publishing, and the workers started afterwards, at a broker URL."""
    with contextlib.ExitStack() as stack:

        def use(url: str) -> None:
            settings.CELERY_BROKER_URL = url
            stack.enter_context(celery_broker(url))

        yield use


def accepted_by_staff(staff, order: Order):
    click = click_status(staff, order, "accepted")
    assert click.status_code == 302, click
    assert click.location == order_page(order)
    assert click.seconds < STAFF_WAIT_BOUND, f"the staff member waited {click.seconds:.1f} s"
    order.refresh_from_db()
    assert order.status == "accepted"
    return click


def left_for_the_sweep(order: Order, kind: str = "update_status") -> bool:
    """The change is committed but no task could be queued for it."""
    message = OutboxMessage.objects.get(order=order, kind=kind)
    return message.state == OutboxMessage.State.PENDING and message.queued_until is None


def settles_as_left_for_the_sweep(order: Order, kind: str = "update_status") -> None:
    # The worker's own sweep (every 0.5 s) may hold a claim on the message at this moment; its publish
    # fails on the same broken Redis and gives the message back to the next sweep.
    wait_until(lambda: left_for_the_sweep(order, kind), timeout=10, what=f"the {kind} message left for the sweep")


def patch_statuses(sandbox, order: Order) -> list[tuple[int | None, str | None, str]]:
    """(HTTP status, injected fault, status sent) of each PATCH HubRise received for the order."""
    return [(e["status"], e["fault"], json.loads(e["request_body"])["status"]) for e in patches(sandbox, order)]


# 1-3: the broker ---------------------------------------------------------------------


def test_a_status_click_while_redis_is_down_succeeds_and_reaches_hubrise_once_redis_is_back(
    hubrise_sandbox, restaurant, staff, private_redis, use_broker, start_celery_worker
):
    use_broker(private_redis.url())
    start_celery_worker()
    order = make_order(restaurant)
    wait_until(lambda: delivered(order), what="the create")

    private_redis.stop()
    accepted_by_staff(staff, order)
    settles_as_left_for_the_sweep(order)
    # A guest's order arrives meanwhile: recorded all the same, its push left for the sweep too.
    newcomer = make_order(restaurant)
    settles_as_left_for_the_sweep(newcomer, "create")
    time.sleep(1)
    assert hubrise_status_is(hubrise_sandbox, order, "new"), "nothing can be queued while Redis is down"
    assert at_hubrise(hubrise_sandbox, newcomer) == []

    private_redis.start()
    wait_until(lambda: delivered(order) and delivered(newcomer), timeout=30, what="the deliveries once Redis is back")
    assert_nothing_lost(hubrise_sandbox)
    assert patch_statuses(hubrise_sandbox, order) == [(200, None, "accepted")]


def test_a_change_whose_publish_fails_right_after_its_commit_is_delivered_by_the_sweep(
    hubrise_sandbox, restaurant, staff, private_redis, broker_proxy, use_broker, start_celery_worker
):
    use_broker(broker_proxy.url(private_redis.url()))
    start_celery_worker()
    order = make_order(restaurant)
    wait_until(lambda: delivered(order), what="the create")

    # Registered while the history row is written, this runs after the commit and just
    # before the outbox's own on_commit publish: Redis fails in between.
    def break_redis_after_commit(sender, created: bool, **kwargs) -> None:
        if created:
            transaction.on_commit(lambda: broker_proxy.set_mode("reset"))

    post_save.connect(break_redis_after_commit, sender=StatusChange, dispatch_uid="break-redis-after-commit")
    try:
        accepted_by_staff(staff, order)
    finally:
        post_save.disconnect(sender=StatusChange, dispatch_uid="break-redis-after-commit")
    assert broker_proxy.mode == "reset"
    settles_as_left_for_the_sweep(order)
    assert hubrise_status_is(hubrise_sandbox, order, "new")

    broker_proxy.set_mode("pass")
    wait_until(lambda: delivered(order), timeout=30, what="the sweep's delivery")
    assert_nothing_lost(hubrise_sandbox)
    assert patch_statuses(hubrise_sandbox, order) == [(200, None, "accepted")]


def test_a_publish_that_hangs_does_not_hang_the_staff_request_and_the_change_goes_out_after(
    hubrise_sandbox, restaurant, staff, private_redis, broker_proxy, use_broker, start_celery_worker
):
    use_broker(broker_proxy.url(private_redis.url()))
    start_celery_worker()
    order = make_order(restaurant)
    wait_until(lambda: delivered(order), what="the create")

    broker_proxy.set_mode("hang")
    accepted_by_staff(staff, order)
    settles_as_left_for_the_sweep(order)

    broker_proxy.set_mode("pass")
    wait_until(lambda: delivered(order), timeout=30, what="the delivery once Redis answers")
    assert_nothing_lost(hubrise_sandbox)
    assert patch_statuses(hubrise_sandbox, order) == [(200, None, "accepted")]


# 4: the worker -----------------------------------------------------------------------


def test_a_worker_killed_mid_patch_is_replaced_and_hubrise_sees_one_status_change(
    hubrise_sandbox, restaurant, staff, start_celery_worker
):
    # Another app on the location (the POS) sees every change HubRise makes to the order.
    pos_token = hubrise_sandbox.create_pos_token()
    requests.post(
        f"{hubrise_sandbox.api_url}/callback",
        json={"url": None, "events": {"order": ["update"]}},
        headers={"X-Access-Token": pos_token},
        timeout=5,
    ).raise_for_status()
    worker = start_celery_worker(HUBRISE_READ_TIMEOUT="30")
    order = make_order(restaurant)
    wait_until(lambda: delivered(order), what="the create")

    # HubRise applies the PATCH, then its answer never comes while the worker waits.
    hubrise_sandbox.inject_fault("hang", method="PATCH", seconds=30, processed=True)
    accepted_by_staff(staff, order)
    wait_until(lambda: patches(hubrise_sandbox, order), what="the PATCH at HubRise")
    worker.kill()
    start_celery_worker()

    wait_until(lambda: delivered(order), timeout=30, what="the delivery by the new worker")
    assert_nothing_lost(hubrise_sandbox)
    assert patch_statuses(hubrise_sandbox, order) == [(200, "hang", "accepted"), (200, None, "accepted")]
    seen_by_pos = [
        (e["event"]["previous_state"]["status"], e["event"]["new_state"]["status"])
        for e in hubrise_sandbox.events(client_id=hubrise_sandbox.pos_client_id)
    ]
    status_changes = [(before, after) for before, after in seen_by_pos if before != after]
    assert status_changes == [("new", "accepted")], seen_by_pos


# 5-8: HubRise ------------------------------------------------------------------------

FIVE_FAILURES = ("500", "502", "hang", "500", "hang")


def inject_five_failures(sandbox, method: str) -> None:
    for mode in FIVE_FAILURES:
        # A hang lasts past the worker's read timeout: a timeout for us, nothing done at HubRise.
        sandbox.inject_fault(mode, method=method, path_prefix=ORDERS_PATH, seconds=2.5)


def test_five_failures_in_a_row_then_ok_deliver_a_create_and_a_status_change_once(
    hubrise_sandbox, restaurant, staff, start_celery_worker
):
    start_celery_worker(**QUICK_RETRIES)
    inject_five_failures(hubrise_sandbox, "POST")
    order = make_order(restaurant)
    wait_until(lambda: delivered(order), timeout=30, what="the create")

    posts = [(e["status"], e["fault"]) for e in reversed(hubrise_sandbox.requests_log(method="POST", path_prefix=ORDERS_PATH))]
    assert posts == [(500, "500"), (502, "502"), (None, "hang"), (500, "500"), (None, "hang"), (200, None)]
    create = OutboxMessage.objects.get(order=order, kind="create")
    outcomes = list(create.attempts_log.values_list("outcome", flat=True))
    assert outcomes == ["retry"] * 5 + ["delivered"]

    inject_five_failures(hubrise_sandbox, "PATCH")
    accepted_by_staff(staff, order)
    wait_until(lambda: delivered(order), timeout=30, what="the status change")
    assert patch_statuses(hubrise_sandbox, order) == [
        (500, "500", "accepted"),
        (502, "502", "accepted"),
        (None, "hang", "accepted"),
        (500, "500", "accepted"),
        (None, "hang", "accepted"),
        (200, None, "accepted"),
    ]
    assert_nothing_lost(hubrise_sandbox)


def test_a_create_answered_503_while_hubrise_is_down_is_posted_again_without_a_lookup(
    hubrise_sandbox, restaurant, start_celery_worker
):
    # A 503 comes from HubRise's load balancer: the API never saw the order, so there is
    # nothing to look up (a heavy call, 10 a minute) before posting it again.
    start_celery_worker(**QUICK_RETRIES)
    for _ in range(3):
        hubrise_sandbox.inject_fault("503", method="POST", path_prefix=ORDERS_PATH)
    order = make_order(restaurant)
    wait_until(lambda: delivered(order), timeout=30, what="the create")

    calls = [(e["method"], e["status"]) for e in reversed(hubrise_sandbox.requests_log(path_prefix=ORDERS_PATH))]
    assert calls == [("POST", 503), ("POST", 503), ("POST", 503), ("POST", 200)]
    assert_nothing_lost(hubrise_sandbox)


# HubRise's windows are round minutes; the sandbox's minute is shortened so that a window
# closes within seconds. Long enough for a burst to meet the limit inside one window.
RATE_WINDOW = 4.0
RATE_LIMIT = 10


def at_the_start_of_a_rate_window() -> None:
    while time.time() % RATE_WINDOW > 0.3:
        time.sleep(0.05)


def test_a_burst_over_hubrise_s_rate_limit_waits_for_the_window_and_is_delivered_in_order(
    hubrise_sandbox, restaurant, start_celery_worker
):
    start_celery_worker()
    orders = [make_order(restaurant, ref=f"W-{n}") for n in range(3)]
    wait_until(lambda: all(delivered(order) for order in orders), what="the creates")
    token = restaurant.hubrise_connection.access_token
    hubrise_sandbox.settings(rate_time_unit=RATE_WINDOW, rate_limits={"per_minute": RATE_LIMIT})

    at_the_start_of_a_rate_window()
    # Other calls made with the same token (connection checks, polling) spent this window's budget.
    for _ in range(RATE_LIMIT):
        requests.get(f"{hubrise_sandbox.api_url}/location", headers={"X-Access-Token": token}, timeout=5).raise_for_status()
    for order in orders:
        change_status(order, "accepted", source=StatusChange.Source.STAFF)
        change_status(order, "in_preparation", source=StatusChange.Source.STAFF)
    wait_until(lambda: all(delivered(order) for order in orders), timeout=30, what="every change after the window")

    for order in orders:
        sent = [
            json.loads(entry["request_body"])["status"] for entry in patches(hubrise_sandbox, order) if entry["status"] == 200
        ]
        assert sent in (["accepted", "in_preparation"], ["in_preparation"]), (order.ref, sent)
    # HubRise's 429 pauses the whole connection until its Retry-After: the other orders' calls
    # wait for the window too instead of each being refused in turn.
    tries = sorted((entry for order in orders for entry in patches(hubrise_sandbox, order)), key=lambda entry: entry["at"])
    refused = [entry for entry in tries if entry["status"] == 429]
    assert tries[0]["status"] == 429, "the window's budget was spent"
    window_end = (tries[0]["at"] // RATE_WINDOW + 1) * RATE_WINDOW
    early = [entry for entry in tries[1:] if entry["at"] < window_end and entry["status"] != 429]
    assert early == [], f"{len(early)} calls went through before the window ended"
    # At most one refused call per delivery drain that was already sending when the first 429 came.
    assert len(refused) <= 1 + settings.HUBRISE_PUSH_DELIVERERS, len(refused)
    assert all(entry["at"] >= window_end for entry in tries if entry["status"] == 200)
    assert len(refused) == DeliveryAttempt.objects.filter(http_status=429).count()
    assert_nothing_lost(hubrise_sandbox)


def test_a_422_is_shown_failed_to_staff_and_goes_out_once_after_the_fix_and_retry(hubrise_sandbox, start_celery_worker):
    establishment = make_establishment(currency="USD")  # HubRise's account is in EUR
    connect(establishment, hubrise_sandbox)
    staff = staff_client()
    staff.force_login(make_user(establishment))
    start_celery_worker()
    order = make_order(establishment)
    wait_until(lambda: OutboxMessage.objects.filter(order=order, state="failed").exists(), what="the refusal")

    page = staff.get(order_page(order)).content.decode()
    assert "sync-failed" in page
    assert "is not in the account currency EUR" in page
    assert at_hubrise(hubrise_sandbox, order) == []
    # The status change waits behind the refused create instead of failing on its own.
    accepted_by_staff(staff, order)
    time.sleep(1)
    assert OutboxMessage.objects.get(order=order, kind="update_status").attempts == 0

    # The cause: the establishment was set up in the wrong currency; an admin corrects it.
    establishment.currency = "EUR"
    establishment.save(update_fields=["currency"])
    Order.objects.filter(pk=order.pk).update(currency="EUR")
    retry = click_retry(staff, order)
    assert (retry.status_code, retry.location) == (302, order_page(order))
    wait_until(lambda: delivered(order), what="the delivery after the retry")

    assert_nothing_lost(hubrise_sandbox)
    posts = hubrise_sandbox.requests_log(method="POST", path_prefix=ORDERS_PATH)
    assert [entry["status"] for entry in reversed(posts)] == [422, 200]
    assert patch_statuses(hubrise_sandbox, order) == [(200, None, "accepted")]
    assert "sync-sent" in staff.get(order_page(order)).content.decode()


def test_a_create_that_timed_out_after_hubrise_stored_it_is_adopted_not_duplicated(
    hubrise_sandbox, restaurant, staff, start_celery_worker
):
    start_celery_worker(**QUICK_RETRIES)
    # HubRise stores the order but answers after our read timeout; the first lookup then fails too.
    hubrise_sandbox.inject_fault("hang", method="POST", path_prefix=ORDERS_PATH, seconds=2.5, processed=True)
    hubrise_sandbox.inject_fault("500", method="GET", path_prefix=ORDERS_PATH)
    order = make_order(restaurant)
    wait_until(lambda: delivered(order), what="the create")

    create = OutboxMessage.objects.get(order=order, kind="create")
    assert list(create.attempts_log.values_list("outcome", flat=True)) == ["retry", "retry", "adopted"]
    assert len(hubrise_sandbox.requests_log(method="POST", path_prefix=ORDERS_PATH)) == 1
    lookups = list(reversed(hubrise_sandbox.requests_log(method="GET", path_prefix=ORDERS_PATH)))
    assert [(e["status"], e["query"]) for e in lookups] == [(500, f"private_ref={order.uid}"), (200, f"private_ref={order.uid}")]
    assert OrderLink.objects.get(order=order).hubrise_order_id == at_hubrise(hubrise_sandbox, order)[0]["id"]

    accepted_by_staff(staff, order)
    wait_until(lambda: delivered(order), what="the status change of the adopted order")
    assert_nothing_lost(hubrise_sandbox)


def test_creates_in_doubt_after_an_outage_are_settled_with_one_listing_not_a_lookup_each(hubrise_sandbox, restaurant, settings):
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    settings.HUBRISE_READ_TIMEOUT = 1
    # HubRise stores the first seven orders but the answers never come back; the last five never reach it.
    hubrise_sandbox.inject_fault("drop", count=7, method="POST", path_prefix=ORDERS_PATH, processed=True)
    hubrise_sandbox.inject_fault("drop", count=5, method="POST", path_prefix=ORDERS_PATH)
    orders = [make_order(restaurant, ref=f"D-{n:02d}") for n in range(12)]
    outbox_drain.drain(threads=1)
    creates = OutboxMessage.objects.filter(kind="create")
    assert list(creates.values_list("state", "create_may_have_landed")) == [("pending", True)] * 12
    assert [len(at_hubrise(hubrise_sandbox, order)) for order in orders] == [1] * 7 + [0] * 5

    # HubRise is back; the retries are due. A drain claims ten at a time: the listing taken
    # for the first ten settles the last two as well.
    since = hubrise_sandbox.requests_log(limit=1)[0]["id"]
    creates.update(next_attempt_at=timezone.now())
    assert outbox_drain.drain(threads=1) == 12

    log = reversed(hubrise_sandbox.requests_log(path_prefix=ORDERS_PATH, since_id=since))
    calls = [(entry["method"], entry["query"]) for entry in log]
    lookups = [query for method, query in calls if method == "GET"]
    assert len(lookups) == 1 and "after=" in lookups[0] and "private_ref" not in lookups[0], lookups
    assert [method for method, _query in calls].count("POST") == 5, "only the orders HubRise did not store"
    assert [len(at_hubrise(hubrise_sandbox, order)) for order in orders] == [1] * 12
    outcomes = [create.attempts_log.order_by("-id").first().outcome for create in creates.order_by("id")]
    assert outcomes == ["adopted"] * 7 + ["delivered"] * 5

    # A create tried after that listing was taken is not judged by it (HubRise may have stored
    # it since): it is looked up on its own, found, and not posted twice.
    hubrise_sandbox.inject_fault("drop", method="POST", path_prefix=ORDERS_PATH, processed=True)
    late = make_order(restaurant, ref="D-late")
    outbox_drain.drain(threads=1)
    since = hubrise_sandbox.requests_log(limit=1)[0]["id"]
    OutboxMessage.objects.filter(order=late).update(next_attempt_at=timezone.now())
    assert outbox_drain.drain(threads=1) == 1
    log = reversed(hubrise_sandbox.requests_log(path_prefix=ORDERS_PATH, since_id=since))
    assert [(entry["method"], entry["query"]) for entry in log] == [("GET", f"private_ref={late.uid}")]
    assert len(at_hubrise(hubrise_sandbox, late)) == 1
    assert_nothing_lost(hubrise_sandbox)


def test_after_a_slow_answer_the_rest_of_the_round_goes_back_rather_than_out_past_its_lease(
    hubrise_sandbox, restaurant, settings
):
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    settings.HUBRISE_CONNECT_TIMEOUT = 0.5
    settings.HUBRISE_READ_TIMEOUT = 1
    # A status call may take 1.5 s: half a second into a round, a claim's lease no longer covers one.
    settings.HUBRISE_PUSH_LEASE = 2
    orders = [make_order(restaurant, ref=f"S-{n}") for n in range(4)]
    assert outbox_drain.drain(threads=1) == 4
    for order in orders:
        change_status(order, "accepted", source=StatusChange.Source.STAFF)
    hubrise_sandbox.inject_fault("hang", method="PATCH", path_prefix=ORDERS_PATH, seconds=0.8, processed=True)

    with CaptureQueriesContext(connection) as queries:
        assert outbox_drain.drain(threads=1) == 4

    # A round of four cut after its slow first call, the three others claimed again with a
    # fresh lease (in one more round, or more on a slow machine), then nothing left: sent
    # in the first round, they could have outlived their lease and been taken by another worker.
    claims = [query for query in queries.captured_queries if "SKIP LOCKED" in query["sql"]]
    assert len(claims) >= 3
    statuses = DeliveryAttempt.objects.filter(message__kind="update_status")
    assert list(statuses.values_list("outcome", flat=True)) == ["delivered"] * 4
    assert all(hubrise_status_is(hubrise_sandbox, order, "accepted") for order in orders)
    assert_nothing_lost(hubrise_sandbox)
