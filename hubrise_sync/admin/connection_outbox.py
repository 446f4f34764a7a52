"""Admin of the connection outbox: read-only, what each topic of each connection last sent and got."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hubrise_sync.connection_outbox import topics
from hubrise_sync.models import ConnectionMessage


@admin.register(ConnectionMessage)
class ConnectionMessageAdmin(admin.ModelAdmin):
    list_display = [
        "connection",
        "topic_label",
        "state",
        "requested_version",
        "sent_version",
        "attempts",
        "due_at",
        "delivered_at",
        "last_status_code",
        "short_error",
    ]
    list_filter = ["state", "topic", "last_status_code"]
    search_fields = ["connection__establishment__name", "connection__location_id", "last_error"]
    list_select_related = ["connection__establishment"]
    exclude = ["lease_token"]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in ConnectionMessage._meta.fields if field.name != "lease_token"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("topic"), ordering="topic")
    def topic_label(self, message: ConnectionMessage) -> str:
        return topics.label(message.topic)

    @admin.display(description=_("last error"))
    def short_error(self, message: ConnectionMessage) -> str:
        return (message.last_error[:80] + "…") if len(message.last_error) > 80 else message.last_error
