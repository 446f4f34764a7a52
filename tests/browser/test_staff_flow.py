"""A cook's round trip in a real browser: log in, switch tabs, open an order, move it on."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from orders.demo import random_order
from orders.models import StatusChange
from orders.services import create_order
from tests.browser.conftest import SCREENSHOTS
from tests.factories import croque_order, make_establishment, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_cook_logs_in_switches_tabs_and_accepts_an_order(live_server, browser_page):
    establishment = make_establishment()
    make_user(establishment, username="marc")
    now = timezone.now()
    rng = random.Random(7)
    for minutes, status in ((40, "in_preparation"), (25, "accepted"), (3, "new"), (12, "in_preparation"), (55, "completed")):
        create_order(establishment, random_order(rng, now, status), created_at=now - timedelta(minutes=minutes))
    create_order(
        establishment,
        croque_order(ref="0100", customer_notes="Allergie aux fruits à coque"),
        source=StatusChange.Source.API,
        created_at=now - timedelta(minutes=7),
    )
    page = browser_page

    page.goto(live_server.url + "/")
    page.get_by_label("Nom d’utilisateur").fill("marc")
    page.get_by_label("Mot de passe").fill("correct-horse-battery")
    page.get_by_role("button", name="Se connecter").click()

    tabs = page.get_by_role("navigation", name="Onglets des commandes")
    page.wait_for_selector(".order-cards")
    assert tabs.get_by_role("link", name="Reçu").get_attribute("aria-current") == "page"
    assert page.get_by_text("1 nouvelle commande attend depuis plus de 5 minutes.").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "getresto_order_list.png"), full_page=True)

    tabs.get_by_role("link", name="En préparation").click()
    page.wait_for_url("**tab=en-preparation")
    assert page.locator(".order-cards .order-card").count() == 2
    tabs.get_by_role("link", name="Reçu").click()
    page.wait_for_url("**tab=recu")

    page.get_by_role("link", name="0100", exact=True).click()
    page.get_by_role("heading", name="Commande 0100").wait_for()
    assert page.get_by_text("Allergie aux fruits à coque").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "getresto_order_detail.png"), full_page=True)

    page.get_by_role("button", name="Rejeter").click()
    reasons = page.get_by_role("group", name="Pourquoi rejeter cette commande\u00a0? (gardé dans son historique)")
    assert reasons.get_by_role("button", name="Rupture de stock").is_visible()
    assert page.get_by_label("Autre motif").first.is_visible()
    page.screenshot(path=str(SCREENSHOTS / "getresto_order_reject.png"), full_page=True)
    page.get_by_role("group", name="Accepter\u00a0: prête dans").get_by_role("button", name="20 min").click()

    page.get_by_text("La commande 0100 est maintenant «\u00a0Acceptée\u00a0».").wait_for()
    assert page.locator(".status-big").inner_text() == "Acceptée"
    assert page.get_by_role("button", name="En préparation").is_visible()
