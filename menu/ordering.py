"""Orders meet the menu: the intake check (registered in orders.extensions.order_checkers) and the demo's draws.

An establishment without a menu takes orders as before. With one, every item
must name an available SKU of the menu by its ``sku_ref``, every option an
available option of that SKU's option lists by its ``ref``, each option list's
minimum and maximum must hold, and a deal must be one of the menu's with the
item's SKU on one of its lines. Names, prices and the tax rate left out are
taken from the menu; prices sent that differ from it are refused unless the
menu accepts other prices. What the check reads of the menu is kept per
process and menu version (menu/order_facts.py): once warm, a check costs no
query beyond the menu's row, which the intake API joins to its key's query.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from menu import description as desc
from menu.models import Menu
from menu.order_facts import LineFacts, SkuFacts, facts_of
from orders.extensions import OrderRefused
from orders.inputs import NewDeal, NewItem, NewOption, NewOrder
from orders.models import Establishment

CENT = Decimal("0.01")


def deal_price(sku_price: Decimal, line: LineFacts | desc.DealLine, extra_charge: Decimal | None) -> Decimal:
    """What a SKU costs on a deal line: the line's pricing applied to the SKU's price, plus the SKU's extra charge."""
    value = line.pricing_value or Decimal("0")
    effect = line.pricing_effect
    if effect == desc.FIXED_PRICE:
        price = value
    elif effect == desc.PRICE_OFF:
        price = max(sku_price - value, Decimal("0"))
    elif effect == desc.PERCENTAGE_OFF:
        price = (sku_price * (100 - value) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    elif effect == desc.FREE:
        price = Decimal("0")
    else:
        price = sku_price
    return price + (extra_charge or Decimal("0"))


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(CENT)} {currency}"


def pricing_value_text(line: LineFacts | desc.DealLine, currency: str) -> str:
    """A deal line's value as an order's deal_line carries it: an amount (\"14.50 EUR\") or a percentage (\"10\")."""
    if line.pricing_value is None:
        return ""
    if line.pricing_effect == desc.PERCENTAGE_OFF:
        return format(line.pricing_value.normalize(), "f")
    return _money(line.pricing_value, currency)


