"""Passive callbacks end to end against the HubRise sandbox: poll, apply, delete."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from hubrise_sync import order_updates, polling
from hubrise_sync.models import Connection, InboundEvent, PollingState
from orders.models import Order
from tests.factories import make_establishment
from tests.hubrise.callbacks import connect, pushed_order, sandbox_connection

pytestmark = pytest.mark.django_db

Outcome = InboundEvent.Outcome


@pytest.fixture
def establishment():
    return make_establishment()


@pytest.fixture
def connection(sandbox, establishment):
    return sandbox_connection(sandbox, establishment)


@pytest.fixture
def order(connection, establishment):
    return pushed_order(establishment)


def pending_at_hubrise(sandbox) -> list[str]:
    return [event["id"] for event in sandbox.events(state="pending,in_flight")]


def test_polling_applies_the_pos_changes_in_order_then_deletes_the_events(sandbox, connection, order):
    sandbox.change_status_as_pos(order.hubrise.hubrise_order_id, "accepted")
    sandbox.change_status_as_pos(order.hubrise.hubrise_order_id, "in_preparation")
    events = pending_at_hubrise(sandbox)
    assert len(events) == 2

    result = polling.poll_connection(connection)

    assert (result.applied, result.deleted, result.failed, result.error) == (events, events, [], "")
    order.refresh_from_db()
    assert order.status == "in_preparation"
    assert [(c.to_status, c.source) for c in order.history.all()] == [
        ("new", "api"),
        ("accepted", "hubrise"),
        ("in_preparation", "hubrise"),
    ]
    assert list(InboundEvent.objects.order_by("id").values_list("event_id", "via", "outcome")) == [
        (events[0], "polling", Outcome.APPLIED),
        (events[1], "polling", Outcome.APPLIED),
    ]
    assert pending_at_hubrise(sandbox) == []
    assert [event["state"] for event in sandbox.events()] == ["acknowledged", "acknowledged"]


def test_a_failing_apply_leaves_the_event_at_hubrise_and_the_next_poll_applies_it(sandbox, connection, order, monkeypatch):
    sandbox.change_status_as_pos(order.hubrise.hubrise_order_id, "accepted")
    real_change_status = order_updates.change_status

    def crash(*args, **kwargs):
        raise RuntimeError("worker crashed mid-apply")

    monkeypatch.setattr(order_updates, "change_status", crash)
    first = polling.poll_connection(connection)

    assert (len(first.failed), first.applied, first.deleted) == (1, [], [])
    assert pending_at_hubrise(sandbox) == first.failed
    assert not InboundEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == "new"

    monkeypatch.setattr(order_updates, "change_status", real_change_status)
    second = polling.poll_connection(connection)

    assert second.applied == second.deleted == first.failed
    order.refresh_from_db()
    assert order.status == "accepted"
    assert pending_at_hubrise(sandbox) == []


def test_an_event_applied_but_not_deleted_is_deleted_next_time_without_being_applied_twice(sandbox, connection, order):
    sandbox.change_status_as_pos(order.hubrise.hubrise_order_id, "accepted")
    sandbox.inject_fault("500", method="DELETE", path_prefix="/v1/callback/events")

    first = polling.poll_connection(connection)

    assert len(first.applied) == 1 and first.deleted == []
    assert "HTTP 500" in first.error
    assert pending_at_hubrise(sandbox) == first.applied

    second = polling.poll_connection(connection)

    assert (second.applied, second.deleted) == ([], first.applied)
    assert pending_at_hubrise(sandbox) == []
    order.refresh_from_db()
    assert [c.to_status for c in order.history.all()] == ["new", "accepted"]


def test_an_order_created_by_the_pos_is_imported_and_its_event_deleted(sandbox, connection):
    pos_token = sandbox.create_pos_token()
    created = requests.post(
        f"{sandbox.api_url}/location/orders",
        json={"status": "accepted", "items": [{"product_name": "Café", "price": "2.00 EUR", "quantity": "1"}]},
        headers={"X-Access-Token": pos_token},
        timeout=10,
    ).json()

    result = polling.poll_connection(connection)

    assert len(result.deleted) == 1
    event = InboundEvent.objects.get()
    assert (event.event_type, event.hubrise_order_id, event.outcome) == ("create", created["id"], Outcome.IMPORTED)
    imported = Order.objects.get()
    assert (imported.status, imported.source, imported.hubrise.hubrise_order_id) == ("accepted", "hubrise", created["id"])


def test_a_revoked_token_marks_the_connection_broken_and_stops_polling_it(sandbox, connection):
    Connection.objects.filter(pk=connection.pk).update(access_token="revoked-or-wrong")
    connection.refresh_from_db()

    result = polling.poll_connection(connection)

    assert "HTTP 401" in result.error
    connection.refresh_from_db()
    assert connection.is_broken
    assert list(polling.passive_connections()) == []


def test_each_passive_connection_is_claimed_at_most_once_per_poll_interval(sandbox, connection, settings):
    active = connect(make_establishment("La Brasserie du Port"), location_id="other-1", mode="active")

    assert polling.claim_due_connections() == [connection.pk]
    assert polling.claim_due_connections() == []

    PollingState.objects.filter(connection=connection).update(
        last_polled_at=PollingState.objects.get(connection=connection).last_polled_at
        - timedelta(seconds=settings.HUBRISE_POLL_INTERVAL)
    )
    assert polling.claim_due_connections() == [connection.pk]
    assert not PollingState.objects.filter(connection=active).exists()


def our_status_message(order):
    from hubrise_sync.models import OutboxMessage

    return OutboxMessage.objects.get(order=order, kind="update_status")


def test_a_pos_change_overtaken_at_hubrise_by_our_own_status_is_not_applied(sandbox, connection, order):
    import time

    from hubrise_sync.outbox import drain
    from orders.models import StatusChange
    from orders.services import change_status

    hubrise_id = order.hubrise.hubrise_order_id
    change_status(order, "accepted", source=StatusChange.Source.STAFF)  # our PATCH waits in the outbox
    sandbox.change_status_as_pos(hubrise_id, "in_preparation")
    time.sleep(1.1)  # HubRise stamps its events to the second: ours must land in a later one
    assert drain.drain(threads=1) == 1  # HubRise now holds "accepted", ours, set last

    polling.poll_connection(connection)

    order.refresh_from_db()
    [at_hubrise] = [o for o in sandbox.orders() if o["id"] == hubrise_id]
    assert (order.status, at_hubrise["status"]) == ("accepted", "accepted")
    event = InboundEvent.objects.get(order=order)
    assert event.outcome == Outcome.IGNORED_OUTDATED
    assert "our status accepted reached HubRise after that" in event.detail


def test_a_pos_change_in_the_same_second_as_our_status_is_settled_by_asking_hubrise(
    sandbox, connection, order, worker_applies_at_once, django_capture_on_commit_callbacks
):
    from hubrise_sync.outbox import drain
    from orders.models import StatusChange
    from orders.services import change_status

    hubrise_id = order.hubrise.hubrise_order_id
    change_status(order, "accepted", source=StatusChange.Source.STAFF)
    sandbox.change_status_as_pos(hubrise_id, "in_preparation")
    assert drain.drain(threads=1) == 1

    with django_capture_on_commit_callbacks(execute=True):
        polling.poll_connection(connection)

    # Whether HubRise's second tells them apart or not, both sides end on HubRise's last status.
    order.refresh_from_db()
    [at_hubrise] = [o for o in sandbox.orders() if o["id"] == hubrise_id]
    assert order.status == at_hubrise["status"] == "accepted"
