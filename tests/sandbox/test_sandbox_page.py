"""The sandbox page's tools for acting as the other apps: each form reaches our app as HubRise would tell it."""

from __future__ import annotations

import html

import pytest
import requests

from tests.sandbox.conftest import ApiClient


@pytest.fixture
def subscribed(app_api: ApiClient, callback_receiver):
    events = {"order": ["create", "update"], "catalog": ["update"], "inventory": ["patch"], "location": ["update"]}
    app_api.post("/callback", {"url": callback_receiver.url, "events": events})
    return callback_receiver


def post_form(hubrise_sandbox, path: str, **form) -> requests.Response:
    return requests.post(f"{hubrise_sandbox.base_url}{path}", data=form, timeout=10)


def test_the_page_shows_each_locations_pos_tools(hubrise_sandbox):
    page = requests.get(f"{hubrise_sandbox.base_url}/", timeout=10)

    assert "Comme la caisse" in page.text
    assert "ouvert aux commandes" in page.text
    assert "Uber Eats, livrée par Uber" in page.text
    assert f"/catalogs/{hubrise_sandbox.catalog_id}" in page.text


def test_one_click_creates_an_uber_eats_order_that_reaches_our_app(hubrise_sandbox, subscribed):
    response = post_form(hubrise_sandbox, f"/ui/locations/{hubrise_sandbox.location_id}/orders", kind="uber-delivery")
    # The platform's next step (its courier) may be due in the same round of callbacks, which go out in parallel
    # as HubRise's do: the create is not always the first to arrive.
    received = [callback.json() for callback in subscribed.wait_for(1)]
    if all(event["event_type"] != "create" for event in received):
        received = [callback.json() for callback in subscribed.wait_for(len(received) + 1)]
    [event] = [event for event in received if event["event_type"] == "create"]

    assert response.status_code == 200
    assert event["new_state"]["created_by"] == "Uber Eats"
    assert event["order_id"] in response.text
    assert "en attente d'un coursier" in html.unescape(response.text)


def test_pausing_as_the_pos_reaches_our_app(hubrise_sandbox, subscribed):
    post_form(
        hubrise_sandbox, f"/ui/locations/{hubrise_sandbox.location_id}/acceptance", mode="paused", minutes="30", reason="Rush"
    )
    event = subscribed.wait_for(1)[0].json()

    assert event["resource_type"] == "location"
    assert event["new_state"]["order_acceptance"]["mode"] == "paused"
    assert event["new_state"]["order_acceptance"]["reason"] == "Rush"
    assert event["new_state"]["order_acceptance"]["resume_at"]


def test_setting_the_preparation_time_as_the_pos_reaches_our_app(hubrise_sandbox, subscribed):
    post_form(hubrise_sandbox, f"/ui/locations/{hubrise_sandbox.location_id}/preparation_time", preparation_time="35")

    assert subscribed.wait_for(1)[0].json()["new_state"]["preparation_time"] == 35


def test_a_refused_form_says_why_and_changes_nothing(hubrise_sandbox):
    response = post_form(
        hubrise_sandbox, f"/ui/locations/{hubrise_sandbox.location_id}/acceptance", mode="busy", extra_preparation_time=""
    )

    assert "Refusé" in response.text
    assert hubrise_sandbox.location()["order_acceptance"] == {"mode": "online"}


def test_changing_a_price_on_the_catalog_page_sends_catalog_update(hubrise_sandbox, app_api, subscribed):
    catalog_id, location_id = hubrise_sandbox.catalog_id, hubrise_sandbox.location_id

    page = post_form(hubrise_sandbox, f"/ui/catalogs/{catalog_id}/price", location_id=location_id, sku_ref="TATIN", price="9,20")
    event = subscribed.wait_for(1)[0].json()

    assert (event["resource_type"], event["event_type"]) == ("catalog", "update")
    tatin = next(p for p in app_api.get(f"/catalogs/{catalog_id}").json()["data"]["products"] if p["ref"] == "TATIN")
    assert tatin["skus"][0]["price"] == "9.20 EUR"
    assert "9.20 EUR" in page.text


def test_marking_an_item_out_of_stock_on_the_catalog_page_sends_inventory_patch(hubrise_sandbox, subscribed):
    catalog_id, location_id = hubrise_sandbox.catalog_id, hubrise_sandbox.location_id

    page = post_form(
        hubrise_sandbox,
        f"/ui/catalogs/{catalog_id}/stock",
        location_id=location_id,
        kind="option",
        ref="BEARNAISE",
        out_of_stock="1",
    )
    event = subscribed.wait_for(1)[0].json()

    assert event["state_change"] == [{"option_ref": "BEARNAISE", "stock": "0", "expires_at": None}]
    assert "Remettre en vente" in page.text


def test_adding_a_product_on_the_catalog_page_puts_the_whole_catalog(hubrise_sandbox, app_api, subscribed):
    catalog_id, location_id = hubrise_sandbox.catalog_id, hubrise_sandbox.location_id

    post_form(
        hubrise_sandbox,
        f"/ui/catalogs/{catalog_id}/products",
        location_id=location_id,
        category_ref="PLATS",
        name="Tartare",
        ref="TARTARE",
        price="17.50",
    )
    subscribed.wait_for(1)

    products = app_api.get(f"/catalogs/{catalog_id}/products").json()
    assert ("TARTARE", "17.50 EUR") in {(p["ref"], p["skus"][0]["price"]) for p in products}


def test_the_pos_confirms_a_time_and_leaves_a_note_from_the_page(hubrise_sandbox, app_api, subscribed):
    order = app_api.create_order()

    post_form(hubrise_sandbox, f"/ui/orders/{order['id']}/edit", confirm_in="20", seller_notes="Prête au comptoir")
    state = subscribed.wait_for(1)[0].json()["new_state"]

    assert state["confirmed_time"] and state["seller_notes"] == "Prête au comptoir"


def test_a_courier_is_sent_and_moved_on_from_the_page(hubrise_sandbox, app_api):
    order = app_api.create_order(service_type="delivery")

    post_form(hubrise_sandbox, f"/ui/orders/{order['id']}/courier")
    page = post_form(hubrise_sandbox, f"/ui/orders/{order['id']}/courier/advance")

    assert app_api.get(f"/location/orders/{order['id']}/delivery").json()["status"] == "pickup_enroute"
    assert "en route vers le restaurant" in page.text
