"""Benchmark of the HubRise webhook: signed order.update events against gunicorn on PostgreSQL.

Fires N correctly signed events (one per order, new → accepted) at
POST /hubrise/callback/, plus a tenth of them again as redeliveries, then the
same number of POSTs of the same bodies at a view that does nothing, served by
the same gunicorn in the same run. Prints events per second and p50/p99
latency of both, their ratio, and checks that every event was applied exactly
once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gr_bench .venv/bin/python bench/webhook.py [--events 2000]

The database is migrated and its bench data replaced (establishment "Bench webhook").
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
LOCATION_ID = "bench1-1"
ESTABLISHMENT = "Bench webhook"


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
        # Nothing is pushed during the bench; a broker in memory keeps publishing local.
        "CELERY_BROKER_URL": "memory://",
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
    old = Establishment.objects.filter(name=ESTABLISHMENT)
    InboundEvent.objects.filter(location_id=LOCATION_ID).delete()
    Order.objects.filter(establishment__in=old).delete()
    old.delete()
    company, _ = Company.objects.get_or_create(name="Bench")
    establishment = Establishment.objects.create(company=company, name=ESTABLISHMENT)
    placed_at = timezone.now() - timedelta(hours=1)
    ids = []
    # Linked by hand, before the connection exists, so that no outbox message is written.
    for number in range(count):
        order = create_order(establishment, croque_order(ref=f"B{number:05d}"), created_at=placed_at)
        ids.append(f"bo{number:05d}")
        OrderLink.objects.create(order=order, location_id=LOCATION_ID, hubrise_order_id=ids[-1])
    Connection.objects.create(establishment=establishment, location_id=LOCATION_ID, access_token="bench", callback_mode="active")  # noqa: S106
    return ids


def event_body(number: int, order_id: str) -> bytes:
    state = {"id": order_id, "location_id": LOCATION_ID, "status": "accepted", "created_by": "Get Resto", "custom_fields": {}}
    event = {
        "id": f"be{number:06d}",
        "resource_type": "order",
        "event_type": "update",
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        "order_id": order_id,
        "location_id": LOCATION_ID,
        "previous_state": {**state, "status": "new"},
        "new_state": state,
    }
    return json.dumps(event).encode()


def fire(url: str, bodies: list[bytes], concurrency: int, signed: bool) -> tuple[list[float], list[int], float]:
    sessions: dict[int, requests.Session] = {}

    def send(body: bytes) -> tuple[float, int]:
        import threading

        session = sessions.setdefault(threading.get_ident(), requests.Session())
        headers = {"Content-Type": "application/json"}
        if signed:
            headers["X-HubRise-Hmac-SHA256"] = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
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

    orders = Order.objects.filter(establishment__name=ESTABLISHMENT)
    changes = (
        StatusChange.objects.filter(order__in=orders, source=StatusChange.Source.HUBRISE, to_status="accepted")
        .values("order")
        .annotate(n=Count("id"))
    )
    per_order = [row["n"] for row in changes]
    events = InboundEvent.objects.filter(location_id=LOCATION_ID)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://… (the bench measures the webhook on PostgreSQL).")

    env = environment(database_url)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    print(f"preparing {args.events} orders …", flush=True)
    order_ids = prepare(args.events)

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
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.post(f"{base}/bench/baseline/", data=b"{}", timeout=5)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or server.poll() is not None:
                    sys.exit("gunicorn did not start")
                time.sleep(0.1)

        bodies = [event_body(number, order_id) for number, order_id in enumerate(order_ids)]
        redeliveries = bodies[::10]
        warmup = [b"{}"] * (args.workers * 20)
        fire(f"{base}/bench/baseline/", warmup, args.concurrency, signed=False)

        print(f"gunicorn {args.workers} sync workers, {args.concurrency} concurrent clients, PostgreSQL")
        baseline_latencies, baseline_statuses, baseline_elapsed = fire(
            f"{base}/bench/baseline/", bodies, args.concurrency, signed=False
        )
        baseline = summary("trivial view", baseline_latencies, baseline_elapsed)
        latencies, statuses, elapsed = fire(f"{base}/hubrise/callback/", bodies, args.concurrency, signed=True)
        webhook = summary("webhook (new events)", latencies, elapsed)
        re_latencies, re_statuses, re_elapsed = fire(f"{base}/hubrise/callback/", redeliveries, args.concurrency, signed=True)
        summary("webhook (redeliveries)", re_latencies, re_elapsed)
        print(
            f"ratio webhook/trivial: {webhook['per_second'] / baseline['per_second']:.2f} of the throughput,"
            f" p50 x{webhook['p50_ms'] / baseline['p50_ms']:.1f}, p99 x{webhook['p99_ms'] / baseline['p99_ms']:.1f}"
        )
        unexpected = {status for status in statuses + re_statuses + baseline_statuses if status != 200}
        if unexpected:
            sys.exit(f"unexpected HTTP statuses: {sorted(unexpected)}")
    finally:
        server.terminate()
        server.wait(timeout=10)
    check_applied_once(args.events)


if __name__ == "__main__":
    main()
