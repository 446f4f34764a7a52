"""What the webhook keeps of a refused callback, and how little: the start of the body, an hourly cap, a throttle.

The flood itself, against a real gunicorn and worker: tests/faults/test_webhook_flood.py.
"""

from __future__ import annotations

import hashlib
import logging
import os

import pytest

from hubrise_sync import quarantine
from hubrise_sync.models import QuarantinedCallback, RefusedCallbackTally
from tests.factories import make_establishment
from tests.hubrise.callbacks import SECRET, connect, fixture_bytes, linked_order, post_callback

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def client_secret(settings, worker_applies_at_once):
    settings.HUBRISE_CLIENT_SECRET = SECRET


def refused(client, body: bytes, address: str = "203.0.113.9", **headers):
    return post_callback(client, body, signature="0" * 64, REMOTE_ADDR=address, **headers)


def total(field: str) -> int:
    return sum(RefusedCallbackTally.objects.values_list(field, flat=True))


def test_a_small_refused_body_is_kept_whole_with_its_hash_size_address_and_headers_but_no_secrets(client):
    body = fixture_bytes("order_update_accepted")

    response = refused(client, body, HTTP_COOKIE="sessionid=abc", HTTP_AUTHORIZATION="Bearer secret-token")

    assert response.status_code == 401
    kept = QuarantinedCallback.objects.get()
    assert (bytes(kept.body), kept.body_size, kept.body_sha256) == (body, len(body), hashlib.sha256(body).hexdigest())
    assert kept.body_is_whole
    assert kept.remote_addr == "203.0.113.9"
    assert kept.headers["X-Hubrise-Hmac-Sha256"] == "0" * 64
    assert "Cookie" not in kept.headers and "Authorization" not in kept.headers
    assert "secret-token" not in str(kept.headers)


def test_of_a_large_refused_body_only_the_first_kilobytes_are_kept_and_the_replay_says_why_it_cannot(client, settings):
    settings.HUBRISE_QUARANTINE_KEEP_BYTES = 16 * 1024
    body = os.urandom(900 * 1024)

    assert refused(client, body).status_code == 401

    kept = QuarantinedCallback.objects.get()
    assert bytes(kept.body) == body[: 16 * 1024]
    assert (kept.body_size, kept.body_sha256) == (len(body), hashlib.sha256(body).hexdigest())
    assert not kept.body_is_whole
    result = quarantine.replay(kept)
    assert result.startswith(f"Not replayable: only the first 16384 of its {len(body)} bytes were kept")
    assert kept.body_sha256 in result


def test_a_signed_event_kept_whole_is_still_replayed_once_the_secret_is_fixed(client, settings):
    order = linked_order(make_establishment())
    connect(order.establishment)
    settings.HUBRISE_CLIENT_SECRET = "a-mistyped-secret"
    assert post_callback(client, fixture_bytes("order_update_accepted")).status_code == 401

    settings.HUBRISE_CLIENT_SECRET = SECRET
    quarantine.replay(QuarantinedCallback.objects.get())

    order.refresh_from_db()
    assert order.status == "accepted"


def test_headers_are_kept_bounded_in_number_and_length(client):
    many = {f"HTTP_X_PADDING_{n}": "y" * 5000 for n in range(80)}

    refused(client, b"{}", **many)

    headers = QuarantinedCallback.objects.get().headers
    assert len(headers) <= quarantine.MAX_HEADERS
    assert max(len(value) for value in headers.values()) <= quarantine.MAX_HEADER_LENGTH


def test_past_the_hourly_cap_refused_callbacks_are_only_counted_and_logged_once(client, settings, caplog):
    settings.HUBRISE_QUARANTINE_MAX_PER_HOUR = 5
    with caplog.at_level(logging.ERROR, logger="hubrise_sync.quarantine"):
        statuses = [refused(client, b'{"n": %d}' % n, address=f"198.51.100.{n}").status_code for n in range(9)]

    assert statuses == [401] * 9
    assert QuarantinedCallback.objects.count() == 5
    assert (total("kept"), total("not_kept"), total("throttled")) == (5, 4, 0)
    over_cap = [record for record in caplog.records if "More than 5 HubRise callbacks refused this hour" in record.getMessage()]
    assert len(over_cap) == 1


@pytest.mark.redis
def test_an_address_refused_too_often_gets_429_with_retry_after_and_others_are_still_heard(client, settings):
    settings.HUBRISE_QUARANTINE_PER_ADDRESS_MINUTE = 3

    answers = [refused(client, b"{}", address="203.0.113.50") for _ in range(5)]

    assert [answer.status_code for answer in answers] == [401, 401, 401, 429, 429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert "Too many refused callbacks" in answers[-1].json()["detail"]
    assert refused(client, b"{}", address="203.0.113.51").status_code == 401
    assert QuarantinedCallback.objects.count() == 4
    assert (total("kept"), total("throttled")) == (4, 2)


@pytest.mark.redis
def test_signed_events_from_a_throttled_address_are_still_recorded_and_applied(client, settings):
    settings.HUBRISE_QUARANTINE_PER_ADDRESS_MINUTE = 2
    order = linked_order(make_establishment())
    connect(order.establishment)
    for _ in range(4):
        refused(client, b"{}", address="127.0.0.1")

    response = post_callback(client, fixture_bytes("order_update_accepted"), REMOTE_ADDR="127.0.0.1")

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "accepted"
