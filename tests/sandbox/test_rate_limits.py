"""Rate limits per connection on round windows, answered with 429 and Retry-After."""

from __future__ import annotations

import time

import pytest


@pytest.fixture(autouse=True)
def away_from_a_minute_boundary():
    """Windows align to the round minute, so a test straddling one would see its counts reset."""
    seconds_left = 60 - time.time() % 60
    if seconds_left < 3:
        time.sleep(seconds_left + 0.1)


def test_calls_over_the_minute_limit_get_429_until_the_next_round_minute(hubrise_sandbox, app_api):
    hubrise_sandbox.set_rate_limits(per_minute=3)
    for _ in range(3):
        assert app_api.get("/location").status_code == 200

    response = app_api.get("/location")

    assert response.status_code == 429
    assert response.json()["error_type"] == "too_many_requests"
    seconds_to_next_minute = 60 - time.time() % 60
    assert abs(int(response.headers["Retry-After"]) - seconds_to_next_minute) <= 1.5


def test_calls_over_the_hour_limit_wait_for_the_next_round_hour(hubrise_sandbox, app_api):
    hubrise_sandbox.set_rate_limits(per_hour=2)
    app_api.get("/location")
    app_api.get("/location")

    response = app_api.get("/location")

    assert response.status_code == 429
    seconds_to_next_hour = 3600 - time.time() % 3600
    assert abs(int(response.headers["Retry-After"]) - seconds_to_next_hour) <= 1.5


def test_order_lists_have_their_own_lower_limit(hubrise_sandbox, app_api):
    hubrise_sandbox.set_rate_limits(heavy_per_minute=2)
    app_api.get("/location/orders")
    app_api.get("/location/orders")

    refused = app_api.get("/location/orders")
    other_call = app_api.get("/location")

    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert other_call.status_code == 200


def test_limits_count_per_connection(hubrise_sandbox, app_api, pos_api):
    hubrise_sandbox.set_rate_limits(per_minute=1)
    app_api.get("/location")

    assert app_api.get("/location").status_code == 429
    assert pos_api.get("/location").status_code == 200


def test_a_shortened_minute_closes_its_window_within_seconds(hubrise_sandbox, app_api):
    hubrise_sandbox.settings(rate_time_unit=2, rate_limits={"per_minute": 1})
    while time.time() % 2 > 1.5:  # not at the very end of a window
        time.sleep(0.1)
    assert app_api.get("/location").status_code == 200

    refused = app_api.get("/location")
    window_end = (time.time() // 2 + 1) * 2
    time.sleep(window_end - time.time() + 0.05)

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) in (1, 2)
    assert app_api.get("/location").status_code == 200


def test_default_limits_are_hubrises(hubrise_sandbox):
    settings = hubrise_sandbox.settings()

    assert settings["rate_limits"] == {"per_minute": 500, "per_hour": 2500, "per_day": 10000, "heavy_per_minute": 10}
    assert settings["rate_time_unit"] == 60
