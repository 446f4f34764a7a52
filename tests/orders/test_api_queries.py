"""The intake API writes an order once and answers from what it wrote: a ceiling on its queries."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hubrise_sync.models import OutboxMessage
from orders.models import ApiKey, Order
from tests.factories import make_establishment
from tests.hubrise.callbacks import connect

BODY = {
    "items": [
        {
            "product_name": "Croque-monsieur",
            "sku_ref": "CROQ-M",
            "price": "9.50 EUR",
            "quantity": "2",
            "options": [{"option_list_name": "Suppléments", "name": "Œuf", "ref": "SUPP-OEUF", "price": "1.00 EUR"}],
        }
    ],
    "service_type": "eat_in",
    "payments": [{"name": "Carte bancaire", "ref": "CB", "amount": "21.00 EUR"}],
}
# The API key (with the establishment, its menu and HubRise connection, and whether it has printers), one statement
# for the order's id with its items, their options, its payment, its HubRise link and outbox message, the printers
# (none read for an establishment without any), and one statement for the order's row, its history, the counter,
# the number and the list's version: no read of what was just written. BEGIN and COMMIT aside.
MAX_QUERIES = 10


# Without the test's own transaction around it, so that the order's transaction is what it is in production.
@pytest.mark.django_db(transaction=True)
def test_an_order_from_the_api_costs_at_most_ten_queries_and_answers_what_was_written():
    establishment = make_establishment()
    connect(establishment)
    _key, raw = ApiKey.generate(establishment, "front")
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {raw}"}
    client.post("/api/v1/orders/", json.dumps(BODY), content_type="application/json", **headers)

    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/orders/", json.dumps(BODY), content_type="application/json", **headers)

    assert response.status_code == 201
    statements = [query["sql"] for query in queries.captured_queries if query["sql"] not in ("BEGIN", "COMMIT")]
    assert len(statements) <= MAX_QUERIES, "\n".join(sql[:120] for sql in statements)
    answer = response.json()
    stored = Order.objects.get(pk=answer["id"])
    assert answer["ref"] == stored.ref == "0002"
    assert [entry["to_status"] for entry in answer["history"]] == ["new"]
    assert answer["items"][0]["options"][0]["name"] == "Œuf"
    assert OutboxMessage.objects.filter(order=stored, kind="create").count() == 1


@pytest.mark.django_db(transaction=True)
def test_orders_are_still_taken_once_the_database_connection_is_a_new_one():
    """Its hot statements are prepared per connection (getresto.statements): a new connection prepares them again."""
    establishment = make_establishment()
    connect(establishment)
    _key, raw = ApiKey.generate(establishment, "front")
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {raw}"}

    first = client.post("/api/v1/orders/", json.dumps(BODY), content_type="application/json", **headers)
    connection.close()
    second = client.post("/api/v1/orders/", json.dumps(BODY), content_type="application/json", **headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert [order.ref for order in Order.objects.order_by("id")] == ["0001", "0002"]
    assert OutboxMessage.objects.filter(kind="create").count() == 2


@pytest.mark.django_db(transaction=True)
def test_behind_a_pooler_the_hot_statements_are_sent_as_they_are(settings):
    """DATABASE_PREPARED_STATEMENTS=false: nothing is prepared on a server connection the pooler may not give back."""
    settings.DATABASE_PREPARED_STATEMENTS = False
    establishment = make_establishment()
    connect(establishment)
    _key, raw = ApiKey.generate(establishment, "front")
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {raw}"}

    with CaptureQueriesContext(connection) as queries:
        answer = Client().post("/api/v1/orders/", json.dumps(BODY), content_type="application/json", **headers)

    assert answer.status_code == 201 and Order.objects.get().ref == "0001"
    assert not [query["sql"] for query in queries.captured_queries if query["sql"].startswith(("PREPARE", "EXECUTE"))]
