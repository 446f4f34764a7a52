"""The location: opening hours, preparation time, order acceptance (pause, busy) and location.update."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.sandbox.test_order_validation import rejected_fields

WEEK = {"tuesday": [{"from": "12:00", "to": "14:30"}, {"from": "19:00", "to": "01:00"}]}


def in_paris(seconds: float) -> str:
    return (datetime.now(ZoneInfo("Europe/Paris")) + timedelta(seconds=seconds)).isoformat(timespec="seconds")


def test_the_location_shows_its_address_hours_preparation_time_and_acceptance(app_api):
    location = app_api.get("/location").json()

    assert (location["name"], location["city"], location["postal_code"]) == ("Le Petit Bistrot", "Paris", "75009")
    assert location["account"]["currency"] == "EUR"
    assert location["timezone"]["name"] == "Europe/Paris"
    assert location["cutoff_time"] == "06:00"
    assert location["opening_hours"]["tuesday"] == [{"from": "12:00", "to": "14:30"}, {"from": "19:00", "to": "23:00"}]
    assert "monday" not in location["opening_hours"]
    assert location["preparation_time"] == 20
    assert location["order_acceptance"] == {"mode": "online"}


def test_a_location_added_through_the_control_api_has_no_opening_hours_yet(hubrise_sandbox):
    added = hubrise_sandbox._control("POST", "/locations", json={"name": "Chez Paul"})

    location = hubrise_sandbox.location(added["id"])

    assert location["opening_hours"] is None
    assert location["order_acceptance"] == {"mode": "online"}


def test_pausing_the_location_answers_and_keeps_the_pause(app_api):
    resume_at = in_paris(1800)

    response = app_api.patch(
        "/location", {"order_acceptance": {"mode": "paused", "resume_at": resume_at, "reason": "Cuisine fermée"}}
    )

    assert response.status_code == 200
    expected = {"mode": "paused", "resume_at": resume_at, "reason": "Cuisine fermée"}
    assert response.json()["order_acceptance"] == expected
    assert app_api.get("/location").json()["order_acceptance"] == expected


def test_busy_mode_carries_the_extra_preparation_time(app_api):
    app_api.patch("/location", {"preparation_time": 25, "order_acceptance": {"mode": "busy", "extra_preparation_time": 15}})

    location = app_api.get("/location").json()

    assert location["preparation_time"] == 25
    assert location["order_acceptance"] == {"mode": "busy", "resume_at": None, "extra_preparation_time": 15}


def test_the_long_path_updates_the_tokens_own_location_only(hubrise_sandbox, app_api):
    other = hubrise_sandbox.locations()[1]["id"]

    assert app_api.patch(f"/locations/{hubrise_sandbox.location_id}", {"preparation_time": 30}).status_code == 200
    assert app_api.patch(f"/locations/{other}", {"preparation_time": 30}).status_code == 403


def test_a_pause_ends_by_itself_at_resume_at_and_subscribers_hear_of_it(hubrise_sandbox, app_api, callback_receiver):
    app_api.post("/callback", {"url": callback_receiver.url, "events": {"location": ["update"]}})

    app_api.patch("/location", {"order_acceptance": {"mode": "paused", "resume_at": in_paris(1)}})
    event = callback_receiver.wait_for(1, timeout=5)[0].json()

    assert event["previous_state"]["order_acceptance"]["mode"] == "paused"
    assert event["new_state"]["order_acceptance"] == {"mode": "online"}
    assert app_api.get("/location").json()["order_acceptance"] == {"mode": "online"}


def test_new_opening_hours_replace_the_whole_week(app_api):
    app_api.patch("/location", {"opening_hours": WEEK})

    assert app_api.get("/location").json()["opening_hours"] == WEEK


def test_custom_fields_are_merged_and_a_null_removes_a_key(app_api):
    app_api.patch("/location", {"custom_fields": {"delivery": {"door_time": "35"}, "pos": {"till": "2"}}})

    app_api.patch("/location", {"custom_fields": {"pos": None, "brand": "bistrot"}})

    assert app_api.get("/location").json()["custom_fields"] == {"delivery": {"door_time": "35"}, "brand": "bistrot"}


def test_a_change_by_the_pos_sends_location_update_with_both_states(hubrise_sandbox, app_api, callback_receiver):
    app_api.post("/callback", {"url": callback_receiver.url, "events": {"location": ["update"]}})

    hubrise_sandbox.patch_location_as_pos(order_acceptance={"mode": "busy", "extra_preparation_time": 20})
    event = callback_receiver.wait_for(1)[0].json()

    assert (event["resource_type"], event["event_type"]) == ("location", "update")
    assert event["location_id"] == hubrise_sandbox.location_id
    assert event["previous_state"]["order_acceptance"] == {"mode": "online"}
    assert event["new_state"]["order_acceptance"]["extra_preparation_time"] == 20
    assert event["new_state"]["opening_hours"] == event["previous_state"]["opening_hours"]


def test_our_own_location_change_sends_us_nothing(hubrise_sandbox, app_api):
    app_api.post("/callback", {"url": None, "events": {"location": ["update"]}})

    app_api.patch("/location", {"preparation_time": 35})
    hubrise_sandbox.patch_location_as_pos(preparation_time=40)

    assert [e["event_type"] for e in app_api.get("/callback/events").json()] == ["update"]
    assert app_api.get("/location").json()["preparation_time"] == 40


REFUSALS = {
    "mode-normal": ({"order_acceptance": {"mode": "normal"}}, "order_acceptance.mode"),
    "unknown-mode": ({"order_acceptance": {"mode": "closed"}}, "order_acceptance.mode"),
    "busy-without-extra-time": ({"order_acceptance": {"mode": "busy"}}, "order_acceptance.extra_preparation_time"),
    "reason-while-busy": (
        {"order_acceptance": {"mode": "busy", "extra_preparation_time": 10, "reason": "Rush"}},
        "order_acceptance.reason",
    ),
    "resume-at-while-online": (
        {"order_acceptance": {"mode": "online", "resume_at": "2030-01-01T12:00:00+01:00"}},
        "order_acceptance.resume_at",
    ),
    "resume-at-without-offset": (
        {"order_acceptance": {"mode": "paused", "resume_at": "2030-01-01T12:00:00"}},
        "order_acceptance.resume_at",
    ),
    "extra-time-as-string": (
        {"order_acceptance": {"mode": "busy", "extra_preparation_time": "15"}},
        "order_acceptance.extra_preparation_time",
    ),
    "preparation-time-as-string": ({"preparation_time": "20"}, "preparation_time"),
    "negative-preparation-time": ({"preparation_time": -5}, "preparation_time"),
    "slot-ending-before-it-starts": (
        {"opening_hours": {"monday": [{"from": "14:00", "to": "12:00"}]}},
        "opening_hours.monday[0]",
    ),
    "overlapping-slots": (
        {"opening_hours": {"monday": [{"from": "12:00", "to": "15:00"}, {"from": "14:00", "to": "16:00"}]}},
        "opening_hours.monday[1]",
    ),
    "past-midnight-with-cutoff-at-midnight": (
        {"cutoff_time": "00:00", "opening_hours": {"friday": [{"from": "18:00", "to": "01:00"}]}},
        "opening_hours.friday[0]",
    ),
    "new-cutoff-breaking-the-current-hours": ({"cutoff_time": "00:00"}, "opening_hours.friday[1]"),
    "no-slot-in-the-week": ({"opening_hours": {"monday": []}}, "opening_hours"),
    "unknown-day": ({"opening_hours": {"lundi": [{"from": "12:00", "to": "14:00"}]}}, "opening_hours.lundi"),
    "bad-time": ({"opening_hours": {"monday": [{"from": "12h", "to": "14:00"}]}}, "opening_hours.monday[0]"),
    "bad-cutoff": ({"cutoff_time": "6:00"}, "cutoff_time"),
    "name": ({"name": "Le Grand Bistrot"}, "name"),
    "unknown-field": ({"phone": "+33123456789"}, "phone"),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_change_hubrise_refuses_is_a_422_naming_the_field_and_changes_nothing(hubrise_sandbox, app_api, case):
    body, field = case
    before = app_api.get("/location").json()

    errors = rejected_fields(app_api.patch("/location", body))

    assert field in errors, errors
    assert app_api.get("/location").json() == before


def test_midnight_slots_belong_to_the_day_they_start_before_the_cutoff(app_api):
    hours = {"saturday": [{"from": "19:00", "to": "02:00"}]}

    assert app_api.patch("/location", {"opening_hours": hours}).status_code == 200


def test_opening_hours_can_be_cleared(app_api):
    app_api.patch("/location", {"opening_hours": None})

    assert app_api.get("/location").json()["opening_hours"] is None
