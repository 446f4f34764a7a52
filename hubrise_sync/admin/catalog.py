"""Admin of the menu's exchanges with HubRise's catalog: imports, each connection's switches and stock to send,
reads of the inventory.

Read-only lists for support: what happened to a restaurant's menu import and why,
whether its connection re-imports or pushes by itself, whether an inventory read is
stuck. Changes are made by the restaurant's managers on the HubRise settings page,
and a record removed here would be a wish lost (a waiting import or read), so
nothing is added, changed or deleted here. Like the whole admin, superusers only
(getresto/admin_site.py).
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hubrise_sync.models import CatalogImport, CatalogSync, InventoryRefresh

ESTABLISHMENT = "connection__establishment"


class ReadOnly(admin.ModelAdmin):
    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _short(text: str, length: int = 80) -> str:
    return text[:length] + "…" if len(text) > length else text


@admin.register(CatalogImport)
class CatalogImportAdmin(ReadOnly):
    list_display = ["requested_at", "establishment", "trigger", "outcome", "started_at", "finished_at", "not_before", "summary"]
    list_filter = ["outcome", "trigger"]
    list_select_related = ["establishment"]
    search_fields = ["establishment__name", "catalog_id"]
    date_hierarchy = "requested_at"

    @admin.display(description=_("what came of it"))
    def summary(self, record: CatalogImport) -> str:
        details = record.details or {}
        problems = details.get("problems") or []
        if problems:
            return _short(f"{problems[0]} (+{len(problems) - 1})" if len(problems) > 1 else problems[0])
        counts = details.get("counts")
        if counts:
            return _("%(added)s added, %(removed)s removed, %(prices)s prices, %(updated)s other changes") % counts
        return "—"


@admin.register(CatalogSync)
class CatalogSyncAdmin(ReadOnly):
    list_display = ["connection", "auto_import", "auto_push", "stock_to_send"]
    list_filter = ["auto_import", "auto_push"]
    list_select_related = [ESTABLISHMENT]
    search_fields = ["connection__establishment__name", "connection__location_id"]

    @admin.display(description=_("availability to send"))
    def stock_to_send(self, sync: CatalogSync) -> int:
        return len(sync.pending_stock or {})


@admin.register(InventoryRefresh)
class InventoryRefreshAdmin(ReadOnly):
    list_display = ["connection", "wanted_at", "started_at", "not_before", "done_at", "short_error"]
    list_filter = [("last_error", admin.EmptyFieldListFilter), ("wanted_at", admin.EmptyFieldListFilter)]
    list_select_related = [ESTABLISHMENT]
    search_fields = ["connection__establishment__name", "connection__location_id", "last_error"]

    @admin.display(description=_("last error"))
    def short_error(self, refresh: InventoryRefresh) -> str:
        return _short(refresh.last_error)
