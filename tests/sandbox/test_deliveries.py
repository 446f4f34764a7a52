"""Deliveries: the sub-resource of a delivery order, its events, and the courier the sandbox plays."""

from __future__ import annotations

import pytest
import requests

from tests.sandbox.conftest import an_item
from tests.sandbox.test_callbacks import wait_until
from tests.sandbox.test_catalogs import api_with
from tests.sandbox.test_order_validation import rejected_fields

A_DELIVERY = {
    "carrier": "Uber Direct",
    "carrier_ref": "uber_direct",
    "ref": "1Z12345E0291980793",
    "status": "pending",
    "fee": "4.50 EUR",
    "estimated_pickup_at": "2030-01-01T12:00:00+01:00",
    "estimated_dropoff_at": "2030-01-01T12:30:00+01:00",
    "tracking_url": "https://example.com/track/1Z12345E0291980793",
}
STATUSES = [
    "pickup_enroute",
    "pickup_approaching",
    "pickup_waiting",
    "dropoff_enroute",
    "dropoff_approaching",
    "dropoff_waiting",
    "delivered",
]


@pytest.fixture
def order(app_api) -> dict:
    """One of our delivery orders."""
    return app_api.create_order(
        service_type="delivery", items=[an_item()], customer={"first_name": "Léa", "address_1": "8 rue Oberkampf"}
    )


def delivery_path(order: dict) -> str:
    return f"/location/orders/{order['id']}/delivery"


def test_a_carrier_attaches_a_delivery_that_the_order_then_shows(app_api, pos_api, order):
    created = pos_api.post(delivery_path(order), {**A_DELIVERY, "driver_latitude": "48.856614", "driver_longitude": "2.3522219"})

    assert created.status_code == 200
    delivery = created.json()
    assert (delivery["order_id"], delivery["location_id"]) == (order["id"], order["location_id"])
    assert delivery["id"]
    assert (delivery["status"], delivery["fee"], delivery["driver_latitude"]) == ("pending", "4.50 EUR", "48.856614")
    on_order = app_api.get(f"/location/orders/{order['id']}").json()["delivery"]
    assert on_order["carrier"] == "Uber Direct"
    assert on_order["estimated_dropoff_at"] == "2030-01-01T12:30:00+01:00"
    assert "driver_latitude" not in on_order and "driver_longitude" not in on_order
    assert app_api.get(delivery_path(order)).json() == delivery


def test_moving_to_a_status_stamps_its_time_unless_the_carrier_sets_it(app_api, pos_api, order):
    pos_api.post(delivery_path(order), A_DELIVERY)

    assigned = pos_api.patch(delivery_path(order), {"status": "pickup_enroute", "driver_name": "Karim"}).json()
    picked = pos_api.patch(delivery_path(order), {"status": "dropoff_enroute", "pickup_at": "2030-01-01T12:05:00+01:00"}).json()

    assert assigned["assigned_at"] is not None and assigned["driver_name"] == "Karim"
    assert picked["pickup_at"] == "2030-01-01T12:05:00+01:00"
    assert picked["delivered_at"] is None


def test_a_delivery_is_announced_with_delivery_create_and_order_update(app_api, pos_api, order, callback_receiver):
    app_api.post("/callback", {"url": callback_receiver.url, "events": {"delivery": ["create", "update"], "order": ["update"]}})

    pos_api.post(delivery_path(order), A_DELIVERY)
    events = {(e.json()["resource_type"], e.json()["event_type"]): e.json() for e in callback_receiver.wait_for(2)}

    created = events["delivery", "create"]
    assert (created["order_id"], created["location_id"]) == (order["id"], order["location_id"])
    assert created["delivery_id"] == created["new_state"]["id"]
    assert "previous_state" not in created
    update = events["order", "update"]
    assert update["previous_state"]["delivery"] is None
    assert update["new_state"]["delivery"]["status"] == "pending"


def test_a_driver_position_alone_sends_delivery_update_but_no_order_update(app_api, pos_api, order):
    pos_api.post(delivery_path(order), A_DELIVERY)
    app_api.post("/callback", {"url": None, "events": {"delivery": ["update"], "order": ["update"]}})

    pos_api.patch(delivery_path(order), {"driver_latitude": "48.8566", "driver_longitude": "2.3522"})
    pos_api.patch(delivery_path(order), {"status": "pickup_enroute"})
    events = [(e["resource_type"], e["event_type"]) for e in app_api.get("/callback/events").json()]

    assert events == [("delivery", "update"), ("delivery", "update"), ("order", "update")]
    first = app_api.get(f"/callback/events/{app_api.get('/callback/events').json()[0]['id']}").json()
    assert first["previous_state"]["driver_latitude"] is None
    assert first["new_state"]["driver_latitude"] == "48.8566"


