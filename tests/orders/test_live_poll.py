"""The live refreshes answer "nothing new" without a database query, and stop answering a removed member at once."""

import gzip
import threading
import time

import pytest
from django.test import Client
from django.urls import reverse

from getresto.redis import broker_redis
from orders import live_front, live_poll, screen_versions
from orders.models import Membership
from orders.services import change_status, mark_opened
from tests.factories import make_establishment, make_order, make_user
from tests.orders.pages import logged_in, sql_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_establishment():
    return make_establishment("La Brasserie")


@pytest.fixture
def staff_user(establishment):
    return make_user(establishment)


@pytest.fixture
def manager(establishment):
    return make_user(establishment, "dominique", Membership.Role.MANAGER)


@pytest.fixture
def client(staff_user):
    return logged_in(staff_user)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Screens learn of a change once it is committed: run the test's on-commit callbacks as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


class FrontAnswer:
    """An answer of orders.live_front, read as the tests read Django's."""

    def __init__(self, status_line: str, headers: list[tuple[str, str]]) -> None:
        self.status_code = int(status_line.split()[0])
        self.headers = dict(headers)
        self.content = b""

    def __getitem__(self, name: str) -> str:
        return self.headers[name]


def environ(client: Client, url: str, extra: dict[str, str]) -> dict[str, str]:
    """The WSGI environ gunicorn gives for this client's GET."""
    path, _, query = url.partition("?")
    cookies = "; ".join(f"{morsel.key}={morsel.coded_value}" for morsel in client.cookies.values())
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "wsgi.url_scheme": "http",
        "HTTP_COOKIE": cookies,
        **extra,
    }


def poll(client: Client, url: str, etag: str | None = None, **headers):
    """A poll as it meets the server (getresto/wsgi.py): orders.live_front first, then Django when it passes."""
    extra = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT_ENCODING": "gzip", **headers}
    if etag:
        extra["HTTP_IF_NONE_MATCH"] = etag
    answer = live_front.not_modified(environ(client, url, extra))
    if answer is not None:
        return FrontAnswer(*answer)
    return client.get(url, **extra)


def text(response) -> str:
    body = response.content
    return (gzip.decompress(body) if response.get("Content-Encoding") == "gzip" else body).decode()


def test_the_live_urls_are_the_ones_the_middleware_recognises(establishment):
    for url in (reverse("orders:list_live", args=[7]), reverse("orders:detail_live", args=[7, 42])):
        assert live_poll.LIVE_PATH.match(url)
    assert not live_poll.LIVE_PATH.match(reverse("orders:list", args=[7]))


def test_an_unchanged_list_is_answered_204_without_any_query_and_a_new_order_shows_at_the_next_poll(
    client, establishment, commit
):
    url = reverse("orders:list_live", args=[establishment.pk]) + "?tab=recu"
    with commit():
        make_order(establishment, ref="A-1")
    first = poll(client, url)
    assert first.status_code == 200 and "A-1" in text(first)

    with sql_queries() as queries:
        again = poll(client, url, first["ETag"])
    assert again.status_code == 204 and again.content == b""
    assert queries == []

    with commit():
        make_order(establishment, ref="B-2")
    changed = poll(client, url, first["ETag"])
    assert changed.status_code == 200 and "B-2" in text(changed)
    assert changed["ETag"] != first["ETag"]


def test_without_htmx_the_answer_is_304(client, establishment):
    url = reverse("orders:list_live", args=[establishment.pk])
    first = poll(client, url)
    without_htmx = {"HTTP_IF_NONE_MATCH": first["ETag"]}
    assert live_front.not_modified(environ(client, url, without_htmx))[0] == "304 Not Modified"
    assert client.get(url, **without_htmx).status_code == 304


def test_django_answers_a_current_screen_the_same_where_the_front_is_not_in_use(client, establishment, commit):
    # runserver and Django's test client call Django directly: LivePollMiddleware gives the same answer.
    url = reverse("orders:list_live", args=[establishment.pk]) + "?tab=recu"
    with commit():
        make_order(establishment, ref="E-5")
    etag = poll(client, url)["ETag"]
    front = poll(client, url, etag)
    assert isinstance(front, FrontAnswer) and front.status_code == 204
    with sql_queries() as queries:
        direct = client.get(url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=etag)
    assert (direct.status_code, direct["ETag"]) == (204, front["ETag"]) and queries == []


