"""Headless Chromium for the browser tests (Playwright's sync API)."""

import os
from pathlib import Path

import pytest

from conftest import missing_service

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("GR_SCREENSHOT_DIR", "/tmp"))


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread, which trips
    # Django's guard against database calls from async code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    chromium_path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(chromium_path).exists():
        missing_service(f"needs Chromium at {chromium_path} (set CHROMIUM_PATH)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        page.set_default_timeout(10_000)
        yield page
        browser.close()
        # Inside Playwright's event loop Django keeps the test's database connections apart
        # from the ones pytest-django closes; left open, they block dropping the test database.
        from django.db import connections

        connections.close_all()


def log_in(page, live_server, username: str, password: str = "correct-horse-battery") -> None:  # noqa: S107 (the factories' test password)
    page.goto(live_server.url + "/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
