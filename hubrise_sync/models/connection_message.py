from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hubrise_sync.models.connection import Connection


class ConnectionMessage(models.Model):
    """What HubRise must learn about a whole connection (its location, its catalog …): one row per topic.

    Unlike an order's outbox messages, these carry no payload of their own: the
    latest state wins, built when it is sent. ``requested_version`` counts the
    changes asked for, ``sent_version`` the one HubRise took last; while they
    differ the row is pending. Written by hubrise_sync.connection_outbox only.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Up to date")
        # The connection is broken (HubRise answered 401): kept until it is repaired.
        HELD = "held", _("Held")
        # HubRise refused it (a 4xx other than 401/429): sent again at the next change or retry.
        FAILED = "failed", _("Failed")

    connection = models.ForeignKey(
        Connection, on_delete=models.CASCADE, related_name="topic_messages", verbose_name=_("connection")
    )
    # One of hubrise_sync.connection_outbox.topics (their labels are there): a new topic needs no migration.
    topic = models.CharField(_("topic"), max_length=32)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    requested_version = models.PositiveBigIntegerField(_("requested version"), default=0)
    sent_version = models.PositiveBigIntegerField(_("sent version"), default=0)
    due_at = models.DateTimeField(_("due at"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # A worker owns the row until leased_until; past it, the worker is presumed dead.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    leased_until = models.DateTimeField(_("being sent until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_status_code = models.PositiveIntegerField(_("last HTTP code"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    # What was last sent, for the admin.
    last_payload = models.JSONField(_("last payload"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("HubRise connection message")
        verbose_name_plural = _("HubRise connection outbox")
        ordering = ["connection_id", "topic"]
        constraints = [models.UniqueConstraint(fields=["connection", "topic"], name="connection_message_topic")]
        indexes = [models.Index(fields=["state", "due_at"], name="connection_message_due")]

    def __str__(self) -> str:
        return f"{self.topic} ({self.get_state_display()})"
