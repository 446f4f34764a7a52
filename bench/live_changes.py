"""The changes of bench/live_screens.py: an order or a status change per establishment every 20-60 s, made as staff
and the API would, and what each screen must then come to show."""

from __future__ import annotations

import asyncio
import heapq
import html
import random
import re
import sys
import threading
import time
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.live_screens import Screen

# Orders in Reçu above which a change advances an order rather than adds one: the tab stays one page.
RECU_CEILING = 12


def new_order_data(number: int):
    from orders.inputs import NewItem, NewOrder, NewPayment

    return NewOrder(
        items=(
            NewItem(product_name="Croque-monsieur", sku_ref="CROQ", price=Decimal("9.50"), quantity=Decimal("2")),
            NewItem(product_name="Salade niçoise", sku_ref="NICO", price=Decimal("12.00"), quantity=Decimal("1")),
        ),
        service_type=("eat_in", "collection", "delivery")[number % 3],
        table_name=str(number % 20),
        customer=_customer(number),
        payments=(NewPayment(amount=Decimal("31.00"), name="Carte bancaire", ref="CB"),),
    )


def _customer(number: int):
    from orders.inputs import NewCustomer

    if number % 3 == 0:
        return NewCustomer()
    return NewCustomer(first_name=("Camille", "Léa", "Hugo")[number % 3], last_name="Martin", phone="+33612345678")


# Changes, made in this process as staff and the API would --------------------------


class Changer:
    """An order or a status change per establishment every 20-60 s, in a process of its own (so that its
    Python does not hold up the polling client's); each change is reported on ``changes``."""

    def __init__(self, establishments: list[int], changes) -> None:
        self.establishments = establishments
        self.changes = changes
        self.count = 0
        self.rng = random.Random(7)

    def run(self, stop, threads: int = 3) -> None:
        now = time.monotonic()
        due = [(now + self.rng.uniform(0, 60), pk) for pk in self.establishments]
        heapq.heapify(due)
        lock = threading.Lock()

        def work() -> None:
            from django.db import connection

            while not stop.is_set():
                with lock:
                    at, pk = heapq.heappop(due)
                    heapq.heappush(due, (at + self.rng.uniform(20, 60), pk))
                wait = at - time.monotonic()
                if wait > 0 and stop.wait(wait):
                    break
                try:
                    self.changes.put(self.change(pk))
                except Exception as error:
                    self.changes.put(("failed", repr(error)))
            connection.close()

        workers = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        self.changes.put(None)

    def change(self, establishment_id: int) -> tuple:
        from django.db import transaction
        from django.utils import translation

        from orders.models import Establishment, Order, StatusChange
        from orders.services import change_status, create_order
        from orders.status import TAB_STATUSES, OrderStatus, Tab, next_usual_step

        recu = list(
            Order.objects.filter(establishment_id=establishment_id, tab=Tab.RECEIVED).order_by("pk").values_list("pk", flat=True)
        )
        committed = []
        with transaction.atomic():
            # The moment of the commit, before the services' own after-commit work: the new versions' copy to Redis,
            # which a listening screen may hear of and refresh on before the service has even returned.
            transaction.on_commit(lambda: committed.append(time.perf_counter()))
            if (len(recu) < RECU_CEILING and self.rng.random() < 1 / 3) or not recu:
                order = create_order(Establishment.objects.get(pk=establishment_id), new_order_data(self.count))
            else:
                order = Order.objects.get(pk=recu[0])
                change_status(order, next_usual_step(order.status, order.service_type), source=StatusChange.Source.STAFF)
        changed_at = committed[0]
        self.count += 1
        with translation.override("fr"):
            label = str(OrderStatus(order.status).label)
        return ("changed", establishment_id, order.pk, label, order.status in TAB_STATUSES[Tab.RECEIVED], changed_at)


def run_changer(establishments: list[int], changes, stop) -> None:
    Changer(establishments, changes).run(stop)


class Changes:
    """What the changer reports, turned into what each screen must come to show."""

    def __init__(self, screens: list[Screen], loop: asyncio.AbstractEventLoop, visible: list[float]) -> None:
        self.visible = visible
        self.by_establishment: dict[int, list[Screen]] = defaultdict(list)
        for screen in screens:
            self.by_establishment[screen.establishment].append(screen)
        self.loop = loop
        self.count = 0
        self.failures = 0

    def follow(self, changes) -> None:
        while (report := changes.get()) is not None:
            if report[0] == "failed":
                self.failures += 1
                print(f"change failed: {report[1]}", file=sys.stderr)
                continue
            _, establishment_id, order_pk, label, in_list, changed_at = report
            self.count += 1
            list_check = ("row", order_pk, label if in_list else None)
            updates = []
            for screen in self.by_establishment[establishment_id]:
                updates.append((screen, ("list", order_pk), (changed_at, "list", list_check)))
                if screen.order == order_pk:
                    updates.append((screen, ("detail", order_pk), (changed_at, "detail", ("status", label))))
            self.loop.call_soon_threadsafe(self._expect, updates)

    def _expect(self, updates: list) -> None:
        for screen, key, expectation in updates:
            # A newer change of the same order replaces what the older one asked to see.
            screen.pending[key] = expectation
            # A screen that listens may have refreshed before this report came from the changer's process.
            kind = expectation[1]
            if kind in screen.answers:
                sent, received, text = screen.answers[kind]
                self.visible += seen(screen, kind, sent, received, text())


def seen(screen: Screen, kind: str, sent: float, received: float, text: str) -> list[float]:
    """The delays of the changes that an answer to ``screen``, received after them, shows: no longer awaited.

    Received, not sent: a GET sent a moment before the change's commit may be served after it, from the committed
    data; the screen then shows the change, and the next GET, told of it, finds its ETag current (204). What the
    answer shows is the proof: each check (a new row, a new status label, a row gone) fails on the state before."""
    delays = []
    for key, (changed_at, where, check) in list(screen.pending.items()):
        if where == kind and changed_at < received and shows(text, check):
            delays.append(received - changed_at)
            del screen.pending[key]
    return delays


def shows(body: str, check: tuple) -> bool:
    if check[0] == "status":
        match = re.search(r'status-big[^"]*">([^<]*)<', body)
        return match is not None and html.unescape(match.group(1)).strip() == check[1]
    _, order_pk, label = check
    start = body.find(f'data-order="{order_pk}"')
    if label is None:
        return start < 0
    if start < 0:
        return False
    match = re.search(r'<span class="status [^"]*">([^<]*)</span>', body[start:])
    return match is not None and html.unescape(match.group(1)).strip() == label
