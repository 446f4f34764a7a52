"""The ``location`` topic: our pause, busy mode and preparation time, PATCHed onto the HubRise location.

Sent whole every time (``preparation_time`` and ``order_acceptance`` as they are
now): HubRise's PATCH must match one of its three ``order_acceptance``
templates exactly, and the latest state is all that matters. No debounce: a
pause must stop the delivery platforms at once. The rules: docs/hubrise/location.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hubrise_sync.connection_outbox.topic import Topic, TopicSending
from hubrise_sync.outbox.result import Outcome, Result, call
from orders.models import Acceptance, Establishment


def order_acceptance(establishment: Establishment, now: datetime | None = None) -> dict:
    """HubRise's ``order_acceptance`` for the establishment's mode in force, in the template's exact shape."""
    mode = establishment.acceptance_now(now)
    if mode == Acceptance.ONLINE:
        return {"mode": "online"}
    # HubRise puts the location back online by itself at resume_at: we need not send the end.
    body: dict = {"mode": mode, "resume_at": _hubrise_time(establishment, establishment.acceptance_until)}
    if mode == Acceptance.BUSY:
        body["extra_preparation_time"] = establishment.busy_extra_time
    elif establishment.pause_reason:
        body["reason"] = establishment.pause_reason
    return body


def payload(establishment: Establishment, now: datetime | None = None) -> dict:
    # The base time: HubRise adds the busy mode's extra_preparation_time to it itself.
    return {"preparation_time": establishment.preparation_time, "order_acceptance": order_acceptance(establishment, now)}


def _hubrise_time(establishment: Establishment, moment: datetime | None) -> str | None:
    # ISO 8601 with the establishment's offset and whole seconds, as HubRise writes times.
    if moment is None:
        return None
    return moment.astimezone(establishment.tzinfo).replace(microsecond=0).isoformat()


def send(sending: TopicSending) -> Result:
    establishment = Establishment.objects.get(pk=sending.establishment.pk)
    body = payload(establishment, timezone.now())
    result = Result(Outcome.DELIVERED, payload=body)
    location_id = sending.connection.location_id
    call(
        result,
        lambda: sending.client.patch_location(location_id, body),
        f"PATCH /locations/{location_id}",
    )
    return result


TOPIC = Topic(name="location", label=_("HubRise location"), send=send, debounce=timedelta(0))
