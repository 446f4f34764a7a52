"""A pause, busy mode or preparation time set at HubRise (the POS) shows up here: ``location.update``
delivered by webhook to our live server (applied by a real worker) or fetched by passive polling."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hubrise_sync import polling
from hubrise_sync.models import ConnectionMessage, InboundEvent
from orders import acceptance
from orders.models import Establishment, Membership, StatusChange
from tests.factories import make_establishment, make_user
from tests.hubrise.callbacks import sandbox_connection
from tests.hubrise.location import location_patches
from tests.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def manager(client):
    establishment = make_establishment()
    client.force_login(make_user(establishment, role=Membership.Role.MANAGER))
    return establishment


def test_a_pause_set_at_the_pos_arrives_by_webhook_shows_here_and_is_not_sent_back(
    sandbox, manager, client, live_server, celery_worker
):
    connection = sandbox_connection(sandbox, manager, url=live_server.url + reverse("hubrise:callback"))
    resume_at = (timezone.now() + timedelta(minutes=45)).replace(microsecond=0)

    sandbox.patch_location_as_pos(
        order_acceptance={"mode": "paused", "resume_at": resume_at.isoformat(), "reason": "Panne du four"}
    )

    wait_until(lambda: Establishment.objects.get(pk=manager.pk).acceptance == "paused", what="the pause here")
    establishment = Establishment.objects.get(pk=manager.pk)
    assert (establishment.acceptance_until, establishment.pause_reason) == (resume_at, "Panne du four")
    assert establishment.acceptance_changed_source == StatusChange.Source.HUBRISE
    event = InboundEvent.objects.get(resource_type="location")
    assert (event.via, event.outcome, event.connection_id) == ("webhook", "applied", connection.pk)
    page = client.get(reverse("orders:list", args=[manager.pk])).content.decode()
    assert "Panne du four" in page and "service-paused" in page
    assert not ConnectionMessage.objects.filter(connection=connection).exists()
    assert location_patches(sandbox) == []


def test_busy_mode_and_preparation_time_set_at_the_pos_arrive_by_polling(sandbox, manager):
    connection = sandbox_connection(sandbox, manager)
    sandbox.patch_location_as_pos(
        preparation_time=35, order_acceptance={"mode": "busy", "extra_preparation_time": 15, "resume_at": None}
    )

    result = polling.poll_connection(connection)

    assert len(result.applied) == 1
    establishment = Establishment.objects.get(pk=manager.pk)
    assert (establishment.acceptance, establishment.busy_extra_time, establishment.preparation_time) == ("busy", 15, 35)
    assert establishment.acceptance_until is None
    assert not ConnectionMessage.objects.filter(connection=connection).exists()


def test_a_pos_change_older_than_ours_does_not_undo_ours(sandbox, manager):
    connection = sandbox_connection(sandbox, manager)
    sandbox.patch_location_as_pos(order_acceptance={"mode": "paused", "reason": "Vieille pause"})
    # Surely later: HubRise's event times have whole seconds.
    time.sleep(1.1)
    acceptance.resume_orders(manager, source=StatusChange.Source.STAFF)

    polling.poll_connection(connection)

    assert Establishment.objects.get(pk=manager.pk).acceptance == "online"
    assert InboundEvent.objects.get(resource_type="location").outcome == "ignored_outdated"


def test_an_event_about_the_opening_hours_leaves_our_pause_alone(sandbox, manager):
    connection = sandbox_connection(sandbox, manager)
    # Ours, still on its way to HubRise (no worker here): HubRise has the location online.
    acceptance.pause_orders(manager, until=timezone.now() + timedelta(minutes=30), source=StatusChange.Source.STAFF)
    sandbox.patch_location_as_pos(opening_hours={"monday": [{"from": "11:00", "to": "15:00"}]})

    polling.poll_connection(connection)

    assert Establishment.objects.get(pk=manager.pk).acceptance == "paused"
    assert InboundEvent.objects.get(resource_type="location").outcome == "no_change"


def location_event(connection, number: int, at, previous: dict, new: dict):
    """A location.update as HubRise sends it (the sandbox's shape), built here to deliver two out of order."""
    from hubrise_sync import inbound

    body = {
        "id": f"loc-event-{number}",
        "resource_type": "location",
        "event_type": "update",
        "created_at": at.isoformat(),
        "location_id": connection.location_id,
        "previous_state": {"id": connection.location_id, "preparation_time": 20, "order_acceptance": previous},
        "new_state": {"id": connection.location_id, "preparation_time": 20, "order_acceptance": new},
    }
    return inbound.event_from_json(body, json.dumps(body))


def test_two_pos_changes_applied_newest_first_leave_the_newest(sandbox, manager):
    from hubrise_sync import inbound

    connection = sandbox_connection(sandbox, manager)
    now = timezone.now().replace(microsecond=0)
    paused, online = {"mode": "paused", "resume_at": None, "reason": "Four en panne"}, {"mode": "online"}
    older = location_event(connection, 1, now - timedelta(seconds=5), online, paused)
    newer = location_event(connection, 2, now - timedelta(seconds=2), paused, online)

    inbound.receive_event(newer, via=inbound.Via.POLLING, connection=connection)
    inbound.receive_event(older, via=inbound.Via.POLLING, connection=connection)

    assert Establishment.objects.get(pk=manager.pk).acceptance == "online"
    outcomes = dict(InboundEvent.objects.filter(resource_type="location").values_list("event_id", "outcome"))
    assert outcomes == {"loc-event-2": "no_change", "loc-event-1": "ignored_outdated"}
