"""The demo: Le Petit Bistrot connects to the sandbox by OAuth and its menu is the sandbox's bistro catalog."""

from __future__ import annotations

import random
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from menu.demo import demo_menu
from menu.models import Deal, Menu, Sku
from menu.ordering import check_order
from orders.demo import random_order
from orders.models import Establishment, OrderItem
from tests.hubrise.oauth_steps import connect

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.redis]


def test_the_demo_bistro_gets_its_menu_from_the_sandbox_when_it_connects_and_new_orders_use_it(
    client, hubrise, worker_applies_at_once, django_capture_on_commit_callbacks
):
    hubrise.reset()
    call_command("seed_demo", stdout=StringIO())
    bistrot = Establishment.objects.get(name="Le Petit Bistrot")
    client.force_login(get_user_model().objects.get(username="demo"))

    with django_capture_on_commit_callbacks(execute=True):
        connect(client, hubrise, bistrot.pk)

    catalog = hubrise.catalog()["data"]
    sku_refs = {sku["ref"] for product in catalog["products"] for sku in product["skus"]}
    assert set(Sku.objects.filter(menu__establishment=bistrot).values_list("ref", flat=True)) == sku_refs
    assert Deal.objects.filter(menu__establishment=bistrot, ref="FORMULE-MIDI").exists()
    assert not Menu.objects.filter(establishment__name="La Brasserie du Port").exists()

    call_command("generate_orders", count=10, seed=5, establishment=bistrot.pk, stdout=StringIO())
    newest = OrderItem.objects.filter(order__establishment=bistrot).order_by("-order__created_at", "-pk")[:10]
    assert {item.sku_ref for item in newest} <= sku_refs
    draws = demo_menu(bistrot)
    rng = random.Random(7)
    orders = [random_order(rng, timezone.now(), menu=draws) for _ in range(50)]
    assert all(check_order(bistrot, order) == order for order in orders)
