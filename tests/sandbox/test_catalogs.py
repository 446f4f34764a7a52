"""Catalogs: listing, the heavy read in HubRise's retrieve shapes, create and PUT with their refusals,
permissions, images and catalog events."""

from __future__ import annotations

import copy
import time

import pytest

from tests.sandbox.conftest import ApiClient
from tests.sandbox.test_callbacks import wait_until
from tests.sandbox.test_order_validation import rejected_fields

READ_ONLY = "location[orders.write,catalog.read]"


def a_catalog(**data) -> dict:
    """A small valid catalog, with ``data`` keys replaced."""
    base = {
        "categories": [{"ref": "PLATS", "name": "Plats"}],
        "products": [
            {
                "ref": "STEAK",
                "category_ref": "PLATS",
                "name": "Steak frites",
                "skus": [{"ref": "STEAK-200", "price": "18.90 EUR", "option_list_refs": ["CUISSON"]}],
            }
        ],
        "option_lists": [
            {
                "ref": "CUISSON",
                "name": "Cuisson",
                "min_selections": 1,
                "max_selections": 1,
                "options": [{"ref": "SAIGNANT", "name": "Saignant"}, {"ref": "A-POINT", "name": "À point", "default": True}],
            }
        ],
    }
    return {"name": "Carte web", "data": {**base, **data}}


@pytest.fixture
def catalog_id(hubrise_sandbox) -> str:
    return hubrise_sandbox.catalog_id


def api_with(hubrise_sandbox, scope: str, **extra) -> ApiClient:
    """A connection of its own (re-authorising the same device would give back the same token)."""
    return ApiClient(hubrise_sandbox.api_url, hubrise_sandbox.connect(scope=scope, device_id=scope, **extra)["access_token"])


# Reading ----------------------------------------------------------------------------------------


def test_the_location_lists_its_catalogs_without_their_content(app_api, catalog_id):
    [listed] = app_api.get("/location/catalogs").json()

    assert listed["id"] == catalog_id
    assert listed["name"] == "Carte Le Petit Bistrot"
    assert listed["created_at"].endswith("+01:00") or listed["created_at"].endswith("+02:00")
    assert "data" not in listed


def test_the_demo_catalog_is_a_french_bistro_menu_with_refs_everywhere(app_api, catalog_id):
    catalog = app_api.get(f"/catalogs/{catalog_id}").json()
    data = catalog["data"]

    assert catalog["location_id"] == app_api.get("/location").json()["id"]
    assert [c["name"] for c in data["categories"]][:3] == ["Entrées", "Plats", "Desserts"]
    skus = [sku for product in data["products"] for sku in product["skus"]]
    assert len(skus) > 25 and all(sku["ref"] for sku in skus)
    assert {o["ref"] for o in data["option_lists"]} >= {"CUISSON", "ACCOMP", "SUPPLEMENTS"}
    assert all(option["ref"] for option_list in data["option_lists"] for option in option_list["options"])
    assert "FORMULE-MIDI" in {deal["ref"] for deal in data["deals"]}
    assert data["discounts"] and all(d["ref"] for d in data["discounts"])
    assert data["charges"] and all(c["ref"] for c in data["charges"])
    assert {v["ref"] for v in data["variants"]} == {"SUR-PLACE", "EMPORTER", "LIVRAISON"}


def test_a_catalog_is_read_with_ids_for_links_as_hubrise_retrieves_it(app_api, catalog_id):
    data = app_api.get(f"/catalogs/{catalog_id}").json()["data"]

    categories = {c["id"]: c for c in data["categories"]}
    option_lists = {o["id"]: o for o in data["option_lists"]}
    steak = next(p for p in data["products"] if p["ref"] == "STEAK-FRITES")
    [sku] = steak["skus"]
    assert categories[steak["category_id"]]["ref"] == "PLATS"
    assert [option_lists[i]["ref"] for i in sku["option_list_ids"]] == ["CUISSON", "SAUCE", "ACCOMP", "SUPPLEMENTS"]
    assert sku["product_id"] == steak["id"]
    assert "category_ref" not in steak and "option_list_refs" not in sku
    cuisson = next(o for o in data["option_lists"] if o["ref"] == "CUISSON")
    assert (cuisson["min_selections"], cuisson["max_selections"], cuisson["type"]) == (1, 1, "single")
    assert {o["option_list_id"] for o in cuisson["options"]} == {cuisson["id"]}
    formule = next(d for d in data["deals"] if d["ref"] == "FORMULE-MIDI")
    skus_by_id = {s["id"]: s for p in data["products"] for s in p["skus"]}
    assert all(skus_by_id[line_sku["id"]]["ref"] == line_sku["ref"] for line in formule["lines"] for line_sku in line["skus"])


