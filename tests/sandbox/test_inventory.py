"""Inventory: stock per sku and option ref for the location and catalog, PUT and PATCH, expiry, events."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.sandbox.test_callbacks import wait_until
from tests.sandbox.test_catalogs import api_with
from tests.sandbox.test_order_validation import rejected_fields


@pytest.fixture
def path(hubrise_sandbox) -> str:
    return f"/catalogs/{hubrise_sandbox.catalog_id}/location/inventory"


def in_paris(seconds: float) -> str:
    return (datetime.now(ZoneInfo("Europe/Paris")) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


def test_an_inventory_starts_empty_meaning_everything_is_available(app_api, path):
    assert app_api.get(path).json() == []


def test_the_long_path_names_the_location(hubrise_sandbox, app_api):
    response = app_api.get(f"/catalogs/{hubrise_sandbox.catalog_id}/locations/{hubrise_sandbox.location_id}/inventory")

    assert response.status_code == 200


def test_a_patch_sets_stock_and_answers_only_the_changed_entries(app_api, path):
    app_api.patch(path, [{"sku_ref": "STEAK-FRITES", "stock": "12"}, {"option_ref": "BEARNAISE", "stock": "3"}])

    changed = app_api.patch(path, [{"sku_ref": "STEAK-FRITES", "stock": "0"}])

    assert changed.status_code == 200
    assert changed.json() == [{"sku_ref": "STEAK-FRITES", "stock": "0", "expires_at": None}]
    assert app_api.get(path).json() == [
        {"sku_ref": "STEAK-FRITES", "stock": "0", "expires_at": None},
        {"option_ref": "BEARNAISE", "stock": "3", "expires_at": None},
    ]


def test_a_null_stock_in_a_patch_removes_the_entry(app_api, path):
    app_api.patch(path, [{"sku_ref": "COCA-33", "stock": "3"}, {"option_ref": "SUPP-OEUF", "stock": "1"}])

    app_api.patch(path, [{"sku_ref": "COCA-33", "stock": None}])

    assert app_api.get(path).json() == [{"option_ref": "SUPP-OEUF", "stock": "1", "expires_at": None}]


def test_a_put_resets_the_catalog_entries_it_does_not_name(app_api, path):
    app_api.patch(path, [{"sku_ref": "COCA-33", "stock": "3"}, {"sku_ref": "TATIN", "stock": "0"}])

    replaced = app_api.request("PUT", path, [{"sku_ref": "TATIN", "stock": "2"}, {"option_ref": "ROQUEFORT", "stock": None}])

    assert replaced.status_code == 200
    assert replaced.json() == [{"sku_ref": "TATIN", "stock": "2", "expires_at": None}]
    assert app_api.get(path).json() == replaced.json()


def test_an_out_of_stock_entry_can_say_when_the_item_comes_back(app_api, path):
    back_at = in_paris(3600)

    app_api.patch(path, [{"sku_ref": "POISSON-JOUR", "stock": "0", "expires_at": back_at}])

    assert app_api.get(path).json() == [{"sku_ref": "POISSON-JOUR", "stock": "0", "expires_at": back_at}]


def test_an_expired_entry_goes_away_and_every_subscriber_hears_of_it(hubrise_sandbox, app_api, path, callback_receiver):
    app_api.post("/callback", {"url": callback_receiver.url, "events": {"inventory": ["patch"]}})

    app_api.patch(path, [{"sku_ref": "POISSON-JOUR", "stock": "0", "expires_at": in_paris(1)}])
    event = callback_receiver.wait_for(1, timeout=5)[0].json()

    assert (event["resource_type"], event["event_type"]) == ("inventory", "patch")
    assert event["catalog_id"] == hubrise_sandbox.catalog_id
    assert event["location_id"] == hubrise_sandbox.location_id
    assert event["state_change"] == [{"sku_ref": "POISSON-JOUR", "stock": None, "expires_at": None}]
    assert app_api.get(path).json() == []


REFUSALS = {
    "unknown-sku-ref": ([{"sku_ref": "PIZZA", "stock": "1"}], "[0].sku_ref"),
    "unknown-option-ref": ([{"option_ref": "ANCHOIS", "stock": "1"}], "[0].option_ref"),
    "both-refs": ([{"sku_ref": "TATIN", "option_ref": "BEARNAISE", "stock": "1"}], "[0]"),
    "no-ref": ([{"stock": "1"}], "[0]"),
    "stock-as-number": ([{"sku_ref": "TATIN", "stock": 0}], "[0].stock"),
    "negative-stock": ([{"sku_ref": "TATIN", "stock": "-1"}], "[0].stock"),
    "four-decimals": ([{"sku_ref": "TATIN", "stock": "1.2345"}], "[0].stock"),
    "missing-stock": ([{"sku_ref": "TATIN"}], "[0].stock"),
    "expiry-while-in-stock": ([{"sku_ref": "TATIN", "stock": "2", "expires_at": "2030-01-01T12:00:00+01:00"}], "[0].expires_at"),
    "expiry-without-offset": ([{"sku_ref": "TATIN", "stock": "0", "expires_at": "2030-01-01T12:00:00"}], "[0].expires_at"),
    "same-ref-twice": ([{"sku_ref": "TATIN", "stock": "1"}, {"sku_ref": "TATIN", "stock": "2"}], "[1].sku_ref"),
    "unknown-field": ([{"sku_ref": "TATIN", "stock": "1", "quantity": "1"}], "[0].quantity"),
}


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_an_entry_hubrise_refuses_is_a_422_and_changes_nothing(app_api, path, method, case):
    app_api.patch(path, [{"sku_ref": "COCA-33", "stock": "5"}])
    body, field = case

    errors = rejected_fields(app_api.request(method, path, body))

    assert field in errors, errors
    assert app_api.get(path).json() == [{"sku_ref": "COCA-33", "stock": "5", "expires_at": None}]


def test_a_body_that_is_not_an_array_is_refused(app_api, path):
    assert "base" in rejected_fields(app_api.patch(path, {"sku_ref": "TATIN", "stock": "1"}))


def test_inventory_needs_an_inventory_or_catalog_permission(hubrise_sandbox, path):
    orders_only, read_only, deprecated = (
        api_with(hubrise_sandbox, scope)
        for scope in ("location[orders.write]", "location[inventory.read]", "location[catalog.write]")
    )

    assert orders_only.get(path).status_code == 403
    assert read_only.get(path).status_code == 200
    refused = read_only.patch(path, [{"sku_ref": "TATIN", "stock": "0"}])
    assert refused.status_code == 403
    assert "inventory.write" in refused.json()["message"]
    assert deprecated.patch(path, [{"sku_ref": "TATIN", "stock": "0"}]).status_code == 200


def test_a_stock_change_by_the_pos_sends_inventory_patch_with_the_changes(hubrise_sandbox, app_api, callback_receiver):
    app_api.post("/callback", {"url": callback_receiver.url, "events": {"inventory": ["patch", "update"]}})

    hubrise_sandbox.patch_inventory([{"sku_ref": "STEAK-FRITES", "stock": "0"}])
    event = callback_receiver.wait_for(1)[0].json()

    assert event["event_type"] == "patch"
    assert event["state_change"] == [{"sku_ref": "STEAK-FRITES", "stock": "0", "expires_at": None}]


def test_a_put_sends_inventory_update_without_state(hubrise_sandbox, app_api, pos_api):
    app_api.post("/callback", {"url": None, "events": {"inventory": ["update"]}})

    pos_api.request("PUT", f"/catalogs/{hubrise_sandbox.catalog_id}/location/inventory", [{"sku_ref": "TATIN", "stock": "0"}])
    [summary] = app_api.get("/callback/events").json()
    event = app_api.get(f"/callback/events/{summary['id']}").json()

    assert (event["resource_type"], event["event_type"]) == ("inventory", "update")
    assert "state_change" not in event and "new_state" not in event


def test_our_own_stock_change_sends_us_nothing(hubrise_sandbox, app_api, path):
    app_api.post("/callback", {"url": None, "events": {"inventory": ["patch", "update"]}})

    app_api.patch(path, [{"sku_ref": "TATIN", "stock": "0"}])
    time.sleep(0.05)

    assert app_api.get("/callback/events").json() == []


def test_entries_of_refs_removed_from_the_catalog_are_left_alone_by_a_put(hubrise_sandbox, app_api, path):
    app_api.patch(path, [{"sku_ref": "TATIN", "stock": "0"}])
    upload = hubrise_sandbox.catalog_upload()
    upload["data"]["products"] = [p for p in upload["data"]["products"] if p["ref"] != "TATIN"]
    upload["data"]["deals"] = [d for d in upload["data"]["deals"] if d["ref"] != "FORMULE-MIDI"]
    hubrise_sandbox.put_catalog(upload)

    app_api.request("PUT", path, [{"sku_ref": "COCA-33", "stock": "1"}])

    assert wait_until(lambda: hubrise_sandbox.inventory()) == [
        {"sku_ref": "TATIN", "stock": "0", "expires_at": None},
        {"sku_ref": "COCA-33", "stock": "1", "expires_at": None},
    ]
