"""Reconciliation against the HubRise sandbox: missed callbacks are caught up, within a small budget."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F

from hubrise_sync import reconcile
from hubrise_sync.models import InboundEvent, ReconcileCheck
from hubrise_sync.outbox import drain
from orders.models import StatusChange
from orders.services import change_status
from tests.factories import make_establishment
from tests.hubrise.callbacks import connect, pushed_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def establishment():
    return make_establishment()


@pytest.fixture
def connection(sandbox, establishment):
    # No callback at all: every change made by the POS is a missed callback.
    return connect(establishment, location_id=sandbox.location_id, mode="none", token=sandbox.create_token())


def order_gets(sandbox) -> list[str]:
    """HubRise order ids our app GET, oldest first."""
    log = sandbox.requests_log(method="GET", client_name="Get Resto")
    return [entry["path"].rsplit("/", 1)[-1] for entry in reversed(log) if "/orders/" in entry["path"]]


def test_a_status_change_whose_callback_was_missed_is_applied_by_reconciliation(sandbox, connection, establishment):
    order = pushed_order(establishment)
    sandbox.change_status_as_pos(order.hubrise.hubrise_order_id, "accepted")

    result = reconcile.reconcile_connection(connection)

    assert result.applied == [order.pk]
    order.refresh_from_db()
    assert order.status == "accepted"
    assert order.history.last().source == StatusChange.Source.HUBRISE
    event = InboundEvent.objects.get()
    assert (event.via, event.outcome, event.new_status, event.order) == ("reconciliation", "applied", "accepted", order)
    assert ReconcileCheck.objects.get(order=order).last_result.startswith("Applied")


def test_an_order_whose_own_change_is_not_yet_at_hubrise_is_left_alone(sandbox, connection, establishment):
    order = pushed_order(establishment)
    # Staff accepted it here; the push has not run yet, so HubRise still says "new".
    change_status(order, "accepted", source=StatusChange.Source.STAFF)

    result = reconcile.reconcile_connection(connection)

    assert result.checked == []
    assert order_gets(sandbox) == []
    order.refresh_from_db()
    assert order.status == "accepted"


def test_an_order_with_the_same_status_is_only_marked_checked(sandbox, connection, establishment):
    order = pushed_order(establishment)

    result = reconcile.reconcile_connection(connection)

    assert (result.checked, result.applied) == ([order.pk], [])
    assert not InboundEvent.objects.exists()
    assert ReconcileCheck.objects.get(order=order).last_result == "Same status (new)"


def test_a_finished_order_is_checked_once_after_it_finished_then_left_alone(sandbox, connection, establishment):
    order = pushed_order(establishment)
    change_status(order, "cancelled", source=StatusChange.Source.ADMIN, reason="Test")
    assert list(reconcile.orders_to_check(connection, 10)) == [], "its cancel is not at HubRise yet"
    drain.drain(threads=1)

    assert reconcile.reconcile_connection(connection).checked == [order.pk]
    assert reconcile.reconcile_connection(connection).checked == []
    assert order_gets(sandbox) == [order.hubrise.hubrise_order_id]


def test_a_finished_order_hubrise_holds_otherwise_is_brought_to_hubrise_s_status(sandbox, connection, establishment):
    order = pushed_order(establishment)
    change_status(order, "cancelled", source=StatusChange.Source.STAFF, reason="Rupture")
    drain.drain(threads=1)
    # A change at HubRise after ours whose callback never came (this connection has none).
    sandbox.change_status_as_pos(order.hubrise.hubrise_order_id, "accepted")

    result = reconcile.reconcile_connection(connection)

    assert result.applied == [order.pk]
    order.refresh_from_db()
    assert order.status == "accepted"
    assert [(c.to_status, c.source) for c in order.history.all()][-2:] == [("cancelled", "staff"), ("accepted", "hubrise")]
    assert reconcile.reconcile_connection(connection).checked == [order.pk], "unfinished again: checked as usual"


def test_each_run_checks_the_least_recently_checked_orders_within_its_budget(sandbox, connection, establishment):
    first, second, third = (pushed_order(establishment) for _ in range(3))
    hubrise_id = {order.pk: order.hubrise.hubrise_order_id for order in (first, second, third)}

    reconcile.reconcile_connection(connection, limit=2)
    reconcile.reconcile_connection(connection, limit=2)

    assert order_gets(sandbox) == [hubrise_id[first.pk], hubrise_id[second.pk], hubrise_id[third.pk], hubrise_id[first.pk]]


def test_the_default_budget_is_a_tenth_of_hubrise_daily_limit_spread_over_the_runs(settings):
    settings.HUBRISE_RECONCILE_BUDGET_PER_DAY = 1000
    settings.HUBRISE_RECONCILE_INTERVAL = 300

    assert reconcile.orders_per_run() == 3  # 288 runs a day: 864 calls, under 1,000 (10% of 10,000)


def test_runs_more_frequent_than_the_budget_allows_skip_until_the_spacing_has_passed(
    sandbox, connection, establishment, settings
):
    settings.HUBRISE_RECONCILE_BUDGET_PER_DAY = 1000  # one order every 86.4 s
    settings.HUBRISE_RECONCILE_INTERVAL = 30
    pushed_order(establishment)
    pushed_order(establishment)

    assert len(reconcile.reconcile_connection(connection).checked) == 1
    assert reconcile.reconcile_connection(connection).checked == []

    ReconcileCheck.objects.update(last_checked_at=F("last_checked_at") - timedelta(seconds=87))
    assert len(reconcile.reconcile_connection(connection).checked) == 1
