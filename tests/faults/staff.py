"""Staff clicking buttons of the real order page: the form's own fields, CSRF token included."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.test import Client
from django.urls import reverse

from orders.models import Order


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and values.get("method", "").lower() == "post":
            self._open = Form(values.get("action", ""))
        elif tag == "input" and self._open is not None and values.get("name"):
            self._open.fields[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._open is not None:
            self.forms.append(self._open)
            self._open = None


def page_forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


@dataclass
class Submitted:
    status_code: int
    location: str
    seconds: float


def staff_client() -> Client:
    """A browser that sends CSRF tokens only when a page gave it one."""
    return Client(enforce_csrf_checks=True)


def order_page(order: Order) -> str:
    return reverse("orders:detail", args=[order.establishment_id, order.pk])


def press(client: Client, order: Order, action: str, **match: str) -> Submitted:
    """Opens the order's page and submits its form posting to ``action`` whose fields include ``match``.

    Returns how long the POST took: what the staff member waits for after the click.
    """
    page = client.get(order_page(order))
    assert page.status_code == 200, page.status_code
    forms = [f for f in page_forms(page.content.decode()) if f.action == action]
    chosen = [f for f in forms if all(f.fields.get(name) == value for name, value in match.items())]
    assert len(chosen) == 1, f"no single form to {action} with {match} on the page: {[f.fields for f in forms]}"
    started = time.monotonic()
    response = client.post(action, chosen[0].fields)
    return Submitted(response.status_code, response.get("Location", ""), time.monotonic() - started)


def click_status(client: Client, order: Order, status: str) -> Submitted:
    """The order page's button that moves the order to ``status``."""
    action = reverse("orders:change_status", args=[order.establishment_id, order.pk])
    return press(client, order, action, status=status)


def click_retry(client: Client, order: Order) -> Submitted:
    """The "Réessayer" button of the order's HubRise badge."""
    return press(client, order, reverse("hubrise:retry_order", args=[order.establishment_id, order.pk]))
