"""A POS change and our own status crossing at HubRise: both sides end on the status HubRise took last.

The race of issue 13: staff click "Acceptée" and our PATCH is on its way when the POS
cancels the order; the POS's event reaches us first and is applied, then our PATCH lands
and HubRise holds "accepted". HubRise's clock decides (docs/hubrise/orders.md, "Who
wins"): our PATCH came last, so "accepted" is the order's status on both sides, and
HubRise tells the POS. The sandbox holds our PATCH in flight; the event is a real signed
callback from the sandbox to our live server; a real Celery worker delivers, applies and
checks.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from hubrise_sync.models import InboundEvent, OrderLink, OutboxMessage
from orders.models import Order, StatusChange
from orders.services import change_status
from tests.factories import make_establishment, make_order
from tests.faults.nothing_lost import assert_nothing_lost, at_hubrise, delivered
from tests.hubrise.callbacks import sandbox_connection
from tests.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

# Our PATCH may wait at HubRise for as long as the test needs: a read timeout and a lease longer than that.
PATIENT_WORKER = {"HUBRISE_READ_TIMEOUT": "20", "HUBRISE_PUSH_LEASE": "60"}


@pytest.fixture
def restaurant(hubrise_sandbox, settings, live_server):
    settings.HUBRISE_API_URL = hubrise_sandbox.api_url
    settings.HUBRISE_CLIENT_SECRET = hubrise_sandbox.client_secret
    establishment = make_establishment()
    sandbox_connection(hubrise_sandbox, establishment, url=live_server.url + reverse("hubrise:callback"))
    return establishment


def hubrise_status(sandbox, order: Order) -> str:
    [remote] = at_hubrise(sandbox, order)
    return remote["status"]


def test_a_pos_cancel_applied_while_our_accept_is_in_flight_ends_accepted_on_both_sides(
    hubrise_sandbox, restaurant, start_celery_worker
):
    start_celery_worker(**PATIENT_WORKER)
    order = make_order(restaurant)
    wait_until(lambda: delivered(order), what="the create")
    hubrise_id = OrderLink.objects.get(order=order).hubrise_order_id

    hubrise_sandbox.inject_fault("hold", method="PATCH", path_prefix="/v1/locations/", seconds=30)
    change_status(order, "accepted", source=StatusChange.Source.STAFF)
    wait_until(lambda: hubrise_sandbox.held_requests() == 1, what="our PATCH in flight")

    hubrise_sandbox.change_status_as_pos(hubrise_id, "cancelled")
    wait_until(
        lambda: InboundEvent.objects.filter(order=order, outcome="applied", new_status="cancelled").exists(),
        what="the POS's cancel applied here while our PATCH is out",
    )
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert hubrise_status(hubrise_sandbox, order) == "cancelled"

    assert hubrise_sandbox.release_held() == 1
    wait_until(lambda: delivered(order) and hubrise_status(hubrise_sandbox, order) == "accepted", what="our PATCH landed")

    # HubRise took our status last: the back office comes back to it, and stays there.
    wait_until(
        lambda: Order.objects.get(pk=order.pk).status == hubrise_status(hubrise_sandbox, order),
        timeout=20,
        what="both sides on the status HubRise took last",
    )
    order.refresh_from_db()
    assert order.status == "accepted"
    assert [(c.to_status, c.source) for c in order.history.order_by("at", "id")] == [
        ("new", "api"),
        ("accepted", "staff"),
        ("cancelled", "hubrise"),
        ("accepted", "hubrise"),
    ]
    crossed = OutboxMessage.objects.get(order=order, kind="update_status")
    assert (crossed.state, crossed.crossed_at) == ("delivered", None)
    assert_nothing_lost(hubrise_sandbox)
