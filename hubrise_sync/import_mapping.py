"""A HubRise order created by another app, read into our order (``orders.inputs.NewOrder``).

The reverse of ``mapping``: everything HubRise carries (items with options and
refs, deals, discounts, charges, payments, the customer and address, notes, the
service type, the times, the collection code, the channel). What we cannot take
without guessing raises ``NotImportable`` with the reason staff are shown: no
items, money that is not a "9.50 EUR" string (a JSON number would be a float),
a currency other than the establishment's, an unknown service type or status,
more than ``MAX_ITEMS`` items, text longer than we store. Nothing else is
refused: HubRise's guidance for apps that receive orders is not to reject an
order for a wrong price or ref, and to accept phone numbers in any format.
Deleted elements (``deleted: true``) are left out: they are no longer part of
the order. The values HubRise writes: docs/hubrise/orders.md, "Values".
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from orders.inputs import NewCharge, NewCustomer, NewDeal, NewDiscount, NewItem, NewOption, NewOrder, NewPayment
from orders.phones import to_e164
from orders.status import OrderStatus, ServiceType

# The intake API's own limit: no kitchen order holds more, and a bigger body is an error upstream.
MAX_ITEMS = 200
_MONEY = re.compile(r"^(-?\d{1,10}\.\d{2}) ([A-Z]{3})$")
_DECIMAL = re.compile(r"^-?\d{1,7}(\.\d{1,3})?$")


class NotImportable(ValueError):
    """An order we cannot take as it is; the message says why, in words staff can act on."""


@dataclass(frozen=True)
class Imported:
    """The order as we record it, and what HubRise says of where it came from."""

    order: NewOrder
    created_by: str
    delivery: dict | None


def read_order(state: Any, *, currency: str, country: str) -> Imported:
    """Reads HubRise's order JSON (``new_state`` of an event, or a GET); raises NotImportable."""
    if not isinstance(state, dict):
        raise NotImportable("The order is not a JSON object.")
    reader = _Reader(currency, country)
    items = [item for item in _list(state, "items") if not _deleted(item)]
    if not items:
        raise NotImportable("The order has no items.")
    if len(items) > MAX_ITEMS:
        raise NotImportable(f"The order has {len(items)} items, more than the {MAX_ITEMS} an order may hold.")
    status = state.get("status") or OrderStatus.NEW
    if status not in OrderStatus.values:
        raise NotImportable(f"Unknown status {status!r}.")
    service_type = state.get("service_type") or ""
    if service_type not in ServiceType.values and service_type != "":
        raise NotImportable(f"Unknown service type {service_type!r} (HubRise's are delivery, collection and eat_in).")
    deals = _deals(reader, state.get("deals"))
    keys = {deal.key for deal in deals}
    new_items = tuple(reader.item(item, f"items[{i}]", keys) for i, item in enumerate(items))
    created_by = reader.text(state.get("created_by"), "created_by", 200)
    restaurant = (state.get("custom_fields") or {}).get("restaurant") if isinstance(state.get("custom_fields"), dict) else None
    order = NewOrder(
        items=new_items,
        status=status,
        ref=reader.text(state.get("ref"), "ref", 64),
        channel=reader.text(state.get("channel") or created_by, "channel", 100),
        service_type=service_type,
        service_type_ref=reader.text(state.get("service_type_ref"), "service_type_ref", 100),
        table_name=reader.text((restaurant or {}).get("table_name") if isinstance(restaurant, dict) else "", "table_name", 64),
        expected_time=reader.time(state.get("expected_time"), "expected_time"),
        confirmed_time=reader.time(state.get("confirmed_time"), "confirmed_time"),
        customer=reader.customer(state.get("customer")),
        customer_notes=reader.text(state.get("customer_notes"), "customer_notes", 10000),
        seller_notes=reader.text(state.get("seller_notes"), "seller_notes", 10000),
        collection_code=reader.text(state.get("collection_code"), "collection_code", 32),
        coupon_codes=tuple(reader.text(code, "coupon_codes", 100) for code in _list(state, "coupon_codes")),
        deals=deals,
        discounts=tuple(
            NewDiscount(
                name=reader.text(d.get("name"), f"discounts[{i}].name", 200),
                price_off=reader.money(d.get("price_off"), f"discounts[{i}].price_off"),
                ref=reader.text(d.get("ref"), f"discounts[{i}].ref", 100),
            )
            for i, d in enumerate(_list(state, "discounts"))
            if not _deleted(d)
        ),
        charges=tuple(
            NewCharge(
                name=reader.text(c.get("name"), f"charges[{i}].name", 200),
                price=reader.money(c.get("price"), f"charges[{i}].price"),
                ref=reader.text(c.get("ref"), f"charges[{i}].ref", 100),
                tax_rate=reader.decimal(c.get("tax_rate"), f"charges[{i}].tax_rate", optional=True),
            )
            for i, c in enumerate(_list(state, "charges"))
            if not _deleted(c)
        ),
        payments=tuple(
            NewPayment(
                amount=reader.money(p.get("amount"), f"payments[{i}].amount"),
                name=reader.text(p.get("name"), f"payments[{i}].name", 200),
                ref=reader.text(p.get("ref"), f"payments[{i}].ref", 100),
                info=p.get("info") if isinstance(p.get("info"), dict) else {},
            )
            for i, p in enumerate(_list(state, "payments"))
            if not _deleted(p)
        ),
    )
    delivery = state.get("delivery")
    return Imported(order=order, created_by=created_by, delivery=delivery if isinstance(delivery, dict) else None)


