"""Under the Content-Security-Policy the live pages work and the browser reports no violation.

Chromium reports each blocked script, style or resource twice: a ``securitypolicyviolation``
event on the document (listened to from before the page's own scripts run) and an error in
the console. Both are collected while the order list refreshes itself through htmx and a
status is changed from the order page.
"""

import pytest

from orders.models import Membership
from tests.browser.conftest import log_in
from tests.factories import make_establishment, make_order, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN_FOR_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample || ""}`);
});
"""


def test_the_order_list_refreshes_and_the_order_page_works_without_any_policy_violation(live_server, browser_page):
    establishment = make_establishment()
    order = make_order(establishment, ref="0042")
    make_user(establishment, username="claire", role=Membership.Role.MANAGER)
    page = browser_page
    console_violations = []
    page.on(
        "console",
        lambda message: console_violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.add_init_script(LISTEN_FOR_VIOLATIONS)
    log_in(page, live_server, "claire")

    response = page.goto(f"{live_server.url}/e/{establishment.pk}/orders/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # The list's live part asks the server again every 3 s and htmx swaps the answer in.
    with page.expect_response(lambda answer: "/orders/live/" in answer.url and answer.status == 200, timeout=10_000):
        pass
    page.wait_for_timeout(300)
    assert page.evaluate("window.__cspViolations") == []

    page.get_by_role("link", name="0042", exact=True).click()
    page.get_by_role("heading", name="Commande 0042").wait_for()
    page.get_by_role("group", name="Accepter\u00a0: prête dans").get_by_role("button", name="20 min").click()
    page.get_by_text("La commande 0042 est maintenant «\u00a0Acceptée\u00a0».").wait_for()
    order.refresh_from_db()
    assert order.status == "accepted"
    assert page.evaluate("window.__cspViolations") == []
    assert console_violations == []
