"""The order list's cards, formatted in Python rather than in the template.

Django's template engine took over a millisecond per row for this work, most of
the page's time: the template only places what is computed here.

What changes with the clock alone ("12 min" ago, late, not yet accepted after five
minutes) is written as it is now and carries the moment it changes (``data-since``,
``data-from``): static/js/list_times.js keeps it exact between renders, so that the
server does not render every open list again each minute (orders.live_poll).
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orders.allergens import mentions_allergy
from orders.models import Establishment, Order
from orders.selectors import NEW_ORDER_ALERT_AFTER
from orders.status import FINISHED_STATUSES, OrderStatus, ServiceType, Tab
from orders.templatetags import backoffice

# Lines shown on a card before "+N autres".
DISHES_SHOWN = 3
# Built once (ServiceType.values and .label work per call); the labels stay lazy, translated when shown.
_SERVICE_LABELS = dict(ServiceType.choices)
# Past their time, these are late; once ready, the order waits for the guest or the courier instead.
_LATE_WHEN_PAST = frozenset({OrderStatus.NEW, OrderStatus.RECEIVED, OrderStatus.ACCEPTED, OrderStatus.IN_PREPARATION})


@dataclass(frozen=True)
class ListRow:
    order: Order
    url: str
    classes: str
    unopened: bool
    placed: str
    placed_day: str
    due: str
    due_day: str
    ready: str
    overdue: bool
    # When the order becomes late or starts waiting too long, as Unix seconds; None: it will not by the clock alone.
    late_from: int | None
    waited: SafeString | str
    waiting: bool
    waiting_from: int | None
    service: str
    service_class: str
    table: str
    customer: str
    dishes: list[str]
    more_dishes: str
    allergy: bool
    note: bool
    total: str
    status: str
    status_tone: str
    # The first order due on a later day than today: the list opens a "Later" section before it.
    starts_later: bool


def late_from(order: Order) -> datetime | None:
    """When the order is late if still not ready: the time promised, or before acceptance the time asked for."""
    due = order.confirmed_time or order.expected_time
    return due if order.status in _LATE_WHEN_PAST else None


def is_late(order: Order, now: datetime) -> bool:
    due = late_from(order)
    return due is not None and due < now


def _seconds(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def waited(since: datetime) -> SafeString:
    """ "12 min", with the moment it counts from for the page's script."""
    return format_html('<span data-since="{}">{}</span>', _seconds(since), backoffice.waited(since))


def has_allergy_note(order: Order, items) -> bool:
    return mentions_allergy(order.customer_notes) or any(mentions_allergy(item.customer_notes) for item in items)


def list_rows(orders: list[Order], establishment: Establishment, list_url: str, *, sections: bool) -> list[ListRow]:
    zone = establishment.tzinfo
    now = timezone.now()
    today = timezone.localdate(now, zone)
    waiting_since = now - NEW_ORDER_ALERT_AFTER
    asap = _("as soon as possible")
    later_started = False

    def time_and_day(moment: datetime) -> tuple[str, str]:
        local = timezone.localtime(moment, zone)
        day = "" if local.date() == today else formats.date_format(local, "SHORT_DATE_FORMAT")
        return formats.time_format(local, "H:i"), day

    rows = []
    for order in orders:
        finished = order.status in FINISHED_STATUSES
        late_at = late_from(order)
        overdue = late_at is not None and late_at < now
        is_new = order.status == OrderStatus.NEW
        waiting = is_new and order.created_at < waiting_since
        unopened = order.tab == Tab.RECEIVED and order.first_opened_at is None
        items = list(order.items.all())
        allergy = has_allergy_note(order, items)
        classes = [
            name
            for name, on in (
                ("overdue", overdue),
                ("waiting", waiting),
                ("is-new", is_new),
                ("unopened", unopened),
                ("has-allergy", allergy),
            )
            if on
        ]
        placed, placed_day = time_and_day(order.created_at)
        due, due_day = time_and_day(order.expected_time) if order.expected_time else (asap, "")
        # The active tabs are sorted by due_at: the first one due after today opens the "Later" section.
        starts_later = sections and not later_started and timezone.localtime(order.due_at, zone).date() > today
        later_started = later_started or starts_later
        ready = ""
        if order.confirmed_time is not None and not finished:
            ready = " ".join(part for part in time_and_day(order.confirmed_time) if part)
        hidden = len(items) - DISHES_SHOWN
        rows.append(
            ListRow(
                order=order,
                url=f"{list_url}{order.pk}/",
                classes=" ".join(classes),
                unopened=unopened,
                placed=placed,
                placed_day=placed_day,
                due=due,
                due_day=due_day,
                ready=ready,
                overdue=overdue,
                late_from=_seconds(late_at),
                waited="" if finished else waited(order.created_at),
                waiting=waiting,
                waiting_from=_seconds(order.created_at + NEW_ORDER_ALERT_AFTER) if is_new else None,
                # The choices' labels directly: get_FOO_display() rebuilds a dict of the choices at each call.
                service=str(_SERVICE_LABELS[order.service_type]) if order.service_type in _SERVICE_LABELS else "",
                service_class=order.service_type or "none",
                customer=order.customer_name or order.customer_company_name,
                table=_("table %(table)s") % {"table": order.table_name}
                if order.service_type == ServiceType.EAT_IN and order.table_name
                else "",
                dishes=[_dish(item) for item in items[: DISHES_SHOWN if hidden > 1 else DISHES_SHOWN + 1]],
                more_dishes=ngettext("+%(count)d other", "+%(count)d others", hidden) % {"count": hidden} if hidden > 1 else "",
                allergy=allergy,
                note=not allergy and bool(order.customer_notes or any(item.customer_notes for item in items)),
                total=backoffice.money(order.total, order.currency),
                status=backoffice.status_label(order.status),
                status_tone=backoffice.status_tone(order.status),
                starts_later=starts_later,
            )
        )
    return rows


def _dish(item) -> str:
    name = f"{item.product_name} ({item.sku_name})" if item.sku_name else item.product_name
    return f"{backoffice.quantity(item.quantity)}\u00a0×\u00a0{name}"
