"""The order screens as they are used at the pass: on a phone, a portrait tablet and a desktop,
readable without sideways scrolling, every action within reach, no serious accessibility fault;
a chime that keeps ringing until someone opens the new order; a ready time that reaches
HubRise; a pause that stops the intake API."""

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.utils import timezone

from orders import live_poll
from orders.inputs import NewCustomer, NewItem, NewOption
from orders.models import ApiKey, Membership, Order, StatusChange
from orders.services import create_order, mark_opened
from tests.browser.conftest import SCREENSHOTS, log_in
from tests.factories import croque_order, make_establishment, make_user
from tests.hubrise.callbacks import pushed_order, sandbox_connection
from tests.processes import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1280, 800)}
AXE = Path(django_settings.BASE_DIR) / "static" / "vendor" / "axe.min.js"
# The smallest touch target we accept, in CSS pixels (WCAG 2.5.5 asks 44).
TOUCH = 44


def a_busy_lunch(establishment) -> Order:
    """A few orders with long names and many dishes; returns a new one with an allergy note."""
    now = timezone.now()
    dishes = tuple(
        NewItem(name, Decimal("12.50"), Decimal(quantity), options=(NewOption("Cuisson", "À point"),))
        for name, quantity in (
            ("Entrecôte grillée sauce au poivre vert", "2"),
            ("Salade de chèvre chaud au miel et noix", "1"),
            ("Café gourmand et ses trois mignardises", "3"),
            ("Moelleux au chocolat", "1"),
            ("Limonade artisanale", "4"),
        )
    )
    customer = NewCustomer(first_name="Marie-Charlotte", last_name="de La Tour-Villeneuve", phone="+33612345678")
    for minutes, status in ((30, "in_preparation"), (12, "accepted"), (2, "new")):
        create_order(
            establishment,
            croque_order(status=status, items=dishes, customer=customer, customer_notes="Sans oignons"),
            source=StatusChange.Source.API,
            created_at=now - timedelta(minutes=minutes),
        )
    return create_order(
        establishment,
        croque_order(ref="0500", items=dishes, customer=customer, customer_notes="Allergie sévère aux arachides"),
        source=StatusChange.Source.API,
        created_at=now - timedelta(minutes=1),
    )


def no_sideways_scroll(page) -> None:
    width, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width <= client, f"{page.url} scrolls sideways: {width} > {client}"


