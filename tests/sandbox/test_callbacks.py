"""Callbacks: subscription, signed active delivery, HubRise's retry schedule, passive polling."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time

import pytest

from tests.sandbox.test_order_validation import rejected_fields

ORDER_EVENTS = {"order": ["create", "update"]}


def wait_until(condition, timeout: float = 5.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError("condition not met in time")


@pytest.fixture
def subscribed(app_api, callback_receiver):
    """Our app with an active callback for order events."""
    response = app_api.post("/callback", {"url": callback_receiver.url, "events": ORDER_EVENTS})
    assert response.status_code == 200, response.text
    return callback_receiver


@pytest.fixture
def passive(app_api):
    """Our app with a passive callback (no URL): events wait to be polled."""
    assert app_api.post("/callback", {"url": None, "events": ORDER_EVENTS}).status_code == 200


def test_a_connection_without_callback_reads_an_empty_one(app_api):
    assert app_api.get("/callback").json() == {"url": None, "events": {}}


def test_posting_a_callback_replaces_the_previous_one(app_api):
    app_api.post("/callback", {"url": "http://127.0.0.1:1/old", "events": {"order": ["create", "update"]}})

    app_api.post("/callback", {"url": "http://127.0.0.1:1/new", "events": {"order": ["update"]}})

    assert app_api.get("/callback").json() == {"url": "http://127.0.0.1:1/new", "events": {"order": ["update"]}}


def test_deleting_the_callback_removes_it(app_api):
    app_api.post("/callback", {"url": "http://127.0.0.1:1/cb", "events": ORDER_EVENTS})

    assert app_api.delete("/callback").status_code == 200
    assert app_api.get("/callback").json() == {"url": None, "events": {}}


@pytest.mark.parametrize(
    "events",
    [{"order": ["delete"]}, {"payment": ["create"]}, {}, {"order": "update"}],
    ids=["event-not-allowed-for-resource", "unknown-resource", "empty", "not-a-list"],
)
def test_a_callback_with_events_outside_the_allowed_pairs_is_rejected(app_api, events):
    errors = rejected_fields(app_api.post("/callback", {"url": None, "events": events}))

    assert any(field.startswith("events") for field in errors)


def test_a_pos_status_change_is_posted_with_a_valid_hmac_of_the_raw_body(hubrise_sandbox, app_api, subscribed):
    order = app_api.create_order(private_ref="GR-1")

    hubrise_sandbox.change_status_as_pos(order["id"], "accepted")
    callback = subscribed.wait_for(1)[0]

    expected = hmac.new(hubrise_sandbox.client_secret.encode(), callback.body, hashlib.sha256).hexdigest()
    assert callback.headers["X-HubRise-Hmac-SHA256"] == expected
    assert callback.headers["Content-Type"] == "application/json"


def test_an_order_update_event_carries_both_states_as_the_receiver_sees_them(hubrise_sandbox, app_api, subscribed):
    order = app_api.create_order(private_ref="GR-1")

    hubrise_sandbox.change_status_as_pos(order["id"], "accepted")
    event = subscribed.wait_for(1)[0].json()

    assert event["resource_type"] == "order"
    assert event["event_type"] == "update"
    assert event["id"]
    assert event["created_at"]
    assert event["order_id"] == order["id"]
    assert event["location_id"] == order["location_id"]
    assert event["account_id"] == hubrise_sandbox.locations()[0]["account_id"]
    assert event["previous_state"]["status"] == "new"
    assert event["new_state"]["status"] == "accepted"
    assert event["new_state"]["private_ref"] == "GR-1"


def test_an_order_created_by_another_app_is_announced_with_order_create(app_api, pos_api, subscribed):
    order = pos_api.create_order(status="accepted")

    event = subscribed.wait_for(1)[0].json()

    assert (event["event_type"], event["order_id"]) == ("create", order["id"])
    assert event["new_state"]["created_by"] == "Caisse (POS)"
    assert "previous_state" not in event


def test_an_app_never_receives_events_for_its_own_changes(hubrise_sandbox, app_api, subscribed):
    order = app_api.create_order()
    app_api.patch(f"/location/orders/{order['id']}", {"status": "accepted"})

    # A POS change afterwards proves the pipe works, so the earlier silence is meaningful.
    hubrise_sandbox.change_status_as_pos(order["id"], "in_preparation")
    received = subscribed.wait_for(1)
    time.sleep(0.1)

    assert [c.json()["new_state"]["status"] for c in subscribed.received] == ["in_preparation"]
    assert len(received) == 1


def test_an_app_subscribed_to_update_only_gets_no_create(app_api, pos_api, callback_receiver):
    app_api.post("/callback", {"url": callback_receiver.url, "events": {"order": ["update"]}})

    order = pos_api.create_order()
    pos_api.patch(f"/location/orders/{order['id']}", {"status": "accepted"})

    assert [c.json()["event_type"] for c in callback_receiver.wait_for(1)] == ["update"]


def test_a_delivered_event_is_deleted_and_not_sent_again(hubrise_sandbox, app_api, subscribed):
    order = app_api.create_order()

    hubrise_sandbox.change_status_as_pos(order["id"], "accepted")
    subscribed.wait_for(1)
    wait_until(lambda: hubrise_sandbox.events(state="delivered"))
    time.sleep(0.2)

    assert len(subscribed.received) == 1
    assert app_api.get("/callback/events").json() == []


def test_failed_deliveries_are_retried_with_doubling_waits_until_acknowledged(hubrise_sandbox, app_api, subscribed):
    time_unit = 0.2
    hubrise_sandbox.settings(time_unit=time_unit)
    subscribed.statuses = [500, 503, 502]
    order = app_api.create_order()

    hubrise_sandbox.change_status_as_pos(order["id"], "accepted")
    arrivals = [callback.at for callback in subscribed.wait_for(4, timeout=5)]

    waits = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    for wait, units in zip(waits, (1, 2, 4), strict=True):
        assert units * time_unit <= wait < units * time_unit + 0.15, waits
    assert len({callback.body for callback in subscribed.received}) == 1
    [event] = wait_until(lambda: hubrise_sandbox.events(state="delivered"))
    assert [attempt["status"] for attempt in event["attempts"]] == [500, 503, 502, 200]


def test_an_event_is_dropped_after_six_retries(hubrise_sandbox, app_api, subscribed):
    hubrise_sandbox.settings(time_unit=0.01)
    subscribed.default_status = 500
    order = app_api.create_order()

    hubrise_sandbox.change_status_as_pos(order["id"], "accepted")
    [event] = wait_until(lambda: hubrise_sandbox.events(state="dropped"), timeout=5)
    time.sleep(0.2)

    assert len(event["attempts"]) == 7
    assert len(subscribed.received) == 7
    assert app_api.get("/callback/events").json() == []


def test_a_4xx_answer_acknowledges_the_event(hubrise_sandbox, app_api, subscribed):
    subscribed.statuses = [401]
    order = app_api.create_order()

    hubrise_sandbox.change_status_as_pos(order["id"], "accepted")
    [event] = wait_until(lambda: hubrise_sandbox.events(state="delivered"))
    time.sleep(0.2)

    assert [attempt["status"] for attempt in event["attempts"]] == [401]
    assert len(subscribed.received) == 1


def test_a_receiver_slower_than_the_timeout_gets_the_event_again(hubrise_sandbox, app_api, subscribed):
    hubrise_sandbox.settings(delivery_timeout=0.2, time_unit=0.05)
    subscribed.delay = 0.5
    order = app_api.create_order()

    hubrise_sandbox.change_status_as_pos(order["id"], "accepted")
    subscribed.wait_for(2, timeout=5)
    subscribed.delay = 0
    [event] = wait_until(lambda: hubrise_sandbox.events(state="delivered,pending,in_flight"))

    assert event["attempts"][0]["status"] is None
    assert "Timeout" in event["attempts"][0]["error"]


def test_passive_events_are_listed_without_states(hubrise_sandbox, app_api, passive):
    order = app_api.create_order()
    hubrise_sandbox.change_status_as_pos(order["id"], "accepted")

    [summary] = app_api.get("/callback/events").json()

    assert summary["order_id"] == order["id"]
    assert summary["event_type"] == "update"
    assert "new_state" not in summary
    assert "previous_state" not in summary


def test_a_passive_event_is_read_with_its_states(hubrise_sandbox, app_api, passive):
    order = app_api.create_order()
    hubrise_sandbox.change_status_as_pos(order["id"], "accepted")
    [summary] = app_api.get("/callback/events").json()

    event = app_api.get(f"/callback/events/{summary['id']}").json()

    assert event["previous_state"]["status"] == "new"
    assert event["new_state"]["status"] == "accepted"


def test_a_deleted_passive_event_does_not_come_back(hubrise_sandbox, app_api, passive):
    order = app_api.create_order()
    hubrise_sandbox.change_status_as_pos(order["id"], "accepted")
    [summary] = app_api.get("/callback/events").json()

    deleted = app_api.delete(f"/callback/events/{summary['id']}")

    assert deleted.status_code == 200
    assert app_api.get("/callback/events").json() == []
    assert app_api.get(f"/callback/events/{summary['id']}").status_code == 404


def test_passive_events_page_with_x_cursor_next(hubrise_sandbox, app_api, passive):
    order = app_api.create_order()
    for status in ("received", "accepted", "completed"):
        hubrise_sandbox.change_status_as_pos(order["id"], status)

    first = app_api.get("/callback/events", params={"count": 2})
    second = app_api.get("/callback/events", params={"count": 2, "cursor": first.headers["X-Cursor-Next"]})

    assert len(first.json()) == 2
    assert len(second.json()) == 1
    assert "X-Cursor-Next" not in second.headers


def test_events_of_another_connection_are_not_reachable(hubrise_sandbox, app_api, pos_api, passive):
    order = app_api.create_order()
    hubrise_sandbox.change_status_as_pos(order["id"], "accepted")
    [summary] = app_api.get("/callback/events").json()

    assert pos_api.get(f"/callback/events/{summary['id']}").status_code == 404
