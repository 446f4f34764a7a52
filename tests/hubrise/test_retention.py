"""Retention: what is past its documented age is deleted; what is still to do never is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hubrise_sync import retention
from hubrise_sync.models import DeliveryAttempt, InboundEvent, OutboxMessage, QuarantinedCallback, RefusedCallbackTally
from tests.factories import make_establishment, make_order
from tests.processes import wait_until

pytestmark = pytest.mark.django_db

Outcome = InboundEvent.Outcome
State = OutboxMessage.State
NOW = timezone.now()


def days_ago(days: float):
    return NOW - timedelta(days=days)


def refused_at(days: float) -> QuarantinedCallback:
    return QuarantinedCallback.objects.create(reason="missing_signature", body=b"{}", body_size=2, received_at=days_ago(days))


def event_at(days: float, outcome: str, number: int) -> InboundEvent:
    return InboundEvent.objects.create(event_id=f"e{number}", via="webhook", outcome=outcome, received_at=days_ago(days))


def message(order, state: str, *, created_days: float, delivered_days: float | None = None) -> OutboxMessage:
    sent = OutboxMessage.objects.create(
        order=order,
        kind="update_status",
        status="accepted",
        state=state,
        created_at=days_ago(created_days),
        delivered_at=days_ago(delivered_days) if delivered_days is not None else None,
    )
    DeliveryAttempt.objects.create(message=sent, outcome="delivered" if state == State.DELIVERED else "retry")
    return sent


def test_quarantined_callbacks_and_their_hourly_tallies_go_after_seven_days(settings):
    settings.HUBRISE_QUARANTINE_RETENTION_DAYS = 7
    old, recent = refused_at(8), refused_at(6)
    RefusedCallbackTally.objects.create(hour=days_ago(8).replace(minute=0, second=0, microsecond=0), kept=1)
    RefusedCallbackTally.objects.create(hour=days_ago(6).replace(minute=0, second=0, microsecond=0), kept=1)

    deleted = retention.purge_old_records(now=NOW)

    assert list(QuarantinedCallback.objects.all()) == [recent]
    assert RefusedCallbackTally.objects.count() == 1
    assert not QuarantinedCallback.objects.filter(pk=old.pk).exists()
    assert (deleted["quarantined callbacks"], deleted["refused callback tallies"]) == (1, 1)


def test_settled_events_go_after_thirty_days_but_a_pending_one_or_an_order_not_imported_never(settings):
    settings.HUBRISE_EVENT_RETENTION_DAYS = 30
    outcomes = [Outcome.APPLIED, Outcome.IGNORED_UNKNOWN_ORDER, Outcome.NO_CHANGE, Outcome.MALFORMED, Outcome.IMPORTED]
    for number, outcome in enumerate(outcomes):
        event_at(31, outcome, number)
    pending = event_at(400, Outcome.PENDING, 10)
    not_imported = event_at(400, Outcome.NOT_IMPORTED, 12)
    recent = event_at(29, Outcome.APPLIED, 11)

    retention.purge_old_records(now=NOW)

    assert set(InboundEvent.objects.all()) == {pending, not_imported, recent}


def test_delivered_messages_go_with_their_attempts_after_thirty_days_and_undelivered_ones_never(settings):
    settings.HUBRISE_OUTBOX_RETENTION_DAYS = 30
    order = make_order(make_establishment())
    old_delivered = message(order, State.DELIVERED, created_days=40, delivered_days=31)
    old_superseded = message(order, State.SUPERSEDED, created_days=31)
    recent_delivered = message(order, State.DELIVERED, created_days=40, delivered_days=29)
    kept_whatever_their_age = [message(order, state, created_days=400) for state in (State.PENDING, State.FAILED, State.HELD)]

    retention.purge_old_records(now=NOW)

    assert set(OutboxMessage.objects.all()) == {recent_delivered, *kept_whatever_their_age}
    assert not DeliveryAttempt.objects.filter(message_id__in=[old_delivered.pk, old_superseded.pk]).exists()
    assert DeliveryAttempt.objects.count() == 4


def test_deleting_goes_in_batches_until_nothing_old_is_left(settings):
    settings.HUBRISE_QUARANTINE_RETENTION_DAYS = 7
    for _ in range(7):
        refused_at(10)

    assert retention.delete_in_batches(QuarantinedCallback.objects.filter(received_at__lt=days_ago(7)), batch=3) == 7
    assert not QuarantinedCallback.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
@pytest.mark.redis
def test_beat_runs_the_retention_in_the_worker(start_celery_worker):
    old = refused_at(30)
    recent = refused_at(1)

    start_celery_worker(RETENTION_INTERVAL="1")

    wait_until(lambda: not QuarantinedCallback.objects.filter(pk=old.pk).exists(), what="beat's retention run")
    assert QuarantinedCallback.objects.filter(pk=recent.pk).exists()


def test_settled_catalog_imports_go_with_the_events_but_a_waiting_one_never(settings):
    from hubrise_sync.models import CatalogImport

    settings.HUBRISE_EVENT_RETENTION_DAYS = 30
    establishment = make_establishment()
    Trigger, Result = CatalogImport.Trigger, CatalogImport.Outcome
    old = CatalogImport.objects.create(establishment=establishment, trigger=Trigger.CALLBACK, outcome=Result.IMPORTED)
    waiting = CatalogImport.objects.create(establishment=establishment, trigger=Trigger.CALLBACK)
    recent = CatalogImport.objects.create(establishment=establishment, trigger=Trigger.MANUAL, outcome=Result.UNCHANGED)
    CatalogImport.objects.filter(pk__in=[old.pk, waiting.pk]).update(requested_at=days_ago(31))
    CatalogImport.objects.filter(pk=recent.pk).update(requested_at=days_ago(29))

    assert retention.purge_old_records(now=NOW)["catalog imports"] == 1

    assert set(CatalogImport.objects.values_list("pk", flat=True)) == {waiting.pk, recent.pk}
