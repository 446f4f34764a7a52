"""Random staff clicks, POS changes, HubRise faults, retries and their interleavings always converge.

A hypothesis state machine drives one order through the real services: staff clicks
through ``change_status``; POS changes made at the HubRise sandbox, whose events reach us
later, in any order, sometimes twice, through ``inbound.receive_event``; deliveries by the
delivery drain production runs, over HTTP, sometimes answered with a 500 or a dropped
connection, and sometimes held in flight at HubRise (in a thread of their own) while
clicks and events go on. Celery tasks the code queues (HubRise asked for an order's
status after a crossing) run at once in the process; the drains are run by the machine.
Once every event has arrived and everything pending has been delivered, our status is
HubRise's, the history is an unbroken chain of changes, and the order is at HubRise once.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from itertools import pairwise

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test

from hubrise_sync import inbound
from hubrise_sync.models import Connection, OrderLink, OutboxMessage
from hubrise_sync.outbox import drain, state, wake
from orders.models import Order, StatusChange
from orders.services import change_status
from orders.status import OrderStatus, staff_transitions
from tests.factories import make_establishment, make_order

# Deliveries held in flight run in threads with connections of their own: they must see committed rows.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

STAFF = StatusChange.Source.STAFF
# Enough rounds to get past any injected fault: each round consumes at least one.
MAX_DRAIN_ROUNDS = 30
POS_STATUSES = [status for status in OrderStatus.values if status != OrderStatus.NEW]
ORDERS_PATH = "/v1/locations/"


def drain_outbox() -> None:
    """Delivers every pending message now, retries included, as the sweep and workers would."""
    for _ in range(MAX_DRAIN_ROUNDS):
        # Retries come due at once; a message out at HubRise (leased) is left to its drain.
        OutboxMessage.objects.filter(state=state.State.PENDING, leased_until__isnull=True).update(next_attempt_at=timezone.now())
        if not state.claimable(timezone.now()).exists():
            return
        drain.drain(threads=1)
    raise AssertionError("the outbox did not drain")


def assert_history_is_a_chain(order: Order) -> None:
    history = list(order.history.order_by("at", "id"))
    assert history[0].from_status == ""
    for previous, change in pairwise(history):
        assert change.from_status == previous.to_status, [(c.from_status, c.to_status, c.source) for c in history]
    assert history[-1].to_status == order.status


def pos_event(location_id: str, hubrise_order_id: str, status: str, order: Order) -> inbound.Event:
    """The order.update event HubRise sends us for a POS change made just now."""
    body = {
        "id": uuid.uuid4().hex,
        "resource_type": "order",
        "event_type": "update",
        "created_at": timezone.now().isoformat(),
        "location_id": location_id,
        "order_id": hubrise_order_id,
        "new_state": {"id": hubrise_order_id, "status": status, "private_ref": str(order.uid)},
    }
    return inbound.event_from_json(body, raw=json.dumps(body))


class HeldDelivery:
    """One drain round in a thread of its own, its call held in flight at HubRise until released."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="held-delivery")

    def _run(self) -> None:
        try:
            drain.drain(threads=1, seconds=0)
        except BaseException as error:  # reported by finish()
            self.error = error
        finally:
            connection.close()

    def start(self) -> bool:
        """Whether a call is now held (False: the round made none, or a fault answered it at once)."""
        self.sandbox.inject_fault("hold", path_prefix=ORDERS_PATH, seconds=30)
        self.thread.start()
        deadline = time.monotonic() + 10
        while self.sandbox.held_requests() == 0:
            if not self.thread.is_alive():
                self.sandbox.clear_faults()  # the unused hold must not catch a later call
                self.finish()
                return False
            assert time.monotonic() < deadline, "the drain neither ended nor reached HubRise"
            time.sleep(0.01)
        return True

    def finish(self) -> None:
        self.sandbox.release_held()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the held delivery did not end"
        if self.error is not None:
            raise self.error


