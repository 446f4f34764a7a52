"""Benchmark of the HubRise webhook: signed order.update events against gunicorn on PostgreSQL.

Fires N correctly signed events (one per order, new → accepted) at
POST /hubrise/callback/, plus a tenth of them again as redeliveries, and the
same bodies at a baseline view that only checks the HMAC and runs one indexed
UPDATE, served by the same gunicorn in the same run. A real Celery worker
applies the recorded events: after the burst (default) or during it
(--apply-during). Prints events per second and p50/p99 latency of both, their
ratio, how long the worker took to apply them all, the CPU each process used
per request, and checks that every answer was 200 and every event applied
exactly once.

The load comes from bench/http_load.py: asyncio over raw sockets, requests
built and signed beforehand, so that the client takes little of the CPU the
server is measured on.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gr_bench_hook CELERY_BROKER_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python bench/webhook.py [--events 4000] [--apply-during]

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
import threading
import time
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import http_load, webhook_imports

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-webhook-secret"  # noqa: S105
LOCATION_PREFIX = "benchhook-"
ESTABLISHMENT = "Bench webhook"
ESTABLISHMENTS = 10
SIGNATURE_HEADER = "X-HubRise-Hmac-SHA256"


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


def prepare(count: int, updates: int = 0) -> tuple[list, list]:
    """Bench orders in "new", each linked to a HubRise id; returns those ids, and those of ``updates`` more (--creates)."""
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
    update_targets = webhook_imports.prepare_updates(establishments, updates, location_of)
    for establishment in establishments:
        Connection.objects.create(
            establishment=establishment,
            location_id=location_of(establishment),
            access_token="bench",  # noqa: S106
            callback_mode="active",
        )
    return targets, update_targets


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


def signed_requests(host: str, path: str, bodies: list[bytes]) -> list[bytes]:
    return [
        http_load.build_request(
            host,
            path,
            body,
            {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
            },
        )
        for body in bodies
    ]


def summary(name: str, result: http_load.Result, cpu: dict[str, float] | None = None) -> dict:
    cuts = statistics.quantiles(result.latencies, n=100)
    count = len(result.latencies)
    figures = {
        "name": name,
        "requests": count,
        "per_second": count / result.elapsed,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
    }
    print(
        f"{name:<24} {count:>6} requests  {figures['per_second']:>7.1f}/s"
        f"  p50 {figures['p50_ms']:>6.1f} ms  p99 {figures['p99_ms']:>6.1f} ms  max {max(result.latencies) * 1000:>6.1f} ms"
        f"  ({result.connections} connections)"
    )
    if cpu is not None:
        print_cpu(cpu, count, result.elapsed)
    return figures


def print_cpu(cpu: dict[str, float], count: int, elapsed: float, unit: str = "request") -> None:
    machine = cpu.pop("machine", None)
    ours = sum(cpu.values())
    parts = "  ".join(f"{name} {seconds * 1000 / count:.2f}" for name, seconds in cpu.items() if seconds)
    print(f"{'':<24} CPU ms per {unit}: {parts}  (total {ours * 1000 / count:.2f}; {ours / elapsed:.2f} cores busy)")
    if machine is not None:
        # Everything else on the machine meanwhile: other people's work, the kernel's, this bench's own bookkeeping.
        others = max(0.0, machine - ours) / elapsed
        print(f"{'':<24} the whole machine: {machine / elapsed:.2f} cores busy, {others:.2f} of them not ours")


# CPU used by each process, read from /proc --------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (0 once it is gone)."""
    fields = _stat(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (not idle nor waiting for I/O), all cores."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def with_children(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    return [pid, *(int(child) for child in children)]


class DatabaseProcesses:
    """PostgreSQL's processes that serve this database, and its own (WAL writer, checkpointer …), read from /proc.

    A backend is known by its title ("postgres: [cluster: ]user database host state"); each title is read once.
    """

    SHARED = ("checkpointer", "background writer", "walwriter", "autovacuum launcher", "logical replication launcher")

    def __init__(self, database_url: str) -> None:
        import psycopg2

        self.database = database_url.rsplit("/", 1)[1].split("?")[0]
        probe = psycopg2.connect(database_url)
        backend = probe.get_backend_pid()
        self.postmaster = int(_stat(backend)[1])
        probe.close()
        self.ours: dict[int, bool] = {}

    def __call__(self) -> list[int]:
        children = with_children(self.postmaster)[1:]
        for pid in children:
            if pid not in self.ours:
                try:
                    title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except FileNotFoundError:
                    continue
                title = " ".join(title.split())
                self.ours[pid] = f" {self.database} " in f" {title} " or title.endswith(self.SHARED)
        return [pid for pid in children if self.ours.get(pid)]


def redis_process(broker_url: str) -> list[int]:
    import redis

    return [int(redis.Redis.from_url(broker_url).info("server")["process_id"])]


class CpuMeter:
    """CPU used by each part between start() and stop(); the client is the load generator's thread, counted by http_load.

    A thread reads /proc every 20 ms meanwhile, so that a process that exits within the span (the
    Celery worker closes its database connection after each task) is counted up to its last reading.
    """

    INTERVAL = 0.02

    def __init__(self, parts: dict[str, object]) -> None:
        self.parts = parts
        self.before: dict[int, float] = {}
        self.last: dict[str, dict[int, float]] = {}
        self.running = threading.Event()
        self.sampler: threading.Thread | None = None

    def _sample(self) -> None:
        for name, pids in self.parts.items():
            seen = self.last.setdefault(name, {})
            for pid in pids():
                cpu = cpu_seconds(pid)
                if cpu:
                    seen[pid] = cpu

    def _run(self) -> None:
        while self.running.is_set():
            self._sample()
            time.sleep(self.INTERVAL)

    def start(self) -> None:
        self.machine_before = machine_busy_seconds()
        self.last = {}
        self._sample()
        self.before = {pid: cpu for seen in self.last.values() for pid, cpu in seen.items()}
        self.running.set()
        self.sampler = threading.Thread(target=self._run, daemon=True)
        self.sampler.start()

    def stop(self) -> dict[str, float]:
        self.running.clear()
        self.sampler.join()
        self._sample()
        # A process that appeared meanwhile used all of its CPU within the span.
        used = {name: sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.last.get(name, {}).items()) for name in self.parts}
        used["machine"] = machine_busy_seconds() - self.machine_before
        return used


