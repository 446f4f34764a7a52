"""Shared pieces of the printing tests: virtual printers of the sandbox process, and printers pointing at them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from orders.models import Establishment, Membership
from printing.models import Printer
from tests.factories import make_establishment, make_user


class VirtualPrinter:
    """One of the sandbox's virtual printers, through its control API."""

    def __init__(self, control_url: str, info: dict) -> None:
        self.url = f"{control_url}/printers/{info['id']}"
        self.id = info["id"]
        self.name = info["name"]
        self.port = info["port"]

    def _call(self, method: str, path: str = "", **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.url}{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def tickets(self) -> list[dict]:
        """Everything it printed, oldest first: lines with their style, complete (cut) or torn."""
        return self._call("GET", "/tickets")

    def info(self) -> dict:
        return next(p for p in requests.get(self.url.rsplit("/", 1)[0], timeout=10).json() if p["id"] == self.id)

    def fault(self, mode: str, *, count: int = 0, after_bytes: int = 40) -> None:
        """refuse | hang | close_mid_ticket | out_of_paper, for ``count`` connections (0: until cleared)."""
        self._call("POST", "/fault", json={"mode": mode, "count": count, "after_bytes": after_bytes})

    def clear_fault(self) -> None:
        self._call("DELETE", "/fault")

    def remove(self) -> None:
        self._call("DELETE")


@pytest.fixture
def virtual_printer(hubrise_sandbox_process) -> Iterator:
    """A factory of virtual printers (each on its own free port), removed after the test."""
    control_url = f"{hubrise_sandbox_process.base_url}/_sandbox"
    created: list[VirtualPrinter] = []

    def add(name: str = "Cuisine") -> VirtualPrinter:
        response = requests.post(f"{control_url}/printers", json={"name": name}, timeout=10)
        response.raise_for_status()
        printer = VirtualPrinter(control_url, response.json())
        created.append(printer)
        return printer

    yield add
    for printer in created:
        printer.remove()


def printer_at(establishment: Establishment, virtual: VirtualPrinter, **fields: Any) -> Printer:
    """Our record of a printer pointing at that virtual printer."""
    values = {"name": virtual.name, "host": "127.0.0.1", "port": virtual.port, **fields}
    return Printer.objects.create(establishment=establishment, **values)


@pytest.fixture
def establishment() -> Establishment:
    return make_establishment()


@pytest.fixture
def manager(client, establishment):
    user = make_user(establishment, username="claire", role=Membership.Role.MANAGER)
    client.force_login(user)
    return user


@pytest.fixture
def cook(client, establishment):
    user = make_user(establishment, username="marc", role=Membership.Role.STAFF)
    client.force_login(user)
    return user


@pytest.fixture
def fast_printing(settings):
    """Short timeouts and backoff, so that faults play out within a test."""
    settings.PRINTING_CONNECT_TIMEOUT = 1.0
    settings.PRINTING_IO_TIMEOUT = 1.0
    settings.PRINTING_BACKOFF_BASE = 0.2
    settings.PRINTING_BACKOFF_CAP = 0.8
    settings.PRINTING_LEASE = 5.0
    return settings
