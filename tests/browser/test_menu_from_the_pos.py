"""The POS changes a price in HubRise (the sandbox's catalog page): the open menu page shows it by itself.

The whole chain, for real: OAuth connection with an active callback to this live server, the
catalog.update event recorded by the webhook, applied by a Celery worker that imports the catalog
(a heavy read through the rate limiter), and the menu page's poll reloading it under the CSP.
"""

import pytest
from django.urls import reverse

from menu.models import Sku
from orders.models import Membership
from tests.browser.conftest import log_in
from tests.factories import make_establishment, make_user
from tests.hubrise.oauth_steps import connect
from tests.processes import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

WITHIN_A_FEW_SECONDS = 20_000


@pytest.fixture
def hubrise(hubrise_sandbox, settings, live_server):
    """Our app on the sandbox, its callback active: the sandbox posts to this live server."""
    settings.HUBRISE_OAUTH_URL = hubrise_sandbox.oauth_url
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    settings.HUBRISE_CLIENT_ID = hubrise_sandbox.client_id
    settings.HUBRISE_CLIENT_SECRET = hubrise_sandbox.client_secret
    settings.PUBLIC_URL = live_server.url
    settings.HUBRISE_CALLBACK_MODE = "active"
    hubrise_sandbox.reset()
    return hubrise_sandbox


def test_a_price_changed_on_the_pos_shows_on_the_open_menu_page(live_server, browser_page, client, hubrise, celery_worker):
    establishment = make_establishment()
    client.force_login(make_user(establishment, username="claire", role=Membership.Role.MANAGER))
    make_user(establishment, username="marc")
    connect(client, hubrise, establishment.pk)
    skus = Sku.objects.filter(menu__establishment=establishment)
    steak = wait_until(lambda: skus.filter(ref="STEAK-FRITES").first(), what="the import")
    page = browser_page
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    log_in(page, live_server, "marc")
    page.goto(live_server.url + reverse("menu:page", args=[establishment.pk]))
    page.get_by_role("navigation", name="Rubriques de la carte").get_by_role("link", name="Plats", exact=True).click()
    price = page.locator(f"#sku-{steak.pk} .row-price")
    assert "19,50" in price.inner_text()

    pos = page.context.browser.new_page()
    pos.goto(f"{hubrise.base_url}/catalogs/{hubrise.catalog_id}?location_id={hubrise.location_id}")
    pos.get_by_label("Prix de STEAK-FRITES").fill("21.40")
    pos.get_by_label("Prix de STEAK-FRITES").locator("xpath=..").get_by_role("button", name="Changer").click()
    pos.close()

    page.locator(f"#sku-{steak.pk} .row-price", has_text="21,40").wait_for(timeout=WITHIN_A_FEW_SECONDS)
    assert refused == []
