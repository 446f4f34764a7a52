"""The only writers of the menu: a whole menu replaced, availability, a manager's edits, settings.

Every function runs in one transaction that first locks the establishment's
menu row, so two changes of one menu never interleave, and sends
menu.signals inside that transaction when something changed. The staff pages,
the admin, the demo and any sync with a POS all come through here; the bulk
matching and writing behind replace_menu is menu/replacing.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from menu import description as desc
from menu import signals, stored
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
from menu.replacing import Replacement
from menu.validation import check_menu
from orders import screen_versions
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
        # For the screens that will show what is out of stock; a no-op for the order list until then, bar one render.
        screen_versions.changed(establishment.pk)


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
        Replacement(menu, changes, keep_availability).run(data)
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
