"""The HubRise callback endpoint: signature, recording once, applying, and every refusal."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest
from django.db import OperationalError
from django.utils import translation

from hubrise_sync import inbound, order_updates, quarantine
from hubrise_sync.models import InboundEvent, QuarantinedCallback
from orders.models import Order, StatusChange
from orders.services import change_status
from tests.factories import make_establishment
from tests.hubrise.callbacks import SECRET, connect, fixture_bytes, fixture_json, linked_order, post_callback, sign

pytestmark = pytest.mark.django_db

Outcome = InboundEvent.Outcome


@pytest.fixture(autouse=True)
def client_secret(settings, worker_applies_at_once):
    settings.HUBRISE_CLIENT_SECRET = SECRET


@pytest.fixture
def establishment():
    establishment = make_establishment()
    connect(establishment)
    return establishment


@pytest.fixture
def order(establishment):
    return linked_order(establishment)


def outcome_of(response) -> str:
    """What the worker did with the event the webhook recorded."""
    return InboundEvent.objects.get(event_id=response.json()["event"]).outcome


def history_of(order: Order) -> list[tuple[str, str, str]]:
    return [(change.to_status, change.source, change.reason) for change in order.history.all()]


# --- Applying -----------------------------------------------------------------------------


def test_a_signed_order_update_changes_the_status_with_hubrise_as_the_source(client, order):
    response = post_callback(client, fixture_bytes("order_update_accepted"))

    assert response.status_code == 200
    assert response.json() == {"event": "ks8f6", "result": "received"}
    assert outcome_of(response) == Outcome.APPLIED
    order.refresh_from_db()
    assert order.status == "accepted"
    assert history_of(order)[-1] == ("accepted", "hubrise", "")
    event = InboundEvent.objects.get()
    assert (event.event_id, event.via, event.outcome, event.order) == ("ks8f6", "webhook", Outcome.APPLIED, order)
    assert event.detail == "new → accepted"


def test_the_signature_is_checked_on_the_exact_bytes_so_any_whitespace_and_key_order_pass(client, order):
    body = b'{"resource_type":  "order", "id": "w5s1p",\n "event_type":"update","created_at":"2021-06-24T17:10:00+02:00",'
    body += b'"order_id":"5dpm9","location_id":"3r4s3-1","new_state":{"status":"accepted","id":"5dpm9"}}\n\n'

    response = post_callback(client, body, signature=sign(body))

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "accepted"


def test_a_rejection_keeps_the_pos_cause_in_the_order_history(client, order):
    response = post_callback(client, fixture_bytes("order_update_rejected_with_cause"))

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "rejected"
    assert history_of(order)[-1] == ("rejected", "hubrise", "Plus de **croque-monsieur** ce soir")


def test_an_update_to_the_status_we_already_have_is_recorded_as_no_change(client, order):
    post_callback(client, fixture_bytes("order_update_accepted"))
    repeat = fixture_bytes("order_update_accepted").replace(b'"ks8f6"', b'"ks8f7"')

    response = post_callback(client, repeat)

    assert response.json() == {"event": "ks8f7", "result": "received"}
    assert outcome_of(response) == Outcome.NO_CHANGE
    assert [to for to, _, _ in history_of(order)] == ["new", "accepted"]


def test_an_event_that_overtakes_our_own_create_finds_the_order_by_its_private_ref(client, establishment):
    order = linked_order(establishment, hubrise_order_id=None)
    body = fixture_bytes("order_update_accepted").replace(b"0b9d5a3e-2f4c-4e55-9a57-1c2d3e4f5a6b", str(order.uid).encode())

    response = post_callback(client, body)

    assert outcome_of(response) == "applied"
    order.refresh_from_db()
    assert order.status == "accepted"


# --- Recording once and in order ----------------------------------------------------------


def test_a_redelivered_event_is_acknowledged_and_changes_nothing(client, order):
    body = fixture_bytes("order_update_accepted")
    post_callback(client, body)

    again = post_callback(client, body)

    assert again.status_code == 200
    assert again.json() == {"event": "ks8f6", "result": "already received"}
    assert InboundEvent.objects.count() == 1
    assert [to for to, _, _ in history_of(order)] == ["new", "accepted"]


def test_an_older_event_arriving_late_does_not_roll_the_status_back(client, order):
    post_callback(client, fixture_bytes("order_update_in_preparation"))  # 17:20

    late = post_callback(client, fixture_bytes("order_update_accepted"))  # 17:10

    assert late.status_code == 200
    assert outcome_of(late) == "ignored_outdated"
    order.refresh_from_db()
    assert order.status == "in_preparation"
    event = InboundEvent.objects.get(event_id="ks8f6")
    assert event.outcome == Outcome.IGNORED_OUTDATED
    assert "a newer HubRise change (of 2021-06-24 17:20:00) was already applied" in event.detail


def test_an_event_older_than_a_change_made_here_does_not_overwrite_it(client, order):
    change_status(order, "accepted", source=StatusChange.Source.STAFF)  # now, after the event's 17:20

    response = post_callback(client, fixture_bytes("order_update_in_preparation"))

    assert outcome_of(response) == "ignored_outdated"
    order.refresh_from_db()
    assert order.status == "accepted"
    assert "our order changed later (to accepted" in InboundEvent.objects.get().detail


def status_event(event_id: str, status: str, created_at: str) -> bytes:
    """An order.update of the linked order: the POS set ``status`` at ``created_at``."""
    body = fixture_json("order_update_accepted")
    body.update(id=event_id, created_at=created_at)
    body["new_state"]["status"] = status
    return json.dumps(body).encode()


def test_an_event_that_finds_the_status_already_ours_still_outdates_older_events(client, order):
    # At HubRise: accepted (17:10), received (17:20), accepted again (17:30); the 17:20 event comes last.
    post_callback(client, status_event("e1", "accepted", "2021-06-24T17:10:00+02:00"))
    again = post_callback(client, status_event("e3", "accepted", "2021-06-24T17:30:00+02:00"))
    late = post_callback(client, status_event("e2", "received", "2021-06-24T17:20:00+02:00"))

    assert outcome_of(again) == Outcome.NO_CHANGE
    assert outcome_of(late) == Outcome.IGNORED_OUTDATED
    order.refresh_from_db()
    assert order.status == "accepted"
    assert "a newer HubRise change (of 2021-06-24 17:30:00) was already applied" in InboundEvent.objects.get(event_id="e2").detail


def test_a_courier_event_does_not_outdate_an_older_status_event_arriving_after_it(client, order):
    post_callback(client, delivery_event("d1", "pickup_enroute", "2021-06-24T19:05:00+02:00"))

    late = post_callback(client, status_event("e1", "in_preparation", "2021-06-24T18:50:00+02:00"))

    assert outcome_of(late) == Outcome.APPLIED
    order.refresh_from_db()
    assert order.status == "in_preparation"


def test_events_delivered_late_but_in_order_are_all_applied(client, order):
    # After an outage HubRise redelivers in a burst: each applies, though our clock says "now".
    for name in ("order_update_rejected_with_cause", "order_update_accepted", "order_update_in_preparation"):
        post_callback(client, fixture_bytes(name))

    order.refresh_from_db()
    assert order.status == "in_preparation"
    assert [to for to, _, _ in history_of(order)] == ["new", "rejected", "accepted", "in_preparation"]


def test_an_event_recorded_while_no_worker_runs_waits_pending_and_the_sweep_applies_it(client, order, monkeypatch):
    from datetime import timedelta

    from getresto.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)  # queued for a worker that is not there

    response = post_callback(client, fixture_bytes("order_update_accepted"))

    assert response.json() == {"event": "ks8f6", "result": "received"}
    order.refresh_from_db()
    assert order.status == "new"
    assert outcome_of(response) == Outcome.PENDING
    assert inbound.apply_pending(older_than=timedelta(0)) == 1
    assert outcome_of(response) == Outcome.APPLIED
    order.refresh_from_db()
    assert order.status == "accepted"
    assert inbound.apply_pending(older_than=timedelta(0)) == 0


def test_the_events_of_one_order_apply_in_the_order_they_arrived_whichever_task_runs_first(client, order, monkeypatch):
    from getresto.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    for name in ("order_update_rejected_with_cause", "order_update_accepted", "order_update_in_preparation"):
        post_callback(client, fixture_bytes(name))
    first, second, last = InboundEvent.objects.order_by("pk")

    assert inbound.apply_recorded(last.pk).outcome == Outcome.APPLIED

    assert [to for to, _, _ in history_of(order)] == ["new", "rejected", "accepted", "in_preparation"]
    assert inbound.apply_recorded(first.pk) is None
    assert inbound.apply_recorded(second.pk) is None
    assert set(InboundEvent.objects.values_list("outcome", flat=True)) == {Outcome.APPLIED}


def test_an_event_that_cannot_be_applied_stays_pending_and_does_not_hold_up_the_others(
    client, establishment, monkeypatch, caplog
):
    from datetime import timedelta

    from getresto.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)
    stuck = linked_order(establishment, hubrise_order_id="5dpm9")
    other = linked_order(establishment, hubrise_order_id="other")
    post_callback(client, fixture_bytes("order_update_accepted"))
    post_callback(client, fixture_bytes("order_update_accepted").replace(b"5dpm9", b"other").replace(b"ks8f6", b"ks9zz"))
    real_apply_status = order_updates.apply_status

    def database_refuses_the_first(order, state, **kwargs):
        if order.pk == stuck.pk:
            raise OperationalError("could not serialize access")
        return real_apply_status(order, state, **kwargs)

    monkeypatch.setattr(order_updates, "apply_status", database_refuses_the_first)

    with caplog.at_level(logging.ERROR, logger="hubrise_sync.inbound"):
        assert inbound.apply_pending(older_than=timedelta(0)) == 1

    stuck.refresh_from_db()
    other.refresh_from_db()
    assert (stuck.status, other.status) == ("new", "accepted")
    assert InboundEvent.objects.get(event_id="ks8f6").outcome == Outcome.PENDING
    assert "it stays pending" in caplog.text
    monkeypatch.setattr(order_updates, "apply_status", real_apply_status)
    assert inbound.apply_pending(older_than=timedelta(0)) == 1
    stuck.refresh_from_db()
    assert stuck.status == "accepted"


def test_an_event_of_the_same_second_as_our_last_change_is_not_taken_for_an_older_one(client, establishment):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    # Our order was placed at 17:10:00.6; HubRise stamps the POS change 17:10:00 (seconds only).
    order = linked_order(establishment, placed_at=datetime(2021, 6, 24, 17, 10, 0, 600000, tzinfo=ZoneInfo("Europe/Paris")))

    response = post_callback(client, fixture_bytes("order_update_accepted"))

    assert outcome_of(response) == "applied"
    order.refresh_from_db()
    assert order.status == "accepted"


def test_an_update_of_an_order_of_ours_we_no_longer_know_is_acknowledged_and_recorded_as_ignored(client, order):
    body = fixture_json("order_update_unknown_order")
    # Only the app that set a private_ref sees it: this order is one we sent.
    body["new_state"]["private_ref"] = body["previous_state"]["private_ref"] = "our-own-reference"

    response = post_callback(client, json.dumps(body).encode())

    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert event.outcome == Outcome.IGNORED_UNKNOWN_ORDER
    assert "zz9zz" in event.detail
    assert Order.objects.count() == 1
    order.refresh_from_db()
    assert order.status == "new"


def test_an_update_overtaking_the_create_of_another_apps_order_imports_it_once(client, order):
    post_callback(client, fixture_bytes("order_update_unknown_order"))
    create = fixture_json("order_update_unknown_order")
    create.update(id="c0r3a", event_type="create", new_state=create["previous_state"])
    del create["previous_state"]
    post_callback(client, json.dumps(create).encode())

    imported = Order.objects.exclude(pk=order.pk).get()
    assert imported.status == "accepted"
    assert [(e.event_type, e.outcome) for e in InboundEvent.objects.order_by("pk")] == [
        ("update", Outcome.IMPORTED),
        ("create", Outcome.NO_CHANGE),
    ]


def test_an_event_for_a_location_we_are_not_connected_to_is_acknowledged_and_recorded_as_ignored(client, order):
    response = post_callback(client, fixture_bytes("order_update_unknown_location"))

    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert event.outcome == Outcome.IGNORED_UNKNOWN_LOCATION
    assert "9xx9x-1" in event.detail
    order.refresh_from_db()
    assert order.status == "new"


def test_an_order_created_by_another_app_is_imported_with_where_it_came_from(client, order):
    response = post_callback(client, fixture_bytes("order_create_by_pos"))

    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert (event.event_type, event.outcome) == ("create", Outcome.IMPORTED)
    imported = Order.objects.exclude(pk=order.pk).get()
    assert event.order == imported
    assert (imported.source, imported.channel, imported.status) == ("hubrise", "Caisse (POS)", "accepted")
    assert [(i.product_name, i.price) for i in imported.items.all()] == [("Café", Decimal("2.00"))]
    assert history_of(imported) == [("accepted", "hubrise", "")]
    assert imported.history.get().source_detail == "Caisse (POS)"
    assert imported.hubrise.hubrise_order_id == "bjwyp"


def test_the_same_create_twice_gives_one_order(client, order):
    post_callback(client, fixture_bytes("order_create_by_pos"))
    post_callback(client, fixture_bytes("order_create_by_pos"))

    assert Order.objects.count() == 2
    assert InboundEvent.objects.count() == 1


# --- Refused signatures -------------------------------------------------------------------


def test_without_a_configured_client_secret_every_callback_is_refused(client, order, settings):
    settings.HUBRISE_CLIENT_SECRET = ""
    body = fixture_bytes("order_update_accepted")

    assert post_callback(client, body, signature=sign(body, "")).status_code == 401


def test_a_burst_of_refused_signatures_is_logged_once_as_an_error_without_the_secret(client, order, caplog):
    from django.core.cache import cache

    cache.clear()
    body = fixture_bytes("order_update_accepted")
    with caplog.at_level(logging.WARNING, logger="hubrise_sync"):
        for _ in range(12):
            post_callback(client, body, signature="f" * 64)

    errors = [record for record in caplog.records if record.levelno == logging.ERROR and record.name == "hubrise_sync.quarantine"]
    assert len(errors) == 1
    assert "11 HubRise callbacks refused" in errors[0].getMessage()
    assert SECRET not in caplog.text
    assert sign(body) not in caplog.text


def test_a_quarantined_callback_is_applied_once_replayed_after_the_secret_is_fixed(client, order, settings):
    settings.HUBRISE_CLIENT_SECRET = "the-old-wrong-secret"
    post_callback(client, fixture_bytes("order_update_accepted"))  # signed with the real secret
    kept = QuarantinedCallback.objects.get()
    assert quarantine.replay(kept).startswith("Still refused")

    settings.HUBRISE_CLIENT_SECRET = SECRET
    with translation.override("en"):
        result = quarantine.replay(kept)

    assert result == "Replayed: Applied."
    order.refresh_from_db()
    assert order.status == "accepted"
    kept.refresh_from_db()
    assert kept.event.event_id == "ks8f6"
    assert kept.replayed_at is not None


# --- Failing to record a callback (bad input: test_webhook_bad_input.py) ------------------


def test_a_database_failure_while_recording_answers_503_so_that_hubrise_retries(client, order, monkeypatch):
    def database_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(inbound, "_insert_if_new", database_down)

    response = post_callback(client, fixture_bytes("order_update_accepted"))

    assert response.status_code == 503
    order.refresh_from_db()
    assert order.status == "new"


def test_only_post_is_accepted(client):
    from django.urls import reverse

    assert client.get(reverse("hubrise:callback")).status_code == 405


# --- No echo ------------------------------------------------------------------------------


def test_an_inbound_change_queues_no_outbox_message_back_to_hubrise(client, order):
    from hubrise_sync.models import OutboxMessage

    before = list(OutboxMessage.objects.filter(order=order).values_list("kind", flat=True))

    post_callback(client, fixture_bytes("order_update_accepted"))

    order.refresh_from_db()
    assert order.status == "accepted"
    assert list(OutboxMessage.objects.filter(order=order).values_list("kind", flat=True)) == before
    # The same change made by staff would be sent: the check above can see an echo.
    change_status(order, "in_preparation", source=StatusChange.Source.STAFF)
    assert OutboxMessage.objects.filter(order=order, kind="update_status").count() == 1


# --- Couriers -----------------------------------------------------------------------------


def delivery_event(event_id: str, status: str, at: str) -> bytes:
    delivery = {"id": "dl1", "order_id": "5dpm9", "location_id": "3r4s3-1", "carrier": "Uber Eats", "status": status}
    body = {
        "id": event_id,
        "resource_type": "delivery",
        "event_type": "update",
        "created_at": at,
        "delivery_id": "dl1",
        "order_id": "5dpm9",
        "location_id": "3r4s3-1",
        "new_state": {**delivery, "estimated_dropoff_at": "2021-06-24T19:42:00+02:00", "driver_name": "Karim"},
    }
    return json.dumps(body).encode()


def test_a_courier_event_is_kept_on_the_order_and_an_older_one_never_rolls_it_back(client, order):
    from hubrise_sync.models import OrderDelivery

    post_callback(client, delivery_event("d2", "dropoff_enroute", "2021-06-24T19:20:00+02:00"))
    post_callback(client, delivery_event("d1", "pickup_enroute", "2021-06-24T19:05:00+02:00"))

    delivery = OrderDelivery.objects.get(order=order)
    assert (delivery.carrier, delivery.status, delivery.driver_name) == ("Uber Eats", "dropoff_enroute", "Karim")
    assert [e.outcome for e in InboundEvent.objects.order_by("pk")] == [Outcome.APPLIED, Outcome.IGNORED_OUTDATED]


def test_a_courier_that_overtakes_the_import_of_its_order_shows_once_the_order_is_imported(client, establishment):
    """A platform sends its courier right after its order; another applier may apply it first, before the import."""
    from hubrise_sync.models import OrderDelivery

    created = fixture_json("order_create_by_pos")
    courier = json.loads(delivery_event("d1", "pickup_enroute", "2021-06-24T19:05:00+02:00"))
    courier.update(order_id=created["order_id"], location_id=created["location_id"])
    courier["new_state"].update(order_id=created["order_id"], location_id=created["location_id"])

    early = post_callback(client, json.dumps(courier).encode())
    assert outcome_of(early) == Outcome.IGNORED_UNKNOWN_ORDER
    post_callback(client, json.dumps(created).encode())

    order = Order.objects.get()
    delivery = OrderDelivery.objects.get(order=order)
    assert (delivery.carrier, delivery.status, delivery.driver_name) == ("Uber Eats", "pickup_enroute", "Karim")
    assert InboundEvent.objects.get(event_id="d1").outcome == Outcome.APPLIED
