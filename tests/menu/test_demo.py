"""The demo restaurant gets the bistro menu, and the demo orders come from it."""

import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from menu import services
from menu.demo import demo_menu
from menu.demo_bistro import BISTRO_MENU
from menu.models import Menu, Sku
from menu.ordering import check_order
from orders.demo import random_order
from orders.models import Establishment, OrderItem
from tests.factories import make_establishment

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_the_bistro_its_menu_and_orders_drawn_from_it():
    call_command("seed_demo", stdout=StringIO())

    bistrot = Establishment.objects.get(name="Le Petit Bistrot")
    assert Menu.objects.filter(establishment=bistrot).exists()
    assert not Menu.objects.filter(establishment__name="La Brasserie du Port").exists()
    assert not Sku.objects.get(menu__establishment=bistrot, ref="ILE-FLOT").available
    on_the_menu = set(Sku.objects.filter(menu__establishment=bistrot).values_list("ref", flat=True))
    ordered = set(OrderItem.objects.filter(order__establishment=bistrot).values_list("sku_ref", flat=True))
    assert ordered and ordered <= on_the_menu - {"ILE-FLOT"}


def test_orders_drawn_from_a_menu_pass_its_checks_unchanged():
    establishment = make_establishment()
    services.replace_menu(establishment, BISTRO_MENU, source="test")
    services.set_availability(establishment, available=False, sku_refs=["STEAK-FR"], option_refs=["ACC-FRI"], source="test")
    draws = demo_menu(establishment)
    rng = random.Random(4)

    orders = [random_order(rng, timezone.now(), menu=draws) for _ in range(200)]

    assert all(check_order(establishment, order) == order for order in orders)
    refs = {item.sku_ref for order in orders for item in order.items}
    options = {option.ref for order in orders for item in order.items for option in item.options}
    assert "STEAK-FR" not in refs and "ACC-FRI" not in options
    assert any(order.deals for order in orders)


def test_generate_orders_draws_from_the_menu_of_an_establishment_that_has_one():
    with_menu, without = make_establishment(), make_establishment("La Brasserie du Port")
    services.replace_menu(with_menu, BISTRO_MENU, source="test")

    call_command("generate_orders", count=30, seed=3, stdout=StringIO())

    on_the_menu = set(Sku.objects.filter(menu__establishment=with_menu).values_list("ref", flat=True))
    assert set(OrderItem.objects.filter(order__establishment=with_menu).values_list("sku_ref", flat=True)) <= on_the_menu
    assert OrderItem.objects.filter(order__establishment=without).exists()
