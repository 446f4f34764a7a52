"""Benchmark of the live screens: N logged-in screens polling their order list (and a third an order page) every 3 s,
or with --push refreshing on server-sent events.

Creates ``gr_bench_live`` (dropped at the end unless --keep), one establishment per
three screens (each with a HubRise connection, a staff member and a few orders in
Reçu), starts gunicorn as the Procfile runs it (its defaults read from the
Procfile), and for each size in --screens runs for --duration seconds:

- every screen polls ``/e/<id>/orders/live/`` every 3 s (``HX-Request``, gzip
  accepted, ``If-None-Match`` with the last ETag it got, as the page's script
  static/js/live_etags.js does); a third of them also poll
  ``/e/<id>/orders/<order>/live/``. The polls are sent on schedule whatever the server's speed (open loop) through a pool of
  keep-alive connections, as a reverse proxy would; latency counts from the
  scheduled time, so waiting for a connection counts;
- with --push (--mode push; --mode both runs each size polled, then with push), the
  Procfile's ``stream:`` process runs too, and each screen keeps a server-sent event
  stream open per live URL (bench/live_push.py): one refresh GET when it opens, one per
  ``changed`` event, one when the last is 30 s old, and polls every 3 s while it is not
  open, as static/js/live_stream.js makes the page do. The refresh GETs go through the
  same pool; their latency counts from the moment they were due (the event read, the tick);
- each establishment has a change every 20-60 s, made in this process through
  the services staff and the API use: a new order (a third) or the next usual
  status of one of its orders;
- every change must show on every screen of its establishment (the order's row,
  its status; on the order page its status) within the poll interval: the
  delay from the change's commit to the first answer showing it is printed.

Figures per size: GETs/s (and why they were sent, with push), p50/p95/p99, answers
rendered vs not modified, the server's CPU per GET of each kind (thread CPU of the
request, from a header that bench/cpu_header.py adds in front of getresto.wsgi), the CPU
of gunicorn (+ the stream process with push) + PostgreSQL + Redis per GET, per screen
and in cores (read from /proc), the bench's own client and changer CPU, the load
average; with push, the streams open, opened, ended and refused, and the events
received. Last, per mode, the largest N measured with those under 70 % of the
machine's cores and p95 < 50 ms, and the N that the CPU per poll (per screen with push)
extrapolates to at 70 %.

    CELERY_BROKER_URL=redis://127.0.0.1:6379/2 .venv/bin/python bench/live_screens.py --screens 60,120,240
    CELERY_BROKER_URL=redis://127.0.0.1:6379/2 .venv/bin/python bench/live_screens.py --screens 300,1000 --mode both
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gzip
import heapq
import multiprocessing
import os
import random
import re
import resource
import shlex
import statistics
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import live_push, own_database
from bench.live_changes import Changes, new_order_data, run_changer, seen, shows
from bench.live_push import Streams, body_pieces, read_head
from bench.webhook import (
    CpuMeter,
    DatabaseProcesses,
    cpu_seconds,
    free_port,
    redis_process,
    start_server,
    wait_for_server,
    with_children,
)

ROOT = Path(__file__).resolve().parent.parent
INTERVAL = 3.0
SCREENS_PER_ESTABLISHMENT = 3


def procfile_defaults() -> tuple[int, int]:
    """Workers and threads of the Procfile's web line, so that the bench follows it."""
    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    workers = re.search(r"WEB_CONCURRENCY:-(\d+)", web)
    threads = re.search(r"WEB_THREADS:-(\d+)", web)
    return int(workers.group(1)), int(threads.group(1))


# Data ---------------------------------------------------------------------------


@dataclass
class Screen:
    number: int
    establishment: int
    cookie: str
    order: int | None = None
    shown: str = ""
    etags: dict[str, str] = field(default_factory=dict)
    # What this screen must come to show: key -> (changed at, path, check)
    pending: dict[tuple, tuple[float, str, tuple]] = field(default_factory=dict)
    # Its last rendered answer of each kind: when it was sent and received, and its text (read on demand).
    answers: dict[str, tuple[float, float, Callable[[], str]]] = field(default_factory=dict)