def check_applied_once(count: int) -> None:
    from django.db.models import Count

    from hubrise_sync.models import InboundEvent
    from orders.models import Order, StatusChange

    # The first round's orders and events (--creates adds others, checked by webhook_imports).
    orders = Order.objects.filter(establishment__name__startswith=ESTABLISHMENT, ref__startswith="B0")
    changes = (
        StatusChange.objects.filter(order__in=orders, source=StatusChange.Source.HUBRISE, to_status="accepted")
        .values("order")
        .annotate(n=Count("id"))
    )
    per_order = [row["n"] for row in changes]
    events = InboundEvent.objects.filter(location_id__startswith=LOCATION_PREFIX, event_id__startswith="be")
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


def wait_for_worker(broker_url: str, timeout: float = 60) -> None:
    """Until the worker waits on the queue (a BRPOP on this Redis database), so that it takes the first drain at once."""
    import redis

    client = redis.Redis.from_url(broker_url)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    deadline = time.monotonic() + timeout
    while not any(entry.get("cmd") == "brpop" and int(entry.get("db", -1)) == db for entry in client.client_list()):
        if time.monotonic() > deadline:
            sys.exit("the worker did not start")
        time.sleep(0.1)


def wait_until_applied(count: int, started: float, timeout: float) -> float:
    """Seconds from ``started`` until the worker has applied every event."""
    from hubrise_sync.models import InboundEvent

    ours = InboundEvent.objects.filter(location_id__startswith=LOCATION_PREFIX, event_id__startswith="be")
    pending = ours.filter(outcome=InboundEvent.Outcome.PENDING)
    deadline = time.monotonic() + timeout
    while pending.exists() or ours.count() < count:
        if time.monotonic() > deadline:
            sys.exit(f"the worker did not apply every event within {timeout:.0f} s")
        time.sleep(0.05)
    return time.perf_counter() - started


