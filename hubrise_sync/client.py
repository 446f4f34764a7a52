"""The one place where the back office talks HTTP to HubRise.

Every call goes through HubRiseClient: one pooled session per process, the
X-Access-Token header, a (connect, read) timeout from settings, and one error
type that says whether trying again can help.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

logger = logging.getLogger(__name__)

USER_AGENT = "GetResto-BackOffice/1.0"
_local = threading.local()


def session() -> requests.Session:
    """A pooled session per thread: requests' sessions are not thread-safe."""
    current = getattr(_local, "session", None)
    if current is None:
        current = requests.Session()
        current.headers["User-Agent"] = USER_AGENT
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        current.mount("http://", adapter)
        current.mount("https://", adapter)
        _local.session = current
    return current


def timeouts() -> tuple[float, float]:
    return (settings.HUBRISE_CONNECT_TIMEOUT, settings.HUBRISE_READ_TIMEOUT)


@dataclass
class HubRiseError(Exception):
    """A call that did not succeed.

    ``retryable`` is true when the same call may succeed later unchanged:
    timeouts, dropped connections, 5xx and 429. Any other 4xx will fail again
    until someone fixes the data or the connection.
    """

    message: str
    status: int | None = None
    error_type: str = ""
    retryable: bool = False
    retry_after: float | None = None

    def __str__(self) -> str:
        prefix = f"HTTP {self.status}: " if self.status else ""
        return prefix + self.message

    @property
    def unauthorized(self) -> bool:
        return self.status == 401


def _error_from_response(response: requests.Response) -> HubRiseError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or response.reason or "error")
    details = body.get("errors")
    if isinstance(details, list) and details:
        parts = [f"{error.get('field')}: {error.get('message')}" for error in details if isinstance(error, dict)]
        message = f"{message} ({'; '.join(parts)})"
    retry_after = None
    if response.status_code == 429:
        try:
            retry_after = float(response.headers.get("Retry-After", ""))
        except ValueError:
            retry_after = None
    return HubRiseError(
        message=message[:2000],
        status=response.status_code,
        error_type=str(body.get("error_type", "")),
        retryable=response.status_code >= 500 or response.status_code == 429,
        retry_after=retry_after,
    )


@dataclass
class HubRiseResponse:
    status: int
    data: Any
    headers: dict[str, str]
    elapsed_ms: int


class HubRiseClient:
    """Calls of one connection (one access token)."""

    def __init__(self, access_token: str, base_url: str | None = None) -> None:
        self._token = access_token
        self._base_url = (base_url or settings.HUBRISE_API_URL).rstrip("/")

    def __repr__(self) -> str:  # never show the token, even in tracebacks
        return f"HubRiseClient({self._base_url})"

    def request(self, method: str, path: str, *, json: Any = None, params: dict | None = None) -> HubRiseResponse:
        headers = {"X-Access-Token": self._token, "Accept": "application/json"}
        if json is not None:
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            response = session().request(
                method, self._base_url + path, json=json, params=params, headers=headers, timeout=timeouts()
            )
        except requests.Timeout:
            raise HubRiseError("HubRise did not answer in time.", retryable=True) from None
        except requests.ConnectionError:
            raise HubRiseError("Could not reach HubRise (connection failed or dropped).", retryable=True) from None
        elapsed_ms = int((time.monotonic() - started) * 1000)
        if response.status_code >= 400:
            error = _error_from_response(response)
            logger.warning("HubRise %s %s answered %s in %d ms", method, path, response.status_code, elapsed_ms)
            raise error
        data = response.json() if response.content else None
        return HubRiseResponse(response.status_code, data, dict(response.headers), elapsed_ms)

    # Orders -----------------------------------------------------------------
    def create_order(self, location_id: str, payload: dict) -> HubRiseResponse:
        return self.request("POST", f"/locations/{location_id}/orders", json=payload)

    def get_order(self, location_id: str, order_id: str) -> HubRiseResponse:
        return self.request("GET", f"/locations/{location_id}/orders/{order_id}")

    def patch_order(self, location_id: str, order_id: str, payload: dict) -> HubRiseResponse:
        return self.request("PATCH", f"/locations/{location_id}/orders/{order_id}", json=payload)

    def find_orders(self, location_id: str, **filters: str) -> HubRiseResponse:
        return self.request("GET", f"/locations/{location_id}/orders", params=filters)

    # Location ---------------------------------------------------------------
    def get_location(self, location_id: str) -> HubRiseResponse:
        return self.request("GET", f"/locations/{location_id}")

    def patch_location(self, location_id: str, payload: dict) -> HubRiseResponse:
        return self.request("PATCH", f"/locations/{location_id}", json=payload)

    # Catalog and inventory ---------------------------------------------------
    def get_catalog(self, catalog_id: str) -> HubRiseResponse:
        """Heavy for HubRise (10 a minute): take ratelimit.acquire(..., heavy=True) first."""
        return self.request("GET", f"/catalogs/{catalog_id}")

    def put_catalog(self, catalog_id: str, payload: dict) -> HubRiseResponse:
        return self.request("PUT", f"/catalogs/{catalog_id}", json=payload)

    def get_inventory(self, catalog_id: str, location_id: str) -> HubRiseResponse:
        return self.request("GET", f"/catalogs/{catalog_id}/locations/{location_id}/inventory")

    def patch_inventory(self, catalog_id: str, location_id: str, entries: list[dict]) -> HubRiseResponse:
        return self.request("PATCH", f"/catalogs/{catalog_id}/locations/{location_id}/inventory", json=entries)

    # Callback ---------------------------------------------------------------
    def get_callback(self) -> HubRiseResponse:
        return self.request("GET", "/callback")

    def set_callback(self, url: str | None, events: dict[str, list[str]]) -> HubRiseResponse:
        return self.request("POST", "/callback", json={"url": url, "events": events})

    def delete_callback(self) -> HubRiseResponse:
        return self.request("DELETE", "/callback")

    def callback_events(self, cursor: str | None = None) -> HubRiseResponse:
        return self.request("GET", "/callback/events", params={"cursor": cursor} if cursor else None)

    def callback_event(self, event_id: str) -> HubRiseResponse:
        return self.request("GET", f"/callback/events/{event_id}")

    def delete_callback_event(self, event_id: str) -> HubRiseResponse:
        return self.request("DELETE", f"/callback/events/{event_id}")
