"""A whole menu as plain values, in the restaurant's vocabulary.

``services.replace_menu`` takes a ``Menu`` and ``selectors.menu_description``
gives one back, so that whatever feeds the menu (a fixture, an import from a
POS) or reads all of it (a push to one) maps to these classes only, never to
the tables. Money is a ``Decimal`` in the establishment's currency; every
sequence is a tuple, so that two descriptions compare equal when the menus
are the same.

Ref codes and what identifies an object (see README, "Menu"):

- categories, option lists and channels: ``ref`` required, unique in the menu;
- SKUs: ``ref`` optional, unique in the menu when set (an order's ``sku_ref``
  must name one SKU); a SKU without ref is known by its product and name, and
  SKU names are unique within their product (one may be empty);
- options: ``ref`` optional, unique within its option list (the same ref in two
  lists is the same thing offered twice, e.g. "frites"), else known by name;
- products, deals, discounts, charges, service types, payment methods: ``ref``
  optional, unique when set; without one, known by name (a product by its
  category and name), and such names must then be unique.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal

# How a deal line or a discount changes the price.
UNCHANGED = "unchanged"
FIXED_PRICE = "fixed_price"
PRICE_OFF = "price_off"
PERCENTAGE_OFF = "percentage_off"
# A line whose items cost nothing (only its extra charges): HubRise's own examples use it.
FREE = "free"
DEAL_PRICING_EFFECTS = (UNCHANGED, FIXED_PRICE, PRICE_OFF, PERCENTAGE_OFF, FREE)
DISCOUNT_PRICING_EFFECTS = (PRICE_OFF, PERCENTAGE_OFF)

CHARGE_KINDS = ("delivery", "payment_fee", "tip", "tax", "other")
SERVICE_KINDS = ("eat_in", "collection", "delivery")


@dataclass(frozen=True)
class Conditions:
    """When something is offered (or a price applies). Every condition set must hold; None means no condition.

    ``days_of_week`` has 7 characters from Monday: the day's digit when it holds,
    ``-`` when not ("12345--" is weekdays). ``channel_refs`` limits to sales
    channels; an empty tuple means none. ``service_kinds`` and
    ``service_type_refs`` are an older way to say the same, kept as received.
    """

    channel_refs: tuple[str, ...] | None = None
    days_of_week: str | None = None
    start_time: time | None = None
    end_time: time | None = None
    start_date: date | None = None
    end_date: date | None = None
    service_kinds: tuple[str, ...] | None = None
    service_type_refs: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Restrictions(Conditions):
    """When and how much of something may be ordered. ``enabled=False`` withdraws it whatever the rest says."""

    enabled: bool = True
    min_order_amount: Decimal | None = None
    max_per_order: int | None = None
    max_per_customer: int | None = None


@dataclass(frozen=True)
class PriceRule(Conditions):
    """Another price under some conditions (a channel, happy hour). When several hold, the last one wins."""

    price: Decimal = Decimal("0")


@dataclass(frozen=True)
class Channel:
    """A sales channel with its own prices or restrictions, e.g. "Uber Eats & Deliveroo"."""

    ref: str
    name: str


@dataclass(frozen=True)
class Category:
    ref: str
    name: str
    parent_ref: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    image_url: str = ""
    # Identifiers of the images in the system the menu came from, kept so that they can be sent back.
    image_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sku:
    """What the guest actually orders: a product in one size or version, with its price."""

    price: Decimal
    name: str = ""
    ref: str = ""
    option_list_refs: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    price_rules: tuple[PriceRule, ...] = ()
    restrictions: Restrictions | None = None
    # False: out of stock ("en rupture"). See services.replace_menu's keep_availability.
    available: bool = True


@dataclass(frozen=True)
class Product:
    name: str
    category_ref: str
    skus: tuple[Sku, ...]
    ref: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    image_url: str = ""
    image_ids: tuple[str, ...] = ()
    # Percentage, e.g. Decimal("10") for French restaurant food; None when not known.
    tax_rate: Decimal | None = None


@dataclass(frozen=True)
class Option:
    name: str
    price: Decimal = Decimal("0")
    ref: str = ""
    default: bool = False
    tags: tuple[str, ...] = ()
    price_rules: tuple[PriceRule, ...] = ()
    restrictions: Restrictions | None = None
    available: bool = True


@dataclass(frozen=True)
class OptionList:
    """Choices offered with a SKU (cuisson, accompagnement, suppléments): at least ``min_selections``,
    at most ``max_selections`` (None: no limit)."""

    ref: str
    name: str
    options: tuple[Option, ...]
    min_selections: int = 0
    max_selections: int | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class DealSku:
    """A SKU that may fill a deal line, with what it costs on top of the line's price."""

    sku_ref: str
    extra_charge: Decimal | None = None


@dataclass(frozen=True)
class DealLine:
    """One choice of a deal ("Plat", "Dessert"): any of its SKUs, priced by ``pricing_effect``.

    ``pricing_value`` is an amount for fixed_price and price_off, a percentage for
    percentage_off, None for unchanged and free.
    """

    skus: tuple[DealSku, ...]
    pricing_effect: str = UNCHANGED
    pricing_value: Decimal | None = None
    label: str = ""


@dataclass(frozen=True)
class Deal:
    """A set menu or offer made of several items, e.g. the formule midi."""

    name: str
    lines: tuple[DealLine, ...]
    ref: str = ""
    category_ref: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    image_url: str = ""
    image_ids: tuple[str, ...] = ()
    coupon_codes: tuple[str, ...] = ()
    restrictions: Restrictions | None = None


@dataclass(frozen=True)
class Discount:
    """A reduction of the order's total: an amount (price_off) or a percentage (percentage_off)."""

    name: str
    pricing_effect: str
    pricing_value: Decimal
    ref: str = ""
    description: str = ""
    image_url: str = ""
    image_ids: tuple[str, ...] = ()
    coupon_codes: tuple[str, ...] = ()
    restrictions: Restrictions | None = None


@dataclass(frozen=True)
class Charge:
    """An amount added to the order (delivery fee, packaging…); no price means it varies per order."""

    name: str
    kind: str = "other"
    price: Decimal | None = None
    ref: str = ""
    restrictions: Restrictions | None = None


@dataclass(frozen=True)
class ServiceType:
    """How the guest is served (eat_in, collection, delivery) under a name and code of the restaurant's."""

    kind: str
    name: str
    ref: str = ""


@dataclass(frozen=True)
class PaymentMethod:
    name: str
    ref: str = ""


@dataclass(frozen=True)
class Menu:
    categories: tuple[Category, ...] = ()
    products: tuple[Product, ...] = ()
    option_lists: tuple[OptionList, ...] = ()
    deals: tuple[Deal, ...] = ()
    discounts: tuple[Discount, ...] = ()
    charges: tuple[Charge, ...] = ()
    service_types: tuple[ServiceType, ...] = ()
    payment_methods: tuple[PaymentMethod, ...] = ()
    channels: tuple[Channel, ...] = field(default=())
