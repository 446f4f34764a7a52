"""The webhook end to end: the HubRise sandbox POSTs signed callbacks to our live server."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from hubrise_sync import quarantine
from hubrise_sync.models import InboundEvent, OutboxMessage, QuarantinedCallback
from orders.models import Order
from tests.factories import make_establishment
from tests.hubrise.callbacks import pushed_order, sandbox_connection
from tests.processes import wait_until

# A real worker applies what the webhook records.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


@pytest.fixture
def establishment(sandbox, live_server, celery_worker):
    establishment = make_establishment()
    sandbox_connection(sandbox, establishment, url=live_server.url + reverse("hubrise:callback"))
    return establishment


def delivered_events(sandbox) -> list[dict]:
    return [event for event in sandbox.events() if event["state"] in ("delivered", "dropped")]


def test_a_status_changed_at_the_pos_arrives_by_webhook_and_is_not_sent_back(sandbox, establishment):
    order = pushed_order(establishment)

    sandbox.change_status_as_pos(order.hubrise.hubrise_order_id, "in_preparation")

    wait_until(lambda: Order.objects.get(pk=order.pk).status == "in_preparation", what="the POS status here")
    [event] = wait_until(lambda: delivered_events(sandbox), what="the callback delivered")
    assert [attempt["status"] for attempt in event["attempts"]] == [200]
    recorded = InboundEvent.objects.get(event_id=event["id"])
    assert (recorded.via, recorded.outcome, recorded.order_id) == ("webhook", "applied", order.pk)
    assert not OutboxMessage.objects.filter(order=order, kind="update_status").exists()


def test_with_a_wrong_secret_the_refused_callback_waits_in_quarantine_until_replayed(sandbox, establishment, settings):
    order = pushed_order(establishment)
    settings.HUBRISE_CLIENT_SECRET = "not-the-secret-hubrise-signs-with"

    sandbox.change_status_as_pos(order.hubrise.hubrise_order_id, "accepted")

    [event] = wait_until(lambda: delivered_events(sandbox), what="the callback delivered")
    # A 401 is an answer: HubRise counts the event as delivered and will not send it again.
    assert [attempt["status"] for attempt in event["attempts"]] == [401]
    assert Order.objects.get(pk=order.pk).status == "new"

    settings.HUBRISE_CLIENT_SECRET = sandbox.client_secret
    with translation.override("en"):
        assert quarantine.replay(QuarantinedCallback.objects.get()) == "Replayed: Applied."
    assert Order.objects.get(pk=order.pk).status == "accepted"
