"""The connection outbox delivers a connection's latest state to HubRise, whatever goes wrong.

A real Celery worker (with its beat) on Redis and PostgreSQL, the HubRise sandbox over
HTTP; the topic is the location (its preparation time here, changed behind the
service's back so that only the test asks for sends). What is checked is what
HubRise holds and what the settings page says.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests
from django.db import transaction
from django.urls import reverse

from hubrise_sync.connection_outbox.request import request_send
from hubrise_sync.models import Connection, ConnectionMessage
from hubrise_sync.outbox import sweep
from orders.models import Establishment, Membership
from tests.factories import make_establishment, make_user
from tests.faults.nothing_lost import connect
from tests.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def restaurant(hubrise_sandbox):
    establishment = make_establishment()
    return establishment, connect(establishment, hubrise_sandbox)


def change_preparation_time(connection: Connection, minutes: int, *, delay: timedelta | None = None) -> None:
    with transaction.atomic():
        Establishment.objects.filter(pk=connection.establishment_id).update(preparation_time=minutes)
        request_send(connection, "location", delay=delay)


def location_patches(sandbox) -> list[dict]:
    """The location PATCHes HubRise took, oldest first."""
    log = sandbox.requests_log(method="PATCH", path_prefix="/v1/locations/", status=200, limit=100)
    return [json.loads(entry["request_body"]) for entry in reversed(log)]


def row(connection: Connection) -> ConnectionMessage:
    return ConnectionMessage.objects.get(connection=connection, topic="location")


def up_to_date(connection: Connection) -> bool:
    return row(connection).state == "delivered"


def settings_page(client, establishment) -> str:
    return client.get(reverse("hubrise:settings", args=[establishment.pk])).content.decode()


def test_changes_made_in_one_window_reach_hubrise_in_one_call_with_the_latest_state(hubrise_sandbox, restaurant, celery_worker):
    _establishment, connection = restaurant
    for minutes in (25, 30, 35):
        change_preparation_time(connection, minutes, delay=timedelta(seconds=2))

    wait_until(lambda: hubrise_sandbox.location()["preparation_time"] == 35, what="the latest time at HubRise")
    wait_until(lambda: up_to_date(connection), what="the topic recorded as up to date")
    assert [patch["preparation_time"] for patch in location_patches(hubrise_sandbox)] == [35]
    message = row(connection)
    assert (message.requested_version, message.sent_version) == (3, 3)
    assert message.last_payload["preparation_time"] == 35


def test_a_change_made_while_the_call_is_out_is_sent_afterwards(hubrise_sandbox, restaurant, celery_worker):
    _establishment, connection = restaurant
    hubrise_sandbox.inject_fault("hold", method="PATCH", path_prefix="/v1/locations/")
    change_preparation_time(connection, 25)
    wait_until(lambda: hubrise_sandbox.held_requests() == 1, what="the first PATCH at HubRise")

    change_preparation_time(connection, 40)
    hubrise_sandbox.release_held()

    wait_until(lambda: hubrise_sandbox.location()["preparation_time"] == 40, what="the newer time at HubRise")
    wait_until(lambda: up_to_date(connection), what="the topic recorded as up to date")
    assert [patch["preparation_time"] for patch in location_patches(hubrise_sandbox)] == [25, 40]


def test_hubrise_out_of_reach_is_retried_until_it_takes_the_change(hubrise_sandbox, restaurant, client, celery_worker):
    establishment, connection = restaurant
    client.force_login(make_user(establishment, role=Membership.Role.MANAGER))
    hubrise_sandbox.inject_fault("503", count=3, method="PATCH", path_prefix="/v1/locations/")

    change_preparation_time(connection, 45)

    wait_until(lambda: row(connection).attempts >= 2, what="two failed tries")
    page = settings_page(client, establishment)
    assert "Emplacement HubRise\u00a0: en attente (" in page and "essais, dernière erreur\u00a0:" in page
    wait_until(lambda: hubrise_sandbox.location()["preparation_time"] == 45, what="the time at HubRise")
    wait_until(lambda: up_to_date(connection), what="the topic recorded as up to date")
    assert "Emplacement HubRise\u00a0: à jour" in settings_page(client, establishment)
    tries = hubrise_sandbox.requests_log(method="PATCH", path_prefix="/v1/locations/")
    assert sorted(entry["status"] for entry in tries) == [200, 503, 503, 503]


def test_a_refusal_fails_the_topic_until_a_new_change_or_the_retry_button(hubrise_sandbox, restaurant, client, celery_worker):
    establishment, connection = restaurant
    client.force_login(make_user(establishment, role=Membership.Role.MANAGER))
    right_location = connection.location_id
    other_location = hubrise_sandbox.locations()[1]["id"]
    Connection.objects.filter(pk=connection.pk).update(location_id=other_location)
    connection.location_id = other_location

    change_preparation_time(connection, 50)

    wait_until(lambda: row(connection).state == "failed", what="the refusal recorded")
    message = row(connection)
    assert message.last_status_code == 403
    assert other_location in message.last_error
    page = settings_page(client, establishment)
    assert "Emplacement HubRise\u00a0: refusé par HubRise (" in page
    assert reverse("hubrise:retry_topic", args=[establishment.pk, "location"]) in page

    # The cause fixed, a new change sends the current state.
    Connection.objects.filter(pk=connection.pk).update(location_id=right_location)
    connection.location_id = right_location
    change_preparation_time(connection, 55)
    wait_until(lambda: hubrise_sandbox.location()["preparation_time"] == 55, what="the time at HubRise")

    # Refused again, then the manager's button sends it once the cause is gone.
    Connection.objects.filter(pk=connection.pk).update(location_id=other_location)
    connection.location_id = other_location
    change_preparation_time(connection, 60)
    wait_until(lambda: row(connection).state == "failed", what="the second refusal")
    Connection.objects.filter(pk=connection.pk).update(location_id=right_location)
    response = client.post(reverse("hubrise:retry_topic", args=[establishment.pk, "location"]), follow=True)
    assert "Emplacement HubRise sera de nouveau envoyé à HubRise." in response.content.decode()
    wait_until(lambda: hubrise_sandbox.location()["preparation_time"] == 60, what="the retried time at HubRise")


def test_a_revoked_token_holds_the_topic_until_the_connection_is_repaired(hubrise_sandbox, restaurant, celery_worker):
    _establishment, connection = restaurant
    requests.post(
        f"{hubrise_sandbox.oauth_url}/revoke",
        data={"token": connection.access_token},
        auth=(hubrise_sandbox.client_id, hubrise_sandbox.client_secret),
        timeout=5,
    ).raise_for_status()

    change_preparation_time(connection, 65)
    wait_until(lambda: row(connection).state == "held", what="the topic held")
    connection.refresh_from_db()
    assert connection.is_broken
    change_preparation_time(connection, 70)
    assert row(connection).state == "held"

    # What the OAuth flow does on reconnection: a new token, the connection healthy, held work released.
    connection.access_token = hubrise_sandbox.create_token()
    connection.save(update_fields=["access_token"])
    connection.mark_healthy()
    sweep.release_held_messages(connection)

    wait_until(lambda: hubrise_sandbox.location()["preparation_time"] == 70, what="the latest time at HubRise")
    wait_until(lambda: up_to_date(connection), what="the topic recorded as up to date")
