"""HubRise's times, read once for every inbound module: ISO 8601 with an offset, else nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime


def parse_time(value: Any) -> datetime | None:
    """A time HubRise wrote (``2021-06-24T19:30:00+02:00``); None for anything else, a time without offset included."""
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but impossible, e.g. 30 February
        return None
    return moment if moment is not None and not timezone.is_naive(moment) else None
