"""At the pass, on the tablet: a cook marks the steak out of stock in one tap and puts it back, under a strict CSP."""

import pytest

from menu import services
from menu.models import Sku
from tests.browser.conftest import SCREENSHOTS, log_in
from tests.factories import make_establishment, make_user
from tests.menu.bistro import BISTRO_MENU

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 820, "height": 1180}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# What the back office will send once its CSP ships: no inline script or style may be needed.
STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'"


def serve_with_strict_csp(page) -> list[str]:
    """Every answer of the back office gets the strict policy; returns the browser's complaints about it."""
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)

    def with_csp(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    page.route("**/*", with_csp)
    return refused


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_cook_marks_the_steak_out_of_stock_and_back_in_one_tap_each(live_server, browser_page):
    establishment = make_establishment()
    services.replace_menu(establishment, BISTRO_MENU, source="test")
    make_user(establishment, username="marc")
    page = browser_page
    refused = serve_with_strict_csp(page)
    page.set_viewport_size(TABLET)
    log_in(page, live_server, "marc")

    page.get_by_role("link", name="Carte").click()
    page.get_by_role("navigation", name="Rubriques de la carte").get_by_role("link", name="Plats", exact=True).click()
    page.get_by_role("heading", name="Steak frites").wait_for()
    page.evaluate("window.__notReloaded = true")
    top = page.locator("#unavailable")
    assert top.get_by_text("Tout est disponible sur la carte.").is_visible()
    assert no_sideways_scroll(page)
    page.screenshot(path=str(SCREENSHOTS / "getresto_menu_tablet.png"), full_page=True)

    page.get_by_role("button", name="Mettre « Steak frites » en rupture").click()

    steak_row = page.locator(f"#sku-{Sku.objects.get(ref='STEAK-FR').pk}")
    steak_row.get_by_text("Indisponible").wait_for()
    assert top.locator(".count").inner_text() == "1"
    assert top.get_by_text("Steak frites").is_visible()
    assert page.get_by_role("status").inner_text() == "« Steak frites » est marqué indisponible.".replace(
        "« ", "«\u00a0"
    ).replace(" »", "\u00a0»")
    assert page.evaluate("window.__notReloaded") is True
    assert not Sku.objects.get(ref="STEAK-FR").available
    page.screenshot(path=str(SCREENSHOTS / "getresto_menu_unavailable.png"), full_page=True)

    top.get_by_role("button", name="Remettre « Steak frites » en vente").click()

    top.get_by_text("Tout est disponible sur la carte.").wait_for()
    assert steak_row.get_by_role("button", name="Mettre « Steak frites » en rupture").is_visible()
    assert page.evaluate("window.__notReloaded") is True
    assert Sku.objects.get(ref="STEAK-FR").available
    assert refused == []


def test_the_menu_page_fits_a_phone_and_a_desktop_without_sideways_scroll(live_server, browser_page):
    establishment = make_establishment()
    services.replace_menu(establishment, BISTRO_MENU, source="test")
    services.set_availability(establishment, available=False, sku_refs=["VIN-R-75"], option_refs=["SAUCE-BEARN"], source="test")
    make_user(establishment, username="claire", role="manager")
    page = browser_page
    log_in(page, live_server, "claire")
    menu_url = f"{live_server.url}/e/{establishment.pk}/menu/"

    for size, name in ((PHONE, "phone"), (DESKTOP, "desktop"), (TABLET, "tablet")):
        page.set_viewport_size(size)
        for query in ("", "?view=options", "?view=offers", "?view=service", "?q=vin"):
            page.goto(menu_url + query)
            assert no_sideways_scroll(page), (name, query)
        page.goto(menu_url + "?view=options")
        page.screenshot(path=str(SCREENSHOTS / f"getresto_menu_options_{name}.png"), full_page=True)
