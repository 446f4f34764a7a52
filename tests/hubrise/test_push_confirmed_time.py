"""The confirmed time changed on the order page reaches HubRise as a PATCH of its own: the outbox's third kind."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hubrise_sync.models import OutboxMessage
from hubrise_sync.outbox import drain
from orders.models import Membership, StatusChange
from orders.services import accept_order, change_status, set_ready_time
from tests.factories import make_establishment, make_user
from tests.faults.nothing_lost import at_hubrise, connect
from tests.hubrise.callbacks import pushed_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def restaurant(hubrise_sandbox, settings):
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    establishment = make_establishment()
    connect(establishment, hubrise_sandbox)
    return establishment


@pytest.fixture
def cook(client, restaurant):
    client.force_login(make_user(restaurant, role=Membership.Role.STAFF))
    return client


def accepted_order(restaurant):
    """An order HubRise holds as accepted, with nothing left to send."""
    order = pushed_order(restaurant)
    accept_order(order, source=StatusChange.Source.STAFF, ready_at=timezone.now() + timedelta(minutes=20))
    assert drain.drain(threads=1) == 1
    return order


def clock_in(restaurant, minutes: int) -> str:
    """The time a cook would type, some minutes from now in the restaurant's time zone."""
    return (timezone.now() + timedelta(minutes=minutes)).astimezone(restaurant.tzinfo).strftime("%H:%M")


def set_time(client, order, value: str):
    url = reverse("orders:change_confirmed_time", args=[order.establishment_id, order.pk])
    return client.post(url, {"confirmed_time": value}, follow=True)


def test_a_time_confirmed_on_the_order_page_is_patched_alone_at_hubrise(hubrise_sandbox, restaurant, cook):
    order = accepted_order(restaurant)
    page = cook.get(reverse("orders:detail", args=[restaurant.pk, order.pk])).content.decode()
    assert reverse("orders:change_confirmed_time", args=[restaurant.pk, order.pk]) in page
    later = clock_in(restaurant, 90)

    response = set_time(cook, order, later)

    assert f"sera prête à {later}" in response.content.decode()
    order.refresh_from_db()
    assert order.confirmed_time.astimezone(restaurant.tzinfo).strftime("%H:%M") == later
    message = OutboxMessage.objects.get(order=order, kind="update_confirmed_time")
    assert message.state == "pending"
    assert drain.drain(threads=1) == 1
    [remote] = at_hubrise(hubrise_sandbox, order)
    assert (remote["status"], remote["confirmed_time"][11:16]) == ("accepted", later)
    patches = [json.loads(patch["request_body"]) for patch in hubrise_sandbox.requests_log(method="PATCH")]
    assert {"confirmed_time": remote["confirmed_time"]} in patches  # the time alone, not with a status


def test_a_newer_time_replaces_the_waiting_one_and_hubrise_s_own_change_is_not_sent_back(hubrise_sandbox, restaurant, cook):
    order = accepted_order(restaurant)
    set_time(cook, order, clock_in(restaurant, 90))
    set_time(cook, order, clock_in(restaurant, 120))
    assert list(OutboxMessage.objects.filter(kind="update_confirmed_time").values_list("state", flat=True)) == [
        "superseded",
        "pending",
    ]
    order.refresh_from_db()
    # The POS moved it at HubRise: what we were about to send is older than that.
    set_ready_time(order, order.confirmed_time + timedelta(minutes=15), source=StatusChange.Source.HUBRISE)

    assert not OutboxMessage.objects.filter(kind="update_confirmed_time", state="pending").exists()
    assert drain.drain(threads=1) == 0


def test_a_bad_time_or_a_finished_order_changes_nothing(hubrise_sandbox, restaurant, cook):
    order = accepted_order(restaurant)
    promised = order.confirmed_time
    assert "19:30" in set_time(cook, order, "7 pm").content.decode()
    assert "déjà passée" in set_time(cook, order, clock_in(restaurant, -30)).content.decode()
    change_status(order, "cancelled", source=StatusChange.Source.STAFF, reason="Rupture")
    set_time(cook, order, clock_in(restaurant, 90))

    order.refresh_from_db()
    assert order.confirmed_time == promised
    assert not OutboxMessage.objects.filter(kind="update_confirmed_time").exists()
