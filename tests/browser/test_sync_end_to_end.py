"""Both directions of the sync as a restaurant sees them: the order placed here reaches the
HubRise sandbox, and a status changed on the sandbox's own page (as the POS would) appears on
the back office's open list without a reload."""

import pytest
from django.urls import reverse

from tests.browser.conftest import log_in
from tests.factories import make_establishment, make_user
from tests.hubrise.callbacks import pushed_order, sandbox_connection

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

WITHIN_A_FEW_SECONDS = 10_000


def test_a_status_changed_on_the_hubrise_sandbox_page_shows_up_on_the_open_list(
    live_server, browser_page, hubrise_sandbox, settings, celery_worker
):
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    settings.HUBRISE_CLIENT_SECRET = hubrise_sandbox.client_secret
    establishment = make_establishment()
    make_user(establishment, username="marc")
    sandbox_connection(hubrise_sandbox, establishment, url=live_server.url + reverse("hubrise:callback"))
    order = pushed_order(establishment, ref="0200")
    hubrise_id = order.hubrise.hubrise_order_id
    page = browser_page
    log_in(page, live_server, "marc")
    row = page.locator(f'li[data-order="{order.pk}"]')
    row.wait_for()

    pos = page.context.browser.new_page()
    pos.goto(hubrise_sandbox.base_url + "/")
    pos.get_by_label(f"Nouveau statut de {hubrise_id}").select_option("in_preparation")
    pos.get_by_label(f"Nouveau statut de {hubrise_id}").locator("xpath=..").get_by_role("button", name="Envoyer").click()
    pos.close()

    row.wait_for(state="detached", timeout=WITHIN_A_FEW_SECONDS)
    tabs = page.get_by_role("navigation", name="Onglets des commandes")
    assert tabs.get_by_role("link", name="En préparation").locator(".count").inner_text() == "1"
    page.get_by_role("link", name="En préparation").click()
    assert "En préparation" in page.locator(f'li[data-order="{order.pk}"]').inner_text()
