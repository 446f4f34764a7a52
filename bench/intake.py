"""Benchmark of the intake API over HTTP: orders/s of POST /api/v1/orders/ against a bare one-row create view.

Creates ``gr_bench_intake`` (dropped at the end unless --keep) with --establishments
establishments, each with an API key and a HubRise connection (so that every order
writes its outbox message, as in production; nothing consumes the wake-ups), starts
gunicorn as the Procfile runs it (its defaults read from the Procfile) with
bench/intake_urls.py, and in one run against that one server:

1. POSTs --orders bodies to ``/bench/bare-create/`` (parse the JSON, insert one row);
2. POSTs the same number of orders (3 items, 4 options, a payment: bench/menu.py's
   body) to the intake API, spread round robin over the establishments, --concurrency
   at a time (with one establishment, every order waits on the same numbering);
3. in-process, counts the SQL queries of one order through Django's test client.

It prints orders/s, p50/p99, the CPU of gunicorn and PostgreSQL per request, the
ratio API/bare (target ≥ 0.3) and the queries per order (target ≤ 10), and checks
that every answer was 201 and that every order was created once with its outbox message.

    CELERY_BROKER_URL=redis://127.0.0.1:6379/2 .venv/bin/python bench/intake.py [--orders 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import http_load, own_database
from bench.live_screens import procfile_defaults
from bench.menu import FULL_BODY
from bench.webhook import CpuMeter, DatabaseProcesses, free_port, start_server, summary, wait_for_server, with_children

# Each client connects again after this many requests, so that both workers get their share of the
# connections (bench/http_load.py); a connect per 10 requests costs both runs alike.
RECONNECT_EVERY = 10


def prepare(establishments: int) -> list[str]:
    import django

    django.setup()
    from django.core.management import call_command

    from hubrise_sync.models import Connection
    from orders.models import ApiKey, Company, Establishment

    call_command("migrate", verbosity=0)
    company = Company.objects.create(name="Bench intake")
    keys = []
    for number in range(establishments):
        establishment = Establishment.objects.create(company=company, name=f"Bench intake {number}")
        Connection.objects.create(
            establishment=establishment,
            location_id=f"intake-{number}",
            access_token="bench",  # noqa: S106
            callback_mode="active",
        )
        keys.append(ApiKey.generate(establishment, "bench")[1])
    return keys


def queries_per_order(key: str) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    body = json.dumps(FULL_BODY)
    for _ in range(3):
        client.post("/api/v1/orders/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {key}")
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/api/v1/orders/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {key}")
    if response.status_code != 201:
        sys.exit(f"in-process order: {response.status_code} {response.content[:300]!r}")
    # BEGIN and COMMIT are round trips too, but no work: both counts are printed.
    return len(captured), sum(1 for query in captured.captured_queries if query["sql"] not in ("BEGIN", "COMMIT"))


def check_created(expected: int) -> None:
    from hubrise_sync.models import OutboxMessage
    from orders.models import Order

    orders = Order.objects.count()
    refs = Order.objects.values("establishment_id", "ref").distinct().count()
    messages = OutboxMessage.objects.filter(kind="create").values("order_id").distinct().count()
    if orders != expected or refs != orders or messages != orders:
        sys.exit(f"NOT created once: {orders} orders for {expected} answers, {refs} distinct refs, {messages} with their message")
    print(f"check: {orders} orders, each with its own ref and one create message in the outbox")


def main() -> None:
    workers, threads = procfile_defaults()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--establishments", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8, help="clients posting at once")
    parser.add_argument("--workers", type=int, default=workers, help="gunicorn workers (default: the Procfile's)")
    parser.add_argument("--threads", type=int, default=threads, help="threads per worker (default: the Procfile's)")
    own_database.add_arguments(parser, "gr_bench_intake")
    args = parser.parse_args()
    args.worker_class, args.backlog = "gthread", 0
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis"):
        sys.exit("Set CELERY_BROKER_URL=redis://… (new orders wake the outbox's drains there).")
    env = own_database.environment(
        args.database_url, "bench.intake_settings", CELERY_BROKER_URL=broker, DATABASE_CONN_MAX_AGE="60"
    )
    os.environ.update(env)
    with own_database.own_database(args.database_url, args.keep):
        keys = prepare(args.establishments)
        port = free_port()
        host = f"127.0.0.1:{port}"
        body = json.dumps(FULL_BODY).encode()
        bare = [http_load.build_request(host, "/bench/bare-create/", body, {"Content-Type": "application/json"})] * args.orders
        api = [
            http_load.build_request(
                host,
                "/api/v1/orders/",
                body,
                {"Content-Type": "application/json", "Authorization": f"Api-Key {keys[n % len(keys)]}"},
            )
            for n in range(args.orders)
        ]
        server = start_server(env, port, args)
        meter = CpuMeter({"gunicorn": lambda: with_children(server.pid), "postgres": DatabaseProcesses(args.database_url)})
        try:
            wait_for_server(
                server, port, http_load.build_request(host, "/bench/bare-create/", b"", {}).replace(b"POST ", b"GET ", 1)
            )
            # Warm-up of both paths (code, connections), then the runs, the bare one first.
            http_load.fire("127.0.0.1", port, bare[:100] + api[: 10 * len(keys)], args.concurrency)
            print(
                f"gunicorn {args.workers} gthread workers × {args.threads} threads, {args.concurrency} clients,"
                f" {args.establishments} establishments; load average {os.getloadavg()[0]:.2f}"
            )
            meter.start()
            result = http_load.fire("127.0.0.1", port, bare, args.concurrency, reconnect_every=RECONNECT_EVERY)
            baseline = summary("bare create view", result, {"client": result.cpu_seconds, **meter.stop()})
            statuses = set(result.statuses)
            meter.start()
            result = http_load.fire("127.0.0.1", port, api, args.concurrency, reconnect_every=RECONNECT_EVERY)
            intake = summary("intake API", result, {"client": result.cpu_seconds, **meter.stop()})
            statuses |= set(result.statuses)
            print(f"load average {os.getloadavg()[0]:.2f}")
        finally:
            server.terminate()
            server.wait(timeout=20)
        if statuses != {201}:
            sys.exit(f"unexpected HTTP statuses: {sorted(statuses)}")
        check_created(args.orders + 10 * len(keys))
        queries, statements = queries_per_order(keys[0])
        ratio = intake["per_second"] / baseline["per_second"]
        print(
            f"intake API / bare create: {ratio:.2f} of the orders/s (target ≥ 0.3); {queries} queries per order,"
            f" {statements} without BEGIN and COMMIT (target ≤ 10)"
        )


if __name__ == "__main__":
    main()
