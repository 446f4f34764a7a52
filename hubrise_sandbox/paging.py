"""Cursor pagination of an in-memory list, as HubRise's index endpoints answer: ``count`` (at most
100) and ``cursor``, with ``X-Cursor-Next`` set by the route while more remain."""

from __future__ import annotations

from .errors import Errors

MAX_PAGE = 100


def page_of(items: list, params: dict[str, str]) -> tuple[list, str | None]:
    errors = Errors()
    count = MAX_PAGE
    if params.get("count"):
        try:
            count = int(params["count"])
        except ValueError:
            errors.add("count", f"{params['count']!r} is not an integer")
        else:
            if count < 1:
                errors.add("count", "must be at least 1")
            count = max(1, min(count, MAX_PAGE))
    start = 0
    if params.get("cursor"):
        try:
            start = int(params["cursor"], 36)
        except ValueError:
            errors.add("cursor", "is not a valid cursor")
    errors.raise_if_any()
    end = start + count
    return items[start:end], (_base36(end) if end < len(items) else None)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, remainder = divmod(number, 36)
        text = digits[remainder] + text
        if number == 0:
            return text
