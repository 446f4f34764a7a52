"""Push to HubRise: latency at light load, throughput of a backlog, a drain under HubRise's real rate limits, memory.

Each mode runs on this machine with a HubRise sandbox of its own (fresh data, a
request log kept whole), a Celery worker of 2 prefork processes and a Celery
beat, each its own process as in the Procfile, against a PostgreSQL database
created for the run and the Redis broker of CELERY_BROKER_URL (its queue and our
rate-limit counters are purged first and last). The sandbox's request log is the judge:
it says when HubRise received each call, in what order, and what it answered.

latency     status changes at a steady rate (--rate per second for --duration
            seconds), each in its own transaction through change_status();
            commit-to-HubRise p50/p95/p99, next to a bare `requests` PATCH loop
            at the same rate. Rate limits lifted (10/s is over HubRise's 500/min).
throughput  --backlog status changes made while no worker runs (their orders
            created and delivered first), then the worker starts: deliveries/s
            until HubRise has them all, next to a bare `requests` loop with as
            many threads as worker processes; every order's last status and
            the order of its calls checked. Rate limits, ours and the
            sandbox's, lifted.
drain       --drain-messages pending messages (a create and a status per order)
            left by a broker outage (--outage hubrise: by a HubRise one, each
            create looked up first), over --connections establishments each
            connected to its own sandbox location: the sandbox's real limits
            (HubRise's) and ours at their defaults. Checks that all arrive, in
            order, without one 429 and never over a limit in any round minute.
all         the three, then the peak RSS of every worker process.

    CELERY_BROKER_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/push_pipeline.py all
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
LIFTED = 1_000_000
RATE_LIMIT_ENV = tuple(f"HUBRISE_RATE_LIMIT_{name}" for name in ("MINUTE", "HOUR", "DAY", "HEAVY_MINUTE"))
HUBRISE_LIMITS = {"per_minute": 500, "per_hour": 2500, "per_day": 10000, "heavy_per_minute": 10}
PRIVATE_REF = re.compile(r'"private_ref": ?"([0-9a-f-]{36})"')
RESPONSE_ID = re.compile(r'^\{"id": ?"([^"]+)"')
DELIVERY_TASK = re.compile(r"Task hubrise_sync\.push\.drain\[[^\]]+\] succeeded in \S+: (\d+)")


# Small tools ---------------------------------------------------------------------


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def latency_row(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"  {name:<42} {len(ms):>6} {percentile(ms, 0.5):>8.1f} {percentile(ms, 0.95):>8.1f} "
        f"{percentile(ms, 0.99):>8.1f} {max(ms):>8.1f} {statistics.fmean(ms):>8.1f}"
    )


def wait_until(condition, timeout: float, what: str, every: float = 0.1) -> float:
    """Seconds it took; exits the run when ``timeout`` passes first."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
    return time.monotonic() - started


def peak_rss(pid: int) -> tuple[int, int]:
    """(VmHWM, VmRSS) in MB of a live process."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmHWM"].split()[0]) // 1024, int(fields["VmRSS"].split()[0]) // 1024


def children_of(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_backends() -> list[int]:
    """PostgreSQL server processes serving this run's database (ours, the worker's, beat's)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return [row[0] for row in cursor.fetchall()]


class CpuMeter:
    """CPU used by each part of the pipeline between start() and stop(), read from /proc."""

    def __init__(self, parts: dict[str, Callable[[], list[int]]]) -> None:
        self.parts = parts
        self.before: dict[int, float] = {}
        self.used: dict[str, float] = {}

    def _pids(self) -> dict[str, list[int]]:
        return {name: list(pids()) for name, pids in self.parts.items()}

    def start(self) -> None:
        self.before = {pid: cpu_seconds(pid) for pids in self._pids().values() for pid in pids}

    def stop(self) -> dict[str, float]:
        # A process that appeared meanwhile used all of its CPU within the span.
        self.used = {
            name: sum(cpu_seconds(pid) - self.before.get(pid, 0.0) for pid in pids) for name, pids in self._pids().items()
        }
        return self.used


# The processes ------------------------------------------------------------------


