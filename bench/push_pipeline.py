"""How fast do status changes reach HubRise through the outbox, compared with calling HubRise directly?

Runs on this machine: the HubRise sandbox (its own process), a real Celery worker
with its beat (its own process) and, in this process, the web's side: N orders
are created and pushed first, then N status changes are made through
orders.services.change_status, each in its own transaction, as fast as possible.
It prints the throughput of changes delivered to HubRise and the latency from
the commit to the sandbox receiving the PATCH (p50/p95/p99), next to the same
figures for a bare `requests` loop of N PATCHes to the same sandbox, sequential
and with as many threads as the worker has processes, and the ratios.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gr_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/9 \\
    .venv/bin/python bench/push_pipeline.py --changes 500 --concurrency 4

The database is created and migrated if needed and its tables are emptied first;
the broker's queue is purged. Rate limits (ours and the sandbox's) are raised so
that the figure measures the pipeline, not HubRise's 500 requests per minute.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
HIGH_LIMITS = {"minute": 1_000_000, "hour": 1_000_000, "day": 1_000_000, "heavy_minute": 1_000_000}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(name: str, latencies: list[float], elapsed: float) -> dict:
    return {
        "name": name,
        "count": len(latencies),
        "throughput": len(latencies) / elapsed if elapsed > 0 else float("inf"),
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "mean": statistics.fmean(latencies) * 1000,
    }


def start_sandbox(workdir: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HUBRISE_SANDBOX_PORT": str(port),
        "HUBRISE_SANDBOX_DB": str(workdir / "sandbox.sqlite3"),
        "HUBRISE_SANDBOX_RATE_LIMIT_MINUTE": "1000000",
        "HUBRISE_SANDBOX_RATE_LIMIT_HOUR": "1000000",
        "HUBRISE_SANDBOX_RATE_LIMIT_DAY": "1000000",
        "HUBRISE_SANDBOX_RATE_LIMIT_HEAVY_MINUTE": "1000000",
    }
    log = (workdir / "sandbox.log").open("ab")
    process = subprocess.Popen([sys.executable, "-m", "hubrise_sandbox"], cwd=workdir, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the sandbox did not start")


def start_worker(workdir: Path, concurrency: int) -> subprocess.Popen:
    log = (workdir / "worker.log").open("ab")
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "getresto",
        "worker",
        "-B",
        "--schedule",
        str(workdir / "beat"),
        "--concurrency",
        str(concurrency),
        "--loglevel",
        os.environ.get("BENCH_WORKER_LOG_LEVEL", "WARNING"),
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"bench-{os.getpid()}@%h",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the worker exited: see {workdir / 'worker.log'}")
        # The worker logs nothing at WARNING once ready; ask it over the broker instead.
        from getresto.celery import app

        if app.control.ping(timeout=0.5):
            return process
    process.kill()
    raise SystemExit("the worker did not start")


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def control(base: str, method: str, path: str, **kwargs) -> object:
    response = requests.request(method, f"{base}/_sandbox{path}", timeout=30, **kwargs)
    response.raise_for_status()
    return response.json()


def patch_receipts(base: str, since_id: int) -> dict[str, float]:
    """HubRise order id → when the sandbox received its (first) PATCH."""
    entries = control(base, "GET", "/requests", params={"method": "PATCH", "since_id": since_id, "limit": 2000})
    received: dict[str, float] = {}
    for entry in entries:
        order_id = entry["path"].rsplit("/", 1)[-1]
        received[order_id] = min(entry["at"], received.get(order_id, entry["at"]))
    return received


def last_request_id(base: str) -> int:
    entries = control(base, "GET", "/requests", params={"limit": 1})
    return entries[0]["id"] if entries else 0


def bare_loop(api_url: str, token: str, location_id: str, hubrise_ids: list[str], threads: int, status: str) -> tuple:
    sent_at: dict[str, float] = {}
    chunks = [hubrise_ids[i::threads] for i in range(threads)]

    def run(ids: list[str]) -> None:
        session = requests.Session()
        for order_id in ids:
            sent_at[order_id] = time.time()
            response = session.patch(
                f"{api_url}/locations/{location_id}/orders/{order_id}",
                data=json.dumps({"status": status}),
                headers={"X-Access-Token": token, "Content-Type": "application/json"},
                timeout=(3.05, 10),
            )
            response.raise_for_status()

    workers = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sent_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=500, help="status changes to make (one per order)")
    parser.add_argument("--concurrency", type=int, default=4, help="Celery worker processes")
    args = parser.parse_args()
    n = args.changes
    if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("CELERY_BROKER_URL", "").startswith(
        "redis"
    ):
        raise SystemExit("Set DATABASE_URL to PostgreSQL and CELERY_BROKER_URL to Redis (see the docstring).")

    workdir = Path(tempfile.mkdtemp(prefix="push-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "GETRESTO_ENV": "test",
            "DJANGO_SETTINGS_MODULE": "getresto.settings",
            "HUBRISE_API_URL": f"{base}/v1",
            "HUBRISE_RATE_LIMIT_MINUTE": str(HIGH_LIMITS["minute"]),
            "HUBRISE_RATE_LIMIT_HOUR": str(HIGH_LIMITS["hour"]),
            "HUBRISE_RATE_LIMIT_DAY": str(HIGH_LIMITS["day"]),
            "HUBRISE_RATE_LIMIT_HEAVY_MINUTE": str(HIGH_LIMITS["heavy_minute"]),
            "HUBRISE_SWEEP_INTERVAL": "2",
            "LOG_LEVEL": "WARNING",
            # Persistent database connections, as in production.
            "DATABASE_CONN_MAX_AGE": "60",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    from hubrise_sync.models import Connection, OrderLink, OutboxMessage
    from orders.models import Order, StatusChange
    from orders.services import change_status
    from tests.factories import make_establishment, make_order

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery", "unacked", "unacked_index")

    sandbox = start_sandbox(workdir, port)
    worker = None
    try:
        location_id = control(base, "GET", "/locations")[0]["id"]
        token = control(base, "POST", "/connections", json={"location_id": location_id})["access_token"]
        establishment = make_establishment("Banc d'essai")
        Connection.objects.create(establishment=establishment, access_token=token, location_id=location_id)
        worker = start_worker(workdir, args.concurrency)

        print(f"Creating and pushing {n} orders …", flush=True)
        orders = [make_order(establishment) for _ in range(n)]
        pending = OutboxMessage.objects.exclude(state=OutboxMessage.State.DELIVERED)
        wait_for(lambda: not pending.exists(), 120 + n / 10, "the creates")
        hubrise_id = dict(OrderLink.objects.values_list("order_id", "hubrise_order_id"))

        print(f"Making {n} status changes through change_status …", flush=True)
        since = last_request_id(base)
        committed_at: dict[str, float] = {}
        loop_started = time.time()
        for order in orders:
            with transaction.atomic():
                change_status(order, "accepted", source=StatusChange.Source.STAFF)
                # The last instant before COMMIT: the latency below includes the commit and the publish.
                committed_at[hubrise_id[order.pk]] = time.time()
        producer_rate = n / (time.time() - loop_started)
        wait_for(lambda: not pending.exists(), 120 + n / 10, "the status changes")
        received = patch_receipts(base, since)
        pipeline_latencies = [received[order_id] - committed_at[order_id] for order_id in committed_at]
        pipeline = summary(
            f"outbox + Celery ({args.concurrency} processes)",
            pipeline_latencies,
            max(received.values()) - min(committed_at.values()),
        )
        failures = OutboxMessage.objects.filter(state=OutboxMessage.State.FAILED).count()

        ids = list(committed_at)
        results = [pipeline]
        for threads, status in ((1, "in_preparation"), (args.concurrency, "awaiting_collection")):
            since = last_request_id(base)
            sent_at = bare_loop(f"{base}/v1", token, location_id, ids, threads, status)
            received = patch_receipts(base, since)
            latencies = [received[order_id] - sent_at[order_id] for order_id in ids]
            results.append(
                summary(
                    f"bare requests, {threads} thread{'s' if threads > 1 else ''}",
                    latencies,
                    max(received.values()) - min(sent_at.values()),
                )
            )
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=20)
        sandbox.terminate()
        sandbox.wait(timeout=10)

    print()
    print(f"{n} status changes, {Order.objects.count()} orders, failed messages: {failures}")
    print(f"change_status() loop in this process (the web's side): {producer_rate:.1f} changes/s")
    print(f"{'':38} {'changes/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for row in results:
        print(
            f"{row['name']:38} {row['throughput']:10.1f} {row['p50']:8.1f} {row['p95']:8.1f} {row['p99']:8.1f} {row['mean']:8.1f}"
        )
    for bare in results[1:]:
        print(
            f"pipeline / {bare['name']}: throughput x{pipeline['throughput'] / bare['throughput']:.2f}, "
            f"p50 latency x{pipeline['p50'] / bare['p50']:.1f}, p99 latency x{pipeline['p99'] / bare['p99']:.1f}"
        )


if __name__ == "__main__":
    main()
