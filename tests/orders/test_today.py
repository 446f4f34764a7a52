"""The "Today" page: the day's orders and revenue by service type, time to ready, late orders, a chart."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import StatusChange
from orders.services import change_status
from tests.factories import make_establishment, make_user
from tests.orders.pages import logged_in, order_at

pytestmark = pytest.mark.django_db
STAFF = StatusChange.Source.STAFF


def test_today_counts_orders_revenue_time_to_ready_and_late_orders_and_draws_the_quarter_hours():
    establishment = make_establishment()
    now = timezone.now()
    local_midnight = timezone.localtime(now, establishment.tzinfo).replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(local_midnight + timedelta(minutes=1), now - timedelta(hours=2))
    ready_one = order_at(establishment, start, service_type="eat_in")
    order_at(establishment, start + timedelta(minutes=1), service_type="collection", table_name="")
    cancelled = order_at(establishment, start + timedelta(minutes=2))
    change_status(cancelled, "cancelled", source=STAFF, reason="Rupture de stock")
    late = order_at(establishment, now - timedelta(minutes=40), status="accepted")
    change_status(ready_one, "awaiting_collection", source=StatusChange.Source.ADMIN)
    order_at(establishment, now - timedelta(days=2))  # another day

    html = logged_in(make_user(establishment)).get(reverse("orders:today", args=[establishment.pk])).content.decode()

    assert '<span class="figure-value">3</span>' in html  # the cancelled one is not sold
    assert '<span class="figure-value">63,00\u00a0€</span>' in html
    assert "Non comptée\u00a0: 1 commande refusée ou annulée." in html
    assert '<span class="service service-eat_in">Sur place</span></th><td class="num">2</td>' in html
    assert '<span class="service service-collection">À emporter</span></th><td class="num">1</td>' in html
    assert '<div class="figure figure-bad"><span class="figure-value">1</span>' in html
    assert late.confirmed_time < now
    assert html.count('class="chart-bar"') >= 1
    assert "<svg" in html and 'role="img"' in html
