"""The order list left open on the tablet updates itself: new orders appear, ring and stay highlighted until opened,
and status changes made elsewhere (the POS through HubRise) show up, all without a reload."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import StatusChange
from orders.services import change_status, create_order
from tests.browser.conftest import SCREENSHOTS, log_in
from tests.factories import croque_order, make_establishment, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The list polls every 3 s: a change shows within one poll, two at most if it lands just after one.
WITHIN_A_FEW_SECONDS = 8_000


def test_a_new_order_and_a_change_from_the_pos_show_up_on_the_open_list_without_reload(live_server, browser_page):
    establishment = make_establishment()
    make_user(establishment, username="marc")
    earlier = create_order(
        establishment, croque_order(ref="0100"), source=StatusChange.Source.API, created_at=timezone.now() - timedelta(minutes=2)
    )
    page = browser_page
    log_in(page, live_server, "marc")
    page.wait_for_selector(".order-cards")
    page.evaluate("window.__notReloaded = true")
    tabs = page.get_by_role("navigation", name="Onglets des commandes")

    toggle = page.get_by_role("button", name="Activer le son")
    toggle.click()
    assert page.get_by_role("button", name="Son activé").get_attribute("aria-pressed") == "true"
    assert page.evaluate("localStorage.getItem('getresto.sound')") == "on"

    new = create_order(establishment, croque_order(ref="0101", table_name="7"), source=StatusChange.Source.API)

    row = page.locator(f'li[data-order="{new.pk}"]')
    row.wait_for(timeout=WITHIN_A_FEW_SECONDS)
    assert "unopened" in row.get_attribute("class")
    assert row.locator(".tag-unopened").inner_text().strip().lower() == "non vue"
    page.wait_for_function(f"document.body.dataset.lastChime === '{new.pk}'", timeout=WITHIN_A_FEW_SECONDS)
    assert tabs.get_by_role("link", name="Reçu").locator(".count").inner_text() == "2"
    assert page.title().startswith("(2) ")
    page.screenshot(path=str(SCREENSHOTS / "getresto_new_order_highlighted.png"), full_page=True)

    change_status(earlier, "in_preparation", source=StatusChange.Source.HUBRISE, source_detail="Caisse")

    page.locator(f'li[data-order="{earlier.pk}"]').wait_for(state="detached", timeout=WITHIN_A_FEW_SECONDS)
    assert tabs.get_by_role("link", name="En préparation").locator(".count").inner_text() == "1"
    assert tabs.get_by_role("link", name="Reçu").locator(".count").inner_text() == "1"
    assert page.evaluate("window.__notReloaded") is True

    page.get_by_role("link", name="0101", exact=True).click()
    page.get_by_role("heading", name="Commande 0101").wait_for()
    page.go_back()
    page.wait_for_selector(f'li[data-order="{new.pk}"]')
    assert "unopened" not in (page.locator(f'li[data-order="{new.pk}"]').get_attribute("class") or "")


def test_the_sound_choice_is_remembered_and_waits_for_a_tap_after_a_reload(live_server, browser_page):
    establishment = make_establishment()
    make_user(establishment, username="lina")
    page = browser_page
    log_in(page, live_server, "lina")
    page.get_by_role("button", name="Activer le son").click()

    page.reload()

    # A reloaded page may not play sound before the user touches it: the toggle says so, a tap anywhere allows it.
    page.get_by_role("button", name="Touchez la page pour autoriser le son").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "getresto_sound_blocked.png"))
    page.locator("main").click(position={"x": 5, "y": 5})
    page.get_by_role("button", name="Son activé").wait_for()
    page.get_by_role("button", name="Son activé").click()
    page.get_by_role("button", name="Activer le son").wait_for()
    assert page.evaluate("localStorage.getItem('getresto.sound')") == "off"
