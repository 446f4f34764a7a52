"""The order intake API used by the ordering front (issue 2)."""

import copy
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import ApiKey, Order, OrderItem, StatusChange
from tests.factories import make_establishment, make_order

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"

CROQUE = {
    "status": "new",
    "service_type": "eat_in",
    "expected_time": "2026-06-24T19:30:00+02:00",
    "items": [
        {
            "product_name": "Croque-monsieur",
            "sku_name": "Grand",
            "sku_ref": "CROQ-M-L",
            "price": "9.50 EUR",
            "quantity": "2",
            "tax_rate": "10.0",
            "options": [{"option_list_name": "Suppléments", "name": "Œuf", "ref": "SUPP-OEUF", "price": "1.00 EUR"}],
            "deal_line": {"deal_key": "0", "label": "Plat", "pricing_effect": "unchanged"},
        },
        {"product_name": "Comté AOP", "price": "24.00 EUR", "quantity": "0.5"},
    ],
    "deals": {"0": {"name": "Formule midi", "ref": "MIDI"}},
    "discounts": [{"name": "Fidélité", "ref": "FID", "price_off": "2.00 EUR"}],
    "charges": [{"name": "Service", "price": "1.50 EUR", "tax_rate": "20.0"}],
    "payments": [{"name": "Carte bancaire", "ref": "CB", "amount": "32.50 EUR", "info": {"transaction_id": "T-42"}}],
    "customer": {"first_name": "Élodie", "last_name": "Martin", "phone": "+33612345678", "email": "elodie@example.fr"},
    "customer_notes": "Sans moutarde",
    "collection_code": "A12",
    "coupon_codes": ["BIENVENUE"],
    "custom_fields": {"restaurant": {"table_name": "12"}},
}


@pytest.fixture
def raw_key(establishment):
    _api_key, raw = ApiKey.generate(establishment, "QR menu")
    return raw


@pytest.fixture
def client(raw_key):
    api = APIClient()
    # Messages follow Accept-Language (French by default); these tests read the English ones.
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}", HTTP_ACCEPT_LANGUAGE="en")
    return api


def body(**changes):
    data = copy.deepcopy(CROQUE)
    data.update(changes)
    return data


def item(**changes):
    line = {"product_name": "Croque-monsieur", "price": "9.50 EUR", "quantity": "1"}
    line.update(changes)
    return line


# --- Creating an order --------------------------------------------------------


