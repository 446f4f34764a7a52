"""How replace_menu writes a whole menu: match what is stored to what is wanted, then write only the differences in bulk.

Called by menu.services.replace_menu only, inside its transaction and after
the menu was checked (menu.validation) and its row locked.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.db import models

from menu import bulk, stored
from menu import description as desc
from menu.changes import AvailabilityChange, Change, MenuChanges, PriceChange
from menu.models import (
    Category,
    Channel,
    Charge,
    Deal,
    DealLine,
    DealLineSku,
    Discount,
    Menu,
    Option,
    OptionList,
    PaymentMethod,
    Product,
    ServiceType,
    Sku,
    SkuOptionList,
)


@dataclass
class _Want:
    """One object as ``data`` wants it: its key, its columns, and how to name it in the changes."""

    key: Hashable
    values: dict
    label: str
    ref: str


def _sku_label(product_name: str, sku_name: str) -> str:
    return f"{product_name} · {sku_name}" if sku_name else product_name


class Replacement:
    """One replace_menu: loads what is stored (one query per table), then writes only the differences in bulk.

    The number of queries depends on the kinds of objects, not on how many there
    are. Rows whose children may move elsewhere (categories, products) are
    deleted last, once their children have moved; the others first, so that a
    new row never meets the unique name of one on its way out.
    """

    def __init__(self, menu: Menu, changes: MenuChanges, keep_availability: bool) -> None:
        self.menu = menu
        self.changes = changes
        self.keep_availability = keep_availability
        # Ids of the rows the last _sync(delete_first=False) left to delete.
        self.removed_later: list[int] = []

    def run(self, data: desc.Menu) -> None:
        menu = self.menu
        # Read before any row is deleted: deleting a SKU or an option list also deletes its links,
        # and a link that disappears that way is still a change to report.
        self.stored_links = self._stored_links()
        self.stored_deal_lines = self._stored_deal_lines()
        self._sync(
            Channel,
            "channel",
            {row.ref: row for row in Channel.objects.filter(menu=menu)},
            [
                _Want(c.ref, {"menu_id": menu.pk, "position": i, "ref": c.ref, "name": c.name}, c.name, c.ref)
                for i, c in enumerate(data.channels)
            ],
        )
        categories = self._categories(data.categories)
        option_lists = self._option_lists(data.option_lists)
        self._options(data.option_lists, option_lists)
        products, removed_products = self._products(data.products, categories)
        skus = self._skus(data.products, products)
        self._sku_option_lists(data.products, skus, option_lists)
        self._deals(data.deals, categories, skus)
        self._simple_kinds(data)
        Product.objects.filter(pk__in=removed_products).delete()
        removed_categories = [row.pk for ref, row in self.existing_categories.items() if ref not in categories]
        Category.objects.filter(pk__in=removed_categories).delete()

    # -- The generic part: match, compare, write in bulk --

    def _sync(
        self,
        model: type[models.Model],
        kind: str,
        existing: dict[Hashable, models.Model],
        wanted: list[_Want],
        *,
        label_of: Callable[[models.Model], str] = lambda row: row.name,
        delete_first: bool = True,
    ) -> dict[Hashable, models.Model]:
        """Rows of ``model`` made to match ``wanted``; returns them by key. Removed rows are deleted
        here when ``delete_first``, else their ids are left in ``self.removed_later``."""
        current: dict[Hashable, models.Model] = {}
        create, update, update_fields = [], [], set()
        changes = self.changes
        for want in wanted:
            row = existing.get(want.key)
            if row is None:
                row = model(**want.values)
                create.append(row)
                changes.added.append(Change(kind, want.label, want.ref))
                current[want.key] = row
                continue
            current[want.key] = row
            changed = [
                name
                for name, value in want.values.items()
                if getattr(row, name) != value and not (name == "available" and self.keep_availability)
            ]
            if not changed:
                continue
            old_price = getattr(row, "price", None)
            for name in changed:
                setattr(row, name, want.values[name])
            update.append(row)
            update_fields.update(changed)
            if "price" in changed:
                changes.price_changes.append(PriceChange(kind, want.label, want.ref, old_price, want.values["price"]))
            if "available" in changed:
                changes.availability.append(AvailabilityChange(kind, row.pk, want.ref, want.label, want.values["available"]))
            if set(changed) - {"price", "available", "position"}:
                changes.updated.append(Change(kind, want.label, want.ref))
            elif changed == ["position"]:
                changes.reordered += 1
        removed = [row for key, row in existing.items() if key not in current]
        changes.removed.extend(Change(kind, label_of(row), row.ref) for row in removed)
        if delete_first and removed:
            model.objects.filter(pk__in=[row.pk for row in removed]).delete()
        bulk.update(model, update, sorted(update_fields))
        bulk.insert(model, create)
        self.removed_later = [row.pk for row in removed] if not delete_first else []
        return current

    # -- Each kind --

    def _categories(self, categories: tuple[desc.Category, ...]) -> dict[str, Category]:
        self.existing_categories = {row.ref: row for row in Category.objects.filter(menu=self.menu)}
        wanted = [
            _Want(
                c.ref,
                {
                    "menu_id": self.menu.pk,
                    "position": i,
                    "ref": c.ref,
                    "name": c.name,
                    "description": c.description,
                    "tags": list(c.tags),
                    "image_url": c.image_url,
                    "image_ids": list(c.image_ids),
                },
                c.name,
                c.ref,
            )
            for i, c in enumerate(categories)
        ]
        current = self._sync(Category, "category", dict(self.existing_categories), wanted, delete_first=False)
        # Parents once every category has an id: a new category may sit in another new one.
        reparented = []
        for category in categories:
            row = current[category.ref]
            parent_id = current[category.parent_ref].pk if category.parent_ref else None
            if row.parent_id != parent_id:
                if row.ref in self.existing_categories:
                    self._note_updated("category", category.name, category.ref)
                row.parent_id = parent_id
                reparented.append(row)
        bulk.update(Category, reparented, ["parent"])
        return current

    def _option_lists(self, option_lists: tuple[desc.OptionList, ...]) -> dict[str, OptionList]:
        existing = {row.ref: row for row in OptionList.objects.filter(menu=self.menu)}
        wanted = [
            _Want(
                o.ref,
                {
                    "menu_id": self.menu.pk,
                    "position": i,
                    "ref": o.ref,
                    "name": o.name,
                    "min_selections": o.min_selections,
                    "max_selections": o.max_selections,
                    "tags": list(o.tags),
                },
                o.name,
                o.ref,
            )
            for i, o in enumerate(option_lists)
        ]
        self.existing_option_list_refs = {row.pk: row.ref for row in existing.values()}
        return self._sync(OptionList, "option_list", existing, wanted)

    def _options(self, option_lists: tuple[desc.OptionList, ...], lists: dict[str, OptionList]) -> None:
        list_refs = self.existing_option_list_refs
        list_names = {row.pk: row.name for row in lists.values()}
        existing = {}
        for row in Option.objects.filter(menu=self.menu):
            existing[_option_key(list_refs.get(row.option_list_id, ""), row.ref, row.name)] = row
        wanted = []
        for option_list in option_lists:
            list_row = lists[option_list.ref]
            for i, o in enumerate(option_list.options):
                wanted.append(
                    _Want(
                        _option_key(option_list.ref, o.ref, o.name),
                        {
                            "menu_id": self.menu.pk,
                            "option_list_id": list_row.pk,
                            "position": i,
                            "ref": o.ref,
                            "name": o.name,
                            "price": o.price,
                            "is_default": o.default,
                            "tags": list(o.tags),
                            "price_rules": stored.price_rules_json(o.price_rules),
                            "restrictions": stored.restrictions_json(o.restrictions),
                            "available": o.available,
                        },
                        f"{option_list.name} · {o.name}",
                        o.ref,
                    )
                )
        self._sync(
            Option,
            "option",
            existing,
            wanted,
            label_of=lambda row: f"{list_names.get(row.option_list_id, '')} · {row.name}",
        )

    def _products(self, products: tuple[desc.Product, ...], categories: dict[str, Category]) -> tuple[dict, list[int]]:
        category_refs = {row.pk: row.ref for row in self.existing_categories.values()}
        existing = {}
        self.existing_product_keys = {}
        for row in Product.objects.filter(menu=self.menu):
            key = _product_key(row.ref, category_refs.get(row.category_id, ""), row.name)
            existing[key] = row
            self.existing_product_keys[row.pk] = key
        self.existing_product_names = {row.pk: row.name for row in existing.values()}
        wanted = [
            _Want(
                _product_key(p.ref, p.category_ref, p.name),
                {
                    "menu_id": self.menu.pk,
                    "category_id": categories[p.category_ref].pk,
                    "position": i,
                    "ref": p.ref,
                    "name": p.name,
                    "description": p.description,
                    "tags": list(p.tags),
                    "image_url": p.image_url,
                    "image_ids": list(p.image_ids),
                    "tax_rate": p.tax_rate,
                },
                p.name,
                p.ref,
            )
            for i, p in enumerate(products)
        ]
        current = self._sync(Product, "product", existing, wanted, delete_first=False)
        return current, self.removed_later

    def _skus(self, products: tuple[desc.Product, ...], product_rows: dict) -> dict[Hashable, Sku]:
        product_keys, product_names = self.existing_product_keys, self.existing_product_names
        existing = {}
        for row in Sku.objects.filter(menu=self.menu):
            existing[_sku_key(row.ref, product_keys.get(row.product_id), row.name)] = row
        self.existing_sku_ids = {row.pk for row in existing.values()}
        wanted = []
        for product in products:
            product_key = _product_key(product.ref, product.category_ref, product.name)
            product_id = product_rows[product_key].pk
            for i, s in enumerate(product.skus):
                wanted.append(
                    _Want(
                        _sku_key(s.ref, product_key, s.name),
                        {
                            "menu_id": self.menu.pk,
                            "product_id": product_id,
                            "position": i,
                            "ref": s.ref,
                            "name": s.name,
                            "price": s.price,
                            "tags": list(s.tags),
                            "price_rules": stored.price_rules_json(s.price_rules),
                            "restrictions": stored.restrictions_json(s.restrictions),
                            "available": s.available,
                        },
                        _sku_label(product.name, s.name),
                        s.ref,
                    )
                )
        return self._sync(
            Sku, "sku", existing, wanted, label_of=lambda row: _sku_label(product_names.get(row.product_id, ""), row.name)
        )

    def _stored_links(self) -> dict[int, list[int]]:
        existing: dict[int, list[int]] = {}
        for sku_id, list_id in (
            SkuOptionList.objects.filter(sku__menu=self.menu)
            .order_by("sku_id", "position", "id")
            .values_list("sku_id", "option_list_id")
        ):
            existing.setdefault(sku_id, []).append(list_id)
        return existing

    def _stored_deal_lines(self) -> dict[int, list]:
        line_skus: dict[int, list] = {}
        for line_id, sku_id, extra in (
            DealLineSku.objects.filter(line__deal__menu=self.menu)
            .order_by("line_id", "position", "id")
            .values_list("line_id", "sku_id", "extra_charge")
        ):
            line_skus.setdefault(line_id, []).append((sku_id, extra))
        lines: dict[int, list] = {}
        for line in DealLine.objects.filter(deal__menu=self.menu).order_by("deal_id", "position", "id"):
            lines.setdefault(line.deal_id, []).append(
                (line.label, line.pricing_effect, line.pricing_value, tuple(line_skus.get(line.pk, ())))
            )
        return lines

    def _sku_option_lists(self, products: tuple[desc.Product, ...], skus: dict, lists: dict[str, OptionList]) -> None:
        existing = self.stored_links
        relink, links = [], []
        for product in products:
            product_key = _product_key(product.ref, product.category_ref, product.name)
            for s in product.skus:
                row = skus[_sku_key(s.ref, product_key, s.name)]
                wanted = [lists[ref].pk for ref in s.option_list_refs]
                if existing.get(row.pk, []) == wanted:
                    continue
                if row.pk in self.existing_sku_ids:
                    relink.append(row.pk)
                    self._note_updated("sku", _sku_label(product.name, s.name), s.ref)
                links.extend([row.pk, list_id, i] for i, list_id in enumerate(wanted))
        if relink:
            SkuOptionList.objects.filter(sku_id__in=relink).delete()
        bulk.insert_values(SkuOptionList, ["sku_id", "option_list_id", "position"], links)

    def _deals(self, deals: tuple[desc.Deal, ...], categories: dict[str, Category], skus: dict) -> None:
        existing = {_ref_or_name_key(row.ref, row.name): row for row in Deal.objects.filter(menu=self.menu)}
        existing_ids = {row.pk for row in existing.values()}
        wanted = [
            _Want(
                _ref_or_name_key(d.ref, d.name),
                {
                    "menu_id": self.menu.pk,
                    "position": i,
                    "ref": d.ref,
                    "name": d.name,
                    "category_id": categories[d.category_ref].pk if d.category_ref else None,
                    "description": d.description,
                    "tags": list(d.tags),
                    "image_url": d.image_url,
                    "image_ids": list(d.image_ids),
                    "coupon_codes": list(d.coupon_codes),
                    "restrictions": stored.restrictions_json(d.restrictions),
                },
                d.name,
                d.ref,
            )
            for i, d in enumerate(deals)
        ]
        current = self._sync(Deal, "deal", existing, wanted)
        stored_lines = self.stored_deal_lines
        sku_ids = {key[1]: row.pk for key, row in skus.items() if key[0] == "ref"}
        rebuild, new_lines = [], []
        for deal in deals:
            row = current[_ref_or_name_key(deal.ref, deal.name)]
            wanted_lines = [
                (
                    line.label,
                    line.pricing_effect,
                    line.pricing_value,
                    tuple((sku_ids[choice.sku_ref], choice.extra_charge) for choice in line.skus),
                )
                for line in deal.lines
            ]
            if stored_lines.get(row.pk, []) == wanted_lines:
                continue
            if row.pk in existing_ids:
                rebuild.append(row.pk)
                self._note_updated("deal", deal.name, deal.ref)
            new_lines.extend((row.pk, i, line) for i, line in enumerate(wanted_lines))
        if rebuild:
            DealLine.objects.filter(deal_id__in=rebuild).delete()
        lines = [
            DealLine(deal_id=deal_id, position=i, label=label, pricing_effect=effect, pricing_value=value)
            for deal_id, i, (label, effect, value, _choices) in new_lines
        ]
        bulk.insert(DealLine, lines)
        bulk.insert_values(
            DealLineSku,
            ["line_id", "sku_id", "extra_charge", "position"],
            [
                [line.pk, sku_id, extra, position]
                for line, (_deal_id, _i, (*_line, choices)) in zip(lines, new_lines, strict=True)
                for position, (sku_id, extra) in enumerate(choices)
            ],
        )

    def _simple_kinds(self, data: desc.Menu) -> None:
        menu = self.menu

        def by_key(model: type[models.Model]) -> dict:
            return {_ref_or_name_key(row.ref, row.name): row for row in model.objects.filter(menu=menu)}

        self._sync(
            Discount,
            "discount",
            by_key(Discount),
            [
                _Want(
                    _ref_or_name_key(d.ref, d.name),
                    {
                        "menu_id": menu.pk,
                        "position": i,
                        "ref": d.ref,
                        "name": d.name,
                        "description": d.description,
                        "pricing_effect": d.pricing_effect,
                        "pricing_value": d.pricing_value,
                        "image_url": d.image_url,
                        "image_ids": list(d.image_ids),
                        "coupon_codes": list(d.coupon_codes),
                        "restrictions": stored.restrictions_json(d.restrictions),
                    },
                    d.name,
                    d.ref,
                )
                for i, d in enumerate(data.discounts)
            ],
        )
        self._sync(
            Charge,
            "charge",
            by_key(Charge),
            [
                _Want(
                    _ref_or_name_key(c.ref, c.name),
                    {
                        "menu_id": menu.pk,
                        "position": i,
                        "ref": c.ref,
                        "name": c.name,
                        "kind": c.kind,
                        "price": c.price,
                        "restrictions": stored.restrictions_json(c.restrictions),
                    },
                    c.name,
                    c.ref,
                )
                for i, c in enumerate(data.charges)
            ],
        )
        self._sync(
            ServiceType,
            "service_type",
            by_key(ServiceType),
            [
                _Want(
                    _ref_or_name_key(s.ref, s.name),
                    {"menu_id": menu.pk, "position": i, "ref": s.ref, "name": s.name, "kind": s.kind},
                    s.name,
                    s.ref,
                )
                for i, s in enumerate(data.service_types)
            ],
        )
        self._sync(
            PaymentMethod,
            "payment_method",
            by_key(PaymentMethod),
            [
                _Want(
                    _ref_or_name_key(p.ref, p.name),
                    {"menu_id": menu.pk, "position": i, "ref": p.ref, "name": p.name},
                    p.name,
                    p.ref,
                )
                for i, p in enumerate(data.payment_methods)
            ],
        )

    def _note_updated(self, kind: str, label: str, ref: str) -> None:
        change = Change(kind, label, ref)
        if change not in self.changes.updated and change not in self.changes.added:
            self.changes.updated.append(change)


def _ref_or_name_key(ref: str, name: str) -> tuple:
    return ("ref", ref) if ref else ("name", name)


def _product_key(ref: str, category_ref: str, name: str) -> tuple:
    return ("ref", ref) if ref else ("name", category_ref, name)


def _sku_key(ref: str, product_key: Hashable, name: str) -> tuple:
    return ("ref", ref) if ref else ("name", product_key, name)


def _option_key(list_ref: str, ref: str, name: str) -> tuple:
    return (list_ref, "ref", ref) if ref else (list_ref, "name", name)
