"""Benchmark of the menu: replacing a 2,000-product menu, and the intake API with and without menu validation.

Creates a database of its own (dropped at the end unless --keep) and, in-process:

1. ``replace_menu`` of a synthetic menu (tests/menu/synthetic.py) of 2,000 products in nested categories, 6,000
   SKUs, 300 option lists of 10 options (3,000 options), each SKU with 2 option lists, and a deal: first into an
   empty menu, then the same again (nothing to write), then with every SKU price changed; the time and the number
   of queries of each, and of ``menu_description`` reading it all back, with the CPU seconds this process and its
   PostgreSQL backend spent (what the work costs, whatever else the machine is doing). The same at a tenth of the size shows
   that the query count does not grow with the menu.
2. The same menu as a HubRise catalog pulled end to end from a sandbox process (bench/menu_import.py):
   ``GET /catalogs/:id`` over HTTP, mapping, ``replace_menu``; then the same catalog again.
3. The intake API (``POST /api/v1/orders/`` through Django's whole stack: middleware, API key, serializer, order
   checkers, ``create_order``, commit) for an establishment without menu and one with the bistro menu, the same
   order body (3 items, 4 options, names and prices sent) for both, taking turns every 10 orders so that the
   machine's other load falls on both alike; then orders sent by ref only (names and prices from the menu). Prints orders
   per second of each, the CPU per order (this process and its PostgreSQL backend), their ratios (target ≥ 0.8)
   and the queries per order.

    .venv/bin/python bench/menu.py
    .venv/bin/python bench/menu.py --orders 200 --rounds 3   # quicker
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FULL_BODY = {
    "service_type": "eat_in",
    "table_name": "12",
    "items": [
        {
            "product_name": "Steak frites",
            "sku_ref": "STEAK-FR",
            "price": "18.50 EUR",
            "quantity": "1",
            "options": [
                {"option_list_name": "Cuisson", "name": "Saignant", "ref": "CUIS-SAIG", "price": "0.00 EUR"},
                {"option_list_name": "Accompagnement", "name": "Frites maison", "ref": "ACC-FRI", "price": "0.00 EUR"},
                {"option_list_name": "Sauce", "name": "Béarnaise", "ref": "SAUCE-BEARN", "price": "1.50 EUR"},
            ],
        },
        {
            "product_name": "Croque-monsieur",
            "sku_ref": "CROQ-M",
            "price": "9.50 EUR",
            "quantity": "2",
            "options": [{"option_list_name": "Suppléments", "name": "Œuf", "ref": "SUPP-OEUF", "price": "1.00 EUR"}],
        },
        {
            "product_name": "Vin rouge · Côtes du Rhône",
            "sku_name": "Verre 15 cl",
            "sku_ref": "VIN-R-15",
            "price": "6.00 EUR",
            "quantity": "2",
        },
    ],
    "payments": [{"name": "Carte bancaire", "ref": "CB", "amount": "58.00 EUR"}],
}
REF_ONLY_BODY = {
    "service_type": "eat_in",
    "table_name": "12",
    "items": [
        {"sku_ref": "STEAK-FR", "quantity": "1", "options": [{"ref": "CUIS-SAIG"}, {"ref": "ACC-FRI"}, {"ref": "SAUCE-BEARN"}]},
        {"sku_ref": "CROQ-M", "quantity": "2", "options": [{"ref": "SUPP-OEUF"}]},
        {"sku_ref": "VIN-R-15", "quantity": "2"},
    ],
    "payments": [{"name": "Carte bancaire", "ref": "CB", "amount": "58.00 EUR"}],
}


def backend_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a PostgreSQL backend of this machine, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Timing:
    wall: float
    queries: int
    ours: float
    database: float


def timed(operation, *, count_queries: bool = True) -> tuple[Timing, object]:
    """Wall time, queries and CPU (this process, and its PostgreSQL backend) of one call, and what it returned.

    On a machine shared with other work the wall time includes waiting for the cores; the CPU seconds do not.
    Counting queries logs each one: leave it off where many calls are timed.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    with CaptureQueriesContext(connection) if count_queries else contextlib.nullcontext([]) as queries:
        database_before, ours_before = backend_cpu_seconds(backend), time.process_time()
        started = time.perf_counter()
        result = operation()
        elapsed = time.perf_counter() - started
        ours, database = time.process_time() - ours_before, backend_cpu_seconds(backend) - database_before
    return Timing(elapsed, len(queries), ours, database), result


def bench_replace(products: int, option_lists: int) -> None:
    from menu import selectors, services
    from orders.models import Company, Establishment
    from tests.menu.synthetic import synthetic_menu

    establishment = Establishment.objects.create(company=Company.objects.create(name="Bench"), name=f"Bench menu {products}")
    menu = synthetic_menu(products, option_lists=option_lists)
    repriced = synthetic_menu(products, option_lists=option_lists, price_shift="0.10")
    skus = sum(len(product.skus) for product in menu.products)
    options = sum(len(option_list.options) for option_list in menu.option_lists)
    print(f"\nMenu of {products:,} products, {skus:,} SKUs, {option_lists:,} option lists, {options:,} options")
    print(f"  {'':<36} {'wall':>8}  {'CPU ours':>8}  {'CPU PG':>8}  queries")
    for label, data in (("into an empty menu", menu), ("the same again", menu), ("every price changed", repriced)):
        timing, changes = timed(lambda data=data: services.replace_menu(establishment, data, source="bench"))
        print(f"  replace_menu, {label:<22} {line(timing)}  {changes.summary()}")
    timing, described = timed(lambda: selectors.menu_description(establishment))
    assert described == repriced
    print(f"  {'menu_description, all of it':<36} {line(timing)}")


