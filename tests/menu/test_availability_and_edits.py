"""Availability by id or by code, a whole stock list, and a manager's edits of names, codes and prices."""

from decimal import Decimal

import pytest

from menu import selectors, services
from menu.models import Charge, Menu, Option, Sku
from tests.factories import make_establishment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_a_second_tap_on_the_same_item_changes_nothing(establishment, announced):
    steak = Sku.objects.get(ref="STEAK-FR")

    first = services.set_availability(establishment, available=False, sku_ids=[steak.pk], source="staff")
    second = services.set_availability(establishment, available=False, sku_ids=[steak.pk], source="staff")

    assert [(c.kind, c.id, c.ref, c.label, c.available) for c in first] == [("sku", steak.pk, "STEAK-FR", "Steak frites", False)]
    assert second == []
    assert len(announced) == 1
    assert Menu.objects.get(establishment=establishment).version == 2


def test_an_option_code_marks_that_option_in_every_list_that_offers_it(establishment):
    frites = Option.objects.get(ref="ACC-FRI")
    extra = Option.objects.create(
        menu_id=frites.menu_id, option_list=Option.objects.get(ref="SUPP-OEUF").option_list, ref="ACC-FRI", name="Frites"
    )

    changes = services.set_availability(establishment, available=False, option_refs=["ACC-FRI"], source="pos")

    assert sorted(c.label for c in changes) == ["Accompagnement · Frites maison", "Suppléments · Frites"]
    assert not Option.objects.get(pk=extra.pk).available


def test_a_whole_stock_list_leaves_exactly_those_items_out(establishment, announced):
    services.set_availability(establishment, available=False, sku_refs=["MOUSSE", "CROQ-M"], source="staff")

    changes = services.replace_availability(
        establishment, unavailable_sku_refs=["CROQ-M", "BURGER"], unavailable_option_refs=["SAUCE-ROQ"], source="pos"
    )

    assert sorted((c.ref, c.available) for c in changes) == [("BURGER", False), ("MOUSSE", True), ("SAUCE-ROQ", False)]
    assert set(Sku.objects.filter(available=False).values_list("ref", flat=True)) == {"CROQ-M", "BURGER"}
    assert [(kind, kw["source"]) for kind, kw, _ in announced][-1] == ("availability", "pos")


def test_availability_of_an_establishment_without_menu_is_a_no_op():
    assert services.set_availability(make_establishment("Sans carte"), available=False, sku_refs=["X"], source="pos") == []


def test_a_manager_changes_a_price_and_the_change_says_from_what(establishment, announced):
    steak = Sku.objects.get(ref="STEAK-FR")

    changes = services.edit_item(establishment, "sku", steak.pk, source="staff", price=Decimal("19.90"))

    assert [(p.label, p.old, p.new) for p in changes.price_changes] == [("Steak frites", Decimal("18.50"), Decimal("19.90"))]
    assert announced[-1][1]["source"] == "staff"


def test_a_sku_in_a_deal_keeps_its_code(establishment):
    steak = Sku.objects.get(ref="STEAK-FR")

    with pytest.raises(services.MenuError) as refused:
        services.edit_item(establishment, "sku", steak.pk, source="staff", ref="")

    assert refused.value.messages == ["This SKU is part of a deal, which needs its code."]
    assert Sku.objects.get(pk=steak.pk).ref == "STEAK-FR"


def test_two_payment_methods_without_code_cannot_share_a_name(establishment):
    cash = selectors.service_and_payment(Menu.objects.get(establishment=establishment))["payment_methods"][2]
    services.edit_item(establishment, "payment_method", cash.pk, source="staff", ref="")
    card = selectors.service_and_payment(Menu.objects.get(establishment=establishment))["payment_methods"][0]

    with pytest.raises(services.MenuError) as refused:
        services.edit_item(establishment, "payment_method", card.pk, source="staff", ref="", name="Espèces")

    assert "Another one without code is called “Espèces”" in refused.value.messages[0]


def test_a_charge_may_become_variable(establishment):
    delivery = Charge.objects.get(ref="LIVRAISON")

    changes = services.edit_item(establishment, "charge", delivery.pk, source="staff", clear_price=True)

    assert Charge.objects.get(pk=delivery.pk).price is None
    assert [(p.old, p.new) for p in changes.price_changes] == [(Decimal("3.50"), None)]


def test_an_edit_that_changes_nothing_is_not_announced(establishment, announced):
    steak = Sku.objects.get(ref="STEAK-FR")

    changes = services.edit_item(establishment, "sku", steak.pk, source="staff", name="", ref="STEAK-FR", price=Decimal("18.5"))

    assert not changes.changed and announced == []
