"""Orders for a webhook test on a database of its own, written by our services in a child process.

    DATABASE_URL=postgres://… python -m tests.faults.webhook_orders COUNT LOCATION_ID

Creates an establishment with a staff member (``camille``, the factories' password) and
``COUNT`` orders in "new", each linked to HubRise order ``ho<number>`` at ``LOCATION_ID``,
then its HubRise connection (after the orders, so that nothing is queued for the push
side), and prints the establishment's id and the HubRise ids as JSON.
"""

from __future__ import annotations

import json
import os
import sys


def main(count: int, location_id: str) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "getresto.test_settings")
    django.setup()
    from hubrise_sync.models import Connection, OrderLink
    from tests.factories import make_establishment, make_order, make_user

    establishment = make_establishment("Brasserie de la Gare")
    make_user(establishment)
    hubrise_ids = []
    for number in range(count):
        order = make_order(establishment, ref=f"W{number:04d}")
        hubrise_ids.append(f"ho{number:04d}")
        OrderLink.objects.create(order=order, location_id=location_id, hubrise_order_id=hubrise_ids[-1])
    Connection.objects.create(
        establishment=establishment,
        location_id=location_id,
        access_token="unused",
        callback_mode="active",
    )
    return {"establishment": establishment.pk, "hubrise_ids": hubrise_ids}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), sys.argv[2])))
