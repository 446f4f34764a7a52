"""The day at a glance: orders and revenue, by service type, time to ready, late orders, orders per quarter hour.

One query reads the day's orders with the moment each became ready; the
figures are counted here. A restaurant's day is a few hundred orders at most.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from orders.models import Establishment, Order, StatusChange
from orders.status import OrderStatus, ServiceType

# Ready: handed over, or waiting for the guest or a courier.
READY_STATUSES = (
    OrderStatus.AWAITING_SHIPMENT,
    OrderStatus.AWAITING_COLLECTION,
    OrderStatus.IN_DELIVERY,
    OrderStatus.COMPLETED,
)
NOT_SOLD = (OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.DELIVERY_FAILED)
QUARTER = timedelta(minutes=15)


@dataclass(frozen=True)
class ServiceFigures:
    service_type: str
    label: str
    orders: int
    revenue: Decimal


@dataclass(frozen=True)
class Bar:
    start: datetime
    count: int


@dataclass
class DaySummary:
    day: date
    orders: int = 0
    revenue: Decimal = Decimal("0.00")
    not_sold: int = 0
    by_service: list[ServiceFigures] = field(default_factory=list)
    # Minutes from arrival to ready, on average, over the orders ready today; None before the first.
    average_to_ready: int | None = None
    late: int = 0
    quarters: list[Bar] = field(default_factory=list)


@dataclass(frozen=True)
class DayOrder:
    created_at: datetime
    service_type: str
    status: str
    total: Decimal
    promised: datetime | None
    ready_at: datetime | None


def day_orders(establishment: Establishment, day: date) -> list[DayOrder]:
    zone = establishment.tzinfo
    start = datetime.combine(day, time.min, tzinfo=zone)
    ready = StatusChange.objects.filter(order=OuterRef("pk"), to_status__in=READY_STATUSES).order_by("at").values("at")[:1]
    rows = (
        Order.objects.filter(establishment=establishment, created_at__gte=start, created_at__lt=start + timedelta(days=1))
        .annotate(ready_at=Subquery(ready))
        .values_list("created_at", "service_type", "status", "total", "confirmed_time", "expected_time", "ready_at")
    )
    return [
        DayOrder(created, service, status, total, confirmed or expected, ready_at)
        for created, service, status, total, confirmed, expected, ready_at in rows
    ]


def summarise(orders: list[DayOrder], day: date, zone: ZoneInfo, now: datetime) -> DaySummary:
    summary = DaySummary(day=day)
    sold = [order for order in orders if order.status not in NOT_SOLD]
    summary.orders = len(sold)
    summary.not_sold = len(orders) - len(sold)
    summary.revenue = sum((order.total for order in sold), Decimal("0.00"))
    for value, label in ServiceType.choices:
        of_type = [order for order in sold if order.service_type == value]
        if of_type:
            revenue = sum((order.total for order in of_type), Decimal("0.00"))
            summary.by_service.append(ServiceFigures(value, str(label), len(of_type), revenue))
    ready = [order for order in sold if order.ready_at is not None]
    if ready:
        seconds = sum((order.ready_at - order.created_at).total_seconds() for order in ready) / len(ready)
        summary.average_to_ready = round(seconds / 60)
    summary.late = sum(1 for order in sold if _late(order, now))
    summary.quarters = _quarters(orders, day, zone)
    return summary


def _late(order: DayOrder, now: datetime) -> bool:
    if order.promised is None:
        return False
    if order.ready_at is not None:
        return order.ready_at > order.promised
    return order.status not in READY_STATUSES and order.promised < now


def _quarters(orders: list[DayOrder], day: date, zone: ZoneInfo) -> list[Bar]:
    """Orders placed per quarter hour, from the first quarter with an order to the last."""
    if not orders:
        return []
    start = datetime.combine(day, time.min, tzinfo=zone)
    counts: dict[int, int] = {}
    for order in orders:
        index = int((order.created_at - start) / QUARTER)
        counts[index] = counts.get(index, 0) + 1
    first, last = min(counts), max(counts)
    return [Bar(start + index * QUARTER, counts.get(index, 0)) for index in range(first, last + 1)]


def today_summary(establishment: Establishment) -> DaySummary:
    now = timezone.now()
    day = timezone.localdate(now, establishment.tzinfo)
    return summarise(day_orders(establishment, day), day, establishment.tzinfo, now)
