"""What the intake API refuses because no restaurant means it: a 400 naming the field, and nothing created."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from orders.models import Order
from orders.services import creation_problems
from tests.factories import api_client, croque_order
from tests.orders.test_api import CROQUE, URL, body, item

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(establishment):
    return api_client(establishment)


def refused(client: APIClient, data, field: str) -> str:
    """POSTs ``data`` and returns the message for ``field``, after checking that nothing was created."""
    response = client.post(URL, data, format="json")
    assert response.status_code == 400, response.content[:500]
    errors = response.json()["errors"]
    assert field in errors, errors
    assert not Order.objects.exists()
    return errors[field][0]


def test_a_body_nested_fifty_thousand_deep_is_a_400_not_a_crash(client):
    deep = b"[" * 50_000 + b"]" * 50_000

    response = client.generic("POST", URL, deep, content_type="application/json")

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["message"]


def test_a_payment_info_nested_deeper_than_any_order_needs_is_refused(client):
    info: dict = {}
    for _ in range(40):
        info = {"next": info}
    payment = {"name": "Carte", "amount": "32.50 EUR", "info": info}

    response = client.generic("POST", URL, json.dumps(body(payments=[payment])), content_type="application/json")

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["message"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"items": [item(price="-9.50 EUR")]}, "items[0].price"),
        (
            {"items": [item(options=[{"option_list_name": "Sauce", "name": "Sans", "price": "-0.50 EUR"}])]},
            "items[0].options[0].price",
        ),
        ({"charges": [{"name": "Service", "price": "-1.50 EUR"}]}, "charges[0].price"),
        ({"payments": [{"name": "Carte", "amount": "-32.50 EUR"}]}, "payments[0].amount"),
        ({"discounts": [{"name": "Fidélité", "price_off": "-2.00 EUR"}]}, "discounts[0].price_off"),
    ],
    ids=["item price", "option price", "charge", "payment", "discount"],
)
def test_negative_amounts_are_refused(client, changes, field):
    assert refused(client, body(**changes), field) == "Must not be negative."


@pytest.mark.parametrize(
    ("effect", "value", "says"),
    [
        ("price_off", "-2.00 EUR", "Must not be negative."),
        ("fixed_price", "-5.00 EUR", "Must not be negative."),
        ("percentage_off", "150", "A percentage off cannot exceed 100."),
    ],
)
def test_a_deal_line_that_would_raise_the_price_or_take_more_than_all_of_it_is_refused(client, effect, value, says):
    line = {"deal_key": "0", "label": "Plat", "pricing_effect": effect, "pricing_value": value}

    message = refused(client, body(items=[item(deal_line=line)]), "items[0].deal_line.pricing_value")

    assert message == says


def test_discounts_larger_than_the_items_and_charges_are_refused(client):
    # 9.50 of items and 1.50 of charges.
    data = body(
        items=[item()],
        deals={},
        charges=[{"name": "Service", "price": "1.50 EUR"}],
        discounts=[{"name": "Fidélité", "price_off": "8.00 EUR"}, {"name": "Geste", "price_off": "3.01 EUR"}],
        payments=[],
    )

    message = refused(client, data, "discounts")

    assert message == "The discounts (11.01) are larger than the items and charges (11.00)."


def test_discounts_that_make_the_order_free_are_accepted(client):
    data = body(items=[item()], deals={}, charges=[], discounts=[{"name": "Offert", "price_off": "9.50 EUR"}], payments=[])

    response = client.post(URL, data, format="json")

    assert response.status_code == 201
    assert response.json()["total"] == "0.00 EUR"


@pytest.mark.parametrize("status", ["completed", "cancelled", "rejected", "delivery_failed"])
def test_an_order_cannot_be_created_already_finished(client, status):
    message = refused(client, body(status=status), "status")

    assert message.startswith("An order cannot be created already")


def test_an_order_may_be_created_at_a_step_of_the_kitchen(client):
    response = client.post(URL, body(status="accepted"), format="json")

    assert response.status_code == 201


def test_the_rules_live_in_one_service_function():
    assert set(creation_problems(croque_order(status="completed"))) == {"status"}
    assert creation_problems(croque_order()) == {}


def test_the_schema_says_which_amounts_cannot_be_negative():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    item_price = schema["components"]["schemas"]["ItemInputRequest"]["properties"]["price"]
    assert item_price["pattern"].startswith("^[0-9]")
    assert CROQUE["items"][0]["price"] == "9.50 EUR"
