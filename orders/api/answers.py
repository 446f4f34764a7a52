"""The body of an order as the API answers it, built with plain attribute reads.

OrderSerializer (orders/api/serializers.py) stays the contract: it documents the
body in the OpenAPI schema and renders the lists. A DRF serializer deep-copies every
declared field of itself and of each nested serializer for each order it renders, which
was a large part of the CPU of taking an order; ``order_answer`` gives the same body
without that machinery, from the lines as written rather than read back (tests/orders/test_api.py holds
the creation's answer equal to reading the order back).
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from orders.api.fields import format_decimal
from orders.models import Order
from orders.money import format_money
from orders.services import WrittenLines


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _money(amount: Decimal | None, currency: str) -> str | None:
    return None if amount is None else format_money(amount, currency)


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else format_decimal(value)


def _time(moment: datetime | None, tzinfo: Any) -> str | None:
    return None if moment is None else moment.astimezone(tzinfo).isoformat()


def order_answer(order: Order, lines: WrittenLines) -> dict[str, Any]:
    """What OrderSerializer(order).data gives for a new order, read from its attributes and its ``lines``."""
    currency = order.currency
    tzinfo = order.establishment.tzinfo
    return {
        "id": int(order.id),
        "uid": str(order.uid),
        "ref": _text(order.ref),
        "channel": _text(order.channel),
        "status": _text(order.status),
        "status_changed_at": _time(order.status_changed_at, tzinfo),
        "created_at": _time(order.created_at, tzinfo),
        "service_type": _text(order.service_type),
        "service_type_ref": _text(order.service_type_ref),
        "expected_time": _time(order.expected_time, tzinfo),
        "confirmed_time": _time(order.confirmed_time, tzinfo),
        "items": [_item(item, options, currency) for item, options in zip(lines.items, lines.options, strict=True)],
        "deals": {deal.key: {"name": deal.name, "ref": deal.ref} for deal in lines.deals},
        "discounts": [
            {"name": _text(d.name), "ref": _text(d.ref), "price_off": _money(d.price_off, currency)} for d in lines.discounts
        ],
        "charges": [
            {
                "name": _text(c.name),
                "ref": _text(c.ref),
                "price": _money(c.price, currency),
                "tax_rate": _decimal(c.tax_rate),
            }
            for c in lines.charges
        ],
        "payments": [
            {
                "name": _text(p.name),
                "ref": _text(p.ref),
                "amount": _money(p.amount, currency),
                "info": None if p.info is None else {str(key): value for key, value in p.info.items()},
            }
            for p in lines.payments
        ],
        "customer": {
            "first_name": _text(order.customer_first_name),
            "last_name": _text(order.customer_last_name),
            "company_name": _text(order.customer_company_name),
            "email": _text(order.customer_email),
            "phone": _text(order.customer_phone),
            "address_1": _text(order.customer_address_1),
            "address_2": _text(order.customer_address_2),
            "postal_code": _text(order.customer_postal_code),
            "city": _text(order.customer_city),
            "country": _text(order.customer_country),
            "delivery_notes": _text(order.customer_delivery_notes),
        },
        "customer_notes": _text(order.customer_notes),
        "seller_notes": _text(order.seller_notes),
        "collection_code": _text(order.collection_code),
        "coupon_codes": None if order.coupon_codes is None else [_text(code) for code in order.coupon_codes],
        "custom_fields": {"restaurant": {"table_name": order.table_name}} if order.table_name else {},
        "total": _money(order.total, currency),
        "item_count": None if order.item_count is None else int(order.item_count),
        "history": [
            {
                "from_status": _text(change.from_status),
                "to_status": _text(change.to_status),
                "at": _time(change.at, tzinfo),
                "source": _text(change.source),
                "source_detail": _text(change.source_detail),
                "reason": _text(change.reason),
            }
            for change in lines.history
        ],
    }


def _item(item: Any, options: list, currency: str) -> dict[str, Any]:
    return {
        "product_name": _text(item.product_name),
        "sku_name": _text(item.sku_name),
        "sku_ref": _text(item.sku_ref),
        "price": _money(item.price, currency),
        "quantity": _decimal(item.quantity),
        "tax_rate": _decimal(item.tax_rate),
        "subtotal": _money(item.subtotal, currency),
        "customer_notes": _text(item.customer_notes),
        "options": [
            {
                "option_list_name": _text(o.option_list_name),
                "name": _text(o.name),
                "ref": _text(o.ref),
                "price": _money(o.price, currency),
                "quantity": None if o.quantity is None else int(o.quantity),
                "removed": None if o.removed is None else bool(o.removed),
            }
            for o in options
        ],
        "deal_line": (
            {
                "deal_key": item.deal_key,
                "label": item.deal_label,
                "pricing_effect": item.deal_pricing_effect,
                "pricing_value": item.deal_pricing_value,
            }
            if item.deal_key
            else None
        ),
    }
