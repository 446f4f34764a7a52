"""The demo's side of the menu: orders drawn from an establishment's menu.

The demo restaurant's menu is not seeded here: it is the HubRise sandbox's catalog,
pulled when the demo establishment is connected to HubRise.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

from menu import description as desc
from menu import selectors
from menu.ordering import deal_price, pricing_value_text
from orders.inputs import NewDeal, NewItem, NewOption
from orders.models import Establishment

QUANTITIES = (1, 1, 1, 2, 2, 3)
NOTES = ("", "", "", "Sans sel")


class MenuDraws:
    """Random items of a menu, only what may be ordered: available, with codes, option lists respected."""

    def __init__(self, menu: desc.Menu, currency: str) -> None:
        self.currency = currency
        self.option_lists = {option_list.ref: option_list for option_list in menu.option_lists}
        self.entries = [
            (product, sku)
            for product in menu.products
            for sku in product.skus
            if sku.ref and sku.available and all(self._can_fill(ref) for ref in sku.option_list_refs)
        ]
        self.by_ref = {sku.ref: (product, sku) for product, sku in self.entries}
        self.deals = [deal for deal in menu.deals if deal.ref and all(self._line_skus(line) for line in deal.lines)]

    def _can_fill(self, list_ref: str) -> bool:
        option_list = self.option_lists[list_ref]
        return len(self._choices(option_list)) >= option_list.min_selections

    @staticmethod
    def _choices(option_list: desc.OptionList) -> list[desc.Option]:
        return [option for option in option_list.options if option.ref and option.available]

    def _line_skus(self, line: desc.DealLine) -> list[desc.DealSku]:
        return [choice for choice in line.skus if choice.sku_ref in self.by_ref]

    def _options(self, rng: random.Random, sku: desc.Sku) -> tuple[NewOption, ...]:
        options = []
        for ref in sku.option_list_refs:
            option_list = self.option_lists[ref]
            choices = self._choices(option_list)
            most = len(choices) if option_list.max_selections is None else min(option_list.max_selections, len(choices))
            # Guests often skip what is optional.
            count = option_list.min_selections if rng.random() < 0.6 else rng.randint(option_list.min_selections, most)
            for option in rng.sample(choices, count):
                options.append(NewOption(option_list.name, option.name, ref=option.ref, price=option.price))
        return tuple(options)

    def _item(self, rng: random.Random, product: desc.Product, sku: desc.Sku, price: Decimal, quantity: Decimal) -> NewItem:
        return NewItem(
            product_name=product.name,
            sku_name=sku.name,
            sku_ref=sku.ref,
            price=price,
            quantity=quantity,
            tax_rate=product.tax_rate,
            options=self._options(rng, sku),
            customer_notes=rng.choice(NOTES),
        )

    def item(self, rng: random.Random) -> NewItem:
        product, sku = rng.choice(self.entries)
        return self._item(rng, product, sku, sku.price, Decimal(rng.choice(QUANTITIES)))

    def deal(self, rng: random.Random, key: str) -> tuple[NewDeal, tuple[NewItem, ...]] | None:
        if not self.deals:
            return None
        deal = rng.choice(self.deals)
        items = []
        for line in deal.lines:
            choice = rng.choice(self._line_skus(line))
            product, sku = self.by_ref[choice.sku_ref]
            item = self._item(rng, product, sku, deal_price(sku.price, line, choice.extra_charge), Decimal("1"))
            items.append(
                replace(
                    item,
                    deal_key=key,
                    deal_label=line.label,
                    deal_pricing_effect=line.pricing_effect,
                    deal_pricing_value=pricing_value_text(line, self.currency),
                )
            )
        return NewDeal(key=key, name=deal.name, ref=deal.ref), tuple(items)


def demo_menu(establishment: Establishment) -> MenuDraws | None:
    menu = selectors.menu_description(establishment)
    if menu is None:
        return None
    draws = MenuDraws(menu, establishment.currency)
    return draws if draws.entries else None