def test_categories_come_depth_first(app_api, catalog_id):
    refs = [c["ref"] for c in app_api.get(f"/catalogs/{catalog_id}/categories").json()]

    assert refs.index("BOISSONS-FRAICHES") == refs.index("BOISSONS") + 1
    assert refs[-1] == "FORMULES"


def test_hide_data_answers_the_catalog_without_its_content(app_api, catalog_id):
    catalog = app_api.get(f"/catalogs/{catalog_id}", params={"hide_data": "true"}).json()

    assert catalog["name"] == "Carte Le Petit Bistrot"
    assert "data" not in catalog


def test_sub_resources_are_read_one_by_one(app_api, catalog_id):
    products = app_api.get(f"/catalogs/{catalog_id}/products").json()
    croque = next(p for p in products if p["ref"] == "CROQUE")

    product = app_api.get(f"/catalogs/{catalog_id}/products/{croque['id']}").json()
    skus = app_api.get(f"/catalogs/{catalog_id}/products/{croque['id']}/skus").json()
    sku = app_api.get(f"/catalogs/{catalog_id}/products/{croque['id']}/skus/{skus[1]['id']}").json()

    assert product == croque
    assert [s["ref"] for s in skus] == ["CROQUE-M", "CROQUE-MME"]
    assert sku["name"] == "Madame (œuf)"
    assert app_api.get(f"/catalogs/{catalog_id}/products/nope").status_code == 404


def test_index_endpoints_page_with_x_cursor_next(app_api, catalog_id):
    first = app_api.get(f"/catalogs/{catalog_id}/products", params={"count": 20})
    second = app_api.get(f"/catalogs/{catalog_id}/products", params={"count": 20, "cursor": first.headers["X-Cursor-Next"]})

    assert len(first.json()) == 20
    assert "X-Cursor-Next" not in second.headers
    assert len(first.json()) + len(second.json()) == len(app_api.get(f"/catalogs/{catalog_id}").json()["data"]["products"])


def test_another_locations_catalog_is_not_found(hubrise_sandbox, app_api):
    other = hubrise_sandbox.locations()[1]["catalogs"][0]["id"]

    response = app_api.get(f"/catalogs/{other}")

    assert response.status_code == 404
    assert response.json()["error_type"] == "not_found"


# Heavy call -------------------------------------------------------------------------------------


@pytest.fixture
def away_from_a_minute_boundary():
    seconds_left = 60 - time.time() % 60
    if seconds_left < 3:
        time.sleep(seconds_left + 0.1)


def test_reading_a_catalog_is_a_heavy_call_limited_apart_from_order_lists(
    hubrise_sandbox, app_api, catalog_id, away_from_a_minute_boundary
):
    hubrise_sandbox.set_rate_limits(heavy_per_minute=2)
    app_api.get(f"/catalogs/{catalog_id}")
    app_api.get(f"/catalogs/{catalog_id}", params={"hide_data": "true"})

    refused = app_api.get(f"/catalogs/{catalog_id}")
    order_list = app_api.get("/location/orders")
    light_call = app_api.get("/location/catalogs")

    assert refused.status_code == 429
    assert refused.json()["error_type"] == "too_many_requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert order_list.status_code == 200
    assert light_call.status_code == 200


def test_ten_catalog_reads_a_minute_are_allowed_by_default(app_api, catalog_id, away_from_a_minute_boundary):
    statuses = [app_api.get(f"/catalogs/{catalog_id}", params={"hide_data": "true"}).status_code for _ in range(11)]

    assert statuses == [200] * 10 + [429]


# Permissions ------------------------------------------------------------------------------------


def test_reading_catalogs_without_a_catalog_permission_is_forbidden(hubrise_sandbox, catalog_id):
    api = api_with(hubrise_sandbox, "location[orders.write]")

    for response in (api.get("/location/catalogs"), api.get(f"/catalogs/{catalog_id}")):
        assert response.status_code == 403
        assert response.json()["error_type"] == "forbidden"
        assert "catalog.read" in response.json()["message"]


