"""Checks of a whole menu description before anything is written: every problem found, in words a manager can act on.

Pure functions over menu.description, so that a menu is refused as a whole
(and the stored one kept) before the first query.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from menu import description as desc

NAME_MAX = 200
REF_MAX = 100
TEXT_MAX = 2000
URL_MAX = 500
TAG_MAX = 100
# Prices are stored with 12 digits, 2 of them decimals.
MONEY_LIMIT = Decimal("10000000000")
# More than this and the list would hide the first ones, which are the ones to fix first.
MAX_MESSAGES = 50
PERCENTAGE_EFFECTS = (desc.PERCENTAGE_OFF,)
AMOUNT_EFFECTS = (desc.FIXED_PRICE, desc.PRICE_OFF)

# Names of fields in the messages, translated only when a message is made (a menu has thousands of fields).
A_MAXIMUM_QUANTITY = gettext_lazy("a maximum quantity")
ANOTHER_PRICE = gettext_lazy("another price")
SERVICE_TYPES = gettext_lazy("service types")
THE_AMOUNT = gettext_lazy("the amount")
THE_COUPON_CODES = gettext_lazy("the coupon codes")
THE_DESCRIPTION = gettext_lazy("the description")
THE_EXTRA_CHARGE = gettext_lazy("the extra charge")
THE_IMAGE_IDS = gettext_lazy("the image ids")
THE_LABEL = gettext_lazy("the label")
THE_MAXIMUM_CHOICES = gettext_lazy("the maximum number of choices")
THE_MINIMUM_CHOICES = gettext_lazy("the minimum number of choices")
THE_MINIMUM_ORDER_AMOUNT = gettext_lazy("the minimum order amount")
THE_NAME = gettext_lazy("the name")
THE_PRICE = gettext_lazy("the price")
THE_TAGS = gettext_lazy("the tags")


class Problems:
    """Messages gathered while walking the menu, each prefixed by where it is ("products[3] Steak frites")."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, where: str, message: str) -> None:
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(_("%(where)s: %(message)s") % {"where": where, "message": message} if where else message)

    def full(self) -> bool:
        return len(self.messages) >= MAX_MESSAGES


def _at(kind: str, index: int, name: str = "") -> str:
    return f"{kind}[{index}] “{name}”" if name else f"{kind}[{index}]"


def check_menu(menu: desc.Menu) -> list[str]:
    """Everything wrong with ``menu``, at most MAX_MESSAGES messages; an empty list when it can be stored."""
    problems = Problems()
    channel_refs = _check_channels(menu.channels, problems)
    category_refs = _check_categories(menu.categories, problems)
    option_list_refs = _check_option_lists(menu.option_lists, channel_refs, problems)
    sku_refs = _check_products(menu.products, category_refs, option_list_refs, channel_refs, problems)
    _check_deals(menu.deals, category_refs, sku_refs, channel_refs, problems)
    _check_discounts(menu.discounts, channel_refs, problems)
    _check_charges(menu.charges, channel_refs, problems)
    _check_service_types(menu.service_types, problems)
    _check_payment_methods(menu.payment_methods, problems)
    if not menu.products and not problems.messages:
        problems.add("", _("The menu has no product: a menu is never replaced by an empty one."))
    return problems.messages


# --- Values ----------------------------------------------------------------------


def _name(value: object, where: str, problems: Problems, *, required: bool = True, field: str | None = None) -> None:
    field = field or THE_NAME
    if not isinstance(value, str):
        problems.add(where, _("%(field)s must be text.") % {"field": field})
    elif required and not value.strip():
        problems.add(where, _("%(field)s is missing.") % {"field": field})
    elif len(value) > NAME_MAX:
        problems.add(where, _("%(field)s is longer than %(max)s characters.") % {"field": field, "max": NAME_MAX})


def _ref(value: object, where: str, problems: Problems, *, required: bool = False) -> None:
    if not isinstance(value, str):
        problems.add(where, _("the ref code must be text."))
    elif required and not value:
        problems.add(where, _("the ref code is missing (it is required for this kind)."))
    elif value != value.strip():
        problems.add(where, _("the ref code “%(ref)s” starts or ends with a space.") % {"ref": value})
    elif len(value) > REF_MAX:
        problems.add(where, _("the ref code is longer than %(max)s characters.") % {"max": REF_MAX})


