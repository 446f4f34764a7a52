"""Orders: what HubRise computes on create, who sees which private ref, and how lists page and filter."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from tests.sandbox.conftest import ApiClient, an_item

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
STATUSES = (
    "new",
    "received",
    "accepted",
    "in_preparation",
    "awaiting_shipment",
    "awaiting_collection",
    "in_delivery",
    "completed",
    "rejected",
    "cancelled",
    "delivery_failed",
)


def test_every_api_call_without_a_token_gets_401_with_hubrise_error_body(hubrise_sandbox):
    response = ApiClient(hubrise_sandbox.api_url, "").get("/location/orders")

    assert response.status_code == 401
    assert response.json()["error_type"] == "unauthorized"
    assert response.json()["message"]


def test_location_gives_the_account_currency_and_the_timezone_name(hubrise_sandbox, app_api):
    location = app_api.get("/location").json()

    assert location["id"] == hubrise_sandbox.location_id
    assert location["name"] == "Le Petit Bistrot"
    assert location["account"]["currency"] == "EUR"
    assert location["timezone"]["name"] == "Europe/Paris"
    assert app_api.get(f"/locations/{location['id']}").json() == location


def test_another_locations_path_is_forbidden_to_a_location_token(hubrise_sandbox, app_api):
    other_location = hubrise_sandbox.locations()[1]["id"]

    response = app_api.get(f"/locations/{other_location}/orders")

    assert response.status_code == 403
    assert response.json()["error_type"] == "forbidden"


def test_item_subtotal_is_price_plus_options_times_quantity_and_total_adds_charges_minus_discounts(app_api):
    order = app_api.create_order(
        items=[
            an_item(
                price="8.90 EUR",
                quantity="2",
                options=[
                    {"option_list_name": "Suppléments", "name": "Cheddar", "price": "1.20 EUR", "quantity": 2},
                    {"option_list_name": "Cuisson", "name": "À point"},
                ],
            ),
            an_item(product_name="Frites", price="3.35 EUR", quantity="1.5"),
        ],
        charges=[{"name": "Livraison", "price": "2.50 EUR"}],
        discounts=[{"name": "Fidélité", "price_off": "1.00 EUR"}],
    )

    # (8.90 + 2 × 1.20) × 2 = 22.60; 3.35 × 1.5 = 5.025, rounded half up = 5.03.
    assert [item["subtotal"] for item in order["items"]] == ["22.60 EUR", "5.03 EUR"]
    # The total adds the subtotals as shown: 22.60 + 5.03 + 2.50 − 1.00.
    assert order["total"] == "29.13 EUR"


def test_an_order_without_items_totals_zero(app_api):
    assert app_api.create_order()["total"] == "0.00 EUR"


def test_every_element_gets_an_id_a_private_ref_and_a_deleted_flag(app_api):
    order = app_api.create_order(
        items=[an_item()],
        charges=[{"name": "Livraison", "price": "2.50 EUR"}],
        discounts=[{"name": "Promo", "price_off": "1.00 EUR"}],
        payments=[{"name": "Carte", "amount": "10.40 EUR"}],
    )

    assert order["id"]
    for key in ("items", "charges", "discounts", "payments"):
        element = order[key][0]
        assert element["id"], key
        assert element["private_ref"] is None
        assert element["deleted"] is False


def test_created_at_is_in_the_location_timezone_and_created_by_is_the_client_name(app_api):
    order = app_api.create_order()

    assert ISO_WITH_OFFSET.match(order["created_at"])
    offset = datetime.fromisoformat(order["created_at"]).utcoffset().total_seconds()
    assert offset in (3600, 7200)
    assert order["created_by"] == "Get Resto"


def test_times_sent_in_utc_come_back_in_the_store_timezone(app_api):
    order = app_api.create_order(expected_time="2030-07-01T10:00:00+00:00")

    assert order["expected_time"] == "2030-07-01T12:00:00+02:00"


def test_deal_keys_are_renumbered_and_deal_lines_follow(app_api):
    order = app_api.create_order(
        deals={"menu-midi": {"name": "Menu midi", "ref": "MIDI"}},
        items=[an_item(deal_line={"deal_key": "menu-midi", "label": "Plat"})],
    )

    assert order["deals"] == {"0": {"name": "Menu midi", "ref": "MIDI"}}
    assert order["items"][0]["deal_line"]["deal_key"] == "0"


def test_an_attached_customer_is_snapshotted_in_the_order(hubrise_sandbox, app_api):
    customer = hubrise_sandbox.locations()[0]["customer_lists"][0]["customers"][0]

    order = app_api.create_order(customer_id=customer["id"])

    assert order["customer_id"] == customer["id"]
    assert order["customer"]["id"] == customer["id"]
    assert order["customer"]["last_name"] == customer["last_name"]


def test_a_guest_customer_has_a_null_id(app_api):
    order = app_api.create_order(customer={"first_name": "Inès", "phone": "+33600000000"})

    assert order["customer"]["id"] is None
    assert order["customer"]["first_name"] == "Inès"


def test_every_status_is_accepted_on_create(app_api):
    created = [app_api.create_order(status=status)["status"] for status in STATUSES]

    assert created == list(STATUSES)


def test_short_and_long_paths_reach_the_same_order(hubrise_sandbox, app_api):
    order = app_api.create_order()

    by_short_path = app_api.get(f"/location/orders/{order['id']}").json()
    by_long_path = app_api.get(f"/locations/{hubrise_sandbox.location_id}/orders/{order['id']}").json()

    assert by_short_path == by_long_path == order


def test_an_unknown_order_gets_404(app_api):
    response = app_api.get("/location/orders/zzzzz")

    assert response.status_code == 404
    assert response.json()["error_type"] == "not_found"


def test_a_private_ref_is_visible_only_to_the_client_that_set_it(hubrise_sandbox, app_api, pos_api):
    order = app_api.create_order(private_ref="GR-1", items=[an_item(private_ref="line-1")])

    seen_by_pos = pos_api.get(f"/location/orders/{order['id']}").json()
    held = hubrise_sandbox.orders()[0]

    assert order["private_ref"] == "GR-1"
    assert order["items"][0]["private_ref"] == "line-1"
    assert seen_by_pos["private_ref"] is None
    assert seen_by_pos["items"][0]["private_ref"] is None
    assert held["private_refs"] == {hubrise_sandbox.client_id: "GR-1"}


def test_another_client_can_set_its_own_private_ref_on_the_same_order(hubrise_sandbox, app_api, pos_api):
    order = app_api.create_order(private_ref="GR-1")

    pos_view = pos_api.patch(f"/location/orders/{order['id']}", {"private_ref": "POS-77"}).json()

    assert pos_view["private_ref"] == "POS-77"
    assert app_api.get(f"/location/orders/{order['id']}").json()["private_ref"] == "GR-1"
    assert hubrise_sandbox.orders()[0]["private_refs"] == {
        hubrise_sandbox.client_id: "GR-1",
        hubrise_sandbox.pos_client_id: "POS-77",
    }


def test_orders_are_found_by_private_ref(app_api):
    app_api.create_order(private_ref="GR-1")
    wanted = app_api.create_order(private_ref="GR-2")

    found = app_api.get("/location/orders", params={"private_ref": "GR-2"}).json()

    assert [order["id"] for order in found] == [wanted["id"]]


def test_a_list_pages_with_x_cursor_next_until_the_last_page(app_api):
    created = [app_api.create_order()["id"] for _ in range(5)]

    pages, cursor = [], None
    while True:
        response = app_api.get("/location/orders", params={"count": 2, **({"cursor": cursor} if cursor else {})})
        pages.append([order["id"] for order in response.json()])
        cursor = response.headers.get("X-Cursor-Next")
        if cursor is None:
            break

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [order_id for page in pages for order_id in page] == list(reversed(created))


def test_a_list_returns_at_most_100_orders_per_page(hubrise_sandbox, app_api):
    hubrise_sandbox.set_rate_limits(per_minute=1000)
    for _ in range(101):
        app_api.create_order()

    response = app_api.get("/location/orders", params={"count": 500})

    assert len(response.json()) == 100
    assert "X-Cursor-Next" in response.headers


def test_a_list_filters_by_status(app_api):
    app_api.create_order(status="new")
    accepted = app_api.create_order(status="accepted")

    found = app_api.get("/location/orders", params={"status": "accepted"}).json()

    assert [order["id"] for order in found] == [accepted["id"]]


def test_after_is_inclusive_and_before_is_exclusive_of_created_at(app_api):
    order = app_api.create_order()

    after = app_api.get("/location/orders", params={"after": order["created_at"]}).json()
    before = app_api.get("/location/orders", params={"before": order["created_at"]}).json()

    assert [o["id"] for o in after] == [order["id"]]
    assert before == []


def test_a_list_filters_by_creating_client(app_api, pos_api):
    app_api.create_order()
    by_pos = pos_api.create_order()

    found = app_api.get("/location/orders", params={"created_by": "Caisse (POS)"}).json()

    assert [order["id"] for order in found] == [by_pos["id"]]


def test_a_list_shows_only_the_tokens_location(hubrise_sandbox, app_api):
    other = ApiClient(hubrise_sandbox.api_url, hubrise_sandbox.create_token(hubrise_sandbox.locations()[1]["id"]))
    other.create_order()

    assert app_api.get("/location/orders").json() == []


@pytest.mark.parametrize("override", ["PATCH", "PUT"])
def test_a_post_with_x_http_method_override_acts_as_that_method(app_api, override):
    order = app_api.create_order()

    response = app_api.post(
        f"/location/orders/{order['id']}", {"status": "accepted"}, headers={"X-Http-Method-Override": override}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"


def test_method_override_is_ignored_on_get(app_api):
    order = app_api.create_order()

    response = app_api.get(f"/location/orders/{order['id']}", headers={"X-Http-Method-Override": "DELETE"})

    assert response.status_code == 200
    assert response.json()["id"] == order["id"]


def test_a_new_order_gets_another_id_when_the_random_one_is_taken(tmp_path, monkeypatch):
    # In-process, to make the random id collide on purpose: 5 characters collide within a few thousand orders.
    from hubrise_sandbox import store as store_module
    from hubrise_sandbox.app import create_app
    from hubrise_sandbox.config import Settings

    client = create_app(Settings(db_path=str(tmp_path / "sandbox.sqlite3"))).test_client()
    headers = {"X-Access-Token": client.post("/_sandbox/connections", json={}).get_json()["access_token"]}
    drawn = iter(["abcde", "abcde", "fghij"])
    monkeypatch.setattr(store_module, "new_id", lambda length=5: next(drawn))
    order = {"status": "new", "items": [an_item()]}

    first = client.post("/v1/location/orders", json=order, headers=headers)
    second = client.post("/v1/location/orders", json=order, headers=headers)

    assert (first.status_code, first.get_json()["id"]) == (200, "abcde")
    assert (second.status_code, second.get_json()["id"]) == (200, "fghij")