def line(timing: Timing) -> str:
    return f"{timing.wall * 1000:6.0f} ms  {timing.ours * 1000:5.0f} ms  {timing.database * 1000:5.0f} ms  {timing.queries:5d}"


CHUNK = 10


def bench_intake(orders: int, rounds: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from menu import services
    from orders.models import ApiKey, Company, Establishment
    from tests.menu.bistro import BISTRO_MENU

    company = Company.objects.create(name="Bench intake")
    plain = Establishment.objects.create(company=company, name="Sans carte")
    with_menu = Establishment.objects.create(company=company, name="Avec carte")
    services.replace_menu(with_menu, BISTRO_MENU, source="bench")
    client = Client(HTTP_HOST="127.0.0.1")

    def sender(establishment, body: dict):
        _key, raw = ApiKey.generate(establishment, "bench")
        payload = json.dumps(body)
        headers = {"HTTP_AUTHORIZATION": f"Api-Key {raw}"}

        def send() -> None:
            response = client.post("/api/v1/orders/", payload, content_type="application/json", **headers)
            if response.status_code != 201:
                raise SystemExit(f"{establishment.name}: {response.status_code} {response.content[:500]!r}")

        return send

    cases = {
        "without menu": sender(plain, FULL_BODY),
        "with menu validation": sender(with_menu, FULL_BODY),
        "with menu, refs only": sender(with_menu, REF_ONLY_BODY),
    }
    queries = {}
    for name, send in cases.items():
        for _ in range(20):  # warm-up: code paths, connections, caches
            send()
        with CaptureQueriesContext(connection) as captured:
            send()
        queries[name] = len(captured)
    seconds = dict.fromkeys(cases, 0.0)
    cpu = dict.fromkeys(cases, 0.0)
    # Within a round the cases take turns every CHUNK orders, so that a change of the machine's other load
    # (shared cores) falls on all of them alike rather than on whichever case ran at the time.
    for _ in range(rounds):
        for start in range(0, orders, CHUNK):
            for name, send in cases.items():
                chunk = min(CHUNK, orders - start)
                timing, _result = timed(lambda send=send, chunk=chunk: [send() for _ in range(chunk)], count_queries=False)
                seconds[name] += timing.wall
                cpu[name] += timing.ours + timing.database
    print(f"\nIntake API, {orders * rounds:,} orders per case in {rounds} alternating rounds, in-process")
    print(f"  {'':<22} {'wall':>13}  {'':>13}  {'CPU (ours + PG)':>15}  queries/order")
    count = orders * rounds
    for name in cases:
        rate, cpu_ms = count / seconds[name], cpu[name] * 1000 / count
        print(f"  {name:<22} {rate:7.1f} orders/s  {1000 / rate:6.2f} ms/order  {cpu_ms:9.2f} ms/order  {queries[name]:6d}")
    base, base_cpu = seconds["without menu"], cpu["without menu"]
    print(
        f"  orders/s with menu validation / without: {base / seconds['with menu validation']:.2f} by wall time, "
        f"{base_cpu / cpu['with menu validation']:.2f} by CPU (target >= 0.8); refs only: "
        f"{base / seconds['with menu, refs only']:.2f}, {base_cpu / cpu['with menu, refs only']:.2f}"
    )
    bench_check_alone(with_menu)


def bench_check_alone(establishment) -> None:
    """The menu check by itself (menu.ordering.check_order) on the same body, in this process: its CPU per order and
    its queries, the establishment loaded as the intake API loads it (its menu joined to the key's query)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from menu.ordering import check_order
    from orders.api.serializers import OrderInputSerializer

    # The body as the API reads it before the checkers (no establishment in the context: nothing checked yet).
    serializer = OrderInputSerializer(data=FULL_BODY, context={"currency": establishment.currency})
    serializer.is_valid(raise_exception=True)
    order = serializer.new_order()
    loaded = type(establishment).objects.select_related("menu").get(pk=establishment.pk)
    check_order(loaded, order)
    with CaptureQueriesContext(connection) as queries:
        check_order(loaded, order)
    count = 2_000
    timing, _result = timed(lambda: [check_order(loaded, order) for _ in range(count)], count_queries=False)
    print(
        f"  the menu check alone (check_order, same body): {(timing.ours + timing.database) * 1000 / count:.3f} ms of CPU "
        f"per order (ours + PG), {len(queries)} queries"
    )


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.own_database import add_arguments, environment, own_database

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--orders", type=int, default=500, help="orders per case and round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
        help="the Redis of HubRise's rate-limit counters, which the catalog import goes through",
    )
    add_arguments(parser, "gr_bench_menu")
    args = parser.parse_args()

    with own_database(args.database_url, args.keep):
        os.environ.update(environment(args.database_url, "getresto.settings"))
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from django.db import connection
        from django.utils import translation

        translation.activate("en")

        print(
            f"PostgreSQL {connection.cursor().connection.server_version}, Django DEBUG={settings.DEBUG}, load {os.getloadavg()}"
        )
        bench_replace(args.products // 10, 30)
        bench_replace(args.products, 300)
        from bench.menu_import import bench_import

        bench_import([(args.products // 10, 30), (args.products, 300)], timed, line, redis_url=args.redis_url)
        bench_intake(args.orders, args.rounds)
        print(f"\nload average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
