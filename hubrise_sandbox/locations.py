"""The location: opening hours, preparation time, order acceptance (pause, busy) and ``location.update``.

Readings chosen where HubRise's docs leave room (see docs/hubrise/location.md):

- ``order_acceptance.mode`` is ``online | busy | paused`` as the accounts reference and its PATCH
  templates say; ``normal`` (a changelog line) is refused with a message naming ``online``.
- ``opening_hours`` is replaced whole by a PATCH: a day left out is closed, as the reference says
  of skipped days. ``null`` clears it (never set).
- When ``resume_at`` passes, HubRise puts the location back ``online`` and tells every subscriber.
- A paused location still accepts orders through the API: HubRise documents no refusal.
"""

from __future__ import annotations

import copy
import json
import re
from typing import TYPE_CHECKING, Any

from .errors import Errors, not_found
from .events import emit
from .formats import FormatError, local_time, parse_time, utc_offset_seconds

if TYPE_CHECKING:
    from .sandbox import Sandbox

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PATCHABLE = ("cutoff_time", "opening_hours", "preparation_time", "order_acceptance", "custom_fields")
READ_ONLY = ("id", "name", "account", "address", "postal_code", "city", "country", "timezone")
ACCEPTANCE_FIELDS = {
    "online": {"mode"},
    "busy": {"mode", "resume_at", "extra_preparation_time"},
    "paused": {"mode", "resume_at", "reason"},
}
_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MINUTES_PER_DAY = 1440


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def check_patch(payload: Any, details: dict) -> dict:
    """Returns the location details after the PATCH, or raises ValidationFailed listing every problem."""
    errors = Errors()
    if not isinstance(payload, dict):
        errors.add("base", "the body must be a JSON object")
        errors.raise_if_any()
    updated = copy.deepcopy(details)
    for key in payload:
        if key in READ_ONLY:
            errors.add(key, "cannot be updated through the API (only from the HubRise back office)")
        elif key not in PATCHABLE:
            errors.add(key, "is not a known field")
    if "cutoff_time" in payload:
        cutoff = payload["cutoff_time"]
        if not isinstance(cutoff, str) or not _HH_MM.match(cutoff):
            errors.add("cutoff_time", f'{cutoff!r} is not a time of day such as "06:00"')
        else:
            updated["cutoff_time"] = cutoff
    if "opening_hours" in payload:
        updated["opening_hours"] = payload["opening_hours"]
    if "cutoff_time" in payload or "opening_hours" in payload:
        # A new cutoff can make the hours already set invalid, so they are checked together.
        _check_opening_hours(errors, updated["opening_hours"], updated["cutoff_time"])
    if "preparation_time" in payload:
        value = payload["preparation_time"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors.add("preparation_time", f"{value!r} is not a number of minutes (a non-negative integer)")
        else:
            updated["preparation_time"] = value
    if "order_acceptance" in payload:
        updated["order_acceptance"] = _check_acceptance(errors, payload["order_acceptance"])
    if "custom_fields" in payload:
        changes = payload["custom_fields"]
        if not isinstance(changes, dict):
            errors.add("custom_fields", "must be an object")
        else:
            merged = dict(updated.get("custom_fields") or {})
            for key, value in changes.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            updated["custom_fields"] = merged
    errors.raise_if_any()
    return updated


def _check_opening_hours(errors: Errors, hours: Any, cutoff: str) -> None:
    if hours is None:
        return
    if not isinstance(hours, dict):
        errors.add("opening_hours", "must be an object keyed by day (monday … sunday), or null")
        return
    cutoff_minutes = _minutes(cutoff)
    slots_in_week = 0
    for day, slots in hours.items():
        path = f"opening_hours.{day}"
        if day not in DAYS:
            errors.add(path, f"{day!r} is not a day of the week ({', '.join(DAYS)})")
            continue
        if not isinstance(slots, list):
            errors.add(path, "must be an array of time slots")
            continue
        spans = []
        for index, slot in enumerate(slots):
            slot_path = f"{path}[{index}]"
            if not isinstance(slot, dict) or set(slot) != {"from", "to"}:
                errors.add(slot_path, 'must be {"from": "HH:MM", "to": "HH:MM"}')
                continue
            if not all(isinstance(slot[k], str) and _HH_MM.match(slot[k]) for k in ("from", "to")):
                errors.add(slot_path, "from and to must be times of day such as 12:00")
                continue
            # A time before the cutoff belongs to the same business day, after midnight.
            start, end = (
                _minutes(slot[k]) + (MINUTES_PER_DAY if _minutes(slot[k]) < cutoff_minutes else 0) for k in ("from", "to")
            )
            if end <= start:
                errors.add(
                    slot_path, f"to ({slot['to']}) must follow from ({slot['from']}) within the business day (cutoff {cutoff})"
                )
                continue
            spans.append((start, end, slot_path))
        for (_, previous_end, _), (start, _, slot_path) in zip(sorted(spans), sorted(spans)[1:], strict=False):
            if start < previous_end:
                errors.add(slot_path, "overlaps another time slot of the same day")
        slots_in_week += len(slots)
    if slots_in_week == 0:
        errors.add("opening_hours", "needs at least one time slot in the week")


def _check_acceptance(errors: Errors, raw: Any) -> dict | None:
    if not isinstance(raw, dict):
        errors.add("order_acceptance", "must be an object")
        return None
    mode = raw.get("mode")
    if mode == "normal":
        errors.add("order_acceptance.mode", '"normal" is not a mode: use "online" to accept orders normally')
        return None
    if mode not in ACCEPTANCE_FIELDS:
        errors.add("order_acceptance.mode", f"{mode!r} is not one of online, busy, paused")
        return None
    for key in raw:
        if key not in ACCEPTANCE_FIELDS[mode]:
            errors.add(f"order_acceptance.{key}", f"is not allowed when mode is {mode}")
    result: dict = {"mode": mode}
    if mode == "online":
        return result
    resume_at = raw.get("resume_at")
    if resume_at is not None:
        try:
            parse_time(resume_at)
        except FormatError as error:
            errors.add("order_acceptance.resume_at", str(error))
    result["resume_at"] = resume_at
    if mode == "busy":
        extra = raw.get("extra_preparation_time")
        if extra is None:
            errors.add("order_acceptance.extra_preparation_time", "is required when mode is busy")
        elif isinstance(extra, bool) or not isinstance(extra, int) or extra < 0:
            errors.add(
                "order_acceptance.extra_preparation_time", f"{extra!r} is not a number of minutes (a non-negative integer)"
            )
        result["extra_preparation_time"] = extra
    else:
        reason = raw.get("reason")
        if reason is not None and not isinstance(reason, str):
            errors.add("order_acceptance.reason", "must be a string")
        result["reason"] = reason
    return result


class Locations:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store

    def view(self, location_id: str) -> dict:
        location = self.sandbox.location(location_id)
        if location is None:
            raise not_found(f"Unknown location {location_id!r}")
        return render(location)

    def patch_as(self, client_id: str | None, location_id: str, payload: Any) -> dict:
        """A PATCH by ``client_id`` (None: HubRise itself, e.g. a pause ending): ``location.update``
        goes to every other app subscribed on the location."""
        with self.store.transaction() as db:
            location = self._locked(db, location_id)
            details = check_patch(payload, location["details"])
            self._save(db, location, details, client_id)
        self.sandbox.dispatcher.wake()
        return self.view(location_id)

    def resume_due(self, now: float) -> float | None:
        """Puts back online every location whose pause or busy time has ended; returns the next end."""
        upcoming = None
        for row in self.store.query("SELECT id FROM locations"):
            resume_at = self.sandbox.location(row["id"])["details"]["order_acceptance"].get("resume_at")
            if not resume_at:
                continue
            at = parse_time(resume_at).timestamp()
            if at > now:
                upcoming = at if upcoming is None else min(upcoming, at)
                continue
            with self.store.transaction() as db:
                location = self._locked(db, row["id"])
                if location["details"]["order_acceptance"].get("resume_at") == resume_at:
                    self._save(db, location, {**location["details"], "order_acceptance": {"mode": "online"}}, None)
            self.sandbox.dispatcher.wake()
        return upcoming

    def _locked(self, db, location_id: str) -> dict:
        row = db.execute(
            "SELECT l.*, a.name AS account_name, a.currency FROM locations l"
            " JOIN accounts a ON a.id = l.account_id WHERE l.id = ?",
            (location_id,),
        ).fetchone()
        if row is None:
            raise not_found(f"Unknown location {location_id!r}")
        return {**dict(row), "details": json.loads(row["details"])}

    def _save(self, db, location: dict, details: dict, actor_client_id: str | None) -> None:
        db.execute("UPDATE locations SET details = ? WHERE id = ?", (json.dumps(details, ensure_ascii=False), location["id"]))
        previous, new = render(location), render({**location, "details": details})
        emit(
            db,
            location_ids=[location["id"]],
            resource="location",
            event_type="update",
            actor_client_id=actor_client_id,
            fields=lambda receiver: {
                "location_id": location["id"],
                "account_id": location["account_id"],
                "previous_state": previous,
                "new_state": new,
            },
        )


def render(location: dict) -> dict:
    """The location as ``GET /location`` answers it, times in its own time zone."""
    details = location["details"]
    acceptance = dict(details["order_acceptance"])
    if acceptance.get("resume_at"):
        acceptance["resume_at"] = local_time(parse_time(acceptance["resume_at"]), location["timezone"])
    return {
        "id": location["id"],
        "name": location["name"],
        "account": {"id": location["account_id"], "name": location["account_name"], "currency": location["currency"]},
        "account_id": location["account_id"],
        "address": details.get("address"),
        "postal_code": details.get("postal_code"),
        "city": details.get("city"),
        "country": location["country"],
        "timezone": {"name": location["timezone"], "offset": utc_offset_seconds(location["timezone"])},
        "cutoff_time": details["cutoff_time"],
        "opening_hours": details.get("opening_hours"),
        "preparation_time": details["preparation_time"],
        "order_acceptance": acceptance,
        "custom_fields": details.get("custom_fields") or {},
    }
