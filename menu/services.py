"""The only writers of the menu: a whole menu replaced, availability, a manager's edits, settings.

Every function runs in one transaction that first locks the establishment's
menu row, so two changes of one menu never interleave, and sends
menu.signals inside that transaction when something changed. The staff pages,
the admin, the demo and any sync with a POS all come through here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from menu import bulk, signals, stored
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
from menu.validation import check_menu
from orders.models import Establishment

# Where a change came from, for the menu's own entry points (signals.py says how a sync uses its own).
SOURCE_STAFF = "staff"
SOURCE_ADMIN = "admin"
SOURCE_DEMO = "demo"


class MenuError(Exception):
    """A change refused for reasons the user can fix; ``messages`` says which, one per problem."""

    def __init__(self, messages: str | list[str]) -> None:
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))


class InvalidMenu(MenuError):
    """A whole menu refused: nothing was written and the previous menu is unchanged."""


def _lock_menu(establishment: Establishment, *, create: bool) -> Menu | None:
    menu = Menu.objects.select_for_update().filter(establishment=establishment).first()
    if menu is not None or not create:
        return menu
    try:
        # The savepoint keeps the transaction usable when another one created the menu first.
        with transaction.atomic():
            return Menu.objects.create(establishment=establishment)
    except IntegrityError:
        return Menu.objects.select_for_update().get(establishment=establishment)


def _announce(menu: Menu, establishment: Establishment, changes: MenuChanges, source: str) -> None:
    if not changes.changed:
        return
    Menu.objects.filter(pk=menu.pk).update(
        version=models.F("version") + 1, changed_at=timezone.now(), changed_by_source=source[:32]
    )
    if changes.content_changed:
        signals.menu_changed.send(sender=Menu, establishment=establishment, source=source, changes=changes)
    if changes.availability:
        signals.availability_changed.send(sender=Menu, establishment=establishment, source=source, items=changes.availability)


# --- A whole menu -------------------------------------------------------------------


def replace_menu(establishment: Establishment, data: desc.Menu, *, source: str, keep_availability: bool = True) -> MenuChanges:
    """Make the establishment's menu exactly ``data``, all or nothing, and say what changed.

    Objects are matched on their ref codes (see description.py for those known
    by name), so ids, and the availability of what stays, survive a re-import.
    With ``keep_availability`` (a catalog carries no stock) the SKUs and options
    already there keep their availability and new ones take ``available`` from
    ``data``; without it ``data``'s flags are applied to all. The same data
    twice changes nothing and sends no signal. A menu with problems raises
    InvalidMenu listing them, and the stored menu stays as it was.
    """
    problems = check_menu(data)
    if problems:
        raise InvalidMenu(problems)
    with transaction.atomic():
        menu = _lock_menu(establishment, create=True)
        changes = MenuChanges()
        _Replacement(menu, changes, keep_availability).run(data)
        _announce(menu, establishment, changes, source)
    return changes


def delete_menu(establishment: Establishment, *, source: str) -> bool:
    """Remove the menu and its settings: the establishment takes orders unchecked again. False if it had none."""
    with transaction.atomic():
        menu = _lock_menu(establishment, create=False)
        if menu is None:
            return False
        changes = MenuChanges(
            removed=[Change("product", product.name, product.ref) for product in Product.objects.filter(menu=menu)]
        )
        menu.delete()
        if changes.removed:
            signals.menu_changed.send(sender=Menu, establishment=establishment, source=source, changes=changes)
    return True


@dataclass
class _Want:
    """One object as ``data`` wants it: its key, its columns, and how to name it in the changes."""

    key: Hashable
    values: dict
    label: str
    ref: str


def _sku_label(product_name: str, sku_name: str) -> str:
    return f"{product_name} · {sku_name}" if sku_name else product_name


class _Replacement:
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

    def run(self, data: desc.Menu) -> None:
        menu = self.menu
        # Read before any row is deleted: deleting a SKU or an option list also deletes its links,
        # and a link that disappears that way is still a change to report.
        self.stored_links = self._stored_links()
        self.stored_deal_lines = self._stored_deal_lines()
        channels = self._sync(
            Channel,
            "channel",
            {row.ref: row for row in Channel.objects.filter(menu=menu)},
            [
                _Want(c.ref, {"menu_id": menu.pk, "position": i, "ref": c.ref, "name": c.name}, c.name, c.ref)
                for i, c in enumerate(data.channels)
            ],
        )
        del channels
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
        existing_parents = {row.pk: row.ref for row in self.existing_categories.values()}
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
                was_new = row.ref not in self.existing_categories
                if not was_new and existing_parents.get(row.parent_id) != category.parent_ref:
                    self.changes.updated.append(Change("category", category.name, category.ref))
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
                links.extend(SkuOptionList(sku_id=row.pk, option_list_id=list_id, position=i) for i, list_id in enumerate(wanted))
        if relink:
            SkuOptionList.objects.filter(sku_id__in=relink).delete()
        bulk.insert(SkuOptionList, links)

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
        bulk.insert(
            DealLineSku,
            [
                DealLineSku(line_id=line.pk, sku_id=sku_id, extra_charge=extra, position=position)
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


# --- Availability ----------------------------------------------------------------------


def set_availability(
    establishment: Establishment,
    *,
    available: bool,
    source: str,
    sku_ids: Iterable[int] = (),
    option_ids: Iterable[int] = (),
    sku_refs: Iterable[str] = (),
    option_refs: Iterable[str] = (),
) -> list[AvailabilityChange]:
    """Mark SKUs and options (by id, or by ref code: every option with that code) available or not.

    Returns those whose availability changed; ids and codes not on the menu, and
    items already so, are left alone. A tap repeated changes nothing the second time.
    """
    sku_match = Q(pk__in=list(sku_ids)) | Q(ref__in=[ref for ref in sku_refs if ref])
    option_match = Q(pk__in=list(option_ids)) | Q(ref__in=[ref for ref in option_refs if ref])
    with transaction.atomic():
        menu = _lock_menu(establishment, create=False)
        if menu is None:
            return []
        skus = list(Sku.objects.filter(sku_match, menu=menu, available=not available).select_related("product"))
        options = list(Option.objects.filter(option_match, menu=menu, available=not available).select_related("option_list"))
        return _flip(menu, establishment, skus, options, available, source)


def replace_availability(
    establishment: Establishment, *, unavailable_sku_refs: Iterable[str], unavailable_option_refs: Iterable[str], source: str
) -> list[AvailabilityChange]:
    """Exactly the SKUs and options with these codes unavailable, everything else available (a whole stock list)."""
    sku_refs = {ref for ref in unavailable_sku_refs if ref}
    option_refs = {ref for ref in unavailable_option_refs if ref}
    with transaction.atomic():
        menu = _lock_menu(establishment, create=False)
        if menu is None:
            return []
        skus = Sku.objects.filter(menu=menu).select_related("product")
        options = Option.objects.filter(menu=menu).select_related("option_list")
        to_close_skus = list(skus.filter(available=True, ref__in=sku_refs))
        to_open_skus = list(skus.filter(available=False).exclude(ref__in=sku_refs))
        to_close_options = list(options.filter(available=True, ref__in=option_refs))
        to_open_options = list(options.filter(available=False).exclude(ref__in=option_refs))
        changes = _flip(menu, establishment, to_close_skus, to_close_options, False, source, announce=False)
        changes += _flip(menu, establishment, to_open_skus, to_open_options, True, source, announce=False)
        _announce(menu, establishment, MenuChanges(availability=changes), source)
        return changes


def _flip(
    menu: Menu,
    establishment: Establishment,
    skus: list[Sku],
    options: list[Option],
    available: bool,
    source: str,
    *,
    announce: bool = True,
) -> list[AvailabilityChange]:
    if skus:
        Sku.objects.filter(pk__in=[sku.pk for sku in skus]).update(available=available)
    if options:
        Option.objects.filter(pk__in=[option.pk for option in options]).update(available=available)
    changes = [AvailabilityChange("sku", sku.pk, sku.ref, sku.label, available) for sku in skus]
    changes += [AvailabilityChange("option", option.pk, option.ref, option.label, available) for option in options]
    if announce:
        _announce(menu, establishment, MenuChanges(availability=changes), source)
    return changes


# --- A manager's edits ---------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """What a manager may edit on one kind of menu object, and what its codes and names must respect."""

    model: type[models.Model]
    # The ref code is required (categories, option lists, channels) rather than optional.
    ref_required: bool = False
    has_price: bool = False
    price_optional: bool = False
    # Rows among which a ref code is unique ("menu", or "option_list" for options).
    ref_scope: str = "menu"
    # Rows among which a name is unique for rows without ref code; None when names may repeat.
    name_scope: str | None = "menu"


KINDS: dict[str, Kind] = {
    "channel": Kind(Channel, ref_required=True, name_scope=None),
    "category": Kind(Category, ref_required=True, name_scope=None),
    "product": Kind(Product, name_scope="category"),
    "sku": Kind(Sku, has_price=True, name_scope=None),
    "option_list": Kind(OptionList, ref_required=True, name_scope=None),
    "option": Kind(Option, has_price=True, ref_scope="option_list", name_scope="option_list"),
    "deal": Kind(Deal),
    "discount": Kind(Discount),
    "charge": Kind(Charge, has_price=True, price_optional=True),
    "service_type": Kind(ServiceType),
    "payment_method": Kind(PaymentMethod),
}


def edit_item(
    establishment: Establishment,
    kind: str,
    item_id: int,
    *,
    source: str,
    name: str | None = None,
    ref: str | None = None,
    price: Decimal | None = None,
    clear_price: bool = False,
) -> MenuChanges:
    """Change the name, ref code or price of one object of the menu (None leaves a field as it is).

    Refuses with MenuError, changing nothing, a code or name the menu already
    uses where it must be unique, an empty required code, a price that is not an
    amount. ``clear_price`` empties a charge's price (a charge that varies).
    """
    spec = KINDS[kind]
    with transaction.atomic():
        menu = _lock_menu(establishment, create=False)
        if menu is None:
            raise spec.model.DoesNotExist
        row = spec.model.objects.select_for_update().get(menu=menu, pk=item_id)
        label_before = _label(kind, row)
        new_name = row.name if name is None else name.strip()
        new_ref = row.ref if ref is None else ref.strip()
        _check_edit(spec, kind, menu, row, new_name, new_ref, price)
        changes = MenuChanges()
        fields = []
        if new_name != row.name or new_ref != row.ref:
            row.name, row.ref = new_name, new_ref
            fields += ["name", "ref"]
            changes.updated.append(Change(kind, _label(kind, row), new_ref))
        if spec.has_price and (price is not None or clear_price):
            new_price = None if clear_price else stored.money(price)
            if new_price != row.price:
                changes.price_changes.append(PriceChange(kind, label_before, new_ref, row.price, new_price))
                row.price = new_price
                fields.append("price")
        if fields:
            row.save(update_fields=fields)
            _announce(menu, establishment, changes, source)
        return changes


def _label(kind: str, row: models.Model) -> str:
    return row.label


def _check_edit(spec: Kind, kind: str, menu: Menu, row: models.Model, name: str, ref: str, price: Decimal | None) -> None:
    problems = []
    if kind == "sku":
        if len(name) > 200:
            problems.append(_("The name is longer than 200 characters."))
    elif not name:
        problems.append(_("The name is missing."))
    elif len(name) > 200:
        problems.append(_("The name is longer than 200 characters."))
    if len(ref) > 100:
        problems.append(_("The ref code is longer than 100 characters."))
    if spec.ref_required and not ref:
        problems.append(_("This kind needs a ref code."))
    others = spec.model.objects.filter(menu=menu).exclude(pk=row.pk)
    scope = {} if spec.ref_scope == "menu" else {spec.ref_scope: getattr(row, spec.ref_scope)}
    if ref and others.filter(ref=ref, **scope).exists():
        problems.append(_("Another one already has the code “%(ref)s”.") % {"ref": ref})
    if spec.name_scope and not ref:
        name_scope = {} if spec.name_scope == "menu" else {spec.name_scope: getattr(row, spec.name_scope)}
        if others.filter(ref="", name=name, **name_scope).exists():
            problems.append(
                _("Another one without code is called “%(name)s”: give this one a code or another name.") % {"name": name}
            )
    if kind == "sku":
        if others.filter(product=row.product, name=name).exists():
            problems.append(_("This product already has a SKU called “%(name)s”.") % {"name": name})
        if not ref and DealLineSku.objects.filter(sku=row).exists():
            problems.append(_("This SKU is part of a deal, which needs its code."))
    if price is not None and (
        not price.is_finite() or price < 0 or price != price.quantize(Decimal("0.01")) or price >= Decimal("1e10")
    ):
        problems.append(_("The price must be an amount from 0 with at most 2 decimals."))
    if problems:
        raise MenuError(problems)


def set_menu_settings(establishment: Establishment, *, accepts_other_prices: bool) -> None:
    with transaction.atomic():
        menu = _lock_menu(establishment, create=False)
        if menu is None:
            raise MenuError(_("This establishment has no menu yet."))
        if menu.accepts_other_prices != accepts_other_prices:
            menu.accepts_other_prices = accepts_other_prices
            menu.save(update_fields=["accepts_other_prices"])


# --- The admin's forms ------------------------------------------------------------------

_KIND_OF_MODEL = {spec.model: kind for kind, spec in KINDS.items()}


def _parent_menu_id(item: models.Model) -> int:
    """The menu of an object, taken from its parent when its form did not carry it (admin inlines)."""
    if isinstance(item, Sku):
        item.menu_id = item.product.menu_id
    elif isinstance(item, Option):
        item.menu_id = item.option_list.menu_id
    elif isinstance(item, SkuOptionList):
        return item.sku.menu_id
    elif isinstance(item, DealLine):
        return item.deal.menu_id
    elif isinstance(item, DealLineSku):
        return item.line.deal.menu_id
    return item.menu_id


def _owner_change(item: models.Model) -> Change:
    """What a link or a deal line changes, as the change of the object it belongs to."""
    if isinstance(item, SkuOptionList):
        return Change("sku", item.sku.label, item.sku.ref)
    deal = item.deal if isinstance(item, DealLine) else item.line.deal
    return Change("deal", deal.name, deal.ref)


def save_item(item: models.Model, *, source: str) -> MenuChanges:
    """Save one object of a menu as an administrator's form left it: validated, then announced like any change.

    The model's own checks apply (codes unique where they must be, relations within
    one menu); a refusal raises django's ValidationError and writes nothing.
    """
    menu_id = _parent_menu_id(item)
    with transaction.atomic():
        menu = Menu.objects.select_for_update().select_related("establishment").get(pk=menu_id)
        before = type(item).objects.filter(pk=item.pk).first() if item.pk else None
        item.full_clean()
        item.save()
        changes = MenuChanges()
        kind = _KIND_OF_MODEL.get(type(item))
        if kind is None:
            changes.updated.append(_owner_change(item))
        elif before is None:
            changes.added.append(Change(kind, item.label, item.ref))
        else:
            _compare_for_admin(kind, before, item, changes)
        _announce(menu, menu.establishment, changes, source)
    return changes


def _compare_for_admin(kind: str, before: models.Model, item: models.Model, changes: MenuChanges) -> None:
    names = [field.attname for field in item._meta.concrete_fields if field.attname not in ("id", "available", "price")]
    if any(getattr(before, name) != getattr(item, name) for name in names):
        changes.updated.append(Change(kind, item.label, item.ref))
    if hasattr(item, "price") and before.price != item.price:
        changes.price_changes.append(PriceChange(kind, item.label, item.ref, before.price, item.price))
    if hasattr(item, "available") and before.available != item.available:
        changes.availability.append(AvailabilityChange(kind, item.pk, item.ref, item.label, item.available))


def delete_items(items: Iterable[models.Model], *, source: str) -> None:
    """Delete objects of menus (with what depends on them) and announce it, one transaction per menu."""
    by_menu: dict[int, list[models.Model]] = {}
    for item in items:
        by_menu.setdefault(_parent_menu_id(item), []).append(item)
    for menu_id, rows in by_menu.items():
        with transaction.atomic():
            menu = Menu.objects.select_for_update().select_related("establishment").get(pk=menu_id)
            changes = MenuChanges()
            for row in rows:
                kind = _KIND_OF_MODEL.get(type(row))
                if kind is None:
                    changes.updated.append(_owner_change(row))
                else:
                    changes.removed.append(Change(kind, row.label, row.ref))
                row.delete()
            _announce(menu, menu.establishment, changes, source)


def create_menu(establishment: Establishment, *, accepts_other_prices: bool = False) -> Menu:
    """An empty menu for the establishment (or the one it has): from then on its orders are checked against it."""
    with transaction.atomic():
        menu = _lock_menu(establishment, create=True)
        if menu.accepts_other_prices != accepts_other_prices:
            menu.accepts_other_prices = accepts_other_prices
            menu.save(update_fields=["accepts_other_prices"])
        return menu
