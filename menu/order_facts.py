"""What the intake check reads of a menu, kept in each process by the menu's version: a warm check costs no query.

The SKUs an order names (with their option lists and options) and the lines of
its deals are read from the database the first time an order of this process
asks for those codes, and kept until the menu's version changes. Codes that are
not on the menu are kept too, as such.

Why this is never staler than reading the database on each order:

- Every change of a menu's content or availability bumps ``Menu.version`` in
  the change's own transaction (menu.services._announce; the staff pages, the
  admin, a catalog import and inventory from the POS all go through
  menu.services), and the intake API reads the menu's row, version included,
  with its API key's query on every order. The first order whose key query
  starts after a change's commit sees the new version, finds no facts for it,
  and reads them again: a SKU marked unavailable is refused, a new price taken,
  from the next order on, in every process.
- Facts are kept under a version only by a request that read that version from
  the database, so the change that made it had committed; every query that
  fills them runs after that. Facts kept under a version are therefore as new
  as that version, or newer (a change that commits while they are being filled
  may show in the codes read after it).
- A change that commits between an order's key query and its check is seen or
  not depending on which codes were already kept, as today's query would see it
  or not depending on whether it ran a moment earlier or later: the order and
  the change are concurrent, either outcome is one the guest could have had.
  An order that read an older version than the one kept (such a change came in
  between) reads the database itself and keeps nothing.
- The key is the version and the time of the change (``changed_at``), so that a
  database restored to an earlier state, whose versions count again from lower
  numbers, never meets the facts of a menu that no longer exists.

Memory is bounded: at most ``MAX_FACTS`` facts (SKUs and codes known not to be
SKUs, options of the lists, deal lines) per process over all menus; the menus
least recently ordered from are forgotten first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from menu.models import DealLineSku, Menu, Sku

# A 6,000-SKU menu with 300 lists of 10 options, all of it ordered from, is about 9,300 facts (3.8 MB).
MAX_FACTS = 40_000


@dataclass(frozen=True, slots=True)
class OptionFacts:
    id: int
    ref: str
    name: str
    price: Decimal
    available: bool


@dataclass(frozen=True, slots=True)
class ListFacts:
    id: int
    name: str
    min_selections: int
    max_selections: int | None
    options: tuple[OptionFacts, ...]


@dataclass(frozen=True, slots=True)
class SkuFacts:
    ref: str
    name: str
    product_name: str
    price: Decimal
    available: bool
    tax_rate: Decimal | None
    # The SKU's option lists, in their order; shared by the SKUs that offer the same list.
    lists: tuple[ListFacts, ...]

    @property
    def label(self) -> str:
        return f"{self.product_name} · {self.name}" if self.name else self.product_name


@dataclass(frozen=True, slots=True)
class LineFacts:
    label: str
    pricing_effect: str
    pricing_value: Decimal | None
    # The codes of the line's SKUs, each with its extra charge.
    extra_charges: dict[str, Decimal | None]


class _MenuFacts:
    """What one process keeps of one version of one menu."""

    __slots__ = ("deals", "key", "lists", "size", "skus")

    def __init__(self, key: tuple[int, datetime]) -> None:
        self.key = key
        # None: a code that is not on the menu.
        self.skus: dict[str, SkuFacts | None] = {}
        self.deals: dict[str, tuple[LineFacts, ...] | None] = {}
        self.lists: dict[int, ListFacts] = {}
        self.size = 0


_lock = threading.Lock()
_menus: OrderedDict[int, _MenuFacts] = OrderedDict()
_kept = 0


def facts_of(
    menu: Menu, sku_refs: Collection[str], deal_refs: Collection[str]
) -> tuple[dict[str, SkuFacts], dict[str, tuple[LineFacts, ...]]]:
    """The SKUs and deals of ``menu`` with these codes (those not on the menu left out): kept ones from memory,
    the others read with one query for the SKUs and one for the deals, and kept."""
    skus: dict[str, SkuFacts] = {}
    deals: dict[str, tuple[LineFacts, ...]] = {}
    with _lock:
        entry = _entry(menu)
        kept_skus, kept_deals = (entry.skus, entry.deals) if entry else ({}, {})
        missing_skus = _from_memory(kept_skus, sku_refs, skus)
        missing_deals = _from_memory(kept_deals, deal_refs, deals)
        if not missing_skus and not missing_deals:
            return skus, deals
        known_lists = dict(entry.lists) if entry else {}
    read_skus, new_lists = _read_skus(menu.pk, missing_skus, known_lists) if missing_skus else ({}, {})
    read_deals = _read_deal_lines(menu.pk, missing_deals) if missing_deals else {}
    skus.update(read_skus)
    deals.update(read_deals)
    if entry is not None:
        _keep(
            menu.pk,
            entry,
            {ref: read_skus.get(ref) for ref in missing_skus},
            {ref: read_deals.get(ref) for ref in missing_deals},
            new_lists,
        )
    return skus, deals


def _entry(menu: Menu) -> _MenuFacts | None:
    """The facts kept for the version of ``menu`` this request read (new and empty if none were); None when
    the request read an older version than the one kept. Called with the lock held."""
    key = (menu.version, menu.changed_at)
    entry = _menus.get(menu.pk)
    if entry is not None and entry.key == key:
        _menus.move_to_end(menu.pk)
        return entry
    if entry is not None and menu.version < entry.key[0]:
        return None
    _forget(menu.pk)
    entry = _menus[menu.pk] = _MenuFacts(key)
    return entry


def _from_memory(kept: dict, refs: Collection[str], found: dict) -> list[str]:
    """Copies the kept facts of ``refs`` into ``found`` (those known to be off the menu left out); returns the others."""
    missing = []
    for ref in refs:
        if ref not in kept:
            missing.append(ref)
        elif (facts := kept[ref]) is not None:
            found[ref] = facts
    return missing


def _keep(
    menu_id: int,
    entry: _MenuFacts,
    skus: dict[str, SkuFacts | None],
    deals: dict[str, tuple[LineFacts, ...] | None],
    lists: dict[int, ListFacts],
) -> None:
    global _kept
    added = len(skus) + sum(len(lines) for lines in deals.values() if lines) + len(deals)
    added += sum(1 + len(option_list.options) for option_list in lists.values())
    with _lock:
        if _menus.get(menu_id) is not entry:
            # Another request moved the menu on to a newer version meanwhile: these facts belong to no one.
            return
        entry.skus.update(skus)
        entry.deals.update(deals)
        entry.lists.update(lists)
        entry.size += added
        _kept += added
        while _kept > MAX_FACTS and _menus:
            # The least recently ordered from first, this menu last.
            _forget(next(iter(_menus)))


def _forget(menu_id: int) -> None:
    """Called with the lock held."""
    global _kept
    entry = _menus.pop(menu_id, None)
    if entry is not None:
        _kept -= entry.size


def _read_skus(
    menu_id: int, refs: Collection[str], known_lists: dict[int, ListFacts]
) -> tuple[dict[str, SkuFacts], dict[int, ListFacts]]:
    """The SKUs with these codes, each with its option lists and their options: one query (outer joins).

    Lists already in ``known_lists`` are taken from there; returns the SKUs found and the lists read."""
    link = "option_list_links__"
    option_list = link + "option_list__"
    option = option_list + "options__"
    rows = (
        Sku.objects.filter(menu_id=menu_id, ref__in=list(refs))
        .order_by("id", f"{link}position", f"{option}position", f"{option}id")
        .values_list(
            "ref",
            "name",
            "price",
            "available",
            "product__name",
            "product__tax_rate",
            f"{option_list}id",
            f"{option_list}name",
            f"{option_list}min_selections",
            f"{option_list}max_selections",
            f"{option}id",
            f"{option}ref",
            f"{option}name",
            f"{option}price",
            f"{option}available",
        )
    )
    skus: dict[str, tuple] = {}
    sku_lists: dict[str, list[int]] = {}
    # A list's rows come again for every SKU that offers it: its options are read from the first SKU's rows.
    new_lists: dict[int, tuple[tuple, list[OptionFacts], str]] = {}
    for ref, name, price, available, product_name, tax_rate, list_id, list_name, low, high, *option_row in rows:
        if ref not in skus:
            skus[ref] = (ref, name, product_name, price, available, tax_rate)
            sku_lists[ref] = []
        if list_id is None:
            continue
        if list_id not in sku_lists[ref]:
            sku_lists[ref].append(list_id)
        if list_id in known_lists:
            continue
        built = new_lists.setdefault(list_id, ((list_id, list_name, low, high), [], ref))
        if built[2] == ref and option_row[0] is not None:
            built[1].append(OptionFacts(*option_row))
    lists = dict(known_lists)
    read = {list_id: ListFacts(*head, tuple(options)) for list_id, (head, options, _ref) in new_lists.items()}
    lists.update(read)
    found = {ref: SkuFacts(*columns, tuple(lists[list_id] for list_id in sku_lists[ref])) for ref, columns in skus.items()}
    return found, read


def _read_deal_lines(menu_id: int, refs: Collection[str]) -> dict[str, tuple[LineFacts, ...]]:
    """The lines of the deals with these codes, with the codes of their SKUs: one query."""
    deals: dict[str, dict[int, LineFacts]] = {}
    rows = (
        DealLineSku.objects.filter(line__deal__menu_id=menu_id, line__deal__ref__in=list(refs))
        .order_by("line__position", "line_id", "position")
        .values_list(
            "line__deal__ref", "line_id", "line__label", "line__pricing_effect", "line__pricing_value", "sku__ref", "extra_charge"
        )
    )
    for deal_ref, line_id, label, effect, value, sku_ref, extra in rows:
        line = deals.setdefault(deal_ref, {}).setdefault(line_id, LineFacts(label, effect, value, {}))
        line.extra_charges[sku_ref] = extra
    return {ref: tuple(lines.values()) for ref, lines in deals.items()}
