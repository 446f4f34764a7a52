"""Admins see every HubRise event and the quarantine, and replay refused callbacks after a secret fix."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from hubrise_sync.models import InboundEvent, QuarantinedCallback
from orders.models import Membership
from tests.factories import make_establishment, make_user
from tests.hubrise.callbacks import SECRET, connect, fixture_bytes, linked_order, post_callback

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(settings):
    settings.HUBRISE_CLIENT_SECRET = SECRET
    establishment = make_establishment()
    connect(establishment)
    return linked_order(establishment)


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.fr", "correct-horse-battery"))
    return client


def test_an_admin_replays_quarantined_callbacks_once_the_secret_is_fixed(admin_client, client, order, settings):
    settings.HUBRISE_CLIENT_SECRET = "a-mistyped-secret"
    assert post_callback(client, fixture_bytes("order_update_accepted")).status_code == 401
    kept = QuarantinedCallback.objects.get()
    listing = admin_client.get(reverse("admin:hubrise_sync_quarantinedcallback_changelist"))
    assert listing.status_code == 200
    assert "Wrong signature" in listing.text or "Signature erronée" in listing.text

    settings.HUBRISE_CLIENT_SECRET = SECRET
    response = admin_client.post(
        reverse("admin:hubrise_sync_quarantinedcallback_changelist"),
        {"action": "reverify_and_replay", "_selected_action": [kept.pk]},
        follow=True,
    )

    # The outcome in the admin's language (French by default).
    assert f"Replayed: {InboundEvent.Outcome.APPLIED.label}." in response.text
    order.refresh_from_db()
    assert order.status == "accepted"
    assert InboundEvent.objects.get().event_id == "ks8f6"


def test_admins_see_each_event_with_its_outcome(admin_client, client, order):
    post_callback(client, fixture_bytes("order_update_unknown_order"))

    page = admin_client.get(reverse("admin:hubrise_sync_inboundevent_changelist"))

    assert page.status_code == 200
    assert "u4n1k" in page.text
    assert "zz9zz" in page.text


def test_establishment_managers_do_not_see_the_quarantine(client, order):
    manager = make_user(make_establishment("Ailleurs"), username="claire", role=Membership.Role.MANAGER)
    manager.is_staff = True
    manager.save()
    client.force_login(manager)

    for name in ("admin:hubrise_sync_quarantinedcallback_changelist", "admin:hubrise_sync_inboundevent_changelist"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