def test_the_front_leaves_to_django_a_logged_out_screen_and_plain_http_where_https_is_required(client, establishment, settings):
    url = reverse("orders:list_live", args=[establishment.pk])
    etag = poll(client, url)["ETag"]
    current = {"HTTP_HX_REQUEST": "true", "HTTP_IF_NONE_MATCH": etag}
    assert live_front.not_modified(environ(client, url, current)) is not None

    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert live_front.not_modified(environ(client, url, current)) is None
    assert live_front.not_modified(environ(client, url, {**current, "HTTP_X_FORWARDED_PROTO": "https"})) is not None
    settings.SECURE_SSL_REDIRECT = False

    client.logout()
    assert live_front.not_modified(environ(client, url, current)) is None
    # Django tells htmx to reload the page, which then asks to log in.
    logged_out = client.get(url, **current)
    assert (logged_out.status_code, logged_out["HX-Refresh"]) == (204, "true")


def test_a_status_change_an_opened_order_and_a_pause_each_redraw_the_list(client, establishment, commit, manager):
    from orders.acceptance import pause_orders

    url = reverse("orders:list_live", args=[establishment.pk])
    with commit():
        order = make_order(establishment)
    etag = poll(client, url)["ETag"]
    for change in (
        lambda: change_status(order, "accepted", source="hubrise"),
        lambda: mark_opened(order),
        lambda: pause_orders(establishment, until=None, source="staff", actor=manager),
    ):
        with commit():
            change()
        answer = poll(client, url, etag)
        assert answer.status_code == 200
        etag = answer["ETag"]


def test_the_order_page_polls_its_own_version(client, establishment, commit):
    with commit():
        order = make_order(establishment)
        other = make_order(establishment)
    url = reverse("orders:detail_live", args=[establishment.pk, order.pk]) + "?shown=new"
    etag = poll(client, url)["ETag"]
    with commit():
        change_status(other, "accepted", source="hubrise")
    assert poll(client, url, etag).status_code == 204
    with commit():
        change_status(order, "accepted", source="hubrise")
    changed = poll(client, url, etag)
    assert changed.status_code == 200 and "Acceptée" in text(changed)


def test_a_member_removed_gets_nothing_more_not_even_a_204(client, establishment, staff_user, commit):
    url = reverse("orders:list_live", args=[establishment.pk])
    etag = poll(client, url)["ETag"]
    with commit():
        Membership.objects.filter(user=staff_user, establishment=establishment).delete()
    assert poll(client, url, etag).status_code == 404


def test_another_establishments_screen_is_not_answered_from_redis(client, establishment, other_establishment, commit):
    with commit():
        order = make_order(other_establishment)
    # A version of the other establishment's order is in Redis, under that establishment only.
    url = reverse("orders:detail_live", args=[establishment.pk, order.pk])
    assert poll(client, url).status_code == 404


