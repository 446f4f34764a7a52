"""Kitchen tickets: from an order's commit to its ticket's last byte at the printer, for a burst of orders.

Runs on this machine: a PostgreSQL database created for the run (``gr_bench_printing``),
the Redis broker of CELERY_BROKER_URL (its queue and the print drain flags purged
first), a HubRise sandbox process with three virtual printers on free ports (the
judge: each ticket's last byte is timed there, at its cut), and a Celery worker of
2 prefork processes as in the Procfile, with its beat.

spread    --orders orders (200) over 3 establishments with one printer each,
          round robin: 200 tickets over 3 printers.
every     --orders orders in one establishment with 3 printers: each prints
          every order (600 tickets).

Each order is created through orders.services.create_order in its own
transaction, one after another as fast as this process goes (the burst); the
commit time is taken by the first on_commit callback. Prints the latency
p50/p95/p99/max (commit → the ticket's cut at the printer), tickets per second
(from the first commit to the last cut), and checks that every (printer, order)
came out exactly once, whole, and that every job is recorded printed.

    CELERY_BROKER_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/printing.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.own_database import ROOT, add_arguments, own_database


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    sys.exit(f"timed out waiting for {what}")


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run(mode: str, orders: int, workdir: Path, sandbox_url: str, env: dict) -> dict:
    import redis
    from django.conf import settings
    from django.db import transaction

    from orders.demo import random_order
    from orders.models import Company, Establishment, Order, StatusChange
    from orders.services import create_order
    from printing import wake
    from printing.models import Printer, PrintJob

    PrintJob.objects.all().delete()
    Order.objects.all().delete()
    Printer.objects.all().delete()
    Establishment.objects.all().delete()
    company = Company.objects.get_or_create(name="Bench printing")[0]
    virtual = []
    for name in ("Cuisine", "Bar", "Pizza"):
        response = requests.post(f"{sandbox_url}/_sandbox/printers", json={"name": name}, timeout=10)
        response.raise_for_status()
        virtual.append(response.json())
    if mode == "spread":
        establishments = [Establishment.objects.create(company=company, name=f"Bench {p['name']}") for p in virtual]
        for establishment, printer in zip(establishments, virtual, strict=True):
            Printer.objects.create(establishment=establishment, name=printer["name"], host="127.0.0.1", port=printer["port"])
    else:
        establishments = [Establishment.objects.create(company=company, name="Bench every printer")]
        for printer in virtual:
            Printer.objects.create(establishment=establishments[0], name=printer["name"], host="127.0.0.1", port=printer["port"])

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("celery", "unacked", "unacked_index", "unacked_mutex")
    wake.forget_flags(client)
    worker = start(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "getresto",
            "worker",
            "-B",
            "--schedule",
            str(workdir / f"beat-{mode}"),
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        env,
        workdir / f"worker-{mode}.log",
    )
    time.sleep(4)  # the worker's start-up, outside the measure

    import random

    from django.utils import timezone

    rng = random.Random(18)
    committed: dict[tuple[int, str], float] = {}
    started = time.time()
    for number in range(orders):
        establishment = establishments[number % len(establishments)]
        ref = f"B{number:04d}"
        data = random_order(rng, timezone.now())
        from dataclasses import replace

        data = replace(data, ref=ref)
        with transaction.atomic():
            transaction.on_commit(lambda key=(establishment.pk, ref): committed.__setitem__(key, time.time()))
            create_order(establishment, data, source=StatusChange.Source.API)
    burst = time.time() - started
    expected = orders if mode == "spread" else orders * len(virtual)

    def tickets() -> list[dict]:
        found = []
        for printer in virtual:
            found += [
                {**ticket, "printer_id": printer["id"]}
                for ticket in requests.get(f"{sandbox_url}/_sandbox/printers/{printer['id']}/tickets", timeout=10).json()
            ]
        return found

    wait_for(lambda: len(tickets()) >= expected, 120, f"{expected} tickets")
    time.sleep(1)  # anything printed twice would come out now
    printed = tickets()
    stop(worker)
    for printer in virtual:
        requests.delete(f"{sandbox_url}/_sandbox/printers/{printer['id']}", timeout=10)

    establishment_of_printer = dict(Printer.objects.values_list("port", "establishment_id"))
    port_of = {printer["id"]: printer["port"] for printer in virtual}
    latencies, seen = [], Counter()
    for ticket in printed:
        ref = next(line["text"][3:] for line in ticket["lines"] if line["text"].startswith("N° "))
        seen[(ticket["printer_id"], ref)] += 1
        establishment_id = establishment_of_printer[port_of[ticket["printer_id"]]]
        latencies.append(ticket["finished_at"] - committed[(establishment_id, ref)])
    spans = {}
    for printer in virtual:
        cuts = [ticket["finished_at"] for ticket in printed if ticket["printer_id"] == printer["id"]]
        spans[printer["name"]] = (min(cuts), max(cuts)) if cuts else (0.0, 0.0)
    first_commit = min(committed.values())
    last_cut = max(ticket["finished_at"] for ticket in printed)
    return {
        "mode": mode,
        "orders": orders,
        "tickets": len(printed),
        "expected": expected,
        "exactly_once": len(printed) == expected and set(seen.values()) == {1},
        "torn": sum(not ticket["complete"] for ticket in printed),
        "jobs_not_printed": PrintJob.objects.exclude(state="printed").count(),
        "burst_seconds": burst,
        "latencies": latencies,
        "per_second": len(printed) / (last_cut - first_commit),
        "spans": {name: (start - first_commit, end - first_commit) for name, (start, end) in spans.items()},
    }


def report(result: dict) -> None:
    ms = [seconds * 1000 for seconds in result["latencies"]]
    print(
        f"\n{result['mode']}: {result['orders']} orders committed in {result['burst_seconds']:.2f} s, "
        f"{result['tickets']}/{result['expected']} tickets, exactly once: {result['exactly_once']}, "
        f"torn: {result['torn']}, jobs not printed: {result['jobs_not_printed']}"
    )
    print(
        f"  commit -> last byte at the printer (ms): p50 {percentile(ms, 0.5):.0f}  p95 {percentile(ms, 0.95):.0f}  "
        f"p99 {percentile(ms, 0.99):.0f}  max {max(ms):.0f}  mean {statistics.fmean(ms):.0f}"
    )
    print(f"  tickets per second (first commit to last cut): {result['per_second']:.0f}")
    spans = ", ".join(f"{name} {start:.1f}-{end:.1f} s" for name, (start, end) in result["spans"].items())
    print(f"  each printer's first and last cut, after the first commit: {spans}")
    print(f"  load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", choices=["spread", "every", "all"], default="all")
    parser.add_argument("--orders", type=int, default=200)
    add_arguments(parser, "gr_bench_printing")
    args = parser.parse_args()
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis"):
        sys.exit("Set CELERY_BROKER_URL=redis://…: the worker and this process share the broker.")

    workdir = Path(tempfile.mkdtemp(prefix="bench-printing-"))
    sandbox_port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "getresto.settings",
        "GETRESTO_ENV": "development",
        "DEBUG": "false",
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": broker,
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update({key: env[key] for key in ("DJANGO_SETTINGS_MODULE", "GETRESTO_ENV", "DEBUG", "DATABASE_URL", "LOG_LEVEL")})
    sandbox = start(
        [sys.executable, "-m", "hubrise_sandbox"],
        {
            **env,
            "HUBRISE_SANDBOX_PORT": str(sandbox_port),
            "HUBRISE_SANDBOX_DB": str(workdir / "sandbox.sqlite3"),
            "HUBRISE_SANDBOX_PRINTER_PORT": "",
        },
        workdir / "sandbox.log",
    )
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    try:
        wait_for(lambda: _ok(f"{sandbox_url}/_sandbox/health"), 30, "the sandbox")
        with own_database(args.database_url, args.keep):
            import django

            django.setup()
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            modes = ["spread", "every"] if args.mode == "all" else [args.mode]
            for mode in modes:
                report(run(mode, args.orders, workdir, sandbox_url, env))
    finally:
        stop(sandbox)
    return 0


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False


if __name__ == "__main__":
    sys.exit(main())
