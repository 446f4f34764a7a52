from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hubrise_sync.models.connection import Connection
from orders.models import Order, StatusChange
from orders.status import OrderStatus


class OutboxMessage(models.Model):
    """One thing HubRise must learn about one of our orders.

    Written in the transaction that changes the order (hubrise_sync.outbox.write), so
    a change and its message commit or vanish together. The messages of one order
    are delivered one at a time, oldest first; their state and lease are written by
    hubrise_sync.outbox.state only.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Sent")
        # HubRise refused it (a 4xx other than 401/429): staff must fix the cause and retry.
        FAILED = "failed", _("Failed")
        # The connection is missing or broken: kept until it is healthy again.
        HELD = "held", _("Held")
        # A newer status of the same order replaced it before it went out.
        SUPERSEDED = "superseded", _("Replaced by a newer status")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="hubrise_messages", verbose_name=_("order"))
    # Kept when the connection is deleted: the message waits (held) for the next one.
    connection = models.ForeignKey(
        Connection, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages", verbose_name=_("connection")
    )
    # One of hubrise_sync.outbox.kinds.KINDS (their labels are there): a new kind needs no migration.
    kind = models.CharField(_("kind"), max_length=32)
    # The status this message sends: the order's first status for a create, the new one for an update.
    status = models.CharField(_("status"), max_length=32, choices=OrderStatus.choices)
    change = models.ForeignKey(
        StatusChange, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("status change")
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    # Until then a task for it is believed to sit in the broker; the sweep leaves it alone.
    queued_until = models.DateTimeField(_("queued until"), null=True, blank=True)
    # A worker owns the message until leased_until; past it, the worker is presumed dead.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    leased_until = models.DateTimeField(_("being sent until"), null=True, blank=True)
    # Set before a create goes out and cleared only when HubRise surely did not record it:
    # the next attempt then looks the order up by private_ref instead of posting it twice.
    create_may_have_landed = models.BooleanField(default=False, editable=False)
    # A HubRise change of the order was applied while this message was out at HubRise: once its
    # outcome is known, HubRise is asked which status it holds (hubrise_sync.outbox.state.overtaken_by_hubrise).
    crossed_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True)
    last_status_code = models.PositiveIntegerField(_("last HTTP code"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    # What was last sent, for the admin: the order as HubRise received it.
    payload = models.JSONField(_("payload"), null=True, blank=True)

    class Meta:
        verbose_name = _("HubRise outbox message")
        verbose_name_plural = _("HubRise outbox")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["order", "state"], name="outbox_order_state"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} ({self.get_state_display()})"


class DeliveryAttempt(models.Model):
    """One call to HubRise for one message: what staff and admins see of each try."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")
        # The create had reached HubRise after all: found by private_ref instead of posted again.
        ADOPTED = "adopted", _("Found at HubRise")
        RETRY = "retry", _("Will retry")
        FAILED = "failed", _("Refused")
        HELD = "held", _("Held (connection)")

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attempts_log", verbose_name=_("message"))
    started_at = models.DateTimeField(_("time"), default=timezone.now)
    request = models.CharField(_("request"), max_length=200, blank=True)
    http_status = models.PositiveIntegerField(_("HTTP code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.http_status or '—'} {self.get_outcome_display()}"