def read_items(state: Any, *, currency: str, country: str) -> tuple[NewItem, ...]:
    """The items still on the order (an ``order.update`` that added or deleted some)."""
    reader = _Reader(currency, country)
    deals = _deals(reader, state.get("deals"))
    keys = {deal.key for deal in deals}
    items = [item for item in _list(state, "items") if not _deleted(item)]
    if len(items) > MAX_ITEMS:
        raise NotImportable(f"The order has {len(items)} items, more than the {MAX_ITEMS} an order may hold.")
    return tuple(reader.item(item, f"items[{i}]", keys) for i, item in enumerate(items))


def active_items(state: Any) -> list:
    """The items of an order state that are not deleted, as HubRise wrote them (to compare two states)."""
    return [item for item in _list(state, "items") if not _deleted(item)] if isinstance(state, dict) else []


def _list(state: dict, key: str) -> list[dict]:
    value = state.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise NotImportable(f"{key} is not a list.")
    for element in value:
        if not isinstance(element, dict) and key != "coupon_codes":
            raise NotImportable(f"An element of {key} is not an object.")
    return value


def _deleted(element: Any) -> bool:
    return isinstance(element, dict) and element.get("deleted") is True


def _deals(reader: _Reader, deals: Any) -> tuple[NewDeal, ...]:
    if deals in (None, {}):
        return ()
    if not isinstance(deals, dict):
        raise NotImportable("deals is not an object.")
    return tuple(
        NewDeal(
            key=reader.text(key, "deals", 16),
            name=reader.text(deal.get("name") if isinstance(deal, dict) else None, f"deals.{key}.name", 200),
            ref=reader.text(deal.get("ref") if isinstance(deal, dict) else None, f"deals.{key}.ref", 100),
        )
        for key, deal in deals.items()
    )


