"""HubRise's inventory callbacks move the menu's availability flags ("en rupture"), against the sandbox."""

from __future__ import annotations

import pytest

from hubrise_sync import inventory_sync
from menu.models import Option, Sku
from tests.hubrise.catalog_steps import poll

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.redis]


def available(establishment, sku_ref: str) -> bool:
    return Sku.objects.get(menu__establishment=establishment, ref=sku_ref).available


def test_the_pos_marking_a_dish_and_an_option_out_of_stock_and_back_moves_our_flags(
    connected, establishment, hubrise, django_capture_on_commit_callbacks
):
    hubrise.patch_inventory([{"sku_ref": "TATIN", "stock": "0"}, {"option_ref": "BEARNAISE", "stock": "0"}])
    poll(connected, django_capture_on_commit_callbacks)

    assert not available(establishment, "TATIN")
    assert not Option.objects.get(menu__establishment=establishment, ref="BEARNAISE").available
    assert available(establishment, "CREME-BRULEE")

    hubrise.patch_inventory([{"sku_ref": "TATIN", "stock": None}, {"option_ref": "BEARNAISE", "stock": "5"}])
    poll(connected, django_capture_on_commit_callbacks)

    assert available(establishment, "TATIN")
    assert Option.objects.get(menu__establishment=establishment, ref="BEARNAISE").available


def test_a_whole_inventory_put_by_the_pos_is_read_again_and_applied(
    connected, establishment, hubrise, django_capture_on_commit_callbacks
):
    path = f"/catalogs/{hubrise.catalog_id}/locations/{hubrise.location_id}/inventory"
    hubrise.control("PATCH", path, json={"entries": [{"sku_ref": "TATIN", "stock": "0"}], "as": "pos"})
    poll(connected, django_capture_on_commit_callbacks)
    assert not available(establishment, "TATIN")

    hubrise.control("PUT", path, json={"entries": [{"sku_ref": "CONFIT", "stock": "0"}], "as": "pos"})
    poll(connected, django_capture_on_commit_callbacks)

    assert available(establishment, "TATIN")
    assert not available(establishment, "CONFIT")


def test_an_entry_with_an_expiry_still_ahead_is_out_of_stock_and_one_past_is_not():
    assert inventory_sync.out_of_stock({"sku_ref": "A", "stock": "0", "expires_at": "2999-01-01T11:00:00+01:00"})
    assert not inventory_sync.out_of_stock({"sku_ref": "A", "stock": "0", "expires_at": "2000-01-01T11:00:00+01:00"})
    assert not inventory_sync.out_of_stock({"sku_ref": "A", "stock": "3.5"})
    assert inventory_sync.out_of_stock({"sku_ref": "A", "stock": "0.000"})
    assert inventory_sync.out_of_stock({"sku_ref": "A", "stock": "lots"}) is None


def test_a_tap_not_yet_sent_to_hubrise_survives_a_whole_inventory_read(connected, establishment, hubrise):
    from hubrise_sync.models import CatalogSync
    from menu import services as menu_services

    menu_services.set_availability(establishment, available=False, sku_refs=["CONFIT"], source=menu_services.SOURCE_STAFF)
    assert CatalogSync.objects.get(connection=connected).pending_stock == {"sku:CONFIT": False}
    inventory_sync.request_refresh(connected)

    inventory_sync.refresh(connected.pk)

    assert not available(establishment, "CONFIT")
