"""Keyset pagination for the order list: each page starts where the previous one ended.

An OFFSET makes PostgreSQL walk past every skipped row, so page 4,000 of a
busy restaurant's history would cost 4,000 pages of work. Here a page is "the
next N rows after this (time, id)", one range of one index whatever the depth.
The cursor carried by the links is opaque to users; a tampered or outdated one
just shows the first page.
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Model, Q, QuerySet

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FORWARD = "n"
BACKWARD = "p"


@dataclass(frozen=True)
class Cursor:
    direction: str
    time: datetime
    pk: int
    # The number of the page it leads to, for "Page 3 of 40": counted, never queried.
    number: int

    def encode(self) -> str:
        micros = (self.time - EPOCH) // timedelta(microseconds=1)
        raw = f"{self.direction}.{micros}.{self.pk}.{self.number}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str | None) -> "Cursor | None":
        if not value or len(value) > 100:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            direction, micros, pk, number = raw.split(".")
            cursor = cls(direction, EPOCH + timedelta(microseconds=int(micros)), int(pk), max(1, int(number)))
        except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
            return None
        return cursor if direction in (FORWARD, BACKWARD) else None


@dataclass(frozen=True)
class KeysetPage:
    object_list: list
    number: int
    has_previous: bool
    has_next: bool
    previous_cursor: str = ""
    next_cursor: str = ""


def _beyond(field: str, time: datetime, pk: int, descending: bool) -> Q:
    """Rows strictly after (time, pk) in the given order.

    The redundant ``>=`` on the time lets PostgreSQL start the index range at
    the cursor instead of filtering from the start of the tab.
    """
    op = "lt" if descending else "gt"
    return Q(**{f"{field}__{op}e": time}) & (Q(**{f"{field}__{op}": time}) | Q(**{field: time, f"pk__{op}": pk}))


def keyset_page(orders: QuerySet, field: str, *, descending: bool, cursor: Cursor | None, size: int) -> KeysetPage:
    """One page of ``orders`` sorted by (``field``, pk), ascending or descending, starting at ``cursor``."""
    sign = "-" if descending else ""
    forward_order = (f"{sign}{field}", f"{sign}pk")
    if cursor is None or cursor.direction == FORWARD:
        rows = orders.order_by(*forward_order)
        if cursor is not None:
            rows = rows.filter(_beyond(field, cursor.time, cursor.pk, descending))
        return forward_page(list(rows[: size + 1]), field, cursor, size)
    backward_order = tuple(o[1:] if o.startswith("-") else f"-{o}" for o in forward_order)
    rows = list(orders.order_by(*backward_order).filter(_beyond(field, cursor.time, cursor.pk, not descending))[: size + 1])
    if len(rows) < size:
        # Orders left the tab meanwhile: what comes before is less than a
        # page, so this is the first page.
        return keyset_page(orders, field, descending=descending, cursor=None, size=size)
    has_previous = len(rows) > size
    number = cursor.number if has_previous else 1
    return _page(rows[:size][::-1], field, number, has_previous=has_previous, has_next=True)


def forward_page(rows: list, field: str, cursor: Cursor | None, size: int) -> KeysetPage:
    """The page of ``rows``: the ``size`` + 1 rows that follow ``cursor`` (or start the list, without one), in order;
    the one past the page says that there is a next page."""
    number = cursor.number if cursor is not None else 1
    return _page(rows[:size], field, number, has_previous=cursor is not None, has_next=len(rows) > size)


def _page(rows: list, field: str, number: int, *, has_previous: bool, has_next: bool) -> KeysetPage:
    return KeysetPage(
        object_list=rows,
        number=max(1, number),
        has_previous=has_previous,
        has_next=has_next,
        previous_cursor=_cursor_at(rows[0], BACKWARD, field, number - 1) if has_previous and rows else "",
        next_cursor=_cursor_at(rows[-1], FORWARD, field, number + 1) if has_next and rows else "",
    )


def _cursor_at(row: Model, direction: str, field: str, number: int) -> str:
    return Cursor(direction, getattr(row, field), row.pk, max(1, number)).encode()