def test_our_own_delivery_changes_send_us_nothing(app_api, order):
    app_api.post("/callback", {"url": None, "events": {"delivery": ["create", "update"]}})

    app_api.post(delivery_path(order), A_DELIVERY)

    assert app_api.get("/callback/events").json() == []


def test_an_order_without_delivery_answers_404(app_api, order):
    assert app_api.get(delivery_path(order)).status_code == 404
    assert app_api.patch(delivery_path(order), {"status": "delivered"}).status_code == 404


def test_only_a_delivery_order_can_get_a_delivery(app_api):
    collection = app_api.create_order(service_type="collection")

    assert "base" in rejected_fields(app_api.post(delivery_path(collection), A_DELIVERY))


def test_an_order_gets_one_delivery_only(app_api, order):
    app_api.post(delivery_path(order), A_DELIVERY)

    assert "base" in rejected_fields(app_api.post(delivery_path(order), A_DELIVERY))


REFUSALS = {
    "no-carrier": ({"status": "pending"}, "carrier"),
    "no-status": ({"carrier": "Uber Direct"}, "status"),
    "unknown-status": ({**A_DELIVERY, "status": "on_the_way"}, "status"),
    "fee-as-number": ({**A_DELIVERY, "fee": 4.5}, "fee"),
    "time-without-offset": ({**A_DELIVERY, "estimated_dropoff_at": "2030-01-01T12:30:00"}, "estimated_dropoff_at"),
    "latitude-as-number": ({**A_DELIVERY, "driver_latitude": 48.85}, "driver_latitude"),
    "unknown-field": ({**A_DELIVERY, "vehicle": "bike"}, "vehicle"),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_delivery_hubrise_refuses_is_a_422_and_nothing_is_attached(app_api, order, case):
    body, field = case

    assert field in rejected_fields(app_api.post(delivery_path(order), body))
    assert app_api.get(f"/location/orders/{order['id']}").json()["delivery"] is None


@pytest.mark.parametrize("field", ["carrier", "carrier_ref", "fee"])
def test_the_carrier_and_its_fee_cannot_be_updated(app_api, order, field):
    app_api.post(delivery_path(order), A_DELIVERY)

    assert field in rejected_fields(app_api.patch(delivery_path(order), {field: A_DELIVERY[field]}))


def test_deliveries_need_the_orders_permission(hubrise_sandbox, order):
    catalog_only = api_with(hubrise_sandbox, "location[catalog.read]")

    assert catalog_only.get(delivery_path(order)).status_code == 403
    assert catalog_only.post(delivery_path(order), A_DELIVERY).status_code == 403


# The courier the sandbox plays ------------------------------------------------------------------


def test_a_dispatched_courier_moves_one_step_per_advance_to_delivered(hubrise_sandbox, app_api, order):
    dispatched = hubrise_sandbox.dispatch_courier(order["id"], step_seconds=0)

    seen = [hubrise_sandbox.advance_delivery(order["id"])["status"] for _ in range(9)]

    assert (dispatched["carrier"], dispatched["status"]) == ("Uber Direct", "pending")
    assert dispatched["tracking_url"].endswith(f"/track/{order['id']}")
    assert [status for index, status in enumerate(seen) if index == 0 or status != seen[index - 1]] == STATUSES
    delivery = app_api.get(delivery_path(order)).json()
    assert delivery["driver_name"] and delivery["driver_phone"].startswith("+33")
    assert delivery["assigned_at"] and delivery["pickup_at"] and delivery["delivered_at"]
    assert hubrise_sandbox.deliveries()[0]["plan"] is None


def test_a_courier_with_a_pace_delivers_by_itself(hubrise_sandbox, app_api, order, callback_receiver):
    app_api.post("/callback", {"url": callback_receiver.url, "events": {"delivery": ["update"]}})

    hubrise_sandbox.dispatch_courier(order["id"], step_seconds=0.05)

    wait_until(lambda: app_api.get(delivery_path(order)).json()["status"] == "delivered", timeout=10)
    statuses = [c.json()["new_state"]["status"] for c in callback_receiver.wait_for(9, timeout=5)]
    assert statuses[-1] == "delivered"
    assert statuses.count("pickup_enroute") == 2


def test_the_carrier_can_be_told_what_to_change(hubrise_sandbox, app_api, order):
    hubrise_sandbox.dispatch_courier(order["id"], step_seconds=0)

    hubrise_sandbox.change_delivery(order["id"], status="cancelled")

    delivery = app_api.get(delivery_path(order)).json()
    assert delivery["status"] == "cancelled"
    assert delivery["cancelled_at"] is not None


def test_the_tracking_page_shows_where_the_courier_is(hubrise_sandbox, order):
    hubrise_sandbox.dispatch_courier(order["id"], step_seconds=0)
    delivery = hubrise_sandbox.advance_delivery(order["id"])

    page = requests.get(delivery["tracking_url"], timeout=10)

    assert page.status_code == 200
    assert "en route vers le restaurant" in page.text
    assert delivery["driver_name"] in page.text
