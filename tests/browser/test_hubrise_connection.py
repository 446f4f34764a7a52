"""A manager connects the restaurant to HubRise (the sandbox) in a real browser, sees an order
go to HubRise and a change made at the POS come back, then disconnects."""

import pytest

from hubrise_sync.models import Connection
from orders.models import Membership, StatusChange
from orders.services import create_order
from tests.browser.conftest import log_in
from tests.factories import croque_order, make_establishment, make_user
from tests.processes import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

WITHIN_A_FEW_SECONDS = 10_000


def test_a_manager_connects_sees_both_directions_of_the_sync_then_disconnects(
    live_server, browser_page, hubrise_sandbox, settings, celery_worker
):
    settings.HUBRISE_OAUTH_URL = hubrise_sandbox.oauth_url
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    settings.HUBRISE_CLIENT_ID = hubrise_sandbox.client_id
    settings.HUBRISE_CLIENT_SECRET = hubrise_sandbox.client_secret
    settings.PUBLIC_URL = live_server.url
    # The live server listens on localhost, which the sandbox (on this machine) can reach.
    settings.HUBRISE_CALLBACK_MODE = "active"
    location = hubrise_sandbox.locations()[0]
    establishment = make_establishment()
    make_user(establishment, username="claire", role=Membership.Role.MANAGER)
    page = browser_page

    log_in(page, live_server, "claire")
    page.get_by_role("link", name="HubRise").click()
    page.get_by_role("button", name="Connecter à HubRise").click()
    page.get_by_label("Établissement à connecter").select_option(location["id"])
    page.get_by_role("button", name="Autoriser").click()

    page.get_by_text("Connecté à HubRise").wait_for()
    details = page.locator("dl.hubrise-connection").inner_text()
    for shown in (location["account_name"], location["name"], location["id"], location["customer_lists"][0]["name"]):
        assert shown in details
    connection = Connection.objects.get(establishment=establishment)
    assert connection.callback_mode == "active"
    assert connection.access_token not in page.content()
    page.get_by_role("button", name="Tester la connexion").click()
    page.get_by_text("HubRise a répondu").wait_for()

    # An order arrives from the ordering front; the worker sends it to HubRise.
    order = create_order(establishment, croque_order(ref="0300"), source=StatusChange.Source.API)
    [at_hubrise] = wait_until(lambda: hubrise_sandbox.orders(location["id"]), what="the order at HubRise")
    assert at_hubrise["ref"] == "0300"
    hubrise_id = at_hubrise["id"]

    page.goto(f"{live_server.url}/e/{establishment.pk}/orders/")
    row = page.locator(f'li[data-order="{order.pk}"]')
    row.wait_for()
    pos = page.context.browser.new_page()
    pos.goto(hubrise_sandbox.base_url + "/")
    status_choice = pos.get_by_label(f"Nouveau statut de {hubrise_id}")
    status_choice.select_option("accepted")
    status_choice.locator("xpath=..").get_by_role("button", name="Envoyer").click()
    pos.close()
    row.locator("text=Acceptée").wait_for(timeout=WITHIN_A_FEW_SECONDS)

    page.get_by_role("link", name="HubRise").click()
    page.get_by_role("button", name="Déconnecter", exact=True).click()
    page.get_by_role("heading", name="Déconnecter HubRise ?").wait_for()
    page.get_by_role("button", name="Déconnecter", exact=True).click()

    page.get_by_text("Déconnecté de HubRise").wait_for()
    assert page.get_by_role("button", name="Connecter à HubRise").is_visible()
    assert not Connection.objects.filter(establishment=establishment).exists()
    order.refresh_from_db()
    assert order.status == "accepted"
