"""The menu in the Django admin, for the platform's administrators (superusers) only.

Every save and delete goes through menu.services (save_item, delete_items,
create_menu, delete_menu), so that an administrator's change is validated and
announced to the other apps like any other. Restrictions and other prices are
shown, not edited: they come whole from the POS or a menu import.
"""

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from menu import services
from menu.models import (
    Category,
    Channel,
    Charge,
    Deal,
    DealLine,
    DealLineSku,
    Discount,
    Menu,
    Option,
    OptionList,
    PaymentMethod,
    Product,
    ServiceType,
    Sku,
    SkuOptionList,
)


class SuperusersOnly:
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_active and request.user.is_superuser


SHOWN_NOT_EDITED = ("restrictions", "price_rules", "image_ids")


class ThroughServices(SuperusersOnly, admin.ModelAdmin):
    """Saves and deletes of the object and of its inlines through menu.services."""

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        own = {field.name for field in self.model._meta.fields}
        return [name for name in SHOWN_NOT_EDITED if name in own]

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        services.save_item(obj, source=services.SOURCE_ADMIN)

    def delete_model(self, request: HttpRequest, obj) -> None:
        services.delete_items([obj], source=services.SOURCE_ADMIN)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.delete_items(list(queryset), source=services.SOURCE_ADMIN)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        rows = formset.save(commit=False)
        services.delete_items(formset.deleted_objects, source=services.SOURCE_ADMIN)
        for row in rows:
            services.save_item(row, source=services.SOURCE_ADMIN)
        formset.save_m2m()


class Inline(SuperusersOnly, admin.TabularInline):
    extra = 0
    # An inline row takes its menu from the object it is part of.
    exclude = ["menu", "restrictions", "price_rules", "image_ids"]


ESTABLISHMENT = "menu__establishment"


@admin.register(Menu)
class MenuAdmin(SuperusersOnly, admin.ModelAdmin):
    list_display = ["establishment", "accepts_other_prices", "version", "changed_at", "changed_by_source"]
    list_select_related = ["establishment"]
    search_fields = ["establishment__name"]
    readonly_fields = ["version", "changed_at", "changed_by_source"]

    def get_readonly_fields(self, request: HttpRequest, obj: Menu | None = None) -> list[str]:
        return [*self.readonly_fields, "establishment"] if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Menu, form, change: bool) -> None:
        if change:
            services.set_menu_settings(obj.establishment, accepts_other_prices=obj.accepts_other_prices)
            return
        created = services.create_menu(obj.establishment, accepts_other_prices=obj.accepts_other_prices)
        # The admin goes on with obj (history entry, redirect): make it the saved menu.
        obj.pk, obj._state.adding = created.pk, False

    def delete_model(self, request: HttpRequest, obj: Menu) -> None:
        services.delete_menu(obj.establishment, source=services.SOURCE_ADMIN)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Menu]) -> None:
        for menu in queryset.select_related("establishment"):
            services.delete_menu(menu.establishment, source=services.SOURCE_ADMIN)


@admin.register(Channel)
class ChannelAdmin(ThroughServices):
    list_display = ["name", "ref", "menu"]
    list_filter = [ESTABLISHMENT]
    list_select_related = [ESTABLISHMENT]
    search_fields = ["name", "ref"]
    raw_id_fields = ["menu"]


@admin.register(Category)
class CategoryAdmin(ThroughServices):
    list_display = ["name", "ref", "parent", "menu", "position"]
    list_filter = [ESTABLISHMENT]
    list_select_related = [ESTABLISHMENT, "parent"]
    search_fields = ["name", "ref"]
    raw_id_fields = ["menu", "parent"]


class SkuInline(Inline):
    model = Sku
    fields = ["name", "ref", "price", "available", "position", "tags"]


@admin.register(Product)
class ProductAdmin(ThroughServices):
    list_display = ["name", "ref", "category", "menu"]
    list_filter = [ESTABLISHMENT]
    list_select_related = [ESTABLISHMENT, "category"]
    search_fields = ["name", "ref", "skus__ref"]
    raw_id_fields = ["menu", "category"]
    inlines = [SkuInline]


class SkuOptionListInline(Inline):
    model = SkuOptionList
    raw_id_fields = ["option_list"]
    exclude: list[str] = []


@admin.register(Sku)
class SkuAdmin(ThroughServices):
    list_display = ["__str__", "ref", "price", "available", "menu"]
    list_filter = ["available", ESTABLISHMENT]
    list_select_related = [ESTABLISHMENT, "product"]
    search_fields = ["product__name", "name", "ref"]
    raw_id_fields = ["menu", "product"]
    inlines = [SkuOptionListInline]


class OptionInline(Inline):
    model = Option
    fields = ["name", "ref", "price", "is_default", "available", "position", "tags"]


@admin.register(OptionList)
class OptionListAdmin(ThroughServices):
    list_display = ["name", "ref", "min_selections", "max_selections", "menu"]
    list_filter = [ESTABLISHMENT]
    list_select_related = [ESTABLISHMENT]
    search_fields = ["name", "ref", "options__ref"]
    raw_id_fields = ["menu"]
    inlines = [OptionInline]


class DealLineInline(Inline):
    model = DealLine
    show_change_link = True
    exclude: list[str] = []


@admin.register(Deal)
class DealAdmin(ThroughServices):
    list_display = ["name", "ref", "category", "menu"]
    list_filter = [ESTABLISHMENT]
    list_select_related = [ESTABLISHMENT, "category"]
    search_fields = ["name", "ref"]
    raw_id_fields = ["menu", "category"]
    inlines = [DealLineInline]


class DealLineSkuInline(Inline):
    model = DealLineSku
    raw_id_fields = ["sku"]
    exclude: list[str] = []


@admin.register(DealLine)
class DealLineAdmin(ThroughServices):
    list_display = ["__str__", "deal", "pricing_effect", "pricing_value"]
    list_filter = ["deal__menu__establishment"]
    list_select_related = ["deal__menu__establishment"]
    search_fields = ["label", "deal__name", "deal__ref"]
    raw_id_fields = ["deal"]
    inlines = [DealLineSkuInline]


@admin.register(Discount)
class DiscountAdmin(ThroughServices):
    list_display = ["name", "ref", "pricing_effect", "pricing_value", "menu"]
    list_filter = [ESTABLISHMENT]
    list_select_related = [ESTABLISHMENT]
    search_fields = ["name", "ref"]
    raw_id_fields = ["menu"]


@admin.register(Charge)
class ChargeAdmin(ThroughServices):
    list_display = ["name", "ref", "kind", "price", "menu"]
    list_filter = ["kind", ESTABLISHMENT]
    list_select_related = [ESTABLISHMENT]
    search_fields = ["name", "ref"]
    raw_id_fields = ["menu"]


@admin.register(ServiceType)
class ServiceTypeAdmin(ThroughServices):
    list_display = ["name", "ref", "kind", "menu"]
    list_filter = ["kind", ESTABLISHMENT]
    list_select_related = [ESTABLISHMENT]
    search_fields = ["name", "ref"]
    raw_id_fields = ["menu"]


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ThroughServices):
    list_display = ["name", "ref", "menu"]
    list_filter = [ESTABLISHMENT]
    list_select_related = [ESTABLISHMENT]
    search_fields = ["name", "ref"]
    raw_id_fields = ["menu"]
