"""The intake API checks orders against the establishment's menu, and completes items sent by ref only."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from menu import order_facts, services
from menu.ordering import check_order
from orders.inputs import NewItem, NewOption, NewOrder
from orders.models import Order
from tests.factories import api_client, make_establishment
from tests.menu.bistro import BISTRO_MENU

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"


@pytest.fixture
def client(establishment):
    return api_client(establishment)


def steak(**changes) -> dict:
    item = {
        "product_name": "Steak frites",
        "sku_ref": "STEAK-FR",
        "price": "18.50 EUR",
        "quantity": "1",
        "options": [
            {"option_list_name": "Cuisson", "name": "Saignant", "ref": "CUIS-SAIG", "price": "0.00 EUR"},
            {"option_list_name": "Accompagnement", "name": "Frites maison", "ref": "ACC-FRI", "price": "0.00 EUR"},
        ],
    }
    item.update(changes)
    return item


def order(*items, **fields) -> dict:
    return {"service_type": "eat_in", "items": list(items), **fields}


def refused(response) -> dict:
    assert response.status_code == 400, response.content
    assert not Order.objects.exists()
    return response.json()["errors"]


def test_an_order_that_matches_the_menu_is_created(client):
    response = client.post(URL, order(steak()), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["items"][0]["subtotal"] == "18.50 EUR"


def test_an_item_sent_by_ref_only_gets_its_names_prices_and_tax_rate_from_the_menu(client):
    body = order(
        {"sku_ref": "STEAK-FR", "quantity": "2", "options": [{"ref": "CUIS-POINT"}, {"ref": "ACC-HAR"}, {"ref": "SAUCE-BEARN"}]},
        {"sku_ref": "CAFE-CRM", "quantity": "1"},
    )

    response = client.post(URL, body, format="json")

    assert response.status_code == 201, response.content
    items = response.json()["items"]
    assert [(i["product_name"], i["sku_name"], i["price"], i["tax_rate"], i["subtotal"]) for i in items] == [
        ("Steak frites", "", "18.50 EUR", "10", "43.00 EUR"),
        ("Café", "Crème", "4.20 EUR", "10", "4.20 EUR"),
    ]
    assert [(o["option_list_name"], o["name"], o["price"]) for o in items[0]["options"]] == [
        ("Cuisson", "À point", "0.00 EUR"),
        ("Accompagnement", "Haricots verts", "1.50 EUR"),
        ("Sauce", "Béarnaise", "1.50 EUR"),
    ]
    assert response.json()["total"] == "47.20 EUR"


def test_a_sku_ref_that_is_not_on_the_menu_is_refused(client):
    errors = refused(client.post(URL, order(steak(), steak(sku_ref="STEAK-XXL")), format="json"))

    assert errors == {"items[1].sku_ref": ["“STEAK-XXL” is not on the menu."]}


def test_an_item_without_sku_ref_is_refused_when_there_is_a_menu(client):
    errors = refused(
        client.post(URL, order({"product_name": "Plat du jour", "price": "12.00 EUR", "quantity": "1"}), format="json")
    )

    assert errors == {"items[0].sku_ref": ["Required: this establishment has a menu, give the SKU's code."]}


def test_an_unavailable_sku_or_option_is_refused(client, establishment):
    services.set_availability(establishment, available=False, sku_refs=["CROQ-M"], option_refs=["ACC-FRI"], source="staff")
    croque = {"sku_ref": "CROQ-M", "quantity": "1"}

    errors = refused(client.post(URL, order(steak(), croque), format="json"))

    assert errors == {
        "items[0].options[1].ref": ["“Frites maison” (ACC-FRI) is unavailable."],
        "items[1].sku_ref": ["“Croque-monsieur” (CROQ-M) is unavailable."],
    }


def test_an_option_that_is_not_one_of_the_skus_is_refused(client):
    item = steak(options=[*steak()["options"], {"ref": "SUPP-BACON"}])

    errors = refused(client.post(URL, order(item), format="json"))

    assert errors == {"items[0].options[2].ref": ["“SUPP-BACON” is not an option of “Steak frites”."]}


def test_the_minimum_and_maximum_of_each_option_list_are_enforced(client):
    no_cooking = steak(options=[{"ref": "ACC-FRI"}])
    three_sauces = steak(options=[*steak()["options"], {"ref": "SAUCE-POIVRE"}, {"ref": "SAUCE-BEARN"}, {"ref": "SAUCE-ROQ"}])
    two_cookings = steak(options=[*steak()["options"], {"ref": "CUIS-BIEN"}])

    errors = refused(client.post(URL, order(no_cooking, three_sauces, two_cookings), format="json"))

    assert errors == {
        "items[0].options": ["“Cuisson”: choose at least 1 (0 chosen)."],
        "items[1].options": ["“Sauce”: choose at most 2 (3 chosen)."],
        "items[2].options": ["“Cuisson”: choose at most 1 (2 chosen)."],
    }


def test_a_price_that_differs_from_the_menu_is_refused_with_the_menus_price(client):
    cheap = steak(price="15.00 EUR", options=[{"ref": "CUIS-SAIG"}, {"ref": "ACC-HAR", "price": "0.00 EUR"}])

    errors = refused(client.post(URL, order(cheap), format="json"))

    assert errors == {
        "items[0].price": [
            "The menu's price of “Steak frites” is 18.50 EUR, not 15.00 EUR: this establishment takes the menu's prices."
        ],
        "items[0].options[1].price": [
            "The menu's price of “Haricots verts” is 1.50 EUR, not 0.00 EUR: this establishment takes the menu's prices."
        ],
    }


def test_other_prices_are_taken_when_the_establishment_allows_them(client, establishment):
    services.set_menu_settings(establishment, accepts_other_prices=True)

    response = client.post(URL, order(steak(price="15.00 EUR")), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["items"][0]["price"] == "15.00 EUR"


def test_a_deal_item_costs_its_line_price_plus_its_extra_charge(client):
    body = order(
        {
            "sku_ref": "STEAK-FR",
            "quantity": "1",
            "options": [{"ref": "CUIS-SAIG"}, {"ref": "ACC-FRI"}],
            "deal_line": {"deal_key": "0"},
        },
        {"sku_ref": "MOUSSE", "quantity": "1", "deal_line": {"deal_key": "0"}},
        deals={"0": {"name": "Formule midi", "ref": "FORMULE-MIDI"}},
    )

    response = client.post(URL, body, format="json")

    assert response.status_code == 201, response.content
    items = response.json()["items"]
    assert [(i["price"], i["deal_line"]) for i in items] == [
        ("17.50 EUR", {"deal_key": "0", "label": "Plat", "pricing_effect": "fixed_price", "pricing_value": "14.50 EUR"}),
        ("3.50 EUR", {"deal_key": "0", "label": "Dessert ou café", "pricing_effect": "fixed_price", "pricing_value": "3.50 EUR"}),
    ]


def test_a_deal_must_be_on_the_menu_and_hold_the_item(client):
    body = order(
        {"sku_ref": "COCA-33", "price": "3.50 EUR", "quantity": "1", "deal_line": {"deal_key": "0"}},
        {"sku_ref": "COCA-33", "price": "1.00 EUR", "quantity": "1", "deal_line": {"deal_key": "1"}},
        deals={"0": {"name": "Formule midi", "ref": "FORMULE-MIDI"}, "1": {"name": "Happy hour", "ref": "HAPPY"}},
    )

    errors = refused(client.post(URL, body, format="json"))

    assert errors == {
        "deals.1.ref": ["“HAPPY” is not a deal of the menu."],
        "items[0].sku_ref": ["“Coca-Cola · 33 cl” is not part of the deal “Formule midi”."],
    }


def test_an_establishment_without_menu_keeps_taking_any_item(client, establishment):
    services.delete_menu(establishment, source="test")

    response = client.post(URL, order({"product_name": "Plat du jour", "price": "12.00 EUR", "quantity": "1"}), format="json")

    assert response.status_code == 201, response.content


def test_without_menu_an_item_needs_its_name_and_price(client, establishment):
    services.delete_menu(establishment, source="test")

    errors = refused(
        client.post(URL, order({"sku_ref": "STEAK-FR", "quantity": "1", "options": [{"ref": "CUIS-SAIG"}]}), format="json")
    )

    assert errors == {
        "items[0].product_name": ["This field is required."],
        "items[0].price": ["This field is required."],
        "items[0].options[0].option_list_name": ["This field is required."],
        "items[0].options[0].name": ["This field is required."],
    }


def test_the_menu_lookups_cost_two_queries_the_first_time_and_none_once_kept(establishment):
    by_ref = NewOrder(
        items=(
            NewItem(
                "",
                None,
                Decimal("1"),
                sku_ref="STEAK-FR",
                options=(NewOption("", "", ref="CUIS-SAIG", price=None), NewOption("", "", ref="ACC-FRI", price=None)),
            ),
            NewItem("", None, Decimal("1"), sku_ref="CAFE-CRM"),
            NewItem("", None, Decimal("1"), sku_ref="LIMO-33", options=(NewOption("", "", ref="SIROP-GREN", price=None),)),
        )
    )

    # As a page or a task loads it: without its menu (the intake API joins it to its key's query, one query less).
    establishment = type(establishment).objects.get(pk=establishment.pk)
    with CaptureQueriesContext(connection) as first:
        checked = check_order(establishment, by_ref)
    # As the intake API loads it, for the next order.
    establishment = type(establishment).objects.select_related("menu").get(pk=establishment.pk)
    with CaptureQueriesContext(connection) as next_one:
        checked_again = check_order(establishment, by_ref)

    assert (len(first), len(next_one)) == (2, 0)
    assert [item.product_name for item in checked.items] == ["Steak frites", "Café", "Limonade artisanale"]
    assert checked_again == checked


def test_a_process_keeps_a_bounded_number_of_facts_and_forgets_the_menu_least_recently_ordered_from(establishment, monkeypatch):
    other = make_establishment()
    services.replace_menu(other, BISTRO_MENU, source="test")
    options = (NewOption("", "", ref="CUIS-SAIG", price=None), NewOption("", "", ref="ACC-FRI", price=None))
    steak = NewOrder(items=(NewItem("", None, Decimal("1"), sku_ref="STEAK-FR", options=options),))
    # The steak and its three option lists are about 15 facts: room for one menu's, not two.
    monkeypatch.setattr(order_facts, "MAX_FACTS", 20)

    def queries_of_a_check(of) -> int:
        with CaptureQueriesContext(connection) as queries:
            check_order(type(of).objects.select_related("menu").get(pk=of.pk), steak)
        return len(queries) - 1

    first = [queries_of_a_check(establishment), queries_of_a_check(establishment)]
    then_other = [queries_of_a_check(other), queries_of_a_check(other)]

    assert (first, then_other, queries_of_a_check(establishment)) == ([1, 0], [1, 0], 1)


def test_the_openapi_schema_says_what_the_menu_checks(client):
    schema = client.get("/api/schema/?format=json").json()

    item = schema["components"]["schemas"]["ItemInputRequest"]
    assert "product_name" not in item.get("required", []) and "price" not in item.get("required", [])
    assert "taken from the menu" in item["properties"]["product_name"]["description"]
    assert "menu" in item["properties"]["sku_ref"]["description"]
    assert "has a menu" in schema["paths"]["/api/v1/orders/"]["post"]["description"]
