"""Python instructions per intake API order, under callgrind: the measure bench/README.md's intake sections use.

Posts bench/menu.py's body to ``/api/v1/orders/`` through Django's test client for the
establishments of a ``bench.intake.prepare`` database (created, and dropped at the end
unless --keep), round robin. After the warm-up orders it pins what would otherwise count
at random: every outbox drain slot's flag is set for an hour (no Celery drain queued) and
the keys' ``last_used_at`` is put a day ahead (no UPDATE of a key), and collects garbage.
Then it switches callgrind's instrumentation on, posts ORDERS orders and switches it off.

Run it twice and take the difference, which leaves out the start and the end::

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=cg45.out \\
        .venv/bin/python bench/intake_callgrind.py 45
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=cg5.out \\
        .venv/bin/python bench/intake_callgrind.py 5 --database-url postgres://postgres@127.0.0.1:5432/gr_bench_intake_cg5
    # (Ir of cg45 − Ir of cg5) / 40, Ir from callgrind_annotate's "PROGRAM TOTALS"

The garbage collector's runs fall where the allocations' count says: a change that allocates less
moves them, by up to 0.2 M instructions per order over 20 orders; 40 orders spread that.

Without valgrind it runs the same orders (callgrind_control is then not called).
``CELERY_BROKER_URL`` must be a Redis URL; compile the sources first (``compileall``),
or the first run counts their compiling.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import own_database
from bench.intake import prepare
from bench.menu import FULL_BODY

WARM_UP = 20


def under_callgrind() -> bool:
    return "vgpreload" in os.environ.get("LD_PRELOAD", "")


def instrumentation(on: bool) -> None:
    if under_callgrind():
        subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())], check=True, capture_output=True)


def pin(keys: int) -> None:
    from django.conf import settings
    from django.utils import timezone

    from hubrise_sync import broker
    from orders.models import ApiKey

    flags = broker.redis_client()
    for slot in range(settings.HUBRISE_PUSH_DELIVERERS):
        flags.set(broker.drain_flag("push", slot), "1", ex=3600)
    assert ApiKey.objects.update(last_used_at=timezone.now() + timedelta(days=1)) == keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("orders", type=int)
    parser.add_argument("--establishments", type=int, default=10)
    own_database.add_arguments(parser, "gr_bench_intake_cg")
    args = parser.parse_args()
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not broker_url.startswith("redis"):
        sys.exit("Set CELERY_BROKER_URL=redis://… (new orders wake the outbox's drains there).")
    os.environ.update(
        own_database.environment(
            args.database_url, "bench.intake_settings", CELERY_BROKER_URL=broker_url, DATABASE_CONN_MAX_AGE="600"
        )
    )
    with own_database.own_database(args.database_url, args.keep):
        keys = prepare(args.establishments)
        from django.test import Client

        client = Client(HTTP_HOST="127.0.0.1")
        body = json.dumps(FULL_BODY)

        def post(number: int) -> None:
            key = keys[number % len(keys)]
            response = client.post("/api/v1/orders/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {key}")
            if response.status_code != 201:
                sys.exit(f"order {number}: {response.status_code} {response.content[:300]!r}")

        for number in range(WARM_UP):
            post(number)
        pin(len(keys))
        # Each run starts with the collector's generations empty: where its collections fall then depends only
        # on what the orders allocate, not on what the warm-up left.
        gc.collect()
        instrumentation(True)
        for number in range(args.orders):
            post(WARM_UP + number)
        instrumentation(False)


if __name__ == "__main__":
    main()