def start_server(
    env: dict[str, str], port: int, args: argparse.Namespace, application: str = "getresto.wsgi"
) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        application,
        f"--bind=127.0.0.1:{port}",
        f"--workers={args.workers}",
        f"--worker-class={args.worker_class}",
        "--log-level=warning",
    ]
    if args.worker_class == "gthread":
        command.append(f"--threads={args.threads}")
    if args.backlog:
        command.append(f"--backlog={args.backlog}")
    return subprocess.Popen(command, cwd=ROOT, env=env)


def wait_for_server(server: subprocess.Popen, port: int, ready: bytes) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            result = http_load.fire("127.0.0.1", port, [ready], 1, timeout=5)
            if result.statuses == [200]:
                return
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            sys.exit("gunicorn did not start")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=16, help="clients posting at once")
    # The defaults served this best on 2 cores (bench/README.md has the other configurations' figures).
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="gthread", help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--backlog", type=int, default=0, help="gunicorn's listen backlog (0: gunicorn's default)")
    parser.add_argument("--celery-concurrency", type=int, default=2, help="processes of the worker that applies events")
    parser.add_argument(
        "--creates",
        type=int,
        default=0,
        help="then N order.update and N order.create of a 20-item order, each end to end with the worker running",
    )
    parser.add_argument(
        "--apply-during",
        action="store_true",
        help="the worker runs during the webhook's burst and applies meanwhile (default: after it)",
    )
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://… (the bench measures the webhook on PostgreSQL).")
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        sys.exit("Set CELERY_BROKER_URL=redis://… (a real worker applies the events).")

    ensure_database(database_url)
    env = environment(database_url)
    os.environ.update(env)
    print(f"preparing {args.events} orders across {ESTABLISHMENTS} establishments …", flush=True)
    targets, update_targets = prepare(args.events, args.creates)
    forget_queued_tasks(env["CELERY_BROKER_URL"])

    port = free_port()
    host = f"127.0.0.1:{port}"
    bodies = [event_body(number, location, order_id) for number, (location, order_id) in enumerate(targets)]
    baseline_requests = signed_requests(host, "/bench/baseline/", bodies)
    webhook_requests = signed_requests(host, "/hubrise/callback/", bodies)
    redeliveries = webhook_requests[::10]
    ready = http_load.build_request(host, "/bench/baseline/", b"", {}).replace(b"POST ", b"GET ", 1)

    server = start_server(env, port, args)
    worker = None
    processes = {
        "gunicorn": lambda: with_children(server.pid),
        "postgres": DatabaseProcesses(database_url),
        "redis": lambda: redis_process(env["CELERY_BROKER_URL"]),
        "celery": lambda: with_children(worker.pid) if worker is not None else [],
    }
    meter = CpuMeter(processes)
    statuses: list[int] = []
    try:
        wait_for_server(server, port, ready)
        http_load.fire("127.0.0.1", port, baseline_requests[: args.workers * args.threads * 20], args.concurrency)

        threads = f" × {args.threads} threads" if args.worker_class == "gthread" else ""
        print(
            f"gunicorn {args.workers} {args.worker_class} workers{threads}, {args.concurrency} concurrent clients"
            f" (asyncio, raw sockets), PostgreSQL; load average {os.getloadavg()[0]:.2f}"
        )
        meter.start()
        result = http_load.fire("127.0.0.1", port, baseline_requests, args.concurrency)
        baseline = summary("baseline (HMAC+UPDATE)", result, {"client": result.cpu_seconds, **meter.stop()})
        statuses += result.statuses

        whole = CpuMeter(processes)
        if args.apply_during:
            worker = start_worker(env, args.celery_concurrency)
            wait_for_worker(env["CELERY_BROKER_URL"])
            whole.start()
        meter.start()
        started = time.perf_counter()
        result = http_load.fire("127.0.0.1", port, webhook_requests, args.concurrency)
        name = "webhook, worker applying" if args.apply_during else "webhook (new events)"
        webhook = summary(name, result, {"client": result.cpu_seconds, **meter.stop()})
        statuses += result.statuses
        if not args.apply_during:
            # On two cores the worker applying meanwhile would take CPU from the webhook's figure.
            meter.start()
            started = time.perf_counter()
            worker = start_worker(env, args.celery_concurrency)
        applied_after = wait_until_applied(len(bodies), started, timeout=600)
        when = "from the burst's start" if args.apply_during else "from its start"
        print(
            f"{'applied by the worker':<24} {len(bodies):>6} events    {len(bodies) / applied_after:>7.1f}/s"
            f"  ({args.celery_concurrency} processes, {when} to the last event applied, {applied_after:.1f} s)"
        )
        print_cpu((whole if args.apply_during else meter).stop(), len(bodies), applied_after, unit="event")
        print(f"{'':<24} load average {os.getloadavg()[0]:.2f}")

        result = http_load.fire("127.0.0.1", port, redeliveries, args.concurrency)
        summary("webhook (redeliveries)", result)
        statuses += result.statuses
        # With --apply-during the webhook shares the cores with the worker, the baseline did not.
        name = "webhook (worker applying)/baseline" if args.apply_during else "webhook/baseline"
        print(
            f"ratio {name}: {webhook['per_second'] / baseline['per_second']:.2f} of the throughput,"
            f" p50 x{webhook['p50_ms'] / baseline['p50_ms']:.1f}, p99 x{webhook['p99_ms'] / baseline['p99_ms']:.1f}"
        )
        if args.creates:
            statuses += end_to_end_rounds(args, host, port, update_targets, targets, meter)
    finally:
        for process in (server, worker):
            if process is not None:
                process.terminate()
        for process in (server, worker):
            if process is not None:
                process.wait(timeout=20)
    unexpected = sorted({status for status in statuses if status != 200})
    expected = 2 * len(bodies) + len(redeliveries) + (2 * args.creates + len(range(0, args.creates, 10)))
    if unexpected or len(statuses) != expected:
        sys.exit(f"unexpected HTTP statuses: {unexpected}, {len(statuses)} answers")
    check_applied_once(args.events)
    if args.creates:
        webhook_imports.check_imported_once(args.creates)


