"""Benchmark of the outbox after a long outage: sweep and claim times at 3,000 and 300,000 messages.

Creates a database of its own (dropped at the end unless --keep), loads the backlog
of tests/faults/backlog.py server-side (INSERT … SELECT over generate_series), first
small (1,000 orders, 3,000 messages) and then at full size (100,000 orders, 300,000
messages: 3 in 4 orders delivered history, the rest waiting, with creates pending or
refused and status updates waiting behind them), and times in-process, each run in a
transaction rolled back so that every run sees the same outbox:

- the beat sweep (``outbox.sweep.sweep(limit=500)``: release held messages, select the 500
  longest-due claimable messages not believed queued, mark and publish them), and its
  two queries alone;
- the claims: of one message (what a delivery task does), of an order's next message
  (what it does after each success), and of the longest-due message of all;

then prints EXPLAIN ANALYZE of the sweep's and the claim's queries at full size.
3 in 200 waiting messages are held (the last establishment's connection is broken).

    .venv/bin/python bench/outbox_backlog.py                  # ~1-2 min
    .venv/bin/python bench/outbox_backlog.py --orders 20000   # quicker
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ESTABLISHMENTS = 40
SMALL_ORDERS = 1_000
SWEEP_LIMIT = 500


def prepare() -> tuple[list[int], int]:
    """Migrates and creates the establishments with their connections; returns their ids and the held one's."""
    from django.core.management import call_command

    from hubrise_sync.models import Connection
    from orders.models import Company, Establishment

    call_command("migrate", verbosity=0)
    company = Company.objects.create(name="Bench outbox")
    establishments = Establishment.objects.bulk_create(
        Establishment(company=company, name=f"Backlog {number:02d}") for number in range(ESTABLISHMENTS)
    )
    for number, establishment in enumerate(establishments):
        Connection.objects.create(establishment=establishment, location_id=f"bench{number}-1", access_token="bench")  # noqa: S106
    held = establishments[-1]
    Connection.objects.get(establishment=held).mark_broken("HubRise answered 401")
    return [e.pk for e in establishments], held.pk


def empty_backlog() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE orders_order, orders_orderstatuscount CASCADE")


def rolled_back(operation, repeat: int) -> list[float]:
    """Seconds per run of ``operation``, each in a transaction that is then rolled back."""
    from django.db import transaction

    latencies = []
    for _ in range(repeat):
        with transaction.atomic():
            started = time.perf_counter()
            operation()
            latencies.append(time.perf_counter() - started)
            transaction.set_rollback(True)
    return latencies


def figures(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000


def measure(repeat: int) -> dict[str, tuple[float, float]]:
    from django.utils import timezone

    from hubrise_sync.outbox import drain, kinds, state, sweep

    look_up_kinds = kinds.looked_up_before_retry()

    def due_query() -> None:
        now = timezone.now()
        list(state.claimable(now).order_by("next_attempt_at", "id").values_list("pk", flat=True)[:SWEEP_LIMIT])

    cases = {
        f"sweep(limit={SWEEP_LIMIT})": lambda: sweep.sweep(limit=SWEEP_LIMIT),
        "  its query for establishments with held messages": sweep.establishments_with_held_messages,
        f"  its selection of {SWEEP_LIMIT} due messages": due_query,
        "claim(1) the longest due of all": lambda: state.claim(1, look_up_kinds=look_up_kinds),
        f"claim({drain.CLAIMS_PER_ROUND}) a drain's round": lambda: state.claim(
            drain.CLAIMS_PER_ROUND, look_up_kinds=look_up_kinds
        ),
    }
    for operation in cases.values():
        rolled_back(operation, 2)
    return {name: figures(rolled_back(operation, repeat)) for name, operation in cases.items()}


def print_plans() -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from hubrise_sync.outbox import drain, kinds, state, sweep

    with transaction.atomic():
        with CaptureQueriesContext(connection) as sweep_queries:
            sweep.sweep(limit=SWEEP_LIMIT)
        with CaptureQueriesContext(connection) as claim_queries:
            state.claim(drain.CLAIMS_PER_ROUND, look_up_kinds=kinds.looked_up_before_retry())
        statements = [
            ("sweep: establishments with held messages", q["sql"])
            for q in sweep_queries.captured_queries
            if "'held'" in q["sql"] and q["sql"].startswith("SELECT DISTINCT")
        ]
        statements += [("sweep: due messages", q["sql"]) for q in sweep_queries.captured_queries if "LIMIT 500" in q["sql"]]
        statements += [("claim(): the longest due", q["sql"]) for q in claim_queries.captured_queries if "FOR UPDATE" in q["sql"]]
        transaction.set_rollback(True)
    for name, sql in statements:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
            transaction.set_rollback(True)
        print(f"\n-- {name}")
        for line in plan:
            print("  ", line)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.own_database import add_arguments, environment, own_database

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000, help="orders at full size (3 messages each)")
    parser.add_argument("--repeat", type=int, default=50, help="timed runs per case")
    add_arguments(parser, "gr_bench_outbox")
    args = parser.parse_args()
    run_started = time.perf_counter()

    with own_database(args.database_url, args.keep):
        os.environ.update(environment(args.database_url, "getresto.settings"))
        import django

        django.setup()
        from django.utils import timezone

        from tests.faults.backlog import load_backlog

        establishments, held = prepare()
        results = {}
        for orders in (SMALL_ORDERS, args.orders):
            empty_backlog()
            started = time.perf_counter()
            loaded = load_backlog(orders, establishments, held, timezone.now())
            print(
                f"Loaded {loaded.orders:,} orders, {loaded.messages:,} messages ({loaded.unfinished:,} unfinished)"
                f" in {time.perf_counter() - started:.1f} s"
            )
            results[loaded.messages] = measure(args.repeat)
        small, full = sorted(results)
        print(f"\nIn-process, {args.repeat} runs each, every run rolled back; PostgreSQL on this machine")
        print(f"{'case':<48} {f'{small:,} msgs p50 / p95':>24} {f'{full:,} msgs p50 / p95':>26} {'p50 ratio':>10}")
        for name in results[small]:
            (s50, s95), (f50, f95) = results[small][name], results[full][name]
            print(f"{name:<48} {s50:>10.2f} / {s95:>7.2f} ms {f50:>12.2f} / {f95:>7.2f} ms {f50 / s50:>9.1f}×")
        print_plans()
    print(f"\nWhole run: {time.perf_counter() - run_started:.0f} s")


if __name__ == "__main__":
    main()
