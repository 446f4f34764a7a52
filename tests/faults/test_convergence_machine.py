"""Random staff clicks, POS changes, HubRise faults and retries always converge.

A hypothesis state machine drives one order through the real services: staff
clicks through ``change_status``, POS changes made at the HubRise sandbox and
received through ``inbound.receive_event`` (the webhook's own path), and
deliveries by the delivery drain production runs over HTTP, sometimes answered with a 500
or a dropped connection. Once everything pending has been delivered, our status
is HubRise's and the history is an unbroken chain of changes.
"""

from __future__ import annotations

import json
import uuid
from itertools import pairwise

import pytest
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from hubrise_sync import inbound
from hubrise_sync.models import Connection, OrderLink, OutboxMessage
from hubrise_sync.outbox import drain, state, wake
from orders.models import Order, StatusChange
from orders.services import change_status
from orders.status import OrderStatus, staff_transitions
from tests.factories import make_establishment, make_order

pytestmark = pytest.mark.django_db

STAFF = StatusChange.Source.STAFF
# Enough rounds to get past any injected fault: each round consumes at least one.
MAX_DRAIN_ROUNDS = 30
POS_STATUSES = [status for status in OrderStatus.values if status != OrderStatus.NEW]


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


class OrderAtHubRise(RuleBasedStateMachine):
    sandbox = None

    @initialize()
    def open_restaurant(self) -> None:
        self.sandbox.reset()
        establishment = make_establishment()
        Connection.objects.create(
            establishment=establishment, access_token=self.sandbox.create_token(), location_id=self.sandbox.location_id
        )
        self.order = make_order(establishment)

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
    def one_delivery_attempt(self) -> None:
        drain.drain(threads=1, seconds=0)  # one round

    @rule()
    def all_deliveries(self) -> None:
        drain_outbox()

    @rule(status=st.sampled_from(POS_STATUSES), redelivered=st.booleans())
    def pos_changes_the_order(self, status: str, redelivered: bool) -> None:
        # Our own status changes may still be waiting in the outbox: HubRise's change is newer and must win.
        remote = self.hubrise_order()
        if remote is None:
            return
        self.sandbox.change_status_as_pos(remote["id"], status)
        event = pos_event(self.sandbox.location_id, remote["id"], status, self.order)
        assert not inbound.receive_event(event, via=inbound.Via.WEBHOOK).duplicate
        if redelivered:
            assert inbound.receive_event(event, via=inbound.Via.WEBHOOK).duplicate

    def teardown(self) -> None:
        if not hasattr(self, "order"):
            return
        drain_outbox()
        self.order.refresh_from_db()
        remote = self.hubrise_order()
        assert remote is not None, "the order never reached HubRise"
        assert remote["status"] == self.order.status
        assert len([o for o in self.sandbox.orders() if str(self.order.uid) in o["private_refs"].values()]) == 1
        assert_history_is_a_chain(self.order)
        assert not OutboxMessage.objects.filter(order=self.order, state__in=state.UNFINISHED).exists()


@pytest.fixture
def synchronous_push(settings, hubrise_sandbox, monkeypatch):
    """Deliveries are made by the test itself, so nothing is handed to Celery."""
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


def test_staff_pos_faults_and_retries_converge_on_one_status_with_a_complete_history(hubrise_sandbox, synchronous_push):
    OrderAtHubRise.sandbox = hubrise_sandbox
    run_state_machine_as_test(
        OrderAtHubRise,
        settings=hypothesis_settings(
            max_examples=15,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
