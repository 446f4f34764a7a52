"""The intake API answers in the format each Accept header and ?format= ask for, the first time and every time after
(orders/api/negotiation.py keeps DRF's choice for the common headers)."""

import pytest
from rest_framework.negotiation import DefaultContentNegotiation

from orders.api.negotiation import KeptNegotiation
from tests.factories import api_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"
ORDER = {"items": [{"product_name": "Croque-monsieur", "price": "9.50 EUR", "quantity": "1"}]}


@pytest.fixture
def client(establishment):
    return api_client(establishment)


@pytest.fixture(autouse=True)
def nothing_kept():
    KeptNegotiation._kept.clear()
    yield
    KeptNegotiation._kept.clear()


# (Accept header, ?format=) → the answer's Content-Type, as DRF's own negotiation gives it.
CASES = [
    (None, None, "application/json"),
    ("*/*", None, "application/json"),
    ("application/json", None, "application/json"),
    ("text/html", None, "text/html; charset=utf-8"),
    ("application/json; indent=4", None, "application/json"),
    (None, "api", "text/html; charset=utf-8"),
    ("*/*", "api", "text/html; charset=utf-8"),
    ("application/json", "json", "application/json"),
]


def _get(client, accept, format_):
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    return client.get(URL if format_ is None else f"{URL}?format={format_}", **extra)


@pytest.mark.parametrize(("accept", "format_", "content_type"), CASES)
def test_each_accept_header_gets_its_format_every_time(client, accept, format_, content_type):
    # In turn with the other headers, so that an answer kept for one header would show under another.
    for other_accept, other_format, _ in CASES:
        _get(client, other_accept, other_format)
    for _ in range(2):
        response = _get(client, accept, format_)
        assert response.status_code == 200
        assert response["Content-Type"] == content_type


def test_a_created_order_is_answered_in_json_whatever_common_header_is_sent(client):
    for accept in (None, "*/*", "application/json", None):
        extra = {} if accept is None else {"HTTP_ACCEPT": accept}
        response = client.post(URL, ORDER, format="json", **extra)
        assert response.status_code == 201
        assert response["Content-Type"] == "application/json"
        assert response.json()["items"][0]["product_name"] == "Croque-monsieur"


def test_an_unacceptable_header_is_still_a_406(client):
    client.get(URL)  # a kept answer for no header
    response = client.get(URL, HTTP_ACCEPT="image/png")
    assert response.status_code == 406


def test_the_kept_choice_is_drfs(rf):
    from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
    from rest_framework.request import Request

    renderers = [JSONRenderer(), BrowsableAPIRenderer()]
    for accept in (None, "*/*", "application/json"):
        extra = {} if accept is None else {"HTTP_ACCEPT": accept}
        request = Request(rf.get(URL, **extra))
        expected = DefaultContentNegotiation().select_renderer(request, renderers)
        for _ in range(2):
            assert KeptNegotiation().select_renderer(request, renderers) == expected
