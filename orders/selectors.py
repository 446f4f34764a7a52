"""Reads of orders, always scoped to what the user may see."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import CharField, F, IntegerField, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.shortcuts import get_object_or_404

from getresto import statements
from orders import extensions
from orders.models import Establishment, Order, OrderItem, OrderStatusCount, ReadyTimeChange, StatusChange
from orders.pagination import Cursor, KeysetPage, forward_page, keyset_page
from orders.phones import search_forms
from orders.status import TAB_STATUSES, OrderStatus, ServiceType, Tab


def establishments_of(user: AbstractBaseUser) -> QuerySet[Establishment]:
    """The user's establishments, each with ``user_role``, the user's role there (from the same join)."""
    return Establishment.objects.filter(memberships__user=user).annotate(user_role=F("memberships__role")).order_by("name")


def establishment_for(user: AbstractBaseUser, establishment_id: int) -> Establishment:
    """The establishment if the user belongs to it; a 404 otherwise, so ids leak nothing."""
    return get_object_or_404(establishments_of(user), pk=establishment_id)


def tab_counts(establishment: Establishment) -> dict[Tab, int]:
    by_status = dict(OrderStatusCount.objects.filter(establishment=establishment).values_list("status", "count"))
    return {tab: sum(by_status.get(status, 0) for status in statuses) for tab, statuses in TAB_STATUSES.items()}


ACTIVE_TABS = frozenset({Tab.RECEIVED, Tab.IN_PREPARATION})
# HubRise advises alerting staff when an order is still "new" after about five minutes.
NEW_ORDER_ALERT_AFTER = timedelta(minutes=5)


def orders_of(establishment: Establishment) -> QuerySet[Order]:
    return Order.objects.filter(establishment=establishment)


def search_orders(orders: QuerySet[Order], query: str, country: str = "FR") -> QuerySet[Order]:
    """Orders whose ref, customer name or phone contain every word of ``query``.

    A query that looks like a phone number is looked for as one, spaces and all:
    staff type it as the guest says it ("06 12 34…") while the intake API stores
    E.164 ("+33612…"), see orders.phones.search_forms.
    """
    phone_forms = search_forms(query, country)
    if phone_forms is not None:
        matches = Q(ref__icontains=query.strip())
        for form in phone_forms:
            matches |= Q(customer_phone__contains=form)
        return orders.filter(matches)
    for word in query.split():
        matches = (
            Q(ref__icontains=word)
            | Q(customer_first_name__icontains=word)
            | Q(customer_last_name__icontains=word)
            | Q(customer_phone__icontains=word)
        )
        orders = orders.filter(matches)
    return orders


@dataclass(frozen=True)
class ListFilters:
    """The list's filters, from the query string; anything unknown is ignored rather than an error."""

    service: str = ""
    channel: str = ""
    # "today" (due before tomorrow, the late ones included) or "later" (due from tomorrow on).
    day: str = ""
    since: date | None = None
    until: date | None = None

    DAYS = ("today", "later")

    @classmethod
    def from_query(cls, params, channels: list[str]) -> "ListFilters":
        service = params.get("service", "")
        channel = params.get("channel", "")
        day = params.get("day", "")
        return cls(
            service=service if service in ServiceType.values else "",
            channel=channel if channel in channels else "",
            day=day if day in cls.DAYS else "",
            since=_date(params.get("since")),
            until=_date(params.get("until")),
        )

    def __bool__(self) -> bool:
        return bool(self.service or self.channel or self.day or self.since or self.until)

    def as_params(self) -> dict[str, str]:
        params = {"service": self.service, "channel": self.channel, "day": self.day}
        params["since"] = self.since.isoformat() if self.since else ""
        params["until"] = self.until.isoformat() if self.until else ""
        return {key: value for key, value in params.items() if value}


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filter_orders(orders: QuerySet[Order], filters: ListFilters, zone: ZoneInfo, today: date) -> QuerySet[Order]:
    """Narrow the list; dates are the establishment's days. Each filter keeps the tab's index range usable."""
    if filters.service:
        orders = orders.filter(service_type=filters.service)
    if filters.channel:
        orders = orders.filter(channel=filters.channel)
    if filters.day:
        tomorrow = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
        orders = orders.filter(due_at__lt=tomorrow) if filters.day == "today" else orders.filter(due_at__gte=tomorrow)
    if filters.since:
        orders = orders.filter(created_at__gte=datetime.combine(filters.since, time.min, tzinfo=zone))
    if filters.until:
        orders = orders.filter(created_at__lt=datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=zone))
    return orders


