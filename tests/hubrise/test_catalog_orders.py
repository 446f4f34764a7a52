"""What the POS changes in HubRise's catalog or inventory holds from the very next order taken by the intake API.

Each process keeps what orders read of the menu (menu/order_facts.py): an order goes
through first, so that what it read is kept, then the POS's change reaches us through
the sandbox and a passive poll, then the same order again.
"""

from __future__ import annotations

import pytest

from tests.hubrise.catalog_steps import poll
from tests.menu.front import order_poster

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def send(connected, establishment):
    """Posts an order of these items to the intake API as the ordering front does: (status, errors or items)."""
    return order_poster(establishment)


def by_ref(ref: str) -> dict:
    return {"sku_ref": ref, "quantity": "1"}


def test_a_price_the_pos_changes_is_the_next_orders_price(send, connected, hubrise, django_capture_on_commit_callbacks):
    assert send(by_ref("CREME-BRULEE"))[1][0]["price"] == "7.50 EUR"

    hubrise.set_sku_price("CREME-BRULEE", "7.90 EUR")
    poll(connected, django_capture_on_commit_callbacks)

    assert send(by_ref("CREME-BRULEE"))[1][0]["price"] == "7.90 EUR"


def test_a_product_the_pos_removes_is_off_the_menu_from_the_next_order(
    send, connected, hubrise, django_capture_on_commit_callbacks
):
    assert send(by_ref("PROFITEROLES"))[0] == 201
    upload = hubrise.catalog_upload()
    upload["data"]["products"] = [product for product in upload["data"]["products"] if product["ref"] != "PROFITEROLES"]
    hubrise.put_catalog(upload)

    poll(connected, django_capture_on_commit_callbacks)

    assert send(by_ref("PROFITEROLES")) == (400, {"items[0].sku_ref": ["“PROFITEROLES” is not on the menu."]})


def test_a_dish_the_pos_marks_out_of_stock_is_refused_from_the_next_order_and_taken_again_once_back(
    send, connected, hubrise, django_capture_on_commit_callbacks
):
    assert send(by_ref("TATIN"))[0] == 201

    hubrise.patch_inventory([{"sku_ref": "TATIN", "stock": "0"}])
    poll(connected, django_capture_on_commit_callbacks)
    refused = send(by_ref("TATIN"))
    hubrise.patch_inventory([{"sku_ref": "TATIN", "stock": None}])
    poll(connected, django_capture_on_commit_callbacks)

    assert refused == (400, {"items[0].sku_ref": ["“Tarte Tatin” (TATIN) is unavailable."]})
    assert send(by_ref("TATIN"))[0] == 201


def test_a_whole_inventory_the_pos_puts_holds_from_the_next_order(send, connected, hubrise, django_capture_on_commit_callbacks):
    assert send(by_ref("OEUFS-MAYO"))[0] == 201
    path = f"/catalogs/{hubrise.catalog_id}/locations/{hubrise.location_id}/inventory"

    hubrise.control("PUT", path, json={"entries": [{"sku_ref": "OEUFS-MAYO", "stock": "0"}], "as": "pos"})
    poll(connected, django_capture_on_commit_callbacks)

    assert send(by_ref("OEUFS-MAYO")) == (400, {"items[0].sku_ref": ["“Œufs mayonnaise” (OEUFS-MAYO) is unavailable."]})
