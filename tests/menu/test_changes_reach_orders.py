"""A change of the menu, wherever it is made, holds from the very next order (each process keeps what orders read of
the menu, menu/order_facts.py): an order goes through first, so that what it read is kept, then the change, then
the same order again."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from menu.models import Option, OptionList, Sku
from tests.menu.admin_forms import inline_forms, sku_form
from tests.menu.front import order_poster

pytestmark = pytest.mark.django_db

STEAK = {"sku_ref": "STEAK-FR", "quantity": "1", "options": [{"ref": "CUIS-SAIG"}, {"ref": "ACC-FRI"}]}


@pytest.fixture
def send(establishment):
    """Posts an order of these items to the intake API as the ordering front does: (status, errors or items)."""
    return order_poster(establishment)


@pytest.fixture
def admin_client():
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.fr", "x"))
    return client


def tap(client, establishment, kind: str, item_id: int, available: bool) -> None:
    data = {"kind": kind, "id": item_id, "available": "1" if available else "0"}
    response = client.post(reverse("menu:availability", args=[establishment.pk]), data)
    assert response.status_code == 302


def test_a_sku_tapped_unavailable_on_the_menu_page_is_refused_from_the_next_order_and_back_after_the_next_tap(
    send, cook, establishment
):
    assert send(STEAK)[0] == 201
    steak = Sku.objects.get(ref="STEAK-FR")

    tap(cook, establishment, "sku", steak.pk, available=False)
    refused = send(STEAK)
    tap(cook, establishment, "sku", steak.pk, available=True)

    assert refused == (400, {"items[0].sku_ref": ["“Steak frites” (STEAK-FR) is unavailable."]})
    assert send(STEAK)[0] == 201


def test_an_option_tapped_unavailable_on_the_menu_page_is_refused_from_the_next_order(send, cook, establishment):
    assert send(STEAK)[0] == 201

    tap(cook, establishment, "option", Option.objects.get(ref="ACC-FRI").pk, available=False)

    assert send(STEAK) == (400, {"items[0].options[1].ref": ["“Frites maison” (ACC-FRI) is unavailable."]})


def test_a_price_a_manager_changes_on_the_menu_page_is_the_next_orders_price(send, manager, establishment):
    assert send(STEAK)[1][0]["price"] == "18.50 EUR"
    steak = Sku.objects.get(ref="STEAK-FR")

    manager.post(reverse("menu:edit_sku", args=[establishment.pk, steak.pk]), {"name": "", "ref": "STEAK-FR", "price": "19,50"})

    assert send(STEAK)[1][0]["price"] == "19.50 EUR"
    assert send({**STEAK, "price": "18.50 EUR"}) == (
        400,
        {
            "items[0].price": [
                "The menu's price of “Steak frites” is 19.50 EUR, not 18.50 EUR: this establishment takes the menu's prices."
            ]
        },
    )


def test_a_sku_marked_unavailable_in_the_admin_is_refused_from_the_next_order(send, admin_client):
    assert send(STEAK)[0] == 201
    steak = Sku.objects.get(ref="STEAK-FR")

    response = admin_client.post(reverse("admin:menu_sku_change", args=[steak.pk]), sku_form(steak, available=""))

    assert response.status_code == 302
    assert send(STEAK) == (400, {"items[0].sku_ref": ["“Steak frites” (STEAK-FR) is unavailable."]})


def test_an_option_marked_unavailable_in_its_lists_admin_page_is_refused_from_the_next_order(send, admin_client):
    assert send(STEAK)[0] == 201
    sides = OptionList.objects.get(ref="ACCOMP")
    rows = [
        {
            "id": option.pk,
            "option_list": sides.pk,
            "name": option.name,
            "ref": option.ref,
            "price": str(option.price),
            "is_default": "on" if option.is_default else "",
            "available": "" if option.ref == "ACC-FRI" else "on",
            "position": option.position,
            "tags": "[]",
        }
        for option in sides.options.order_by("position", "id")
    ]
    form = {
        "menu": sides.menu_id,
        "position": sides.position,
        "ref": sides.ref,
        "name": sides.name,
        "min_selections": sides.min_selections,
        "max_selections": sides.max_selections if sides.max_selections is not None else "",
        "tags": "[]",
        **inline_forms("options", rows),
    }

    response = admin_client.post(reverse("admin:menu_optionlist_change", args=[sides.pk]), form)

    assert response.status_code == 302, response.content.decode()[-3000:]
    assert send(STEAK) == (400, {"items[0].options[1].ref": ["“Frites maison” (ACC-FRI) is unavailable."]})


def test_a_sku_deleted_in_the_admin_is_off_the_menu_from_the_next_order(send, admin_client):
    assert send(STEAK)[0] == 201

    admin_client.post(reverse("admin:menu_sku_delete", args=[Sku.objects.get(ref="STEAK-FR").pk]), {"post": "yes"})

    assert send(STEAK) == (400, {"items[0].sku_ref": ["“STEAK-FR” is not on the menu."]})


def test_a_price_changed_in_the_admin_is_the_next_orders_price(send, admin_client):
    assert send(STEAK)[1][0]["price"] == "18.50 EUR"
    steak = Sku.objects.get(ref="STEAK-FR")

    admin_client.post(reverse("admin:menu_sku_change", args=[steak.pk]), sku_form(steak, price="21.00"))

    assert send(STEAK)[1][0]["price"] == "21.00 EUR"
