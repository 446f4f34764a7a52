"""The menu pages as a manager and as kitchen staff: browse, one-tap availability, edits, and what each may do."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.urls import reverse

from menu import services
from menu.models import Option, Product, Sku
from tests.factories import make_establishment, make_user
from tests.menu.bistro import BISTRO_MENU

pytestmark = pytest.mark.django_db


def fr(text: str) -> str:
    """French as the pages write it: non-breaking spaces inside « » and before a colon."""
    return text.replace("« ", "«\u00a0").replace(" »", "\u00a0»").replace(" :", "\u00a0:")


def page(establishment, **query) -> str:
    url = reverse("menu:page", args=[establishment.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_top_bar_leads_to_the_menu(cook, establishment):
    response = cook.get(reverse("orders:list", args=[establishment.pk]))

    assert f'href="{page(establishment)}"' in response.content.decode()


def test_a_cook_browses_the_menu_by_category(cook, establishment, django_assert_max_num_queries):
    plats = Product.objects.get(ref="STEAK-FR").category

    with django_assert_max_num_queries(13):
        response = cook.get(page(establishment, category=plats.pk))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Steak frites" in body and "18,50\u00a0€" in body and "Cuisson · Accompagnement · Sauce" in body
    assert "Mousse au chocolat" not in body
    assert "Tout est disponible sur la carte." in body
    assert "Modifier" not in body and "Sans code de référence" not in body


def test_a_category_shows_the_products_of_its_subcategories(cook, establishment):
    response = cook.get(page(establishment, category=Product.objects.get(ref="VIN-R").category.parent_id))

    body = response.content.decode()
    assert "Vins" in body and "Verre 15 cl" in body and "Limonade artisanale" in body


def test_a_cook_marks_a_sku_unavailable_in_one_tap_and_sees_it_at_the_top(cook, establishment, announced):
    steak = Sku.objects.get(ref="STEAK-FR")

    response = cook.post(
        reverse("menu:availability", args=[establishment.pk]),
        {"kind": "sku", "id": steak.pk, "available": "0", "next": page(establishment)},
        HTTP_HX_REQUEST="true",
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert f'<li id="sku-{steak.pk}" class="menu-row is-unavailable" hx-swap-oob="true">' in body
    assert '<section id="unavailable" class="unavailable has-items"' in body and "Remettre en vente" in body
    assert fr("« Steak frites » est marqué indisponible.") in body
    assert not Sku.objects.get(pk=steak.pk).available
    assert [(kw["source"], [(i.ref, i.available) for i in kw["items"]]) for _, kw, _ in announced] == [
        ("staff", [("STEAK-FR", False)])
    ]


def test_an_option_comes_back_in_one_tap_without_htmx_too(cook, establishment):
    services.set_availability(establishment, available=False, option_refs=["SAUCE-BEARN"], source="staff")
    bearnaise = Option.objects.get(ref="SAUCE-BEARN")

    response = cook.post(
        reverse("menu:availability", args=[establishment.pk]),
        {"kind": "option", "id": bearnaise.pk, "available": "1"},
        follow=True,
    )

    assert Option.objects.get(pk=bearnaise.pk).available
    assert fr("« Sauce · Béarnaise » est de nouveau disponible.") in response.content.decode()


def test_what_is_unavailable_is_listed_at_the_top_of_every_section(cook, establishment):
    services.set_availability(establishment, available=False, sku_refs=["ILE-FLOT"], option_refs=["ACC-HAR"], source="staff")

    body = cook.get(page(establishment, view="service")).content.decode()

    top = body.index('id="unavailable"')
    assert top < body.index("Île flottante") < body.index("Accompagnement · Haricots verts") < body.index("Types de service")


def test_a_manager_sees_what_has_no_ref_code_and_goes_to_fix_it(manager, establishment):
    menu = replace(
        BISTRO_MENU,
        payment_methods=(*BISTRO_MENU.payment_methods, replace(BISTRO_MENU.payment_methods[0], name="Chèque", ref="")),
    )
    services.replace_menu(establishment, menu, source="test")
    Sku.objects.filter(ref="MOUSSE").update(ref="")

    body = manager.get(page(establishment)).content.decode()
    missing = manager.get(page(establishment, view="missing")).content.decode()

    assert fr("Sans code de référence :") in body and "1 variantes, 1 moyens de paiement" in body
    mousse = Sku.objects.get(product__ref="MOUSSE")
    assert "Mousse au chocolat" in missing and reverse("menu:edit_sku", args=[establishment.pk, mousse.pk]) in missing
    assert "Chèque" in missing


def test_a_manager_changes_a_price_written_the_french_way(manager, establishment):
    steak = Sku.objects.get(ref="STEAK-FR")
    url = reverse("menu:edit_sku", args=[establishment.pk, steak.pk])

    form = manager.get(url)
    response = manager.post(url, {"name": "", "ref": "STEAK-FR", "price": "19,50", "next": page(establishment)}, follow=True)

    assert form.status_code == 200 and 'value="18,50"' in form.content.decode()
    assert Sku.objects.get(pk=steak.pk).price == Decimal("19.50")
    assert fr("« Steak frites » est enregistré.") in response.content.decode()


def test_a_ref_code_already_used_is_refused_with_a_message_and_nothing_changes(manager, establishment):
    croque = Sku.objects.get(ref="CROQ-MME")

    response = manager.post(
        reverse("menu:edit_sku", args=[establishment.pk, croque.pk]), {"name": "", "ref": "CROQ-M", "price": "10,50"}
    )

    assert response.status_code == 400
    assert fr("Un autre élément a déjà le code « CROQ-M ».") in response.content.decode()
    assert Sku.objects.get(pk=croque.pk).ref == "CROQ-MME"


def test_a_category_cannot_lose_its_ref_code(manager, establishment):
    plats = Product.objects.get(ref="STEAK-FR").category

    response = manager.post(reverse("menu:edit_category", args=[establishment.pk, plats.pk]), {"name": "Plats", "ref": ""})

    assert response.status_code == 400
    assert Product.objects.get(ref="STEAK-FR").category.ref == "PLATS"


def test_a_manager_lets_orders_through_with_other_prices(manager, establishment):
    manager.post(reverse("menu:settings", args=[establishment.pk]), {"accepts_other_prices": "on"})

    assert establishment.menu.__class__.objects.get(pk=establishment.menu.pk).accepts_other_prices


def test_kitchen_staff_cannot_edit_prices_codes_or_settings(cook, establishment):
    steak = Sku.objects.get(ref="STEAK-FR")
    url = reverse("menu:edit_sku", args=[establishment.pk, steak.pk])

    assert cook.get(url).status_code == 403
    assert cook.post(url, {"name": "", "ref": "X", "price": "1,00"}).status_code == 403
    assert cook.post(reverse("menu:settings", args=[establishment.pk]), {"accepts_other_prices": "on"}).status_code == 403
    assert Sku.objects.get(pk=steak.pk).price == Decimal("18.50")


def test_another_establishments_menu_is_a_404(manager, establishment):
    other = make_establishment("La Brasserie du Port")
    services.replace_menu(other, BISTRO_MENU, source="test")
    make_user(other, "bob")
    their_steak = Sku.objects.get(ref="STEAK-FR", menu__establishment=other)

    assert manager.get(page(other)).status_code == 404
    assert manager.get(reverse("menu:edit_sku", args=[establishment.pk, their_steak.pk])).status_code == 404
    refused = manager.post(
        reverse("menu:availability", args=[establishment.pk]), {"kind": "sku", "id": their_steak.pk, "available": "0"}
    )
    assert refused.status_code == 404
    assert Sku.objects.get(pk=their_steak.pk).available


def test_search_finds_skus_by_name_or_code(cook, establishment):
    body = cook.get(page(establishment, q="vin-r")).content.decode()

    assert "Pichet 50 cl" in body and "Mousse" not in body


def test_the_option_lists_deals_and_service_sections(manager, establishment):
    options = manager.get(page(establishment, view="options")).content.decode()
    offers = manager.get(page(establishment, view="offers")).content.decode()
    service = manager.get(page(establishment, view="service")).content.decode()

    assert "Cuisson" in options and "1 choix" in options and "+ 1,50\u00a0€" in options
    assert "Formule midi : plat + dessert ou café" in offers and "Steak frites (+ 3,00\u00a0€)" in offers
    assert "Click &amp; collect" in service and "CLICK-COLLECT" in service and "Titre-restaurant" in service


def test_an_establishment_without_menu_says_so(cook, establishment):
    services.delete_menu(establishment, source="test")

    body = cook.get(page(establishment)).content.decode()

    assert "Cet établissement n’a pas encore de carte" in body
