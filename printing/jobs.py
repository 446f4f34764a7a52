"""Print jobs: an outbox of tickets, printed once each, in order per printer, never lost.

The flow:

1. ``orders`` sends ``order_created`` / ``status_changed`` inside its
   transaction; the receivers below write one PrintJob per printer of the
   establishment in that same transaction (when its settings print on arrival
   or on acceptance), and wake a drain once it commits. Staff clicks (print,
   reprint, test page) write jobs the same way (printing.services).
2. A drain (Celery task, ``drain``) claims the due job at the head of a
   printer's queue (row lock with SKIP LOCKED, then a lease written to the row)
   and sends it outside any transaction (printing.transport), records the
   outcome and a PrintAttempt, and goes on with that printer's next job; a few
   printers are served side by side by threads.
3. Celery beat calls ``sweep`` every few seconds: it wakes the drains for jobs
   that are due and not believed to be taken care of (the broker was down at
   commit, a worker died, a retry is due).

Rules kept here and nowhere else:

- A printer prints one job at a time, oldest first: a job is claimed only when
  no older job of its printer is waiting and none of its jobs is being sent.
- Retries: any failure (unreachable, refused, timed out, closed mid-ticket, out
  of paper) is retried with exponential backoff and jitter, capped, never given
  up. A job whose printer is removed goes to another printer of the same kind
  in the establishment, or ends "not printed" for staff to see and reprint.
- Exactly once as far as TCP allows: a job is marked printed only after the
  printer closed the connection cleanly (printing.transport). A worker that
  dies after the printer took the ticket but before recording it leaves the job
  to be printed again after its lease: at least once. A try that may have
  printed part of the ticket makes the next one say so on paper.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import close_old_connections, transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from getresto import statements
from orders import screen_versions
from orders.models import Order, StatusChange
from orders.status import OrderStatus
from printing import render, routing, transport, wake
from printing.models import PrintAttempt, Printer, PrintJob, PrintSettings, TicketKind
from printing.ticket import order_ticket, printer_test_ticket

logger = logging.getLogger(__name__)

State = PrintJob.State
Reason = PrintJob.Reason
Outcome = PrintAttempt.Outcome
AutoPrint = PrintSettings.AutoPrint

# How many jobs of one printer a drain thread prints in a row before it looks at the other printers.
RUN_LENGTH = 20
# A successful print refreshes its printer's last_success_at at most this often.
HEALTH_REFRESH = timedelta(minutes=1)


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: exponential, capped, with "equal jitter"."""
    step = min(settings.PRINTING_BACKOFF_CAP, settings.PRINTING_BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return random.uniform(step / 2, step)  # noqa: S311


def lease_duration() -> timedelta:
    """Longer than a send can take: a connect, a status wait, the ticket, the status again and the close."""
    return timedelta(seconds=settings.PRINTING_LEASE)


# Writing jobs (inside the caller's transaction) ----------------------------------


def auto_print_of(establishment_id: int) -> str:
    mode = PrintSettings.objects.filter(establishment_id=establishment_id).values_list("auto_print", flat=True).first()
    return mode or PrintSettings._meta.get_field("auto_print").default


def _printers_with_mode(establishment_id: int):
    mode = Subquery(PrintSettings.objects.filter(establishment_id=OuterRef("establishment_id")).values("auto_print")[:1])
    return Printer.objects.filter(establishment_id=establishment_id).annotate(auto_print_mode=mode).order_by("id")


# Compiled once: every order runs it. No establishment has the id -1: it stands for the order's.
_PRINTERS_WITH_MODE = statements.Select(_printers_with_mode, -1)


def has_printers() -> Exists:
    """Whether the API key's establishment has a printer: read by the intake API's key query (an intake fact)."""
    return Exists(Printer.objects.filter(establishment_id=OuterRef("establishment_id")))


def on_order_created(sender: type, order: Order, source: str, facts: dict | None = None, **kwargs: object) -> None:
    # An establishment without printers, as the intake API's key query read it in this request: nothing to print,
    # and no query (a printer added since that query, milliseconds ago, prints from the next order on).
    if facts and facts.get("has_printers") is False:
        return
    # One query on every other order: the printers, each with the establishment's choice (none: nothing to print).
    printers = _PRINTERS_WITH_MODE.objects(order.establishment_id)
    if not printers:
        return
    mode = printers[0].auto_print_mode or PrintSettings._meta.get_field("auto_print").default
    # An order may arrive already accepted (one made at the POS, imported from HubRise).
    if mode == AutoPrint.ON_ARRIVAL or (mode == AutoPrint.ON_ACCEPT and order.status == OrderStatus.ACCEPTED):
        # The order's own statement bumped the list's version (orders.recording); screens hear of it at the commit.
        write_order_jobs(order, Reason.AUTO, printers=printers, announce=False)


def on_status_changed(sender: type, order: Order, change: StatusChange, **kwargs: object) -> None:
    if change.to_status != OrderStatus.ACCEPTED:
        return
    if auto_print_of(order.establishment_id) != AutoPrint.ON_ACCEPT:
        return
    # Accepted twice (a POS moving it back and forth): the kitchen already has it.
    if PrintJob.objects.filter(order=order, reason=Reason.AUTO).exists():
        return
    # The status change bumps the list's version last (orders.services.change_status).
    write_order_jobs(order, Reason.AUTO, announce=False)


def write_order_jobs(
    order: Order,
    reason: str,
    *,
    requested_by: AbstractBaseUser | None = None,
    printers: list[Printer] | None = None,
    announce: bool = True,
) -> list[PrintJob]:
    """One job per printer of the order's establishment, printed once the caller's transaction commits.

    ``announce``: bump the order list's version (a reprint); not inside a change of the order, which does it last.
    """
    if printers is None:
        printers = list(Printer.objects.filter(establishment_id=order.establishment_id).order_by("id"))
    if any(printer.category_refs for printer in printers):
        # A printer of some categories gets no ticket for an order without any of its items.
        items = list(order.items.all())
        printers = [printer for printer in printers if routing.items_for(printer, items)]
    return write_jobs(
        [
            PrintJob(
                establishment_id=order.establishment_id,
                order=order,
                printer=printer,
                printer_name=printer.name,
                reason=reason,
                requested_by=requested_by,
            )
            for printer in printers
        ],
        announce=announce,
    )


def write_jobs(jobs: list[PrintJob], *, announce: bool = True) -> list[PrintJob]:
    now = timezone.now()
    for job in jobs:
        job.created_at = job.next_attempt_at = now
        job.queued_until = now + timedelta(seconds=settings.PRINTING_REQUEUE_AFTER)
    created = PrintJob.objects.bulk_create(jobs)
    if created:
        transaction.on_commit(wake.wake_drains)
        if announce:
            screen_versions.changed_for_orders(job.order_id for job in created)
    return created


# Claiming --------------------------------------------------------------------------


@dataclass
class Claim:
    job: PrintJob
    token: uuid.UUID
    # Some of the ticket may have come out on an earlier try: this one says so on paper.
    resumed: bool


def claimable(now: datetime):
    """Jobs at the head of their printer's queue, due, and whose printer is not printing another."""
    older_waiting = PrintJob.objects.filter(printer=OuterRef("printer"), pk__lt=OuterRef("pk"), state=State.PENDING)
    printer_busy = PrintJob.objects.filter(printer=OuterRef("printer"), state=State.PENDING, leased_until__gt=now)
    return (
        PrintJob.objects.filter(state=State.PENDING, next_attempt_at__lte=now, printer__isnull=False)
        .exclude(Exists(older_waiting))
        .exclude(Exists(printer_busy))
    )


def claim(*, printer_id: int | None = None, job_id: int | None = None) -> Claim | None:
    """Take the due job at the head of a printer's queue (that printer's, or the longest due) for this worker.

    The row is locked with SELECT … FOR UPDATE SKIP LOCKED and a lease is written before
    the lock is released: until the lease ends no other worker takes the job,
    and past it the worker is presumed dead.
    """
    with transaction.atomic():
        return _claim_in_transaction(printer_id=printer_id, job_id=job_id)


def _claim_in_transaction(*, printer_id: int | None = None, job_id: int | None = None) -> Claim | None:
    now = timezone.now()
    token = uuid.uuid4()
    until = now + lease_duration()
    candidates = claimable(now).select_for_update(skip_locked=True, of=("self",))
    if printer_id is not None:
        candidates = candidates.filter(printer_id=printer_id)
    if job_id is not None:
        candidates = candidates.filter(pk=job_id)
    job = candidates.order_by("next_attempt_at", "id").first()
    if job is None:
        return None
    # More tries started than recorded: a worker died while sending this ticket.
    resumed = job.may_have_printed or job.claims > job.attempts
    PrintJob.objects.filter(pk=job.pk).update(
        lease_token=token, leased_until=until, next_attempt_at=until, claims=F("claims") + 1, may_have_printed=resumed
    )
    job.lease_token, job.leased_until, job.may_have_printed = token, until, resumed
    return Claim(job, token, resumed)


# Printing ----------------------------------------------------------------------------


def orders_for_tickets(order_ids: list[int], *, receipt: bool) -> dict[int, Order]:
    """The orders with what their tickets show, in one batch of queries whatever their number."""
    # A kitchen ticket shows no money: three round trips fewer for most tickets.
    lines = ("items__options", "deals", *(("discounts", "charges", "payments") if receipt else ()))
    return Order.objects.select_related("establishment").prefetch_related(*lines).in_bulk(order_ids)


def ticket_for(job: PrintJob, printer: Printer, *, resumed: bool, orders: dict[int, Order] | None = None) -> bytes:
    """The job's ticket as ESC/POS bytes, rendered now, in the product's language.

    ``orders`` holds orders already loaded for the printer's next tickets (their
    lines never change once recorded); the job's own is read when it is not there.
    """
    now = timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        if job.order_id is None:
            establishment = printer.establishment
            ticket = printer_test_ticket(
                printer_name=printer.name,
                address=f"{printer.host}:{printer.port}",
                establishment_name=establishment.name,
                columns=printer.columns,
                now=now,
                zone=establishment.tzinfo,
            )
        else:
            receipt = printer.ticket_kind == TicketKind.RECEIPT
            order = (orders or {}).get(job.order_id) or orders_for_tickets([job.order_id], receipt=receipt)[job.order_id]
            ticket = order_ticket(
                order,
                items=routing.items_for(printer, order.items.all()),
                receipt=receipt,
                columns=printer.columns,
                duplicate=job.reason == Reason.REPRINT,
                resumed=resumed,
                now=now,
            )
    return render.ticket_bytes(ticket)


def print_claimed(
    claimed: Claim,
    printer: Printer | None = None,
    orders: dict[int, Order] | None = None,
    *,
    claim_next: list[Claim] | None = None,
) -> bool:
    """Send one claimed job and record the outcome; True if it printed.

    With ``claim_next``, once the job printed, the next job of its printer is
    claimed in the transaction that records it (one commit a ticket instead of
    two) and added to that list.

    ``printer`` is the job's printer as its drain thread last read it (a run
    prints one printer's jobs one after another): read again when not given.
    ``orders``: see ``ticket_for``.
    """
    job = claimed.job
    if printer is None or printer.pk != job.printer_id:
        printer = Printer.objects.select_related("establishment").filter(pk=job.printer_id).first()
    started = timezone.now()
    clock = time.monotonic()
    if printer is None:
        # Removed since the claim: the job goes to another printer or ends not printed.
        _record(claimed, Outcome.RETRY, started=started, clock=clock, error=removed_error())
        return False
    try:
        data = ticket_for(job, printer, resumed=claimed.resumed, orders=orders)
        # Errors are recorded in the product's language, which staff read them in.
        with translation.override(settings.LANGUAGE_CODE):
            delivery = transport.send(
                printer.host,
                printer.port,
                data,
                connect_timeout=settings.PRINTING_CONNECT_TIMEOUT,
                io_timeout=settings.PRINTING_IO_TIMEOUT,
            )
    except transport.PrinterError as error:
        _record(
            claimed,
            Outcome.RETRY,
            started=started,
            clock=clock,
            error=str(error),
            problem=error.problem,
            bytes_sent=error.bytes_sent,
        )
        printer.failing_since = printer.failing_since or timezone.now()
        return False
    healthy = printer.failing_since is None and printer.last_success_at is not None
    healthy = healthy and printer.last_success_at > timezone.now() - HEALTH_REFRESH
    _record(
        claimed,
        Outcome.PRINTED,
        started=started,
        clock=clock,
        bytes_sent=delivery.bytes_sent,
        known_healthy=healthy,
        claim_next=claim_next,
    )
    if not healthy:
        printer.failing_since, printer.last_success_at = None, timezone.now()
    return True


def _record(
    claimed: Claim,
    outcome: str,
    *,
    started: datetime,
    clock: float,
    error: str = "",
    problem: str = "",
    bytes_sent: int = 0,
    known_healthy: bool = False,
    claim_next: list[Claim] | None = None,
) -> None:
    job = claimed.job
    now = timezone.now()
    common = {"attempts": F("attempts") + 1, "lease_token": None, "leased_until": None, "queued_until": None}
    with transaction.atomic():
        mine = PrintJob.objects.filter(pk=job.pk, lease_token=claimed.token)
        if outcome == Outcome.PRINTED:
            kept = mine.update(state=State.PRINTED, printed_at=now, last_error="", **common)
        else:
            kept = mine.update(
                next_attempt_at=now + timedelta(seconds=retry_delay(job.attempts + 1)),
                last_error=error[:300],
                may_have_printed=claimed.resumed or bytes_sent > 0,
                **common,
            )
        PrintAttempt.objects.create(
            job=job,
            started_at=started,
            duration_ms=int((time.monotonic() - clock) * 1000),
            bytes_sent=bytes_sent,
            outcome=outcome,
            error=error[:300],
        )
        if job.printer_id is not None and not known_healthy:
            _note_health(job.printer_id, now, problem=problem, error=error)
        if claim_next is not None and kept and outcome == Outcome.PRINTED and job.printer_id is not None:
            following = _claim_in_transaction(printer_id=job.printer_id)
            if following is not None:
                claim_next.append(following)
        if kept and outcome == Outcome.PRINTED:
            # "Ticket printed" on the order list; a failed try leaves it "waiting", nothing to redraw.
            screen_versions.changed_for_orders([job.order_id])
    if not kept:
        logger.warning("Print job %s outlived its lease; another worker took it over", job.pk)
    elif outcome != Outcome.PRINTED:
        # The printer may have been removed while this job was out.
        rehome_orphans()


def _note_health(printer_id: int, now: datetime, *, problem: str, error: str) -> None:
    printers = Printer.objects.filter(pk=printer_id)
    if problem:
        printers.update(failing_since=Coalesce(F("failing_since"), now), problem=problem, last_error=error[:300])
        return
    # One write per minute at most while all is well, one at once when it comes back.
    printers.filter(
        Q(failing_since__isnull=False) | Q(last_success_at__isnull=True) | Q(last_success_at__lt=now - HEALTH_REFRESH)
    ).update(failing_since=None, problem="", last_error="", last_success_at=now)


def rehome_orphans() -> int:
    """Waiting jobs whose printer was removed: to another printer of the same kind, or not printed.

    Returns how many jobs ended not printed.
    """
    failed = 0
    orphans = PrintJob.objects.filter(state=State.PENDING, printer__isnull=True).filter(
        Q(leased_until__isnull=True) | Q(leased_until__lt=timezone.now())
    )
    for job in orphans.order_by("id"):
        failed += rehome(job)
    return failed


def rehome(job: PrintJob, *, kind: str | None = None) -> int:
    """Gives ``job`` (which lost its printer) to another printer of the establishment, one printing
    ``kind`` of ticket if there is one, or fails it; 1 if failed."""
    others = Printer.objects.filter(establishment_id=job.establishment_id).exclude(pk=job.printer_id or 0).order_by("id")
    replacement = (others.filter(ticket_kind=kind).first() if kind else None) or others.first()
    jobs = PrintJob.objects.filter(pk=job.pk, state=State.PENDING)
    if replacement is not None:
        moved = jobs.update(printer=replacement, printer_name=replacement.name, next_attempt_at=timezone.now(), queued_until=None)
        if moved:
            transaction.on_commit(wake.wake_drains)
        return 0
    failed = jobs.update(state=State.FAILED, lease_token=None, leased_until=None, queued_until=None, last_error=removed_error())
    if failed:
        screen_versions.changed_for_orders([job.order_id])
    return failed


def removed_error() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(_("printer removed, and no other printer to print on"))


def drain(slot: int = 0, *, seconds: float | None = None, threads: int | None = None) -> int:
    """Print due jobs, printer by printer, until none is due or ``seconds`` passed; returns how many printed.

    Each thread takes the head of one printer's queue and goes on with that
    printer's next jobs (RUN_LENGTH at most, then it looks again at every
    printer), so printers print side by side and each in order. When time runs
    out with jobs still due, the next drain is queued, letting other tasks have
    their turn.
    """
    wake.clear_flag(slot)
    deadline = time.monotonic() + (settings.PRINTING_DRAIN_SECONDS if seconds is None else seconds)
    if threads is None:
        threads = settings.PRINTING_DRAIN_THREADS
    if threads <= 1:
        printed, out_of_time = _print_until(deadline)
    else:
        results = list(_pool(threads).map(lambda _thread: _print_in_own_thread(deadline), range(threads)))
        printed, out_of_time = sum(n for n, _ in results), any(late for _, late in results)
    if out_of_time:
        wake.wake_drains()
    return printed


def _print_until(deadline: float) -> tuple[int, bool]:
    """(jobs printed, whether time ran out before the due jobs did)."""
    printed = 0
    while True:
        claimed = claim()
        if claimed is None:
            return printed, False
        printer_id = claimed.job.printer_id
        printer = Printer.objects.select_related("establishment").filter(pk=printer_id).first()
        orders: dict[int, Order] = {}
        for _position in range(RUN_LENGTH):
            if claimed.job.order_id is not None and claimed.job.order_id not in orders:
                orders = _orders_ahead(printer)
            following: list[Claim] = []
            if not print_claimed(claimed, printer, orders, claim_next=following):
                break  # that printer's next jobs wait behind this one
            printed += 1
            claimed = following[0] if following else None
            if time.monotonic() >= deadline:
                _release(claimed)
                return printed, True
            if claimed is None:
                break
        else:
            # A full run: the printer's next job (claimed) goes back, due at once, for any thread.
            _release(claimed)
        if time.monotonic() >= deadline:
            return printed, True


def _orders_ahead(printer: Printer | None) -> dict[int, Order]:
    """The orders of the printer's next RUN_LENGTH waiting tickets, loaded together for the run."""
    if printer is None:
        return {}
    order_ids = list(
        PrintJob.objects.filter(printer=printer, state=State.PENDING, order__isnull=False)
        .order_by("id")
        .values_list("order_id", flat=True)[:RUN_LENGTH]
    )
    return orders_for_tickets(order_ids, receipt=printer.ticket_kind == TicketKind.RECEIPT)


def _release(claimed: Claim | None) -> None:
    if claimed is None:
        return
    PrintJob.objects.filter(pk=claimed.job.pk, lease_token=claimed.token).update(
        lease_token=None,
        leased_until=None,
        next_attempt_at=timezone.now(),
        claims=F("claims") - 1,
        may_have_printed=claimed.job.may_have_printed,
    )


_pools: dict[int, ThreadPoolExecutor] = {}


def _pool(size: int) -> ThreadPoolExecutor:
    """The process's print threads, kept from drain to drain with their database connections."""
    if size not in _pools:
        _pools[size] = ThreadPoolExecutor(size, thread_name_prefix="printing")
    return _pools[size]


def _print_in_own_thread(deadline: float) -> tuple[int, bool]:
    # What Django does at each request: drop this thread's connection if it broke or grew old.
    close_old_connections()
    return _print_until(deadline)


# Sweeping ------------------------------------------------------------------------


def sweep(limit: int = 500) -> int:
    """Wake the drains for due jobs not believed to be queued already; returns how many were due."""
    rehome_orphans()
    now = timezone.now()
    due = list(
        claimable(now)
        .filter(Q(queued_until__isnull=True) | Q(queued_until__lte=now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if due:
        PrintJob.objects.filter(pk__in=due).update(queued_until=now + timedelta(seconds=settings.PRINTING_REQUEUE_AFTER))
        wake.wake_drains()
    return len(due)
