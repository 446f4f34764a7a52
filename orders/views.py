"""The staff pages: an establishment's orders in four tabs, one order, its status buttons.

Views stay thin: reads go through orders.selectors (which scope everything to
the user's establishments, a 404 otherwise) and every status change through
orders.services.change_status.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from orders import selectors, services
from orders.models import Establishment, Order, StatusChange
from orders.pagination import Cursor
from orders.status import (
    FINISHED_STATUSES,
    REASON_REQUIRED,
    OrderStatus,
    ServiceType,
    Tab,
    next_usual_step,
    staff_transitions,
    tab_of,
)
from orders.templatetags import backoffice

PAGE_SIZE = 25
SEARCH_MAX_LENGTH = 100
# Statuses whose button is styled as a warning: they end the order badly.
DESTRUCTIVE_STATUSES = frozenset({OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.DELIVERY_FAILED})
# The words on the buttons that end an order badly are verbs, so they cannot be mistaken for a step forward.
BUTTON_LABELS = {
    OrderStatus.REJECTED: lambda: _("Reject"),
    OrderStatus.CANCELLED: lambda: _("Cancel order"),
}
REASON_LABELS = {
    OrderStatus.REJECTED: lambda: _("Why reject this order? (kept in its history)"),
    OrderStatus.CANCELLED: lambda: _("Why cancel this order? (kept in its history)"),
}


def partial_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For htmx fragments: when the session has expired, reload the whole page (which then asks to log in)
    instead of swapping the login form into a fragment."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponse(status=204, headers={"HX-Refresh": "true"})
        return view(request, *args, **kwargs)

    return wrapper


def _establishments(request: HttpRequest, establishment_id: int) -> tuple[Establishment, list[Establishment]]:
    """The establishment shown and all those of the user (for the switcher), in one query; a 404 if not a member."""
    mine = list(selectors.establishments_of(request.user))
    for establishment in mine:
        if establishment.pk == establishment_id:
            return establishment, mine
    raise Http404


def _render(request: HttpRequest, establishment: Establishment, template: str, context: dict) -> HttpResponse:
    # Times are shown in the restaurant's time zone, whatever the server's.
    with timezone.override(establishment.tzinfo):
        context = {"establishment": establishment, "today": timezone.localdate(), **context}
        return render(request, template, context)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    establishment = selectors.establishments_of(request.user).first()
    if establishment is None:
        return render(request, "orders/no_establishment.html", status=403)
    return redirect("orders:list", establishment_id=establishment.pk)


@dataclass(frozen=True)
class ListRow:
    """One row of the order list, formatted here rather than in the template: Django's template
    engine took over a millisecond per row for the same work, most of the page's time."""

    order: Order
    url: str
    classes: str
    unopened: bool
    placed: str
    placed_day: str
    due: str
    due_day: str
    overdue: bool
    waited: str
    waiting: bool
    service: str
    service_class: str
    table: str
    customer: str
    see_label: str
    total: str
    status: str
    status_tone: str


def _list_rows(orders: list[Order], establishment: Establishment, list_url: str) -> list[ListRow]:
    zone = establishment.tzinfo
    now = timezone.now()
    today = timezone.localdate(now, zone)
    waiting_since = now - selectors.NEW_ORDER_ALERT_AFTER

    def time_and_day(moment: datetime) -> tuple[str, str]:
        local = timezone.localtime(moment, zone)
        day = "" if local.date() == today else formats.date_format(local, "SHORT_DATE_FORMAT")
        return formats.time_format(local, "H:i"), day

    rows = []
    for order in orders:
        finished = order.status in FINISHED_STATUSES
        overdue = not finished and order.expected_time is not None and order.expected_time < now
        waiting = order.status == OrderStatus.NEW and order.created_at < waiting_since
        unopened = order.tab == Tab.RECEIVED and order.first_opened_at is None
        classes = [
            name
            for name, on in (
                ("overdue", overdue),
                ("waiting", waiting),
                ("is-new", order.status == OrderStatus.NEW),
                ("unopened", unopened),
            )
            if on
        ]
        placed, placed_day = time_and_day(order.created_at)
        due, due_day = time_and_day(order.expected_time) if order.expected_time else ("", "")
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
                overdue=overdue,
                waited="" if finished else backoffice.waited(order.created_at),
                waiting=waiting,
                # The choices' labels directly: get_FOO_display() rebuilds a dict of the choices at each call.
                service=str(ServiceType(order.service_type).label) if order.service_type in ServiceType.values else "",
                service_class=order.service_type or "none",
                customer=order.customer_name or order.customer_company_name or "—",
                see_label=_("See the details of order %(ref)s") % {"ref": order.ref},
                table=_("table %(table)s") % {"table": order.table_name}
                if order.service_type == ServiceType.EAT_IN and order.table_name
                else "",
                total=backoffice.money(order.total, order.currency),
                status=backoffice.status_label(order.status),
                status_tone=backoffice.status_tone(order.status),
            )
        )
    return rows


