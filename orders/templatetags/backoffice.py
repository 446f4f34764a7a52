"""Formatting for the staff pages: money, waiting times, status colours."""

from datetime import datetime
from decimal import Decimal

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from orders import extensions
from orders.permissions import role_in
from orders.selectors import NEW_ORDER_ALERT_AFTER
from orders.status import FINISHED_STATUSES, OrderStatus, Tab, tab_of

register = template.Library()

CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CHF": "CHF"}
NBSP = "\u00a0"


@register.filter
def money(value: Decimal | None, currency: str = "EUR") -> str:
    """12,50 € in French, €12.50 in English; the space never breaks the amount apart."""
    if value is None:
        return ""
    amount = formats.number_format(value, 2, use_l10n=True, force_grouping=True)
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    if (get_language() or "").startswith("en") and len(symbol) == 1:
        return f"-{symbol}{amount[1:]}" if amount.startswith("-") else f"{symbol}{amount}"
    return f"{amount}{NBSP}{symbol}"


# French contracts "de" with the article that starts a name: "Commandes du Petit Bistrot".
_FRENCH_OF = (("le ", "du "), ("les ", "des "), ("la ", "de la "), ("l'", "de l'"), ("l’", "de l’"))


@register.filter
def of_name(name: str) -> str:
    """ "of <name>" in the current language: "du Petit Bistrot", "de la Brasserie du Port", "of Chez Paul"."""
    if not (get_language() or "").startswith("fr"):
        return f"of {name}"
    lowered = name.lower()
    for article, contracted in _FRENCH_OF:
        if lowered.startswith(article):
            return contracted + name[len(article) :]
    if lowered[:1] in "aeiouyhàâéèêîôû":
        return f"d’{name}"
    return f"de {name}"


@register.filter
def waited(since: datetime | None) -> str:
    """How long ago, as a cook reads it at a glance: "8 min", "1 h 05"."""
    if since is None:
        return ""
    minutes = max(0, int((timezone.now() - since).total_seconds() // 60))
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    if minutes < 24 * 60:
        return _("%(hours)d h %(minutes)02d") % {"hours": minutes // 60, "minutes": minutes % 60}
    return _("%(days)d d") % {"days": minutes // (24 * 60)}


# Built once: OrderStatus.values and .label rebuild a list or look the enum up at each call, twice per row of the
# order list. The labels stay lazy, translated when shown.
_STATUS_LABELS = dict(OrderStatus.choices)
_STATUS_TONES = {status: f"tone-{tab_of(status).value}" for status in _STATUS_LABELS}


@register.filter
def status_label(status: str) -> str:
    label = _STATUS_LABELS.get(status)
    return status if label is None else str(label)


@register.filter
def status_tone(status: str) -> str:
    """A CSS class per tab, so that a status reads the same colour everywhere."""
    return _STATUS_TONES.get(status, "")


@register.filter
def is_overdue(order) -> bool:
    return order.status not in FINISHED_STATUSES and order.expected_time is not None and order.expected_time < timezone.now()


@register.filter
def quantity(value: Decimal) -> str:
    """2 rather than 2.000; 0,5 in French for a half portion."""
    normalized = value.normalize()
    if normalized == normalized.to_integral_value():
        return str(int(normalized))
    return formats.number_format(normalized, use_l10n=True)


@register.filter
def is_waiting_too_long(order) -> bool:
    return order.status == OrderStatus.NEW and order.created_at < timezone.now() - NEW_ORDER_ALERT_AFTER


@register.filter
def is_unopened(order) -> bool:
    """A new order nobody has opened yet: highlighted until someone does."""
    return order.tab == Tab.RECEIVED and order.first_opened_at is None


@register.simple_tag(takes_context=True)
def establishment_menu(context) -> list[tuple[str, str]]:
    """The top bar's entries that other apps registered and the user may see, with their URLs for this establishment."""
    establishment = context["establishment"]
    menu = extensions.establishment_menu
    role = _role_of_viewer(context, establishment) if any(len(entry) > 2 for entry in menu) else None
    return [
        (label, reverse(url_name, args=[establishment.pk]))
        for label, url_name, *only_for in menu
        if not only_for or only_for[0] == role
    ]


def _role_of_viewer(context, establishment) -> str | None:
    # Pages load their establishment through selectors.establishments_of, which brings the user's role along.
    if hasattr(establishment, "user_role"):
        return establishment.user_role
    request = context.get("request")
    return role_in(request.user, establishment) if request is not None else None


@register.simple_tag
def establishment_banners() -> list[str]:
    return list(extensions.establishment_banners)


@register.simple_tag
def order_detail_sections() -> list[str]:
    return list(extensions.order_detail_sections)


@register.simple_tag
def order_row_extras() -> list[str]:
    return list(extensions.order_row_extras)


@register.simple_tag
def live_stream_url(establishment_id: int, order_id: int | None = None) -> str:
    """Where the page listens for changes to what it shows: the stream process (orders.live_stream), on the pages'
    own origin behind a proxy or on the origin LIVE_STREAM_URL names."""
    if order_id is None:
        path = reverse("orders:list_stream", args=[establishment_id])
    else:
        path = reverse("orders:detail_stream", args=[establishment_id, order_id])
    return settings.LIVE_STREAM_URL + path
