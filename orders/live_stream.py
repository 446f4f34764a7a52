"""Open screens told the moment what they show changed (server-sent events), instead of asking every 3 s.

The Procfile's ``stream`` process serves getresto/asgi.py: this module answers
``…/orders/live/stream/`` (the list) and ``…/orders/<id>/live/stream/`` (an order's
page) itself, in one asyncio loop that holds thousands of open streams for almost
nothing, and hands anything else to Django. A stream sends ``event: changed`` each
time the version of what its screen shows moves forward (orders.screen_versions
publishes it on its channel); the page then refreshes as it would have on its next
poll (static/js/live_stream.js), through the web process, which renders or answers
204. The stream itself carries nothing but that a change happened.

Who may listen is decided as the live refresh's quick answer decides it, with no
database query: the session as cached in Redis, and the grant a render of that
establishment's live screen left for the session's auth hash (orders.live_poll).
With neither, the answer is 204, which tells the page's EventSource to give up:
the page polls, and opens its stream again after its next render. The check is
made again every ``LIVE_STREAM_CHECK_SECONDS``; when the session or the grant is
gone (logged out, removed from the establishment, the grant expired) the stream
says "changed" one last time and ends, so that the page's refresh goes through
Django, which renders, or refuses.

Nothing is lost when a message is: a subscription that breaks and comes back
tells every stream "changed"; and the page still refreshes every 30 s.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.http.cookie import parse_cookie
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from orders import live_front, live_poll, screen_versions

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# orders/urls.py's list_stream and detail_stream (tests/orders/test_live_stream.py checks they match).
STREAM_PATH = re.compile(r"^/e/(\d+)/orders/(?:(\d+)/)?live/stream/$")
# A stream ends after a while (the page opens another at once), so that long-lived connections are spread again over
# the processes after a restart: each after its own time within this range, so that streams opened together (all the
# screens reconnecting after a restart) do not all end together.
LIFETIME_SECONDS = (10 * 60, 20 * 60)
# How long the page's EventSource waits before opening a stream again after one ended or broke: each its own time
# within this range, so that thousands of screens do not come back in the same second after a restart.
RETRY_MILLISECONDS = (2000, 8000)
# The screens told of one change: one at once, whose refresh renders the new fragment, and the others each at its own
# moment between these two delays, by when that render is kept for them to copy (orders.live_poll): a screen asking
# while another renders the same fragment holds a web thread until the copy is there, or renders it again.
FOLLOWERS_FROM_SECONDS = 0.2
EVENT_SPREAD_SECONDS = 1.0
# How long to wait before subscribing again after Redis went away.
RESUBSCRIBE_SECONDS = 1.0
# How long a stream waits for its process's subscription before it tells the page to poll instead.
SUBSCRIBE_WAIT_SECONDS = 2.0
# The checks of a process's streams share these Redis connections: thousands of streams opening at once wait for
# one rather than each opening its own. The wait may be long on a busy box: meanwhile the page polls, as it does
# until its stream is open; a Redis that is down fails at once instead.
REDIS_CONNECTIONS = 16
REDIS_WAIT_SECONDS = 30.0
# Streams refused because Redis is unreachable are logged together, once per this long.
REFUSED_LOG_SECONDS = 10.0

_ALIVE = b": keep-alive\n\n"


def changed_event(version: bytes) -> bytes:
    return b"event: changed\ndata: " + (version or b"?") + b"\n\n"


def told_after(count: int) -> list[float]:
    """When each of ``count`` screens is told of a change, in seconds: the first at once, the others later."""
    spread = (FOLLOWERS_FROM_SECONDS, EVENT_SPREAD_SECONDS)
    return [random.uniform(*spread) if place else 0.0 for place in range(count)]  # noqa: S311 (a spread, not a secret)


class Screen:
    """One open stream: woken when its version moved forward, keeping only the latest version."""

    def __init__(self) -> None:
        self.woken = asyncio.Event()
        self.version = b""
        # How long after waking it tells its page.
        self.delay = 0.0

    def wake(self, version: bytes, delay: float) -> None:
        self.version = version
        self.delay = delay
        self.woken.set()

    def take(self) -> bytes:
        self.woken.clear()
        return self.version


class Listeners:
    """One subscription to the versions' channel per process, fanned out to the streams open in it."""

    def __init__(self, redis_url: str) -> None:
        self._redis_url = redis_url
        self._screens: dict[bytes, set[Screen]] = defaultdict(set)
        self._task: asyncio.Task | None = None
        self.subscribed = asyncio.Event()

    def watch(self, key: str, screen: Screen) -> None:
        self._screens[key.encode()].add(screen)

    def forget(self, key: str, screen: Screen) -> None:
        screens = self._screens.get(key.encode())
        if screens is not None:
            screens.discard(screen)
            if not screens:
                del self._screens[key.encode()]

    def _announce(self, data: bytes) -> None:
        key, _, version = data.partition(b" ")
        screens = self._screens.get(key, ())
        for screen, delay in zip(screens, told_after(len(screens)), strict=True):
            screen.wake(version, delay)

    def _wake_all(self) -> None:
        for screens in self._screens.values():
            for screen, delay in zip(screens, told_after(len(screens)), strict=True):
                screen.wake(b"", delay)

    async def ready(self, timeout: float) -> bool:
        """Subscribed (starting the subscription with the process's first stream): a stream answered before
        that could miss a change."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen())
        try:
            await asyncio.wait_for(self.subscribed.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def _listen(self) -> None:
        first = True
        while True:  # for the process's life: one idle subscription costs nothing
            client = aioredis.Redis.from_url(self._redis_url)
            try:
                async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(screen_versions.channel(self._redis_url))
                    if not first:  # what was announced while the subscription was down is not known
                        self._wake_all()
                    first = False
                    self.subscribed.set()
                    while True:
                        message = await pubsub.get_message(timeout=None)
                        if message is not None and message["type"] == "message":
                            self._announce(message["data"])
            except (RedisError, OSError) as error:
                self.subscribed.clear()
                first = False
                logger.warning("Live streams not told of changes, Redis is unreachable: %s", error)
                await asyncio.sleep(RESUBSCRIBE_SECONDS)
            finally:
                await client.aclose()


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}


def allowed_origin(origin: str, scheme: str, host: str) -> bool:
    """A page of ours: this stream's own origin, or the pages' origin (PUBLIC_URL) when the stream answers on
    an origin of its own. No Origin header: not a cross-origin request."""
    if not origin:
        return True
    public = urlsplit(settings.PUBLIC_URL)
    return origin in {f"{scheme}://{host}", f"{public.scheme}://{public.netloc}"}


def allowed_host(environ: dict[str, Any]) -> bool:
    """The request's host is one of ALLOWED_HOSTS, checked by Django's own rule as for every page (the Host header,
    or X-Forwarded-Host where USE_X_FORWARDED_HOST trusts it): the origin check compares the Origin with it."""
    request = HttpRequest()
    request.META = environ
    try:
        request.get_host()
    except DisallowedHost:
        return False
    return True


class StreamRequest:
    """What a stream needs of its request: the screen, the user's session and grant keys, the answer's headers."""

    def __init__(self, scope: Scope, match: re.Match) -> None:
        headers = _headers(scope)
        server_name, server_port = scope.get("server") or ("", "")
        environ = {"wsgi.url_scheme": scope.get("scheme", "http"), "SERVER_NAME": server_name, "SERVER_PORT": str(server_port)}
        environ |= {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
        self.establishment_id = int(match.group(1))
        self.order_id = int(match.group(2)) if match.group(2) else None
        self.origin = headers.get("origin", "")
        self.host_allowed = allowed_host(environ)
        self.acceptable = live_front.secure_enough(environ) and allowed_origin(
            self.origin, environ["wsgi.url_scheme"], headers.get("host", "")
        )
        self.session_key = live_front.session_cache_key(parse_cookie(headers.get("cookie", "")))
        # The session's user, once a check has read it: later checks read the session and the grant together.
        self.user_id = ""

    def version_key(self) -> str:
        if self.order_id is None:
            return screen_versions.establishment_key(self.establishment_id)
        return screen_versions.order_key(self.establishment_id, self.order_id)

    def response_headers(self) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"content-type", b"text/event-stream"),
            (b"cache-control", live_poll.CACHE_CONTROL.encode()),
            (b"x-content-type-options", b"nosniff"),
            # A reverse proxy must pass each event on at once (nginx buffers otherwise).
            (b"x-accel-buffering", b"no"),
            (b"vary", b"Origin, Cookie"),
        ]
        if self.origin:
            headers += [(b"access-control-allow-origin", self.origin.encode()), (b"access-control-allow-credentials", b"true")]
        return headers


class Streams:
    """The ASGI application of the stream process: streams answered here, everything else by Django."""

    def __init__(self, django_app: AsgiApp, redis_url: str) -> None:
        self.django_app = django_app
        self._redis_url = redis_url
        self._redis: aioredis.Redis | None = None
        self.listeners = Listeners(redis_url)
        self._refused = 0
        self._refused_logged_at = -REFUSED_LOG_SECONDS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        match = STREAM_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope.get("method") != "GET":
            await self.django_app(scope, receive, send)
            return
        await self._stream(StreamRequest(scope, match), receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._redis is not None:
                    await self._redis.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _still_allowed(self, request: StreamRequest) -> bool:
        """The session exists and the user was allowed this establishment's screens for that session."""
        if request.session_key is None:
            return False
        if self._redis is None:
            pool = aioredis.BlockingConnectionPool.from_url(
                self._redis_url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_WAIT_SECONDS
            )
            self._redis = aioredis.Redis(connection_pool=pool)
        try:
            if request.user_id:
                stored, grant = await self._redis.mget(
                    [request.session_key, live_poll.grant_key(request.user_id, request.establishment_id)]
                )
                user_id, auth_hash = live_front.session_user(stored)
                if user_id != request.user_id:
                    return False
            else:
                user_id, auth_hash = live_front.session_user(await self._redis.get(request.session_key))
                if not user_id:
                    return False
                grant = await self._redis.get(live_poll.grant_key(user_id, request.establishment_id))
                request.user_id = user_id
        except (RedisError, OSError) as error:
            self._warn_refused(error)
            return False
        return live_poll.granted(grant, auth_hash)

    def _warn_refused(self, error: Exception) -> None:
        # Once per REFUSED_LOG_SECONDS, with how many were refused meanwhile: while Redis is away, every open
        # stream's check fails, thousands within seconds.
        self._refused += 1
        now = time.monotonic()
        if now - self._refused_logged_at >= REFUSED_LOG_SECONDS:
            logger.warning("Live streams refused, Redis is unreachable (%s since the last warning): %s", self._refused, error)
            self._refused, self._refused_logged_at = 0, now

    async def _stream(self, request: StreamRequest, receive: Receive, send: Send) -> None:
        if not request.host_allowed:
            # What Django answers a page asked under a host of ALLOWED_HOSTS' outside.
            await send({"type": "http.response.start", "status": 400, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"Invalid Host header."})
            return
        if not request.acceptable:
            await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"Not allowed from this origin."})
            return
        if not await self._still_allowed(request) or not await self.listeners.ready(SUBSCRIBE_WAIT_SECONDS):
            # EventSource stops on a 204: the page polls, and comes back after its next render.
            await send({"type": "http.response.start", "status": 204, "headers": request.response_headers()})
            await send({"type": "http.response.body", "body": b""})
            return
        screen, key = Screen(), request.version_key()
        self.listeners.watch(key, screen)
        disconnected = asyncio.ensure_future(_disconnect(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": request.response_headers()})
            retry = random.randint(*RETRY_MILLISECONDS)  # noqa: S311 (a spread, not a secret)
            await send({"type": "http.response.body", "body": f"retry: {retry}\n\n".encode(), "more_body": True})
            await self._events(request, screen, disconnected, send)
        except OSError:  # the screen went away while being written to
            pass
        finally:
            self.listeners.forget(key, screen)
            disconnected.cancel()

    async def _events(self, request: StreamRequest, screen: Screen, disconnected: asyncio.Future, send: Send) -> None:
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + random.uniform(*LIFETIME_SECONDS)  # noqa: S311 (a spread, not a secret)
        while loop.time() < ends_at:
            woken = asyncio.ensure_future(screen.woken.wait())
            check_in = settings.LIVE_STREAM_CHECK_SECONDS
            await asyncio.wait({woken, disconnected}, timeout=check_in, return_when=asyncio.FIRST_COMPLETED)
            woken.cancel()
            if disconnected.done():
                return
            if screen.woken.is_set():
                await asyncio.sleep(screen.delay)
                await send({"type": "http.response.body", "body": changed_event(screen.take()), "more_body": True})
            elif await self._still_allowed(request):
                await send({"type": "http.response.body", "body": _ALIVE, "more_body": True})
            else:
                # The page's refresh goes through Django, which renders (and grants again) or refuses.
                await send({"type": "http.response.body", "body": changed_event(b""), "more_body": True})
                break
        await send({"type": "http.response.body", "body": b""})


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
