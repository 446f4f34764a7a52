"""Reads of orders, always scoped to what the user may see."""

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from orders import extensions
from orders.models import Establishment, Order, StatusChange
from orders.status import TAB_STATUSES, OrderStatus, Tab


def establishments_of(user: AbstractBaseUser) -> QuerySet[Establishment]:
    return Establishment.objects.filter(memberships__user=user).order_by("name")


def establishment_for(user: AbstractBaseUser, establishment_id: int) -> Establishment:
    """The establishment if the user belongs to it; a 404 otherwise, so ids leak nothing."""
    return get_object_or_404(establishments_of(user), pk=establishment_id)


def tab_counts(establishment: Establishment) -> dict[Tab, int]:
    by_status = dict(
        Order.objects.filter(establishment=establishment).values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return {tab: sum(by_status.get(status, 0) for status in statuses) for tab, statuses in TAB_STATUSES.items()}


def orders_in_tab(establishment: Establishment, tab: Tab) -> QuerySet[Order]:
    return Order.objects.filter(establishment=establishment, status__in=TAB_STATUSES[tab])


# An order without an expected time is wanted as soon as possible, so it is due
# from the moment it was placed; that puts it among the orders due now.
DUE_AT = Coalesce("expected_time", "created_at")
ACTIVE_TABS = frozenset({Tab.RECEIVED, Tab.IN_PREPARATION})
# HubRise advises alerting staff when an order is still "new" after about five minutes.
NEW_ORDER_ALERT_AFTER = timedelta(minutes=5)


def orders_of(establishment: Establishment) -> QuerySet[Order]:
    return Order.objects.filter(establishment=establishment)


def search_orders(orders: QuerySet[Order], query: str) -> QuerySet[Order]:
    """Orders whose ref, customer name or phone contain every word of ``query``."""
    for word in query.split():
        matches = (
            Q(ref__icontains=word)
            | Q(customer_first_name__icontains=word)
            | Q(customer_last_name__icontains=word)
            | Q(customer_phone__icontains=word)
        )
        # Staff type the number as the guest says it (06…); the ordering front sends +336….
        if word.isdigit() and word.startswith("0") and len(word) > 1:
            matches |= Q(customer_phone__icontains="+33" + word[1:])
        orders = orders.filter(matches)
    return orders


def tab_counts_and_waiting(orders: QuerySet[Order], waiting_since: datetime) -> tuple[dict[Tab, int], int]:
    """Orders per tab, and how many are still ``new`` since before ``waiting_since``, in one query."""
    rows = (
        orders.order_by()
        .values("status")
        .annotate(n=Count("id"), waiting=Count("id", filter=Q(status=OrderStatus.NEW, created_at__lt=waiting_since)))
    )
    by_status = {row["status"]: row["n"] for row in rows}
    waiting = sum(row["waiting"] for row in rows)
    counts = {tab: sum(by_status.get(status, 0) for status in statuses) for tab, statuses in TAB_STATUSES.items()}
    return counts, waiting


def orders_for_list(orders: QuerySet[Order], tab: Tab) -> QuerySet[Order]:
    """The tab's orders: soonest due first while they are being handled, newest first once finished."""
    orders = orders.filter(status__in=TAB_STATUSES[tab])
    if tab in ACTIVE_TABS:
        orders = orders.annotate(due_at=DUE_AT).order_by("due_at", "created_at", "id")
    else:
        orders = orders.order_by("-created_at", "-id")
    return with_list_relations(orders)


def with_list_relations(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Load what other apps show per row (orders.extensions) with the list's own queries."""
    return orders.select_related(*extensions.list_select_related).prefetch_related(*extensions.list_prefetch_related)


def order_for(establishment: Establishment, order_id: int) -> Order:
    """One order of the establishment with everything its page shows; a 404 for any other order."""
    orders = (
        orders_of(establishment)
        .select_related(*extensions.list_select_related)
        .prefetch_related(
            "items__options",
            "deals",
            "discounts",
            "charges",
            "payments",
            Prefetch("history", queryset=StatusChange.objects.select_related("actor")),
            *extensions.detail_prefetch_related,
        )
    )
    return get_object_or_404(orders, pk=order_id)