@dataclass(frozen=True)
class ListSummary:
    """What the list shows above the rows: counts per tab and the alerts."""

    counts: dict[Tab, int]
    # Orders still "new" since before the alert threshold.
    waiting: int
    # When each of the other "new" orders crosses the threshold, as Unix seconds: the page counts them itself.
    waiting_from: tuple[int, ...]
    # Orders in Reçu that nobody has opened yet, and the newest of them (the page rings when it changes).
    unopened: int
    latest_unopened: int | None


def _summary_sql() -> dict[str, tuple[str, tuple[str, ...]]]:
    """The list's summary as scalar subqueries that do not depend on the outer row: PostgreSQL
    runs each once, from the counters or a small partial index, whatever the number of orders.
    Hand-written because the ORM's version of the same took milliseconds to compile per request."""
    # Only our own table names are formatted in; every value is a query parameter.
    counts = OrderStatusCount._meta.db_table
    orders = Order._meta.db_table
    sql = {}
    for tab in Tab:
        statuses = TAB_STATUSES[tab]
        sql[f"count_{tab.name}"] = (
            f"SELECT COALESCE(SUM(count), 0) FROM {counts} WHERE establishment_id = %s"  # noqa: S608
            f" AND status IN ({', '.join(['%s'] * len(statuses))})",
            tuple(statuses),
        )
    sql["waiting"] = (
        f"SELECT COUNT(*) FROM {orders} WHERE establishment_id = %s AND status = %s AND created_at < %s",  # noqa: S608
        (OrderStatus.NEW,),
    )
    sql["new_since"] = (
        "SELECT COALESCE(string_agg(floor(extract(epoch FROM created_at))::bigint::text, ' ' ORDER BY created_at), '')"  # noqa: S608
        f" FROM {orders} WHERE establishment_id = %s AND status = %s AND created_at >= %s",
        (OrderStatus.NEW,),
    )
    unopened = f"FROM {orders} WHERE establishment_id = %s AND tab = %s AND first_opened_at IS NULL"
    sql["unopened"] = (f"SELECT COUNT(*) {unopened}", (Tab.RECEIVED,))
    sql["latest_unopened"] = (f"SELECT MAX(id) {unopened}", (Tab.RECEIVED,))
    return sql


SUMMARY_SQL = _summary_sql()


def _with_summary(user: AbstractBaseUser | int, establishment_id: int, waiting_since: datetime, *, with_others: bool):
    annotations = {}
    for name, (sql, params) in SUMMARY_SQL.items():
        since = name in ("waiting", "new_since")
        values = (establishment_id, *params, waiting_since) if since else (establishment_id, *params)
        output = CharField() if name == "new_since" else IntegerField()
        annotations[name] = RawSQL(sql, values, output_field=output)  # noqa: S611
    establishments = establishments_of(user).select_related(*extensions.establishment_select_related)
    if not with_others:
        establishments = establishments.filter(pk=establishment_id)
    return establishments.annotate(**annotations)


# The shown establishment alone, as the live list asks every time it renders, compiled once: the ORM took about
# 2 ms to compile its eight subqueries. The stand-ins are a user, an establishment and a time no call has.
_SHOWN_WITH_SUMMARY = statements.Select(
    lambda user_id, establishment_id, since: _with_summary(user_id, establishment_id, since, with_others=False),
    -1_000_000_001,
    -1_000_000_002,
    datetime(1900, 1, 1, tzinfo=ZoneInfo("UTC")),
)


