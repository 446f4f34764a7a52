"""Live refreshes whose screen is current, answered in front of Django's request handling (getresto/wsgi.py).

Most of the polls an open screen sends every 3 s find nothing new. Django's handler
around orders.live_poll's check (its request object, signals and the outer
middleware) costs about as much as the check itself, so a poll whose session is in
Redis is checked here, straight from the WSGI environ: a 204 (htmx) or 304 with the
same ETag as the view would give. Everything else goes on to Django unchanged: no
session in Redis, something new to render, another screen's copy of the fragment to
send (it leaves with Django's security headers), and plain http where production
requires https (SecurityMiddleware redirects it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.core.cache import caches
from django.http.cookie import parse_cookie
from redis import RedisError

from orders import live_poll

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_STATUS_LINES = {204: "204 No Content", 304: "304 Not Modified"}


@cache
def _session_store() -> type:
    return import_module(settings.SESSION_ENGINE).SessionStore


def _session(cookies: dict[str, str]) -> dict | None:
    """The session's data as Django's cached_db keeps it in Redis, or None (not there: Django reads the database)."""
    store = _session_store()(cookies.get(settings.SESSION_COOKIE_NAME))
    if store.session_key is None or not hasattr(store, "cache_key"):
        return None
    try:
        return caches[settings.SESSION_CACHE_ALIAS].get(store.cache_key)
    except RedisError:  # Django's sessions (getresto.sessions) know what to do without Redis
        return None


def _secure_enough(environ: dict[str, Any]) -> bool:
    if not settings.SECURE_SSL_REDIRECT:
        return True
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        return environ.get(header, "").split(",")[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def not_modified(environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]]] | None:
    """The status line and headers of a "nothing new" answer to this request, or None: Django answers it."""
    if environ.get("REQUEST_METHOD") != "GET" or "HTTP_IF_NONE_MATCH" not in environ:
        return None
    match = live_poll.LIVE_PATH.match(environ.get("PATH_INFO", ""))
    if match is None or not _secure_enough(environ):
        return None
    cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
    session = _session(cookies)
    if not session:
        return None
    poll = live_poll.Poll(
        establishment_id=int(match.group(1)),
        order_id=int(match.group(2)) if match.group(2) else None,
        query=environ.get("QUERY_STRING", ""),
        language=live_poll.language(cookies.get(settings.LANGUAGE_COOKIE_NAME, ""), environ.get("HTTP_ACCEPT_LANGUAGE", "")),
        if_none_match=environ["HTTP_IF_NONE_MATCH"],
        user_id=str(session.get(SESSION_KEY, "")),
        auth_hash=session.get(HASH_SESSION_KEY, ""),
    )
    answer = live_poll.check(poll, copies=False)
    if answer is None:
        return None
    status = live_poll.not_modified_status(bool(environ.get("HTTP_HX_REQUEST")))
    headers = [("ETag", answer.etag), ("Cache-Control", live_poll.CACHE_CONTROL), ("Vary", "Accept-Encoding, Cookie")]
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
