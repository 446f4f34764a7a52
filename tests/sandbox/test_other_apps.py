"""The other apps the sandbox plays: orders from Uber Eats, Deliveroo and the POS, their edits, and the
order list a receiving app reads on first connection."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest


def money(value: str) -> Decimal:
    return Decimal(value.split()[0])


@pytest.fixture
def catalog(hubrise_sandbox) -> dict:
    return hubrise_sandbox.catalog()


def skus_of(catalog: dict) -> dict[str, dict]:
    return {sku["ref"]: sku for product in catalog["data"]["products"] for sku in product["skus"]}


def options_of(catalog: dict) -> dict[str, dict]:
    return {option["ref"]: option for option_list in catalog["data"]["option_lists"] for option in option_list["options"]}


def only_on_sale(hubrise_sandbox, catalog: dict, *kept: str) -> None:
    """The POS marks every sku out of stock but ``kept``."""
    hubrise_sandbox.patch_inventory([{"sku_ref": ref, "stock": "0"} for ref in skus_of(catalog) if ref not in kept])


def test_an_uber_eats_order_looks_like_what_uber_eats_bridge_sends(hubrise_sandbox, catalog):
    order = hubrise_sandbox.create_order_as("uber_eats", seed=1)

    assert (order["created_by"], order["channel"], order["status"]) == ("Uber Eats", "Uber Eats", "new")
    assert (order["service_type"], order["service_type_ref"]) == ("delivery", "UBER-LIV")
    assert order["ref"] and order["collection_code"] == order["ref"]
    assert datetime.fromisoformat(order["expected_time"]) > datetime.now().astimezone() + timedelta(minutes=15)
    skus = skus_of(catalog)
    for item in order["items"]:
        sku = skus[item["sku_ref"]]
        overrides = [rule["price"] for rule in sku["price_overrides"] if "LIVRAISON" in rule.get("variant_refs", [])]
        assert item["price"] == (overrides[-1] if overrides else sku["price"])
        assert all(option["quantity"] == 1 and option["ref"] in options_of(catalog) for option in item["options"])
    customer = order["customer"]
    assert customer["first_name"] and customer["last_name"].endswith(".")
    assert customer["phone"].startswith("+33") and customer["delivery_notes"].startswith("Phone access code: ")
    [payment] = order["payments"]
    assert (payment["name"], payment["ref"], payment["amount"]) == ("Uber Eats", "UBER", order["total"])
    assert order["payment_discrepancy"] == "0.00 EUR"


def test_a_platform_delivery_comes_with_the_platforms_courier(hubrise_sandbox):
    order = hubrise_sandbox.create_order_as("uber_eats", step_seconds=0)

    delivery = order["delivery"]
    assert (delivery["carrier"], delivery["status"]) == ("Uber Eats", "pending")
    assert hubrise_sandbox.advance_delivery(order["id"])["status"] == "pickup_enroute"


def test_a_deliveroo_order_names_items_and_options_by_their_ref_codes(hubrise_sandbox):
    order = hubrise_sandbox.create_order_as("deliveroo", seed=4, delivery_by="restaurant")

    assert order["created_by"] == "Deliveroo"
    assert all(item["product_name"] == item["sku_ref"] for item in order["items"])
    assert all(o["option_list_name"] == "Options" and o["name"] == o["ref"] for item in order["items"] for o in item["options"])
    assert order["customer"]["address_1"] and order["customer"]["latitude"]
    assert {charge["name"] for charge in order["charges"]} >= {"Delivery charge", "Bag fee"}
    assert order["delivery"] is None
    assert order["service_type_ref"] == "DELIVEROO-LIV-RESTO"


def test_a_pos_order_is_accepted_at_a_table_and_paid_at_the_till(hubrise_sandbox):
    order = hubrise_sandbox.create_order_as("pos", seed=2)

    assert (order["created_by"], order["channel"], order["status"]) == ("Caisse (POS)", "Caisse", "accepted")
    assert (order["service_type"], order["service_type_ref"]) == ("eat_in", "SUR-PLACE")
    assert order["custom_fields"]["restaurant"]["table_name"]
    assert order["confirmed_time"]
    assert sum(money(p["amount"]) for p in order["payments"]) == money(order["total"])
    assert {p["ref"] for p in order["payments"]} <= {"CB", "ESPECES", "TITRE-RESTO"}


def test_a_pos_order_with_the_formule_midi_carries_its_deal(hubrise_sandbox):
    order = hubrise_sandbox.create_order_as("pos", seed=3, with_deal=True)

    assert order["deals"] == {"0": {"name": "Formule midi : plat + dessert", "ref": "FORMULE-MIDI"}}
    deal_items = [item for item in order["items"] if item["deal_line"]]
    assert [item["deal_line"]["label"] for item in deal_items] == ["Plat", "Dessert"]
    assert all(item["deal_line"]["deal_key"] == "0" for item in deal_items)
    assert money(deal_items[1]["price"]) in (Decimal("4.00"), Decimal("5.00"))


def test_an_out_of_stock_item_is_never_ordered(hubrise_sandbox, catalog):
    only_on_sale(hubrise_sandbox, catalog, "STEAK-FRITES")

    orders = [hubrise_sandbox.create_order_as("uber_eats", seed=seed, dispatch=False) for seed in range(3)]

    assert {item["sku_ref"] for order in orders for item in order["items"]} == {"STEAK-FRITES"}


def test_a_platform_never_orders_what_is_kept_for_eating_in(hubrise_sandbox, catalog):
    only_on_sale(hubrise_sandbox, catalog, "BIERE-DEMI", "COCA-33")

    order = hubrise_sandbox.create_order_as("deliveroo", dispatch=False)

    assert {item["sku_ref"] for item in order["items"]} == {"COCA-33"}


def test_nothing_on_sale_is_a_clear_refusal(hubrise_sandbox, catalog):
    only_on_sale(hubrise_sandbox, catalog)

    response = hubrise_sandbox.control("POST", f"/locations/{hubrise_sandbox.location_id}/orders", json={"as": "uber_eats"})

    assert response.status_code == 422
    assert "nothing" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"as": "just_eat"}, "as"),
        ({"as": "uber_eats", "service_type": "eat_in"}, "service_type"),
        ({"as": "pos", "tip": 2}, "tip"),
    ],
)
def test_a_request_for_another_app_the_sandbox_cannot_play_is_refused(hubrise_sandbox, body, field):
    response = hubrise_sandbox.control("POST", f"/locations/{hubrise_sandbox.location_id}/orders", json=body)

    assert response.status_code == 422
    assert field in {error["field"] for error in response.json()["errors"]}


def test_another_apps_order_reaches_our_callback_with_order_create(hubrise_sandbox, app_api, callback_receiver):
    app_api.post("/callback", {"url": callback_receiver.url, "events": {"order": ["create", "update"]}})

    order = hubrise_sandbox.create_order_as("uber_eats", dispatch=False)
    event = callback_receiver.wait_for(1)[0].json()

    assert (event["event_type"], event["order_id"]) == ("create", order["id"])
    state = event["new_state"]
    assert (state["created_by"], state["ref"]) == ("Uber Eats", order["ref"])
    assert state["private_ref"] is None, "the platform's private ref is its own"
    assert state["items"] == [{k: v for k, v in item.items() if k != "private_refs"} for item in order["items"]]


def test_the_pos_editing_an_order_sends_order_update_with_both_states(hubrise_sandbox, app_api, callback_receiver):
    order = app_api.create_order(
        items=[{"product_name": "Steak frites", "sku_ref": "STEAK-FRITES", "price": "19.50 EUR", "quantity": "1"}]
    )
    app_api.post("/callback", {"url": callback_receiver.url, "events": {"order": ["update"]}})
    confirmed = (datetime.now().astimezone() + timedelta(minutes=25)).replace(microsecond=0).isoformat()

    hubrise_sandbox.edit_order_as(
        order["id"],
        status="accepted",
        confirmed_time=confirmed,
        seller_notes="Plus de frites : purée à la place",
        items=[
            {"id": order["items"][0]["id"], "deleted": True},
            {
                "product_name": "Steak frites",
                "sku_ref": "STEAK-FRITES",
                "price": "19.50 EUR",
                "quantity": "1",
                "options": [{"option_list_name": "Accompagnement", "name": "Purée maison", "ref": "PUREE"}],
            },
        ],
    )
    event = callback_receiver.wait_for(1)[0].json()

    before, after = event["previous_state"], event["new_state"]
    assert (before["status"], after["status"]) == ("new", "accepted")
    assert datetime.fromisoformat(after["confirmed_time"]) == datetime.fromisoformat(confirmed)
    assert after["seller_notes"] == "Plus de frites : purée à la place"
    assert [item["deleted"] for item in after["items"]] == [True, False]
    assert after["items"][1]["options"][0]["ref"] == "PUREE"


def test_recent_open_orders_are_listed_for_a_first_import(hubrise_sandbox, app_api):
    since = (datetime.now().astimezone() - timedelta(hours=24)).isoformat(timespec="seconds")
    uber = hubrise_sandbox.create_order_as("uber_eats", dispatch=False)
    pos = hubrise_sandbox.create_order_as("pos")
    done = hubrise_sandbox.create_order_as("deliveroo", dispatch=False)
    hubrise_sandbox.edit_order_as(done["id"], status="completed")

    open_orders = app_api.get(
        "/location/orders", params={"status": "new,received,accepted,in_preparation", "after": since}
    ).json()
    from_uber = app_api.get("/location/orders", params={"created_by": "Uber Eats"}).json()

    assert {o["id"] for o in open_orders} == {uber["id"], pos["id"]}
    assert [o["id"] for o in from_uber] == [uber["id"]]


def test_platform_orders_follow_the_locations_busy_preparation_time(hubrise_sandbox):
    hubrise_sandbox.patch_location_as_pos(preparation_time=20, order_acceptance={"mode": "busy", "extra_preparation_time": 40})

    order = hubrise_sandbox.create_order_as("deliveroo", dispatch=False)

    wait = datetime.fromisoformat(order["expected_time"]) - datetime.fromisoformat(order["created_at"])
    assert timedelta(minutes=59) <= wait <= timedelta(minutes=61)


def test_the_pos_codes_name_every_ref_the_apps_use(hubrise_sandbox):
    codes = hubrise_sandbox.pos_codes()
    orders = [hubrise_sandbox.create_order_as(app, seed=5, dispatch=False) for app in ("uber_eats", "deliveroo", "pos")]

    service_refs = {code["ref"] for code in codes["service_types"]}
    payment_refs = {code["ref"] for code in codes["payment_methods"]}
    assert all(order["service_type_ref"] in service_refs for order in orders)
    assert all(payment["ref"] in payment_refs for order in orders for payment in order["payments"])


def test_a_seed_gives_the_same_content_again_as_another_order(hubrise_sandbox):
    first = hubrise_sandbox.create_order_as("uber_eats", seed=9, dispatch=False)
    second = hubrise_sandbox.create_order_as("uber_eats", seed=9, dispatch=False)

    assert first["id"] != second["id"]
    assert [i["sku_ref"] for i in first["items"]] == [i["sku_ref"] for i in second["items"]]
    assert first["total"] == second["total"]
