"""The menu pulled from the connection's HubRise catalog: on connection, by hand, on the POS's changes; bad catalogs refused.

Against the sandbox over HTTP. Tasks run in the test's process (``worker_applies_at_once``)
once the transaction that asked for them commits; test_catalog_worker.py runs them in a
real worker.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from hubrise_sync import catalog_import
from hubrise_sync.models import CatalogImport, InboundEvent
from menu import selectors
from menu.models import Category, Channel, Deal, Menu, OptionList, Product, Sku
from orders.models import OrderItem
from tests.factories import make_order
from tests.hubrise.catalog_steps import poll

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.redis]


def settings_page(client, establishment) -> str:
    return client.get(reverse("hubrise:settings", args=[establishment.pk])).text


def test_connecting_imports_the_bound_catalog_with_every_kind_of_object(client, connected, establishment, hubrise):
    catalog = hubrise.catalog()["data"]
    record = CatalogImport.objects.get(establishment=establishment)

    assert record.outcome == CatalogImport.Outcome.IMPORTED
    assert record.trigger == CatalogImport.Trigger.CONNECTION
    assert Product.objects.filter(menu__establishment=establishment).count() == len(catalog["products"])
    assert Sku.objects.get(menu__establishment=establishment, ref="STEAK-FRITES").price == Decimal("19.50")
    assert Category.objects.get(menu__establishment=establishment, ref="VINS-BIERES").parent.ref == "BOISSONS"
    steak = Sku.objects.get(menu__establishment=establishment, ref="STEAK-FRITES")
    assert [link.option_list.ref for link in steak.option_list_links.order_by("position")] == [
        "CUISSON",
        "SAUCE",
        "ACCOMP",
        "SUPPLEMENTS",
    ]
    assert OptionList.objects.get(menu__establishment=establishment, ref="CUISSON").min_selections == 1
    formule = Deal.objects.get(menu__establishment=establishment, ref="FORMULE-MIDI")
    assert formule.lines.count() == 2
    assert set(Channel.objects.filter(menu__establishment=establishment).values_list("ref", flat=True)) == {
        "SUR-PLACE",
        "EMPORTER",
        "LIVRAISON",
    }
    description = selectors.menu_description(establishment)
    steak_sku = next(sku for product in description.products for sku in product.skus if sku.ref == "STEAK-FRITES")
    assert steak_sku.price_rules[0].channel_refs == ("LIVRAISON",)
    assert steak_sku.price_rules[0].price == Decimal("21.50")
    page = settings_page(client, establishment)
    assert "Carte importée" in page
    assert "Réimporter la carte" in page


def test_importing_the_same_catalog_again_changes_nothing_and_says_so(
    client, connected, establishment, django_capture_on_commit_callbacks
):
    version = Menu.objects.get(establishment=establishment).version

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("hubrise:reimport", args=[establishment.pk]))

    assert CatalogImport.objects.filter(establishment=establishment).first().outcome == CatalogImport.Outcome.UNCHANGED
    assert Menu.objects.get(establishment=establishment).version == version
    assert "La carte est déjà à jour." in settings_page(client, establishment)


def test_a_price_changed_on_the_pos_is_imported_from_the_catalog_update_callback(
    client, connected, establishment, hubrise, django_capture_on_commit_callbacks
):
    hubrise.set_sku_price("STEAK-FRITES", "20.90 EUR")

    poll(connected, django_capture_on_commit_callbacks)

    assert Sku.objects.get(menu__establishment=establishment, ref="STEAK-FRITES").price == Decimal("20.90")
    record = CatalogImport.objects.filter(establishment=establishment).first()
    assert record.trigger == CatalogImport.Trigger.CALLBACK
    assert record.details["prices"] == [{"label": "Steak frites (STEAK-FRITES)", "old": "19.50", "new": "20.90"}]
    assert "19.50 → 20.90" in settings_page(client, establishment)


def test_a_product_removed_on_the_pos_leaves_the_menu_and_orders_keep_their_lines(
    connected, establishment, hubrise, django_capture_on_commit_callbacks
):
    order = make_order(establishment)
    lines_before = list(OrderItem.objects.filter(order=order).values_list("product_name", flat=True))
    upload = hubrise.catalog_upload()
    upload["data"]["products"] = [product for product in upload["data"]["products"] if product["ref"] != "PROFITEROLES"]
    hubrise.put_catalog(upload)

    poll(connected, django_capture_on_commit_callbacks)

    assert not Product.objects.filter(menu__establishment=establishment, ref="PROFITEROLES").exists()
    record = CatalogImport.objects.filter(establishment=establishment).first()
    assert record.details["counts"]["removed"] >= 1
    assert any("Profiteroles" in label for label in record.details["removed"])
    assert list(OrderItem.objects.filter(order=order).values_list("product_name", flat=True)) == lines_before


def spoil(upload: dict, how: str) -> dict:
    data = upload["data"]
    if how == "duplicate sku ref":
        data["products"][1]["skus"][0]["ref"] = data["products"][0]["skus"][0]["ref"]
    elif how == "money as a number":
        data["products"][0]["skus"][0]["price"] = 8.5
    elif how == "money in another currency":
        data["products"][0]["skus"][0]["price"] = "8.50 GBP"
    elif how == "unknown option list":
        data["products"][5]["skus"][0]["option_list_refs"] = ["NO-SUCH-LIST"]
    elif how == "field of the wrong type":
        data["products"][0]["name"] = 42
    elif how == "unknown charge type":
        data["charges"][0]["type"] = "surprise"
    return upload


@pytest.mark.parametrize(
    "how, said",
    [
        ("duplicate sku ref", "SOUPE-OIGNON"),
        ("money as a number", "data.products[0].skus[0].price"),
        ("money in another currency", "8.50 GBP"),
        ("unknown option list", "NO-SUCH-LIST"),
        ("field of the wrong type", "data.products[0].name"),
        ("unknown charge type", "surprise"),
    ],
)
def test_a_catalog_that_cannot_be_imported_is_refused_whole_and_the_menu_stays(
    client, connected, establishment, hubrise, django_capture_on_commit_callbacks, how, said
):
    before = selectors.menu_description(establishment)
    hubrise.put_catalog(spoil(hubrise.catalog_upload(), how), unchecked=True)

    poll(connected, django_capture_on_commit_callbacks)

    record = CatalogImport.objects.filter(establishment=establishment).first()
    assert record.outcome == CatalogImport.Outcome.REFUSED
    assert any(said in problem for problem in record.details["problems"]), record.details["problems"]
    assert selectors.menu_description(establishment) == before
    page = settings_page(client, establishment)
    assert "Catalogue refusé\u00a0: la carte précédente est conservée." in page
    assert said in page


def test_the_heavy_catalog_read_waits_for_the_limiter_instead_of_calling_hubrise(connected, establishment, hubrise, settings):
    settings.HUBRISE_RATE_LIMITS = {**settings.HUBRISE_RATE_LIMITS, "heavy_minute": 0}
    reads_before = len(hubrise.requests_log(path_prefix=f"/v1/catalogs/{connected.catalog_id}", method="GET"))
    record = CatalogImport.objects.create(establishment=establishment, trigger=CatalogImport.Trigger.MANUAL)

    with pytest.raises(catalog_import.TryLater):
        catalog_import.run_import(record.pk)

    record.refresh_from_db()
    assert record.outcome == CatalogImport.Outcome.PENDING
    assert record.not_before is not None and record.started_at is None
    assert len(hubrise.requests_log(path_prefix=f"/v1/catalogs/{connected.catalog_id}", method="GET")) == reads_before


def test_a_second_request_while_one_waits_joins_it(connected, establishment):
    first = catalog_import.request_import(establishment, trigger=CatalogImport.Trigger.MANUAL)
    second = catalog_import.request_import(establishment, trigger=CatalogImport.Trigger.CALLBACK)

    assert first.pk == second.pk


def test_kitchen_staff_see_the_imports_but_cannot_ask_for_one(client, connected, establishment):
    from orders.models import Membership
    from tests.factories import make_user

    cook = make_user(establishment, username="marc", role=Membership.Role.STAFF)
    client.force_login(cook)

    assert "Carte importée" in settings_page(client, establishment)
    assert "Réimporter la carte" not in settings_page(client, establishment)
    assert client.post(reverse("hubrise:reimport", args=[establishment.pk])).status_code == 403


def test_a_manager_switches_the_automatic_re_import_off_and_the_pos_changes_then_wait_for_the_button(
    client, connected, establishment, hubrise, django_capture_on_commit_callbacks
):
    switch = 'name="auto_import" checked'
    assert "Réimporter la carte automatiquement quand la caisse la change" in settings_page(client, establishment)
    assert switch in settings_page(client, establishment)

    answer = client.post(reverse("hubrise:auto_import_catalog", args=[establishment.pk]), {}, follow=True)
    hubrise.set_sku_price("STEAK-FRITES", "20.90 EUR")
    poll(connected, django_capture_on_commit_callbacks)

    assert "Les changements du catalogue chez HubRise ne changent plus la carte d’eux-mêmes." in answer.text
    assert switch not in settings_page(client, establishment)
    assert Sku.objects.get(menu__establishment=establishment, ref="STEAK-FRITES").price == Decimal("19.50")
    assert not CatalogImport.objects.filter(establishment=establishment, trigger=CatalogImport.Trigger.CALLBACK).exists()
    event = InboundEvent.objects.get(connection=connected, resource_type="catalog", event_type="update")
    assert event.outcome == InboundEvent.Outcome.IGNORED_UNSUPPORTED
    assert "automatic re-import is off" in event.detail

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("hubrise:reimport", args=[establishment.pk]))
    assert Sku.objects.get(menu__establishment=establishment, ref="STEAK-FRITES").price == Decimal("20.90")

    client.post(reverse("hubrise:auto_import_catalog", args=[establishment.pk]), {"auto_import": "on"})
    hubrise.set_sku_price("STEAK-FRITES", "21.50 EUR")
    poll(connected, django_capture_on_commit_callbacks)
    assert Sku.objects.get(menu__establishment=establishment, ref="STEAK-FRITES").price == Decimal("21.50")


def test_kitchen_staff_cannot_switch_the_automatic_re_import(client, connected, establishment):
    from orders.models import Membership
    from tests.factories import make_user

    client.force_login(make_user(establishment, username="marc", role=Membership.Role.STAFF))

    assert client.post(reverse("hubrise:auto_import_catalog", args=[establishment.pk]), {}).status_code == 403
    assert catalog_import.imports_automatically(connected)
