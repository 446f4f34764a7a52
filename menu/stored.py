"""Conditions, restrictions and price rules as stored in their JSON columns, and back.

Values are normalised on the way in (amounts with 2 decimals, times as HH:MM,
fields at None left out) so that the same description always gives the same
JSON, and comparing two is enough to know whether anything changed.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date, time
from decimal import Decimal

from menu import description as desc

CENT = Decimal("0.01")
_TUPLES = ("channel_refs", "service_kinds", "service_type_refs")
_CONDITION_FIELDS = tuple(f.name for f in fields(desc.Conditions))


def money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def _conditions_json(conditions: desc.Conditions) -> dict:
    stored: dict = {}
    for name in _CONDITION_FIELDS:
        value = getattr(conditions, name)
        if value is None:
            continue
        if isinstance(value, time):
            value = value.strftime("%H:%M")
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        stored[name] = value
    return stored


def _conditions_kwargs(stored: dict) -> dict:
    kwargs: dict = {}
    for name in _CONDITION_FIELDS:
        if name not in stored:
            continue
        value = stored[name]
        if name in ("start_time", "end_time"):
            value = time.fromisoformat(value)
        elif name in ("start_date", "end_date"):
            value = date.fromisoformat(value)
        elif name in _TUPLES:
            value = tuple(value)
        kwargs[name] = value
    return kwargs


def restrictions_json(restrictions: desc.Restrictions | None) -> dict | None:
    if restrictions is None:
        return None
    stored = _conditions_json(restrictions)
    if not restrictions.enabled:
        stored["enabled"] = False
    if restrictions.min_order_amount is not None:
        stored["min_order_amount"] = str(money(restrictions.min_order_amount))
    for name in ("max_per_order", "max_per_customer"):
        if getattr(restrictions, name) is not None:
            stored[name] = getattr(restrictions, name)
    return stored


def restrictions_from_json(stored: dict | None) -> desc.Restrictions | None:
    if stored is None:
        return None
    amount = stored.get("min_order_amount")
    return desc.Restrictions(
        **_conditions_kwargs(stored),
        enabled=stored.get("enabled", True),
        min_order_amount=None if amount is None else Decimal(amount),
        max_per_order=stored.get("max_per_order"),
        max_per_customer=stored.get("max_per_customer"),
    )


def price_rules_json(rules: tuple[desc.PriceRule, ...]) -> list[dict]:
    return [{**_conditions_json(rule), "price": str(money(rule.price))} for rule in rules]


def price_rules_from_json(stored: list[dict]) -> tuple[desc.PriceRule, ...]:
    return tuple(desc.PriceRule(**_conditions_kwargs(rule), price=Decimal(rule["price"])) for rule in stored)
