"""Validated input of create_order(), in HubRise's order vocabulary.

Every entry point (intake API, admin, demo generator) builds these, so the
service works on one shape whatever the source. Money and quantities are
Decimals: floats never reach the service.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class NewOption:
    option_list_name: str
    name: str
    ref: str = ""
    price: Decimal = Decimal("0")
    quantity: int = 1
    removed: bool = False


@dataclass(frozen=True)
class NewItem:
    product_name: str
    price: Decimal
    quantity: Decimal
    sku_name: str = ""
    sku_ref: str = ""
    tax_rate: Decimal | None = None
    customer_notes: str = ""
    options: tuple[NewOption, ...] = ()
    deal_key: str = ""
    deal_label: str = ""
    deal_pricing_effect: str = ""
    deal_pricing_value: str = ""


@dataclass(frozen=True)
class NewDeal:
    key: str
    name: str
    ref: str = ""


@dataclass(frozen=True)
class NewDiscount:
    name: str
    price_off: Decimal
    ref: str = ""


@dataclass(frozen=True)
class NewCharge:
    name: str
    price: Decimal
    ref: str = ""
    tax_rate: Decimal | None = None


@dataclass(frozen=True)
class NewPayment:
    amount: Decimal
    name: str = ""
    ref: str = ""
    info: dict = field(default_factory=dict)


@dataclass(frozen=True)
class NewCustomer:
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    email: str = ""
    phone: str = ""
    address_1: str = ""
    address_2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""
    delivery_notes: str = ""


@dataclass(frozen=True)
class NewOrder:
    items: tuple[NewItem, ...]
    status: str = "new"
    ref: str = ""
    # Where the guest ordered (HubRise's order "channel"), e.g. "Menu QR code", "Uber Eats".
    channel: str = ""
    service_type: str = ""
    service_type_ref: str = ""
    table_name: str = ""
    expected_time: datetime | None = None
    confirmed_time: datetime | None = None
    customer: NewCustomer = field(default_factory=NewCustomer)
    customer_notes: str = ""
    seller_notes: str = ""
    collection_code: str = ""
    coupon_codes: tuple[str, ...] = ()
    deals: tuple[NewDeal, ...] = ()
    discounts: tuple[NewDiscount, ...] = ()
    charges: tuple[NewCharge, ...] = ()
    payments: tuple[NewPayment, ...] = ()
