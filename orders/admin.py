"""Django admin of the back office: companies, establishments, staff access, API keys and orders.

Only the platform's superusers reach it (getresto/admin_site.py), so nothing
here is scoped to an establishment. Orders are read-only here: their status
changes only through actions that call orders.services.change_status, like
every other entry point.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from orders.models import (
    ApiKey,
    Charge,
    Company,
    Deal,
    Discount,
    Establishment,
    Membership,
    Order,
    OrderItem,
    Payment,
    StatusChange,
)
from orders.services import OrderError, change_status
from orders.status import OrderStatus

User = get_user_model()


class ReadOnlyInline:
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


# --- Companies, establishments, staff access ----------------------------------


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class ApiKeyInline(ReadOnlyInline, admin.TabularInline):
    model = ApiKey
    fields = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    show_change_link = True


def _show_new_key(request: HttpRequest, api_key: ApiKey, raw_key: str) -> None:
    messages.warning(
        request,
        _("New API key for %(establishment)s, shown only this once; copy it now: %(key)s")
        % {"establishment": api_key.establishment, "key": raw_key},
    )


@admin.register(Establishment)
class EstablishmentAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "timezone", "currency"]
    list_filter = ["company"]
    list_select_related = ["company"]
    search_fields = ["name", "company__name"]
    fields = ["name", "company", "timezone", "currency"]
    inlines = [MembershipInline, ApiKeyInline]
    actions = ["generate_api_key"]

    @admin.action(description=_("Generate an API key"), permissions=["change"])
    def generate_api_key(self, request: HttpRequest, queryset: QuerySet[Establishment]) -> None:
        for establishment in queryset:
            api_key, raw_key = ApiKey.generate(establishment, _("Key of %(date)s") % {"date": timezone.localdate()})
            _show_new_key(request, api_key, raw_key)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "establishment", "role"]
    list_filter = ["role", "establishment"]
    list_select_related = ["user", "establishment"]
    search_fields = ["user__username", "user__email", "establishment__name"]
    autocomplete_fields = ["user", "establishment"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "establishment", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["establishment"]
    list_select_related = ["establishment"]
    search_fields = ["name", "prefix", "establishment__name"]
    autocomplete_fields = ["establishment"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return ["establishment", "name"]
        return ["establishment", "name", "prefix", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return []
        return ["establishment", "prefix", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created, raw_key = ApiKey.generate(obj.establishment, obj.name)
        # The admin goes on with obj (history entry, redirect): make it the saved key.
        obj.__dict__.update({name: value for name, value in created.__dict__.items() if name != "_state"})
        obj._state.adding = False
        obj._state.db = created._state.db
        _show_new_key(request, created, raw_key)

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = queryset.revoke()
        self.message_user(request, _("%(count)d key(s) revoked.") % {"count": count}, messages.SUCCESS)


class UserMembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["establishment"]
    verbose_name = _("establishment access")
    verbose_name_plural = _("establishment access")


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, UserMembershipInline]


# --- Orders -------------------------------------------------------------------


class OrderItemInline(ReadOnlyInline, admin.TabularInline):
    model = OrderItem
    fields = ["product_name", "sku_name", "sku_ref", "price", "quantity", "option_list", "tax_rate", "subtotal", "deal_key"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderItem]:
        return super().get_queryset(request).prefetch_related("options")

    @admin.display(description=_("options"))
    def option_list(self, item: OrderItem) -> str:
        return format_html_join(
            "",
            "<div>{}{} × {}: {} ({})</div>",
            (
                ("− " if option.removed else "", option.quantity, option.option_list_name, option.name, option.price)
                for option in item.options.all()
            ),
        )


class DealInline(ReadOnlyInline, admin.TabularInline):
    model = Deal
    fields = ["key", "name", "ref"]
    readonly_fields = fields


class DiscountInline(ReadOnlyInline, admin.TabularInline):
    model = Discount
    fields = ["name", "ref", "price_off"]
    readonly_fields = fields


class ChargeInline(ReadOnlyInline, admin.TabularInline):
    model = Charge
    fields = ["name", "ref", "price", "tax_rate"]
    readonly_fields = fields


class PaymentInline(ReadOnlyInline, admin.TabularInline):
    model = Payment
    fields = ["name", "ref", "amount", "info"]
    readonly_fields = fields


class StatusChangeInline(ReadOnlyInline, admin.TabularInline):
    model = StatusChange
    fields = ["at", "from_status", "to_status", "source", "source_detail", "actor", "reason"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatusChange]:
        return super().get_queryset(request).select_related("actor")


def _status_action(target: str, description, reason=""):
    def action(modeladmin: "OrderAdmin", request: HttpRequest, queryset: QuerySet[Order]) -> None:
        modeladmin.change_statuses(request, queryset, target, str(reason))

    action.__name__ = f"mark_{target}"
    return admin.action(description=description)(action)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["ref", "establishment", "status", "service_type", "customer", "total", "created_at", "expected_time"]
    list_filter = ["status", "establishment", "service_type"]
    list_select_related = ["establishment"]
    search_fields = ["ref", "customer_first_name", "customer_last_name", "customer_phone", "customer_email", "=uid"]
    date_hierarchy = "created_at"
    inlines = [OrderItemInline, DealInline, DiscountInline, ChargeInline, PaymentInline, StatusChangeInline]
    fieldsets = [
        (None, {"fields": ["establishment", "ref", "uid", "status", "status_changed_at", "created_at", "source"]}),
        (
            _("Service"),
            {"fields": ["service_type", "service_type_ref", "table_name", "expected_time", "confirmed_time", "collection_code"]},
        ),
        (
            _("Customer"),
            {
                "fields": [
                    "customer_first_name",
                    "customer_last_name",
                    "customer_company_name",
                    "customer_email",
                    "customer_phone",
                    "customer_address_1",
                    "customer_address_2",
                    "customer_postal_code",
                    "customer_city",
                    "customer_country",
                    "customer_delivery_notes",
                ]
            },
        ),
        (_("Notes"), {"fields": ["customer_notes", "seller_notes", "coupon_codes"]}),
        (_("Amounts"), {"fields": ["currency", "total", "item_count"]}),
    ]
    actions = [
        _status_action(OrderStatus.RECEIVED, _("Mark as received")),
        _status_action(OrderStatus.ACCEPTED, _("Mark as accepted")),
        _status_action(OrderStatus.IN_PREPARATION, _("Mark as in preparation")),
        _status_action(OrderStatus.COMPLETED, _("Mark as completed")),
        _status_action(OrderStatus.CANCELLED, _("Cancel"), reason=_("Cancelled from the administration.")),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Order | None = None) -> list[str]:
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    @admin.display(description=_("customer"), ordering="customer_last_name")
    def customer(self, order: Order) -> str:
        return order.customer_name

    # Orders come from the services only; the page is a view, changes go through actions.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def change_statuses(self, request: HttpRequest, queryset: QuerySet[Order], target: str, reason: str) -> None:
        changed = 0
        for order in queryset:
            try:
                if change_status(order, target, source=StatusChange.Source.ADMIN, actor=request.user, reason=reason):
                    changed += 1
            except OrderError as error:
                self.message_user(request, f"{order.ref}: {error}", messages.ERROR)
        if changed:
            self.message_user(
                request,
                _("%(count)d order(s) set to “%(status)s”.") % {"count": changed, "status": OrderStatus(target).label},
                messages.SUCCESS,
            )
