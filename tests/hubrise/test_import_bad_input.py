"""Orders of other apps we cannot take as they are: acknowledged, recorded as not imported with the reason,
shown to the establishment's managers, imported on "Réessayer" once fixed; never a 5xx, never half an order."""

from __future__ import annotations

import copy
import json

import pytest
from django.urls import reverse

from hubrise_sync.models import InboundEvent
from orders.models import Membership, Order, OrderItem
from tests.factories import make_establishment, make_user
from tests.hubrise.callbacks import SECRET, connect, fixture_json, post_callback

pytestmark = pytest.mark.django_db

Outcome = InboundEvent.Outcome


@pytest.fixture(autouse=True)
def client_secret(settings, worker_applies_at_once):
    settings.HUBRISE_CLIENT_SECRET = SECRET


@pytest.fixture
def establishment():
    establishment = make_establishment()
    connect(establishment)
    return establishment


def create_event(**changes) -> dict:
    body = copy.deepcopy(fixture_json("order_create_by_pos"))
    body["new_state"].update(changes)
    return body


def item(**changes) -> dict:
    return {"product_name": "Café", "price": "2.00 EUR", "quantity": "1", **changes}


BAD_ORDERS = {
    "no items": (create_event(items=[]), "no items"),
    "float money": (create_event(items=[item(price=2.5)]), "is a number"),
    "unknown currency": (create_event(items=[item(price="2.00 XYZ")]), "not in the establishment's currency"),
    "unknown service type": (create_event(service_type="drive_through"), "Unknown service type"),
    "too many items": (create_event(items=[item() for _ in range(201)]), "201 items"),
    # Each value is well formed; their product is not a sum any till holds (PostgreSQL refuses it).
    "a total too large to store": (
        create_event(items=[item(price="9999999999.99 EUR", quantity="1000")]),
        "could not be recorded",
    ),
}


@pytest.mark.parametrize("name", BAD_ORDERS)
def test_a_bad_order_is_acknowledged_and_recorded_as_not_imported_with_the_reason(client, establishment, name):
    body, reason = BAD_ORDERS[name]

    response = post_callback(client, json.dumps(body).encode())

    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert event.outcome == Outcome.NOT_IMPORTED
    assert reason in event.detail
    assert not Order.objects.exists()
    assert not OrderItem.objects.exists()


def test_an_order_for_a_location_we_are_not_connected_to_is_recorded_as_not_imported(client, establishment):
    body = create_event()
    body["location_id"] = body["new_state"]["location_id"] = "9xx9x-1"

    response = post_callback(client, json.dumps(body).encode())

    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert (event.outcome, event.detail) == (Outcome.NOT_IMPORTED, "No establishment is connected to HubRise location 9xx9x-1.")
    assert not Order.objects.exists()


def test_a_manager_sees_the_reason_and_imports_the_order_once_the_fix_is_made(client, establishment, settings):
    settings.HUBRISE_API_URL = "http://127.0.0.1:9"  # HubRise unreachable: the recorded order is tried again
    establishment.currency = "GBP"
    establishment.save()
    post_callback(client, json.dumps(create_event()).encode())
    manager = make_user(establishment, username="claire", role=Membership.Role.MANAGER)
    client.force_login(manager)

    page = client.get(reverse("hubrise:settings", args=[establishment.pk])).content.decode()
    assert "not in the establishment" in page and "(GBP)" in page

    establishment.currency = "EUR"
    establishment.save()
    event = InboundEvent.objects.get()
    response = client.post(reverse("hubrise:retry_import", args=[establishment.pk, event.pk]))

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.outcome == Outcome.IMPORTED
    assert Order.objects.get().channel == "Caisse (POS)"


def test_another_establishments_managers_see_nothing_and_cannot_retry(client, establishment):
    establishment.currency = "GBP"
    establishment.save()
    post_callback(client, json.dumps(create_event()).encode())
    other = make_establishment(name="Ailleurs")
    connect(other, location_id="other-1")
    client.force_login(make_user(other, username="paul", role=Membership.Role.MANAGER))

    page = client.get(reverse("hubrise:settings", args=[other.pk])).content.decode()
    response = client.post(reverse("hubrise:retry_import", args=[other.pk, InboundEvent.objects.get().pk]))

    assert "GBP" not in page
    assert response.status_code == 404
    staff = make_user(establishment, username="lina", role=Membership.Role.STAFF)
    client.force_login(staff)
    assert client.post(reverse("hubrise:retry_import", args=[establishment.pk, InboundEvent.objects.get().pk])).status_code == 403
