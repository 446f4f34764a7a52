"""Idempotency-Key on POST /api/v1/orders/: a retried request gets the first answer, and never a second order."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
import requests
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from hubrise_sync import retention
from hubrise_sync.models import OutboxMessage
from orders.models import ApiKey, Establishment, IdempotentRequest, Order
from tests.factories import api_client, make_establishment
from tests.hubrise.callbacks import connect
from tests.orders.test_api import CROQUE, URL, body

pytestmark = pytest.mark.django_db

KEY = "5f0c6a8e-0b7a-4c55-9d0e-6a1c0e2b9f31"


@pytest.fixture
def establishment():
    establishment = make_establishment()
    # Connected to HubRise, so that each order created writes an outbox message too.
    connect(establishment)
    return establishment


@pytest.fixture
def client(establishment):
    return api_client(establishment)


def post(client: APIClient, data, key: str | None = KEY):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.generic("POST", URL, raw, content_type="application/json", **headers)


def created() -> tuple[int, int]:
    return Order.objects.count(), OutboxMessage.objects.count()


def test_the_same_key_and_body_again_get_the_same_answer_and_create_nothing(client):
    first = post(client, CROQUE)
    assert first.status_code == 201
    assert created() == (1, 1)

    again = post(client, CROQUE)

    assert again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert created() == (1, 1)


def test_the_same_body_spaced_and_ordered_differently_is_the_same_request(client):
    first = post(client, CROQUE)
    reordered = json.dumps(dict(reversed(list(CROQUE.items()))), indent=4).encode()

    again = post(client, reordered)

    assert (again.status_code, again.content) == (201, first.content)
    assert Order.objects.count() == 1


def test_the_same_key_with_another_body_is_refused_with_a_clear_message(client):
    post(client, CROQUE)

    other = post(client, body(customer_notes="Sans oignons"))

    assert other.status_code == 422
    assert "already used for another order body" in other.json()["message"]
    assert created() == (1, 1)


def test_without_a_key_each_request_creates_its_order(client):
    post(client, CROQUE, key=None)
    post(client, CROQUE, key=None)

    assert Order.objects.count() == 2


def test_keys_belong_to_the_api_key_that_sent_them(client, establishment):
    other_front = api_client(establishment)
    other_restaurant = api_client(make_establishment("Chez Paul"))

    answers = [post(api, CROQUE).json()["id"] for api in (client, other_front, other_restaurant)]

    assert len(set(answers)) == 3


def test_a_refused_body_records_nothing_and_the_corrected_one_uses_the_same_key(client):
    refused = post(client, body(items=[]))
    assert refused.status_code == 400

    corrected = post(client, CROQUE)

    assert corrected.status_code == 201
    assert Order.objects.count() == 1


@pytest.mark.parametrize("key", ["", "a" * 256, "with space", "clé"])
def test_a_malformed_key_is_refused(client, key):
    response = post(client, CROQUE, key=key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert Order.objects.count() == 0


def test_after_24_hours_the_key_is_forgotten_and_purged_by_the_retention(client):
    post(client, CROQUE)
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))

    again = post(client, CROQUE)

    assert again.status_code == 201
    assert Order.objects.count() == 2
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert retention.purge_old_records()["idempotency keys"] == 1
    assert not IdempotentRequest.objects.exists()


def test_the_schema_documents_the_header_and_its_answers():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json", HTTP_ACCEPT_LANGUAGE="en").json()

    create = schema["paths"]["/api/v1/orders/"]["post"]
    [header] = [parameter for parameter in create["parameters"] if parameter["name"] == "Idempotency-Key"]
    assert header["in"] == "header"
    assert not header.get("required", False)
    assert "24 hours" in header["description"]
    assert {"201", "400", "409", "422", "503"} <= set(create["responses"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_requests_with_one_key_at_the_same_moment_make_one_order(start_gunicorn, establishment):
    _api_key, raw = ApiKey.generate(establishment, "QR menu")
    web = start_gunicorn()
    headers = {"Authorization": f"Api-Key {raw}", "Idempotency-Key": KEY}
    answers: list[requests.Response] = []

    def send() -> None:
        answers.append(requests.post(f"{web.base_url}{URL}", json=CROQUE, headers=headers, timeout=30))

    threads = [threading.Thread(target=send) for _ in range(4)]
    # Numbering the order locks the establishment's row: holding that lock here keeps the
    # first request inside its transaction while the others arrive with the same key.
    with transaction.atomic():
        Establishment.objects.select_for_update().get(pk=establishment.pk)
        for thread in threads:
            thread.start()
        time.sleep(1.5)
    for thread in threads:
        thread.join(timeout=30)

    assert [answer.status_code for answer in answers] == [201] * 4
    assert len({answer.content for answer in answers}) == 1
    assert sorted(answer.headers.get("Idempotent-Replayed", "") for answer in answers) == ["", "true", "true", "true"]
    assert created() == (1, 1)
