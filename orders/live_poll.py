"""The live refreshes (the order list's and the order page's, every 3 s per open screen) answered cheaply.

Most polls find nothing new. ``LivePollMiddleware`` runs right after the session
middleware and, for a live URL, answers before any other work: from the session
(read from Redis, getresto.sessions) and one Redis round trip it knows the user,
that they were allowed this establishment's screens, and the versions of what the
screen shows (orders.screen_versions). When the screen's ETag is still current it
answers 204 to htmx (which then leaves the page alone) or 304 to anyone else; when
another screen already rendered the same fragment since the change, it sends that
copy. No database query either way. Otherwise the view renders, and ``finish``
tags the answer, remembers the permission and keeps the fragment for the other screens.

The permission ("grant") is the session's auth hash stored per user and establishment
by a render that checked the membership in the database. It is deleted when the
membership is, and expires after ``GRANT_SECONDS``; a changed password changes the
hash. A user removed from the establishment thus gets nothing more, not even a 204.

The list shows times ("12 min", late, waiting for 5 minutes) that the page keeps exact
itself between renders (static/js/list_times.js), and days ("Later days", a date beside
a time of another day, the "today" filter) that only a render can move: the list's tag
includes a clock that ticks every quarter of an hour, so that every list follows midnight
in every time zone (all whole quarters of an hour from UTC) within ``CLOCK_SPREAD_SECONDS``.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from getresto.redis import broker_redis
from orders import screen_versions

logger = logging.getLogger(__name__)

# orders/urls.py's list_live and detail_live (tests/orders/test_live_poll.py checks they match).
LIVE_PATH = re.compile(r"^/e/(\d+)/orders/(?:(\d+)/)?live/$")
GRANT_SECONDS = 120
# A rendered fragment is kept for the other screens of the establishment this long at most.
BODY_SECONDS = 120
# Screens told of a change at nearly the same moment (orders.live_stream spreads them over a second) may ask for the
# new fragment together: one renders it, the others wait this long at most for its copy rather than render it too.
# Short: a waiting screen holds one of gunicorn's threads.
RENDER_WAIT_SECONDS = 0.25
RENDER_WAIT_STEP_SECONDS = 0.01
CLOCK_SECONDS = 15 * 60
# Each establishment's clock ticks at a second of its own within this long after the quarter: the lists of a
# thousand restaurants are not all rendered again in the same seconds (a render is ~50 polls' worth of CPU; spread
# over two minutes, the ticks were a burst that a box at 3,000 screens could not absorb).
CLOCK_SPREAD_SECONDS = 600
# Changed when the fragments' markup changes, so that no screen keeps an old one past a deploy.
MARKUP = "2"
# Fragments this small are sent as they are: compressing them saves nothing.
GZIP_FROM_BYTES = 512
CACHE_CONTROL = "private, no-cache"


def grant_key(user_id: int | str, establishment_id: int) -> str:
    return f"{screen_versions.PREFIX}:grant:{user_id}:{establishment_id}"


def _body_key(shared: str) -> str:
    return f"{screen_versions.PREFIX}:body:{shared}"


def _rendering_key(shared: str) -> str:
    return f"{screen_versions.PREFIX}:rendering:{shared}"


def _digest(*parts: object) -> str:
    return hashlib.blake2b("|".join(str(part) for part in parts).encode(), digest_size=12).hexdigest()


@dataclass(frozen=True)
class Poll:
    """What the quick answer needs of a live refresh: read from a Django request, or from the WSGI environ by
    orders.live_front before Django is involved. The session's user and auth hash are empty when logged out."""

    establishment_id: int
    order_id: int | None
    query: str
    language: str
    if_none_match: str
    user_id: str
    auth_hash: str

    @classmethod
    def of_request(cls, request: HttpRequest, establishment_id: int, order_id: int | None) -> Poll:
        return cls(
            establishment_id,
            order_id,
            request.META.get("QUERY_STRING", ""),
            language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""), request.headers.get("Accept-Language", "")),
            request.headers.get("If-None-Match", ""),
            str(request.session.get(SESSION_KEY, "")),
            request.session.get(HASH_SESSION_KEY, ""),
        )


