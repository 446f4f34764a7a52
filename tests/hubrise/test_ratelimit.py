"""Our side of HubRise's per-connection rate limits, in both stores: Redis (production) and the database."""

from __future__ import annotations

import time

import pytest

from hubrise_sync import broker, ratelimit
from hubrise_sync.models import RateWindow

pytestmark = pytest.mark.django_db

LIMITS = {"minute": 3, "hour": 100, "day": 1000, "heavy_minute": 1}
# 12:00:10 on a day: 50 s left in its minute.
TEN_PAST_NOON = 1_796_040_010.0


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis), "database"])
def store(request, settings):
    settings.HUBRISE_RATE_LIMITS = LIMITS
    if request.param == "redis":
        ratelimit.forget_counters(broker.redis_client())
    else:
        settings.CELERY_BROKER_URL = "filesystem://"
    return request.param


def test_the_minute_s_budget_is_spent_then_the_connection_waits_for_the_next_minute(store):
    granted = [ratelimit.acquire(7, now=TEN_PAST_NOON + n) for n in range(3)]
    assert granted == [0.0, 0.0, 0.0]
    assert ratelimit.acquire(7, now=TEN_PAST_NOON + 5) == pytest.approx(45)
    # Refused requests were not counted: the next minute has its whole budget.
    assert [ratelimit.acquire(7, now=TEN_PAST_NOON + 50 + n) for n in range(3)] == [0.0, 0.0, 0.0]
    assert ratelimit.acquire(8, now=TEN_PAST_NOON + 5) == 0.0, "another connection has its own budget"


def test_heavy_queries_have_their_own_smaller_budget(store):
    assert ratelimit.acquire(7, heavy=True, now=TEN_PAST_NOON) == 0.0
    assert ratelimit.acquire(7, heavy=True, now=TEN_PAST_NOON + 1) == pytest.approx(49)
    assert ratelimit.acquire(7, now=TEN_PAST_NOON + 1) == 0.0, "a light call still goes"


def test_a_429_pauses_every_call_of_the_connection_until_its_retry_after(store):
    now = time.time()
    ratelimit.pause(7, 0.6, now=now)
    wait = ratelimit.acquire(7, now=time.time())
    # The database store rounds the end of a pause up to the second.
    assert 0.3 < wait <= (0.6 if store == "redis" else 1.6)
    assert ratelimit.acquire(8, now=time.time()) == 0.0, "another connection is not paused"
    time.sleep(0.7 if store == "redis" else 1.6)  # the database store counts whole seconds
    assert ratelimit.acquire(7, now=time.time()) == 0.0
    if store == "database":
        assert RateWindow.objects.filter(connection_id=7, window=ratelimit.PAUSE).exists()
