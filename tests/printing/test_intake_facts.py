"""Whether the establishment has printers, read by the intake API's key query: an order of one without any skips
the printers' query, and a printer added counts from the next order on."""

import json

import pytest
from django.test import Client

from orders.models import ApiKey, Order
from orders.services import create_order
from printing import jobs
from printing.models import Printer, PrintJob
from tests.factories import croque_order, make_establishment
from tests.orders.test_api_queries import BODY

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(monkeypatch):
    reads = []
    read = jobs._PRINTERS_WITH_MODE.objects
    monkeypatch.setattr(jobs._PRINTERS_WITH_MODE, "objects", lambda *values: reads.append(values) or read(*values))
    establishment = make_establishment()
    _key, raw = ApiKey.generate(establishment, "front")
    client = Client()

    def send() -> tuple[Order, bool]:
        """The order, and whether its creation read the printers."""
        reads.clear()
        response = client.post(
            "/api/v1/orders/", json.dumps(BODY), content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {raw}"
        )
        assert response.status_code == 201, response.content
        return Order.objects.get(pk=response.json()["id"]), bool(reads)

    send.establishment = establishment
    return send


def test_an_order_of_an_establishment_without_printers_reads_none(post):
    order, printers_read = post()

    assert not printers_read
    assert not PrintJob.objects.filter(order=order).exists()


def test_a_printer_added_prints_the_next_order(post):
    post()
    printer = Printer.objects.create(establishment=post.establishment, name="Cuisine", host="127.0.0.1", port=9100)

    order, printers_read = post()

    assert printers_read
    assert list(PrintJob.objects.filter(order=order).values_list("printer", flat=True)) == [printer.pk]


def test_orders_made_elsewhere_read_the_printers_themselves():
    # No facts (the admin, imports, the demo): the receiver reads the printers in the order's transaction.
    establishment = make_establishment()
    printer = Printer.objects.create(establishment=establishment, name="Cuisine", host="127.0.0.1", port=9100)

    order = create_order(establishment, croque_order())

    assert list(PrintJob.objects.filter(order=order).values_list("printer", flat=True)) == [printer.pk]
