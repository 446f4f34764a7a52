"""Pytest plugin: a real HubRise sandbox process for integration and browser tests.

Enable it with ``pytest_plugins = ["tests.sandbox_fixture"]`` in the root conftest, then ask
for the ``hubrise_sandbox`` fixture. One process serves the whole session (on a free port,
with a temporary database and a fast callback time unit); every test starts from freshly
reset data, faults, limits and settings.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.processes import ChildProcess, free_port, repository_env

CLIENT_ID = "getresto-test.clients.hubrise.com"
CLIENT_SECRET = "getresto-test-secret"
POS_CLIENT_ID = "caisse-pos-test.clients.hubrise.com"
POS_CLIENT_SECRET = "caisse-pos-test-secret"
# Retries then wait 0.05, 0.1, 0.2 … 1.6 s instead of 1 … 32 minutes.
FAST_TIME_UNIT = 0.05


class SandboxProcess(ChildProcess):
    """The ``python -m hubrise_sandbox`` child process; restartable on the same port and database."""

    def __init__(self, workdir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.db_path = workdir / "hubrise_sandbox.sqlite3"
        self.base_url = f"http://127.0.0.1:{self.port}"
        settings = {
            "HUBRISE_SANDBOX_HOST": "127.0.0.1",
            "HUBRISE_SANDBOX_PORT": str(self.port),
            "HUBRISE_SANDBOX_DB": str(self.db_path),
            "HUBRISE_SANDBOX_CLIENT_ID": CLIENT_ID,
            "HUBRISE_SANDBOX_CLIENT_SECRET": CLIENT_SECRET,
            "HUBRISE_SANDBOX_POS_CLIENT_ID": POS_CLIENT_ID,
            "HUBRISE_SANDBOX_POS_CLIENT_SECRET": POS_CLIENT_SECRET,
            "HUBRISE_SANDBOX_DEMO_TOKEN": "",
            "HUBRISE_SANDBOX_TIME_UNIT": str(FAST_TIME_UNIT),
            "HUBRISE_SANDBOX_DELIVERY_TIMEOUT": "2",
            # The demo's virtual printer on any free port: 9100 may be taken on a shared machine.
            "HUBRISE_SANDBOX_PRINTER_PORT": "0",
        }
        env = repository_env(**{**settings, **(extra_env or {})})
        command = [sys.executable, "-m", "hubrise_sandbox"]
        super().__init__("the HubRise sandbox", command, env, workdir / "hubrise_sandbox.log", cwd=workdir)

    def ready(self) -> bool:
        try:
            return requests.get(f"{self.base_url}/_sandbox/health", timeout=1).ok
        except requests.RequestException:
            return False

    def restart(self) -> None:
        self.stop()
        self.start()


class HubRiseSandbox:
    """What a test gets: URLs, our app's credentials, and thin helpers over the control API."""

    def __init__(self, process: SandboxProcess) -> None:
        self._process = process
        self.base_url = process.base_url
        self.api_url = f"{process.base_url}/v1"
        self.oauth_url = f"{process.base_url}/oauth2/v1"
        self.control_url = f"{process.base_url}/_sandbox"
        self.client_id = CLIENT_ID
        self.client_secret = CLIENT_SECRET
        self.pos_client_id = POS_CLIENT_ID
        self.pos_client_secret = POS_CLIENT_SECRET
        self.db_path = process.db_path

    def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.control(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Any control API call (``path`` under /_sandbox), answered as is: to see a refusal."""
        return requests.request(method, f"{self.control_url}{path}", timeout=10, **kwargs)

    def locations(self) -> list[dict]:
        """The seeded locations, each with its account, catalogs and customer lists (with customers)."""
        return self._control("GET", "/locations")

    @property
    def location_id(self) -> str:
        return self.locations()[0]["id"]

    def connect(self, location_id: str | None = None, client_id: str | None = None, **extra: Any) -> dict:
        """A ready connection, as the OAuth token response would give it (skips the consent page).
        ``extra``: ``scope`` (default our app's: orders, customer list, catalog and inventory write),
        ``catalog_id`` (the catalog picked on the consent page), ``device_id``, or ``role``."""
        body = {"location_id": location_id, "client_id": client_id, **extra}
        return self._control("POST", "/connections", json={k: v for k, v in body.items() if v is not None})

    def create_token(self, location_id: str | None = None, client_id: str | None = None, scope: str | None = None) -> str:
        """An access token for our app (or ``client_id``) on ``location_id`` (default: the first location)."""
        return self.connect(location_id, client_id, **({"scope": scope} if scope else {}))["access_token"]

    def create_pos_token(self, location_id: str | None = None) -> str:
        return self.create_token(location_id, self.pos_client_id)

    def inject_fault(
        self,
        mode: str,
        count: int = 1,
        *,
        method: str | None = None,
        path_prefix: str | None = None,
        retry_after: int | None = None,
        seconds: float | None = None,
        processed: bool = False,
    ) -> dict:
        """``mode`` is "500", "502", "503", "429", "hang" or "drop"; ``processed=True`` carries the request out first."""
        body = {
            "mode": str(mode),
            "count": count,
            "method": method,
            "path_prefix": path_prefix,
            "retry_after": retry_after,
            "seconds": seconds,
            "processed": processed,
        }
        return self._control("POST", "/faults", json={k: v for k, v in body.items() if v is not None})

    def change_status_as_pos(self, order_id: str, status: str, **fields: Any) -> dict:
        """Changes the order as another app (the POS) would: this is what fires callbacks to ours."""
        return self._control("POST", f"/orders/{order_id}/status", json={"status": status, **fields})

    def requests_log(self, **filters: Any) -> list[dict]:
        """Newest first. Filters: method, path_prefix, status, fault, client_name, since_id, limit."""
        return self._control("GET", "/requests", params=filters)

    def orders(self, location_id: str | None = None) -> list[dict]:
        """Every order of the location as HubRise holds it, with every client's private refs."""
        return self._control("GET", f"/locations/{location_id or self.location_id}/orders")

    def events(self, **filters: Any) -> list[dict]:
        """Events with state and attempts. Filters: state (pending, delivered, dropped, …), client_id, order_id."""
        return self._control("GET", "/events", params=filters)

    # Catalogs and inventory, as the POS holds and edits them --------------------------------------

    @property
    def catalog_id(self) -> str:
        """The first location's catalog (the demo bistro menu)."""
        return self.locations()[0]["catalogs"][0]["id"]

    def catalog(self, catalog_id: str | None = None) -> dict:
        """The catalog as ``GET /catalogs/:id`` answers it (ids, no rate limit)."""
        return self._control("GET", f"/catalogs/{catalog_id or self.catalog_id}")

    def catalog_upload(self, catalog_id: str | None = None) -> dict:
        """The catalog in upload form (``{"name", "data"}`` with refs, no ids): edit it, then ``put_catalog``."""
        return self._control("GET", f"/catalogs/{catalog_id or self.catalog_id}/upload")

    def put_catalog(self, body: dict, catalog_id: str | None = None, *, unchecked: bool = False, as_app: str = "pos") -> dict:
        """Replaces the catalog as another app (the POS): fires ``catalog.update``. ``unchecked`` stores
        ``data`` as it is, to hand a client a catalog HubRise would never accept."""
        payload = {**body, "as": as_app, "unchecked": unchecked}
        return self._control("PUT", f"/catalogs/{catalog_id or self.catalog_id}", json=payload)

    def create_catalog_as_pos(self, body: dict, location_id: str | None = None, *, level: str = "location") -> dict:
        """A catalog created by the POS (``level`` "account": an account-level one): fires ``catalog.create``."""
        return self._control("POST", f"/locations/{location_id or self.location_id}/catalogs", json={**body, "level": level})

    def set_sku_price(self, sku_ref: str, price: str, catalog_id: str | None = None) -> dict:
        """The POS changes one price: a whole-catalog PUT behind, so ``catalog.update``."""
        return self._control("PATCH", f"/catalogs/{catalog_id or self.catalog_id}/skus/{sku_ref}", json={"price": price})

    def add_product(self, product: dict, catalog_id: str | None = None) -> dict:
        """The POS adds a product (upload form: ``category_ref``, ``name``, ``skus``)."""
        return self._control("POST", f"/catalogs/{catalog_id or self.catalog_id}/products", json=product)

    def inventory(self, catalog_id: str | None = None, location_id: str | None = None) -> list[dict]:
        path = f"/catalogs/{catalog_id or self.catalog_id}/locations/{location_id or self.location_id}/inventory"
        return self._control("GET", path)

    def patch_inventory(self, entries: list[dict], catalog_id: str | None = None, location_id: str | None = None) -> list[dict]:
        """The POS changes stock (``[{"sku_ref": "STEAK-FRITES", "stock": "0"}]``): fires ``inventory.patch``."""
        path = f"/catalogs/{catalog_id or self.catalog_id}/locations/{location_id or self.location_id}/inventory"
        return self._control("PATCH", path, json={"entries": entries, "as": "pos"})

    # The location, as the POS sets it -----------------------------------------------------------

    def location(self, location_id: str | None = None) -> dict:
        """The location as ``GET /location`` answers it (hours, preparation time, order acceptance)."""
        return self._control("GET", f"/locations/{location_id or self.location_id}")

    def patch_location_as_pos(self, location_id: str | None = None, **fields: Any) -> dict:
        """E.g. ``order_acceptance={"mode": "paused", "reason": "…"}``: fires ``location.update``."""
        return self._control("PATCH", f"/locations/{location_id or self.location_id}", json=fields)

    def pos_codes(self, location_id: str | None = None) -> dict:
        """The POS's refs for service types, payment methods, platform discounts and charges."""
        return self._control("GET", f"/locations/{location_id or self.location_id}/pos_codes")

    # The other apps' orders and their couriers ------------------------------------------------------

    def create_order_as(self, app: str, location_id: str | None = None, **options: Any) -> dict:
        """An order created by ``app`` ("uber_eats", "deliveroo", "pos") from the location's catalog,
        as HubRise holds it. Options: service_type, delivery_by ("platform"|"restaurant"), seed,
        items, status, customer_notes, with_deal, dispatch, step_seconds (see the sandbox README)."""
        return self._control("POST", f"/locations/{location_id or self.location_id}/orders", json={"as": app, **options})

    def edit_order_as(self, order_id: str, app: str = "pos", **changes: Any) -> dict:
        """A PATCH of the order by another app (confirmed_time, seller_notes, items…): fires ``order.update``."""
        return self._control("PATCH", f"/orders/{order_id}", json={"as": app, **changes})

    def dispatch_courier(self, order_id: str, **options: Any) -> dict:
        """Attaches a delivery as its carrier and moves it every ``step_seconds`` (0: only on ``advance_delivery``)."""
        return self._control("POST", f"/orders/{order_id}/delivery", json=options)

    def advance_delivery(self, order_id: str) -> dict:
        return self._control("POST", f"/orders/{order_id}/delivery/advance")

    def change_delivery(self, order_id: str, **fields: Any) -> dict:
        return self._control("PATCH", f"/orders/{order_id}/delivery", json=fields)

    def deliveries(self) -> list[dict]:
        return self._control("GET", "/deliveries")

    def set_rate_limits(self, **limits: int) -> dict:
        """per_minute, per_hour, per_day, heavy_per_minute."""
        return self._control("POST", "/settings", json={"rate_limits": limits})

    def settings(self, **changes: Any) -> dict:
        """time_unit, delivery_timeout, auth_code_ttl, rate_time_unit (seconds) and rate_limits."""
        return self._control("POST", "/settings", json=changes)

    def reset(self) -> None:
        self._control("POST", "/reset")

    def restart(self) -> None:
        """Stops and starts the process on the same port and database (data must survive)."""
        self._process.restart()


@pytest.fixture(scope="session")
def hubrise_sandbox_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    process = SandboxProcess(tmp_path_factory.mktemp("hubrise_sandbox"))
    process.start()
    yield process
    process.stop()


@pytest.fixture
def hubrise_sandbox(hubrise_sandbox_process: SandboxProcess) -> HubRiseSandbox:
    sandbox = HubRiseSandbox(hubrise_sandbox_process)
    sandbox.reset()
    return sandbox
