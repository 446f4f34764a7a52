"""Scale-out: several web and Celery worker processes on one PostgreSQL and one Redis.

Two workers share the outbox: 50 orders, each moved through three statuses while
both deliver. Then two gunicorn processes (separate ports) share the traffic too:
orders come in through the intake API and staff change their statuses on the order
pages, each order's requests alternating between the two servers, while two workers
deliver. Either way HubRise gets each order once, each order's status changes in the
order they were made, and nothing is lost.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from hubrise_sync.models import Connection, OrderLink, OutboxMessage
from hubrise_sync.outbox import state
from orders.models import ApiKey, Order, StatusChange
from orders.services import change_status
from orders.status import next_usual_step
from tests.factories import make_establishment, make_order, make_user
from tests.processes import wait_until
from tests.web_fixture import logged_in_session

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ORDERS = 50
STATUS_CHANGES = 3
ORDERS_PATH = "/v1/locations/"


def wait_for_outbox_to_drain(timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while OutboxMessage.objects.filter(state__in=state.UNFINISHED).exists():
        if time.monotonic() > deadline:
            left = list(OutboxMessage.objects.filter(state__in=state.UNFINISHED).values_list("order_id", "status", "state"))
            raise AssertionError(f"messages still unsent: {left[:10]}")
        time.sleep(0.2)


def test_two_workers_deliver_every_order_once_and_each_order_s_statuses_in_order(hubrise_sandbox, start_celery_worker):
    establishment = make_establishment()
    Connection.objects.create(
        establishment=establishment, access_token=hubrise_sandbox.create_token(), location_id=hubrise_sandbox.location_id
    )
    workers = [start_celery_worker(), start_celery_worker()]
    orders = [make_order(establishment, ref=f"S-{n:02d}") for n in range(ORDERS)]
    flows = {}
    for order in orders:
        flows[order.pk] = [order.status]
    for _ in range(STATUS_CHANGES):
        for order in orders:
            target = next_usual_step(order.status, order.service_type)
            change_status(order, target, source=StatusChange.Source.STAFF)
            flows[order.pk].append(target)

    wait_for_outbox_to_drain()

    assert_each_order_reached_hubrise_once_with_its_statuses_in_order(hubrise_sandbox, orders, flows)
    assert_each_worker_delivered_some(workers)


def assert_each_worker_delivered_some(workers) -> None:
    # A drain's line reaches its worker's log once the drain has ended, a moment after its last delivery.
    wait_until(lambda: all(any(worker.sent_by_drains()) for worker in workers), timeout=10, what="each worker's deliveries")


def assert_each_order_reached_hubrise_once_with_its_statuses_in_order(
    hubrise_sandbox, orders: list[Order], flows: dict[int, list[str]]
) -> None:
    """No duplicate at HubRise, no status change sent twice or out of order, and the last one arrived."""
    ours = {str(order.uid): order for order in orders}
    at_hubrise = [o for o in hubrise_sandbox.orders() if set(o["private_refs"].values()) & ours.keys()]
    assert len(at_hubrise) == len(orders)
    assert len({ref for o in at_hubrise for ref in o["private_refs"].values()} & ours.keys()) == len(orders)
    assert len(hubrise_sandbox.requests_log(method="POST", path_prefix=ORDERS_PATH, limit=2000)) == len(orders)
    for remote in at_hubrise:
        order = next(ours[ref] for ref in remote["private_refs"].values() if ref in ours)
        assert remote["status"] == flows[order.pk][-1]

    order_of_hubrise_id = dict(OrderLink.objects.values_list("hubrise_order_id", "order_id"))
    sent: dict[int, list[str]] = {pk: [] for pk in flows}
    for entry in reversed(hubrise_sandbox.requests_log(method="PATCH", limit=2000)):
        assert entry["status"] == 200, entry
        hubrise_id = re.search(r"/orders/([^/?]+)$", entry["path"]).group(1)
        sent[order_of_hubrise_id[hubrise_id]].append(json.loads(entry["request_body"])["status"])
    for order_id, statuses in sent.items():
        flow = flows[order_id]
        positions = [flow.index(status) for status in statuses]
        # Waiting changes may be superseded by newer ones, but never sent twice or out of order.
        assert positions == sorted(set(positions)), (flow, statuses)
        assert statuses and statuses[-1] == flow[-1]
    assert (
        not OutboxMessage.objects.filter(order__in=orders)
        .exclude(state__in=(OutboxMessage.State.DELIVERED, OutboxMessage.State.SUPERSEDED))
        .exists()
    )


WEB_ORDERS = 40
WEB_CLIENTS = 4
INTAKE_BODY = {
    "status": "new",
    "service_type": "eat_in",
    "items": [{"product_name": "Croque-monsieur", "sku_ref": "CROQ-M", "price": "9.50 EUR", "quantity": "2"}],
    "custom_fields": {"restaurant": {"table_name": "12"}},
}


def test_two_web_processes_and_two_workers_take_orders_and_clicks_and_deliver_each_order_once_in_order(
    hubrise_sandbox, start_celery_worker, start_gunicorn
):
    establishment = make_establishment()
    Connection.objects.create(
        establishment=establishment, access_token=hubrise_sandbox.create_token(), location_id=hubrise_sandbox.location_id
    )
    _key, raw_key = ApiKey.generate(establishment, "QR menu")
    make_user(establishment)
    workers = [start_celery_worker(), start_celery_worker()]
    webs = [start_gunicorn(), start_gunicorn()]
    # Logged in on one server, the same staff session works on the other: sessions live in the database.
    cookies = logged_in_session(webs[0].base_url).cookies
    served: Counter[str] = Counter()
    lock = threading.Lock()

    def place_and_move(number: int) -> tuple[int, list[str]]:
        """An order from the ordering front, then a cook's three clicks; request k goes to server (number + k) % 2."""

        def web(step: int) -> str:
            base_url = webs[(number + step) % 2].base_url
            with lock:
                served[base_url] += 1
            return base_url

        with requests.Session() as session:
            session.cookies.update(cookies)
            created = session.post(
                f"{web(0)}/api/v1/orders/", json=INTAKE_BODY, headers={"Authorization": f"Api-Key {raw_key}"}, timeout=20
            )
            assert created.status_code == 201, created.text
            order_id, status = created.json()["id"], created.json()["status"]
            flow = [status]
            for step in (1, 2, 3):
                target = next_usual_step(status, "eat_in")
                clicked = session.post(
                    f"{web(step)}/e/{establishment.pk}/orders/{order_id}/status/",
                    data={"status": target, "expected_current": status, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
                    allow_redirects=False,
                    timeout=20,
                )
                assert clicked.status_code == 302, clicked.text[:500]
                status = target
                flow.append(status)
        return order_id, flow

    with ThreadPoolExecutor(WEB_CLIENTS) as clients:
        flows = dict(clients.map(place_and_move, range(WEB_ORDERS)))

    assert sorted(served.values()) == [WEB_ORDERS * 2, WEB_ORDERS * 2]
    orders = list(Order.objects.filter(establishment=establishment))
    assert sorted(order.pk for order in orders) == sorted(flows)
    # Every request was applied once, by whichever server took it.
    assert len({order.ref for order in orders}) == WEB_ORDERS
    for order in orders:
        assert [change.to_status for change in order.history.order_by("at", "id")] == flows[order.pk]
        assert order.status == flows[order.pk][-1]

    wait_for_outbox_to_drain()
    assert_each_order_reached_hubrise_once_with_its_statuses_in_order(hubrise_sandbox, orders, flows)
    assert_each_worker_delivered_some(workers)
