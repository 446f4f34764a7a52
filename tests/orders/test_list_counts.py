"""What the list's speed rests on: each order's stored tab and due time, and the counters per status."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from orders import selectors, services
from orders.models import Order, OrderStatusCount
from orders.status import TAB_STATUSES, OrderStatus, Tab, tab_of
from tests.factories import make_establishment, make_order

pytestmark = pytest.mark.django_db


def counted_tabs(establishment) -> dict[Tab, int]:
    return selectors.tab_counts(establishment)


def real_tabs(establishment) -> dict[Tab, int]:
    return {
        tab: Order.objects.filter(establishment=establishment, status__in=statuses).count()
        for tab, statuses in TAB_STATUSES.items()
    }


def test_a_new_order_stores_its_tab_and_is_due_when_expected_or_as_soon_as_placed():
    establishment = make_establishment()
    expected = timezone.now() + timedelta(minutes=45)

    scheduled = make_order(establishment, expected_time=expected)
    asap = make_order(establishment, status="completed")

    assert (scheduled.tab, scheduled.due_at) == (Tab.RECEIVED, expected)
    assert (asap.tab, asap.due_at) == (Tab.COMPLETED, asap.created_at)


def test_a_status_change_moves_the_order_to_its_new_tab_and_keeps_its_due_time():
    establishment = make_establishment()
    order = make_order(establishment)
    due = order.due_at

    services.change_status(order, "in_preparation", source="hubrise")

    stored = Order.objects.get(pk=order.pk)
    assert (order.tab, stored.tab, stored.due_at) == (Tab.IN_PREPARATION, Tab.IN_PREPARATION, due)


def test_the_counters_follow_every_creation_and_change_from_every_source():
    establishment = make_establishment()
    other = make_establishment("Ailleurs")
    rng = random.Random(5)
    orders = [make_order(rng.choice((establishment, other)), status=rng.choice(OrderStatus.values)) for _ in range(20)]
    for _ in range(40):
        order = rng.choice(orders)
        services.change_status(order, rng.choice(OrderStatus.values), source=rng.choice(("hubrise", "admin", "system")))

    for place in (establishment, other):
        assert counted_tabs(place) == real_tabs(place)
        assert all(order.tab == tab_of(order.status) for order in Order.objects.filter(establishment=place))


def test_a_refused_change_leaves_the_counters_alone():
    establishment = make_establishment()
    order = make_order(establishment, status="completed")

    with pytest.raises(services.TransitionNotAllowed):
        services.change_status(order, "new", source="staff")

    assert counted_tabs(establishment) == {Tab.RECEIVED: 0, Tab.IN_PREPARATION: 0, Tab.COMPLETED: 1, Tab.CANCELLED: 0}


def test_counters_can_be_rebuilt_from_the_orders_after_a_bulk_load_or_a_repair():
    establishment = make_establishment()
    for status in ("new", "new", "completed", "cancelled"):
        make_order(establishment, status=status)
    OrderStatusCount.objects.filter(establishment=establishment).update(count=99)

    services.rebuild_status_counts(establishment)

    assert (
        counted_tabs(establishment)
        == real_tabs(establishment)
        == {
            Tab.RECEIVED: 2,
            Tab.IN_PREPARATION: 0,
            Tab.COMPLETED: 1,
            Tab.CANCELLED: 1,
        }
    )


def test_the_list_summary_counts_waiting_and_unopened_orders_of_the_shown_establishment_only():
    from tests.factories import make_user
    from tests.orders.pages import order_at

    establishment = make_establishment()
    other = make_establishment("Ailleurs")
    user = make_user(establishment)
    make_user(other, username="autre")
    old = order_at(establishment, timezone.now() - timedelta(minutes=8))
    latest = make_order(establishment)
    opened = make_order(establishment)
    services.mark_opened(opened)
    make_order(other)

    shown, mine, summary = selectors.establishments_with_summary(
        user, establishment.pk, timezone.now() - selectors.NEW_ORDER_ALERT_AFTER, with_others=True
    )

    assert shown == establishment and mine == [establishment]
    assert summary.counts[Tab.RECEIVED] == 3
    assert summary.waiting == 1
    assert (summary.unopened, summary.latest_unopened) == (2, latest.pk)
    assert old.pk < latest.pk
