"""Print jobs as an outbox: written with the order, printed once each, in order, through every fault.

The drain runs in the test's process here (``drain(threads=1)``), against the
sandbox's virtual printers; tests/printing/test_worker.py runs it in a real
Celery worker.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from getresto.redis import broker_redis
from orders.models import StatusChange
from orders.services import change_status
from printing import jobs, services, wake
from printing.models import Printer, PrintJob, PrintSettings
from tests.factories import make_order
from tests.printing.conftest import printer_at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
State = PrintJob.State
Source = StatusChange.Source


def drain(seconds: float = 5.0) -> int:
    return jobs.drain(seconds=seconds, threads=1)


def refs_printed(virtual) -> list[str]:
    """The order refs of the complete tickets, in the order they came out."""
    refs = []
    for ticket in virtual.tickets():
        if ticket["complete"]:
            refs.extend(line["text"].split("N° ")[1] for line in ticket["lines"] if line["text"].startswith("N° "))
    return refs


def make_due(*jobs_to_wake: PrintJob) -> None:
    """Skip the backoff: what "Réessayer maintenant" does."""
    PrintJob.objects.filter(pk__in=[job.pk for job in jobs_to_wake]).update(next_attempt_at=timezone.now())


@pytest.fixture(autouse=True)
def one_drain_slot(settings):
    # Jobs are printed by the test's own drain calls; the drains the commits queue wait in the
    # broker for a worker that never comes (a later test's worker purges them).
    settings.PRINTING_DRAINS = 1
    wake.forget_flags(broker_redis())


def test_an_order_arriving_is_printed_once_on_every_printer_of_its_establishment(establishment, virtual_printer, fast_printing):
    kitchen, bar = virtual_printer("Cuisine"), virtual_printer("Bar")
    printer_at(establishment, kitchen)
    printer_at(establishment, bar, ticket_kind="receipt", paper_width=58)

    order = make_order(establishment, ref="0042")
    assert drain() == 2

    assert refs_printed(kitchen) == ["0042"] and refs_printed(bar) == ["0042"]
    assert "TOTAL" in bar.tickets()[0]["text"] and "TOTAL" not in kitchen.tickets()[0]["text"]
    assert all(len(line["text"]) <= 32 for line in bar.tickets()[0]["lines"] if line["size"] != "large")
    assert list(PrintJob.objects.filter(order=order).values_list("state", "attempts")) == [(State.PRINTED, 1)] * 2
    assert drain() == 0


def test_the_job_is_written_in_the_orders_transaction(establishment, virtual_printer):
    printer_at(establishment, virtual_printer())

    with pytest.raises(RuntimeError), transaction.atomic():
        make_order(establishment)
        assert PrintJob.objects.count() == 1
        raise RuntimeError("the order's transaction fails")

    assert PrintJob.objects.count() == 0


def test_printing_on_acceptance_prints_once_when_accepted(establishment, virtual_printer, fast_printing):
    virtual = virtual_printer()
    printer_at(establishment, virtual)
    services.save_auto_print(establishment, PrintSettings.AutoPrint.ON_ACCEPT)
    order = make_order(establishment, ref="0007")
    assert not PrintJob.objects.exists()

    change_status(order, "accepted", source=Source.STAFF)
    change_status(order, "in_preparation", source=Source.STAFF)
    change_status(order, "accepted", source=Source.HUBRISE)
    drain()

    assert refs_printed(virtual) == ["0007"]
    assert PrintJob.objects.count() == 1


def test_without_automatic_printing_staff_print_by_hand_and_reprint_a_duplicate(establishment, virtual_printer, fast_printing):
    virtual = virtual_printer()
    printer_at(establishment, virtual)
    services.save_auto_print(establishment, PrintSettings.AutoPrint.OFF)
    order = make_order(establishment, ref="0009")
    assert not PrintJob.objects.exists()

    first = services.print_order(order)
    second = services.print_order(order)
    drain()

    assert [job.reason for job in first + second] == [PrintJob.Reason.BY_HAND, PrintJob.Reason.REPRINT]
    original, duplicate = virtual.tickets()
    assert "DUPLICATA" not in original["text"] and duplicate["text"].count("DUPLICATA") == 2


def test_an_unreachable_printer_keeps_its_tickets_in_order_and_prints_them_once_back(
    establishment, virtual_printer, fast_printing
):
    virtual = virtual_printer()
    printer = printer_at(establishment, virtual)
    virtual.fault("refuse")
    for ref in ("0001", "0002", "0003"):
        make_order(establishment, ref=ref)

    assert drain() == 0

    head, *others = PrintJob.objects.order_by("id")
    assert head.state == State.PENDING and head.attempts == 1 and "refusée" in head.last_error
    assert head.next_attempt_at > timezone.now()
    assert [job.attempts for job in others] == [0, 0]  # they wait behind the first, untried
    printer.refresh_from_db()
    assert printer.failing_since is not None and printer.problem == Printer.Problem.UNREACHABLE

    virtual.clear_fault()
    make_due(head)
    assert drain() == 3

    assert refs_printed(virtual) == ["0001", "0002", "0003"]
    printer.refresh_from_db()
    assert printer.failing_since is None and printer.last_success_at is not None


def test_staff_are_told_when_a_printer_has_failed_for_over_a_minute(establishment, virtual_printer, fast_printing):
    from printing.selectors import printers_in_trouble

    virtual = virtual_printer("Cuisine")
    printer = printer_at(establishment, virtual)
    virtual.fault("refuse")
    for _ in range(3):
        make_order(establishment)
    drain()
    assert printers_in_trouble(establishment) == []

    Printer.objects.filter(pk=printer.pk).update(failing_since=timezone.now() - timedelta(seconds=61))

    (alert,) = printers_in_trouble(establishment)
    assert alert.printer.name == "Cuisine" and alert.waiting == 3


def test_a_printer_closing_mid_ticket_gets_the_ticket_again_marked_as_resent(establishment, virtual_printer, fast_printing):
    virtual = virtual_printer()
    printer_at(establishment, virtual)
    virtual.fault("close_mid_ticket", count=1, after_bytes=120)
    make_order(establishment, ref="0011")

    drain()
    job = PrintJob.objects.get()
    assert job.state == State.PENDING and job.may_have_printed
    make_due(job)
    drain()

    torn, whole = virtual.tickets()
    assert not torn["complete"] and whole["complete"]
    assert "RENVOI" in whole["text"] and refs_printed(virtual) == ["0011"]
    assert PrintJob.objects.get().state == State.PRINTED


def test_a_printer_out_of_paper_prints_nothing_until_refilled_then_everything_once(establishment, virtual_printer, fast_printing):
    virtual = virtual_printer()
    printer = printer_at(establishment, virtual)
    virtual.fault("out_of_paper")
    make_order(establishment, ref="0021")
    make_order(establishment, ref="0022")

    drain()
    printer.refresh_from_db()
    assert printer.problem == Printer.Problem.PAPER_OUT and virtual.tickets() == []

    virtual.clear_fault()
    assert services.retry_now(printer) == 2
    drain()

    assert refs_printed(virtual) == ["0021", "0022"]
    assert "RENVOI" not in virtual.tickets()[0]["text"]


def test_a_hanging_printer_times_out_and_its_job_waits_instead_of_sticking(establishment, virtual_printer, fast_printing):
    virtual = virtual_printer()
    printer_at(establishment, virtual)
    virtual.fault("hang")
    make_order(establishment, ref="0031")
    started = time.monotonic()

    drain(seconds=0.1)

    job = PrintJob.objects.get()
    assert time.monotonic() - started < 5
    assert job.state == State.PENDING and job.leased_until is None and "ne répond plus" in job.last_error
    virtual.clear_fault()
    make_due(job)
    drain()
    assert refs_printed(virtual) == ["0031"]


def test_a_removed_printers_waiting_tickets_go_to_another_printer(establishment, virtual_printer, fast_printing):
    gone, kept = virtual_printer("Ancienne"), virtual_printer("Nouvelle")
    old = printer_at(establishment, gone)
    gone.fault("refuse")
    make_order(establishment, ref="0041")
    drain()
    printer_at(establishment, kept, ticket_kind="kitchen")

    assert services.remove_printer(old) == 0
    drain()

    assert "0041" in refs_printed(kept)
    moved = PrintJob.objects.get(order__ref="0041", printer_name="Nouvelle", reason=PrintJob.Reason.AUTO)
    assert moved.state == State.PRINTED


def test_without_another_printer_a_removed_printers_tickets_end_not_printed_for_staff_to_see(establishment, virtual_printer):
    virtual = virtual_printer()
    printer = printer_at(establishment, virtual)
    virtual.fault("refuse")
    order = make_order(establishment)

    assert services.remove_printer(printer) == 1

    job = PrintJob.objects.get()
    assert job.state == State.FAILED and job.printer is None and job.printer_name == virtual.name
    assert "supprimée" in job.last_error
    assert drain() == 0
    assert services.print_order(order) == []  # nothing to print on: the page says so


def test_a_printer_removed_while_its_ticket_is_being_sent_loses_nothing(establishment, virtual_printer, fast_printing):
    gone, kept = virtual_printer("Ancienne"), virtual_printer("Nouvelle")
    old = printer_at(establishment, gone)
    make_order(establishment, ref="0051")
    claimed = jobs.claim()
    printer_at(establishment, kept)
    gone.fault("refuse")

    services.remove_printer(old)
    assert jobs.print_claimed(claimed) is False
    drain()

    assert refs_printed(kept) == ["0051"]


def test_two_workers_racing_for_one_job_print_it_once(establishment, virtual_printer):
    printer_at(establishment, virtual_printer())
    make_order(establishment)
    barrier = threading.Barrier(2)
    claims = []

    def race():
        barrier.wait()
        claims.append(jobs.claim())
        connection.close()

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(claim is None for claim in claims) == [False, True]


def test_drains_racing_over_a_burst_print_each_ticket_once_one_at_a_time_per_printer(
    establishment, virtual_printer, fast_printing
):
    kitchen, bar = virtual_printer("Cuisine"), virtual_printer("Bar")
    printer_at(establishment, kitchen)
    printer_at(establishment, bar)
    refs = [f"{n:04d}" for n in range(1, 21)]
    for ref in refs:
        make_order(establishment, ref=ref)

    def drain_in_thread():
        jobs.drain(seconds=10, threads=1)
        connection.close()

    threads = [threading.Thread(target=drain_in_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert refs_printed(kitchen) == refs and refs_printed(bar) == refs
    assert kitchen.info()["max_simultaneous_connections"] == 1 and bar.info()["max_simultaneous_connections"] == 1
    assert PrintJob.objects.exclude(state=State.PRINTED).count() == 0


def test_a_job_whose_worker_died_is_printed_after_its_lease_and_says_it_was_resent(establishment, virtual_printer, fast_printing):
    virtual = virtual_printer()
    printer_at(establishment, virtual)
    make_order(establishment, ref="0061")
    abandoned = jobs.claim()  # a worker that dies before recording anything
    assert abandoned is not None and jobs.claim() is None

    PrintJob.objects.update(leased_until=timezone.now() - timedelta(seconds=1), next_attempt_at=timezone.now())
    drain()

    assert refs_printed(virtual) == ["0061"]
    assert "RENVOI" in virtual.tickets()[0]["text"]
    job = PrintJob.objects.get()
    assert (job.state, job.claims, job.attempts) == (State.PRINTED, 2, 1)


def test_the_sweep_finds_jobs_whose_drain_was_never_queued(establishment, virtual_printer, fast_printing, settings):
    printer_at(establishment, virtual_printer())
    make_order(establishment)
    PrintJob.objects.update(queued_until=None)
    wake.forget_flags(broker_redis())  # the flag of the drain that never ran has expired
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from getresto.celery import app

    app.conf.task_always_eager = True
    try:
        assert jobs.sweep() == 1
    finally:
        app.conf.task_always_eager = False

    assert PrintJob.objects.get().state == State.PRINTED


def test_a_ticket_of_200_items_with_emoji_prints_whole(establishment, virtual_printer, fast_printing):
    from decimal import Decimal

    from orders.inputs import NewItem

    virtual = virtual_printer()
    printer_at(establishment, virtual)
    items = tuple(NewItem(f"Plat {n} 🍕", Decimal("1"), Decimal("1"), customer_notes="Allergie 🥜 " * 20) for n in range(200))
    make_order(establishment, ref="0200", items=items)

    drain()

    (ticket,) = virtual.tickets()
    assert ticket["complete"] and ticket["text"].count(":pizza:") == 200
    assert "\ufffd" not in ticket["text"] and "?" not in ticket["text"]
