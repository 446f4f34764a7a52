"""Pause, "very busy" mode and preparation time: one service for every entry point, a signal for HubRise's side,
the intake API refusing orders while paused, the ready times that follow."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import acceptance, signals
from orders.models import Acceptance, ApiKey, Membership, Order, StatusChange
from orders.services import OrdersPaused, accept_order, change_status, create_order, delay_order
from tests.factories import croque_order, make_order, make_user
from tests.orders.pages import logged_in

pytestmark = pytest.mark.django_db
STAFF = StatusChange.Source.STAFF


@pytest.fixture
def sent(request):
    """The signals sent, as (name, kwargs) pairs."""
    received = []

    def listen(name):
        def receiver(sender, **kwargs):
            received.append((name, kwargs))

        return receiver

    receivers = {name: listen(name) for name in ("service_state_changed", "order_updated")}
    for name, receiver in receivers.items():
        getattr(signals, name).connect(receiver)
    yield received
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


def test_a_pause_refuses_orders_from_the_ordering_front_and_creates_nothing(establishment, sent):
    acceptance.pause_orders(establishment, until=timezone.now() + timedelta(minutes=30), source=STAFF)

    with pytest.raises(OrdersPaused) as refused:
        create_order(establishment, croque_order(), source=StatusChange.Source.API)

    assert "ne prend pas de commandes" in str(refused.value) or "not taking orders" in str(refused.value)
    assert refused.value.resume_at == establishment.acceptance_until
    assert Order.objects.count() == 0
    assert [(name, kwargs["source"]) for name, kwargs in sent] == [("service_state_changed", STAFF)]


def test_orders_placed_elsewhere_are_still_recorded_during_a_pause(establishment):
    acceptance.pause_orders(establishment, until=None, source=StatusChange.Source.HUBRISE)

    create_order(establishment, croque_order(), source=StatusChange.Source.HUBRISE)

    assert Order.objects.count() == 1


def test_a_pause_ends_by_itself_at_its_time(establishment):
    acceptance.pause_orders(establishment, until=timezone.now() + timedelta(minutes=15), source=STAFF)

    assert establishment.acceptance_now() == Acceptance.PAUSED
    assert establishment.acceptance_now(timezone.now() + timedelta(minutes=16)) == Acceptance.ONLINE


def test_a_pause_that_ended_lets_orders_in_without_anyone_resuming(establishment):
    acceptance.pause_orders(establishment, until=timezone.now() + timedelta(minutes=15), source=STAFF)
    establishment.acceptance_until = timezone.now() - timedelta(seconds=1)
    establishment.save()

    create_order(establishment, croque_order(), source=StatusChange.Source.API)

    assert Order.objects.count() == 1


def test_a_pause_ending_in_the_past_is_refused(establishment):
    with pytest.raises(acceptance.AcceptanceError):
        acceptance.pause_orders(establishment, until=timezone.now() - timedelta(minutes=1), source=STAFF)

    establishment.refresh_from_db()
    assert establishment.acceptance == Acceptance.ONLINE


def test_the_busy_mode_adds_its_extra_time_to_the_ready_time_offered(establishment):
    acceptance.set_busy(establishment, extra_minutes=20, until=timezone.now() + timedelta(hours=1), source=STAFF)
    order = make_order(establishment)

    before = timezone.now()
    change_status(order, "accepted", source=STAFF)

    assert order.confirmed_time >= before + timedelta(minutes=35)
    assert establishment.preparation_time_now() == 35


def test_the_preparation_time_is_the_default_ready_time_and_tells_hubrises_side(establishment, sent):
    acceptance.set_preparation_time(establishment, 25, source=STAFF)
    order = make_order(establishment)

    before = timezone.now()
    accept_order(order, source=STAFF)

    assert before + timedelta(minutes=25) <= order.confirmed_time <= timezone.now() + timedelta(minutes=25)
    assert [name for name, _ in sent] == ["service_state_changed"]


def test_an_order_created_as_accepted_gets_a_ready_time(establishment):
    before = timezone.now()

    order = make_order(establishment, status="accepted")

    assert order.confirmed_time >= before + timedelta(minutes=15)
    assert order.due_at == order.confirmed_time
    assert order.ready_time_changes.get().confirmed_time == order.confirmed_time


def test_a_delay_pushes_the_ready_time_back_and_tells_hubrises_side_with_the_field(establishment, sent):
    order = make_order(establishment, status="accepted")
    first = order.confirmed_time

    delay_order(order, 10, source=STAFF)

    order.refresh_from_db()
    assert order.confirmed_time == first + timedelta(minutes=10)
    assert order.due_at == order.confirmed_time
    [(name, kwargs)] = sent
    assert (name, kwargs["fields"], kwargs["source"]) == ("order_updated", {"confirmed_time"}, STAFF)
    assert kwargs["order"].pk == order.pk


def test_a_delay_of_a_time_already_past_counts_from_now(establishment):
    order = make_order(establishment, status="accepted")
    Order.objects.filter(pk=order.pk).update(confirmed_time=timezone.now() - timedelta(minutes=30))

    before = timezone.now()
    delay_order(order.pk, 10, source=STAFF)

    order.refresh_from_db()
    assert order.confirmed_time >= before + timedelta(minutes=10)


def test_staff_cannot_pause_unless_the_establishment_allows_it(establishment):
    cook = make_user(establishment, username="marc")
    client = logged_in(cook)
    pause_url = reverse("orders:pause", args=[establishment.pk])

    refused = client.post(pause_url, {"for": "15"})
    acceptance.allow_staff_to_pause(establishment, True)
    allowed = client.post(pause_url, {"for": "15"})

    assert refused.status_code == 403
    assert allowed.status_code == 302
    establishment.refresh_from_db()
    assert establishment.acceptance == Acceptance.PAUSED


def test_a_manager_pauses_until_a_typed_time_and_every_page_says_so(establishment):
    manager = make_user(establishment, username="claire", role=Membership.Role.MANAGER)
    client = logged_in(manager)
    until = (timezone.localtime(timezone.now(), establishment.tzinfo) + timedelta(hours=1)).strftime("%H:%M")

    client.post(reverse("orders:pause", args=[establishment.pk]), {"until": until})

    for url in (reverse("orders:list", args=[establishment.pk]), reverse("hubrise:settings", args=[establishment.pk])):
        assert f"Nouvelles commandes en pause jusqu’à {until}." in client.get(url).content.decode()
    live = client.get(reverse("orders:list_live", args=[establishment.pk])).content.decode()
    assert '<div id="service-banner" hx-swap-oob="true">' in live


def test_the_intake_api_answers_503_with_when_orders_resume_while_paused(establishment, client):
    _, raw_key = ApiKey.generate(establishment, "Menu QR code")
    acceptance.pause_orders(establishment, until=timezone.now() + timedelta(minutes=30), source=STAFF, reason="Cuisine débordée")
    body = {"items": [{"product_name": "Croque-monsieur", "price": "9.50 EUR", "quantity": "1"}]}

    response = client.post("/api/v1/orders/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {raw_key}")

    assert response.status_code == 503
    assert response.json()["resume_at"].startswith(
        timezone.localtime(establishment.acceptance_until, establishment.tzinfo).strftime("%Y-%m-%dT%H:%M")
    )
    assert "Cuisine débordée" in response.json()["message"]
    assert 1790 <= int(response["Retry-After"]) <= 1800
    assert Order.objects.count() == 0
