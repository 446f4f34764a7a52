"""Which items of an order a printer prints: those of its menu categories ("bar" gets the drinks).

A printer without categories prints the whole order. An item is matched by its
``sku_ref`` to the SKUs of the printer's categories and of every category inside
them, as the menu holds them when the ticket is made; an item without a code, or
with one the menu does not have, prints only on printers without categories.
"""

from __future__ import annotations

from collections.abc import Iterable

from menu import selectors as menu_selectors
from orders.models import OrderItem
from printing.models import Printer


def items_for(printer: Printer, items: Iterable[OrderItem]) -> list[OrderItem]:
    items = list(items)
    if not printer.category_refs:
        return items
    refs = menu_selectors.sku_refs_in_categories(printer.establishment_id, printer.category_refs)
    return [item for item in items if item.sku_ref and item.sku_ref in refs]