def test_the_fragment_is_compressed_and_carries_no_csrf_token(client, establishment, commit):
    with commit():
        for _ in range(5):
            make_order(establishment)
    answer = poll(client, reverse("orders:list_live", args=[establishment.pk]))
    assert answer["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in answer["Vary"]
    assert "csrfmiddlewaretoken" not in text(answer)


def test_a_second_screen_gets_the_first_ones_render_without_a_query(establishment, staff_user, commit):
    with commit():
        make_order(establishment, ref="C-3")
    url = reverse("orders:list_live", args=[establishment.pk])
    first, second = Client(), Client()
    first.force_login(staff_user)
    second.force_login(staff_user)
    poll(first, url)
    poll(second, url)  # the second screen's permission is checked once
    with commit():
        make_order(establishment, ref="D-4")
    assert "D-4" in text(poll(first, url))
    with sql_queries() as queries:
        shared = poll(second, url)
    assert "D-4" in text(shared) and queries == []
    # Answered before CommonMiddleware: the length is set here, so that the body is not sent chunked.
    assert shared["Content-Length"] == str(len(shared.content))


def second_screen_while_the_first_renders(establishment, staff_user, commit, ref: str) -> tuple[Client, str, bytes, bytes]:
    """A second screen of the list, and the new fragment the first one rendered after a new order ``ref``, taken back
    out of Redis as if that render were still under way: (the second screen, the URL, the copy's key, the copy)."""
    url = reverse("orders:list_live", args=[establishment.pk])
    first, second = Client(), Client()
    first.force_login(staff_user)
    second.force_login(staff_user)
    poll(first, url)
    poll(second, url)
    redis = broker_redis()
    with commit():
        make_order(establishment, ref=ref)
    before = set(redis.keys(f"{screen_versions.PREFIX}:body:*"))
    assert ref in text(poll(first, url))
    [body_key] = set(redis.keys(f"{screen_versions.PREFIX}:body:*")) - before
    body = redis.get(body_key)
    redis.delete(body_key)
    redis.set(body_key.replace(b":body:", b":rendering:"), 1, px=int(live_poll.RENDER_WAIT_SECONDS * 1000))
    return second, url, body_key, body


def test_a_screen_told_of_a_change_while_another_renders_it_waits_for_that_render_and_makes_no_query(
    establishment, staff_user, commit
):
    second, url, body_key, body = second_screen_while_the_first_renders(establishment, staff_user, commit, "W-7")
    threading.Timer(0.1, lambda: broker_redis().set(body_key, body)).start()

    with sql_queries() as queries:
        started = time.monotonic()
        waited = poll(second, url)
    assert "W-7" in text(waited) and queries == []
    assert time.monotonic() - started >= 0.1


def test_a_screen_renders_itself_when_the_render_it_waited_for_never_comes(establishment, staff_user, commit):
    second, url, _, _ = second_screen_while_the_first_renders(establishment, staff_user, commit, "W-8")

    with sql_queries() as queries:
        rendered = poll(second, url)
    assert "W-8" in text(rendered) and queries != []


def test_the_front_answers_only_the_user_of_the_session_and_only_while_their_password_is_the_same(
    client, establishment, staff_user, manager, commit
):
    url = reverse("orders:list_live", args=[establishment.pk])
    etag = poll(client, url)["ETag"]
    managers_screen = logged_in(manager)
    managers_etag = poll(managers_screen, url)["ETag"]
    current = {"HTTP_HX_REQUEST": "true"}
    assert live_front.not_modified(environ(client, url, {**current, "HTTP_IF_NONE_MATCH": etag})) is not None
    # The manager's ETag (which names the manager) sent with the staff member's session.
    assert live_front.not_modified(environ(client, url, {**current, "HTTP_IF_NONE_MATCH": managers_etag})) is None

    # The password changed and another screen of the same user logged in again and rendered: this session's hash
    # is the old one.
    staff_user.set_password("another-horse-battery-staple")
    staff_user.save()
    poll(logged_in(staff_user), url)
    assert live_front.not_modified(environ(client, url, {**current, "HTTP_IF_NONE_MATCH": etag})) is None
    assert client.get(url, **current, HTTP_IF_NONE_MATCH=etag)["HX-Refresh"] == "true"


def test_a_user_deactivated_gets_nothing_more_not_even_a_204(client, establishment, staff_user, commit):
    url = reverse("orders:list_live", args=[establishment.pk])
    etag = poll(client, url)["ETag"]
    with commit():
        staff_user.is_active = False
        staff_user.save()
    answer = poll(client, url, etag)
    assert (answer.status_code, answer["HX-Refresh"]) == (204, "true")


def test_the_lists_clocks_tick_every_quarter_of_an_hour_each_at_a_second_of_its_own_within_ten_minutes():
    start = 1_800_000_000  # a whole quarter of an hour (and a local midnight in every time zone)

    def ticking(t: int) -> list[int]:
        return [e for e in range(1, 1201) if live_poll.quarter(e, t) != live_poll.quarter(e, t - 1)]

    hour = [ticking(t) for t in range(start, start + 3600)]
    ticks = [second for second, establishments in enumerate(hour) if establishments]
    # Four quarters, each establishment once in each, at most two of them in the same second.
    assert sorted(e for establishments in hour for e in establishments) == sorted(list(range(1, 1201)) * 4)
    assert max(len(establishments) for establishments in hour) == 2
    assert all(second % 900 < 600 for second in ticks)
