"""Reads of orders, always scoped to what the user may see."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from orders.models import Establishment, Order
from orders.status import TAB_STATUSES, Tab


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
