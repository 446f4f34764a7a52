"""Our orders in HubRise's vocabulary (docs/hubrise/orders.md).

Pure functions: they read an order already loaded with its lines and return the
JSON body HubRise expects. Money is a "9.00 EUR" string, other decimals are
strings, an option's quantity is an integer, times carry the establishment's
UTC offset. Optional fields are left out rather than sent empty.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from orders.models import Order, OrderItem, OrderItemOption
from orders.money import format_money as money
from orders.status import OrderStatus, ServiceType

# HubRise reads "no payment" as "unpaid", but its integration guide asks for at
# least one payment on every order so that the EPOS knows how the bill is
# settled. An order without a recorded payment is paid on the spot (table,
# counter, courier), so it goes out as one payment of the whole total with this
# ref, and info.paid=false says that no money has been taken yet.
PAY_ON_SITE_REF = "PAY_ON_SITE"
PAY_ON_SITE_NAME = "Payment at the restaurant"

# The cause HubRise's conventions ask for on a rejection, when staff gave none.
DEFAULT_REJECTION_CAUSE = "Rejected by the restaurant in Get Resto."

_GUEST_FIELDS = (
    ("first_name", "customer_first_name"),
    ("last_name", "customer_last_name"),
    ("company_name", "customer_company_name"),
    ("email", "customer_email"),
    ("phone", "customer_phone"),
    ("address_1", "customer_address_1"),
    ("address_2", "customer_address_2"),
    ("postal_code", "customer_postal_code"),
    ("city", "customer_city"),
    ("country", "customer_country"),
    ("delivery_notes", "customer_delivery_notes"),
)


def decimal_string(value: Decimal, *, min_places: int = 0) -> str:
    """ "1", "2.5", "-2.5", or "20.0" with min_places=1; never an exponent, never a float."""
    text = f"{Decimal(value).normalize():f}"
    whole, _, fraction = text.partition(".")
    fraction = fraction.ljust(min_places, "0")
    return f"{whole}.{fraction}" if fraction else whole


def local_time(moment: datetime | None, timezone_name: str) -> str | None:
    """ISO 8601 in the establishment's timezone with its offset, e.g. 2024-06-21T19:30:00+02:00."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(timezone_name)).isoformat(timespec="seconds")


def _set_if(target: dict, key: str, value: object) -> None:
    if value not in (None, "", [], {}):
        target[key] = value


def option_payload(option: OrderItemOption, currency: str) -> dict:
    body: dict = {"option_list_name": option.option_list_name, "name": option.name}
    _set_if(body, "ref", option.ref)
    # HubRise reads a missing price as a free option; a removal may carry a price too.
    if option.price:
        body["price"] = money(option.price, currency)
    body["quantity"] = int(option.quantity)
    if option.removed:
        body["removed"] = True
    return body


def item_payload(item: OrderItem, currency: str) -> dict:
    body: dict = {
        "product_name": item.product_name,
        "price": money(item.price, currency),
        "quantity": decimal_string(item.quantity),
    }
    _set_if(body, "sku_name", item.sku_name)
    _set_if(body, "sku_ref", item.sku_ref)
    if item.tax_rate is not None:
        body["tax_rate"] = decimal_string(item.tax_rate, min_places=1)
    _set_if(body, "customer_notes", item.customer_notes)
    options = [option_payload(option, currency) for option in item.options.all()]
    _set_if(body, "options", options)
    if item.deal_key:
        deal_line: dict = {"deal_key": item.deal_key}
        _set_if(deal_line, "label", item.deal_label)
        _set_if(deal_line, "pricing_effect", item.deal_pricing_effect)
        _set_if(deal_line, "pricing_value", item.deal_pricing_value)
        body["deal_line"] = deal_line
    return body


def guest_customer(order: Order) -> dict:
    customer: dict = {}
    for hubrise_field, our_field in _GUEST_FIELDS:
        _set_if(customer, hubrise_field, getattr(order, our_field).strip())
    return customer


def payments_payload(order: Order, currency: str) -> list[dict]:
    payments = []
    for payment in order.payments.all():
        body: dict = {"amount": money(payment.amount, currency)}
        _set_if(body, "name", payment.name)
        _set_if(body, "ref", payment.ref)
        _set_if(body, "info", payment.info)
        payments.append(body)
    if not payments:
        payments.append(
            {
                "name": PAY_ON_SITE_NAME,
                "ref": PAY_ON_SITE_REF,
                "amount": money(order.total, currency),
                "info": {"paid": False},
            }
        )
    return payments


def order_payload(order: Order, *, status: str, timezone_name: str) -> dict:
    """The body of POST /locations/:location_id/orders for ``order``.

    ``status`` is the one the order was created with: later changes follow as
    their own PATCHes, in order. The order must come with items (and their
    options), deals, discounts, charges and payments prefetched or loadable.
    """
    currency = order.currency
    body: dict = {"ref": order.ref, "private_ref": str(order.uid), "status": status}
    _set_if(body, "service_type", order.service_type)
    _set_if(body, "service_type_ref", order.service_type_ref)
    _set_if(body, "expected_time", local_time(order.expected_time, timezone_name))
    _set_if(body, "confirmed_time", local_time(order.confirmed_time, timezone_name))
    _set_if(body, "customer_notes", order.customer_notes)
    _set_if(body, "seller_notes", order.seller_notes)
    _set_if(body, "collection_code", order.collection_code)
    _set_if(body, "coupon_codes", [str(code) for code in order.coupon_codes or []])
    body["items"] = [item_payload(item, currency) for item in order.items.all()]
    deals = {deal.key: {"name": deal.name, **({"ref": deal.ref} if deal.ref else {})} for deal in order.deals.all()}
    _set_if(body, "deals", deals)
    discounts = []
    for discount in order.discounts.all():
        line: dict = {"name": discount.name, "price_off": money(discount.price_off, currency)}
        _set_if(line, "ref", discount.ref)
        discounts.append(line)
    _set_if(body, "discounts", discounts)
    charges = []
    for charge in order.charges.all():
        line = {"name": charge.name, "price": money(charge.price, currency)}
        _set_if(line, "ref", charge.ref)
        if charge.tax_rate is not None:
            line["tax_rate"] = decimal_string(charge.tax_rate, min_places=1)
        charges.append(line)
    _set_if(body, "charges", charges)
    body["payments"] = payments_payload(order, currency)
    _set_if(body, "customer", guest_customer(order))
    if order.service_type == ServiceType.EAT_IN and order.table_name:
        body["custom_fields"] = {"restaurant": {"table_name": order.table_name}}
    return body


def confirmed_time_payload(confirmed_time: datetime | None, *, timezone_name: str) -> dict:
    """The body of PATCH /locations/:location_id/orders/:id when only the confirmed time changed (null clears it)."""
    return {"confirmed_time": local_time(confirmed_time, timezone_name)}


def status_payload(status: str, *, confirmed_time: datetime | None, timezone_name: str, reason: str = "") -> dict:
    """The body of PATCH /locations/:location_id/orders/:id for a status change.

    HubRise wants confirmed_time in the same request as "accepted", and the
    cause of a rejection in custom_fields.epos.rejection (docs/hubrise/orders.md, "Update").
    """
    body: dict = {"status": status}
    if status == OrderStatus.ACCEPTED and confirmed_time is not None:
        body["confirmed_time"] = local_time(confirmed_time, timezone_name)
    if status == OrderStatus.REJECTED:
        body["custom_fields"] = {"epos": {"rejection": {"cause": reason.strip() or DEFAULT_REJECTION_CAUSE}}}
    return body
