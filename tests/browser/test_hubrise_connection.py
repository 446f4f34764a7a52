"""A manager connects the restaurant to HubRise (the sandbox) in a real browser, then disconnects it."""

import os
from pathlib import Path

import pytest

from conftest import missing_service
from hubrise_sync.models import Connection
from orders.models import Membership
from tests.factories import make_establishment, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread, which trips
    # Django's guard against database calls from async code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
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


def test_a_manager_connects_through_the_consent_page_then_disconnects(live_server, browser_page, hubrise_sandbox, settings):
    settings.HUBRISE_OAUTH_URL = hubrise_sandbox.oauth_url
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    settings.HUBRISE_CLIENT_ID = hubrise_sandbox.client_id
    settings.HUBRISE_CLIENT_SECRET = hubrise_sandbox.client_secret
    settings.PUBLIC_URL = live_server.url
    location = hubrise_sandbox.locations()[0]
    establishment = make_establishment()
    make_user(establishment, username="claire", role=Membership.Role.MANAGER)
    page = browser_page

    page.goto(f"{live_server.url}/hubrise/e/{establishment.pk}/settings/")
    page.get_by_label("Nom d’utilisateur").fill("claire")
    page.get_by_label("Mot de passe").fill("correct-horse-battery")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("button", name="Connecter à HubRise").click()

    page.get_by_label("Établissement à connecter").select_option(location["id"])
    page.get_by_role("button", name="Autoriser").click()

    page.get_by_text("Connecté à HubRise").wait_for()
    details = page.locator("dl.hubrise-connection").inner_text()
    for shown in (location["account_name"], location["name"], location["id"], location["customer_lists"][0]["name"]):
        assert shown in details
    assert "callback passif" in details
    connection = Connection.objects.get(establishment=establishment)
    assert connection.access_token not in page.content()

    page.get_by_role("button", name="Tester la connexion").click()
    page.get_by_text("HubRise a répondu").wait_for()

    page.get_by_role("button", name="Déconnecter", exact=True).click()
    page.get_by_role("heading", name="Déconnecter HubRise ?").wait_for()
    page.get_by_role("button", name="Déconnecter", exact=True).click()

    page.get_by_text("Déconnecté de HubRise").wait_for()
    assert page.get_by_role("button", name="Connecter à HubRise").is_visible()
    assert not Connection.objects.filter(establishment=establishment).exists()
