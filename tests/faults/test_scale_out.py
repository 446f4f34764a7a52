"""Scale-out: two Celery worker processes on one PostgreSQL and one Redis share the outbox.

50 orders, each moved through three statuses while both workers deliver: HubRise
gets each order once, and each order's status changes in the order they were made.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from hubrise_sync import push
from hubrise_sync.models import Connection, OrderLink, OutboxMessage
from orders.models import StatusChange
from orders.services import change_status
from orders.status import next_usual_step
from tests.factories import make_establishment, make_order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ORDERS = 50
STATUS_CHANGES = 3
ORDERS_PATH = "/v1/locations/"
DELIVERED_BY_WORKER = re.compile(r"Task hubrise_sync\.push\.deliver\[[0-9a-f-]+\] succeeded")


def wait_for_outbox_to_drain(timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while OutboxMessage.objects.filter(state__in=push.UNFINISHED).exists():
        if time.monotonic() > deadline:
            left = list(OutboxMessage.objects.filter(state__in=push.UNFINISHED).values_list("order_id", "status", "state"))
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

    ours = {str(order.uid): order for order in orders}
    at_hubrise = [o for o in hubrise_sandbox.orders() if set(o["private_refs"].values()) & ours.keys()]
    assert len(at_hubrise) == ORDERS
    assert len({ref for o in at_hubrise for ref in o["private_refs"].values()} & ours.keys()) == ORDERS
    assert len(hubrise_sandbox.requests_log(method="POST", path_prefix=ORDERS_PATH, limit=2000)) == ORDERS
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

    for worker in workers:
        assert DELIVERED_BY_WORKER.search(worker.log()), "each worker delivered some of the messages"
