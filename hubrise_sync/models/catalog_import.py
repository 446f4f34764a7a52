from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Establishment


class CatalogImport(models.Model):
    """One pull of the connection's HubRise catalog into the establishment's menu, and what came of it.

    Written when the import is asked for (connection, button, catalog callback) and
    settled by the worker that runs it: the HubRise settings page shows the last
    ones, with what changed or why the catalog was refused. A request made while
    another is still waiting joins it: HubRise allows few catalog reads a minute.
    """

    class Trigger(models.TextChoices):
        CONNECTION = "connection", _("Connection to HubRise")
        MANUAL = "manual", _("Asked by a manager")
        CALLBACK = "callback", _("Catalog changed at HubRise")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting")
        IMPORTED = "imported", _("Imported")
        UNCHANGED = "unchanged", _("Already up to date")
        REFUSED = "refused", _("Refused")
        FAILED = "failed", _("Failed")

    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="catalog_imports", verbose_name=_("establishment")
    )
    catalog_id = models.CharField(_("catalog id"), max_length=64, blank=True)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    requested_at = models.DateTimeField(_("asked at"), default=timezone.now)
    # Set while a worker reads the catalog: a request arriving then gets an import of its own,
    # since the catalog read may already be the older one.
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    # HubRise's limits (or an outage) put the read off until then; the sweep queues it again after.
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    # {"added": [..], "removed": [..], "prices": [..], "problems": [..]}: short texts, shown as lists.
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("catalog import")
        verbose_name_plural = _("catalog imports")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["establishment", "-requested_at"], name="hubrise_cat_import_recent")]

    def __str__(self) -> str:
        return f"{self.establishment} · {self.get_outcome_display()}"

    @property
    def settled(self) -> bool:
        return self.outcome != self.Outcome.PENDING


class InventoryRefresh(models.Model):
    """A read of the location's whole HubRise inventory that is wanted (``inventory.update``) or under way.

    Kept in the database rather than only as a task, so that an event applied
    while the broker was down still gets its read (the sweep queues it).
    """

    connection = models.OneToOneField(
        "hubrise_sync.Connection", on_delete=models.CASCADE, related_name="inventory_refresh", verbose_name=_("connection")
    )
    wanted_at = models.DateTimeField(_("wanted since"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    done_at = models.DateTimeField(_("last read"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("inventory read")
        verbose_name_plural = _("inventory reads")

    def __str__(self) -> str:
        return str(self.connection)


class CatalogSync(models.Model):
    """How a connection keeps the menu and HubRise's catalog together: whether the POS's changes of the catalog are
    imported by themselves, whether edits go to HubRise by themselves, and stock to tell it.

    A connection without a row has the defaults (re-import on, push off).

    ``pending_stock`` holds the SKUs and options whose availability staff changed
    and HubRise has not learnt yet ({"sku:STEAK": false, "option:FRITES": true}):
    the inventory topic PATCHes only those, so that a stock the POS set on other
    items is never overwritten.
    """

    connection = models.OneToOneField(
        "hubrise_sync.Connection", on_delete=models.CASCADE, related_name="catalog_sync", verbose_name=_("connection")
    )
    auto_import = models.BooleanField(
        _("re-import the menu automatically when the POS changes it"),
        default=True,
        help_text=_(
            "HubRise's catalog callbacks (catalog.create, catalog.update) import the catalog again. Off: the menu "
            "changes only with “Re-import the menu”, e.g. while it is being reworked here."
        ),
    )
    auto_push = models.BooleanField(
        _("send the menu to HubRise after each change"),
        default=False,
        help_text=_("Every change of the menu sends the whole menu to HubRise's catalog, a minute after the last one."),
    )
    pending_stock = models.JSONField(_("availability to send"), default=dict, blank=True)

    class Meta:
        verbose_name = _("catalog sync")
        verbose_name_plural = _("catalog syncs")

    def __str__(self) -> str:
        return str(self.connection)