class Sandbox:
    """``python -m hubrise_sandbox`` on a free port with a fresh database and its whole request log."""

    def __init__(self, workdir: Path) -> None:
        from tests.processes import free_port

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.base}/v1"
        self.db_path = workdir / "sandbox.sqlite3"
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUBRISE_SANDBOX_")}
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "HUBRISE_SANDBOX_PORT": str(self.port),
                "HUBRISE_SANDBOX_DB": str(self.db_path),
                "HUBRISE_SANDBOX_REQUEST_LOG_KEPT": str(10_000_000),
            }
        )
        with (workdir / "sandbox.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hubrise_sandbox"], cwd=workdir, env=env, stdout=log, stderr=log, start_new_session=True
            )
        wait_until(self._healthy, 20, "the sandbox to start")

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise SystemExit("the sandbox exited at start-up")
        try:
            return requests.get(f"{self.base}/_sandbox/health", timeout=1).ok
        except requests.RequestException:
            return False

    def control(self, method: str, path: str, **kwargs) -> object:
        response = requests.request(method, f"{self.base}/_sandbox{path}", timeout=60, **kwargs)
        response.raise_for_status()
        return response.json()

    def set_limits(self, limits: dict[str, int]) -> dict:
        return self.control("POST", "/settings", json={"rate_limits": limits})["rate_limits"]

    def statuses(self, location_id: str) -> dict[str, str]:
        """HubRise order id → status, as the sandbox holds them."""
        return {order["id"]: order["status"] for order in self.control("GET", f"/locations/{location_id}/orders")}

    def log(self, since_id: int = 0) -> list[sqlite3.Row]:
        """The request log from its own table, oldest first (the control API pages 2,000 rows at most)."""
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        try:
            return db.execute(
                "SELECT id, at, method, path, query, status, connection_id, request_body, response_body, processed"
                " FROM request_log WHERE id > ? ORDER BY id",
                (since_id,),
            ).fetchall()
        finally:
            db.close()

    def last_log_id(self) -> int:
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            return db.execute("SELECT COALESCE(MAX(id), 0) FROM request_log").fetchone()[0]
        finally:
            db.close()

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass
class Workers:
    """A Celery worker (prefork, ``concurrency`` processes) and a Celery beat, as the Procfile runs them."""

    env: dict[str, str]
    workdir: Path
    concurrency: int
    prefetch: int | None = None
    worker: subprocess.Popen | None = None
    beat: subprocess.Popen | None = None
    started_at: float = 0.0
    memory: list[tuple[str, int, int, int]] = field(default_factory=list)

    log_offset: int = 0

    def start(self) -> None:
        log_path = self.workdir / "worker.log"
        offset = self.log_offset = log_path.stat().st_size if log_path.exists() else 0
        self.started_at = time.time()
        celery = [sys.executable, "-m", "celery", "-A", "getresto"]
        with log_path.open("ab") as log:
            self.worker = subprocess.Popen(
                [
                    *celery,
                    "worker",
                    "--pool",
                    "prefork",
                    "--concurrency",
                    str(self.concurrency),
                    *(["--prefetch-multiplier", str(self.prefetch)] if self.prefetch else []),
                    "--loglevel",
                    "INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "-n",
                    f"bench-push-{os.getpid()}@%h",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with (self.workdir / "beat.log").open("ab") as log:
            self.beat = subprocess.Popen(
                [*celery, "beat", "--schedule", str(self.workdir / "beat-schedule"), "--loglevel", "WARNING"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def ready() -> bool:
            if self.worker.poll() is not None:
                raise SystemExit(f"the worker exited: see {log_path}")
            with log_path.open("rb") as log:
                log.seek(offset)
                return b" ready." in log.read()

        wait_until(ready, 60, "the worker to start")

    def delivery_tasks(self) -> tuple[int, int]:
        """(tasks run, tasks that sent nothing) since the last start, from the worker's INFO log."""
        with (self.workdir / "worker.log").open("rb") as log:
            log.seek(self.log_offset)
            sent = DELIVERY_TASK.findall(log.read().decode(errors="replace"))
        return len(sent), sent.count("0")

    def record_memory(self, mode: str) -> None:
        """Peak RSS of the worker's parent, its pool children and beat, before they stop."""
        if self.worker is None:
            return
        rows = [("worker parent", self.worker.pid)]
        rows += [(f"pool child {n}", pid) for n, pid in enumerate(children_of(self.worker.pid), start=1)]
        rows.append(("beat", self.beat.pid))
        for role, pid in rows:
            try:
                hwm, rss = peak_rss(pid)
            except FileNotFoundError:
                continue
            self.memory.append((f"{mode}: {role}", pid, hwm, rss))

    def stop(self) -> None:
        for process in (self.worker, self.beat):
            if process is not None:
                stop_process(process)
        self.worker = self.beat = None


# The database side (this process plays the web) ------------------------------------


def purge_broker(broker_url: str) -> None:
    """The queue, unacknowledged tasks, the inbound flags and our rate-limit counters of earlier runs."""
    import redis

    client = redis.Redis.from_url(broker_url, socket_connect_timeout=2)
    keys = [b"celery", b"unacked", b"unacked_index", b"unacked_mutex"]
    keys += list(client.scan_iter(match="hubrise:*", count=1000))
    client.delete(*keys)


def empty_tables() -> None:
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)


def connect(name: str, sandbox: Sandbox, location_id: str):
    from hubrise_sync.models import Connection
    from orders.models import Company, Establishment

    company = Company.objects.create(name=f"Société {name}")
    establishment = Establishment.objects.create(company=company, name=name)
    token = sandbox.control("POST", "/connections", json={"location_id": location_id})["access_token"]
    connection = Connection.objects.create(establishment=establishment, access_token=token, location_id=location_id)
    return establishment, connection, token


ORDERS_SQL = """
INSERT INTO orders_order (
    uid, ref, status, tab, status_changed_at, created_at, due_at, first_opened_at, source,
    service_type, service_type_ref, table_name, expected_time, confirmed_time,
    customer_first_name, customer_last_name, customer_company_name, customer_email, customer_phone,
    customer_address_1, customer_address_2, customer_postal_code, customer_city, customer_country,
    customer_delivery_notes, customer_notes, seller_notes, collection_code, coupon_codes,
    currency, total, item_count, establishment_id
)
SELECT gen_random_uuid(), 'P' || lpad(g::text, 6, '0'), %(status)s, %(tab)s,
       created + interval '30 seconds', created, created, NULL, 'api',
       'eat_in', '', (1 + g %% 30)::text, NULL,
       CASE WHEN %(status)s = 'accepted' THEN created + interval '30 seconds' END,
       (ARRAY['Camille','Léa','Manon','Louis','Hugo','Inès'])[1 + g %% 6],
       (ARRAY['Martin','Dubois','Durand','Petit'])[1 + g %% 4],
       '', '', '', '', '', '', '', '', '', '', '', '', '[]'::jsonb,
       'EUR', 21.00, 2, (%(establishments)s::bigint[])[1 + (g - 1) %% cardinality(%(establishments)s::bigint[])]
FROM (SELECT g, now() - interval '10 minutes' - (%(count)s - g) * interval '100 milliseconds' AS created
      FROM generate_series(1, %(count)s) AS g) numbered
ORDER BY g
"""

LINES_SQL = """
WITH items AS (
    INSERT INTO orders_orderitem (order_id, position, product_name, sku_name, sku_ref, price, quantity, tax_rate,
                                  customer_notes, subtotal, deal_key, deal_label, deal_pricing_effect, deal_pricing_value)
    SELECT id, 0, 'Croque-monsieur', '', 'CROQ-M', 9.50, 2, 10.0, '', 21.00, '', '', '', '' FROM orders_order
    RETURNING id
)
INSERT INTO orders_orderitemoption (item_id, position, option_list_name, name, ref, price, quantity, removed)
SELECT id, 0, 'Suppléments', 'Œuf', 'SUPP-OEUF', 1.00, 1, false FROM items
"""

HISTORY_SQL = """
INSERT INTO orders_statuschange (order_id, from_status, to_status, at, actor_id, source, source_detail, reason)
SELECT id, '', 'new', created_at, NULL::integer, 'api', '', '' FROM orders_order
UNION ALL
SELECT id, 'new', 'accepted', status_changed_at, NULL, 'staff', '', '' FROM orders_order WHERE status = 'accepted'
"""

LINKS_SQL = """
INSERT INTO hubrise_sync_orderlink (order_id, location_id, hubrise_order_id, created_at)
SELECT o.id, c.location_id, NULL, o.created_at
FROM orders_order o JOIN hubrise_sync_connection c ON c.establishment_id = o.establishment_id
"""

# Due since they were written and believed queued (queued_until in the future) or, after
# a broker outage, never queued: publish() leaves queued_until empty when it cannot queue.
# After a HubRise outage each create was tried and timed out (so it may have landed and is
# looked up first; a 503 would not need it); its status waits behind it, never tried.
MESSAGES_SQL = """
INSERT INTO hubrise_sync_outboxmessage (
    order_id, connection_id, kind, status, change_id, state, attempts, created_at, next_attempt_at, queued_until,
    lease_token, leased_until, create_may_have_landed, last_error, last_status_code, delivered_at, payload
)
SELECT o.id, c.id, m.kind, m.status, h.id, 'pending', CASE WHEN tried THEN 6 ELSE 0 END, m.written, m.written,
       CASE WHEN %(queued)s THEN now() + interval '1 minute' END, NULL, NULL, tried,
       CASE WHEN tried THEN 'HubRise did not answer in time' ELSE '' END, NULL, NULL, NULL
FROM orders_order o
JOIN hubrise_sync_connection c ON c.establishment_id = o.establishment_id
CROSS JOIN LATERAL (
    VALUES ('create', 'new', o.created_at, 0), ('update_status', 'accepted', o.status_changed_at, 1)
) AS m (kind, status, written, step)
LEFT JOIN orders_statuschange h ON h.order_id = o.id AND h.to_status = 'accepted' AND m.kind = 'update_status'
CROSS JOIN LATERAL (SELECT %(hubrise_outage)s AND m.kind = 'create' AS tried) t
WHERE m.kind = 'create' OR o.status = 'accepted'
ORDER BY m.step, o.id
"""


def load_orders(
    count: int, establishment_ids: list[int], *, accepted: bool, queued: bool, hubrise_outage: bool = False
) -> list[int]:
    """Bulk-loads ``count`` orders (one line with an option) spread over the establishments, with their
    pending create and, when ``accepted``, their pending status message behind it (every create's id
    is lower than every status's). Returns the ids of the messages."""
    from django.db import connection

    from hubrise_sync.models import OutboxMessage
    from orders.services import rebuild_status_counts
    from orders.status import tab_of

    status = "accepted" if accepted else "new"
    values = {"count": count, "establishments": establishment_ids, "status": status, "tab": str(tab_of(status))}
    with connection.cursor() as cursor:
        cursor.execute(ORDERS_SQL, values)
        cursor.execute(LINES_SQL)
        cursor.execute(HISTORY_SQL)
        cursor.execute(LINKS_SQL)
        cursor.execute(MESSAGES_SQL, {"queued": queued, "hubrise_outage": hubrise_outage})
        cursor.execute(
            "UPDATE orders_establishment e SET last_order_number = "
            "(SELECT count(*) FROM orders_order o WHERE o.establishment_id = e.id)"
        )
        for table in (
            "orders_order",
            "orders_orderitem",
            "orders_statuschange",
            "hubrise_sync_orderlink",
            "hubrise_sync_outboxmessage",
        ):
            cursor.execute(f"ANALYZE {table}")
    rebuild_status_counts()
    return list(OutboxMessage.objects.order_by("id").values_list("id", flat=True))


def undelivered() -> int:
    from hubrise_sync.models import OutboxMessage

    return OutboxMessage.objects.exclude(state__in=(OutboxMessage.State.DELIVERED, OutboxMessage.State.SUPERSEDED)).count()


def failed_messages() -> int:
    from hubrise_sync.models import OutboxMessage

    return OutboxMessage.objects.filter(state=OutboxMessage.State.FAILED).count()


def hubrise_ids() -> dict[int, str]:
    from hubrise_sync.models import OrderLink

    return dict(OrderLink.objects.exclude(hubrise_order_id=None).values_list("order_id", "hubrise_order_id"))


# Checks against the sandbox's own record ------------------------------------------------


@dataclass
class LogCheck:
    calls: int
    by_status: Counter
    order_mismatches: list[str]
    status_mismatches: list[str]
    duplicate_posts: int
    lookups: int
    per_minute: Counter
    per_minute_peak: dict[str, int]
    per_hour_peak: dict[str, int]
    last_at: float


def check_log(sandbox: Sandbox, rows: list[sqlite3.Row], location_ids: list[str]) -> LogCheck:
    """Each order's calls at the sandbox in the order of our messages, its last status equal to ours,
    and the calls each connection made in every round minute and hour."""
    from hubrise_sync.models import OrderLink, OutboxMessage
    from orders.models import Order

    linked = OrderLink.objects.exclude(hubrise_order_id=None)
    link_of_uid = {str(uid): hid for uid, hid in linked.values_list("order__uid", "hubrise_order_id")}
    seen: dict[str, list[str]] = defaultdict(list)
    posts: Counter = Counter()
    per_minute: Counter = Counter()
    per_hour: Counter = Counter()
    for row in rows:
        if row["status"] != 429 and row["processed"]:
            per_minute[(row["connection_id"], int(row["at"] // 60))] += 1
            per_hour[(row["connection_id"], int(row["at"] // 3600))] += 1
        if row["status"] != 200:
            continue
        if row["method"] == "POST" and "/orders" in row["path"]:
            found = RESPONSE_ID.match(row["response_body"] or "")
            if found:
                seen[found.group(1)].append("create")
                posts[found.group(1)] += 1
        elif row["method"] == "PATCH":
            seen[row["path"].rsplit("/", 1)[-1]].append(json.loads(row["request_body"])["status"])
    unmatched = [
        ref
        for row in rows
        if row["method"] == "POST" and row["status"] == 200
        for ref in PRIVATE_REF.findall(row["request_body"] or "")[:1]
        if ref not in link_of_uid
    ]
    expected: dict[str, list[str]] = defaultdict(list)
    messages = OutboxMessage.objects.filter(state=OutboxMessage.State.DELIVERED).order_by("id")
    for hid, kind, status in messages.values_list("order__hubrise__hubrise_order_id", "kind", "status"):
        expected[hid].append("create" if kind == "create" else status)
    order_mismatches = [
        f"{hid}: ours {want}, HubRise saw {seen.get(hid, [])}" for hid, want in expected.items() if seen.get(hid, []) != want
    ]
    order_mismatches += [f"POST of unknown private_ref {ref}" for ref in unmatched]
    held = {}
    for location_id in location_ids:
        held.update(sandbox.statuses(location_id))
    pushed = Order.objects.filter(hubrise__hubrise_order_id__isnull=False)
    ours = dict(pushed.values_list("hubrise__hubrise_order_id", "status"))
    status_mismatches = [
        f"{hid}: ours {status}, HubRise {held.get(hid)}" for hid, status in ours.items() if held.get(hid) != status
    ]
    minute_peak: dict[str, int] = defaultdict(int)
    for (connection_id, _), count in per_minute.items():
        minute_peak[connection_id] = max(minute_peak[connection_id], count)
    hour_peak: dict[str, int] = defaultdict(int)
    for (connection_id, _), count in per_hour.items():
        hour_peak[connection_id] = max(hour_peak[connection_id], count)
    return LogCheck(
        calls=len(rows),
        by_status=Counter(row["status"] for row in rows),
        order_mismatches=order_mismatches,
        status_mismatches=status_mismatches,
        duplicate_posts=sum(count - 1 for count in posts.values() if count > 1),
        lookups=sum(1 for row in rows if row["method"] == "GET" and "private_ref=" in (row["query"] or "")),
        per_minute=per_minute,
        per_minute_peak=dict(minute_peak),
        per_hour_peak=dict(hour_peak),
        last_at=rows[-1]["at"] if rows else 0.0,
    )


def print_checks(check: LogCheck, orders: int) -> bool:
    ok = not check.order_mismatches and not check.status_mismatches and check.duplicate_posts == 0
    print(f"  sandbox calls: {check.calls:,}, by HTTP status {dict(sorted(check.by_status.items(), key=str))}")
    print(
        f"  {orders:,} orders: calls in the order of our messages: {orders - len(check.order_mismatches):,}; "
        f"last status equal to ours: {orders - len(check.status_mismatches):,}; duplicate creates: {check.duplicate_posts};"
        f" lookups by private_ref: {check.lookups:,}"
    )
    for line in (check.order_mismatches + check.status_mismatches)[:10]:
        print(f"    MISMATCH {line}")
    return ok


# Bare requests baseline ------------------------------------------------------------------


def bare_patches(
    api_url: str, token: str, location_id: str, targets: list[tuple[str, str]], threads: int, rate: float | None = None
) -> dict[tuple[str, str], float]:
    """PATCHes each (HubRise id, status), returns when each was sent; at ``rate`` per second if given."""
    sent_at: dict[tuple[str, str], float] = {}
    chunks = [targets[i::threads] for i in range(threads)]
    start = time.time() + 0.2

    def run(chunk: list[tuple[str, str]], offset: int) -> None:
        session = requests.Session()
        headers = {"X-Access-Token": token, "Content-Type": "application/json"}
        for position, target in enumerate(chunk):
            if rate:
                delay = start + (position * threads + offset) / rate - time.time()
                if delay > 0:
                    time.sleep(delay)
            sent_at[target] = time.time()
            response = session.patch(
                f"{api_url}/locations/{location_id}/orders/{target[0]}",
                data=json.dumps({"status": target[1]}),
                headers=headers,
                timeout=(3.05, 10),
            )
            response.raise_for_status()

    workers = [threading.Thread(target=run, args=(chunk, offset)) for offset, chunk in enumerate(chunks)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sent_at


def patch_receipts(rows: list[sqlite3.Row]) -> dict[tuple[str, str], float]:
    """(HubRise id, status) → when the sandbox received its first PATCH."""
    received: dict[tuple[str, str], float] = {}
    for row in rows:
        if row["method"] == "PATCH" and row["status"] == 200:
            key = (row["path"].rsplit("/", 1)[-1], json.loads(row["request_body"])["status"])
            received.setdefault(key, row["at"])
    return received


# Modes -----------------------------------------------------------------------------------


@dataclass
class Run:
    args: argparse.Namespace
    base_env: dict[str, str]
    memory: list[tuple[str, int, int, int]] = field(default_factory=list)
    verdicts: dict[str, bool] = field(default_factory=dict)

    def stack(self, name: str, *, lifted: bool) -> tuple[Sandbox, Workers]:
        workdir = Path(tempfile.mkdtemp(prefix=f"push-bench-{name}-"))
        empty_tables()
        purge_broker(self.base_env["CELERY_BROKER_URL"])
        sandbox = Sandbox(workdir)
        env = {k: v for k, v in self.base_env.items() if k not in RATE_LIMIT_ENV}
        env["HUBRISE_API_URL"] = sandbox.api_url
        if self.args.drain_threads is not None:
            env["HUBRISE_PUSH_DRAIN_THREADS"] = str(self.args.drain_threads)
        if lifted:
            env.update(dict.fromkeys(RATE_LIMIT_ENV, str(LIFTED)))
            sandbox.set_limits(dict.fromkeys(HUBRISE_LIMITS, LIFTED))
        print(f"  (sandbox, worker and beat logs in {workdir})")
        return sandbox, Workers(env, workdir, self.args.concurrency, self.args.prefetch_multiplier)


def latency(run: Run) -> None:
    from django.db import transaction

    from hubrise_sync.models import OutboxMessage
    from orders.models import StatusChange
    from orders.services import change_status
    from tests.factories import make_order

    args = run.args
    count = int(args.rate * args.duration)
    sandbox, workers = run.stack("latency", lifted=True)
    try:
        location_id = sandbox.control("GET", "/locations")[0]["id"]
        establishment, _connection, token = connect("Bench latence", sandbox, location_id)
        workers.start()
        print(f"  {count} orders created through create_order() and pushed …", flush=True)
        orders = [make_order(establishment) for _ in range(count)]
        wait_until(lambda: undelivered() == 0, 120 + count, "the creates")
        hid = hubrise_ids()
        since = sandbox.last_log_id()

        print(f"  {count} status changes at {args.rate:g}/s through change_status(), one transaction each; {load()}", flush=True)
        committed: dict[tuple[str, str], float] = {}
        start = time.time() + 0.2
        for position, order in enumerate(orders):
            delay = start + position / args.rate - time.time()
            if delay > 0:
                time.sleep(delay)
            key = (hid[order.pk], "accepted")
            with transaction.atomic():
                # Registered first, so it runs right after COMMIT, before the push's own publish.
                transaction.on_commit(lambda key=key: committed.__setitem__(key, time.time()))
                change_status(order, "accepted", source=StatusChange.Source.STAFF)
        achieved = count / (time.time() - start)
        wait_until(lambda: undelivered() == 0, 60, "the status changes")
        received = patch_receipts(sandbox.log(since))
        pipeline = [received[key] - at for key, at in committed.items()]
        end_load = load()

        since = sandbox.last_log_id()
        targets = list(committed)
        sent = bare_patches(sandbox.api_url, token, location_id, targets, 1, args.rate)
        received = patch_receipts(sandbox.log(since))
        bare = [received[key] - at for key, at in sent.items()]
        failed = OutboxMessage.objects.filter(state=OutboxMessage.State.FAILED).count()
        workers.record_memory("latency")
    finally:
        workers.stop()
        sandbox.stop()
    run.memory += workers.memory
    print(f"\n  {count} changes at {achieved:.1f}/s over {count / achieved:.1f} s; failed messages: {failed}; {end_load}")
    print(f"  {'commit → HubRise received (ms)':<42} {'n':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'mean':>8}")
    print(latency_row(f"outbox + Celery ({args.concurrency} processes)", pipeline))
    print(latency_row("bare requests PATCH, same rate, 1 thread", bare))
    p99 = percentile(pipeline, 0.99) * 1000
    print(f"  p99 {p99:.1f} ms (target < 100 ms); pipeline/bare p50 ×{statistics.median(pipeline) / statistics.median(bare):.1f}")
    run.verdicts["latency p99 < 100 ms"] = p99 < 100 and failed == 0


def throughput(run: Run) -> None:
    from django.db import transaction

    from hubrise_sync.outbox import wake
    from orders.models import Order, StatusChange
    from orders.services import change_status

    args = run.args
    count = args.backlog
    sandbox, workers = run.stack("throughput", lifted=True)
    try:
        location_id = sandbox.control("GET", "/locations")[0]["id"]
        establishment, _connection, token = connect("Bench débit", sandbox, location_id)
        # As create_order() would leave them with the worker stopped: written, and their tasks queued.
        wake.publish(load_orders(count, [establishment.pk], accepted=False, queued=True))
        print(f"  {count:,} orders loaded and their creates queued; the worker delivers them; {load()}", flush=True)
        workers.start()
        creates_took = wait_until(lambda: undelivered() == 0, 120 + count, "the creates", every=0.2)
        creates_load = load()
        workers.record_memory("throughput, creates")
        workers.stop()
        failed_creates = failed_messages()

        print(f"  worker stopped; {count:,} status changes through change_status(), one transaction each", flush=True)
        since = sandbox.last_log_id()
        started = time.time()
        for order in Order.objects.order_by("id"):
            with transaction.atomic():
                change_status(order, "accepted", source=StatusChange.Source.STAFF)
        producer_rate = count / (time.time() - started)
        start_load = load()
        print(
            f"  {count:,} changes made ({producer_rate:.0f}/s), {count:,} tasks queued; worker starting; {start_load}", flush=True
        )
        meter = CpuMeter(
            {
                "Celery worker parent": lambda: [workers.worker.pid],
                "Celery pool processes": lambda: children_of(workers.worker.pid),
                "Celery beat": lambda: [workers.beat.pid],
                "HubRise sandbox": lambda: [sandbox.process.pid],
                "PostgreSQL backends of this database": database_backends,
            }
        )
        workers.start()
        meter.start()
        metered_from = time.time()
        wait_until(lambda: undelivered() == 0, 120 + count, "the status changes", every=0.1)
        finished = time.time()
        cpu = meter.stop()
        end_load = load()
        workers.record_memory("throughput, statuses")
        workers.stop()
        tasks, idle_tasks = workers.delivery_tasks()
        patches = [row for row in sandbox.log(since) if row["method"] == "PATCH" and row["status"] == 200]
        steady = len(patches) / (patches[-1]["at"] - patches[0]["at"])
        overall = count / (finished - workers.started_at)
        metered = sum(1 for row in patches if metered_from <= row["at"] <= finished)
        check = check_log(sandbox, sandbox.log(0), [location_id])
        failed = failed_messages()

        print(f"  bare requests baseline, {args.concurrency} threads", flush=True)
        since = sandbox.last_log_id()
        bare_started = time.time()
        bare_patches(sandbox.api_url, token, location_id, [(hid, "accepted") for hid in hubrise_ids().values()], args.concurrency)
        bare = [row for row in sandbox.log(since) if row["method"] == "PATCH" and row["status"] == 200]
        bare_rate = len(bare) / (bare[-1]["at"] - bare_started)
        bare_load = load()
    finally:
        workers.stop()
        sandbox.stop()
    run.memory += workers.memory
    print(f"\n  creates first (POST of the whole order): {count / creates_took:.0f}/s after the worker was ready; {creates_load}")
    print(f"  {count:,} status messages waiting, worker started: {finished - workers.started_at:.1f} s until all delivered")
    print(f"  {'':<50} {'deliveries/s':>12}")
    print(f"  {'outbox + Celery, first → last PATCH received':<50} {steady:>12.0f}   {start_load} → {end_load}")
    print(f"  {'outbox + Celery, worker start → last (start-up incl.)':<50} {overall:>12.0f}")
    print(f"  {f'bare requests PATCH loop, {args.concurrency} threads':<50} {bare_rate:>12.0f}   {bare_load}")
    print(f"  pipeline / bare: {steady / bare_rate:.2f}; target ≥ 300/s")
    span = finished - metered_from
    print(f"  CPU used while the worker delivered ({metered:,} PATCHes in {span:.1f} s, read from /proc):")
    for name, seconds in [*cpu.items(), ("total", sum(cpu.values()))]:
        per_delivery = seconds / max(metered, 1) * 1000
        print(f"    {name:<40} {seconds:6.1f} s  {seconds / span:5.2f} cores  {per_delivery:5.1f} ms per delivery")
    print(f"  delivery drains run: {tasks:,}, of which sent nothing (nothing left due, or rate-limited): {idle_tasks:,}")
    print(f"  failed messages: {failed + failed_creates}")
    ok = print_checks(check, count)
    run.verdicts["throughput ≥ 300 deliveries/s"] = steady >= 300
    run.verdicts["throughput: every status arrived, in order"] = ok and failed == 0 and failed_creates == 0


def drain(run: Run) -> None:
    from django.conf import settings

    args = run.args
    orders = args.drain_messages // 2
    sandbox, workers = run.stack("drain", lifted=False)
    try:
        sandbox_settings = sandbox.control("GET", "/settings")
        limits = sandbox_settings["rate_limits"]
        ours = settings.HUBRISE_RATE_LIMITS
        print(
            f"  sandbox's limits per connection: {limits} (HubRise's: {limits == HUBRISE_LIMITS}),"
            f" windows of {sandbox_settings.get('rate_time_unit', 60):g}-second minutes"
        )
        print(f"  our limiter per connection (HUBRISE_RATE_LIMIT_* unset, the defaults): {ours}")
        locations = [location["id"] for location in sandbox.control("GET", "/locations")]
        while len(locations) < args.connections:
            locations.append(sandbox.control("POST", "/locations", json={"name": f"Bench {len(locations) + 1}"})["id"])
        locations = locations[: args.connections]
        establishment_ids = []
        for number, location_id in enumerate(locations, start=1):
            establishment, _connection, _token = connect(f"Bench drain {number:02d}", sandbox, location_id)
            establishment_ids.append(establishment.pk)
        hubrise_outage = args.outage == "hubrise"
        messages = len(load_orders(orders, establishment_ids, accepted=True, queued=False, hubrise_outage=hubrise_outage))
        left_by = "creates tried 6 times, all timed out" if hubrise_outage else "never queued, the broker was down"
        print(
            f"  {messages:,} messages waiting ({orders:,} orders: create + status) over {len(locations)} connections"
            f" ({left_by}); beat's sweep queues them; {load()}",
            flush=True,
        )
        workers.start()
        deadline = workers.started_at + args.drain_timeout
        last_print = 0.0
        remaining = undelivered()
        while remaining and time.time() < deadline:
            if time.time() - last_print >= 30:
                last_print = time.time()
                elapsed = time.time() - workers.started_at
                print(f"  {elapsed:5.0f} s: {messages - remaining:,} delivered; {load()}", flush=True)
            time.sleep(0.5)
            remaining = undelivered()
        end_load = load()
        workers.record_memory("drain")
        workers.stop()
        tasks, idle_tasks = workers.delivery_tasks()
        rows = sandbox.log(0)
        check = check_log(sandbox, rows, locations)
        failed = failed_messages()
    finally:
        workers.stop()
        sandbox.stop()
    run.memory += workers.memory
    too_many = check.by_status.get(429, 0)
    duration = check.last_at - workers.started_at
    minute_peak = max(check.per_minute_peak.values(), default=0)
    at_our_limit = sum(1 for count in check.per_minute.values() if count >= ours["minute"])
    if remaining:
        print(f"\n  TIMEOUT (--drain-timeout {args.drain_timeout:.0f} s): {remaining:,} messages not delivered")
    print(
        f"\n  {messages - remaining:,} of {messages:,} delivered in {duration:.0f} s (worker start → last call received),"
        f" {(messages - remaining) / duration:.0f}/s; {end_load}"
    )
    print(f"  429 answers in the sandbox's log: {too_many} (must be 0); failed messages: {failed}")
    print(
        f"  delivery drains run: {tasks:,}, of which sent nothing (every connection out of its limit, or nothing"
        f" left due): {idle_tasks:,}"
    )
    print(
        f"  calls of one connection in one round minute: peak {minute_peak} (sandbox's limit {limits['per_minute']},"
        f" ours {ours['minute']}); minutes in which a connection reached ours: {at_our_limit}"
    )
    hour_peak = max(check.per_hour_peak.values(), default=0)
    print(
        f"  calls of one connection in one round hour: peak {hour_peak}"
        f" (sandbox's limit {limits['per_hour']}, ours {ours['hour']})"
    )
    connections = sorted(check.per_minute_peak)
    print("  calls per round minute (UTC), one column per connection:")
    for minute in sorted({minute for _connection, minute in check.per_minute}):
        counts = " ".join(f"{check.per_minute[(connection, minute)]:>5}" for connection in connections)
        print(f"    {time.strftime('%H:%M', time.gmtime(minute * 60))} {counts}")
    ok = print_checks(check, orders)
    run.verdicts["drain: all delivered, in order, no 429, never over a limit"] = (
        ok and remaining == 0 and too_many == 0 and failed == 0 and minute_peak <= limits["per_minute"]
    )


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.own_database import add_arguments, own_database

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("latency", "throughput", "drain", "all"), nargs="?", default="all")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes (prefork)")
    parser.add_argument(
        "--prefetch-multiplier",
        type=int,
        help="passed to the worker, overriding the settings' 1 (tasks each process reserves ahead)",
    )
    parser.add_argument(
        "--drain-threads", type=int, help="calls each delivery drain keeps going side by side (default: the settings')"
    )
    parser.add_argument("--rate", type=float, default=10, help="latency: status changes per second")
    parser.add_argument("--duration", type=float, default=20, help="latency: seconds of changes")
    parser.add_argument("--backlog", type=int, default=3000, help="throughput: pending status messages")
    parser.add_argument("--drain-messages", type=int, default=10_000, help="drain: pending messages (2 per order)")
    parser.add_argument(
        "--connections",
        type=int,
        default=5,
        help="drain: establishments, each on its own location (5: the fewest that carry 10,000 calls in our 2,300 an hour)",
    )
    parser.add_argument("--drain-timeout", type=float, default=900, help="drain: seconds before giving up")
    parser.add_argument(
        "--outage",
        choices=("broker", "hubrise"),
        default="broker",
        help="drain: what left the backlog; after a HubRise outage every create is looked up first (a heavy call)",
    )
    add_arguments(parser, "gr_bench_push")
    args = parser.parse_args()
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not broker_url.startswith("redis"):
        raise SystemExit("Set CELERY_BROKER_URL to a Redis database of this run's own (its queue is purged).")

    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBRISE_", "DATABASE_", "CELERY_"))}
    base_env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "getresto.settings",
            "GETRESTO_ENV": "test",
            "DEBUG": "false",
            "DATABASE_URL": args.database_url,
            # Persistent connections, as in production.
            "DATABASE_CONN_MAX_AGE": "60",
            "CELERY_BROKER_URL": broker_url,
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.clear()
    os.environ.update(base_env)
    run = Run(args, base_env)
    modes = {"latency": latency, "throughput": throughput, "drain": drain}
    chosen = list(modes) if args.mode == "all" else [args.mode]
    timings = {}
    with own_database(args.database_url, args.keep):
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        try:
            for name in chosen:
                started = time.monotonic()
                print(f"\n== {name} ({load()})", flush=True)
                modes[name](run)
                timings[name] = time.monotonic() - started
                print(f"  {name} took {timings[name]:.0f} s; {load()}", flush=True)
        finally:
            # Our counters would otherwise ration whatever next uses these connection ids on this Redis database.
            purge_broker(broker_url)
    print("\nPeak RSS of the Celery processes (VmHWM, MB; target < 150; web workers: bench/order_list.py):")
    for role, pid, hwm, rss in run.memory:
        print(f"  {role:<40} pid {pid:>7}  peak {hwm:>4} MB  now {rss:>4} MB")
    print("\n" + "\n".join(f"{'PASS' if ok else 'FAIL'}  {name}" for name, ok in run.verdicts.items()))
    print("Durations: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items()))


if __name__ == "__main__":
    main()