def forget_screens() -> None:
    """What an earlier run left in Redis of its screens: its versions are those of a dropped database, under the same
    establishment ids, and a copy only ever moves forward, so that this run's changes would not show until they
    expire. Its fragments and grants would answer for this run's screens too."""
    from getresto.redis import broker_redis
    from orders import screen_versions

    client = broker_redis()
    keys = list(client.scan_iter(f"{screen_versions.PREFIX}:*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


def load(establishments: int, orders_each: int, screens: int) -> tuple[list[int], list[Screen]]:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.core.management import call_command
    from django.utils.module_loading import import_string

    from hubrise_sync.models import Connection
    from orders.models import Company, Establishment, Membership, Order
    from orders.services import create_order

    call_command("migrate", verbosity=0)
    forget_screens()
    company = Company.objects.create(name="Bench live")
    created = Establishment.objects.bulk_create(
        Establishment(company=company, name=f"Bench live {number:04d}") for number in range(establishments)
    )
    ids = [establishment.pk for establishment in created]
    Connection.objects.bulk_create(
        Connection(establishment=e, location_id=f"live-{e.pk}", access_token="bench", callback_mode="active")  # noqa: S106
        for e in created
    )
    users = get_user_model().objects.bulk_create(get_user_model()(username=f"live{e.pk}", password="!") for e in created)  # noqa: S106
    Membership.objects.bulk_create(
        Membership(user=user, establishment=e, role=Membership.Role.STAFF) for user, e in zip(users, created, strict=True)
    )

    def fill(establishment: Establishment) -> None:
        from django.db import connection

        for number in range(orders_each):
            create_order(establishment, new_order_data(number))
        connection.close()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(fill, created))
    first_orders = dict(
        Order.objects.order_by("establishment_id", "pk").distinct("establishment_id").values_list("establishment_id", "pk")
    )
    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    backend = "django.contrib.auth.backends.ModelBackend"
    screen_list = []
    for number in range(screens):
        index = number % len(ids)
        user = users[index]
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        screen = Screen(number, ids[index], f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
        if number % 3 == 0:
            screen.order = first_orders[ids[index]]
            screen.shown = "new"
        screen_list.append(screen)
    return ids, screen_list


# Polling ------------------------------------------------------------------------


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    cpu_us: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    bytes_in: int = 0
    visible: list[float] = field(default_factory=list)
    errors: int = 0
    # Why each GET was sent: on schedule ("poll"), or with push on the stream's open, an event, the safety timer.
    reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # The latencies again by why the GET was sent and how it was answered: which of them make the p95.
    latencies_by: dict[tuple[str, int], list[float]] = field(default_factory=lambda: defaultdict(list))
    # How late the client's own loop woke from a short sleep: a latency counts from when its GET was due, so a client
    # busy elsewhere (thousands of streams, the changes' checks) adds its own delay to the server's.
    loop_lags: list[float] = field(default_factory=list)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    status, headers = await read_head(reader)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return status, headers, b"".join([piece async for piece in body_pieces(reader, headers)])
    length = int(headers.get("content-length", "0"))
    return status, headers, (await reader.readexactly(length) if length else b"")


class Refreshes:
    """The screens' refresh GETs of their live URLs, sent through a pool of keep-alive connections as a reverse
    proxy would, each as soon as a connection is free: latency counts from the moment the GET was due, so that
    waiting for a connection counts. What each answer shows is checked against the changes the screen awaits."""

    def __init__(self, port: int, connections: int, figures: Figures) -> None:
        self.port = port
        self.connections = connections
        self.figures = figures
        self.queue: asyncio.Queue = asyncio.Queue()

    def send(
        self, at: float, screen: Screen, kind: str, reason: str = "poll", answered: Callable[[], None] | None = None
    ) -> None:
        """A GET due at ``at``; ``answered`` is called once it is (or failed)."""
        self.queue.put_nowait((at, screen, kind, reason, answered))

    def close(self) -> None:
        """No more GETs: the connections end once the queued ones are answered."""
        for _ in range(self.connections):
            self.queue.put_nowait(None)

    async def run(self) -> None:
        await asyncio.gather(*(self._connection() for _ in range(self.connections)))

    async def _connection(self) -> None:
        connection = _KeptAlive(self.port)
        while (job := await self.queue.get()) is not None:
            due, screen, kind, reason, answered = job
            try:
                await self._get(connection, due, screen, kind, reason)
            finally:
                if answered is not None:
                    answered()
        connection.close()

    async def _get(self, connection: _KeptAlive, due: float, screen: Screen, kind: str, reason: str) -> None:
        if kind == "list":
            path = f"/e/{screen.establishment}/orders/live/?tab=recu"
        else:
            path = f"/e/{screen.establishment}/orders/{screen.order}/live/?shown={screen.shown}"
        headers = [
            f"GET {path} HTTP/1.1",
            "Host: 127.0.0.1",
            f"Cookie: {screen.cookie}",
            "HX-Request: true",
            "Accept-Language: fr",
            "Accept-Encoding: gzip",
        ]
        if kind in screen.etags:
            headers.append(f"If-None-Match: {screen.etags[kind]}")
        request = ("\r\n".join(headers) + "\r\n\r\n").encode()
        figures = self.figures
        sent = time.perf_counter()
        try:
            status, answer, body = await connection.exchange(request)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            figures.errors += 1
            return
        received = time.perf_counter()
        figures.latencies.append(received - due)
        figures.latencies_by[reason, status].append(received - due)
        figures.statuses[status] += 1
        figures.reasons[reason] += 1
        figures.bytes_in += len(body)
        if "x-bench-cpu-us" in answer:
            figures.cpu_us["rendered" if status == 200 else "not modified"].append(int(answer["x-bench-cpu-us"]))
        if status != 200:
            return
        if "etag" in answer:
            screen.etags[kind] = answer["etag"]
        text = functools.partial(_text, body, answer.get("content-encoding") == "gzip")
        screen.answers[kind] = (sent, received, text)
        if screen.pending:
            figures.visible += seen(screen, kind, sent, received, text())


def _text(body: bytes, gzipped: bool) -> str:
    return (gzip.decompress(body) if gzipped else body).decode()


class _KeptAlive:
    """A keep-alive connection to the web. A request on a connection that the server has closed meanwhile is sent
    again on a new one, as a proxy does: gunicorn closes a connection left idle for 2 s, as those of the pool
    often are with push."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.writer is not None:
            try:
                return await self._exchange(request)
            except (OSError, asyncio.IncompleteReadError):
                self.close()
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            return await self._exchange(request)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.close()
            raise

    async def _exchange(self, request: bytes) -> tuple[int, dict[str, str], bytes]:
        self.writer.write(request)
        status, headers, body = await _read_response(self.reader)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def poll(port: int, screens: list[Screen], duration: float, connections: int, figures: Figures) -> None:
    """Every screen polls its list (and its order page) every 3 s for ``duration``, on schedule whatever the
    server's speed (open loop), from a moment of its own within the first 3 s."""
    refreshes = Refreshes(port, connections, figures)
    start = time.perf_counter()
    end = start + duration
    rng = random.Random(11)

    async def schedule() -> None:
        due = []
        for screen in screens:
            due.append((start + rng.uniform(0, INTERVAL), screen.number, "list"))
            if screen.order is not None:
                due.append((start + rng.uniform(0, INTERVAL), screen.number, "detail"))
        heapq.heapify(due)
        while due:
            at, number, kind = heapq.heappop(due)
            if at >= end:
                break
            wait = at - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            refreshes.send(at, screens[number], kind)
            heapq.heappush(due, (at + INTERVAL, number, kind))
        refreshes.close()

    await asyncio.gather(schedule(), refreshes.run())


# The run ------------------------------------------------------------------------


LAG_STEP_SECONDS = 0.01


async def timing_lag(work, figures: Figures):
    """``work``, while the loop's lag is sampled every LAG_STEP_SECONDS."""
    task = asyncio.ensure_future(work)
    while not task.done():
        before = time.perf_counter()
        await asyncio.sleep(LAG_STEP_SECONDS)
        figures.loop_lags.append(time.perf_counter() - before - LAG_STEP_SECONDS)
    return await task


def quantile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else (values[0] if values else 0.0)


def run_size(args, servers: Servers, screens: list[Screen], establishments: list[int], push: bool) -> dict:
    from django.db import connections

    loop = asyncio.new_event_loop()
    figures = Figures()
    # A first round without measuring: every screen gets its first fragment (and ETag), as when the page opened.
    loop.run_until_complete(poll(servers.port, screens, INTERVAL, args.connections, Figures()))
    if push:
        refreshes = Refreshes(servers.port, args.connections, Figures())
        pool = loop.create_task(refreshes.run())
        streams = Streams(servers.stream_port, screens, refreshes.send)
        # Not measured either: every stream opened, and the refresh that follows each open answered.
        loop.run_until_complete(live_push.open_all(streams, refreshes))
    context = multiprocessing.get_context("fork")
    reports, stop = context.Queue(), context.Event()
    connections.close_all()
    changer = context.Process(target=run_changer, args=(establishments, reports, stop), daemon=True)
    changer.start()
    changes = Changes(screens, loop, figures.visible)
    following = threading.Thread(target=changes.follow, args=(reports,), daemon=True)
    following.start()
    load_before = os.getloadavg()[0]
    meter = CpuMeter({name: pids for name, pids in servers.cpu_parts.items() if push or name != "stream"})
    meter.start()
    client_before = _own_cpu()
    started = time.perf_counter()
    if push:
        refreshes.figures = figures
        loop.run_until_complete(timing_lag(live_push.measure(streams, refreshes, pool, args.duration), figures))
    else:
        loop.run_until_complete(timing_lag(poll(servers.port, screens, args.duration, args.connections, figures), figures))
    elapsed = time.perf_counter() - started
    cpu = meter.stop()
    client = {"client": _own_cpu() - client_before, "changer": cpu_seconds(changer.pid)}
    stop.set()
    following.join(timeout=30)
    changer.join(timeout=30)
    cutoff = started + args.duration - INTERVAL - 1
    unseen = sum(1 for screen in screens for changed_at, _, _ in screen.pending.values() if changed_at < cutoff)
    for screen in screens:
        for changed_at, kind, check in screen.pending.values():
            if changed_at < cutoff:
                # Whether the screen refreshed since (its answer then did not show the change) or never did.
                last = screen.answers.get(kind)
                since = (
                    "no answer with a body"
                    if last is None
                    else f"last body sent {last[0] - changed_at:+.3f} s after, showing it: {shows(last[2](), check)}"
                )
                before_end = started + args.duration - changed_at
                print(f"  never shown: screen {screen.number}, {kind} {check}, {before_end:.1f} s before the end; {since}")
    for screen in screens:
        screen.pending.clear()
    loop.close()
    machine = cpu.pop("machine")
    ours = sum(cpu.values())
    gets = len(figures.latencies)
    cores = os.cpu_count() or 1
    result = {
        "mode": "push" if push else "poll",
        "screens": len(screens),
        "polls_per_s": gets / elapsed,
        "p50": quantile(figures.latencies, 50) * 1000,
        "p95": quantile(figures.latencies, 95) * 1000,
        "p99": quantile(figures.latencies, 99) * 1000,
        "not_modified": sum(n for status, n in figures.statuses.items() if status in (204, 304)) / max(1, gets),
        "cpu_per_poll_ms": ours * 1000 / max(1, gets),
        "cpu_per_screen_ms": ours * 1000 / elapsed / len(screens),
        "cores": ours / elapsed,
        "share": ours / elapsed / cores,
        "unseen": unseen,
        "late": sum(1 for delay in figures.visible if delay > INTERVAL),
    }
    print(
        f"\n{len(screens)} screens over {len(establishments)} establishments, {'push' if push else 'polling'},"
        f" {args.duration:.0f} s (load average {load_before:.2f} → {os.getloadavg()[0]:.2f})"
    )
    report(result, figures, cpu, machine, client, elapsed, changes)
    if push:
        live_push.report(streams.counts, len(streams.views))
    return result


def _own_cpu() -> float:
    """This process's CPU: the client's loop, and its threads that follow the changes and read /proc."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def report(result: dict, figures: Figures, cpu: dict, machine: float, client: dict, elapsed: float, changes: Changes) -> None:
    gets = len(figures.latencies)
    what = "poll" if result["mode"] == "poll" else "refresh GET"
    reasons = "" if result["mode"] == "poll" else f" (sent on {dict(figures.reasons)})"
    print(
        f"  {what}s {gets} ({result['polls_per_s']:.0f}/s){reasons}, statuses {dict(figures.statuses)},"
        f" errors {figures.errors}, {figures.bytes_in / max(1, gets) / 1024:.1f} KB per answer on the wire"
    )
    print(
        f"  latency from when due: p50 {result['p50']:.1f} ms  p95 {result['p95']:.1f} ms  p99 {result['p99']:.1f} ms"
        f"  max {max(figures.latencies, default=0) * 1000:.0f} ms"
    )
    print(f"  not modified: {result['not_modified']:.1%}")
    lags = figures.loop_lags
    print(
        f"  the client's own loop, late by: p50 {quantile(lags, 50) * 1000:.1f} ms  p95 {quantile(lags, 95) * 1000:.1f} ms"
        f"  p99 {quantile(lags, 99) * 1000:.1f} ms  max {max(lags, default=0) * 1000:.0f} ms"
    )
    for (reason, status), values in sorted(figures.latencies_by.items()):
        print(
            f"    sent on {reason}, answered {status}: {len(values)} ({len(values) / max(1, gets):.0%}),"
            f" p50 {quantile(values, 50) * 1000:.1f} ms  p95 {quantile(values, 95) * 1000:.1f} ms"
        )
    for kind, values in sorted(figures.cpu_us.items()):
        print(
            f"  request thread CPU, {kind}: {statistics.mean(values) / 1000:.2f} ms mean,"
            f" p95 {quantile(values, 95) / 1000:.2f} ms ({len(values)})"
        )
    cores = os.cpu_count() or 1
    per_get = "  ".join(f"{name} {seconds * 1000 / max(1, gets):.2f}" for name, seconds in cpu.items())
    print(
        f"  CPU ms per {what}: {per_get} (total {result['cpu_per_poll_ms']:.2f}); {result['cores']:.2f} cores"
        f" = {result['share']:.0%} of {cores}; whole machine {machine / elapsed:.2f} cores busy"
    )
    screens = result["screens"]
    per_screen = "  ".join(f"{name} {seconds * 1000 / elapsed / screens:.3f}" for name, seconds in cpu.items())
    in_cores = "  ".join(f"{name} {seconds / elapsed:.2f}" for name, seconds in cpu.items())
    print(f"  CPU ms a second per screen: {per_screen} (total {result['cpu_per_screen_ms']:.3f}); in cores: {in_cores}")
    print(f"  the bench's own CPU, in cores: client {client['client'] / elapsed:.2f}, changer {client['changer'] / elapsed:.2f}")
    visible = figures.visible
    print(
        f"  changes: {changes.count} made ({changes.failures} failed); shown on screens {len(visible)} times,"
        f" delay p50 {quantile(visible, 50) * 1000:.0f} ms  p99 {quantile(visible, 99) * 1000:.0f} ms"
        f"  max {max(visible, default=0) * 1000:.0f} ms; {result['late']} later than {INTERVAL:.0f} s;"
        f" {result['unseen']} never shown"
    )


@dataclass
class Servers:
    """The web gunicorn (and with push the stream process), and what the CPU meter reads of each part."""

    port: int
    stream_port: int | None
    cpu_parts: dict


def main() -> None:
    workers, threads = procfile_defaults()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screens", default="60,120,240", help="sizes to run, comma-separated")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured per size")
    parser.add_argument("--orders", type=int, default=6, help="orders per establishment at the start")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections of the proxy-like client")
    parser.add_argument("--workers", type=int, default=workers, help="gunicorn workers (default: the Procfile's)")
    parser.add_argument("--threads", type=int, default=threads, help="threads per worker (default: the Procfile's)")
    parser.add_argument("--stop-above-ms", type=float, default=1000, help="no larger size once p95 exceeds this")
    parser.add_argument("--mode", choices=("poll", "push", "both"), default="poll", help="both: each size polled, then with push")
    parser.add_argument(
        "--push", dest="mode", action="store_const", const="push", help="the screens refresh on server-sent events (--mode push)"
    )
    own_database.add_arguments(parser, "gr_bench_live")
    args = parser.parse_args()
    args.worker_class, args.backlog = "gthread", 2048
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis"):
        sys.exit("Set CELERY_BROKER_URL=redis://… (sessions and screen versions live there).")
    sizes = [int(size) for size in args.screens.split(",")]
    modes = {"poll": [False], "push": [True], "both": [False, True]}[args.mode]
    establishments = -(-max(sizes) // SCREENS_PER_ESTABLISHMENT)
    env = own_database.environment(args.database_url, "getresto.settings", CELERY_BROKER_URL=broker, DATABASE_CONN_MAX_AGE="60")
    os.environ.update(env)
    with own_database.own_database(args.database_url, args.keep):
        began = time.perf_counter()
        ids, all_screens = load(establishments, args.orders, max(sizes))
        print(
            f"loaded {establishments} establishments × {args.orders} orders, {max(sizes)} sessions in"
            f" {time.perf_counter() - began:.0f} s",
            flush=True,
        )
        port = free_port()
        server = start_server(env, port, args, application="bench.cpu_header")
        processes = [server]
        servers = Servers(port, None, {"gunicorn": lambda: with_children(server.pid)})
        results = []
        try:
            ready = f"GET /login/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
            wait_for_server(server, port, ready)
            print(f"gunicorn {args.workers} gthread workers × {args.threads} threads, {args.connections} client connections")
            if True in modes:
                stream, servers.stream_port, command = live_push.start_process(env)
                processes.append(stream)
                servers.cpu_parts["stream"] = lambda: with_children(stream.pid)
                print(f"stream process: {shlex.join(command[1:])}")
            servers.cpu_parts["postgres"] = DatabaseProcesses(args.database_url)
            servers.cpu_parts["redis"] = lambda: redis_process(broker)
            going = set(modes)
            for size in sizes:
                count = -(-size // SCREENS_PER_ESTABLISHMENT)
                for push in modes:
                    if push in going:
                        result = run_size(args, servers, all_screens[:size], ids[:count], push)
                        results.append(result)
                        if result["p95"] > args.stop_above_ms:
                            going.discard(push)
                if not going:
                    break
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=20)
    summarize(results)


def summarize(results: list[dict]) -> None:
    cores = os.cpu_count() or 1
    # One screen polls the list every 3 s, and a third of them an order page too.
    polls_per_screen = (1 + 1 / SCREENS_PER_ESTABLISHMENT) / INTERVAL
    for mode in ("poll", "push"):
        ours = [r for r in results if r["mode"] == mode]
        if not ours:
            continue
        held = [r["screens"] for r in ours if r["share"] <= 0.7 and r["p95"] < 50 and r["unseen"] == 0]
        servers = "gunicorn + PostgreSQL + Redis" if mode == "poll" else "gunicorn + stream + PostgreSQL + Redis"
        print(
            f"\n{'polling' if mode == 'poll' else 'push'}: largest N measured with {servers} under 70% of {cores} cores,"
            f" p95 < 50 ms and every change shown: {max(held) if held else 'none'}"
        )
        for r in ours:
            if mode == "poll":
                by_cpu = 0.7 * cores / (r["cpu_per_poll_ms"] / 1000) / polls_per_screen
                cost = f"{r['cpu_per_poll_ms']:.2f} ms CPU per poll"
            else:
                by_cpu = 0.7 * cores / (r["cpu_per_screen_ms"] / 1000)
                cost = f"{r['cpu_per_screen_ms']:.3f} ms CPU a second per screen"
            print(
                f"  at {r['screens']}: {cost}, {r['not_modified']:.0%} not modified, p95 {r['p95']:.0f} ms,"
                f" {r['late']} changes shown later than {INTERVAL:.0f} s → about {by_cpu:.0f} screens at 70% CPU"
            )


if __name__ == "__main__":
    main()
