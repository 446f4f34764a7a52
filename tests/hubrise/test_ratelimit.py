"""Our side of HubRise's per-connection rate limits, counted in Redis."""

from __future__ import annotations

import time

import pytest

from hubrise_sync import broker, ratelimit

LIMITS = {"minute": 3, "hour": 100, "day": 1000, "heavy_minute": 1}
# 12:00:10 on a day: 50 s left in its minute.
TEN_PAST_NOON = 1_796_040_010.0


@pytest.fixture(autouse=True)
def limits(settings):
    settings.HUBRISE_RATE_LIMITS = LIMITS
    ratelimit.forget_counters(broker.redis_client())


def test_the_minute_s_budget_is_spent_then_the_connection_waits_for_the_next_minute():
    granted = [ratelimit.acquire(7, now=TEN_PAST_NOON + n) for n in range(3)]
    assert granted == [0.0, 0.0, 0.0]
    assert ratelimit.acquire(7, now=TEN_PAST_NOON + 5) == pytest.approx(45)
    # Refused requests were not counted: the next minute has its whole budget.
    assert [ratelimit.acquire(7, now=TEN_PAST_NOON + 50 + n) for n in range(3)] == [0.0, 0.0, 0.0]
    assert ratelimit.acquire(8, now=TEN_PAST_NOON + 5) == 0.0, "another connection has its own budget"


def test_heavy_queries_have_their_own_smaller_budget():
    assert ratelimit.acquire(7, heavy=True, now=TEN_PAST_NOON) == 0.0
    assert ratelimit.acquire(7, heavy=True, now=TEN_PAST_NOON + 1) == pytest.approx(49)
    assert ratelimit.acquire(7, now=TEN_PAST_NOON + 1) == 0.0, "a light call still goes"


def test_a_429_pauses_every_call_of_the_connection_until_its_retry_after():
    ratelimit.pause(7, 0.6)
    wait = ratelimit.acquire(7, now=time.time())
    assert 0.3 < wait <= 0.6
    assert ratelimit.acquire(8, now=time.time()) == 0.0, "another connection is not paused"
    time.sleep(0.7)
    assert ratelimit.acquire(7, now=time.time()) == 0.0
