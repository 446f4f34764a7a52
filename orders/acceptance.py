"""Whether an establishment takes new orders: pause, "very busy" mode, back online; its preparation time.

The one place where these change, whoever asks: the service page, the admin, or
HubRise's location.update applied with source "hubrise". Each function locks
the establishment's row, writes, and sends orders.signals.service_state_changed
inside the transaction, so that a listener (the HubRise location sync) records
what to push in the same commit. A pause or busy mode with an end needs no job:
Establishment.acceptance_now() reads it as over once its time has passed.
"""

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders import screen_versions, signals
from orders.models import Acceptance, Establishment
from orders.services import OrderError

# The buttons of the service page.
PAUSE_MINUTES = (15, 30, 60)
BUSY_EXTRA_MINUTES = (10, 20, 30)
BUSY_FOR_MINUTES = (30, 60, 120)
# Bounds of what a person can mean: beyond them, a typo.
MAX_EXTRA_MINUTES = 120
MAX_PREPARATION_MINUTES = 240
PAUSE_REASONS_MAX_LENGTH = 200


class AcceptanceError(OrderError):
    """A pause, busy mode or preparation time that cannot be set; the message says why."""


def _check_until(until: datetime | None, now: datetime) -> None:
    if until is not None and until <= now:
        raise AcceptanceError(_("This time has already passed: choose a later one."))


def _write(
    establishment: Establishment, fields: dict, *, source: str, actor: AbstractBaseUser | None, now: datetime
) -> Establishment:
    locked = Establishment.objects.select_for_update().get(pk=establishment.pk)
    changes = {
        **fields,
        "acceptance_changed_at": now,
        "acceptance_changed_by": actor,
        "acceptance_changed_source": source,
    }
    for name, value in changes.items():
        setattr(locked, name, value)
        setattr(establishment, name, value)
    locked.save(update_fields=list(changes))
    signals.service_state_changed.send(sender=Establishment, establishment=locked, source=source)
    # The order list sends the service banner again with each refresh.
    screen_versions.changed(locked.pk)
    return locked


@transaction.atomic
def pause_orders(
    establishment: Establishment,
    *,
    until: datetime | None,
    source: str,
    actor: AbstractBaseUser | None = None,
    reason: str = "",
) -> Establishment:
    """No new orders from the ordering front until ``until`` (None: until someone resumes)."""
    now = timezone.now()
    _check_until(until, now)
    fields = {
        "acceptance": Acceptance.PAUSED,
        "acceptance_until": until,
        "busy_extra_time": 0,
        "pause_reason": reason.strip()[:PAUSE_REASONS_MAX_LENGTH],
    }
    return _write(establishment, fields, source=source, actor=actor, now=now)


@transaction.atomic
def set_busy(
    establishment: Establishment,
    *,
    extra_minutes: int,
    until: datetime | None,
    source: str,
    actor: AbstractBaseUser | None = None,
) -> Establishment:
    """Orders still come in, each with ``extra_minutes`` more to prepare, until ``until``."""
    now = timezone.now()
    _check_until(until, now)
    if not 1 <= extra_minutes <= MAX_EXTRA_MINUTES:
        raise AcceptanceError(_("The extra time is from 1 to %(max)s minutes.") % {"max": MAX_EXTRA_MINUTES})
    fields = {"acceptance": Acceptance.BUSY, "acceptance_until": until, "busy_extra_time": extra_minutes, "pause_reason": ""}
    return _write(establishment, fields, source=source, actor=actor, now=now)


@transaction.atomic
def resume_orders(establishment: Establishment, *, source: str, actor: AbstractBaseUser | None = None) -> Establishment:
    """Back to taking orders as usual."""
    fields = {"acceptance": Acceptance.ONLINE, "acceptance_until": None, "busy_extra_time": 0, "pause_reason": ""}
    return _write(establishment, fields, source=source, actor=actor, now=timezone.now())


@transaction.atomic
def set_preparation_time(
    establishment: Establishment, minutes: int, *, source: str, actor: AbstractBaseUser | None = None
) -> Establishment:
    """The usual minutes from acceptance to ready (HubRise's location preparation_time)."""
    if not 1 <= minutes <= MAX_PREPARATION_MINUTES:
        raise AcceptanceError(_("The preparation time is from 1 to %(max)s minutes.") % {"max": MAX_PREPARATION_MINUTES})
    return _write(establishment, {"preparation_time": minutes}, source=source, actor=actor, now=timezone.now())


def in_minutes(minutes: int, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(minutes=minutes)


def allow_staff_to_pause(establishment: Establishment, allowed: bool) -> None:
    """Whether staff, not only managers, may pause orders and set the busy mode."""
    Establishment.objects.filter(pk=establishment.pk).update(staff_may_pause=allowed)
    establishment.staff_may_pause = allowed
