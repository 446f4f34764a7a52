"""Outbox messages are written with the order's change, in its transaction (no HubRise involved)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from hubrise_sync import broker, queue
from hubrise_sync.models import Connection, OrderLink, OutboxMessage
from hubrise_sync.outbox import kinds, state, sweep, wake
from orders.models import StatusChange
from orders.services import change_status
from tests.factories import make_establishment, make_order

pytestmark = pytest.mark.django_db

State = OutboxMessage.State
STAFF = StatusChange.Source.STAFF


def claim_due(limit: int = 10) -> list[state.Claim]:
    """What a delivery drain's round would take now."""
    return state.claim(limit, look_up_kinds=kinds.looked_up_before_retry())


def connect(establishment, **fields) -> Connection:
    return Connection.objects.create(establishment=establishment, access_token="tok-123456", location_id="abc12-0", **fields)


def test_without_a_connection_an_order_queues_nothing():
    order = make_order(make_establishment())
    change_status(order, "accepted", source=STAFF)
    assert not OutboxMessage.objects.exists()
    assert not OrderLink.objects.exists()


def test_a_new_order_gets_a_create_message_and_a_link_without_hubrise_id_yet():
    establishment = make_establishment()
    connect(establishment)
    order = make_order(establishment)
    (message,) = OutboxMessage.objects.all()
    assert (message.kind, message.state, message.status, message.order) == ("create", State.PENDING, "new", order)
    assert order.hubrise.location_id == "abc12-0"
    assert order.hubrise.hubrise_order_id is None


def test_the_message_is_queued_only_once_the_order_commits(django_capture_on_commit_callbacks, monkeypatch):
    published = []
    monkeypatch.setattr(wake, "publish", published.extend)
    establishment = make_establishment()
    connect(establishment)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_order(establishment)
    assert published == []
    for callback in callbacks:
        callback()
    assert published == [OutboxMessage.objects.get().pk]


def queued_drains(client) -> list[str]:
    """The delivery drains waiting in the broker's queue, by their arguments."""
    tasks = [json.loads(raw)["headers"] for raw in client.lrange("celery", 0, -1)]
    return [task["argsrepr"] for task in tasks if task["task"] == queue.DRAIN_OUTBOX]


def test_a_message_queues_a_drain_on_the_first_slot_without_one_and_none_when_all_have_one(settings):
    settings.HUBRISE_PUSH_DELIVERERS = 4
    client = broker.redis_client()
    flags = [broker.drain_flag("push", slot) for slot in range(4)]
    client.delete(*flags)
    client.set(flags[0], "1")
    client.set(flags[1], "1")
    before = queued_drains(client)
    try:
        wake.wake_deliverers()
        assert queued_drains(client) == [*before, "(2,)"]
        assert [bool(client.exists(flag)) for flag in flags] == [True, True, True, False]
        assert 0 < client.ttl(flags[2]) <= broker.DRAIN_FLAG_TTL

        client.set(flags[3], "1")
        wake.wake_deliverers()
        assert queued_drains(client) == [*before, "(2,)"], "every slot has its drain queued: nothing more"
    finally:
        client.delete(*flags)
        for raw in client.lrange("celery", 0, -1):
            if json.loads(raw)["headers"]["task"] == queue.DRAIN_OUTBOX:
                client.lrem("celery", 1, raw)


def test_a_status_change_by_staff_queues_its_status_behind_the_create():
    establishment = make_establishment()
    connect(establishment)
    order = make_order(establishment)
    change = change_status(order, "accepted", source=STAFF)
    create, update = OutboxMessage.objects.order_by("id")
    assert (update.kind, update.status, update.change) == ("update_status", "accepted", change)
    assert [claimed.message for claimed in claim_due()] == [create], "an update waits for the create"


def test_a_status_change_that_came_from_hubrise_is_not_sent_back():
    establishment = make_establishment()
    connect(establishment)
    order = make_order(establishment)
    change_status(order, "accepted", source=StatusChange.Source.HUBRISE, source_detail="Caisse")
    assert OutboxMessage.objects.filter(kind="update_status").count() == 0


def test_orders_placed_before_the_connection_existed_are_not_pushed_later():
    establishment = make_establishment()
    order = make_order(establishment)
    connect(establishment)
    change_status(order, "accepted", source=STAFF)
    assert not OutboxMessage.objects.exists()


def test_a_newer_status_replaces_the_waiting_one_so_the_last_status_goes_out():
    establishment = make_establishment()
    connect(establishment)
    order = make_order(establishment)
    change_status(order, "accepted", source=STAFF)
    change_status(order, "in_preparation", source=STAFF)
    states = list(OutboxMessage.objects.filter(kind="update_status").values_list("status", "state"))
    assert states == [("accepted", State.SUPERSEDED), ("in_preparation", State.PENDING)]


def test_a_status_being_sent_is_not_replaced_the_newer_one_waits_behind_it():
    establishment = make_establishment()
    connect(establishment)
    order = make_order(establishment)
    OutboxMessage.objects.filter(kind="create").update(state=State.DELIVERED)
    change_status(order, "accepted", source=STAFF)
    [claimed] = claim_due()
    change_status(order, "in_preparation", source=STAFF)
    assert OutboxMessage.objects.get(pk=claimed.message.pk).state == State.PENDING
    assert OutboxMessage.objects.get(status="in_preparation").state == State.PENDING
    assert claim_due() == [], "the newer status waits behind the one being sent"


def test_a_claimed_message_is_not_claimed_again_until_its_lease_ends():
    establishment = make_establishment()
    connect(establishment)
    make_order(establishment)
    [first] = claim_due()
    assert claim_due() == []
    OutboxMessage.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    [again] = claim_due()
    assert again.message.pk == first.message.pk
    assert again.look_up_first, "the first worker may have posted it before dying"


def test_messages_of_a_broken_connection_are_held_and_released_when_it_is_healthy():
    establishment = make_establishment()
    connection = connect(establishment, last_failed_at=timezone.now(), last_failed_reason="HTTP 401: revoked")
    make_order(establishment)
    assert OutboxMessage.objects.get().state == State.HELD
    connection.mark_healthy()
    assert sweep.release_held_messages(connection) == 1
    assert OutboxMessage.objects.get().state == State.PENDING


def test_the_sweep_queues_due_messages_once_and_releases_held_ones(monkeypatch):
    published = []
    monkeypatch.setattr(wake, "publish", published.extend)
    establishment = make_establishment()
    connection = connect(establishment, last_failed_at=timezone.now())
    make_order(establishment)
    assert sweep.sweep() == 0
    Connection.objects.filter(pk=connection.pk).update(last_failed_at=None)
    assert sweep.sweep() == 1
    assert sweep.sweep() == 0, "already queued"
    assert published == [OutboxMessage.objects.get().pk]


def test_retry_delays_grow_exponentially_with_jitter_up_to_the_cap(settings):
    settings.HUBRISE_PUSH_BACKOFF_BASE = 2
    settings.HUBRISE_PUSH_BACKOFF_CAP = 600
    assert 1 <= state.retry_delay(1) <= 2
    assert 4 <= state.retry_delay(3) <= 8
    assert 300 <= state.retry_delay(40) <= 600
    assert 30 <= state.retry_delay(1, retry_after=30) <= 31
