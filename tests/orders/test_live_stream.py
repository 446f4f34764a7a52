"""The parts of orders.live_stream that need no server: which requests it answers, from where, and what it sends."""

import asyncio

from django.urls import reverse

from orders import screen_versions
from orders.live_stream import (
    EVENT_SPREAD_SECONDS,
    FOLLOWERS_FROM_SECONDS,
    STREAM_PATH,
    Listeners,
    Screen,
    StreamRequest,
    Streams,
    allowed_origin,
    changed_event,
    told_after,
)


def test_the_stream_urls_are_the_ones_the_stream_process_recognises():
    assert STREAM_PATH.match(reverse("orders:list_stream", args=[7])).groups() == ("7", None)
    assert STREAM_PATH.match(reverse("orders:detail_stream", args=[7, 42])).groups() == ("7", "42")
    assert not STREAM_PATH.match(reverse("orders:list_live", args=[7]))


def test_only_the_streams_own_origin_and_the_pages_origin_may_listen(settings):
    settings.PUBLIC_URL = "https://backoffice.example.com"
    assert allowed_origin("", "https", "stream.example.com")
    assert allowed_origin("https://stream.example.com", "https", "stream.example.com")
    assert allowed_origin("https://backoffice.example.com", "https", "stream.example.com")
    assert not allowed_origin("http://backoffice.example.com", "https", "stream.example.com")
    assert not allowed_origin("https://evil.example", "https", "stream.example.com")


def scope(path: str, headers: dict[str, str], scheme: str = "http") -> dict:
    encoded = [(name.encode(), value.encode()) for name, value in headers.items()]
    return {"type": "http", "method": "GET", "path": path, "scheme": scheme, "headers": encoded}


def test_plain_http_is_refused_where_production_requires_https_behind_its_proxy(settings):
    settings.ALLOWED_HOSTS = ["b.example"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    path = "/e/7/orders/live/stream/"
    assert not StreamRequest(scope(path, {"host": "b.example"}), STREAM_PATH.match(path)).acceptable
    behind_proxy = scope(path, {"host": "b.example", "x-forwarded-proto": "https"})
    assert StreamRequest(behind_proxy, STREAM_PATH.match(path)).acceptable


def answer_to(headers: dict[str, str], redis_url: str = "redis://127.0.0.1:6379/0", screens: int = 1) -> list[dict]:
    """What one stream process sends to ``screens`` pages asking with ``headers``, one after the other."""
    sent = []

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def django_app(scope, receive, send):
        raise AssertionError("a stream URL reached Django")

    async def ask() -> None:
        streams = Streams(django_app, redis_url)
        for _ in range(screens):
            await streams(scope("/e/7/orders/live/stream/", headers), receive, send)

    asyncio.run(ask())
    return sent


def test_a_refused_origin_gets_a_403_and_no_stream():
    assert answer_to({"host": "127.0.0.1:8001", "origin": "https://evil.example"})[0]["status"] == 403


def test_a_host_outside_allowed_hosts_gets_a_400_as_from_django_even_with_a_matching_origin(settings):
    settings.ALLOWED_HOSTS = ["backoffice.example.com"]
    sent = answer_to({"host": "evil.example", "origin": "http://evil.example"})
    assert sent[0]["status"] == 400
    assert sent[1]["body"] == b"Invalid Host header."
    # Django's own rule: X-Forwarded-Host counts only where the settings trust it.
    settings.USE_X_FORWARDED_HOST = True
    assert answer_to({"host": "10.0.0.5", "x-forwarded-host": "evil.example"})[0]["status"] == 400


def test_an_event_names_the_version_or_says_it_is_unknown():
    assert changed_event(b"12") == b"event: changed\ndata: 12\n\n"
    assert changed_event(b"") == b"event: changed\ndata: ?\n\n"


def test_of_the_screens_showing_a_change_one_is_told_at_once_and_the_others_once_its_render_can_be_copied():
    assert told_after(0) == []
    assert told_after(1) == [0.0]
    for count in (2, 3, 10):
        delays = told_after(count)
        assert delays[0] == 0.0
        assert all(FOLLOWERS_FROM_SECONDS <= delay <= EVENT_SPREAD_SECONDS for delay in delays[1:])


def test_a_change_wakes_every_screen_showing_it_one_at_once_and_no_other_screen():
    listeners = Listeners("redis://127.0.0.1:6379/0")
    lists = [Screen() for _ in range(4)]
    other = Screen()
    for screen in lists:
        listeners.watch(screen_versions.establishment_key(1), screen)
    listeners.watch(screen_versions.establishment_key(2), other)
    listeners._announce(screen_versions.establishment_key(1).encode() + b" 7")
    assert all(screen.woken.is_set() and screen.take() == b"7" for screen in lists)
    assert sum(screen.delay == 0.0 for screen in lists) == 1
    assert all(screen.delay >= FOLLOWERS_FROM_SECONDS for screen in lists if screen.delay)
    assert not other.woken.is_set()


def test_each_redis_database_announces_on_a_channel_of_its_own():
    assert screen_versions.channel("redis://127.0.0.1:6379/2") != screen_versions.channel("redis://127.0.0.1:6379/3")
    assert screen_versions.channel("redis://127.0.0.1:6379") == screen_versions.channel("redis://127.0.0.1:6379/0")


def test_streams_refused_while_redis_is_away_are_logged_together_not_one_line_each(caplog):
    # Nothing listens on port 1: every check fails at once, as with Redis down.
    with caplog.at_level("WARNING", logger="orders.live_stream"):
        sent = answer_to({"host": "127.0.0.1:8001", "cookie": "sessionid=" + "a1" * 16}, "redis://127.0.0.1:1/0", screens=3)
    assert [message["status"] for message in sent if message["type"] == "http.response.start"] == [204, 204, 204]
    assert len([record for record in caplog.records if "refused" in record.getMessage()]) == 1
