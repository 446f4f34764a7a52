"""The ordering front as the menu tests use it: an order of some items posted to the intake API."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.test import Client

from orders.models import ApiKey, Establishment

URL = "/api/v1/orders/"


def order_poster(establishment: Establishment) -> Callable[..., tuple[int, dict | list]]:
    """Posts an order of the given items with a new API key: (status, the order's items or the errors)."""
    _key, raw = ApiKey.generate(establishment, "QR menu")
    front = Client(HTTP_AUTHORIZATION=f"Api-Key {raw}", HTTP_ACCEPT_LANGUAGE="en")

    def post(*items: dict) -> tuple[int, dict | list]:
        response = front.post(URL, json.dumps({"service_type": "eat_in", "items": list(items)}), content_type="application/json")
        body = response.json()
        return response.status_code, body["items"] if response.status_code == 201 else body["errors"]

    return post
