"""The one screen for every order: an Uber Eats order placed on the HubRise sandbox's page arrives on the open list
with its chime, its channel and its courier, and the courier's progress follows without a reload."""

import re
import time

import pytest
from django.urls import reverse

from tests.browser.conftest import SCREENSHOTS, log_in
from tests.factories import make_establishment, make_user
from tests.hubrise.callbacks import sandbox_connection

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

WITHIN_A_FEW_SECONDS = 10_000


def test_an_uber_eats_order_arrives_on_the_open_list_with_its_chime_and_its_courier(
    live_server, browser_page, hubrise_sandbox, settings, celery_worker
):
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    settings.HUBRISE_CLIENT_SECRET = hubrise_sandbox.client_secret
    establishment = make_establishment()
    make_user(establishment, username="marc")
    sandbox_connection(hubrise_sandbox, establishment, url=live_server.url + reverse("hubrise:callback"))
    page = browser_page
    log_in(page, live_server, "marc")
    page.get_by_role("button", name="Activer le son").click()

    platform = page.context.browser.new_page()
    platform.goto(hubrise_sandbox.base_url + "/")
    platform.get_by_role("button", name="Uber Eats, livrée par Uber").first.click()
    platform.close()
    [placed] = hubrise_sandbox.orders()

    row = page.locator("li[data-order]").filter(has_text=placed["ref"])
    row.wait_for(timeout=WITHIN_A_FEW_SECONDS)
    order_id = row.get_attribute("data-order")
    page.wait_for_function(f"document.body.dataset.lastChime === '{order_id}'", timeout=WITHIN_A_FEW_SECONDS)
    assert "unopened" in row.get_attribute("class")
    assert "Uber Eats" in row.inner_text()
    courier = row.locator(".delivery-line")
    # The platform sends its courier just after the order (delivery.create, order.update): on the next refresh at most.
    courier.wait_for(timeout=WITHIN_A_FEW_SECONDS)
    assert courier.inner_text().startswith(("en attente d’un coursier", "coursier"))

    # The courier goes to the restaurant, waits there, and leaves for the guest (the sandbox also moves it every 20 s).
    for _ in range(8):
        if hubrise_sandbox.advance_delivery(placed["id"])["status"].startswith("dropoff"):
            break

    # Polled from Python: the page's strict CSP leaves no eval() to wait_for_function.
    on_the_way = re.compile(r"coursier (en route|bientôt chez le client|chez le client), arrivée \d\d:\d\d")
    deadline = time.monotonic() + 3 * WITHIN_A_FEW_SECONDS / 1000
    while not on_the_way.fullmatch(courier.inner_text().strip()):
        assert time.monotonic() < deadline, courier.inner_text()
        time.sleep(0.2)
    page.screenshot(path=str(SCREENSHOTS / "getresto_uber_eats_order_with_courier.png"), full_page=True)
