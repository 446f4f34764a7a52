"""Live refreshes whose screen is current, answered in front of Django's request handling (getresto/wsgi.py).

Most of the polls an open screen sends every 3 s find nothing new. Django's handler
around orders.live_poll's check (its request object, signals and the outer
middleware) costs about as much as the check itself, so such a poll is checked here,
straight from the WSGI environ, with one Redis round trip: the session as Django's
cached_db keeps it, the grant of the user the ETag names, and the version. The
session must exist and be that user's, the grant must carry the session's auth hash
(orders.live_poll), the ETag must be current: then a 204 (htmx) or 304, with the ETag
the view would give. Everything else goes on to Django unchanged: no ETag, no session
in Redis, something new to render, another screen's copy of the fragment to send (it
leaves with Django's security headers), and plain http where production requires
https (SecurityMiddleware redirects it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import cache
from importlib import import_module
from typing import Any

import redis
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.core.cache import caches
from django.core.cache.backends.redis import RedisSerializer
from django.http.cookie import parse_cookie

from getresto.redis import broker_redis
from orders import live_poll

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_STATUS_LINES = {204: "204 No Content", 304: "304 Not Modified"}
_sessions = RedisSerializer()


@cache
def _session_store() -> type | None:
    """The session store class, when its sessions are cached in the broker's Redis (where the grants and versions
    are, hence one round trip); None otherwise, and every poll goes to Django."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    cached = settings.CACHES.get(settings.SESSION_CACHE_ALIAS, {})
    in_broker = cached.get("BACKEND", "").endswith("RedisCache") and cached.get("LOCATION") == settings.CELERY_BROKER_URL
    return store if in_broker and hasattr(store, "cache_key") else None


def secure_enough(environ: dict[str, Any]) -> bool:
    if not settings.SECURE_SSL_REDIRECT:
        return True
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        return environ.get(header, "").split(",")[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def session_cache_key(cookies: dict[str, str]) -> str | None:
    """The Redis key under which Django's cached_db keeps the session these cookies name; None when there is
    no session cookie, or sessions are not cached in the broker's Redis."""
    store = _session_store()
    if store is None:
        return None
    session = store(cookies.get(settings.SESSION_COOKIE_NAME))
    if session.session_key is None:
        return None
    return caches[settings.SESSION_CACHE_ALIAS].make_key(session.cache_key)


def session_user(stored: bytes | None) -> tuple[str, str]:
    """(the user's id, the session's auth hash) of a session as read from Redis; empty when logged out or gone."""
    if stored is None:
        return "", ""
    data = _sessions.loads(stored)
    return str(data.get(SESSION_KEY, "")), data.get(HASH_SESSION_KEY, "")


def _named_user(if_none_match: str) -> str:
    """The user id an ETag of orders.live_poll.tags starts with; empty if it has none."""
    user_id, dot, _ = if_none_match.strip().removeprefix("W/").strip('"').partition(".")
    return user_id if dot and user_id.isdigit() else ""


def not_modified(environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]]] | None:
    """The status line and headers of a "nothing new" answer to this request, or None: Django answers it."""
    if environ.get("REQUEST_METHOD") != "GET":
        return None
    match = live_poll.LIVE_PATH.match(environ.get("PATH_INFO", ""))
    user_id = _named_user(environ.get("HTTP_IF_NONE_MATCH", ""))
    if match is None or not user_id or not secure_enough(environ):
        return None
    cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
    session_key = session_cache_key(cookies)
    if session_key is None:
        return None
    poll = live_poll.Poll(
        establishment_id=int(match.group(1)),
        order_id=int(match.group(2)) if match.group(2) else None,
        query=environ.get("QUERY_STRING", ""),
        language=live_poll.language(cookies.get(settings.LANGUAGE_COOKIE_NAME, ""), environ.get("HTTP_ACCEPT_LANGUAGE", "")),
        if_none_match=environ["HTTP_IF_NONE_MATCH"],
        user_id=user_id,
        auth_hash="",
    )
    try:
        stored, grant, version = broker_redis().mget([session_key, *live_poll.keys(poll)])
    except redis.RedisError:  # Django's sessions and orders.live_poll know what to do without Redis
        return None
    session_user_id, auth_hash = session_user(stored)
    if session_user_id != user_id:
        return None
    judged = live_poll.judge(replace(poll, auth_hash=auth_hash), grant, version)
    if judged is None or not judged[2]:
        return None
    status = live_poll.not_modified_status(bool(environ.get("HTTP_HX_REQUEST")))
    headers = [("ETag", judged[1]), ("Cache-Control", live_poll.CACHE_CONTROL), ("Vary", "Accept-Encoding, Cookie")]
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    return _STATUS_LINES[status], headers


def answering_current_screens(django_app: WsgiApp) -> WsgiApp:
    """Django's WSGI application, with the polls of current screens answered before it."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = not_modified(environ)
        if answer is None:
            return django_app(environ, start_response)
        start_response(*answer)
        return []

    return application