def _text(value: object, where: str, problems: Problems, field: str) -> None:
    if not isinstance(value, str):
        problems.add(where, _("%(field)s must be text.") % {"field": field})
    elif len(value) > TEXT_MAX:
        problems.add(where, _("%(field)s is longer than %(max)s characters.") % {"field": field, "max": TEXT_MAX})


def _strings(values: object, where: str, problems: Problems, field: str) -> None:
    if not isinstance(values, tuple) or not all(isinstance(value, str) and 0 < len(value) <= TAG_MAX for value in values):
        problems.add(where, _("%(field)s must be a list of short texts.") % {"field": field})


def _image(url: object, where: str, problems: Problems) -> None:
    if url == "":
        return
    try:
        if not isinstance(url, str) or len(url) > URL_MAX:
            raise ValidationError("")
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        problems.add(where, _("the image URL is not a web address (http or https)."))


def _money(value: object, where: str, problems: Problems, field: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, Decimal) or not value.is_finite():
        problems.add(where, _("%(field)s is not an amount of money.") % {"field": field})
    elif value < 0:
        problems.add(where, _("%(field)s is negative.") % {"field": field})
    elif value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01")):
        problems.add(where, _("%(field)s has more than 2 decimals.") % {"field": field})
    elif value >= MONEY_LIMIT:
        problems.add(where, _("%(field)s is too large.") % {"field": field})


