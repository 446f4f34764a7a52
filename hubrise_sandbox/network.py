"""The WSGI layer in front of the Flask app: method override, fault injection, request log.

Faults live here rather than in Flask because "drop" must close the socket without any
answer, which only the server layer can do: raising a ConnectionError out of the WSGI
app makes werkzeug's server abandon the request silently.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from .store import Store, mask_token

FAULT_MODES = ("500", "502", "503", "429", "hang", "drop", "hold")
# What the load balancer in front of HubRise answers when the API behind it is down: HTML, not JSON.
GATEWAY_ERRORS = {"502": "502 BAD GATEWAY", "503": "503 SERVICE UNAVAILABLE"}
BODY_KEPT = 2000
_REDACTED_FIELDS = "access_token|client_secret|token|code"
_SECRET_IN_JSON = re.compile(rf'("(?:{_REDACTED_FIELDS})"\s*:\s*)"([^"]*)"')
_SECRET_IN_FORM = re.compile(rf"((?:^|[?&])(?:{_REDACTED_FIELDS})=)([^&\s]*)")
OVERRIDABLE_METHODS = {"PUT", "PATCH", "DELETE"}


@dataclass
class Fault:
    mode: str
    remaining: int = 1
    method: str | None = None
    path_prefix: str | None = None
    retry_after: int = 30
    seconds: float = 5.0
    # When true the request is carried out first and only the answer is lost or replaced.
    processed: bool = False
    id: int = 0
    created_at: float = field(default_factory=time.time)

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return not (self.path_prefix and not path.startswith(self.path_prefix))


class FaultBoard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1
        # Hanging requests wait on this, so a reset frees them at once.
        self._wake = threading.Event()
        # Held requests wait on this until released (or a reset, or their fault's seconds).
        self._release = threading.Event()
        self._held = 0

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def list(self) -> list[dict]:
        with self._lock:
            return [asdict(fault) for fault in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._wake.set()
            self._wake = threading.Event()
        self.release_held()

    def hold(self, seconds: float) -> None:
        """Keeps the calling request waiting until ``release_held`` (or ``seconds``)."""
        with self._lock:
            release = self._release
            self._held += 1
        try:
            release.wait(seconds)
        finally:
            with self._lock:
                self._held -= 1

    def held(self) -> int:
        with self._lock:
            return self._held

    def release_held(self) -> int:
        """Lets every held request go on; how many were waiting."""
        with self._lock:
            count = self._held
            self._release.set()
            self._release = threading.Event()
        return count

    def sleep(self, seconds: float) -> None:
        with self._lock:
            wake = self._wake
        wake.wait(seconds)


def _drop_connection(environ: dict) -> None:
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("connection dropped by an injected fault")


def _truncate(data: bytes | str | None) -> str | None:
    if data is None:
        return None
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = _redact(text)
    return text if len(text) <= BODY_KEPT else text[:BODY_KEPT] + "…"


def _redact(text: str) -> str:
    """The log is shown on the web page, so OAuth secrets and tokens never reach it whole."""
    text = _SECRET_IN_JSON.sub(lambda m: f'{m.group(1)}"{mask_token(m.group(2))}"', text)
    return _SECRET_IN_FORM.sub(lambda m: f"{m.group(1)}{mask_token(m.group(2))}", text)


class NetworkLayer:
    def __init__(self, app: Callable, store: Store, faults: FaultBoard, request_log_kept: int = 2000) -> None:
        self.app = app
        self.store = store
        self.faults = faults
        self.request_log_kept = request_log_kept

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        override = environ.get("HTTP_X_HTTP_METHOD_OVERRIDE", "").upper()
        if environ["REQUEST_METHOD"] == "POST" and override in OVERRIDABLE_METHODS:
            environ["REQUEST_METHOD"] = override
        path = environ.get("PATH_INFO", "")
        if not path.startswith(("/v1", "/oauth2/")):
            return self.app(environ, start_response)
        return self._handle_hubrise_request(environ, start_response, path)

    def _handle_hubrise_request(self, environ: dict, start_response: Callable, path: str) -> Iterable[bytes]:
        started = time.monotonic()
        method = environ["REQUEST_METHOD"]
        request_body = self._read_body(environ)
        entry: dict[str, Any] = {
            "at": time.time(),
            "method": method,
            "path": path,
            "query": _redact(environ.get("QUERY_STRING", "")),
            "request_body": _truncate(request_body),
            "processed": False,
            "fault": None,
        }
        fault = self.faults.take(method, path)
        if fault is not None and fault.mode == "hold":
            # In flight: received, not yet carried out, until the test releases it.
            self.faults.hold(fault.seconds)
            entry["fault"] = fault.mode
            fault = None
        response: tuple[str, list, bytes] | None = None
        if fault is None or fault.processed:
            response = self._run_app(environ)
            entry["processed"] = True
        if fault is not None:
            entry["fault"] = fault.mode
            if fault.mode == "500":
                response = _fault_response("500 INTERNAL SERVER ERROR", "internal_error")
            elif fault.mode in GATEWAY_ERRORS:
                response = _gateway_response(GATEWAY_ERRORS[fault.mode])
            elif fault.mode == "429":
                response = _fault_response("429 TOO MANY REQUESTS", "too_many_requests")
                response[1].append(("Retry-After", str(fault.retry_after)))
            elif fault.mode == "drop" or not fault.processed:
                response = None

        entry["status"] = int(response[0].split()[0]) if response else None
        entry["response_body"] = _truncate(response[2]) if response else None
        entry["duration_ms"] = int((time.monotonic() - started) * 1000)
        for key in ("client_name", "connection_id", "token_hint"):
            entry[key] = environ.get(f"hubrise_sandbox.{key}")
        # Logged before any hang, so a test can see what reached HubRise while its client waits.
        self._log(entry)

        if fault is not None and fault.mode == "hang":
            self.faults.sleep(fault.seconds)
        if response is None:
            _drop_connection(environ)
        status, headers, body = response
        start_response(status, headers)
        return [body]

    def _run_app(self, environ: dict) -> tuple[str, list, bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> Callable:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return captured["status"], captured["headers"], body

    @staticmethod
    def _read_body(environ: dict) -> bytes:
        if environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read()
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            return body
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        # The app reads the body again, so hand it a fresh stream over the same bytes.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return body

    def _log(self, entry: dict) -> None:
        columns = (
            "at",
            "method",
            "path",
            "query",
            "status",
            "client_name",
            "connection_id",
            "token_hint",
            "request_body",
            "response_body",
            "fault",
            "processed",
            "duration_ms",
        )
        with self.store.transaction() as db:
            cursor = db.execute(
                f"INSERT INTO request_log ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",  # noqa: S608
                [entry[c] for c in columns],
            )
            db.execute("DELETE FROM request_log WHERE id <= ?", (cursor.lastrowid - self.request_log_kept,))


def _fault_response(status: str, error_type: str) -> tuple[str, list, bytes]:
    body = json.dumps({"message": f"Injected fault: {error_type}", "error_type": error_type}).encode()
    return status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body


def _gateway_response(status: str) -> tuple[str, list, bytes]:
    title = status.split(" ", 1)[1].title()
    body = f"<html><head><title>{status[:3]} {title}</title></head><body><h1>{title}</h1></body></html>\n".encode()
    return status, [("Content-Type", "text/html"), ("Content-Length", str(len(body)))], body
