"""An open list in Chromium listens to the stream process (static/js/live_stream.js, orders.live_stream): it stops
asking every 3 s, and a new order still shows within a moment."""

import copy
import time

import pytest
from csp.constants import SELF

from orders.models import StatusChange
from orders.services import create_order
from tests.browser.conftest import SCREENSHOTS, log_in
from tests.factories import croque_order, make_establishment, make_user
from tests.web_fixture import STREAM

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.redis]


def test_an_open_list_listens_instead_of_polling_and_shows_a_new_order_at_once(
    live_server, browser_page, start_gunicorn, settings
):
    stream = start_gunicorn(workers=1, serves=STREAM, PUBLIC_URL=live_server.url)
    # As `python dev.py run` sets it: the stream process on an origin of its own, allowed by the pages' CSP.
    # The same host as the pages (live_server's "localhost"): the session cookie goes only to the same site.
    stream_url = stream.base_url.replace("127.0.0.1", "localhost")
    settings.LIVE_STREAM_URL = stream_url
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["connect-src"] = [SELF, stream_url]
    settings.CONTENT_SECURITY_POLICY = policy
    establishment = make_establishment()
    make_user(establishment, username="marc")
    page = browser_page
    refreshes: list[float] = []
    listening: list[int] = []
    page.on(
        "request", lambda request: refreshes.append(time.monotonic()) if request.url.split("?")[0].endswith("/live/") else None
    )
    page.on("response", lambda response: listening.append(response.status) if "/live/stream/" in response.url else None)

    log_in(page, live_server, "marc")
    page.locator("#live-list").wait_for()
    # The first refresh renders, which lets the page listen (the stream answered 204 before it, if it asked first).
    deadline = time.monotonic() + 15
    while 200 not in listening:
        assert time.monotonic() < deadline, f"the page never listened: {listening}"
        page.wait_for_timeout(100)
    page.wait_for_timeout(1000)

    quiet_from = time.monotonic()
    page.wait_for_timeout(8000)
    assert [at for at in refreshes if at > quiet_from] == [], "the list still polled every 3 s while listening"

    changed_at = time.monotonic()
    create_order(establishment, croque_order(ref="0701"), source=StatusChange.Source.API)
    # Polls are held back for 30 s while listening: only the stream can have brought it this soon.
    page.locator(".order-card", has_text="0701").wait_for(timeout=5000)
    assert len([at for at in refreshes if at > changed_at]) == 1
    page.screenshot(path=str(SCREENSHOTS / "getresto_list_listening.png"), full_page=True)
