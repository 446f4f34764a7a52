"""CPU of our Python per webhook request and per applied event, in-process: a figure other load barely moves.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gr_bench_cpu CELERY_BROKER_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/sync_cpu.py [--events 2000] [--rounds 3]

On a machine busy with other work, requests per second say as much about the
neighbours as about our code. This bench calls the webhook through Django's test
client (the whole middleware stack, no HTTP) and the applier (``inbound.apply_pending``,
what the worker's drain runs) in this one process, and reports ``time.process_time``
per request and per event: CPU this process used, not wall time. PostgreSQL's and
Redis' own CPU is not in it. Run it from each checkout to compare two versions of
the code (it uses only what both have); its tasks go to a queue nobody consumes.

Creates the database if missing and migrates it; each round loads ``--events``
orders (linked to HubRise ids, status "new"), posts one signed ``order.update``
(new → accepted) per order, then applies them, and prints the two figures.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECRET = "bench-cpu-secret"  # noqa: S105  (the bench signs its own events)
QUEUE = "bench-sync-cpu-unconsumed"


def setup_django() -> None:
    os.environ.setdefault("GETRESTO_ENV", "development")
    os.environ["HUBRISE_CLIENT_SECRET"] = SECRET
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "getresto.settings")
    create_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    from getresto.celery import app

    app.conf.task_default_queue = QUEUE
    call_command("migrate", verbosity=0)


def create_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    name = url.rsplit("/", 1)[1]
    if not name.startswith("gr_bench_"):
        raise SystemExit("the database name must start with gr_bench_")
    connection = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()


def load(count: int) -> tuple[str, list[str]]:
    """An establishment with ``count`` orders in "new", each linked to a HubRise id; (location id, their ids)."""
    from hubrise_sync.models import Connection, OrderLink
    from orders.inputs import NewItem, NewOrder
    from orders.models import Company, Establishment, StatusChange
    from orders.services import create_order

    company, _ = Company.objects.get_or_create(name="Bench CPU")
    establishment = Establishment.objects.create(company=company, name=f"Bench CPU {uuid.uuid4().hex[:6]}")
    location_id = uuid.uuid4().hex[:5] + "-0"
    order = NewOrder(status="new", items=(NewItem(product_name="Croque", price=Decimal("9.50"), quantity=Decimal("1")),))
    orders = [create_order(establishment, order, source=StatusChange.Source.API) for _ in range(count)]
    Connection.objects.create(establishment=establishment, location_id=location_id, access_token="bench-token")  # noqa: S106
    hubrise_ids = [uuid.uuid4().hex[:8] for _ in orders]
    OrderLink.objects.bulk_create(
        OrderLink(order=o, location_id=location_id, hubrise_order_id=h) for o, h in zip(orders, hubrise_ids, strict=True)
    )
    return location_id, hubrise_ids


def event(location_id: str, hubrise_id: str) -> bytes:
    from django.utils import timezone

    return json.dumps(
        {
            "id": uuid.uuid4().hex,
            "resource_type": "order",
            "event_type": "update",
            "created_at": timezone.now().isoformat(),
            "location_id": location_id,
            "order_id": hubrise_id,
            "new_state": {"id": hubrise_id, "status": "accepted"},
        }
    ).encode()


def one_round(count: int) -> tuple[float, float]:
    from datetime import timedelta

    from django.test import Client

    from hubrise_sync import inbound

    location_id, hubrise_ids = load(count)
    bodies = [event(location_id, hubrise_id) for hubrise_id in hubrise_ids]
    signatures = [hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest() for body in bodies]
    client = Client(HTTP_HOST="127.0.0.1")
    started = time.process_time()
    for body, signature in zip(bodies, signatures, strict=True):
        response = client.post(
            "/hubrise/callback/", data=body, content_type="application/json", HTTP_X_HUBRISE_HMAC_SHA256=signature
        )
        assert response.status_code == 200, response.status_code
    webhook = (time.process_time() - started) / count
    started = time.process_time()
    applied = inbound.apply_pending(older_than=timedelta(0), limit=count)
    apply = (time.process_time() - started) / count
    assert applied == count, applied
    return webhook * 1000, apply * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    setup_django()
    import redis
    from django.conf import settings

    print(f"{ROOT.name}: {args.rounds} rounds of {args.events} events; load average {os.getloadavg()[0]:.1f}", flush=True)
    for number in range(1, args.rounds + 1):
        webhook, apply = one_round(args.events)
        print(f"  round {number}: webhook {webhook:.3f} ms CPU per request, applier {apply:.3f} ms CPU per event", flush=True)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(QUEUE)


if __name__ == "__main__":
    main()
