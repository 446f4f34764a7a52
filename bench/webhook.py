"""Benchmark of the HubRise webhook: signed order.update events against gunicorn on PostgreSQL.

Fires N correctly signed events (one per order, new → accepted) at
POST /hubrise/callback/, plus a tenth of them again as redeliveries, and the
same bodies at a baseline view that only checks the HMAC and runs one indexed
UPDATE, served by the same gunicorn in the same run. A real Celery worker
applies the recorded events meanwhile. Prints events per second and p50/p99
latency of both, their ratio, how long the worker took to apply them all, and
checks that every event was applied exactly once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gr_bench_hook CELERY_BROKER_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python bench/webhook.py [--events 2000]

The database is created if missing, migrated and its bench data replaced
(establishments "Bench webhook …"); the broker's queue is purged.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-webhook-secret"  # noqa: S105
LOCATION_PREFIX = "benchhook-"
ESTABLISHMENT = "Bench webhook"
ESTABLISHMENTS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "bench.webhook_settings",
        "GETRESTO_ENV": "development",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "60",
        "HUBRISE_CLIENT_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
    }


def prepare(count: int) -> list[str]:
    """Bench orders in "new", each linked to a HubRise id; returns those ids."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from hubrise_sync.models import Connection, InboundEvent, OrderLink
    from orders.models import Company, Establishment, Order
    from orders.services import create_order
    from tests.factories import croque_order

    call_command("migrate", verbosity=0)
    old = Establishment.objects.filter(name__startswith=ESTABLISHMENT)
    InboundEvent.objects.filter(location_id__startswith=LOCATION_PREFIX).delete()
    Order.objects.filter(establishment__in=old).delete()
    old.delete()
    company, _ = Company.objects.get_or_create(name="Bench")
    establishments = [
        Establishment.objects.create(company=company, name=f"{ESTABLISHMENT} {number}") for number in range(ESTABLISHMENTS)
    ]
    placed_at = timezone.now() - timedelta(hours=1)
    targets = []
    # Linked by hand, before the connections exist, so that no outbox message is written.
    for number in range(count):
        establishment = establishments[number % ESTABLISHMENTS]
        order = create_order(establishment, croque_order(ref=f"B{number:05d}"), created_at=placed_at)
        targets.append((location_of(establishment), f"bo{number:05d}"))
        OrderLink.objects.create(order=order, location_id=targets[-1][0], hubrise_order_id=targets[-1][1])
    for establishment in establishments:
        Connection.objects.create(
            establishment=establishment,
            location_id=location_of(establishment),
            access_token="bench",  # noqa: S106
            callback_mode="active",
        )
    return targets


def location_of(establishment) -> str:
    return f"{LOCATION_PREFIX}{establishment.pk}"


def event_body(number: int, location_id: str, order_id: str) -> bytes:
    state = {"id": order_id, "location_id": location_id, "status": "accepted", "created_by": "Get Resto", "custom_fields": {}}
    event = {
        "id": f"be{number:06d}",
        "resource_type": "order",
        "event_type": "update",
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        "order_id": order_id,
        "location_id": location_id,
        "previous_state": {**state, "status": "new"},
        "new_state": state,
    }
    return json.dumps(event).encode()


def fire(url: str, bodies: list[bytes], concurrency: int) -> tuple[list[float], list[int], float]:
    sessions: dict[int, requests.Session] = {}

    def send(body: bytes) -> tuple[float, int]:
        import threading

        session = sessions.setdefault(threading.get_ident(), requests.Session())
        headers = {
            "Content-Type": "application/json",
            "X-HubRise-Hmac-SHA256": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
        }
        started = time.perf_counter()
        response = session.post(url, data=body, headers=headers, timeout=30)
        return time.perf_counter() - started, response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(send, bodies))
    elapsed = time.perf_counter() - started
    return [latency for latency, _ in results], [status for _, status in results], elapsed


def summary(name: str, latencies: list[float], elapsed: float) -> dict:
    cuts = statistics.quantiles(latencies, n=100)
    figures = {
        "name": name,
        "requests": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
    }
    print(
        f"{name:<22} {figures['requests']:>6} requests  {figures['per_second']:>8.1f}/s"
        f"  p50 {figures['p50_ms']:>6.1f} ms  p99 {figures['p99_ms']:>6.1f} ms"
    )
    return figures