def establishments_with_summary(
    user: AbstractBaseUser, establishment_id: int, waiting_since: datetime, *, with_others: bool
) -> tuple[Establishment, list[Establishment], ListSummary]:
    """The establishment shown (a 404 if the user is not a member), the user's other establishments
    when ``with_others`` (for the switcher), and the list's summary, all in one query."""
    if with_others:
        mine = list(_with_summary(user, establishment_id, waiting_since, with_others=True))
    else:
        mine = _SHOWN_WITH_SUMMARY.objects(user.pk, establishment_id, waiting_since)
    shown = next((establishment for establishment in mine if establishment.pk == establishment_id), None)
    if shown is None:
        raise Http404
    return (
        shown,
        mine,
        ListSummary(
            counts={tab: getattr(shown, f"count_{tab.name}") for tab in Tab},
            waiting=shown.waiting,
            waiting_from=tuple(int(created) + int(NEW_ORDER_ALERT_AFTER.total_seconds()) for created in shown.new_since.split()),
            unopened=shown.unopened,
            latest_unopened=shown.latest_unopened,
        ),
    )


def orders_for_list(orders: QuerySet[Order], tab: Tab) -> QuerySet[Order]:
    """The tab's orders: soonest due first while they are being handled, newest first once finished.

    An order without an expected time is wanted as soon as possible, so it is
    due from the moment it was placed (Order.due_at), among the orders due now.
    """
    orders = orders.filter(tab=tab)
    orders = orders.order_by("due_at", "id") if tab in ACTIVE_TABS else orders.order_by("-created_at", "-id")
    return with_list_relations(orders)


def list_page(orders: QuerySet[Order], tab: Tab | None, cursor: Cursor | None, size: int) -> KeysetPage:
    """One page of a tab (or, with ``tab`` None, of search results, newest first)."""
    if tab is None:
        page = keyset_page(with_list_relations(orders), "created_at", descending=True, cursor=cursor, size=size)
    else:
        active = tab in ACTIVE_TABS
        page = keyset_page(
            orders_for_list(orders, tab), "due_at" if active else "created_at", descending=not active, cursor=cursor, size=size
        )
    prefetch_list_relations(page.object_list)
    return page


# The first page of each tab, compiled once (statements.Select): the list's usual view, polled by every open screen.
_FIRST_PAGES: dict[tuple[Tab, int], statements.Select] = {}


def first_page(establishment_id: int, tab: Tab, size: int) -> KeysetPage:
    """The first page of a tab without search or filters: ``list_page`` of all the establishment's orders."""
    select = _FIRST_PAGES.get((tab, size))
    if select is None:
        select = _FIRST_PAGES.setdefault(
            (tab, size),
            statements.Select(lambda shown: orders_for_list(Order.objects.filter(establishment_id=shown), tab)[: size + 1], -1),
        )
    page = forward_page(select.objects(establishment_id), "due_at" if tab in ACTIVE_TABS else "created_at", None, size)
    prefetch_list_relations(page.object_list)
    return page


def list_items() -> Prefetch:
    """The dishes in short on each card: one query for the whole page, only the columns shown."""
    columns = ("order_id", "position", "product_name", "sku_name", "quantity", "customer_notes")
    return Prefetch("items", queryset=OrderItem.objects.only(*columns))


def with_list_relations(orders: QuerySet[Order]) -> QuerySet[Order]:
    """The rows' own relations that other apps show (orders.extensions), joined; prefetch_list_relations does the rest."""
    return orders.select_related(*extensions.list_select_related)


# Compiled once per lookup (statements.Prefetched): the ORM's prefetch_related compiled each of these queries for
# every render of a list, about a millisecond each.
_LIST_PREFETCHES: dict[Prefetch | str, statements.Prefetched] = {}


def prefetch_list_relations(orders: list[Order]) -> None:
    """The dishes and the rows that other apps show per order (orders.extensions), one query each for the whole page."""
    for lookup in (list_items(), *extensions.list_prefetch_related):
        prefetched = _LIST_PREFETCHES.get(lookup) or _LIST_PREFETCHES.setdefault(lookup, statements.Prefetched(Order, lookup))
        prefetched.fill(orders)


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
            Prefetch("ready_time_changes", queryset=ReadyTimeChange.objects.select_related("actor")),
            "edits",
            *extensions.detail_prefetch_related,
        )
    )
    return get_object_or_404(orders, pk=order_id)
