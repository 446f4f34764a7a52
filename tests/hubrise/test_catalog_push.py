"""Our menu and its availability pushed to HubRise through the connection outbox, by a real worker, to the sandbox."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from hubrise_sync.connection_outbox import topics
from hubrise_sync.models import CatalogSync, Connection, ConnectionMessage, InventoryRefresh
from menu import services as menu_services
from menu.models import Sku
from tests.hubrise.oauth_steps import connect
from tests.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def connected(client, manager, establishment, hubrise, celery_worker):
    """Connected by OAuth; the worker imports the sandbox's catalog."""
    hubrise.reset()
    connect(client, hubrise, establishment.pk)
    wait_until(lambda: Sku.objects.filter(menu__establishment=establishment).exists(), what="the catalog imported")
    # The inventory read that follows an import, done before the test changes availability.
    wait_until(lambda: InventoryRefresh.objects.filter(done_at__isnull=False).exists(), what="the inventory read")
    return Connection.objects.get(establishment=establishment)


def puts(hubrise) -> list[dict]:
    """Our PUTs of the catalog, as the sandbox logged them."""
    return hubrise.requests_log(method="PUT", path_prefix=f"/v1/catalogs/{hubrise.catalog_id}", client_name="Get Resto")


def sku_price_at_hubrise(hubrise, ref: str) -> str:
    return next(sku["price"] for product in hubrise.catalog()["data"]["products"] for sku in product["skus"] if sku["ref"] == ref)


def edit_price(establishment, ref: str, price: str) -> None:
    sku = Sku.objects.get(menu__establishment=establishment, ref=ref)
    menu_services.edit_item(establishment, "sku", sku.pk, price=Decimal(price), source=menu_services.SOURCE_STAFF)


def test_send_the_menu_button_puts_the_edited_menu_once(client, connected, establishment, hubrise):
    edit_price(establishment, "STEAK-FRITES", "22.00")

    client.post(reverse("hubrise:push_catalog", args=[establishment.pk]))

    wait_until(lambda: sku_price_at_hubrise(hubrise, "STEAK-FRITES") == "22.00 EUR", what="the new price at HubRise")
    assert len(puts(hubrise)) == 1
    # The whole menu came back whole: every product, the variants, the deal.
    data = hubrise.catalog_upload()["data"]
    assert len(data["products"]) == Sku.objects.filter(menu__establishment=establishment).values("product").distinct().count()
    assert {"ref": "SUR-PLACE", "name": "Sur place"} in data["variants"]
    assert any(deal["ref"] == "FORMULE-MIDI" for deal in data["deals"])
    page = client.get(reverse("hubrise:settings", args=[establishment.pk])).text
    assert "Catalogue HubRise" in page


def test_with_automatic_sending_ten_edits_in_the_window_make_one_put(client, connected, establishment, hubrise, monkeypatch):
    monkeypatch.setitem(topics.BY_NAME, "catalog", dataclasses.replace(topics.get("catalog"), debounce=timedelta(seconds=3)))
    client.post(reverse("hubrise:auto_push_catalog", args=[establishment.pk]), {"auto_push": "on"})
    assert CatalogSync.objects.get(connection=connected).auto_push

    for cents in range(10):
        edit_price(establishment, "BURGER", f"17.{cents:02d}")

    wait_until(lambda: sku_price_at_hubrise(hubrise, "BURGER") == "17.09 EUR", what="the last price at HubRise")
    time.sleep(4)
    assert len(puts(hubrise)) == 1


def test_an_empty_menu_is_never_put(client, connected, establishment, hubrise):
    menu_services.delete_menu(establishment, source=menu_services.SOURCE_STAFF)

    client.post(reverse("hubrise:push_catalog", args=[establishment.pk]))

    row = wait_until(
        lambda: ConnectionMessage.objects.filter(
            connection=connected, topic="catalog", state=ConnectionMessage.State.FAILED
        ).first(),
        what="the catalog push refused",
    )
    assert "vide" in row.last_error
    assert puts(hubrise) == []
    assert hubrise.catalog()["data"]["products"]


def test_a_dish_marked_out_of_stock_here_reaches_the_hubrise_inventory_and_back(connected, establishment, hubrise):
    def entries() -> list[dict]:
        return [entry for entry in hubrise.inventory() if entry.get("sku_ref") == "STEAK-FRITES"]

    menu_services.set_availability(establishment, available=False, sku_refs=["STEAK-FRITES"], source=menu_services.SOURCE_STAFF)
    wait_until(lambda: entries() and entries()[0]["stock"] == "0", what="stock 0 at HubRise")

    menu_services.set_availability(establishment, available=True, sku_refs=["STEAK-FRITES"], source=menu_services.SOURCE_STAFF)
    wait_until(lambda: not entries(), what="the entry removed at HubRise")
    # The worker settles its record once HubRise has answered, a moment after the sandbox applied the change.
    wait_until(lambda: CatalogSync.objects.get(connection=connected).pending_stock == {}, what="nothing left to send")
