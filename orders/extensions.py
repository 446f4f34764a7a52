"""Extension points of the staff pages, for apps that ``orders`` must not import.

An app such as hubrise_sync appends to these lists from its AppConfig.ready(),
so that the data its templates show per order is loaded with the page's own
queries instead of one query per row:

    from orders import extensions
    extensions.list_select_related.append("hubrise_link")
    extensions.detail_prefetch_related.append("hubrise_link__attempts")
    extensions.establishment_select_related.append("hubrise_connection")

On the order list, the establishment is loaded by the same query as the tab
counts, with ``establishment_select_related``: a template tag that reads a
one-to-one of the establishment (``establishment.hubrise_connection``) then
costs no query of its own. The list's budget is 6 queries per page in all.

Templates it can override (hubrise_sync is listed before orders in
INSTALLED_APPS, and these defaults are app templates, so its own copies win):

- ``orders/_sync_badge.html``: rendered in each row of the order list and on
  the detail page, with ``order`` and ``establishment`` in the context;
  ``compact`` is true in the list.

Several apps add to the top of every establishment page, so these are lists
rather than one template each app would fight over:

- ``establishment_menu``: entries of the top bar's menu, as (label, URL name)
  pairs, or (label, URL name, role) for an entry only members with that role
  see (``Membership.Role.MANAGER``: the team pages); the URL takes the
  establishment's id. The role comes with the page's own establishment query
  (``selectors.establishments_of`` annotates it), so it costs no query.
- ``establishment_banners``: templates rendered in turn at the top of every
  page of an establishment, with ``establishment`` in the context.
- ``order_detail_sections``: templates rendered on the order page under its
  status buttons (a ticket's print state, a courier's progress…), with
  ``order`` and ``establishment`` in the context.
- ``order_row_extras``: templates rendered in each order of the list, after its
  status and sync badge, with ``order`` and ``establishment`` in the context.

Apps also take part in taking an order and in the demo:

- ``intake_facts``: expressions the intake API's key query annotates (whether the
  establishment has printers), passed on to ``order_created``'s receivers as ``facts``.
- ``order_checkers``: functions ``(establishment, new_order) -> new_order`` that
  the intake API calls on every valid body before the order is created (the
  menu app checks each item against the establishment's menu). A checker
  returns the order, completed if it likes (an item sent with only its
  ``sku_ref`` gets its name and price), or raises ``OrderRefused`` with messages
  by field path of the API's body ("items[0].sku_ref"). Until a checker
  completes them, items and options may lack their names (``""``) and an item
  its price (``None``): the API refuses what is still missing after the
  checkers. Keep them cheap: they run on every order.
- ``demo_menus``: functions ``(establishment) -> DemoMenu | None`` that give the
  demo order generator something to draw items from; the first that answers wins.
- ``demo_setup``: functions called with the demo's main establishment by
  ``seed_demo``, before its orders are made (the menu app loads a bistro menu).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from orders.inputs import NewDeal, NewItem, NewOrder
    from orders.models import Establishment

# Relations joined by the order list's (and the detail page's) query.
list_select_related: list[str] = []
# Relations prefetched for the order list (names, or Prefetch objects to leave columns out): one extra query
# each, whatever the page size.
list_prefetch_related: list = []
# Relations prefetched for the detail page, on top of the order's own lines.
detail_prefetch_related: list[str] = []
# One-to-one relations of the establishment, joined by the order list's establishment query.
establishment_select_related: list[str] = []
# One-to-one relations of the establishment that taking an order reads (a checker, a signal's receiver), joined
# by the intake API's query for its key: a relation missing there is read by a query per order instead.
intake_select_related: list[str] = []
# Facts about the key's establishment that taking an order uses, each an expression on ApiKey (an Exists, say):
# the intake API's query for its key reads them in the request, and create_order hands them to order_created's
# receivers as ``facts`` (name -> value). A receiver that trusts one trusts a value read some milliseconds before
# the order's transaction, never one of an object loaded earlier; without facts (imports, the admin, tests) it
# reads what it needs itself.
intake_facts: dict[str, Callable[[], Any]] = {}

# Entries of the establishment's menu in the top bar: (label, URL name taking the establishment id),
# and the role a member needs to see it as a third item if only some may.
establishment_menu: list[tuple[str, str] | tuple[str, str, str]] = []
# Templates shown at the top of every page of an establishment (a broken connection, a paused service…).
establishment_banners: list[str] = []
# Templates shown on the order page under its buttons, and in each order of the list.
order_detail_sections: list[str] = []
order_row_extras: list[str] = []


class OrderRefused(Exception):
    """An order an ``order_checkers`` function refuses: ``errors`` maps a field path of the body to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(errors)


order_checkers: list[Callable[[Establishment, NewOrder], NewOrder]] = []


def check_new_order(establishment: Establishment, order: NewOrder) -> NewOrder:
    for checker in order_checkers:
        order = checker(establishment, order)
    return order


class DemoMenu(Protocol):
    def item(self, rng: random.Random) -> NewItem: ...

    def deal(self, rng: random.Random, key: str) -> tuple[NewDeal, tuple[NewItem, ...]] | None: ...


demo_menus: list[Callable[[Establishment], DemoMenu | None]] = []
demo_setup: list[Callable[[Establishment], None]] = []


def demo_menu_of(establishment: Establishment) -> DemoMenu | None:
    for find in demo_menus:
        found = find(establishment)
        if found is not None:
            return found
    return None
