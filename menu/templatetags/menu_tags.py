"""Formatting for the menu pages."""

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from menu.models import DealLine, OptionList
from orders.templatetags.backoffice import money

register = template.Library()


@register.filter
def selections(option_list: OptionList) -> str:
    """What a guest must choose: "1 choice", "0 to 2 choices", "at least 1"."""
    low, high = option_list.min_selections, option_list.max_selections
    if high is None:
        return _("any number") if low == 0 else _("at least %(min)s") % {"min": low}
    if low == high:
        return ngettext("%(count)s choice", "%(count)s choices", high) % {"count": high}
    return ngettext("%(min)s to %(max)s choice", "%(min)s to %(max)s choices", high) % {"min": low, "max": high}


@register.filter
def line_pricing(line: DealLine, currency: str) -> str:
    """How a deal line prices its items, in words: "14,50 €", "−10 %", "free"."""
    if line.pricing_effect == "fixed_price":
        return money(line.pricing_value, currency)
    if line.pricing_effect == "price_off":
        return _("%(amount)s off") % {"amount": money(line.pricing_value, currency)}
    if line.pricing_effect == "percentage_off":
        return _("%(percent)s %% off") % {"percent": f"{line.pricing_value.normalize():f}"}
    if line.pricing_effect == "free":
        return _("free")
    return _("menu price")
