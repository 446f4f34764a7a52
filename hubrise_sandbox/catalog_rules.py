"""Catalog rules: validation of an uploaded catalog (create or PUT).

Upload links objects by refs (``category_ref``, ``option_list_refs``, deal line sku refs);
retrieval answers with HubRise ids (``catalog_view``). The stored form is the upload with an
``id`` added to every object. Ids are drawn again at every PUT, as HubRise clears and recreates
the content: a client must key on refs.

Refs that must be unique (HubRise says so): category, option list and variant refs. Sku, option,
deal, discount and charge refs are optional and may repeat: HubRise states no rule, and a client
importing a catalog must cope with whatever HubRise holds.
These functions are pure.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import Errors
from .formats import FormatError, new_id, parse_decimal, parse_money

DATA_KEYS = ("variants", "categories", "products", "option_lists", "deals", "discounts", "charges")
PRICING_EFFECTS = ("unchanged", "fixed_price", "price_off", "percentage_off")
DISCOUNT_EFFECTS = ("price_off", "percentage_off")
CHARGE_TYPES = ("delivery", "payment_fee", "tip", "tax", "other")
SERVICE_TYPES = ("delivery", "collection", "eat_in")
NAME_MAX = 255

VARIANT_FIELDS = {"ref", "name"}
CATEGORY_FIELDS = {"ref", "parent_ref", "name", "description", "tags", "image_ids"}
PRODUCT_FIELDS = {"ref", "category_ref", "name", "description", "tags", "image_ids", "skus"}
SKU_FIELDS = {"ref", "name", "price", "price_overrides", "restrictions", "option_list_refs", "tags"}
OPTION_LIST_FIELDS = {"ref", "name", "min_selections", "max_selections", "type", "tags", "options"}
OPTION_FIELDS = {"ref", "name", "price", "price_overrides", "restrictions", "default", "tags"}
DEAL_FIELDS = {"ref", "category_ref", "name", "description", "restrictions", "coupon_codes", "tags", "image_ids", "lines"}
DEAL_LINE_FIELDS = {"skus", "pricing_effect", "pricing_value", "label"}
DEAL_SKU_FIELDS = {"ref", "extra_charge"}
DISCOUNT_FIELDS = {"ref", "name", "description", "restrictions", "coupon_codes", "pricing_effect", "pricing_value", "image_ids"}
CHARGE_FIELDS = {"ref", "name", "type", "price"}
RESTRICTION_FIELDS = {
    "enabled",
    "variant_refs",
    "dow",
    "start_time",
    "end_time",
    "start_date",
    "end_date",
    "service_types",
    "service_type_refs",
    "min_order_amount",
    "max_per_order",
    "max_per_customer",
}
OVERRIDE_CONDITIONS = (
    "variant_refs",
    "dow",
    "start_time",
    "end_time",
    "start_date",
    "end_date",
    "service_types",
    "service_type_refs",
)
_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_DOW = re.compile(r"^[1-][2-][3-][4-][5-][6-][7-]$")


class _Checker:
    """Walks one upload, collecting every problem with its field path (``products[2].skus[0].price``)."""

    def __init__(self, currency: str, image_ids: set[str]) -> None:
        self.currency = currency
        self.image_ids = image_ids
        self.errors = Errors()

    def add(self, path: str, message: str) -> None:
        self.errors.add(path, message)

    def obj(self, value: Any, path: str, allowed: set[str]) -> dict | None:
        if not isinstance(value, dict):
            self.add(path, "must be an object")
            return None
        for key in value:
            if key not in allowed:
                self.add(f"{path}.{key}", "is not a known field")
        return value

    def array(self, data: dict, key: str, path: str, required: bool = False) -> list:
        value = data.get(key)
        if value is None:
            if required:
                self.add(path, "is required")
            return []
        if not isinstance(value, list):
            self.add(path, "must be an array")
            return []
        return value

    def string(self, data: dict, key: str, path: str, required: bool = False) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.add(path, "is required")
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.add(path, "must be a non-empty string" if required else "must be a string")
            return None
        if len(value) > NAME_MAX and key in ("ref", "name"):
            self.add(path, f"is too long (maximum is {NAME_MAX} characters)")
        return value

    def strings(self, data: dict, key: str, path: str) -> list[str]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.add(path, "must be an array of strings")
            return []
        return value

    def money(self, data: dict, key: str, path: str, required: bool = False) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.add(path, "is required")
            return None
        try:
            parse_money(value, self.currency)
        except FormatError as error:
            self.add(path, str(error))
            return None
        return value

    def integer(self, data: dict, key: str, path: str, minimum: int = 0) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        # bool is an int in Python, not an integer in JSON.
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"{value!r} is not an integer")
            return None
        if value < minimum:
            self.add(path, f"must be at least {minimum}")
            return None
        return value

    def percentage(self, value: Any, path: str) -> None:
        try:
            number = parse_decimal(value)
        except FormatError as error:
            self.add(path, str(error))
            return
        if not 0 <= number <= 100:
            self.add(path, f'{value!r} must be between "0" and "100"')

    def images(self, data: dict, path: str) -> list[str]:
        image_ids = self.strings(data, "image_ids", path)
        for index, image_id in enumerate(image_ids):
            if image_id not in self.image_ids:
                self.add(f"{path}[{index}]", f"{image_id!r} is not an image of this catalog")
        return image_ids


def check_upload(
    payload: Any, currency: str, *, creating: bool, image_ids: set[str] = frozenset()
) -> tuple[str | None, dict | None]:
    """Validates a create or PUT body; returns (name, stored data with fresh ids, or None when no
    ``data`` was sent) or raises ValidationFailed listing every problem."""
    checker = _Checker(currency, set(image_ids))
    if not isinstance(payload, dict):
        checker.add("base", "the body must be a JSON object")
        checker.errors.raise_if_any()
    for key in payload:
        if key not in ("name", "data"):
            checker.add(key, "is not a known field")
    name = checker.string(payload, "name", "name", required=creating)
    data = None
    if "data" in payload:
        raw = payload["data"]
        if raw is None:
            raw = {}
        if checker.obj(raw, "data", set(DATA_KEYS)) is not None:
            data = _check_data(checker, raw)
    checker.errors.raise_if_any()
    return name, data


def _check_data(c: _Checker, raw: dict) -> dict:
    variants = [_variant(c, v, f"data.variants[{i}]") for i, v in enumerate(c.array(raw, "variants", "data.variants"))]
    variant_refs = _unique_refs(c, variants, "data.variants")
    categories = [_category(c, v, f"data.categories[{i}]") for i, v in enumerate(c.array(raw, "categories", "data.categories"))]
    category_refs = _unique_refs(c, categories, "data.categories")
    _check_category_tree(c, categories, category_refs)
    option_lists = [
        _option_list(c, v, f"data.option_lists[{i}]", variant_refs)
        for i, v in enumerate(c.array(raw, "option_lists", "data.option_lists"))
    ]
    option_list_refs = _unique_refs(c, option_lists, "data.option_lists")
    products = [
        _product(c, v, f"data.products[{i}]", category_refs, option_list_refs, variant_refs)
        for i, v in enumerate(c.array(raw, "products", "data.products"))
    ]
    sku_refs = {sku["ref"] for product in products for sku in product.get("skus", []) if sku.get("ref")}
    deals = [
        _deal(c, v, f"data.deals[{i}]", category_refs, sku_refs, variant_refs)
        for i, v in enumerate(c.array(raw, "deals", "data.deals"))
    ]
    discounts = [
        _discount(c, v, f"data.discounts[{i}]", variant_refs) for i, v in enumerate(c.array(raw, "discounts", "data.discounts"))
    ]
    charges = [_charge(c, v, f"data.charges[{i}]", variant_refs) for i, v in enumerate(c.array(raw, "charges", "data.charges"))]
    return {
        "variants": variants,
        "categories": categories,
        "products": products,
        "option_lists": option_lists,
        "deals": deals,
        "discounts": discounts,
        "charges": charges,
    }


def _unique_refs(c: _Checker, elements: list[dict], path: str) -> set[str]:
    seen: set[str] = set()
    for index, element in enumerate(elements):
        ref = element.get("ref")
        if ref is None:
            continue
        if ref in seen:
            c.add(f"{path}[{index}].ref", f"{ref!r} is already used by another element of {path.split('.')[-1]}")
        seen.add(ref)
    return seen


def _variant(c: _Checker, raw: Any, path: str) -> dict:
    if c.obj(raw, path, VARIANT_FIELDS) is None:
        return {}
    return {"id": new_id(), "ref": c.string(raw, "ref", f"{path}.ref", True), "name": c.string(raw, "name", f"{path}.name", True)}


def _category(c: _Checker, raw: Any, path: str) -> dict:
    if c.obj(raw, path, CATEGORY_FIELDS) is None:
        return {}
    return {
        "id": new_id(),
        "ref": c.string(raw, "ref", f"{path}.ref", True),
        "parent_ref": c.string(raw, "parent_ref", f"{path}.parent_ref"),
        "name": c.string(raw, "name", f"{path}.name", True),
        "description": c.string(raw, "description", f"{path}.description"),
        "tags": c.strings(raw, "tags", f"{path}.tags"),
        "image_ids": c.images(raw, f"{path}.image_ids"),
    }


def _check_category_tree(c: _Checker, categories: list[dict], refs: set[str]) -> None:
    parents = {category["ref"]: category.get("parent_ref") for category in categories if category.get("ref")}
    for index, category in enumerate(categories):
        parent = category.get("parent_ref")
        if parent is None:
            continue
        if parent not in refs:
            c.add(f"data.categories[{index}].parent_ref", f"{parent!r} is not the ref of a category of this catalog")
            continue
        seen = {category["ref"]}
        while parent is not None:
            if parent in seen:
                c.add(f"data.categories[{index}].parent_ref", "makes a loop: a category cannot be its own ancestor")
                break
            seen.add(parent)
            parent = parents.get(parent)


def _product(
    c: _Checker, raw: Any, path: str, category_refs: set[str], option_list_refs: set[str], variant_refs: set[str]
) -> dict:
    if c.obj(raw, path, PRODUCT_FIELDS) is None:
        return {}
    category_ref = c.string(raw, "category_ref", f"{path}.category_ref", True)
    if category_ref is not None and category_ref not in category_refs:
        c.add(f"{path}.category_ref", f"{category_ref!r} is not the ref of a category of this catalog")
    raw_skus = c.array(raw, "skus", f"{path}.skus", required=True)
    if "skus" in raw and isinstance(raw["skus"], list) and not raw["skus"]:
        c.add(f"{path}.skus", "a product must contain at least one sku")
    skus = [_sku(c, sku, f"{path}.skus[{i}]", option_list_refs, variant_refs) for i, sku in enumerate(raw_skus)]
    names = [sku.get("name") for sku in skus]
    if names.count(None) > 1:
        c.add(f"{path}.skus", "only one sku of a product may have no name")
    for index, name in enumerate(names):
        if name is not None and names.index(name) != index:
            c.add(f"{path}.skus[{index}].name", f"{name!r} is already the name of another sku of this product")
    return {
        "id": new_id(),
        "ref": c.string(raw, "ref", f"{path}.ref"),
        "category_ref": category_ref,
        "name": c.string(raw, "name", f"{path}.name", True),
        "description": c.string(raw, "description", f"{path}.description"),
        "tags": c.strings(raw, "tags", f"{path}.tags"),
        "image_ids": c.images(raw, f"{path}.image_ids"),
        "skus": skus,
    }


def _sku(c: _Checker, raw: Any, path: str, option_list_refs: set[str], variant_refs: set[str]) -> dict:
    if c.obj(raw, path, SKU_FIELDS) is None:
        return {}
    refs = c.strings(raw, "option_list_refs", f"{path}.option_list_refs")
    for index, ref in enumerate(refs):
        if ref not in option_list_refs:
            c.add(f"{path}.option_list_refs[{index}]", f"{ref!r} is not the ref of an option list of this catalog")
    return {
        "id": new_id(),
        "ref": c.string(raw, "ref", f"{path}.ref"),
        "name": c.string(raw, "name", f"{path}.name"),
        "price": c.money(raw, "price", f"{path}.price", required=True),
        "price_overrides": _price_overrides(c, raw, f"{path}.price_overrides", variant_refs),
        "restrictions": _restrictions(c, raw, f"{path}.restrictions", variant_refs),
        "option_list_refs": refs,
        "tags": c.strings(raw, "tags", f"{path}.tags"),
    }


def _option_list(c: _Checker, raw: Any, path: str, variant_refs: set[str]) -> dict:
    if c.obj(raw, path, OPTION_LIST_FIELDS) is None:
        return {}
    minimum = c.integer(raw, "min_selections", f"{path}.min_selections")
    maximum = c.integer(raw, "max_selections", f"{path}.max_selections")
    kind = raw.get("type")
    if kind is not None:
        # Deprecated, but still mapped by HubRise onto the two bounds.
        if kind == "single":
            minimum, maximum = 1, 1
        elif kind == "multiple":
            minimum, maximum = 0, None
        else:
            c.add(f"{path}.type", f"{kind!r} is not one of single, multiple")
    minimum = minimum or 0
    if maximum is not None and maximum < minimum:
        c.add(f"{path}.max_selections", "must not be less than min_selections")
    raw_options = c.array(raw, "options", f"{path}.options", required=True)
    if "options" in raw and isinstance(raw["options"], list) and not raw["options"]:
        c.add(f"{path}.options", "an option list must contain at least one option")
    options = [_option(c, option, f"{path}.options[{i}]", variant_refs) for i, option in enumerate(raw_options)]
    defaults = sum(1 for option in options if option.get("default"))
    if maximum is not None and defaults > maximum:
        c.add(f"{path}.options", f"{defaults} options are on by default, more than max_selections ({maximum})")
    return {
        "id": new_id(),
        "ref": c.string(raw, "ref", f"{path}.ref", True),
        "name": c.string(raw, "name", f"{path}.name", True),
        "min_selections": minimum,
        "max_selections": maximum,
        "tags": c.strings(raw, "tags", f"{path}.tags"),
        "options": options,
    }


def _option(c: _Checker, raw: Any, path: str, variant_refs: set[str]) -> dict:
    if c.obj(raw, path, OPTION_FIELDS) is None:
        return {}
    default = raw.get("default", False)
    if not isinstance(default, bool):
        c.add(f"{path}.default", "must be a boolean")
        default = False
    return {
        "id": new_id(),
        "ref": c.string(raw, "ref", f"{path}.ref"),
        "name": c.string(raw, "name", f"{path}.name", True),
        # The docs ask for "0.00 EUR" on a free option but their own example omits it: omitted means free.
        "price": c.money(raw, "price", f"{path}.price") or f"0.00 {c.currency}",
        "price_overrides": _price_overrides(c, raw, f"{path}.price_overrides", variant_refs),
        "restrictions": _restrictions(c, raw, f"{path}.restrictions", variant_refs),
        "default": default,
        "tags": c.strings(raw, "tags", f"{path}.tags"),
    }


def _deal(c: _Checker, raw: Any, path: str, category_refs: set[str], sku_refs: set[str], variant_refs: set[str]) -> dict:
    if c.obj(raw, path, DEAL_FIELDS) is None:
        return {}
    category_ref = c.string(raw, "category_ref", f"{path}.category_ref")
    if category_ref is not None and category_ref not in category_refs:
        c.add(f"{path}.category_ref", f"{category_ref!r} is not the ref of a category of this catalog")
    raw_lines = c.array(raw, "lines", f"{path}.lines", required=True)
    if "lines" in raw and isinstance(raw["lines"], list) and not raw["lines"]:
        c.add(f"{path}.lines", "a deal must contain at least one line")
    return {
        "id": new_id(),
        "ref": c.string(raw, "ref", f"{path}.ref"),
        "category_ref": category_ref,
        "name": c.string(raw, "name", f"{path}.name", True),
        "description": c.string(raw, "description", f"{path}.description"),
        "restrictions": _restrictions(c, raw, f"{path}.restrictions", variant_refs),
        "coupon_codes": c.strings(raw, "coupon_codes", f"{path}.coupon_codes"),
        "tags": c.strings(raw, "tags", f"{path}.tags"),
        "image_ids": c.images(raw, f"{path}.image_ids"),
        "lines": [_deal_line(c, line, f"{path}.lines[{i}]", sku_refs) for i, line in enumerate(raw_lines)],
    }


def _deal_line(c: _Checker, raw: Any, path: str, sku_refs: set[str]) -> dict:
    if c.obj(raw, path, DEAL_LINE_FIELDS) is None:
        return {}
    raw_skus = c.array(raw, "skus", f"{path}.skus", required=True)
    if "skus" in raw and isinstance(raw["skus"], list) and not raw["skus"]:
        c.add(f"{path}.skus", "a deal line must contain at least one sku")
    skus = []
    for index, sku in enumerate(raw_skus):
        sku_path = f"{path}.skus[{index}]"
        if c.obj(sku, sku_path, DEAL_SKU_FIELDS) is None:
            continue
        ref = c.string(sku, "ref", f"{sku_path}.ref", True)
        if ref is not None and ref not in sku_refs:
            c.add(f"{sku_path}.ref", f"{ref!r} is not the ref of a sku of this catalog (skus without a ref cannot be in deals)")
        skus.append({"ref": ref, "extra_charge": c.money(sku, "extra_charge", f"{sku_path}.extra_charge")})
    effect = raw.get("pricing_effect")
    value = raw.get("pricing_value")
    if effect is None:
        c.add(f"{path}.pricing_effect", "is required")
    elif effect not in PRICING_EFFECTS:
        c.add(f"{path}.pricing_effect", f"{effect!r} is not one of {', '.join(PRICING_EFFECTS)}")
    else:
        _pricing_value(c, effect, value, f"{path}.pricing_value")
    return {
        "label": c.string(raw, "label", f"{path}.label"),
        "pricing_effect": effect,
        "pricing_value": value,
        "skus": skus,
    }


def _pricing_value(c: _Checker, effect: str, value: Any, path: str) -> None:
    if effect == "unchanged":
        if value is not None:
            c.add(path, "must be null when pricing_effect is unchanged")
    elif value is None:
        c.add(path, f"is required when pricing_effect is {effect}")
    elif effect == "percentage_off":
        c.percentage(value, path)
    else:
        c.money({"value": value}, "value", path)


def _discount(c: _Checker, raw: Any, path: str, variant_refs: set[str]) -> dict:
    if c.obj(raw, path, DISCOUNT_FIELDS) is None:
        return {}
    effect = raw.get("pricing_effect")
    value = raw.get("pricing_value")
    if effect is None:
        c.add(f"{path}.pricing_effect", "is required")
    elif effect not in DISCOUNT_EFFECTS:
        c.add(f"{path}.pricing_effect", f"{effect!r} is not one of {', '.join(DISCOUNT_EFFECTS)}")
    elif value is not None:
        _pricing_value(c, effect, value, f"{path}.pricing_value")
    return {
        "id": new_id(),
        "ref": c.string(raw, "ref", f"{path}.ref"),
        "name": c.string(raw, "name", f"{path}.name", True),
        "description": c.string(raw, "description", f"{path}.description"),
        "restrictions": _restrictions(c, raw, f"{path}.restrictions", variant_refs),
        "coupon_codes": c.strings(raw, "coupon_codes", f"{path}.coupon_codes"),
        "pricing_effect": effect,
        "pricing_value": value,
        "image_ids": c.images(raw, f"{path}.image_ids"),
    }


def _charge(c: _Checker, raw: Any, path: str, variant_refs: set[str]) -> dict:
    if c.obj(raw, path, CHARGE_FIELDS) is None:
        return {}
    kind = raw.get("type")
    if kind is None:
        c.add(f"{path}.type", "is required")
    elif kind not in CHARGE_TYPES:
        c.add(f"{path}.type", f"{kind!r} is not one of {', '.join(CHARGE_TYPES)}")
    return {
        "id": new_id(),
        "ref": c.string(raw, "ref", f"{path}.ref"),
        "name": c.string(raw, "name", f"{path}.name", True),
        "type": kind,
        # Omitted for a variable charge (a tip), returned as null.
        "price": c.money(raw, "price", f"{path}.price"),
    }


def _conditions(c: _Checker, raw: dict, path: str, variant_refs: set[str], *, arrays_may_be_empty: bool) -> dict:
    """The time, day, date and variant conditions shared by restrictions and price overrides."""
    result: dict = {}
    for key in ("variant_refs", "service_types", "service_type_refs"):
        if raw.get(key) is None:
            continue
        values = c.strings(raw, key, f"{path}.{key}")
        if not arrays_may_be_empty and not values and isinstance(raw.get(key), list):
            c.add(f"{path}.{key}", "must be omitted or contain at least one value")
        if len(set(values)) != len(values):
            c.add(f"{path}.{key}", "must not contain duplicates")
        for index, value in enumerate(values):
            if key == "variant_refs" and value not in variant_refs:
                c.add(f"{path}.{key}[{index}]", f"{value!r} is not the ref of a variant of this catalog")
            if key == "service_types" and value not in SERVICE_TYPES:
                c.add(f"{path}.{key}[{index}]", f"{value!r} is not one of {', '.join(SERVICE_TYPES)}")
        result[key] = values
    dow = raw.get("dow")
    if dow is not None:
        if not isinstance(dow, str) or not _DOW.match(dow):
            c.add(f"{path}.dow", f'{dow!r} is not a days-of-week string such as "12345--"')
        result["dow"] = dow
    for key in ("start_time", "end_time"):
        value = raw.get(key)
        if value is not None:
            if not isinstance(value, str) or not _HH_MM.match(value):
                c.add(f"{path}.{key}", f'{value!r} is not a time of day such as "11:30"')
            result[key] = value
    for key in ("start_date", "end_date"):
        value = raw.get(key)
        if value is not None:
            if not isinstance(value, str) or not _DATE.match(value):
                c.add(f"{path}.{key}", f'{value!r} is not a date such as "2026-06-24"')
            result[key] = value
    return result


def _restrictions(c: _Checker, raw: dict, path: str, variant_refs: set[str]) -> dict | None:
    value = raw.get("restrictions")
    if value is None:
        return None
    if c.obj(value, path, RESTRICTION_FIELDS) is None:
        return None
    result = _conditions(c, value, path, variant_refs, arrays_may_be_empty=True)
    enabled = value.get("enabled")
    if enabled is not None:
        if not isinstance(enabled, bool):
            c.add(f"{path}.enabled", "must be a boolean")
        elif enabled is False:
            # HubRise omits enabled when it is true.
            result["enabled"] = False
    amount = c.money(value, "min_order_amount", f"{path}.min_order_amount")
    if amount is not None:
        result["min_order_amount"] = amount
    for key in ("max_per_order", "max_per_customer"):
        number = c.integer(value, key, f"{path}.{key}", minimum=1)
        if number is not None:
            result[key] = number
    return result


def _price_overrides(c: _Checker, raw: dict, path: str, variant_refs: set[str]) -> list[dict]:
    rules = c.array(raw, "price_overrides", path)
    result = []
    for index, rule in enumerate(rules):
        rule_path = f"{path}[{index}]"
        if c.obj(rule, rule_path, {*OVERRIDE_CONDITIONS, "price"}) is None:
            continue
        conditions = _conditions(c, rule, rule_path, variant_refs, arrays_may_be_empty=False)
        if not conditions:
            c.add(rule_path, "needs at least one condition besides its price")
        result.append({**conditions, "price": c.money(rule, "price", f"{rule_path}.price", required=True)})
    return result
