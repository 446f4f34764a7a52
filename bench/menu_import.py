"""The end-to-end catalog import of bench/menu.py: a 2,000-product catalog pulled from the HubRise sandbox.

A sandbox process of its own holds the catalog (tests/menu/synthetic.py written as a HubRise
upload by hubrise_sync.catalog_upload); ``catalog_import.run_import`` then reads it over HTTP
(``GET /catalogs/:id``, through the heavy rate-limit window), maps it and replaces the menu,
as the Celery task does. Timed twice: into an empty menu, then the same catalog again
(nothing to write), each with its queries; at a tenth of the size too, to show the query
count does not grow with the catalog.
"""

from __future__ import annotations

import tempfile
from pathlib import Path


def bench_import(sizes: list[tuple[int, int]], timed, line, *, redis_url: str) -> None:
    from django.conf import settings

    from hubrise_sync import broker, catalog_import, ratelimit
    from hubrise_sync.catalog_upload import catalog_data
    from hubrise_sync.models import CatalogImport, Connection
    from orders.models import Company, Establishment
    from tests.menu.synthetic import synthetic_menu
    from tests.sandbox_fixture import HubRiseSandbox, SandboxProcess

    # The heavy window's counters are in Redis (the rest of the bench publishes to an in-memory broker).
    settings.CELERY_BROKER_URL = redis_url
    # Counters of an earlier run (connection ids start again in a new database) must not limit this one.
    ratelimit.forget_counters(broker.redis_client())
    with tempfile.TemporaryDirectory() as workdir:
        process = SandboxProcess(Path(workdir), {"HUBRISE_SANDBOX_REQUEST_LOG_KEPT": "50"})
        process.start()
        try:
            sandbox = HubRiseSandbox(process)
            settings.HUBRISE_API_URL = sandbox.api_url
            settings.HUBRISE_READ_TIMEOUT = 60
            for products, option_lists in sizes:
                menu = synthetic_menu(products, option_lists=option_lists)
                upload = {"name": f"Bench {products}", "data": catalog_data(menu, "EUR")}
                location_id = sandbox.location_id
                created = sandbox.create_catalog_as_pos(upload, location_id)
                token = sandbox.connect(location_id, catalog_id=created["id"])["access_token"]
                company = Company.objects.create(name="Bench import")
                establishment = Establishment.objects.create(company=company, name=f"Bench import {products}")
                Connection.objects.filter(location_id=location_id).delete()
                Connection.objects.create(
                    establishment=establishment, access_token=token, location_id=location_id, catalog_id=created["id"]
                )
                skus = sum(len(product.skus) for product in menu.products)
                options = sum(len(option_list.options) for option_list in menu.option_lists)
                print(
                    f"\nCatalog import from the sandbox: {products:,} products, {skus:,} SKUs, "
                    f"{option_lists:,} option lists, {options:,} options"
                )
                print(f"  {'':<36} {'wall':>8}  {'CPU ours':>8}  {'CPU PG':>8}  queries")
                for label in ("into an empty menu", "the same catalog again"):
                    record = CatalogImport.objects.create(establishment=establishment, trigger=CatalogImport.Trigger.MANUAL)
                    timing, done = timed(lambda record=record: catalog_import.run_import(record.pk))
                    counts = done.details.get("counts", {})
                    print(f"  run_import, {label:<24} {line(timing)}  {done.outcome} {counts}")
                # The sandbox's own share of the wall time: the same read alone (it is a process of this machine).
                from hubrise_sync.client import HubRiseClient

                read = HubRiseClient(token).get_catalog(created["id"])
                print(f"  of which GET /catalogs/:id alone (sandbox + HTTP + JSON): {read.elapsed_ms} ms")
                sandbox.control("DELETE", f"/catalogs/{created['id']}")
        finally:
            process.stop()
