"""Admin of what HubRise tells us: every event and its outcome, and the quarantine of refused callbacks.

Both are records of what happened, read-only; like the whole admin, only
superusers reach them (getresto/admin_site.py).
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hubrise_sync import quarantine
from hubrise_sync.models import InboundEvent, QuarantinedCallback, RefusedCallbackTally


class RecordAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(InboundEvent)
class InboundEventAdmin(RecordAdmin):
    list_display = ["received_at", "event_id", "via", "kind", "hubrise_order_id", "order", "new_status", "outcome", "detail"]
    list_filter = ["outcome", "via", "resource_type", "event_type"]
    list_select_related = ["order"]
    search_fields = ["event_id", "hubrise_order_id", "location_id", "order__ref", "detail"]
    date_hierarchy = "received_at"
    readonly_fields = [field.name for field in InboundEvent._meta.fields]

    @admin.display(description=_("event"))
    def kind(self, event: InboundEvent) -> str:
        return f"{event.resource_type}.{event.event_type}" if event.resource_type else "—"


@admin.register(QuarantinedCallback)
class QuarantinedCallbackAdmin(RecordAdmin):
    list_display = ["received_at", "reason", "remote_addr", "body_size", "body_is_whole", "replayed_at", "replay_result"]
    list_filter = ["reason", ("replayed_at", admin.EmptyFieldListFilter)]
    readonly_fields = [
        "received_at",
        "reason",
        "remote_addr",
        "headers",
        "body_text",
        "body_size",
        "body_sha256",
        "replayed_at",
        "replay_result",
        "event",
    ]
    exclude = ["body"]
    actions = ["reverify_and_replay"]

    @admin.display(description=_("kept whole (replayable)"), boolean=True)
    def body_is_whole(self, kept: QuarantinedCallback) -> bool:
        return kept.body_is_whole

    @admin.display(description=_("body"))
    def body_text(self, kept: QuarantinedCallback) -> str:
        return bytes(kept.body).decode("utf-8", errors="replace")

    @admin.action(description=_("Re-verify with the current client secret and replay"))
    def reverify_and_replay(self, request: HttpRequest, queryset: QuerySet[QuarantinedCallback]) -> None:
        for kept in queryset.order_by("received_at", "id"):
            result = quarantine.replay(kept)
            messages.info(request, f"{kept}: {result}")


@admin.register(RefusedCallbackTally)
class RefusedCallbackTallyAdmin(RecordAdmin):
    list_display = ["hour", "kept", "not_kept", "throttled"]
    date_hierarchy = "hour"
    readonly_fields = ["hour", "kept", "not_kept", "throttled"]
