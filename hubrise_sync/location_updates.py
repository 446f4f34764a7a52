"""What a HubRise ``location.update`` means for the establishment: its pause, busy mode, preparation time.

Applied through ``orders.acceptance`` with source "hubrise" (so the change is not
sent back), inside the inbound event's transaction. Only what changed at HubRise
between ``previous_state`` and ``new_state`` is applied: an event about the
opening hours must not undo a pause of ours that is still on its way to HubRise.
Reading rules (``online`` or ``normal``, ``resume_at``): docs/hubrise/location.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hubrise_sync.models import Connection, InboundEvent
from orders import acceptance
from orders.models import Acceptance, Establishment, StatusChange

Outcome = InboundEvent.Outcome
HUBRISE = StatusChange.Source.HUBRISE


def apply(connection: Connection, new_state: dict | None, previous_state: dict | None, happened_at: datetime) -> tuple[str, str]:
    """(outcome, detail for admins) of one location.update of the connection's location."""
    if not isinstance(new_state, dict):
        return Outcome.IGNORED_UNSUPPORTED, "location.update without new_state."
    establishment = Establishment.objects.select_for_update().get(pk=connection.establishment_id)
    previous = previous_state if isinstance(previous_state, dict) else {}
    if _ours_is_newer(establishment, happened_at):
        return Outcome.IGNORED_OUTDATED, "Our pause or preparation time changed after this event."
    if _newer_event_applied(connection, happened_at):
        # Two events of the location applied by different workers, the newer first: the older
        # must not undo it. Read under the establishment's lock, so the newer one is committed.
        return Outcome.IGNORED_OUTDATED, "A newer location.update was applied already."
    try:
        with transaction.atomic():
            done = _apply_changes(establishment, new_state, previous)
    except acceptance.AcceptanceError as error:
        # HubRise took a value we cannot hold (an extra time of 0, 500 minutes): staff keep theirs.
        return Outcome.IGNORED_UNSUPPORTED, f"Not applied: {error}"
    if not done:
        return Outcome.NO_CHANGE, "Pause and preparation time already as HubRise has them."
    return Outcome.APPLIED, "Applied from HubRise: " + ", ".join(done) + "."


def _apply_changes(establishment: Establishment, new_state: dict, previous: dict) -> list[str]:
    """What changed at HubRise and differs here, applied; the names of what was."""
    done: list[str] = []
    wanted = _acceptance(new_state.get("order_acceptance"))
    if wanted is not None and wanted != _acceptance(previous.get("order_acceptance")) and wanted != _ours(establishment):
        _set_acceptance(establishment, wanted)
        done.append(f"order acceptance {wanted[0]}")
    minutes = new_state.get("preparation_time")
    changed_at_hubrise = minutes != previous.get("preparation_time")
    if isinstance(minutes, int) and changed_at_hubrise and minutes != establishment.preparation_time:
        acceptance.set_preparation_time(establishment, minutes, source=HUBRISE)
        done.append(f"preparation time {minutes} min")
    return done


def _ours_is_newer(establishment: Establishment, happened_at: datetime) -> bool:
    # HubRise's times have whole seconds: within the event's own second, ours is not surely newer
    # (and only what changed at HubRise is applied anyway).
    changed = establishment.acceptance_changed_at
    return (
        changed is not None
        and establishment.acceptance_changed_source != HUBRISE
        and changed >= happened_at + timedelta(seconds=1)
    )


def _newer_event_applied(connection: Connection, happened_at: datetime) -> bool:
    return InboundEvent.objects.filter(
        resource_type="location",
        event_type="update",
        location_id=connection.location_id,
        outcome__in=(Outcome.APPLIED, Outcome.NO_CHANGE),
        created_at__gt=happened_at,
    ).exists()


# (mode, resume_at, extra minutes, reason): what is compared and applied.
Wanted = tuple[str, datetime | None, int, str]


def _acceptance(raw: Any) -> Wanted | None:
    if not isinstance(raw, dict):
        return None
    mode = raw.get("mode")
    # HubRise's changelog once named the normal mode "normal": read both.
    if mode in ("online", "normal"):
        return (Acceptance.ONLINE, None, 0, "")
    if mode not in (Acceptance.PAUSED, Acceptance.BUSY):
        return None
    resume_at = parse_datetime(raw["resume_at"]) if isinstance(raw.get("resume_at"), str) else None
    if resume_at is not None and timezone.is_naive(resume_at):
        resume_at = None
    if resume_at is not None and resume_at <= timezone.now():
        # Already over: HubRise puts the location back online by itself.
        return (Acceptance.ONLINE, None, 0, "")
    extra = raw.get("extra_preparation_time")
    reason = raw.get("reason")
    return (
        mode,
        resume_at,
        extra if mode == Acceptance.BUSY and isinstance(extra, int) else 0,
        reason.strip() if mode == Acceptance.PAUSED and isinstance(reason, str) else "",
    )


def _ours(establishment: Establishment) -> Wanted:
    mode = establishment.acceptance_now()
    if mode == Acceptance.ONLINE:
        return (Acceptance.ONLINE, None, 0, "")
    return (mode, establishment.acceptance_until, establishment.busy_extra_time, establishment.pause_reason)


def _set_acceptance(establishment: Establishment, wanted: Wanted) -> None:
    mode, until, extra, reason = wanted
    if mode == Acceptance.PAUSED:
        acceptance.pause_orders(establishment, until=until, source=HUBRISE, reason=reason)
    elif mode == Acceptance.BUSY:
        acceptance.set_busy(establishment, extra_minutes=extra, until=until, source=HUBRISE)
    else:
        acceptance.resume_orders(establishment, source=HUBRISE)
