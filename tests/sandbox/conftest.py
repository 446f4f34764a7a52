"""Shared pieces of the sandbox tests: an API client per app, and a callback receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
import requests

if TYPE_CHECKING:
    from tests.sandbox_fixture import HubRiseSandbox


def pytest_configure(config: pytest.Config) -> None:
    # The root conftest may already list the plugin; import_plugin skips it then.
    config.pluginmanager.import_plugin("tests.sandbox_fixture")


class ApiClient:
    """One app's view of the API: a token and JSON bodies, nothing clever."""

    def __init__(self, api_url: str, token: str) -> None:
        self.api_url = api_url
        self.token = token

    def request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        headers = {"X-Access-Token": self.token, **kwargs.pop("headers", {})}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        timeout = kwargs.pop("timeout", 10)
        return requests.request(method, f"{self.api_url}{path}", headers=headers, timeout=timeout, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def create_order(self, **fields: Any) -> dict:
        response = self.post("/location/orders", {"status": "new", **fields})
        assert response.status_code == 200, response.text
        return response.json()


def an_item(**fields: Any) -> dict:
    return {"product_name": "Burger", "price": "8.90 EUR", "quantity": "1", **fields}


@pytest.fixture
def app_api(hubrise_sandbox: HubRiseSandbox) -> ApiClient:
    """Our app (the back office), connected to the first location."""
    return ApiClient(hubrise_sandbox.api_url, hubrise_sandbox.create_token())


@pytest.fixture
def pos_api(hubrise_sandbox: HubRiseSandbox) -> ApiClient:
    """Another app (the POS), connected to the same location."""
    return ApiClient(hubrise_sandbox.api_url, hubrise_sandbox.create_pos_token())


@dataclass
class ReceivedCallback:
    at: float
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class CallbackReceiver:
    """A webhook endpoint answering with scripted statuses (then ``default_status``)."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    default_status: int = 200
    delay: float = 0.0
    received: list[ReceivedCallback] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    def record(self, headers: dict[str, str], body: bytes) -> int:
        with self._arrived:
            self.received.append(ReceivedCallback(time.monotonic(), headers, body))
            self._arrived.notify_all()
            return self.statuses.pop(0) if self.statuses else self.default_status

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedCallback]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.received) >= count, timeout)
            assert len(self.received) >= count, f"expected {count} callbacks, got {len(self.received)}"
            return list(self.received)


@pytest.fixture
def callback_receiver() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.record(dict(self.headers), body)
            if receiver.delay:
                time.sleep(receiver.delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hubrise_callback"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
