"""The open screens' streams as the Procfile's stream process serves them (getresto/asgi.py, orders.live_stream),
beside the web process: a change is told at once, only to the screens that show it and may see it."""

from __future__ import annotations

import queue
import threading
import time

import pytest
import requests

from getresto.redis import broker_redis
from orders import live_poll
from orders.models import Membership
from orders.services import change_status
from tests.factories import make_establishment, make_order, make_user
from tests.web_fixture import STREAM, logged_in_session

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

HTMX = {"HX-Request": "true"}


class Listening:
    """A stream read in the background, as a page's EventSource reads it: its lines, as they come."""

    def __init__(self, session: requests.Session, url: str, **headers: str) -> None:
        self.response = session.get(url, headers={"Accept": "text/event-stream", **headers}, stream=True, timeout=10)
        self.lines: queue.Queue[str] = queue.Queue()
        if self.response.status_code == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self.response.iter_lines(chunk_size=1, decode_unicode=True):
                self.lines.put(line)
        except (requests.RequestException, AttributeError):  # AttributeError: closed by the test while reading
            pass
        self.lines.put("<end>")

    def next_event(self, within: float) -> str | None:
        """The next event's name ("changed"), "<end>" when the stream ended, None when nothing came in time."""
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line == "<end>" or line.startswith("event: "):
                return line.removeprefix("event: ")
        return None

    def close(self) -> None:
        self.response.close()


def a_screen_of_the_list(web, establishment):
    """A staff member logged in on the web process, their list rendered: (their session, them, the list's path)."""
    user = make_user(establishment)
    screen = logged_in_session(web.base_url, user.username)
    list_url = f"/e/{establishment.pk}/orders/live/"
    assert screen.get(web.base_url + list_url, headers=HTMX, timeout=10).status_code == 200
    return screen, user, list_url


@pytest.fixture
def servers(start_gunicorn):
    """The web process and the stream process, each checking sessions and grants every second."""
    web = start_gunicorn(workers=1, LIVE_STREAM_CHECK_SECONDS="1")
    stream = start_gunicorn(workers=1, serves=STREAM, LIVE_STREAM_CHECK_SECONDS="1", PUBLIC_URL=web.base_url)
    return web, stream


def test_a_change_is_told_at_once_to_the_screens_that_show_it_and_the_refresh_shows_it(servers):
    web, stream = servers
    establishment = make_establishment()
    user = make_user(establishment)
    order, other_order = make_order(establishment, ref="S-1"), make_order(establishment, ref="S-2")
    screen = logged_in_session(web.base_url, user.username)
    list_url = f"/e/{establishment.pk}/orders/live/"
    shown = screen.get(web.base_url + list_url, headers=HTMX, timeout=10)
    assert shown.status_code == 200
    page = screen.get(f"{web.base_url}/e/{establishment.pk}/orders/{order.pk}/live/?shown=new", headers=HTMX, timeout=10)
    assert page.status_code == 200

    the_list = Listening(screen, stream.base_url + list_url + "stream/")
    the_page = Listening(screen, f"{stream.base_url}/e/{establishment.pk}/orders/{order.pk}/live/stream/")
    assert the_list.response.status_code == 200 == the_page.response.status_code
    assert the_list.response.headers["Content-Type"] == "text/event-stream"
    try:
        change_status(other_order, "accepted", source="hubrise")
        assert the_list.next_event(within=3) == "changed"
        assert the_page.next_event(within=1.5) is None, "the order page was told of another order's change"

        change_status(order, "accepted", source="hubrise")
        assert the_list.next_event(within=3) == "changed"
        assert the_page.next_event(within=3) == "changed"
        refreshed = screen.get(web.base_url + list_url, headers={**HTMX, "If-None-Match": shown.headers["ETag"]}, timeout=10)
        assert refreshed.status_code == 200 and refreshed.text.count("Acceptée") >= 2
    finally:
        the_list.close()
        the_page.close()


def test_a_screen_that_may_not_see_the_establishment_gets_no_stream(servers):
    web, stream = servers
    establishment, elsewhere = make_establishment(), make_establishment("La Brasserie")
    user = make_user(establishment)
    screen = logged_in_session(web.base_url, user.username)
    stream_url = f"{stream.base_url}/e/{establishment.pk}/orders/live/stream/"
    # Logging in opened the list, which checked the membership: the page may listen at once.
    assert Listening(screen, stream_url).response.status_code == 200

    # Logged out.
    assert Listening(requests.Session(), stream_url).response.status_code == 204
    # Another establishment's list, even after asking for it.
    assert screen.get(f"{web.base_url}/e/{elsewhere.pk}/orders/live/", headers=HTMX, timeout=10).status_code == 404
    assert Listening(screen, f"{stream.base_url}/e/{elsewhere.pk}/orders/live/stream/").response.status_code == 204
    # The permission expired: the page polls until its next render checks the membership again.
    broker_redis().delete(live_poll.grant_key(user.pk, establishment.pk))
    assert Listening(screen, stream_url).response.status_code == 204
    assert screen.get(f"{web.base_url}/e/{establishment.pk}/orders/live/", headers=HTMX, timeout=10).status_code == 200
    assert Listening(screen, stream_url).response.status_code == 200


def test_a_member_removed_or_logged_out_is_told_to_refresh_and_the_stream_ends(servers):
    web, stream = servers
    establishment = make_establishment()
    screen, user, list_url = a_screen_of_the_list(web, establishment)
    listening = Listening(screen, stream.base_url + list_url + "stream/")
    assert listening.response.status_code == 200

    Membership.objects.filter(user=user, establishment=establishment).delete()
    # Checked every second here: the page is told to refresh, which Django answers with a 404.
    assert listening.next_event(within=4) == "changed"
    assert listening.next_event(within=2) == "<end>"
    assert screen.get(web.base_url + list_url, headers=HTMX, timeout=10).status_code == 404
    assert Listening(screen, stream.base_url + list_url + "stream/").response.status_code == 204


def test_only_our_pages_may_listen_from_another_origin_and_the_web_process_has_no_stream(servers):
    web, stream = servers
    screen, _, list_url = a_screen_of_the_list(web, make_establishment())

    foreign = Listening(screen, stream.base_url + list_url + "stream/", Origin="https://evil.example")
    assert foreign.response.status_code == 403
    ours = Listening(screen, stream.base_url + list_url + "stream/", Origin=web.base_url)
    assert ours.response.status_code == 200
    assert ours.response.headers["Access-Control-Allow-Origin"] == web.base_url
    assert ours.response.headers["Access-Control-Allow-Credentials"] == "true"
    ours.close()
    # The page's EventSource, pointed at the web process (no stream process configured), stops and the page polls.
    assert screen.get(web.base_url + list_url + "stream/", timeout=10).status_code == 204