def check_applied_once(count: int) -> None:
    from django.db.models import Count

    from hubrise_sync.models import InboundEvent
    from orders.models import Order, StatusChange

    orders = Order.objects.filter(establishment__name__startswith=ESTABLISHMENT)
    changes = (
        StatusChange.objects.filter(order__in=orders, source=StatusChange.Source.HUBRISE, to_status="accepted")
        .values("order")
        .annotate(n=Count("id"))
    )
    per_order = [row["n"] for row in changes]
    events = InboundEvent.objects.filter(location_id__startswith=LOCATION_PREFIX)
    applied = events.filter(outcome=InboundEvent.Outcome.APPLIED).count()
    problems = []
    if orders.exclude(status="accepted").exists():
        problems.append(f"{orders.exclude(status='accepted').count()} orders not accepted")
    if len(per_order) != count or any(n != 1 for n in per_order):
        problems.append(f"history: {len(per_order)} orders changed, max {max(per_order, default=0)} changes per order")
    if events.count() != count or applied != count:
        problems.append(f"{events.count()} events recorded, {applied} applied (expected {count})")
    if problems:
        sys.exit("NOT applied exactly once: " + "; ".join(problems))
    print(f"check: {count} events recorded once and applied exactly once; redeliveries changed nothing")


def ensure_database(database_url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    name = database_url.rsplit("/", 1)[1].split("?")[0]
    admin = psycopg2.connect(database_url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def forget_queued_tasks(broker_url: str) -> None:
    """Tasks and flags an earlier run left in the broker."""
    import redis

    from hubrise_sync.broker import forget_queued_drains

    client = redis.Redis.from_url(broker_url)
    client.delete("celery")
    forget_queued_drains(client)


def start_worker(env: dict[str, str], concurrency: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "getresto",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
    )


def wait_until_applied(count: int, started: float, timeout: float) -> float:
    """Seconds from ``started`` until the worker has applied every event."""
    from hubrise_sync.models import InboundEvent

    pending = InboundEvent.objects.filter(location_id__startswith=LOCATION_PREFIX, outcome=InboundEvent.Outcome.PENDING)
    deadline = time.monotonic() + timeout
    while pending.exists() or InboundEvent.objects.filter(location_id__startswith=LOCATION_PREFIX).count() < count:
        if time.monotonic() > deadline:
            sys.exit(f"the worker did not apply every event within {timeout:.0f} s")
        time.sleep(0.05)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16, help="clients posting at once")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--celery-concurrency", type=int, default=2, help="processes of the worker that applies events")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://… (the bench measures the webhook on PostgreSQL).")
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        sys.exit("Set CELERY_BROKER_URL=redis://… (a real worker applies the events).")

    ensure_database(database_url)
    env = environment(database_url)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    print(f"preparing {args.events} orders across {ESTABLISHMENTS} establishments …", flush=True)
    targets = prepare(args.events)
    forget_queued_tasks(env["CELERY_BROKER_URL"])

    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "getresto.wsgi",
            f"--bind=127.0.0.1:{port}",
            f"--workers={args.workers}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    worker = None
    base = f"http://127.0.0.1:{port}"
    try:
        bodies = [event_body(number, location, order_id) for number, (location, order_id) in enumerate(targets)]
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{base}/bench/baseline/", timeout=5)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("gunicorn did not start")
                time.sleep(0.1)

        redeliveries = bodies[::10]
        fire(f"{base}/bench/baseline/", bodies[: args.workers * 20], args.concurrency)

        print(f"gunicorn {args.workers} sync workers, {args.concurrency} concurrent clients, PostgreSQL")
        baseline_latencies, baseline_statuses, baseline_elapsed = fire(f"{base}/bench/baseline/", bodies, args.concurrency)
        baseline = summary("baseline (HMAC+UPDATE)", baseline_latencies, baseline_elapsed)
        # The webhook alone first (its events wait, recorded), then the worker applies them:
        # on two cores, applying meanwhile would take CPU from both the webhook and the baseline.
        latencies, statuses, elapsed = fire(f"{base}/hubrise/callback/", bodies, args.concurrency)
        webhook = summary("webhook (new events)", latencies, elapsed)
        started = time.perf_counter()
        worker = start_worker(env, args.celery_concurrency)
        applied_after = wait_until_applied(len(bodies), started, timeout=600)
        print(
            f"{'applied by the worker':<22} {len(bodies):>6} events    {len(bodies) / applied_after:>8.1f}/s"
            f"  ({args.celery_concurrency} processes, from its start to the last event applied)"
        )
        re_latencies, re_statuses, re_elapsed = fire(f"{base}/hubrise/callback/", redeliveries, args.concurrency)
        summary("webhook (redeliveries)", re_latencies, re_elapsed)
        print(
            f"ratio webhook/baseline: {webhook['per_second'] / baseline['per_second']:.2f} of the throughput,"
            f" p50 x{webhook['p50_ms'] / baseline['p50_ms']:.1f}, p99 x{webhook['p99_ms'] / baseline['p99_ms']:.1f}"
        )
        unexpected = {status for status in statuses + re_statuses + baseline_statuses if status != 200}
        if unexpected:
            sys.exit(f"unexpected HTTP statuses: {sorted(unexpected)}")
    finally:
        processes = [process for process in (server, worker) if process is not None]
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
    check_applied_once(args.events)


if __name__ == "__main__":
    main()
