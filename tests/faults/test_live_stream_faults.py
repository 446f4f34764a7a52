"""The open screens' streams when Redis fails (orders.live_stream): no change is missed for good.

The web and stream processes and this test use a private Redis behind a TCP proxy
(tests/faults/broker.py), so that the connections can be reset for real.
"""

from __future__ import annotations

import time

import pytest

from orders.services import change_status
from tests.factories import make_establishment, make_order
from tests.faults.broker import BrokerProxy, PrivateRedis
from tests.orders.test_live_stream_served import HTMX, Listening, a_screen_of_the_list
from tests.web_fixture import STREAM

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def broker_proxy(tmp_path, settings):
    redis = PrivateRedis(tmp_path)
    redis.start()
    proxy = BrokerProxy("127.0.0.1", redis.port)
    # This process publishes through it too, and the servers started afterwards get it (tests.processes.peer_env).
    settings.CELERY_BROKER_URL = proxy.url(redis.url(3))
    yield proxy
    proxy.stop()
    redis.stop()


def test_a_subscription_reset_wakes_every_open_stream_and_later_changes_are_told_again(broker_proxy, start_gunicorn):
    # The streams' own checks are rare here: only the subscription meets the reset.
    web = start_gunicorn(workers=1)
    stream = start_gunicorn(workers=1, serves=STREAM, LIVE_STREAM_CHECK_SECONDS="60", PUBLIC_URL=web.base_url)
    establishment = make_establishment()
    order = make_order(establishment, ref="F-1")
    screen, _, list_url = a_screen_of_the_list(web, establishment)
    listening = Listening(screen, stream.base_url + list_url + "stream/")
    assert listening.response.status_code == 200
    try:
        broker_proxy.set_mode("reset")
        time.sleep(0.5)
        broker_proxy.set_mode("pass")
        # What was announced meanwhile is unknown: the stream says "changed", and the page refreshes.
        assert listening.next_event(within=5) == "changed"

        change_status(order, "accepted", source="hubrise")
        assert listening.next_event(within=3) == "changed"
    finally:
        listening.close()


def test_a_stream_whose_checks_meet_redis_down_ends_and_the_page_polls_until_it_is_back(broker_proxy, start_gunicorn):
    web = start_gunicorn(workers=1)
    stream = start_gunicorn(workers=1, serves=STREAM, LIVE_STREAM_CHECK_SECONDS="1", PUBLIC_URL=web.base_url)
    screen, _, list_url = a_screen_of_the_list(web, make_establishment())
    listening = Listening(screen, stream.base_url + list_url + "stream/")
    assert listening.response.status_code == 200

    broker_proxy.set_mode("reset")
    # Told to refresh once more, then the stream ends; a new one is refused while Redis is away.
    assert listening.next_event(within=5) == "changed"
    assert listening.next_event(within=3) == "<end>"
    assert Listening(screen, stream.base_url + list_url + "stream/").response.status_code == 204

    broker_proxy.set_mode("pass")
    assert screen.get(web.base_url + list_url, headers=HTMX, timeout=10).status_code == 200
    again = Listening(screen, stream.base_url + list_url + "stream/")
    assert again.response.status_code == 200
    again.close()
