"""The ticket's print view in a real browser, under a strict Content-Security-Policy: paper gets nothing but the ticket."""

import pytest
from django.urls import reverse

from tests.browser.conftest import SCREENSHOTS, log_in
from tests.factories import croque_order, make_establishment, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'"


def with_strict_csp(route):
    response = route.fetch()
    route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})


def test_the_print_view_opens_the_print_dialog_and_prints_only_the_ticket(live_server, browser_page):
    from orders.services import create_order

    establishment = make_establishment()
    make_user(establishment, username="marc")
    order = create_order(establishment, croque_order(ref="0042", customer_notes="Allergie aux fruits à coque"))
    page = browser_page
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    page.route(f"{live_server.url}/**", with_strict_csp)
    page.add_init_script("window.print = () => { window.__printed = (window.__printed || 0) + 1; };")
    log_in(page, live_server, "marc")

    page.goto(live_server.url + reverse("printing:ticket", args=[establishment.pk, order.pk]))
    for _ in range(50):  # wait_for_function would evaluate a string, which the policy forbids
        if page.evaluate("() => window.__printed") == 1:
            break
        page.wait_for_timeout(100)
    assert page.evaluate("() => window.__printed") == 1
    page.get_by_role("button", name="Imprimer").click()

    assert page.evaluate("() => window.__printed") == 2
    ticket = page.locator(".ticket-paper")
    assert "N° 0042" in ticket.inner_text() and "SUR PLACE · TABLE 12" in ticket.inner_text()
    allergy = page.locator(".tl-reverse", has_text="fruits à coque")
    assert allergy.evaluate("line => getComputedStyle(line).backgroundColor") == "rgb(0, 0, 0)"
    page.emulate_media(media="print")
    page.screenshot(path=str(SCREENSHOTS / "printing-ticket-print.png"), full_page=True)
    assert page.locator(".topbar").evaluate("bar => getComputedStyle(bar).visibility") == "hidden"
    assert page.locator(".print-toolbar").evaluate("bar => getComputedStyle(bar).display") == "none"
    assert ticket.evaluate("paper => getComputedStyle(paper).visibility") == "visible"
    assert refused == []