def reachable(locator, width: int) -> None:
    """Visible, inside the screen's width, and big enough for a finger."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box is not None and locator.is_visible(), locator
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (locator, box)
    assert box["height"] >= TOUCH - 0.5, (locator, box)


@pytest.mark.parametrize("size", SIZES)
def test_list_order_page_and_menu_fit_the_screen_with_every_action_in_reach(live_server, browser_page, size):
    width, height = SIZES[size]
    establishment = make_establishment()
    make_user(establishment, username="marc")
    order = a_busy_lunch(establishment)
    page = browser_page
    page.set_viewport_size({"width": width, "height": height})

    log_in(page, live_server, "marc")
    card = page.locator(f'li[data-order="{order.pk}"]')
    card.wait_for()
    no_sideways_scroll(page)
    assert "ALLERGIE" in card.inner_text()  # uppercase by its style
    assert "+2 autres" in card.inner_text()
    reachable(card.get_by_role("link", name="0500", exact=True), width)
    page.screenshot(path=str(SCREENSHOTS / f"getresto_list_{size}.png"), full_page=True)

    menu_button = page.get_by_role("button", name="Menu")
    if size == "phone":
        assert not page.get_by_role("button", name="Se déconnecter").is_visible()
        reachable(menu_button, width)
        menu_button.click()
        page.screenshot(path=str(SCREENSHOTS / f"getresto_menu_{size}.png"), full_page=True)
    else:
        assert not menu_button.is_visible()
    for entry in ("Aujourd’hui", "Service", "HubRise"):
        reachable(page.get_by_role("link", name=entry, exact=True), width)
    reachable(page.get_by_role("button", name="Se déconnecter"), width)
    no_sideways_scroll(page)

    # The whole card opens the order, not only its ref.
    card.scroll_into_view_if_needed()
    box = card.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] - 10)
    page.get_by_role("heading", name="Commande 0500").wait_for()
    no_sideways_scroll(page)
    actions = page.locator("section.actions")
    for minutes in (10, 15, 20, 30, 45):
        reachable(actions.get_by_role("button", name=f"{minutes} min", exact=True), width)
    for label in ("En préparation", "Rejeter", "Annuler"):
        reachable(actions.get_by_role("button", name=label, exact=True), width)
    assert page.locator("section.notes-allergy").is_visible()
    page.screenshot(path=str(SCREENSHOTS / f"getresto_detail_{size}.png"), full_page=True)

    actions.get_by_role("button", name="Annuler", exact=True).click()
    for preset in ("Rupture de stock", "Trop de commandes", "Établissement fermé"):
        reachable(actions.get_by_role("group", name="Pourquoi annuler").get_by_role("button", name=preset), width)
    no_sideways_scroll(page)


def axe_violations(page) -> list[str]:
    """Serious and critical axe-core findings of the page, injected from our vendored copy."""
    page.evaluate(AXE.read_text() + "\n;undefined")
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']][:3]}"
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("size", SIZES)
def test_login_list_order_settings_and_service_pages_have_no_serious_accessibility_fault(live_server, browser_page, size):
    width, height = SIZES[size]
    establishment = make_establishment()
    make_user(establishment, username="claire", role=Membership.Role.MANAGER)
    order = a_busy_lunch(establishment)
    page = browser_page
    page.set_viewport_size({"width": width, "height": height})

    page.goto(live_server.url + "/")
    found = {"login": axe_violations(page)}
    log_in(page, live_server, "claire")
    page.locator(".order-cards").wait_for()
    found["list"] = axe_violations(page)
    for name, path in (
        ("detail", f"/e/{establishment.pk}/orders/{order.pk}/"),
        ("hubrise settings", f"/hubrise/e/{establishment.pk}/settings/"),
        ("service", f"/e/{establishment.pk}/service/"),
        ("today", f"/e/{establishment.pk}/today/"),
    ):
        page.goto(live_server.url + path)
        no_sideways_scroll(page)
        found[name] = axe_violations(page)
        page.screenshot(path=str(SCREENSHOTS / f"getresto_{name.replace(' ', '_')}_{size}.png"), full_page=True)

    assert {name: faults for name, faults in found.items() if faults} == {}


# Records every sound the page plays (which file, how loud), without playing it.
RECORD_PLAYS = """
window.__plays = [];
HTMLMediaElement.prototype.play = function () {
  if (!this.muted) window.__plays.push({src: this.src.split('/').pop(), volume: this.volume, at: Date.now()});
  return Promise.resolve();
};
"""


def wait_in_page(page, expression: str, *, timeout_ms: int) -> None:
    """Playwright's wait_for_function evaluates its predicate with eval() while the page's clock is
    replaced, which the Content-Security-Policy forbids: ask the page from here instead."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.1)


def plays(page) -> list[dict]:
    return page.evaluate("window.__plays")


def test_the_chime_rings_again_every_20_seconds_until_the_new_order_is_opened(live_server, browser_page):
    establishment = make_establishment()
    make_user(establishment, username="marc")
    page = browser_page
    page.add_init_script(RECORD_PLAYS)
    page.clock.install()
    log_in(page, live_server, "marc")
    page.locator("#live-list").wait_for()
    page.get_by_role("button", name="Activer le son").click()
    page.get_by_role("button", name="Son activé").wait_for()
    assert len(plays(page)) == 1  # the click lets the cook hear what will ring

    order = create_order(establishment, croque_order(ref="0601"), source=StatusChange.Source.API)
    wait_in_page(page, "window.__plays.length === 2", timeout_ms=8_000)
    page.clock.fast_forward(20_000)
    wait_in_page(page, "window.__plays.length === 3", timeout_ms=5_000)
    page.clock.fast_forward(20_000)
    wait_in_page(page, "window.__plays.length === 4", timeout_ms=5_000)
    assert {play["src"] for play in plays(page)} == {"new-order.wav"}

    mark_opened(order)  # a colleague opens it on another tablet
    wait_in_page(page, "document.getElementById('live-list').dataset.unopened === '0'", timeout_ms=8_000)
    heard = len(plays(page))
    page.clock.fast_forward(60_000)
    page.wait_for_timeout(500)
    assert len(plays(page)) == heard