def test_catalog_read_reaches_only_the_bound_catalog(hubrise_sandbox, app_api):
    extra = app_api.post("/location/catalogs", a_catalog()).json()
    api = api_with(hubrise_sandbox, READ_ONLY)

    assert api.get(f"/catalogs/{hubrise_sandbox.catalog_id}").status_code == 200
    assert api.get(f"/catalogs/{extra['id']}").status_code == 403


def test_updating_with_catalog_read_only_is_forbidden(hubrise_sandbox, catalog_id):
    api = api_with(hubrise_sandbox, READ_ONLY)

    response = api.request("PUT", f"/catalogs/{catalog_id}", a_catalog())

    assert response.status_code == 403
    assert "catalog.write" in response.json()["message"]
    assert hubrise_sandbox.catalog()["name"] == "Carte Le Petit Bistrot"


def test_creating_a_catalog_needs_all_catalogs_write(hubrise_sandbox):
    api = api_with(hubrise_sandbox, "location[catalog.write]")

    response = api.post("/location/catalogs", a_catalog())

    assert response.status_code == 403
    assert "all_catalogs.write" in response.json()["message"]


def test_catalog_write_updates_the_bound_catalog_even_when_it_belongs_to_the_account(hubrise_sandbox):
    account_catalog = hubrise_sandbox._control(
        "POST",
        f"/locations/{hubrise_sandbox.location_id}/catalogs",
        json={**a_catalog(), "name": "Carte commune", "level": "account"},
    )
    api = api_with(hubrise_sandbox, "location[catalog.write]", catalog_id=account_catalog["id"])

    response = api.request("PUT", f"/catalogs/{account_catalog['id']}", {"name": "Carte commune 2026"})

    assert response.status_code == 200
    assert response.json()["account_id"] == hubrise_sandbox.locations()[0]["account_id"]


def test_all_catalogs_write_cannot_touch_an_account_catalog_and_gets_401(hubrise_sandbox):
    account_catalog = hubrise_sandbox._control(
        "POST",
        f"/locations/{hubrise_sandbox.location_id}/catalogs",
        json={**a_catalog(), "name": "Carte commune", "level": "account"},
    )
    api = api_with(hubrise_sandbox, "location[all_catalogs.write]")

    readable = api.get(f"/catalogs/{account_catalog['id']}")
    response = api.request("PUT", f"/catalogs/{account_catalog['id']}", {"name": "Autre"})

    assert readable.status_code == 200
    assert response.status_code == 401
    assert response.json()["error_type"] == "unauthorized"


def test_the_token_answer_names_the_catalog_picked_for_the_connection(hubrise_sandbox, app_api):
    picked = app_api.post("/location/catalogs", a_catalog()).json()

    answer = hubrise_sandbox.connect(catalog_id=picked["id"])

    assert (answer["catalog_id"], answer["catalog_name"]) == (picked["id"], "Carte web")


# Create and PUT ---------------------------------------------------------------------------------


@pytest.fixture
def app_api(hubrise_sandbox) -> ApiClient:
    """Our app, allowed to create catalogs too."""
    return api_with(hubrise_sandbox, "location[orders.write,catalog.write,all_catalogs.write,inventory.write]")


def test_a_created_catalog_is_answered_with_ids_and_listed(app_api):
    created = app_api.post("/location/catalogs", a_catalog())

    assert created.status_code == 200
    body = created.json()
    assert body["name"] == "Carte web"
    assert body["data"]["products"][0]["skus"][0]["ref"] == "STEAK-200"
    assert body["data"]["products"][0]["skus"][0]["id"]
    assert body["data"]["option_lists"][0]["options"][0]["price"] == "0.00 EUR"
    assert body["id"] in {c["id"] for c in app_api.get("/location/catalogs").json()}


def test_a_put_replaces_the_whole_content_and_draws_new_ids(app_api, catalog_id):
    before = app_api.get(f"/catalogs/{catalog_id}").json()

    response = app_api.request("PUT", f"/catalogs/{catalog_id}", a_catalog())
    after = app_api.get(f"/catalogs/{catalog_id}").json()

    assert response.status_code == 200
    assert after["name"] == "Carte web"
    assert [p["ref"] for p in after["data"]["products"]] == ["STEAK"]
    assert after["data"]["deals"] == [] and after["data"]["variants"] == [] and after["data"]["charges"] == []
    plats_before = next(c["id"] for c in before["data"]["categories"] if c["ref"] == "PLATS")
    assert after["data"]["categories"][0]["id"] != plats_before
    assert after["created_at"] == before["created_at"]


