"""A flood of unsigned 1 MB callbacks against a real gunicorn: the quarantine stays small, HubRise's events flow.

One client address and three others POST large random (incompressible) bodies
without a valid signature, from several threads at once, while "HubRise" posts
signed events of one order through the same server, from the flooding address
too. A real Celery worker applies what the webhook records. The quarantine must
keep at most its hourly cap of rows, each with at most its first kilobytes; the
flooding address must be answered 429 with Retry-After; every signed event must
be acknowledged, recorded and applied during the flood.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from django.db import connection

from hubrise_sync.models import InboundEvent, QuarantinedCallback
from orders.models import Order
from tests.factories import make_establishment
from tests.hubrise.callbacks import HUBRISE_ORDER_ID, LOCATION_ID, SECRET, connect, linked_order, sign
from tests.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

CALLBACK_PATH = "/hubrise/callback/"
BODY_BYTES = 1_000_000
KEEP_BYTES = 16 * 1024
CAP_PER_HOUR = 30
PER_ADDRESS_MINUTE = 10
FLOODER = "127.0.0.1"
OTHERS = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
FLOOD_THREADS = 3
POSTS_PER_THREAD = 15
POSTS_PER_OTHER = 10
STATUSES = ("accepted", "in_preparation", "awaiting_collection", "completed")


@pytest.fixture(autouse=True)
def client_secret(settings):
    settings.HUBRISE_CLIENT_SECRET = SECRET


@pytest.fixture(autouse=True)
def no_refused_callbacks_counted_yet():
    """The throttle counts in Redis per clock minute: start at zero, and leave no throttled address behind."""
    from hubrise_sync import broker, quarantine

    quarantine.forget_throttle(broker.redis_client())
    yield
    quarantine.forget_throttle(broker.redis_client())


def post_unsigned(port: int, source: str, body: bytes) -> tuple[int, str | None]:
    """One POST from ``source`` (any 127.0.0.0/8 address is this machine), as http.client lets us choose it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request("POST", CALLBACK_PATH, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Retry-After")
    finally:
        conn.close()


def signed_event(number: int, status: str) -> bytes:
    happened = datetime(2021, 6, 24, 17, 10, tzinfo=ZoneInfo("Europe/Paris")) + timedelta(minutes=number)
    return json.dumps(
        {
            "id": f"flood{number}",
            "resource_type": "order",
            "event_type": "update",
            "created_at": happened.isoformat(),
            "order_id": HUBRISE_ORDER_ID,
            "location_id": LOCATION_ID,
            "new_state": {"id": HUBRISE_ORDER_ID, "location_id": LOCATION_ID, "status": status},
        }
    ).encode()


def quarantine_table_bytes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size(%s)", [QuarantinedCallback._meta.db_table])
        return cursor.fetchone()[0]


def test_a_flood_of_unsigned_large_bodies_keeps_the_quarantine_bounded_while_signed_events_flow(start_gunicorn, celery_worker):
    order = linked_order(make_establishment())
    connect(order.establishment)
    web = start_gunicorn(
        HUBRISE_QUARANTINE_MAX_PER_HOUR=str(CAP_PER_HOUR),
        HUBRISE_QUARANTINE_PER_ADDRESS_MINUTE=str(PER_ADDRESS_MINUTE),
        HUBRISE_QUARANTINE_KEEP_BYTES=str(KEEP_BYTES),
    )
    answers: dict[str, list[tuple[int, str | None]]] = {address: [] for address in (FLOODER, *OTHERS)}
    signed_answers: list[int] = []
    lock = threading.Lock()

    def flood(address: str, posts: int) -> None:
        for _ in range(posts):
            answer = post_unsigned(web.port, address, os.urandom(BODY_BYTES))
            with lock:
                answers[address].append(answer)

    def hubrise() -> None:
        # HubRise's own calls come from the flooding address too: only their signature sets them apart.
        session = requests.Session()
        for number, status in enumerate(STATUSES):
            body = signed_event(number, status)
            response = session.post(
                f"{web.base_url}{CALLBACK_PATH}",
                data=body,
                headers={"Content-Type": "application/json", "X-HubRise-Hmac-SHA256": sign(body)},
                timeout=30,
            )
            signed_answers.append(response.status_code)

    threads = [threading.Thread(target=flood, args=(FLOODER, POSTS_PER_THREAD)) for _ in range(FLOOD_THREADS)]
    threads += [threading.Thread(target=flood, args=(address, POSTS_PER_OTHER)) for address in OTHERS]
    threads.append(threading.Thread(target=hubrise))
    started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    # The throttle counts per clock minute: a flood that straddles one gets a fresh allowance.
    minutes = int(time.time() // 60) - int(started // 60) + 1

    # HubRise's events were all acknowledged, recorded and applied, in order.
    assert signed_answers == [200] * len(STATUSES)
    wait_until(lambda: Order.objects.get(pk=order.pk).status == STATUSES[-1], what="the signed events applied")
    assert set(InboundEvent.objects.values_list("outcome", flat=True)) == {InboundEvent.Outcome.APPLIED}

    # The flooding address was slowed down: refused, then told to come back later.
    flooder = Counter(status for status, _ in answers[FLOODER])
    assert set(flooder) == {401, 429}, flooder
    # A refusal that could not be counted in Redis within its timeout is heard (the throttle fails open, and
    # says so in the log): on a machine loaded enough for that, the allowance grows by as many.
    uncounted = web.log().count("Cannot count refused HubRise callbacks per address")
    assert PER_ADDRESS_MINUTE <= flooder[401] <= PER_ADDRESS_MINUTE * minutes + uncounted, (flooder, uncounted)
    assert all(1 <= int(retry_after) <= 60 for status, retry_after in answers[FLOODER] if status == 429)
    for address in OTHERS:
        assert {status for status, _ in answers[address]} == {401}, (address, answers[address])

    # The quarantine holds at most its cap, each row at most its first kilobytes.
    kept = list(QuarantinedCallback.objects.all())
    assert len(kept) == CAP_PER_HOUR
    assert all(len(row.body) == KEEP_BYTES and row.body_size == BODY_BYTES for row in kept)
    assert quarantine_table_bytes() < CAP_PER_HOUR * KEEP_BYTES + 2 * 1024 * 1024
