"""The menu in the Django admin: superusers only, every change validated and announced like the others."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from menu import services
from menu.models import Category, Menu, Product, Sku
from tests.factories import make_establishment
from tests.menu.admin_forms import inline_forms, sku_form
from tests.menu.bistro import BISTRO_MENU

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.fr", "x"))
    return client


def test_a_superuser_changes_a_price_and_the_change_is_announced(admin_client, establishment, announced):
    steak = Sku.objects.get(ref="STEAK-FR")

    response = admin_client.post(reverse("admin:menu_sku_change", args=[steak.pk]), sku_form(steak, price="19.00"))

    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Sku.objects.get(pk=steak.pk).price == Decimal("19.00")
    kind, details, _in_transaction = announced[-1]
    assert (kind, details["source"], [(p.ref, p.old, p.new) for p in details["changes"].price_changes]) == (
        "menu",
        "admin",
        [("STEAK-FR", Decimal("18.50"), Decimal("19.00"))],
    )


def test_marking_a_sku_unavailable_in_the_admin_is_announced_as_availability(admin_client, establishment, announced):
    steak = Sku.objects.get(ref="STEAK-FR")

    admin_client.post(reverse("admin:menu_sku_change", args=[steak.pk]), sku_form(steak, available=""))

    assert not Sku.objects.get(pk=steak.pk).available
    assert [(kind, [(i.ref, i.available) for i in kw["items"]]) for kind, kw, _ in announced if kind == "availability"] == [
        ("availability", [("STEAK-FR", False)])
    ]


def test_a_sku_code_already_used_is_refused_in_the_admin_too(admin_client, establishment):
    croque = Sku.objects.get(ref="CROQ-MME")

    response = admin_client.post(reverse("admin:menu_sku_change", args=[croque.pk]), sku_form(croque, ref="CROQ-M"))

    assert response.status_code == 200
    assert "Another one of this menu already has this ref code." in response.content.decode()
    assert Sku.objects.get(pk=croque.pk).ref == "CROQ-MME"


def test_a_product_cannot_be_put_in_another_menus_category(admin_client, establishment):
    other = make_establishment("La Brasserie du Port")
    services.replace_menu(other, BISTRO_MENU, source="test")
    steak = Product.objects.get(ref="STEAK-FR", menu__establishment=establishment)
    their_plats = Category.objects.get(ref="PLATS", menu__establishment=other)
    data = {"menu": steak.menu_id, "position": "0", "category": their_plats.pk, "ref": "STEAK-FR", "name": "Steak frites"}
    data.update({"tags": "[]", **inline_forms("skus", [])})

    response = admin_client.post(reverse("admin:menu_product_change", args=[steak.pk]), data)

    assert response.status_code == 200
    assert "This belongs to another menu." in response.content.decode()
    assert Product.objects.get(pk=steak.pk).category.menu.establishment == establishment


def test_a_sku_added_inline_takes_its_products_menu(admin_client, establishment, announced):
    limonade = Product.objects.get(ref="LIMO")
    data = {"menu": limonade.menu_id, "position": "0", "category": limonade.category_id, "ref": "LIMO", "name": limonade.name}
    data.update(
        {
            "tags": "[]",
            "skus-TOTAL_FORMS": "2",
            "skus-INITIAL_FORMS": "1",
            "skus-MIN_NUM_FORMS": "0",
            "skus-MAX_NUM_FORMS": "1000",
        }
    )
    existing = limonade.skus.get()
    data.update({"skus-0-id": existing.pk, "skus-0-product": limonade.pk, "skus-0-name": "33 cl", "skus-0-ref": "LIMO-33"})
    data.update({"skus-0-price": "4.50", "skus-0-available": "on", "skus-0-position": "0", "skus-0-tags": "[]"})
    data.update({"skus-1-product": limonade.pk, "skus-1-name": "50 cl", "skus-1-ref": "LIMO-50", "skus-1-price": "6.00"})
    data.update({"skus-1-available": "on", "skus-1-position": "1", "skus-1-tags": "[]"})

    response = admin_client.post(reverse("admin:menu_product_change", args=[limonade.pk]), data)

    assert response.status_code == 302, response.content.decode()[-3000:]
    added = Sku.objects.get(ref="LIMO-50")
    assert added.menu_id == limonade.menu_id
    assert ("sku", "LIMO-50") in {(c.kind, c.ref) for kind, kw, _ in announced if kind == "menu" for c in kw["changes"].added}


def test_deleting_a_menu_in_the_admin_brings_back_unchecked_orders(admin_client, establishment):
    menu = Menu.objects.get(establishment=establishment)

    admin_client.post(reverse("admin:menu_menu_delete", args=[menu.pk]), {"post": "yes"})

    assert not Menu.objects.filter(establishment=establishment).exists()
    assert not Sku.objects.filter(menu_id=menu.pk).exists()


def test_staff_who_are_not_superusers_do_not_see_the_menu_in_the_admin(establishment):
    staff = get_user_model().objects.create_user("alice", "alice@example.fr", "x", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="menu"))
    client = Client()
    client.force_login(staff)

    # The admin is for superusers only: anyone else is sent to its login page.
    for url in (reverse("admin:menu_sku_changelist"), reverse("admin:menu_sku_change", args=[Sku.objects.first().pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