def test_a_put_without_data_only_renames(app_api, catalog_id):
    before = app_api.get(f"/catalogs/{catalog_id}").json()

    app_api.request("PUT", f"/catalogs/{catalog_id}", {"name": "Carte d'hiver"})
    after = app_api.get(f"/catalogs/{catalog_id}").json()

    assert after["name"] == "Carte d'hiver"
    assert after["data"] == before["data"]


def test_a_catalog_name_already_used_by_the_location_is_refused(app_api):
    errors = rejected_fields(app_api.post("/location/catalogs", {"name": "Carte Le Petit Bistrot"}))

    assert "name" in errors


def test_two_locations_may_each_have_a_catalog_of_the_same_name(hubrise_sandbox, app_api):
    other_location = hubrise_sandbox.locations()[1]["id"]
    other = ApiClient(hubrise_sandbox.api_url, hubrise_sandbox.create_token(other_location, scope="location[all_catalogs.write]"))

    assert app_api.post("/location/catalogs", a_catalog()).status_code == 200
    assert other.post("/location/catalogs", a_catalog()).status_code == 200


def test_sku_and_option_refs_may_repeat_as_hubrise_states_no_rule_for_them(app_api, catalog_id):
    body = a_catalog()
    body["data"]["products"].append(copy.deepcopy(body["data"]["products"][0]) | {"ref": "STEAK-BIS", "name": "Steak bis"})

    assert app_api.request("PUT", f"/catalogs/{catalog_id}", body).status_code == 200