@dataclass(frozen=True)
class QuickAnswer:
    etag: str
    # Another screen's render of the same fragment, compressed; None when the screen is current.
    compressed: bytes | None


def language(cookie: str, accept_language: str) -> str:
    # What LocaleMiddleware picks from, taken as it comes: same headers, same language.
    return f"{cookie};{accept_language}"


def quarter(establishment_id: int, now: float) -> int:
    """The list's clock: the quarter of an hour, turning over up to ten minutes after the quarter."""
    return int((now - establishment_id % CLOCK_SPREAD_SECONDS) // CLOCK_SECONDS)


def tags(poll: Poll, versions: tuple[int, ...]) -> tuple[str, str]:
    """(the fragment's tag, shared by every user; the ETag, this user's) for these versions, now."""
    clock = quarter(poll.establishment_id, time.time()) if poll.order_id is None else 0
    shared = _digest(MARKUP, poll.establishment_id, poll.order_id, *versions, clock, poll.query, poll.language)
    # The ETag starts with the user's id: orders.live_front reads their grant along with the session.
    return shared, f'"{poll.user_id}.{_digest(shared, poll.user_id)}"'


def _not_modified(request: HttpRequest, etag: str) -> HttpResponse:
    # htmx swaps whatever a 2xx brings, and a browser hands XHR the cached body of a 304: a 204 leaves the page as it is.
    response = HttpResponse(status=not_modified_status(bool(request.headers.get("HX-Request"))))
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response


def not_modified_status(htmx: bool) -> int:
    return 204 if htmx else 304


def _with_body(request: HttpRequest, compressed: bytes, etag: str) -> HttpResponse:
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(compressed)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(gzip.decompress(compressed))
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    # Answered before CommonMiddleware, which would add it: without it gunicorn sends the body chunked.
    response["Content-Length"] = str(len(response.content))
    # And before the clickjacking middleware: a fragment opened on its own is not framed either.
    response["X-Frame-Options"] = "DENY"
    patch_vary_headers(response, ("Accept-Encoding", "Cookie"))
    return response


def keys(poll: Poll) -> list[str]:
    """The Redis keys of the user's grant for the establishment and of the version the screen shows."""
    version_key = (
        screen_versions.establishment_key(poll.establishment_id)
        if poll.order_id is None
        else screen_versions.order_key(poll.establishment_id, poll.order_id)
    )
    return [grant_key(poll.user_id, poll.establishment_id), version_key]


def granted(grant: bytes | None, auth_hash: str) -> bool:
    """The user's grant for the establishment, as read from Redis, was given to this session's password."""
    return bool(auth_hash) and grant is not None and grant.decode() == auth_hash


def judge(poll: Poll, grant: bytes | None, version: bytes | None) -> tuple[str, str, bool] | None:
    """(the fragment's tag, the ETag, whether the screen shows it already), or None: the user's permission for
    the establishment is not known in Redis (or was given to another password), nor the version."""
    if not poll.user_id or not granted(grant, poll.auth_hash) or version is None:
        return None
    shared, etag = tags(poll, (int(version),))
    return shared, etag, etag in poll.if_none_match


def check(poll: Poll) -> QuickAnswer | None:
    """Whether the screen is current, or another screen's copy of its new fragment; None: the view must render.

    No database query: one Redis round trip, two when a copy is looked for; while another screen renders the
    fragment, a few more until its copy is there."""
    if not poll.user_id:
        return None
    try:
        client = broker_redis()
        judged = judge(poll, *client.mget(keys(poll)))
        if judged is None:
            return None
        shared, etag, current = judged
        if current:
            return QuickAnswer(etag, None)
        pipe = client.pipeline(transaction=False)
        pipe.get(_body_key(shared))
        pipe.set(_rendering_key(shared), 1, nx=True, px=int(RENDER_WAIT_SECONDS * 1000))
        body, renders_it = pipe.execute()
        if body is None and not renders_it:
            body = _copy_once_rendered(client, shared)
    except (redis.RedisError, ValueError) as error:  # ValueError: a broker URL that is not Redis (benches)
        logger.warning("Live refresh rendered, Redis is unreachable: %s", error)
        return None
    return None if body is None else QuickAnswer(etag, body)


def _copy_once_rendered(client: redis.Redis, shared: str) -> bytes | None:
    """The fragment another screen is rendering, once it is kept; None if it is not within RENDER_WAIT_SECONDS (that
    render failed, or read a newer version): this screen renders then."""
    deadline = time.monotonic() + RENDER_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(RENDER_WAIT_STEP_SECONDS)
        body = client.get(_body_key(shared))
        if body is not None:
            return body
    return None


def quick_answer(request: HttpRequest, establishment_id: int, order_id: int | None) -> HttpResponse | None:
    """A 204/304 or another screen's copy of the fragment, or None: the view must render."""
    answer = check(Poll.of_request(request, establishment_id, order_id))
    if answer is None:
        return None
    if answer.compressed is None:
        return _not_modified(request, answer.etag)
    return _with_body(request, answer.compressed, answer.etag)


def finish(
    request: HttpRequest, response: HttpResponse, establishment_id: int, order_id: int | None, version: int
) -> HttpResponse:
    """After a render: tag the answer with the version it was rendered from, and prepare the next polls' quick answers.

    Only for an answer of a user whose membership the view has just checked. The
    fragments carry no secret (no CSRF token): compressing them is safe from BREACH.
    """
    if response.status_code != 200:
        return response
    shared, etag = tags(Poll.of_request(request, establishment_id, order_id), (version,))
    compressed = gzip.compress(response.content, compresslevel=5)
    try:
        pipe = broker_redis().pipeline(transaction=False)
        _grant(pipe, request, establishment_id)
        pipe.set(_body_key(shared), compressed, ex=BODY_SECONDS)
        pipe.execute()
    except (redis.RedisError, ValueError) as error:  # ValueError: a broker URL that is not Redis (benches)
        logger.warning("Live refresh not remembered, Redis is unreachable: %s", error)
    # Read from the database with the fragment: the copy in Redis may have expired.
    if order_id is None:
        screen_versions.mirror(establishment_id, version)
    else:
        screen_versions.mirror(establishment_id, None, order_id, version)
    answer = _with_body(request, compressed, etag) if len(response.content) >= GZIP_FROM_BYTES else response
    if answer is response:
        response["ETag"] = etag
        response["Cache-Control"] = CACHE_CONTROL
    return answer


def _grant(client: redis.Redis | redis.client.Pipeline, request: HttpRequest, establishment_id: int) -> None:
    client.set(grant_key(request.user.pk, establishment_id), request.session.get(HASH_SESSION_KEY, ""), ex=GRANT_SECONDS)


def grant(request: HttpRequest, establishment_id: int) -> None:
    """A page with live parts was rendered for a member of the establishment (its view checked it): its stream
    may be opened at once (orders.live_stream), before the page's first refresh."""
    try:
        _grant(broker_redis(), request, establishment_id)
    except (redis.RedisError, ValueError) as error:  # ValueError: a broker URL that is not Redis (benches)
        logger.warning("Live screen not granted, it polls until its first refresh: %s", error)


def revoke(user_id: int, establishment_id: int) -> None:
    """A membership ended: the user's next poll of that establishment checks the database (and gets a 404)."""

    def delete() -> None:
        try:
            broker_redis().delete(grant_key(user_id, establishment_id))
        except (redis.RedisError, ValueError) as error:  # ValueError: a broker URL that is not Redis (benches)
            logger.warning("Live refresh grant not revoked (it expires within %s s): %s", GRANT_SECONDS, error)

    transaction.on_commit(delete)


class LivePollMiddleware:
    """Right after SessionMiddleware: live refreshes that can be answered without the rest of the stack are."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET":
            match = LIVE_PATH.match(request.path_info)
            if match is not None:
                order_id = int(match.group(2)) if match.group(2) else None
                answer = quick_answer(request, int(match.group(1)), order_id)
                if answer is not None:
                    return answer
        return self.get_response(request)