def test_a_valid_order_is_created_with_exact_totals_and_returned_in_hubrise_vocabulary(client, establishment):
    response = client.post(URL, CROQUE, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    # (9.50 + 1.00) × 2 + 24.00 × 0.5 + 1.50 − 2.00
    assert data["total"] == "32.50 EUR"
    assert [line["subtotal"] for line in data["items"]] == ["21.00 EUR", "12.00 EUR"]
    assert data["items"][1]["quantity"] == "0.5"
    assert data["items"][0]["options"][0] == {
        "option_list_name": "Suppléments",
        "name": "Œuf",
        "ref": "SUPP-OEUF",
        "price": "1.00 EUR",
        "quantity": 1,
        "removed": False,
    }
    assert data["items"][0]["deal_line"]["deal_key"] == "0"
    assert data["deals"] == {"0": {"name": "Formule midi", "ref": "MIDI"}}
    assert data["custom_fields"] == {"restaurant": {"table_name": "12"}}
    assert data["status"] == "new"
    assert data["expected_time"] == "2026-06-24T19:30:00+02:00"
    assert data["created_at"].endswith(("+01:00", "+02:00"))
    assert data["history"] == [
        {"from_status": "", "to_status": "new", "at": data["created_at"], "source": "api", "source_detail": "", "reason": ""}
    ]
    assert data["ref"]


@pytest.mark.parametrize(
    "sent",
    [
        CROQUE,
        {"items": [item()]},
        body(status="accepted", expected_time=None, custom_fields=None, table_name="7", customer=None, payments=[]),
    ],
    ids=["full", "minimal", "accepted"],
)
def test_the_answer_to_a_creation_is_byte_for_byte_what_reading_the_order_gives(client, sent):
    # The creation answers from the objects it wrote (orders/api/answers.py), the read from the database
    # through OrderSerializer: a client must not be able to tell them apart.
    created = client.post(URL, sent, format="json")
    assert created.status_code == 201, created.json()

    read = client.get(f"{URL}{created.json()['id']}/")

    assert read.status_code == 200
    assert created.content == read.content


def test_a_created_order_stores_every_line(client, establishment):
    order_id = client.post(URL, CROQUE, format="json").json()["id"]

    order = Order.objects.get(pk=order_id)
    assert order.establishment == establishment
    assert order.total == Decimal("32.50")
    assert order.table_name == "12"
    assert order.customer_name == "Élodie Martin"
    assert [(i.product_name, i.quantity, i.subtotal) for i in order.items.all()] == [
        ("Croque-monsieur", Decimal("2"), Decimal("21.00")),
        ("Comté AOP", Decimal("0.5"), Decimal("12.00")),
    ]
    assert order.items.first().options.get().name == "Œuf"
    assert order.deals.get().key == "0"
    assert order.discounts.get().price_off == Decimal("2.00")
    assert order.charges.get().tax_rate == Decimal("20.0")
    assert order.payments.get().info == {"transaction_id": "T-42"}
    assert order.coupon_codes == ["BIENVENUE"]
    assert list(order.history.values_list("source", "to_status")) == [(StatusChange.Source.API, "new")]


def test_a_large_order_stores_every_line_in_order(client):
    """More lines than getresto.statements keeps a prepared INSERT for: the same answer and the same rows."""
    items = [
        item(product_name=f"Plat {n}", options=[{"option_list_name": "Sauce", "name": f"Sauce {n}-{k}"} for k in range(3)])
        for n in range(40)
    ]

    response = client.post(URL, {"items": items}, format="json")

    assert response.status_code == 201, response.json()
    order = Order.objects.get(pk=response.json()["id"])
    stored = [(i.product_name, [o.name for o in i.options.order_by("position")]) for i in order.items.order_by("position")]
    assert stored == [(f"Plat {n}", [f"Sauce {n}-{k}" for k in range(3)]) for n in range(40)]
    assert [(i["product_name"], [o["name"] for o in i["options"]]) for i in response.json()["items"]] == stored
    assert order.total == Decimal("380.00")


def test_each_option_is_stored_on_its_own_item_when_some_items_have_none(client):
    """The options are written in the items' statement, each with the id its item gets there."""
    items = [
        item(product_name="Burger", options=[{"option_list_name": "Cuisson", "name": "À point"}]),
        item(product_name="Frites"),
        item(product_name="Salade", options=[{"option_list_name": "Sauce", "name": n} for n in ("Miel", "Moutarde")]),
    ]

    response = client.post(URL, {"items": items}, format="json")

    assert response.status_code == 201, response.json()
    order = Order.objects.get(pk=response.json()["id"])
    stored = [(i.product_name, [o.name for o in i.options.order_by("position")]) for i in order.items.order_by("position")]
    assert stored == [("Burger", ["À point"]), ("Frites", []), ("Salade", ["Miel", "Moutarde"])]
    assert [(i["product_name"], [o["name"] for o in i["options"]]) for i in response.json()["items"]] == stored


def test_a_minimal_order_gets_status_new_and_a_ref(client):
    response = client.post(URL, {"items": [item()]}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "new"
    assert response.json()["ref"] == "0001"
    assert response.json()["expected_time"] is None


def test_each_request_is_checked_against_its_own_establishments_currency_and_country(client):
    """Requests of two establishments in turn: the input's fields are copied per request, never shared."""
    london = make_establishment("The Bistro", currency="GBP", country="GB")
    _api_key, london_key = ApiKey.generate(london, "QR menu")
    london_client = APIClient()
    london_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {london_key}", HTTP_ACCEPT_LANGUAGE="en")

    for _ in range(2):
        in_paris = client.post(URL, {"items": [item()], "customer": {"phone": "06 12 34 56 78"}}, format="json")
        in_london = london_client.post(
            URL, {"items": [item(price="9.50 GBP")], "customer": {"phone": "020 7946 0958"}}, format="json"
        )
        euros_in_london = london_client.post(URL, {"items": [item()]}, format="json")
        pounds_in_paris = client.post(URL, {"items": [item(price="9.50 GBP")]}, format="json")

        assert (in_paris.status_code, in_paris.json()["customer"]["phone"]) == (201, "+33612345678")
        assert (in_london.status_code, in_london.json()["customer"]["phone"]) == (201, "+442079460958")
        assert in_london.json()["items"][0]["price"] == "9.50 GBP"
        assert euros_in_london.json()["errors"]["items[0].price"] == ["The currency must be GBP."]
        assert pounds_in_paris.json()["errors"]["items[0].price"] == ["The currency must be EUR."]
    assert Order.objects.filter(establishment=london).count() == 2


def test_a_top_level_table_name_is_accepted_as_a_shortcut(client):
    response = client.post(URL, {"items": [item()], "service_type": "eat_in", "table_name": "7"}, format="json")

    assert response.status_code == 201
    assert response.json()["custom_fields"] == {"restaurant": {"table_name": "7"}}


# --- Invalid input: 400, the field named, nothing created -----------------------


@pytest.mark.parametrize(
    ("changes", "field", "message_part"),
    [
        ({"items": [item(price="abc")]}, "items[0].price", "9.50 EUR"),
        ({"items": [item(price=9.5)]}, "items[0].price", "not a number"),
        ({"items": [item(price="9.5 EUR")]}, "items[0].price", "2 decimals"),
        ({"items": [item(quantity=2.0)]}, "items[0].quantity", "not a number"),
        ({"items": [item(quantity=2)]}, "items[0].quantity", "not a number"),
        ({"items": [item(quantity="0")]}, "items[0].quantity", "greater than 0"),
        ({"items": [item(quantity="1.2345")]}, "items[0].quantity", "3 decimal places"),
        ({"items": [item(quantity="1234567890123456789012345678.1234")]}, "items[0].quantity", "3 decimal places"),
        ({"items": [item(quantity="1234567890123456789012345678")]}, "items[0].quantity", "less than"),
        ({"items": [item(tax_rate="12345678901234567890123456.12345")]}, "items[0].tax_rate", "3 decimal places"),
        ({"items": [{"price": "9.50 EUR", "quantity": "1"}]}, "items[0].product_name", ""),
        ({"status": "shipped"}, "status", "shipped"),
        ({"items": [item(deal_line={"deal_key": "9"})]}, "items[0].deal_line.deal_key", "deal"),
        (
            {"items": [item(options=[{"option_list_name": "Sauce", "name": "Mayo", "quantity": "2"}])]},
            "items[0].options[0].quantity",
            "integer",
        ),
        (
            {"items": [item(options=[{"option_list_name": "Sauce", "name": "Mayo", "quantity": 1.5}])]},
            "items[0].options[0].quantity",
            "integer",
        ),
        (
            {"items": [item(options=[{"option_list_name": "Sauce", "name": "Mayo", "removed": 0}])]},
            "items[0].options[0].removed",
            "",
        ),
        ({"items": [item(product_name=12)]}, "items[0].product_name", ""),
        ({"items": [item(price="9.50 GBP")]}, "items[0].price", "EUR"),
        ({"charges": [{"name": "Livraison", "price": "3.00 USD"}]}, "charges[0].price", "EUR"),
        ({"expected_time": "2026-06-24T19:30:00"}, "expected_time", "offset"),
        ({"expected_time": "tomorrow"}, "expected_time", "ISO 8601"),
        ({"expected_time": "0001-01-01T00:00:00+14:00"}, "expected_time", "range"),
        ({"items": []}, "items", ""),
        ({"service_type": "drive_in"}, "service_type", "drive_in"),
        ({"customer": {"email": "not-an-email"}}, "customer.email", ""),
        ({"discounts": [{"name": "Remise", "price_off": "-1.00 EUR"}]}, "discounts[0].price_off", "negative"),
        ({"items": [item(price="9999999999.00 EUR", quantity="9999")]}, "items", "too large"),
        ({"table_name": "3"}, "table_name", "custom_fields"),
    ],
)
def test_invalid_input_is_refused_with_the_field_named_and_nothing_created(client, changes, field, message_part):
    response = client.post(URL, body(**changes), format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors, errors
    assert message_part.lower() in " ".join(errors[field]).lower()
    assert Order.objects.count() == 0
    assert OrderItem.objects.count() == 0


def test_a_payment_info_that_the_database_cannot_store_is_refused(client):
    raw_json = '{"items": [{"product_name": "Café", "price": "2.00 EUR", "quantity": "1"}],'
    raw_json += ' "payments": [{"amount": "2.00 EUR", "info": {"n": 1e400}}]}'

    response = client.post(URL, raw_json, content_type="application/json")

    assert response.status_code == 400
    assert "payments[0].info" in response.json()["errors"]
    assert Order.objects.count() == 0


def test_error_messages_are_in_french_by_default(raw_key):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")

    response = api.post(URL, body(items=[item(quantity=2.0)]), format="json")

    assert response.status_code == 400
    assert "nombre" in " ".join(response.json()["errors"]["items[0].quantity"]).lower()


def test_several_invalid_fields_are_all_reported_at_once(client):
    response = client.post(URL, body(items=[item(price="abc"), item(quantity=1.5)], status="nope"), format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"items[0].price", "items[1].quantity", "status"}


@pytest.mark.parametrize("raw", [b'{"items": [', b"\xed\xa0\x80", b"\x00"], ids=["cut short", "not UTF-8", "NUL"])
def test_a_json_body_that_does_not_parse_gets_a_400_shaped_like_any_invalid_input(client, raw):
    response = client.post(URL, raw, content_type="application/json")

    assert response.status_code == 400
    data = response.json()
    assert "JSON parse error" in data["message"]
    assert data["errors"] == {"non_field_errors": [data["message"]]}
    assert Order.objects.count() == 0


def test_a_body_that_is_not_json_is_refused(client):
    response = client.post(URL, "items=1", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert Order.objects.count() == 0


# --- Authentication ---------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "Api-Key gr_00000000_wrong", "Api-Key", "Bearer something", "Api-Key gr_x y"],
)
def test_a_missing_or_wrong_key_gets_a_401_with_a_message(header):
    api = APIClient()
    if header:
        api.credentials(HTTP_AUTHORIZATION=header)

    response = api.post(URL, CROQUE, format="json")

    assert response.status_code == 401
    assert response.json()["message"]
    assert response["WWW-Authenticate"] == "Api-Key"
    assert Order.objects.count() == 0


def test_a_key_with_the_right_prefix_but_a_wrong_secret_is_refused(raw_key):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key[:-3]}abc")

    assert api.get(URL).status_code == 401


def test_a_revoked_key_is_refused(client, establishment):
    ApiKey.objects.filter(establishment=establishment).update(revoked_at=timezone.now())

    assert client.get(URL).status_code == 401


def test_using_a_key_records_when_it_was_last_used_at_most_once_a_minute(client, establishment):
    client.get(URL)
    first_use = ApiKey.objects.get(establishment=establishment).last_used_at
    client.get(URL)

    assert first_use is not None
    assert ApiKey.objects.get(establishment=establishment).last_used_at == first_use


# --- Reading ----------------------------------------------------------------


def test_the_list_shows_only_the_key_owners_orders_newest_first(client, establishment):
    other = make_establishment("Chez Paul")
    older = make_order(establishment)
    newer = make_order(establishment)
    make_order(other)

    response = client.get(URL)

    assert response.status_code == 200
    assert [order["id"] for order in response.json()["results"]] == [newer.pk, older.pk]


def test_the_list_can_be_filtered_by_status(client, establishment):
    make_order(establishment)
    accepted = make_order(establishment, status="accepted")

    response = client.get(URL, {"status": "accepted"})

    assert [order["id"] for order in response.json()["results"]] == [accepted.pk]


def test_an_unknown_status_filter_is_a_400(client):
    response = client.get(URL, {"status": "shipped"})

    assert response.status_code == 400
    assert "status" in response.json()["errors"]


@pytest.mark.parametrize("count", ["abc", "0", "101", "null"])
def test_a_bad_page_size_is_a_400(client, count):
    response = client.get(URL, {"count": count})

    assert response.status_code == 400
    assert "count" in response.json()["errors"]


def test_the_list_is_paginated_with_a_cursor(client, establishment):
    orders = [make_order(establishment) for _ in range(3)]

    first = client.get(URL, {"count": 2}).json()
    second = client.get(first["next"]).json()

    assert [o["id"] for o in first["results"] + second["results"]] == [o.pk for o in reversed(orders)]
    assert second["next"] is None


def test_the_list_costs_the_same_queries_whatever_the_number_of_orders(client, establishment, django_assert_max_num_queries):
    for _ in range(5):
        make_order(establishment)
    client.get(URL)  # records last_used_at

    with django_assert_max_num_queries(10):
        response = client.get(URL)

    assert len(response.json()["results"]) == 5


def test_an_order_is_read_by_its_id(client, establishment):
    order = make_order(establishment)

    response = client.get(f"{URL}{order.pk}/")

    assert response.status_code == 200
    assert response.json()["total"] == "21.00 EUR"
    assert response.json()["payments"][0]["amount"] == "21.00 EUR"


def test_another_establishments_order_is_a_404(client):
    foreign = make_order(make_establishment("Chez Paul"))

    response = client.get(f"{URL}{foreign.pk}/")

    assert response.status_code == 404
    assert response.json()["message"]


@pytest.mark.parametrize("order_id", ["abc", "99999999999999999999999"])
def test_a_malformed_order_id_is_a_json_404(client, order_id):
    response = client.get(f"{URL}{order_id}/")

    assert response.status_code == 404
    assert response.json()["message"]


def test_the_browsable_api_renders_for_a_browser(client):
    response = client.get(URL, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert b"<html" in response.content


# --- Schema -----------------------------------------------------------------


def test_the_openapi_schema_describes_the_create_body_and_money_strings():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    create = schema["paths"]["/api/v1/orders/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/OrderInputRequest")
    components = schema["components"]["schemas"]
    assert "items" in components["OrderInputRequest"]["required"]
    money = components["ItemInputRequest"]["properties"]["price"]
    assert money["type"] == "string"
    assert money["pattern"]
    assert components["ItemInputRequest"]["properties"]["quantity"]["type"] == "string"
    assert schema["components"]["securitySchemes"]["ApiKey"]["name"] == "Authorization"


def test_the_schema_passes_openapi_validation():
    from drf_spectacular.validation import validate_schema

    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    validate_schema(response.json())


def test_the_api_docs_page_loads_without_a_cdn():
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    assert b"cdn." not in response.content


# --- Management command -------------------------------------------------------


def test_create_api_key_prints_a_working_key_once_and_stores_only_its_hash(establishment, capsys):
    call_command("create_api_key", establishment=establishment.pk, name="Borne")

    raw = capsys.readouterr().out.strip()
    stored = ApiKey.objects.get(name="Borne")
    assert stored.key_hash == ApiKey.hash(raw)
    assert raw not in (stored.prefix, stored.key_hash)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api.get(URL).status_code == 200
