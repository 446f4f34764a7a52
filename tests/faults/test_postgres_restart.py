"""PostgreSQL restarted while HubRise's callbacks pour in: each event is recorded and applied once.

A private PostgreSQL (never the shared one) serves a real gunicorn. Client threads
play HubRise: they POST correctly signed ``order.update`` events, one order's events
one after the other, and send an event again after a 5xx, a timeout or a refused
connection, until it gets a 2xx or 4xx. Meanwhile PostgreSQL is stopped (fast: every
connection is cut), left down, and started again. The webhook must answer 503 while
it cannot record (never a 500, never hang), its workers must reconnect by themselves,
and at the end every event is recorded once and applied once.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from tests.hubrise.callbacks import SECRET, sign
from tests.processes import REPO_ROOT, django_env
from tests.web_fixture import logged_in_session

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

LOCATION_ID = "gare1-1"
ORDERS = 100
CHAIN = ("accepted", "in_preparation", "completed")
CLIENTS = 8
WEB_WORKERS = 3
# HubRise waits this long for an answer before it counts a delivery as failed.
HUBRISE_TIMEOUT = 20.0
RETRY_PAUSE = 0.2
# PostgreSQL goes down once this share of the events has been acknowledged.
RESTART_AT = 0.25
DOWN_FOR = 1.5
RUN_LIMIT = 120.0


@pytest.fixture(autouse=True)
def client_secret(settings):
    settings.HUBRISE_CLIENT_SECRET = SECRET


@dataclass
class Delivery:
    """One event as HubRise would deliver it, and every answer it got."""

    event_id: str
    order_id: str
    status: str
    body: bytes
    answers: list[str] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return bool(self.answers) and self.answers[-1][0] in "24"


def event_body(event_id: str, hubrise_order_id: str, status: str, previous: str, at) -> bytes:
    state = {"id": hubrise_order_id, "location_id": LOCATION_ID, "status": status, "created_by": "Caisse"}
    return json.dumps(
        {
            "id": event_id,
            "resource_type": "order",
            "event_type": "update",
            "created_at": at.isoformat(),
            "order_id": hubrise_order_id,
            "location_id": LOCATION_ID,
            "previous_state": {**state, "status": previous},
            "new_state": state,
        }
    ).encode()


def deliveries_for(hubrise_ids: list[str]) -> list[list[Delivery]]:
    """Each order's events in the order the POS made them, a millisecond apart."""
    start = timezone.now()
    chains = []
    for number, hubrise_id in enumerate(hubrise_ids):
        chain, previous = [], "new"
        for step, status in enumerate(CHAIN):
            event_id = f"ev{number:04d}{step}"
            at = start + timedelta(milliseconds=step)
            chain.append(Delivery(event_id, hubrise_id, status, event_body(event_id, hubrise_id, status, previous, at)))
            previous = status
        chains.append(chain)
    return chains


class HubRiseClient:
    """Delivers events like HubRise: again and again until a 2xx or a 4xx."""

    def __init__(self, url: str, deadline: float) -> None:
        self.url = url
        self.deadline = deadline
        self.acknowledged = 0
        self._lock = threading.Lock()

    def deliver(self, delivery: Delivery, session: requests.Session) -> None:
        headers = {"Content-Type": "application/json", "X-HubRise-Hmac-SHA256": sign(delivery.body)}
        while time.monotonic() < self.deadline:
            try:
                response = session.post(self.url, data=delivery.body, headers=headers, timeout=HUBRISE_TIMEOUT)
            except requests.Timeout:
                delivery.answers.append("timeout")
            except requests.ConnectionError:
                delivery.answers.append("refused")
            else:
                answer = str(response.status_code)
                if response.status_code == 503:
                    answer += " " + response.json()["detail"]
                delivery.answers.append(answer)
                if delivery.acknowledged:
                    with self._lock:
                        self.acknowledged += 1
                    return
            time.sleep(RETRY_PAUSE)

    def run(self, chains: list[list[Delivery]]) -> None:
        with requests.Session() as session:
            for chain in chains:
                for delivery in chain:
                    self.deliver(delivery, session)
                    if not delivery.acknowledged:
                        return