class _Reader:
    def __init__(self, currency: str, country: str) -> None:
        self.currency = currency
        self.country = country

    def text(self, value: Any, path: str, max_length: int) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise NotImportable(f"{path} is not text: {value!r}.")
        value = value.strip()
        if len(value) > max_length:
            raise NotImportable(f"{path} is longer than the {max_length} characters we keep.")
        return value

    def money(self, value: Any, path: str, *, optional: bool = False) -> Decimal:
        if value is None and optional:
            return Decimal("0")
        if isinstance(value, int | float):
            raise NotImportable(f'{path} is a number ({value!r}), not an amount such as "9.50 {self.currency}".')
        match = _MONEY.match(value) if isinstance(value, str) else None
        if match is None:
            raise NotImportable(f'{path} is not an amount such as "9.50 {self.currency}": {value!r}.')
        if match.group(2) != self.currency:
            raise NotImportable(f"{path} is in {match.group(2)}, not in the establishment's currency ({self.currency}).")
        return Decimal(match.group(1))

    def decimal(self, value: Any, path: str, *, optional: bool = False) -> Decimal | None:
        if value is None and optional:
            return None
        if isinstance(value, int | float):
            raise NotImportable(f'{path} is a number ({value!r}), not a decimal string such as "2".')
        if not isinstance(value, str) or not _DECIMAL.match(value):
            raise NotImportable(f'{path} is not a decimal string such as "2" or "0.5": {value!r}.')
        try:
            return Decimal(value)
        except InvalidOperation:  # the pattern lets nothing else through; kept for safety
            raise NotImportable(f"{path} is not a decimal: {value!r}.") from None

    def time(self, value: Any, path: str) -> datetime | None:
        if value in (None, ""):
            return None
        try:
            moment = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or timezone.is_naive(moment):
            raise NotImportable(f"{path} is not a time with an offset: {value!r}.")
        return moment

    def item(self, item: dict, path: str, deal_keys: set[str]) -> NewItem:
        options = item.get("options") or []
        if not isinstance(options, list) or not all(isinstance(option, dict) for option in options):
            raise NotImportable(f"{path}.options is not a list of objects.")
        deal_line = item.get("deal_line") if isinstance(item.get("deal_line"), dict) else {}
        deal_key = self.text(deal_line.get("deal_key"), f"{path}.deal_line.deal_key", 16)
        if deal_key and deal_key not in deal_keys:
            raise NotImportable(f"{path} belongs to deal {deal_key!r}, which the order does not have.")
        quantity = self.decimal(item.get("quantity"), f"{path}.quantity")
        product_name = self.text(item.get("product_name"), f"{path}.product_name", 200)
        if not product_name:
            raise NotImportable(f"{path} has no product name.")
        return NewItem(
            product_name=product_name,
            price=self.money(item.get("price"), f"{path}.price"),
            quantity=quantity,
            sku_name=self.text(item.get("sku_name"), f"{path}.sku_name", 200),
            sku_ref=self.text(item.get("sku_ref"), f"{path}.sku_ref", 100),
            tax_rate=self.decimal(item.get("tax_rate"), f"{path}.tax_rate", optional=True),
            customer_notes=self.text(item.get("customer_notes"), f"{path}.customer_notes", 10000),
            options=tuple(self.option(option, f"{path}.options[{i}]") for i, option in enumerate(options)),
            deal_key=deal_key,
            deal_label=self.text(deal_line.get("label"), f"{path}.deal_line.label", 200),
            deal_pricing_effect=self.text(deal_line.get("pricing_effect"), f"{path}.deal_line.pricing_effect", 32),
            deal_pricing_value=self.text(deal_line.get("pricing_value"), f"{path}.deal_line.pricing_value", 32),
        )

    def option(self, option: dict, path: str) -> NewOption:
        quantity = option.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= 1000:
            raise NotImportable(f"{path}.quantity is not a whole number: {quantity!r}.")
        return NewOption(
            option_list_name=self.text(option.get("option_list_name"), f"{path}.option_list_name", 200),
            name=self.text(option.get("name"), f"{path}.name", 200),
            ref=self.text(option.get("ref"), f"{path}.ref", 100),
            price=self.money(option.get("price"), f"{path}.price", optional=True),
            quantity=quantity,
            removed=option.get("removed") is True,
        )

    def customer(self, customer: Any) -> NewCustomer:
        if not isinstance(customer, dict):
            return NewCustomer()
        phone = self.text(customer.get("phone"), "customer.phone", 64)
        # HubRise writes E.164 but older apps a free format: both are taken, the number kept as sent if unreadable.
        with contextlib.suppress(ValueError):
            phone = to_e164(phone, self.country) if phone else ""
        if len(phone) > 32:
            raise NotImportable("customer.phone is longer than the 32 characters we keep.")
        fields = {
            "first_name": 100,
            "last_name": 100,
            "company_name": 200,
            "address_1": 255,
            "address_2": 255,
            "postal_code": 20,
            "city": 100,
            "country": 100,
            "delivery_notes": 10000,
        }
        values = {name: self.text(customer.get(name), f"customer.{name}", length) for name, length in fields.items()}
        email = self.text(customer.get("email"), "customer.email", 254)
        return NewCustomer(**values, email=email, phone=phone)