class OrderAtHubRise(RuleBasedStateMachine):
    sandbox = None

    @initialize(at_hubrise_already=st.booleans())
    def open_restaurant(self, at_hubrise_already: bool) -> None:
        self.sandbox.reset()
        establishment = make_establishment()
        Connection.objects.create(
            establishment=establishment, access_token=self.sandbox.create_token(), location_id=self.sandbox.location_id
        )
        self.order = make_order(establishment)
        if at_hubrise_already:
            drain_outbox()
        self.held: HeldDelivery | None = None
        # POS changes made at HubRise whose events have not reached us yet.
        self.events_on_their_way: list[inbound.Event] = []

    def hubrise_order(self) -> dict | None:
        link = OrderLink.objects.filter(order=self.order).first()
        if link is None or not link.hubrise_order_id:
            return None
        return next(o for o in self.sandbox.orders() if o["id"] == link.hubrise_order_id)

    def current(self) -> str:
        self.order.refresh_from_db()
        return self.order.status

    @rule(data=st.data())
    def staff_clicks(self, data) -> None:
        choices = staff_transitions(self.current(), self.order.service_type)
        if not choices:
            return
        target = data.draw(st.sampled_from(choices))
        change_status(self.order, target, source=STAFF, reason="Rupture", expected_current=self.order.status)

    @rule()
    def staff_double_clicks(self) -> None:
        choices = staff_transitions(self.current(), self.order.service_type)
        if choices:
            change_status(self.order, choices[0], source=STAFF, reason="Rupture")
            change_status(self.order, choices[0], source=STAFF, reason="Rupture")

    @rule(fault=st.sampled_from(["500", "drop"]), method=st.sampled_from(["POST", "PATCH"]))
    def hubrise_fails_next_call(self, fault: str, method: str) -> None:
        self.sandbox.inject_fault(fault, method=method)

    @rule()
    def one_delivery_round(self) -> None:
        drain.drain(threads=1, seconds=0)

    @rule()
    def all_deliveries(self) -> None:
        drain_outbox()

    @precondition(lambda self: self.held is None)
    @rule()
    def a_delivery_stays_in_flight(self) -> None:
        held = HeldDelivery(self.sandbox)
        if held.start():
            self.held = held

    @precondition(lambda self: self.held is not None)
    @rule()
    def hubrise_answers_the_call_in_flight(self) -> None:
        held, self.held = self.held, None
        held.finish()

    @rule(status=st.sampled_from(POS_STATUSES))
    def pos_changes_the_order(self, status: str) -> None:
        # Our own status changes may be waiting in the outbox, or out at HubRise right now.
        remote = self.hubrise_order()
        if remote is None:
            return
        self.sandbox.change_status_as_pos(remote["id"], status)
        self.events_on_their_way.append(pos_event(self.sandbox.location_id, remote["id"], status, self.order))

    @rule(status=st.sampled_from(POS_STATUSES))
    def pos_changes_the_order_and_its_event_arrives_at_once(self, status: str) -> None:
        self.pos_changes_the_order(status)
        if self.events_on_their_way:
            assert not inbound.receive_event(self.events_on_their_way.pop(), via=inbound.Via.WEBHOOK).duplicate

    @precondition(lambda self: self.events_on_their_way)
    @rule(data=st.data(), redelivered=st.booleans())
    def an_event_arrives(self, data, redelivered: bool) -> None:
        # HubRise's events may overtake one another.
        event = self.events_on_their_way.pop(data.draw(st.integers(0, len(self.events_on_their_way) - 1)))
        assert not inbound.receive_event(event, via=inbound.Via.WEBHOOK).duplicate
        if redelivered:
            assert inbound.receive_event(event, via=inbound.Via.WEBHOOK).duplicate

    def teardown(self) -> None:
        if not hasattr(self, "order"):
            return
        if self.held is not None:
            self.held.finish()
        for event in self.events_on_their_way:
            inbound.receive_event(event, via=inbound.Via.WEBHOOK)
        drain_outbox()
        self.order.refresh_from_db()
        remote = self.hubrise_order()
        assert remote is not None, "the order never reached HubRise"
        assert remote["status"] == self.order.status
        assert len([o for o in self.sandbox.orders() if str(self.order.uid) in o["private_refs"].values()]) == 1
        assert_history_is_a_chain(self.order)
        assert not OutboxMessage.objects.filter(order=self.order, state__in=state.UNFINISHED).exists()


@pytest.fixture
def synchronous_push(settings, hubrise_sandbox, monkeypatch, worker_applies_at_once):
    """Deliveries are made by the test itself; the other tasks run at once in the process."""
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    settings.HUBRISE_CONNECT_TIMEOUT = 1
    settings.HUBRISE_READ_TIMEOUT = 2
    monkeypatch.setattr(wake, "publish", lambda message_ids: None)


def test_a_pos_change_wins_over_our_status_change_still_waiting_to_be_sent(hubrise_sandbox, synchronous_push):
    establishment = make_establishment()
    Connection.objects.create(
        establishment=establishment, access_token=hubrise_sandbox.create_token(), location_id=hubrise_sandbox.location_id
    )
    order = make_order(establishment)
    drain_outbox()
    hubrise_id = OrderLink.objects.get(order=order).hubrise_order_id
    change_status(order, "accepted", source=STAFF)  # not sent yet: HubRise is slow or down
    hubrise_sandbox.change_status_as_pos(hubrise_id, "cancelled")
    inbound.receive_event(pos_event(hubrise_sandbox.location_id, hubrise_id, "cancelled", order), via=inbound.Via.WEBHOOK)

    drain_outbox()

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert next(o for o in hubrise_sandbox.orders() if o["id"] == hubrise_id)["status"] == "cancelled"
    assert OutboxMessage.objects.get(order=order, status="accepted").state == "superseded"


def test_staff_pos_faults_retries_and_calls_in_flight_converge_on_one_status_with_a_complete_history(
    hubrise_sandbox, synchronous_push
):
    OrderAtHubRise.sandbox = hubrise_sandbox
    run_state_machine_as_test(
        OrderAtHubRise,
        settings=hypothesis_settings(
            max_examples=40,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
