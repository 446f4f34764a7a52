"""What a change of the menu did, in a form a page can show and a sync can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

# The kinds of menu objects, as named in changes and in the staff pages' URLs.
KIND_LABELS = {
    "channel": _("sales channel"),
    "category": _("category"),
    "product": _("product"),
    "sku": _("SKU"),
    "option_list": _("option list"),
    "option": _("option"),
    "deal": pgettext_lazy("menu", "deal"),
    "discount": _("discount"),
    "charge": _("charge"),
    "service_type": _("service type"),
    "payment_method": _("payment method"),
}


@dataclass(frozen=True)
class Change:
    kind: str
    label: str
    ref: str = ""


@dataclass(frozen=True)
class PriceChange:
    kind: str
    label: str
    ref: str
    old: Decimal | None
    new: Decimal | None


@dataclass(frozen=True)
class AvailabilityChange:
    """A SKU or option whose availability changed; ``kind`` is "sku" or "option"."""

    kind: str
    id: int
    ref: str
    label: str
    available: bool


@dataclass
class MenuChanges:
    """Added and removed objects, price changes, other changes (names, codes, option lists…), order and availability."""

    added: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    price_changes: list[PriceChange] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    availability: list[AvailabilityChange] = field(default_factory=list)
    # Objects that only moved within their list.
    reordered: int = 0

    @property
    def content_changed(self) -> bool:
        return bool(self.added or self.removed or self.price_changes or self.updated or self.reordered)

    @property
    def changed(self) -> bool:
        return self.content_changed or bool(self.availability)

    def summary(self) -> str:
        """One sentence for a page: "3 added, 1 removed, 2 price changes." or "Nothing changed."."""
        if not self.changed:
            return str(_("Nothing changed: the menu was already this one."))
        parts = []
        counts = (
            (len(self.added), lambda n: ngettext("%(count)s added", "%(count)s added", n)),
            (len(self.removed), lambda n: ngettext("%(count)s removed", "%(count)s removed", n)),
            (len(self.price_changes), lambda n: ngettext("%(count)s price change", "%(count)s price changes", n)),
            (len(self.updated), lambda n: ngettext("%(count)s other change", "%(count)s other changes", n)),
            (len(self.availability), lambda n: ngettext("%(count)s availability change", "%(count)s availability changes", n)),
            (self.reordered, lambda n: ngettext("%(count)s moved", "%(count)s moved", n)),
        )
        for count, words in counts:
            if count:
                parts.append(words(count) % {"count": count})
        return ", ".join(parts) + "."
