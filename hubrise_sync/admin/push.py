"""Admin of the push: the outbox with every attempt, and the connections (token never shown)."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hubrise_sync import push
from hubrise_sync.models import Connection, DeliveryAttempt, OutboxMessage


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["started_at", "request", "http_status", "duration_ms", "outcome", "error"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "order_ref",
        "establishment",
        "kind",
        "status",
        "state",
        "attempts",
        "age",
        "next_attempt_at",
        "last_status_code",
        "short_error",
    ]
    list_filter = ["state", "kind", "last_status_code", "order__establishment"]
    search_fields = ["order__ref", "order__uid", "order__hubrise__hubrise_order_id", "last_error"]
    list_select_related = ["order", "order__establishment"]
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    inlines = [DeliveryAttemptInline]
    readonly_fields = [
        "order",
        "connection",
        "kind",
        "status",
        "change",
        "state",
        "attempts",
        "created_at",
        "next_attempt_at",
        "queued_until",
        "leased_until",
        "delivered_at",
        "last_status_code",
        "last_error",
        "payload",
    ]
    exclude = ["lease_token", "create_may_have_landed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("order"), ordering="order__ref")
    def order_ref(self, message: OutboxMessage) -> str:
        return message.order.ref

    @admin.display(description=_("establishment"), ordering="order__establishment__name")
    def establishment(self, message: OutboxMessage) -> str:
        return message.order.establishment.name

    @admin.display(description=_("age"), ordering="created_at")
    def age(self, message: OutboxMessage) -> str:
        end = message.delivered_at or timezone.now()
        return timesince(message.created_at, end)

    @admin.display(description=_("last error"))
    def short_error(self, message: OutboxMessage) -> str:
        return (message.last_error[:80] + "…") if len(message.last_error) > 80 else message.last_error

    @admin.action(description=_("Send the selected messages again now"), permissions=["view"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = push.retry_messages(queryset)
        self.message_user(
            request,
            ngettext("%(count)d message will be sent again.", "%(count)d messages will be sent again.", count) % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )


class ConnectionForm(forms.ModelForm):
    """The token can be set or replaced, never read back."""

    new_access_token = forms.CharField(
        label=_("access token"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Paste a token to set or replace it; leave empty to keep the current one."),
    )

    class Meta:
        model = Connection
        fields = [
            "establishment",
            "location_id",
            "location_name",
            "account_id",
            "account_name",
            "catalog_id",
            "catalog_name",
            "customer_list_id",
            "customer_list_name",
            "callback_mode",
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("new_access_token"):
            self.add_error("new_access_token", _("A new connection needs an access token."))
        return cleaned

    def save(self, commit: bool = True) -> Connection:
        if self.cleaned_data.get("new_access_token"):
            self.instance.access_token = self.cleaned_data["new_access_token"]
        return super().save(commit=commit)


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = [
        "establishment",
        "location_name",
        "location_id",
        "account_name",
        "masked_token",
        "is_broken",
        "last_success_at",
    ]
    list_select_related = ["establishment"]
    search_fields = ["establishment__name", "location_id", "location_name", "account_name"]
    autocomplete_fields = ["establishment"]
    list_filter = ["callback_mode"]
    readonly_fields = ["masked_token", "connected_at", "last_success_at", "last_failed_at", "last_failed_reason"]
    fields = [
        "establishment",
        "masked_token",
        "new_access_token",
        "location_id",
        "location_name",
        "account_id",
        "account_name",
        "catalog_id",
        "catalog_name",
        "customer_list_id",
        "customer_list_name",
        "callback_mode",
        "connected_at",
        "last_success_at",
        "last_failed_at",
        "last_failed_reason",
    ]

    @admin.display(description=_("access token"))
    def masked_token(self, connection: Connection) -> str:
        return connection.masked_token

    @admin.display(description=_("broken"), boolean=True)
    def is_broken(self, connection: Connection) -> bool:
        return connection.is_broken
