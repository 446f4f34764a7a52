"""The steps of connecting an establishment, as a manager's browser would take them, against the sandbox."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests
from django.test import Client
from django.urls import reverse

from tests.sandbox_fixture import HubRiseSandbox


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def start_connect(client: Client, establishment_id: int) -> dict[str, str]:
    """Presses "Connect to HubRise"; returns the authorize URL's parameters."""
    response = client.post(reverse("hubrise:connect", args=[establishment_id]))
    assert response.status_code == 302, response.status_code
    return query_of(response["Location"])


def consent(
    sandbox: HubRiseSandbox, authorize: dict[str, str], decision: str = "allow", location_id: str | None = None
) -> dict[str, str]:
    """Answers HubRise's consent page; returns the parameters HubRise sends back to our redirect URI."""
    form = {
        **{key: authorize.get(key, "") for key in ("client_id", "redirect_uri", "scope", "state")},
        "decision": decision,
        "location_id": location_id or sandbox.location_id,
    }
    response = requests.post(f"{sandbox.oauth_url}/authorize", data=form, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    assert response.headers["Location"].startswith(authorize["redirect_uri"])
    return query_of(response.headers["Location"])


def come_back(client: Client, params: dict[str, str]):
    return client.get(reverse("hubrise:oauth_callback"), params, follow=True)


def connect(client: Client, sandbox: HubRiseSandbox, establishment_id: int, location_id: str | None = None):
    """The whole round trip; returns the page the manager lands on."""
    authorize = start_connect(client, establishment_id)
    return come_back(client, consent(sandbox, authorize, location_id=location_id))


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []
