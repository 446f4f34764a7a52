from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hubrise_sync.models.connection import Connection
from orders.models import Order


class InboundEvent(models.Model):
    """One HubRise callback event, whichever way it reached us, and what we did with it.

    HubRise redelivers an event until it is acknowledged, so its id is unique
    here: a second delivery finds the row and changes nothing. The webhook only
    writes the row (pending) before answering; a worker applies it.
    """

    class Via(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook")
        POLLING = "polling", _("Passive polling")
        RECONCILIATION = "reconciliation", _("Reconciliation")

    class Outcome(models.TextChoices):
        # Recorded by the webhook; a worker applies it in the next moments.
        PENDING = "pending", _("Received, being applied")
        APPLIED = "applied", _("Applied")
        NO_CHANGE = "no_change", _("Already up to date")
        IGNORED_UNKNOWN_ORDER = "ignored_unknown_order", _("Ignored: unknown order")
        IGNORED_UNKNOWN_LOCATION = "ignored_unknown_location", _("Ignored: location not connected")
        # Our order changed after the event happened: applying it would roll the status back.
        IGNORED_OUTDATED = "ignored_outdated", _("Ignored: older than our last change")
        # Recorded for admins but not acted upon (events of resources we do not use).
        IGNORED_UNSUPPORTED = "ignored_unsupported", _("Recorded, not used")
        # An order another app created at HubRise, now one of ours.
        IMPORTED = "imported", _("Imported")
        # An order another app created that we could not take as it is: managers see why and retry once fixed.
        NOT_IMPORTED = "not_imported", _("Not imported")
        MALFORMED = "malformed", _("Malformed")

    # NULL for a body without a usable id (malformed), so that those never collide.
    event_id = models.CharField(_("HubRise event id"), max_length=64, null=True, blank=True, unique=True)
    connection = models.ForeignKey(
        Connection, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_events", verbose_name=_("connection")
    )
    location_id = models.CharField(_("HubRise location id"), max_length=64, blank=True)
    resource_type = models.CharField(_("resource"), max_length=32, blank=True)
    event_type = models.CharField(_("event"), max_length=32, blank=True)
    hubrise_order_id = models.CharField(_("HubRise order id"), max_length=64, blank=True)
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="hubrise_events", verbose_name=_("order")
    )
    new_status = models.CharField(_("status at HubRise"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("happened at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    via = models.CharField(_("via"), max_length=16, choices=Via.choices)
    outcome = models.CharField(_("outcome"), max_length=32, choices=Outcome.choices)
    detail = models.TextField(_("detail"), blank=True)
    raw_body = models.TextField(_("body"), blank=True)

    class Meta:
        verbose_name = _("HubRise event")
        verbose_name_plural = _("HubRise events")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["outcome", "received_at"], name="inbound_event_outcome"),
            # The events of one HubRise order: applied in the order they arrived.
            models.Index(fields=["location_id", "hubrise_order_id"], name="inbound_event_order"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id or '—'} {self.resource_type}.{self.event_type} ({self.get_outcome_display()})"


class PollingState(models.Model):
    """When a passive connection was last polled: at most once per interval, whatever beat does."""

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="polling_state")
    last_polled_at = models.DateTimeField(_("last polled at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("passive callback polling")
        verbose_name_plural = _("passive callback polling")

    def __str__(self) -> str:
        return f"{self.connection_id} @ {self.last_polled_at}"


class ReconcileCheck(models.Model):
    """When we last compared one of our orders with HubRise's copy, so the oldest-checked goes first."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="hubrise_check")
    last_checked_at = models.DateTimeField(_("last checked at"), db_index=True)
    last_result = models.CharField(_("last result"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("HubRise status check")
        verbose_name_plural = _("HubRise status checks")

    def __str__(self) -> str:
        return f"{self.order_id} @ {self.last_checked_at}"
