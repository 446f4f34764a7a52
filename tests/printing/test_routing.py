"""Printing by category: the bar printer gets the drinks (and every kind of drink), the kitchen the whole order."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.inputs import NewItem
from printing import jobs, services
from printing.models import Printer, PrintJob
from tests.factories import croque_order, make_establishment, make_order, make_user
from tests.menu.bistro import BISTRO_MENU

pytestmark = pytest.mark.django_db


@pytest.fixture
def establishment():
    from menu import services as menu_services

    establishment = make_establishment()
    menu_services.replace_menu(establishment, BISTRO_MENU, source="test")
    return establishment


def printer(establishment, name: str, categories: list[str]) -> Printer:
    return Printer.objects.create(establishment=establishment, name=name, host="192.168.1.50", category_refs=categories)


def item(name: str, sku_ref: str) -> NewItem:
    return NewItem(product_name=name, sku_ref=sku_ref, price=Decimal("6.00"), quantity=Decimal("1"))


def ticket_text(job: PrintJob) -> str:
    return jobs.ticket_for(job, job.printer, resumed=False).decode("cp858", errors="replace")


def test_each_printer_prints_the_items_of_its_categories_and_one_without_categories_prints_all(establishment):
    kitchen = printer(establishment, "Cuisine", [])
    bar = printer(establishment, "Bar", ["BOISSONS"])
    pastry = printer(establishment, "Desserts", ["DESSERTS"])
    order = make_order(establishment, items=(item("Steak frites", "STEAK-FR"), item("Vin rouge", "VIN-R-15")))

    written = {job.printer_id: job for job in services.print_order(order)}

    assert set(written) == {kitchen.pk, bar.pk}, "no ticket for the desserts printer: the order has no dessert"
    bar_ticket, kitchen_ticket = ticket_text(written[bar.pk]), ticket_text(written[kitchen.pk])
    # Wine is in VINS, inside BOISSONS: the bar prints it, and only it.
    assert "Vin rouge" in bar_ticket and "Steak frites" not in bar_ticket
    assert "Vin rouge" in kitchen_ticket and "Steak frites" in kitchen_ticket
    assert pastry.pk not in written


def test_an_item_without_a_menu_code_prints_only_where_no_category_is_chosen(establishment):
    kitchen = printer(establishment, "Cuisine", [])
    printer(establishment, "Bar", ["BOISSONS"])
    order = make_order(establishment, items=(item("Plat du jour", ""),))

    written = services.print_order(order)

    assert [job.printer_id for job in written] == [kitchen.pk]


def test_a_manager_ticks_the_menu_categories_of_a_printer(client, establishment):
    from orders.models import Membership

    client.force_login(make_user(establishment, username="claire", role=Membership.Role.MANAGER))
    form = client.get(reverse("printing:printer_add", args=[establishment.pk])).text
    assert 'value="BOISSONS"' in form and "Vins" in form

    response = client.post(
        reverse("printing:printer_add", args=[establishment.pk]),
        {
            "name": "Bar",
            "host": "192.168.1.51",
            "port": "9100",
            "paper_width": "80",
            "ticket_kind": "kitchen",
            "categories": ["BOISSONS"],
        },
    )

    assert response.status_code == 302
    assert Printer.objects.get(name="Bar").category_refs == ["BOISSONS"]


def test_without_categories_every_printer_prints_the_whole_order_as_before():
    establishment = make_establishment()
    printer(establishment, "Cuisine", [])
    printer(establishment, "Salle", [])
    order = make_order(establishment, **{"items": croque_order().items})

    assert len(services.print_order(order)) == 2
