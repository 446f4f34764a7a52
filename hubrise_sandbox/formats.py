"""HubRise's wire formats: opaque ids, money strings, decimal strings and times."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_MONEY = re.compile(r"^(-?)(\d+)\.(\d{2}) ([A-Z]{3})$")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
CENT = Decimal("0.01")


def new_id(length: int = 5) -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def new_token() -> str:
    return secrets.token_hex(16)


class FormatError(ValueError):
    pass


def parse_money(value: object, currency: str) -> Decimal:
    if not isinstance(value, str) or not _MONEY.match(value):
        raise FormatError(f"{value!r} is not a valid monetary amount")
    amount, code = value.rsplit(" ", 1)
    if code != currency:
        raise FormatError(f"{value!r} is not in the account currency {currency}")
    return Decimal(amount)


def format_money(amount: Decimal, currency: str) -> str:
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded} {currency}"


def parse_decimal(value: object) -> Decimal:
    # A JSON number is refused on purpose: HubRise wants decimals as strings.
    if not isinstance(value, str) or not _DECIMAL.match(value):
        raise FormatError(f'{value!r} is not a valid decimal (a string such as "1" or "2.5")')
    return Decimal(value)


def parse_time(value: object) -> datetime:
    if not isinstance(value, str):
        raise FormatError(f"{value!r} is not a valid time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FormatError(f"{value!r} is not a valid ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise FormatError(f"{value!r} has no UTC offset")
    return parsed


def local_time(moment: datetime | float, timezone_name: str) -> str:
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(ZoneInfo(timezone_name)).isoformat(timespec="seconds")


def utc_offset_seconds(timezone_name: str) -> int:
    offset = datetime.now(ZoneInfo(timezone_name)).utcoffset()
    return int(offset.total_seconds()) if offset else 0