class _Check:
    """One order against the menu: errors gathered by field path, items completed from the menu."""

    def __init__(self, menu: Menu, currency: str, skus: dict[str, SkuFacts], deals: dict[str, tuple[LineFacts, ...]]) -> None:
        self.menu = menu
        self.currency = currency
        self.skus = skus
        self.deals = deals
        self.errors: dict[str, list[str]] = {}

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def price(self, path: str, sent: Decimal | None, expected: Decimal, what: str) -> Decimal:
        if sent is None:
            return expected
        if sent != expected and not self.menu.accepts_other_prices:
            self.error(
                path,
                _("The menu's price of “%(what)s” is %(expected)s, not %(sent)s: this establishment takes the menu's prices.")
                % {"what": what, "expected": _money(expected, self.currency), "sent": _money(sent, self.currency)},
            )
        return sent

    def deal_refs(self, deals: tuple[NewDeal, ...]) -> dict[str, str]:
        """Deal key → code, for the deals that are on the menu."""
        known = {}
        for deal in deals:
            path = f"deals.{deal.key}.ref"
            if not deal.ref:
                self.error(path, _("Required: this establishment has a menu, give the deal's code."))
            elif deal.ref not in self.deals:
                self.error(path, _("“%(ref)s” is not a deal of the menu.") % {"ref": deal.ref})
            else:
                known[deal.key] = deal.ref
        return known

    def item(self, index: int, item: NewItem, deal_refs: dict[str, str], deal_names: dict[str, str]) -> NewItem:
        path = f"items[{index}]"
        if not item.sku_ref:
            self.error(f"{path}.sku_ref", _("Required: this establishment has a menu, give the SKU's code."))
            return item
        sku = self.skus.get(item.sku_ref)
        if sku is None:
            self.error(f"{path}.sku_ref", _("“%(ref)s” is not on the menu.") % {"ref": item.sku_ref})
            return item
        if not sku.available:
            self.error(f"{path}.sku_ref", _("“%(what)s” (%(ref)s) is unavailable.") % {"what": sku.label, "ref": sku.ref})
        expected, item = self.deal_line(path, item, sku, deal_refs, deal_names)
        price = item.price if expected is None else self.price(f"{path}.price", item.price, expected, sku.label)
        checked = [self.option(f"{path}.options[{position}]", option, sku) for position, option in enumerate(item.options)]
        options = tuple(option for option, _list_id in checked)
        self.selections(path, checked, sku)
        return replace(
            item,
            product_name=item.product_name or sku.product_name,
            sku_name=item.sku_name or sku.name,
            price=price,
            tax_rate=item.tax_rate if item.tax_rate is not None else sku.tax_rate,
            options=options,
        )

    def deal_line(
        self, path: str, item: NewItem, sku: SkuFacts, deal_refs: dict[str, str], deal_names: dict[str, str]
    ) -> tuple[Decimal | None, NewItem]:
        """The price the menu expects for the item (None when its deal is already refused), and the item
        with its deal line completed."""
        if not item.deal_key:
            return sku.price, item
        if item.deal_key not in deal_refs:
            return None, item
        lines = [line for line in self.deals[deal_refs[item.deal_key]] if sku.ref in line.extra_charges]
        matching = [line for line in lines if item.deal_label and line.label == item.deal_label]
        line = (matching or lines or [None])[0]
        if line is None:
            self.error(
                f"{path}.sku_ref",
                _("“%(what)s” is not part of the deal “%(deal)s”.") % {"what": sku.label, "deal": deal_names[item.deal_key]},
            )
            return None, item
        completed = replace(
            item,
            deal_label=item.deal_label or line.label,
            deal_pricing_effect=item.deal_pricing_effect or line.pricing_effect,
            deal_pricing_value=item.deal_pricing_value or pricing_value_text(line, self.currency),
        )
        return deal_price(sku.price, line, line.extra_charges[sku.ref]), completed

    def option(self, path: str, option: NewOption, sku: SkuFacts) -> tuple[NewOption, int | None]:
        """The option completed from the menu, and the id of the SKU's option list it belongs to."""
        if not option.ref:
            self.error(f"{path}.ref", _("Required: this establishment has a menu, give the option's code."))
            return option, None
        found = [(option_list, facts) for option_list in sku.lists for facts in option_list.options if facts.ref == option.ref]
        # The same code may be in two of the SKU's lists: the list's name, when sent, says which.
        named = [pair for pair in found if option.option_list_name and pair[0].name == option.option_list_name]
        if not found:
            self.error(f"{path}.ref", _("“%(ref)s” is not an option of “%(what)s”.") % {"ref": option.ref, "what": sku.label})
            return option, None
        option_list, facts = (named or found)[0]
        if not facts.available:
            self.error(f"{path}.ref", _("“%(what)s” (%(ref)s) is unavailable.") % {"what": facts.name, "ref": facts.ref})
        price = self.price(f"{path}.price", option.price, facts.price, facts.name)
        completed = replace(
            option, option_list_name=option.option_list_name or option_list.name, name=option.name or facts.name, price=price
        )
        return completed, option_list.id

    def selections(self, path: str, checked: list[tuple[NewOption, int | None]], sku: SkuFacts) -> None:
        # A removed option ("sans oignons") is not a choice; an option taken twice counts twice.
        chosen: dict[int, int] = {}
        for option, list_id in checked:
            if list_id is not None and not option.removed:
                chosen[list_id] = chosen.get(list_id, 0) + option.quantity
        for option_list in sku.lists:
            count = chosen.get(option_list.id, 0)
            if count < option_list.min_selections:
                self.error(
                    f"{path}.options",
                    _("“%(list)s”: choose at least %(min)s (%(count)s chosen).")
                    % {"list": option_list.name, "min": option_list.min_selections, "count": count},
                )
            if option_list.max_selections is not None and count > option_list.max_selections:
                self.error(
                    f"{path}.options",
                    _("“%(list)s”: choose at most %(max)s (%(count)s chosen).")
                    % {"list": option_list.name, "max": option_list.max_selections, "count": count},
                )


def _menu_of(establishment: Establishment) -> Menu | None:
    # Loaded with the establishment by the intake API (orders.extensions.intake_select_related), else read here.
    cached = establishment._state.fields_cache.get("menu", False)
    if cached is not False:
        return cached
    return Menu.objects.filter(establishment=establishment).only("id", "accepts_other_prices", "version", "changed_at").first()


def check_order(establishment: Establishment, order: NewOrder) -> NewOrder:
    """The order checked against the establishment's menu and completed from it; OrderRefused when it does not fit."""
    menu = _menu_of(establishment)
    if menu is None:
        return order
    skus, deals = facts_of(
        menu, {item.sku_ref for item in order.items if item.sku_ref}, {deal.ref for deal in order.deals if deal.ref}
    )
    check = _Check(menu, establishment.currency, skus, deals)
    deal_refs = check.deal_refs(order.deals)
    deal_names = {deal.key: deal.name for deal in order.deals}
    items = tuple(check.item(index, item, deal_refs, deal_names) for index, item in enumerate(order.items))
    if check.errors:
        raise OrderRefused(check.errors)
    return replace(order, items=items)
