"""Tickets printed by a real Celery worker (with its beat) on the sandbox's virtual printers."""

import pytest
import redis

from printing import wake
from printing.models import PrintJob
from tests.factories import make_order
from tests.printing.conftest import printer_at
from tests.processes import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]

# Retries after 0.2 … 0.8 s, a sweep every half second, a worker presumed dead 4 s into a job.
FAST_PRINTING_ENV = {
    "PRINTING_CONNECT_TIMEOUT": "1",
    "PRINTING_IO_TIMEOUT": "1",
    "PRINTING_BACKOFF_BASE": "0.2",
    "PRINTING_BACKOFF_CAP": "0.8",
    "PRINTING_LEASE": "4",
    "PRINTING_REQUEUE_AFTER": "2",
    "PRINTING_SWEEP_INTERVAL": "0.5",
}


@pytest.fixture
def printing_worker(start_celery_worker, settings):
    for name, value in FAST_PRINTING_ENV.items():
        setattr(settings, name, float(value))
    # Drain flags left by earlier tests would keep this test's commits from queueing a drain.
    wake.forget_flags(redis.Redis.from_url(settings.CELERY_BROKER_URL))

    def start():
        worker = start_celery_worker(**FAST_PRINTING_ENV)
        wake.forget_flags(redis.Redis.from_url(settings.CELERY_BROKER_URL))
        return worker

    return start


def complete_tickets(virtual) -> list[dict]:
    return [ticket for ticket in virtual.tickets() if ticket["complete"]]


def test_an_order_arriving_comes_out_of_the_kitchen_printer_by_itself(establishment, virtual_printer, printing_worker):
    virtual = virtual_printer()
    printer_at(establishment, virtual)
    printing_worker()

    order = make_order(establishment, ref="0101")

    (ticket,) = wait_until(lambda: complete_tickets(virtual), timeout=15, what="the ticket")
    assert "N° 0101" in ticket["text"]
    wait_until(lambda: PrintJob.objects.filter(order=order, state="printed").exists(), what="the job recorded printed")


def test_a_printer_switched_off_then_on_prints_every_waiting_ticket_once_in_order(
    establishment, virtual_printer, printing_worker
):
    virtual = virtual_printer()
    printer_at(establishment, virtual)
    virtual.fault("refuse")
    printing_worker()
    refs = [f"{n:04d}" for n in range(201, 206)]
    for ref in refs:
        make_order(establishment, ref=ref)
    wait_until(lambda: PrintJob.objects.filter(attempts__gte=2).exists(), what="a few failed tries")

    virtual.clear_fault()

    wait_until(lambda: len(complete_tickets(virtual)) == 5, timeout=20, what="the five tickets")
    printed = [line["text"][3:] for t in complete_tickets(virtual) for line in t["lines"] if line["text"].startswith("N° ")]
    assert printed == refs
    wait_until(lambda: PrintJob.objects.filter(state="printed").count() == 5, what="every job recorded printed")
    assert len(virtual.tickets()) == 5


def test_a_worker_killed_while_sending_loses_no_ticket(establishment, virtual_printer, printing_worker):
    virtual = virtual_printer()
    printer_at(establishment, virtual)
    virtual.fault("hang")
    worker = printing_worker()
    make_order(establishment, ref="0301")
    wait_until(lambda: PrintJob.objects.filter(leased_until__isnull=False).exists(), what="the job being sent")

    worker.kill()
    virtual.clear_fault()
    printing_worker()

    (ticket,) = wait_until(lambda: complete_tickets(virtual), timeout=20, what="the ticket after the lease")
    # The dead worker's try may have printed part of it: the cook is told this one replaces it.
    assert "N° 0301" in ticket["text"] and "RENVOI" in ticket["text"]
    wait_until(lambda: PrintJob.objects.filter(state="printed").exists(), what="the job recorded printed")
