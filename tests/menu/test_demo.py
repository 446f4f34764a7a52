"""Demo orders come from an establishment's menu when it has one."""

import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from menu import services
from menu.demo import demo_menu
from menu.models import Menu, Sku
from menu.ordering import check_order
from orders.demo import random_order
from orders.models import OrderItem
from tests.factories import make_establishment
from tests.menu.bistro import BISTRO_MENU

pytestmark = pytest.mark.django_db


def test_seed_demo_leaves_the_menu_to_the_hubrise_pull():
    call_command("seed_demo", stdout=StringIO())

    # The bistro's menu is the sandbox's catalog, pulled when the demo connects to HubRise
    # (tests/hubrise/test_catalog_demo.py); until then its orders are taken unchecked.
    assert not Menu.objects.exists()
    assert OrderItem.objects.filter(order__establishment__name="Le Petit Bistrot").exists()


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