def _count(value: object, where: str, problems: Problems, field: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 1_000_000:
        problems.add(where, _("%(field)s must be a whole number from 0.") % {"field": field})


def _duplicates(keys: Iterable[tuple[str, object]], problems: Problems, message: str) -> None:
    """Reports each key seen twice, with the places of both."""
    first_seen: dict[object, str] = {}
    for where, key in keys:
        if key in first_seen:
            problems.add(where, message % {"key": key[-1] if isinstance(key, tuple) else key, "other": first_seen[key]})
        else:
            first_seen[key] = where


def _conditions(conditions: desc.Conditions, where: str, channel_refs: set[str], problems: Problems) -> None:
    if conditions.channel_refs is not None:
        for ref in conditions.channel_refs:
            if ref not in channel_refs:
                problems.add(where, _("no sales channel has the code “%(ref)s”.") % {"ref": ref})
    days = conditions.days_of_week
    if days is not None and (
        not isinstance(days, str) or len(days) != 7 or any(char not in (str(n + 1), "-") for n, char in enumerate(days))
    ):
        problems.add(where, _("the days “%(days)s” are not 7 characters from Monday such as “12345--”.") % {"days": days})
    for value in (conditions.start_time, conditions.end_time):
        if value is not None and not isinstance(value, time):
            problems.add(where, _("a start or end time is not a time of day."))
    for value in (conditions.start_date, conditions.end_date):
        if value is not None and not isinstance(value, date):
            problems.add(where, _("a start or end date is not a date."))
    for values in (conditions.service_kinds, conditions.service_type_refs):
        if values is not None:
            _strings(values, where, problems, SERVICE_TYPES)


def _restrictions(restrictions: desc.Restrictions | None, where: str, channel_refs: set[str], problems: Problems) -> None:
    if restrictions is None:
        return
    if not isinstance(restrictions, desc.Restrictions):
        problems.add(where, _("the restrictions are not restrictions."))
        return
    _conditions(restrictions, where, channel_refs, problems)
    _money(restrictions.min_order_amount, where, problems, THE_MINIMUM_ORDER_AMOUNT, optional=True)
    for value in (restrictions.max_per_order, restrictions.max_per_customer):
        _count(value, where, problems, A_MAXIMUM_QUANTITY, optional=True)


def _price_rules(rules: tuple[desc.PriceRule, ...], where: str, channel_refs: set[str], problems: Problems) -> None:
    for rule in rules:
        _money(rule.price, where, problems, ANOTHER_PRICE)
        _conditions(rule, where, channel_refs, problems)
        conditions = (rule.channel_refs, rule.days_of_week, rule.start_time, rule.end_time, rule.start_date, rule.end_date)
        if all(value is None for value in (*conditions, rule.service_kinds, rule.service_type_refs)):
            problems.add(where, _("another price has no condition saying when it applies."))


# --- Kinds -----------------------------------------------------------------------


def _check_channels(channels: tuple[desc.Channel, ...], problems: Problems) -> set[str]:
    for index, channel in enumerate(channels):
        where = _at("channels", index, channel.name)
        _ref(channel.ref, where, problems, required=True)
        _name(channel.name, where, problems)
    _duplicates(
        ((_at("channels", i, c.name), c.ref) for i, c in enumerate(channels)),
        problems,
        _("the sales channel code “%(key)s” is used twice (also %(other)s)."),
    )
    return {channel.ref for channel in channels}


def _check_categories(categories: tuple[desc.Category, ...], problems: Problems) -> set[str]:
    refs = {category.ref for category in categories}
    parent_of = {}
    for index, category in enumerate(categories):
        where = _at("categories", index, category.name)
        _ref(category.ref, where, problems, required=True)
        _name(category.name, where, problems)
        _text(category.description, where, problems, THE_DESCRIPTION)
        _strings(category.tags, where, problems, THE_TAGS)
        _strings(category.image_ids, where, problems, THE_IMAGE_IDS)
        _image(category.image_url, where, problems)
        if category.parent_ref and category.parent_ref not in refs:
            problems.add(where, _("no category has the code “%(ref)s” (its parent).") % {"ref": category.parent_ref})
        elif category.parent_ref:
            parent_of[category.ref] = category.parent_ref
    _duplicates(
        ((_at("categories", i, c.name), c.ref) for i, c in enumerate(categories)),
        problems,
        _("the category code “%(key)s” is used twice (also %(other)s)."),
    )
    for start in parent_of:
        seen, ref = set(), start
        while ref in parent_of and ref not in seen:
            seen.add(ref)
            ref = parent_of[ref]
        if ref == start:
            problems.add(_("categories"), _("the category “%(ref)s” is inside itself (through its parents).") % {"ref": start})
    return refs


def _check_option_lists(option_lists: tuple[desc.OptionList, ...], channel_refs: set[str], problems: Problems) -> set[str]:
    for index, option_list in enumerate(option_lists):
        where = _at("option_lists", index, option_list.name)
        _ref(option_list.ref, where, problems, required=True)
        _name(option_list.name, where, problems)
        _strings(option_list.tags, where, problems, THE_TAGS)
        _count(option_list.min_selections, where, problems, THE_MINIMUM_CHOICES)
        _count(option_list.max_selections, where, problems, THE_MAXIMUM_CHOICES, optional=True)
        low, high = option_list.min_selections, option_list.max_selections
        if isinstance(low, int) and isinstance(high, int) and high < low:
            problems.add(where, _("at most %(max)s choices but at least %(min)s.") % {"max": high, "min": low})
        if not option_list.options:
            problems.add(where, _("the option list has no option."))
        if isinstance(low, int) and low > len(option_list.options):
            problems.add(
                where,
                _("at least %(min)s choices, but only %(count)s options.") % {"min": low, "count": len(option_list.options)},
            )
        defaults = sum(1 for option in option_list.options if option.default)
        if isinstance(high, int) and defaults > high:
            problems.add(
                where, _("%(count)s options chosen by default, more than the %(max)s allowed.") % {"count": defaults, "max": high}
            )
        for position, option in enumerate(option_list.options):
            place = f"{where}.{_at('options', position, option.name)}"
            _ref(option.ref, place, problems)
            _name(option.name, place, problems)
            _money(option.price, place, problems, THE_PRICE)
            _strings(option.tags, place, problems, THE_TAGS)
            _price_rules(option.price_rules, place, channel_refs, problems)
            _restrictions(option.restrictions, place, channel_refs, problems)
        _refs_and_names_unique(
            [(f"{where}.{_at('options', i, o.name)}", o.ref, o.name) for i, o in enumerate(option_list.options)], problems
        )
    _duplicates(
        ((_at("option_lists", i, o.name), o.ref) for i, o in enumerate(option_lists)),
        problems,
        _("the option list code “%(key)s” is used twice (also %(other)s)."),
    )
    return {option_list.ref for option_list in option_lists}


def _check_products(
    products: tuple[desc.Product, ...],
    category_refs: set[str],
    option_list_refs: set[str],
    channel_refs: set[str],
    problems: Problems,
) -> set[str]:
    sku_places: list[tuple[str, str]] = []
    for index, product in enumerate(products):
        if problems.full():
            break
        where = _at("products", index, product.name)
        _ref(product.ref, where, problems)
        _name(product.name, where, problems)
        _text(product.description, where, problems, THE_DESCRIPTION)
        _strings(product.tags, where, problems, THE_TAGS)
        _strings(product.image_ids, where, problems, THE_IMAGE_IDS)
        _image(product.image_url, where, problems)
        if product.tax_rate is not None and (
            not isinstance(product.tax_rate, Decimal) or not product.tax_rate.is_finite() or not 0 <= product.tax_rate < 1000
        ):
            problems.add(where, _("the tax rate is not a percentage."))
        if product.category_ref not in category_refs:
            problems.add(where, _("no category has the code “%(ref)s”.") % {"ref": product.category_ref})
        if not product.skus:
            problems.add(where, _("the product has no SKU (a size or version with its price)."))
        for position, sku in enumerate(product.skus):
            place = f"{where}.{_at('skus', position, sku.name)}"
            _ref(sku.ref, place, problems)
            _name(sku.name, place, problems, required=False)
            _money(sku.price, place, problems, THE_PRICE)
            _strings(sku.tags, place, problems, THE_TAGS)
            _price_rules(sku.price_rules, place, channel_refs, problems)
            _restrictions(sku.restrictions, place, channel_refs, problems)
            for ref in sku.option_list_refs:
                if ref not in option_list_refs:
                    problems.add(place, _("no option list has the code “%(ref)s”.") % {"ref": ref})
            if len(set(sku.option_list_refs)) != len(sku.option_list_refs):
                problems.add(place, _("an option list is given twice."))
            if sku.ref:
                sku_places.append((place, sku.ref))
        _duplicates(
            ((f"{where}.{_at('skus', i, s.name)}", s.name) for i, s in enumerate(product.skus)),
            problems,
            _("two SKUs of this product are called “%(key)s” (also %(other)s)."),
        )
    _duplicates(sku_places, problems, _("the SKU code “%(key)s” is used twice (also %(other)s)."))
    _refs_and_names_unique(
        [(_at("products", i, p.name), p.ref, (p.category_ref, p.name)) for i, p in enumerate(products)], problems
    )
    return {ref for _place, ref in sku_places}


def _check_deals(
    deals: tuple[desc.Deal, ...], category_refs: set[str], sku_refs: set[str], channel_refs: set[str], problems: Problems
) -> None:
    for index, deal in enumerate(deals):
        where = _at("deals", index, deal.name)
        _ref(deal.ref, where, problems)
        _name(deal.name, where, problems)
        _text(deal.description, where, problems, THE_DESCRIPTION)
        _strings(deal.tags, where, problems, THE_TAGS)
        _strings(deal.coupon_codes, where, problems, THE_COUPON_CODES)
        _strings(deal.image_ids, where, problems, THE_IMAGE_IDS)
        _image(deal.image_url, where, problems)
        _restrictions(deal.restrictions, where, channel_refs, problems)
        if deal.category_ref and deal.category_ref not in category_refs:
            problems.add(where, _("no category has the code “%(ref)s”.") % {"ref": deal.category_ref})
        if not deal.lines:
            problems.add(where, _("the deal has no line."))
        for position, line in enumerate(deal.lines):
            place = f"{where}.{_at('lines', position, line.label)}"
            _name(line.label, place, problems, required=False, field=THE_LABEL)
            _pricing(line.pricing_effect, line.pricing_value, desc.DEAL_PRICING_EFFECTS, place, problems)
            if not line.skus:
                problems.add(place, _("the line has no SKU."))
            for choice in line.skus:
                if choice.sku_ref not in sku_refs:
                    problems.add(place, _("no SKU has the code “%(ref)s”.") % {"ref": choice.sku_ref})
                _money(choice.extra_charge, place, problems, THE_EXTRA_CHARGE, optional=True)
            if len({choice.sku_ref for choice in line.skus}) != len(line.skus):
                problems.add(place, _("a SKU is given twice."))
    _by_ref_or_name("deals", deals, problems)


def _pricing(effect: str, value: Decimal | None, effects: tuple[str, ...], where: str, problems: Problems) -> None:
    if effect not in effects:
        problems.add(
            where, _("unknown pricing “%(effect)s” (one of: %(known)s).") % {"effect": effect, "known": ", ".join(effects)}
        )
    elif effect in AMOUNT_EFFECTS:
        _money(value, where, problems, THE_AMOUNT)
    elif effect in PERCENTAGE_EFFECTS:
        if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value <= 100:
            problems.add(where, _("the percentage must be from 0 to 100."))
        elif value != value.quantize(Decimal("0.001")):
            problems.add(where, _("the percentage has more than 3 decimals."))
    elif value is not None:
        problems.add(where, _("“%(effect)s” takes no value.") % {"effect": effect})


def _check_discounts(discounts: tuple[desc.Discount, ...], channel_refs: set[str], problems: Problems) -> None:
    for index, discount in enumerate(discounts):
        where = _at("discounts", index, discount.name)
        _ref(discount.ref, where, problems)
        _name(discount.name, where, problems)
        _text(discount.description, where, problems, THE_DESCRIPTION)
        _strings(discount.coupon_codes, where, problems, THE_COUPON_CODES)
        _strings(discount.image_ids, where, problems, THE_IMAGE_IDS)
        _image(discount.image_url, where, problems)
        _restrictions(discount.restrictions, where, channel_refs, problems)
        _pricing(discount.pricing_effect, discount.pricing_value, desc.DISCOUNT_PRICING_EFFECTS, where, problems)
    _by_ref_or_name("discounts", discounts, problems)


def _check_charges(charges: tuple[desc.Charge, ...], channel_refs: set[str], problems: Problems) -> None:
    for index, charge in enumerate(charges):
        where = _at("charges", index, charge.name)
        _ref(charge.ref, where, problems)
        _name(charge.name, where, problems)
        _money(charge.price, where, problems, THE_PRICE, optional=True)
        _restrictions(charge.restrictions, where, channel_refs, problems)
        if charge.kind not in desc.CHARGE_KINDS:
            problems.add(
                where,
                _("unknown kind “%(kind)s” (one of: %(known)s).") % {"kind": charge.kind, "known": ", ".join(desc.CHARGE_KINDS)},
            )
    _by_ref_or_name("charges", charges, problems)


def _check_service_types(service_types: tuple[desc.ServiceType, ...], problems: Problems) -> None:
    for index, service_type in enumerate(service_types):
        where = _at("service_types", index, service_type.name)
        _ref(service_type.ref, where, problems)
        _name(service_type.name, where, problems)
        if service_type.kind not in desc.SERVICE_KINDS:
            problems.add(
                where,
                _("unknown kind “%(kind)s” (one of: %(known)s).")
                % {"kind": service_type.kind, "known": ", ".join(desc.SERVICE_KINDS)},
            )
    _by_ref_or_name("service_types", service_types, problems)


def _check_payment_methods(payment_methods: tuple[desc.PaymentMethod, ...], problems: Problems) -> None:
    for index, method in enumerate(payment_methods):
        where = _at("payment_methods", index, method.name)
        _ref(method.ref, where, problems)
        _name(method.name, where, problems)
    _by_ref_or_name("payment_methods", payment_methods, problems)


def _by_ref_or_name(kind: str, objects: tuple, problems: Problems) -> None:
    _refs_and_names_unique([(_at(kind, i, o.name), o.ref, o.name) for i, o in enumerate(objects)], problems)


def _refs_and_names_unique(places: list[tuple[str, str, object]], problems: Problems) -> None:
    """(where, ref, name) of objects known by their ref, or by their name when they have none: both must be unique."""
    _duplicates(
        ((where, ref) for where, ref, _name in places if ref),
        problems,
        _("the code “%(key)s” is used twice (also %(other)s)."),
    )
    _duplicates(
        ((where, name) for where, ref, name in places if not ref),
        problems,
        _("“%(key)s” has no ref code and another one has the same name (%(other)s): give them ref codes or other names."),
    )
