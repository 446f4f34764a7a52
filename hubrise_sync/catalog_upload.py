"""The menu (menu.description) as a HubRise catalog upload: the body of ``PUT /catalogs/:id``.

An upload links objects by ref codes (``category_ref``, ``parent_ref``,
``option_list_refs``, deal line sku refs) and writes money as ``"9.50 EUR"``
(docs/hubrise/catalog.md). Empty optional fields are left out rather than sent
empty, as HubRise's own examples do. Sales channels are HubRise's variants.
"""

from __future__ import annotations

from decimal import Decimal

from menu import description as desc


def _money(amount: Decimal | None, currency: str) -> str | None:
    return None if amount is None else f"{amount:.2f} {currency}"


def _decimal(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _put(body: dict, key: str, value) -> None:
    if value not in (None, "", (), []):
        body[key] = list(value) if isinstance(value, tuple) else value


def _conditions(conditions: desc.Conditions, currency: str) -> dict:
    body: dict = {}
    if conditions.channel_refs is not None:
        body["variant_refs"] = list(conditions.channel_refs)
    _put(body, "dow", conditions.days_of_week)
    _put(body, "start_time", conditions.start_time.strftime("%H:%M") if conditions.start_time else None)
    _put(body, "end_time", conditions.end_time.strftime("%H:%M") if conditions.end_time else None)
    _put(body, "start_date", conditions.start_date.isoformat() if conditions.start_date else None)
    _put(body, "end_date", conditions.end_date.isoformat() if conditions.end_date else None)
    if conditions.service_kinds is not None:
        body["service_types"] = list(conditions.service_kinds)
    if conditions.service_type_refs is not None:
        body["service_type_refs"] = list(conditions.service_type_refs)
    return body


def _restrictions(restrictions: desc.Restrictions | None, currency: str) -> dict | None:
    if restrictions is None:
        return None
    body = _conditions(restrictions, currency)
    if not restrictions.enabled:
        body["enabled"] = False
    _put(body, "min_order_amount", _money(restrictions.min_order_amount, currency))
    _put(body, "max_per_order", restrictions.max_per_order)
    _put(body, "max_per_customer", restrictions.max_per_customer)
    return body


def _overrides(rules: tuple[desc.PriceRule, ...], currency: str) -> list[dict]:
    return [{"price": _money(rule.price, currency), **_conditions(rule, currency)} for rule in rules]


def _sku(sku: desc.Sku, currency: str) -> dict:
    # At most one sku of a product may be unnamed: HubRise writes it null.
    body: dict = {"name": sku.name or None, "price": _money(sku.price, currency)}
    _put(body, "ref", sku.ref)
    _put(body, "option_list_refs", sku.option_list_refs)
    _put(body, "tags", sku.tags)
    _put(body, "price_overrides", _overrides(sku.price_rules, currency))
    _put(body, "restrictions", _restrictions(sku.restrictions, currency))
    return body


def _option(option: desc.Option, currency: str) -> dict:
    body: dict = {"name": option.name, "price": _money(option.price, currency)}
    _put(body, "ref", option.ref)
    if option.default:
        body["default"] = True
    _put(body, "tags", option.tags)
    _put(body, "price_overrides", _overrides(option.price_rules, currency))
    _put(body, "restrictions", _restrictions(option.restrictions, currency))
    return body


def _pricing(effect: str, value: Decimal | None, currency: str) -> tuple[str, str | None]:
    if effect == desc.FREE:
        # Not in HubRise's list of effects: a line that costs nothing is a fixed price of zero.
        return desc.FIXED_PRICE, _money(Decimal("0"), currency)
    if effect in (desc.FIXED_PRICE, desc.PRICE_OFF):
        return effect, _money(value, currency)
    if effect == desc.PERCENTAGE_OFF:
        return effect, None if value is None else _decimal(value)
    return effect, None


def _deal(deal: desc.Deal, currency: str) -> dict:
    body: dict = {"name": deal.name}
    _put(body, "ref", deal.ref)
    _put(body, "category_ref", deal.category_ref)
    _put(body, "description", deal.description)
    _put(body, "tags", deal.tags)
    _put(body, "image_ids", deal.image_ids)
    _put(body, "coupon_codes", deal.coupon_codes)
    _put(body, "restrictions", _restrictions(deal.restrictions, currency))
    lines = []
    for line in deal.lines:
        effect, value = _pricing(line.pricing_effect, line.pricing_value, currency)
        skus = []
        for choice in line.skus:
            sku: dict = {"ref": choice.sku_ref}
            _put(sku, "extra_charge", _money(choice.extra_charge, currency))
            skus.append(sku)
        entry: dict = {"skus": skus, "pricing_effect": effect}
        _put(entry, "pricing_value", value)
        _put(entry, "label", line.label)
        lines.append(entry)
    body["lines"] = lines
    return body


def _discount(discount: desc.Discount, currency: str) -> dict:
    effect, value = _pricing(discount.pricing_effect, discount.pricing_value, currency)
    body: dict = {"name": discount.name, "pricing_effect": effect, "pricing_value": value}
    _put(body, "ref", discount.ref)
    _put(body, "description", discount.description)
    _put(body, "image_ids", discount.image_ids)
    _put(body, "coupon_codes", discount.coupon_codes)
    _put(body, "restrictions", _restrictions(discount.restrictions, currency))
    return body


def _charge(charge: desc.Charge, currency: str) -> dict:
    body: dict = {"name": charge.name, "type": charge.kind}
    _put(body, "ref", charge.ref)
    # No price: a charge that varies per order (HubRise answers it as null).
    _put(body, "price", _money(charge.price, currency))
    _put(body, "restrictions", _restrictions(charge.restrictions, currency))
    return body


def catalog_data(menu: desc.Menu, currency: str) -> dict:
    """The ``data`` of a catalog upload: the whole menu, since a PUT replaces everything."""
    categories = []
    for category in menu.categories:
        body: dict = {"ref": category.ref, "name": category.name}
        _put(body, "parent_ref", category.parent_ref)
        _put(body, "description", category.description)
        _put(body, "tags", category.tags)
        _put(body, "image_ids", category.image_ids)
        categories.append(body)
    products = []
    for product in menu.products:
        body = {"category_ref": product.category_ref, "name": product.name, "skus": [_sku(sku, currency) for sku in product.skus]}
        _put(body, "ref", product.ref)
        _put(body, "description", product.description)
        _put(body, "tags", product.tags)
        _put(body, "image_ids", product.image_ids)
        products.append(body)
    option_lists = []
    for option_list in menu.option_lists:
        body = {
            "ref": option_list.ref,
            "name": option_list.name,
            "min_selections": option_list.min_selections,
            "max_selections": option_list.max_selections,
            "options": [_option(option, currency) for option in option_list.options],
        }
        _put(body, "tags", option_list.tags)
        option_lists.append(body)
    return {
        "variants": [{"ref": channel.ref, "name": channel.name} for channel in menu.channels],
        "categories": categories,
        "products": products,
        "option_lists": option_lists,
        "deals": [_deal(deal, currency) for deal in menu.deals],
        "discounts": [_discount(discount, currency) for discount in menu.discounts],
        "charges": [_charge(charge, currency) for charge in menu.charges],
    }
