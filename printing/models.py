"""Printers, an establishment's printing settings, and print jobs: an outbox of tickets.

A job is written in the transaction of the event that asks for it (an order
arriving or accepted, a staff click) and a worker sends it; the rules live in
printing.jobs.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Establishment, Order


class PaperWidth(models.IntegerChoices):
    MM_80 = 80, _("80 mm")
    MM_58 = 58, _("58 mm")


class TicketKind(models.TextChoices):
    # What a cook needs: no prices.
    KITCHEN = "kitchen", _("Kitchen ticket")
    # The kitchen ticket plus prices, discounts, charges, total and whether it is paid.
    RECEIPT = "receipt", _("Receipt")


class Printer(models.Model):
    """A thermal printer on the restaurant's network, taking ESC/POS on a TCP port."""

    class Problem(models.TextChoices):
        UNREACHABLE = "unreachable", _("unreachable")
        PAPER_OUT = "paper_out", _("out of paper")

    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="printers", verbose_name=_("establishment")
    )
    name = models.CharField(_("name"), max_length=60)
    host = models.CharField(_("address"), max_length=253, help_text=_("IP address or host name, e.g. 192.168.1.50."))
    port = models.PositiveIntegerField(_("port"), default=9100, validators=[MinValueValidator(1), MaxValueValidator(65535)])
    paper_width = models.PositiveSmallIntegerField(_("paper width"), choices=PaperWidth.choices, default=PaperWidth.MM_80)
    ticket_kind = models.CharField(_("ticket"), max_length=16, choices=TicketKind.choices, default=TicketKind.KITCHEN)
    # Ref codes of the menu categories this printer prints ("bar" gets the drinks), with the
    # categories inside them (printing.routing). Empty: the whole order.
    category_refs = models.JSONField(_("categories"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    # Health, written by the workers: since when sending fails (None while it works), and why.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)
    problem = models.CharField(_("problem"), max_length=16, choices=Problem.choices, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=300, blank=True, editable=False)
    last_success_at = models.DateTimeField(_("last ticket printed at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("printer")
        verbose_name_plural = _("printers")
        ordering = ["establishment", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["establishment", "name"], name="printer_name_unique_per_establishment")]

    def __str__(self) -> str:
        return self.name

    @property
    def columns(self) -> int:
        """Characters per line in the printer's normal font (font A: 12 dots a character)."""
        return 32 if self.paper_width == PaperWidth.MM_58 else 48


class PrintSettings(models.Model):
    """When an establishment's printers print by themselves."""

    class AutoPrint(models.TextChoices):
        ON_ARRIVAL = "on_arrival", _("When an order arrives")
        ON_ACCEPT = "on_accept", _("When an order is accepted")
        OFF = "off", _("Never by itself (print by hand)")

    establishment = models.OneToOneField(
        Establishment, on_delete=models.CASCADE, related_name="print_settings", verbose_name=_("establishment")
    )
    auto_print = models.CharField(
        _("print automatically"), max_length=16, choices=AutoPrint.choices, default=AutoPrint.ON_ARRIVAL
    )

    class Meta:
        verbose_name = _("printing settings")
        verbose_name_plural = _("printing settings")

    def __str__(self) -> str:
        return f"{self.establishment}: {self.get_auto_print_display()}"


class PrintJob(models.Model):
    """One ticket to print on one printer, kept until it is printed.

    Jobs of one printer are printed one at a time, oldest first (printing.jobs).
    """

    class Reason(models.TextChoices):
        AUTO = "auto", _("Automatic")
        BY_HAND = "by_hand", _("Printed by hand")
        REPRINT = "reprint", _("Reprint (duplicate)")
        TEST = "test", _("Test page")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        PRINTED = "printed", _("Printed")
        # Its printer was removed and no other printer of the same kind could take it.
        FAILED = "failed", _("Not printed")

    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="print_jobs", verbose_name=_("establishment")
    )
    # Empty for a test page.
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, null=True, blank=True, related_name="print_jobs", verbose_name=_("order")
    )
    # Cleared when the printer is removed; printer_name keeps what staff knew it as.
    printer = models.ForeignKey(
        Printer, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs", verbose_name=_("printer")
    )
    printer_name = models.CharField(_("printer name"), max_length=60)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("asked by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    # Until then a drain is believed to be queued for it; the sweep leaves it alone.
    queued_until = models.DateTimeField(_("queued until"), null=True, blank=True)
    # A worker owns the job until leased_until; past it, the worker is presumed dead.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    leased_until = models.DateTimeField(_("being printed until"), null=True, blank=True)
    # Tries started (claims) and tries whose outcome was recorded: more claims than
    # attempts means a worker died while sending.
    claims = models.PositiveIntegerField(default=0, editable=False)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # Some of the ticket may have come out on an earlier try: the next one says so on paper.
    may_have_printed = models.BooleanField(_("may have printed partly"), default=False, editable=False)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    printed_at = models.DateTimeField(_("printed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("print job")
        verbose_name_plural = _("print jobs")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="printjob_due"),
            models.Index(fields=["printer", "state", "id"], name="printjob_printer_queue"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.printer_name} ({self.get_state_display()})"

    @property
    def is_sending(self) -> bool:
        return self.leased_until is not None and self.leased_until > timezone.now()


class PrintAttempt(models.Model):
    """One try at sending a job: what the printer did, for staff and admins."""

    class Outcome(models.TextChoices):
        PRINTED = "printed", _("Printed")
        RETRY = "retry", _("Will retry")
        FAILED = "failed", _("Not printed")

    job = models.ForeignKey(PrintJob, on_delete=models.CASCADE, related_name="attempts_log", verbose_name=_("job"))
    started_at = models.DateTimeField(_("time"), default=timezone.now)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    bytes_sent = models.PositiveIntegerField(_("bytes sent"), default=0)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("print attempt")
        verbose_name_plural = _("print attempts")
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.get_outcome_display()}"
