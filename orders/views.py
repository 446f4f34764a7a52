"""The staff pages: an establishment's orders in four tabs, one order, its status buttons.

Views stay thin: reads go through orders.selectors (which scope everything to
the user's establishments, a 404 otherwise) and every status change through
orders.services.change_status.
"""

from collections.abc import Callable
from datetime import datetime, time, timedelta
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
from django.utils.translation import gettext_lazy, ngettext_lazy
from django.views.decorators.http import require_GET, require_POST

from orders import live_poll, selectors, services
from orders.allergens import mentions_allergy
from orders.list_rows import is_late, list_rows
from orders.models import Establishment, Membership, Order, StatusChange
from orders.pagination import Cursor
from orders.ready_time import DELAY_MINUTES, PastReadyTime, ready_choices, ready_time_at
from orders.status import (
    REASON_REQUIRED,
    OrderStatus,
    ServiceType,
    Tab,
    next_usual_step,
    staff_transitions,
    tab_of,
)

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
# One tap for the usual reasons; "Other" asks for words. A rejection's reason reaches HubRise.
PRESET_REASONS = (
    gettext_lazy("Out of stock"),
    gettext_lazy("Too many orders"),
    gettext_lazy("Establishment closed"),
    gettext_lazy("Address outside the delivery area"),
)
# Statuses of an order whose ready time can still be pushed back.
DELAYABLE_STATUSES = frozenset({OrderStatus.ACCEPTED, OrderStatus.IN_PREPARATION})
# A cookie rather than the session: writing the session on each visit would cost the list a query.
LAST_ESTABLISHMENT_COOKIE = "getresto_establishment"
# The chime rings again this often while an order of Reçu is unseen (static/js/new_orders.js).
CHIME_REPEAT_SECONDS = 20
# The list's alert for one waiting order and for more (the two forms of French and English), for
# static/js/list_times.js, which counts the orders that cross the five minutes between renders.
_WAITING_SINGULAR = "%(counter)s new order has been waiting for more than 5 minutes."
_WAITING_PLURAL = "%(counter)s new orders have been waiting for more than 5 minutes."
WAITING_ALERT = {
    "one": ngettext_lazy(_WAITING_SINGULAR, _WAITING_PLURAL, 1),
    "other": ngettext_lazy(_WAITING_SINGULAR, _WAITING_PLURAL, 2),
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


def _remember_establishment(response: HttpResponse, establishment_id: int, *, secure: bool) -> HttpResponse:
    """Where "Get Resto" (the home page) leads next time; not a secret, and checked against the memberships."""
    response.set_cookie(
        LAST_ESTABLISHMENT_COOKIE, str(establishment_id), max_age=365 * 24 * 3600, httponly=True, samesite="Lax", secure=secure
    )
    return response


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The establishment the user last opened, else the first one they were given access to (their own)."""
    memberships = Membership.objects.filter(user=request.user).order_by("pk").values_list("establishment_id", flat=True)
    mine = list(memberships)
    if not mine:
        return render(request, "orders/no_establishment.html", status=403)
    last = request.COOKIES.get(LAST_ESTABLISHMENT_COOKIE, "")
    last_id = int(last) if last.isdigit() else None
    return redirect("orders:list", establishment_id=last_id if last_id in mine else mine[0])


def _list_context(request: HttpRequest, establishment_id: int, *, with_others: bool) -> dict:
    try:
        tab = Tab(request.GET.get("tab", Tab.RECEIVED))
    except ValueError:
        raise Http404 from None
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    establishment, establishments, summary = selectors.establishments_with_summary(
        request.user, establishment_id, timezone.now() - selectors.NEW_ORDER_ALERT_AFTER, with_others=with_others
    )
    filters = selectors.ListFilters.from_query(request.GET, establishment.channels)
    today = timezone.localdate(timezone.now(), establishment.tzinfo)
    orders = selectors.filter_orders(selectors.orders_of(establishment), filters, establishment.tzinfo, today)
    cursor = Cursor.decode(request.GET.get("cursor"))
    if query:
        # A search looks in every tab: whoever asks about an order rarely knows where it is.
        page = selectors.list_page(selectors.search_orders(orders, query, establishment.country), None, cursor, PAGE_SIZE)
        page_count = None
    else:
        # The first page of a tab, what every open screen polls, has its statement compiled once.
        unfiltered_start = cursor is None and not filters
        page = (
            selectors.first_page(establishment.pk, tab, PAGE_SIZE)
            if unfiltered_start
            else selectors.list_page(orders, tab, cursor, PAGE_SIZE)
        )
        # The counters give the number of pages for free (not of a filtered tab); orders moving
        # between tabs while someone pages through can make it lag by one.
        page_count = None if filters else max(page.number, -(-summary.counts[tab] // PAGE_SIZE))
    list_url = reverse("orders:list", args=[establishment.pk])
    kept = {"q": query} if query else {"tab": tab.value}
    active = tab in selectors.ACTIVE_TABS and not query
    return {
        "establishment": establishment,
        "establishments": establishments,
        "rows": list_rows(page.object_list, establishment, list_url, sections=active and filters.day != "later"),
        "tab": tab,
        "tabs": [(t, summary.counts[t]) for t in Tab],
        "query": query,
        "page": page,
        "page_count": page_count,
        "waiting_too_long": summary.waiting,
        "waiting_from": " ".join(str(moment) for moment in summary.waiting_from),
        "waiting_alert": WAITING_ALERT,
        "unopened": summary.unopened,
        "latest_unopened": summary.latest_unopened or 0,
        "list_filters": filters,
        "filter_choices": {
            "services": ServiceType.choices,
            "channels": establishment.channels,
            "by_day": active,
            "by_date": not active,
        },
        "filters": urlencode({**kept, **filters.as_params()}),
        "tab_filters": urlencode(filters.as_params()),
        "live_query": request.GET.urlencode(),
    }


@login_required
@require_GET
def order_list(request: HttpRequest, establishment_id: int) -> HttpResponse:
    context = _list_context(request, establishment_id, with_others=True)
    context["chime_repeat_seconds"] = CHIME_REPEAT_SECONDS
    response = _render(request, context["establishment"], "orders/order_list.html", context)
    live_poll.grant(request, establishment_id)
    return _remember_establishment(response, establishment_id, secure=request.is_secure())


@login_required
@require_GET
def live_stream_elsewhere(request: HttpRequest, establishment_id: int, order_id: int | None = None) -> HttpResponse:
    # No stream here (the web process, or no stream process configured): a 204 tells the page's EventSource to stop,
    # and the page polls every 3 s. Another establishment's screen gets the 404 of every other page.
    establishment = selectors.establishment_for(request.user, establishment_id)
    if order_id is not None:
        get_object_or_404(selectors.orders_of(establishment).only("pk"), pk=order_id)
    return HttpResponse(status=204)


@partial_login_required
@require_GET
def order_list_live(request: HttpRequest, establishment_id: int) -> HttpResponse:
    # Reached when orders.live_poll could not answer from Redis: something changed, or nothing is known yet.
    context = _list_context(request, establishment_id, with_others=False)
    establishment = context["establishment"]
    response = _render(request, establishment, "orders/_order_list_live.html", {**context, "live": True})
    return live_poll.finish(request, response, establishment.pk, None, establishment.screen_version)


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
                "asks_ready_time": status == OrderStatus.ACCEPTED,
                "reason_label": REASON_LABELS[status]() if status in REASON_LABELS else _("Reason"),
            }
        )
    # The usual next step comes first, where the thumb expects it.
    actions.sort(key=lambda action: (not action["primary"], action["destructive"]))
    return actions


def _ready_choices(order: Order, establishment: Establishment) -> dict:
    choices = ready_choices(timezone.now(), order.expected_time, establishment.preparation_time_now())
    return {"minutes": choices.minutes, "default": choices.default_minutes, "requested": choices.requested}


def _history(order: Order) -> list[dict]:
    """Status changes and ready-time changes, in the order they happened."""
    entries = [{"at": change.at, "id": change.pk, "change": change} for change in order.history.all()]
    entries += [{"at": ready.at, "id": ready.pk, "ready": ready} for ready in order.ready_time_changes.all()]
    # Changes another app made elsewhere (orders.remote_edits): the items, the seller's notes.
    entries += [{"at": edit.at, "id": edit.pk, "edit": edit, "by": who_changed(edit)} for edit in order.edits.all()]
    for entry in entries:
        reason = entry["change"].reason if "change" in entry else ""
        entry["allergy"] = mentions_allergy(reason)
    # A status change and the ready time it set share their time: the status change reads first.
    for entry in entries:
        if "ready" in entry and entry["ready"].source_detail:
            entry["by"] = entry["ready"].source_detail
        elif "ready" in entry and entry["ready"].source == StatusChange.Source.HUBRISE:
            entry["by"] = who_changed(entry["ready"])
    return sorted(entries, key=lambda entry: (entry["at"], "ready" in entry, entry["id"]))


def who_changed(change) -> str:
    """Who made a change, as staff say it: a colleague's name, the app HubRise named, or where it came from."""
    if change is None:
        return _("someone else")
    if getattr(change, "actor", None) is not None:
        return change.actor.get_short_name() or change.actor.get_username()
    if change.source_detail:
        return change.source_detail
    return {
        StatusChange.Source.STAFF: _("a colleague"),
        StatusChange.Source.API: _("the ordering front"),
        StatusChange.Source.ADMIN: _("the administration"),
        StatusChange.Source.HUBRISE: _("HubRise (the till or another app)"),
        StatusChange.Source.SYSTEM: _("the system"),
    }.get(change.source, change.source)


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
        item.allergy = mentions_allergy(item.customer_notes)
    context = {
        "establishments": establishments,
        "order": order,
        "items": items,
        "deals": deals,
        "discounts": order.discounts.all(),
        "charges": order.charges.all(),
        "payments": order.payments.all(),
        "history": _history(order),
        "tab": tab_of(order.status),
        "actions": _actions(order),
        "ready": _ready_choices(order, establishment),
        "preset_reasons": PRESET_REASONS,
        "delay_minutes": DELAY_MINUTES if order.status in DELAYABLE_STATUSES else None,
        "late": is_late(order, timezone.now()),
        "notes_allergy": mentions_allergy(order.customer_notes),
        "shown_status": order.status,
    }
    live_poll.grant(request, establishment.pk)
    return _render(request, establishment, "orders/order_detail.html", context)


@partial_login_required
@require_GET
def order_status_live(request: HttpRequest, establishment_id: int, order_id: int) -> HttpResponse:
    establishment = selectors.establishment_for(request.user, establishment_id)
    order = get_object_or_404(selectors.orders_of(establishment), pk=order_id)
    shown_status = request.GET.get("shown", "")
    changed = shown_status != order.status
    last = order.history.select_related("actor").order_by("-at", "-id").first() if changed else None
    context = {"order": order, "shown_status": shown_status, "changed": changed, "changed_by": who_changed(last)}
    response = _render(request, establishment, "orders/_order_status_live.html", context)
    return live_poll.finish(request, response, establishment.pk, order.pk, order.screen_version)


@login_required
@require_POST
def change_order_status(request: HttpRequest, establishment_id: int, order_id: int) -> HttpResponse:
    establishment = selectors.establishment_for(request.user, establishment_id)
    order = get_object_or_404(selectors.orders_of(establishment), pk=order_id)
    target = request.POST.get("status", "")
    expected_current = request.POST.get("expected_current", "")
    if not expected_current:
        # Without the status the page showed, a stale page could overwrite a newer status unseen.
        messages.error(request, _("The page did not say which status it showed: reload it and choose again."))
        return redirect(reverse("orders:detail", args=[establishment.pk, order.pk]))
    try:
        if target == OrderStatus.ACCEPTED:
            change = services.accept_order(
                order,
                source=StatusChange.Source.STAFF,
                actor=request.user,
                ready_at=_asked_ready_time(request, establishment, order),
                expected_current=expected_current,
            )
        else:
            change = services.change_status(
                order,
                target,
                source=StatusChange.Source.STAFF,
                actor=request.user,
                reason=_reason(request),
                expected_current=expected_current,
            )
    except services.StaleStatus:
        messages.error(request, _stale_message(order))
        return redirect(reverse("orders:detail", args=[establishment.pk, order.pk]))
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
def delay_order(request: HttpRequest, establishment_id: int, order_id: int) -> HttpResponse:
    establishment = selectors.establishment_for(request.user, establishment_id)
    order = get_object_or_404(selectors.orders_of(establishment), pk=order_id)
    try:
        services.delay_order(order, DELAY_MINUTES, source=StatusChange.Source.STAFF, actor=request.user)
    except services.OrderError as error:
        messages.error(request, str(error))
    else:
        with timezone.override(establishment.tzinfo):
            ready = formats.time_format(timezone.localtime(order.confirmed_time), "H:i")
        messages.success(request, _("Order %(ref)s will be ready at %(time)s.") % {"ref": order.ref, "time": ready})
    return redirect(reverse("orders:detail", args=[establishment.pk, order.pk]))


@login_required
@require_POST
def change_order_confirmed_time(request: HttpRequest, establishment_id: int, order_id: int) -> HttpResponse:
    """A ready time typed on the order page ("Prête à 19:45"): the next time the clock shows it."""
    establishment = selectors.establishment_for(request.user, establishment_id)
    order = get_object_or_404(selectors.orders_of(establishment), pk=order_id)
    try:
        clock = time.fromisoformat(request.POST.get("confirmed_time", "").strip())
    except ValueError:
        messages.error(request, _("Type the ready time as hours and minutes, e.g. 19:30."))
        return redirect(reverse("orders:detail", args=[establishment.pk, order.pk]))
    try:
        ready_at = ready_time_at(clock, timezone.now(), establishment.tzinfo)
        changed = services.set_ready_time(order, ready_at, source=StatusChange.Source.STAFF, actor=request.user)
    except PastReadyTime:
        messages.error(request, _("This ready time has already passed: choose a later one."))
    except services.OrderError as error:
        messages.error(request, str(error))
    else:
        if changed:
            messages.success(
                request, _("Order %(ref)s will be ready at %(time)s.") % {"ref": order.ref, "time": clock.strftime("%H:%M")}
            )
    return redirect(reverse("orders:detail", args=[establishment.pk, order.pk]))


def _asked_ready_time(request: HttpRequest, establishment: Establishment, order: Order) -> datetime | None:
    """The ready time the accept buttons sent: in N minutes, the guest's time, or a typed HH:MM."""
    now = timezone.now()
    if request.POST.get("ready") == "requested" and order.expected_time is not None:
        # The exact time, whatever its day: a pre-order for tomorrow is not "12:30 today".
        return order.expected_time
    minutes = request.POST.get("ready_in", "")
    if minutes.isdigit() and 0 < int(minutes) <= 24 * 60:
        return now + timedelta(minutes=int(minutes))
    clock = request.POST.get("ready_at", "")
    if request.POST.get("ready") == "at" and not clock:
        raise services.OrderError(_("Type the ready time as hours and minutes, e.g. 19:30."))
    if clock:
        try:
            return ready_time_at(time.fromisoformat(clock), now, establishment.tzinfo)
        except ValueError as error:
            if isinstance(error, PastReadyTime):
                raise services.PastReadyTime(_("This ready time has already passed: choose a later one.")) from error
            raise services.OrderError(_("Type the ready time as hours and minutes, e.g. 19:30.")) from error
    return None


def _reason(request: HttpRequest) -> str:
    """A preset reason's button, or the words typed under "Other"."""
    preset = request.POST.get("preset_reason", "")
    return preset if preset else request.POST.get("reason", "")


def _stale_message(order: Order) -> str:
    last = order.history.select_related("actor").order_by("-at", "-id").first()
    return _("Your action was not applied: the order was moved to “%(status)s” by %(who)s.") % {
        "status": order.get_status_display(),
        "who": who_changed(last),
    }


def _ref_and_status(order: Order) -> dict[str, str]:
    return {"ref": order.ref, "status": order.get_status_display()}