def _list_context(request: HttpRequest, establishment_id: int, *, with_others: bool) -> dict:
    try:
        tab = Tab(request.GET.get("tab", Tab.RECEIVED))
    except ValueError:
        raise Http404 from None
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    establishment, establishments, summary = selectors.establishments_with_summary(
        request.user, establishment_id, timezone.now() - selectors.NEW_ORDER_ALERT_AFTER, with_others=with_others
    )
    orders = selectors.orders_of(establishment)
    cursor = Cursor.decode(request.GET.get("cursor"))
    if query:
        # A search looks in every tab: whoever asks about an order rarely knows where it is.
        page = selectors.list_page(selectors.search_orders(orders, query), None, cursor, PAGE_SIZE)
        page_count = None
    else:
        page = selectors.list_page(orders, tab, cursor, PAGE_SIZE)
        # The counters give the number of pages for free; orders moving between
        # tabs while someone pages through can make it lag by one.
        page_count = max(page.number, -(-summary.counts[tab] // PAGE_SIZE))
    list_url = reverse("orders:list", args=[establishment.pk])
    return {
        "establishment": establishment,
        "establishments": establishments,
        "rows": _list_rows(page.object_list, establishment, list_url),
        "tab": tab,
        "tabs": [(t, summary.counts[t]) for t in Tab],
        "query": query,
        "page": page,
        "page_count": page_count,
        "waiting_too_long": summary.waiting,
        "unopened": summary.unopened,
        "latest_unopened": summary.latest_unopened or 0,
        "finished_statuses": FINISHED_STATUSES,
        "filters": urlencode({"q": query} if query else {"tab": tab.value}),
        "live_query": request.GET.urlencode(),
    }


@login_required
@require_GET
def order_list(request: HttpRequest, establishment_id: int) -> HttpResponse:
    context = _list_context(request, establishment_id, with_others=True)
    return _render(request, context["establishment"], "orders/order_list.html", context)


@partial_login_required
@require_GET
def order_list_live(request: HttpRequest, establishment_id: int) -> HttpResponse:
    context = _list_context(request, establishment_id, with_others=False)
    return _render(request, context["establishment"], "orders/_order_list_live.html", context)


def _actions(order: Order) -> list[dict]:
    usual = next_usual_step(order.status, order.service_type)
    actions = []
    for status in staff_transitions(order.status, order.service_type):
        label = BUTTON_LABELS[status]() if status in BUTTON_LABELS else OrderStatus(status).label
        actions.append(
            {
                "status": status,
                "label": label,
                "primary": status == usual,
                "destructive": status in DESTRUCTIVE_STATUSES,
                "needs_reason": status in REASON_REQUIRED,
                "reason_label": REASON_LABELS[status]() if status in REASON_LABELS else _("Reason"),
            }
        )
    # The usual next step comes first, where the thumb expects it.
    actions.sort(key=lambda action: (not action["primary"], action["destructive"]))
    return actions


@login_required
@require_GET
def order_detail(request: HttpRequest, establishment_id: int, order_id: int) -> HttpResponse:
    establishment, establishments = _establishments(request, establishment_id)
    order = selectors.order_for(establishment, order_id)
    services.mark_opened(order)
    deals = list(order.deals.all())
    deal_by_key = {deal.key: deal for deal in deals}
    items = list(order.items.all())
    for item in items:
        item.deal = deal_by_key.get(item.deal_key)
    context = {
        "establishments": establishments,
        "order": order,
        "items": items,
        "deals": deals,
        "discounts": order.discounts.all(),
        "charges": order.charges.all(),
        "payments": order.payments.all(),
        "history": order.history.all(),
        "tab": tab_of(order.status),
        "actions": _actions(order),
        "shown_status": order.status,
    }
    return _render(request, establishment, "orders/order_detail.html", context)


@partial_login_required
@require_GET
def order_status_live(request: HttpRequest, establishment_id: int, order_id: int) -> HttpResponse:
    establishment = selectors.establishment_for(request.user, establishment_id)
    order = get_object_or_404(selectors.orders_of(establishment), pk=order_id)
    shown_status = request.GET.get("shown", "")
    context = {"order": order, "shown_status": shown_status, "changed": shown_status != order.status}
    return _render(request, establishment, "orders/_order_status_live.html", context)


@login_required
@require_POST
def change_order_status(request: HttpRequest, establishment_id: int, order_id: int) -> HttpResponse:
    establishment = selectors.establishment_for(request.user, establishment_id)
    order = get_object_or_404(selectors.orders_of(establishment), pk=order_id)
    target = request.POST.get("status", "")
    try:
        change = services.change_status(
            order,
            target,
            source=StatusChange.Source.STAFF,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            expected_current=request.POST.get("expected_current") or None,
        )
    except services.OrderError as error:
        messages.error(request, str(error))
    else:
        if change is None:
            messages.info(request, _("Order %(ref)s was already “%(status)s”.") % _ref_and_status(order))
        else:
            messages.success(request, _("Order %(ref)s is now “%(status)s”.") % _ref_and_status(order))
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect(reverse("orders:detail", args=[establishment.pk, order.pk]))


@login_required
@require_POST
def change_order_confirmed_time(request: HttpRequest, establishment_id: int, order_id: int) -> HttpResponse:
    """The time the kitchen commits to ("Confirmée pour 19:45"), on the day the order is for."""
    establishment = selectors.establishment_for(request.user, establishment_id)
    order = get_object_or_404(selectors.orders_of(establishment), pk=order_id)
    detail = redirect(reverse("orders:detail", args=[establishment.pk, order.pk]))
    try:
        at = datetime.strptime(request.POST.get("confirmed_time", "").strip(), "%H:%M").time()
    except ValueError:
        messages.error(request, _("Give a time such as 19:45."))
        return detail
    tz = establishment.tzinfo
    day = timezone.localtime(order.confirmed_time or order.expected_time or timezone.now(), tz).date()
    try:
        changed = services.change_confirmed_time(order, datetime.combine(day, at, tzinfo=tz), source=StatusChange.Source.STAFF)
    except services.OrderError as error:
        messages.error(request, str(error))
        return detail
    if changed:
        messages.success(
            request, _("Order %(ref)s is now confirmed for %(time)s.") % {"ref": order.ref, "time": at.strftime("%H:%M")}
        )
    return detail


def _ref_and_status(order: Order) -> dict[str, str]:
    return {"ref": order.ref, "status": order.get_status_display()}