def test_an_order_still_new_after_five_minutes_rings_louder(live_server, browser_page):
    establishment = make_establishment()
    make_user(establishment, username="marc")
    create_order(
        establishment,
        croque_order(ref="0602"),
        source=StatusChange.Source.API,
        created_at=timezone.now() - timedelta(minutes=6),
    )
    page = browser_page
    page.add_init_script(RECORD_PLAYS)
    page.clock.install()
    log_in(page, live_server, "marc")
    page.get_by_role("button", name="Activer le son").click()

    page.clock.fast_forward(20_000)
    wait_in_page(page, "window.__plays.length === 2", timeout_ms=5_000)

    urgent = plays(page)[-1]
    assert urgent["src"] == "new-order-urgent.wav"
    assert urgent["volume"] == 1
    assert plays(page)[0]["volume"] < 1


# Counts what the open list's refreshes brought: a render (each one replaces #live-list; the page's own
# counts too), or "not modified".
COUNT_RENDERS = """
window.__renders = 0;
window.__notModified = 0;
new MutationObserver(function (mutations) {
  mutations.forEach(function (mutation) {
    mutation.addedNodes.forEach(function (node) { if (node.id === 'live-list') window.__renders += 1; });
  });
}).observe(document, {childList: true, subtree: true});
document.addEventListener('htmx:after:request', function (event) {
  if (event.detail.ctx.response.status === 204) window.__notModified += 1;
});
"""


def away_from_the_lists_clock(establishment, seconds: float) -> None:
    """Waits, if need be, until the establishment's list clock (orders.live_poll.quarter) will not tick for that long."""
    while live_poll.quarter(establishment.pk, time.time()) != live_poll.quarter(establishment.pk, time.time() + seconds):
        time.sleep(1)


def test_an_order_turns_late_and_waiting_and_its_minutes_count_on_the_open_list_without_a_new_render(live_server, browser_page):
    establishment = make_establishment()
    make_user(establishment, username="marc")
    away_from_the_lists_clock(establishment, 60)
    now = timezone.now()
    # Placed 4 min 40 s ago for 20 s from now: within seconds it has waited five minutes and it is late.
    create_order(
        establishment,
        croque_order(ref="0603", expected_time=now + timedelta(seconds=20)),
        source=StatusChange.Source.API,
        created_at=now - timedelta(minutes=4, seconds=40),
    )
    page = browser_page
    page.add_init_script(COUNT_RENDERS)
    log_in(page, live_server, "marc")
    card = page.locator(".order-card", has_text="0603")
    card.wait_for()
    assert "il y a 4 min" in card.inner_text()
    # The first refresh has no ETag yet and gets a render; once one was answered "not modified", the list is current.
    wait_in_page(page, "window.__notModified >= 1", timeout_ms=10_000)
    assert not card.get_by_text("En retard").is_visible()
    assert not card.get_by_text("Pas encore acceptée").is_visible()
    assert not page.get_by_role("alert").is_visible()
    renders = page.evaluate("window.__renders")

    wait_in_page(page, "document.getElementById('live-list').dataset.waiting === '1'", timeout_ms=25_000)

    assert page.get_by_role("alert").inner_text() == "1 nouvelle commande attend depuis plus de 5 minutes."
    assert "il y a 5 min" in card.inner_text()
    wait_in_page(page, "document.querySelector('.tag-overdue').hidden === false", timeout_ms=10_000)
    assert card.get_by_text("Pas encore acceptée").is_visible()
    assert card.evaluate("card => card.classList.contains('overdue') && card.classList.contains('waiting')")
    page.screenshot(path=str(SCREENSHOTS / "getresto_list_late_and_waiting.png"), full_page=True)
    # Every refresh in between was answered "not modified" (static/js/live_etags.js sends the list's ETag).
    assert page.evaluate("window.__renders") == renders
    assert page.evaluate("window.__notModified") >= 4


