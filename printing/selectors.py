"""What staff see of printing: each order's ticket state, and the printers that stopped printing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from orders.models import Establishment, Order
from printing.models import Printer, PrintJob

State = PrintJob.State


@dataclass(frozen=True)
class TicketState:
    """The order's tickets, summed up: printed | sending | waiting | failed | none."""

    state: str
    jobs: tuple[PrintJob, ...] = ()

    @property
    def printed_at(self) -> datetime | None:
        return max((job.printed_at for job in self.jobs if job.printed_at), default=None)


def ticket_state(order: Order) -> TicketState:
    """From the order's print jobs as prefetched by the order pages (orders.extensions)."""
    jobs = tuple(job for job in order.print_jobs.all() if job.reason != PrintJob.Reason.TEST)
    if not jobs:
        return TicketState("none")
    # The last request decides (its jobs share one creation time): a reprint waiting matters more than
    # the original printed long ago.
    latest = max(job.created_at for job in jobs)
    current = [job for job in jobs if job.created_at == latest]
    if any(job.state == State.PENDING and job.is_sending for job in current):
        state = "sending"
    elif any(job.state == State.PENDING for job in current):
        state = "waiting"
    elif any(job.state == State.FAILED for job in current):
        state = "failed"
    else:
        state = "printed"
    return TicketState(state, tuple(sorted(jobs, key=lambda job: job.pk)))


@dataclass(frozen=True)
class PrinterAlert:
    printer: Printer
    waiting: int


def printers_in_trouble(establishment: Establishment) -> list[PrinterAlert]:
    """Printers failing for longer than PRINTING_BANNER_AFTER, with their waiting tickets: one query."""
    since = timezone.now() - timedelta(seconds=settings.PRINTING_BANNER_AFTER)
    printers = (
        Printer.objects.filter(establishment=establishment, failing_since__lte=since)
        .annotate(waiting=Count("jobs", filter=Q(jobs__state=State.PENDING)))
        .order_by("name")
    )
    return [PrinterAlert(printer, printer.waiting) for printer in printers if printer.waiting]