def seed_orders(database_url: str, count: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.webhook_orders", str(count), LOCATION_ID],
        cwd=REPO_ROOT,
        env=django_env(database_url),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def rows(cursor, sql: str) -> list[tuple]:
    cursor.execute(sql)
    return cursor.fetchall()


@dataclass
class Site:
    database_url: str
    establishment: int
    hubrise_ids: list[str]


@pytest.fixture
def site(private_postgres) -> Site:
    """Our schema and an establishment with ORDERS orders known to HubRise, on the private server."""
    database_url = private_postgres.create_database("getresto")
    private_postgres.migrate(database_url)
    seeded = seed_orders(database_url, ORDERS)
    return Site(database_url, seeded["establishment"], seeded["hubrise_ids"])


@pytest.mark.redis
def test_a_postgresql_restart_during_webhook_traffic_answers_503_then_every_event_is_applied_once(
    private_postgres, site, start_gunicorn, start_celery_worker
):
    database_url = site.database_url
    chains = deliveries_for(site.hubrise_ids)
    deliveries = [delivery for chain in chains for delivery in chain]
    server = start_gunicorn(database_url=database_url, workers=WEB_WORKERS)
    # The worker that applies what the webhook records lives through the restart too.
    start_celery_worker(DATABASE_URL=database_url)
    hubrise = HubRiseClient(f"{server.base_url}/hubrise/callback/", time.monotonic() + RUN_LIMIT)

    threads = [threading.Thread(target=hubrise.run, args=(chains[n::CLIENTS],)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    while hubrise.acknowledged < RESTART_AT * len(deliveries) and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    acknowledged_before_restart = hubrise.acknowledged
    private_postgres.restart(down_for=DOWN_FOR)
    for thread in threads:
        thread.join(timeout=RUN_LIMIT)

    answers = Counter(answer.split(" ")[0] for delivery in deliveries for answer in delivery.answers)
    lost = [d.event_id for d in deliveries if not d.acknowledged]
    assert not lost, f"{len(lost)} events never acknowledged (answers: {dict(answers)}); first: {lost[:5]}"
    assert acknowledged_before_restart < len(deliveries), "the restart came after the traffic"
    # While PostgreSQL was down or starting, the webhook said "try again"; otherwise only the
    # 200s of recorded events: no 500, no timeout, no refused connection.
    assert answers["503"] > 0, f"the outage was not seen: {dict(answers)}"
    assert set(answers) <= {"200", "503"}, f"answers other than 200 and 503: {dict(answers)}"
    retry_texts = {a for d in deliveries for a in d.answers if a.startswith("503")}
    assert retry_texts == {"503 Temporarily unable to record the event; please retry."}
    # The workers reconnected by themselves: none was killed or replaced.
    assert server.log().count("Booting worker") == WEB_WORKERS, server.log()[-3000:]

    with contextlib.closing(private_postgres.connect("getresto")) as connection, connection.cursor() as cursor:
        deadline = time.monotonic() + RUN_LIMIT
        while rows(cursor, "SELECT 1 FROM hubrise_sync_inboundevent WHERE outcome = 'pending' LIMIT 1"):
            assert time.monotonic() < deadline, "the worker did not apply every recorded event"
            time.sleep(0.2)
        recorded = dict(rows(cursor, "SELECT event_id, count(*) FROM hubrise_sync_inboundevent GROUP BY event_id"))
        outcomes = Counter(dict(rows(cursor, "SELECT outcome, count(*) FROM hubrise_sync_inboundevent GROUP BY outcome")))
        history = rows(
            cursor,
            """SELECT l.hubrise_order_id, o.status, array_agg(c.to_status ORDER BY c.at, c.id)
               FROM orders_order o JOIN hubrise_sync_orderlink l ON l.order_id = o.id
               JOIN orders_statuschange c ON c.order_id = o.id AND c.source = 'hubrise'
               GROUP BY l.hubrise_order_id, o.status""",
        )
    assert recorded == {d.event_id: 1 for d in deliveries}
    assert outcomes == {"applied": len(deliveries)}
    assert len(history) == ORDERS
    for hubrise_id, status, changes in history:
        assert (status, changes) == ("completed", list(CHAIN)), hubrise_id

    # Every worker is healthy again: redeliveries are acknowledged at the first try.
    with requests.Session() as session:
        again = [
            session.post(
                hubrise.url,
                data=d.body,
                headers={"Content-Type": "application/json", "X-HubRise-Hmac-SHA256": sign(d.body)},
                timeout=HUBRISE_TIMEOUT,
            )
            for d in deliveries[: WEB_WORKERS * 10]
        ]
    assert [(r.status_code, r.json()["result"]) for r in again] == [(200, "already received")] * len(again)
    print(
        f"{len(deliveries)} events, {sum(len(d.answers) for d in deliveries)} POSTs: {dict(answers)};"
        f" PostgreSQL restarted after {acknowledged_before_restart} acknowledgements"
    )


def test_after_a_postgresql_restart_the_staff_s_next_pages_are_served_not_an_error(private_postgres, site, start_gunicorn):
    server = start_gunicorn(database_url=site.database_url, workers=2)
    page = f"{server.base_url}/e/{site.establishment}/orders/?tab=recu"
    session = logged_in_session(server.base_url)

    def load_pages(count: int) -> list[int]:
        with requests.Session() as own:
            own.cookies.update(session.cookies)
            return [own.get(page, timeout=HUBRISE_TIMEOUT).status_code for _ in range(count)]

    # Both workers hold a connection (kept between requests, as in production) before the restart.
    warm = [threading.Thread(target=load_pages, args=(10,)) for _ in range(4)]
    for thread in warm:
        thread.start()
    for thread in warm:
        thread.join(timeout=60)
    private_postgres.restart(down_for=0.5)

    assert load_pages(20) == [200] * 20
