"""The intake API: phone numbers in E.164, the order's channel, the ready time of an order sent accepted."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import ApiKey, Order
from tests.factories import make_user
from tests.orders.pages import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(establishment, client):
    _, raw_key = ApiKey.generate(establishment, "Menu QR code")

    def send(**fields):
        body = {"items": [{"product_name": "Croque-monsieur", "price": "9.50 EUR", "quantity": "1"}], **fields}
        return client.post("/api/v1/orders/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {raw_key}")

    return send


def test_a_phone_number_typed_the_french_way_is_stored_and_answered_in_e164(post):
    response = post(customer={"first_name": "Léa", "phone": "06 12 34 56 78"})

    assert response.status_code == 201
    assert response.json()["customer"]["phone"] == "+33612345678"
    assert Order.objects.get().customer_phone == "+33612345678"


def test_a_number_without_country_code_is_read_as_the_establishments_country(establishment, post):
    establishment.country = "GB"
    establishment.save()

    response = post(customer={"phone": "020 7946 0958"})

    assert response.json()["customer"]["phone"] == "+442079460958"


def test_an_impossible_phone_number_is_a_400_and_creates_nothing(post):
    response = post(customer={"phone": "06 12"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["customer.phone"]
    assert Order.objects.count() == 0


def test_the_channel_is_the_api_keys_name_unless_the_front_says(post):
    post()
    post(channel="Borne du comptoir")

    assert list(Order.objects.order_by("id").values_list("channel", flat=True)) == ["Menu QR code", "Borne du comptoir"]


def test_an_order_sent_accepted_gets_a_ready_time_and_one_in_the_past_is_refused(post):
    before = timezone.now()
    accepted = post(status="accepted")
    past = post(status="accepted", confirmed_time=(timezone.now() - timedelta(minutes=10)).isoformat())

    assert accepted.status_code == 201
    confirmed = Order.objects.get().confirmed_time
    assert confirmed >= before + timedelta(minutes=15)
    assert past.status_code == 400
    assert Order.objects.count() == 1


def test_staff_find_an_order_by_the_number_as_the_guest_says_it(establishment, post):
    post(customer={"last_name": "Martin", "phone": "+33612345678"})
    client = logged_in(make_user(establishment))
    url = reverse("orders:list", args=[establishment.pk])

    for typed in ("06 12 34 56 78", "0612", "+33 6 12 34", "06.12.34"):
        found = client.get(url, {"q": typed}).context["page"].object_list
        assert [order.customer_last_name for order in found] == ["Martin"], typed


def test_the_list_can_be_filtered_by_channel_service_type_and_day(establishment, post):
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    post(service_type="eat_in", table_name="4")
    post(service_type="collection", channel="Site web", expected_time=tomorrow)
    client = logged_in(make_user(establishment))
    url = reverse("orders:list", args=[establishment.pk])

    def refs(**params):
        return [order.channel for order in client.get(url, params).context["page"].object_list]

    assert refs(channel="Site web") == ["Site web"]
    assert refs(service="eat_in") == ["Menu QR code"]
    assert refs(day="later") == ["Site web"]
    assert refs(day="today") == ["Menu QR code"]
    assert refs(channel="unknown") == ["Menu QR code", "Site web"]
    html = client.get(url).content.decode()
    assert '<option value="Menu QR code">Menu QR code</option>' in html
    assert "Jours suivants" in html
