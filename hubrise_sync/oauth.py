"""OAuth 2.0 with HubRise: the authorize URL, the state that ties it to a session, the token calls.

The token and revoke calls go through the pooled session and the timeouts of
hubrise_sync.client, so the back office still has one HTTP module. Neither the
code, the token nor the client secret ever reaches a log line or an error message.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.urls import reverse

from hubrise_sync.client import HubRiseError, session, timeouts

logger = logging.getLogger(__name__)

# What an ordering back office needs (integration guide): create orders and
# update them, attach customers, pull and push the bound catalog, read and
# write its inventory (inventory.* rather than the deprecated catalog.* grant).
SCOPE = "location[orders.write,customer_list.write,catalog.write,inventory.write]"
WEBHOOK_PATH = "/hubrise/callback/"
# POST /callback replaces the whole subscription: every event we read, in one place. An app
# receiving orders: the orders other apps create and every change to them, and their couriers; a
# pause or preparation time changed at HubRise (the POS, OrderLine) arrives as location.update;
# the catalog and inventory events re-import the menu and follow its stock (catalog_events.py).
CALLBACK_EVENTS = {
    "order": ["create", "update"],
    "delivery": ["create", "update"],
    "location": ["update"],
    "catalog": ["create", "update"],
    "inventory": ["update", "patch"],
}

STATES_SESSION_KEY = "hubrise_oauth_states"
# HubRise's codes live 10 minutes; a consent page left open longer than this is refused.
STATE_LIFETIME_SECONDS = 15 * 60
# A few tabs may each start a connection; older states are forgotten.
MAX_PENDING_STATES = 5
# HubRise answers these for an expired, reused or unknown code and for refused
# client credentials (docs: 400 and 401; ruby-client: 404).
BAD_GRANT_STATUSES = frozenset({400, 401, 404})


class BadGrant(Exception):
    """HubRise refused the authorization code: expired, already used, or not ours."""


@dataclass(frozen=True)
class Grant:
    """What HubRise's token endpoint returns for one connection."""

    access_token: str = field(repr=False)
    location_id: str
    account_id: str = ""
    account_name: str = ""
    location_name: str = ""
    catalog_id: str = ""
    catalog_name: str = ""
    customer_list_id: str = ""
    customer_list_name: str = ""

    @classmethod
    def from_response(cls, data: Any) -> Grant:
        if not isinstance(data, dict) or not data.get("access_token") or not data.get("location_id"):
            raise HubRiseError("HubRise's token answer lacks the access token or the location.")

        def text(key: str) -> str:
            value = data.get(key)
            return "" if value is None else str(value)[:200]

        return cls(
            access_token=str(data["access_token"]),
            location_id=text("location_id"),
            account_id=text("account_id"),
            account_name=text("account_name"),
            location_name=text("location_name"),
            catalog_id=text("catalog_id"),
            catalog_name=text("catalog_name"),
            customer_list_id=text("customer_list_id"),
            customer_list_name=text("customer_list_name"),
        )

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


# --- Where HubRise sends the user and the events back ----------------------------------


def _public_url() -> str:
    return settings.PUBLIC_URL.rstrip("/")


def redirect_uri() -> str:
    return _public_url() + reverse("hubrise:oauth_callback")


def authorize_url(state: str) -> str:
    query = urlencode({"client_id": settings.HUBRISE_CLIENT_ID, "redirect_uri": redirect_uri(), "scope": SCOPE, "state": state})
    return f"{settings.HUBRISE_OAUTH_URL.rstrip('/')}/authorize?{query}"


def public_url_is_local() -> bool:
    host = urlsplit(settings.PUBLIC_URL).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def callback_url() -> str | None:
    """Our webhook URL when HubRise can reach it, else None (a passive callback that we poll)."""
    mode = settings.HUBRISE_CALLBACK_MODE
    if mode == "passive" or (mode == "auto" and public_url_is_local()):
        return None
    return _public_url() + WEBHOOK_PATH


# --- State: one random value per connect, bound to the session, user and establishment --


def issue_state(request_session: SessionBase, user_id: int, establishment_id: int) -> str:
    state = secrets.token_urlsafe(32)
    pending = _live_states(request_session)
    pending[state] = {"user": user_id, "establishment": establishment_id, "issued": time.time()}
    newest = sorted(pending.items(), key=lambda item: item[1]["issued"])[-MAX_PENDING_STATES:]
    request_session[STATES_SESSION_KEY] = dict(newest)
    return state


def consume_state(request_session: SessionBase, state: str, user_id: int) -> int | None:
    """The establishment id the state was issued for, once: a state is forgotten as soon as it is used.

    None when the state is missing, unknown to this session, expired or issued to another user.
    """
    pending = _live_states(request_session)
    match = next((known for known in pending if state and hmac.compare_digest(known, state)), None)
    if match is None:
        request_session[STATES_SESSION_KEY] = pending
        return None
    entry = pending.pop(match)
    request_session[STATES_SESSION_KEY] = pending
    if entry["user"] != user_id:
        return None
    return int(entry["establishment"])


def _live_states(request_session: SessionBase) -> dict[str, dict]:
    stored = request_session.get(STATES_SESSION_KEY)
    if not isinstance(stored, dict):
        return {}
    oldest_allowed = time.time() - STATE_LIFETIME_SECONDS
    return {state: entry for state, entry in stored.items() if entry.get("issued", 0) >= oldest_allowed}


# --- Calls to the OAuth server ----------------------------------------------------------


def _post_to_oauth_server(path: str, form: dict[str, str]) -> requests.Response:
    url = f"{settings.HUBRISE_OAUTH_URL.rstrip('/')}{path}"
    try:
        response = session().post(
            url,
            data=form,
            auth=(settings.HUBRISE_CLIENT_ID, settings.HUBRISE_CLIENT_SECRET),
            headers={"Accept": "application/json"},
            timeout=timeouts(),
        )
    except requests.Timeout:
        raise HubRiseError("HubRise did not answer in time.", retryable=True) from None
    except requests.ConnectionError:
        raise HubRiseError("Could not reach HubRise (connection failed or dropped).", retryable=True) from None
    logger.info("HubRise OAuth %s answered %s", path, response.status_code)
    return response


def exchange_code(code: str) -> Grant:
    """Trades the authorization code for the connection's token, server-side with our client credentials."""
    response = _post_to_oauth_server("/token", {"code": code})
    if response.status_code in BAD_GRANT_STATUSES:
        raise BadGrant(f"HubRise refused the authorization (HTTP {response.status_code}).")
    if response.status_code >= 400:
        raise HubRiseError(
            "HubRise could not complete the authorization.",
            status=response.status_code,
            retryable=response.status_code >= 500 or response.status_code == 429,
        )
    try:
        data = response.json()
    except ValueError:
        raise HubRiseError("HubRise's token answer is not JSON.", status=response.status_code) from None
    return Grant.from_response(data)


def revoke_token(access_token: str) -> None:
    """Revokes the token at HubRise; a token HubRise no longer knows (404) counts as revoked."""
    response = _post_to_oauth_server("/revoke", {"token": access_token})
    if response.status_code == 404 or response.status_code < 400:
        return
    raise HubRiseError(
        "HubRise could not revoke the access.",
        status=response.status_code,
        retryable=response.status_code >= 500 or response.status_code == 429,
    )
