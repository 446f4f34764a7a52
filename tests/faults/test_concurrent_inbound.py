"""Concurrent deliveries on PostgreSQL: the same HubRise event twice at once, and a POS change racing a double click.

Each racer runs in its own thread with its own database connection, released
together by a barrier, so the row locks and the unique event id do the work.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from itertools import pairwise

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from hubrise_sync.models import InboundEvent, OrderLink
from orders.models import Order, StatusChange
from orders.services import StaleStatus, change_status
from tests.factories import make_establishment
from tests.hubrise.callbacks import SECRET, connect, linked_order, post_callback

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

ROUNDS = 10


@pytest.fixture(autouse=True)
def client_secret(settings, worker_applies_at_once):
    settings.HUBRISE_CLIENT_SECRET = SECRET


def race(*racers: Callable[[], object]) -> list[object]:
    """Runs the racers at once; returns what each returned or raised."""
    barrier = threading.Barrier(len(racers))
    results: list[object] = [None] * len(racers)

    def run(position: int, racer: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[position] = racer()
        except Exception as error:
            results[position] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, racer)) for i, racer in enumerate(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def update_event(order: Order, status: str) -> bytes:
    link = OrderLink.objects.get(order=order)
    hubrise_id = link.hubrise_order_id
    body = {
        "id": uuid.uuid4().hex[:12],
        "resource_type": "order",
        "event_type": "update",
        "created_at": timezone.now().isoformat(),
        "order_id": hubrise_id,
        "location_id": link.location_id,
        "new_state": {"id": hubrise_id, "status": status, "private_ref": str(order.uid)},
    }
    return json.dumps(body).encode()


def history_of(order: Order) -> list[StatusChange]:
    return list(order.history.order_by("at", "id"))


def assert_history_is_a_chain(order: Order) -> None:
    history = history_of(order)
    for previous, change in pairwise(history):
        assert change.from_status == previous.to_status, [(c.from_status, c.to_status) for c in history]
    assert history[-1].to_status == order.status


def test_the_same_event_delivered_twice_at_once_is_applied_once_and_the_other_is_already_received():
    establishment = make_establishment()
    connect(establishment)
    for round_number in range(ROUNDS):
        order = linked_order(establishment, hubrise_order_id=f"race{round_number}", placed_at=timezone.now())
        body = update_event(order, "accepted")

        def deliver(body: bytes = body) -> object:
            return post_callback(Client(), body)

        first, second = race(deliver, deliver)

        assert [first.status_code, second.status_code] == [200, 200], [first.content, second.content]
        results = sorted(response.json()["result"] for response in (first, second))
        assert results == ["already received", "received"]
        event_id = json.loads(body)["id"]
        assert list(InboundEvent.objects.filter(event_id=event_id).values_list("outcome", flat=True)) == ["applied"]
        order.refresh_from_db()
        assert order.status == "accepted"
        assert [(c.from_status, c.to_status, c.source) for c in history_of(order)] == [
            ("", "new", "api"),
            ("new", "accepted", "hubrise"),
        ]


def test_a_pos_change_racing_a_staff_double_click_leaves_one_winner_and_an_unbroken_history():
    establishment = make_establishment()
    connect(establishment)
    for round_number in range(ROUNDS):
        order = linked_order(establishment, hubrise_order_id=f"click{round_number}", placed_at=timezone.now())
        # The POS cancels just before the cook's click, whose page still shows "new".
        body = update_event(order, "cancelled")

        def deliver(body: bytes = body) -> object:
            return post_callback(Client(), body)

        def click(order_id: int = order.pk) -> object:
            return change_status(order_id, "accepted", source=StatusChange.Source.STAFF, expected_current="new")

        webhook, *clicks = race(deliver, click, click)

        assert webhook.status_code == 200
        order.refresh_from_db()
        assert_history_is_a_chain(order)
        staff_changes = [c for c in history_of(order) if c.source == StatusChange.Source.STAFF]
        outcome = InboundEvent.objects.get(event_id=webhook.json()["event"]).outcome
        if outcome == "applied":
            # The POS change came first: the clicks were made on a page that was no longer true.
            assert order.status == "cancelled"
            assert staff_changes == []
            assert all(isinstance(result, StaleStatus) for result in clicks)
        else:
            # The click came first: the older POS change must not roll it back.
            assert outcome == "ignored_outdated"
            assert order.status == "accepted"
            assert len(staff_changes) == 1
            assert sorted(type(result).__name__ for result in clicks) == ["NoneType", "StatusChange"]


def test_a_double_click_from_the_same_page_is_answered_already_done_not_stale():
    establishment = make_establishment()
    connect(establishment)
    order = linked_order(establishment, placed_at=timezone.now())
    change_status(order.pk, "accepted", source=StatusChange.Source.STAFF, expected_current="new")

    assert change_status(order.pk, "accepted", source=StatusChange.Source.STAFF, expected_current="new") is None
    with pytest.raises(StaleStatus):
        change_status(order.pk, "received", source=StatusChange.Source.STAFF, expected_current="new")
