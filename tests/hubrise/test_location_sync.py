"""The pause, busy mode and preparation time set here reach the HubRise location.

Through a real Celery worker and the connection outbox, to the sandbox over HTTP.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from hubrise_sync.models import ConnectionMessage
from orders.models import Establishment, Membership
from tests.factories import make_establishment, make_user
from tests.hubrise.callbacks import sandbox_connection
from tests.hubrise.location import acceptance_at_hubrise, location_patches
from tests.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def manager(client):
    establishment = make_establishment()
    client.force_login(make_user(establishment, role=Membership.Role.MANAGER))
    return establishment


def test_a_pause_set_on_the_service_page_reaches_the_hubrise_location(sandbox, manager, client, celery_worker):
    sandbox_connection(sandbox, manager)

    client.post(reverse("orders:pause", args=[manager.pk]), {"for": "30", "reason": "Cuisine débordée"})

    remote = wait_until(lambda: acceptance_at_hubrise(sandbox)["mode"] == "paused" and acceptance_at_hubrise(sandbox))
    manager.refresh_from_db()
    assert remote["reason"] == "Cuisine débordée"
    # HubRise's own time format: the establishment's offset, whole seconds.
    sent = location_patches(sandbox)[-1]["order_acceptance"]
    assert sent == {
        "mode": "paused",
        "resume_at": manager.acceptance_until.astimezone(manager.tzinfo).replace(microsecond=0).isoformat(),
        "reason": "Cuisine débordée",
    }
    assert sent["resume_at"].endswith(("+01:00", "+02:00"))


def test_busy_mode_then_back_to_normal_reach_hubrise_with_the_preparation_time(sandbox, manager, client, celery_worker):
    sandbox_connection(sandbox, manager)

    client.post(reverse("orders:busy", args=[manager.pk]), {"extra": "20", "for": "60"})
    wait_until(lambda: acceptance_at_hubrise(sandbox)["mode"] == "busy", what="busy at HubRise")
    assert acceptance_at_hubrise(sandbox)["extra_preparation_time"] == 20
    # The base time: HubRise adds extra_preparation_time to it.
    assert sandbox.location()["preparation_time"] == Establishment.objects.get(pk=manager.pk).preparation_time

    client.post(reverse("orders:service_settings", args=[manager.pk]), {"preparation_time": "25"})
    wait_until(lambda: sandbox.location()["preparation_time"] == 25, what="the new preparation time at HubRise")
    client.post(reverse("orders:resume", args=[manager.pk]))
    wait_until(lambda: acceptance_at_hubrise(sandbox) == {"mode": "online"}, what="online at HubRise")


def test_an_establishment_not_connected_sends_nothing(manager, client):
    client.post(reverse("orders:pause", args=[manager.pk]), {"for": "15"})
    assert Establishment.objects.get(pk=manager.pk).acceptance == "paused"
    assert not ConnectionMessage.objects.exists()