def end_to_end_rounds(args: argparse.Namespace, host: str, port: int, update_targets: list, targets: list, meter) -> list[int]:
    """--creates: order.update then order.create, each from its burst's first request to its last event applied."""
    statuses: list[int] = []
    figures = {}
    rounds = {
        "update": (
            webhook_imports.UPDATE_EVENT_PREFIX,
            [webhook_imports.update_body(n, location, order) for n, (location, order) in enumerate(update_targets)],
        ),
        "create (20 items)": (
            webhook_imports.CREATE_EVENT_PREFIX,
            [webhook_imports.create_body(n, targets[n % len(targets)][0]) for n in range(args.creates)],
        ),
    }
    print(f"end to end with the worker running ({args.celery_concurrency} processes), {args.creates} events each:")
    for name, (prefix, bodies) in rounds.items():
        requests = signed_requests(host, "/hubrise/callback/", bodies)
        meter.start()
        started = time.perf_counter()
        result = http_load.fire("127.0.0.1", port, requests, args.concurrency)
        statuses += result.statuses
        elapsed = webhook_imports.wait_until_done(prefix, len(bodies), started, timeout=900)
        figures[name] = len(bodies) / elapsed
        label = f"{'order.' + name:<24} {len(bodies):>6} events    {figures[name]:>7.1f}/s"
        print(f"{label}  (webhook to order on the list, {elapsed:.1f} s)")
        print_cpu(meter.stop(), len(bodies), elapsed, unit="event")
        if prefix == webhook_imports.CREATE_EVENT_PREFIX:
            redelivered = http_load.fire("127.0.0.1", port, requests[::10], args.concurrency)
            statuses += redelivered.statuses
    ratio = figures["create (20 items)"] / figures["update"]
    print(f"ratio order.create (20 items) / order.update, end to end: {ratio:.2f} (target ≥ 0.5)")
    return statuses


if __name__ == "__main__":
    main()
