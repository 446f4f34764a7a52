from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hubrise_sync.models.events import InboundEvent


class QuarantinedCallback(models.Model):
    """A callback POST refused for its signature (or size), kept so that nothing genuine is lost.

    A wrongly configured client secret would otherwise make us refuse, and
    HubRise then delete, every genuine event: after fixing the secret an admin
    re-verifies these and replays the ones that now pass. Anyone can POST to
    the webhook, so only the start of a body is kept (a genuine event fits in
    it whole), with its size and SHA-256; hubrise_sync.quarantine bounds how
    many are kept an hour.
    """

    class Reason(models.TextChoices):
        MISSING_SIGNATURE = "missing_signature", _("No signature")
        BAD_SIGNATURE = "bad_signature", _("Wrong signature")
        TOO_LARGE = "too_large", _("Body too large")

    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    remote_addr = models.CharField(_("from"), max_length=64, blank=True)
    headers = models.JSONField(_("headers"), default=dict)
    # The first HUBRISE_QUARANTINE_KEEP_BYTES of the body: all of it when body_size is no larger.
    body = models.BinaryField(_("body"), blank=True, default=b"")
    body_size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    body_sha256 = models.CharField(_("SHA-256 of the body"), max_length=64, blank=True)
    replayed_at = models.DateTimeField(_("replayed at"), null=True, blank=True)
    replay_result = models.TextField(_("replay result"), blank=True)
    event = models.ForeignKey(
        InboundEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("event")
    )

    class Meta:
        verbose_name = _("quarantined HubRise callback")
        verbose_name_plural = _("quarantined HubRise callbacks")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.get_reason_display()}"

    @property
    def body_is_whole(self) -> bool:
        return len(self.body) == self.body_size


class RefusedCallbackTally(models.Model):
    """How many callbacks were refused in one hour: kept in the quarantine, not kept (over the hour's cap), throttled.

    The row also decides the cap: a callback is kept only if it can raise
    ``kept`` while still under the cap (one conditional UPDATE, safe across processes).
    """

    hour = models.DateTimeField(_("hour"), unique=True)
    kept = models.PositiveIntegerField(_("kept"), default=0)
    not_kept = models.PositiveIntegerField(_("not kept (hourly cap reached)"), default=0)
    throttled = models.PositiveIntegerField(_("answered 429 (too many from one address)"), default=0)

    class Meta:
        verbose_name = _("refused HubRise callbacks in an hour")
        verbose_name_plural = _("refused HubRise callbacks per hour")
        ordering = ["-hour"]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00}: {self.kept} kept, {self.not_kept} not kept, {self.throttled} throttled"
