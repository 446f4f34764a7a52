"""What staff and managers do with printers: print, reprint, test, retry now, remove, settings.

The views, the admin and the demo seeding call these; the jobs they write are
printed by printing.jobs like any other.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orders.models import Establishment, Order
from printing import jobs, wake
from printing.models import Printer, PrintJob, PrintSettings

Reason = PrintJob.Reason
State = PrintJob.State


@transaction.atomic
def print_order(order: Order, *, requested_by: AbstractBaseUser | None = None) -> list[PrintJob]:
    """The order's ticket on every printer of its establishment; a duplicate if it was printed (or asked for) before."""
    # The order's row lock: two quick clicks make one ticket and one duplicate, never two originals.
    Order.objects.select_for_update().filter(pk=order.pk).first()
    asked_before = PrintJob.objects.filter(order=order).exclude(reason=Reason.TEST).exists()
    return jobs.write_order_jobs(order, Reason.REPRINT if asked_before else Reason.BY_HAND, requested_by=requested_by)


@transaction.atomic
def print_test_page(printer: Printer, *, requested_by: AbstractBaseUser | None = None) -> PrintJob:
    (job,) = jobs.write_jobs(
        [
            PrintJob(
                establishment_id=printer.establishment_id,
                printer=printer,
                printer_name=printer.name,
                reason=Reason.TEST,
                requested_by=requested_by,
            )
        ]
    )
    return job


@transaction.atomic
def retry_now(printer: Printer) -> int:
    """After staff fixed the printer (paper, cable, power): its waiting jobs go now instead of after their backoff."""
    now = timezone.now()
    count = (
        PrintJob.objects.filter(printer=printer, state=State.PENDING)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(next_attempt_at=now, queued_until=None)
    )
    if count:
        transaction.on_commit(wake.wake_drains)
    return count


@transaction.atomic
def remove_printer(printer: Printer) -> int:
    """Delete the printer; its waiting tickets go to another printer (of the same kind if any) or end not printed.

    Returns how many waiting tickets could not be moved. A ticket being sent at
    that moment finishes on the removed printer, or is moved the same way if
    that try fails.
    """
    locked = Printer.objects.select_for_update().get(pk=printer.pk)
    now = timezone.now()
    waiting = list(
        PrintJob.objects.filter(printer=locked, state=State.PENDING)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .order_by("id")
    )
    failed = sum(jobs.rehome(job, kind=locked.ticket_kind) for job in waiting)
    locked.delete()
    return failed


def settings_of(establishment: Establishment) -> PrintSettings:
    """The establishment's printing settings; the defaults until a manager saves them."""
    return PrintSettings.objects.filter(establishment=establishment).first() or PrintSettings(establishment=establishment)


def save_auto_print(establishment: Establishment, auto_print: str) -> PrintSettings:
    PrintSettings.AutoPrint(auto_print)  # ValueError for anything else
    saved, _created = PrintSettings.objects.update_or_create(establishment=establishment, defaults={"auto_print": auto_print})
    return saved