def test_a_tablet_whose_clock_is_ten_minutes_ahead_shows_the_kitchen_s_minutes(live_server, browser_page):
    establishment = make_establishment()
    make_user(establishment, username="marc")
    due = timezone.now() + timedelta(minutes=5)
    create_order(establishment, croque_order(ref="0604", expected_time=due), source=StatusChange.Source.API)
    page = browser_page
    page.clock.install(time=datetime.now(tz=UTC) + timedelta(minutes=10))
    log_in(page, live_server, "marc")
    card = page.locator(".order-card", has_text="0604")
    card.wait_for()

    # The next live refresh's Date header sets the page's clock.
    wait_in_page(page, "document.querySelector('.order-card [data-since]').textContent === '0 min'", timeout_ms=10_000)
    assert not card.get_by_text("En retard").is_visible()


@pytest.mark.redis
def test_accepting_ready_in_20_minutes_reaches_hubrise_with_that_confirmed_time(
    live_server, browser_page, hubrise_sandbox, settings, celery_worker
):
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    settings.HUBRISE_CLIENT_SECRET = hubrise_sandbox.client_secret
    establishment = make_establishment()
    make_user(establishment, username="marc")
    sandbox_connection(hubrise_sandbox, establishment)
    order = pushed_order(establishment, ref="0700")
    page = browser_page
    log_in(page, live_server, "marc")

    page.goto(f"{live_server.url}/e/{establishment.pk}/orders/{order.pk}/")
    clicked = timezone.now()
    page.get_by_role("group", name="Accepter\u00a0: prête dans").get_by_role("button", name="20 min", exact=True).click()
    page.get_by_text("La commande 0700 est maintenant «\u00a0Acceptée\u00a0».").wait_for()

    def accepted_at_hubrise():
        [held] = hubrise_sandbox.orders()
        return held if held["status"] == "accepted" else None

    held = wait_until(accepted_at_hubrise, timeout=15, what="the acceptance at HubRise")
    confirmed = datetime.fromisoformat(held["confirmed_time"])
    assert clicked + timedelta(minutes=20) - timedelta(seconds=2) <= confirmed <= timezone.now() + timedelta(minutes=20)
    order.refresh_from_db()
    assert abs(order.confirmed_time - confirmed) < timedelta(seconds=1)
    shown = timezone.localtime(confirmed, establishment.tzinfo).strftime("%H:%M")
    assert shown in page.locator(".ready-time").inner_text()


def test_a_pause_shows_on_every_page_and_the_intake_api_refuses_orders_until_resumed(live_server, browser_page):
    establishment = make_establishment()
    make_user(establishment, username="claire", role=Membership.Role.MANAGER)
    _, raw_key = ApiKey.generate(establishment, "Menu QR code")
    page = browser_page
    log_in(page, live_server, "claire")

    page.get_by_role("link", name="Service", exact=True).click()
    page.get_by_role("group", name="Pour").first.get_by_role("button", name="30 min").click()
    banner = page.locator(".service-banner")
    banner.wait_for()
    assert "Nouvelles commandes en pause jusqu’à" in banner.inner_text()
    page.get_by_role("link", name="HubRise", exact=True).click()
    assert page.locator(".service-banner").is_visible()

    body = {"items": [{"product_name": "Croque-monsieur", "price": "9.50 EUR", "quantity": "1"}]}
    headers = {"Authorization": f"Api-Key {raw_key}", "Accept-Language": "fr"}
    refused = requests.post(live_server.url + "/api/v1/orders/", json=body, headers=headers, timeout=10)

    assert refused.status_code == 503
    assert "ne prend pas de commandes pour le moment\u00a0: reprise des commandes à" in refused.json()["message"]
    assert 29 * 60 <= int(refused.headers["Retry-After"]) <= 30 * 60
    assert Order.objects.count() == 0

    page.get_by_role("link", name="Modifier").click()
    page.get_by_role("button", name="Reprendre les commandes normalement").click()
    page.get_by_text("Les commandes sont de nouveau prises normalement.").wait_for()
    assert not page.locator(".service-banner").is_visible()
    accepted = requests.post(live_server.url + "/api/v1/orders/", json=body, headers=headers, timeout=10)
    assert accepted.status_code == 201