REFUSALS = {
    "bad-money": (
        lambda c: c["data"]["products"][0]["skus"][0].update(price="18.9 EUR"),
        "data.products[0].skus[0].price",
    ),
    "money-as-number": (lambda c: c["data"]["products"][0]["skus"][0].update(price=18.9), "data.products[0].skus[0].price"),
    "other-currency": (lambda c: c["data"]["products"][0]["skus"][0].update(price="18.90 GBP"), "data.products[0].skus[0].price"),
    "duplicate-category-ref": (
        lambda c: c["data"]["categories"].append({"ref": "PLATS", "name": "Encore"}),
        "data.categories[1].ref",
    ),
    "duplicate-option-list-ref": (
        lambda c: c["data"]["option_lists"].append(copy.deepcopy(c["data"]["option_lists"][0])),
        "data.option_lists[1].ref",
    ),
    "duplicate-variant-ref": (
        lambda c: c["data"].update(variants=[{"ref": "1", "name": "Uber"}, {"ref": "1", "name": "Deliveroo"}]),
        "data.variants[1].ref",
    ),
    "unknown-option-list": (
        lambda c: c["data"]["products"][0]["skus"][0].update(option_list_refs=["SAUCE"]),
        "data.products[0].skus[0].option_list_refs[0]",
    ),
    "unknown-category": (lambda c: c["data"]["products"][0].update(category_ref="DESSERTS"), "data.products[0].category_ref"),
    "unknown-parent-category": (lambda c: c["data"]["categories"][0].update(parent_ref="NOPE"), "data.categories[0].parent_ref"),
    "missing-category-ref": (lambda c: c["data"]["categories"][0].pop("ref"), "data.categories[0].ref"),
    "missing-sku-price": (lambda c: c["data"]["products"][0]["skus"][0].pop("price"), "data.products[0].skus[0].price"),
    "product-without-sku": (lambda c: c["data"]["products"][0].update(skus=[]), "data.products[0].skus"),
    "option-list-without-option": (lambda c: c["data"]["option_lists"][0].update(options=[]), "data.option_lists[0].options"),
    "too-many-defaults": (
        lambda c: c["data"]["option_lists"][0]["options"][0].update(default=True),
        "data.option_lists[0].options",
    ),
    "max-below-min": (lambda c: c["data"]["option_lists"][0].update(max_selections=0), "data.option_lists[0].max_selections"),
    "unknown-field": (lambda c: c["data"]["products"][0].update(color="red"), "data.products[0].color"),
    "misspelt-option-lists-key": (lambda c: c["data"].update(options_lists=[]), "data.options_lists"),
    "deal-with-unknown-sku": (
        lambda c: c["data"].update(
            deals=[{"name": "Menu", "lines": [{"skus": [{"ref": "NOPE"}], "pricing_effect": "unchanged"}]}]
        ),
        "data.deals[0].lines[0].skus[0].ref",
    ),
    "deal-percentage-over-100": (
        lambda c: c["data"].update(
            deals=[
                {
                    "name": "Menu",
                    "lines": [{"skus": [{"ref": "STEAK-200"}], "pricing_effect": "percentage_off", "pricing_value": "150"}],
                }
            ]
        ),
        "data.deals[0].lines[0].pricing_value",
    ),
    "charge-without-type": (
        lambda c: c["data"].update(charges=[{"name": "Livraison", "price": "2.00 EUR"}]),
        "data.charges[0].type",
    ),
    "discount-with-unknown-effect": (
        lambda c: c["data"].update(discounts=[{"name": "Promo", "pricing_effect": "free"}]),
        "data.discounts[0].pricing_effect",
    ),
    "override-without-condition": (
        lambda c: c["data"]["products"][0]["skus"][0].update(price_overrides=[{"price": "20.00 EUR"}]),
        "data.products[0].skus[0].price_overrides[0]",
    ),
    "restriction-on-unknown-variant": (
        lambda c: c["data"]["products"][0]["skus"][0].update(restrictions={"variant_refs": ["UBER"]}),
        "data.products[0].skus[0].restrictions.variant_refs[0]",
    ),
    "bad-days-of-week": (
        lambda c: c["data"]["products"][0]["skus"][0].update(restrictions={"dow": "1234567-"}),
        "data.products[0].skus[0].restrictions.dow",
    ),
    "unknown-image": (lambda c: c["data"]["products"][0].update(image_ids=["zxdxw"]), "data.products[0].image_ids[0]"),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_catalog_hubrise_refuses_is_a_422_naming_the_field_and_changes_nothing(hubrise_sandbox, app_api, catalog_id, case):
    change, field = case
    body = a_catalog()
    change(body)
    before = hubrise_sandbox.catalog()

    errors = rejected_fields(app_api.request("PUT", f"/catalogs/{catalog_id}", body))

    assert field in errors, errors
    assert hubrise_sandbox.catalog() == before


def test_a_refused_create_lists_every_problem_at_once(app_api):
    body = a_catalog()
    body["data"]["products"][0]["skus"][0]["price"] = "abc"
    body["data"]["products"][0]["category_ref"] = "NOPE"

    errors = rejected_fields(app_api.post("/location/catalogs", body))

    assert {"data.products[0].skus[0].price", "data.products[0].category_ref"} <= set(errors)
    assert errors["data.products[0].skus[0].price"] == "'abc' is not a valid monetary amount"


def test_a_catalog_without_a_name_is_refused_on_create(app_api):
    assert "name" in rejected_fields(app_api.post("/location/catalogs", {"data": a_catalog()["data"]}))


def test_a_catalog_body_must_be_json(app_api, catalog_id):
    response = app_api.request("PUT", f"/catalogs/{catalog_id}", headers={"Content-Type": "text/plain"}, data="name=x")

    assert response.status_code == 415


def test_deleting_a_location_catalog_removes_it(app_api):
    created = app_api.post("/location/catalogs", a_catalog()).json()

    deleted = app_api.delete(f"/catalogs/{created['id']}")

    assert deleted.status_code == 200
    assert app_api.get(f"/catalogs/{created['id']}").status_code == 404


# Images -----------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_an_uploaded_image_is_described_and_served_back(app_api, catalog_id):
    uploaded = app_api.request("POST", f"/catalogs/{catalog_id}/images", headers={"Content-Type": "image/png"}, data=PNG)

    image = uploaded.json()
    assert uploaded.status_code == 200
    assert (image["type"], image["size"]) == ("image/png", len(PNG))
    assert len(image["md5"]) == 32
    assert image["seconds_before_removal"] > 29 * 24 * 3600
    data = app_api.get(f"/catalogs/{catalog_id}/images/{image['id']}/data")
    assert (data.headers["Content-Type"], data.content) == ("image/png", PNG)
    assert [i["id"] for i in app_api.get(f"/catalogs/{catalog_id}/images").json()] == [image["id"]]


def test_an_image_referenced_by_a_product_is_no_longer_due_for_removal(app_api, catalog_id):
    image = app_api.request("POST", f"/catalogs/{catalog_id}/images", headers={"Content-Type": "image/png"}, data=PNG).json()
    body = a_catalog()
    body["data"]["products"][0]["image_ids"] = [image["id"]]

    assert app_api.request("PUT", f"/catalogs/{catalog_id}", body).status_code == 200
    assert app_api.get(f"/catalogs/{catalog_id}/images/{image['id']}").json()["seconds_before_removal"] is None


def test_an_image_over_1_mb_or_of_another_type_is_refused(app_api, catalog_id):
    too_big = app_api.request(
        "POST", f"/catalogs/{catalog_id}/images", headers={"Content-Type": "image/png"}, data=b"x" * (1024 * 1024 + 1)
    )
    not_an_image = app_api.request(
        "POST", f"/catalogs/{catalog_id}/images", headers={"Content-Type": "application/pdf"}, data=b"%PDF"
    )

    assert too_big.status_code == 422
    assert not_an_image.status_code == 415


# Events -----------------------------------------------------------------------------------------


@pytest.fixture
def catalog_events(app_api, callback_receiver):
    response = app_api.post("/callback", {"url": callback_receiver.url, "events": {"catalog": ["create", "update", "delete"]}})
    assert response.status_code == 200
    return callback_receiver


def test_a_price_changed_by_the_pos_sends_catalog_update_without_state(hubrise_sandbox, app_api, catalog_events, catalog_id):
    hubrise_sandbox.set_sku_price("STEAK-FRITES", "20.50 EUR")

    event = catalog_events.wait_for(1)[0].json()

    assert (event["resource_type"], event["event_type"]) == ("catalog", "update")
    assert event["catalog_id"] == catalog_id
    assert event["location_id"] == hubrise_sandbox.location_id
    assert "new_state" not in event and "previous_state" not in event
    steak = next(p for p in app_api.get(f"/catalogs/{catalog_id}").json()["data"]["products"] if p["ref"] == "STEAK-FRITES")
    assert steak["skus"][0]["price"] == "20.50 EUR"


def test_a_product_added_by_the_pos_reaches_a_passive_callback(hubrise_sandbox, app_api, catalog_id):
    app_api.post("/callback", {"url": None, "events": {"catalog": ["update"]}})

    hubrise_sandbox.add_product(
        {"ref": "TARTARE", "category_ref": "PLATS", "name": "Tartare de bœuf", "skus": [{"ref": "TARTARE", "price": "17.50 EUR"}]}
    )
    [summary] = app_api.get("/callback/events").json()

    assert (summary["resource_type"], summary["event_type"], summary["catalog_id"]) == ("catalog", "update", catalog_id)
    products = app_api.get(f"/catalogs/{catalog_id}/products").json()
    assert "TARTARE" in {p["ref"] for p in products}


def test_a_catalog_created_by_another_app_sends_catalog_create(hubrise_sandbox, catalog_events):
    created = hubrise_sandbox.create_catalog_as_pos(a_catalog())

    event = catalog_events.wait_for(1)[0].json()

    assert (event["event_type"], event["catalog_id"]) == ("create", created["id"])


def test_our_own_catalog_put_sends_us_no_event(hubrise_sandbox, app_api, catalog_events, catalog_id):
    app_api.request("PUT", f"/catalogs/{catalog_id}", a_catalog())
    hubrise_sandbox.set_sku_price("STEAK-200", "19.00 EUR")

    received = catalog_events.wait_for(1)
    time.sleep(0.1)

    assert len(received) == len(catalog_events.received) == 1
    assert hubrise_sandbox.catalog()["data"]["products"][0]["skus"][0]["price"] == "19.00 EUR"


def test_an_unchecked_catalog_is_served_exactly_as_the_control_api_stored_it(hubrise_sandbox, app_api, catalog_id):
    broken = {"products": [{"ref": "X", "name": "Prix flottant", "category_ref": "NOPE", "skus": [{"ref": "X", "price": 9.5}]}]}

    hubrise_sandbox.put_catalog({"data": broken}, unchecked=True)

    assert app_api.get(f"/catalogs/{catalog_id}").json()["data"] == broken


def test_events_wait_for_a_subscriber_and_reach_other_locations_only_for_account_catalogs(hubrise_sandbox, catalog_events):
    other_location = hubrise_sandbox.locations()[1]["id"]
    other = ApiClient(hubrise_sandbox.api_url, hubrise_sandbox.create_token(other_location))
    other.post("/callback", {"url": None, "events": {"catalog": ["create", "update"]}})

    hubrise_sandbox.set_sku_price("STEAK-FRITES", "20.00 EUR")
    hubrise_sandbox.create_catalog_as_pos({**a_catalog(), "name": "Commune"}, level="account")
    wait_until(lambda: len(catalog_events.received) == 2)

    assert [e["event_type"] for e in other.get("/callback/events").json()] == ["create"]
