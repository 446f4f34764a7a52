from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models import Order


class OrderLink(models.Model):
    """Which HubRise order one of our orders is.

    HubRise ids are opaque strings, unique per location. The link is created
    with the order's first outbox message and gets its HubRise id when the
    create call succeeds; the webhook finds our order through it.
    """

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="hubrise", verbose_name=_("order"))
    location_id = models.CharField(_("HubRise location id"), max_length=64)
    # NULL until HubRise answers, so that many pending links never collide on the unique pair.
    hubrise_order_id = models.CharField(_("HubRise order id"), max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("HubRise order link")
        verbose_name_plural = _("HubRise order links")
        constraints = [
            models.UniqueConstraint(fields=["location_id", "hubrise_order_id"], name="one_link_per_hubrise_order"),
        ]

    def __str__(self) -> str:
        return f"{self.order} ↔ {self.hubrise_order_id or '…'}"
