"""Serializer fields for HubRise's value formats: money, decimal strings, times with an offset.

HubRise sends money as "9.50 EUR" and quantities as decimal strings so that no
float ever rounds a price; these fields refuse JSON numbers for the same reason.
"""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

MONEY_PATTERN = r"^-?[0-9]{1,10}\.[0-9]{2} [A-Z]{3}$"
NON_NEGATIVE_MONEY_PATTERN = r"^[0-9]{1,10}\.[0-9]{2} [A-Z]{3}$"
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_MONEY_RE = re.compile(MONEY_PATTERN)
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)


def format_money(amount: Decimal, currency: str) -> str:
    return f"{amount:.2f} {currency}"


def format_decimal(value: Decimal) -> str:
    """Shortest exact form: "2" rather than "2.000", never "1E+2"."""
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


class _InstanceAware:
    """Output fields whose rendering needs a value from the object (its currency, its time zone)."""

    def __init__(self, *args: Any, per_instance: Callable[[Any], Any] | None = None, **kwargs: Any) -> None:
        self.per_instance = per_instance
        super().__init__(*args, **kwargs)

    def get_attribute(self, instance: Any) -> Any:
        value = super().get_attribute(instance)
        if value is None or self.per_instance is None:
            return value
        return (value, self.per_instance(instance))


@extend_schema_field(
    {
        "type": "string",
        "pattern": MONEY_PATTERN,
        "example": "9.50 EUR",
        "description": "Amount with exactly 2 decimals, a space and the establishment's ISO 4217 currency.",
    }
)
class MoneyField(_InstanceAware, serializers.Field):
    """HubRise money. Input: the currency must be the establishment's (context["currency"]).

    Output: pass per_instance=lambda obj: <its currency>.
    """

    default_error_messages = {
        "not_a_string": _('Must be a string such as "9.50 EUR", not a number.'),
        "invalid": _('Not a valid amount: use 2 decimals, a space and the currency, e.g. "9.50 EUR".'),
        "currency": _("The currency must be {expected}."),
        "negative": _("Must not be negative."),
    }

    def __init__(self, *args: Any, allow_negative: bool = True, **kwargs: Any) -> None:
        self.allow_negative = allow_negative
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str):
            self.fail("not_a_string")
        if not _MONEY_RE.match(data):
            self.fail("invalid")
        amount_text, currency = data.split(" ")
        expected = self.context.get("currency")
        if expected and currency != expected:
            self.fail("currency", expected=expected)
        amount = Decimal(amount_text)
        if amount < 0 and not self.allow_negative:
            self.fail("negative")
        return amount

    def to_representation(self, value: tuple[Decimal, str]) -> str:
        amount, currency = value
        return format_money(amount, currency)


@extend_schema_field(
    {
        "type": "string",
        "pattern": NON_NEGATIVE_MONEY_PATTERN,
        "example": "9.50 EUR",
        "description": "Amount of zero or more, with exactly 2 decimals, a space and the establishment's ISO 4217 currency.",
    }
)
class NonNegativeMoneyField(MoneyField):
    """An input amount that cannot be negative (prices, charges, payments, discounts): documented as such."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, allow_negative=False, **kwargs)


@extend_schema_field({"type": "string", "pattern": DECIMAL_PATTERN, "example": "2"})
class DecimalStringField(serializers.Field):
    """A HubRise decimal: a JSON string such as "2" or "0.5", never a number."""

    default_error_messages = {
        "not_a_string": _('Must be a string such as "2" or "0.5", not a number.'),
        "invalid": _('Not a valid decimal number: write it like "2" or "0.5".'),
        "max_decimal_places": _("At most {places} decimal places."),
        "min_value": _("Must be at least {limit}."),
        "min_exclusive": _("Must be greater than {limit}."),
        "max_value": _("Must be less than {limit}."),
    }

    def __init__(
        self,
        *args: Any,
        decimal_places: int,
        below: Decimal,
        min_value: Decimal | None = None,
        above: Decimal | None = None,
        **kwargs: Any,
    ) -> None:
        self.decimal_places = decimal_places
        self.below = below
        self.min_value = min_value
        self.above = above
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str):
            self.fail("not_a_string")
        if not _DECIMAL_RE.match(data) or len(data) > 40:
            self.fail("invalid")
        try:
            value = Decimal(data)
        except InvalidOperation:
            self.fail("invalid")
        # Counted on the text: quantize() on a long number exceeds the decimal context's 28 digits and raises.
        if len(data.partition(".")[2].rstrip("0")) > self.decimal_places:
            self.fail("max_decimal_places", places=self.decimal_places)
        if self.min_value is not None and value < self.min_value:
            self.fail("min_value", limit=format_decimal(self.min_value))
        if self.above is not None and value <= self.above:
            self.fail("min_exclusive", limit=format_decimal(self.above))
        if value >= self.below:
            self.fail("max_value", limit=format_decimal(self.below))
        return value

    def to_representation(self, value: Decimal) -> str:
        return format_decimal(value)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 10000, "example": 1})
class StrictPositiveIntegerField(serializers.Field):
    """A JSON integer: HubRise's option quantity. Strings, floats and booleans are refused."""

    default_error_messages = {
        "invalid": _("Must be a JSON integer such as 1."),
        "range": _("Must be between 1 and {max}."),
    }
    MAX = 10000

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        if not 1 <= data <= self.MAX:
            self.fail("range", max=self.MAX)
        return data

    def to_representation(self, value: int) -> int:
        return value


@extend_schema_field(OpenApiTypes.DATETIME)
class OffsetDateTimeField(_InstanceAware, serializers.Field):
    """ISO 8601 with a UTC offset. Input: a time without offset is refused, since
    guessing its zone would move the order by hours. Output: in the time zone
    given by per_instance (the establishment's)."""

    default_error_messages = {
        "invalid": _("Not a valid date and time: use ISO 8601, e.g. 2020-08-20T06:42:46+02:00."),
        "naive": _("Include the UTC offset, e.g. 2020-08-20T06:42:46+02:00."),
        "out_of_range": _("This date is out of range."),
    }

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            value = parse_datetime(data)
        except ValueError:
            value = None
        if value is None:
            self.fail("invalid")
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail("naive")
        try:
            year = value.astimezone(UTC).year
        except OverflowError:
            self.fail("out_of_range")
        # Far years would overflow when shown in the establishment's time zone.
        if not 1970 <= year <= 9998:
            self.fail("out_of_range")
        return value

    def to_representation(self, value: tuple[datetime, Any]) -> str:
        moment, tzinfo = value
        return moment.astimezone(tzinfo).isoformat()


class StrictCharField(serializers.CharField):
    """A JSON string; DRF's CharField would turn 12 into "12", hiding a client's type mistake."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: DRF's BooleanField also takes 0, 1, "yes"…"""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data
