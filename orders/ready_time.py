"""When an accepted order will be ready: the choices offered at the pass, and the default.

Pure functions of the time, the guest's expected time and the preparation time,
so that the page, the intake API and the services agree on them.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

# "Prête dans 10 / 15 / 20 / 30 / 45 min": the buttons offered when accepting.
READY_IN_MINUTES = (10, 15, 20, 30, 45)
# "Retarder de 10 min".
DELAY_MINUTES = 10
# A time typed more than this long before now is read as the next day's (23:50, "00:15").
_TYPED_TIME_PAST_LIMIT = timedelta(hours=12)


class PastReadyTime(ValueError):
    """The ready time asked for has already passed."""


def default_ready_time(now: datetime, expected_time: datetime | None, preparation_minutes: int) -> datetime:
    """The guest's time when the kitchen can make it, otherwise as soon as it can: never in the past."""
    soonest = now + timedelta(minutes=preparation_minutes)
    if expected_time is not None and expected_time > soonest:
        return expected_time
    return soonest


@dataclass(frozen=True)
class ReadyChoices:
    # "Prête dans N min" buttons, the preparation time among them.
    minutes: tuple[int, ...]
    # The button to make the most prominent: a number of minutes, or None for the guest's time.
    default_minutes: int | None
    # The guest's expected time, offered as its own button while the kitchen can still make it.
    requested: datetime | None


def ready_choices(now: datetime, expected_time: datetime | None, preparation_minutes: int) -> ReadyChoices:
    minutes = tuple(sorted({*READY_IN_MINUTES, preparation_minutes}))
    requested = expected_time if expected_time is not None and expected_time > now else None
    soonest = now + timedelta(minutes=preparation_minutes)
    default = None if requested is not None and requested >= soonest else preparation_minutes
    return ReadyChoices(minutes=minutes, default_minutes=default, requested=requested)


def ready_time_at(clock: time, now: datetime, zone: ZoneInfo) -> datetime:
    """The moment a typed "HH:MM" means: today in the establishment's time zone, or tomorrow when
    it is much earlier than now (typed before midnight for after it). Raises PastReadyTime for a
    time that has just passed, which is a slip rather than tomorrow's service."""
    local_now = now.astimezone(zone)
    candidate = datetime.combine(local_now.date(), clock, tzinfo=zone)
    if candidate >= local_now.replace(second=0, microsecond=0):
        return max(candidate, now)
    if local_now - candidate > _TYPED_TIME_PAST_LIMIT:
        return datetime.combine(local_now.date() + timedelta(days=1), clock, tzinfo=zone)
    raise PastReadyTime(clock.strftime("%H:%M"))
