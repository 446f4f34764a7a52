"""Helpers for the inbound tests: recorded HubRise event bodies and signing them like HubRise does."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.test import Client
from django.urls import reverse

from hubrise_sync.models import Connection, OrderLink
from orders.models import Establishment, Order, StatusChange
from orders.services import create_order
from tests.factories import croque_order

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "test-webhook-secret"
LOCATION_ID = "3r4s3-1"
HUBRISE_ORDER_ID = "5dpm9"
# The recorded events happen on 24 June 2021 from 17:05 (Paris); our order exists since 17:00.
ORDER_PLACED_AT = datetime(2021, 6, 24, 17, 0, tzinfo=ZoneInfo("Europe/Paris"))


def fixture_bytes(name: str) -> bytes:
    """The recorded body exactly as HubRise sent it: whitespace and key order included."""
    return (FIXTURES / f"{name}.json").read_bytes()


def fixture_json(name: str) -> dict:
    return json.loads(fixture_bytes(name))


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_callback(
    client: Client, body: bytes, signature: str | None = "sign", content_type: str = "application/json", **extra: str
):
    """``extra``: more of the request's META, e.g. REMOTE_ADDR or HTTP_COOKIE."""
    headers = dict(extra)
    if signature == "sign":
        signature = sign(body)
    if signature is not None:
        headers["HTTP_X_HUBRISE_HMAC_SHA256"] = signature
    return client.post(reverse("hubrise:callback"), data=body, content_type=content_type, **headers)


def connect(establishment: Establishment, location_id: str = LOCATION_ID, mode: str = "active", token: str = "tok") -> Connection:  # noqa: S107
    return Connection.objects.create(
        establishment=establishment, location_id=location_id, access_token=token, callback_mode=mode, location_name="Paris"
    )


def linked_order(
    establishment: Establishment, hubrise_order_id: str | None = HUBRISE_ORDER_ID, placed_at: datetime = ORDER_PLACED_AT, **fields
) -> Order:
    order = create_order(establishment, croque_order(**fields), source=StatusChange.Source.API, created_at=placed_at)
    OrderLink.objects.update_or_create(order=order, defaults={"location_id": LOCATION_ID, "hubrise_order_id": hubrise_order_id})
    return order


def sandbox_connection(sandbox, establishment: Establishment, *, url: str | None = None) -> Connection:
    """Our app connected to the sandbox's first location, its callback active (``url``) or passive."""
    from hubrise_sync import oauth
    from hubrise_sync.client import HubRiseClient

    token = sandbox.create_token()
    HubRiseClient(token).set_callback(url, oauth.CALLBACK_EVENTS)
    return connect(establishment, location_id=sandbox.location_id, mode="active" if url else "passive", token=token)


def pushed_order(establishment: Establishment, **fields) -> Order:
    """An order placed here and sent to HubRise by the push side, as in production.

    Delivered in this process; a Celery worker running beside the test may take
    the message first, in which case this waits for its delivery.
    """
    import time

    from hubrise_sync.outbox import drain

    order = create_order(establishment, croque_order(**fields), source=StatusChange.Source.API)
    drain.drain(threads=1)
    deadline = time.monotonic() + 10
    while not OrderLink.objects.filter(order=order, hubrise_order_id__isnull=False).exists():
        assert time.monotonic() < deadline, "the order did not reach HubRise"
        time.sleep(0.05)
    order.refresh_from_db()
    return order
