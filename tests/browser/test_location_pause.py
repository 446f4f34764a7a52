"""A pause travels both ways between the back office and the HubRise location, as staff and the POS see it:
set on the service page, it shows on the sandbox's page; set on the sandbox's page (as the POS),
it shows on the open order list without a reload."""

import pytest
from django.urls import reverse

from orders.models import Membership
from tests.browser.conftest import log_in
from tests.factories import make_establishment, make_user
from tests.hubrise.callbacks import sandbox_connection
from tests.processes import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

# The live list refreshes every 3 s; the callback and its worker take a moment more.
WITHIN_A_FEW_SECONDS = 15_000


@pytest.fixture
def sandbox(hubrise_sandbox, settings):
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    settings.HUBRISE_CLIENT_SECRET = hubrise_sandbox.client_secret
    return hubrise_sandbox


def test_a_pause_set_on_the_service_page_shows_on_the_hubrise_location(live_server, browser_page, sandbox, celery_worker):
    establishment = make_establishment()
    make_user(establishment, username="claire", role=Membership.Role.MANAGER)
    sandbox_connection(sandbox, establishment)
    page = browser_page
    log_in(page, live_server, "claire")

    page.get_by_role("link", name="Service", exact=True).click()
    page.get_by_role("group", name="Pour").first.get_by_role("button", name="30 min").click()
    banner = page.locator(".service-banner")
    banner.wait_for()
    until = banner.inner_text().split("jusqu’à ")[1][:5]

    wait_until(lambda: sandbox.location()["order_acceptance"]["mode"] == "paused", what="the pause at HubRise")
    pos = page.context.browser.new_page()
    pos.goto(sandbox.base_url + "/")
    panel = pos.locator(f'[id="{sandbox.location_id}"] ~ .panel').first
    assert f"en pause jusqu'à {until}" in " ".join(panel.inner_text().split())
    pos.close()


def test_a_pause_set_on_the_sandbox_page_as_the_pos_shows_on_the_open_list(live_server, browser_page, sandbox, celery_worker):
    establishment = make_establishment()
    make_user(establishment, username="marc")
    sandbox_connection(sandbox, establishment, url=live_server.url + reverse("hubrise:callback"))
    page = browser_page
    log_in(page, live_server, "marc")
    page.locator("#live-list").wait_for()
    assert not page.locator(".service-banner").is_visible()

    pos = page.context.browser.new_page()
    pos.goto(sandbox.base_url + "/")
    pause = pos.locator(f'form[action$="/ui/locations/{sandbox.location_id}/acceptance"]').filter(
        has=pos.get_by_role("button", name="Mettre en pause")
    )
    pause.get_by_label("Durée de la pause").select_option(label="30 min")
    pause.get_by_label("Raison de la pause").fill("Panne du four")
    pause.get_by_role("button", name="Mettre en pause").click()

    banner = page.locator(".service-banner")
    banner.wait_for(timeout=WITHIN_A_FEW_SECONDS)
    assert "Nouvelles commandes en pause jusqu’à" in banner.inner_text()
    assert "Panne du four" in banner.inner_text()

    resume = pos.locator(f'form[action$="/ui/locations/{sandbox.location_id}/acceptance"]').filter(
        has=pos.get_by_role("button", name="Reprendre les commandes")
    )
    resume.get_by_role("button", name="Reprendre les commandes").click()
    pos.close()
    banner.wait_for(state="detached", timeout=WITHIN_A_FEW_SECONDS)
