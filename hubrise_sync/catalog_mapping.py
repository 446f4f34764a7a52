"""A HubRise catalog, as ``GET /catalogs/:id`` answers it, in the menu's vocabulary (menu.description).

A read links objects by HubRise ids (``category_id``, ``parent_id``,
``option_list_ids``, deal line skus ``{id, ref}``), which HubRise draws again at
every PUT: they are turned into ref codes within this one read, and the menu is
keyed on refs only (docs/hubrise/catalog.md). Where a read also carries the
upload's ref links, they are taken as well.

Everything that cannot be read faithfully is gathered, with the JSON path of the
field, and the catalog is refused as a whole (``CatalogRefused``): money that is
not a Money string in the establishment's currency, a field of the wrong JSON
type, a link to an option list or a category the catalog does not hold.
What the menu itself refuses (duplicate refs, an unknown charge type…) is
``menu.validation``'s to say, when the mapped menu reaches ``replace_menu``.
"""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from menu import description as desc

MONEY = re.compile(r"^(\d{1,10}\.\d{2}) ([A-Z]{3})$")
DECIMAL = re.compile(r"^\d{1,10}(\.\d{1,6})?$")
HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
YYYY_MM_DD = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DOW = re.compile(r"^[1-7-]{7}$")
# A menu page cannot usefully show more; the first ones are those to fix first.
MAX_PROBLEMS = 50


class CatalogRefused(Exception):
    """The catalog cannot be imported as it is; ``messages`` says why, one per problem."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("\n".join(messages))


class _Reader:
    """Typed reads of JSON values that note a problem, and give a harmless value, when the type is wrong."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{path} : {message}")

    def obj(self, value: Any, path: str) -> dict:
        if isinstance(value, dict):
            return value
        self.problem(path, _("should be an object"))
        return {}

    def items(self, parent: dict, key: str, path: str, *, required: bool = False) -> list:
        value = parent.get(key)
        if value is None:
            if required:
                self.problem(f"{path}.{key}", _("is missing"))
            return []
        if isinstance(value, list):
            return value
        self.problem(f"{path}.{key}", _("should be a list"))
        return []

    def text(self, parent: dict, key: str, path: str, *, required: bool = False) -> str:
        value = parent.get(key)
        if value is None:
            if required:
                self.problem(f"{path}.{key}", _("is missing"))
            return ""
        if isinstance(value, str):
            return value
        self.problem(f"{path}.{key}", _("should be text"))
        return ""

    def strings(self, parent: dict, key: str, path: str) -> tuple[str, ...]:
        values = self.items(parent, key, path)
        if all(isinstance(value, str) for value in values):
            return tuple(values)
        self.problem(f"{path}.{key}", _("should be a list of texts"))
        return ()

    def money(self, parent: dict, key: str, path: str, *, required: bool = False) -> Decimal | None:
        value = parent.get(key)
        if value is None:
            if required:
                self.problem(f"{path}.{key}", _("is missing"))
            return None
        match = MONEY.match(value) if isinstance(value, str) else None
        if match is None:
            self.problem(
                f"{path}.{key}",
                _("%(value)s is not an amount written like “9.50 %(currency)s”")
                % {"value": _shown(value), "currency": self.currency},
            )
            return None
        if match.group(2) != self.currency:
            self.problem(
                f"{path}.{key}",
                _("%(value)s is not in %(currency)s, the establishment's currency")
                % {"value": _shown(value), "currency": self.currency},
            )
            return None
        return Decimal(match.group(1))

    def integer(self, parent: dict, key: str, path: str) -> int | None:
        value = parent.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.problem(f"{path}.{key}", _("should be a whole number"))
        return None

    def boolean(self, parent: dict, key: str, path: str, default: bool) -> bool:
        value = parent.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        self.problem(f"{path}.{key}", _("should be true or false"))
        return default

    def pattern(self, parent: dict, key: str, path: str, regex: re.Pattern, example: str) -> str | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, str) and regex.match(value):
            return value
        self.problem(
            f"{path}.{key}", _("%(value)s is not written like “%(example)s”") % {"value": _shown(value), "example": example}
        )
        return None


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"“{value}”"
    return text[:60]


class _CatalogReader(_Reader):
    def __init__(self, currency: str) -> None:
        super().__init__(currency)
        self.category_refs: dict[str, str] = {}
        self.option_list_refs: dict[str, str] = {}
        self.sku_refs: dict[str, str] = {}

    # --- Conditions shared by restrictions and price overrides -----------------------

    def _conditions(self, data: dict, path: str) -> dict:
        start_time = self.pattern(data, "start_time", path, HH_MM, "11:30")
        end_time = self.pattern(data, "end_time", path, HH_MM, "14:30")
        start_date = self.pattern(data, "start_date", path, YYYY_MM_DD, "2026-12-24")
        end_date = self.pattern(data, "end_date", path, YYYY_MM_DD, "2026-12-31")
        variant_refs = self.strings(data, "variant_refs", path) if data.get("variant_refs") is not None else None
        kinds = self.strings(data, "service_types", path) if data.get("service_types") is not None else None
        type_refs = self.strings(data, "service_type_refs", path) if data.get("service_type_refs") is not None else None
        return {
            "channel_refs": variant_refs,
            "days_of_week": self.pattern(data, "dow", path, DOW, "12345--"),
            "start_time": time.fromisoformat(start_time) if start_time else None,
            "end_time": time.fromisoformat(end_time) if end_time else None,
            "start_date": _date(start_date),
            "end_date": _date(end_date),
            "service_kinds": kinds,
            "service_type_refs": type_refs,
        }

    def restrictions(self, parent: dict, path: str) -> desc.Restrictions | None:
        if parent.get("restrictions") is None:
            return None
        path = f"{path}.restrictions"
        data = self.obj(parent["restrictions"], path)
        return desc.Restrictions(
            **self._conditions(data, path),
            enabled=self.boolean(data, "enabled", path, True),
            min_order_amount=self.money(data, "min_order_amount", path),
            max_per_order=self.integer(data, "max_per_order", path),
            max_per_customer=self.integer(data, "max_per_customer", path),
        )

    def price_rules(self, parent: dict, path: str) -> tuple[desc.PriceRule, ...]:
        rules = []
        for index, value in enumerate(self.items(parent, "price_overrides", path)):
            where = f"{path}.price_overrides[{index}]"
            data = self.obj(value, where)
            price = self.money(data, "price", where, required=True)
            rules.append(desc.PriceRule(**self._conditions(data, where), price=price or Decimal("0")))
        return tuple(rules)

    # --- The parts of a catalog ---------------------------------------------------------

    def channel(self, value: Any, path: str) -> desc.Channel:
        data = self.obj(value, path)
        return desc.Channel(ref=self.text(data, "ref", path, required=True), name=self.text(data, "name", path, required=True))

    def categories(self, values: list, path: str) -> tuple[desc.Category, ...]:
        rows = [self.obj(value, f"{path}[{index}]") for index, value in enumerate(values)]
        for row in rows:
            if isinstance(row.get("id"), str) and isinstance(row.get("ref"), str):
                self.category_refs[row["id"]] = row["ref"]
        categories = []
        for index, row in enumerate(rows):
            where = f"{path}[{index}]"
            parent_ref = self.text(row, "parent_ref", where)
            if not parent_ref and row.get("parent_id") is not None:
                parent_ref = self._linked(self.category_refs, row["parent_id"], f"{where}.parent_id", _("category"))
            categories.append(
                desc.Category(
                    ref=self.text(row, "ref", where, required=True),
                    name=self.text(row, "name", where, required=True),
                    parent_ref=parent_ref,
                    description=self.text(row, "description", where),
                    tags=self.strings(row, "tags", where),
                    image_ids=self.strings(row, "image_ids", where),
                )
            )
        return tuple(categories)

    def _linked(self, refs: dict[str, str], value: Any, path: str, kind: str) -> str:
        if isinstance(value, str) and value in refs:
            return refs[value]
        self.problem(path, _("the %(kind)s %(id)s is not in the catalog") % {"kind": kind, "id": _shown(value)})
        return ""

    def option_lists(self, values: list, path: str) -> tuple[desc.OptionList, ...]:
        option_lists = []
        for index, value in enumerate(values):
            where = f"{path}[{index}]"
            data = self.obj(value, where)
            ref = self.text(data, "ref", where, required=True)
            if isinstance(data.get("id"), str):
                self.option_list_refs[data["id"]] = ref
            # The deprecated "type" still says single or multiple when the counts are absent.
            single = data.get("type") == "single"
            low = self.integer(data, "min_selections", where)
            high = self.integer(data, "max_selections", where) if "max_selections" in data else (1 if single else None)
            options = tuple(
                self.option(option, f"{where}.options[{position}]")
                for position, option in enumerate(self.items(data, "options", where, required=True))
            )
            option_lists.append(
                desc.OptionList(
                    ref=ref,
                    name=self.text(data, "name", where, required=True),
                    options=options,
                    min_selections=(1 if single else 0) if low is None else low,
                    max_selections=high,
                    tags=self.strings(data, "tags", where),
                )
            )
        return tuple(option_lists)

    def option(self, value: Any, path: str) -> desc.Option:
        data = self.obj(value, path)
        # A free option may come without price (HubRise's own create example omits it).
        price = self.money(data, "price", path)
        return desc.Option(
            name=self.text(data, "name", path, required=True),
            price=Decimal("0.00") if price is None else price,
            ref=self.text(data, "ref", path),
            default=self.boolean(data, "default", path, False),
            tags=self.strings(data, "tags", path),
            price_rules=self.price_rules(data, path),
            restrictions=self.restrictions(data, path),
        )

    def products(self, values: list, path: str) -> tuple[desc.Product, ...]:
        products = []
        for index, value in enumerate(values):
            where = f"{path}[{index}]"
            data = self.obj(value, where)
            category_ref = self.text(data, "category_ref", where)
            if not category_ref:
                category_ref = self._linked(self.category_refs, data.get("category_id"), f"{where}.category_id", _("category"))
            skus = tuple(
                self.sku(sku, f"{where}.skus[{position}]")
                for position, sku in enumerate(self.items(data, "skus", where, required=True))
            )
            products.append(
                desc.Product(
                    name=self.text(data, "name", where, required=True),
                    category_ref=category_ref,
                    skus=skus,
                    ref=self.text(data, "ref", where),
                    description=self.text(data, "description", where),
                    tags=self.strings(data, "tags", where),
                    image_ids=self.strings(data, "image_ids", where),
                )
            )
        return tuple(products)

    def sku(self, value: Any, path: str) -> desc.Sku:
        data = self.obj(value, path)
        ref = self.text(data, "ref", path)
        if ref and isinstance(data.get("id"), str):
            self.sku_refs[data["id"]] = ref
        if data.get("option_list_refs") is not None:
            list_refs = self.strings(data, "option_list_refs", path)
        else:
            list_refs = tuple(
                self._linked(self.option_list_refs, list_id, f"{path}.option_list_ids[{position}]", _("option list"))
                for position, list_id in enumerate(self.items(data, "option_list_ids", path))
            )
        price = self.money(data, "price", path, required=True)
        return desc.Sku(
            price=Decimal("0") if price is None else price,
            name=self.text(data, "name", path),
            ref=ref,
            option_list_refs=list_refs,
            tags=self.strings(data, "tags", path),
            price_rules=self.price_rules(data, path),
            restrictions=self.restrictions(data, path),
        )

    def _pricing_value(self, data: dict, path: str, effect: str) -> Decimal | None:
        if effect in (desc.FIXED_PRICE, desc.PRICE_OFF):
            return self.money(data, "pricing_value", path, required=True)
        if effect == desc.PERCENTAGE_OFF:
            value = self.pattern(data, "pricing_value", path, DECIMAL, "10")
            if value is None and data.get("pricing_value") is None:
                self.problem(f"{path}.pricing_value", _("is missing"))
            return None if value is None else Decimal(value)
        return None

    def deals(self, values: list, path: str) -> tuple[desc.Deal, ...]:
        deals = []
        for index, value in enumerate(values):
            where = f"{path}[{index}]"
            data = self.obj(value, where)
            category_ref = self.text(data, "category_ref", where)
            if not category_ref and data.get("category_id") is not None:
                category_ref = self._linked(self.category_refs, data["category_id"], f"{where}.category_id", _("category"))
            lines = tuple(
                self.deal_line(line, f"{where}.lines[{position}]")
                for position, line in enumerate(self.items(data, "lines", where, required=True))
            )
            deals.append(
                desc.Deal(
                    name=self.text(data, "name", where, required=True),
                    lines=lines,
                    ref=self.text(data, "ref", where),
                    category_ref=category_ref,
                    description=self.text(data, "description", where),
                    tags=self.strings(data, "tags", where),
                    image_ids=self.strings(data, "image_ids", where),
                    coupon_codes=self.strings(data, "coupon_codes", where),
                    restrictions=self.restrictions(data, where),
                )
            )
        return tuple(deals)

    def deal_line(self, value: Any, path: str) -> desc.DealLine:
        data = self.obj(value, path)
        effect = self.text(data, "pricing_effect", path, required=True)
        skus = []
        for position, sku in enumerate(self.items(data, "skus", path, required=True)):
            where = f"{path}.skus[{position}]"
            choice = self.obj(sku, where)
            ref = self.text(choice, "ref", where) or self._linked(self.sku_refs, choice.get("id"), f"{where}.id", _("SKU"))
            skus.append(desc.DealSku(sku_ref=ref, extra_charge=self.money(choice, "extra_charge", where)))
        return desc.DealLine(
            skus=tuple(skus),
            pricing_effect=effect,
            pricing_value=self._pricing_value(data, path, effect),
            label=self.text(data, "label", path),
        )

    def discounts(self, values: list, path: str) -> tuple[desc.Discount, ...]:
        discounts = []
        for index, value in enumerate(values):
            where = f"{path}[{index}]"
            data = self.obj(value, where)
            effect = self.text(data, "pricing_effect", where, required=True)
            discounts.append(
                desc.Discount(
                    name=self.text(data, "name", where, required=True),
                    pricing_effect=effect,
                    pricing_value=self._pricing_value(data, where, effect) or Decimal("0"),
                    ref=self.text(data, "ref", where),
                    description=self.text(data, "description", where),
                    image_ids=self.strings(data, "image_ids", where),
                    coupon_codes=self.strings(data, "coupon_codes", where),
                    restrictions=self.restrictions(data, where),
                )
            )
        return tuple(discounts)

    def charges(self, values: list, path: str) -> tuple[desc.Charge, ...]:
        charges = []
        for index, value in enumerate(values):
            where = f"{path}[{index}]"
            data = self.obj(value, where)
            charges.append(
                desc.Charge(
                    name=self.text(data, "name", where, required=True),
                    kind=self.text(data, "type", where, required=True),
                    price=self.money(data, "price", where),
                    ref=self.text(data, "ref", where),
                    restrictions=self.restrictions(data, where),
                )
            )
        return tuple(charges)


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def menu_from_catalog(
    catalog: Any,
    *,
    currency: str,
    service_types: tuple[desc.ServiceType, ...] = (),
    payment_methods: tuple[desc.PaymentMethod, ...] = (),
) -> desc.Menu:
    """The menu a catalog read describes; raises CatalogRefused listing every field that cannot be read.

    Service types and payment methods have no place in a HubRise catalog: the
    establishment's own (``service_types``, ``payment_methods``) are kept.
    """
    reader = _CatalogReader(currency)
    body = reader.obj(catalog, "catalog")
    data = body.get("data")
    if not isinstance(data, dict):
        raise CatalogRefused([_("The catalog has no content (no “data”): nothing to import.")])
    # One read example of HubRise's docs spells it "options_lists"; uploads say "option_lists".
    lists_key = "option_lists" if "option_lists" in data or "options_lists" not in data else "options_lists"
    channels = tuple(
        reader.channel(value, f"data.variants[{index}]") for index, value in enumerate(reader.items(data, "variants", "data"))
    )
    categories = reader.categories(reader.items(data, "categories", "data"), "data.categories")
    option_lists = reader.option_lists(reader.items(data, lists_key, "data"), f"data.{lists_key}")
    products = reader.products(reader.items(data, "products", "data"), "data.products")
    menu = desc.Menu(
        channels=channels,
        categories=categories,
        option_lists=option_lists,
        products=products,
        deals=reader.deals(reader.items(data, "deals", "data"), "data.deals"),
        discounts=reader.discounts(reader.items(data, "discounts", "data"), "data.discounts"),
        charges=reader.charges(reader.items(data, "charges", "data"), "data.charges"),
        service_types=service_types,
        payment_methods=payment_methods,
    )
    if reader.problems:
        raise CatalogRefused(reader.problems)
    return menu
